//! PAdES baseline signatures (ETSI EN 319 142-1) inside a PDF, as an incremental update
//! (ISO 32000-1 §7.5.6) that leaves every earlier byte as it was.
//!
//! The update adds a signature dictionary (`/SubFilter /ETSI.CAdES.detached`, `/M` the
//! claimed signing time, `/ByteRange` over the whole file except `/Contents`), and either
//! fills the empty signature field named by `--field` or adds a new invisible one (a merged
//! field and widget annotation on the first page, ISO 32000-1 §12.7.4.5, §12.5.6.19), with
//! `/SigFlags 3` in the form. The CMS is made by the CAdES template with the PAdES rules of
//! EN 319 142-1 §6.3 (Table 1): no signing-time attribute, content-type id-data,
//! message-digest over the ByteRange bytes, signing-certificate-v2; B-T adds the
//! signature-time-stamp as in CAdES.
//!
//! B-LT adds a revision with the document security store (`/DSS`: certificates, CRLs and OCSP
//! responses gathered and validated by the CAdES B-LT code); B-LTA then adds a document
//! time-stamp. `inkan-sign timestamp` uses the same placeholder code for document time-stamps.
//!
//! The `/Contents` placeholder is sized from the certificates and, at B-T, a time-stamp token
//! allowance; when the CMS does not fit, the update is built again with room for it.

use std::path::{Path, PathBuf};

use inkan_hsm::cms::{Content, ID_DATA, SignRequest};
use inkan_profiles::asn1::tlv::{self, Rules};
use inkan_profiles::pdf::{self, Dict, Document, Object, Ref, Xref, write::Update};
use inkan_profiles::time::UnixTime;

use crate::cades::Level;
use crate::setup::Prepared;
pub use crate::setup::{PdfOptions, is_pdf_file, pdf_output_path as output_path};
use inkan_profiles::asn1::cms::RawSignedData;

/// `inkan-sign extend` on a PDF: B-T adds a document time-stamp; B-LT a DSS
/// revision with the validation material of every signature and document time-stamp in the
/// file (ours or another signer's); B-LTA the DSS and then a document time-stamp, which also
/// renews an existing B-LTA (EN 319 142-1 rules x, y). Written to `--out` or, atomically,
/// over the input.
pub fn extend_pdf(
    opts: &crate::setup::ExtendOptions,
    path: &Path,
    at: UnixTime,
) -> Result<PathBuf, crate::cades::Failure> {
    use std::sync::Arc;
    let mut pdf = PdfFile::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let tsa_url = opts.tsa.as_deref();
    if opts.level != Level::BLT && tsa_url.is_none() {
        return Err(format!("level {} needs --tsa URL", opts.level).into());
    }
    let mut certs = Vec::new();
    if let Some(p) = &opts.cert_chain {
        let b = std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
        certs = crate::certs::Cert::load_chain(&b).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    let mut crls = Vec::new();
    for p in &opts.crls {
        let b = std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
        crls.push(
            crate::revocation::read_crl_bytes(&b)
                .map_err(|e| format!("CRL {}: {e}", p.display()))?,
        );
    }
    let mut ocsps = Vec::new();
    for p in &opts.ocsps {
        ocsps.push(std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?);
    }
    let proxies = Arc::new(crate::proxy::Proxies::resolve(&opts.proxy).map_err(|e| e.to_string())?);
    let rt = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the HTTP client: {e}"))?,
    );
    let mut material = crate::cades::Material::new(certs, crls, ocsps, opts.fetch);
    material.proxies = proxies.clone();
    let tsa = match tsa_url {
        Some(u) => Some(
            crate::cades::TsaClient::new(
                u,
                &opts.tsa_access,
                opts.tsa_timeout,
                rt.clone(),
                proxies,
            )
            .map_err(|e| e.to_string())?,
        ),
        None => None,
    };
    let upgrader = crate::cades::Upgrader {
        level: opts.level,
        tsa,
        material,
        rt: Some(rt),
    };
    let cmss = embedded_cms(&pdf)?;
    if cmss.is_empty() {
        return Err("the PDF has no signature or document time-stamp to extend".into());
    }
    if opts.level >= Level::BLT {
        let update = add_dss_for(&upgrader, &pdf, &cmss, at)?;
        pdf.tail.extend(update);
    }
    if opts.level != Level::BLT {
        let tsa = upgrader.tsa.as_ref().ok_or("a TSA is needed")?;
        let update = timestamp_pdf(tsa, inkan_profiles::alg::DigestAlgorithm::Sha256, &pdf)?;
        pdf.tail.extend(update);
    }
    let dest = opts.out.clone().unwrap_or_else(|| path.to_owned());
    crate::output::write_atomic_with(&dest, |f| pdf.write_to(f))
        .map_err(|e| format!("cannot write {}: {e}", dest.display()))?;
    Ok(dest)
}

/// A PDF being updated: the input file on disk, never read whole (ISO 32000-1 §7.5.6: an
/// incremental update only appends to it), and the revisions appended so far, in memory.
/// Objects are read by ranges ([`Document::on_file`]), the ByteRange is hashed by streaming
/// the file, and the output is the input's bytes copied (by the kernel where it can) followed
/// by the appended revisions: memory stays flat whatever the file's size.
#[derive(Debug)]
pub struct PdfFile {
    file: std::fs::File,
    file_len: usize,
    /// The modification time when opened: the input must not change until it is copied.
    modified: Option<std::time::SystemTime>,
    /// The revisions appended (signature, DSS, document time-stamp), in order.
    pub tail: Vec<u8>,
}

