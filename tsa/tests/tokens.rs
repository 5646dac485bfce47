//! Tokens that clients can verify with what they have: with certReq the configured chain (the
//! TSA certificate and its issuers) by default, the cms-algorithm-protection attribute
//! (RFC 6211) checked by OpenSSL; and the protocol edges (SHAKE256 imprints, request versions
//! outside 0..255) over real HTTP.

use std::path::Path;

use der::{Decode, Encode};

use crate::common::*;

/// root → intermediate CA → TSA certificate; `chain.pem` = TSA, intermediate, root.
fn pki_with_intermediate(d: &Path) {
    make_pki(d, KeyKind::P256);
    std::fs::write(
        d.join("ca.cnf"),
        "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n",
    )
    .unwrap();
    openssl_p256_req(
        d,
        "inter.key",
        "inter.csr",
        "/CN=inkan test issuing CA",
        &[],
    );
    let ca_opts = ["-days", "30", "-extfile", "ca.cnf"];
    sign_csr(d, "inter.csr", "root", "77", &ca_opts, "inter.pem");
    sign_csr(d, "tsa.csr", "inter", "78", &["-days", "30"], "tsa.pem");
    write_chain(d, "chain.pem", &["tsa.pem", "inter.pem", "root.pem"]);
}

fn ts_verify(d: &Path, tsr: &[u8]) -> std::process::Output {
    write(d, "v.tsr", tsr);
    openssl(
        d,
        &[
            "ts",
            "-verify",
            "-in",
            "v.tsr",
            "-queryfile",
            "q.tsq",
            "-CAfile",
            "root.pem",
        ],
    )
}

