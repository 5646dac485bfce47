//! PAdES signing end to end (issue 14): real keys from the development PKI, a real
//! `inkan-tsa` on 127.0.0.1:0, and independent judges: `qpdf --check` (structure) and
//! poppler's `pdfsig` (signature over the ByteRange), plus `inkan-verify` (the library).
//! The PDFs are made here; `qpdf` makes the xref-stream / object-stream and encrypted
//! variants.

use std::path::{Path, PathBuf};
use std::process::Command;

use inkan_hsm::devpki::{DevPki, KeyAlg};
use inkan_profiles::clock::{Clock, SystemClock};
use inkan_signer::cades::Level;
use inkan_signer::sign::{self, Options};
use inkan_verifier::report::{Indication, Report, Sub};

mod common;

struct Env {
    dir: tempfile::TempDir,
    pki: DevPki,
    tsa_url: String,
    _tsa: common::TestTsa,
}

/// A one-page PDF with a classic cross-reference table and some text.
fn simple_pdf() -> Vec<u8> {
    pdf_with(false)
}

/// [`simple_pdf`], with an empty invisible signature field "Approval" when `field`.
fn pdf_with(field: bool) -> Vec<u8> {
    pdf_with_field_at(field.then_some("0 0 0 0"))
}

/// [`simple_pdf`], with an empty signature field "Approval" whose widget has the rectangle
/// `rect` when given.
fn pdf_with_field_at(rect: Option<&str>) -> Vec<u8> {
    let field = rect.is_some();
    let content = b"BT /F1 24 Tf 72 700 Td (Invoice 2026-0042: 10,000 JPY) Tj ET";
    let (form, annots) = if field {
        (" /AcroForm << /Fields [6 0 R] >>", " /Annots [6 0 R]")
    } else {
        ("", "")
    };
    let mut objs = vec![
        format!("<< /Type /Catalog /Pages 2 0 R{form} >>"),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >>{annots} >>"
        ),
        format!(
            "<< /Length {} >>\nstream\n{}\nendstream",
            content.len(),
            String::from_utf8_lossy(content)
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    if field {
        objs.push(format!(
            "<< /FT /Sig /T (Approval) /Type /Annot /Subtype /Widget /Rect [{}] /F 132 /P 3 0 R >>",
            rect.unwrap_or_default()
        ));
    }
    let mut b = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offs = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        offs.push(b.len());
        b.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let x = b.len();
    b.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f\r\n", objs.len() + 1).as_bytes());
    for o in offs {
        b.extend_from_slice(format!("{o:010} 00000 n\r\n").as_bytes());
    }
    b.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{x}\n%%EOF\n",
            objs.len() + 1
        )
        .as_bytes(),
    );
    b
}

impl Env {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let pki = DevPki::generate(SystemClock.now().unwrap(), KeyAlg::P256).unwrap();
        std::fs::write(dir.path().join("eseal.key"), pki.eseal_key_pem.as_bytes()).unwrap();
        std::fs::write(dir.path().join("tsa.key"), pki.tsa_key_pem.as_bytes()).unwrap();
        for k in ["eseal.key", "tsa.key"] {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(dir.path().join(k), std::fs::Permissions::from_mode(0o600))
                .unwrap();
        }
        common::write_pki_files(dir.path(), &pki);
        let tsa = common::TestTsa::start(dir.path());
        Self {
            tsa_url: tsa.url(),
            dir,
            pki,
            _tsa: tsa,
        }
    }

    fn p(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn opts(&self, level: Level) -> Options {
        let mut o = Options::new(
            &self.p("eseal.key").display().to_string(),
            &self.p("eseal-chain.pem"),
        );
        o.level = level;
        o.progress = false;
        o.fetch = false;
        if level >= Level::BT {
            o.tsa = Some(self.tsa_url.clone());
        }
        if level >= Level::BLT {
            o.crls = vec![self.p("crl.der")];
        }
        o
    }

    fn sign(&self, o: &Options, input: &Path) -> Result<PathBuf, String> {
        let s = sign::sign_files(o, &[input.to_owned()], &SystemClock).unwrap();
        result(&s.files[0])
    }

    fn verify(&self, pdf: &Path) -> Report {
        self.verify_with(pdf, vec![self.pki.crl_der.clone()])
    }

    /// `inkan-verify` with revocation required and only `crls` beside the PDF's own DSS.
    fn verify_with(&self, pdf: &Path, crls: Vec<Vec<u8>>) -> Report {
        let input = inkan_verifier::Input {
            bytes: std::fs::read(pdf).unwrap(),
        };
        let opts = inkan_verifier::Options {
            trust: vec![self.pki.root_pem().into_bytes()],
            crls,
            revocation_required: true,
            ..Default::default()
        };
        inkan_verifier::verify(&input, &opts, SystemClock.now().unwrap()).unwrap()
    }
}

