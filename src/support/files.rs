//! Files that are either complete or absent, readable by the owner only.
//!
//! Every file flspost writes goes to a temporary name in the same folder, is flushed to
//! disk, and is then renamed into place: a reader (or a crash) never sees half a file.
//! The folder is flushed after the rename, so a file reported as written is still there
//! after a power cut (a rename lives in the folder, not in the file).

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// `.NAME.tmp-PID-N`: unique per process and per call, and tells `sweep_temporaries`
/// whose it is.
pub(crate) fn temp_name(name: &std::ffi::OsStr) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(".{}.tmp-{}-{}", name.to_string_lossy(), std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// Owner-only for everything flspost creates (journal, messages, outbox files), also
/// files other libraries create for us (SQLite's -wal and -shm).
pub fn restrict_umask() {
    // SAFETY: umask only changes this process's file-creation mask.
    unsafe {
        libc::umask(0o077);
    }
}

/// Creates `dir` and missing parents with mode 0700.
pub(crate) fn create_private_dir(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Whether `dir` is a real folder (false when absent). A symbolic link, even to a folder, is an
/// error, as is anything else that is not a folder: flspost never writes through a link it did
/// not make (into someone else's folder).
pub(crate) fn real_dir(dir: &Path) -> io::Result<bool> {
    match fs::symlink_metadata(dir) {
        Ok(m) if m.file_type().is_dir() => Ok(true),
        Ok(m) if m.file_type().is_symlink() => {
            Err(io::Error::other("is a symbolic link; flspost does not write through links"))
        }
        Ok(_) => Err(io::Error::other("exists and is not a folder")),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// As [`create_private_dir`], and flushes the folder each new one was created in, so the
/// new folders' names are on disk before anything inside them is reported.
pub(crate) fn create_private_dir_durable(dir: &Path) -> io::Result<()> {
    let missing: Vec<&Path> = dir.ancestors().take_while(|d| !d.as_os_str().is_empty() && !d.is_dir()).collect();
    if missing.is_empty() {
        return Ok(());
    }
    create_private_dir(dir)?;
    for d in missing {
        sync_dir(parent_of(d))?;
    }
    Ok(())
}

/// Flushes a folder's entries (new names, renames) to disk.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The folder a path's entry lives in (`.` for a bare name).
pub(crate) fn parent_of(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Writes `bytes` to `path` atomically with mode 0600; when this returns, the file and its
/// name are on disk (the data flushed before the rename, the folder after it).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_via(path, bytes, parent_of(path))
}

/// As [`write_atomic`], with the temporary file in `tmp_dir` (on the same filesystem), so a
/// killed run leaves it there rather than beside the file.
fn write_atomic_via(path: &Path, bytes: &[u8], tmp_dir: &Path) -> io::Result<()> {
    let dir = parent_of(path);
    let name = path.file_name().ok_or_else(|| io::Error::other("no file name"))?;
    let tmp = tmp_dir.join(temp_name(name));
    let result = (|| {
        let mut f = OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_data()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    sync_dir(dir)
}

/// Puts `bytes` into the archive folder `dir` as the new owner-only file `name` (the folder
/// made owner-only when missing; never through a link). A file there with the same bytes
/// already (an earlier prune that stopped before it committed) is left as it is.
pub fn archive_file(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    if !real_dir(dir)? {
        create_private_dir_durable(dir)?;
    }
    let path = dir.join(name);
    match write_new(&path, bytes) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let same = fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_file())
                && fs::read(&path).is_ok_and(|b| b == bytes);
            if same {
                Ok(())
            } else {
                Err(e)
            }
        }
        other => other,
    }
}

/// Writes `bytes` to a new file at `path`, owner-only (0600): never over anything already
/// there (a file, a folder, or a symbolic link, which is not followed), and complete or absent
/// (written to a temporary name beside it and flushed, then linked to `path`, which fails when
/// `path` exists, and flushed in its folder). For a file a person asked for: it may hold CPR
/// numbers.
pub fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = parent_of(path);
    let name = path.file_name().ok_or_else(|| io::Error::other("names no file"))?;
    if fs::symlink_metadata(path).is_ok() {
        return Err(io::Error::new(io::ErrorKind::AlreadyExists, "exists; flspost never writes over a file"));
    }
    let tmp = dir.join(temp_name(name));
    let result = (|| {
        let mut f =
            OpenOptions::new().write(true).create_new(true).mode(0o600).custom_flags(libc::O_NOFOLLOW).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_data()?;
        // link(2) never replaces what is at `path`, a dangling symbolic link included.
        fs::hard_link(&tmp, path).map_err(|e| match e.kind() {
            io::ErrorKind::AlreadyExists => {
                io::Error::new(io::ErrorKind::AlreadyExists, "exists; flspost never writes over a file")
            }
            _ => e,
        })
    })();
    let _ = fs::remove_file(&tmp);
    result?;
    sync_dir(dir)
}

/// Makes an existing file and its name durable (a file an earlier, killed run renamed into
/// place but may not have flushed).
pub(crate) fn sync_existing(path: &Path) -> io::Result<()> {
    File::open(path)?.sync_all()?;
    sync_dir(parent_of(path))
}

/// Hidden folder beside the results where a result's files are staged before they appear.
pub const STAGING: &str = ".flspost-tmp";

/// Replaces (or adds) one file in the result folder `dir`, staged in the parent's
/// [`STAGING`] folder: a killed run never leaves a temporary file inside a result folder,
/// only in the staging folder, which [`sweep_temporaries`] clears.
pub(crate) fn replace_in_dir(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let staging = parent_of(dir).join(STAGING);
    create_private_dir(&staging)?;
    write_atomic_via(&dir.join(name), bytes, &staging)
}

/// Writes several files into `dir` so they appear together: into a fresh folder under
/// the parent's [`STAGING`] folder first, which is then renamed to `dir`. When `dir`
/// already exists (a correction), each file is replaced atomically in turn (see
/// [`replace_in_dir`]).
///
/// Every file and `dir` itself are flushed to disk; the rename of a new `dir` lives in its
/// parent, which the caller flushes with [`sync_dir`] before reporting the files: once for
/// a whole round of results rather than once per result.
pub(crate) fn write_dir_atomic(dir: &Path, files: &[(&str, &[u8])]) -> io::Result<()> {
    match stage_dir(dir, files)? {
        Some(staged) => finish_staged(vec![staged]).pop().unwrap_or(Ok(())),
        None => Ok(()),
    }
}

/// A folder's files written into the staging folder, not yet flushed nor in place: see
/// [`finish_staged`].
#[derive(Debug)]
pub(crate) struct StagedDir {
    tmp: PathBuf,
    dir: PathBuf,
    files: Vec<PathBuf>,
}

/// [`write_dir_atomic`]'s first half: the files written (unflushed) into a new folder in the
/// staging folder. `None` when `dir` existed and its files were replaced in it, durably, there
/// and then (a folder of a result written before).
pub(crate) fn stage_dir(dir: &Path, files: &[(&str, &[u8])]) -> io::Result<Option<StagedDir>> {
    if real_dir(dir)? {
        for (name, bytes) in files {
            replace_in_dir(dir, name, bytes)?;
        }
        return Ok(None);
    }
    let parent = parent_of(dir);
    let staging = parent.join(STAGING);
    create_private_dir_durable(parent)?;
    let name = dir.file_name().ok_or_else(|| io::Error::other("no folder name"))?;
    let tmp = staging.join(temp_name(name));
    // Another flspost may remove the empty staging folder between our creating it and
    // using it (see `remove_staging_if_empty`): then create it again.
    let mut tries = 0;
    loop {
        if !real_dir(&staging).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", staging.display())))? {
            create_private_dir(&staging)?;
        }
        match DirBuilder::new().mode(0o700).create(&tmp) {
            Err(e) if e.kind() == io::ErrorKind::NotFound && tries < 3 => tries += 1,
            other => break other?,
        }
    }
    let staged = StagedDir { tmp, dir: dir.to_path_buf(), files: vec![] };
    let written = (|| {
        let mut paths = vec![];
        for (name, bytes) in files {
            let path = staged.tmp.join(name);
            OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path)?.write_all(bytes)?;
            paths.push(path);
        }
        Ok(paths)
    })();
    match written {
        Ok(files) => Ok(Some(StagedDir { files, ..staged })),
        Err(e) => {
            let _ = fs::remove_dir_all(&staged.tmp);
            Err(e)
        }
    }
}

