//! The `inkan-sign` command line, parsed with clap in the
//! convention of [`inkan_profiles::cli`].
//!
//! Flags beyond the contract (additions, nothing of it changes):
//! - `--no-fetch` (sign and extend): B-LT uses only the `--crl`/`--ocsp` files given; without
//!   it, a certificate that no given CRL/OCSP response covers gets an OCSP response from the
//!   responder named in its authorityInfoAccess, or else its CRL from its CRL distribution
//!   point (http:// or https://, system trust store), validated, then embedded.
//! - `extend --cert-chain PEM`: certificates the signature does not carry (typically the chain
//!   of another signer's `openssl cms -sign -cades` output), used to build the paths whose
//!   certificates and revocation data B-LT embeds.
//! - How to reach the TSA (sign and extend; see [`crate::tsa_client`]): `--tsa` takes
//!   `https://` URLs as well as `http://`; `--tsa-ca PEM` trusts only those CAs for the TSA's TLS
//!   certificate (default: the system store); `--tsa-user USER` with `--tsa-password-env VAR`
//!   sends HTTP Basic credentials, the password read from the environment variable VAR (never
//!   from the command line; refused over http:// unless the host is loopback);
//!   `--tsa-client-cert PEM` with `--tsa-client-key PEM` (PKCS#8) authenticates with a TLS
//!   client certificate (https:// only).
//! - `--proxy URL|none` (sign and extend): the HTTP proxy for every outbound request (TSA,
//!   OCSP, CRL), overriding `https_proxy`/`HTTPS_PROXY`, `http_proxy`/`HTTP_PROXY`; `none`
//!   turns proxies off. `no_proxy`/`NO_PROXY` still apply. See [`crate::proxy`]. A password
//!   in `--proxy` is visible to other local users in the process list (as any argument is);
//!   the help says to prefer the environment variables for credentials.
//! - `--commitment-type TYPE` (sign): adds a commitment-type-indication signed attribute
//!   (EN 319 122-1 §5.2.3; see [`crate::commitment`]).
//! - `--seal-image PNG --page N --rect X1,Y1,X2,Y2` (sign, PDFs): a visible seal in the new
//!   signature field's appearance, or with `--field NAME` in the box of that empty field (see
//!   [`crate::seal`]); invisible without it.
//! - `--progress-every SECONDS` (sign): how often a progress line is printed when standard
//!   error is not a terminal (default 5; 0: never).
//!
//! The contract's batch flags (`--force`, `--skip-existing`, `--report FILE`,
//! `--tsa-timeout SECONDS`) are parsed here and applied in [`crate::plan`],
//! [`crate::report`] and [`crate::sign::sign_files`].

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand};
use inkan_profiles::cli::{OPTIONS, Stop, usage_line};

use crate::cades::Level;
use crate::sign::{ExtendOptions, Options};
use crate::tsa_client::TsaAccess;

/// The notes after the options of `inkan-sign --help`.
const NOTES: &str = "\
A problem that affects every input (the TSA or an OCSP/CRL server unreachable or
unusable, the key failing, a chain that cannot be completed) stops the batch early with
one message; inputs not signed are reported as failed.

Exit status: 0 every input signed or skipped, 1 some input failed, 64 usage (also a batch
refused because two inputs would write the same output), 66 a CRL/OCSP/TSA access file
unreadable, 69 the TSA (or an OCSP responder or CRL server) unavailable, 70 internal error,
77 key, PIN or certificate refused (also the TSA refusing our credentials).";

/// The heading of the PDF options.
const PDF: &str =
    "PDF (an input starting with %PDF- is signed inside itself: PAdES, ETSI EN 319 142-1, as an
incremental update; B-LT adds a DSS revision, B-LTA then a document time-stamp;
output NAME-signed.pdf, or --out / --out-dir)";

/// The heading of the TSA access options.
const TSA_ACCESS: &str = "TSA ACCESS (inkan extensions; sign and extend)";

