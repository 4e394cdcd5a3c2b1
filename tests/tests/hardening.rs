//! Issue #11: each finding of the adversarial review, as the promise it broke. Every test
//! drives the real `vault` binary.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use vault_tests::*;

const KEY: &str = "HARDKEY0123456789abcdefgh";
const SECRET: &str = "HARDSECRET9876543210zyxwvu";

fn is_root() -> bool {
    // SAFETY-free: /proc/self/status says the effective uid.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

fn skip(test: &str, why: &str) {
    vault_tests::skipped(test, why);
}

/// Runs `c` and fails the test if it has not finished within `limit` (a blocked open).
fn run_bounded(mut c: Command, limit: Duration) -> (i32, String) {
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    let start = Instant::now();
    loop {
        if let Some(_st) = child.try_wait().expect("wait") {
            let out = child.wait_with_output().expect("output");
            return (
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            );
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("vault did not finish within {limit:?}: it blocked");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn mkfifo(path: &std::path::Path) {
    let st = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(st.success());
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

// 1. The session cache.

#[test]
fn session_cache_is_refused_in_the_users_default_keyring() {
    let test = "session_cache_is_refused_in_the_users_default_keyring";
    let Some(keyctl) = require_program("keyctl", test) else {
        return;
    };
    let desc = Command::new(&keyctl)
        .args(["rdescribe", "@s"])
        .output()
        .expect("keyctl");
    let desc = String::from_utf8_lossy(&desc.stdout).to_string();
    if !desc.contains("_uid_ses.") {
        // Depends on how this process was started (a PAM login gives a real session).
        skip(
            test,
            "this process is in a real session keyring, not the per-user default",
        );
        return;
    }
    let c = Cli::new();
    c.add("b1", KEY, SECRET);
    let (code, _, err) = c.run(&["unlock", "--for", "5m"], "");
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("keyctl session"), "{err}");
    // Nothing went into any keyring the bot could reach.
    let (code, out, err) = c.run(
        &[
            "run",
            "--no-mask",
            "--",
            "sh",
            "-c",
            "grep -c 'vault:' /proc/keys || true",
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "0", "a vault key is visible: {out}");
}

#[test]
fn a_bot_cannot_read_or_rejoin_the_session_cache() {
    let test = "a_bot_cannot_read_or_rejoin_the_session_cache";
    let Some(keyctl) = require_program("keyctl", test) else {
        return;
    };
    let c = Cli::new();
    c.add("b1", KEY, SECRET);
    // Inside a real session: unlock, then a bot that hunts for the cached identity by every
    // route the review found: /proc/keys, @us, re-joining the session by name.
    let attack = r#"
for id in $(awk '/vault:/ {print $1}' /proc/keys); do
  keyctl print "0x$id" 2>/dev/null && echo STOLE-PROC
done
keyctl search @us user "vault:$VID:session" 2>/dev/null && echo STOLE-US
keyctl session _ses sh -c "keyctl search @s user vault:$VID:session" 2>/dev/null && echo STOLE-REJOIN
keyctl search @s user "vault:$VID:session" 2>/dev/null && echo STOLE-S
echo DONE
"#;
    let script = format!(
        r#"set -e
VID=$("$V" doctor --json | sed -n 's/.*"vault_id": *"\([0-9a-f]*\)".*/\1/p')
"$V" unlock --for 5m >/dev/null
"$V" --unlock session list >/dev/null && echo CACHE-WORKS
env -u VAULT_PASSPHRASE_FILE VID="$VID" "$V" --unlock session run --no-mask -- sh -c '{}'
"#,
        attack.replace('\'', "'\\''")
    );
    let mut cmd = Command::new(keyctl);
    cmd.args(["session", "-", "sh", "-c", &script]);
    for (k, v) in c.cmd().get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.env("V", vault_bin());
    let out = cmd.output().expect("keyctl session");
    let so = String::from_utf8_lossy(&out.stdout);
    let se = String::from_utf8_lossy(&out.stderr);
    assert!(
        so.contains("CACHE-WORKS"),
        "the cache did not work: {so} {se}"
    );
    assert!(so.contains("DONE"), "the bot did not run: {so} {se}");
    assert!(!so.contains("STOLE"), "the bot reached the cache: {so}");
}

// 2. Rollback under concurrency.

#[test]
fn concurrent_writers_and_readers_see_no_false_rollback_and_lose_nothing() {
    let c = Cli::new();
    c.add(
        "seed",
        "SEEDKEY0123456789abcdefgh",
        "SEEDSECRET0123456789abcdef",
    );
    let id = c.sb.path().join("id.txt");
    let (code, _, err) = c.run(&["identity", "export", "--to", id.to_str().expect("p")], "");
    assert_eq!(code, 0, "{err}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let failures = std::sync::Mutex::new(Vec::<String>::new());
    let added = std::sync::Mutex::new(Vec::<String>::new());
    std::thread::scope(|s| {
        for w in 0..2 {
            let (c, failures, added, id) = (&c, &failures, &added, &id);
            s.spawn(move || {
                let mut n = 0;
                while Instant::now() < deadline {
                    let name = format!("w{w}n{n}");
                    let key = format!("K{w}x{n:04}0123456789abcdefghij");
                    let secret = format!("S{w}x{n:04}0123456789abcdefghij");
                    let mut cmd = if n % 2 == 0 { c.cmd() } else { c.bare() };
                    if n % 2 == 1 {
                        cmd.env("VAULT_IDENTITY_FILE", id);
                    }
                    cmd.env("VAULT_LOCK_TIMEOUT", "60").args([
                        "add",
                        &name,
                        "--exchange",
                        "binance",
                        "--from-stdin",
                    ]);
                    let (code, _, err) = c.run_with(cmd, &format!("{key}\n{secret}\n"));
                    if code == 0 {
                        added.lock().expect("lock").push(name);
                    } else {
                        failures
                            .lock()
                            .expect("lock")
                            .push(format!("add {code}: {err}"));
                    }
                    n += 1;
                }
            });
        }
        for r in 0..3 {
            let (c, failures) = (&c, &failures);
            let id = id.clone();
            s.spawn(move || {
                let mut n = 0;
                while Instant::now() < deadline {
                    let mut cmd = if (n + r) % 2 == 0 { c.cmd() } else { c.bare() };
                    if (n + r) % 2 == 1 {
                        cmd.env("VAULT_IDENTITY_FILE", &id);
                    }
                    if r == 0 {
                        cmd.args(["list", "--json"]);
                    } else {
                        cmd.args(["run", "--bot", "seed", "--", "true"]);
                    }
                    let (code, _, err) = c.run_with(cmd, "");
                    if code != 0 {
                        failures
                            .lock()
                            .expect("lock")
                            .push(format!("reader {code}: {err}"));
                    }
                    n += 1;
                }
            });
        }
    });
    let failures = failures.into_inner().expect("lock");
    assert!(
        failures.is_empty(),
        "{} failures, first: {:?}",
        failures.len(),
        failures.first()
    );
    let added = added.into_inner().expect("lock");
    assert!(
        added.len() >= 4,
        "too few writes to mean anything: {}",
        added.len()
    );
    let (code, out, err) = c.run(&["list", "--json"], "");
    assert_eq!(code, 0, "{err}");
    for name in &added {
        assert!(out.contains(&format!("\"{name}\"")), "{name} was lost");
    }
}

#[test]
fn after_accepting_a_rollback_and_writing_plain_commands_work_again() {
    let c = Cli::new();
    c.add(
        "b0",
        "ROLLKEY00123456789abcdefgh",
        "ROLLSECRET00123456789abcde",
    );
    let copy = c.sb.path().join("old.age");
    std::fs::copy(c.vault(), &copy).expect("copy");
    for i in 1..=3 {
        c.add(
            &format!("b{i}"),
            &format!("ROLLKEY{i}0123456789abcdefgh"),
            &format!("ROLLSECRET{i}0123456789abcde"),
        );
    }
    std::fs::copy(&copy, c.vault()).expect("restore");
    assert_eq!(c.run(&["list"], "").0, 4, "a restored copy is a rollback");
    assert_eq!(c.run(&["--accept-rollback", "list"], "").0, 0);
    let (code, _, err) = c.run(
        &["--accept-rollback", "set", "b0", "--note", "restored"],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = c.run(&["list"], "");
    assert_eq!(
        code, 0,
        "plain commands must work after the accepted write: {err}"
    );
}

// 3. Small machines.

fn with_fake_meminfo(c: &Cli, avail_kb: u64, args: &str) -> Option<(i32, String, String)> {
    if !is_root() || which("unshare").is_none() {
        return None;
    }
    let fake = c.sb.path().join("meminfo");
    std::fs::write(
        &fake,
        format!("MemTotal:        1000000 kB\nMemFree:          100000 kB\nMemAvailable:   {avail_kb} kB\n"),
    )
    .expect("write");
    let mut cmd = Command::new("unshare");
    cmd.args(["-m", "sh", "-c"]).arg(format!(
        "mount --bind '{}' /proc/meminfo && exec \"$V\" {args}",
        fake.display()
    ));
    for (k, v) in c.cmd().get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.env("V", vault_bin());
    Some(c.run_with(cmd, ""))
}

fn which(p: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(p))
            .find(|f| f.is_file())
    })
}

#[test]
fn a_vault_too_big_for_free_memory_is_exit_3_not_tampering() {
    let test = "a_vault_too_big_for_free_memory_is_exit_3_not_tampering";
    let c = Cli::empty();
    let (code, _, err) = c.run(
        &["init", "--kdf-memory", "200", "--kdf-parallelism", "1"],
        "",
    );
    assert_eq!(code, 0, "{err}");
    // 380 MB available: half is 185 MiB, below the slot's 200 MiB.
    let Some((code, _, err)) = with_fake_meminfo(&c, 380_000, "list") else {
        skip(test, "needs root and unshare for a fake /proc/meminfo");
        return;
    };
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("needs 200 MiB"), "{err}");
    assert!(err.contains("185 MiB"), "{err}");
    assert!(err.contains("--identity"), "{err}");
    assert!(!err.contains("tampered"), "{err}");
}

#[test]
fn init_on_a_small_machine_picks_the_largest_default_that_fits() {
    let test = "init_on_a_small_machine_picks_the_largest_default_that_fits";
    let c = Cli::empty();
    // 300 MB available: half is 146 MiB, so 128 MiB instead of 256.
    let Some((code, out, err)) = with_fake_meminfo(&c, 300_000, "init") else {
        skip(test, "needs root and unshare for a fake /proc/meminfo");
        return;
    };
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("128 MiB"), "{out}");
    assert!(err.contains("little free memory"), "{err}");
    // And a machine that cannot give even the floor says so, with exit 3, writing nothing.
    let c = Cli::empty();
    let (code, _, err) = with_fake_meminfo(&c, 100_000, "init").expect("ran before");
    assert_eq!(code, 3, "{err}");
    assert!(!c.vault().exists());
}

// 4. systemd: the bot as its own user; no credential variable reaches it.

#[test]
fn run_user_starts_the_bot_as_that_user_who_cannot_read_the_vault() {
    let test = "run_user_starts_the_bot_as_that_user_who_cannot_read_the_vault";
    if !is_root() {
        skip(test, "needs root");
        return;
    }
    let c = Cli::new();
    c.add("b1", KEY, SECRET);
    let creds = c.sb.path().join("creds");
    std::fs::create_dir(&creds).expect("mkdir");
    write_private(&creds.join("vault-identity"), "AGE-SECRET-KEY-1CANARY\n");
    let mut cmd = c.cmd();
    cmd.env("CREDENTIALS_DIRECTORY", &creds).args([
        "run",
        "--no-mask",
        "--user",
        "nobody",
        "--",
        "sh",
        "-c",
        r#"id -u; echo "HOME=$HOME USER=$USER LOGNAME=$LOGNAME"; echo "CD=${CREDENTIALS_DIRECTORY:-none}"; echo "PF=${VAULT_PASSPHRASE_FILE:-none}"; cat "$0" 2>/dev/null && echo READ-ID; cat "$1" >/dev/null 2>&1 && echo READ-VAULT; grep NoNewPrivs /proc/self/status; echo "KEY=$EXCHANGE_KEY""#,
    ]);
    cmd.arg(creds.join("vault-identity")).arg(c.vault());
    let (code, out, err) = c.run_with(cmd, "");
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("65534\n"), "{out}");
    assert!(
        out.contains("HOME=/nonexistent USER=nobody LOGNAME=nobody"),
        "{out}"
    );
    assert!(out.contains("CD=none") && out.contains("PF=none"), "{out}");
    assert!(!out.contains("READ-"), "{out}");
    assert!(out.contains("NoNewPrivs:\t1"), "{out}");
    assert!(
        out.contains(&format!("KEY={KEY}")),
        "the bot still gets its key: {out}"
    );
}

#[test]
fn run_without_user_still_removes_every_credential_variable() {
    let c = Cli::new();
    c.add("b1", KEY, SECRET);
    let mut cmd = c.cmd();
    let creds = c.sb.path().join("creds");
    std::fs::create_dir(&creds).expect("mkdir");
    // VAULT_HOST_CREDENTIAL would make this a fleet-host run; its removal from the child is
    // tested in tests/fleet.rs, where it is set for real.
    cmd.env("CREDENTIALS_DIRECTORY", &creds)
        .env("BAO_TOKEN", "s.canary")
        .env("VAULT_TOKEN", "s.canary")
        .args(["run", "--", "env"]);
    let (code, out, err) = c.run_with(cmd, "");
    assert_eq!(code, 0, "{err}");
    for v in [
        "CREDENTIALS_DIRECTORY",
        "VAULT_HOST_CREDENTIAL",
        "BAO_TOKEN",
        "VAULT_TOKEN",
        "VAULT_PASSPHRASE_FILE",
    ] {
        assert!(!out.contains(&format!("{v}=")), "{v} reached the child");
    }
}

#[test]
fn run_user_is_refused_for_root_and_for_unknown_users_writing_nothing() {
    let c = Cli::new();
    c.add("b1", KEY, SECRET);
    let log_before = std::fs::read(audit_log(&c)).expect("log");
    let (code, _, err) = c.run(&["run", "--user", "no-such-user-x", "--", "true"], "");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no user named"), "{err}");
    if is_root() {
        let (code, _, err) = c.run(&["run", "--user", "root", "--", "true"], "");
        assert_eq!(code, 1, "{err}");
    }
    assert_eq!(std::fs::read(audit_log(&c)).expect("log"), log_before);
}

fn audit_log(c: &Cli) -> std::path::PathBuf {
    let mut s = c.vault().into_os_string();
    s.push(".log");
    s.into()
}

// 7. The audit log and the vault directory.

#[test]
fn a_symlinked_audit_log_is_refused_and_its_target_untouched() {
    let c = Cli::new();
    let target = c.sb.path().join("elsewhere.txt");
    write_private(&target, "precious\n");
    std::fs::remove_file(audit_log(&c)).expect("rm");
    std::os::unix::fs::symlink(&target, audit_log(&c)).expect("symlink");
    let vault_before = std::fs::read(c.vault()).expect("vault");
    let (code, _, err) = c.run(
        &["add", "b1", "--exchange", "binance", "--from-stdin"],
        &format!("{KEY}\n{SECRET}\n"),
    );
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read_to_string(&target).expect("t"), "precious\n");
    assert_eq!(std::fs::read(c.vault()).expect("vault"), vault_before);
}