/// With certReq a client that trusts only the root verifies the token, because the token
/// carries the issuing CA (the default, `include_chain = true`); `include_chain = false`
/// sends the TSA certificate alone and the same client cannot.
#[test]
fn cert_req_sends_the_configured_chain() {
    let pki = tmp();
    let d = pki.path();
    pki_with_intermediate(d);
    write(d, "data.txt", b"chain please\n");
    openssl_ok(
        d,
        &[
            "ts", "-query", "-data", "data.txt", "-sha256", "-cert", "-out", "q.tsq",
        ],
    );
    let tsq = std::fs::read(d.join("q.tsq")).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    for (extra, verifies) in [("", true), ("include_chain = false\n", false)] {
        let data = tmp();
        let tsa = rt.block_on(start(settings(d, data.path(), extra)));
        let tsr = post_tsq(tsa.addr, &tsq);
        rt.block_on(tsa.shutdown());
        let out = ts_verify(d, &tsr);
        let ok = out.status.success() && String::from_utf8_lossy(&out.stdout).contains("OK");
        assert_eq!(
            ok,
            verifies,
            "{extra:?}: {} {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let certs = certificates_in(&tsr);
        assert_eq!(certs, if verifies { 3 } else { 1 }, "{extra:?}");
    }
}

fn token_der(tsr: &[u8]) -> Vec<u8> {
    inkan_profiles::asn1::tsp::TimeStampResp::parse(tsr)
        .unwrap()
        .token_der()
        .expect("granted")
}

fn signed_data(tsr: &[u8]) -> cms::signed_data::SignedData {
    cms::content_info::ContentInfo::from_der(&token_der(tsr))
        .unwrap()
        .content
        .decode_as::<cms::signed_data::SignedData>()
        .unwrap()
}

fn certificates_in(tsr: &[u8]) -> usize {
    signed_data(tsr).certificates.map_or(0, |c| c.0.len())
}

/// Every token carries cms-algorithm-protection (RFC 6211 §2) naming exactly the SignerInfo's
/// digest and signature algorithms, and `openssl cms -verify` (which checks the attribute)
/// and `openssl ts -verify` accept it, for ECDSA and RSA keys.
#[test]
fn tokens_carry_cms_algorithm_protection() {
    for kind in [KeyKind::P256, KeyKind::Rsa3072] {
        let pki = tmp();
        let d = pki.path();
        make_pki(d, kind);
        write(d, "data.txt", b"protect the algorithms\n");
        openssl_ok(
            d,
            &[
                "ts", "-query", "-data", "data.txt", "-sha256", "-cert", "-out", "q.tsq",
            ],
        );
        let tsq = std::fs::read(d.join("q.tsq")).unwrap();
        let data = tmp();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let tsa = rt.block_on(start(settings(d, data.path(), "")));
        let tsr = post_tsq(tsa.addr, &tsq);
        rt.block_on(tsa.shutdown());

        let sd = signed_data(&tsr);
        let si = sd.signer_infos.0.iter().next().unwrap();
        let attrs = si.signed_attrs.as_ref().unwrap();
        let oid = const_oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.52");
        let attr = attrs
            .iter()
            .find(|a| a.oid == oid)
            .expect("cms-algorithm-protection");
        let want = inkan_hsm::cms::algorithm_protection(
            &si.digest_alg.to_der().unwrap(),
            &si.signature_algorithm.to_der().unwrap(),
        )
        .unwrap();
        assert_eq!(attr.to_der().unwrap(), want, "{kind:?}");

        let out = ts_verify(d, &tsr);
        assert!(
            out.status.success(),
            "{kind:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        write(d, "token.der", &token_der(&tsr));
        let out = openssl(
            d,
            &[
                "cms",
                "-verify",
                "-inform",
                "DER",
                "-in",
                "token.der",
                "-CAfile",
                "root.pem",
                "-purpose",
                "any",
                "-out",
                "/dev/null",
            ],
        );
        assert!(
            out.status.success(),
            "{kind:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let printed = String::from_utf8(openssl_ok(
            d,
            &[
                "cms",
                "-cmsout",
                "-print",
                "-inform",
                "DER",
                "-in",
                "token.der",
                "-noout",
            ],
        ))
        .unwrap();
        assert!(
            printed.contains("1.2.840.113549.1.9.52") || printed.contains("Algorithm Protection"),
            "{printed}"
        );
    }
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    inkan_profiles::asn1::tlv::push_len(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

/// A TimeStampReq with the INTEGER `version` content and the imprint algorithm
/// `alg` (DER AlgorithmIdentifier) over `imprint`.
fn raw_request(version: &[u8], alg: &[u8], imprint: &[u8]) -> Vec<u8> {
    let mut mi = alg.to_vec();
    mi.extend(tlv(0x04, imprint));
    let mut c = tlv(0x02, version);
    c.extend(tlv(0x30, &mi));
    tlv(0x30, &c)
}

fn failure(addr: std::net::SocketAddr, tsq: &[u8]) -> Option<String> {
    failure_of(&post_tsq(addr, tsq)).map(|f| f.names().join(","))
}

/// Over HTTP: an id-shake256-len imprint is badAlg for a P-256 TSA (SHAKE256 belongs to Ed448
/// under the policy, RFC 8419); request versions 256, -1 and a 9-byte integer are badRequest,
/// version 1 with the same imprint is granted.
#[test]
fn protocol_edges() {
    let pki = tmp();
    let d = pki.path();
    make_pki(d, KeyKind::P256);
    let data = tmp();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let tsa = rt.block_on(start(settings(d, data.path(), "")));
    let addr = tsa.addr;
    let sha256 = tlv(
        0x30,
        &tlv(
            0x06,
            &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01],
        ),
    );
    let mut shake_ai = tlv(
        0x06,
        &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x12],
    );
    shake_ai.extend([0x02, 0x02, 0x02, 0x00]);
    let shake = tlv(0x30, &shake_ai);
    assert_eq!(
        failure(addr, &raw_request(&[1], &shake, &[0x33; 64])).as_deref(),
        Some("badAlg")
    );
    for v in [&[0x01, 0x00][..], &[0xff], &[1, 0, 0, 0, 0, 0, 0, 0, 0]] {
        assert_eq!(
            failure(addr, &raw_request(v, &sha256, &[0x33; 32])).as_deref(),
            Some("badRequest"),
            "version {v:02x?}"
        );
    }
    assert_eq!(
        failure(addr, &raw_request(&[1], &sha256, &[0x33; 32])),
        None
    );
    rt.block_on(tsa.shutdown());
}
