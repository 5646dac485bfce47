//! Integration tests of inkan-hsm: one binary, one module per topic.

// CMS SignedData checked by OpenSSL and the `cms` crate.
mod cms_interop;
// Shared helpers: OpenSSL-made keys and certificates, command runners.
mod util;
