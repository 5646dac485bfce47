//! The request handler: a pure function from request bytes, a [`Context`] and the time the
//! [`crate::ntp::TimeGuard`] allows, to a DER `TimeStampResp` (RFC 3161 §2.4.2) and, for a
//! granted request, the record that must be committed before the response leaves.
//!
//! Every failure is mapped to its `PKIFailureInfo` in ONE place, [`Failure`]; the client sees a
//! short status string, the details go to the log inside the request span.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use const_oid::ObjectIdentifier;
use der::Encode;
use inkan_profiles::alg::DigestAlgorithm;
use inkan_profiles::asn1::tsp::{PkiFailureInfo, PkiStatusInfo, TimeStampReq, TimeStampResp};
use inkan_profiles::policy::{Policy, Use};
use inkan_profiles::time::UnixTime;

use crate::ntp::{TimeGuard, TimeRefusal};
use crate::records::{self, Issued};
use crate::serial::{self, SerialSource};
use crate::timefmt;

/// Why a request is rejected; the one mapping to `PKIFailureInfo` bits (RFC 3161 §2.4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Failure {
    /// Imprint hash algorithm unknown or refused by the CRYPTREC policy (bit 0).
    BadAlg,
    /// Request version is not 1 (bit 2).
    BadRequest,
    /// Not DER, trailing data, or imprint length wrong for its algorithm (bit 5).
    BadDataFormat,
    /// Clock not confirmed within accuracy, or leap window (bit 14).
    TimeNotAvailable,
    /// reqPolicy not served here (bit 15).
    UnacceptedPolicy,
    /// The request carries extensions; none is supported (bit 16).
    UnacceptedExtension,
    /// Signing key, HSM or records store failed (bit 25).
    SystemFailure,
}

impl Failure {
    /// Every failure, in bit order (for metrics).
    pub const ALL: [Failure; 7] = [
        Failure::BadAlg,
        Failure::BadRequest,
        Failure::BadDataFormat,
        Failure::TimeNotAvailable,
        Failure::UnacceptedPolicy,
        Failure::UnacceptedExtension,
        Failure::SystemFailure,
    ];

    /// The `PKIFailureInfo` value (one bit set).
    pub const fn info(self) -> PkiFailureInfo {
        match self {
            Failure::BadAlg => PkiFailureInfo::BAD_ALG,
            Failure::BadRequest => PkiFailureInfo::BAD_REQUEST,
            Failure::BadDataFormat => PkiFailureInfo::BAD_DATA_FORMAT,
            Failure::TimeNotAvailable => PkiFailureInfo::TIME_NOT_AVAILABLE,
            Failure::UnacceptedPolicy => PkiFailureInfo::UNACCEPTED_POLICY,
            Failure::UnacceptedExtension => PkiFailureInfo::UNACCEPTED_EXTENSION,
            Failure::SystemFailure => PkiFailureInfo::SYSTEM_FAILURE,
        }
    }

    /// The ASN.1 name of the bit, used in metrics labels and records.
    pub const fn name(self) -> &'static str {
        match self {
            Failure::BadAlg => "badAlg",
            Failure::BadRequest => "badRequest",
            Failure::BadDataFormat => "badDataFormat",
            Failure::TimeNotAvailable => "timeNotAvailable",
            Failure::UnacceptedPolicy => "unacceptedPolicy",
            Failure::UnacceptedExtension => "unacceptedExtension",
            Failure::SystemFailure => "systemFailure",
        }
    }

    /// The short statusString sent to the client (no internal detail).
    pub const fn status_string(self) -> &'static str {
        match self {
            Failure::BadAlg => "unsupported or disallowed hash algorithm",
            Failure::BadRequest => "unsupported request version",
            Failure::BadDataFormat => "malformed request",
            Failure::TimeNotAvailable => "time source not available",
            Failure::UnacceptedPolicy => "requested policy not supported",
            Failure::UnacceptedExtension => "request extensions not supported",
            Failure::SystemFailure => "system failure",
        }
    }

    /// Index into [`Failure::ALL`].
    pub fn index(self) -> usize {
        Self::ALL.iter().position(|f| *f == self).unwrap_or(0)
    }
}

