//! Unlock without typing: identity files (also from systemd's $CREDENTIALS_DIRECTORY), the
//! body as a standard age file read by Go `age`, the session cache, and the keyring slot
//! against a real Secret Service (gnome-keyring under dbus-run-session) and kernel keyutils.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use vault_tests::*;

fn export_identity(c: &Cli) -> std::path::PathBuf {
    let id = c.sb.path().join("id.txt");
    let (code, _, err) = c.run(
        &["identity", "export", "--to", id.to_str().expect("utf8")],
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::metadata(&id).expect("id").permissions().mode() & 0o777,
        0o600
    );
    id
}

fn with_identity(c: &Cli, id: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let mut cmd = c.bare();
    cmd.env("VAULT_IDENTITY_FILE", id).args(args);
    c.run_with(cmd, "")
}

#[test]
fn identity_export_refuses_to_overwrite() {
    let c = Cli::new();
    let id = export_identity(&c);
    let (code, _, err) = c.run(
        &["identity", "export", "--to", id.to_str().expect("utf8")],
        "",
    );
    assert_eq!(code, 1, "{err}");
}

#[test]
fn an_identity_file_unlocks_reads_and_writes() {
    let c = Cli::new();
    let id = export_identity(&c);
    let (code, _, err) = with_identity(
        &c,
        &id,
        &[
            "-v",
            "add",
            "alpha",
            "--exchange",
            "binance",
            "--from-stdin",
        ],
    );
    // stdin is empty in with_identity: the add must fail on input, not on unlock.
    assert_eq!(code, 1, "{err}");
    let mut cmd = c.bare();
    cmd.env("VAULT_IDENTITY_FILE", &id).args([
        "-v",
        "add",
        "alpha",
        "--exchange",
        "binance",
        "--from-stdin",
    ]);
    let (code, _, err) = c.run_with(cmd, "IDKEY000000000000001\nIDSECRET0000000000001\n");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("unlocked with the identity file"), "{err}");
    let mut cmd = c.bare();
    cmd.env("VAULT_IDENTITY_FILE", &id)
        .args(["rotate", "alpha", "--from-stdin"]);
    assert_eq!(
        c.run_with(cmd, "IDKEY000000000000002\nIDSECRET0000000000002\n")
            .0,
        0
    );
    // The passphrase slot was carried over untouched.
    assert_eq!(c.run(&["--unlock", "passphrase", "list"], "").0, 0);
}

#[test]
fn a_world_readable_identity_file_is_refused() {
    let c = Cli::new();
    let id = export_identity(&c);
    std::fs::set_permissions(&id, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let (code, _, err) = with_identity(&c, &id, &["--unlock", "identity", "list"]);
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("identity file"), "{err}");
}

