//! OCSP messages (RFC 6960 §4.1.1, §4.2.1; the ASN.1 module of Appendix B.1 uses EXPLICIT
//! tags), for the verifier (responses embedded in signatures) and the signer's fetcher
//! (requests).
//!
//! [`BasicOcspResponse`] keeps `tbsResponseData` and the certificates as received, so the
//! responder's signature is checked over the original bytes.

use der::asn1::{BitString, Null, ObjectIdentifier, OctetString};
use der::{
    Any, Choice, Decode, DecodeValue, Encode, EncodeValue, Enumerated, FixedTag, Header, Length,
    Reader, Sequence, Tag, Writer,
};
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::Extensions;
use x509_cert::ext::pkix::CrlReason;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;

use crate::alg::{AlgError, DigestAlgorithm};
use crate::asn1::tsp::GenTime;
use crate::oid;

/// ```text
/// CertID ::= SEQUENCE {
///     hashAlgorithm       AlgorithmIdentifier,
///     issuerNameHash      OCTET STRING, -- Hash of issuer's DN
///     issuerKeyHash       OCTET STRING, -- Hash of issuer's public key
///     serialNumber        CertificateSerialNumber }
/// ```
/// (RFC 6960 §4.1.1). SHA-1 is normal here and is only an identifier
/// ([`crate::policy::Policy::check_identification_digest`]).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct CertId {
    /// The hash algorithm of the two hashes.
    pub hash_algorithm: AlgorithmIdentifierOwned,
    /// Hash of the DER issuer Name.
    pub issuer_name_hash: OctetString,
    /// Hash of the issuer's subjectPublicKey BIT STRING value (without tag, length, unused bits).
    pub issuer_key_hash: OctetString,
    /// The certificate's serial number.
    pub serial_number: SerialNumber,
}

impl CertId {
    /// The CertID of the certificate with `serial`, issued by the CA whose DER subject Name is
    /// `issuer_name_der` and whose subjectPublicKey bits are `issuer_key_bits`.
    pub fn new(
        alg: DigestAlgorithm,
        issuer_name_der: &[u8],
        issuer_key_bits: &[u8],
        serial: SerialNumber,
    ) -> der::Result<Self> {
        Ok(Self {
            hash_algorithm: alg.to_algorithm_identifier(),
            issuer_name_hash: OctetString::new(alg.digest(issuer_name_der))?,
            issuer_key_hash: OctetString::new(alg.digest(issuer_key_bits))?,
            serial_number: serial,
        })
    }

    /// The hash algorithm.
    pub fn algorithm(&self) -> Result<DigestAlgorithm, AlgError> {
        DigestAlgorithm::from_algorithm_identifier(&self.hash_algorithm)
    }

    /// Whether this CertID names the same certificate as `other`, possibly computed with
    /// another hash: same serial, and the hashes match when recomputed from the issuer's name
    /// and key with this CertID's algorithm.
    pub fn matches(
        &self,
        issuer_name_der: &[u8],
        issuer_key_bits: &[u8],
        serial: &SerialNumber,
    ) -> bool {
        let Ok(d) = self.algorithm() else {
            return false;
        };
        self.serial_number == *serial
            && d.digest(issuer_name_der) == self.issuer_name_hash.as_bytes()
            && d.digest(issuer_key_bits) == self.issuer_key_hash.as_bytes()
    }
}

/// ```text
/// Request ::= SEQUENCE {
///     reqCert                     CertID,
///     singleRequestExtensions     [0] EXPLICIT Extensions OPTIONAL }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct Request {
    /// The certificate asked about.
    pub req_cert: CertId,
    /// Extensions.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub single_request_extensions: Option<Extensions>,
}

/// ```text
/// TBSRequest ::= SEQUENCE {
///     version             [0] EXPLICIT Version DEFAULT v1,
///     requestorName       [1] EXPLICIT GeneralName OPTIONAL,
///     requestList             SEQUENCE OF Request,
///     requestExtensions   [2] EXPLICIT Extensions OPTIONAL }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TbsRequest {
    /// v1 = 0.
    #[asn1(
        context_specific = "0",
        tag_mode = "EXPLICIT",
        default = "Default::default"
    )]
    pub version: u8,
    /// Requestor.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub requestor_name: Option<GeneralName>,
    /// The requests.
    pub request_list: Vec<Request>,
    /// Extensions (the nonce goes here).
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    pub request_extensions: Option<Extensions>,
}

