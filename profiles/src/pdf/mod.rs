//! A bounded PDF reader for untrusted input and a byte-exact incremental writer, shared by
//! the signer (PAdES, ETSI EN 319 142-1) and the verifier.
//!
//! ## Why our own code rather than a PDF crate
//!
//! Signing and validating need things general PDF crates do not give: the exact file offsets
//! of a signature's `/Contents` string (ISO 32000-1 §12.8.1: the ByteRange gap must be that
//! string and nothing else), the object graph *as of each revision* (§7.5.6 incremental
//! updates: a signature covers one revision, later ones must be compared with it), and an
//! incremental update that leaves every earlier byte untouched. `lopdf` loads the whole
//! document into its own model (and its incremental writer cannot place a placeholder);
//! `pdf-writer` only writes. What is here is small: the lexer of §7.2–§7.3, classic
//! cross-reference tables and streams (§7.5.4, §7.5.8), object streams (§7.5.7), FlateDecode
//! with PNG predictors (§7.4.4), revisions found through `startxref` / `/Prev`, and an
//! appender. FlateDecode uses `miniz_oxide` (pure Rust, `#![forbid(unsafe_code)]`, maintained
//! by the Rust project's compression maintainers).
//!
//! ## Untrusted input
//!
//! Every entry point returns an [`Error`] instead of panicking; nesting depth, container
//! sizes, cross-reference entries and sections, decoded stream sizes and the total decoded
//! bytes are bounded by [`Limits`]. Objects are parsed lazily, one at a time.

pub mod object;
pub mod write;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

pub use object::{Dict, Object, Parser, PdfString, Ref, Stream};

/// Bounds on the work one document may cause.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Deepest nesting of arrays and dictionaries.
    pub max_depth: usize,
    /// Most entries in one array or dictionary.
    pub max_container: usize,
    /// Most cross-reference entries over all sections.
    pub max_xref_entries: usize,
    /// Most cross-reference sections (revisions, roughly).
    pub max_sections: usize,
    /// Largest decoded stream.
    pub max_stream: usize,
    /// Most decoded bytes for the whole document.
    pub max_decoded_total: usize,
    /// Most objects in one object stream.
    pub max_objstm_objects: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 64,
            max_container: 100_000,
            max_xref_entries: 1_000_000,
            max_sections: 1_000,
            max_stream: 64 << 20,
            max_decoded_total: 256 << 20,
            max_objstm_objects: 100_000,
        }
    }
}

/// Why a PDF cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// Not a PDF (no `%PDF-` header).
    NotPdf,
    /// The PDF is encrypted (§7.6): refused.
    Encrypted,
    /// A syntax error at a byte offset.
    Syntax(&'static str, usize),
    /// A broken structure (cross-reference, trailer, object stream).
    Structure(String),
    /// A limit of [`Limits`] was reached.
    Limit(&'static str),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::NotPdf => write!(f, "not a PDF file (no %PDF- header)"),
            Error::Encrypted => write!(f, "the PDF is encrypted; encrypted PDFs are not supported"),
            Error::Syntax(what, at) => write!(f, "PDF syntax error at byte {at}: {what}"),
            Error::Structure(s) => write!(f, "broken PDF structure: {s}"),
            Error::Limit(what) => write!(f, "PDF limit exceeded: {what}"),
        }
    }
}

impl std::error::Error for Error {}

/// Where an object lives, per a cross-reference entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// Free (type 0 / `f`).
    Free,
    /// At a byte offset, with its generation (type 1 / `n`).
    InFile {
        /// Offset of `N G obj`.
        offset: usize,
        /// Generation number.
        generation: u16,
    },
    /// Object `index` of object stream `stream` (type 2).
    InStream {
        /// Object number of the object stream.
        stream: u32,
        /// Position in it.
        index: usize,
    },
}

/// The kind of a cross-reference section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XrefKind {
    /// A classic `xref` table (§7.5.4).
    Table,
    /// A cross-reference stream (§7.5.8).
    Stream,
}

