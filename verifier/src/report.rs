//! The validation report: indication, sub-indication, findings, and the facts a citizen needs;
//! rendered as text (Japanese or English) or JSON.

use serde::Serialize;

use crate::checks::Check;
pub use crate::checks::{Indication, Sub};
pub use crate::cli::Lang;

/// The texts of the sub-indications (the enum itself is in [`crate::checks`]).
impl Sub {
    /// What this outcome means for someone who knows nothing about PKI, and what they can
    /// do about it, in plain words (the code itself is in the line above it).
    pub fn explain(self, lang: Lang) -> &'static str {
        let (en, ja) = match self {
            Self::FormatFailure => (
                "The file cannot be read as a signature, seal or time-stamp, or it breaks the rules of its format. Check that this is the right file (a .p7s or .p7m signature, or a .tsr or .tst time-stamp).",
                "ファイルを署名・eシール・タイムスタンプとして読み取れないか、形式の規則に反しています。正しいファイル(.p7s / .p7m の署名、または .tsr / .tst のタイムスタンプ)か確認してください。",
            ),
            Self::HashFailure => (
                "The document is not the one that was sealed: it was changed after sealing, or another file was given with --data.",
                "文書が押印(署名)されたものと一致しません。押印後に改変されたか、--data に別のファイルが指定されています。",
            ),
            Self::SigCryptoFailure => (
                "The seal does not check out with the signer's key: it was damaged or forged, or the signed parts were altered.",
                "署名値が署名者の鍵で検証できません。署名が破損・偽造されたか、署名された部分が改変されています。",
            ),
            Self::Revoked => (
                "The signer's certificate had been revoked before the seal is proven to exist: do not treat the seal as made by the named party.",
                "署名の存在が証明される時刻より前に、署名者の証明書が失効しています。記載の者による署名として扱わないでください。",
            ),
            Self::Expired => (
                "The seal was made after the signer's certificate had expired.",
                "署名者の証明書の有効期限が切れた後に署名されています。",
            ),
            Self::NotYetValid => (
                "The seal is dated before the signer's certificate became valid.",
                "署名者の証明書の有効期間が始まる前の時刻に署名されています。",
            ),
            Self::SigConstraintsFailure => (
                "The signature's attributes do not meet the validation policy.",
                "署名の属性が検証ポリシーの要件を満たしていません。",
            ),
            Self::ChainConstraintsFailure => (
                "The certificate chain breaks one of its own rules (name constraints, certificate policies, path length or key usage).",
                "証明書チェーンが自らの制約(名前制約・証明書ポリシー・パス長・鍵用途)に違反しています。",
            ),
            Self::CertificateChainGeneralFailure => (
                "The certificate chain could not be validated.",
                "証明書チェーンを検証できませんでした。",
            ),
            Self::CryptoConstraintsFailure => (
                "An algorithm or key size used here was no longer acceptable under CRYPTREC when the seal is proven to exist.",
                "使われている暗号アルゴリズムまたは鍵長は、署名の存在が証明される時刻には既に CRYPTREC の基準で許容されていません。",
            ),
            Self::TimestampOrderFailure => (
                "The time-stamps contradict each other: the one over the document is later than the one over the seal.",
                "タイムスタンプの時刻が互いに矛盾しています(文書へのタイムスタンプが署名へのタイムスタンプより後です)。",
            ),
            Self::NoSigningCertificateFound => (
                "The signer's certificate is neither in the file nor among the certificates given: ask the sender for a file that includes it.",
                "署名者の証明書がファイルにも指定された証明書にも見つかりません。証明書を含むファイルを送信者に求めてください。",
            ),
            Self::NoCertificateChainFound => (
                "The signer's certificate does not lead to an authority you trust. Give that authority's root certificate with --trust, once you have made sure it really comes from that authority.",
                "署名者の証明書が、信頼する認証局までたどれません。発行元から入手したことを確かめたルート証明書を --trust で指定してください。",
            ),
            Self::RevokedNoPoe => (
                "The signer's certificate has been revoked, and nothing (no valid time-stamp) proves the seal was made before that.",
                "署名者の証明書は失効しており、失効より前に署名されたことを示す証拠(有効なタイムスタンプ)がありません。",
            ),
            Self::RevokedCaNoPoe => (
                "A certificate authority in the chain has been revoked, and nothing proves the seal was made before that.",
                "チェーン中の認証局の証明書が失効しており、それより前に署名されたことを示す証拠がありません。",
            ),
            Self::OutOfBoundsNotRevoked => (
                "The signer's certificate has expired (it was not revoked), and no time-stamp proves the seal was made while it was valid.",
                "署名者の証明書は有効期限切れです(失効はしていません)。有効期間中に署名されたことを示すタイムスタンプがありません。",
            ),
            Self::OutOfBoundsNoPoe => (
                "The signer's certificate was outside its validity period at the validation time, and no time-stamp proves the seal was made while it was valid.",
                "検証時刻に署名者の証明書が有効期間外で、有効期間中に署名されたことを示すタイムスタンプがありません。",
            ),
            Self::CryptoConstraintsFailureNoPoe => (
                "An algorithm or key size used here is no longer acceptable under CRYPTREC, and no time-stamp proves the seal was made while it still was.",
                "使われている暗号アルゴリズムまたは鍵長は現在 CRYPTREC の基準で許容されておらず、許容されていた時期に署名されたことを示すタイムスタンプがありません。",
            ),
            Self::NoPoe => (
                "Nothing proves the signed object existed at the time that matters.",
                "必要な時刻に対象が存在していたことを示す証拠がありません。",
            ),
            Self::TryLater => (
                "Revocation information is missing or not recent enough: give a current CRL or OCSP response with --crl or --ocsp, or try again later.",
                "失効情報が不足しているか、十分に新しくありません。最新の CRL または OCSP 応答を --crl / --ocsp で指定するか、後でもう一度お試しください。",
            ),
            Self::SignedDataNotFound => (
                "This is a detached signature: give the original document with --data.",
                "これは分離署名です。元の文書を --data で指定してください。",
            ),
        };
        if lang == Lang::Ja { ja } else { en }
    }

    /// Upper snake case name.
    pub fn as_str(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

/// One finding with a stable code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable code ([`Check::code`]).
    pub code: &'static str,
    /// Explanation (English), with the details (names, times).
    pub message: String,
    /// What the code means, in Japanese ([`Check::text_ja`]).
    pub message_ja: String,
}

