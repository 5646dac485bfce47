//! The checks `inkan-sign` runs on the signing certificate and its chain before anything is
//! signed, so that it makes nothing its own verifier rejects (issue 11 §8). Each refusal names
//! its rule: the verifier's finding code where the verifier has the same check (`X509_…`),
//! the CRYPTREC rule code of [`inkan_profiles::policy`] for algorithms (the same
//! [`Policy::check_signature`] the verifier applies to every certificate signature of a
//! path), and `INKAN-…` for the signer's own rules.
//!
//! What is checked, at the signing time `at`:
//! - the key and the certificate belong together (`INKAN-KEY-CERT-MISMATCH`, in
//!   [`crate::sign::prepare`]);
//! - the signing certificate: validity period (`X509_NOT_YET_VALID`, `X509_EXPIRED`), keyUsage
//!   digitalSignature or nonRepudiation (`X509_KEY_USAGE`), an extendedKeyUsage, when
//!   present, that allows signing documents (`INKAN-SEAL-EKU`, RFC 5280 §4.2.1.12: a
//!   certificate whose purposes are only, say, id-kp-timeStamping is a TSA's certificate, not
//!   an e-seal certificate), no critical extension it does not know
//!   (`X509_UNKNOWN_CRITICAL_EXTENSION`, RFC 5280 §4.2);
//! - along the path the chain gives (certificates ordered by name, up to a self-issued one):
//!   each issuer a CA (`X509_NOT_A_CA`, basicConstraints cA) allowed to sign certificates
//!   (`X509_NO_KEY_CERT_SIGN`) within its pathLenConstraint (`X509_PATH_LENGTH`), valid at
//!   `at` (`X509_CA_OUT_OF_BOUNDS`, `X509_CA_EXPIRED`), without unknown critical extensions;
//!   each certificate's signature algorithm allowed for validation at `at` with its issuer's
//!   key (`CRYPTREC-HASH-SHA1` for ecdsa-with-SHA1, `CRYPTREC-RSA-MIN-2048`, …; an algorithm
//!   the catalogue does not know: `INKAN-ALG-UNKNOWN`) and the signature itself correct
//!   (`X509_SIGNATURE_INVALID`);
//! - for B-LT and B-LTA, which embed the whole path and its revocation data, the path must
//!   reach a self-issued certificate (`INKAN-CHAIN-INCOMPLETE`). B-B and B-T may leave the
//!   root (or more) to the verifier's trust store, as EN 319 122-1 allows.
//!
//! As in the verifier (RFC 5280 §6.1: the trust anchor is not part of the path), the
//! self-issued certificate that ends the path is a trust anchor: its own signature, validity
//! and extensions are not judged, only what it signed.

use const_oid::ObjectIdentifier;
use inkan_profiles::alg::{PublicKeyKind, SignatureAlgorithm};
use inkan_profiles::oid;
use inkan_profiles::policy::{Policy, Use};
use inkan_profiles::time::UnixTime;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};

use crate::cades::Level;
use crate::certs::{self, Cert};

/// A certificate refused for sealing: the rule's name and what it found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// The rule (a stable code).
    pub rule: &'static str,
    /// What was found, naming the certificate.
    pub message: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (rule {})", self.message, self.rule)
    }
}

impl std::error::Error for Refused {}

fn refuse(rule: &'static str, message: String) -> Refused {
    Refused { rule, message }
}

/// id-kp-documentSigning (RFC 9336 §3.1).
pub const ID_KP_DOCUMENT_SIGNING: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.36");
/// Microsoft's document-signing purpose (szOID_KP_DOCUMENT_SIGNING).
pub const MS_DOCUMENT_SIGNING: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.10.3.12");
/// Adobe's authenticDocumentsTrust purpose (PDF signing certificates).
pub const ADOBE_AUTHENTIC_DOCUMENTS: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113583.1.1.5");

/// The extended key usages that allow a certificate to seal documents: any purpose
/// (anyExtendedKeyUsage, RFC 5280 §4.2.1.12), document signing (RFC 9336; Microsoft's and
/// Adobe's older purposes for the same), and emailProtection, the purpose of CMS signatures
/// (RFC 8550 §4.4), which many document-signing certificates carry.
pub const SEALING_PURPOSES: [ObjectIdentifier; 5] = [
    oid::ANY_EXTENDED_KEY_USAGE,
    ID_KP_DOCUMENT_SIGNING,
    oid::ID_KP_EMAIL_PROTECTION,
    MS_DOCUMENT_SIGNING,
    ADOBE_AUTHENTIC_DOCUMENTS,
];