impl PdfFile {
    /// Opens the PDF at `path` (nothing is read yet).
    pub fn open(path: &Path) -> Result<Self, String> {
        let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
        let meta = file.metadata().map_err(|e| format!("cannot read: {e}"))?;
        let file_len =
            usize::try_from(meta.len()).map_err(|_| "the file is too large".to_string())?;
        Ok(Self {
            file,
            file_len,
            modified: meta.modified().ok(),
            tail: Vec::new(),
        })
    }

    /// The length of the PDF with its appended revisions.
    pub fn len(&self) -> usize {
        self.file_len + self.tail.len()
    }

    /// Whether the PDF is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The document, read by ranges.
    fn doc(&self) -> Result<Document<'_>, String> {
        Document::on_file(&self.file, self.file_len, &self.tail).map_err(|e| e.to_string())
    }

    /// The last byte (whether the file ends with an end-of-line).
    fn last_byte(&self) -> Result<Option<u8>, String> {
        if let Some(b) = self.tail.last() {
            return Ok(Some(*b));
        }
        let doc = self.doc()?;
        let last = doc
            .read(self.file_len.saturating_sub(1), 1)
            .map_err(|e| e.to_string())?;
        Ok(last.first().copied())
    }

    /// The digest of this PDF followed by `update` without `update[gap.0..gap.1]` (the
    /// `/Contents` string): the ByteRange bytes of the signature `update` adds (ISO 32000-1
    /// §12.8.1), streamed from disk.
    fn hash_with(
        &self,
        alg: inkan_profiles::alg::DigestAlgorithm,
        update: &[u8],
        gap: (usize, usize),
    ) -> Result<Vec<u8>, String> {
        use std::io::{Read as _, Seek as _};
        let mut f = &self.file;
        f.seek(std::io::SeekFrom::Start(0))
            .map_err(|e| format!("cannot read: {e}"))?;
        let mut r = f
            .take(self.file_len as u64)
            .chain(&self.tail[..])
            .chain(&update[..gap.0])
            .chain(&update[gap.1..]);
        let mut buf = vec![0u8; crate::digest::STREAM_BUFFER];
        let hash = crate::digest::digest_reader_with(alg, &mut r, &mut buf)
            .map_err(|e| format!("cannot read: {e}"))?;
        // A file that shrank while it was read would be signed over fewer bytes than planned.
        if f.stream_position().ok() != Some(self.file_len as u64) {
            return Err("the input changed while it was being signed".into());
        }
        Ok(hash)
    }

    /// Writes the whole PDF to `out`: the input's bytes (copied by the kernel where it can),
    /// then the appended revisions.
    pub fn write_to(&self, out: &mut std::fs::File) -> std::io::Result<()> {
        use std::io::{Read as _, Seek as _, Write as _};
        let changed = || std::io::Error::other("the input changed while it was being signed");
        let mut f = &self.file;
        f.seek(std::io::SeekFrom::Start(0))?;
        let copied = std::io::copy(&mut f.take(self.file_len as u64), out)?;
        // Another program writing to the input meanwhile would make the copy differ from
        // what was hashed: its length or modification time tells.
        let meta = self.file.metadata()?;
        if copied != self.file_len as u64
            || meta.len() != self.file_len as u64
            || meta.modified().ok() != self.modified
        {
            return Err(changed());
        }
        out.write_all(&self.tail)
    }
}

/// The CMS values (DER, padding removed) of every signed signature field of a PDF.
fn embedded_cms(pdf: &PdfFile) -> Result<Vec<Vec<u8>>, String> {
    let doc = pdf.doc()?;
    let x = doc.xref().map_err(|e| e.to_string())?;
    let root = doc
        .dict_of(&x, x.trailer.get(b"Root"))
        .ok_or("the document catalog cannot be read")?;
    let form = doc.dict_of(&x, root.get(b"AcroForm")).unwrap_or_default();
    let mut stack = match form.get(b"Fields").map(|f| doc.resolve(&x, f)) {
        Some(Ok(Object::Array(a))) => a,
        _ => Vec::new(),
    };
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    while let Some(o) = stack.pop() {
        let Object::Ref(r) = o else { continue };
        if !seen.insert(r.num) || seen.len() > 10_000 {
            continue;
        }
        let Ok(Object::Dict(d)) = doc.get(&x, r.num) else {
            continue;
        };
        if let Some(Ok(Object::Array(k))) = d.get(b"Kids").map(|k| doc.resolve(&x, k)) {
            stack.extend(k);
        }
        let Some(sig) = doc.dict_of(&x, d.get(b"V")) else {
            continue;
        };
        // The DER value; the zero padding after it is no part of it.
        if let Some(Object::Str(c)) = sig.get(b"Contents")
            && let Ok((t, _)) = tlv::parse_one(&c.bytes, 0)
        {
            out.push(t.raw.to_vec());
        }
    }
    Ok(out)
}

/// The placeholder's first guess, in bytes of DER: the certificates, the CMS around them,
/// and at B-T room for a time-stamp token with its TSA chain.
fn first_guess(prepared: &Prepared, level: Level) -> usize {
    let certs = prepared.chain_len();
    let base = certs + 2048;
    if level >= Level::BT {
        base + 8192
    } else {
        base
    }
}

