//! CMS SignedData (RFC 5652 §5), RFC 3161 TSTInfo and OCSP responses (RFC 6960) read raw,
//! keeping the original bytes of everything that is hashed or signed.

use const_oid::ObjectIdentifier;
use inkan_profiles::asn1::tsp::TstInfo;
use inkan_profiles::oid;

use crate::crypto::{AlgId, is};
use crate::tlv::{self, Tlv, tag};
use crate::x509::Certificate;

/// An owned AlgorithmIdentifier encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlgBuf(pub Vec<u8>);

impl AlgBuf {
    /// The parsed view.
    pub fn get(&self) -> tlv::Result<AlgId<'_>> {
        tlv::parse_exact(&self.0).and_then(|t| AlgId::parse(&t))
    }
}

/// One attribute: OID, the value encodings, and the whole attribute encoding.
#[derive(Clone, Debug)]
pub struct Attribute {
    /// The attribute type's OID content octets.
    pub oid: Vec<u8>,
    /// Each AttributeValue, as received.
    pub values: Vec<Vec<u8>>,
    /// The whole Attribute, as received.
    pub raw: Vec<u8>,
}

fn read_attributes(t: &Tlv<'_>) -> tlv::Result<Vec<Attribute>> {
    let mut out = Vec::new();
    for a in t.children() {
        let a = a?;
        let mut r = a.children();
        let oid = r.expect(tag::OID)?.value.to_vec();
        let set = r.next_tlv()?;
        let mut values = Vec::new();
        for v in set.children() {
            values.push(v?.raw.to_vec());
        }
        out.push(Attribute {
            oid,
            values,
            raw: a.raw.to_vec(),
        });
    }
    Ok(out)
}

/// The signer identifier.
#[derive(Clone, Debug)]
pub enum Sid {
    /// issuerAndSerialNumber: issuer Name encoding, serial content octets.
    IssuerSerial(Vec<u8>, Vec<u8>),
    /// subjectKeyIdentifier.
    Ski(Vec<u8>),
}

/// A SignerInfo.
#[derive(Clone, Debug)]
pub struct SignerInfo {
    /// The signer identifier.
    pub sid: Sid,
    /// digestAlgorithm.
    pub digest_alg: AlgBuf,
    /// Signed attributes, as received.
    pub signed_attrs: Option<Vec<Attribute>>,
    /// The DER encoding of the signed attributes (members sorted), which is what is signed
    /// (RFC 5652 §5.4).
    pub signed_attrs_der: Vec<u8>,
    /// signatureAlgorithm.
    pub sig_alg: AlgBuf,
    /// The signature value.
    pub signature: Vec<u8>,
    /// Unsigned attributes.
    pub unsigned_attrs: Vec<Attribute>,
    /// The encodings of version, sid, digestAlgorithm, signedAttrs, signatureAlgorithm and
    /// signature, as received (for archive-time-stamp-v3).
    pub fields_raw: Vec<Vec<u8>>,
}

