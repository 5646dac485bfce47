//! The group-commit writer every records store shares (embedded or PostgreSQL).
//!
//! One writer thread owns the write transactions. The signing threads hand it their granted
//! tokens in batches ([`Recorder::commit_batch`], one channel message per batch of requests
//! they signed together); the writer takes everything queued (up to `max_batch` tokens),
//! writes it in one transaction, commits it durably (one `fsync`), and only then releases
//! every response of the batch. While one `fsync` runs the next batch gathers, so the batch
//! size follows the load by itself: one token per commit when idle (lowest latency), hundreds
//! under load (the `fsync` shared by all of them).
//!
//! The writer commits as soon as the previous commit has returned and something waits
//! (classic group commit); it never waits because a timer says so. It holds a group open only
//! while that raises throughput (`decide`): while more requests wait in the signing pool's
//! queue than the group holds ([`Recorder::set_backlog`]), the signing threads are saturated
//! and have work for longer than a commit takes, so holding the group for up to one commit's
//! duration (a typical one: the median of the last eight) costs them nothing, and a commit's fixed cost (copy-on-write of the
//! B-tree spines, two `fdatasync`s, file locks: about 0.5-0.8 ms of CPU on the test VM, CPU
//! the signing threads need on a small machine) is shared by more tokens. A client with few
//! requests in flight leaves the queue empty and is never held: with a fixed interval, 16
//! connections got at most 16 tokens per interval while the CPU idled (Little's law).
//! `commit_interval_ms` (default 0) still lets an operator impose a least time between two
//! commits under load. The same writer loop and the same decision serve the shared PostgreSQL
//! store (`GroupSink`, [`crate::pgstore`]): there a commit's fixed cost is the round trip
//! and the database's WAL flush, measured the same way. The HTTP response carrying a token is sent
//! only after its record's commit has returned: a client can never hold a token the store does
//! not know, even after `kill -9`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use inkan_profiles::clock::Clock;
use inkan_profiles::time::UnixTime;

use crate::record::{CHAINED_FORMAT, Chain, Event, Issued, StoreError, kind};
use crate::timefmt;

/// A shared store's hold on its instance number, as `/readyz` and `/metrics` see it
/// (implemented by [`crate::pgstore::Lease`]).
pub trait Lease: std::fmt::Debug + Send + Sync {
    /// `Ok` while the lease is held.
    fn check(&self) -> Result<(), String>;
    /// The instance number held, or last held.
    fn number(&self) -> u16;
}

/// Called by the writer once a token's record is committed (`Ok`) or could not be (`Err`).
pub type Notify = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// A granted token waiting for its record to be committed.
pub struct Pending {
    /// The record.
    pub issued: Issued,
    /// What to do after the commit (release the response).
    pub notify: Notify,
    /// The issued token (DER `ContentInfo`), kept with the record when the store keeps
    /// tokens ([`Recorder::keeps_tokens`]).
    pub token: Option<Vec<u8>>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("serial", &self.issued.serial)
            .finish_non_exhaustive()
    }
}

