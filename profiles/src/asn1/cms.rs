//! CMS `SignedData` (RFC 5652 §5) read as raw elements over the byte-keeping [`tlv`] reader,
//! for verifiers and for extension by splicing (which must keep the original SignerInfo byte
//! for byte).
//!
//! Why not the `cms` crate: `cms` 0.3.0-rc.0 decodes SET OF into sorted sets (so the signed
//! attributes re-encode in another order than the one signed, and OpenSSL tokens that carry the
//! same certificate twice fail to decode), it refuses BER (`openssl cms -stream` writes
//! indefinite lengths), and it types `otherRevInfoFormat` as an AlgorithmIdentifier where
//! RFC 5652 §10.2.1 has an OBJECT IDENTIFIER, so any SignedData with an OCSP response in `crls`
//! (RFC 5940, CAdES B-LT) fails to decode at all.
//!
//! [`RawSignedData::parse`] walks a `ContentInfo` carrying `SignedData` (ours, OpenSSL's, or an
//! RFC 3161 token), DER or BER, and keeps every element's original bytes, in received order,
//! duplicates kept. Reading is [`Rules::LOW_TAGS_ONLY`] (every tag in CMS, RFC 3161 and OCSP
//! fits one octet), bounded in depth; errors name the element. Editing touches only the
//! `certificates`, `crls` and a `SignerInfo`'s `unsignedAttrs`; [`RawSignedData::encode`] then
//! rebuilds the outer layers with definite lengths around the untouched originals. The part of
//! a `SignerInfo` from `version` to `signature` is one opaque byte string,
//! [`RawSignerInfo::signed_part`]: it is never decoded into types and re-encoded.

use const_oid::ObjectIdentifier;

use crate::asn1::tlv::{self, Rules, Tlv, TlvError, encode, encode_parts, tag};

/// id-signedData, id-data (RFC 5652) and id-ri-ocsp-response (RFC 5940 section 4.1).
pub use crate::oid::{ID_DATA, ID_RI_OCSP_RESPONSE, ID_SIGNED_DATA};

/// An attribute, kept as its type and the raw encodings of its values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawAttribute {
    /// attrType.
    pub oid: ObjectIdentifier,
    /// The DER of the attrType OBJECT IDENTIFIER as found (tag and length included).
    pub oid_raw: Vec<u8>,
    /// Each AttributeValue, as found (tag and length included).
    pub values: Vec<Vec<u8>>,
    /// The whole Attribute as found, or as built.
    pub raw: Vec<u8>,
}

impl RawAttribute {
    /// A new attribute with one value.
    pub fn new(oid: ObjectIdentifier, value: Vec<u8>) -> Self {
        let oid_raw = tlv::encode_oid(&oid);
        let raw = encode_parts(tag::SEQUENCE, &[oid_raw.clone(), encode(tag::SET, &value)]);
        Self {
            oid,
            oid_raw,
            values: vec![value],
            raw,
        }
    }

    fn parse(t: &Tlv<'_>) -> Result<Self, TlvError> {
        let mut r = t.expect_named(tag::SEQUENCE, "Attribute")?.children();
        let o = r.expect_named(tag::OID, "Attribute.attrType")?;
        let set = r.expect_named(tag::SET, "Attribute.attrValues")?;
        r.finish("Attribute")?;
        Ok(Self {
            oid: o.oid()?,
            oid_raw: o.raw.to_vec(),
            values: set.elements()?.iter().map(|v| v.raw.to_vec()).collect(),
            raw: t.raw.to_vec(),
        })
    }
}

