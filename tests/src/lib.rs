//! Shared helpers for the end-to-end tests of the `vault` binary and the public library API.
#![allow(missing_docs)]

pub mod schema;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use secrecy::SecretString;
use vault_core::{
    kdf, EnvProfile, Exchange, NewBot, NewKey, OpenOptions, Scope, SecretValue, Vault,
};

/// The cheapest parameters the library accepts (the floor); tests never go below it.
pub const TEST_KDF: kdf::KdfParams = kdf::FLOOR;

/// A passphrase strong enough for the CLI's zxcvbn check.
pub const PASSPHRASE: &str = "correct horse battery staple orbit";

/// A temporary home for one test's vault, state dir and files.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
    pub fn vault(&self) -> PathBuf {
        self.dir.path().join("vault").join("vault.age")
    }
    pub fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }
    pub fn opts(&self) -> OpenOptions {
        OpenOptions::new(self.state())
    }
    pub fn create(&self) -> Vault {
        Vault::create(&self.vault(), &pass(PASSPHRASE), TEST_KDF, self.opts()).expect("create")
    }
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

pub fn pass(s: &str) -> SecretString {
    SecretString::from(s.to_string())
}

pub fn key(k: &str, s: &str) -> NewKey {
    NewKey {
        key: SecretValue::from(k),
        secret: SecretValue::from(s),
        passphrase: None,
        uid: None,
    }
}

pub fn new_bot(name: &str, k: &str, s: &str) -> NewBot {
    NewBot {
        name: name.into(),
        exchange: Exchange::Binance,
        key: key(k, s),
        scope: Scope::default(),
        env_profile: EnvProfile::Auto,
        rotate_after_days: 90,
        note: None,
        extra_secrets: BTreeMap::new(),
    }
}

/// True when `VAULT_E2E=1`: tests needing outside programs must not skip.
pub fn e2e_required() -> bool {
    std::env::var("VAULT_E2E").as_deref() == Ok("1")
}

/// Says that `test` was skipped and why, where the person running `cargo test` sees it: on
/// the real standard error, which the test harness does not capture (it captures only the
/// print macros), so the line shows even for a test that then counts as passed.
pub fn skipped(test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "test {test} ... SKIPPED: {why}");
}

/// Finds a program on PATH; prints one skip line (or panics under VAULT_E2E=1) when missing.
pub fn require_program(name: &str, test: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        if e2e_required() {
            panic!("{test}: `{name}` is required with VAULT_E2E=1 but is not installed");
        }
        skipped(
            test,
            &format!("`{name}` is not installed (set VAULT_E2E=1 to make this mandatory)"),
        );
    }
    found
}

/// Path of the `vault` binary, built once per test process so it is never stale when only
/// this crate is tested (`cargo test -p vault-tests`); a no-op when it is up to date.
pub fn vault_bin() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            // <target>/debug/deps/<test exe> -> <target>/debug/vault
            let exe = std::env::current_exe().expect("exe");
            let profile_dir = exe.parent().and_then(|p| p.parent()).expect("target dir");
            let target_dir = profile_dir.parent().expect("target root");
            let status = std::process::Command::new(env!("CARGO"))
                .args([
                    "build",
                    "-q",
                    "-p",
                    "vault-cli",
                    "--bin",
                    "vault",
                    "--target-dir",
                ])
                .arg(target_dir)
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .status()
                .expect("cargo build");
            assert!(status.success(), "building the vault binary failed");
            profile_dir.join("vault")
        })
        .clone()
}

/// A sandboxed `vault` user: its own vault path, state dir, HOME and passphrase file.
pub struct Cli {
    pub sb: Sandbox,
}

impl Cli {
    /// A sandbox with no vault yet.
    pub fn empty() -> Cli {
        let sb = Sandbox::new();
        let pf = sb.path().join("pass.txt");
        write_private(&pf, &format!("{PASSPHRASE}\n"));
        Cli { sb }
    }

