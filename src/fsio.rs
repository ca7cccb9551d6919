//! File reads with size limits, and the crate's only file writer.
//!
//! Owns: reads with limits ([`read_limited`]; secret inputs may also be `-` or a pipe, read once
//! by [`read_input_limited`]), every file write and the writers' lock. Must not interpret content:
//! it neither knows nor checks what it writes. Callers must only ever hand [`atomic_write`] public
//! bytes (ciphertext, manifests): its temp file is a normal file in the target's directory until
//! it is renamed. Plaintext the user asked to have on disk (the env file `emp-seal init` creates)
//! goes through [`write_private`] instead.
//!
//! Symlinks: a target that is a symlink is resolved and the file it points to is replaced
//! atomically; the link itself is kept. A dangling link is refused. See docs/rewrite.md.
//!
//! [`lock_for_write`] locks the directory that holds a file, not the file: the file is replaced by
//! rename, so a lock on it would be on the old inode. The kernel drops the `flock` when its holder
//! exits, however it exits, and nothing is created on disk, so a crashed run never leaves a
//! blocker behind.

use std::fs::{self, File, Permissions};
use std::io::{self, ErrorKind, Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// Errors reading or writing a file. Every message names the path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FsError {
    #[error("{}: no such file", path.display())]
    NotFound { path: PathBuf },
    #[error("{}: is a directory, not a file", path.display())]
    IsADirectory { path: PathBuf },
    #[error("{}: not a regular file", path.display())]
    NotARegularFile { path: PathBuf },
    #[error("{}: permission denied ({op})", path.display())]
    PermissionDenied { path: PathBuf, op: &'static str },
    /// The directory cannot take a new file (read-only, immutable, or read-only filesystem).
    #[error("{}: cannot create a file in this directory (read-only or not writable)", dir.display())]
    ReadOnlyDirectory { dir: PathBuf },
    /// The file itself is read-only: no write bit is set, or this user may not write it.
    /// Replacing it by rename would succeed in a writable directory, and silently undo the
    /// owner's choice (or, for a file of another user's, take it over).
    #[error("{}: the file is read-only (mode {mode:04o}); it was not changed", path.display())]
    ReadOnlyFile { path: PathBuf, mode: u32 },
    #[error("{}: no space left on the device; the file was not changed", path.display())]
    NoSpace { path: PathBuf },
    #[error("{}: larger than the {limit}-byte limit", path.display())]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("{}", not_utf8(path.display(), *line))]
    InvalidUtf8 {
        path: PathBuf,
        /// 1-based line of the first byte that is not UTF-8 ([`line_at`]).
        line: usize,
    },
    #[error("{}: dangling symlink (its target does not exist)", path.display())]
    DanglingSymlink { path: PathBuf },
    #[error("{}: already exists", path.display())]
    AlreadyExists { path: PathBuf },
    #[error("{}: file is busy (another emp-seal run is writing it; waited {waited_secs} s); nothing was written", path.display())]
    Busy { path: PathBuf, waited_secs: u64 },
    #[error("{}: nothing opened this pipe for writing within {waited_secs} s", path.display())]
    NoPipeWriter { path: PathBuf, waited_secs: u64 },
    #[error("{}: the pipe gave no data (nothing was writing to it, or the command feeding it failed)", path.display())]
    EmptyPipe {
        /// The pipe (`<stdin>` for standard input).
        path: PathBuf,
    },
    /// The file changed between planning and locking in a way the plan cannot follow (another
    /// run wrote it, or the tree now names another file).
    #[error("{}: changed while this run was planning; nothing was written", path.display())]
    ChangedMeanwhile { path: PathBuf },
    /// `EMP_SEAL_LOCK_WAIT` is set, but not to a whole number of seconds: a setting is never
    /// replaced by the default in silence.
    #[error("EMP_SEAL_LOCK_WAIT is not a whole number of seconds: `{}`; nothing was written", .value.escape_debug())]
    LockWait { value: String },
    /// Standard input (`-`, `/dev/stdin`) is named twice in one run (`--from -` and `--key -`,
    /// or two `--key -`): it can be read once.
    #[error(
        "standard input is named twice (as `-` or /dev/stdin, by --from or --key); a run reads it once"
    )]
    StdinTwice,
    /// `-` (standard input) is a terminal: the env file would be typed with echo on.
    #[error("standard input is a terminal; `-` reads an env file from a pipe")]
    StdinIsTerminal,
    #[error("{}: {op} failed: {source}", path.display())]
    Io {
        path: PathBuf,
        op: &'static str,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl FsError {
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::ReadOnlyDirectory { .. } => {
                Some("the file is replaced by rename, so its directory must be writable")
            }
            Self::ReadOnlyFile { .. } => {
                Some("if it should change, make it writable (`chmod u+w FILE`) and run again")
            }
            Self::DanglingSymlink { .. } => Some("fix or remove the symlink, then retry"),
            Self::TooLarge { .. } => Some("is this the right file?"),
            Self::Busy { .. } => Some(
                "wait for the other run to finish and retry; raise the wait with EMP_SEAL_LOCK_WAIT=SECONDS",
            ),
            Self::ChangedMeanwhile { .. } => Some("run the command again"),
            Self::LockWait { .. } => Some(
                "set it to the seconds to wait for another run's lock (default 10), or unset it",
            ),
            Self::StdinTwice => Some(
                "pass one of them as a file, or as a pipe of its own (`--key <(sops -d key.pem)`)",
            ),
            Self::StdinIsTerminal => {
                Some("pipe it in (`sops -d secrets.env | emp-seal ENV --from -`) or name a file")
            }
            _ => None,
        }
    }

    fn from_io(path: &Path, op: &'static str, e: io::Error) -> FsError {
        let path = path.to_path_buf();
        match e.kind() {
            ErrorKind::NotFound => FsError::NotFound { path },
            ErrorKind::IsADirectory => FsError::IsADirectory { path },
            ErrorKind::PermissionDenied => FsError::PermissionDenied { path, op },
            ErrorKind::StorageFull => FsError::NoSpace { path },
            ErrorKind::AlreadyExists => FsError::AlreadyExists { path },
            _ => FsError::Io {
                path,
                op,
                source: e,
            },
        }
    }
}

