//! Planning a batch before anything is signed (the batch rules of `inkan-sign`: "Nothing is
//! overwritten silently"): which inputs are the same file, which output each input writes,
//! which inputs would write the same output, and what to do with outputs that already exist.
//!
//! The rules, in order:
//! 1. The same file named twice (compared by canonical path, so `a/x`, `./a/x` and a symbolic
//!    link to it are one file) is signed once and counted once; a notice says so.
//! 2. A signature or time-stamp file (`.p7s`, `.p7m`, `.tsr`, any case) is *named on its own*
//!    when it is the only input of the run (after rule 1): then it is signed like any file
//!    (its signature is `NAME.p7s.p7s`). In a batch of several inputs (typically a glob such as
//!    `documents/*` run again after a first run) it is skipped, with one notice for all of them.
//!    Likewise, in a batch, an input that is the output of another input of the batch (a PDF
//!    `doc-signed.pdf` beside `doc.pdf` when `documents/*` is signed again) is skipped with
//!    one notice: signing it would put a second seal on a copy of the first.
//! 3. Two inputs whose outputs are the same file (`--out-dir t3/ a/x.pdf b/x.pdf`), or an
//!    output that is one of the inputs (`--out x x`), refuse the whole batch before any key is
//!    loaded or any time-stamp asked for, naming every colliding input.
//! 4. An output that already exists fails its input ("exists"), unless `--force` (replaced
//!    atomically when published) or `--skip-existing` (left as it is, the input counted as
//!    skipped, no signature made and no time-stamp asked for). Outputs that appear while the
//!    batch runs are never overwritten without `--force` either (see [`crate::output`]).
//!    With `--in-place` a PDF's output is the input itself, which is neither a collision nor
//!    an existing output.
//!
//! `inkan-sign timestamp` plans its batches by the same rules ([`plan_with`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::SetupError;
use crate::setup::{Existing, Options};

/// How the message of an input refused because its output exists ends.
pub const EXISTS_HINT: &str = "give --force to replace it, or --skip-existing to keep it";

/// File name extensions (lower case) of signature and time-stamp files.
pub const SIGNATURE_EXTENSIONS: [&str; 3] = ["p7s", "p7m", "tsr"];

/// What the batch does with one distinct input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Sign it.
    Sign,
    /// Leave it (why).
    Skip(String),
    /// Fail it without signing (why).
    Fail(String),
}

/// One distinct input and what the batch does with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    /// The input as named on the command line (its first mention).
    pub input: PathBuf,
    /// Its output, when it has one.
    pub output: Option<PathBuf>,
    /// What to do.
    pub action: Action,
}

/// A batch as it will run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// The distinct inputs, in the order first named.
    pub items: Vec<Planned>,
    /// Decisions about the inputs as a whole, to be shown once.
    pub notices: Vec<String>,
}

/// Whether `p` is named like a signature or time-stamp file.
pub fn is_signature_file(p: &Path) -> bool {
    p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        SIGNATURE_EXTENSIONS
            .iter()
            .any(|x| e.eq_ignore_ascii_case(x))
    })
}

/// What identifies a file: its device and inode when it exists (one `stat`, whatever path
/// names it: `x`, `./x`, a link), else its absolute path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum FileId {
    #[cfg(unix)]
    Inode(u64, u64),
    Path(PathBuf),
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_owned())
}

/// The identity of input `p` (following symbolic links: they are read through).
fn input_identity(p: &Path) -> FileId {
    #[cfg(unix)]
    if let Ok(m) = std::fs::metadata(p) {
        use std::os::unix::fs::MetadataExt as _;
        return FileId::Inode(m.dev(), m.ino());
    }
    FileId::Path(std::fs::canonicalize(p).unwrap_or_else(|_| absolute(p)))
}

