//! The validation processes of EN 319 102-1: facts are collected from the bytes
//! ([`CryptoFacts`], [`find_signer_cert`], [`build_path`]), then judged (`judge_*`) into an indication.

use inkan_profiles::alg::{DigestAlgorithm, SignatureAlgorithm};
use inkan_profiles::oid;
use inkan_profiles::policy::{Policy, Use};
use inkan_profiles::time::UnixTime;

use crate::checks::{Check, prevails};
use crate::cms::{self, SignedData, SignerInfo};
use crate::crypto::{self, Call, Scope, VerifyError, is};
use crate::report::{Finding, Indication, Sub};
use crate::x509::{self, Certificate, ku};
use inkan_profiles::asn1::tsp::TstInfo;

pub use crate::material::{Content, Material, hash_file};
pub use crate::outcome::{Imprinted, Outcome, TokenResult};
pub use crate::path::{MAX_PATH_LEN, PATH_BUDGET, Path, build_path};
use crate::path::{cert_signed_by, search_path, sig_alg_of};

/// The one cryptographic policy: CRYPTREC LS-0001-2022 from `inkan-profiles`, applied with
/// [`Use::Validate`] at the time each object is proven to exist.
pub const POLICY: Policy = Policy::cryptrec();

/// A report time (seconds, may be negative for garbage input) as the policy's `UnixTime`.
fn ut(t: i64) -> UnixTime {
    UnixTime::from_secs(u64::try_from(t).unwrap_or(0))
}

/// The digest algorithm of a raw AlgorithmIdentifier, if it maps.
fn digest_of(a: crate::tlv::Result<crypto::AlgId<'_>>) -> Option<DigestAlgorithm> {
    crypto::digest_alg(&a.ok()?).ok()
}

/// The role a signing certificate plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A signature or seal.
    Signer,
    /// A time-stamping unit.
    Tsa,
}

/// Revocation status of one certificate at a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RevStatus {
    /// Known good (source).
    Good(String),
    /// Revoked at, with reason (source).
    Revoked(i64, Option<u64>, String),
    /// Nothing usable at hand.
    Unknown,
}

/// One piece of revocation information found valid for a certificate (RFC 5280 §6.3 for a
/// CRL, RFC 6960 §3.2 for an OCSP response), before freshness and precedence are judged.
#[derive(Clone, Debug)]
struct RevInfo {
    /// `None`: not revoked; `Some((time, reason))`: revoked.
    revoked: Option<(i64, Option<u64>)>,
    /// thisUpdate: the time the status is known to be correct.
    this_update: i64,
    /// nextUpdate, when given.
    next_update: Option<i64>,
    /// Where it comes from ("CRL of ...", "OCSP of ...").
    source: String,
}

impl RevInfo {
    /// Fresh for the time of interest `at` (EN 319 102-1 §5.2.5): issued at or after `at`
    /// (it would show a revocation that took effect before `at`), or issued before `at` with a
    /// nextUpdate not before `at` (`at` lies within its validity period).
    fn fresh_for(&self, at: i64) -> bool {
        self.this_update >= at || self.next_update.is_some_and(|n| n >= at)
    }
}

/// Most notes on unused or stale revocation information reported per certificate.
const MAX_REVOCATION_NOTES: usize = 8;

/// X.509 reason code certificateHold (RFC 5280 §5.3.1): a suspension, not a revocation.
const REASON_HOLD: u64 = 6;
/// X.509 reason code removeFromCRL: the entry says the certificate is no longer on hold.
const REASON_REMOVE_FROM_CRL: u64 = 8;

/// The CRLs at hand that are valid revocation information for `cert` (RFC 5280 §6.3.3): same
/// issuer name, the authorityKeyIdentifier (when both are present) naming `issuer`'s key, the
/// issuer allowed to sign CRLs, the signature verified with its key, no unsupported critical
/// extension, an issuingDistributionPoint (if any) covering the certificate, and a thisUpdate
/// not after the validation time `now` (RFC 5280 §6.3.3 (a): a CRL from the future is not
/// usable). `notes` receives why a CRL of this issuer was not used.
fn crl_infos(
    cert: &Certificate,
    issuer: &Certificate,
    m: &Material,
    now: i64,
    notes: &mut Vec<Finding>,
) -> Vec<RevInfo> {
    let mut out = Vec::new();
    for crl in &m.crls {
        if crl.unusable
            || !x509::names_equal(crl.issuer(), cert.issuer())
            || !x509::names_equal(crl.issuer(), issuer.subject())
        {
            continue;
        }
        if let (Some(a), Some(s)) = (&crl.aki, &issuer.ski)
            && a != s
        {
            continue;
        }
        let when = crate::tlv::format_time(crl.this_update);
        if !issuer.allows(ku::CRL_SIGN) {
            notes.push(Finding::new(
                Check::CrlNotUsed,
                format!(
                    "the CRL of {when} is not used: its issuer {} may not sign CRLs (keyUsage)",
                    issuer.display_name()
                ),
            ));
            continue;
        }
        let verified = sig_alg_of(crl.sig_alg()).is_some_and(|alg| {
            m.call
                .verify_signature(
                    Scope::Material,
                    issuer.spki(),
                    &alg,
                    crl.tbs(),
                    crl.signature(),
                )
                .is_ok()
        });
        if !verified {
            notes.push(Finding::new(
                Check::CrlNotUsed,
                format!(
                    "the CRL of {when} is not used: its signature does not verify with the key of {}",
                    issuer.display_name()
                ),
            ));
            continue;
        }
        if crl.this_update > now {
            notes.push(Finding::new(
                Check::CrlNotUsed,
                format!(
                    "the CRL of {when} is not used: it is dated after the validation time {}",
                    crate::tlv::format_time(now)
                ),
            ));
            continue;
        }
        if let Some(sc) = &crl.scope
            && !sc.covers(cert)
        {
            notes.push(Finding::new(
                Check::CrlNotUsed,
                format!(
                    "the CRL of {when} does not cover {} (issuingDistributionPoint)",
                    cert.display_name()
                ),
            ));
            continue;
        }
        let revoked = crl
            .revoked
            .iter()
            .find(|e| e.serial == cert.serial() && e.reason != Some(REASON_REMOVE_FROM_CRL))
            .map(|e| (e.date, e.reason));
        out.push(RevInfo {
            revoked,
            this_update: crl.this_update,
            next_update: crl.next_update,
            source: format!("CRL of {when}"),
        });
    }
    out
}

/// The OCSP responses at hand that are valid revocation information for `cert` (RFC 6960
/// §3.2 and §4.2.2.2): the CertID names `cert` and `issuer` (name and key hashes, serial);
/// the responder is authorised, that is `issuer` itself or a delegated responder certificate
/// issued directly by `issuer` (issuer name and signature) with extendedKeyUsage
/// id-kp-OCSPSigning; the responder certificate is valid at producedAt; the response's
/// signature verifies with the responder's key; and neither producedAt nor thisUpdate is
/// after the validation time `now` (§4.2.2.1: a response from the future is unreliable).
/// Status `unknown` is no information. `notes` receives why a response naming the
/// certificate was not used.
fn ocsp_infos(
    cert: &Certificate,
    issuer: &Certificate,
    m: &Material,
    now: i64,
    notes: &mut Vec<Finding>,
) -> Vec<RevInfo> {
    let mut out = Vec::new();
    for o in &m.ocsps {
        let mut responder_checked: Option<Result<(), String>> = None;
        for sr in &o.responses {
            if sr.serial != cert.serial() {
                continue;
            }
            let Some(d) = digest_of(sr.hash_alg.get()) else {
                continue;
            };
            if d.digest(issuer.subject()) != sr.name_hash
                || d.digest(issuer.public_key_bits()) != sr.key_hash
            {
                continue;
            }
            let when = crate::tlv::format_time(o.produced_at);
            let checked = responder_checked
                .get_or_insert_with(|| check_ocsp_responder(o, issuer, m, now))
                .clone();
            if let Err(why) = checked {
                notes.push(Finding::new(
                    Check::OcspNotUsed,
                    format!("the OCSP response of {when} is not used: {why}"),
                ));
                break;
            }
            if sr.this_update > now {
                notes.push(Finding::new(
                    Check::OcspNotUsed,
                    format!(
                        "the OCSP response of {when} is not used: its thisUpdate {} is after the validation time {}",
                        crate::tlv::format_time(sr.this_update),
                        crate::tlv::format_time(now)
                    ),
                ));
                continue;
            }
            let revoked = match sr.status {
                cms::OcspStatus::Good => None,
                cms::OcspStatus::Revoked(t, r) => Some((t, r)),
                cms::OcspStatus::Unknown => continue,
            };
            out.push(RevInfo {
                revoked,
                this_update: sr.this_update,
                next_update: sr.next_update,
                source: format!("OCSP of {when}"),
            });
        }
    }
    out
}

