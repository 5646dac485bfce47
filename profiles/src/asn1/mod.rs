//! ASN.1 types that the `der` 0.8 RustCrypto stack does not carry yet, written with `der`
//! derives. Each type's documentation quotes its ASN.1 definition and names the RFC section.
//!
//! Decoding is strict DER except where a section says otherwise (fractional seconds in
//! [`tsp::GenTime`]). Where a verifier must hash the original encoding (an embedded token, a
//! `TSTInfo`), the type keeps the raw bytes as [`der::Any`] so that nothing is re-encoded.
//!
//! Every `from_der` on these types is safe on untrusted bytes: no panic, allocation bounded by
//! the input length. They are the entry points the fuzz targets call.
//!
//! [`tlv`] is the exception: a hand-written, bounded BER/DER reader over borrowed bytes that
//! keeps every element's original encoding, for code that must hash or splice exactly the bytes
//! it received. It is the workspace's one TLV reader (the verifier, the signer, the HSM
//! crate), and the tolerant readers are built on it: [`cms`] (`SignedData`, read and edited
//! by splicing for CAdES extension) and [`tsp::TstInfo`] (the workspace's one `TSTInfo` type).

pub mod cades;
pub mod cms;
pub mod ess;
pub mod ocsp;
pub mod tlv;
pub mod tsp;
