//! The few OS calls the CLI needs that Rust's std does not offer safely. Every `unsafe`
//! block of the workspace lives here, each with its reason.
#![allow(unsafe_code)]

/// Turns off core dumps and ptrace/`/proc/PID/mem` access by other processes of the same
/// user (PR_SET_DUMPABLE 0, RLIMIT_CORE 0). Called before any secret is read.
pub fn harden_process() {
    let _ = rustix::process::setrlimit(
        rustix::process::Resource::Core,
        rustix::process::Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    );
    let _ = rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable);
}

/// Is this process non-dumpable? (For `doctor` and tests.)
pub fn is_dumpable() -> bool {
    matches!(
        rustix::process::dumpable_behavior(),
        Ok(rustix::process::DumpableBehavior::Dumpable)
    )
}

/// Joins a new anonymous session keyring, so a child started after this cannot reach the
/// session unlock cache of the login session. Returns false where keyrings are unavailable.
pub fn join_new_session_keyring() -> bool {
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
    // SAFETY: keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL) takes no pointers we own (NULL asks
    // for a new anonymous keyring) and only changes this process's keyring subscription.
    let r = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_JOIN_SESSION_KEYRING,
            std::ptr::null::<libc::c_char>(),
        )
    };
    r >= 0
}

/// Makes `pgrp` the terminal's foreground process group (or takes it back), with SIGTTOU
/// blocked meanwhile so the supervisor is not stopped for touching the terminal from what
/// becomes a background group. The child does not inherit the mask: std clears it on spawn.
pub fn set_foreground(tty: std::os::fd::BorrowedFd<'_>, pgrp: rustix::process::Pid) {
    // SAFETY: sigset_t is plain data; pthread_sigmask only reads `set` and writes `old`,
    // both valid for the call, and the old mask is restored right after.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTTOU);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
        let _ = rustix::termios::tcsetpgrp(tty, pgrp);
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
    }
}

/// Makes the child a session leader whose controlling terminal is the pty slave on its fd 1,
/// so job control and Ctrl-C work inside it.
pub fn controlling_tty_on_exec(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the forked child before exec; it only calls setsid(2) and
    // ioctl(TIOCSCTTY), both async-signal-safe, on fd 1, which std has already pointed at the
    // pty slave, and allocates nothing.
    unsafe {
        cmd.pre_exec(|| {
            rustix::process::setsid().map_err(std::io::Error::from)?;
            let fd = std::os::fd::BorrowedFd::borrow_raw(1);
            rustix::process::ioctl_tiocsctty(fd).map_err(std::io::Error::from)?;
            Ok(())
        });
    }
}