/// Whether `o` is signed by a responder authorised for certificates of `issuer`, whose
/// certificate is valid when the response was produced, and was produced by the validation
/// time `now` (RFC 6960 §4.2.2.2, §3.2); the reason when not.
fn check_ocsp_responder(
    o: &cms::BasicOcsp,
    issuer: &Certificate,
    m: &Material,
    now: i64,
) -> Result<(), String> {
    if o.produced_at > now {
        return Err(format!(
            "it was produced after the validation time {}",
            crate::tlv::format_time(now)
        ));
    }
    let named = |r: &Certificate| match (&o.responder_name, &o.responder_key_hash) {
        (Some(n), _) => x509::names_equal(n, r.subject()),
        (_, Some(h)) => DigestAlgorithm::Sha1.digest(r.public_key_bits()) == *h,
        _ => false,
    };
    let delegated = |r: &Certificate| {
        r.ext_key_usage
            .as_ref()
            .is_some_and(|(e, _)| e.iter().any(|x| is(x, &oid::ID_KP_OCSP_SIGNING)))
            && x509::names_equal(r.issuer(), issuer.subject())
            && cert_signed_by(&m.call, r, issuer).is_ok()
    };
    // The CA itself first, then the certificates the response carries (bounded by the
    // response's size); a named certificate that is not authorised is no responder.
    let responder = std::iter::once(issuer)
        .chain(o.certs.iter())
        .filter(|r| named(r))
        .find(|r| r.raw == issuer.raw || delegated(r))
        .ok_or_else(|| {
            format!(
                "its responder is neither {} nor a certificate it issued for OCSP signing (id-kp-OCSPSigning)",
                issuer.display_name()
            )
        })?;
    if !responder.valid_at(o.produced_at) {
        return Err(format!(
            "the responder certificate {} is valid {} .. {}, not when the response was produced",
            responder.display_name(),
            crate::tlv::format_time(responder.not_before),
            crate::tlv::format_time(responder.not_after)
        ));
    }
    let verified = sig_alg_of(o.sig_alg.get()).is_some_and(|alg| {
        m.call
            .verify_signature(
                Scope::Material,
                responder.spki(),
                &alg,
                &o.tbs,
                &o.signature,
            )
            .is_ok()
    });
    if !verified {
        return Err(format!(
            "its signature does not verify with the key of {}",
            responder.display_name()
        ));
    }
    // A delegated responder's own certificate (RFC 6960 §4.2.2.2.1): unless it carries
    // id-pkix-ocsp-nocheck, a CRL of the CA at hand that lists it as revoked when the
    // response was produced makes the response worthless (its key may be in other hands).
    // CRLs only: an OCSP response about the responder would be signed by the responder.
    if responder.raw != issuer.raw && !responder.ocsp_nocheck {
        let revoked = crl_infos(responder, issuer, m, now, &mut Vec::new())
            .into_iter()
            .filter_map(|i| i.revoked)
            .map(|(t, _)| t)
            .filter(|t| *t <= o.produced_at)
            .min();
        if let Some(t) = revoked {
            return Err(format!(
                "its responder certificate {} was revoked at {}, before the response was produced",
                responder.display_name(),
                crate::tlv::format_time(t)
            ));
        }
    }
    Ok(())
}

/// Revocation status of `cert` (issued by `issuer`) at the time of interest `at`, from all
/// the valid revocation information at hand, embedded in the signature or given on the
/// command line alike (CRLs and OCSP responses judged by the same rules); `notes` receives why
/// information at hand was not used or was not fresh.
///
/// The decision (EN 319 102-1 §5.2.5 revocation freshness and §5.2.6 X.509 validation):
///
/// 1. a revocation (any reason but certificateHold) in any valid information is a fact and is
///    decisive, whatever "good" answers other information gives; the earliest revocation time
///    is reported (the caller compares it with `at`);
/// 2. a certificateHold is decisive unless valid information issued after it says the
///    certificate is not revoked (the hold was released);
/// 3. otherwise the certificate is good when some "not revoked" information is fresh for
///    `at` (issued at or after `at`, or with `at` between thisUpdate and nextUpdate); the
///    freshest such information is named. Otherwise the status is unknown.
///
/// The validation time (`Material::validation_time`, `at` when unset) bounds the
/// information: what is dated after it is not used.
pub fn revocation(
    cert: &Certificate,
    issuer: &Certificate,
    m: &Material,
    at: i64,
    notes: &mut Vec<Finding>,
) -> RevStatus {
    let now = m.validation_time.unwrap_or(at).max(at);
    let mut infos = ocsp_infos(cert, issuer, m, now, notes);
    infos.extend(crl_infos(cert, issuer, m, now, notes));
    decide_revocation(&infos, at, notes)
}

/// The status that valid revocation information `infos` gives for the time of interest `at`
/// (the rules of [`revocation`]).
fn decide_revocation(infos: &[RevInfo], at: i64, notes: &mut Vec<Finding>) -> RevStatus {
    if let Some((when, reason, src)) = infos
        .iter()
        .filter_map(|i| i.revoked.map(|(t, r)| (t, r, &i.source)))
        .filter(|(_, r, _)| *r != Some(REASON_HOLD))
        .min_by_key(|(t, _, _)| *t)
    {
        return RevStatus::Revoked(when, reason, src.clone());
    }
    // The latest hold, unless information issued after it says "not revoked".
    let hold = infos
        .iter()
        .filter(|i| i.revoked.is_some())
        .max_by_key(|i| i.this_update)
        .filter(|h| {
            !infos
                .iter()
                .any(|i| i.revoked.is_none() && i.this_update > h.this_update)
        });
    if let Some(h) = hold
        && let Some((when, reason)) = h.revoked
    {
        return RevStatus::Revoked(when, reason, h.source.clone());
    }
    let goods = || infos.iter().filter(|i| i.revoked.is_none());
    if let Some(b) = goods()
        .filter(|g| g.fresh_for(at))
        .max_by_key(|g| g.this_update)
    {
        return RevStatus::Good(b.source.clone());
    }
    for i in goods() {
        notes.push(Finding::new(
            Check::RevocationNotFresh,
            format!(
                "the {} (next update {}) is not fresh for {}",
                i.source,
                i.next_update.map_or("none".into(), crate::tlv::format_time),
                crate::tlv::format_time(at)
            ),
        ));
    }
    RevStatus::Unknown
}

/// Distinct signer keys always tried when several certificates answer a SignerInfo's `sid`
/// (each costs one signature verification). More are tried, up to one per certificate an
/// input may carry (`limits::MAX_CERTIFICATES`), while the message they verify stays within
/// [`SIGNER_CHOICE_BYTES`]: a signature over signed attributes (a few hundred bytes) finds its
/// certificate among thousands of forged ones with its issuer and serial number, as a path
/// finds its issuer among thousands of junk CA certificates (issue 11 §6).
pub const MAX_SIGNER_KEYS: usize = 64;

/// Bytes of signed message verified, at most, while choosing among signer keys beyond
/// [`MAX_SIGNER_KEYS`] (a signature without signed attributes verifies over the whole
/// content, each time).
pub const SIGNER_CHOICE_BYTES: usize = 64 << 20;

/// The certificates that may be the signing certificate of `si`, best first: those the `sid`
/// names (issuer and serial number, or subject key identifier), among the anchors and the
/// material; when an ESS signing-certificate(-v2) attribute is signed, only those whose hash
/// it names. Unsigned certificates are anyone's to add, so several may answer: the caller
/// prefers the one whose key verifies the signature ([`choose_signer_cert`]).
pub fn signer_cert_candidates(si: &SignerInfo, m: &Material) -> Vec<Certificate> {
    let by_sid = |c: &&Certificate| match &si.sid {
        cms::Sid::IssuerSerial(iss, ser) => {
            c.serial() == ser.as_slice() && x509::names_equal(c.issuer(), iss)
        }
        cms::Sid::Ski(k) => c.ski.as_deref() == Some(k.as_slice()),
    };
    let ess: Option<Vec<cms::EssCertId>> = si
        .signed(&oid::ID_AA_SIGNING_CERTIFICATE_V2)
        .and_then(|a| a.values.first())
        .and_then(|v| cms::parse_signing_certificate(v, true))
        .or_else(|| {
            si.signed(&oid::ID_AA_SIGNING_CERTIFICATE)
                .and_then(|a| a.values.first())
                .and_then(|v| cms::parse_signing_certificate(v, false))
        });
    let named = |c: &&Certificate| match ess.as_ref().and_then(|ids| ids.first()) {
        Some((d, h, _)) => d.digest(&c.raw) == *h,
        None => true,
    };
    let mut out: Vec<Certificate> = Vec::new();
    for c in m.candidates().filter(by_sid).filter(named) {
        if !out.iter().any(|o| o.raw == c.raw) {
            out.push(c.clone());
        }
    }
    out
}

