//! `inkan-verify` on signatures the other tools do not make in one step: several SignerInfos
//! (`openssl cms -sign` with two signers; the result is the worst signer's, EN 319 102-1), and
//! content-time-stamps (signed attributes built here with `inkan_hsm::cms::SignRequest`; a
//! content-time-stamp after the signature time-stamp is INDETERMINATE /
//! TIMESTAMP_ORDER_FAILURE, EN 319 102-1 §5.5.4 time-stamp coherence).

use std::path::Path;
use std::process::Command;

use inkan_hsm::KeyRef;
use inkan_hsm::cms::{self, CmsSignerTemplate, Content, SignRequest};
use inkan_hsm::devpki::{self, DevPki, DevPkiOptions, KeyAlg};
use inkan_profiles::alg::DigestAlgorithm;
use inkan_profiles::clock::{Clock, SystemClock};
use inkan_profiles::oid;
use inkan_profiles::policy::Policy;
use inkan_profiles::time::UnixTime;
use inkan_tests::{run, verify_json};

fn result(j: &serde_json::Value) -> (&str, &str) {
    (
        j["indication"].as_str().unwrap_or("?"),
        j["sub_indication"].as_str().unwrap_or("-"),
    )
}

/// Whether the report `j` has a finding with `code`.
fn has_finding(j: &serde_json::Value, code: &str) -> bool {
    j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["code"] == code)
}

fn signer_results(j: &serde_json::Value) -> Vec<(String, String)> {
    j["signers"]
        .as_array()
        .expect("signers array")
        .iter()
        .map(|s| {
            let (i, sub) = result(s);
            (i.to_owned(), sub.to_owned())
        })
        .collect()
}

fn write(dir: &Path, name: &str, data: &[u8]) {
    std::fs::write(dir.join(name), data).unwrap();
}

fn now() -> UnixTime {
    SystemClock.now().expect("clock")
}

/// Two development PKIs (P-256) made now, each writing `<p>-root.pem`, `<p>-eseal.pem`,
/// `<p>-revoked.pem` (revoked now by `<p>-crl.pem`), `<p>-eseal.key`.
fn two_pkis(dir: &Path) {
    for p in ["a", "b"] {
        let pki = DevPki::generate_with(&DevPkiOptions::new(now(), KeyAlg::P256)).expect("PKI");
        write(dir, &format!("{p}-root.pem"), pki.root_pem().as_bytes());
        write(
            dir,
            &format!("{p}-eseal.pem"),
            devpki::cert_pem(&pki.eseal_cert_der).as_bytes(),
        );
        write(
            dir,
            &format!("{p}-revoked.pem"),
            devpki::cert_pem(&pki.revoked_eseal_cert_der).as_bytes(),
        );
        write(dir, &format!("{p}-eseal.key"), pki.eseal_key_pem.as_bytes());
        write(
            dir,
            &format!("{p}-crl.pem"),
            devpki::crl_pem(&pki.crl_der).as_bytes(),
        );
    }
    write(
        dir,
        "doc.txt",
        "二人の押印: a document sealed twice\n".as_bytes(),
    );
}

