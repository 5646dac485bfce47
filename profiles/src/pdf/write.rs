//! Serialising objects and appending an incremental update (ISO 32000-1 §7.5.6) that leaves
//! every earlier byte as it was.

use super::{Dict, Object, Xref, XrefKind};

/// Writes `o` in PDF syntax.
pub fn serialize(o: &Object, out: &mut Vec<u8>) {
    match o {
        Object::Null => out.extend_from_slice(b"null"),
        Object::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Object::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Object::Real(r) => {
            let s = format!("{r:.6}");
            let s = s.trim_end_matches('0').trim_end_matches('.');
            out.extend_from_slice(if s.is_empty() || s == "-" {
                b"0"
            } else {
                s.as_bytes()
            });
        }
        Object::Name(n) => name(n, out),
        Object::Str(s) => {
            out.push(b'<');
            for b in &s.bytes {
                out.extend_from_slice(format!("{b:02X}").as_bytes());
            }
            out.push(b'>');
        }
        Object::Array(a) => {
            out.push(b'[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                serialize(x, out);
            }
            out.push(b']');
        }
        Object::Dict(d) => dict(d, out),
        // A stream cannot be re-serialised without its data; writers use [`Update::add_stream`].
        Object::Stream(s) => dict(&s.dict, out),
        Object::Ref(r) => out.extend_from_slice(format!("{} {} R", r.num, r.generation).as_bytes()),
    }
}

fn dict(d: &Dict, out: &mut Vec<u8>) {
    out.extend_from_slice(b"<<");
    for (k, v) in &d.0 {
        name(k, out);
        out.push(b' ');
        serialize(v, out);
    }
    out.extend_from_slice(b">>");
}

/// Writes a name, escaping what §7.3.5 requires.
pub fn name(n: &[u8], out: &mut Vec<u8>) {
    out.push(b'/');
    for &b in n {
        if b <= b' ' || b >= 0x7f || b == b'#' || super::object::is_delim(b) {
            out.extend_from_slice(format!("#{b:02X}").as_bytes());
        } else {
            out.push(b);
        }
    }
}

/// A PDF text string (§7.9.2.2): ASCII as is, else UTF-16BE with a byte-order mark.
pub fn text_string(s: &str) -> Object {
    let bytes = if s.is_ascii() {
        s.as_bytes().to_vec()
    } else {
        let mut v = vec![0xfe, 0xff];
        for u in s.encode_utf16() {
            v.extend_from_slice(&u.to_be_bytes());
        }
        v
    };
    Object::Str(super::PdfString {
        bytes,
        hex: true,
        span: None,
    })
}

/// An incremental update being built: new or replaced objects, then a cross-reference
/// section of the same kind as the file's last one, the trailer with `/Prev`, `startxref`
/// and `%%EOF` followed by one LF (covered by a later signature's ByteRange).
pub struct Update<'a> {
    base: &'a [u8],
    base_len: usize,
    prev: &'a Xref,
    prev_offset: usize,
    /// The appended bytes (after the original file).
    pub out: Vec<u8>,
    objects: Vec<(u32, u16, usize)>,
    next_num: u32,
}

impl<'a> Update<'a> {
    /// Starts an update of `base`, whose newest cross-reference view is `prev` at
    /// `prev_offset`.
    pub fn new(base: &'a [u8], prev: &'a Xref, prev_offset: usize) -> Self {
        let mut u = Self::after(base.len(), base.last().copied(), prev, prev_offset);
        u.base = base;
        u
    }

    /// Starts an update of a file of `base_len` bytes whose last byte is `last`, held
    /// elsewhere (on disk): [`Update::finish_tail`] gives the bytes to append to it.
    pub fn after(base_len: usize, last: Option<u8>, prev: &'a Xref, prev_offset: usize) -> Self {
        let mut out = Vec::new();
        // §7.5.5: `%%EOF` ends a line; add one LF when the file lacks a final end-of-line.
        if !matches!(last, Some(b'\n' | b'\r')) {
            out.push(b'\n');
        }
        Self {
            base: &[],
            base_len,
            prev,
            prev_offset,
            out,
            objects: Vec::new(),
            next_num: prev.size().max(1),
        }
    }

    /// A fresh object number.
    pub fn alloc(&mut self) -> u32 {
        let n = self.next_num;
        self.next_num += 1;
        n
    }

    /// The file offset where the next appended byte goes.
    pub fn offset(&self) -> usize {
        self.base_len + self.out.len()
    }

    /// The generation to write for `num`: kept when an existing object is replaced.
    fn gen_of(&self, num: u32) -> u16 {
        match self.prev.entries.get(&num) {
            Some(super::Entry::InFile { generation, .. }) => *generation,
            _ => 0,
        }
    }

    /// Appends object `num` whose body (between `obj` and `endobj`) is `body`; returns the
    /// file offset of the body's first byte.
    pub fn add_raw(&mut self, num: u32, body: &[u8]) -> usize {
        let generation = self.gen_of(num);
        let at = self.offset();
        self.objects.push((num, generation, at));
        self.out
            .extend_from_slice(format!("{num} {generation} obj\n").as_bytes());
        let body_at = self.offset();
        self.out.extend_from_slice(body);
        self.out.extend_from_slice(b"\nendobj\n");
        body_at
    }

    /// Appends object `num`.
    pub fn add(&mut self, num: u32, o: &Object) {
        let mut b = Vec::new();
        serialize(o, &mut b);
        self.add_raw(num, &b);
    }