impl Finding {
    /// A finding of `check`.
    pub fn new(check: Check, message: String) -> Self {
        Self {
            code: check.code(),
            message_ja: check.text_ja().into_owned(),
            message,
        }
    }
}

/// The name of a CRLReason (RFC 5280 §5.3.1), or the number when it is not one.
pub fn crl_reason_name(r: u64) -> String {
    let n = match r {
        0 => "unspecified",
        1 => "keyCompromise",
        2 => "cACompromise",
        3 => "affiliationChanged",
        4 => "superseded",
        5 => "cessationOfOperation",
        6 => "certificateHold",
        8 => "removeFromCRL",
        9 => "privilegeWithdrawn",
        10 => "aACompromise",
        _ => return r.to_string(),
    };
    n.to_owned()
}

/// A CRLReason name in Japanese.
fn crl_reason_ja(name: &str) -> &str {
    match name {
        "unspecified" => "理由の指定なし",
        "keyCompromise" => "鍵の危殆化",
        "cACompromise" => "認証局の危殆化",
        "affiliationChanged" => "所属の変更",
        "superseded" => "証明書の更新",
        "cessationOfOperation" => "業務の終了",
        "certificateHold" => "一時停止",
        "removeFromCRL" => "CRL からの削除",
        "privilegeWithdrawn" => "権限の取消し",
        "aACompromise" => "属性認証局の危殆化",
        other => other,
    }
}

/// `2024-01-02T03:04:05Z` as `2024-01-02 12:04:05 JST` (Japan Standard Time, UTC+9, no
/// daylight saving), or `None` when `t` is not such a time.
pub fn jst(t: &str) -> Option<String> {
    let b = t.as_bytes();
    let well_formed = b.len() == 20
        && b[19] == b'Z'
        && b[10] == b'T'
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            13 | 16 => *c == b':',
            10 | 19 => true,
            _ => c.is_ascii_digit(),
        });
    if !well_formed {
        return None;
    }
    let secs = crate::cli::parse_rfc3339(t)?;
    let l = crate::tlv::format_time(secs + 9 * 3600);
    Some(format!("{} {} JST", &l[..10], &l[11..19]))
}

/// `line` with ` (… JST)` after every RFC 3339 UTC time in it.
pub fn with_jst(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 32);
    let mut rest = line;
    while let Some(i) = rest.find('Z') {
        out.push_str(&rest[..=i]);
        if i >= 19
            && rest.is_char_boundary(i - 19)
            && let Some(j) = jst(&rest[i - 19..=i])
        {
            out.push_str(&format!(" ({j})"));
        }
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
    out
}