/// Signs the PDF at `input` at `at` at PAdES `level`; returns it with the revisions to
/// append ([`PdfFile::write_to`] writes the result). B-B and B-T are one revision; B-LT adds a
/// revision with the DSS; B-LTA then a document time-stamp (EN 319 142-1 §6.3, Table 1 rules
/// r–w). The input is read by ranges, never whole.
pub fn sign_pdf(
    prepared: &Prepared,
    level: Level,
    input: &Path,
    opts: &PdfOptions,
    at: UnixTime,
) -> Result<PdfFile, crate::cades::Failure> {
    let mut pdf = PdfFile::open(input)?;
    let mut plan = Plan::new(&pdf, opts.field.as_deref(), "Signature")?;
    if let Some(seal) = &opts.seal {
        plan.place_seal(&pdf, seal)?;
    }
    // ISO 32000-1 Table 252; PAdES: /M is the claimed signing time (EN 319 142-1 §6.3 g).
    let head = format!(
        "/Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /M ({})",
        pdf_date(at)
    );
    let first = level.min(Level::BT);
    let mut cms = Vec::new();
    let update = embed(
        &pdf,
        &plan,
        &head,
        first_guess(prepared, first),
        prepared.digest_algorithm(),
        |hash| {
            let der = prepared.seal_pades(hash, first, at)?;
            cms.clone_from(&der);
            Ok(der)
        },
    )?;
    pdf.tail.extend(update);
    if level >= Level::BLT {
        let update = add_dss(prepared, &pdf, &cms, at)?;
        pdf.tail.extend(update);
    }
    if level == Level::BLTA {
        let tsa = prepared
            .upgrader
            .tsa
            .as_ref()
            .ok_or("B-LTA needs --tsa URL")?;
        let update = timestamp_pdf(tsa, prepared.digest_algorithm(), &pdf)?;
        pdf.tail.extend(update);
    }
    Ok(pdf)
}

/// Adds a revision with the document security store (ISO 32000-2 §12.8.4.3, EN 319 142-1
/// Table 1 rules r–u): every certificate and validated revocation datum that the signer's
/// and its time-stamp's paths need, gathered and checked by the CAdES B-LT code, as DER
/// streams in `/Certs`, `/CRLs` and `/OCSPs` (merged with a DSS the file already has).
/// Returns the revision to append.
///
/// No `/VRI` dictionaries: EN 319 142-1 V1.2.1 §6.3 Table 1 rule v says "The VRI dictionary
/// should not be used" for PAdES baseline signatures (their inclusion is optional, and all
/// the material a VRI would name is in the DSS arrays anyway). ISO 32000-2 §12.8.4.4 keys a
/// VRI by the SHA-1 of the signature's `/Contents`, which would also tie the DSS to a
/// revision written after the signature; validators (DSS, pyHanko, inkan-verify) use the DSS
/// arrays without it.
pub fn add_dss(
    prepared: &Prepared,
    pdf: &PdfFile,
    cms: &[u8],
    at: UnixTime,
) -> Result<Vec<u8>, crate::cades::Failure> {
    add_dss_for(&prepared.upgrader, pdf, &[cms.to_vec()], at)
}

/// [`add_dss`] for every CMS signature or time-stamp token in `cmss`, with `upgrader`'s
/// material and revocation fetching.
fn add_dss_for(
    upgrader: &crate::cades::Upgrader,
    pdf: &PdfFile,
    cmss: &[Vec<u8>],
    at: UnixTime,
) -> Result<Vec<u8>, crate::cades::Failure> {
    let mut certs: Vec<Vec<u8>> = Vec::new();
    let mut crls: Vec<Vec<u8>> = Vec::new();
    let mut ocsps: Vec<Vec<u8>> = Vec::new();
    for cms in cmss {
        let mut sd = RawSignedData::parse(cms).map_err(|e| e.to_string())?;
        upgrader.add_validation_material(&mut sd, at)?;
        for c in &sd.certificates {
            if c.first() == Some(&0x30) && !certs.contains(c) {
                certs.push(c.clone());
            }
        }
        for c in &sd.crls {
            match c.first() {
                Some(0x30) if !crls.contains(c) => crls.push(c.clone()),
                Some(0xa1) => {
                    // [1] OtherRevocationInfoFormat { id-ri-ocsp-response, OCSPResponse }
                    let parts = tlv::parse_exact_with(c, Rules::LOW_TAGS_ONLY)
                        .and_then(|t| t.elements())
                        .map_err(String::from)?;
                    if let Some(o) = parts.get(1)
                        && !ocsps.iter().any(|x| x == o.raw)
                    {
                        ocsps.push(o.raw.to_vec());
                    }
                }
                _ => {}
            }
        }
    }
    let doc = pdf.doc()?;
    let x = doc.xref().map_err(|e| e.to_string())?;
    let prev = doc.last_startxref().map_err(|e| e.to_string())?;
    let Some(Object::Ref(root_ref)) = x.trailer.get(b"Root").cloned() else {
        return Err("the PDF has no document catalog reference".into());
    };
    let mut root = doc
        .dict_of(&x, Some(&Object::Ref(root_ref)))
        .ok_or("the document catalog cannot be read")?;
    let mut dss = doc.dict_of(&x, root.get(b"DSS")).unwrap_or_default();
    let mut u = Update::after(pdf.len(), pdf.last_byte()?, &x, prev);
    for (key, items) in [(&b"Certs"[..], certs), (b"CRLs", crls), (b"OCSPs", ocsps)] {
        let mut list = match dss.get(key).map(|v| doc.resolve(&x, v)) {
            Some(Ok(Object::Array(a))) => a,
            _ => Vec::new(),
        };
        let known: Vec<Vec<u8>> = list
            .iter()
            .filter_map(|o| match doc.resolve(&x, o) {
                Ok(Object::Stream(s)) => doc.decode(&s).ok(),
                _ => None,
            })
            .collect();
        for der in items {
            if known.contains(&der) {
                continue;
            }
            let n = u.alloc();
            u.add_stream(n, Dict::default(), &der);
            list.push(Object::Ref(Ref {
                num: n,
                generation: 0,
            }));
        }
        dss.set(key, Object::Array(list));
    }
    match root.get(b"DSS") {
        Some(Object::Ref(r)) => u.add(r.num, &Object::Dict(dss)),
        _ => {
            let n = u.alloc();
            u.add(n, &Object::Dict(dss));
            root.set(
                b"DSS",
                Object::Ref(Ref {
                    num: n,
                    generation: 0,
                }),
            );
            u.add(root_ref.num, &Object::Dict(root));
        }
    }
    Ok(u.finish_tail())
}

