#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod checks;
pub mod cli;
pub mod cms;
pub mod constraints;
pub mod crypto;
pub mod engine;
pub mod input;
pub mod lta;
pub mod material;
pub mod outcome;
pub mod path;
pub mod pdf;
pub mod pdf_text;
pub mod report;
pub mod tlv;
pub mod x509;

use std::sync::Arc;

use inkan_profiles::time::UnixTime;

use engine::{Content, Imprinted, Material, Role};

use checks::Check;
use crypto::Call;
use report::{Finding, Indication, Report, TimeStampSummary};

/// The signature file's bytes.
pub struct Input {
    /// PEM or DER/BER bytes.
    pub bytes: Vec<u8>,
}

/// Where the signed data is.
#[derive(Clone, Debug, Default)]
pub enum Data {
    /// Not given.
    #[default]
    None,
    /// In memory.
    Bytes(Vec<u8>),
    /// A file (streamed).
    File(std::path::PathBuf),
}

/// Validation options.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The signed data (detached signatures, tokens).
    pub data: Data,
    /// Contents of `--trust` files (PEM, or DER).
    pub trust: Vec<Vec<u8>>,
    /// Contents of `--crl` files.
    pub crls: Vec<Vec<u8>>,
    /// Contents of `--ocsp` files.
    pub ocsps: Vec<Vec<u8>>,
    /// `--revocation required` (true) or `optional` (false).
    pub revocation_required: bool,
    /// `--policy OID`...: the signer's certificate path must be valid for one of these
    /// certificate policies (RFC 5280 user-initial-policy-set, with initial-explicit-policy).
    /// Empty: any policy.
    pub required_policies: Vec<const_oid::ObjectIdentifier>,
}

/// Errors that are not a verdict.
#[derive(Debug)]
pub enum Error {
    /// An input could not be read.
    Io(std::io::Error),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "cannot read input: {e}"),
        }
    }
}

impl std::error::Error for Error {}

fn secs(t: UnixTime) -> i64 {
    i64::try_from(t.secs()).unwrap_or(i64::MAX)
}

fn material(options: &Options) -> Material {
    let mut m = Material {
        revocation_required: options.revocation_required,
        required_policies: options
            .required_policies
            .iter()
            .map(|o| o.as_bytes().to_vec())
            .collect(),
        ..Material::default()
    };
    for t in &options.trust {
        for c in x509::certificates_from_pem_or_der(t) {
            if !m.anchors.iter().any(|a| a.raw == c.raw) {
                m.anchors.push(c);
            }
        }
    }
    for c in &options.crls {
        let blocks = input::pem_blocks(c, "CRL");
        let list = if blocks.is_empty() {
            vec![c.clone()]
        } else {
            blocks
        };
        for b in list {
            if let Ok(crl) = x509::Crl::parse(&b) {
                m.crls.push(crl);
            }
        }
    }
    for o in &options.ocsps {
        if let Ok(o) = cms::parse_ocsp(&input::to_binary(o)) {
            for c in &o.certs {
                m.add_cert(c.clone());
            }
            m.ocsps.push(o);
        }
    }
    m
}

fn base_report(kind: &str, options: &Options, at: i64) -> Report {
    let revocation_policy = if options.revocation_required {
        "required"
    } else {
        "optional"
    };
    Report {
        process: "EN 319 102-1 §5.3 basic validation with §5.5 validation with time".into(),
        policy: "CRYPTREC LS-0001-2022 (Use::Validate at the best proof of existence)".into(),
        ..Report::new(kind, tlv::format_time(at), revocation_policy)
    }
}

fn format_failure(mut r: Report, why: String) -> Report {
    r.fail(Check::FormatFailure, why);
    r
}

fn apply(r: &mut Report, o: &engine::Outcome) {
    r.indication = o.indication;
    r.sub_indication = o.sub;
    r.findings.extend(o.findings.iter().cloned());
    r.chain = o
        .chain
        .iter()
        .map(|c| {
            format!(
                "{} (valid {} .. {})",
                x509::dn_string(c.subject()),
                tlv::format_time(c.not_before),
                tlv::format_time(c.not_after)
            )
        })
        .collect();
    r.revocation = o.revocation.clone();
    r.signer = o.signer.as_ref().map(report::party);
}

