//! X.509 certificates and CRLs read raw (RFC 5280 §4, §5), keeping the bytes that are signed.

use std::sync::Arc;

use inkan_profiles::oid;

use crate::crypto::{AlgId, is};
use crate::tlv::{self, Tlv, tag};

/// Key usage bits (RFC 5280 §4.2.1.3), numbered from the most significant bit of byte 0.
pub mod ku {
    /// digitalSignature
    pub const DIGITAL_SIGNATURE: u32 = 0;
    /// nonRepudiation / contentCommitment
    pub const NON_REPUDIATION: u32 = 1;
    /// keyCertSign
    pub const KEY_CERT_SIGN: u32 = 5;
    /// cRLSign
    pub const CRL_SIGN: u32 = 6;
}

/// A parsed object shared by pointer: cloning it (paths, material, reports) copies a pointer,
/// not the encoding; it reads as the `T` it holds.
#[derive(Debug)]
pub struct Shared<T>(Arc<T>);

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<T> std::ops::Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// What a [`Shared`] object is read from: its encoding (DER, or BER as received).
pub trait Parse: Sized {
    /// Parses the object from its encoding.
    fn parse_encoding(raw: &[u8]) -> tlv::Result<Self>;
}

impl<T: Parse> Shared<T> {
    /// Parses the object from its encoding.
    pub fn parse(raw: &[u8]) -> tlv::Result<Self> {
        T::parse_encoding(raw).map(|d| Self(Arc::new(d)))
    }
}

/// One Extension (RFC 5280 §4.1): its extnID, whether it is critical (DEFAULT FALSE) and the
/// contents of its extnValue.
fn extension<'a>(ext: &Tlv<'a>) -> tlv::Result<(&'a [u8], bool, &'a [u8])> {
    let mut r = ext.children();
    let o = r.expect(tag::OID)?.value;
    let critical = r
        .optional(tag::BOOLEAN)?
        .is_some_and(|b| b.value.first().is_some_and(|&v| v != 0));
    let val = r.expect(tag::OCTET_STRING)?.value;
    Ok((o, critical, val))
}

/// What a [`Certificate`] holds; all slices point into `raw`.
#[derive(Debug)]
pub struct CertificateData {
    /// The whole DER (or BER as received).
    pub raw: Vec<u8>,
    tbs: (usize, usize),
    sig_alg: (usize, usize),
    signature: (usize, usize),
    serial: (usize, usize),
    issuer: (usize, usize),
    subject: (usize, usize),
    spki: (usize, usize),
    /// notBefore, seconds.
    pub not_before: i64,
    /// notAfter, seconds.
    pub not_after: i64,
    /// basicConstraints: (cA, pathLen).
    pub basic_constraints: Option<(bool, Option<u64>)>,
    /// keyUsage bits, if the extension is present.
    pub key_usage: Option<u32>,
    /// extKeyUsage OIDs and whether the extension is critical.
    pub ext_key_usage: Option<(Vec<Vec<u8>>, bool)>,
    /// subjectKeyIdentifier.
    pub ski: Option<Vec<u8>>,
    /// authorityKeyIdentifier keyIdentifier.
    pub aki: Option<Vec<u8>>,
    /// id-pkix-ocsp-nocheck present.
    pub ocsp_nocheck: bool,
    /// Critical extensions this verifier does not process.
    pub unknown_critical: Vec<String>,
    /// Version (0 = v1).
    pub version: u64,
    /// The fullName GeneralNames (raw elements) of its cRLDistributionPoints.
    pub crl_dp_names: Vec<Vec<u8>>,
}

/// A certificate, parsed once and shared. Its fields are those of [`CertificateData`].
pub type Certificate = Shared<CertificateData>;

impl Parse for CertificateData {
    fn parse_encoding(raw: &[u8]) -> tlv::Result<Self> {
        Self::parse(raw)
    }
}

fn span(outer: &[u8], inner: &[u8]) -> (usize, usize) {
    let start = inner.as_ptr() as usize - outer.as_ptr() as usize;
    (start, start + inner.len())
}

