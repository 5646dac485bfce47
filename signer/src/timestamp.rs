//! `inkan-sign timestamp`: proof of existence without a signature key. A PDF
//! gets a document time-stamp (ISO 32000-2 §12.8.5, ETSI EN 319 142-1 `ETSI.RFC3161`) as an
//! incremental update, written to `NAME-timestamped.pdf` (or `--out`, `--out-dir`,
//! `--in-place`); any other file gets `FILE.tsr`, the TSA's DER `TimeStampResp` (RFC 3161
//! §2.4.2) as received, beside it (or under `--out-dir`, or `--out`).
//!
//! Batches follow the signing rules: planned first by [`crate::plan::plan_with`] (no output
//! overwritten without `--force`, `--skip-existing`, collisions refused, `.tsr` files in a
//! batch skipped), outputs published a group at a time after one flush
//! ([`crate::output::commit`]), one bad input reported while the others are still
//! time-stamped, and a TSA that fails (after one retry) stopping the batch with one message
//! and exit status 69 instead of failing every remaining input in turn.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use inkan_profiles::alg::DigestAlgorithm;

use crate::cades::{Failure, TsaClient};
use crate::error::SetupError;
use crate::output::Pending;
use crate::sign::{Existing, FileResult, Status, Stop, Summary};

/// Options of `inkan-sign timestamp`.
#[derive(Clone, Debug)]
pub struct TimestampOptions {
    /// The TSA.
    pub tsa: String,
    /// Output file (one input only).
    pub out: Option<PathBuf>,
    /// Output directory (created when missing).
    pub out_dir: Option<PathBuf>,
    /// Replace each PDF input atomically.
    pub in_place: bool,
    /// What to do with an output that exists (`--force`, `--skip-existing`).
    pub existing: Existing,
    /// Time allowed per TSA request.
    pub tsa_timeout: Duration,
    /// How to reach the TSA.
    pub tsa_access: crate::tsa_client::TsaAccess,
    /// The HTTP proxy choice.
    pub proxy: crate::proxy::ProxyChoice,
    /// The hash of the message imprint (SHA-256).
    pub digest: DigestAlgorithm,
    /// Requests in flight at once.
    pub workers: usize,
}

