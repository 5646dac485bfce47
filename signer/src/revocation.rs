//! Revocation data for B-LT: CRLs and OCSP responses, taken from files or fetched from the
//! certificates' CRL distribution points, each validated before it is embedded: signed by the
//! certificate's issuer (or, for OCSP, by a responder the issuer authorised), fresh at the time
//! of use, and not saying the certificate is revoked.

use inkan_profiles::alg::DigestAlgorithm;
use inkan_profiles::time::UnixTime;
use x509_cert::crl::CertificateList;

use crate::certs::{self, Cert};
use crate::der_raw::{self, tag};
use crate::{crypto, tst};

/// Validated revocation information for one certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Evidence {
    /// A DER CRL.
    Crl(Vec<u8>),
    /// A DER OCSPResponse, and the responder certificate when delegated.
    Ocsp(Vec<u8>, Option<Vec<u8>>),
}

fn to_unix(t: &x509_cert::time::Time) -> UnixTime {
    let d = t.to_unix_duration();
    UnixTime::new(d.as_secs(), d.subsec_nanos())
}

/// Reads a CRL file (DER or PEM).
pub fn read_crl_bytes(bytes: &[u8]) -> Result<Vec<u8>, String> {
    if bytes.first() == Some(&tag::SEQUENCE) {
        return Ok(bytes.to_vec());
    }
    let text = std::str::from_utf8(bytes).map_err(|_| "neither DER nor PEM".to_string())?;
    let (label, der) = der::pem::decode_vec(text.as_bytes()).map_err(|e| format!("PEM: {e}"))?;
    if label != "X509 CRL" {
        return Err(format!("PEM label {label:?} is not X509 CRL"));
    }
    Ok(der)
}

/// Checks a CRL against `cert` issued by `issuer` at `at`: the CRL's issuer and signature,
/// `thisUpdate <= at <= nextUpdate`, and that `cert` is not on it.
pub fn check_crl(crl_der: &[u8], cert: &Cert, issuer: &Cert, at: UnixTime) -> Result<(), String> {
    use der::Decode as _;
    let crl = CertificateList::<x509_cert::certificate::Rfc5280>::from_der(crl_der)
        .map_err(|e| format!("not a CRL: {e}"))?;
    let raw = der_raw::parse_one(crl_der).map_err(|e| e.0)?;
    let mut r = raw.reader();
    let tbs = r.expect(tag::SEQUENCE, "tbsCertList").map_err(|e| e.0)?;
    let alg = r
        .expect(tag::SEQUENCE, "signatureAlgorithm")
        .map_err(|e| e.0)?;
    let sig = r.expect(0x03, "signature").map_err(|e| e.0)?;
    if crl.tbs_cert_list.issuer != *issuer.cert.tbs_certificate().subject() {
        return Err("the CRL was issued by another CA".into());
    }
    if !issuer.allows_crl_sign() {
        return Err(format!(
            "{} may not sign CRLs (key usage)",
            issuer.subject()
        ));
    }
    crypto::verify(
        &issuer.spki,
        alg.raw,
        tbs.raw,
        sig.value.get(1..).unwrap_or(&[]),
        at,
    )
    .map_err(|e| format!("CRL signature: {e}"))?;
    let this = to_unix(&crl.tbs_cert_list.this_update);
    if this > at {
        return Err("the CRL's thisUpdate is in the future".into());
    }
    match &crl.tbs_cert_list.next_update {
        Some(n) if to_unix(n) >= at => {}
        Some(_) => return Err("the CRL is stale (nextUpdate has passed)".into()),
        None => return Err("the CRL has no nextUpdate, so its freshness is unknown".into()),
    }
    if let Some(revoked) = &crl.tbs_cert_list.revoked_certificates
        && revoked
            .iter()
            .any(|rc| rc.serial_number.as_bytes() == strip(&cert.serial))
    {
        return Err(format!("{} is revoked", cert.subject()));
    }
    Ok(())
}

fn strip(v: &[u8]) -> &[u8] {
    let mut v = v;
    while v.len() > 1 && v[0] == 0 && v[1] & 0x80 == 0 {
        v = &v[1..];
    }
    v
}

