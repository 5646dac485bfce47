//! A tolerant, bounded reader of BER/DER TLVs over borrowed bytes.
//!
//! Real signers and TSAs emit BER (indefinite lengths, constructed OCTET STRINGs) and
//! non-canonical SET orderings that the `der` crate refuses or silently re-sorts. The verifier
//! must hash exactly the bytes it received (or their DER re-encoding where the standard says
//! so), so every structure is read here as raw TLVs that keep their original bytes.
//!
//! Shared by the workspace (the verifier re-exports it as `inkan_verifier::tlv`). Decoding is
//! tolerant BER: indefinite lengths on constructed values, non-minimal length octets, high tag
//! numbers (skipped, at most 5 tag-number octets).
//!
//! Bounds: nesting depth is limited to [`MAX_DEPTH`]; a length can never point past the end of
//! its enclosing value; nothing is allocated except when an OCTET STRING has to be
//! reassembled from BER segments, and that is bounded by the input size.

use std::borrow::Cow;
use std::fmt;

/// Deepest nesting accepted (RFC 5652 structures never need more than about 20).
pub const MAX_DEPTH: usize = 64;

/// Universal tags.
pub mod tag {
    /// BOOLEAN
    pub const BOOLEAN: u8 = 0x01;
    /// INTEGER
    pub const INTEGER: u8 = 0x02;
    /// BIT STRING
    pub const BIT_STRING: u8 = 0x03;
    /// OCTET STRING (primitive)
    pub const OCTET_STRING: u8 = 0x04;
    /// NULL
    pub const NULL: u8 = 0x05;
    /// OBJECT IDENTIFIER
    pub const OID: u8 = 0x06;
    /// ENUMERATED
    pub const ENUMERATED: u8 = 0x0a;
    /// UTCTime
    pub const UTC_TIME: u8 = 0x17;
    /// GeneralizedTime
    pub const GENERALIZED_TIME: u8 = 0x18;
    /// SEQUENCE (constructed)
    pub const SEQUENCE: u8 = 0x30;
    /// SET (constructed)
    pub const SET: u8 = 0x31;
    /// OCTET STRING (constructed, BER segments)
    pub const OCTET_STRING_C: u8 = 0x24;
    /// `[0]` context-specific, constructed
    pub const CTX0: u8 = 0xa0;
    /// `[1]` context-specific, constructed
    pub const CTX1: u8 = 0xa1;
    /// `[2]` context-specific, constructed
    pub const CTX2: u8 = 0xa2;
    /// `[3]` context-specific, constructed
    pub const CTX3: u8 = 0xa3;
}

/// Why bytes could not be read as a TLV: a fixed message from the reader, or one naming the
/// element being read (from the `*_named` accessors).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlvError(Cow<'static, str>);

impl TlvError {
    /// An error with this message (a fixed text, or one built at run time).
    pub fn new(msg: impl Into<Cow<'static, str>>) -> Self {
        Self(msg.into())
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TlvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlvError {}

impl From<TlvError> for String {
    fn from(e: TlvError) -> String {
        e.0.into_owned()
    }
}

/// Result alias for this module.
pub type Result<T> = std::result::Result<T, TlvError>;

/// One TLV: its identifier octet, its value, and all of its original bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The identifier octet (class, constructed bit and tag number below 31).
    pub tag: u8,
    /// The content octets (for an indefinite length: up to, not including, the end-of-contents).
    pub value: &'a [u8],
    /// The whole encoding as received, header and end-of-contents included.
    pub raw: &'a [u8],
    /// Whether the length was indefinite (BER).
    pub indefinite: bool,
    /// The rules this TLV was read under, which its [`Tlv::children`] keep.
    rules: Rules,
}

impl<'a> Tlv<'a> {
    /// Whether the constructed bit is set.
    pub fn constructed(&self) -> bool {
        self.tag & 0x20 != 0
    }

    /// A reader over the children of a constructed value, under the rules this TLV was read
    /// with.
    pub fn children(&self) -> Reader<'a> {
        Reader::with_rules(self.value, self.rules)
    }

