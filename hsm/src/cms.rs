//! A CMS `SignedData` builder (RFC 5652) over a [`Signer`], shared by the TSA (RFC 3161 tokens:
//! `id-ct-TSTInfo` encapsulated) and the CAdES signer (`id-data`, detached or attached).
//!
//! Build a [`CmsSignerTemplate`] once at start-up: it holds the signer, the certificate, the
//! `sid` (issuerAndSerialNumber, copied byte for byte from the certificate), the digest and
//! signature `AlgorithmIdentifier`s and the `signing-certificate-v2` attribute, all DER-encoded
//! once. Each [`CmsSignerTemplate::sign`] then only hashes, sorts a handful of attributes,
//! signs and concatenates.
//!
//! ```text
//! SignedData ::= SEQUENCE {                                  -- RFC 5652 section 5.1
//!   version CMSVersion,
//!   digestAlgorithms SET OF DigestAlgorithmIdentifier,
//!   encapContentInfo EncapsulatedContentInfo,
//!   certificates [0] IMPLICIT CertificateSet OPTIONAL,
//!   crls [1] IMPLICIT RevocationInfoChoices OPTIONAL,
//!   signerInfos SET OF SignerInfo }
//! SignerInfo ::= SEQUENCE {                                  -- section 5.3
//!   version CMSVersion, sid SignerIdentifier, digestAlgorithm DigestAlgorithmIdentifier,
//!   signedAttrs [0] IMPLICIT SignedAttributes OPTIONAL,
//!   signatureAlgorithm SignatureAlgorithmIdentifier, signature SignatureValue,
//!   unsignedAttrs [1] IMPLICIT UnsignedAttributes OPTIONAL }
//! ```
//!
//! Signed attributes are encoded as a DER SET OF (sorted), signed as that DER with the
//! universal SET tag `0x31` (section 5.4), and placed in the SignerInfo with tag `[0]`. The
//! digest algorithm follows the signature algorithm's hash; for Ed25519 it is SHA-512
//! (RFC 8419 section 3.1). The certificates SET is emitted in DER order.

use std::sync::Arc;

use const_oid::ObjectIdentifier;
use der::Encode;
use inkan_profiles::alg::{DigestAlgorithm, SignatureAlgorithm};
use inkan_profiles::time::UnixTime;

use crate::derw::{self, tag};
use crate::{Error, Signer};

/// `id-data` (RFC 5652 section 4).
pub const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
/// `id-signedData` (RFC 5652 section 5.1).
pub const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
/// `id-ct-TSTInfo` (RFC 3161 section 2.4.2).
pub const ID_CT_TST_INFO: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
/// `id-contentType` (RFC 5652 section 11.1).
pub const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
/// `id-messageDigest` (RFC 5652 section 11.2).
pub const ID_MESSAGE_DIGEST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
/// `id-signingTime` (RFC 5652 section 11.3).
pub const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
/// `id-aa-CMSAlgorithmProtection` (RFC 6211 section 2).
pub const ID_AA_CMS_ALGORITHM_PROTECTION: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.52");
/// `id-aa-signingCertificateV2` (RFC 5035 section 3).
pub const ID_AA_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");

/// The digest CMS uses with a signature algorithm: the algorithm's own hash, SHA-512 for
/// Ed25519 (RFC 8419 section 3.1).
pub fn digest_for(alg: &SignatureAlgorithm) -> Option<DigestAlgorithm> {
    match alg {
        SignatureAlgorithm::RsaPkcs1(d)
        | SignatureAlgorithm::Ecdsa(d)
        | SignatureAlgorithm::Dsa(d) => Some(*d),
        SignatureAlgorithm::RsaPss(p) => Some(p.hash),
        SignatureAlgorithm::Ed25519 => Some(DigestAlgorithm::Sha512),
        _ => None,
    }
}

/// Hashes with `d`: ring for SHA-2 (fast), the profiles catalogue otherwise.
pub fn digest(d: DigestAlgorithm, data: &[u8]) -> Vec<u8> {
    match crate::digest::ring_alg(d) {
        Some(a) => ring::digest::digest(a, data).as_ref().to_vec(),
        None => d.digest(data),
    }
}

fn oid_tlv(out: &mut Vec<u8>, oid: &ObjectIdentifier) {
    derw::tlv(out, tag::OID, oid.as_bytes());
}

