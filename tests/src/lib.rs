//! Shared helpers for the end-to-end tests of the `vault` binary and the public library API.
#![allow(missing_docs)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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
        eprintln!(
            "SKIP {test}: `{name}` is not installed (set VAULT_E2E=1 to make this mandatory)"
        );
    }
    found
}
