//! The HTTP server: hyper 1.x on tokio, HTTP/1.1 (keep-alive) and HTTP/2 on one port.
//!
//! * `POST /` with `Content-Type: application/timestamp-query` → `application/timestamp-reply`;
//!   wrong method 405, wrong content type 415, body over the limit 413, unknown path 404.
//! * `GET /healthz` (alive), `GET /readyz` (clock allows issuing and the store accepts
//!   records; 503 otherwise), `GET /metrics` (Prometheus text).
//! * Limits: body size, whole-request time, open connections (further connections wait in the
//!   kernel's accept backlog), and deadlines that give every connection slot back: a new
//!   connection must show its protocol and send its first request within
//!   `header_read_timeout` (the protocol is detected here, with that deadline: hyper-util's
//!   `auto` builder waits for the first bytes with no timeout at all, so a socket that sends
//!   nothing would hold its slot until the peer went away); a connection with no request in
//!   flight for `idle_timeout` is closed (HTTP/1.1 keep-alive and HTTP/2 alike; HTTP/2 gets a
//!   GOAWAY first); HTTP/2 peers that stop answering keep-alive PINGs are dropped.
//! * A timestamp request that runs out of time (`request_timeout`) or finds the signing queue
//!   full gets a `TimeStampResp` with systemFailure (RFC 3161 §2.4.2), never a bare HTTP
//!   error.
//! * The handler (parsing, TSTInfo, signing) runs on the signing threads ([`crate::pool`]),
//!   never on the async runtime: a PKCS#11 `C_Sign` blocks. The response is sent only after the token's record is
//!   durably committed (group commit, see [`crate::records`]).
//! * Graceful shutdown: stop accepting, let requests in flight finish (up to the grace
//!   period), flush records.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulConnection;
use inkan_profiles::clock::Clock;
use tokio::net::TcpListener;
use tracing::Instrument;

use crate::handler::{Context, Failure};
use crate::metrics::Metrics;
use crate::ntp::TimeGuard;
use crate::pool::{Reply, ReplyKind, SigningPool};
use crate::records::{Recorder, WriterStats};

/// Server limits.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Time to read request headers (HTTP/1).
    pub header_read_timeout: Duration,
    /// Time for a whole request.
    pub request_timeout: Duration,
    /// Most open connections.
    pub max_connections: usize,
    /// Grace period at shutdown.
    pub shutdown_grace: Duration,
    /// A connection with no request in flight for this long is closed.
    pub idle_timeout: Duration,
    /// HTTP/2 keep-alive PING interval (and the time allowed for its answer).
    pub http2_keep_alive: Option<Duration>,
}

/// Everything the server shares between connections.
#[derive(Debug)]
pub struct App {
    /// Handler context (policy, key, serials).
    pub ctx: Arc<Context>,
    /// The signing threads.
    pub pool: Arc<SigningPool>,
    /// Time discipline.
    pub guard: Arc<TimeGuard>,
    /// Group-commit handle.
    pub recorder: Recorder,
    /// Writer statistics.
    pub writer_stats: Arc<WriterStats>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Wall clock (for `/metrics` certificate days).
    pub clock: Arc<dyn Clock>,
    /// Limits.
    pub limits: Limits,
}

type Resp = Response<Full<Bytes>>;

fn plain(status: StatusCode, body: &'static str) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn reply(der: Vec<u8>) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(der)));
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/timestamp-reply"),
    );
    r
}

