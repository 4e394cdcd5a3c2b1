//! The static binary of dist/build-static.sh: it runs on its own in an empty environment.

use std::path::{Path, PathBuf};
use std::process::Command;

use vault_tests::{e2e_required, skipped, write_private};

const KEY: &str = "STATICKEY0000000000000001";
const SECRET: &str = "STATICSECRET000000000000000001";

fn build_static(test: &str) -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let have = |p: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {p}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !have("rustup") || !have("musl-gcc") {
        if e2e_required() {
            panic!("{test}: rustup and musl-gcc (musl-tools) are required with VAULT_E2E=1");
        }
        skipped(
            test,
            "needs rustup and musl-gcc (apt-get install musl-tools)",
        );
        return None;
    }
    let out = Command::new(root.join("dist/build-static.sh"))
        .env("PROFILE", "perf")
        .output()
        .expect("run dist/build-static.sh");
    assert!(
        out.status.success(),
        "build-static.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let bin = PathBuf::from(stdout.lines().next().expect("path line"));
    let bin = if bin.is_absolute() {
        bin
    } else {
        root.join(bin)
    };
    // SHA256SUMS names the binary and matches it.
    let sums = std::fs::read_to_string(bin.with_file_name("SHA256SUMS")).expect("SHA256SUMS");
    let check = Command::new("sha256sum")
        .arg("-c")
        .arg("SHA256SUMS")
        .current_dir(bin.parent().expect("dir"))
        .output()
        .expect("sha256sum");
    assert!(check.status.success(), "{sums}");
    Some(bin)
}

#[test]
fn the_static_binary_runs_version_init_add_and_run_in_an_empty_environment() {
    let test = "the_static_binary_runs_version_init_add_and_run_in_an_empty_environment";
    let Some(built) = build_static(test) else {
        return;
    };
    // A copy in a fresh directory, run with nothing inherited: no PATH to our tree, no HOME.
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = dir.path().join("vault");
    std::fs::copy(&built, &bin).expect("copy");
    let readelf = Command::new("readelf")
        .args(["-d"])
        .arg(&bin)
        .output()
        .expect("readelf");
    let dynamic = String::from_utf8_lossy(&readelf.stdout);
    assert!(!dynamic.contains("NEEDED"), "shared libraries: {dynamic}");
    let home = dir.path().join("home");
    std::fs::create_dir(&home).expect("home");
    let pass = dir.path().join("pass");
    write_private(&pass, "correct horse battery staple orbit\n");
    let run = |args: &[&str], stdin: &str| {
        use std::io::Write;
        let mut c = Command::new(&bin);
        c.env_clear()
            .env("HOME", &home)
            .env("PATH", "/usr/bin:/bin")
            .env("VAULT_PASSPHRASE_FILE", &pass)
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = c.spawn().expect("spawn the static vault");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("stdin");
        let out = child.wait_with_output().expect("wait");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = run(&["--version"], "");
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("vault "), "{out}");
    let (code, _, err) = run(&["init", "--kdf-memory", "64"], "");
    assert_eq!(code, 0, "{err}");
    assert!(home.join(".local/share/vault/vault.age").exists());
    let (code, _, err) = run(
        &["add", "bot", "--exchange", "binance", "--from-stdin"],
        &format!("{KEY}\n{SECRET}\n"),
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(
        &[
            "run",
            "--",
            "sh",
            "-c",
            "test \"$EXCHANGE_KEY\" = STATICKEY0000000000000001 && echo key-ok && echo \"$EXCHANGE_SECRET\"",
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("key-ok"), "{out}");
    assert!(!out.contains(SECRET), "masked: {out}");
    assert!(out.contains("<redacted:bot>"), "{out}");
}
