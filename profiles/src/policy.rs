//! The CRYPTREC policy as data: may this algorithm and key be used to create, or to validate, at
//! time T? (CRYPTREC LS-0001-2022, the e-Government recommended ciphers list, and its
//! security-strength periods.)
//!
//! CONTRACT (shared by every crate; extend, do not rename): [`Use`], [`Policy`],
//! [`Refusal`] and the `check_*` methods.
//!
//! # Where the data is
//!
//! Everything a CRYPTREC revision could change is in three tables at the top of this file:
//! [`LS_0001_2022`] (which algorithm is on which list, since which edition, and whether inkan
//! creates and/or validates with it), [`RSA_STRENGTH_TABLE`] with [`curve_strength_bits`] (key
//! size to security strength), and [`STRENGTH_PERIODS`] (until when each strength may be used).
//! A new edition is a new set of tables and a new constructor beside [`Policy::cryptrec`].
//!
//! # Reading `Use::Validate` at time T
//!
//! T is the best proof of existence (POE) of the object validated. 112-bit material passes only
//! when T is before 2031-01-01T00:00:00Z: a signature made with RSA-2048 and time-stamped in
//! 2030 still validates in 2040 (its POE is 2030), one that has no POE before 2031 fails with
//! [`Rule::Strength112NoPoe`], which the verifier maps to
//! `INDETERMINATE/CRYPTO_CONSTRAINTS_FAILURE_NO_POE`.

/// What a key or algorithm is about to be used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Use {
    /// Making a new signature, time stamp or certificate at time T.
    Create,
    /// Validating an existing one whose existence is proven at time T (its best proof of
    /// existence).
    Validate,
}

use crate::alg::{Curve, DigestAlgorithm, PssParams, PublicKeyKind, SignatureAlgorithm};
/// The strength tables live beside the key types they measure ([`crate::alg`]); the policy
/// decides which strength is enough, and when.
pub use crate::alg::{RSA_STRENGTH_TABLE, curve_strength_bits, key_strength_bits};
use crate::time::UnixTime;

// =============================================================================================
// The data.

/// The CRYPTREC list edition this policy implements (first issued 2023-03-30).
pub const EDITION: &str = "CRYPTREC LS-0001-2022";
/// The previous edition (the 2013 list, last revised LS-0001-2012R8 on 2023-03-08).
pub const EDITION_2012: &str = "CRYPTREC LS-0001-2012";
/// The strength-requirement standard (暗号強度要件, June 2022).
pub const STRENGTH_STANDARD: &str = "CRYPTREC strength requirements (2022)";

/// Where an algorithm is on the CRYPTREC Ciphers List.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ListStatus {
    /// e-Government Recommended Ciphers List (電子政府推奨暗号リスト).
    Recommended,
    /// Candidate Recommended Ciphers List (推奨候補暗号リスト).
    Candidate,
    /// Monitored Ciphers List (運用監視暗号リスト): only for compatibility.
    Monitored,
    /// Not on the list.
    NotListed,
}

/// What a row of [`LS_0001_2022`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Listed {
    /// A hash function.
    Digest(DigestAlgorithm),
    /// A signature scheme (any hash, any key size: those are checked separately).
    Scheme(Scheme),
}

/// A signature scheme, without its hash or key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// RSASSA-PKCS1-v1_5.
    RsaPkcs1,
    /// RSASSA-PSS.
    RsaPss,
    /// ECDSA.
    Ecdsa,
    /// EdDSA (Ed25519, Ed448).
    EdDsa,
    /// DSA.
    Dsa,
}

impl Scheme {
    /// The scheme of a signature algorithm.
    pub const fn of(sig: &SignatureAlgorithm) -> Self {
        match sig {
            SignatureAlgorithm::RsaPkcs1(_) => Scheme::RsaPkcs1,
            SignatureAlgorithm::RsaPss(_) => Scheme::RsaPss,
            SignatureAlgorithm::Ecdsa(_) => Scheme::Ecdsa,
            SignatureAlgorithm::Ed25519 | SignatureAlgorithm::Ed448 => Scheme::EdDsa,
            SignatureAlgorithm::Dsa(_) => Scheme::Dsa,
        }
    }
}

/// One row of the list table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListEntry {
    /// The algorithm.
    pub what: Listed,
    /// Its place on the list.
    pub status: ListStatus,
    /// The edition that put it there.
    pub since: &'static str,
    /// inkan may create with it.
    pub create: bool,
    /// inkan may validate with it.
    pub validate: bool,
    /// The rule that refuses it, when `create` or `validate` is false.
    pub rule: Option<Rule>,
}

const fn row(
    what: Listed,
    status: ListStatus,
    since: &'static str,
    create: bool,
    validate: bool,
    rule: Option<Rule>,
) -> ListEntry {
    ListEntry {
        what,
        status,
        since,
        create,
        validate,
        rule,
    }
}

/// A [`row`] of the recommended list, for creating and validating alike, since `since`.
const fn recommended(what: Listed, since: &'static str) -> ListEntry {
    row(what, ListStatus::Recommended, since, true, true, None)
}

/// The CRYPTREC Ciphers List LS-0001-2022 as far as signatures and hashes go
/// (CRYPTREC LS-0001-2022). SHA-1 is monitored; MD5 and SHA-224 are not listed; EdDSA
/// and the SHA-3 family joined the recommended list with LS-0001-2022. DSA is recommended, but
/// inkan only verifies it (no PKCS#11 path signs it, and RFC 5754 stops DSA at SHA-256).
pub const LS_0001_2022: [ListEntry; 15] = {
    use DigestAlgorithm as D;
    use ListStatus::*;
    use Listed::{Digest, Scheme as S};
    [
        row(
            Digest(D::Md5),
            NotListed,
            EDITION,
            false,
            false,
            Some(Rule::HashMd5),
        ),
        row(
            Digest(D::Sha1),
            Monitored,
            EDITION_2012,
            false,
            false,
            Some(Rule::HashSha1),
        ),
        row(
            Digest(D::Sha224),
            NotListed,
            EDITION,
            false,
            false,
            Some(Rule::HashSha224),
        ),
        recommended(Digest(D::Sha256), EDITION_2012),
        recommended(Digest(D::Sha384), EDITION_2012),
        recommended(Digest(D::Sha512), EDITION_2012),
        recommended(Digest(D::Sha3_256), EDITION),
        recommended(Digest(D::Sha3_384), EDITION),
        recommended(Digest(D::Sha3_512), EDITION),
        recommended(Digest(D::Shake256_512), EDITION),
        recommended(S(Scheme::RsaPkcs1), EDITION_2012),
        recommended(S(Scheme::RsaPss), EDITION_2012),
        recommended(S(Scheme::Ecdsa), EDITION_2012),
        recommended(S(Scheme::EdDsa), EDITION),
        row(
            S(Scheme::Dsa),
            Recommended,
            EDITION_2012,
            false,
            true,
            Some(Rule::DsaVerifyOnly),
        ),
    ]
};

/// How long material of a given strength may be used (CRYPTREC LS-0001-2022, after NIST SP 800-57 Part 1 Rev. 5 §5.6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StrengthPeriod {
    /// Strength in bits (rows apply to keys of at least this strength, below the next row).
    pub bits: u32,
    /// New signatures are allowed strictly before this instant (`None`: no end announced).
    pub create_before: Option<UnixTime>,
    /// Validation needs a proof of existence strictly before this instant (`None`: any POE).
    pub poe_before: Option<UnixTime>,
}

