//! PDF signatures (PAdES, ETSI EN 319 142-1) and document time-stamps (ISO 32000-2 §12.8.5):
//! each signature field's value is checked by the PDF rules (ByteRange and `/Contents`,
//! ISO 32000-1 §12.8.1), its CMS or token validated by the EN 319 102-1 engine over the
//! ByteRange bytes, and every revision after it compared with the one before, object by
//! object, so that a change the signatures do not permit (ISO 32000-1 §12.8.2.2 DocMDP; the
//! incremental saving and shadow attacks) keeps the document from TOTAL-PASSED.

use std::collections::HashSet;

use inkan_profiles::pdf::{self, Dict, Document, Entry, Object, Revision, Xref};

use crate::checks::Check;
use crate::report::{Finding, Indication, Report, SignerSummary};
use crate::{Data, Input, Options, engine::Material};

/// Most signature fields judged in one document.
pub const MAX_SIGNATURES: usize = 64;
/// Most revisions analysed in one document.
pub const MAX_REVISIONS: usize = 256;
/// Most fields visited in the form's field tree.
const MAX_FIELDS: usize = 10_000;
/// Most changed objects examined per revision.
const MAX_CHANGES: usize = 20_000;

pub use crate::pdf_text::{Place, place_text};

/// The level of a change made by a later revision (pyHanko's and DSS's classes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    /// DSS, document time-stamps, metadata, cross-reference and object streams.
    Lta,
    /// A new signature in a signature field.
    Signature,
    /// Form filling.
    FormFill,
    /// Annotations.
    Annotation,
    /// Anything else.
    Other,
}

struct Change {
    level: Level,
    what: String,
}

/// What one signature field holds.
struct SigField {
    name: String,
    value: pdf::Ref,
}

