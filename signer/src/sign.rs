//! Signing many files, and extending one signature: the library entry points behind the CLI.
//!
//! [`prepare`] loads and checks the key and certificate before anything is signed;
//! [`sign_files`] hashes files in parallel as streams, signs through the key's (pooled)
//! sessions, asks the TSA concurrently from the same workers, and writes each output
//! atomically; [`extend`] raises one existing signature.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use inkan_hsm::cms::{CmsSignerTemplate, Content, ID_DATA, SignRequest};
use inkan_hsm::{KeyRef, Policy, SigningKey};
use inkan_profiles::clock::Clock;
use inkan_profiles::policy::Use;
use inkan_profiles::time::UnixTime;

use crate::cades::{self, Failure, Level, Material, Problem, TsaClient, Upgrader};
use crate::certs::Cert;
use crate::output::{CommitTimes, OutDir, Pending, write_atomic, write_temp_with};
use crate::revocation;
use inkan_profiles::asn1::cms::RawSignedData;

pub use crate::error::SetupError;
pub use crate::setup::{
    DEFAULT_PROGRESS_EVERY, Existing, ExtendOptions, Options, Prepared, output_path, signs_inside,
};

/// What became of one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Its signature was written to [`FileResult::output`].
    Signed,
    /// Left alone on purpose (why): its output exists and `--skip-existing` was given, or it
    /// is a signature or time-stamp file in a batch.
    Skipped(String),
    /// Not signed (why).
    Failed(String),
}

/// One input's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileResult {
    /// The input.
    pub input: PathBuf,
    /// Where its signature goes (none for an input skipped before an output was chosen).
    pub output: Option<PathBuf>,
    /// What became of it.
    pub status: Status,
    /// Failed because of the problem that stopped the batch ([`Summary::stopped`]), not
    /// because of this input: the batch's one message says why.
    pub by_stop: bool,
}

impl FileResult {
    /// Why it failed, if it did.
    pub fn error(&self) -> Option<&str> {
        match &self.status {
            Status::Failed(e) => Some(e),
            _ => None,
        }
    }

    /// The output written, if it was signed.
    pub fn written(&self) -> Option<&Path> {
        match self.status {
            Status::Signed => self.output.as_deref(),
            _ => None,
        }
    }
}

/// A problem that affects every input (the TSA unreachable, the key failing, a chain that
/// cannot be completed) and stopped a batch early: no input was started after it, and the
/// inputs not signed fail with [`FileResult::by_stop`] set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stop {
    /// What kind of problem (it decides the exit status).
    pub problem: Problem,
    /// The one message.
    pub message: String,
}

/// The outcome of a run.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Per input, in input order; an input given twice appears once.
    pub files: Vec<FileResult>,
    /// What the run decided about its inputs as a whole (an input given twice, signature
    /// files skipped), to be shown once.
    pub notices: Vec<String>,
    /// The problem that affects every input and stopped the batch early, if one did.
    pub stopped: Option<Stop>,
    /// Wall time.
    pub elapsed: Duration,
    /// Where the time went.
    pub stages: StageTimes,
}

