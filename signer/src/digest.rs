//! Digests by [`DigestAlgorithm`] (through `inkan-profiles`), restricted to the ones the signer
//! emits or accepts in what it receives, and their DER `AlgorithmIdentifier`s.

use const_oid::ObjectIdentifier;
use inkan_profiles::alg::DigestAlgorithm;

/// Digests the signer accepts in tokens and signatures it extends (SHA-2 and SHA-3, 256 bits
/// and up; CRYPTREC never allows less for new material).
const ACCEPTED: [DigestAlgorithm; 6] = [
    DigestAlgorithm::Sha256,
    DigestAlgorithm::Sha384,
    DigestAlgorithm::Sha512,
    DigestAlgorithm::Sha3_256,
    DigestAlgorithm::Sha3_384,
    DigestAlgorithm::Sha3_512,
];

/// The accepted digest algorithm named by `oid` (through [`DigestAlgorithm::from_oid`]).
pub fn from_oid(oid: &ObjectIdentifier) -> Option<DigestAlgorithm> {
    DigestAlgorithm::from_oid(oid)
        .ok()
        .filter(|a| ACCEPTED.contains(a))
}

/// The DER `AlgorithmIdentifier` (parameters absent, RFC 5754 section 2), from
/// [`DigestAlgorithm::to_algorithm_identifier`].
pub fn algorithm_identifier(alg: DigestAlgorithm) -> Vec<u8> {
    use der::Encode as _;
    // Invariant: an AlgorithmIdentifier with an OID and no parameters always encodes.
    alg.to_algorithm_identifier()
        .to_der()
        .expect("an AlgorithmIdentifier without parameters encodes")
}

/// Size of the read buffer used when hashing a stream.
pub const STREAM_BUFFER: usize = 256 * 1024;

/// Hashes a reader as a stream with a fixed buffer; memory does not grow with the input.
pub fn digest_reader(alg: DigestAlgorithm, r: &mut dyn std::io::Read) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; STREAM_BUFFER];
    digest_reader_with(alg, r, &mut buf)
}

/// [`digest_reader`] with a caller's buffer (reused across files; must not be empty).
///
/// SHA-256/384/512 go through `ring` (SHA extensions and AVX2 where the CPU has them; about
/// twice the `sha2` crate's throughput on the benchmark machine), the others through
/// [`DigestAlgorithm::hasher`].
pub fn digest_reader_with(
    alg: DigestAlgorithm,
    r: &mut dyn std::io::Read,
    buf: &mut [u8],
) -> std::io::Result<Vec<u8>> {
    if buf.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "empty read buffer",
        ));
    }
    enum H {
        Ring(ring::digest::Context),
        Other(inkan_profiles::alg::Hasher),
    }
    let mut h = match ring_alg(alg) {
        Some(a) => H::Ring(ring::digest::Context::new(a)),
        None => H::Other(alg.hasher()),
    };
    loop {
        let n = match r.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        match &mut h {
            H::Ring(c) => c.update(&buf[..n]),
            H::Other(c) => c.update(&buf[..n]),
        }
    }
    Ok(match h {
        H::Ring(c) => c.finish().as_ref().to_vec(),
        H::Other(c) => c.finalize(),
    })
}

/// Hashes `data` (in memory) with `alg`, through `ring` for SHA-2 like [`digest_reader_with`].
pub fn digest(alg: DigestAlgorithm, data: &[u8]) -> Vec<u8> {
    match ring_alg(alg) {
        Some(a) => ring::digest::digest(a, data).as_ref().to_vec(),
        None => alg.digest(data),
    }
}

fn ring_alg(alg: DigestAlgorithm) -> Option<&'static ring::digest::Algorithm> {
    match alg {
        DigestAlgorithm::Sha256 => Some(&ring::digest::SHA256),
        DigestAlgorithm::Sha384 => Some(&ring::digest::SHA384),
        DigestAlgorithm::Sha512 => Some(&ring::digest::SHA512),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        let d = DigestAlgorithm::Sha256.digest(b"abc");
        assert_eq!(d[..4], [0xba, 0x78, 0x16, 0xbf]);
        let mut r: &[u8] = b"abc";
        assert_eq!(digest_reader(DigestAlgorithm::Sha256, &mut r).unwrap(), d);
        for a in ACCEPTED {
            assert_eq!(from_oid(&a.oid()), Some(a));
            // ring and the profiles catalogue agree, in memory and as a stream.
            let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
            assert_eq!(digest(a, &data), a.digest(&data));
            let mut r: &[u8] = &data;
            let mut buf = [0u8; 1000];
            assert_eq!(
                digest_reader_with(a, &mut r, &mut buf).unwrap(),
                a.digest(&data)
            );
        }
        assert_eq!(from_oid(&DigestAlgorithm::Sha1.oid()), None);
        assert_eq!(
            algorithm_identifier(DigestAlgorithm::Sha256),
            [
                0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01
            ]
        );
    }
}