fn tool(dir: &Path, prog: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(prog)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{prog} must be installed (Debian qpdf / poppler-utils): {e}"));
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// `qpdf --check` finds no error and poppler's `pdfsig` says every signature is valid and
/// the last one covers the whole document.
fn independent_checks(dir: &Path, pdf: &Path) {
    independent_checks_cover(dir, pdf, true);
}

/// [`independent_checks`]; `whole`: the last signature covers the whole file (no DSS or
/// document time-stamp revision after it).
fn independent_checks_cover(dir: &Path, pdf: &Path, whole: bool) {
    let f = pdf.to_str().unwrap();
    let (ok, text) = tool(dir, "qpdf", &["--check", f]);
    assert!(
        ok && text.contains("No syntax or stream encoding errors"),
        "qpdf: {text}"
    );
    let (_, text) = tool(dir, "pdfsig", &["-nocert", f]);
    assert!(
        text.contains("Signature Validation: Signature is Valid."),
        "pdfsig: {text}"
    );
    assert!(!text.contains("Signature is Invalid"), "pdfsig: {text}");
    assert_eq!(
        text.contains("Total document signed"),
        whole,
        "pdfsig: {text}"
    );
}

#[test]
fn pades_b_b_and_b_t_judged_by_qpdf_pdfsig_and_inkan_verify() {
    let env = Env::new();
    let d = env.dir.path();
    let original = simple_pdf();
    let input = env.p("invoice.pdf");
    std::fs::write(&input, &original).unwrap();
    for (level, name) in [(Level::BB, "b-b"), (Level::BT, "b-t")] {
        let mut o = env.opts(level);
        o.out = Some(env.p(&format!("invoice-{name}.pdf")));
        let out = env.sign(&o, &input).unwrap();
        let signed = std::fs::read(&out).unwrap();
        assert_eq!(
            &signed[..original.len()],
            &original[..],
            "earlier bytes unchanged"
        );
        independent_checks(d, &out);
        let r = env.verify(&out);
        assert_eq!(
            r.indication,
            Indication::TotalPassed,
            "{level}: {}",
            r.to_json()
        );
        assert_eq!(r.signers.len(), 1);
        let place = r.signers[0].pdf.as_ref().unwrap();
        assert_eq!(place.kind, "PAdES signature");
        assert_eq!(place.field, "Signature1");
        assert_eq!(place.revision, 2);
        assert_eq!(place.covers, "the whole document");
        let json = r.to_json();
        assert!(
            json.contains("\"field\"")
                && json.contains("\"revision\"")
                && json.contains("\"kind\""),
            "{json}"
        );
        if level == Level::BT {
            assert!(
                !r.time_stamps.is_empty(),
                "B-T carries a signature time-stamp"
            );
        }
        // A byte flipped inside the signed range (the original page content).
        let mut bad = signed.clone();
        let at = original.windows(7).position(|w| w == b"Invoice").unwrap();
        bad[at] = b'X';
        let badp = env.p(&format!("tampered-{name}.pdf"));
        std::fs::write(&badp, &bad).unwrap();
        let r = env.verify(&badp);
        assert_eq!(r.indication, Indication::TotalFailed, "{}", r.to_json());
        assert_eq!(r.sub_indication, Some(Sub::HashFailure));
    }
    // The default output name.
    let o = env.opts(Level::BB);
    assert_eq!(env.sign(&o, &input).unwrap(), env.p("invoice-signed.pdf"));
    // It exists now: refused, not overwritten.
    assert!(
        env.sign(&o, &input)
            .unwrap_err()
            .contains("exists: give --force")
    );
}

/// B-LT writes a DSS revision and B-LTA a document time-stamp after it: the verifier
/// validates them with no revocation data but the DSS's, and the signature's later changes
/// are the permitted DSS and time-stamp.
#[test]
fn pades_b_lt_and_b_lta() {
    let env = Env::new();
    let d = env.dir.path();
    let input = env.p("archive.pdf");
    std::fs::write(&input, simple_pdf()).unwrap();
    // Without a DSS (B-T) and without --crl the revocation data is missing: not passed.
    let mut o = env.opts(Level::BT);
    o.out = Some(env.p("archive-b-t.pdf"));
    let bt = env.sign(&o, &input).unwrap();
    assert_ne!(
        env.verify_with(&bt, Vec::new()).indication,
        Indication::TotalPassed
    );
    for (level, name, revisions) in [(Level::BLT, "b-lt", 3), (Level::BLTA, "b-lta", 4)] {
        let mut o = env.opts(level);
        o.out = Some(env.p(&format!("archive-{name}.pdf")));
        let out = env.sign(&o, &input).unwrap();
        independent_checks_cover(d, &out, level == Level::BLTA);
        let r = env.verify_with(&out, Vec::new());
        assert_eq!(
            r.indication,
            Indication::TotalPassed,
            "{level}: {}",
            r.to_json()
        );
        let first = r.signers[0].pdf.as_ref().unwrap();
        assert_eq!(first.covers, format!("revision 2 of {revisions}"));
        assert!(
            first.later_changes.iter().any(|c| c.contains("DSS")),
            "{:?}",
            first.later_changes
        );
        if level == Level::BLTA {
            assert_eq!(
                r.signers[1].pdf.as_ref().unwrap().kind,
                "document time-stamp"
            );
        }
    }
}

#[test]
fn second_signature_xref_streams_and_refusals() {
    let env = Env::new();
    let d = env.dir.path();
    let plain = env.p("plain.pdf");
    std::fs::write(&plain, simple_pdf()).unwrap();
    // An object-stream / xref-stream variant made by qpdf.
    let (ok, text) = tool(
        d,
        "qpdf",
        &["--object-streams=generate", "plain.pdf", "objstm.pdf"],
    );
    assert!(ok, "{text}");
    let mut o = env.opts(Level::BB);
    o.out = Some(env.p("objstm-signed.pdf"));
    let once = env.sign(&o, &env.p("objstm.pdf")).unwrap();
    independent_checks(d, &once);
    assert_eq!(env.verify(&once).indication, Indication::TotalPassed);
    // A second signature on top: both still valid, the first covers revision 2 of 3 and the
    // later change is a permitted new signature.
    let mut o = env.opts(Level::BB);
    o.out = Some(env.p("twice.pdf"));
    let twice = env.sign(&o, &once).unwrap();
    independent_checks(d, &twice);
    let r = env.verify(&twice);
    assert_eq!(r.indication, Indication::TotalPassed, "{}", r.to_json());
    let first = r.signers[0].pdf.as_ref().unwrap();
    assert_eq!(first.field, "Signature1");
    assert_eq!(first.covers, "revision 2 of 3");
    assert_eq!(r.signers[1].pdf.as_ref().unwrap().field, "Signature2");
    // An encrypted PDF is refused and nothing is written.
    let (ok, text) = tool(
        d,
        "qpdf",
        &[
            "--encrypt",
            "",
            "owner",
            "256",
            "--",
            "plain.pdf",
            "locked.pdf",
        ],
    );
    assert!(ok, "{text}");
    let mut o = env.opts(Level::BB);
    o.out = Some(env.p("locked-signed.pdf"));
    let e = env.sign(&o, &env.p("locked.pdf")).unwrap_err();
    assert!(e.contains("encrypted"), "{e}");
    assert!(!env.p("locked-signed.pdf").exists());
    // A PDF without signatures is INDETERMINATE / SIGNED_DATA_NOT_FOUND for the verifier.
    let r = env.verify(&plain);
    assert_eq!(r.indication, Indication::Indeterminate);
    assert_eq!(r.sub_indication, Some(Sub::SignedDataNotFound));
}

/// An incremental saving attack: after signing, a new revision replaces the page content.
/// The signature still verifies over its revision, but the document is not TOTAL-PASSED.
#[test]
fn content_changed_after_signing_is_caught() {
    let env = Env::new();
    let input = env.p("deal.pdf");
    std::fs::write(&input, simple_pdf()).unwrap();
    let signed = env.sign(&env.opts(Level::BB), &input).unwrap();
    let bytes = std::fs::read(&signed).unwrap();
    let doc = inkan_profiles::pdf::Document::new(&bytes).unwrap();
    let x = doc.xref().unwrap();
    let mut u = inkan_profiles::pdf::write::Update::new(&bytes, &x, doc.last_startxref().unwrap());
    let evil = b"BT /F1 24 Tf 72 700 Td (Invoice 2026-0042: 99,000 JPY) Tj ET";
    u.add_stream(4, inkan_profiles::pdf::Dict::default(), evil);
    let attacked = env.p("deal-attacked.pdf");
    std::fs::write(&attacked, u.finish()).unwrap();
    let r = env.verify(&attacked);
    assert_eq!(r.indication, Indication::Indeterminate, "{}", r.to_json());
    assert_eq!(r.sub_indication, Some(Sub::SigConstraintsFailure));
    assert!(
        r.findings
            .iter()
            .any(|f| f.code == "PDF_MODIFIED_AFTER_SIGNING" && f.message.contains("revision 3")),
        "{}",
        r.to_json()
    );
}

/// `inkan-sign timestamp`: a document time-stamp on a signed PDF (B-B + document
/// time-stamp, the way PAdES B-T may be reached) and a `.tsr` for another file, judged by
/// `qpdf --check` and `inkan-verify`.
#[test]
fn document_time_stamps_and_tsr_files() {
    use inkan_signer::timestamp::{TimestampOptions, timestamp_files};
    let env = Env::new();
    let d = env.dir.path();
    let input = env.p("notice.pdf");
    std::fs::write(&input, simple_pdf()).unwrap();
    let signed = env.sign(&env.opts(Level::BB), &input).unwrap();
    let other = env.p("ledger.csv");
    std::fs::write(&other, b"date,amount\n2026-12-07,10000\n").unwrap();
    let o = TimestampOptions::new(&env.tsa_url);
    let s = timestamp_files(&o, &[signed.clone(), other.clone()]).unwrap();
    assert_eq!(s.failed(), 0, "{:?}", s.files);
    let ts_pdf = env.p("notice-signed-timestamped.pdf");
    assert_eq!(result(&s.files[0]).unwrap(), ts_pdf);
    let (ok, text) = tool(d, "qpdf", &["--check", ts_pdf.to_str().unwrap()]);
    assert!(ok, "qpdf: {text}");
    let r = env.verify(&ts_pdf);
    assert_eq!(r.indication, Indication::TotalPassed, "{}", r.to_json());
    let kinds: Vec<&str> = r
        .signers
        .iter()
        .map(|g| g.pdf.as_ref().unwrap().kind.as_str())
        .collect();
    assert_eq!(kinds, ["PAdES signature", "document time-stamp"]);
    let first = r.signers[0].pdf.as_ref().unwrap();
    assert_eq!(first.covers, "revision 2 of 3");
    assert!(!first.later_changes.is_empty());
    // The .tsr is the TSA's TimeStampResp over the file.
    let tsr = env.p("ledger.csv.tsr");
    assert_eq!(result(&s.files[1]).unwrap(), tsr);
    let report = inkan_verifier::verify(
        &inkan_verifier::Input {
            bytes: std::fs::read(&tsr).unwrap(),
        },
        &inkan_verifier::Options {
            data: inkan_verifier::Data::File(other.clone()),
            trust: vec![env.pki.root_pem().into_bytes()],
            crls: vec![env.pki.crl_der.clone()],
            revocation_required: true,
            ..Default::default()
        },
        SystemClock.now().unwrap(),
    )
    .unwrap();
    assert_eq!(report.kind, "RFC 3161 TimeStampResp");
    assert_eq!(
        report.indication,
        Indication::TotalPassed,
        "{}",
        report.to_json()
    );
    // Outputs are never overwritten silently.
    let again = timestamp_files(&o, &[other]).unwrap();
    let e = result(&again.files[0]).unwrap_err();
    assert!(e.contains("exists: give --force"), "{e}");
}

/// The command line: an empty signature field named by `--field` is filled, `--in-place`
/// replaces the input, a field already signed is refused.
#[test]
fn cli_field_and_in_place() {
    let env = Env::new();
    let input = env.p("form.pdf");
    let original = pdf_with(true);
    std::fs::write(&input, &original).unwrap();
    let run = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_inkan-sign"))
            .args(["--key", env.p("eseal.key").to_str().unwrap()])
            .args(["--cert-chain", env.p("eseal-chain.pem").to_str().unwrap()])
            .args(extra)
            .arg(&input)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, text) = run(&["--field", "Approval", "--in-place"]);
    assert_eq!(code, Some(0), "{text}");
    let signed = std::fs::read(&input).unwrap();
    assert_eq!(&signed[..original.len()], &original[..]);
    independent_checks(env.dir.path(), &input);
    let r = env.verify(&input);
    assert_eq!(r.indication, Indication::TotalPassed, "{}", r.to_json());
    assert_eq!(r.signers[0].pdf.as_ref().unwrap().field, "Approval");
    let (code, text) = run(&["--field", "Approval", "--in-place"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("already signed"), "{text}");
    assert_eq!(std::fs::read(&input).unwrap(), signed, "nothing written");
}

/// pyHanko 0.38 (PyPI) in a virtual environment under the target directory, installed on
/// first use (`INKAN_PYHANKO_VENV` names another one): its `python`.
fn pyhanko_python() -> PathBuf {
    static VENV: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    VENV.get_or_init(|| {
        inkan_test_support::pyhanko_python(
            &Path::new(env!("CARGO_TARGET_TMPDIR")).join("pyhanko-venv"),
        )
    })
    .clone()
}

/// pyHanko's verdict on every signature of `pdf` (see `tests/pyhanko/validate.py`).
fn pyhanko_validate(env: &Env, pdf: &Path, mode: &str) -> (bool, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pyhanko/validate.py");
    let out = Command::new(pyhanko_python())
        .arg(script)
        .arg(pdf)
        .arg(env.p("root.pem"))
        .arg(mode)
        .arg(env.p("crl.der"))
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// pyHanko validates what inkan signs at every level, the DSS alone sufficing from B-LT up
/// (revocation hard-fail), and the document time-stamps of `inkan-sign timestamp`.
#[test]
fn pyhanko_validates_every_level() {
    let env = Env::new();
    let input = env.p("pyh.pdf");
    std::fs::write(&input, simple_pdf()).unwrap();
    for (level, name) in [
        (Level::BB, "b-b"),
        (Level::BT, "b-t"),
        (Level::BLT, "b-lt"),
        (Level::BLTA, "b-lta"),
    ] {
        let mut o = env.opts(level);
        o.out = Some(env.p(&format!("pyh-{name}.pdf")));
        let out = env.sign(&o, &input).unwrap();
        let mode = if level >= Level::BLT { "dss" } else { "soft" };
        let (ok, text) = pyhanko_validate(&env, &out, mode);
        assert!(ok, "pyHanko on {level}: {text}");
    }
    let o = inkan_signer::timestamp::TimestampOptions::new(&env.tsa_url);
    let s = inkan_signer::timestamp::timestamp_files(&o, &[input]).unwrap();
    let ts = result(&s.files[0]).unwrap();
    let (ok, text) = pyhanko_validate(&env, &ts, "soft");
    assert!(ok, "pyHanko on a document time-stamp: {text}");
}

/// Signs `src` with pyHanko at `level` (see `tests/pyhanko/sign.py`), certifying with
/// DocMDP `certify` when given; returns the new file `pyhanko-LEVEL[-pP].pdf`.
fn pyhanko_sign(env: &Env, src: &Path, level: &str, certify: Option<u8>) -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pyhanko/sign.py");
    let dst = env.p(&match certify {
        Some(p) => format!("pyhanko-{level}-p{p}.pdf"),
        None => format!("pyhanko-{level}.pdf"),
    });
    let mut cmd = Command::new(pyhanko_python());
    cmd.arg(&script)
        .arg(src)
        .arg(&dst)
        .arg(env.p("eseal.key"))
        .arg(env.p("eseal-chain.pem"))
        .arg(level)
        .arg(&env.tsa_url)
        .arg(env.p("root.pem"))
        .arg(env.p("crl.der"));
    if let Some(p) = certify {
        cmd.arg(p.to_string());
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "pyHanko signing {level}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dst
}

/// Certification signatures made by pyHanko (ISO 32000-1 §12.8.2.2 DocMDP): P=1 is valid
/// alone, inkan-sign refuses to sign it (nothing written) but may time-stamp it (ISO
/// 32000-2); P=2 takes inkan's approval signature and both validate (inkan-verify and
/// pyHanko).
#[test]
fn certified_documents_docmdp() {
    let env = Env::new();
    let input = env.p("cert.pdf");
    std::fs::write(&input, simple_pdf()).unwrap();
    let p1 = pyhanko_sign(&env, &input, "b-b", Some(1));
    let r = env.verify(&p1);
    assert_eq!(r.indication, Indication::TotalPassed, "{}", r.to_json());
    let mut o = env.opts(Level::BB);
    o.out = Some(env.p("p1-signed.pdf"));
    let e = env.sign(&o, &p1).unwrap_err();
    assert!(e.contains("DocMDP P=1"), "{e}");
    assert!(!env.p("p1-signed.pdf").exists());
    let t = inkan_signer::timestamp::TimestampOptions::new(&env.tsa_url);
    let s = inkan_signer::timestamp::timestamp_files(&t, &[p1]).unwrap();
    let ts = result(&s.files[0]).unwrap();
    let r = env.verify(&ts);
    assert_eq!(r.indication, Indication::TotalPassed, "{}", r.to_json());
    let p2 = pyhanko_sign(&env, &input, "b-b", Some(2));
    let mut o = env.opts(Level::BB);
    o.out = Some(env.p("p2-signed.pdf"));
    let both = env.sign(&o, &p2).unwrap();
    let r = env.verify(&both);
    assert_eq!(r.indication, Indication::TotalPassed, "{}", r.to_json());
    assert_eq!(r.signers.len(), 2);
    let (ok, text) = pyhanko_validate(&env, &both, "soft");
    assert!(ok, "pyHanko on a P=2 document signed by inkan: {text}");
}

/// inkan-verify judges what pyHanko signs at every level: TOTAL-PASSED, the DSS alone
/// sufficing from B-LT up; and a pyHanko signature on a PDF inkan signed before keeps both.
#[test]
fn inkan_verify_judges_pyhanko_pdfs() {
    let env = Env::new();
    let input = env.p("from-pyhanko.pdf");
    std::fs::write(&input, simple_pdf()).unwrap();
    let sign = |src: &Path, level: &str| pyhanko_sign(&env, src, level, None);
    for level in ["b-b", "b-t", "b-lt", "b-lta"] {
        let pdf = sign(&input, level);
        let dss_only = level == "b-lt" || level == "b-lta";
        let r = if dss_only {
            env.verify_with(&pdf, Vec::new())
        } else {
            env.verify(&pdf)
        };
        assert_eq!(
            r.indication,
            Indication::TotalPassed,
            "{level}: {}",
            r.to_json()
        );
        assert_eq!(r.signers[0].pdf.as_ref().unwrap().field, "PyHankoSignature");
    }
    // pyHanko countersigns a PDF inkan signed: both signatures stand.
    let ours = env.sign(&env.opts(Level::BB), &input).unwrap();
    let both = sign(&ours, "b-b");
    let r = env.verify(&both);
    assert_eq!(r.indication, Indication::TotalPassed, "{}", r.to_json());
    assert_eq!(r.signers.len(), 2);
}

/// The published PDF signature attacks, built on a signed PDF, must not give TOTAL-PASSED:
/// universal signature forgery (the signature value emptied in a later revision), signature
/// wrapping (a ByteRange that leaves bytes out), incremental saving and shadow attacks (a
/// page added, the catalog given an action, an annotation drawn over the page, an object
/// freed), each named in a finding.
#[test]
fn pdf_signature_attacks_are_caught() {
    use inkan_profiles::pdf::{Dict, Document, Object, Ref, write::Update};
    let env = Env::new();
    let input = env.p("target.pdf");
    std::fs::write(&input, simple_pdf()).unwrap();
    let signed = std::fs::read(env.sign(&env.opts(Level::BB), &input).unwrap()).unwrap();
    let doc = Document::new(&signed).unwrap();
    let x = doc.xref().unwrap();
    let prev = doc.last_startxref().unwrap();
    let root = doc.dict_of(&x, x.trailer.get(b"Root")).unwrap();
    let form = doc.dict_of(&x, root.get(b"AcroForm")).unwrap();
    let Some(Object::Array(fields)) = form.get(b"Fields").cloned() else {
        panic!("no fields")
    };
    let field = doc.dict_of(&x, Some(&fields[0])).unwrap();
    let Some(Object::Ref(sig_ref)) = field.get(b"V").cloned() else {
        panic!()
    };
    let page = doc
        .dict_of(
            &x,
            Some(&Object::Ref(Ref {
                num: 3,
                generation: 0,
            })),
        )
        .unwrap();
    let judge = |name: &str, bytes: Vec<u8>, want: &[&str]| {
        let p = env.p(&format!("attack-{name}.pdf"));
        std::fs::write(&p, bytes).unwrap();
        let r = env.verify(&p);
        assert_ne!(
            r.indication,
            Indication::TotalPassed,
            "{name}: {}",
            r.to_json()
        );
        let codes: Vec<&str> = r
            .findings
            .iter()
            .chain(r.signers.iter().flat_map(|g| g.findings.iter()))
            .map(|f| f.code)
            .collect();
        assert!(
            want.iter().any(|w| codes.contains(w)),
            "{name}: expected one of {want:?} in {codes:?}"
        );
    };
    // USF: the signature dictionary replaced by one with an empty /Contents.
    let mut u = Update::new(&signed, &x, prev);
    let mut forged = doc.dict_of(&x, Some(&Object::Ref(sig_ref))).unwrap();
    forged.set(
        b"Contents",
        Object::Str(inkan_profiles::pdf::PdfString {
            bytes: Vec::new(),
            hex: true,
            span: None,
        }),
    );
    u.add(sig_ref.num, &Object::Dict(forged));
    judge(
        "usf",
        u.finish(),
        &["PDF_SIG_DICT_REPLACED", "PDF_BYTERANGE"],
    );
    // SWA: the ByteRange rewritten in place to end before the file does.
    let mut wrapped = signed.clone();
    let at = wrapped
        .windows(11)
        .rposition(|w| w == b"/ByteRange ")
        .unwrap()
        + 11;
    let end = at + wrapped[at..].iter().position(|&b| b == b']').unwrap();
    let old = String::from_utf8(wrapped[at + 1..end].to_vec()).unwrap();
    let n: Vec<usize> = old.split_whitespace().map(|v| v.parse().unwrap()).collect();
    let new = format!("{} {} {} {}", n[0], n[1], n[2], n[3] - 50);
    let new = format!("{new:<width$}", width = old.len());
    wrapped[at + 1..end].copy_from_slice(new.as_bytes());
    judge("swa", wrapped, &["PDF_BYTERANGE"]);
    // Incremental saving: a second page appended to the page tree.
    let mut u = Update::new(&signed, &x, prev);
    let n = u.alloc();
    let mut p2 = Dict::default();
    p2.set(b"Type", Object::Name(b"Page".to_vec()));
    p2.set(
        b"Parent",
        Object::Ref(Ref {
            num: 2,
            generation: 0,
        }),
    );
    p2.set(b"MediaBox", page.get(b"MediaBox").unwrap().clone());
    u.add(n, &Object::Dict(p2));
    let mut pages = doc.dict_of(&x, root.get(b"Pages")).unwrap();
    pages.set(
        b"Kids",
        Object::Array(vec![
            Object::Ref(Ref {
                num: 3,
                generation: 0,
            }),
            Object::Ref(Ref {
                num: n,
                generation: 0,
            }),
        ]),
    );
    pages.set(b"Count", Object::Int(2));
    u.add(2, &Object::Dict(pages));
    judge("isa-page", u.finish(), &["PDF_MODIFIED_AFTER_SIGNING"]);
    // The catalog given an action run on opening.
    let mut u = Update::new(&signed, &x, prev);
    let mut r2 = root.clone();
    r2.set(
        b"OpenAction",
        Object::Array(vec![
            Object::Ref(Ref {
                num: 3,
                generation: 0,
            }),
            Object::Name(b"Fit".to_vec()),
        ]),
    );
    let Some(Object::Ref(root_ref)) = x.trailer.get(b"Root").cloned() else {
        panic!()
    };
    u.add(root_ref.num, &Object::Dict(r2));
    judge("catalog", u.finish(), &["PDF_MODIFIED_AFTER_SIGNING"]);
    // Shadow "hide": an opaque annotation drawn over the page after an approval signature.
    let mut u = Update::new(&signed, &x, prev);
    let n = u.alloc();
    let mut a = Dict::default();
    a.set(b"Type", Object::Name(b"Annot".to_vec()));
    a.set(b"Subtype", Object::Name(b"Square".to_vec()));
    a.set(
        b"Rect",
        Object::Array(vec![
            Object::Int(0),
            Object::Int(0),
            Object::Int(595),
            Object::Int(842),
        ]),
    );
    a.set(
        b"IC",
        Object::Array(vec![Object::Int(1), Object::Int(1), Object::Int(1)]),
    );
    u.add(n, &Object::Dict(a));
    let mut p = page.clone();
    let mut annots = match p.get(b"Annots") {
        Some(Object::Array(v)) => v.clone(),
        _ => Vec::new(),
    };
    annots.push(Object::Ref(Ref {
        num: n,
        generation: 0,
    }));
    p.set(b"Annots", Object::Array(annots));
    u.add(3, &Object::Dict(p));
    judge(
        "shadow-annotation",
        u.finish(),
        &["PDF_MODIFIED_AFTER_SIGNING"],
    );
    // An object freed: a classic xref section marking the font object free.
    let mut freed = signed.clone();
    if !freed.ends_with(b"\n") {
        freed.push(b'\n');
    }
    let xref_at = freed.len();
    freed.extend_from_slice(b"xref\n5 1\n0000000000 00001 f\r\n");
    freed.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root {} 0 R /Prev {prev} >>\nstartxref\n{xref_at}\n%%EOF\n",
            x.size(),
            root_ref.num
        )
        .as_bytes(),
    );
    judge("freed", freed, &["PDF_MODIFIED_AFTER_SIGNING"]);
    // Objects appended after the last %%EOF, without a complete revision.
    let mut tail = signed.clone();
    tail.extend_from_slice(
        b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >>\nendobj\n",
    );
    judge("appended", tail, &["PDF_MODIFIED_AFTER_SIGNING"]);
    // A new signature field whose value is the existing, already signed dictionary.
    let mut u = Update::new(&signed, &x, prev);
    let n = u.alloc();
    let mut f2 = field.clone();
    f2.set(b"T", inkan_profiles::pdf::write::text_string("Copy"));
    u.add(n, &Object::Dict(f2));
    let mut form2 = form.clone();
    let mut list = fields.clone();
    list.push(Object::Ref(Ref {
        num: n,
        generation: 0,
    }));
    form2.set(b"Fields", Object::Array(list));
    match root.get(b"AcroForm") {
        Some(Object::Ref(fr)) => u.add(fr.num, &Object::Dict(form2)),
        _ => panic!("the signer writes the form as an object"),
    }
    judge("reused-value", u.finish(), &["PDF_MODIFIED_AFTER_SIGNING"]);
}

