//! Algorithm identification, digests and signature verification over raw encodings.
//!
//! The enums are the shared catalogue of `inkan-profiles` ([`DigestAlgorithm`],
//! [`SignatureAlgorithm`], [`PublicKeyKind`]). The mapping from identifiers and the verification
//! primitives live here, over the tolerant TLV reader, because the verifier must read
//! encodings that the strict `der` decoders refuse (absent NULL parameters, BER, negative
//! serials) and must accept an RSA PKCS#1 v1.5 `DigestInfo` with or without NULL parameters,
//! as DSS and BouncyCastle do.

use inkan_profiles::alg::{Curve, DigestAlgorithm, PssParams, PublicKeyKind, SignatureAlgorithm};

use crate::tlv::{self, Tlv, tag};

/// OIDs, dotted.
pub mod oids {
    /// MD5
    pub const MD5: &str = "1.2.840.113549.2.5";
    /// SHA-1
    pub const SHA1: &str = "1.3.14.3.2.26";
    /// SHA-224
    pub const SHA224: &str = "2.16.840.1.101.3.4.2.4";
    /// SHA-256
    pub const SHA256: &str = "2.16.840.1.101.3.4.2.1";
    /// SHA-384
    pub const SHA384: &str = "2.16.840.1.101.3.4.2.2";
    /// SHA-512
    pub const SHA512: &str = "2.16.840.1.101.3.4.2.3";
    /// SHA3-256
    pub const SHA3_256: &str = "2.16.840.1.101.3.4.2.8";
    /// SHA3-384
    pub const SHA3_384: &str = "2.16.840.1.101.3.4.2.9";
    /// SHA3-512
    pub const SHA3_512: &str = "2.16.840.1.101.3.4.2.10";
    /// rsaEncryption
    pub const RSA: &str = "1.2.840.113549.1.1.1";
    /// id-RSASSA-PSS
    pub const RSA_PSS: &str = "1.2.840.113549.1.1.10";
    /// id-mgf1
    pub const MGF1: &str = "1.2.840.113549.1.1.8";
    /// id-ecPublicKey
    pub const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
    /// Ed25519
    pub const ED25519: &str = "1.3.101.112";
    /// Ed448
    pub const ED448: &str = "1.3.101.113";
    /// id-dsa
    pub const DSA: &str = "1.2.840.10040.4.1";
}

/// Maps a digest OID.
pub fn digest_from_oid(oid: &str) -> Option<DigestAlgorithm> {
    use DigestAlgorithm::*;
    Some(match oid {
        oids::MD5 => Md5,
        oids::SHA1 => Sha1,
        oids::SHA224 => Sha224,
        oids::SHA256 => Sha256,
        oids::SHA384 => Sha384,
        oids::SHA512 => Sha512,
        oids::SHA3_256 => Sha3_256,
        oids::SHA3_384 => Sha3_384,
        oids::SHA3_512 => Sha3_512,
        _ => return None,
    })
}

/// Printable name of a digest.
pub fn digest_name(d: DigestAlgorithm) -> &'static str {
    use DigestAlgorithm::*;
    match d {
        Md5 => "MD5",
        Sha1 => "SHA-1",
        Sha224 => "SHA-224",
        Sha256 => "SHA-256",
        Sha384 => "SHA-384",
        Sha512 => "SHA-512",
        Sha3_256 => "SHA3-256",
        Sha3_384 => "SHA3-384",
        Sha3_512 => "SHA3-512",
        _ => "unknown digest",
    }
}

/// Printable name of a signature algorithm.
pub fn sig_name(a: &SignatureAlgorithm) -> String {
    match a {
        SignatureAlgorithm::RsaPkcs1(d) => format!("RSA PKCS#1 v1.5 with {}", digest_name(*d)),
        SignatureAlgorithm::RsaPss(p) => format!("RSA-PSS with {}", digest_name(p.hash)),
        SignatureAlgorithm::Ecdsa(d) => format!("ECDSA with {}", digest_name(*d)),
        SignatureAlgorithm::Ed25519 => "Ed25519".into(),
        SignatureAlgorithm::Ed448 => "Ed448".into(),
        SignatureAlgorithm::Dsa(d) => format!("DSA with {}", digest_name(*d)),
        _ => "unknown signature algorithm".into(),
    }
}

