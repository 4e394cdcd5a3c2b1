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

/// A local account that `vault run --user` starts the bot as.
#[cfg(unix)]
#[derive(Debug, Clone)]
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups, the primary one included (as initgroups(3) makes them).
    pub groups: Vec<u32>,
    pub home: std::ffi::OsString,
}

/// `--user` is Linux only (getgrouplist and setgroups differ in type elsewhere; bots run on Linux).
#[cfg(all(unix, not(target_os = "linux")))]
pub fn lookup_account(name: &str) -> Result<Account, String> {
    Err(format!("--user {name} is supported on Linux only"))
}

/// Never reached off Linux: [`lookup_account`] refuses there.
#[cfg(all(unix, not(target_os = "linux")))]
pub fn become_account_on_exec(_cmd: &mut std::process::Command, _acct: &Account) {}

/// Looks `name` up in the passwd database (NSS, as login does), with its groups.
#[cfg(target_os = "linux")]
pub fn lookup_account(name: &str) -> Result<Account, String> {
    use std::ffi::{CStr, CString, OsStr};
    use std::os::unix::ffi::OsStrExt;
    let cname = CString::new(name).map_err(|_| format!("{name:?} is not a user name"))?;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: passwd is plain data filled by getpwnam_r; every pointer it gets back points
    // into `buf`, which outlives the reads below; the buffer length passed is its real length.
    let (uid, gid, home, pw_name) = unsafe {
        let mut pw: libc::passwd = std::mem::zeroed();
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwnam_r(
            cname.as_ptr(),
            &mut pw,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        );
        if rc != 0 || result.is_null() {
            return Err(format!("no user named {name:?} on this machine; create it (`useradd --system {name}`) or give another --user"));
        }
        let home = OsStr::from_bytes(CStr::from_ptr(pw.pw_dir).to_bytes()).to_os_string();
        let pw_name = CStr::from_ptr(pw.pw_name).to_string_lossy().into_owned();
        (pw.pw_uid, pw.pw_gid, home, pw_name)
    };
    let mut groups: Vec<libc::gid_t> = vec![0; 256];
    let mut n: libc::c_int = 256;
    // SAFETY: getgrouplist writes at most `n` gids into `groups` (whose length is `n`) and
    // sets `n` to the count; on overflow it returns -1 and we retry with the size it asks.
    for _ in 0..2 {
        let rc = unsafe { libc::getgrouplist(cname.as_ptr(), gid, groups.as_mut_ptr(), &mut n) };
        if rc >= 0 {
            groups.truncate(usize::try_from(n).unwrap_or(0));
            break;
        }
        groups = vec![0; usize::try_from(n).unwrap_or(256).max(256)];
    }
    if groups.is_empty() || !groups.contains(&gid) {
        groups.push(gid);
    }
    Ok(Account {
        name: pw_name,
        uid,
        gid,
        groups,
        home,
    })
}

/// In the forked child, before exec: become `acct` (supplementary groups, primary group,
/// then user, in that order, since a non-root process can change neither groups nor gid),
/// check that root cannot be regained, and set `no_new_privs` so no setuid program in the
/// bot's reach gives it back.
#[cfg(target_os = "linux")]
pub fn become_account_on_exec(cmd: &mut std::process::Command, acct: &Account) {
    use std::os::unix::process::CommandExt;
    let groups: Vec<libc::gid_t> = acct.groups.clone();
    let (uid, gid) = (acct.uid, acct.gid);
    // SAFETY: the closure runs in the forked, single-threaded child before exec and makes
    // only async-signal-safe system calls (setgroups, setgid, setuid, prctl); the group list
    // was allocated before the fork, and nothing is allocated here.
    unsafe {
        cmd.pre_exec(move || {
            #[allow(clippy::useless_conversion)]
            let count = groups.len().try_into().unwrap_or(0);
            if libc::setgroups(count, groups.as_ptr()) != 0
                || libc::setgid(gid) != 0
                || libc::setuid(uid) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            if uid != 0 && libc::setuid(0) == 0 {
                return Err(std::io::Error::other("root could be regained after setuid"));
            }
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Sets glibc's heap up for opening big vaults. A vault of thousands of bots touches a few MiB
/// of fresh memory (the file, its plaintext, the parsed bots, the output), and on a VM each
/// first touch of a 4 KiB page is a fault of about 3 µs: for 2,000 bots, ~1,400 faults were a
/// third of `vault list`. So:
/// - every block comes from the heap (no separate mapping per large block) and the heap is not
///   trimmed: a freed buffer is reused, not unmapped and faulted in again;
/// - the heap grows 16 MiB at a time (address space; pages are backed when first touched);
/// - that heap, from its first 2 MiB boundary on, is marked for transparent huge pages (honoured
///   where THP is `always` or `madvise`, the usual default): one fault maps 2 MiB.
///
/// Only performance changes: not what memory holds, who can read it, or what is zeroized (the
/// process stays undumpable). glibc only (musl's allocator has no such knobs); elsewhere, or
/// when a step is refused, it does less or nothing.
///
/// Once per process; the CLI calls it just before reading a vault of 256 KiB or more.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn tune_heap() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(tune_heap_now);
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_heap_now() {
    const HUGE: usize = 2 << 20;
    const PAD: usize = 16 << 20;
    // SAFETY: mallopt only sets glibc's allocation parameters (documented options, valid
    // values). malloc/free are paired, except one block kept for the life of the process on
    // purpose; we never read or write either block. sbrk(0) only reads the heap's end.
    // madvise(MADV_HUGEPAGE) is a hint on whole pages inside the heap mapping (from a heap
    // block's address up to the heap's end) and changes no contents.
    unsafe {
        if libc::mallopt(libc::M_MMAP_THRESHOLD, 64 << 20) == 0
            || libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20) == 0
            || libc::mallopt(libc::M_TOP_PAD, PAD as libc::c_int) == 0
        {
            return;
        }
        // One arena: the short-lived threads of a write (and of a format-1 open) allocate from the
        // tuned heap instead of each reserving and trimming a 64 MiB arena of its own.
        libc::mallopt(libc::M_ARENA_MAX, 1);
        // A block larger than the free top of the startup heap makes the heap grow now, by the
        // pad; the block starts where the free top began.
        let probe = std::hint::black_box(libc::malloc(256 << 10));
        if probe.is_null() {
            return;
        }
        let top = probe as usize;
        libc::free(probe);
        let end = libc::sbrk(0) as usize;
        let from = (top + HUGE - 1) & !(HUGE - 1);
        if end < from + 2 * HUGE {
            return;
        }
        // Small pages up to the first 2 MiB boundary cannot be huge: one block, kept and never
        // touched (no memory backs it), fills that stretch, so what the command allocates next
        // starts on the boundary. glibc puts 16 bytes of header before a block and rounds
        // requests to 16; were that ever different, blocks would start a little off the
        // boundary, which costs a few small-page faults and nothing else.
        if from - top > 64 {
            let filler = std::hint::black_box(libc::malloc(from - top - 16));
            if filler.is_null() {
                return;
            }
        }
        libc::madvise(
            from as *mut libc::c_void,
            (end - from) & !(HUGE - 1),
            libc::MADV_HUGEPAGE,
        );
    }
}

/// See the Linux/glibc version: nothing to tune here.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn tune_heap() {}
