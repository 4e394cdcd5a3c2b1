//! Paths and the unlock ladder shared by every command.
//!
//! `--unlock auto` tries, in order: the session cache, the keyring slot (if the vault has
//! one), the identity file (if given), the passphrase (file, or a prompt on a terminal).
//! Never silent: `-v` says which method worked, and every method that failed says why.

use std::path::{Path, PathBuf};

use secrecy::SecretString;
use vault_core::{Error, KeyringStore, OpenOptions, Unlock, Vault, VaultFile};
use zeroize::Zeroizing;

use crate::cli::{Global, UnlockMethod};
use crate::error::{code, CliError, CliResult};
use crate::sys;
use crate::{input, keyring, output, session};

pub struct Ctx {
    pub g: Global,
    pub vault_path: PathBuf,
    pub state_dir: PathBuf,
}

fn dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "vault")
}

impl Ctx {
    pub fn new(g: Global) -> CliResult<Ctx> {
        let d = dirs();
        let vault_path = match &g.vault {
            Some(p) => p.clone(),
            None => d
                .as_ref()
                .map(|d| d.data_dir().join("vault.age"))
                .ok_or_else(|| {
                    CliError::other("cannot find a home directory; give --vault PATH")
                })?,
        };
        let state_dir = d
            .as_ref()
            .and_then(|d| d.state_dir().map(|p| p.to_path_buf()))
            .or_else(|| d.as_ref().map(|d| d.data_local_dir().join("state")))
            .ok_or_else(|| CliError::other("cannot find a state directory; set XDG_STATE_HOME"))?;
        Ok(Ctx {
            g,
            vault_path,
            state_dir,
        })
    }

    /// The library's options, with what only the CLI reads: `VAULT_LOCK_TIMEOUT` and the
    /// machine's MemAvailable.
    pub fn opts(&self) -> OpenOptions {
        let mut o = OpenOptions::new(&self.state_dir);
        o.accept_rollback = self.g.accept_rollback;
        if let Some(secs) = std::env::var("VAULT_LOCK_TIMEOUT")
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
        {
            o.lock_timeout = std::time::Duration::from_secs(secs);
        }
        o.memory_available_kib = mem_available_kib();
        o
    }

    /// Reads the file (permissions and checksum checked before anything else).
    pub fn read_file(&self) -> CliResult<VaultFile> {
        self.tune_heap_for_vault();
        Ok(VaultFile::read(&self.vault_path, self.opts())?)
    }

    /// As [`Ctx::read_file`], the checksum left to the first unlock.
    fn read_file_to_unlock(&self) -> CliResult<VaultFile> {
        self.tune_heap_for_vault();
        Ok(VaultFile::read_to_unlock(&self.vault_path, self.opts())?)
    }

    /// A big vault opens in far fewer page faults on a tuned heap (sys.rs); a small one would
    /// only pay its huge pages in memory, for a whole bot's life under `run`.
    fn tune_heap_for_vault(&self) {
        if std::fs::symlink_metadata(&self.vault_path).is_ok_and(|m| m.len() >= 256 * 1024) {
            sys::tune_heap();
        }
    }

    /// Opens and unlocks the vault by the ladder, with the real session keyring, OS keyring,
    /// files and terminal.
    pub fn open(&self) -> CliResult<Vault> {
        self.open_with(&Real)
    }

