//! `vault import freqtrade CONFIG --bot BOT`: move the exchange key and freqtrade's other
//! secrets out of its config (and a `config-private.json` and `.env` beside it) into the vault,
//! then blank them in place, keeping every comment and the layout.
//!
//! Order matters: the vault write is durable (fsync, read-back, rename, directory fsync)
//! before any source file is touched, and each source is then replaced atomically, so a crash
//! leaves the secret in at least one place, never in none. No copy is left behind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use vault_core::{jsonc, EnvProfile, Exchange, NewBot, NewKey, Scope, SecretValue};
use zeroize::Zeroizing;

use crate::cli::{ImportCmd, ImportFreqtradeArgs};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::output;

/// freqtrade config paths that hold secrets, and the env names they have under `vault run`.
const CONFIG_SECRETS: [(&[&str], &str); 9] = [
    (&["exchange", "key"], "FREQTRADE__EXCHANGE__KEY"),
    (&["exchange", "secret"], "FREQTRADE__EXCHANGE__SECRET"),
    (&["exchange", "password"], "FREQTRADE__EXCHANGE__PASSWORD"),
    (&["exchange", "uid"], "FREQTRADE__EXCHANGE__UID"),
    (&["telegram", "token"], "FREQTRADE__TELEGRAM__TOKEN"),
    (
        &["api_server", "password"],
        "FREQTRADE__API_SERVER__PASSWORD",
    ),
    (
        &["api_server", "jwt_secret_key"],
        "FREQTRADE__API_SERVER__JWT_SECRET_KEY",
    ),
    (
        &["api_server", "ws_token"],
        "FREQTRADE__API_SERVER__WS_TOKEN",
    ),
    (
        &["discord", "webhook_url"],
        "FREQTRADE__DISCORD__WEBHOOK_URL",
    ),
];

struct Source {
    path: PathBuf,
    text: Zeroizing<String>,
    /// Spans to blank (JSON) or line indices to blank (.env).
    spans: Vec<(usize, usize)>,
    env_lines: Vec<usize>,
}

