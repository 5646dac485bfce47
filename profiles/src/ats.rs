//! The archive-time-stamp-v3 computation of ETSI EN 319 122-1 V1.3.1 §5.5.2–5.5.3, shared by
//! the signer (which creates archive time-stamps) and the verifier (which checks them).
//!
//! Everything here works on raw bytes as they are in the signature, never re-encoded:
//!
//! * `certificatesHashIndex`: the hash of each `CertificateChoices` of the root
//!   `SignedData.certificates`, tag and length included, in order of appearance
//!   ([`element_hashes`]);
//! * `crlsHashIndex`: the hash of each `RevocationInfoChoice` of `SignedData.crls` (CRLs and
//!   `[1]` other formats such as OCSP), the same way ([`element_hashes`]);
//! * `unsignedAttrValuesHashIndex`: for every `AttributeValue` of every `Attribute` of the
//!   signer's `unsignedAttrs`, the hash of `attrType` (its DER, tag and length included)
//!   concatenated with that `AttributeValue` (tag and length included)
//!   ([`attr_value_hashes`]);
//! * the `ATSHashIndexV3` DER ([`hash_index_v3`], [`encode_hash_index_v3`]):
//!   `hashIndAlgorithm` is always written (Annex D of V1.3.1 has no DEFAULT; validators
//!   read it either way) and is the algorithm of the archive time-stamp's message imprint;
//! * the message-imprint input of §5.5.3 ([`imprint_input`]) and its hash ([`imprint`]): the
//!   concatenation of `encapContentInfo.eContentType` (the OBJECT IDENTIFIER element), the
//!   hash of the signed data (the eContent octets or the detached content), the SignerInfo
//!   fields `version`, `sid`, `digestAlgorithm`, `signedAttrs`, `signatureAlgorithm` and
//!   `signature` in their original encoding and order, and the `ATSHashIndexV3` value of the
//!   token (tag and length included).
//!
//! ```text
//! ATSHashIndexV3 ::= SEQUENCE {
//!     hashIndAlgorithm             AlgorithmIdentifier,
//!     certificatesHashIndex        SEQUENCE OF OCTET STRING,
//!     crlsHashIndex                SEQUENCE OF OCTET STRING,
//!     unsignedAttrValuesHashIndex  SEQUENCE OF OCTET STRING }
//! ```

use der::Encode as _;
use der::asn1::OctetString;

use crate::alg::DigestAlgorithm;
use crate::asn1::cades::AtsHashIndexV3;

/// The hash under `alg` of each element (a `CertificateChoices` or `RevocationInfoChoice`,
/// tag and length included), in order.
pub fn element_hashes<'a>(
    alg: DigestAlgorithm,
    elements: impl IntoIterator<Item = &'a [u8]>,
) -> Vec<Vec<u8>> {
    elements.into_iter().map(|e| alg.digest(e)).collect()
}

/// The hash under `alg` of `attrType ‖ AttributeValue` for each `(attrType DER, value DER)`
/// pair, in order: the `unsignedAttrValuesHashIndex` entries.
pub fn attr_value_hashes<'a>(
    alg: DigestAlgorithm,
    values: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
) -> Vec<Vec<u8>> {
    values
        .into_iter()
        .map(|(ty, v)| {
            let mut h = alg.hasher();
            h.update(ty);
            h.update(v);
            h.finalize()
        })
        .collect()
}

/// The DER `ATSHashIndexV3` with `hashIndAlgorithm` written, from hashes made under `alg`.
pub fn encode_hash_index_v3(
    alg: DigestAlgorithm,
    certs: Vec<Vec<u8>>,
    crls: Vec<Vec<u8>>,
    attrs: Vec<Vec<u8>>,
) -> Vec<u8> {
    // Invariant: a digest output always fits an OCTET STRING (at most 64 bytes).
    let octets = |v: Vec<Vec<u8>>| -> Vec<OctetString> {
        v.into_iter()
            .map(|h| OctetString::new(h).expect("a digest output fits an OCTET STRING"))
            .collect()
    };
    let ix = AtsHashIndexV3 {
        hash_ind_algorithm: Some(alg.to_algorithm_identifier()),
        certificates_hash_index: octets(certs),
        crls_hash_index: octets(crls),
        unsigned_attr_values_hash_index: octets(attrs),
    };
    // Invariant: the lengths come from in-memory hashes, far below the DER length limit.
    ix.to_der().expect("an ATSHashIndexV3 of digests encodes")
}

/// The DER `ATSHashIndexV3` under `alg` for the given certificates, revocation data and
/// unsigned `(attrType DER, AttributeValue DER)` pairs.
pub fn hash_index_v3<'a>(
    alg: DigestAlgorithm,
    certificates: impl IntoIterator<Item = &'a [u8]>,
    crls: impl IntoIterator<Item = &'a [u8]>,
    attr_values: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
) -> Vec<u8> {
    encode_hash_index_v3(
        alg,
        element_hashes(alg, certificates),
        element_hashes(alg, crls),
        attr_value_hashes(alg, attr_values),
    )
}

