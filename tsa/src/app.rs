//! Assembling a running TSA from [`Settings`]: identity checks, store and serial epoch, time
//! discipline, signing, the HTTP listener; and taking it down again.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use inkan_hsm::cms::CmsSignerTemplate;
use inkan_profiles::clock::Clock;

use crate::config::Settings;
use crate::handler::{self, Context, Signing, TstTemplate};
use crate::metrics::Metrics;
use crate::ntp::{ClockEvent, Poller, TimeGuard};
use crate::pool::SigningPool;
use crate::records::{self, Event, Store, WriterOptions, WriterStats};
use crate::serial::SerialSource;
use crate::server::{self, App, Limits};
use crate::startup::{self, Identity};
use crate::token::CmsTokenSigner;

/// A TSA started by [`start`].
#[derive(Debug)]
pub struct Running {
    /// The bound address.
    pub addr: SocketAddr,
    /// The records store path.
    pub store_path: std::path::PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<()>,
    reloader: Reloader,
}

impl Running {
    /// Starts a graceful shutdown and waits for it (requests in flight finish, records are
    /// flushed).
    pub async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = (&mut self.done).await;
    }

    /// Waits until the server stops (after [`Running::stop_handle`] fires).
    pub async fn wait(self) {
        let _ = self.done.await;
    }

    /// Takes the trigger that starts a graceful shutdown.
    pub fn stop_handle(&mut self) -> Option<tokio::sync::oneshot::Sender<()>> {
        self.stop.take()
    }

    /// What SIGHUP calls: replaces the key and certificate chain.
    pub fn reloader(&self) -> Reloader {
        self.reloader.clone()
    }
}

/// The subject of a DER certificate Name as RFC 4514 text (for logs and events).
pub fn subject_text(subject_der: &[u8]) -> String {
    use der::Decode as _;
    x509_cert::name::Name::from_der(subject_der)
        .map_or_else(|_| "(unreadable subject)".into(), |n| n.to_string())
}

/// The key and certificate chain `s` names, or `--dev`'s development pair under the data
/// directory (made when missing), with whether the development PKI was made or reused.
fn identity_paths(
    s: &Settings,
    now: inkan_profiles::time::UnixTime,
) -> Result<(String, std::path::PathBuf, Option<crate::dev::Made>), String> {
    match (&s.key, &s.cert_chain) {
        (Some(k), Some(c)) => Ok((k.clone(), c.clone(), None)),
        _ if s.dev => {
            let (d, made) = crate::dev::ensure(&s.data_dir, now).map_err(|e| e.to_string())?;
            Ok((d.key.display().to_string(), d.chain, Some(made)))
        }
        _ => Err("no key or certificate configured".into()),
    }
}

/// The parts of the handler context that belong to one key and certificate (RFC 3161 §2.4.2:
/// the `tsa` name is the certificate's subject; with `include_chain` a `certReq` token carries
/// the configured issuers as well).
fn signing_for(identity: &Identity, s: &Settings) -> Result<Signing, String> {
    let chain = if s.include_chain {
        identity.chain_der[1..].to_vec()
    } else {
        Vec::new()
    };
    let template = CmsSignerTemplate::new(
        identity.signer.clone(),
        identity.chain_der[0].clone(),
        chain,
    )
    .map_err(|e| format!("cannot prepare the CMS signer: {e}"))?;
    let tsa_name = s.include_tsa_name.then(|| {
        // tsa [0] EXPLICIT GeneralName; GeneralName directoryName [4] EXPLICIT Name.
        let mut dn = Vec::new();
        handler::push_tlv(&mut dn, 0xa4, &identity.subject_der);
        let mut out = Vec::new();
        handler::push_tlv(&mut out, 0xa0, &dn);
        out
    });
    let shake_imprints = inkan_hsm::cms::digest_for(&identity.signer.algorithm())
        == Some(inkan_profiles::alg::DigestAlgorithm::Shake256_512);
    Ok(Signing {
        template: TstTemplate {
            accuracy: handler::accuracy_der(s.accuracy),
            tsa_name,
            fraction_digits: 6,
        },
        signer: Box::new(CmsTokenSigner::new(template, identity.cert_sha256)),
        cert_sha256: identity.cert_sha256,
        shake_imprints,
        window: identity.window.clone(),
    })
}

