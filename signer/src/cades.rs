//! CAdES baseline levels (ETSI EN 319 122-1 V1.3.1 §6, Table 1): raising a
//! `SignedData` from B-B to B-T (signature-time-stamp over the signature value), B-LT
//! (certificates and validated revocation data in `certificates` / `crls`, OCSP as
//! id-ri-ocsp-response) and B-LTA (archive-time-stamp-v3 with ats-hash-index-v3).
//!
//! Everything here works on [`RawSignedData`]: the signer's signed part is never re-encoded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use inkan_profiles::alg::DigestAlgorithm;
use inkan_profiles::time::UnixTime;

use crate::ats;
use crate::certs::{self, Cert};
use crate::revocation::{self, Evidence};
use crate::tsa_client::{self, Request};
use crate::tst::{self, CheckedToken};
use inkan_profiles::asn1::cms::{RawAttribute, RawSignedData, RawSignerInfo};
use inkan_profiles::asn1::tlv::{self, Rules, tag};

/// id-aa-signatureTimeStampToken (RFC 3161 Appendix A).
pub use inkan_profiles::oid::ID_AA_SIGNATURE_TIME_STAMP_TOKEN;

/// A CAdES baseline level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// B-B.
    BB,
    /// B-T.
    BT,
    /// B-LT.
    BLT,
    /// B-LTA.
    BLTA,
}

impl Level {
    /// Parses `B-B`, `B-T`, `B-LT`, `B-LTA`, in any case (`b-lt`, `B-Lta`).
    pub fn parse(s: &str) -> Option<Self> {
        [Self::BB, Self::BT, Self::BLT, Self::BLTA]
            .into_iter()
            .find(|l| l.to_string().eq_ignore_ascii_case(s.trim()))
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::BB => "B-B",
            Self::BT => "B-T",
            Self::BLT => "B-LT",
            Self::BLTA => "B-LTA",
        })
    }
}

/// A problem that is not an input's own: it would fail every input of a batch alike, so a
/// batch stops at the first one with one message (the batch rules of `inkan-sign`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The TSA, an OCSP responder or a CRL server could not be reached (after one retry),
    /// timed out, or did not answer usably (an HTTP error, a refusal, a token that fails its
    /// checks). Exit status 69 (EX_UNAVAILABLE).
    Unavailable,
    /// The TSA refused the client's credentials (HTTP 401 or 403). Exit status 77.
    Credentials,
    /// The signing key failed to sign, or its certificate stopped being valid during the run.
    /// Exit status 77.
    Key,
    /// The signer's or the TSA's certificate chain cannot be completed, or its revocation
    /// status established, for B-LT. Exit status 1.
    Chain,
}

impl Problem {
    /// The exit status of a batch stopped by this problem.
    pub const fn exit_status(self) -> u8 {
        match self {
            Self::Unavailable => 69,
            Self::Credentials | Self::Key => 77,
            Self::Chain => 1,
        }
    }
}

/// Why a signature could not be made or raised: the message, and the [`Problem`] when it is
/// not the input's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// What went wrong.
    pub message: String,
    /// Set when every other input would fail the same way.
    pub problem: Option<Problem>,
}

impl Failure {
    /// A failure that would fail every input alike.
    pub fn batch(problem: Problem, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            problem: Some(problem),
        }
    }
}

/// A failure of this input only.
impl From<String> for Failure {
    fn from(message: String) -> Self {
        Self {
            message,
            problem: None,
        }
    }
}

/// A failure of this input only.
impl From<&str> for Failure {
    fn from(message: &str) -> Self {
        message.to_owned().into()
    }
}