impl From<TimeRefusal> for Failure {
    /// The clock's refusals are timeNotAvailable; the signing identity's (certificate expired,
    /// key past its CRYPTREC period) are systemFailure: the TSA cannot issue at all.
    fn from(r: TimeRefusal) -> Self {
        if r.is_identity() {
            Failure::SystemFailure
        } else {
            Failure::TimeNotAvailable
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The request (RFC 3161 §2.4.1), decoded strictly with `inkan_profiles::asn1::tsp`: DER only,
// no trailing data.

/// What the handler needs from a parsed request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The DER of `messageImprint`, echoed verbatim into TSTInfo.
    pub imprint_der: Vec<u8>,
    /// The imprint algorithm.
    pub digest: DigestAlgorithm,
    /// The imprint octets.
    pub hashed: Vec<u8>,
    /// reqPolicy.
    pub req_policy: Option<ObjectIdentifier>,
    /// Nonce, DER INTEGER content octets.
    pub nonce: Option<Vec<u8>>,
    /// certReq.
    pub cert_req: bool,
}

/// The record name of a digest (`sha256`, `sha3-256`, ...): the profiles name in lower case,
/// without the dash of the SHA-2 names.
pub fn digest_name(d: DigestAlgorithm) -> &'static str {
    match d {
        DigestAlgorithm::Md5 => "md5",
        DigestAlgorithm::Sha1 => "sha1",
        DigestAlgorithm::Sha224 => "sha224",
        DigestAlgorithm::Sha256 => "sha256",
        DigestAlgorithm::Sha384 => "sha384",
        DigestAlgorithm::Sha512 => "sha512",
        DigestAlgorithm::Sha3_256 => "sha3-256",
        DigestAlgorithm::Sha3_384 => "sha3-384",
        DigestAlgorithm::Sha3_512 => "sha3-512",
        _ => "other",
    }
}

/// Parses a request and runs the checks that need nothing but its bytes, in this order:
/// format (DER `TimeStampReq`, re-encoding identical, no trailing data: badDataFormat),
/// version (badRequest), imprint hash algorithm known with absent or NULL parameters (badAlg),
/// imprint length matching the algorithm (badDataFormat), no extensions
/// (unacceptedExtension). The policy checks ([`check_policy`]) follow in [`handle`].
///
/// This is the fuzzing entry point (`fuzz/fuzz_targets/tsa_request.rs`).
pub fn parse_request(bytes: &[u8]) -> Result<Request, (Failure, String)> {
    let req = match TimeStampReq::parse(bytes) {
        Ok(r) => r,
        Err(e) => {
            if let Some(v) = version_out_of_range(bytes) {
                return Err((
                    Failure::BadRequest,
                    format!("request version is {v}, not 1"),
                ));
            }
            return Err((
                Failure::BadDataFormat,
                format!("request is not DER TimeStampReq: {e}"),
            ));
        }
    };
    // The decoder tolerates a few non-canonical forms (e.g. certReq FALSE written out although
    // it is the DEFAULT); DER has exactly one encoding, so the re-encoding must be the input.
    if req.to_der().ok().as_deref() != Some(bytes) {
        return Err((Failure::BadDataFormat, "request is BER, not DER".into()));
    }
    if req.version != 1 {
        return Err((
            Failure::BadRequest,
            format!("request version is {}, not 1", req.version),
        ));
    }
    let imprint = &req.message_imprint;
    let digest = imprint.algorithm().map_err(|e| {
        (
            Failure::BadAlg,
            format!("imprint hash algorithm {}: {e}", imprint.hash_algorithm.oid),
        )
    })?;
    let hashed = imprint.hashed_message.as_bytes();
    if hashed.len() != digest.output_len() {
        return Err((
            Failure::BadDataFormat,
            format!(
                "imprint is {} bytes, {} needs {}",
                hashed.len(),
                digest.name(),
                digest.output_len()
            ),
        ));
    }
    if req.extensions.is_some() {
        return Err((
            Failure::UnacceptedExtension,
            "request has extensions".into(),
        ));
    }
    // The input is DER (checked above), so the imprint's encoding is its bytes as received:
    // no second encoding on the hot path.
    let imprint_der = match imprint_raw(bytes) {
        Some(raw) => raw.to_vec(),
        None => imprint
            .to_der()
            .map_err(|e| (Failure::BadDataFormat, format!("imprint: {e}")))?,
    };
    Ok(Request {
        imprint_der,
        digest,
        hashed: hashed.to_vec(),
        req_policy: req.req_policy,
        nonce: req.nonce.map(|n| n.as_bytes().to_vec()),
        cert_req: req.cert_req,
    })
}

/// A request whose only fault is a version the decoder cannot hold (negative, or above 255):
/// the version as text when the request, with version 1 in its place, is a DER
/// `TimeStampReq`. Such a request is well formed with an unsupported version, badRequest
/// (RFC 3161 §2.4.2), not badDataFormat. Work is bounded: one more parse, on the error path.
fn version_out_of_range(bytes: &[u8]) -> Option<String> {
    use inkan_profiles::asn1::tlv;
    let outer = tlv::parse_exact(bytes).ok()?;
    if outer.tag != 0x30 {
        return None;
    }
    let mut r = outer.children();
    let v = r.expect(0x02).ok()?;
    let c = v.value;
    if c.is_empty() {
        return None;
    }
    // DER INTEGER: minimal, so at most one leading 0x00 (before a high bit) or 0xff.
    if c.len() > 1 && ((c[0] == 0 && c[1] & 0x80 == 0) || (c[0] == 0xff && c[1] & 0x80 != 0)) {
        return None;
    }
    let negative = c[0] & 0x80 != 0;
    if (!negative && c.len() == 1) || (c.len() == 2 && c[0] == 0) {
        return None; // 0..=255: the decoder's own verdict stands
    }
    let start = v.raw.as_ptr() as usize - bytes.as_ptr() as usize;
    let rest = &bytes[start + v.raw.len()..];
    let mut content = vec![0x02, 0x01, 0x01];
    content.extend_from_slice(rest);
    let mut fixed = Vec::with_capacity(content.len() + 4);
    push_tlv(&mut fixed, 0x30, &content);
    let parsed = TimeStampReq::parse(&fixed).ok()?;
    if parsed.to_der().ok()? != fixed {
        return None;
    }
    Some(if c.len() <= 8 {
        let mut n: i64 = if negative { -1 } else { 0 };
        for b in c {
            n = (n << 8) | i64::from(*b);
        }
        n.to_string()
    } else {
        format!("a {}-byte integer", c.len())
    })
}

/// The `MessageImprint` TLV of a DER `TimeStampReq` as it appears in `bytes` (the element after
/// `version`).
fn imprint_raw(bytes: &[u8]) -> Option<&[u8]> {
    let mut r = inkan_profiles::asn1::tlv::parse_exact(bytes)
        .ok()?
        .children();
    r.expect(0x02).ok()?;
    Some(r.expect(0x30).ok()?.raw)
}

/// Checks the imprint hash against the CRYPTREC policy for making a time-stamp at `at`
/// (`Policy::check_digest(d, Use::Create, at)`: SHA-1, MD5 and SHA-224 are refused); a refusal
/// is badAlg with the rule named in the detail. A SHAKE256 imprint (`id-shake256-len`,
/// RFC 8419 §2.3) is accepted only when `shake_allowed`: the policy admits SHAKE256 as the
/// digest of Ed448 signatures only (RFC 8419 §3.1), so only a TSA signing with Ed448 takes it.
pub fn check_policy(
    req: &Request,
    at: UnixTime,
    shake_allowed: bool,
) -> Result<(), (Failure, String)> {
    if req.digest == DigestAlgorithm::Shake256_512 && !shake_allowed {
        return Err((
            Failure::BadAlg,
            "imprint hash SHAKE256 (id-shake256-len) is used only with Ed448 keys; this TSA's key is not one".into(),
        ));
    }
    Policy::cryptrec()
        .check_digest(req.digest, Use::Create, at)
        .map_err(|r| (Failure::BadAlg, format!("imprint hash refused: {r}")))
}

// ---------------------------------------------------------------------------------------------
// Encoding (TSA-specific DER written directly: it is on the hot path).

/// Appends tag, length and content.
pub fn push_tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    inkan_profiles::asn1::tlv::push_len(out, content.len());
    out.extend_from_slice(content);
}