/// The identity of an output path (which need not exist): its directory canonical (when it
/// exists: an `--out-dir` may not exist yet), joined with its file name. Directories are
/// resolved once each (a batch has few), through `dirs`.
fn output_identity(p: &Path, dirs: &mut HashMap<PathBuf, PathBuf>) -> PathBuf {
    let (Some(dir), Some(name)) = (p.parent(), p.file_name()) else {
        return absolute(p);
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let canonical = dirs
        .entry(dir.to_owned())
        .or_insert_with(|| std::fs::canonicalize(dir).unwrap_or_else(|_| absolute(dir)));
    canonical.join(name)
}

/// The identity of an existing output, to compare with the inputs' (not following a
/// symbolic link: publishing replaces the link, not what it points to).
fn existing_identity(m: &std::fs::Metadata, p: &Path) -> FileId {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        let _ = p;
        FileId::Inode(m.dev(), m.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = m;
        FileId::Path(std::fs::canonicalize(p).unwrap_or_else(|_| absolute(p)))
    }
}

/// At most this many names in one message; the rest are counted.
const NAMES_SHOWN: usize = 10;

fn list(names: &[String]) -> String {
    let mut s = names
        .iter()
        .take(NAMES_SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > NAMES_SHOWN {
        s.push_str(&format!(" and {} more", names.len() - NAMES_SHOWN));
    }
    s
}

/// Plans the batch of `inputs` under `opts` (see the module docs). Reads the file system
/// (canonical paths, whether outputs exist) but writes nothing. Fails when two inputs would
/// write the same output, or an output is an input.
pub fn plan(opts: &Options, inputs: &[PathBuf]) -> Result<Plan, SetupError> {
    plan_with(inputs, opts.existing, opts.pdf.in_place, |p| {
        crate::setup::output_path(opts, p)
    })
}

/// [`plan`] for any command that writes one output per input: `output` names it, `existing`
/// says what to do when it exists, `in_place` allows an output that is its own input.
pub fn plan_with(
    inputs: &[PathBuf],
    existing: Existing,
    in_place: bool,
    output: impl Fn(&Path) -> PathBuf,
) -> Result<Plan, SetupError> {
    let mut plan = Plan::default();
    // 1. One entry per file.
    let mut seen: HashMap<FileId, usize> = HashMap::new();
    let mut again: Vec<String> = Vec::new();
    for input in inputs {
        let id = input_identity(input);
        if let Some(&first) = seen.get(&id) {
            let first: &Path = &plan.items[first].input;
            again.push(if first == input.as_path() {
                format!("{} (named twice)", input.display())
            } else {
                format!("{} (the same file as {})", input.display(), first.display())
            });
            continue;
        }
        seen.insert(id, plan.items.len());
        plan.items.push(Planned {
            input: input.clone(),
            output: None,
            action: Action::Sign,
        });
    }
    if !again.is_empty() {
        plan.notices.push(format!(
            "{} input(s) named more than once, signed and counted once: {}",
            again.len(),
            list(&again)
        ));
    }
    // 2. Signature files in a batch.
    if plan.items.len() > 1 {
        let mut skipped = Vec::new();
        for item in &mut plan.items {
            if is_signature_file(&item.input) {
                item.action = Action::Skip(
                    "a signature or time-stamp file in a batch (name it on its own to sign it)"
                        .into(),
                );
                skipped.push(item.input.display().to_string());
            }
        }
        if !skipped.is_empty() {
            plan.notices.push(format!(
                "skipped {} signature or time-stamp file(s) (.p7s, .p7m, .tsr) named with \
                 other inputs: {}; a file named on its own (the only input) is signed",
                skipped.len(),
                list(&skipped)
            ));
        }
    }
    // 2b. Inputs that are the outputs of other inputs (a batch run again).
    if plan.items.len() > 1 {
        let outputs: std::collections::HashSet<FileId> = plan
            .items
            .iter()
            .filter(|i| i.action == Action::Sign)
            .filter_map(|i| {
                let out = output(&i.input);
                let m = std::fs::symlink_metadata(&out).ok()?;
                let id = existing_identity(&m, &out);
                // Its own output (`--in-place`) is no reason to skip it.
                (id != input_identity(&i.input)).then_some(id)
            })
            .collect();
        let mut skipped = Vec::new();
        for item in &mut plan.items {
            if item.action == Action::Sign && outputs.contains(&input_identity(&item.input)) {
                item.action = Action::Skip(
                    "the output of another input of this batch (name it on its own to sign it)"
                        .into(),
                );
                skipped.push(item.input.display().to_string());
            }
        }
        if !skipped.is_empty() {
            plan.notices.push(format!(
                "skipped {} file(s) that are the outputs of other inputs of this batch: {}",
                skipped.len(),
                list(&skipped)
            ));
        }
    }
    // 3. Outputs: collisions between inputs, and outputs that are inputs.
    let mut by_output: HashMap<PathBuf, Vec<usize>> = HashMap::new();
    let mut order: Vec<PathBuf> = Vec::new();
    let mut dirs: HashMap<PathBuf, PathBuf> = HashMap::new();
    let mut exists = vec![false; plan.items.len()];
    let mut problems = Vec::new();
    for (i, item) in plan.items.iter_mut().enumerate() {
        if item.action != Action::Sign {
            continue;
        }
        let out = output(&item.input);
        let id = output_identity(&out, &mut dirs);
        if let Ok(m) = std::fs::symlink_metadata(&out) {
            exists[i] = true;
            // An input skipped as a signature file is not read, so its name may be an
            // output (`documents/*` again after a first run holds `doc.pdf` and
            // `doc.pdf.p7s`); checked below, once every action is known.
            match seen.get(&existing_identity(&m, &out)) {
                // `--in-place`: the output is the input itself.
                Some(&j) if j == i && in_place => exists[i] = false,
                Some(&j) => problems.push((i, j)),
                None => {}
            }
        }
        item.output = Some(out);
        let entry = by_output.entry(id.clone()).or_default();
        if entry.is_empty() {
            order.push(id);
        }
        entry.push(i);
    }
    let mut problems: Vec<String> = problems
        .into_iter()
        .filter(|&(_, j)| plan.items[j].action == Action::Sign)
        .map(|(i, j)| {
            format!(
                "the output {} of {} is an input of this run ({})",
                plan.items[i]
                    .output
                    .as_deref()
                    .unwrap_or(Path::new(""))
                    .display(),
                plan.items[i].input.display(),
                plan.items[j].input.display()
            )
        })
        .collect();
    for id in &order {
        let users = &by_output[id];
        if users.len() > 1 {
            let out = plan.items[users[0]].output.as_deref().unwrap_or(id);
            let names: Vec<String> = users
                .iter()
                .map(|&i| plan.items[i].input.display().to_string())
                .collect();
            problems.push(format!(
                "{} inputs would write the same output {}: {}",
                users.len(),
                out.display(),
                list(&names)
            ));
        }
    }
    if !problems.is_empty() {
        let more = problems.len().saturating_sub(NAMES_SHOWN);
        problems.truncate(NAMES_SHOWN);
        let mut msg = format!("batch refused: {}", problems.join("; "));
        if more > 0 {
            msg.push_str(&format!("; and {more} more collision(s)"));
        }
        msg.push_str(" (sign them into different --out-dir directories, or in separate runs)");
        return Err(SetupError::Usage(msg));
    }
    // 4. Outputs that exist.
    for (item, exists) in plan.items.iter_mut().zip(exists) {
        let Some(out) = &item.output else { continue };
        if item.action != Action::Sign || !exists {
            continue;
        }
        item.action = match existing {
            Existing::Replace => Action::Sign,
            Existing::Skip => Action::Skip(format!(
                "{} exists and is kept (--skip-existing)",
                out.display()
            )),
            Existing::Refuse => Action::Fail(format!("{} exists: {EXISTS_HINT}", out.display())),
        };
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> Options {
        Options::new("k.pem", Path::new("c.pem"))
    }

    #[test]
    fn signature_files_by_extension() {
        for p in ["a.p7s", "b.P7M", "dir/c.tsr", "d.pdf.p7s"] {
            assert!(is_signature_file(Path::new(p)), "{p}");
        }
        for p in ["a.pdf", "p7s", "a.p7", "a.p7s.txt"] {
            assert!(!is_signature_file(Path::new(p)), "{p}");
        }
    }

    #[test]
    fn collisions_refuse_the_batch_naming_both() {
        let d = tempfile::tempdir().unwrap();
        for sub in ["a", "b"] {
            std::fs::create_dir(d.path().join(sub)).unwrap();
            std::fs::write(d.path().join(sub).join("x.pdf"), b"x").unwrap();
        }
        let mut o = opts();
        o.out_dir = Some(d.path().join("t3"));
        let a = d.path().join("a/x.pdf");
        let b = d.path().join("b/x.pdf");
        let Err(SetupError::Usage(e)) = plan(&o, &[a.clone(), b.clone()]) else {
            panic!("refused")
        };
        assert!(e.contains(&a.display().to_string()), "{e}");
        assert!(e.contains(&b.display().to_string()), "{e}");
        assert!(e.contains("x.pdf.p7s"), "{e}");
        // Beside each input, they do not collide.
        o.out_dir = None;
        assert_eq!(plan(&o, &[a, b]).unwrap().items.len(), 2);
    }

    #[test]
    fn the_same_file_twice_is_one_input() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a.txt");
        std::fs::write(&a, b"a").unwrap();
        let dotted = d.path().join(".").join("a.txt");
        let p = plan(&opts(), &[a.clone(), dotted, a.clone()]).unwrap();
        assert_eq!(p.items.len(), 1);
        assert_eq!(p.items[0].input, a);
        assert_eq!(p.items[0].action, Action::Sign);
        assert!(
            p.notices[0].starts_with("2 input(s) named more than once"),
            "{:?}",
            p.notices
        );
    }

    #[test]
    fn signature_files_named_on_their_own_or_with_others() {
        let d = tempfile::tempdir().unwrap();
        let doc = d.path().join("doc.pdf");
        let sig = d.path().join("doc.pdf.p7s");
        std::fs::write(&doc, b"d").unwrap();
        std::fs::write(&sig, b"s").unwrap();
        let p = plan(&opts(), std::slice::from_ref(&sig)).unwrap();
        assert_eq!(p.items[0].action, Action::Sign);
        assert!(p.notices.is_empty());
        let mut o = opts();
        o.existing = Existing::Replace;
        let p = plan(&o, &[doc.clone(), sig.clone()]).unwrap();
        // doc.pdf's output is the skipped doc.pdf.p7s: no collision with an input.
        assert_eq!(p.items[0].action, Action::Sign);
        assert!(matches!(p.items[1].action, Action::Skip(_)));
        assert!(p.notices[0].contains("doc.pdf.p7s"), "{:?}", p.notices);
    }

    #[test]
    fn existing_outputs_refused_replaced_or_skipped() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a.txt");
        std::fs::write(&a, b"a").unwrap();
        std::fs::write(d.path().join("a.txt.p7s"), b"old").unwrap();
        let mut o = opts();
        let Action::Fail(e) = &plan(&o, std::slice::from_ref(&a)).unwrap().items[0].action else {
            panic!()
        };
        assert!(
            e.contains("--force") && e.contains("--skip-existing"),
            "{e}"
        );
        o.existing = Existing::Skip;
        let p = plan(&o, std::slice::from_ref(&a)).unwrap();
        assert!(matches!(p.items[0].action, Action::Skip(_)));
        o.existing = Existing::Replace;
        let p = plan(&o, std::slice::from_ref(&a)).unwrap();
        assert_eq!(p.items[0].action, Action::Sign);
    }

    #[test]
    fn an_output_that_is_an_input_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a.txt");
        std::fs::write(&a, b"a").unwrap();
        let mut o = opts();
        o.out = Some(a.clone());
        o.existing = Existing::Replace;
        let Err(SetupError::Usage(e)) = plan(&o, std::slice::from_ref(&a)) else {
            panic!("refused")
        };
        assert!(e.contains("is an input"), "{e}");
    }
}