    /// Appends a stream object with unencoded `data`.
    pub fn add_stream(&mut self, num: u32, mut d: Dict, data: &[u8]) {
        d.remove(b"Filter");
        d.remove(b"DecodeParms");
        d.set(b"Length", Object::Int(data.len() as i64));
        let mut b = Vec::new();
        dict(&d, &mut b);
        b.extend_from_slice(b"\nstream\n");
        b.extend_from_slice(data);
        b.extend_from_slice(b"\nendstream");
        self.add_raw(num, &b);
    }

    /// Writes the cross-reference section and trailer; returns the whole new file (for an
    /// update started with [`Update::new`]).
    pub fn finish(self) -> Vec<u8> {
        let base = self.base;
        let out = self.finish_tail();
        let mut all = Vec::with_capacity(base.len() + out.len());
        all.extend_from_slice(base);
        all.extend_from_slice(&out);
        all
    }

    /// Writes the cross-reference section and trailer; returns the bytes to append to the
    /// file.
    pub fn finish_tail(mut self) -> Vec<u8> {
        let mut trailer = Dict::default();
        for k in [&b"Root"[..], b"Info", b"ID"] {
            if let Some(v) = self.prev.trailer.get(k) {
                trailer.set(k, v.clone());
            }
        }
        trailer.set(b"Prev", Object::Int(self.prev_offset as i64));
        let xref_at;
        if self.prev.kind == Some(XrefKind::Stream) {
            // §7.5.8: an uncompressed cross-reference stream listing the new objects and itself.
            let me = self.alloc();
            xref_at = self.offset();
            self.objects.push((me, 0, xref_at));
            self.objects.sort_by_key(|o| o.0);
            let mut data = Vec::new();
            for (_, generation, off) in &self.objects {
                data.push(1);
                data.extend_from_slice(&(*off as u64).to_be_bytes()[3..]);
                data.extend_from_slice(&generation.to_be_bytes());
            }
            trailer.set(b"Type", Object::Name(b"XRef".to_vec()));
            trailer.set(b"Size", Object::Int(i64::from(self.next_num)));
            trailer.set(
                b"W",
                Object::Array(vec![Object::Int(1), Object::Int(5), Object::Int(2)]),
            );
            trailer.set(b"Index", Object::Array(self.index()));
            trailer.set(b"Length", Object::Int(data.len() as i64));
            let mut b = format!("{me} 0 obj\n").into_bytes();
            dict(&trailer, &mut b);
            b.extend_from_slice(b"\nstream\n");
            b.extend_from_slice(&data);
            b.extend_from_slice(b"\nendstream\nendobj\n");
            self.out.extend_from_slice(&b);
        } else {
            self.objects.sort_by_key(|o| o.0);
            xref_at = self.offset();
            let mut b = b"xref\n".to_vec();
            let mut i = 0;
            while i < self.objects.len() {
                let mut j = i;
                while j + 1 < self.objects.len() && self.objects[j + 1].0 == self.objects[j].0 + 1 {
                    j += 1;
                }
                b.extend_from_slice(format!("{} {}\n", self.objects[i].0, j - i + 1).as_bytes());
                for (_, generation, off) in &self.objects[i..=j] {
                    // §7.5.4: each entry is exactly 20 bytes.
                    b.extend_from_slice(format!("{off:010} {generation:05} n\r\n").as_bytes());
                }
                i = j + 1;
            }
            trailer.set(b"Size", Object::Int(i64::from(self.next_num)));
            b.extend_from_slice(b"trailer\n");
            dict(&trailer, &mut b);
            b.push(b'\n');
            self.out.extend_from_slice(&b);
        }
        self.out
            .extend_from_slice(format!("startxref\n{xref_at}\n%%EOF\n").as_bytes());
        self.out
    }

    fn index(&self) -> Vec<Object> {
        let mut v = Vec::new();
        let mut i = 0;
        while i < self.objects.len() {
            let mut j = i;
            while j + 1 < self.objects.len() && self.objects[j + 1].0 == self.objects[j].0 + 1 {
                j += 1;
            }
            v.push(Object::Int(i64::from(self.objects[i].0)));
            v.push(Object::Int((j - i + 1) as i64));
            i = j + 1;
        }
        v
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::Document;
    use super::*;

    /// A one-page PDF with a classic cross-reference table.
    pub(crate) fn minimal_pdf() -> Vec<u8> {
        let objs = [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
            "<< /Length 8 >>\nstream\nBT ET q Q\nendstream",
        ];
        inkan_test_support::classic_pdf(&objs)
    }

    #[test]
    fn update_keeps_prefix_and_reads_back() {
        let b = minimal_pdf();
        let d = Document::new(&b).unwrap();
        let x = d.xref().unwrap();
        let mut u = Update::new(&b, &x, d.last_startxref().unwrap());
        let n = u.alloc();
        u.add(n, &text_string("封印"));
        let mut root = d.dict_of(&x, x.trailer.get(b"Root")).unwrap();
        root.set(
            b"Extra",
            Object::Ref(super::super::Ref {
                num: n,
                generation: 0,
            }),
        );
        u.add(1, &Object::Dict(root));
        let all = u.finish();
        assert_eq!(&all[..b.len()], &b[..]);
        let d2 = Document::new(&all).unwrap();
        let x2 = d2.xref().unwrap();
        assert_eq!(d2.revisions().len(), 2);
        let root = d2.dict_of(&x2, x2.trailer.get(b"Root")).unwrap();
        let Some(Object::Str(s)) = root.get(b"Extra").map(|o| d2.resolve(&x2, o).unwrap()) else {
            panic!()
        };
        assert_eq!(s.bytes[..2], [0xfe, 0xff]);
    }
}