/// Verifies a signature, time-stamp token or time-stamp response at validation time `at`
/// (cold: nothing is remembered from one call to the next; see [`Validator`]).
pub fn verify(input: &Input, options: &Options, at: UnixTime) -> Result<Report, Error> {
    verify_in(&Arc::new(Call::new(None)), input, options, at)
}

/// [`verify`] in the call `call`, whose signature results and work the caller may then read
/// ([`Call::computed`]); the call's cache is used for this verification only when it is new.
pub fn verify_in(
    call: &Arc<Call>,
    input: &Input,
    options: &Options,
    at: UnixTime,
) -> Result<Report, Error> {
    verify_in_call(input, options, at, None, call)
}

/// A validator an application keeps across calls, e.g. a service verifying many documents
/// sealed by the same agency under the same CAs and CRLs.
///
/// It remembers, in a bounded cache ([`crypto::SigCache`], approximately least-recently-used),
/// the result of every certificate, CRL and OCSP-response signature it has checked, keyed by
/// SHA-256 over (signed bytes, signature value, issuer SubjectPublicKeyInfo) and the
/// algorithm. A warm validator therefore computes only each document's own signatures (the
/// signer's and the time-stamp tokens'). Such a result is a fact about bytes, true at any time;
/// everything that depends on time or policy (validity periods, revocation status at the time
/// of interest, CRL freshness, CRYPTREC constraints at the proof of existence) is judged anew on
/// every call, so a validator gives exactly the reports [`verify`] gives.
///
/// It also keeps the trust anchors, CRLs and OCSP responses parsed from the last [`Options`]
/// it saw, and reuses them while the same bytes are passed again.
///
/// `Validator` is `Send + Sync`: threads share the cache through a mutex held only for a
/// lookup or an insert.
#[derive(Debug)]
pub struct Validator {
    cache: Arc<std::sync::Mutex<crypto::SigCache>>,
    base: BaseMaterial,
}

impl Default for Validator {
    fn default() -> Self {
        Self::new(Self::DEFAULT_CAPACITY)
    }
}

impl Validator {
    /// The default number of remembered signature results.
    pub const DEFAULT_CAPACITY: usize = 4096;

    /// A validator remembering at most `capacity` signature results.
    pub fn new(capacity: usize) -> Self {
        Self {
            cache: Arc::new(std::sync::Mutex::new(crypto::SigCache::new(capacity))),
            base: BaseMaterial::default(),
        }
    }

    /// As [`verify`], reusing the signature results of earlier calls.
    pub fn verify(&self, input: &Input, options: &Options, at: UnixTime) -> Result<Report, Error> {
        self.verify_in(&self.call(), input, options, at)
    }

    /// A new call that remembers its [`crypto::Scope::Material`] results in this validator's
    /// cache.
    pub fn call(&self) -> Arc<Call> {
        Arc::new(Call::new(Some(self.cache.clone())))
    }

    /// [`Validator::verify`] in `call` (from [`Validator::call`]), whose work the caller may
    /// then read ([`Call::computed`]).
    pub fn verify_in(
        &self,
        call: &Arc<Call>,
        input: &Input,
        options: &Options,
        at: UnixTime,
    ) -> Result<Report, Error> {
        verify_in_call(input, options, at, Some(&self.base), call)
    }

    /// (entries held, hits, misses) of the signature cache.
    pub fn cache_stats(&self) -> (usize, u64, u64) {
        let c = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let (h, m) = c.stats();
        (c.len(), h, m)
    }
}

/// The validation material parsed from the last options a validator saw (trust anchors, CRL
/// and OCSP files), reused while the same bytes come again.
#[derive(Debug, Default)]
struct BaseMaterial {
    last: std::sync::Mutex<Option<(OptionsKey, Material)>>,
}

#[derive(Debug, PartialEq, Eq)]
struct OptionsKey {
    trust: Vec<Vec<u8>>,
    crls: Vec<Vec<u8>>,
    ocsps: Vec<Vec<u8>>,
    revocation_required: bool,
    required_policies: Vec<const_oid::ObjectIdentifier>,
}

