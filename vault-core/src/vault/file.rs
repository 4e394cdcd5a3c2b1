//! Reading and unlocking: [`VaultFile`] is a file read from disk and checked (directory,
//! permissions, magic, checksum, structure), and `unlock` turns it into a [`Vault`] with one
//! slot. The rollback check against this machine's generation record lives here too.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use age::secrecy::ExposeSecret;

use super::crypto::{open_with, unwrap, Keys};
use super::{OpenOptions, Unlock, UnlockedBy, Vault};
use crate::error::{Error, Result};
use crate::format::{self, Header, KeyringStore};
use crate::kdf::KdfParams;
use crate::store::{self, GenerationRecord};

/// A vault file read from disk and checked (magic, checksum, structure), not yet unlocked.
pub struct VaultFile {
    path: PathBuf,
    opts: OpenOptions,
    bytes: Vec<u8>,
    header: Header,
    /// Whether the checksum holds: known from the start for [`VaultFile::read`], found by the
    /// first [`VaultFile::unlock`] for [`VaultFile::read_to_unlock`].
    checksum: OnceLock<bool>,
}

impl std::fmt::Debug for VaultFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultFile")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// What tells a file this `Vault` read or wrote: its length and its last 32 bytes, the
/// checksum (which `format::parse` checked against the content). Every write makes a new
/// checksum, since the generation in the header grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FileMark {
    len: u64,
    sum: [u8; 32],
}

/// The mark of bytes that passed `format::parse`.
pub(super) fn file_mark(bytes: &[u8]) -> FileMark {
    let mut sum = [0u8; 32];
    if let Some(tail) = bytes.len().checked_sub(32).map(|i| &bytes[i..]) {
        sum.copy_from_slice(tail);
    }
    FileMark {
        len: bytes.len() as u64,
        sum,
    }
}

/// The mark of the file at `path` now, read with the checks of [`read_vault_bytes`] but
/// without reading the rest of the file.
pub(super) fn read_vault_mark(path: &Path) -> Result<FileMark> {
    let (len, sum) = store::len_and_last_32(path).map_err(not_found)?;
    store::check_directory(&store::parent_dir(path))?;
    Ok(FileMark { len, sum })
}

fn not_found(e: Error) -> Error {
    match e {
        Error::FileNotFound(p) => Error::NotFound(p),
        e => e,
    }
}

/// Reads the vault file: its directory must be ours and not writable by others (checked at
/// every open, not only at init), the file a regular owner-only file; a missing file is
/// "no vault", not a missing key file.
pub(super) fn read_vault_bytes(path: &Path) -> Result<Vec<u8>> {
    let bytes = store::read_secure(path).map_err(not_found)?;
    store::check_directory(&store::parent_dir(path))?;
    Ok(bytes)
}

impl VaultFile {
    /// Reads `path` (no symlinks, owner-only permissions, a directory of our own) and checks
    /// magic, checksum and structure. No key, no KDF.
    pub fn read(path: &Path, opts: OpenOptions) -> Result<VaultFile> {
        VaultFile::from_bytes(path, read_vault_bytes(path)?, opts)
    }

    /// As [`VaultFile::read`], for a caller about to unlock: the checksum is checked by the
    /// first [`VaultFile::unlock`], beside the MAC while the body decrypts, instead of before
    /// this returns, which on a large vault saves the time of one hash of the file. A
    /// damaged file fails that `unlock` with the error `read` gives, whatever else is wrong.
    /// Until then [`VaultFile::header`] is the header as found: public information either
    /// way (the checksum tells damage, not forgery; the MAC does that).
    pub fn read_to_unlock(path: &Path, opts: OpenOptions) -> Result<VaultFile> {
        let bytes = read_vault_bytes(path)?;
        let header = match format::reparse(&bytes) {
            Ok(parsed) => parsed.header,
            // What `read` says of a file that is wrong in more than one way.
            Err(_) => return VaultFile::from_bytes(path, bytes, opts),
        };
        Ok(VaultFile {
            path: path.to_path_buf(),
            opts,
            bytes,
            header,
            checksum: OnceLock::new(),
        })
    }

    /// Checks bytes already in memory as if read from `path` (fuzzing, tests, backups).
    pub fn from_bytes(path: &Path, bytes: Vec<u8>, opts: OpenOptions) -> Result<VaultFile> {
        let header = format::parse(&bytes)?.header;
        Ok(VaultFile {
            path: path.to_path_buf(),
            opts,
            bytes,
            header,
            checksum: OnceLock::from(true),
        })
    }

    /// Whether the checksum holds, hashing the file the first time only.
    fn checksum_holds(&self) -> bool {
        *self
            .checksum
            .get_or_init(|| format::checksum_holds(&self.bytes))
    }

    /// Checks the checksum now, if [`VaultFile::read_to_unlock`] left it for later (nothing
    /// to do after [`VaultFile::read`]): before asking a person or a keyring for anything.
    pub fn check(&self) -> Result<()> {
        if self.checksum_holds() {
            Ok(())
        } else {
            Err(format::CHECKSUM_MISMATCH)
        }
    }

    /// The header (public information).
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The vault's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The passphrase slot's KDF parameters, if there is one.
    pub fn kdf_params(&self) -> Option<KdfParams> {
        self.header.passphrase_slot().map(|p| p.params)
    }

    /// The keyring slot's store, if there is one.
    pub fn keyring_store(&self) -> Option<KeyringStore> {
        self.header.keyring_slot().map(|k| k.store)
    }

    /// Unlocks with one method. A file whose checksum does not hold fails with the error
    /// [`VaultFile::read`] gives it, before any other.
    pub fn unlock(&self, how: Unlock<'_>) -> Result<Vault> {
        match self.unlock_checked(how) {
            Err(_) if !self.checksum_holds() => Err(format::CHECKSUM_MISMATCH),
            r => r,
        }
    }