/// ```text
/// Signature ::= SEQUENCE {
///     signatureAlgorithm      AlgorithmIdentifier,
///     signature               BIT STRING,
///     certs               [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL}
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct OcspSignature {
    /// Algorithm.
    pub signature_algorithm: AlgorithmIdentifierOwned,
    /// Value.
    pub signature: BitString,
    /// Certificates, raw.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub certs: Option<Vec<Any>>,
}

/// ```text
/// OCSPRequest ::= SEQUENCE {
///     tbsRequest                  TBSRequest,
///     optionalSignature   [0]     EXPLICIT Signature OPTIONAL }
/// ```
/// (RFC 6960 §4.1.1)
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct OcspRequest {
    /// The request.
    pub tbs_request: TbsRequest,
    /// A signature over it (rare).
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub optional_signature: Option<OcspSignature>,
}

impl OcspRequest {
    /// An unsigned request for `cert_ids`, with an optional nonce extension
    /// (id-pkix-ocsp-nonce, value an OCTET STRING holding the nonce, RFC 8954 §2.1).
    pub fn new(cert_ids: Vec<CertId>, nonce: Option<&[u8]>) -> der::Result<Self> {
        let request_extensions = match nonce {
            None => None,
            Some(n) => Some(vec![x509_cert::ext::Extension {
                extn_id: oid::ID_PKIX_OCSP_NONCE,
                critical: false,
                extn_value: OctetString::new(OctetString::new(n)?.to_der()?)?,
            }]),
        };
        Ok(Self {
            tbs_request: TbsRequest {
                version: 0,
                requestor_name: None,
                request_list: cert_ids
                    .into_iter()
                    .map(|c| Request {
                        req_cert: c,
                        single_request_extensions: None,
                    })
                    .collect(),
                request_extensions,
            },
            optional_signature: None,
        })
    }

    /// Parse from untrusted bytes (a fuzzing entry point).
    pub fn parse(der: &[u8]) -> der::Result<Self> {
        Self::from_der(der)
    }
}

/// ```text
/// OCSPResponseStatus ::= ENUMERATED {
///     successful            (0),
///     malformedRequest      (1),
///     internalError         (2),
///     tryLater              (3),
///     sigRequired           (5),
///     unauthorized          (6) }
/// ```
#[derive(Clone, Copy, Debug, Eq, PartialEq, Enumerated)]
#[repr(u8)]
pub enum OcspResponseStatus {
    /// Response has valid confirmations.
    Successful = 0,
    /// Illegal confirmation request.
    MalformedRequest = 1,
    /// Internal error in issuer.
    InternalError = 2,
    /// Try again later.
    TryLater = 3,
    /// Must sign the request.
    SigRequired = 5,
    /// Request unauthorized.
    Unauthorized = 6,
}

/// ```text
/// ResponseBytes ::=       SEQUENCE {
///     responseType   OBJECT IDENTIFIER,
///     response       OCTET STRING }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct ResponseBytes {
    /// id-pkix-ocsp-basic in practice.
    pub response_type: ObjectIdentifier,
    /// DER of the response (a BasicOCSPResponse).
    pub response: OctetString,
}

/// ```text
/// OCSPResponse ::= SEQUENCE {
///     responseStatus         OCSPResponseStatus,
///     responseBytes          [0] EXPLICIT ResponseBytes OPTIONAL }
/// ```
/// (RFC 6960 §4.2.1)
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct OcspResponse {
    /// The status.
    pub response_status: OcspResponseStatus,
    /// The response, when successful.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub response_bytes: Option<ResponseBytes>,
}

/// Why an OCSP response could not be used as a basic response.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OcspError {
    /// DER decoding failed.
    Der(der::Error),
    /// The status is not `successful`.
    Status(OcspResponseStatus),
    /// `successful` without responseBytes.
    MissingBytes,
    /// A response type other than id-pkix-ocsp-basic.
    UnsupportedType(ObjectIdentifier),
}