impl SignerInfo {
    /// The first value of a signed attribute.
    pub fn signed(&self, oid: &ObjectIdentifier) -> Option<&Attribute> {
        self.signed_attrs.as_ref()?.iter().find(|a| is(&a.oid, oid))
    }
    /// All unsigned attributes with this OID.
    pub fn unsigned<'s>(
        &'s self,
        oid: &'s ObjectIdentifier,
    ) -> impl Iterator<Item = &'s Attribute> + 's {
        self.unsigned_attrs.iter().filter(move |a| is(&a.oid, oid))
    }

    /// RFC 5652 §5.3, §11.1 and §11.2, EN 319 122-1 §5.2: signed attributes, when present,
    /// carry exactly one content-type attribute with exactly one value, equal to
    /// `econtent_type` (OID content octets), and exactly one message-digest attribute with
    /// exactly one value, an OCTET STRING. Taking the first of several would let a second
    /// message-digest over other data go unnoticed. `Ok` when there are no signed attributes
    /// (RFC 5652 §5.3 allows that for id-data only: see [`Self::check_unsigned_content`]).
    pub fn check_signed_attributes(&self, econtent_type: &[u8]) -> Result<(), String> {
        let Some(attrs) = &self.signed_attrs else {
            return Ok(());
        };
        let single = |o: &ObjectIdentifier, name: &str| -> Result<&[u8], String> {
            let mut it = attrs.iter().filter(|a| is(&a.oid, o));
            let a = it
                .next()
                .ok_or_else(|| format!("the signed attributes carry no {name} attribute"))?;
            if it.next().is_some() {
                return Err(format!(
                    "the signed attributes carry more than one {name} attribute"
                ));
            }
            match a.values.as_slice() {
                [v] => Ok(v.as_slice()),
                vs => Err(format!(
                    "the {name} attribute has {} values instead of exactly one",
                    vs.len()
                )),
            }
        };
        let ct = single(&oid::ID_CONTENT_TYPE, "content-type")?;
        match tlv::parse_exact(ct) {
            Ok(t) if t.tag == tag::OID && t.value == econtent_type => {}
            Ok(t) if t.tag == tag::OID => {
                return Err(format!(
                    "the content-type attribute ({}) differs from eContentType ({})",
                    tlv::oid_string(t.value),
                    tlv::oid_string(econtent_type)
                ));
            }
            _ => return Err("the content-type attribute is not an OID".into()),
        }
        let md = single(&oid::ID_MESSAGE_DIGEST, "message-digest")?;
        match tlv::parse_exact(md) {
            Ok(t) if t.tag == tag::OCTET_STRING => Ok(()),
            _ => Err("the message-digest attribute is not an OCTET STRING".into()),
        }
    }

    /// RFC 5652 §5.3: without signed attributes the content type must be id-data.
    pub fn check_unsigned_content(&self, econtent_type: &[u8]) -> Result<(), String> {
        if self.signed_attrs.is_none() && !is(econtent_type, &oid::ID_DATA) {
            return Err(format!(
                "the SignerInfo has no signed attributes but the content type is {}, not id-data",
                tlv::oid_string(econtent_type)
            ));
        }
        Ok(())
    }

    /// RFC 4056 §3: with RSASSA-PSS, the hash algorithm in the parameters must be the
    /// SignerInfo's digestAlgorithm. `Ok` for other algorithms, or when either cannot be read
    /// (reported elsewhere).
    pub fn check_pss_hash(&self) -> Result<(), String> {
        use inkan_profiles::alg::SignatureAlgorithm;
        let Ok(digest) = self
            .digest_alg
            .get()
            .and_then(|a| crate::crypto::digest_alg(&a).map_err(|_| tlv::TlvError::new("digest")))
        else {
            return Ok(());
        };
        let Ok(sig) = self.sig_alg.get() else {
            return Ok(());
        };
        if let Ok(SignatureAlgorithm::RsaPss(p)) = crate::crypto::signature_alg(&sig, None)
            && p.hash != digest
        {
            return Err(format!(
                "RSASSA-PSS hashes with {} but the SignerInfo's digestAlgorithm is {digest} (RFC 4056 §3)",
                p.hash
            ));
        }
        Ok(())
    }

    /// RFC 6211 §3: when the signed attributes carry cms-algorithm-protection, its
    /// digestAlgorithm and signatureAlgorithm must be this SignerInfo's own (an algorithm
    /// substitution is otherwise undetectable), signatureAlgorithm must be present and
    /// macAlgorithm absent, and the attribute must appear once with one value. `Ok` when the
    /// attribute is absent or agrees; the reason otherwise.
    ///
    /// Parameters compare by encoding, except that absent and NULL are the same (RFC 5754
    /// §2 lets SHA-2 identifiers be written either way, and signers differ).
    pub fn check_algorithm_protection(&self) -> Result<(), String> {
        let Some(attrs) = &self.signed_attrs else {
            return Ok(());
        };
        let mut found = attrs
            .iter()
            .filter(|a| is(&a.oid, &oid::ID_AA_CMS_ALGORITHM_PROTECTION));
        let Some(attr) = found.next() else {
            return Ok(());
        };
        if found.next().is_some() || attr.values.len() != 1 {
            return Err("cms-algorithm-protection must appear once with one value".into());
        }
        let parsed = tlv::parse_exact(&attr.values[0])
            .and_then(|t| t.expect(tag::SEQUENCE))
            .and_then(|t| {
                let mut r = t.children();
                let digest = AlgId::parse(&r.expect(tag::SEQUENCE)?)?;
                // [1] IMPLICIT SignatureAlgorithmIdentifier, [2] IMPLICIT
                // MessageAuthenticationCodeAlgorithm.
                let signature = match r.optional(0xa1)? {
                    Some(t) => Some(AlgId::parse(&t)?),
                    None => None,
                };
                let mac = r.optional(0xa2)?.is_some();
                if !r.is_empty() {
                    return Err(tlv::TlvError::new("unexpected element"));
                }
                Ok((digest, signature, mac))
            });
        let (digest, signature, mac) =
            parsed.map_err(|e| format!("cms-algorithm-protection cannot be read: {e}"))?;
        if mac {
            return Err("cms-algorithm-protection names a MAC algorithm in SignedData".into());
        }
        let Some(signature) = signature else {
            return Err("cms-algorithm-protection names no signature algorithm".into());
        };
        let own_digest = self
            .digest_alg
            .get()
            .map_err(|e| format!("digestAlgorithm: {e}"))?;
        let own_signature = self
            .sig_alg
            .get()
            .map_err(|e| format!("signatureAlgorithm: {e}"))?;
        if !same_alg(&digest, &own_digest) {
            return Err(format!(
                "cms-algorithm-protection names digest algorithm {}, the SignerInfo {}",
                digest.oid, own_digest.oid
            ));
        }
        if !same_alg(&signature, &own_signature) {
            return Err(format!(
                "cms-algorithm-protection names signature algorithm {}, the SignerInfo {}",
                signature.oid, own_signature.oid
            ));
        }
        Ok(())
    }
}

