//! Benchmark (harness = false): sealing 10,000 files of 4 KiB at B-B with a SoftHSM2 P-256 key
//! beside the raw SoftHSM2 signing rate on two sessions; sealing one 1 GiB file beside
//! `sha256sum`, with peak memory. Prints both figures of each pair in one run.
//!
//! `cargo bench -p inkan-signer --bench batch` (set `INKAN_BENCH_FILES` / `INKAN_BENCH_MIB` to
//! change the sizes). `INKAN_BENCH_DIR=DIR` puts the files (inputs, outputs, the large file) in
//! a new directory inside DIR instead of the system temporary directory (the token stays
//! there), e.g. `/dev/shm` to see how much of the batch cost is the disk; the first line
//! names the file system of both. Other knobs: `INKAN_BENCH_PHASES=small|large`,
//! `INKAN_BENCH_WORKERS=N`, `INKAN_BENCH_TEMP=unnamed|named|none`,
//! `INKAN_BENCH_COMMIT=worker`, `INKAN_BENCH_INPUTS=DIR`, `INKAN_BENCH_COMPARE=4b1,4,n4` with
//! `INKAN_BENCH_ROUNDS=7` (variants alternated in rounds, median CPU per file; see below).
//!
//! The raw rate is measured before and after each batch variant and the ratio taken against
//! their mean; the CPU-time ratio beside it (raw CPU per signature over batch CPU per file)
//! does not move when other processes take CPU time from the run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use inkan_hsm::KeyRef;
use inkan_profiles::alg::{DigestAlgorithm, SignatureAlgorithm};
use inkan_profiles::clock::{Clock, SystemClock};
use inkan_signer::sign::{self, Options};

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("command runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Dirty page cache of the whole machine, from /proc/meminfo.
fn dirty_kib() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Dirty:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Process CPU time (user, system) in seconds, from /proc/self/stat (clock ticks of 1/100 s).
fn cpu_secs() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = after
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0.0))
        .collect();
    // After the command name: state is field 3, utime 14, stime 15.
    (
        f.get(11).copied().unwrap_or(0.0) / 100.0,
        f.get(12).copied().unwrap_or(0.0) / 100.0,
    )
}

/// Runs `f` and returns its wall time and process CPU time (user, system), in seconds.
fn measure<T>(f: impl FnOnce() -> T) -> (T, f64, f64, f64) {
    let (u0, s0) = cpu_secs();
    let t = Instant::now();
    let r = f();
    let wall = t.elapsed().as_secs_f64();
    let (u1, s1) = cpu_secs();
    (r, wall, u1 - u0, s1 - s0)
}

/// A name part unique to this run (process id and clock), for fresh directories.
fn run_tag() -> String {
    let nanos = std::time::UNIX_EPOCH
        .elapsed()
        .map_or(0, |d| d.subsec_nanos());
    format!("{}-{nanos}", std::process::id())
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const URI_ENV: &str = "INKAN_BENCH_URI";
/// Parent to child: the directory for the files of this run (inside INKAN_BENCH_DIR).
const WORK_ENV: &str = "INKAN_BENCH_WORKDIR";
/// Parent to child: the token's directory (the certificate chain goes there too).
const TOKEN_DIR_ENV: &str = "INKAN_BENCH_TOKENDIR";

/// The file system holding `path`, from /proc/self/mountinfo (matched by device number, the
/// longest mount point that is a prefix of the path): type, source, mount and super-block
/// options, e.g. `ext4 /dev/vda on / (rw,relatime; rw,discard)`.
fn file_system(path: &Path) -> String {
    use std::os::unix::fs::MetadataExt as _;
    let Ok(meta) = std::fs::metadata(path) else {
        return "unknown".into();
    };
    let dev = meta.dev();
    let (major, minor) = (
        ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff),
        (dev & 0xff) | ((dev >> 12) & !0xff),
    );
    let want = format!("{major}:{minor}");
    let canon = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut best: Option<(usize, String)> = None;
    for line in info.lines() {
        let (left, right) = line.split_once(" - ").unwrap_or((line, ""));
        let l: Vec<&str> = left.split(' ').collect();
        let r: Vec<&str> = right.split(' ').collect();
        if l.len() < 6 || r.len() < 3 || l[2] != want {
            continue;
        }
        let mount_point = l[4].replace("\\040", " ");
        if !canon.starts_with(&mount_point) {
            continue;
        }
        let text = format!("{} {} on {mount_point} ({}; {})", r[0], r[1], l[5], r[2]);
        if best
            .as_ref()
            .is_none_or(|(len, _)| mount_point.len() > *len)
        {
            best = Some((mount_point.len(), text));
        }
    }
    best.map_or_else(|| format!("unknown (device {want})"), |(_, t)| t)
}

