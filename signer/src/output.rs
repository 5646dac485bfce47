//! Atomic output: write to a temporary file beside the target, make its data durable, rename,
//! make the directory durable. A reader never sees a half-written signature; a failure leaves
//! the target as it was.
//!
//! One file ([`write_atomic`], used by `--out` and `extend`): fsync the file, rename, fsync the
//! directory.
//!
//! A batch ([`write_temp`], then [`flush`] and [`publish`], or both as [`commit`]): each
//! signature is written without a sync to a temporary file in its target's directory: on
//! Linux an unnamed one (`O_TMPFILE`, no directory entry until it is published; at most
//! [`max_unnamed`] open at once), elsewhere or beyond that bound a hidden named one. Then, for
//! a group of files, the data of all of them is flushed at once (`syncfs(2)` on each output
//! directory's file system on Linux, one `fsync` per file elsewhere); then each temporary file
//! is published: an unnamed one is linked under the target's name (`linkat(2)`), or, when the
//! target already exists, linked under a hidden name and renamed over it; a named one is
//! renamed over the target. Finally each output directory is fsynced once. Durability is paid
//! per group, not per file, while atomicity stays per file. A batch worker keeps its output
//! directory open ([`OutDir`], [`write_temp_in`]) so that unnamed files are created and linked
//! relative to it.
//!
//! Crash semantics: a `.p7s` is only ever created or replaced by `linkat(2)` or `rename(2)` of
//! a temporary file whose data has already reached the disk, so after a crash or power loss
//! each target holds either its previous state (absent, or the old signature) or the complete
//! new signature, never a partial one. A crash before a group is published leaves no trace of
//! an unnamed temporary file (the file system frees it) and, for named ones, hidden files
//! named `.NAME.p7s.PID.tmp` beside the targets; they were never reported as written and may
//! be deleted. A file is reported signed only after its group's directory sync.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Writes `data` to `path` atomically.
pub fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = parent(path);
    let tmp = temp_path(path)?;
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        // Make the rename itself durable.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The temporary file beside `path` that [`write_temp`] writes.
pub fn temp_path(path: &Path) -> std::io::Result<PathBuf> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "no file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    Ok(parent(path).join(tmp_name))
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// The bound on unnamed temporary files when the open-file limit cannot be read: a batch
/// then stays under the usual soft limit of 1,024 descriptors.
pub const MAX_UNNAMED: usize = 768;

/// At most this many unnamed temporary files (each an open file descriptor) are open at once;
/// beyond it [`write_temp`] writes named ones. It is the process's soft limit on open files
/// (`RLIMIT_NOFILE`, read once from `/proc/self/limits`) less 256 for everything else, at
/// most 4,096 (so [`MAX_UNNAMED`] under the usual 1,024); [`MAX_UNNAMED`] when the limit
/// cannot be read. Batch workers size their commit groups from it: under a higher limit,
/// groups of 256 instead of 128 with four workers, which took SoftHSM2 P-256 batches on
/// ext4 from 11,518–12,624 to 12,271–12,951 files/s (5 alternated rounds, +4.6%).
pub fn max_unnamed() -> usize {
    static BOUND: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *BOUND.get_or_init(|| {
        std::fs::read_to_string("/proc/self/limits")
            .ok()
            .and_then(|l| unnamed_bound(&l))
            .unwrap_or(MAX_UNNAMED)
    })
}

/// The bound [`max_unnamed`] derives from the text of `/proc/self/limits`.
fn unnamed_bound(limits: &str) -> Option<usize> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line
        .trim_start_matches("Max open files")
        .split_whitespace()
        .next()?;
    let soft = if soft == "unlimited" {
        usize::MAX
    } else {
        soft.parse::<usize>().ok()?
    };
    Some(soft.saturating_sub(256).min(4096))
}