impl BaseMaterial {
    fn material(&self, options: &Options) -> Material {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((k, m)) = last.as_ref()
            && k.trust == options.trust
            && k.crls == options.crls
            && k.ocsps == options.ocsps
            && k.revocation_required == options.revocation_required
            && k.required_policies == options.required_policies
        {
            return m.clone();
        }
        let m = material(options);
        *last = Some((
            OptionsKey {
                trust: options.trust.clone(),
                crls: options.crls.clone(),
                ocsps: options.ocsps.clone(),
                revocation_required: options.revocation_required,
                required_policies: options.required_policies.clone(),
            },
            m.clone(),
        ));
        m
    }
}

fn verify_in_call(
    input: &Input,
    options: &Options,
    at: UnixTime,
    base: Option<&BaseMaterial>,
    call: &Arc<Call>,
) -> Result<Report, Error> {
    let mut r = verify_unbounded(input, options, at, base, None, call)?;
    corporate_number_findings(&mut r);
    if call.budget_exceeded() {
        let mut f = base_report(&r.kind, options, secs(at));
        f.findings.push(Finding::new(
            Check::VerificationBudgetExceeded,
            format!(
                "the input needs more than {} signature verifications (or {} MiB of signed bytes) to validate; refused as unbounded work",
                crypto::MAX_COMPUTED_PER_CALL,
                crypto::MAX_BYTES_PER_CALL >> 20
            ),
        ));
        return Ok(format_failure(
            f,
            "validation stopped: it would not end in bounded time".into(),
        ));
    }
    Ok(r)
}

