//! Printing: stdout for results, stderr for warnings and errors. A closed stdout (`vault list
//! | head -1`) ends the program quietly instead of failing.

use std::io::{IsTerminal, Write};

/// Set once stdout's reader has gone: later lines are dropped.
static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Writes a line to stdout. A broken pipe is a normal end (`vault list | head -1`): later
/// output is dropped and the command finishes as usual, so every secret buffer is dropped
/// and wiped on the way out (a `process::exit` here would skip those destructors).
pub fn out(line: &str) {
    use std::sync::atomic::Ordering;
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut o = std::io::stdout().lock();
    if let Err(e) = writeln!(o, "{line}") {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
        }
    }
}

/// Prints a JSON value.
pub fn json(v: &impl serde::Serialize) {
    out(&serde_json::to_string_pretty(v).unwrap_or_default());
}

/// Colour only on a terminal, and not when `NO_COLOR` is set to a non-empty value
/// (no-color.org: an empty `NO_COLOR=` does not disable it).
fn colour(code: &str, text: &str) -> String {
    if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
    {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// `vault: warning: ...` on stderr.
pub fn warn(msg: &str) {
    eprintln!("vault: {} {msg}", colour("33", "warning:"));
}

/// `vault: ...` on stderr (informational).
pub fn note(msg: &str) {
    eprintln!("vault: {msg}");
}

/// `vault: error: ...` on stderr.
pub fn error_line(msg: &str) {
    eprintln!("vault: {} {msg}", colour("31", "error:"));
}

pub fn flush() {
    let _ = std::io::stdout().flush();
}

/// A simple left-aligned table.
pub fn table(header: &[&str], rows: &[Vec<String>]) {
    let mut w: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<width$}", width = w[i]))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    out(&line(header.iter().map(|s| s.to_string()).collect()));
    for r in rows {
        out(&line(r.clone()));
    }
}