/// 2031-01-01T00:00:00Z: the first instant at which 112-bit strength no longer counts.
pub const END_OF_112: UnixTime = UnixTime::from_secs(1_924_992_000);
/// 2051-01-01T00:00:00Z: the end of the 128-bit transition-completion period (2041–2050).
pub const END_OF_128: UnixTime = UnixTime::from_secs(2_556_144_000);

/// The strength table: 112-bit until the end of 2030, 128-bit until the end of 2050
/// (the transition-completion period 2041–2050 included), 192 and 256 with no end announced.
/// Below 112 bits nothing passes.
pub const STRENGTH_PERIODS: [StrengthPeriod; 3] = [
    StrengthPeriod {
        bits: 112,
        create_before: Some(END_OF_112),
        poe_before: Some(END_OF_112),
    },
    StrengthPeriod {
        bits: 128,
        create_before: Some(END_OF_128),
        poe_before: Some(END_OF_128),
    },
    StrengthPeriod {
        bits: 192,
        create_before: None,
        poe_before: None,
    },
];

/// The smallest RSA modulus accepted for anything (電子署名法施行規則 第2条; CRYPTREC 112-bit).
pub const MIN_RSA_BITS: u32 = 2048;
/// The smallest DSA p accepted for validation (RFC 5754 §3.1: L ≥ 2048 under this policy).
pub const MIN_DSA_P_BITS: u32 = 2048;
/// The smallest DSA q accepted for validation.
pub const MIN_DSA_Q_BITS: u32 = 224;
/// Largest RSASSA-PSS salt accepted when validating, in bytes (a sanity bound).
pub const MAX_PSS_SALT: u32 = 512;

// =============================================================================================
// Rules and refusals.

/// Every reason the policy can give for a "no". [`Rule::code`] is stable: reports, logs and
/// tests match on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// MD5 is not on the list and is broken (EN 319 122-1 §6.2.1 bans it).
    HashMd5,
    /// SHA-1 is on the monitored list only.
    HashSha1,
    /// SHA-224 is not on the list.
    HashSha224,
    /// An RSA modulus below 2048 bits.
    RsaModulusTooSmall,
    /// Any key below 112-bit strength.
    StrengthBelow112,
    /// 112-bit keys may not create after 2030-12-31T23:59:59Z.
    Strength112CreateAfter2030,
    /// 112-bit material validates only with a proof of existence before 2031-01-01.
    Strength112NoPoe,
    /// 128-bit keys may not create after 2050-12-31T23:59:59Z.
    Strength128CreateAfter2050,
    /// 128-bit material validates only with a proof of existence before 2051-01-01.
    Strength128NoPoe,
    /// P-224 may not create (the toolkit requires P-256 or larger).
    CurveP224,
    /// DSA is verify-only in inkan.
    DsaVerifyOnly,
    /// DSA with p below 2048 bits or q below 224 bits.
    DsaTooSmall,
    /// RSASSA-PSS with different message and MGF1 hashes.
    PssMgf1HashMismatch,
    /// RSASSA-PSS salt length outside what the toolkit accepts.
    PssSaltLength,
    /// A PSS signature that breaks the PSS key's SPKI restriction (RFC 4056 §3, RFC 4055 §3.3).
    PssKeyRestriction,
    /// A PKCS#1 v1.5 signature by an id-RSASSA-PSS key (RFC 4055 §1.2).
    PssKeyWithPkcs1,
    /// The signature algorithm does not fit the key type.
    AlgorithmKeyMismatch,
    /// Ed25519 in CMS needs digestAlgorithm id-sha512 (RFC 8419 §3.1).
    Ed25519CmsDigest,
    /// Ed448 in CMS needs digestAlgorithm id-shake256-len 512 (RFC 8419 §3.1).
    Ed448CmsDigest,
    /// RSASSA-PSS in CMS: digestAlgorithm must equal the PSS hash (RFC 4056 §3).
    PssCmsDigest,
    /// ECDSA with a digest weaker than the curve (for new signatures).
    EcdsaDigestWeakerThanCurve,
    /// SHAKE256 is only a CMS digest for Ed448, not a signature hash.
    ShakeNotForSignatures,
}

impl Rule {
    /// Every rule, each once (for tables keyed by rule, such as the verifier's findings).
    pub const ALL: [Rule; 22] = [
        Rule::HashMd5,
        Rule::HashSha1,
        Rule::HashSha224,
        Rule::RsaModulusTooSmall,
        Rule::StrengthBelow112,
        Rule::Strength112CreateAfter2030,
        Rule::Strength112NoPoe,
        Rule::Strength128CreateAfter2050,
        Rule::Strength128NoPoe,
        Rule::CurveP224,
        Rule::DsaVerifyOnly,
        Rule::DsaTooSmall,
        Rule::PssMgf1HashMismatch,
        Rule::PssSaltLength,
        Rule::PssKeyRestriction,
        Rule::PssKeyWithPkcs1,
        Rule::AlgorithmKeyMismatch,
        Rule::Ed25519CmsDigest,
        Rule::Ed448CmsDigest,
        Rule::PssCmsDigest,
        Rule::EcdsaDigestWeakerThanCurve,
        Rule::ShakeNotForSignatures,
    ];

