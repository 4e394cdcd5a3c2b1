//! Bytes on disk: secure reads, atomic replacement, the writer lock, the rollback record.
//!
//! Owns every file-system call on the vault's behalf and nothing about the format. The
//! atomic-write recipe is: temporary file in the same directory (created exclusively, 0600,
//! no symlink following), write, fsync, read back and verify, rename over the old file, fsync
//! the directory. Any failure before the rename leaves the old file untouched; fsync errors
//! are never retried (a retried fsync can falsely succeed after the kernel dropped pages).

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
#[cfg(windows)]
use std::os::windows::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Largest file we read (vault, identity, passphrase file).
pub const MAX_FILE_LEN: u64 = 300 * 1024 * 1024;

/// Opening never follows a symbolic link in the last component: on Unix `O_NOFOLLOW` (the
/// open fails with ELOOP), on Windows `FILE_FLAG_OPEN_REPARSE_POINT` (the link itself is
/// opened, and its metadata says so).
fn no_follow(o: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        o.custom_flags(i32::try_from(rustix::fs::OFlags::NOFOLLOW.bits()).unwrap_or(0))
    }
    #[cfg(windows)]
    {
        const FILE_FLAG_OPEN_REPARSE_POINT: u32 = 0x0020_0000;
        o.custom_flags(FILE_FLAG_OPEN_REPARSE_POINT)
    }
    #[cfg(not(any(unix, windows)))]
    {
        o
    }
}

/// New files are created owner-only (0600) on Unix. On Windows a new file inherits its
/// directory's ACL, which under the user's profile is the user, SYSTEM and Administrators.
pub(crate) fn owner_only(o: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        o.mode(0o600)
    }
    #[cfg(not(unix))]
    {
        o
    }
}

/// The effective user id of this process.
#[cfg(unix)]
pub fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// True if `path` lies directly in `dir` (systemd's `$CREDENTIALS_DIRECTORY`, which the
/// caller reads: the library reads no environment).
#[cfg(unix)]
fn in_credentials_dir(path: &Path, dir: Option<&Path>) -> bool {
    let Some(dir) = dir.and_then(|d| std::fs::canonicalize(d).ok()) else {
        return false;
    };
    let parent = path.parent().map(|p| {
        if p.as_os_str().is_empty() {
            Path::new(".")
        } else {
            p
        }
    });
    match parent.and_then(|p| std::fs::canonicalize(p).ok()) {
        Some(p) => p == dir,
        None => false,
    }
}

/// The OpenSSH rule: a regular file, owned by us, with no group or other permissions.
///
/// On Windows only "a regular file, not a link" is checked: its ACL is not inspected (that
/// needs Win32 calls this `unsafe`-free library does not make); see docs/THREAT_MODEL.md.
pub fn check_permissions(path: &Path, meta: &std::fs::Metadata) -> Result<()> {
    check_permissions_in(path, meta, None)
}

/// [`check_permissions`], except that directly in `credentials_dir` (systemd's
/// `$CREDENTIALS_DIRECTORY`, given by the caller) systemd's own arrangement is accepted too:
/// root-owned, read-only, no access for others, granted to the service by ACL.
pub fn check_permissions_in(
    path: &Path,
    meta: &std::fs::Metadata,
    credentials_dir: Option<&Path>,
) -> Result<()> {
    #[cfg(not(unix))]
    let _ = credentials_dir;
    let refuse = |reason: String| {
        Err(Error::InsecurePermissions {
            path: path.to_path_buf(),
            reason,
        })
    };
    if meta.file_type().is_symlink() {
        return refuse("is a symbolic link; point to the real file instead".into());
    }
    if !meta.file_type().is_file() {
        return refuse("not a regular file".into());
    }
    #[cfg(unix)]
    {
        let mode = meta.permissions().mode() & 0o7777;
        if in_credentials_dir(path, credentials_dir) {
            if meta.uid() != 0 && meta.uid() != euid() {
                return refuse(format!("owned by uid {}, not root or you", meta.uid()));
            }
            if mode & 0o007 != 0 || mode & 0o222 != 0 {
                return refuse(format!(
                    "mode {mode:04o} in $CREDENTIALS_DIRECTORY: expected read-only with no access for others"
                ));
            }
            return Ok(());
        }
        if meta.uid() != euid() {
            return refuse(format!(
                "owned by uid {}, not by you (uid {}): chown it or use your own copy",
                meta.uid(),
                euid()
            ));
        }
        if mode & 0o077 != 0 {
            return refuse(format!(
                "mode {mode:04o} lets others read or write it: run `chmod 600 {}`",
                path.display()
            ));
        }
    }
    Ok(())
}

