//! `inkan-sign timestamp`: proof of existence without a signature key (INTERFACE.md). A PDF
//! gets a document time-stamp (ISO 32000-2 §12.8.5, ETSI EN 319 142-1 `ETSI.RFC3161`) as an
//! incremental update, written to `NAME-timestamped.pdf` (or `--out`, `--out-dir`,
//! `--in-place`); any other file gets `FILE.tsr`, the TSA's DER `TimeStampResp` (RFC 3161
//! §2.4.2) as received, beside it (or under `--out-dir`, or `--out`). One bad input is
//! reported and the others are still time-stamped.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use inkan_profiles::alg::DigestAlgorithm;

use crate::cades::TsaClient;
use crate::sign::{FileResult, SetupError, Summary};

/// Options of `inkan-sign timestamp`.
#[derive(Clone, Debug)]
pub struct TimestampOptions {
    /// The TSA.
    pub tsa: String,
    /// Output file (one input only).
    pub out: Option<PathBuf>,
    /// Output directory.
    pub out_dir: Option<PathBuf>,
    /// Replace each PDF input atomically.
    pub in_place: bool,
    /// Time allowed per TSA request.
    pub tsa_timeout: Duration,
    /// How to reach the TSA.
    pub tsa_access: crate::tsa_client::TsaAccess,
    /// The HTTP proxy choice.
    pub proxy: crate::proxy::ProxyChoice,
    /// The hash of the message imprint (SHA-256).
    pub digest: DigestAlgorithm,
}

impl TimestampOptions {
    /// Defaults for `tsa`: SHA-256, outputs beside the inputs.
    pub fn new(tsa: &str) -> Self {
        Self {
            tsa: tsa.to_owned(),
            out: None,
            out_dir: None,
            in_place: false,
            tsa_timeout: crate::tsa_client::DEFAULT_TIMEOUT,
            tsa_access: Default::default(),
            proxy: Default::default(),
            digest: DigestAlgorithm::Sha256,
        }
    }
}

/// Where the result for `input` goes.
pub fn output_path(opts: &TimestampOptions, input: &Path, pdf: bool) -> PathBuf {
    if pdf {
        return crate::pades::output_path(
            opts.out.as_deref(),
            opts.out_dir.as_deref(),
            opts.in_place,
            input,
            "timestamped",
        );
    }
    if let Some(o) = &opts.out {
        return o.clone();
    }
    let mut name = input.file_name().unwrap_or_default().to_os_string();
    name.push(".tsr");
    match &opts.out_dir {
        Some(d) => d.join(name),
        None => input.with_file_name(name),
    }
}

/// Time-stamps every input; a TSA that cannot be set up stops the run before any request.
pub fn timestamp_files(opts: &TimestampOptions, inputs: &[PathBuf]) -> Result<Summary, SetupError> {
    if inputs.is_empty() {
        return Err(SetupError::Usage("no input files".into()));
    }
    if opts.out.is_some() && inputs.len() > 1 {
        return Err(SetupError::Usage(
            "--out takes one input file; use --out-dir".into(),
        ));
    }
    if let Some(d) = &opts.out_dir
        && !d.is_dir()
    {
        return Err(SetupError::Usage(format!(
            "--out-dir {} is not a directory",
            d.display()
        )));
    }
    let proxies = Arc::new(crate::proxy::Proxies::resolve(&opts.proxy).map_err(SetupError::Usage)?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| SetupError::Material(format!("cannot start the HTTP client: {e}")))?;
    let tsa = TsaClient::new(
        &opts.tsa,
        &opts.tsa_access,
        opts.tsa_timeout,
        Arc::new(rt),
        proxies,
    )?;
    let start = Instant::now();
    let files = inputs
        .iter()
        .map(|input| {
            let pdf = crate::pades::is_pdf_file(input);
            let out = output_path(opts, input, pdf);
            let r = one(opts, &tsa, input, &out, pdf).map(|()| out);
            FileResult {
                input: input.clone(),
                result: r,
            }
        })
        .collect();
    Ok(Summary {
        files,
        elapsed: start.elapsed(),
        stages: Default::default(),
    })
}

fn one(
    opts: &TimestampOptions,
    tsa: &TsaClient,
    input: &Path,
    out: &Path,
    pdf: bool,
) -> Result<(), String> {
    if !(pdf && opts.in_place) && out.exists() {
        return Err(format!("{} already exists; not overwritten", out.display()));
    }
    let data = if pdf {
        let bytes = std::fs::read(input).map_err(|e| format!("cannot read: {e}"))?;
        crate::pades::timestamp_pdf(tsa, opts.digest, &bytes)?
    } else {
        let mut f = std::fs::File::open(input).map_err(|e| format!("cannot read: {e}"))?;
        let hash = crate::digest::digest_reader(opts.digest, &mut f)
            .map_err(|e| format!("cannot read: {e}"))?;
        tsa.timestamp_response(opts.digest, hash)?.0
    };
    crate::output::write_atomic(out, &data)
        .map_err(|e| format!("cannot write {}: {e}", out.display()))
}
