//! `vault scan`: find any stored secret (key, secret, passphrase, uid, extra secret) of any bot
//! in files, in git history (`--git`: `git rev-list --objects --all` and `git cat-file
//! --batch`), or in what is staged (`--staged`). Reports where and which bot, never the secret.
//!
//! Only current secrets are stored, so only they can be found: a rotated-out or revoked key
//! is no longer in the vault (rotate means: delete it at the exchange).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use aho_corasick::{AhoCorasick, MatchKind};
use serde_json::json;
use zeroize::Zeroizing;

use crate::ctx::Ctx;
use crate::error::{code, CliError, CliResult};
use crate::output;

/// Files larger than this are skipped (said in the summary).
pub const MAX_FILE: u64 = 64 * 1024 * 1024;
/// Values shorter than this are not searched for (a short uid would match everywhere).
pub const MIN_LEN: usize = 6;

struct Needles {
    ac: AhoCorasick,
    /// For each pattern: (bot, field).
    owners: Vec<(String, String)>,
}

#[derive(Debug, Clone, serde::Serialize)]
struct Hit {
    location: String,
    line: usize,
    bot: String,
    field: String,
}

fn needles(v: &vault_core::Vault) -> CliResult<Option<Needles>> {
    let mut pats: Vec<Zeroizing<Vec<u8>>> = Vec::new();
    let mut owners = Vec::new();
    for bot in v.bots() {
        for (field, s) in bot.secret_values() {
            let raw = s.expose();
            if raw.len() < MIN_LEN {
                continue;
            }
            let json = Zeroizing::new(serde_json::to_string(raw).unwrap_or_default());
            let escaped = &json[1..json.len() - 1];
            for form in [raw, escaped] {
                if !pats.iter().any(|p| p.as_slice() == form.as_bytes()) {
                    pats.push(Zeroizing::new(form.as_bytes().to_vec()));
                    owners.push((bot.name.clone(), field.to_string()));
                }
            }
        }
    }
    if pats.is_empty() {
        return Ok(None);
    }
    let ac = AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .build(pats.iter().map(|p| p.as_slice()))
        .map_err(|e| CliError::other(format!("cannot build the matcher: {e}")))?;
    Ok(Some(Needles { ac, owners }))
}

fn search(n: &Needles, data: &[u8], location: &str, hits: &mut Vec<Hit>) {
    let mut line = 1;
    let mut counted = 0;
    for m in n.ac.find_iter(data) {
        line += data[counted..m.start()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        counted = m.start();
        let (bot, field) = &n.owners[m.pattern().as_usize()];
        hits.push(Hit {
            location: location.to_string(),
            line,
            bot: bot.clone(),
            field: field.clone(),
        });
    }
}

fn is_binary(data: &[u8]) -> bool {
    data[..data.len().min(8192)].contains(&0)
}

/// UTF-16 text with a byte-order mark (Windows editors write `.env` files so), as UTF-8.
fn utf16_text(data: &[u8]) -> Option<Zeroizing<String>> {
    let (le, body) = match data {
        [0xFF, 0xFE, rest @ ..] => (true, rest),
        [0xFE, 0xFF, rest @ ..] => (false, rest),
        _ => return None,
    };
    let units = body.chunks_exact(2).map(|c| {
        if le {
            u16::from_le_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], c[1]])
        }
    });
    let mut out = Zeroizing::new(String::with_capacity(body.len()));
    for ch in char::decode_utf16(units) {
        out.push(ch.unwrap_or(char::REPLACEMENT_CHARACTER));
    }
    Some(out)
}

/// Searches one file's or blob's bytes: every byte (a binary file can hold a key as well
/// as a text file), and the UTF-16 text too when it has a BOM. Counts what it looked at.
fn search_content(n: &Needles, data: &[u8], location: &str, hits: &mut Vec<Hit>, st: &mut Stats) {
    st.files += 1;
    st.bytes += data.len() as u64;
    if is_binary(data) {
        st.binary += 1;
    }
    search(n, data, location, hits);
    if let Some(text) = utf16_text(data) {
        st.utf16 += 1;
        search(n, text.as_bytes(), location, hits);
    }
}

