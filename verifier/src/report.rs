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
    /// Explanation (English).
    pub message: String,
}

impl Finding {
    /// A finding.
    pub fn new(code: &'static str, message: String) -> Self {
        Self { code, message }
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
        if let Some(p) = &self.signer {
            s.push_str(&format!("{}\n", l("Sealed by:", "署名者・押印者:")));
            s.push_str(&format!("  {}: {}\n", l("Subject", "主体者"), p.subject));
            if let Some(o) = &p.organization {
                s.push_str(&format!("  {}: {o}\n", l("Organisation", "組織")));
            }
            if let Some(o) = &p.organization_identifier {
                s.push_str(&format!("  organizationIdentifier: {o}\n"));
            }
            if let Some(c) = &p.corporate_number {
                s.push_str(&format!(
                    "  {}: {} ({})\n",
                    l("Corporate number", "法人番号"),
                    c.number,
                    if c.check_digit_valid {
                        l("check digit valid", "チェックデジット正")
                    } else {
                        l("CHECK DIGIT WRONG", "チェックデジット誤り")
                    }
                ));
            }
            s.push_str(&format!("  {}: {}\n", l("Issuer", "発行者"), p.issuer));
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
                "  {} ({}): {} [{}]\n",
                l("Time-stamp", "タイムスタンプ"),
                t.kind,
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
                s.push_str(&format!("  {c}\n"));
            }
        }
        if !self.revocation.is_empty() {
            s.push_str(&format!("{}\n", l("Revocation:", "失効確認:")));
            for c in &self.revocation {
                s.push_str(&format!("  {c}\n"));
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
                s.push_str(&format!("  [{}] {}\n", f.code, f.message));
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn sub_names() {
        assert_eq!(
            Sub::CryptoConstraintsFailureNoPoe.as_str(),
            "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
        );
    }
}
