//! Signatures per second through the inkan-hsm API against a bare loop on the same backend:
//! raw ring / RustCrypto for software keys; raw cryptoki on one and on two sessions for a
//! SoftHSM2 token. Run: `cargo bench -p inkan-hsm --bench sign`.
//!
//! Ours and the bare loop alternate in short slices ([`ROUNDS`] rounds of [`SLICE`] each, the
//! order swapped every round) and the figures are medians, so a change of load from other
//! processes hits both sides alike; each figure is given per wall-clock second and per CPU
//! second of the signing thread (`/proc/thread-self/schedstat`), the latter unaffected by
//! time spent waiting for a CPU.
//!
//! The bench re-runs itself with `SOFTHSM2_CONF` pointing at a private token (it never
//! changes its own environment).

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, ObjectClass};
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;
use inkan_hsm::{KeyRef, Policy, Signer};
use inkan_profiles::time::UnixTime;
use std::hint::black_box;

const AT: UnixTime = UnixTime::from_secs(1_795_392_000);
/// Rounds per comparison; each round runs ours and the bare loop for [`SLICE`] each, in
/// alternating order, so that load from other processes hits both alike.
const ROUNDS: usize = 10;
const SLICE: Duration = Duration::from_millis(300);
const MSG: &[u8] =
    b"a CMS SignedAttributes DER of about a hundred bytes ......................................";

/// Nanoseconds this thread has spent on a CPU (`/proc/thread-self/schedstat`, first field).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// One slice of one loop: operations, wall seconds, thread CPU seconds.
#[derive(Clone, Copy, Default)]
struct Slice {
    n: u64,
    wall: f64,
    cpu: f64,
}

fn slice(f: &mut dyn FnMut()) -> Slice {
    let (start, cpu0) = (Instant::now(), thread_cpu_ns());
    let mut n = 0u64;
    while start.elapsed() < SLICE {
        for _ in 0..5 {
            f();
        }
        n += 5;
    }
    let cpu = thread_cpu_ns().saturating_sub(cpu0) as f64 / 1e9;
    Slice {
        n,
        wall: start.elapsed().as_secs_f64(),
        cpu,
    }
}

/// Makes, on the thread that will run it, one loop body (a signature).
type Make<'a> = dyn Fn() -> Box<dyn FnMut() + 'a> + Sync + 'a;

/// Runs `ours` and `bare` in alternating slices on `threads` threads in lockstep; returns per
/// round the summed (ours, bare) slices of every thread.
fn rounds<'a>(threads: usize, ours: &Make<'a>, bare: &Make<'a>) -> Vec<[Slice; 2]> {
    let barrier = std::sync::Barrier::new(threads);
    let per_thread: Vec<Vec<[Slice; 2]>> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let (mut o, mut b) = (ours(), bare());
                    for _ in 0..20 {
                        o();
                        b();
                    }
                    (0..ROUNDS)
                        .map(|r| {
                            let mut out = [Slice::default(); 2];
                            // Even rounds: ours first; odd rounds: bare first.
                            for which in [r % 2, 1 - r % 2] {
                                barrier.wait();
                                out[which] = if which == 0 {
                                    slice(&mut *o)
                                } else {
                                    slice(&mut *b)
                                };
                            }
                            out
                        })
                        .collect()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    (0..ROUNDS)
        .map(|r| {
            let mut sum = [Slice::default(); 2];
            for t in &per_thread {
                for w in 0..2 {
                    sum[w].n += t[r][w].n;
                    sum[w].wall = sum[w].wall.max(t[r][w].wall);
                    // CPU per operation, averaged over the threads.
                    sum[w].cpu += t[r][w].cpu;
                }
            }
            sum
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// Prints medians over the rounds: wall-clock rate (all threads), CPU rate (operations per
/// CPU-second of the signing threads, times the thread count), and ours/bare for each (the
/// median of the per-round ratios: the two loops of a round saw the same load).
fn compare<'a>(name: &str, what: &str, threads: usize, ours: &Make<'a>, bare: &Make<'a>) {
    // `cargo bench -p inkan-hsm --bench sign -- P-384` runs only the lines naming P-384.
    if let Some(f) = std::env::args().skip(1).find(|a| !a.starts_with('-'))
        && !name.contains(&f)
    {
        return;
    }
    let r = rounds(threads, ours, bare);
    let wall = |s: &Slice| s.n as f64 / s.wall;
    let cpu = |s: &Slice| threads as f64 * s.n as f64 / s.cpu.max(1e-9);
    let med = |f: &dyn Fn(&[Slice; 2]) -> f64| median(r.iter().map(f).collect());
    println!(
        "{name:<30} wall: ours {:>8.0}/s {what} {:>8.0}/s ours/bare {:>5.1}% | cpu: ours {:>8.0}/s {what} {:>8.0}/s ours/bare {:>5.1}%",
        med(&|x| wall(&x[0])),
        med(&|x| wall(&x[1])),
        100.0 * med(&|x| wall(&x[0]) / wall(&x[1])),
        med(&|x| cpu(&x[0])),
        med(&|x| cpu(&x[1])),
        100.0 * med(&|x| cpu(&x[0]) / cpu(&x[1])),
    );
}

fn key_file(dir: &std::path::Path, name: &str, args: &[&str]) -> std::path::PathBuf {
    let p = dir.join(name);
    let ok = Command::new("openssl")
        .arg("genpkey")
        .args(args)
        .arg("-out")
        .arg(&p)
        .output()
        .unwrap();
    assert!(ok.status.success());
    p
}

/// Our loop: a signature through the `Signer` trait object.
fn ours_loop<'a>(s: &'a Arc<dyn Signer>) -> impl Fn() -> Box<dyn FnMut() + 'a> + Sync + 'a {
    move || {
        Box::new(move || {
            black_box(s.sign(black_box(MSG)).unwrap());
        })
    }
}