/// Replaces the live key and certificate chain without stopping the service (SIGHUP): the new
/// pair must pass every start-up check ([`startup::load_identity`]) or the old one stays;
/// either way the outcome is logged and recorded as an event (EN 319 421 OVR-7.12: records of
/// key and certificate changes). Tokens being made finish with the pair they started with,
/// and the serial space of the run goes on (no serial repeats).
#[derive(Clone)]
pub struct Reloader {
    /// The settings the service started with (what a reload does not change).
    running: Arc<Settings>,
    ctx: Arc<Context>,
    metrics: Arc<Metrics>,
    recorder: records::Recorder,
    clock: Arc<dyn Clock>,
    /// One reload at a time (two SIGHUPs in quick succession run one after the other).
    busy: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for Reloader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reloader").finish_non_exhaustive()
    }
}

/// A successful rollover.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reloaded {
    /// The key's label (never a PIN).
    pub key: String,
    /// The certificate's subject.
    pub subject: String,
    /// SHA-256 of the certificate, hex.
    pub certificate_sha256: String,
    /// Whether it is the pair that was live already.
    pub unchanged: bool,
}

impl Reloader {
    /// Loads the key and chain `next` names (or the reason the configuration could not be
    /// read), checks them, and makes them live; on any failure the live pair stays. Returns
    /// the outcome as logged.
    pub async fn reload(&self, next: Result<Settings, String>) -> Result<Reloaded, String> {
        let _one = self.busy.lock().await;
        let result = self.try_reload(next).await;
        let now = self.clock.now();
        match &result {
            Ok(r) => {
                tracing::info!(
                    event = records::kind::IDENTITY_RELOADED,
                    key = %r.key,
                    certificate_subject = %r.subject,
                    certificate_sha256 = %r.certificate_sha256,
                    unchanged = r.unchanged,
                    "SIGHUP: key and certificate reloaded{}",
                    if r.unchanged { " (the same pair as before)" } else { "; new tokens use them" }
                );
                if let Some(t) = now {
                    self.recorder.record(
                        Event::new(
                            t,
                            records::kind::IDENTITY_RELOADED,
                            format!(
                                "key {} and certificate {} (sha256 {}) reloaded{}",
                                r.key,
                                r.subject,
                                r.certificate_sha256,
                                if r.unchanged {
                                    "; unchanged"
                                } else {
                                    "; now live"
                                }
                            ),
                        )
                        .field("key", r.key.clone())
                        .field("certificate_subject", r.subject.clone())
                        .field("certificate_sha256", r.certificate_sha256.clone())
                        .field("unchanged", r.unchanged),
                    );
                }
            }
            Err(e) => {
                let live = records::hex(&self.ctx.signing().cert_sha256);
                tracing::error!(
                    event = records::kind::IDENTITY_RELOAD_FAILED,
                    error = %e,
                    live_certificate_sha256 = %live,
                    "SIGHUP: reload refused; the current key and certificate stay live"
                );
                if let Some(t) = now {
                    self.recorder.record(
                        Event::new(
                            t,
                            records::kind::IDENTITY_RELOAD_FAILED,
                            format!("reload refused ({e}); certificate sha256 {live} stays live"),
                        )
                        .field("reason", e.clone())
                        .field("certificate_sha256", live),
                    );
                }
            }
        }
        result
    }

