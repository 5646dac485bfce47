//! Integration tests of inkan-hsm: one binary, one module per topic.

// The backend suite, run against software keys and a SoftHSM2 token.
mod backend;
// The inkan-hsm binary driven as a process.
mod cli;
// CMS SignedData checked by OpenSSL and the `cms` crate.
mod cms_interop;
// The development PKI checked by openssl verify/x509.
mod devpki_openssl;
// Shared helpers: OpenSSL-made keys and certificates, command runners.
mod util;
