//! The signer's errors that cross module boundaries, typed, in one module that imports none of
//! the others' machinery (so `sign`, `plan`, `tsa_client`, `timestamp`, `pades` and `proxy`
//! can all name them without importing each other).
//!
//! - [`SetupError`]: why a run could not start (nothing was signed); the binary maps each kind
//!   to its exit status (`inkan_profiles::cli`: 64 usage, 66 material, ...).
//! - [`ProxyError`]: a proxy setting that cannot be used (see [`crate::proxy`]); it names
//!   where the setting came from, never the URL (which may hold a password).
//! - [`TokenError`]: why a TSA's time-stamp token was refused (see [`crate::tst::check`]).
//! - [`RevocationError`]: why a CRL or OCSP response does not serve as revocation evidence
//!   (see [`crate::revocation`]), telling apart data about other certificates, a revoked
//!   certificate, and unusable data.
//! - [`SignatureError`]: why a signature on received material does not verify (see
//!   [`crate::crypto::verify`]).
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

/// Why a time-stamp token from the TSA was refused (RFC 3161 §2.4.2: the token must answer
/// the request; RFC 5652 §5.4 and §5.6: its signature and signed attributes must hold; RFC 5035
/// §3: its ESS signing-certificate attribute must name the TSA certificate).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenError {
    /// A part of the token does not decode.
    Malformed {
        /// Which part ("token", "TSTInfo", "token message-digest", ...).
        part: &'static str,
        /// Why, in words.
        reason: String,
    },
    /// The encapsulated content type is not TSTInfo.
    NotTstInfo,
    /// The token carries no encapsulated TSTInfo.
    NoTstInfo,
    /// The TSTInfo's message imprint is not the one asked for.
    ImprintMismatch,
    /// The TSTInfo's nonce is not the one sent.
    NonceMismatch,
    /// A nonce was sent and the TSTInfo has none.
    NonceMissing,
    /// The token has this many signers instead of one.
    SignerCount(usize),
    /// A signed attribute the token needs is missing (its name).
    MissingAttribute(&'static str),
    /// The content-type attribute does not say TSTInfo.
    ContentTypeNotTstInfo,
    /// A digest algorithm is not accepted: `what` ("token digest", "token ESS hash
    /// algorithm") and its OID.
    DigestNotAccepted {
        /// Where the algorithm is named.
        what: &'static str,
        /// The OID, dotted.
        oid: String,
    },
    /// The message-digest attribute is not the digest of the TSTInfo.
    MessageDigestMismatch,
    /// The token does not carry the certificate its signer identifier names.
    NoTsaCertificate,
    /// The token has no signed attributes.
    NoSignedAttributes,
    /// The signature does not verify (why).
    Signature(String),
    /// The TSA certificate (its subject) lacks the timeStamping extended key usage.
    NoTimeStampingEku {
        /// The certificate's subject.
        subject: String,
    },
    /// The TSA certificate (its subject) is not valid at the token's genTime.
    NotValidAtGenTime {
        /// The certificate's subject.
        subject: String,
    },
    /// The ESS certificate hash does not match the TSA certificate.
    EssHashMismatch,
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Malformed { part, reason } => write!(f, "{part}: {reason}"),
            Self::NotTstInfo => f.write_str("token content is not TSTInfo"),
            Self::NoTstInfo => f.write_str("token carries no TSTInfo"),
            Self::ImprintMismatch => {
                f.write_str("the token's message imprint differs from the request")
            }
            Self::NonceMismatch => f.write_str("the token's nonce differs from the request"),
            Self::NonceMissing => f.write_str("the token has no nonce although one was sent"),
            Self::SignerCount(n) => write!(f, "token has {n} signers, expected one"),
            Self::MissingAttribute(name) => write!(f, "token lacks the {name} attribute"),
            Self::ContentTypeNotTstInfo => {
                f.write_str("token content-type attribute is not TSTInfo")
            }
            Self::DigestNotAccepted { what, oid } => write!(f, "{what} {oid} not accepted"),
            Self::MessageDigestMismatch => {
                f.write_str("token message-digest does not match its TSTInfo")
            }
            Self::NoTsaCertificate => {
                f.write_str("the token does not carry the TSA certificate (sent certReq true)")
            }
            Self::NoSignedAttributes => f.write_str("token has no signed attributes"),
            Self::Signature(e) => write!(f, "token signature: {e}"),
            Self::NoTimeStampingEku { subject } => write!(
                f,
                "TSA certificate {subject} lacks extended key usage timeStamping"
            ),
            Self::NotValidAtGenTime { subject } => write!(
                f,
                "TSA certificate {subject} is not valid at the token's genTime"
            ),
            Self::EssHashMismatch => {
                f.write_str("token ESS certificate hash does not match the TSA certificate")
            }
        }
    }
}

impl std::error::Error for TokenError {}

/// Why a CRL or an OCSP response is not revocation evidence for a certificate (RFC 5280
/// §6.3, RFC 6960 §3.2). The words are the message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevocationError {
    /// It speaks about other certificates (a CRL of another CA, an OCSP response without
    /// this certificate): look elsewhere.
    NotAbout(String),
    /// It says the certificate is revoked (or its status unknown).
    Revoked(String),
    /// It cannot be used: it does not decode, its signature or signer fails, it is stale.
    Unusable(String),
}

impl std::fmt::Display for RevocationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotAbout(m) | Self::Revoked(m) | Self::Unusable(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for RevocationError {}

impl From<String> for RevocationError {
    fn from(m: String) -> Self {
        Self::Unusable(m)
    }
}

impl From<&str> for RevocationError {
    fn from(m: &str) -> Self {
        Self::Unusable(m.to_owned())
    }
}

/// Why a signature on material the signer received (a token, a CRL, an OCSP response, a
/// responder certificate) does not verify.
#[derive(Debug)]
#[non_exhaustive]
pub enum SignatureError {
    /// The AlgorithmIdentifier is not one we know (the parser's words).
    Algorithm(String),
    /// The SubjectPublicKeyInfo is not one we know (the parser's words).
    PublicKey(String),
    /// The CRYPTREC policy refuses the algorithm or key for validation at that time.
    Policy(Refusal),
    /// The signature value does not verify.
    Invalid(inkan_profiles::verify::VerifyError),
}

impl std::fmt::Display for SignatureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Algorithm(e) => write!(f, "algorithm: {e}"),
            Self::PublicKey(e) => write!(f, "public key: {e}"),
            Self::Policy(r) => write!(f, "{r}"),
            Self::Invalid(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SignatureError {}

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