/// One `SignerInfo`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawSignerInfo {
    /// The original bytes of `version`, `sid`, `digestAlgorithm`, `signedAttrs`,
    /// `signatureAlgorithm` and `signature`, concatenated exactly as found.
    pub signed_part: Vec<u8>,
    /// The SignerInfo version.
    pub version: u64,
    /// The raw `sid` element.
    pub sid: Vec<u8>,
    /// The raw digestAlgorithm AlgorithmIdentifier.
    pub digest_algorithm: Vec<u8>,
    /// The raw `[0] IMPLICIT signedAttrs`, if present.
    pub signed_attrs: Option<Vec<u8>>,
    /// The signed attributes, parsed (for reading only).
    pub signed_attributes: Vec<RawAttribute>,
    /// The raw signatureAlgorithm AlgorithmIdentifier.
    pub signature_algorithm: Vec<u8>,
    /// The signature value octets.
    pub signature: Vec<u8>,
    /// The unsigned attributes, in order of appearance.
    pub unsigned_attrs: Vec<RawAttribute>,
}

impl RawSignerInfo {
    fn parse(t: &Tlv<'_>) -> Result<Self, TlvError> {
        let t = t.expect_named(tag::SEQUENCE, "SignerInfo")?;
        let mut r = t.children();
        let version = r.expect_named(tag::INTEGER, "SignerInfo.version")?;
        let sid = r.next_named("SignerInfo.sid")?;
        let dig = r.expect_named(tag::SEQUENCE, "SignerInfo.digestAlgorithm")?;
        let sattrs = r.optional(tag::CTX0)?;
        let salg = r.expect_named(tag::SEQUENCE, "SignerInfo.signatureAlgorithm")?;
        let sig = r.next_named("SignerInfo.signature")?;
        let signature = sig.octet_string()?.into_owned();
        let uattrs = r.optional(tag::CTX1)?;
        r.finish("SignerInfo")?;
        // The signed part runs from the start of `version` to the end of `signature`.
        let start = version.raw.as_ptr() as usize - t.value.as_ptr() as usize;
        let end = sig.raw.as_ptr() as usize + sig.raw.len() - t.value.as_ptr() as usize;
        let signed_attributes = match &sattrs {
            Some(s) => s
                .elements()?
                .iter()
                .map(RawAttribute::parse)
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        let unsigned_attrs = match uattrs {
            Some(u) => u
                .elements()?
                .iter()
                .map(RawAttribute::parse)
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        Ok(Self {
            signed_part: t.value[start..end].to_vec(),
            version: version.small_uint()?,
            sid: sid.raw.to_vec(),
            digest_algorithm: dig.raw.to_vec(),
            signed_attrs: sattrs.map(|s| s.raw.to_vec()),
            signed_attributes,
            signature_algorithm: salg.raw.to_vec(),
            signature,
            unsigned_attrs,
        })
    }

    /// The DER SignerInfo: the original signed part and the unsigned attributes in order.
    pub fn encode(&self) -> Vec<u8> {
        let mut parts = vec![self.signed_part.clone()];
        if !self.unsigned_attrs.is_empty() {
            let attrs: Vec<&[u8]> = self.unsigned_attrs.iter().map(|a| &a.raw[..]).collect();
            parts.push(encode_parts(tag::CTX1, &attrs));
        }
        encode_parts(tag::SEQUENCE, &parts)
    }

    /// The first signed attribute of type `oid`.
    pub fn signed_attr(&self, oid: &ObjectIdentifier) -> Option<&RawAttribute> {
        self.signed_attributes.iter().find(|a| &a.oid == oid)
    }

    /// The signed attributes as the DER `SET OF` that the signature covers (RFC 5652
    /// section 5.4: the `[0]` tag replaced by the SET tag, the original contents kept).
    pub fn signed_attrs_for_signature(&self) -> Option<Vec<u8>> {
        let raw = self.signed_attrs.as_ref()?;
        let t = tlv::parse_exact_with(raw, Rules::LOW_TAGS_ONLY).ok()?;
        Some(encode(tag::SET, t.value))
    }

    /// Appends an unsigned attribute.
    pub fn push_unsigned(&mut self, attr: RawAttribute) {
        self.unsigned_attrs.push(attr);
    }
}

/// A `ContentInfo` holding `SignedData`, as raw parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawSignedData {
    /// The SignedData version as found.
    pub version: u64,
    /// The raw DigestAlgorithmIdentifier elements.
    pub digest_algorithms: Vec<Vec<u8>>,
    /// The raw encapContentInfo.
    pub encap: Vec<u8>,
    /// eContentType.
    pub econtent_type: ObjectIdentifier,
    /// The raw eContentType OBJECT IDENTIFIER element.
    pub econtent_type_raw: Vec<u8>,
    /// The eContent octets, if the content is encapsulated.
    pub econtent: Option<Vec<u8>>,
    /// Each CertificateChoices, raw.
    pub certificates: Vec<Vec<u8>>,
    /// Each RevocationInfoChoice, raw.
    pub crls: Vec<Vec<u8>>,
    /// The signer infos.
    pub signer_infos: Vec<RawSignerInfo>,
}

impl RawSignedData {
    /// Parses a `ContentInfo` (DER or BER) whose content is SignedData.
    pub fn parse(input: &[u8]) -> Result<Self, TlvError> {
        let ci = tlv::parse_exact_with(input, Rules::LOW_TAGS_ONLY)?
            .expect_named(tag::SEQUENCE, "ContentInfo")?;
        let mut r = ci.children();
        let ct = r.expect_named(tag::OID, "ContentInfo.contentType")?;
        if ct.oid()? != ID_SIGNED_DATA {
            return Err(TlvError::new("ContentInfo does not hold SignedData"));
        }
        let explicit = r.expect_named(tag::CTX0, "ContentInfo.content")?;
        r.finish("ContentInfo")?;
        let mut er = explicit.children();
        let sd = er.expect_named(tag::SEQUENCE, "SignedData")?;
        er.finish("ContentInfo.content")?;
        let mut r = sd.children();
        let version = r
            .expect_named(tag::INTEGER, "SignedData.version")?
            .small_uint()?;
        let dig = r.expect_named(tag::SET, "SignedData.digestAlgorithms")?;
        let encap = r.expect_named(tag::SEQUENCE, "SignedData.encapContentInfo")?;
        let certs = r.optional(tag::CTX0)?;
        let crls = r.optional(tag::CTX1)?;
        let sis = r.expect_named(tag::SET, "SignedData.signerInfos")?;
        r.finish("SignedData")?;

        let mut er = encap.children();
        let ect = er.expect_named(tag::OID, "EncapsulatedContentInfo.eContentType")?;
        let econtent = match er.optional(tag::CTX0)? {
            Some(x) => {
                let mut xr = x.children();
                let os = xr.next_named("eContent")?;
                xr.finish("eContent")?;
                Some(os.octet_string()?.into_owned())
            }
            None => None,
        };
        er.finish("EncapsulatedContentInfo")?;
        let raws = |t: Option<Tlv<'_>>| -> Result<Vec<Vec<u8>>, TlvError> {
            Ok(match t {
                Some(t) => t.elements()?.iter().map(|c| c.raw.to_vec()).collect(),
                None => Vec::new(),
            })
        };
        Ok(Self {
            version,
            digest_algorithms: dig.elements()?.iter().map(|c| c.raw.to_vec()).collect(),
            encap: encap.raw.to_vec(),
            econtent_type: ect.oid()?,
            econtent_type_raw: ect.raw.to_vec(),
            econtent,
            certificates: raws(certs)?,
            crls: raws(crls)?,
            signer_infos: sis
                .elements()?
                .iter()
                .map(RawSignerInfo::parse)
                .collect::<Result<_, _>>()?,
        })
    }

