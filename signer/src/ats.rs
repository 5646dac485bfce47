//! archive-time-stamp-v3 with ats-hash-index-v3 (ETSI EN 319 122-1 V1.3.1 sections 5.5.2 and
//! 5.5.3).
//!
//! ```text
//! id-aa-ets-archiveTimestampV3 OBJECT IDENTIFIER ::= { itu-t(0) identified-organization(4)
//!     etsi(0) electronic-signature-standard(1733) attributes(2) 4 }
//! id-aa-ATSHashIndex-v3 OBJECT IDENTIFIER ::= { itu-t(0) identified-organization(4)
//!     etsi(0) cades(19122) attributes(1) 5 }
//! ATSHashIndexV3 ::= SEQUENCE {
//!     hashIndAlgorithm             AlgorithmIdentifier,
//!     certificatesHashIndex        SEQUENCE OF OCTET STRING,
//!     crlsHashIndex                SEQUENCE OF OCTET STRING,
//!     unsignedAttrValuesHashIndex  SEQUENCE OF OCTET STRING }
//! ```
//!
//! * `certificatesHashIndex`: the hash of each `CertificateChoices` of the root
//!   `SignedData.certificates`, tag and length included, in order of appearance.
//! * `crlsHashIndex`: the hash of each `RevocationInfoChoice` of `SignedData.crls` (CRLs and
//!   `[1]` other formats such as OCSP), the same way.
//! * `unsignedAttrValuesHashIndex`: for every `AttributeValue` of every `Attribute` in the
//!   signer's `unsignedAttrs`, the hash of `attrType` (its DER, tag and length included)
//!   concatenated with that `AttributeValue` (its encoding, tag and length included).
//! * `hashIndAlgorithm` is always written (Annex D of V1.3.1 has no DEFAULT) and is the
//!   algorithm of the archive time stamp's message imprint.
//!
//! The message imprint of the archive time stamp (5.5.3) is the hash, under the same algorithm,
//! of the concatenation of:
//! 1. `SignedData.encapContentInfo.eContentType` (the OBJECT IDENTIFIER element as encoded);
//! 2. the hash of the signed data (the eContent octets, or the detached content);
//! 3. the `SignerInfo` fields `version`, `sid`, `digestAlgorithm`, `signedAttrs`,
//!    `signatureAlgorithm` and `signature`, in their original encoding and order;
//! 4. the `ATSHashIndexV3` value placed in the token (tag and length included).
//!
//! The ats-hash-index-v3 goes, as an unsigned attribute, into the `SignerInfo` of the archive
//! time-stamp token itself.

//! The computation itself is [`inkan_profiles::ats`], shared with the verifier; this module
//! feeds it the raw pieces of a [`RawSignedData`] and [`RawSignerInfo`].

use inkan_profiles::alg::DigestAlgorithm;
use inkan_profiles::ats;

use inkan_profiles::asn1::cms::{RawSignedData, RawSignerInfo};

/// id-aa-ets-archiveTimestampV3 and id-aa-ATSHashIndex-v3 (EN 319 122-1 5.5.2, 5.5.3).
pub use inkan_profiles::oid::{ID_AA_ATS_HASH_INDEX_V3, ID_AA_ETS_ARCHIVE_TIMESTAMP_V3};

/// The DER `ATSHashIndexV3` for signer `si` of `sd`, as they are now.
pub fn hash_index_v3(sd: &RawSignedData, si: &RawSignerInfo, alg: DigestAlgorithm) -> Vec<u8> {
    ats::hash_index_v3(
        alg,
        sd.certificates.iter().map(Vec::as_slice),
        sd.crls.iter().map(Vec::as_slice),
        si.unsigned_attrs.iter().flat_map(|a| {
            a.values
                .iter()
                .map(|v| (a.oid_raw.as_slice(), v.as_slice()))
        }),
    )
}

/// The input whose hash is the archive time stamp's message imprint (5.5.3).
/// `content_hash` is the hash of the signed content under `alg`.
pub fn imprint_input(
    sd: &RawSignedData,
    si: &RawSignerInfo,
    content_hash: &[u8],
    index: &[u8],
) -> Vec<u8> {
    ats::imprint_input(
        &sd.econtent_type_raw,
        content_hash,
        [si.signed_part.as_slice()],
        index,
    )
}