#[test]
fn an_audit_log_that_is_a_fifo_or_device_does_not_hang() {
    let c = Cli::new();
    c.add("b1", KEY, SECRET);
    std::fs::remove_file(audit_log(&c)).expect("rm");
    mkfifo(&audit_log(&c));
    let mut cmd = c.cmd();
    cmd.args(["log"]);
    let (code, err) = run_bounded(cmd, Duration::from_secs(20));
    assert_ne!(code, 0, "{err}");
    let mut cmd = c.cmd();
    cmd.args(["run", "--", "true"]);
    let (code, err) = run_bounded(cmd, Duration::from_secs(20));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("FIFO") || err.contains("regular file"),
        "{err}"
    );
}

#[test]
fn a_vault_directory_others_can_write_is_refused_at_every_open() {
    let c = Cli::new();
    c.add("b1", KEY, SECRET);
    let dir = c.vault().parent().expect("dir").to_path_buf();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let (code, _, err) = c.run(&["list"], "");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("chmod 700"), "{err}");
    assert_eq!(c.run(&["list"], "").0, 0);
}

#[test]
fn the_state_directory_is_created_owner_only() {
    let c = Cli::new();
    for d in ["state", "state/vault", "state/vault/generations"] {
        let m = std::fs::metadata(c.sb.path().join(d)).expect(d);
        assert_eq!(
            m.permissions().mode() & 0o077,
            0,
            "{d} is {:o}",
            m.permissions().mode()
        );
    }
}