/// [`verify_in_call`] before the budget is judged; `extra` is validation material found
/// beside the signature (a PDF's DSS).
fn verify_unbounded(
    input: &Input,
    options: &Options,
    at: UnixTime,
    base: Option<&BaseMaterial>,
    extra: Option<&Material>,
    call: &Arc<Call>,
) -> Result<Report, Error> {
    let at = secs(at);
    // A PDF (ISO 32000-1 §7.5.2 header): its signatures and document time-stamps.
    if extra.is_none() && inkan_profiles::pdf::is_pdf(&input.bytes) {
        return Ok(pdf::verify(input, options, at, base, call));
    }
    let bin = input::to_binary(&input.bytes);
    let content = match &options.data {
        Data::None => Content::Missing,
        Data::Bytes(b) => Content::Bytes(b),
        Data::File(p) => Content::File(p),
    };
    let (kind, ci) = match input::detect(&bin) {
        Ok(k) => k,
        Err(e) => {
            return Ok(format_failure(
                base_report("unknown", options, at),
                format!("the file is not a CMS signature or RFC 3161 token: {e}"),
            ));
        }
    };
    // Zero bytes after the structure (input::detect refuses anything else): real files are
    // padded so (a signature cut from a fixed-size container); DSS reads past them. They hide
    // nothing, but the report says so.
    let padding = bin.len() - ci.len();
    let report_for = |kind: &str| {
        let mut r = base_report(kind, options, at);
        if padding > 0 {
            r.findings.push(Finding::new(
                Check::TrailingZeroPadding,
                format!("{padding} zero bytes follow the signature structure (ignored)"),
            ));
        }
        r
    };
    let mut m = match base {
        Some(b) => b.material(options),
        None => material(options),
    };
    m.validation_time = Some(at);
    m.call = call.clone();
    if let Some(x) = extra {
        for c in &x.certs {
            m.add_cert(c.clone());
        }
        m.crls.extend(x.crls.iter().cloned());
        m.ocsps.extend(x.ocsps.iter().cloned());
        m.iso32000_pkcs7 = x.iso32000_pkcs7;
        m.external_poe = x.external_poe;
    }
    match kind {
        input::Kind::SignedData => {
            let mut r = report_for("CMS SignedData");
            let sd = match cms::SignedData::parse_content_info(ci) {
                Ok(sd) => sd,
                Err(e) => {
                    return Ok(format_failure(
                        r,
                        format!("the SignedData cannot be read: {e}"),
                    ));
                }
            };
            if let Some(why) = over_limits(&sd) {
                r.fail(Check::LimitExceeded, why);
                return Ok(r);
            }
            m.absorb(&sd);
            // EN 319 102-1 §5.2.2 (format checking) and §5.2.7 (cryptographic verification):
            // data given beside an encapsulated signature must be the encapsulated content;
            // otherwise no verdict may be given about it ("unchanged" would describe bytes
            // that were never checked).
            let given_differs = match (&sd.econtent, &content) {
                (Some(e), Content::Bytes(b)) => Some(if e.as_slice() == *b {
                    None
                } else {
                    Some("differs from".to_owned())
                }),
                (Some(e), Content::File(p)) => Some(match same_as_file(e, p) {
                    Ok(true) => None,
                    Ok(false) => Some("differs from".to_owned()),
                    Err(err) => Some(format!("cannot be compared ({err}) with")),
                }),
                _ => None,
            }
            .flatten();
            if sd.signers.is_empty() {
                apply(&mut r, &engine::no_signer());
                return Ok(r);
            }
            // Every SignerInfo is validated; the overall result is the worst (EN 319 102-1
            // judges each signature; a document is only as good as its weakest seal).
            let mut results: Vec<SignerResult> = sd
                .signers
                .iter()
                .map(|si| {
                    let mut poes = Vec::new();
                    let o = engine::validate_signer(
                        &sd,
                        si,
                        &content,
                        Role::Signer,
                        &m,
                        at,
                        Some(&mut poes),
                    );
                    let o = match &given_differs {
                        Some(how) => data_not_encapsulated(o, how),
                        None => o,
                    };
                    SignerResult {
                        signing_time: si
                            .signed(&inkan_profiles::oid::ID_SIGNING_TIME)
                            .and_then(|a| a.values.first())
                            .and_then(|v| tlv::parse_exact(v).ok())
                            .and_then(|t| tlv::parse_time(&t).ok())
                            .map(|t| tlv::format_time(t.0)),
                        commitment_types: commitment_types(si),
                        signature_policy: signature_policy(si),
                        best: poes
                            .iter()
                            .filter(|p| {
                                p.indication == Indication::TotalPassed && p.kind != "content"
                            })
                            .filter_map(|p| p.gen_time_secs)
                            .min()
                            .map(tlv::format_time),
                        outcome: o,
                        poes,
                    }
                })
                .collect();
            let mut worst = 0;
            for (i, g) in results.iter().enumerate() {
                if g.outcome.indication.severity() > results[worst].outcome.indication.severity() {
                    worst = i;
                }
            }
            r.signers = results
                .iter()
                .enumerate()
                .map(|(i, g)| report::SignerSummary {
                    index: i + 1,
                    indication: g.outcome.indication,
                    sub_indication: g.outcome.sub,
                    signer: g.outcome.signer.as_ref().map(report::party),
                    signing_time: g.signing_time.clone(),
                    commitment_types: g.commitment_types.clone(),
                    signature_policy: g.signature_policy.clone(),
                    best_proof_of_existence: g.best.clone(),
                    findings: g.outcome.findings.clone(),
                    pdf: None,
                })
                .collect();
            let n = results.len();
            let g = results.swap_remove(worst);
            r.signing_time = g.signing_time;
            r.commitment_types = g.commitment_types;
            r.signature_policy = g.signature_policy;
            r.best_proof_of_existence = g.best;
            r.time_stamps = g.poes;
            apply(&mut r, &g.outcome);
            if n > 1 {
                r.findings.push(Finding::new(
                    Check::SeveralSigners,
                    format!(
                        "{n} signers; the result is the worst of theirs, that of signer {} (see signers)",
                        worst + 1
                    ),
                ));
            }
            Ok(r)
        }
        input::Kind::TimeStampToken | input::Kind::TimeStampResp => {
            let mut r = report_for(if kind == input::Kind::TimeStampToken {
                "RFC 3161 TimeStampToken"
            } else {
                "RFC 3161 TimeStampResp"
            });
            let token: Vec<u8> = if kind == input::Kind::TimeStampResp {
                match cms::parse_time_stamp_resp(ci) {
                    Ok((s, Some(t))) if s <= 1 => t,
                    Ok((s, _)) => {
                        return Ok(format_failure(
                            r,
                            format!("the time-stamp response has status {s} and no token"),
                        ));
                    }
                    Err(e) => {
                        return Ok(format_failure(
                            r,
                            format!("the time-stamp response cannot be read: {e}"),
                        ));
                    }
                }
            } else {
                ci.to_vec()
            };
            if let Ok(sd) = cms::SignedData::parse_content_info(&token)
                && let Some(why) = over_limits(&sd)
            {
                r.fail(Check::LimitExceeded, why);
                return Ok(r);
            }
            // Validated at its proof of existence when one comes from outside it (a later
            // PDF document time-stamp), else at the validation time.
            let t_at = m.external_poe.filter(|&p| p < at).unwrap_or(at);
            let mut t = engine::validate_token(&token, Imprinted::Content(&content), &m, t_at);
            if let Some(tst) = &t.tst {
                r.time_stamped_data = Some(report::Imprint {
                    algorithm: cms::imprint_alg(tst)
                        .ok()
                        .and_then(|a| crypto::digest_alg(&a).ok())
                        .map_or_else(
                            || {
                                cms::imprint_alg(tst)
                                    .map_or_else(|_| "unknown".into(), |a| a.oid.to_string())
                            },
                            |d| d.to_string(),
                        ),
                    digest: hex(&tst.imprint),
                });
            }
            if matches!(content, Content::Missing) {
                // EN 319 102-1 §5.2.2 / Table 6: a token proves the existence of the data its
                // message imprint names; without that data nothing is proven, whatever the
                // token's own signature says: INDETERMINATE / SIGNED_DATA_NOT_FOUND. A token
                // that fails or is indeterminate by itself keeps that result (EN 319 102-1
                // §5.3.4 returns X.509 and format results before the cryptographic
                // verification that needs the data).
                let msg = "no --data given: the message imprint was not compared with any data; give the time-stamped data with --data".to_owned();
                t.outcome.set(Check::TstDataNotGiven, msg);
            }
            r.time_stamps.push(token_summary("stand-alone", &t));
            // Proven to exist: only by a token that validated and whose imprint matched the
            // data given.
            if let Some(tst) = &t.tst
                && t.outcome.passed()
                && t.imprint_ok == Some(true)
            {
                r.best_proof_of_existence = Some(tlv::format_time(tst.gen_time));
            }
            apply(&mut r, &t.outcome);
            Ok(r)
        }
    }
}

