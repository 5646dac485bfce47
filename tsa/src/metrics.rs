//! A small hand-written Prometheus registry: fixed label sets, atomics on the hot path, text
//! exposition format 0.0.4 on `/metrics`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use crate::handler::Failure;
use crate::ntp::TimeGuard;
use crate::records::WriterStats;

/// Latency histogram bucket bounds, seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// HTTP statuses counted separately (anything else lands in "other").
const HTTP: [u16; 9] = [200, 400, 404, 405, 408, 413, 415, 500, 503];

/// Every metric of the server.
#[derive(Debug, Default)]
pub struct Metrics {
    granted: AtomicU64,
    rejected: [AtomicU64; 7],
    http: [AtomicU64; 10],
    buckets: [AtomicU64; 14],
    latency_count: AtomicU64,
    latency_sum_ns: AtomicU64,
    /// Errors from the signing key / HSM.
    pub hsm_errors: AtomicU64,
    /// Errors committing records.
    pub store_errors: AtomicU64,
    /// Open connections.
    pub connections: AtomicI64,
    /// Requests rejected at once because the signing queue was full.
    pub overloaded: AtomicU64,
    /// TSA certificate notAfter, Unix seconds.
    pub cert_not_after: AtomicU64,
}

impl Metrics {
    /// Counts a granted token.
    pub fn granted(&self) {
        self.granted.fetch_add(1, Relaxed);
    }

    /// Counts a rejection.
    pub fn rejected(&self, f: Failure) {
        self.rejected[f.index()].fetch_add(1, Relaxed);
    }

    /// Rejections so far, by [`Failure::index`].
    pub fn rejected_counts(&self) -> [u64; 7] {
        std::array::from_fn(|i| self.rejected[i].load(Relaxed))
    }

    /// Counts an HTTP response status.
    pub fn http(&self, status: u16) {
        let i = HTTP.iter().position(|&s| s == status).unwrap_or(HTTP.len());
        self.http[i].fetch_add(1, Relaxed);
    }