    /// Every child of a constructed value, read eagerly (an error names the first bad one);
    /// an error on a primitive value.
    pub fn elements(&self) -> Result<Vec<Tlv<'a>>> {
        if !self.constructed() {
            return Err(TlvError::new(format!(
                "element with tag {:#04x} is not constructed",
                self.tag
            )));
        }
        self.children().collect()
    }

    /// Expects a given identifier octet.
    pub fn expect(self, t: u8) -> Result<Self> {
        if self.tag == t {
            Ok(self)
        } else {
            Err(TlvError::new("unexpected tag"))
        }
    }

    /// Expects a given identifier octet; the error names the element `what` and both tags.
    pub fn expect_named(self, t: u8, what: &str) -> Result<Self> {
        if self.tag == t {
            Ok(self)
        } else {
            Err(TlvError::new(format!(
                "{what}: expected tag {t:#04x}, found {:#04x}",
                self.tag
            )))
        }
    }

    /// The value of an OBJECT IDENTIFIER (X.690 §8.19); errors name the tag found or the
    /// encoding fault.
    pub fn oid(&self) -> Result<const_oid::ObjectIdentifier> {
        if self.tag != tag::OID {
            return Err(TlvError::new(format!(
                "expected OBJECT IDENTIFIER, found tag {:#04x}",
                self.tag
            )));
        }
        const_oid::ObjectIdentifier::from_bytes(self.value)
            .map_err(|e| TlvError::new(format!("bad OID: {e}")))
    }

    /// The content of an OCTET STRING, which must be one: primitive (0x04), or constructed
    /// (0x24, BER segments, X.690 §8.7.3) whose segments are OCTET STRINGs again, joined and
    /// nested at most [`MAX_DEPTH`] deep. Unlike [`Tlv::octets`], any other tag is an error.
    pub fn octet_string(&self) -> Result<Cow<'a, [u8]>> {
        if self.tag == tag::OCTET_STRING {
            return Ok(Cow::Borrowed(self.value));
        }
        let mut out = Vec::with_capacity(self.value.len());
        self.octet_string_into(&mut out, 0)?;
        Ok(Cow::Owned(out))
    }

    fn octet_string_into(&self, out: &mut Vec<u8>, depth: usize) -> Result<()> {
        match self.tag {
            tag::OCTET_STRING => {
                out.extend_from_slice(self.value);
                Ok(())
            }
            tag::OCTET_STRING_C if depth < MAX_DEPTH => {
                for c in self.children() {
                    c?.octet_string_into(out, depth + 1)?;
                }
                Ok(())
            }
            tag::OCTET_STRING_C => Err(TlvError::new("constructed OCTET STRING nested too deep")),
            t => Err(TlvError::new(format!(
                "expected OCTET STRING, found tag {t:#04x}"
            ))),
        }
    }

    /// The content of an OCTET STRING, reassembling BER constructed segments (bounded by the
    /// input size). Accepts the primitive (0x04), constructed (0x24), and the same under an
    /// implicit context tag.
    pub fn octets(&self) -> Result<Cow<'a, [u8]>> {
        if !self.constructed() {
            return Ok(Cow::Borrowed(self.value));
        }
        let mut out = Vec::new();
        collect_octets(self.value, &mut out, 0)?;
        Ok(Cow::Owned(out))
    }

    /// The value bytes of an INTEGER, without checking minimal encoding.
    pub fn integer_bytes(&self) -> Result<&'a [u8]> {
        if self.tag != tag::INTEGER || self.value.is_empty() {
            return Err(TlvError::new("expected INTEGER"));
        }
        Ok(self.value)
    }

    /// A small non-negative INTEGER or ENUMERATED.
    pub fn small_uint(&self) -> Result<u64> {
        let v = self.value;
        if v.is_empty() || v[0] & 0x80 != 0 {
            return Err(TlvError::new("integer out of range"));
        }
        // Nine octets hold a u64 only behind a leading zero octet (2^63 and up).
        let v = match v {
            [0, rest @ ..] if rest.len() == 8 => rest,
            _ if v.len() > 8 => return Err(TlvError::new("integer out of range")),
            _ => v,
        };
        Ok(v.iter().fold(0u64, |n, &b| (n << 8) | u64::from(b)))
    }

    /// The content of a BIT STRING with zero unused bits.
    pub fn bit_string_bytes(&self) -> Result<&'a [u8]> {
        if self.tag != tag::BIT_STRING || self.value.is_empty() {
            return Err(TlvError::new("expected BIT STRING"));
        }
        Ok(&self.value[1..])
    }
}

fn collect_octets(mut v: &[u8], out: &mut Vec<u8>, depth: usize) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(TlvError::new("nesting too deep"));
    }
    while !v.is_empty() {
        let (t, rest) = parse_one(v, depth + 1)?;
        if t.constructed() {
            collect_octets(t.value, out, depth + 1)?;
        } else {
            out.extend_from_slice(t.value);
        }
        v = rest;
    }
    Ok(())
}

