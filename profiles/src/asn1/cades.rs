//! CAdES attribute values (ETSI EN 319 122-1 V1.3.1 §5.2.9, §5.5.2, Annex A). The module
//! `ETS-ElectronicSignatureFormats-ExplicitSyntax88` uses EXPLICIT tags.
//!
//! Certificates and CRLs inside these values are kept as the original TLVs ([`Any`]): a
//! verifier checks signatures and computes ats-hash-index-v3 entries over the bytes as
//! received, never over a re-encoding.

use der::asn1::{Null, ObjectIdentifier, OctetString};
use der::{
    Any, Choice, Decode, DecodeValue, Encode, EncodeValue, FixedTag, Header, Length, Reader,
    Sequence, Tag, Tagged, Writer,
};
use spki::AlgorithmIdentifierOwned;

use crate::alg::{AlgError, DigestAlgorithm};

/// ```text
/// OtherHashAlgAndValue ::= SEQUENCE {
///     hashAlgorithm   AlgorithmIdentifier,
///     hashValue       OCTET STRING }
/// ```
/// (EN 319 122-1 §5.2.9.1)
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct OtherHashAlgAndValue {
    /// The hash algorithm.
    pub hash_algorithm: AlgorithmIdentifierOwned,
    /// The hash.
    pub hash_value: OctetString,
}

impl OtherHashAlgAndValue {
    /// Hash `data` with `alg`.
    pub fn of_data(alg: DigestAlgorithm, data: &[u8]) -> der::Result<Self> {
        Ok(Self {
            hash_algorithm: alg.to_algorithm_identifier(),
            hash_value: OctetString::new(alg.digest(data))?,
        })
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Result<DigestAlgorithm, AlgError> {
        DigestAlgorithm::from_algorithm_identifier(&self.hash_algorithm)
    }
}

/// ```text
/// OtherHash ::= CHOICE {
///     sha1Hash   OtherHashValue,  -- OCTET STRING, SHA-1
///     otherHash  OtherHashAlgAndValue }
/// ```
/// (EN 319 122-1 Annex A.1.1, legacy references)
#[derive(Clone, Debug, Eq, PartialEq, Choice)]
pub enum OtherHash {
    /// A SHA-1 hash.
    Sha1Hash(OctetString),
    /// Any other hash.
    OtherHash(OtherHashAlgAndValue),
}

/// ```text
/// SigPolicyQualifierInfo ::= SEQUENCE {
///     sigPolicyQualifierId  SigPolicyQualifierId,
///     sigQualifier          ANY DEFINED BY sigPolicyQualifierId }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SigPolicyQualifierInfo {
    /// The qualifier type (id-spq-ets-uri, id-spq-ets-unotice, ...).
    pub sig_policy_qualifier_id: ObjectIdentifier,
    /// The qualifier.
    pub sig_qualifier: Any,
}

/// ```text
/// SignaturePolicyId ::= SEQUENCE {
///     sigPolicyId           SigPolicyId,
///     sigPolicyHash         SigPolicyHash,
///     sigPolicyQualifiers   SEQUENCE SIZE (1..MAX) OF SigPolicyQualifierInfo OPTIONAL }
/// ```
/// (EN 319 122-1 §5.2.9.1). `sig_policy_hash` is read as optional: some signers leave it out.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SignaturePolicyId {
    /// The policy OID.
    pub sig_policy_id: ObjectIdentifier,
    /// The hash of the policy document.
    pub sig_policy_hash: Option<OtherHashAlgAndValue>,
    /// Qualifiers.
    pub sig_policy_qualifiers: Option<Vec<SigPolicyQualifierInfo>>,
}

/// ```text
/// SignaturePolicyIdentifier ::= CHOICE {
///     signaturePolicyId       SignaturePolicyId,
///     signaturePolicyImplied  SignaturePolicyImplied -- NULL }
/// ```
/// (EN 319 122-1 §5.2.9.1; attribute id-aa-ets-sigPolicyId)
#[derive(Clone, Debug, Eq, PartialEq, Choice)]
pub enum SignaturePolicyIdentifier {
    /// An explicit policy.
    SignaturePolicyId(SignaturePolicyId),
    /// The policy is implied by the context.
    SignaturePolicyImplied(Null),
}

/// ```text
/// CommitmentTypeIndication ::= SEQUENCE {
///     commitmentTypeId          CommitmentTypeIdentifier,
///     commitmentTypeQualifier   SEQUENCE SIZE (1..MAX) OF CommitmentTypeQualifier OPTIONAL }
/// ```
/// (EN 319 122-1 §5.2.3; qualifiers kept as raw values)
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct CommitmentTypeIndication {
    /// id-cti-ets-proofOfOrigin etc.
    pub commitment_type_id: ObjectIdentifier,
    /// Qualifiers.
    pub commitment_type_qualifier: Option<Vec<Any>>,
}

