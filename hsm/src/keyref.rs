//! `KEYREF`: which key to use, as one string (the `--key` argument of every binary; see the manual pages).
//!
//! Either a file path (a PKCS#8 private key in PEM) or an RFC 7512 `pkcs11:` URI:
//!
//! ```text
//! pkcs11:token=inkan;object=tsa-2026;id=%01?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=env:INKAN_PIN
//! ```
//!
//! Path attributes (RFC 7512 section 2.3): `token`, `object`, `id` (percent-encoded bytes),
//! `slot-id`, `type` (only `private` makes sense here), `serial`, `manufacturer`, `model`.
//! Query attributes: `module-path`, `pin-value`, `pin-source` (`env:NAME` or a file path).
//! Vendor attributes (`x-…`) are ignored as RFC 7512 allows; every other attribute is an error.
//! The PIN never appears in `Debug` or `Display` output.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use zeroize::Zeroizing;

use crate::Error;

/// Where a key lives.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyRef {
    /// A PKCS#8 private key in a PEM file.
    File(PathBuf),
    /// A private key on a PKCS#11 token.
    Pkcs11(Pkcs11Uri),
}

/// A parsed RFC 7512 `pkcs11:` URI naming a private key.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Pkcs11Uri {
    /// `token=`: the token label.
    pub token: Option<String>,
    /// `object=`: the key's `CKA_LABEL`.
    pub object: Option<String>,
    /// `id=`: the key's `CKA_ID` bytes.
    pub id: Option<Vec<u8>>,
    /// `slot-id=`: the slot number.
    pub slot_id: Option<u64>,
    /// `serial=`: the token serial number.
    pub serial: Option<String>,
    /// `manufacturer=`: the token manufacturer.
    pub manufacturer: Option<String>,
    /// `model=`: the token model.
    pub model: Option<String>,
    /// `module-path=`: the PKCS#11 library to load.
    pub module_path: Option<PathBuf>,
    /// Where the user PIN comes from, if any.
    pub pin: Option<PinSource>,
}

/// Where a PKCS#11 user PIN comes from. `Debug` never shows a PIN value.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PinSource {
    /// `pin-value=`: the PIN itself (discouraged: it ends up in shell histories).
    Value(Zeroizing<String>),
    /// `pin-source=env:NAME`: the named environment variable.
    Env(String),
    /// `pin-source=PATH` (or `file:PATH`): the first line of a file.
    File(PathBuf),
}

/// Longest PIN file read, in bytes: a PIN is short; a larger file is a mistake.
const MAX_PIN_FILE: u64 = 4096;

impl PinSource {
    /// Parses a `pin-source` value: `env:NAME`, `file:PATH` or a bare file path (RFC 7512
    /// §2.4 names `pin-source` a URI; `env:` is this project's addition, as in the URI).
    ///
    /// # Errors
    /// An empty value or an `env:` without a variable name.
    pub fn parse(v: &str) -> Result<Self, Error> {
        if let Some(n) = v.strip_prefix("env:") {
            if n.is_empty() {
                return Err(bad("pin-source=env: needs a variable name"));
            }
            Ok(Self::Env(n.to_owned()))
        } else if let Some(p) = v.strip_prefix("file:") {
            Ok(Self::File(PathBuf::from(p.trim_start_matches("//"))))
        } else if v.is_empty() {
            Err(bad("pin-source is empty"))
        } else {
            Ok(Self::File(PathBuf::from(v)))
        }
    }

    /// Reads the PIN now. Errors name the variable or the file, never the PIN.
    pub fn resolve(&self) -> Result<Zeroizing<String>, Error> {
        match self {
            Self::Value(v) => Ok(v.clone()),
            Self::Env(name) => match std::env::var(name) {
                Ok(v) => Ok(Zeroizing::new(v)),
                Err(_) => Err(Error::PinUnavailable(format!(
                    "environment variable {name} is not set (or not UTF-8)"
                ))),
            },
            Self::File(path) => {
                use std::io::Read;
                let f = std::fs::File::open(path).map_err(|e| {
                    Error::PinUnavailable(format!("cannot open PIN file {}: {e}", path.display()))
                })?;
                let mut buf = Zeroizing::new(String::new());
                f.take(MAX_PIN_FILE).read_to_string(&mut buf).map_err(|e| {
                    Error::PinUnavailable(format!("cannot read PIN file {}: {e}", path.display()))
                })?;
                let line = buf.lines().next().unwrap_or("");
                Ok(Zeroizing::new(line.to_owned()))
            }
        }
    }
}