/// Whether `path` is a FIFO, socket or device: opening one for reading can block until a
/// writer comes (a FIFO), so it is named as such rather than read ([`read_limited`] refuses it).
pub fn is_special_file(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// Reads a regular file of at most `max_bytes` bytes.
pub fn read_limited(path: &Path, max_bytes: u64) -> Result<Vec<u8>, FsError> {
    // Refuse special files before opening: opening a FIFO for reading blocks until a writer
    // appears, so `--from some.fifo` would hang (found by tests/integration/badinput.rs).
    // The check after opening stays, for a file swapped in between.
    let pre = fs::metadata(path).map_err(|e| FsError::from_io(path, "stat", e))?;
    check_regular(path, &pre)?;
    let file = File::open(path).map_err(|e| FsError::from_io(path, "open", e))?;
    let meta = file
        .metadata()
        .map_err(|e| FsError::from_io(path, "stat", e))?;
    check_regular(path, &meta)?;
    if meta.len() > max_bytes {
        return Err(FsError::TooLarge {
            path: path.to_path_buf(),
            limit: max_bytes,
        });
    }
    // Sized up front so no reallocation leaves a copy behind; the file may have grown since.
    let capacity = usize::try_from(meta.len()).unwrap_or(0);
    read_capped(file, capacity, path, max_bytes)
}

/// Reads `stream` to its end, refusing more than `max_bytes` (it reads one byte past the limit
/// to tell). A refused partial read is wiped: it may hold secrets.
fn read_capped(
    mut stream: impl Read,
    capacity: usize,
    path: &Path,
    max_bytes: u64,
) -> Result<Vec<u8>, FsError> {
    use zeroize::Zeroizing;
    // Reads of a whole chunk, as large as std's stdin buffer: `BufReader` passes such a read
    // straight through, so standard input's process-wide buffer never holds the input.
    const CHUNK: usize = 8 * 1024;
    // Every buffer is wiped when dropped: on a refusal (a read error part-way, an input over the
    // limit), and each one outgrown, which is grown by hand (`read_to_end` would reallocate,
    // freeing the smaller buffers unwiped).
    // Exactly `capacity` (a regular file's size and one byte to see its end): the buffer is kept
    // as the file's text, so a larger one would hold the difference for the whole run (20,000
    // small manifests each padded to a chunk's size).
    let mut buf = Zeroizing::new(Vec::with_capacity(capacity));
    let mut chunk = Zeroizing::new([0u8; CHUNK]);
    loop {
        let n = match stream.read(&mut chunk[..]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(FsError::from_io(path, "read", e)),
        };
        if u64::try_from(buf.len() + n).unwrap_or(u64::MAX) > max_bytes {
            return Err(FsError::TooLarge {
                path: path.to_path_buf(),
                limit: max_bytes,
            });
        }
        if buf.len() + n > buf.capacity() {
            let mut bigger = Zeroizing::new(Vec::with_capacity(2 * buf.capacity() + n));
            bigger.extend_from_slice(&buf);
            buf = bigger;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(std::mem::take(&mut *buf))
}

/// The path that names standard input for [`read_input_limited`].
pub const STDIN: &str = "-";

/// Reads a secret input (an env file or a private key) of at most `max_bytes` bytes: a regular
/// file exactly as [`read_limited`] does; `-` (standard input, unless it is a terminal),
/// `/dev/stdin` or any other FIFO (e.g. `<(sops -d secrets.env)`) read once to its end, refused
/// past the limit. Sockets and devices are still refused.
///
/// # Errors
/// As [`read_limited`], plus [`FsError::StdinIsTerminal`].
pub fn read_input_limited(path: &Path, max_bytes: u64) -> Result<Vec<u8>, FsError> {
    use std::io::IsTerminal;
    use std::os::unix::fs::FileTypeExt;
    // Standard input is named as every other message names it.
    let is_stdin = path.as_os_str() == STDIN;
    let path = if is_stdin { Path::new("<stdin>") } else { path };
    let buf = if is_stdin {
        let stdin = io::stdin();
        if stdin.is_terminal() {
            return Err(FsError::StdinIsTerminal);
        }
        read_capped(stdin.lock(), 0, path, max_bytes)?
    } else {
        let meta = fs::metadata(path).map_err(|e| FsError::from_io(path, "stat", e))?;
        if !meta.file_type().is_fifo() {
            return read_limited(path, max_bytes);
        }
        read_capped(open_fifo(path)?, 0, path, max_bytes)?
    };
    if buf.is_empty() {
        return Err(FsError::EmptyPipe {
            path: path.to_path_buf(),
        });
    }
    Ok(buf)
}

/// Refuses two of `inputs` naming standard input (`-`, `/dev/stdin`, `/dev/fd/0`): the second
/// would read nothing.
///
/// # Errors
/// [`FsError::StdinTwice`].
pub fn refuse_stdin_twice<'p>(inputs: impl IntoIterator<Item = &'p Path>) -> Result<(), FsError> {
    let stdin = |p: &&Path| {
        p.as_os_str() == STDIN
            || [
                Path::new("/dev/stdin"),
                Path::new("/dev/fd/0"),
                Path::new("/proc/self/fd/0"),
            ]
            .contains(p)
    };
    match inputs.into_iter().filter(stdin).count() {
        0 | 1 => Ok(()),
        _ => Err(FsError::StdinTwice),
    }
}

/// How long [`read_input_limited`] waits for a FIFO's writer to appear, in seconds.
pub const PIPE_WRITER_WAIT_SECS: u64 = 10;

/// Opens a FIFO for reading, waiting up to [`PIPE_WRITER_WAIT_SECS`] for a writer: opening a FIFO
/// blocks until one appears, forever if none does (a named pipe nothing feeds). The open runs on
/// a helper thread; when the wait runs out the run fails with [`FsError::NoPipeWriter`] (and
/// exits, taking the still-blocked thread with it). Process substitution (`<(cmd)`) and
/// `cmd | emp-seal ... --from /dev/stdin` have their writer before emp-seal starts.
fn open_fifo(path: &Path) -> Result<File, FsError> {
    let (tx, rx) = std::sync::mpsc::channel();
    let owned = path.to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(File::open(&owned));
    });
    match rx.recv_timeout(std::time::Duration::from_secs(PIPE_WRITER_WAIT_SECS)) {
        Ok(opened) => opened.map_err(|e| FsError::from_io(path, "open", e)),
        Err(_) => Err(FsError::NoPipeWriter {
            path: path.to_path_buf(),
            waited_secs: PIPE_WRITER_WAIT_SECS,
        }),
    }
}