#[cfg(target_os = "linux")]
mod unnamed {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// Unnamed temporary files open now.
    static OPEN: AtomicUsize = AtomicUsize::new(0);
    /// Cleared when the file system refuses `O_TMPFILE`: named files from then on.
    static SUPPORTED: AtomicBool = AtomicBool::new(true);
    /// Cleared when `linkat(AT_EMPTY_PATH)` is refused: `/proc/self/fd` from then on.
    static EMPTY_PATH: AtomicBool = AtomicBool::new(true);

    /// An open unnamed file, counted against [`super::max_unnamed`], and the directory it
    /// was made in when that was given as an open [`super::OutDir`] (names are then linked
    /// relative to it).
    #[derive(Debug)]
    pub struct File(std::fs::File, Option<super::OutDir>);

    impl Drop for File {
        fn drop(&mut self) {
            OPEN.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// See [`super::set_unnamed`].
    pub fn set(on: bool) {
        SUPPORTED.store(on, Ordering::Relaxed);
    }

    /// Creates an unnamed file in `dir` (through `open`, the same directory already open,
    /// when given), or `None` when over the bound or unsupported.
    pub fn create(
        dir: &std::path::Path,
        open: Option<&super::OutDir>,
    ) -> Option<std::io::Result<File>> {
        use rustix::fs::{Mode, OFlags};
        if !SUPPORTED.load(Ordering::Relaxed) {
            return None;
        }
        if OPEN.fetch_add(1, Ordering::Relaxed) >= super::max_unnamed() {
            OPEN.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        let flags = OFlags::TMPFILE | OFlags::WRONLY | OFlags::CLOEXEC;
        let mode = Mode::from_raw_mode(0o666);
        let created = match open {
            Some(d) => rustix::fs::openat(&d.0.fd, ".", flags, mode),
            None => rustix::fs::openat(rustix::fs::CWD, dir, flags, mode),
        };
        match created {
            Ok(fd) => Some(Ok(File(std::fs::File::from(fd), open.cloned()))),
            Err(e) => {
                OPEN.fetch_sub(1, Ordering::Relaxed);
                // Kernels or file systems without O_TMPFILE answer EOPNOTSUPP, EISDIR or
                // EINVAL: use named files. Anything else is a real error.
                if matches!(
                    e,
                    rustix::io::Errno::OPNOTSUPP
                        | rustix::io::Errno::ISDIR
                        | rustix::io::Errno::INVAL
                ) {
                    SUPPORTED.store(false, Ordering::Relaxed);
                    None
                } else {
                    Some(Err(e.into()))
                }
            }
        }
    }

    impl File {
        /// The file, to write to.
        pub fn file(&mut self) -> &mut std::fs::File {
            &mut self.0
        }

        /// Gives the file the name `path` (which must not exist).
        pub fn link(&self, path: &std::path::Path) -> std::io::Result<()> {
            use rustix::fs::{AtFlags, CWD};
            use std::os::fd::{AsFd as _, AsRawFd as _};
            // Relative to the open directory when `path` is in it: no path walk.
            let (dir, path) = match (&self.1, path.file_name()) {
                (Some(d), Some(name)) if super::parent(path) == d.path() => {
                    (d.0.fd.as_fd(), std::path::Path::new(name))
                }
                _ => (CWD, path),
            };
            if EMPTY_PATH.load(Ordering::Relaxed) {
                match rustix::fs::linkat(&self.0, "", dir, path, AtFlags::EMPTY_PATH) {
                    Ok(()) => return Ok(()),
                    // Without CAP_DAC_READ_SEARCH, kernels before 6.10 refuse AT_EMPTY_PATH
                    // with ENOENT (or EPERM); the /proc link below works for the file's owner.
                    Err(rustix::io::Errno::NOENT | rustix::io::Errno::PERM) => {
                        EMPTY_PATH.store(false, Ordering::Relaxed)
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            let proc = format!("/proc/self/fd/{}", self.0.as_raw_fd());
            rustix::fs::linkat(CWD, proc.as_str(), dir, path, AtFlags::SYMLINK_FOLLOW)
                .map_err(std::io::Error::from)
        }
    }
}

/// Turns unnamed temporary files on (the default where the system has them) or off (named
/// ones only) for the rest of the process; for benchmarks and tests comparing the two.
pub fn set_unnamed(on: bool) {
    #[cfg(target_os = "linux")]
    unnamed::set(on);
    #[cfg(not(target_os = "linux"))]
    let _ = on;
}

/// A signature written by [`write_temp`], waiting to be published over its target.
#[derive(Debug)]
pub enum TempFile {
    /// A hidden file beside the target.
    Named(PathBuf),
    /// An unnamed file in the target's directory (Linux `O_TMPFILE`).
    #[cfg(target_os = "linux")]
    Unnamed(unnamed::File),
}

impl TempFile {
    /// Removes a named temporary file (an unnamed one vanishes when dropped).
    fn discard(&self) {
        if let Self::Named(p) = self {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// An output directory kept open by a batch worker, so that its unnamed temporary files are
/// created and linked relative to it ([`write_temp_in`]) instead of walking the directory's
/// path twice per file (about 1.2 µs of system time per file on tmpfs, measured alone).
#[derive(Clone, Debug)]
pub struct OutDir(std::sync::Arc<OutDirInner>);

#[derive(Debug)]
struct OutDirInner {
    path: PathBuf,
    #[cfg(target_os = "linux")]
    fd: std::os::fd::OwnedFd,
}

impl OutDir {
    /// Opens `dir` (a directory).
    pub fn open(dir: &Path) -> std::io::Result<Self> {
        #[cfg(target_os = "linux")]
        {
            use rustix::fs::{Mode, OFlags};
            let fd = rustix::fs::open(
                dir,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            Ok(Self(std::sync::Arc::new(OutDirInner {
                path: dir.to_owned(),
                fd,
            })))
        }
        #[cfg(not(target_os = "linux"))]
        Ok(Self(std::sync::Arc::new(OutDirInner {
            path: dir.to_owned(),
        })))
    }

    /// The directory's path, as given to [`OutDir::open`].
    pub fn path(&self) -> &Path {
        &self.0.path
    }
}

/// The directory a target is written in (`.` for a bare file name).
pub fn target_dir(path: &Path) -> &Path {
    parent(path)
}

/// Writes `data` (in one `write` call for a signature-sized buffer) to a new temporary file in
/// the directory of `path`, without a sync; [`commit`] makes it durable and publishes it. On
/// failure nothing is left behind.
pub fn write_temp(path: &Path, data: &[u8]) -> std::io::Result<TempFile> {
    write_temp_in(None, path, data)
}

/// [`write_temp`] through `dir`, the directory of `path` already open (ignored when it is
/// another directory).
pub fn write_temp_in(dir: Option<&OutDir>, path: &Path, data: &[u8]) -> std::io::Result<TempFile> {
    let dir = dir.filter(|d| d.path() == parent(path));
    #[cfg(not(target_os = "linux"))]
    let _ = dir;
    #[cfg(target_os = "linux")]
    if let Some(created) = unnamed::create(parent(path), dir) {
        let mut f = created?;
        f.file().write_all(data)?;
        return Ok(TempFile::Unnamed(f));
    }
    let tmp = temp_path(path)?;
    let result = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut f| f.write_all(data));
    match result {
        Ok(()) => Ok(TempFile::Named(tmp)),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// A temporary file written by [`write_temp`] and the target it replaces.
#[derive(Debug)]
pub struct Pending {
    /// The temporary file.
    pub temp: TempFile,
    /// The target.
    pub target: PathBuf,
    /// Whether an existing target is replaced (`--force`). When false, a target that exists
    /// when the file is published (another process made it after the batch was planned) is
    /// left as it was and the entry fails with [`std::io::ErrorKind::AlreadyExists`].
    pub replace: bool,
}

/// Wall time spent in each step of a commit, summed over calls.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CommitTimes {
    /// Making the data durable (`syncfs`, or one `fsync` per file).
    pub flush: std::time::Duration,
    /// Linking or renaming the temporary files over their targets.
    pub publish: std::time::Duration,
    /// Syncing the target directories.
    pub dir_sync: std::time::Duration,
}

/// Makes a group of temporary files durable ([`flush`]), publishes each over its target and
/// syncs each target directory once ([`publish`]). Returns one result per entry, in order; a
/// failed entry's temporary file is removed and its target left as it was.
pub fn commit(group: Vec<Pending>) -> Vec<std::io::Result<()>> {
    let mut times = CommitTimes::default();
    let flushed = flush(&group, &mut times);
    publish(group, flushed, &mut times)
}

fn dirs_of(group: &[Pending]) -> Vec<&Path> {
    let mut dirs: Vec<&Path> = group.iter().map(|p| parent(&p.target)).collect();
    dirs.sort();
    dirs.dedup();
    dirs
}

/// The first half of [`commit`]: makes the data of every temporary file of `group` durable,
/// with one file-system flush per directory (usually one). Returns one result per entry.
pub fn flush(group: &[Pending], times: &mut CommitTimes) -> Vec<std::io::Result<()>> {
    let t = std::time::Instant::now();
    let r = flush_data(group, &dirs_of(group));
    times.flush += t.elapsed();
    r
}

/// The second half of [`commit`]: publishes each entry whose [`flush`] succeeded over its
/// target (atomically, its data already on disk), then syncs each target directory once so the
/// new names are durable. Returns one result per entry, in order.
pub fn publish(
    group: Vec<Pending>,
    flushed: Vec<std::io::Result<()>>,
    times: &mut CommitTimes,
) -> Vec<std::io::Result<()>> {
    let t = std::time::Instant::now();
    let mut results = flushed;
    results.resize_with(group.len(), || Err(std::io::Error::other("not flushed")));
    for (p, r) in group.iter().zip(results.iter_mut()) {
        if r.is_ok() {
            *r = publish_one(p);
        }
        if r.is_err() {
            p.temp.discard();
        }
    }
    times.publish += t.elapsed();
    let t = std::time::Instant::now();
    for d in dirs_of(&group) {
        let synced = std::fs::File::open(d).and_then(|f| f.sync_all());
        if let Err(e) = synced {
            for (p, r) in group.iter().zip(results.iter_mut()) {
                if r.is_ok() && parent(&p.target) == d {
                    *r = Err(std::io::Error::new(
                        e.kind(),
                        format!("published, but the directory sync failed: {e}"),
                    ));
                }
            }
        }
    }
    times.dir_sync += t.elapsed();
    results
}

fn publish_one(p: &Pending) -> std::io::Result<()> {
    match &p.temp {
        TempFile::Named(tmp) if p.replace => std::fs::rename(tmp, &p.target),
        // Never over an existing file: a hard link fails if the target exists (link(2)
        // EEXIST), atomically; then the temporary name goes.
        TempFile::Named(tmp) => {
            std::fs::hard_link(tmp, &p.target)?;
            let _ = std::fs::remove_file(tmp);
            Ok(())
        }
        #[cfg(target_os = "linux")]
        TempFile::Unnamed(f) => match f.link(&p.target) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && p.replace => {
                // Replacing a signature: a hidden name first, then an atomic rename over it.
                let tmp = temp_path(&p.target)?;
                let linked = match f.link(&tmp) {
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        // A leftover of a crashed run with the same process id.
                        std::fs::remove_file(&tmp)?;
                        f.link(&tmp)
                    }
                    r => r,
                };
                linked?;
                std::fs::rename(&tmp, &p.target).inspect_err(|_| {
                    let _ = std::fs::remove_file(&tmp);
                })
            }
            r => r,
        },
    }
}

#[cfg(target_os = "linux")]
fn flush_data(group: &[Pending], dirs: &[&Path]) -> Vec<std::io::Result<()>> {
    let mut failed: Vec<(&Path, std::io::Error)> = Vec::new();
    for d in dirs {
        let r = std::fs::File::open(d)
            .and_then(|f| rustix::fs::syncfs(&f).map_err(std::io::Error::from));
        if let Err(e) = r {
            failed.push((d, e));
        }
    }
    group
        .iter()
        .map(
            |p| match failed.iter().find(|(d, _)| *d == parent(&p.target)) {
                Some((_, e)) => Err(std::io::Error::new(e.kind(), e.to_string())),
                None => Ok(()),
            },
        )
        .collect()
}

#[cfg(not(target_os = "linux"))]
fn flush_data(group: &[Pending], _dirs: &[&Path]) -> Vec<std::io::Result<()>> {
    group
        .iter()
        .map(|p| match &p.temp {
            TempFile::Named(t) => std::fs::File::open(t).and_then(|f| f.sync_all()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_replaces() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.p7s");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn failure_leaves_nothing() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("missing-dir").join("a.p7s");
        assert!(write_atomic(&p, b"x").is_err());
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
    }

    #[test]
    fn batch_commit() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a.p7s");
        let b = d.path().join("b.p7s");
        std::fs::write(&a, b"old").unwrap();
        let group: Vec<Pending> = [(&a, b"new-a"), (&b, b"new-b")]
            .iter()
            .map(|(t, data)| Pending {
                temp: write_temp(t, *data).unwrap(),
                target: (*t).clone(),
                replace: true,
            })
            .collect();
        // Before the commit the targets are untouched.
        assert_eq!(std::fs::read(&a).unwrap(), b"old");
        assert!(!b.exists());
        let r = commit(group);
        assert!(r.iter().all(|r| r.is_ok()));
        assert_eq!(std::fs::read(&a).unwrap(), b"new-a");
        assert_eq!(std::fs::read(&b).unwrap(), b"new-b");
        // No temporary file is left behind, named or not.
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 2);
    }

    #[test]
    fn unnamed_bound_from_the_limit() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max processes             95000                95000                processes \n\
                      Max open files            1024                 524288               files     \n";
        assert_eq!(unnamed_bound(limits), Some(768));
        let high = limits.replace("1024  ", "20000 ");
        assert_eq!(unnamed_bound(&high), Some(4096));
        let low = limits.replace("1024  ", "200   ");
        assert_eq!(unnamed_bound(&low), Some(0));
        let unlimited = limits.replace("1024     ", "unlimited");
        assert_eq!(unnamed_bound(&unlimited), Some(4096));
        assert_eq!(unnamed_bound("garbage"), None);
        assert!(max_unnamed() <= 4096);
    }

    #[test]
    fn batch_commit_through_an_open_directory() {
        let d = tempfile::tempdir().unwrap();
        let other = tempfile::tempdir().unwrap();
        let dir = OutDir::open(d.path()).unwrap();
        let wrong = OutDir::open(other.path()).unwrap();
        let a = d.path().join("a.p7s");
        let b = d.path().join("b.p7s");
        std::fs::write(&a, b"old").unwrap();
        let group = vec![
            // Replacing a signature: linked under a hidden name, renamed over it.
            Pending {
                temp: write_temp_in(Some(&dir), &a, b"new-a").unwrap(),
                target: a.clone(),
                replace: true,
            },
            // An open directory that is not the target's is not used.
            Pending {
                temp: write_temp_in(Some(&wrong), &b, b"new-b").unwrap(),
                target: b.clone(),
                replace: true,
            },
        ];
        assert_eq!(std::fs::read(&a).unwrap(), b"old");
        let r = commit(group);
        assert!(r.iter().all(|r| r.is_ok()), "{r:?}");
        assert_eq!(std::fs::read(&a).unwrap(), b"new-a");
        assert_eq!(std::fs::read(&b).unwrap(), b"new-b");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 2);
        assert_eq!(std::fs::read_dir(other.path()).unwrap().count(), 0);
        // A directory that cannot be opened.
        assert!(OutDir::open(&d.path().join("missing")).is_err());
    }

    #[test]
    fn batch_commit_named_and_stale_temp() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a.p7s");
        std::fs::write(&a, b"old").unwrap();
        // A leftover hidden name from a crashed run with this process id.
        std::fs::write(temp_path(&a).unwrap(), b"stale").unwrap();
        let b = d.path().join("b.p7s");
        let named = temp_path(&b).unwrap();
        std::fs::write(&named, b"new-b").unwrap();
        let group = vec![
            Pending {
                temp: write_temp(&a, b"new-a").unwrap(),
                target: a.clone(),
                replace: true,
            },
            Pending {
                temp: TempFile::Named(named),
                target: b.clone(),
                replace: true,
            },
        ];
        let r = commit(group);
        assert!(r.iter().all(|r| r.is_ok()), "{r:?}");
        assert_eq!(std::fs::read(&a).unwrap(), b"new-a");
        assert_eq!(std::fs::read(&b).unwrap(), b"new-b");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 2);
    }

    #[test]
    fn many_temps_stay_bounded() {
        let d = tempfile::tempdir().unwrap();
        let n = max_unnamed() + 8;
        let group: Vec<Pending> = (0..n)
            .map(|i| {
                let t = d.path().join(format!("{i}.p7s"));
                Pending {
                    temp: write_temp(&t, b"x").unwrap(),
                    target: t,
                    replace: true,
                }
            })
            .collect();
        let named = group
            .iter()
            .filter(|p| matches!(p.temp, TempFile::Named(_)))
            .count();
        assert!(named >= 8, "{named}");
        assert!(commit(group).iter().all(|r| r.is_ok()));
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), n);
    }

    #[test]
    fn batch_commit_failure_leaves_target() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a.p7s");
        let temp = write_temp(&a, b"x").unwrap();
        // A target that cannot be replaced by a file: a non-empty directory.
        std::fs::create_dir(&a).unwrap();
        std::fs::write(a.join("keep"), b"k").unwrap();
        let r = commit(vec![Pending {
            temp,
            target: a.clone(),
            replace: true,
        }]);
        assert!(r[0].is_err());
        // Only the directory remains: no temporary file.
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
        assert!(a.join("keep").exists());
    }