    /// Adds a certificate (a DER `Certificate`) unless an identical one is present.
    pub fn add_certificate(&mut self, der: &[u8]) -> bool {
        if self.certificates.iter().any(|c| c == der) {
            return false;
        }
        self.certificates.push(der.to_vec());
        true
    }

    /// Adds a CRL (a DER `CertificateList`) unless an identical one is present.
    pub fn add_crl(&mut self, der: &[u8]) -> bool {
        if self.crls.iter().any(|c| c == der) {
            return false;
        }
        self.crls.push(der.to_vec());
        true
    }

    /// Adds an OCSP response (a DER `OCSPResponse`) as `[1] OtherRevocationInfoFormat` with
    /// id-ri-ocsp-response (RFC 5940 section 4.1), unless an identical one is present.
    pub fn add_ocsp(&mut self, der: &[u8]) -> bool {
        let other = encode_parts(
            tag::CTX1,
            &[tlv::encode_oid(&ID_RI_OCSP_RESPONSE), der.to_vec()],
        );
        if self.crls.contains(&other) {
            return false;
        }
        self.crls.push(other);
        true
    }

    /// Adds a digest algorithm identifier (raw AlgorithmIdentifier) unless present.
    pub fn add_digest_algorithm(&mut self, alg: &[u8]) {
        if !self.digest_algorithms.iter().any(|d| d == alg) {
            self.digest_algorithms.push(alg.to_vec());
        }
    }