impl fmt::Debug for PinSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Value(_) => f.write_str("Value(<redacted>)"),
            Self::Env(n) => f.debug_tuple("Env").field(n).finish(),
            Self::File(p) => f.debug_tuple("File").field(p).finish(),
        }
    }
}

impl fmt::Debug for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Uri")
            .field("token", &self.token)
            .field("object", &self.object)
            .field("id", &self.id)
            .field("slot_id", &self.slot_id)
            .field("serial", &self.serial)
            .field("module_path", &self.module_path)
            .field("pin", &self.pin)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for KeyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(p) => f.debug_tuple("File").field(p).finish(),
            Self::Pkcs11(u) => f.debug_tuple("Pkcs11").field(u).finish(),
        }
    }
}

/// Percent-encodes `bytes` for a URI path attribute value (RFC 7512 `pk11-pchar`).
fn pct_encode(out: &mut String, bytes: &[u8], all: bool) {
    for &b in bytes {
        let unreserved = b.is_ascii_alphanumeric() || b"-._~".contains(&b);
        if unreserved && !all {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

impl fmt::Display for Pkcs11Uri {
    /// The URI with the PIN value replaced by `REDACTED` (safe to log).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut path: Vec<String> = Vec::new();
        let mut push = |name: &str, bytes: &[u8], all: bool| {
            let mut s = format!("{name}=");
            pct_encode(&mut s, bytes, all);
            path.push(s);
        };
        if let Some(v) = &self.token {
            push("token", v.as_bytes(), false);
        }
        if let Some(v) = &self.manufacturer {
            push("manufacturer", v.as_bytes(), false);
        }
        if let Some(v) = &self.model {
            push("model", v.as_bytes(), false);
        }
        if let Some(v) = &self.serial {
            push("serial", v.as_bytes(), false);
        }
        if let Some(v) = &self.object {
            push("object", v.as_bytes(), false);
        }
        if let Some(v) = &self.id {
            push("id", v, true);
        }
        if let Some(v) = self.slot_id {
            path.push(format!("slot-id={v}"));
        }
        write!(f, "pkcs11:{}", path.join(";"))?;
        let mut query: Vec<String> = Vec::new();
        if let Some(p) = &self.module_path {
            let mut s = "module-path=".to_owned();
            for &b in p.to_string_lossy().as_bytes() {
                if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
                    s.push(b as char);
                } else {
                    s.push_str(&format!("%{b:02X}"));
                }
            }
            query.push(s);
        }
        match &self.pin {
            Some(PinSource::Value(_)) => query.push("pin-value=REDACTED".into()),
            Some(PinSource::Env(n)) => query.push(format!("pin-source=env:{n}")),
            Some(PinSource::File(p)) => query.push(format!("pin-source={}", p.display())),
            None => {}
        }
        if !query.is_empty() {
            write!(f, "?{}", query.join("&"))?;
        }
        Ok(())
    }
}

impl fmt::Display for KeyRef {
    /// A form safe to log: the path, or the URI with any PIN value redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(p) => write!(f, "{}", p.display()),
            Self::Pkcs11(u) => u.fmt(f),
        }
    }
}

fn bad(msg: impl Into<String>) -> Error {
    Error::BadKeyRef(msg.into())
}

/// Decodes RFC 3986 percent-encoding. Errors never quote the value (it may be a PIN).
fn pct_decode(attr: &str, s: &str) -> Result<Vec<u8>, Error> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| bad(format!("bad percent-encoding in attribute {attr}")))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(out)
}

fn utf8(attr: &str, v: Vec<u8>) -> Result<String, Error> {
    String::from_utf8(v).map_err(|_| bad(format!("attribute {attr} is not UTF-8")))
}

