//! Errors from loading or using a key.
//!
//! No variant ever carries a PIN or key material: messages name files, variables, tokens and
//! labels, and PKCS#11 failures keep the return-code name (`CKR_…`).

use std::fmt;

use crate::policy_glue::Refusal;

/// Errors from loading or using a key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The `KEYREF` string is not a file path nor a well-formed RFC 7512 URI.
    BadKeyRef(String),
    /// The URI names an attribute this implementation does not know (RFC 7512 section 2.3).
    UnknownAttribute(String),
    /// The key file cannot be read or is not an unencrypted PKCS#8 private key.
    BadKeyFile {
        /// The file, as given.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The key's algorithm is readable but not one this backend can sign with.
    UnsupportedKey(String),
    /// The CRYPTREC policy forbids this key for new signatures.
    PolicyRefused(Refusal),
    /// The PIN source (environment variable or file) cannot be read.
    PinUnavailable(String),
    /// The URI has no PIN and the token needs one.
    PinRequired,
    /// The token rejected the PIN (`CKR_PIN_INCORRECT`).
    WrongPin,
    /// The PIN is locked (`CKR_PIN_LOCKED`) or expired.
    PinLocked,
    /// The PKCS#11 module cannot be loaded or initialised.
    Module {
        /// The module path.
        path: String,
        /// Why.
        reason: String,
    },
    /// No token matches the URI.
    TokenNotFound(String),
    /// No private key on the token matches the URI.
    ObjectNotFound(String),
    /// More than one private key matches the URI.
    AmbiguousObject(String),
    /// `keygen`: a private key with this label is already on the token.
    ObjectExists(String),
    /// The requested signature algorithm does not fit this key (checked before any `C_Sign`).
    AlgorithmMismatch(String),
    /// A PKCS#11 call failed.
    Backend {
        /// The PKCS#11 function, e.g. `C_Sign`.
        op: &'static str,
        /// The return-code name, e.g. `CKR_DEVICE_REMOVED`, or the library's message.
        rv: String,
    },
    /// A software signing operation failed.
    Software(String),
    /// Encoding a structure failed (certificates, CMS, CSR).
    Encoding(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadKeyRef(m) => write!(f, "bad key reference: {m}"),
            Self::UnknownAttribute(m) => write!(f, "bad key reference: {m}"),
            Self::BadKeyFile { path, reason } => write!(f, "key file {path}: {reason}"),
            Self::UnsupportedKey(m) => write!(f, "unsupported key: {m}"),
            Self::PolicyRefused(r) => write!(f, "key refused by policy: {r}"),
            Self::PinUnavailable(m) => write!(f, "PIN unavailable: {m}"),
            Self::PinRequired => f.write_str(
                "the token needs a PIN: add pin-source=env:NAME or pin-source=FILE to the URI",
            ),
            Self::WrongPin => f.write_str("the token rejected the PIN (CKR_PIN_INCORRECT)"),
            Self::PinLocked => f.write_str("the token's user PIN is locked or expired"),
            Self::Module { path, reason } => {
                write!(f, "cannot use PKCS#11 module {path}: {reason}")
            }
            Self::TokenNotFound(m) => write!(f, "token not found: {m}"),
            Self::ObjectNotFound(m) => write!(f, "private key not found: {m}"),
            Self::AmbiguousObject(m) => write!(f, "more than one private key matches: {m}"),
            Self::ObjectExists(m) => write!(f, "{m}"),
            Self::AlgorithmMismatch(m) => write!(f, "algorithm does not fit the key: {m}"),
            Self::Backend { op, rv } => write!(f, "PKCS#11 {op} failed: {rv}"),
            Self::Software(m) => write!(f, "signing failed: {m}"),
            Self::Encoding(m) => write!(f, "encoding failed: {m}"),
        }
    }
}

impl Error {
    /// Whether the PIN is the problem (missing, unreadable, rejected or locked): every binary
    /// maps these to exit status 77 (`EX_NOPERM`), as for a key refused by policy.
    pub fn is_pin_problem(&self) -> bool {
        matches!(
            self,
            Self::PinUnavailable(_) | Self::PinRequired | Self::WrongPin | Self::PinLocked
        )
    }
}

impl std::error::Error for Error {}

/// A DER element that could not be read (the message names the element).
impl From<inkan_profiles::asn1::tlv::TlvError> for Error {
    fn from(e: inkan_profiles::asn1::tlv::TlvError) -> Self {
        Self::Encoding(format!("malformed DER: {e}"))
    }
}

impl From<der::Error> for Error {
    fn from(e: der::Error) -> Self {
        Self::Encoding(e.to_string())
    }
}