/// ```text
/// CertificateValues ::= SEQUENCE OF Certificate
/// ```
/// (EN 319 122-1 Annex A.1.3; attribute id-aa-ets-certValues). Raw certificates.
pub type CertificateValues = Vec<Any>;

/// ```text
/// OtherRevVals ::= SEQUENCE {
///     otherRevValType   OtherRevValType,
///     otherRevVals      ANY DEFINED BY otherRevValType }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct OtherRevVals {
    /// The type.
    pub other_rev_val_type: ObjectIdentifier,
    /// The values.
    pub other_rev_vals: Any,
}

/// ```text
/// RevocationValues ::= SEQUENCE {
///     crlVals       [0] SEQUENCE OF CertificateList OPTIONAL,
///     ocspVals      [1] SEQUENCE OF BasicOCSPResponse OPTIONAL,
///     otherRevVals  [2] OtherRevVals OPTIONAL }
/// ```
/// (EN 319 122-1 Annex A.1.4; attribute id-aa-ets-revocationValues). CRLs and BasicOCSPResponses
/// are kept raw; decode them with `x509_cert::crl::CertificateList` and
/// [`crate::asn1::ocsp::BasicOcspResponse`].
#[derive(Clone, Debug, Default, Eq, PartialEq, Sequence)]
pub struct RevocationValues {
    /// CRLs.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub crl_vals: Option<Vec<Any>>,
    /// BasicOCSPResponses.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub ocsp_vals: Option<Vec<Any>>,
    /// Other revocation values.
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    pub other_rev_vals: Option<OtherRevVals>,
}

impl RevocationValues {
    /// Parse from untrusted bytes (a fuzzing entry point).
    pub fn parse(der: &[u8]) -> der::Result<Self> {
        Self::from_der(der)
    }
}

/// ```text
/// ATSHashIndexV3 ::= SEQUENCE {
///     hashIndAlgorithm             AlgorithmIdentifier DEFAULT {algorithm id-sha256},
///     certificatesHashIndex        SEQUENCE OF OCTET STRING,
///     crlsHashIndex                SEQUENCE OF OCTET STRING,
///     unsignedAttrValuesHashIndex  SEQUENCE OF OCTET STRING }
/// ```
/// (EN 319 122-1 §5.5.2; attribute id-aa-ATSHashIndex-v3, an unsigned attribute of the
/// archive time-stamp token's SignerInfo.) `hash_ind_algorithm` is `None` when absent
/// (SHA-256). The first field and the second are both SEQUENCEs, so decoding looks at the
/// number of elements rather than at tags.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct AtsHashIndexV3 {
    /// The hash algorithm; `None` means the default SHA-256.
    pub hash_ind_algorithm: Option<AlgorithmIdentifierOwned>,
    /// Hashes of each `CertificateChoices` in `SignedData.certificates`, as encoded there.
    pub certificates_hash_index: Vec<OctetString>,
    /// Hashes of each `RevocationInfoChoice` in `SignedData.crls`.
    pub crls_hash_index: Vec<OctetString>,
    /// Hashes of each unsigned attribute value (see §5.5.2 for the exact input).
    pub unsigned_attr_values_hash_index: Vec<OctetString>,
}

impl AtsHashIndexV3 {
    /// The hash algorithm in effect.
    pub fn hash_algorithm(&self) -> Result<DigestAlgorithm, AlgError> {
        match &self.hash_ind_algorithm {
            None => Ok(DigestAlgorithm::Sha256),
            Some(ai) => DigestAlgorithm::from_algorithm_identifier(ai),
        }
    }

    /// An empty index for `alg` (the field left out for SHA-256, as DER requires).
    pub fn new(alg: DigestAlgorithm) -> Self {
        Self {
            hash_ind_algorithm: (alg != DigestAlgorithm::Sha256)
                .then(|| alg.to_algorithm_identifier()),
            ..Self::default()
        }
    }

    /// Parse from untrusted bytes (a fuzzing entry point).
    pub fn parse(der: &[u8]) -> der::Result<Self> {
        Self::from_der(der)
    }

    fn fields_len(&self) -> der::Result<Length> {
        let mut l = self.certificates_hash_index.encoded_len()?;
        l = (l + self.crls_hash_index.encoded_len()?)?;
        l = (l + self.unsigned_attr_values_hash_index.encoded_len()?)?;
        if let Some(a) = &self.hash_ind_algorithm {
            l = (l + a.encoded_len()?)?;
        }
        Ok(l)
    }
}

impl FixedTag for AtsHashIndexV3 {
    const TAG: Tag = Tag::Sequence;
}