/// ```text
/// CMSAlgorithmProtection ::= SEQUENCE {        -- RFC 6211 section 2, IMPLICIT TAGS
///     digestAlgorithm     DigestAlgorithmIdentifier,
///     signatureAlgorithm  [1] SignatureAlgorithmIdentifier OPTIONAL,
///     macAlgorithm        [2] MessageAuthenticationCodeAlgorithm OPTIONAL }
/// ```
/// as a DER `Attribute`, from the DER `AlgorithmIdentifier`s of a SignerInfo.
pub fn algorithm_protection(digest_alg_id: &[u8], sig_alg_id: &[u8]) -> Result<Vec<u8>, Error> {
    let sig = derw::expect(sig_alg_id, tag::SEQUENCE, "signature AlgorithmIdentifier")?;
    if sig.raw.len() != sig_alg_id.len() {
        return Err(Error::Encoding(
            "signature AlgorithmIdentifier has trailing data".into(),
        ));
    }
    // [1] IMPLICIT: the SEQUENCE tag becomes context-specific 1, constructed.
    let tagged = derw::tlv_vec(tag::CTX1, sig.value);
    let mut value = Vec::new();
    derw::tlv_parts(&mut value, tag::SEQUENCE, &[digest_alg_id, &tagged]);
    Ok(attribute(&ID_AA_CMS_ALGORITHM_PROTECTION, &[&value]))
}

/// A DER `Attribute ::= SEQUENCE { attrType OBJECT IDENTIFIER, attrValues SET OF ANY }`
/// (RFC 5652 section 5.3). `values` are complete DER encodings; they are put in DER SET order.
pub fn attribute(oid: &ObjectIdentifier, values: &[&[u8]]) -> Vec<u8> {
    let mut sorted: Vec<&[u8]> = values.to_vec();
    sorted.sort_by(|a, b| derw::der_set_cmp(a, b));
    let set_len: usize = sorted.iter().map(|v| v.len()).sum();
    let oid_len = derw::tlv_len(oid.as_bytes().len());
    let mut out = Vec::with_capacity(derw::tlv_len(oid_len + derw::tlv_len(set_len)));
    derw::header(&mut out, tag::SEQUENCE, oid_len + derw::tlv_len(set_len));
    oid_tlv(&mut out, oid);
    derw::tlv_parts(&mut out, tag::SET, &sorted);
    out
}

/// Civil date and time of a Unix time (UTC): (year, month, day, hour, minute, second).
pub(crate) fn civil(t: UnixTime) -> (i64, u32, u32, u32, u32, u32) {
    let secs = t.secs() as i64;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400) as u32;
    let (y, m, d) = inkan_profiles::time::civil_from_days(days);
    (y, m, d, sod / 3600, (sod / 60) % 60, sod % 60)
}

/// The DER `Time` for `t` as RFC 5280 section 4.1.2.5 and RFC 5652 section 11.3 want it:
/// UTCTime for 1950–2049, GeneralizedTime otherwise; whole seconds, `Z`.
pub fn time_der(t: UnixTime) -> Vec<u8> {
    let (y, mo, d, h, mi, s) = civil(t);
    if (1950..2050).contains(&y) {
        let body = format!("{:02}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z", y % 100);
        derw::tlv_vec(tag::UTC_TIME, body.as_bytes())
    } else {
        let body = format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z");
        derw::tlv_vec(tag::GENERALIZED_TIME, body.as_bytes())
    }
}

/// The `signing-time` attribute (RFC 5652 section 11.3) for `at`, which the caller takes
/// from its clock (never the system clock here).
pub fn signing_time_attribute(at: UnixTime) -> Vec<u8> {
    attribute(&ID_SIGNING_TIME, &[&time_der(at)])
}

