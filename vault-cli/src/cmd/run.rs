//! `vault run -- CMD`: start a bot with its credentials in its environment only.
//!
//! Without masking and without a TTL the child replaces this process (exec), so no parent
//! holds the secrets. Otherwise we supervise: the child gets its own process group (so a
//! signal reaches it exactly once: from the terminal when it owns the foreground, or
//! forwarded by us), we forward INT TERM HUP QUIT USR1 USR2 WINCH, reap every child (we may be
//! PID 1 in a container), mask secrets in its output, and exit with its status.

use std::ffi::{OsStr, OsString};
use std::io::{IsTerminal, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use signal_hook::consts::signal::*;
use vault_core::env::{self as venv, ProfileNames};
use vault_core::{policy, Bot, EnvProfile, SecretValue};
use zeroize::Zeroizing;

use crate::cli::{DeliverArg, RunArgs};
use crate::ctx::Ctx;
use crate::error::{code, CliError, CliResult};
use crate::{output, sys};
use vault_core::mask::Masker;

/// Signals forwarded to the child.
const FORWARDED: [i32; 7] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH];

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

/// The env values the child gets, and the freqtrade config it may get instead.
struct Delivery {
    env: Vec<(String, SecretValue)>,
    config_json: Option<Zeroizing<String>>,
}

