//! One table of verdicts: every check the verifier makes that can leave a finding in a
//! report, with its stable finding code, the EN 319 102-1 sub-indication it gives when it
//! decides the result (Table 6; the main indication follows from it, [`Sub::indication`]),
//! and what it means in Japanese (the English message of a finding keeps the details).
//! [`prevails`] is the one ranking that decides which result stands when several apply.
//!
//! Call sites name the check and the message only (`Finding::new(Check::X, msg)`,
//! `Outcome::set(Check::X, msg)`); the triples (indication, sub-indication, code) live here.

use std::borrow::Cow;

use inkan_profiles::policy::Rule;

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
    /// Every sub-indication, in the order of the enum.
    pub const ALL: [Sub; 21] = [
        Self::FormatFailure,
        Self::HashFailure,
        Self::SigCryptoFailure,
        Self::Revoked,
        Self::Expired,
        Self::NotYetValid,
        Self::SigConstraintsFailure,
        Self::ChainConstraintsFailure,
        Self::CertificateChainGeneralFailure,
        Self::CryptoConstraintsFailure,
        Self::TimestampOrderFailure,
        Self::NoSigningCertificateFound,
        Self::NoCertificateChainFound,
        Self::RevokedNoPoe,
        Self::RevokedCaNoPoe,
        Self::OutOfBoundsNotRevoked,
        Self::OutOfBoundsNoPoe,
        Self::CryptoConstraintsFailureNoPoe,
        Self::NoPoe,
        Self::TryLater,
        Self::SignedDataNotFound,
    ];

    /// The main indication this sub-indication belongs to (EN 319 102-1 Table 6: each
    /// sub-indication is defined under exactly one of TOTAL-FAILED and INDETERMINATE).
    pub fn indication(self) -> Indication {
        match self {
            Self::FormatFailure
            | Self::HashFailure
            | Self::SigCryptoFailure
            | Self::Revoked
            | Self::Expired
            | Self::NotYetValid => Indication::TotalFailed,
            Self::SigConstraintsFailure
            | Self::ChainConstraintsFailure
            | Self::CertificateChainGeneralFailure
            | Self::CryptoConstraintsFailure
            | Self::TimestampOrderFailure
            | Self::NoSigningCertificateFound
            | Self::NoCertificateChainFound
            | Self::RevokedNoPoe
            | Self::RevokedCaNoPoe
            | Self::OutOfBoundsNotRevoked
            | Self::OutOfBoundsNoPoe
            | Self::CryptoConstraintsFailureNoPoe
            | Self::NoPoe
            | Self::TryLater
            | Self::SignedDataNotFound => Indication::Indeterminate,
        }
    }
}