/// The cross-reference view of one revision: the merged entries of its section and all
/// earlier ones (`/Prev`), newest first wins.
#[derive(Clone, Debug, Default)]
pub struct Xref {
    /// Object number → entry.
    pub entries: HashMap<u32, Entry>,
    /// The newest trailer (for an xref stream, its dictionary).
    pub trailer: Dict,
    /// Offsets of the sections read, newest first.
    pub sections: Vec<usize>,
    /// Entries of the newest section only (what this revision itself wrote).
    pub own: HashMap<u32, Entry>,
    /// The newest section's kind.
    pub kind: Option<XrefKind>,
}

impl Xref {
    /// `/Size`: one more than the highest object number.
    pub fn size(&self) -> u32 {
        let from_trailer = self
            .trailer
            .int(b"Size")
            .and_then(|s| u32::try_from(s).ok())
            .unwrap_or(0);
        let from_entries = self.entries.keys().max().map_or(0, |m| m.saturating_add(1));
        from_trailer.max(from_entries)
    }
}

/// One revision of the file: the bytes `[0, end)` end with `%%EOF` and its `startxref`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revision {
    /// Offset after `%%EOF` and one end-of-line, if any.
    pub end: usize,
    /// Offset after `%%EOF` (before any end-of-line).
    pub eof_end: usize,
    /// The `startxref` value of this revision.
    pub startxref: usize,
}

struct ObjStm {
    data: Vec<u8>,
    /// (object number, offset in `data`).
    index: Vec<(u32, usize)>,
}

/// A PDF held in memory, read lazily.
pub struct Document<'a> {
    /// The file's bytes.
    pub bytes: &'a [u8],
    /// Limits.
    pub limits: Limits,
    objstms: RefCell<HashMap<u32, Rc<ObjStm>>>,
    decoded: Cell<usize>,
}

/// Whether `bytes` starts like a PDF (§7.5.2): `%PDF-` first, or within the first 1024 bytes
/// after some junk (as some producers write) unless the bytes are a DER/BER structure (a
/// CMS signature encapsulating a PDF has `%PDF-` near its start too).
pub fn is_pdf(bytes: &[u8]) -> bool {
    bytes.starts_with(b"%PDF-")
        || (bytes.first() != Some(&0x30)
            && find(&bytes[..bytes.len().min(1024)], b"%PDF-").is_some())
}

/// The first occurrence of `needle` in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The last occurrence of `needle` in `hay`.
pub fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).rposition(|w| w == needle)
}

impl<'a> Document<'a> {
    /// Opens `bytes` as a PDF (nothing is parsed yet beyond the header).
    pub fn new(bytes: &'a [u8]) -> Result<Self, Error> {
        if !is_pdf(bytes) {
            return Err(Error::NotPdf);
        }
        Ok(Self {
            bytes,
            limits: Limits::default(),
            objstms: RefCell::new(HashMap::new()),
            decoded: Cell::new(0),
        })
    }

    /// Every revision of the file in file order: each `%%EOF` marker preceded by a
    /// `startxref` whose offset is a plausible cross-reference section (§7.5.5, §7.5.6).
    pub fn revisions(&self) -> Vec<Revision> {
        let b = self.bytes;
        let mut out: Vec<Revision> = Vec::new();
        let mut from = 0;
        while let Some(i) = find(&b[from..], b"%%EOF") {
            let at = from + i;
            from = at + 5;
            let look = at.saturating_sub(64);
            let Some(sx) = rfind(&b[look..at], b"startxref") else {
                continue;
            };
            let mut p = Parser::new(b, look + sx + 9, true, &self.limits);
            let Some(x) = p.read_uint().and_then(|x| usize::try_from(x).ok()) else {
                continue;
            };
            while p.pos < at && object::is_white(b[p.pos]) {
                p.pos += 1;
            }
            if p.pos != at || x == 0 || x >= at {
                continue;
            }
            let mut end = at + 5;
            if b.get(end) == Some(&b'\r') {
                end += 1;
            }
            if b.get(end) == Some(&b'\n') {
                end += 1;
            }
            if out.len() >= self.limits.max_sections {
                break;
            }
            out.push(Revision {
                end,
                eof_end: at + 5,
                startxref: x,
            });
        }
        out
    }