/// The `signing-certificate-v2` attribute (RFC 5035 section 3) for a DER certificate:
/// one `ESSCertIDv2` with SHA-256 (the default algorithm, so omitted) and `issuerSerial`.
///
/// ```text
/// SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2,
///                                     policies SEQUENCE OF PolicyInformation OPTIONAL }
/// ESSCertIDv2 ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier DEFAULT {algorithm id-sha256},
///                            certHash Hash, issuerSerial IssuerSerial OPTIONAL }
/// IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }
/// ```
pub fn signing_certificate_v2_attribute(cert_der: &[u8]) -> Result<Vec<u8>, Error> {
    let parts = derw::cert_parts(cert_der)?;
    let hash = ring::digest::digest(&ring::digest::SHA256, cert_der);
    // GeneralNames ::= SEQUENCE OF GeneralName; directoryName [4] EXPLICIT Name.
    let dir_name = derw::tlv_vec(0xA4, parts.issuer);
    let general_names = derw::tlv_vec(tag::SEQUENCE, &dir_name);
    let mut issuer_serial = Vec::new();
    derw::tlv_parts(
        &mut issuer_serial,
        tag::SEQUENCE,
        &[&general_names, parts.serial],
    );
    let cert_hash = derw::tlv_vec(tag::OCTET_STRING, hash.as_ref());
    let mut id = Vec::new();
    derw::tlv_parts(&mut id, tag::SEQUENCE, &[&cert_hash, &issuer_serial]);
    let certs = derw::tlv_vec(tag::SEQUENCE, &id);
    let sc = derw::tlv_vec(tag::SEQUENCE, &certs);
    Ok(attribute(&ID_AA_SIGNING_CERTIFICATE_V2, &[&sc]))
}

/// Whether the certificate `cert_der` certifies `key`'s public key (compare at start-up:
/// a TSA or signer must not run with a certificate for another key).
pub fn certificate_matches_key(
    cert_der: &[u8],
    key: &dyn crate::SigningKey,
) -> Result<bool, Error> {
    Ok(derw::cert_parts(cert_der)?.spki == key.public_key_der())
}

/// What is signed, and whether it travels inside the `SignedData`.
#[derive(Clone, Copy, Debug)]
pub enum Content<'a> {
    /// Encapsulated: `eContent` carries these bytes; they are hashed here.
    Attached(&'a [u8]),
    /// Encapsulated, with the digest already computed by the caller (with
    /// [`CmsSignerTemplate::digest_algorithm`]), e.g. by streaming a large file.
    AttachedPrehashed {
        /// The content.
        content: &'a [u8],
        /// Its digest.
        digest: &'a [u8],
    },
    /// Detached: the content is hashed here and left out.
    Detached(&'a [u8]),
    /// Detached, with the digest computed by the caller (streaming).
    DetachedDigest(&'a [u8]),
}

/// An entry of `RevocationInfoChoices` (RFC 5652 section 10.2.1).
#[derive(Clone, Copy, Debug)]
pub enum RevocationInfo<'a> {
    /// A DER `CertificateList` (CRL).
    Crl(&'a [u8]),
    /// `OtherRevocationInfoFormat` (e.g. `id-ri-ocsp-response` with a DER `OCSPResponse`,
    /// RFC 5940): `info` is the DER of the value.
    Other {
        /// `otherRevInfoFormat`.
        format: ObjectIdentifier,
        /// `otherRevInfo`, DER.
        info: &'a [u8],
    },
}

/// Which certificates go into `SignedData.certificates`.
#[derive(Clone, Copy, Debug)]
pub enum Certificates<'a> {
    /// None (an RFC 3161 request with `certReq` false).
    None,
    /// The template's chain (signer certificate first, then the chain given at build time).
    Template,
    /// The template's chain plus these DER certificates (duplicates dropped).
    TemplateAnd(&'a [&'a [u8]]),
}

/// One signing request for [`CmsSignerTemplate::sign`].
#[derive(Clone, Copy, Debug)]
pub struct SignRequest<'a> {
    /// `eContentType`: [`ID_DATA`] for CAdES, [`ID_CT_TST_INFO`] for RFC 3161.
    pub content_type: ObjectIdentifier,
    /// The content.
    pub content: Content<'a>,
    /// Whether to add the template's `signing-certificate-v2` attribute.
    pub signing_certificate_v2: bool,
    /// Further signed attributes, each a complete DER `Attribute` (see [`attribute`],
    /// [`signing_time_attribute`]). Content-type and message-digest are always added here.
    pub signed_attrs: &'a [&'a [u8]],
    /// Unsigned attributes, each a complete DER `Attribute`.
    pub unsigned_attrs: &'a [&'a [u8]],
    /// Certificates to embed.
    pub certificates: Certificates<'a>,
    /// Revocation information to embed.
    pub crls: &'a [RevocationInfo<'a>],
}

impl<'a> SignRequest<'a> {
    /// A request with the usual defaults: signing-certificate-v2 on, the template's
    /// certificates, nothing else.
    pub fn new(content_type: ObjectIdentifier, content: Content<'a>) -> Self {
        Self {
            content_type,
            content,
            signing_certificate_v2: true,
            signed_attrs: &[],
            unsigned_attrs: &[],
            certificates: Certificates::Template,
            crls: &[],
        }
    }
}

