//! What a run is set up with: the options of `inkan-sign` and `inkan-sign extend`, where each
//! output goes, and the prepared signer ([`crate::sign::prepare`] makes it). Kept apart from
//! [`crate::sign`] so that [`crate::plan`] and [`crate::pades`], which `sign` calls, need not
//! import `sign` back.

use std::path::{Path, PathBuf};
use std::time::Duration;

use inkan_hsm::cms::CmsSignerTemplate;

use crate::cades::{Level, Upgrader};
use crate::certs::Cert;

/// Options of a signing run (the `inkan-sign` flags).
#[derive(Clone, Debug)]
pub struct Options {
    /// KEYREF.
    pub key: String,
    /// PEM file: the signer's certificate first, then its chain.
    pub cert_chain: PathBuf,
    /// Target level.
    pub level: Level,
    /// TSA URL.
    pub tsa: Option<String>,
    /// Encapsulate the content.
    pub attached: bool,
    /// Output file (one input only).
    pub out: Option<PathBuf>,
    /// Output directory.
    pub out_dir: Option<PathBuf>,
    /// CRL files for B-LT.
    pub crls: Vec<PathBuf>,
    /// OCSP response files for B-LT.
    pub ocsps: Vec<PathBuf>,
    /// Fetch missing revocation data (OCSP from authorityInfoAccess, CRLs from distribution
    /// points).
    pub fetch: bool,
    /// Worker threads (0: one per CPU, more when a TSA is asked).
    pub workers: usize,
    /// Show progress: a bar when stderr is a terminal, else a line every
    /// [`Self::progress_every`].
    pub progress: bool,
    /// How often a progress line is printed when stderr is not a terminal (a job log).
    pub progress_every: Duration,
    /// What to do with an output that already exists (`--force`, `--skip-existing`).
    pub existing: Existing,
    /// Time allowed per TSA request.
    pub tsa_timeout: Duration,
    /// How to reach the TSA (https roots, client authentication).
    pub tsa_access: crate::tsa_client::TsaAccess,
    /// `--proxy`: the HTTP proxy for the TSA, OCSP and CRL requests (see [`crate::proxy`]).
    pub proxy: crate::proxy::ProxyChoice,
    /// `--commitment-type`: the commitment-type-indication signed attribute to add (see
    /// [`crate::commitment`]); none by default.
    pub commitment: Option<crate::commitment::Commitment>,
    /// PDF inputs: `--field`, `--in-place`, `--cades` (see [`crate::pades`]).
    pub pdf: PdfOptions,
}

impl Options {
    /// Defaults: B-B, detached, beside each input.
    pub fn new(key: &str, cert_chain: &Path) -> Self {
        Self {
            key: key.to_owned(),
            cert_chain: cert_chain.to_owned(),
            level: Level::BB,
            tsa: None,
            attached: false,
            out: None,
            out_dir: None,
            crls: Vec::new(),
            ocsps: Vec::new(),
            fetch: true,
            workers: 0,
            progress: true,
            progress_every: DEFAULT_PROGRESS_EVERY,
            existing: Existing::Refuse,
            tsa_timeout: crate::tsa_client::DEFAULT_TIMEOUT,
            tsa_access: Default::default(),
            proxy: Default::default(),
            commitment: None,
            pdf: Default::default(),
        }
    }
}

/// How often a progress line is printed when standard error is not a terminal.
pub const DEFAULT_PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// What a batch does with an output that already exists (the batch rules: nothing is
/// overwritten silently).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Existing {
    /// The input fails ("exists"); the output is left as it was (the default).
    #[default]
    Refuse,
    /// `--force`: the output is replaced atomically.
    Replace,
    /// `--skip-existing`: the output is left as it was and the input counted as skipped (no
    /// signature is made, no time-stamp asked for).
    Skip,
}