/// Printable description of a key.
pub fn key_name(k: &PublicKeyKind) -> String {
    match k {
        PublicKeyKind::Rsa { modulus_bits } | PublicKeyKind::RsaPss { modulus_bits, .. } => {
            format!("RSA-{modulus_bits}")
        }
        PublicKeyKind::Ec(c) => match c {
            Curve::P224 => "ECDSA P-224".into(),
            Curve::P256 => "ECDSA P-256".into(),
            Curve::P384 => "ECDSA P-384".into(),
            Curve::P521 => "ECDSA P-521".into(),
            _ => "ECDSA (other curve)".into(),
        },
        PublicKeyKind::Ed25519 => "Ed25519".into(),
        PublicKeyKind::Ed448 => "Ed448".into(),
        PublicKeyKind::Dsa { p_bits, .. } => format!("DSA-{p_bits}"),
        _ => "unknown key".into(),
    }
}

/// Output length in bytes.
pub fn digest_len(d: DigestAlgorithm) -> usize {
    use DigestAlgorithm::*;
    match d {
        Md5 => 16,
        Sha1 => 20,
        Sha224 => 28,
        Sha256 | Sha3_256 => 32,
        Sha384 | Sha3_384 => 48,
        _ => 64,
    }
}

/// A streaming hasher for any catalogue digest.
#[derive(Clone)]
pub enum Hasher {
    /// MD5
    Md5(md5::Md5),
    /// SHA-1
    Sha1(sha1::Sha1),
    /// SHA-224
    Sha224(sha2::Sha224),
    /// SHA-256
    Sha256(sha2::Sha256),
    /// SHA-384
    Sha384(sha2::Sha384),
    /// SHA-512
    Sha512(sha2::Sha512),
    /// SHA3-256
    Sha3_256(sha3::Sha3_256),
    /// SHA3-384
    Sha3_384(sha3::Sha3_384),
    /// SHA3-512
    Sha3_512(sha3::Sha3_512),
}

impl Hasher {
    /// A fresh hasher.
    pub fn new(d: DigestAlgorithm) -> Self {
        use DigestAlgorithm::*;
        use sha2::Digest as _;
        match d {
            Md5 => Self::Md5(md5::Md5::new()),
            Sha1 => Self::Sha1(sha1::Sha1::new()),
            Sha224 => Self::Sha224(sha2::Sha224::new()),
            Sha256 => Self::Sha256(sha2::Sha256::new()),
            Sha384 => Self::Sha384(sha2::Sha384::new()),
            Sha3_256 => Self::Sha3_256(sha3::Sha3_256::new()),
            Sha3_384 => Self::Sha3_384(sha3::Sha3_384::new()),
            Sha3_512 => Self::Sha3_512(sha3::Sha3_512::new()),
            _ => Self::Sha512(sha2::Sha512::new()),
        }
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        use sha2::Digest as _;
        match self {
            Self::Md5(h) => h.update(data),
            Self::Sha1(h) => h.update(data),
            Self::Sha224(h) => h.update(data),
            Self::Sha256(h) => h.update(data),
            Self::Sha384(h) => h.update(data),
            Self::Sha512(h) => h.update(data),
            Self::Sha3_256(h) => h.update(data),
            Self::Sha3_384(h) => h.update(data),
            Self::Sha3_512(h) => h.update(data),
        }
    }

    /// The digest.
    pub fn finalize(self) -> Vec<u8> {
        use sha2::Digest as _;
        match self {
            Self::Md5(h) => h.finalize().to_vec(),
            Self::Sha1(h) => h.finalize().to_vec(),
            Self::Sha224(h) => h.finalize().to_vec(),
            Self::Sha256(h) => h.finalize().to_vec(),
            Self::Sha384(h) => h.finalize().to_vec(),
            Self::Sha512(h) => h.finalize().to_vec(),
            Self::Sha3_256(h) => h.finalize().to_vec(),
            Self::Sha3_384(h) => h.finalize().to_vec(),
            Self::Sha3_512(h) => h.finalize().to_vec(),
        }
    }
}

