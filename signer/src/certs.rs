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

use crate::der_raw::{self, tag};

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
        let e = |e: der_raw::DerError| e.0;
        let outer = der_raw::parse_one(der).map_err(e)?;
        let mut r = outer.reader();
        let tbs = r.expect(tag::SEQUENCE, "tbsCertificate").map_err(e)?;
        let sig_alg = r.expect(tag::SEQUENCE, "signatureAlgorithm").map_err(e)?;
        let sig = r.expect(0x03, "signature").map_err(e)?;
        let mut t = tbs.reader();
        t.optional(tag::CTX0).map_err(e)?;
        let serial = t.expect(tag::INTEGER, "serialNumber").map_err(e)?;
        t.expect(tag::SEQUENCE, "signature").map_err(e)?;
        let issuer = t.expect(tag::SEQUENCE, "issuer").map_err(e)?;
        t.expect(tag::SEQUENCE, "validity").map_err(e)?;
        let subject = t.expect(tag::SEQUENCE, "subject").map_err(e)?;
        let spki = t.expect(tag::SEQUENCE, "subjectPublicKeyInfo").map_err(e)?;
        let mut sr = spki.reader();
        sr.expect(tag::SEQUENCE, "algorithm").map_err(e)?;
        let bits = sr.expect(0x03, "subjectPublicKey").map_err(e)?;
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

    /// The subject, printable.
    pub fn subject(&self) -> String {
        self.cert.tbs_certificate().subject().to_string()
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
