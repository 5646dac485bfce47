//! The ESS, CAdES, OCSP, CMS, algorithm-identifier and SPKI decoders of `inkan-profiles` on
//! arbitrary bytes: no panic, bounded work.
#![no_main]

use inkan_profiles::alg::{PssParams, PublicKeyKind, SignatureAlgorithm};
use inkan_profiles::asn1::cades::{AtsHashIndexV3, RevocationValues};
use inkan_profiles::asn1::cms::RawSignedData;
use inkan_profiles::asn1::ess::{SigningCertificate, SigningCertificateV2};
use inkan_profiles::asn1::ocsp::{BasicOcspResponse, OcspRequest, OcspResponse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = AtsHashIndexV3::parse(data);
    let _ = RevocationValues::parse(data);
    let _ = SigningCertificate::parse(data);
    let _ = SigningCertificateV2::parse(data);
    let _ = OcspRequest::parse(data);
    let _ = OcspResponse::parse(data);
    let _ = BasicOcspResponse::parse(data);
    let _ = RawSignedData::parse(data);
    let _ = SignatureAlgorithm::from_der(data);
    let _ = PssParams::from_der(data);
    let _ = PublicKeyKind::from_spki_der(data);
});