    /// Observes one timestamp request's latency.
    pub fn observe(&self, d: Duration) {
        let s = d.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if s <= *b {
                self.buckets[i].fetch_add(1, Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Relaxed);
        self.latency_sum_ns
            .fetch_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX), Relaxed);
    }

    /// Renders the exposition text. `now_secs` is the current Unix time.
    pub fn render(&self, now_secs: u64, guard: &TimeGuard, store: &WriterStats) -> String {
        let mut o = String::with_capacity(4096);
        let _ = writeln!(
            o,
            "# HELP inkan_tsa_requests_total Time-stamp requests by PKIStatus and failure reason.\n# TYPE inkan_tsa_requests_total counter"
        );
        let _ = writeln!(
            o,
            "inkan_tsa_requests_total{{status=\"granted\",reason=\"\"}} {}",
            self.granted.load(Relaxed)
        );
        for f in Failure::ALL {
            let _ = writeln!(
                o,
                "inkan_tsa_requests_total{{status=\"rejection\",reason=\"{}\"}} {}",
                f.name(),
                self.rejected[f.index()].load(Relaxed)
            );
        }
        let _ = writeln!(
            o,
            "# HELP inkan_tsa_http_responses_total HTTP responses by status code.\n# TYPE inkan_tsa_http_responses_total counter"
        );
        for (i, s) in HTTP.iter().enumerate() {
            let _ = writeln!(
                o,
                "inkan_tsa_http_responses_total{{code=\"{s}\"}} {}",
                self.http[i].load(Relaxed)
            );
        }
        let _ = writeln!(
            o,
            "inkan_tsa_http_responses_total{{code=\"other\"}} {}",
            self.http[HTTP.len()].load(Relaxed)
        );
        histogram(
            &mut o,
            "inkan_tsa_request_duration_seconds",
            "Time from request body received to response ready (record committed).",
            &BUCKETS,
            &self.buckets,
            self.latency_count.load(Relaxed),
            self.latency_sum_ns.load(Relaxed) as f64 / 1e9,
        );
        let host = u8::from(guard.trusts_host());
        // The offset and its uncertainty only while a fresh measurement exists: an absent
        // series is "unknown", where 0 would read as a perfect clock.
        let _ = writeln!(
            o,
            "# HELP inkan_tsa_clock_offset_seconds Median SNTP offset (server minus host); absent while unknown.\n# TYPE inkan_tsa_clock_offset_seconds gauge\n# HELP inkan_tsa_clock_uncertainty_seconds Uncertainty of the offset; absent while unknown.\n# TYPE inkan_tsa_clock_uncertainty_seconds gauge"
        );
        if let Some((off, unc)) = guard.offset_if_known() {
            let _ = writeln!(
                o,
                "inkan_tsa_clock_offset_seconds {}\ninkan_tsa_clock_uncertainty_seconds {}",
                off as f64 / 1e9,
                unc as f64 / 1e9
            );
        }
        let _ = writeln!(
            o,
            "# HELP inkan_tsa_clock_synchronised 1 when the clock is confirmed within accuracy (a fresh SNTP majority; without servers, the trusted host clock has not stepped beyond it).\n# TYPE inkan_tsa_clock_synchronised gauge\ninkan_tsa_clock_synchronised {}\n# HELP inkan_tsa_clock_last_good_measurement_age_seconds Age of the newest SNTP measurement within accuracy; absent when there has been none.\n# TYPE inkan_tsa_clock_last_good_measurement_age_seconds gauge",
            u8::from(guard.synchronised())
        );
        if let Some(age) = guard.last_good_age() {
            let _ = writeln!(
                o,
                "inkan_tsa_clock_last_good_measurement_age_seconds {:.3}",
                age.as_secs_f64()
            );
        }
        let _ = writeln!(
            o,
            "# HELP inkan_tsa_clock_accuracy_seconds Declared accuracy.\n# TYPE inkan_tsa_clock_accuracy_seconds gauge\ninkan_tsa_clock_accuracy_seconds {}\n# HELP inkan_tsa_clock_issuing 1 when a token could be issued now (clock, leap window, signing identity).\n# TYPE inkan_tsa_clock_issuing gauge\ninkan_tsa_clock_issuing {}\n# HELP inkan_tsa_clock_source Where time is checked: host (trusted, no SNTP servers) or ntp.\n# TYPE inkan_tsa_clock_source gauge\ninkan_tsa_clock_source{{source=\"host\"}} {host}\ninkan_tsa_clock_source{{source=\"ntp\"}} {}",
            guard.accuracy().as_secs_f64(),
            u8::from(guard.ready()),
            1 - host
        );
        let na = self.cert_not_after.load(Relaxed);
        let days = (na as f64 - now_secs as f64) / 86_400.0;
        let _ = writeln!(
            o,
            "# HELP inkan_tsa_certificate_days_left Days until the TSA certificate expires.\n# TYPE inkan_tsa_certificate_days_left gauge\ninkan_tsa_certificate_days_left {days:.3}"
        );
        let id = guard.identity();
        let key_days = id.key_end.as_ref().map_or("+Inf".to_owned(), |(t, _)| {
            format!("{:.3}", (t.secs() as f64 - now_secs as f64) / 86_400.0)
        });
        let (end, _) = id.end();
        let warn =
            u8::from(end.secs() <= now_secs.saturating_add(crate::ntp::WARN_AHEAD.as_secs()));
        let (steps, last_step) = guard.steps();
        let _ = writeln!(
            o,
            "# HELP inkan_tsa_key_policy_days_left Days until the key's CRYPTREC period for new signatures ends.\n# TYPE inkan_tsa_key_policy_days_left gauge\ninkan_tsa_key_policy_days_left {key_days}\n# HELP inkan_tsa_identity_expiry_warning 1 when the certificate or the key's CRYPTREC period ends within 30 days (or has ended).\n# TYPE inkan_tsa_identity_expiry_warning gauge\ninkan_tsa_identity_expiry_warning {warn}\n# HELP inkan_tsa_clock_steps_total Steps of the wall clock against the monotonic clock (more than 1 ms).\n# TYPE inkan_tsa_clock_steps_total counter\ninkan_tsa_clock_steps_total {steps}\n# HELP inkan_tsa_clock_last_step_seconds The last step of the wall clock.\n# TYPE inkan_tsa_clock_last_step_seconds gauge\ninkan_tsa_clock_last_step_seconds {}",
            last_step as f64 / 1e9
        );
        let _ = writeln!(
            o,
            "# HELP inkan_tsa_hsm_errors_total Signing-key (HSM) errors.\n# TYPE inkan_tsa_hsm_errors_total counter\ninkan_tsa_hsm_errors_total {}\n# HELP inkan_tsa_store_errors_total Records-store commit errors seen by requests.\n# TYPE inkan_tsa_store_errors_total counter\ninkan_tsa_store_errors_total {}",
            self.hsm_errors.load(Relaxed),
            self.store_errors.load(Relaxed)
        );
        let _ = writeln!(
            o,
            "# HELP inkan_tsa_records_commits_total Group commits.\n# TYPE inkan_tsa_records_commits_total counter\ninkan_tsa_records_commits_total {}\n# HELP inkan_tsa_records_total Token records durably committed.\n# TYPE inkan_tsa_records_total counter\ninkan_tsa_records_total {}\n# HELP inkan_tsa_records_commit_failures_total Failed group commits.\n# TYPE inkan_tsa_records_commit_failures_total counter\ninkan_tsa_records_commit_failures_total {}\n# HELP inkan_tsa_records_commit_seconds_total Time spent writing and committing records.\n# TYPE inkan_tsa_records_commit_seconds_total counter\ninkan_tsa_records_commit_seconds_total {:.6}",
            store.commits.load(Relaxed),
            store.records.load(Relaxed),
            store.failures.load(Relaxed),
            store.commit_micros.load(Relaxed) as f64 / 1e6
        );
        histogram(
            &mut o,
            "inkan_tsa_records_commit_duration_seconds",
            "One group commit: writing its records and the durable commit (fsync, or the shared store's COMMIT).",
            &WriterStats::COMMIT_BUCKETS,
            &store.commit_buckets,
            store.commits.load(Relaxed),
            format!("{:.6}", store.commit_micros.load(Relaxed) as f64 / 1e6),
        );
        histogram(
            &mut o,
            "inkan_tsa_records_group_size",
            "Token records per group commit (commits that carried any).",
            &WriterStats::GROUP_BUCKETS,
            &store.group_buckets,
            store.token_commits.load(Relaxed),
            store.records.load(Relaxed),
        );
        let _ = writeln!(
            o,
            "# HELP inkan_tsa_connections Open connections.\n# TYPE inkan_tsa_connections gauge\ninkan_tsa_connections {}",
            self.connections.load(Relaxed)
        );
        let _ = writeln!(
            o,
            "# HELP inkan_tsa_overload_rejections_total Requests answered systemFailure at once because the signing queue was full.\n# TYPE inkan_tsa_overload_rejections_total counter\ninkan_tsa_overload_rejections_total {}",
            self.overloaded.load(Relaxed)
        );
        o
    }
}

