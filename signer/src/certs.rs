//! Certificates as the signer needs them: the raw fields that CMS identifiers compare, and the
//! extensions that decide whether a certificate may seal, stamp, or answer OCSP.

use const_oid::ObjectIdentifier;
use der::Decode as _;
use inkan_profiles::time::UnixTime;
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AuthorityInfoAccessSyntax, CrlDistributionPoints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectKeyIdentifier,
};

use inkan_profiles::asn1::tlv::{self, Rules, Tlv, TlvError, tag};

/// Extended key usages, access methods and extensions the signer checks (RFC 5280, RFC 6960).
pub use inkan_profiles::oid::{
    ID_AD_OCSP, ID_KP_OCSP_SIGNING, ID_KP_TIME_STAMPING, ID_PKIX_OCSP_NOCHECK,
};

/// A parsed certificate with its original encodings.
#[derive(Clone, Debug)]
pub struct Cert {
    /// The whole certificate, DER.
    pub der: Vec<u8>,
    /// The decoded certificate.
    pub cert: Certificate,
    /// The raw serialNumber INTEGER element.
    pub serial_raw: Vec<u8>,
    /// The serial number's contents octets.
    pub serial: Vec<u8>,
    /// The raw issuer Name.
    pub issuer_raw: Vec<u8>,
    /// The raw subject Name.
    pub subject_raw: Vec<u8>,
    /// The raw SubjectPublicKeyInfo.
    pub spki: Vec<u8>,
    /// The subjectPublicKey BIT STRING contents, without the unused-bits octet.
    pub public_key_bits: Vec<u8>,
    /// The raw tbsCertificate (what the issuer signed).
    pub tbs: Vec<u8>,
    /// The raw signatureAlgorithm.
    pub sig_alg: Vec<u8>,
    /// The signature value.
    pub signature: Vec<u8>,
    /// notBefore.
    pub not_before: UnixTime,
    /// notAfter.
    pub not_after: UnixTime,
}

fn to_unix(t: &x509_cert::time::Time) -> UnixTime {
    let d = t.to_unix_duration();
    UnixTime::new(d.as_secs(), d.subsec_nanos())
}