    /// The ladder itself, with its sources given (tests check the order with fakes).
    pub(crate) fn open_with(&self, src: &dyn Sources) -> CliResult<Vault> {
        // The checksum is left to the first unlock, beside the MAC (read_to_unlock); it is
        // checked on its own before a keyring or a person is asked for anything.
        let file = self.read_file_to_unlock()?;
        let vault_id = hex::encode(file.header().vault_id);
        let keyring_store = file.keyring_store();
        let method = self.g.unlock;
        let auto = method == UnlockMethod::Auto;
        let mut tried: Vec<String> = Vec::new();

        // What every successful method does: say which one it was, pass on the warnings.
        let adopt = |v: Vault, name: &str| -> Vault {
            if self.g.verbose {
                output::note(&format!("unlocked with the {name}"));
            }
            for w in v.warnings() {
                output::warn(w);
            }
            v
        };
        // Every attempt uses the one checked file: no method re-reads or re-hashes it.
        let attempt =
            |how: Unlock<'_>, name: &str, tried: &mut Vec<String>| -> CliResult<Option<Vault>> {
                match file.unlock(how) {
                    Ok(v) => Ok(Some(adopt(v, name))),
                    Err(e) if matches!(e.kind(), vault_core::ErrorKind::Unlock) => {
                        tried.push(format!("{name}: {e}"));
                        if !auto {
                            return Err(e.into());
                        }
                        output::warn(&format!("{name} did not unlock the vault: {e}"));
                        Ok(None)
                    }
                    Err(e @ Error::KdfParams(_)) => Err(kdf_tampered(e)),
                    Err(e) => Err(e.into()),
                }
            };

