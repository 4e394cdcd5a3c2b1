//! The façade: [`VaultFile`] (read, checked, still locked) and [`Vault`] (unlocked).
//!
//! - `crypto`: the identity and its derived keys, slot wrapping, the age body, fingerprints;
//!   `agebody` decrypts the body in one pass (age parses its header and unwraps the key);
//! - `file`: reading, checking and unlocking a file, and the rollback check;
//! - `txn`: the one transaction every write goes through ([`Vault::commit`](txn));
//! - `bots`: bot operations; `slots`: passphrase, keyring and rekey.
//!
//! This module holds the public types and the read-only accessors.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use age::secrecy::SecretString;
use zeroize::Zeroizing;

use crate::audit_log;
use crate::error::{Error, Result};
use crate::format::{self, Header, KeyringStore};
use crate::kdf::KdfParams;
use crate::model::{Body, Bot, BODY_FORMAT};
use crate::secret::SecretValue;
use crate::store;

mod agebody;
mod bots;
mod crypto;
mod file;
mod slots;
mod txn;

pub use bots::SetBot;
pub use crypto::parse_identity_file;
pub use file::VaultFile;

use bots::fingerprint_owner;
use crypto::{fingerprint, passphrase_slot, random, Keys};
use file::{read_vault_bytes, FileMark};
use txn::Change;

/// How to open a vault.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Where the rollback record lives (e.g. `$XDG_STATE_HOME/vault`).
    pub state_dir: PathBuf,
    /// Open a file older than the last one seen here.
    pub accept_rollback: bool,
    /// How long a writer waits for the lock.
    pub lock_timeout: Duration,
    /// The machine's MemAvailable in KiB, if known: a passphrase slot whose KDF needs more
    /// than half of it is [`Error::NotEnoughMemory`] rather than an allocation failure. The
    /// library reads no /proc itself; the CLI fills this in.
    pub memory_available_kib: Option<u64>,
}

impl OpenOptions {
    /// Defaults: no rollback accepted, a 10 s lock wait, memory unknown (only the absolute
    /// KDF ceiling applies).
    pub fn new(state_dir: impl Into<PathBuf>) -> Self {
        OpenOptions {
            state_dir: state_dir.into(),
            accept_rollback: false,
            lock_timeout: Duration::from_secs(10),
            memory_available_kib: None,
        }
    }
}

