//! RFC 5280 name constraints and certificate policies, judged on openssl-made CAs that carry
//! nameConstraints, certificatePolicies, policyMappings, policyConstraints and
//! inhibitAnyPolicy; each case asserts the exact indication and sub-indication.

use inkan_test_support::bash;
use std::path::PathBuf;
use std::sync::OnceLock;

use inkan_profiles::clock::{Clock, SystemClock};
use inkan_verifier::report::{Indication, Lang, Sub};
use inkan_verifier::{Data, Input, Options, verify};

struct Pki {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

const EXT: &str = r#"
[ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
[nc_ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
nameConstraints = critical,permitted;dirName:nc_dir,permitted;email:example.com,permitted;DNS:example.com,excluded;DNS:bad.example.com
[nc_dir]
O = Good Org
[nc_uri_ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
nameConstraints = critical,permitted;URI:.example.com
[pol_ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
certificatePolicies = 1.2.3.4.5
policyConstraints = critical,requireExplicitPolicy:0
[any_ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
certificatePolicies = 2.5.29.32.0
policyConstraints = critical,requireExplicitPolicy:0
inhibitAnyPolicy = critical,0
[inhibit_map_ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
certificatePolicies = 2.5.29.32.0
policyConstraints = critical,requireExplicitPolicy:0,inhibitPolicyMapping:0
[allow_map_ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
certificatePolicies = 2.5.29.32.0
policyConstraints = critical,requireExplicitPolicy:0
[map_ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
certificatePolicies = 1.2.3.4.5
policyMappings = critical,1.2.3.4.5:1.2.3.4.9
[root_nc]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
nameConstraints = critical,permitted;DNS:example.com
[leaf_evil_dns]
basicConstraints = CA:false
keyUsage = critical,digitalSignature,nonRepudiation
subjectAltName = DNS:www.evil.test
[leaf]
basicConstraints = CA:false
keyUsage = critical,digitalSignature,nonRepudiation
[leaf_good]
basicConstraints = CA:false
keyUsage = critical,digitalSignature,nonRepudiation
subjectAltName = email:a@example.com,DNS:www.example.com
[leaf_san_email]
basicConstraints = CA:false
keyUsage = critical,digitalSignature,nonRepudiation
subjectAltName = email:a@evil.example
[leaf_san_dns]
basicConstraints = CA:false
keyUsage = critical,digitalSignature,nonRepudiation
subjectAltName = DNS:www.bad.example.com
[leaf_uri]
basicConstraints = CA:false
keyUsage = critical,digitalSignature,nonRepudiation
subjectAltName = URI:http://www.example.com/
[leaf_uri_out]
basicConstraints = CA:false
keyUsage = critical,digitalSignature,nonRepudiation
subjectAltName = URI:https://www.example.org/
[leaf_uri_urn]
basicConstraints = CA:false
keyUsage = critical,digitalSignature,nonRepudiation
subjectAltName = URI:urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6
[leaf_pol5]
basicConstraints = CA:false
keyUsage = critical,digitalSignature,nonRepudiation
certificatePolicies = 1.2.3.4.5
[leaf_pol6]
basicConstraints = CA:false
keyUsage = critical,digitalSignature,nonRepudiation
certificatePolicies = 1.2.3.4.6
[leaf_pol9]
basicConstraints = CA:false
keyUsage = critical,digitalSignature,nonRepudiation
certificatePolicies = 1.2.3.4.9
[leaf_polany]
basicConstraints = CA:false
keyUsage = critical,digitalSignature,nonRepudiation
certificatePolicies = 2.5.29.32.0
"#;

const SETUP: &str = r#"
set -e
S=100
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $1.key 2>/dev/null; }
# cert name subject issuer extension-section
cert() { key $1; S=$((S+1)); openssl req -new -key $1.key -subj "$2" -out $1.csr
  openssl x509 -req -in $1.csr -CA $3.pem -CAkey $3.key -set_serial $S -days 30 \
    -extfile ext.cnf -extensions $4 -out $1.pem 2>/dev/null; }
key root
openssl req -x509 -new -key root.key -subj "/CN=Constraints Root" -days 30 -config ext.cnf \
  -extensions ca -out root.pem
cert ncca "/CN=NC CA" root nc_ca
cert nc_good "/O=Good Org/CN=good" ncca leaf_good
cert nc_dir "/O=Evil Org/CN=bad dir" ncca leaf
cert nc_subject_email "/O=Good Org/CN=bad mail/emailAddress=x@evil.example" ncca leaf
cert nc_san_email "/O=Good Org/CN=bad san mail" ncca leaf_san_email
cert nc_san_dns "/O=Good Org/CN=bad dns" ncca leaf_san_dns
cert uorica "/CN=URI CA" root nc_uri_ca
cert uri_leaf "/CN=uri leaf" uorica leaf_uri
cert uri_plain "/CN=plain leaf" uorica leaf
cert uri_out "/CN=uri outside" uorica leaf_uri_out
cert uri_urn "/CN=urn leaf" uorica leaf_uri_urn
cert polca "/CN=Policy CA" root pol_ca
cert pol5 "/CN=pol5" polca leaf_pol5
cert pol6 "/CN=pol6" polca leaf_pol6
cert polnone "/CN=polnone" polca leaf
cert anyca "/CN=Any CA" root any_ca
cert any_any "/CN=any any" anyca leaf_polany
cert any_5 "/CN=any 5" anyca leaf_pol5
cert inh "/CN=Inhibit CA" root inhibit_map_ca
cert inh_map "/CN=Inhibited Map CA" inh map_ca
cert inh_leaf "/CN=inh leaf" inh_map leaf_pol9
cert allow "/CN=Allow CA" root allow_map_ca
cert allow_map "/CN=Allowed Map CA" allow map_ca
cert allow_leaf "/CN=allow leaf" allow_map leaf_pol9
key root2
openssl req -x509 -new -key root2.key -subj "/CN=Constrained Root" -days 30 -config ext.cnf \
  -extensions root_nc -out root2.pem
cert anchor_ok "/CN=anchor ok" root2 leaf_good
cert anchor_bad "/CN=anchor bad" root2 leaf_evil_dns
cat inh.pem inh_map.pem > inh-chain.pem
cat allow.pem allow_map.pem > allow-chain.pem
printf 'hello inkan\n' > data.txt
"#;

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        std::fs::write(path.join("ext.cnf"), EXT).unwrap();
        bash(&path, SETUP);
        Pki { _dir: dir, path }
    })
}

/// Signs data.txt with `leaf` (`openssl cms -sign`, the CA certificates in `cas`) and
/// verifies it against the constraints root.
fn check(leaf: &str, cas: &str, ind: Indication, sub: Option<Sub>, code: Option<&str>) {
    check_with("root.pem", leaf, cas, ind, sub, code);
}

/// As [`check`], with another trust anchor file.
fn check_with(
    anchor: &str,
    leaf: &str,
    cas: &str,
    ind: Indication,
    sub: Option<Sub>,
    code: Option<&str>,
) {
    check_policies(anchor, leaf, cas, &[], ind, sub, code);
}

/// As [`check_with`], requiring one of `policies` (`--policy`).
fn check_policies(
    anchor: &str,
    leaf: &str,
    cas: &str,
    policies: &[&str],
    ind: Indication,
    sub: Option<Sub>,
    code: Option<&str>,
) {
    let dir = &pki().path;
    let out = format!("{leaf}.p7s");
    bash(
        dir,
        &format!(
            "openssl cms -sign -binary -in data.txt -signer {leaf}.pem -inkey {leaf}.key \
             -certfile {cas} -md sha256 -outform DER -out {out}"
        ),
    );
    let options = Options {
        data: Data::File(dir.join("data.txt")),
        trust: vec![std::fs::read(dir.join(anchor)).unwrap()],
        crls: vec![],
        ocsps: vec![],
        revocation_required: false,
        required_policies: policies
            .iter()
            .map(|p| const_oid::ObjectIdentifier::new(p).unwrap())
            .collect(),
    };
    let r = verify(
        &Input {
            bytes: std::fs::read(dir.join(&out)).unwrap(),
        },
        &options,
        SystemClock.now().unwrap(),
    )
    .unwrap();
    let text = r.to_text(Lang::En);
    assert_eq!(
        (r.indication, r.sub_indication),
        (ind, sub),
        "{leaf} {policies:?}: {text}"
    );
    if let Some(c) = code {
        assert!(
            r.findings.iter().any(|f| f.code == c),
            "{leaf}: no {c}: {text}"
        );
    }
}

#[test]
fn name_constraints() {
    use Indication::*;
    let ccf = Some(Sub::ChainConstraintsFailure);
    // Subject within O=Good Org, SAN email and DNS within the permitted subtrees.
    check("nc_good", "ncca.pem", TotalPassed, None, None);
    // directoryName outside the permitted subtree.
    check(
        "nc_dir",
        "ncca.pem",
        Indeterminate,
        ccf,
        Some("X509_NAME_CONSTRAINTS"),
    );
    // emailAddress in the subject DN is held to the rfc822Name constraints (§4.2.1.10).
    check(
        "nc_subject_email",
        "ncca.pem",
        Indeterminate,
        ccf,
        Some("X509_NAME_CONSTRAINTS"),
    );
    // rfc822Name SAN outside the permitted subtree.
    check(
        "nc_san_email",
        "ncca.pem",
        Indeterminate,
        ccf,
        Some("X509_NAME_CONSTRAINTS"),
    );
    // dNSName within an excluded subtree.
    check(
        "nc_san_dns",
        "ncca.pem",
        Indeterminate,
        ccf,
        Some("X509_NAME_CONSTRAINTS"),
    );
    // uniformResourceIdentifier constraints apply to the URI's host: permitted
    // `.example.com` admits http://www.example.com/, not https://www.example.org/; a URI
    // with no host name (a URN) is rejected (§4.2.1.10); a certificate without a URI passes.
    check("uri_leaf", "uorica.pem", TotalPassed, None, None);
    check(
        "uri_out",
        "uorica.pem",
        Indeterminate,
        ccf,
        Some("X509_NAME_CONSTRAINTS"),
    );
    check(
        "uri_urn",
        "uorica.pem",
        Indeterminate,
        ccf,
        Some("X509_NAME_CONSTRAINTS"),
    );
    check("uri_plain", "uorica.pem", TotalPassed, None, None);
    // The trust anchor's own nameConstraints are the initial subtrees (RFC 5937 §3.2).
    check_with(
        "root2.pem",
        "anchor_ok",
        "root2.pem",
        TotalPassed,
        None,
        None,
    );
    check_with(
        "root2.pem",
        "anchor_bad",
        "root2.pem",
        Indeterminate,
        ccf,
        Some("X509_NAME_CONSTRAINTS"),
    );
}

#[test]
fn certificate_policies() {
    use Indication::*;
    let ccf = Some(Sub::ChainConstraintsFailure);
    // requireExplicitPolicy 0 in the CA: the leaf must carry a policy valid for the path.
    check("pol5", "polca.pem", TotalPassed, None, None);
    check("pol6", "polca.pem", Indeterminate, ccf, Some("X509_POLICY"));
    check(
        "polnone",
        "polca.pem",
        Indeterminate,
        ccf,
        Some("X509_POLICY"),
    );
    // inhibitAnyPolicy 0: anyPolicy in the leaf no longer matches; an explicit policy does
    // (the CA's anyPolicy node accepts it).
    check(
        "any_any",
        "anyca.pem",
        Indeterminate,
        ccf,
        Some("X509_POLICY"),
    );
    check("any_5", "anyca.pem", TotalPassed, None, None);
    // A mapping 1.2.3.4.5 -> 1.2.3.4.9 lets a 1.2.3.4.9 leaf pass, unless a CA above
    // inhibited policy mapping (inhibitPolicyMapping 0): then the mapped policy is deleted.
    check("allow_leaf", "allow-chain.pem", TotalPassed, None, None);
    check(
        "inh_leaf",
        "inh-chain.pem",
        Indeterminate,
        ccf,
        Some("X509_POLICY"),
    );
}

/// `--policy`: RFC 5280 user-initial-policy-set with initial-explicit-policy. The required
/// policies are named in the trust anchor's domain, so through a mapping 1.2.3.4.5 ->
/// 1.2.3.4.9 the leaf certified under 1.2.3.4.9 satisfies `--policy 1.2.3.4.5`, not
/// `--policy 1.2.3.4.9`.
#[test]
fn required_policies() {
    use Indication::*;
    let ccf = Some(Sub::ChainConstraintsFailure);
    let root = "root.pem";
    let pass = |leaf: &str, cas: &str, pols: &[&str]| {
        check_policies(root, leaf, cas, pols, TotalPassed, None, None);
    };
    let fail = |leaf: &str, cas: &str, pols: &[&str]| {
        check_policies(
            root,
            leaf,
            cas,
            pols,
            Indeterminate,
            ccf,
            Some("X509_POLICY"),
        );
    };
    pass("pol5", "polca.pem", &["1.2.3.4.5"]);
    pass("pol5", "polca.pem", &["1.2.3.4.7", "1.2.3.4.5"]);
    fail("pol5", "polca.pem", &["1.2.3.4.7"]);
    // Under an anyPolicy CA the leaf's own policy is what the path is valid for.
    pass("any_5", "anyca.pem", &["1.2.3.4.5"]);
    fail("any_5", "anyca.pem", &["1.2.3.4.6"]);
    // No policies anywhere: valid for none, so any requirement fails (explicit policy).
    pass("nc_good", "ncca.pem", &[]);
    fail("nc_good", "ncca.pem", &["1.2.3.4.5"]);
    // Through the mapping.
    pass("allow_leaf", "allow-chain.pem", &["1.2.3.4.5"]);
    fail("allow_leaf", "allow-chain.pem", &["1.2.3.4.9"]);
}

/// Mutated constrained certificates through the constraint checks never panic (untrusted
/// input: the checks run on whatever a signature carries once its path is built).
#[test]
fn mutated_constraint_extensions_never_panic() {
    use inkan_verifier::engine::Path as CertPath;
    use inkan_verifier::x509::Certificate;
    let dir = &pki().path;
    let der = |name: &str| {
        Certificate::parse(&inkan_verifier::input::to_binary(
            &std::fs::read(dir.join(format!("{name}.pem"))).unwrap(),
        ))
        .unwrap()
    };
    let root = der("root");
    let mut x: u32 = 7;
    for (leaf, ca) in [
        ("nc_good", "ncca"),
        ("uri_leaf", "uorica"),
        ("pol5", "polca"),
        ("inh_leaf", "inh_map"),
        ("any_5", "anyca"),
    ] {
        let (leaf, ca) = (der(leaf), der(ca));
        let mut cases = 0;
        for round in 0..400 {
            let mut l = leaf.raw.clone();
            let mut c = ca.raw.clone();
            for _ in 0..3 {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let target = if round % 2 == 0 { &mut l } else { &mut c };
                let i = (x as usize >> 8) % target.len();
                target[i] = (x >> 16) as u8;
            }
            let (Ok(l), Ok(c)) = (Certificate::parse(&l), Certificate::parse(&c)) else {
                continue;
            };
            cases += 1;
            let path = CertPath {
                certs: vec![l, c, root.clone()],
                algs: vec![],
            };
            let _ = inkan_verifier::constraints::check_path(&path, &[]);
            let _ = inkan_verifier::constraints::check_path(&path, &[vec![0x2a, 0x03, 0x04, 0x05]]);
        }
        assert!(cases > 50, "too few mutated certificates parsed: {cases}");
    }
}
