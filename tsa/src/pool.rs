//! The signing pool: a fixed set of threads that run [`handler::handle`] (parse, TSTInfo,
//! signature: a PKCS#11 `C_Sign` blocks, a software signature is tens of microseconds of CPU,
//! neither belongs on the async runtime), fed through one queue.
//!
//! Compared with one `spawn_blocking` per request, the pool
//! * takes every queued request at once (up to `batch`) and wakes a thread only when one is
//!   idle, so under load a request costs no thread wake-up at all on the way in;
//! * hands the granted tokens of a batch to the records writer in one message
//!   ([`Recorder::commit_batch`]), and the writer releases each response right after the group
//!   commit that made its record durable, without passing back through the pool.
//!
//! A panic in the handler (a bug) answers that request with systemFailure and the thread goes
//! on.
//!
//! The queue is bounded (`max_queue`): a request that finds it full is answered at once with a
//! systemFailure `TimeStampResp` ([`ReplyKind::Busy`]) instead of waiting, so that a flood
//! costs a fixed amount of memory and every client hears back quickly (RFC 3161 §2.4.2 has no
//! "busy" status; systemFailure is the one that fits, and the client may retry). A queued
//! request whose client is gone (its request timed out, or the connection closed) is dropped
//! without being signed.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use bytes::Bytes;
use inkan_profiles::time::UnixTime;
use tokio::sync::oneshot;

use crate::handler::{self, Context, Failure, Outcome};
use crate::ntp::TimeRefusal;
use crate::records::{Pending, Recorder, StoreError};

/// What became of a request.
#[derive(Debug)]
pub enum ReplyKind {
    /// A token, its record committed.
    Granted,
    /// A rejection.
    Rejected {
        /// The reason.
        failure: Failure,
        /// Detail for the log (never sent).
        detail: String,
    },
    /// A token was made but its record could not be committed: the token was withheld and
    /// the response is a systemFailure rejection.
    NotRecorded(StoreError),
    /// The signing queue was full: a systemFailure rejection at once.
    Busy,
}

/// The answer to one request: the DER `TimeStampResp` to send, and what it is.
#[derive(Debug)]
pub struct Reply {
    /// DER `TimeStampResp`.
    pub response: Vec<u8>,
    /// What it is (for metrics and logs).
    pub kind: ReplyKind,
}

impl Reply {
    /// A systemFailure rejection.
    pub fn system_failure(detail: &str) -> Self {
        Self {
            response: handler::rejection_der(Failure::SystemFailure),
            kind: ReplyKind::Rejected {
                failure: Failure::SystemFailure,
                detail: detail.to_owned(),
            },
        }
    }
}

impl Reply {
    /// The quick systemFailure rejection of a request that found the queue full.
    pub fn busy() -> Self {
        Self {
            response: handler::rejection_der(Failure::SystemFailure),
            kind: ReplyKind::Busy,
        }
    }
}

/// The token inside a granted `TimeStampResp` made by [`handler::granted_der`]: after the
/// outer SEQUENCE header and the five bytes of the granted PKIStatusInfo.
fn token_of(response: &[u8]) -> Option<&[u8]> {
    let len_byte = *response.get(1)?;
    let header = 2 + if len_byte & 0x80 != 0 {
        usize::from(len_byte & 0x7f)
    } else {
        0
    };
    response.get(header + 5..)
}

struct Job {
    body: Bytes,
    time: Result<UnixTime, TimeRefusal>,
    reply: oneshot::Sender<Reply>,
}

struct State {
    jobs: VecDeque<Job>,
    /// Threads waiting on `ready`.
    idle: usize,
    /// Of those, how many have been notified and not yet woken: a burst of submissions
    /// notifies each idle thread once, not once per request (each notify is a `futex` call).
    waking: usize,
    closed: bool,
}

struct Shared {
    state: Mutex<State>,
    ready: Condvar,
    threads: usize,
    max_queue: usize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means a thread panicked while holding it; the queue itself is
        // still consistent (pushes and drains are single operations).
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The running pool.
pub struct SigningPool {
    shared: Arc<Shared>,
    /// Told the queue length, for the writer's group sizing ([`Recorder::set_backlog`]).
    recorder: Recorder,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for SigningPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningPool").finish_non_exhaustive()
    }
}