    /// A sandbox with a vault created by `vault init` at the KDF floor.
    pub fn new() -> Cli {
        let c = Cli::empty();
        let out = c
            .cmd()
            .args([
                "init",
                "--kdf-memory",
                "64",
                "--kdf-iterations",
                "3",
                "--kdf-parallelism",
                "1",
            ])
            .output()
            .expect("init");
        assert!(
            out.status.success(),
            "init failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        c
    }

    pub fn pass_file(&self) -> PathBuf {
        self.sb.path().join("pass.txt")
    }
    pub fn vault(&self) -> PathBuf {
        self.sb.vault()
    }

    /// `vault` with only this sandbox's environment (nothing inherited that could unlock).
    pub fn bare(&self) -> std::process::Command {
        let mut c = std::process::Command::new(vault_bin());
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().to_string();
            if k.starts_with("VAULT_")
                || k.starts_with("EXCHANGE_")
                || k.starts_with("FREQTRADE__")
                || k == "CREDENTIALS_DIRECTORY"
            {
                c.env_remove(&k);
            }
        }
        c.env("VAULT_PATH", self.sb.vault())
            .env("XDG_STATE_HOME", self.sb.path().join("state"))
            .env("XDG_DATA_HOME", self.sb.path().join("data"))
            .env("HOME", self.sb.path())
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null());
        c
    }

    /// `vault` that unlocks with the passphrase file.
    pub fn cmd(&self) -> std::process::Command {
        let mut c = self.bare();
        c.env("VAULT_PASSPHRASE_FILE", self.pass_file());
        c
    }

    /// Runs with `stdin` fed in; returns (code, stdout, stderr).
    pub fn run_with(&self, mut c: std::process::Command, stdin: &str) -> (i32, String, String) {
        use std::io::Write;
        c.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = c.spawn().expect("spawn vault");
        {
            let mut i = child.stdin.take().expect("stdin");
            let _ = i.write_all(stdin.as_bytes());
        }
        let out = child.wait_with_output().expect("wait");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Runs `vault ARGS` (passphrase unlock) with `stdin`.
    pub fn run(&self, args: &[&str], stdin: &str) -> (i32, String, String) {
        let mut c = self.cmd();
        c.args(args);
        self.run_with(c, stdin)
    }

    /// Adds a binance bot from stdin; panics on failure.
    pub fn add(&self, bot: &str, key: &str, secret: &str) {
        let (code, _, err) = self.run(
            &[
                "add",
                bot,
                "--exchange",
                "binance",
                "--from-stdin",
                "--withdrawals",
                "disabled",
                "--ip",
                "203.0.113.7",
            ],
            &format!("{key}\n{secret}\n"),
        );
        assert_eq!(code, 0, "add {bot}: {err}");
    }

    /// Sets an extra secret from stdin; panics on failure.
    pub fn set_secret(&self, bot: &str, env_name: &str, value: &str) {
        let (code, _, err) = self.run(
            &["secret", "set", bot, env_name, "--from-stdin"],
            &format!("{value}\n"),
        );
        assert_eq!(code, 0, "secret set {bot} {env_name}: {err}");
    }
}

impl Default for Cli {
    fn default() -> Self {
        Self::new()
    }
}

/// Writes a file with mode 0600.
pub fn write_private(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

/// A Python that can `import ccxt`: `$VAULT_CCXT_PYTHON`, else `python3` on PATH (CI puts the
/// freqtrade virtualenv first). The probe runs outside this crate's directory: its `ccxt/`
/// folder of test scripts would otherwise pass for the package (`import ccxt` finds a
/// namespace package in the working directory), and a machine without ccxt would fail the
/// test instead of skipping it.
pub fn ccxt_python() -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = std::env::var_os("VAULT_CCXT_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain(std::iter::once(PathBuf::from("python3")))
        .collect();
    candidates.into_iter().find(|p| {
        Command::new(p)
            .args(["-c", "import ccxt, cryptography"])
            .current_dir(std::env::temp_dir())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// Runs `python` with `args`, writes `input` to its stdin and returns the JSON it prints. The
/// test fails, showing Python's stderr, unless it exits 0 and prints JSON.
pub fn python_json(python: &Path, args: &[&std::ffi::OsStr], input: &str) -> serde_json::Value {
    use std::io::Write;
    let mut child = Command::new(python)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {}: {e}", python.display()));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{} {args:?} failed: {}",
        python.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("Python prints JSON")
}