/// A revocation line of the report in Japanese (the English form is made by the engine:
/// `NAME: good per CRL of T`, `NAME: REVOKED at T (reason R) per SRC`, `NAME: no revocation
/// information at hand`); other lines are returned as they are.
fn revocation_ja(line: &str) -> String {
    let source = |src: &str| -> String {
        if let Some(t) = src.strip_prefix("CRL of ") {
            format!("{t} 発行の CRL")
        } else if let Some(t) = src.strip_prefix("OCSP of ") {
            format!("{t} 発行の OCSP 応答")
        } else {
            src.to_owned()
        }
    };
    if let Some((name, src)) = line.split_once(": good per ") {
        return format!("{name}: 失効していません({}による)", source(src));
    }
    if let Some(name) = line.strip_suffix(": no revocation information at hand") {
        return format!("{name}: 失効情報が手元にありません");
    }
    if let Some((name, rest)) = line.split_once(": REVOKED at ")
        && let Some((when, rest)) = rest.split_once(" (reason ")
        && let Some((reason, src)) = rest.split_once(") per ")
    {
        return format!(
            "{name}: {when} に失効(理由: {}、{}による)",
            crl_reason_ja(reason),
            source(src)
        );
    }
    line.to_owned()
}

/// `s` with each control character (C0, DEL, C1), line or paragraph separator, and
/// bidirectional formatting character (Unicode UAX #9: the marks, embeddings, overrides and
/// isolates; the reordering of CVE-2021-42574) written as `\u{…}`: text from a signature or a
/// PDF is shown, never obeyed.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| {
        c.is_control()
            || matches!(
                c,
                '\u{061c}'
                    | '\u{200e}'
                    | '\u{200f}'
                    | '\u{2028}'..='\u{202e}'
                    | '\u{2066}'..='\u{2069}'
            )
    };
    if !s.chars().any(bad) {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(
        s.chars()
            .map(|c| {
                if bad(c) {
                    format!("\\u{{{:x}}}", u32::from(c))
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// A time-stamp kind in words.
fn time_stamp_kind(kind: &str, lang: Lang) -> &str {
    match (lang, kind) {
        (Lang::Ja, "signature") => "署名タイムスタンプ",
        (Lang::Ja, "content") => "コンテンツタイムスタンプ",
        (Lang::Ja, "archive") => "アーカイブタイムスタンプ",
        (Lang::Ja, "stand-alone") => "単独のタイムスタンプ",
        (Lang::En, "signature") => "signature time-stamp",
        (Lang::En, "content") => "content time-stamp",
        (Lang::En, "archive") => "archive time-stamp",
        (Lang::En, "stand-alone") => "stand-alone time-stamp",
        (_, other) => other,
    }
}

/// Who sealed or signed.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Party {
    /// Subject DN.
    pub subject: String,
    /// Common name.
    pub common_name: Option<String>,
    /// Organisation.
    pub organization: Option<String>,
    /// organizationIdentifier (2.5.4.97).
    pub organization_identifier: Option<String>,
    /// Japanese corporate number found in the identifier, and whether its check digit is right.
    pub corporate_number: Option<CorporateNumber>,
    /// Issuer DN.
    pub issuer: String,
    /// Serial number, hex.
    pub serial: String,
    /// Validity.
    pub not_before: String,
    /// Validity.
    pub not_after: String,
}

/// A 法人番号.
#[derive(Clone, Debug, Serialize)]
pub struct CorporateNumber {
    /// The 13 digits.
    pub number: String,
    /// Whether the check digit is valid.
    pub check_digit_valid: bool,
}

/// A time-stamp summary.
#[derive(Clone, Debug, Serialize)]
pub struct TimeStampSummary {
    /// Kind: signature, archive, stand-alone.
    pub kind: String,
    /// genTime.
    pub gen_time: Option<String>,
    /// genTime in seconds since the epoch (not serialised).
    #[serde(skip)]
    pub gen_time_secs: Option<i64>,
    /// TSA name.
    pub tsa: Option<String>,
    /// Indication of the token itself.
    pub indication: Indication,
    /// Its sub-indication.
    pub sub_indication: Option<Sub>,
}

/// The result for one SignerInfo of a CMS signature.
#[derive(Clone, Debug, Serialize)]
pub struct SignerSummary {
    /// Position of the SignerInfo in `signerInfos`, from 1.
    pub index: usize,
    /// Its indication.
    pub indication: Indication,
    /// Its sub-indication.
    pub sub_indication: Option<Sub>,
    /// The signer.
    pub signer: Option<Party>,
    /// Its claimed signing time.
    pub signing_time: Option<String>,
    /// Its commitment-type-indication values (see [`Report::commitment_types`]).
    pub commitment_types: Vec<String>,
    /// Its signature-policy-identifier (see [`Report::signature_policy`]).
    pub signature_policy: Option<String>,
    /// Its best proof of existence.
    pub best_proof_of_existence: Option<String>,
    /// Its findings.
    pub findings: Vec<Finding>,
    /// For a signature in a PDF: its kind, field, revision and what it covers.
    #[serde(flatten)]
    pub pdf: Option<crate::pdf_text::Place>,
}

/// The validation report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Main indication.
    pub indication: Indication,
    /// Sub-indication.
    pub sub_indication: Option<Sub>,
    /// What the input was.
    pub kind: String,
    /// The process applied.
    pub process: String,
    /// Constraint set.
    pub policy: String,
    /// Validation time.
    pub validation_time: String,
    /// Revocation policy.
    pub revocation_policy: String,
    /// The signer (or TSA for a token).
    pub signer: Option<Party>,
    /// Claimed signing time.
    pub signing_time: Option<String>,
    /// What the signer committed to (the signed commitment-type-indication attribute, ETSI
    /// EN 319 122-1 §5.2.3): `proof-of-origin`, `proof-of-receipt`, `proof-of-delivery`,
    /// `proof-of-sender`, `proof-of-approval`, `proof-of-creation`, or the OID of another.
    pub commitment_types: Vec<String>,
    /// The signature policy the signer named (signature-policy-identifier, EN 319 122-1
    /// §5.2.9): its OID, or `implied`. Reported only: the policy document is not processed.
    pub signature_policy: Option<String>,
    /// Time stamps.
    pub time_stamps: Vec<TimeStampSummary>,
    /// Best proof of existence of the signature.
    pub best_proof_of_existence: Option<String>,
    /// The chain, signing certificate first.
    pub chain: Vec<String>,
    /// Revocation notes.
    pub revocation: Vec<String>,
    /// Findings.
    pub findings: Vec<Finding>,
    /// One entry per SignerInfo of a CMS signature (empty for a time-stamp token); the
    /// fields above describe the worst of them (the first one, when all are equal).
    pub signers: Vec<SignerSummary>,
    /// For a stand-alone time-stamp token or response: the message imprint it carries, i.e.
    /// the data whose existence it would prove (RFC 3161 §2.4.2).
    pub time_stamped_data: Option<Imprint>,
}

/// A message imprint: hash algorithm and hash value.
#[derive(Clone, Debug, Serialize)]
pub struct Imprint {
    /// The hash algorithm (`SHA-256`, ...; the OID when unknown).
    pub algorithm: String,
    /// The hash value, lower-case hexadecimal.
    pub digest: String,
}

impl Report {
    /// A report of `kind` at `validation_time` under `revocation_policy` with nothing checked
    /// yet: TOTAL-PASSED until a finding decides otherwise (EN 319 102-1 §5.1.3), no process
    /// or constraint set named, every list empty.
    pub(crate) fn new(kind: &str, validation_time: String, revocation_policy: &str) -> Self {
        Report {
            indication: Indication::TotalPassed,
            sub_indication: None,
            kind: kind.into(),
            process: String::new(),
            policy: String::new(),
            validation_time,
            revocation_policy: revocation_policy.into(),
            signer: None,
            signing_time: None,
            commitment_types: Vec::new(),
            signature_policy: None,
            time_stamps: Vec::new(),
            best_proof_of_existence: None,
            chain: Vec::new(),
            revocation: Vec::new(),
            findings: Vec::new(),
            signers: Vec::new(),
            time_stamped_data: None,
        }
    }

    /// Records `check`'s finding and makes it decide the result.
    pub fn fail(&mut self, check: Check, message: String) {
        self.findings.push(Finding::new(check, message));
        if let Some(sub) = check.sub() {
            self.indication = sub.indication();
            self.sub_indication = Some(sub);
        }
    }

    /// Records `check`'s finding; it decides the result when nothing did before.
    pub fn set(&mut self, check: Check, message: String) {
        if self.indication == Indication::TotalPassed {
            self.fail(check, message);
        } else {
            self.findings.push(Finding::new(check, message));
        }
    }

    /// Whether the report is about a stand-alone time-stamp (token or response).
    pub fn is_time_stamp(&self) -> bool {
        self.kind.starts_with("RFC 3161")
    }
}

/// A commitment type in words.
fn commitment_text(c: &str, lang: Lang) -> String {
    let (en, ja) = match c {
        "proof-of-origin" => (
            "proof of origin: the signer created and sent it",
            "発信元の証明",
        ),
        "proof-of-receipt" => ("proof of receipt: the signer received it", "受領の証明"),
        "proof-of-delivery" => ("proof of delivery: it was delivered", "配達の証明"),
        "proof-of-sender" => ("proof of sender: the signer sent it", "送信者の証明"),
        "proof-of-approval" => ("proof of approval: the signer approved it", "承認の証明"),
        "proof-of-creation" => ("proof of creation: the signer created it", "作成の証明"),
        other => return other.to_owned(),
    };
    if lang == Lang::Ja {
        format!("{ja} ({c})")
    } else {
        en.to_owned()
    }
}

/// Verifies a 法人番号 check digit (平成26年財務省令第70号 §2).
pub fn corporate_number_valid(n: &str) -> bool {
    let d: Vec<u32> = n.chars().filter_map(|c| c.to_digit(10)).collect();
    if d.len() != 13 || n.chars().count() != 13 {
        return false;
    }
    let base = &d[1..];
    let s: u32 = base
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| x * if (i + 1) % 2 == 1 { 1 } else { 2 })
        .sum();
    d[0] == 9 - (s % 9)
}

/// Finds a 13-digit corporate number in an organizationIdentifier (`NTRJP-…`, `JP:…`) value.
pub fn corporate_number_in(id: &str) -> Option<String> {
    let rest = id
        .strip_prefix("NTRJP-")
        .or_else(|| id.strip_prefix("JP:"))
        .or_else(|| id.strip_prefix("NTRJP:"))?;
    let digits: String = rest.chars().filter(|c| !matches!(c, '-' | ' ')).collect();
    (digits.len() == 13 && digits.chars().all(|c| c.is_ascii_digit())).then_some(digits)
}

/// Describes a certificate as a party.
pub fn party(c: &crate::x509::Certificate) -> Party {
    let attrs = crate::x509::name_attributes(c.subject());
    let get = |o: const_oid::ObjectIdentifier| {
        attrs
            .iter()
            .find(|(k, _)| crate::crypto::is(k, &o))
            .map(|(_, v)| v.clone())
    };
    let org_id = get(inkan_profiles::oid::AT_ORGANIZATION_IDENTIFIER);
    let corporate_number =
        org_id
            .as_deref()
            .and_then(corporate_number_in)
            .map(|n| CorporateNumber {
                check_digit_valid: corporate_number_valid(&n),
                number: n,
            });
    Party {
        subject: crate::x509::dn_string(c.subject()),
        common_name: get(inkan_profiles::oid::AT_COMMON_NAME),
        organization: get(inkan_profiles::oid::AT_ORGANIZATION_NAME),
        organization_identifier: org_id,
        corporate_number,
        issuer: crate::x509::dn_string(c.issuer()),
        serial: c
            .serial()
            .iter()
            .flat_map(|b| [b >> 4, b & 0xf])
            .map(|n| char::from(b"0123456789ABCDEF"[usize::from(n)]))
            .collect(),
        not_before: crate::tlv::format_time(c.not_before),
        not_after: crate::tlv::format_time(c.not_after),
    }
}

impl Report {
    /// One JSON object.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into())
    }

    /// The verdict line a citizen understands.
    pub fn verdict(&self, lang: Lang) -> String {
        let sub = self.sub_indication.map(|s| s.as_str()).unwrap_or_default();
        if self.is_time_stamp() {
            match (lang, self.indication) {
                (Lang::En, Indication::TotalPassed) => {
                    return "VALID: the data given existed at the time below, as the time-stamping authority named below certifies.".into();
                }
                (Lang::Ja, Indication::TotalPassed) => {
                    return "有効: 指定されたデータが下記の時刻に存在していたことを、下記の時刻認証局が証明しています。".into();
                }
                (Lang::En, Indication::Indeterminate) => {
                    return format!(
                        "CANNOT DECIDE ({sub}): the time-stamp could not be confirmed with the information at hand."
                    );
                }
                (Lang::Ja, Indication::Indeterminate) => {
                    return format!(
                        "判定不能 ({sub}): 手元の情報ではタイムスタンプを確認できませんでした。"
                    );
                }
                (Lang::En, Indication::TotalFailed) => {
                    return format!("INVALID ({sub}): do not trust this time-stamp.");
                }
                (Lang::Ja, Indication::TotalFailed) => {
                    return format!("無効 ({sub}): このタイムスタンプは信頼できません。");
                }
            }
        }
        match (lang, self.indication) {
            (Lang::En, Indication::TotalPassed) => {
                "VALID: the document is unchanged since it was sealed, by the party named below."
                    .into()
            }
            (Lang::En, Indication::TotalFailed) => {
                format!("INVALID ({sub}): do not trust this document's seal.")
            }
            (Lang::En, Indication::Indeterminate) => format!(
                "CANNOT DECIDE ({sub}): the seal could not be confirmed with the information at hand."
            ),
            (Lang::Ja, Indication::TotalPassed) => {
                "有効: この文書は、下記の者による押印(署名)後に改変されていません。".into()
            }
            (Lang::Ja, Indication::TotalFailed) => {
                format!("無効 ({sub}): この文書の電子署名・eシールは信頼できません。")
            }
            (Lang::Ja, Indication::Indeterminate) => {
                format!("判定不能 ({sub}): 手元の情報では電子署名・eシールを確認できませんでした。")
            }
        }
    }

    /// Text for people. Names and texts taken from the input (certificate names, PDF field
    /// names, messages quoting them) are shown with their control and bidirectional
    /// formatting characters written out ([`printable`]): a newline in a name cannot forge a
    /// line of the report, nor an escape sequence drive the terminal.
    pub fn to_text(&self, lang: Lang) -> String {
        self.printable().text(lang)
    }

    /// A copy whose strings are all [`printable`].
    fn printable(&self) -> Report {
        fn fix(s: &mut String) {
            if let std::borrow::Cow::Owned(p) = printable(s) {
                *s = p;
            }
        }
        fn fix_all<'a>(v: impl IntoIterator<Item = &'a mut String>) {
            v.into_iter().for_each(fix);
        }
        fn party(p: &mut Party) {
            fix_all([&mut p.subject, &mut p.issuer, &mut p.serial]);
            fix_all([&mut p.not_before, &mut p.not_after]);
            fix_all(p.common_name.iter_mut());
            fix_all(p.organization.iter_mut());
            fix_all(p.organization_identifier.iter_mut());
        }
        fn findings(v: &mut [Finding]) {
            for f in v {
                fix_all([&mut f.message, &mut f.message_ja]);
            }
        }
        let mut r = self.clone();
        fix_all([
            &mut r.kind,
            &mut r.process,
            &mut r.policy,
            &mut r.validation_time,
            &mut r.revocation_policy,
        ]);
        r.signer.iter_mut().for_each(party);
        fix_all(r.signing_time.iter_mut());
        fix_all(r.commitment_types.iter_mut());
        fix_all(r.signature_policy.iter_mut());
        for t in &mut r.time_stamps {
            fix(&mut t.kind);
            fix_all(t.gen_time.iter_mut());
            fix_all(t.tsa.iter_mut());
        }
        fix_all(r.best_proof_of_existence.iter_mut());
        fix_all(r.chain.iter_mut());
        fix_all(r.revocation.iter_mut());
        findings(&mut r.findings);
        for g in &mut r.signers {
            g.signer.iter_mut().for_each(party);
            fix_all(g.signing_time.iter_mut());
            fix_all(g.commitment_types.iter_mut());
            fix_all(g.signature_policy.iter_mut());
            fix_all(g.best_proof_of_existence.iter_mut());
            findings(&mut g.findings);
            if let Some(p) = &mut g.pdf {
                fix_all([&mut p.kind, &mut p.field, &mut p.covers]);
                fix_all(p.later_changes.iter_mut());
            }
        }
        if let Some(i) = &mut r.time_stamped_data {
            fix_all([&mut i.algorithm, &mut i.digest]);
        }
        r
    }

    fn text(&self, lang: Lang) -> String {
        let ja = lang == Lang::Ja;
        let l = |en: &'static str, jp: &'static str| if ja { jp } else { en };
        let mut s = String::new();
        s.push_str(&self.verdict(lang));
        s.push('\n');
        s.push_str(&format!(
            "{}: {} / {}\n",
            l("Result", "結果"),
            self.indication.as_str(),
            self.sub_indication
                .map(|x| x.as_str())
                .unwrap_or_else(|| "-".into())
        ));
        if let Some(sub) = self.sub_indication {
            let text = if sub == Sub::SignedDataNotFound && self.is_time_stamp() {
                l(
                    "This time-stamp proves that the data with the hash value below existed at its time; nothing was checked because that data was not given: give it with --data.",
                    "このタイムスタンプは、下記のハッシュ値を持つデータがその時刻に存在したことを証明するものです。そのデータが指定されなかったため何も確認していません。--data で指定してください。",
                )
            } else {
                sub.explain(lang)
            };
            s.push_str(&format!("{}: {}\n", l("What this means", "説明"), text));
        }
        if let Some(i) = &self.time_stamped_data {
            s.push_str(&format!(
                "{}: {} {}\n",
                l(
                    "Time-stamped data (hash)",
                    "タイムスタンプの対象データ(ハッシュ値)"
                ),
                i.algorithm,
                i.digest
            ));
        }
        if let Some(p) = &self.signer {
            s.push_str(&format!(
                "{}\n",
                if self.is_time_stamp() {
                    l("Time-stamping authority (TSA):", "時刻認証局 (TSA):")
                } else {
                    l("Sealed by:", "署名者・押印者:")
                }
            ));
            s.push_str(&format!("  {}: {}\n", l("Subject", "主体者"), p.subject));
            if let Some(o) = &p.organization {
                s.push_str(&format!("  {}: {o}\n", l("Organisation", "組織")));
            }
            if let Some(o) = &p.organization_identifier {
                s.push_str(&format!(
                    "  {}: {o}\n",
                    l(
                        "organizationIdentifier",
                        "組織識別子 (organizationIdentifier)"
                    )
                ));
            }
            if let Some(c) = &p.corporate_number {
                s.push_str(&format!(
                    "  {}: {} ({})\n",
                    l("Corporate number", "法人番号"),
                    c.number,
                    if c.check_digit_valid {
                        l(
                            "a valid corporate number: its check digit is right",
                            "有効な法人番号です(チェックデジットが一致します)",
                        )
                    } else {
                        l(
                            "NOT a valid corporate number: its check digit is wrong",
                            "有効な法人番号ではありません(チェックデジットが一致しません)",
                        )
                    }
                ));
            }
            s.push_str(&format!("  {}: {}\n", l("Issuer", "発行者"), p.issuer));
        }
        for c in &self.commitment_types {
            s.push_str(&format!(
                "{}: {}\n",
                l("Commitment", "コミットメント種別"),
                commitment_text(c, lang)
            ));
        }
        if let Some(p) = &self.signature_policy {
            s.push_str(&format!(
                "{}: {p} ({})\n",
                l("Signature policy", "署名ポリシー"),
                l(
                    "named by the signer; the policy document is not processed",
                    "署名者が指定したもの。ポリシー文書は処理していません"
                )
            ));
        }
        s.push_str(&format!("{}\n", l("When:", "日時:")));
        if let Some(t) = &self.signing_time {
            s.push_str(&format!(
                "  {}: {t}\n",
                l("Claimed signing time", "署名時刻(自己申告)")
            ));
        }
        for t in &self.time_stamps {
            s.push_str(&format!(
                "  {}: {} [{}]\n",
                time_stamp_kind(&t.kind, lang),
                t.gen_time.as_deref().unwrap_or("-"),
                t.indication.as_str()
            ));
        }
        if let Some(b) = &self.best_proof_of_existence {
            s.push_str(&format!(
                "  {}: {b}\n",
                l("Proven to exist at", "存在証明時刻")
            ));
        }
        s.push_str(&format!(
            "  {}: {}\n",
            l("Validation time", "検証時刻"),
            self.validation_time
        ));
        if !self.chain.is_empty() {
            s.push_str(&format!("{}\n", l("Chain:", "証明書チェーン:")));
            for c in &self.chain {
                if ja {
                    // `DN (valid FROM .. TO)`, as lib.rs writes it.
                    let c = match c.rsplit_once(" (valid ") {
                        Some((dn, v)) => format!("{dn}(有効期間 {}", v.replacen(" .. ", " 〜 ", 1)),
                        None => c.clone(),
                    };
                    s.push_str(&format!("  {c}\n"));
                } else {
                    s.push_str(&format!("  {c}\n"));
                }
            }
        }
        if !self.revocation.is_empty() {
            s.push_str(&format!("{}\n", l("Revocation:", "失効確認:")));
            for c in &self.revocation {
                if ja {
                    s.push_str(&format!("  {}\n", revocation_ja(c)));
                } else {
                    s.push_str(&format!("  {c}\n"));
                }
            }
        }
        let pdf = self.signers.iter().any(|g| g.pdf.is_some());
        if self.signers.len() > 1 || pdf {
            s.push_str(&format!("{}\n", l("Signers:", "署名者ごとの結果:")));
            for g in &self.signers {
                s.push_str(&format!(
                    "  #{} {} / {}: {}\n",
                    g.index,
                    g.indication.as_str(),
                    g.sub_indication
                        .map(|x| x.as_str())
                        .unwrap_or_else(|| "-".into()),
                    g.signer.as_ref().map_or("-", |p| p.subject.as_str())
                ));
                if let Some(p) = &g.pdf {
                    // A document time-stamp's time is its genTime, when it proves existence.
                    let time = g.signing_time.as_deref().or(g
                        .best_proof_of_existence
                        .as_deref()
                        .filter(|_| p.kind == "document time-stamp"));
                    s.push_str(&crate::pdf_text::place_text(p, time, ja));
                }
            }
        }
        if !self.findings.is_empty() {
            s.push_str(&format!("{}\n", l("Findings:", "所見:")));
            for f in &self.findings {
                s.push_str(&format!(
                    "  [{}] {}\n",
                    f.code,
                    if ja { &f.message_ja } else { &f.message }
                ));
            }
        }
        with_jst(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sub_indication_is_explained_in_both_languages() {
        let mut seen = std::collections::HashSet::new();
        for sub in Sub::ALL {
            let (en, ja) = (sub.explain(Lang::En), sub.explain(Lang::Ja));
            assert!(en.is_ascii() && en.ends_with('.'), "{sub:?}: {en}");
            assert!(ja.chars().any(|c| c > '\u{3000}'), "{sub:?}: {ja}");
            assert!(
                seen.insert(en) && seen.insert(ja),
                "{sub:?} shares its text"
            );
        }
    }

    #[test]
    fn corporate_numbers() {
        for n in [
            "8040001079502",
            "2010401059681",
            "4011001098993",
            "7010705000725",
            "7123456789012",
        ] {
            assert!(corporate_number_valid(n), "{n}");
        }
        assert!(!corporate_number_valid("1040001079502"));
        assert_eq!(
            corporate_number_in("NTRJP-8040001079502").as_deref(),
            Some("8040001079502")
        );
    }

    #[test]
    fn severity_orders_the_indications() {
        let mut v = [
            Indication::TotalFailed,
            Indication::TotalPassed,
            Indication::Indeterminate,
        ];
        v.sort_by_key(|i| i.severity());
        assert_eq!(
            v,
            [
                Indication::TotalPassed,
                Indication::Indeterminate,
                Indication::TotalFailed
            ]
        );
    }

    #[test]
    fn times_in_japan_standard_time() {
        assert_eq!(
            jst("2024-01-01T15:00:00Z").as_deref(),
            Some("2024-01-02 00:00:00 JST")
        );
        assert_eq!(jst("2024-01-01T15:00:00"), None);
        assert_eq!(
            with_jst("署名時刻 2024-01-01T15:00:00Z, CN=Zeta Z"),
            "署名時刻 2024-01-01T15:00:00Z (2024-01-02 00:00:00 JST), CN=Zeta Z"
        );
        assert_eq!(with_jst("ZZ 日本語Z"), "ZZ 日本語Z");
    }

    #[test]
    fn revocation_lines_in_japanese() {
        assert_eq!(
            revocation_ja("Leaf: good per CRL of 2024-01-01T00:00:00Z"),
            "Leaf: 失効していません(2024-01-01T00:00:00Z 発行の CRLによる)"
        );
        assert_eq!(
            revocation_ja("Leaf: REVOKED at 2024-01-01T00:00:00Z (reason keyCompromise) per OCSP"),
            "Leaf: 2024-01-01T00:00:00Z に失効(理由: 鍵の危殆化、OCSPによる)"
        );
        assert_eq!(
            revocation_ja("Leaf: no revocation information at hand"),
            "Leaf: 失効情報が手元にありません"
        );
        assert_eq!(crl_reason_name(1), "keyCompromise");
        assert_eq!(crl_reason_name(7), "7");
    }

    #[test]
    fn text_from_the_input_is_shown_not_obeyed() {
        assert_eq!(printable("株式会社 A, O=B"), "株式会社 A, O=B");
        assert_eq!(
            printable("A\nFindings:\r\u{1b}[2J\u{202e}gpj.exe\u{85}"),
            "A\\u{a}Findings:\\u{d}\\u{1b}[2J\\u{202e}gpj.exe\\u{85}"
        );
        let r = Report {
            signer: Some(Party {
                subject: "CN=Mallory\n  [FINE] all good\u{1b}]0;x\u{7}".into(),
                ..Party::default()
            }),
            ..Report::new("CMS SignedData", "2026-01-01T00:00:00Z".into(), "required")
        };
        for lang in [Lang::En, Lang::Ja] {
            let text = r.to_text(lang);
            assert!(
                !text.contains('\u{1b}') && !text.contains("\n  [FINE]"),
                "{text}"
            );
            assert!(text.contains("CN=Mallory\\u{a}  [FINE] all good\\u{1b}]0;x\\u{7}"));
        }
        // JSON keeps the value as it is (escaped by JSON itself).
        assert!(r.to_json().contains("CN=Mallory\\n  [FINE]"));
    }

    #[test]
    fn sub_names() {
        assert_eq!(
            Sub::CryptoConstraintsFailureNoPoe.as_str(),
            "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
        );
    }
}