/// Identifies the signing certificate of `si` (of `sd`, over `content` when it is detached)
/// among the anchors and the material: of the [`signer_cert_candidates`], the one whose key
/// verifies the signature ([`choose_signer_cert`]).
pub fn find_signer_cert(
    sd: &SignedData,
    si: &SignerInfo,
    content: &Content<'_>,
    m: &Material,
) -> Option<Certificate> {
    choose_signer_cert(sd, si, content, &signer_cert_candidates(si, m), &m.call)
}

/// The candidate whose key verifies `si`'s signature, else the first (see
/// [`order_signer_certs`]).
pub fn choose_signer_cert(
    sd: &SignedData,
    si: &SignerInfo,
    content: &Content<'_>,
    candidates: &[Certificate],
    call: &Call,
) -> Option<Certificate> {
    order_signer_certs(sd, si, content, candidates, call)
        .into_iter()
        .next()
}

/// `candidates`, those whose key verifies `si`'s signature first, each group in the order
/// given. The signature covers the signed attributes, or, when there are none (RFC 5652
/// §5.4), the content itself: the encapsulated content, or the detached `content` given (read
/// here only when several candidates answer; when it is not at hand, the order is kept and
/// [`crypto_facts`] reports the data missing). Keys are tried once each, at most
/// [`MAX_SIGNER_KEYS`] of them or more for a short message (see there; a key not tried counts
/// as not verifying); the results are remembered for the call, so the signature is not
/// computed again by [`crypto_facts`].
pub fn order_signer_certs(
    sd: &SignedData,
    si: &SignerInfo,
    content: &Content<'_>,
    candidates: &[Certificate],
    call: &Call,
) -> Vec<Certificate> {
    if candidates.len() <= 1 {
        return candidates.to_vec();
    }
    let detached: Vec<u8>;
    let message: &[u8] = match (&si.signed_attrs, &sd.econtent, content) {
        (Some(_), _, _) => &si.signed_attrs_der,
        (None, Some(c), _) => c,
        (None, None, Content::Bytes(b)) => b,
        (None, None, Content::File(p)) => match std::fs::read(p) {
            Ok(b) => {
                detached = b;
                &detached
            }
            Err(_) => return candidates.to_vec(),
        },
        (None, None, Content::Missing) => return candidates.to_vec(),
    };
    let digest = digest_of(si.digest_alg.get());
    let Some(alg) = si
        .sig_alg
        .get()
        .ok()
        .and_then(|a| crypto::signature_alg(&a, digest).ok())
    else {
        return candidates.to_vec();
    };
    let max_keys = (SIGNER_CHOICE_BYTES / message.len().max(1))
        .clamp(MAX_SIGNER_KEYS, crate::limits::MAX_CERTIFICATES);
    let mut tried: std::collections::HashMap<&[u8], bool> = std::collections::HashMap::new();
    let mut found = false;
    let mut good = Vec::new();
    let mut rest = Vec::new();
    for c in candidates {
        let ok = match tried.get(c.spki()) {
            Some(ok) => *ok,
            // Once a key verifies, other keys are not tried: a signature value verifies
            // under one key only.
            None if tried.len() >= max_keys || found => false,
            None => {
                let ok = call
                    .verify_signature(Scope::Document, c.spki(), &alg, message, &si.signature)
                    .is_ok();
                tried.insert(c.spki(), ok);
                found |= ok;
                ok
            }
        };
        if ok { &mut good } else { &mut rest }.push(c.clone());
    }
    good.extend(rest);
    good
}

/// Most certificates sharing the signer's key from which a path is sought (see
/// `signer_cert_with_path`).
pub const MAX_SIGNER_PATHS: usize = 8;

/// The signing certificate of `si` and the path search from it. Of the candidates ordered by
/// [`order_signer_certs`], the first; but when others carry the same key (copies of the
/// signer's certificate with its issuer and serial number, altered: unsigned data anyone may
/// add, and without ESS signing-certificate(-v2) nothing tells them apart), the first of them,
/// at most [`MAX_SIGNER_PATHS`], from which a path to a trust anchor is found (issue 11 §6:
/// junk must not turn a valid signature into a failure).
fn signer_cert_with_path(
    sd: &SignedData,
    si: &SignerInfo,
    content: &Content<'_>,
    m: &Material,
) -> Option<(Certificate, (Option<Path>, bool))> {
    let ordered = order_signer_certs(sd, si, content, &signer_cert_candidates(si, m), &m.call);
    let first = ordered.first()?;
    let mut first_search = None;
    for c in ordered
        .iter()
        .filter(|c| c.spki() == first.spki())
        .take(MAX_SIGNER_PATHS)
    {
        let search = search_path(c, m);
        if search.0.is_some() {
            return Some((c.clone(), search));
        }
        first_search.get_or_insert(search);
    }
    Some((first.clone(), first_search.unwrap_or((None, false))))
}

/// Facts about a SignerInfo's own cryptography (time-independent).
pub struct CryptoFacts {
    /// message-digest matches (None: no signed attributes or no content).
    pub digest_ok: Option<bool>,
    /// The content could not be obtained.
    pub content_missing: bool,
    /// Signature verification result.
    pub signature: Result<(), VerifyError>,
    /// The algorithm.
    pub alg: Result<SignatureAlgorithm, String>,
    /// The digest algorithm.
    pub digest_alg: Result<DigestAlgorithm, String>,
    /// content-type attribute matches eContentType.
    pub content_type_ok: bool,
}

/// Checks digest and signature of `si` with `cert`.
pub fn crypto_facts(
    sd: &SignedData,
    si: &SignerInfo,
    cert: &Certificate,
    content: &Content<'_>,
    call: &Call,
) -> CryptoFacts {
    let digest_alg = si
        .digest_alg
        .get()
        .map_err(|e| e.to_string())
        .and_then(|a| crypto::digest_alg(&a).map_err(|e| e.to_string()));
    let alg = si.sig_alg.get().map_err(|e| e.to_string()).and_then(|a| {
        crypto::signature_alg(&a, digest_alg.as_ref().ok().copied()).map_err(|e| e.to_string())
    });
    let mut content_missing = false;
    let content_digest = match (&digest_alg, &sd.econtent) {
        (Ok(d), Some(c)) => Some(d.digest(c)),
        (Ok(d), None) => {
            let r = content.digest(*d);
            content_missing = r.is_none();
            r
        }
        _ => None,
    };
    let mut content_type_ok = true;
    let (digest_ok, signature) = match &si.signed_attrs {
        Some(_) => {
            let md = si
                .signed(&oid::ID_MESSAGE_DIGEST)
                .and_then(|a| a.values.first())
                .and_then(|v| crate::tlv::parse_exact(v).ok().map(|t| t.value.to_vec()));
            if let Some(ct) = si
                .signed(&oid::ID_CONTENT_TYPE)
                .and_then(|a| a.values.first())
            {
                content_type_ok = crate::tlv::parse_exact(ct)
                    .map(|t| t.value == sd.econtent_type.as_slice())
                    .unwrap_or(false);
            }
            let dok = match (&content_digest, md) {
                (Some(c), Some(m)) => Some(*c == m),
                (_, None) => Some(false),
                _ => None,
            };
            let sig = match &alg {
                Ok(a) => call.verify_signature(
                    Scope::Document,
                    cert.spki(),
                    a,
                    &si.signed_attrs_der,
                    &si.signature,
                ),
                Err(_) => Err(VerifyError::Unsupported),
            };
            (dok, sig)
        }
        None => {
            let sig = match (&alg, &sd.econtent, content) {
                (Ok(a), Some(c), _) => {
                    call.verify_signature(Scope::Document, cert.spki(), a, c, &si.signature)
                }
                (Ok(a), None, Content::Bytes(b)) => {
                    call.verify_signature(Scope::Document, cert.spki(), a, b, &si.signature)
                }
                (Ok(a), None, Content::File(p)) => match std::fs::read(p) {
                    Ok(b) => {
                        call.verify_signature(Scope::Document, cert.spki(), a, &b, &si.signature)
                    }
                    Err(_) => {
                        content_missing = true;
                        Err(VerifyError::Unsupported)
                    }
                },
                (Ok(_), None, Content::Missing) => {
                    content_missing = true;
                    Err(VerifyError::Unsupported)
                }
                (Err(_), _, _) => Err(VerifyError::Unsupported),
            };
            (None, sig)
        }
    };
    CryptoFacts {
        digest_ok,
        content_missing,
        signature,
        alg,
        digest_alg,
        content_type_ok,
    }
}

