//! What `inkan-sign` reads from strangers over the network, on arbitrary bytes: a TSA's
//! `TimeStampResp` and the token in it (checked against its own imprint, so the check goes on
//! to the signature and the TSA certificate), a CRL from a distribution point and an OCSP
//! response from authorityInfoAccess (checked against a development certificate and its
//! issuer, made once). No panic, bounded work.
#![no_main]

use std::sync::OnceLock;

use inkan_hsm::devpki::{DevPki, DevPkiOptions, KeyAlg};
use inkan_profiles::time::UnixTime;
use inkan_signer::certs::Cert;
use inkan_signer::{revocation, tsa_client, tst};
use libfuzzer_sys::fuzz_target;

const AT: UnixTime = UnixTime::from_secs(1_800_000_000);

/// (certificate, issuer) for the revocation checks.
fn certs() -> &'static (Cert, Cert) {
    static CERTS: OnceLock<(Cert, Cert)> = OnceLock::new();
    CERTS.get_or_init(|| {
        let pki = DevPki::generate_with(&DevPkiOptions::new(AT, KeyAlg::P256)).expect("dev PKI");
        let issuer = pki
            .intermediate_cert_der
            .as_deref()
            .unwrap_or(&pki.root_cert_der);
        (
            Cert::from_der(&pki.eseal_cert_der).expect("e-seal certificate"),
            Cert::from_der(issuer).expect("issuer"),
        )
    })
}

fuzz_target!(|data: &[u8]| {
    let token = tsa_client::token_from_response(data).ok();
    for t in token.as_deref().into_iter().chain([data]) {
        if let Some((info, alg)) = inkan_verifier::cms::SignedData::parse_content_info(t)
            .ok()
            .and_then(|sd| sd.econtent)
            .and_then(|c| inkan_profiles::asn1::tsp::TstInfo::parse(&c).ok())
            .and_then(|i| i.imprint_alg_oid().ok().map(|a| (i, a)))
        {
            let expect = tst::Expect {
                alg,
                imprint: &info.imprint,
                nonce: info.nonce.as_deref(),
            };
            let _ = tst::check(t, &expect);
        }
    }
    let (cert, issuer) = certs();
    if let Ok(der) = revocation::read_crl_bytes(data) {
        let _ = revocation::check_crl(&der, cert, issuer, AT);
    }
    let _ = revocation::check_ocsp(data, cert, issuer, AT);
});
