//! Distinguished names from text, for `inkan-hsm csr --subject` and the development PKI.
//!
//! Two spellings are accepted: OpenSSL's slash form, most significant first
//! (`/C=JP/O=Example/CN=TSA 1`), and RFC 4514, least significant first
//! (`CN=TSA 1,O=Example,C=JP`). Attribute names: `C`, `ST`, `L`, `O`, `OU`, `CN`,
//! `serialNumber`, `organizationIdentifier`, `DC`, or a dotted OID. `C` is a PrintableString
//! (two letters), `serialNumber` a PrintableString, `DC` an IA5String, everything else UTF8String
//! (RFC 5280 section 4.1.2.4), so Japanese names pass unchanged. A backslash escapes the next
//! character.

use const_oid::ObjectIdentifier;

use crate::Error;
use crate::derw::{self, tag};

const OID_C: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.6");
const OID_SERIAL: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.5");
const OID_DC: ObjectIdentifier = ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.25");

/// A distinguished name: relative names from the most significant (e.g. `C`) to the least
/// (e.g. `CN`), one attribute each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DistinguishedName(pub Vec<(ObjectIdentifier, String)>);

fn attr_oid(name: &str) -> Result<ObjectIdentifier, Error> {
    let oid = match name.to_ascii_lowercase().as_str() {
        "c" | "countryname" => "2.5.4.6",
        "st" | "stateorprovincename" => "2.5.4.8",
        "l" | "localityname" => "2.5.4.7",
        "o" | "organizationname" => "2.5.4.10",
        "ou" | "organizationalunitname" => "2.5.4.11",
        "cn" | "commonname" => "2.5.4.3",
        "serialnumber" => "2.5.4.5",
        "organizationidentifier" => "2.5.4.97",
        "dc" | "domaincomponent" => "0.9.2342.19200300.100.1.25",
        other => {
            return ObjectIdentifier::new(other).map_err(|_| {
                Error::Encoding(format!(
                    "unknown name attribute {other:?} (use C, ST, L, O, OU, CN, serialNumber, \
                     organizationIdentifier, DC or a dotted OID)"
                ))
            });
        }
    };
    // The table holds valid OIDs only.
    ObjectIdentifier::new(oid).map_err(|e| Error::Encoding(e.to_string()))
}

/// Splits on unescaped `sep`, unescaping `\x` to `x`.
fn split_escaped(s: &str, sep: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let (Some(n), Some(last)) = (chars.next(), parts.last_mut()) {
                last.push('\\');
                last.push(n);
            }
        } else if c == sep {
            parts.push(String::new());
        } else if let Some(last) = parts.last_mut() {
            last.push(c);
        }
    }
    parts
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl DistinguishedName {
    /// Parses `/C=JP/O=x/CN=y` or `CN=y,O=x,C=JP`.
    pub fn parse(s: &str) -> Result<Self, Error> {
        let s = s.trim();
        let (parts, reverse) = if let Some(rest) = s.strip_prefix('/') {
            (split_escaped(rest, '/'), false)
        } else {
            (split_escaped(s, ','), true)
        };
        let mut out = Vec::with_capacity(parts.len());
        for p in parts {
            let p = p.trim();
            if p.is_empty() {
                continue;
            }
            let (k, v) = p
                .split_once('=')
                .ok_or_else(|| Error::Encoding(format!("name part without '=': {p:?}")))?;
            let oid = attr_oid(k.trim())?;
            let v = unescape(v.trim());
            if v.is_empty() {
                return Err(Error::Encoding(format!("empty value for {}", k.trim())));
            }
            if oid == OID_C && (v.len() != 2 || !v.bytes().all(|b| b.is_ascii_uppercase())) {
                return Err(Error::Encoding(format!(
                    "C must be a two-letter country code, not {v:?}"
                )));
            }
            out.push((oid, v));
        }
        if out.is_empty() {
            return Err(Error::Encoding("empty distinguished name".into()));
        }
        if reverse {
            out.reverse();
        }
        Ok(Self(out))
    }

    /// Builds a name from (OID, value) pairs, most significant first.
    pub fn new(attrs: &[(ObjectIdentifier, &str)]) -> Self {
        Self(attrs.iter().map(|(o, v)| (*o, (*v).to_owned())).collect())
    }

    /// The DER `Name` (an RDNSequence, one attribute per RDN).
    pub fn to_der(&self) -> Vec<u8> {
        let mut rdns = Vec::new();
        for (oid, v) in &self.0 {
            let printable = v
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b));
            let vtag = if *oid == OID_C || (*oid == OID_SERIAL && printable) {
                0x13 // PrintableString
            } else if *oid == OID_DC && v.is_ascii() {
                0x16 // IA5String
            } else {
                0x0C // UTF8String
            };
            let mut atv = Vec::new();
            let o = derw::tlv_vec(tag::OID, oid.as_bytes());
            let val = derw::tlv_vec(vtag, v.as_bytes());
            derw::tlv_parts(&mut atv, tag::SEQUENCE, &[&o, &val]);
            derw::tlv(&mut rdns, tag::SET, &atv);
        }
        derw::tlv_vec(tag::SEQUENCE, &rdns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings() {
        let a = DistinguishedName::parse("/C=JP/O=株式会社インカン/CN=TSA 1").unwrap();
        let b = DistinguishedName::parse("CN=TSA 1, O=株式会社インカン, C=JP").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.0[0].1, "JP");
        let c = DistinguishedName::parse("CN=a\\,b,O=x").unwrap();
        assert_eq!(c.0[1].1, "a,b");
        assert!(DistinguishedName::parse("CN").is_err());
        assert!(DistinguishedName::parse("C=Japan").is_err());
        assert!(DistinguishedName::parse("XX=1").is_err());
        assert!(DistinguishedName::parse("1.2.3.4=x").is_ok());
    }
}
