//! Benchmark, printing our figure and the peer's in one run:
//! 1. verifications per second, in-process, of a time-stamped signature (ECDSA P-256 signer,
//!    RSA-3072 TSA, 3-certificate chain, one CRL), cold (`verify`) and warm (a `Validator`
//!    kept across calls); the cryptographic floor (each of the six signature verifications one
//!    validation computes, timed in the same run) and `openssl speed` for the same algorithms;
//! 2. wall time of one `inkan-verify` process against one `openssl cms -verify` process;
//! 3. hashing rate of a 1 GiB detached file against `sha256sum`, with peak memory.
//!
//! Rates are per second of the benchmark thread's CPU time (`/proc/thread-self/schedstat`), so
//! they mean "on one core" even on a loaded machine: the median of batches of about 10 ms, the
//! cold, warm and floor loops interleaved batch by batch so that their ratios (how close to the
//! floor a validation comes) hold on a shared machine. Fixtures are made by OpenSSL in a temporary directory. `INKAN_BENCH_HASH_MIB` overrides the
//! size of the hashed file (default 1024), `INKAN_BENCH_SECS` the duration of each rate
//! measurement (default 3; small values for profiling under callgrind).

use inkan_test_support::{bash, openssl_tsa_section};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use inkan_profiles::alg::{DigestAlgorithm, SignatureAlgorithm};
use inkan_profiles::clock::{Clock, SystemClock};
use inkan_verifier::{Data, Input, Options, Validator, tlv, verify};