/// Adds a document time-stamp (ISO 32000-2 §12.8.5: `/Type /DocTimeStamp`, `/SubFilter
/// /ETSI.RFC3161`, the token's imprint over the ByteRange bytes) to `pdf`; returns the
/// revision to append.
pub fn timestamp_pdf(
    tsa: &crate::cades::TsaClient,
    alg: inkan_profiles::alg::DigestAlgorithm,
    pdf: &PdfFile,
) -> Result<Vec<u8>, crate::cades::Failure> {
    let plan = Plan::new(pdf, None, "DocTimeStamp")?;
    // A document time-stamp has no appearance (ISO 32000-2 §12.8.5).
    embed(
        pdf,
        &plan,
        "/Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161",
        12 * 1024,
        alg,
        |hash| tsa.timestamp(alg, hash.to_vec()).map(|t| t.der),
    )
}

/// Builds the update with a placeholder of `room` bytes, hashes the ByteRange bytes with
/// `alg` (streaming `pdf` from disk), asks `make` for the DER to embed, and retries with more
/// room when it does not fit. Returns the revision to append to `pdf`.
fn embed(
    pdf: &PdfFile,
    plan: &Plan,
    head: &str,
    mut room: usize,
    alg: inkan_profiles::alg::DigestAlgorithm,
    mut make: impl FnMut(&[u8]) -> Result<Vec<u8>, crate::cades::Failure>,
) -> Result<Vec<u8>, crate::cades::Failure> {
    for _ in 0..3 {
        let (mut update, slot) = plan.build(pdf, room, head)?;
        let hash = pdf.hash_with(alg, &update, (slot.contents_start, slot.contents_end))?;
        let der = make(&hash)?;
        if der.len() <= room {
            let mut hex = Vec::with_capacity(der.len() * 2);
            for b in &der {
                hex.extend_from_slice(format!("{b:02X}").as_bytes());
            }
            update[slot.contents_start + 1..slot.contents_start + 1 + hex.len()]
                .copy_from_slice(&hex);
            return Ok(update);
        }
        // Too small: room for this value and a token that may grow (EN 319 142-1 leaves the
        // size to the signer; pyHanko adds half again for the same reason).
        room = der.len() + der.len() / 2;
    }
    Err("the signature does not fit its placeholder".into())
}

/// Where the placeholder is in the built update (offsets into the update).
struct Slot {
    /// Offset of `<` of `/Contents`.
    contents_start: usize,
    /// Offset after `>`.
    contents_end: usize,
}

/// What the update will change, worked out once from the input.
struct Plan {
    xref: Xref,
    prev_offset: usize,
    root_ref: Ref,
    root: Dict,
    /// An empty signature field to fill.
    existing: Option<(Ref, Dict)>,
    /// The new field's name.
    name: String,
    /// The page of a new widget (the first one unless a seal names another).
    page: Option<(Ref, Dict)>,
    /// The visible seal, when there is one (its rectangle resolved).
    seal: Option<crate::seal::Seal>,
    /// The widget of an existing field that gets the seal's appearance.
    seal_widget: Option<Ref>,
}

