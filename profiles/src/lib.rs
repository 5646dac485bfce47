//! # inkan-profiles
//!
//! The pure foundation of inkan: the CRYPTREC algorithm catalogue and date-aware strength
//! policy, the ASN.1 types that upstream RustCrypto does not yet carry on the `der` 0.8 stack
//! (RFC 3161, ESS/CAdES attributes, OCSP), signature verification for every algorithm the policy
//! knows, and the one clock module of the workspace.
//!
//! No I/O, no key material, no async. The only place that reads the system clock is
//! [`clock::SystemClock`]; everything else takes a [`time::UnixTime`].
//!
//! ## Module map
//!
//! | Module | What it holds |
//! |---|---|
//! | [`alg`] | `DigestAlgorithm`, `Curve`, `PssParams`, `PublicKeyKind`, `SignatureAlgorithm`: OIDs both ways with the parameter rules of RFC 5754/4055/8410/8419, SPKI classification (RSA modulus size, named curve only, DSA p/q), streaming digests |
//! | [`oid`] | every OID constant the workspace uses (algorithms, CMS content types, `id-aa-*` attributes, CAdES, EKU, extensions, OCSP, name attributes) |
//! | [`policy`] | CRYPTREC LS-0001-2022 as data tables, strength periods (112-bit until end of 2030), `Policy::check_*`, `Refusal` with stable rule codes and English/Japanese text |
//! | [`asn1::tsp`] | RFC 3161 `TimeStampReq`, `TimeStampResp`, `PKIStatusInfo`, `PKIFailureInfo`, `TSTInfo` (`TstInfo`, read on [`asn1::tlv`]: tolerantly for tokens from other TSAs, or as strict DER; typed views decoded on demand), `Accuracy`, and `GenTime` (GeneralizedTime with fractional seconds) |
//! | [`asn1::ess`] | `SigningCertificate(V2)`, `ESSCertID(v2)`, `IssuerSerial` |
//! | [`asn1::cades`] | `ATSHashIndexV3`, `RevocationValues`, `CertificateValues`, `OtherHashAlgAndValue`, `SignaturePolicyIdentifier`, `CommitmentTypeIndication` |
//! | [`asn1::ocsp`] | RFC 6960 `OCSPRequest`, `OCSPResponse`, `BasicOCSPResponse` (with the signed bytes kept), `ResponseData`, `SingleResponse`, `CertID`, `CertStatus` |
//! | [`asn1::cms`] | lenient, byte-preserving `SignedData` reader and splice editor on [`asn1::tlv`] (`RawSignedData`, `RawSignerInfo`, `RawAttribute`, `RevocationInfo`): DER or BER, SETs kept as received, OCSP in `crls` read (both id-ri-ocsp-response and id-pkix-ocsp-basic), re-encoded around the original bytes for CAdES extension |
//! | [`ats`] | the archive-time-stamp-v3 computation of EN 319 122-1 §5.5.2–5.5.3 (ats-hash-index-v3 DER, message-imprint input and hash) over raw bytes, shared by the signer and the verifier |
//! | [`pdf`] | a bounded PDF reader (objects, cross-reference tables and streams, object streams, revisions) and a byte-exact incremental writer, for PAdES signing and validation |
//! | [`verify`] | `verify_signature(spki, alg, message, signature)` (ring fast path, RustCrypto for the rest) and `verify_signature_lenient` (also PKCS#1 v1.5 DigestInfo without NULL) |
//! | [`time`], [`clock`] | `UnixTime`; `Clock`, `SystemClock`, `FixedClock` |
//!
//! ## Why this ASN.1 stack
//!
//! One stack for the whole workspace: the current RustCrypto `der` family (`der` 0.8,
//! `spki` 0.8, `x509-cert` 0.3, `const-oid` 0.10; the `cms` 0.3 release candidate, pinned with
//! `=`, only as a dev-dependency: unit tests cross-check [`asn1::cms`] against it).
//! `x509-cert` already gives certificates and CRLs on it; what is missing
//! upstream on `der` 0.8 (the `x509-tsp` and `x509-ocsp` crates only exist for `der` 0.7, whose
//! types do not mix with 0.8) is defined here with `der` derives, each type quoting its ASN.1
//! and RFC section. `rasn` is not used: its types would not interoperate with `x509-cert`/`cms`
//! values (two certificate types, two OID types, conversions through bytes everywhere), and the
//! gap it would fill is a few hundred lines of derives. Where `der` 0.8 itself falls short:
//!
//! - it rejects fractional seconds in GeneralizedTime, which real TSAs put in `genTime`:
//!   [`asn1::tsp::GenTime`] decodes any fraction and encodes DER canonically;
//! - it re-sorts SET OF on decode: types that a verifier must hash or check a signature over
//!   keep the original bytes (`TimeStampResp::time_stamp_token`,
//!   `BasicOcspResponse::tbs_response_data_der`, certificates and CRLs as [`der::Any`]);
//! - `cms` 0.3.0-rc.0 types `otherRevInfoFormat` as an AlgorithmIdentifier (RFC 5652 §10.2.1
//!   says OBJECT IDENTIFIER), so it cannot decode any SignedData that carries OCSP in `crls`;
//!   [`asn1::cms::RawSignedData`] reads those, keeps duplicate certificates and the received
//!   order of signed attributes;
//! - `Int::new` keeps leading zeros: serial numbers are `Uint` / `x509_cert` `SerialNumber`.
//!
//! ## Why `ring` as well as RustCrypto for verification
//!
//! A verifier checks six or more signatures per document (signer, certificates, CRLs, time-stamp
//! token and its chain). ring verifies RSA and ECDSA P-256/P-384 several times faster than the
//! RustCrypto arithmetic, and the workspace already depends on it (the signer and TSA sign with
//! it), so it adds no new crate to the build. It does not cover the whole catalogue (no P-521, no
//! DSA, no PSS with other salt lengths, no RSA under 2048 bits, no SHA-3), so RustCrypto stays
//! for the rest, and re-checks every ring failure: a ring success is final, a ring failure is
//! not (see [`verify`]). Ed25519 stays on `ed25519-dalek` for its strict verification.
//!
//! ## Why RustCrypto `rsa` only verifies
//!
//! RUSTSEC-2023-0071 (the Marvin timing side channel) is open against the `rsa` crate. It
//! concerns private-key operations (decryption and signing), which leak timing; verification
//! uses only the public key and public data, so it is not affected. This crate therefore uses
//! `rsa` (with its `pkcs1v15` feature) for verification only, and the workspace signs RSA with
//! `ring` or in the HSM. The audit exception is recorded for that reason.
//!
//! ## Why `miniz_oxide`
//!
//! PDF cross-reference streams and object streams (ISO 32000-1 §7.5.7, §7.5.8) are nearly
//! always FlateDecode-compressed, so [`pdf`] must inflate. `miniz_oxide` is pure Rust with
//! `#![forbid(unsafe_code)]`, is the backend `flate2` itself uses by default, has one
//! dependency (`adler2`), and decodes with an output limit ([`pdf::inflate`]), which bounds
//! the memory a hostile stream can claim. Nothing is compressed on output (incremental
//! updates are written uncompressed).
//!
//! ## Why `clap`
//!
//! [`cli`] holds the command-line convention of the four binaries (exit statuses, the help
//! layout, the one-line usage error), so it needs the parser they share: `clap` (derive), the
//! convention Rust users know, without its `color` feature; `wrap_help` wraps the help to the
//! terminal. The same definitions generate the manual pages and shell completions. Only the
//! binaries' command lines use it; nothing else in this crate does.
//!
//! ## Untrusted input
//!
//! Every parser here is an entry point for fuzzing and returns an error instead of panicking:
//! [`asn1::tsp::TimeStampReq::parse`], [`asn1::tsp::TimeStampResp::parse`],
//! [`asn1::tsp::TstInfo::parse`], [`asn1::tsp::TstInfo::parse_der`], [`asn1::ess::SigningCertificateV2::parse`],
//! [`asn1::ess::SigningCertificate::parse`], [`asn1::cades::AtsHashIndexV3::parse`],
//! [`asn1::cades::RevocationValues::parse`], [`asn1::ocsp::OcspRequest::parse`],
//! [`asn1::ocsp::OcspResponse::parse`], [`asn1::ocsp::BasicOcspResponse::parse`],
//! [`asn1::cms::RawSignedData::parse`], [`alg::PublicKeyKind::from_spki_der`], [`alg::SignatureAlgorithm::from_der`],
//! [`alg::PssParams::from_der`] and [`verify::verify_signature`]. Allocation is bounded by the
//! input length; RSA and DSA moduli above [`alg::MAX_MODULUS_BITS`] are refused before any
//! arithmetic.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod alg;
pub mod asn1;
pub mod ats;
pub mod cli;
pub mod clock;
pub mod oid;
pub mod pdf;
pub mod policy;
pub mod time;
pub mod verify;