impl<'a> DecodeValue<'a> for AtsHashIndexV3 {
    type Error = der::Error;
    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        let _ = header;
        let mut items: Vec<Any> = Vec::with_capacity(4);
        while !reader.is_finished() {
            if items.len() == 4 {
                return Err(reader.error(Tag::Sequence.length_error()));
            }
            items.push(Any::decode(reader)?);
        }
        let (alg, rest) = match items.len() {
            3 => (None, &items[..]),
            4 => (
                Some(items[0].decode_as::<AlgorithmIdentifierOwned>()?),
                &items[1..],
            ),
            _ => return Err(reader.error(Tag::Sequence.value_error())),
        };
        let list = |a: &Any| -> der::Result<Vec<OctetString>> {
            if a.tag() != Tag::Sequence {
                return Err(Tag::Sequence.value_error().into());
            }
            a.decode_as::<Vec<OctetString>>()
        };
        Ok(Self {
            hash_ind_algorithm: alg,
            certificates_hash_index: list(&rest[0])?,
            crls_hash_index: list(&rest[1])?,
            unsigned_attr_values_hash_index: list(&rest[2])?,
        })
    }
}

impl EncodeValue for AtsHashIndexV3 {
    fn value_len(&self) -> der::Result<Length> {
        self.fields_len()
    }
    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        if let Some(a) = &self.hash_ind_algorithm {
            a.encode(writer)?;
        }
        self.certificates_hash_index.encode(writer)?;
        self.crls_hash_index.encode(writer)?;
        self.unsigned_attr_values_hash_index.encode(writer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ats_hash_index_round_trip() {
        let mut idx = AtsHashIndexV3::new(DigestAlgorithm::Sha256);
        idx.certificates_hash_index
            .push(OctetString::new(DigestAlgorithm::Sha256.digest(b"c1")).unwrap());
        idx.unsigned_attr_values_hash_index
            .push(OctetString::new(DigestAlgorithm::Sha256.digest(b"a1")).unwrap());
        let der = idx.to_der().unwrap();
        assert_eq!(der[2], 0x30, "first element is the certificates list");
        let back = AtsHashIndexV3::parse(&der).unwrap();
        assert_eq!(back, idx);
        assert_eq!(back.hash_algorithm(), Ok(DigestAlgorithm::Sha256));

        let idx = AtsHashIndexV3::new(DigestAlgorithm::Sha512);
        let der = idx.to_der().unwrap();
        let back = AtsHashIndexV3::parse(&der).unwrap();
        assert_eq!(back.hash_algorithm(), Ok(DigestAlgorithm::Sha512));
        assert_eq!(back, idx);
        // SEQUENCE { SEQUENCE{} SEQUENCE{} }: too few fields.
        assert!(AtsHashIndexV3::parse(&[0x30, 0x04, 0x30, 0x00, 0x30, 0x00]).is_err());
        // Five fields: refused.
        assert!(
            AtsHashIndexV3::parse(&[0x30, 0x0a, 0x30, 0, 0x30, 0, 0x30, 0, 0x30, 0, 0x30, 0])
                .is_err()
        );
        // A list holding something other than OCTET STRINGs.
        assert!(
            AtsHashIndexV3::parse(&[0x30, 0x08, 0x30, 0x02, 0x05, 0x00, 0x30, 0, 0x30, 0]).is_err()
        );
    }

    #[test]
    fn revocation_values_and_policy() {
        let crl = Any::from_der(&[0x30, 0x03, 0x02, 0x01, 0x05]).unwrap();
        let rv = RevocationValues {
            crl_vals: Some(vec![crl.clone()]),
            ocsp_vals: None,
            other_rev_vals: None,
        };
        let der = rv.to_der().unwrap();
        assert_eq!(&der[..4], &[0x30, 0x09, 0xa0, 0x07]);
        assert_eq!(RevocationValues::parse(&der).unwrap(), rv);

        let spi = SignaturePolicyIdentifier::SignaturePolicyId(SignaturePolicyId {
            sig_policy_id: ObjectIdentifier::new_unwrap("1.2.3.4"),
            sig_policy_hash: Some(
                OtherHashAlgAndValue::of_data(DigestAlgorithm::Sha256, b"p").unwrap(),
            ),
            sig_policy_qualifiers: None,
        });
        let back = SignaturePolicyIdentifier::from_der(&spi.to_der().unwrap()).unwrap();
        assert_eq!(back, spi);
        let implied = SignaturePolicyIdentifier::from_der(&[0x05, 0x00]).unwrap();
        assert_eq!(
            implied,
            SignaturePolicyIdentifier::SignaturePolicyImplied(Null)
        );

        let oh = OtherHash::from_der(&[0x04, 0x01, 0xaa]).unwrap();
        assert!(matches!(oh, OtherHash::Sha1Hash(_)));
    }
}
