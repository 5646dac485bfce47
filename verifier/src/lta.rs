//! Long-term validation with archive-time-stamp-v3 (ETSI EN 319 122-1 V1.3.1 §5.5.2–5.5.3;
//! the verifier side of EN 319 102-1 §5.6): each archive time-stamp is a proof of existence,
//! at its genTime, of everything its ats-hash-index-v3 and message imprint cover.
//!
//! The archive data is recomputed from the bytes as received (never re-encoded):
//!
//! 1. `encapContentInfo.eContentType`, the OBJECT IDENTIFIER element with tag and length;
//! 2. the hash of the signed data (the eContent octets, or the detached data), under the
//!    archive time-stamp's message-imprint algorithm;
//! 3. the SignerInfo fields `version`, `sid`, `digestAlgorithm`, `signedAttrs`,
//!    `signatureAlgorithm` and `signature`, in their order and original encoding;
//! 4. the `ATSHashIndexV3` value carried as an unsigned attribute of the archive token.
//!
//! The index itself names, by hash under `hashIndAlgorithm` (SHA-256 when absent), each
//! `CertificateChoices` of `SignedData.certificates`, each `RevocationInfoChoice` of
//! `SignedData.crls`, and each `attrType ‖ AttributeValue` of the signer's unsigned
//! attributes, all with tag and length. An entry naming material that is no longer in the
//! signature makes the archive time-stamp unusable; material added later (later archive
//! time-stamps, and the validation data added for them) is merely not covered.
//!
//! An archive time-stamp that cannot be used (unreadable, index or imprint not matching,
//! failed or indeterminate by itself) is ignored, as EN 319 102-1 §5.6.3.4 step 5 d) says when
//! no validation constraint mandates it (see `ArchiveWalk::discard`): it proves nothing, and
//! the signature is judged as if it were absent.
//!
//! Archive-time-stamp v2 (ETSI TS 101 733 §6.4.1) stamps take part in the same walk, with
//! their own imprint computation (see `archive_v2_digest`).
//!
//! The walk goes from the newest archive time-stamp to the oldest. A time-stamp proves the
//! existence of exactly what its imprint covers (EN 319 102-1 §5.6.2.4): the SignerInfo up to
//! the signature value, and the unsigned attribute values its index names (for v2, those
//! present when it was made). Each archive time-stamp is validated at the earliest genTime of
//! a newer one that passed and covers it, or at the validation time when none does. The
//! earliest that passed is the proof of existence of the signature; [`ArchiveWalk::poe_of`]
//! gives that of each covered unsigned attribute value (a signature time-stamp added after
//! the archive time-stamps has none and is validated at the validation time).

use inkan_profiles::alg::DigestAlgorithm;
use inkan_profiles::asn1::cades::AtsHashIndexV3;
use inkan_profiles::{ats, oid};

use crate::checks::Check;
use crate::cms::{SignedData, SignerInfo};
use crate::crypto::is;
use crate::material::{Content, Material};
use crate::outcome::{Imprinted, TokenResult};
use crate::report::{Finding, Indication, TimeStampSummary};
use crate::tlv::{self, tag};
use inkan_profiles::asn1::tsp::TstInfo;

/// The outcome of walking the archive time-stamps.
#[derive(Default)]
pub struct ArchiveWalk {
    /// The earliest genTime of an archive time-stamp that passed: a proof of existence of the signature (every archive time-stamp covers the SignerInfo
    /// fields up to the signature value).
    pub poe: Option<i64>,
    /// The proof of existence of each unsigned attribute value (by its attribute's position
    /// among the unsigned attributes, and its position in the attribute's values) that an
    /// archive time-stamp that passed covers: the earliest such genTime. A value no archive
    /// time-stamp covers (added after them) has none.
    pub value_poe: std::collections::HashMap<(usize, usize), i64>,
    /// One summary per archive time-stamp, newest first.
    pub summaries: Vec<TimeStampSummary>,
    /// Findings: each archive time-stamp that was not used as proof of existence, and why.
    pub findings: Vec<Finding>,
}

