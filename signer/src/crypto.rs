//! Signature verification and policy checks on material the signer receives (time-stamp
//! tokens, CRLs, OCSP responses), through `inkan-profiles`.

use inkan_profiles::alg::{PublicKeyKind, SignatureAlgorithm};
use inkan_profiles::policy::{Policy, Use};
use inkan_profiles::time::UnixTime;
use inkan_profiles::verify::verify_signature;

use crate::error::SignatureError;

/// Verifies `signature` over `message` with the key `spki` (DER SubjectPublicKeyInfo) under the
/// raw `AlgorithmIdentifier` `alg`, refusing algorithms the CRYPTREC policy does not accept for
/// validating material whose existence is proven at `at`.
pub fn verify(
    spki: &[u8],
    alg: &[u8],
    message: &[u8],
    signature: &[u8],
    at: UnixTime,
) -> Result<(), SignatureError> {
    let alg = SignatureAlgorithm::from_der(alg)
        .map_err(|e| SignatureError::Algorithm(format!("{e:?}")))?;
    let kind = PublicKeyKind::from_spki_der(spki)
        .map_err(|e| SignatureError::PublicKey(format!("{e:?}")))?;
    Policy::cryptrec()
        .check_signature(&alg, &kind, Use::Validate, at)
        .map_err(SignatureError::Policy)?;
    verify_signature(spki, &alg, message, signature).map_err(SignatureError::Invalid)
}
