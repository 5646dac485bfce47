//! Signatures and tokens made by OpenSSL at test time (a PKI with CRLs, `openssl cms -sign`,
//! `openssl ts -reply`), each verified with an exact indication and sub-indication.

use inkan_test_support::{bash, openssl_ca_config, openssl_tsa_section};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use inkan_profiles::clock::{Clock, SystemClock};
use inkan_profiles::time::UnixTime;
use inkan_verifier::report::{Indication, Sub};
use inkan_verifier::{Data, Input, Options, tlv, verify_in};

struct Pki {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

const SETUP: &str = r#"
set -e
cat >> ca.cnf <<'CNF'
[pol]
commonName = supplied
organizationName = optional
[v3_ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_signer]
basicConstraints = CA:false
keyUsage = critical,digitalSignature,nonRepudiation
[v3_nokeyusage]
basicConstraints = CA:false
keyUsage = critical,keyCertSign
[v3_tsa]
basicConstraints = CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
[v3_tsa_noncrit]
basicConstraints = CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = timeStamping
[v3_tsa_two]
basicConstraints = CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping,serverAuth
[v3_ocsp]
basicConstraints = CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = OCSPSigning
[tsa]
default_tsa = tsa_config1
CNF
mkdir -p newcerts; : > index.txt; echo 1000 > serial; echo 1000 > crlnumber; echo 01 > tsaserial
key() { case "$2" in
  p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $1.key ;;
  p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out $1.key ;;
  ed25519) openssl genpkey -algorithm ED25519 -out $1.key ;;
  dsa) openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:2048 \
         -pkeyopt dsa_paramgen_q_bits:256 -out $1.params && \
       openssl genpkey -paramfile $1.params -out $1.key ;;
  rsa*) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:${2#rsa} -out $1.key ;;
esac 2>/dev/null; }
key root rsa3072
openssl req -x509 -new -key root.key -subj "/CN=Test Root/O=inkan test" -days 3650 -sha256 \
  -config ca.cnf -extensions v3_ca -out root.pem 2>/dev/null
key inter p256
openssl req -new -key inter.key -subj "/CN=Test Inter" -out inter.csr
openssl ca -batch -config ca.cnf -cert root.pem -keyfile root.key -extensions v3_ca -days 3000 \
  -in inter.csr -out inter.pem 2>/dev/null
issue() { # name keytype ext days [startdate enddate]
  key $1 $2
  openssl req -new -key $1.key -subj "/CN=$1/O=inkan test org" -out $1.csr
  if [ -n "$5" ]; then
    openssl ca -batch -config ca.cnf -cert inter.pem -keyfile inter.key -extensions $3 \
      -startdate $5 -enddate $6 -in $1.csr -out $1.pem 2>/dev/null
  else
    openssl ca -batch -config ca.cnf -cert inter.pem -keyfile inter.key -extensions $3 \
      -days $4 -in $1.csr -out $1.pem 2>/dev/null
  fi
  cat $1.pem inter.pem > $1-chain.pem
}
issue p256 p256 v3_signer 30
issue p384 p384 v3_signer 30
issue rsa2048 rsa2048 v3_signer 30
issue rsa3072 rsa3072 v3_signer 30
issue ed25519 ed25519 v3_signer 30
issue dsa dsa v3_signer 30
issue rsa1024 rsa1024 v3_signer 30
issue nokeyusage p256 v3_nokeyusage 30
issue revoked p256 v3_signer 30
issue shortlived p256 v3_signer 1 20200101000000Z 20200201000000Z
issue shortrevoked p256 v3_signer 1 20200101000000Z 20200201000000Z
# Revocation, proof of existence, TSA and OCSP responder certificates (issue 11).
issue revlater p256 v3_signer 30
issue victim p256 v3_signer 30
issue tsa2 p256 v3_tsa 30
issue tsa-noncrit p256 v3_tsa_noncrit 30
issue tsa-two p256 v3_tsa_two 30
issue ocspresp p256 v3_ocsp 30
issue ocspold p256 v3_ocsp 1 20200101000000Z 20200201000000Z
issue ocspbad p256 v3_ocsp 30
key tsa rsa3072
openssl req -new -key tsa.key -subj "/CN=Test TSA" -out tsa.csr
openssl ca -batch -config ca.cnf -cert root.pem -keyfile root.key -extensions v3_tsa -days 3000 \
  -in tsa.csr -out tsa.pem 2>/dev/null
cp inter.pem tsa-certs.pem
openssl ca -config ca.cnf -cert inter.pem -keyfile inter.key -revoke revoked.pem 2>/dev/null
openssl ca -batch -config ca.cnf -cert inter.pem -keyfile inter.key -gencrl -out inter.crl 2>/dev/null
openssl ca -batch -config ca.cnf -cert root.pem -keyfile root.key -gencrl -out root.crl 2>/dev/null
# CRL scope and freshness (issuingDistributionPoint, stale validity period).
cat > idp.cnf <<'CNF'
[other_dp]
issuingDistributionPoint = critical,@other_dp_s
[other_dp_s]
fullname = URI:http://crl.example/other.crl
[only_ca]
issuingDistributionPoint = critical,@only_ca_s
[only_ca_s]
onlyCA = TRUE
[only_user]
issuingDistributionPoint = critical,@only_user_s
[only_user_s]
onlyuser = TRUE
CNF
cat ca.cnf idp.cnf > ca-idp.cnf
for x in other_dp only_ca only_user; do
  openssl ca -batch -config ca-idp.cnf -cert inter.pem -keyfile inter.key -gencrl     -crlexts $x -out inter-$x.crl 2>/dev/null
done
openssl ca -batch -config ca.cnf -cert inter.pem -keyfile inter.key -gencrl   -crl_lastupdate $(date -u -d '-3 days' +%Y%m%d%H%M%SZ)   -crl_nextupdate $(date -u -d '-1 days' +%Y%m%d%H%M%SZ) -out inter-stale.crl 2>/dev/null
other() { openssl req -x509 -new -newkey rsa:2048 -nodes -keyout other.key -subj "/CN=Other Root" -days 30 -out other.pem 2>/dev/null; }
other
printf 'hello inkan\n' > data.txt
printf 'hello inkam\n' > other.txt
"#;

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let ca = "new_certs_dir = newcerts\nserial = serial\npolicy = pol\ndefault_days = 30\n\
                  unique_subject = no\ncopy_extensions = none\n";
        std::fs::write(path.join("ca.cnf"), openssl_ca_config(ca)).unwrap();
        bash(&path, SETUP);
        // The two TSAs of `ts_token_from`, after `[tsa]` in ca.cnf.
        let extra = "certs = inter.pem\ndigests = sha256, sha384, sha512\naccuracy = secs:1\n\
                     ess_cert_id_chain = no\n";
        let tsas = [
            openssl_tsa_section("tsa_config1", "tsa.pem", "tsa.key", extra),
            openssl_tsa_section(
                "tsa_config2",
                "tsa2.pem",
                "tsa2.key",
                &extra.replace(", sha384, sha512", ""),
            ),
        ];
        let mut cnf = std::fs::OpenOptions::new()
            .append(true)
            .open(path.join("ca.cnf"))
            .unwrap();
        std::io::Write::write_all(&mut cnf, tsas.concat().as_bytes()).unwrap();
        Pki { _dir: dir, path }
    })
}

fn now() -> UnixTime {
    SystemClock.now().unwrap()
}

fn days(n: i64) -> UnixTime {
    UnixTime::from_secs((now().secs() as i64 + n * 86400) as u64)
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(pki().path.join(name)).unwrap()
}

struct Run {
    sig: Vec<u8>,
    data: Data,
    trust: Vec<&'static str>,
    crls: Vec<&'static str>,
    ocsps: Vec<&'static str>,
    required: bool,
    at: UnixTime,
}

impl Run {
    fn new(sig: Vec<u8>) -> Self {
        Self {
            sig,
            data: Data::None,
            trust: vec!["root.pem"],
            crls: vec![],
            ocsps: vec![],
            required: false,
            at: now(),
        }
    }
    fn data(mut self, f: &str) -> Self {
        self.data = Data::File(pki().path.join(f));
        self
    }
    fn report(self) -> inkan_verifier::report::Report {
        self.report_in(&std::sync::Arc::default())
    }
    /// The report, verified in `call` (whose work the caller may read).
    fn report_in(
        self,
        call: &std::sync::Arc<inkan_verifier::crypto::Call>,
    ) -> inkan_verifier::report::Report {
        let options = Options {
            data: self.data,
            trust: self.trust.iter().map(|t| read(t)).collect(),
            crls: self.crls.iter().map(|t| read(t)).collect(),
            ocsps: self.ocsps.iter().map(|t| read(t)).collect(),
            revocation_required: self.required,
            ..Options::default()
        };
        verify_in(call, &Input { bytes: self.sig }, &options, self.at).unwrap()
    }
    fn check(self, ind: Indication, sub: Option<Sub>) -> inkan_verifier::report::Report {
        let r = self.report();
        assert_eq!(
            (r.indication, r.sub_indication),
            (ind, sub),
            "{}",
            r.to_text(inkan_verifier::report::Lang::En)
        );
        r
    }
}

/// `openssl cms -sign` with the signer `name`; `extra` adds options. A CAdES signature
/// (`-cades`: ESS signing-certificate-v2, which the verifier requires as DSS's default policy
/// does) unless `extra` says `-nocades` (removed) or `-noattr`.
fn cms_sign(name: &str, extra: &str) -> Vec<u8> {
    // Unique per call: tests run in parallel in one directory and sign with the same options.
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let out = format!("sig-{name}-{}-{n}.p7s", extra.replace([' ', '-'], "_"));
    let extra = if extra.contains("-nocades") {
        extra.replace("-nocades", "")
    } else if extra.contains("-noattr") || extra.contains("-cades") {
        extra.to_owned()
    } else {
        format!("{extra} -cades")
    };
    bash(
        &pki().path,
        &format!(
            "openssl cms -sign -binary -in data.txt -signer {name}.pem -inkey {name}.key \
             -certfile inter.pem -outform DER -out {out} {extra}"
        ),
    );
    read(&out)
}

#[test]
fn allowed_algorithms_pass() {
    for (name, extra) in [
        ("p256", "-md sha256"),
        ("p256", "-md sha512 -nodetach"),
        ("p384", "-md sha384"),
        ("rsa2048", "-md sha256"),
        ("rsa3072", "-md sha256 -keyopt rsa_padding_mode:pss"),
        ("rsa3072", "-md sha384 -cades"),
        // OpenSSL 3.0 cannot make Ed25519 CMS signatures ("eddsa ... invalid digest"); the
        // real-world vectors carry an Ed25519 token instead.
    ] {
        let detached = !extra.contains("nodetach");
        let r = Run::new(cms_sign(name, extra));
        let r = if detached { r.data("data.txt") } else { r };
        r.check(Indication::TotalPassed, None);
    }
}

#[test]
fn forbidden_algorithms_are_indeterminate() {
    // SHA-1 and RSA-1024 now; RSA-2048 after 2030 without a proof of existence before.
    for (name, extra, at) in [
        ("p256", "-md sha1", None),
        ("rsa1024", "-md sha256", None),
        ("rsa2048", "-md sha256", Some(1_930_000_000)),
    ] {
        let mut r = Run::new(cms_sign(name, extra)).data("data.txt");
        if let Some(at) = at {
            r.at = UnixTime::from_secs(at);
        }
        r.check(
            Indication::Indeterminate,
            Some(Sub::CryptoConstraintsFailureNoPoe),
        );
    }
}

#[test]
fn tampered_content_signature_and_digest() {
    Run::new(cms_sign("p256", "-md sha256"))
        .data("other.txt")
        .check(Indication::TotalFailed, Some(Sub::HashFailure));
    // Flip the last byte of the RSA signature value (the end of the file).
    let mut sig = cms_sign("rsa2048", "-md sha256");
    let n = sig.len();
    sig[n - 1] ^= 1;
    Run::new(sig)
        .data("data.txt")
        .check(Indication::TotalFailed, Some(Sub::SigCryptoFailure));
    // Change the message-digest attribute itself.
    let mut sig = cms_sign("rsa2048", "-md sha256");
    let md = inkan_profiles::alg::DigestAlgorithm::Sha256.digest(&read("data.txt"));
    let pos = sig.windows(32).position(|w| w == md.as_slice()).unwrap();
    sig[pos] ^= 0xff;
    Run::new(sig)
        .data("data.txt")
        .check(Indication::TotalFailed, Some(Sub::HashFailure));
    // Detached without data.
    Run::new(cms_sign("p256", "-md sha256"))
        .check(Indication::Indeterminate, Some(Sub::SignedDataNotFound));
}

#[test]
fn chain_and_validity() {
    let mut r = Run::new(cms_sign("p256", "-md sha256")).data("data.txt");
    r.trust = vec!["other.pem"];
    r.check(
        Indication::Indeterminate,
        Some(Sub::NoCertificateChainFound),
    );
    let mut r = Run::new(cms_sign("p256", "-md sha256")).data("data.txt");
    r.at = days(60);
    r.check(Indication::Indeterminate, Some(Sub::OutOfBoundsNoPoe));
    let mut r = Run::new(cms_sign("p256", "-md sha256")).data("data.txt");
    r.at = days(-10);
    r.check(Indication::TotalFailed, Some(Sub::NotYetValid));
    Run::new(cms_sign("nokeyusage", "-md sha256"))
        .data("data.txt")
        .check(
            Indication::Indeterminate,
            Some(Sub::ChainConstraintsFailure),
        );
}

#[test]
fn revocation() {
    let mut r = Run::new(cms_sign("revoked", "-md sha256")).data("data.txt");
    r.crls = vec!["inter.crl", "root.crl"];
    r.check(Indication::Indeterminate, Some(Sub::RevokedNoPoe));
    // Required revocation: nothing at hand, then CRLs at hand.
    let mut r = Run::new(cms_sign("p256", "-md sha256")).data("data.txt");
    r.required = true;
    r.check(Indication::Indeterminate, Some(Sub::TryLater));
    let mut r = Run::new(cms_sign("p256", "-md sha256")).data("data.txt");
    r.required = true;
    r.crls = vec!["inter.crl", "root.crl"];
    r.check(Indication::TotalPassed, None);
}

#[test]
fn dsa_through_profiles() {
    // DSA 2048/256 with SHA-256: verified by inkan-profiles, allowed for validation by
    // CRYPTREC (verify only).
    let sig = cms_sign("dsa", "-md sha256");
    Run::new(sig.clone())
        .data("data.txt")
        .check(Indication::TotalPassed, None);
    Run::new(sig)
        .data("other.txt")
        .check(Indication::TotalFailed, Some(Sub::HashFailure));
}

