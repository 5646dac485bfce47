//! PDF objects and the lexer/parser of ISO 32000-1 §7.2–§7.3 (bounded, never panics).

use super::{Error, Limits};

/// An indirect reference `N G R` (ISO 32000-1 §7.3.10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ref {
    /// Object number.
    pub num: u32,
    /// Generation number.
    pub generation: u16,
}

/// A string object (§7.3.4), literal or hexadecimal.
#[derive(Clone, Debug)]
pub struct PdfString {
    /// The decoded bytes.
    pub bytes: Vec<u8>,
    /// Whether it was written as a hexadecimal string `<...>`.
    pub hex: bool,
    /// Where it was written in the file (`[start, end)`, delimiters included), when it was
    /// parsed from the file itself (not from an object stream).
    pub span: Option<(usize, usize)>,
}

/// A dictionary (§7.3.7): keys in the order written; a repeated key keeps its first value.
#[derive(Clone, Debug, Default)]
pub struct Dict(pub Vec<(Vec<u8>, Object)>);

impl Dict {
    /// The value of `key` (without the slash).
    pub fn get(&self, key: &[u8]) -> Option<&Object> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Sets `key` to `value`, replacing an existing entry.
    pub fn set(&mut self, key: &[u8], value: Object) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(e) => e.1 = value,
            None => self.0.push((key.to_vec(), value)),
        }
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: &[u8]) {
        self.0.retain(|(k, _)| k != key);
    }

    /// The name value of `key`.
    pub fn name(&self, key: &[u8]) -> Option<&[u8]> {
        match self.get(key) {
            Some(Object::Name(n)) => Some(n),
            _ => None,
        }
    }

    /// The integer value of `key`.
    pub fn int(&self, key: &[u8]) -> Option<i64> {
        match self.get(key) {
            Some(Object::Int(i)) => Some(*i),
            _ => None,
        }
    }

    /// Whether both dictionaries hold the same keys with the same values (order ignored).
    pub fn same(&self, other: &Dict) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .all(|(k, v)| other.get(k).is_some_and(|w| v.same(w)))
    }
}

/// A stream (§7.3.8): its dictionary and where its raw (still encoded) data lies in the file.
#[derive(Clone, Debug)]
pub struct Stream {
    /// The stream dictionary.
    pub dict: Dict,
    /// Offset of the first data byte in the file.
    pub start: usize,
    /// Offset after the last data byte.
    pub end: usize,
}

/// A PDF object (§7.3).
#[derive(Clone, Debug)]
pub enum Object {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A real number.
    Real(f64),
    /// A name, without its slash, `#xx` escapes decoded.
    Name(Vec<u8>),
    /// A string.
    Str(PdfString),
    /// An array.
    Array(Vec<Object>),
    /// A dictionary.
    Dict(Dict),
    /// A stream.
    Stream(Stream),
    /// An indirect reference.
    Ref(Ref),
}

impl Object {
    /// The dictionary of a dictionary or stream.
    pub fn as_dict(&self) -> Option<&Dict> {
        match self {
            Object::Dict(d) => Some(d),
            Object::Stream(s) => Some(&s.dict),
            _ => None,
        }
    }

    /// Whether two objects are equal as values (string spans and stream positions ignored;
    /// streams compare by dictionary only: compare their data separately).
    pub fn same(&self, other: &Object) -> bool {
        match (self, other) {
            (Object::Null, Object::Null) => true,
            (Object::Bool(a), Object::Bool(b)) => a == b,
            (Object::Int(a), Object::Int(b)) => a == b,
            (Object::Real(a), Object::Real(b)) => a == b,
            (Object::Int(a), Object::Real(b)) | (Object::Real(b), Object::Int(a)) => {
                (*a as f64) == *b
            }
            (Object::Name(a), Object::Name(b)) => a == b,
            (Object::Str(a), Object::Str(b)) => a.bytes == b.bytes,
            (Object::Array(a), Object::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same(y))
            }
            (Object::Dict(a), Object::Dict(b)) => a.same(b),
            (Object::Stream(a), Object::Stream(b)) => a.dict.same(&b.dict),
            (Object::Ref(a), Object::Ref(b)) => a == b,
            _ => false,
        }
    }
}