impl CertificateData {
    /// Parses a certificate from its encoding.
    fn parse(raw: &[u8]) -> tlv::Result<Self> {
        let t = tlv::parse_exact(raw)?.expect(tag::SEQUENCE)?;
        let mut r = t.children();
        let tbs = r.expect(tag::SEQUENCE)?;
        let sig_alg_t = r.expect(tag::SEQUENCE)?;
        AlgId::parse(&sig_alg_t)?;
        let sig = r.expect(tag::BIT_STRING)?.bit_string_bytes()?;
        let mut tr = tbs.children();
        let mut version = 0;
        if let Some(v) = tr.optional(0xa0)? {
            version = tlv::parse_exact(v.value)?.small_uint()?;
        }
        let serial = tr.expect(tag::INTEGER)?;
        let _inner_alg = tr.expect(tag::SEQUENCE)?;
        let issuer = tr.expect(tag::SEQUENCE)?;
        let validity = tr.expect(tag::SEQUENCE)?;
        let subject = tr.expect(tag::SEQUENCE)?;
        let spki = tr.expect(tag::SEQUENCE)?;
        let mut vr = validity.children();
        let nb = tlv::parse_time(&vr.next_tlv()?)?.0;
        let na = tlv::parse_time(&vr.next_tlv()?)?.0;
        let mut cert = CertificateData {
            raw: raw.to_vec(),
            tbs: span(raw, tbs.raw),
            sig_alg: span(raw, sig_alg_t.raw),
            signature: span(raw, sig),
            serial: span(raw, serial.value),
            issuer: span(raw, issuer.raw),
            subject: span(raw, subject.raw),
            spki: span(raw, spki.raw),
            not_before: nb,
            not_after: na,
            basic_constraints: None,
            key_usage: None,
            ext_key_usage: None,
            ski: None,
            aki: None,
            ocsp_nocheck: false,
            unknown_critical: Vec::new(),
            version,
            crl_dp_names: Vec::new(),
        };
        for item in tr {
            let item = item?;
            if item.tag == 0xa3 {
                let exts = tlv::parse_exact(item.value)?;
                for ext in exts.children() {
                    cert.read_extension(&ext?)?;
                }
            }
        }
        Ok(cert)
    }

    fn read_extension(&mut self, ext: &Tlv<'_>) -> tlv::Result<()> {
        let (o, critical, val) = extension(ext)?;
        // Certificate policies, policy mappings, policy constraints, inhibitAnyPolicy and
        // name constraints are processed when a path is judged (`crate::constraints`); subject
        // alternative names, CRL distribution points and the rest below are recognised only.
        const RECOGNISED: [const_oid::ObjectIdentifier; 11] = [
            oid::ID_CE_CERTIFICATE_POLICIES,
            oid::ID_CE_POLICY_MAPPINGS,
            oid::ID_CE_NAME_CONSTRAINTS,
            oid::ID_CE_SUBJECT_ALT_NAME,
            oid::ID_CE_CRL_DISTRIBUTION_POINTS,
            oid::ID_CE_ISSUER_ALT_NAME,
            oid::ID_CE_POLICY_CONSTRAINTS,
            oid::ID_CE_INHIBIT_ANY_POLICY,
            oid::ID_PE_AUTHORITY_INFO_ACCESS,
            oid::ID_PE_QC_STATEMENTS,
            oid::ID_CE_FRESHEST_CRL,
        ];
        let known = match o {
            _ if is(o, &oid::ID_CE_BASIC_CONSTRAINTS) => {
                let s = tlv::parse_exact(val)?;
                let mut sr = s.children();
                let mut ca = false;
                let mut pl = None;
                if let Some(b) = sr.optional(tag::BOOLEAN)? {
                    ca = b.value.first().is_some_and(|&v| v != 0);
                }
                if let Some(i) = sr.optional(tag::INTEGER)? {
                    pl = Some(i.small_uint()?);
                }
                self.basic_constraints = Some((ca, pl));
                true
            }
            _ if is(o, &oid::ID_CE_KEY_USAGE) => {
                let b = tlv::parse_exact(val)?;
                let bytes = b.bit_string_bytes()?;
                let mut bitsv = 0u32;
                for (i, byte) in bytes.iter().take(2).enumerate() {
                    for j in 0..8 {
                        if byte & (0x80 >> j) != 0 {
                            bitsv |= 1 << (i * 8 + j);
                        }
                    }
                }
                self.key_usage = Some(bitsv);
                true
            }
            _ if is(o, &oid::ID_CE_EXT_KEY_USAGE) => {
                let s = tlv::parse_exact(val)?;
                let mut v = Vec::new();
                for o in s.children() {
                    v.push(o?.value.to_vec());
                }
                self.ext_key_usage = Some((v, critical));
                true
            }
            _ if is(o, &oid::ID_CE_SUBJECT_KEY_IDENTIFIER) => {
                self.ski = Some(tlv::parse_exact(val)?.value.to_vec());
                true
            }
            _ if is(o, &oid::ID_CE_AUTHORITY_KEY_IDENTIFIER) => {
                let s = tlv::parse_exact(val)?;
                for i in s.children() {
                    let i = i?;
                    if i.tag == 0x80 {
                        self.aki = Some(i.value.to_vec());
                    }
                }
                true
            }
            _ if is(o, &oid::ID_PKIX_OCSP_NOCHECK) => {
                self.ocsp_nocheck = true;
                true
            }
            _ if is(o, &oid::ID_CE_CRL_DISTRIBUTION_POINTS) => {
                // SEQUENCE OF DistributionPoint { distributionPoint [0] { fullName [0] ... } }
                for dp in tlv::parse_exact(val)?.children() {
                    if let Some(dpn) = dp?.children().optional(0xa0)? {
                        self.crl_dp_names.extend(full_names(&dpn)?);
                    }
                }
                true
            }
            _ => RECOGNISED.iter().any(|x| is(o, x)),
        };
        if critical && !known {
            self.unknown_critical.push(tlv::oid_string(o));
        }
        Ok(())
    }