impl SigningPool {
    /// Starts `threads` signing threads that take up to `batch` requests at a time, with at
    /// most `max_queue` requests waiting.
    pub fn start(
        ctx: Arc<Context>,
        recorder: Recorder,
        threads: usize,
        batch: usize,
        max_queue: usize,
    ) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                jobs: VecDeque::with_capacity(1024),
                idle: 0,
                waking: 0,
                closed: false,
            }),
            ready: Condvar::new(),
            threads: threads.max(1),
            max_queue: max_queue.max(1),
        });
        let mut handles = Vec::new();
        for i in 0..threads.max(1) {
            let (shared, ctx, recorder) = (shared.clone(), ctx.clone(), recorder.clone());
            let batch = batch.max(1);
            handles.push(
                std::thread::Builder::new()
                    .name(format!("signing-{i}"))
                    .spawn(move || worker(&shared, &ctx, &recorder, batch))?,
            );
        }
        Ok(Self {
            shared,
            recorder,
            threads: Mutex::new(handles),
        })
    }

    /// Queues a request; the receiver gets its reply once it is signed and recorded (or
    /// rejected).
    pub fn submit(
        &self,
        body: Bytes,
        time: Result<UnixTime, TimeRefusal>,
    ) -> oneshot::Receiver<Reply> {
        let (tx, rx) = oneshot::channel();
        let mut st = self.shared.lock();
        if st.closed {
            drop(st);
            let _ = tx.send(Reply::system_failure("signing pool stopped"));
            return rx;
        }
        if st.jobs.len() >= self.shared.max_queue {
            drop(st);
            let _ = tx.send(Reply::busy());
            return rx;
        }
        st.jobs.push_back(Job {
            body,
            time,
            reply: tx,
        });
        self.recorder.set_backlog(st.jobs.len());
        let wake = st.idle > st.waking;
        if wake {
            st.waking += 1;
        }
        drop(st);
        if wake {
            self.shared.ready.notify_one();
        }
        rx
    }

    /// Lets the threads finish what is queued, then stops and joins them.
    pub fn close(&self) {
        self.shared.lock().closed = true;
        self.shared.ready.notify_all();
        let handles = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|p| p.into_inner()));
        for h in handles {
            let _ = h.join();
        }
    }
}

/// Runs one request through the handler on the calling thread: a rejection is answered at
/// once, a granted token joins `pending` (its reply is sent after its record is committed).
pub fn run_job(
    ctx: &Context,
    recorder: &Recorder,
    body: &[u8],
    time: Result<UnixTime, TimeRefusal>,
    reply: oneshot::Sender<Reply>,
    pending: &mut Vec<Pending>,
) {
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| handler::handle(body, ctx, time)));
    match outcome {
        Ok(Outcome::Granted { response, issued }) => pending.push(Pending {
            token: if recorder.keeps_tokens() {
                token_of(&response).map(<[u8]>::to_vec)
            } else {
                None
            },
            issued: *issued,
            notify: Box::new(move |committed| {
                let r = match committed {
                    Ok(()) => Reply {
                        response,
                        kind: ReplyKind::Granted,
                    },
                    Err(e) => Reply {
                        response: handler::rejection_der(Failure::SystemFailure),
                        kind: ReplyKind::NotRecorded(e),
                    },
                };
                let _ = reply.send(r);
            }),
        }),
        Ok(Outcome::Rejected {
            response,
            failure,
            detail,
        }) => {
            recorder.reject(failure.name());
            let _ = reply.send(Reply {
                response,
                kind: ReplyKind::Rejected { failure, detail },
            });
        }
        Err(_) => {
            recorder.reject(Failure::SystemFailure.name());
            let _ = reply.send(Reply::system_failure("handler panicked"));
        }
    }
}

fn worker(shared: &Shared, ctx: &Context, recorder: &Recorder, batch: usize) {
    let mut local: Vec<Job> = Vec::with_capacity(batch);
    loop {
        {
            let mut st = shared.lock();
            while st.jobs.is_empty() {
                if st.closed {
                    return;
                }
                st.idle += 1;
                st = shared.ready.wait(st).unwrap_or_else(|p| p.into_inner());
                st.idle -= 1;
                // A spurious wake-up may take a notification's place; the worst case is one
                // notify more later.
                st.waking = st.waking.saturating_sub(1);
            }
            // A fair share, so that no thread sits idle while another holds queued work (an
            // RSA signature takes milliseconds).
            let n = st.jobs.len().div_ceil(shared.threads).min(batch);
            local.extend(st.jobs.drain(..n));
            recorder.set_backlog(st.jobs.len());
            // More left and someone idle: let them help.
            if !st.jobs.is_empty() && st.idle > st.waking {
                st.waking += 1;
                shared.ready.notify_one();
            }
        }
        let mut pending: Vec<Pending> = Vec::with_capacity(local.len());
        for job in local.drain(..) {
            let Job { body, time, reply } = job;
            if reply.is_closed() {
                // The client is gone (request timed out, connection closed): nothing to sign.
                continue;
            }
            run_job(ctx, recorder, &body, time, reply, &mut pending);
        }
        if !pending.is_empty() {
            recorder.commit_batch(pending);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::token_of;
    use crate::handler::granted_der;

    #[test]
    fn token_is_found_in_granted_responses_of_any_length() {
        for n in [10usize, 120, 200, 300, 70_000] {
            let token = vec![0x5au8; n];
            assert_eq!(token_of(&granted_der(&token)), Some(&token[..]), "{n}");
        }
        assert_eq!(token_of(&[]), None);
    }
}