impl std::fmt::Display for OcspError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OcspError::Der(e) => write!(f, "malformed OCSP response: {e}"),
            OcspError::Status(s) => write!(f, "OCSP responder answered {s:?}"),
            OcspError::MissingBytes => f.write_str("OCSP response without responseBytes"),
            OcspError::UnsupportedType(o) => write!(f, "unsupported OCSP response type {o}"),
        }
    }
}

impl std::error::Error for OcspError {}

impl From<der::Error> for OcspError {
    fn from(e: der::Error) -> Self {
        OcspError::Der(e)
    }
}

impl OcspResponse {
    /// Parse from untrusted bytes (a fuzzing entry point).
    pub fn parse(der: &[u8]) -> der::Result<Self> {
        Self::from_der(der)
    }

    /// The basic response inside a successful response.
    pub fn basic(&self) -> Result<BasicOcspResponse, OcspError> {
        if self.response_status != OcspResponseStatus::Successful {
            return Err(OcspError::Status(self.response_status));
        }
        let rb = self
            .response_bytes
            .as_ref()
            .ok_or(OcspError::MissingBytes)?;
        if rb.response_type != oid::ID_PKIX_OCSP_BASIC {
            return Err(OcspError::UnsupportedType(rb.response_type));
        }
        Ok(BasicOcspResponse::from_der(rb.response.as_bytes())?)
    }

    /// Wrap a basic response as a successful `OCSPResponse`.
    pub fn successful(basic: &BasicOcspResponse) -> der::Result<Self> {
        Ok(Self {
            response_status: OcspResponseStatus::Successful,
            response_bytes: Some(ResponseBytes {
                response_type: oid::ID_PKIX_OCSP_BASIC,
                response: OctetString::new(basic.to_der()?)?,
            }),
        })
    }
}

/// ```text
/// ResponderID ::= CHOICE {
///    byName   [1] Name,
///    byKey    [2] KeyHash }   -- SHA-1 of the responder's subjectPublicKey bits
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Choice)]
pub enum ResponderId {
    /// The responder's subject name.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", constructed = "true")]
    ByName(Name),
    /// SHA-1 of the responder's public key bits.
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", constructed = "true")]
    ByKey(OctetString),
}

/// ```text
/// RevokedInfo ::= SEQUENCE {
///     revocationTime              GeneralizedTime,
///     revocationReason    [0]     EXPLICIT CRLReason OPTIONAL }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct RevokedInfo {
    /// When.
    pub revocation_time: GenTime,
    /// Why.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub revocation_reason: Option<CrlReason>,
}

/// ```text
/// CertStatus ::= CHOICE {
///     good        [0]     IMPLICIT NULL,
///     revoked     [1]     IMPLICIT RevokedInfo,
///     unknown     [2]     IMPLICIT UnknownInfo }  -- NULL
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Choice)]
pub enum CertStatus {
    /// Not revoked (at thisUpdate).
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT")]
    Good(Null),
    /// Revoked.
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", constructed = "true")]
    Revoked(RevokedInfo),
    /// The responder does not know the certificate.
    #[asn1(context_specific = "2", tag_mode = "IMPLICIT")]
    Unknown(Null),
}

/// ```text
/// SingleResponse ::= SEQUENCE {
///     certID                       CertID,
///     certStatus                   CertStatus,
///     thisUpdate                   GeneralizedTime,
///     nextUpdate         [0]       EXPLICIT GeneralizedTime OPTIONAL,
///     singleExtensions   [1]       EXPLICIT Extensions OPTIONAL }
/// ```
/// Times are [`GenTime`]: fractional seconds from some responders are accepted.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SingleResponse {
    /// Which certificate.
    pub cert_id: CertId,
    /// Its status.
    pub cert_status: CertStatus,
    /// When the status was known to be correct.
    pub this_update: GenTime,
    /// When newer information will be available.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub next_update: Option<GenTime>,
    /// Extensions.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub single_extensions: Option<Extensions>,
}

/// ```text
/// ResponseData ::= SEQUENCE {
///    version              [0] EXPLICIT Version DEFAULT v1,
///    responderID              ResponderID,
///    producedAt               GeneralizedTime,
///    responses                SEQUENCE OF SingleResponse,
///    responseExtensions   [1] EXPLICIT Extensions OPTIONAL }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct ResponseData {
    /// v1 = 0.
    #[asn1(
        context_specific = "0",
        tag_mode = "EXPLICIT",
        default = "Default::default"
    )]
    pub version: u8,
    /// The responder.
    pub responder_id: ResponderId,
    /// When the response was signed.
    pub produced_at: GenTime,
    /// One per certificate.
    pub responses: Vec<SingleResponse>,
    /// Extensions (nonce).
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub response_extensions: Option<Extensions>,
}

