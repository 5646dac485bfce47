//! `--dev`: a development PKI made once under the data directory, clearly marked
//! **NOT FOR PRODUCTION**, through [`inkan_hsm::devpki`]: a root CA and a TSA certificate with a
//! critical id-kp-timeStamping EKU over a software P-256 key (every subject says "NOT FOR
//! PRODUCTION"). The root certificate is written to `DATA_DIR/dev-root.pem` for
//! `openssl ts -verify -CAfile`.
//!
//! Made once: later starts on the same data directory reuse the files (so a client that
//! trusted `dev-root.pem` keeps working), unless the TSA certificate is no longer valid, when a
//! fresh set is made. The root key is not kept: nothing but this TSA certificate is ever issued
//! under the development root. The files are written to temporary names and renamed, the key
//! with mode 0600, the chain last, so a crash half-way leaves an incomplete set that the next
//! start replaces.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use inkan_hsm::devpki::{DevPki, KeyAlg};
use inkan_profiles::time::UnixTime;

/// The development files.
#[derive(Clone, Debug)]
pub struct DevFiles {
    /// PKCS#8 PEM key of the TSA (software P-256).
    pub key: PathBuf,
    /// PEM: TSA certificate then root.
    pub chain: PathBuf,
    /// PEM: the development root.
    pub root: PathBuf,
    /// A text file saying what these files are.
    pub notice: PathBuf,
}

/// The notice written beside the development files.
pub const NOTICE: &str = "\
These files were made by `inkan-tsa serve --dev`: a DEVELOPMENT time-stamp authority.
NOT FOR PRODUCTION. The development root CA (dev-root.pem) and the TSA certificate
(dev-tsa-chain.pem) are throw-away; the TSA key (dev-tsa-key.pem) is an unprotected software
key. Tokens issued with them prove nothing to anyone but you. Delete these four files to
have a fresh set made on the next start.
";

/// The paths used under `data_dir`.
pub fn paths(data_dir: &Path) -> DevFiles {
    DevFiles {
        key: data_dir.join("dev-tsa-key.pem"),
        chain: data_dir.join("dev-tsa-chain.pem"),
        root: data_dir.join("dev-root.pem"),
        notice: data_dir.join("DEV-NOT-FOR-PRODUCTION.txt"),
    }
}

/// A development PKI failure (I/O or key generation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevError(pub String);

impl std::fmt::Display for DevError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "--dev: {}", self.0)
    }
}

impl std::error::Error for DevError {}

/// Writes `data` to `path` through a temporary file and a rename; `private` makes it 0600.
fn write_atomic(path: &Path, data: &[u8], private: bool) -> Result<(), DevError> {
    let io = |e: std::io::Error| DevError(format!("cannot write {}: {e}", path.display()));
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut f = opts.open(&tmp).map_err(io)?;
    f.write_all(data).map_err(io)?;
    f.sync_all().map_err(io)?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io)
}

/// Whether the existing TSA certificate in `chain` is valid at `now` (an unreadable file
/// counts as not valid).
fn chain_valid_at(chain: &Path, now: UnixTime) -> bool {
    let Ok(certs) = crate::startup::read_chain(chain) else {
        return false;
    };
    use der::Decode as _;
    let Ok(cert) = x509_cert::Certificate::from_der(&certs[0]) else {
        return false;
    };
    let v = cert.tbs_certificate().validity();
    let (nb, na) = (
        v.not_before.to_unix_duration().as_secs(),
        v.not_after.to_unix_duration().as_secs(),
    );
    // Renew a month ahead, as the start-up check would otherwise warn every day.
    nb <= now.secs() && now.secs().saturating_add(30 * 86_400) < na
}

/// What [`ensure`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Made {
    /// The files were there and valid; reused.
    Reused,
    /// A fresh development PKI was made.
    Created,
}

/// Makes the development PKI at `now` unless a usable one is already under `data_dir`;
/// returns its files and whether they were made now.
pub fn ensure(data_dir: &Path, now: UnixTime) -> Result<(DevFiles, Made), DevError> {
    let p = paths(data_dir);
    if p.key.exists() && p.chain.exists() && p.root.exists() && chain_valid_at(&p.chain, now) {
        return Ok((p, Made::Reused));
    }
    std::fs::create_dir_all(data_dir)
        .map_err(|e| DevError(format!("cannot create {}: {e}", data_dir.display())))?;
    let pki = DevPki::generate(now, KeyAlg::P256)
        .map_err(|e| DevError(format!("cannot make the development PKI: {e}")))?;
    write_atomic(&p.notice, NOTICE.as_bytes(), false)?;
    write_atomic(&p.root, pki.root_pem().as_bytes(), false)?;
    write_atomic(&p.key, pki.tsa_key_pem.as_bytes(), true)?;
    // Last: its presence marks a complete set.
    write_atomic(&p.chain, pki.tsa_chain_pem().as_bytes(), false)?;
    Ok((p, Made::Created))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_then_reused_and_renewed_when_expiring() {
        let dir = tempfile::tempdir().unwrap();
        let now = UnixTime::from_secs(1_795_392_000);
        let (files, made) = ensure(dir.path(), now).unwrap();
        assert_eq!(made, Made::Created);
        let root = std::fs::read(&files.root).unwrap();
        let chain = std::fs::read_to_string(&files.chain).unwrap();
        assert!(chain.matches("BEGIN CERTIFICATE").count() == 2, "{chain}");
        assert!(
            std::fs::read_to_string(&files.notice)
                .unwrap()
                .contains("NOT FOR PRODUCTION")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&files.key).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "key readable by others: {mode:o}");
        }
        // The start-up checks accept it.
        let id = crate::startup::load_identity(
            &files.key.display().to_string(),
            &files.chain,
            crate::config::RsaScheme::Pkcs1,
            now,
            false,
        )
        .unwrap();
        assert!(id.warnings.is_empty(), "{:?}", id.warnings);
        let cert = String::from_utf8_lossy(&id.subject_der).into_owned();
        assert!(cert.contains("NOT FOR PRODUCTION"), "{cert}");
        // A day later: reused, byte for byte.
        let later = UnixTime::from_secs(now.secs() + 86_400);
        let (_, made) = ensure(dir.path(), later).unwrap();
        assert_eq!(made, Made::Reused);
        assert_eq!(std::fs::read(&files.root).unwrap(), root);
        // Close to the TSA certificate's end (2 years): renewed.
        let late = UnixTime::from_secs(now.secs() + 2 * 365 * 86_400 - 86_400);
        let (_, made) = ensure(dir.path(), late).unwrap();
        assert_eq!(made, Made::Created);
        assert_ne!(std::fs::read(&files.root).unwrap(), root);
        // An incomplete set is replaced.
        std::fs::remove_file(&files.key).unwrap();
        assert_eq!(ensure(dir.path(), late).unwrap().1, Made::Created);
    }
}