fn is_query_type(v: Option<&HeaderValue>) -> bool {
    v.and_then(|v| v.to_str().ok())
        .and_then(|s| s.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/timestamp-query"))
}

impl App {
    async fn route(self: Arc<Self>, req: Request<Incoming>) -> Resp {
        let path = req.uri().path();
        match (req.method(), path) {
            (&Method::POST, "/") => self.timestamp(req).await,
            (_, "/") => {
                let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "use POST\n");
                r.headers_mut()
                    .insert(ALLOW, HeaderValue::from_static("POST"));
                r
            }
            (&Method::GET, "/healthz") => plain(StatusCode::OK, "ok\n"),
            (&Method::GET, "/readyz") => match self.recorder.ready() {
                // The records store (a shared store's lease and last commit).
                Err(r) => {
                    let mut resp = plain(StatusCode::SERVICE_UNAVAILABLE, "");
                    *resp.body_mut() = Full::new(Bytes::from(format!("not ready: {r}\n")));
                    resp
                }
                Ok(()) => match self.guard.readiness() {
                    Ok(()) => plain(StatusCode::OK, "ready\n"),
                    // The clock, the leap window and the signing identity (certificate validity,
                    // the key's CRYPTREC period), as a token signed now would be checked.
                    Err(r) => {
                        let mut resp = plain(StatusCode::SERVICE_UNAVAILABLE, "");
                        *resp.body_mut() =
                            Full::new(Bytes::from(format!("not ready: {}\n", r.describe())));
                        resp
                    }
                },
            },
            (&Method::GET, "/metrics") => {
                let now = self.clock.now().map_or(0, |t| t.secs());
                let mut text = self.metrics.render(now, &self.guard, &self.writer_stats);
                text.push_str(&self.recorder.store_metrics());
                let mut r = Response::new(Full::new(Bytes::from(text)));
                r.headers_mut().insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
                );
                r
            }
            (_, "/healthz" | "/readyz" | "/metrics") => {
                let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "use GET\n");
                r.headers_mut()
                    .insert(ALLOW, HeaderValue::from_static("GET"));
                r
            }
            _ => plain(StatusCode::NOT_FOUND, "not found\n"),
        }
    }

    async fn timestamp(self: Arc<Self>, req: Request<Incoming>) -> Resp {
        if !is_query_type(req.headers().get(CONTENT_TYPE)) {
            return plain(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Content-Type must be application/timestamp-query\n",
            );
        }
        let max = self.limits.max_body_bytes;
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > max as u64) {
            return plain(StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n");
        }
        let body = match Limited::new(req.into_body(), max).collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) => {
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some()
                {
                    return plain(StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n");
                }
                return plain(StatusCode::BAD_REQUEST, "could not read the request body\n");
            }
        };
        let started = Instant::now();
        // A shared store that cannot be written now (the lease is not held, or the last commit
        // or probe failed): refused at once with systemFailure (RFC 3161 §2.4.2), without
        // signing, so that the client can retry elsewhere instead of waiting for a commit that
        // cannot happen (a hung database would otherwise hold it for `request_timeout`). The
        // refusal is counted in the metrics, and reaches the store with the periodic
        // rejection-count event once it is back: a record per refusal would queue without
        // bound behind a hung database. The embedded store never refuses here.
        if let Err(why) = self.recorder.ready() {
            self.metrics.rejected(Failure::SystemFailure);
            tracing::debug!(reason = %why, "records store not writable; answered systemFailure");
            self.metrics.observe(started.elapsed());
            return reply(crate::handler::rejection_der(Failure::SystemFailure));
        }
        let time = self.guard.now_for_issuing();
        let answer = self
            .pool
            .submit(body, time)
            .await
            .unwrap_or_else(|_| Reply::system_failure("signing pool dropped the request"));
        match answer.kind {
            ReplyKind::Granted => self.metrics.granted(),
            ReplyKind::NotRecorded(e) => {
                // The token is not recorded: it did not leave.
                self.metrics.store_errors.fetch_add(1, Relaxed);
                self.metrics.rejected(Failure::SystemFailure);
                self.recorder.reject(Failure::SystemFailure.name());
                tracing::error!(error = %e, "record not committed; token withheld");
            }
            ReplyKind::Busy => {
                self.metrics.rejected(Failure::SystemFailure);
                self.metrics.overloaded.fetch_add(1, Relaxed);
                self.recorder.reject(Failure::SystemFailure.name());
                tracing::debug!("signing queue full; rejected at once");
            }
            ReplyKind::Rejected { failure, detail } => {
                self.metrics.rejected(failure);
                if failure == Failure::SystemFailure {
                    self.metrics.hsm_errors.fetch_add(1, Relaxed);
                    tracing::error!(reason = failure.name(), %detail, "rejected");
                } else {
                    tracing::info!(reason = failure.name(), %detail, "rejected");
                }
            }
        }
        let der = answer.response;
        self.metrics.observe(started.elapsed());
        reply(der)
    }

    async fn service(
        self: Arc<Self>,
        req: Request<Incoming>,
        activity: Arc<Activity>,
    ) -> Result<Resp, Infallible> {
        let _busy = activity.begin();
        let timeout = self.limits.request_timeout;
        let metrics = self.metrics.clone();
        let timestamp = req.method() == Method::POST && req.uri().path() == "/";
        let app = self.clone();
        // The request's own future (body, signing pool, reply: about 1.7 KB) lives in one
        // heap allocation made here, so the future hyper spawns per HTTP/2 stream stays small:
        // spawning and polling it no longer copies those bytes around (`memmove` was about a
        // seventh of the HTTP runtime's CPU with `inkan-tsa-load --h2`).
        let r = match tokio::time::timeout(timeout, Box::pin(self.route(req))).await {
            Ok(r) => r,
            // RFC 3161 §2.4.2: the client asked for a time-stamp and gets a TimeStampResp
            // (systemFailure: the TSA could not answer in time; it may retry).
            Err(_) if timestamp => {
                app.metrics.rejected(Failure::SystemFailure);
                app.recorder.reject(Failure::SystemFailure.name());
                tracing::warn!(
                    timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
                    "request timed out; answered systemFailure"
                );
                reply(crate::handler::rejection_der(Failure::SystemFailure))
            }
            Err(_) => plain(StatusCode::SERVICE_UNAVAILABLE, "request timed out\n"),
        };
        metrics.http(r.status().as_u16());
        Ok(r)
    }
}