/// Bounds on what one input may carry, so that every input up to [`input::MAX_INPUT`] is
/// answered in bounded time (with [`crypto::MAX_COMPUTED_PER_CALL`]). Real signatures carry far
/// fewer: one or two SignerInfos, a chain or two of certificates, a CRL or OCSP response per
/// certificate, a time-stamp per extension. Past them the input is TOTAL-FAILED /
/// FORMAT_FAILURE (`LIMIT_EXCEEDED`) before anything is verified.
pub mod limits {
    /// SignerInfos in one SignedData.
    pub const MAX_SIGNER_INFOS: usize = 16;
    /// Certificates carried (certificates field, certificate-values attributes, and those of
    /// every time-stamp token inside). High enough that thousands of junk certificates beside
    /// a valid chain still leave it valid (path building finds the real issuer by key
    /// identifier and signature, within `crypto::MAX_COMPUTED_PER_CALL`).
    pub const MAX_CERTIFICATES: usize = 5000;
    /// CRLs carried (crls field, revocation-values attributes, tokens).
    pub const MAX_CRLS: usize = 100;
    /// OCSP responses carried (crls field, revocation-values attributes, tokens).
    pub const MAX_OCSP_RESPONSES: usize = 100;
    /// Time-stamp tokens carried (signature, content and archive time-stamps of every
    /// SignerInfo).
    pub const MAX_TIME_STAMPS: usize = 64;
}

/// What a SignedData carries, counted for [`limits`].
#[derive(Default, Debug)]
struct Counts {
    signers: usize,
    certs: usize,
    crls: usize,
    ocsps: usize,
    tokens: usize,
}