/// What a path that is not a regular file is, for the error that says so.
fn file_kind(t: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
    }
    if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

/// O_NOFOLLOW and, on Unix, O_NONBLOCK: a symlink fails with ELOOP, a FIFO does not block.
pub(crate) fn no_follow_no_block(o: &mut OpenOptions) -> &mut OpenOptions {
    no_follow(o);
    #[cfg(unix)]
    o.custom_flags(
        i32::try_from((rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits())
            .unwrap_or(0),
    );
    o
}

/// What a failed open means: missing, a symlink (ELOOP under O_NOFOLLOW), or an I/O error.
pub(crate) fn open_error(path: &Path, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        return Error::FileNotFound(path.to_path_buf());
    }
    #[cfg(unix)]
    if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
        return Error::InsecurePermissions {
            path: path.to_path_buf(),
            reason: "is a symbolic link; point to the real file instead".into(),
        };
    }
    Error::io(format!("cannot open {}", path.display()), e)
}

/// Opens `path` for reading without following a symlink and without blocking (a FIFO would
/// otherwise block in open(2) until a writer appears), then refuses anything but a regular
/// file before a byte is read.
pub(crate) fn open_regular(path: &Path) -> Result<(File, std::fs::Metadata)> {
    open_regular_with(path, OpenOptions::new().read(true))
}

/// [`open_regular`] with the caller's options (the audit log opens for append and create):
/// no symlink, no blocking open, and anything but a regular file refused before any I/O.
pub(crate) fn open_regular_with(
    path: &Path,
    o: &mut OpenOptions,
) -> Result<(File, std::fs::Metadata)> {
    let f = no_follow_no_block(o)
        .open(path)
        .map_err(|e| open_error(path, e))?;
    let meta = f
        .metadata()
        .map_err(|e| Error::io(format!("cannot stat {}", path.display()), e))?;
    if !meta.file_type().is_file() {
        return Err(Error::NotAFile {
            path: path.to_path_buf(),
            kind: file_kind(meta.file_type()),
        });
    }
    Ok((f, meta))
}

/// Reads at most `limit` bytes of an already opened file; more is refused, not cut.
pub(crate) fn read_bounded(
    f: &mut File,
    path: &Path,
    len_hint: u64,
    limit: u64,
) -> Result<Vec<u8>> {
    if len_hint > limit {
        return Err(Error::InvalidInput(format!(
            "{} is larger than {} MiB: it is not a file vault reads",
            path.display(),
            limit / (1024 * 1024)
        )));
    }
    let mut buf = Vec::with_capacity(usize::try_from(len_hint).unwrap_or(0));
    f.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    if buf.len() as u64 > limit {
        return Err(Error::InvalidInput(format!(
            "{} grew past {} MiB while being read",
            path.display(),
            limit / (1024 * 1024)
        )));
    }
    Ok(buf)
}

/// Opens a file we will read a secret or the vault from: no symlinks, no blocking open, a
/// regular file, permissions checked on the opened descriptor (no TOCTOU), size bounded.
pub fn read_secure(path: &Path) -> Result<Vec<u8>> {
    read_secure_in(path, None)
}

/// [`read_secure`] with systemd's credentials directory allowed ([`check_permissions_in`]).
pub fn read_secure_in(path: &Path, credentials_dir: Option<&Path>) -> Result<Vec<u8>> {
    let (mut f, meta) = open_secure(path, credentials_dir)?;
    read_bounded(&mut f, path, meta.len(), MAX_FILE_LEN)
}