/// The `inkan-sign` command line (`--help` is generated from it; see [`command`]).
#[derive(Debug, Parser)]
#[command(
    name = "inkan-sign",
    version,
    about = "inkan-sign: e-seals as CAdES (ETSI EN 319 122-1) or, in PDFs, PAdES (EN 319 142-1), B-B to B-LTA",
    override_usage = "  inkan-sign --key KEYREF --cert-chain PEM [--level B-B|B-T|B-LT|B-LTA] [--tsa URL]
             [--attached] [--out FILE | --out-dir DIR] [--crl FILE]... [--ocsp FILE]...
             [--force | --skip-existing] [--report FILE] [--tsa-timeout SECONDS]
             [--progress-every SECONDS] [--no-fetch] [--proxy URL|none]
             [--commitment-type TYPE] [TSA ACCESS] FILE...
  inkan-sign extend --level B-T|B-LT|B-LTA [--tsa URL] [--crl FILE]... [--ocsp FILE]...
             [--cert-chain PEM] [--no-fetch] [--proxy URL|none] [TSA ACCESS]
             [--tsa-timeout SECONDS] [--data FILE] [--out FILE] SIGNATURE_FILE
  inkan-sign timestamp --tsa URL [--out FILE | --out-dir DIR | --in-place]
             [--force | --skip-existing] [--report FILE] [--tsa-timeout SECONDS]
             [--proxy URL|none] [TSA ACCESS] FILE...
                     a PDF gets a document time-stamp (NAME-timestamped.pdf); any other
                     file gets FILE.tsr, the TSA's TimeStampResp; no key needed",
    after_help = NOTES,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
struct CommandLine {
    #[command(subcommand)]
    sub: Option<Sub>,
    #[command(flatten)]
    sign: SignArgs,
}

#[derive(Debug, Subcommand)]
enum Sub {
    /// raise a signature to B-T, B-LT or B-LTA (the signed attributes are kept byte for byte)
    #[command(
        override_usage = "  inkan-sign extend --level B-T|B-LT|B-LTA [--tsa URL] [--crl FILE]... [--ocsp FILE]...
             [--cert-chain PEM] [--no-fetch] [--proxy URL|none] [TSA ACCESS]
             [--tsa-timeout SECONDS] [--data FILE] [--out FILE] SIGNATURE_FILE",
        after_help = NOTES
    )]
    Extend(ExtendArgs),
    /// a PDF gets a document time-stamp (NAME-timestamped.pdf); any other file gets FILE.tsr,
    /// the TSA's TimeStampResp; no key needed
    #[command(
        override_usage = "  inkan-sign timestamp --tsa URL [--out FILE | --out-dir DIR | --in-place]
             [--force | --skip-existing] [--report FILE] [--tsa-timeout SECONDS]
             [--proxy URL|none] [TSA ACCESS] FILE...",
        after_help = NOTES
    )]
    Timestamp(TimestampArgs),
}

/// `--level`: B-B, B-T, B-LT or B-LTA, in any case.
fn level_parser() -> impl clap::builder::TypedValueParser<Value = Level> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(["B-B", "B-T", "B-LT", "B-LTA"])
        .try_map(|s| Level::parse(&s).ok_or("B-B, B-T, B-LT or B-LTA"))
}

/// `--tsa-timeout SECONDS`: above 0, at most a day (fractions allowed).
fn tsa_timeout(s: &str) -> Result<std::time::Duration, String> {
    seconds(s, false)
}

/// `--progress-every SECONDS`: 0 (never) to a day.
fn progress_every(s: &str) -> Result<std::time::Duration, String> {
    seconds(s, true)
}

/// A number of seconds (fractions allowed), at most a day; 0 only when `zero_ok`.
fn seconds(s: &str, zero_ok: bool) -> Result<std::time::Duration, String> {
    let range = if zero_ok {
        "a number of seconds from 0 to 86400"
    } else {
        "a number of seconds above 0, at most 86400"
    };
    let n: f64 = s.trim().parse().map_err(|_| range.to_owned())?;
    if !n.is_finite() || n < 0.0 || (n == 0.0 && !zero_ok) || n > 86_400.0 {
        return Err(range.to_owned());
    }
    Ok(std::time::Duration::from_secs_f64(n))
}

/// `--page N`: from 1.
fn page(s: &str) -> Result<u32, String> {
    s.parse::<u32>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| "a page number from 1".to_owned())
}

