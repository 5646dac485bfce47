//! Input detection: PEM or DER/BER bytes; CMS SignedData, RFC 3161 TimeStampToken or
//! TimeStampResp.

use inkan_profiles::oid;

use crate::tlv::{self, tag};

/// Largest input accepted (a signature, token or CRL; not the signed data, which is streamed).
pub const MAX_INPUT: usize = 64 * 1024 * 1024;

/// What the signature file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A CMS SignedData (CAdES or plain) over some content.
    SignedData,
    /// An RFC 3161 TimeStampToken (a SignedData over a TSTInfo).
    TimeStampToken,
    /// An RFC 3161 TimeStampResp wrapping a token.
    TimeStampResp,
}

/// Decodes base64 (standard alphabet; whitespace ignored). `None` on any other character.
pub fn base64_decode(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut n = 0;
    for &c in text {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' | b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        n += 1;
        if n == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            n = 0;
        }
    }
    match n {
        0 => {}
        2 => out.push((acc >> 4) as u8),
        3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => return None,
    }
    Some(out)
}

/// The decoded bodies of every PEM block whose label contains `label` (any label when empty).
pub fn pem_blocks(bytes: &[u8], label: &str) -> Vec<Vec<u8>> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let Some(end_label) = after.find("-----") else {
            break;
        };
        let this_label = &after[..end_label];
        let body_start = &after[end_label + 5..];
        let Some(end) = body_start.find("-----END ") else {
            break;
        };
        let body = &body_start[..end];
        // Skip RFC 1421 headers if any.
        let body = match body.find("\n\n") {
            Some(i) if body[..i].contains(':') => &body[i..],
            _ => body,
        };
        if (label.is_empty() || this_label.contains(label))
            && let Some(d) = base64_decode(body.as_bytes())
        {
            out.push(d);
        }
        rest = &body_start[end + 9..];
    }
    out
}

/// Turns PEM (or bare base64, as some tools write) into DER; DER/BER pass through.
pub fn to_binary(bytes: &[u8]) -> Vec<u8> {
    if bytes.first() == Some(&tag::SEQUENCE) {
        return bytes.to_vec();
    }
    if let Some(b) = pem_blocks(bytes, "").into_iter().next() {
        return b;
    }
    let trimmed: Vec<u8> = bytes
        .iter()
        .copied()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if !trimmed.is_empty()
        && let Some(b) = base64_decode(&trimmed)
        && b.first() == Some(&tag::SEQUENCE)
    {
        return b;
    }
    bytes.to_vec()
}

/// Detects the kind of a binary signature file, returning the ContentInfo bytes to parse.
pub fn detect(bin: &[u8]) -> Result<(Kind, &[u8]), tlv::TlvError> {
    let (t, trailing) = tlv::parse_one(bin, 0)?;
    // Nothing may follow the structure (RFC 5652 §3, RFC 3161 §2.4.2): such bytes are signed
    // by no one, and a reader that ignores them can be shown something else. Zero padding
    // alone (files cut from fixed-size containers) carries nothing and is tolerated; the
    // report notes it.
    if trailing.iter().any(|&b| b != 0) {
        return Err(tlv::TlvError::new("bytes after the ContentInfo"));
    }
    let t = t.expect(tag::SEQUENCE)?;
    let mut r = t.children();
    let first = r.next_tlv()?;
    if first.tag == tag::OID {
        if !crate::crypto::is(first.value, &oid::ID_SIGNED_DATA) {
            return Err(tlv::TlvError::new("not a CMS SignedData"));
        }
        let kind = if crate::crypto::is(econtent_type(&t)?, &oid::ID_CT_TST_INFO) {
            Kind::TimeStampToken
        } else {
            Kind::SignedData
        };
        return Ok((kind, t.raw));
    }
    if first.tag == tag::SEQUENCE {
        // TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken OPTIONAL }
        let status = first.children().expect(tag::INTEGER)?;
        let _ = status;
        return Ok((Kind::TimeStampResp, t.raw));
    }
    Err(tlv::TlvError::new("not a CMS or RFC 3161 structure"))
}

fn econtent_type<'a>(ci: &tlv::Tlv<'a>) -> tlv::Result<&'a [u8]> {
    let mut r = ci.children();
    r.expect(tag::OID)?;
    let c = r.expect(0xa0)?;
    let sd = tlv::parse_one(c.value, 1)?.0.expect(tag::SEQUENCE)?;
    let mut sr = sd.children();
    sr.expect(tag::INTEGER)?;
    sr.expect(tag::SET)?;
    let eci = sr.expect(tag::SEQUENCE)?;
    Ok(eci.children().expect(tag::OID)?.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn b64() {
        assert_eq!(base64_decode(b"aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode(b"aGVsbA==").unwrap(), b"hell");
        assert!(base64_decode(b"a*b").is_none());
    }
}