impl Summary {
    fn count(&self, f: impl Fn(&Status) -> bool) -> usize {
        self.files.iter().filter(|r| f(&r.status)).count()
    }
    /// Inputs signed.
    pub fn signed(&self) -> usize {
        self.count(|s| matches!(s, Status::Signed))
    }
    /// Inputs skipped.
    pub fn skipped(&self) -> usize {
        self.count(|s| matches!(s, Status::Skipped(_)))
    }
    /// Inputs that failed.
    pub fn failed(&self) -> usize {
        self.count(|s| matches!(s, Status::Failed(_)))
    }
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, SetupError> {
    std::fs::read(path)
        .map_err(|e| SetupError::Material(format!("cannot read {what} {}: {e}", path.display())))
}

fn material(
    crls: &[PathBuf],
    ocsps: &[PathBuf],
    certs: Vec<Cert>,
    fetch: bool,
) -> Result<Material, SetupError> {
    let mut c = Vec::new();
    for p in crls {
        let b = read(p, "CRL")?;
        c.push(
            revocation::read_crl_bytes(&b)
                .map_err(|e| SetupError::Material(format!("CRL {}: {e}", p.display())))?,
        );
    }
    let mut o = Vec::new();
    for p in ocsps {
        o.push(read(p, "OCSP response")?);
    }
    Ok(Material::new(certs, c, o, fetch))
}

fn runtime(need: bool) -> Result<Option<Arc<tokio::runtime::Runtime>>, SetupError> {
    if !need {
        return Ok(None);
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map(|r| Some(Arc::new(r)))
        .map_err(|e| SetupError::Material(format!("cannot start the HTTP client: {e}")))
}

/// Loads the key, reads the chain, and checks them against each other and the policy at `at`:
/// the certificate must certify the key, carry a key the CRYPTREC policy allows for new
/// signatures, and pass [`crate::chain::check`] with the rest of the chain (validity, key
/// usages, extended key usage, CA constraints, every certificate signature's algorithm and
/// value).
pub fn prepare(opts: &Options, at: UnixTime) -> Result<Prepared, SetupError> {
    let policy = Policy::cryptrec();
    let keyref = KeyRef::parse(&opts.key).map_err(SetupError::Key)?;
    let key: Arc<dyn SigningKey> = inkan_hsm::load(&keyref, &policy, at).map_err(|e| match e {
        inkan_hsm::Error::PolicyRefused(r) => SetupError::Policy(r),
        e => SetupError::Key(e),
    })?;
    let pem = read(&opts.cert_chain, "certificate chain")?;
    let chain = Cert::load_chain(&pem)
        .map_err(|e| SetupError::Certificate(format!("{}: {e}", opts.cert_chain.display())))?;
    let pos = chain
        .iter()
        .position(|c| c.spki == key.public_key_der())
        .ok_or_else(|| {
            SetupError::Certificate(format!(
                "no certificate in {} matches the key {}: the first certificate must be the \
                 one issued for this key (rule INKAN-KEY-CERT-MISMATCH)",
                opts.cert_chain.display(),
                key.label()
            ))
        })?;
    let cert = chain[pos].clone();
    // The verifier's certificate and algorithm rules on the whole chain (issue 11 §8).
    crate::chain::check(&cert, &chain, opts.level, &policy, at)
        .map_err(|r| SetupError::Certificate(r.to_string()))?;
    policy
        .check_key(&key.kind(), Use::Create, at)
        .map_err(SetupError::Policy)?;
    let prefs = policy.signing_preferences(&key.kind(), at);
    let signer = key.choose(&prefs).ok_or_else(|| {
        SetupError::Certificate(format!(
            "the key {} can make no signature the CRYPTREC policy allows",
            key.label()
        ))
    })?;
    let rest: Vec<Vec<u8>> = chain
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != pos)
        .map(|(_, c)| c.der.clone())
        .collect();
    let template = CmsSignerTemplate::new(signer, cert.der.clone(), rest)
        .map_err(|e| SetupError::Certificate(e.to_string()))?;
    let alg_protection = {
        use der::Encode as _;
        let digest_id = crate::digest::algorithm_identifier(template.digest_algorithm());
        template
            .signature_algorithm()
            .to_algorithm_identifier()
            .to_der()
            .ok()
            .and_then(|sig_id| crate::alg_protection::attribute(&digest_id, &sig_id))
            .ok_or_else(|| {
                SetupError::Certificate("the signature algorithm does not encode".into())
            })?
    };
    if opts.level >= Level::BT && opts.tsa.is_none() {
        return Err(SetupError::Usage(format!(
            "level {} needs --tsa URL",
            opts.level
        )));
    }
    // B-B makes no request: proxy settings (perhaps meant for other programs) are not read.
    let proxies = Arc::new(if opts.level >= Level::BT {
        crate::proxy::Proxies::resolve(&opts.proxy)?
    } else {
        crate::proxy::Proxies::none()
    });
    let rt = runtime(opts.level >= Level::BT)?;
    let tsa = match (&opts.tsa, &rt) {
        (Some(u), Some(rt)) => Some(TsaClient::new(
            u,
            &opts.tsa_access,
            opts.tsa_timeout,
            rt.clone(),
            proxies.clone(),
        )?),
        _ => None,
    };
    let mut material = material(&opts.crls, &opts.ocsps, chain, opts.fetch)?;
    material.proxies = proxies;
    Ok(Prepared {
        template,
        alg_protection,
        commitment: opts
            .commitment
            .map(crate::commitment::Commitment::attribute),
        upgrader: Upgrader {
            level: opts.level,
            tsa,
            material,
            rt,
        },
        cert,
    })
}

impl Prepared {
    /// Signs one file at `at` and returns the DER signature.
    pub fn sign_one(&self, input: &Path, attached: bool, at: UnixTime) -> Result<Vec<u8>, String> {
        thread_local! {
            // The read buffer, reused by every call on this thread.
            static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        BUF.with_borrow_mut(|buf| self.sign_one_with(input, attached, at, buf))
    }

    /// [`Self::sign_one`] with a caller-owned read buffer, reused across files by a worker.
    fn sign_one_with(
        &self,
        input: &Path,
        attached: bool,
        at: UnixTime,
        buf: &mut Vec<u8>,
    ) -> Result<Vec<u8>, String> {
        let hashed = self.hash_input(input, attached, buf)?;
        self.seal(&hashed, at).map_err(|f| f.message)
    }

    /// Reads and hashes one input (keeping the content when it is to be encapsulated).
    fn hash_input(
        &self,
        input: &Path,
        attached: bool,
        buf: &mut Vec<u8>,
    ) -> Result<Hashed, String> {
        let alg = self.template.digest_algorithm();
        if attached {
            let content = std::fs::read(input).map_err(|e| format!("cannot read: {e}"))?;
            let hash = crate::digest::digest(alg, &content);
            return Ok(Hashed {
                hash,
                content: Some(content),
                pdf: false,
            });
        }
        let mut f = std::fs::File::open(input).map_err(|e| format!("cannot read: {e}"))?;
        if buf.len() < crate::digest::STREAM_BUFFER {
            buf.resize(crate::digest::STREAM_BUFFER, 0);
        }
        let hash = crate::digest::digest_reader_with(alg, &mut f, buf)
            .map_err(|e| format!("cannot read: {e}"))?;
        Ok(Hashed {
            hash,
            content: None,
            pdf: false,
        })
    }

    /// A PDF to be signed inside itself: nothing is read here; [`crate::pades::sign_pdf`]
    /// reads what it needs by ranges and hashes the ByteRange from disk.
    fn read_pdf(&self) -> Hashed {
        Hashed {
            hash: Vec::new(),
            content: None,
            pdf: true,
        }
    }

    /// Signs a hashed input at `at` and raises it to the target level.
    fn seal(&self, hashed: &Hashed, at: UnixTime) -> Result<Vec<u8>, Failure> {
        let st = inkan_hsm::cms::signing_time_attribute(at);
        let attrs: [&[u8]; 3] = [
            &st,
            &self.alg_protection,
            self.commitment.as_deref().unwrap_or_default(),
        ];
        let attrs = &attrs[..if self.commitment.is_some() { 3 } else { 2 }];
        let content = match &hashed.content {
            Some(content) => Content::AttachedPrehashed {
                content,
                digest: &hashed.hash,
            },
            None => Content::DetachedDigest(&hashed.hash),
        };
        let mut req = SignRequest::new(ID_DATA, content);
        req.signed_attrs = attrs;
        // The key failing (a token removed, a session closed) fails every input alike.
        let der = self
            .template
            .sign(&req)
            .map_err(|e| Failure::batch(Problem::Key, format!("the key failed to sign: {e}")))?;
        if self.upgrader.level == Level::BB {
            return Ok(der);
        }
        let mut sd = RawSignedData::parse(&der).map_err(|e| e.to_string())?;
        self.upgrader.upgrade(&mut sd, Some(&hashed.hash), at)?;
        Ok(sd.encode())
    }
}

/// The result of a planned input before it is signed: skipped or failed as planned, else
/// "not processed" until its job reports.
fn planned_result(p: crate::plan::Planned) -> FileResult {
    FileResult {
        input: p.input,
        output: p.output,
        status: match p.action {
            crate::plan::Action::Sign => Status::Failed("not processed".into()),
            crate::plan::Action::Skip(why) => Status::Skipped(why),
            crate::plan::Action::Fail(why) => Status::Failed(why),
        },
        by_stop: false,
    }
}

/// Sets its flag when dropped.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// A signed output waiting for its temporary file: a signature, or a signed PDF (the input
/// copied, then the revisions appended; see [`crate::pades::PdfFile`]).
enum Signed {
    Der(Vec<u8>),
    Pdf(crate::pades::PdfFile),
}

impl Signed {
    /// The bytes held in memory.
    fn held(&self) -> usize {
        match self {
            Signed::Der(d) => d.len(),
            Signed::Pdf(p) => p.tail.len(),
        }
    }