/// The message alone, where only this input's outcome matters (`extend`, `timestamp`).
impl From<Failure> for String {
    fn from(f: Failure) -> Self {
        f.message
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The pause before the one retry of a TSA exchange: this plus up to as much again, drawn at
/// random so that the workers of a batch do not retry in step.
pub const TSA_RETRY_BACKOFF: Duration = Duration::from_millis(500);

/// Whether a failed TSA exchange is worth one more try: the connection or the answer failed,
/// or the TSA said it is busy or broken (HTTP 5xx, 408, 429; PKIFailureInfo systemFailure or
/// timeNotAvailable, RFC 3161 §2.4.2). A refusal of the request itself, a TLS certificate
/// problem or wrong credentials would fail again.
pub fn tsa_retryable(e: &tsa_client::TsaError) -> bool {
    use tsa_client::TsaError as E;
    match e {
        E::Transport(_) | E::Timeout | E::Proxy(_) => true,
        E::HttpStatus(s) => *s >= 500 || *s == 408 || *s == 429,
        E::Rejected { detail, .. } => {
            detail.contains("systemFailure") || detail.contains("timeNotAvailable")
        }
        _ => false,
    }
}

/// The [`Problem`] of a TSA exchange that failed: every TSA failure affects every input (the
/// requests of a batch differ only in their imprints), wrong credentials as
/// [`Problem::Credentials`], the rest as [`Problem::Unavailable`].
pub fn tsa_problem(e: &tsa_client::TsaError) -> Problem {
    match e {
        tsa_client::TsaError::Unauthorized { .. } => Problem::Credentials,
        _ => Problem::Unavailable,
    }
}

/// An RFC 3161 TSA to ask, with the runtime its requests run on.
#[derive(Clone, Debug)]
pub struct TsaClient {
    /// The URL.
    pub url: String,
    /// Time allowed per request.
    pub timeout: Duration,
    endpoint: Arc<tsa_client::Endpoint>,
    rt: Arc<tokio::runtime::Runtime>,
    /// Set when the batch stops: no more retries.
    halted: Arc<std::sync::atomic::AtomicBool>,
}

impl TsaClient {
    /// A client for `url`, reached as `access` says (TLS roots, credentials; see
    /// [`tsa_client::TsaAccess`]) and through `proxies` where they say so, on runtime `rt`. Reads the access files and the password
    /// variable now, so a wrong setting stops the run before anything is signed.
    pub fn new(
        url: &str,
        access: &tsa_client::TsaAccess,
        timeout: Duration,
        rt: Arc<tokio::runtime::Runtime>,
        proxies: Arc<crate::proxy::Proxies>,
    ) -> Result<Self, tsa_client::TsaError> {
        Ok(Self {
            url: url.to_owned(),
            timeout,
            endpoint: Arc::new(tsa_client::Endpoint::new(url, access, timeout, proxies)?),
            rt,
            halted: Arc::default(),
        })
    }

    /// Stops retrying (the batch has stopped): a later failure is final at once.
    pub fn halt(&self) {
        self.halted
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    fn is_halted(&self) -> bool {
        self.halted.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// One exchange: post the request (within [`Self::timeout`]); the `TimeStampResp` as
    /// received and the token in it.
    fn exchange(&self, req: &Request) -> Result<(Vec<u8>, Vec<u8>), tsa_client::TsaError> {
        let resp = self
            .rt
            .block_on(self.endpoint.post(req.der.clone(), self.timeout))?;
        let token = tsa_client::token_from_response(&resp)?;
        Ok((resp, token))
    }

    /// Obtains and checks a token over `hash` (made with `alg`). A failed exchange that may
    /// succeed on a second try ([`tsa_retryable`]) is retried once after
    /// [`TSA_RETRY_BACKOFF`] (unless the batch has stopped meanwhile); each exchange is
    /// bounded by [`Self::timeout`]. Every TSA failure is a batch [`Problem`].
    pub fn timestamp(&self, alg: DigestAlgorithm, hash: Vec<u8>) -> Result<CheckedToken, Failure> {
        self.timestamp_response(alg, hash).map(|(_, t)| t)
    }

    /// [`Self::timestamp`], also returning the TSA's `TimeStampResp` as received (for
    /// `inkan-sign timestamp`'s `FILE.tsr`).
    pub fn timestamp_response(
        &self,
        alg: DigestAlgorithm,
        hash: Vec<u8>,
    ) -> Result<(Vec<u8>, CheckedToken), Failure> {
        let req = Request::new(alg, hash).map_err(|e| format!("random nonce: {e}"))?;
        let (resp, token) = match self.exchange(&req) {
            Ok(t) => t,
            Err(e) if tsa_retryable(&e) && !self.is_halted() => {
                let jitter = tsa_client::random_bytes(2)
                    .map_or(0, |b| u64::from(u16::from_be_bytes([b[0], b[1]])));
                let pause = TSA_RETRY_BACKOFF
                    + TSA_RETRY_BACKOFF.mul_f64(jitter as f64 / f64::from(u16::MAX));
                let until = std::time::Instant::now() + pause;
                while std::time::Instant::now() < until && !self.is_halted() {
                    std::thread::sleep(Duration::from_millis(20));
                }
                if self.is_halted() {
                    return Err(Failure::batch(
                        tsa_problem(&e),
                        format!("{}: {e}", self.url),
                    ));
                }
                self.exchange(&req).map_err(|e2| {
                    Failure::batch(
                        tsa_problem(&e2),
                        format!("{}: {e2} (tried twice)", self.url),
                    )
                })?
            }
            Err(e) => {
                return Err(Failure::batch(
                    tsa_problem(&e),
                    format!("{}: {e}", self.url),
                ));
            }
        };
        tst::check(
            &token,
            &tst::Expect {
                alg: alg.oid(),
                imprint: &req.imprint,
                nonce: Some(&req.nonce),
            },
        )
        .map(|t| (resp, t))
        .map_err(|e| {
            Failure::batch(
                Problem::Unavailable,
                format!("{}: the TSA's token failed a check: {e}", self.url),
            )
        })
    }
}

/// Material given by the operator for B-LT, and what it has found so far.
#[derive(Debug, Default)]
pub struct Material {
    /// Extra certificates (the signer's chain, TSA chains).
    pub certs: Vec<Cert>,
    /// DER CRLs.
    pub crls: Vec<Vec<u8>>,
    /// DER OCSP responses.
    pub ocsps: Vec<Vec<u8>>,
    /// Ask OCSP responders (authorityInfoAccess) and fetch CRLs (distribution points) when
    /// nothing given covers a certificate.
    pub fetch: bool,
    /// The proxies that fetching goes through ([`crate::proxy`]).
    pub proxies: Arc<crate::proxy::Proxies>,
    cache: Mutex<HashMap<CertPair, Evidence>>,
}

/// DER of a certificate and of its issuer: the key of the revocation evidence cache.
type CertPair = (Vec<u8>, Vec<u8>);

impl Material {
    /// Material from certificates, CRLs and OCSP responses.
    pub fn new(certs: Vec<Cert>, crls: Vec<Vec<u8>>, ocsps: Vec<Vec<u8>>, fetch: bool) -> Self {
        Self {
            certs,
            crls,
            ocsps,
            fetch,
            proxies: Arc::default(),
            cache: Mutex::new(HashMap::new()),
        }
    }
}

/// What raises signatures: the target level, a TSA when needed, B-LT material.
#[derive(Debug)]
pub struct Upgrader {
    /// Target level.
    pub level: Level,
    /// The TSA for B-T and B-LTA.
    pub tsa: Option<TsaClient>,
    /// B-LT material.
    pub material: Material,
    /// A runtime for fetching CRLs (shared with the TSA client).
    pub rt: Option<Arc<tokio::runtime::Runtime>>,
}

/// The digest algorithm named by a SignerInfo's `digestAlgorithm`.
pub fn signer_digest(si: &RawSignerInfo) -> Result<DigestAlgorithm, String> {
    let o = tlv::parse_exact_with(&si.digest_algorithm, Rules::LOW_TAGS_ONLY)
        .and_then(|t| t.children().expect_named(tag::OID, "digestAlgorithm"))
        .and_then(|o| o.oid())
        .map_err(|e| format!("digestAlgorithm: {e}"))?;
    crate::digest::from_oid(&o).ok_or_else(|| format!("digest algorithm {o} is not accepted"))
}

/// The message-digest signed attribute's value.
pub fn message_digest(si: &RawSignerInfo) -> Result<Vec<u8>, String> {
    let v = si
        .signed_attr(&tst::ID_MESSAGE_DIGEST)
        .and_then(|a| a.values.first())
        .ok_or("the signature has no message-digest attribute")?;
    tlv::parse_exact_with(v, Rules::LOW_TAGS_ONLY)
        .and_then(|t| t.octet_string().map(std::borrow::Cow::into_owned))
        .map_err(|e| format!("message-digest: {e}"))
}

fn tokens_of(si: &RawSignerInfo) -> Vec<Vec<u8>> {
    si.unsigned_attrs
        .iter()
        .filter(|a| {
            a.oid == ID_AA_SIGNATURE_TIME_STAMP_TOKEN
                || a.oid == ats::ID_AA_ETS_ARCHIVE_TIMESTAMP_V3
        })
        .flat_map(|a| a.values.clone())
        .collect()
}

/// Whether a signer info carries a signature-time-stamp.
pub fn has_signature_timestamp(si: &RawSignerInfo) -> bool {
    si.unsigned_attrs
        .iter()
        .any(|a| a.oid == ID_AA_SIGNATURE_TIME_STAMP_TOKEN)
}

impl Upgrader {
    fn tsa(&self) -> Result<&TsaClient, String> {
        self.tsa.as_ref().ok_or_else(|| {
            format!(
                "level {} needs a time-stamp authority: give --tsa URL",
                self.level
            )
        })
    }

    /// Raises signer 0 of `sd` to the target level. `content_hash` is the hash of the signed
    /// content under the SignerInfo's digest algorithm (needed for B-LTA).
    pub fn upgrade(
        &self,
        sd: &mut RawSignedData,
        content_hash: Option<&[u8]>,
        at: UnixTime,
    ) -> Result<(), Failure> {
        if sd.signer_infos.is_empty() {
            return Err("the SignedData has no signer".into());
        }
        if self.level >= Level::BT && !has_signature_timestamp(&sd.signer_infos[0]) {
            self.add_signature_timestamp(sd, at)?;
        }
        if self.level >= Level::BLT {
            self.add_validation_material(sd, at)?;
        }
        if self.level == Level::BLTA {
            let h = content_hash.ok_or("B-LTA needs the signed content (give --data FILE)")?;
            self.add_archive_timestamp(sd, h)?;
        }
        Ok(())
    }

    fn signer_cert(&self, sd: &RawSignedData) -> Result<Cert, String> {
        let mut pool: Vec<Cert> = sd
            .certificates
            .iter()
            .filter_map(|c| Cert::from_der(c).ok())
            .collect();
        pool.extend(self.material.certs.iter().cloned());
        tst::find_signer(&sd.signer_infos[0].sid, &pool)
            .cloned()
            .ok_or_else(|| "the signer's certificate is neither in the signature nor given".into())
    }

    /// Adds a signature-time-stamp over the signature value (RFC 3161 Appendix A).
    pub fn add_signature_timestamp(
        &self,
        sd: &mut RawSignedData,
        at: UnixTime,
    ) -> Result<(), Failure> {
        let cert = self.signer_cert(sd)?;
        if !cert.valid_at(at) {
            return Err(Failure::batch(
                Problem::Key,
                format!(
                    "the signing certificate {} is not valid now; a signature time stamp cannot \
                     be added",
                    cert.subject()
                ),
            ));
        }
        let si = &sd.signer_infos[0];
        let alg = signer_digest(si)?;
        let token = self.tsa()?.timestamp(alg, alg.digest(&si.signature))?;
        sd.signer_infos[0].push_unsigned(RawAttribute::new(
            ID_AA_SIGNATURE_TIME_STAMP_TOKEN,
            token.der,
        ));
        Ok(())
    }

    /// Adds every certificate and validated revocation datum for the signer's chain and the
    /// chains of all time-stamp tokens present (EN 319 122-1 Table 1 notes o, p, s).
    ///
    /// A failure is a batch [`Problem`]: the same chains and revocation data serve every
    /// signature of a batch ([`Problem::Unavailable`] when a responder or distribution point
    /// could not be reached, else [`Problem::Chain`]).
    pub fn add_validation_material(
        &self,
        sd: &mut RawSignedData,
        at: UnixTime,
    ) -> Result<(), Failure> {
        let chain = |m: String| Failure::batch(Problem::Chain, m);
        let signer = self.signer_cert(sd)?;
        let mut pool: Vec<Cert> = sd
            .certificates
            .iter()
            .filter_map(|c| Cert::from_der(c).ok())
            .collect();
        pool.extend(self.material.certs.iter().cloned());
        let mut targets = vec![signer];
        for t in tokens_of(&sd.signer_infos[0]) {
            let tsd =
                RawSignedData::parse(&t).map_err(|e| chain(format!("embedded time stamp: {e}")))?;
            let tcerts: Vec<Cert> = tsd
                .certificates
                .iter()
                .filter_map(|c| Cert::from_der(c).ok())
                .collect();
            let si = tsd
                .signer_infos
                .first()
                .ok_or_else(|| chain("embedded time stamp has no signer".into()))?;
            let tsa = tst::find_signer(&si.sid, &tcerts)
                .or_else(|| tst::find_signer(&si.sid, &pool))
                .cloned()
                .ok_or_else(|| {
                    chain("an embedded time stamp's TSA certificate is not available".into())
                })?;
            pool.extend(tcerts);
            targets.push(tsa);
        }
        let mut missing = Vec::new();
        let mut unreachable = false;
        let mut i = 0;
        while i < targets.len() && i < 64 {
            let target = targets[i].clone();
            i += 1;
            let path: Vec<Cert> = certs::path(&target, &pool).into_iter().cloned().collect();
            for c in &path {
                sd.add_certificate(&c.der);
            }
            let Some(last) = path.last() else { continue };
            if !last.self_issued() {
                missing.push(format!(
                    "the issuer of {} is not available (add it to --cert-chain)",
                    last.subject()
                ));
            }
            for w in path.windows(2) {
                let (cert, issuer) = (&w[0], &w[1]);
                let key = (cert.der.clone(), issuer.der.clone());
                let cached = self
                    .material
                    .cache
                    .lock()
                    .ok()
                    .and_then(|c| c.get(&key).cloned());
                let ev = match cached {
                    Some(ev) => Ok(ev),
                    None => {
                        let fetch = match (&self.rt, self.material.fetch) {
                            (Some(rt), true) => Some((&**rt, &self.material.proxies)),
                            _ => None,
                        };
                        revocation::evidence_for(
                            cert,
                            issuer,
                            &self.material.crls,
                            &self.material.ocsps,
                            at,
                            fetch,
                        )
                    }
                };
                match ev {
                    Ok(ev) => {
                        if let Ok(mut c) = self.material.cache.lock() {
                            c.insert(key, ev.clone());
                        }
                        match ev {
                            Evidence::Crl(der) => {
                                sd.add_crl(&der);
                            }
                            Evidence::Ocsp(der, responder) => {
                                sd.add_ocsp(&der);
                                if let Some(r) = responder {
                                    sd.add_certificate(&r);
                                    if let Ok(rc) = Cert::from_der(&r)
                                        && !rc.has_extension(&certs::ID_PKIX_OCSP_NOCHECK)
                                        && !targets.iter().any(|t| t.der == rc.der)
                                    {
                                        targets.push(rc);
                                    }
                                }
                            }
                        }
                    }
                    Err(e) => {
                        unreachable |= e.unreachable;
                        missing.push(e.message);
                    }
                }
            }
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(Failure::batch(
                if unreachable {
                    Problem::Unavailable
                } else {
                    Problem::Chain
                },
                format!("B-LT material is missing: {}", missing.join("; ")),
            ))
        }
    }

    /// Adds an archive-time-stamp-v3 (EN 319 122-1 5.5.3) whose token carries the
    /// ats-hash-index-v3 (5.5.2). The hash algorithm is the SignerInfo's digest algorithm, so
    /// `content_hash` (under that algorithm) serves both.
    pub fn add_archive_timestamp(
        &self,
        sd: &mut RawSignedData,
        content_hash: &[u8],
    ) -> Result<(), Failure> {
        let si = &sd.signer_infos[0];
        let alg = signer_digest(si)?;
        if content_hash.len() != alg.output_len() {
            return Err("content hash has the wrong length".into());
        }
        let index = ats::hash_index_v3(sd, si, alg);
        let input = ats::imprint_input(sd, si, content_hash, &index);
        let token = self.tsa()?.timestamp(alg, alg.digest(&input))?;
        let mut tsd =
            RawSignedData::parse(&token.der).map_err(|e| format!("archive time stamp: {e}"))?;
        let tsi = tsd
            .signer_infos
            .first_mut()
            .ok_or("archive time stamp has no signer")?;
        tsi.push_unsigned(RawAttribute::new(ats::ID_AA_ATS_HASH_INDEX_V3, index));
        sd.add_digest_algorithm(&crate::digest::algorithm_identifier(alg));
        sd.signer_infos[0].push_unsigned(RawAttribute::new(
            ats::ID_AA_ETS_ARCHIVE_TIMESTAMP_V3,
            tsd.encode(),
        ));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tsa_client::TsaError;

    #[test]
    fn levels_in_any_case() {
        for (s, l) in [
            ("B-B", Level::BB),
            ("b-t", Level::BT),
            ("b-lt", Level::BLT),
            ("B-Lta", Level::BLTA),
        ] {
            assert_eq!(Level::parse(s), Some(l), "{s}");
        }
        for s in ["", "BLT", "B-X", "b-lt-a"] {
            assert_eq!(Level::parse(s), None, "{s}");
        }
    }

    /// What is retried once, and what stops a batch with which exit status.
    #[test]
    fn tsa_failures_retried_and_classified() {
        let rejected = |detail: &str| TsaError::Rejected {
            status: 2,
            detail: detail.into(),
        };
        for e in [
            TsaError::Transport("refused".into()),
            TsaError::Timeout,
            TsaError::Proxy("proxy down".into()),
            TsaError::HttpStatus(503),
            TsaError::HttpStatus(429),
            rejected(", failInfo timeNotAvailable"),
            rejected(", failInfo systemFailure"),
        ] {
            assert!(tsa_retryable(&e), "{e:?}");
            assert_eq!(tsa_problem(&e), Problem::Unavailable);
        }
        for e in [
            TsaError::HttpStatus(404),
            TsaError::Tls("not trusted".into()),
            TsaError::Garbage("junk".into()),
            rejected(", failInfo badAlg"),
            TsaError::BadToken("imprint".into()),
        ] {
            assert!(!tsa_retryable(&e), "{e:?}");
            assert_eq!(tsa_problem(&e), Problem::Unavailable, "{e:?}");
        }
        let unauthorized = TsaError::Unauthorized {
            status: 401,
            sent_basic: true,
            sent_client_cert: false,
            challenge: String::new(),
        };
        assert!(!tsa_retryable(&unauthorized));
        assert_eq!(tsa_problem(&unauthorized), Problem::Credentials);
        assert_eq!(Problem::Unavailable.exit_status(), 69);
        assert_eq!(Problem::Credentials.exit_status(), 77);
        assert_eq!(Problem::Key.exit_status(), 77);
        assert_eq!(Problem::Chain.exit_status(), 1);
    }
}