fn main() {
    // Parent: make a private token with a P-256 key, then re-run this binary with it.
    let Ok(uri) = std::env::var(URI_ENV) else {
        let dir = tempfile::tempdir().unwrap();
        inkan_hsm::softhsm::init_dir(dir.path(), &["bench"]);
        let conf = dir.path().join("softhsm2.conf");
        let module = inkan_hsm::softhsm::module_path();
        run(Command::new("pkcs11-tool")
            .env("SOFTHSM2_CONF", &conf)
            .args([
                "--module",
                module.to_str().unwrap(),
                "--login",
                "--pin",
                "1234",
            ])
            .args([
                "--token-label",
                "bench",
                "--keypairgen",
                "--key-type",
                "EC:prime256v1",
            ])
            .args(["--label", "seal", "--id", "01", "--usage-sign"]));
        let uri = format!(
            "pkcs11:token=bench;object=seal?module-path={}&pin-value=1234",
            module.display()
        );
        // The files (inputs, outputs, the 1 GiB file) go to a new directory in INKAN_BENCH_DIR
        // (default: the system temporary directory, like the token), so that one run can
        // compare file systems (e.g. INKAN_BENCH_DIR=/dev/shm) with the same token.
        let work = match std::env::var_os("INKAN_BENCH_DIR") {
            Some(d) => tempfile::tempdir_in(&d)
                .unwrap_or_else(|e| panic!("INKAN_BENCH_DIR={}: {e}", Path::new(&d).display())),
            None => tempfile::tempdir().unwrap(),
        };
        println!(
            "files in {}: {}; token in {}: {}; at most {} unnamed temporary files open (from the open-file soft limit)",
            work.path().display(),
            file_system(work.path()),
            dir.path().display(),
            file_system(dir.path()),
            inkan_signer::output::max_unnamed(),
        );
        let phases = std::env::var("INKAN_BENCH_PHASES").unwrap_or("small,large".into());
        for phase in phases.split(',') {
            let st = Command::new(std::env::current_exe().unwrap())
                .env("SOFTHSM2_CONF", &conf)
                .env(URI_ENV, &uri)
                .env("INKAN_BENCH_PHASE", phase)
                .env(WORK_ENV, work.path())
                .env(TOKEN_DIR_ENV, dir.path())
                .status()
                .unwrap();
            assert!(st.success());
        }
        return;
    };
    let dir = PathBuf::from(std::env::var(WORK_ENV).unwrap());
    let token_dir = PathBuf::from(std::env::var(TOKEN_DIR_ENV).unwrap());
    let now = SystemClock.now().unwrap();
    let key = inkan_hsm::load(
        &KeyRef::parse(&uri).unwrap(),
        &inkan_hsm::Policy::cryptrec(),
        now,
    )
    .unwrap();
    // A certificate for the token's key, from the development CA.
    let pki = inkan_hsm::devpki::DevPki::with_keys(
        &inkan_hsm::devpki::DevPkiOptions::new(now, inkan_hsm::devpki::KeyAlg::P256),
        &*inkan_hsm::devpki::generate_key(inkan_hsm::devpki::KeyAlg::P256)
            .unwrap()
            .1,
        None,
        &*inkan_hsm::devpki::generate_key(inkan_hsm::devpki::KeyAlg::P256)
            .unwrap()
            .1,
        &*key,
    )
    .unwrap();
    let chain = token_dir.join("chain.pem");
    std::fs::write(&chain, pki.eseal_chain_pem()).unwrap();
    let mut opts = Options::new(&uri, &chain);
    opts.progress = false;
    // Rounds write the same outputs again.
    opts.existing = sign::Existing::Replace;
    // 0: the default (inkan-sign's own choice).
    opts.workers = env_usize("INKAN_BENCH_WORKERS", 0);

    match std::env::var("INKAN_BENCH_PHASE").as_deref() {
        Ok("small") => small(&dir, &opts, &*key),
        _ => large(&dir, &opts),
    }
}