    fn slice(&self, s: (usize, usize)) -> &[u8] {
        &self.raw[s.0..s.1]
    }

    /// The signed TBSCertificate bytes.
    pub fn tbs(&self) -> &[u8] {
        self.slice(self.tbs)
    }
    /// The outer signatureAlgorithm.
    pub fn sig_alg(&self) -> tlv::Result<AlgId<'_>> {
        tlv::parse_exact(self.slice(self.sig_alg)).and_then(|t| AlgId::parse(&t))
    }
    /// The outer signatureAlgorithm's OID, dotted (formatted on demand).
    pub fn sig_alg_oid(&self) -> String {
        self.sig_alg()
            .map_or_else(|_| "invalid-oid".into(), |a| a.oid.to_string())
    }
    /// The signature value.
    pub fn signature(&self) -> &[u8] {
        self.slice(self.signature)
    }
    /// The serial number content octets.
    pub fn serial(&self) -> &[u8] {
        self.slice(self.serial)
    }
    /// The issuer Name encoding.
    pub fn issuer(&self) -> &[u8] {
        self.slice(self.issuer)
    }
    /// The subject Name encoding.
    pub fn subject(&self) -> &[u8] {
        self.slice(self.subject)
    }
    /// The SubjectPublicKeyInfo encoding.
    pub fn spki(&self) -> &[u8] {
        self.slice(self.spki)
    }
    /// The subjectPublicKey BIT STRING content (for key hashes).
    pub fn public_key_bits(&self) -> &[u8] {
        tlv::parse_exact(self.spki())
            .ok()
            .and_then(|t| {
                let mut r = t.children();
                r.next_tlv().ok()?;
                r.expect(tag::BIT_STRING).ok()?.bit_string_bytes().ok()
            })
            .unwrap_or(&[])
    }
    /// Whether subject and issuer are the same name.
    pub fn self_issued(&self) -> bool {
        names_equal(self.issuer(), self.subject())
    }
    /// Whether `bit` is set in keyUsage (true when the extension is absent).
    pub fn allows(&self, bit: u32) -> bool {
        self.key_usage.is_none_or(|k| k & (1 << bit) != 0)
    }
    /// Whether this is a CA certificate (basicConstraints cA).
    pub fn is_ca(&self) -> bool {
        self.basic_constraints.is_some_and(|b| b.0)
    }
    /// Whether the validity period covers `t`.
    pub fn valid_at(&self, t: i64) -> bool {
        self.not_before <= t && t <= self.not_after
    }
    /// A short display name: the subject CN, else O, else the DN.
    pub fn display_name(&self) -> String {
        let attrs = name_attributes(self.subject());
        for want in [
            oid::AT_COMMON_NAME,
            oid::AT_ORGANIZATION_NAME,
            oid::AT_ORGANIZATIONAL_UNIT_NAME,
        ] {
            if let Some((_, v)) = attrs.iter().find(|(o, _)| is(o, &want)) {
                return v.clone();
            }
        }
        dn_string(self.subject())
    }
}