/// Same OID and same parameters, absent and NULL being the same.
fn same_alg(a: &AlgId<'_>, b: &AlgId<'_>) -> bool {
    let params = |x: &AlgId<'_>| match &x.params {
        Some(p) if p.tag == tag::NULL && p.value.is_empty() => None,
        Some(p) => Some(p.raw.to_vec()),
        None => None,
    };
    a.oid == b.oid && params(a) == params(b)
}

/// A SignedData, parsed.
#[derive(Clone, Debug)]
pub struct SignedData {
    /// encapContentInfo.eContentType (OID content octets).
    pub econtent_type: Vec<u8>,
    /// The eContentType OID encoding, as received.
    pub econtent_type_raw: Vec<u8>,
    /// The eContent octets when encapsulated.
    pub econtent: Option<Vec<u8>>,
    /// Certificates that could be parsed.
    pub certs: Vec<Certificate>,
    /// Raw certificate encodings (for hash indexes), including ones that failed to parse.
    pub certs_raw: Vec<Vec<u8>>,
    /// CRL encodings.
    pub crls: Vec<Vec<u8>>,
    /// OCSP response encodings (OCSPResponse) from `other` RevocationInfoChoices.
    pub ocsps: Vec<Vec<u8>>,
    /// Raw RevocationInfoChoice encodings (for hash indexes).
    pub crls_raw: Vec<Vec<u8>>,
    /// Signer infos.
    pub signers: Vec<SignerInfo>,
}

impl SignedData {
    /// Parses a ContentInfo holding a SignedData.
    ///
    /// RFC 5652 §3 and §5.1: nothing may follow the ContentInfo, its content, or the
    /// SignedData's signerInfos; such bytes are not covered by any signature and an
    /// EN 319 102-1 §5.2.2 format check refuses them (FORMAT_FAILURE).
    pub fn parse_content_info(bytes: &[u8]) -> tlv::Result<Self> {
        let (ci, rest) = tlv::parse_one(bytes, 0)?;
        if !rest.is_empty() {
            return Err(tlv::TlvError::new("bytes after the ContentInfo"));
        }
        let ci = ci.expect(tag::SEQUENCE)?;
        let mut r = ci.children();
        let oid = r.expect(tag::OID)?;
        if !is(oid.value, &oid::ID_SIGNED_DATA) {
            return Err(tlv::TlvError::new("content is not SignedData"));
        }
        let c = r.expect(0xa0)?;
        if !r.is_empty() {
            return Err(tlv::TlvError::new(
                "elements after the ContentInfo's content",
            ));
        }
        let (sd, rest) = tlv::parse_one(c.value, 1)?;
        if !rest.is_empty() {
            return Err(tlv::TlvError::new("bytes after the SignedData"));
        }
        Self::parse(&sd.expect(tag::SEQUENCE)?)
    }