fn small(dir: &Path, opts: &Options, key: &dyn inkan_hsm::SigningKey) {
    let n = env_usize("INKAN_BENCH_FILES", 10_000);
    // On ext4 without a journal (this machine's root file system), inode allocation skips
    // every free inode deleted less than 60 s ago (360 s while its inode-table block is dirty)
    // whose inode-table block is still cached, at one buffer lookup each (`recently_deleted`
    // in `find_inode_bit`). Within that time after a run that deleted its 10,000-30,000
    // files, each new file costs 0.3-2 ms of system time (see "write temp" in the stage
    // line). This bench syncs after its clean-up, so leave at least 60 s between runs (five
    // minutes after anything else deleted many files without a sync) for figures that measure
    // the signer rather than that scan. INKAN_BENCH_INPUTS=DIR keeps the inputs across runs.
    //
    // The way around it: mark the bench's directory as a top of a hierarchy (`chattr +T`),
    // so ext4 places each new subdirectory, and the files in it, in a block group chosen from
    // a hash of its name (Orlov), and give each run's output directory a new name: the
    // outputs then rarely land among the inodes the previous run freed.
    let topdir = Command::new("chattr").arg("+T").arg(dir).status();
    if !topdir.is_ok_and(|s| s.success()) {
        println!("  (chattr +T failed: outputs may land among recently deleted inodes)");
    }
    run(&mut Command::new("sync"));
    // INKAN_BENCH_INPUTS=DIR keeps the inputs in DIR across runs (created when missing, never
    // deleted), so that repeated runs for profiling create no input files.
    let keep = std::env::var_os("INKAN_BENCH_INPUTS").map(PathBuf::from);
    let files_dir = keep.clone().unwrap_or_else(|| dir.join("files"));
    std::fs::create_dir_all(&files_dir).unwrap();
    let data = vec![0x5au8; 4096];
    let files: Vec<PathBuf> = (0..n)
        .map(|i| {
            let p = files_dir.join(format!("f{i:05}.bin"));
            if keep.is_none() || !p.exists() {
                std::fs::write(&p, &data).unwrap();
            }
            p
        })
        .collect();
    // The inputs are files at rest: write them back now, so that the first group flush of the
    // batch does not pay for the 40 MB the set-up has just written.
    run(&mut Command::new("sync"));

    // Raw SoftHSM2 rate: two threads signing through the pooled sessions. Measured again
    // after each batch variant: each variant's ratio is taken against the mean of the raw
    // runs just before and just after it (both printed), so that a change in the machine's
    // load during the run shows and is shared fairly.
    let signer = key
        .choose(&[SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha256)])
        .unwrap();
    let raw_run = || {
        let ((), wall, user, sys) = measure(|| {
            std::thread::scope(|s| {
                for _ in 0..2 {
                    std::thread::Builder::new()
                        .name("raw-sign".into())
                        .spawn_scoped(s, || {
                            for _ in 0..n / 2 {
                                signer.sign(&data[..200]).unwrap();
                            }
                        })
                        .unwrap();
                }
            })
        });
        Raw {
            rate: (n / 2 * 2) as f64 / wall,
            user,
            sys,
        }
    };
    let raw_first = raw_run();
    let (raw, raw_user, raw_sys) = (raw_first.rate, raw_first.user, raw_first.sys);

    // The same pipeline without output: read, hash, build and sign each file, discard.
    let workers = if opts.workers > 0 {
        opts.workers
    } else {
        sign::default_workers(opts.level)
    };
    let prepared = sign::prepare(opts, SystemClock.now().unwrap()).unwrap();
    let no_output_run = |workers: usize| {
        let ((), wall, user, sys) = measure(|| {
            let next = std::sync::atomic::AtomicUsize::new(0);
            std::thread::scope(|s| {
                for _ in 0..workers {
                    std::thread::Builder::new()
                        .name("no-output".into())
                        .spawn_scoped(s, || {
                            loop {
                                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                let Some(f) = files.get(i) else { break };
                                let at = SystemClock.now().unwrap();
                                prepared.sign_one(f, false, at).unwrap();
                            }
                        })
                        .unwrap();
                }
            })
        });
        (wall, user, sys)
    };
    let (nw_wall, nw_user, nw_sys) = no_output_run(workers);
    let per = |secs: f64| secs * 1e6 / n as f64;
    println!(
        "raw SoftHSM2 C_Sign on 2 sessions: {raw:.0} sig/s, CPU {:.0}+{:.0} µs per signature; pipeline without output ({workers} workers): {:.0} files/s, CPU {:.0}+{:.0} µs per file",
        per(raw_user),
        per(raw_sys),
        n as f64 / nw_wall,
        per(nw_user),
        per(nw_sys),
    );

    // INKAN_BENCH_COMPARE=2,4,n2,4b32: batches with these worker counts (nN: the pipeline
    // without output on N workers; WbK: W workers taking bursts of K files, 4b1: one file at a
    // time), alternated for INKAN_BENCH_ROUNDS rounds (default 5) with a raw
    // run in each round, then the median CPU per file of each; alternation spreads the
    // machine's changing load over all of them.
    if let Ok(set) = std::env::var("INKAN_BENCH_COMPARE") {
        let entries: Vec<&str> = set.split(',').collect();
        compare(
            dir,
            &files,
            opts,
            &entries,
            env_usize("INKAN_BENCH_ROUNDS", 5),
            &raw_run,
            &no_output_run,
        );
        cleanup(dir, &files_dir, keep.is_none());
        return;
    }
    let variants: &[(&str, bool)] = match std::env::var("INKAN_BENCH_TEMP").as_deref() {
        Ok("named") => &[("named temporary files", false)],
        Ok("unnamed") => &[("unnamed temporary files", true)],
        // Only the raw rate and the pipeline without output (no files created).
        Ok("none") => &[],
        _ => &[
            ("unnamed temporary files", true),
            ("named temporary files", false),
        ],
    };
    // INKAN_BENCH_COMMIT=worker: each worker commits its own groups (no committer thread).
    let commit_thread = std::env::var("INKAN_BENCH_COMMIT").as_deref() != Ok("worker");
    sign::set_commit_thread(commit_thread);
    let mut raw_before = raw_first;
    for (what, unnamed) in variants {
        inkan_signer::output::set_unnamed(*unnamed);
        let what = &format!(
            "{what}, {}",
            if commit_thread {
                "committer thread"
            } else {
                "workers commit"
            }
        );
        // Each variant writes new outputs into a directory of its own, and nothing is deleted
        // until the end: ext4 makes inode allocation scan past recently deleted inodes
        // (`recently_deleted` in `find_inode_bit`), which would charge one variant for the
        // other's clean-up.
        let mut opts = opts.clone();
        let out = dir.join(format!(
            "{}-{}",
            if *unnamed { "out-unnamed" } else { "out-named" },
            run_tag()
        ));
        std::fs::create_dir_all(&out).unwrap();
        opts.out_dir = Some(out);
        let opts = &opts;
        let result = batch(&files, opts);
        let raw_after = raw_run();
        result.print(
            what,
            [raw_before, raw_after],
            (workers, nw_wall, nw_user, nw_sys),
        );
        raw_before = raw_after;
    }
    if !variants.is_empty() {
        output_floor(
            dir,
            n,
            (raw_user + raw_sys) / n as f64,
            (nw_user + nw_sys) / n as f64,
        );
    }
    println!(
        "  (on ext4 without a journal, runs less than 60 s apart, or 5 min after a mass deletion without sync, pay for an inode-allocation scan in \"write temp\": wait and re-run)"
    );
    cleanup(dir, &files_dir, keep.is_none());
}

