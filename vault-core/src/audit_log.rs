//! The append-only audit trail next to the vault: one JSON line per operation, chained as
//! `mac_i = HMAC(log_key, mac_{i-1} ‖ entry_i)`, never a secret.
//!
//! Real vault writes anchor the head and the count in the header; `run` and other read-only
//! operations only append here (under the log's own lock), so they never take the vault's
//! write lock. Deleting, editing or truncating lines breaks the chain or the anchor.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::error::{Error, Result};

/// One log line, without its MAC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// 1-based sequence number.
    pub seq: u64,
    /// RFC 3339 time.
    pub time: String,
    /// Operation (`add`, `rotate`, `run`, ...).
    pub op: String,
    /// Bot, if the operation concerns one.
    pub bot: Option<String>,
    /// Short key fingerprint, if any.
    pub fingerprint: Option<String>,
    /// Free detail (never a secret).
    pub detail: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Line {
    #[serde(flatten)]
    entry: Entry,
    mac: String,
}

/// The log file for a vault.
pub fn log_path(vault: &Path) -> PathBuf {
    let mut s = vault.as_os_str().to_owned();
    s.push(".log");
    PathBuf::from(s)
}

fn chain(log_key: &[u8], prev: &[u8; 32], entry: &Entry) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(log_key).expect("HMAC takes any key length");
    m.update(prev);
    m.update(&serde_json::to_vec(entry).unwrap_or_default());
    m.finalize().into_bytes().into()
}

/// The result of checking a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Entries, in order.
    pub entries: Vec<Entry>,
    /// The head MAC after the last entry.
    pub head: [u8; 32],
    /// Problems found (a broken chain, a missing anchor); empty when intact.
    pub problems: Vec<String>,
}

/// The largest audit log we read: about a million entries. Past it `vault log` and `audit`
/// say so instead of reading forever (a log replaced by /dev/zero's like).
pub const MAX_LOG_LEN: u64 = 256 * 1024 * 1024;

