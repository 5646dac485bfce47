//! Signatures per second through the inkan-hsm API against a bare loop on the same backend:
//! raw ring / RustCrypto for software keys; raw cryptoki on one and on two sessions for a
//! SoftHSM2 token. Run: `cargo bench -p inkan-hsm --bench sign`.
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
const RUN: Duration = Duration::from_millis(1500);
const MSG: &[u8] =
    b"a CMS SignedAttributes DER of about a hundred bytes ......................................";

fn rate(mut f: impl FnMut()) -> f64 {
    for _ in 0..20 {
        f();
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < RUN {
        for _ in 0..10 {
            f();
        }
        n += 10;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn rate_threads(threads: usize, f: impl Fn() + Sync) -> f64 {
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads).map(|_| s.spawn(|| rate(&f))).collect();
        hs.into_iter().map(|h| h.join().unwrap()).sum()
    })
}

fn line(name: &str, ours: f64, bare: f64, what: &str) {
    println!(
        "{name:<28} ours {ours:>9.0}/s   {what} {bare:>9.0}/s   ours/bare {:>6.1}%",
        100.0 * ours / bare
    );
}

fn key_file(dir: &std::path::Path, name: &str, args: &[&str]) -> std::path::PathBuf {
    let p = dir.join(name);
    let ok = Command::new("openssl")
        .arg("genpkey")
        .args(args)
        .arg("-out")
        .arg(&p)
        .status()
        .unwrap();
    assert!(ok.success());
    p
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
    let s = ours(&p);
    let bare = rate(|| {
        black_box(raw.sign(&rng, MSG).unwrap());
    });
    line(
        "soft P-256 ECDSA-SHA256",
        rate(|| {
            black_box(s.sign(MSG).unwrap());
        }),
        bare,
        "raw ring",
    );
    // Ed25519 (ring).
    let p = key_file(dir, "ed.pem", &["-algorithm", "ED25519"]);
    let raw = rs::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&pem(&p)).unwrap();
    let s = ours(&p);
    let bare = rate(|| {
        black_box(raw.sign(MSG));
    });
    line(
        "soft Ed25519",
        rate(|| {
            black_box(s.sign(MSG).unwrap());
        }),
        bare,
        "raw ring",
    );
    // RSA-2048 PKCS#1 (ring).
    let p = key_file(
        dir,
        "rsa.pem",
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    );
    let raw = rs::RsaKeyPair::from_pkcs8(&pem(&p)).unwrap();
    let s = ours(&p);
    let bare = rate(|| {
        let mut sig = vec![0; raw.public().modulus_len()];
        raw.sign(&rs::RSA_PKCS1_SHA256, &rng, MSG, &mut sig)
            .unwrap();
    });
    line(
        "soft RSA-2048 PKCS1-SHA256",
        rate(|| {
            black_box(s.sign(MSG).unwrap());
        }),
        bare,
        "raw ring",
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
    let s = ours(&p);
    let bare = rate(|| {
        black_box::<p384::ecdsa::DerSignature>(rc.sign(MSG));
    });
    line(
        "soft P-384 ECDSA-SHA384",
        rate(|| {
            black_box(s.sign(MSG).unwrap());
        }),
        bare,
        "raw p384",
    );
    let ring384 =
        rs::EcdsaKeyPair::from_pkcs8(&rs::ECDSA_P384_SHA384_ASN1_SIGNING, &pem(&p), &rng).unwrap();
    println!(
        "  (ring P-384 for comparison: {:.0}/s)",
        rate(|| {
            black_box(ring384.sign(&rng, MSG).unwrap());
        })
    );
}

fn softhsm() {
    use inkan_hsm::softhsm::{USER_PIN, module_path};
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
        let one = {
            let (s, h) = open();
            rate(|| bare_sign(&s, h))
        };
        let name = format!("SoftHSM2 {label} 1 thread");
        line(
            &name,
            rate(|| {
                black_box(ours.sign(MSG).unwrap());
            }),
            one,
            "bare cryptoki 1 session",
        );
        let two_bare = std::thread::scope(|sc| {
            let hs: Vec<_> = (0..2)
                .map(|_| {
                    sc.spawn(|| {
                        let (s, h) = open();
                        rate(|| bare_sign(&s, h))
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum::<f64>()
        });
        let two_ours = rate_threads(2, || {
            black_box(ours.sign(MSG).unwrap());
        });
        let name = format!("SoftHSM2 {label} 2 threads");
        line(&name, two_ours, two_bare, "bare cryptoki 2 sessions");
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
    println!("signatures per second, {} ms per figure", RUN.as_millis());
    software(dir.path());
    inkan_hsm::softhsm::init_dir(dir.path(), &["bench"]);
    let st = Command::new(std::env::current_exe().unwrap())
        .env("SOFTHSM2_CONF", dir.path().join("softhsm2.conf"))
        .env("INKAN_BENCH_DIR", dir.path())
        .env(inkan_hsm::softhsm::PIN_ENV, inkan_hsm::softhsm::USER_PIN)
        .status()
        .unwrap();
    assert!(st.success());
}