    /// Without `replace`, a target that appeared after planning is never overwritten, with
    /// an unnamed or a named temporary file, and no temporary name is left behind.
    #[test]
    fn no_replace_leaves_an_existing_target() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a.p7s");
        let b = d.path().join("b.p7s");
        let c = d.path().join("c.p7s");
        std::fs::write(&a, b"theirs-a").unwrap();
        std::fs::write(&b, b"theirs-b").unwrap();
        let named = temp_path(&b).unwrap();
        std::fs::write(&named, b"ours-b").unwrap();
        let r = commit(vec![
            Pending {
                temp: write_temp(&a, b"ours-a").unwrap(),
                target: a.clone(),
                replace: false,
            },
            Pending {
                temp: TempFile::Named(named),
                target: b.clone(),
                replace: false,
            },
            Pending {
                temp: write_temp(&c, b"ours-c").unwrap(),
                target: c.clone(),
                replace: false,
            },
        ]);
        assert_eq!(
            r[0].as_ref().unwrap_err().kind(),
            std::io::ErrorKind::AlreadyExists
        );
        assert_eq!(
            r[1].as_ref().unwrap_err().kind(),
            std::io::ErrorKind::AlreadyExists
        );
        assert!(r[2].is_ok());
        assert_eq!(std::fs::read(&a).unwrap(), b"theirs-a");
        assert_eq!(std::fs::read(&b).unwrap(), b"theirs-b");
        assert_eq!(std::fs::read(&c).unwrap(), b"ours-c");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 3);
    }
}
