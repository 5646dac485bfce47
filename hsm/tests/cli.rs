use std::process::Command;

use crate::util::{openssl_key, run};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_inkan-hsm"))
}

#[test]
fn help_version_and_usage_errors() {
    let out = String::from_utf8(run(bin().arg("--help"))).unwrap();
    assert!(out.contains("keygen") && out.contains("csr") && out.contains("list"));
    let out = String::from_utf8(run(bin().arg("--version"))).unwrap();
    assert!(out.starts_with("inkan-hsm "));
    let st = bin().args(["frobnicate"]).output().unwrap();
    assert_eq!(st.status.code(), Some(64));
    let err = String::from_utf8_lossy(&st.stderr);
    assert!(
        err.contains("'frobnicate'") && err.lines().count() == 1,
        "{err}"
    );
    let st = bin().args(["csr", "--subject", "CN=x"]).output().unwrap();
    assert_eq!(st.status.code(), Some(64));
    let err = String::from_utf8_lossy(&st.stderr);
    assert!(
        err.contains("--key") && err.contains("see inkan-hsm csr --help"),
        "{err}"
    );
    // Each command has its own help, generated from the same definition.
    let out = String::from_utf8(run(bin().args(["keygen", "--help"]))).unwrap();
    assert!(
        out.contains("--algorithm") && out.contains("rsa-3072-pss"),
        "{out}"
    );
}

#[test]
fn csr_from_a_file_key_passes_openssl_req_verify() {
    let dir = tempfile::tempdir().unwrap();
    for kind in ["p256", "rsa2048", "ed25519", "rsapss2048", "rsapss2048r"] {
        let key = openssl_key(dir.path(), kind, kind);
        let out = dir.path().join(format!("{kind}.csr"));
        run(bin()
            .args(["csr", "--key"])
            .arg(&key)
            .args([
                "--subject",
                "/C=JP/O=株式会社テスト/CN=TSA 1",
                "--eku",
                "time-stamping",
                "--out",
            ])
            .arg(&out));
        let text = run(Command::new("openssl")
            .args(["req", "-verify", "-noout", "-text", "-in"])
            .arg(&out));
        let text = String::from_utf8_lossy(&text);
        assert!(text.contains("Time Stamping"), "{text}");
        if kind.starts_with("rsapss") {
            // The request carries the PSS SPKI and is signed with PSS.
            assert!(text.contains("Public Key Algorithm: rsassaPss"), "{text}");
            assert!(text.contains("Signature Algorithm: rsassaPss"), "{text}");
        }
    }
}

#[test]
fn keygen_csr_and_list_on_softhsm() {
    let Some(hsm) = inkan_test_support::softhsm::isolate() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for alg in ["p256", "p384", "rsa-3072"] {
        let uri = hsm.uri(&format!("k-{alg}"));
        let out = String::from_utf8(run(bin().args([
            "keygen",
            "--key",
            &uri,
            "--algorithm",
            alg,
        ])))
        .unwrap();
        assert!(out.contains("generated"), "{out}");
        assert!(!out.contains(inkan_test_support::softhsm::USER_PIN));
        let csr = dir.path().join(format!("{alg}.csr"));
        run(bin()
            .args([
                "csr",
                "--key",
                &uri,
                "--subject",
                "CN=token key,O=inkan,C=JP",
                "--out",
            ])
            .arg(&csr));
        run(Command::new("openssl")
            .args(["req", "-verify", "-noout", "-in"])
            .arg(&csr));
    }
    // The same label twice is refused, saying so (73, EX_CANTCREAT), and nothing is made.
    let st = bin()
        .args(["keygen", "--key", &hsm.uri("k-p256"), "--algorithm", "p256"])
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(73));
    let err = String::from_utf8_lossy(&st.stderr);
    assert!(
        err.contains("\"k-p256\" already exists") && !err.contains("more than one"),
        "{err}"
    );
    // Without a PIN: public objects only, and a hint.
    let out = String::from_utf8(run(bin().arg("list").arg("--module").arg(hsm.module()))).unwrap();
    assert!(out.contains("label=inkan-test"), "{out}");
    assert!(out.contains("label=k-p384"), "{out}");
    assert!(!out.contains("PRIVATE_KEY"), "{out}");
    assert!(out.contains("--pin-source"), "{out}");
    // With the PIN: the private keys too (one per generated key; the same label once only).
    let out = String::from_utf8(run(bin()
        .arg("list")
        .arg("--module")
        .arg(hsm.module())
        .args([
            "--pin-source",
            &format!("env:{}", inkan_test_support::softhsm::PIN_ENV),
        ])))
    .unwrap();
    let private: Vec<&str> = out.lines().filter(|l| l.contains("PRIVATE_KEY")).collect();
    assert_eq!(private.len(), 3, "{out}");
    assert!(private.iter().any(|l| l.contains("label=k-p256")), "{out}");
    assert!(
        !out.contains(inkan_test_support::softhsm::USER_PIN),
        "{out}"
    );
    // A PIN problem is 77 in every binary: unset variable, wrong PIN.
    let st = bin()
        .arg("list")
        .arg("--module")
        .arg(hsm.module())
        .args(["--pin-source", "env:INKAN_NO_SUCH_PIN_VARIABLE"])
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(77), "{st:?}");
    let wrong = dir.path().join("wrong-pin");
    std::fs::write(&wrong, "999999\n").unwrap();
    let st = bin()
        .arg("list")
        .arg("--module")
        .arg(hsm.module())
        .arg("--pin-source")
        .arg(&wrong)
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(77), "{st:?}");
    let no_pin = hsm.uri("k-p256");
    let no_pin = no_pin.split("&pin-source").next().unwrap().to_owned();
    let st = bin()
        .args(["csr", "--key", &no_pin, "--subject", "CN=x"])
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(77), "{st:?}");
}