impl ResponseData {
    /// The nonce extension's value (the inner OCTET STRING's content, RFC 8954 §2.1), if any.
    /// A nonce whose value is not an OCTET STRING is returned as the raw extension value.
    pub fn nonce(&self) -> Option<Vec<u8>> {
        let ext = self
            .response_extensions
            .as_ref()?
            .iter()
            .find(|e| e.extn_id == oid::ID_PKIX_OCSP_NONCE)?;
        let v = ext.extn_value.as_bytes();
        Some(OctetString::from_der(v).map_or_else(|_| v.to_vec(), |o| o.as_bytes().to_vec()))
    }
}

/// The wire form of [`BasicOcspResponse`], with `tbsResponseData` raw.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct RawBasicOcspResponse {
    tbs_response_data: Any,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: BitString,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    certs: Option<Vec<Any>>,
}

/// ```text
/// BasicOCSPResponse       ::= SEQUENCE {
///    tbsResponseData      ResponseData,
///    signatureAlgorithm   AlgorithmIdentifier,
///    signature            BIT STRING,
///    certs            [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
/// ```
/// (RFC 6960 §4.2.1). `tbs_response_data_der` is the exact encoding the signature covers;
/// `certs` are the raw certificates.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct BasicOcspResponse {
    /// The decoded response data.
    pub tbs_response_data: ResponseData,
    /// The response data exactly as received (what the signature covers).
    pub tbs_response_data_der: Vec<u8>,
    /// The signature algorithm.
    pub signature_algorithm: AlgorithmIdentifierOwned,
    /// The signature.
    pub signature: BitString,
    /// Certificates that help find and validate the responder's certificate.
    pub certs: Option<Vec<Any>>,
}

impl BasicOcspResponse {
    /// Parse from untrusted bytes (a fuzzing entry point).
    pub fn parse(der: &[u8]) -> der::Result<Self> {
        Self::from_der(der)
    }

    /// Build from response data (encoded here in DER) and a signature over that encoding.
    pub fn new(
        tbs: ResponseData,
        signature_algorithm: AlgorithmIdentifierOwned,
        signature: &[u8],
        certs: Option<Vec<Any>>,
    ) -> der::Result<Self> {
        Ok(Self {
            tbs_response_data_der: tbs.to_der()?,
            tbs_response_data: tbs,
            signature_algorithm,
            signature: BitString::from_bytes(signature)?,
            certs,
        })
    }

    fn raw(&self) -> der::Result<RawBasicOcspResponse> {
        Ok(RawBasicOcspResponse {
            tbs_response_data: Any::from_der(&self.tbs_response_data_der)?,
            signature_algorithm: self.signature_algorithm.clone(),
            signature: self.signature.clone(),
            certs: self.certs.clone(),
        })
    }
}

impl FixedTag for BasicOcspResponse {
    const TAG: Tag = Tag::Sequence;
}

impl<'a> DecodeValue<'a> for BasicOcspResponse {
    type Error = der::Error;
    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        let raw = RawBasicOcspResponse::decode_value(reader, header)?;
        let tbs_response_data_der = raw.tbs_response_data.to_der()?;
        let tbs_response_data = ResponseData::from_der(&tbs_response_data_der)?;
        Ok(Self {
            tbs_response_data,
            tbs_response_data_der,
            signature_algorithm: raw.signature_algorithm,
            signature: raw.signature,
            certs: raw.certs,
        })
    }
}