fn set_once<T>(slot: &mut Option<T>, attr: &str, v: T) -> Result<(), Error> {
    if slot.is_some() {
        return Err(bad(format!("attribute {attr} given twice")));
    }
    *slot = Some(v);
    Ok(())
}

impl Pkcs11Uri {
    /// Parses an RFC 7512 URI (it must start with `pkcs11:`).
    pub fn parse(s: &str) -> Result<Self, Error> {
        let rest = s
            .strip_prefix("pkcs11:")
            .ok_or_else(|| bad("a PKCS#11 URI starts with \"pkcs11:\""))?;
        if rest.contains('#') {
            return Err(bad("a PKCS#11 URI has no fragment ('#')"));
        }
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        let mut uri = Self::default();
        for attr in path.split(';').filter(|a| !a.is_empty()) {
            let (name, value) = attr.split_once('=').ok_or_else(|| {
                bad(format!(
                    "path attribute without '=': {}",
                    attr.escape_debug()
                ))
            })?;
            let raw = pct_decode(name, value)?;
            match name {
                "token" => set_once(&mut uri.token, name, utf8(name, raw)?)?,
                "object" => set_once(&mut uri.object, name, utf8(name, raw)?)?,
                "id" => set_once(&mut uri.id, name, raw)?,
                "serial" => set_once(&mut uri.serial, name, utf8(name, raw)?)?,
                "manufacturer" => set_once(&mut uri.manufacturer, name, utf8(name, raw)?)?,
                "model" => set_once(&mut uri.model, name, utf8(name, raw)?)?,
                "slot-id" => {
                    let v = utf8(name, raw)?;
                    let n = v
                        .parse::<u64>()
                        .map_err(|_| bad(format!("slot-id must be a decimal number, not {v:?}")))?;
                    set_once(&mut uri.slot_id, name, n)?;
                }
                "type" => {
                    let v = utf8(name, raw)?;
                    if v != "private" {
                        return Err(bad(format!(
                            "type={v}: a signing key reference names a private key (type=private)"
                        )));
                    }
                }
                n if n.starts_with("x-") => {}
                n => {
                    return Err(Error::UnknownAttribute(format!(
                        "unknown PKCS#11 URI path attribute {:?} (known: token, object, id, \
                         slot-id, type, serial, manufacturer, model)",
                        n
                    )));
                }
            }
        }
        if let Some(q) = query {
            for attr in q.split('&').filter(|a| !a.is_empty()) {
                let (name, value) = attr.split_once('=').ok_or_else(|| {
                    // Never echo a query attribute: it may be a PIN typed without '='.
                    bad("query attribute without '='")
                })?;
                let raw = pct_decode(name, value)?;
                match name {
                    "module-path" => {
                        set_once(&mut uri.module_path, name, PathBuf::from(utf8(name, raw)?))?
                    }
                    "pin-value" => set_once(
                        &mut uri.pin,
                        "pin-value/pin-source",
                        PinSource::Value(Zeroizing::new(utf8(name, raw)?)),
                    )?,
                    "pin-source" => {
                        let src = PinSource::parse(&utf8(name, raw)?)?;
                        set_once(&mut uri.pin, "pin-value/pin-source", src)?;
                    }
                    n if n.starts_with("x-") => {}
                    n => {
                        return Err(Error::UnknownAttribute(format!(
                            "unknown PKCS#11 URI query attribute {:?} (known: module-path, \
                             pin-value, pin-source)",
                            n
                        )));
                    }
                }
            }
        }
        if uri.object.is_none() && uri.id.is_none() {
            return Err(bad(
                "a key reference needs object= (the key label) or id= (the key id)",
            ));
        }
        Ok(uri)
    }

