//! Lenient, byte-preserving reading of CMS `SignedData` (RFC 5652 §5), for verifiers and for
//! `extend` (which must keep the original SignerInfo byte for byte).
//!
//! Why not only the `cms` crate: `cms` 0.3.0-rc.0 decodes SET OF into sorted sets (so the
//! signed attributes re-encode in another order than the one signed, and OpenSSL tokens that
//! carry the same certificate twice fail to decode), and it types `otherRevInfoFormat` as an
//! AlgorithmIdentifier where RFC 5652 §10.2.1 has an OBJECT IDENTIFIER, so any SignedData with
//! an OCSP response in `crls` (RFC 5940, CAdES B-LT) fails to decode at all. Here every SET is
//! a [`RawSet`]: its elements as received, in received order, duplicates kept.

use der::asn1::{ObjectIdentifier, OctetString};
use der::{
    Any, Decode, DecodeValue, Encode, EncodeValue, FixedTag, Header, Length, Reader, Sequence, Tag,
    Tagged, Writer,
};
use spki::AlgorithmIdentifierOwned;

use crate::oid;

/// A SET OF whose elements are kept as received (order and duplicates), each as a raw TLV.
/// It re-encodes to the same bytes when the input was definite-length DER.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct RawSet(pub Vec<Any>);

impl FixedTag for RawSet {
    const TAG: Tag = Tag::Set;
}

impl<'a> DecodeValue<'a> for RawSet {
    type Error = der::Error;
    fn decode_value<R: Reader<'a>>(reader: &mut R, _header: Header) -> der::Result<Self> {
        let mut v = Vec::new();
        while !reader.is_finished() {
            v.push(Any::decode(reader)?);
        }
        Ok(Self(v))
    }
}

impl EncodeValue for RawSet {
    fn value_len(&self) -> der::Result<Length> {
        self.0
            .iter()
            .try_fold(Length::ZERO, |acc, a| acc + a.encoded_len()?)
    }
    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        for a in &self.0 {
            a.encode(writer)?;
        }
        Ok(())
    }
}

impl RawSet {
    /// Each element's DER bytes, in received order.
    pub fn elements_der(&self) -> Vec<Vec<u8>> {
        self.0.iter().filter_map(|a| a.to_der().ok()).collect()
    }

    /// The DER of this value as an explicit `SET OF` (tag 0x31), exactly the bytes a signature
    /// over signed attributes covers (RFC 5652 §5.4) when the elements came in DER order.
    pub fn to_set_der(&self) -> der::Result<Vec<u8>> {
        self.to_der()
    }

    /// Whether the elements are in DER order (X.690 §11.6: ascending encodings) with no
    /// duplicates; signed attributes must be.
    pub fn is_der_ordered(&self) -> bool {
        let e = self.elements_der();
        e.windows(2).all(|w| w[0] < w[1])
    }
}

/// ```text
/// Attribute ::= SEQUENCE {
///     attrType OBJECT IDENTIFIER,
///     attrValues SET OF AttributeValue }
/// ```
/// (RFC 5652 §5.3)
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct RawAttribute {
    /// The attribute type.
    pub oid: ObjectIdentifier,
    /// Its values, raw, in received order.
    pub values: RawSet,
}

/// ```text
/// EncapsulatedContentInfo ::= SEQUENCE {
///     eContentType ContentType,
///     eContent [0] EXPLICIT OCTET STRING OPTIONAL }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct RawEncapsulatedContentInfo {
    /// id-data, id-ct-TSTInfo, ...
    pub econtent_type: ObjectIdentifier,
    /// The content (absent when detached).
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub econtent: Option<OctetString>,
}

/// ```text
/// SignerInfo ::= SEQUENCE {
///     version CMSVersion,
///     sid SignerIdentifier,
///     digestAlgorithm DigestAlgorithmIdentifier,
///     signedAttrs [0] IMPLICIT SignedAttributes OPTIONAL,
///     signatureAlgorithm SignatureAlgorithmIdentifier,
///     signature SignatureValue,
///     unsignedAttrs [1] IMPLICIT UnsignedAttributes OPTIONAL }
/// ```
/// (RFC 5652 §5.3). `sid` is raw: decode it with `cms::signed_data::SignerIdentifier`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct RawSignerInfo {
    /// 1 (issuerAndSerialNumber) or 3 (subjectKeyIdentifier).
    pub version: u8,
    /// The signer identifier, raw.
    pub sid: Any,
    /// The digest algorithm.
    pub digest_alg: AlgorithmIdentifierOwned,
    /// Signed attributes, as received.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub signed_attrs: Option<RawSet>,
    /// The signature algorithm.
    pub signature_algorithm: AlgorithmIdentifierOwned,
    /// The signature value.
    pub signature: OctetString,
    /// Unsigned attributes, as received.
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub unsigned_attrs: Option<RawSet>,
}