#[test]
fn a_write_that_fails_after_its_log_entry_is_marked_write_failed() {
    let test = "a_write_that_fails_after_its_log_entry_is_marked_write_failed";
    // Root ignores read-only directories, so the failure is a full disk: the vault's directory
    // becomes a 256 KiB tmpfs (in a private mount namespace) that is then filled.
    if !is_root() || which("unshare").is_none() {
        skip(test, "needs root and unshare for a full filesystem");
        return;
    }
    let c = Cli::new();
    // A vault of over 24 KiB (two bots with 12 KiB secrets), so that the 8 KiB left free
    // below holds the log's two small appends but never the new vault.
    for (bot, fill) in [("big1", 'a'), ("big2", 'b')] {
        let secret: String = std::iter::repeat_n(fill, 12 * 1024).collect();
        let (code, _, err) = c.run(
            &["add", bot, "--exchange", "binance", "--from-stdin"],
            &format!("BIGKEY{bot}0001\n{secret}\n"),
        );
        assert_eq!(code, 0, "{err}");
    }
    assert!(std::fs::metadata(c.vault()).expect("vault").len() > 24 * 1024);
    let dir = c.vault().parent().expect("dir").to_path_buf();
    let mut cmd = Command::new("unshare");
    cmd.args(["-m", "sh", "-c"]).arg(format!(
        "set -e; d='{d}'; mkdir \"$d/../saved\"; cp -p \"$d\"/vault.age* \"$d/../saved/\"; \
         mount -t tmpfs -o size=512k,mode=0700 tmpfs \"$d\"; cp -p \"$d\"/../saved/* \"$d/\"; \
         dd if=/dev/zero of=\"$d/spare\" bs=4k count=2 2>/dev/null; \
         dd if=/dev/zero of=\"$d/fill\" bs=4k 2>/dev/null || true; rm \"$d/spare\"; \
         set +e; \"$V\" add full --exchange binance --from-stdin; echo \"exit=$?\"; \
         rm \"$d/fill\"; echo ==list; \"$V\" list; echo ==log; \"$V\" log",
        d = dir.display()
    ));
    for (k, v) in c.cmd().get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.env("V", vault_bin());
    let (code, out, err) = c.run_with(cmd, "FULLDISKKEY0001\nFULLDISKSECRET0001\n");
    assert_eq!(code, 0, "the shell itself: {err}");
    assert!(
        !out.contains("exit=0"),
        "the add must fail on a full disk: {out} {err}"
    );
    assert!(err.contains("No space"), "{err}");
    // The vault is the one from before, and the log says the add's generation was never
    // written.
    let (_, after) = out.split_once("==list").expect("list ran");
    let (list, log) = after.split_once("==log").expect("log ran");
    assert!(list.contains("big2") && !list.contains("full"), "{list}");
    let failed = log
        .lines()
        .find(|l| l.contains("write-failed"))
        .unwrap_or_else(|| panic!("no write-failed entry: {log} {err}"));
    assert!(
        failed.contains("full") && failed.contains("generation 4"),
        "{failed}"
    );
    assert!(!out.contains("FULLDISK") && !err.contains("FULLDISK"));
}