    fn parse(sd: &Tlv<'_>) -> tlv::Result<Self> {
        let mut r = sd.children();
        r.expect(tag::INTEGER)?;
        r.expect(tag::SET)?;
        let eci = r.expect(tag::SEQUENCE)?;
        let mut er = eci.children();
        let ect = er.expect(tag::OID)?;
        let mut econtent = None;
        if let Some(e) = er.optional(0xa0)? {
            let (o, _) = tlv::parse_one(e.value, 2)?;
            if o.tag & 0x1f != tag::OCTET_STRING {
                return Err(tlv::TlvError::new("eContent is not an OCTET STRING"));
            }
            econtent = Some(o.octets()?.into_owned());
        }
        // EncapsulatedContentInfo ::= SEQUENCE { eContentType, eContent [0] EXPLICIT OCTET
        // STRING OPTIONAL } (RFC 5652 §5.2): nothing else.
        if !er.is_empty() {
            return Err(tlv::TlvError::new(
                "the EncapsulatedContentInfo has elements after eContent",
            ));
        }
        let mut out = SignedData {
            econtent_type: ect.value.to_vec(),
            econtent_type_raw: ect.raw.to_vec(),
            econtent,
            certs: Vec::new(),
            certs_raw: Vec::new(),
            crls: Vec::new(),
            ocsps: Vec::new(),
            crls_raw: Vec::new(),
            signers: Vec::new(),
        };
        if let Some(c) = r.optional(0xa0)? {
            for cert in c.children() {
                let cert = cert?;
                out.certs_raw.push(cert.raw.to_vec());
                if cert.tag == tag::SEQUENCE
                    && let Ok(parsed) = Certificate::parse(cert.raw)
                {
                    out.certs.push(parsed);
                }
            }
        }
        if let Some(c) = r.optional(0xa1)? {
            for crl in c.children() {
                let crl = crl?;
                out.crls_raw.push(crl.raw.to_vec());
                if crl.tag == tag::SEQUENCE {
                    out.crls.push(crl.raw.to_vec());
                } else if crl.tag == 0xa1 {
                    let mut cr = crl.children();
                    let fmt = cr.expect(tag::OID)?.value;
                    if is(fmt, &oid::ID_RI_OCSP_RESPONSE)
                        && let Ok(v) = cr.next_tlv()
                    {
                        out.ocsps.push(v.raw.to_vec());
                    }
                }
            }
        }
        let sis = r.expect(tag::SET)?;
        if !r.is_empty() {
            return Err(tlv::TlvError::new(
                "elements after the SignedData's signerInfos",
            ));
        }
        for si in sis.children() {
            out.signers.push(parse_signer_info(&si?)?);
        }
        Ok(out)
    }
}

fn parse_signer_info(si: &Tlv<'_>) -> tlv::Result<SignerInfo> {
    let mut r = si.children();
    let mut fields_raw = Vec::new();
    let v = r.expect(tag::INTEGER)?;
    fields_raw.push(v.raw.to_vec());
    let sid_t = r.next_tlv()?;
    fields_raw.push(sid_t.raw.to_vec());
    let sid = match sid_t.tag {
        tag::SEQUENCE => {
            let mut sr = sid_t.children();
            let issuer = sr.expect(tag::SEQUENCE)?.raw.to_vec();
            let serial = sr.expect(tag::INTEGER)?.value.to_vec();
            Sid::IssuerSerial(issuer, serial)
        }
        0x80 => Sid::Ski(sid_t.value.to_vec()),
        _ => return Err(tlv::TlvError::new("unknown SignerIdentifier")),
    };
    let da = r.expect(tag::SEQUENCE)?;
    fields_raw.push(da.raw.to_vec());
    let mut signed_attrs = None;
    let mut signed_attrs_der = Vec::new();
    if let Some(sa) = r.optional(0xa0)? {
        fields_raw.push(sa.raw.to_vec());
        let attrs = read_attributes(&sa)?;
        let elems: Vec<&[u8]> = attrs.iter().map(|a| a.raw.as_slice()).collect();
        signed_attrs_der = tlv::der_set_of(tag::SET, &elems);
        signed_attrs = Some(attrs);
    }
    let sa = r.expect(tag::SEQUENCE)?;
    fields_raw.push(sa.raw.to_vec());
    let sig = r.next_tlv()?;
    if sig.tag & 0x1f != tag::OCTET_STRING {
        return Err(tlv::TlvError::new("signature is not an OCTET STRING"));
    }
    fields_raw.push(sig.raw.to_vec());
    let signature = sig.octets()?.into_owned();
    let mut unsigned_attrs = Vec::new();
    if let Some(ua) = r.optional(0xa1)? {
        unsigned_attrs = read_attributes(&ua)?;
    }
    Ok(SignerInfo {
        sid,
        digest_alg: AlgBuf(da.raw.to_vec()),
        signed_attrs,
        signed_attrs_der,
        sig_alg: AlgBuf(sa.raw.to_vec()),
        signature,
        unsigned_attrs,
        fields_raw,
    })
}

