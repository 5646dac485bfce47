//! One-shot and streaming SHA-2 through ring (its assembly SHA-2 is the fastest at hand).

use inkan_profiles::alg::DigestAlgorithm;

use crate::Error;

/// The ring algorithm for a SHA-2 digest, if ring has it.
pub(crate) fn ring_alg(d: DigestAlgorithm) -> Option<&'static ring::digest::Algorithm> {
    Some(match d {
        DigestAlgorithm::Sha256 => &ring::digest::SHA256,
        DigestAlgorithm::Sha384 => &ring::digest::SHA384,
        DigestAlgorithm::Sha512 => &ring::digest::SHA512,
        _ => return None,
    })
}

/// Output length in bytes of the digests this crate computes.
pub(crate) fn len(d: DigestAlgorithm) -> Option<usize> {
    ring_alg(d).map(|a| a.output_len())
}

/// Hashes `data` with `d` (SHA-256/384/512).
pub(crate) fn digest(d: DigestAlgorithm, data: &[u8]) -> Result<ring::digest::Digest, Error> {
    let alg = ring_alg(d).ok_or_else(|| Error::AlgorithmMismatch(format!("digest {d:?}")))?;
    Ok(ring::digest::digest(alg, data))
}
