//! The signer's reader of existing signatures (the input of `inkan-sign extend`, which may come
//! from any signer) on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = inkan_profiles::asn1::cms::RawSignedData::parse(data);
});