/// Whether `b` is PDF white space (§7.2.2, Table 1).
pub fn is_white(b: u8) -> bool {
    matches!(b, 0 | 9 | 10 | 12 | 13 | 32)
}

/// Whether `b` is a PDF delimiter (§7.2.2, Table 2).
pub fn is_delim(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

/// A cursor over bytes that parses objects. `base` (the file offset of `buf[0]` when `buf`
/// is a window of the file) is added to every recorded span and error offset, and spans are
/// recorded only when `in_file`.
pub struct Parser<'a> {
    /// The bytes.
    pub buf: &'a [u8],
    /// Current position in `buf`.
    pub pos: usize,
    /// The file offset of `buf[0]`.
    pub base: usize,
    /// Whether positions are file offsets (spans recorded).
    pub in_file: bool,
    limits: &'a Limits,
}

impl<'a> Parser<'a> {
    /// A parser at `pos`.
    pub fn new(buf: &'a [u8], pos: usize, in_file: bool, limits: &'a Limits) -> Self {
        Self {
            buf,
            pos,
            base: 0,
            in_file,
            limits,
        }
    }

    /// The same parser over a window of the file that starts at file offset `base`.
    pub fn with_base(mut self, base: usize) -> Self {
        self.base = base;
        self
    }

    /// Skips white space and comments.
    pub fn skip_ws(&mut self) {
        while let Some(&b) = self.buf.get(self.pos) {
            if is_white(b) {
                self.pos += 1;
            } else if b == b'%' {
                while let Some(&c) = self.buf.get(self.pos) {
                    if c == b'\n' || c == b'\r' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// The next regular-character token (keyword or number) without consuming it.
    pub fn peek_word(&mut self) -> &'a [u8] {
        self.skip_ws();
        let s = self.pos.min(self.buf.len());
        let mut e = s;
        while let Some(&b) = self.buf.get(e) {
            if is_white(b) || is_delim(b) {
                break;
            }
            e += 1;
        }
        &self.buf[s..e]
    }

    /// Consumes the keyword `kw` if it is next.
    pub fn eat_keyword(&mut self, kw: &[u8]) -> bool {
        if self.peek_word() == kw {
            self.pos += kw.len();
            true
        } else {
            false
        }
    }

    /// Reads an unsigned integer token.
    pub fn read_uint(&mut self) -> Option<u64> {
        let w = self.peek_word();
        if w.is_empty() || w.len() > 19 || !w.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.pos += w.len();
        std::str::from_utf8(w).ok()?.parse().ok()
    }

    /// Parses one object (references `N G R` recognised). Streams are not read here: a
    /// dictionary is returned and the caller checks for the `stream` keyword.
    pub fn object(&mut self, depth: usize) -> Result<Object, Error> {
        if depth > self.limits.max_depth {
            return Err(Error::Limit("nesting depth"));
        }
        self.skip_ws();
        let Some(&b) = self.buf.get(self.pos) else {
            return Err(Error::Syntax(
                "unexpected end of data",
                self.base + self.pos,
            ));
        };
        match b {
            b'/' => {
                self.pos += 1;
                Ok(Object::Name(self.name_body()))
            }
            b'(' => self.literal_string(),
            b'<' if self.buf.get(self.pos + 1) == Some(&b'<') => {
                self.pos += 2;
                let mut d = Dict::default();
                loop {
                    self.skip_ws();
                    match self.buf.get(self.pos) {
                        Some(b'>') if self.buf.get(self.pos + 1) == Some(&b'>') => {
                            self.pos += 2;
                            return Ok(Object::Dict(d));
                        }
                        Some(b'/') => {
                            self.pos += 1;
                            let k = self.name_body();
                            let v = self.object(depth + 1)?;
                            if d.0.len() >= self.limits.max_container {
                                return Err(Error::Limit("dictionary size"));
                            }
                            if d.get(&k).is_none() {
                                d.0.push((k, v));
                            }
                        }
                        None => {
                            return Err(Error::Syntax(
                                "unterminated dictionary",
                                self.base + self.pos,
                            ));
                        }
                        _ => {
                            return Err(Error::Syntax(
                                "dictionary key is not a name",
                                self.base + self.pos,
                            ));
                        }
                    }
                }
            }
            b'<' => self.hex_string(),
            b'[' => {
                self.pos += 1;
                let mut a = Vec::new();
                loop {
                    self.skip_ws();
                    match self.buf.get(self.pos) {
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Object::Array(a));
                        }
                        None => {
                            return Err(Error::Syntax("unterminated array", self.base + self.pos));
                        }
                        _ => {
                            if a.len() >= self.limits.max_container {
                                return Err(Error::Limit("array size"));
                            }
                            a.push(self.object(depth + 1)?);
                        }
                    }
                }
            }
            _ => {
                let w = self.peek_word();
                if w.is_empty() {
                    return Err(Error::Syntax("unexpected delimiter", self.base + self.pos));
                }
                match w {
                    b"true" => {
                        self.pos += 4;
                        Ok(Object::Bool(true))
                    }
                    b"false" => {
                        self.pos += 5;
                        Ok(Object::Bool(false))
                    }
                    b"null" => {
                        self.pos += 4;
                        Ok(Object::Null)
                    }
                    _ => self.number_or_ref(w),
                }
            }
        }
    }

    fn number_or_ref(&mut self, w: &'a [u8]) -> Result<Object, Error> {
        let start = self.pos;
        let n = parse_number(w).ok_or(Error::Syntax("unknown token", self.base + start))?;
        self.pos += w.len();
        if let Object::Int(num) = n
            && num >= 0
            && w.iter().all(u8::is_ascii_digit)
        {
            // Look ahead for `G R`.
            let save = self.pos;
            if let Some(g) = self.read_uint()
                && self.eat_keyword(b"R")
                && let (Ok(num), Ok(generation)) = (u32::try_from(num), u16::try_from(g))
            {
                return Ok(Object::Ref(Ref { num, generation }));
            }
            self.pos = save;
        }
        Ok(n)
    }

    fn name_body(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(&b) = self.buf.get(self.pos) {
            if is_white(b) || is_delim(b) {
                break;
            }
            self.pos += 1;
            if b == b'#'
                && let (Some(h), Some(l)) = (
                    self.buf.get(self.pos).and_then(|c| hexval(*c)),
                    self.buf.get(self.pos + 1).and_then(|c| hexval(*c)),
                )
            {
                out.push(h << 4 | l);
                self.pos += 2;
                continue;
            }
            out.push(b);
        }
        out
    }

    fn literal_string(&mut self) -> Result<Object, Error> {
        let start = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        let mut depth = 1usize;
        loop {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(Error::Syntax("unterminated string", self.base + start));
            };
            self.pos += 1;
            match b {
                b'(' => {
                    depth += 1;
                    out.push(b);
                }
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                    out.push(b);
                }
                b'\\' => {
                    let Some(&e) = self.buf.get(self.pos) else {
                        continue;
                    };
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'\r' => {
                            if self.buf.get(self.pos) == Some(&b'\n') {
                                self.pos += 1;
                            }
                        }
                        b'\n' => {}
                        b'0'..=b'7' => {
                            let mut v = u32::from(e - b'0');
                            for _ in 0..2 {
                                match self.buf.get(self.pos) {
                                    Some(&d @ b'0'..=b'7') => {
                                        v = v * 8 + u32::from(d - b'0');
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push((v & 0xff) as u8);
                        }
                        other => out.push(other),
                    }
                }
                b'\r' => {
                    // §7.3.4.2: an end-of-line in a literal string is read as LF.
                    if self.buf.get(self.pos) == Some(&b'\n') {
                        self.pos += 1;
                    }
                    out.push(b'\n');
                }
                _ => out.push(b),
            }
        }
        Ok(Object::Str(PdfString {
            bytes: out,
            hex: false,
            span: self
                .in_file
                .then_some((self.base + start, self.base + self.pos)),
        }))
    }

    fn hex_string(&mut self) -> Result<Object, Error> {
        let start = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        let mut hi: Option<u8> = None;
        loop {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(Error::Syntax(
                    "unterminated hexadecimal string",
                    self.base + start,
                ));
            };
            self.pos += 1;
            if b == b'>' {
                break;
            }
            if is_white(b) {
                continue;
            }
            let v = hexval(b).ok_or(Error::Syntax(
                "bad hexadecimal digit",
                self.base + self.pos - 1,
            ))?;
            match hi.take() {
                Some(h) => out.push(h << 4 | v),
                None => hi = Some(v),
            }
        }
        if let Some(h) = hi {
            out.push(h << 4);
        }
        Ok(Object::Str(PdfString {
            bytes: out,
            hex: true,
            span: self
                .in_file
                .then_some((self.base + start, self.base + self.pos)),
        }))
    }
}

