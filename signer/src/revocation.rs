//! Revocation data for B-LT: CRLs and OCSP responses, taken from files or fetched (unless
//! `--no-fetch`) from the OCSP responders in the certificates' authorityInfoAccess and from
//! their CRL distribution points, each validated before it is embedded: signed by the
//! certificate's issuer (or, for OCSP, by a responder the issuer authorised), fresh at the time
//! of use, and not saying the certificate is revoked.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use inkan_profiles::alg::DigestAlgorithm;
use inkan_profiles::time::UnixTime;
use x509_cert::crl::CertificateList;

use crate::certs::{self, Cert};
use crate::error::RevocationError;
use crate::proxy::Proxies;
use crate::{crypto, tst};
use inkan_profiles::asn1::tlv::{self, Rules, TlvError, tag};

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
pub fn check_crl(
    crl_der: &[u8],
    cert: &Cert,
    issuer: &Cert,
    at: UnixTime,
) -> Result<(), RevocationError> {
    use der::Decode as _;
    let crl = CertificateList::<x509_cert::certificate::Rfc5280>::from_der(crl_der)
        .map_err(|e| format!("not a CRL: {e}"))?;
    let raw = tlv::parse_exact_with(crl_der, Rules::LOW_TAGS_ONLY).map_err(String::from)?;
    let mut r = raw.children();
    let tbs = r
        .expect_named(tag::SEQUENCE, "tbsCertList")
        .map_err(String::from)?;
    let alg = r
        .expect_named(tag::SEQUENCE, "signatureAlgorithm")
        .map_err(String::from)?;
    let sig = r.expect_named(0x03, "signature").map_err(String::from)?;
    if crl.tbs_cert_list.issuer != *issuer.cert.tbs_certificate().subject() {
        return Err(RevocationError::NotAbout(
            "the CRL was issued by another CA".into(),
        ));
    }
    if !issuer.allows_crl_sign() {
        return Err(format!("{} may not sign CRLs (key usage)", issuer.subject()).into());
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
        return Err(RevocationError::Revoked(format!(
            "{} is revoked",
            cert.subject()
        )));
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
) -> Result<Option<Cert>, RevocationError> {
    let e = |e: TlvError| format!("OCSP response: {e}");
    let top = tlv::parse_exact_with(resp, Rules::LOW_TAGS_ONLY).map_err(e)?;
    let mut r = top.children();
    let status = r
        .expect_named(tag::ENUMERATED, "responseStatus")
        .map_err(e)?;
    if status.value != [0] {
        return Err(format!("OCSP responseStatus is {:?}, not successful", status.value).into());
    }
    let rb = r.expect_named(tag::CTX0, "responseBytes").map_err(e)?;
    let rb = rb
        .children()
        .expect_named(tag::SEQUENCE, "ResponseBytes")
        .map_err(e)?;
    let mut rr = rb.children();
    let rtype = rr
        .expect_named(tag::OID, "responseType")
        .map_err(e)?
        .oid()
        .map_err(e)?;
    if rtype.to_string() != "1.3.6.1.5.5.7.48.1.1" {
        return Err("OCSP response is not id-pkix-ocsp-basic".into());
    }
    let basic = rr.expect_named(tag::OCTET_STRING, "response").map_err(e)?;
    let basic = tlv::parse_exact_with(basic.value, Rules::LOW_TAGS_ONLY).map_err(e)?;
    let mut br = basic.children();
    let tbs = br
        .expect_named(tag::SEQUENCE, "tbsResponseData")
        .map_err(e)?;
    let alg = br
        .expect_named(tag::SEQUENCE, "signatureAlgorithm")
        .map_err(e)?;
    let sig = br.expect_named(0x03, "signature").map_err(e)?;
    let certs: Vec<Cert> = match br.optional(tag::CTX0).map_err(e)? {
        Some(c) => c
            .children()
            .expect_named(tag::SEQUENCE, "certs")
            .map_err(e)?
            .elements()
            .map_err(e)?
            .iter()
            .filter_map(|c| Cert::from_der(c.raw).ok())
            .collect(),
        None => Vec::new(),
    };
    let mut tr = tbs.children();
    tr.optional(tag::CTX0).map_err(e)?;
    let rid = tr.next_named("responderID").map_err(e)?;
    tr.expect_named(tag::GENERALIZED_TIME, "producedAt")
        .map_err(e)?;
    let responses = tr.expect_named(tag::SEQUENCE, "responses").map_err(e)?;

    // Who signed: the issuer itself, or a delegated responder the issuer certified.
    let names = |c: &Cert| -> bool {
        match rid.tag {
            0xa1 => rid.value == c.subject_raw.as_slice(),
            0xa2 => tlv::parse_exact_with(rid.value, Rules::LOW_TAGS_ONLY).is_ok_and(|k| {
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

    for single in responses.elements().map_err(e)? {
        let mut sr = single.children();
        let cid = sr.expect_named(tag::SEQUENCE, "certID").map_err(e)?;
        let status = sr.next_named("certStatus").map_err(e)?;
        let this = sr
            .expect_named(tag::GENERALIZED_TIME, "thisUpdate")
            .map_err(e)?;
        let next = sr.optional(tag::CTX0).map_err(e)?;
        let mut cr = cid.children();
        let halg = cr.expect_named(tag::SEQUENCE, "hashAlgorithm").map_err(e)?;
        let name_hash = cr
            .expect_named(tag::OCTET_STRING, "issuerNameHash")
            .map_err(e)?;
        let key_hash = cr
            .expect_named(tag::OCTET_STRING, "issuerKeyHash")
            .map_err(e)?;
        let serial = cr.expect_named(tag::INTEGER, "serialNumber").map_err(e)?;
        let hoid = halg
            .children()
            .expect_named(tag::OID, "algorithm")
            .map_err(e)?
            .oid()
            .map_err(e)?;
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
            0xa1 => {
                return Err(RevocationError::Revoked(format!(
                    "OCSP says {} is revoked",
                    cert.subject()
                )));
            }
            _ => {
                return Err(RevocationError::Revoked(format!(
                    "OCSP status of {} is unknown",
                    cert.subject()
                )));
            }
        }
        let this = tst::parse_generalized_time(this.value).map_err(e)?;
        if this > UnixTime::from_secs(at.secs().saturating_add(300)) {
            return Err("the OCSP response's thisUpdate is in the future".into());
        }
        match next {
            Some(n) => {
                let n = n
                    .children()
                    .expect_named(tag::GENERALIZED_TIME, "nextUpdate")
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
    Err(RevocationError::NotAbout(format!(
        "the OCSP response says nothing about {}",
        cert.subject()
    )))
}

/// Fetches `url` with HTTP GET (CRL distribution point), bounded in time and size (64 MiB);
/// `https://` through [`crate::https`] with the system trust store; through a proxy when
/// `proxies` says so.
pub async fn fetch(
    url: &str,
    timeout: std::time::Duration,
    proxies: &Arc<Proxies>,
) -> Result<Vec<u8>, String> {
    let uri: hyper::Uri = url.parse().map_err(|_| format!("bad URL {url}"))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(format!("{url}: only http:// and https:// are fetched"));
    }
    let connector = crate::https::Connector::system(timeout).map_err(|e| format!("{url}: {e}"))?;
    let req = hyper::Request::get(uri)
        .body(Full::new(Bytes::new()))
        .map_err(|e| format!("{url}: {e}"))?;
    exchange(url, req, connector, proxies, 64 * 1024 * 1024, timeout).await
}

/// Sends `req` for `url` through `connector` (and `proxies`), and returns the body of a 2xx
/// answer, at most `limit` bytes, all within `timeout`.
async fn exchange(
    url: &str,
    mut req: hyper::Request<Full<Bytes>>,
    connector: crate::https::Connector,
    proxies: &Arc<Proxies>,
    limit: usize,
    timeout: std::time::Duration,
) -> Result<Vec<u8>, String> {
    use http_body_util::{BodyExt as _, Limited};
    let proxy = proxies.for_uri(req.uri());
    // An http:// request through a proxy carries the proxy's credentials (https:// ones went
    // with CONNECT).
    if req.uri().scheme_str() == Some("http")
        && let Some(a) = proxy.as_ref().and_then(|p| p.authorization())
    {
        req.headers_mut()
            .insert(hyper::header::PROXY_AUTHORIZATION, a.clone());
    }
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build::<_, Full<Bytes>>(connector.with_proxies(proxies.clone()));
    let work = async {
        let resp = client
            .request(req)
            .await
            .map_err(|e| format!("{url}: {}", crate::https::describe(&e)))?;
        if resp.status() == hyper::StatusCode::PROXY_AUTHENTICATION_REQUIRED
            && let Some(p) = &proxy
        {
            return Err(format!(
                "{url}: {}",
                crate::https::ProxyFailure::auth_required(p)
            ));
        }
        if !resp.status().is_success() {
            return Err(format!("{url}: HTTP status {}", resp.status()));
        }
        let body = Limited::new(resp.into_body(), limit)
            .collect()
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        Ok(body.to_bytes().to_vec())
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| format!("{url}: timed out"))?
}

/// `id-sha1` (RFC 3279 section 2.2.1): the CertID hash of OCSP requests, as RFC 5019 section
/// 2.1.1 asks of lightweight responders. It only names the certificate; nothing relies on its
/// collision resistance, and the response is checked against the same names.
const ID_SHA1: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.3.14.3.2.26");

/// A DER OCSPRequest (RFC 6960 section 4.1.1) for `cert` issued by `issuer`, without nonce or
/// signature.
///
/// ```text
/// OCSPRequest ::= SEQUENCE { tbsRequest TBSRequest, optionalSignature [0] EXPLICIT ... }
/// TBSRequest ::= SEQUENCE { version [0] EXPLICIT Version DEFAULT v1, requestorName [1] ...,
///     requestList SEQUENCE OF Request, requestExtensions [2] EXPLICIT Extensions OPTIONAL }
/// Request ::= SEQUENCE { reqCert CertID, singleRequestExtensions [0] ... OPTIONAL }
/// ```
pub fn ocsp_request(cert: &Cert, issuer: &Cert) -> Vec<u8> {
    let h = DigestAlgorithm::Sha1;
    let alg = tlv::encode_parts(
        tag::SEQUENCE,
        &[tlv::encode_oid(&ID_SHA1), vec![tag::NULL, 0]],
    );
    let cert_id = tlv::encode_parts(
        tag::SEQUENCE,
        &[
            alg,
            tlv::encode(tag::OCTET_STRING, &h.digest(&issuer.subject_raw)),
            tlv::encode(tag::OCTET_STRING, &h.digest(&issuer.public_key_bits)),
            cert.serial_raw.clone(),
        ],
    );
    let request = tlv::encode(tag::SEQUENCE, &cert_id);
    let list = tlv::encode(tag::SEQUENCE, &request);
    let tbs = tlv::encode(tag::SEQUENCE, &list);
    tlv::encode(tag::SEQUENCE, &tbs)
}

/// Posts an OCSP request to `url` (RFC 6960 Appendix A.1, HTTP POST), bounded in time and in
/// response size (1 MiB); through a proxy when `proxies` says so.
pub async fn post_ocsp(
    url: &str,
    request: Vec<u8>,
    timeout: std::time::Duration,
    proxies: &Arc<Proxies>,
) -> Result<Vec<u8>, String> {
    let uri: hyper::Uri = url.parse().map_err(|_| format!("bad URL {url}"))?;
    if uri.scheme_str() != Some("http") {
        return Err(format!("{url}: only http:// OCSP responders are asked"));
    }
    let req = hyper::Request::post(uri)
        .header(hyper::header::CONTENT_TYPE, "application/ocsp-request")
        .body(Full::new(Bytes::from(request)))
        .map_err(|e| format!("{url}: {e}"))?;
    let connector = crate::https::Connector::new(None, timeout);
    exchange(url, req, connector, proxies, 1024 * 1024, timeout).await
}

/// Time allowed for each CRL download or OCSP request.
const FETCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// Finds validated revocation evidence for `cert` (issued by `issuer`) among `crls` and
/// `ocsps`, or else (when `fetch_rt` is given: a runtime, and the proxies to go through) by asking the OCSP responders named in its
/// authorityInfoAccess, then by fetching its CRL distribution points. Whatever is fetched is
/// validated ([`check_ocsp`], [`check_crl`]) before it is returned. The error lists what was
/// tried, and says whether a responder or distribution point could not be reached (or
/// answered with an error) rather than answered something unusable.
pub fn evidence_for(
    cert: &Cert,
    issuer: &Cert,
    crls: &[Vec<u8>],
    ocsps: &[Vec<u8>],
    at: UnixTime,
    fetch_rt: Option<(&tokio::runtime::Runtime, &Arc<Proxies>)>,
) -> Result<Evidence, NoEvidence> {
    let mut tried = Vec::new();
    let mut unreachable = false;
    for o in ocsps {
        match check_ocsp(o, cert, issuer, at) {
            Ok(d) => return Ok(Evidence::Ocsp(o.clone(), d.map(|c| c.der))),
            Err(RevocationError::NotAbout(_)) => {}
            Err(e) => tried.push(e.to_string()),
        }
    }
    for c in crls {
        match check_crl(c, cert, issuer, at) {
            Ok(()) => return Ok(Evidence::Crl(c.clone())),
            Err(RevocationError::NotAbout(_)) => {}
            Err(e) => tried.push(e.to_string()),
        }
    }
    if let Some((rt, proxies)) = fetch_rt {
        for url in cert.ocsp_urls() {
            let asked = rt.block_on(post_ocsp(
                &url,
                ocsp_request(cert, issuer),
                FETCH_TIMEOUT,
                proxies,
            ));
            match asked {
                Ok(resp) => match check_ocsp(&resp, cert, issuer, at) {
                    Ok(d) => return Ok(Evidence::Ocsp(resp, d.map(|c| c.der))),
                    Err(e) => tried.push(format!("{url}: {e}")),
                },
                Err(e) => {
                    unreachable = true;
                    tried.push(e);
                }
            }
        }
        for url in cert.crl_urls() {
            match rt.block_on(fetch(&url, FETCH_TIMEOUT, proxies)) {
                Ok(bytes) => match read_crl_bytes(&bytes)
                    .map_err(RevocationError::Unusable)
                    .and_then(|der| check_crl(&der, cert, issuer, at).map(|()| der))
                {
                    Ok(der) => return Ok(Evidence::Crl(der)),
                    Err(e) => tried.push(format!("{url}: {e}")),
                },
                Err(e) => {
                    unreachable = true;
                    tried.push(e);
                }
            }
        }
    }
    let mut msg = format!(
        "no valid revocation data for {} (give --crl or --ocsp",
        cert.subject()
    );
    let urls: Vec<String> = cert
        .ocsp_urls()
        .into_iter()
        .chain(cert.crl_urls())
        .collect();
    if urls.is_empty() {
        msg.push_str("; it names no OCSP responder and no CRL distribution point)");
    } else if fetch_rt.is_none() {
        msg.push_str(&format!(
            ", or fetch from {} without --no-fetch)",
            urls.join(", ")
        ));
    } else {
        msg.push_str(&format!(", or make {} reachable)", urls.join(", ")));
    }
    for t in tried {
        msg.push_str("; ");
        msg.push_str(&t);
    }
    Err(NoEvidence {
        message: msg,
        unreachable,
    })
}

/// Why [`evidence_for`] found nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoEvidence {
    /// What was tried, and how to help.
    pub message: String,
    /// Whether a responder or distribution point asked could not be reached or answered
    /// with an error (a service unavailable, not unusable data).
    pub unreachable: bool,
}

impl std::fmt::Display for NoEvidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::process::{Child, Command};

    fn openssl(dir: &Path, args: &[&str]) {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A CA and an e-seal certificate (serial 0x1234) whose authorityInfoAccess names an OCSP
    /// responder on 127.0.0.1:`port`, made by openssl in `dir`.
    fn pki(dir: &Path, port: u16) -> (Cert, Cert) {
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        let mut ca = vec!["req", "-x509"];
        ca.extend(ec);
        ca.extend([
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-subj",
            "/CN=OCSP Test CA",
            "-days",
            "2",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
        ]);
        openssl(dir, &ca);
        let mut ee = vec!["req", "-new"];
        ee.extend(ec);
        ee.extend(["-keyout", "ee.key", "-out", "ee.csr", "-subj", "/CN=Seal"]);
        openssl(dir, &ee);
        std::fs::write(
            dir.join("ext.cnf"),
            format!(
                "authorityInfoAccess=OCSP;URI:http://127.0.0.1:{port}/\nkeyUsage=critical,digitalSignature,nonRepudiation\n"
            ),
        )
        .unwrap();
        openssl(
            dir,
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
                "1",
                "-extfile",
                "ext.cnf",
                "-out",
                "ee.pem",
            ],
        );
        let load = |f: &str| {
            Cert::load_chain(&std::fs::read(dir.join(f)).unwrap())
                .unwrap()
                .remove(0)
        };
        (load("ee.pem"), load("ca.pem"))
    }

    /// Starts `openssl ocsp` as the responder on `port`, answering from an index where the
    /// certificate is valid or revoked, and waits until it listens.
    fn responder(dir: &Path, port: u16, revoked: bool) -> Child {
        let line = if revoked {
            "R\t301231235959Z\t240101000000Z\t1234\tunknown\t/CN=Seal\n"
        } else {
            "V\t301231235959Z\t\t1234\tunknown\t/CN=Seal\n"
        };
        std::fs::write(dir.join("index.txt"), line).unwrap();
        let mut child = Command::new("openssl")
            .args([
                "ocsp",
                "-index",
                "index.txt",
                "-CA",
                "ca.pem",
                "-rsigner",
                "ca.pem",
            ])
            .args([
                "-rkey",
                "ca.key",
                "-rmd",
                "sha256",
                "-port",
                &port.to_string(),
            ])
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("openssl ocsp starts");
        // It says when it listens. (A probing connection would hang its one-at-a-time loop.)
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead as _;
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if line.contains("waiting for OCSP client connections") {
                    let _ = tx.send(());
                }
            }
        });
        rx.recv_timeout(std::time::Duration::from_secs(10))
            .expect("openssl ocsp listens");
        child
    }

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    #[test]
    fn ocsp_fetched_from_aia_and_validated() {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let (ee, ca) = pki(dir.path(), port);
        assert_eq!(ee.ocsp_urls(), [format!("http://127.0.0.1:{port}/")]);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let now = {
            use inkan_profiles::clock::Clock as _;
            inkan_profiles::clock::SystemClock.now().unwrap()
        };

        // --no-fetch: nothing asked, and the message says where it could have come from.
        let e = evidence_for(&ee, &ca, &[], &[], now, None).unwrap_err();
        assert!(!e.unreachable);
        let e = e.message;
        assert!(e.contains("without --no-fetch"), "{e}");
        assert!(e.contains(&format!("127.0.0.1:{port}")), "{e}");

        // The responder is down: a clear error naming the URL.
        let direct = Arc::new(Proxies::none());
        let e = evidence_for(&ee, &ca, &[], &[], now, Some((&rt, &direct))).unwrap_err();
        assert!(e.unreachable);
        let e = e.message;
        assert!(e.contains(&format!("http://127.0.0.1:{port}/")), "{e}");

        let mut child = responder(dir.path(), port, false);
        let got = evidence_for(&ee, &ca, &[], &[], now, Some((&rt, &direct)));
        let _ = child.kill();
        let _ = child.wait();
        let Ok(Evidence::Ocsp(resp, None)) = got else {
            panic!("expected an OCSP response signed by the CA: {got:?}")
        };
        // What is embedded passes the same validation, and openssl reads it.
        assert!(check_ocsp(&resp, &ee, &ca, now).unwrap().is_none());
        std::fs::write(dir.path().join("resp.der"), &resp).unwrap();
        openssl(
            dir.path(),
            &[
                "ocsp",
                "-respin",
                "resp.der",
                "-issuer",
                "ca.pem",
                "-cert",
                "ee.pem",
                "-CAfile",
                "ca.pem",
                "-no_nonce",
            ],
        );

        // A responder that says "revoked": nothing is embedded.
        let mut child = responder(dir.path(), port, true);
        let got = evidence_for(&ee, &ca, &[], &[], now, Some((&rt, &direct)));
        let _ = child.kill();
        let _ = child.wait();
        let e = got.unwrap_err();
        assert!(!e.unreachable);
        let e = e.message;
        assert!(e.contains("revoked"), "{e}");
    }

    #[test]
    fn ocsp_request_names_the_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let (ee, ca) = pki(dir.path(), 1);
        let req = ocsp_request(&ee, &ca);
        std::fs::write(dir.path().join("req.der"), &req).unwrap();
        let out = Command::new("openssl")
            .args(["ocsp", "-reqin", "req.der", "-req_text"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{text}");
        assert!(text.contains("Serial Number: 1234"), "{text}");
        assert!(text.contains("Hash Algorithm: sha1"), "{text}");
    }
}