/// EN 319 102-1 §5.2.6 X.509 certificate validation of a path at time `t` (the time the
/// signed object is proven to exist): RFC 5280 name constraints and certificate policies,
/// then, certificate by certificate, the trust anchor, the certificate's own constraints and
/// validity, and its revocation status (§5.2.5); the first failure decides the carried status.
pub fn judge_path(path: &Path, role: Role, m: &Material, t: i64, out: &mut Outcome) {
    let required: &[Vec<u8>] = match role {
        Role::Signer => &m.required_policies,
        Role::Tsa => &[],
    };
    for (check, msg) in crate::constraints::check_path(path, required) {
        out.set(check, msg);
    }
    let anchor_idx = path.certs.len() - 1;
    for (i, c) in path.certs.iter().enumerate() {
        let who = if i == 0 {
            "signing certificate"
        } else {
            "CA certificate"
        };
        if i == anchor_idx {
            judge_anchor(c, i, who, role, t, out);
            continue;
        }
        judge_certificate(c, i, who, role, t, out);
        judge_status(c, &path.certs[i + 1], i, who, m, t, out);
    }
}

/// The trust anchor of a path (the `i`-th certificate): when it is the signing certificate
/// itself (directly trusted), its validity period still bounds the signature (as DSS does),
/// and a TSA's still needs its extended key usage; no revocation is needed for an anchor.
fn judge_anchor(c: &Certificate, i: usize, who: &str, role: Role, t: i64, out: &mut Outcome) {
    if i == 0 && role == Role::Tsa {
        judge_tsa_eku(c, out);
    }
    // A directly trusted signing certificate: its validity period still bounds the
    // signature (as DSS does); no revocation is needed for an anchor.
    if i == 0 && !c.valid_at(t) {
        let check = if c.not_before > t {
            Check::X509NotYetValid
        } else {
            Check::X509Expired
        };
        out.set(
            check,
            format!(
                "the directly trusted {who} {} is valid {} .. {}, not at {}",
                c.display_name(),
                crate::tlv::format_time(c.not_before),
                crate::tlv::format_time(c.not_after),
                crate::tlv::format_time(t)
            ),
        );
    }
}

/// The `i`-th certificate's own constraints (RFC 5280 §6.1.3, §6.1.4: critical extensions,
/// basicConstraints, keyUsage, pathLenConstraint; the signing certificate's key usage, a
/// TSA's extended key usage, RFC 3161 §2.3) and the start of its validity at `t`.
fn judge_certificate(c: &Certificate, i: usize, who: &str, role: Role, t: i64, out: &mut Outcome) {
    if !c.unknown_critical.is_empty() {
        out.set(
            Check::X509UnknownCriticalExtension,
            format!(
                "{who} {} has unsupported critical extensions {:?}",
                c.display_name(),
                c.unknown_critical
            ),
        );
    }
    if i > 0 {
        if c.version >= 2 && !c.is_ca() {
            out.set(
                Check::X509NotACa,
                format!(
                    "{} issues certificates but is not a CA (basicConstraints)",
                    c.display_name()
                ),
            );
        }
        if !c.allows(ku::KEY_CERT_SIGN) {
            out.set(
                Check::X509NoKeyCertSign,
                format!("{} lacks keyCertSign", c.display_name()),
            );
        }
        if let Some((_, Some(pl))) = c.basic_constraints
            && (i as u64).saturating_sub(1) > pl
        {
            out.set(
                Check::X509PathLength,
                format!("{} pathLenConstraint exceeded", c.display_name()),
            );
        }
    }
    if i == 0 {
        match role {
            Role::Signer => {
                if !(c.allows(ku::DIGITAL_SIGNATURE) || c.allows(ku::NON_REPUDIATION)) {
                    out.set(
                        Check::X509KeyUsage,
                        "the signing certificate's keyUsage allows neither digitalSignature nor nonRepudiation".into(),
                    );
                }
            }
            Role::Tsa => judge_tsa_eku(c, out),
        }
    }
    // Validity at the time of existence.
    if c.not_before > t {
        if i == 0 {
            out.set(
                Check::X509NotYetValid,
                format!(
                    "the {who} is valid only from {}, after the time the signature is known to exist ({})",
                    crate::tlv::format_time(c.not_before),
                    crate::tlv::format_time(t)
                ),
            );
        } else {
            out.set(
                Check::X509CaOutOfBounds,
                format!(
                    "the CA certificate {} is not yet valid at {}",
                    c.display_name(),
                    crate::tlv::format_time(t)
                ),
            );
        }
    }
}

/// The `i`-th certificate's status at `t`: its revocation (EN 319 102-1 §5.2.5 revocation
/// freshness, §5.2.6) from the information at hand about it and its `issuer`, and its
/// expiry.
fn judge_status(
    c: &Certificate,
    issuer: &Certificate,
    i: usize,
    who: &str,
    m: &Material,
    t: i64,
    out: &mut Outcome,
) {
    let mut notes = Vec::new();
    let rev = revocation(c, issuer, m, t, &mut notes);
    if matches!(rev, RevStatus::Unknown) {
        // Bounded: an input may carry thousands of CRLs that do not verify.
        let more = notes.len().saturating_sub(MAX_REVOCATION_NOTES);
        out.findings
            .extend(notes.into_iter().take(MAX_REVOCATION_NOTES));
        if more > 0 {
            out.findings.push(Finding::new(
                Check::RevocationNotUsedMore,
                format!(
                    "{more} more CRLs or OCSP responses for {} were not used",
                    c.display_name()
                ),
            ));
        }
    }
    let expired = c.not_after < t;
    match &rev {
        RevStatus::Revoked(when, reason, src) => {
            out.revocation.push(format!(
                "{}: REVOKED at {} (reason {}) per {src}",
                c.display_name(),
                crate::tlv::format_time(*when),
                reason.map_or("unspecified".into(), crate::report::crl_reason_name)
            ));
            if *when <= t && *reason == Some(REASON_HOLD) {
                // A suspension is not final: the status may change (as DSS's "is the
                // certificate not on hold?" check, INDETERMINATE / TRY_LATER).
                out.set(
                    Check::X509OnHold,
                    format!(
                        "the {who} {} is on hold (suspended) since {}; try again when newer revocation information is available",
                        c.display_name(),
                        crate::tlv::format_time(*when)
                    ),
                );
            } else if *when <= t {
                let check = if i == 0 {
                    Check::X509Revoked
                } else {
                    Check::X509CaRevoked
                };
                out.set(
                    check,
                    format!(
                        "the {who} {} was revoked at {}, and nothing proves the signature existed before",
                        c.display_name(),
                        crate::tlv::format_time(*when)
                    ),
                );
            }
        }
        RevStatus::Good(src) => out
            .revocation
            .push(format!("{}: good per {src}", c.display_name())),
        RevStatus::Unknown => {
            let exempt = c.ocsp_nocheck;
            out.revocation.push(format!(
                "{}: no revocation information at hand",
                c.display_name()
            ));
            if m.revocation_required && !exempt && !expired {
                out.set(
                    Check::RevocationMissing,
                    format!(
                        "no valid and fresh revocation information at hand for {}",
                        c.display_name()
                    ),
                );
            }
        }
    }
    if expired {
        let check = if matches!(rev, RevStatus::Good(_)) {
            Check::X509ExpiredNotRevoked
        } else {
            Check::X509Expired
        };
        out.set(
            check,
            format!(
                "the {who} {} expired at {}, and nothing proves the signature existed before",
                c.display_name(),
                crate::tlv::format_time(c.not_after)
            ),
        );
    }
}

/// RFC 3161 §2.3: the TSA's certificate "MUST contain only one instance of the extended key
/// usage field extension ... with KeyPurposeID having value id-kp-timeStamping. This
/// extension MUST be critical." A certificate that lacks it, marks it non-critical, or names
/// another purpose beside it, is not a TSA certificate: INDETERMINATE /
/// CHAIN_CONSTRAINTS_FAILURE (as OpenSSL's timestamp-signing purpose check refuses it).
fn judge_tsa_eku(c: &Certificate, out: &mut Outcome) {
    let (check, msg) = match &c.ext_key_usage {
        Some((e, _)) if !e.iter().any(|x| is(x, &oid::ID_KP_TIME_STAMPING)) => (
            Check::TsaNoTimestampingEku,
            "the TSA certificate's extendedKeyUsage lacks id-kp-timeStamping (RFC 3161 §2.3)",
        ),
        None => (
            Check::TsaNoTimestampingEku,
            "the TSA certificate lacks extendedKeyUsage id-kp-timeStamping (RFC 3161 §2.3)",
        ),
        Some((e, _)) if e.len() != 1 => (
            Check::TsaEkuNotSole,
            "the TSA certificate's extendedKeyUsage names other purposes beside id-kp-timeStamping; RFC 3161 §2.3 allows exactly one",
        ),
        Some((_, false)) => (
            Check::TsaEkuNotCritical,
            "the TSA certificate's extendedKeyUsage is not marked critical, as RFC 3161 §2.3 requires",
        ),
        Some(_) => return,
    };
    out.set(check, format!("{msg}: {}", c.display_name()));
}

