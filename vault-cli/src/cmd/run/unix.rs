//! Starting and supervising the child on Unix: exec, or a supervisor with its own process
//! group, signal forwarding, reaping, a pty when our output is a terminal, and the TTL.

use std::io::{IsTerminal, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use signal_hook::consts::signal::*;
use vault_core::mask::Masker;

use super::{pump, spawn_error, Masking, Watched};
use crate::error::{code, CliError, CliResult};
use crate::{output, sys};

/// Signals forwarded to the child.
const FORWARDED: [i32; 7] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH];

/// Replaces this process with the child: no parent keeps the secrets.
pub fn exec(mut cmd: Command) -> CliResult<i32> {
    let err = cmd.exec();
    Err(spawn_error(cmd.get_program(), err))
}

/// The account of `--user`.
pub type Account = sys::Account;

/// Resolves `--user USER`: only root can start a process as another user.
pub fn account(name: &str) -> CliResult<Account> {
    if rustix::process::geteuid().as_raw() != 0 {
        return Err(CliError::other(format!(
            "--user {name} needs root (vault runs as uid {}): use it in a systemd unit or under sudo, or run vault as {name} itself",
            rustix::process::geteuid().as_raw()
        )));
    }
    let acct = sys::lookup_account(name).map_err(CliError::other)?;
    if acct.uid == 0 {
        return Err(CliError::other(format!(
            "--user {name} is root: the point of --user is a bot that cannot read the vault; give the bot's own user"
        )));
    }
    Ok(acct)
}

/// The child becomes `acct`, with its passwd entry's HOME, USER and LOGNAME.
pub fn run_as(cmd: &mut Command, acct: &Account) {
    cmd.env("HOME", &acct.home)
        .env("USER", &acct.name)
        .env("LOGNAME", &acct.name);
    sys::become_account_on_exec(cmd, acct);
}

/// What carries `--deliver freqtrade-config`: a sealed memfd (Linux).
#[cfg(target_os = "linux")]
pub type ConfigFd = std::os::fd::OwnedFd;

/// The path the child opens the config at.
#[cfg(target_os = "linux")]
pub fn config_path(fd: &ConfigFd) -> String {
    use std::os::fd::AsRawFd;
    format!("/dev/fd/{}", fd.as_raw_fd())
}

/// A sealed memfd holding the config; freqtrade reads (and re-reads) it at /dev/fd/N.
#[cfg(target_os = "linux")]
pub fn config_fd(text: &str) -> CliResult<ConfigFd> {
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

/// Other Unixes have no sealed memfd: nothing to carry the config in.
#[cfg(not(target_os = "linux"))]
pub type ConfigFd = std::convert::Infallible;

/// Never called: no `ConfigFd` can exist here.
#[cfg(not(target_os = "linux"))]
pub fn config_path(fd: &ConfigFd) -> String {
    match *fd {}
}

/// `--deliver freqtrade-config` needs a sealed memfd, which only Linux has.
#[cfg(not(target_os = "linux"))]
pub fn config_fd(_text: &str) -> CliResult<ConfigFd> {
    Err(CliError::usage(
        "--deliver freqtrade-config needs a sealed memfd, which only Linux has; deliver through the environment (the default) here",
    ))
}

/// Which of our stdout and stderr go somewhere other than `/dev/null`.
pub fn watched() -> Watched {
    use rustix::fs::{fstat, stat, FileType};
    let is_char =
        |st: &rustix::fs::Stat| FileType::from_raw_mode(st.st_mode) == FileType::CharacterDevice;
    let null = stat("/dev/null").ok().filter(is_char);
    let goes_somewhere = |fd: std::os::fd::BorrowedFd<'_>| match (&null, fstat(fd)) {
        (Some(null), Ok(st)) => !(is_char(&st) && st.st_rdev == null.st_rdev),
        _ => true,
    };
    Watched {
        stdout: goes_somewhere(std::io::stdout().as_fd()),
        stderr: goes_somewhere(std::io::stderr().as_fd()),
    }
}

/// A pipe buffer of one read's size (Linux): fewer context switches between the bot and us.
fn bigger_pipe(_fd: &impl AsFd) {
    #[cfg(target_os = "linux")]
    let _ = rustix::pipe::fcntl_setpipe_size(_fd, super::CHUNK);
}

/// Our process group. On Linux read from /proc rather than with rustix's getpgrp, which
/// asserts a non-zero id: as PID 1 of a new PID namespace our group lies outside it and
/// reads as 0.
fn own_process_group() -> Option<rustix::process::Pid> {
    #[cfg(target_os = "linux")]
    {
        std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|s| {
                s.rsplit_once(')').and_then(|(_, rest)| {
                    rest.split_whitespace()
                        .nth(2)
                        .and_then(|p| p.parse::<i32>().ok())
                })
            })
            .and_then(rustix::process::Pid::from_raw)
    }
    #[cfg(not(target_os = "linux"))]
    {
        Some(rustix::process::getpgrp())
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
    #[cfg(target_os = "linux")]
    let master =
        openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC).map_err(err)?;
    // posix_openpt has no O_CLOEXEC elsewhere: set it before anything can be spawned.
    #[cfg(not(target_os = "linux"))]
    let master = {
        let m = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).map_err(err)?;
        rustix::io::fcntl_setfd(&m, rustix::io::FdFlags::CLOEXEC).map_err(err)?;
        m
    };
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

pub fn supervise(mut cmd: Command, mask: Option<Masking<'_>>, ttl: Option<u64>) -> CliResult<i32> {
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
        if std::io::stderr().is_terminal() {
            cmd.stderr(clone(slave)?);
        } else if mask.is_some_and(|(_, _, w)| w.stderr) {
            cmd.stderr(Stdio::piped());
        }
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
        if let Some((_, _, watched)) = mask {
            // A stream that goes to /dev/null stays as it is (inherited): nothing to mask.
            if watched.stdout {
                cmd.stdout(Stdio::piped());
            }
            if watched.stderr {
                cmd.stderr(Stdio::piped());
            }
        }
    }
    let own_pgrp = own_process_group();
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
    if let Some((secrets, bot, _)) = mask {
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
        if let Some(out) = child.stdout.take() {
            bigger_pipe(&out);
            start_pump(Box::new(out), raw_out(std::io::stdout().as_fd()));
        }
        if let Some(err) = child.stderr.take() {
            bigger_pipe(&err);
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