/// `extend` on PDFs: inkan's B-B and pyHanko's B-B raised to B-LT (a DSS enough for
/// revocation hard-fail in pyHanko and inkan-verify) and B-LTA, then the B-LTA renewed with
/// a second document time-stamp.
#[test]
fn extend_pdfs_to_b_lt_and_b_lta() {
    use inkan_signer::sign::ExtendOptions;
    let env = Env::new();
    let input = env.p("ext.pdf");
    std::fs::write(&input, simple_pdf()).unwrap();
    let ours = env.sign(&env.opts(Level::BB), &input).unwrap();
    let theirs = pyhanko_sign(&env, &input, "b-b", None);
    let now = SystemClock.now().unwrap();
    for (name, start) in [("ours", ours), ("pyhanko", theirs)] {
        let mut o = ExtendOptions::new(Level::BLT);
        o.crls = vec![env.p("crl.der")];
        o.fetch = false;
        o.out = Some(env.p(&format!("{name}-lt.pdf")));
        let lt = sign::extend(&o, &start, now).unwrap();
        let r = env.verify_with(&lt, Vec::new());
        assert_eq!(
            r.indication,
            Indication::TotalPassed,
            "{name} B-LT: {}",
            r.to_json()
        );
        let (ok, text) = pyhanko_validate(&env, &lt, "dss");
        assert!(ok, "pyHanko on {name} extended to B-LT: {text}");
        let mut o = ExtendOptions::new(Level::BLTA);
        o.crls = vec![env.p("crl.der")];
        o.fetch = false;
        o.tsa = Some(env.tsa_url.clone());
        o.out = Some(env.p(&format!("{name}-lta.pdf")));
        let lta = sign::extend(&o, &lt, now).unwrap();
        // Renewal: the same again over the B-LTA (in place).
        o.out = None;
        let renewed = sign::extend(&o, &lta, now).unwrap();
        assert_eq!(renewed, lta);
        let r = env.verify_with(&renewed, Vec::new());
        assert_eq!(
            r.indication,
            Indication::TotalPassed,
            "{name} B-LTA: {}",
            r.to_json()
        );
        let ts = r
            .signers
            .iter()
            .filter(|g| g.pdf.as_ref().unwrap().kind == "document time-stamp")
            .count();
        assert_eq!(ts, 2, "two document time-stamps after renewal");
        let (ok, text) = pyhanko_validate(&env, &renewed, "dss");
        assert!(ok, "pyHanko on {name} renewed B-LTA: {text}");
    }
}