/// Removes the outputs (and the inputs unless kept), then syncs.
fn cleanup(dir: &Path, files_dir: &Path, inputs: bool) {
    if inputs {
        let _ = std::fs::remove_dir_all(files_dir);
    }
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.file_name().to_string_lossy().starts_with("out-") {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
    // Clean inode-table blocks shorten the next run's wait from 360 s to 60 s (see above).
    run(&mut Command::new("sync"));
}

/// See INKAN_BENCH_COMPARE in [`small`].
fn compare(
    dir: &Path,
    files: &[PathBuf],
    opts: &Options,
    entries: &[&str],
    rounds: usize,
    raw_run: &dyn Fn() -> Raw,
    no_output_run: &dyn Fn(usize) -> (f64, f64, f64),
) {
    let n = files.len() as f64;
    let mut raw_cpu = Vec::new();
    let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); entries.len()];
    for round in 0..rounds {
        let r = raw_run();
        raw_cpu.push((r.user + r.sys) * 1e6 / n);
        let mut line = format!(
            "round {round}: raw {:.0} sig/s {:.0}+{:.0} µs",
            r.rate,
            r.user * 1e6 / n,
            r.sys * 1e6 / n
        );
        for (k, entry) in entries.iter().enumerate() {
            let (name, rate, user, sys) = match entry.strip_prefix('n') {
                Some(w) => {
                    let w: usize = w.parse().expect("nN: a worker count");
                    let (wall, user, sys) = no_output_run(w);
                    (format!("no output {w}"), n / wall, user, sys)
                }
                None => {
                    // WbK: W workers, bursts of K (sign::set_burst; default
                    // sign::DEFAULT_BURST).
                    let (w, k) = match entry.split_once('b') {
                        Some((w, k)) => (w, k.parse().expect("a burst size")),
                        None => (*entry, sign::DEFAULT_BURST),
                    };
                    let w: usize = w.parse().expect("a worker count");
                    sign::set_burst(k);
                    let mut o = opts.clone();
                    o.workers = w;
                    let out = dir.join(format!("out-compare-{w}-{}", run_tag()));
                    std::fs::create_dir_all(&out).unwrap();
                    o.out_dir = Some(out);
                    let b = batch(files, &o);
                    sign::set_burst(sign::DEFAULT_BURST);
                    (format!("batch {w}b{k}"), b.rate, b.user, b.sys)
                }
            };
            let (u, s) = (user * 1e6 / n, sys * 1e6 / n);
            cpu[k].push(u + s);
            line.push_str(&format!("; {name}: {rate:.0}/s {u:.0}+{s:.0} µs"));
        }
        println!("{line}");
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let mut line = format!(
        "median CPU per item over {rounds} rounds (user+sys µs): raw {:.0}",
        median(&mut raw_cpu)
    );
    for (k, entry) in entries.iter().enumerate() {
        line.push_str(&format!("; {entry}: {:.0}", median(&mut cpu[k])));
    }
    println!("{line}");
}