/// Opens the log as the vault is opened: no symlink, no blocking open, a regular file that is
/// ours and owner-only. `None`: there is no log yet.
fn open_log(path: &Path) -> Result<Option<(std::fs::File, std::fs::Metadata)>> {
    match crate::store::open_regular(path) {
        Ok((f, meta)) => {
            crate::store::check_permissions(path, &meta)?;
            Ok(Some((f, meta)))
        }
        Err(Error::FileNotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The whole log as text, bounded.
fn read_log(path: &Path) -> Result<String> {
    let Some((mut f, meta)) = open_log(path)? else {
        return Ok(String::new());
    };
    let bytes = crate::store::read_bounded(&mut f, path, meta.len(), MAX_LOG_LEN)?;
    String::from_utf8(bytes)
        .map_err(|_| Error::InvalidInput(format!("{} is not a text audit log", path.display())))
}

/// Reads and checks the whole chain, and that the entry at `anchor_count` has `anchor_head`.
pub fn verify(path: &Path, log_key: &[u8], anchor_count: u64, anchor_head: &[u8; 32]) -> Verified {
    let text = match read_log(path) {
        Ok(t) => t,
        Err(e) => {
            return Verified {
                entries: vec![],
                head: [0; 32],
                problems: vec![format!("cannot read the audit log: {e}")],
            }
        }
    };
    let mut head = [0u8; 32];
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    let mut anchor_ok = anchor_count == 0;
    for (i, raw) in text.lines().enumerate() {
        let line: Line = match serde_json::from_str(raw) {
            Ok(l) => l,
            Err(_) => {
                problems.push(format!(
                    "line {} of the audit log is not a log entry",
                    i + 1
                ));
                break;
            }
        };
        if line.entry.seq != entries.len() as u64 + 1 {
            problems.push(format!(
                "audit log entry {} is out of sequence: lines were deleted or inserted",
                i + 1
            ));
            break;
        }
        let mac = chain(log_key, &head, &line.entry);
        if hex::decode(&line.mac).ok().as_deref() != Some(&mac[..]) {
            problems.push(format!(
                "audit log entry {} does not match its chain MAC: it was edited or a line before it was removed",
                i + 1
            ));
            break;
        }
        head = mac;
        entries.push(line.entry);
        if entries.len() as u64 == anchor_count {
            anchor_ok = head == *anchor_head;
        }
    }
    if problems.is_empty() && !anchor_ok {
        problems.push(format!(
            "the audit log has {} intact entries but the vault anchors {}: it was truncated or replaced",
            entries.len(),
            anchor_count
        ));
    }
    Verified {
        entries,
        head,
        problems,
    }
}

/// The last line's sequence number and chain MAC, read from the file's tail only: appending
/// must not cost more as the log grows (checking the whole chain is `verify`'s job).
fn tail(path: &Path) -> Result<(u64, [u8; 32])> {
    use std::io::{Read, Seek, SeekFrom};
    let Some((mut f, meta)) = open_log(path)? else {
        return Ok((0, [0; 32]));
    };
    let start = meta.len().saturating_sub(64 * 1024);
    f.seek(SeekFrom::Start(start))
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    let mut raw = Vec::new();
    (&mut f)
        .take(64 * 1024)
        .read_to_end(&mut raw)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    let buf = String::from_utf8_lossy(&raw);
    let Some(last) = buf.lines().rev().find(|l| !l.trim().is_empty()) else {
        return Ok((0, [0; 32]));
    };
    let parsed: Option<(u64, [u8; 32])> = serde_json::from_str::<Line>(last).ok().and_then(|l| {
        let mac: [u8; 32] = hex::decode(&l.mac).ok()?.try_into().ok()?;
        Some((l.entry.seq, mac))
    });
    // A damaged last line: continue from the last intact entry (audit reports the damage).
    Ok(match parsed {
        Some(t) => t,
        None => last_parseable_line(path),
    })
}

fn last_parseable_line(path: &Path) -> (u64, [u8; 32]) {
    // Without the key we cannot check MACs; take the last line that parses.
    let text = read_log(path).unwrap_or_default();
    text.lines()
        .rev()
        .find_map(|l| {
            let l: Line = serde_json::from_str(l).ok()?;
            let mac: [u8; 32] = hex::decode(&l.mac).ok()?.try_into().ok()?;
            Some((l.entry.seq, mac))
        })
        .unwrap_or((0, [0; 32]))
}

/// Appends one entry under the log's own lock; returns (count, head) after it. `durable`
/// fsyncs the entry (vault writes, which anchor it in the header, need that; a `run` entry
/// is written but not forced to disk, so starting a bot costs no fsync).
pub fn append(
    path: &Path,
    log_key: &[u8],
    mut entry: Entry,
    durable: bool,
) -> Result<(u64, [u8; 32])> {
    let lock = crate::store::lock(path, Duration::from_secs(10))?;
    let (seq, head) = tail(path)?;
    entry.seq = seq + 1;
    let mac = chain(log_key, &head, &entry);
    let line = Line {
        entry,
        mac: hex::encode(mac),
    };
    let mut text = serde_json::to_string(&line).map_err(|e| Error::InvalidInput(e.to_string()))?;
    text.push('\n');
    // Opened as it was checked: a symlink planted at the log's name is refused (O_NOFOLLOW),
    // a FIFO does not block (O_NONBLOCK), and only a regular file of ours is appended to.
    let mut o = OpenOptions::new();
    o.append(true).create(true);
    let (mut f, meta) = crate::store::open_regular_with(path, crate::store::owner_only(&mut o))?;
    crate::store::check_permissions(path, &meta)?;
    f.write_all(text.as_bytes())
        .and_then(|_| if durable { f.sync_data() } else { Ok(()) })
        .map_err(|e| Error::io(format!("cannot append to {}", path.display()), e))?;
    drop(lock);
    Ok((line.entry.seq, mac))
}

/// Now, as RFC 3339.
pub fn now_string() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .map(|t| t.to_string())
        .unwrap_or_default()
}
