//! # inkan-hsm
//!
//! One way to sign, whatever holds the key: software PKCS#8 keys and PKCS#11 tokens behind the
//! same small traits, in the spirit of rustls's `CryptoProvider`.
//!
//! CONTRACT (shared by every crate; extend, do not rename): [`SigningKey`], [`Signer`], the
//! module layout. **Who hashes:** [`Signer::sign`] receives the message *unhashed* (for CMS, the
//! DER of the signed attributes; for a CSR, the `CertificationRequestInfo`); the backend applies
//! the algorithm's digest. Ed25519 is PureEdDSA over the message.
//!
//! ```no_run
//! # fn main() -> Result<(), inkan_hsm::Error> {
//! use inkan_hsm::{KeyRef, Policy};
//! use inkan_profiles::time::UnixTime;
//! let key = inkan_hsm::load(&KeyRef::parse("tsa-key.pem")?, &Policy::cryptrec(), UnixTime::from_secs(1_790_000_000))?;
//! let signer = key.choose(&inkan_hsm::default_algorithms(&key.kind())).expect("a usable algorithm");
//! let sig = signer.sign(b"message")?;
//! # Ok(()) }
//! ```
//!
//! ## RSA-PSS keys
//! A key that may only make RSASSA-PSS has `kind()` = `PublicKeyKind::RsaPss` and an
//! id-RSASSA-PSS `SubjectPublicKeyInfo`, and `choose` offers it only PSS algorithms within its
//! restrictions: an id-RSASSA-PSS PKCS#8 file (`openssl genpkey -algorithm RSA-PSS`, see
//! [`soft`]) or a token key whose `CKA_ALLOWED_MECHANISMS` lists only PSS mechanisms (see
//! [`pkcs11`]). `Policy::signing_preferences` for such a kind lists PSS only.
//!
//! `inkan-hsm keygen --algorithm rsa-3072-pss` (or `rsa-4096-pss`) makes such a token key: the
//! private key (sensitive, non-extractable) and its public key get `CKA_ALLOWED_MECHANISMS` =
//! [`cli::PSS_ONLY_MECHANISMS`] (`CKM_RSA_PKCS_PSS`, `CKM_SHA256/384/512_RSA_PKCS_PSS`), which
//! the token itself enforces at `C_SignInit`; `inkan-hsm csr` then writes an id-RSASSA-PSS
//! request signed with PSS, and `inkan-hsm list` prints the restriction. `keygen` makes keys
//! on tokens only: PKCS#8 files come from `openssl genpkey -algorithm RSA-PSS` (ring cannot
//! generate RSA keys, and the `rsa` crate is kept to verification).
//!
//! ## Choices
//! - **ring for software signing**, not RustCrypto `rsa`: `rsa` has an open timing advisory for
//!   private-key operations (RUSTSEC-2023-0071, the Marvin attack); ring's RSA is constant-time
//!   and the fastest we measured.
//! - **RustCrypto `p384`/`p521`** for P-384 and P-521: ring has no P-521, and RustCrypto's
//!   P-384 signed faster than ring's on the target machine (about 3,100/s against 1,900/s).
//! - **`cryptoki`**, not the `pkcs11` crate, for PKCS#11: it is maintained (0.12.1, 2026) with
//!   a safe API, while `pkcs11` has had no release since 2020.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::fmt::Debug;
use std::sync::Arc;

use inkan_profiles::alg::{PublicKeyKind, SignatureAlgorithm};
use inkan_profiles::time::UnixTime;

pub mod cli;
pub mod cms;
mod derw;
pub mod devpki;
mod digest;
mod error;
mod keyref;
pub mod name;
pub mod pkcs11;
mod policy_glue;
pub mod soft;

pub use error::Error;
pub use keyref::{KeyRef, PinSource, Pkcs11Uri};
pub use policy_glue::{Policy, Refusal};
pub use soft::default_algorithms;

/// The SoftHSM2 test harness of `inkan-test-support`, re-exported for the TSA load generator.
/// Only with the `test-support` feature, which only dev-dependencies enable.
#[cfg(feature = "test-support")]
pub use inkan_test_support::softhsm;

/// A private key that can make signatures. `Debug` never prints key material or PINs.
pub trait SigningKey: Debug + Send + Sync {
    /// The DER `SubjectPublicKeyInfo` of the key.
    fn public_key_der(&self) -> &[u8];
    /// The key's kind and size, as the policy sees it.
    fn kind(&self) -> PublicKeyKind;
    /// A human label safe to log: the file path, or the PKCS#11 URI without any PIN.
    fn label(&self) -> &str;
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

/// Loads the key `key` names and checks it against `policy` for making signatures at `at`.
///
/// An RSA key under 2048 bits or a P-224 key is refused with [`Error::PolicyRefused`] naming
/// the rule. A PKCS#11 key is found, logged in to and its public key read now, so that a wrong
/// PIN or a missing object fails at start-up rather than on the first request.
pub fn load(key: &KeyRef, policy: &Policy, at: UnixTime) -> Result<Arc<dyn SigningKey>, Error> {
    match key {
        KeyRef::File(path) => soft::load(path, policy, at),
        KeyRef::Pkcs11(uri) => pkcs11::load(uri, policy, at),
    }
}