impl Plan {
    fn new(pdf: &PdfFile, field: Option<&str>, prefix: &str) -> Result<Self, String> {
        let doc = pdf.doc()?;
        let xref = doc.xref().map_err(|e| match e {
            pdf::Error::Encrypted => {
                "the PDF is encrypted; encrypted PDFs are refused and nothing was written"
                    .to_string()
            }
            e => format!("the PDF cannot be read: {e}"),
        })?;
        let prev_offset = doc.last_startxref().map_err(|e| e.to_string())?;
        let Some(Object::Ref(root_ref)) = xref.trailer.get(b"Root").cloned() else {
            return Err("the PDF has no document catalog reference".into());
        };
        let root = doc
            .dict_of(&xref, Some(&Object::Ref(root_ref)))
            .ok_or("the document catalog cannot be read")?;
        // ISO 32000-1 §12.8.2.2.2: a certification signature with P=1 permits no change; ISO
        // 32000-2 exempts document time-stamps (and DSS updates).
        if prefix != "DocTimeStamp"
            && let Some(p) = docmdp(&doc, &xref, &root)
            && p == 1
        {
            return Err("the document is certified with DocMDP P=1 (no changes allowed): a signature cannot be added without breaking the certification".into());
        }
        let form = doc
            .dict_of(&xref, root.get(b"AcroForm"))
            .unwrap_or_default();
        let fields = match form.get(b"Fields").map(|f| doc.resolve(&xref, f)) {
            Some(Ok(Object::Array(a))) => a,
            _ => Vec::new(),
        };
        let mut names = Vec::new();
        let mut existing = None;
        for f in fields.iter().take(10_000) {
            let Object::Ref(r) = f else { continue };
            let Ok(Object::Dict(d)) = doc.get(&xref, r.num) else {
                continue;
            };
            let t = match d.get(b"T") {
                Some(Object::Str(s)) => String::from_utf8_lossy(&s.bytes).into_owned(),
                _ => continue,
            };
            if Some(t.as_str()) == field {
                if d.name(b"FT") != Some(b"Sig") {
                    return Err(format!("the field {t:?} is not a signature field"));
                }
                if d.get(b"V").is_some() {
                    return Err(format!("the signature field {t:?} is already signed"));
                }
                existing = Some((*r, d.clone()));
            }
            names.push(t);
        }
        let name = match field {
            Some(f) => f.to_owned(),
            None => (1..)
                .map(|i| format!("{prefix}{i}"))
                .find(|n| !names.contains(n))
                .unwrap_or_default(),
        };
        let page = first_page(&doc, &xref, &root);
        Ok(Self {
            xref,
            prev_offset,
            root_ref,
            root,
            existing,
            name,
            page,
            seal: None,
            seal_widget: None,
        })
    }

    /// Places the seal (`--seal-image`). On a new field: on page `--page` (default 1) in
    /// `--rect`, which must lie within the page's media box (ISO 32000-1 §14.11.2). On an
    /// existing empty field (`--field NAME`): in its widget's own rectangle, which must be
    /// visible (a form's signature box, 印 欄); `--page`/`--rect` cannot move it.
    fn place_seal(&mut self, pdf: &PdfFile, seal: &crate::seal::Seal) -> Result<(), String> {
        let doc = pdf.doc()?;
        if let Some((field_ref, field)) = &self.existing {
            if seal.rect.is_some() || seal.page.is_some() {
                return Err(format!(
                    "the signature field {:?} exists with its own place on the page: leave out \
                     --page and --rect (the seal fills the field's box)",
                    self.name
                ));
            }
            // A merged field and widget, or a field with one widget kid (§12.7.3.1).
            let widget = match field.get(b"Kids").map(|k| doc.resolve(&self.xref, k)) {
                Some(Ok(Object::Array(kids))) => match kids.as_slice() {
                    [Object::Ref(k)] => Some((*k, doc.dict_of(&self.xref, Some(&kids[0])))),
                    _ => None,
                },
                _ => Some((*field_ref, Some(field.clone()))),
            };
            let Some((widget_ref, Some(widget))) = widget else {
                return Err(format!(
                    "the signature field {:?} has no single widget to draw the seal in",
                    self.name
                ));
            };
            let rect = numbers(&doc, &self.xref, widget.get(b"Rect"))
                .map(|[a, b, c, d]| [a.min(c), b.min(d), a.max(c), b.max(d)])
                .filter(|[a, b, c, d]| c - a >= 1.0 && d - b >= 1.0);
            let Some(rect) = rect else {
                return Err(format!(
                    "the signature field {:?} is invisible (no rectangle on the page): a seal \
                     needs a visible field, or a new one (--rect X1,Y1,X2,Y2 without --field)",
                    self.name
                ));
            };
            self.seal = Some(crate::seal::Seal {
                rect: Some(rect),
                ..seal.clone()
            });
            self.seal_widget = Some(widget_ref);
            return Ok(());
        }
        let Some(rect) = seal.rect else {
            return Err(format!(
                "--seal-image needs --rect X1,Y1,X2,Y2 (the field {:?} is new: where does it go?)",
                self.name
            ));
        };
        let page_no = seal.page.unwrap_or(1);
        let (count, page) = nth_page(&doc, &self.xref, &self.root, page_no)?;
        let Some((r, d, media)) = page else {
            return Err(format!(
                "--page {page_no}: the PDF has {count} page{}",
                if count == 1 { "" } else { "s" }
            ));
        };
        if let Some([mx1, my1, mx2, my2]) = media {
            let [x1, y1, x2, y2] = rect;
            let (lx, hx) = (mx1.min(mx2), mx1.max(mx2));
            let (ly, hy) = (my1.min(my2), my1.max(my2));
            if x1 < lx || y1 < ly || x2 > hx || y2 > hy {
                return Err(format!(
                    "--rect {x1},{y1},{x2},{y2} is not within page {page_no}, whose media box \
                     is [{lx} {ly} {hx} {hy}] (points from the lower-left corner)"
                ));
            }
        }
        self.page = Some((r, d));
        self.seal = Some(seal.clone());
        Ok(())
    }