/// What the signing threads and the service hand the writer ([`Recorder`]).
pub(crate) enum Job {
    /// Granted tokens, to be committed before their responses leave.
    Tokens(Vec<Pending>),
    /// A service event.
    Event(Box<Event>),
    /// A rejection to count.
    Reject(&'static str),
    /// Answered once everything before it is committed.
    Flush(Sender<()>),
    /// Commit what came before, then end the writer.
    Stop,
}

/// Whether the store can be written now, for `/readyz` ([`Recorder::ready`]).
#[derive(Debug, Default)]
pub struct StoreHealth {
    /// The last group commit (or probe) failed.
    pub(crate) failing: std::sync::atomic::AtomicBool,
    /// The writer reports failures to `/readyz` (a store that is retried in the background;
    /// the embedded store, which has no background retry, only fails the requests).
    pub(crate) reported: bool,
    /// The instance lease of a shared store.
    pub(crate) lease: Option<Arc<dyn Lease>>,
}

impl StoreHealth {
    /// `Ok` when the store is writable as far as this instance knows.
    pub fn check(&self) -> Result<(), String> {
        if let Some(l) = &self.lease {
            l.check()?;
        }
        if self.reported && self.failing.load(std::sync::atomic::Ordering::Relaxed) {
            return Err("the records store cannot be written".into());
        }
        Ok(())
    }
}

/// A cloneable handle that submits records to the writer thread.
#[derive(Clone, Debug)]
pub struct Recorder {
    tx: Sender<Job>,
    /// Requests waiting for a signing thread, as last published by the signing pool
    /// ([`Recorder::set_backlog`]); the writer holds a group open while it exceeds the group.
    backlog: Arc<AtomicUsize>,
    keep_tokens: bool,
    health: Arc<StoreHealth>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

/// Statistics of the writer, for `/metrics`.
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Commits done.
    pub commits: AtomicU64,
    /// Token records committed.
    pub records: AtomicU64,
    /// Commits that failed.
    pub failures: AtomicU64,
    /// Time spent writing and committing, in microseconds.
    pub commit_micros: AtomicU64,
    /// Commit durations by [`WriterStats::COMMIT_BUCKETS`] (cumulative, as Prometheus wants).
    pub commit_buckets: [AtomicU64; 14],
    /// Token records per commit (commits that carried any) by [`WriterStats::GROUP_BUCKETS`].
    pub group_buckets: [AtomicU64; 12],
    /// Commits that carried token records.
    pub token_commits: AtomicU64,
}

impl WriterStats {
    /// Upper bounds of the commit-duration histogram, seconds.
    pub const COMMIT_BUCKETS: [f64; 14] = [
        0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
    ];
    /// Upper bounds of the group-size histogram, token records.
    pub const GROUP_BUCKETS: [u64; 12] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];

    /// Counts one group commit (tried): its duration and its token records.
    pub fn observe_commit(&self, took: Duration, tokens: usize) {
        use std::sync::atomic::Ordering::Relaxed;
        let s = took.as_secs_f64();
        for (i, b) in Self::COMMIT_BUCKETS.iter().enumerate() {
            if s <= *b {
                self.commit_buckets[i].fetch_add(1, Relaxed);
            }
        }
        if tokens > 0 {
            self.token_commits.fetch_add(1, Relaxed);
            for (i, b) in Self::GROUP_BUCKETS.iter().enumerate() {
                if tokens as u64 <= *b {
                    self.group_buckets[i].fetch_add(1, Relaxed);
                }
            }
        }
    }
}

/// The running writer thread.
#[derive(Debug)]
pub struct Writer {
    handle: Option<JoinHandle<()>>,
}

impl Writer {
    /// Waits for the writer to drain and exit (after every [`Recorder`] is dropped).
    pub fn join(mut self) {
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// How the group-commit writer runs ([`crate::records::Store::start_writer`]).
#[derive(Clone, Debug)]
pub struct WriterOptions {
    /// Most token records in one group commit.
    pub max_batch: usize,
    /// Under load, the least time between two commits (`commit_interval_ms`; zero, the
    /// default, commits as soon as the previous commit returns; see the module docs).
    pub interval: Duration,
    /// Keep each issued token with its record (configuration `keep_tokens`).
    pub keep_tokens: bool,
    /// The clock that dates store outages.
    pub clock: Arc<dyn Clock>,
}

impl WriterOptions {
    /// Options with the system clock and no kept tokens.
    pub fn new(max_batch: usize, interval: Duration) -> Self {
        Self {
            max_batch,
            interval,
            keep_tokens: false,
            clock: Arc::new(inkan_profiles::clock::SystemClock),
        }
    }
}

/// Starts the writer thread over `sink` (made on that thread) and returns the handle requests
/// use.
pub(crate) fn spawn_writer<S: GroupSink, F: FnOnce() -> S + Send + 'static>(
    make: F,
    opts: WriterOptions,
    stats: Arc<WriterStats>,
    health: Arc<StoreHealth>,
) -> Result<(Recorder, Writer), StoreError> {
    let (tx, rx) = std::sync::mpsc::channel();
    let backlog = Arc::new(AtomicUsize::new(0));
    let waiting = backlog.clone();
    let keep_tokens = opts.keep_tokens;
    let h = health.clone();
    let handle = std::thread::Builder::new()
        .name("records-writer".into())
        .spawn(move || {
            let mut sink = make();
            let mut outage = Outage {
                since: None,
                clock: opts.clock.clone(),
            };
            writer_loop(
                &mut sink,
                &mut outage,
                &rx,
                opts.max_batch.max(1),
                opts.interval,
                &waiting,
                &stats,
                &h,
            );
            sink.on_stop();
        })
        .map_err(|e| StoreError::Unavailable(format!("cannot start the records writer: {e}")))?;
    Ok((
        Recorder {
            tx,
            backlog,
            keep_tokens,
            health,
        },
        Writer {
            handle: Some(handle),
        },
    ))
}

/// One implementation's side of the group commit: everything else (gathering, the order of
/// responses, outage events, statistics) is [`writer_loop`]'s, shared by every store.
pub(crate) trait GroupSink {
    /// Writes one group (tokens with their chain links, rejection counts, events) in one
    /// transaction and returns once it is durably committed. On error nothing of the group
    /// may be taken as written, and the sink's chain head stays the committed one.
    fn commit_group(&mut self, jobs: &[Job]) -> Result<(), StoreError>;
    /// Writes one event in its own transaction.
    fn write_event(&mut self, e: &Event) -> Result<(), StoreError>;
    /// While failing, how often the writer tries [`GroupSink::probe`] when idle (`None`: it
    /// waits for the next request).
    fn probe_every(&self) -> Option<Duration> {
        None
    }
    /// Tries to make the store writable again (reconnect, lease); `Ok` when it is.
    fn probe(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
    /// The writer ends (after its last commit).
    fn on_stop(&mut self) {}
}

/// Since when, how many commits failed, and the first error (while the store fails).
struct Outage {
    since: Option<(Option<UnixTime>, u64, String)>,
    clock: Arc<dyn Clock>,
}

impl Outage {
    /// Notes a failed commit (the first one dates the outage).
    fn failed(&mut self, e: &StoreError) {
        match &mut self.since {
            Some((_, n, _)) => *n += 1,
            None => self.since = Some((self.clock.now(), 1, e.detail().to_owned())),
        }
    }