/// Opens a regular file and checks its owner and permissions ([`check_permissions_in`]).
fn open_secure(path: &Path, credentials_dir: Option<&Path>) -> Result<(File, std::fs::Metadata)> {
    let (f, meta) = open_regular(path)?;
    check_permissions_in(path, &meta, credentials_dir)?;
    Ok((f, meta))
}

/// The length and last 32 bytes of a file, opened and checked as [`read_secure`] does: for a
/// writer that only needs to know whether the file is still the one it last verified.
pub(crate) fn len_and_last_32(path: &Path) -> Result<(u64, [u8; 32])> {
    use std::io::{Seek, SeekFrom};
    let (mut f, meta) = open_secure(path, None)?;
    let mut tail = [0u8; 32];
    if meta.len() >= 32 {
        f.seek(SeekFrom::Start(meta.len() - 32))
            .and_then(|_| f.read_exact(&mut tail))
            .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    }
    Ok((meta.len(), tail))
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Makes a rename in `dir` durable. On Windows a directory cannot be opened as a file by std
/// (NTFS journals the rename itself), so this is a no-op there.
#[cfg(not(unix))]
fn fsync_dir(_dir: &Path) -> Result<()> {
    Ok(())
}

#[cfg(unix)]
fn fsync_dir(dir: &Path) -> Result<()> {
    let d = File::open(dir).map_err(|e| Error::io(format!("cannot open {}", dir.display()), e))?;
    d.sync_all()
        .map_err(|e| Error::io(format!("cannot fsync {}", dir.display()), e))
}

/// Refuses a directory that others may write to. (Unix only.)
#[cfg(not(unix))]
pub fn check_directory(_dir: &Path) -> Result<()> {
    Ok(())
}

/// Refuses a directory that others may write to, or that is owned by someone other than us
/// or root: whoever can write to it can replace the vault, its lock or its log. As OpenSSH
/// does, a sticky world-writable directory such as /tmp is refused too.
#[cfg(unix)]
pub fn check_directory(dir: &Path) -> Result<()> {
    let meta = std::fs::metadata(dir)
        .map_err(|e| Error::io(format!("cannot stat {}", dir.display()), e))?;
    let mode = meta.permissions().mode();
    if meta.uid() != euid() && meta.uid() != 0 {
        return Err(Error::InsecurePermissions {
            path: dir.to_path_buf(),
            reason: format!(
                "directory owned by uid {}, not by you or root: keep the vault in a directory of your own",
                meta.uid()
            ),
        });
    }
    if mode & 0o022 != 0 {
        return Err(Error::InsecurePermissions {
            path: dir.to_path_buf(),
            reason: format!(
                "directory mode {:04o} lets others replace the vault: run `chmod 700 {}`, or keep the vault in a directory of your own",
                mode & 0o7777,
                dir.display()
            ),
        });
    }
    Ok(())
}

/// The prefix of the temporary files made while replacing `path`.
fn temp_prefix(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(".{name}.tmp-")
}

/// Removes temporary files a killed writer of `path` left behind. Only call this while holding
/// `path`'s writer lock: then no live writer of `path` has one in flight.
pub fn remove_stale_temps(path: &Path) {
    let prefix = temp_prefix(path);
    let dir = parent_of(path);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        if name.to_string_lossy().starts_with(&prefix) && e.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

fn write_temp(path: &Path, dir: &Path, bytes: &[u8]) -> Result<PathBuf> {
    for _ in 0..16 {
        let mut rnd = [0u8; 8];
        crate::secret::fill_random(&mut rnd)?;
        let tmp = dir.join(format!("{}{}", temp_prefix(path), hex::encode(rnd)));
        let mut f = match no_follow(owner_only(OpenOptions::new().write(true).create_new(true)))
            .open(&tmp)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(Error::io(
                    format!("cannot create a file in {}", dir.display()),
                    e,
                ))
            }
        };
        // Under a umask that strips owner bits the create mode alone is not enough.
        #[cfg(unix)]
        let res = f.set_permissions(std::fs::Permissions::from_mode(0o600));
        #[cfg(not(unix))]
        let res = Ok(());
        let res = res
            .and_then(|_| f.write_all(bytes))
            .and_then(|_| f.sync_all());
        if let Err(e) = res {
            let _ = std::fs::remove_file(&tmp);
            return Err(Error::io(format!("cannot write {}", tmp.display()), e));
        }
        return Ok(tmp);
    }
    Err(Error::io(
        "cannot create a temporary file",
        std::io::Error::other("too many name collisions"),
    ))
}