// 8. FIFOs where a file is expected.

#[test]
fn a_fifo_as_passphrase_identity_or_vault_path_is_refused_without_blocking() {
    let c = Cli::new();
    let fifo = c.sb.path().join("fifo");
    mkfifo(&fifo);
    let mut cmd = c.bare();
    cmd.env("VAULT_PASSPHRASE_FILE", &fifo).args(["list"]);
    let (code, err) = run_bounded(cmd, Duration::from_secs(10));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("FIFO"), "{err}");
    let mut cmd = c.bare();
    cmd.env("VAULT_IDENTITY_FILE", &fifo)
        .args(["--unlock", "identity", "list"]);
    let (code, err) = run_bounded(cmd, Duration::from_secs(10));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("FIFO"), "{err}");
    let mut cmd = c.cmd();
    cmd.env("VAULT_PATH", &fifo).args(["list"]);
    let (code, err) = run_bounded(cmd, Duration::from_secs(10));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("FIFO"), "{err}");
}

// 9. The passphrase rule.

#[test]
fn repeated_or_common_words_are_not_a_passphrase() {
    for weak in [
        "aaa aaa aaa aaa aaa",
        "password password password password password",
        "Password password PASSWORD password passworD",
    ] {
        let c = Cli::empty();
        write_private(&c.pass_file(), &format!("{weak}\n"));
        let (code, _, err) = c.run(&["init", "--kdf-memory", "64"], "");
        assert_eq!(code, 1, "{weak:?} was accepted");
        assert!(err.contains("different, uncommon words"), "{err}");
        assert!(!c.vault().exists());
    }
    let c = Cli::empty();
    write_private(&c.pass_file(), "tundra mosaic velvet harbor quill\n");
    let (code, _, err) = c.run(&["init", "--kdf-memory", "64"], "");
    assert_eq!(code, 0, "{err}");
}