    /// After a successful commit that ended an outage: records it (its own commit).
    fn recovered(&mut self, sink: &mut dyn GroupSink) {
        let Some((from, failed, error)) = self.since.take() else {
            return;
        };
        let Some(to) = self.clock.now() else { return };
        let mut e = Event::new(
            to,
            kind::STORE_OUTAGE,
            format!("the records store could not be written ({failed} failed commits): {error}; writing again"),
        )
        .field("failed_commits", failed)
        .field("error", error)
        .field("to", timefmt::rfc3339(to));
        if let Some(f) = from {
            e = e.field("from", timefmt::rfc3339(f));
        }
        tracing::warn!(failed_commits = failed, "records store writable again");
        if let Err(err) = sink.write_event(&e) {
            tracing::error!(error = %err, "cannot record the store outage event");
        }
    }
}

/// The stored value of a token record: the record as format 2, its chain link (`chain`: the
/// head before it), the token if kept (see [`Chain`]). Returns the chain after it.
pub(crate) fn stored_value(v: &mut Vec<u8>, p: &Pending, chain: Chain) -> Chain {
    let i = &p.issued;
    v.clear();
    v.push(CHAINED_FORMAT);
    v.extend_from_slice(i.record.get(1..).unwrap_or_default());
    v.extend_from_slice(&chain.next.to_be_bytes());
    v.extend_from_slice(&chain.head);
    let token = p.token.as_deref().unwrap_or_default();
    v.extend_from_slice(&u32::try_from(token.len()).unwrap_or(0).to_be_bytes());
    if u32::try_from(token.len()).is_ok() {
        v.extend_from_slice(token);
    }
    Chain {
        next: chain.next + 1,
        head: Chain::link(i.serial, v),
    }
}

fn job_tokens(j: &Job) -> usize {
    match j {
        Job::Tokens(v) => v.len(),
        _ => 1,
    }
}

/// A safety bound on holding one group open, whatever the previous commit took (a disk that
/// stalled for a second must not make the next group wait a second too). It is never a reason
/// to hold: see [`decide`].
const HOLD_CAP: Duration = Duration::from_millis(10);

/// What the writer knows about the open group when it decides whether to commit it now
/// ([`decide`]).
#[derive(Clone, Copy, Debug)]
struct GroupView {
    /// Token records in the group.
    tokens: usize,
    /// Most token records in one group (`max_batch`).
    max_batch: usize,
    /// The group holds a flush or a stop (never held back).
    control: bool,
    /// Requests waiting for a signing thread, as the pool last published them.
    backlog: usize,
    /// How long the group has been open: since the writer took its first job (the previous
    /// commit had returned by then).
    held: Duration,
    /// How long a commit (write and `fsync`) takes now: the median of the last few
    /// ([`CommitTimes`]), so that one stalled `fsync` does not stretch the next hold too.
    typical_commit: Duration,
    /// Token records in the previous commit.
    last_tokens: usize,
    /// Time since the previous commit began.
    since_last_start: Duration,
    /// The operator's least time between two commits under load (`commit_interval_ms`;
    /// zero, the default: none).
    min_interval: Duration,
}

/// The writer's choice for the open group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Decision {
    /// Commit the group now.
    Commit,
    /// Keep gathering: wait for more jobs at most this long, then decide again.
    Hold(Duration),
}

/// The group-commit decision (pure: the writer loop measures, this decides).
///
/// Classic group commit: the writer only gets here once the previous commit has returned and
/// something is waiting, and it commits at once, with two exceptions.
/// * The operator asked for a least interval between commits under load
///   (`commit_interval_ms` > 0 and the previous commit held more than one token): wait for
///   the rest of it. The default is no interval.
/// * The signing threads are saturated: more requests wait in the signing queue than the
///   group holds. The group holds what the signing threads produced during the previous
///   commit and the hold so far, so such a backlog keeps them busy for longer than one more
///   commit's duration: holding the group for up to that long (measured, at most
///   [`HOLD_CAP`]) costs no signing time, and the commit's fixed cost (copy-on-write spines,
///   two `fdatasync`s, file locks: CPU the signing threads need on a small machine) is shared
///   by more tokens, which raises throughput. Without a backlog, holding would only delay
///   responses, and the clients waiting for them send nothing meanwhile, so it never holds.
fn decide(v: &GroupView) -> Decision {
    if v.control || v.tokens >= v.max_batch {
        return Decision::Commit;
    }
    if v.tokens > 0
        && v.last_tokens > 1
        && let Some(left) = v.min_interval.checked_sub(v.since_last_start)
        && !left.is_zero()
    {
        return Decision::Hold(left);
    }
    let bound = v.typical_commit.min(HOLD_CAP);
    if v.tokens > 0
        && v.backlog > v.tokens
        && let Some(left) = bound.checked_sub(v.held)
        && !left.is_zero()
    {
        return Decision::Hold(left);
    }
    Decision::Commit
}

/// The durations of the last few group commits, for the hold's bound ([`decide`]).
///
/// The bound is a typical commit, the median of the last [`CommitTimes::LEN`]: the previous
/// commit alone would let one `fsync` that stalled behind another process's writes (tens of
/// milliseconds on a shared disk) hold the next group as long again, doubling the tail
/// latency of every client in flight for no throughput.
#[derive(Debug, Default)]
struct CommitTimes {
    last: [Duration; CommitTimes::LEN],
    /// Commits measured so far (saturating at `LEN`: then the ring is full).
    seen: usize,
    /// Where the next duration goes.
    next: usize,
}

impl CommitTimes {
    /// How many recent commits the median is taken over.
    const LEN: usize = 8;