/// EN 319 102-1 §5.3.4 step 4: a content time-stamp is a signed attribute, so the signature
/// was made after its genTime. When the signing certificate's X.509 validation is
/// INDETERMINATE / REVOKED_NO_POE and a valid content time-stamp is after the revocation
/// time, the result is TOTAL-FAILED / REVOKED (step 4 a); when it is OUT_OF_BOUNDS_NO_POE or
/// OUT_OF_BOUNDS_NOT_REVOKED and a valid content time-stamp is after the signing
/// certificate's notAfter, TOTAL-FAILED / EXPIRED (step 4 b). A content time-stamp before
/// the event proves nothing about the signature (it bounds the signing time from below only),
/// so every other result is left as it is.
fn content_time_stamps_after_x509(
    path: &Path,
    m: &Material,
    t: i64,
    content_times: &[i64],
    out: &mut Outcome,
) {
    let (Some(ct), Some(leaf)) = (content_times.iter().copied().max(), path.certs.first()) else {
        return;
    };
    if out.indication != Indication::Indeterminate {
        return;
    }
    if !matches!(
        out.sub,
        Some(Sub::RevokedNoPoe | Sub::OutOfBoundsNoPoe | Sub::OutOfBoundsNotRevoked)
    ) {
        return;
    }
    // Step 4 a. (A signing certificate both revoked and expired goes on to step 4 b when
    // the content time-stamp is before the revocation but after the expiry.)
    if out.sub == Some(Sub::RevokedNoPoe)
        && let Some(issuer) = path.certs.get(1)
        && let RevStatus::Revoked(when, _, _) = revocation(leaf, issuer, m, t, &mut Vec::new())
        && ct > when
    {
        *out = std::mem::replace(out, Outcome::new()).fail(
            Check::ContentTstAfterRevocation,
            format!(
                "a content time-stamp of {} proves the signature was made after the signing certificate was revoked ({})",
                crate::tlv::format_time(ct),
                crate::tlv::format_time(when)
            ),
        );
        return;
    }
    // Step 4 b.
    if ct > leaf.not_after {
        *out = std::mem::replace(out, Outcome::new()).fail(
            Check::ContentTstAfterExpiry,
            format!(
                "a content time-stamp of {} proves the signature was made after the signing certificate expired ({})",
                crate::tlv::format_time(ct),
                crate::tlv::format_time(leaf.not_after)
            ),
        );
    }
}

/// Crypto constraints on the path's certificate signatures at time `t`.
pub fn judge_path_crypto(path: &Path, call: &Call, t: i64, out: &mut Outcome) {
    for (i, alg) in path.algs.iter().enumerate() {
        let issuer = &path.certs[i + 1];
        let Some(k) = call.key_kind(issuer.spki()) else {
            continue;
        };
        if let Err(r) = POLICY.check_signature(alg, &k, Use::Validate, ut(t)) {
            out.set(
                Check::Crypto(r.rule),
                format!("certificate {}: {r}", path.certs[i].display_name()),
            );
        }
    }
    // The leaf key itself.
    if let Some(k) = path.certs.first().and_then(|c| call.key_kind(c.spki()))
        && let Err(r) = POLICY.check_key(&k, Use::Validate, ut(t))
    {
        out.set(Check::Crypto(r.rule), format!("signing key: {r}"));
    }
}

/// Validates an RFC 3161 token (§5.4): the token is a signed object with a TSA role;
/// `t` is the time the token is proven to exist (validation time, or a later POE).
pub fn validate_token(
    token_bytes: &[u8],
    imprinted: Imprinted<'_>,
    base: &Material,
    t: i64,
) -> TokenResult {
    let sd = match SignedData::parse_content_info(token_bytes) {
        Ok(sd) => sd,
        Err(e) => {
            return TokenResult {
                outcome: Outcome::new().fail(
                    Check::TstFormat,
                    format!("the time-stamp token cannot be read: {e}"),
                ),
                tst: None,
                imprint_ok: None,
            };
        }
    };
    let tst = sd.econtent.as_deref().and_then(|b| TstInfo::parse(b).ok());
    let Some(tst) = tst else {
        return TokenResult {
            outcome: Outcome::new().fail(
                Check::TstFormat,
                "the token carries no readable TSTInfo".into(),
            ),
            tst: None,
            imprint_ok: None,
        };
    };
    let mut m = Material {
        anchors: base.anchors.clone(),
        certs: base.certs.clone(),
        crls: base.crls.clone(),
        ocsps: base.ocsps.clone(),
        revocation_required: base.revocation_required,
        required_policies: Vec::new(),
        validation_time: base.validation_time,
        iso32000_pkcs7: false,
        external_poe: None,
        call: base.call.clone(),
    };
    m.absorb(&sd);
    let mut outcome = validate_signed(&sd, &Content::Missing, Role::Tsa, &m, t, None);
    judge_gen_time(&tst, t, &mut outcome);
    // Imprint.
    let mut imprint_ok = None;
    match cms::imprint_alg(&tst)
        .map_err(|e| e.to_string())
        .and_then(|a| crypto::digest_alg(&a).map_err(|e| e.to_string()))
    {
        Ok(d) => {
            let got = match imprinted {
                Imprinted::Bytes(b) => Some(d.digest(b)),
                Imprinted::Content(c) => c.digest(d),
                Imprinted::Digest(a, v) => Some(if a == d { v } else { Vec::new() }),
            };
            if let Some(g) = got {
                let ok = g == tst.imprint;
                imprint_ok = Some(ok);
                if !ok && outcome.overruled_by(Check::TstImprintMismatch) {
                    outcome = outcome.fail(
                        Check::TstImprintMismatch,
                        "the time-stamp's message imprint does not match the data".into(),
                    );
                }
            }
            if let Err(r) = POLICY.check_digest(d, Use::Validate, ut(t))
                && outcome.passed()
            {
                outcome.set(Check::Crypto(r.rule), format!("time-stamp imprint: {r}"));
            }
        }
        Err(e) => outcome.set(
            Check::TstImprintAlg,
            format!("time-stamp imprint algorithm: {e}"),
        ),
    }
    TokenResult {
        outcome,
        tst: Some(tst),
        imprint_ok,
    }
}

/// EN 319 102-1 §5.4: a time-stamp is a proof of existence at its genTime only when the TSA
/// could make it then and it could exist by the time `t` it is proven to exist (the
/// validation time, or a later proof of existence). A genTime outside the TSA certificate's
/// validity is a claim the TSA had no certificate for: TOTAL-FAILED / NOT_YET_VALID (before
/// notBefore) or EXPIRED (after notAfter), as for any signature made outside its signing
/// certificate's validity. A genTime after `t` claims a time the token cannot have:
/// INDETERMINATE / NO_POE. Either way the token proves nothing.
fn judge_gen_time(tst: &TstInfo, t: i64, out: &mut Outcome) {
    let g = tst.gen_time;
    let fmt = crate::tlv::format_time;
    if let Some(tsa) = out.signer.clone() {
        if g < tsa.not_before && out.overruled_by(Check::TstGenTimeBeforeTsaCertificate) {
            *out = std::mem::replace(out, Outcome::new()).fail(
                Check::TstGenTimeBeforeTsaCertificate,
                format!(
                    "the time-stamp's genTime {} is before its TSA certificate {} became valid ({})",
                    fmt(g),
                    tsa.display_name(),
                    fmt(tsa.not_before)
                ),
            );
            return;
        }
        if g > tsa.not_after && out.overruled_by(Check::TstGenTimeAfterTsaCertificate) {
            *out = std::mem::replace(out, Outcome::new()).fail(
                Check::TstGenTimeAfterTsaCertificate,
                format!(
                    "the time-stamp's genTime {} is after its TSA certificate {} expired ({})",
                    fmt(g),
                    tsa.display_name(),
                    fmt(tsa.not_after)
                ),
            );
            return;
        }
    }
    if g > t && out.overruled_by(Check::TstGenTimeAfterPoe) {
        *out = std::mem::replace(out, Outcome::new()).fail(
            Check::TstGenTimeAfterPoe,
            format!(
                "the time-stamp's genTime {} is after {}, the time it is known to exist (the validation time or a later time-stamp)",
                fmt(g),
                fmt(t)
            ),
        );
    }
}