/// Default of [`lock_for_write`]'s wait, in seconds (`EMP_SEAL_LOCK_WAIT` overrides it).
pub const DEFAULT_LOCK_WAIT_SECS: u64 = 10;

/// Exclusive write locks on the directories of some files, released when dropped (and by the
/// kernel when the process dies).
#[derive(Debug)]
pub struct WriteLock {
    _dirs: Vec<File>,
}

/// Takes the write lock of every file in `targets`: an exclusive `flock` on the directory the
/// file is (or, for a symlink, its target is) in. Directories are locked in sorted order, each
/// once, so runs that write several files cannot deadlock. Waits up to `EMP_SEAL_LOCK_WAIT`
/// seconds (default [`DEFAULT_LOCK_WAIT_SECS`]) for each.
///
/// Callers re-read their files after this returns and apply their change to what they read:
/// that, not the lock alone, is what keeps a concurrent run's change.
///
/// # Errors
/// [`FsError::Busy`] naming the file when the wait runs out; [`FsError::LockWait`] when the
/// setting is no whole number; [`FsError::Io`] when the directory cannot be opened or locked.
pub fn lock_for_write<P: AsRef<Path>>(targets: &[P]) -> Result<WriteLock, FsError> {
    let wait = match std::env::var_os("EMP_SEAL_LOCK_WAIT") {
        None => DEFAULT_LOCK_WAIT_SECS,
        Some(v) => v
            .to_str()
            .and_then(lock_wait_secs)
            .ok_or_else(|| FsError::LockWait {
                value: v.to_string_lossy().into_owned(),
            })?,
    };
    lock_within(targets, wait)
}