    /// The `startxref` of the whole file (the last one, §7.5.5).
    pub fn last_startxref(&self) -> Result<usize, Error> {
        let b = self.bytes;
        let tail = b.len().saturating_sub(2048);
        let sx = rfind(&b[tail..], b"startxref")
            .ok_or_else(|| Error::Structure("no startxref".into()))?;
        let mut p = Parser::new(b, tail + sx + 9, true, &self.limits);
        p.read_uint()
            .and_then(|x| usize::try_from(x).ok())
            .ok_or_else(|| Error::Structure("startxref without an offset".into()))
    }

    /// The cross-reference view of the whole file.
    pub fn xref(&self) -> Result<Xref, Error> {
        self.xref_at(self.last_startxref()?)
    }

    /// The cross-reference view starting at the section at `offset`, following `/Prev` (and
    /// `/XRefStm` of hybrid files, §7.5.8.4). An encrypted file is refused.
    pub fn xref_at(&self, offset: usize) -> Result<Xref, Error> {
        let mut x = Xref::default();
        let mut next = Some(offset);
        let mut total = 0usize;
        while let Some(off) = next {
            if x.sections.contains(&off) {
                return Err(Error::Structure(
                    "cross-reference sections form a loop".into(),
                ));
            }
            if x.sections.len() >= self.limits.max_sections {
                return Err(Error::Limit("cross-reference sections"));
            }
            x.sections.push(off);
            let (entries, trailer, kind) = self.read_section(off)?;
            let first = x.sections.len() == 1;
            let mut all = entries;
            if let Some(h) = trailer
                .int(b"XRefStm")
                .and_then(|h| usize::try_from(h).ok())
            {
                // Hybrid file: the stream's entries take precedence over the table's.
                if let Ok((es, _, _)) = self.read_section(h) {
                    let mut merged = es;
                    merged.extend(all);
                    all = dedup_first(merged);
                }
            }
            total += all.len();
            if total > self.limits.max_xref_entries {
                return Err(Error::Limit("cross-reference entries"));
            }
            if first {
                x.kind = Some(kind);
                for (n, e) in &all {
                    x.own.entry(*n).or_insert(*e);
                }
                if trailer.get(b"Encrypt").is_some() {
                    return Err(Error::Encrypted);
                }
                x.trailer = trailer.clone();
            }
            for (n, e) in all {
                x.entries.entry(n).or_insert(e);
            }
            next = trailer.int(b"Prev").and_then(|p| usize::try_from(p).ok());
        }
        Ok(x)
    }