impl Counts {
    /// Adds what `sd` carries; `depth` bounds the descent into tokens inside tokens.
    fn add(&mut self, sd: &cms::SignedData, depth: usize) {
        use inkan_profiles::oid as o;
        self.certs += sd.certs_raw.len();
        self.crls += sd.crls.len();
        self.ocsps += sd.ocsps.len();
        for si in &sd.signers {
            for a in si.unsigned(&o::ID_AA_ETS_CERT_VALUES) {
                for v in &a.values {
                    if let Ok(t) = tlv::parse_exact(v) {
                        self.certs += t.children().count();
                    }
                }
            }
            let rv = si
                .unsigned(&o::ID_AA_ETS_REVOCATION_VALUES)
                .chain(si.signed(&o::ID_AA_ETS_REVOCATION_VALUES));
            for a in rv {
                for v in &a.values {
                    let Ok(t) = tlv::parse_exact(v) else { continue };
                    for part in t.children().flatten() {
                        let n = tlv::parse_exact(part.value).map_or(0, |x| x.children().count());
                        match part.tag {
                            0xa0 => self.crls += n,
                            0xa1 => self.ocsps += n,
                            _ => {}
                        }
                    }
                }
            }
            // Every attribute value that is a SignedData is a time-stamp token (or a
            // counter-signature container): counted with what it carries.
            let values = si.unsigned_attrs.iter().chain(
                si.signed_attrs
                    .iter()
                    .flatten()
                    .filter(|a| crypto::is(&a.oid, &o::ID_AA_ETS_CONTENT_TIMESTAMP)),
            );
            for a in values {
                for v in &a.values {
                    if v.first() != Some(&tlv::tag::SEQUENCE) {
                        continue;
                    }
                    if let Ok(inner) = cms::SignedData::parse_content_info(v) {
                        self.tokens += 1;
                        if depth < 2 {
                            self.add(&inner, depth + 1);
                        }
                    }
                }
            }
        }
    }

    /// The first limit passed, in words.
    fn exceeded(&self) -> Option<String> {
        use limits::*;
        [
            (self.signers, MAX_SIGNER_INFOS, "SignerInfos"),
            (self.certs, MAX_CERTIFICATES, "certificates"),
            (self.crls, MAX_CRLS, "CRLs"),
            (self.ocsps, MAX_OCSP_RESPONSES, "OCSP responses"),
            (self.tokens, MAX_TIME_STAMPS, "time-stamp tokens"),
        ]
        .iter()
        .find(|(n, max, _)| n > max)
        .map(|(n, max, what)| {
            format!("the input carries {n} {what}; at most {max} are processed (bounded work)")
        })
    }
}

/// The limit `sd` passes, if any.
fn over_limits(sd: &cms::SignedData) -> Option<String> {
    let mut c = Counts {
        signers: sd.signers.len(),
        ..Counts::default()
    };
    c.add(sd, 0);
    c.exceeded()
}

/// A 法人番号 whose check digit is wrong (平成26年財務省令第70号 §2) is not a corporate number:
/// a finding (the signature's validity does not depend on it, but the reader must not take
/// the number as the organisation's).
fn corporate_number_findings(r: &mut Report) {
    fn wrong(p: Option<&report::Party>) -> Option<Finding> {
        let p = p?;
        let c = p
            .corporate_number
            .as_ref()
            .filter(|c| !c.check_digit_valid)?;
        Some(Finding::new(
            Check::CorporateNumberCheckDigit,
            format!(
                "the organizationIdentifier {} holds the number {}, whose check digit is wrong: it is not a valid corporate number (法人番号)",
                p.organization_identifier.as_deref().unwrap_or("-"),
                c.number
            ),
        ))
    }
    if let Some(f) = wrong(r.signer.as_ref()) {
        r.findings.push(f);
    }
    for g in &mut r.signers {
        if let Some(f) = wrong(g.signer.as_ref()) {
            g.findings.push(f);
        }
    }
}

/// Whether the file at `p` holds exactly `bytes` (streamed: memory does not grow with the
/// file).
fn same_as_file(bytes: &[u8], p: &std::path::Path) -> std::io::Result<bool> {
    use std::io::Read;
    let mut f = std::fs::File::open(p)?;
    let meta = f.metadata()?;
    if meta.is_file() && meta.len() != bytes.len() as u64 {
        return Ok(false);
    }
    let mut buf = vec![0u8; 1 << 16];
    let mut at = 0;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(at == bytes.len());
        }
        if at + n > bytes.len() || buf[..n] != bytes[at..at + n] {
            return Ok(false);
        }
        at += n;
    }
}

/// TOTAL-FAILED / HASH_FAILURE for a signer of an encapsulated signature checked against other
/// data (`how`: "differs from", or why it could not be compared).
fn data_not_encapsulated(o: engine::Outcome, how: &str) -> engine::Outcome {
    o.fail(
        Check::DataNotEncapsulatedContent,
        format!(
            "the signature encapsulates its content, and the data given with --data {how} it: nothing is said about the data given"
        ),
    )
}