fn push_uint(out: &mut Vec<u8>, tag: u8, v: u64) {
    let b = v.to_be_bytes();
    let first = b.iter().position(|&x| x != 0).unwrap_or(7);
    let mut c = Vec::with_capacity(9);
    if b[first] & 0x80 != 0 {
        c.push(0);
    }
    c.extend_from_slice(&b[first..]);
    push_tlv(out, tag, &c);
}

/// `Accuracy ::= SEQUENCE { seconds INTEGER OPTIONAL, millis [0] INTEGER (1..999) OPTIONAL,
/// micros [1] INTEGER (1..999) OPTIONAL }` for a duration of at least 1 µs.
pub fn accuracy_der(acc: Duration) -> Vec<u8> {
    let mut c = Vec::new();
    let secs = acc.as_secs();
    let millis = acc.subsec_millis();
    let micros = acc.subsec_micros() % 1000;
    if secs > 0 {
        push_uint(&mut c, 0x02, secs);
    }
    if millis > 0 {
        push_uint(&mut c, 0x80, u64::from(millis));
    }
    if micros > 0 {
        push_uint(&mut c, 0x81, u64::from(micros));
    }
    let mut out = Vec::with_capacity(c.len() + 2);
    push_tlv(&mut out, 0x30, &c);
    out
}

/// The fixed parts of every TSTInfo of one TSA configuration.
#[derive(Clone, Debug)]
pub struct TstTemplate {
    /// DER of `Accuracy`.
    pub accuracy: Vec<u8>,
    /// DER of `[0] GeneralName` (explicit, directoryName), when the tsa field is wanted.
    pub tsa_name: Option<Vec<u8>>,
    /// Digits of genTime fraction (6: microseconds).
    pub fraction_digits: u32,
}

