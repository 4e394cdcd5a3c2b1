//! `vault run`: credentials in the child only, masking, exit codes, signals, TTL.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use vault_tests::*;

const KEY: &str = "RUNKEY0000000000000001";
const SECRET: &str = "RUNSECRET00000000000001";

fn setup() -> Cli {
    let c = Cli::new();
    c.add("alpha", KEY, SECRET);
    c
}

/// `vault run --bot alpha ARGS`, not started yet (for tests that choose its stdio).
fn run_cmd(c: &Cli, args: &[&str]) -> std::process::Command {
    let mut cmd = c.cmd();
    cmd.args(["run", "--bot", "alpha"]).args(args);
    cmd
}

fn run(c: &Cli, args: &[&str]) -> (i32, String, String) {
    c.run_with(run_cmd(c, args), "")
}

#[test]
fn the_childs_exit_code_passes_through() {
    let c = setup();
    assert_eq!(run(&c, &["--", "sh", "-c", "exit 42"]).0, 42);
    assert_eq!(
        run(&c, &["--no-mask", "--", "sh", "-c", "exit 42"]).0,
        42,
        "exec path"
    );
}

#[test]
fn a_child_killed_by_sigkill_gives_137() {
    let c = setup();
    assert_eq!(run(&c, &["--", "sh", "-c", "kill -9 $$"]).0, 137);
}

#[test]
fn command_not_found_is_127_and_not_executable_is_126() {
    let c = setup();
    assert_eq!(run(&c, &["--", "/nonexistent/bot"]).0, 127);
    assert_eq!(run(&c, &["--no-mask", "--", "/nonexistent/bot"]).0, 127);
    let f = c.sb.path().join("noexec.sh");
    std::fs::write(&f, "#!/bin/sh\necho hi\n").expect("write");
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    assert_eq!(run(&c, &["--", f.to_str().expect("utf8")]).0, 126);
}