    /// The version RFC 5652 section 5.1 requires for the current contents (never lower than
    /// the version found).
    pub fn required_version(&self) -> u64 {
        let other_cert = self
            .certificates
            .iter()
            .any(|c| c.first() == Some(&tag::CTX3));
        let other_crl = self.crls.iter().any(|c| c.first() == Some(&tag::CTX1));
        let v = if other_cert || other_crl {
            5
        } else if self
            .certificates
            .iter()
            .any(|c| c.first() == Some(&tag::CTX2))
        {
            4
        } else if self
            .certificates
            .iter()
            .any(|c| c.first() == Some(&tag::CTX1))
            || self.signer_infos.iter().any(|s| s.version == 3)
            || self.econtent_type != ID_DATA
        {
            3
        } else {
            1
        };
        v.max(self.version)
    }

    /// The DER `ContentInfo`.
    pub fn encode(&self) -> Vec<u8> {
        let mut parts = vec![
            tlv::encode_uint(&self.required_version().to_be_bytes()),
            tlv::der_set_of(
                tag::SET,
                &self
                    .digest_algorithms
                    .iter()
                    .map(Vec::as_slice)
                    .collect::<Vec<_>>(),
            ),
            self.encap.clone(),
        ];
        if !self.certificates.is_empty() {
            parts.push(encode_parts(tag::CTX0, &self.certificates));
        }
        if !self.crls.is_empty() {
            parts.push(encode_parts(tag::CTX1, &self.crls));
        }
        let sis: Vec<Vec<u8>> = self.signer_infos.iter().map(|s| s.encode()).collect();
        parts.push(encode_parts(tag::SET, &sis));
        let sd = encode_parts(tag::SEQUENCE, &parts);
        encode_parts(
            tag::SEQUENCE,
            &[tlv::encode_oid(&ID_SIGNED_DATA), encode(tag::CTX0, &sd)],
        )
    }
}

impl RawSignedData {
    /// The certificates' DER (CertificateChoices that are plain certificates), in received
    /// order, duplicates kept.
    pub fn certificates_der(&self) -> Vec<Vec<u8>> {
        self.certificates
            .iter()
            .filter(|c| c.first() == Some(&tag::SEQUENCE))
            .cloned()
            .collect()
    }

    /// The revocation information (`crls`), classified.
    pub fn revocation_info(&self) -> Result<Vec<RevocationInfo>, TlvError> {
        self.crls
            .iter()
            .map(|c| RevocationInfo::from_element(c))
            .collect()
    }

    /// The TSTInfo bytes when this is an RFC 3161 token (eContentType id-ct-TSTInfo).
    pub fn tst_info_der(&self) -> Option<&[u8]> {
        if self.econtent_type == crate::oid::ID_CT_TST_INFO {
            self.econtent.as_deref()
        } else {
            None
        }
    }
}

