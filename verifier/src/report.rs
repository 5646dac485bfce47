//! The validation report: indication, sub-indication, findings, and the facts a citizen needs;
//! rendered as text (Japanese or English) or JSON.

use serde::Serialize;

/// Main indication (EN 319 102-1 Table 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Indication {
    /// TOTAL-PASSED
    #[serde(rename = "TOTAL-PASSED")]
    TotalPassed,
    /// TOTAL-FAILED
    #[serde(rename = "TOTAL-FAILED")]
    TotalFailed,
    /// INDETERMINATE
    #[serde(rename = "INDETERMINATE")]
    Indeterminate,
}

impl Indication {
    /// The contract's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TotalPassed => "TOTAL-PASSED",
            Self::TotalFailed => "TOTAL-FAILED",
            Self::Indeterminate => "INDETERMINATE",
        }
    }
    /// How bad the indication is (TOTAL-PASSED 0, INDETERMINATE 1, TOTAL-FAILED 2): the
    /// overall indication of a signature with several signers is the worst of theirs.
    pub fn severity(self) -> u8 {
        match self {
            Self::TotalPassed => 0,
            Self::Indeterminate => 1,
            Self::TotalFailed => 2,
        }
    }
    /// The process exit status for this indication (contract).
    pub fn exit_code(self) -> u8 {
        match self {
            Self::TotalPassed => 0,
            Self::TotalFailed => 1,
            Self::Indeterminate => 2,
        }
    }
}

/// Sub-indications (EN 319 102-1 Table 6) used by this verifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum Sub {
    FormatFailure,
    HashFailure,
    SigCryptoFailure,
    Revoked,
    Expired,
    NotYetValid,
    SigConstraintsFailure,
    ChainConstraintsFailure,
    CertificateChainGeneralFailure,
    CryptoConstraintsFailure,
    TimestampOrderFailure,
    NoSigningCertificateFound,
    NoCertificateChainFound,
    RevokedNoPoe,
    RevokedCaNoPoe,
    OutOfBoundsNotRevoked,
    OutOfBoundsNoPoe,
    CryptoConstraintsFailureNoPoe,
    NoPoe,
    TryLater,
    SignedDataNotFound,
}

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
    /// Stable code.
    pub code: &'static str,
    /// Explanation (English), with the details (names, times).
    pub message: String,
    /// What the code means, in Japanese (from the code: [`finding_ja`]).
    pub message_ja: String,
}

impl Finding {
    /// A finding.
    pub fn new(code: &'static str, message: String) -> Self {
        Self {
            code,
            message_ja: finding_ja(code),
            message,
        }
    }
}

/// The cryptographic rules of `inkan-profiles`, whose codes appear as finding codes.
const RULES: [inkan_profiles::policy::Rule; 22] = {
    use inkan_profiles::policy::Rule as R;
    [
        R::HashMd5,
        R::HashSha1,
        R::HashSha224,
        R::RsaModulusTooSmall,
        R::StrengthBelow112,
        R::Strength112CreateAfter2030,
        R::Strength112NoPoe,
        R::Strength128CreateAfter2050,
        R::Strength128NoPoe,
        R::CurveP224,
        R::DsaVerifyOnly,
        R::DsaTooSmall,
        R::PssMgf1HashMismatch,
        R::PssSaltLength,
        R::PssKeyRestriction,
        R::PssKeyWithPkcs1,
        R::AlgorithmKeyMismatch,
        R::Ed25519CmsDigest,
        R::Ed448CmsDigest,
        R::PssCmsDigest,
        R::EcdsaDigestWeakerThanCurve,
        R::ShakeNotForSignatures,
    ]
};