/// Lower-case hexadecimal.
fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One signer's result, before the report is assembled.
struct SignerResult {
    outcome: engine::Outcome,
    poes: Vec<TimeStampSummary>,
    signing_time: Option<String>,
    commitment_types: Vec<String>,
    signature_policy: Option<String>,
    best: Option<String>,
}

/// The commitment-type-indication values of `si` (EN 319 122-1 §5.2.3):
/// `CommitmentTypeIndication ::= SEQUENCE { commitmentTypeId OID, commitmentTypeQualifier
/// SEQUENCE OF CommitmentTypeQualifier OPTIONAL }`, one per attribute value (qualifiers not
/// shown). Unreadable values are skipped.
fn commitment_types(si: &cms::SignerInfo) -> Vec<String> {
    use inkan_profiles::oid as o;
    let Some(attrs) = &si.signed_attrs else {
        return Vec::new();
    };
    attrs
        .iter()
        .filter(|a| crypto::is(&a.oid, &o::ID_AA_ETS_COMMITMENT_TYPE))
        .flat_map(|a| a.values.iter())
        .filter_map(|v| {
            let t = tlv::parse_exact(v).ok()?.expect(tlv::tag::SEQUENCE).ok()?;
            let id = t.children().expect(tlv::tag::OID).ok()?;
            Some(
                o::COMMITMENT_TYPES
                    .iter()
                    .find(|(oid, _)| crypto::is(id.value, oid))
                    .map_or_else(
                        || tlv::oid_string(id.value),
                        |(_, n)| format!("proof-of-{n}"),
                    ),
            )
        })
        .take(16)
        .collect()
}

/// The signature-policy-identifier of `si` (EN 319 122-1 §5.2.9): `SignaturePolicyIdentifier
/// ::= CHOICE { signaturePolicyId SEQUENCE { sigPolicyId OID, ... }, signaturePolicyImplied
/// NULL }`.
fn signature_policy(si: &cms::SignerInfo) -> Option<String> {
    let v = si
        .signed(&inkan_profiles::oid::ID_AA_ETS_SIG_POLICY_ID)?
        .values
        .first()?;
    let t = tlv::parse_exact(v).ok()?;
    if t.tag == tlv::tag::NULL {
        return Some("implied".into());
    }
    let id = t
        .expect(tlv::tag::SEQUENCE)
        .ok()?
        .children()
        .expect(tlv::tag::OID)
        .ok()?;
    Some(tlv::oid_string(id.value))
}

pub(crate) fn token_summary(kind: &str, t: &engine::TokenResult) -> TimeStampSummary {
    TimeStampSummary {
        kind: kind.into(),
        gen_time: t.tst.as_ref().map(|x| tlv::format_time(x.gen_time)),
        gen_time_secs: t.tst.as_ref().map(|x| x.gen_time),
        tsa: t.outcome.signer.as_ref().map(|c| c.display_name()),
        indication: t.outcome.indication,
        sub_indication: t.outcome.sub,
    }
}

/// Whether a signature file is checked against data kept beside it: a detached CMS
/// signature (no eContent), or an RFC 3161 token or response (which only names its data by
/// imprint). `false` for an encapsulated signature and for bytes that cannot be read (their
/// verification says why).
pub fn needs_data(bytes: &[u8]) -> bool {
    let bin = input::to_binary(bytes);
    match input::detect(&bin) {
        Ok((input::Kind::SignedData, ci)) => cms::SignedData::parse_content_info(ci)
            .map(|sd| sd.econtent.is_none())
            .unwrap_or(false),
        Ok(_) => true,
        Err(_) => false,
    }
}

/// Verifies arbitrary bytes as a signature file with no anchors (the fuzz entry point): must
/// never panic and never allocate without bound.
pub fn verify_bytes(bytes: &[u8]) -> Report {
    let input = Input {
        bytes: bytes.to_vec(),
    };
    let options = Options::default();
    match verify(&input, &options, UnixTime::from_secs(1_700_000_000)) {
        Ok(r) => r,
        Err(_) => format_failure(base_report("unknown", &options, 0), "unreadable".into()),
    }
}
