//! A small reader and writer of BER/DER tag-length-value elements that keeps the original bytes.
//!
//! CAdES extension must keep the signer's `SignerInfo` (signed attributes, signature value) byte
//! for byte, and the archive-time-stamp-v3 hash input is made of original encodings. Decoding into
//! typed values and re-encoding would silently re-sort SET OFs or normalise encodings, so the
//! structures this crate edits are walked here as raw elements and rebuilt by splicing.
//!
//! The reading itself is the workspace's one TLV reader, [`inkan_profiles::asn1::tlv`], under
//! [`Rules::LOW_TAGS_ONLY`]: only single-byte tags are accepted (every tag in CMS, RFC 3161 and
//! OCSP fits). Indefinite lengths (BER, e.g. from `openssl cms -stream`) are accepted on input;
//! output is always definite. Nesting depth is bounded (every element read here starts at depth
//! 0), so hostile input cannot exhaust the stack. This module keeps the signer's own view on top
//! of it: errors that name the element being read, eager `children`, and OCTET STRING and
//! INTEGER accessors that check the tag.

use std::fmt;

use inkan_profiles::asn1::tlv::{self as shared, Rules};

/// Deepest nesting of constructed OCTET STRING segments [`Tlv::octets`] joins, the depth bound of
/// the shared reader (`inkan_profiles::asn1::tlv`); real BER encoders nest one level.
pub const OCTETS_MAX_DEPTH: usize = 64;
/// Appends a DER length; a DER element around some contents (the shared writer).
pub use inkan_profiles::asn1::tlv::{encode, encode_oid, encode_parts, encode_uint, push_len, tag};

/// Why bytes could not be read as BER.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DerError(pub String);

impl fmt::Display for DerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DerError {}

fn err<T>(msg: impl Into<String>) -> Result<T, DerError> {
    Err(DerError(msg.into()))
}

/// One element: its tag, its whole encoding and its contents (both borrowed from the input).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The identifier octet.
    pub tag: u8,
    /// Tag, length and contents, exactly as in the input (end-of-contents octets included).
    pub raw: &'a [u8],
    /// The contents octets (for an indefinite length, without the end-of-contents octets).
    pub value: &'a [u8],
}

impl<'a> Tlv<'a> {
    /// Whether the constructed bit is set.
    pub fn constructed(&self) -> bool {
        self.tag & 0x20 != 0
    }

    /// The elements inside a constructed element.
    pub fn children(&self) -> Result<Vec<Tlv<'a>>, DerError> {
        if !self.constructed() {
            return err(format!(
                "element with tag {:#04x} is not constructed",
                self.tag
            ));
        }
        read_all(self.value)
    }

    /// A reader over the contents.
    pub fn reader(&self) -> Reader<'a> {
        Reader { rest: self.value }
    }

    /// Fails unless the tag is `t`.
    pub fn expect(self, t: u8, what: &str) -> Result<Self, DerError> {
        if self.tag == t {
            Ok(self)
        } else {
            err(format!(
                "{what}: expected tag {t:#04x}, found {:#04x}",
                self.tag
            ))
        }
    }

    /// The octets of an OCTET STRING, joining BER constructed segments (nested at most
    /// [`OCTETS_MAX_DEPTH`] deep: a stranger's file must not exhaust the stack).
    pub fn octets(&self) -> Result<Vec<u8>, DerError> {
        let mut out = Vec::with_capacity(self.value.len());
        self.octets_into(&mut out, 0)?;
        Ok(out)
    }

    fn octets_into(&self, out: &mut Vec<u8>, depth: usize) -> Result<(), DerError> {
        match self.tag {
            tag::OCTET_STRING => {
                out.extend_from_slice(self.value);
                Ok(())
            }
            tag::OCTET_STRING_C if depth < OCTETS_MAX_DEPTH => {
                for c in self.children()? {
                    c.octets_into(out, depth + 1)?;
                }
                Ok(())
            }
            tag::OCTET_STRING_C => err("constructed OCTET STRING nested too deep"),
            t => err(format!("expected OCTET STRING, found tag {t:#04x}")),
        }
    }

    /// An INTEGER's contents as an unsigned value, if it is non-negative and fits in a `u64`.
    pub fn small_uint(&self) -> Result<u64, DerError> {
        if self.tag != tag::INTEGER || self.value.is_empty() || self.value[0] & 0x80 != 0 {
            return err("expected a non-negative INTEGER");
        }
        let v = strip_leading_zeros(self.value);
        if v.len() > 8 {
            return err("INTEGER too large");
        }
        Ok(v.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }
}

fn strip_leading_zeros(mut v: &[u8]) -> &[u8] {
    while v.len() > 1 && v[0] == 0 {
        v = &v[1..];
    }
    v
}

/// Sequential reading of elements.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `input`.
    pub fn new(input: &'a [u8]) -> Self {
        Self { rest: input }
    }

    /// Whether everything has been read.
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The next element.
    pub fn next_tlv(&mut self, what: &str) -> Result<Tlv<'a>, DerError> {
        if self.rest.is_empty() {
            return err(format!("{what}: missing"));
        }
        let (t, rest) = read_tlv(self.rest, 0)?;
        self.rest = rest;
        Ok(t)
    }

    /// The next element, which must carry tag `t`.
    pub fn expect(&mut self, t: u8, what: &str) -> Result<Tlv<'a>, DerError> {
        self.next_tlv(what)?.expect(t, what)
    }

    /// The next element if it carries tag `t`.
    pub fn optional(&mut self, t: u8) -> Result<Option<Tlv<'a>>, DerError> {
        if self.rest.first() == Some(&t) {
            let (x, rest) = read_tlv(self.rest, 0)?;
            self.rest = rest;
            Ok(Some(x))
        } else {
            Ok(None)
        }
    }

    /// The tag of the next element, if any.
    pub fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// Fails if anything is left.
    pub fn finish(&self, what: &str) -> Result<(), DerError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            err(format!("{what}: trailing data"))
        }
    }
}

