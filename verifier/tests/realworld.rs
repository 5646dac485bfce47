//! Runs every real-world case in `../shared/vectors/realworld/cases` (beside the repository, as
//! CI has it) through the library with the same semantics as `run.sh`, prints the per-case
//! table and asserts a floor of passes.

use std::path::{Path, PathBuf};

use inkan_profiles::clock::{Clock, SystemClock};
use inkan_profiles::time::UnixTime;
use inkan_verifier::{Data, Input, Options, cli::parse_rfc3339, verify};

/// Cases whose indication and sub-indication both match, reached so far (raise it), counting
/// the cases of [`NO_DATA_TOKENS`] as matching when they give what issue 11 §3 requires.
const FLOOR: usize = 55;

/// Stand-alone time-stamp tokens given without their data, whose case.json (written before
/// issue 11) expects TOTAL-PASSED. Issue 11 §3: such a token proves nothing about any data
/// yet; it is INDETERMINATE / SIGNED_DATA_NOT_FOUND and the report shows the imprint it would
/// prove. Until the shared cases are updated they are held to that instead.
const NO_DATA_TOKENS: [&str; 4] = [
    "dss-d-trust-tst-pss",
    "dss-disig-tst-two-tsu-certs",
    "dss-plugtest-archive-tst",
    "openssl-sectigo-usertrust",
];

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/realworld/cases")
}

/// The case description and the report the library gives with the case's arguments.
fn case_report(dir: &Path) -> (serde_json::Value, inkan_verifier::report::Report) {
    let case: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("case.json")).unwrap()).unwrap();
    let args: Vec<String> = case["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect();
    let mut options = Options {
        revocation_required: true,
        ..Options::default()
    };
    let mut sig = None;
    let mut at = SystemClock.now().unwrap();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        let next = || args[i + 1].clone();
        match a {
            "--data" => options.data = Data::File(dir.join(next())),
            "--trust" => options.trust.push(std::fs::read(dir.join(next())).unwrap()),
            "--crl" => options.crls.push(std::fs::read(dir.join(next())).unwrap()),
            "--ocsp" => options.ocsps.push(std::fs::read(dir.join(next())).unwrap()),
            "--at" => at = UnixTime::from_secs(parse_rfc3339(&next()).unwrap() as u64),
            "--revocation" => options.revocation_required = next() == "required",
            "--format" | "--lang" => {}
            _ => {
                sig = Some(dir.join(a));
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    let input = Input {
        bytes: std::fs::read(sig.unwrap()).unwrap(),
    };
    (case, verify(&input, &options, at).unwrap())
}

fn run_case(dir: &Path) -> (String, String, bool, bool) {
    let (case, report) = case_report(dir);
    let got_ind = report.indication.as_str().to_owned();
    let got_sub = report.sub_indication.map(|s| s.as_str());
    let mut inds = vec![case["expect_indication"].as_str().unwrap().to_owned()];
    for k in ["also_ok_indications"] {
        if let Some(v) = case[k].as_array() {
            inds.extend(v.iter().filter_map(|x| x.as_str().map(str::to_owned)));
        }
    }
    let mut subs = vec![case["expect_sub_indication"].as_str().map(str::to_owned)];
    for k in [
        "acceptable_alternative_sub_indications",
        "also_ok_sub_indications",
    ] {
        if let Some(v) = case[k].as_array() {
            subs.extend(v.iter().map(|x| x.as_str().map(str::to_owned)));
        }
    }
    let name = dir.file_name().unwrap().to_string_lossy();
    if NO_DATA_TOKENS.contains(&name.as_ref())
        && case["expect_indication"] == "TOTAL-PASSED"
        && case["args"]
            .as_array()
            .is_some_and(|a| !a.contains(&"--data".into()))
    {
        inds = vec!["INDETERMINATE".into()];
        subs = vec![Some("SIGNED_DATA_NOT_FOUND".into())];
        assert!(
            report.time_stamped_data.is_some() && report.best_proof_of_existence.is_none(),
            "{name}"
        );
    }
    let i_ok = inds.contains(&got_ind);
    let s_ok = i_ok && subs.contains(&got_sub);
    (
        format!(
            "{got_ind}/{}",
            got_sub.clone().unwrap_or_else(|| "None".into())
        ),
        format!(
            "{}/{}",
            case["expect_indication"].as_str().unwrap(),
            case["expect_sub_indication"].as_str().unwrap_or("None")
        ),
        i_ok,
        s_ok,
    )
}

#[test]
fn realworld_vectors() {
    let dir = cases_dir();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (the shared vectors must sit beside the repository)",
                dir.display()
            )
        })
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("case.json").exists())
        .collect();
    entries.sort();
    let (mut n, mut k) = (0, 0);
    for e in &entries {
        let (got, want, i_ok, s_ok) = run_case(e);
        let tag = if s_ok {
            "PASS"
        } else if i_ok {
            "PART"
        } else {
            "FAIL"
        };
        println!(
            "{tag:5} {:45} got {got}; expected {want}",
            e.file_name().unwrap().to_string_lossy()
        );
        n += usize::from(i_ok);
        k += usize::from(s_ok);
    }
    println!(
        "realworld: {n}/{} indication, {k}/{} sub-indication",
        entries.len(),
        entries.len()
    );
    assert!(k >= FLOOR, "only {k} cases pass; floor is {FLOOR}");
}

