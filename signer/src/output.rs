//! Atomic output: write to a temporary file beside the target, make its data durable, rename,
//! make the directory durable. A reader never sees a half-written signature; a failure leaves
//! the target as it was.
//!
//! One file ([`write_atomic`], used by `--out` and `extend`): fsync the file, rename, fsync the
//! directory.
//!
//! A batch ([`write_temp`] then [`commit`]): each signature is written to its temporary file
//! without a sync; then, for a group of files, the data of all of them is flushed at once
//! (`syncfs(2)` on each output directory's file system on Linux, one `fsync` per file
//! elsewhere), every temporary file is renamed over its target, and each output directory is
//! fsynced once. Durability is paid per group, not per file, while atomicity stays per file.
//!
//! Crash semantics: a `.p7s` is only ever created or replaced by `rename(2)` of a temporary
//! file whose data has already reached the disk, so after a crash or power loss each target
//! holds either its previous state (absent, or the old signature) or the complete new
//! signature, never a partial one. A crash before a group's renames leaves hidden temporary
//! files named `.NAME.p7s.PID.tmp` beside the targets; they were never reported as written and
//! may be deleted. A file is reported signed only after its group's directory sync.

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

/// Writes `data` to the temporary file beside `path` (created new, not synced) and returns
/// its name; [`commit`] makes it durable and renames it. On failure nothing is left behind.
pub fn write_temp(path: &Path, data: &[u8]) -> std::io::Result<PathBuf> {
    let tmp = temp_path(path)?;
    let result = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut f| f.write_all(data));
    match result {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// A temporary file written by [`write_temp`] and the target it replaces.
#[derive(Clone, Debug)]
pub struct Pending {
    /// The temporary file.
    pub temp: PathBuf,
    /// The target.
    pub target: PathBuf,
}

/// Wall time spent in each step of [`commit_timed`], summed over calls.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CommitTimes {
    /// Making the data durable (`syncfs`, or one `fsync` per file).
    pub flush: std::time::Duration,
    /// Renaming the temporary files over their targets.
    pub rename: std::time::Duration,
    /// Syncing the target directories.
    pub dir_sync: std::time::Duration,
}

/// Makes a group of temporary files durable, renames each over its target and syncs each
/// target directory once. Returns one result per entry, in order; a failed entry's temporary
/// file is removed and its target left as it was.
pub fn commit(group: &[Pending]) -> Vec<std::io::Result<()>> {
    commit_timed(group, &mut CommitTimes::default())
}

/// [`commit`], adding the time of each step to `times`.
pub fn commit_timed(group: &[Pending], times: &mut CommitTimes) -> Vec<std::io::Result<()>> {
    let mut dirs: Vec<&Path> = group.iter().map(|p| parent(&p.target)).collect();
    dirs.sort();
    dirs.dedup();
    // 1. Data: one file-system flush per directory (usually one).
    let t = std::time::Instant::now();
    let mut results: Vec<std::io::Result<()>> = flush_data(group, &dirs);
    times.flush += t.elapsed();
    // 2. Renames: the targets change atomically, with data already on disk.
    let t = std::time::Instant::now();
    for (p, r) in group.iter().zip(results.iter_mut()) {
        if r.is_ok() {
            *r = std::fs::rename(&p.temp, &p.target);
        }
        if r.is_err() {
            let _ = std::fs::remove_file(&p.temp);
        }
    }
    times.rename += t.elapsed();
    // 3. Directories: the renames themselves become durable.
    let t = std::time::Instant::now();
    for d in dirs {
        let synced = std::fs::File::open(d).and_then(|f| f.sync_all());
        if let Err(e) = synced {
            for (p, r) in group.iter().zip(results.iter_mut()) {
                if r.is_ok() && parent(&p.target) == d {
                    *r = Err(std::io::Error::new(
                        e.kind(),
                        format!("renamed, but the directory sync failed: {e}"),
                    ));
                }
            }
        }
    }
    times.dir_sync += t.elapsed();
    results
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
        .map(|p| std::fs::File::open(&p.temp).and_then(|f| f.sync_all()))
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
            })
            .collect();
        // Before the commit the targets are untouched.
        assert_eq!(std::fs::read(&a).unwrap(), b"old");
        assert!(!b.exists());
        let r = commit(&group);
        assert!(r.iter().all(|r| r.is_ok()));
        assert_eq!(std::fs::read(&a).unwrap(), b"new-a");
        assert_eq!(std::fs::read(&b).unwrap(), b"new-b");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 2);
    }

    #[test]
    fn batch_commit_failure_leaves_target() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a.p7s");
        let temp = write_temp(&a, b"x").unwrap();
        // A target that cannot be replaced by a file: a non-empty directory.
        std::fs::create_dir(&a).unwrap();
        std::fs::write(a.join("keep"), b"k").unwrap();
        let r = commit(&[Pending {
            temp: temp.clone(),
            target: a.clone(),
        }]);
        assert!(r[0].is_err());
        assert!(!temp.exists());
        assert!(a.join("keep").exists());
    }
}