#[test]
fn crl_scope_and_freshness() {
    let run = |signer: &str, crl: &'static str| {
        let mut r = Run::new(cms_sign(signer, "-md sha256")).data("data.txt");
        r.required = true;
        r.crls = vec![crl, "root.crl"];
        r
    };
    // A CRL for another distribution point, or for CA certificates only, does not cover the
    // signer: no usable revocation information.
    run("p256", "inter-other_dp.crl").check(Indication::Indeterminate, Some(Sub::TryLater));
    run("p256", "inter-only_ca.crl").check(Indication::Indeterminate, Some(Sub::TryLater));
    // One for end-entity certificates does.
    run("p256", "inter-only_user.crl").check(Indication::TotalPassed, None);
    // A CRL whose nextUpdate is before the time of interest is not fresh...
    run("p256", "inter-stale.crl").check(Indication::Indeterminate, Some(Sub::TryLater));
    // ...but a revocation it lists is still a fact.
    run("revoked", "inter-stale.crl").check(Indication::Indeterminate, Some(Sub::RevokedNoPoe));
}

fn ts_token(data_file: &str, out: &str) -> Vec<u8> {
    ts_token_from("tsa_config1", data_file, out)
}

#[test]
fn stand_alone_tokens() {
    let tok = ts_token("data.txt", "data.tst");
    Run::new(tok.clone())
        .data("data.txt")
        .check(Indication::TotalPassed, None);
    Run::new(tok)
        .data("other.txt")
        .check(Indication::TotalFailed, Some(Sub::HashFailure));
    let mut r = Run::new(ts_token("data.txt", "data2.tst")).data("data.txt");
    r.trust = vec!["other.pem"];
    r.check(
        Indication::Indeterminate,
        Some(Sub::NoCertificateChainFound),
    );
}

/// Appends an unsigned signature-time-stamp attribute holding `token` to the first SignerInfo.
fn add_signature_time_stamp(sig: &[u8], token: &[u8]) -> Vec<u8> {
    add_unsigned_attribute(
        sig,
        &[
            0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x0e,
        ],
        token,
    )
}

/// Appends an unsigned attribute (OID content octets `oid`) holding `token` to the first
/// SignerInfo, after the unsigned attributes it already has (as a later addition would).
fn add_unsigned_attribute(sig: &[u8], attr_oid: &[u8], token: &[u8]) -> Vec<u8> {
    let ci = tlv::parse_exact(sig).unwrap();
    let mut r = ci.children();
    let oid = r.next_tlv().unwrap();
    let wrap = r.next_tlv().unwrap();
    let sd = tlv::parse_exact(wrap.value).unwrap();
    let mut parts: Vec<Vec<u8>> = sd.children().map(|t| t.unwrap().raw.to_vec()).collect();
    let sis = tlv::parse_exact(parts.last().unwrap()).unwrap();
    let si = sis.children().next().unwrap().unwrap();
    let fields: Vec<tlv::Tlv<'_>> = si.children().map(|t| t.unwrap()).collect();
    let mut attr = tlv::encode(0x06, attr_oid);
    attr.extend(tlv::encode(0x31, token));
    let attr = tlv::encode(0x30, &attr);
    let mut si_content = Vec::new();
    match fields.last() {
        Some(last) if last.tag == 0xa1 => {
            for f in &fields[..fields.len() - 1] {
                si_content.extend_from_slice(f.raw);
            }
            let mut attrs = last.value.to_vec();
            attrs.extend(attr);
            si_content.extend(tlv::encode(0xa1, &attrs));
        }
        _ => {
            si_content.extend_from_slice(si.value);
            si_content.extend(tlv::encode(0xa1, &attr));
        }
    }
    let new_si = tlv::encode(0x30, &si_content);
    *parts.last_mut().unwrap() = tlv::encode(0x31, &new_si);
    let sd_new = tlv::encode(0x30, &parts.concat());
    let mut ci_content = oid.raw.to_vec();
    ci_content.extend(tlv::encode(0xa0, &sd_new));
    tlv::encode(0x30, &ci_content)
}

fn signature_value(sig: &[u8]) -> Vec<u8> {
    let sd = inkan_verifier::cms::SignedData::parse_content_info(sig).unwrap();
    sd.signers[0].signature.clone()
}

#[test]
fn time_stamped_signature_outlives_its_certificate() {
    // Sign with a certificate valid in January 2020 only; the time stamp (now) comes after
    // expiry, so it cannot help: the result stays OUT_OF_BOUNDS_NO_POE.
    let sig = cms_sign("shortlived", "-md sha256");
    std::fs::write(pki().path.join("sv.bin"), signature_value(&sig)).unwrap();
    let tok = ts_token("sv.bin", "sv.tst");
    let stamped = add_signature_time_stamp(&sig, &tok);
    let mut r = Run::new(stamped).data("data.txt");
    r.at = days(1);
    r.check(Indication::Indeterminate, Some(Sub::OutOfBoundsNoPoe));
    // A signer whose certificate expires in 30 days, time-stamped now, validated in 60 days:
    // the time stamp proves the signature existed while the certificate was valid.
    let sig = cms_sign("p256", "-md sha256");
    std::fs::write(pki().path.join("sv2.bin"), signature_value(&sig)).unwrap();
    let tok = ts_token("sv2.bin", "sv2.tst");
    let stamped = add_signature_time_stamp(&sig, &tok);
    let mut r = Run::new(stamped.clone()).data("data.txt");
    r.at = days(60);
    r.check(Indication::TotalPassed, None);
    // The same without the time stamp.
    let mut r = Run::new(sig).data("data.txt");
    r.at = days(60);
    r.check(Indication::Indeterminate, Some(Sub::OutOfBoundsNoPoe));
    // A time stamp over something else is discarded.
    let tok = ts_token("data.txt", "wrong.tst");
    let stamped = add_signature_time_stamp(&cms_sign("p256", "-md sha256"), &tok);
    let mut r = Run::new(stamped).data("data.txt");
    r.at = days(60);
    r.check(Indication::Indeterminate, Some(Sub::OutOfBoundsNoPoe));
}

#[test]
fn garbage_empty_truncated() {
    for bytes in [vec![], b"garbage".to_vec(), vec![0x30, 0x82, 0x10]] {
        Run::new(bytes).check(Indication::TotalFailed, Some(Sub::FormatFailure));
    }
    let sig = cms_sign("p256", "-md sha256");
    for cut in [1, sig.len() / 2, sig.len() - 1] {
        Run::new(sig[..cut].to_vec())
            .data("data.txt")
            .check(Indication::TotalFailed, Some(Sub::FormatFailure));
    }
    // Arbitrary bytes through the fuzz entry point never panic.
    let mut x: u32 = 1;
    for len in 0..200 {
        let mut b = sig.clone();
        for _ in 0..4 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let i = (x as usize) % b.len();
            b[i] = (x >> 16) as u8;
        }
        b.truncate(sig.len() - len);
        let _ = inkan_verifier::verify_bytes(&b);
    }
}