    fn push(&mut self, took: Duration) {
        self.last[self.next] = took;
        self.next = (self.next + 1) % Self::LEN;
        self.seen = (self.seen + 1).min(Self::LEN);
    }

    /// The median of the commits measured (the lower one of the middle two for an even
    /// count); zero before the first.
    fn typical(&self) -> Duration {
        let mut v = self.last;
        let v = &mut v[..self.seen];
        v.sort_unstable();
        v.get(self.seen.saturating_sub(1) / 2)
            .copied()
            .unwrap_or_default()
    }
}

/// Moves what is queued for the writer into `batch`, up to `max_batch` tokens.
fn take_queued(rx: &Receiver<Job>, batch: &mut Vec<Job>, size: &mut usize, max_batch: usize) {
    while *size < max_batch {
        match rx.try_recv() {
            Ok(j) => {
                *size += job_tokens(&j);
                batch.push(j);
            }
            Err(_) => break,
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn writer_loop(
    state: &mut dyn GroupSink,
    outage: &mut Outage,
    rx: &Receiver<Job>,
    max_batch: usize,
    min_interval: Duration,
    backlog: &AtomicUsize,
    stats: &WriterStats,
    health: &StoreHealth,
) {
    use std::sync::atomic::Ordering::Relaxed;
    use std::time::Instant;
    let mut batch: Vec<Job> = Vec::with_capacity(max_batch);
    let mut last_start = Instant::now();
    let mut commit_times = CommitTimes::default();
    let mut last_tokens = 0usize;
    loop {
        // Block for the first job; then take whatever else is already queued.
        // While the store fails and the sink can retry by itself, wake up to probe it, so
        // that an idle instance becomes ready again without a request.
        let probe = state.probe_every().filter(|_| health.failing.load(Relaxed));
        let first = match probe {
            Some(every) => match rx.recv_timeout(every) {
                Ok(j) => Ok(j),
                Err(RecvTimeoutError::Timeout) => {
                    if state.probe().is_ok() {
                        health.failing.store(false, Relaxed);
                        outage.recovered(state);
                    }
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => Err(()),
            },
            None => rx.recv().map_err(|_| ()),
        };
        match first {
            Ok(j) => batch.push(j),
            Err(()) => return,
        }
        let opened = Instant::now();
        let mut size = batch.iter().map(job_tokens).sum::<usize>();
        take_queued(rx, &mut batch, &mut size, max_batch);
        // Hold the group only while `decide` says so; each job that arrives meanwhile (one
        // message per batch a signing thread finished) wakes the writer to decide again.
        loop {
            let now = Instant::now();
            let view = GroupView {
                tokens: batch
                    .iter()
                    .filter(|j| matches!(j, Job::Tokens(_)))
                    .map(job_tokens)
                    .sum(),
                max_batch,
                control: batch.iter().any(|j| matches!(j, Job::Flush(_) | Job::Stop)),
                backlog: backlog.load(Relaxed),
                held: now - opened,
                typical_commit: commit_times.typical(),
                last_tokens,
                since_last_start: now - last_start,
                min_interval,
            };
            let Decision::Hold(wait) = decide(&view) else {
                break;
            };
            match rx.recv_timeout(wait) {
                Ok(j) => {
                    size += job_tokens(&j);
                    batch.push(j);
                    take_queued(rx, &mut batch, &mut size, max_batch);
                }
                Err(RecvTimeoutError::Timeout) => {}
                // Every Recorder is gone: commit what the group holds, then the next `recv`
                // ends the loop.
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        last_tokens = batch
            .iter()
            .filter(|j| matches!(j, Job::Tokens(_)))
            .map(job_tokens)
            .sum();
        last_start = Instant::now();
        let has_work = batch
            .iter()
            .any(|j| !matches!(j, Job::Flush(_) | Job::Stop));
        let stop = batch.iter().any(|j| matches!(j, Job::Stop));
        let began = Instant::now();
        let result = if has_work {
            state.commit_group(&batch)
        } else {
            Ok(())
        };
        let took = began.elapsed();
        if has_work {
            commit_times.push(took);
        }
        stats
            .commit_micros
            .fetch_add(u64::try_from(took.as_micros()).unwrap_or(u64::MAX), Relaxed);
        stats.commits.fetch_add(u64::from(has_work), Relaxed);
        if has_work {
            stats.observe_commit(took, last_tokens);
        }
        match &result {
            Err(e) => {
                stats.failures.fetch_add(1, Relaxed);
                health.failing.store(true, Relaxed);
                tracing::error!(error = %e, records = batch.len(), "group commit failed");
                outage.failed(e);
            }
            Ok(()) if has_work => {
                health.failing.store(false, Relaxed);
                outage.recovered(state);
            }
            Ok(()) => {}
        }
        let mut n = 0;
        for job in batch.drain(..) {
            match job {
                Job::Tokens(list) => {
                    for p in list {
                        n += 1;
                        (p.notify)(result.clone());
                    }
                }
                Job::Flush(done) => {
                    let _ = done.send(());
                }
                Job::Event(..) | Job::Reject(_) | Job::Stop => {}
            }
        }
        if result.is_ok() {
            stats.records.fetch_add(n, Relaxed);
        }
        if stop {
            // Whatever was queued before the stop is committed; later submissions fail.
            return;
        }
    }
}

impl Recorder {
    /// Publishes how many requests wait for a signing thread (the signing pool calls this as
    /// its queue changes). The writer holds a group open (at most one commit's duration) while
    /// this exceeds the group's size: the signing threads are saturated then.
    pub fn set_backlog(&self, queued: usize) {
        self.backlog
            .store(queued, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether the store can be written now, as far as this instance knows (for `/readyz`):
    /// a shared store's lease is held and its last commit did not fail.
    pub fn ready(&self) -> Result<(), String> {
        self.health.check()
    }

    /// Prometheus lines on a shared store's lease and writability (empty for the embedded
    /// store); commit latency, group size and failures are in [`WriterStats`].
    pub fn store_metrics(&self) -> String {
        let h = &self.health;
        let Some(l) = &h.lease else {
            return String::new();
        };
        format!(
            "# HELP inkan_tsa_store_lease_held Whether this instance holds the lease on its instance number (shared store).\n# TYPE inkan_tsa_store_lease_held gauge\ninkan_tsa_store_lease_held {}\n# HELP inkan_tsa_store_instance The instance number held or last held (shared store).\n# TYPE inkan_tsa_store_instance gauge\ninkan_tsa_store_instance {}\n# HELP inkan_tsa_store_writable Whether the last group commit or probe of the shared store succeeded.\n# TYPE inkan_tsa_store_writable gauge\ninkan_tsa_store_writable {}\n",
            u8::from(l.check().is_ok()),
            l.number(),
            u8::from(!h.failing.load(std::sync::atomic::Ordering::Relaxed)),
        )
    }

    /// Whether issued tokens are kept with their records (configuration `keep_tokens`): the
    /// signing pool then passes each token in [`Pending::token`].
    pub fn keeps_tokens(&self) -> bool {
        self.keep_tokens
    }

    /// Submits granted tokens signed together; each one's `notify` runs after the commit
    /// that holds it. If the writer has stopped, every `notify` gets the error at once.
    pub fn commit_batch(&self, batch: Vec<Pending>) {
        if let Err(std::sync::mpsc::SendError(Job::Tokens(list))) = self.tx.send(Job::Tokens(batch))
        {
            for p in list {
                (p.notify)(Err(StoreError::WriterStopped));
            }
        }
    }

    /// Submits one token record and waits until it is durably committed.
    pub async fn commit(&self, issued: Issued) -> Result<(), StoreError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.commit_batch(vec![Pending {
            issued,
            notify: Box::new(move |r| {
                let _ = tx.send(r);
            }),
            token: None,
        }]);
        rx.await.map_err(|_| StoreError::WriterStopped)?
    }

    /// Submits one token record from a blocking thread and waits for its commit.
    pub fn commit_blocking(&self, issued: Issued) -> Result<(), StoreError> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.commit_batch(vec![Pending {
            issued,
            notify: Box::new(move |r| {
                let _ = tx.send(r);
            }),
            token: None,
        }]);
        rx.recv().map_err(|_| StoreError::WriterStopped)?
    }

    /// Records an event with the next commit (not awaited).
    pub fn event(&self, at: UnixTime, kind: &str, detail: &str) {
        self.record(Event::new(at, kind, detail));
    }

    /// Records a service event, with its data fields, with the next group commit (not
    /// awaited; the store keeps events in the order they were submitted). This is the API for
    /// every part of the service that has something for the audit trail: clock discipline,
    /// certificate and key checks, ...
    pub fn record(&self, e: Event) {
        let _ = self.tx.send(Job::Event(Box::new(e)));
    }

    /// Counts a rejection with the next commit (not awaited).
    pub fn reject(&self, reason: &'static str) {
        let _ = self.tx.send(Job::Reject(reason));
    }

    /// Commits everything submitted before this call, then ends the writer thread (it drops
    /// its handle on the database, so the file can be opened again once [`crate::records::Store`] is
    /// dropped). Join the [`Writer`] to wait for it.
    pub fn stop(&self) {
        let _ = self.tx.send(Job::Stop);
    }

    /// Waits until everything submitted before this call is committed (or `timeout`).
    pub fn flush(&self, timeout: Duration) -> bool {
        let (tx, rx) = std::sync::mpsc::channel();
        if self.tx.send(Job::Flush(tx)).is_err() {
            return false;
        }
        !matches!(rx.recv_timeout(timeout), Err(RecvTimeoutError::Timeout))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(tokens: usize) -> GroupView {
        GroupView {
            tokens,
            max_batch: 4096,
            control: false,
            backlog: 0,
            held: Duration::ZERO,
            typical_commit: Duration::from_millis(2),
            last_tokens: 50,
            since_last_start: Duration::from_millis(2),
            min_interval: Duration::ZERO,
        }
    }

    #[test]
    fn decide_commits_at_once_without_a_saturated_signing_queue() {
        // Classic group commit: the previous commit has returned and something waits.
        assert_eq!(decide(&view(1)), Decision::Commit);
        assert_eq!(decide(&view(40)), Decision::Commit);
        // Fewer (or as many) waiting requests than the group holds: the signing threads would
        // run dry during a hold, and the clients of the group send nothing meanwhile.
        assert_eq!(
            decide(&GroupView {
                backlog: 40,
                ..view(40)
            }),
            Decision::Commit
        );
        // An idle server after a single-token commit, with events only: commit.
        assert_eq!(
            decide(&GroupView {
                last_tokens: 1,
                ..view(0)
            }),
            Decision::Commit
        );
    }

    #[test]
    fn decide_holds_a_group_while_the_signing_threads_are_saturated() {
        let v = GroupView {
            backlog: 200,
            ..view(40)
        };
        assert_eq!(decide(&v), Decision::Hold(Duration::from_millis(2)));
        // Partly held: only the rest of one commit's duration.
        assert_eq!(
            decide(&GroupView {
                held: Duration::from_micros(1500),
                ..v
            }),
            Decision::Hold(Duration::from_micros(500))
        );
        // Held as long as a typical commit takes: commit, backlog or not.
        assert_eq!(
            decide(&GroupView {
                held: Duration::from_millis(2),
                ..v
            }),
            Decision::Commit
        );
        // The backlog fell to the group's size meanwhile: commit.
        assert_eq!(
            decide(&GroupView {
                backlog: 40,
                held: Duration::from_micros(300),
                ..v
            }),
            Decision::Commit
        );
        // A stalled disk does not stretch the hold past the safety bound.
        assert_eq!(
            decide(&GroupView {
                typical_commit: Duration::from_secs(3),
                ..v
            }),
            Decision::Hold(HOLD_CAP)
        );
        // The very first group (no commit measured yet) is not held.
        assert_eq!(
            decide(&GroupView {
                typical_commit: Duration::ZERO,
                ..v
            }),
            Decision::Commit
        );
        // A group without token records (events, rejections) is not held.
        assert_eq!(decide(&GroupView { tokens: 0, ..v }), Decision::Commit);
    }

    #[test]
    fn a_typical_commit_is_the_median_of_the_last_few() {
        let ms = Duration::from_millis;
        let mut t = CommitTimes::default();
        assert_eq!(t.typical(), Duration::ZERO);
        t.push(ms(2));
        assert_eq!(t.typical(), ms(2));
        // One stalled fsync does not become the bound.
        t.push(ms(40));
        t.push(ms(3));
        assert_eq!(t.typical(), ms(3));
        for _ in 0..CommitTimes::LEN {
            t.push(ms(1));
        }
        assert_eq!(t.typical(), ms(1));
        // A disk that is slow for good is followed within a few commits.
        for _ in 0..CommitTimes::LEN / 2 + 1 {
            t.push(ms(9));
        }
        assert_eq!(t.typical(), ms(9));
    }

    #[test]
    fn decide_never_holds_a_flush_a_stop_or_a_full_group() {
        let v = GroupView {
            backlog: usize::MAX,
            min_interval: Duration::from_millis(5),
            since_last_start: Duration::ZERO,
            ..view(40)
        };
        assert!(matches!(decide(&v), Decision::Hold(_)));
        assert_eq!(decide(&GroupView { control: true, ..v }), Decision::Commit);
        assert_eq!(decide(&GroupView { tokens: 4096, ..v }), Decision::Commit);
    }

    #[test]
    fn decide_keeps_an_operators_commit_interval_under_load_only() {
        let v = GroupView {
            min_interval: Duration::from_millis(5),
            ..view(10)
        };
        // Under load (the previous commit held several tokens): the rest of the interval.
        assert_eq!(decide(&v), Decision::Hold(Duration::from_millis(3)));
        assert_eq!(
            decide(&GroupView {
                since_last_start: Duration::from_millis(6),
                ..v
            }),
            Decision::Commit
        );
        // An idle server (the previous commit held one token) commits at once.
        assert_eq!(
            decide(&GroupView {
                last_tokens: 1,
                ..v
            }),
            Decision::Commit
        );
    }
}