impl RawSignerInfo {
    /// The signed attributes, decoded (each value still raw).
    pub fn signed_attributes(&self) -> der::Result<Vec<RawAttribute>> {
        attrs(self.signed_attrs.as_ref())
    }

    /// The unsigned attributes, decoded (each value still raw).
    pub fn unsigned_attributes(&self) -> der::Result<Vec<RawAttribute>> {
        attrs(self.unsigned_attrs.as_ref())
    }

    /// What the signature covers when signed attributes are present: their encoding with the
    /// SET OF tag (RFC 5652 §5.4), from the bytes as received.
    pub fn signed_attrs_for_signature(&self) -> Option<der::Result<Vec<u8>>> {
        self.signed_attrs.as_ref().map(RawSet::to_set_der)
    }
}

fn attrs(s: Option<&RawSet>) -> der::Result<Vec<RawAttribute>> {
    s.map_or(Ok(Vec::new()), |s| {
        s.0.iter().map(|a| a.decode_as::<RawAttribute>()).collect()
    })
}

/// ```text
/// OtherRevocationInfoFormat ::= SEQUENCE {
///     otherRevInfoFormat OBJECT IDENTIFIER,
///     otherRevInfo ANY DEFINED BY otherRevInfoFormat }
/// ```
/// (RFC 5652 §10.2.1; with id-ri-ocsp-response the value is an OCSPResponse, RFC 5940 §4)
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct OtherRevocationInfoFormat {
    /// The format.
    pub other_rev_info_format: ObjectIdentifier,
    /// The value.
    pub other_rev_info: Any,
}

/// One element of `SignedData.crls` (RFC 5652 §10.2.1):
/// `RevocationInfoChoice ::= CHOICE { crl CertificateList, other [1] IMPLICIT OtherRevocationInfoFormat }`.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum RevocationInfo {
    /// A CRL, raw (decode with `x509_cert::crl::CertificateList`).
    Crl(Any),
    /// Another format.
    Other(OtherRevocationInfoFormat),
}

impl RevocationInfo {
    /// Classify one raw element of `crls`.
    pub fn from_element(a: &Any) -> der::Result<Self> {
        if a.tag() == Tag::Sequence {
            return Ok(RevocationInfo::Crl(a.clone()));
        }
        if a.tag()
            == (Tag::ContextSpecific {
                constructed: true,
                number: der::TagNumber(1),
            })
        {
            // IMPLICIT: the SEQUENCE contents under the [1] tag.
            let mut seq = vec![0x30];
            Length::try_from(a.value().len())?.encode(&mut seq)?;
            seq.extend_from_slice(a.value());
            return Ok(RevocationInfo::Other(OtherRevocationInfoFormat::from_der(
                &seq,
            )?));
        }
        Err(a.tag().value_error().into())
    }

    /// The OCSP response bytes, when this is an id-ri-ocsp-response.
    pub fn ocsp_response_der(&self) -> Option<Vec<u8>> {
        match self {
            RevocationInfo::Other(o) if o.other_rev_info_format == oid::ID_RI_OCSP_RESPONSE => {
                o.other_rev_info.to_der().ok()
            }
            _ => None,
        }
    }

    /// The OCSP response carried here, as a basic response: id-ri-ocsp-response holds a full
    /// OCSPResponse (RFC 5940 §4); some CAdES signers (EU DSS) write id-pkix-ocsp-basic with a
    /// BasicOCSPResponse directly. `None` for CRLs and other formats.
    pub fn ocsp_basic(
        &self,
    ) -> Option<Result<crate::asn1::ocsp::BasicOcspResponse, crate::asn1::ocsp::OcspError>> {
        use crate::asn1::ocsp::{BasicOcspResponse, OcspResponse};
        let RevocationInfo::Other(o) = self else {
            return None;
        };
        let der = match o.other_rev_info.to_der() {
            Ok(d) => d,
            Err(e) => return Some(Err(e.into())),
        };
        if o.other_rev_info_format == oid::ID_RI_OCSP_RESPONSE {
            Some(
                OcspResponse::parse(&der)
                    .map_err(Into::into)
                    .and_then(|r| r.basic()),
            )
        } else if o.other_rev_info_format == oid::ID_PKIX_OCSP_BASIC {
            Some(BasicOcspResponse::parse(&der).map_err(Into::into))
        } else {
            None
        }
    }