impl EncodeValue for BasicOcspResponse {
    fn value_len(&self) -> der::Result<Length> {
        self.raw()?.value_len()
    }
    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        self.raw()?.encode_value(writer)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    pub(crate) fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
        let o = Command::new("openssl")
            .current_dir(dir)
            .args(args)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        o.stdout
    }

    /// A CA, an end-entity certificate with serial 0x1234 revoked on 2024-01-01 for
    /// keyCompromise, an OpenSSL OCSP request for it (with nonce) and the CA's signed response.
    pub(crate) struct OcspFixture {
        pub dir: PathBuf,
        pub ca_der: Vec<u8>,
        pub ee_der: Vec<u8>,
        pub req: Vec<u8>,
        pub resp: Vec<u8>,
    }

    impl Drop for OcspFixture {
        fn drop(&mut self) {
            std::fs::remove_dir_all(&self.dir).ok();
        }
    }

    pub(crate) fn ocsp_fixture(tag: &str) -> OcspFixture {
        let dir = std::env::temp_dir().join(format!("inkan-ocsp-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let d = dir.as_path();
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-subj",
                "/CN=Test OCSP CA/O=inkan",
                "-days",
                "30",
            ],
        );
        openssl(
            d,
            &[
                "req",
                "-new",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "ee.key",
                "-subj",
                "/CN=EE",
                "-out",
                "ee.csr",
            ],
        );
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "ee.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-set_serial",
                "0x1234",
                "-days",
                "10",
                "-out",
                "ee.pem",
            ],
        );
        std::fs::write(
            d.join("index.txt"),
            "R\t301231000000Z\t240101000000Z,keyCompromise\t1234\tunknown\t/CN=EE\n",
        )
        .unwrap();
        openssl(
            d,
            &[
                "ocsp", "-issuer", "ca.pem", "-cert", "ee.pem", "-reqout", "req.der",
            ],
        );
        openssl(
            d,
            &[
                "ocsp",
                "-index",
                "index.txt",
                "-rsigner",
                "ca.pem",
                "-rkey",
                "ca.key",
                "-CA",
                "ca.pem",
                "-reqin",
                "req.der",
                "-respout",
                "resp.der",
                "-ndays",
                "1",
            ],
        );
        let ca_der = openssl(d, &["x509", "-in", "ca.pem", "-outform", "DER"]);
        let ee_der = openssl(d, &["x509", "-in", "ee.pem", "-outform", "DER"]);
        OcspFixture {
            req: std::fs::read(d.join("req.der")).unwrap(),
            resp: std::fs::read(d.join("resp.der")).unwrap(),
            dir,
            ca_der,
            ee_der,
        }
    }

    #[test]
    fn openssl_request_and_response() {
        let f = ocsp_fixture("rt");
        let ca = x509_cert::Certificate::from_der(&f.ca_der).unwrap();
        let ee = x509_cert::Certificate::from_der(&f.ee_der).unwrap();
        let issuer_name = ca.tbs_certificate().subject().to_der().unwrap();
        let issuer_key = ca
            .tbs_certificate()
            .subject_public_key_info()
            .subject_public_key
            .raw_bytes()
            .to_vec();
        let serial = ee.tbs_certificate().serial_number().clone();

        // Request: parse, re-encode byte for byte, CertID matches.
        let req = OcspRequest::parse(&f.req).unwrap();
        assert_eq!(req.to_der().unwrap(), f.req);
        let id = &req.tbs_request.request_list[0].req_cert;
        assert_eq!(id.algorithm(), Ok(DigestAlgorithm::Sha1));
        assert!(id.matches(&issuer_name, &issuer_key, &serial));
        let mine = CertId::new(
            DigestAlgorithm::Sha1,
            &issuer_name,
            &issuer_key,
            serial.clone(),
        )
        .unwrap();
        assert!(mine.matches(&issuer_name, &issuer_key, &serial));
        assert_eq!(mine.issuer_key_hash, id.issuer_key_hash);

        // Response: parse, status revoked with reason and time, nonce echoed, same bytes back.
        let resp = OcspResponse::parse(&f.resp).unwrap();
        assert_eq!(resp.to_der().unwrap(), f.resp);
        let basic = resp.basic().unwrap();
        let data = &basic.tbs_response_data;
        assert_eq!(data.responses.len(), 1);
        let single = &data.responses[0];
        assert!(single.cert_id.matches(&issuer_name, &issuer_key, &serial));
        match &single.cert_status {
            CertStatus::Revoked(r) => {
                assert_eq!(r.revocation_time.to_string(), "20240101000000Z");
                assert_eq!(r.revocation_reason, Some(CrlReason::KeyCompromise));
            }
            other => panic!("expected revoked, got {other:?}"),
        }
        assert!(single.next_update.is_some());
        let req_nonce = {
            let ext = req.tbs_request.request_extensions.as_ref().unwrap();
            let v = ext[0].extn_value.as_bytes();
            OctetString::from_der(v).unwrap().as_bytes().to_vec()
        };
        assert_eq!(data.nonce(), Some(req_nonce));
        assert!(matches!(data.responder_id, ResponderId::ByName(_)));
        // The signed bytes are a slice of the original message.
        assert!(
            f.resp
                .windows(basic.tbs_response_data_der.len())
                .any(|w| w == basic.tbs_response_data_der)
        );
        assert_eq!(
            OcspResponse::successful(&basic).unwrap().to_der().unwrap(),
            f.resp
        );
    }

    #[test]
    fn our_request_is_understood_by_openssl() {
        let f = ocsp_fixture("ours");
        let ca = x509_cert::Certificate::from_der(&f.ca_der).unwrap();
        let ee = x509_cert::Certificate::from_der(&f.ee_der).unwrap();
        let issuer_name = ca.tbs_certificate().subject().to_der().unwrap();
        let issuer_key = ca
            .tbs_certificate()
            .subject_public_key_info()
            .subject_public_key
            .raw_bytes()
            .to_vec();
        let id = CertId::new(
            DigestAlgorithm::Sha256,
            &issuer_name,
            &issuer_key,
            ee.tbs_certificate().serial_number().clone(),
        )
        .unwrap();
        let req = OcspRequest::new(vec![id], Some(&[1, 2, 3, 4, 5, 6, 7, 8])).unwrap();
        std::fs::write(f.dir.join("mine.der"), req.to_der().unwrap()).unwrap();
        let text = openssl(&f.dir, &["ocsp", "-reqin", "mine.der", "-req_text"]);
        let text = String::from_utf8_lossy(&text);
        assert!(text.contains("sha256"), "{text}");
        assert!(text.contains("Serial Number: 1234"), "{text}");
        assert!(text.contains("0102030405060708"), "{text}");
        // And it answers it.
        openssl(
            &f.dir,
            &[
                "ocsp",
                "-index",
                "index.txt",
                "-rsigner",
                "ca.pem",
                "-rkey",
                "ca.key",
                "-CA",
                "ca.pem",
                "-reqin",
                "mine.der",
                "-respout",
                "mine-resp.der",
            ],
        );
        let resp = std::fs::read(f.dir.join("mine-resp.der")).unwrap();
        let basic = OcspResponse::parse(&resp).unwrap().basic().unwrap();
        assert_eq!(
            basic.tbs_response_data.nonce(),
            Some(vec![1, 2, 3, 4, 5, 6, 7, 8])
        );
    }

    #[test]
    fn error_statuses_and_garbage() {
        // tryLater: SEQUENCE { ENUMERATED 3 }
        let r = OcspResponse::parse(&[0x30, 0x03, 0x0a, 0x01, 0x03]).unwrap();
        assert_eq!(
            r.basic(),
            Err(OcspError::Status(OcspResponseStatus::TryLater))
        );
        let r = OcspResponse::parse(&[0x30, 0x03, 0x0a, 0x01, 0x00]).unwrap();
        assert_eq!(r.basic(), Err(OcspError::MissingBytes));
        assert!(OcspResponse::parse(&[0x30, 0x03, 0x0a, 0x01, 0x04]).is_err());
        for bad in [&b""[..], &[0x30, 0x00], &[0x30, 0x81]] {
            assert!(OcspResponse::parse(bad).is_err());
            assert!(OcspRequest::parse(bad).is_err());
            assert!(BasicOcspResponse::parse(bad).is_err());
        }
    }

    #[test]
    fn mutated_responses_never_panic() {
        let f = ocsp_fixture("mut");
        for seed in [&f.req, &f.resp] {
            for cut in 0..seed.len() {
                let b = &seed[..cut];
                let _ = OcspRequest::parse(b);
                let _ = OcspResponse::parse(b).map(|r| r.basic());
            }
            for i in 0..seed.len() {
                for x in [0x01u8, 0x80, 0xff] {
                    let mut b = seed.clone();
                    b[i] ^= x;
                    let _ = OcspRequest::parse(&b);
                    let _ = OcspResponse::parse(&b).map(|r| r.basic());
                    let _ = BasicOcspResponse::parse(&b);
                }
            }
        }
    }
}