// 10. Values no environment can carry.

#[test]
fn a_secret_with_a_nul_byte_or_too_large_is_refused_and_nothing_written() {
    let c = Cli::new();
    let before = std::fs::read(c.vault()).expect("vault");
    let (code, _, err) = c.run(
        &["add", "b1", "--exchange", "binance", "--from-stdin"],
        &format!("{KEY}\n{SECRET}\0X\n"),
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("NUL"), "{err}");
    assert!(!err.contains(SECRET), "the secret is in the error");
    c.add("b1", KEY, SECRET);
    let after_add = std::fs::read(c.vault()).expect("vault");
    assert_ne!(before, after_add);
    let big = "x".repeat(20 * 1024);
    let (code, _, err) = c.run(
        &[
            "secret",
            "set",
            "b1",
            "FREQTRADE__TELEGRAM__TOKEN",
            "--from-stdin",
        ],
        &format!("{big}\n"),
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("KiB"), "{err}");
    assert_eq!(std::fs::read(c.vault()).expect("vault"), after_add);
}

// 11. An allow-list that allows everything.

#[test]
fn every_address_is_not_an_ip_allow_list() {
    let c = Cli::new();
    for any in ["0.0.0.0/0", "::/0", "0.0.0.0"] {
        let (code, _, err) = c.run(
            &[
                "add",
                "b1",
                "--exchange",
                "binance",
                "--from-stdin",
                "--ip",
                any,
            ],
            &format!("{KEY}\n{SECRET}\n"),
        );
        assert_eq!(code, 2, "{any}: {err}");
        assert!(err.contains("not an allow-list"), "{err}");
    }
    let (code, _, err) = c.run(
        &[
            "add",
            "b1",
            "--exchange",
            "binance",
            "--from-stdin",
            "--ip",
            "10.0.0.0/8",
            "--withdrawals",
            "disabled",
        ],
        &format!("{KEY}\n{SECRET}\n"),
    );
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = c.run(&["audit", "--json"], "");
    assert!(out.contains("ip-allowlist-too-wide"), "{out}");
    assert!(out.contains("no-ip-allowlist"), "{out}");
}