/// Reads exactly one element spanning all of `input`.
pub fn parse_one(input: &[u8]) -> Result<Tlv<'_>, DerError> {
    let (t, rest) = read_tlv(input, 0)?;
    if !rest.is_empty() {
        return err("trailing data after the outer element");
    }
    Ok(t)
}

/// Reads every element of `input`.
pub fn read_all(input: &[u8]) -> Result<Vec<Tlv<'_>>, DerError> {
    let mut out = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        let (t, r) = read_tlv(rest, 0)?;
        out.push(t);
        rest = r;
    }
    Ok(out)
}

fn read_tlv(input: &[u8], depth: usize) -> Result<(Tlv<'_>, &[u8]), DerError> {
    let (t, rest) = shared::parse_one_with(input, depth, Rules::LOW_TAGS_ONLY)
        .map_err(|e| DerError(e.0.into()))?;
    Ok((
        Tlv {
            tag: t.tag,
            raw: t.raw,
            value: t.value,
        },
        rest,
    ))
}

/// Parses the contents of an OBJECT IDENTIFIER element.
pub fn oid(t: &Tlv<'_>) -> Result<const_oid::ObjectIdentifier, DerError> {
    if t.tag != tag::OID {
        return err(format!(
            "expected OBJECT IDENTIFIER, found tag {:#04x}",
            t.tag
        ));
    }
    const_oid::ObjectIdentifier::from_bytes(t.value).map_err(|e| DerError(format!("bad OID: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_definite() {
        let inner = encode(tag::OCTET_STRING, &[1, 2, 3]);
        let outer = encode_parts(tag::SEQUENCE, &[inner.clone(), encode_uint(&[0x80])]);
        let t = parse_one(&outer).unwrap();
        let kids = t.children().unwrap();
        assert_eq!(kids[0].raw, &inner[..]);
        assert_eq!(kids[1].value, &[0, 0x80]);
        assert_eq!(kids[1].small_uint().unwrap(), 0x80);
    }

    #[test]
    fn nested_octet_strings_are_bounded() {
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
        let ok = nest(OCTETS_MAX_DEPTH);
        assert_eq!(parse_one(&ok).unwrap().octets().unwrap(), b"x");
        let deep = nest(OCTETS_MAX_DEPTH + 1);
        assert!(parse_one(&deep).unwrap().octets().is_err());
        // Far deeper than any stack: an error, not an abort.
        let hostile = nest(200_000);
        assert!(parse_one(&hostile).unwrap().octets().is_err());
    }

    #[test]
    fn long_lengths() {
        let big = vec![7u8; 70_000];
        let e = encode(tag::OCTET_STRING, &big);
        assert_eq!(&e[..5], &[0x04, 0x83, 0x01, 0x11, 0x70]);
        assert_eq!(parse_one(&e).unwrap().value.len(), 70_000);
    }

    #[test]
    fn indefinite_and_constructed_octets() {
        // SEQUENCE (indefinite) { OCTET STRING (constructed, indefinite) { "ab", "c" } }
        let data = [
            0x30, 0x80, 0x24, 0x80, 0x04, 0x02, b'a', b'b', 0x04, 0x01, b'c', 0, 0, 0, 0,
        ];
        let t = parse_one(&data).unwrap();
        let kids = t.children().unwrap();
        assert_eq!(kids.len(), 1);
        assert_eq!(kids[0].octets().unwrap(), b"abc");
    }

    #[test]
    fn hostile_inputs_fail_cleanly() {
        assert!(parse_one(&[0x30, 0x05, 0x01]).is_err());
        assert!(parse_one(&[0x30, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9]).is_err());
        assert!(parse_one(&[0x04, 0x80, 0, 0]).is_err());
        let deep: Vec<u8> = std::iter::repeat_n([0x30u8, 0x80], 200).flatten().collect();
        assert!(parse_one(&deep).is_err());
        assert!(parse_one(&[0x1f, 0x01, 0x00]).is_err());
        // Refused inside an indefinite length too (the shared reader's LOW_TAGS_ONLY rules).
        assert!(parse_one(&[0x30, 0x80, 0x1f, 0x01, 0x00, 0x00, 0x00]).is_err());
        // Depth: 65 nested indefinite SEQUENCEs read, 66 refused.
        let nest = |n: usize| -> Vec<u8> {
            let mut v: Vec<u8> = std::iter::repeat_n([0x30u8, 0x80], n).flatten().collect();
            v.extend(std::iter::repeat_n(0u8, 2 * n));
            v
        };
        assert!(parse_one(&nest(65)).is_ok());
        assert!(parse_one(&nest(66)).is_err());
        assert!(parse_one(&[]).is_err());
    }

    #[test]
    fn set_of_sorted() {
        let s = inkan_profiles::asn1::tlv::der_set_of(
            tag::SET,
            &[&[0x04, 0x01, 0x02], &[0x02, 0x01, 0x01]],
        );
        assert_eq!(s, [0x31, 0x06, 0x02, 0x01, 0x01, 0x04, 0x01, 0x02]);
    }
}