/// Checks an OCSP response for `cert` issued by `issuer` at `at`. Returns the delegated
/// responder's certificate, if the response was signed by one.
///
/// ```text
/// OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, responseBytes [0] EXPLICIT
///     SEQUENCE { responseType OBJECT IDENTIFIER, response OCTET STRING } OPTIONAL }
/// BasicOCSPResponse ::= SEQUENCE { tbsResponseData ResponseData, signatureAlgorithm,
///     signature BIT STRING, certs [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
/// ResponseData ::= SEQUENCE { version [0] EXPLICIT Version DEFAULT v1, responderID
///     ResponderID, producedAt GeneralizedTime, responses SEQUENCE OF SingleResponse,
///     responseExtensions [1] EXPLICIT Extensions OPTIONAL }
/// SingleResponse ::= SEQUENCE { certID CertID, certStatus CertStatus, thisUpdate
///     GeneralizedTime, nextUpdate [0] EXPLICIT GeneralizedTime OPTIONAL, ... }
/// CertID ::= SEQUENCE { hashAlgorithm, issuerNameHash OCTET STRING, issuerKeyHash OCTET
///     STRING, serialNumber CertificateSerialNumber }
/// ```
pub fn check_ocsp(
    resp: &[u8],
    cert: &Cert,
    issuer: &Cert,
    at: UnixTime,
) -> Result<Option<Cert>, String> {
    let e = |e: der_raw::DerError| format!("OCSP response: {e}");
    let top = der_raw::parse_one(resp).map_err(e)?;
    let mut r = top.reader();
    let status = r.expect(tag::ENUMERATED, "responseStatus").map_err(e)?;
    if status.value != [0] {
        return Err(format!(
            "OCSP responseStatus is {:?}, not successful",
            status.value
        ));
    }
    let rb = r.expect(tag::CTX0, "responseBytes").map_err(e)?;
    let rb = rb
        .reader()
        .expect(tag::SEQUENCE, "ResponseBytes")
        .map_err(e)?;
    let mut rr = rb.reader();
    let rtype = der_raw::oid(&rr.expect(tag::OID, "responseType").map_err(e)?).map_err(e)?;
    if rtype.to_string() != "1.3.6.1.5.5.7.48.1.1" {
        return Err("OCSP response is not id-pkix-ocsp-basic".into());
    }
    let basic = rr.expect(tag::OCTET_STRING, "response").map_err(e)?;
    let basic = der_raw::parse_one(basic.value).map_err(e)?;
    let mut br = basic.reader();
    let tbs = br.expect(tag::SEQUENCE, "tbsResponseData").map_err(e)?;
    let alg = br.expect(tag::SEQUENCE, "signatureAlgorithm").map_err(e)?;
    let sig = br.expect(0x03, "signature").map_err(e)?;
    let certs: Vec<Cert> = match br.optional(tag::CTX0).map_err(e)? {
        Some(c) => c
            .reader()
            .expect(tag::SEQUENCE, "certs")
            .map_err(e)?
            .children()
            .map_err(e)?
            .iter()
            .filter_map(|c| Cert::from_der(c.raw).ok())
            .collect(),
        None => Vec::new(),
    };
    let mut tr = tbs.reader();
    tr.optional(tag::CTX0).map_err(e)?;
    let rid = tr.next_tlv("responderID").map_err(e)?;
    tr.expect(tag::GENERALIZED_TIME, "producedAt").map_err(e)?;
    let responses = tr.expect(tag::SEQUENCE, "responses").map_err(e)?;

    // Who signed: the issuer itself, or a delegated responder the issuer certified.
    let names = |c: &Cert| -> bool {
        match rid.tag {
            0xa1 => rid.value == c.subject_raw.as_slice(),
            0xa2 => der_raw::parse_one(rid.value).is_ok_and(|k| {
                k.value == DigestAlgorithm::Sha1.digest(&c.public_key_bits).as_slice()
            }),
            _ => false,
        }
    };
    let delegated = if names(issuer) {
        None
    } else {
        let d = certs
            .iter()
            .find(|c| names(c))
            .ok_or("the OCSP responder is neither the issuer nor a certificate in the response")?;
        if !certs::names_chain(d, issuer) {
            return Err(
                "the OCSP responder certificate was not issued by the certificate's CA".into(),
            );
        }
        crypto::verify(&issuer.spki, &d.sig_alg, &d.tbs, &d.signature, at)
            .map_err(|e| format!("OCSP responder certificate signature: {e}"))?;
        match d.eku() {
            Some((_, ekus)) if ekus.contains(&certs::ID_KP_OCSP_SIGNING) => {}
            _ => return Err("the OCSP responder certificate lacks id-kp-OCSPSigning".into()),
        }
        if !d.valid_at(at) {
            return Err("the OCSP responder certificate is not valid now".into());
        }
        Some(d.clone())
    };
    let signer = delegated.as_ref().unwrap_or(issuer);
    crypto::verify(
        &signer.spki,
        alg.raw,
        tbs.raw,
        sig.value.get(1..).unwrap_or(&[]),
        at,
    )
    .map_err(|e| format!("OCSP response signature: {e}"))?;

    for single in responses.children().map_err(e)? {
        let mut sr = single.reader();
        let cid = sr.expect(tag::SEQUENCE, "certID").map_err(e)?;
        let status = sr.next_tlv("certStatus").map_err(e)?;
        let this = sr.expect(tag::GENERALIZED_TIME, "thisUpdate").map_err(e)?;
        let next = sr.optional(tag::CTX0).map_err(e)?;
        let mut cr = cid.reader();
        let halg = cr.expect(tag::SEQUENCE, "hashAlgorithm").map_err(e)?;
        let name_hash = cr.expect(tag::OCTET_STRING, "issuerNameHash").map_err(e)?;
        let key_hash = cr.expect(tag::OCTET_STRING, "issuerKeyHash").map_err(e)?;
        let serial = cr.expect(tag::INTEGER, "serialNumber").map_err(e)?;
        let hoid =
            der_raw::oid(&halg.reader().expect(tag::OID, "algorithm").map_err(e)?).map_err(e)?;
        let Ok(h) = DigestAlgorithm::from_oid(&hoid) else {
            continue;
        };
        if serial.raw != cert.serial_raw.as_slice()
            || name_hash.value != h.digest(&issuer.subject_raw).as_slice()
            || key_hash.value != h.digest(&issuer.public_key_bits).as_slice()
        {
            continue;
        }
        match status.tag {
            0x80 => {}
            0xa1 => return Err(format!("OCSP says {} is revoked", cert.subject())),
            _ => return Err(format!("OCSP status of {} is unknown", cert.subject())),
        }
        let this = tst::parse_generalized_time(this.value).map_err(e)?;
        if this > UnixTime::from_secs(at.secs().saturating_add(300)) {
            return Err("the OCSP response's thisUpdate is in the future".into());
        }
        match next {
            Some(n) => {
                let n = n
                    .reader()
                    .expect(tag::GENERALIZED_TIME, "nextUpdate")
                    .and_then(|t| tst::parse_generalized_time(t.value))
                    .map_err(e)?;
                if n < at {
                    return Err("the OCSP response is stale (nextUpdate has passed)".into());
                }
            }
            // Without nextUpdate, accept a response made within the last day.
            None if at.secs().saturating_sub(this.secs()) <= 86_400 => {}
            None => return Err("the OCSP response is older than a day".into()),
        }
        return Ok(delegated);
    }
    Err(format!(
        "the OCSP response says nothing about {}",
        cert.subject()
    ))
}