/// One-shot digest.
pub fn digest(d: DigestAlgorithm, data: &[u8]) -> Vec<u8> {
    let mut h = Hasher::new(d);
    h.update(data);
    h.finalize()
}

/// An AlgorithmIdentifier read raw: dotted OID and the parameters element, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlgId<'a> {
    /// Dotted OID.
    pub oid: String,
    /// The parameters, absent or present (NULL included).
    pub params: Option<Tlv<'a>>,
}

impl<'a> AlgId<'a> {
    /// Reads an AlgorithmIdentifier SEQUENCE.
    pub fn parse(t: &Tlv<'a>) -> tlv::Result<Self> {
        let mut r = t.children();
        let oid = r.expect(tag::OID)?;
        let params = if r.is_empty() {
            None
        } else {
            Some(r.next_tlv()?)
        };
        Ok(Self {
            oid: tlv::oid_string(oid.value),
            params,
        })
    }
}

/// Why an algorithm could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AlgProblem {
    /// Not in the catalogue.
    Unknown(String),
    /// Parameters not understood.
    BadParameters(String),
}

impl std::fmt::Display for AlgProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unknown(o) => write!(f, "unknown algorithm {o}"),
            Self::BadParameters(o) => write!(f, "bad parameters for algorithm {o}"),
        }
    }
}

/// A digest AlgorithmIdentifier.
pub fn digest_alg(a: &AlgId<'_>) -> Result<DigestAlgorithm, AlgProblem> {
    digest_from_oid(&a.oid).ok_or_else(|| AlgProblem::Unknown(a.oid.clone()))
}

fn parse_pss_params(p: Option<&Tlv<'_>>) -> Result<PssParams, AlgProblem> {
    let bad = || AlgProblem::BadParameters(oids::RSA_PSS.into());
    let mut params = PssParams {
        hash: DigestAlgorithm::Sha1,
        mgf1_hash: DigestAlgorithm::Sha1,
        salt_len: 20,
    };
    let Some(p) = p else { return Ok(params) };
    if p.tag == tag::NULL {
        return Ok(params);
    }
    let r = p.children();
    for item in r {
        let item = item.map_err(|_| bad())?;
        let inner = tlv::parse_exact(item.value).map_err(|_| bad())?;
        match item.tag {
            0xa0 => {
                let a = AlgId::parse(&inner).map_err(|_| bad())?;
                params.hash = digest_alg(&a)?;
            }
            0xa1 => {
                let a = AlgId::parse(&inner).map_err(|_| bad())?;
                if a.oid != oids::MGF1 {
                    return Err(bad());
                }
                let h = a.params.ok_or_else(bad)?;
                let ha = AlgId::parse(&h).map_err(|_| bad())?;
                params.mgf1_hash = digest_alg(&ha)?;
            }
            0xa2 => {
                params.salt_len =
                    u32::try_from(inner.small_uint().map_err(|_| bad())?).map_err(|_| bad())?;
            }
            0xa3 => {
                if inner.small_uint().map_err(|_| bad())? != 1 {
                    return Err(bad());
                }
            }
            _ => return Err(bad()),
        }
    }
    Ok(params)
}