    /// Builds the update of `pdf` with `room` bytes for the CMS.
    fn build(&self, pdf: &PdfFile, room: usize, head: &str) -> Result<(Vec<u8>, Slot), String> {
        let doc = pdf.doc()?;
        let x = &self.xref;
        let base = pdf.len();
        let mut u = Update::after(base, pdf.last_byte()?, x, self.prev_offset);
        let sig_num = u.alloc();
        let sig_ref = Object::Ref(Ref {
            num: sig_num,
            generation: 0,
        });
        // The signature dictionary (ISO 32000-1 Table 252; every value direct).
        let range_slot = format!("[0 {:>10} {:>10} {:>10}]", 0, 0, 0);
        let mut body = format!("<<{head} /ByteRange ").into_bytes();
        let range_at = body.len();
        body.extend_from_slice(range_slot.as_bytes());
        body.extend_from_slice(b" /Contents ");
        let contents_at = body.len();
        body.push(b'<');
        body.extend(std::iter::repeat_n(b'0', room * 2));
        body.extend_from_slice(b">>>");
        let sig_at = u.add_raw(sig_num, &body);
        // The field.
        let mut form = doc
            .dict_of(x, self.root.get(b"AcroForm"))
            .unwrap_or_default();
        let mut root = self.root.clone();
        let mut root_changed = false;
        if let Some((r, d)) = &self.existing {
            let mut d = d.clone();
            d.set(b"V", sig_ref.clone());
            let ap = match (&self.seal, &self.seal_widget) {
                (Some(seal), Some(w)) => {
                    let mut aps = Dict::default();
                    aps.set(b"N", add_seal_appearance(&mut u, seal));
                    Some((*w, aps))
                }
                _ => None,
            };
            match ap {
                // A merged field and widget.
                Some((w, aps)) if w == *r => d.set(b"AP", Object::Dict(aps)),
                Some((w, aps)) => {
                    let mut widget = doc.dict_of(x, Some(&Object::Ref(w))).unwrap_or_default();
                    widget.set(b"AP", Object::Dict(aps));
                    u.add(w.num, &Object::Dict(widget));
                }
                None => {}
            }
            u.add(r.num, &Object::Dict(d));
        } else {
            let (page_ref, page) = self
                .page
                .clone()
                .ok_or("the PDF has no page to attach a signature widget to")?;
            let field_num = u.alloc();
            let field_ref = Object::Ref(Ref {
                num: field_num,
                generation: 0,
            });
            let mut f = Dict::default();
            f.set(b"FT", Object::Name(b"Sig".to_vec()));
            f.set(b"T", pdf::write::text_string(&self.name));
            f.set(b"V", sig_ref.clone());
            f.set(b"Type", Object::Name(b"Annot".to_vec()));
            f.set(b"Subtype", Object::Name(b"Widget".to_vec()));
            match &self.seal {
                Some(seal) => {
                    let rect = seal.rect.unwrap_or_default();
                    f.set(
                        b"Rect",
                        Object::Array(rect.iter().map(|v| Object::Real(*v)).collect()),
                    );
                    let ap = add_seal_appearance(&mut u, seal);
                    let mut aps = Dict::default();
                    aps.set(b"N", ap);
                    f.set(b"AP", Object::Dict(aps));
                }
                None => f.set(b"Rect", Object::Array(vec![Object::Int(0); 4])),
            }
            // Print (4) + Locked (128), as pyHanko does for signature widgets.
            f.set(b"F", Object::Int(132));
            f.set(b"P", Object::Ref(page_ref));
            u.add(field_num, &Object::Dict(f));
            // The widget goes into the page's /Annots.
            match page.get(b"Annots") {
                Some(Object::Ref(ar)) => {
                    let mut a = match doc.get(x, ar.num) {
                        Ok(Object::Array(a)) => a,
                        _ => Vec::new(),
                    };
                    a.push(field_ref.clone());
                    u.add(ar.num, &Object::Array(a));
                }
                other => {
                    let mut a = match other {
                        Some(Object::Array(a)) => a.clone(),
                        _ => Vec::new(),
                    };
                    a.push(field_ref.clone());
                    let mut p = page.clone();
                    p.set(b"Annots", Object::Array(a));
                    u.add(page_ref.num, &Object::Dict(p));
                }
            }
            // And into the form's /Fields.
            match form.get(b"Fields") {
                Some(Object::Ref(fr)) => {
                    let mut a = match doc.get(x, fr.num) {
                        Ok(Object::Array(a)) => a,
                        _ => Vec::new(),
                    };
                    a.push(field_ref);
                    u.add(fr.num, &Object::Array(a));
                }
                other => {
                    let mut a = match other {
                        Some(Object::Array(a)) => a.clone(),
                        _ => Vec::new(),
                    };
                    a.push(field_ref);
                    form.set(b"Fields", Object::Array(a));
                }
            }
        }
        // ISO 32000-1 Table 219: SignaturesExist | AppendOnly.
        form.set(b"SigFlags", Object::Int(3));
        // Viewers must not regenerate appearances of a signed form.
        form.remove(b"NeedAppearances");
        match self.root.get(b"AcroForm") {
            Some(Object::Ref(fr)) => u.add(fr.num, &Object::Dict(form)),
            _ => {
                let n = u.alloc();
                u.add(n, &Object::Dict(form));
                root.set(
                    b"AcroForm",
                    Object::Ref(Ref {
                        num: n,
                        generation: 0,
                    }),
                );
                root_changed = true;
            }
        }
        if root_changed {
            u.add(self.root_ref.num, &Object::Dict(root));
        }
        let mut update = u.finish_tail();
        let contents_start = sig_at + contents_at;
        let contents_end = contents_start + room * 2 + 2;
        let len = base + update.len();
        let slot = format!(
            "[0 {:>10} {:>10} {:>10}]",
            contents_start,
            contents_end,
            len - contents_end
        );
        if slot.len() != range_slot.len() {
            return Err("the PDF is too large for the ByteRange slot".into());
        }
        let at = sig_at + range_at - base;
        update[at..at + slot.len()].copy_from_slice(slot.as_bytes());
        Ok((
            update,
            Slot {
                contents_start: contents_start - base,
                contents_end: contents_end - base,
            },
        ))
    }
}