/// What a connection's requests tell its idle watch: how many are in flight, and when the
/// last one ended (three relaxed atomic operations per request, on the connection's own
/// cache line).
#[derive(Debug)]
pub struct Activity {
    start: Instant,
    in_flight: std::sync::atomic::AtomicUsize,
    /// Milliseconds since `start` when the last request ended, plus one (0: none yet).
    last_end_ms: std::sync::atomic::AtomicU64,
}

/// Marks a request in flight until dropped (also when hyper drops the request's future).
#[derive(Debug)]
pub struct InFlight<'a>(&'a Activity);

impl Activity {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            in_flight: std::sync::atomic::AtomicUsize::new(0),
            last_end_ms: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn begin(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Relaxed);
        InFlight(self)
    }

    /// When the connection became idle (`None`: a request is in flight).
    fn idle_since(&self) -> Option<Instant> {
        if self.in_flight.load(Relaxed) > 0 {
            return None;
        }
        Some(match self.last_end_ms.load(Relaxed) {
            0 => self.start,
            ms => self.start + Duration::from_millis(ms - 1),
        })
    }

    fn served_any(&self) -> bool {
        self.last_end_ms.load(Relaxed) > 0 || self.in_flight.load(Relaxed) > 0
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let ms = u64::try_from(self.0.start.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
        self.0.last_end_ms.store(ms + 1, Relaxed);
        self.0.in_flight.fetch_sub(1, Relaxed);
    }
}

const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Reads the first bytes of a connection until they decide its protocol: `Some(true)` for the
/// HTTP/2 preface (RFC 9113 §3.4), `Some(false)` as soon as they cannot be it (HTTP/1.x),
/// `None` when the peer closes first. What was read is left in `got`.
async fn detect_protocol(
    io: &mut tokio::net::TcpStream,
    got: &mut Vec<u8>,
) -> std::io::Result<Option<bool>> {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 24];
    loop {
        let want = H2_PREFACE.len() - got.len();
        let n = io.read(&mut buf[..want]).await?;
        if n == 0 {
            return Ok(None);
        }
        got.extend_from_slice(&buf[..n]);
        if got[..] != H2_PREFACE[..got.len()] {
            return Ok(Some(false));
        }
        if got.len() == H2_PREFACE.len() {
            return Ok(Some(true));
        }
    }
}