/// The Japanese text of a finding code: what a citizen needs to know (the English message
/// keeps the details). Codes of the cryptographic policy take their text from
/// `inkan-profiles`.
pub fn finding_ja(code: &str) -> String {
    if let Some(r) = RULES.iter().find(|r| r.code() == code) {
        return format!("暗号アルゴリズムの基準に反しています: {}", r.text_ja());
    }
    let t = match code {
        "OCSP_NOT_USED" => {
            "OCSP応答の一つを使用しませんでした(対象の証明書・発行者と合わない、署名や応答者が正しくない、または検証時刻より後に作られています)。"
        }
        "REVOCATION_NOT_FRESH" => {
            "失効情報の一つは、判定に必要な時刻に対して新しさが足りない(有効期間がその時刻を含まない)ため、「失効していない」根拠にしませんでした。"
        }
        "REVOCATION_NOT_USED_MORE" => {
            "ほかにも使用しなかったCRLまたはOCSP応答があります(表示を省略しました)。"
        }
        "X509_ON_HOLD" => {
            "証明書が一時停止(certificateHold)されています。より新しい失効情報が得られてから、もう一度検証してください。"
        }
        "TSA_EKU_NOT_SOLE" => {
            "時刻認証局の証明書の拡張鍵用途に、タイムスタンプ(id-kp-timeStamping)以外の用途も含まれています。RFC 3161 §2.3 はこの用途ただ一つを求めます。"
        }
        "TST_GEN_TIME_BEFORE_TSA_CERTIFICATE" => {
            "タイムスタンプの時刻が、時刻認証局の証明書の有効期間の開始より前です。このタイムスタンプは存在証明になりません。"
        }
        "TST_GEN_TIME_AFTER_TSA_CERTIFICATE" => {
            "タイムスタンプの時刻が、時刻認証局の証明書の有効期限より後です。このタイムスタンプは存在証明になりません。"
        }
        "TST_GEN_TIME_AFTER_POE" => {
            "タイムスタンプの時刻が、それが存在したと分かっている時刻(検証時刻または後のタイムスタンプ)より後です。このタイムスタンプは存在証明になりません。"
        }
        "ALGORITHM_PROTECTION_MISMATCH" => {
            "署名属性 cms-algorithm-protection が示すアルゴリズムが、実際に使われたアルゴリズムと一致しません(アルゴリズムの差し替えの疑い)。"
        }
        "ARCHIVE_TST_DISCARDED" => {
            "アーカイブタイムスタンプの一つを存在証明として使用しませんでした。"
        }
        "ARCHIVE_TST_FAILED" => "アーカイブタイムスタンプが有効ではありません。",
        "ARCHIVE_TST_HASH_INDEX_FORMAT" => {
            "アーカイブタイムスタンプのハッシュ索引(ats-hash-index)を読み取れません。"
        }
        "ARCHIVE_TST_HASH_INDEX_MISMATCH" => {
            "アーカイブタイムスタンプのハッシュ索引が、署名に含まれる要素と一致しません。"
        }
        "ARCHIVE_TST_IMPRINT_MISMATCH" => {
            "アーカイブタイムスタンプが対象とするハッシュ値が、署名の内容と一致しません。"
        }
        "ARCHIVE_TST_V2_IMPRINT_MISMATCH" => {
            "アーカイブタイムスタンプ(v2)が対象とするハッシュ値が、署名の内容と一致しません。"
        }
        "CMS_NO_SIGNER" => "署名データに署名者情報(SignerInfo)がありません。",
        "CMS_SIGNED_ATTRIBUTES" => {
            "署名属性が規格(RFC 5652)の規則に反しています(content-type または message-digest 属性がない、重複している、値が一つでない、または内容の種類と一致しない)。"
        }
        "CONTENT_TST_AFTER_ALGORITHM_SUNSET" => {
            "コンテンツタイムスタンプにより、署名は使用アルゴリズムが既に許容されなくなった後に作成されたことが証明されます。"
        }
        "CONTENT_TST_AFTER_EXPIRY" => {
            "コンテンツタイムスタンプにより、署名は署名者の証明書の有効期限が切れた後に作成されたことが証明されます。"
        }
        "CONTENT_TST_AFTER_REVOCATION" => {
            "コンテンツタイムスタンプにより、署名は署名者の証明書が失効した後に作成されたことが証明されます。"
        }
        "CONTENT_TST_DISCARDED" => {
            "コンテンツタイムスタンプの一つを使用しませんでした(無効、または文書と一致しません)。"
        }
        "CONTENT_TYPE_MISMATCH" => "content-type 属性が署名対象の内容の種類と一致しません。",
        "CORPORATE_NUMBER_CHECK_DIGIT" => {
            "組織識別子に含まれる13桁の番号はチェックデジットが一致せず、有効な法人番号ではありません。"
        }
        "CRL_NOT_USED" => {
            "手元の CRL の一つを使用しませんでした(対象外、または新しさが足りません)。"
        }
        "DATA_NOT_ENCAPSULATED_CONTENT" => {
            "この署名は文書を内包しており、--data で指定されたファイルはその文書と一致しません。指定されたファイルについては何も確認していません。"
        }
        "FORMAT_FAILURE" => "ファイルの形式が規格に反しているため、検証できません。",
        "LIMIT_EXCEEDED" => {
            "ファイルに含まれる署名者・証明書・失効情報・タイムスタンプの数が処理の上限を超えています(処理量を限るため検証しません)。"
        }
        "MESSAGE_DIGEST_MISMATCH" => {
            "文書のハッシュ値が、署名者が署名したハッシュ値と一致しません。"
        }
        "NO_CERTIFICATE_CHAIN_FOUND" => {
            "署名者の証明書から信頼する認証局までの証明書チェーンが見つかりません。"
        }
        "NO_SIGNING_CERTIFICATE" => {
            "署名者の証明書が見つからないか、署名が参照する証明書と一致しません。"
        }
        "PLAIN_CMS_NO_SIGNING_CERTIFICATE" => {
            "CAdES ではない通常の CMS 署名です。署名者の証明書は識別子で示されるだけで、署名によって固定されていません(ESS signing-certificate-v2 がありません)。"
        }
        "TRAILING_ZERO_PADDING" => {
            "署名の構造の後にゼロのバイト列(詰め物)があります。無視しました。"
        }
        "PSS_HASH_MISMATCH" => {
            "RSASSA-PSS のハッシュ関数が SignerInfo のダイジェストアルゴリズムと一致しません(RFC 4056 §3)。"
        }
        "REVOCATION_MISSING" => "証明書の失効情報(CRL または OCSP 応答)が手元にありません。",
        "SEVERAL_SIGNERS" => {
            "複数の署名者がいます。結果は最も悪い署名者のものです(署名者ごとの結果を参照)。"
        }
        "SIGNATURE_INVALID" => "署名値が署名者の証明書の鍵で検証できません。",
        "SIGNATURE_TST_DISCARDED" => {
            "署名タイムスタンプの一つを存在証明として使用しませんでした(無効、または署名と一致しません)。"
        }
        "SIGNED_DATA_NOT_FOUND" => "分離署名の対象データが指定されていません(--data)。",
        "SIGNING_CERTIFICATE_ABSENT" => {
            "署名属性が署名者の証明書を参照していません(ESS signing-certificate-v2 がありません)。別の証明書へのすり替えを防げないため、受け入れられません。"
        }
        "SIGNING_TIME_AFTER_TIME_STAMP" => {
            "自己申告の署名時刻がタイムスタンプの時刻より後になっています。"
        }
        "SIG_ALG_UNSUPPORTED" => "署名アルゴリズムをこの検証器では検証できません。",
        "TIMESTAMP_ORDER_FAILURE" => {
            "タイムスタンプの時刻が互いに矛盾しています(文書へのタイムスタンプが署名へのタイムスタンプより後です)。"
        }
        "TSA_EKU_NOT_CRITICAL" => {
            "時刻認証局の証明書の拡張鍵用途(extendedKeyUsage)が critical ではありません(RFC 3161 §2.3)。"
        }
        "TSA_NO_TIMESTAMPING_EKU" => {
            "時刻認証局の証明書にタイムスタンプ用途(id-kp-timeStamping)がありません。"
        }
        "TST_DATA_NOT_GIVEN" => {
            "タイムスタンプの対象データが指定されていないため、ハッシュ値を照合していません。--data で指定してください。"
        }
        "TST_FORMAT" => "タイムスタンプトークンを読み取れません。",
        "TST_IMPRINT_ALG" => "タイムスタンプのハッシュアルゴリズムを扱えません。",
        "TST_IMPRINT_MISMATCH" => "タイムスタンプが対象とするハッシュ値が、データと一致しません。",
        "TST_SIGNING_CERTIFICATE_ABSENT" => {
            "タイムスタンプトークンが時刻認証局の証明書を参照していません(ESS signing-certificate がありません)。"
        }
        "VERIFICATION_BUDGET_EXCEEDED" => {
            "検証に必要な署名検証の回数が上限を超えたため、検証を打ち切りました(処理量を限るため)。"
        }
        "X509_ANCHOR_NOT_A_CA" => {
            "信頼する証明書(トラストアンカー)が認証局(CA)ではないのに、証明書を発行しています。"
        }
        "X509_ANCHOR_NO_KEY_CERT_SIGN" => {
            "信頼する証明書(トラストアンカー)の鍵用途に証明書署名(keyCertSign)がありません。"
        }
        "X509_ANCHOR_PATH_LENGTH" => {
            "信頼する証明書(トラストアンカー)のパス長制約を超える数の中間認証局があります。"
        }
        "X509_CA_OUT_OF_BOUNDS" => "チェーン中の認証局の証明書が、対象の時刻に有効期間外です。",
        "X509_EXPIRED" => {
            "証明書の有効期限が切れており、有効期間中に署名されたことを示す証拠がありません。"
        }
        "X509_EXTENSIONS_MALFORMED" => "証明書の拡張を読み取れません。",
        "X509_KEY_USAGE" => "署名者の証明書の鍵用途(keyUsage)が署名を許していません。",
        "X509_NAME_CONSTRAINTS" => "証明書が認証局の名前制約に違反しています。",
        "X509_NAME_CONSTRAINTS_UNSUPPORTED" => {
            "この検証器が扱えない形式の名前制約があるため、チェーンを受け入れられません。"
        }
        "X509_NOT_A_CA" => "認証局(CA)ではない証明書が、他の証明書を発行しています。",
        "X509_NOT_YET_VALID" => "証明書の有効期間が始まる前の時刻です。",
        "X509_NO_KEY_CERT_SIGN" => "認証局の証明書の鍵用途に証明書署名(keyCertSign)がありません。",
        "X509_PATH_LENGTH" => "認証局のパス長制約(pathLenConstraint)を超えています。",
        "X509_POLICY" => "証明書ポリシーの要件を満たしていません。",
        "X509_POLICY_MALFORMED" => "証明書ポリシーの拡張を読み取れません。",
        "X509_POLICY_MAPPING_ANY" => {
            "証明書ポリシーのマッピングに anyPolicy が使われています(RFC 5280 で禁止)。"
        }
        "X509_REVOKED" => {
            "証明書が失効しており、失効より前に署名されたことを示す証拠がありません。"
        }
        "X509_UNKNOWN_CRITICAL_EXTENSION" => {
            "証明書に、この検証器が扱えない critical な拡張があります。"
        }
        _ => return format!("所見 {code}(詳細は英語の説明を参照してください)。"),
    };
    t.to_owned()
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

/// Verifies a 法人番号 check digit (平成26年財務省令第70号 §2; japan.md §6).
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

/// Output language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// 日本語
    Ja,
    /// English
    En,
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

    /// Text for people.
    pub fn to_text(&self, lang: Lang) -> String {
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
        if self.signers.len() > 1 {
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
        use Sub::*;
        let all = [
            FormatFailure,
            HashFailure,
            SigCryptoFailure,
            Revoked,
            Expired,
            NotYetValid,
            SigConstraintsFailure,
            ChainConstraintsFailure,
            CertificateChainGeneralFailure,
            CryptoConstraintsFailure,
            TimestampOrderFailure,
            NoSigningCertificateFound,
            NoCertificateChainFound,
            RevokedNoPoe,
            RevokedCaNoPoe,
            OutOfBoundsNotRevoked,
            OutOfBoundsNoPoe,
            CryptoConstraintsFailureNoPoe,
            NoPoe,
            TryLater,
            SignedDataNotFound,
        ];
        let mut seen = std::collections::HashSet::new();
        for sub in all {
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
    fn every_finding_code_has_a_japanese_text() {
        // Every code written in the sources (a quoted upper-case identifier) that is a
        // finding code must have its own Japanese text, not the fallback.
        let sources = [
            include_str!("engine.rs"),
            include_str!("lta.rs"),
            include_str!("lib.rs"),
            include_str!("constraints.rs"),
            include_str!("cms.rs"),
            include_str!("x509.rs"),
        ];
        let not_codes = [
            "INDETERMINATE",
            "OCSP",
            "CARGO_PKG_VERSION",
            "LC_ALL",
            "LC_MESSAGES",
            "LANG",
            "CERTIFICATE",
            "FAIL",
            "WARN",
        ];
        let mut missing = Vec::new();
        for src in sources {
            for part in src.split('"').skip(1).step_by(2) {
                let code = part.len() >= 4
                    && part.starts_with(|c: char| c.is_ascii_uppercase())
                    && part
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
                if code && !not_codes.contains(&part) && finding_ja(part).starts_with("所見 ") {
                    missing.push(part.to_owned());
                }
            }
        }
        assert!(missing.is_empty(), "no Japanese text for {missing:?}");
        assert!(finding_ja("CRYPTREC-HASH-SHA1").contains("SHA-1"));
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
    fn sub_names() {
        assert_eq!(
            Sub::CryptoConstraintsFailureNoPoe.as_str(),
            "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
        );
    }
}