/// One raw signing run: signatures per second and process CPU time (user, system) in seconds.
#[derive(Clone, Copy)]
struct Raw {
    rate: f64,
    user: f64,
    sys: f64,
}

/// One batch run's figures.
struct BatchRun {
    n: usize,
    rate: f64,
    wall: f64,
    user: f64,
    sys: f64,
    stages: sign::StageTimes,
}

/// One batch run.
fn batch(files: &[PathBuf], opts: &Options) -> BatchRun {
    let n = files.len();
    let (summary, wall, user, sys) =
        measure(|| sign::sign_files(opts, files, &SystemClock).unwrap());
    assert_eq!(summary.failed(), 0);
    BatchRun {
        n,
        rate: n as f64 / summary.elapsed.as_secs_f64(),
        wall,
        user,
        sys,
        stages: summary.stages,
    }
}

impl BatchRun {
    /// Prints the run beside the raw runs just before and after it and the run without output.
    ///
    /// Two ratios: files per second over the mean raw rate (the target's measure), and CPU
    /// time, raw CPU per signature over batch CPU per file (process time, user+system, of the
    /// same runs): the second does not move when other processes take CPU time from the run,
    /// but leaves out what no process time shows (the kernel's writeback threads, waits).
    fn print(
        &self,
        what: &str,
        raws: [Raw; 2],
        (workers, nw_wall, nw_user, nw_sys): (usize, f64, f64, f64),
    ) {
        let n = self.n;
        let raw = (raws[0].rate + raws[1].rate) / 2.0;
        let (raw_user, raw_sys) = (
            (raws[0].user + raws[1].user) / 2.0,
            (raws[0].sys + raws[1].sys) / 2.0,
        );
        let ours = self.rate;
        println!(
            "batch B-B, {n} files x 4 KiB, SoftHSM2 P-256, {what}: {ours:.0} files/s; raw SoftHSM2 C_Sign on 2 sessions: {raw:.0} sig/s (before {:.0}, after {:.0}); ratio {:.0}% (target >= 80%); CPU-time ratio {:.0}%",
            raws[0].rate,
            raws[1].rate,
            100.0 * ours / raw,
            100.0 * (raw_user + raw_sys) / (self.user + self.sys),
        );
        let per = |secs: f64| secs * 1e6 / n as f64;
        println!(
            "  CPU per item (user+sys µs): raw {:.0}+{:.0}; without output ({workers} workers, {:.0} files/s) {:.0}+{:.0}; batch {:.0}+{:.0} (wall {:.2} s)",
            per(raw_user),
            per(raw_sys),
            n as f64 / nw_wall,
            per(nw_user),
            per(nw_sys),
            per(self.user),
            per(self.sys),
            self.wall,
        );
        let st = self.stages;
        println!(
            "  stages, wall µs per file summed over workers: read+hash {:.1}, sign {:.1}, write temp {:.1}, hand-off wait {:.1}; committer: flush {:.1}, link/rename {:.1}, dir sync {:.1}",
            per(st.read_hash.as_secs_f64()),
            per(st.sign.as_secs_f64()),
            per(st.write.as_secs_f64()),
            per(st.handoff.as_secs_f64()),
            per(st.commit.flush.as_secs_f64()),
            per(st.commit.publish.as_secs_f64()),
            per(st.commit.dir_sync.as_secs_f64()),
        );
    }
}