    async fn try_reload(&self, next: Result<Settings, String>) -> Result<Reloaded, String> {
        let mut s = next?;
        // Only the signing identity is reloaded (key, cert_chain, rsa_scheme, include_chain,
        // include_tsa_name); the rest of the service keeps its start-up settings, and the
        // tokens keep declaring the accuracy the clock is checked against.
        let r = &self.running;
        for (key, changed) in [
            ("listen", s.listen != r.listen),
            ("data_dir", s.data_dir != r.data_dir),
            ("policy", s.policy != r.policy),
            (
                "accepted_policies",
                s.accepted_policies != r.accepted_policies,
            ),
            ("accuracy_ms", s.accuracy != r.accuracy),
            ("ntp_servers", s.ntp_servers != r.ntp_servers),
        ] {
            if changed {
                tracing::warn!(
                    setting = key,
                    "SIGHUP: {key} changed in the configuration; it takes effect at the next restart (a reload changes only the key and certificate chain)"
                );
            }
        }
        s.accuracy = r.accuracy;
        s.data_dir = r.data_dir.clone();
        let now = self.clock.now().ok_or("the host clock cannot be read")?;
        let (keyref, chain_path, _) = {
            let s = s.clone();
            tokio::task::spawn_blocking(move || identity_paths(&s, now))
                .await
                .map_err(|e| e.to_string())??
        };
        let (scheme, dev) = (s.rsa_scheme, s.dev);
        let identity = tokio::task::spawn_blocking(move || {
            startup::load_identity(&keyref, &chain_path, scheme, now, dev)
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
        let signing = signing_for(&identity, &s)?;
        let reloaded = Reloaded {
            key: identity.key.label().to_owned(),
            subject: subject_text(&identity.subject_der),
            certificate_sha256: records::hex(&identity.cert_sha256),
            unchanged: self.ctx.signing().cert_sha256 == identity.cert_sha256,
        };
        for w in &identity.warnings {
            tracing::warn!("{w}");
            self.recorder.record(Event::new(
                now,
                records::kind::CERTIFICATE_WARNING,
                w.clone(),
            ));
        }
        self.ctx.replace_signing(signing);
        self.metrics
            .cert_not_after
            .store(identity.not_after, Relaxed);
        Ok(reloaded)
    }
}

fn clock_event_text(e: &ClockEvent) -> (&'static str, String) {
    match e {
        ClockEvent::TrustingHost => (
            "clock_trust_host",
            "no SNTP servers configured; the host clock is trusted as disciplined".into(),
        ),
        ClockEvent::ServerFailing { server, error } => (
            "sntp_server_failing",
            format!("SNTP server {server}: {error}; polling goes on"),
        ),
        ClockEvent::ServerAnswering { server } => (
            "sntp_server_answering",
            format!("SNTP server {server} answers again"),
        ),
        ClockEvent::Synchronised {
            offset_ns,
            uncertainty_ns,
            good,
            of,
            measurements,
        } => (
            "clock_synchronised",
            format!(
                "offset {:.6} s, uncertainty {:.6} s, {good} of {of} servers agree; issuing; {measurements}",
                *offset_ns as f64 / 1e9,
                *uncertainty_ns as f64 / 1e9
            ),
        ),
        ClockEvent::Lost { reason } => ("clock_lost", format!("{reason}; issuing stopped")),
        ClockEvent::LeapAnnounced { at } => (
            "leap_announced",
            format!(
                "leap second announced for {}",
                crate::timefmt::rfc3339(inkan_profiles::time::UnixTime::from_secs(*at))
            ),
        ),
        ClockEvent::Step {
            step_ns,
            out_of_accuracy,
            leap,
        } => (
            "clock_step",
            format!(
                "the wall clock stepped by {:+.6} s against the monotonic clock{}",
                *step_ns as f64 / 1e9,
                if *leap {
                    " (a leap second applied by the host clock, EN 319 421 TIS-7.7.2-09)"
                } else if *out_of_accuracy {
                    "; beyond the declared accuracy"
                } else {
                    "; within the declared accuracy"
                }
            ),
        ),
        ClockEvent::HostStopped { total_ns } => (
            "clock_lost",
            format!(
                "no SNTP servers and the host clock's steps add up to {:+.6} s, beyond the declared accuracy: issuing stopped until the TSA is restarted after the clock is checked",
                *total_ns as f64 / 1e9
            ),
        ),
        ClockEvent::RateLimited { server, interval } => (
            "sntp_rate",
            format!(
                "SNTP server {server} sent a RATE kiss-o'-death; now polled every {} s",
                interval.as_secs_f64()
            ),
        ),
        ClockEvent::ServerDropped { server, code } => (
            "sntp_server_dropped",
            format!(
                "SNTP server {server} sent a {code} kiss-o'-death; no longer polled until restart (it still counts towards the majority needed)"
            ),
        ),
        ClockEvent::IdentityExpiring { what, at } => (
            "identity_expiring",
            format!(
                "the TSA {what} ends at {} (within 30 days); issuing will stop then",
                crate::timefmt::rfc3339(*at)
            ),
        ),
        ClockEvent::IdentityEnded { what, at } => (
            "identity_ended",
            format!(
                "the TSA {what} ended at {} (EN 319 421 TIS-7.7.1-09): issuing stopped (systemFailure)",
                crate::timefmt::rfc3339(*at)
            ),
        ),
    }
}

/// Every `every` until `stop` is dropped: a clock measurement event (EN 319 421 OVR-7.12,
/// records of clock synchronisation: the offset and uncertainty the time guard holds, whether
/// issuing is allowed) and, when there were any, the rejections by reason since the previous
/// one.
fn sample_events(
    every: std::time::Duration,
    guard: &TimeGuard,
    metrics: &Metrics,
    rec: &records::Recorder,
    clock: &dyn Clock,
    stop: &std::sync::mpsc::Receiver<()>,
) {
    // Counted from zero, not from when this thread first runs: rejections answered before it
    // was scheduled (a loaded machine at start) belong to the first interval.
    let mut before = metrics.rejected_counts().map(|_| 0);
    loop {
        match stop.recv_timeout(every) {
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            _ => return,
        }
        let Some(now) = clock.now() else { continue };
        let known = guard.offset_if_known();
        let synchronised = guard.ready();
        let source = if guard.trusts_host() { "host" } else { "sntp" };
        let measured = match known {
            Some((o, u)) => format!(
                "offset {:.6} s, uncertainty {:.6} s",
                o as f64 / 1e9,
                u as f64 / 1e9
            ),
            None => "offset unknown (no fresh measurement)".into(),
        };
        let mut e = Event::new(
            now,
            records::kind::CLOCK_MEASUREMENT,
            format!(
                "clock source {source}: {measured}, {}",
                if synchronised {
                    "issuing"
                } else {
                    "not issuing"
                }
            ),
        )
        .field("source", source)
        .field("synchronised", synchronised)
        .field("accuracy_s", guard.accuracy().as_secs_f64());
        if let Some((o, u)) = known {
            e = e
                .field("offset_s", o as f64 / 1e9)
                .field("uncertainty_s", u as f64 / 1e9);
        }
        rec.record(e);
        let counts = metrics.rejected_counts();
        let mut e = Event::new(now, records::kind::REJECTIONS, String::new());
        let mut parts = Vec::new();
        for (i, f) in handler::Failure::ALL.iter().enumerate() {
            let n = counts[i].saturating_sub(before[i]);
            if n > 0 {
                parts.push(format!("{} {n}", f.name()));
                e = e.field(f.name(), n);
            }
        }
        before = counts;
        if !parts.is_empty() {
            e.detail = format!(
                "rejections in the last {} s: {}",
                every.as_secs(),
                parts.join(", ")
            );
            rec.record(e.field("interval_s", every.as_secs()));
        }
    }
}

/// Starts the TSA: fails (with a message for the operator) on any start-up check.
pub async fn start(settings: Settings, clock: Arc<dyn Clock>) -> Result<Running, String> {
    let now = clock.now().ok_or("the host clock cannot be read")?;
    let s = settings.clone();
    let (keyref, chain_path, dev_made) = identity_paths(&s, now)?;
    if let Some(made) = dev_made {
        let root = crate::dev::paths(&s.data_dir).root;
        match made {
            crate::dev::Made::Created => tracing::warn!(
                root = %root.display(),
                "--dev: made a development CA, TSA certificate and P-256 key under {} (NOT FOR PRODUCTION)",
                s.data_dir.display()
            ),
            crate::dev::Made::Reused => tracing::warn!(
                root = %root.display(),
                "--dev: using the development CA and TSA key under {} (NOT FOR PRODUCTION)",
                s.data_dir.display()
            ),
        }
    }
    let scheme = s.rsa_scheme;
    let dev = s.dev;
    let identity = tokio::task::spawn_blocking(move || {
        startup::load_identity(&keyref, &chain_path, scheme, now, dev)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    for w in &identity.warnings {
        tracing::warn!("{w}");
    }
    let store = Store::open_configured(
        s.store.as_deref(),
        &s.data_dir,
        Some(s.store_cache_bytes),
        clock.clone(),
    )
    .map_err(|e| e.to_string())?;
    let space = store.reserve_serials(now).map_err(|e| e.to_string())?;
    let chain_at_start = store.chain().map_err(|e| e.to_string())?;
    let cert_hex = records::hex(&identity.cert_sha256);
    store
        .record_now(
            &Event::new(
                now,
                records::kind::START,
                format!(
                    "key {} ({:?}), algorithm {:?}, certificate sha256 {cert_hex}, serial prefix {:016x}, epoch {}, instance {}",
                    identity.key.label(),
                    identity.key.kind(),
                    identity.signer.algorithm(),
                    space.prefix,
                    space.epoch,
                    s.instance_id
                ),
            )
            .field("certificate_sha256", cert_hex.clone())
            .field("serial_prefix", format!("{:016x}", space.prefix))
            .field("serial_epoch", space.epoch)
            .field("instance_id", s.instance_id)
            .field("store_instance", space.instance)
            .field("chain_records", chain_at_start.next)
            .field("chain_head", chain_at_start.head_hex()),
        )
        .map_err(|e| e.to_string())?;
    // Start-up warnings about the certificate or key go to the audit trail as well as the log.
    for w in &identity.warnings {
        store
            .record_now(&Event::new(
                now,
                records::kind::CERTIFICATE_WARNING,
                w.clone(),
            ))
            .map_err(|e| e.to_string())?;
    }
    if let Some(made) = dev_made {
        let what = match made {
            crate::dev::Made::Created => "made",
            crate::dev::Made::Reused => "reused",
        };
        store
            .event_now(
                now,
                "dev_pki",
                &format!(
                    "--dev: development PKI {what} under {} (NOT FOR PRODUCTION)",
                    s.data_dir.display()
                ),
            )
            .map_err(|e| e.to_string())?;
    }
    let signing = signing_for(&identity, &s)?;
    let guard = Arc::new(
        TimeGuard::new(
            clock.clone(),
            s.ntp_servers.is_empty(),
            s.accuracy,
            s.leap_policy,
            s.leap_window,
        )
        .with_identity(identity.window.clone()),
    );
    let ctx = Context {
        policy: s.policy,
        accepted_policies: s.accepted_policies.clone(),
        signing: std::sync::RwLock::new(Arc::new(signing)),
        serials: match store.prefix_cell() {
            Some(cell) => SerialSource::shared(cell, space.epoch),
            None => SerialSource::new(space.prefix, space.epoch),
        },
        guard: guard.clone(),
    };
    let writer_stats = Arc::new(WriterStats::default());
    let (recorder, writer) = store
        .start_writer(
            WriterOptions {
                max_batch: s.max_batch,
                interval: s.commit_interval,
                keep_tokens: s.keep_tokens,
                clock: clock.clone(),
            },
            writer_stats.clone(),
        )
        .map_err(|e| e.to_string())?;
    let (poll_stop_tx, poll_stop_rx) = std::sync::mpsc::channel::<()>();
    if s.ntp_servers.is_empty() {
        tracing::warn!(
            "no SNTP servers configured: trusting the host clock (run chrony or ntpd; see /metrics inkan_tsa_clock_source)"
        );
        let (kind, detail) = clock_event_text(&ClockEvent::TrustingHost);
        recorder.event(now, kind, &detail);
    }
    // The poller thread runs in both modes: SNTP polls when servers are configured, and on
    // every tick the step, staleness and signing-identity checks with their events.
    let rec = recorder.clone();
    let clk = clock.clone();
    let poller = Poller::new(
        guard.clone(),
        s.ntp_servers.clone(),
        s.ntp_poll,
        s.ntp_freshness,
        s.ntp_timeout,
        Box::new(move |e| {
            let (kind, detail) = clock_event_text(&e);
            match e {
                ClockEvent::Lost { .. }
                | ClockEvent::HostStopped { .. }
                | ClockEvent::ServerDropped { .. }
                | ClockEvent::IdentityEnded { .. }
                | ClockEvent::Step {
                    out_of_accuracy: true,
                    ..
                } => tracing::error!(event = kind, "{detail}"),
                ClockEvent::Step { .. }
                | ClockEvent::ServerFailing { .. }
                | ClockEvent::RateLimited { .. }
                | ClockEvent::IdentityExpiring { .. } => {
                    tracing::warn!(event = kind, "{detail}");
                }
                _ => tracing::info!(event = kind, "{detail}"),
            }
            if let Some(t) = clk.now() {
                // The measurements that decided it go with the event, for the auditor.
                let mut ev = Event::new(t, kind, detail);
                if let ClockEvent::Synchronised {
                    offset_ns,
                    uncertainty_ns,
                    good,
                    of,
                    ..
                } = e
                {
                    ev = ev
                        .field("offset_s", offset_ns as f64 / 1e9)
                        .field("uncertainty_s", uncertainty_ns as f64 / 1e9)
                        .field("good_servers", good)
                        .field("servers", of);
                }
                rec.record(ev);
            }
        }),
    );
    let poller_thread = std::thread::Builder::new()
        .name("sntp".into())
        .spawn(move || poller.run(poll_stop_rx))
        .map_err(|e| format!("cannot start the SNTP poller: {e}"))?;
    let ctx = Arc::new(ctx);
    let pool = Arc::new(
        SigningPool::start(
            ctx.clone(),
            recorder.clone(),
            s.signing_threads,
            16,
            s.max_queue,
        )
        .map_err(|e| format!("cannot start the signing threads: {e}"))?,
    );
    let metrics = Arc::new(Metrics::default());
    metrics.cert_not_after.store(identity.not_after, Relaxed);
    let reloader = Reloader {
        running: Arc::new(settings),
        ctx: ctx.clone(),
        metrics: metrics.clone(),
        recorder: recorder.clone(),
        clock: clock.clone(),
        busy: Arc::new(tokio::sync::Mutex::new(())),
    };
    let app = Arc::new(App {
        ctx,
        pool: pool.clone(),
        guard,
        recorder: recorder.clone(),
        writer_stats,
        metrics,
        clock: clock.clone(),
        limits: Limits {
            max_body_bytes: s.max_body_bytes,
            header_read_timeout: s.header_read_timeout,
            request_timeout: s.request_timeout,
            max_connections: s.max_connections,
            shutdown_grace: s.shutdown_grace,
            idle_timeout: s.idle_timeout,
            http2_keep_alive: s.http2_keep_alive,
        },
    });
    let (sample_stop_tx, sample_stop_rx) = std::sync::mpsc::channel::<()>();
    if let Some(every) = s.clock_record_interval {
        let (guard, metrics, rec, clk) = (
            app.guard.clone(),
            app.metrics.clone(),
            recorder.clone(),
            clock.clone(),
        );
        std::thread::Builder::new()
            .name("events-sampler".into())
            .spawn(move || sample_events(every, &guard, &metrics, &rec, &*clk, &sample_stop_rx))
            .map_err(|e| format!("cannot start the events sampler: {e}"))?;
    }
    let listener = tokio::net::TcpListener::bind(s.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", s.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // The start-up line: which key and certificate are live, the policy, the
    // accuracy, the clock mode and where the records go; never a PIN (the key's label is the
    // file path or the PKCS#11 URI without any PIN).
    let clock_mode = if s.ntp_servers.is_empty() {
        "host clock trusted (no SNTP servers)".to_owned()
    } else {
        format!(
            "SNTP check against {} (majority of {})",
            s.ntp_servers.join(", "),
            s.ntp_servers.len() / 2 + 1
        )
    };
    tracing::info!(
        %addr,
        key = %identity.key.label(),
        certificate_subject = %subject_text(&identity.subject_der),
        certificate_sha256 = %cert_hex,
        policy = %s.policy,
        accuracy_ms = u64::try_from(s.accuracy.as_millis()).unwrap_or(u64::MAX),
        clock = %clock_mode,
        data_dir = %s.data_dir.display(),
        store = %store.path().display(),
        "inkan-tsa listening"
    );
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let store_path = store.path().to_path_buf();
    let done = tokio::spawn(async move {
        let shutdown = async move {
            let _ = stop_rx.await;
        };
        if let Err(e) = server::serve(listener, app.clone(), shutdown).await {
            tracing::error!(error = %e, "server error");
        }
        drop(poll_stop_tx);
        // Its last events (a step, the identity's end) go before the stop event.
        let _ = tokio::task::spawn_blocking(move || poller_thread.join()).await;
        // Requests in flight are answered; the signing threads finish their queue and stop.
        let p = pool.clone();
        let _ = tokio::task::spawn_blocking(move || p.close()).await;
        drop(sample_stop_tx);
        let rec = recorder.clone();
        let issued = app.ctx.serials.issued();
        let rejected = app.metrics.rejected_counts();
        let _ = tokio::task::spawn_blocking(move || {
            rec.flush(std::time::Duration::from_secs(30));
            rec.stop();
            writer.join();
            // The writer is done: the stop event carries the chain head it left, for the
            // auditor to compare with the next start's.
            if let (Some(t), Ok(chain)) = (clock.now(), store.chain()) {
                let e = Event::new(
                    t,
                    records::kind::STOP,
                    format!("graceful shutdown; {issued} serials issued"),
                )
                .field("serials_issued", issued)
                .field("chain_records", chain.next)
                .field("chain_head", chain.head_hex());
                // Rejections by reason over the whole run.
                let mut by_reason = serde_json::Map::new();
                for (i, f) in handler::Failure::ALL.iter().enumerate() {
                    by_reason.insert(f.name().into(), rejected[i].into());
                }
                let e = e.field("rejections", serde_json::Value::Object(by_reason));
                if let Err(e) = store.record_now(&e) {
                    tracing::error!(error = %e, "cannot record the stop event");
                }
            }
            // The writer thread has released the database; this is the last handle.
            drop(store);
        })
        .await;
    });
    Ok(Running {
        addr,
        store_path,
        stop: Some(stop_tx),
        done,
        reloader,
    })
}