/// The archive-time-stamp v2 computation (ETSI TS 101 733 §6.4.1) is right for every CAdES-A
/// file among the vectors that carries one: each stamp's imprint matches.
#[test]
fn archive_time_stamp_v2_imprints_match_real_cades_a_files() {
    for case in [
        "dss-plugtest-C-B-LTA-10",
        "dss-real-luxtrust-qes-attached",
        "dss-real-luxtrust-qes-detached",
        "dss-real-quovadis-dss2059",
        "dss-real-quovadis-g3-atsv2-detached",
        "dss-lta-gte-root-md5-rsa1024-chain",
    ] {
        let (_, r) = case_report(&cases_dir().join(case));
        let text = r.to_text(inkan_verifier::report::Lang::En);
        assert!(
            r.time_stamps.iter().any(|t| t.kind == "archive"),
            "{case}: no archive time-stamp evaluated: {text}"
        );
        assert!(
            !r.findings
                .iter()
                .any(|f| f.code == "ARCHIVE_TST_V2_IMPRINT_MISMATCH"),
            "{case}: {text}"
        );
    }
    // The QuoVadis seal's v2 stamp passes and is a proof of existence.
    let (_, r) = case_report(&cases_dir().join("dss-real-quovadis-g3-atsv2-detached"));
    assert!(
        r.time_stamps.iter().any(|t| t.kind == "archive"
            && t.indication == inkan_verifier::report::Indication::TotalPassed)
    );
}

/// The commitment types a real signer declared (DSS's `nowina-enveloping`: proof of approval
/// and proof of creation) are reported by name, in JSON and in words.
#[test]
fn commitment_types_are_reported() {
    let (_, r) = case_report(&cases_dir().join("dss-nowina-enveloping"));
    assert_eq!(
        r.commitment_types,
        ["proof-of-approval", "proof-of-creation"]
    );
    assert_eq!(r.signature_policy, None);
    let ja = r.to_text(inkan_verifier::report::Lang::Ja);
    assert!(ja.contains("承認の証明 (proof-of-approval)"), "{ja}");
    let en = r.to_text(inkan_verifier::report::Lang::En);
    assert!(
        en.contains("proof of creation: the signer created it"),
        "{en}"
    );
    // An unknown commitment type is shown by its OID.
    let (_, r) = case_report(&cases_dir().join("dss-no-key-info-cert-trusted"));
    assert_eq!(r.commitment_types, ["1.2.3", "2.4.5.6"]);
}