/// Compares two Names: byte-equal, or equal after the RFC 5280 §7.1 simplifications this
/// verifier applies (attribute by attribute, case-insensitive, whitespace-collapsed strings).
/// Path building compares many names that differ: this walks both without allocating.
pub fn names_equal(a: &[u8], b: &[u8]) -> bool {
    if a == b {
        return true;
    }
    let (mut ia, mut ib) = (Atvs::new(a), Atvs::new(b));
    let mut any = false;
    loop {
        match (ia.next(), ib.next()) {
            (None, None) => return any,
            (Some((oa, va)), Some((ob, vb))) => {
                if oa != ob || !same_normalized(&attribute_text(&va), &attribute_text(&vb)) {
                    return false;
                }
                any = true;
            }
            _ => return false,
        }
    }
}

/// The (type OID content octets, value) pairs of a Name, in order, as [`name_attributes`]
/// reads them: an unreadable RDN or attribute ends the walk, an attribute without a value is
/// skipped.
struct Atvs<'a> {
    rdns: Option<tlv::Reader<'a>>,
    atvs: Option<tlv::Reader<'a>>,
}

impl<'a> Atvs<'a> {
    fn new(name: &'a [u8]) -> Self {
        Self {
            rdns: tlv::parse_exact(name).ok().map(|t| t.children()),
            atvs: None,
        }
    }
}

impl<'a> Iterator for Atvs<'a> {
    type Item = (&'a [u8], Tlv<'a>);
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(atvs) = &mut self.atvs {
                match atvs.next() {
                    Some(Ok(atv)) => {
                        let mut r = atv.children();
                        if let (Ok(oid), Ok(v)) = (r.next_tlv(), r.next_tlv()) {
                            return Some((oid.value, v));
                        }
                        continue;
                    }
                    Some(Err(_)) => {
                        // As `break` in name_attributes: the rest of this RDN is dropped.
                        self.atvs = None;
                        continue;
                    }
                    None => self.atvs = None,
                }
            }
            match self.rdns.as_mut()?.next()? {
                Ok(rdn) => self.atvs = Some(rdn.children()),
                Err(_) => {
                    self.rdns = None;
                    return None;
                }
            }
        }
    }
}

/// An attribute value's text: BMPString decoded, anything else read as UTF-8 (lossy).
fn attribute_text<'a>(v: &Tlv<'a>) -> std::borrow::Cow<'a, str> {
    match v.tag {
        0x1e => {
            // BMPString
            let u: Vec<u16> = v
                .value
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                .collect();
            std::borrow::Cow::Owned(String::from_utf16_lossy(&u))
        }
        _ => String::from_utf8_lossy(v.value),
    }
}