    /// Encode as an element of `crls`: a CRL as is, other formats under `[1] IMPLICIT`.
    pub fn to_element_der(&self) -> der::Result<Vec<u8>> {
        match self {
            RevocationInfo::Crl(a) => a.to_der(),
            RevocationInfo::Other(o) => {
                let mut d = o.to_der()?;
                // SEQUENCE (0x30) becomes [1] constructed (0xa1); length and contents stay.
                d[0] = 0xa1;
                Ok(d)
            }
        }
    }

    /// An id-ri-ocsp-response element holding `ocsp_response_der` (an OCSPResponse).
    pub fn ocsp(ocsp_response_der: &[u8]) -> der::Result<Self> {
        Ok(RevocationInfo::Other(OtherRevocationInfoFormat {
            other_rev_info_format: oid::ID_RI_OCSP_RESPONSE,
            other_rev_info: Any::from_der(ocsp_response_der)?,
        }))
    }
}

/// ```text
/// SignedData ::= SEQUENCE {
///     version CMSVersion,
///     digestAlgorithms DigestAlgorithmIdentifiers,
///     encapContentInfo EncapsulatedContentInfo,
///     certificates [0] IMPLICIT CertificateSet OPTIONAL,
///     crls [1] IMPLICIT RevocationInfoChoices OPTIONAL,
///     signerInfos SignerInfos }
/// ```
/// (RFC 5652 §5.1), read leniently: SETs raw and in received order.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct RawSignedData {
    /// CMSVersion.
    pub version: u8,
    /// The digest algorithms, raw.
    pub digest_algorithms: RawSet,
    /// The content.
    pub encap_content_info: RawEncapsulatedContentInfo,
    /// CertificateChoices, raw (a certificate is a SEQUENCE; other choices are tagged).
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub certificates: Option<RawSet>,
    /// RevocationInfoChoices, raw; see [`Self::revocation_info`].
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub crls: Option<RawSet>,
    /// SignerInfos, raw; see [`Self::signer_infos`].
    pub signer_infos: RawSet,
}

/// `ContentInfo` for SignedData: `SEQUENCE { contentType, [0] EXPLICIT content }`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct RawContentInfo {
    content_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    content: Any,
}

impl RawSignedData {
    /// Parse a DER `ContentInfo` holding SignedData (a CMS signature, an RFC 3161 token) from
    /// untrusted bytes (a fuzzing entry point).
    pub fn from_content_info(der: &[u8]) -> der::Result<Self> {
        let ci = RawContentInfo::from_der(der)?;
        if ci.content_type != oid::ID_SIGNED_DATA {
            return Err(Tag::ObjectIdentifier.value_error().into());
        }
        ci.content.decode_as()
    }

    /// The signer infos, decoded, in received order.
    pub fn signer_infos(&self) -> der::Result<Vec<RawSignerInfo>> {
        self.signer_infos.0.iter().map(|a| a.decode_as()).collect()
    }