/// One way to unlock.
pub enum Unlock<'a> {
    /// A passphrase, through the passphrase slot.
    Passphrase(&'a SecretString),
    /// The age identity itself (`AGE-SECRET-KEY-1...`), from a file or the session cache.
    Identity(&'a SecretString),
    /// A 32-byte wrapping key from the OS keyring, through the keyring slot.
    KeyringKey(&'a Zeroizing<[u8; 32]>),
}

/// Which method unlocked the vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnlockedBy {
    /// The passphrase slot.
    Passphrase,
    /// An identity (file or session cache).
    Identity,
    /// The keyring slot.
    Keyring,
    /// Just created.
    Created,
}

/// Appends to one vault's audit log after the vault is closed. Holds the log key only (which
/// can add entries, not read a secret); Debug shows the path alone.
pub struct LogHandle {
    path: PathBuf,
    key: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for LogHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogHandle")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl LogHandle {
    /// Appends one entry (not fsynced, like `run`'s own).
    pub fn append(&self, op: &str, bot: Option<&str>, detail: Option<String>) -> Result<()> {
        audit_log::append(&self.path, &self.key, entry(op, bot, None, detail), false).map(|_| ())
    }
}

/// An unlocked vault.
pub struct Vault {
    path: PathBuf,
    opts: OpenOptions,
    keys: Keys,
    header: Header,
    body: Body,
    unlocked_by: UnlockedBy,
    warnings: Vec<String>,
    /// The file as last read or written (length and checksum), `None` before the first write:
    /// a writer that finds the same mark on disk starts from `header` and `body` (txn.rs).
    file_mark: Option<FileMark>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("path", &self.path)
            .field("generation", &self.header.generation)
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// Creates a new vault at `path` (never overwrites) with one passphrase slot.
    pub fn create(
        path: &Path,
        passphrase: &SecretString,
        params: KdfParams,
        opts: OpenOptions,
    ) -> Result<Vault> {
        params.check_floor()?;
        if std::fs::symlink_metadata(path).is_ok() {
            return Err(Error::AlreadyExists(path.to_path_buf()));
        }
        let dir = store::parent_dir(path);
        store::create_private_dir(&dir)?;
        store::check_directory(&dir)?;
        let keys = Keys::generate();
        let vault_id = random::<16>()?;
        let slot = passphrase_slot(
            &vault_id,
            passphrase,
            params,
            &keys.identity_str,
            opts.memory_available_kib,
        )?;
        let header = Header {
            vault_id,
            generation: 0,
            log_count: 0,
            log_head: [0; 32],
            recipient: keys.recipient().to_string(),
            slots: vec![slot],
        };
        let body = Body {
            format: BODY_FORMAT,
            fingerprint_key: SecretValue::new(hex::encode(random::<32>()?)),
            log_key: SecretValue::new(hex::encode(random::<32>()?)),
            bots: BTreeMap::new(),
            retired_fingerprints: vec![],
            exported_files: vec![],
            fleet: None,
        };
        let mut v = Vault {
            path: path.to_path_buf(),
            opts,
            keys,
            header,
            body,
            unlocked_by: UnlockedBy::Created,
            warnings: vec![],
            file_mark: None,
        };
        v.commit(
            Change {
                init: true,
                ..Change::vault("init")
            },
            |_| Ok(()),
        )?;
        Ok(v)
    }

    /// Opens and unlocks in one step.
    pub fn open(path: &Path, how: Unlock<'_>, opts: OpenOptions) -> Result<Vault> {
        VaultFile::read(path, opts)?.unlock(how)
    }

    /// Warnings from opening (first use, accepted rollback).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
    /// How it was unlocked.
    pub fn unlocked_by(&self) -> UnlockedBy {
        self.unlocked_by
    }
    /// The vault's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// The header as last read or written.
    pub fn header(&self) -> &Header {
        &self.header
    }
    /// The passphrase slot's KDF parameters, if there is one.
    pub fn kdf_params(&self) -> Option<KdfParams> {
        self.header.passphrase_slot().map(|p| p.params)
    }
    /// The keyring slot's store, if there is one.
    pub fn keyring_store(&self) -> Option<KeyringStore> {
        self.header.keyring_slot().map(|k| k.store)
    }
    /// The vault id, hex.
    pub fn vault_id_hex(&self) -> String {
        hex::encode(self.header.vault_id)
    }
    /// The age recipient of the body.
    pub fn recipient(&self) -> &str {
        &self.header.recipient
    }
    /// For a process about to exit: wipes every secret this vault holds where it lies (every
    /// bot's credentials and extra secrets, the body's keys; the identity is dropped, which
    /// wipes it), then leaves the rest (names, metadata, the maps holding them) to the exit,
    /// which returns all of a process's memory at once. Freeing a 2,000-bot vault block by
    /// block (tens of thousands of them, merged back as they go) is a measurable part of a
    /// `list`; nothing secret is left behind either way. Not for a process that goes on: what
    /// is left is never freed.
    pub fn wipe_and_leak(self) {
        let Vault { keys, body, .. } = self;
        drop(keys);
        let mut body = std::mem::ManuallyDrop::new(body);
        body.fingerprint_key.wipe();
        body.log_key.wipe();
        // A bot shared with another holder (a write's copy) is dropped here as usual: the
        // last holder frees it, which wipes it.
        body.bots.retain(|_, bot| match Arc::get_mut(bot) {
            Some(only) => {
                only.wipe_secrets();
                true
            }
            None => false,
        });
    }

    /// The identity itself (export, session cache). Handle with care.
    pub fn identity_secret(&self) -> &SecretString {
        &self.keys.identity_str
    }
    /// The age body exactly as stored: a standard age file for this vault's identity.
    pub fn export_age(&self) -> Result<Vec<u8>> {
        let bytes = read_vault_bytes(&self.path)?;
        Ok(format::parse(&bytes)?.body.to_vec())
    }

    /// All bots, by name.
    pub fn bots(&self) -> impl Iterator<Item = &Bot> {
        self.body.bots.values().map(|b| &**b)
    }
    /// One bot.
    pub fn bot(&self, name: &str) -> Result<&Bot> {
        self.body
            .bots
            .get(name)
            .map(|b| &**b)
            .ok_or_else(|| Error::NoSuchBot(name.to_string()))
    }
    /// The fleet record, if `vault fleet init` made one.
    pub fn fleet(&self) -> Option<&crate::model::Fleet> {
        self.body.fleet.as_ref()
    }
    /// Files this vault exported.
    pub fn exported_files(&self) -> &[String] {
        &self.body.exported_files
    }

    /// HMAC-SHA256 of an API key under the vault's fingerprint key, hex.
    pub fn fingerprint(&self, api_key: &str) -> String {
        fingerprint(&self.body, api_key)
    }

    /// Is this fingerprint known (any bot, any history entry, any tombstone, any removed bot)?
    pub fn fingerprint_known(&self, fp: &str) -> Option<String> {
        fingerprint_owner(&self.body, fp)
    }

    /// Checks the audit log against the anchor in the header.
    pub fn verify_log(&self) -> audit_log::Verified {
        audit_log::verify(
            &audit_log::log_path(&self.path),
            self.body.log_key.expose().as_bytes(),
            self.header.log_count,
            &self.header.log_head,
        )
    }

    /// Appends to the audit log without writing the vault (run, verify, export, ...).
    /// What appending to the audit log later needs, once the vault itself is dropped (a
    /// supervisor logs the bot's exit status): the log's path and key, nothing else.
    pub fn log_handle(&self) -> LogHandle {
        LogHandle {
            path: audit_log::log_path(&self.path),
            key: Zeroizing::new(self.body.log_key.expose().as_bytes().to_vec()),
        }
    }

    /// Appends one entry to the audit log without writing the vault.
    pub fn log_only(&self, op: &str, bot: Option<&str>, detail: Option<String>) -> Result<()> {
        let fp = bot
            .and_then(|b| self.body.bots.get(b))
            .map(|b| short_fp(&b.fingerprint));
        audit_log::append(
            &audit_log::log_path(&self.path),
            self.body.log_key.expose().as_bytes(),
            entry(op, bot, fp, detail),
            false,
        )
        .map(|_| ())
    }
}

fn entry(
    op: &str,
    bot: Option<&str>,
    fp: Option<String>,
    detail: Option<String>,
) -> audit_log::Entry {
    audit_log::Entry {
        seq: 0,
        time: audit_log::now_string(),
        op: op.to_string(),
        bot: bot.map(str::to_string),
        fingerprint: fp,
        detail,
    }
}

/// The short form of a fingerprint shown to people.
pub fn short_fp(fp: &str) -> String {
    short_fp_str(fp).to_string()
}

/// [`short_fp`] without a copy: its first 12 characters.
pub fn short_fp_str(fp: &str) -> &str {
    fp.char_indices().nth(12).map_or(fp, |(i, _)| &fp[..i])
}

/// `agebody::decrypt` for an identity string: the plaintext or the refusal.
#[cfg(feature = "internals")]
pub fn decrypt_age_body(identity: &SecretString, body: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    agebody::decrypt(&crypto::Keys::from_str(identity)?.identity, body)
        .map(crate::secret::WipedBytes::into_zeroizing)
}