    fn read_section(&self, off: usize) -> Result<Section, Error> {
        if off >= self.bytes.len() {
            return Err(Error::Structure(format!(
                "cross-reference offset {off} is past the end"
            )));
        }
        let mut p = Parser::new(self.bytes, off, true, &self.limits);
        if p.eat_keyword(b"xref") {
            let mut entries = Vec::new();
            loop {
                let save = p.pos;
                let (Some(start), Some(count)) = (p.read_uint(), p.read_uint()) else {
                    p.pos = save;
                    break;
                };
                if count > self.limits.max_xref_entries as u64 {
                    return Err(Error::Limit("cross-reference entries"));
                }
                for i in 0..count {
                    let (Some(o), Some(g)) = (p.read_uint(), p.read_uint()) else {
                        return Err(Error::Structure("bad cross-reference entry".into()));
                    };
                    let t = p.peek_word();
                    let free = match t {
                        b"n" => false,
                        b"f" => true,
                        _ => return Err(Error::Structure("bad cross-reference entry".into())),
                    };
                    p.pos += 1;
                    let num = u32::try_from(start + i)
                        .map_err(|_| Error::Structure("object number too large".into()))?;
                    let e = if free {
                        Entry::Free
                    } else {
                        Entry::InFile {
                            offset: usize::try_from(o).unwrap_or(usize::MAX),
                            generation: u16::try_from(g).unwrap_or(u16::MAX),
                        }
                    };
                    entries.push((num, e));
                }
            }
            if !p.eat_keyword(b"trailer") {
                return Err(Error::Structure(
                    "no trailer after the cross-reference table".into(),
                ));
            }
            let Object::Dict(t) = p.object(0)? else {
                return Err(Error::Structure("the trailer is not a dictionary".into()));
            };
            return Ok((dedup_first(entries), t, XrefKind::Table));
        }
        // A cross-reference stream object.
        let (_, obj) = self.parse_indirect_at(off, None)?;
        let Object::Stream(s) = obj else {
            return Err(Error::Structure(format!(
                "no cross-reference table or stream at offset {off}"
            )));
        };
        if s.dict.name(b"Type") != Some(b"XRef") {
            return Err(Error::Structure(
                "cross-reference stream without /Type /XRef".into(),
            ));
        }
        if s.dict.get(b"Encrypt").is_some() {
            return Err(Error::Encrypted);
        }
        let data = self.decode(&s)?;
        let w: Vec<usize> = match s.dict.get(b"W") {
            Some(Object::Array(a)) if a.len() == 3 => a
                .iter()
                .map(|o| match o {
                    Object::Int(i) if (0..=8).contains(i) => Ok(*i as usize),
                    _ => Err(Error::Structure("bad /W".into())),
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(Error::Structure("bad /W".into())),
        };
        let size = s.dict.int(b"Size").unwrap_or(0);
        let index: Vec<(u64, u64)> = match s.dict.get(b"Index") {
            Some(Object::Array(a)) => a
                .chunks(2)
                .map(|c| match c {
                    [Object::Int(f), Object::Int(n)] if *f >= 0 && *n >= 0 => {
                        Ok((*f as u64, *n as u64))
                    }
                    _ => Err(Error::Structure("bad /Index".into())),
                })
                .collect::<Result<_, _>>()?,
            _ => vec![(0, u64::try_from(size).unwrap_or(0))],
        };
        let rec = w[0] + w[1] + w[2];
        if rec == 0 {
            return Err(Error::Structure("empty /W".into()));
        }
        let mut entries = Vec::new();
        let mut pos = 0usize;
        for (first, n) in index {
            if n > self.limits.max_xref_entries as u64 {
                return Err(Error::Limit("cross-reference entries"));
            }
            for i in 0..n {
                let Some(r) = data.get(pos..pos + rec) else {
                    break;
                };
                pos += rec;
                let field =
                    |a: usize, b: usize| r[a..b].iter().fold(0u64, |v, &x| v << 8 | u64::from(x));
                let t = if w[0] == 0 { 1 } else { field(0, w[0]) };
                let f2 = field(w[0], w[0] + w[1]);
                let f3 = field(w[0] + w[1], rec);
                let num = u32::try_from(first + i)
                    .map_err(|_| Error::Structure("object number too large".into()))?;
                let e = match t {
                    0 => Entry::Free,
                    1 => Entry::InFile {
                        offset: usize::try_from(f2).unwrap_or(usize::MAX),
                        generation: u16::try_from(f3).unwrap_or(u16::MAX),
                    },
                    2 => Entry::InStream {
                        stream: u32::try_from(f2).unwrap_or(u32::MAX),
                        index: usize::try_from(f3).unwrap_or(usize::MAX),
                    },
                    _ => continue, // §7.5.8.3: other types are references to null.
                };
                entries.push((num, e));
            }
        }
        Ok((dedup_first(entries), s.dict, XrefKind::Stream))
    }

    /// Parses the indirect object `N G obj ... endobj` at `off`; when `expect` is given the
    /// object number must match. `/Length` given as a reference is resolved through `xref`
    /// when one is passed (else the data ends at `endstream`).
    pub fn parse_indirect_at(
        &self,
        off: usize,
        expect: Option<u32>,
    ) -> Result<(Ref, Object), Error> {
        self.parse_indirect_with(off, expect, None)
    }

    fn parse_indirect_with(
        &self,
        off: usize,
        expect: Option<u32>,
        xref: Option<&Xref>,
    ) -> Result<(Ref, Object), Error> {
        let mut p = Parser::new(self.bytes, off, true, &self.limits);
        let (Some(num), Some(generation)) = (p.read_uint(), p.read_uint()) else {
            return Err(Error::Syntax("no object header", off));
        };
        if !p.eat_keyword(b"obj") {
            return Err(Error::Syntax("no 'obj' keyword", off));
        }
        let r = Ref {
            num: u32::try_from(num).map_err(|_| Error::Syntax("object number", off))?,
            generation: u16::try_from(generation).map_err(|_| Error::Syntax("generation", off))?,
        };
        if let Some(e) = expect
            && e != r.num
        {
            return Err(Error::Structure(format!(
                "object {e} expected at offset {off}, found {}",
                r.num
            )));
        }
        let o = p.object(0)?;
        if let Object::Dict(d) = o {
            if p.eat_keyword(b"stream") {
                // §7.3.8.1: `stream` is followed by CRLF or LF.
                let mut start = p.pos;
                if self.bytes.get(start) == Some(&b'\r') {
                    start += 1;
                }
                if self.bytes.get(start) == Some(&b'\n') {
                    start += 1;
                }
                let declared = match d.get(b"Length") {
                    Some(Object::Int(l)) => usize::try_from(*l).ok(),
                    Some(Object::Ref(lr)) if lr.num != r.num => {
                        xref.and_then(|x| match self.get_in(x, lr.num, 1).ok()? {
                            Object::Int(l) => usize::try_from(l).ok(),
                            _ => None,
                        })
                    }
                    _ => None,
                };
                let ends_well = |e: usize| {
                    let mut q = Parser::new(self.bytes, e, true, &self.limits);
                    e <= self.bytes.len() && q.eat_keyword(b"endstream")
                };
                let end = match declared.and_then(|l| start.checked_add(l)) {
                    Some(e) if ends_well(e) => e,
                    _ => {
                        // The length is wrong or unknown: the data ends before `endstream`.
                        let i = find(self.bytes.get(start..).unwrap_or(&[]), b"endstream")
                            .ok_or(Error::Syntax("stream without endstream", start))?;
                        let mut e = start + i;
                        if e > start && self.bytes[e - 1] == b'\n' {
                            e -= 1;
                        }
                        if e > start && self.bytes[e - 1] == b'\r' {
                            e -= 1;
                        }
                        e
                    }
                };
                return Ok((
                    r,
                    Object::Stream(Stream {
                        dict: d,
                        start,
                        end,
                    }),
                ));
            }
            return Ok((r, Object::Dict(d)));
        }
        Ok((r, o))
    }

    /// Object `num` as `xref` sees it (`Null` when free or absent, §7.3.10).
    pub fn get(&self, xref: &Xref, num: u32) -> Result<Object, Error> {
        self.get_in(xref, num, 0)
    }

    fn get_in(&self, xref: &Xref, num: u32, depth: usize) -> Result<Object, Error> {
        if depth > 4 {
            return Err(Error::Limit("nested stream lengths"));
        }
        match xref.entries.get(&num) {
            None | Some(Entry::Free) => Ok(Object::Null),
            Some(Entry::InFile { offset, .. }) => {
                Ok(self.parse_indirect_with(*offset, Some(num), Some(xref))?.1)
            }
            Some(Entry::InStream { stream, index }) => {
                let os = self.objstm(xref, *stream)?;
                let Some(&(n, at)) = os.index.get(*index) else {
                    return Err(Error::Structure(format!(
                        "object {num} not in object stream {stream}"
                    )));
                };
                if n != num {
                    return Err(Error::Structure(format!(
                        "object stream {stream} holds {n} where {num} was expected"
                    )));
                }
                Parser::new(&os.data, at, false, &self.limits).object(0)
            }
        }
    }

    /// Follows references (a bounded number of times).
    pub fn resolve(&self, xref: &Xref, o: &Object) -> Result<Object, Error> {
        let mut cur = o.clone();
        for _ in 0..16 {
            match cur {
                Object::Ref(r) => cur = self.get(xref, r.num)?,
                other => return Ok(other),
            }
        }
        Err(Error::Limit("chain of references"))
    }

    /// A resolved dictionary value.
    pub fn dict_of(&self, xref: &Xref, o: Option<&Object>) -> Option<Dict> {
        match self.resolve(xref, o?).ok()? {
            Object::Dict(d) => Some(d),
            Object::Stream(s) => Some(s.dict),
            _ => None,
        }
    }

    fn objstm(&self, xref: &Xref, num: u32) -> Result<Rc<ObjStm>, Error> {
        if let Some(o) = self.objstms.borrow().get(&num) {
            return Ok(o.clone());
        }
        let Some(Entry::InFile { offset, .. }) = xref.entries.get(&num) else {
            return Err(Error::Structure(format!("object stream {num} not found")));
        };
        let (_, o) = self.parse_indirect_with(*offset, Some(num), Some(xref))?;
        let Object::Stream(s) = o else {
            return Err(Error::Structure(format!(
                "object {num} is not an object stream"
            )));
        };
        let n = s.dict.int(b"N").unwrap_or(0);
        let first = s.dict.int(b"First").unwrap_or(0);
        if n < 0 || first < 0 || n as u64 > self.limits.max_objstm_objects as u64 {
            return Err(Error::Limit("objects in an object stream"));
        }
        let data = self.decode(&s)?;
        let mut p = Parser::new(&data, 0, false, &self.limits);
        let mut index = Vec::new();
        for _ in 0..n {
            let (Some(on), Some(oo)) = (p.read_uint(), p.read_uint()) else {
                return Err(Error::Structure(format!(
                    "bad header in object stream {num}"
                )));
            };
            let at = (first as u64).saturating_add(oo);
            index.push((
                u32::try_from(on).unwrap_or(u32::MAX),
                usize::try_from(at).unwrap_or(usize::MAX),
            ));
        }
        let os = Rc::new(ObjStm { data, index });
        self.objstms.borrow_mut().insert(num, os.clone());
        Ok(os)
    }

    /// The raw (encoded) bytes of a stream.
    pub fn raw(&self, s: &Stream) -> &'a [u8] {
        self.bytes.get(s.start..s.end).unwrap_or(&[])
    }

    /// The decoded data of a stream: no filter, or FlateDecode with an optional PNG or TIFF
    /// predictor (§7.4.4). Other filters are refused.
    pub fn decode(&self, s: &Stream) -> Result<Vec<u8>, Error> {
        let raw = self.raw(s);
        let filters: Vec<Vec<u8>> = match s.dict.get(b"Filter") {
            None | Some(Object::Null) => Vec::new(),
            Some(Object::Name(n)) => vec![n.clone()],
            Some(Object::Array(a)) => a
                .iter()
                .map(|o| match o {
                    Object::Name(n) => Ok(n.clone()),
                    _ => Err(Error::Structure("bad /Filter".into())),
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(Error::Structure("bad /Filter".into())),
        };
        let parms = match s.dict.get(b"DecodeParms") {
            Some(Object::Dict(d)) => Some(d.clone()),
            Some(Object::Array(a)) => a.first().and_then(|o| o.as_dict().cloned()),
            _ => None,
        };
        let mut data = raw.to_vec();
        if filters.len() > 1 {
            return Err(Error::Structure("more than one stream filter".into()));
        }
        if let Some(f) = filters.first() {
            if f != b"FlateDecode" && f != b"Fl" {
                return Err(Error::Structure(format!(
                    "stream filter /{} is not supported",
                    String::from_utf8_lossy(f)
                )));
            }
            let left = self
                .limits
                .max_decoded_total
                .saturating_sub(self.decoded.get())
                .min(self.limits.max_stream);
            data = inflate(&data, left)?;
            self.decoded.set(self.decoded.get() + data.len());
            if let Some(p) = parms {
                data = unpredict(data, &p)?;
            }
        }
        Ok(data)
    }
}

/// One cross-reference section: its entries, trailer and kind.
type Section = (Vec<(u32, Entry)>, Dict, XrefKind);

fn dedup_first(v: Vec<(u32, Entry)>) -> Vec<(u32, Entry)> {
    let mut seen = std::collections::HashSet::new();
    v.into_iter().filter(|(n, _)| seen.insert(*n)).collect()
}

/// zlib (RFC 1950) inflate of at most `limit` bytes; a stream cut short or without its
/// checksum (common in real PDFs) gives what was decoded.
pub fn inflate(data: &[u8], limit: usize) -> Result<Vec<u8>, Error> {
    use miniz_oxide::inflate::{TINFLStatus, decompress_to_vec_zlib_with_limit};
    match decompress_to_vec_zlib_with_limit(data, limit) {
        Ok(v) => Ok(v),
        Err(e) if e.status == TINFLStatus::HasMoreOutput => {
            Err(Error::Limit("decoded stream size"))
        }
        Err(e) if !e.output.is_empty() => Ok(e.output),
        Err(_) => Err(Error::Structure("FlateDecode data is corrupt".into())),
    }
}

/// Undoes a PNG (10–15) or TIFF (2) predictor (§7.4.4.4).
fn unpredict(data: Vec<u8>, p: &Dict) -> Result<Vec<u8>, Error> {
    let pred = p.int(b"Predictor").unwrap_or(1);
    if pred < 10 {
        if pred <= 1 {
            return Ok(data);
        }
        return Err(Error::Structure("TIFF predictor not supported".into()));
    }
    let colors = p.int(b"Colors").unwrap_or(1).clamp(1, 32) as usize;
    let bpc = p.int(b"BitsPerComponent").unwrap_or(8).clamp(1, 16) as usize;
    let columns = p.int(b"Columns").unwrap_or(1).clamp(1, 1 << 20) as usize;
    let bpp = (colors * bpc).div_ceil(8).max(1);
    let row = (colors * bpc * columns).div_ceil(8);
    let mut out = Vec::with_capacity(data.len());
    let mut prev = vec![0u8; row];
    for chunk in data.chunks(row + 1) {
        if chunk.len() < row + 1 {
            break;
        }
        let t = chunk[0];
        let mut cur = chunk[1..].to_vec();
        for i in 0..row {
            let a = if i >= bpp { cur[i - bpp] } else { 0 };
            let b = prev[i];
            let c = if i >= bpp { prev[i - bpp] } else { 0 };
            let add = match t {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                4 => {
                    let pa = (i16::from(b) - i16::from(c)).abs();
                    let pb = (i16::from(a) - i16::from(c)).abs();
                    let pc = (i16::from(a) + i16::from(b) - 2 * i16::from(c)).abs();
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                _ => return Err(Error::Structure("bad PNG predictor row".into())),
            };
            cur[i] = cur[i].wrapping_add(add);
        }
        out.extend_from_slice(&cur);
        prev = cur;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn tiny_pdf() -> Vec<u8> {
        write::tests::minimal_pdf()
    }

    #[test]
    fn reads_minimal() {
        let b = tiny_pdf();
        let d = Document::new(&b).unwrap();
        let x = d.xref().unwrap();
        let root = d.dict_of(&x, x.trailer.get(b"Root")).unwrap();
        assert_eq!(root.name(b"Type"), Some(&b"Catalog"[..]));
        assert_eq!(d.revisions().len(), 1);
        assert_eq!(d.revisions()[0].end, b.len());
    }

    #[test]
    fn garbage_never_panics() {
        let b = tiny_pdf();
        for i in 0..b.len() {
            for v in [0u8, b'0', b'<', b'(', b'/', b'9', 0xff] {
                let mut m = b.clone();
                m[i] = v;
                if let Ok(d) = Document::new(&m) {
                    let _ = d.revisions();
                    if let Ok(x) = d.xref() {
                        for n in 0..8 {
                            let _ = d.get(&x, n);
                        }
                    }
                }
            }
            let _ = Document::new(&b[..i]).map(|d| d.xref());
        }
    }

    #[test]
    fn png_up_predictor() {
        let mut p = Dict::default();
        p.set(b"Predictor", Object::Int(12));
        p.set(b"Columns", Object::Int(2));
        let out = unpredict(vec![2, 1, 2, 2, 1, 1], &p).unwrap();
        assert_eq!(out, [1, 2, 2, 3]);
    }
}