// Friction.

#[test]
fn a_missing_identity_or_passphrase_file_is_named_as_such() {
    let c = Cli::new();
    let missing = c.sb.path().join("nope.txt");
    let mut cmd = c.bare();
    cmd.env("VAULT_IDENTITY_FILE", &missing)
        .args(["--unlock", "identity", "list"]);
    let (code, _, err) = c.run_with(cmd, "");
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("identity file") && err.contains("does not exist"),
        "{err}"
    );
    assert!(!err.contains("vault init"), "{err}");
    let mut cmd = c.bare();
    cmd.env("VAULT_PASSPHRASE_FILE", &missing).args(["list"]);
    let (code, _, err) = c.run_with(cmd, "");
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("passphrase file") && err.contains("does not exist"),
        "{err}"
    );
}

#[test]
fn a_vault_path_at_a_directory_says_it_is_a_directory() {
    let c = Cli::new();
    let mut cmd = c.cmd();
    cmd.env("VAULT_PATH", c.sb.path()).args(["list"]);
    let (code, _, err) = c.run_with(cmd, "");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("is a directory"), "{err}");
    assert!(!err.contains("insecure"), "{err}");
}

#[test]
fn reveals_refusals_and_run_exit_statuses_are_in_the_audit_log() {
    let c = Cli::new();
    c.add("b1", KEY, SECRET);
    assert_eq!(c.run(&["show", "b1", "--reveal", "--json"], "").0, 0);
    assert_eq!(c.run(&["run", "--", "sh", "-c", "exit 3"], "").0, 3);
    assert_eq!(c.run(&["revoke", "b1"], "").0, 0);
    assert_eq!(c.run(&["run", "--bot", "b1", "--", "true"], "").0, 5);
    let (code, out, err) = c.run(&["log", "--json"], "");
    assert_eq!(code, 0, "{err}");
    for op in ["\"reveal\"", "\"run-exit\"", "exit 3", "\"run-refused\""] {
        assert!(out.contains(op), "{op} missing: {out}");
    }
    assert!(!out.contains(SECRET));
}