/// A token's messageImprint.hashAlgorithm (RFC 3161 §2.4.2), as received.
pub fn imprint_alg(tst: &TstInfo) -> tlv::Result<AlgId<'_>> {
    tlv::parse_exact(&tst.imprint_alg).and_then(|t| AlgId::parse(&t))
}

/// The PKIStatus and token of a TimeStampResp.
pub fn parse_time_stamp_resp(bytes: &[u8]) -> tlv::Result<(u64, Option<Vec<u8>>)> {
    let (t, _) = tlv::parse_one(bytes, 0)?;
    let mut r = t.expect(tag::SEQUENCE)?.children();
    let status = r.expect(tag::SEQUENCE)?;
    let s = status.children().expect(tag::INTEGER)?.small_uint()?;
    let token = r.optional(tag::SEQUENCE)?.map(|t| t.raw.to_vec());
    Ok((s, token))
}

/// OCSP certificate status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OcspStatus {
    /// good
    Good,
    /// revoked at a time, with a reason
    Revoked(i64, Option<u64>),
    /// unknown
    Unknown,
}

/// One SingleResponse.
#[derive(Clone, Debug)]
pub struct SingleResponse {
    /// CertID hash algorithm.
    pub hash_alg: AlgBuf,
    /// issuerNameHash.
    pub name_hash: Vec<u8>,
    /// issuerKeyHash.
    pub key_hash: Vec<u8>,
    /// serialNumber octets.
    pub serial: Vec<u8>,
    /// status.
    pub status: OcspStatus,
    /// thisUpdate.
    pub this_update: i64,
    /// nextUpdate.
    pub next_update: Option<i64>,
}

/// A BasicOCSPResponse.
#[derive(Clone, Debug)]
pub struct BasicOcsp {
    /// tbsResponseData as received (signed).
    pub tbs: Vec<u8>,
    /// Responder by name (Name encoding).
    pub responder_name: Option<Vec<u8>>,
    /// Responder by SHA-1 key hash.
    pub responder_key_hash: Option<Vec<u8>>,
    /// producedAt.
    pub produced_at: i64,
    /// Responses.
    pub responses: Vec<SingleResponse>,
    /// signatureAlgorithm.
    pub sig_alg: AlgBuf,
    /// signature.
    pub signature: Vec<u8>,
    /// certs.
    pub certs: Vec<Certificate>,
}

/// Parses an OCSPResponse, or a bare BasicOCSPResponse (as revocation-values carries).
pub fn parse_ocsp(bytes: &[u8]) -> tlv::Result<BasicOcsp> {
    let (t, _) = tlv::parse_one(bytes, 0)?;
    let t = t.expect(tag::SEQUENCE)?;
    let mut r = t.children();
    if r.peek_tag() == Some(tag::ENUMERATED) {
        let status = r.next_tlv()?.small_uint()?;
        if status != 0 {
            return Err(tlv::TlvError::new("OCSP response status is not successful"));
        }
        let rb = r.expect(0xa0)?;
        let rb = tlv::parse_exact(rb.value)?;
        let mut rr = rb.children();
        let ty = rr.expect(tag::OID)?.value;
        if !is(ty, &oid::ID_PKIX_OCSP_BASIC) {
            return Err(tlv::TlvError::new("not a basic OCSP response"));
        }
        let body = rr.expect(tag::OCTET_STRING)?;
        return parse_basic_ocsp(&tlv::parse_exact(body.value)?);
    }
    parse_basic_ocsp(&t)
}