/// Basic validation (§5.3) of the first signer of `sd` at time `t`, then, for signatures,
/// validation with time (§5.5) using signature time-stamps as POE (see [`validate_signer`]).
pub fn validate_signed(
    sd: &SignedData,
    content: &Content<'_>,
    role: Role,
    m: &Material,
    at: i64,
    poe_out: Option<&mut Vec<crate::report::TimeStampSummary>>,
) -> Outcome {
    let Some(si) = sd.signers.first() else {
        return no_signer();
    };
    validate_signer(sd, si, content, role, m, at, poe_out)
}

/// TOTAL-FAILED / FORMAT_FAILURE for a SignedData without any SignerInfo.
pub fn no_signer() -> Outcome {
    Outcome::new().fail(
        Check::CmsNoSigner,
        "the SignedData has no SignerInfo".into(),
    )
}

/// Whether `si`'s signed attributes include one defined for CAdES (EN 319 122-1 §5.2, §5.3,
/// §5.5; ETSI TS 101 733): the signer then signed a CAdES signature, which must carry ESS
/// signing-certificate(-v2). Unsigned attributes do not count: anyone may add them, and an
/// added signature time-stamp or validation data must not turn a valid plain RFC 5652
/// signature into an indeterminate one (issue 11 §6); they change nothing about how the
/// signing certificate is bound.
fn claims_cades(si: &SignerInfo) -> bool {
    const ETSI: [const_oid::ObjectIdentifier; 20] = [
        oid::ID_AA_SIGNATURE_TIME_STAMP_TOKEN,
        oid::ID_AA_ETS_SIG_POLICY_ID,
        oid::ID_AA_ETS_COMMITMENT_TYPE,
        oid::ID_AA_ETS_SIGNER_LOCATION,
        oid::ID_AA_ETS_CONTENT_TIMESTAMP,
        oid::ID_AA_ETS_CERTIFICATE_REFS,
        oid::ID_AA_ETS_REVOCATION_REFS,
        oid::ID_AA_ETS_CERT_VALUES,
        oid::ID_AA_ETS_REVOCATION_VALUES,
        oid::ID_AA_ETS_ESC_TIME_STAMP,
        oid::ID_AA_ETS_CERT_CRL_TIMESTAMP,
        oid::ID_AA_ETS_ARCHIVE_TIMESTAMP_V2,
        oid::ID_AA_ETS_ARCHIVE_TIMESTAMP_V3,
        oid::ID_AA_ATS_HASH_INDEX,
        oid::ID_AA_ATS_HASH_INDEX_V2,
        oid::ID_AA_ATS_HASH_INDEX_V3,
        oid::ID_AA_ETS_MIME_TYPE,
        oid::ID_AA_ETS_SIGNER_ATTR_V2,
        oid::ID_AA_ETS_SIG_POLICY_STORE,
        // signerAttr (v1), 1.2.840.113549.1.9.16.2.18
        const_oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.18"),
    ];
    si.signed_attrs
        .iter()
        .flatten()
        .any(|a| ETSI.iter().any(|o| is(&a.oid, o)))
}

/// Validation of signer `si` of `sd` (basic validation §5.3 at time `at`; for signatures,
/// validation with time §5.5 with signature time-stamps as POE, archive time-stamps §5.6,
/// and the time-stamp coherence order check: a content-time-stamp whose genTime is after a
/// signature time-stamp's makes the signature INDETERMINATE / TIMESTAMP_ORDER_FAILURE).
pub fn validate_signer(
    sd: &SignedData,
    si: &SignerInfo,
    content: &Content<'_>,
    role: Role,
    m: &Material,
    at: i64,
    poe_out: Option<&mut Vec<crate::report::TimeStampSummary>>,
) -> Outcome {
    let mut order = None;
    let mut out = validate_signer_inner(sd, si, content, role, m, at, poe_out, &mut order);
    // EN 319 102-1 §5.5.4: validation with time goes on to the time-stamp coherence check
    // only after the results [`prevails`] names; the finding is recorded either way.
    if let Some(msg) = order {
        let check = Check::TimestampOrderFailure;
        if out.overruled_by(check) {
            out = out.fail(check, msg);
        } else {
            out.findings.push(Finding::new(check, msg));
        }
    }
    out
}

/// [`validate_signer`] before the order check; `order` receives the first incoherence found
/// between content and signature time-stamps (one argument past clippy's limit, kept flat
/// rather than bundling the same arguments into a one-use struct). The building blocks of
/// EN 319 102-1 §5.2, in the order of §5.3.4 (basic validation) and §5.5.4 (validation with
/// time): format checking, identification of the signing certificate, cryptographic
/// verification, proofs of existence from time-stamps, X.509 certificate validation at the
/// best proof of existence, signature acceptance validation.
#[allow(clippy::too_many_arguments)]
fn validate_signer_inner(
    sd: &SignedData,
    si: &SignerInfo,
    content: &Content<'_>,
    role: Role,
    m: &Material,
    at: i64,
    poe_out: Option<&mut Vec<crate::report::TimeStampSummary>>,
    order: &mut Option<String>,
) -> Outcome {
    let mut out = Outcome::new();
    if let Err((check, why)) = format_checking(sd, si) {
        return out.fail(check, why);
    }
    // §5.2.3 identification of the signing certificate.
    let Some((cert, search)) = signer_cert_with_path(sd, si, content, m) else {
        return out.fail(
            Check::NoSigningCertificate,
            "the signing certificate is neither in the signature nor among the trust anchors, or the signing-certificate reference does not match".into(),
        );
    };
    out.signer = Some(cert.clone());
    let cf = crypto_facts(sd, si, &cert, content, &m.call);
    if let Err((check, why)) = cryptographic_verification(si, &cf) {
        return out.fail(check, why);
    }
    if !cf.content_type_ok {
        out.findings.push(Finding::new(
            Check::ContentTypeMismatch,
            "the content-type attribute differs from eContentType".into(),
        ));
    }
    let poe = match role {
        Role::Signer => proofs_of_existence(sd, si, content, m, at, poe_out, order, &mut out),
        Role::Tsa => Poe {
            best: at,
            content_times: Vec::new(),
        },
    };
    let Some(path) = x509_validation(&cert, search, role, m, &poe, &mut out) else {
        return out;
    };
    let mut acc = signature_acceptance(si, &cert, &cf, role, m, &poe);
    judge_path_crypto(&path, &m.call, poe.best, &mut acc);
    // Order (§5.3.4): a carried X.509 failure that is TOTAL-FAILED wins, then crypto
    // constraints, then other carried X.509 statuses ([`prevails`]).
    if acc.sub.is_some_and(|s| prevails(s, out.sub)) {
        let mut f = std::mem::take(&mut out.findings);
        out.decisive = acc.decisive.map(|d| f.len() + d);
        f.extend(acc.findings);
        out.findings = f;
        out.indication = acc.indication;
        out.sub = acc.sub;
        return out;
    }
    out.findings.extend(acc.findings);
    out
}

/// EN 319 102-1 §5.2.2 format checking: the signed attributes and algorithms as RFC 5652
/// §5.3/§11.1/§11.2 and RFC 4056 §3 require them.
fn format_checking(sd: &SignedData, si: &SignerInfo) -> Result<(), (Check, String)> {
    for (check, result) in [
        (
            Check::CmsSignedAttributes,
            si.check_signed_attributes(&sd.econtent_type),
        ),
        (
            Check::CmsSignedAttributes,
            si.check_unsigned_content(&sd.econtent_type),
        ),
        (Check::PssHashMismatch, si.check_pss_hash()),
    ] {
        result.map_err(|why| (check, why))?;
    }
    Ok(())
}

/// EN 319 102-1 §5.2.7 cryptographic verification: the signed data at hand, its digest, the
/// signature value, and the algorithms the signer protected (RFC 6211).
fn cryptographic_verification(si: &SignerInfo, cf: &CryptoFacts) -> Result<(), (Check, String)> {
    if cf.content_missing {
        return Err((
            Check::SignedDataNotFound,
            "the signature is detached and the signed data was not given (--data)".into(),
        ));
    }
    if cf.digest_ok == Some(false) {
        return Err((
            Check::MessageDigestMismatch,
            "the data does not match the message-digest the signer signed".into(),
        ));
    }
    match &cf.signature {
        Ok(()) => {}
        Err(VerifyError::Unsupported) => {
            return Err((
                Check::SigAlgUnsupported,
                match &cf.alg {
                    Ok(a) => format!("signature algorithm {a} cannot be verified here"),
                    Err(e) => format!("signature algorithm: {e}"),
                },
            ));
        }
        Err(_) => {
            return Err((
                Check::SignatureInvalid,
                "the signature value does not verify with the signing certificate's key".into(),
            ));
        }
    }
    si.check_algorithm_protection()
        .map_err(|why| (Check::AlgorithmProtectionMismatch, why))
}