/// A document time-stamp is proof of existence for the revisions before it (ISO 32000-2
/// §12.8.5, EN 319 102-1 §5.6): three years on, the e-seal certificate (two years) has
/// expired, yet the B-LT signature still validates thanks to a document time-stamp made
/// while it was valid by a TSA whose certificate lives longer; without it, it does not.
#[test]
fn document_time_stamp_is_proof_of_existence_after_expiry() {
    use inkan_hsm::devpki::DevPkiOptions;
    let env = Env::new();
    let now = SystemClock.now().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    let mut ob = DevPkiOptions::new(now, KeyAlg::P256);
    ob.ca_validity_secs = 30 * 365 * 86_400;
    ob.leaf_validity_secs = 20 * 365 * 86_400;
    let pki_b = DevPki::generate_with(&ob).unwrap();
    std::fs::write(dir_b.path().join("tsa.key"), pki_b.tsa_key_pem.as_bytes()).unwrap();
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(
            dir_b.path().join("tsa.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
    }
    common::write_pki_files(dir_b.path(), &pki_b);
    let tsa_b = common::TestTsa::start(dir_b.path());
    let input = env.p("lasting.pdf");
    std::fs::write(&input, simple_pdf()).unwrap();
    let lt = env.sign(&env.opts(Level::BLT), &input).unwrap();
    let t = inkan_signer::timestamp::TimestampOptions::new(&tsa_b.url());
    let lta = timestamp_files_one(&t, &lt);
    let later = inkan_profiles::time::UnixTime::from_secs(now.secs() + 3 * 365 * 86_400);
    let judge = |pdf: &Path| {
        inkan_verifier::verify(
            &inkan_verifier::Input {
                bytes: std::fs::read(pdf).unwrap(),
            },
            &inkan_verifier::Options {
                trust: vec![
                    env.pki.root_pem().into_bytes(),
                    pki_b.root_pem().into_bytes(),
                ],
                revocation_required: false,
                ..Default::default()
            },
            later,
        )
        .unwrap()
    };
    let r = judge(&lt);
    assert_ne!(r.indication, Indication::TotalPassed, "{}", r.to_json());
    let r = judge(&lta);
    assert_eq!(r.indication, Indication::TotalPassed, "{}", r.to_json());
}

fn timestamp_files_one(o: &inkan_signer::timestamp::TimestampOptions, p: &Path) -> PathBuf {
    let s = inkan_signer::timestamp::timestamp_files(o, &[p.to_owned()]).unwrap();
    result(&s.files[0]).unwrap()
}

/// One input's outcome as the output written or why not.
fn result(f: &sign::FileResult) -> Result<PathBuf, String> {
    match (&f.status, &f.output) {
        (sign::Status::Signed, Some(out)) => Ok(out.clone()),
        (status, _) => Err(format!("{status:?}")),
    }
}

/// The batch rules hold for PDFs (the batch rule "nothing is overwritten silently"): a mixed
/// batch writes `NAME-signed.pdf` and `FILE.p7s` with one report line each; run again over
/// the same folder, the signed PDFs are skipped as outputs of other inputs (no second seal on
/// a copy) and the existing outputs are refused, or kept with `--skip-existing`; two PDFs
/// with one `--out-dir` name collide before anything is signed; `--in-place` signs a whole
/// batch of PDFs in place; `timestamp` follows the same rules.
#[test]
fn pdf_batches_follow_the_batch_rules() {
    let env = Env::new();
    let d = env.dir.path();
    for n in ["a", "b", "c"] {
        std::fs::write(env.p(&format!("{n}.pdf")), simple_pdf()).unwrap();
    }
    std::fs::write(env.p("notes.txt"), b"notes\n").unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_inkan-sign"))
            .current_dir(d)
            .args(["--key", "eseal.key", "--cert-chain", "eseal-chain.pem"])
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // The report's lines (JSON, checked as text: the fields are written in a fixed order).
    let report = |name: &str| -> Vec<String> {
        std::fs::read_to_string(env.p(name))
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    };
    let (code, text) = run(&[
        "--report",
        "r1.jsonl",
        "a.pdf",
        "b.pdf",
        "c.pdf",
        "notes.txt",
    ]);
    assert_eq!(code, Some(0), "{text}");
    for n in ["a", "b", "c"] {
        let out = env.p(&format!("{n}-signed.pdf"));
        let r = env.verify(&out);
        assert_eq!(r.indication, Indication::TotalPassed, "{}", r.to_json());
    }
    assert!(env.p("notes.txt.p7s").exists());
    let r = report("r1.jsonl");
    assert!(
        r[0].contains(r#""output":"a-signed.pdf","status":"signed""#),
        "{r:?}"
    );
    assert!(
        r[3].contains(r#""output":"notes.txt.p7s","status":"signed""#),
        "{r:?}"
    );
    assert!(r[4].contains(r#""signed":4,"#), "{r:?}");
    let before = std::fs::read(env.p("a-signed.pdf")).unwrap();

    // The folder again, as a glob would name it.
    let all = [
        "a.pdf",
        "a-signed.pdf",
        "b.pdf",
        "b-signed.pdf",
        "c.pdf",
        "c-signed.pdf",
        "notes.txt",
        "notes.txt.p7s",
    ];
    let mut args = vec!["--report", "r2.jsonl"];
    args.extend(all);
    let (code, text) = run(&args);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("outputs of other inputs"), "{text}");
    let r = report("r2.jsonl");
    let status = |input: &str, status: &str| {
        let line = r
            .iter()
            .find(|l| l.starts_with(&format!(r#"{{"input":"{input}","#)))
            .unwrap();
        assert!(line.contains(&format!(r#""status":"{status}""#)), "{line}");
    };
    status("a-signed.pdf", "skipped");
    status("notes.txt.p7s", "skipped");
    status("a.pdf", "failed");
    assert_eq!(std::fs::read(env.p("a-signed.pdf")).unwrap(), before);
    assert!(!env.p("a-signed-signed.pdf").exists());
    let mut args = vec!["--skip-existing"];
    args.extend(all);
    let (code, text) = run(&args);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("signed 0 of 8"), "{text}");

    // One --out-dir for two PDFs of the same name: refused before any signature.
    std::fs::create_dir(env.p("x")).unwrap();
    std::fs::write(env.p("x/a.pdf"), simple_pdf()).unwrap();
    let (code, text) = run(&["--out-dir", "out", "a.pdf", "x/a.pdf"]);
    assert_eq!(code, Some(64), "{text}");
    assert!(text.contains("would write the same output"), "{text}");
    assert!(!env.p("out/a.pdf").exists());

    // --in-place over a batch.
    let (code, text) = run(&["--in-place", "b.pdf", "c.pdf"]);
    assert_eq!(code, Some(0), "{text}");
    for n in ["b", "c"] {
        let signed = std::fs::read(env.p(&format!("{n}.pdf"))).unwrap();
        assert!(signed.starts_with(&simple_pdf()));
        assert!(signed.len() > simple_pdf().len());
    }

    // timestamp: the same rules.
    let ts = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_inkan-sign"))
            .current_dir(d)
            .args(["timestamp", "--tsa", &env.tsa_url])
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, text) = ts(&["--report", "t.jsonl", "a.pdf", "notes.txt"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(env.p("a-timestamped.pdf").exists());
    assert!(env.p("notes.txt.tsr").exists());
    assert!(report("t.jsonl")[2].contains(r#""level":"timestamp""#));
    let (code, text) = ts(&["a.pdf", "a-timestamped.pdf", "notes.txt", "notes.txt.tsr"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("give --force"), "{text}");
    assert!(!env.p("a-timestamped-timestamped.pdf").exists());
    let (code, text) = ts(&["--force", "a.pdf", "notes.txt"]);
    assert_eq!(code, Some(0), "{text}");
}

/// A one-page PDF of about `mib` MiB written to `path` without holding it: the page's content
/// stream is mostly white space (what a large scan's image stream is, for a signer).
fn write_large_pdf(path: &Path, mib: usize) {
    use std::io::Write as _;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let text = b"BT /F1 24 Tf 72 700 Td (Large scan 2026-12) Tj ET\n";
    let pad = vec![b' '; 1 << 20];
    let len = text.len() + mib * pad.len();
    let mut at = 0usize;
    let mut offs = Vec::new();
    let put = |f: &mut std::io::BufWriter<std::fs::File>, at: &mut usize, b: &[u8]| {
        f.write_all(b).unwrap();
        *at += b.len();
    };
    put(&mut f, &mut at, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n");
    for (i, o) in [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
    ]
    .iter()
    .enumerate()
    {
        offs.push(at);
        put(&mut f, &mut at, format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    offs.push(at);
    put(
        &mut f,
        &mut at,
        format!("4 0 obj\n<< /Length {len} >>\nstream\n").as_bytes(),
    );
    put(&mut f, &mut at, text);
    for _ in 0..mib {
        put(&mut f, &mut at, &pad);
    }
    put(&mut f, &mut at, b"\nendstream\nendobj\n");
    offs.push(at);
    put(
        &mut f,
        &mut at,
        b"5 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>\nendobj\n",
    );
    let x = at;
    put(&mut f, &mut at, b"xref\n0 6\n0000000000 65535 f\r\n");
    for o in offs {
        put(&mut f, &mut at, format!("{o:010} 00000 n\r\n").as_bytes());
    }
    put(
        &mut f,
        &mut at,
        format!("trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n{x}\n%%EOF\n").as_bytes(),
    );
    f.flush().unwrap();
}

/// Peak resident memory in KiB of `cmd` (its `ru_maxrss`, read by a python3 wrapper through
/// `getrusage(RUSAGE_CHILDREN)`, so that nothing else of this test process counts), with its
/// exit status and standard error.
fn peak_rss_kib(cmd: &[&std::ffi::OsStr]) -> (u64, bool, String) {
    let wrapper = "import resource, subprocess, sys\n\
                   r = subprocess.run(sys.argv[1:], stderr=subprocess.PIPE)\n\
                   sys.stderr.buffer.write(r.stderr)\n\
                   print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n\
                   sys.exit(r.returncode)\n";
    let out = Command::new("python3")
        .args(["-c", wrapper])
        .args(cmd)
        .output()
        .expect("python3 (Debian python3)");
    let kib = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    (
        kib,
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Memory stays flat for large PDFs (issue 14): a 96 MiB PDF is signed by the `inkan-sign`
/// binary with a peak resident set under 64 MiB (the file is read by ranges, hashed as a
/// stream and copied to the output, never held), the output is the input followed by the
/// signature revision, and pdfsig and inkan-verify accept it. A document time-stamp of it
/// (`inkan-sign timestamp`) and its extension to B-LTA (`extend`: DSS and document
/// time-stamp) stay under the same bound. (Memory, not time, is asserted. The figure is an
/// upper bound: it includes the Python wrapper's own image before `exec`.)
#[test]
fn large_pdf_is_signed_in_flat_memory() {
    let env = Env::new();
    let input = env.p("large.pdf");
    write_large_pdf(&input, 96);
    let in_len = std::fs::metadata(&input).unwrap().len();
    let out = env.p("large-signed.pdf");
    let bin = Path::new(env!("CARGO_BIN_EXE_inkan-sign"));
    let (kib, ok, err) = peak_rss_kib(&[
        bin.as_os_str(),
        "--key".as_ref(),
        env.p("eseal.key").as_os_str(),
        "--cert-chain".as_ref(),
        env.p("eseal-chain.pem").as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        input.as_os_str(),
    ]);
    assert!(ok, "{err}");
    eprintln!("inkan-sign: peak resident set {kib} KiB for a 96 MiB PDF");
    assert!(
        kib < 64 * 1024,
        "inkan-sign peaked at {kib} KiB for a 96 MiB PDF"
    );
    // The input's bytes, unchanged, then one incremental update.
    let out_len = std::fs::metadata(&out).unwrap().len();
    assert!(out_len > in_len && out_len < in_len + 64 * 1024);
    {
        use std::io::{Read as _, Seek as _};
        let (mut a, mut b) = (
            std::fs::File::open(&input).unwrap(),
            std::fs::File::open(&out).unwrap(),
        );
        let (mut x, mut y) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
        for at in [0, in_len / 2, in_len - (1 << 20)] {
            a.seek(std::io::SeekFrom::Start(at)).unwrap();
            b.seek(std::io::SeekFrom::Start(at)).unwrap();
            a.read_exact(&mut x).unwrap();
            b.read_exact(&mut y).unwrap();
            assert!(x == y, "bytes at {at} changed");
        }
    }
    let (_, text) = tool(
        env.dir.path(),
        "pdfsig",
        &["-nocert", out.to_str().unwrap()],
    );
    assert!(
        text.contains("Signature Validation: Signature is Valid.")
            && text.contains("Total document signed"),
        "pdfsig: {text}"
    );
    let r = env.verify(&out);
    assert_eq!(r.indication, Indication::TotalPassed, "{}", r.to_json());
    assert_eq!(
        r.signers[0].pdf.as_ref().unwrap().covers,
        "the whole document"
    );
    // A document time-stamp of the signed file, in the same bound.
    let (kib, ok, err) = peak_rss_kib(&[
        bin.as_os_str(),
        "timestamp".as_ref(),
        "--tsa".as_ref(),
        env.tsa_url.as_ref(),
        out.as_os_str(),
    ]);
    assert!(ok, "{err}");
    eprintln!("inkan-sign timestamp: peak resident set {kib} KiB");
    assert!(kib < 64 * 1024, "inkan-sign timestamp peaked at {kib} KiB");
    let stamped = env.p("large-signed-timestamped.pdf");
    let (_, text) = tool(
        env.dir.path(),
        "pdfsig",
        &["-nocert", stamped.to_str().unwrap()],
    );
    assert!(text.contains("Signature is Valid."), "pdfsig: {text}");
    // `extend` to B-LTA (a DSS revision, then a document time-stamp), in the same bound.
    let lta = env.p("large-lta.pdf");
    let (kib, ok, err) = peak_rss_kib(&[
        bin.as_os_str(),
        "extend".as_ref(),
        "--level".as_ref(),
        "B-LTA".as_ref(),
        "--tsa".as_ref(),
        env.tsa_url.as_ref(),
        "--crl".as_ref(),
        env.p("crl.der").as_os_str(),
        "--no-fetch".as_ref(),
        "--out".as_ref(),
        lta.as_os_str(),
        out.as_os_str(),
    ]);
    assert!(ok, "{err}");
    eprintln!("inkan-sign extend: peak resident set {kib} KiB");
    assert!(kib < 64 * 1024, "inkan-sign extend peaked at {kib} KiB");
    let r = env.verify_with(&lta, Vec::new());
    assert_eq!(r.indication, Indication::TotalPassed, "{}", r.to_json());
}

/// The visible seal (`--seal-image PNG --page N --rect X1,Y1,X2,Y2`): the widget carries the
/// seal image in its normal appearance (`/AP /N`, an image XObject with its alpha as
/// `/SMask`) at the given place; qpdf, pdfsig, inkan-verify and pyHanko accept the result.
/// A page that does not exist, a rectangle off the page and a broken PNG are refused with
/// nothing written.
#[test]
fn visible_seal_image() {
    use inkan_profiles::pdf::{Document, Object};
    let env = Env::new();
    let d = env.dir.path();
    let input = env.p("notice.pdf");
    std::fs::write(&input, simple_pdf()).unwrap();
    let png = env.p("kakuin.png");
    let img = inkan_signer::seal::sample_seal(120);
    std::fs::write(&png, inkan_signer::seal::encode_png(&img)).unwrap();
    let run = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_inkan-sign"))
            .current_dir(d)
            .args(["--key", "eseal.key", "--cert-chain", "eseal-chain.pem"])
            .args(extra)
            .arg("notice.pdf")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, text) = run(&[
        "--seal-image",
        "kakuin.png",
        "--page",
        "1",
        "--rect",
        "400,650,520,770",
    ]);
    assert_eq!(code, Some(0), "{text}");
    let out = env.p("notice-signed.pdf");
    independent_checks(d, &out);
    let r = env.verify(&out);
    assert_eq!(r.indication, Indication::TotalPassed, "{}", r.to_json());
    let (ok, text) = pyhanko_validate(&env, &out, "soft");
    assert!(ok, "pyHanko: {text}");
    // The widget: its rectangle and its appearance with the image.
    let bytes = std::fs::read(&out).unwrap();
    let doc = Document::new(&bytes).unwrap();
    let x = doc.xref().unwrap();
    let root = doc.dict_of(&x, x.trailer.get(b"Root")).unwrap();
    let form = doc.dict_of(&x, root.get(b"AcroForm")).unwrap();
    let Ok(Object::Array(fields)) = doc.resolve(&x, form.get(b"Fields").unwrap()) else {
        panic!("no fields")
    };
    let widget = doc.dict_of(&x, fields.last()).unwrap();
    let Some(Object::Array(rect)) = widget.get(b"Rect") else {
        panic!("no /Rect")
    };
    let rect: Vec<f64> = rect
        .iter()
        .map(|o| match o {
            Object::Real(v) => *v,
            Object::Int(i) => *i as f64,
            _ => f64::NAN,
        })
        .collect();
    assert_eq!(rect, [400.0, 650.0, 520.0, 770.0]);
    let ap = doc.dict_of(&x, widget.get(b"AP")).expect("/AP");
    let Ok(Object::Stream(n)) = doc.resolve(&x, ap.get(b"N").expect("/AP /N")) else {
        panic!("/N is not a stream")
    };
    assert_eq!(n.dict.name(b"Subtype"), Some(&b"Form"[..]));
    let content = doc.decode(&n).unwrap();
    assert!(
        String::from_utf8_lossy(&content).contains("/Seal Do"),
        "{content:?}"
    );
    let res = doc.dict_of(&x, n.dict.get(b"Resources")).unwrap();
    let xo = doc.dict_of(&x, res.get(b"XObject")).unwrap();
    let Ok(Object::Stream(im)) = doc.resolve(&x, xo.get(b"Seal").unwrap()) else {
        panic!("no image")
    };
    assert_eq!(im.dict.name(b"Subtype"), Some(&b"Image"[..]));
    assert_eq!(im.dict.int(b"Width"), Some(120));
    assert_eq!(doc.decode(&im).unwrap(), img.color);
    let Ok(Object::Stream(mask)) = doc.resolve(&x, im.dict.get(b"SMask").unwrap()) else {
        panic!("no /SMask")
    };
    assert_eq!(&doc.decode(&mask).unwrap(), img.alpha.as_ref().unwrap());
    // Refusals, nothing written.
    std::fs::remove_file(&out).unwrap();
    for (args, says) in [
        (
            &[
                "--seal-image",
                "kakuin.png",
                "--page",
                "2",
                "--rect",
                "1,1,50,50",
            ][..],
            "the PDF has 1 page",
        ),
        (
            &["--seal-image", "kakuin.png", "--rect", "500,700,700,900"][..],
            "not within page 1",
        ),
        (&["--seal-image", "kakuin.png"][..], "needs --rect"),
        (
            &[
                "--seal-image",
                "kakuin.png",
                "--field",
                "New",
                "--page",
                "1",
            ][..],
            "--page goes with --rect",
        ),
        (&["--rect", "1,1,50,50"][..], "give --seal-image"),
        (
            &["--seal-image", "notice.pdf", "--rect", "1,1,50,50"][..],
            "not a PNG",
        ),
    ] {
        let (code, text) = run(args);
        assert_ne!(code, Some(0), "{args:?}");
        assert!(text.contains(says), "{args:?}: {text}");
        assert!(!out.exists(), "{args:?}: nothing written");
    }
    // A form's empty signature field (the seal box, 印 欄): the seal fills its box; an
    // invisible field or an attempt to move it is refused.
    std::fs::write(&input, pdf_with_field_at(Some("400 650 520 770"))).unwrap();
    let (code, text) = run(&[
        "--seal-image",
        "kakuin.png",
        "--field",
        "Approval",
        "--rect",
        "1,1,50,50",
    ]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("leave out --page and --rect"), "{text}");
    let (code, text) = run(&["--seal-image", "kakuin.png", "--field", "Approval"]);
    assert_eq!(code, Some(0), "{text}");
    independent_checks(d, &out);
    let r = env.verify(&out);
    assert_eq!(r.indication, Indication::TotalPassed, "{}", r.to_json());
    assert_eq!(r.signers[0].pdf.as_ref().unwrap().field, "Approval");
    let (ok, text) = pyhanko_validate(&env, &out, "soft");
    assert!(ok, "pyHanko: {text}");
    let bytes = std::fs::read(&out).unwrap();
    let doc = Document::new(&bytes).unwrap();
    let x = doc.xref().unwrap();
    let field = doc
        .dict_of(
            &x,
            Some(&Object::Ref(inkan_profiles::pdf::Ref {
                num: 6,
                generation: 0,
            })),
        )
        .unwrap();
    let ap = doc
        .dict_of(&x, field.get(b"AP"))
        .expect("/AP on the form's field");
    assert!(matches!(
        doc.resolve(&x, ap.get(b"N").unwrap()),
        Ok(Object::Stream(_))
    ));
    std::fs::remove_file(&out).unwrap();
    std::fs::write(&input, pdf_with(true)).unwrap();
    let (code, text) = run(&["--seal-image", "kakuin.png", "--field", "Approval"]);
    assert_ne!(code, Some(0), "{text}");
    assert!(text.contains("is invisible"), "{text}");
    assert!(!out.exists());
}
