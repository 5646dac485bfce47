//! Start-up: load the key and certificate, run the fatal checks, and build the running parts.
//!
//! Checks (each failure is fatal with a message naming what to fix):
//! 1. a software key file is readable by its owner only (outside `--dev`, see
//!    [`check_key_file`]);
//! 2. the certificate's public key is the key's public key (a chain given CA-first is named
//!    as such);
//! 3. its ExtendedKeyUsage is present, critical, and id-kp-timeStamping only (RFC 3161 §2.3),
//!    and its keyUsage is present with digitalSignature (RFC 5280 §4.2.1.3);
//! 4. the key passes the CRYPTREC policy for `Use::Create` now (checked by `inkan_hsm::load`);
//! 5. the certificate is valid now; a warning when it, or the key's CRYPTREC period, ends
//!    within 30 days;
//! 6. each certificate of `--cert-chain` is signed by the next one, with a signature
//!    algorithm the CRYPTREC policy accepts for validation (an ecdsa-with-SHA1-signed TSA
//!    certificate would make every token fail verification), and names it as its issuer;
//!    the TSA certificate's own signature algorithm is checked even when no issuer is given.
//!
//! An Ed25519 key is accepted with a warning: OpenSSL 3.0 (`openssl ts -verify`) cannot verify
//! Ed25519 time-stamp tokens.
//!
//! The instants at which the certificate and the key's policy period end are kept
//! ([`Identity::window`]) and checked for every token (see [`crate::ntp::IdentityWindow`]).

use std::path::Path;
use std::sync::Arc;

use const_oid::ObjectIdentifier;
use der::{Decode, Encode};
use inkan_hsm::{KeyRef, SigningKey};
use inkan_profiles::alg::{DigestAlgorithm, PssParams, PublicKeyKind, SignatureAlgorithm};
use inkan_profiles::policy::{Policy, Use};
use inkan_profiles::time::UnixTime;
use sha2::Digest;
use x509_cert::Certificate;

use crate::config::RsaScheme;

/// id-ce-extKeyUsage.
const EKU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
/// id-kp-timeStamping.
const KP_TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");

/// A start-up failure the operator must fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartupError(pub String);

impl std::fmt::Display for StartupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartupError {}

fn fail<T>(s: impl Into<String>) -> Result<T, StartupError> {
    Err(StartupError(s.into()))
}

/// The TSA's signing identity after the checks.
#[derive(Debug)]
pub struct Identity {
    /// The key.
    pub key: Arc<dyn SigningKey>,
    /// The signer bound to the chosen algorithm.
    pub signer: Arc<dyn inkan_hsm::Signer>,
    /// DER certificates: the TSA certificate first, then the issuers given.
    pub chain_der: Vec<Vec<u8>>,
    /// SHA-256 of the TSA certificate.
    pub cert_sha256: [u8; 32],
    /// notAfter, Unix seconds.
    pub not_after: u64,
    /// When tokens may be issued: certificate validity and the key's CRYPTREC period.
    pub window: crate::ntp::IdentityWindow,
    /// DER of the TSA certificate's subject Name.
    pub subject_der: Vec<u8>,
    /// Warnings to log.
    pub warnings: Vec<String>,
}

/// Reads a PEM file holding one or more certificates.
pub fn read_chain(path: &Path) -> Result<Vec<Vec<u8>>, StartupError> {
    let pem = std::fs::read(path)
        .map_err(|e| StartupError(format!("cannot read {}: {e}", path.display())))?;
    let certs = Certificate::load_pem_chain(&pem).map_err(|e| {
        StartupError(format!(
            "{}: not a PEM certificate chain: {e}",
            path.display()
        ))
    })?;
    if certs.is_empty() {
        return fail(format!("{}: no certificate", path.display()));
    }
    certs
        .iter()
        .map(|c| {
            c.to_der()
                .map_err(|e| StartupError(format!("{}: {e}", path.display())))
        })
        .collect()
}

fn time_secs(t: &x509_cert::time::Time) -> u64 {
    t.to_unix_duration().as_secs()
}