const SETUP: &str = r#"
set -e
cat > ca.cnf <<'CNF'
[ca]
default_ca = d
[d]
dir = .
database = index.txt
new_certs_dir = .
serial = serial
crlnumber = crlnumber
default_md = sha256
policy = p
default_days = 365
default_crl_days = 30
[p]
commonName = supplied
[v3_ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
[v3_signer]
keyUsage = critical,digitalSignature,nonRepudiation
[v3_tsa]
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
CNF
: > index.txt; echo 1000 > serial; echo 1000 > crlnumber; echo 01 > tsaserial
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out root.key 2>/dev/null
openssl req -x509 -new -key root.key -subj "/CN=Bench Root" -days 3650 -config ca.cnf -extensions v3_ca -out root.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out inter.key
openssl req -new -key inter.key -subj "/CN=Bench Inter" -out inter.csr
openssl ca -batch -config ca.cnf -cert root.pem -keyfile root.key -extensions v3_ca -in inter.csr -out inter.pem 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out signer.key
openssl req -new -key signer.key -subj "/CN=Bench Signer" -out signer.csr
openssl ca -batch -config ca.cnf -cert inter.pem -keyfile inter.key -extensions v3_signer -in signer.csr -out signer.pem 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out tsa.key 2>/dev/null
openssl req -new -key tsa.key -subj "/CN=Bench TSA" -out tsa.csr
openssl ca -batch -config ca.cnf -cert root.pem -keyfile root.key -extensions v3_tsa -in tsa.csr -out tsa.pem 2>/dev/null
openssl ca -batch -config ca.cnf -cert inter.pem -keyfile inter.key -gencrl -out inter.crl 2>/dev/null
head -c 4096 /dev/urandom > data.bin
openssl cms -sign -cades -binary -in data.bin -signer signer.pem -inkey signer.key -certfile inter.pem -md sha256 -outform DER -out sig.p7s
"#;

fn add_signature_time_stamp(sig: &[u8], token: &[u8]) -> Vec<u8> {
    let ci = tlv::parse_exact(sig).unwrap();
    let mut r = ci.children();
    let oid = r.next_tlv().unwrap();
    let wrap = r.next_tlv().unwrap();
    let sd = tlv::parse_exact(wrap.value).unwrap();
    let mut parts: Vec<Vec<u8>> = sd.children().map(|t| t.unwrap().raw.to_vec()).collect();
    let sis = tlv::parse_exact(parts.last().unwrap()).unwrap();
    let si = sis.children().next().unwrap().unwrap();
    let mut si_content = si.value.to_vec();
    let mut attr = tlv::encode(
        0x06,
        &[
            0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x0e,
        ],
    );
    attr.extend(tlv::encode(0x31, token));
    si_content.extend(tlv::encode(0xa1, &tlv::encode(0x30, &attr)));
    *parts.last_mut().unwrap() = tlv::encode(0x31, &tlv::encode(0x30, &si_content));
    let mut ci_content = oid.raw.to_vec();
    ci_content.extend(tlv::encode(0xa0, &tlv::encode(0x30, &parts.concat())));
    tlv::encode(0x30, &ci_content)
}

/// Nanoseconds this thread has spent on a CPU (Linux).
fn cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn best_of<F: FnMut()>(n: usize, mut f: F) -> Duration {
    (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap()
}

/// How many calls of `f` take about `secs` of CPU time, from as many calls as fit in a fifth
/// of that (a single timed call can be preempted on a busy machine, which would make batches
/// of one call whose timing is dominated by reading the CPU clock).
fn batch_size(f: &mut dyn FnMut(), secs: f64) -> u64 {
    f();
    let c = cpu_ns();
    let t = Instant::now();
    let mut n = 0u64;
    while t.elapsed().as_secs_f64() < secs / 5.0 || n == 0 {
        f();
        n += 1;
    }
    let used = match (c, cpu_ns()) {
        (Some(a), Some(b)) if b > a => (b - a) as f64 / 1e9,
        _ => t.elapsed().as_secs_f64(),
    };
    ((secs * n as f64 / used.max(1e-7)) as u64).clamp(1, 100_000)
}

/// Calls per second of this thread's CPU time: `f` runs in batches of about 20 ms for `secs`
/// seconds; the figure is the median of the batches' rates (robust to the bursts of other
/// work a shared machine adds), with wall time where CPU time is not available.
fn rate(secs: f64, f: &mut dyn FnMut()) -> f64 {
    let total = Instant::now();
    let batch = batch_size(f, 0.02);
    let mut rates = Vec::new();
    while total.elapsed() < Duration::from_secs_f64(secs) || rates.is_empty() {
        let w = Instant::now();
        let c = cpu_ns();
        for _ in 0..batch {
            f();
        }
        let used = match (c, cpu_ns()) {
            (Some(a), Some(b)) if b > a => (b - a) as f64 / 1e9,
            _ => w.elapsed().as_secs_f64(),
        };
        rates.push(batch as f64 / used);
    }
    rates.sort_by(f64::total_cmp);
    rates[rates.len() / 2]
}

/// [`rate`] for several loops at once, interleaved: one batch (about 10 ms) of each in turn
/// for `secs` seconds in all, so every loop meets the same interference from whatever else the
/// machine runs and their ratios hold even when the absolute figures do not.
fn rates_interleaved(secs: f64, loops: &mut [&mut dyn FnMut()]) -> Vec<f64> {
    let batches: Vec<u64> = loops.iter_mut().map(|f| batch_size(*f, 0.01)).collect();
    let mut rates = vec![Vec::new(); loops.len()];
    let total = Instant::now();
    while total.elapsed() < Duration::from_secs_f64(secs) || rates[0].is_empty() {
        for ((f, &batch), r) in loops.iter_mut().zip(&batches).zip(&mut rates) {
            let w = Instant::now();
            let c = cpu_ns();
            for _ in 0..batch {
                f();
            }
            let used = match (c, cpu_ns()) {
                (Some(a), Some(b)) if b > a => (b - a) as f64 / 1e9,
                _ => w.elapsed().as_secs_f64(),
            };
            r.push(batch as f64 / used);
        }
    }
    rates
        .into_iter()
        .map(|mut r| {
            r.sort_by(f64::total_cmp);
            r[r.len() / 2]
        })
        .collect()
}

/// `openssl speed` verify rates (per CPU second) for ECDSA P-256 and RSA-3072, from its
/// machine-readable output (`+F2:i:bits:sign/s:verify/s` for RSA, `+F4:...` for ECDSA).
fn openssl_speed(secs: u32) -> Option<(f64, f64)> {
    let out = Command::new("openssl")
        .args([
            "speed",
            "-seconds",
            &secs.to_string(),
            "-mr",
            "ecdsap256",
            "rsa3072",
        ])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let verify_of = |prefix: &str, bits: &str| {
        text.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() == 5 && f[0] == prefix && f[2] == bits).then(|| f[4].parse::<f64>().ok())?
        })
    };
    Some((verify_of("+F4", "256")?, verify_of("+F2", "3072")?))
}