fn large(dir: &Path, opts: &Options) {
    let mib = env_usize("INKAN_BENCH_MIB", 1024);
    let big = dir.join("big.bin");
    {
        use std::io::Write as _;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
        let block: Vec<u8> = (0..1024 * 1024).map(|i| (i * 31 % 251) as u8).collect();
        for _ in 0..mib {
            f.write_all(&block).unwrap();
        }
    }
    // Warm the page cache for both.
    run(Command::new("cat")
        .arg(&big)
        .stdout(std::process::Stdio::null()));
    let t = Instant::now();
    run(Command::new("sha256sum").arg(&big));
    let peer = mib as f64 / t.elapsed().as_secs_f64();
    let rss_before = peak_rss_kib();
    let summary = sign::sign_files(opts, std::slice::from_ref(&big), &SystemClock).unwrap();
    assert_eq!(summary.failed(), 0);
    let ours = mib as f64 / summary.elapsed.as_secs_f64();
    let peak = peak_rss_kib();
    println!(
        "one {mib} MiB file at B-B: {ours:.0} MiB/s; sha256sum: {peer:.0} MiB/s; ratio {:.0}% (target >= 90%); peak RSS {:.1} MiB (before signing {:.1} MiB; target < 64 MiB)",
        100.0 * ours / peer,
        peak as f64 / 1024.0,
        rss_before as f64 / 1024.0
    );
    std::fs::remove_file(&big).unwrap();
}