/// The algorithm of an ats-hash-index(-v3): SHA-256 when `hashIndAlgorithm` is absent; its
/// parameters are ignored, as DSS does.
fn index_alg(ix: &AtsHashIndexV3) -> Result<DigestAlgorithm, String> {
    match &ix.hash_ind_algorithm {
        None => Ok(DigestAlgorithm::Sha256),
        Some(ai) => DigestAlgorithm::from_oid(&ai.oid).map_err(|e| e.to_string()),
    }
}

/// Which hash index an archive token carries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum IndexKind {
    /// ats-hash-index-v3 (EN 319 122-1): one entry per `attrType ‖ AttributeValue`.
    V3,
    /// ats-hash-index (ETSI TS 101 733 V2.2.1 Annex K, as in the 2015 plugtests): one entry per
    /// whole unsigned `Attribute` encoding; otherwise the same computation.
    V1,
}

/// The hash of every `attrType ‖ AttributeValue` of the signer's unsigned attributes (v3), or
/// of every whole attribute (v1).
fn attr_hashes(si: &SignerInfo, d: DigestAlgorithm, kind: IndexKind) -> Vec<Vec<u8>> {
    if kind == IndexKind::V1 {
        return ats::element_hashes(d, si.unsigned_attrs.iter().map(|a| a.raw.as_slice()));
    }
    let types: Vec<Vec<u8>> = si
        .unsigned_attrs
        .iter()
        .map(|a| tlv::encode(tag::OID, &a.oid))
        .collect();
    ats::attr_value_hashes(
        d,
        si.unsigned_attrs
            .iter()
            .zip(&types)
            .flat_map(|(a, ty)| a.values.iter().map(move |v| (ty.as_slice(), v.as_slice()))),
    )
}

/// Checks that every index entry names material present in the signature; the first entry
/// that does not, as text.
fn check_index(
    sd: &SignedData,
    si: &SignerInfo,
    ix: &AtsHashIndexV3,
    d: DigestAlgorithm,
    kind: IndexKind,
) -> Result<(), String> {
    let certs = ats::element_hashes(d, sd.certs_raw.iter().map(Vec::as_slice));
    let crls = ats::element_hashes(d, sd.crls_raw.iter().map(Vec::as_slice));
    let attrs = attr_hashes(si, d, kind);
    for (what, want, have) in [
        ("certificate", &ix.certificates_hash_index, &certs),
        ("revocation data", &ix.crls_hash_index, &crls),
        (
            "unsigned attribute",
            &ix.unsigned_attr_values_hash_index,
            &attrs,
        ),
    ] {
        if let Some(i) = want
            .iter()
            .position(|h| !have.iter().any(|x| x.as_slice() == h.as_bytes()))
        {
            return Err(format!(
                "entry {} of the {what} hash index names material that is not in the signature",
                i + 1
            ));
        }
    }
    Ok(())
}

/// The archive data of §5.5.3 for imprint algorithm `d`, or `None` when the signed data is
/// not at hand.
fn archive_data(
    sd: &SignedData,
    si: &SignerInfo,
    content: &Content<'_>,
    d: DigestAlgorithm,
    index_raw: &[u8],
) -> Option<Vec<u8>> {
    let content_hash = match &sd.econtent {
        Some(c) => d.digest(c),
        None => content.digest(d)?,
    };
    Some(ats::imprint_input(
        &sd.econtent_type_raw,
        &content_hash,
        si.fields_raw.iter().map(Vec::as_slice),
        index_raw,
    ))
}

/// The genTime of a time-stamp token, if readable.
fn token_gen_time(v: &[u8]) -> Option<i64> {
    SignedData::parse_content_info(v)
        .ok()
        .and_then(|t| t.econtent)
        .and_then(|e| TstInfo::parse(&e).ok())
        .map(|t| t.gen_time)
}

struct Stamp<'a> {
    token: &'a [u8],
    /// The position of its attribute among the unsigned attributes, and of the token among
    /// the attribute's values.
    at: (usize, usize),
    gen_time: Option<i64>,
    order: usize,
    /// For an archive-time-stamp v2: the position of its attribute among the unsigned
    /// attributes (those before it are covered by it).
    v2_position: Option<usize>,
}