#[test]
fn pem_input_and_cli_exit_codes() {
    let dir = &pki().path;
    bash(
        dir,
        "openssl cms -sign -cades -binary -in data.txt -signer p256.pem -inkey p256.key -certfile inter.pem -outform PEM -out sig.pem",
    );
    let bin = env!("CARGO_BIN_EXE_inkan-verify");
    let run = |args: &[&str]| {
        Command::new(bin)
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap()
    };
    let o = run(&[
        "sig.pem",
        "--data",
        "data.txt",
        "--trust",
        "root.pem",
        "--revocation",
        "optional",
        "--format",
        "json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["indication"], "TOTAL-PASSED");
    assert!(v["sub_indication"].is_null());
    let o = run(&[
        "sig.pem",
        "--data",
        "other.txt",
        "--trust",
        "root.pem",
        "--revocation",
        "optional",
        "--lang",
        "ja",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("無効"));
    let o = run(&["sig.pem", "--data", "data.txt", "--trust", "root.pem"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(run(&["missing.p7s"]).status.code(), Some(66));
    assert_eq!(run(&[]).status.code(), Some(64));
    assert_eq!(
        run(&["sig.pem", "--revocation", "maybe"]).status.code(),
        Some(64)
    );
}

/// Re-signs the first SignerInfo of `sig` (made by `openssl cms -sign` with signer `name`)
/// with a content-time-stamp signed attribute holding `token` (id-aa-ets-contentTimestamp),
/// the new signed attributes sorted as a DER SET OF, signed by `openssl dgst -<md> -sign`.
fn add_content_time_stamp(sig: &[u8], token: &[u8], name: &str, md: &str) -> Vec<u8> {
    // 1.2.840.113549.1.9.16.2.20
    let ct = attribute(
        &[
            0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x14,
        ],
        &[token.to_vec()],
    );
    resign(sig, name, md, "", None, |attrs| attrs.push(ct))
}

/// An Attribute: `SEQUENCE { OID (content octets `oid`), SET OF values }`.
fn attribute(oid: &[u8], values: &[Vec<u8>]) -> Vec<u8> {
    let mut a = tlv::encode(0x06, oid);
    a.extend(tlv::encode(0x31, &values.concat()));
    tlv::encode(0x30, &a)
}

/// The OID content octets of an Attribute encoding.
fn attribute_oid(attr: &[u8]) -> Vec<u8> {
    let t = tlv::parse_exact(attr).unwrap();
    t.children().next().unwrap().unwrap().value.to_vec()
}

/// Re-signs the first SignerInfo of `sig` (made by `openssl cms -sign` with signer `name`)
/// after `edit` changed its signed attributes (whole Attribute encodings): the new set sorted
/// as a DER SET OF, signed by `openssl dgst -<md> -sign` with `sigopts`, and its
/// signatureAlgorithm replaced by `sig_alg` when given.
fn resign(
    sig: &[u8],
    name: &str,
    md: &str,
    sigopts: &str,
    sig_alg: Option<&[u8]>,
    edit: impl FnOnce(&mut Vec<Vec<u8>>),
) -> Vec<u8> {
    let ci = tlv::parse_exact(sig).unwrap();
    let mut r = ci.children();
    let oid = r.next_tlv().unwrap();
    let wrap = r.next_tlv().unwrap();
    let sd = tlv::parse_exact(wrap.value).unwrap();
    let mut parts: Vec<Vec<u8>> = sd.children().map(|t| t.unwrap().raw.to_vec()).collect();
    let sis = tlv::parse_exact(parts.last().unwrap()).unwrap();
    let si = sis.children().next().unwrap().unwrap();
    let fields: Vec<tlv::Tlv<'_>> = si.children().map(|t| t.unwrap()).collect();
    let attrs_pos = fields.iter().position(|f| f.tag == 0xa0).unwrap();
    let mut attrs: Vec<Vec<u8>> = fields[attrs_pos]
        .children()
        .map(|a| a.unwrap().raw.to_vec())
        .collect();
    edit(&mut attrs);
    let refs: Vec<&[u8]> = attrs.iter().map(|a| a.as_slice()).collect();
    let set = tlv::der_set_of(0x31, &refs);
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tbs = format!("attrs-{name}-{n}.der");
    std::fs::write(pki().path.join(&tbs), &set).unwrap();
    bash(
        &pki().path,
        &format!("openssl dgst -{md} -sign {name}.key {sigopts} -out {tbs}.sig {tbs}"),
    );
    let signature = read(&format!("{tbs}.sig"));
    let mut si_content = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        if i == attrs_pos {
            let mut implicit = set.clone();
            implicit[0] = 0xa0;
            si_content.extend(implicit);
        } else if i == attrs_pos + 1 && sig_alg.is_some() {
            si_content.extend_from_slice(sig_alg.unwrap());
        } else if f.tag == 0x04 && i > attrs_pos {
            si_content.extend(tlv::encode(0x04, &signature));
        } else {
            si_content.extend_from_slice(f.raw);
        }
    }
    let new_si = tlv::encode(0x30, &si_content);
    *parts.last_mut().unwrap() = tlv::encode(0x31, &new_si);
    let sd_new = tlv::encode(0x30, &parts.concat());
    let mut ci_content = oid.raw.to_vec();
    ci_content.extend(tlv::encode(0xa0, &sd_new));
    tlv::encode(0x30, &ci_content)
}

/// A signature by `name` over data.txt with a content time-stamp made now.
fn content_stamped(name: &str, md: &str) -> Vec<u8> {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tok = ts_token("data.txt", &format!("content-{name}-{n}.tst"));
    add_content_time_stamp(&cms_sign(name, &format!("-md {md}")), &tok, name, md)
}

#[test]
fn content_time_stamp_proves_signing_after_revocation() {
    // EN 319 102-1 §5.3.4 step 4 a: the content time-stamp (made now, after the revocation
    // the PKI set up earlier) proves the signature was made after the revocation.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let mut r = Run::new(content_stamped("revoked", "sha256")).data("data.txt");
    r.crls = vec!["inter.crl", "root.crl"];
    r.check(Indication::TotalFailed, Some(Sub::Revoked));
    // The re-signed attributes alone (a valid signature with a content time-stamp) pass for
    // a signer that is not revoked.
    let mut r = Run::new(content_stamped("p256", "sha256")).data("data.txt");
    r.crls = vec!["inter.crl", "root.crl"];
    r.required = true;
    r.check(Indication::TotalPassed, None);
    // A content time-stamp over other data is discarded: the result stays REVOKED_NO_POE.
    let tok = ts_token("other.txt", "content-other.tst");
    let sig = add_content_time_stamp(
        &cms_sign("revoked", "-md sha256"),
        &tok,
        "revoked",
        "sha256",
    );
    let mut r = Run::new(sig).data("data.txt");
    r.crls = vec!["inter.crl", "root.crl"];
    r.check(Indication::Indeterminate, Some(Sub::RevokedNoPoe));
}

#[test]
fn content_time_stamp_proves_signing_after_expiry() {
    // §5.3.4 step 4 b: certificate valid in January 2020, content time-stamp now.
    Run::new(content_stamped("shortlived", "sha256"))
        .data("data.txt")
        .check(Indication::TotalFailed, Some(Sub::Expired));
    // A content time-stamp before notAfter proves nothing about the signature's time.
    let mut r = Run::new(content_stamped("p256", "sha256")).data("data.txt");
    r.at = days(60);
    r.check(Indication::Indeterminate, Some(Sub::OutOfBoundsNoPoe));
}

#[test]
fn content_time_stamp_between_expiry_and_revocation() {
    // A certificate valid in January 2020, content-time-stamped now, then revoked: the
    // content time-stamp is before the revocation (step 4 a does not apply) but after the
    // expiry (step 4 b does): TOTAL-FAILED / EXPIRED.
    let sig = content_stamped("shortrevoked", "sha256");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    revoke_and_publish("shortrevoked", "inter-late.crl");
    let mut r = Run::new(sig).data("data.txt");
    r.crls = vec!["inter-late.crl", "root.crl"];
    r.check(Indication::TotalFailed, Some(Sub::Expired));
}

#[test]
fn content_time_stamp_proves_signing_after_algorithm_sunset() {
    // §5.3.4 step 6: SHA-1 was no longer reliable when the content time-stamp was made.
    Run::new(content_stamped("p256", "sha1"))
        .data("data.txt")
        .check(
            Indication::Indeterminate,
            Some(Sub::CryptoConstraintsFailure),
        );
    // RSA-2048 was still reliable at the content time-stamp (now); validated after 2030
    // the signature could have been made before the sunset: still _NO_POE.
    let mut r = Run::new(content_stamped("rsa2048", "sha256")).data("data.txt");
    r.at = UnixTime::from_secs(1_930_000_000);
    r.check(
        Indication::Indeterminate,
        Some(Sub::CryptoConstraintsFailureNoPoe),
    );
}

/// The archive-time-stamp v2 input of ETSI TS 101 733 §6.4.1 for a detached signature over
/// data.txt without unsigned attributes, cut from the signature's own bytes: the
/// encapContentInfo element, the data, the certificates and crls elements, and every element
/// of the SignerInfo.
fn archive_v2_input(sig: &[u8]) -> Vec<u8> {
    let ci = tlv::parse_exact(sig).unwrap();
    let mut r = ci.children();
    r.next_tlv().unwrap();
    let wrap = r.next_tlv().unwrap();
    let sd = tlv::parse_exact(wrap.value).unwrap();
    let parts: Vec<tlv::Tlv<'_>> = sd.children().map(|t| t.unwrap()).collect();
    let mut out = parts[2].raw.to_vec();
    out.extend(read("data.txt"));
    for p in &parts[3..parts.len() - 1] {
        out.extend_from_slice(p.raw);
    }
    let si = parts.last().unwrap().children().next().unwrap().unwrap();
    for f in si.children() {
        out.extend_from_slice(f.unwrap().raw);
    }
    out
}

#[test]
fn archive_time_stamp_v2_is_a_proof_of_existence() {
    const ATS_V2: [u8; 11] = [
        0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x30,
    ];
    // A signature whose certificate expires in 30 days, archive-time-stamped (v2) now,
    // validated in 60 days: the archive time-stamp proves the signature existed while the
    // certificate was valid.
    let sig = cms_sign("p256", "-md sha256");
    std::fs::write(pki().path.join("ats2.bin"), archive_v2_input(&sig)).unwrap();
    let tok = ts_token("ats2.bin", "ats2.tst");
    let mut r = Run::new(add_unsigned_attribute(&sig, &ATS_V2, &tok)).data("data.txt");
    r.at = days(60);
    r.check(Indication::TotalPassed, None);
    // The same stamp on another signature does not match its imprint: not used.
    let other = cms_sign("p256", "-md sha256 -nosmimecap");
    let mut r = Run::new(add_unsigned_attribute(&other, &ATS_V2, &tok)).data("data.txt");
    r.at = days(60);
    r.check(Indication::Indeterminate, Some(Sub::OutOfBoundsNoPoe));
}

/// `inkan-verify` run in the PKI folder: (exit status, standard output).
fn cli(args: &[&str]) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_inkan-verify"))
        .args(args)
        .current_dir(&pki().path)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

#[test]
fn encapsulated_signature_with_other_data_is_a_hash_failure() {
    // EN 319 102-1 §5.2.7: the data given must be the encapsulated content; never "unchanged"
    // about a file that was not checked.
    let sig = cms_sign("p256", "-md sha256 -nodetach");
    let r = Run::new(sig.clone())
        .data("other.txt")
        .check(Indication::TotalFailed, Some(Sub::HashFailure));
    assert!(
        r.findings
            .iter()
            .any(|f| f.code == "DATA_NOT_ENCAPSULATED_CONTENT"),
        "{:?}",
        r.findings
    );
    // The same bytes as the encapsulated content are fine, and so is no --data at all.
    Run::new(sig.clone())
        .data("data.txt")
        .check(Indication::TotalPassed, None);
    Run::new(sig.clone()).check(Indication::TotalPassed, None);
    // In memory, and through the command line (exit status 1).
    let mut r = Run::new(sig.clone());
    r.data = Data::Bytes(b"hello inkan\n!".to_vec());
    r.check(Indication::TotalFailed, Some(Sub::HashFailure));
    std::fs::write(pki().path.join("encap.p7s"), &sig).unwrap();
    let (code, out) = cli(&[
        "encap.p7s",
        "--data",
        "other.txt",
        "--trust",
        "root.pem",
        "--revocation",
        "optional",
        "--lang",
        "en",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(!out.contains("unchanged"), "{out}");
}

#[test]
fn stand_alone_token_without_data_proves_nothing_yet() {
    let tok = ts_token("data.txt", "nodata.tst");
    // RFC 3161 token alone: INDETERMINATE / SIGNED_DATA_NOT_FOUND, the imprint it would prove
    // shown, no proof of existence claimed.
    let r = Run::new(tok.clone()).check(Indication::Indeterminate, Some(Sub::SignedDataNotFound));
    let want = inkan_profiles::alg::DigestAlgorithm::Sha256
        .digest(&read("data.txt"))
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    let i = r.time_stamped_data.as_ref().expect("imprint shown");
    assert_eq!(
        (i.algorithm.as_str(), i.digest.as_str()),
        ("SHA-256", want.as_str())
    );
    assert!(r.best_proof_of_existence.is_none());
    // With the right data it is proof of existence; with other data it is not.
    let r = Run::new(tok.clone())
        .data("data.txt")
        .check(Indication::TotalPassed, None);
    assert!(r.best_proof_of_existence.is_some());
    let r = Run::new(tok.clone())
        .data("other.txt")
        .check(Indication::TotalFailed, Some(Sub::HashFailure));
    assert!(r.best_proof_of_existence.is_none());
    // A token that does not chain to a trust anchor proves nothing either.
    let mut r = Run::new(tok.clone()).data("data.txt");
    r.trust = vec!["other.pem"];
    let r = r.check(
        Indication::Indeterminate,
        Some(Sub::NoCertificateChainFound),
    );
    assert!(r.best_proof_of_existence.is_none());
    // The command line: exit 2, the imprint in the text, no "proven to exist", no "valid".
    for lang in ["en", "ja"] {
        let (code, out) = cli(&[
            "nodata.tst",
            "--trust",
            "root.pem",
            "--revocation",
            "optional",
            "--lang",
            lang,
        ]);
        assert_eq!(code, 2, "{out}");
        assert!(out.contains(&want), "{out}");
        assert!(out.contains("--data"), "{out}");
        assert!(
            !out.contains("Proven to exist") && !out.contains("存在証明時刻"),
            "{out}"
        );
        assert!(
            !out.contains("unchanged") && !out.starts_with("有効"),
            "{out}"
        );
    }
}

fn octets(b: &[u8]) -> Vec<u8> {
    tlv::encode(0x04, b)
}

fn oid_value(o: &const_oid::ObjectIdentifier) -> Vec<u8> {
    tlv::encode(0x06, o.as_bytes())
}

#[test]
fn signed_attributes_are_checked_as_rfc_5652_says() {
    use inkan_profiles::oid::{
        ID_AA_SIGNING_CERTIFICATE_V2, ID_CONTENT_TYPE, ID_DATA, ID_MESSAGE_DIGEST, ID_SIGNED_DATA,
    };
    let sha = |f: &str| inkan_profiles::alg::DigestAlgorithm::Sha256.digest(&read(f));
    let md = ID_MESSAGE_DIGEST.as_bytes();
    let ct = ID_CONTENT_TYPE.as_bytes();
    let edited = |edit: &dyn Fn(&mut Vec<Vec<u8>>)| {
        let sig = cms_sign("p256", "-md sha256");
        Run::new(resign(&sig, "p256", "sha256", "", None, |a| edit(a))).data("data.txt")
    };
    // Re-signing alone changes nothing.
    edited(&|_| {}).check(Indication::TotalPassed, None);
    let format = |r: Run, code: &str| {
        let rep = r.check(Indication::TotalFailed, Some(Sub::FormatFailure));
        assert!(
            rep.findings.iter().any(|f| f.code == code),
            "{:?}",
            rep.findings
        );
    };
    // A second message-digest attribute over other data (the first one taken would verify
    // against that data).
    let other = octets(&sha("other.txt"));
    format(
        edited(&|a| a.push(attribute(md, std::slice::from_ref(&other)))),
        "CMS_SIGNED_ATTRIBUTES",
    );
    // One message-digest attribute with two values.
    format(
        edited(&|a| {
            a.retain(|x| attribute_oid(x) != md);
            a.push(attribute(md, &[octets(&sha("data.txt")), other.clone()]));
        }),
        "CMS_SIGNED_ATTRIBUTES",
    );
    // A second content-type attribute, a content-type that is not eContentType, none.
    format(
        edited(&|a| a.push(attribute(ct, &[oid_value(&ID_DATA)]))),
        "CMS_SIGNED_ATTRIBUTES",
    );
    format(
        edited(&|a| {
            a.retain(|x| attribute_oid(x) != ct);
            a.push(attribute(ct, &[oid_value(&ID_SIGNED_DATA)]));
        }),
        "CMS_SIGNED_ATTRIBUTES",
    );
    format(
        edited(&|a| a.retain(|x| attribute_oid(x) != ct)),
        "CMS_SIGNED_ATTRIBUTES",
    );
    // A CAdES signature (here: a commitment-type-indication, EN 319 122-1 §5.2.3) without
    // ESS signing-certificate(-v2): INDETERMINATE / SIG_CONSTRAINTS_FAILURE, as DSS's default
    // policy (SigningCertificatePresent FAIL, signature acceptance validation) decides.
    let ess = ID_AA_SIGNING_CERTIFICATE_V2.as_bytes();
    let proof_of_origin = tlv::encode(
        0x30,
        &oid_value(&const_oid::ObjectIdentifier::new_unwrap(
            "1.2.840.113549.1.9.16.6.1",
        )),
    );
    let rep = edited(&|a| {
        a.retain(|x| attribute_oid(x) != ess);
        a.push(attribute(
            inkan_profiles::oid::ID_AA_ETS_COMMITMENT_TYPE.as_bytes(),
            std::slice::from_ref(&proof_of_origin),
        ));
    })
    .check(Indication::Indeterminate, Some(Sub::SigConstraintsFailure));
    assert!(
        rep.findings
            .iter()
            .any(|f| f.code == "SIGNING_CERTIFICATE_ABSENT")
    );
    // With the ESS attribute, the same commitment passes.
    edited(&|a| {
        a.push(attribute(
            inkan_profiles::oid::ID_AA_ETS_COMMITMENT_TYPE.as_bytes(),
            std::slice::from_ref(&proof_of_origin),
        ))
    })
    .check(Indication::TotalPassed, None);
    // A plain RFC 5652 signature (OpenSSL without -cades, no ETSI attribute) does not claim
    // to be CAdES: reported, not refused.
    let rep = Run::new(cms_sign("p256", "-md sha256 -nocades"))
        .data("data.txt")
        .check(Indication::TotalPassed, None);
    assert!(
        rep.findings
            .iter()
            .any(|f| f.code == "PLAIN_CMS_NO_SIGNING_CERTIFICATE")
    );
    // A broken signature still says TOTAL-FAILED first.
    let mut sig = cms_sign("p256", "-md sha256 -nocades");
    let pos = sig
        .windows(32)
        .position(|w| w == sha("data.txt").as_slice())
        .unwrap();
    sig[pos] ^= 1;
    Run::new(sig)
        .data("data.txt")
        .check(Indication::TotalFailed, Some(Sub::HashFailure));
}

/// The encoding of the first SignerInfo's signatureAlgorithm.
fn signature_algorithm(sig: &[u8]) -> Vec<u8> {
    let sd = inkan_verifier::cms::SignedData::parse_content_info(sig).unwrap();
    sd.signers[0].sig_alg.0.clone()
}

#[test]
fn pss_hash_must_be_the_digest_algorithm() {
    // RFC 4056 §3. The signed attributes (message-digest by SHA-256, as digestAlgorithm says)
    // are re-signed with RSASSA-PSS over SHA-384, and signatureAlgorithm says so: the
    // signature value verifies, the structure is not allowed.
    let pss = "-keyopt rsa_padding_mode:pss";
    let a = cms_sign("rsa3072", &format!("-md sha256 {pss}"));
    let b = cms_sign("rsa3072", &format!("-md sha384 {pss}"));
    let alg384 = signature_algorithm(&b);
    // saltLength [2] of the parameters, as OpenSSL chose it.
    let params = tlv::parse_exact(&alg384).unwrap();
    let params = params.children().nth(1).unwrap().unwrap();
    let salt = params
        .children()
        .map(|t| t.unwrap())
        .find(|t| t.tag == 0xa2)
        .map(|t| tlv::parse_exact(t.value).unwrap().small_uint().unwrap())
        .unwrap_or(20);
    let opts = format!(
        "-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:{salt} -sigopt rsa_mgf1_md:sha384"
    );
    let forged = resign(&a, "rsa3072", "sha384", &opts, Some(&alg384), |_| {});
    let rep = Run::new(forged)
        .data("data.txt")
        .check(Indication::TotalFailed, Some(Sub::FormatFailure));
    assert!(rep.findings.iter().any(|f| f.code == "PSS_HASH_MISMATCH"));
    // Both SHA-384 (b itself) passes.
    Run::new(b)
        .data("data.txt")
        .check(Indication::TotalPassed, None);
}

/// Rebuilds an encapsulated signature with `extra` appended inside its
/// EncapsulatedContentInfo.
fn with_eci_extra(sig: &[u8], extra: &[u8]) -> Vec<u8> {
    let ci = tlv::parse_exact(sig).unwrap();
    let mut r = ci.children();
    let oid = r.next_tlv().unwrap();
    let wrap = r.next_tlv().unwrap();
    let sd = tlv::parse_exact(wrap.value).unwrap();
    let mut parts: Vec<Vec<u8>> = sd.children().map(|t| t.unwrap().raw.to_vec()).collect();
    let eci = tlv::parse_exact(&parts[2]).unwrap();
    let mut content = eci.value.to_vec();
    content.extend_from_slice(extra);
    parts[2] = tlv::encode(0x30, &content);
    let sd_new = tlv::encode(0x30, &parts.concat());
    let mut ci_content = oid.raw.to_vec();
    ci_content.extend(tlv::encode(0xa0, &sd_new));
    tlv::encode(0x30, &ci_content)
}

#[test]
fn bytes_outside_the_structure_are_a_format_failure() {
    let sig = cms_sign("p256", "-md sha256 -nodetach");
    // Rebuilt without change: still valid (the rebuilding is sound).
    Run::new(with_eci_extra(&sig, &[])).check(Indication::TotalPassed, None);
    // An element after eContent in the EncapsulatedContentInfo.
    Run::new(with_eci_extra(&sig, &octets(b"not signed")))
        .check(Indication::TotalFailed, Some(Sub::FormatFailure));
    // Bytes after the ContentInfo.
    let mut trailing = sig.clone();
    trailing.extend_from_slice(b"not signed");
    Run::new(trailing).check(Indication::TotalFailed, Some(Sub::FormatFailure));
    let mut junk = sig.clone();
    junk.extend_from_slice(&[0, 0, 1]);
    Run::new(junk).check(Indication::TotalFailed, Some(Sub::FormatFailure));
    // Zero padding alone (files cut from fixed-size containers, as DSS reads them) hides
    // nothing: tolerated and reported.
    let mut zeros = sig.clone();
    zeros.extend_from_slice(&[0; 64]);
    let rep = Run::new(zeros).check(Indication::TotalPassed, None);
    assert!(
        rep.findings
            .iter()
            .any(|f| f.code == "TRAILING_ZERO_PADDING")
    );
}

#[test]
fn the_trust_anchors_own_constraints_apply() {
    // RFC 5937, as OpenSSL applies them: a root with pathLenConstraint 0 above an
    // intermediate CA, and a root that is not a CA, both refused by `openssl verify` too.
    let dir = &pki().path;
    bash(
        dir,
        r#"
set -e
cat > anchor.cnf <<'CNF'
[pl0]
basicConstraints = critical,CA:true,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[pl1]
basicConstraints = critical,CA:true,pathlen:1
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[noca]
basicConstraints = critical,CA:false
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
[ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
[leaf]
basicConstraints = CA:false
keyUsage = critical,digitalSignature,nonRepudiation
CNF
for r in pl0 pl1 noca; do
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ta-$r.key \
    -subj "/CN=Anchor $r" -days 30 -config anchor.cnf -extensions $r -out ta-$r.pem 2>/dev/null
done
# pl0 and pl1 share one subject structure; each gets its own intermediate and leaf.
for r in pl0 pl1; do
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ta-$r-inter.key \
    -subj "/CN=Inter under $r" -out ta-$r-inter.csr 2>/dev/null
  openssl x509 -req -in ta-$r-inter.csr -CA ta-$r.pem -CAkey ta-$r.key -set_serial 2 -days 30 \
    -extfile anchor.cnf -extensions ca -out ta-$r-inter.pem 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ta-$r-leaf.key \
    -subj "/CN=Leaf under $r" -out ta-$r-leaf.csr 2>/dev/null
  openssl x509 -req -in ta-$r-leaf.csr -CA ta-$r-inter.pem -CAkey ta-$r-inter.key -set_serial 3 \
    -days 30 -extfile anchor.cnf -extensions leaf -out ta-$r-leaf.pem 2>/dev/null
  openssl cms -sign -cades -binary -in data.txt -signer ta-$r-leaf.pem -inkey ta-$r-leaf.key \
    -certfile ta-$r-inter.pem -outform DER -out ta-$r.p7s
done
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ta-noca-leaf.key \
  -subj "/CN=Leaf under noca" -out ta-noca-leaf.csr 2>/dev/null
openssl x509 -req -in ta-noca-leaf.csr -CA ta-noca.pem -CAkey ta-noca.key -set_serial 3 \
  -days 30 -extfile anchor.cnf -extensions leaf -out ta-noca-leaf.pem 2>/dev/null
openssl cms -sign -cades -binary -in data.txt -signer ta-noca-leaf.pem -inkey ta-noca-leaf.key \
  -outform DER -out ta-noca.p7s
"#,
    );
    let openssl_verifies = |anchor: &str, leaf: &str, untrusted: Option<&str>| {
        let mut c = Command::new("openssl");
        c.current_dir(dir)
            .args(["verify", "-x509_strict", "-CAfile", anchor]);
        if let Some(u) = untrusted {
            c.args(["-untrusted", u]);
        }
        c.arg(leaf).output().unwrap().status.success()
    };
    let run = |anchor: &'static str, sig: &str| {
        let mut r = Run::new(read(sig)).data("data.txt");
        r.trust = vec![anchor];
        r
    };
    // The control: pathLenConstraint 1 allows the one intermediate.
    assert!(openssl_verifies(
        "ta-pl1.pem",
        "ta-pl1-leaf.pem",
        Some("ta-pl1-inter.pem")
    ));
    run("ta-pl1.pem", "ta-pl1.p7s").check(Indication::TotalPassed, None);
    assert!(!openssl_verifies(
        "ta-pl0.pem",
        "ta-pl0-leaf.pem",
        Some("ta-pl0-inter.pem")
    ));
    let rep = run("ta-pl0.pem", "ta-pl0.p7s").check(
        Indication::Indeterminate,
        Some(Sub::ChainConstraintsFailure),
    );
    assert!(
        rep.findings
            .iter()
            .any(|f| f.code == "X509_ANCHOR_PATH_LENGTH"),
        "{:?}",
        rep.findings
    );
    assert!(!openssl_verifies("ta-noca.pem", "ta-noca-leaf.pem", None));
    let rep = run("ta-noca.pem", "ta-noca.p7s").check(
        Indication::Indeterminate,
        Some(Sub::ChainConstraintsFailure),
    );
    assert!(
        rep.findings
            .iter()
            .any(|f| f.code == "X509_ANCHOR_NOT_A_CA"),
        "{:?}",
        rep.findings
    );
}

/// `sig` (one SignerInfo) rebuilt with its SignerInfo repeated `signers` times and `crls`
/// bogus CRLs (copies of inter.crl, each with another signature value) in its crls field.
fn flooded(sig: &[u8], signers: usize, crls: usize) -> Vec<u8> {
    let ci = tlv::parse_exact(sig).unwrap();
    let mut r = ci.children();
    let oid = r.next_tlv().unwrap();
    let wrap = r.next_tlv().unwrap();
    let sd = tlv::parse_exact(wrap.value).unwrap();
    let parts: Vec<tlv::Tlv<'_>> = sd.children().map(|t| t.unwrap()).collect();
    let crl = inkan_verifier::input::to_binary(&read("inter.crl"));
    let mut crl_set = Vec::new();
    for i in 0..crls {
        let mut c = crl.clone();
        let n = c.len();
        c[n - 1] = i as u8;
        c[n - 2] = (i >> 8) as u8;
        c[n - 3] ^= 0x55;
        crl_set.extend(c);
    }
    let si = parts.last().unwrap().children().next().unwrap().unwrap();
    let mut content = Vec::new();
    for p in &parts[..parts.len() - 1] {
        if p.tag != 0xa1 {
            content.extend_from_slice(p.raw);
        }
        if p.tag == 0xa0 && crls > 0 {
            content.extend(tlv::encode(0xa1, &crl_set));
        }
    }
    content.extend(tlv::encode(0x31, &si.raw.repeat(signers)));
    let mut ci_content = oid.raw.to_vec();
    ci_content.extend(tlv::encode(0xa0, &tlv::encode(0x30, &content)));
    tlv::encode(0x30, &ci_content)
}

#[test]
fn bounded_work_refuses_floods_before_verifying() {
    // The issue's input: 200 copies of one SignerInfo and 2000 bogus CRLs (about 530 KB).
    // It is refused by the limits on SignerInfos and CRLs before any signature is verified.
    let sig = cms_sign("p256", "-md sha256");
    let flood = flooded(&sig, 200, 2000);
    assert!(flood.len() > 400_000, "{}", flood.len());
    let call = std::sync::Arc::default();
    let r = Run::new(flood).data("data.txt").report_in(&call);
    assert_eq!(
        (r.indication, r.sub_indication),
        (Indication::TotalFailed, Some(Sub::FormatFailure))
    );
    assert!(
        r.findings.iter().any(|f| f.code == "LIMIT_EXCEEDED"),
        "{:?}",
        r.findings
    );
    assert_eq!(call.computed(), 0);
    // Each limit on its own.
    let limits = |signers: usize, crls: usize| {
        let r = Run::new(flooded(&sig, signers, crls))
            .data("data.txt")
            .check(Indication::TotalFailed, Some(Sub::FormatFailure));
        r.findings
            .into_iter()
            .find(|f| f.code == "LIMIT_EXCEEDED")
            .unwrap()
            .message
    };
    use inkan_verifier::limits::{MAX_CRLS, MAX_SIGNER_INFOS};
    assert!(limits(MAX_SIGNER_INFOS + 1, 0).contains("SignerInfos"));
    assert!(limits(1, MAX_CRLS + 1).contains("CRLs"));
    // At the limits, the bogus CRLs are ignored and every signer is validated.
    let r = Run::new(flooded(&sig, MAX_SIGNER_INFOS, MAX_CRLS))
        .data("data.txt")
        .check(Indication::TotalPassed, None);
    assert_eq!(r.signers.len(), MAX_SIGNER_INFOS);
}

/// Whether `s` holds Japanese text (kana or kanji).
fn has_japanese(s: &str) -> bool {
    s.chars().any(|c| ('\u{3040}'..='\u{9fff}').contains(&c))
}

/// The finding lines of a text report (after its findings heading).
fn finding_lines(text: &str, heading: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| *l != heading)
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(str::to_owned)
        .collect()
}

/// `inkan-verify` of `ja-revoked.p7s` (made by the test below) in the language `lang`.
fn revoked_report(lang: &str) -> (i32, String) {
    let args = [
        "ja-revoked.p7s",
        "--data",
        "data.txt",
        "--trust",
        "root.pem",
    ];
    let crls = ["--crl", "inter.crl", "--crl", "root.crl"];
    cli(&[&args[..], &crls, &["--lang", lang]].concat())
}

#[test]
fn the_japanese_report_is_complete() {
    // A revoked signer, time-stamped: revocation line, reason name, time-stamp kind,
    // validity lines and every finding in Japanese, with times in JST beside UTC.
    let sig = cms_sign("revoked", "-md sha256");
    std::fs::write(pki().path.join("ja-sv.bin"), signature_value(&sig)).unwrap();
    let tok = ts_token("ja-sv.bin", "ja-sv.tst");
    std::fs::write(
        pki().path.join("ja-revoked.p7s"),
        add_signature_time_stamp(&sig, &tok),
    )
    .unwrap();
    let (code, ja) = revoked_report("ja");
    assert_eq!(code, 2, "{ja}");
    assert!(ja.starts_with("判定不能 (REVOKED_NO_POE)"), "{ja}");
    for want in [
        "に失効(理由: 理由の指定なし、",
        "発行の CRLによる)",
        "署名タイムスタンプ: ",
        "(有効期間 ",
        " JST)",
        "失効していません(",
    ] {
        assert!(ja.contains(want), "{want} missing in\n{ja}");
    }
    let findings = finding_lines(&ja, "所見:");
    assert!(!findings.is_empty(), "{ja}");
    for f in &findings {
        assert!(has_japanese(f), "not in Japanese: {f}");
    }
    assert!(
        !ja.contains("REVOKED at") && !ja.contains("good per"),
        "{ja}"
    );
    // English keeps the English lines, with reason names, and JST too.
    let (_, en) = revoked_report("en");
    assert!(en.contains("(reason unspecified) per CRL"), "{en}");
    assert!(
        en.contains("signature time-stamp: ") && en.contains(" JST)"),
        "{en}"
    );
    // A token's signer is the time-stamping authority.
    let (_, tsa) = cli(&[
        "ja-sv.tst",
        "--data",
        "ja-sv.bin",
        "--trust",
        "root.pem",
        "--revocation",
        "optional",
        "--lang",
        "ja",
    ]);
    assert!(tsa.starts_with("有効: "), "{tsa}");
    assert!(
        tsa.contains("時刻認証局 (TSA):") && !tsa.contains("署名者・押印者"),
        "{tsa}"
    );
    assert!(tsa.contains("単独のタイムスタンプ: "), "{tsa}");
}

#[test]
fn corporate_numbers_are_checked_and_shown_as_text() {
    // organizationIdentifier NTRJP-<法人番号> (EN 319 412-1 §5.1.4): shown as text, and a
    // wrong check digit is a finding, with a label that says the number is not valid.
    bash(
        &pki().path,
        r#"
set -e
printf 'basicConstraints=CA:false\nkeyUsage=critical,digitalSignature,nonRepudiation\n' > corp.ext
for n in 8040001079502 1040001079502; do
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout corp-$n.key \
    -subj "/CN=Corp Seal/O=inkan test org/organizationIdentifier=NTRJP-$n" -out corp-$n.csr 2>/dev/null
  openssl x509 -req -in corp-$n.csr -CA inter.pem -CAkey inter.key -set_serial 0x$n -days 30 \
    -extfile corp.ext -out corp-$n.pem 2>/dev/null
  openssl cms -sign -cades -binary -in data.txt -signer corp-$n.pem -inkey corp-$n.key \
    -certfile inter.pem -outform DER -out corp-$n.p7s
done
"#,
    );
    let run = |n: &str, lang: &str| {
        cli(&[
            &format!("corp-{n}.p7s"),
            "--data",
            "data.txt",
            "--trust",
            "root.pem",
            "--revocation",
            "optional",
            "--lang",
            lang,
        ])
    };
    let (code, ok) = run("8040001079502", "ja");
    assert_eq!(code, 0, "{ok}");
    assert!(
        ok.contains("organizationIdentifier=NTRJP-8040001079502"),
        "{ok}"
    );
    assert!(ok.contains("8040001079502 (有効な法人番号です"), "{ok}");
    assert!(
        ok.contains("組織識別子 (organizationIdentifier): NTRJP-8040001079502"),
        "{ok}"
    );
    assert!(!ok.contains("CORPORATE_NUMBER_CHECK_DIGIT"), "{ok}");
    let (code, bad) = run("1040001079502", "ja");
    assert_eq!(code, 0, "the signature itself is valid: {bad}");
    assert!(bad.contains("(有効な法人番号ではありません"), "{bad}");
    assert!(bad.contains("[CORPORATE_NUMBER_CHECK_DIGIT] "), "{bad}");
    let (_, en) = run("1040001079502", "en");
    assert!(
        en.contains("NOT a valid corporate number") && en.contains("NTRJP-1040001079502"),
        "{en}"
    );
}

#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    // `inkan-verify … | head`: the reader is gone before anything is written.
    let tok = ts_token("data.txt", "pipe.tst");
    std::fs::write(pki().path.join("pipe.tst"), tok).unwrap();
    for extra in [
        &["--format", "json"][..],
        &["--lang", "ja"][..],
        &["--help"][..],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let o = Command::new(env!("CARGO_BIN_EXE_inkan-verify"))
            .args([
                "pipe.tst",
                "--trust",
                "root.pem",
                "--revocation",
                "optional",
            ])
            .args(extra)
            .current_dir(&pki().path)
            .stdout(writer)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.is_empty(), "{extra:?}: {err}");
        // The verdict's status (a token without its data: 2), or 0 for --help.
        let want = if extra == ["--help"] { 0 } else { 2 };
        assert_eq!(o.status.code(), Some(want), "{extra:?}");
    }
}

#[test]
fn several_signature_files_in_one_call() {
    // The contract: NAME.p7s / NAME.tsr checked against NAME beside it (or under
    // --data-dir), one verdict per file and a summary, JSON lines, the worst exit status.
    let dir = pki().path.join("batch");
    let docs = pki().path.join("batch-docs");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::create_dir_all(&docs).unwrap();
    let detached = cms_sign("p256", "-md sha256");
    let w = |d: &Path, name: &str, bytes: &[u8]| std::fs::write(d.join(name), bytes).unwrap();
    // a: good; b: the file beside it is other data; c: no data beside it; d: encapsulated.
    w(&dir, "a.txt", &read("data.txt"));
    w(&dir, "a.txt.p7s", &detached);
    w(&dir, "b.txt", &read("other.txt"));
    w(&dir, "b.txt.p7s", &detached);
    w(&dir, "c.txt.p7s", &detached);
    w(&dir, "d.p7m", &cms_sign("p256", "-md sha256 -nodetach"));
    // e: a TimeStampResp (status granted) over data.txt, beside its data.
    let tok = ts_token("data.txt", "batch-e.tst");
    let mut resp = tlv::encode(0x30, &tlv::encode(0x02, &[0]));
    resp.extend(tok);
    w(&dir, "e.txt", &read("data.txt"));
    w(&dir, "e.txt.tsr", &tlv::encode(0x30, &resp));
    let files = ["a.txt.p7s", "b.txt.p7s", "c.txt.p7s", "d.p7m", "e.txt.tsr"];
    let run = |extra: &[&str]| {
        let mut args: Vec<String> = files.iter().map(|f| format!("batch/{f}")).collect();
        args.extend(
            ["--trust", "root.pem", "--revocation", "optional"]
                .iter()
                .chain(extra)
                .map(|s| s.to_string()),
        );
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        cli(&args)
    };
    let want = [
        ("batch/a.txt.p7s", "TOTAL-PASSED", None),
        ("batch/b.txt.p7s", "TOTAL-FAILED", Some("HASH_FAILURE")),
        (
            "batch/c.txt.p7s",
            "INDETERMINATE",
            Some("SIGNED_DATA_NOT_FOUND"),
        ),
        ("batch/d.p7m", "TOTAL-PASSED", None),
        ("batch/e.txt.tsr", "TOTAL-PASSED", None),
    ];
    let (code, json) = run(&["--format", "json"]);
    assert_eq!(code, 1, "the worst verdict is TOTAL-FAILED: {json}");
    let lines: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), want.len(), "{json}");
    for (v, (file, ind, sub)) in lines.iter().zip(want) {
        assert_eq!(v["file"], file);
        assert_eq!(v["indication"], ind, "{file}: {v:#}");
        assert_eq!(v["sub_indication"].as_str(), sub, "{file}");
    }
    assert_eq!(lines[0]["data"], "batch/a.txt");
    assert!(lines[2]["data"].is_null() && lines[3]["data"].is_null());
    // Text: one verdict per file and a summary, in either language.
    let (code, text) = run(&["--lang", "en"]);
    assert_eq!(code, 1);
    assert_eq!(
        text.matches("\n== batch/").count() + 1,
        files.len(),
        "{text}"
    );
    assert!(
        text.starts_with("== batch/a.txt.p7s (data: batch/a.txt)\nVALID"),
        "{text}"
    );
    assert!(
        text.contains("== batch/c.txt.p7s (data not found: batch/c.txt)"),
        "{text}"
    );
    assert!(
        text.ends_with(
            "Summary: 5 files: 3 TOTAL-PASSED, 1 TOTAL-FAILED, 1 INDETERMINATE, 0 unreadable\n"
        ),
        "{text}"
    );
    let (_, ja) = run(&["--lang", "ja"]);
    assert!(ja.contains("集計: 5 件 — 有効 (TOTAL-PASSED) 3 件"), "{ja}");
    // --data-dir: the data elsewhere; only the detached ones change.
    w(&docs, "b.txt", &read("data.txt"));
    w(&docs, "a.txt", &read("data.txt"));
    let (code, json) = cli(&[
        "batch/a.txt.p7s",
        "batch/b.txt.p7s",
        "batch/d.p7m",
        "--data-dir",
        "batch-docs",
        "--trust",
        "root.pem",
        "--revocation",
        "optional",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{json}");
    assert!(
        json.lines().all(|l| l.contains("\"TOTAL-PASSED\"")),
        "{json}"
    );
    // An unreadable file: the others are still reported, the status is 66.
    let (code, text) = cli(&[
        "batch/a.txt.p7s",
        "batch/missing.p7s",
        "--trust",
        "root.pem",
        "--revocation",
        "optional",
        "--lang",
        "en",
    ]);
    assert_eq!(code, 66, "{text}");
    assert!(
        text.contains("== batch/missing.p7s\ncannot be read"),
        "{text}"
    );
    assert!(text.contains("1 TOTAL-PASSED"), "{text}");
    // One file keeps today's behaviour: no pairing, pretty JSON, its own status.
    let (code, one) = cli(&[
        "batch/a.txt.p7s",
        "--trust",
        "root.pem",
        "--revocation",
        "optional",
        "--format",
        "json",
    ]);
    assert_eq!(code, 2, "{one}");
    let v: serde_json::Value = serde_json::from_str(&one).unwrap();
    assert_eq!(v["sub_indication"], "SIGNED_DATA_NOT_FOUND");
    assert!(v.get("file").is_none());
    // --data with several files is a usage error.
    let (code, _) = cli(&["batch/a.txt.p7s", "batch/b.txt.p7s", "--data", "data.txt"]);
    assert_eq!(code, 64);
}

// Issue 11: revocation freshness (§1), proof of existence only for what a time-stamp covers
// (§2), TSA certificates as RFC 3161 §2.3 says (§5), unsigned junk (§6).

/// Runs a script that reads or writes the CA database (`openssl ca`, `openssl ocsp -index`),
/// one at a time: tests run in parallel in one directory.
fn ca_sh(script: &str) {
    static CA: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = CA.lock().unwrap_or_else(|e| e.into_inner());
    bash(&pki().path, script);
}

/// Revokes `name` (issued by the intermediate CA) now and writes the intermediate's CRL to
/// `crl`.
fn revoke_and_publish(name: &str, crl: &str) {
    ca_sh(&format!(
        "openssl ca -config ca.cnf -cert inter.pem -keyfile inter.key -revoke {name}.pem 2>/dev/null && \
         openssl ca -batch -config ca.cnf -cert inter.pem -keyfile inter.key -gencrl -out {crl} 2>/dev/null"
    ));
}

/// An OCSP response (DER) for certificate `cert` of the intermediate CA, signed by
/// `responder` (`responder.pem`, `responder.key`), from the CA database as it is now;
/// `prefix` runs before `openssl` (e.g. `faketime -f +2d`), `extra` adds options.
fn ocsp_response(cert: &str, responder: &str, out: &str, prefix: &str, extra: &str) {
    ca_sh(&format!(
        "{prefix} openssl ocsp -index index.txt -CA inter.pem -issuer inter.pem -cert {cert}.pem \
         -rsigner {responder}.pem -rkey {responder}.key -respout {out} {extra} >/dev/null 2>&1"
    ));
}

fn sleep_past_second() {
    std::thread::sleep(std::time::Duration::from_millis(1100));
}

#[test]
fn ocsp_responses_are_checked_as_rfc_6960_says() {
    let sig = cms_sign("p256", "-md sha256");
    let run = |ocsp: &'static str| {
        let mut r = Run::new(sig.clone()).data("data.txt");
        r.required = true;
        r.crls = vec!["root.crl"];
        r.ocsps = vec![ocsp];
        r
    };
    // A delegated responder (id-kp-OCSPSigning, issued by the CA), fresh: good.
    ocsp_response("p256", "ocspresp", "p256-good.ocsp", "", "-ndays 7");
    run("p256-good.ocsp").check(Indication::TotalPassed, None);
    // The CA itself as responder.
    ocsp_response("p256", "inter", "p256-ca.ocsp", "", "-ndays 7");
    run("p256-ca.ocsp").check(Indication::TotalPassed, None);
    // Past its nextUpdate the same response is not fresh for the time of interest
    // (RFC 6960 §4.2.2.1, EN 319 102-1 §5.2.5).
    let mut r = run("p256-good.ocsp");
    r.at = days(8);
    let rep = r.check(Indication::Indeterminate, Some(Sub::TryLater));
    assert!(
        rep.findings
            .iter()
            .any(|f| f.code == "REVOCATION_NOT_FRESH"),
        "{:?}",
        rep.findings
    );
    // A response with no nextUpdate says nothing about later times.
    ocsp_response("p256", "ocspresp", "p256-nonext.ocsp", "", "");
    let mut r = run("p256-nonext.ocsp");
    r.at = days(1);
    r.check(Indication::Indeterminate, Some(Sub::TryLater));
    // A responder certificate that was not valid when the response was produced.
    ocsp_response("p256", "ocspold", "p256-old-responder.ocsp", "", "-ndays 7");
    let rep = run("p256-old-responder.ocsp").check(Indication::Indeterminate, Some(Sub::TryLater));
    assert!(
        rep.findings.iter().any(|f| f.code == "OCSP_NOT_USED"),
        "{:?}",
        rep.findings
    );
    // A delegated responder the CA had revoked before the response was produced (RFC 6960
    // §4.2.2.2.1), with a CRL that says so but is itself no longer fresh for the signer.
    ca_sh(
        "openssl ca -config ca.cnf -cert inter.pem -keyfile inter.key -revoke ocspbad.pem 2>/dev/null && \
         openssl ca -batch -config ca.cnf -cert inter.pem -keyfile inter.key -gencrl \
         -crl_nextupdate $(date -u -d '+1 hours' +%Y%m%d%H%M%SZ) -out inter-ocspbad.crl 2>/dev/null",
    );
    sleep_past_second();
    ocsp_response(
        "p256",
        "ocspbad",
        "p256-revoked-responder.ocsp",
        "",
        "-ndays 7",
    );
    let mut r = run("p256-revoked-responder.ocsp");
    r.crls = vec!["inter-ocspbad.crl", "root.crl"];
    r.at = days(1);
    let rep = r.check(Indication::Indeterminate, Some(Sub::TryLater));
    assert!(
        rep.findings
            .iter()
            .any(|f| f.code == "OCSP_NOT_USED" && f.message.contains("was revoked")),
        "{:?}",
        rep.findings
    );
    // A responder the CA did not authorise.
    ocsp_response("p256", "other", "p256-other-responder.ocsp", "", "-ndays 7");
    run("p256-other-responder.ocsp").check(Indication::Indeterminate, Some(Sub::TryLater));
    // A response produced after the validation time is not used (RFC 6960 §4.2.2.1).
    ocsp_response(
        "p256",
        "ocspresp",
        "p256-future.ocsp",
        "faketime -f +2d",
        "-ndays 7",
    );
    run("p256-future.ocsp").check(Indication::Indeterminate, Some(Sub::TryLater));
    // Neither is a CRL issued after the validation time (RFC 5280 §6.3.3).
    ca_sh(
        "openssl ca -batch -config ca.cnf -cert inter.pem -keyfile inter.key -gencrl \
         -crl_lastupdate $(date -u -d '+1 days' +%Y%m%d%H%M%SZ) \
         -crl_nextupdate $(date -u -d '+30 days' +%Y%m%d%H%M%SZ) -out inter-future.crl 2>/dev/null",
    );
    let mut r = Run::new(sig.clone()).data("data.txt");
    r.required = true;
    r.crls = vec!["inter-future.crl", "root.crl"];
    r.check(Indication::Indeterminate, Some(Sub::TryLater));
}

#[test]
fn a_revocation_outweighs_older_good_answers() {
    // An OCSP "good" made before the certificate was revoked...
    let sig = cms_sign("revlater", "-md sha256");
    ocsp_response("revlater", "ocspresp", "revlater-good.ocsp", "", "-ndays 7");
    sleep_past_second();
    revoke_and_publish("revlater", "inter-revlater.crl");
    // ...alone, it is all the verifier knows: good.
    let mut r = Run::new(sig.clone()).data("data.txt");
    r.required = true;
    r.crls = vec!["root.crl"];
    r.ocsps = vec!["revlater-good.ocsp"];
    r.check(Indication::TotalPassed, None);
    // With the later CRL that lists the revocation, the revocation is decisive
    // (EN 319 102-1 §5.2.6), given on the command line...
    let mut r = Run::new(sig.clone()).data("data.txt");
    r.crls = vec!["inter-revlater.crl", "root.crl"];
    r.ocsps = vec!["revlater-good.ocsp"];
    r.check(Indication::Indeterminate, Some(Sub::RevokedNoPoe));
    // ...or embedded in the signature by whoever made it (the OCSP response as a
    // RevocationInfoChoice other [1] id-ri-ocsp-response, RFC 5940 §2.1).
    let embedded = add_revocation_info(
        &sig,
        &ocsp_other_revocation_info(&read("revlater-good.ocsp")),
    );
    let mut r = Run::new(embedded).data("data.txt");
    r.crls = vec!["inter-revlater.crl", "root.crl"];
    r.check(Indication::Indeterminate, Some(Sub::RevokedNoPoe));
    // An OCSP "revoked" outweighs an older CRL that did not list it yet.
    ocsp_response(
        "revlater",
        "ocspresp",
        "revlater-revoked.ocsp",
        "",
        "-ndays 7",
    );
    let mut r = Run::new(sig).data("data.txt");
    r.required = true;
    r.crls = vec!["inter.crl", "root.crl"];
    r.ocsps = vec!["revlater-good.ocsp", "revlater-revoked.ocsp"];
    r.check(Indication::Indeterminate, Some(Sub::RevokedNoPoe));
}

/// `RevocationInfoChoice ::= other [1] OtherRevocationInfoFormat { id-ri-ocsp-response,
/// OCSPResponse }` (RFC 5940 §2.1).
fn ocsp_other_revocation_info(response: &[u8]) -> Vec<u8> {
    // 1.3.6.1.5.5.7.16.2
    let mut v = tlv::encode(0x06, &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x10, 0x02]);
    v.extend_from_slice(response);
    tlv::encode(0xa1, &v)
}

/// Adds `choice` to the SignedData's `crls` [1] (creating it after the certificates).
fn add_revocation_info(sig: &[u8], choice: &[u8]) -> Vec<u8> {
    edit_signed_data(sig, |parts| {
        if let Some(p) = parts.iter_mut().find(|p| p[0] == 0xa1) {
            let t = tlv::parse_exact(p).unwrap();
            let mut v = t.value.to_vec();
            v.extend_from_slice(choice);
            *p = tlv::encode(0xa1, &v);
        } else {
            let at = parts.iter().position(|p| p[0] == 0xa0).unwrap() + 1;
            parts.insert(at, tlv::encode(0xa1, choice));
        }
    })
}

/// Puts `certs` (DER) before the certificates of the SignedData.
fn prepend_certificates(sig: &[u8], certs: &[Vec<u8>]) -> Vec<u8> {
    edit_signed_data(sig, |parts| {
        let p = parts.iter_mut().find(|p| p[0] == 0xa0).unwrap();
        let t = tlv::parse_exact(p).unwrap();
        let mut v = certs.concat();
        v.extend_from_slice(t.value);
        *p = tlv::encode(0xa0, &v);
    })
}

/// Re-encodes a ContentInfo with its SignedData elements edited by `f`.
fn edit_signed_data(sig: &[u8], f: impl FnOnce(&mut Vec<Vec<u8>>)) -> Vec<u8> {
    let ci = tlv::parse_exact(sig).unwrap();
    let mut r = ci.children();
    let oid = r.next_tlv().unwrap();
    let wrap = r.next_tlv().unwrap();
    let sd = tlv::parse_exact(wrap.value).unwrap();
    let mut parts: Vec<Vec<u8>> = sd.children().map(|t| t.unwrap().raw.to_vec()).collect();
    f(&mut parts);
    let mut ci_content = oid.raw.to_vec();
    ci_content.extend(tlv::encode(0xa0, &tlv::encode(0x30, &parts.concat())));
    tlv::encode(0x30, &ci_content)
}

/// A time-stamp token from the TSA of `section` in ca.cnf over `data_file`.
fn ts_token_from(section: &str, data_file: &str, out: &str) -> Vec<u8> {
    // One `openssl ts -reply` at a time: they all update the same serial file.
    static TSA: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = TSA.lock().unwrap_or_else(|e| e.into_inner());
    bash(
        &pki().path,
        &format!(
            "openssl ts -query -data {data_file} -sha256 -cert -out {out}.tsq && \
             openssl ts -reply -config ca.cnf -section {section} -queryfile {out}.tsq -token_out -out {out} 2>/dev/null"
        ),
    );
    read(out)
}

/// `sig` with an archive-time-stamp-v3 (EN 319 122-1 §5.5.3) from the default TSA added: the
/// ats-hash-index-v3 names every certificate, CRL and unsigned attribute value the signature
/// holds now, and the token's imprint covers it with the signature over data.txt.
fn add_archive_time_stamp_v3(sig: &[u8], out: &str) -> Vec<u8> {
    add_archive_time_stamp_v3_from("tsa_config1", sig, out)
}

/// As [`add_archive_time_stamp_v3`], from the TSA of `section` in ca.cnf.
fn add_archive_time_stamp_v3_from(section: &str, sig: &[u8], out: &str) -> Vec<u8> {
    let tok = archive_time_stamp_v3_token(section, sig, out);
    add_unsigned_attribute(
        sig,
        inkan_profiles::oid::ID_AA_ETS_ARCHIVE_TIMESTAMP_V3.as_bytes(),
        &tok,
    )
}

/// The archive-time-stamp-v3 token [`add_archive_time_stamp_v3_from`] adds to `sig`, with its
/// ats-hash-index-v3 attribute.
fn archive_time_stamp_v3_token(section: &str, sig: &[u8], out: &str) -> Vec<u8> {
    use inkan_profiles::{alg::DigestAlgorithm, ats, oid};
    let sd = inkan_verifier::cms::SignedData::parse_content_info(sig).unwrap();
    let si = &sd.signers[0];
    let types: Vec<Vec<u8>> = si
        .unsigned_attrs
        .iter()
        .map(|a| tlv::encode(0x06, &a.oid))
        .collect();
    let index = ats::hash_index_v3(
        DigestAlgorithm::Sha256,
        sd.certs_raw.iter().map(Vec::as_slice),
        sd.crls_raw.iter().map(Vec::as_slice),
        si.unsigned_attrs
            .iter()
            .zip(&types)
            .flat_map(|(a, ty)| a.values.iter().map(move |v| (ty.as_slice(), v.as_slice()))),
    );
    let input = ats::imprint_input(
        &sd.econtent_type_raw,
        &DigestAlgorithm::Sha256.digest(&read("data.txt")),
        si.fields_raw.iter().map(Vec::as_slice),
        &index,
    );
    std::fs::write(pki().path.join(format!("{out}.bin")), input).unwrap();
    let tok = ts_token_from(section, &format!("{out}.bin"), out);
    add_unsigned_attribute(&tok, oid::ID_AA_ATS_HASH_INDEX_V3.as_bytes(), &index)
}

/// `tok` with one bit of its SignerInfo's signature value flipped: the message imprint still
/// matches, the TSA's signature no longer verifies.
fn break_token_signature(tok: &[u8]) -> Vec<u8> {
    let sd = inkan_verifier::cms::SignedData::parse_content_info(tok).unwrap();
    let value = &sd.signers[0].signature;
    let at = tok
        .windows(value.len())
        .position(|w| w == value.as_slice())
        .unwrap();
    let mut out = tok.to_vec();
    out[at + value.len() / 2] ^= 0x01;
    out
}

/// A time-stamp token from the default TSA over the signature value of `sig`, for its
/// signature-time-stamp attribute (EN 319 122-1 §5.3).
fn signature_time_stamp_token(sig: &[u8], out: &str) -> Vec<u8> {
    std::fs::write(pki().path.join(format!("{out}.sv")), signature_value(sig)).unwrap();
    ts_token(&format!("{out}.sv"), out)
}

#[test]
fn a_time_stamp_that_fails_is_not_used_and_does_no_harm() {
    // EN 319 102-1 §5.5.4 step 3 and §5.6.3.4 step 5 d), DSS's default policy: a signature or
    // archive time-stamp whose imprint matches but which does not validate is not used as
    // proof of existence; the signature is judged as without it.
    use inkan_profiles::oid;
    let sig = cms_sign("p256", "-md sha256");
    let sig_tst = signature_time_stamp_token(&sig, "fails-sig.tst");
    let ats = archive_time_stamp_v3_token("tsa_config1", &sig, "fails-ats.tst");
    let sig_attr = oid::ID_AA_SIGNATURE_TIME_STAMP_TOKEN.as_bytes();
    let ats_attr = oid::ID_AA_ETS_ARCHIVE_TIMESTAMP_V3.as_bytes();
    let broken_sig_tst = add_unsigned_attribute(&sig, sig_attr, &break_token_signature(&sig_tst));
    let broken_ats = add_unsigned_attribute(&sig, ats_attr, &break_token_signature(&ats));
    let check = |s: &[u8], at: UnixTime, ind, sub, code: &str| {
        let mut r = Run::new(s.to_vec()).data("data.txt");
        r.at = at;
        let rep = r.check(ind, sub);
        assert!(
            rep.findings.iter().any(|f| f.code == code),
            "{code}: {:?}",
            rep.findings
        );
    };
    // Today the signature is valid by itself.
    check(
        &broken_sig_tst,
        now(),
        Indication::TotalPassed,
        None,
        "SIGNATURE_TST_DISCARDED",
    );
    check(
        &broken_ats,
        now(),
        Indication::TotalPassed,
        None,
        "ARCHIVE_TST_FAILED",
    );
    // After the signer's certificate expired, nothing proves it existed before: as without
    // the time-stamps.
    for s in [&broken_sig_tst, &broken_ats] {
        let mut r = Run::new(s.clone()).data("data.txt");
        r.at = days(60);
        r.check(Indication::Indeterminate, Some(Sub::OutOfBoundsNoPoe));
    }
    // The same tokens unbroken do prove it.
    for s in [
        add_unsigned_attribute(&sig, sig_attr, &sig_tst),
        add_unsigned_attribute(&sig, ats_attr, &ats),
    ] {
        let mut r = Run::new(s).data("data.txt");
        r.at = days(60);
        r.check(Indication::TotalPassed, None);
    }
}

#[test]
fn an_archive_time_stamp_proves_only_what_it_covers() {
    let sig_tst = inkan_profiles::oid::ID_AA_SIGNATURE_TIME_STAMP_TOKEN.as_bytes();
    // The signature and a signature time-stamp from a second TSA (tsa2), both before the
    // signer's certificate is revoked.
    let sig = cms_sign("victim", "-md sha256");
    std::fs::write(pki().path.join("victim-sv.bin"), signature_value(&sig)).unwrap();
    let tok = ts_token_from("tsa_config2", "victim-sv.bin", "victim-sv.tst");
    // An archive time-stamp from tsa2 too, over the bare signature.
    let early_ats = tst_of_last_attribute(&add_archive_time_stamp_v3_from(
        "tsa_config2",
        &sig,
        "ats-early.tst",
    ));
    sleep_past_second();
    revoke_and_publish("victim", "inter-victim.crl");
    sleep_past_second();
    // Archive time-stamps after the revocation: one over the signature with its
    // time-stamp, one over the bare signature, to which the time-stamp is added afterwards.
    let stamped = add_unsigned_attribute(&sig, sig_tst, &tok);
    let covered = add_archive_time_stamp_v3(&stamped, "ats-covered.tst");
    // The same with an archive-time-stamp v2 (TS 101 733 §6.4.1), which covers the unsigned
    // attributes present when it was made.
    std::fs::write(
        pki().path.join("ats-v2-covered.bin"),
        archive_v2_input(&stamped),
    )
    .unwrap();
    let v2_tok = ts_token("ats-v2-covered.bin", "ats-v2-covered.tst");
    let covered_v2 = add_unsigned_attribute(
        &stamped,
        &[
            0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x30,
        ],
        &v2_tok,
    );
    let attack = add_unsigned_attribute(
        &add_archive_time_stamp_v3(&sig, "ats-bare.tst"),
        sig_tst,
        &tok,
    );
    // And a newer archive time-stamp over the bare signature, to which tsa2's older one is
    // added afterwards.
    let ats_v3 = inkan_profiles::oid::ID_AA_ETS_ARCHIVE_TIMESTAMP_V3.as_bytes();
    let late_added = add_unsigned_attribute(
        &add_archive_time_stamp_v3(&sig, "ats-newer.tst"),
        ats_v3,
        &early_ats,
    );
    // Then tsa2's certificate is revoked: its tokens are good only with a proof that they
    // existed before.
    sleep_past_second();
    revoke_and_publish("tsa2", "inter-tsa2.crl");
    let run = |s: &[u8]| {
        let mut r = Run::new(s.to_vec()).data("data.txt");
        r.crls = vec!["inter-tsa2.crl", "root.crl"];
        r
    };
    // Covered by the archive time-stamp, the signature time-stamp is proven to exist before
    // tsa2's revocation, and it proves the signature existed before the signer's.
    run(&covered).check(Indication::TotalPassed, None);
    run(&covered_v2).check(Indication::TotalPassed, None);
    // Added after the archive time-stamp, it is judged at the validation time, when tsa2 is
    // revoked: it proves nothing, and the signer's revocation stands (EN 319 102-1 §5.6.2.4).
    let rep = run(&attack).check(Indication::Indeterminate, Some(Sub::RevokedNoPoe));
    let sig_stamp = rep
        .time_stamps
        .iter()
        .find(|t| t.kind == "signature")
        .unwrap();
    assert_eq!(
        (sig_stamp.indication, sig_stamp.sub_indication),
        (Indication::Indeterminate, Some(Sub::RevokedNoPoe)),
        "{:?}",
        rep.time_stamps
    );
    // An older archive time-stamp added after a newer one, which does not cover it, gets no
    // proof of existence from it either: judged at the validation time, it proves nothing.
    let rep = run(&late_added).check(Indication::Indeterminate, Some(Sub::RevokedNoPoe));
    let archive: Vec<_> = rep
        .time_stamps
        .iter()
        .filter(|t| t.kind == "archive")
        .collect();
    assert_eq!(archive.len(), 2, "{:?}", rep.time_stamps);
    assert_eq!(
        archive[0].indication,
        Indication::TotalPassed,
        "{:?}",
        rep.time_stamps
    );
    assert_eq!(
        (archive[1].indication, archive[1].sub_indication),
        (Indication::Indeterminate, Some(Sub::RevokedNoPoe)),
        "{:?}",
        rep.time_stamps
    );
    // Without any archive time-stamp, likewise.
    run(&add_unsigned_attribute(&sig, sig_tst, &tok))
        .check(Indication::Indeterminate, Some(Sub::RevokedNoPoe));
}

#[test]
fn a_time_stamp_dated_outside_its_tsa_certificate_or_in_the_future_proves_nothing() {
    // TSTInfos re-signed by tsa2 (valid for 30 days from the PKI's creation) with other
    // genTimes (EN 319 102-1 §5.4).
    let info = tst_info_of(&ts_token("data.txt", "gen-time.tst"));
    let at = |secs: u64| {
        tlv::format_time(secs as i64)
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .filter(|c| *c != 'T')
            .collect::<String>()
    };
    for (gen_time, out, ind, sub) in [
        // Before the TSA certificate's notBefore: the TSA had no certificate then.
        (
            "20210101000000Z".to_owned(),
            "gen-time-2021",
            Indication::TotalFailed,
            Sub::NotYetValid,
        ),
        // After its notAfter.
        (
            at(days(40).secs()),
            "gen-time-late",
            Indication::TotalFailed,
            Sub::Expired,
        ),
        // After the validation time: the token cannot have existed then.
        (
            at(days(2).secs()),
            "gen-time-future",
            Indication::Indeterminate,
            Sub::NoPoe,
        ),
    ] {
        let tok = sign_tst_info(&with_gen_time(&info, &gen_time), "tsa2", out);
        Run::new(tok).data("data.txt").check(ind, Some(sub));
    }
    // The TSTInfo as made, signed the same way, passes.
    let tok = sign_tst_info(&info, "tsa2", "gen-time-now");
    Run::new(tok)
        .data("data.txt")
        .check(Indication::TotalPassed, None);
}

/// The token of the last unsigned attribute of the first SignerInfo (its first value).
fn tst_of_last_attribute(sig: &[u8]) -> Vec<u8> {
    let sd = inkan_verifier::cms::SignedData::parse_content_info(sig).unwrap();
    sd.signers[0].unsigned_attrs.last().unwrap().values[0].clone()
}

/// The TSTInfo a token carries.
fn tst_info_of(tok: &[u8]) -> Vec<u8> {
    inkan_verifier::cms::SignedData::parse_content_info(tok)
        .unwrap()
        .econtent
        .unwrap()
}

/// `info` with its genTime replaced by `time` (GeneralizedTime text, same length as a
/// whole-second `YYYYMMDDHHMMSSZ`).
fn with_gen_time(info: &[u8], time: &str) -> Vec<u8> {
    let t = tlv::parse_exact(info).unwrap();
    let mut out = Vec::new();
    for f in t.children() {
        let f = f.unwrap();
        if f.tag == 0x18 {
            out.extend(tlv::encode(0x18, time.as_bytes()));
        } else {
            out.extend_from_slice(f.raw);
        }
    }
    tlv::encode(0x30, &out)
}

/// A time-stamp token over the TSTInfo `info`, signed by `tsa` with `openssl cms -sign
/// -cades` (econtent type id-ct-TSTInfo, ESS signing-certificate-v2), its chain attached.
fn sign_tst_info(info: &[u8], tsa: &str, out: &str) -> Vec<u8> {
    std::fs::write(pki().path.join(format!("{out}.info")), info).unwrap();
    bash(
        &pki().path,
        &format!(
            "openssl cms -sign -binary -nodetach -cades -nosmimecap -md sha256 \
             -econtent_type 1.2.840.113549.1.9.16.1.4 -in {out}.info -signer {tsa}.pem \
             -inkey {tsa}.key -certfile inter.pem -outform DER -out {out}.tst"
        ),
    );
    read(&format!("{out}.tst"))
}

#[test]
fn tsa_certificates_need_one_critical_time_stamping_purpose() {
    // RFC 3161 §2.3: extendedKeyUsage present, critical, exactly id-kp-timeStamping.
    let info = tst_info_of(&ts_token("data.txt", "eku-base.tst"));
    for (tsa, code) in [
        ("tsa-noncrit", "TSA_EKU_NOT_CRITICAL"),
        ("tsa-two", "TSA_EKU_NOT_SOLE"),
        ("p256", "TSA_NO_TIMESTAMPING_EKU"),
    ] {
        let tok = sign_tst_info(&info, tsa, &format!("eku-{tsa}"));
        let rep = Run::new(tok).data("data.txt").check(
            Indication::Indeterminate,
            Some(Sub::ChainConstraintsFailure),
        );
        assert!(
            rep.findings.iter().any(|f| f.code == code),
            "{tsa}: {:?}",
            rep.findings
        );
    }
    // The same TSTInfo signed by a proper TSA certificate passes.
    let tok = sign_tst_info(&info, "tsa2", "eku-tsa2");
    Run::new(tok)
        .data("data.txt")
        .check(Indication::TotalPassed, None);
    // As a signature time-stamp, such a token proves nothing: a signature validated after
    // its certificate expired stays OUT_OF_BOUNDS_NO_POE, and the report says why.
    let sig = cms_sign("p256", "-md sha256");
    std::fs::write(pki().path.join("eku-sv.bin"), signature_value(&sig)).unwrap();
    let info = tst_info_of(&ts_token("eku-sv.bin", "eku-sv.tst"));
    let tok = sign_tst_info(&info, "tsa-noncrit", "eku-sv-noncrit");
    let mut r = Run::new(add_signature_time_stamp(&sig, &tok)).data("data.txt");
    r.at = days(60);
    let rep = r.check(Indication::Indeterminate, Some(Sub::OutOfBoundsNoPoe));
    let text = rep.to_text(inkan_verifier::report::Lang::En);
    assert!(text.contains("not marked critical"), "{text}");
    let tok = sign_tst_info(&info, "tsa2", "eku-sv-tsa2");
    let mut r = Run::new(add_signature_time_stamp(&sig, &tok)).data("data.txt");
    r.at = days(29);
    r.check(Indication::TotalPassed, None);
}

#[test]
fn a_forged_certificate_with_the_signers_issuer_and_serial_is_passed_over() {
    // No ESS signing-certificate attribute (plain `openssl cms -sign`): the sid alone names
    // the signer. A self-made certificate with the same issuer name and serial, placed first.
    bash(
        &pki().path,
        "openssl cms -sign -binary -in data.txt -signer p256.pem -inkey p256.key \
         -certfile inter.pem -md sha256 -outform DER -out plain-p256.p7s",
    );
    let sig = read("plain-p256.p7s");
    ca_sh(
        "openssl req -x509 -new -key other.key -subj '/CN=Test Inter' \
         -set_serial 0x$(openssl x509 -in p256.pem -noout -serial | cut -d= -f2) -days 30 \
         -outform DER -out forged-signer.der 2>/dev/null",
    );
    let forged = prepend_certificates(&sig, &[read("forged-signer.der")]);
    Run::new(forged.clone())
        .data("data.txt")
        .check(Indication::TotalPassed, None);
    // Still a failure when the signature itself is broken.
    let mut broken = forged;
    let n = broken.len();
    broken[n - 1] ^= 1;
    Run::new(broken)
        .data("data.txt")
        .check(Indication::TotalFailed, Some(Sub::SigCryptoFailure));
    // A copy of the signer's own certificate (same issuer, serial and key) with a broken
    // signature, placed first: both verify the signature, and the one with a path is taken.
    let copy = flip_last(&input_der(&read("p256.pem")));
    Run::new(prepend_certificates(&sig, &[copy]))
        .data("data.txt")
        .check(Indication::TotalPassed, None);
    // A hundred certificates with the signer's issuer and serial, each with another key,
    // placed first: each costs one verification, and the signer's own is still found.
    let forged = forged_with_keys(&input_der(&read("p256.pem")), 100);
    Run::new(prepend_certificates(&sig, &forged))
        .data("data.txt")
        .check(Indication::TotalPassed, None);
    // An unsigned CAdES attribute (here a signature time-stamp) added to a plain signature
    // does not make it claim to be CAdES: only what the signer signed does.
    let stamped = add_unsigned_attribute(
        &sig,
        inkan_profiles::oid::ID_AA_SIGNATURE_TIME_STAMP_TOKEN.as_bytes(),
        &signature_time_stamp_token(&sig, "plain-p256-sig.tst"),
    );
    Run::new(stamped)
        .data("data.txt")
        .check(Indication::TotalPassed, None);
    // No signed attributes, detached content: the signature covers the data itself (RFC 5652
    // §5.4), so the candidate is chosen by verifying over the data given with --data, from a
    // file or from memory.
    bash(
        &pki().path,
        "openssl cms -sign -binary -noattr -in data.txt -signer p256.pem -inkey p256.key \
         -certfile inter.pem -md sha256 -outform DER -out noattr-p256.p7s",
    );
    let forged = prepend_certificates(&read("noattr-p256.p7s"), &[read("forged-signer.der")]);
    Run::new(forged.clone())
        .data("data.txt")
        .check(Indication::TotalPassed, None);
    let mut r = Run::new(forged.clone());
    r.data = Data::Bytes(read("data.txt"));
    r.check(Indication::TotalPassed, None);
    // Other data: no candidate verifies, and the signature fails with the named one.
    Run::new(forged.clone())
        .data("other.txt")
        .check(Indication::TotalFailed, Some(Sub::SigCryptoFailure));
    // No data: nothing to verify with.
    Run::new(forged).check(Indication::Indeterminate, Some(Sub::SignedDataNotFound));
}

#[test]
fn bogus_ca_certificates_do_not_hide_the_path() {
    // 2,000 copies of the issuing CA's certificate with other serial numbers (same name, key
    // and key identifier; their signatures no longer verify), placed before the real one. The
    // previous search spent its budget of 200 candidates on them (two each) and found no
    // path; now each copy costs one verification, within the per-input limits (5,000
    // certificates, 6,000 verifications) and the path budget.
    let inter = input_der(&read("inter.pem"));
    let copies: Vec<Vec<u8>> = (0..2000u16)
        .map(|k| with_serial(&inter, 0x1100 + k))
        .collect();
    let sig = prepend_certificates(&cms_sign("p256", "-md sha256"), &copies);
    let mut r = Run::new(sig).data("data.txt");
    r.required = true;
    r.crls = vec!["inter.crl", "root.crl"];
    r.check(Indication::TotalPassed, None);
}

/// A small deterministic generator (xorshift64*): the same seed makes the same junk on every
/// run, so a failure names a seed that reproduces it.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// `cert` (DER) with the last two bytes of its serial number replaced by `k`: same names, key
/// and key identifiers, a signature that no longer verifies.
fn with_serial(cert: &[u8], k: u16) -> Vec<u8> {
    let c = tlv::parse_exact(cert).unwrap();
    let tbs = c.children().next().unwrap().unwrap();
    let mut fields = tbs.children();
    let first = fields.next().unwrap().unwrap();
    let serial = if first.tag == 0xa0 {
        fields.next().unwrap().unwrap()
    } else {
        first
    };
    let at = serial.value.as_ptr() as usize - cert.as_ptr() as usize;
    let len = serial.value.len();
    assert!(len >= 2);
    let mut out = cert.to_vec();
    out[at + len - 2..at + len].copy_from_slice(&k.to_be_bytes());
    out
}

/// A signed object (certificate, CRL, OCSP response) with the last byte of its signature
/// value flipped: everything else as it was, the signature broken.
fn flip_last(der: &[u8]) -> Vec<u8> {
    let mut out = der.to_vec();
    *out.last_mut().unwrap() ^= 0x01;
    out
}

/// Appends `certs` after the certificates of the SignedData.
fn append_certificates(sig: &[u8], certs: &[Vec<u8>]) -> Vec<u8> {
    edit_signed_data(sig, |parts| {
        let p = parts.iter_mut().find(|p| p[0] == 0xa0).unwrap();
        let t = tlv::parse_exact(p).unwrap();
        let mut v = t.value.to_vec();
        v.extend(certs.concat());
        *p = tlv::encode(0xa0, &v);
    })
}

/// `sig` with each value of its first SignerInfo's unsigned attributes of type `attr_oid`
/// (content octets) replaced by `f(value)`, everything else as it was.
fn map_unsigned_values(sig: &[u8], attr_oid: &[u8], f: &dyn Fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
    edit_signed_data(sig, |parts| {
        let sis = tlv::parse_exact(parts.last().unwrap()).unwrap();
        let si = sis.children().next().unwrap().unwrap();
        let mut si_content = Vec::new();
        for field in si.children() {
            let field = field.unwrap();
            if field.tag != 0xa1 {
                si_content.extend_from_slice(field.raw);
                continue;
            }
            let mut attrs = Vec::new();
            for a in tlv::parse_exact(field.raw).unwrap().children() {
                let a = a.unwrap();
                let mut c = a.children();
                let o = c.next().unwrap().unwrap();
                let set = c.next().unwrap().unwrap();
                if o.value != attr_oid {
                    attrs.extend_from_slice(a.raw);
                    continue;
                }
                let values: Vec<u8> = set.children().flat_map(|v| f(v.unwrap().raw)).collect();
                attrs.extend(tlv::encode(
                    0x30,
                    &[o.raw.to_vec(), tlv::encode(0x31, &values)].concat(),
                ));
            }
            si_content.extend(tlv::encode(0xa1, &attrs));
        }
        *parts.last_mut().unwrap() = tlv::encode(0x31, &tlv::encode(0x30, &si_content));
    })
}

/// One signature (or token) of the junk property test and what it needs to be verified.
struct Case {
    name: &'static str,
    sig: Vec<u8>,
    data: &'static str,
    trust: &'static str,
    crls: Vec<&'static str>,
    required: bool,
    at: UnixTime,
    /// Tokens made for this signature's value that do not validate (broken TSA signature, an
    /// unsuitable TSA with an earlier genTime, over other data) and archive tokens over it
    /// that do not validate.
    bad_sig_tsts: Vec<Vec<u8>>,
    bad_archive_tsts: Vec<Vec<u8>>,
    /// Whether it is a stand-alone token (no SignerInfo attributes to add to).
    token: bool,
    /// The signing certificate (DER), and certificates with its issuer name and serial number
    /// but other keys.
    signer: Vec<u8>,
    forged_signers: Vec<Vec<u8>>,
}

impl Case {
    fn report(&self, sig: Vec<u8>) -> inkan_verifier::report::Report {
        let mut r = Run::new(sig).data(self.data);
        r.trust = vec![self.trust];
        r.crls = self.crls.clone();
        r.required = self.required;
        r.at = self.at;
        r.report()
    }
}

/// Junk anyone may add to a signature without the signer's key: unsigned certificates, CRLs,
/// OCSP responses and attributes.
struct Junk {
    /// Real certificates of the test PKI (DER).
    certs: Vec<Vec<u8>>,
    /// Real CRLs (DER).
    crls: Vec<Vec<u8>>,
    /// OCSP responses that must not be used: from a responder not authorised by the CA, and
    /// a real one with its signature broken.
    ocsps: Vec<Vec<u8>>,
    /// Tokens over other data.
    foreign_tsts: Vec<Vec<u8>>,
}

/// An earlier genTime for forged tokens: before every certificate of the test PKI.
const EARLY: &str = "20200115000000Z";

impl Junk {
    fn new() -> Self {
        let certs = [
            "inter.pem",
            "root.pem",
            "tsa.pem",
            "p256.pem",
            "revoked.pem",
            "other.pem",
        ]
        .iter()
        .map(|f| input_der(&read(f)))
        .collect();
        let crls = ["inter.crl", "root.crl"]
            .iter()
            .map(|f| input_der(&read(f)))
            .collect();
        ocsp_response("p256", "p384", "junk-unauthorised.ocsp", "", "-ndays 7");
        ocsp_response("p256", "ocspresp", "junk-good.ocsp", "", "-ndays 7");
        let ocsps = vec![
            read("junk-unauthorised.ocsp"),
            flip_last(&read("junk-good.ocsp")),
        ];
        let other = ts_token("other.txt", "junk-other.tst");
        let foreign_tsts = vec![other.clone(), break_token_signature(&other)];
        Self {
            certs,
            crls,
            ocsps,
            foreign_tsts,
        }
    }

    /// A certificate of the test PKI or, one time in three, the case's signing certificate.
    fn cert<'a>(&'a self, case: &'a Case, rng: &mut Rng) -> &'a [u8] {
        let n = self.certs.len();
        match rng.below(3 * n) {
            i if i < n => &case.signer,
            i => &self.certs[i % n],
        }
    }

    /// Adds junk: first of kind `first`, then 0 to 2 more chosen by `rng`; returns what was
    /// added, for messages.
    fn add(&self, case: &Case, first: usize, rng: &mut Rng) -> (Vec<u8>, Vec<String>) {
        use inkan_profiles::oid;
        let mut sig = case.sig.clone();
        let mut what = Vec::new();
        let kinds = if case.token { 8 } else { 13 };
        for n in 0..1 + rng.below(3) {
            let kind = if n == 0 {
                first % kinds
            } else {
                rng.below(kinds)
            };
            match kind {
                0 => {
                    let c = self.cert(case, rng);
                    let n = 1 + rng.below(20);
                    let base = rng.next() as u16;
                    let copies: Vec<Vec<u8>> = (0..n)
                        .map(|k| with_serial(c, base.wrapping_add(k as u16)))
                        .collect();
                    sig = prepend_certificates(&sig, &copies);
                    what.push(format!(
                        "{n} copies of a certificate with other serials, first"
                    ));
                }
                1 => {
                    let c = flip_last(self.cert(case, rng));
                    sig = if rng.below(2) == 0 {
                        prepend_certificates(&sig, &[c])
                    } else {
                        append_certificates(&sig, &[c])
                    };
                    what.push("a certificate with a broken signature".into());
                }
                2 => {
                    let c = flip_last(&self.crls[rng.below(self.crls.len())]);
                    sig = add_revocation_info(&sig, &c);
                    what.push("a CRL with a broken signature".into());
                }
                3 => {
                    let o = &self.ocsps[rng.below(self.ocsps.len())];
                    sig = add_revocation_info(&sig, &ocsp_other_revocation_info(o));
                    what.push("an unusable OCSP response".into());
                }
                4 => {
                    // An unknown unsigned attribute with random values.
                    let values: Vec<u8> = (0..1 + rng.below(3))
                        .flat_map(|_| {
                            let n = rng.below(40);
                            tlv::encode(0x04, &rng.bytes(n))
                        })
                        .collect();
                    sig = add_unsigned_attribute(&sig, &[0x2a, 0x03, 0x04, 0x05], &values);
                    what.push("an unknown unsigned attribute".into());
                }
                7 => {
                    let n = [1, 70][rng.below(2)];
                    sig = prepend_certificates(&sig, &case.forged_signers[..n]);
                    what.push(format!(
                        "{n} certificates with the signer's issuer and serial and other keys, first"
                    ));
                }
                5 => {
                    // Certificate-values (an unsigned attribute) with copies of a real
                    // certificate: another serial, a broken signature.
                    let c = self.cert(case, rng);
                    let v = tlv::encode(
                        0x30,
                        &[with_serial(c, rng.next() as u16), flip_last(c)].concat(),
                    );
                    sig = add_unsigned_attribute(&sig, oid::ID_AA_ETS_CERT_VALUES.as_bytes(), &v);
                    what.push("certificate-values with forged certificates".into());
                }
                6 => {
                    // Revocation-values with broken CRLs and OCSP responses.
                    let crl = flip_last(&self.crls[rng.below(self.crls.len())]);
                    let o = &self.ocsps[rng.below(self.ocsps.len())];
                    let basic = basic_ocsp_of(o);
                    let v = tlv::encode(
                        0x30,
                        &[
                            tlv::encode(0xa0, &tlv::encode(0x30, &crl)),
                            tlv::encode(0xa1, &tlv::encode(0x30, &basic)),
                        ]
                        .concat(),
                    );
                    sig = add_unsigned_attribute(
                        &sig,
                        oid::ID_AA_ETS_REVOCATION_VALUES.as_bytes(),
                        &v,
                    );
                    what.push("revocation-values with unusable CRL and OCSP".into());
                }
                8 if !case.bad_sig_tsts.is_empty() => {
                    let t = &case.bad_sig_tsts[rng.below(case.bad_sig_tsts.len())];
                    sig = add_unsigned_attribute(
                        &sig,
                        oid::ID_AA_SIGNATURE_TIME_STAMP_TOKEN.as_bytes(),
                        t,
                    );
                    what.push("a signature time-stamp that does not validate".into());
                }
                9 if !case.bad_archive_tsts.is_empty() => {
                    let t = &case.bad_archive_tsts[rng.below(case.bad_archive_tsts.len())];
                    sig = add_unsigned_attribute(
                        &sig,
                        oid::ID_AA_ETS_ARCHIVE_TIMESTAMP_V3.as_bytes(),
                        t,
                    );
                    what.push("an archive time-stamp that does not validate".into());
                }
                11 => {
                    // Junk inside the signature time-stamp tokens (which no archive time-stamp
                    // covers: changing covered bytes is not adding junk): certificates anyone
                    // may add to a token.
                    let sd = inkan_verifier::cms::SignedData::parse_content_info(&sig).unwrap();
                    let si = &sd.signers[0];
                    if si
                        .unsigned(&oid::ID_AA_ETS_ARCHIVE_TIMESTAMP_V3)
                        .next()
                        .is_some()
                    {
                        continue;
                    }
                    let tsa = input_der(&read("tsa.pem"));
                    let junk = [
                        with_serial(&tsa, rng.next() as u16),
                        flip_last(&tsa),
                        forged_like(&tsa),
                        flip_last(&self.certs[0]),
                    ];
                    let pick = rng.below(junk.len());
                    sig = map_unsigned_values(
                        &sig,
                        oid::ID_AA_SIGNATURE_TIME_STAMP_TOKEN.as_bytes(),
                        &|tok: &[u8]| prepend_certificates(tok, &junk[pick..=pick]),
                    );
                    what.push("a certificate inside the signature time-stamp tokens".into());
                }
                10 => {
                    // A time-stamp over other data, as signature or archive time-stamp.
                    let t = &self.foreign_tsts[rng.below(self.foreign_tsts.len())];
                    let attr = if rng.below(2) == 0 {
                        oid::ID_AA_SIGNATURE_TIME_STAMP_TOKEN
                    } else {
                        oid::ID_AA_ETS_ARCHIVE_TIMESTAMP_V3
                    };
                    sig = add_unsigned_attribute(&sig, attr.as_bytes(), t);
                    what.push("a time-stamp over other data".into());
                }
                _ => {
                    // A copy of an unsigned attribute the signature already has.
                    let sd = inkan_verifier::cms::SignedData::parse_content_info(&sig).unwrap();
                    let attrs = &sd.signers[0].unsigned_attrs;
                    if attrs.is_empty() {
                        continue;
                    }
                    let a = &attrs[rng.below(attrs.len())];
                    let (o, v) = (a.oid.clone(), a.values.concat());
                    sig = add_unsigned_attribute(&sig, &o, &v);
                    what.push("a copy of an unsigned attribute".into());
                }
            }
        }
        (sig, what)
    }
}

/// The certificate a signature or token names in its (first) SignerInfo's sid.
fn signer_of(sig: &[u8]) -> Vec<u8> {
    let sd = inkan_verifier::cms::SignedData::parse_content_info(sig).unwrap();
    let mut m = inkan_verifier::engine::Material::default();
    m.absorb(&sd);
    inkan_verifier::engine::signer_cert_candidates(&sd.signers[0], &m)[0]
        .raw
        .clone()
}

/// A certificate with `cert`'s issuer name, subject name and serial number, and another key:
/// the `other` root's certificate with those swapped in (its signature no longer verifies).
fn forged_like(cert: &[u8]) -> Vec<u8> {
    let c = inkan_verifier::x509::Certificate::parse(cert).unwrap();
    let other = input_der(&read("other.pem"));
    let o = tlv::parse_exact(&other).unwrap();
    let mut parts = o.children();
    let tbs = parts.next().unwrap().unwrap();
    let rest: Vec<u8> = parts.flat_map(|p| p.unwrap().raw.to_vec()).collect();
    let mut fields: Vec<Vec<u8>> = tbs.children().map(|f| f.unwrap().raw.to_vec()).collect();
    let off = usize::from(fields[0][0] == 0xa0);
    fields[off] = tlv::encode(0x02, c.serial());
    fields[off + 2] = c.issuer().to_vec();
    fields[off + 4] = c.subject().to_vec();
    let tbs = tlv::encode(0x30, &fields.concat());
    tlv::encode(0x30, &[tbs, rest].concat())
}

/// `n` certificates like [`forged_like`]`(cert)`, each with another key (one byte of the RSA
/// modulus changed; the certificates' signatures do not verify, which only a path search
/// could tell).
fn forged_with_keys(cert: &[u8], n: usize) -> Vec<Vec<u8>> {
    let forged = forged_like(cert);
    let c = inkan_verifier::x509::Certificate::parse(&forged).unwrap();
    let spki = c.spki();
    let at = spki.as_ptr() as usize - c.raw.as_ptr() as usize + spki.len() / 2;
    (0..n)
        .map(|k| {
            let mut f = forged.clone();
            f[at] = k as u8;
            f[at + 1] = (k >> 8) as u8;
            f
        })
        .collect()
}

/// The BasicOCSPResponse inside an OCSPResponse (responseBytes.response).
fn basic_ocsp_of(resp: &[u8]) -> Vec<u8> {
    let r = tlv::parse_exact(resp).unwrap();
    let mut c = r.children();
    c.next().unwrap().unwrap(); // responseStatus
    let bytes = c.next().unwrap().unwrap(); // [0] responseBytes
    let seq = tlv::parse_exact(bytes.value).unwrap();
    let mut c = seq.children();
    c.next().unwrap().unwrap(); // responseType
    c.next().unwrap().unwrap().value.to_vec()
}

/// The cases of the junk property test: valid signatures and tokens (B-B detached and
/// encapsulated, plain CMS, B-T, B-LT, B-LTA, a stand-alone token), and ones that are not
/// (expired without proof of existence, other data, revoked, untrusted, revocation missing).
fn junk_cases() -> Vec<Case> {
    use inkan_profiles::oid;
    let sig_attr = oid::ID_AA_SIGNATURE_TIME_STAMP_TOKEN.as_bytes();
    // Tokens over `sig`'s value, and archive tokens over `sig`, that do not validate.
    let bad = |sig: &[u8], name: &str| {
        let name = name.replace(|c: char| !c.is_ascii_alphanumeric(), "_");
        let tok = signature_time_stamp_token(sig, &format!("junk-{name}-sig.tst"));
        let early = with_gen_time(&tst_info_of(&tok), EARLY);
        // The TSTInfo signed again, dated early or as it was, by certificates that may not
        // time-stamp (no id-kp-timeStamping; not critical, RFC 3161 §2.3).
        let info = tst_info_of(&tok);
        let sig_tsts = vec![
            break_token_signature(&tok),
            sign_tst_info(&early, "p256", &format!("junk-{name}-sig-p256")),
            sign_tst_info(&early, "tsa-noncrit", &format!("junk-{name}-sig-noncrit")),
            sign_tst_info(&info, "p256", &format!("junk-{name}-sig-p256-now")),
            sign_tst_info(
                &info,
                "tsa-noncrit",
                &format!("junk-{name}-sig-noncrit-now"),
            ),
        ];
        let ats = archive_time_stamp_v3_token("tsa_config1", sig, &format!("junk-{name}-ats"));
        let index = inkan_verifier::cms::SignedData::parse_content_info(&ats)
            .unwrap()
            .signers[0]
            .unsigned(&oid::ID_AA_ATS_HASH_INDEX_V3)
            .next()
            .unwrap()
            .values[0]
            .clone();
        let forged = sign_tst_info(
            &with_gen_time(&tst_info_of(&ats), EARLY),
            "p256",
            &format!("junk-{name}-ats-p256"),
        );
        let noncrit = sign_tst_info(
            &tst_info_of(&ats),
            "tsa-noncrit",
            &format!("junk-{name}-ats-noncrit"),
        );
        let with_index =
            |t: &[u8]| add_unsigned_attribute(t, oid::ID_AA_ATS_HASH_INDEX_V3.as_bytes(), &index);
        let archive_tsts = vec![
            break_token_signature(&ats),
            with_index(&forged),
            with_index(&noncrit),
        ];
        (sig_tsts, archive_tsts)
    };
    let case = |name, sig: Vec<u8>, data, at| {
        let (bad_sig_tsts, bad_archive_tsts) = bad(&sig, name);
        let signer = signer_of(&sig);
        Case {
            forged_signers: forged_with_keys(&signer, 70),
            signer,
            name,
            sig,
            data,
            trust: "root.pem",
            crls: vec![],
            required: false,
            at,
            bad_sig_tsts,
            bad_archive_tsts,
            token: false,
        }
    };
    let crl = |sig: &[u8]| {
        let s = add_revocation_info(sig, &input_der(&read("inter.crl")));
        add_revocation_info(&s, &input_der(&read("root.crl")))
    };
    let b_b = cms_sign("p256", "-md sha256");
    let b_t = add_unsigned_attribute(&b_b, sig_attr, &signature_time_stamp_token(&b_b, "junk-bt"));
    let b_lt = crl(&b_t);
    let b_lta = add_archive_time_stamp_v3(&b_lt, "junk-blta");
    let revoked = cms_sign("revoked", "-md sha256");
    let revoked_t = add_unsigned_attribute(
        &revoked,
        sig_attr,
        &signature_time_stamp_token(&revoked, "junk-rev-t"),
    );
    let mut cases = vec![
        case("B-B", b_b.clone(), "data.txt", now()),
        case(
            "B-B encapsulated",
            cms_sign("p256", "-md sha256 -nodetach"),
            "data.txt",
            now(),
        ),
        case(
            "plain CMS",
            cms_sign("p256", "-md sha256 -nocades"),
            "data.txt",
            now(),
        ),
        case("B-T", b_t.clone(), "data.txt", now()),
        case("B-T after expiry", b_t, "data.txt", days(60)),
        case("B-LTA after expiry", b_lta.clone(), "data.txt", days(60)),
        case("B-B after expiry", b_b.clone(), "data.txt", days(60)),
        case("B-B other data", b_b.clone(), "other.txt", now()),
        case(
            "expired signer",
            cms_sign("shortlived", "-md sha256"),
            "data.txt",
            now(),
        ),
    ];
    let mut b_lt_case = case("B-LT", b_lt, "data.txt", now());
    b_lt_case.required = true;
    cases.push(b_lt_case);
    let mut lta = case("B-LTA", b_lta, "data.txt", now());
    lta.required = true;
    cases.push(lta);
    for (name, sig) in [
        ("revoked signer", revoked),
        ("revoked signer, B-T", revoked_t),
    ] {
        let mut rev = case(name, sig, "data.txt", now());
        rev.required = true;
        rev.crls = vec!["inter.crl", "root.crl"];
        cases.push(rev);
    }
    let mut untrusted = case("untrusted root", b_b.clone(), "data.txt", now());
    untrusted.trust = "other.pem";
    cases.push(untrusted);
    let mut missing = case("revocation missing", b_b, "data.txt", now());
    missing.required = true;
    cases.push(missing);
    for (name, data) in [
        ("token", "data.txt"),
        ("token over other data", "other.txt"),
    ] {
        let sig = ts_token("data.txt", "junk-token.tst");
        let signer = signer_of(&sig);
        cases.push(Case {
            forged_signers: forged_with_keys(&signer, 70),
            signer,
            name,
            sig,
            data,
            trust: "root.pem",
            crls: vec![],
            required: false,
            at: now(),
            bad_sig_tsts: vec![],
            bad_archive_tsts: vec![],
            token: true,
        });
    }
    cases
}

/// Issue 11 §6, property-style: unsigned junk (certificates, CRLs, OCSP responses,
/// attributes, time-stamps) added to a signature or token changes neither its indication nor
/// its sub-indication: never worse for a valid one, never TOTAL-PASSED for one that was not.
/// Deterministic seeds; a failure names the case, the seed and the junk.
#[test]
fn unsigned_junk_never_changes_the_result() {
    const SEEDS: u64 = 40;
    let junk = Junk::new();
    let cases = junk_cases();
    let mut seen = std::collections::BTreeSet::new();
    for (ci, case) in cases.iter().enumerate() {
        let base = case.report(case.sig.clone());
        let want = (base.indication, base.sub_indication);
        // The valid cases are valid, the others not, before any junk.
        const VALID: [&str; 9] = [
            "B-B",
            "B-B encapsulated",
            "plain CMS",
            "B-T",
            "B-T after expiry",
            "B-LT",
            "B-LTA",
            "B-LTA after expiry",
            "token",
        ];
        assert_eq!(
            base.indication == Indication::TotalPassed,
            VALID.contains(&case.name),
            "{}: {want:?}",
            case.name
        );
        seen.insert(format!("{:?}", want));
        for seed in 0..SEEDS {
            let mut rng = Rng::new((ci as u64) << 32 | seed);
            let (sig, what) = junk.add(case, seed as usize, &mut rng);
            let rep = case.report(sig);
            assert_eq!(
                (rep.indication, rep.sub_indication),
                want,
                "{} (seed {seed}) with {what:?}:\n{}",
                case.name,
                rep.to_text(inkan_verifier::report::Lang::En)
            );
        }
    }
    // The cases span valid, indeterminate and failed signatures.
    for w in [
        "(TotalPassed, None)",
        "(Indeterminate, Some(OutOfBoundsNoPoe))",
        "(TotalFailed, Some(HashFailure))",
    ] {
        assert!(seen.contains(w), "{w} not among {seen:?}");
    }
}

/// A PEM certificate's DER.
fn input_der(pem: &[u8]) -> Vec<u8> {
    inkan_verifier::input::to_binary(pem)
}
