//! The bounded BER/DER TLV reader, now shared: it lives in [`inkan_profiles::asn1::tlv`] and is
//! re-exported here so that `crate::tlv::…` (and `inkan_verifier::tlv` in the fuzz targets) keep
//! working unchanged.

pub use inkan_profiles::asn1::tlv::*;
