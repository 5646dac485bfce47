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
//!
//! ## Large files
//!
//! A [`Document`] either holds the whole file ([`Document::new`], what the verifier does) or
//! reads a file on disk by ranges ([`Document::on_file`], what the signer does): the trailer
//! from the last 2 KiB, each cross-reference section and object from a window at its offset
//! (4 KiB first, grown eightfold when the object does not fit, never past
//! [`Limits::max_stream`]), stream data only when it is decoded. Memory then depends on the objects read, not on the file's
//! size: a 200 MiB scan with one page is signed in a few MiB. Bytes appended in memory (the
//! revisions being written) are read as if they followed the file.

pub mod object;
pub mod write;

use std::borrow::Cow;
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
    /// The file could not be read.
    Io(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::NotPdf => write!(f, "not a PDF file (no %PDF- header)"),
            Error::Encrypted => write!(f, "the PDF is encrypted; encrypted PDFs are not supported"),
            Error::Syntax(what, at) => write!(f, "PDF syntax error at byte {at}: {what}"),
            Error::Structure(s) => write!(f, "broken PDF structure: {s}"),
            Error::Limit(what) => write!(f, "PDF limit exceeded: {what}"),
            Error::Io(e) => write!(f, "cannot read the PDF: {e}"),
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

/// Where a document's bytes are.
enum Source<'a> {
    /// The whole file in memory ([`Document::bytes`]).
    Mem,
    /// A file on disk, read by ranges, followed by `tail` (appended in memory).
    File {
        file: &'a std::fs::File,
        file_len: usize,
        tail: &'a [u8],
    },
}

/// The first window read for an object or cross-reference section of a file on disk.
const FIRST_WINDOW: usize = 4 << 10;
/// The chunk size of scans (for `endstream`, `%%EOF`) over a file on disk.
const SCAN_CHUNK: usize = 1 << 20;
/// Bytes that must follow a parsed object inside a window before the window is trusted to hold
/// all of it (a number or keyword cut at the window's end would otherwise parse as another).
const WINDOW_MARGIN: usize = 64;

/// A PDF, held in memory or read by ranges from disk, parsed lazily.
pub struct Document<'a> {
    /// The file's bytes when the whole file is in memory ([`Document::new`]); empty for a file
    /// read from disk ([`Document::on_file`]), use [`Document::read`] then.
    pub bytes: &'a [u8],
    /// Limits.
    pub limits: Limits,
    src: Source<'a>,
    len: usize,
    first_window: usize,
    objstms: RefCell<HashMap<u32, Rc<ObjStm>>>,
    decoded: Cell<usize>,
}