impl TimestampOptions {
    /// Defaults for `tsa`: SHA-256, outputs beside the inputs, none replaced.
    pub fn new(tsa: &str) -> Self {
        Self {
            tsa: tsa.to_owned(),
            out: None,
            out_dir: None,
            in_place: false,
            existing: Existing::Refuse,
            tsa_timeout: crate::tsa_client::DEFAULT_TIMEOUT,
            tsa_access: Default::default(),
            proxy: Default::default(),
            digest: DigestAlgorithm::Sha256,
            workers: 4,
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

/// Per input index: published, or why not and whether because the batch stopped.
type Done = (usize, Result<(), (String, bool)>);

/// Outputs published together (one flush each).
const COMMIT_GROUP: usize = 64;

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
    let plan = crate::plan::plan_with(inputs, opts.existing, opts.in_place, |p| {
        output_path(opts, p, crate::pades::is_pdf_file(p))
    })?;
    let mut files: Vec<FileResult> = plan
        .items
        .iter()
        .map(|p| FileResult {
            input: p.input.clone(),
            output: p.output.clone(),
            status: match &p.action {
                crate::plan::Action::Sign => Status::Failed("not processed".into()),
                crate::plan::Action::Skip(why) => Status::Skipped(why.clone()),
                crate::plan::Action::Fail(why) => Status::Failed(why.clone()),
            },
            by_stop: false,
        })
        .collect();
    let jobs: Vec<(usize, &Path, &Path)> = plan
        .items
        .iter()
        .enumerate()
        .filter(|(_, p)| p.action == crate::plan::Action::Sign)
        .filter_map(|(i, p)| Some((i, p.input.as_path(), p.output.as_deref()?)))
        .collect();
    if jobs.is_empty() {
        return Ok(Summary {
            files,
            notices: plan.notices,
            ..Summary::default()
        });
    }
    if let Some(d) = &opts.out_dir
        && !d.is_dir()
    {
        std::fs::create_dir_all(d).map_err(|e| {
            SetupError::Usage(format!("cannot create --out-dir {}: {e}", d.display()))
        })?;
    }
    let proxies = Arc::new(crate::proxy::Proxies::resolve(&opts.proxy)?);
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
    let next = AtomicUsize::new(0);
    let halted = AtomicBool::new(false);
    let stop: Mutex<Option<Stop>> = Mutex::new(None);
    let results: Mutex<Vec<Done>> = Mutex::new(Vec::new());
    let replace = opts.existing == Existing::Replace;
    std::thread::scope(|s| {
        for _ in 0..opts.workers.clamp(1, jobs.len()) {
            s.spawn(|| {
                let mut group: Vec<Pending> = Vec::new();
                let mut idx: Vec<usize> = Vec::new();
                let mut done: Vec<Done> = Vec::new();
                let commit = |group: &mut Vec<Pending>,
                              idx: &mut Vec<usize>,
                              done: &mut Vec<Done>| {
                    let g = std::mem::take(group);
                    let targets: Vec<PathBuf> = g.iter().map(|p| p.target.clone()).collect();
                    for ((i, target), r) in idx.drain(..).zip(targets).zip(crate::output::commit(g))
                    {
                        done.push((
                            i,
                            r.map_err(|e| (publish_error(&target, &e, replace), false)),
                        ));
                    }
                };
                loop {
                    if halted.load(Ordering::Relaxed) {
                        break;
                    }
                    let j = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(i, input, out)) = jobs.get(j) else {
                        break;
                    };
                    let pdf = crate::pades::is_pdf_file(input);
                    match one(opts, &tsa, input, pdf) {
                        Ok(data) => {
                            match crate::output::write_temp_with(None, out, |f| data.write(f)) {
                                Ok(temp) => {
                                    group.push(Pending {
                                        temp,
                                        target: out.to_owned(),
                                        replace: replace || (pdf && opts.in_place),
                                    });
                                    idx.push(i);
                                }
                                Err(e) => done.push((
                                    i,
                                    Err((format!("cannot write {}: {e}", out.display()), false)),
                                )),
                            }
                        }
                        Err(f) => {
                            if let Some(problem) = f.problem {
                                let mut g = stop.lock().unwrap_or_else(|e| e.into_inner());
                                if g.is_none() {
                                    *g = Some(Stop {
                                        problem,
                                        message: f.message.clone(),
                                    });
                                }
                                halted.store(true, Ordering::Relaxed);
                                tsa.halt();
                            }
                            done.push((i, Err((f.message, f.problem.is_some()))));
                        }
                    }
                    if group.len() >= COMMIT_GROUP {
                        commit(&mut group, &mut idx, &mut done);
                    }
                }
                commit(&mut group, &mut idx, &mut done);
                results
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend(done);
            });
        }
    });
    let stopped = stop.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut reported = vec![false; files.len()];
    for (i, r) in results.into_inner().unwrap_or_else(|e| e.into_inner()) {
        reported[i] = true;
        let f = &mut files[i];
        match r {
            Ok(()) => f.status = Status::Signed,
            Err((e, by_stop)) => {
                f.by_stop = by_stop;
                f.status = Status::Failed(e);
            }
        }
    }
    if let Some(s) = &stopped {
        for &(i, _, _) in &jobs {
            if !reported[i] {
                files[i].by_stop = true;
                files[i].status = Status::Failed(format!(
                    "not time-stamped: the batch stopped: {}",
                    s.message
                ));
            }
        }
    }
    Ok(Summary {
        files,
        notices: plan.notices,
        stopped,
        elapsed: start.elapsed(),
        stages: Default::default(),
    })
}

/// Why publishing `target` failed.
fn publish_error(target: &Path, e: &std::io::Error, replace: bool) -> String {
    if e.kind() == std::io::ErrorKind::AlreadyExists && !replace {
        format!(
            "{} was created by another program while this batch ran; it is left as it is \
             (give --force to replace it)",
            target.display()
        )
    } else {
        format!("cannot write {}: {e}", target.display())
    }
}

/// The output for one input: a time-stamped PDF, or a TSA's `TimeStampResp`.
enum Stamped {
    /// The PDF (read by ranges, never whole) with its document time-stamp revision.
    Pdf(crate::pades::PdfFile),
    /// The `TimeStampResp` of any other file.
    Response(Vec<u8>),
}

impl Stamped {
    /// Writes the output to its temporary file.
    fn write(&self, f: &mut std::fs::File) -> std::io::Result<()> {
        use std::io::Write as _;
        match self {
            Stamped::Pdf(p) => p.write_to(f),
            Stamped::Response(r) => f.write_all(r),
        }
    }
}

/// The output for one input: the time-stamped PDF, or the TSA's `TimeStampResp`.
fn one(
    opts: &TimestampOptions,
    tsa: &TsaClient,
    input: &Path,
    pdf: bool,
) -> Result<Stamped, Failure> {
    if pdf {
        let mut file = crate::pades::PdfFile::open(input)?;
        let update = crate::pades::timestamp_pdf(tsa, opts.digest, &file)?;
        file.tail.extend(update);
        Ok(Stamped::Pdf(file))
    } else {
        let mut f = std::fs::File::open(input).map_err(|e| format!("cannot read: {e}"))?;
        let hash = crate::digest::digest_reader(opts.digest, &mut f)
            .map_err(|e| format!("cannot read: {e}"))?;
        Ok(Stamped::Response(
            tsa.timestamp_response(opts.digest, hash)?.0,
        ))
    }
}