/// The archive-time-stamp v2 message imprint (ETSI TS 101 733 V2.2.1 §6.4.1, as in RFC 5126
/// §6.4.1) under `d`: the hash of the concatenation of the `encapContentInfo` element, the
/// detached content itself when `eContent` is absent, the `certificates` and `crls`
/// elements when present (with their [0] and [1] tags), and every element of the SignerInfo
/// sequence: the fields `version` to `signature` as received, then the `unsignedAttrs` [1]
/// element holding the unsigned attributes present when the stamp was made, in the order
/// received. Those are all of them but the stamp's own attribute and the archive time-stamps
/// (v2 or v3) whose genTime is not before its own: the unsigned attributes are a SET OF, which
/// DER signers sort, so an attribute's place says nothing about when it was added (the same
/// reading as DSS; checked against the real-world QuoVadis, LuxTrust and 2015 plugtest
/// CAdES-A files). The SignedData parts are encoded again from their elements as received
/// (definite lengths, which is what DER signers wrote); `None` when the detached content is
/// not at hand.
fn archive_v2_digest(
    sd: &SignedData,
    si: &SignerInfo,
    content: &Content<'_>,
    d: DigestAlgorithm,
    position: usize,
    gen_time: Option<i64>,
) -> Option<Vec<u8>> {
    let mut h = d.hasher();
    let mut eci = sd.econtent_type_raw.clone();
    if let Some(c) = &sd.econtent {
        eci.extend(tlv::encode(0xa0, &tlv::encode(tag::OCTET_STRING, c)));
    }
    h.update(&tlv::encode(tag::SEQUENCE, &eci));
    if sd.econtent.is_none() {
        match content {
            Content::Bytes(b) => h.update(b),
            Content::File(p) => {
                use std::io::Read;
                let mut f = std::fs::File::open(p).ok()?;
                let mut buf = vec![0u8; 1 << 20];
                loop {
                    let n = f.read(&mut buf).ok()?;
                    if n == 0 {
                        break;
                    }
                    h.update(&buf[..n]);
                }
            }
            Content::Missing => return None,
        }
    }
    if !sd.certs_raw.is_empty() {
        h.update(&tlv::encode(0xa0, &sd.certs_raw.concat()));
    }
    if !sd.crls_raw.is_empty() {
        h.update(&tlv::encode(0xa1, &sd.crls_raw.concat()));
    }
    for f in &si.fields_raw {
        h.update(f);
    }
    let covered: Vec<u8> = si
        .unsigned_attrs
        .iter()
        .enumerate()
        .filter(|(i, a)| *i != position && !v2_later_archive(a, gen_time))
        .flat_map(|(_, a)| a.raw.iter().copied())
        .collect();
    if !covered.is_empty() {
        h.update(&tlv::encode(0xa1, &covered));
    }
    Some(h.finalize())
}

/// Whether unsigned attribute `a` is an archive time-stamp (v2 or v3) whose genTime is not
/// before `gen_time` (or unreadable): one an archive-time-stamp v2 of `gen_time` does not
/// cover.
fn v2_later_archive(a: &crate::cms::Attribute, gen_time: Option<i64>) -> bool {
    let archive = is(&a.oid, &oid::ID_AA_ETS_ARCHIVE_TIMESTAMP_V2)
        || is(&a.oid, &oid::ID_AA_ETS_ARCHIVE_TIMESTAMP_V3);
    archive
        && a.values
            .first()
            .and_then(|v| token_gen_time(v))
            .is_none_or(|t| gen_time.is_none_or(|g| t >= g))
}