/// Checks the TSA certificate against the key's SPKI and the time `now` (checks 1, 2, 4).
/// Returns (notAfter, subject DER, warnings).
pub fn check_certificate(
    cert_der: &[u8],
    key_spki_der: &[u8],
    now: UnixTime,
) -> Result<(u64, Vec<u8>, Vec<String>), StartupError> {
    let cert = Certificate::from_der(cert_der)
        .map_err(|e| StartupError(format!("TSA certificate: not DER X.509: {e}")))?;
    let tbs = cert.tbs_certificate();
    let spki = tbs
        .subject_public_key_info()
        .to_der()
        .map_err(|e| StartupError(format!("TSA certificate: {e}")))?;
    if spki != key_spki_der {
        return fail(
            "the TSA certificate does not match the key (its public key differs): check --key and --cert-chain",
        );
    }
    let ekus: Vec<_> = tbs
        .extensions()
        .into_iter()
        .flatten()
        .filter(|e| e.extn_id == EKU)
        .collect();
    let [eku] = ekus.as_slice() else {
        return fail(format!(
            "the TSA certificate must carry exactly one ExtendedKeyUsage extension (RFC 3161 §2.3); it has {}",
            ekus.len()
        ));
    };
    if !eku.critical {
        return fail("the TSA certificate's ExtendedKeyUsage must be critical (RFC 3161 §2.3)");
    }
    let purposes = x509_cert::ext::pkix::ExtendedKeyUsage::from_der(eku.extn_value.as_bytes())
        .map_err(|e| StartupError(format!("TSA certificate ExtendedKeyUsage: {e}")))?;
    if purposes.0 != [KP_TIME_STAMPING] {
        return fail(format!(
            "the TSA certificate's ExtendedKeyUsage must be id-kp-timeStamping only (RFC 3161 §2.3); it is {:?}",
            purposes.0.iter().map(|o| o.to_string()).collect::<Vec<_>>()
        ));
    }
    let ku = tbs
        .extensions()
        .into_iter()
        .flatten()
        .find(|e| e.extn_id == KEY_USAGE)
        .ok_or_else(|| {
            StartupError(
                "the TSA certificate has no keyUsage extension; it needs digitalSignature (RFC 5280 §4.2.1.3)".into(),
            )
        })?;
    let ku = x509_cert::ext::pkix::KeyUsage::from_der(ku.extn_value.as_bytes())
        .map_err(|e| StartupError(format!("TSA certificate keyUsage: {e}")))?;
    if !ku.digital_signature() {
        return fail(
            "the TSA certificate's keyUsage lacks digitalSignature, which signing tokens needs (RFC 5280 §4.2.1.3)",
        );
    }
    check_signature_algorithm(&cert, "the TSA certificate", None, now)?;
    let validity = tbs.validity();
    let nb = time_secs(&validity.not_before);
    let na = time_secs(&validity.not_after);
    if now.secs() < nb {
        return fail(format!(
            "the TSA certificate is not valid yet (notBefore {})",
            crate::timefmt::rfc3339(UnixTime::from_secs(nb))
        ));
    }
    if now.secs() > na {
        return fail(format!(
            "the TSA certificate has expired (notAfter {}); EN 319 421 forbids issuing with it",
            crate::timefmt::rfc3339(UnixTime::from_secs(na))
        ));
    }
    let mut warnings = Vec::new();
    if na - now.secs() < 30 * 86_400 {
        warnings.push(format!(
            "the TSA certificate expires in {} days ({})",
            (na - now.secs()) / 86_400,
            crate::timefmt::rfc3339(UnixTime::from_secs(na))
        ));
    }
    let subject = tbs
        .subject()
        .to_der()
        .map_err(|e| StartupError(format!("TSA certificate subject: {e}")))?;
    Ok((na, subject, warnings))
}

/// id-ce-keyUsage.
const KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");

/// Checks the signature algorithm `cert` is signed with under the CRYPTREC policy for
/// validation at `now` (what our own verifier and relying parties apply to every token's
/// certificate): with the issuer's key kind when known, else its digest alone.
fn check_signature_algorithm(
    cert: &Certificate,
    what: &str,
    issuer: Option<&PublicKeyKind>,
    now: UnixTime,
) -> Result<SignatureAlgorithm, StartupError> {
    let ai = cert.signature_algorithm();
    let alg = SignatureAlgorithm::from_algorithm_identifier(ai).map_err(|e| {
        StartupError(format!(
            "{what} is signed with {}, which the CRYPTREC policy does not know: {e}",
            ai.oid
        ))
    })?;
    let policy = Policy::cryptrec();
    let verdict = match issuer {
        Some(k) => policy.check_signature(&alg, k, Use::Validate, now),
        None => match alg.digest() {
            Some(d) => policy.check_digest(d, Use::Validate, now),
            None => Ok(()),
        },
    };
    verdict.map_err(|r| {
        StartupError(format!(
            "{what} is signed with {alg}, refused by the CRYPTREC policy ({r}); verifiers would reject every token: have it re-issued"
        ))
    })?;
    Ok(alg)
}