#[test]
fn a_root_owned_0440_identity_in_credentials_directory_is_accepted_for_a_service_user() {
    if vault_core::store::euid() != 0 {
        vault_tests::skipped(
            "a_root_owned_0440_identity_in_credentials_directory_is_accepted_for_a_service_user",
            "needs root",
        );
        return;
    }
    let test = "a_root_owned_0440_identity_in_credentials_directory_is_accepted_for_a_service_user";
    let (Some(setpriv), Some(setfacl)) = (
        require_program("setpriv", test),
        require_program("setfacl", test),
    ) else {
        return;
    };
    // The service user (65534) owns its vault; systemd gives it a root-owned 0440 credential
    // with an ACL entry, in a root-owned credentials directory.
    let base = tempfile::Builder::new()
        .prefix("vault-creds")
        .tempdir_in("/tmp")
        .expect("tmp");
    std::fs::set_permissions(base.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let home = base.path().join("home");
    std::fs::create_dir(&home).expect("mkdir");
    std::os::unix::fs::chown(&home, Some(65534), Some(65534)).expect("chown");
    let pass = home.join("pass.txt");
    std::fs::write(&pass, format!("{PASSPHRASE}\n")).expect("write");
    std::fs::set_permissions(&pass, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    std::os::unix::fs::chown(&pass, Some(65534), Some(65534)).expect("chown");
    let as_service = |args: &[&str], env: &[(&str, &std::path::Path)]| {
        let mut cmd = Command::new(&setpriv);
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(vault_bin())
            .args(args);
        cmd.env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", &home)
            .env("VAULT_PATH", home.join("vault").join("vault.age"))
            .env("XDG_STATE_HOME", home.join("state"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run as service user");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = as_service(
        &["init", "--kdf-memory", "64", "--kdf-parallelism", "1"],
        &[("VAULT_PASSPHRASE_FILE", &pass)],
    );
    assert_eq!(code, 0, "{err}");
    let exported = home.join("id.txt");
    let (code, err) = as_service(
        &[
            "identity",
            "export",
            "--to",
            exported.to_str().expect("utf8"),
        ],
        &[("VAULT_PASSPHRASE_FILE", &pass)],
    );
    assert_eq!(code, 0, "{err}");
    let creds = base.path().join("credentials");
    std::fs::create_dir(&creds).expect("mkdir");
    let cred = creds.join("vault-identity");
    std::fs::copy(&exported, &cred).expect("copy");
    std::os::unix::fs::chown(&cred, Some(0), Some(0)).expect("chown");
    std::fs::set_permissions(&cred, std::fs::Permissions::from_mode(0o440)).expect("chmod");
    let st = Command::new(setfacl)
        .args(["-m", "u:65534:r"])
        .arg(&cred)
        .status()
        .expect("setfacl");
    assert!(st.success());
    let (code, err) = as_service(
        &["--unlock", "identity", "list"],
        &[
            ("VAULT_IDENTITY_FILE", &cred),
            ("CREDENTIALS_DIRECTORY", &creds),
        ],
    );
    assert_eq!(code, 0, "inside $CREDENTIALS_DIRECTORY: {err}");
    let (code, err) = as_service(
        &["--unlock", "identity", "list"],
        &[("VAULT_IDENTITY_FILE", &cred)],
    );
    assert_eq!(
        code, 5,
        "the same file outside $CREDENTIALS_DIRECTORY is refused: {err}"
    );
}

#[test]
fn go_age_decrypts_the_exported_body_with_the_exported_identity() {
    let Some(age) = require_program(
        "age",
        "go_age_decrypts_the_exported_body_with_the_exported_identity",
    ) else {
        return;
    };
    let c = Cli::new();
    c.add("alpha", "AGEKEY00000000000001", "AGESECRET000000000001");
    let id = export_identity(&c);
    let body = c.sb.path().join("body.age");
    let (code, _, err) = c.run(
        &["export", "--age", "--to", body.to_str().expect("utf8")],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let out = Command::new(age)
        .arg("-d")
        .arg("-i")
        .arg(&id)
        .arg(&body)
        .output()
        .expect("age");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the body is JSON");
    assert_eq!(
        j["bots"]["alpha"]["credentials"]["secret"],
        "AGESECRET000000000001"
    );
    assert_eq!(j["format"], 1);
}

fn in_keyctl_session(c: &Cli, script: &str) -> Option<(i32, String)> {
    let keyctl = require_program("keyctl", "session cache")?;
    let out = Command::new(keyctl)
        .args(["session", "-", "sh", "-c", script])
        .env("VAULT_PATH", c.vault())
        .env("XDG_STATE_HOME", c.sb.path().join("state"))
        .env("VAULT_PASSPHRASE_FILE", c.pass_file())
        .env("V", vault_bin())
        .output()
        .expect("keyctl");
    Some((
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    ))
}

#[test]
fn the_session_cache_unlocks_within_its_time_and_not_after() {
    let c = Cli::new();
    let script = r#"set -e
"$V" unlock --for 2s
env -u VAULT_PASSPHRASE_FILE "$V" --unlock session list >/dev/null && echo WITHIN-OK
sleep 3
if env -u VAULT_PASSPHRASE_FILE "$V" --unlock session list >/dev/null 2>&1; then echo AFTER-OPENED; else echo AFTER-REFUSED-$?; fi
"$V" unlock --for 1m
"$V" lock
if env -u VAULT_PASSPHRASE_FILE "$V" --unlock session list >/dev/null 2>&1; then echo LOCK-OPENED; else echo LOCK-REFUSED; fi
"$V" unlock --for 13h || echo TOO-LONG-$?
"#;
    let Some((code, out)) = in_keyctl_session(&c, script) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    for want in ["WITHIN-OK", "AFTER-REFUSED-3", "LOCK-REFUSED", "TOO-LONG-2"] {
        assert!(out.contains(want), "{want}: {out}");
    }
}

#[test]
fn a_write_works_after_a_keyutils_keyring_only_unlock() {
    let c = Cli::new();
    let script = r#"set -e
"$V" keyring enable --store keyutils
printf 'KRKEY0000000000000001\nKRSECRET000000000001\n' | env -u VAULT_PASSPHRASE_FILE "$V" -v --unlock keyring add alpha --exchange binance --from-stdin
env -u VAULT_PASSPHRASE_FILE "$V" --unlock keyring show alpha >/dev/null && echo KEYRING-WRITE-OK
"$V" keyring disable
"#;
    let Some((code, out)) = in_keyctl_session(&c, script) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("unlocked with the keyring") && out.contains("KEYRING-WRITE-OK"),
        "{out}"
    );
    assert!(out.contains("does not survive a reboot"), "{out}");
}

#[test]
fn a_missing_keyring_entry_is_reported_and_auto_goes_on_to_the_passphrase() {
    let c = Cli::new();
    let (_, out, _) = c.run(&["doctor", "--json"], "");
    let id = serde_json::from_str::<serde_json::Value>(&out).expect("json")["vault_id"]
        .as_str()
        .expect("vault id")
        .to_string();
    // Only this vault's entry is removed: the user's other keys are left alone.
    let script = format!(
        r#"set -e
"$V" keyring enable --store keyutils
keyctl unlink "$(keyctl search @u user "vault:{id}:kek")" @u
"$V" -v list
"#
    );
    let Some((code, out)) = in_keyctl_session(&c, &script) else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("keyring") && out.contains("missing"),
        "the failing method must say why: {out}"
    );
    assert!(out.contains("unlocked with the passphrase"), "{out}");
}

#[test]
fn the_keyring_slot_works_against_a_real_secret_service() {
    let test = "the_keyring_slot_works_against_a_real_secret_service";
    let (Some(dbus), Some(_gk)) = (
        require_program("dbus-run-session", test),
        require_program("gnome-keyring-daemon", test),
    ) else {
        return;
    };
    let c = Cli::new();
    let script = r#"set -e
echo -n test-keyring-pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1
"$V" keyring enable --store secret-service
printf 'SSKEY0000000000000001\nSSSECRET000000000001\n' | env -u VAULT_PASSPHRASE_FILE "$V" -v --unlock keyring add alpha --exchange binance --from-stdin
env -u VAULT_PASSPHRASE_FILE "$V" --unlock keyring rotate alpha --from-stdin <<EOF2
SSKEY0000000000000002
SSSECRET000000000002
EOF2
"$V" keyring status
"$V" keyring disable
if env -u VAULT_PASSPHRASE_FILE "$V" --unlock keyring list >/dev/null 2>&1; then echo STILL-OPENS; else echo DISABLED-OK; fi
"#;
    let out = Command::new(dbus)
        .args(["--", "sh", "-c", script])
        .env("HOME", c.sb.path())
        .env("XDG_DATA_HOME", c.sb.path().join("data"))
        .env("VAULT_PATH", c.vault())
        .env("XDG_STATE_HOME", c.sb.path().join("state"))
        .env("VAULT_PASSPHRASE_FILE", c.pass_file())
        .env("V", vault_bin())
        .output()
        .expect("dbus-run-session");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    for want in [
        "keyring unlock enabled (secret-service store)",
        "unlocked with the keyring",
        "entry present",
        "DISABLED-OK",
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
}

#[test]
fn a_store_of_another_platform_is_refused_at_enable_and_writes_nothing() {
    let c = Cli::new();
    let before = std::fs::read(c.vault()).expect("vault");
    for store in ["keychain", "credential-manager"] {
        let (code, _, err) = c.run(&["keyring", "enable", "--store", store], "");
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains("does not exist on linux") && err.contains("secret-service, keyutils"),
            "the error must name the stores this platform has: {err}"
        );
    }
    assert_eq!(std::fs::read(c.vault()).expect("vault"), before);
}

#[test]
fn a_vault_from_a_mac_says_its_keychain_slot_is_unreachable_and_unlocks_another_way() {
    let c = Cli::new();
    c.add("alpha", "AKEYFROMAMAC0001", "SECRETFROMAMAC0001");
    // The slot a Mac's `vault keyring enable` writes: store 3, the login Keychain.
    let mut v = vault_core::Vault::open(
        &c.vault(),
        vault_core::Unlock::Passphrase(&pass(PASSPHRASE)),
        c.sb.opts(),
    )
    .expect("open");
    v.set_keyring_slot(
        vault_core::KeyringStore::MacosKeychain,
        &zeroize::Zeroizing::new([7u8; 32]),
    )
    .expect("slot");
    drop(v);
    let (code, out, err) = c.run(&["keyring", "status", "--json"], "");
    assert_eq!(code, 0, "{err}");
    let status: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(status["store"], "macos-keychain");
    assert_eq!(status["entry_present"], false);
    let (code, out, err) = c.run(&["-v", "list"], "");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("alpha"), "{out}");
    assert!(
        err.contains("macos-keychain") && err.contains("cannot reach"),
        "auto unlock must say why the keyring was skipped: {err}"
    );
    assert!(err.contains("unlocked with the passphrase"), "{err}");
}