/// `--commitment-type TYPE`.
fn commitment(s: &str) -> Result<crate::commitment::Commitment, String> {
    crate::commitment::Commitment::parse(s).ok_or_else(|| {
        format!(
            "unknown commitment type ({})",
            crate::commitment::Commitment::names()
        )
    })
}

/// How to reach the TSA (inkan extensions), shared by sign, extend and timestamp.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = TSA_ACCESS)]
struct AccessArgs {
    /// trust only the CA certificates in PEM for the TSA's TLS certificate (default: the
    /// system trust store). TLS 1.2/1.3; the certificate and the host name are always checked
    #[arg(long, value_name = "PEM")]
    tsa_ca: Option<PathBuf>,
    /// HTTP Basic user name; needs --tsa-password-env
    #[arg(long, value_name = "USER")]
    tsa_user: Option<String>,
    /// read the Basic password from the environment variable VAR (never given on the command
    /// line, never printed). Basic credentials go over https:// only, or over http:// to a
    /// loopback address
    #[arg(long, value_name = "VAR")]
    tsa_password_env: Option<String>,
    /// TLS client certificate (leaf first, then its chain); https:// only
    #[arg(long, value_name = "PEM")]
    tsa_client_cert: Option<PathBuf>,
    /// its private key, PKCS#8 (-----BEGIN PRIVATE KEY-----)
    #[arg(long, value_name = "PEM")]
    tsa_client_key: Option<PathBuf>,
    /// Refused, without echoing what follows (it may be a password): see --tsa-password-env.
    #[arg(long, hide = true, num_args = 0..=1, value_name = "NEVER")]
    tsa_password: Option<Option<String>>,
    /// (inkan extension) the HTTP proxy for every request (TSA, OCSP, CRL):
    /// http://[USER:PASSWORD@]HOST:PORT (no https:// to the proxy, no SOCKS); https:// targets
    /// through a CONNECT tunnel, TLS end to end. Overrides the environment; none: no proxy.
    /// Without it: https_proxy or HTTPS_PROXY for https:// targets, http_proxy for http://
    /// (HTTP_PROXY too, except in CGI, when REQUEST_METHOD is set). no_proxy/NO_PROXY
    /// (comma-separated: host and its subdomains, .domain, IP address, CIDR network, *) are
    /// reached directly, and so is loopback (localhost, 127.0.0.0/8, ::1), always. A password
    /// in --proxy shows in the process list: prefer the variables
    #[arg(long, value_name = "URL|none", help_heading = OPTIONS)]
    proxy: Option<String>,
    /// bound on each exchange with the TSA, connection included (default 30); a failed or
    /// timed-out exchange is tried once more after a short pause, then the batch stops with
    /// one message
    #[arg(long, value_name = "SECONDS", value_parser = tsa_timeout, help_heading = OPTIONS)]
    tsa_timeout: Option<std::time::Duration>,
}

impl AccessArgs {
    /// The TSA access and the proxy, checked (`tsa`: whether `--tsa` was given).
    fn resolve(
        self,
        tsa: bool,
    ) -> Result<
        (
            TsaAccess,
            crate::proxy::ProxyChoice,
            Option<std::time::Duration>,
        ),
        String,
    > {
        if self.tsa_password.is_some() {
            // Not even echoed back: the value that follows may be a password.
            return Err(
                "a password is never given on the command line: put it in an \
                        environment variable and name it with --tsa-password-env VAR"
                    .into(),
            );
        }
        let access = TsaAccess {
            ca: self.tsa_ca,
            user: self.tsa_user,
            password_env: self.tsa_password_env,
            client_cert: self.tsa_client_cert,
            client_key: self.tsa_client_key,
        };
        if access.is_set() && !tsa {
            return Err("the --tsa-* access flags need --tsa URL".into());
        }
        access.check().map_err(|e| e.to_string())?;
        let proxy = match self.proxy {
            None => crate::proxy::ProxyChoice::Environment,
            Some(v) if v.eq_ignore_ascii_case("none") => crate::proxy::ProxyChoice::Off,
            Some(v) => {
                // Checked here, not by clap, whose message would repeat the URL (it may hold a
                // password).
                crate::proxy::Proxy::parse(&v, "--proxy").map_err(|e| e.to_string())?;
                crate::proxy::ProxyChoice::Url(crate::proxy::ProxyUrlText(v))
            }
        };
        Ok((access, proxy, self.tsa_timeout))
    }
}

