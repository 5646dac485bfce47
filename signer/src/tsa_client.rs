//! An RFC 3161 client: builds a `TimeStampReq` with a nonce, posts it over HTTP
//! (`application/timestamp-query`, RFC 3161 section 3.4), bounds time and size, and reads the
//! `TimeStampResp`. The token's own checks (imprint, nonce, signature, TSA certificate) are in
//! [`crate::tst`].
//!
//! Only `http://` URLs: TLS adds nothing to a signed time stamp's integrity (RFC 3161 section 4),
//! and the workspace carries no TLS stack.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use inkan_profiles::alg::DigestAlgorithm;
use inkan_profiles::asn1::tsp::PkiFailureInfo;

use crate::der_raw::{self, encode, encode_parts, tag};
use crate::digest;

/// Largest response body accepted. A token with a long chain is a few KiB; 1 MiB leaves room for
/// any real TSA and stops a hostile one from exhausting memory.
pub const MAX_RESPONSE: usize = 1024 * 1024;

/// Default time allowed for one request, connection included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// What went wrong talking to a TSA.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TsaError {
    /// The URL is not an `http://` URL this client can use.
    BadUrl(String),
    /// Connecting or exchanging failed (refused, reset, DNS).
    Transport(String),
    /// No answer within the time allowed.
    Timeout,
    /// An HTTP status other than 200.
    HttpStatus(u16),
    /// The response body exceeded [`MAX_RESPONSE`].
    TooLarge,
    /// The body is not a `TimeStampResp`.
    Garbage(String),
    /// The TSA refused (PKIStatus other than granted / grantedWithMods).
    Rejected {
        /// PKIStatus.
        status: u64,
        /// Statusstring and failInfo, as text.
        detail: String,
    },
    /// The token failed a check on receipt.
    BadToken(String),
}

impl std::fmt::Display for TsaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BadUrl(u) => write!(f, "TSA URL {u:?} is not usable (only http:// URLs)"),
            Self::Transport(e) => write!(f, "could not reach the TSA: {e}"),
            Self::Timeout => write!(f, "the TSA did not answer in time"),
            Self::HttpStatus(s) => write!(f, "the TSA answered HTTP status {s}"),
            Self::TooLarge => write!(f, "the TSA's answer is larger than {MAX_RESPONSE} bytes"),
            Self::Garbage(e) => write!(f, "the TSA's answer is not a TimeStampResp: {e}"),
            Self::Rejected { status, detail } => {
                write!(f, "the TSA refused the request (status {status}{detail})")
            }
            Self::BadToken(e) => write!(f, "the TSA's token failed a check: {e}"),
        }
    }
}

impl std::error::Error for TsaError {}

/// A request about to be sent, with what the answer must match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The hash algorithm of the imprint.
    pub alg: DigestAlgorithm,
    /// The imprint (hash of the time-stamped data).
    pub imprint: Vec<u8>,
    /// The nonce magnitude (big-endian, no sign).
    pub nonce: Vec<u8>,
    /// The DER `TimeStampReq`.
    pub der: Vec<u8>,
}

/// Fresh random bytes from the operating system.
pub fn random_bytes(n: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut b = vec![0u8; n];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut b)?;
    Ok(b)
}

impl Request {
    /// A request for `imprint` (already hashed with `alg`) with a random 64-bit nonce, asking
    /// for the TSA certificate (certReq true) so the token can be checked and kept for B-LT.
    pub fn new(alg: DigestAlgorithm, imprint: Vec<u8>) -> std::io::Result<Self> {
        let mut nonce = random_bytes(8)?;
        nonce[0] &= 0x7f;
        nonce[0] |= 0x01; // eight significant bytes, never zero
        Ok(Self::with_nonce(alg, imprint, nonce))
    }

    /// A request with the given nonce.
    pub fn with_nonce(alg: DigestAlgorithm, imprint: Vec<u8>, nonce: Vec<u8>) -> Self {
        let mi = encode_parts(
            tag::SEQUENCE,
            &[
                digest::algorithm_identifier(alg),
                encode(tag::OCTET_STRING, &imprint),
            ],
        );
        let der = encode_parts(
            tag::SEQUENCE,
            &[
                der_raw::encode_uint(&[1]),
                mi,
                der_raw::encode_uint(&nonce),
                encode(tag::BOOLEAN, &[0xff]),
            ],
        );
        Self {
            alg,
            imprint,
            nonce,
            der,
        }
    }
}