/// Maps a signature AlgorithmIdentifier. `digest_hint` is the SignerInfo digestAlgorithm, used
/// when the identifier names only the key type (rsaEncryption, id-ecPublicKey), as CMS allows.
pub fn signature_alg(
    a: &AlgId<'_>,
    digest_hint: Option<DigestAlgorithm>,
) -> Result<SignatureAlgorithm, AlgProblem> {
    use DigestAlgorithm::*;
    use SignatureAlgorithm::*;
    let hint = || digest_hint.ok_or_else(|| AlgProblem::Unknown(a.oid.clone()));
    Ok(match a.oid.as_str() {
        oids::RSA => RsaPkcs1(hint()?),
        "1.2.840.113549.1.1.4" => RsaPkcs1(Md5),
        "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" => RsaPkcs1(Sha1),
        "1.2.840.113549.1.1.14" => RsaPkcs1(Sha224),
        "1.2.840.113549.1.1.11" => RsaPkcs1(Sha256),
        "1.2.840.113549.1.1.12" => RsaPkcs1(Sha384),
        "1.2.840.113549.1.1.13" => RsaPkcs1(Sha512),
        "2.16.840.1.101.3.4.3.14" => RsaPkcs1(Sha3_256),
        "2.16.840.1.101.3.4.3.15" => RsaPkcs1(Sha3_384),
        "2.16.840.1.101.3.4.3.16" => RsaPkcs1(Sha3_512),
        oids::RSA_PSS => RsaPss(parse_pss_params(a.params.as_ref())?),
        oids::EC_PUBLIC_KEY => Ecdsa(hint()?),
        "1.2.840.10045.4.1" => Ecdsa(Sha1),
        "1.2.840.10045.4.3.1" => Ecdsa(Sha224),
        "1.2.840.10045.4.3.2" => Ecdsa(Sha256),
        "1.2.840.10045.4.3.3" => Ecdsa(Sha384),
        "1.2.840.10045.4.3.4" => Ecdsa(Sha512),
        "2.16.840.1.101.3.4.3.10" => Ecdsa(Sha3_256),
        "2.16.840.1.101.3.4.3.11" => Ecdsa(Sha3_384),
        "2.16.840.1.101.3.4.3.12" => Ecdsa(Sha3_512),
        oids::ED25519 => Ed25519,
        oids::ED448 => Ed448,
        oids::DSA => Dsa(hint()?),
        "1.2.840.10040.4.3" => Dsa(Sha1),
        "2.16.840.1.101.3.4.3.1" => Dsa(Sha224),
        "2.16.840.1.101.3.4.3.2" => Dsa(Sha256),
        _ => return Err(AlgProblem::Unknown(a.oid.clone())),
    })
}

/// The hash a signature algorithm applies to the message, if any.
pub fn sig_digest(a: &SignatureAlgorithm) -> Option<DigestAlgorithm> {
    match a {
        SignatureAlgorithm::RsaPkcs1(d)
        | SignatureAlgorithm::Ecdsa(d)
        | SignatureAlgorithm::Dsa(d) => Some(*d),
        SignatureAlgorithm::RsaPss(p) => Some(p.hash),
        _ => None,
    }
}

/// A parsed SubjectPublicKeyInfo.
struct Spki<'a> {
    alg: AlgId<'a>,
    key: &'a [u8],
}

fn parse_spki(spki: &[u8]) -> Option<Spki<'_>> {
    let t = tlv::parse_exact(spki).ok()?;
    let mut r = t.children();
    let alg = AlgId::parse(&r.expect(tag::SEQUENCE).ok()?).ok()?;
    let key = r.expect(tag::BIT_STRING).ok()?.bit_string_bytes().ok()?;
    Some(Spki { alg, key })
}

fn unsigned(b: &[u8]) -> &[u8] {
    let skip = b.iter().take_while(|&&x| x == 0).count();
    &b[skip..]
}

fn bits(b: &[u8]) -> u32 {
    let b = unsigned(b);
    match b.first() {
        None => 0,
        Some(&f) => (b.len() as u32 - 1) * 8 + (8 - f.leading_zeros()),
    }
}

fn rsa_parts(key: &[u8]) -> Option<(&[u8], &[u8])> {
    let t = tlv::parse_exact(key).ok()?;
    let mut r = t.children();
    let n = r.expect(tag::INTEGER).ok()?.value;
    let e = r.expect(tag::INTEGER).ok()?.value;
    Some((unsigned(n), unsigned(e)))
}

fn curve_of(params: Option<&Tlv<'_>>) -> Option<Curve> {
    let p = params?;
    if p.tag != tag::OID {
        return None;
    }
    Some(match tlv::oid_string(p.value).as_str() {
        "1.3.132.0.33" => Curve::P224,
        "1.2.840.10045.3.1.7" => Curve::P256,
        "1.3.132.0.34" => Curve::P384,
        "1.3.132.0.35" => Curve::P521,
        _ => return None,
    })
}

