//! `vault run -- CMD`: start a bot with its credentials in its environment only.
//!
//! This module chooses the bot and the names, builds the child's environment and masks its
//! output; starting and supervising the child is per platform:
//! - Unix (`run/unix.rs`): without masking and without a TTL the child replaces this process
//!   (exec), so no parent holds the secrets. Output that goes to `/dev/null` needs no
//!   masking: such a stream is handed to the child as it is, and when both do, we exec.
//!   Otherwise we supervise: the child gets its own process group (so a signal reaches it exactly once), we forward INT TERM HUP QUIT USR1
//!   USR2 WINCH, reap every child (we may be PID 1 in a container), give it a pty when our
//!   output is a terminal, and exit with its status.
//! - Windows (`run/windows.rs`): there is no exec, so we always wait for the child; console
//!   Ctrl-C reaches it directly; `--ttl` ends it with TerminateProcess.

use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;

use vault_core::env::{self as venv, ProfileNames};
use vault_core::model::StoredCredentials;
use vault_core::{policy, Bot, EnvProfile, SecretValue};
use zeroize::Zeroizing;

use crate::cli::{DeliverArg, RunArgs};
use crate::ctx::Ctx;
use crate::error::{code, CliError, CliResult};
use crate::{output, sys};
use vault_core::mask::Masker;

mod proxy;
#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as os;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as os;

/// Which of our output streams someone reads. One that goes to `/dev/null` reaches no one:
/// it is handed to the child as it is, not masked.
#[derive(Clone, Copy)]
pub(crate) struct Watched {
    pub stdout: bool,
    pub stderr: bool,
}

/// What the supervisor masks: the bot's secrets, its name (for `<redacted:BOT>`), and which
/// streams go somewhere.
pub(crate) type Masking<'a> = (&'a [&'a str], &'a str, Watched);

/// The child's output is read this much at a time, through pipes of the same size. 128 KiB
/// (what `cat` reads) keeps the bytes in cache between the read and the write; 1 MiB reads
/// measured 1.9x the `--no-mask` time into a pipe, all of it system time (docs/PERFORMANCE.md).
pub(crate) const CHUNK: usize = 1 << 17;

/// Is the program freqtrade (`freqtrade ...` or `python -m freqtrade ...`)?
pub fn is_freqtrade(cmd: &[OsString]) -> bool {
    let Some(prog) = cmd.first() else {
        return false;
    };
    let base = Path::new(prog)
        .file_name()
        .and_then(OsStr::to_str)
        .unwrap_or("");
    if base == "freqtrade" {
        return true;
    }
    base.starts_with("python") && cmd.windows(2).any(|w| w[0] == "-m" && w[1] == "freqtrade")
}

