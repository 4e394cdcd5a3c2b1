//! Where secrets come in: a hidden prompt on the terminal, a passphrase file, or stdin.
//! Never argv, never an environment value. Every value is wrapped in a secret type at once.

use std::io::Read;
use std::path::Path;

use secrecy::{ExposeSecret, SecretString};
use vault_core::exchange::SecretKind;
use vault_core::{Exchange, NewKey, SecretValue};
use zeroize::Zeroizing;

use crate::error::{code, CliError, CliResult};

/// Is there a terminal to prompt on?
pub fn has_tty() -> bool {
    // The same device rpassword prompts on.
    let console = if cfg!(windows) { "CONIN$" } else { "/dev/tty" };
    std::fs::File::open(console).is_ok()
}

/// First line of a 0600 passphrase file, trailing newline stripped.
pub fn read_passphrase_file(path: &Path) -> CliResult<SecretString> {
    let bytes = Zeroizing::new(
        vault_core::files::read_secure_in(
            path,
            crate::cli::env_path("CREDENTIALS_DIRECTORY").as_deref(),
        )
        .map_err(|e| {
            let c = CliError::from(e);
            CliError::new(c.code, format!("passphrase file: {}", c.message))
        })?,
    );
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| CliError::other(format!("{} is not UTF-8 text", path.display())))?;
    let line = text.split('\n').next().unwrap_or("");
    let line = line.strip_suffix('\r').unwrap_or(line);
    if line.is_empty() {
        return Err(CliError::other(format!(
            "{} is empty: put the passphrase on its first line",
            path.display()
        )));
    }
    Ok(SecretString::from(line.to_string()))
}

/// A hidden prompt.
pub fn prompt(label: &str) -> CliResult<SecretString> {
    if !has_tty() {
        return Err(CliError::other(format!(
            "cannot prompt for {label}: no terminal; use --from-stdin (or a passphrase file)"
        )));
    }
    rpassword::prompt_password(format!("{label}: "))
        .map(SecretString::from)
        .map_err(|e| CliError::other(format!("cannot read {label}: {e}")))
}

/// The rule, as the prompt states it.
pub const PASSPHRASE_RULE: &str =
    "five or more different, uncommon words, or a password that zxcvbn scores 3 or more";

/// A word counts toward the five only if it has three letters or more and zxcvbn needs at
/// least this many guesses for it alone: `password`, `qwerty` or `aaa` do not count.
const UNCOMMON_WORD_GUESSES: f64 = 1000.0;

/// How many different, uncommon words `p` has.
fn uncommon_words(p: &str) -> usize {
    let mut seen: Vec<String> = Vec::new();
    for w in p.split(|c: char| c.is_whitespace() || c == '-' || c == '_' || c == '.' || c == ',') {
        if w.chars().filter(|c| c.is_alphabetic()).count() < 3 {
            continue;
        }
        let lower = zeroize::Zeroizing::new(w.to_lowercase());
        if seen.contains(&*lower) {
            continue;
        }
        if (zxcvbn::zxcvbn(&lower, &[]).guesses() as f64) < UNCOMMON_WORD_GUESSES {
            continue;
        }
        seen.push(lower.to_string());
    }
    let n = seen.len();
    for s in &mut seen {
        zeroize::Zeroize::zeroize(s);
    }
    n
}

/// The passphrase strength rule: zxcvbn score >= 3, or five or more different, uncommon words.
pub fn check_strength(pass: &SecretString) -> CliResult<()> {
    let p = pass.expose_secret();
    let est = zxcvbn::zxcvbn(p, &[]);
    // Case changes add little: judged as typed and in lower case, the weaker counts
    // (`Password password PASSWORD ...` is still one word five times).
    let lower = zeroize::Zeroizing::new(p.to_lowercase());
    let score = est.score().min(zxcvbn::zxcvbn(&lower, &[]).score());
    if score >= zxcvbn::Score::Three || uncommon_words(p) >= 5 {
        return Ok(());
    }
    let why = est
        .feedback()
        .and_then(|f| f.warning().map(|w| w.to_string()))
        .unwrap_or_else(|| "it is too easy to guess".into());
    Err(CliError::other(format!(
        "passphrase refused ({why}): use {PASSPHRASE_RULE}. The KDF only slows an attacker down; the passphrase is what stops them. Nothing was changed"
    )))
}

/// A new passphrase: from a file, or prompted twice. Checked for strength before the second
/// prompt, so a refused one is not typed twice.
pub fn new_passphrase(file: Option<&Path>) -> CliResult<SecretString> {
    match file {
        Some(f) => {
            let p = read_passphrase_file(f)?;
            check_strength(&p)?;
            Ok(p)
        }
        None => {
            let a = prompt(&format!("New passphrase ({PASSPHRASE_RULE})"))?;
            check_strength(&a)?;
            let b = prompt("Repeat the passphrase")?;
            if a.expose_secret() != b.expose_secret() {
                return Err(CliError::other(
                    "the passphrases differ; nothing was changed",
                ));
            }
            Ok(a)
        }
    }
}

/// The most stdin may hold: a key, a secret, a passphrase and a PEM key are far smaller.
/// The buffer is allocated once at this size, because a buffer that grows leaves its old
/// copies behind unwiped; more is refused, not grown into.
const STDIN_MAX: usize = 64 * 1024;

