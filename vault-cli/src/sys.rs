//! The few OS calls the CLI needs that Rust's std does not offer safely. Every `unsafe`
//! block of the workspace lives here, each with its reason. Each call exists only on the
//! targets that have it; elsewhere the function says it did nothing.
#![allow(unsafe_code)]

/// Turns off core dumps (RLIMIT_CORE 0, every Unix) and debugger/ptrace access by other
/// processes of the same user (Linux: PR_SET_DUMPABLE 0, which also closes /proc/PID/mem;
/// macOS: PT_DENY_ATTACH). Called before any secret is read. Windows has no per-process
/// equivalent reachable here: a process of the same user can read our memory there.
pub fn harden_process() {
    #[cfg(unix)]
    let _ = rustix::process::setrlimit(
        rustix::process::Resource::Core,
        rustix::process::Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    );
    #[cfg(target_os = "linux")]
    let _ = rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable);
    #[cfg(target_os = "macos")]
    // SAFETY: ptrace(PT_DENY_ATTACH, 0, NULL, 0) passes no pointer we own; it only marks this
    // process so that later attach attempts by debuggers fail (as ssh-agent does on macOS).
    unsafe {
        libc::ptrace(libc::PT_DENY_ATTACH, 0, std::ptr::null_mut(), 0);
    }
}

/// Is this process open to core dumps and ptrace? `None` where the platform cannot tell.
pub fn is_dumpable() -> Option<bool> {
    #[cfg(target_os = "linux")]
    {
        Some(matches!(
            rustix::process::dumpable_behavior(),
            Ok(rustix::process::DumpableBehavior::Dumpable)
        ))
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// Joins a new anonymous session keyring, so a child started after this cannot reach the
/// session unlock cache of the login session. Returns false where keyrings are unavailable
/// (and on other platforms, which have no session cache to hide).
#[cfg(not(target_os = "linux"))]
pub fn join_new_session_keyring() -> bool {
    false
}

/// Joins a new anonymous session keyring, so a child started after this cannot reach the
/// session unlock cache of the login session. Returns false where keyrings are unavailable.
#[cfg(target_os = "linux")]
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
#[cfg(unix)]
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
#[cfg(unix)]
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

/// Windows: a console Ctrl-C / Ctrl-Break reaches every process attached to the console, the
/// child included. The supervisor must survive it to flush the child's masked output and
/// return its exit code, so it answers "handled" for itself. (Unlike ignoring the events with
/// `SetConsoleCtrlHandler(NULL, TRUE)`, a handler is not inherited: the child still gets them.)
#[cfg(windows)]
pub fn survive_console_ctrl() {
    use windows_sys::core::BOOL;
    use windows_sys::Win32::Foundation::TRUE;
    use windows_sys::Win32::System::Console::SetConsoleCtrlHandler;
    unsafe extern "system" fn handled(_ctrl_type: u32) -> BOOL {
        TRUE
    }
    // SAFETY: registers a handler function with the 'static lifetime of the program; it
    // touches no memory and only returns TRUE.
    unsafe {
        SetConsoleCtrlHandler(Some(handled), TRUE);
    }
}
