//! The `inkan-sign` command line (INTERFACE.md, "inkan-sign"), parsed with lexopt.
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

use crate::cades::Level;
use crate::sign::{ExtendOptions, Options};
use crate::tsa_client::TsaAccess;

/// The help text.
pub const HELP: &str = "\
inkan-sign: e-seals as CAdES (ETSI EN 319 122-1) or, in PDFs, PAdES (EN 319 142-1), B-B to B-LTA

USAGE:
  inkan-sign --key KEYREF --cert-chain PEM [--level B-B|B-T|B-LT|B-LTA] [--tsa URL]
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
                     file gets FILE.tsr, the TSA's TimeStampResp; no key needed

OPTIONS:
  --key KEYREF       PKCS#8 PEM file, or pkcs11: URI (RFC 7512; PIN via pin-source/pin-value)
  --cert-chain PEM   signer certificate and its chain. With extend (an inkan extension):
                     certificates the signature lacks (e.g. the signer's
                     chain of another signer's CAdES), used to build paths for B-LT and
                     embedded in the result
  --level LEVEL      B-B (default), B-T, B-LT or B-LTA (any case: b-lt works)
  --tsa URL          RFC 3161 time-stamp authority (http:// or https://), needed from
                     B-T up
  --attached         encapsulate the content (default: detached)
  --out FILE         output file (one input only); default FILE.p7s beside each input
  --out-dir DIR      write FILE.p7s into DIR (made if it does not exist)
  --force            replace outputs that exist (atomically)
  --skip-existing    leave outputs that exist, count their inputs as skipped (no new
                     signature, no new time-stamp): re-run a batch to retry its failures
                     Without either, an input whose output exists fails and the output is
                     left as it is. Before anything is signed, a batch in which two inputs
                     would write the same output is refused, naming them; a file named
                     twice is signed once. A signature or time-stamp file (.p7s, .p7m,
                     .tsr) is signed only when named on its own (the only input); in a
                     batch it is skipped with a notice
  --report FILE      write one JSON line per input (input, output, status
                     signed|skipped|failed, level, error) and a summary line
                     with the counts (signed, skipped, failed)
  --tsa-timeout SECONDS
                     bound on each exchange with the TSA, connection included (default
                     30); a failed or timed-out exchange is tried once more after a
                     short pause, then the batch stops with one message
  --progress-every SECONDS
                     (inkan extension) when standard error is not a
                     terminal (a job log), a progress line this often: done/total,
                     signed, skipped, failed, files/s (default 5; 0: none). On a
                     terminal: a progress bar
  --crl FILE         CRL (DER or PEM) for B-LT; repeatable
  --ocsp FILE        OCSP response (DER) for B-LT; repeatable
  --no-fetch         (inkan extension) never use the network for B-LT:
                     only --crl/--ocsp files; a missing CRL/OCSP is an error instead of
                     asking the certificate's OCSP responder (authorityInfoAccess)
                     or fetching its CRL distribution point
  --data FILE        (extend) the detached content, needed for B-LTA

PDF (an input starting with %PDF- is signed inside itself: PAdES, ETSI EN 319 142-1, as an
incremental update; B-LT adds a DSS revision, B-LTA then a document time-stamp;
output NAME-signed.pdf, or --out / --out-dir):
  --field NAME       the empty signature field to sign, or the name of the new one
                     (default: a new invisible field Signature1, Signature2, ...)
  --in-place         replace the input PDF atomically
  --cades            make a detached FILE.p7s of a PDF instead of signing inside it
  --seal-image PNG   (inkan extension) a visible seal: the organisation's
                     seal image (角印) drawn in the new signature field on the page, its
                     aspect ratio kept; without it the signature is invisible. PNG, 8 bits
                     per sample (grey, RGB, palette, with or without alpha; transparency
                     is kept), not interlaced, at most 8192x8192 pixels and 16 MiB.
                     With --field NAME of an empty signature field the PDF has (a
                     form's seal box), the seal fills that field's box; otherwise
                     give --rect (and --page)
  --page N           (with --seal-image) the page the seal goes on, from 1 (default 1)
  --rect X1,Y1,X2,Y2 (with --seal-image) where: lower-left and upper-right corners in
                     points (1/72 inch) from the page's lower-left corner, within the
                     page; e.g. --rect 400,650,520,770 for a 120-point seal near the
                     top right of an A4 page
  --commitment-type TYPE
                     (inkan extension) what the seal commits to, as a signed
                     commitment-type-indication (EN 319 122-1): origin (the usual one
                     for an e-seal: this organisation issued it), receipt, delivery,
                     sender, approval or creation; none by default
  --proxy URL|none   (inkan extension) the HTTP proxy for every request
                     (TSA, OCSP, CRL): http://[USER:PASSWORD@]HOST:PORT (no https:// to
                     the proxy, no SOCKS); https:// targets through a CONNECT tunnel, TLS
                     end to end. Overrides the environment; none: no proxy. Without it:
                     https_proxy or HTTPS_PROXY for https:// targets, http_proxy for
                     http:// (HTTP_PROXY too, except in CGI, when REQUEST_METHOD is set).
                     no_proxy/NO_PROXY (comma-separated: host and its subdomains,
                     .domain, IP address, CIDR network, *) are reached directly, and so
                     is loopback (localhost, 127.0.0.0/8, ::1), always. A password
                     in --proxy shows in the process list: prefer the variables
  -h, --help         this text
  -V, --version      the version

TSA ACCESS (inkan extensions; sign and extend):
  --tsa-ca PEM       trust only the CA certificates in PEM for the TSA's TLS certificate
                     (default: the system trust store). TLS 1.2/1.3; the certificate and
                     the host name are always checked
  --tsa-user USER    HTTP Basic user name; needs --tsa-password-env
  --tsa-password-env VAR
                     read the Basic password from the environment variable VAR (never
                     given on the command line, never printed). Basic credentials go
                     over https:// only, or over http:// to a loopback address
  --tsa-client-cert PEM
                     TLS client certificate (leaf first, then its chain); https:// only
  --tsa-client-key PEM
                     its private key, PKCS#8 (-----BEGIN PRIVATE KEY-----)

A problem that affects every input (the TSA or an OCSP/CRL server unreachable or
unusable, the key failing, a chain that cannot be completed) stops the batch early with
one message; inputs not signed are reported as failed.

Exit status: 0 every input signed or skipped, 1 some input failed, 64 usage (also a batch
refused because two inputs would write the same output), 66 a CRL/OCSP/TSA access file
unreadable, 69 the TSA (or an OCSP responder or CRL server) unavailable, 70 internal error,
77 key, PIN or certificate refused (also the TSA refusing our credentials).
";

/// What the command line asks for.
#[derive(Debug)]
pub enum Command {
    /// Print help.
    Help,
    /// Print the version.
    Version,
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

fn level(v: OsString) -> Result<Level, String> {
    let s = v.to_string_lossy();
    Level::parse(&s).ok_or_else(|| format!("unknown level {s:?} (B-B, B-T, B-LT or B-LTA)"))
}

/// `--tsa-timeout SECONDS` / `--progress-every SECONDS`: a positive number of seconds
/// (fractions allowed), at most a day.
fn seconds(v: OsString, flag: &str, zero_ok: bool) -> Result<std::time::Duration, String> {
    let s = v.to_string_lossy();
    let n: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{flag} takes a number of seconds, not {s:?}"))?;
    if !n.is_finite() || n < 0.0 || (n == 0.0 && !zero_ok) || n > 86_400.0 {
        return Err(format!(
            "{flag} takes a number of seconds {} 86400, not {s:?}",
            if zero_ok {
                "from 0 to"
            } else {
                "above 0, at most"
            }
        ));
    }
    Ok(std::time::Duration::from_secs_f64(n))
}

fn string(v: OsString) -> Result<String, String> {
    v.into_string()
        .map_err(|_| "argument is not valid UTF-8".to_string())
}

/// Parses arguments (without the program name).
pub fn parse<I: IntoIterator<Item = OsString>>(args: I) -> Result<Command, String> {
    use lexopt::prelude::*;
    let mut p = lexopt::Parser::from_args(args);
    let mut key = None;
    let mut chain: Option<PathBuf> = None;
    let mut lvl = None;
    let mut tsa = None;
    let mut attached = false;
    let mut out = None;
    let mut out_dir = None;
    let mut crls = Vec::new();
    let mut ocsps = Vec::new();
    let mut data = None;
    let mut fetch = true;
    let mut access = TsaAccess::default();
    let mut proxy = crate::proxy::ProxyChoice::Environment;
    let mut commitment = None;
    let mut pdf = crate::pades::PdfOptions::default();
    let mut seal_image: Option<PathBuf> = None;
    let mut seal_page: Option<u32> = None;
    let mut seal_rect: Option<[f64; 4]> = None;
    let mut force = false;
    let mut skip_existing = false;
    let mut report = None;
    let mut tsa_timeout = None;
    let mut progress_every = None;
    let mut files: Vec<PathBuf> = Vec::new();
    let mut extend = false;
    let mut timestamp = false;
    let mut first = true;
    let e = |e: lexopt::Error| e.to_string();
    while let Some(arg) = p.next().map_err(e)? {
        match arg {
            Short('h') | Long("help") => return Ok(Command::Help),
            Short('V') | Long("version") => return Ok(Command::Version),
            Long("key") => key = Some(string(p.value().map_err(e)?)?),
            Long("cert-chain") => chain = Some(p.value().map_err(e)?.into()),
            Long("level") => lvl = Some(level(p.value().map_err(e)?)?),
            Long("tsa") => tsa = Some(string(p.value().map_err(e)?)?),
            Long("attached") => attached = true,
            Long("out") => out = Some(PathBuf::from(p.value().map_err(e)?)),
            Long("out-dir") => out_dir = Some(PathBuf::from(p.value().map_err(e)?)),
            Long("crl") => crls.push(PathBuf::from(p.value().map_err(e)?)),
            Long("ocsp") => ocsps.push(PathBuf::from(p.value().map_err(e)?)),
            Long("data") => data = Some(PathBuf::from(p.value().map_err(e)?)),
            Long("no-fetch") => fetch = false,
            Long("field") => pdf.field = Some(string(p.value().map_err(e)?)?),
            Long("in-place") => pdf.in_place = true,
            Long("cades") => pdf.cades = true,
            Long("seal-image") => seal_image = Some(p.value().map_err(e)?.into()),
            Long("page") => {
                let v = string(p.value().map_err(e)?)?;
                seal_page = Some(
                    v.parse::<u32>()
                        .ok()
                        .filter(|n| *n >= 1)
                        .ok_or_else(|| format!("--page {v:?}: a page number from 1"))?,
                );
            }
            Long("rect") => {
                seal_rect = Some(crate::seal::parse_rect(&string(p.value().map_err(e)?)?)?);
            }
            Long("force") => force = true,
            Long("report") => report = Some(PathBuf::from(p.value().map_err(e)?)),
            Long("tsa-timeout") => {
                tsa_timeout = Some(seconds(p.value().map_err(e)?, "--tsa-timeout", false)?);
            }
            Long("progress-every") => {
                progress_every = Some(seconds(p.value().map_err(e)?, "--progress-every", true)?);
            }
            Long("skip-existing") => skip_existing = true,
            Long("proxy") => {
                let v = string(p.value().map_err(e)?)?;
                proxy = if v.eq_ignore_ascii_case("none") {
                    crate::proxy::ProxyChoice::Off
                } else {
                    // Checked now; the error never repeats the URL (it may hold a password).
                    crate::proxy::Proxy::parse(&v, "--proxy").map_err(|e| e.to_string())?;
                    crate::proxy::ProxyChoice::Url(crate::proxy::ProxyUrlText(v))
                };
            }
            Long("commitment-type") => {
                let v = string(p.value().map_err(e)?)?;
                if commitment.is_some() {
                    return Err("--commitment-type is given once".into());
                }
                commitment = Some(crate::commitment::Commitment::parse(&v).ok_or_else(|| {
                    format!(
                        "unknown commitment type {v:?} ({})",
                        crate::commitment::Commitment::names()
                    )
                })?);
            }
            Long("tsa-ca") => access.ca = Some(p.value().map_err(e)?.into()),
            Long("tsa-user") => access.user = Some(string(p.value().map_err(e)?)?),
            Long("tsa-password-env") => {
                access.password_env = Some(string(p.value().map_err(e)?)?);
            }
            Long("tsa-client-cert") => access.client_cert = Some(p.value().map_err(e)?.into()),
            Long("tsa-client-key") => access.client_key = Some(p.value().map_err(e)?.into()),
            Long("tsa-password") => {
                // Not even echoed back: the value that follows may be a password.
                return Err(
                    "a password is never given on the command line: put it in an \
                     environment variable and name it with --tsa-password-env VAR"
                        .into(),
                );
            }
            Value(v) if first && v == "extend" => extend = true,
            Value(v) if first && v == "timestamp" => timestamp = true,
            Value(v) => files.push(v.into()),
            other => return Err(other.unexpected().to_string()),
        }
        first = false;
    }
    if access.is_set() && tsa.is_none() {
        return Err("the --tsa-* access flags need --tsa URL".into());
    }
    access.check().map_err(|e| e.to_string())?;
    let seal_flags = seal_image.is_some() || seal_page.is_some() || seal_rect.is_some();
    if seal_flags && (timestamp || extend) {
        return Err(
            "--seal-image, --page and --rect belong to signing (not extend or timestamp)".into(),
        );
    }
    if seal_flags && pdf.cades {
        return Err("--seal-image draws a seal inside a PDF; --cades makes a detached .p7s".into());
    }
    match seal_image {
        Some(_) if seal_rect.is_none() && pdf.field.is_none() => {
            return Err(
                "--seal-image needs --rect X1,Y1,X2,Y2 (where on the page, in points), \
                 or --field NAME of an empty signature field to draw it in"
                    .into(),
            );
        }
        Some(_) if seal_page.is_some() && seal_rect.is_none() => {
            return Err("--page goes with --rect X1,Y1,X2,Y2".into());
        }
        Some(image) => {
            pdf.seal = Some(std::sync::Arc::new(crate::seal::Seal::new(
                crate::seal::load_png(&image)?,
                seal_page,
                seal_rect,
            )));
        }
        None if seal_flags => {
            return Err("--page and --rect place a visible seal: give --seal-image PNG".into());
        }
        None => {}
    }
    if timestamp {
        let tsa = tsa.ok_or("timestamp needs --tsa URL")?;
        if key.is_some() || chain.is_some() || lvl.is_some() || attached || commitment.is_some() {
            return Err(
                "timestamp takes no --key, --cert-chain, --level, --attached or --commitment-type"
                    .into(),
            );
        }
        if files.is_empty() {
            return Err("no input FILE".into());
        }
        if out.is_some() && (out_dir.is_some() || files.len() > 1) {
            return Err("--out takes one input file and excludes --out-dir".into());
        }
        if pdf.in_place && (out.is_some() || out_dir.is_some()) {
            return Err("--in-place excludes --out and --out-dir".into());
        }
        let mut o = crate::timestamp::TimestampOptions::new(&tsa);
        o.out = out;
        o.out_dir = out_dir;
        o.in_place = pdf.in_place;
        o.tsa_access = access;
        o.proxy = proxy;
        o.existing = existing(force, skip_existing)?;
        if let Some(t) = tsa_timeout {
            o.tsa_timeout = t;
        }
        return Ok(Command::Timestamp(o, files, report));
    }
    if extend {
        let level = lvl.ok_or("extend needs --level B-T|B-LT|B-LTA")?;
        if level == Level::BB {
            return Err("extend raises to B-T, B-LT or B-LTA".into());
        }
        if key.is_some() || attached || out_dir.is_some() || commitment.is_some() {
            return Err(
                "extend takes no --key, --attached, --out-dir or --commitment-type (the signed \
                 attributes are kept as they are)"
                    .into(),
            );
        }
        if force || skip_existing || report.is_some() || progress_every.is_some() {
            return Err(
                "extend takes no --force, --skip-existing, --report or --progress-every (it \
                 raises one SIGNATURE_FILE in place, or writes --out FILE)"
                    .into(),
            );
        }
        let [sig] = <[PathBuf; 1]>::try_from(files)
            .map_err(|_| "extend takes exactly one SIGNATURE_FILE".to_string())?;
        let mut o = ExtendOptions::new(level);
        o.tsa = tsa;
        o.crls = crls;
        o.ocsps = ocsps;
        o.cert_chain = chain;
        o.data = data;
        o.out = out;
        o.fetch = fetch;
        o.tsa_access = access;
        o.proxy = proxy;
        if let Some(t) = tsa_timeout {
            o.tsa_timeout = t;
        }
        return Ok(Command::Extend(o, sig));
    }
    let key = key.ok_or("--key KEYREF is required")?;
    let chain = chain.ok_or("--cert-chain PEM is required")?;
    if files.is_empty() {
        return Err("no input FILE".into());
    }
    if out.is_some() && out_dir.is_some() {
        return Err("--out and --out-dir exclude each other".into());
    }
    if out.is_some() && files.len() > 1 {
        return Err("--out takes one input file; use --out-dir".into());
    }
    if data.is_some() {
        return Err("--data belongs to extend".into());
    }
    let existing = existing(force, skip_existing)?;
    let mut o = Options::new(&key, &chain);
    o.level = lvl.unwrap_or(Level::BB);
    o.tsa = tsa;
    o.attached = attached;
    o.out = out;
    o.out_dir = out_dir;
    o.crls = crls;
    o.ocsps = ocsps;
    o.fetch = fetch;
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
    if let Some(t) = progress_every {
        o.progress_every = t;
    }
    Ok(Command::Sign(o, files, report))
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
        assert!(matches!(parse(args("--help")), Ok(Command::Help)));
        // A password on the command line is refused without being echoed.
        let e = parse(args("--key k --cert-chain c --tsa-password hunter2 a")).unwrap_err();
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
        let e = parse(args("--key k --cert-chain c --proxy socks5://u:pw9@p:1 a")).unwrap_err();
        assert!(e.contains("--proxy") && !e.contains("pw9"), "{e}");
        assert!(matches!(parse(args("-V")), Ok(Command::Version)));
    }
}
