//! The cms-algorithm-protection signed attribute (RFC 6211): the digest and signature
//! algorithms, repeated under the signature, so that neither can be swapped in the unsigned
//! SignerInfo fields without breaking it. Built once per run from the template's own
//! `AlgorithmIdentifier` encodings, so it matches the SignerInfo byte for byte.
//!
//! ```text
//! id-aa-CMSAlgorithmProtection OBJECT IDENTIFIER ::= { 1 2 840 113549 1 9 52 }
//! CMSAlgorithmProtection ::= SEQUENCE {        -- RFC 6211 section 2, IMPLICIT TAGS
//!     digestAlgorithm     DigestAlgorithmIdentifier,
//!     signatureAlgorithm  [1] SignatureAlgorithmIdentifier OPTIONAL,
//!     macAlgorithm        [2] MessageAuthenticationCodeAlgorithm OPTIONAL }
//!   (WITH COMPONENTS { signatureAlgorithm PRESENT, macAlgorithm ABSENT } |
//!    WITH COMPONENTS { signatureAlgorithm ABSENT, macAlgorithm PRESENT })
//! ```

/// The DER attribute for a SignerInfo whose `digestAlgorithm` and `signatureAlgorithm` are
/// the DER `AlgorithmIdentifier`s `digest_alg_id` and `sig_alg_id`. `None` when `sig_alg_id`
/// is not one DER SEQUENCE. The encoding is `inkan_hsm`'s, which the TSA uses too.
pub fn attribute(digest_alg_id: &[u8], sig_alg_id: &[u8]) -> Option<Vec<u8>> {
    inkan_hsm::cms::algorithm_protection(digest_alg_id, sig_alg_id).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use inkan_profiles::oid::ID_AA_CMS_ALGORITHM_PROTECTION;

    /// RFC 6211 §2 for ECDSA with SHA-256, with the signer's own digest AlgorithmIdentifier;
    /// not a SEQUENCE, or a truncated one: none.
    #[test]
    fn ecdsa_sha256() {
        let sha256 =
            crate::digest::algorithm_identifier(inkan_profiles::alg::DigestAlgorithm::Sha256);
        // ecdsa-with-SHA256, parameters absent (RFC 5758 section 3.2).
        let ecdsa = [
            0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
        ];
        let a = attribute(&sha256, &ecdsa).unwrap();
        // SEQUENCE { id-aa-CMSAlgorithmProtection, SET { SEQUENCE { sha256, [1] ecdsa } } }.
        let oid = [
            0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x34,
        ];
        let tagged = [&[0xa1][..], &ecdsa[1..]].concat();
        let value = [&[0x30, 0x19][..], &sha256, &tagged].concat();
        let want = [&[0x30, 0x28][..], &oid, &[0x31, 0x1b], &value].concat();
        assert_eq!(a, want);
        assert!(attribute(&sha256, &[0x04, 0x00]).is_none());
        assert!(attribute(&sha256, &[0x30, 0x05]).is_none());
    }

    /// A signature made by the signer carries the attribute, equal to its own SignerInfo
    /// fields, and `openssl cms -verify` accepts it.
    #[test]
    fn in_every_signature_and_accepted_by_openssl() {
        use inkan_profiles::clock::Clock as _;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let now = inkan_profiles::clock::SystemClock.now().unwrap();
        let pki =
            inkan_hsm::devpki::DevPki::generate(now, inkan_hsm::devpki::KeyAlg::P384).unwrap();
        std::fs::write(d.join("eseal.key"), pki.eseal_key_pem.as_bytes()).unwrap();
        std::fs::write(d.join("chain.pem"), pki.eseal_chain_pem()).unwrap();
        std::fs::write(d.join("root.pem"), pki.root_pem()).unwrap();
        std::fs::write(d.join("data.txt"), b"sealed").unwrap();
        let keyref = d.join("eseal.key").display().to_string();
        let opts = crate::sign::Options::new(&keyref, &d.join("chain.pem"));
        let prepared = crate::sign::prepare(&opts, now).unwrap();
        let sig = prepared.sign_one(&d.join("data.txt"), false, now).unwrap();
        std::fs::write(d.join("data.p7s"), &sig).unwrap();

        let sd = inkan_profiles::asn1::cms::RawSignedData::parse(&sig).unwrap();
        let si = &sd.signer_infos[0];
        let a = si.signed_attr(&ID_AA_CMS_ALGORITHM_PROTECTION).unwrap();
        assert_eq!(
            Some(a.raw.clone()),
            attribute(&si.digest_algorithm, &si.signature_algorithm)
        );

        let out = std::process::Command::new("openssl")
            .args([
                "cms", "-verify", "-binary", "-inform", "DER", "-in", "data.p7s",
            ])
            .args([
                "-content", "data.txt", "-CAfile", "root.pem", "-purpose", "any",
            ])
            .args(["-out", "/dev/null"])
            .current_dir(d)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
