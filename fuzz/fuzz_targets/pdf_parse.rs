#![no_main]
//! PDF reading of untrusted bytes: revisions, cross-reference views, every object, stream
//! decoding (inkan_profiles::pdf), then the verifier's whole PDF path.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(d) = inkan_profiles::pdf::Document::new(data) {
        for r in d.revisions() {
            let _ = d.xref_at(r.startxref);
        }
        if let Ok(x) = d.xref() {
            let mut nums: Vec<u32> = x.entries.keys().copied().collect();
            nums.sort_unstable();
            for n in nums.into_iter().take(2000) {
                if let Ok(inkan_profiles::pdf::Object::Stream(s)) = d.get(&x, n) {
                    let _ = d.decode(&s);
                }
            }
        }
    }
    let _ = inkan_verifier::verify_bytes(data);
});
