//! Start-up: load the key and certificate, run the fatal checks, and build the running parts.
//!
//! Checks (each failure is fatal with a message naming what to fix):
//! 1. the certificate's public key is the key's public key;
//! 2. its ExtendedKeyUsage is present, critical, and id-kp-timeStamping only (RFC 3161 §2.3);
//! 3. the key passes the CRYPTREC policy for `Use::Create` now (checked by `inkan_hsm::load`);
//! 4. the certificate is valid now; a warning when it expires within 30 days.

use std::path::Path;
use std::sync::Arc;

use const_oid::ObjectIdentifier;
use der::{Decode, Encode};
use inkan_hsm::{KeyRef, SigningKey};
use inkan_profiles::alg::{DigestAlgorithm, PssParams, PublicKeyKind, SignatureAlgorithm};
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

/// Loads the key and chain and runs every start-up check at `now`.
pub fn load_identity(
    keyref: &str,
    chain_path: &Path,
    scheme: RsaScheme,
    now: UnixTime,
) -> Result<Identity, StartupError> {
    let kr = KeyRef::parse(keyref).map_err(|e| StartupError(format!("--key: {e}")))?;
    let key = inkan_hsm::load(&kr, &inkan_hsm::Policy::cryptrec(), now)
        .map_err(|e| StartupError(format!("the TSA key cannot be used: {e}")))?;
    let chain_der = read_chain(chain_path)?;
    let (not_after, subject_der, warnings) =
        check_certificate(&chain_der[0], key.public_key_der(), now)?;
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
        subject_der,
        warnings,
    })
}