/// What kind of key a SubjectPublicKeyInfo holds.
pub fn key_kind(spki: &[u8]) -> Option<PublicKeyKind> {
    let s = parse_spki(spki)?;
    Some(match s.alg.oid.as_str() {
        oids::RSA => {
            let (n, _) = rsa_parts(s.key)?;
            PublicKeyKind::Rsa {
                modulus_bits: bits(n),
            }
        }
        oids::RSA_PSS => {
            let (n, _) = rsa_parts(s.key)?;
            PublicKeyKind::RsaPss {
                modulus_bits: bits(n),
                params: None,
            }
        }
        oids::EC_PUBLIC_KEY => PublicKeyKind::Ec(curve_of(s.alg.params.as_ref())?),
        oids::ED25519 => PublicKeyKind::Ed25519,
        oids::ED448 => PublicKeyKind::Ed448,
        oids::DSA => {
            let p = s.alg.params?;
            let mut r = p.children();
            let pp = r.expect(tag::INTEGER).ok()?.value;
            let q = r.expect(tag::INTEGER).ok()?.value;
            PublicKeyKind::Dsa {
                p_bits: bits(pp),
                q_bits: bits(q),
            }
        }
        _ => return None,
    })
}

/// Why a signature did not verify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerifyError {
    /// The signature is wrong for this key and message.
    Invalid,
    /// Key and algorithm do not fit together, or the key cannot be read.
    KeyMismatch,
    /// An algorithm the verifier cannot compute.
    Unsupported,
}

fn digest_info_prefix(d: DigestAlgorithm, with_null: bool) -> Vec<u8> {
    let oid: &[u8] = match d {
        DigestAlgorithm::Md5 => &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x05],
        DigestAlgorithm::Sha1 => &[0x2b, 0x0e, 0x03, 0x02, 0x1a],
        other => {
            let last = match other {
                DigestAlgorithm::Sha256 => 1,
                DigestAlgorithm::Sha384 => 2,
                DigestAlgorithm::Sha512 => 3,
                DigestAlgorithm::Sha224 => 4,
                DigestAlgorithm::Sha3_256 => 8,
                DigestAlgorithm::Sha3_384 => 9,
                _ => 10,
            };
            &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, last][..]
        }
    };
    let mut alg = tlv::encode(tag::OID, oid);
    if with_null {
        alg.extend_from_slice(&[0x05, 0x00]);
    }
    let alg = tlv::encode(tag::SEQUENCE, &alg);
    let hlen = digest_len(d);
    let mut seq_content = alg;
    seq_content.push(tag::OCTET_STRING);
    seq_content.push(hlen as u8);
    let total = seq_content.len() + hlen;
    let mut out = vec![tag::SEQUENCE];
    tlv::push_len(&mut out, total);
    out.extend_from_slice(&seq_content);
    out
}

fn rsa_open(key: &[u8], sig: &[u8]) -> Result<Vec<u8>, VerifyError> {
    let (n, e) = rsa_parts(key).ok_or(VerifyError::KeyMismatch)?;
    let nbits = bits(n);
    if !(512..=16384).contains(&nbits) || e.is_empty() || e.len() > 8 {
        return Err(VerifyError::KeyMismatch);
    }
    let k = n.len();
    let sig = unsigned(sig);
    if sig.len() > k {
        return Err(VerifyError::Invalid);
    }
    let nn = rsa::BoxedUint::from_be_slice_vartime(n);
    let ee = rsa::BoxedUint::from_be_slice_vartime(e);
    let pk = rsa::PublicKey::new_with_size_limits(nn, ee, 512..=16384)
        .map_err(|_| VerifyError::KeyMismatch)?;
    let prec = (k as u32 * 8).div_ceil(64) * 64;
    let s = rsa::BoxedUint::from_be_slice(sig, prec).map_err(|_| VerifyError::Invalid)?;
    if s >= rsa::BoxedUint::from_be_slice(n, prec).map_err(|_| VerifyError::Invalid)? {
        return Err(VerifyError::Invalid);
    }
    let m = rsa::hazmat::rsa_encrypt(&pk, &s).map_err(|_| VerifyError::Invalid)?;
    let bytes = m.to_be_bytes();
    let bytes = unsigned(&bytes);
    let mut em = vec![0u8; k.saturating_sub(bytes.len())];
    em.extend_from_slice(bytes);
    Ok(em)
}