        if auto || method == UnlockMethod::Session {
            match src.session(&vault_id) {
                Ok(Some(id)) => {
                    if let Some(v) = attempt(Unlock::Identity(&id), "session cache", &mut tried)? {
                        return Ok(v);
                    }
                }
                Ok(None) => {
                    tried.push("session cache: empty or expired (`vault unlock` fills it)".into())
                }
                Err(why) => tried.push(format!("session cache: {why}")),
            }
            if method == UnlockMethod::Session {
                return Err(nothing_worked(&tried, src.has_tty()));
            }
        }
        if auto || method == UnlockMethod::Keyring {
            // A keyring may show a prompt of its own: not for a damaged file.
            if keyring_store.is_some() {
                file.check()?;
            }
            match keyring_store {
                Some(store) => match src.keyring(store, &vault_id) {
                    Ok(key) => {
                        if let Some(v) = attempt(Unlock::KeyringKey(&key), "keyring", &mut tried)? {
                            return Ok(v);
                        }
                    }
                    Err(why) => {
                        if auto {
                            output::warn(&format!("keyring: {why}"));
                        }
                        tried.push(format!("keyring: {why}"));
                    }
                },
                None => tried.push("keyring: not enabled for this vault".into()),
            }
            if method == UnlockMethod::Keyring {
                return Err(nothing_worked(&tried, src.has_tty()));
            }
        }
        if auto || method == UnlockMethod::Identity {
            match &self.g.identity {
                Some(path) => {
                    let id = src.identity_file(path)?;
                    if let Some(v) = attempt(Unlock::Identity(&id), "identity file", &mut tried)? {
                        return Ok(v);
                    }
                }
                None => tried
                    .push("identity file: none given (--identity or VAULT_IDENTITY_FILE)".into()),
            }
            if method == UnlockMethod::Identity {
                return Err(nothing_worked(&tried, src.has_tty()));
            }
        }
        // Passphrase: file, else prompt on a terminal (three tries, as sudo gives).
        file.check()?;
        match &self.g.passphrase_file {
            Some(p) => {
                let pass = src.passphrase_file(p)?;
                if let Some(v) = attempt(Unlock::Passphrase(&pass), "passphrase", &mut tried)? {
                    return Ok(v);
                }
            }
            None if src.has_tty() => {
                for n in 1..=PROMPT_TRIES {
                    let pass = src.prompt()?;
                    match file.unlock(Unlock::Passphrase(&pass)) {
                        Ok(v) => return Ok(adopt(v, "passphrase")),
                        Err(Error::WrongPassphraseOrTamperedSlot) if n < PROMPT_TRIES => {
                            output::warn("wrong passphrase (or a modified slot); try again");
                        }
                        Err(e @ Error::WrongPassphraseOrTamperedSlot) => {
                            return Err(CliError::new(
                                code::UNLOCK,
                                format!("{e}: {PROMPT_TRIES} tries failed; nothing was changed"),
                            ))
                        }
                        Err(e @ Error::KdfParams(_)) => return Err(kdf_tampered(e)),
                        Err(e @ Error::NotEnoughMemory { .. }) => {
                            return Err(not_enough_memory(e, &tried))
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            None => tried.push("passphrase: no terminal to prompt on, and no --passphrase-file / VAULT_PASSPHRASE_FILE".into()),
        }
        Err(nothing_worked(&tried, src.has_tty()))
    }
}

/// Where each unlock method gets its material. [`Real`] reads the kernel session keyring, the
/// OS keyring, the files and the terminal; tests put fakes here to check the ladder's order.
pub(crate) trait Sources {
    /// The session cache of `vault unlock`.
    fn session(&self, vault_id: &str) -> Result<Option<SecretString>, String>;
    /// The keyring slot's wrapping key.
    fn keyring(&self, store: KeyringStore, vault_id: &str) -> Result<Zeroizing<[u8; 32]>, String>;
    /// An identity file.
    fn identity_file(&self, path: &Path) -> CliResult<SecretString>;
    /// A passphrase file.
    fn passphrase_file(&self, path: &Path) -> CliResult<SecretString>;
    /// Is there a terminal to prompt on?
    fn has_tty(&self) -> bool;
    /// One passphrase prompt.
    fn prompt(&self) -> CliResult<SecretString>;
}

/// The real sources.
pub(crate) struct Real;

impl Sources for Real {
    fn session(&self, vault_id: &str) -> Result<Option<SecretString>, String> {
        session::load(vault_id)
    }
    fn keyring(&self, store: KeyringStore, vault_id: &str) -> Result<Zeroizing<[u8; 32]>, String> {
        keyring::load(store, vault_id)
    }
    fn identity_file(&self, path: &Path) -> CliResult<SecretString> {
        read_identity(path)
    }
    fn passphrase_file(&self, path: &Path) -> CliResult<SecretString> {
        input::read_passphrase_file(path)
    }
    fn has_tty(&self) -> bool {
        input::has_tty()
    }
    fn prompt(&self) -> CliResult<SecretString> {
        input::prompt("Vault passphrase")
    }
}

/// KDF parameters beyond what any vault writes: the slot was tampered with (exit 4).
fn kdf_tampered(e: Error) -> CliError {
    CliError::new(
        code::INTEGRITY,
        format!("{e}: the passphrase slot asks for more work than any vault writes, so the file was probably tampered with; restore it from a backup"),
    )
}

/// How many times a terminal user may type the passphrase.
const PROMPT_TRIES: u32 = 3;

/// MemAvailable from /proc/meminfo (Linux), in KiB.
fn mem_available_kib() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    vault_core::kdf::parse_mem_available_kib(&text)
}

/// Not enough memory for the passphrase slot: exit 3, with what is needed, what is free and
/// the other ways in.
fn not_enough_memory(e: Error, tried: &[String]) -> CliError {
    let others = if tried.is_empty() {
        String::new()
    } else {
        format!(" (tried: {})", tried.join("; "))
    };
    CliError::new(
        code::UNLOCK,
        format!(
            "{e}{others}; free memory and try again, or unlock another way: --identity FILE, the keyring slot (`vault keyring enable`), or `vault unlock` for a session; once unlocked, `vault passwd --kdf-memory MIB` lowers the cost"
        ),
    )
}

fn nothing_worked(tried: &[String], on_tty: bool) -> CliError {
    if tried
        .iter()
        .any(|t| t.starts_with("passphrase: the passphrase slot needs"))
    {
        return CliError::new(
            code::UNLOCK,
            format!(
                "could not unlock the vault. Tried: {}. Free memory, or unlock with --identity FILE, the keyring slot or `vault unlock`; once unlocked, `vault passwd --kdf-memory MIB` lowers the cost",
                tried.join("; ")
            ),
        );
    }
    CliError::new(
        code::UNLOCK,
        format!(
            "could not unlock the vault. Tried: {}. {}",
            tried.join("; "),
            if on_tty {
                "Check the passphrase or identity given"
            } else {
                "Give --passphrase-file, --identity, or run on a terminal"
            }
        ),
    )
}

/// Reads an identity file (owner-only, or in systemd's $CREDENTIALS_DIRECTORY).
pub fn read_identity(path: &std::path::Path) -> CliResult<SecretString> {
    let bytes = zeroize::Zeroizing::new(
        vault_core::files::read_secure_in(
            path,
            crate::cli::env_path("CREDENTIALS_DIRECTORY").as_deref(),
        )
        .map_err(|e| {
            let c = CliError::from(e);
            CliError::new(c.code, format!("identity file: {}", c.message))
        })?,
    );
    Ok(vault_core::parse_identity_file(&bytes)?)
}

#[cfg(test)]
mod tests {
    //! The unlock ladder's order, with fake sources around a real vault file.

    use std::cell::RefCell;

    use super::*;
    use vault_core::kdf::KdfParams;

    const PASS: &str = "correct horse battery staple orbit";

    /// Records which source was asked, and answers as configured.
    #[derive(Default)]
    struct Fake {
        asked: RefCell<Vec<&'static str>>,
        session: Option<SecretString>,
        keyring: Option<Zeroizing<[u8; 32]>>,
        identity: Option<SecretString>,
        tty: bool,
        prompts: RefCell<Vec<&'static str>>,
    }

    impl Sources for Fake {
        fn session(&self, _: &str) -> Result<Option<SecretString>, String> {
            self.asked.borrow_mut().push("session");
            Ok(self.session.clone())
        }
        fn keyring(&self, _: KeyringStore, _: &str) -> Result<Zeroizing<[u8; 32]>, String> {
            self.asked.borrow_mut().push("keyring");
            self.keyring.clone().ok_or_else(|| "no entry".to_string())
        }
        fn identity_file(&self, _: &Path) -> CliResult<SecretString> {
            self.asked.borrow_mut().push("identity");
            self.identity
                .clone()
                .ok_or_else(|| CliError::other("no such file"))
        }
        fn passphrase_file(&self, _: &Path) -> CliResult<SecretString> {
            self.asked.borrow_mut().push("passphrase file");
            Ok(SecretString::from(PASS.to_string()))
        }
        fn has_tty(&self) -> bool {
            self.tty
        }
        fn prompt(&self) -> CliResult<SecretString> {
            self.asked.borrow_mut().push("prompt");
            let next = self.prompts.borrow_mut().remove(0);
            Ok(SecretString::from(next.to_string()))
        }
    }

    /// A vault in its own directory (removed on drop), and another vault's identity.
    struct Place {
        dir: PathBuf,
        vault: PathBuf,
        identity: SecretString,
        stranger: SecretString,
    }

    impl Drop for Place {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn place(name: &str, keyring: Option<&Zeroizing<[u8; 32]>>) -> Place {
        let dir = std::env::temp_dir().join(format!("vault-ctx-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let params = KdfParams {
            memory_kib: 64 * 1024,
            iterations: 3,
            lanes: 1,
        };
        let pass = SecretString::from(PASS.to_string());
        let opts = OpenOptions::new(dir.join("state"));
        let vault = dir.join("v").join("vault.age");
        let mut v = Vault::create(&vault, &pass, params, opts.clone()).expect("create");
        if let Some(k) = keyring {
            v.set_keyring_slot(KeyringStore::Keyutils, k).expect("slot");
        }
        let other =
            Vault::create(&dir.join("w").join("vault.age"), &pass, params, opts).expect("create");
        Place {
            identity: v.identity_secret().clone(),
            stranger: other.identity_secret().clone(),
            vault,
            dir,
        }
    }

    fn ctx(p: &Place, unlock: UnlockMethod, identity: bool, pass_file: bool) -> Ctx {
        Ctx {
            g: Global {
                vault: Some(p.vault.clone()),
                passphrase_file: pass_file.then(|| p.dir.join("pass")),
                identity: identity.then(|| p.dir.join("id")),
                unlock,
                accept_rollback: false,
                verbose: false,
            },
            vault_path: p.vault.clone(),
            state_dir: p.dir.join("state"),
        }
    }

    #[test]
    fn auto_tries_session_then_keyring_then_identity_then_passphrase_and_stops_at_the_first_that_works(
    ) {
        let key = Zeroizing::new([7u8; 32]);
        let p = place("order", Some(&key));
        // A session cache holding another vault's identity, a keyring without the entry, and
        // the right identity file: the identity unlocks; the passphrase is never read.
        let f = Fake {
            session: Some(p.stranger.clone()),
            identity: Some(p.identity.clone()),
            ..Fake::default()
        };
        let v = ctx(&p, UnlockMethod::Auto, true, true)
            .open_with(&f)
            .expect("unlock");
        assert_eq!(v.unlocked_by(), vault_core::UnlockedBy::Identity);
        assert_eq!(*f.asked.borrow(), ["session", "keyring", "identity"]);
        // The keyring entry present: it wins, and the identity file is not read.
        let f = Fake {
            keyring: Some(key.clone()),
            identity: Some(p.identity.clone()),
            ..Fake::default()
        };
        let v = ctx(&p, UnlockMethod::Auto, true, true)
            .open_with(&f)
            .expect("unlock");
        assert_eq!(v.unlocked_by(), vault_core::UnlockedBy::Keyring);
        assert_eq!(*f.asked.borrow(), ["session", "keyring"]);
        // Nothing else works: the passphrase file last.
        let f = Fake::default();
        let v = ctx(&p, UnlockMethod::Auto, false, true)
            .open_with(&f)
            .expect("unlock");
        assert_eq!(v.unlocked_by(), vault_core::UnlockedBy::Passphrase);
        assert_eq!(*f.asked.borrow(), ["session", "keyring", "passphrase file"]);
    }

    #[test]
    fn a_named_method_is_the_only_one_asked() {
        let p = place("named", None);
        let f = Fake {
            session: Some(p.identity.clone()),
            identity: Some(p.identity.clone()),
            ..Fake::default()
        };
        let v = ctx(&p, UnlockMethod::Passphrase, true, true)
            .open_with(&f)
            .expect("unlock");
        assert_eq!(v.unlocked_by(), vault_core::UnlockedBy::Passphrase);
        assert_eq!(*f.asked.borrow(), ["passphrase file"]);
        // --unlock identity without an identity: exit 3, nothing else asked.
        let f = Fake {
            session: Some(p.identity.clone()),
            ..Fake::default()
        };
        let e = ctx(&p, UnlockMethod::Identity, false, true)
            .open_with(&f)
            .expect_err("no identity");
        assert_eq!(e.code, code::UNLOCK);
        assert!(f.asked.borrow().is_empty(), "{:?}", f.asked.borrow());
    }

    #[test]
    fn a_terminal_gets_three_tries_then_exit_3() {
        let p = place("tty", None);
        let f = Fake {
            tty: true,
            prompts: RefCell::new(vec!["wrong one", "wrong two", PASS]),
            ..Fake::default()
        };
        let v = ctx(&p, UnlockMethod::Passphrase, false, false)
            .open_with(&f)
            .expect("third try");
        assert_eq!(v.unlocked_by(), vault_core::UnlockedBy::Passphrase);
        assert_eq!(f.asked.borrow().len(), 3);
        let f = Fake {
            tty: true,
            prompts: RefCell::new(vec!["wrong one", "wrong two", "wrong three"]),
            ..Fake::default()
        };
        let e = ctx(&p, UnlockMethod::Passphrase, false, false)
            .open_with(&f)
            .expect_err("three wrong");
        assert_eq!(e.code, code::UNLOCK);
        assert!(e.message.contains("3 tries"), "{}", e.message);
        assert_eq!(f.asked.borrow().len(), 3);
    }

    #[test]
    fn a_damaged_file_asks_no_keyring_and_no_person() {
        // The ladder reads with `read_to_unlock`: the checksum must still be checked before a
        // keyring or a terminal is asked for anything.
        let key = Zeroizing::new([7u8; 32]);
        let p = place("damaged", Some(&key));
        let mut bytes = std::fs::read(&p.vault).expect("read");
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x01;
        std::fs::write(&p.vault, &bytes).expect("write");
        let f = Fake {
            keyring: Some(key.clone()),
            tty: true,
            prompts: RefCell::new(vec![PASS]),
            ..Fake::default()
        };
        let e = ctx(&p, UnlockMethod::Auto, false, false)
            .open_with(&f)
            .expect_err("damaged");
        assert!(e.message.contains("checksum"), "{}", e.message);
        assert_eq!(*f.asked.borrow(), vec!["session"]);
    }
}