/// The value of a hexadecimal digit.
pub fn hexval(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn parse_number(w: &[u8]) -> Option<Object> {
    let s = std::str::from_utf8(w).ok()?;
    let digits = s.trim_start_matches(['+', '-']);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    if s.len() - digits.len() > 1 || digits.bytes().filter(|&b| b == b'.').count() > 1 {
        return None;
    }
    if !digits.contains('.')
        && let Ok(i) = s.parse::<i64>()
    {
        return Some(Object::Int(i));
    }
    let t = if digits == "." { "0" } else { s };
    let t = t.strip_prefix('+').unwrap_or(t);
    let v: f64 = if t.ends_with('.') {
        format!("{t}0").parse().ok()?
    } else if t.starts_with('.') || t.starts_with("-.") {
        t.replacen('.', "0.", 1).parse().ok()?
    } else {
        t.parse().ok()?
    };
    Some(Object::Real(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &[u8]) -> Object {
        let l = Limits::default();
        Parser::new(s, 0, true, &l).object(0).unwrap()
    }

    #[test]
    fn objects() {
        let o = parse(b"<< /A 1 0 R /B [1 -2.5 (a\\(b\\)c) <414> /N#20x] /C true /D null >>");
        let d = o.as_dict().unwrap();
        assert!(matches!(
            d.get(b"A"),
            Some(Object::Ref(Ref {
                num: 1,
                generation: 0
            }))
        ));
        let Some(Object::Array(a)) = d.get(b"B") else {
            panic!()
        };
        assert!(matches!(a[1], Object::Real(v) if v == -2.5));
        assert!(matches!(&a[2], Object::Str(s) if s.bytes == b"a(b)c" && s.span == Some((23, 32))));
        assert!(matches!(&a[3], Object::Str(s) if s.bytes == [0x41, 0x40] && s.hex));
        assert!(matches!(&a[4], Object::Name(n) if n == b"N x"));
        assert!(matches!(d.get(b"C"), Some(Object::Bool(true))));
    }

    #[test]
    fn bounded() {
        let l = Limits::default();
        let deep = vec![b'['; 10_000];
        assert!(Parser::new(&deep, 0, true, &l).object(0).is_err());
        for bad in [&b"<<"[..], b"(abc", b"<12", b"<< 1 2 >>", b")", b"1 0 obj"] {
            let _ = Parser::new(bad, 0, true, &l).object(0);
        }
        assert!(matches!(parse(b"12 0 obj"), Object::Int(12)));
    }
}