    /// The certificates' DER (CertificateChoices that are plain certificates), in received
    /// order, duplicates kept.
    pub fn certificates_der(&self) -> Vec<Vec<u8>> {
        self.certificates
            .as_ref()
            .map(|s| {
                s.0.iter()
                    .filter(|a| a.tag() == Tag::Sequence)
                    .filter_map(|a| a.to_der().ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The revocation information, classified.
    pub fn revocation_info(&self) -> der::Result<Vec<RevocationInfo>> {
        self.crls.as_ref().map_or(Ok(Vec::new()), |s| {
            s.0.iter().map(RevocationInfo::from_element).collect()
        })
    }

    /// The TSTInfo bytes when this is an RFC 3161 token.
    pub fn tst_info_der(&self) -> Option<&[u8]> {
        (self.encap_content_info.econtent_type == oid::ID_CT_TST_INFO)
            .then(|| {
                self.encap_content_info
                    .econtent
                    .as_ref()
                    .map(OctetString::as_bytes)
            })
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alg::SignatureAlgorithm;
    use crate::asn1::ocsp::tests::{ocsp_fixture, openssl};
    use crate::verify::verify_signature;

    #[test]
    fn openssl_cms_with_ocsp_in_crls_and_duplicate_certs() {
        let f = ocsp_fixture("cms");
        let d = f.dir.as_path();
        std::fs::write(d.join("data.txt"), b"hello").unwrap();
        // Sign with the CA key, carrying the CA certificate twice and the OCSP response.
        openssl(
            d,
            &[
                "cms",
                "-sign",
                "-binary",
                "-in",
                "data.txt",
                "-signer",
                "ca.pem",
                "-inkey",
                "ca.key",
                "-certfile",
                "ee.pem",
                "-outform",
                "DER",
                "-out",
                "s.p7s",
                "-nodetach",
            ],
        );
        let plain = std::fs::read(d.join("s.p7s")).unwrap();
        let sd = RawSignedData::from_content_info(&plain).unwrap();
        assert_eq!(sd.certificates_der().len(), 2);
        assert!(sd.certificates_der().contains(&f.ca_der));
        assert!(sd.certificates_der().contains(&f.ee_der));
        // A duplicate (as OpenSSL's ts -reply writes) is kept, in received order.
        let mut dup = sd.clone();
        let certs = dup.certificates.as_mut().unwrap();
        certs.0.push(certs.0[0].clone());
        let dup = RawSignedData::from_der(&dup.to_der().unwrap()).unwrap();
        assert_eq!(dup.certificates_der().len(), 3);
        // Re-encoding is byte-identical.
        let ci = RawContentInfo::from_der(&plain).unwrap();
        assert_eq!(sd.to_der().unwrap(), ci.content.to_der().unwrap());

        // The signature over the signed attributes verifies from the received bytes.
        let si = &sd.signer_infos().unwrap()[0];
        let signed = si.signed_attrs_for_signature().unwrap().unwrap();
        assert!(si.signed_attrs.as_ref().unwrap().is_der_ordered());
        let alg =
            SignatureAlgorithm::from_signer_info(&si.signature_algorithm, &si.digest_alg).unwrap();
        let ca = <x509_cert::Certificate as Decode>::from_der(&f.ca_der).unwrap();
        let spki = ca
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .unwrap();
        assert_eq!(
            verify_signature(&spki, &alg, &signed, si.signature.as_bytes()),
            Ok(())
        );
        let attrs = si.signed_attributes().unwrap();
        assert!(attrs.iter().any(|a| a.oid == oid::ID_MESSAGE_DIGEST));

        // Add an OCSP response as id-ri-ocsp-response and read it back.
        let mut with_ocsp = sd.clone();
        let el = RevocationInfo::ocsp(&f.resp)
            .unwrap()
            .to_element_der()
            .unwrap();
        assert_eq!(el[0], 0xa1);
        with_ocsp.crls = Some(RawSet(vec![Any::from_der(&el).unwrap()]));
        let der = with_ocsp.to_der().unwrap();
        let back: RawSignedData = RawSignedData::from_der(&der).unwrap();
        let ri = back.revocation_info().unwrap();
        assert_eq!(ri[0].ocsp_response_der().unwrap(), f.resp);
        assert!(ri[0].ocsp_basic().unwrap().is_ok());
        // And OpenSSL reads it (cms -cmsout -print shows the other format).
        let ci = RawContentInfo {
            content_type: oid::ID_SIGNED_DATA,
            content: Any::from_der(&der).unwrap(),
        };
        std::fs::write(d.join("ocsp.p7s"), ci.to_der().unwrap()).unwrap();
        let text = openssl(
            d,
            &[
                "cms", "-cmsout", "-print", "-inform", "DER", "-in", "ocsp.p7s",
            ],
        );
        let text = String::from_utf8_lossy(&text);
        assert!(
            text.contains("1.3.6.1.5.5.7.16.2") || text.contains("otherRevInfoFormat"),
            "{text}"
        );
        // The cms crate cannot read it (otherRevInfoFormat typed as AlgorithmIdentifier).
        let cms_result =
            <cms::content_info::ContentInfo as Decode>::from_der(&ci.to_der().unwrap())
                .and_then(|c| c.content.decode_as::<cms::signed_data::SignedData>());
        assert!(
            cms_result.is_err(),
            "cms 0.3.0-rc.0 now reads OCSP in crls: this note can go"
        );
    }

    #[test]
    fn garbage() {
        for bad in [&b""[..], &[0x30, 0x00], &[0x30, 0x80, 0, 0], &[0x31, 0x01]] {
            assert!(RawSignedData::from_content_info(bad).is_err());
        }
        assert!(RevocationInfo::from_element(&Any::from_der(&[0x04, 0x00]).unwrap()).is_err());
    }
}