/// The flags of signing (the command without a subcommand).
#[derive(Debug, clap::Args)]
#[command(next_help_heading = OPTIONS)]
struct SignArgs {
    /// the files to sign
    #[arg(value_name = "FILE", required = true, help_heading = "ARGUMENTS")]
    files: Vec<PathBuf>,
    /// PKCS#8 PEM file, or pkcs11: URI (RFC 7512; PIN via pin-source/pin-value)
    #[arg(long, value_name = "KEYREF", required = true)]
    key: Option<String>,
    /// signer certificate and its chain
    #[arg(long, value_name = "PEM", required = true)]
    cert_chain: Option<PathBuf>,
    /// B-B (default), B-T, B-LT or B-LTA (any case: b-lt works)
    #[arg(long, value_name = "LEVEL", value_parser = level_parser(), ignore_case = true, hide_possible_values = true)]
    level: Option<Level>,
    /// RFC 3161 time-stamp authority (http:// or https://), needed from B-T up
    #[arg(long, value_name = "URL")]
    tsa: Option<String>,
    /// encapsulate the content (default: detached)
    #[arg(long)]
    attached: bool,
    /// output file (one input only); default FILE.p7s beside each input
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// write FILE.p7s into DIR (made if it does not exist)
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// replace outputs that exist (atomically)
    #[arg(long)]
    force: bool,
    /// leave outputs that exist, count their inputs as skipped (no new signature, no new
    /// time-stamp): re-run a batch to retry its failures. Without either, an input whose
    /// output exists fails and the output is left as it is. Before anything is signed, a
    /// batch in which two inputs would write the same output is refused, naming them; a file
    /// named twice is signed once. A signature or time-stamp file (.p7s, .p7m, .tsr) is
    /// signed only when named on its own (the only input); in a batch it is skipped with a
    /// notice
    #[arg(long)]
    skip_existing: bool,
    /// write one JSON line per input (input, output, status signed|skipped|failed, level,
    /// error) and a summary line with the counts (signed, skipped, failed)
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// (inkan extension) when standard error is not a terminal (a job log), a progress line
    /// this often: done/total, signed, skipped, failed, files/s (default 5; 0: none). On a
    /// terminal: a progress bar
    #[arg(long, value_name = "SECONDS", value_parser = progress_every)]
    progress_every: Option<std::time::Duration>,
    /// CRL (DER or PEM) for B-LT; repeatable
    #[arg(long, value_name = "FILE")]
    crl: Vec<PathBuf>,
    /// OCSP response (DER) for B-LT; repeatable
    #[arg(long, value_name = "FILE")]
    ocsp: Vec<PathBuf>,
    /// (inkan extension) never use the network for B-LT: only --crl/--ocsp files; a missing
    /// CRL/OCSP is an error instead of asking the certificate's OCSP responder
    /// (authorityInfoAccess) or fetching its CRL distribution point
    #[arg(long)]
    no_fetch: bool,
    /// (inkan extension) what the seal commits to, as a signed commitment-type-indication
    /// (EN 319 122-1): origin (the usual one for an e-seal: this organisation issued it),
    /// receipt, delivery, sender, approval or creation; none by default
    #[arg(long, value_name = "TYPE", value_parser = commitment)]
    commitment_type: Vec<crate::commitment::Commitment>,
    /// the empty signature field to sign, or the name of the new one (default: a new
    /// invisible field Signature1, Signature2, ...)
    #[arg(long, value_name = "NAME", help_heading = PDF)]
    field: Option<String>,
    /// replace the input PDF atomically
    #[arg(long, help_heading = PDF)]
    in_place: bool,
    /// make a detached FILE.p7s of a PDF instead of signing inside it
    #[arg(long, help_heading = PDF)]
    cades: bool,
    /// (inkan extension) a visible seal: the organisation's seal image (角印) drawn in the new
    /// signature field on the page, its aspect ratio kept; without it the signature is
    /// invisible. PNG, 8 bits per sample (grey, RGB, palette, with or without alpha;
    /// transparency is kept), not interlaced, at most 8192x8192 pixels and 16 MiB. With
    /// --field NAME of an empty signature field the PDF has (a form's seal box), the seal
    /// fills that field's box; otherwise give --rect (and --page)
    #[arg(long, value_name = "PNG", help_heading = PDF)]
    seal_image: Option<PathBuf>,
    /// (with --seal-image) the page the seal goes on, from 1 (default 1)
    #[arg(long, value_name = "N", value_parser = page, help_heading = PDF)]
    page: Option<u32>,
    /// (with --seal-image) where: lower-left and upper-right corners in points (1/72 inch)
    /// from the page's lower-left corner, within the page; e.g. --rect 400,650,520,770 for a
    /// 120-point seal near the top right of an A4 page
    #[arg(long, value_name = "X1,Y1,X2,Y2", value_parser = crate::seal::parse_rect, help_heading = PDF)]
    rect: Option<[f64; 4]>,
    #[command(flatten)]
    access: AccessArgs,
}