/// The unsigned attribute values of `si` (attribute position, value position) that the
/// hash index `ix` (under `d`) names: for the v3 index each `attrType ‖ AttributeValue`,
/// for the older index each whole attribute (all its values).
fn covered_values(
    si: &SignerInfo,
    ix: &AtsHashIndexV3,
    d: DigestAlgorithm,
    kind: IndexKind,
) -> Vec<(usize, usize)> {
    let listed = |h: &[u8]| {
        ix.unsigned_attr_values_hash_index
            .iter()
            .any(|x| x.as_bytes() == h)
    };
    let mut out = Vec::new();
    for (i, a) in si.unsigned_attrs.iter().enumerate() {
        match kind {
            IndexKind::V1 => {
                if listed(&d.digest(&a.raw)) {
                    out.extend((0..a.values.len()).map(|v| (i, v)));
                }
            }
            IndexKind::V3 => {
                let ty = tlv::encode(tag::OID, &a.oid);
                for (v, value) in a.values.iter().enumerate() {
                    let h = ats::attr_value_hashes(d, [(ty.as_slice(), value.as_slice())]);
                    if h.first().is_some_and(|h| listed(h)) {
                        out.push((i, v));
                    }
                }
            }
        }
    }
    out
}

impl ArchiveWalk {
    /// An archive time-stamp is not used: EN 319 102-1 §5.6.3.4 step 5 d) ("in all other
    /// cases", when no validation constraint mandates the attribute's validity, the SVA
    /// ignores it and goes on with the next time-stamp), as DSS's default policy does (no
    /// `Timestamp/TimestampValid` constraint: a warning). The signature is judged without it,
    /// never worse than without the attribute: an archive time-stamp is unsigned, so anyone
    /// may add one, broken or made for another signature. What it would have covered keeps
    /// only the proof of existence that other time-stamps give.
    fn discard(&mut self, check: Check, why: String) {
        self.findings.push(Finding::new(
            check,
            format!("{why}; it was not used as proof of existence"),
        ));
    }

    /// An archive time-stamp of `gen_time` passed: it proves the existence of the signature
    /// and of the unsigned attribute values `covered` at `gen_time`.
    fn proven(&mut self, gen_time: i64, covered: Vec<(usize, usize)>) {
        self.poe = Some(self.poe.map_or(gen_time, |p| p.min(gen_time)));
        for c in covered {
            let e = self.value_poe.entry(c).or_insert(gen_time);
            *e = (*e).min(gen_time);
        }
    }

    /// The proof of existence of unsigned attribute value `value` of attribute `attr`, when
    /// an archive time-stamp that passed covers it.
    pub fn poe_of(&self, attr: usize, value: usize) -> Option<i64> {
        self.value_poe.get(&(attr, value)).copied()
    }
}