/// Encodes TSTInfo (RFC 3161 §2.4.2) for `req`.
pub fn tst_info_der(
    t: &TstTemplate,
    policy: &ObjectIdentifier,
    req: &Request,
    serial: serial::Serial,
    gen_time: UnixTime,
) -> Vec<u8> {
    let mut c = Vec::with_capacity(160 + req.imprint_der.len());
    c.extend_from_slice(&[0x02, 0x01, 0x01]); // version v1
    push_tlv(&mut c, 0x06, policy.as_bytes());
    c.extend_from_slice(&req.imprint_der);
    push_tlv(&mut c, 0x02, &serial::to_der_content(serial));
    // genTime: the length byte is patched once the value is written (at most 25 bytes).
    c.push(0x18);
    let at = c.len();
    c.push(0);
    let n = timefmt::push_generalized_time(&mut c, gen_time, t.fraction_digits);
    c[at] = n as u8;
    c.extend_from_slice(&t.accuracy);
    // ordering DEFAULT FALSE: omitted (DER).
    if let Some(n) = &req.nonce {
        push_tlv(&mut c, 0x02, n);
    }
    if let Some(name) = &t.tsa_name {
        c.extend_from_slice(name);
    }
    let mut out = Vec::with_capacity(c.len() + 4);
    push_tlv(&mut out, 0x30, &c);
    out
}

/// `TimeStampResp` granting `token` (a DER ContentInfo).
pub fn granted_der(token: &[u8]) -> Vec<u8> {
    // status PKIStatusInfo { status granted(0) }, then the token: written once, in place.
    const STATUS: [u8; 5] = [0x30, 0x03, 0x02, 0x01, 0x00];
    let inner = STATUS.len() + token.len();
    let mut out = Vec::with_capacity(inner + 6);
    out.push(0x30);
    inkan_profiles::asn1::tlv::push_len(&mut out, inner);
    out.extend_from_slice(&STATUS);
    out.extend_from_slice(token);
    out
}

/// `TimeStampResp` rejecting with `f`: status rejection(2), statusString, failInfo, encoded
/// once per failure with `inkan_profiles::asn1::tsp` and then copied.
pub fn rejection_der(f: Failure) -> Vec<u8> {
    static TABLE: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        Failure::ALL
            .iter()
            .map(|f| {
                TimeStampResp {
                    status: PkiStatusInfo::rejection(f.info(), Some(f.status_string())),
                    time_stamp_token: None,
                }
                .to_der()
                // Cannot fail: an INTEGER, one short constant UTF8String and a BIT STRING of
                // at most 4 bytes, all far below any DER length limit (every variant is
                // encoded by the `failure_bits_are_minimal_der` test).
                .expect("a fixed PKIStatusInfo encodes")
            })
            .collect()
    });
    table[f.index()].clone()
}

// ---------------------------------------------------------------------------------------------
// The handler.

/// Turns a TSTInfo into a signed token (CMS SignedData ContentInfo). Implemented over
/// `inkan_hsm::cms` by [`crate::token`]; tests may use any implementation.
pub trait TokenSigner: Send + Sync + std::fmt::Debug {
    /// Signs `tst_info` (DER) and returns the DER ContentInfo; `cert_req` selects whether
    /// certificates are included.
    fn sign_token(&self, tst_info: &[u8], cert_req: bool) -> Result<Vec<u8>, String>;
    /// SHA-256 of the DER TSA certificate.
    fn cert_sha256(&self) -> [u8; 32];
}

/// What depends on the signing key and certificate: replaced as a whole by a rollover
/// (SIGHUP), so that each token is made with one pair from its start to its record.
#[derive(Debug)]
pub struct Signing {
    /// TSTInfo fixed parts (the `tsa` name is the certificate's subject).
    pub template: TstTemplate,
    /// The signer.
    pub signer: Box<dyn TokenSigner>,
    /// SHA-256 of the TSA certificate (for records).
    pub cert_sha256: [u8; 32],
    /// Whether SHAKE256 imprints are accepted (the key signs with Ed448; see
    /// [`check_policy`]).
    pub shake_imprints: bool,
    /// When this pair may sign (certificate validity, the key's CRYPTREC period).
    pub window: crate::ntp::IdentityWindow,
}

/// Everything a request needs besides its bytes and the time.
#[derive(Debug)]
pub struct Context {
    /// The default policy.
    pub policy: ObjectIdentifier,
    /// Accepted policies (the default included).
    pub accepted_policies: Vec<ObjectIdentifier>,
    /// The live key and certificate; see [`Context::signing`] and [`Context::replace_signing`].
    pub signing: std::sync::RwLock<Arc<Signing>>,
    /// Serial numbers (they outlive any rollover: the serial space is the run's).
    pub serials: SerialSource,
    /// The time discipline, asked for genTime right before each signature.
    pub guard: Arc<TimeGuard>,
}