/// Reads exactly `buf.len()` bytes at `off` without moving the file's cursor.
fn read_at(file: &std::fs::File, buf: &mut [u8], off: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt as _;
        file.read_exact_at(buf, off)
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::FileExt as _;
        let mut done = 0;
        while done < buf.len() {
            match file.seek_read(&mut buf[done..], off + done as u64)? {
                0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                n => done += n,
            }
        }
        Ok(())
    }
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
            src: Source::Mem,
            len: bytes.len(),
            first_window: FIRST_WINDOW,
            objstms: RefCell::new(HashMap::new()),
            decoded: Cell::new(0),
        })
    }

    /// Opens the first `file_len` bytes of `file`, followed by `tail` (revisions appended in
    /// memory), as a PDF read by ranges: the file is never read whole (see "Large files").
    /// Reads do not move the file's cursor.
    pub fn on_file(
        file: &'a std::fs::File,
        file_len: usize,
        tail: &'a [u8],
    ) -> Result<Self, Error> {
        let d = Self {
            bytes: &[],
            limits: Limits::default(),
            src: Source::File {
                file,
                file_len,
                tail,
            },
            len: file_len.saturating_add(tail.len()),
            first_window: FIRST_WINDOW,
            objstms: RefCell::new(HashMap::new()),
            decoded: Cell::new(0),
        };
        if !is_pdf(&d.read(0, 1024)?) {
            return Err(Error::NotPdf);
        }
        Ok(d)
    }

    /// The document's length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the document is empty (never, once opened).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes `[off, off + want)`, cut at the end of the document.
    pub fn read(&self, off: usize, want: usize) -> Result<Cow<'a, [u8]>, Error> {
        let end = off.saturating_add(want).min(self.len);
        if off >= end {
            return Ok(Cow::Borrowed(&[]));
        }
        match self.src {
            Source::Mem => Ok(Cow::Borrowed(&self.bytes[off..end])),
            Source::File {
                file,
                file_len,
                tail,
            } => {
                let mut out = vec![0; end - off];
                let in_file = end.min(file_len);
                if off < in_file {
                    read_at(file, &mut out[..in_file - off], off as u64)
                        .map_err(|e| Error::Io(e.to_string()))?;
                }
                if end > file_len {
                    let from = off.max(file_len);
                    out[from - off..].copy_from_slice(&tail[from - file_len..end - file_len]);
                }
                Ok(Cow::Owned(out))
            }
        }
    }

    /// Bytes to parse from `off`: the whole file in memory (base 0), or a window of `want`
    /// bytes read from disk (base `off`). Returns the bytes and the file offset of the first.
    fn view(&self, off: usize, want: usize) -> Result<(Cow<'a, [u8]>, usize), Error> {
        match self.src {
            Source::Mem => Ok((Cow::Borrowed(self.bytes), 0)),
            Source::File { .. } => Ok((self.read(off, want)?, off)),
        }
    }

    /// Runs `f` on a parser at file offset `off`; on a file read from disk the window grows
    /// (up to [`Limits::max_stream`]) while `f` fails or stops too near its end, which is
    /// what an object cut by the window looks like.
    fn parse_window<T>(
        &self,
        off: usize,
        mut f: impl FnMut(&mut Parser<'_>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut want = self.first_window;
        loop {
            let (buf, base) = self.view(off, want)?;
            let whole = base + buf.len() >= self.len;
            let mut p = Parser::new(&buf, off - base, true, &self.limits).with_base(base);
            let r = f(&mut p);
            let near_end = p.pos.saturating_add(WINDOW_MARGIN) > buf.len();
            let grow = !whole && want < self.limits.max_stream;
            match r {
                Ok(v) if whole || !near_end => return Ok(v),
                Err(Error::Syntax(..) | Error::Structure(..)) if grow => {}
                Ok(_) if grow => {}
                Ok(_) => return Err(Error::Limit("object size")),
                Err(e) => return Err(e),
            }
            want = want.saturating_mul(8).min(self.limits.max_stream);
        }
    }

    /// The first occurrence of `needle` at or after `from` (scanned in chunks on disk).
    fn find_from(&self, from: usize, needle: &[u8]) -> Result<Option<usize>, Error> {
        if let Source::Mem = self.src {
            return Ok(self
                .bytes
                .get(from..)
                .and_then(|b| find(b, needle))
                .map(|i| from + i));
        }
        let mut at = from;
        while at < self.len {
            let chunk = self.read(at, SCAN_CHUNK)?;
            if let Some(i) = find(&chunk, needle) {
                return Ok(Some(at + i));
            }
            if at + chunk.len() >= self.len {
                break;
            }
            // Overlap so that a needle across two chunks is found.
            at += chunk.len().saturating_sub(needle.len() - 1).max(1);
        }
        Ok(None)
    }

    /// Every revision of the file in file order: each `%%EOF` marker preceded by a
    /// `startxref` whose offset is a plausible cross-reference section (§7.5.5, §7.5.6).
    pub fn revisions(&self) -> Vec<Revision> {
        let mut out: Vec<Revision> = Vec::new();
        let mut from = 0;
        while let Ok(Some(at)) = self.find_from(from, b"%%EOF") {
            from = at + 5;
            let look = at.saturating_sub(64);
            let Ok((b, base)) = self.view(look, at + 7 - look) else {
                break;
            };
            let (lb, ab) = (look - base, at - base);
            let Some(sx) = rfind(&b[lb..ab], b"startxref") else {
                continue;
            };
            let mut p = Parser::new(&b, lb + sx + 9, true, &self.limits);
            let Some(x) = p.read_uint().and_then(|x| usize::try_from(x).ok()) else {
                continue;
            };
            while p.pos < ab && object::is_white(b[p.pos]) {
                p.pos += 1;
            }
            if p.pos != ab || x == 0 || x >= at {
                continue;
            }
            let mut end = at + 5;
            if b.get(end - base) == Some(&b'\r') {
                end += 1;
            }
            if b.get(end - base) == Some(&b'\n') {
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
        let tail = self.len.saturating_sub(2048);
        let (b, base) = self.view(tail, self.len - tail)?;
        let sx = rfind(&b[tail - base..], b"startxref")
            .ok_or_else(|| Error::Structure("no startxref".into()))?;
        let mut p = Parser::new(&b, tail - base + sx + 9, true, &self.limits);
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

    /// A classic cross-reference table after its `xref` keyword, and its trailer (§7.5.4).
    fn read_table(p: &mut Parser<'_>, limits: &Limits) -> Result<(Vec<(u32, Entry)>, Dict), Error> {
        let mut entries = Vec::new();
        loop {
            let save = p.pos;
            let (Some(start), Some(count)) = (p.read_uint(), p.read_uint()) else {
                p.pos = save;
                break;
            };
            if count > limits.max_xref_entries as u64 {
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
        Ok((entries, t))
    }

    fn read_section(&self, off: usize) -> Result<Section, Error> {
        if off >= self.len {
            return Err(Error::Structure(format!(
                "cross-reference offset {off} is past the end"
            )));
        }
        let table = self.parse_window(off, |p| {
            if !p.eat_keyword(b"xref") {
                return Ok(None);
            }
            Self::read_table(p, &self.limits).map(Some)
        })?;
        if let Some((entries, t)) = table {
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
        let (r, o, data_at) = self.parse_window(off, |p| {
            let (Some(num), Some(generation)) = (p.read_uint(), p.read_uint()) else {
                return Err(Error::Syntax("no object header", off));
            };
            if !p.eat_keyword(b"obj") {
                return Err(Error::Syntax("no 'obj' keyword", off));
            }
            let r = Ref {
                num: u32::try_from(num).map_err(|_| Error::Syntax("object number", off))?,
                generation: u16::try_from(generation)
                    .map_err(|_| Error::Syntax("generation", off))?,
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
            // §7.3.8.1: `stream` is followed by CRLF or LF.
            let data_at = (matches!(o, Object::Dict(_)) && p.eat_keyword(b"stream")).then(|| {
                if p.buf.get(p.pos) == Some(&b'\r') {
                    p.pos += 1;
                }
                if p.buf.get(p.pos) == Some(&b'\n') {
                    p.pos += 1;
                }
                p.base + p.pos
            });
            Ok((r, o, data_at))
        })?;
        let (Object::Dict(d), Some(start)) = (&o, data_at) else {
            return Ok((r, o));
        };
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
            e <= self.len
                && self
                    .read(e, 32)
                    .is_ok_and(|w| Parser::new(&w, 0, true, &self.limits).eat_keyword(b"endstream"))
        };
        let end = match declared.and_then(|l| start.checked_add(l)) {
            Some(e) if ends_well(e) => e,
            _ => {
                // The length is wrong or unknown: the data ends before `endstream`.
                let mut e = self
                    .find_from(start, b"endstream")?
                    .ok_or(Error::Syntax("stream without endstream", start))?;
                let before = self.read(e.saturating_sub(2), e.min(2))?;
                if e > start && before.last() == Some(&b'\n') {
                    e -= 1;
                }
                let before = &before[..before.len() - usize::from(before.last() == Some(&b'\n'))];
                if e > start && before.last() == Some(&b'\r') {
                    e -= 1;
                }
                e
            }
        };
        let Object::Dict(dict) = o else {
            return Err(Error::Structure("stream without a dictionary".into()));
        };
        Ok((r, Object::Stream(Stream { dict, start, end })))
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

    /// The raw (encoded) bytes of a stream (empty when they cannot be read: see
    /// [`Document::raw_bytes`]).
    pub fn raw(&self, s: &Stream) -> Cow<'a, [u8]> {
        self.raw_bytes(s).unwrap_or_default()
    }

    /// The raw (encoded) bytes of a stream; on a file read from disk, at most
    /// [`Limits::max_stream`] of them.
    pub fn raw_bytes(&self, s: &Stream) -> Result<Cow<'a, [u8]>, Error> {
        let len = s.end.saturating_sub(s.start);
        if let Source::Mem = self.src {
            return Ok(Cow::Borrowed(self.bytes.get(s.start..s.end).unwrap_or(&[])));
        }
        if len > self.limits.max_stream {
            return Err(Error::Limit("stream size"));
        }
        self.read(s.start, len)
    }

    /// The decoded data of a stream: no filter, or FlateDecode with an optional PNG or TIFF
    /// predictor (§7.4.4). Other filters are refused.
    pub fn decode(&self, s: &Stream) -> Result<Vec<u8>, Error> {
        let raw = self.raw_bytes(s)?;
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

/// zlib (RFC 1950) deflate at the default level, for FlateDecode streams a writer adds.
pub fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 6)
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

    /// Every object of every PDF vector reads the same from disk (with windows of 16 bytes,
    /// so that almost every object is cut and read again) as from memory.
    #[test]
    fn file_reads_like_memory() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/pdf/cases");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("the PDF vectors in ../shared/vectors/pdf")
            .flatten()
            .flat_map(|c| std::fs::read_dir(c.path()).into_iter().flatten().flatten())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "pdf"))
            .collect();
        files.sort();
        assert!(files.len() >= 20, "{files:?}");
        for path in files {
            let bytes = std::fs::read(&path).unwrap();
            let file = std::fs::File::open(&path).unwrap();
            // Half on disk, half as an appended tail.
            let cut = bytes.len() / 2;
            let mem = Document::new(&bytes).unwrap();
            let mut disk = Document::on_file(&file, cut, &bytes[cut..]).unwrap();
            disk.first_window = 16;
            assert_eq!(mem.revisions(), disk.revisions(), "{path:?}");
            assert_eq!(mem.last_startxref(), disk.last_startxref(), "{path:?}");
            let (Ok(xm), Ok(xd)) = (mem.xref(), disk.xref()) else {
                assert_eq!(mem.xref().err(), disk.xref().err(), "{path:?}");
                continue;
            };
            assert_eq!(xm.entries, xd.entries, "{path:?}");
            assert!(xm.trailer.same(&xd.trailer), "{path:?}");
            let mut nums: Vec<u32> = xm.entries.keys().copied().collect();
            nums.sort_unstable();
            for n in nums.into_iter().take(2_000) {
                match (mem.get(&xm, n), disk.get(&xd, n)) {
                    (Ok(a), Ok(b)) => {
                        assert!(a.same(&b), "{path:?} object {n}");
                        if let (Object::Stream(a), Object::Stream(b)) = (&a, &b) {
                            assert_eq!((a.start, a.end), (b.start, b.end), "{path:?} {n}");
                            assert_eq!(mem.raw(a), disk.raw(b), "{path:?} {n}");
                        }
                        if let (Object::Dict(a), Object::Dict(b)) = (&a, &b) {
                            // String spans are file offsets either way.
                            let span = |d: &Dict| match d.get(b"Contents") {
                                Some(Object::Str(s)) => s.span,
                                _ => None,
                            };
                            assert_eq!(span(a), span(b), "{path:?} {n}");
                        }
                    }
                    (a, b) => assert_eq!(a.err(), b.err(), "{path:?} object {n}"),
                }
            }
        }
    }

    /// The windowed reader on damaged bytes never panics (all of them as an appended tail of
    /// an empty file part, read through windows of 8 bytes).
    #[test]
    fn windowed_garbage_never_panics() {
        let file = std::fs::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
        let b = tiny_pdf();
        let run = |m: &[u8]| {
            if let Ok(mut d) = Document::on_file(&file, 0, m) {
                d.first_window = 8;
                let _ = d.revisions();
                if let Ok(x) = d.xref() {
                    for n in 0..8 {
                        if let Ok(Object::Stream(s)) = d.get(&x, n) {
                            let _ = d.decode(&s);
                        }
                    }
                }
            }
        };
        for i in 0..b.len() {
            for v in [0u8, b'0', b'<', b'(', b'/', b'9', 0xff] {
                let mut m = b.clone();
                m[i] = v;
                run(&m);
            }
            run(&b[..i]);
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
