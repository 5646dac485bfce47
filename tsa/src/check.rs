//! `inkan-tsa check`: every start-up check of `serve` (the configuration, the key, the
//! certificate chain and its policy, the SNTP servers answering) without opening the records
//! store or the listening port, so that it runs beside a production TSA that holds both. A
//! shared store (`--store postgresql://...`) is checked read-only over the network
//! ([`crate::pgstore::check`]: connection, TLS, schema version, privileges, leases,
//! durability settings) (a new
//! configuration or a rollover pair is checked before SIGHUP or a restart). It prints one line
//! per finding and says whether `serve` would start.

use std::io::Write;
use std::time::Duration;

use inkan_profiles::clock::Clock;
use inkan_profiles::time::UnixTime;

use crate::config::{self, Overrides, Settings};
use crate::startup;

/// Why `serve` would not start: the exit status and the reason (already printed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The exit status (`EXIT_USAGE`, as `serve` would exit).
    pub status: u8,
    /// The reason.
    pub reason: String,
}

fn line(out: &mut dyn Write, tag: &str, what: &str, text: &str) {
    let _ = writeln!(out, "{tag:<5} {what}: {text}");
}

/// Runs the checks at `now` (read by the caller from the one clock), printing to `out`.
/// `Ok` when `serve` would start (warnings included: e.g. SNTP servers that do not answer let
/// `serve` start, but it would refuse every request with timeNotAvailable until a majority
/// answers).
pub fn run(o: &Overrides, clock: &dyn Clock, out: &mut dyn Write) -> Result<(), Refusal> {
    let refuse = |out: &mut dyn Write, what: &str, reason: String| {
        line(out, "FAIL", what, &reason);
        let _ = writeln!(out, "serve would not start");
        Refusal {
            status: crate::cli::EXIT_USAGE,
            reason,
        }
    };
    let s: Settings = match config::load(o) {
        Ok(s) => s,
        Err(e) => return Err(refuse(out, "configuration", e.to_string())),
    };
    let from = o
        .config
        .as_ref()
        .map_or_else(|| "flags only".to_owned(), |p| p.display().to_string());
    line(out, "ok", "configuration", &from);
    let now = clock
        .now()
        .ok_or_else(|| refuse(out, "clock", "the host clock cannot be read".into()))?;
    identity(&s, now, out).map_err(|e| refuse(out, "signing identity", e))?;
    line(
        out,
        "ok",
        "policy",
        &format!(
            "{} (accepted: {}), accuracy {} ms",
            s.policy,
            s.accepted_policies
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            s.accuracy.as_millis()
        ),
    );
    if let Some(url) = &s.store {
        // A shared store is checked over the network (read-only; no lease taken): the
        // instances serving from it are not disturbed.
        let found = crate::pgstore::check(url).map_err(|e| refuse(out, "records store", e))?;
        for (tag, text) in found {
            line(out, tag, "records store", &text);
        }
    } else {
        let store = s.data_dir.join(crate::records::FILE_NAME);
        line(
            out,
            "info",
            "records store",
            &format!(
                "{} ({}; not opened by check)",
                store.display(),
                if store.exists() {
                    "exists"
                } else {
                    "would be created"
                }
            ),
        );
    }
    line(
        out,
        "info",
        "listen",
        &format!("{} (not bound by check)", s.listen),
    );
    sntp(&s, clock, out);
    let _ = writeln!(out, "serve would start");
    Ok(())
}

fn identity(s: &Settings, now: UnixTime, out: &mut dyn Write) -> Result<(), String> {
    let (keyref, chain) = match (&s.key, &s.cert_chain) {
        (Some(k), Some(c)) => (k.clone(), c.clone()),
        _ => {
            // --dev without a key: the development pair under the data directory, which
            // check never makes.
            let p = crate::dev::paths(&s.data_dir);
            if !(p.key.exists() && p.chain.exists()) {
                line(
                    out,
                    "info",
                    "signing identity",
                    &format!(
                        "--dev: no development PKI under {} yet; serve would make one (NOT FOR PRODUCTION)",
                        s.data_dir.display()
                    ),
                );
                return Ok(());
            }
            (p.key.display().to_string(), p.chain)
        }
    };
    let id = startup::load_identity(&keyref, &chain, s.rsa_scheme, now, s.dev)
        .map_err(|e| e.to_string())?;
    line(
        out,
        "ok",
        "key",
        &format!(
            "{} ({}), signs with {:?}",
            id.key.label(),
            id.key.kind().name(),
            id.signer.algorithm()
        ),
    );
    line(
        out,
        "ok",
        "certificate",
        &format!(
            "{}, SHA-256 {}, valid until {}",
            crate::app::subject_text(&id.subject_der),
            crate::records::hex(&id.cert_sha256),
            crate::timefmt::rfc3339(UnixTime::from_secs(id.not_after))
        ),
    );
    line(
        out,
        "ok",
        "chain",
        &format!(
            "{} certificate(s) in {}, each issued by the next",
            id.chain_der.len(),
            chain.display()
        ),
    );
    if let Some((end, why)) = &id.window.key_end {
        let _ = end;
        line(out, "info", "key policy", why);
    }
    for w in &id.warnings {
        line(out, "WARN", "signing identity", w);
    }
    Ok(())
}

/// One query per configured SNTP server, as the first poll of `serve` would make it.
fn sntp(s: &Settings, clock: &dyn Clock, out: &mut dyn Write) {
    if s.ntp_servers.is_empty() {
        line(
            out,
            "WARN",
            "clock",
            "no SNTP servers: the host clock would be trusted as it is (run chrony or ntpd)",
        );
        return;
    }
    let acc = s.accuracy;
    let mut good = 0;
    for name in &s.ntp_servers {
        let Some(addr) = crate::ntp::resolve(name) else {
            line(
                out,
                "WARN",
                &format!("SNTP {name}"),
                "the name does not resolve",
            );
            continue;
        };
        match crate::ntp::query(addr, clock, s.ntp_timeout) {
            Ok(t) => {
                let off = Duration::from_nanos(t.m.offset_ns.unsigned_abs());
                let unc = Duration::from_nanos(t.m.uncertainty_ns);
                let within = off + unc <= acc;
                good += usize::from(within);
                line(
                    out,
                    if within { "ok" } else { "WARN" },
                    &format!("SNTP {name}"),
                    &format!(
                        "offset {:+.6} s, uncertainty {:.6} s, stratum {}: {} the accuracy of {} ms",
                        t.m.offset_ns as f64 / 1e9,
                        unc.as_secs_f64(),
                        t.m.stratum,
                        if within { "within" } else { "NOT within" },
                        acc.as_millis()
                    ),
                );
            }
            Err(e) => line(
                out,
                "WARN",
                &format!("SNTP {name}"),
                &format!("no measurement ({addr}): {e}"),
            ),
        }
    }
    let need = s.ntp_servers.len() / 2 + 1;
    if good >= need {
        line(
            out,
            "ok",
            "clock",
            &format!(
                "{good} of {} servers within accuracy (need {need})",
                s.ntp_servers.len()
            ),
        );
    } else {
        line(
            out,
            "WARN",
            "clock",
            &format!(
                "{good} of {} servers within accuracy (need {need}): serve would start but refuse every request (timeNotAvailable) until a majority answers within accuracy",
                s.ntp_servers.len()
            ),
        );
    }
}
