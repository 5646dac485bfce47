//! The TSA's request parser and policy checks on arbitrary request bodies.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = inkan_tsa::handler::parse_request(data);
});
