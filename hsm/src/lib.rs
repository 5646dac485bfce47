//! # inkan-hsm
//!
//! One way to sign, whatever holds the key: software PKCS#8 keys and PKCS#11 tokens behind the
//! same three small traits, in the spirit of rustls's `CryptoProvider`.
//!
//! CONTRACT (shared by every crate; extend, do not rename): [`SigningKey`], [`Signer`], the
//! module layout. **Who hashes:** [`Signer::sign`] receives the message *unhashed* (for CMS, the
//! DER of the signed attributes; for a CSR, the `CertificationRequestInfo`); the backend applies
//! the algorithm's digest. Ed25519 is PureEdDSA over the message.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::fmt::Debug;
use std::sync::Arc;

use inkan_profiles::alg::{PublicKeyKind, SignatureAlgorithm};

/// A private key that can make signatures. `Debug` never prints key material or PINs.
pub trait SigningKey: Debug + Send + Sync {
    /// The DER `SubjectPublicKeyInfo` of the key.
    fn public_key_der(&self) -> &[u8];
    /// The key's kind and size, as the policy sees it.
    fn kind(&self) -> PublicKeyKind;
    /// The first algorithm of `allowed` (in the caller's order of preference) that this key can
    /// sign with, as a shareable signer; `None` if it can sign with none of them.
    fn choose(&self, allowed: &[SignatureAlgorithm]) -> Option<Arc<dyn Signer>>;
}

/// A key bound to one signature algorithm. Cheap to share between threads.
pub trait Signer: Debug + Send + Sync {
    /// The algorithm this signer produces.
    fn algorithm(&self) -> SignatureAlgorithm;
    /// Signs `message` (unhashed: the backend hashes). ECDSA signatures are returned DER
    /// encoded (`Ecdsa-Sig-Value`), RSA and EdDSA ones as raw octets.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error>;
}

/// Errors from loading or using a key. Never carries a PIN or key material.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Placeholder until the backends land.
    Unimplemented,
}
