//! A minimal DER writer and TLV reader for the hot paths (CMS signing, certificate fields),
//! where building typed structures and re-encoding them would cost allocations, and where
//! decoding then re-encoding could silently change bytes (der re-sorts SET OF on decode).

use std::cmp::Ordering;

use inkan_profiles::asn1::tlv::{Reader, Rules, Tlv};

use crate::Error;

/// Universal and context tags used here.
pub(crate) mod tag {
    pub(crate) const INTEGER: u8 = 0x02;
    pub(crate) const OCTET_STRING: u8 = 0x04;
    pub(crate) const OID: u8 = 0x06;
    pub(crate) const UTC_TIME: u8 = 0x17;
    pub(crate) const GENERALIZED_TIME: u8 = 0x18;
    pub(crate) const SEQUENCE: u8 = 0x30;
    pub(crate) const SET: u8 = 0x31;
    pub(crate) const CTX0: u8 = 0xA0;
    pub(crate) const CTX1: u8 = 0xA1;
}

/// Bytes of a DER length for `len`.
pub(crate) const fn len_len(len: usize) -> usize {
    if len < 0x80 {
        1
    } else if len < 0x100 {
        2
    } else if len < 0x1_0000 {
        3
    } else if len < 0x100_0000 {
        4
    } else {
        5
    }
}

/// Total size of a TLV with a one-byte tag and `len` bytes of content.
pub(crate) const fn tlv_len(len: usize) -> usize {
    1 + len_len(len) + len
}

/// Writes a one-byte tag and a DER length.
pub(crate) fn header(out: &mut Vec<u8>, tag: u8, len: usize) {
    out.push(tag);
    if len < 0x80 {
        // `len < 0x80` fits a byte.
        out.push(len as u8);
    } else {
        let n = len_len(len) - 1;
        out.push(0x80 | n as u8);
        for i in (0..n).rev() {
            out.push((len >> (8 * i)) as u8);
        }
    }
}

/// Writes a whole TLV.
pub(crate) fn tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    header(out, tag, content.len());
    out.extend_from_slice(content);
}

/// A TLV as a new vector.
pub(crate) fn tlv_vec(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(tlv_len(content.len()));
    tlv(&mut v, tag, content);
    v
}

/// A TLV whose content is the concatenation of `parts`.
pub(crate) fn tlv_parts(out: &mut Vec<u8>, tag: u8, parts: &[&[u8]]) {
    let len = parts.iter().map(|p| p.len()).sum();
    header(out, tag, len);
    for p in parts {
        out.extend_from_slice(p);
    }
}

/// DER SET OF order (X.690 section 11.6): encodings compared as octet strings, the shorter
/// padded with trailing zero octets.
pub(crate) fn der_set_cmp(a: &[u8], b: &[u8]) -> Ordering {
    let n = a.len().min(b.len());
    match a[..n].cmp(&b[..n]) {
        Ordering::Equal => {}
        o => return o,
    }
    let rest_nonzero = |r: &[u8]| r.iter().any(|&x| x != 0);
    match a.len().cmp(&b.len()) {
        Ordering::Less if rest_nonzero(&b[n..]) => Ordering::Less,
        Ordering::Greater if rest_nonzero(&a[n..]) => Ordering::Greater,
        _ => Ordering::Equal,
    }
}

/// How this crate reads DER it was given (certificates, key parameters, algorithm
/// identifiers): the workspace's one TLV reader with single-octet tags and definite lengths.
pub(crate) const READ: Rules = Rules::DEFINITE_LOW_TAGS;

/// The first element of `buf` (anything after it is left unread), which must have tag `tag`;
/// errors name the element `what`.
pub(crate) fn expect<'a>(buf: &'a [u8], tag: u8, what: &str) -> Result<Tlv<'a>, Error> {
    Ok(Reader::with_rules(buf, READ).expect_named(tag, what)?)
}

/// The raw pieces of a certificate that CMS and ESS need.
pub(crate) struct CertParts<'a> {
    /// The issuer `Name`, byte for byte as in the certificate.
    pub(crate) issuer: &'a [u8],
    /// The serial number `INTEGER` TLV, byte for byte.
    pub(crate) serial: &'a [u8],
    /// The subject `Name`.
    pub(crate) subject: &'a [u8],
    /// The `SubjectPublicKeyInfo` TLV.
    pub(crate) spki: &'a [u8],
}

/// Splits a DER certificate into the fields CMS needs, without re-encoding anything.
pub(crate) fn cert_parts(cert: &[u8]) -> Result<CertParts<'_>, Error> {
    let c = expect(cert, tag::SEQUENCE, "certificate")?;
    let tbs = c.children().expect_named(tag::SEQUENCE, "tbsCertificate")?;
    let mut r = tbs.children();
    r.optional(tag::CTX0)?;
    let serial = r.expect_named(tag::INTEGER, "serialNumber")?;
    r.expect_named(tag::SEQUENCE, "signature")?;
    let issuer = r.expect_named(tag::SEQUENCE, "issuer")?;
    r.expect_named(tag::SEQUENCE, "validity")?;
    let subject = r.expect_named(tag::SEQUENCE, "subject")?;
    let spki = r.expect_named(tag::SEQUENCE, "subjectPublicKeyInfo")?;
    Ok(CertParts {
        issuer: issuer.raw,
        serial: serial.raw,
        subject: subject.raw,
        spki: spki.raw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        for len in [0usize, 1, 127, 128, 255, 256, 65535, 65536, 1 << 20] {
            let content = vec![0u8; len];
            let v = tlv_vec(0x04, &content);
            assert_eq!(v.len(), tlv_len(len));
            let t = expect(&v, 0x04, "OCTET STRING").unwrap();
            assert_eq!(t.value.len(), len);
            assert_eq!(t.raw.len(), v.len());
        }
        assert!(expect(&[0x04, 0x81], 0x04, "x").is_err());
        assert!(expect(&[0x04, 0x05, 0], 0x04, "x").is_err());
        // DER only: an indefinite length is refused.
        assert!(expect(&[0x30, 0x80, 0, 0], 0x30, "x").is_err());
    }

    #[test]
    fn set_order() {
        assert_eq!(der_set_cmp(&[1, 2], &[1, 2, 0]), Ordering::Equal);
        assert_eq!(der_set_cmp(&[1, 2], &[1, 2, 1]), Ordering::Less);
        assert_eq!(der_set_cmp(&[2], &[1, 9]), Ordering::Greater);
    }
}
