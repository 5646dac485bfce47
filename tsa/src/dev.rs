//! `--dev`: a development PKI made once under the data directory (root CA, TSA certificate with
//! a critical id-kp-timeStamping EKU, software P-256 key), clearly marked NOT FOR PRODUCTION.
//! The root certificate is written to `DATA_DIR/dev-root.pem` for `openssl ts -verify`.

use std::path::{Path, PathBuf};

use inkan_profiles::time::UnixTime;

/// The development files.
#[derive(Clone, Debug)]
pub struct DevFiles {
    /// PKCS#8 PEM key of the TSA.
    pub key: PathBuf,
    /// PEM: TSA certificate then root.
    pub chain: PathBuf,
    /// PEM: the development root.
    pub root: PathBuf,
}

/// The paths used under `data_dir`.
pub fn paths(data_dir: &Path) -> DevFiles {
    DevFiles {
        key: data_dir.join("dev-tsa-key.pem"),
        chain: data_dir.join("dev-tsa-chain.pem"),
        root: data_dir.join("dev-root.pem"),
    }
}

/// Makes the development PKI unless it is already there; returns its files.
pub fn ensure(data_dir: &Path, _now: UnixTime) -> Result<DevFiles, String> {
    let p = paths(data_dir);
    if p.key.exists() && p.chain.exists() && p.root.exists() {
        return Ok(p);
    }
    Err("the development PKI generator (inkan_hsm::devpki) is not available yet".into())
}