fn parse_basic_ocsp(t: &Tlv<'_>) -> tlv::Result<BasicOcsp> {
    let mut r = t.children();
    let tbs = r.expect(tag::SEQUENCE)?;
    let sig_alg = r.expect(tag::SEQUENCE)?;
    let sig = r.expect(tag::BIT_STRING)?.bit_string_bytes()?;
    let mut certs = Vec::new();
    if let Some(c) = r.optional(0xa0)? {
        let seq = tlv::parse_exact(c.value)?;
        for cert in seq.children() {
            if let Ok(c) = Certificate::parse(cert?.raw) {
                certs.push(c);
            }
        }
    }
    let mut tr = tbs.children();
    tr.optional(0xa0)?;
    let rid = tr.next_tlv()?;
    let (mut responder_name, mut responder_key_hash) = (None, None);
    match rid.tag {
        0xa1 => responder_name = Some(tlv::parse_exact(rid.value)?.raw.to_vec()),
        0xa2 => responder_key_hash = Some(tlv::parse_exact(rid.value)?.value.to_vec()),
        _ => return Err(tlv::TlvError::new("bad ResponderID")),
    }
    let produced_at = tlv::parse_time(&tr.expect(tag::GENERALIZED_TIME)?)?.0;
    let mut responses = Vec::new();
    for sr in tr.expect(tag::SEQUENCE)?.children() {
        let sr = sr?;
        let mut s = sr.children();
        let cid = s.expect(tag::SEQUENCE)?;
        let mut cr = cid.children();
        let hash_alg = AlgBuf(cr.expect(tag::SEQUENCE)?.raw.to_vec());
        let name_hash = cr.expect(tag::OCTET_STRING)?.value.to_vec();
        let key_hash = cr.expect(tag::OCTET_STRING)?.value.to_vec();
        let serial = cr.expect(tag::INTEGER)?.value.to_vec();
        let st = s.next_tlv()?;
        let status = match st.tag {
            0x80 => OcspStatus::Good,
            0xa1 => {
                let mut rr = st.children();
                let when = tlv::parse_time(&rr.next_tlv()?)?.0;
                let mut reason = None;
                if let Some(rt) = rr.optional(0xa0)? {
                    reason = tlv::parse_exact(rt.value).and_then(|v| v.small_uint()).ok();
                }
                OcspStatus::Revoked(when, reason)
            }
            _ => OcspStatus::Unknown,
        };
        let this_update = tlv::parse_time(&s.expect(tag::GENERALIZED_TIME)?)?.0;
        let mut next_update = None;
        if let Some(n) = s.optional(0xa0)? {
            next_update = Some(tlv::parse_time(&tlv::parse_exact(n.value)?)?.0);
        }
        responses.push(SingleResponse {
            hash_alg,
            name_hash,
            key_hash,
            serial,
            status,
            this_update,
            next_update,
        });
    }
    Ok(BasicOcsp {
        tbs: tbs.raw.to_vec(),
        responder_name,
        responder_key_hash,
        produced_at,
        responses,
        sig_alg: AlgBuf(sig_alg.raw.to_vec()),
        signature: sig.to_vec(),
        certs,
    })
}

/// ESS certificate identifiers from signing-certificate (v1) or signing-certificate-v2:
/// (hash algorithm, hash, optional issuerSerial (issuer GeneralNames encoding, serial)).
pub type EssCertId = (
    inkan_profiles::alg::DigestAlgorithm,
    Vec<u8>,
    Option<Vec<u8>>,
);

/// Reads the first ESSCertID(v2) of a signing-certificate(-v2) attribute value.
pub fn parse_signing_certificate(value: &[u8], v2: bool) -> Option<Vec<EssCertId>> {
    use inkan_profiles::alg::DigestAlgorithm;
    let t = tlv::parse_exact(value).ok()?;
    let mut r = t.children();
    let certs = r.expect(tag::SEQUENCE).ok()?;
    let mut out = Vec::new();
    for c in certs.children() {
        let c = c.ok()?;
        let mut cr = c.children();
        let mut alg = if v2 {
            DigestAlgorithm::Sha256
        } else {
            DigestAlgorithm::Sha1
        };
        if v2 && cr.peek_tag() == Some(tag::SEQUENCE) {
            let a = cr.next_tlv().ok()?;
            alg = crate::crypto::digest_alg(&AlgId::parse(&a).ok()?).ok()?;
        }
        let h = cr.expect(tag::OCTET_STRING).ok()?.value.to_vec();
        let is = cr.optional(tag::SEQUENCE).ok()?.and_then(|s| {
            let mut sr = s.children();
            sr.next_tlv().ok()?;
            Some(sr.expect(tag::INTEGER).ok()?.value.to_vec())
        });
        out.push((alg, h, is));
    }
    Some(out)
}