/// How long a connection told to close (idle, or at shutdown after the grace period) may
/// take to finish what it is writing before it is dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Drives one connection until it ends, closing it gracefully when it sent no first request
/// within `first`, when it has been idle for `idle`, or when the server shuts down.
async fn drive<C>(
    conn: C,
    activity: &Activity,
    first: Duration,
    idle: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) where
    C: GracefulConnection,
    C::Error: std::fmt::Display,
{
    tokio::pin!(conn);
    let mut check = tokio::time::Instant::from_std(activity.start + first);
    let mut hard_stop: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            () = tokio::time::sleep_until(check), if hard_stop.is_none() => {
                let now = Instant::now();
                let limit = if activity.served_any() { idle } else { first };
                match activity.idle_since() {
                    Some(since) if now.duration_since(since) >= limit => {
                        tracing::debug!(
                            first_request = !activity.served_any(),
                            "closing an idle connection"
                        );
                        conn.as_mut().graceful_shutdown();
                        hard_stop = Some(tokio::time::Instant::now() + CLOSE_GRACE);
                    }
                    Some(since) => check = tokio::time::Instant::from_std(since + limit),
                    None => check = tokio::time::Instant::from_std(now + idle),
                }
            }
            r = shutdown.changed(), if hard_stop.is_none() => {
                // Server shutting down (or gone): finish what is in flight, then close.
                let _ = r;
                conn.as_mut().graceful_shutdown();
                hard_stop = Some(tokio::time::Instant::now() + Duration::from_secs(3600));
            }
            () = async {
                match hard_stop {
                    Some(t) => tokio::time::sleep_until(t).await,
                    None => std::future::pending().await,
                }
            } => return,
        }
    }
}

/// Serves one accepted connection: protocol detection (with its deadline), then HTTP/1.1 or
/// HTTP/2 under the idle watch.
async fn connection(
    app: Arc<App>,
    mut stream: tokio::net::TcpStream,
    h1: Arc<hyper::server::conn::http1::Builder>,
    h2: Arc<hyper::server::conn::http2::Builder<TokioExecutor>>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let (first, idle) = (app.limits.header_read_timeout, app.limits.idle_timeout);
    // The first-request deadline counts from the accept, protocol detection included.
    let activity = Arc::new(Activity::new());
    let mut got = Vec::with_capacity(H2_PREFACE.len());
    let is_h2 = tokio::select! {
        r = tokio::time::timeout(first, detect_protocol(&mut stream, &mut got)) => match r {
            Ok(Ok(Some(h2))) => h2,
            Ok(Ok(None)) => return,
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "connection failed before its first request");
                return;
            }
            Err(_) => {
                tracing::debug!("no request line or HTTP/2 preface in time; closing");
                return;
            }
        },
        () = closed(shutdown.clone()) => return,
    };
    let act = activity.clone();
    let svc = hyper::service::service_fn(move |req| app.clone().service(req, act.clone()));
    let io = TokioIo::new(Coalesce::with_prefix(stream, got, is_h2));
    if is_h2 {
        drive(
            h2.serve_connection(io, svc),
            &activity,
            first,
            idle,
            shutdown,
        )
        .await;
    } else {
        drive(
            h1.serve_connection(io, svc),
            &activity,
            first,
            idle,
            shutdown,
        )
        .await;
    }
}

/// Completes once the server starts shutting down.
async fn closed(mut shutdown: tokio::sync::watch::Receiver<bool>) {
    while !*shutdown.borrow_and_update() {
        if shutdown.changed().await.is_err() {
            return;
        }
    }
}