/// The proofs of existence a signature's time-stamps give (EN 319 102-1 §5.5, §5.6).
struct Poe {
    /// The best signature time: the earliest proof of existence of the signature.
    best: i64,
    /// genTimes of the valid content time-stamps: the signature was created after each of
    /// them (they are signed attributes), which EN 319 102-1 §5.3.4 steps 4 and 6 use to prove
    /// a signature was made after a revocation, an expiry or an algorithm's sunset.
    content_times: Vec<i64>,
}

/// Archive time-stamps (EN 319 102-1 §5.6), newest to oldest, then signature time-stamps
/// (§5.5) as proof of existence, each validated as §5.4 says (time-stamp validation); content
/// time-stamps checked for coherence with them (§5.5.4). The signature time-stamps are
/// validated at the archive chain's proof of existence, when there is one.
#[allow(clippy::too_many_arguments)]
fn proofs_of_existence(
    sd: &SignedData,
    si: &SignerInfo,
    content: &Content<'_>,
    m: &Material,
    at: i64,
    poe_out: Option<&mut Vec<crate::report::TimeStampSummary>>,
    order: &mut Option<String>,
    out: &mut Outcome,
) -> Poe {
    let mut poes = Vec::new();
    // An archive time-stamp that fails is not used (EN 319 102-1 §5.6.3.4 step 5 d); see
    // `lta::ArchiveWalk`): the signature is judged without it.
    let mut walk = crate::lta::walk(sd, si, content, m, at, &validate_token);
    out.findings.extend(std::mem::take(&mut walk.findings));
    // A proof of existence from outside the signature (a PDF document time-stamp over the
    // revision it signs, ISO 32000-2 §12.8.5) counts as an archive time-stamp's would.
    let outer = m.external_poe.filter(|&p| p < at);
    let poe = match (walk.poe, outer) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let tst_time = poe.unwrap_or(at);
    let sig_times = signature_time_stamps(si, m, at, &walk, &mut poes, out);
    let best = sig_times.iter().copied().chain(poe).fold(at, i64::min);
    let content_times = content_time_stamps(
        sd, si, content, m, tst_time, &sig_times, &mut poes, order, out,
    );
    poes.extend(walk.summaries);
    if let Some(st) = si
        .signed(&oid::ID_SIGNING_TIME)
        .and_then(|a| a.values.first())
        .and_then(|v| crate::tlv::parse_exact(v).ok())
        .and_then(|t| crate::tlv::parse_time(&t).ok())
        && best < at
        && st.0 > best + 1
    {
        out.findings.push(Finding::new(
            Check::SigningTimeAfterTimeStamp,
            format!(
                "the claimed signing time {} is after the time-stamp {}",
                crate::tlv::format_time(st.0),
                crate::tlv::format_time(best)
            ),
        ));
    }
    if let Some(p) = poe_out {
        p.extend(poes);
    }
    Poe {
        best,
        content_times,
    }
}

/// The signature time-stamps of `si` (EN 319 102-1 §5.5.4 steps 2–3), each validated (§5.4)
/// at its proof of existence in the archive `walk`; the genTimes of those that passed, and a
/// summary of each in `poes`.
///
/// A signature time-stamp is proven to exist at the genTime of an archive time-stamp
/// that covers it; one added after the archive time-stamps only at the validation
/// time (EN 319 102-1 §5.6.2.4; EN 319 122-1 §5.5.3: an archive time-stamp proves the
/// existence of exactly what its imprint covers).
/// One whose message imprint does not match is removed from the set (EN 319 102-1
/// §5.5.4 step 3 a)), and so is one that does not pass time-stamp validation (§5.4),
/// whatever the reason (broken signature, untrusted or unsuitable TSA, genTime out of
/// bounds): step 3 b) removes it when no validation constraint mandates the attribute's
/// validity, which is DSS's default policy (no `Timestamp/TimestampValid` constraint,
/// a warning). The signature is then judged as if it had no such attribute.
fn signature_time_stamps(
    si: &SignerInfo,
    m: &Material,
    at: i64,
    walk: &crate::lta::ArchiveWalk,
    poes: &mut Vec<crate::report::TimeStampSummary>,
    out: &mut Outcome,
) -> Vec<i64> {
    let mut sig_times = Vec::new();
    for (ai, a) in si
        .unsigned_attrs
        .iter()
        .enumerate()
        .filter(|(_, a)| is(&a.oid, &oid::ID_AA_SIGNATURE_TIME_STAMP_TOKEN))
    {
        for (vi, v) in a.values.iter().enumerate() {
            let poe = walk.poe_of(ai, vi).unwrap_or(at);
            let r = validate_token(v, Imprinted::Bytes(&si.signature), m, poe);
            poes.push(crate::token_summary("signature", &r));
            match (&r.tst, r.outcome.passed(), r.imprint_ok) {
                (Some(tst), true, Some(true)) => sig_times.push(tst.gen_time),
                _ => out.findings.push(Finding::new(
                    Check::SignatureTstDiscarded,
                    format!(
                        "a signature time-stamp was not used as proof of existence: {}",
                        r.outcome.last_reason()
                    ),
                )),
            }
        }
    }
    sig_times
}

/// The content time-stamps of `si` (signed attributes, over the signed data), validated
/// (§5.4) at `tst_time`: shown in `poes`, and checked for coherence with the signature
/// time-stamps of `sig_times` (EN 319 102-1 §5.5.4; the first incoherence goes to `order`).
/// The genTimes of those that passed and whose imprint matched.
#[allow(clippy::too_many_arguments)]
fn content_time_stamps(
    sd: &SignedData,
    si: &SignerInfo,
    content: &Content<'_>,
    m: &Material,
    tst_time: i64,
    sig_times: &[i64],
    poes: &mut Vec<crate::report::TimeStampSummary>,
    order: &mut Option<String>,
    out: &mut Outcome,
) -> Vec<i64> {
    let mut content_times = Vec::new();
    let econtent = sd.econtent.as_deref();
    for a in si
        .signed_attrs
        .iter()
        .flatten()
        .filter(|a| is(&a.oid, &oid::ID_AA_ETS_CONTENT_TIMESTAMP))
    {
        for v in &a.values {
            let imprinted = match econtent {
                Some(c) => Imprinted::Bytes(c),
                None => Imprinted::Content(content),
            };
            let r = validate_token(v, imprinted, m, tst_time);
            poes.push(crate::token_summary("content", &r));
            match (&r.tst, r.outcome.passed(), r.imprint_ok) {
                (Some(tst), true, Some(true) | None) => {
                    if r.imprint_ok == Some(true) {
                        content_times.push(tst.gen_time);
                    }
                    if let Some(s) = sig_times
                        .iter()
                        .copied()
                        .filter(|s| tst.gen_time > *s)
                        .min()
                    {
                        order.get_or_insert(format!(
                            "the content time-stamp of {} is after the signature time-stamp of {}",
                            crate::tlv::format_time(tst.gen_time),
                            crate::tlv::format_time(s)
                        ));
                    }
                }
                _ => out.findings.push(Finding::new(
                    Check::ContentTstDiscarded,
                    format!(
                        "a content time-stamp was not used: {}",
                        r.outcome.last_reason()
                    ),
                )),
            }
        }
    }
    content_times
}

/// EN 319 102-1 §5.2.6 X.509 certificate validation of the signing certificate's path at the
/// best proof of existence, then §5.3.4 step 4 (content time-stamps after a revocation or an
/// expiry); `None` when no path was found (the outcome says so).
fn x509_validation(
    cert: &Certificate,
    search: (Option<Path>, bool),
    role: Role,
    m: &Material,
    poe: &Poe,
    out: &mut Outcome,
) -> Option<Path> {
    let (path, exhausted) = search;
    let Some(path) = path else {
        let why = if exhausted {
            format!(
                " (the search stopped after {PATH_BUDGET} signature verifications: the input carries too many candidate certificates)"
            )
        } else {
            String::new()
        };
        *out = std::mem::replace(out, Outcome::new()).fail(
            Check::NoCertificateChainFound,
            format!(
                "no certificate path from {} to a trust anchor{why}",
                cert.display_name()
            ),
        );
        return None;
    };
    out.chain = path.certs.clone();
    judge_path(&path, role, m, poe.best, out);
    content_time_stamps_after_x509(&path, m, poe.best, &poe.content_times, out);
    Some(path)
}