impl Cert {
    /// Parses a DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Self, String> {
        let cert = Certificate::from_der(der).map_err(|e| format!("not a certificate: {e}"))?;
        let e = String::from;
        let outer = tlv::parse_exact_with(der, Rules::LOW_TAGS_ONLY).map_err(e)?;
        let mut r = outer.children();
        let tbs = r.expect_named(tag::SEQUENCE, "tbsCertificate").map_err(e)?;
        let sig_alg = r
            .expect_named(tag::SEQUENCE, "signatureAlgorithm")
            .map_err(e)?;
        let sig = r.expect_named(0x03, "signature").map_err(e)?;
        let mut t = tbs.children();
        t.optional(tag::CTX0).map_err(e)?;
        let serial = t.expect_named(tag::INTEGER, "serialNumber").map_err(e)?;
        t.expect_named(tag::SEQUENCE, "signature").map_err(e)?;
        let issuer = t.expect_named(tag::SEQUENCE, "issuer").map_err(e)?;
        t.expect_named(tag::SEQUENCE, "validity").map_err(e)?;
        let subject = t.expect_named(tag::SEQUENCE, "subject").map_err(e)?;
        let spki = t
            .expect_named(tag::SEQUENCE, "subjectPublicKeyInfo")
            .map_err(e)?;
        let mut sr = spki.children();
        sr.expect_named(tag::SEQUENCE, "algorithm").map_err(e)?;
        let bits = sr.expect_named(0x03, "subjectPublicKey").map_err(e)?;
        let v = cert.tbs_certificate().validity();
        Ok(Self {
            der: der.to_vec(),
            serial_raw: serial.raw.to_vec(),
            serial: serial.value.to_vec(),
            issuer_raw: issuer.raw.to_vec(),
            subject_raw: subject.raw.to_vec(),
            spki: spki.raw.to_vec(),
            public_key_bits: bits.value.get(1..).unwrap_or(&[]).to_vec(),
            tbs: tbs.raw.to_vec(),
            sig_alg: sig_alg.raw.to_vec(),
            signature: sig.value.get(1..).unwrap_or(&[]).to_vec(),
            not_before: to_unix(&v.not_before),
            not_after: to_unix(&v.not_after),
            cert,
        })
    }

    /// Reads every certificate of a PEM file (or one DER certificate).
    pub fn load_chain(bytes: &[u8]) -> Result<Vec<Self>, String> {
        if bytes.first() == Some(&tag::SEQUENCE) {
            return Ok(vec![Self::from_der(bytes)?]);
        }
        let certs = Certificate::load_pem_chain(bytes)
            .map_err(|e| format!("not a PEM certificate chain: {e}"))?;
        certs
            .iter()
            .map(|c| {
                let der = der::Encode::to_der(c).map_err(|e| e.to_string())?;
                Self::from_der(&der)
            })
            .collect()
    }

    /// The subject, printable (see [`dn_string`]): `CN=…,organizationIdentifier=NTRJP-…,O=…`.
    pub fn subject(&self) -> String {
        dn_string(&self.subject_raw)
    }

    /// The issuer, printable (see [`dn_string`]).
    pub fn issuer(&self) -> String {
        dn_string(&self.issuer_raw)
    }

    /// Whether subject and issuer are the same name.
    pub fn self_issued(&self) -> bool {
        self.subject_raw == self.issuer_raw
    }

    /// Whether `at` lies within the validity period.
    pub fn valid_at(&self, at: UnixTime) -> bool {
        self.not_before <= at && at <= self.not_after
    }

    /// The extended key usages and whether the extension is critical.
    pub fn eku(&self) -> Option<(bool, Vec<ObjectIdentifier>)> {
        match self
            .cert
            .tbs_certificate()
            .get_extension::<ExtendedKeyUsage>()
        {
            Ok(Some((crit, e))) => Some((crit, e.0)),
            _ => None,
        }
    }

    /// Whether the key usage allows signatures that commit the signer (digitalSignature or
    /// nonRepudiation / contentCommitment). A certificate without the extension allows all.
    pub fn allows_sealing(&self) -> bool {
        match self.cert.tbs_certificate().get_extension::<KeyUsage>() {
            Ok(Some((_, ku))) => {
                ku.0.contains(KeyUsages::DigitalSignature)
                    || ku.0.contains(KeyUsages::NonRepudiation)
            }
            Ok(None) => true,
            Err(_) => false,
        }
    }

    /// Whether the key usage allows signing CRLs.
    pub fn allows_crl_sign(&self) -> bool {
        match self.cert.tbs_certificate().get_extension::<KeyUsage>() {
            Ok(Some((_, ku))) => ku.0.contains(KeyUsages::CRLSign),
            Ok(None) => true,
            Err(_) => false,
        }
    }

    /// Whether the certificate has the given extension.
    pub fn has_extension(&self, oid: &ObjectIdentifier) -> bool {
        self.cert
            .tbs_certificate()
            .extensions()
            .is_some_and(|exts| exts.iter().any(|e| &e.extn_id == oid))
    }

    /// The subjectKeyIdentifier.
    pub fn ski(&self) -> Option<Vec<u8>> {
        match self
            .cert
            .tbs_certificate()
            .get_extension::<SubjectKeyIdentifier>()
        {
            Ok(Some((_, s))) => Some(s.0.as_bytes().to_vec()),
            _ => None,
        }
    }

    /// The http URIs of the CRL distribution points.
    pub fn crl_urls(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Ok(Some((_, dps))) = self
            .cert
            .tbs_certificate()
            .get_extension::<CrlDistributionPoints>()
        {
            for dp in dps.0 {
                if let Some(DistributionPointName::FullName(names)) = dp.distribution_point {
                    for n in names {
                        if let GeneralName::UniformResourceIdentifier(u) = n {
                            out.push(u.to_string());
                        }
                    }
                }
            }
        }
        out
    }

    /// The http URIs of OCSP responders (authorityInfoAccess id-ad-ocsp).
    pub fn ocsp_urls(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Ok(Some((_, aia))) = self
            .cert
            .tbs_certificate()
            .get_extension::<AuthorityInfoAccessSyntax>()
        {
            for ad in aia.0 {
                if ad.access_method == ID_AD_OCSP
                    && let GeneralName::UniformResourceIdentifier(u) = ad.access_location
                {
                    out.push(u.to_string());
                }
            }
        }
        out
    }
}

/// Short names of the attributes a seal's or CA's name usually holds (RFC 4514 §3, X.520,
/// EN 319 412-1 §5.1.4 for organizationIdentifier).
const NAME_LABELS: [(ObjectIdentifier, &str); 12] = [
    (inkan_profiles::oid::AT_COMMON_NAME, "CN"),
    (inkan_profiles::oid::AT_SURNAME, "SN"),
    (inkan_profiles::oid::AT_GIVEN_NAME, "GN"),
    (inkan_profiles::oid::AT_SERIAL_NUMBER, "serialNumber"),
    (inkan_profiles::oid::AT_COUNTRY_NAME, "C"),
    (inkan_profiles::oid::AT_LOCALITY_NAME, "L"),
    (inkan_profiles::oid::AT_STATE_OR_PROVINCE_NAME, "ST"),
    (inkan_profiles::oid::AT_ORGANIZATION_NAME, "O"),
    (inkan_profiles::oid::AT_ORGANIZATIONAL_UNIT_NAME, "OU"),
    (
        inkan_profiles::oid::AT_ORGANIZATION_IDENTIFIER,
        "organizationIdentifier",
    ),
    (inkan_profiles::oid::AT_EMAIL_ADDRESS, "emailAddress"),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.25"),
        "DC",
    ),
];