/// `EMP_SEAL_LOCK_WAIT` as seconds: digits (blanks around them allowed), a number too large for
/// the clock waiting as long as it can.
fn lock_wait_secs(s: &str) -> Option<u64> {
    let digits = s.trim();
    let whole = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    whole.then(|| digits.parse::<u64>().unwrap_or(u64::MAX))
}

fn lock_within<P: AsRef<Path>>(targets: &[P], wait: u64) -> Result<WriteLock, FsError> {
    let mut dirs: Vec<(PathBuf, PathBuf)> = Vec::new();
    for t in targets {
        let t = t.as_ref();
        let (resolved, _) = resolve_target(t)?;
        let dir = dir_of(&resolved);
        let dir = fs::canonicalize(&dir).map_err(|e| FsError::from_io(&dir, "resolve", e))?;
        dirs.push((dir, t.to_path_buf()));
    }
    dirs.sort();
    dirs.dedup_by(|a, b| a.0 == b.0);
    let mut held = Vec::with_capacity(dirs.len());
    for (dir, file) in &dirs {
        held.push(lock_dir(dir, file, wait)?);
    }
    hold_for_tests();
    Ok(WriteLock { _dirs: held })
}

fn lock_dir(dir: &Path, file: &Path, wait_secs: u64) -> Result<File, FsError> {
    use rustix::fs::{FlockOperation, Mode, OFlags, flock};
    let fd = rustix::fs::open(
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| FsError::from_io(dir, "open directory to lock", io::Error::from(e)))?;
    // A wait past what the clock can count is no deadline at all.
    let deadline = std::time::Instant::now().checked_add(std::time::Duration::from_secs(wait_secs));
    loop {
        match flock(&fd, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => return Ok(File::from(fd)),
            Err(e) if e == rustix::io::Errno::WOULDBLOCK || e == rustix::io::Errno::INTR => {}
            Err(e) => return Err(FsError::from_io(dir, "lock directory", io::Error::from(e))),
        }
        if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
            return Err(FsError::Busy {
                path: file.to_path_buf(),
                waited_secs: wait_secs,
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Test builds only: `EMP_SEAL_TEST_HOLD_LOCK_MS` keeps a freshly taken lock that long, so the
/// integration tests can SIGKILL a real holder (tests/integration/lock.rs). Release builds
/// have no such hook.
fn hold_for_tests() {
    #[cfg(debug_assertions)]
    if let Some(ms) = std::env::var("EMP_SEAL_TEST_HOLD_LOCK_MS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

/// Whether `path` still holds exactly `expected` (a missing file holds `""`): a writer that
/// planned from `expected` checks this after [`lock_for_write`] and re-plans when it is false.
pub fn unchanged(path: &Path, expected: &str) -> bool {
    let limit = u64::try_from(expected.len()).unwrap_or(u64::MAX);
    match read_limited(path, limit) {
        Ok(now) => now == expected.as_bytes(),
        Err(FsError::NotFound { .. }) => expected.is_empty(),
        Err(_) => false,
    }
}

/// Reads a UTF-8 text file of at most `max_bytes` bytes.
pub fn read_to_string_limited(path: &Path, max_bytes: u64) -> Result<String, FsError> {
    let bytes = read_limited(path, max_bytes)?;
    String::from_utf8(bytes).map_err(|e| FsError::InvalidUtf8 {
        path: path.to_path_buf(),
        line: line_at(e.as_bytes(), e.utf8_error().valid_up_to()),
    })
}

/// How every message says that `file` is not UTF-8, first at 1-based line `line`.
pub fn not_utf8(file: impl std::fmt::Display, line: usize) -> String {
    format!("{file}: not valid UTF-8 (line {line})")
}

/// The 1-based line of `bytes` that holds the byte at `offset`.
pub fn line_at(bytes: &[u8], offset: usize) -> usize {
    1 + bytes[..offset].iter().filter(|b| **b == b'\n').count()
}

/// The file a write to `path` replaces: `path` itself, or the end of its symlink chain.
/// `Ok(None)` mode means the file does not exist yet.
fn resolve_target(path: &Path) -> Result<(PathBuf, Option<fs::Metadata>), FsError> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            let target = fs::canonicalize(path).map_err(|e| match e.kind() {
                ErrorKind::NotFound => FsError::DanglingSymlink {
                    path: path.to_path_buf(),
                },
                _ => FsError::from_io(path, "resolve symlink", e),
            })?;
            let meta = fs::metadata(&target).map_err(|e| FsError::from_io(&target, "stat", e))?;
            check_regular(&target, &meta)?;
            Ok((target, Some(meta)))
        }
        Ok(m) => {
            check_regular(path, &m)?;
            Ok((path.to_path_buf(), Some(m)))
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Ok((path.to_path_buf(), None)),
        Err(e) => Err(FsError::from_io(path, "stat", e)),
    }
}

/// The file [`atomic_write`] replaces for `path`: `path` itself, or the file its symlink chain
/// ends at (for messages that must name the file actually written).
pub fn write_target(path: &Path) -> PathBuf {
    resolve_target(path).map_or_else(|_| path.to_path_buf(), |(t, _)| t)
}

/// Refuses to replace a file that has no write bit, or that this process may not write (another
/// user's file in a shared directory): the rename would bypass both. Root is refused on the
/// mode bits alone, as an editor asks before writing a read-only file. A read-only file system
/// is the directory's refusal ([`FsError::ReadOnlyDirectory`]), not the file's.
fn check_writable(path: &Path, m: &fs::Metadata) -> Result<(), FsError> {
    let mode = m.mode() & 0o7777;
    let denied = match rustix::fs::access(path, rustix::fs::Access::WRITE_OK) {
        Err(e) if e == rustix::io::Errno::ROFS => {
            return Err(FsError::ReadOnlyDirectory { dir: dir_of(path) });
        }
        Err(e) => e == rustix::io::Errno::ACCESS,
        Ok(()) => false,
    };
    if mode & 0o222 != 0 && !denied {
        return Ok(());
    }
    Err(FsError::ReadOnlyFile {
        path: path.to_path_buf(),
        mode,
    })
}

/// Refuses, before anything is written, when one of the existing files a run is about to
/// replace is read-only (no write bit, or not writable by this user), so that a run writing
/// several files writes all or none.
///
/// # Errors
/// [`FsError::ReadOnlyFile`] naming the first such file, or why it could not be resolved.
pub fn refuse_read_only<'p>(paths: impl IntoIterator<Item = &'p Path>) -> Result<(), FsError> {
    for p in paths {
        if let (target, Some(m)) = resolve_target(p)? {
            check_writable(&target, &m)?;
        }
    }
    Ok(())
}

/// Refuses, before anything is written, a directory that cannot take a new file (no write or
/// search permission for this user, or a read-only file system): a run that asks for values
/// first must not lose them to a refusal at write time. Other errors are left to the write,
/// which reports them.
///
/// # Errors
/// [`FsError::ReadOnlyDirectory`].
pub fn refuse_unwritable_dir(dir: &Path) -> Result<(), FsError> {
    use rustix::fs::Access;
    match rustix::fs::access(dir, Access::WRITE_OK | Access::EXEC_OK) {
        Err(e) if e == rustix::io::Errno::ROFS || e == rustix::io::Errno::ACCESS => {
            Err(FsError::ReadOnlyDirectory {
                dir: dir.to_path_buf(),
            })
        }
        _ => Ok(()),
    }
}

fn check_regular(path: &Path, m: &fs::Metadata) -> Result<(), FsError> {
    if m.is_dir() {
        return Err(FsError::IsADirectory {
            path: path.to_path_buf(),
        });
    }
    if !m.is_file() {
        return Err(FsError::NotARegularFile {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

/// A temp file in `dir` named `.<stem>.emp-seal-<pid>-<random><suffix>`, created with
/// `O_EXCL` and `mode` (minus the umask) before any byte is written, and removed when dropped
/// without being persisted (an error, a panic). The pid lets [`remove_orphaned_temps`] tell a
/// killed run's leftover from a live writer's file.
fn temp_beside(dir: &Path, stem: &str, suffix: &str, mode: u32) -> Result<NamedTempFile, FsError> {
    tempfile::Builder::new()
        .prefix(&format!(".{stem}.emp-seal-{}-", std::process::id()))
        .suffix(suffix)
        .permissions(Permissions::from_mode(mode))
        .tempfile_in(dir)
        .map_err(|e| match e.kind() {
            ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => {
                FsError::ReadOnlyDirectory {
                    dir: dir.to_path_buf(),
                }
            }
            _ => FsError::from_io(dir, "create temp file", e),
        })
}

/// Removes temp files that an earlier emp-seal process left next to `target` when it was killed
/// between creating its temp file and renaming it (`.<name>.emp-seal-<pid>-...tmp`, see
/// [`temp_beside`]): SIGKILL leaves no chance to clean up. Only files whose process no longer exists are removed, so a concurrent
/// writer's temp file is never touched; errors are ignored (this is housekeeping).
fn remove_orphaned_temps(dir: &Path, target: &Path) {
    let Some(base) = target.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return;
    };
    let prefix = format!(".{base}.emp-seal-");
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let name = e.file_name();
        let Some(rest) = name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .filter(|r| r.ends_with(".tmp"))
        else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let alive = pid == std::process::id() || Path::new("/proc").join(pid.to_string()).exists();
        if !alive && e.file_type().is_ok_and(|t| t.is_file()) {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// Replaces `path` with `bytes` atomically: afterwards the file holds either its old content or
/// `bytes`, never a mix, even if the process dies or the disk fills up.
///
/// - The temp file is created in the same directory with `O_EXCL` and the target's permission
///   bits (explicitly set, so the umask does not narrow them); ownership is copied when the
///   process may do so (root), best effort otherwise.
/// - Data is fsynced before the rename and the directory is fsynced after it.
/// - On any error before the rename the temp file is removed and the target is untouched.
/// - A symlink target is resolved and the file it points to is replaced; the link stays.
///   A dangling link, a directory or a special file is refused.
/// - A missing target is created (permissions `0666` minus the umask).
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), FsError> {
    let (target, meta) = resolve_target(path)?;
    if let Some(m) = &meta {
        check_writable(&target, m)?;
    }
    let dir = dir_of(&target);
    let mode = meta.as_ref().map_or(0o666, |m| m.mode() & 0o7777);
    remove_orphaned_temps(&dir, &target);
    let name = target
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let mut tmp = temp_beside(&dir, &name, ".tmp", mode)?;
    let file = tmp.as_file();
    if let Some(m) = &meta {
        file.set_permissions(Permissions::from_mode(mode))
            .map_err(|e| FsError::from_io(tmp.path(), "set permissions", e))?;
        let (uid, gid) = file
            .metadata()
            .map_or((m.uid(), m.gid()), |t| (t.uid(), t.gid()));
        if m.uid() != uid || m.gid() != gid {
            // Best effort: only a privileged process may give the file away.
            let _ = std::os::unix::fs::fchown(file, Some(m.uid()), Some(m.gid()));
            // fchown may clear set-id bits; restore the mode.
            let _ = file.set_permissions(Permissions::from_mode(mode));
        }
    }
    tmp.write_all(bytes)
        .map_err(|e| FsError::from_io(&target, "write", e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| FsError::from_io(&target, "fsync", e))?;
    // On failure the returned file is dropped, which removes it.
    tmp.persist(&target)
        .map_err(|e| FsError::from_io(&target, "rename", e.error))?;
    // The new content is in place; make the rename itself durable.
    sync_dir(&dir)
}

/// Writes a file the user asked to hold plaintext (e.g. `emp-seal init`'s env file), readable by
/// its owner only (mode 0600), so that after a crash it is either absent (or, with `overwrite`,
/// its old self) or complete: never torn, never empty.
///
/// - Without `overwrite`: the content is written to an anonymous `O_TMPFILE` in the target's
///   directory, fsynced, then linked into place with `linkat`, which fails if the target exists
///   ([`FsError::AlreadyExists`]). Killed at any point, no named copy of the plaintext is left.
///   Filesystems without `O_TMPFILE` get a named sibling (see below) linked into place instead.
/// - With `overwrite`: a named sibling `.<stem>.emp-seal-<unique>.<ext>` (same extension as the
///   target, so the ignore rule that keeps the target out of git, e.g. `*.env`, also covers it)
///   is written, fsynced and renamed over the target.
/// - The directory is fsynced afterwards.
///
/// # Errors
/// [`FsError`] naming the target; on error the target is unchanged and no temp file remains.
pub fn write_private(path: &Path, bytes: &[u8], overwrite: bool) -> Result<(), FsError> {
    let dir = dir_of(path);
    if !overwrite {
        match anonymous_file(&dir) {
            Ok(mut file) => {
                file.write_all(bytes)
                    .and_then(|()| file.sync_all())
                    .map_err(|e| FsError::from_io(path, "write", e))?;
                // linkat(2) on /proc/self/fd/N gives the anonymous file its name (O_TMPFILE docs).
                let proc_path = format!("/proc/self/fd/{}", rustix::fd::AsRawFd::as_raw_fd(&file));
                rustix::fs::linkat(
                    rustix::fs::CWD,
                    proc_path.as_str(),
                    rustix::fs::CWD,
                    path,
                    rustix::fs::AtFlags::SYMLINK_FOLLOW,
                )
                .map_err(|e| FsError::from_io(path, "link", io::Error::from(e)))?;
                return sync_dir(&dir);
            }
            Err(e) if e.kind() == ErrorKind::PermissionDenied => {
                return Err(FsError::ReadOnlyDirectory { dir });
            }
            Err(_) => {} // no O_TMPFILE here (e.g. some network filesystems): named sibling
        }
    }
    let stem = path
        .file_stem()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let ext = path
        .extension()
        .map_or_else(|| "tmp".into(), |e| e.to_string_lossy().into_owned());
    // Replacing by rename would bypass a read-only file's mode, as in `atomic_write`.
    refuse_read_only([path])?;
    let mut tmp = temp_beside(&dir, &stem, &format!(".{ext}"), 0o600)?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| FsError::from_io(path, "write", e))?;
    // On failure the returned file is dropped, which removes it.
    if overwrite {
        tmp.persist(path)
    } else {
        tmp.persist_noclobber(path)
    }
    .map_err(|e| FsError::from_io(path, "link", e.error))?;
    sync_dir(&dir)
}

fn anonymous_file(dir: &Path) -> io::Result<File> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::open(
        dir,
        OFlags::TMPFILE | OFlags::WRONLY | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )?;
    Ok(File::from(fd))
}

/// The directory that holds `path` (`.` for a bare file name).
fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn sync_dir(dir: &Path) -> Result<(), FsError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| FsError::from_io(dir, "fsync directory (the new file is in place)", e))
}

/// A fresh private temporary directory (mode 0700), removed when the handle is dropped. For
/// `check --render`'s copy of the tree, which never holds a real env file.
///
/// # Errors
/// [`FsError`] when the system temporary directory cannot take it.
pub fn temp_dir() -> Result<tempfile::TempDir, FsError> {
    use std::os::unix::fs::PermissionsExt as _;
    tempfile::Builder::new()
        .prefix("emp-seal-render-")
        .permissions(fs::Permissions::from_mode(0o700))
        .tempdir()
        .map_err(|e| FsError::from_io(&std::env::temp_dir(), "create a temporary directory", e))
}

/// Copies the regular file `from` to `to` (creating `to`'s parent directories), for
/// `check --render`'s temporary copy of the tree. Never used on a file in the tree as target.
///
/// # Errors
/// [`FsError`] naming the file that could not be read or written.
pub fn copy_file(from: &Path, to: &Path) -> Result<(), FsError> {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent).map_err(|e| FsError::from_io(parent, "create directory", e))?;
    }
    fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| FsError::from_io(from, "copy", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::OpenOptions;

    /// Whole numbers only; one too large for the clock waits as long as it can (it panicked
    /// adding to the clock).
    #[test]
    fn lock_wait_takes_whole_numbers_and_saturates() {
        for (s, want) in [
            ("5", Some(5)),
            (" 7 ", Some(7)),
            ("18446744073709551615", Some(u64::MAX)),
            ("99999999999999999999", Some(u64::MAX)),
            ("", None),
            ("-1", None),
            ("1.5", None),
            ("+3", None),
            ("abc", None),
        ] {
            assert_eq!(super::lock_wait_secs(s), want, "{s:?}");
        }
        let far = std::time::Instant::now().checked_add(std::time::Duration::from_secs(u64::MAX));
        assert!(far.is_none(), "the clock would overflow: no deadline");
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // the test plants files by hand
    fn orphaned_temps_of_dead_processes_are_removed() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("s.yaml");
        fs::write(&p, b"old").unwrap();
        // pid 4194304 is above Linux's PID_MAX_LIMIT, so no such process can exist.
        let orphan = d
            .path()
            .join(".s.yaml.emp-seal-4194304-0-00000000000000ff.tmp");
        let live = d.path().join(format!(
            ".s.yaml.emp-seal-{}-9-00000000000000ff.tmp",
            std::process::id()
        ));
        let other = d
            .path()
            .join(".t.yaml.emp-seal-4194304-0-00000000000000ff.tmp");
        for f in [&orphan, &live, &other] {
            fs::write(f, b"ciphertext").unwrap();
        }
        atomic_write(&p, b"new").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new");
        assert!(!orphan.exists(), "a dead process's temp file is removed");
        assert!(live.exists(), "a live process's temp file is kept");
        assert!(other.exists(), "another file's temp file is kept");
    }

    #[test]
    fn write_private_creates_0600_and_refuses_to_replace() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.env");
        write_private(&p, b"A=1\n", false).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"A=1\n");
        assert_eq!(fs::metadata(&p).unwrap().mode() & 0o777, 0o600);
        assert!(matches!(
            write_private(&p, b"A=2\n", false),
            Err(FsError::AlreadyExists { .. })
        ));
        assert_eq!(fs::read(&p).unwrap(), b"A=1\n");
        write_private(&p, b"A=3\n", true).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"A=3\n");
        // No temp file is left behind either way.
        let names: Vec<_> = fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("x.env")]);
    }

    #[test]
    fn locks_are_per_directory_exclusive_and_released_on_drop() {
        let d = tempfile::tempdir().unwrap();
        let sub = d.path().join("sub");
        fs::create_dir(&sub).unwrap();
        let (a, b) = (d.path().join("a.yaml"), sub.join("b.yaml"));
        atomic_write(&a, b"a").unwrap();
        // Both directories, in one call (given in reverse order: sorted inside).
        let held = lock_within(&[&b, &a], 0).unwrap();
        // Another open file description (as another process would have) cannot take either.
        for t in [&a, &b] {
            match lock_within(&[t], 0) {
                Err(FsError::Busy { path, .. }) => assert_eq!(&path, t),
                other => panic!("expected busy, got {other:?}"),
            }
        }
        // A file that does not exist yet locks its directory too.
        assert!(matches!(
            lock_within(&[sub.join("new.yaml")], 0),
            Err(FsError::Busy { .. })
        ));
        drop(held);
        let again = lock_within(&[&a, &b], 0).unwrap();
        drop(again);
        // Nothing was created on disk.
        let mut names: Vec<_> = fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(
            names,
            vec![std::ffi::OsString::from("a.yaml"), "sub".into()]
        );
    }

    #[test]
    fn unchanged_compares_the_whole_content() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        assert!(unchanged(&p, ""));
        atomic_write(&p, b"abc").unwrap();
        assert!(unchanged(&p, "abc"));
        assert!(!unchanged(&p, "ab"));
        assert!(!unchanged(&p, "abcd"));
        assert!(!unchanged(&p, ""));
    }

    #[test]
    fn fifo_is_read_once_and_regular_rules_stay() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("p");
        rustix::fs::mkfifoat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
        )
        .unwrap();
        // A writer that may be cut off: the reader stops past the limit.
        let feed = |bytes: &'static [u8]| {
            let f = fifo.clone();
            std::thread::spawn(move || {
                let mut w = OpenOptions::new().write(true).open(&f).unwrap();
                let _ = w.write_all(bytes);
            })
        };
        let writer = feed(b"A=1\n");
        assert_eq!(read_input_limited(&fifo, 100).unwrap(), b"A=1\n");
        writer.join().unwrap();
        // Past the limit: refused.
        let writer = feed(&[b'x'; 64]);
        assert!(matches!(
            read_input_limited(&fifo, 10),
            Err(FsError::TooLarge { limit: 10, .. })
        ));
        writer.join().unwrap();
        // A writer that writes nothing.
        let writer = feed(b"");
        assert!(matches!(
            read_input_limited(&fifo, 10),
            Err(FsError::EmptyPipe { .. })
        ));
        writer.join().unwrap();
        // Regular files and devices behave as with read_limited.
        assert!(matches!(
            read_input_limited(Path::new("/dev/null"), 10),
            Err(FsError::NotARegularFile { .. })
        ));
        assert!(matches!(
            read_input_limited(d.path(), 10),
            Err(FsError::IsADirectory { .. })
        ));
    }

    #[test]
    fn limits_and_utf8() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        atomic_write(&p, b"hello").unwrap();
        assert_eq!(read_limited(&p, 5).unwrap(), b"hello");
        assert!(matches!(
            read_limited(&p, 4),
            Err(FsError::TooLarge { limit: 4, .. })
        ));
        atomic_write(&p, b"ok\nok\xff").unwrap();
        let e = read_to_string_limited(&p, 100).unwrap_err();
        assert!(matches!(e, FsError::InvalidUtf8 { line: 2, .. }), "{e}");
        assert!(e.to_string().contains(&p.display().to_string()));
        assert!(matches!(
            read_limited(&d.path().join("nope"), 1),
            Err(FsError::NotFound { .. })
        ));
        assert!(matches!(
            read_limited(d.path(), 1),
            Err(FsError::IsADirectory { .. })
        ));
    }

    /// `check --render`'s copy may hold files the overlay reads (a generator's `tls.key`): its
    /// directory is the user's alone, whatever the umask.
    #[test]
    fn the_render_copy_directory_is_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let d = temp_dir().unwrap();
        let mode = fs::metadata(d.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "{mode:o}");
    }

    /// Input read in pieces of any size grows past its first buffer intact, and one byte over
    /// the limit is refused.
    #[test]
    fn capped_reads_grow_and_stop_at_the_limit() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let piecewise = std::io::Read::chain(&data[..1], &data[1..]);
        let got = read_capped(piecewise, 0, Path::new("<stdin>"), 100_000).unwrap();
        assert_eq!(got, data);
        assert!(matches!(
            read_capped(&data[..], 16, Path::new("<stdin>"), 99_999),
            Err(FsError::TooLarge { limit: 99_999, .. })
        ));
    }
}
