//! The signer's errors that cross module boundaries, typed, in one module that imports none of
//! the others' machinery (so `sign`, `plan`, `tsa_client`, `timestamp`, `pades` and `proxy`
//! can all name them without importing each other).
//!
//! - [`SetupError`]: why a run could not start (nothing was signed); the binary maps each kind
//!   to its exit status (INTERFACE.md: 64 usage, 66 material, ...).
//! - [`ProxyError`]: a proxy setting that cannot be used (see [`crate::proxy`]); it names
//!   where the setting came from, never the URL (which may hold a password).
//! - [`TlsSettingsError`]: TLS client settings that cannot be used (see [`crate::https`]): a
//!   trust-anchor file, a client certificate or key, the system trust store. It names files,
//!   never their contents (a key file's bytes are secret).
//!
//! Failures of one input in a batch stay [`crate::cades::Failure`], with the batch's
//! [`crate::cades::Problem`] kinds.

use std::path::PathBuf;

use inkan_hsm::Refusal;

/// Why a run could not start (nothing was signed).
#[derive(Debug)]
#[non_exhaustive]
pub enum SetupError {
    /// The key could not be loaded (PIN, token, file).
    Key(inkan_hsm::Error),
    /// The CRYPTREC policy refuses the key or certificate for new signatures.
    Policy(Refusal),
    /// The certificate chain is unusable or does not fit the key.
    Certificate(String),
    /// A flag combination or an input file is wrong.
    Usage(String),
    /// A CRL/OCSP file or the TSA setting is unusable.
    Material(String),
}

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Key(e) => write!(f, "key: {e}"),
            Self::Policy(r) => write!(f, "refused by the CRYPTREC policy: {r}"),
            Self::Certificate(e) => write!(f, "certificate: {e}"),
            Self::Usage(e) => write!(f, "{e}"),
            Self::Material(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SetupError {}

/// An unusable proxy setting is a usage error (exit 64), stopping the run before anything is
/// signed.
impl From<ProxyError> for SetupError {
    fn from(e: ProxyError) -> Self {
        Self::Usage(e.to_string())
    }
}

/// A proxy URL that cannot be used. Holds where it came from (`--proxy`, `https_proxy`, ...)
/// and why, never the URL itself (it may carry credentials).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyError {
    /// `--proxy` or the name of the environment variable.
    pub origin: String,
    /// What is wrong with it.
    pub reason: String,
}

impl std::fmt::Display for ProxyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the proxy URL of {} is not usable: {}",
            self.origin, self.reason
        )
    }
}

impl std::error::Error for ProxyError {}

/// TLS client settings that cannot be used. `what` is the file's role in words ("CA file",
/// "client certificate", "client key").
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsSettingsError {
    /// The file cannot be read.
    Unreadable {
        /// The file's role.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error, in words.
        reason: String,
    },
    /// The file is larger than `limit` bytes.
    TooLarge {
        /// The file's role.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The largest size read.
        limit: u64,
    },
    /// The file's PEM blocks do not decode.
    NotPem {
        /// The file's role.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why, in words.
        reason: String,
    },
    /// The file holds no certificate.
    NoCertificate {
        /// The file's role.
        what: &'static str,
        /// The file.
        path: PathBuf,
    },
    /// A certificate of the CA file is not a usable trust anchor.
    BadAnchor {
        /// The CA file.
        path: PathBuf,
        /// Why, in words.
        reason: String,
    },
    /// The key file holds no PKCS#8 private key.
    NoPkcs8Key {
        /// The key file.
        path: PathBuf,
    },
    /// The client certificate and key do not go together (or are not usable).
    ClientPair {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// Why, in words.
        reason: String,
    },
    /// The system trust store holds no usable CA certificate.
    NoSystemRoots {
        /// The first loading error, if there was one.
        first_error: Option<String>,
    },
    /// The TLS library refused the protocol settings.
    Protocol(String),
}

impl std::fmt::Display for TlsSettingsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unreadable { what, path, reason } => {
                write!(f, "cannot read {what} {}: {reason}", path.display())
            }
            Self::TooLarge { what, path, limit } => {
                write!(f, "{what} {} is larger than {limit} bytes", path.display())
            }
            Self::NotPem { what, path, reason } => {
                write!(
                    f,
                    "{what} {}: not PEM certificates: {reason}",
                    path.display()
                )
            }
            Self::NoCertificate { what, path } => write!(
                f,
                "{what} {}: no -----BEGIN CERTIFICATE----- in it",
                path.display()
            ),
            Self::BadAnchor { path, reason } => write!(f, "CA file {}: {reason}", path.display()),
            Self::NoPkcs8Key { path } => write!(
                f,
                "client key {}: no PKCS#8 private key (-----BEGIN PRIVATE KEY-----) in it",
                path.display()
            ),
            Self::ClientPair { cert, key, reason } => write!(
                f,
                "client certificate {} and key {} are not usable together: {reason}",
                cert.display(),
                key.display()
            ),
            Self::NoSystemRoots { first_error } => write!(
                f,
                "the system trust store holds no usable CA certificate{} (name the TSA's CA \
                 with --tsa-ca PEM)",
                first_error
                    .as_ref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            ),
            Self::Protocol(e) => write!(f, "TLS settings: {e}"),
        }
    }
}

impl std::error::Error for TlsSettingsError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_errors_name_the_origin() {
        let e = ProxyError {
            origin: "https_proxy".into(),
            reason: "no valid host".into(),
        };
        assert_eq!(
            e.to_string(),
            "the proxy URL of https_proxy is not usable: no valid host"
        );
        assert!(matches!(SetupError::from(e), SetupError::Usage(m) if m.contains("https_proxy")));
    }
}