/// Whether two strings are equal once whitespace runs are collapsed, ends trimmed and case
/// folded (no allocation).
pub(crate) fn same_normalized(a: &str, b: &str) -> bool {
    let mut wa = a.split_whitespace();
    let mut wb = b.split_whitespace();
    loop {
        match (wa.next(), wb.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) => {
                if !x
                    .chars()
                    .flat_map(char::to_lowercase)
                    .eq(y.chars().flat_map(char::to_lowercase))
                {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// The (OID content octets, text value) pairs of a Name, in order.
pub fn name_attributes(name: &[u8]) -> Vec<(Vec<u8>, String)> {
    Atvs::new(name)
        .map(|(o, v)| (o.to_vec(), attribute_text(&v).into_owned()))
        .collect()
}

/// A one-line DN (RFC 4514 style, most significant first as stored).
pub fn dn_string(name: &[u8]) -> String {
    const LABELS: [(const_oid::ObjectIdentifier, &str); 9] = [
        (oid::AT_COMMON_NAME, "CN"),
        (oid::AT_COUNTRY_NAME, "C"),
        (oid::AT_LOCALITY_NAME, "L"),
        (oid::AT_STATE_OR_PROVINCE_NAME, "ST"),
        (oid::AT_ORGANIZATION_NAME, "O"),
        (oid::AT_ORGANIZATIONAL_UNIT_NAME, "OU"),
        (oid::AT_SERIAL_NUMBER, "serialNumber"),
        (oid::AT_ORGANIZATION_IDENTIFIER, "organizationIdentifier"),
        (oid::AT_EMAIL_ADDRESS, "emailAddress"),
    ];
    let mut out = String::with_capacity(name.len());
    for (i, (o, v)) in name_attributes(name).iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        match LABELS.iter().find(|(x, _)| is(o, x)) {
            Some((_, l)) => out.push_str(l),
            None => out.push_str(&tlv::oid_string(o)),
        }
        out.push('=');
        out.push_str(v);
    }
    out
}

/// Parses every certificate in a PEM or DER buffer.
pub fn certificates_from_pem_or_der(bytes: &[u8]) -> Vec<Certificate> {
    let blocks = crate::input::pem_blocks(bytes, "CERTIFICATE");
    if blocks.is_empty() {
        return Certificate::parse(bytes).into_iter().collect();
    }
    blocks
        .iter()
        .filter_map(|b| Certificate::parse(b).ok())
        .collect()
}

/// A revoked entry in a CRL.
#[derive(Clone, Debug)]
pub struct RevokedEntry {
    /// Serial number content octets.
    pub serial: Vec<u8>,
    /// Revocation date.
    pub date: i64,
    /// Reason code, if given.
    pub reason: Option<u64>,
}

/// The GeneralName elements of a DistributionPointName's fullName ([0]); none for
/// nameRelativeToCRLIssuer.
fn full_names(dpn: &Tlv<'_>) -> tlv::Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    if let Some(full) = dpn.children().optional(0xa0)? {
        for n in full.children() {
            out.push(n?.raw.to_vec());
        }
    }
    Ok(out)
}

/// The scope of a CRL from its issuingDistributionPoint extension (RFC 5280 §5.2.5).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CrlScope {
    /// The distribution point's fullName GeneralNames (raw), when named.
    pub names: Option<Vec<Vec<u8>>>,
    /// onlyContainsUserCerts.
    pub only_user: bool,
    /// onlyContainsCACerts.
    pub only_ca: bool,
    /// onlySomeReasons, indirectCRL or onlyContainsAttributeCerts: a partial or indirect CRL,
    /// which this verifier does not use to show a certificate is not revoked.
    pub partial: bool,
}

impl CrlScope {
    fn parse(val: &[u8]) -> tlv::Result<Self> {
        let mut s = CrlScope::default();
        let flag = |t: &Tlv<'_>| t.value.first().is_some_and(|&v| v != 0);
        for e in tlv::parse_exact(val)?.children() {
            let e = e?;
            match e.tag {
                0xa0 => s.names = Some(full_names(&e)?),
                0x81 => s.only_user = flag(&e),
                0x82 => s.only_ca = flag(&e),
                0x83 => s.partial = true,
                0x84 | 0x85 => s.partial |= flag(&e),
                _ => {}
            }
        }
        Ok(s)
    }

    /// Whether a CRL of this scope covers `cert` (RFC 5280 §6.3.3 (b)(2), without indirect
    /// CRLs): the named distribution point must be one of the certificate's, and the kind of
    /// certificate must be the one the CRL lists.
    pub fn covers(&self, cert: &Certificate) -> bool {
        if self.partial || (self.only_user && cert.is_ca()) || (self.only_ca && !cert.is_ca()) {
            return false;
        }
        match &self.names {
            Some(names) if !names.is_empty() => names
                .iter()
                .any(|n| cert.crl_dp_names.iter().any(|c| c == n)),
            _ => true,
        }
    }
}

/// What a [`Crl`] holds.
#[derive(Debug)]
pub struct CrlData {
    /// The whole encoding.
    pub raw: Vec<u8>,
    tbs: (usize, usize),
    sig_alg: (usize, usize),
    signature: (usize, usize),
    issuer: (usize, usize),
    /// thisUpdate.
    pub this_update: i64,
    /// nextUpdate.
    pub next_update: Option<i64>,
    /// Revoked certificates.
    pub revoked: Vec<RevokedEntry>,
    /// authorityKeyIdentifier.
    pub aki: Option<Vec<u8>>,
    /// An unsupported critical CRL or entry extension (the CRL must not be used).
    pub unusable: bool,
    /// The issuingDistributionPoint scope, if the extension is present.
    pub scope: Option<CrlScope>,
}

/// A CRL (RFC 5280 §5), parsed once and shared. Its fields are those of [`CrlData`].
pub type Crl = Shared<CrlData>;

impl Parse for CrlData {
    fn parse_encoding(raw: &[u8]) -> tlv::Result<Self> {
        Self::parse(raw)
    }
}

impl CrlData {
    /// Parses a CRL.
    fn parse(raw: &[u8]) -> tlv::Result<Self> {
        let t = tlv::parse_exact(raw)?.expect(tag::SEQUENCE)?;
        let mut r = t.children();
        let tbs = r.expect(tag::SEQUENCE)?;
        let sig_alg = r.expect(tag::SEQUENCE)?;
        let sig = r.expect(tag::BIT_STRING)?.bit_string_bytes()?;
        let mut tr = tbs.children();
        tr.optional(tag::INTEGER)?;
        tr.expect(tag::SEQUENCE)?;
        let issuer = tr.expect(tag::SEQUENCE)?;
        let this_update = tlv::parse_time(&tr.next_tlv()?)?.0;
        let mut next_update = None;
        if matches!(
            tr.peek_tag(),
            Some(tag::UTC_TIME) | Some(tag::GENERALIZED_TIME)
        ) {
            next_update = Some(tlv::parse_time(&tr.next_tlv()?)?.0);
        }
        let mut crl = CrlData {
            raw: raw.to_vec(),
            tbs: span(raw, tbs.raw),
            sig_alg: span(raw, sig_alg.raw),
            signature: span(raw, sig),
            issuer: span(raw, issuer.raw),
            this_update,
            next_update,
            revoked: Vec::new(),
            aki: None,
            unusable: false,
            scope: None,
        };
        if let Some(list) = tr.optional(tag::SEQUENCE)? {
            for e in list.children() {
                let e = e?;
                let mut er = e.children();
                let serial = er.expect(tag::INTEGER)?.value.to_vec();
                let date = tlv::parse_time(&er.next_tlv()?)?.0;
                let mut reason = None;
                if let Some(exts) = er.optional(tag::SEQUENCE)? {
                    for x in exts.children() {
                        let (o, critical, val) = extension(&x?)?;
                        match o {
                            _ if is(o, &oid::ID_CE_CRL_REASONS) => {
                                reason = tlv::parse_exact(val).and_then(|v| v.small_uint()).ok()
                            }
                            _ if is(o, &oid::ID_CE_INVALIDITY_DATE) => {}
                            _ if critical => crl.unusable = true,
                            _ => {}
                        }
                    }
                }
                crl.revoked.push(RevokedEntry {
                    serial,
                    date,
                    reason,
                });
            }
        }
        if let Some(x) = tr.optional(0xa0)? {
            let exts = tlv::parse_exact(x.value)?;
            for x in exts.children() {
                let (o, critical, val) = extension(&x?)?;
                match o {
                    _ if is(o, &oid::ID_CE_AUTHORITY_KEY_IDENTIFIER) => {
                        if let Ok(s) = tlv::parse_exact(val) {
                            for i in s.children().flatten() {
                                if i.tag == 0x80 {
                                    crl.aki = Some(i.value.to_vec());
                                }
                            }
                        }
                    }
                    _ if is(o, &oid::ID_CE_ISSUING_DISTRIBUTION_POINT) => {
                        match CrlScope::parse(val) {
                            Ok(sc) => crl.scope = Some(sc),
                            Err(_) => crl.unusable = true,
                        }
                    }
                    _ if is(o, &oid::ID_CE_CRL_NUMBER) => {}
                    _ if critical => crl.unusable = true,
                    _ => {}
                }
            }
        }
        Ok(crl)
    }

    /// The signed TBSCertList bytes.
    pub fn tbs(&self) -> &[u8] {
        &self.raw[self.tbs.0..self.tbs.1]
    }
    /// The signature algorithm.
    pub fn sig_alg(&self) -> tlv::Result<AlgId<'_>> {
        tlv::parse_exact(&self.raw[self.sig_alg.0..self.sig_alg.1]).and_then(|t| AlgId::parse(&t))
    }
    /// The signature value.
    pub fn signature(&self) -> &[u8] {
        &self.raw[self.signature.0..self.signature.1]
    }
    /// The issuer Name.
    pub fn issuer(&self) -> &[u8] {
        &self.raw[self.issuer.0..self.issuer.1]
    }
}
