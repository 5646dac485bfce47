//! The whole offline verification on arbitrary bytes (signature file and detached data).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = inkan_verifier::verify_bytes(data);
});