/// The DocMDP P of a certification signature (ISO 32000-1 Table 254; default 2).
fn docmdp(doc: &Document<'_>, x: &Xref, root: &Dict) -> Option<i64> {
    let perms = doc.dict_of(x, root.get(b"Perms"))?;
    let sig = doc.dict_of(x, perms.get(b"DocMDP"))?;
    let Ok(Object::Array(refs)) = doc.resolve(x, sig.get(b"Reference")?) else {
        return Some(2);
    };
    refs.iter()
        .filter_map(|r| doc.dict_of(x, Some(r)))
        .find(|r| r.name(b"TransformMethod") == Some(b"DocMDP"))
        .map(|r| {
            doc.dict_of(x, r.get(b"TransformParams"))
                .and_then(|t| t.int(b"P"))
                .unwrap_or(2)
        })
        .or(Some(2))
}

/// Adds the seal's image XObject (with its soft mask) and the appearance form XObject that
/// draws it centred in the widget's rectangle, aspect ratio kept (ISO 32000-1 §8.9.5,
/// §11.6.5.3, §12.5.5); returns the reference to the form.
fn add_seal_appearance(u: &mut Update<'_>, seal: &crate::seal::Seal) -> Object {
    let img = &seal.image;
    let (color, alpha) = seal.streams();
    // A FlateDecode stream object whose data `z` is already deflated.
    let stream = |u: &mut Update<'_>, num: u32, mut d: Dict, z: &[u8]| {
        d.set(b"Filter", Object::Name(b"FlateDecode".to_vec()));
        d.set(b"Length", Object::Int(z.len() as i64));
        let mut body = Vec::new();
        pdf::write::serialize(&Object::Dict(d), &mut body);
        body.extend_from_slice(b"\nstream\n");
        body.extend_from_slice(z);
        body.extend_from_slice(b"\nendstream");
        u.add_raw(num, &body);
    };
    let reference = |num| Object::Ref(Ref { num, generation: 0 });
    let image_dict = |gray: bool| {
        let mut d = Dict::default();
        d.set(b"Type", Object::Name(b"XObject".to_vec()));
        d.set(b"Subtype", Object::Name(b"Image".to_vec()));
        d.set(b"Width", Object::Int(i64::from(img.width)));
        d.set(b"Height", Object::Int(i64::from(img.height)));
        let cs: &[u8] = if gray { b"DeviceGray" } else { b"DeviceRGB" };
        d.set(b"ColorSpace", Object::Name(cs.to_vec()));
        d.set(b"BitsPerComponent", Object::Int(8));
        d
    };
    let image = u.alloc();
    let mut d = image_dict(img.gray);
    if let Some(alpha) = alpha {
        let mask = u.alloc();
        stream(u, mask, image_dict(true), alpha);
        d.set(b"SMask", reference(mask));
    }
    stream(u, image, d, color);
    let [x1, y1, x2, y2] = seal.rect.unwrap_or([0.0, 0.0, 1.0, 1.0]);
    let (w, h) = (x2 - x1, y2 - y1);
    let scale = (w / f64::from(img.width)).min(h / f64::from(img.height));
    let (dw, dh) = (f64::from(img.width) * scale, f64::from(img.height) * scale);
    let num = |v: f64| {
        let mut b = Vec::new();
        pdf::write::serialize(&Object::Real(v), &mut b);
        String::from_utf8_lossy(&b).into_owned()
    };
    let content = format!(
        "q {} 0 0 {} {} {} cm /Seal Do Q",
        num(dw),
        num(dh),
        num((w - dw) / 2.0),
        num((h - dh) / 2.0)
    );
    let mut form = Dict::default();
    form.set(b"Type", Object::Name(b"XObject".to_vec()));
    form.set(b"Subtype", Object::Name(b"Form".to_vec()));
    form.set(
        b"BBox",
        Object::Array(vec![
            Object::Int(0),
            Object::Int(0),
            Object::Real(w),
            Object::Real(h),
        ]),
    );
    let mut xobjects = Dict::default();
    xobjects.set(b"Seal", reference(image));
    let mut resources = Dict::default();
    resources.set(b"XObject", Object::Dict(xobjects));
    form.set(b"Resources", Object::Dict(resources));
    let n = u.alloc();
    stream(u, n, form, &pdf::deflate(content.as_bytes()));
    reference(n)
}

/// Four numbers (a rectangle, §7.9.5), resolved.
fn numbers(doc: &Document<'_>, x: &Xref, o: Option<&Object>) -> Option<[f64; 4]> {
    let Ok(Object::Array(a)) = doc.resolve(x, o?) else {
        return None;
    };
    let v: Vec<f64> = a
        .iter()
        .filter_map(|o| match doc.resolve(x, o).ok()? {
            Object::Int(i) => Some(i as f64),
            Object::Real(r) => Some(r),
            _ => None,
        })
        .collect();
    <[f64; 4]>::try_from(v).ok()
}