/// What [`parse_one_with`] accepts where the workspace's readers historically differed.
///
/// Everything else is common to all rules: indefinite lengths on constructed values (walked to
/// their end-of-contents octets, so never trusted), definite lengths of at most 4 length
/// octets (non-minimal forms accepted), a length never reaching past its input, and nesting
/// bounded by [`MAX_DEPTH`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    /// Whether identifiers with a high tag number (low five bits all set) are stepped over
    /// (at most 5 tag-number octets) rather than refused. The stored [`Tlv::tag`] is the first
    /// identifier octet either way.
    pub high_tag_numbers: bool,
    /// Whether indefinite lengths (BER, X.690 §8.1.3.6) are accepted on constructed values.
    /// Without them every length is definite, as DER requires (X.690 §10.1).
    pub indefinite_lengths: bool,
}

impl Rules {
    /// The verifier's rules (and [`parse_one`]'s): high tag numbers are stepped over.
    pub const TOLERANT: Rules = Rules {
        high_tag_numbers: true,
        indefinite_lengths: true,
    };
    /// Single-octet identifiers only: a high tag number anywhere in the element (including
    /// inside an indefinite-length value) is an error. The signer's CAdES extension uses these
    /// rules (every tag in CMS, RFC 3161 and OCSP fits in one octet).
    pub const LOW_TAGS_ONLY: Rules = Rules {
        high_tag_numbers: false,
        indefinite_lengths: true,
    };
    /// Single-octet identifiers and definite lengths only: the HSM crate reads the
    /// certificates and key parameters it is configured with, which must be DER, this way.
    pub const DEFINITE_LOW_TAGS: Rules = Rules {
        high_tag_numbers: false,
        indefinite_lengths: false,
    };
}

/// Parses one TLV at the start of `input`, returning it and the rest ([`Rules::TOLERANT`]).
pub fn parse_one(input: &[u8], depth: usize) -> Result<(Tlv<'_>, &[u8])> {
    parse_one_with(input, depth, Rules::TOLERANT)
}

/// Parses one TLV at the start of `input` under `rules`, returning it and the rest. `depth` is
/// the nesting level of `input` (an error above [`MAX_DEPTH`]); the children of an
/// indefinite-length value are walked one level deeper.
pub fn parse_one_with(input: &[u8], depth: usize, rules: Rules) -> Result<(Tlv<'_>, &[u8])> {
    if depth > MAX_DEPTH {
        return Err(TlvError::new("nesting too deep"));
    }
    let first = *input
        .first()
        .ok_or(TlvError::new("truncated: missing tag"))?;
    let mut pos = 1;
    if first & 0x1f == 0x1f {
        if !rules.high_tag_numbers {
            return Err(TlvError::new("multi-byte tags are not supported"));
        }
        // High tag numbers: skip the tag number octets; readers here never need them but must
        // step over them (bounded to 5 tag-number octets).
        loop {
            let b = *input.get(pos).ok_or(TlvError::new("truncated tag"))?;
            pos += 1;
            if b & 0x80 == 0 {
                break;
            }
            if pos > 5 {
                return Err(TlvError::new("tag number too large"));
            }
        }
    }
    let lb = *input
        .get(pos)
        .ok_or(TlvError::new("truncated: missing length"))?;
    pos += 1;
    if lb == 0x80 {
        if !rules.indefinite_lengths {
            return Err(TlvError::new("indefinite length"));
        }
        if first & 0x20 == 0 {
            return Err(TlvError::new("indefinite length on a primitive value"));
        }
        // Walk children until the end-of-contents octets.
        let start = pos;
        let mut rest = &input[pos..];
        loop {
            if rest.len() >= 2 && rest[0] == 0 && rest[1] == 0 {
                let end = input.len() - rest.len();
                let tlv = Tlv {
                    tag: first,
                    value: &input[start..end],
                    raw: &input[..end + 2],
                    indefinite: true,
                    rules,
                };
                return Ok((tlv, &rest[2..]));
            }
            if rest.is_empty() {
                return Err(TlvError::new("truncated: missing end-of-contents"));
            }
            let (_, r) = parse_one_with(rest, depth + 1, rules)?;
            rest = r;
        }
    }
    let len = if lb < 0x80 {
        usize::from(lb)
    } else {
        let n = usize::from(lb & 0x7f);
        if n > 4 {
            return Err(TlvError::new("length too large"));
        }
        let mut l: usize = 0;
        for i in 0..n {
            let b = *input
                .get(pos + i)
                .ok_or(TlvError::new("truncated length"))?;
            l = (l << 8) | usize::from(b);
        }
        pos += n;
        l
    };
    let end = pos
        .checked_add(len)
        .ok_or(TlvError::new("length overflow"))?;
    if end > input.len() {
        return Err(TlvError::new("truncated: length exceeds the data"));
    }
    let tlv = Tlv {
        tag: first,
        value: &input[pos..end],
        raw: &input[..end],
        indefinite: false,
        rules,
    };
    Ok((tlv, &input[end..]))
}