/// The most flushes [`finish_staged`] has waiting at once: the disk groups concurrent ones
/// into one journal commit (16 in flight gave 2.5 times the results a second of one after
/// another on this project's machine, 30 times while another program wrote).
const FLUSHES_IN_FLIGHT: usize = 16;

/// [`write_dir_atomic`]'s second half, for many folders at once: every file flushed, then
/// every folder, each of these concurrently, then each folder renamed into place (its
/// parent is flushed by the caller, once). A folder is only ever in place with its files on
/// disk. One answer per folder, in order; a folder that failed is removed.
pub(crate) fn finish_staged(staged: Vec<StagedDir>) -> Vec<io::Result<()>> {
    let files: Vec<(usize, &Path)> =
        staged.iter().enumerate().flat_map(|(i, s)| s.files.iter().map(move |f| (i, f.as_path()))).collect();
    let mut failed: Vec<Option<io::Error>> = staged.iter().map(|_| None).collect();
    for (i, e) in concurrently(&files, |(i, f)| (*i, File::open(f).and_then(|f| f.sync_data()))) {
        if let Err(e) = e {
            failed[i].get_or_insert(e);
        }
    }
    let dirs: Vec<(usize, &Path)> =
        staged.iter().enumerate().filter(|(i, _)| failed[*i].is_none()).map(|(i, s)| (i, s.tmp.as_path())).collect();
    for (i, e) in concurrently(&dirs, |(i, d)| (*i, sync_dir(d))) {
        if let Err(e) = e {
            failed[i].get_or_insert(e);
        }
    }
    staged
        .iter()
        .zip(failed)
        .map(|(s, failed)| {
            let result = match failed {
                Some(e) => Err(e),
                None => fs::rename(&s.tmp, &s.dir),
            };
            if result.is_err() {
                let _ = fs::remove_dir_all(&s.tmp);
            }
            result
        })
        .collect()
}