/// Validates every signature and document time-stamp of a PDF.
pub(crate) fn verify(
    input: &Input,
    options: &Options,
    at: i64,
    base: Option<&crate::BaseMaterial>,
    call: &std::sync::Arc<crate::crypto::Call>,
) -> Report {
    let mut r = crate::base_report("PDF", options, at);
    let doc = match Document::new(&input.bytes) {
        Ok(d) => d,
        Err(e) => return fail(r, Check::PdfUnreadable, e.to_string()),
    };
    let xref =
        match doc.xref() {
            Ok(x) => x,
            Err(pdf::Error::Encrypted) => {
                return fail(r, Check::PdfEncrypted,
                "the PDF is encrypted; encrypted PDFs are refused (decrypt it first if you may)"
                    .into(),
            );
            }
            Err(e) => return fail(r, Check::PdfUnreadable, e.to_string()),
        };
    let revisions = self_contained_revisions(&doc);
    let Some(root) = doc.dict_of(&xref, xref.trailer.get(b"Root")) else {
        return fail(
            r,
            Check::PdfUnreadable,
            "the document catalog cannot be read".into(),
        );
    };
    let fields = match signature_fields(&doc, &xref, &root) {
        Ok(f) => f,
        Err(why) => return fail(r, Check::PdfFieldTree, why),
    };
    if fields.is_empty() {
        r.fail(
            Check::PdfNoSignature,
            "the PDF has no signed signature field and no document time-stamp".into(),
        );
        return r;
    }
    // Validation material from every revision's DSS (ISO 32000-2 §12.8.4.3).
    let mut dss = dss_material(&doc, &xref, &revisions);
    // Every signature of the PDF is validated in this call (its cache and budget).
    dss.call = call.clone();
    // What each revision changed, compared with the one before it.
    let changes: Vec<Vec<Change>> = (0..revisions.len())
        .map(|i| {
            if i == 0 {
                Vec::new()
            } else {
                revision_changes(&doc, &revisions[i - 1], &revisions[i])
            }
        })
        .collect();
    let mut changes = changes;
    // The file must end with its last complete revision, and the view read must be that
    // revision's: bytes after the last `%%EOF` (or a cross-reference section no `%%EOF`
    // closes) are content that no signature covers and no revision analysis saw.
    let tail_start = revisions.last().map_or(0, |r| r.end);
    let tail = &input.bytes[tail_start.min(input.bytes.len())..];
    let unterminated = revisions
        .last()
        .is_none_or(|r| xref.sections.first() != Some(&r.startxref));
    if unterminated || !tail.iter().all(|&b| pdf::object::is_white(b)) {
        changes.push(vec![Change {
            level: Level::Other,
            what: format!(
                "{} bytes after the last complete revision (%%EOF) that no signature covers",
                tail.len()
            ),
        }]);
    }
    let docmdp = certification_level(&doc, &xref, &root);
    let n_rev = revisions.len();
    let fields: Vec<&SigField> = fields.iter().take(MAX_SIGNATURES).collect();
    let mut entries: Vec<(Report, Place)> = fields
        .iter()
        .map(|f| {
            one_signature(
                &doc, &xref, &revisions, &changes, docmdp, f, options, at, base, &dss, None,
            )
        })
        .collect();
    // Document time-stamps are proof of existence for everything in the revisions before
    // them (ISO 32000-2 §12.8.5; EN 319 102-1 §5.6): what did not pass at the validation
    // time is judged again at the earliest genTime of a valid document time-stamp over it,
    // newest first, so that a chain of renewals carries older ones.
    for _ in 0..fields.len().min(8) {
        let proofs: Vec<(usize, i64)> = entries
            .iter()
            .filter(|(r, p)| {
                p.kind == "document time-stamp" && r.indication == Indication::TotalPassed
            })
            .filter_map(|(r, p)| Some((p.revision, r.time_stamps.first()?.gen_time_secs?)))
            .collect();
        let mut again = false;
        for (i, f) in fields.iter().enumerate() {
            let (r, p) = &entries[i];
            if r.indication == Indication::TotalPassed || p.revision == 0 {
                continue;
            }
            let Some(poe) = proofs
                .iter()
                .filter(|(rev, _)| *rev > p.revision)
                .map(|(_, t)| *t)
                .min()
            else {
                continue;
            };
            let e = one_signature(
                &doc,
                &xref,
                &revisions,
                &changes,
                docmdp,
                f,
                options,
                at,
                base,
                &dss,
                Some(poe),
            );
            if e.0.indication == Indication::TotalPassed {
                again = true;
            }
            entries[i] = e;
        }
        if !again {
            break;
        }
    }
    if fields.len() > MAX_SIGNATURES {
        r.fail(
            Check::LimitExceeded,
            format!("only the first {MAX_SIGNATURES} signatures were judged"),
        );
    }
    // Document order: by revision, then field name.
    entries.sort_by_key(|e| e.1.revision);
    let mut worst = 0;
    for (i, (e, _)) in entries.iter().enumerate() {
        if e.indication.severity() > entries[worst].0.indication.severity() {
            worst = i;
        }
    }
    r.signers = entries
        .iter()
        .enumerate()
        .map(|(i, (e, p))| SignerSummary {
            index: i + 1,
            indication: e.indication,
            sub_indication: e.sub_indication,
            signer: e.signer.clone(),
            signing_time: e.signing_time.clone(),
            commitment_types: e.commitment_types.clone(),
            signature_policy: e.signature_policy.clone(),
            best_proof_of_existence: e.best_proof_of_existence.clone(),
            findings: e.findings.clone(),
            pdf: Some(p.clone()),
        })
        .collect();
    let n = entries.len();
    let (w, wp) = entries.swap_remove(worst);
    let keep = std::mem::take(&mut r.findings);
    let fail_before = r.indication;
    r.indication = w.indication;
    r.sub_indication = w.sub_indication;
    if fail_before.severity() > r.indication.severity() {
        r.indication = fail_before;
        // Only the limit on signatures (above) fails a PDF before its signatures are judged.
        r.sub_indication = Check::LimitExceeded.sub();
    }
    r.signer = w.signer;
    r.signing_time = w.signing_time;
    r.commitment_types = w.commitment_types;
    r.signature_policy = w.signature_policy;
    r.time_stamps = w.time_stamps;
    r.best_proof_of_existence = w.best_proof_of_existence;
    r.chain = w.chain;
    r.revocation = w.revocation;
    r.findings = keep;
    r.findings.extend(w.findings);
    if n > 1 {
        r.findings.push(Finding::new(
            Check::PdfSeveralSignatures,
            format!(
                "{n} signatures and document time-stamps in {n_rev} revisions; the result is the worst of theirs, that of {} in field {:?} (see signers)",
                wp.kind, wp.field
            ),
        ));
    }
    r
}

fn fail(mut r: Report, check: Check, why: String) -> Report {
    r.fail(check, why);
    r
}

/// Revisions whose cross-reference chain lies wholly inside them (a linearised file's
/// first-page section, which points forward, is part of the revision after it).
fn self_contained_revisions(doc: &Document<'_>) -> Vec<Revision> {
    doc.revisions()
        .into_iter()
        .filter(|rv| {
            doc.xref_at(rv.startxref)
                .is_ok_and(|x| x.sections.iter().all(|&s| s < rv.end))
        })
        .take(MAX_REVISIONS)
        .collect()
}

/// Every terminal signature field with a value, by walking `/AcroForm /Fields` (ISO 32000-1
/// §12.7.3.1); `/FT` is inherited. A loop or an oversized tree is an error.
fn signature_fields(doc: &Document<'_>, xref: &Xref, root: &Dict) -> Result<Vec<SigField>, String> {
    let Some(form) = doc.dict_of(xref, root.get(b"AcroForm")) else {
        return Ok(Vec::new());
    };
    let Some(Object::Array(kids)) = form.get(b"Fields").and_then(|f| doc.resolve(xref, f).ok())
    else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut stack: Vec<(Object, String, Option<Vec<u8>>, usize)> = kids
        .into_iter()
        .rev()
        .map(|k| (k, String::new(), None, 0))
        .collect();
    let mut visited = 0usize;
    while let Some((o, parent, ft, depth)) = stack.pop() {
        visited += 1;
        if visited > MAX_FIELDS || depth > 32 {
            return Err("the form's field tree is too large or too deep".into());
        }
        let Object::Ref(fr) = o else { continue };
        if !seen.insert(fr.num) {
            return Err(format!(
                "the form's field tree has a loop (object {})",
                fr.num
            ));
        }
        let Ok(Object::Dict(d)) = doc.get(xref, fr.num) else {
            continue;
        };
        let t = match d.get(b"T") {
            Some(Object::Str(s)) => text(&s.bytes),
            _ => String::new(),
        };
        let name = match (parent.is_empty(), t.is_empty()) {
            (true, _) => t,
            (false, true) => parent.clone(),
            (false, false) => format!("{parent}.{t}"),
        };
        let ft = d.name(b"FT").map(<[u8]>::to_vec).or(ft);
        if let Some(Object::Array(k)) = d.get(b"Kids").and_then(|k| doc.resolve(xref, k).ok()) {
            for k in k.into_iter().rev() {
                stack.push((k, name.clone(), ft.clone(), depth + 1));
            }
        }
        if ft.as_deref() == Some(b"Sig")
            && let Some(Object::Ref(v)) = d.get(b"V")
        {
            out.push(SigField { name, value: *v });
        }
    }
    Ok(out)
}