/// `openssl cms -sign` with two signer certificate/key pairs, encapsulated, DER.
fn openssl_two_signers(dir: &Path, first: &str, second: &str, out: &str) {
    let o = Command::new("openssl")
        .args([
            "cms",
            "-sign",
            "-binary",
            "-nodetach",
            "-in",
            "doc.txt",
            "-signer",
            first,
            "-inkey",
            "a-eseal.key",
            "-signer",
            second,
            "-inkey",
            "b-eseal.key",
            "-outform",
            "DER",
            "-out",
            out,
        ])
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

const TRUST_BOTH: [&str; 8] = [
    "--trust",
    "a-root.pem",
    "--trust",
    "b-root.pem",
    "--crl",
    "a-crl.pem",
    "--crl",
    "b-crl.pem",
];

#[test]
fn every_signer_is_validated_and_the_worst_decides() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    two_pkis(dir);

    // Both good.
    openssl_two_signers(dir, "a-eseal.pem", "b-eseal.pem", "good.p7s");
    let mut args = vec!["good.p7s"];
    args.extend(TRUST_BOTH);
    let (code, j) = verify_json(dir, &args);
    assert_eq!(result(&j), ("TOTAL-PASSED", "-"), "{j:#}");
    assert_eq!(code, 0);
    let s = signer_results(&j);
    assert_eq!(s.len(), 2, "{j:#}");
    assert!(s.iter().all(|(i, _)| i == "TOTAL-PASSED"), "{s:?}");

    // The second signer's certificate was revoked (now, with no proof of existence before).
    openssl_two_signers(dir, "a-eseal.pem", "b-revoked.pem", "revoked.p7s");
    let mut args = vec!["revoked.p7s"];
    args.extend(TRUST_BOTH);
    let (code, j) = verify_json(dir, &args);
    assert_eq!(result(&j), ("INDETERMINATE", "REVOKED_NO_POE"), "{j:#}");
    assert_eq!(code, 2);
    let mut s = signer_results(&j);
    s.sort();
    assert_eq!(
        s,
        [
            ("INDETERMINATE".to_owned(), "REVOKED_NO_POE".to_owned()),
            ("TOTAL-PASSED".to_owned(), "-".to_owned()),
        ],
        "{j:#}"
    );
    // The signer named at the top is the revoked one.
    assert_eq!(
        j["signer"]["serial"],
        j["signers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["indication"] == "INDETERMINATE")
            .unwrap()["signer"]["serial"]
    );

    // The text report lists each signer's result.
    let mut args = vec!["revoked.p7s"];
    args.extend(TRUST_BOTH);
    args.extend(["--lang", "en"]);
    let out = run("inkan-verify", &args, dir);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Signers:"), "{text}");
    assert!(text.contains("  #1 ") && text.contains("  #2 "), "{text}");
    assert!(text.contains("INDETERMINATE / REVOKED_NO_POE"), "{text}");

    // One signature value broken: TOTAL-FAILED beats INDETERMINATE and TOTAL-PASSED. The
    // signerInfos SET is the last field and neither SignerInfo has unsigned attributes, so
    // the last byte of the file is the last byte of one ECDSA signature value.
    let mut bad = std::fs::read(dir.join("revoked.p7s")).unwrap();
    let n = bad.len();
    bad[n - 1] ^= 0x01;
    write(dir, "broken.p7s", &bad);
    let mut args = vec!["broken.p7s"];
    args.extend(TRUST_BOTH);
    let (code, j) = verify_json(dir, &args);
    assert_eq!(result(&j), ("TOTAL-FAILED", "SIG_CRYPTO_FAILURE"), "{j:#}");
    assert_eq!(code, 1);
    let s = signer_results(&j);
    assert_eq!(s.len(), 2);
    assert_eq!(
        s.iter().filter(|(i, _)| i == "TOTAL-FAILED").count(),
        1,
        "{s:?}"
    );
}

use inkan_test_support::der_tlv as tlv;

/// GeneralizedTime `YYYYMMDDHHMMSSZ`.
fn gen_time(t: UnixTime) -> Vec<u8> {
    const DAY: u64 = 86_400;
    let secs = t.secs();
    let days = (secs / DAY) as i64;
    let rem = secs % DAY;
    let (y, m, d) = inkan_profiles::time::civil_from_days(days);
    let s = format!(
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    tlv(0x18, s.as_bytes())
}

/// A template over the PEM key `key_pem` (written to `dir/name`) and its certificate.
fn template(dir: &Path, name: &str, key_pem: &str, cert: &[u8]) -> CmsSignerTemplate {
    write(dir, name, key_pem.as_bytes());
    let key = inkan_hsm::load(&KeyRef::File(dir.join(name)), &Policy::cryptrec(), now())
        .expect("load key");
    let alg = inkan_hsm::default_algorithms(&key.kind())[0];
    let signer = key.choose(&[alg]).expect("signer");
    CmsSignerTemplate::new(signer, cert.to_vec(), vec![]).expect("template")
}

/// An RFC 3161 token from `tsa` over `imprinted` (SHA-256) with genTime `at`.
fn token(tsa: &CmsSignerTemplate, imprinted: &[u8], at: UnixTime, serial: u8) -> Vec<u8> {
    let sha256 = tlv(0x30, &tlv(0x06, oid::SHA256.as_bytes()));
    let imprint = tlv(
        0x30,
        &[
            sha256,
            tlv(0x04, &DigestAlgorithm::Sha256.digest(imprinted)),
        ]
        .concat(),
    );
    let tst_info = tlv(
        0x30,
        &[
            tlv(0x02, &[1]),
            tlv(0x06, &[0x2a, 0x03, 0x04, 0x05]),
            imprint,
            tlv(0x02, &[serial]),
            gen_time(at),
        ]
        .concat(),
    );
    tsa.sign(&SignRequest::new(
        cms::ID_CT_TST_INFO,
        Content::Attached(&tst_info),
    ))
    .expect("token")
}

/// The signature value of the one SignerInfo of `sig`.
fn signature_value(sig: &[u8]) -> Vec<u8> {
    let sd = inkan_verifier::cms::SignedData::parse_content_info(sig).expect("SignedData");
    sd.signers[0].signature.clone()
}

/// A signature over `data` with a content-time-stamp of `content_at` (signed attribute) and
/// a signature time-stamp of `signature_at` (unsigned). Ed25519 signatures are
/// deterministic, so the signature is made twice: once to learn the value the signature
/// time-stamp covers, once with that time-stamp added.
fn stamped_signature(
    dir: &Path,
    pki: &DevPki,
    data: &[u8],
    content_at: UnixTime,
    signature_at: UnixTime,
    detached: bool,
) -> Vec<u8> {
    let eseal = template(dir, "eseal.key", &pki.eseal_key_pem, &pki.eseal_cert_der);
    let tsa = template(dir, "tsa.key", &pki.tsa_key_pem, &pki.tsa_cert_der);
    let content_token = token(&tsa, data, content_at, 1);
    let ct = cms::attribute(&oid::ID_AA_ETS_CONTENT_TIMESTAMP, &[&content_token]);
    let st = cms::signing_time_attribute(content_at);
    let signed: [&[u8]; 2] = [&st, &ct];
    let content = if detached {
        Content::Detached(data)
    } else {
        Content::Attached(data)
    };
    let mut req = SignRequest::new(cms::ID_DATA, content);
    req.signed_attrs = &signed;
    let first = eseal.sign(&req).expect("sign");
    let value = signature_value(&first);
    let sig_token = token(&tsa, &value, signature_at, 2);
    let ts = cms::attribute(&oid::ID_AA_SIGNATURE_TIME_STAMP_TOKEN, &[&sig_token]);
    let unsigned: [&[u8]; 1] = [&ts];
    req.unsigned_attrs = &unsigned;
    let second = eseal.sign(&req).expect("sign again");
    assert_eq!(signature_value(&second), value, "Ed25519 is deterministic");
    second
}

#[test]
fn content_time_stamp_must_precede_the_signature_time_stamp() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let t0 = now();
    let pki = DevPki::generate_with(&DevPkiOptions::new(t0, KeyAlg::Ed25519)).expect("PKI");
    write(dir, "root.pem", pki.root_pem().as_bytes());
    write(dir, "crl.pem", devpki::crl_pem(&pki.crl_der).as_bytes());
    let data = "内容タイムスタンプ: content time-stamped before sealing\n".as_bytes();
    let at = |back: u64| UnixTime::from_secs(t0.secs() - back);
    let args = ["sig.p7s", "--trust", "root.pem", "--crl", "crl.pem"];

    // In order: content time-stamp 10 minutes ago, signature time-stamp 5 minutes ago.
    write(
        dir,
        "sig.p7s",
        &stamped_signature(dir, &pki, data, at(600), at(300), false),
    );
    let (code, j) = verify_json(dir, &args);
    assert_eq!(result(&j), ("TOTAL-PASSED", "-"), "{j:#}");
    assert_eq!(code, 0);
    let kinds: Vec<&str> = j["time_stamps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["signature", "content"], "{j:#}");
    assert!(
        j["time_stamps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["indication"] == "TOTAL-PASSED"),
        "{j:#}"
    );

    // Out of order: the content time-stamp (1 minute ago) is after the signature
    // time-stamp (5 minutes ago).
    write(
        dir,
        "sig.p7s",
        &stamped_signature(dir, &pki, data, at(60), at(300), false),
    );
    let (code, j) = verify_json(dir, &args);
    assert_eq!(
        result(&j),
        ("INDETERMINATE", "TIMESTAMP_ORDER_FAILURE"),
        "{j:#}"
    );
    assert_eq!(code, 2);
    assert!(has_finding(&j, "TIMESTAMP_ORDER_FAILURE"), "{j:#}");

    // The same, detached: the content time-stamp's imprint is checked against --data.
    write(
        dir,
        "sig.p7s",
        &stamped_signature(dir, &pki, data, at(60), at(300), true),
    );
    write(dir, "doc.txt", data);
    let mut detached = args.to_vec();
    detached.extend(["--data", "doc.txt"]);
    let (code, j) = verify_json(dir, &detached);
    assert_eq!(
        result(&j),
        ("INDETERMINATE", "TIMESTAMP_ORDER_FAILURE"),
        "{j:#}"
    );
    assert_eq!(code, 2);
    write(
        dir,
        "sig.p7s",
        &stamped_signature(dir, &pki, data, at(600), at(300), true),
    );
    let (code, j) = verify_json(dir, &detached);
    assert_eq!(result(&j), ("TOTAL-PASSED", "-"), "{j:#}");
    assert_eq!(code, 0);

    // A content time-stamp over other data is discarded, not used for ordering.
    let other = b"other data";
    let eseal = template(dir, "eseal.key", &pki.eseal_key_pem, &pki.eseal_cert_der);
    let tsa = template(dir, "tsa.key", &pki.tsa_key_pem, &pki.tsa_cert_der);
    let wrong = token(&tsa, other, at(60), 3);
    let ct = cms::attribute(&oid::ID_AA_ETS_CONTENT_TIMESTAMP, &[&wrong]);
    let signed: [&[u8]; 1] = [&ct];
    let mut req = SignRequest::new(cms::ID_DATA, Content::Attached(data));
    req.signed_attrs = &signed;
    write(dir, "sig.p7s", &eseal.sign(&req).unwrap());
    let (code, j) = verify_json(dir, &args);
    assert_eq!(result(&j), ("TOTAL-PASSED", "-"), "{j:#}");
    assert_eq!(code, 0);
    assert!(has_finding(&j, "CONTENT_TST_DISCARDED"), "{j:#}");
}

/// A P-256 development PKI in `dir` (`root.pem`, `crl.pem`), `data` as `doc.txt`, and its
/// e-seal key as a signing template.
fn p256_eseal(dir: &Path, data: &[u8]) -> CmsSignerTemplate {
    let pki = DevPki::generate_with(&DevPkiOptions::new(now(), KeyAlg::P256)).expect("PKI");
    write(dir, "root.pem", pki.root_pem().as_bytes());
    write(dir, "crl.pem", devpki::crl_pem(&pki.crl_der).as_bytes());
    write(dir, "doc.txt", data);
    template(dir, "eseal.key", &pki.eseal_key_pem, &pki.eseal_cert_der)
}

/// RFC 6211: a signed cms-algorithm-protection attribute that names the SignerInfo's own
/// algorithms passes (inkan-verify and `openssl cms -verify`); one that names another digest
/// or signature algorithm is TOTAL-FAILED / SIG_CRYPTO_FAILURE, though the signature value
/// itself verifies. OpenSSL's verdict on the mismatch is printed, not asserted: OpenSSL 3.0.22
/// accepts both mismatches (it does not compare the attribute), and a later OpenSSL may not.
#[test]
fn cms_algorithm_protection_must_name_the_signer_info_algorithms() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let data = "アルゴリズム保護: algorithm protection\n".as_bytes();
    let eseal = p256_eseal(dir, data);

    // The SignerInfo's own algorithm identifiers, as this signer writes them.
    let plain = eseal
        .sign(&SignRequest::new(cms::ID_DATA, Content::Detached(data)))
        .expect("sign");
    let sd = inkan_verifier::cms::SignedData::parse_content_info(&plain).expect("SignedData");
    let (digest_alg, sig_alg) = (
        sd.signers[0].digest_alg.0.clone(),
        sd.signers[0].sig_alg.0.clone(),
    );
    // CMSAlgorithmProtection ::= SEQUENCE { digestAlgorithm, signatureAlgorithm [1] IMPLICIT }
    let protection = |digest: &[u8], sig: &[u8]| {
        let sig_content = inkan_profiles::asn1::tlv::parse_exact(sig).unwrap().value;
        cms::attribute(
            &oid::ID_AA_CMS_ALGORITHM_PROTECTION,
            &[&tlv(0x30, &[digest, &tlv(0xa1, sig_content)].concat())],
        )
    };
    let sha384 = tlv(0x30, &tlv(0x06, oid::SHA384.as_bytes()));
    let ecdsa_sha384 = tlv(
        0x30,
        &tlv(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03]),
    );
    let args = [
        "sig.p7s", "--data", "doc.txt", "--trust", "root.pem", "--crl", "crl.pem",
    ];

    for (label, attr, expect) in [
        (
            "matching",
            protection(&digest_alg, &sig_alg),
            ("TOTAL-PASSED", "-"),
        ),
        (
            "other digest",
            protection(&sha384, &sig_alg),
            ("TOTAL-FAILED", "SIG_CRYPTO_FAILURE"),
        ),
        (
            "other signature algorithm",
            protection(&digest_alg, &ecdsa_sha384),
            ("TOTAL-FAILED", "SIG_CRYPTO_FAILURE"),
        ),
    ] {
        let signed: [&[u8]; 1] = [&attr];
        let mut req = SignRequest::new(cms::ID_DATA, Content::Detached(data));
        req.signed_attrs = &signed;
        write(dir, "sig.p7s", &eseal.sign(&req).expect("sign"));
        let (_, j) = verify_json(dir, &args);
        assert_eq!(result(&j), expect, "{label}: {j:#}");
        let openssl = inkan_tests::openssl_cms_accepts(dir, "sig.p7s", "doc.txt", "root.pem");
        if expect.0 == "TOTAL-PASSED" {
            assert!(openssl, "{label}: openssl cms -verify must accept it");
        } else {
            assert!(
                has_finding(&j, "ALGORITHM_PROTECTION_MISMATCH"),
                "{label}: {j:#}"
            );
            eprintln!("{label}: openssl cms -verify accepts: {openssl}");
        }
    }
}

/// A signature that names a signature policy (EN 319 122-1 §5.2.9) and a commitment type
/// (§5.2.3): both are reported, the policy as named (its document is not processed).
#[test]
fn signature_policy_and_commitment_type_are_reported() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let data = "方針: signed under a policy\n".as_bytes();
    let eseal = p256_eseal(dir, data);
    // SignaturePolicyId ::= SEQUENCE { sigPolicyId 1.2.392.1.2.3, sigPolicyHash
    // OtherHashAlgAndValue { sha256, 32 octets } }
    let policy_hash = tlv(
        0x30,
        &[
            tlv(0x30, &tlv(0x06, oid::SHA256.as_bytes())),
            tlv(0x04, &[0x5a; 32]),
        ]
        .concat(),
    );
    // 1.2.392.1.2.3
    let policy_oid = [0x2a, 0x83, 0x08, 0x01, 0x02, 0x03];
    let policy = cms::attribute(
        &oid::ID_AA_ETS_SIG_POLICY_ID,
        &[&tlv(0x30, &[tlv(0x06, &policy_oid), policy_hash].concat())],
    );
    let commitment = cms::attribute(
        &oid::ID_AA_ETS_COMMITMENT_TYPE,
        &[&tlv(
            0x30,
            &tlv(0x06, oid::ID_CTI_ETS_PROOF_OF_ORIGIN.as_bytes()),
        )],
    );
    let signed: [&[u8]; 2] = [&policy, &commitment];
    let mut req = SignRequest::new(cms::ID_DATA, Content::Detached(data));
    req.signed_attrs = &signed;
    write(dir, "sig.p7s", &eseal.sign(&req).expect("sign"));
    let (code, j) = verify_json(
        dir,
        &[
            "sig.p7s", "--data", "doc.txt", "--trust", "root.pem", "--crl", "crl.pem",
        ],
    );
    assert_eq!(result(&j), ("TOTAL-PASSED", "-"), "{j:#}");
    assert_eq!(code, 0);
    assert_eq!(j["signature_policy"], "1.2.392.1.2.3", "{j:#}");
    assert_eq!(
        j["commitment_types"],
        serde_json::json!(["proof-of-origin"]),
        "{j:#}"
    );
    let out = run(
        "inkan-verify",
        &[
            "sig.p7s", "--data", "doc.txt", "--trust", "root.pem", "--lang", "ja",
        ],
        dir,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("コミットメント種別: 発信元の証明"), "{text}");
    assert!(text.contains("署名ポリシー: 1.2.392.1.2.3"), "{text}");
}