/// `keygen --algorithm rsa-3072-pss|rsa-4096-pss`: a token key restricted to RSA-PSS through
/// CKA_ALLOWED_MECHANISMS, loaded as PSS-only, signing PSS that OpenSSL verifies, never PKCS#1
/// v1.5, with a PSS CSR that `openssl req -verify` accepts and `list` showing the restriction.
#[test]
fn keygen_pss_only_on_softhsm() {
    use cryptoki::mechanism::{Mechanism, MechanismType};
    use cryptoki::object::{Attribute, AttributeType, ObjectClass};
    use cryptoki::session::UserType;
    use cryptoki::types::AuthPin;
    use inkan_hsm::{KeyRef, Policy};
    use inkan_profiles::alg::{DigestAlgorithm as D, PssParams, PublicKeyKind, SignatureAlgorithm};

    use crate::util::AT;

    let Some(hsm) = inkan_test_support::softhsm::isolate() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let pss = |d| SignatureAlgorithm::RsaPss(PssParams::for_hash(d));
    for (alg, bits) in [("rsa-3072-pss", 3072u32), ("rsa-4096-pss", 4096)] {
        let label = format!("k-{alg}");
        let uri = hsm.uri(&label);
        let out = String::from_utf8(run(bin().args([
            "keygen",
            "--key",
            &uri,
            "--algorithm",
            alg,
        ])))
        .unwrap();
        assert!(
            out.contains("generated") && out.contains("CKM_RSA_PKCS_PSS"),
            "{out}"
        );
        assert!(!out.contains(inkan_test_support::softhsm::USER_PIN));

        // The token holds CKA_ALLOWED_MECHANISMS on the private key and refuses PKCS#1 itself.
        let module = inkan_hsm::pkcs11::Module::open(hsm.module()).unwrap();
        let keyref = KeyRef::parse(&uri).unwrap();
        let KeyRef::Pkcs11(parsed) = &keyref else {
            panic!("{uri}")
        };
        let slot = module.find_slot(parsed).unwrap();
        let session = module.context().open_ro_session(slot).unwrap();
        session
            .login(
                UserType::User,
                Some(&AuthPin::from(inkan_test_support::softhsm::USER_PIN)),
            )
            .unwrap();
        let found = session
            .find_objects(&[
                Attribute::Class(ObjectClass::PRIVATE_KEY),
                Attribute::Label(label.as_bytes().to_vec()),
            ])
            .unwrap();
        assert_eq!(found.len(), 1);
        let attrs = session
            .get_attributes(
                found[0],
                &[
                    AttributeType::AllowedMechanisms,
                    AttributeType::Sensitive,
                    AttributeType::Extractable,
                ],
            )
            .unwrap();
        let mut seen = 0;
        for a in attrs {
            match a {
                Attribute::AllowedMechanisms(list) => {
                    assert_eq!(list, inkan_hsm::cli::PSS_ONLY_MECHANISMS.to_vec());
                    assert!(list.contains(&MechanismType::RSA_PKCS_PSS));
                    seen += 1;
                }
                Attribute::Sensitive(b) => {
                    assert!(b);
                    seen += 1;
                }
                Attribute::Extractable(b) => {
                    assert!(!b);
                    seen += 1;
                }
                _ => {}
            }
        }
        assert_eq!(
            seen, 3,
            "CKA_ALLOWED_MECHANISMS/SENSITIVE/EXTRACTABLE read back"
        );
        assert!(
            session
                .sign(&Mechanism::Sha256RsaPkcs, found[0], b"pkcs1")
                .is_err(),
            "the token itself refuses CKM_SHA256_RSA_PKCS for {alg}"
        );
        drop(session);
        drop(module);
        // OpenSC's view of the same key.
        let objs = String::from_utf8(run(Command::new("pkcs11-tool")
            .arg("--module")
            .arg(hsm.module())
            .args(["--login", "--pin", inkan_test_support::softhsm::USER_PIN])
            .args(["--list-objects", "--type", "privkey", "--label", &label])))
        .unwrap();
        assert!(
            objs.contains(
                "Allowed mechanisms: RSA-PKCS-PSS,SHA256-RSA-PKCS-PSS,SHA384-RSA-PKCS-PSS,SHA512-RSA-PKCS-PSS"
            ) && objs.contains("never extractable"),
            "{objs}"
        );

        // The backend loads it as a PSS-only key with an id-RSASSA-PSS SPKI.
        let key = inkan_hsm::load(&keyref, &Policy::cryptrec(), AT).unwrap();
        assert_eq!(
            key.kind(),
            PublicKeyKind::RsaPss {
                modulus_bits: bits,
                params: None
            }
        );
        assert_eq!(
            PublicKeyKind::from_spki_der(key.public_key_der()).unwrap(),
            key.kind()
        );
        // PSS with every hash (CKM_RSA_PKCS_PSS is allowed), verified by OpenSSL.
        for d in [D::Sha256, D::Sha384, D::Sha512] {
            let signer = key.choose(&[pss(d)]).unwrap();
            let msg = format!("{alg} {d:?}").into_bytes();
            let sig = signer.sign(&msg).unwrap();
            crate::backend::openssl_verify(dir.path(), key.public_key_der(), &pss(d), &msg, &sig);
        }
        // PKCS#1 v1.5 is refused before any C_Sign: no signer is offered.
        for d in [D::Sha256, D::Sha384, D::Sha512] {
            assert!(key.choose(&[SignatureAlgorithm::RsaPkcs1(d)]).is_none());
        }
        let prefs = inkan_hsm::default_algorithms(&key.kind());
        assert!(
            key.choose(&prefs)
                .is_some_and(|s| matches!(s.algorithm(), SignatureAlgorithm::RsaPss(_)))
        );
        drop(key);

        // The CSR carries the PSS key and a PSS signature; OpenSSL verifies it.
        let csr = dir.path().join(format!("{alg}.csr"));
        run(bin()
            .args([
                "csr",
                "--key",
                &uri,
                "--subject",
                "CN=PSS token key,O=inkan,C=JP",
                "--eku",
                "time-stamping",
                "--out",
            ])
            .arg(&csr));
        let text = run(Command::new("openssl")
            .args(["req", "-verify", "-noout", "-text", "-in"])
            .arg(&csr));
        let text = String::from_utf8_lossy(&text);
        assert!(text.contains("Public Key Algorithm: rsassaPss"), "{text}");
        assert!(text.contains("Signature Algorithm: rsassaPss"), "{text}");
        assert!(text.contains(&format!("({bits} bit)")), "{text}");
    }
    // `list` (no login: public objects) shows the restriction on the public keys.
    let out = String::from_utf8(run(bin().arg("list").arg("--module").arg(hsm.module()))).unwrap();
    let line = out
        .lines()
        .find(|l| l.contains("label=k-rsa-3072-pss"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        line.contains("allowed-mechanisms=CKM_RSA_PKCS_PSS,CKM_SHA256_RSA_PKCS_PSS")
            && line.contains("(RSA-PSS only)"),
        "{out}"
    );
    // The same label twice is refused.
    let st = bin()
        .args([
            "keygen",
            "--key",
            &hsm.uri("k-rsa-3072-pss"),
            "--algorithm",
            "rsa-3072-pss",
        ])
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(73));
}

#[test]
fn keygen_refuses_a_file_target_and_unknown_algorithms() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("new.key");
    let st = bin()
        .args(["keygen", "--key"])
        .arg(&file)
        .args(["--algorithm", "rsa-3072-pss"])
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(64));
    let err = String::from_utf8_lossy(&st.stderr);
    assert!(
        err.contains("PKCS#11 tokens only") && err.contains("openssl genpkey -algorithm RSA-PSS"),
        "{err}"
    );
    assert!(!file.exists());
    let st = bin()
        .args([
            "keygen",
            "--key",
            "pkcs11:token=t;object=k?module-path=/nonexistent.so",
            "--algorithm",
            "rsa3072-pss",
        ])
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(64));
    let err = String::from_utf8_lossy(&st.stderr);
    assert!(err.contains("rsa-3072-pss"), "{err}");
}
