//! Starting and supervising the child on Windows.
//!
//! Windows has no exec: this process always stays as the parent and waits, then exits with
//! the child's code. A console Ctrl-C reaches every process on the console, the child
//! included, so nothing is forwarded; the supervisor only survives it (to flush the masked
//! output). There is no pty here: with masking, the child's stdout and stderr are pipes, so a
//! program that colours only a console prints plain text. `--ttl` ends the child with
//! TerminateProcess (Windows has no SIGTERM for console programs) and exits 124.

use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use vault_core::mask::Masker;

use super::{pump, spawn_error, Masking, Watched};
use crate::error::{code, CliError, CliResult};
use crate::{output, sys};

/// No exec on Windows: start the child without masking and wait for it.
/// `--user` has no Windows form here.
pub struct Account;

/// `--user` is refused on Windows.
pub fn account(name: &str) -> CliResult<Account> {
    Err(CliError::other(format!(
        "--user {name} is for Unix (a systemd unit as root); on Windows run the service as the bot's own account"
    )))
}

/// Never reached: [`account`] refuses.
pub fn run_as(_cmd: &mut Command, _acct: &Account) {}

pub fn exec(cmd: Command) -> CliResult<i32> {
    supervise(cmd, None, None)
}

/// Output sent to `NUL` is not recognised here: every stream is masked.
pub fn watched() -> Watched {
    Watched {
        stdout: true,
        stderr: true,
    }
}

/// Windows has no sealed memfd: nothing to carry the config in.
pub type ConfigFd = std::convert::Infallible;

/// Never called: no `ConfigFd` can exist here.
pub fn config_path(fd: &ConfigFd) -> String {
    match *fd {}
}

/// `--deliver freqtrade-config` needs a sealed memfd, which only Linux has.
pub fn config_fd(_text: &str) -> CliResult<ConfigFd> {
    Err(CliError::usage(
        "--deliver freqtrade-config needs a sealed memfd, which only Linux has; deliver through the environment (the default) here",
    ))
}

/// Starts the child, masks its output, waits (ending it at the TTL), returns its exit code.
pub fn supervise(mut cmd: Command, mask: Option<Masking<'_>>, ttl: Option<u64>) -> CliResult<i32> {
    sys::survive_console_ctrl();
    if let Some((_, _, watched)) = mask {
        if watched.stdout {
            cmd.stdout(Stdio::piped());
        }
        if watched.stderr {
            cmd.stderr(Stdio::piped());
        }
    }
    let mut child = cmd.spawn().map_err(|e| spawn_error(cmd.get_program(), e))?;
    drop(cmd);
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let mut pumps = 0;
    if let Some((secrets, bot, _)) = mask {
        let masker = Masker::new(secrets, bot);
        if let Some(out) = child.stdout.take() {
            let (m, tx) = (masker.clone(), done_tx.clone());
            std::thread::spawn(move || {
                pump(out, std::io::stdout(), m);
                let _ = tx.send(());
            });
            pumps += 1;
        }
        if let Some(err) = child.stderr.take() {
            let (m, tx) = (masker, done_tx.clone());
            std::thread::spawn(move || {
                pump(err, std::io::stderr(), m);
                let _ = tx.send(());
            });
            pumps += 1;
        }
    }
    drop(done_tx);
    let wait_err = |e: std::io::Error| CliError::other(format!("cannot wait for the command: {e}"));
    let mut expired = false;
    let status = match ttl {
        None => child.wait().map_err(wait_err)?,
        Some(secs) => {
            let deadline = Instant::now() + Duration::from_secs(secs);
            loop {
                if let Some(st) = child.try_wait().map_err(wait_err)? {
                    break st;
                }
                if !expired && Instant::now() >= deadline {
                    expired = true;
                    output::warn("--ttl reached: ending the command");
                    let _ = child.kill();
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    };
    // Let the pumps flush; a grandchild holding the pipes open does not keep us waiting long.
    for _ in 0..pumps {
        if done_rx.recv_timeout(Duration::from_secs(2)).is_err() {
            break;
        }
    }
    if expired {
        return Ok(code::TTL);
    }
    Ok(status.code().unwrap_or(1))
}