/// Whether the file at `path` holds exactly `bytes`, read back 64 KiB at a time (no second
/// copy of a large file in memory). The buffer is wiped: an exported identity is a secret in
/// clear.
fn reads_back_as(path: &Path, bytes: &[u8]) -> std::io::Result<bool> {
    let mut f = File::open(path)?;
    let mut buf = zeroize::Zeroizing::new(vec![0u8; 64 * 1024]);
    let mut rest = bytes;
    loop {
        let n = match f.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Ok(rest.is_empty());
        }
        match rest.strip_prefix(&buf[..n]) {
            Some(tail) => rest = tail,
            None => return Ok(false),
        }
    }
}

/// Replaces `path` with `bytes` atomically. The temporary file is read back and compared with
/// `bytes`, then `verify` is called; if either fails nothing is replaced. With `create_only`,
/// the final step is a hard link that fails if `path` exists (never overwrite).
pub fn atomic_write(
    path: &Path,
    bytes: &[u8],
    create_only: bool,
    verify: impl FnOnce() -> Result<()>,
) -> Result<()> {
    let dir = parent_of(path);
    let tmp = write_temp(path, &dir, bytes)?;
    let result = (|| {
        if !reads_back_as(&tmp, bytes)
            .map_err(|e| Error::io(format!("cannot read back {}", tmp.display()), e))?
        {
            return Err(Error::io(
                "read-back differs from what was written",
                std::io::Error::other("short or corrupted write"),
            ));
        }
        verify()?;
        if create_only {
            std::fs::hard_link(&tmp, path).map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    Error::AlreadyExists(path.to_path_buf())
                } else {
                    Error::io(format!("cannot create {}", path.display()), e)
                }
            })?;
            let _ = std::fs::remove_file(&tmp);
        } else {
            if let Ok(m) = std::fs::symlink_metadata(path) {
                if m.file_type().is_symlink() {
                    return Err(Error::InsecurePermissions {
                        path: path.to_path_buf(),
                        reason: "is a symbolic link; refusing to replace it".into(),
                    });
                }
            }
            std::fs::rename(&tmp, path)
                .map_err(|e| Error::io(format!("cannot replace {}", path.display()), e))?;
        }
        fsync_dir(&dir)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// An exclusive writer lock on `<vault>.lock`, released on drop.
#[derive(Debug)]
pub struct WriteLock {
    _file: File,
}

/// The lock file next to a vault.
pub fn lock_path(vault: &Path) -> PathBuf {
    let mut s = vault.as_os_str().to_owned();
    s.push(".lock");
    PathBuf::from(s)
}

/// Takes the writer lock, waiting up to `timeout`; on time-out says who holds it.
pub fn lock(vault: &Path, timeout: Duration) -> Result<WriteLock> {
    let path = lock_path(vault);
    let mut f = no_follow(owner_only(
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false),
    ))
    .open(&path)
    .map_err(|e| Error::io(format!("cannot open lock file {}", path.display()), e))?;
    let start = Instant::now();
    loop {
        match f.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) => {
                if start.elapsed() >= timeout {
                    let mut holder = String::new();
                    let _ = (&f).take(200).read_to_string(&mut holder);
                    let holder = holder.trim().to_string();
                    return Err(Error::Locked {
                        holder: (!holder.is_empty()).then_some(holder),
                    });
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Error::io(format!("cannot lock {}", path.display()), e))
            }
        }
    }
    // Say who holds it, for a writer that times out waiting.
    let _ = f.set_len(0);
    let _ = f.write_all(format!("held by pid {}", std::process::id()).as_bytes());
    Ok(WriteLock { _file: f })
}

