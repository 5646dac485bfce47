//! The commitment-type-indication signed attribute (ETSI EN 319 122-1 §5.2.3): what the signer
//! commits to by sealing, `--commitment-type`. An e-seal usually says *proof of origin* (the
//! organisation issued this document); an approval seal says *proof of approval*.
//!
//! ```text
//! id-aa-ets-commitmentType OBJECT IDENTIFIER ::= { 1 2 840 113549 1 9 16 2 16 }
//! CommitmentTypeIndication ::= SEQUENCE {
//!     commitmentTypeId          CommitmentTypeIdentifier,
//!     commitmentTypeQualifier   SEQUENCE SIZE (1..MAX) OF CommitmentTypeQualifier OPTIONAL }
//! CommitmentTypeIdentifier ::= OBJECT IDENTIFIER   -- id-cti-ets-proofOfOrigin etc.
//! ```
//!
//! One commitment per signature, without qualifiers: EN 319 122-1 lets a signature carry
//! several, but a batch seals every file with the same intent, and one is what verifiers
//! (DSS, inkan-verify) present plainly.

use const_oid::ObjectIdentifier;
use inkan_profiles::oid;

use inkan_profiles::asn1::tlv::{self, tag};

/// A commitment type of EN 319 122-1 (an `id-cti-ets-*` identifier), chosen by its short
/// name from [`oid::COMMITMENT_TYPES`], the table inkan-verify reports them from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Commitment(ObjectIdentifier);

impl Commitment {
    /// The names `--commitment-type` takes, for messages.
    pub fn names() -> String {
        let names: Vec<&str> = oid::COMMITMENT_TYPES.iter().map(|(_, n)| *n).collect();
        names.join(", ")
    }

    /// Parses a `--commitment-type` value (`origin`, `receipt`, `delivery`, `sender`,
    /// `approval` or `creation`).
    pub fn parse(s: &str) -> Option<Self> {
        oid::COMMITMENT_TYPES
            .iter()
            .find(|(_, n)| *n == s)
            .map(|(o, _)| Self(*o))
    }

    /// Its `id-cti-ets-*` identifier.
    pub fn oid(self) -> ObjectIdentifier {
        self.0
    }

    /// The DER signed attribute.
    pub fn attribute(self) -> Vec<u8> {
        let value = tlv::encode_parts(tag::SEQUENCE, &[tlv::encode_oid(&self.oid())]);
        inkan_hsm::cms::attribute(&oid::ID_AA_ETS_COMMITMENT_TYPE, &[&value])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_encoding() {
        for name in [
            "origin", "receipt", "delivery", "sender", "approval", "creation",
        ] {
            assert!(Commitment::parse(name).is_some(), "{name}");
        }
        assert_eq!(Commitment::parse("proof-of-origin"), None);
        // SEQUENCE { OID id-aa-ets-commitmentType, SET { SEQUENCE { OID proofOfOrigin } } }
        let a = Commitment::parse("origin").unwrap().attribute();
        let t = tlv::parse_exact_with(&a, tlv::Rules::LOW_TAGS_ONLY).unwrap();
        assert_eq!(t.tag, tag::SEQUENCE);
        assert!(a.ends_with(&[
            0x31, 0x0f, 0x30, 0x0d, 0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09,
            0x10, 0x06, 0x01
        ]));
    }
}