/// Options of `inkan-sign extend`.
#[derive(Clone, Debug)]
pub struct ExtendOptions {
    /// Target level (B-T, B-LT or B-LTA).
    pub level: Level,
    /// TSA URL.
    pub tsa: Option<String>,
    /// CRL files.
    pub crls: Vec<PathBuf>,
    /// OCSP response files.
    pub ocsps: Vec<PathBuf>,
    /// Extra certificates (PEM), e.g. a chain the signature lacks.
    pub cert_chain: Option<PathBuf>,
    /// The detached content.
    pub data: Option<PathBuf>,
    /// Output file (default: replace the signature file).
    pub out: Option<PathBuf>,
    /// Fetch missing revocation data (OCSP from authorityInfoAccess, CRLs from distribution
    /// points).
    pub fetch: bool,
    /// Time allowed per TSA request.
    pub tsa_timeout: Duration,
    /// How to reach the TSA (https roots, client authentication).
    pub tsa_access: crate::tsa_client::TsaAccess,
    /// `--proxy`: the HTTP proxy for the TSA, OCSP and CRL requests (see [`crate::proxy`]).
    pub proxy: crate::proxy::ProxyChoice,
}

impl ExtendOptions {
    /// Defaults for `level`.
    pub fn new(level: Level) -> Self {
        Self {
            level,
            tsa: None,
            crls: Vec::new(),
            ocsps: Vec::new(),
            cert_chain: None,
            data: None,
            out: None,
            fetch: true,
            tsa_timeout: crate::tsa_client::DEFAULT_TIMEOUT,
            tsa_access: Default::default(),
            proxy: Default::default(),
        }
    }
}

/// A prepared signer: key and certificate checked, algorithm chosen, template built.
#[derive(Debug)]
pub struct Prepared {
    pub(crate) template: CmsSignerTemplate,
    /// The cms-algorithm-protection attribute (RFC 6211), the same for every signature.
    pub(crate) alg_protection: Vec<u8>,
    /// The commitment-type-indication attribute, when one was asked for.
    pub(crate) commitment: Option<Vec<u8>>,
    pub(crate) upgrader: Upgrader,
    /// The signing certificate.
    pub cert: Cert,
}

/// Where the signature of `input` goes: for a PDF signed inside itself (see
/// [`signs_inside`]), the signed PDF ([`pdf_output_path`]); else the detached or
/// attached CMS, `FILE.p7s`.
pub fn output_path(opts: &Options, input: &Path) -> PathBuf {
    if signs_inside(opts, input) {
        return pdf_output_path(
            opts.out.as_deref(),
            opts.out_dir.as_deref(),
            opts.pdf.in_place,
            input,
            "signed",
        );
    }
    if let Some(o) = &opts.out {
        return o.clone();
    }
    let mut name = input.file_name().unwrap_or_default().to_os_string();
    name.push(".p7s");
    match &opts.out_dir {
        Some(d) => d.join(name),
        None => input.with_file_name(name),
    }
}

/// Whether `input` is signed inside itself as PAdES: a PDF (its bytes start with `%PDF-`),
/// unless `--cades` asks for a detached signature.
pub fn signs_inside(opts: &Options, input: &Path) -> bool {
    !opts.pdf.cades && is_pdf_file(input)
}

/// PDF-specific signing options.
#[derive(Clone, Debug, Default)]
pub struct PdfOptions {
    /// `--field NAME`: the signature field to fill (an empty one) or create.
    pub field: Option<String>,
    /// `--in-place`: replace the input atomically.
    pub in_place: bool,
    /// `--cades`: make a detached `.p7s` of a PDF instead of signing inside it.
    pub cades: bool,
    /// `--seal-image PNG [--page N --rect X1,Y1,X2,Y2]`: a visible seal (see
    /// [`crate::seal`]); none: an invisible signature.
    pub seal: Option<std::sync::Arc<crate::seal::Seal>>,
}

/// Whether the file at `p` starts with `%PDF-`.
pub fn is_pdf_file(p: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 5];
    std::fs::File::open(p)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && &head == b"%PDF-"
}

/// Where the signed PDF for `input` goes: `--out`, the input's name under `--out-dir`, the
/// input itself with `--in-place`, else `NAME-signed.pdf` beside it (`suffix` = `signed`).
pub fn pdf_output_path(
    out: Option<&Path>,
    out_dir: Option<&Path>,
    in_place: bool,
    input: &Path,
    suffix: &str,
) -> PathBuf {
    if let Some(o) = out {
        return o.to_owned();
    }
    if in_place {
        return input.to_owned();
    }
    if let Some(d) = out_dir {
        return d.join(input.file_name().unwrap_or_default());
    }
    let stem = input.file_stem().unwrap_or_default().to_string_lossy();
    let ext = input
        .extension()
        .map_or_else(|| "pdf".into(), |e| e.to_string_lossy().into_owned());
    input.with_file_name(format!("{stem}-{suffix}.{ext}"))
}