/// The high-water mark of generations seen on this machine, kept outside the vault file.
#[derive(Debug, Clone)]
pub struct GenerationRecord {
    dir: PathBuf,
}

impl GenerationRecord {
    /// Records live in `state_dir/generations/<vault_id hex>`.
    pub fn new(state_dir: &Path) -> Self {
        GenerationRecord {
            dir: state_dir.join("generations"),
        }
    }

    fn file(&self, vault_id: &[u8]) -> PathBuf {
        self.dir.join(hex::encode(vault_id))
    }

    /// The recorded generation, if any.
    pub fn load(&self, vault_id: &[u8]) -> Result<Option<u64>> {
        match std::fs::read_to_string(self.file(vault_id)) {
            Ok(s) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| Error::InvalidInput(format!(
                    "the rollback record {} is unreadable; delete it to trust the current vault again",
                    self.file(vault_id).display()
                ))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("cannot read the rollback record", e)),
        }
    }

    /// Records `generation` (only ever raises it). The read-compare-write runs under an
    /// exclusive lock on the record directory, so two processes raising it at once (a reader
    /// recording on first use, a writer after its rename) can never lower it.
    pub fn store(&self, vault_id: &[u8], generation: u64) -> Result<()> {
        if self.load(vault_id)?.is_some_and(|g| g >= generation) {
            return Ok(());
        }
        create_private_dir(&self.dir)?;
        // The state directory holds only our records: owner-only, even if an older version
        // (or the user's umask) made it 0755.
        #[cfg(unix)]
        for d in [self.dir.parent(), Some(self.dir.as_path())]
            .into_iter()
            .flatten()
        {
            if std::fs::metadata(d)
                .is_ok_and(|m| m.uid() == euid() && m.permissions().mode() & 0o077 != 0)
            {
                let _ = std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700));
            }
        }
        let lock_path = self.dir.join(".lock");
        let lock = no_follow(owner_only(
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false),
        ))
        .open(&lock_path)
        .map_err(|e| Error::io(format!("cannot open {}", lock_path.display()), e))?;
        lock.lock()
            .map_err(|e| Error::io(format!("cannot lock {}", lock_path.display()), e))?;
        if self.load(vault_id)?.is_some_and(|g| g >= generation) {
            return Ok(());
        }
        atomic_write(
            &self.file(vault_id),
            format!("{generation}\n").as_bytes(),
            false,
            || Ok(()),
        )
    }
}

/// Creates `dir` (and parents) with mode 0700 for the last component if missing.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.as_os_str().is_empty() || dir.exists() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    b.mode(0o700);
    b.create(dir)
        .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))
}

/// Writes a new file with mode 0600 that must not exist yet (exports).
pub fn write_new_private(path: &Path, bytes: &[u8]) -> Result<()> {
    create_private_dir(&parent_of(path))?;
    atomic_write(path, bytes, true, || Ok(()))
}

/// The parent directory of a path (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> PathBuf {
    parent_of(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_read_back_matches_only_the_exact_bytes() {
        let dir = std::env::temp_dir().join(format!("vault-readback-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let f = dir.join("f");
        // Around the 64 KiB read size: empty, one byte, exactly one read, one read and a byte.
        for len in [0usize, 1, 64 * 1024, 64 * 1024 + 1, 200_000] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            std::fs::write(&f, &bytes).expect("write");
            assert!(reads_back_as(&f, &bytes).expect("read"), "{len}");
            if len > 0 {
                let mut other = bytes.clone();
                other[len - 1] ^= 1;
                assert!(
                    !reads_back_as(&f, &other).expect("read"),
                    "{len}: last byte"
                );
                assert!(
                    !reads_back_as(&f, &bytes[..len - 1]).expect("read"),
                    "{len}: shorter"
                );
            }
            let mut longer = bytes.clone();
            longer.push(0);
            assert!(!reads_back_as(&f, &longer).expect("read"), "{len}: longer");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