/// Page `n` (from 1) of the page tree in document order, with its media box (inherited,
/// ISO 32000-1 §7.7.3.4), and the number of pages seen (all of them when `n` is past the
/// end). A bounded walk: depth 64, 100,000 nodes.
#[allow(clippy::type_complexity)]
fn nth_page(
    doc: &Document<'_>,
    x: &Xref,
    root: &Dict,
    n: u32,
) -> Result<(u32, Option<(Ref, Dict, Option<[f64; 4]>)>), String> {
    let rect = |o: Option<&Object>| numbers(doc, x, o);
    let Some(Object::Ref(top)) = root.get(b"Pages").cloned() else {
        return Err("the PDF has no page tree".into());
    };
    // (node, inherited media box, depth), visited in document order.
    let mut stack = vec![(top, None::<[f64; 4]>, 0usize)];
    let mut seen = std::collections::HashSet::new();
    let mut count = 0u32;
    while let Some((r, inherited, depth)) = stack.pop() {
        if depth > 64 || seen.len() >= 100_000 || !seen.insert(r.num) {
            return Err("the page tree is too deep, too large or has a cycle".into());
        }
        let Ok(Object::Dict(d)) = doc.get(x, r.num) else {
            continue;
        };
        let media = rect(d.get(b"MediaBox")).or(inherited);
        match d.get(b"Kids").map(|k| doc.resolve(x, k)) {
            Some(Ok(Object::Array(kids))) if d.name(b"Type") != Some(b"Page") => {
                for k in kids.into_iter().rev() {
                    if let Object::Ref(k) = k {
                        stack.push((k, media, depth + 1));
                    }
                }
            }
            _ => {
                count += 1;
                if count == n {
                    return Ok((count, Some((r, d, media))));
                }
            }
        }
    }
    Ok((count, None))
}

/// The first page of the page tree (bounded walk).
fn first_page(doc: &Document<'_>, x: &Xref, root: &Dict) -> Option<(Ref, Dict)> {
    let mut cur = root.get(b"Pages").cloned()?;
    for _ in 0..64 {
        let Object::Ref(r) = cur else { return None };
        let Ok(Object::Dict(d)) = doc.get(x, r.num) else {
            return None;
        };
        match d.get(b"Kids").map(|k| doc.resolve(x, k)) {
            Some(Ok(Object::Array(k))) if d.name(b"Type") != Some(b"Page") => {
                cur = k.first()?.clone();
            }
            _ => return Some((r, d)),
        }
    }
    None
}

/// A PDF date (ISO 32000-1 §7.9.4) in UTC: `D:YYYYMMDDHHmmSS+00'00'`.
pub fn pdf_date(at: UnixTime) -> String {
    let s = at.secs();
    let days = (s / 86_400) as i64;
    let rem = s % 86_400;
    // Civil from days (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "D:{y:04}{m:02}{d:02}{:02}{:02}{:02}+00'00'",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

impl Prepared {
    /// The CMS of a PAdES signature over the ByteRange digest `hash` (EN 319 142-1 §6.3: no
    /// signing-time, content-type id-data, signing-certificate-v2), raised to `level`.
    pub(crate) fn seal_pades(
        &self,
        hash: &[u8],
        level: Level,
        at: UnixTime,
    ) -> Result<Vec<u8>, crate::cades::Failure> {
        let attrs: Vec<&[u8]> = self.commitment.as_deref().into_iter().collect();
        let mut req = SignRequest::new(ID_DATA, Content::DetachedDigest(hash));
        req.signed_attrs = &attrs;
        // The key failing (a token removed, a session closed) fails every input alike.
        let der = self.template.sign(&req).map_err(|e| {
            crate::cades::Failure::batch(
                crate::cades::Problem::Key,
                format!("the key failed to sign: {e}"),
            )
        })?;
        if level == Level::BB {
            return Ok(der);
        }
        let mut sd = RawSignedData::parse(&der).map_err(|e| e.to_string())?;
        self.upgrader.upgrade(&mut sd, Some(hash), at)?;
        Ok(sd.encode())
    }

    /// The digest algorithm of the signatures this signer makes.
    pub fn digest_algorithm(&self) -> inkan_profiles::alg::DigestAlgorithm {
        self.template.digest_algorithm()
    }

    /// Total DER length of the certificates a signature embeds.
    fn chain_len(&self) -> usize {
        self.upgrader
            .material
            .certs
            .iter()
            .map(|c| c.der.len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(pdf_date(UnixTime::from_secs(0)), "D:19700101000000+00'00'");
        assert_eq!(
            pdf_date(UnixTime::from_secs(1_796_601_600)),
            "D:20261207000000+00'00'"
        );
    }

    #[test]
    fn output_names() {
        let p = Path::new("/d/contract.pdf");
        assert_eq!(
            output_path(None, None, false, p, "signed"),
            Path::new("/d/contract-signed.pdf")
        );
        assert_eq!(
            output_path(None, Some(Path::new("/o")), false, p, "signed"),
            Path::new("/o/contract.pdf")
        );
        assert_eq!(output_path(None, None, true, p, "signed"), p);
    }
}