/// A TCP stream whose writes are gathered until the protocol flushes, so that one `write`
/// carries every frame of a round.
///
/// hyper's HTTP/2 (the `h2` crate) copies a DATA frame into its write buffer only when the
/// payload is under 256 bytes on a vectored stream (1024 otherwise); a larger payload (every
/// token) is queued as its own chunk, and the buffer is flushed to the socket before the next
/// frame can be queued: one `writev` per response. Measured with `inkan-tsa-load --h2`, those
/// `writev`s (each running the whole loopback TCP path) were about 40% of the HTTP runtime's
/// CPU. This wrapper reports itself as not vectored (so small frames are copied, and large ones
/// come as separate writes) and keeps every write in memory until `poll_flush`, which both
/// HTTP/1 and HTTP/2 call once they have written what they have: one `write` per flush.
///
/// A flush is also put off once, to the back of the runtime's queue: the responses of one
/// group commit are released together, and on HTTP/2 each one wakes the connection task,
/// which tokio runs right after the stream task that woke it (its LIFO slot): without the
/// deferral every response would still be flushed alone. Yielding once lets the other
/// released streams queue their frames first, so one `write` carries them all. An HTTP/1.1
/// connection has one response in flight, so the deferral is made only on connections whose
/// first bytes are the HTTP/2 preface.
#[derive(Debug)]
pub struct Coalesce {
    io: tokio::net::TcpStream,
    buf: Vec<u8>,
    pos: usize,
    deferred: bool,
    /// `None` until the first bytes are read; then whether they began the HTTP/2 preface.
    h2: Option<bool>,
    /// Bytes read before the protocol was known, handed to the first reads.
    prefix: Vec<u8>,
}

impl Coalesce {
    /// Writes beyond this go out before more is taken (bounded memory per connection).
    const CAP: usize = 32 * 1024;

    /// Wraps a connected stream.
    pub fn new(io: tokio::net::TcpStream) -> Self {
        Self {
            io,
            buf: Vec::new(),
            pos: 0,
            deferred: false,
            h2: None,
            prefix: Vec::new(),
        }
    }

    /// Wraps a stream whose first bytes (`prefix`) were already read to detect its protocol;
    /// they are read again first.
    pub fn with_prefix(io: tokio::net::TcpStream, prefix: Vec<u8>, h2: bool) -> Self {
        Self {
            h2: Some(h2),
            prefix,
            ..Self::new(io)
        }
    }