/// `f` over `items` on up to [`FLUSHES_IN_FLIGHT`] threads (one item: this thread).
fn concurrently<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync) -> Vec<U> {
    if items.len() <= 1 {
        return items.iter().map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let threads = items.len().min(FLUSHES_IN_FLIGHT);
    let mut out: Vec<(usize, U)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = vec![];
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { return done };
                        done.push((i, f(item)));
                    }
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    });
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, u)| u).collect()
}

/// Removes temporary files and folders that a killed flspost left in `dir` (and in its
/// [`STAGING`] folder), so they cannot be mistaken for output. Those of a process still
/// running are left alone. Only the staging folder is listed when it exists, so this stays
/// cheap beside a folder of many results.
pub fn sweep_temporaries(dir: &Path) {
    let staging = dir.join(STAGING);
    let target = if staging.is_dir() { staging } else { dir.to_path_buf() };
    let Ok(entries) = fs::read_dir(&target) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some(pid) = name
            .strip_prefix('.')
            .and_then(|n| n.rsplit_once(".tmp-"))
            .and_then(|(_, rest)| rest.split('-').next())
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        // SAFETY: signal 0 only asks whether the process exists.
        let alive =
            unsafe { libc::kill(pid, 0) } == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
        if !alive {
            let p: PathBuf = e.path();
            let _ = if p.is_dir() { fs::remove_dir_all(&p) } else { fs::remove_file(&p) };
        }
    }
}

/// Removes `dir`'s staging folder when nothing is left in it, so a run leaves only the
/// results' folders behind. A folder still in use by another run is not empty and stays.
pub fn remove_staging_if_empty(dir: &Path) {
    let _ = fs::remove_dir(dir.join(STAGING));
}