fn plan(bot: &Bot, names: ProfileNames, deliver: DeliverArg) -> CliResult<Delivery> {
    let c = bot
        .credentials()
        .ok_or_else(|| CliError::new(code::REFUSED, format!("{} is revoked", bot.name)))?;
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

/// A sealed memfd holding the config; freqtrade reads (and re-reads) it at /dev/fd/N.
fn sealed_memfd(text: &str) -> CliResult<std::os::fd::OwnedFd> {
    use rustix::fs::{fcntl_add_seals, memfd_create, MemfdFlags, SealFlags};
    let fd = memfd_create("vault-freqtrade-config", MemfdFlags::ALLOW_SEALING).map_err(|e| {
        CliError::other(format!(
            "cannot create a memfd for --deliver freqtrade-config: {e}"
        ))
    })?;
    let mut f = std::fs::File::from(fd);
    f.write_all(text.as_bytes())
        .map_err(|e| CliError::other(format!("cannot write the memfd: {e}")))?;
    fcntl_add_seals(
        &f,
        SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE | SealFlags::SEAL,
    )
    .map_err(|e| CliError::other(format!("cannot seal the memfd: {e}")))?;
    Ok(std::os::fd::OwnedFd::from(f))
}

pub fn run(ctx: &Ctx, a: RunArgs) -> CliResult<i32> {
    if std::env::var_os(venv::VAULT_RUN).is_some() && !a.allow_nested {
        return Err(CliError::new(
            code::REFUSED,
            "already inside `vault run` (VAULT_RUN is set); nested runs are refused: pass --allow-nested if you mean it",
        ));
    }
    let ttl = match &a.ttl {
        Some(t) => Some(
            super::parse_duration(t)
                .ok_or_else(|| CliError::usage(format!("bad --ttl {t:?}: use 30s, 15m, 8h, 2d")))?,
        ),
        None => None,
    };
    let mut cmdline = a.command.clone();
    let v = ctx.open()?;
    let bot = choose_bot(&v, a.bot.as_deref())?;
    if let Some(why) = policy::run_refusal(bot) {
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
    let delivery = plan(bot, names, a.deliver)?;
    let mask = !a.no_mask;
    let masker_secrets: Vec<SecretValue> = if mask {
        bot.secret_values()
            .into_iter()
            .map(|(_, s)| s.clone())
            .collect()
    } else {
        Vec::new()
    };
    let bot_name = bot.name.clone();
    v.log_only(
        "run",
        Some(&bot_name),
        Some(format!("profile {}", profile.as_str())),
    )?;
    if ctx.g.verbose {
        output::note(&format!(
            "running {} with {}'s credentials ({} profile)",
            cmdline[0].to_string_lossy(),
            bot_name,
            profile.as_str()
        ));
    }
    // The identity and every other bot's secrets are dropped (zeroized) here.
    drop(v);

    let memfd = match &delivery.config_json {
        Some(text) => Some(sealed_memfd(text)?),
        None => None,
    };
    drop(delivery.config_json);
    if let Some(fd) = &memfd {
        use std::os::fd::AsRawFd;
        let n = fd.as_raw_fd();
        if !cmdline.iter().any(|x| x == "-c" || x == "--config") {
            cmdline.push("-c".into());
            cmdline.push("config.json".into());
        }
        cmdline.push("-c".into());
        cmdline.push(format!("/dev/fd/{n}").into());
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
    cmd.env(venv::VAULT_BOT, &bot_name);
    cmd.env(venv::VAULT_RUN, std::process::id().to_string());
    drop(delivery.env);

    // The bot must not reach the session unlock cache: give it (and us) a fresh, empty one.
    sys::join_new_session_keyring();

    if !mask && ttl.is_none() {
        let err = cmd.exec();
        return Err(spawn_error(&cmdline[0], err));
    }
    let masker_refs: Vec<&str> = masker_secrets.iter().map(|s| s.expose()).collect();
    let status = supervise(
        cmd,
        mask.then_some((masker_refs.as_slice(), bot_name.as_str())),
        ttl,
    )?;
    drop(memfd);
    Ok(status)
}

fn spawn_error(prog: &OsStr, e: std::io::Error) -> CliError {
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

fn pump(mut from: impl Read, mut to: impl Write, mut masker: Masker) {
    let mut buf = Zeroizing::new(vec![0u8; 256 * 1024]);
    let mut out = Zeroizing::new(Vec::with_capacity(320 * 1024));
    let mut broken = false;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        out.clear();
        masker.feed(&buf[..n], &mut out);
        if !broken && to.write_all(&out).and_then(|_| to.flush()).is_err() {
            // Our reader went away: keep draining so the child is not blocked.
            broken = true;
        }
    }
    out.clear();
    masker.finish(&mut out);
    if !broken {
        let _ = to.write_all(&out).and_then(|_| to.flush());
    }
}

/// Our stdout or stderr as a plain file: one write(2) per chunk, instead of std's
/// line-buffered handle, which splits every chunk at its last newline.
fn raw_out(fd: std::os::fd::BorrowedFd<'_>) -> Box<dyn Write + Send> {
    match fd.try_clone_to_owned() {
        Ok(owned) => Box::new(std::fs::File::from(owned)),
        Err(_) => Box::new(std::io::stdout()),
    }
}

/// The terminal state to restore when the supervisor leaves raw mode.
struct RawGuard(Option<rustix::termios::Termios>);

impl Drop for RawGuard {
    fn drop(&mut self) {
        if let Some(t) = self.0.take() {
            let _ = rustix::termios::tcsetattr(
                std::io::stdin(),
                rustix::termios::OptionalActions::Now,
                &t,
            );
        }
    }
}

/// A pty pair for a child whose stdout is a terminal: (master, slave).
fn open_pty() -> CliResult<(std::fs::File, std::fs::File)> {
    use rustix::pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags};
    let err = |e: rustix::io::Errno| {
        CliError::other(format!(
            "cannot open a pseudo-terminal for masking: {e}; use --no-mask"
        ))
    };
    let master =
        openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC).map_err(err)?;
    grantpt(&master).map_err(err)?;
    unlockpt(&master).map_err(err)?;
    let name = ptsname(&master, Vec::new()).map_err(err)?;
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(i32::try_from(rustix::fs::OFlags::NOCTTY.bits()).unwrap_or(0))
        .open(std::ffi::OsStr::from_bytes(name.as_bytes()))
        .map_err(|e| CliError::other(format!("cannot open the pty slave: {e}; use --no-mask")))?;
    if let Ok(ws) = rustix::termios::tcgetwinsize(std::io::stdout()) {
        let _ = rustix::termios::tcsetwinsize(&slave, ws);
    }
    Ok((std::fs::File::from(master), slave))
}

fn supervise(mut cmd: Command, mask: Option<(&[&str], &str)>, ttl: Option<u64>) -> CliResult<i32> {
    let mut sigs = signal_hook::iterator::Signals::new(FORWARDED.iter().copied().chain([SIGCHLD]))
        .map_err(|e| CliError::other(format!("cannot install signal handlers: {e}")))?;
    let stdin = std::io::stdin();
    let stdin_tty = stdin.is_terminal();
    // A terminal reaches the child as a terminal: with masking, through a pty of our own.
    let pty = if mask.is_some() && std::io::stdout().is_terminal() {
        Some(open_pty()?)
    } else {
        None
    };
    let mut raw = RawGuard(None);
    let mut master_reader = None;
    if let Some((master, slave)) = &pty {
        let clone = |f: &std::fs::File| {
            f.try_clone()
                .map_err(|e| CliError::other(format!("pty: {e}")))
        };
        cmd.stdout(clone(slave)?);
        cmd.stderr(if std::io::stderr().is_terminal() {
            Stdio::from(clone(slave)?)
        } else {
            Stdio::piped()
        });
        if stdin_tty {
            cmd.stdin(clone(slave)?);
            // Keystrokes, Ctrl-C included, go to the pty as bytes; its line discipline signals
            // the child once. Our terminal is restored when the guard drops.
            if let Ok(t) = rustix::termios::tcgetattr(&stdin) {
                let mut r = t.clone();
                r.make_raw();
                if rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, &r)
                    .is_ok()
                {
                    raw.0 = Some(t);
                }
            }
        }
        if raw.0.is_none() {
            // Our terminal stays cooked and turns "\n" into "\r\n" itself: the pty must not too.
            if let Ok(mut t) = rustix::termios::tcgetattr(slave) {
                t.output_modes.remove(rustix::termios::OutputModes::OPOST);
                let _ =
                    rustix::termios::tcsetattr(slave, rustix::termios::OptionalActions::Now, &t);
            }
        }
        sys::controlling_tty_on_exec(&mut cmd);
        master_reader = Some(clone(master)?);
    } else {
        cmd.process_group(0);
        if mask.is_some() {
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        }
    }
    // Our process group, read without rustix's getpgrp (which asserts a non-zero id: as PID 1
    // of a new PID namespace our group lies outside it and reads as 0).
    let own_pgrp = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            s.rsplit_once(')').and_then(|(_, rest)| {
                rest.split_whitespace()
                    .nth(2)
                    .and_then(|p| p.parse::<i32>().ok())
            })
        })
        .and_then(rustix::process::Pid::from_raw);
    let child = cmd.spawn().map_err(|e| spawn_error(cmd.get_program(), e))?;
    drop(cmd); // our copies of the pty slave go with it, so the master sees EOF when the child ends
    let pid = rustix::process::Pid::from_raw(i32::try_from(child.id()).unwrap_or(0))
        .ok_or_else(|| CliError::other("the child has no pid"))?;
    // Hand the terminal to the child only if we are its foreground group (not in `cmd &`).
    let fg_handoff = stdin_tty
        && pty.is_none()
        && own_pgrp.is_some()
        && rustix::termios::tcgetpgrp(&stdin).ok() == own_pgrp;
    if fg_handoff {
        // The child's group owns the terminal: Ctrl-C reaches it (once) from the terminal.
        sys::set_foreground(stdin.as_fd(), pid);
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::CONT);
    }
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let mut child = child;
    let mut pumps = 0;
    if let Some((secrets, bot)) = mask {
        // One masker, built once; each stream gets its own copy (its own held tail).
        let masker = Masker::new(secrets, bot);
        let mut start_pump = |from: Box<dyn Read + Send>, to: Box<dyn Write + Send>| {
            let (m, tx) = (masker.clone(), done_tx.clone());
            std::thread::spawn(move || {
                pump(from, to, m);
                let _ = tx.send(());
            });
            pumps += 1;
        };
        if let Some(master) = master_reader.take() {
            start_pump(Box::new(master), raw_out(std::io::stdout().as_fd()));
            if stdin_tty {
                if let Some((master, _)) = &pty {
                    let mut to_child = master
                        .try_clone()
                        .map_err(|e| CliError::other(format!("pty: {e}")))?;
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut std::io::stdin(), &mut to_child);
                    });
                }
            }
        }
        // Bigger pipe buffers: fewer context switches between the bot and us.
        if let Some(out) = child.stdout.take() {
            let _ = rustix::pipe::fcntl_setpipe_size(&out, 1 << 20);
            start_pump(Box::new(out), raw_out(std::io::stdout().as_fd()));
        }
        if let Some(err) = child.stderr.take() {
            let _ = rustix::pipe::fcntl_setpipe_size(&err, 1 << 20);
            start_pump(Box::new(err), raw_out(std::io::stderr().as_fd()));
        }
    }
    drop(done_tx);
    let expired = Arc::new(AtomicBool::new(false));
    if let Some(secs) = ttl {
        let expired = expired.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(secs));
            expired.store(true, Ordering::SeqCst);
            output::warn("--ttl reached: sending SIGTERM to the command (SIGKILL in 10 s)");
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
            std::thread::sleep(Duration::from_secs(10));
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
        });
    }
    let mut status: Option<i32> = None;
    let reap = |status: &mut Option<i32>| {
        // Reap every child (orphans too, when we are PID 1); remember ours.
        while let Ok(Some((p, st))) = rustix::process::wait(rustix::process::WaitOptions::NOHANG) {
            if p == pid {
                *status = Some(match (st.exit_status(), st.terminating_signal()) {
                    (Some(c), _) => c,
                    (None, Some(s)) => 128 + s,
                    _ => 1,
                });
            }
        }
    };
    reap(&mut status);
    while status.is_none() {
        for sig in sigs.wait() {
            if sig == SIGCHLD {
                reap(&mut status);
            } else if sig == SIGWINCH && pty.is_some() {
                // Resizing the pty makes the kernel send SIGWINCH to the child: once.
                if let (Ok(ws), Some((master, _))) =
                    (rustix::termios::tcgetwinsize(std::io::stdout()), &pty)
                {
                    let _ = rustix::termios::tcsetwinsize(master, ws);
                }
            } else if let Some(s) = rustix::process::Signal::from_named_raw(sig) {
                let _ = rustix::process::kill_process(pid, s);
            }
        }
        reap(&mut status);
    }
    if let (true, Some(pg)) = (fg_handoff, own_pgrp) {
        sys::set_foreground(stdin.as_fd(), pg);
    }
    // Let the pumps flush; a grandchild holding the pipes open does not keep us waiting long.
    for _ in 0..pumps {
        if done_rx.recv_timeout(Duration::from_secs(2)).is_err() {
            break;
        }
    }
    drop(raw);
    let _ = std::io::stdout().flush();
    if expired.load(Ordering::SeqCst) {
        return Ok(code::TTL);
    }
    Ok(status.unwrap_or(1))
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