/// A check of the verifier, as it appears in a report: one variant per finding code (two
/// codes, `X509_EXPIRED` and `X509_REVOKED`, have two variants each, one per
/// sub-indication they give). Checks without a sub-indication only inform.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Check {
    // TOTAL-FAILED / FormatFailure.
    CmsNoSigner,
    CmsSignedAttributes,
    FormatFailure,
    LimitExceeded,
    PdfByterange,
    PdfContents,
    PdfEncrypted,
    PdfFieldTree,
    PdfSigDictReplaced,
    PdfSubfilter,
    PdfUnreadable,
    PssHashMismatch,
    TstFormat,
    // TOTAL-FAILED / HashFailure.
    DataNotEncapsulatedContent,
    MessageDigestMismatch,
    TstImprintMismatch,
    // TOTAL-FAILED / SigCryptoFailure.
    AlgorithmProtectionMismatch,
    SignatureInvalid,
    // TOTAL-FAILED / Revoked.
    ContentTstAfterRevocation,
    // TOTAL-FAILED / Expired.
    ContentTstAfterExpiry,
    TstGenTimeAfterTsaCertificate,
    // TOTAL-FAILED / NotYetValid.
    TstGenTimeBeforeTsaCertificate,
    X509NotYetValid,
    // INDETERMINATE / SigConstraintsFailure.
    PdfModifiedAfterSigning,
    SigningCertificateAbsent,
    // INDETERMINATE / ChainConstraintsFailure.
    TsaEkuNotCritical,
    TsaEkuNotSole,
    TsaNoTimestampingEku,
    X509AnchorNotACa,
    X509AnchorNoKeyCertSign,
    X509AnchorPathLength,
    X509ExtensionsMalformed,
    X509KeyUsage,
    X509NameConstraints,
    X509NameConstraintsUnsupported,
    X509NotACa,
    X509NoKeyCertSign,
    X509PathLength,
    X509Policy,
    X509PolicyMalformed,
    X509PolicyMappingAny,
    X509UnknownCriticalExtension,
    // INDETERMINATE / CryptoConstraintsFailure.
    ContentTstAfterAlgorithmSunset,
    // INDETERMINATE / CryptoConstraintsFailureNoPoe.
    SigAlgUnsupported,
    TstImprintAlg,
    // INDETERMINATE / TimestampOrderFailure.
    TimestampOrderFailure,
    // INDETERMINATE / NoSigningCertificateFound.
    NoSigningCertificate,
    // INDETERMINATE / NoCertificateChainFound.
    NoCertificateChainFound,
    // INDETERMINATE / RevokedNoPoe.
    X509Revoked,
    // INDETERMINATE / RevokedCaNoPoe.
    X509CaRevoked,
    // INDETERMINATE / OutOfBoundsNoPoe.
    X509CaOutOfBounds,
    X509Expired,
    // INDETERMINATE / OutOfBoundsNotRevoked.
    X509ExpiredNotRevoked,
    // INDETERMINATE / NoPoe.
    TstGenTimeAfterPoe,
    // INDETERMINATE / TryLater.
    RevocationMissing,
    X509OnHold,
    // INDETERMINATE / SignedDataNotFound.
    PdfNoSignature,
    SignedDataNotFound,
    TstDataNotGiven,
    // Informative: no sub-indication.
    ArchiveTstDiscarded,
    ArchiveTstFailed,
    ArchiveTstHashIndexFormat,
    ArchiveTstHashIndexMismatch,
    ArchiveTstImprintMismatch,
    ArchiveTstV2ImprintMismatch,
    ContentTstDiscarded,
    ContentTypeMismatch,
    CorporateNumberCheckDigit,
    CrlNotUsed,
    OcspNotUsed,
    PdfChangesAfterSigning,
    PdfNotWholeDocument,
    PdfSeveralSignatures,
    PlainCmsNoSigningCertificate,
    RevocationNotFresh,
    RevocationNotUsedMore,
    SeveralSigners,
    SignatureTstDiscarded,
    SigningTimeAfterTimeStamp,
    TrailingZeroPadding,
    TstSigningCertificateAbsent,
    VerificationBudgetExceeded,
    /// A rule of the cryptographic policy (CRYPTREC LS-0001-2022, from `inkan-profiles`):
    /// INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE_NO_POE, coded by the rule.
    Crypto(Rule),
}

impl Check {
    /// Every check but [`Check::Crypto`] (whose rules are [`RULES`]).
    pub const ALL: [Check; 82] = [
        Check::CmsNoSigner,
        Check::CmsSignedAttributes,
        Check::FormatFailure,
        Check::LimitExceeded,
        Check::PdfByterange,
        Check::PdfContents,
        Check::PdfEncrypted,
        Check::PdfFieldTree,
        Check::PdfSigDictReplaced,
        Check::PdfSubfilter,
        Check::PdfUnreadable,
        Check::PssHashMismatch,
        Check::TstFormat,
        Check::DataNotEncapsulatedContent,
        Check::MessageDigestMismatch,
        Check::TstImprintMismatch,
        Check::AlgorithmProtectionMismatch,
        Check::SignatureInvalid,
        Check::ContentTstAfterRevocation,
        Check::ContentTstAfterExpiry,
        Check::TstGenTimeAfterTsaCertificate,
        Check::TstGenTimeBeforeTsaCertificate,
        Check::X509NotYetValid,
        Check::PdfModifiedAfterSigning,
        Check::SigningCertificateAbsent,
        Check::TsaEkuNotCritical,
        Check::TsaEkuNotSole,
        Check::TsaNoTimestampingEku,
        Check::X509AnchorNotACa,
        Check::X509AnchorNoKeyCertSign,
        Check::X509AnchorPathLength,
        Check::X509ExtensionsMalformed,
        Check::X509KeyUsage,
        Check::X509NameConstraints,
        Check::X509NameConstraintsUnsupported,
        Check::X509NotACa,
        Check::X509NoKeyCertSign,
        Check::X509PathLength,
        Check::X509Policy,
        Check::X509PolicyMalformed,
        Check::X509PolicyMappingAny,
        Check::X509UnknownCriticalExtension,
        Check::ContentTstAfterAlgorithmSunset,
        Check::SigAlgUnsupported,
        Check::TstImprintAlg,
        Check::TimestampOrderFailure,
        Check::NoSigningCertificate,
        Check::NoCertificateChainFound,
        Check::X509Revoked,
        Check::X509CaRevoked,
        Check::X509CaOutOfBounds,
        Check::X509Expired,
        Check::X509ExpiredNotRevoked,
        Check::TstGenTimeAfterPoe,
        Check::RevocationMissing,
        Check::X509OnHold,
        Check::PdfNoSignature,
        Check::SignedDataNotFound,
        Check::TstDataNotGiven,
        Check::ArchiveTstDiscarded,
        Check::ArchiveTstFailed,
        Check::ArchiveTstHashIndexFormat,
        Check::ArchiveTstHashIndexMismatch,
        Check::ArchiveTstImprintMismatch,
        Check::ArchiveTstV2ImprintMismatch,
        Check::ContentTstDiscarded,
        Check::ContentTypeMismatch,
        Check::CorporateNumberCheckDigit,
        Check::CrlNotUsed,
        Check::OcspNotUsed,
        Check::PdfChangesAfterSigning,
        Check::PdfNotWholeDocument,
        Check::PdfSeveralSignatures,
        Check::PlainCmsNoSigningCertificate,
        Check::RevocationNotFresh,
        Check::RevocationNotUsedMore,
        Check::SeveralSigners,
        Check::SignatureTstDiscarded,
        Check::SigningTimeAfterTimeStamp,
        Check::TrailingZeroPadding,
        Check::TstSigningCertificateAbsent,
        Check::VerificationBudgetExceeded,
    ];

