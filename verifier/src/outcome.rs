//! The result of a validation process ([`Outcome`]) and of a time-stamp token's validation
//! ([`TokenResult`]), and what a token's imprint must cover ([`Imprinted`]).

use inkan_profiles::alg::DigestAlgorithm;

use crate::checks::{Check, prevails};
use crate::material::Content;
use crate::report::{Finding, Indication, Sub};
use crate::x509::Certificate;
use inkan_profiles::asn1::tsp::TstInfo;

/// Result of one validation process.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Indication.
    pub indication: Indication,
    /// Sub-indication.
    pub sub: Option<Sub>,
    /// Findings.
    pub findings: Vec<Finding>,
    /// The path, signing certificate first.
    pub chain: Vec<Certificate>,
    /// Revocation notes per certificate.
    pub revocation: Vec<String>,
    /// Signing certificate.
    pub signer: Option<Certificate>,
    /// The index in `findings` of the finding that set the indication, if any.
    pub(crate) decisive: Option<usize>,
}

impl Outcome {
    /// A passed outcome, with nothing found yet.
    pub(crate) fn new() -> Self {
        Self {
            indication: Indication::TotalPassed,
            sub: None,
            findings: Vec::new(),
            chain: Vec::new(),
            revocation: Vec::new(),
            signer: None,
            decisive: None,
        }
    }

    /// Records `check`'s finding; the first failing check of a step decides the result.
    pub(crate) fn set(&mut self, check: Check, msg: String) {
        self.findings.push(Finding::new(check, msg));
        if self.indication == Indication::TotalPassed
            && let Some(sub) = check.sub()
        {
            self.indication = sub.indication();
            self.sub = Some(sub);
            self.decisive = Some(self.findings.len() - 1);
        }
    }

    /// Records `check`'s finding and makes it decide the result.
    pub(crate) fn fail(mut self, check: Check, msg: String) -> Self {
        self.findings.push(Finding::new(check, msg));
        if let Some(sub) = check.sub() {
            self.decisive = Some(self.findings.len() - 1);
            self.indication = sub.indication();
            self.sub = Some(sub);
        }
        self
    }

    /// Whether `check`, found by a later step, would take the place of the result so far
    /// ([`prevails`]).
    pub(crate) fn overruled_by(&self, check: Check) -> bool {
        check.sub().is_some_and(|s| prevails(s, self.sub))
    }

    /// Whether the outcome passed.
    pub fn passed(&self) -> bool {
        self.indication == Indication::TotalPassed
    }

    /// The reason for the verdict: the message of the finding that set the indication, else
    /// of the last finding, or "unreadable".
    pub fn last_reason(&self) -> String {
        self.decisive
            .and_then(|i| self.findings.get(i))
            .or(self.findings.last())
            .map_or_else(|| "unreadable".into(), |f| f.message.clone())
    }
}

/// The result of validating a time-stamp token.
pub struct TokenResult {
    /// Outcome of the token's own validation.
    pub outcome: Outcome,
    /// The TSTInfo, if readable.
    pub tst: Option<TstInfo>,
    /// Whether the imprint matched the expected data (None: not checked).
    pub imprint_ok: Option<bool>,
}

/// What a token's imprint must cover.
pub enum Imprinted<'a> {
    /// Bytes (e.g. a signature value).
    Bytes(&'a [u8]),
    /// Some content.
    Content(&'a Content<'a>),
    /// A digest computed by the caller (with the algorithm named); a token whose imprint
    /// uses another algorithm does not match.
    Digest(DigestAlgorithm, Vec<u8>),
}