/// A purpose's name for messages.
fn purpose_name(o: &ObjectIdentifier) -> String {
    const NAMES: [(ObjectIdentifier, &str); 6] = [
        (oid::ID_KP_SERVER_AUTH, "id-kp-serverAuth"),
        (oid::ID_KP_CLIENT_AUTH, "id-kp-clientAuth"),
        (oid::ID_KP_CODE_SIGNING, "id-kp-codeSigning"),
        (oid::ID_KP_EMAIL_PROTECTION, "id-kp-emailProtection"),
        (oid::ID_KP_TIME_STAMPING, "id-kp-timeStamping"),
        (oid::ID_KP_OCSP_SIGNING, "id-kp-OCSPSigning"),
    ];
    NAMES
        .iter()
        .find(|(x, _)| x == o)
        .map_or_else(|| o.to_string(), |(_, n)| (*n).to_owned())
}

/// Extensions whose meaning the signer and the verifier know (RFC 5280 §4.2, RFC 6960
/// §4.2.2.2.1, EN 319 412-5): a critical extension outside this list makes a certificate
/// unusable (RFC 5280 §4.2).
const KNOWN_EXTENSIONS: [ObjectIdentifier; 17] = [
    oid::ID_CE_BASIC_CONSTRAINTS,
    oid::ID_CE_KEY_USAGE,
    oid::ID_CE_EXT_KEY_USAGE,
    oid::ID_CE_SUBJECT_KEY_IDENTIFIER,
    oid::ID_CE_AUTHORITY_KEY_IDENTIFIER,
    oid::ID_CE_SUBJECT_ALT_NAME,
    oid::ID_CE_ISSUER_ALT_NAME,
    oid::ID_CE_CERTIFICATE_POLICIES,
    oid::ID_CE_POLICY_MAPPINGS,
    oid::ID_CE_NAME_CONSTRAINTS,
    oid::ID_CE_POLICY_CONSTRAINTS,
    oid::ID_CE_INHIBIT_ANY_POLICY,
    oid::ID_CE_CRL_DISTRIBUTION_POINTS,
    oid::ID_CE_FRESHEST_CRL,
    oid::ID_PE_AUTHORITY_INFO_ACCESS,
    oid::ID_PE_QC_STATEMENTS,
    oid::ID_PKIX_OCSP_NOCHECK,
];

fn unknown_critical(c: &Cert, who: &str) -> Result<(), Refused> {
    let unknown: Vec<String> = c
        .cert
        .tbs_certificate()
        .extensions()
        .into_iter()
        .flatten()
        .filter(|e| e.critical && !KNOWN_EXTENSIONS.contains(&e.extn_id))
        .map(|e| e.extn_id.to_string())
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(refuse(
            "X509_UNKNOWN_CRITICAL_EXTENSION",
            format!(
                "the {who} {} has critical extensions that are not understood: {}",
                c.subject(),
                unknown.join(", ")
            ),
        ))
    }
}

fn time(t: UnixTime) -> String {
    let secs = t.secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX);
    let (y, m, d) = inkan_profiles::time::civil_from_days(days);
    let rem = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The validity period (RFC 5280 §4.1.2.5) of `c`, called `what` in the message, at `at`:
/// refused with `codes[0]` before notBefore and `codes[1]` after notAfter.
fn check_validity(
    c: &Cert,
    what: &str,
    at: UnixTime,
    codes: [&'static str; 2],
) -> Result<(), Refused> {
    if at < c.not_before {
        return Err(refuse(
            codes[0],
            format!(
                "the {what} {} is valid only from {}; it is now {}",
                c.subject(),
                time(c.not_before),
                time(at)
            ),
        ));
    }
    if at > c.not_after {
        return Err(refuse(
            codes[1],
            format!(
                "the {what} {} expired at {}; it is now {}",
                c.subject(),
                time(c.not_after),
                time(at)
            ),
        ));
    }
    Ok(())
}

/// The signing certificate's own rules (validity, key usage, extended key usage, critical
/// extensions).
pub fn check_signing_certificate(c: &Cert, at: UnixTime) -> Result<(), Refused> {
    check_validity(
        c,
        "signing certificate",
        at,
        ["X509_NOT_YET_VALID", "X509_EXPIRED"],
    )?;
    if !c.allows_sealing() {
        return Err(refuse(
            "X509_KEY_USAGE",
            format!(
                "the signing certificate {} allows neither digitalSignature nor nonRepudiation \
                 (keyUsage)",
                c.subject()
            ),
        ));
    }
    if let Some((_, purposes)) = c.eku()
        && !purposes.iter().any(|p| SEALING_PURPOSES.contains(p))
    {
        let names: Vec<String> = purposes.iter().map(purpose_name).collect();
        let what = if purposes.contains(&oid::ID_KP_TIME_STAMPING) {
            "a time-stamping certificate"
        } else {
            "a certificate for other purposes"
        };
        return Err(refuse(
            "INKAN-SEAL-EKU",
            format!(
                "{} is {what}, not an e-seal certificate: its extendedKeyUsage allows only {} \
                 (RFC 5280 §4.2.1.12; a seal needs no extendedKeyUsage, or one of \
                 anyExtendedKeyUsage, id-kp-documentSigning, id-kp-emailProtection)",
                c.subject(),
                names.join(", ")
            ),
        ));
    }
    unknown_critical(c, "signing certificate")
}

/// The rules of a CA certificate `ca` that issued the certificate at depth `depth - 1` of the
/// path (`depth` intermediate CAs below it, RFC 5280 §4.2.1.9).
fn check_ca(ca: &Cert, depth: usize, at: UnixTime) -> Result<(), Refused> {
    let tbs = ca.cert.tbs_certificate();
    let bc = tbs.get_extension::<BasicConstraints>().ok().flatten();
    let v3 = matches!(tbs.version(), x509_cert::certificate::Version::V3);
    if v3 && !bc.as_ref().is_some_and(|(_, b)| b.ca) {
        return Err(refuse(
            "X509_NOT_A_CA",
            format!(
                "{} issues certificates in the chain but is not a CA (basicConstraints)",
                ca.subject()
            ),
        ));
    }
    if let Some((_, b)) = &bc
        && let Some(limit) = b.path_len_constraint
        && depth.saturating_sub(1) > usize::from(limit)
    {
        return Err(refuse(
            "X509_PATH_LENGTH",
            format!(
                "{} allows {limit} CA certificate(s) below it (pathLenConstraint), the chain \
                 has {}",
                ca.subject(),
                depth - 1
            ),
        ));
    }
    if let Ok(Some((_, ku))) = tbs.get_extension::<KeyUsage>()
        && !ku.0.contains(KeyUsages::KeyCertSign)
    {
        return Err(refuse(
            "X509_NO_KEY_CERT_SIGN",
            format!("{} lacks keyCertSign (keyUsage)", ca.subject()),
        ));
    }
    check_validity(
        ca,
        "CA certificate",
        at,
        ["X509_CA_OUT_OF_BOUNDS", "X509_CA_EXPIRED"],
    )?;
    unknown_critical(ca, "CA certificate")
}

/// Whether `issuer` signed `c` with an algorithm the policy accepts at `at`, and correctly.
fn check_issued(c: &Cert, issuer: &Cert, policy: &Policy, at: UnixTime) -> Result<(), Refused> {
    let alg = SignatureAlgorithm::from_der(&c.sig_alg).map_err(|e| {
        refuse(
            "INKAN-ALG-UNKNOWN",
            format!(
                "the signature algorithm of {} is not one inkan knows: {e}",
                c.subject()
            ),
        )
    })?;
    let key = PublicKeyKind::from_spki_der(&issuer.spki).map_err(|e| {
        refuse(
            "INKAN-ALG-UNKNOWN",
            format!(
                "the key of {} is not one inkan knows: {e}",
                issuer.subject()
            ),
        )
    })?;
    policy
        .check_signature(&alg, &key, Use::Validate, at)
        .map_err(|r| {
            refuse(
                r.code(),
                format!(
                    "{} is signed with {alg} by {}: {}",
                    c.subject(),
                    issuer.subject(),
                    r.rule.text_en()
                ),
            )
        })?;
    inkan_profiles::verify::verify_signature(&issuer.spki, &alg, &c.tbs, &c.signature).map_err(
        |e| {
            refuse(
                "X509_SIGNATURE_INVALID",
                format!(
                    "the signature of {} does not verify with the key of {}: {e}",
                    c.subject(),
                    issuer.subject()
                ),
            )
        },
    )
}

/// Checks `leaf` (the certificate of the signing key) and the path `chain` gives for it at
/// `at`, for signatures of `level` (see the module docs). Returns the path, leaf first.
pub fn check(
    leaf: &Cert,
    chain: &[Cert],
    level: Level,
    policy: &Policy,
    at: UnixTime,
) -> Result<Vec<Cert>, Refused> {
    check_signing_certificate(leaf, at)?;
    let path: Vec<Cert> = certs::path(leaf, chain).into_iter().cloned().collect();
    for (i, pair) in path.windows(2).enumerate() {
        let (c, issuer) = (&pair[0], &pair[1]);
        let is_anchor = i + 2 == path.len() && issuer.self_issued();
        if !is_anchor {
            check_ca(issuer, i + 1, at)?;
        } else {
            // The anchor's own rules are not judged, but it must be able to be an issuer.
            check_anchor(issuer, i + 1)?;
        }
        check_issued(c, issuer, policy, at)?;
    }
    let last = path.last().unwrap_or(leaf);
    if level >= Level::BLT && !last.self_issued() {
        return Err(refuse(
            "INKAN-CHAIN-INCOMPLETE",
            format!(
                "the chain cannot be completed: the issuer of {} ({}) is not in --cert-chain, \
                 and {level} embeds the whole chain up to the root and its revocation data",
                last.subject(),
                last.issuer()
            ),
        ));
    }
    Ok(path)
}

/// The anchor's constraints on what it signs (RFC 5937 §2, as the verifier and OpenSSL apply
/// them): a basicConstraints that says it is not a CA, or a pathLenConstraint exceeded.
fn check_anchor(anchor: &Cert, depth: usize) -> Result<(), Refused> {
    let bc = anchor
        .cert
        .tbs_certificate()
        .get_extension::<BasicConstraints>()
        .ok()
        .flatten();
    match bc {
        Some((_, b)) if !b.ca => Err(refuse(
            "X509_NOT_A_CA",
            format!(
                "the root {} issues certificates in the chain but is not a CA \
                 (basicConstraints)",
                anchor.subject()
            ),
        )),
        Some((_, b))
            if b.path_len_constraint
                .is_some_and(|l| depth.saturating_sub(1) > usize::from(l)) =>
        {
            Err(refuse(
                "X509_PATH_LENGTH",
                format!(
                    "the root {} allows fewer CA certificates below it than the chain has \
                     (pathLenConstraint)",
                    anchor.subject()
                ),
            ))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use inkan_hsm::devpki::{self, CertProfile, DevPki, KeyAlg, Validity};
    use inkan_hsm::name::DistinguishedName;
    use inkan_profiles::clock::{Clock, SystemClock};

    fn pki() -> (DevPki, UnixTime) {
        let now = SystemClock.now().unwrap();
        (DevPki::generate(now, KeyAlg::P256).unwrap(), now)
    }

    fn chain_of(pki: &DevPki) -> Vec<Cert> {
        Cert::load_chain(pki.eseal_chain_pem().as_bytes()).unwrap()
    }

    #[test]
    fn the_development_chain_passes_at_every_level() {
        let (pki, now) = pki();
        let chain = chain_of(&pki);
        for level in [Level::BB, Level::BLTA] {
            let path = check(&chain[0], &chain, level, &Policy::cryptrec(), now).unwrap();
            assert!(path.last().unwrap().self_issued());
        }
    }

    #[test]
    fn a_time_stamping_certificate_is_not_an_e_seal_certificate() {
        let (pki, now) = pki();
        let (_, key) = devpki::generate_key(KeyAlg::P256).unwrap();
        let der = pki
            .issuer
            .issue(
                CertProfile::TimeStamping,
                &DistinguishedName::parse("/C=JP/O=inkan test/CN=a TSA").unwrap(),
                key.public_key_der(),
                Validity::around(now, 3600, 3600),
            )
            .unwrap();
        let c = Cert::from_der(&der).unwrap();
        let e = check_signing_certificate(&c, now).unwrap_err();
        assert_eq!(e.rule, "INKAN-SEAL-EKU", "{e}");
        assert!(e.to_string().contains("id-kp-timeStamping"), "{e}");
        assert!(e.to_string().contains("time-stamping certificate"), "{e}");
    }

    #[test]
    fn validity_and_incomplete_chains() {
        let (pki, now) = pki();
        let chain = chain_of(&pki);
        let leaf = &chain[0];
        let late = UnixTime::from_secs(leaf.not_after.secs() + 1);
        assert_eq!(
            check(leaf, &chain, Level::BB, &Policy::cryptrec(), late)
                .unwrap_err()
                .rule,
            "X509_EXPIRED"
        );
        let early = UnixTime::from_secs(leaf.not_before.secs() - 1);
        assert_eq!(
            check(leaf, &chain, Level::BB, &Policy::cryptrec(), early)
                .unwrap_err()
                .rule,
            "X509_NOT_YET_VALID"
        );
        // Without the root: fine for B-B, not for B-LT.
        let alone = vec![leaf.clone()];
        assert!(check(leaf, &alone, Level::BT, &Policy::cryptrec(), now).is_ok());
        let e = check(leaf, &alone, Level::BLT, &Policy::cryptrec(), now).unwrap_err();
        assert_eq!(e.rule, "INKAN-CHAIN-INCOMPLETE", "{e}");
    }

    #[test]
    fn a_broken_certificate_signature_is_refused() {
        let (pki, now) = pki();
        let mut chain = chain_of(&pki);
        let last = chain[0].signature.len() - 1;
        chain[0].signature[last] ^= 1;
        let leaf = chain[0].clone();
        let e = check(&leaf, &chain, Level::BB, &Policy::cryptrec(), now).unwrap_err();
        assert_eq!(e.rule, "X509_SIGNATURE_INVALID", "{e}");
    }
}