/// A line of /proc/self/status in KiB (VmRSS, VmHWM).
fn status_kib(key: &str) -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find_map(|l| {
            l.strip_prefix(key)?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse()
                .ok()
        })
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    bash(d, SETUP);
    // The TSA of `openssl ts -reply -config ca.cnf`.
    let tsa = openssl_tsa_section("t", "tsa.pem", "tsa.key", "digests = sha256\n");
    let mut cnf = std::fs::OpenOptions::new()
        .append(true)
        .open(d.join("ca.cnf"))
        .unwrap();
    std::io::Write::write_all(
        &mut cnf,
        format!("[tsa]\ndefault_tsa = t\n{tsa}").as_bytes(),
    )
    .unwrap();
    let sig = std::fs::read(d.join("sig.p7s")).unwrap();
    let sd = inkan_verifier::cms::SignedData::parse_content_info(&sig).unwrap();
    std::fs::write(d.join("sv.bin"), &sd.signers[0].signature).unwrap();
    bash(
        d,
        "openssl ts -query -data sv.bin -sha256 -cert -out sv.tsq && openssl ts -reply -config ca.cnf -queryfile sv.tsq -token_out -out sv.tst 2>/dev/null && openssl crl -in inter.crl -outform DER -out inter.crl.der",
    );
    let token = std::fs::read(d.join("sv.tst")).unwrap();
    let stamped = add_signature_time_stamp(&sig, &token);
    std::fs::write(d.join("stamped.p7s"), &stamped).unwrap();
    let data = std::fs::read(d.join("data.bin")).unwrap();
    let options = Options {
        data: Data::Bytes(data),
        trust: vec![std::fs::read(d.join("root.pem")).unwrap()],
        crls: vec![std::fs::read(d.join("inter.crl")).unwrap()],
        ocsps: vec![],
        revocation_required: false,
        ..Options::default()
    };
    let input = Input { bytes: stamped };
    let now = SystemClock.now().unwrap();
    let call = std::sync::Arc::default();
    let r = inkan_verifier::verify_in(&call, &input, &options, now).unwrap();
    assert_eq!(r.indication.as_str(), "TOTAL-PASSED", "{}", r.to_json());
    assert_eq!(r.time_stamps.len(), 1);
    // Every signature one validation needs is computed exactly once: the signer's, the
    // token's, the signer and TSA certificates', the intermediate's and the CRL's.
    assert_eq!(call.computed(), 6);

    let secs: f64 = std::env::var("INKAN_BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3.0);
    // INKAN_BENCH_ONLY=cold|warm: that loop alone (for `perf record`).
    let only = std::env::var("INKAN_BENCH_ONLY").unwrap_or_default();
    if only == "warm" || only == "cold" {
        let v = Validator::default();
        // INKAN_BENCH_ITERS=n: exactly n calls (for `perf stat`, counting instructions).
        if let Some(n) = std::env::var("INKAN_BENCH_ITERS")
            .ok()
            .and_then(|n| n.parse::<u64>().ok())
        {
            for _ in 0..n {
                let _ = if only == "cold" {
                    verify(&input, &options, now).unwrap()
                } else {
                    v.verify(&input, &options, now).unwrap()
                };
            }
            return;
        }
        let r = rate(secs, &mut || {
            let _ = if only == "cold" {
                verify(&input, &options, now).unwrap()
            } else {
                v.verify(&input, &options, now).unwrap()
            };
        });
        println!("{only}: {r:.0}/s ({:.1} us)", 1e6 / r);
        return;
    }

    // 1. In-process verifications per second (one core): cold (`verify`, nothing kept across
    //    calls) and warm (a `Validator` that already checked the CA and CRL signatures).
    let validator = Validator::default();
    let warm_report = validator.verify(&input, &options, now).unwrap();
    assert_eq!(warm_report.to_json(), r.to_json());
    let call = validator.call();
    let _ = validator.verify_in(&call, &input, &options, now).unwrap();
    // Warm: only the document's own two signatures are computed.
    assert_eq!(call.computed(), 2);

    // 1b. The cryptographic floor, measured in this run: each signature one validation
    //     computes, through `inkan_profiles::verify::verify_signature` (ring for all six).
    let pem = |f: &str| {
        inkan_verifier::x509::certificates_from_pem_or_der(&std::fs::read(d.join(f)).unwrap())
            .remove(0)
    };
    let (signer, inter, root, tsa) = (
        pem("signer.pem"),
        pem("inter.pem"),
        pem("root.pem"),
        pem("tsa.pem"),
    );
    let crl =
        inkan_verifier::x509::Crl::parse(&std::fs::read(d.join("inter.crl.der")).unwrap()).unwrap();
    let tsd = inkan_verifier::cms::SignedData::parse_content_info(&token).unwrap();
    let (si, tsi) = (&sd.signers[0], &tsd.signers[0]);
    let es256 = SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha256);
    let rs256 = SignatureAlgorithm::RsaPkcs1(DigestAlgorithm::Sha256);
    // (what, key, algorithm, signed bytes, signature, computed by a warm validator too)
    type Op<'a> = (
        &'a str,
        &'a [u8],
        SignatureAlgorithm,
        &'a [u8],
        &'a [u8],
        bool,
    );
    let ops: [Op<'_>; 6] = [
        (
            "signer P-256",
            signer.spki(),
            es256,
            &si.signed_attrs_der,
            &si.signature,
            true,
        ),
        (
            "token RSA-3072",
            tsa.spki(),
            rs256,
            &tsi.signed_attrs_der,
            &tsi.signature,
            true,
        ),
        (
            "signer cert P-256",
            inter.spki(),
            es256,
            signer.tbs(),
            signer.signature(),
            false,
        ),
        (
            "CRL P-256",
            inter.spki(),
            es256,
            crl.tbs(),
            crl.signature(),
            false,
        ),
        (
            "inter cert RSA-3072",
            root.spki(),
            rs256,
            inter.tbs(),
            inter.signature(),
            false,
        ),
        (
            "TSA cert RSA-3072",
            root.spki(),
            rs256,
            tsa.tbs(),
            tsa.signature(),
            false,
        ),
    ];
    // 1 and 1b measured together, interleaved (see `rates_interleaved`).
    let mut cold_loop = || {
        let _ = verify(&input, &options, now).unwrap();
    };
    let mut warm_loop = || {
        let _ = validator.verify(&input, &options, now).unwrap();
    };
    let mut op_loops: Vec<Box<dyn FnMut()>> = ops
        .iter()
        .map(|&(_, spki, alg, msg, sig, _)| {
            Box::new(move || {
                inkan_profiles::verify::verify_signature(spki, &alg, msg, sig).unwrap();
            }) as Box<dyn FnMut()>
        })
        .collect();
    let mut loops: Vec<&mut dyn FnMut()> = vec![&mut cold_loop, &mut warm_loop];
    loops.extend(op_loops.iter_mut().map(|b| &mut **b as &mut dyn FnMut()));
    let rates = rates_interleaved(secs * 3.0, &mut loops);
    drop(loops);
    let (cold, warm) = (rates[0], rates[1]);
    let (entries, hits, misses) = validator.cache_stats();
    let (mut floor_cold, mut floor_warm) = (0.0, 0.0);
    let mut parts = Vec::new();
    let mut per_alg = [0.0f64; 2];
    for ((name, _, alg, _, _, document), r) in ops.iter().zip(&rates[2..]) {
        let us = 1e6 / r;
        floor_cold += us;
        if *document {
            floor_warm += us;
            per_alg[usize::from(*alg != es256)] = us;
        }
        parts.push(format!("{name} {us:.1}"));
    }
    let ossl = openssl_speed(1);
    println!(
        "in-process: cold {cold:.0} verifications/s ({:.0} us), warm Validator {warm:.0} verifications/s ({:.0} us) of a time-stamped P-256 signature (RSA-3072 TSA, 3-cert chain, 1 CRL); target >= 5000 (cache: {entries} entries, {hits} hits, {misses} misses)",
        1e6 / cold,
        1e6 / warm
    );
    println!(
        "crypto floor (this run, ring): cold 6 verifications {:.0}/s ({floor_cold:.0} us; cold reaches {:.0}%), warm 2 verifications {:.0}/s ({floor_warm:.0} us; warm reaches {:.0}%); us each: {}",
        1e6 / floor_cold,
        100.0 * floor_cold / (1e6 / cold),
        1e6 / floor_warm,
        100.0 * floor_warm / (1e6 / warm),
        parts.join(", ")
    );
    match ossl {
        Some((p, r)) => {
            let (po, ro) = (1e6 / p, 1e6 / r);
            println!(
                "openssl speed -seconds 1: P-256 verify {p:.0}/s ({po:.1} us; ring {:.1} us), RSA-3072 verify {r:.0}/s ({ro:.1} us; ring {:.1} us); the same six with OpenSSL {:.0}/s cold, two {:.0}/s warm",
                per_alg[0],
                per_alg[1],
                1e6 / (3.0 * po + 3.0 * ro),
                1e6 / (po + ro)
            );
        }
        None => println!("openssl speed: not available"),
    }

    // 2. One process each, same file.
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let bin = target.join("release/inkan-verify");
    let bin = std::env::var("INKAN_VERIFY_BIN")
        .map(std::path::PathBuf::from)
        .unwrap_or(bin);
    if bin.exists() {
        let ours = best_of(10, || {
            let o = Command::new(&bin)
                .args([
                    "stamped.p7s",
                    "--data",
                    "data.bin",
                    "--trust",
                    "root.pem",
                    "--crl",
                    "inter.crl",
                    "--revocation",
                    "optional",
                    "--format",
                    "json",
                ])
                .current_dir(d)
                .output()
                .unwrap();
            assert_eq!(o.status.code(), Some(0));
        });
        let theirs = best_of(10, || {
            let o = Command::new("openssl")
                .args([
                    "cms",
                    "-verify",
                    "-binary",
                    "-inform",
                    "DER",
                    "-in",
                    "stamped.p7s",
                    "-content",
                    "data.bin",
                    "-CAfile",
                    "root.pem",
                    "-purpose",
                    "any",
                    "-out",
                    "/dev/null",
                ])
                .current_dir(d)
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        });
        println!(
            "one process: inkan-verify {:.1} ms, openssl cms -verify {:.1} ms (best of 10)",
            ours.as_secs_f64() * 1e3,
            theirs.as_secs_f64() * 1e3
        );
    } else {
        println!(
            "one process: skipped, build the release binary first (INKAN_VERIFY_BIN={})",
            bin.display()
        );
    }

    // 3. Hashing a large detached file, and the memory it takes: ours is the growth of this
    //    process's peak RSS (VmHWM, reset through /proc/self/clear_refs) while hashing, the
    //    peer's is sha256sum's whole maximum RSS (GNU time, when installed).
    let mib: u64 = std::env::var("INKAN_BENCH_HASH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let big = d.join("big.bin");
    bash(d, &format!("head -c {mib}M /dev/zero > big.bin"));
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let rss_before = status_kib("VmRSS:");
    let ours = best_of(2, || {
        inkan_verifier::engine::hash_file(&big, DigestAlgorithm::Sha256).unwrap();
    });
    let growth = match (reset, rss_before, status_kib("VmHWM:")) {
        (true, Some(a), Some(b)) => {
            format!("peak RSS +{:.1} MiB", b.saturating_sub(a) as f64 / 1024.0)
        }
        _ => "peak RSS not measurable".into(),
    };
    let theirs = best_of(2, || {
        let o = Command::new("sha256sum").arg(&big).output().unwrap();
        assert!(o.status.success());
    });
    let peer_rss = Command::new("/usr/bin/time")
        .args(["-f", "%M", "sha256sum"])
        .arg(&big)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| {
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .last()?
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or("max RSS not measured".into(), |k| {
            format!("max RSS {:.1} MiB", k / 1024.0)
        });
    let mb = mib as f64;
    println!(
        "hashing {mib} MiB: inkan {:.0} MiB/s ({growth}), sha256sum {:.0} MiB/s ({peer_rss}); {:.0}% of sha256sum; target >= 90% with flat memory",
        mb / ours.as_secs_f64(),
        mb / theirs.as_secs_f64(),
        100.0 * theirs.as_secs_f64() / ours.as_secs_f64()
    );
}
