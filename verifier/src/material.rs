//! What a validation works on: the signed content ([`Content`]) and the validation material
//! at hand ([`Material`]: trust anchors, certificates, CRLs, OCSP responses, and the
//! constraints that come with them).

use inkan_profiles::alg::DigestAlgorithm;
use inkan_profiles::oid;

use std::sync::Arc;

use crate::cms::{self, SignedData};
use crate::crypto::Call;
use crate::x509::{Certificate, Crl};

/// Where the signed content comes from.
pub enum Content<'a> {
    /// In memory.
    Bytes(&'a [u8]),
    /// A file, hashed by streaming.
    File(&'a std::path::Path),
    /// Not available.
    Missing,
}

impl Content<'_> {
    /// The digest of the content, or `None` when it is missing or unreadable.
    pub fn digest(&self, d: DigestAlgorithm) -> Option<Vec<u8>> {
        match self {
            Content::Bytes(b) => Some(d.digest(b)),
            Content::File(p) => hash_file(p, d).ok(),
            Content::Missing => None,
        }
    }
}

/// Streams a file through a hasher with a fixed buffer (memory does not grow with the file).
pub fn hash_file(p: &std::path::Path, d: DigestAlgorithm) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut f = std::fs::File::open(p)?;
    let mut h = d.hasher();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize())
}

/// Validation material at hand: anchors, certificates, CRLs, OCSP responses.
#[derive(Clone, Debug, Default)]
pub struct Material {
    /// Trust anchors.
    pub anchors: Vec<Certificate>,
    /// Other certificates (from every source).
    pub certs: Vec<Certificate>,
    /// CRLs.
    pub crls: Vec<Crl>,
    /// OCSP responses.
    pub ocsps: Vec<cms::BasicOcsp>,
    /// Whether revocation information is required.
    pub revocation_required: bool,
    /// Certificate policies (OID content octets) one of which the signer's path must be
    /// valid for (`--policy`; empty: no requirement). Not applied to TSA paths.
    pub required_policies: Vec<Vec<u8>>,
    /// The validation time, when known: revocation information dated after it is not used
    /// (RFC 5280 §6.3.3, RFC 6960 §4.2.2.1). `None`: the time of interest of each check.
    pub validation_time: Option<i64>,
    /// The signature is a PDF signature of the ISO 32000-1 §12.8.3.3 PKCS#7 kind
    /// (`adbe.pkcs7.*`), not CAdES: ESS signing-certificate is not required of it.
    pub iso32000_pkcs7: bool,
    /// A proof of existence of the signature from outside it (a PDF document time-stamp
    /// covering the revision it signs): the signature is judged as existing then.
    pub external_poe: Option<i64>,
    /// The call this material is used in: every signature verified while validating with it
    /// goes through its cache and budget ([`Call::verify_signature`]).
    pub call: Arc<Call>,
}

impl Material {
    /// Adds what a SignedData carries (certificates, CRLs, OCSP, legacy values attributes).
    pub fn absorb(&mut self, sd: &SignedData) {
        for c in &sd.certs {
            self.add_cert(c.clone());
        }
        for c in &sd.crls {
            if let Ok(c) = Crl::parse(c) {
                self.crls.push(c);
            }
        }
        for o in &sd.ocsps {
            if let Ok(o) = cms::parse_ocsp(o) {
                self.add_ocsp(o);
            }
        }
        for si in &sd.signers {
            for a in si.unsigned(&oid::ID_AA_ETS_CERT_VALUES) {
                for v in &a.values {
                    if let Ok(t) = crate::tlv::parse_exact(v) {
                        for c in t.children().flatten() {
                            if let Ok(c) = Certificate::parse(c.raw) {
                                self.add_cert(c);
                            }
                        }
                    }
                }
            }
            let rv = si
                .unsigned(&oid::ID_AA_ETS_REVOCATION_VALUES)
                .chain(si.signed(&oid::ID_AA_ETS_REVOCATION_VALUES));
            for a in rv {
                for v in &a.values {
                    self.absorb_revocation_values(v);
                }
            }
        }
    }

    fn absorb_revocation_values(&mut self, v: &[u8]) {
        let Ok(t) = crate::tlv::parse_exact(v) else {
            return;
        };
        for part in t.children().flatten() {
            let Ok(inner) = crate::tlv::parse_exact(part.value) else {
                continue;
            };
            match part.tag {
                0xa0 => {
                    for c in inner.children().flatten() {
                        if let Ok(c) = Crl::parse(c.raw) {
                            self.crls.push(c);
                        }
                    }
                }
                0xa1 => {
                    for o in inner.children().flatten() {
                        if let Ok(o) = cms::parse_ocsp(o.raw) {
                            self.add_ocsp(o);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn add_ocsp(&mut self, o: cms::BasicOcsp) {
        for c in &o.certs {
            self.add_cert(c.clone());
        }
        self.ocsps.push(o);
    }

    /// Adds a certificate unless it is already known.
    pub fn add_cert(&mut self, c: Certificate) {
        if !self.certs.iter().any(|x| x.raw == c.raw) {
            self.certs.push(c);
        }
    }

    pub(crate) fn is_anchor(&self, c: &Certificate) -> bool {
        self.anchors.iter().any(|a| a.raw == c.raw)
    }

    pub(crate) fn candidates<'s>(&'s self) -> impl Iterator<Item = &'s Certificate> + 's {
        self.anchors.iter().chain(self.certs.iter())
    }
}