    /// The stable code.
    pub const fn code(self) -> &'static str {
        match self {
            Rule::HashMd5 => "CRYPTREC-HASH-MD5",
            Rule::HashSha1 => "CRYPTREC-HASH-SHA1",
            Rule::HashSha224 => "CRYPTREC-HASH-SHA224",
            Rule::RsaModulusTooSmall => "CRYPTREC-RSA-MIN-2048",
            Rule::StrengthBelow112 => "CRYPTREC-STRENGTH-BELOW-112",
            Rule::Strength112CreateAfter2030 => "CRYPTREC-STRENGTH-112-CREATE-AFTER-2030",
            Rule::Strength112NoPoe => "CRYPTREC-STRENGTH-112-NO-POE-BEFORE-2031",
            Rule::Strength128CreateAfter2050 => "CRYPTREC-STRENGTH-128-CREATE-AFTER-2050",
            Rule::Strength128NoPoe => "CRYPTREC-STRENGTH-128-NO-POE-BEFORE-2051",
            Rule::CurveP224 => "CRYPTREC-EC-P224",
            Rule::DsaVerifyOnly => "INKAN-DSA-VERIFY-ONLY",
            Rule::DsaTooSmall => "CRYPTREC-DSA-MIN-2048",
            Rule::PssMgf1HashMismatch => "RFC4055-PSS-MGF1-HASH",
            Rule::PssSaltLength => "RFC4055-PSS-SALT-LENGTH",
            Rule::PssKeyRestriction => "RFC4056-PSS-KEY-PARAMS",
            Rule::PssKeyWithPkcs1 => "RFC4055-PSS-KEY-PKCS1",
            Rule::AlgorithmKeyMismatch => "INKAN-ALG-KEY-MISMATCH",
            Rule::Ed25519CmsDigest => "RFC8419-ED25519-SHA512",
            Rule::Ed448CmsDigest => "RFC8419-ED448-SHAKE256",
            Rule::PssCmsDigest => "RFC4056-PSS-CMS-DIGEST",
            Rule::EcdsaDigestWeakerThanCurve => "INKAN-ECDSA-DIGEST-CURVE",
            Rule::ShakeNotForSignatures => "INKAN-SHAKE-CMS-ONLY",
        }
    }

    /// What the rule says, in English.
    pub const fn text_en(self) -> &'static str {
        match self {
            Rule::HashMd5 => "MD5 is broken and is not on the CRYPTREC list",
            Rule::HashSha1 => {
                "SHA-1 is only on the CRYPTREC monitored list and is not accepted for signatures"
            }
            Rule::HashSha224 => "SHA-224 is not on the CRYPTREC recommended list",
            Rule::RsaModulusTooSmall => "RSA keys must be at least 2048 bits",
            Rule::StrengthBelow112 => "the key is weaker than 112-bit security",
            Rule::Strength112CreateAfter2030 => {
                "112-bit keys (such as RSA-2048) may not make new signatures after 2030-12-31"
            }
            Rule::Strength112NoPoe => {
                "112-bit material (such as RSA-2048) is accepted only with proof that it existed before 2031-01-01"
            }
            Rule::Strength128CreateAfter2050 => {
                "128-bit keys may not make new signatures after 2050-12-31"
            }
            Rule::Strength128NoPoe => {
                "128-bit material is accepted only with proof that it existed before 2051-01-01"
            }
            Rule::CurveP224 => "P-224 may not make new signatures; use P-256 or larger",
            Rule::DsaVerifyOnly => "DSA is accepted for verification only",
            Rule::DsaTooSmall => {
                "DSA keys must have p of at least 2048 bits and q of at least 224 bits"
            }
            Rule::PssMgf1HashMismatch => {
                "RSASSA-PSS must use the same hash in MGF1 as for the message"
            }
            Rule::PssSaltLength => "the RSASSA-PSS salt length is not acceptable",
            Rule::PssKeyRestriction => "the RSASSA-PSS parameters break the restriction in the key",
            Rule::PssKeyWithPkcs1 => "an RSASSA-PSS key may not make PKCS#1 v1.5 signatures",
            Rule::AlgorithmKeyMismatch => "the signature algorithm does not match the key type",
            Rule::Ed25519CmsDigest => "Ed25519 in CMS requires the SHA-512 digest algorithm",
            Rule::Ed448CmsDigest => "Ed448 in CMS requires the SHAKE256 (512-bit) digest algorithm",
            Rule::PssCmsDigest => {
                "RSASSA-PSS in CMS requires the digest algorithm to equal the PSS hash"
            }
            Rule::EcdsaDigestWeakerThanCurve => "the ECDSA digest is weaker than the curve",
            Rule::ShakeNotForSignatures => "SHAKE256 is only used as the CMS digest for Ed448",
        }
    }

    /// What the rule says, in Japanese.
    pub const fn text_ja(self) -> &'static str {
        match self {
            Rule::HashMd5 => "MD5 は危殆化しており、CRYPTREC 暗号リストに掲載されていません",
            Rule::HashSha1 => {
                "SHA-1 は CRYPTREC の運用監視暗号リストにのみ掲載されており、署名には使用できません"
            }
            Rule::HashSha224 => "SHA-224 は CRYPTREC 電子政府推奨暗号リストに掲載されていません",
            Rule::RsaModulusTooSmall => "RSA 鍵は 2048 ビット以上が必要です",
            Rule::StrengthBelow112 => "鍵のセキュリティ強度が 112 ビット未満です",
            Rule::Strength112CreateAfter2030 => {
                "112 ビット強度の鍵（RSA-2048 など）で 2031 年以降に新たな署名を作成することはできません"
            }
            Rule::Strength112NoPoe => {
                "112 ビット強度（RSA-2048 など）は、2031 年 1 月 1 日より前に存在したことの証明（タイムスタンプ等）がある場合にのみ受け入れられます"
            }
            Rule::Strength128CreateAfter2050 => {
                "128 ビット強度の鍵で 2051 年以降に新たな署名を作成することはできません"
            }
            Rule::Strength128NoPoe => {
                "128 ビット強度は、2051 年 1 月 1 日より前に存在したことの証明がある場合にのみ受け入れられます"
            }
            Rule::CurveP224 => {
                "P-224 では新たな署名を作成できません（P-256 以上を使用してください）"
            }
            Rule::DsaVerifyOnly => "DSA は検証にのみ使用できます",
            Rule::DsaTooSmall => "DSA 鍵は p が 2048 ビット以上、q が 224 ビット以上必要です",
            Rule::PssMgf1HashMismatch => {
                "RSASSA-PSS ではメッセージと MGF1 に同じハッシュ関数を使用する必要があります"
            }
            Rule::PssSaltLength => "RSASSA-PSS のソルト長が許容範囲外です",
            Rule::PssKeyRestriction => "RSASSA-PSS のパラメータが鍵に指定された制約に反しています",
            Rule::PssKeyWithPkcs1 => {
                "RSASSA-PSS 専用鍵で PKCS#1 v1.5 署名を作成・検証することはできません"
            }
            Rule::AlgorithmKeyMismatch => "署名アルゴリズムが鍵の種類と一致しません",
            Rule::Ed25519CmsDigest => {
                "CMS の Ed25519 署名ではダイジェストアルゴリズムに SHA-512 が必要です"
            }
            Rule::Ed448CmsDigest => {
                "CMS の Ed448 署名ではダイジェストアルゴリズムに SHAKE256（512 ビット）が必要です"
            }
            Rule::PssCmsDigest => {
                "CMS の RSASSA-PSS 署名ではダイジェストアルゴリズムが PSS のハッシュと一致する必要があります"
            }
            Rule::EcdsaDigestWeakerThanCurve => {
                "ECDSA のダイジェストが曲線の強度より弱くなっています"
            }
            Rule::ShakeNotForSignatures => {
                "SHAKE256 は CMS における Ed448 のダイジェストとしてのみ使用されます"
            }
        }
    }

    /// Which document the rule comes from.
    pub const fn source(self) -> &'static str {
        match self {
            Rule::HashMd5 | Rule::HashSha1 | Rule::HashSha224 => EDITION,
            Rule::RsaModulusTooSmall
            | Rule::StrengthBelow112
            | Rule::Strength112CreateAfter2030
            | Rule::Strength112NoPoe
            | Rule::Strength128CreateAfter2050
            | Rule::Strength128NoPoe
            | Rule::CurveP224
            | Rule::DsaTooSmall => STRENGTH_STANDARD,
            Rule::PssMgf1HashMismatch | Rule::PssSaltLength | Rule::PssKeyWithPkcs1 => "RFC 4055",
            Rule::PssKeyRestriction | Rule::PssCmsDigest => "RFC 4056",
            Rule::Ed25519CmsDigest | Rule::Ed448CmsDigest => "RFC 8419",
            Rule::DsaVerifyOnly
            | Rule::AlgorithmKeyMismatch
            | Rule::EcdsaDigestWeakerThanCurve
            | Rule::ShakeNotForSignatures => "inkan policy",
        }
    }

    /// Whether a proof of existence earlier than the time checked would have made it pass.
    /// The verifier maps these to `CRYPTO_CONSTRAINTS_FAILURE_NO_POE` (EN 319 102-1 §5.2.8).
    pub const fn poe_would_help(self) -> bool {
        matches!(self, Rule::Strength112NoPoe | Rule::Strength128NoPoe)
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// A "no" from the policy: which rule, from which edition or document, about what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The rule.
    pub rule: Rule,
    /// The edition or document the rule comes from.
    pub edition: &'static str,
    /// What was refused, in English ("RSA-1024", "SHA-1", "ECDSA with SHA-256 on Ed25519").
    pub detail: String,
}