impl Context {
    /// The key and certificate live now; a token keeps the one it took to its end.
    pub fn signing(&self) -> Arc<Signing> {
        self.signing
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Makes `next` the live key and certificate (tokens in flight finish with the old one),
    /// and the guard's identity window its window.
    pub fn replace_signing(&self, next: Signing) {
        let window = next.window.clone();
        *self.signing.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(next);
        self.guard.set_identity(window);
    }
}

/// The handler's answer.
#[derive(Debug)]
pub enum Outcome {
    /// A token: the response must not be sent before `issued` is committed.
    Granted {
        /// DER TimeStampResp.
        response: Vec<u8>,
        /// The record to commit.
        issued: Box<Issued>,
    },
    /// A rejection response.
    Rejected {
        /// DER TimeStampResp.
        response: Vec<u8>,
        /// The reason.
        failure: Failure,
        /// Detail for the log (never sent).
        detail: String,
    },
}

impl Outcome {
    fn reject(failure: Failure, detail: String) -> Self {
        Outcome::Rejected {
            response: rejection_der(failure),
            failure,
            detail,
        }
    }
}

/// Handles one request. `arrival` is what the [`crate::ntp::TimeGuard`] said when the request
/// arrived (a refusal then is final); genTime itself is taken from the guard right before the
/// signature, so the time spent queued for a signing thread never counts against the declared
/// accuracy, and the clock, leap and identity checks hold for the instant actually stamped.
pub fn handle(bytes: &[u8], ctx: &Context, arrival: Result<UnixTime, TimeRefusal>) -> Outcome {
    let req = match parse_request(bytes) {
        Ok(r) => r,
        Err((f, detail)) => return Outcome::reject(f, detail),
    };
    let policy = match req.req_policy {
        None => ctx.policy,
        Some(p) if ctx.accepted_policies.contains(&p) => p,
        Some(p) => {
            return Outcome::reject(
                Failure::UnacceptedPolicy,
                format!("requested policy {p} not served"),
            );
        }
    };
    if let Err(r) = arrival {
        return Outcome::reject(r.into(), format!("time refused: {}", r.describe()));
    }
    // One key and certificate from here to the record, whatever a rollover does meanwhile.
    let signing = ctx.signing();
    let gen_time = match ctx.guard.now_for_issuing().and_then(|t| {
        // The guard holds the live pair's window; this token's own pair must allow genTime
        // too (EN 319 421 TIS-7.7.1-09).
        let t_ns = i128::from(t.secs()) * 1_000_000_000 + i128::from(t.subsec_nanos());
        let acc_ns = i128::try_from(ctx.guard.accuracy().as_nanos()).unwrap_or(i128::MAX);
        signing.window.check(t_ns, acc_ns).map(|()| t)
    }) {
        Ok(t) => t,
        Err(r) => return Outcome::reject(r.into(), format!("time refused: {}", r.describe())),
    };
    if let Err((f, detail)) = check_policy(&req, gen_time, signing.shake_imprints) {
        return Outcome::reject(f, detail);
    }
    let serial = ctx.serials.next();
    let tst = tst_info_der(&signing.template, &policy, &req, serial, gen_time);
    let token = match signing.signer.sign_token(&tst, req.cert_req) {
        Ok(t) => t,
        Err(e) => return Outcome::reject(Failure::SystemFailure, format!("signing: {e}")),
    };
    let mut record = Vec::with_capacity(96 + req.hashed.len());
    records::encode_record(
        &mut record,
        gen_time,
        digest_name(req.digest),
        policy.as_bytes(),
        &req.hashed,
        &signing.cert_sha256,
        req.nonce.as_deref(),
    );
    Outcome::Granted {
        response: granted_der(&token),
        issued: Box::new(Issued {
            serial,
            gen_time,
            imprint: req.hashed,
            record,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `openssl ts -query -digest <32 x 0x11 as hex> -sha256 -cert` with nonce 0x0102.
    fn request(alg: &[u8], imprint: &[u8], extra: &[u8]) -> Vec<u8> {
        let mut ai = Vec::new();
        push_tlv(&mut ai, 0x06, alg);
        let mut alg_id = Vec::new();
        push_tlv(&mut alg_id, 0x30, &ai);
        let mut mi = alg_id;
        push_tlv(&mut mi, 0x04, imprint);
        let mut c = vec![0x02, 0x01, 0x01];
        push_tlv(&mut c, 0x30, &mi);
        c.extend_from_slice(extra);
        let mut out = Vec::new();
        push_tlv(&mut out, 0x30, &c);
        out
    }

    const SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
    const SHA1: &[u8] = &[0x2b, 0x0e, 0x03, 0x02, 0x1a];
    /// 2.16.840.1.101.3.4.2.18
    const SHAKE256_LEN: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x12];

    #[test]
    fn parses_a_good_request() {
        let der = request(
            SHA256,
            &[0x11; 32],
            &[0x02, 0x02, 0x01, 0x02, 0x01, 0x01, 0xff],
        );
        let r = parse_request(&der).unwrap();
        assert_eq!(r.digest, DigestAlgorithm::Sha256);
        assert_eq!(r.nonce, Some(vec![1, 2]));
        assert!(r.cert_req);
        assert_eq!(r.req_policy, None);
        // The imprint taken from the input is the imprint's own DER encoding.
        let parsed = TimeStampReq::parse(&der).unwrap();
        assert_eq!(r.imprint_der, parsed.message_imprint.to_der().unwrap());
    }

    #[test]
    fn imprint_bytes_match_its_encoding_on_mutated_requests() {
        // Whatever parse_request accepts, the imprint it keeps is the imprint's own DER.
        let good = request(
            SHA256,
            &[0x11; 32],
            &[0x02, 0x02, 0x01, 0x02, 0x01, 0x01, 0xff],
        );
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut accepted = 0;
        for round in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut b = good.clone();
            let at = (x as usize >> 8) % b.len();
            match round % 3 {
                0 => b[at] ^= 1 << (x % 8),
                1 => b[at] = (x >> 32) as u8,
                _ => b.truncate(at),
            }
            if let Ok(r) = parse_request(&b) {
                accepted += 1;
                let parsed = TimeStampReq::parse(&b).unwrap();
                assert_eq!(r.imprint_der, parsed.message_imprint.to_der().unwrap());
            }
        }
        assert!(accepted > 0);
    }

    /// A signer that returns the TSTInfo itself (the handler's own logic is under test).
    #[derive(Debug)]
    struct Echo;

    impl TokenSigner for Echo {
        fn sign_token(&self, tst_info: &[u8], _cert_req: bool) -> Result<Vec<u8>, String> {
            Ok(tst_info.to_vec())
        }
        fn cert_sha256(&self) -> [u8; 32] {
            [0; 32]
        }
    }

    fn context(clock: UnixTime, identity: crate::ntp::IdentityWindow) -> Context {
        let guard = TimeGuard::new(
            Arc::new(inkan_profiles::clock::FixedClock(clock)),
            true,
            Duration::from_millis(500),
            crate::config::LeapPolicy::Ignore,
            Duration::from_secs(2),
        )
        .with_identity(identity.clone());
        Context {
            policy: ObjectIdentifier::new_unwrap("1.2.3.4.1"),
            accepted_policies: vec![ObjectIdentifier::new_unwrap("1.2.3.4.1")],
            signing: std::sync::RwLock::new(Arc::new(Signing {
                template: TstTemplate {
                    accuracy: accuracy_der(Duration::from_millis(500)),
                    tsa_name: None,
                    fraction_digits: 6,
                },
                signer: Box::new(Echo),
                cert_sha256: [0; 32],
                shake_imprints: false,
                window: identity,
            })),
            serials: SerialSource::new(1, 1),
            guard: Arc::new(guard),
        }
    }

    /// genTime is the guard's time when the token is signed, not the time the request arrived
    /// (which may lie a queue wait earlier); the identity window applies to that instant.
    #[test]
    fn gen_time_is_taken_at_signing() {
        let arrival = UnixTime::new(1_795_395_723, 0);
        let signing = UnixTime::new(1_795_395_725, 250_000_000);
        let ctx = context(signing, crate::ntp::IdentityWindow::unlimited());
        let der = request(SHA256, &[0x11; 32], &[]);
        match handle(&der, &ctx, Ok(arrival)) {
            Outcome::Granted { issued, .. } => assert_eq!(issued.gen_time, signing),
            other => panic!("{other:?}"),
        }
        // The certificate ends 200 ms after the signing instant: with 500 ms accuracy the
        // token could be placed after it, so it is refused with systemFailure.
        let ending = crate::ntp::IdentityWindow {
            not_before: UnixTime::from_secs(0),
            cert_not_after: UnixTime::new(1_795_395_725, 450_000_000),
            key_end: None,
        };
        let ctx = context(signing, ending);
        match handle(&der, &ctx, Ok(arrival)) {
            Outcome::Rejected { failure, .. } => assert_eq!(failure, Failure::SystemFailure),
            other => panic!("{other:?}"),
        }
        // A refusal at arrival stands.
        let ctx = context(signing, crate::ntp::IdentityWindow::unlimited());
        match handle(&der, &ctx, Err(TimeRefusal::Unsynchronised)) {
            Outcome::Rejected { failure, .. } => assert_eq!(failure, Failure::TimeNotAvailable),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn granted_response_layout() {
        // Short and long-form lengths: the response is SEQUENCE { status, token }.
        for n in [3usize, 120, 130, 300, 70_000] {
            let mut token = vec![0x30];
            inkan_profiles::asn1::tlv::push_len(&mut token, n);
            token.extend(std::iter::repeat_n(0xab, n));
            let der = granted_der(&token);
            let outer = inkan_profiles::asn1::tlv::parse_exact(&der).unwrap();
            assert_eq!(outer.tag, 0x30);
            let mut r = outer.children();
            assert_eq!(r.expect(0x30).unwrap().raw, [0x30, 0x03, 0x02, 0x01, 0x00]);
            assert_eq!(r.expect(0x30).unwrap().raw, &token[..]);
            assert!(r.is_empty());
        }
    }

    #[test]
    fn maps_failures() {
        let f = |der: &[u8]| parse_request(der).unwrap_err().0;
        assert_eq!(f(b"\x30\x00"), Failure::BadDataFormat);
        let mut trailing = request(SHA256, &[0x11; 32], &[]);
        trailing.push(0);
        assert_eq!(f(&trailing), Failure::BadDataFormat);
        assert_eq!(
            f(&request(SHA256, &[0x11; 31], &[])),
            Failure::BadDataFormat
        );
        // SHA-1 parses (it is a known algorithm) and is refused by the CRYPTREC policy, naming
        // the rule.
        let sha1 = parse_request(&request(SHA1, &[0x11; 20], &[])).unwrap();
        let (fail, detail) =
            check_policy(&sha1, UnixTime::from_secs(1_795_395_723), false).unwrap_err();
        assert_eq!(fail, Failure::BadAlg);
        assert!(
            detail.contains("SHA-1") && detail.contains("rule"),
            "{detail}"
        );
        let ok = parse_request(&request(SHA256, &[0x11; 32], &[])).unwrap();
        assert!(check_policy(&ok, UnixTime::from_secs(1_795_395_723), false).is_ok());
        // id-shake256-len with INTEGER 512 (RFC 8419 §2.3): refused unless the key is Ed448.
        let mut ai = Vec::new();
        push_tlv(&mut ai, 0x06, SHAKE256_LEN);
        ai.extend_from_slice(&[0x02, 0x02, 0x02, 0x00]);
        let mut mi = Vec::new();
        push_tlv(&mut mi, 0x30, &ai);
        push_tlv(&mut mi, 0x04, &[0x22; 64]);
        let mut c = vec![0x02, 0x01, 0x01];
        push_tlv(&mut c, 0x30, &mi);
        let mut der = Vec::new();
        push_tlv(&mut der, 0x30, &c);
        let shake = parse_request(&der).unwrap();
        assert_eq!(shake.digest, DigestAlgorithm::Shake256_512);
        let at = UnixTime::from_secs(1_795_395_723);
        let (fail, detail) = check_policy(&shake, at, false).unwrap_err();
        assert_eq!(fail, Failure::BadAlg, "{detail}");
        assert!(check_policy(&shake, at, true).is_ok());
        assert_eq!(
            f(&request(&[0x2a, 0x03], &[0x11; 20], &[])),
            Failure::BadAlg
        );
        let mut v2 = request(SHA256, &[0x11; 32], &[]);
        v2[4] = 2;
        assert_eq!(f(&v2), Failure::BadRequest);
        // Versions the decoder cannot hold (outside 0..=255) are still badRequest when the
        // rest is a DER request; a broken rest stays badDataFormat.
        let with_version = |v: &[u8], tail: &[u8]| {
            let mut c = v.to_vec();
            let good = request(SHA256, &[0x11; 32], tail);
            c.extend_from_slice(&good[5..]);
            let mut out = Vec::new();
            push_tlv(&mut out, 0x30, &c);
            out
        };
        for v in [
            &[0x02, 0x02, 0x01, 0x00][..],
            &[0x02, 0x01, 0xff],
            &[0x02, 0x02, 0xff, 0x00],
            &[0x02, 0x09, 0x01, 0, 0, 0, 0, 0, 0, 0, 0],
        ] {
            let (fail, detail) = parse_request(&with_version(v, &[])).unwrap_err();
            assert_eq!(fail, Failure::BadRequest, "{v:02x?}: {detail}");
        }
        let (fail, detail) =
            parse_request(&with_version(&[0x02, 0x02, 0x01, 0x00], &[0x05])).unwrap_err();
        assert_eq!(fail, Failure::BadDataFormat, "{detail}");
        // Not minimal: not DER, badDataFormat.
        assert_eq!(
            f(&with_version(&[0x02, 0x02, 0x00, 0x01], &[])),
            Failure::BadDataFormat
        );
        assert_eq!(
            parse_request(&with_version(&[0x02, 0x02, 0x01, 0x00], &[]))
                .unwrap_err()
                .1,
            "request version is 256, not 1"
        );
        // [0] IMPLICIT Extensions with one extension {1.2.3, OCTET STRING ""}.
        let ext = [
            0xa0, 0x09, 0x30, 0x07, 0x06, 0x02, 0x2a, 0x03, 0x04, 0x01, 0x00,
        ];
        assert_eq!(
            f(&request(SHA256, &[0x11; 32], &ext)),
            Failure::UnacceptedExtension
        );
        // certReq explicitly FALSE is not DER (DEFAULT value encoded).
        assert_eq!(
            f(&request(SHA256, &[0x11; 32], &[0x01, 0x01, 0x00])),
            Failure::BadDataFormat
        );
    }

    #[test]
    fn failure_bits_are_minimal_der() {
        let r = rejection_der(Failure::BadAlg);
        assert!(r.ends_with(&[0x03, 0x02, 0x07, 0x80]));
        let r = rejection_der(Failure::TimeNotAvailable);
        assert!(r.ends_with(&[0x03, 0x03, 0x01, 0x00, 0x02]));
        let r = rejection_der(Failure::SystemFailure);
        assert!(r.ends_with(&[0x03, 0x05, 0x06, 0x00, 0x00, 0x00, 0x40]));
        let r = rejection_der(Failure::UnacceptedExtension);
        assert!(r.ends_with(&[0x03, 0x04, 0x07, 0x00, 0x00, 0x80]));
    }

    #[test]
    fn every_rejection_parses_back() {
        for f in Failure::ALL {
            let r = TimeStampResp::parse(&rejection_der(f)).unwrap();
            assert_eq!(r.status.fail_info, Some(f.info()));
            assert_eq!(
                r.status.status_string,
                Some(vec![f.status_string().to_owned()])
            );
            assert!(r.time_stamp_token.is_none() && r.is_consistent());
        }
    }

    /// The hand-written TSTInfo encoder against `inkan_profiles::asn1::tsp::TstInfo`: every
    /// element is in its DER encoding (`TstInfo::parse_der`, X.690 §10) and it reads back to the
    /// same values (RFC 3161 §2.4.2).
    #[test]
    fn tst_info_round_trips_through_profiles() {
        use inkan_profiles::asn1::tsp::{GenTime, TstInfo};
        let policy = ObjectIdentifier::new_unwrap("1.2.392.999.1.1");
        type Case<'a> = (u32, Option<&'a [u8]>, Option<&'a [u8]>, Duration, u128);
        let cases: [Case<'_>; 5] = [
            (0, Some(&[0x01, 0x02]), None, Duration::from_secs(1), 1),
            (
                123_456_789,
                None,
                Some(&[0x30, 0x00]),
                Duration::from_millis(500),
                0x80,
            ),
            (
                250_000_000,
                Some(&[0x00, 0xff]),
                None,
                Duration::from_micros(1_001),
                u128::MAX >> 16,
            ),
            (
                999_999_999,
                Some(&[0xff, 0x7f]),
                None,
                Duration::from_micros(1),
                0x0102_0304,
            ),
            (1_000, None, None, Duration::from_millis(1_000), 0x7f),
        ];
        for (nanos, nonce, name, acc, serial) in cases {
            let der = request(SHA256, &[0x5a; 32], &[]);
            let mut req = parse_request(&der).unwrap();
            req.nonce = nonce.map(<[u8]>::to_vec);
            let t = TstTemplate {
                accuracy: accuracy_der(acc),
                tsa_name: name.map(|n| {
                    // [0] EXPLICIT directoryName [4] EXPLICIT Name (an empty RDNSequence).
                    let mut dn = Vec::new();
                    push_tlv(&mut dn, 0xa4, n);
                    let mut out = Vec::new();
                    push_tlv(&mut out, 0xa0, &dn);
                    out
                }),
                fraction_digits: 6,
            };
            let at = UnixTime::new(1_795_395_723, nanos);
            let tst = tst_info_der(&t, &policy, &req, serial, at);
            let parsed = TstInfo::parse_der(&tst).unwrap();
            assert_eq!(parsed.version, [1]);
            assert_eq!(parsed.policy_oid().unwrap(), policy);
            assert_eq!(
                parsed.message_imprint().unwrap().to_der().unwrap(),
                req.imprint_der
            );
            // A positive INTEGER: the magnitude, behind a zero octet when its top bit is set.
            let magnitude = &serial.to_be_bytes()[(serial.leading_zeros() / 8) as usize..];
            let sign = usize::from(parsed.serial.first() == Some(&0) && parsed.serial.len() > 1);
            assert_eq!(&parsed.serial[sign..], magnitude);
            assert!(parsed.serial[0] & 0x80 == 0, "serial is positive");
            assert_eq!(
                parsed.generalized_time().unwrap(),
                GenTime::try_from(at).unwrap().truncate_to_digits(6)
            );
            assert_eq!(
                parsed.accuracy().unwrap().unwrap().as_nanos(),
                acc.as_nanos() as u64
            );
            assert!(parsed.ordering.is_none() && !parsed.is_ordered());
            assert_eq!(parsed.nonce, req.nonce);
            assert_eq!(parsed.tsa_name().unwrap().is_some(), name.is_some());
            assert!(parsed.extensions.is_none());
        }
    }

    #[test]
    fn accuracy_encoding() {
        assert_eq!(
            accuracy_der(Duration::from_secs(1)),
            vec![0x30, 0x03, 0x02, 0x01, 0x01]
        );
        assert_eq!(
            accuracy_der(Duration::from_millis(500)),
            vec![0x30, 0x04, 0x80, 0x02, 0x01, 0xf4]
        );
    }
}