/// Fetches `url` with HTTP GET (CRL distribution point), bounded in time and size; `https://`
/// through [`crate::https`] with the system trust store.
pub async fn fetch(url: &str, timeout: std::time::Duration) -> Result<Vec<u8>, String> {
    use http_body_util::{BodyExt, Empty, Limited};
    let uri: hyper::Uri = url.parse().map_err(|_| format!("bad URL {url}"))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(format!("{url}: only http:// and https:// are fetched"));
    }
    let connector = crate::https::Connector::system(timeout).map_err(|e| format!("{url}: {e}"))?;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build::<_, Empty<bytes::Bytes>>(connector);
    let work = async {
        let resp = client
            .get(uri)
            .await
            .map_err(|e| format!("{url}: {}", crate::https::describe(&e)))?;
        if !resp.status().is_success() {
            return Err(format!("{url}: HTTP status {}", resp.status()));
        }
        let body = Limited::new(resp.into_body(), 64 * 1024 * 1024)
            .collect()
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        Ok(body.to_bytes().to_vec())
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| format!("{url}: timed out"))?
}

/// Finds validated revocation evidence for `cert` (issued by `issuer`) among `crls` and
/// `ocsps`, or else by fetching its CRL distribution points (when `fetch` is set). The error
/// lists what was tried.
pub fn evidence_for(
    cert: &Cert,
    issuer: &Cert,
    crls: &[Vec<u8>],
    ocsps: &[Vec<u8>],
    at: UnixTime,
    fetch_rt: Option<&tokio::runtime::Runtime>,
) -> Result<Evidence, String> {
    let mut tried = Vec::new();
    for o in ocsps {
        match check_ocsp(o, cert, issuer, at) {
            Ok(d) => return Ok(Evidence::Ocsp(o.clone(), d.map(|c| c.der))),
            Err(e) if e.contains("says nothing") => {}
            Err(e) => tried.push(e),
        }
    }
    for c in crls {
        match check_crl(c, cert, issuer, at) {
            Ok(()) => return Ok(Evidence::Crl(c.clone())),
            Err(e) if e.contains("another CA") => {}
            Err(e) => tried.push(e),
        }
    }
    if let Some(rt) = fetch_rt {
        for url in cert.crl_urls() {
            match rt.block_on(fetch(&url, std::time::Duration::from_secs(20))) {
                Ok(bytes) => match read_crl_bytes(&bytes)
                    .and_then(|der| check_crl(&der, cert, issuer, at).map(|()| der))
                {
                    Ok(der) => return Ok(Evidence::Crl(der)),
                    Err(e) => tried.push(format!("{url}: {e}")),
                },
                Err(e) => tried.push(e),
            }
        }
    }
    let mut msg = format!(
        "no valid revocation data for {} (give --crl or --ocsp",
        cert.subject()
    );
    if cert.crl_urls().is_empty() {
        msg.push_str("; it names no CRL distribution point)");
    } else {
        msg.push_str(&format!(
            ", or make {} reachable)",
            cert.crl_urls().join(", ")
        ));
    }
    for t in tried {
        msg.push_str("; ");
        msg.push_str(&t);
    }
    Err(msg)
}