impl Refusal {
    fn new(rule: Rule, detail: impl Into<String>) -> Self {
        Self {
            rule,
            edition: rule.source(),
            detail: detail.into(),
        }
    }

    /// The stable rule code.
    pub const fn code(&self) -> &'static str {
        self.rule.code()
    }

    /// The explanation in Japanese.
    pub fn explain_ja(&self) -> String {
        format!(
            "{}: {}（規則 {}、{}）",
            self.detail,
            self.rule.text_ja(),
            self.rule.code(),
            self.edition
        )
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} (rule {}, {})",
            self.detail,
            self.rule.text_en(),
            self.rule.code(),
            self.edition
        )
    }
}

impl std::error::Error for Refusal {}

// =============================================================================================
// The policy.

/// A cryptographic policy: the list table, the strength periods, and the rules around them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Name of the list edition.
    pub edition: &'static str,
    /// The list.
    pub list: &'static [ListEntry],
    /// The strength periods.
    pub periods: &'static [StrengthPeriod],
}

impl Default for Policy {
    fn default() -> Self {
        Self::cryptrec()
    }
}

impl Policy {
    /// CRYPTREC LS-0001-2022 with the 2022 strength requirements.
    pub const fn cryptrec() -> Self {
        Self {
            edition: EDITION,
            list: &LS_0001_2022,
            periods: &STRENGTH_PERIODS,
        }
    }

    /// The list row for `what`, if any.
    pub fn entry(&self, what: Listed) -> Option<&ListEntry> {
        self.list.iter().find(|e| e.what == what)
    }

    /// The list status of a digest.
    pub fn digest_status(&self, d: DigestAlgorithm) -> ListStatus {
        self.entry(Listed::Digest(d))
            .map_or(ListStatus::NotListed, |e| e.status)
    }

    /// `name` describes what is checked; it is formatted only for a refusal.
    fn check_listed(&self, what: Listed, name: &dyn Fn() -> String, u: Use) -> Result<(), Refusal> {
        let Some(e) = self.entry(what) else {
            return Err(Refusal::new(Rule::AlgorithmKeyMismatch, name()));
        };
        let ok = match u {
            Use::Create => e.create,
            Use::Validate => e.validate,
        };
        if ok {
            return Ok(());
        }
        let rule = e.rule.unwrap_or(Rule::AlgorithmKeyMismatch);
        Err(Refusal {
            rule,
            edition: if rule.source() == EDITION {
                self.edition
            } else {
                rule.source()
            },
            detail: name(),
        })
    }

    /// May digest `d` be used (message digests, imprints, signature hashes, ESSCertIDv2)?
    /// Digests have no date rule: MD5, SHA-1 and SHA-224 never pass, the others always do.
    pub fn check_digest(&self, d: DigestAlgorithm, u: Use, _at: UnixTime) -> Result<(), Refusal> {
        self.check_listed(Listed::Digest(d), &|| d.name().to_owned(), u)
    }

    /// A digest used only to identify something (OCSP CertID, ESSCertID v1 in old signatures),
    /// never under a signature: SHA-1 passes here (the identifiers RFC 2634 §5.4.1 and RFC 6960
    /// §4.1.1 define are SHA-1 hashes; no collision resistance is relied on), MD5 does not.
    pub fn check_identification_digest(&self, d: DigestAlgorithm) -> Result<(), Refusal> {
        match d {
            DigestAlgorithm::Md5 => Err(Refusal::new(Rule::HashMd5, d.name())),
            DigestAlgorithm::Sha1 => Ok(()),
            _ => self.check_listed(Listed::Digest(d), &|| d.name().to_owned(), Use::Validate),
        }
    }

    /// May key `k` be used at `at`? Size floors first (RSA < 2048, DSA < 2048/224, P-224 and
    /// DSA for creation), then the strength period for `at`.
    pub fn check_key(&self, k: &PublicKeyKind, u: Use, at: UnixTime) -> Result<(), Refusal> {
        // Formatted only for a refusal (validators check every key of every path).
        let name = || k.name();
        match *k {
            PublicKeyKind::Rsa { modulus_bits } | PublicKeyKind::RsaPss { modulus_bits, .. }
                if modulus_bits < MIN_RSA_BITS =>
            {
                return Err(Refusal::new(Rule::RsaModulusTooSmall, name()));
            }
            PublicKeyKind::RsaPss {
                params: Some(p), ..
            } => {
                self.check_pss_params(&p, u, &name())?;
            }
            PublicKeyKind::Ec(Curve::P224) if u == Use::Create => {
                return Err(Refusal::new(Rule::CurveP224, name()));
            }
            PublicKeyKind::Dsa { .. } if u == Use::Create => {
                return Err(Refusal::new(Rule::DsaVerifyOnly, name()));
            }
            PublicKeyKind::Dsa { p_bits, q_bits }
                if p_bits < MIN_DSA_P_BITS || q_bits < MIN_DSA_Q_BITS =>
            {
                return Err(Refusal::new(Rule::DsaTooSmall, name()));
            }
            _ => {}
        }
        self.check_strength_with(key_strength_bits(k), u, at, &name)
    }

    /// The date rule for material of `bits` strength used at `at`.
    pub fn check_strength(
        &self,
        bits: u32,
        u: Use,
        at: UnixTime,
        what: &str,
    ) -> Result<(), Refusal> {
        self.check_strength_with(bits, u, at, &|| what.to_owned())
    }

    /// [`Self::check_strength`], formatting `what` only for a refusal.
    fn check_strength_with(
        &self,
        bits: u32,
        u: Use,
        at: UnixTime,
        what: &dyn Fn() -> String,
    ) -> Result<(), Refusal> {
        // The row for `bits`: the last whose floor it reaches.
        let Some(period) = self.periods.iter().rev().find(|p| bits >= p.bits) else {
            return Err(Refusal::new(
                Rule::StrengthBelow112,
                format!("{} ({bits}-bit)", what()),
            ));
        };
        let (limit, rule) = match (u, period.bits) {
            (Use::Create, 112) => (period.create_before, Rule::Strength112CreateAfter2030),
            (Use::Validate, 112) => (period.poe_before, Rule::Strength112NoPoe),
            (Use::Create, _) => (period.create_before, Rule::Strength128CreateAfter2050),
            (Use::Validate, _) => (period.poe_before, Rule::Strength128NoPoe),
        };
        match limit {
            Some(end) if at >= end => Err(Refusal::new(rule, format!("{} ({bits}-bit)", what()))),
            _ => Ok(()),
        }
    }

    fn check_pss_params(&self, p: &PssParams, u: Use, what: &str) -> Result<(), Refusal> {
        for d in [p.hash, p.mgf1_hash] {
            if d == DigestAlgorithm::Shake256_512 {
                return Err(Refusal::new(Rule::ShakeNotForSignatures, what));
            }
            self.check_digest(d, u, UnixTime::from_secs(0))
                .map_err(|r| Refusal {
                    detail: format!("{what}: {}", r.detail),
                    ..r
                })?;
        }
        if p.hash != p.mgf1_hash {
            return Err(Refusal::new(
                Rule::PssMgf1HashMismatch,
                format!("{what}: hash {} with MGF1 {}", p.hash, p.mgf1_hash),
            ));
        }
        let salt_ok = match u {
            // New signatures: salt as long as the hash (RFC 4055 §3.1 recommendation).
            Use::Create => p.salt_len as usize == p.hash.output_len(),
            Use::Validate => p.salt_len <= MAX_PSS_SALT,
        };
        if !salt_ok {
            return Err(Refusal::new(
                Rule::PssSaltLength,
                format!("{what}: salt {} with {}", p.salt_len, p.hash),
            ));
        }
        Ok(())
    }