/// The bare loop of RSA signing with ring's `raw` key and `padding`.
fn ring_rsa_loop<'a>(
    raw: &'a ring::signature::RsaKeyPair,
    padding: &'static dyn ring::signature::RsaEncoding,
    rng: &'a ring::rand::SystemRandom,
) -> impl Fn() -> Box<dyn FnMut() + 'a> + Sync + 'a {
    move || {
        Box::new(move || {
            let mut sig = vec![0; raw.public().modulus_len()];
            raw.sign(padding, rng, black_box(MSG), &mut sig).unwrap();
            black_box(sig);
        })
    }
}

fn software(dir: &std::path::Path) {
    use ring::signature as rs;
    let rng = ring::rand::SystemRandom::new();
    let pem = |p: &std::path::Path| der::pem::decode_vec(&std::fs::read(p).unwrap()).unwrap().1;
    let ours = |p: &std::path::Path| {
        let k = inkan_hsm::load(&KeyRef::File(p.into()), &Policy::cryptrec(), AT).unwrap();
        k.choose(&inkan_hsm::default_algorithms(&k.kind())).unwrap()
    };
    // P-256 (ring).
    let p = key_file(
        dir,
        "p256.pem",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    );
    let raw =
        rs::EcdsaKeyPair::from_pkcs8(&rs::ECDSA_P256_SHA256_ASN1_SIGNING, &pem(&p), &rng).unwrap();
    let ours_signer = ours(&p);
    compare(
        "soft P-256 ECDSA-SHA256",
        "raw ring",
        1,
        &ours_loop(&ours_signer),
        &|| {
            Box::new(|| {
                black_box(raw.sign(&rng, black_box(MSG)).unwrap());
            })
        },
    );
    // Ed25519 (ring).
    let p = key_file(dir, "ed.pem", &["-algorithm", "ED25519"]);
    let raw = rs::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&pem(&p)).unwrap();
    let ours_signer = ours(&p);
    compare(
        "soft Ed25519",
        "raw ring",
        1,
        &ours_loop(&ours_signer),
        &|| {
            Box::new(|| {
                black_box(raw.sign(black_box(MSG)));
            })
        },
    );
    // RSA-2048 PKCS#1 (ring).
    let p = key_file(
        dir,
        "rsa.pem",
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    );
    let raw = rs::RsaKeyPair::from_pkcs8(&pem(&p)).unwrap();
    let ours_signer = ours(&p);
    compare(
        "soft RSA-2048 PKCS1-SHA256",
        "raw ring",
        1,
        &ours_loop(&ours_signer),
        &ring_rsa_loop(&raw, &rs::RSA_PKCS1_SHA256, &rng),
    );
    // RSA-3072 PSS from an id-RSASSA-PSS key file (re-wrapped for ring inside inkan-hsm); the
    // bare loop gets the same RSAPrivateKey wrapped as rsaEncryption here.
    let p = key_file(
        dir,
        "rsapss.pem",
        &["-algorithm", "RSA-PSS", "-pkeyopt", "rsa_keygen_bits:3072"],
    );
    let pss_der = pem(&p);
    let rsa_der = {
        use der::{Decode, Encode};
        let info = pkcs8::PrivateKeyInfoRef::from_der(&pss_der).unwrap();
        pkcs8::PrivateKeyInfoRef::new(
            spki::AlgorithmIdentifier {
                oid: const_oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1"),
                parameters: Some(der::asn1::AnyRef::NULL),
            },
            info.private_key,
        )
        .to_der()
        .unwrap()
    };
    let raw = rs::RsaKeyPair::from_pkcs8(&rsa_der).unwrap();
    let ours_signer = ours(&p);
    assert!(matches!(
        ours_signer.algorithm(),
        inkan_profiles::alg::SignatureAlgorithm::RsaPss(_)
    ));
    compare(
        "soft RSA-3072 PSS-SHA256 file",
        "raw ring",
        1,
        &ours_loop(&ours_signer),
        &ring_rsa_loop(&raw, &rs::RSA_PSS_SHA256, &rng),
    );
    // P-384 (RustCrypto) and ring's P-384 for comparison.
    let p = key_file(
        dir,
        "p384.pem",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
    );
    use pkcs8::DecodePrivateKey;
    use signature::Signer as _;
    let rc = p384::ecdsa::SigningKey::from_pkcs8_der(&pem(&p)).unwrap();
    let ours_signer = ours(&p);
    compare(
        "soft P-384 ECDSA-SHA384",
        "raw p384",
        1,
        &ours_loop(&ours_signer),
        &|| {
            Box::new(|| {
                black_box::<p384::ecdsa::DerSignature>(rc.sign(black_box(MSG)));
            })
        },
    );
    let ring384 =
        rs::EcdsaKeyPair::from_pkcs8(&rs::ECDSA_P384_SHA384_ASN1_SIGNING, &pem(&p), &rng).unwrap();
    compare(
        "  (ring P-384 vs raw p384)",
        "raw p384",
        1,
        &|| {
            Box::new(|| {
                black_box(ring384.sign(&rng, black_box(MSG)).unwrap());
            })
        },
        &|| {
            Box::new(|| {
                black_box::<p384::ecdsa::DerSignature>(rc.sign(black_box(MSG)));
            })
        },
    );
}