    fn drain(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> {
        use std::task::Poll;
        use tokio::io::AsyncWrite;
        while self.pos < self.buf.len() {
            match std::pin::Pin::new(&mut self.io).poll_write(cx, &self.buf[self.pos..]) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
                }
                Poll::Ready(Ok(n)) => self.pos += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        self.buf.clear();
        self.pos = 0;
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncRead for Coalesce {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let me = self.get_mut();
        if !me.prefix.is_empty() {
            let n = me.prefix.len().min(buf.remaining());
            buf.put_slice(&me.prefix[..n]);
            me.prefix.drain(..n);
            return std::task::Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let r = std::pin::Pin::new(&mut me.io).poll_read(cx, buf);
        if me.h2.is_none() && buf.filled().len() > before {
            const PREFACE: &[u8] = b"PRI * HTTP/2.0";
            let got = &buf.filled()[before..];
            let n = got.len().min(PREFACE.len());
            me.h2 = Some(got[..n] == PREFACE[..n]);
        }
        r
    }
}

impl tokio::io::AsyncWrite for Coalesce {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        data: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        use std::task::Poll;
        let me = self.get_mut();
        if me.buf.len() + data.len() > Self::CAP && !me.buf.is_empty() {
            match me.drain(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        if data.len() >= Self::CAP {
            return std::pin::Pin::new(&mut me.io).poll_write(cx, data);
        }
        me.buf.extend_from_slice(data);
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::task::Poll;
        let me = self.get_mut();
        if me.pos < me.buf.len() && !me.deferred && me.h2 == Some(true) {
            me.deferred = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        me.deferred = false;
        match me.drain(cx) {
            Poll::Ready(Ok(())) => std::pin::Pin::new(&mut me.io).poll_flush(cx),
            other => other,
        }
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::task::Poll;
        let me = self.get_mut();
        match me.drain(cx) {
            Poll::Ready(Ok(())) => std::pin::Pin::new(&mut me.io).poll_shutdown(cx),
            other => other,
        }
    }

    fn is_write_vectored(&self) -> bool {
        false
    }
}

/// Serves on `listener` until `shutdown` completes; then stops accepting, waits for requests in
/// flight (up to the grace period) and flushes the records.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut h1 = hyper::server::conn::http1::Builder::new();
    h1.timer(TokioTimer::new())
        .header_read_timeout(app.limits.header_read_timeout)
        .keep_alive(true);
    let mut h2 = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
    h2.timer(TokioTimer::new()).max_concurrent_streams(256);
    if let Some(ka) = app.limits.http2_keep_alive {
        h2.keep_alive_interval(ka).keep_alive_timeout(ka);
    }
    let (h1, h2) = (Arc::new(h1), Arc::new(h2));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let max = app.limits.max_connections;
    let permits = Arc::new(tokio::sync::Semaphore::new(max));
    let mut conn_id: u64 = 0;
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: back off and keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        conn_id += 1;
        let metrics = app.metrics.clone();
        metrics.connections.fetch_add(1, Relaxed);
        let task = connection(app.clone(), stream, h1.clone(), h2.clone(), stop_rx.clone());
        tokio::spawn(
            async move {
                task.await;
                metrics.connections.fetch_sub(1, Relaxed);
                drop(permit);
            }
            .instrument(tracing::debug_span!("conn", id = conn_id, %peer)),
        );
    }
    drop(listener);
    tracing::info!("shutting down: finishing requests in flight");
    let _ = stop_tx.send(true);
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    if tokio::time::timeout(app.limits.shutdown_grace, permits.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("grace period over; closing remaining connections");
    }
    let recorder = app.recorder.clone();
    let flushed = tokio::task::spawn_blocking(move || recorder.flush(Duration::from_secs(30)))
        .await
        .unwrap_or(false);
    if !flushed {
        tracing::error!("records flush did not complete");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Coalesce;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    /// Runs `body` with a client connection and the server's end of it behind [`Coalesce`].
    fn with_pair<F, Fut>(body: F)
    where
        F: FnOnce(TcpStream, Coalesce) -> Fut,
        Fut: Future<Output = ()>,
    {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = l.local_addr().unwrap();
            let client = TcpStream::connect(addr).await.unwrap();
            let (server, _) = l.accept().await.unwrap();
            body(client, Coalesce::new(server)).await;
        });
    }

    #[test]
    fn writes_wait_for_flush_large_ones_pass_through() {
        with_pair(|mut client, mut c| async move {
            assert!(!tokio::io::AsyncWrite::is_write_vectored(&c));

            // HTTP/1.1: small writes stay in memory until flush, then leave together.
            client.write_all(b"POST / HTTP/1.1\r\n").await.unwrap();
            let mut b = [0u8; 64];
            let n = c.read(&mut b).await.unwrap();
            assert!(n > 0);
            assert_eq!(c.h2, Some(false));
            c.write_all(b"abc").await.unwrap();
            c.write_all(b"def").await.unwrap();
            let mut got = [0u8; 6];
            let early =
                tokio::time::timeout(std::time::Duration::from_millis(50), client.read(&mut got))
                    .await;
            assert!(early.is_err(), "bytes left before the flush");
            c.flush().await.unwrap();
            client.read_exact(&mut got).await.unwrap();
            assert_eq!(&got, b"abcdef");

            // A write of CAP bytes or more goes straight through after what is buffered.
            c.write_all(b"x").await.unwrap();
            let big = vec![7u8; Coalesce::CAP];
            c.write_all(&big).await.unwrap();
            c.flush().await.unwrap();
            let mut all = vec![0u8; Coalesce::CAP + 1];
            client.read_exact(&mut all).await.unwrap();
            assert_eq!(all[0], b'x');
            assert!(all[1..].iter().all(|&b| b == 7));
        });
    }

    #[test]
    fn h2_preface_is_detected() {
        with_pair(|mut client, mut c| async move {
            client
                .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
                .await
                .unwrap();
            let mut b = [0u8; 64];
            assert!(c.read(&mut b).await.unwrap() > 0);
            assert_eq!(c.h2, Some(true));
            // The deferred flush still completes (after one yield) and delivers the bytes.
            c.write_all(b"frames").await.unwrap();
            c.flush().await.unwrap();
            let mut got = [0u8; 6];
            client.read_exact(&mut got).await.unwrap();
            assert_eq!(&got, b"frames");
        });
    }
}