/// Checks that every certificate of the chain is signed by the next one and names it as its
/// issuer (the order `--cert-chain` documents: the TSA certificate first, then its issuers).
pub fn check_chain(chain_der: &[Vec<u8>], now: UnixTime) -> Result<(), StartupError> {
    let certs: Vec<Certificate> = chain_der
        .iter()
        .enumerate()
        .map(|(i, d)| {
            Certificate::from_der(d)
                .map_err(|e| StartupError(format!("--cert-chain certificate {}: {e}", i + 1)))
        })
        .collect::<Result<_, _>>()?;
    for (i, pair) in certs.windows(2).enumerate() {
        let (child, parent) = (&pair[0], &pair[1]);
        let what = if i == 0 {
            "the TSA certificate".to_owned()
        } else {
            format!("--cert-chain certificate {}", i + 1)
        };
        let issuer_spki = parent
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(|e| StartupError(format!("--cert-chain certificate {}: {e}", i + 2)))?;
        let issuer_kind = PublicKeyKind::from_spki_der(&issuer_spki)
            .map_err(|e| StartupError(format!("--cert-chain certificate {}: key: {e}", i + 2)))?;
        let alg = check_signature_algorithm(child, &what, Some(&issuer_kind), now)?;
        // The signed bytes as they are in the file (not a re-encoding).
        let tbs = inkan_profiles::asn1::tlv::parse_exact(&chain_der[i])
            .and_then(|c| c.children().next_tlv())
            .map_err(|e| StartupError(format!("{what}: {e}")))?
            .raw;
        let sig = child
            .signature()
            .as_bytes()
            .ok_or_else(|| StartupError(format!("{what}: signature is not whole bytes")))?;
        let names_match = child.tbs_certificate().issuer() == parent.tbs_certificate().subject();
        let verified =
            inkan_profiles::verify::verify_signature(&issuer_spki, &alg, tbs, sig).is_ok();
        if !names_match || !verified {
            return fail(format!(
                "{what} is not issued by the next certificate in --cert-chain (certificate {}): {}; the file must list the TSA certificate first, then its issuer, then that one's issuer",
                i + 2,
                if names_match {
                    "its signature does not verify under that certificate's key"
                } else {
                    "its issuer name is not that certificate's subject"
                }
            ));
        }
    }
    Ok(())
}

/// The first instant at which the CRYPTREC strength period of `kind` no longer allows new
/// signatures (e.g. 2031-01-01 for RSA-2048 and P-224-class 112-bit keys), with a description.
pub fn key_policy_end(kind: &PublicKeyKind) -> Option<(UnixTime, String)> {
    let policy = Policy::cryptrec();
    let bits = inkan_profiles::policy::key_strength_bits(kind);
    let period = policy.periods.iter().rev().find(|p| bits >= p.bits)?;
    let end = period.create_before?;
    Some((
        end,
        format!(
            "{} ({bits}-bit): the CRYPTREC policy allows new signatures before {}",
            kind.name(),
            crate::timefmt::rfc3339(end)
        ),
    ))
}

/// Refuses a software key file that group or others may read (mode `& 0o077 != 0`), outside
/// `--dev`. Refused rather than accepted with a warning: the TSA key is what makes every token
/// trustworthy, and a readable file means any local account may already hold a copy, which a
/// warning in an unattended service's log does not undo (EN 319 421 requires the TSU key to be
/// kept confidential, TIS-7.6.2; an HSM is the production answer). `chmod 600` fixes it.
pub fn check_key_file(path: &Path, dev: bool) -> Result<(), StartupError> {
    use std::os::unix::fs::PermissionsExt as _;
    if dev {
        return Ok(());
    }
    let meta = std::fs::metadata(path)
        .map_err(|e| StartupError(format!("cannot read {}: {e}", path.display())))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return fail(format!(
            "the key file {} can be read by group or others (mode {mode:03o}); run `chmod 600` on it (only --dev accepts this)",
            path.display()
        ));
    }
    Ok(())
}