/// Reads an input file, or standard input for `-`: at most `limit` bytes of it, so a
/// caller can refuse a longer one without holding it.
pub(crate) fn read_input(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    if path != Path::new("-") {
        return read_capped(path, limit);
    }
    let mut buf = vec![];
    io::Read::read_to_end(&mut io::Read::take(io::stdin(), limit), &mut buf)?;
    Ok(buf)
}

/// Reads at most `limit` bytes of a file (`/dev/zero` ends too).
pub(crate) fn read_capped(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let mut buf = vec![];
    io::Read::read_to_end(&mut io::Read::take(File::open(path)?, limit), &mut buf)?;
    Ok(buf)
}

/// Why [`read_regular_file`] refused a file.
#[derive(Debug)]
pub(crate) enum NotRead {
    /// A symbolic link (it could point anywhere, or at something that never ends).
    Link,
    /// A FIFO, device or folder.
    NotRegular,
    /// Longer than the limit.
    TooLong,
    Io(io::Error),
}

impl std::fmt::Display for NotRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotRead::Link => f.write_str("is a symbolic link; only a regular file is read"),
            NotRead::NotRegular => f.write_str("is not a regular file"),
            NotRead::TooLong => f.write_str("is longer than the limit"),
            NotRead::Io(e) => e.fmt(f),
        }
    }
}

/// Reads a regular file of at most `limit` bytes, never through a symbolic link and never
/// waiting on a FIFO: for files a config names (templates, the receiver table).
pub(crate) fn read_regular_file(path: &Path, limit: u64) -> Result<Vec<u8>, NotRead> {
    let meta = path.symlink_metadata().map_err(NotRead::Io)?;
    if meta.file_type().is_symlink() {
        return Err(NotRead::Link);
    }
    // O_NOFOLLOW: the name cannot have become a link since; O_NONBLOCK: nor will a FIFO hang.
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(NotRead::Io)?;
    if !file.metadata().map_err(NotRead::Io)?.is_file() {
        return Err(NotRead::NotRegular);
    }
    let mut bytes = vec![];
    io::Read::read_to_end(&mut io::Read::take(file, limit + 1), &mut bytes).map_err(NotRead::Io)?;
    if bytes.len() as u64 > limit {
        return Err(NotRead::TooLong);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn atomic_files_are_owner_only_and_leave_no_temporaries() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.xml");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1);

        let sub = d.path().join("out").join("R1");
        write_dir_atomic(&sub, &[("x", b"1"), ("y", b"2")]).unwrap();
        create_private_dir_durable(&d.path().join("a/b/c")).unwrap();
        assert!(d.path().join("a/b/c").is_dir());
        assert_eq!(fs::metadata(&sub).unwrap().permissions().mode() & 0o777, 0o700);
        assert_eq!(fs::read(sub.join("y")).unwrap(), b"2");
        write_dir_atomic(&sub, &[("x", b"3")]).unwrap();
        assert_eq!(fs::read(sub.join("x")).unwrap(), b"3");
        let names: Vec<_> = fs::read_dir(d.path().join("out")).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(names.len(), 2, "{names:?}"); // R1 and the (empty) staging folder
        fs::remove_dir_all(d.path().join("a")).unwrap();
        assert_eq!(fs::read_dir(d.path().join("out").join(STAGING)).unwrap().count(), 0);
        remove_staging_if_empty(&d.path().join("out"));
        let names: Vec<_> = fs::read_dir(d.path().join("out")).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(names, ["R1"]);
    }

    #[test]
    fn a_new_file_is_owner_only_and_never_written_over_nor_through_a_link() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("export.json");
        write_new(&p, b"one").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"one");
        assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        let e = write_new(&p, b"two").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&p).unwrap(), b"one");
        let target = d.path().join("elsewhere");
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert_eq!(write_new(&link, b"x").unwrap_err().kind(), io::ErrorKind::AlreadyExists);
        assert!(!target.exists(), "nothing written through the link");
        let names: Vec<_> = fs::read_dir(d.path()).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(names.len(), 2, "no temporary left: {names:?}");
    }
}

/// `PATH` with `suffix` added to its file name (`journal.sqlite` -> `journal.sqlite-wal`).
pub fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}