    /// Writes the output to its temporary file.
    fn write(&self, f: &mut std::fs::File) -> std::io::Result<()> {
        use std::io::Write as _;
        match self {
            Signed::Der(d) => f.write_all(d),
            Signed::Pdf(p) => p.write_to(f),
        }
    }
}

/// A batch entry's result: signed, or why not and whether because of the batch's [`Stop`]
/// (an empty message: not started because the batch had stopped).
type JobResult = Result<(), (String, bool)>;

/// A failure of this input alone.
fn own(message: String) -> (String, bool) {
    (message, false)
}

/// One input, read and hashed; a PDF signed inside itself is read by ranges and hashed when
/// its signature dictionary is in place ([`crate::pades::sign_pdf`]).
struct Hashed {
    hash: Vec<u8>,
    content: Option<Vec<u8>>,
    pdf: bool,
}

/// Where the time of a batch went: wall time per stage, summed over the workers. Measured
/// with a monotonic clock around each stage; the cost is two clock reads per stage and file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StageTimes {
    /// Opening, reading and hashing inputs.
    pub read_hash: Duration,
    /// Building, signing (the key's `sign`, e.g. `C_Sign`) and upgrading signatures.
    pub sign: Duration,
    /// Writing temporary files.
    pub write: Duration,
    /// Making groups durable and publishing them (see [`crate::output`]).
    pub commit: CommitTimes,
    /// Waiting to hand a full group to the committer thread (while it is still busy with
    /// the groups before).
    pub handoff: Duration,
}

impl StageTimes {
    fn add(&mut self, o: &StageTimes) {
        self.read_hash += o.read_hash;
        self.sign += o.sign;
        self.write += o.write;
        self.handoff += o.handoff;
        self.commit.flush += o.commit.flush;
        self.commit.publish += o.commit.publish;
        self.commit.dir_sync += o.commit.dir_sync;
    }
}

/// Whether [`sign_files`] commits groups on a thread of their own (the default) or on the
/// workers that wrote them.
static COMMIT_THREAD: AtomicBool = AtomicBool::new(true);

/// Commits groups on a committer thread (`true`, the default) or on the workers themselves
/// (`false`) for the rest of the process; for benchmarks comparing the two.
pub fn set_commit_thread(on: bool) {
    COMMIT_THREAD.store(on, Ordering::Relaxed);
}

/// How many inputs a worker takes in one burst (see [`sign_files`]); [`set_burst`] changes it.
static BURST: AtomicUsize = AtomicUsize::new(DEFAULT_BURST);

/// The default burst: see [`sign_files`] for what it is and what it was measured against.
pub const DEFAULT_BURST: usize = 128;

/// A worker ends a burst early once the contents it holds (attached signatures) or the
/// signatures it holds reach this many bytes.
const BURST_BYTES: usize = 1 << 20;

/// Sets the number of inputs a worker reads, then signs, then writes in one burst (1: one file
/// at a time through all three steps) for the rest of the process; for benchmarks. The burst
/// is also bounded by the commit group size and by 1 MiB of contents or signatures held.
pub fn set_burst(n: usize) {
    BURST.store(n.max(1), Ordering::Relaxed);
}

/// The most files a worker makes durable together (one data flush, one directory sync).
const COMMIT_GROUP: usize = 256;

/// The group size for `workers` workers: as large as [`COMMIT_GROUP`] while the unnamed
/// temporary files of all workers' open groups stay within [`crate::output::max_unnamed`].
fn commit_group(workers: usize) -> usize {
    (crate::output::max_unnamed() / workers.max(1)).clamp(16, COMMIT_GROUP)
}

/// The number of workers [`sign_files`] starts when [`Options::workers`] is 0: sized to
/// inkan-hsm's default session pool (two sessions per CPU, 2 to 32), so that a worker waiting
/// for its input's read (or, without the committer thread, for its group's flush) leaves a
/// session and a CPU to another; at least 8 when TSA round trips dominate.
///
/// One worker per CPU was measured against this at B-B (2 CPUs, SoftHSM2 P-256, 10,000 files
/// of 4 KiB, median of alternated rounds in one process, `INKAN_BENCH_COMPARE=2,4`) and is
/// not better overall: on tmpfs with the machine quiet, 139 against 137 µs of CPU per file
/// and 13,400 against 14,200 files/s (a worker blocked on a SoftHSM2 mutex or the hand-off
/// leaves its CPU idle when there is no third worker); with other processes busy on the same
/// CPUs, 161 against 178 µs (4 runnable threads are preempted more often, some while
/// holding SoftHSM2's mutexes: 6,861 against 589 context switches per 10,000 files in one
/// run); on ext4, 179 against 192 and 194 against 204 µs, with the same files/s within noise.
/// Inputs that are not in the page cache would leave CPUs idle with fewer workers.
pub fn default_workers(level: Level) -> usize {
    let pool = (2 * std::thread::available_parallelism().map_or(1, |n| n.get())).clamp(2, 32);
    if level >= Level::BT {
        pool.max(8)
    } else {
        pool
    }
}

/// Signs `inputs` with `opts`, reading the time from `clock` for each signature. Fails
/// before signing anything if the batch is refused ([`crate::plan`]: two inputs writing one
/// output) or the key, certificate or options are unusable; otherwise every distinct input
/// gets an entry in the summary (signed, skipped, or failed and why). The first failure that
/// is a [`Problem`] (it would fail every input alike: the TSA unavailable after one retry,
/// B-LT material that cannot be completed, the key failing) stops the batch: no input is
/// started after it, and [`Summary::stopped`] holds its one message.
///
/// Each worker works in bursts: it takes the next inputs (up to [`DEFAULT_BURST`], the commit
/// group size, and 1 MiB of attached content), reads and hashes them, signs them one by one
/// through one of the key's pooled sessions, then writes their signatures to temporary files
/// one after the other; when it holds a group of them it hands the whole group to the
/// committer thread, which makes it durable and publishes it ([`crate::output::flush`],
/// [`crate::output::publish`]); see [`set_commit_thread`]. A file is reported written only
/// after its group's directory sync; an input that cannot be read or signed is reported and
/// the rest of its burst goes on.
///
/// # Bursts
///
/// Doing each step for many files in a row, rather than all steps for one file, keeps the
/// code and data of each step (the kernel's file creation, SoftHSM2 and OpenSSL) in the CPU
/// caches. Measured with `INKAN_BENCH_COMPARE=4b1,4b128,...` (alternated rounds in one
/// process, 2 CPUs, SoftHSM2 P-256, 10,000 files of 4 KiB on tmpfs): one file at a time
/// 148 µs of CPU per file (median of 7 rounds), bursts of 32 signatures written together
/// 132 µs, of 128 written together 128 µs, of 128 read, signed and written together 128 µs
/// (raw `C_Sign` 88–96 µs in the same runs); files/s up by 6–17% in every round but one.
pub fn sign_files(
    opts: &Options,
    inputs: &[PathBuf],
    clock: &dyn Clock,
) -> Result<Summary, SetupError> {
    let now = || {
        clock
            .now()
            .ok_or_else(|| SetupError::Usage("the system clock is unusable".into()))
    };
    if inputs.is_empty() {
        return Err(SetupError::Usage("no input files".into()));
    }
    if opts.out.is_some() && inputs.len() > 1 {
        return Err(SetupError::Usage(
            "--out takes one input file; use --out-dir".into(),
        ));
    }
    if let Some(d) = &opts.out_dir
        && d.exists()
        && !d.is_dir()
    {
        return Err(SetupError::Usage(format!(
            "--out-dir {} is not a directory",
            d.display()
        )));
    }
    // Before any key is loaded or time-stamp asked for (see `crate::plan`).
    let plan = crate::plan::plan(opts, inputs)?;
    if !plan
        .items
        .iter()
        .any(|p| p.action == crate::plan::Action::Sign)
    {
        // Nothing to sign (every input skipped, or refused because its output exists): no
        // key is loaded (no PIN asked, no token needed) and no TSA asked.
        return Ok(Summary {
            files: plan.items.into_iter().map(planned_result).collect(),
            notices: plan.notices,
            ..Summary::default()
        });
    }
    let prepared = prepare(opts, now()?)?;
    if let Some(d) = &opts.out_dir
        && !d.is_dir()
    {
        // As `rustc --out-dir` and `wget -P` do.
        std::fs::create_dir_all(d).map_err(|e| {
            SetupError::Usage(format!("cannot create --out-dir {}: {e}", d.display()))
        })?;
    }
    let start = Instant::now();
    // The inputs to sign: (index into the plan, input, output).
    // A PDF is signed inside itself (`signs_inside`); read once here, not per worker.
    let jobs: Vec<(usize, &Path, &Path, bool)> = plan
        .items
        .iter()
        .enumerate()
        .filter(|(_, p)| p.action == crate::plan::Action::Sign)
        .filter_map(|(i, p)| {
            let pdf = signs_inside(opts, &p.input);
            Some((i, p.input.as_path(), p.output.as_deref()?, pdf))
        })
        .collect();
    let replace = opts.existing == Existing::Replace;
    let workers = if opts.workers > 0 {
        opts.workers
    } else {
        default_workers(opts.level)
    }
    .min(jobs.len())
    .max(1);
    let group_size = commit_group(workers);
    let next = AtomicUsize::new(0);
    let progress = opts.progress && std::io::stderr().is_terminal() && jobs.len() > 1;
    // Results per entry of `jobs`, filled a group at a time (one lock per group, not per
    // file).
    let shared = Mutex::new((vec![None::<JobResult>; jobs.len()], 0usize, 0usize));
    // A job log (standard error not a terminal) gets a line every `progress_every`.
    let log_progress =
        opts.progress && !std::io::stderr().is_terminal() && !opts.progress_every.is_zero();
    // The first problem that affects every input stops the batch (see `Stop`).
    let halted = AtomicBool::new(false);
    let stop: Mutex<Option<Stop>> = Mutex::new(None);
    let halt = |f: &Failure| {
        let Some(problem) = f.problem else { return };
        let mut g = stop.lock().unwrap_or_else(|e| e.into_inner());
        if g.is_none() {
            *g = Some(Stop {
                problem,
                message: f.message.clone(),
            });
        }
        halted.store(true, Ordering::Relaxed);
        if let Some(t) = &prepared.upgrader.tsa {
            t.halt();
        }
    };
    let finish = |done: &mut Vec<(usize, JobResult)>| {
        if done.is_empty() {
            return;
        }
        let mut g = shared.lock().unwrap_or_else(|e| e.into_inner());
        let (results, count, failed) = &mut *g;
        let before = *count;
        for (i, result) in done.drain(..) {
            *failed += usize::from(result.is_err());
            results[i] = Some(result);
            *count += 1;
        }
        if progress && (before / 64 != *count / 64 || *count == jobs.len()) {
            draw_progress(*count, jobs.len());
        }
    };
    let stages = Mutex::new(StageTimes::default());
    let committer = COMMIT_THREAD.load(Ordering::Relaxed);
    let group_size = if committer {
        commit_group(workers + 2)
    } else {
        group_size
    };
    // With a committer thread, full groups go to it (one hand-off per group), so that no
    // worker waits for the disk; at most one group waits in the channel. (Two or three
    // waiting groups, with groups made smaller to stay within the unnamed-file bound, cost
    // more: 150 and 158 against 138 µs of CPU per file on ext4, more flushes.)
    type Group = (Vec<usize>, Vec<Pending>);
    let (gtx, grx) = std::sync::mpsc::sync_channel::<Group>(1);
    let commit_group_now = |group: Vec<Pending>,
                            idx: Vec<usize>,
                            done: &mut Vec<(usize, JobResult)>,
                            times: &mut StageTimes| {
        if group.is_empty() {
            return;
        }
        let flushed = crate::output::flush(&group, &mut times.commit);
        let targets: Vec<PathBuf> = group.iter().map(|p| p.target.clone()).collect();
        let results = crate::output::publish(group, flushed, &mut times.commit);
        for ((i, target), r) in idx.into_iter().zip(targets).zip(results) {
            let r = match r {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && !replace => {
                    Err(own(format!(
                        "{} was created by another program while this batch ran; it is left \
                         as it is (give --force to replace it)",
                        target.display()
                    )))
                }
                Err(e) => Err(own(format!("cannot write {}: {e}", target.display()))),
            };
            done.push((i, r));
        }
        finish(done);
    };
    let all_done = AtomicBool::new(false);
    std::thread::scope(|outer| {
        // Ends the progress thread when the workers are done, also if one of them panicked
        // (the scope below then unwinds through this guard).
        let done_guard = SetOnDrop(&all_done);
        if log_progress {
            let (shared, all_done) = (&shared, &all_done);
            let total = jobs.len();
            let every = opts.progress_every;
            let ticker = move || {
                let mut next_line = start + every;
                while !all_done.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(50).min(every));
                    let now = Instant::now();
                    if now < next_line {
                        continue;
                    }
                    next_line = now + every;
                    let (done, failed) = {
                        let g = shared.lock().unwrap_or_else(|e| e.into_inner());
                        (g.1, g.2)
                    };
                    eprintln!("{}", progress_line(done, failed, total, now - start));
                }
            };
            // Without it the batch runs the same, only silently.
            let _ = std::thread::Builder::new()
                .name("inkan-progress".into())
                .spawn_scoped(outer, ticker);
        }
        std::thread::scope(|s| {
            if committer {
                let (commit_group_now, stages) = (&commit_group_now, &stages);
                let commit = move || {
                    let mut times = StageTimes::default();
                    let mut done = Vec::new();
                    while let Ok((mut idx, mut group)) = grx.recv() {
                        // Whatever else is waiting joins this flush.
                        while let Ok((i, g)) = grx.try_recv() {
                            idx.extend(i);
                            group.extend(g);
                        }
                        commit_group_now(group, idx, &mut done, &mut times);
                    }
                    if let Ok(mut s) = stages.lock() {
                        s.add(&times);
                    }
                };
                let spawned = std::thread::Builder::new()
                    .name("inkan-commit".into())
                    .spawn_scoped(s, commit);
                // If it cannot start, the receiver goes with it and the workers commit their own
                // groups (their sends fail).
                drop(spawned);
            } else {
                drop(grx);
            }
            for _ in 0..workers {
                let (next, prepared, finish, stages) = (&next, &prepared, &finish, &stages);
                let (jobs, halted, halt) = (&jobs, &halted, &halt);
                let (commit_group_now, gtx) = (&commit_group_now, gtx.clone());
                let work = move || {
                    let mut buf = Vec::new();
                    let mut times = StageTimes::default();
                    let mut group: Vec<Pending> = Vec::with_capacity(group_size);
                    let mut idx: Vec<usize> = Vec::with_capacity(group_size);
                    let mut done: Vec<(usize, JobResult)> = Vec::with_capacity(group_size);
                    let commit = |group: &mut Vec<Pending>,
                                  idx: &mut Vec<usize>,
                                  done: &mut Vec<(usize, JobResult)>,
                                  times: &mut StageTimes| {
                        if group.is_empty() {
                            return;
                        }
                        let g = std::mem::replace(group, Vec::with_capacity(group_size));
                        let ix = std::mem::replace(idx, Vec::with_capacity(group_size));
                        // To the committer thread if there is one, else here.
                        let t = Instant::now();
                        let sent = gtx.send((ix, g));
                        times.handoff += t.elapsed();
                        if let Err(e) = sent {
                            let (ix, g) = e.0;
                            commit_group_now(g, ix, done, times);
                        }
                    };
                    // See "Bursts" in the docs of `sign_files`.
                    let burst_max = BURST.load(Ordering::Relaxed).clamp(1, group_size);
                    let mut hashed: Vec<(usize, PathBuf, Result<Hashed, String>)> =
                        Vec::with_capacity(burst_max);
                    let mut burst: Vec<(usize, PathBuf, Signed)> = Vec::with_capacity(burst_max);
                    // The output directory of the last file, kept open (see `OutDir`).
                    let mut out_dir: Option<OutDir> = None;
                    let mut write_burst =
                        |burst: &mut Vec<(usize, PathBuf, Signed)>,
                         group: &mut Vec<Pending>,
                         idx: &mut Vec<usize>,
                         done: &mut Vec<(usize, JobResult)>,
                         times: &mut StageTimes| {
                            let t = Instant::now();
                            for (i, out, der) in burst.drain(..) {
                                let dir = crate::output::target_dir(&out);
                                if out_dir.as_ref().is_none_or(|d| d.path() != dir) {
                                    // If it cannot be opened, `write_temp_in` reports why.
                                    out_dir = OutDir::open(dir).ok();
                                }
                                match write_temp_with(out_dir.as_ref(), &out, |f| der.write(f)) {
                                    Ok(temp) => {
                                        // `--in-place`: a PDF replaces itself.
                                        let in_place = opts.pdf.in_place && jobs[i].3;
                                        group.push(Pending {
                                            temp,
                                            target: out,
                                            replace: replace || in_place,
                                        });
                                        idx.push(i);
                                    }
                                    Err(e) => done.push((
                                        i,
                                        Err(own(format!("cannot write {}: {e}", out.display()))),
                                    )),
                                }
                            }
                            times.write += t.elapsed();
                        };
                    let mut exhausted = false;
                    while !exhausted {
                        // Read and hash a burst of inputs.
                        let t = Instant::now();
                        let mut held = 0usize;
                        while hashed.len() < burst_max && held < BURST_BYTES {
                            if halted.load(Ordering::Relaxed) {
                                exhausted = true;
                                break;
                            }
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(&(_, input, out, pdf)) = jobs.get(i) else {
                                exhausted = true;
                                break;
                            };
                            let h = if pdf {
                                Ok(prepared.read_pdf())
                            } else {
                                prepared.hash_input(input, opts.attached, &mut buf)
                            };
                            if let Ok(Hashed {
                                content: Some(c), ..
                            }) = &h
                            {
                                held += c.len();
                            }
                            hashed.push((i, out.to_owned(), h));
                        }
                        times.read_hash += t.elapsed();
                        // Sign them; write the signatures held whenever they grow large.
                        let mut held = 0usize;
                        for (i, out, h) in hashed.drain(..) {
                            if halted.load(Ordering::Relaxed) {
                                // Not started: the batch has stopped.
                                done.push((i, Err((String::new(), true))));
                                continue;
                            }
                            let t = Instant::now();
                            let der = h.map_err(Failure::from).and_then(|h| match clock.now() {
                                None => Err(Failure::batch(
                                    Problem::Key,
                                    "the system clock is unusable",
                                )),
                                Some(at) if h.pdf => crate::pades::sign_pdf(
                                    prepared, opts.level, jobs[i].1, &opts.pdf, at,
                                )
                                .map(Signed::Pdf),
                                Some(at) => prepared.seal(&h, at).map(Signed::Der),
                            });
                            times.sign += t.elapsed();
                            match der {
                                Ok(der) => {
                                    held += der.held();
                                    burst.push((i, out, der));
                                }
                                Err(f) => {
                                    halt(&f);
                                    let by_stop = f.problem.is_some();
                                    done.push((i, Err((f.message, by_stop))));
                                }
                            }
                            if held >= BURST_BYTES {
                                write_burst(
                                    &mut burst, &mut group, &mut idx, &mut done, &mut times,
                                );
                                held = 0;
                            }
                        }
                        // Write their temporary files; hand over the group when it is full.
                        write_burst(&mut burst, &mut group, &mut idx, &mut done, &mut times);
                        if group.len() >= group_size {
                            commit(&mut group, &mut idx, &mut done, &mut times);
                        }
                    }
                    write_burst(&mut burst, &mut group, &mut idx, &mut done, &mut times);
                    commit(&mut group, &mut idx, &mut done, &mut times);
                    finish(&mut done);
                    if let Ok(mut s) = stages.lock() {
                        s.add(&times);
                    }
                };
                let spawned = std::thread::Builder::new()
                    .name("inkan-seal".into())
                    .spawn_scoped(s, work);
                // A worker that cannot start leaves its share to the others (they take inputs from
                // the same counter); if none starts, every input is reported as not processed.
                drop(spawned);
            }
            drop(gtx);
        });
        drop(done_guard);
    });
    if progress {
        eprintln!();
    }
    let (results, _, _) = shared.into_inner().unwrap_or_else(|e| e.into_inner());
    let signed_at: Vec<usize> = jobs.iter().map(|w| w.0).collect();
    let stopped = stop.into_inner().unwrap_or_else(|e| e.into_inner());
    let not_started = |by_stop: bool| match (&stopped, by_stop) {
        (Some(s), true) => format!("not signed: the batch stopped: {}", s.message),
        _ => "not processed".to_owned(),
    };
    let mut files: Vec<FileResult> = plan.items.into_iter().map(planned_result).collect();
    for (i, r) in signed_at.into_iter().zip(results) {
        let f = &mut files[i];
        match r {
            Some(Ok(())) => f.status = Status::Signed,
            Some(Err((e, by_stop))) => {
                f.by_stop = by_stop;
                f.status = Status::Failed(if e.is_empty() {
                    not_started(by_stop)
                } else {
                    e
                });
            }
            // Never taken: the batch stopped first (or no worker could start).
            None => {
                f.by_stop = stopped.is_some();
                f.status = Status::Failed(not_started(f.by_stop));
            }
        }
    }
    Ok(Summary {
        files,
        notices: plan.notices,
        stopped,
        elapsed: start.elapsed(),
        stages: stages.into_inner().unwrap_or_else(|e| e.into_inner()),
    })
}