/// One element of `SignedData.crls` (RFC 5652 §10.2.1):
/// `RevocationInfoChoice ::= CHOICE { crl CertificateList, other [1] IMPLICIT
/// OtherRevocationInfoFormat }`, with `OtherRevocationInfoFormat ::= SEQUENCE {
/// otherRevInfoFormat OBJECT IDENTIFIER, otherRevInfo ANY DEFINED BY otherRevInfoFormat }`.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum RevocationInfo {
    /// A CRL (a `CertificateList`), as received.
    Crl(Vec<u8>),
    /// Another format: its OID and the value's encoding as received.
    Other {
        /// otherRevInfoFormat.
        format: ObjectIdentifier,
        /// otherRevInfo (an OCSPResponse under id-ri-ocsp-response, RFC 5940 §4).
        value: Vec<u8>,
    },
}

impl RevocationInfo {
    /// Classifies one raw element of `crls`.
    pub fn from_element(raw: &[u8]) -> Result<Self, TlvError> {
        let t = tlv::parse_exact_with(raw, Rules::LOW_TAGS_ONLY)?;
        match t.tag {
            tag::SEQUENCE => Ok(RevocationInfo::Crl(raw.to_vec())),
            tag::CTX1 => {
                let mut r = t.children();
                let format = r
                    .expect_named(tag::OID, "OtherRevocationInfoFormat.otherRevInfoFormat")?
                    .oid()?;
                let value = r.next_named("OtherRevocationInfoFormat.otherRevInfo")?;
                r.finish("OtherRevocationInfoFormat")?;
                Ok(RevocationInfo::Other {
                    format,
                    value: value.raw.to_vec(),
                })
            }
            t => Err(TlvError::new(format!(
                "RevocationInfoChoice: unexpected tag {t:#04x}"
            ))),
        }
    }

