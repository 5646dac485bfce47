use std::process::Command;

use inkan_hsm::devpki::{DevPki, DevPkiOptions, KeyAlg, cert_pem, crl_pem};
use inkan_hsm::{KeyRef, Policy};

use crate::util::{AT, run};

fn check(pki: &DevPki, dir: &std::path::Path) {
    let root = dir.join("root.pem");
    std::fs::write(&root, pki.root_pem()).unwrap();
    let mut untrusted = String::new();
    if let Some(i) = &pki.intermediate_cert_der {
        untrusted.push_str(&cert_pem(i));
    }
    let inter = dir.join("inter.pem");
    std::fs::write(&inter, &untrusted).unwrap();
    let crl = dir.join("crl.pem");
    std::fs::write(&crl, crl_pem(&pki.crl_der)).unwrap();
    // `-attime` pins the verification instant: AT plus one day.
    let at = (AT.secs() + 86_400).to_string();
    for (name, der, purpose) in [
        ("tsa", &pki.tsa_cert_der, "timestampsign"),
        ("eseal", &pki.eseal_cert_der, "any"),
    ] {
        let p = dir.join(format!("{name}.pem"));
        std::fs::write(&p, cert_pem(der)).unwrap();
        let text = run(Command::new("openssl")
            .args(["x509", "-noout", "-text", "-in"])
            .arg(&p));
        let text = String::from_utf8_lossy(&text);
        assert!(text.contains("NOT FOR PRODUCTION"), "{text}");
        if name == "tsa" {
            assert!(
                text.contains("X509v3 Extended Key Usage: critical"),
                "{text}"
            );
            assert!(text.contains("Time Stamping"), "{text}");
        } else {
            assert!(
                text.contains("Digital Signature, Non Repudiation"),
                "{text}"
            );
            assert!(text.contains("NTRJP-"), "{text}");
        }
        let mut cmd = Command::new("openssl");
        cmd.args(["verify", "-attime", &at, "-purpose", purpose, "-CAfile"])
            .arg(&root);
        if pki.intermediate_cert_der.is_some() {
            cmd.arg("-untrusted").arg(&inter);
        }
        cmd.arg("-CRLfile").arg(&crl).arg("-crl_check").arg(&p);
        let out = String::from_utf8_lossy(&run(&mut cmd)).into_owned();
        assert!(out.contains(": OK"), "{out}");
    }
    // The revoked certificate is refused because of the CRL.
    let p = dir.join("revoked.pem");
    std::fs::write(&p, cert_pem(&pki.revoked_eseal_cert_der)).unwrap();
    let mut cmd = Command::new("openssl");
    cmd.args(["verify", "-attime", &at, "-CAfile"]).arg(&root);
    if pki.intermediate_cert_der.is_some() {
        cmd.arg("-untrusted").arg(&inter);
    }
    let out = cmd
        .arg("-CRLfile")
        .arg(&crl)
        .arg("-crl_check")
        .arg(&p)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("revoked")
            || String::from_utf8_lossy(&out.stdout).contains("revoked")
    );
    // x509-cert decodes every certificate and the CRL.
    use der::Decode;
    for c in [&pki.root_cert_der, &pki.tsa_cert_der, &pki.eseal_cert_der] {
        x509_cert::Certificate::from_der(c).unwrap();
    }
    x509_cert::crl::CertificateList::<x509_cert::certificate::Rfc5280>::from_der(&pki.crl_der)
        .unwrap();
}

#[test]
fn openssl_accepts_every_dev_pki() {
    for alg in [KeyAlg::P256, KeyAlg::P384, KeyAlg::P521, KeyAlg::Ed25519] {
        for intermediate in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let mut opts = DevPkiOptions::new(AT, alg);
            opts.intermediate = intermediate;
            let pki = DevPki::generate_with(&opts).unwrap();
            check(&pki, dir.path());
            // The key PEMs load back and match their certificates.
            let kp = dir.path().join("tsa.key");
            std::fs::write(&kp, &*pki.tsa_key_pem).unwrap();
            let k = inkan_hsm::load(&KeyRef::File(kp), &Policy::cryptrec(), AT).unwrap();
            assert!(inkan_hsm::cms::certificate_matches_key(&pki.tsa_cert_der, &*k).unwrap());
        }
    }
}

#[test]
fn dev_pki_over_rsa_keys() {
    let dir = tempfile::tempdir().unwrap();
    let key = |n: &str| {
        let p = crate::util::openssl_key(dir.path(), n, "rsa2048");
        inkan_hsm::load(&KeyRef::File(p), &Policy::cryptrec(), AT).unwrap()
    };
    let (r, t, e) = (key("root"), key("tsa"), key("eseal"));
    let pki =
        DevPki::with_keys(&DevPkiOptions::new(AT, KeyAlg::P256), &*r, None, &*t, &*e).unwrap();
    check(&pki, dir.path());
}

#[test]
fn dev_pki_issues_over_rsa_pss_keys() {
    use inkan_profiles::alg::PublicKeyKind;
    for kind in ["rsapss2048", "rsapss2048r"] {
        let dir = tempfile::tempdir().unwrap();
        let key = |n: &str, k: &str| {
            let p = crate::util::openssl_key(dir.path(), n, k);
            inkan_hsm::load(&KeyRef::File(p), &Policy::cryptrec(), AT).unwrap()
        };
        let (r, t, e) = (
            key("root", "rsa2048"),
            key("tsa", "rsa2048"),
            key("eseal", kind),
        );
        assert!(matches!(e.kind(), PublicKeyKind::RsaPss { .. }));
        let pki =
            DevPki::with_keys(&DevPkiOptions::new(AT, KeyAlg::P256), &*r, None, &*t, &*e).unwrap();
        check(&pki, dir.path());
        assert!(inkan_hsm::cms::certificate_matches_key(&pki.eseal_cert_der, &*e).unwrap());
        let p = dir.path().join("eseal-pss.pem");
        std::fs::write(&p, cert_pem(&pki.eseal_cert_der)).unwrap();
        let text = run(Command::new("openssl")
            .args(["x509", "-noout", "-text", "-in"])
            .arg(&p));
        let text = String::from_utf8_lossy(&text);
        assert!(
            text.contains("Public Key Algorithm: rsassaPss"),
            "{kind}: {text}"
        );
        if kind == "rsapss2048r" {
            assert!(text.contains("Minimum Salt Length: 32"), "{text}");
        }
        // A PSS-keyed CA signs its certificates with PSS.
        let pki2 =
            DevPki::with_keys(&DevPkiOptions::new(AT, KeyAlg::P256), &*e, None, &*t, &*r).unwrap();
        check(&pki2, dir.path());
    }
}