/// The progress line of a job log: how many of the inputs to sign are done, how many of
/// them failed, and the rate so far.
fn progress_line(done: usize, failed: usize, total: usize, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
    format!(
        "inkan-sign: progress: {done} of {total} done ({} signed, {failed} failed), \
         {rate:.1} files/s, {secs:.0}s elapsed",
        done - failed.min(done)
    )
}

fn draw_progress(n: usize, total: usize) {
    const WIDTH: usize = 40;
    let filled = n * WIDTH / total.max(1);
    eprint!(
        "\r[{}{}] {n}/{total}",
        "#".repeat(filled),
        " ".repeat(WIDTH - filled)
    );
}

/// Reads a signature file, DER or PEM (`-----BEGIN CMS-----` / `PKCS7`).
pub fn read_signature(bytes: &[u8]) -> Result<Vec<u8>, String> {
    if bytes.first() == Some(&0x30) {
        return Ok(bytes.to_vec());
    }
    let (_, der) = der::pem::decode_vec(bytes).map_err(|_| "neither DER nor PEM".to_string())?;
    Ok(der)
}

/// Raises the signature in `signature` to `opts.level` at `at` and writes it atomically.
/// Returns the path written.
///
/// A failure that is a [`Problem`] (the TSA unavailable, B-LT material that cannot be
/// completed) carries it, so that the command's exit status says which (69, 77, 1).
pub fn extend(opts: &ExtendOptions, signature: &Path, at: UnixTime) -> Result<PathBuf, Failure> {
    if opts.level == Level::BB {
        return Err("extend raises to B-T, B-LT or B-LTA".into());
    }
    // A PDF: DSS and document time-stamps inside it (issue 14).
    if crate::pades::is_pdf_file(signature) {
        return crate::pades::extend_pdf(opts, signature, at);
    }
    let bytes = std::fs::read(signature)
        .map_err(|e| format!("cannot read {}: {e}", signature.display()))?;
    let der = read_signature(&bytes).map_err(|e| format!("{}: {e}", signature.display()))?;
    let mut sd = RawSignedData::parse(&der)
        .map_err(|e| format!("{}: not a CMS signature: {e}", signature.display()))?;
    let si = sd
        .signer_infos
        .first()
        .ok_or("the signature has no signer")?;
    let alg = cades::signer_digest(si)?;
    let md = cades::message_digest(si)?;
    let content_hash = match (&sd.econtent, &opts.data) {
        (Some(c), _) => Some(alg.digest(c)),
        (None, Some(p)) => {
            let mut f =
                std::fs::File::open(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            Some(
                crate::digest::digest_reader(alg, &mut f)
                    .map_err(|e| format!("cannot read {}: {e}", p.display()))?,
            )
        }
        (None, None) => None,
    };
    if let Some(h) = &content_hash
        && *h != md
    {
        return Err("the content does not match the signature's message-digest".into());
    }
    if opts.level >= Level::BT && opts.tsa.is_none() {
        return Err(format!("level {} needs --tsa URL", opts.level).into());
    }
    let certs = match &opts.cert_chain {
        Some(p) => {
            let b = std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            Cert::load_chain(&b).map_err(|e| format!("{}: {e}", p.display()))?
        }
        None => Vec::new(),
    };
    let proxies = Arc::new(crate::proxy::Proxies::resolve(&opts.proxy).map_err(|e| e.to_string())?);
    let rt = runtime(true).map_err(|e| e.to_string())?;
    let mut material =
        material(&opts.crls, &opts.ocsps, certs, opts.fetch).map_err(|e| e.to_string())?;
    material.proxies = proxies.clone();
    let upgrader = Upgrader {
        level: opts.level,
        tsa: match (&opts.tsa, &rt) {
            (Some(u), Some(rt)) => Some(
                TsaClient::new(u, &opts.tsa_access, opts.tsa_timeout, rt.clone(), proxies)
                    .map_err(|e| e.to_string())?,
            ),
            _ => None,
        },
        material,
        rt,
    };
    let before = sd.signer_infos[0].signed_part.clone();
    upgrader.upgrade(&mut sd, content_hash.as_deref(), at)?;
    let out = sd.encode();
    // The invariant the contract promises: the signed part is unchanged.
    let check = RawSignedData::parse(&out).map_err(|e| format!("internal: {e}"))?;
    if check.signer_infos.first().map(|s| &s.signed_part) != Some(&before) {
        return Err("internal: the signed part changed; nothing written".into());
    }
    let dest = opts.out.clone().unwrap_or_else(|| signature.to_owned());
    write_atomic(&dest, &out).map_err(|e| format!("cannot write {}: {e}", dest.display()))?;
    Ok(dest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_line_of_a_job_log() {
        assert_eq!(
            progress_line(0, 0, 40, Duration::from_millis(200)),
            "inkan-sign: progress: 0 of 40 done (0 signed, 0 failed), 0.0 files/s, 0s elapsed"
        );
        assert_eq!(
            progress_line(1200, 3, 10_000, Duration::from_secs(5)),
            "inkan-sign: progress: 1200 of 10000 done (1197 signed, 3 failed), 240.0 files/s, \
             5s elapsed"
        );
    }
}