/// The flags of `extend`.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = OPTIONS)]
struct ExtendArgs {
    /// the signature to raise (replaced atomically unless --out)
    #[arg(value_name = "SIGNATURE_FILE", help_heading = "ARGUMENTS")]
    signature: PathBuf,
    /// B-T, B-LT or B-LTA (any case)
    #[arg(long, value_name = "LEVEL", value_parser = level_parser(), ignore_case = true, hide_possible_values = true, required = true)]
    level: Option<Level>,
    /// RFC 3161 time-stamp authority (http:// or https://)
    #[arg(long, value_name = "URL")]
    tsa: Option<String>,
    /// CRL (DER or PEM) for B-LT; repeatable
    #[arg(long, value_name = "FILE")]
    crl: Vec<PathBuf>,
    /// OCSP response (DER) for B-LT; repeatable
    #[arg(long, value_name = "FILE")]
    ocsp: Vec<PathBuf>,
    /// (an inkan extension) certificates the signature lacks (e.g. the signer's chain of
    /// another signer's CAdES), used to build paths for B-LT and embedded in the result
    #[arg(long, value_name = "PEM")]
    cert_chain: Option<PathBuf>,
    /// (inkan extension) never use the network for B-LT: only --crl/--ocsp files
    #[arg(long)]
    no_fetch: bool,
    /// the detached content, needed for B-LTA
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// write the result here instead of replacing SIGNATURE_FILE
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    #[command(flatten)]
    access: AccessArgs,
}

/// The flags of `timestamp`.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = OPTIONS)]
struct TimestampArgs {
    /// the files to time-stamp
    #[arg(value_name = "FILE", required = true, help_heading = "ARGUMENTS")]
    files: Vec<PathBuf>,
    /// RFC 3161 time-stamp authority (http:// or https://)
    #[arg(long, value_name = "URL", required = true)]
    tsa: Option<String>,
    /// output file (one input only)
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// write the outputs into DIR (made if it does not exist)
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// replace the input PDF atomically
    #[arg(long)]
    in_place: bool,
    /// replace outputs that exist (atomically)
    #[arg(long)]
    force: bool,
    /// leave outputs that exist, count their inputs as skipped
    #[arg(long)]
    skip_existing: bool,
    /// write one JSON line per input and a summary line
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    #[command(flatten)]
    access: AccessArgs,
}