fn choose_bot<'a>(v: &'a vault_core::Vault, wanted: Option<&str>) -> CliResult<&'a Bot> {
    if let Some(name) = wanted {
        return Ok(v.bot(name)?);
    }
    let active: Vec<&Bot> = v.bots().filter(|b| b.is_active()).collect();
    match active.as_slice() {
        [one] => Ok(one),
        [] => Err(CliError::new(
            code::NO_SUCH_BOT,
            "the vault has no active bot; `vault add` one first",
        )),
        many => Err(CliError::usage(format!(
            "which bot? give --bot or VAULT_BOT; the vault has: {}",
            many.iter()
                .map(|b| b.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Where the bot came from: the local vault, or (a fleet host) OpenBao. Only the vault has
/// an audit log.
enum Source {
    Vault(Box<vault_core::Vault>),
    Host(Box<Bot>),
}

impl Source {
    fn log_only(&self, op: &str, bot: Option<&str>, detail: Option<String>) -> CliResult<()> {
        match self {
            Source::Vault(v) => Ok(v.log_only(op, bot, detail)?),
            Source::Host(_) => Ok(()),
        }
    }
    fn log_handle(&self) -> Option<vault_core::LogHandle> {
        match self {
            Source::Vault(v) => Some(v.log_handle()),
            Source::Host(_) => None,
        }
    }
}

/// The env values the child gets, and the freqtrade config it may get instead.
struct Delivery {
    env: Vec<(String, SecretValue)>,
    config_json: Option<Zeroizing<String>>,
}

/// The credentials the child gets (the real ones, or with `--proxy` the stand-ins) and, with
/// `--proxy`, ccxt's `urls['api']` rewritten to the proxy.
fn plan(
    bot: &Bot,
    c: &StoredCredentials,
    names: ProfileNames,
    deliver: DeliverArg,
    ccxt_urls: Option<&serde_json::Value>,
) -> CliResult<Delivery> {
    let mut env = Vec::new();
    if deliver == DeliverArg::FreqtradeConfig {
        // Everything freqtrade reads goes into one config document; nothing secret in env.
        let mut root = serde_json::Map::new();
        let mut ex = serde_json::Map::new();
        ex.insert("key".into(), c.key.expose().into());
        ex.insert("secret".into(), c.secret.expose().into());
        if let Some(p) = &c.passphrase {
            ex.insert("password".into(), p.expose().into());
        }
        if let Some(u) = &c.uid {
            ex.insert("uid".into(), u.expose().into());
        }
        if let Some(urls) = ccxt_urls {
            let cfg = serde_json::json!({"urls": {"api": urls}});
            ex.insert("ccxt_config".into(), cfg.clone());
            ex.insert("ccxt_async_config".into(), cfg);
        }
        root.insert("exchange".into(), serde_json::Value::Object(ex));
        for name in bot.extra_secret_names() {
            let value = bot
                .extra_secret(name)
                .map(|s| s.expose())
                .unwrap_or_default();
            match name.strip_prefix("FREQTRADE__") {
                Some(path) => insert_path(&mut root, path, value),
                None => env.push((name.to_string(), SecretValue::from(value))),
            }
        }
        let text = Zeroizing::new(serde_json::Value::Object(root).to_string());
        return Ok(Delivery {
            env,
            config_json: Some(text),
        });
    }
    env.push((names.key.to_string(), c.key.clone()));
    env.push((names.secret.to_string(), c.secret.clone()));
    if let Some(p) = &c.passphrase {
        env.push((names.passphrase.to_string(), p.clone()));
    }
    if let Some(u) = &c.uid {
        env.push((names.uid.to_string(), u.clone()));
    }
    if let (Some(urls), true) = (ccxt_urls, names.key == venv::FREQTRADE.key) {
        // freqtrade's env loader nests FREQTRADE__EXCHANGE__CCXT_CONFIG__urls__api__KEY and
        // keeps the last part's case (ccxt's keys are camelCase).
        for (path, url) in leaves(urls) {
            for section in ["CCXT_CONFIG", "CCXT_ASYNC_CONFIG"] {
                env.push((
                    format!("FREQTRADE__EXCHANGE__{section}__urls__api__{path}"),
                    SecretValue::from(url.as_str()),
                ));
            }
        }
    }
    for name in bot.extra_secret_names() {
        if let Some(s) = bot.extra_secret(name) {
            env.push((name.to_string(), s.clone()));
        }
    }
    Ok(Delivery {
        env,
        config_json: None,
    })
}

/// Every string in a JSON tree, with its path joined by `__`.
fn leaves(v: &serde_json::Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    fn walk(v: &serde_json::Value, at: String, out: &mut Vec<(String, String)>) {
        match v {
            serde_json::Value::String(s) => out.push((at, s.clone())),
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    let p = if at.is_empty() {
                        k.clone()
                    } else {
                        format!("{at}__{k}")
                    };
                    walk(x, p, out);
                }
            }
            _ => {}
        }
    }
    walk(v, String::new(), &mut out);
    out
}

/// `TELEGRAM__TOKEN` -> {"telegram": {"token": value}}, as freqtrade's env loader nests.
fn insert_path(root: &mut serde_json::Map<String, serde_json::Value>, path: &str, value: &str) {
    let parts: Vec<String> = path.split("__").map(|p| p.to_ascii_lowercase()).collect();
    let mut cur = root;
    for (i, p) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            cur.insert(p.clone(), value.into());
            return;
        }
        let next = cur
            .entry(p.clone())
            .or_insert_with(|| serde_json::Value::Object(Default::default()));
        if !next.is_object() {
            *next = serde_json::Value::Object(Default::default());
        }
        let serde_json::Value::Object(m) = next else {
            return;
        };
        cur = m;
    }
}

pub fn run(ctx: &Ctx, a: RunArgs) -> CliResult<i32> {
    if std::env::var_os(venv::VAULT_RUN).is_some() && !a.allow_nested {
        return Err(CliError::new(
            code::REFUSED,
            "already inside `vault run` (VAULT_RUN is set); nested runs are refused: pass --allow-nested if you mean it",
        ));
    }
    let ttl = a.ttl.map(|d| d.as_secs());
    let mut cmdline = a.command.clone();
    // Who the bot runs as is settled before the vault is opened: a bad --user writes nothing.
    let account = match &a.user {
        Some(u) => Some(os::account(u)?),
        None => None,
    };
    // The bot comes from the vault, or on a fleet host from OpenBao (no vault file there).
    let source = match &a.host_credential {
        Some(p) => {
            let name = a.bot.as_deref().ok_or_else(|| {
                CliError::usage("--host-credential needs --bot BOT (or VAULT_BOT)")
            })?;
            let creds_dir = crate::cli::env_path("CREDENTIALS_DIRECTORY");
            Source::Host(Box::new(super::fleet::fetch_bot(
                p,
                name,
                creds_dir.as_deref(),
            )?))
        }
        None => Source::Vault(Box::new(ctx.open()?)),
    };
    let bot = match &source {
        Source::Vault(v) => choose_bot(v, a.bot.as_deref())?,
        Source::Host(b) => b,
    };
    if let Some(why) = policy::run_refusal(bot) {
        source.log_only("run-refused", Some(&bot.name), Some(why.clone()))?;
        return Err(CliError::new(code::REFUSED, format!("refused: {why}")));
    }
    for f in policy::evaluate(bot, jiff::Timestamp::now()) {
        if f.rule == "ip-not-restricted" {
            output::warn(&format!("{}: {}", bot.name, f.message));
        }
    }
    let profile = a.env_profile.map(super::profile).unwrap_or(bot.env_profile);
    let profile = match profile {
        EnvProfile::Auto if is_freqtrade(&cmdline) => EnvProfile::Freqtrade,
        EnvProfile::Auto => EnvProfile::Generic,
        p => p,
    };
    let names = if profile == EnvProfile::Freqtrade {
        venv::FREQTRADE
    } else {
        venv::GENERIC
    };
    let real = bot
        .credentials()
        .ok_or_else(|| CliError::new(code::REFUSED, format!("{} is revoked", bot.name)))?;
    // --proxy: the child gets stand-ins; the real key stays here, in the proxy.
    let proxied = if a.proxy {
        Some(start_proxy(source.log_handle(), bot, real, &a)?)
    } else {
        None
    };
    let delivery = match &proxied {
        Some((url, standin)) => {
            let urls = vault_core::proxy::ccxt_urls(bot.exchange, url);
            plan(bot, standin, names, a.deliver, urls.as_ref())?
        }
        None => plan(bot, real, names, a.deliver, None)?,
    };
    // Masking guards what someone reads. Output that goes to /dev/null reaches no one: when
    // both streams go there, nothing needs us in between (and without --ttl we exec).
    let watched = os::watched();
    let mask = !a.no_mask && (watched.stdout || watched.stderr);
    let masker_secrets: Vec<SecretValue> = if mask {
        bot.secret_values().map(|(_, s)| s.clone()).collect()
    } else {
        Vec::new()
    };
    let bot_name = bot.name.clone();
    source.log_only(
        "run",
        Some(&bot_name),
        Some(format!(
            "profile {}{}",
            profile.as_str(),
            if proxied.is_some() { ", proxy" } else { "" }
        )),
    )?;
    if ctx.g.verbose {
        output::note(&format!(
            "running {} with {}'s credentials ({} profile)",
            cmdline[0].to_string_lossy(),
            bot_name,
            profile.as_str()
        ));
    }
    // Kept past the vault to log the bot's exit status (the log key only).
    let log = source.log_handle();
    // The identity and every other bot's secrets are dropped (zeroized) here.
    drop(source);

    let config_fd = match &delivery.config_json {
        Some(text) => Some(os::config_fd(text)?),
        None => None,
    };
    drop(delivery.config_json);
    if let Some(fd) = &config_fd {
        if !cmdline.iter().any(|x| x == "-c" || x == "--config") {
            cmdline.push("-c".into());
            cmdline.push("config.json".into());
        }
        cmdline.push("-c".into());
        cmdline.push(os::config_path(fd).into());
    }

    let mut cmd = Command::new(&cmdline[0]);
    cmd.args(&cmdline[1..]);
    for n in venv::FREQTRADE
        .all()
        .into_iter()
        .chain(venv::GENERIC.all())
        .chain(venv::UNLOCK_VARS)
    {
        cmd.env_remove(n);
    }
    for (k, val) in &delivery.env {
        cmd.env(k, val.expose());
    }
    if let Some((url, _)) = &proxied {
        cmd.env(venv::VAULT_PROXY_URL, url);
    }
    cmd.env(venv::VAULT_BOT, &bot_name);
    cmd.env(venv::VAULT_RUN, std::process::id().to_string());
    drop(delivery.env);
    if let Some(acct) = &account {
        os::run_as(&mut cmd, acct);
    }

    // The bot must not reach the session unlock cache: give it (and us) a fresh, empty one.
    sys::join_new_session_keyring();

    // The proxy lives in this process: with --proxy we always supervise.
    if !mask && ttl.is_none() && proxied.is_none() {
        return os::exec(cmd);
    }
    let masker_refs: Vec<&str> = masker_secrets.iter().map(|s| s.expose()).collect();
    let status = os::supervise(
        cmd,
        mask.then_some((masker_refs.as_slice(), bot_name.as_str(), watched)),
        ttl,
    );
    let detail = match &status {
        Ok(code) => format!("exit {code}"),
        Err(e) => format!("failed to start (exit {})", e.code),
    };
    if let Some(Err(e)) = log.map(|l| l.append("run-exit", Some(&bot_name), Some(detail))) {
        output::warn(&format!("could not log the run's exit status: {e}"));
    }
    let status = status?;
    // The config memfd stayed open until the child ended: freqtrade re-reads it on /reload_config.
    let _ = &config_fd;
    Ok(status)
}

/// Starts the signing proxy for `bot` and returns its URL and the child's stand-ins.
fn start_proxy(
    log: Option<vault_core::LogHandle>,
    bot: &Bot,
    real: &StoredCredentials,
    a: &RunArgs,
) -> CliResult<(String, StoredCredentials)> {
    let ex = bot.exchange;
    if !vault_core::proxy::supports(ex) {
        let names: Vec<&str> = vault_core::proxy::supported()
            .iter()
            .map(|e| e.id())
            .collect();
        return Err(CliError::other(format!(
            "the signing proxy does not support {ex} yet (it supports {}); run without --proxy",
            names.join(", ")
        )));
    }
    let var = format!("VAULT_{}_BASE_URL", ex.id().to_ascii_uppercase());
    let base_override = match std::env::var_os(&var) {
        Some(_) => {
            let (base, _) = super::verify::base_url(ex, false)?;
            let hostport = base
                .split_once("://")
                .map(|(_, h)| h.to_string())
                .unwrap_or_else(|| base.clone());
            Some((base, hostport))
        }
        None => None,
    };
    let standin = vault_core::proxy::stand_in(real)?;
    let rules = vault_core::proxy::Rules {
        allow: a.allow.clone(),
        symbols: a.symbols.clone(),
        max_notional: a.max_notional,
    };
    let running = proxy::start(
        ex,
        real.clone(),
        standin.clone(),
        rules,
        proxy::Upstream { base_override },
        log,
        bot.name.clone(),
    )?;
    Ok((running.url, standin))
}

pub(crate) fn spawn_error(prog: &OsStr, e: std::io::Error) -> CliError {
    let p = prog.to_string_lossy();
    match e.kind() {
        std::io::ErrorKind::NotFound => CliError::new(
            code::NOT_FOUND,
            format!("{p}: command not found; check the name and PATH"),
        ),
        std::io::ErrorKind::PermissionDenied => CliError::new(
            code::NOT_EXECUTABLE,
            format!("{p}: cannot be executed (permission denied)"),
        ),
        _ => CliError::new(
            code::NOT_EXECUTABLE,
            format!("{p}: cannot be executed: {e}"),
        ),
    }
}

/// Where masked output goes. Once our reader has gone away we keep draining the child (so it
/// is not blocked on a full pipe) and drop what it writes.
struct Sink<W: Write> {
    to: W,
    broken: bool,
}

impl<W: Write> Sink<W> {
    fn piece(&mut self, piece: &[u8]) {
        if !self.broken && self.to.write_all(piece).is_err() {
            self.broken = true;
        }
    }

    /// Each chunk goes out as it came (a buffered writer, as on Windows, is flushed).
    fn flush(&mut self) {
        if !self.broken && self.to.flush().is_err() {
            self.broken = true;
        }
    }
}

/// Copies the child's output to ours through the masker, as it comes. Clean text goes out
/// straight from the read buffer (no copy); a chunk with a secret in it is written in pieces.
pub(crate) fn pump(mut from: impl Read, to: impl Write, mut masker: Masker) {
    let mut buf = Zeroizing::new(vec![0u8; CHUNK]);
    let mut sink = Sink { to, broken: false };
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        masker.feed_with(&buf[..n], &mut |piece| sink.piece(piece));
        sink.flush();
    }
    masker.finish_with(&mut |piece| sink.piece(piece));
    sink.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freqtrade_is_recognised_by_program_name() {
        let v = |s: &[&str]| s.iter().map(OsString::from).collect::<Vec<_>>();
        assert!(is_freqtrade(&v(&["freqtrade", "trade"])));
        assert!(is_freqtrade(&v(&["/opt/ft/.venv/bin/freqtrade", "trade"])));
        assert!(is_freqtrade(&v(&["python3", "-m", "freqtrade", "trade"])));
        assert!(!is_freqtrade(&v(&["python3", "bot.py"])));
        assert!(!is_freqtrade(&v(&["env"])));
    }

    #[test]
    fn extra_freqtrade_secrets_nest_like_the_env_loader() {
        let mut m = serde_json::Map::new();
        insert_path(&mut m, "TELEGRAM__TOKEN", "t");
        insert_path(&mut m, "API_SERVER__PASSWORD", "p");
        let v = serde_json::Value::Object(m);
        assert_eq!(v["telegram"]["token"], "t");
        assert_eq!(v["api_server"]["password"], "p");
    }
}