    /// May signature algorithm `sig` be used with key `k` at `at`? Checks, in order: that the
    /// algorithm fits the key (and a PSS key's restriction, RFC 4056 §3), the scheme's place on
    /// the list, the hash, the PSS parameters, then [`Self::check_key`].
    pub fn check_signature(
        &self,
        sig: &SignatureAlgorithm,
        k: &PublicKeyKind,
        u: Use,
        at: UnixTime,
    ) -> Result<(), Refusal> {
        // Formatted only for a refusal.
        let what = || format!("{sig} with {k}");
        let fits = match (sig, k) {
            (SignatureAlgorithm::RsaPkcs1(_), PublicKeyKind::Rsa { .. })
            | (SignatureAlgorithm::RsaPss(_), PublicKeyKind::Rsa { .. })
            | (SignatureAlgorithm::RsaPss(_), PublicKeyKind::RsaPss { params: None, .. })
            | (SignatureAlgorithm::Ecdsa(_), PublicKeyKind::Ec(_))
            | (SignatureAlgorithm::Ed25519, PublicKeyKind::Ed25519)
            | (SignatureAlgorithm::Ed448, PublicKeyKind::Ed448)
            | (SignatureAlgorithm::Dsa(_), PublicKeyKind::Dsa { .. }) => true,
            (SignatureAlgorithm::RsaPkcs1(_), PublicKeyKind::RsaPss { .. }) => {
                return Err(Refusal::new(Rule::PssKeyWithPkcs1, what()));
            }
            (
                SignatureAlgorithm::RsaPss(s),
                PublicKeyKind::RsaPss {
                    params: Some(kp), ..
                },
            ) => {
                // RFC 4056 §3: same hash, same MGF, salt at least the key's, same trailer
                // (always 1 here).
                if s.hash != kp.hash || s.mgf1_hash != kp.mgf1_hash || s.salt_len < kp.salt_len {
                    return Err(Refusal::new(Rule::PssKeyRestriction, what()));
                }
                true
            }
            _ => false,
        };
        if !fits {
            return Err(Refusal::new(Rule::AlgorithmKeyMismatch, what()));
        }
        self.check_listed(Listed::Scheme(Scheme::of(sig)), &what, u)?;
        if let Some(d) = sig.digest() {
            if d == DigestAlgorithm::Shake256_512 {
                return Err(Refusal::new(Rule::ShakeNotForSignatures, what()));
            }
            self.check_digest(d, u, at)?;
        }
        if let SignatureAlgorithm::RsaPss(p) = sig {
            self.check_pss_params(p, u, &what())?;
        }
        self.check_key(k, u, at)
    }

    /// The `SignerInfo.digestAlgorithm` / signature pairing rules of CMS: Ed25519 needs
    /// SHA-512, Ed448 needs SHAKE256/512 (RFC 8419 §3.1), RSASSA-PSS needs the PSS hash
    /// (RFC 4056 §3). Other pairings are left to [`Self::check_digest`].
    pub fn check_cms_digest_pairing(
        &self,
        sig: &SignatureAlgorithm,
        digest: DigestAlgorithm,
    ) -> Result<(), Refusal> {
        check_cms_digest_pairing(sig, digest)
    }

    /// For new ECDSA signatures: a digest at least as strong as the curve (half its output
    /// length in bits, against the curve strength). Validation does not use this rule.
    pub fn check_ecdsa_digest(&self, curve: Curve, digest: DigestAlgorithm) -> Result<(), Refusal> {
        let digest_bits = u32::try_from(digest.output_len() * 4).unwrap_or(0);
        if digest_bits >= curve_strength_bits(curve) {
            Ok(())
        } else {
            Err(Refusal::new(
                Rule::EcdsaDigestWeakerThanCurve,
                format!("ECDSA {} with {digest}", curve.name()),
            ))
        }
    }

    /// Signature algorithms key `k` may create with at `at`, best first. RSA keys prefer
    /// PKCS#1 v1.5 (OpenSSL 3.0 `ts -verify` rejects PSS time-stamp tokens, as measured), then
    /// PSS; an id-RSASSA-PSS key gets PSS only, within its restriction; EC keys get ECDSA with
    /// the matching digest first; DSA keys get nothing (verify-only).
    pub fn signing_preferences(&self, k: &PublicKeyKind, at: UnixTime) -> Vec<SignatureAlgorithm> {
        use DigestAlgorithm as D;
        let strength = key_strength_bits(k);
        let matching = match strength {
            s if s >= 256 => D::Sha512,
            s if s >= 192 => D::Sha384,
            _ => D::Sha256,
        };
        let mut digests = vec![matching];
        for d in [D::Sha256, D::Sha384, D::Sha512] {
            if !digests.contains(&d) {
                digests.push(d);
            }
        }
        let candidates: Vec<SignatureAlgorithm> = match *k {
            PublicKeyKind::Rsa { .. } => digests
                .iter()
                .map(|d| SignatureAlgorithm::RsaPkcs1(*d))
                .chain(
                    digests
                        .iter()
                        .map(|d| SignatureAlgorithm::RsaPss(PssParams::for_hash(*d))),
                )
                .collect(),
            PublicKeyKind::RsaPss { params: None, .. } => digests
                .iter()
                .map(|d| SignatureAlgorithm::RsaPss(PssParams::for_hash(*d)))
                .collect(),
            PublicKeyKind::RsaPss {
                params: Some(p), ..
            } => {
                let salt_len = p
                    .salt_len
                    .max(u32::try_from(p.hash.output_len()).unwrap_or(0));
                vec![SignatureAlgorithm::RsaPss(PssParams { salt_len, ..p })]
            }
            PublicKeyKind::Ec(c) => {
                let first = c.matching_digest();
                std::iter::once(first)
                    .chain(digests.iter().copied().filter(|d| *d != first))
                    .map(SignatureAlgorithm::Ecdsa)
                    .collect()
            }
            PublicKeyKind::Ed25519 => vec![SignatureAlgorithm::Ed25519],
            PublicKeyKind::Ed448 => vec![SignatureAlgorithm::Ed448],
            PublicKeyKind::Dsa { .. } => Vec::new(),
        };
        candidates
            .into_iter()
            .filter(|s| self.check_signature(s, k, Use::Create, at).is_ok())
            .collect()
    }
}