#[derive(Default)]
struct Stats {
    files: u64,
    bytes: u64,
    skipped_large: u64,
    /// Searched, and binary (not skipped: their bytes are searched too).
    binary: u64,
    /// Decoded from UTF-16 and searched as text.
    utf16: u64,
}

fn walk(n: &Needles, path: &Path, hits: &mut Vec<Hit>, st: &mut Stats) -> CliResult<()> {
    let meta = std::fs::symlink_metadata(path)
        .map_err(|e| CliError::other(format!("cannot read {}: {e}", path.display())))?;
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| CliError::other(format!("cannot list {}: {e}", path.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for e in entries {
            if e.file_name().is_some_and(|f| f == ".git") {
                continue;
            }
            walk(n, &e, hits, st)?;
        }
        return Ok(());
    }
    if !meta.is_file() {
        return Ok(());
    }
    if meta.len() > MAX_FILE {
        st.skipped_large += 1;
        return Ok(());
    }
    let Ok(data) = std::fs::read(path) else {
        return Ok(());
    };
    let data = Zeroizing::new(data);
    search_content(n, &data, &path.display().to_string(), hits, st);
    Ok(())
}

fn git(args: &[&str], dir: &Path) -> CliResult<Vec<u8>> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| {
            CliError::other(format!(
                "cannot run git: {e}; install git for --git/--staged"
            ))
        })?;
    if !out.status.success() {
        return Err(CliError::other(format!(
            "git {} failed in {}: {}; is it a git repository?",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(out.stdout)
}

/// Streams blobs through one `git cat-file --batch`, calling `f(sha, content)` for each
/// blob up to `MAX_FILE`. Larger blobs are read through a small buffer and dropped (counted
/// in `skipped_large`), so memory stays bounded whatever the repository holds.
fn cat_blobs(
    dir: &Path,
    shas: &[String],
    skipped_large: &mut u64,
    mut f: impl FnMut(&str, &[u8]),
) -> CliResult<()> {
    let mut child = Command::new("git")
        .args(["cat-file", "--batch"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| CliError::other(format!("cannot run git: {e}")))?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| CliError::other("git stdin"))?;
    let list: String = shas.iter().map(|s| format!("{s}\n")).collect();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(list.as_bytes());
    });
    let mut r = BufReader::new(
        child
            .stdout
            .take()
            .ok_or_else(|| CliError::other("git stdout"))?,
    );
    let mut header = String::new();
    loop {
        header.clear();
        if r.read_line(&mut header)
            .map_err(|e| CliError::other(e.to_string()))?
            == 0
        {
            break;
        }
        let parts: Vec<&str> = header.split_whitespace().collect();
        let (sha, kind, size) = match parts.as_slice() {
            [sha, kind, size] => (sha.to_string(), *kind, size.parse::<usize>().unwrap_or(0)),
            _ => continue,
        };
        if size as u64 > MAX_FILE {
            // Content and its trailing newline, discarded without holding it.
            let want = size as u64 + 1;
            let got = std::io::copy(&mut (&mut r).take(want), &mut std::io::sink())
                .map_err(|e| CliError::other(e.to_string()))?;
            if got != want {
                return Err(CliError::other("git cat-file ended early"));
            }
            if kind == "blob" {
                *skipped_large += 1;
            }
            continue;
        }
        let mut buf = Zeroizing::new(vec![0u8; size + 1]);
        r.read_exact(&mut buf)
            .map_err(|e| CliError::other(e.to_string()))?;
        if kind == "blob" {
            f(&sha, &buf[..size]);
        }
    }
    let _ = writer.join();
    let _ = child.wait();
    Ok(())
}

fn scan_history(n: &Needles, dir: &Path, hits: &mut Vec<Hit>, st: &mut Stats) -> CliResult<()> {
    let objects = git(&["rev-list", "--objects", "--all"], dir)?;
    let text = String::from_utf8_lossy(&objects);
    let mut paths: std::collections::HashMap<String, String> = Default::default();
    let mut shas = Vec::new();
    for l in text.lines() {
        if let Some((sha, path)) = l.split_once(' ') {
            if !paths.contains_key(sha) {
                paths.insert(sha.to_string(), path.to_string());
                shas.push(sha.to_string());
            }
        }
    }
    let mut found: Vec<(String, Vec<Hit>)> = Vec::new();
    let mut skipped = 0;
    let mut inner = Stats::default();
    cat_blobs(dir, &shas, &mut skipped, |sha, data| {
        let mut h = Vec::new();
        search_content(n, data, "", &mut h, &mut inner);
        if !h.is_empty() {
            found.push((sha.to_string(), h));
        }
    })?;
    st.skipped_large += skipped;
    st.files += inner.files;
    st.bytes += inner.bytes;
    st.binary += inner.binary;
    st.utf16 += inner.utf16;
    for (sha, hs) in found {
        // The commit that first added this blob.
        let log = git(
            &[
                "log",
                "--all",
                "--format=%h",
                &format!("--find-object={sha}"),
            ],
            dir,
        )?;
        let commit = String::from_utf8_lossy(&log)
            .lines()
            .last()
            .unwrap_or("?")
            .to_string();
        let path = paths.get(&sha).cloned().unwrap_or_default();
        for mut h in hs {
            h.location = format!("{commit}:{path}");
            hits.push(h);
        }
    }
    Ok(())
}

fn scan_staged(n: &Needles, dir: &Path, hits: &mut Vec<Hit>, st: &mut Stats) -> CliResult<()> {
    let out = git(&["ls-files", "--stage", "-z"], dir)?;
    let mut shas = Vec::new();
    let mut paths = std::collections::HashMap::new();
    for rec in out.split(|&b| b == 0).filter(|r| !r.is_empty()) {
        let rec = String::from_utf8_lossy(rec);
        // "<mode> <sha> <stage>\t<path>"
        if let Some((meta, path)) = rec.split_once('\t') {
            if let Some(sha) = meta.split_whitespace().nth(1) {
                paths.insert(sha.to_string(), path.to_string());
                shas.push(sha.to_string());
            }
        }
    }
    let mut skipped = 0;
    cat_blobs(dir, &shas, &mut skipped, |sha, data| {
        let location = format!("(staged) {}", paths.get(sha).cloned().unwrap_or_default());
        search_content(n, data, &location, hits, st);
    })?;
    st.skipped_large += skipped;
    Ok(())
}

pub fn run(
    ctx: &Ctx,
    paths: Vec<PathBuf>,
    history: bool,
    staged: bool,
    as_json: bool,
) -> CliResult<i32> {
    let v = ctx.open()?;
    let Some(n) = needles(&v)? else {
        output::out("no stored secrets to look for");
        return Ok(0);
    };
    drop(v);
    let paths = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths
    };
    let mut hits = Vec::new();
    let mut st = Stats::default();
    if history || staged {
        for p in &paths {
            let dir = if p.is_dir() {
                p.clone()
            } else {
                p.parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| PathBuf::from("."))
            };
            if history {
                scan_history(&n, &dir, &mut hits, &mut st)?;
            }
            if staged {
                scan_staged(&n, &dir, &mut hits, &mut st)?;
            }
        }
    } else {
        for p in &paths {
            walk(&n, p, &mut hits, &mut st)?;
        }
    }
    if as_json {
        output::json(
            &json!({ "found": hits, "files": st.files, "bytes": st.bytes,
            "skipped_large": st.skipped_large, "binary": st.binary, "utf16": st.utf16 }),
        );
    } else {
        for h in &hits {
            output::out(&format!(
                "{}:{}: the {} of bot {}",
                h.location, h.line, h.field, h.bot
            ));
        }
        if hits.is_empty() {
            output::out("no stored secret found");
        } else {
            output::warn(&format!(
                "{} stored secret(s) found: remove them, rotate every key found (`vault rotate BOT`), and purge history if it was committed",
                hits.len()
            ));
        }
        output::note(&format!(
            "searched {} file(s) or blob(s), {} bytes ({} binary, {} decoded from UTF-16); skipped {} over {} MiB",
            st.files,
            st.bytes,
            st.binary,
            st.utf16,
            st.skipped_large,
            MAX_FILE / 1024 / 1024
        ));
    }
    Ok(if hits.is_empty() { 0 } else { code::REFUSED })
}