/// Parses exactly one TLV filling `input` (trailing bytes are an error).
pub fn parse_exact(input: &[u8]) -> Result<Tlv<'_>> {
    parse_exact_with(input, Rules::TOLERANT)
}

/// Parses exactly one TLV filling `input` under `rules` (trailing bytes are an error); its
/// [`Tlv::children`] are read under the same rules.
pub fn parse_exact_with(input: &[u8], rules: Rules) -> Result<Tlv<'_>> {
    let (t, rest) = parse_one_with(input, 0, rules)?;
    if !rest.is_empty() {
        return Err(TlvError::new("trailing bytes after the value"));
    }
    Ok(t)
}

/// A sequential reader over the children of a constructed value.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    rest: &'a [u8],
    rules: Rules,
}

impl<'a> Reader<'a> {
    /// A reader over `bytes` ([`Rules::TOLERANT`]).
    pub fn new(bytes: &'a [u8]) -> Self {
        Self::with_rules(bytes, Rules::TOLERANT)
    }

    /// A reader over `bytes` under `rules`.
    pub fn with_rules(bytes: &'a [u8], rules: Rules) -> Self {
        Self { rest: bytes, rules }
    }

    /// Whether everything has been read.
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The next TLV, an error at the end.
    pub fn next_tlv(&mut self) -> Result<Tlv<'a>> {
        if self.rest.is_empty() {
            return Err(TlvError::new("missing element"));
        }
        let (t, r) = parse_one_with(self.rest, 1, self.rules)?;
        self.rest = r;
        Ok(t)
    }

    /// The next TLV; at the end, an error naming the missing element `what`.
    pub fn next_named(&mut self, what: &str) -> Result<Tlv<'a>> {
        if self.rest.is_empty() {
            return Err(TlvError::new(format!("{what}: missing")));
        }
        self.next_tlv()
    }

    /// The next TLV if it has identifier `t`.
    pub fn optional(&mut self, t: u8) -> Result<Option<Tlv<'a>>> {
        if self.rest.first() == Some(&t) {
            self.next_tlv().map(Some)
        } else {
            Ok(None)
        }
    }

    /// The next TLV, which must have identifier `t`.
    pub fn expect(&mut self, t: u8) -> Result<Tlv<'a>> {
        self.next_tlv()?.expect(t)
    }

    /// The next TLV, which must have identifier `t`; errors name the element `what`.
    pub fn expect_named(&mut self, t: u8, what: &str) -> Result<Tlv<'a>> {
        self.next_named(what)?.expect_named(t, what)
    }

    /// Peeks at the next identifier octet.
    pub fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// An error naming `what` unless everything has been read.
    pub fn finish(&self, what: &str) -> Result<()> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(TlvError::new(format!("{what}: trailing data")))
        }
    }
}

impl<'a> Iterator for Reader<'a> {
    type Item = Result<Tlv<'a>>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let r = self.next_tlv();
        if r.is_err() {
            self.rest = &[];
        }
        Some(r)
    }
}

