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
    let st = bin().args(["csr", "--subject", "CN=x"]).output().unwrap();
    assert_eq!(st.status.code(), Some(64));
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
    let Some(hsm) = inkan_hsm::softhsm::isolate() else {
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
        assert!(!out.contains(inkan_hsm::softhsm::USER_PIN));
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
    // The same label twice is refused.
    let st = bin()
        .args(["keygen", "--key", &hsm.uri("k-p256"), "--algorithm", "p256"])
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(70));
    let out = String::from_utf8(run(bin().arg("list").arg("--module").arg(hsm.module()))).unwrap();
    assert!(out.contains("label=inkan-test"), "{out}");
    assert!(out.contains("label=k-p384"), "{out}");
}