/// Everything about a signer that does not change between signatures, DER-encoded once.
#[derive(Debug)]
pub struct CmsSignerTemplate {
    signer: Arc<dyn Signer>,
    digest: DigestAlgorithm,
    cert_der: Vec<u8>,
    chain: Vec<Vec<u8>>,
    /// `SignerInfo.version` (1) + `sid` (IssuerAndSerialNumber) + `digestAlgorithm`.
    si_prefix: Vec<u8>,
    /// `digestAlgorithms` SET with the one digest AlgorithmIdentifier.
    digest_algs_set: Vec<u8>,
    /// The signature `AlgorithmIdentifier`.
    sig_alg_id: Vec<u8>,
    /// The signing-certificate-v2 attribute.
    ess_v2: Vec<u8>,
    /// The `[0] IMPLICIT` certificates field for `Certificates::Template`.
    certs_field: Vec<u8>,
    /// The cms-algorithm-protection attribute for this SignerInfo.
    alg_protection: Vec<u8>,
}

impl CmsSignerTemplate {
    /// Prepares a template for `signer`, whose certificate is `cert_der`; `chain` holds further
    /// certificates to embed (intermediates, optionally the root).
    ///
    /// Fails if the certificate is not DER, or if `signer`'s algorithm has no CMS digest.
    pub fn new(
        signer: Arc<dyn Signer>,
        cert_der: Vec<u8>,
        chain: Vec<Vec<u8>>,
    ) -> Result<Self, Error> {
        let alg = signer.algorithm();
        let digest = digest_for(&alg)
            .ok_or_else(|| Error::AlgorithmMismatch(format!("{alg:?} has no CMS digest")))?;
        let parts = derw::cert_parts(&cert_der)?;
        let digest_alg_id = digest.to_algorithm_identifier().to_der()?;
        let sig_alg_id = alg.to_algorithm_identifier().to_der()?;
        let mut sid = Vec::new();
        derw::tlv_parts(&mut sid, tag::SEQUENCE, &[parts.issuer, parts.serial]);
        let mut si_prefix = Vec::new();
        derw::tlv(&mut si_prefix, tag::INTEGER, &[1]);
        si_prefix.extend_from_slice(&sid);
        si_prefix.extend_from_slice(&digest_alg_id);
        let digest_algs_set = derw::tlv_vec(tag::SET, &digest_alg_id);
        let ess_v2 = signing_certificate_v2_attribute(&cert_der)?;
        for c in &chain {
            derw::cert_parts(c)?;
        }
        let mut all: Vec<&[u8]> = Vec::with_capacity(chain.len() + 1);
        all.push(&cert_der);
        for c in &chain {
            if !all.contains(&c.as_slice()) {
                all.push(c);
            }
        }
        all.sort_by(|a, b| derw::der_set_cmp(a, b));
        let mut certs_field = Vec::new();
        derw::tlv_parts(&mut certs_field, tag::CTX0, &all);
        let alg_protection = algorithm_protection(&digest_alg_id, &sig_alg_id)?;
        Ok(Self {
            signer,
            digest,
            cert_der,
            chain,
            si_prefix,
            digest_algs_set,
            sig_alg_id,
            ess_v2,
            certs_field,
            alg_protection,
        })
    }

    /// The cms-algorithm-protection attribute (RFC 6211) naming this template's own digest
    /// and signature `AlgorithmIdentifier`s byte for byte; add it to
    /// [`SignRequest::signed_attrs`] so that neither can be swapped under the signature.
    pub fn algorithm_protection(&self) -> &[u8] {
        &self.alg_protection
    }

    /// The digest algorithm of `message-digest` and `digestAlgorithm`.
    pub fn digest_algorithm(&self) -> DigestAlgorithm {
        self.digest
    }

    /// The signature algorithm.
    pub fn signature_algorithm(&self) -> SignatureAlgorithm {
        self.signer.algorithm()
    }

    /// The signer's certificate (DER).
    pub fn certificate(&self) -> &[u8] {
        &self.cert_der
    }

    /// The `signing-certificate-v2` attribute (DER `Attribute`).
    pub fn signing_certificate_v2(&self) -> &[u8] {
        &self.ess_v2
    }