#[test]
fn bad_input_exit_codes_are_consistent() {
    let c = Cli::new();
    c.add("b1", KEY, SECRET);
    // Values checked before the vault is opened: usage errors, like clap's own.
    let (code, _, err) = c.run(
        &["add", "Bad/Name", "--exchange", "binance", "--from-stdin"],
        "k\ns\n",
    );
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        c.run(
            &["add", "ok", "--exchange", "nosuchex", "--from-stdin"],
            "k\ns\n"
        )
        .0,
        2
    );
    assert_eq!(c.run(&["rename", "b1", "Bad Name"], "").0, 2);
    // An unknown bot is 6 for show and log alike.
    assert_eq!(c.run(&["show", "nosuch"], "").0, 6);
    assert_eq!(c.run(&["log", "nosuch"], "").0, 6);
    assert_eq!(c.run(&["log", "b1"], "").0, 0);
}

#[test]
fn usage_lines_and_help_do_not_show_what_the_environment_set() {
    let c = Cli::new();
    let mut cmd = c.cmd();
    cmd.env("VAULT_BOT", "b1").args(["run"]);
    let (code, _, err) = c.run_with(cmd, "");
    assert_eq!(code, 2, "{err}");
    // The usage is part of the one error line; it names no flag the environment set.
    let usage = err.split_once("Usage:").map(|(_, u)| u).unwrap_or("");
    assert_eq!(usage.trim(), "vault run -- <CMD>... (see --help)", "{err}");
    let (_, out, _) = c.run(&["--help"], "");
    assert!(!out.contains(&c.pass_file().display().to_string()), "{out}");
    assert!(out.contains("VAULT_PASSPHRASE_FILE"), "{out}");
}