    /// The same URI without any object selection: a token reference (for `keygen`, `list`).
    pub fn parse_token(s: &str) -> Result<Self, Error> {
        match Self::parse(s) {
            Ok(u) => Ok(u),
            Err(Error::BadKeyRef(m)) if m.starts_with("a key reference needs") => {
                // Re-parse with a dummy object, then drop it.
                let sep = if s.contains('?') {
                    s.replacen('?', ";object=x?", 1)
                } else {
                    format!("{s};object=x")
                };
                let mut u = Self::parse(&sep)?;
                u.object = None;
                Ok(u)
            }
            Err(e) => Err(e),
        }
    }
}

impl KeyRef {
    /// Parses a `KEYREF`: a string starting with `pkcs11:` is a URI, anything else a file path.
    pub fn parse(s: &str) -> Result<Self, Error> {
        if s.starts_with("pkcs11:") {
            Ok(Self::Pkcs11(Pkcs11Uri::parse(s)?))
        } else if s.is_empty() {
            Err(bad("empty key reference"))
        } else {
            Ok(Self::File(PathBuf::from(s)))
        }
    }
}

impl FromStr for KeyRef {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_full_uri() {
        let u = Pkcs11Uri::parse(
            "pkcs11:token=inkan;object=tsa%2D2026;id=%01%a2;slot-id=7?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=env:INKAN_PIN",
        )
        .unwrap();
        assert_eq!(u.token.as_deref(), Some("inkan"));
        assert_eq!(u.object.as_deref(), Some("tsa-2026"));
        assert_eq!(u.id.as_deref(), Some(&[1u8, 0xa2][..]));
        assert_eq!(u.slot_id, Some(7));
        assert_eq!(
            u.module_path.as_deref(),
            Some(std::path::Path::new("/usr/lib/softhsm/libsofthsm2.so"))
        );
        assert_eq!(u.pin, Some(PinSource::Env("INKAN_PIN".into())));
        let again = Pkcs11Uri::parse(&u.to_string()).unwrap();
        assert_eq!(again, u);
    }

    #[test]
    fn file_paths_and_pin_file() {
        assert_eq!(
            KeyRef::parse("keys/tsa.pem").unwrap(),
            KeyRef::File("keys/tsa.pem".into())
        );
        let u = Pkcs11Uri::parse("pkcs11:object=k?pin-source=/run/pin").unwrap();
        assert_eq!(u.pin, Some(PinSource::File("/run/pin".into())));
        let u = Pkcs11Uri::parse("pkcs11:object=k?pin-source=file:///run/pin").unwrap();
        assert_eq!(u.pin, Some(PinSource::File("/run/pin".into())));
    }

    #[test]
    fn errors_are_clear() {
        let e = KeyRef::parse("pkcs11:token=a;objekt=b").unwrap_err();
        assert!(matches!(e, Error::UnknownAttribute(_)), "{e}");
        assert!(e.to_string().contains("objekt"));
        let e = KeyRef::parse("pkcs11:object=b?pin=1234").unwrap_err();
        assert!(matches!(e, Error::UnknownAttribute(_)));
        for bad in [
            "pkcs11:object=a%zz",
            "pkcs11:object",
            "pkcs11:token=t",
            "pkcs11:object=a;object=b",
            "pkcs11:object=a;slot-id=x",
            "pkcs11:object=a;type=cert",
            "pkcs11:object=a?pin-source=env:",
            "",
        ] {
            assert!(
                matches!(KeyRef::parse(bad), Err(Error::BadKeyRef(_))),
                "{bad}"
            );
        }
        assert!(Pkcs11Uri::parse_token("pkcs11:token=t?module-path=/x").is_ok());
    }

    #[test]
    fn pin_never_shown() {
        let k = KeyRef::parse("pkcs11:object=k?pin-value=s3cr3t-PIN").unwrap();
        assert!(!format!("{k:?}").contains("s3cr3t"));
        assert!(!k.to_string().contains("s3cr3t"));
        let e = KeyRef::parse("pkcs11:object=k?pin-value=s3cr3t%zz").unwrap_err();
        assert!(!e.to_string().contains("s3cr3t"));
        assert!(!format!("{e:?}").contains("s3cr3t"));
        let e = KeyRef::parse("pkcs11:object=k?s3cr3t").unwrap_err();
        assert!(!e.to_string().contains("s3cr3t"));
    }
}