fn mgf1(d: DigestAlgorithm, seed: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    let mut counter: u32 = 0;
    while out.len() < len {
        let mut h = Hasher::new(d);
        h.update(seed);
        h.update(&counter.to_be_bytes());
        out.extend_from_slice(&h.finalize());
        counter += 1;
    }
    out.truncate(len);
    out
}

fn pss_verify(em: &[u8], mod_bits: u32, p: &PssParams, mhash: &[u8]) -> bool {
    let em_bits = mod_bits as usize - 1;
    let em_len = em_bits.div_ceil(8);
    let em = &em[em.len() - em_len.min(em.len())..];
    if em.len() != em_len {
        return false;
    }
    let h_len = digest_len(p.hash);
    let s_len = p.salt_len as usize;
    if em_len < h_len + s_len + 2 || em.last() != Some(&0xbc) {
        return false;
    }
    let db_len = em_len - h_len - 1;
    let (masked_db, rest) = em.split_at(db_len);
    let h = &rest[..h_len];
    let zero_bits = 8 * em_len - em_bits;
    if zero_bits > 0 && masked_db[0] >> (8 - zero_bits) != 0 {
        return false;
    }
    let mask = mgf1(p.mgf1_hash, h, db_len);
    let mut db: Vec<u8> = masked_db.iter().zip(&mask).map(|(a, b)| a ^ b).collect();
    if zero_bits > 0 {
        db[0] &= 0xff >> zero_bits;
    }
    let ps_len = em_len - h_len - s_len - 2;
    if db[..ps_len].iter().any(|&b| b != 0) || db[ps_len] != 1 {
        return false;
    }
    let salt = &db[db_len - s_len..];
    let mut hh = Hasher::new(p.hash);
    hh.update(&[0u8; 8]);
    hh.update(mhash);
    hh.update(salt);
    hh.finalize() == h
}

/// Verifies `sig` over `message` (unhashed) with the key in `spki`.
pub fn verify_signature(
    spki: &[u8],
    alg: &SignatureAlgorithm,
    message: &[u8],
    sig: &[u8],
) -> Result<(), VerifyError> {
    let s = parse_spki(spki).ok_or(VerifyError::KeyMismatch)?;
    if ring_fast_path(&s, alg, message, sig) {
        return Ok(());
    }
    match alg {
        SignatureAlgorithm::RsaPkcs1(d) => {
            if s.alg.oid != oids::RSA && s.alg.oid != oids::RSA_PSS {
                return Err(VerifyError::KeyMismatch);
            }
            let em = rsa_open(s.key, sig)?;
            let h = digest(*d, message);
            for with_null in [true, false] {
                let mut t = digest_info_prefix(*d, with_null);
                t.extend_from_slice(&h);
                if em.len() >= t.len() + 11 {
                    let ps = em.len() - t.len() - 3;
                    let ok = em[0] == 0
                        && em[1] == 1
                        && em[2..2 + ps].iter().all(|&b| b == 0xff)
                        && em[2 + ps] == 0
                        && em[3 + ps..] == t[..];
                    if ok {
                        return Ok(());
                    }
                }
            }
            Err(VerifyError::Invalid)
        }
        SignatureAlgorithm::RsaPss(p) => {
            if s.alg.oid != oids::RSA && s.alg.oid != oids::RSA_PSS {
                return Err(VerifyError::KeyMismatch);
            }
            let (n, _) = rsa_parts(s.key).ok_or(VerifyError::KeyMismatch)?;
            let em = rsa_open(s.key, sig)?;
            let h = digest(p.hash, message);
            if pss_verify(&em, bits(n), p, &h) {
                Ok(())
            } else {
                Err(VerifyError::Invalid)
            }
        }
        SignatureAlgorithm::Ecdsa(d) => {
            if s.alg.oid != oids::EC_PUBLIC_KEY {
                return Err(VerifyError::KeyMismatch);
            }
            let h = digest(*d, message);
            ecdsa_verify(curve_of(s.alg.params.as_ref()), s.key, &h, sig)
        }
        SignatureAlgorithm::Ed25519 => {
            if s.alg.oid != oids::ED25519 {
                return Err(VerifyError::KeyMismatch);
            }
            let key: &[u8; 32] = s.key.try_into().map_err(|_| VerifyError::KeyMismatch)?;
            let vk = ed25519_dalek::VerifyingKey::from_bytes(key)
                .map_err(|_| VerifyError::KeyMismatch)?;
            let sig: &[u8; 64] = sig.try_into().map_err(|_| VerifyError::Invalid)?;
            let sig = ed25519_dalek::Signature::from_bytes(sig);
            vk.verify_strict(message, &sig)
                .map_err(|_| VerifyError::Invalid)
        }
        _ => Err(VerifyError::Unsupported),
    }
}