/// The file system's own floor for this batch: `n` outputs of a signature's size created the
/// way the signer creates them (an unnamed file, one write, `linkat`, one `syncfs` and one
/// directory `fsync` per 128 files), then the same without the syncs (the difference is what
/// durability costs; `syncfs` also writes back whatever other processes left dirty on the
/// file system), then plain `O_CREAT|O_EXCL` files with one write and no sync at all
/// (neither atomic nor durable), all on one thread with nothing else to do.
/// Printed beside the ceiling they put on the batch ratio: raw CPU per signature over (CPU per
/// file of the pipeline without output + the floor's CPU per file), and over (raw CPU per
/// signature + the floor's), the ceiling of a pipeline that did nothing but sign and write.
fn output_floor(dir: &Path, n: usize, raw_cpu: f64, no_output_cpu: f64) {
    use rustix::fs::{AtFlags, CWD, Mode, OFlags};
    let body = vec![0x30u8; 1600];
    let mut lines = Vec::new();
    let dirty_before = dirty_kib();
    // (atomic, synced): the signer's way; the same without the syncs (what the syncs cost);
    // a plain file.
    for (atomic, synced) in [(true, true), (true, false), (false, false)] {
        let out = dir.join(format!("out-floor-{atomic}-{synced}-{}", run_tag()));
        std::fs::create_dir_all(&out).unwrap();
        let d = rustix::fs::open(&out, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()).unwrap();
        let ((), _wall, user, sys) = measure(|| {
            for i in 0..n {
                let name = format!("f{i:05}.bin.p7s");
                if atomic {
                    let fd = rustix::fs::openat(
                        &d,
                        ".",
                        OFlags::TMPFILE | OFlags::WRONLY | OFlags::CLOEXEC,
                        Mode::from_raw_mode(0o644),
                    )
                    .unwrap();
                    rustix::io::write(&fd, &body).unwrap();
                    rustix::fs::linkat(&fd, "", &d, name.as_str(), AtFlags::EMPTY_PATH)
                        .or_else(|_| {
                            let proc = format!("/proc/self/fd/{}", {
                                use std::os::fd::AsRawFd;
                                fd.as_raw_fd()
                            });
                            rustix::fs::linkat(
                                CWD,
                                proc.as_str(),
                                &d,
                                name.as_str(),
                                AtFlags::SYMLINK_FOLLOW,
                            )
                        })
                        .unwrap();
                    if synced && (i % 128 == 127 || i + 1 == n) {
                        rustix::fs::syncfs(&d).unwrap();
                        rustix::fs::fsync(&d).unwrap();
                    }
                } else {
                    let fd = rustix::fs::openat(
                        &d,
                        name.as_str(),
                        OFlags::CREATE | OFlags::EXCL | OFlags::WRONLY | OFlags::CLOEXEC,
                        Mode::from_raw_mode(0o644),
                    )
                    .unwrap();
                    rustix::io::write(&fd, &body).unwrap();
                }
            }
        });
        let floor = (user + sys) / n as f64;
        lines.push(format!(
            "{} {:.0}+{:.0} µs (ceiling {:.0}%; with nothing but C_Sign and this {:.0}%)",
            match (atomic, synced) {
                (true, true) => "unnamed file + linkat + grouped syncfs",
                (true, false) => "unnamed file + linkat, no sync (not durable)",
                _ => "plain create + write, no sync (not atomic)",
            },
            user * 1e6 / n as f64,
            sys * 1e6 / n as f64,
            100.0 * raw_cpu / (no_output_cpu + floor),
            100.0 * raw_cpu / (raw_cpu + floor),
        ));
    }
    println!(
        "  file-system floor, CPU per output with no signing (user+sys), and the batch ratio it allows beside the pipeline without output: {}; dirty page cache before: {:.0} MiB (the syncs write it back too)",
        lines.join("; "),
        dirty_before as f64 / 1024.0,
    );
}
