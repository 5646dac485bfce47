//! Every RFC 3161 message decoder in `inkan-profiles` on arbitrary bytes: no panic, bounded work.
#![no_main]

use inkan_profiles::asn1::tsp::{TimeStampReq, TimeStampResp, TstInfo};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = TimeStampReq::parse(data);
    let _ = TimeStampResp::parse(data);
    let _ = TstInfo::parse(data);
    let _ = TstInfo::parse_der(data);
});