    /// (finding code, sub-indication, Japanese text) of every check but [`Check::Crypto`].
    fn row(self) -> (&'static str, Option<Sub>, &'static str) {
        use Sub::*;
        match self {
            Self::CmsNoSigner => (
                "CMS_NO_SIGNER",
                Some(FormatFailure),
                "署名データに署名者情報(SignerInfo)がありません。",
            ),
            Self::CmsSignedAttributes => (
                "CMS_SIGNED_ATTRIBUTES",
                Some(FormatFailure),
                "署名属性が規格(RFC 5652)の規則に反しています(content-type または message-digest 属性がない、重複している、値が一つでない、または内容の種類と一致しない)。",
            ),
            Self::FormatFailure => (
                "FORMAT_FAILURE",
                Some(FormatFailure),
                "ファイルの形式が規格に反しているため、検証できません。",
            ),
            Self::LimitExceeded => (
                "LIMIT_EXCEEDED",
                Some(FormatFailure),
                "ファイルに含まれる署名者・証明書・失効情報・タイムスタンプの数が処理の上限を超えています(処理量を限るため検証しません)。",
            ),
            Self::PdfByterange => (
                "PDF_BYTERANGE",
                Some(FormatFailure),
                "署名の対象範囲(ByteRange)が規格どおりではありません。署名されていない部分に内容を隠す攻撃の可能性があります。",
            ),
            Self::PdfContents => (
                "PDF_CONTENTS",
                Some(FormatFailure),
                "署名値(/Contents)が規格どおりではありません。",
            ),
            Self::PdfEncrypted => (
                "PDF_ENCRYPTED",
                Some(FormatFailure),
                "暗号化されたPDFは検証できません(対応していません)。",
            ),
            Self::PdfFieldTree => (
                "PDF_FIELD_TREE",
                Some(FormatFailure),
                "PDFのフォーム項目の構造が壊れています(循環または過大)。",
            ),
            Self::PdfSigDictReplaced => (
                "PDF_SIG_DICT_REPLACED",
                Some(FormatFailure),
                "署名の後の改訂で署名情報そのものが差し替えられています(なりすましの手口です)。",
            ),
            Self::PdfSubfilter => (
                "PDF_SUBFILTER",
                Some(FormatFailure),
                "この形式のPDF署名(SubFilter)には対応していません。",
            ),
            Self::PdfUnreadable => (
                "PDF_UNREADABLE",
                Some(FormatFailure),
                "PDFファイルの構造を読み取れません。",
            ),
            Self::PssHashMismatch => (
                "PSS_HASH_MISMATCH",
                Some(FormatFailure),
                "RSASSA-PSS のハッシュ関数が SignerInfo のダイジェストアルゴリズムと一致しません(RFC 4056 §3)。",
            ),
            Self::TstFormat => (
                "TST_FORMAT",
                Some(FormatFailure),
                "タイムスタンプトークンを読み取れません。",
            ),
            Self::DataNotEncapsulatedContent => (
                "DATA_NOT_ENCAPSULATED_CONTENT",
                Some(HashFailure),
                "この署名は文書を内包しており、--data で指定されたファイルはその文書と一致しません。指定されたファイルについては何も確認していません。",
            ),
            Self::MessageDigestMismatch => (
                "MESSAGE_DIGEST_MISMATCH",
                Some(HashFailure),
                "文書のハッシュ値が、署名者が署名したハッシュ値と一致しません。",
            ),
            Self::TstImprintMismatch => (
                "TST_IMPRINT_MISMATCH",
                Some(HashFailure),
                "タイムスタンプが対象とするハッシュ値が、データと一致しません。",
            ),
            Self::AlgorithmProtectionMismatch => (
                "ALGORITHM_PROTECTION_MISMATCH",
                Some(SigCryptoFailure),
                "署名属性 cms-algorithm-protection が示すアルゴリズムが、実際に使われたアルゴリズムと一致しません(アルゴリズムの差し替えの疑い)。",
            ),
            Self::SignatureInvalid => (
                "SIGNATURE_INVALID",
                Some(SigCryptoFailure),
                "署名値が署名者の証明書の鍵で検証できません。",
            ),
            Self::ContentTstAfterRevocation => (
                "CONTENT_TST_AFTER_REVOCATION",
                Some(Revoked),
                "コンテンツタイムスタンプにより、署名は署名者の証明書が失効した後に作成されたことが証明されます。",
            ),
            Self::ContentTstAfterExpiry => (
                "CONTENT_TST_AFTER_EXPIRY",
                Some(Expired),
                "コンテンツタイムスタンプにより、署名は署名者の証明書の有効期限が切れた後に作成されたことが証明されます。",
            ),
            Self::TstGenTimeAfterTsaCertificate => (
                "TST_GEN_TIME_AFTER_TSA_CERTIFICATE",
                Some(Expired),
                "タイムスタンプの時刻が、時刻認証局の証明書の有効期限より後です。このタイムスタンプは存在証明になりません。",
            ),
            Self::TstGenTimeBeforeTsaCertificate => (
                "TST_GEN_TIME_BEFORE_TSA_CERTIFICATE",
                Some(NotYetValid),
                "タイムスタンプの時刻が、時刻認証局の証明書の有効期間の開始より前です。このタイムスタンプは存在証明になりません。",
            ),
            Self::X509NotYetValid => (
                "X509_NOT_YET_VALID",
                Some(NotYetValid),
                "証明書の有効期間が始まる前の時刻です。",
            ),
            Self::PdfModifiedAfterSigning => (
                "PDF_MODIFIED_AFTER_SIGNING",
                Some(SigConstraintsFailure),
                "署名の後に、署名が許していない変更(ページ内容・構成など)が文書に加えられています。表示されている内容は署名されたものと違う可能性があります。",
            ),
            Self::SigningCertificateAbsent => (
                "SIGNING_CERTIFICATE_ABSENT",
                Some(SigConstraintsFailure),
                "署名属性が署名者の証明書を参照していません(ESS signing-certificate-v2 がありません)。別の証明書へのすり替えを防げないため、受け入れられません。",
            ),
            Self::TsaEkuNotCritical => (
                "TSA_EKU_NOT_CRITICAL",
                Some(ChainConstraintsFailure),
                "時刻認証局の証明書の拡張鍵用途(extendedKeyUsage)が critical ではありません(RFC 3161 §2.3)。",
            ),
            Self::TsaEkuNotSole => (
                "TSA_EKU_NOT_SOLE",
                Some(ChainConstraintsFailure),
                "時刻認証局の証明書の拡張鍵用途に、タイムスタンプ(id-kp-timeStamping)以外の用途も含まれています。RFC 3161 §2.3 はこの用途ただ一つを求めます。",
            ),
            Self::TsaNoTimestampingEku => (
                "TSA_NO_TIMESTAMPING_EKU",
                Some(ChainConstraintsFailure),
                "時刻認証局の証明書にタイムスタンプ用途(id-kp-timeStamping)がありません。",
            ),
            Self::X509AnchorNotACa => (
                "X509_ANCHOR_NOT_A_CA",
                Some(ChainConstraintsFailure),
                "信頼する証明書(トラストアンカー)が認証局(CA)ではないのに、証明書を発行しています。",
            ),
            Self::X509AnchorNoKeyCertSign => (
                "X509_ANCHOR_NO_KEY_CERT_SIGN",
                Some(ChainConstraintsFailure),
                "信頼する証明書(トラストアンカー)の鍵用途に証明書署名(keyCertSign)がありません。",
            ),
            Self::X509AnchorPathLength => (
                "X509_ANCHOR_PATH_LENGTH",
                Some(ChainConstraintsFailure),
                "信頼する証明書(トラストアンカー)のパス長制約を超える数の中間認証局があります。",
            ),
            Self::X509ExtensionsMalformed => (
                "X509_EXTENSIONS_MALFORMED",
                Some(ChainConstraintsFailure),
                "証明書の拡張を読み取れません。",
            ),
            Self::X509KeyUsage => (
                "X509_KEY_USAGE",
                Some(ChainConstraintsFailure),
                "署名者の証明書の鍵用途(keyUsage)が署名を許していません。",
            ),
            Self::X509NameConstraints => (
                "X509_NAME_CONSTRAINTS",
                Some(ChainConstraintsFailure),
                "証明書が認証局の名前制約に違反しています。",
            ),
            Self::X509NameConstraintsUnsupported => (
                "X509_NAME_CONSTRAINTS_UNSUPPORTED",
                Some(ChainConstraintsFailure),
                "この検証器が扱えない形式の名前制約があるため、チェーンを受け入れられません。",
            ),
            Self::X509NotACa => (
                "X509_NOT_A_CA",
                Some(ChainConstraintsFailure),
                "認証局(CA)ではない証明書が、他の証明書を発行しています。",
            ),
            Self::X509NoKeyCertSign => (
                "X509_NO_KEY_CERT_SIGN",
                Some(ChainConstraintsFailure),
                "認証局の証明書の鍵用途に証明書署名(keyCertSign)がありません。",
            ),
            Self::X509PathLength => (
                "X509_PATH_LENGTH",
                Some(ChainConstraintsFailure),
                "認証局のパス長制約(pathLenConstraint)を超えています。",
            ),
            Self::X509Policy => (
                "X509_POLICY",
                Some(ChainConstraintsFailure),
                "証明書ポリシーの要件を満たしていません。",
            ),
            Self::X509PolicyMalformed => (
                "X509_POLICY_MALFORMED",
                Some(ChainConstraintsFailure),
                "証明書ポリシーの拡張を読み取れません。",
            ),
            Self::X509PolicyMappingAny => (
                "X509_POLICY_MAPPING_ANY",
                Some(ChainConstraintsFailure),
                "証明書ポリシーのマッピングに anyPolicy が使われています(RFC 5280 で禁止)。",
            ),
            Self::X509UnknownCriticalExtension => (
                "X509_UNKNOWN_CRITICAL_EXTENSION",
                Some(ChainConstraintsFailure),
                "証明書に、この検証器が扱えない critical な拡張があります。",
            ),
            Self::ContentTstAfterAlgorithmSunset => (
                "CONTENT_TST_AFTER_ALGORITHM_SUNSET",
                Some(CryptoConstraintsFailure),
                "コンテンツタイムスタンプにより、署名は使用アルゴリズムが既に許容されなくなった後に作成されたことが証明されます。",
            ),
            Self::SigAlgUnsupported => (
                "SIG_ALG_UNSUPPORTED",
                Some(CryptoConstraintsFailureNoPoe),
                "署名アルゴリズムをこの検証器では検証できません。",
            ),
            Self::TstImprintAlg => (
                "TST_IMPRINT_ALG",
                Some(CryptoConstraintsFailureNoPoe),
                "タイムスタンプのハッシュアルゴリズムを扱えません。",
            ),
            Self::TimestampOrderFailure => (
                "TIMESTAMP_ORDER_FAILURE",
                Some(TimestampOrderFailure),
                "タイムスタンプの時刻が互いに矛盾しています(文書へのタイムスタンプが署名へのタイムスタンプより後です)。",
            ),
            Self::NoSigningCertificate => (
                "NO_SIGNING_CERTIFICATE",
                Some(NoSigningCertificateFound),
                "署名者の証明書が見つからないか、署名が参照する証明書と一致しません。",
            ),
            Self::NoCertificateChainFound => (
                "NO_CERTIFICATE_CHAIN_FOUND",
                Some(NoCertificateChainFound),
                "署名者の証明書から信頼する認証局までの証明書チェーンが見つかりません。",
            ),
            Self::X509Revoked => (
                "X509_REVOKED",
                Some(RevokedNoPoe),
                "証明書が失効しており、失効より前に署名されたことを示す証拠がありません。",
            ),
            Self::X509CaRevoked => (
                "X509_REVOKED",
                Some(RevokedCaNoPoe),
                "証明書が失効しており、失効より前に署名されたことを示す証拠がありません。",
            ),
            Self::X509CaOutOfBounds => (
                "X509_CA_OUT_OF_BOUNDS",
                Some(OutOfBoundsNoPoe),
                "チェーン中の認証局の証明書が、対象の時刻に有効期間外です。",
            ),
            Self::X509Expired => (
                "X509_EXPIRED",
                Some(OutOfBoundsNoPoe),
                "証明書の有効期限が切れており、有効期間中に署名されたことを示す証拠がありません。",
            ),
            Self::X509ExpiredNotRevoked => (
                "X509_EXPIRED",
                Some(OutOfBoundsNotRevoked),
                "証明書の有効期限が切れており、有効期間中に署名されたことを示す証拠がありません。",
            ),
            Self::TstGenTimeAfterPoe => (
                "TST_GEN_TIME_AFTER_POE",
                Some(NoPoe),
                "タイムスタンプの時刻が、それが存在したと分かっている時刻(検証時刻または後のタイムスタンプ)より後です。このタイムスタンプは存在証明になりません。",
            ),
            Self::RevocationMissing => (
                "REVOCATION_MISSING",
                Some(TryLater),
                "証明書の失効情報(CRL または OCSP 応答)が手元にありません。",
            ),
            Self::X509OnHold => (
                "X509_ON_HOLD",
                Some(TryLater),
                "証明書が一時停止(certificateHold)されています。より新しい失効情報が得られてから、もう一度検証してください。",
            ),
            Self::PdfNoSignature => (
                "PDF_NO_SIGNATURE",
                Some(SignedDataNotFound),
                "このPDFには署名もタイムスタンプもありません。",
            ),
            Self::SignedDataNotFound => (
                "SIGNED_DATA_NOT_FOUND",
                Some(SignedDataNotFound),
                "分離署名の対象データが指定されていません(--data)。",
            ),
            Self::TstDataNotGiven => (
                "TST_DATA_NOT_GIVEN",
                Some(SignedDataNotFound),
                "タイムスタンプの対象データが指定されていないため、ハッシュ値を照合していません。--data で指定してください。",
            ),
            Self::ArchiveTstDiscarded => (
                "ARCHIVE_TST_DISCARDED",
                None,
                "アーカイブタイムスタンプの一つを存在証明として使用しませんでした。",
            ),
            Self::ArchiveTstFailed => (
                "ARCHIVE_TST_FAILED",
                None,
                "アーカイブタイムスタンプが有効ではありません。",
            ),
            Self::ArchiveTstHashIndexFormat => (
                "ARCHIVE_TST_HASH_INDEX_FORMAT",
                None,
                "アーカイブタイムスタンプのハッシュ索引(ats-hash-index)を読み取れません。",
            ),
            Self::ArchiveTstHashIndexMismatch => (
                "ARCHIVE_TST_HASH_INDEX_MISMATCH",
                None,
                "アーカイブタイムスタンプのハッシュ索引が、署名に含まれる要素と一致しません。",
            ),
            Self::ArchiveTstImprintMismatch => (
                "ARCHIVE_TST_IMPRINT_MISMATCH",
                None,
                "アーカイブタイムスタンプが対象とするハッシュ値が、署名の内容と一致しません。",
            ),
            Self::ArchiveTstV2ImprintMismatch => (
                "ARCHIVE_TST_V2_IMPRINT_MISMATCH",
                None,
                "アーカイブタイムスタンプ(v2)が対象とするハッシュ値が、署名の内容と一致しません。",
            ),
            Self::ContentTstDiscarded => (
                "CONTENT_TST_DISCARDED",
                None,
                "コンテンツタイムスタンプの一つを使用しませんでした(無効、または文書と一致しません)。",
            ),
            Self::ContentTypeMismatch => (
                "CONTENT_TYPE_MISMATCH",
                None,
                "content-type 属性が署名対象の内容の種類と一致しません。",
            ),
            Self::CorporateNumberCheckDigit => (
                "CORPORATE_NUMBER_CHECK_DIGIT",
                None,
                "組織識別子に含まれる13桁の番号はチェックデジットが一致せず、有効な法人番号ではありません。",
            ),
            Self::CrlNotUsed => (
                "CRL_NOT_USED",
                None,
                "手元の CRL の一つを使用しませんでした(対象外、または新しさが足りません)。",
            ),
            Self::OcspNotUsed => (
                "OCSP_NOT_USED",
                None,
                "OCSP応答の一つを使用しませんでした(対象の証明書・発行者と合わない、署名や応答者が正しくない、または検証時刻より後に作られています)。",
            ),
            Self::PdfChangesAfterSigning => (
                "PDF_CHANGES_AFTER_SIGNING",
                None,
                "署名の後に、許される種類の追記(検証情報、タイムスタンプ、別の署名など)があります。",
            ),
            Self::PdfNotWholeDocument => (
                "PDF_NOT_WHOLE_DOCUMENT",
                None,
                "この署名は文書の途中の版までを対象にしています(後の追記は下に示します)。",
            ),
            Self::PdfSeveralSignatures => (
                "PDF_SEVERAL_SIGNATURES",
                None,
                "複数の署名・タイムスタンプがあります。全体の結果は最も悪いものです。",
            ),
            Self::PlainCmsNoSigningCertificate => (
                "PLAIN_CMS_NO_SIGNING_CERTIFICATE",
                None,
                "CAdES ではない通常の CMS 署名です。署名者の証明書は識別子で示されるだけで、署名によって固定されていません(ESS signing-certificate-v2 がありません)。",
            ),
            Self::RevocationNotFresh => (
                "REVOCATION_NOT_FRESH",
                None,
                "失効情報の一つは、判定に必要な時刻に対して新しさが足りない(有効期間がその時刻を含まない)ため、「失効していない」根拠にしませんでした。",
            ),
            Self::RevocationNotUsedMore => (
                "REVOCATION_NOT_USED_MORE",
                None,
                "ほかにも使用しなかったCRLまたはOCSP応答があります(表示を省略しました)。",
            ),
            Self::SeveralSigners => (
                "SEVERAL_SIGNERS",
                None,
                "複数の署名者がいます。結果は最も悪い署名者のものです(署名者ごとの結果を参照)。",
            ),
            Self::SignatureTstDiscarded => (
                "SIGNATURE_TST_DISCARDED",
                None,
                "署名タイムスタンプの一つを存在証明として使用しませんでした(無効、または署名と一致しません)。",
            ),
            Self::SigningTimeAfterTimeStamp => (
                "SIGNING_TIME_AFTER_TIME_STAMP",
                None,
                "自己申告の署名時刻がタイムスタンプの時刻より後になっています。",
            ),
            Self::TrailingZeroPadding => (
                "TRAILING_ZERO_PADDING",
                None,
                "署名の構造の後にゼロのバイト列(詰め物)があります。無視しました。",
            ),
            Self::TstSigningCertificateAbsent => (
                "TST_SIGNING_CERTIFICATE_ABSENT",
                None,
                "タイムスタンプトークンが時刻認証局の証明書を参照していません(ESS signing-certificate がありません)。",
            ),
            Self::VerificationBudgetExceeded => (
                "VERIFICATION_BUDGET_EXCEEDED",
                None,
                "検証に必要な署名検証の回数が上限を超えたため、検証を打ち切りました(処理量を限るため)。",
            ),
            Self::Crypto(r) => (r.code(), Some(CryptoConstraintsFailureNoPoe), ""),
        }
    }