/// The signature algorithms to offer the key, best first, under the configured RSA scheme.
pub fn preferences(kind: &PublicKeyKind, scheme: RsaScheme) -> Vec<SignatureAlgorithm> {
    let all = inkan_hsm::default_algorithms(kind);
    match kind {
        PublicKeyKind::Rsa { .. } => all
            .into_iter()
            .filter(|a| match scheme {
                RsaScheme::Pkcs1 => matches!(a, SignatureAlgorithm::RsaPkcs1(_)),
                RsaScheme::Pss => matches!(a, SignatureAlgorithm::RsaPss(_)),
            })
            .collect(),
        PublicKeyKind::RsaPss { .. } => vec![SignatureAlgorithm::RsaPss(PssParams {
            hash: DigestAlgorithm::Sha256,
            mgf1_hash: DigestAlgorithm::Sha256,
            salt_len: 32,
        })],
        _ => all,
    }
}

/// Loads the key and chain and runs every start-up check at `now` (`dev`: `--dev`, which
/// accepts a key file others can read).
pub fn load_identity(
    keyref: &str,
    chain_path: &Path,
    scheme: RsaScheme,
    now: UnixTime,
    dev: bool,
) -> Result<Identity, StartupError> {
    let kr = KeyRef::parse(keyref).map_err(|e| StartupError(format!("--key: {e}")))?;
    if let KeyRef::File(path) = &kr {
        check_key_file(path, dev)?;
    }
    let key = inkan_hsm::load(&kr, &Policy::cryptrec(), now)
        .map_err(|e| StartupError(format!("the TSA key cannot be used: {e}")))?;
    let chain_der = read_chain(chain_path)?;
    let spki_of = |d: &[u8]| {
        Certificate::from_der(d)
            .ok()
            .and_then(|c| c.tbs_certificate().subject_public_key_info().to_der().ok())
    };
    if chain_der.len() > 1
        && spki_of(&chain_der[0]).as_deref() != Some(key.public_key_der())
        && spki_of(&chain_der[chain_der.len() - 1]).as_deref() == Some(key.public_key_der())
    {
        return fail(format!(
            "{} lists the CA first: the TSA certificate (the one matching the key) is last; reverse the order (TSA certificate first, then its issuers)",
            chain_path.display()
        ));
    }
    let (not_after, subject_der, mut warnings) =
        check_certificate(&chain_der[0], key.public_key_der(), now)?;
    check_chain(&chain_der, now)?;
    if chain_der.len() == 1 {
        warnings.push(format!(
            "{} holds only the TSA certificate: its issuer's signature is not checked at start, and clients that trust only the root cannot validate tokens; add the issuing CA (and its issuers)",
            chain_path.display()
        ));
    }
    let kind = key.kind();
    if kind == PublicKeyKind::Ed25519 {
        warnings.push(
            "the TSA key is Ed25519: OpenSSL 3.0 clients (`openssl ts -verify`) cannot verify its tokens; prefer P-256 or RSA for a public TSA".into(),
        );
    }
    let key_end = key_policy_end(&kind);
    if let Some((end, why)) = &key_end
        && end.secs().saturating_sub(now.secs()) < 30 * 86_400
    {
        warnings.push(format!(
            "the TSA key's CRYPTREC period ends in {} days: {why}",
            end.secs().saturating_sub(now.secs()) / 86_400
        ));
    }
    let not_before = Certificate::from_der(&chain_der[0])
        .map(|c| time_secs(&c.tbs_certificate().validity().not_before))
        .map_err(|e| StartupError(format!("TSA certificate: {e}")))?;
    let window = crate::ntp::IdentityWindow {
        not_before: UnixTime::from_secs(not_before),
        cert_not_after: UnixTime::from_secs(not_after),
        key_end,
    };
    let prefs = preferences(&key.kind(), scheme);
    let signer = key.choose(&prefs).ok_or_else(|| {
        StartupError(format!(
            "the TSA key ({}) can sign with none of {:?}",
            key.label(),
            prefs
        ))
    })?;
    let cert_sha256: [u8; 32] = sha2::Sha256::digest(&chain_der[0]).into();
    Ok(Identity {
        key,
        signer,
        chain_der,
        cert_sha256,
        not_after,
        window,
        subject_der,
        warnings,
    })
}