/// Appends a DER length.
pub fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// Encodes `tag` + DER length + `content`.
pub fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    push_len(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

/// `tag` around the concatenation of `parts` (definite length), written into one buffer.
pub fn encode_parts<T: AsRef<[u8]>>(tag: u8, parts: &[T]) -> Vec<u8> {
    let len: usize = parts.iter().map(|p| p.as_ref().len()).sum();
    let mut out = Vec::with_capacity(len + 6);
    out.push(tag);
    push_len(&mut out, len);
    for p in parts {
        out.extend_from_slice(p.as_ref());
    }
    out
}

/// A DER INTEGER holding the non-negative number whose big-endian magnitude is `magnitude`
/// (leading zeros dropped, one added where the high bit is set: X.690 §8.3.2).
pub fn encode_uint(magnitude: &[u8]) -> Vec<u8> {
    let skip = magnitude
        .iter()
        .take_while(|&&b| b == 0)
        .count()
        .min(magnitude.len().saturating_sub(1));
    let m = &magnitude[skip..];
    let mut c = Vec::with_capacity(m.len() + 1);
    match m.first() {
        None => c.push(0),
        Some(&b) => {
            if b & 0x80 != 0 {
                c.push(0);
            }
            c.extend_from_slice(m);
        }
    }
    encode(tag::INTEGER, &c)
}

/// A DER OBJECT IDENTIFIER.
pub fn encode_oid(oid: &const_oid::ObjectIdentifier) -> Vec<u8> {
    encode(tag::OID, oid.as_bytes())
}

/// The DER encoding of a SET OF whose members are `elems` (each a full encoding): members
/// sorted as X.690 §11.6 requires.
pub fn der_set_of(tag: u8, elems: &[&[u8]]) -> Vec<u8> {
    let mut sorted: Vec<&[u8]> = elems.to_vec();
    sorted.sort_unstable();
    let total: usize = sorted.iter().map(|e| e.len()).sum();
    // Header and members written into one buffer.
    let mut out = Vec::with_capacity(total + 6);
    out.push(tag);
    push_len(&mut out, total);
    for e in sorted {
        out.extend_from_slice(e);
    }
    out
}

/// Parses an ASN.1 time (UTCTime or GeneralizedTime, with optional fractional seconds) into
/// seconds since the epoch and nanoseconds. The date must exist in the proleptic Gregorian
/// calendar (ISO 8601, which X.680 §46 follows): 2024-02-31 is an error.
pub fn parse_time(t: &Tlv<'_>) -> Result<(i64, u32)> {
    let s = std::str::from_utf8(t.value).map_err(|_| TlvError::new("time is not ASCII"))?;
    let b = s.as_bytes();
    let digits = |from: usize, n: usize| -> Result<i64> {
        let part = b
            .get(from..from + n)
            .ok_or(TlvError::new("time too short"))?;
        let mut v = 0i64;
        for &c in part {
            if !c.is_ascii_digit() {
                return Err(TlvError::new("bad digit in time"));
            }
            v = v * 10 + i64::from(c - b'0');
        }
        Ok(v)
    };
    let (year, mut p) = match t.tag {
        tag::UTC_TIME => {
            let y = digits(0, 2)?;
            (if y >= 50 { 1900 + y } else { 2000 + y }, 2)
        }
        tag::GENERALIZED_TIME => (digits(0, 4)?, 4),
        _ => return Err(TlvError::new("expected a time")),
    };
    let month = digits(p, 2)?;
    let day = digits(p + 2, 2)?;
    let hour = digits(p + 4, 2)?;
    let min = digits(p + 6, 2)?;
    p += 8;
    let mut sec = 0;
    if b.get(p).is_some_and(u8::is_ascii_digit) {
        sec = digits(p, 2)?;
        p += 2;
    }
    let mut nanos: u32 = 0;
    if matches!(b.get(p), Some(b'.') | Some(b',')) {
        p += 1;
        let mut scale = 100_000_000u32;
        let mut any = false;
        while let Some(c) = b.get(p).filter(|c| c.is_ascii_digit()) {
            nanos += u32::from(c - b'0') * scale;
            scale /= 10;
            p += 1;
            any = true;
        }
        if !any {
            return Err(TlvError::new("empty fraction in time"));
        }
    }
    let mut offset = 0i64;
    match b.get(p) {
        Some(b'Z') => p += 1,
        Some(&c) if c == b'+' || c == b'-' => {
            let oh = digits(p + 1, 2)?;
            let om = digits(p + 3, 2)?;
            offset = (oh * 60 + om) * 60 * if c == b'+' { 1 } else { -1 };
            p += 5;
        }
        _ => return Err(TlvError::new("time without zone")),
    }
    if p != b.len() {
        return Err(TlvError::new("trailing characters in time"));
    }
    if !(1..=12).contains(&month) || hour > 23 || min > 59 || sec > 60 {
        return Err(TlvError::new("time field out of range"));
    }
    // In range: checked above. The day must exist in its month (no 2024-02-31).
    let (month, day) = (month as u32, u32::try_from(day).unwrap_or(0));
    if day == 0 || day > crate::time::days_in_month(year, month) {
        return Err(TlvError::new("time field out of range"));
    }
    let days = crate::time::days_from_civil(year, month, day);
    Ok((days * 86400 + hour * 3600 + min * 60 + sec - offset, nanos))
}

/// Formats seconds since the epoch as RFC 3339 UTC.
pub fn format_time(secs: i64) -> String {
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    let (y, m, d) = crate::time::civil_from_days(days);
    let (h, mi, s) = (rem / 3600, (rem / 60) % 60, rem % 60);
    if !(0..=9999).contains(&y) {
        return format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z");
    }
    // The common case without the formatting machinery (reports format many times).
    let mut b = *b"0000-00-00T00:00:00Z";
    let mut put = |at: usize, v: i64, n: usize| {
        let mut v = v;
        for i in (0..n).rev() {
            b[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, y, 4);
    put(5, i64::from(m), 2);
    put(8, i64::from(d), 2);
    put(11, h, 2);
    put(14, mi, 2);
    put(17, s, 2);
    b.iter().map(|&c| char::from(c)).collect()
}

/// Dotted text of an OID's content octets.
pub fn oid_string(content: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(content.len() * 3);
    let mut acc: u64 = 0;
    let mut first = true;
    for &b in content {
        acc = (acc << 7) | u64::from(b & 0x7f);
        if acc > u64::MAX >> 8 {
            return "invalid-oid".into();
        }
        if b & 0x80 == 0 {
            // Writing to a String cannot fail.
            let _ = if first {
                let (a, bb) = if acc < 40 {
                    (0, acc)
                } else if acc < 80 {
                    (1, acc - 40)
                } else {
                    (2, acc - 80)
                };
                first = false;
                write!(out, "{a}.{bb}")
            } else {
                write!(out, ".{acc}")
            };
            acc = 0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoders() {
        assert_eq!(encode_uint(&[]), [2, 1, 0]);
        assert_eq!(encode_uint(&[0, 0]), [2, 1, 0]);
        assert_eq!(encode_uint(&[0, 0x7f]), [2, 1, 0x7f]);
        assert_eq!(encode_uint(&[0x80]), [2, 2, 0, 0x80]);
        assert_eq!(encode_uint(&[0, 0, 1, 0]), [2, 2, 1, 0]);
        assert_eq!(
            encode_parts(tag::SEQUENCE, &[[5u8, 0].as_slice(), &[5, 0]]),
            [0x30, 4, 5, 0, 5, 0]
        );
        let sha256 = const_oid::ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
        let der = encode_oid(&sha256);
        assert_eq!(der[0], tag::OID);
        assert_eq!(oid_string(&der[2..]), "2.16.840.1.101.3.4.2.1");
    }

    #[test]
    fn small_uint_range() {
        let int = |v: &[u8]| encode(tag::INTEGER, v);
        let val = |e: &[u8]| parse_exact(e).unwrap().small_uint();
        assert_eq!(val(&int(&[0x7f])).unwrap(), 0x7f);
        assert_eq!(val(&int(&[0, 0x80])).unwrap(), 0x80);
        assert_eq!(
            val(&int(&[0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])).unwrap(),
            i64::MAX as u64
        );
        assert_eq!(
            val(&int(&[0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])).unwrap(),
            u64::MAX
        );
        // 2^64 needs nine significant octets: refused, not truncated.
        assert!(val(&int(&[1, 0, 0, 0, 0, 0, 0, 0, 0])).is_err());
        assert!(val(&int(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 1])).is_err());
        assert!(val(&int(&[0x80])).is_err());
        assert!(val(&int(&[])).is_err());
    }

    #[test]
    fn indefinite_and_segmented_octets() {
        // SEQUENCE(indef){ OCTET STRING constructed(indef){ 04 02 'ab', 04 01 'c' } }
        let b = [
            0x30, 0x80, 0x24, 0x80, 0x04, 0x02, b'a', b'b', 0x04, 0x01, b'c', 0, 0, 0, 0,
        ];
        let t = parse_exact(&b).unwrap();
        assert!(t.indefinite);
        let mut r = t.children();
        let o = r.next_tlv().unwrap();
        assert_eq!(&*o.octets().unwrap(), b"abc");
        assert!(r.is_empty());
    }

    #[test]
    fn truncated_and_bounds() {
        assert!(parse_exact(&[0x30, 0x05, 0x01]).is_err());
        assert!(parse_exact(&[]).is_err());
        assert!(parse_exact(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
        let deep: Vec<u8> = std::iter::repeat_n([0x30u8, 0x80], 200).flatten().collect();
        assert!(parse_exact(&deep).is_err());
    }

    #[test]
    fn high_tag_numbers_by_rules() {
        // [31] primitive, one tag-number octet, length 1.
        let high = [0x9f, 0x1f, 0x01, 0xaa];
        assert_eq!(parse_exact(&high).unwrap().tag, 0x9f);
        assert!(parse_one_with(&high, 0, Rules::LOW_TAGS_ONLY).is_err());
        // The same inside an indefinite-length SEQUENCE: refused at any depth.
        let nested = [0x30, 0x80, 0x9f, 0x1f, 0x01, 0xaa, 0, 0];
        assert!(parse_exact(&nested).is_ok());
        assert!(parse_one_with(&nested, 0, Rules::LOW_TAGS_ONLY).is_err());
        // At most 5 tag-number octets.
        assert!(parse_exact(&[0x1f, 0x81, 0x81, 0x81, 0x81, 0x01, 0x00]).is_ok());
        assert!(parse_exact(&[0x1f, 0x81, 0x81, 0x81, 0x81, 0x81, 0x01, 0x00]).is_err());
        // Inside a definite length the children are not walked: both rules accept.
        let definite = [0x30, 0x04, 0x9f, 0x1f, 0x01, 0xaa];
        assert!(parse_one_with(&definite, 0, Rules::LOW_TAGS_ONLY).is_ok());
    }

    #[test]
    fn depth_bound_is_exact() {
        // n nested indefinite SEQUENCEs: the innermost is walked at depth n - 1.
        let nest = |n: usize| -> Vec<u8> {
            let mut v: Vec<u8> = std::iter::repeat_n([0x30u8, 0x80], n).flatten().collect();
            v.extend(std::iter::repeat_n(0u8, 2 * n));
            v
        };
        for rules in [Rules::TOLERANT, Rules::LOW_TAGS_ONLY] {
            assert!(parse_one_with(&nest(MAX_DEPTH + 1), 0, rules).is_ok());
            assert!(parse_one_with(&nest(MAX_DEPTH + 2), 0, rules).is_err());
        }
    }

    #[test]
    fn lengths() {
        // Non-minimal long form accepted; 5 length octets refused; primitive indefinite refused.
        assert_eq!(parse_exact(&[0x04, 0x81, 0x01, 0x07]).unwrap().value, &[7]);
        assert!(parse_exact(&[0x04, 0x85, 0, 0, 0, 0, 1, 7]).is_err());
        assert!(parse_exact(&[0x04, 0x80, 0, 0]).is_err());
        assert!(parse_exact(&[0x30, 0x80, 0]).is_err());
    }

    #[test]
    fn times() {
        let t = Tlv {
            tag: tag::GENERALIZED_TIME,
            value: b"20130814154435.557Z",
            raw: &[],
            indefinite: false,
            rules: Rules::TOLERANT,
        };
        let (s, n) = parse_time(&t).unwrap();
        assert_eq!(format_time(s), "2013-08-14T15:44:35Z");
        assert_eq!(n, 557_000_000);
        let u = Tlv {
            tag: tag::UTC_TIME,
            value: b"491231235959Z",
            raw: &[],
            indefinite: false,
            rules: Rules::TOLERANT,
        };
        assert_eq!(
            format_time(parse_time(&u).unwrap().0),
            "2049-12-31T23:59:59Z"
        );
        // Dates that do not exist are refused, leap days that do are read.
        let at = |tag, value| Tlv {
            tag,
            value,
            raw: &[],
            indefinite: false,
            rules: Rules::TOLERANT,
        };
        for bad in [
            &b"20240231000000Z"[..],
            b"20230229000000Z",
            b"20240431000000Z",
            b"21000229000000Z",
            b"20240100000000Z",
        ] {
            let e = parse_time(&at(tag::GENERALIZED_TIME, bad)).unwrap_err();
            assert_eq!(e.message(), "time field out of range");
        }
        assert!(parse_time(&at(tag::UTC_TIME, b"230229000000Z")).is_err());
        let leap = parse_time(&at(tag::GENERALIZED_TIME, b"20000229120000Z")).unwrap();
        assert_eq!(format_time(leap.0), "2000-02-29T12:00:00Z");
        assert_eq!(format_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_time(-1), "1969-12-31T23:59:59Z");
        assert_eq!(format_time(253_402_300_800), "10000-01-01T00:00:00Z");
        assert_eq!(format_time(-62_167_219_201), "-001-12-31T23:59:59Z");
    }

    #[test]
    fn oid_strings() {
        assert_eq!(
            oid_string(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d]),
            "1.2.840.113549"
        );
        assert_eq!(oid_string(&[0x55, 0x04, 0x03]), "2.5.4.3");
        assert_eq!(oid_string(&[0x06]), "0.6");
        assert_eq!(oid_string(&[]), "");
    }

    #[test]
    fn set_of_sorted() {
        let a: &[u8] = &[0x02, 0x01, 0x05];
        let b: &[u8] = &[0x02, 0x01, 0x01];
        assert_eq!(der_set_of(0x31, &[a, b]), vec![0x31, 6, 2, 1, 1, 2, 1, 5]);
    }
    #[test]
    fn named_errors_say_which_element() {
        let seq = encode_parts(tag::SEQUENCE, &[encode_uint(&[1])]);
        let t = parse_exact_with(&seq, Rules::LOW_TAGS_ONLY).unwrap();
        let mut r = t.children();
        let e = r
            .clone()
            .expect_named(tag::OID, "TSTInfo.policy")
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "TSTInfo.policy: expected tag 0x06, found 0x02"
        );
        assert_eq!(r.next_named("version").unwrap().small_uint().unwrap(), 1);
        assert_eq!(
            r.next_named("policy").unwrap_err().message(),
            "policy: missing"
        );
        r.finish("TSTInfo").unwrap();
        let e = t.children().finish("TSTInfo").unwrap_err();
        assert_eq!(String::from(e), "TSTInfo: trailing data");
        assert!(t.children().next().unwrap().unwrap().elements().is_err());
        assert_eq!(t.elements().unwrap().len(), 1);
        let oid = const_oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
        let o = encode_oid(&oid);
        assert_eq!(parse_exact(&o).unwrap().oid().unwrap(), oid);
        assert!(t.oid().unwrap_err().message().contains("found tag 0x30"));
        assert!(parse_exact(&[tag::OID, 1, 0x80]).unwrap().oid().is_err());
    }

    #[test]
    fn children_keep_the_rules() {
        // A high tag number inside a definite SEQUENCE: stepped over by the tolerant reader,
        // refused by the children of a LOW_TAGS_ONLY parse.
        let b = [0x30, 0x04, 0x9f, 0x1f, 0x01, 0xaa];
        assert!(parse_exact(&b).unwrap().children().next_tlv().is_ok());
        let strict = parse_exact_with(&b, Rules::LOW_TAGS_ONLY).unwrap();
        assert!(strict.children().next_tlv().is_err());
        assert!(strict.elements().is_err());
    }

    #[test]
    fn octet_string_checks_tags_and_depth() {
        // Definite-length constructed OCTET STRINGs nested `levels` deep around "x", built in
        // linear time: the content length of each level first, then the headers outside in.
        fn nest(levels: usize) -> Vec<u8> {
            let inner = encode(tag::OCTET_STRING, b"x");
            let mut lens = vec![inner.len()];
            for _ in 0..levels {
                let mut h = vec![tag::OCTET_STRING_C];
                push_len(&mut h, *lens.last().unwrap());
                lens.push(h.len() + lens.last().unwrap());
            }
            let mut out = Vec::with_capacity(*lens.last().unwrap());
            for &len in lens[..levels].iter().rev() {
                out.push(tag::OCTET_STRING_C);
                push_len(&mut out, len);
            }
            out.extend_from_slice(&inner);
            out
        }
        let ok = nest(MAX_DEPTH);
        assert_eq!(&*parse_exact(&ok).unwrap().octet_string().unwrap(), b"x");
        let deep = nest(MAX_DEPTH + 1);
        assert!(parse_exact(&deep).unwrap().octet_string().is_err());
        // Far deeper than any stack: an error, not an abort.
        let hostile = nest(200_000);
        assert!(parse_exact(&hostile).unwrap().octet_string().is_err());
        // Segments must be OCTET STRINGs; other tags are refused.
        let bad = [0x24, 0x03, 0x02, 0x01, 0x00];
        assert!(parse_exact(&bad).unwrap().octet_string().is_err());
        assert!(
            parse_exact(&[0x02, 0x01, 0x00])
                .unwrap()
                .octet_string()
                .is_err()
        );
        // A 70,000-octet value: three length octets.
        let big = encode(tag::OCTET_STRING, &vec![7u8; 70_000]);
        assert_eq!(&big[..5], &[0x04, 0x83, 0x01, 0x11, 0x70]);
        assert_eq!(
            parse_exact(&big).unwrap().octet_string().unwrap().len(),
            70_000
        );
    }

    #[test]
    fn definite_rules_refuse_indefinite_lengths() {
        let indef = [0x30, 0x80, 0x05, 0x00, 0, 0];
        assert!(parse_one_with(&indef, 0, Rules::LOW_TAGS_ONLY).is_ok());
        let e = parse_one_with(&indef, 0, Rules::DEFINITE_LOW_TAGS).unwrap_err();
        assert_eq!(e.message(), "indefinite length");
        // Inside a definite value, children are refused when read.
        let nested = [0x30, 0x04, 0x30, 0x80, 0, 0];
        let t = parse_exact_with(&nested, Rules::DEFINITE_LOW_TAGS).unwrap();
        assert!(t.children().next_tlv().is_err());
        assert!(parse_one_with(&[0x9f, 0x1f, 0x01, 0xaa], 0, Rules::DEFINITE_LOW_TAGS).is_err());
        // Non-minimal definite lengths stay accepted (X.690 §8.1.3.5 allows them in BER).
        assert_eq!(
            parse_exact_with(&[0x04, 0x81, 0x01, 0x07], Rules::DEFINITE_LOW_TAGS)
                .unwrap()
                .value,
            &[7]
        );
    }
}