    /// The OCSP response bytes, when this is an id-ri-ocsp-response.
    pub fn ocsp_response_der(&self) -> Option<&[u8]> {
        match self {
            RevocationInfo::Other { format, value } if *format == ID_RI_OCSP_RESPONSE => {
                Some(value)
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
        let RevocationInfo::Other { format, value } = self else {
            return None;
        };
        if *format == ID_RI_OCSP_RESPONSE {
            Some(
                OcspResponse::parse(value)
                    .map_err(Into::into)
                    .and_then(|r| r.basic()),
            )
        } else if *format == crate::oid::ID_PKIX_OCSP_BASIC {
            Some(BasicOcspResponse::parse(value).map_err(Into::into))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alg::SignatureAlgorithm;
    use crate::asn1::ocsp::tests::{ocsp_fixture, openssl};
    use crate::verify::verify_signature;
    use der::{Decode, Encode};
    use spki::AlgorithmIdentifierOwned;

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
        let sd = RawSignedData::parse(&plain).unwrap();
        assert_eq!(sd.certificates_der().len(), 2);
        assert!(sd.certificates_der().contains(&f.ca_der));
        assert!(sd.certificates_der().contains(&f.ee_der));
        assert_eq!(sd.econtent.as_deref(), Some(&b"hello"[..]));
        assert_eq!(sd.tst_info_der(), None);
        // Re-encoding is byte-identical.
        assert_eq!(sd.encode(), plain);
        // A duplicate (as OpenSSL's ts -reply writes) is kept, in received order.
        let mut dup = sd.clone();
        dup.certificates.push(dup.certificates[0].clone());
        let dup = RawSignedData::parse(&dup.encode()).unwrap();
        assert_eq!(dup.certificates_der().len(), 3);
        assert_eq!(dup.certificates[2], dup.certificates[0]);

        // The signature over the signed attributes verifies from the received bytes.
        let si = &sd.signer_infos[0];
        let signed = si.signed_attrs_for_signature().unwrap();
        let raws: Vec<&[u8]> = si.signed_attributes.iter().map(|a| &a.raw[..]).collect();
        assert!(raws.windows(2).all(|w| w[0] < w[1]), "DER order");
        let alg = SignatureAlgorithm::from_signer_info(
            &AlgorithmIdentifierOwned::from_der(&si.signature_algorithm).unwrap(),
            &AlgorithmIdentifierOwned::from_der(&si.digest_algorithm).unwrap(),
        )
        .unwrap();
        let ca = <x509_cert::Certificate as Decode>::from_der(&f.ca_der).unwrap();
        let spki = ca
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .unwrap();
        assert_eq!(
            verify_signature(&spki, &alg, &signed, &si.signature),
            Ok(())
        );
        assert!(si.signed_attr(&crate::oid::ID_MESSAGE_DIGEST).is_some());

        // Add an OCSP response as id-ri-ocsp-response and read it back.
        let mut with_ocsp = sd.clone();
        assert!(with_ocsp.add_ocsp(&f.resp));
        assert!(!with_ocsp.add_ocsp(&f.resp), "added once");
        assert_eq!(with_ocsp.crls[0][0], 0xa1);
        let der = with_ocsp.encode();
        let back = RawSignedData::parse(&der).unwrap();
        let ri = back.revocation_info().unwrap();
        assert_eq!(ri[0].ocsp_response_der().unwrap(), &f.resp[..]);
        assert!(ri[0].ocsp_basic().unwrap().is_ok());
        // RFC 5652 §5.1: an other RevocationInfoChoice makes the version 5.
        assert_eq!(back.version, 5);
        // And OpenSSL reads it (cms -cmsout -print shows the other format).
        std::fs::write(d.join("ocsp.p7s"), &der).unwrap();
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
        let cms_result = <cms::content_info::ContentInfo as Decode>::from_der(&der)
            .and_then(|c| c.content.decode_as::<cms::signed_data::SignedData>());
        assert!(
            cms_result.is_err(),
            "cms 0.3.0-rc.0 now reads OCSP in crls: this note can go"
        );
    }

    #[test]
    fn ber_input_is_read_and_written_definite() {
        // ContentInfo { id-signedData, [0] { SignedData (indefinite) { version 1,
        // digestAlgorithms {}, encapContentInfo { id-data, [0] { OCTET STRING segments } },
        // signerInfos {} } } }
        let data_oid = tlv::encode_oid(&ID_DATA);
        let mut sd = vec![0x30, 0x80];
        sd.extend(tlv::encode_uint(&[1]));
        sd.extend([0x31, 0x00]);
        let segs = [0x24, 0x80, 0x04, 0x01, b'a', 0x04, 0x01, b'b', 0, 0];
        let encap = encode_parts(tag::SEQUENCE, &[data_oid, encode(tag::CTX0, &segs)]);
        sd.extend(encap);
        sd.extend([0x31, 0x00, 0, 0]);
        let ci = encode_parts(
            tag::SEQUENCE,
            &[tlv::encode_oid(&ID_SIGNED_DATA), encode(tag::CTX0, &sd)],
        );
        let p = RawSignedData::parse(&ci).unwrap();
        assert_eq!(p.econtent.as_deref(), Some(&b"ab"[..]));
        let out = p.encode();
        assert!(!out.windows(2).any(|w| w == [0x30, 0x80]));
        assert_eq!(RawSignedData::parse(&out).unwrap().econtent, p.econtent);
    }

    #[test]
    fn garbage() {
        for bad in [&b""[..], &[0x30, 0x00], &[0x30, 0x80, 0, 0], &[0x31, 0x01]] {
            assert!(RawSignedData::parse(bad).is_err());
        }
        let e = RawSignedData::parse(&[0x30, 0x00]).unwrap_err();
        assert_eq!(e.message(), "ContentInfo.contentType: missing");
        assert!(RevocationInfo::from_element(&[0x04, 0x00]).is_err());
        assert!(RevocationInfo::from_element(&[0xa1, 0x00]).is_err());
    }
}