    /// The stable finding code.
    pub fn code(self) -> &'static str {
        self.row().0
    }

    /// The sub-indication this check gives when it decides the result; `None` for a check
    /// that only informs.
    pub fn sub(self) -> Option<Sub> {
        self.row().1
    }

    /// The main indication this check gives when it decides the result (from its
    /// sub-indication, EN 319 102-1 Table 6).
    pub fn indication(self) -> Option<Indication> {
        self.sub().map(Sub::indication)
    }

    /// What the check means, in Japanese: what a citizen needs to know (the English message
    /// of the finding keeps the details). The rules of the cryptographic policy take their
    /// text from `inkan-profiles`.
    pub fn text_ja(self) -> Cow<'static, str> {
        match self {
            Self::Crypto(r) => {
                format!("暗号アルゴリズムの基準に反しています: {}", r.text_ja()).into()
            }
            _ => self.row().2.into(),
        }
    }

    /// The check a finding code names, if any.
    pub fn from_code(code: &str) -> Option<Check> {
        Self::ALL
            .into_iter()
            .chain(RULES.into_iter().map(Check::Crypto))
            .find(|c| c.code() == code)
    }
}

/// The rules of the cryptographic policy of `inkan-profiles`, whose codes appear as finding
/// codes.
pub const RULES: [Rule; 22] = Rule::ALL;