/// The input whose hash is the archive time-stamp's message imprint (§5.5.3):
/// `econtent_type` (the OID element), `content_hash` (the signed data's hash under the
/// imprint algorithm), the SignerInfo fields from `version` to `signature` as encoded (one
/// slice or several), and the `ATSHashIndexV3` DER.
pub fn imprint_input<'a>(
    econtent_type: &[u8],
    content_hash: &[u8],
    signer_info_fields: impl IntoIterator<Item = &'a [u8]> + Clone,
    index: &[u8],
) -> Vec<u8> {
    let fields: usize = signer_info_fields
        .clone()
        .into_iter()
        .map(<[u8]>::len)
        .sum();
    let mut out =
        Vec::with_capacity(econtent_type.len() + content_hash.len() + fields + index.len());
    out.extend_from_slice(econtent_type);
    out.extend_from_slice(content_hash);
    for f in signer_info_fields {
        out.extend_from_slice(f);
    }
    out.extend_from_slice(index);
    out
}

/// The archive time-stamp's message imprint under `alg`: the hash of [`imprint_input`].
pub fn imprint<'a>(
    alg: DigestAlgorithm,
    econtent_type: &[u8],
    content_hash: &[u8],
    signer_info_fields: impl IntoIterator<Item = &'a [u8]>,
    index: &[u8],
) -> Vec<u8> {
    let mut h = alg.hasher();
    h.update(econtent_type);
    h.update(content_hash);
    for f in signer_info_fields {
        h.update(f);
    }
    h.update(index);
    h.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Definite-length TLVs written by hand, so the test shares no code with the encoder under
    // test.
    use inkan_test_support::der_tlv as tlv;

    #[test]
    fn index_matches_a_hand_encoding() {
        let alg = DigestAlgorithm::Sha256;
        let certs: [&[u8]; 2] = [b"\x30\x01\x01", b"\x30\x01\x02"];
        let crls: [&[u8]; 1] = [b"\xa1\x01\x03"];
        let ty = b"\x06\x03\x2a\x03\x04";
        let vals: [(&[u8], &[u8]); 2] = [(ty, b"\x04\x01\x05"), (ty, b"\x04\x01\x06")];
        let der = hash_index_v3(alg, certs, crls, vals);

        let seq_of = |hs: Vec<Vec<u8>>| {
            tlv(
                0x30,
                &hs.iter().flat_map(|h| tlv(0x04, h)).collect::<Vec<u8>>(),
            )
        };
        let sha256_id = tlv(
            0x30,
            &tlv(
                0x06,
                &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01],
            ),
        );
        let want = tlv(
            0x30,
            &[
                sha256_id,
                seq_of(certs.iter().map(|c| alg.digest(c)).collect()),
                seq_of(crls.iter().map(|c| alg.digest(c)).collect()),
                seq_of(
                    vals.iter()
                        .map(|(t, v)| alg.digest(&[*t, *v].concat()))
                        .collect(),
                ),
            ]
            .concat(),
        );
        assert_eq!(der, want);
        let back = AtsHashIndexV3::parse(&der).unwrap();
        assert_eq!(back.hash_algorithm(), Ok(alg));
        assert_eq!(back.unsigned_attr_values_hash_index.len(), 2);
    }

    #[test]
    fn empty_index_under_sha512() {
        let none: [&[u8]; 0] = [];
        let der = hash_index_v3(DigestAlgorithm::Sha512, none, none, []);
        let back = AtsHashIndexV3::parse(&der).unwrap();
        assert_eq!(back.hash_algorithm(), Ok(DigestAlgorithm::Sha512));
        assert!(back.hash_ind_algorithm.is_some(), "always written");
        assert!(back.certificates_hash_index.is_empty());
        assert_eq!(&der[der.len() - 6..], &[0x30, 0, 0x30, 0, 0x30, 0]);
    }

    #[test]
    fn imprint_is_the_hash_of_the_concatenation() {
        let alg = DigestAlgorithm::Sha384;
        let fields: [&[u8]; 3] = [b"ver", b"sid", b"sig"];
        let input = imprint_input(b"ct", b"hash", fields, b"index");
        assert_eq!(input, b"cthashversidsigindex");
        assert_eq!(
            imprint(alg, b"ct", b"hash", fields, b"index"),
            alg.digest(&input)
        );
        // One slice for all the fields gives the same input.
        assert_eq!(
            imprint_input(b"ct", b"hash", [&b"versidsig"[..]], b"index"),
            input
        );
    }
}
