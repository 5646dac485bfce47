use std::process::Command;

use inkan_hsm::cms::{self, CmsSignerTemplate, Content, RevocationInfo, SignRequest};
use inkan_hsm::{KeyRef, Policy};

use crate::util::{AT, openssl_key, openssl_self_signed, pem_to_der, run};

fn verify_openssl(dir: &std::path::Path, sig: &[u8], ca: &std::path::Path, data: Option<&[u8]>) {
    let sig_path = dir.join("sig.der");
    std::fs::write(&sig_path, sig).unwrap();
    let mut cmd = Command::new("openssl");
    cmd.args([
        "cms", "-verify", "-binary", "-inform", "DER", "-purpose", "any", "-in",
    ])
    .arg(&sig_path)
    .arg("-CAfile")
    .arg(ca)
    .args(["-out", "/dev/null"]);
    if let Some(d) = data {
        let p = dir.join("data.bin");
        std::fs::write(&p, d).unwrap();
        cmd.arg("-content").arg(p);
    }
    run(&mut cmd);
}

/// OpenSSL 3.0 cannot verify Ed25519 in CMS at all ("eddsa_digest_signverify_init: invalid
/// digest", even on its own output): check those with the `cms` crate and ring instead.
fn verify_ed25519(sig: &[u8], cert: &[u8], data: &[u8]) {
    use der::{Decode, Encode};
    let ci = ::cms::content_info::ContentInfo::from_der(sig).unwrap();
    let sd: ::cms::signed_data::SignedData = ci.content.decode_as().unwrap();
    let si = sd.signer_infos.0.get(0).unwrap();
    let attrs = si.signed_attrs.as_ref().unwrap().to_der().unwrap();
    let c = x509_cert::Certificate::from_der(cert).unwrap();
    let pk = c
        .tbs_certificate()
        .subject_public_key_info()
        .subject_public_key
        .raw_bytes();
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, pk)
        .verify(&attrs, si.signature.as_bytes())
        .expect("Ed25519 signature over the signed attributes");
    let md = ring::digest::digest(&ring::digest::SHA512, data);
    let found = si
        .signed_attrs
        .as_ref()
        .unwrap()
        .iter()
        .find(|a| a.oid == cms::ID_MESSAGE_DIGEST)
        .unwrap();
    let v = found.values.get(0).unwrap();
    assert_eq!(v.value(), md.as_ref());
}

fn check_cms_crate(sig: &[u8]) {
    use der::{Decode, Encode};
    let ci = ::cms::content_info::ContentInfo::from_der(sig).expect("cms crate: ContentInfo");
    let sd: ::cms::signed_data::SignedData = ci.content.decode_as().expect("cms crate: SignedData");
    assert_eq!(sd.signer_infos.0.len(), 1);
    // Our encoding is DER: re-encoding gives the same bytes.
    assert_eq!(ci.to_der().unwrap(), sig);
}

#[test]
fn openssl_and_cms_crate_accept_our_signed_data() {
    let dir = tempfile::tempdir().unwrap();
    for kind in [
        "p256",
        "p384",
        "p521",
        "rsa2048",
        "ed25519",
        "rsapss2048",
        "rsapss2048r",
    ] {
        let key_path = openssl_key(dir.path(), kind, kind);
        let cert_path = openssl_self_signed(dir.path(), kind, &key_path);
        let cert = pem_to_der(&cert_path);
        let key = inkan_hsm::load(&KeyRef::File(key_path), &Policy::cryptrec(), AT).unwrap();
        assert!(cms::certificate_matches_key(&cert, &*key).unwrap());
        for alg in inkan_hsm::default_algorithms(&key.kind()) {
            let signer = key.choose(&[alg]).unwrap();
            let t = CmsSignerTemplate::new(signer, cert.clone(), vec![]).unwrap();
            let data = b"inkan CMS test content\n".repeat(10);
            let st = cms::signing_time_attribute(AT);
            let extra: [&[u8]; 1] = [&st];
            // Detached, with signing-time.
            let mut req = SignRequest::new(cms::ID_DATA, Content::Detached(&data));
            req.signed_attrs = &extra;
            let sig = t.sign(&req).unwrap();
            if kind == "ed25519" {
                verify_ed25519(&sig, &cert, &data);
                check_cms_crate(&sig);
                continue;
            }
            verify_openssl(dir.path(), &sig, &cert_path, Some(&data));
            check_cms_crate(&sig);
            // Detached, precomputed digest.
            let d = cms::digest(t.digest_algorithm(), &data);
            let sig = t
                .sign(&SignRequest::new(cms::ID_DATA, Content::DetachedDigest(&d)))
                .unwrap();
            verify_openssl(dir.path(), &sig, &cert_path, Some(&data));
            // Attached.
            let sig = t
                .sign(&SignRequest::new(cms::ID_DATA, Content::Attached(&data)))
                .unwrap();
            verify_openssl(dir.path(), &sig, &cert_path, None);
            check_cms_crate(&sig);
            // A TSTInfo-typed encapsulated content (the bytes need not be a TSTInfo for CMS).
            let sig = t
                .sign(&SignRequest::new(
                    cms::ID_CT_TST_INFO,
                    Content::Attached(&data),
                ))
                .unwrap();
            verify_openssl(dir.path(), &sig, &cert_path, None);
        }
        let _ = RevocationInfo::Crl(&[]);
    }
}