fn read_text(path: &Path) -> CliResult<Zeroizing<String>> {
    let meta = std::fs::symlink_metadata(path)
        .map_err(|e| CliError::other(format!("cannot read {}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(CliError::other(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    if meta.len() > 16 * 1024 * 1024 {
        return Err(CliError::other(format!(
            "{} is too large for a config file",
            path.display()
        )));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| CliError::other(format!("cannot read {}: {e}", path.display())))?;
    String::from_utf8(bytes)
        .map(Zeroizing::new)
        .map_err(|_| CliError::other(format!("{} is not UTF-8 text", path.display())))
}

/// The values freqtrade's env loader would see in a `.env` line: `[export ]NAME=VALUE`.
fn env_line(line: &str) -> Option<(&str, String)> {
    let l = line.trim_start();
    let l = l.strip_prefix("export ").unwrap_or(l);
    let (name, value) = l.split_once('=')?;
    let name = name.trim();
    if !name.starts_with("FREQTRADE__") {
        return None;
    }
    let v = value.trim();
    let v = v
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .or_else(|| v.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')))
        .unwrap_or(v);
    Some((name, v.to_string()))
}

fn is_secret_env_name(name: &str) -> bool {
    CONFIG_SECRETS.iter().any(|(_, n)| *n == name)
        || ["TOKEN", "SECRET", "PASSWORD", "WEBHOOK", "__KEY"]
            .iter()
            .any(|w| name.contains(w))
}

pub fn run(ctx: &Ctx, c: ImportCmd) -> CliResult<i32> {
    let ImportCmd::Freqtrade(ImportFreqtradeArgs {
        config,
        bot,
        exchange,
    }) = c;
    let dir = config
        .parent()
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    let mut found: BTreeMap<String, SecretValue> = BTreeMap::new();
    let mut exchange_name: Option<String> = None;
    let mut sources = Vec::new();

    let mut json_files = vec![config.clone()];
    let private = dir.join("config-private.json");
    if private.exists() && private != config {
        json_files.push(private);
    }
    for path in json_files {
        let text = read_text(&path)?;
        let values = jsonc::parse(&text).map_err(|e| {
            CliError::other(format!(
                "{}: {e}; fix the JSON and try again",
                path.display()
            ))
        })?;
        let mut spans = Vec::new();
        for v in &values {
            if v.path == ["exchange", "name"] {
                exchange_name = v.string.clone().or(exchange_name);
            }
            let Some(s) = &v.string else { continue };
            if s.is_empty() {
                continue;
            }
            if let Some((_, env)) = CONFIG_SECRETS
                .iter()
                .find(|(p, _)| v.path.iter().map(String::as_str).eq(p.iter().copied()))
            {
                found.insert(env.to_string(), SecretValue::new(s.clone()));
                spans.push((v.start, v.end));
            }
        }
        if !spans.is_empty() {
            sources.push(Source {
                path,
                text,
                spans,
                env_lines: vec![],
            });
        }
    }
    let dotenv = dir.join(".env");
    if dotenv.exists() {
        let text = read_text(&dotenv)?;
        let mut lines = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if let Some((name, value)) = env_line(line) {
                if !value.is_empty()
                    && is_secret_env_name(name)
                    && vault_core::model::validate_env_name(name).is_ok()
                {
                    found.insert(name.to_string(), SecretValue::new(value));
                    lines.push(i);
                }
            }
        }
        if !lines.is_empty() {
            sources.push(Source {
                path: dotenv,
                text,
                spans: vec![],
                env_lines: lines,
            });
        }
    }
    if found.is_empty() {
        output::out(&format!(
            "nothing to import: {} holds no secret values (already imported?)",
            config.display()
        ));
        return Ok(0);
    }
    let named = match exchange_name {
        Some(e) => Some(Exchange::parse(&e).ok_or_else(|| {
            CliError::usage(format!(
                "the config names exchange {e:?}, which vault does not know; give --exchange"
            ))
        })?),
        None => None,
    };
    let exchange = match exchange.or(named) {
        Some(e) => e,
        None => {
            return Err(CliError::usage(
                "the config names no exchange (exchange.name); give --exchange",
            ))
        }
    };
    let take = |found: &mut BTreeMap<String, SecretValue>, k: &str| found.remove(k);
    let key = take(&mut found, "FREQTRADE__EXCHANGE__KEY");
    let secret = take(&mut found, "FREQTRADE__EXCHANGE__SECRET");
    let (Some(key), Some(secret)) = (key, secret) else {
        return Err(CliError::other(
            "the config has no complete exchange key (exchange.key and exchange.secret); add it with `vault add` instead",
        ));
    };
    let new_key = NewKey {
        key,
        secret,
        passphrase: take(&mut found, "FREQTRADE__EXCHANGE__PASSWORD"),
        uid: take(&mut found, "FREQTRADE__EXCHANGE__UID"),
    };
    super::add::warn_freqtrade(EnvProfile::Freqtrade, &new_key);
    let extra_names: Vec<String> = found.keys().cloned().collect();
    let mut v = ctx.open()?;
    v.add(NewBot {
        name: bot.clone(),
        exchange,
        key: new_key,
        scope: Scope::default(),
        env_profile: EnvProfile::Freqtrade,
        rotate_after_days: vault_core::model::DEFAULT_ROTATE_AFTER_DAYS,
        note: Some(format!("imported from {}", config.display())),
        extra_secrets: found,
    })?;
    // The vault write is durable now; only then are the sources blanked.
    let mut rewritten = Vec::new();
    for s in &sources {
        let new_text = if s.env_lines.is_empty() {
            Zeroizing::new(jsonc::blank(&s.text, &s.spans))
        } else {
            let mut out = String::with_capacity(s.text.len());
            for (i, line) in s.text.split_inclusive('\n').enumerate() {
                if s.env_lines.contains(&i) {
                    let (head, _) = line.split_once('=').unwrap_or((line, ""));
                    out.push_str(head);
                    out.push('=');
                    if line.ends_with('\n') {
                        out.push('\n');
                    }
                } else {
                    out.push_str(line);
                }
            }
            Zeroizing::new(out)
        };
        vault_core::files::atomic_write(&s.path, new_text.as_bytes(), false, || Ok(())).map_err(
            |e| {
                CliError::other(format!(
                    "the vault has the secrets, but blanking {} failed: {e}; blank it by hand",
                    s.path.display()
                ))
            },
        )?;
        rewritten.push(s.path.display().to_string());
    }
    v.log_only(
        "import",
        Some(&bot),
        Some(format!("from {}", rewritten.join(", "))),
    )?;
    output::out(&format!(
        "imported bot {bot} ({exchange}) with {} extra secret(s): {}",
        extra_names.len(),
        extra_names.join(", ")
    ));
    output::out(&format!("blanked the secrets in {}", rewritten.join(", ")));
    output::out(&format!(
        "start it with: vault run --bot {bot} -- freqtrade trade -c {}",
        config.display()
    ));
    output::warn(&format!(
        "the key was on disk in clear: rotate it ({} then `vault rotate {bot}`), and run `vault scan --git` in case it was ever committed",
        exchange.api_management_url()
    ));
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_lines_are_read_like_a_shell_would() {
        assert_eq!(
            env_line("FREQTRADE__EXCHANGE__KEY=abc"),
            Some(("FREQTRADE__EXCHANGE__KEY", "abc".into()))
        );
        assert_eq!(
            env_line("export FREQTRADE__TELEGRAM__TOKEN=\"t:1\""),
            Some(("FREQTRADE__TELEGRAM__TOKEN", "t:1".into()))
        );
        assert_eq!(env_line("OTHER=1"), None);
        assert!(is_secret_env_name("FREQTRADE__TELEGRAM__TOKEN"));
        assert!(!is_secret_env_name("FREQTRADE__MAX_OPEN_TRADES"));
    }
}