/// The ranking of results (EN 319 102-1 §5.3.4, §5.5.4): whether `new`, found by a later
/// step of the validation, takes the place of the result `old` found so far (`None`: passed).
///
/// - nothing replaces a TOTAL-FAILED (it is proven: later steps only add findings);
/// - TIMESTAMP_ORDER_FAILURE (§5.5.4) replaces only a pass or the INDETERMINATE results after
///   which validation with time goes on to the time-stamp coherence check (REVOKED_NO_POE,
///   REVOKED_CA_NO_POE, OUT_OF_BOUNDS_NO_POE, OUT_OF_BOUNDS_NOT_REVOKED,
///   CRYPTO_CONSTRAINTS_FAILURE_NO_POE, TRY_LATER);
/// - any other result replaces a pass or an INDETERMINATE.
///
/// Within one step the first failing check decides (`Outcome::set` in the engine): the
/// checks of a step are made in the order of their clause.
pub fn prevails(new: Sub, old: Option<Sub>) -> bool {
    let Some(old) = old else {
        return true;
    };
    if old.indication() == Indication::TotalFailed {
        return false;
    }
    match new {
        Sub::TimestampOrderFailure => matches!(
            old,
            Sub::RevokedNoPoe
                | Sub::RevokedCaNoPoe
                | Sub::OutOfBoundsNoPoe
                | Sub::OutOfBoundsNotRevoked
                | Sub::CryptoConstraintsFailureNoPoe
                | Sub::TryLater
        ),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_has_its_own_code_and_a_japanese_text() {
        let mut seen = std::collections::HashSet::new();
        for c in Check::ALL
            .into_iter()
            .chain(RULES.into_iter().map(Check::Crypto))
        {
            let code = c.code();
            assert!(
                code.len() >= 4
                    && code
                        .chars()
                        .all(|x| x.is_ascii_uppercase() || x.is_ascii_digit() || "_-".contains(x)),
                "{c:?}: {code}"
            );
            assert!(c.text_ja().chars().any(|x| x > '\u{3000}'), "{c:?}");
            // Two codes have two variants (one per sub-indication); every other is unique.
            if !seen.insert(code) {
                assert!(
                    matches!(c, Check::X509ExpiredNotRevoked | Check::X509CaRevoked),
                    "{c:?}"
                );
            }
            assert!(Check::from_code(code).is_some_and(|f| f.code() == code));
        }
        assert!(Check::Crypto(Rule::HashSha1).text_ja().contains("SHA-1"));
    }

    #[test]
    fn sub_indications_follow_table_6() {
        assert_eq!(
            Check::SignatureInvalid.indication(),
            Some(Indication::TotalFailed)
        );
        assert_eq!(Check::X509Revoked.sub(), Some(Sub::RevokedNoPoe));
        assert_eq!(Check::X509CaRevoked.sub(), Some(Sub::RevokedCaNoPoe));
        assert_eq!(Check::X509ExpiredNotRevoked.code(), "X509_EXPIRED");
        assert_eq!(
            Check::Crypto(Rule::HashMd5).indication(),
            Some(Indication::Indeterminate)
        );
        assert_eq!(Check::CrlNotUsed.sub(), None);
    }

    #[test]
    fn ranking() {
        use Sub::*;
        assert!(prevails(HashFailure, None));
        assert!(prevails(HashFailure, Some(TryLater)));
        assert!(!prevails(NoPoe, Some(SigCryptoFailure)));
        assert!(prevails(TimestampOrderFailure, Some(RevokedNoPoe)));
        assert!(!prevails(
            TimestampOrderFailure,
            Some(NoCertificateChainFound)
        ));
        assert!(prevails(
            CryptoConstraintsFailureNoPoe,
            Some(ChainConstraintsFailure)
        ));
    }
}