#[test]
fn dev_pki_chain_crls_and_other_revocation_info() {
    use inkan_hsm::cms::Certificates;
    use inkan_hsm::devpki::{DevPki, DevPkiOptions, KeyAlg};
    let dir = tempfile::tempdir().unwrap();
    let mut opts = DevPkiOptions::new(AT, KeyAlg::P256);
    opts.intermediate = true;
    let pki = DevPki::generate_with(&opts).unwrap();
    let kp = dir.path().join("eseal.key");
    std::fs::write(&kp, &*pki.eseal_key_pem).unwrap();
    let key = inkan_hsm::load(&KeyRef::File(kp), &Policy::cryptrec(), AT).unwrap();
    let signer = key
        .choose(&inkan_hsm::default_algorithms(&key.kind()))
        .unwrap();
    let inter = pki.intermediate_cert_der.clone().unwrap();
    let t = CmsSignerTemplate::new(signer, pki.eseal_cert_der.clone(), vec![inter]).unwrap();
    let root_path = dir.path().join("root.pem");
    std::fs::write(&root_path, pki.root_pem()).unwrap();
    let data = b"hello e-seal";
    let ocsp_oid = const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.16.2");
    let crls = [
        RevocationInfo::Crl(&pki.crl_der),
        RevocationInfo::Other {
            format: ocsp_oid,
            info: &[0x30, 0x03, 0x0A, 0x01, 0x00],
        },
    ];
    let root = pki.root_cert_der.clone();
    let extra: [&[u8]; 1] = [&root];
    let unsigned = cms::attribute(&ocsp_oid, &[&[0x05, 0x00]]);
    let unsigned: [&[u8]; 1] = [&unsigned];
    // With a CRL only: the `cms` crate reads it; openssl verifies it.
    let mut req = SignRequest::new(cms::ID_DATA, Content::Attached(data));
    req.crls = &crls[..1];
    req.certificates = Certificates::TemplateAnd(&extra);
    req.unsigned_attrs = &unsigned;
    let sig = t.sign(&req).unwrap();
    verify_openssl(dir.path(), &sig, &root_path, None);
    check_cms_crate(&sig);
    use der::Decode;
    let ci = ::cms::content_info::ContentInfo::from_der(&sig).unwrap();
    let sd: ::cms::signed_data::SignedData = ci.content.decode_as().unwrap();
    assert_eq!(sd.version, ::cms::content_info::CmsVersion::V1);
    assert_eq!(sd.certificates.unwrap().0.len(), 3);
    assert_eq!(sd.crls.unwrap().0.len(), 1);
    // With OtherRevocationInfoFormat too: version 5 (RFC 5652 section 5.1). cms 0.3.0-rc.0
    // cannot decode `[1] IMPLICIT OtherRevocationInfoFormat` (it expects a SEQUENCE inside
    // the [1]); OpenSSL reads it as RFC 5652 says.
    req.crls = &crls;
    let sig = t.sign(&req).unwrap();
    verify_openssl(dir.path(), &sig, &root_path, None);
    let ci = ::cms::content_info::ContentInfo::from_der(&sig).unwrap();
    assert_eq!(&ci.content.value()[..3], &[0x02, 0x01, 0x05]);
    // Without certificates: openssl needs the signer certificate given separately.
    let mut req = SignRequest::new(cms::ID_CT_TST_INFO, Content::Attached(data));
    req.certificates = Certificates::None;
    let sig = t.sign(&req).unwrap();
    check_cms_crate(&sig);
}