/// Posts `body` to `url` and returns the response body.
pub async fn post(url: &str, body: Vec<u8>, timeout: Duration) -> Result<Vec<u8>, TsaError> {
    let uri: hyper::Uri = url.parse().map_err(|_| TsaError::BadUrl(url.to_owned()))?;
    if uri.scheme_str() != Some("http") || uri.host().is_none() {
        return Err(TsaError::BadUrl(url.to_owned()));
    }
    let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
    connector.set_connect_timeout(Some(timeout));
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build::<_, Full<Bytes>>(connector);
    let req = hyper::Request::post(uri)
        .header("content-type", "application/timestamp-query")
        .header("accept", "application/timestamp-reply")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| TsaError::BadUrl(format!("{url}: {e}")))?;
    let work = async {
        let resp = client
            .request(req)
            .await
            .map_err(|e| TsaError::Transport(error_chain(&e)))?;
        if resp.status() != hyper::StatusCode::OK {
            return Err(TsaError::HttpStatus(resp.status().as_u16()));
        }
        let body = Limited::new(resp.into_body(), MAX_RESPONSE)
            .collect()
            .await
            .map_err(|e| {
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some()
                {
                    TsaError::TooLarge
                } else {
                    TsaError::Transport(e.to_string())
                }
            })?;
        Ok(body.to_bytes().to_vec())
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| TsaError::Timeout)?
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// Reads a `TimeStampResp` and returns the token (a DER `ContentInfo`) when granted.
///
/// ```text
/// TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken TimeStampToken OPTIONAL }
/// PKIStatusInfo ::= SEQUENCE { status PKIStatus, statusString PKIFreeText OPTIONAL,
///                              failInfo PKIFailureInfo OPTIONAL }
/// ```
pub fn token_from_response(resp: &[u8]) -> Result<Vec<u8>, TsaError> {
    let g = |e: der_raw::DerError| TsaError::Garbage(e.0);
    let outer = der_raw::parse_one(resp).map_err(g)?;
    let outer = outer.expect(tag::SEQUENCE, "TimeStampResp").map_err(g)?;
    let mut r = outer.reader();
    let psi = r.expect(tag::SEQUENCE, "PKIStatusInfo").map_err(g)?;
    let token = r.optional(tag::SEQUENCE).map_err(g)?;
    r.finish("TimeStampResp").map_err(g)?;
    let mut pr = psi.reader();
    let status = pr
        .expect(tag::INTEGER, "PKIStatus")
        .map_err(g)?
        .small_uint()
        .map_err(g)?;
    let mut detail = String::new();
    if let Some(text) = pr.optional(tag::SEQUENCE).map_err(g)? {
        for s in text.children().map_err(g)? {
            detail.push_str(", ");
            detail.push_str(&String::from_utf8_lossy(s.value));
        }
    }
    if let Some(bits) = pr.optional(0x03).map_err(g)? {
        detail.push_str(&format!(", failInfo {}", fail_info_names(bits.value)));
    }
    match status {
        0 | 1 => {}
        _ => return Err(TsaError::Rejected { status, detail }),
    }
    match token {
        Some(t) => Ok(t.raw.to_vec()),
        None => Err(TsaError::Garbage("status granted but no token".into())),
    }
}

fn fail_info_names(bitstring: &[u8]) -> String {
    // A DER BIT STRING's contents: the unused-bit count, then bits from the most significant.
    let mut v = 0u32;
    for (i, b) in bitstring.get(1..).unwrap_or(&[]).iter().take(4).enumerate() {
        v |= u32::from(b.reverse_bits()) << (8 * i);
    }
    let set = PkiFailureInfo(v).names();
    if set.is_empty() {
        "(none named)".into()
    } else {
        set.join("|")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_encoding() {
        let r = Request::with_nonce(DigestAlgorithm::Sha256, vec![0xab; 32], vec![0x01, 0x02]);
        let t = der_raw::parse_one(&r.der).unwrap();
        let k = t.children().unwrap();
        assert_eq!(k.len(), 4);
        assert_eq!(k[2].value, &[1, 2]);
        assert_eq!(k[3].raw, &[1, 1, 0xff]);
    }

    #[test]
    fn rejection_and_garbage() {
        // status rejection(2), failInfo badAlg
        let resp = encode(
            tag::SEQUENCE,
            &encode_parts(
                tag::SEQUENCE,
                &[der_raw::encode_uint(&[2]), vec![0x03, 0x02, 0x07, 0x80]],
            ),
        );
        match token_from_response(&resp) {
            Err(TsaError::Rejected { status: 2, detail }) => assert!(detail.contains("badAlg")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            token_from_response(b"<html>"),
            Err(TsaError::Garbage(_))
        ));
    }

    #[test]
    fn bad_urls() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        for u in ["https://x/", "ftp://x", "not a url"] {
            assert!(matches!(
                rt.block_on(post(u, vec![], DEFAULT_TIMEOUT)),
                Err(TsaError::BadUrl(_))
            ));
        }
        // Nothing listens on port 1.
        assert!(matches!(
            rt.block_on(post("http://127.0.0.1:1/", vec![], DEFAULT_TIMEOUT)),
            Err(TsaError::Transport(_))
        ));
    }
}