/// The CMS digest/signature pairing rules (see [`Policy::check_cms_digest_pairing`]).
pub fn check_cms_digest_pairing(
    sig: &SignatureAlgorithm,
    digest: DigestAlgorithm,
) -> Result<(), Refusal> {
    let what = || format!("{sig} with digestAlgorithm {digest}");
    match sig {
        SignatureAlgorithm::Ed25519 if digest != DigestAlgorithm::Sha512 => {
            Err(Refusal::new(Rule::Ed25519CmsDigest, what()))
        }
        SignatureAlgorithm::Ed448 if digest != DigestAlgorithm::Shake256_512 => {
            Err(Refusal::new(Rule::Ed448CmsDigest, what()))
        }
        SignatureAlgorithm::RsaPss(p) if p.hash != digest => {
            Err(Refusal::new(Rule::PssCmsDigest, what()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DigestAlgorithm as D;

    const P: Policy = Policy::cryptrec();
    /// 2026-11-23T00:00:00Z.
    const NOW: UnixTime = UnixTime::from_secs(1_795_392_000);
    /// 2030-12-31T23:59:59Z.
    const LAST_112: UnixTime = UnixTime::from_secs(1_924_991_999);
    /// 2031-01-01T00:00:00Z.
    const FIRST_NO_112: UnixTime = UnixTime::from_secs(1_924_992_000);
    /// 2050-12-31T23:59:59Z.
    const LAST_128: UnixTime = UnixTime::from_secs(2_556_143_999);
    /// 2100-01-01T00:00:00Z.
    const FAR: UnixTime = UnixTime::from_secs(4_102_444_800);

    const RSA1024: PublicKeyKind = PublicKeyKind::Rsa { modulus_bits: 1024 };
    const RSA2047: PublicKeyKind = PublicKeyKind::Rsa { modulus_bits: 2047 };
    const RSA2048: PublicKeyKind = PublicKeyKind::Rsa { modulus_bits: 2048 };
    const RSA3072: PublicKeyKind = PublicKeyKind::Rsa { modulus_bits: 3072 };
    const RSA7680: PublicKeyKind = PublicKeyKind::Rsa { modulus_bits: 7680 };

    fn rule<T: std::fmt::Debug>(r: Result<T, Refusal>) -> Rule {
        r.expect_err("expected a refusal").rule
    }

    #[test]
    fn boundary_constants() {
        assert_eq!(END_OF_112, FIRST_NO_112);
        assert_eq!(END_OF_128.secs(), LAST_128.secs() + 1);
        // Cross-check with the GeneralizedTime decoder.
        use crate::asn1::tsp::GenTime;
        use der::Decode;
        let g = GenTime::from_der(b"\x18\x0f20310101000000Z").unwrap();
        assert_eq!(g.to_unix(), END_OF_112);
        let g = GenTime::from_der(b"\x18\x0f20510101000000Z").unwrap();
        assert_eq!(g.to_unix(), END_OF_128);
    }

    #[test]
    fn digests() {
        for u in [Use::Create, Use::Validate] {
            assert_eq!(rule(P.check_digest(D::Md5, u, NOW)), Rule::HashMd5);
            assert_eq!(rule(P.check_digest(D::Sha1, u, NOW)), Rule::HashSha1);
            assert_eq!(rule(P.check_digest(D::Sha224, u, NOW)), Rule::HashSha224);
            for d in [
                D::Sha256,
                D::Sha384,
                D::Sha512,
                D::Sha3_256,
                D::Sha3_384,
                D::Sha3_512,
            ] {
                assert_eq!(P.check_digest(d, u, NOW), Ok(()));
                assert_eq!(P.check_digest(d, u, FAR), Ok(()));
            }
        }
        assert_eq!(P.digest_status(D::Sha1), ListStatus::Monitored);
        assert_eq!(P.digest_status(D::Md5), ListStatus::NotListed);
        assert_eq!(P.digest_status(D::Sha3_256), ListStatus::Recommended);
        assert_eq!(P.entry(Listed::Digest(D::Sha3_256)).unwrap().since, EDITION);
        assert_eq!(
            P.entry(Listed::Scheme(Scheme::EdDsa)).unwrap().since,
            EDITION
        );
        assert_eq!(P.check_identification_digest(D::Sha1), Ok(()));
        assert_eq!(rule(P.check_identification_digest(D::Md5)), Rule::HashMd5);
        assert_eq!(
            rule(P.check_identification_digest(D::Sha224)),
            Rule::HashSha224
        );
    }

    #[test]
    fn every_digest_and_scheme_has_a_row() {
        for d in D::ALL {
            assert!(P.entry(Listed::Digest(d)).is_some(), "{d}");
        }
        for s in [
            Scheme::RsaPkcs1,
            Scheme::RsaPss,
            Scheme::Ecdsa,
            Scheme::EdDsa,
            Scheme::Dsa,
        ] {
            assert!(P.entry(Listed::Scheme(s)).is_some());
        }
        for e in P.list {
            assert_eq!(e.rule.is_some(), !(e.create && e.validate), "{e:?}");
        }
    }

    #[test]
    fn rsa_sizes() {
        for u in [Use::Create, Use::Validate] {
            assert_eq!(
                rule(P.check_key(&RSA1024, u, NOW)),
                Rule::RsaModulusTooSmall
            );
            assert_eq!(
                rule(P.check_key(&RSA2047, u, NOW)),
                Rule::RsaModulusTooSmall
            );
            let pss1024 = PublicKeyKind::RsaPss {
                modulus_bits: 1024,
                params: None,
            };
            assert_eq!(
                rule(P.check_key(&pss1024, u, NOW)),
                Rule::RsaModulusTooSmall
            );
        }
        assert_eq!(P.check_key(&RSA2048, Use::Create, NOW), Ok(()));
        assert_eq!(
            P.check_key(&RSA3072, Use::Create, FAR),
            Err(Refusal::new(
                Rule::Strength128CreateAfter2050,
                "RSA-3072 (128-bit)"
            ))
        );
        assert_eq!(P.check_key(&RSA7680, Use::Create, FAR), Ok(()));
    }

    #[test]
    fn strength_112_boundary() {
        for k in [
            RSA2048,
            PublicKeyKind::Dsa {
                p_bits: 2048,
                q_bits: 224,
            },
        ] {
            if !matches!(k, PublicKeyKind::Dsa { .. }) {
                assert_eq!(P.check_key(&k, Use::Create, LAST_112), Ok(()));
                assert_eq!(
                    rule(P.check_key(&k, Use::Create, FIRST_NO_112)),
                    Rule::Strength112CreateAfter2030
                );
            }
            assert_eq!(P.check_key(&k, Use::Validate, LAST_112), Ok(()));
            let r = P.check_key(&k, Use::Validate, FIRST_NO_112).unwrap_err();
            assert_eq!(r.rule, Rule::Strength112NoPoe);
            assert!(r.rule.poe_would_help());
            assert!(r.to_string().contains("before 2031-01-01"), "{r}");
        }
        // P-224: never creates; validates like other 112-bit material.
        let p224 = PublicKeyKind::Ec(Curve::P224);
        assert_eq!(rule(P.check_key(&p224, Use::Create, NOW)), Rule::CurveP224);
        assert_eq!(P.check_key(&p224, Use::Validate, LAST_112), Ok(()));
        assert_eq!(
            rule(P.check_key(&p224, Use::Validate, FIRST_NO_112)),
            Rule::Strength112NoPoe
        );
        // 128-bit keys pass either side of the 112-bit cut-off.
        for k in [
            RSA3072,
            PublicKeyKind::Ec(Curve::P256),
            PublicKeyKind::Ed25519,
        ] {
            for t in [LAST_112, FIRST_NO_112, LAST_128] {
                assert_eq!(P.check_key(&k, Use::Create, t), Ok(()), "{k} {t:?}");
                assert_eq!(P.check_key(&k, Use::Validate, t), Ok(()));
            }
            assert_eq!(
                rule(P.check_key(&k, Use::Validate, FAR)),
                Rule::Strength128NoPoe
            );
        }
        for k in [
            PublicKeyKind::Ec(Curve::P384),
            PublicKeyKind::Ec(Curve::P521),
            PublicKeyKind::Ed448,
        ] {
            assert_eq!(P.check_key(&k, Use::Create, FAR), Ok(()));
        }
    }

    #[test]
    fn dsa() {
        let dsa = PublicKeyKind::Dsa {
            p_bits: 2048,
            q_bits: 256,
        };
        assert_eq!(
            rule(P.check_key(&dsa, Use::Create, NOW)),
            Rule::DsaVerifyOnly
        );
        assert_eq!(P.check_key(&dsa, Use::Validate, NOW), Ok(()));
        let small = PublicKeyKind::Dsa {
            p_bits: 1024,
            q_bits: 160,
        };
        assert_eq!(
            rule(P.check_key(&small, Use::Validate, NOW)),
            Rule::DsaTooSmall
        );
        let sig = SignatureAlgorithm::Dsa(D::Sha256);
        assert_eq!(
            rule(P.check_signature(&sig, &dsa, Use::Create, NOW)),
            Rule::DsaVerifyOnly
        );
        assert_eq!(P.check_signature(&sig, &dsa, Use::Validate, NOW), Ok(()));
        assert_eq!(
            rule(P.check_signature(&SignatureAlgorithm::Dsa(D::Sha1), &dsa, Use::Validate, NOW)),
            Rule::HashSha1
        );
        assert!(P.signing_preferences(&dsa, NOW).is_empty());
    }

    #[test]
    fn signature_hash_rules() {
        let ec = PublicKeyKind::Ec(Curve::P256);
        for u in [Use::Create, Use::Validate] {
            assert_eq!(
                rule(P.check_signature(&SignatureAlgorithm::RsaPkcs1(D::Sha1), &RSA3072, u, NOW)),
                Rule::HashSha1
            );
            assert_eq!(
                rule(P.check_signature(&SignatureAlgorithm::RsaPkcs1(D::Md5), &RSA3072, u, NOW)),
                Rule::HashMd5
            );
            assert_eq!(
                rule(P.check_signature(&SignatureAlgorithm::Ecdsa(D::Sha224), &ec, u, NOW)),
                Rule::HashSha224
            );
            assert_eq!(
                rule(P.check_signature(&SignatureAlgorithm::Ecdsa(D::Sha1), &ec, u, NOW)),
                Rule::HashSha1
            );
        }
        assert_eq!(
            P.check_signature(
                &SignatureAlgorithm::Ecdsa(D::Sha3_256),
                &ec,
                Use::Create,
                NOW
            ),
            Ok(())
        );
        // SHA-1 with RSA-1024: the hash is named first.
        assert_eq!(
            rule(P.check_signature(
                &SignatureAlgorithm::RsaPkcs1(D::Sha1),
                &RSA1024,
                Use::Validate,
                NOW
            )),
            Rule::HashSha1
        );
        assert_eq!(
            rule(P.check_signature(
                &SignatureAlgorithm::RsaPkcs1(D::Sha256),
                &RSA1024,
                Use::Validate,
                NOW
            )),
            Rule::RsaModulusTooSmall
        );
    }

    #[test]
    fn algorithm_key_mismatch() {
        let ec = PublicKeyKind::Ec(Curve::P256);
        for (sig, k) in [
            (SignatureAlgorithm::Ecdsa(D::Sha256), RSA3072),
            (SignatureAlgorithm::RsaPkcs1(D::Sha256), ec),
            (SignatureAlgorithm::Ed25519, ec),
            (SignatureAlgorithm::Ed448, PublicKeyKind::Ed25519),
            (SignatureAlgorithm::Dsa(D::Sha256), RSA3072),
        ] {
            assert_eq!(
                rule(P.check_signature(&sig, &k, Use::Validate, NOW)),
                Rule::AlgorithmKeyMismatch
            );
        }
    }

    #[test]
    fn pss_rules() {
        let good = PssParams::for_hash(D::Sha256);
        let sig = SignatureAlgorithm::RsaPss(good);
        assert_eq!(P.check_signature(&sig, &RSA3072, Use::Create, NOW), Ok(()));
        // Hash and MGF1 hash differ.
        let mixed = SignatureAlgorithm::RsaPss(PssParams {
            mgf1_hash: D::Sha384,
            ..good
        });
        assert_eq!(
            rule(P.check_signature(&mixed, &RSA3072, Use::Validate, NOW)),
            Rule::PssMgf1HashMismatch
        );
        // MGF1 with SHA-1.
        let mgf_sha1 = SignatureAlgorithm::RsaPss(PssParams {
            mgf1_hash: D::Sha1,
            ..good
        });
        assert_eq!(
            rule(P.check_signature(&mgf_sha1, &RSA3072, Use::Validate, NOW)),
            Rule::HashSha1
        );
        // Defaults (SHA-1 everywhere).
        let defaults = SignatureAlgorithm::RsaPss(PssParams {
            hash: D::Sha1,
            mgf1_hash: D::Sha1,
            salt_len: 20,
        });
        assert_eq!(
            rule(P.check_signature(&defaults, &RSA3072, Use::Validate, NOW)),
            Rule::HashSha1
        );
        // Salt: create needs hash length; validate tolerates others up to the bound.
        let salt0 = SignatureAlgorithm::RsaPss(PssParams {
            salt_len: 0,
            ..good
        });
        assert_eq!(
            rule(P.check_signature(&salt0, &RSA3072, Use::Create, NOW)),
            Rule::PssSaltLength
        );
        assert_eq!(
            P.check_signature(&salt0, &RSA3072, Use::Validate, NOW),
            Ok(())
        );
        let huge = SignatureAlgorithm::RsaPss(PssParams {
            salt_len: 4096,
            ..good
        });
        assert_eq!(
            rule(P.check_signature(&huge, &RSA3072, Use::Validate, NOW)),
            Rule::PssSaltLength
        );
        // PSS key with a restriction (RFC 4056 §3).
        let key = PublicKeyKind::RsaPss {
            modulus_bits: 3072,
            params: Some(PssParams::for_hash(D::Sha384)),
        };
        let ok = SignatureAlgorithm::RsaPss(PssParams::for_hash(D::Sha384));
        assert_eq!(P.check_signature(&ok, &key, Use::Create, NOW), Ok(()));
        assert_eq!(
            rule(P.check_signature(&sig, &key, Use::Validate, NOW)),
            Rule::PssKeyRestriction
        );
        let short_salt = SignatureAlgorithm::RsaPss(PssParams {
            salt_len: 32,
            ..PssParams::for_hash(D::Sha384)
        });
        assert_eq!(
            rule(P.check_signature(&short_salt, &key, Use::Validate, NOW)),
            Rule::PssKeyRestriction
        );
        let longer_salt = SignatureAlgorithm::RsaPss(PssParams {
            salt_len: 64,
            ..PssParams::for_hash(D::Sha384)
        });
        assert_eq!(
            P.check_signature(&longer_salt, &key, Use::Validate, NOW),
            Ok(())
        );
        // PKCS#1 v1.5 with a PSS key.
        assert_eq!(
            rule(P.check_signature(
                &SignatureAlgorithm::RsaPkcs1(D::Sha384),
                &key,
                Use::Validate,
                NOW
            )),
            Rule::PssKeyWithPkcs1
        );
        // A PSS key restricted to SHA-1 is refused as a key.
        let sha1_key = PublicKeyKind::RsaPss {
            modulus_bits: 3072,
            params: Some(PssParams {
                hash: D::Sha1,
                mgf1_hash: D::Sha1,
                salt_len: 20,
            }),
        };
        assert_eq!(
            rule(P.check_key(&sha1_key, Use::Validate, NOW)),
            Rule::HashSha1
        );
        // Unrestricted PSS key with any good PSS.
        let free = PublicKeyKind::RsaPss {
            modulus_bits: 3072,
            params: None,
        };
        assert_eq!(P.check_signature(&sig, &free, Use::Create, NOW), Ok(()));
    }

    #[test]
    fn signature_dates() {
        let s = SignatureAlgorithm::RsaPkcs1(D::Sha256);
        assert_eq!(
            P.check_signature(&s, &RSA2048, Use::Create, LAST_112),
            Ok(())
        );
        assert_eq!(
            rule(P.check_signature(&s, &RSA2048, Use::Create, FIRST_NO_112)),
            Rule::Strength112CreateAfter2030
        );
        assert_eq!(
            P.check_signature(&s, &RSA2048, Use::Validate, LAST_112),
            Ok(())
        );
        assert_eq!(
            rule(P.check_signature(&s, &RSA2048, Use::Validate, FIRST_NO_112)),
            Rule::Strength112NoPoe
        );
    }

    #[test]
    fn cms_pairing() {
        assert_eq!(
            check_cms_digest_pairing(&SignatureAlgorithm::Ed25519, D::Sha512),
            Ok(())
        );
        assert_eq!(
            rule(check_cms_digest_pairing(
                &SignatureAlgorithm::Ed25519,
                D::Sha256
            )),
            Rule::Ed25519CmsDigest
        );
        assert_eq!(
            P.check_cms_digest_pairing(&SignatureAlgorithm::Ed448, D::Shake256_512),
            Ok(())
        );
        assert_eq!(
            rule(P.check_cms_digest_pairing(&SignatureAlgorithm::Ed448, D::Sha512)),
            Rule::Ed448CmsDigest
        );
        let pss = SignatureAlgorithm::RsaPss(PssParams::for_hash(D::Sha384));
        assert_eq!(check_cms_digest_pairing(&pss, D::Sha384), Ok(()));
        assert_eq!(
            rule(check_cms_digest_pairing(&pss, D::Sha256)),
            Rule::PssCmsDigest
        );
        assert_eq!(
            check_cms_digest_pairing(&SignatureAlgorithm::Ecdsa(D::Sha256), D::Sha384),
            Ok(())
        );
        // SHAKE is not a signature hash.
        assert_eq!(
            rule(P.check_signature(
                &SignatureAlgorithm::Ecdsa(D::Shake256_512),
                &PublicKeyKind::Ec(Curve::P521),
                Use::Validate,
                NOW
            )),
            Rule::ShakeNotForSignatures
        );
    }

    #[test]
    fn ecdsa_digest_curve() {
        assert_eq!(P.check_ecdsa_digest(Curve::P256, D::Sha256), Ok(()));
        assert_eq!(P.check_ecdsa_digest(Curve::P256, D::Sha512), Ok(()));
        assert_eq!(
            rule(P.check_ecdsa_digest(Curve::P384, D::Sha256)),
            Rule::EcdsaDigestWeakerThanCurve
        );
        assert_eq!(P.check_ecdsa_digest(Curve::P521, D::Sha512), Ok(()));
        for c in [Curve::P256, Curve::P384, Curve::P521] {
            assert_eq!(P.check_ecdsa_digest(c, c.matching_digest()), Ok(()));
        }
    }

    #[test]
    fn preferences() {
        let p = |k: PublicKeyKind, t| P.signing_preferences(&k, t);
        assert_eq!(p(RSA3072, NOW)[0], SignatureAlgorithm::RsaPkcs1(D::Sha256));
        assert!(
            p(RSA3072, NOW).contains(&SignatureAlgorithm::RsaPss(PssParams::for_hash(D::Sha512)))
        );
        assert_eq!(p(RSA7680, NOW)[0], SignatureAlgorithm::RsaPkcs1(D::Sha384));
        assert_eq!(p(RSA2048, LAST_112).len(), 6);
        assert!(p(RSA2048, FIRST_NO_112).is_empty());
        assert!(p(RSA1024, NOW).is_empty());
        assert_eq!(
            p(PublicKeyKind::Ec(Curve::P384), NOW)[0],
            SignatureAlgorithm::Ecdsa(D::Sha384)
        );
        assert_eq!(
            p(PublicKeyKind::Ec(Curve::P521), NOW)[0],
            SignatureAlgorithm::Ecdsa(D::Sha512)
        );
        assert_eq!(
            p(PublicKeyKind::Ec(Curve::P256), NOW)[0],
            SignatureAlgorithm::Ecdsa(D::Sha256)
        );
        assert!(p(PublicKeyKind::Ec(Curve::P224), NOW).is_empty());
        assert_eq!(
            p(PublicKeyKind::Ed25519, NOW),
            [SignatureAlgorithm::Ed25519]
        );
        let key = PublicKeyKind::RsaPss {
            modulus_bits: 3072,
            params: Some(PssParams::for_hash(D::Sha384)),
        };
        assert_eq!(
            p(key, NOW),
            [SignatureAlgorithm::RsaPss(PssParams::for_hash(D::Sha384))]
        );
        let free = PublicKeyKind::RsaPss {
            modulus_bits: 4096,
            params: None,
        };
        assert!(
            p(free, NOW)
                .iter()
                .all(|s| matches!(s, SignatureAlgorithm::RsaPss(_)))
        );
        // Every preference passes the checks.
        for k in [RSA3072, RSA7680, PublicKeyKind::Ec(Curve::P256), key, free] {
            for s in p(k, NOW) {
                assert_eq!(P.check_signature(&s, &k, Use::Create, NOW), Ok(()));
                assert!(s.is_encodable());
            }
        }
    }

    #[test]
    fn texts() {
        let r = P.check_key(&RSA1024, Use::Create, NOW).unwrap_err();
        assert_eq!(r.code(), "CRYPTREC-RSA-MIN-2048");
        assert_eq!(
            r.to_string(),
            "RSA-1024: RSA keys must be at least 2048 bits (rule CRYPTREC-RSA-MIN-2048, CRYPTREC strength requirements (2022))"
        );
        assert!(r.explain_ja().contains("2048 ビット以上"));
        let r = P.check_digest(D::Sha1, Use::Validate, NOW).unwrap_err();
        assert_eq!(r.edition, "CRYPTREC LS-0001-2022");
        assert!(r.explain_ja().contains("運用監視暗号リスト"));
        // Codes are unique.
        let all = Rule::ALL;
        let codes: std::collections::HashSet<_> = all.iter().map(|r| r.code()).collect();
        assert_eq!(codes.len(), all.len());
        for r in all {
            assert!(!r.text_en().is_empty() && !r.text_ja().is_empty());
        }
    }

    #[test]
    fn below_112() {
        assert_eq!(
            rule(P.check_strength(80, Use::Validate, NOW, "x")),
            Rule::StrengthBelow112
        );
    }
}