fn softhsm() {
    use inkan_test_support::softhsm::{USER_PIN, module_path};
    let dir = std::env::var("INKAN_BENCH_DIR").unwrap();
    let module = module_path();
    let keygen = |label: &str, t: &str| {
        let ok = Command::new("pkcs11-tool")
            .arg("--module")
            .arg(&module)
            .args([
                "--token-label",
                "bench",
                "--login",
                "--pin",
                USER_PIN,
                "--keypairgen",
                "--key-type",
                t,
                "--label",
                label,
                "--id",
                "01",
                "--usage-sign",
            ])
            .output()
            .unwrap();
        assert!(
            ok.status.success(),
            "{}",
            String::from_utf8_lossy(&ok.stderr)
        );
    };
    let _ = dir;
    for (label, t, mech_is_ec) in [
        ("p256", "EC:prime256v1", true),
        ("rsa2048", "rsa:2048", false),
    ] {
        keygen(label, t);
        let uri = format!(
            "pkcs11:token=bench;object={label}?module-path={}&pin-source=env:INKAN_TEST_PIN",
            module.display()
        );
        let key = inkan_hsm::load(&KeyRef::parse(&uri).unwrap(), &Policy::cryptrec(), AT).unwrap();
        let ours: Arc<dyn Signer> = key
            .choose(&inkan_hsm::default_algorithms(&key.kind()))
            .unwrap();
        // Bare cryptoki: its own context would clash with ours (one C_Initialize per process), so it
        // shares the module our key opened and opens its own sessions.
        let m = inkan_hsm::pkcs11::Module::open(&module).unwrap();
        let ctx = m.context();
        let slot = m
            .find_slot(&inkan_hsm::Pkcs11Uri::parse(&uri).unwrap())
            .unwrap();
        let open = || {
            let s = ctx.open_ro_session(slot).unwrap();
            let _ = s.login(UserType::User, Some(&AuthPin::from(USER_PIN)));
            let h = s
                .find_objects(&[
                    Attribute::Class(ObjectClass::PRIVATE_KEY),
                    Attribute::Label(label.as_bytes().to_vec()),
                ])
                .unwrap()[0];
            (s, h)
        };
        let bare_sign = |s: &cryptoki::session::Session, h| {
            if mech_is_ec {
                let d = ring::digest::digest(&ring::digest::SHA256, MSG);
                black_box(s.sign(&Mechanism::Ecdsa, h, d.as_ref()).unwrap());
            } else {
                black_box(s.sign(&Mechanism::Sha256RsaPkcs, h, MSG).unwrap());
            }
        };
        let ours_loop = || -> Box<dyn FnMut() + '_> {
            Box::new(|| {
                black_box(ours.sign(black_box(MSG)).unwrap());
            })
        };
        // Each thread of the bare loop opens its own session.
        let bare_loop = || -> Box<dyn FnMut() + '_> {
            let (s, h) = open();
            Box::new(move || bare_sign(&s, h))
        };
        compare(
            &format!("SoftHSM2 {label} 1 thread"),
            "bare cryptoki 1 session",
            1,
            &ours_loop,
            &bare_loop,
        );
        compare(
            &format!("SoftHSM2 {label} 2 threads"),
            "bare cryptoki 2 sessions",
            2,
            &ours_loop,
            &bare_loop,
        );
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if std::env::var("INKAN_BENCH_DIR").is_ok() {
        softhsm();
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    println!(
        "signatures per second: medians of {ROUNDS} rounds, each running ours and the bare loop for {} ms (alternating which goes first); wall = elapsed time, cpu = per CPU-second of the signing thread(s) (/proc/thread-self/schedstat)",
        SLICE.as_millis()
    );
    software(dir.path());
    inkan_test_support::softhsm::init_dir(dir.path(), &["bench"]);
    let st = Command::new(std::env::current_exe().unwrap())
        .args(std::env::args().skip(1))
        .env("SOFTHSM2_CONF", dir.path().join("softhsm2.conf"))
        .env("INKAN_BENCH_DIR", dir.path())
        .env(
            inkan_test_support::softhsm::PIN_ENV,
            inkan_test_support::softhsm::USER_PIN,
        )
        .status()
        .unwrap();
    assert!(st.success());
}