/// EN 319 102-1 §5.2.8 signature acceptance validation at the best proof of existence: the
/// cryptographic constraints on the signature and digest algorithms (§5.3.4 step 6 for a
/// content time-stamp after their sunset) and the signed attributes the policy requires.
fn signature_acceptance(
    si: &SignerInfo,
    cert: &Certificate,
    cf: &CryptoFacts,
    role: Role,
    m: &Material,
    poe: &Poe,
) -> Outcome {
    let (best, content_times) = (poe.best, &poe.content_times);
    let mut acc = Outcome::new();
    let key = m.call.key_kind(cert.spki());
    let sig_weak = |t: i64| match (&cf.alg, &key) {
        (Ok(a), Some(k)) => POLICY.check_signature(a, k, Use::Validate, ut(t)).err(),
        _ => None,
    };
    let digest_weak = |t: i64| match cf.digest_alg {
        Ok(d) if si.signed_attrs.is_some() => POLICY.check_digest(d, Use::Validate, ut(t)).err(),
        _ => None,
    };
    if let Some(r) = sig_weak(best) {
        acc.set(Check::Crypto(r.rule), format!("signature: {r}"));
    }
    if let Some(r) = digest_weak(best) {
        acc.set(Check::Crypto(r.rule), format!("message digest: {r}"));
    }
    // EN 319 102-1 §5.3.4 step 6: when the failure concerns the signature value or a signed
    // attribute, a valid content time-stamp generated when the algorithms concerned were no
    // longer reliable proves the signature was made after their sunset: the NO_POE becomes
    // CRYPTO_CONSTRAINTS_FAILURE. Failures on the chain are not concerned.
    if !acc.passed()
        && let Some(ct) = content_times.iter().copied().max()
        && (sig_weak(best).is_none() || sig_weak(ct).is_some())
        && (digest_weak(best).is_none() || digest_weak(ct).is_some())
    {
        acc.sub = Check::ContentTstAfterAlgorithmSunset.sub();
        acc.findings.push(Finding::new(
            Check::ContentTstAfterAlgorithmSunset,
            format!(
                "a content time-stamp of {} proves the signature was made when its algorithms were no longer reliable",
                crate::tlv::format_time(ct)
            ),
        ));
    }
    // Signature acceptance validation (EN 319 102-1 §5.2.8), as DSS's default validation
    // policy (`SignedAttributes/SigningCertificatePresent Level="FAIL"`, checked in DSS's
    // signature acceptance validation with INDETERMINATE / SIG_CONSTRAINTS_FAILURE): a CAdES
    // signature must reference its signing certificate with ESS signing-certificate(-v2)
    // (EN 319 122-1 §5.2.2.3), or another certificate with the same key could be substituted.
    // A plain RFC 5652 signature (no ETSI attribute at all: it does not claim to be CAdES)
    // has no such attribute to carry; it is reported, not refused. For time-stamp tokens
    // DSS only warns (`Timestamp/SignedAttributes/SigningCertificatePresent Level="WARN"`),
    // and so does this verifier.
    let has_ess = si.signed(&oid::ID_AA_SIGNING_CERTIFICATE_V2).is_some()
        || si.signed(&oid::ID_AA_SIGNING_CERTIFICATE).is_some();
    if !has_ess {
        match role {
            Role::Signer if claims_cades(si) && !m.iso32000_pkcs7 => acc.set(
                Check::SigningCertificateAbsent,
                "the CAdES signature's signed attributes do not reference the signing certificate (ESS signing-certificate-v2, EN 319 122-1 §5.2.2.3)".into(),
            ),
            Role::Signer => acc.findings.push(Finding::new(
                Check::PlainCmsNoSigningCertificate,
                "a plain CMS signature (no CAdES attribute): the signing certificate is named by the SignerIdentifier only, not bound by the signature (ESS signing-certificate-v2 absent)".into(),
            )),
            Role::Tsa => acc.findings.push(Finding::new(
                Check::TstSigningCertificateAbsent,
                "the time-stamp token does not reference the TSA certificate (ESS signing-certificate, RFC 3161 §2.4.1 / RFC 5816)".into(),
            )),
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(i: Indication, s: Option<Sub>) -> Outcome {
        let mut o = Outcome::new();
        o.indication = i;
        o.sub = s;
        o
    }

    #[test]
    fn order_check_follows_the_results_validation_with_time_goes_on_from() {
        assert!(outcome(Indication::TotalPassed, None).overruled_by(Check::TimestampOrderFailure));
        for s in [
            Sub::RevokedNoPoe,
            Sub::OutOfBoundsNoPoe,
            Sub::CryptoConstraintsFailureNoPoe,
        ] {
            assert!(
                outcome(Indication::Indeterminate, Some(s))
                    .overruled_by(Check::TimestampOrderFailure)
            );
        }
        assert!(
            !outcome(
                Indication::Indeterminate,
                Some(Sub::NoCertificateChainFound)
            )
            .overruled_by(Check::TimestampOrderFailure)
        );
        assert!(
            !outcome(Indication::TotalFailed, Some(Sub::SigCryptoFailure))
                .overruled_by(Check::TimestampOrderFailure)
        );
    }

    fn info(revoked: Option<(i64, Option<u64>)>, this: i64, next: Option<i64>) -> RevInfo {
        RevInfo {
            revoked,
            this_update: this,
            next_update: next,
            source: format!("info of {this}"),
        }
    }

    fn decide(infos: &[RevInfo], at: i64) -> RevStatus {
        decide_revocation(infos, at, &mut Vec::new())
    }

    #[test]
    fn a_revocation_is_decisive_whatever_good_answers_say() {
        let good_old = info(None, 100, Some(1000));
        let good_new = info(None, 900, Some(2000));
        let revoked = info(Some((300, Some(1))), 400, Some(1400));
        // Older and newer "good" answers do not outweigh it (EN 319 102-1 §5.2.6).
        for infos in [
            vec![good_old.clone(), revoked.clone()],
            vec![revoked.clone(), good_old.clone(), good_new.clone()],
        ] {
            assert_eq!(
                decide(&infos, 500),
                RevStatus::Revoked(300, Some(1), "info of 400".into())
            );
        }
        // Of two revocations, the earlier time is reported.
        let earlier = info(Some((250, None)), 1200, None);
        assert_eq!(
            decide(&[revoked, earlier], 500),
            RevStatus::Revoked(250, None, "info of 1200".into())
        );
    }

    #[test]
    fn good_needs_fresh_information_and_the_freshest_is_named() {
        let a = info(None, 100, Some(200));
        let b = info(None, 150, Some(400));
        let no_next = info(None, 160, None);
        assert_eq!(
            decide(&[a.clone(), b.clone()], 180),
            RevStatus::Good("info of 150".into())
        );
        assert_eq!(
            decide(&[a.clone(), b.clone()], 300),
            RevStatus::Good("info of 150".into())
        );
        // Information issued after the time of interest would show an earlier revocation.
        assert_eq!(
            decide(std::slice::from_ref(&a), 50),
            RevStatus::Good("info of 100".into())
        );
        // Past every nextUpdate, or after a response without one: unknown, with notes.
        let mut notes = Vec::new();
        assert_eq!(
            decide_revocation(&[a, b, no_next.clone()], 500, &mut notes),
            RevStatus::Unknown
        );
        assert_eq!(notes.len(), 3);
        assert!(notes.iter().all(|n| n.code == "REVOCATION_NOT_FRESH"));
        assert_eq!(
            decide(std::slice::from_ref(&no_next), 160),
            RevStatus::Good("info of 160".into())
        );
        assert_eq!(decide(&[no_next], 161), RevStatus::Unknown);
        assert_eq!(decide(&[], 161), RevStatus::Unknown);
    }

    #[test]
    fn a_hold_stands_until_newer_information_releases_it() {
        let hold = info(Some((300, Some(REASON_HOLD))), 310, Some(1000));
        let older_good = info(None, 200, Some(1000));
        let newer_good = info(None, 400, Some(1000));
        assert_eq!(
            decide(&[older_good.clone(), hold.clone()], 350),
            RevStatus::Revoked(300, Some(REASON_HOLD), "info of 310".into())
        );
        assert_eq!(
            decide(&[older_good, hold.clone(), newer_good], 350),
            RevStatus::Good("info of 400".into())
        );
        // A permanent revocation after a hold is decisive.
        let revoked = info(Some((500, Some(1))), 510, None);
        assert_eq!(
            decide(&[hold, revoked], 600),
            RevStatus::Revoked(500, Some(1), "info of 510".into())
        );
    }

    #[test]
    fn no_signer_is_a_format_failure() {
        let o = no_signer();
        assert_eq!(
            (o.indication, o.sub),
            (Indication::TotalFailed, Some(Sub::FormatFailure))
        );
        assert_eq!(o.last_reason(), "the SignedData has no SignerInfo");
        assert_eq!(Outcome::new().last_reason(), "unreadable");
    }
}