/// Reads all of stdin into zeroizing memory.
fn stdin_all() -> CliResult<Zeroizing<String>> {
    let mut buf = Zeroizing::new(Vec::with_capacity(STDIN_MAX + 1));
    std::io::stdin()
        .take(STDIN_MAX as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| CliError::other(format!("cannot read stdin: {e}")))?;
    if buf.len() > STDIN_MAX {
        return Err(CliError::other(
            "stdin holds more than 64 KiB: give only the values, one per line (key, secret, then passphrase)",
        ));
    }
    // The bytes become the String in place (no second copy); refused bytes are wiped.
    match String::from_utf8(std::mem::take(&mut *buf)) {
        Ok(text) => Ok(Zeroizing::new(text)),
        Err(e) => {
            drop(Zeroizing::new(e.into_bytes()));
            Err(CliError::other(
                "stdin is not UTF-8 text: give the values as text, one per line",
            ))
        }
    }
}

/// Splits stdin into values: one per line; a value starting with `-----BEGIN` runs through
/// its `-----END ...-----` line.
pub fn split_values(text: &str) -> CliResult<Vec<SecretValue>> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim_start().starts_with("-----BEGIN") {
            // Sized for the rest of the text up front: the PEM never outgrows (and so never
            // leaves behind) its buffer.
            let mut pem = Zeroizing::new(String::with_capacity(text.len()));
            pem.push_str(line.trim());
            let mut closed = false;
            for l in lines.by_ref() {
                pem.push('\n');
                pem.push_str(l.trim());
                if l.trim_start().starts_with("-----END") {
                    closed = true;
                    break;
                }
            }
            if !closed {
                return Err(CliError::other(
                    "a PEM key on stdin has no -----END line; paste the whole key",
                ));
            }
            pem.push('\n');
            out.push(SecretValue::new(pem.to_string()));
        } else {
            out.push(SecretValue::new(line.to_string()));
        }
    }
    Ok(out)
}

/// The key for an exchange, from stdin or prompts: key, secret, then passphrase where needed.
pub fn read_key(exchange: Exchange, from_stdin: bool) -> CliResult<NewKey> {
    let need_pass = exchange.needs_passphrase();
    let (key, secret, passphrase, uid) = if from_stdin {
        let text = stdin_all()?;
        let mut v = split_values(&text)?.into_iter();
        let key = v.next();
        let secret = v.next();
        let (Some(key), Some(secret)) = (key, secret) else {
            return Err(CliError::new(
                code::OTHER,
                format!(
                    "stdin must hold the API key and the secret, one per line{}",
                    if need_pass {
                        ", then the passphrase"
                    } else {
                        ""
                    }
                ),
            ));
        };
        let passphrase = if need_pass {
            Some(v.next().ok_or_else(|| {
                CliError::other(format!(
                    "{exchange} keys need a passphrase: put it on the line after the secret"
                ))
            })?)
        } else {
            None
        };
        let uid = v.next().filter(|u| !u.is_empty());
        (key, secret, passphrase, uid)
    } else {
        let key = to_value(prompt("API key")?);
        let secret = match exchange.secret_kind() {
            SecretKind::Pem => read_pem_prompt()?,
            SecretKind::Line => to_value(prompt("API secret")?),
        };
        let passphrase = if need_pass {
            Some(to_value(prompt("API passphrase")?))
        } else {
            None
        };
        (key, secret, passphrase, None)
    };
    Ok(NewKey {
        key,
        secret,
        passphrase,
        uid,
    })
}

fn to_value(s: SecretString) -> SecretValue {
    SecretValue::new(s.expose_secret().to_string())
}

fn read_pem_prompt() -> CliResult<SecretValue> {
    crate::output::note("paste the PEM private key (hidden), ending with its -----END line:");
    const PEM_MAX: usize = 16 * 1024;
    // Allocated once: a growing String would leave unwiped copies of the key behind.
    let mut pem = Zeroizing::new(String::with_capacity(PEM_MAX));
    loop {
        let line = prompt("PEM line")?;
        let line = line.expose_secret().trim();
        if pem.len() + line.len() + 1 > PEM_MAX {
            return Err(CliError::other(
                "that PEM key is longer than 16 KiB: paste only the key, from -----BEGIN to -----END",
            ));
        }
        pem.push_str(line);
        pem.push('\n');
        if line.starts_with("-----END") {
            break;
        }
    }
    Ok(SecretValue::new(pem.to_string()))
}

/// One secret value (extra secrets): stdin's first line, or a hidden prompt.
pub fn read_one(label: &str, from_stdin: bool) -> CliResult<SecretValue> {
    if from_stdin {
        let text = stdin_all()?;
        let v = split_values(&text)?;
        v.into_iter()
            .next()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| CliError::other("stdin is empty: give the value on its first line"))
    } else {
        Ok(to_value(prompt(label)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdin_values_keep_a_multiline_pem_key_whole() {
        let text = "organizations/x/apiKeys/y\n-----BEGIN EC PRIVATE KEY-----\nAAA\nBBB\n-----END EC PRIVATE KEY-----\n";
        let v = split_values(text).expect("split");
        assert_eq!(v.len(), 2);
        assert!(v[1]
            .expose()
            .starts_with("-----BEGIN EC PRIVATE KEY-----\nAAA\nBBB\n-----END"));
        assert!(split_values("k\n-----BEGIN X-----\nAAA\n").is_err());
    }

    #[test]
    fn weak_passphrases_are_refused_and_word_lists_accepted() {
        assert!(check_strength(&SecretString::from("password123".to_string())).is_err());
        assert!(check_strength(&SecretString::from(
            "correct horse battery staple orbit".to_string()
        ))
        .is_ok());
    }
}