    fn unlock_checked(&self, how: Unlock<'_>) -> Result<Vault> {
        // Only the identity path hashes beside the MAC: a passphrase or keyring key is not
        // spent (a KDF, a keyring prompt) on a damaged file.
        if !matches!(how, Unlock::Identity(_)) {
            self.check()?;
        }
        let vault_id = self.header.vault_id;
        // Unwraps the identity from one slot with its key-encryption key.
        let open_slot = |ty: u8, kek: &[u8; 32], wrong: fn() -> Error| -> Result<Keys> {
            let slot = self.header.slot(ty).ok_or_else(wrong)?;
            let id = unwrap(
                kek,
                slot.nonce(),
                &format::slot_aad(&vault_id, slot),
                slot.ciphertext(),
            )
            .ok_or_else(wrong)?;
            Keys::from_str(&id).map_err(|_| wrong())
        };
        let (keys, by) = match how {
            Unlock::Passphrase(pass) => {
                let p = self
                    .header
                    .passphrase_slot()
                    .ok_or(Error::NoSlot("passphrase"))?;
                // Bounded before any allocation (a hostile slot cannot ask for 64 GiB), and
                // a cost this machine cannot pay now is said as such, not as tampering.
                p.params.check_ceiling()?;
                p.params.check_fits(self.opts.memory_available_kib)?;
                let kek = p.params.derive(pass.expose_secret().as_bytes(), &p.salt)?;
                let wrong = || Error::WrongPassphraseOrTamperedSlot;
                (
                    open_slot(format::SLOT_PASSPHRASE, &kek, wrong)?,
                    UnlockedBy::Passphrase,
                )
            }
            Unlock::KeyringKey(key) => {
                if self.header.keyring_slot().is_none() {
                    return Err(Error::NoSlot("keyring"));
                }
                (
                    open_slot(format::SLOT_KEYRING, key, || Error::WrongKeyringKey)?,
                    UnlockedBy::Keyring,
                )
            }
            Unlock::Identity(id) => {
                let keys = Keys::from_str(id)?;
                if keys.recipient() != self.header.recipient {
                    return Err(Error::WrongIdentity);
                }
                (keys, UnlockedBy::Identity)
            }
        };
        let parsed = format::reparse(&self.bytes)?;
        // Beside the MAC, when `read_to_unlock` left the checksum to us (found and recorded
        // there).
        let pending = self.checksum.get().is_none();
        let body = open_with(&keys, &parsed, pending.then_some(&self.checksum))?;
        let mut warnings = Vec::new();
        match check_rollback(&self.opts, &self.header, &mut warnings) {
            Ok(()) => Ok(Vault {
                path: self.path.clone(),
                opts: self.opts.clone(),
                keys,
                header: self.header.clone(),
                body,
                unlocked_by: by,
                warnings,
                file_mark: Some(file_mark(&self.bytes)),
            }),
            // A writer may have replaced the file and raised the record between our read and
            // our check. Writers record the generation before they release the writer lock,
            // so under that lock the file and the record agree: read again there, and only
            // an older file *then* is a rollback.
            Err(Error::RolledBack { .. }) => self.reopen_under_lock(keys, by),
            Err(e) => Err(e),
        }
    }

    fn reopen_under_lock(&self, keys: Keys, by: UnlockedBy) -> Result<Vault> {
        let _lock = store::lock(&self.path, self.opts.lock_timeout)?;
        let bytes = read_vault_bytes(&self.path)?;
        let parsed = format::parse(&bytes)?;
        if keys.recipient() != parsed.header.recipient {
            return Err(Error::ConcurrentRekey);
        }
        let body = open_with(&keys, &parsed, None)?;
        let mut warnings = Vec::new();
        check_rollback(&self.opts, &parsed.header, &mut warnings)?;
        Ok(Vault {
            path: self.path.clone(),
            opts: self.opts.clone(),
            keys,
            header: parsed.header,
            body,
            unlocked_by: by,
            warnings,
            file_mark: Some(file_mark(&bytes)),
        })
    }
}

/// Refuses a file older than the highest generation recorded on this machine, unless
/// `accept_rollback`; returns the record. Readers ([`check_rollback`]) and writers (the
/// re-read under the lock) both go through it.
pub(super) fn refuse_rollback(opts: &OpenOptions, header: &Header) -> Result<Option<u64>> {
    let seen = GenerationRecord::new(&opts.state_dir).load(&header.vault_id)?;
    match seen {
        Some(seen) if header.generation < seen && !opts.accept_rollback => Err(Error::RolledBack {
            found: header.generation,
            seen,
        }),
        _ => Ok(seen),
    }
}

/// A reader's rollback check: [`refuse_rollback`], then a warning for an accepted rollback or
/// a first sight, and the generation recorded when it is new here.
pub(super) fn check_rollback(
    opts: &OpenOptions,
    header: &Header,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let seen = refuse_rollback(opts, header)?;
    match seen {
        Some(seen) if header.generation < seen => warnings.push(format!(
            "opened an older vault (generation {} < {seen}) because --accept-rollback was given",
            header.generation
        )),
        Some(_) => {}
        None => warnings.push(
            "first time this vault is seen on this machine: its generation is now recorded (trust on first use)"
                .into(),
        ),
    }
    // A failure to record is not fatal for reading, but say so.
    if seen.is_some_and(|s| s >= header.generation) {
        return Ok(());
    }
    if let Err(e) =
        GenerationRecord::new(&opts.state_dir).store(&header.vault_id, header.generation)
    {
        warnings.push(format!("could not record the vault generation: {e}"));
    }
    Ok(())
}
