//! The whole verification, as deep as arbitrary bytes can reach it, for libFuzzer's `-timeout`
//! (`fuzz/run.sh` passes `-timeout=10`): work that grows faster than the input (issue 11 §6: a
//! 532 KB input once took 152 s) shows up as a timeout, not only as a crash.
//!
//! Input layout: two bytes (big-endian) giving the length of the signature file, the signature
//! file, then the detached data. Every certificate the signature file carries is also given as
//! a trust anchor, and revocation is required, so that mutated inputs reach path building,
//! revocation checking, time-stamps and archive time-stamps instead of stopping at
//! NO_CERTIFICATE_CHAIN_FOUND.
#![no_main]

use inkan_profiles::time::UnixTime;
use inkan_verifier::{Data, Input, Options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (sig, content) = match data {
        [a, b, rest @ ..] => {
            let n = (usize::from(*a) << 8 | usize::from(*b)).min(rest.len());
            rest.split_at(n)
        }
        _ => (data, &[][..]),
    };
    let trust = inkan_verifier::cms::SignedData::parse_content_info(
        &inkan_verifier::input::to_binary(sig),
    )
    .map(|sd| sd.certs_raw)
    .unwrap_or_default();
    let options = Options {
        data: if content.is_empty() {
            Data::None
        } else {
            Data::Bytes(content.to_vec())
        },
        trust,
        revocation_required: true,
        ..Options::default()
    };
    let _ = inkan_verifier::verify(
        &Input {
            bytes: sig.to_vec(),
        },
        &options,
        UnixTime::from_secs(1_700_000_000),
    );
});
