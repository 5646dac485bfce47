//! Signature verification and policy checks on material the signer receives (time-stamp
//! tokens, CRLs, OCSP responses), through `inkan-profiles`.

use inkan_profiles::alg::SignatureAlgorithm;
use inkan_profiles::time::UnixTime;

/// Verifies `signature` over `message` with the key `spki` (DER SubjectPublicKeyInfo) under the
/// raw `AlgorithmIdentifier` `alg`, refusing algorithms the CRYPTREC policy does not accept for
/// validation at `at`.
pub fn verify(
    spki: &[u8],
    alg: &[u8],
    message: &[u8],
    signature: &[u8],
    at: UnixTime,
) -> Result<(), String> {
    let alg = SignatureAlgorithm::from_der(alg).map_err(|e| format!("algorithm: {e:?}"))?;
    let _ = (spki, message, signature, at, alg);
    Err("signature verification is not available yet (waiting for profiles::verify)".into())
}
