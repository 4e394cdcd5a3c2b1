//! Paths and the unlock ladder shared by every command.
//!
//! `--unlock auto` tries, in order: the session cache, the keyring slot (if the vault has
//! one), the identity file (if given), the passphrase (file, or a prompt on a terminal).
//! Never silent: `-v` says which method worked, and every method that failed says why.

use std::path::PathBuf;

use secrecy::SecretString;
use vault_core::{Error, OpenOptions, Unlock, Vault, VaultFile};

use crate::cli::{Global, UnlockMethod};
use crate::error::{code, CliError, CliResult};
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
        Ok(VaultFile::read(&self.vault_path, self.opts())?)
    }

    /// Opens and unlocks the vault by the ladder.
    pub fn open(&self) -> CliResult<Vault> {
        let file = self.read_file()?;
        let vault_id = hex::encode(file.header().vault_id);
        let keyring_store = file.keyring_store();
        let method = self.g.unlock;
        let auto = method == UnlockMethod::Auto;
        let mut tried: Vec<String> = Vec::new();

        // Every attempt uses the one checked file: no method re-reads or re-hashes it.
        let attempt = |how: Unlock<'_>,
                       name: &str,
                       tried: &mut Vec<String>|
         -> CliResult<Option<Vault>> {
            match file.unlock(how) {
                Ok(v) => {
                    if self.g.verbose {
                        output::note(&format!("unlocked with the {name}"));
                    }
                    for w in v.warnings() {
                        output::warn(w);
                    }
                    Ok(Some(v))
                }
                Err(e) if matches!(e.kind(), vault_core::ErrorKind::Unlock) => {
                    tried.push(format!("{name}: {e}"));
                    if !auto {
                        return Err(e.into());
                    }
                    output::warn(&format!("{name} did not unlock the vault: {e}"));
                    Ok(None)
                }
                Err(e @ Error::KdfParams(_)) => Err(CliError::new(
                    code::INTEGRITY,
                    format!("{e}: the passphrase slot asks for more work than any vault writes, so the file was probably tampered with; restore it from a backup"),
                )),
                Err(e) => Err(e.into()),
            }
        };

        if auto || method == UnlockMethod::Session {
            match session::load(&vault_id) {
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
                return Err(nothing_worked(&tried));
            }
        }
        if auto || method == UnlockMethod::Keyring {
            let store = keyring_store;
            match store {
                Some(store) => match keyring::load(store, &vault_id) {
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
                return Err(nothing_worked(&tried));
            }
        }
        if auto || method == UnlockMethod::Identity {
            match &self.g.identity {
                Some(path) => {
                    let id = read_identity(path)?;
                    if let Some(v) = attempt(Unlock::Identity(&id), "identity file", &mut tried)? {
                        return Ok(v);
                    }
                }
                None => tried
                    .push("identity file: none given (--identity or VAULT_IDENTITY_FILE)".into()),
            }
            if method == UnlockMethod::Identity {
                return Err(nothing_worked(&tried));
            }
        }
        // Passphrase: file, else prompt on a terminal (three tries, as sudo gives).
        match &self.g.passphrase_file {
            Some(p) => {
                let pass = input::read_passphrase_file(p)?;
                if let Some(v) = attempt(Unlock::Passphrase(&pass), "passphrase", &mut tried)? {
                    return Ok(v);
                }
            }
            None if input::has_tty() => {
                for n in 1..=PROMPT_TRIES {
                    let pass = input::prompt("Vault passphrase")?;
                    match file.unlock(Unlock::Passphrase(&pass)) {
                        Ok(v) => {
                            if self.g.verbose {
                                output::note("unlocked with the passphrase");
                            }
                            for w in v.warnings() {
                                output::warn(w);
                            }
                            return Ok(v);
                        }
                        Err(Error::WrongPassphraseOrTamperedSlot) if n < PROMPT_TRIES => {
                            output::warn("wrong passphrase (or a modified slot); try again");
                        }
                        Err(e @ Error::WrongPassphraseOrTamperedSlot) => {
                            return Err(CliError::new(
                                code::UNLOCK,
                                format!("{e}: {PROMPT_TRIES} tries failed; nothing was changed"),
                            ))
                        }
                        Err(e @ Error::KdfParams(_)) => {
                            return Err(CliError::new(
                                code::INTEGRITY,
                                format!("{e}: the passphrase slot asks for more work than any vault writes, so the file was probably tampered with; restore it from a backup"),
                            ))
                        }
                        Err(e @ Error::NotEnoughMemory { .. }) => {
                            return Err(not_enough_memory(e, &tried))
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            None => tried.push("passphrase: no terminal to prompt on, and no --passphrase-file / VAULT_PASSPHRASE_FILE".into()),
        }
        Err(nothing_worked(&tried))
    }
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

fn nothing_worked(tried: &[String]) -> CliError {
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
    let on_tty = input::has_tty();
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
        vault_core::store::read_secure_in(
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
