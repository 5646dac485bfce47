//! Benchmark, printing our figure and the peer's in one run:
//! 1. verifications per second, in-process, of a time-stamped signature (ECDSA P-256 signer,
//!    RSA-3072 TSA, 3-certificate chain, one CRL), cold (`verify`) and warm (a `Validator`
//!    kept across calls), with the cost of the signature operations alone (the ceiling);
//! 2. wall time of one `inkan-verify` process against one `openssl cms -verify` process;
//! 3. hashing rate of a 1 GiB detached file against `sha256sum`.
//!
//! Rates are per second of the benchmark thread's CPU time (`/proc/thread-self/schedstat`), so
//! they mean "on one core" even on a loaded machine. Fixtures are made by OpenSSL in a temporary directory. `INKAN_BENCH_HASH_MIB` overrides the
//! size of the hashed file (default 1024), `INKAN_BENCH_SECS` the duration of each rate
//! measurement (default 3; small values for profiling under callgrind).

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
[tsa]
default_tsa = t
[t]
dir = .
serial = tsaserial
signer_cert = tsa.pem
signer_key = tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256
ess_cert_id_alg = sha256
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
openssl cms -sign -binary -in data.bin -signer signer.pem -inkey signer.key -certfile inter.pem -md sha256 -outform DER -out sig.p7s
"#;

fn sh(dir: &Path, script: &str) {
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

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

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    sh(d, SETUP);
    let sig = std::fs::read(d.join("sig.p7s")).unwrap();
    let sd = inkan_verifier::cms::SignedData::parse_content_info(&sig).unwrap();
    std::fs::write(d.join("sv.bin"), &sd.signers[0].signature).unwrap();
    sh(
        d,
        "openssl ts -query -data sv.bin -sha256 -cert -out sv.tsq && openssl ts -reply -config ca.cnf -queryfile sv.tsq -token_out -out sv.tst 2>/dev/null",
    );
    let stamped = add_signature_time_stamp(&sig, &std::fs::read(d.join("sv.tst")).unwrap());
    std::fs::write(d.join("stamped.p7s"), &stamped).unwrap();
    let data = std::fs::read(d.join("data.bin")).unwrap();
    let options = Options {
        data: Data::Bytes(data),
        trust: vec![std::fs::read(d.join("root.pem")).unwrap()],
        crls: vec![std::fs::read(d.join("inter.crl")).unwrap()],
        ocsps: vec![],
        revocation_required: false,
    };
    let input = Input { bytes: stamped };
    let now = SystemClock.now().unwrap();
    let r = verify(&input, &options, now).unwrap();
    assert_eq!(r.indication.as_str(), "TOTAL-PASSED", "{}", r.to_json());
    assert_eq!(r.time_stamps.len(), 1);

    // 1. In-process verifications per second (one core): cold (`verify`, nothing kept across
    //    calls) and warm (a `Validator` that already checked the CA and CRL signatures).
    let secs: f64 = std::env::var("INKAN_BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3.0);
    // Per second of this thread's CPU time (one core, whatever else the machine runs), from
    // /proc/thread-self/schedstat; wall time where that is not available.
    let rate = |f: &mut dyn FnMut()| {
        let t = Instant::now();
        let c = cpu_ns();
        let mut n = 0u64;
        while t.elapsed() < Duration::from_secs_f64(secs) {
            f();
            n += 1;
        }
        let used = match (c, cpu_ns()) {
            (Some(a), Some(b)) if b > a => (b - a) as f64 / 1e9,
            _ => t.elapsed().as_secs_f64(),
        };
        n as f64 / used
    };
    let cold = rate(&mut || {
        let _ = verify(&input, &options, now).unwrap();
    });
    let validator = Validator::default();
    let warm_report = validator.verify(&input, &options, now).unwrap();
    assert_eq!(warm_report.to_json(), r.to_json());
    let warm = rate(&mut || {
        let _ = validator.verify(&input, &options, now).unwrap();
    });
    let (entries, hits, misses) = validator.cache_stats();
    println!(
        "in-process: cold {cold:.0} verifications/s, warm Validator {warm:.0} verifications/s of a time-stamped P-256 signature (RSA-3072 TSA, 3-cert chain, 1 CRL); target >= 5000 (cache: {entries} entries, {hits} hits, {misses} misses)"
    );

    // 1b. The ceiling: the signature operations alone, measured in this run (ring, as profiles
    //     uses them). Cold: signer P-256 + inter P-256 (signer cert) + root RSA-3072 (inter cert)
    //     + inter P-256 (CRL) + TSA RSA-3072 (token) + root RSA-3072 (TSA cert) = 3 P-256 and
    //     3 RSA-3072; warm: 1 P-256 (signer) and 1 RSA-3072 (token).
    let signer = &inkan_verifier::x509::certificates_from_pem_or_der(
        &std::fs::read(d.join("signer.pem")).unwrap(),
    )[0];
    let si = &sd.signers[0];
    let p256 = rate(&mut || {
        inkan_profiles::verify::verify_signature(
            signer.spki(),
            &SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha256),
            &si.signed_attrs_der,
            &si.signature,
        )
        .unwrap();
    });
    let tsa = &inkan_verifier::x509::certificates_from_pem_or_der(
        &std::fs::read(d.join("tsa.pem")).unwrap(),
    )[0];
    let root = &inkan_verifier::x509::certificates_from_pem_or_der(
        &std::fs::read(d.join("root.pem")).unwrap(),
    )[0];
    let rsa = rate(&mut || {
        inkan_profiles::verify::verify_signature(
            root.spki(),
            &SignatureAlgorithm::RsaPkcs1(DigestAlgorithm::Sha256),
            tsa.tbs(),
            tsa.signature(),
        )
        .unwrap();
    });
    let us = |r: f64| 1e6 / r;
    println!(
        "crypto alone: P-256 verify {p256:.0}/s ({:.0} us), RSA-3072 verify {rsa:.0}/s ({:.0} us); ceiling cold (3+3) {:.0}/s, warm (1+1) {:.0}/s",
        us(p256),
        us(rsa),
        1e6 / (3.0 * us(p256) + 3.0 * us(rsa)),
        1e6 / (us(p256) + us(rsa)),
    );

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

    // 3. Hashing a large detached file.
    let mib: u64 = std::env::var("INKAN_BENCH_HASH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let big = d.join("big.bin");
    sh(d, &format!("head -c {}M /dev/zero > big.bin", mib));
    let ours = best_of(2, || {
        inkan_verifier::engine::hash_file(&big, DigestAlgorithm::Sha256).unwrap();
    });
    let theirs = best_of(2, || {
        let o = Command::new("sha256sum").arg(&big).output().unwrap();
        assert!(o.status.success());
    });
    let mb = mib as f64;
    println!(
        "hashing {mib} MiB: inkan {:.0} MiB/s, sha256sum {:.0} MiB/s ({:.0}% of sha256sum; target >= 90%)",
        mb / ours.as_secs_f64(),
        mb / theirs.as_secs_f64(),
        100.0 * theirs.as_secs_f64() / ours.as_secs_f64()
    );
}