/// The common algorithms through `ring` (several times faster). Only a success is taken from
/// here; any failure falls through to the general implementation, which decides.
fn ring_fast_path(s: &Spki<'_>, alg: &SignatureAlgorithm, message: &[u8], sig: &[u8]) -> bool {
    use DigestAlgorithm::*;
    use ring::signature as rs;
    match (s.alg.oid.as_str(), alg) {
        (oids::RSA, SignatureAlgorithm::RsaPkcs1(d)) => {
            let params: &dyn rs::VerificationAlgorithm = match d {
                Sha256 => &rs::RSA_PKCS1_2048_8192_SHA256,
                Sha384 => &rs::RSA_PKCS1_2048_8192_SHA384,
                Sha512 => &rs::RSA_PKCS1_2048_8192_SHA512,
                _ => return false,
            };
            rs::UnparsedPublicKey::new(params, s.key)
                .verify(message, sig)
                .is_ok()
        }
        (oids::RSA, SignatureAlgorithm::RsaPss(p))
            if p.hash == p.mgf1_hash && p.salt_len as usize == digest_len(p.hash) =>
        {
            let params: &dyn rs::VerificationAlgorithm = match p.hash {
                Sha256 => &rs::RSA_PSS_2048_8192_SHA256,
                Sha384 => &rs::RSA_PSS_2048_8192_SHA384,
                Sha512 => &rs::RSA_PSS_2048_8192_SHA512,
                _ => return false,
            };
            rs::UnparsedPublicKey::new(params, s.key)
                .verify(message, sig)
                .is_ok()
        }
        (oids::EC_PUBLIC_KEY, SignatureAlgorithm::Ecdsa(d)) => {
            let params: &dyn rs::VerificationAlgorithm = match (curve_of(s.alg.params.as_ref()), d)
            {
                (Some(Curve::P256), Sha256) => &rs::ECDSA_P256_SHA256_ASN1,
                (Some(Curve::P256), Sha384) => &rs::ECDSA_P256_SHA384_ASN1,
                (Some(Curve::P384), Sha256) => &rs::ECDSA_P384_SHA256_ASN1,
                (Some(Curve::P384), Sha384) => &rs::ECDSA_P384_SHA384_ASN1,
                _ => return false,
            };
            rs::UnparsedPublicKey::new(params, s.key)
                .verify(message, sig)
                .is_ok()
        }
        (oids::ED25519, SignatureAlgorithm::Ed25519) => {
            rs::UnparsedPublicKey::new(&rs::ED25519, s.key)
                .verify(message, sig)
                .is_ok()
        }
        _ => false,
    }
}

fn ecdsa_verify(
    curve: Option<Curve>,
    point: &[u8],
    prehash: &[u8],
    sig: &[u8],
) -> Result<(), VerifyError> {
    use signature::hazmat::PrehashVerifier;
    macro_rules! go {
        ($c:ident) => {{
            let vk = $c::ecdsa::VerifyingKey::from_sec1_bytes(point)
                .map_err(|_| VerifyError::KeyMismatch)?;
            let sig = $c::ecdsa::Signature::from_der(sig).map_err(|_| VerifyError::Invalid)?;
            vk.verify_prehash(prehash, &sig)
                .map_err(|_| VerifyError::Invalid)
        }};
    }
    match curve {
        Some(Curve::P256) => go!(p256),
        Some(Curve::P384) => go!(p384),
        Some(Curve::P521) => go!(p521),
        _ => Err(VerifyError::Unsupported),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_info_known() {
        let p = digest_info_prefix(DigestAlgorithm::Sha256, true);
        assert_eq!(
            p,
            [
                0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x01, 0x05, 0x00, 0x04, 0x20
            ]
        );
    }
}