/// Time-stamp validation (EN 319 102-1 §5.4) of a token over what it must cover, with the
/// material at hand, at the time it is proven to exist: the engine's
/// `validate_token`, passed in by the caller (a time-stamp is itself validated as a signature,
/// which is where the walk is called from).
pub type ValidateToken<'v> = &'v dyn Fn(&[u8], Imprinted<'_>, &Material, i64) -> TokenResult;

/// Walks the archive-time-stamp-v3 attributes of `si`, newest first (see the module docs),
/// validating each token with `validate`.
pub fn walk(
    sd: &SignedData,
    si: &SignerInfo,
    content: &Content<'_>,
    m: &Material,
    at: i64,
    validate: ValidateToken<'_>,
) -> ArchiveWalk {
    let mut w = ArchiveWalk::default();
    let gen_time = token_gen_time;
    let mut stamps: Vec<Stamp<'_>> = Vec::new();
    for (position, a) in si.unsigned_attrs.iter().enumerate() {
        let v2 = is(&a.oid, &oid::ID_AA_ETS_ARCHIVE_TIMESTAMP_V2);
        if !v2 && !is(&a.oid, &oid::ID_AA_ETS_ARCHIVE_TIMESTAMP_V3) {
            continue;
        }
        for (vi, v) in a.values.iter().enumerate() {
            stamps.push(Stamp {
                token: v,
                at: (position, vi),
                gen_time: gen_time(v),
                order: stamps.len(),
                v2_position: v2.then_some(position),
            });
        }
    }
    // Newest first; unreadable ones last; ties in reverse order of appearance.
    stamps.sort_by(|a, b| {
        b.gen_time
            .unwrap_or(i64::MIN)
            .cmp(&a.gen_time.unwrap_or(i64::MIN))
            .then(b.order.cmp(&a.order))
    });
    for s in stamps {
        // An archive time-stamp is proven to exist at the genTime of a newer one that passed
        // and covers it; otherwise only at the validation time (EN 319 102-1 §5.6.2.4: a
        // time-stamp proves the existence of exactly what its imprint covers).
        let poe_time = w.value_poe.get(&s.at).copied().unwrap_or(at);
        if let Some(position) = s.v2_position {
            walk_v2(&mut w, &s, position, sd, si, content, m, poe_time, validate);
            continue;
        }
        let token = SignedData::parse_content_info(s.token).ok();
        let index = token.as_ref().and_then(|t| {
            let tsi = t.signers.first()?;
            let find = |o| Some(tsi.unsigned(o).next()?.values.first()?.clone());
            find(&oid::ID_AA_ATS_HASH_INDEX_V3)
                .map(|v| (v, IndexKind::V3))
                .or_else(|| find(&oid::ID_AA_ATS_HASH_INDEX).map(|v| (v, IndexKind::V1)))
        });
        let imprint_alg = token.and_then(imprint_alg);
        let (Some((index_raw, kind)), Some(d)) = (index, imprint_alg) else {
            w.findings.push(Finding::new(
                Check::ArchiveTstDiscarded,
                "an archive-time-stamp-v3 without a readable ats-hash-index-v3 or imprint algorithm was not used as proof of existence".into(),
            ));
            continue;
        };
        let ix = match AtsHashIndexV3::parse(&index_raw) {
            Ok(ix) => ix,
            Err(e) => {
                w.discard(
                    Check::ArchiveTstHashIndexFormat,
                    format!("the ats-hash-index-v3 cannot be read: {e}"),
                );
                continue;
            }
        };
        let mut covered = Vec::new();
        match index_alg(&ix) {
            Ok(ia) => {
                if let Err(e) = check_index(sd, si, &ix, ia, kind) {
                    w.discard(
                        Check::ArchiveTstHashIndexMismatch,
                        format!("archive time-stamp: {e}"),
                    );
                    continue;
                }
                covered = covered_values(si, &ix, ia, kind);
            }
            Err(e) => w.findings.push(Finding::new(
                Check::ArchiveTstDiscarded,
                format!("the ats-hash-index-v3 algorithm is not usable: {e}"),
            )),
        }
        let Some(data) = archive_data(sd, si, content, d, &index_raw) else {
            w.findings.push(Finding::new(
                Check::ArchiveTstDiscarded,
                "the signed data is not at hand, so the archive time-stamp cannot be checked"
                    .into(),
            ));
            continue;
        };
        let r = validate(s.token, Imprinted::Bytes(&data), m, poe_time);
        w.summaries.push(crate::token_summary("archive", &r));
        if r.imprint_ok == Some(false) {
            w.discard(
                Check::ArchiveTstImprintMismatch,
                "the archive time-stamp's message imprint does not match the archived data (the signature, its data or its attributes differ from what it stamped, or it was made for another signature)".into(),
            );
            continue;
        }
        match (&r.tst, r.outcome.indication) {
            (Some(tst), Indication::TotalPassed) => w.proven(tst.gen_time, covered),
            (_, Indication::TotalFailed) => w.discard(
                Check::ArchiveTstFailed,
                format!("the archive time-stamp failed: {}", r.outcome.last_reason()),
            ),
            _ => w.discard(
                Check::ArchiveTstDiscarded,
                format!("archive time-stamp: {}", r.outcome.last_reason()),
            ),
        }
    }
    w
}

/// The digest algorithm of a time-stamp token's message imprint.
fn imprint_alg(token: SignedData) -> Option<DigestAlgorithm> {
    let info = TstInfo::parse(&token.econtent?).ok()?;
    crate::crypto::digest_alg(&crate::cms::imprint_alg(&info).ok()?).ok()
}

/// One archive-time-stamp v2 of the walk. Its imprint is recomputed as
/// [`archive_v2_digest`] says; when it matches and the token passes at the current proof of
/// existence, its genTime becomes the proof of existence, as for v3. A mismatch is reported
/// and the stamp is not used, but it does not fail the signature: the v2 computation is
/// encoded again from the parsed elements, so a signer's non-DER encoding would also differ;
/// what the stamp covers is still checked by basic validation.
#[allow(clippy::too_many_arguments)]
fn walk_v2(
    w: &mut ArchiveWalk,
    s: &Stamp<'_>,
    position: usize,
    sd: &SignedData,
    si: &SignerInfo,
    content: &Content<'_>,
    m: &Material,
    poe_time: i64,
    validate: ValidateToken<'_>,
) {
    let imprint_alg = SignedData::parse_content_info(s.token)
        .ok()
        .and_then(imprint_alg);
    let Some(d) = imprint_alg else {
        w.findings.push(Finding::new(
            Check::ArchiveTstDiscarded,
            "an archive-time-stamp v2 without a readable imprint algorithm was not used as proof of existence".into(),
        ));
        return;
    };
    let Some(digest) = archive_v2_digest(sd, si, content, d, position, s.gen_time) else {
        w.findings.push(Finding::new(
            Check::ArchiveTstDiscarded,
            "the signed data is not at hand, so the archive time-stamp v2 cannot be checked".into(),
        ));
        return;
    };
    let r = validate(s.token, Imprinted::Digest(d, digest), m, poe_time);
    w.summaries.push(crate::token_summary("archive", &r));
    if r.imprint_ok == Some(false) {
        w.findings.push(Finding::new(
            Check::ArchiveTstV2ImprintMismatch,
            "an archive-time-stamp v2's message imprint does not match the archived data as this verifier encodes it; it was not used as proof of existence".into(),
        ));
        return;
    }
    match (&r.tst, r.outcome.indication) {
        (Some(tst), Indication::TotalPassed) => {
            // The v2 imprint covers every unsigned attribute present when it was made (all
            // but itself and the archive time-stamps not older than it, see
            // `archive_v2_digest`), as they are now: it matched.
            let covered = si
                .unsigned_attrs
                .iter()
                .enumerate()
                .filter(|(i, a)| *i != position && !v2_later_archive(a, s.gen_time))
                .flat_map(|(i, a)| (0..a.values.len()).map(move |v| (i, v)))
                .collect();
            w.proven(tst.gen_time, covered);
        }
        _ => w.findings.push(Finding::new(
            Check::ArchiveTstDiscarded,
            format!(
                "an archive-time-stamp v2 was not used as proof of existence: {}",
                r.outcome.last_reason()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_with_and_without_algorithm() {
        let h = tlv::encode(tag::OCTET_STRING, &[7u8; 32]);
        let list = tlv::encode(tag::SEQUENCE, &h);
        let empty = tlv::encode(tag::SEQUENCE, &[]);
        let three = tlv::encode(
            tag::SEQUENCE,
            &[list.clone(), empty.clone(), list.clone()].concat(),
        );
        let ix = AtsHashIndexV3::parse(&three).unwrap();
        assert_eq!(index_alg(&ix), Ok(DigestAlgorithm::Sha256));
        assert_eq!(
            (
                ix.certificates_hash_index.len(),
                ix.crls_hash_index.len(),
                ix.unsigned_attr_values_hash_index.len()
            ),
            (1, 0, 1)
        );
        let sha384 = tlv::encode(tag::OID, oid::SHA384.as_bytes());
        let alg = tlv::encode(tag::SEQUENCE, &sha384);
        let four = tlv::encode(
            tag::SEQUENCE,
            &[alg, list.clone(), empty.clone(), empty.clone()].concat(),
        );
        let ix = AtsHashIndexV3::parse(&four).unwrap();
        assert_eq!(index_alg(&ix), Ok(DigestAlgorithm::Sha384));
        // NULL parameters are ignored, as DSS does.
        let alg = tlv::encode(
            tag::SEQUENCE,
            &[sha384, tlv::encode(tag::NULL, &[])].concat(),
        );
        let four = tlv::encode(tag::SEQUENCE, &[alg, list, empty.clone(), empty].concat());
        let ix = AtsHashIndexV3::parse(&four).unwrap();
        assert_eq!(index_alg(&ix), Ok(DigestAlgorithm::Sha384));
        assert!(AtsHashIndexV3::parse(&tlv::encode(tag::SEQUENCE, &[])).is_err());
    }
}