    /// Builds and signs a `ContentInfo` holding a `SignedData` with one `SignerInfo`.
    pub fn sign(&self, req: &SignRequest<'_>) -> Result<Vec<u8>, Error> {
        // Content digest.
        let computed;
        let (econtent, content_digest): (Option<&[u8]>, &[u8]) = match req.content {
            Content::Attached(c) => {
                computed = digest(self.digest, c);
                (Some(c), &computed)
            }
            Content::AttachedPrehashed { content, digest } => (Some(content), digest),
            Content::Detached(c) => {
                computed = digest(self.digest, c);
                (None, &computed)
            }
            Content::DetachedDigest(d) => (None, d),
        };
        if content_digest.len() != self.digest.output_len() {
            return Err(Error::Encoding(format!(
                "precomputed digest has {} bytes; {} has {}",
                content_digest.len(),
                self.digest.name(),
                self.digest.output_len()
            )));
        }

        // Signed attributes: content-type, message-digest, signing-certificate-v2, extras.
        let mut ct_val = Vec::with_capacity(16);
        oid_tlv(&mut ct_val, &req.content_type);
        let ct_attr = attribute(&ID_CONTENT_TYPE, &[&ct_val]);
        let md_val = derw::tlv_vec(tag::OCTET_STRING, content_digest);
        let md_attr = attribute(&ID_MESSAGE_DIGEST, &[&md_val]);
        let mut attrs: Vec<&[u8]> = Vec::with_capacity(3 + req.signed_attrs.len());
        attrs.push(&ct_attr);
        attrs.push(&md_attr);
        if req.signing_certificate_v2 {
            attrs.push(&self.ess_v2);
        }
        attrs.extend_from_slice(req.signed_attrs);
        attrs.sort_by(|a, b| derw::der_set_cmp(a, b));
        let mut signed = Vec::new();
        derw::tlv_parts(&mut signed, tag::SET, &attrs);
        let signature = self.signer.sign(&signed)?;
        // The same bytes, re-tagged [0] IMPLICIT for the SignerInfo.
        signed[0] = tag::CTX0;

        // SignerInfo.
        let sig_os_len = derw::tlv_len(signature.len());
        let unsigned_len: usize = req.unsigned_attrs.iter().map(|a| a.len()).sum();
        let unsigned_field_len = if req.unsigned_attrs.is_empty() {
            0
        } else {
            derw::tlv_len(unsigned_len)
        };
        let si_len = self.si_prefix.len()
            + signed.len()
            + self.sig_alg_id.len()
            + sig_os_len
            + unsigned_field_len;

        // encapContentInfo.
        let mut eci_inner =
            Vec::with_capacity(16 + econtent.map_or(0, |c| derw::tlv_len(derw::tlv_len(c.len()))));
        oid_tlv(&mut eci_inner, &req.content_type);
        if let Some(c) = econtent {
            derw::header(&mut eci_inner, tag::CTX0, derw::tlv_len(c.len()));
            derw::tlv(&mut eci_inner, tag::OCTET_STRING, c);
        }

        // certificates.
        let extra_certs;
        let certs_field: &[u8] = match req.certificates {
            Certificates::None => &[],
            Certificates::Template => &self.certs_field,
            Certificates::TemplateAnd(extra) => {
                let mut all: Vec<&[u8]> = Vec::with_capacity(1 + self.chain.len() + extra.len());
                all.push(&self.cert_der);
                for c in self
                    .chain
                    .iter()
                    .map(Vec::as_slice)
                    .chain(extra.iter().copied())
                {
                    if !all.contains(&c) {
                        all.push(c);
                    }
                }
                all.sort_by(|a, b| derw::der_set_cmp(a, b));
                let mut f = Vec::new();
                derw::tlv_parts(&mut f, tag::CTX0, &all);
                extra_certs = f;
                &extra_certs
            }
        };

        // crls.
        let mut other_rev = false;
        let mut rev_items: Vec<Vec<u8>> = Vec::with_capacity(req.crls.len());
        for r in req.crls {
            match r {
                RevocationInfo::Crl(c) => {
                    derw::expect(c, tag::SEQUENCE, "CertificateList")?;
                    rev_items.push(c.to_vec());
                }
                RevocationInfo::Other { format, info } => {
                    other_rev = true;
                    let mut v = Vec::new();
                    let oid_len = derw::tlv_len(format.as_bytes().len());
                    derw::header(&mut v, tag::CTX1, oid_len + info.len());
                    oid_tlv(&mut v, format);
                    v.extend_from_slice(info);
                    rev_items.push(v);
                }
            }
        }
        rev_items.sort_by(|a, b| derw::der_set_cmp(a, b));
        rev_items.dedup();
        let crls_len: usize = rev_items.iter().map(Vec::len).sum();
        let crls_field_len = if rev_items.is_empty() {
            0
        } else {
            derw::tlv_len(crls_len)
        };

        // Version (RFC 5652 section 5.1).
        let version: u8 = if other_rev {
            5
        } else if req.content_type != ID_DATA {
            3
        } else {
            1
        };

        let sd_len = 3
            + self.digest_algs_set.len()
            + derw::tlv_len(eci_inner.len())
            + certs_field.len()
            + crls_field_len
            + derw::tlv_len(derw::tlv_len(si_len));
        let sd_tlv_len = derw::tlv_len(sd_len);
        let ci_inner_len =
            derw::tlv_len(ID_SIGNED_DATA.as_bytes().len()) + derw::tlv_len(sd_tlv_len);

        let mut out = Vec::with_capacity(derw::tlv_len(ci_inner_len));
        derw::header(&mut out, tag::SEQUENCE, ci_inner_len);
        oid_tlv(&mut out, &ID_SIGNED_DATA);
        derw::header(&mut out, tag::CTX0, sd_tlv_len);
        derw::header(&mut out, tag::SEQUENCE, sd_len);
        derw::tlv(&mut out, tag::INTEGER, &[version]);
        out.extend_from_slice(&self.digest_algs_set);
        derw::tlv(&mut out, tag::SEQUENCE, &eci_inner);
        out.extend_from_slice(certs_field);
        if !rev_items.is_empty() {
            derw::header(&mut out, tag::CTX1, crls_len);
            for r in &rev_items {
                out.extend_from_slice(r);
            }
        }
        derw::header(&mut out, tag::SET, derw::tlv_len(si_len));
        derw::header(&mut out, tag::SEQUENCE, si_len);
        out.extend_from_slice(&self.si_prefix);
        out.extend_from_slice(&signed);
        out.extend_from_slice(&self.sig_alg_id);
        derw::tlv(&mut out, tag::OCTET_STRING, &signature);
        if !req.unsigned_attrs.is_empty() {
            let mut u: Vec<&[u8]> = req.unsigned_attrs.to_vec();
            u.sort_by(|a, b| derw::der_set_cmp(a, b));
            derw::tlv_parts(&mut out, tag::CTX1, &u);
        }
        debug_assert_eq!(out.len(), derw::tlv_len(ci_inner_len));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6211 §2 for ECDSA with SHA-256: SEQUENCE { sha256 AlgorithmIdentifier,
    /// [1] IMPLICIT ecdsa-with-SHA256 AlgorithmIdentifier } as attribute 1.2.840.113549.1.9.52.
    #[test]
    fn algorithm_protection_attribute() {
        let sha256 = DigestAlgorithm::Sha256
            .to_algorithm_identifier()
            .to_der()
            .unwrap();
        let ecdsa = [
            0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
        ];
        let a = algorithm_protection(&sha256, &ecdsa).unwrap();
        let mut want = vec![0x30, 0x28, 0x06, 0x09];
        want.extend([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x34]);
        want.extend([0x31, 0x1b, 0x30, 0x19]);
        want.extend(&sha256);
        want.extend([
            0xa1, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
        ]);
        assert_eq!(a, want);
        assert!(algorithm_protection(&sha256, &[0x04, 0x00]).is_err());
        assert!(algorithm_protection(&sha256, &[0x30, 0x05]).is_err());
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil(UnixTime::from_secs(0)), (1970, 1, 1, 0, 0, 0));
        // 2026-11-23T12:34:56Z
        assert_eq!(
            civil(UnixTime::from_secs(1_795_437_296)),
            (2026, 11, 23, 12, 34, 56)
        );
        // 2000-02-29T00:00:00Z
        assert_eq!(
            civil(UnixTime::from_secs(951_782_400)),
            (2000, 2, 29, 0, 0, 0)
        );
        assert_eq!(time_der(UnixTime::from_secs(951_782_400))[0], tag::UTC_TIME);
        // 2050-01-01T00:00:00Z uses GeneralizedTime.
        assert_eq!(
            time_der(UnixTime::from_secs(2_524_608_000)),
            derw::tlv_vec(tag::GENERALIZED_TIME, b"20500101000000Z")
        );
    }
}