/// A PDF text string (§7.9.2.2): UTF-16BE with a byte-order mark, else PDFDocEncoding
/// (read as Latin-1, which agrees on the printable range).
fn text(b: &[u8]) -> String {
    if let Some(rest) = b.strip_prefix(&[0xfe, 0xff]) {
        let u: Vec<u16> = rest
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
            .collect();
        return String::from_utf16_lossy(&u);
    }
    if let Some(rest) = b.strip_prefix(&[0xef, 0xbb, 0xbf]) {
        return String::from_utf8_lossy(rest).into_owned();
    }
    b.iter().map(|&c| c as char).collect()
}

/// The DocMDP permission level P of a certification signature (ISO 32000-1 §12.8.2.2,
/// Table 254; default 2), from the catalog's `/Perms /DocMDP`.
fn certification_level(doc: &Document<'_>, xref: &Xref, root: &Dict) -> Option<i64> {
    let perms = doc.dict_of(xref, root.get(b"Perms"))?;
    let sig = doc.dict_of(xref, perms.get(b"DocMDP"))?;
    let Some(Object::Array(refs)) = sig
        .get(b"Reference")
        .and_then(|r| doc.resolve(xref, r).ok())
    else {
        return Some(2);
    };
    for r in refs {
        let Some(sr) = doc.dict_of(xref, Some(&r)) else {
            continue;
        };
        if sr.name(b"TransformMethod") == Some(b"DocMDP") {
            let p = doc
                .dict_of(xref, sr.get(b"TransformParams"))
                .and_then(|t| t.int(b"P"))
                .unwrap_or(2);
            return Some(p.clamp(1, 3));
        }
    }
    Some(2)
}

/// Certificates, CRLs and OCSP responses of every revision's DSS.
fn dss_material(doc: &Document<'_>, xref: &Xref, revisions: &[Revision]) -> Material {
    let mut m = Material::default();
    let mut views: Vec<Xref> = vec![xref.clone()];
    for rv in revisions {
        if let Ok(x) = doc.xref_at(rv.startxref) {
            views.push(x);
        }
    }
    let mut seen = HashSet::new();
    for x in &views {
        let Some(root) = doc.dict_of(x, x.trailer.get(b"Root")) else {
            continue;
        };
        let Some(dss) = doc.dict_of(x, root.get(b"DSS")) else {
            continue;
        };
        for (key, kind) in [(&b"Certs"[..], 0), (b"CRLs", 1), (b"OCSPs", 2)] {
            let Some(Object::Array(a)) = dss.get(key).and_then(|v| doc.resolve(x, v).ok()) else {
                continue;
            };
            for item in a.iter().take(10_000) {
                let Ok(Object::Stream(s)) = doc.resolve(x, item) else {
                    continue;
                };
                let Ok(data) = doc.decode(&s) else { continue };
                if !seen.insert((kind, data.clone())) {
                    continue;
                }
                match kind {
                    0 => {
                        if let Ok(c) = crate::x509::Certificate::parse(&data) {
                            m.add_cert(c);
                        }
                    }
                    1 => {
                        if let Ok(c) = crate::x509::Crl::parse(&data) {
                            m.crls.push(c);
                        }
                    }
                    _ => {
                        if let Ok(o) = crate::cms::parse_ocsp(&data) {
                            for c in &o.certs {
                                m.add_cert(c.clone());
                            }
                            m.ocsps.push(o);
                        }
                    }
                }
            }
        }
    }
    m
}