#[test]
fn secrets_reach_the_child_under_the_generic_names_and_are_masked() {
    let c = setup();
    let (code, out, err) = run(
        &c,
        &[
            "--",
            "sh",
            "-c",
            "echo K=$EXCHANGE_KEY S=$EXCHANGE_SECRET B=$VAULT_BOT R=${VAULT_RUN:+set}",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        "K=<redacted:alpha> S=<redacted:alpha> B=alpha R=set"
    );
    let (_, out, _) = run(
        &c,
        &["--no-mask", "--", "sh", "-c", "echo $EXCHANGE_SECRET"],
    );
    assert_eq!(
        out.trim(),
        SECRET,
        "with --no-mask the real value reaches the child"
    );
}

#[test]
fn a_secret_on_stderr_is_masked() {
    let c = setup();
    let (_, out, err) = run(&c, &["--", "sh", "-c", "echo $EXCHANGE_SECRET >&2"]);
    assert!(out.is_empty());
    assert!(
        err.contains("<redacted:alpha>") && !err.contains(SECRET),
        "{err}"
    );
}

#[test]
fn a_secret_split_across_two_writes_with_a_pause_is_masked() {
    let c = setup();
    let (_, out, _) = run(
        &c,
        &[
            "--",
            "sh",
            "-c",
            "printf 'x RUNSECRET0000'; sleep 0.3; printf '0000000001 y\\n'",
        ],
    );
    assert_eq!(out, "x <redacted:alpha> y\n");
}

#[test]
fn a_stream_that_goes_to_dev_null_is_handed_on_and_the_other_is_still_masked() {
    let c = setup();
    let out = run_cmd(
        &c,
        &[
            "--",
            "sh",
            "-c",
            "p=$(readlink /proc/$$/fd/1); echo $p >&2; echo $EXCHANGE_SECRET >&2; echo $EXCHANGE_SECRET",
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .output()
    .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.starts_with("/dev/null\n"),
        "stdout goes straight to /dev/null: {err}"
    );
    assert!(
        err.contains("<redacted:alpha>") && !err.contains(SECRET),
        "stderr is still masked: {err}"
    );
}

#[test]
fn when_all_output_goes_to_dev_null_vault_execs_and_holds_no_secret() {
    let c = setup();
    let mark = c.sb.path().join("pid.txt");
    // (vault's pid as the child sees it in VAULT_RUN, the child's own pid)
    let pids = |extra: &[&str]| {
        let script = format!("echo \"$VAULT_RUN $$\" > {}", mark.display());
        let mut args = extra.to_vec();
        args.extend(["--", "sh", "-c", &script]);
        let status = run_cmd(&c, &args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        assert!(status.expect("run").success());
        let text = std::fs::read_to_string(&mark).expect("mark");
        let (v, c) = text.trim().split_once(' ').expect("two pids");
        (v.to_string(), c.to_string())
    };
    let (vault_pid, child_pid) = pids(&[]);
    assert_eq!(
        vault_pid, child_pid,
        "the child replaced vault (exec): no supervisor holds the secrets"
    );
    let (vault_pid, child_pid) = pids(&["--ttl", "1m"]);
    assert_ne!(
        vault_pid, child_pid,
        "with --ttl vault stays and supervises"
    );
}

#[test]
fn sd_notify_reaches_the_notify_socket_through_the_supervisor() {
    // systemd's Type=notify with NotifyAccess=all: the bot (our child) sends READY=1 to
    // $NOTIFY_SOCKET, which `vault run` leaves in its environment.
    let Some(py) = require_program("python3", "sd_notify") else {
        return;
    };
    let c = setup();
    let sock_path = c.sb.path().join("notify.sock");
    let sock = std::os::unix::net::UnixDatagram::bind(&sock_path).expect("bind");
    sock.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut cmd = run_cmd(
        &c,
        &[
            "--",
            py.to_str().expect("utf8"),
            "-c",
            "import os, socket; s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.sendto(b'READY=1', os.environ['NOTIFY_SOCKET']); print(os.environ['EXCHANGE_SECRET'])",
        ],
    );
    cmd.env("NOTIFY_SOCKET", &sock_path);
    let (code, out, err) = c.run_with(cmd, "");
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "<redacted:alpha>", "supervised (masking on)");
    let mut buf = [0u8; 64];
    let n = sock.recv(&mut buf).expect("READY=1 from the bot");
    assert_eq!(&buf[..n], b"READY=1");
}

#[test]
fn overlapping_secrets_are_masked_leftmost_longest() {
    let c = Cli::new();
    c.add("alpha", "OVERLAPKEY00000001", "OVERLAPKEY00000001EXTENDED");
    let (_, out, _) = run(
        &c,
        &[
            "--",
            "sh",
            "-c",
            "echo $EXCHANGE_SECRET; echo $EXCHANGE_KEY",
        ],
    );
    assert_eq!(out, "<redacted:alpha>\n<redacted:alpha>\n");
}

#[test]
fn inherited_credentials_and_unlock_variables_do_not_reach_the_child() {
    let c = setup();
    let id = c.sb.path().join("id.txt");
    assert_eq!(
        c.run(
            &["identity", "export", "--to", id.to_str().expect("utf8")],
            ""
        )
        .0,
        0
    );
    let mut cmd = c.bare();
    cmd.env("VAULT_IDENTITY_FILE", &id)
        .env("EXCHANGE_SECRET", "inherited-secret")
        .env("EXCHANGE_PASSPHRASE", "inherited-pass")
        .env("FREQTRADE__EXCHANGE__KEY", "inherited-ft-key")
        .args(["run", "--bot", "alpha", "--no-mask", "--", "env"]);
    let (code, out, err) = c.run_with(cmd, "");
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("VAULT_IDENTITY_FILE"), "{out}");
    assert!(!out.contains("inherited"), "{out}");
    assert!(out.contains(&format!("EXCHANGE_SECRET={SECRET}")));
    let mut cmd = c.cmd();
    cmd.args(["run", "--bot", "alpha", "--no-mask", "--", "env"]);
    let (_, out, _) = c.run_with(cmd, "");
    assert!(!out.contains("VAULT_PASSPHRASE_FILE"), "{out}");
}

#[test]
fn the_freqtrade_profile_is_chosen_by_program_name_and_by_the_stored_profile() {
    let c = setup();
    let dir = c.sb.path().join("bin");
    std::fs::create_dir(&dir).expect("mkdir");
    let ft = dir.join("freqtrade");
    std::fs::write(&ft, "#!/bin/sh\nenv\n").expect("write");
    std::fs::set_permissions(&ft, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let (_, out, _) = run(&c, &["--no-mask", "--", ft.to_str().expect("utf8")]);
    assert!(
        out.contains(&format!("FREQTRADE__EXCHANGE__KEY={KEY}")),
        "{out}"
    );
    assert!(!out.contains("EXCHANGE_KEY=RUN") || out.contains("FREQTRADE__EXCHANGE__KEY=RUN"));
    assert!(
        !out.lines().any(|l| l.starts_with("EXCHANGE_KEY=")),
        "{out}"
    );
    assert_eq!(
        c.run(&["set", "alpha", "--env-profile", "freqtrade"], "").0,
        0
    );
    let (_, out, _) = run(&c, &["--no-mask", "--", "env"]);
    assert!(
        out.contains(&format!("FREQTRADE__EXCHANGE__SECRET={SECRET}")),
        "{out}"
    );
    let (_, out, _) = run(&c, &["--no-mask", "--env-profile", "generic", "--", "env"]);
    assert!(out.contains(&format!("EXCHANGE_SECRET={SECRET}")), "{out}");
}

#[test]
fn extra_secrets_are_injected_under_their_own_names() {
    let c = setup();
    c.set_secret("alpha", "FREQTRADE__TELEGRAM__TOKEN", "TGTOKEN-0000000001");
    let (_, out, _) = run(
        &c,
        &["--", "sh", "-c", "echo T=$FREQTRADE__TELEGRAM__TOKEN"],
    );
    assert_eq!(out.trim(), "T=<redacted:alpha>");
}

#[test]
fn the_bot_is_chosen_by_flag_env_or_being_the_only_one() {
    let c = setup();
    let (code, out, _) = c.run(&["run", "--", "sh", "-c", "echo $VAULT_BOT"], "");
    assert_eq!(code, 0);
    assert_eq!(out.trim(), "alpha");
    c.add("beta", "RUNKEY0000000000000002", "RUNSECRET00000000000002");
    let (code, _, err) = c.run(&["run", "--", "true"], "");
    assert_eq!(code, 2);
    assert!(err.contains("alpha") && err.contains("beta"), "{err}");
    let mut cmd = c.cmd();
    cmd.env("VAULT_BOT", "beta")
        .args(["run", "--", "sh", "-c", "echo $VAULT_BOT"]);
    let (code, out, _) = c.run_with(cmd, "");
    assert_eq!(code, 0);
    assert_eq!(out.trim(), "beta");
}

#[test]
fn nesting_is_refused_unless_allowed() {
    let c = setup();
    let mut cmd = c.cmd();
    cmd.env("VAULT_RUN", "1")
        .args(["run", "--bot", "alpha", "--", "true"]);
    assert_eq!(c.run_with(cmd, "").0, 5);
    let mut cmd = c.cmd();
    cmd.env("VAULT_RUN", "1")
        .args(["run", "--allow-nested", "--bot", "alpha", "--", "true"]);
    assert_eq!(c.run_with(cmd, "").0, 0);
}

#[test]
fn a_key_known_to_allow_withdrawals_is_refused() {
    let c = setup();
    assert_eq!(
        c.run(&["set", "alpha", "--withdrawals", "enabled"], "").0,
        0
    );
    let marker = c.sb.path().join("started");
    let (code, _, err) = run(&c, &["--", "touch", marker.to_str().expect("utf8")]);
    assert_eq!(code, 5, "{err}");
    assert!(!marker.exists(), "nothing may be spawned");
}

#[test]
fn ttl_stops_the_child_and_exits_124() {
    let c = setup();
    let start = Instant::now();
    let (code, _, err) = run(&c, &["--ttl", "1s", "--", "sleep", "30"]);
    assert_eq!(code, 124, "{err}");
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn the_child_has_core_dumps_disabled() {
    let c = setup();
    let (_, out, _) = run(&c, &["--no-mask", "--", "sh", "-c", "ulimit -c"]);
    assert_eq!(out.trim(), "0");
}

#[test]
fn sigterm_sent_to_vault_reaches_the_childs_handler_once() {
    let c = setup();
    let log = c.sb.path().join("signals.log");
    let ready = c.sb.path().join("ready");
    let script = format!(
        "trap 'echo TERM >> {log}; exit 0' TERM; trap 'echo HUP >> {log}' HUP; touch {ready}; while :; do sleep 0.05; done",
        log = log.display(),
        ready = ready.display()
    );
    let mut cmd = c.cmd();
    cmd.args(["run", "--bot", "alpha", "--", "sh", "-c", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let start = Instant::now();
    while !ready.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "child never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = child.id() as i32;
    // SAFETY: kill(2) on our own child's pid.
    unsafe {
        libc::kill(pid, libc::SIGHUP);
    }
    std::thread::sleep(Duration::from_millis(300));
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    let status = child.wait().expect("wait");
    let mut err = String::new();
    child.stderr.take().map(|mut e| e.read_to_string(&mut err));
    assert_eq!(status.code(), Some(0), "{err}");
    let text = std::fs::read_to_string(&log).expect("log");
    assert_eq!(text, "HUP\nTERM\n", "each signal exactly once");
}

#[test]
fn run_appends_to_the_log_while_another_process_holds_the_write_lock() {
    let c = setup();
    let _held = vault_core::store::lock(&c.vault(), Duration::from_secs(1)).expect("lock");
    let (code, _, err) = run(&c, &["--", "true"]);
    assert_eq!(code, 0, "{err}");
    drop(_held);
    let (_, out, _) = c.run(&["log", "--json"], "");
    let j: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert!(j["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .any(|e| e["op"] == "run"));
    assert_eq!(j["intact"], true);
}

#[test]
fn the_child_cannot_read_the_session_cache() {
    let Some(keyctl) = require_program("keyctl", "the_child_cannot_read_the_session_cache") else {
        return;
    };
    let c = setup();
    let bin = vault_bin();
    // Inside a fresh session keyring: unlock, prove the cache works, then prove the child
    // of `vault run` cannot use it.
    let script = format!(
        "set -e; '{bin}' unlock --for 5m; \
         env -u VAULT_PASSPHRASE_FILE '{bin}' --unlock session list >/dev/null; echo PARENT-OK; \
         if '{bin}' run --bot alpha -- env -u VAULT_RUN '{bin}' --unlock session list; then echo CHILD-OPENED; else echo CHILD-REFUSED; fi",
        bin = bin.display()
    );
    let mut cmd = std::process::Command::new(keyctl);
    cmd.args(["session", "-", "sh", "-c", &script])
        .env("VAULT_PATH", c.vault())
        .env("XDG_STATE_HOME", c.sb.path().join("state"))
        .env("VAULT_PASSPHRASE_FILE", c.pass_file());
    let (code, out, err) = c.run_with(cmd, "");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("PARENT-OK"), "{out}{err}");
    assert!(out.contains("CHILD-REFUSED"), "{out}{err}");
}

#[test]
fn as_pid_1_in_a_container_vault_reaps_orphans_and_forwards_signals() {
    if vault_core::store::euid() != 0 {
        vault_tests::skipped(
            "as_pid_1_in_a_container_vault_reaps_orphans_and_forwards_signals",
            "needs root for unshare",
        );
        return;
    }
    let Some(unshare) = require_program(
        "unshare",
        "as_pid_1_in_a_container_vault_reaps_orphans_and_forwards_signals",
    ) else {
        return;
    };
    let c = setup();
    // An orphan (the backgrounded sleep) is re-parented to PID 1, which is vault: it must be
    // reaped. Then TERM sent to PID 1 must reach the bot.
    let script = "(sleep 0.1 &); sleep 1; z=$(grep -l '^State:.*Z' /proc/[0-9]*/status 2>/dev/null | wc -l); echo ZOMBIES=$z; \
                  trap 'echo TERM-OK; exit 0' TERM; kill -TERM 1; sleep 5 & wait";
    let mut cmd = std::process::Command::new(unshare);
    cmd.args(["--pid", "--fork", "--mount-proc"])
        .arg(vault_bin())
        .args(["run", "--bot", "alpha", "--", "sh", "-c", script])
        .env("VAULT_PATH", c.vault())
        .env("XDG_STATE_HOME", c.sb.path().join("state"))
        .env("VAULT_PASSPHRASE_FILE", c.pass_file());
    let (code, out, err) = c.run_with(cmd, "");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("ZOMBIES=0"), "{out}{err}");
    assert!(out.contains("TERM-OK"), "{out}{err}");
}

/// Threat 11, kept as an asserted limitation: another process of the same user cannot read
/// the vault process's environment (it is non-dumpable), but it can read the bot's.
#[test]
fn same_user_processes_can_read_the_bots_environ_but_not_vaults() {
    if vault_core::store::euid() != 0 {
        vault_tests::skipped(
            "same_user_processes_can_read_the_bots_environ_but_not_vaults",
            "needs root to switch users",
        );
        return;
    }
    let Some(setpriv) = require_program(
        "setpriv",
        "same_user_processes_can_read_the_bots_environ_but_not_vaults",
    ) else {
        return;
    };
    let base = tempfile::Builder::new()
        .prefix("vault-environ")
        .tempdir_in("/tmp")
        .expect("tmp");
    std::fs::set_permissions(base.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let home = base.path().join("home");
    std::fs::create_dir(&home).expect("mkdir");
    let pass = home.join("pass.txt");
    std::fs::write(&pass, format!("{PASSPHRASE}\n")).expect("write");
    std::fs::set_permissions(&pass, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    for p in [&home, &pass] {
        std::os::unix::fs::chown(p, Some(65534), Some(65534)).expect("chown");
    }
    let as_nobody = |args: &[&str], stdin: &str| -> std::process::Child {
        use std::io::Write;
        let mut cmd = std::process::Command::new(&setpriv);
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .args(args);
        cmd.env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", &home)
            .env("VAULT_PATH", home.join("v").join("vault.age"))
            .env("XDG_STATE_HOME", home.join("state"))
            .env("VAULT_PASSPHRASE_FILE", &pass)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut ch = cmd.spawn().expect("spawn");
        let _ = ch.stdin.take().expect("stdin").write_all(stdin.as_bytes());
        ch
    };
    let bin = vault_bin().display().to_string();
    assert!(as_nobody(
        &[&bin, "init", "--kdf-memory", "64", "--kdf-parallelism", "1"],
        ""
    )
    .wait()
    .expect("init")
    .success());
    assert!(as_nobody(
        &[&bin, "add", "b", "--exchange", "binance", "--from-stdin"],
        &format!("{KEY}\n{SECRET}\n")
    )
    .wait()
    .expect("add")
    .success());
    let mut run = as_nobody(&[&bin, "run", "--bot", "b", "--", "sleep", "3"], "");
    let vault_pid = run.id();
    let start = Instant::now();
    let child_pid = loop {
        let children =
            std::fs::read_to_string(format!("/proc/{vault_pid}/task/{vault_pid}/children"))
                .unwrap_or_default();
        if let Some(p) = children.split_whitespace().next() {
            break p.to_string();
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the bot never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let read = |pid: &str| {
        let out = as_nobody(&["cat", &format!("/proc/{pid}/environ")], "")
            .wait_with_output()
            .expect("cat");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, _, err) = read(&vault_pid.to_string());
    assert!(
        !ok && err.contains("Permission denied"),
        "the non-dumpable vault process must be unreadable: {err}"
    );
    let (ok, env, _) = read(&child_pid);
    assert!(
        ok && env.contains(&format!("EXCHANGE_SECRET={SECRET}")),
        "documented limitation: the bot's environ is readable by its own user"
    );
    let _ = run.wait();
}

/// The example Rust bot reads its key from `vault run` and signs with it.
#[test]
fn the_example_rust_bot_signs_with_the_key_vault_run_gives_it() {
    use hmac::Mac;
    let exe = std::env::current_exe().expect("exe");
    let bot = exe
        .parent()
        .and_then(|p| p.parent())
        .expect("target")
        .join("examples")
        .join("binance_bot");
    if !bot.exists() {
        let st = std::process::Command::new(env!("CARGO"))
            .args([
                "build",
                "-q",
                "-p",
                "vault-core",
                "--example",
                "binance_bot",
                "--target-dir",
            ])
            .arg(
                exe.parent()
                    .and_then(|p| p.parent())
                    .and_then(|p| p.parent())
                    .expect("target root"),
            )
            .status()
            .expect("cargo");
        assert!(st.success());
    }
    let c = setup();
    let mut cmd = c.cmd();
    cmd.env("BINANCE_BOT_TIMESTAMP", "1499827319559")
        .args(["run", "--bot", "alpha", "--"])
        .arg(&bot);
    let (code, out, err) = c.run_with(cmd, "");
    assert_eq!(code, 0, "{err}");
    let mut mac =
        <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(SECRET.as_bytes()).expect("hmac");
    mac.update(b"timestamp=1499827319559&recvWindow=5000");
    let want: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(out.contains(&format!("&signature={want}")), "{out}");
    assert!(
        out.contains("bot: alpha") && out.contains("X-MBX-APIKEY: RUNK…0001"),
        "{out}"
    );
}