/// The command-line definition of `inkan-sign` in the house layout
/// ([`inkan_profiles::cli::convention`]): what `--help`, the shell completions and the manual
/// page are generated from.
pub fn command() -> clap::Command {
    inkan_profiles::cli::convention(CommandLine::command())
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Command {
    /// Sign files; write the report to the path, if given.
    Sign(Options, Vec<PathBuf>, Option<PathBuf>),
    /// Extend a signature.
    Extend(ExtendOptions, PathBuf),
    /// Time-stamp files (`inkan-sign timestamp`, see [`crate::timestamp`]).
    Timestamp(
        crate::timestamp::TimestampOptions,
        Vec<PathBuf>,
        Option<PathBuf>,
    ),
}

/// `--force` / `--skip-existing`.
fn existing(force: bool, skip: bool) -> Result<crate::sign::Existing, String> {
    Ok(match (force, skip) {
        (true, true) => return Err("--force and --skip-existing exclude each other".into()),
        (true, false) => crate::sign::Existing::Replace,
        (false, true) => crate::sign::Existing::Skip,
        (false, false) => crate::sign::Existing::Refuse,
    })
}

/// Parses arguments (without the program name): a command, or the help, the version or a
/// usage error to print ([`Stop::finish`]).
pub fn parse<I: IntoIterator<Item = OsString>>(args: I) -> Result<Command, Stop> {
    let c: CommandLine = inkan_profiles::cli::parse(command(), args)?;
    let checked = match c.sub {
        Some(Sub::Extend(a)) => extend(a),
        Some(Sub::Timestamp(a)) => timestamp(a),
        None => sign(c.sign),
    };
    checked.map_err(|m| Stop::Usage(usage_line("inkan-sign", &m)))
}

fn timestamp(a: TimestampArgs) -> Result<Command, String> {
    let (access, proxy, tsa_timeout) = a.access.resolve(a.tsa.is_some())?;
    let tsa = a.tsa.ok_or("timestamp needs --tsa URL")?;
    if a.out.is_some() && (a.out_dir.is_some() || a.files.len() > 1) {
        return Err("--out takes one input file and excludes --out-dir".into());
    }
    if a.in_place && (a.out.is_some() || a.out_dir.is_some()) {
        return Err("--in-place excludes --out and --out-dir".into());
    }
    let mut o = crate::timestamp::TimestampOptions::new(&tsa);
    o.out = a.out;
    o.out_dir = a.out_dir;
    o.in_place = a.in_place;
    o.tsa_access = access;
    o.proxy = proxy;
    o.existing = existing(a.force, a.skip_existing)?;
    if let Some(t) = tsa_timeout {
        o.tsa_timeout = t;
    }
    Ok(Command::Timestamp(o, a.files, a.report))
}

fn extend(a: ExtendArgs) -> Result<Command, String> {
    let (access, proxy, tsa_timeout) = a.access.resolve(a.tsa.is_some())?;
    let level = a.level.ok_or("extend needs --level B-T|B-LT|B-LTA")?;
    if level == Level::BB {
        return Err("extend raises to B-T, B-LT or B-LTA".into());
    }
    let mut o = ExtendOptions::new(level);
    o.tsa = a.tsa;
    o.crls = a.crl;
    o.ocsps = a.ocsp;
    o.cert_chain = a.cert_chain;
    o.data = a.data;
    o.out = a.out;
    o.fetch = !a.no_fetch;
    o.tsa_access = access;
    o.proxy = proxy;
    if let Some(t) = tsa_timeout {
        o.tsa_timeout = t;
    }
    Ok(Command::Extend(o, a.signature))
}

fn sign(a: SignArgs) -> Result<Command, String> {
    let (access, proxy, tsa_timeout) = a.access.resolve(a.tsa.is_some())?;
    let [commitment] = match <[_; 1]>::try_from(a.commitment_type) {
        Ok(one) => one.map(Some),
        Err(v) if v.is_empty() => [None],
        Err(_) => return Err("--commitment-type is given once".into()),
    };
    let mut pdf = crate::pades::PdfOptions {
        field: a.field,
        in_place: a.in_place,
        cades: a.cades,
        ..crate::pades::PdfOptions::default()
    };
    let seal_flags = a.seal_image.is_some() || a.page.is_some() || a.rect.is_some();
    if seal_flags && pdf.cades {
        return Err("--seal-image draws a seal inside a PDF; --cades makes a detached .p7s".into());
    }
    match a.seal_image {
        Some(_) if a.rect.is_none() && pdf.field.is_none() => {
            return Err(
                "--seal-image needs --rect X1,Y1,X2,Y2 (where on the page, in points), \
                 or --field NAME of an empty signature field to draw it in"
                    .into(),
            );
        }
        Some(_) if a.page.is_some() && a.rect.is_none() => {
            return Err("--page goes with --rect X1,Y1,X2,Y2".into());
        }
        Some(image) => {
            pdf.seal = Some(std::sync::Arc::new(crate::seal::Seal::new(
                crate::seal::load_png(&image)?,
                a.page,
                a.rect,
            )));
        }
        None if seal_flags => {
            return Err("--page and --rect place a visible seal: give --seal-image PNG".into());
        }
        None => {}
    }
    let key = a.key.ok_or("--key KEYREF is required")?;
    let chain = a.cert_chain.ok_or("--cert-chain PEM is required")?;
    if a.files.is_empty() {
        return Err("no input FILE".into());
    }
    if a.out.is_some() && a.out_dir.is_some() {
        return Err("--out and --out-dir exclude each other".into());
    }
    if a.out.is_some() && a.files.len() > 1 {
        return Err("--out takes one input file; use --out-dir".into());
    }
    let existing = existing(a.force, a.skip_existing)?;
    let mut o = Options::new(&key, &chain);
    o.level = a.level.unwrap_or(Level::BB);
    o.tsa = a.tsa;
    o.attached = a.attached;
    o.out = a.out;
    o.out_dir = a.out_dir;
    o.crls = a.crl;
    o.ocsps = a.ocsp;
    o.fetch = !a.no_fetch;
    o.tsa_access = access;
    o.proxy = proxy;
    o.commitment = commitment;
    if pdf.in_place && (o.out.is_some() || o.out_dir.is_some()) {
        return Err("--in-place excludes --out and --out-dir".into());
    }
    o.pdf = pdf;
    o.existing = existing;
    if let Some(t) = tsa_timeout {
        o.tsa_timeout = t;
    }
    if let Some(t) = a.progress_every {
        o.progress_every = t;
    }
    Ok(Command::Sign(o, a.files, a.report))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<OsString> {
        s.split_whitespace().map(OsString::from).collect()
    }

    #[test]
    fn commitment_type() {
        let Command::Sign(o, _, _) =
            parse(args("--key k --cert-chain c --commitment-type origin a")).unwrap()
        else {
            panic!()
        };
        assert_eq!(o.commitment, crate::commitment::Commitment::parse("origin"));
        assert!(o.commitment.is_some());
        assert!(parse(args("--key k --cert-chain c --commitment-type nonsense a")).is_err());
        assert!(
            parse(args(
                "--key k --cert-chain c --commitment-type origin --commitment-type approval a"
            ))
            .is_err()
        );
        assert!(
            parse(args(
                "extend --level B-T --tsa http://x/ --commitment-type origin s"
            ))
            .is_err()
        );
    }

    #[test]
    fn sign_defaults() {
        let Command::Sign(o, f, _) = parse(args("--key k.pem --cert-chain c.pem a b")).unwrap()
        else {
            panic!()
        };
        assert_eq!(o.level, Level::BB);
        assert!(!o.attached);
        assert_eq!(o.existing, crate::sign::Existing::Refuse);
        assert_eq!(f.len(), 2);
        let Command::Sign(o, _, _) = parse(args("--key k --cert-chain c --force a")).unwrap()
        else {
            panic!()
        };
        assert_eq!(o.existing, crate::sign::Existing::Replace);
        let Command::Sign(o, _, _) =
            parse(args("--key k --cert-chain c --skip-existing a")).unwrap()
        else {
            panic!()
        };
        assert_eq!(o.existing, crate::sign::Existing::Skip);
    }

    #[test]
    fn report_and_timeouts() {
        let Command::Sign(o, _, r) = parse(args(
            "--key k --cert-chain c --report r.jsonl --tsa-timeout 2.5 --progress-every 0 a",
        ))
        .unwrap() else {
            panic!()
        };
        assert_eq!(r, Some(PathBuf::from("r.jsonl")));
        assert_eq!(o.tsa_timeout, std::time::Duration::from_millis(2500));
        assert_eq!(o.progress_every, std::time::Duration::ZERO);
        for bad in ["0", "-1", "x", "NaN", "1e9"] {
            assert!(
                parse(args(&format!(
                    "--key k --cert-chain c --tsa-timeout {bad} a"
                )))
                .is_err(),
                "{bad}"
            );
        }
        let Command::Extend(o, _) =
            parse(args("extend --level B-T --tsa http://t/ --tsa-timeout 3 s")).unwrap()
        else {
            panic!()
        };
        assert_eq!(o.tsa_timeout, std::time::Duration::from_secs(3));
        assert!(parse(args("extend --level B-T --tsa http://t/ --report r s")).is_err());
    }

    #[test]
    fn extend_form() {
        let Command::Extend(o, s) = parse(args(
            "extend --level B-LTA --tsa http://x/ --data d --crl c s.p7s",
        ))
        .unwrap() else {
            panic!()
        };
        assert_eq!(o.level, Level::BLTA);
        assert_eq!(o.crls.len(), 1);
        assert_eq!(s, PathBuf::from("s.p7s"));
    }

    #[test]
    fn usage_errors() {
        for a in [
            "--cert-chain c a",
            "--key k a",
            "--key k --cert-chain c",
            "--key k --cert-chain c --level B-X a",
            "--key k --cert-chain c --out o a b",
            "--key k --cert-chain c --force --skip-existing a",
            "extend --level B-T --tsa http://t/ --force s",
            "extend --level B-B s",
            "extend s",
            "extend --level B-T a b",
            "--key k --cert-chain c --bogus a",
            "--key k --cert-chain c --tsa-user u a",
            "--key k --cert-chain c --tsa https://t/ --tsa-user u a",
            "--key k --cert-chain c --tsa https://t/ --tsa-password-env V a",
            "--key k --cert-chain c --tsa https://t/ --tsa-client-cert c.pem a",
            "--key k --cert-chain c --tsa https://t/ --tsa-client-key k.pem a",
            "extend --level B-T --tsa-ca ca.pem s",
        ] {
            assert!(parse(args(a)).is_err(), "{a}");
        }
        assert!(matches!(parse(args("--help")), Err(Stop::Print(_))));
        // A password on the command line is refused without being echoed.
        for a in [
            "--key k --cert-chain c --tsa-password=hunter2 a",
            "timestamp --tsa http://t/ --tsa-password hunter2 a",
            "extend --level B-T --tsa http://t/ s --tsa-password=hunter2",
        ] {
            let e = parse(args(a)).unwrap_err().to_string();
            assert!(
                e.contains("--tsa-password-env") && !e.contains("hunter2"),
                "{e}"
            );
        }
        let e = parse(args("--key k --cert-chain c --tsa-password hunter2 a"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("--tsa-password-env") && !e.contains("hunter2"),
            "{e}"
        );
    }

    #[test]
    fn tsa_access_flags() {
        let Command::Sign(o, _, _) = parse(args(
            "--key k --cert-chain c --level B-T --tsa https://t/ --tsa-ca ca.pem \
             --tsa-user alice --tsa-password-env PW --tsa-client-cert c.pem \
             --tsa-client-key k.pem a",
        ))
        .unwrap() else {
            panic!()
        };
        assert_eq!(o.tsa_access.ca, Some(PathBuf::from("ca.pem")));
        assert_eq!(o.tsa_access.user.as_deref(), Some("alice"));
        assert_eq!(o.tsa_access.password_env.as_deref(), Some("PW"));
        assert_eq!(o.tsa_access.client_key, Some(PathBuf::from("k.pem")));
        let Command::Extend(o, _) = parse(args(
            "extend --level B-T --tsa https://t/ --tsa-user bob --tsa-password-env PW s",
        ))
        .unwrap() else {
            panic!()
        };
        assert_eq!(o.tsa_access.user.as_deref(), Some("bob"));
        let Command::Sign(o, _, _) = parse(args("--key k --cert-chain c --proxy NONE a")).unwrap()
        else {
            panic!()
        };
        assert_eq!(o.proxy, crate::proxy::ProxyChoice::Off);
        let Command::Extend(o, _) = parse(args(
            "extend --level B-T --tsa http://t/ --proxy http://u:pw9@p:3128 s",
        ))
        .unwrap() else {
            panic!()
        };
        assert!(matches!(o.proxy, crate::proxy::ProxyChoice::Url(_)));
        assert!(!format!("{o:?}").contains("pw9"));
        let e = parse(args("--key k --cert-chain c --proxy socks5://u:pw9@p:1 a"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("--proxy") && !e.contains("pw9"), "{e}");
        assert!(matches!(parse(args("-V")), Err(Stop::Print(_))));
    }
}