#[allow(clippy::too_many_arguments)]
fn one_signature(
    doc: &Document<'_>,
    xref: &Xref,
    revisions: &[Revision],
    changes: &[Vec<Change>],
    docmdp: Option<i64>,
    f: &SigField,
    options: &Options,
    at: i64,
    base: Option<&crate::BaseMaterial>,
    dss: &Material,
    poe: Option<i64>,
) -> (Report, Place) {
    let mut place = Place {
        kind: "PAdES signature".into(),
        field: f.name.clone(),
        revision: 0,
        covers: "unknown".into(),
        later_changes: Vec::new(),
    };
    let r0 = crate::base_report("PDF signature", options, at);
    let Ok(Object::Dict(sig)) = doc.get(xref, f.value.num) else {
        return (
            fail(
                r0,
                Check::PdfContents,
                format!(
                    "field {:?}: the signature value is not a dictionary",
                    f.name
                ),
            ),
            place,
        );
    };
    let sub = sig.name(b"SubFilter").unwrap_or(b"").to_vec();
    let is_ts = sig.name(b"Type") == Some(b"DocTimeStamp") || sub == b"ETSI.RFC3161";
    if is_ts {
        place.kind = "document time-stamp".into();
    }
    // ISO 32000-1 §12.8.1: /Contents is the hexadecimal string in the gap of /ByteRange.
    let Some(Entry::InFile { .. }) = xref.entries.get(&f.value.num) else {
        return (
            fail(r0, Check::PdfContents, "the signature dictionary is inside an object stream: its /Contents cannot be the ByteRange gap".into()),
            place,
        );
    };
    let contents = match sig.get(b"Contents") {
        Some(Object::Str(s)) if s.hex && s.span.is_some() => s.clone(),
        Some(Object::Str(_)) => {
            return (
                fail(
                    r0,
                    Check::PdfContents,
                    "/Contents is not a hexadecimal string".into(),
                ),
                place,
            );
        }
        _ => {
            return (
                fail(
                    r0,
                    Check::PdfContents,
                    "/Contents is missing or not a direct string".into(),
                ),
                place,
            );
        }
    };
    let br: Vec<usize> = match sig.get(b"ByteRange") {
        Some(Object::Array(a)) if a.len() == 4 => a
            .iter()
            .filter_map(|o| match o {
                Object::Int(i) => usize::try_from(*i).ok(),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let bytes = doc.bytes;
    let (span_start, span_end) = contents.span.unwrap_or((0, 0));
    let br_ok = br.len() == 4
        && br[0] == 0
        && br[1] == span_start
        && br[2] == span_end
        && br[2].checked_add(br[3]).is_some_and(|e| e <= bytes.len());
    if !br_ok {
        return (
            fail(
                r0,
                Check::PdfByterange,
                format!(
                    "/ByteRange {br:?} must be [0 a b c] with the gap exactly the /Contents string (bytes {span_start}..{span_end}) and end inside the file"
                ),
            ),
            place,
        );
    }
    let end = br[2] + br[3];
    let Some(rev) = revisions
        .iter()
        .position(|rv| rv.end == end || rv.eof_end == end)
    else {
        return (
            fail(
                r0,
                Check::PdfByterange,
                format!(
                    "/ByteRange ends at byte {end}, which is not the end of a revision (%%EOF)"
                ),
            ),
            place,
        );
    };
    place.revision = rev + 1;
    // The signature dictionary must be the same object in the signed revision (a later
    // revision that redefines it shows other values than those signed).
    let signed_view = doc.xref_at(revisions[rev].startxref);
    let same_dict = signed_view
        .as_ref()
        .is_ok_and(|x| x.entries.get(&f.value.num) == xref.entries.get(&f.value.num));
    if !same_dict {
        return (
            fail(
                r0,
                Check::PdfSigDictReplaced,
                format!(
                    "the signature dictionary (object {}) of field {:?} was replaced after revision {}",
                    f.value.num,
                    f.name,
                    rev + 1
                ),
            ),
            place,
        );
    }
    let last = revisions.len();
    let whole = rev + 1 == last && bytes[end..].iter().all(|&b| pdf::object::is_white(b));
    place.covers = if whole {
        "the whole document".into()
    } else {
        format!("revision {} of {}", rev + 1, last.max(rev + 1))
    };
    // The CMS: DER, then only zero padding (§12.8.3.3.1 leaves the rest of the gap to 0).
    let cms = match crate::tlv::parse_one(&contents.bytes, 0) {
        Ok((t, rest)) if rest.iter().all(|&b| b == 0) => t.raw.to_vec(),
        Ok(_) => {
            return (
                fail(
                    r0,
                    Check::PdfContents,
                    "/Contents holds bytes other than zeros after the signature".into(),
                ),
                place,
            );
        }
        Err(e) => {
            let mut r = fail(
                r0,
                Check::PdfContents,
                format!("/Contents is not a DER structure: {e}"),
            );
            if contents.bytes.iter().all(|&b| b == 0) {
                r.findings[0].message =
                    "/Contents is an empty placeholder: nothing was signed".into();
            }
            return (r, place);
        }
    };
    let sha1 = sub == b"adbe.pkcs7.sha1";
    if !(is_ts || sha1 || sub == b"ETSI.CAdES.detached" || sub == b"adbe.pkcs7.detached") {
        return (
            fail(
                r0,
                Check::PdfSubfilter,
                format!(
                    "/SubFilter /{} is not supported (ETSI.CAdES.detached, adbe.pkcs7.detached, ETSI.RFC3161 are)",
                    String::from_utf8_lossy(&sub)
                ),
            ),
            place,
        );
    }
    let mut signed = Vec::with_capacity(br[1] + br[3]);
    signed.extend_from_slice(&bytes[..br[1]]);
    signed.extend_from_slice(&bytes[br[2]..end]);
    // adbe.pkcs7.sha1 (ISO 32000-1 §12.8.3.3.1, deprecated in ISO 32000-2): the SHA-1 digest
    // of the ByteRange bytes is the encapsulated content.
    let data = if sha1 {
        inkan_profiles::alg::DigestAlgorithm::Sha1.digest(&signed)
    } else {
        signed
    };
    let opts = Options {
        data: Data::Bytes(data),
        ..options.clone()
    };
    let mut material = dss.clone();
    material.iso32000_pkcs7 = sub.starts_with(b"adbe.pkcs7");
    material.external_poe = poe;
    let dss = &material;
    let at_t = inkan_profiles::time::UnixTime::from_secs(u64::try_from(at).unwrap_or(0));
    let mut r = match crate::verify_unbounded(
        &Input { bytes: cms },
        &opts,
        at_t,
        base,
        Some(dss),
        &dss.call,
    ) {
        Ok(r) => r,
        Err(e) => fail(r0, Check::PdfContents, e.to_string()),
    };
    let kind_ok = if is_ts {
        r.kind.starts_with("RFC 3161")
    } else {
        r.kind == "CMS SignedData"
    };
    if !kind_ok && r.indication == Indication::TotalPassed {
        let what = format!(
            "/Contents holds a {} where the /SubFilter calls for another kind",
            r.kind
        );
        r = fail(r, Check::PdfContents, what);
    }
    if !whole {
        r.findings.push(Finding::new(
            Check::PdfNotWholeDocument,
            format!("this signature covers revision {} of {last}", rev + 1),
        ));
    }
    // Changes after the signed revision.
    let mut worst: Option<&Change> = None;
    for (j, cs) in changes.iter().enumerate().skip(rev + 1) {
        for c in cs {
            place
                .later_changes
                .push(format!("revision {}: {}", j + 1, c.what));
            if !permitted(c.level, docmdp) && worst.is_none_or(|w| c.level > w.level) {
                worst = Some(c);
            }
        }
    }
    place.later_changes.truncate(100);
    if let Some(w) = worst {
        let which = changes
            .iter()
            .enumerate()
            .find(|(_, cs)| cs.iter().any(|c| std::ptr::eq(c, w)))
            .map_or(0, |(j, _)| j + 1);
        r.set(
            Check::PdfModifiedAfterSigning,
            format!(
                "revision {which} changes the document after this signature beyond what is permitted: {}",
                w.what
            ),
        );
    } else if !place.later_changes.is_empty() {
        r.findings.push(Finding::new(
            Check::PdfChangesAfterSigning,
            format!(
                "permitted later changes: {}",
                place.later_changes.join("; ")
            ),
        ));
    }
    (r, place)
}

/// Whether changes of `level` after a signature are allowed: DSS and document time-stamps
/// always (ISO 32000-2 §12.8.2.2.2), new signatures unless a certification signature says
/// P=1, form filling where a certification signature allows it (P≥2), annotations at P=3.
fn permitted(level: Level, docmdp: Option<i64>) -> bool {
    match level {
        Level::Lta => true,
        Level::Signature => docmdp != Some(1),
        Level::FormFill => docmdp.is_some_and(|p| p >= 2),
        Level::Annotation => docmdp == Some(3),
        Level::Other => false,
    }
}

/// What revision `new` changed relative to `old`: each object its cross-reference section
/// wrote is compared with the object in the earlier revision and classified.
fn revision_changes(doc: &Document<'_>, old: &Revision, new: &Revision) -> Vec<Change> {
    let mut out = Vec::new();
    let (Ok(xo), Ok(xn)) = (doc.xref_at(old.startxref), doc.xref_at(new.startxref)) else {
        out.push(Change {
            level: Level::Other,
            what: "its cross-reference section cannot be read".into(),
        });
        return out;
    };
    let ctx = Context::new(doc, &xo);
    if xo.trailer.get(b"Root").map(|r| format!("{r:?}"))
        != xn.trailer.get(b"Root").map(|r| format!("{r:?}"))
    {
        out.push(Change {
            level: Level::Other,
            what: "the document catalog was replaced by another object".into(),
        });
    }
    let mut nums: Vec<u32> = xn.own.keys().copied().collect();
    nums.sort_unstable();
    if nums.len() > MAX_CHANGES {
        out.push(Change {
            level: Level::Other,
            what: format!("{} objects rewritten (too many to compare)", nums.len()),
        });
        return out;
    }
    for num in nums {
        let before = doc.get(&xo, num).unwrap_or(Object::Null);
        let after = match doc.get(&xn, num) {
            Ok(o) => o,
            Err(e) => {
                out.push(Change {
                    level: Level::Other,
                    what: format!("object {num} cannot be read: {e}"),
                });
                continue;
            }
        };
        if matches!(before, Object::Null) {
            continue; // a new object: judged where it is referenced from
        }
        if matches!(after, Object::Null) {
            out.push(Change {
                level: Level::Other,
                what: format!("object {num} was deleted"),
            });
            continue;
        }
        if same_with_data(doc, &before, &after) {
            continue;
        }
        if let Some(c) = ctx.classify(num, &before, &after, &xn) {
            out.push(c);
        }
    }
    out
}

fn same_with_data(doc: &Document<'_>, a: &Object, b: &Object) -> bool {
    match (a, b) {
        (Object::Stream(x), Object::Stream(y)) => x.dict.same(&y.dict) && doc.raw(x) == doc.raw(y),
        _ => a.same(b),
    }
}

/// What the earlier revision's objects are, for classification.
struct Context<'d, 'a> {
    doc: &'d Document<'a>,
    catalog: Option<u32>,
    acroform: Option<u32>,
    info: Option<u32>,
    metadata: Option<u32>,
    dss: HashSet<u32>,
    pages: HashSet<u32>,
    annots_arrays: HashSet<u32>,
    fields_array: Option<u32>,
    /// Objects in use in the earlier revision.
    old_objects: HashSet<u32>,
}

fn ref_num(o: Option<&Object>) -> Option<u32> {
    match o {
        Some(Object::Ref(r)) => Some(r.num),
        _ => None,
    }
}

impl<'d, 'a> Context<'d, 'a> {
    fn new(doc: &'d Document<'a>, x: &Xref) -> Self {
        let catalog = ref_num(x.trailer.get(b"Root"));
        let root = doc.dict_of(x, x.trailer.get(b"Root")).unwrap_or_default();
        let form = doc.dict_of(x, root.get(b"AcroForm"));
        let mut dss = HashSet::new();
        // Everything reachable from the DSS (bounded).
        let mut stack: Vec<Object> = root.get(b"DSS").cloned().into_iter().collect();
        while let Some(o) = stack.pop() {
            if dss.len() > 100_000 {
                break;
            }
            match o {
                Object::Ref(r) => {
                    if dss.insert(r.num)
                        && let Ok(v) = doc.get(x, r.num)
                    {
                        stack.push(v);
                    }
                }
                Object::Array(a) => stack.extend(a),
                Object::Dict(d) => stack.extend(d.0.into_iter().map(|(_, v)| v)),
                Object::Stream(s) => stack.extend(s.dict.0.into_iter().map(|(_, v)| v)),
                _ => {}
            }
        }
        // Pages and their /Annots arrays (bounded walk of the page tree).
        let mut pages = HashSet::new();
        let mut annots_arrays = HashSet::new();
        let mut stack: Vec<(Object, usize)> = root
            .get(b"Pages")
            .cloned()
            .map(|p| (p, 0))
            .into_iter()
            .collect();
        let mut seen = HashSet::new();
        while let Some((o, depth)) = stack.pop() {
            if seen.len() > 100_000 || depth > 64 {
                break;
            }
            let Object::Ref(r) = o else { continue };
            if !seen.insert(r.num) {
                continue;
            }
            let Ok(Object::Dict(d)) = doc.get(x, r.num) else {
                continue;
            };
            if let Some(Object::Array(k)) = d.get(b"Kids").and_then(|k| doc.resolve(x, k).ok()) {
                stack.extend(k.into_iter().map(|k| (k, depth + 1)));
            }
            if d.name(b"Type") == Some(b"Page") || d.get(b"Kids").is_none() {
                pages.insert(r.num);
                if let Some(n) = ref_num(d.get(b"Annots")) {
                    annots_arrays.insert(n);
                }
            }
        }
        Self {
            doc,
            catalog,
            acroform: ref_num(root.get(b"AcroForm")),
            info: ref_num(x.trailer.get(b"Info")),
            metadata: ref_num(root.get(b"Metadata")),
            dss,
            pages,
            annots_arrays,
            fields_array: form.and_then(|f| ref_num(f.get(b"Fields"))),
            old_objects: x
                .entries
                .iter()
                .filter(|(_, e)| **e != Entry::Free)
                .map(|(n, _)| *n)
                .collect(),
        }
    }

    fn classify(&self, num: u32, before: &Object, after: &Object, xn: &Xref) -> Option<Change> {
        let other = |what: String| {
            Some(Change {
                level: Level::Other,
                what,
            })
        };
        let lta = |what: String| {
            Some(Change {
                level: Level::Lta,
                what,
            })
        };
        let bd = before.as_dict();
        let ty = bd
            .and_then(|d| d.name(b"Type"))
            .map(|t| String::from_utf8_lossy(t).into_owned());
        if matches!(ty.as_deref(), Some("XRef" | "ObjStm")) {
            return None;
        }
        if self.dss.contains(&num) {
            return lta("the document security store (DSS) was updated".into());
        }
        if Some(num) == self.info {
            return lta("the document information dictionary was updated".into());
        }
        if Some(num) == self.metadata {
            return lta("the XMP metadata was updated".into());
        }
        let (Some(bd), Some(ad)) = (bd, after.as_dict()) else {
            if let (Object::Array(b), Object::Array(a)) = (before, after) {
                return self.array_change(num, b, a, xn);
            }
            return other(format!("object {num} was changed"));
        };
        let changed: Vec<Vec<u8>> = keys_changed(bd, ad);
        let only = |allowed: &[&[u8]]| changed.iter().all(|k| allowed.contains(&k.as_slice()));
        let names = || {
            changed
                .iter()
                .map(|k| format!("/{}", String::from_utf8_lossy(k)))
                .collect::<Vec<_>>()
                .join(" ")
        };
        if matches!(before, Object::Stream(_)) {
            return other(format!(
                "the stream object {num}{} was replaced (page content, image, font or form)",
                ty.map(|t| format!(" (/{t})")).unwrap_or_default()
            ));
        }
        if Some(num) == self.catalog {
            if only(&[b"DSS", b"AcroForm", b"Extensions", b"Version", b"Metadata"]) {
                if changed.iter().any(|k| k == b"AcroForm") {
                    let b = self.doc.dict_of(xn, bd.get(b"AcroForm"));
                    let a = self.doc.dict_of(xn, ad.get(b"AcroForm"));
                    if let (Some(b), Some(a)) = (b, a)
                        && let Some(c) = self.acroform_change(&b, &a, xn)
                    {
                        return Some(c);
                    }
                }
                return lta("the catalog gained or updated its DSS, extensions or form".into());
            }
            return other(format!("the document catalog was changed ({})", names()));
        }
        if Some(num) == self.acroform {
            return self.acroform_change(bd, ad, xn);
        }
        if self.pages.contains(&num) {
            if only(&[b"Annots"]) {
                let b = self.resolve_array(bd.get(b"Annots"), xn, true);
                let a = self.resolve_array(ad.get(b"Annots"), xn, false);
                return self.array_change(num, &b, &a, xn);
            }
            return other(format!("page object {num} was changed ({})", names()));
        }
        let is_field = bd.get(b"FT").is_some()
            || bd.get(b"T").is_some()
            || bd.name(b"Subtype") == Some(b"Widget");
        if is_field {
            let is_sig = bd.name(b"FT") == Some(b"Sig")
                || bd
                    .get(b"Parent")
                    .and_then(|p| self.doc.dict_of(xn, Some(p)))
                    .is_some_and(|p| p.name(b"FT") == Some(b"Sig"));
            if is_sig {
                if bd.get(b"V").is_some() && changed.iter().any(|k| k == b"V") {
                    return other(format!(
                        "the value of signature field object {num} was replaced"
                    ));
                }
                if only(&[
                    b"V", b"AP", b"AS", b"F", b"DA", b"MK", b"P", b"Lock", b"SV", b"Ff",
                ]) {
                    return Some(Change {
                        level: Level::Signature,
                        what: "a signature was added to an empty signature field".into(),
                    });
                }
                return other(format!(
                    "signature field object {num} was changed ({})",
                    names()
                ));
            }
            if only(&[b"V", b"AP", b"AS", b"DA", b"Q", b"MK", b"RV"]) {
                return Some(Change {
                    level: Level::FormFill,
                    what: format!("form field object {num} was filled in"),
                });
            }
            return other(format!("form field object {num} was changed ({})", names()));
        }
        if bd.name(b"Type") == Some(b"Annot")
            || bd.get(b"Subtype").is_some() && bd.get(b"Rect").is_some()
        {
            return Some(Change {
                level: Level::Annotation,
                what: format!("annotation object {num} was changed"),
            });
        }
        other(format!(
            "object {num}{} was changed ({})",
            ty.map(|t| format!(" (/{t})")).unwrap_or_default(),
            names()
        ))
    }

    fn resolve_array(&self, o: Option<&Object>, x: &Xref, _old: bool) -> Vec<Object> {
        match o.and_then(|o| self.doc.resolve(x, o).ok()) {
            Some(Object::Array(a)) => a,
            _ => Vec::new(),
        }
    }

    fn acroform_change(&self, bd: &Dict, ad: &Dict, xn: &Xref) -> Option<Change> {
        let changed = keys_changed(bd, ad);
        if !changed.iter().all(|k| {
            [
                &b"Fields"[..],
                b"SigFlags",
                b"NeedAppearances",
                b"DR",
                b"DA",
            ]
            .contains(&k.as_slice())
        }) {
            return Some(Change {
                level: Level::Other,
                what: "the interactive form dictionary was changed".into(),
            });
        }
        if changed.iter().any(|k| k == b"Fields") {
            let b = self.resolve_array(bd.get(b"Fields"), xn, true);
            let a = self.resolve_array(ad.get(b"Fields"), xn, false);
            if !b.iter().all(|o| a.iter().any(|p| p.same(o))) {
                return Some(Change {
                    level: Level::Other,
                    what: "form fields were removed".into(),
                });
            }
            return self.new_items(&b, &a, xn, "form fields");
        }
        Some(Change {
            level: Level::Signature,
            what: "the form's signature flags were updated".into(),
        })
    }

    /// An /Annots or /Fields array that changed: items may only be added; new signature
    /// widgets are signatures, other new annotations annotations.
    fn array_change(&self, num: u32, b: &[Object], a: &[Object], xn: &Xref) -> Option<Change> {
        let known = self.annots_arrays.contains(&num)
            || Some(num) == self.fields_array
            || self.pages.contains(&num);
        if !known {
            return Some(Change {
                level: Level::Other,
                what: format!("array object {num} was changed"),
            });
        }
        if !b.iter().all(|o| a.iter().any(|p| p.same(o))) {
            return Some(Change {
                level: Level::Annotation,
                what: format!("annotations or fields were removed (object {num})"),
            });
        }
        self.new_items(b, a, xn, "annotations")
    }

    fn new_items(&self, b: &[Object], a: &[Object], xn: &Xref, what: &str) -> Option<Change> {
        let mut level = Level::Lta;
        let mut added = false;
        for o in a.iter().filter(|o| !b.iter().any(|p| p.same(o))) {
            added = true;
            let d = self.doc.dict_of(xn, Some(o)).unwrap_or_default();
            let sig = d.name(b"FT") == Some(b"Sig");
            let l = if sig {
                match d.get(b"V") {
                    // A new field must take a new value, never an existing signature
                    // (pyHanko's rule against reusing a signed dictionary).
                    Some(Object::Ref(v)) if self.old_objects.contains(&v.num) => Level::Other,
                    // ISO 32000-2 §12.8.2.2.2: a document time-stamp is no change, even at P=1.
                    Some(v)
                        if self
                            .doc
                            .dict_of(xn, Some(v))
                            .is_some_and(|s| s.name(b"Type") == Some(b"DocTimeStamp")) =>
                    {
                        Level::Lta
                    }
                    _ => Level::Signature,
                }
            } else if d.get(b"FT").is_some() {
                Level::FormFill
            } else {
                Level::Annotation
            };
            level = level.max(l);
        }
        Some(Change {
            level,
            what: match level {
                Level::Lta if added => "a document time-stamp was added".into(),
                Level::Lta => format!("{what} reordered"),
                Level::Other => format!("a new field reuses an existing signature value ({what})"),
                Level::Signature => "a new signature field was added".into(),
                Level::FormFill => "a new form field was added".into(),
                _ => format!("{what} were added"),
            },
        })
    }
}

fn keys_changed(b: &Dict, a: &Dict) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for (k, v) in &b.0 {
        if a.get(k).is_none_or(|w| !w.same(v)) {
            out.push(k.clone());
        }
    }
    for (k, _) in &a.0 {
        if b.get(k).is_none() {
            out.push(k.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf_text::{change_ja, words_ja};

    fn place(covers: &str, later: &[&str]) -> Place {
        Place {
            kind: "document time-stamp".into(),
            field: "DocTimeStamp".into(),
            revision: 3,
            covers: covers.into(),
            later_changes: later.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn place_lines_in_both_languages() {
        let p = place(
            "revision 3 of 4",
            &["revision 4: the stream object 4 was replaced (page content, image, font or form)"],
        );
        let ja = place_text(&p, Some("2026-01-01T00:00:00Z"), true);
        assert_eq!(
            ja,
            "     文書タイムスタンプ、項目「DocTimeStamp」、改訂 3、対象: 全 4 版のうち改訂 3 までの版\n     \
             タイムスタンプの時刻: 2026-01-01T00:00:00Z\n     \
             後の変更: 改訂 4: ストリームオブジェクト 4 が置き換えられました(ページ内容・画像・フォント・フォームのいずれか)\n"
        );
        let en = place_text(&p, Some("2026-01-01T00:00:00Z"), false);
        assert!(
            en.contains("covers revision 3 of 4\n     time-stamped at: 2026-01-01T00:00:00Z\n")
        );
        assert!(en.contains("later change: revision 4: the stream object 4 was replaced"));
    }

    #[test]
    fn every_change_text_has_its_japanese() {
        for (en, ja) in [
            (
                "object 7 (/Foo) was changed (/A /B)",
                "オブジェクト 7 (/Foo) が変更されました(/A /B)",
            ),
            ("object 7 was changed", "オブジェクト 7 が変更されました"),
            (
                "a document time-stamp was added",
                "文書タイムスタンプが追加されました",
            ),
            ("annotations were added", "注釈 が追加されました"),
            (
                "form fields reordered",
                "フォームフィールドの順序が変わりました",
            ),
            (
                "12 bytes after the last complete revision (%%EOF) that no signature covers",
                "最後の完全な改訂(%%EOF)の後に、どの署名の対象でもない 12 バイト",
            ),
            ("something new", "something new"),
        ] {
            assert_eq!(change_ja(en), ja, "{en}");
        }
        // Every text the comparison of revisions writes is known (no English left over).
        let src = include_str!("pdf.rs");
        let start = src.find("fn revision_changes").unwrap();
        let end = src.find("fn keys_changed").unwrap();
        let mut unknown = Vec::new();
        for lit in src[start..end].split('"').skip(1).step_by(2) {
            let t = lit
                .replace("{num}", "7")
                .replace("{}", "7")
                .replace("{what}", "annotations");
            let t = t.replace("{ty}", "").replace("({names})", "(/A)");
            if t.contains(' ')
                && t.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && change_ja(&t) == t
                && words_ja(&t) == t
            {
                unknown.push(t);
            }
        }
        assert!(unknown.is_empty(), "no Japanese for {unknown:?}");
    }
}