/// Writes one histogram in the text exposition format 0.0.4: its HELP and TYPE lines, the
/// cumulative `_bucket` series at `bounds` (counts in `buckets`) and at `+Inf` (= `count`),
/// then `_sum` and `_count`.
fn histogram(
    o: &mut String,
    name: &str,
    help: &str,
    bounds: &[impl std::fmt::Display],
    buckets: &[AtomicU64],
    count: u64,
    sum: impl std::fmt::Display,
) {
    let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} histogram");
    for (b, n) in bounds.iter().zip(buckets) {
        let _ = writeln!(o, "{name}_bucket{{le=\"{b}\"}} {}", n.load(Relaxed));
    }
    let _ = writeln!(
        o,
        "{name}_bucket{{le=\"+Inf\"}} {count}\n{name}_sum {sum}\n{name}_count {count}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LeapPolicy;
    use inkan_profiles::clock::FixedClock;
    use inkan_profiles::time::UnixTime;
    use std::sync::Arc;

    #[test]
    fn renders() {
        let m = Metrics::default();
        m.granted();
        m.rejected(Failure::BadAlg);
        m.http(200);
        m.http(418);
        m.observe(Duration::from_millis(3));
        let g = TimeGuard::new(
            Arc::new(FixedClock(UnixTime::from_secs(1))),
            true,
            Duration::from_secs(1),
            LeapPolicy::Ignore,
            Duration::from_secs(1),
        );
        let stats = WriterStats::default();
        stats.commits.store(2, Relaxed);
        stats.records.store(40, Relaxed);
        stats.observe_commit(Duration::from_micros(700), 40);
        stats.observe_commit(Duration::from_millis(30), 0);
        let text = m.render(0, &g, &stats);
        assert!(text.contains("inkan_tsa_records_commit_duration_seconds_bucket{le=\"0.0005\"} 0"));
        assert!(text.contains("inkan_tsa_records_commit_duration_seconds_bucket{le=\"0.001\"} 1"));
        assert!(text.contains("inkan_tsa_records_commit_duration_seconds_bucket{le=\"0.05\"} 2"));
        assert!(text.contains("inkan_tsa_records_commit_duration_seconds_count 2"));
        assert!(text.contains("inkan_tsa_records_group_size_bucket{le=\"32\"} 0"));
        assert!(text.contains("inkan_tsa_records_group_size_bucket{le=\"64\"} 1"));
        assert!(text.contains("inkan_tsa_records_group_size_count 1"));
        assert!(text.contains("inkan_tsa_records_group_size_sum 40"));
        assert!(text.contains("inkan_tsa_requests_total{status=\"granted\",reason=\"\"} 1"));
        assert!(text.contains("reason=\"badAlg\"} 1"));
        assert!(text.contains("inkan_tsa_http_responses_total{code=\"other\"} 1"));
        assert!(text.contains("inkan_tsa_request_duration_seconds_bucket{le=\"0.005\"} 1"));
        assert!(text.contains("inkan_tsa_request_duration_seconds_bucket{le=\"0.002\"} 0"));
        assert!(text.contains("inkan_tsa_clock_source{source=\"host\"} 1"));
        assert!(text.contains("inkan_tsa_key_policy_days_left +Inf"));
        assert!(text.contains("inkan_tsa_identity_expiry_warning 0"));
        assert!(text.contains("inkan_tsa_clock_steps_total 0"));
        // No measurement: the offset is absent, not 0; the trusted host clock counts as
        // synchronised; no good measurement has an age.
        assert!(
            !text.contains("\ninkan_tsa_clock_offset_seconds "),
            "{text}"
        );
        assert!(text.contains("inkan_tsa_clock_synchronised 1"));
        assert!(!text.contains("\ninkan_tsa_clock_last_good_measurement_age_seconds "));
    }
}