/// The text of a DirectoryString-like value (UTF8String, PrintableString, IA5String,
/// TeletexString read as Latin-1, BMPString, UniversalString), or `None` for another type.
fn attribute_text(t: &Tlv<'_>) -> Option<String> {
    match t.tag {
        0x0c | 0x13 | 0x16 | 0x1a => std::str::from_utf8(t.value).ok().map(str::to_owned),
        0x14 => Some(t.value.iter().map(|&b| char::from(b)).collect()),
        0x1e if t.value.len().is_multiple_of(2) => char::decode_utf16(
            t.value
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]])),
        )
        .collect::<Result<String, _>>()
        .ok(),
        0x1c if t.value.len().is_multiple_of(4) => t
            .value
            .chunks_exact(4)
            .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
            .collect(),
        _ => None,
    }
}

/// RFC 4514 §2.4 escaping of a value's text; control characters as `\XX`.
fn escape_value(v: &str, out: &mut String) {
    let last = v.chars().count().saturating_sub(1);
    for (i, c) in v.chars().enumerate() {
        match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=' => {
                out.push('\\');
                out.push(c);
            }
            '#' | ' ' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            ' ' if i == last => out.push_str("\\ "),
            c if c.is_control() => {
                let mut b = [0u8; 4];
                for byte in c.encode_utf8(&mut b).bytes() {
                    out.push_str(&format!("\\{byte:02X}"));
                }
            }
            c => out.push(c),
        }
    }
}

/// A distinguished name (the DER `Name`) as one line of text in the order of RFC 4514 (the
/// last RDN first, as OpenSSL's `-nameopt RFC2253` and `x509-cert` print it), with every
/// string value as text, so that an organizationIdentifier reads
/// `organizationIdentifier=NTRJP-1234567890123` rather than `2.5.4.97=#0c…`. Attributes
/// without a short name show their dotted OID; values that are not strings, `#` and their
/// DER in hex (RFC 4514 §2.4). Never fails: an undecodable name prints as `#` and its hex.
pub fn dn_string(name: &[u8]) -> String {
    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
    let parse = || -> Result<Vec<Vec<(ObjectIdentifier, Tlv<'_>)>>, TlvError> {
        let seq = tlv::parse_exact_with(name, Rules::LOW_TAGS_ONLY)?
            .expect_named(tag::SEQUENCE, "Name")?;
        let mut rdns = Vec::new();
        for rdn in seq.elements()? {
            let rdn = rdn.expect_named(tag::SET, "RelativeDistinguishedName")?;
            let mut atvs = Vec::new();
            for atv in rdn.elements()? {
                let mut r = atv
                    .expect_named(tag::SEQUENCE, "AttributeTypeAndValue")?
                    .children();
                let o = r.expect_named(tag::OID, "type")?.oid()?;
                atvs.push((o, r.next_named("value")?));
            }
            rdns.push(atvs);
        }
        Ok(rdns)
    };
    let Ok(rdns) = parse() else {
        return format!("#{}", hex(name));
    };
    let mut out = String::with_capacity(name.len());
    for (i, rdn) in rdns.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, (o, v)) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            match NAME_LABELS.iter().find(|(x, _)| x == o) {
                Some((_, label)) => out.push_str(label),
                None => out.push_str(&o.to_string()),
            }
            out.push('=');
            match attribute_text(v) {
                Some(text) => escape_value(&text, &mut out),
                None => {
                    out.push('#');
                    out.push_str(&hex(v.raw));
                }
            }
        }
    }
    out
}

/// Whether `issuer` may have issued `cert` by name (the signature is checked separately).
pub fn names_chain(cert: &Cert, issuer: &Cert) -> bool {
    cert.issuer_raw == issuer.subject_raw
}

/// Orders `pool` into a path from `leaf` towards a root, by names, without loops; at most 16
/// certificates long.
pub fn path<'a>(leaf: &'a Cert, pool: &'a [Cert]) -> Vec<&'a Cert> {
    let mut out = vec![leaf];
    let mut cur = leaf;
    while !cur.self_issued() && out.len() < 16 {
        match pool
            .iter()
            .find(|c| names_chain(cur, c) && !out.iter().any(|o| o.der == c.der))
        {
            Some(next) => {
                out.push(next);
                cur = next;
            }
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use inkan_profiles::asn1::tlv::{encode, encode_oid, encode_parts};

    fn atv(o: &str, t: u8, v: &[u8]) -> Vec<u8> {
        let o = ObjectIdentifier::new_unwrap(o);
        encode(
            tag::SET,
            &encode_parts(tag::SEQUENCE, &[encode_oid(&o), encode(t, v)]),
        )
    }

    #[test]
    fn names_print_every_string_as_text() {
        let name = encode_parts(
            tag::SEQUENCE,
            &[
                atv("2.5.4.6", 0x13, b"JP"),
                atv("2.5.4.97", 0x0c, b"NTRJP-1234567890123"),
                atv("2.5.4.10", 0x0c, "株式会社 例, 本社".as_bytes()),
                atv("1.2.3.4", 0x04, b"\x01"),
                atv("2.5.4.3", 0x1e, &[0, b'A', 0, b'=']),
            ],
        );
        assert_eq!(
            dn_string(&name),
            "CN=A\\=,1.2.3.4=#040101,O=株式会社 例\\, 本社,\
             organizationIdentifier=NTRJP-1234567890123,C=JP"
        );
        assert_eq!(dn_string(b"\x01\x02"), "#0102");
    }
}
