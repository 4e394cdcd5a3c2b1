//! The façade: [`VaultFile`] (read, checked, still locked) and [`Vault`] (unlocked).
//!
//! Every write goes through [`Vault::update`]: take the writer lock, re-read the file from
//! disk, verify it with the identity we already hold, apply the change to that fresh copy,
//! bump the generation, write atomically, record the generation. So concurrent writers never
//! lose an update, and any one unlock method is enough to write: slots are carried over
//! byte for byte, never re-wrapped on an ordinary write.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use age::secrecy::{ExposeSecret, SecretString};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::audit_log;
use crate::error::{Error, Result};
use crate::format::{self, Header, KeyringSlot, PassphraseSlot, Slot};
use crate::kdf::{KdfParams, SALT_LEN};
use crate::model::{
    validate_bot_name, validate_env_name, validate_ip, Body, Bot, EnvProfile, HistoryEntry, NewBot,
    NewKey, Status, VerifyResult, Withdrawals, BODY_FORMAT,
};
use crate::secret::SecretValue;
use crate::store::{self, GenerationRecord};

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

/// A vault file read from disk and checked (magic, checksum, structure), not yet unlocked.
pub struct VaultFile {
    path: PathBuf,
    opts: OpenOptions,
    bytes: Vec<u8>,
    header: Header,
}

impl std::fmt::Debug for VaultFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultFile")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The identity with its derived keys.
struct Keys {
    identity: age::x25519::Identity,
    identity_str: SecretString,
}

impl Keys {
    fn from_str(s: &SecretString) -> Result<Keys> {
        let identity = age::x25519::Identity::from_str(s.expose_secret().trim())
            .map_err(|_| Error::WrongIdentity)?;
        Ok(Keys {
            identity_str: identity.to_string(),
            identity,
        })
    }
    fn generate() -> Keys {
        let identity = age::x25519::Identity::generate();
        Keys {
            identity_str: identity.to_string(),
            identity,
        }
    }
    fn recipient(&self) -> String {
        self.identity.to_public().to_string()
    }
    fn mac(&self, vault_id: &[u8]) -> Hmac<Sha256> {
        let hk =
            hkdf::Hkdf::<Sha256>::new(Some(vault_id), self.identity_str.expose_secret().as_bytes());
        let mut k = Zeroizing::new([0u8; 32]);
        hk.expand(b"vault/v1 trailer mac", k.as_mut())
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        <Hmac<Sha256> as Mac>::new_from_slice(k.as_ref()).expect("HMAC takes any key length")
    }
}

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b)
        .map_err(|_| Error::Crypto("the operating system gave no randomness"))?;
    Ok(b)
}

fn wrap(kek: &[u8; 32], nonce: &[u8; 24], aad: &[u8], identity: &SecretString) -> Result<Vec<u8>> {
    XChaCha20Poly1305::new(kek.into())
        .encrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: identity.expose_secret().as_bytes(),
                aad,
            },
        )
        .map_err(|_| Error::Crypto("XChaCha20-Poly1305 encryption failed"))
}

fn unwrap(kek: &[u8; 32], nonce: &[u8; 24], aad: &[u8], ct: &[u8]) -> Option<SecretString> {
    let pt = Zeroizing::new(
        XChaCha20Poly1305::new(kek.into())
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad })
            .ok()?,
    );
    let s = std::str::from_utf8(&pt).ok()?;
    Some(SecretString::from(s.to_string()))
}

fn passphrase_slot(
    vault_id: &[u8; 16],
    pass: &SecretString,
    params: KdfParams,
    identity: &SecretString,
    memory_available_kib: Option<u64>,
) -> Result<Slot> {
    params.check_floor()?;
    params.check_fits(memory_available_kib)?;
    let salt = random::<SALT_LEN>()?;
    let nonce = random::<24>()?;
    let kek = params.derive(pass.expose_secret().as_bytes(), &salt)?;
    let mut slot = Slot::Passphrase(PassphraseSlot {
        params,
        salt,
        nonce,
        ciphertext: vec![],
    });
    let ct = wrap(&kek, &nonce, &format::slot_aad(vault_id, &slot), identity)?;
    if let Slot::Passphrase(p) = &mut slot {
        p.ciphertext = ct;
    }
    Ok(slot)
}

fn keyring_slot(
    vault_id: &[u8; 16],
    store: u8,
    key: &[u8; 32],
    identity: &SecretString,
) -> Result<Slot> {
    let nonce = random::<24>()?;
    let mut slot = Slot::Keyring(KeyringSlot {
        store,
        nonce,
        ciphertext: vec![],
    });
    let ct = wrap(key, &nonce, &format::slot_aad(vault_id, &slot), identity)?;
    if let Slot::Keyring(k) = &mut slot {
        k.ciphertext = ct;
    }
    Ok(slot)
}

/// Serializes the body into zeroizing memory sized exactly, so no reallocation leaves a copy.
fn body_plaintext(body: &Body) -> Result<Zeroizing<Vec<u8>>> {
    struct Count(usize);
    impl Write for Count {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    serde_json::to_writer(&mut c, body).map_err(|e| Error::InvalidInput(e.to_string()))?;
    let mut buf = Zeroizing::new(Vec::with_capacity(c.0));
    serde_json::to_writer(&mut *buf, body).map_err(|e| Error::InvalidInput(e.to_string()))?;
    Ok(buf)
}

fn encrypt_body(keys: &Keys, plaintext: &[u8]) -> Result<Vec<u8>> {
    let recipient = keys.identity.to_public();
    let enc = age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
        .map_err(|_| Error::Crypto("age encryption failed"))?;
    let mut out = Vec::with_capacity(plaintext.len() + 512);
    let mut w = enc
        .wrap_output(&mut out)
        .map_err(|_| Error::Crypto("age encryption failed"))?;
    w.write_all(plaintext)
        .and_then(|_| w.finish().map(|_| ()))
        .map_err(|_| Error::Crypto("age encryption failed"))?;
    Ok(out)
}

/// Verifies the trailer MAC over the exact bytes read, then decrypts and parses the body.
fn open_with(keys: &Keys, parsed: &format::Parsed<'_>) -> Result<Body> {
    let mut mac = keys.mac(&parsed.header.vault_id);
    mac.update(parsed.mac_input);
    mac.verify_slice(parsed.mac).map_err(|_| Error::Tampered)?;
    if keys.recipient() != parsed.header.recipient {
        return Err(Error::Tampered);
    }
    let dec = age::Decryptor::new_buffered(parsed.body).map_err(|_| Error::Tampered)?;
    let mut r = dec
        .decrypt(std::iter::once(&keys.identity as &dyn age::Identity))
        .map_err(|_| Error::Tampered)?;
    // The whole body is decrypted and its final chunk verified before anything is parsed.
    let mut pt = Zeroizing::new(Vec::with_capacity(parsed.body.len()));
    r.read_to_end(&mut pt).map_err(|_| Error::Tampered)?;
    let body: Body = serde_json::from_slice(&pt).map_err(|_| Error::Tampered)?;
    if body.format != BODY_FORMAT {
        return Err(Error::UnsupportedVersion(
            u8::try_from(body.format).unwrap_or(u8::MAX),
        ));
    }
    Ok(body)
}

/// Parses an age identity file: the first `AGE-SECRET-KEY-1` line, comments allowed.
pub fn parse_identity_file(bytes: &[u8]) -> Result<SecretString> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| Error::InvalidInput("the identity file is not text".into()))?;
    text.lines()
        .map(str::trim)
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .map(|l| SecretString::from(l.to_string()))
        .ok_or_else(|| {
            Error::InvalidInput(
                "no AGE-SECRET-KEY-1 line in the identity file (is it an age identity file?)"
                    .into(),
            )
        })
}

/// Reads the vault file: its directory must be ours and not writable by others (checked at
/// every open, not only at init), the file a regular owner-only file; a missing file is
/// "no vault", not a missing key file.
fn read_vault_bytes(path: &Path) -> Result<Vec<u8>> {
    let bytes = store::read_secure(path).map_err(|e| match e {
        Error::FileNotFound(p) => Error::NotFound(p),
        e => e,
    })?;
    store::check_directory(&store::parent_dir(path))?;
    Ok(bytes)
}

impl VaultFile {
    /// Reads `path` (no symlinks, owner-only permissions, a directory of our own) and checks
    /// magic, checksum and structure. No key, no KDF.
    pub fn read(path: &Path, opts: OpenOptions) -> Result<VaultFile> {
        let bytes = read_vault_bytes(path)?;
        let header = format::parse(&bytes)?.header;
        Ok(VaultFile {
            path: path.to_path_buf(),
            opts,
            bytes,
            header,
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
        })
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

    /// The keyring slot's store byte, if there is one.
    pub fn keyring_store(&self) -> Option<u8> {
        self.header.keyring_slot().map(|k| k.store)
    }

    /// Unlocks with one method.
    pub fn unlock(&self, how: Unlock<'_>) -> Result<Vault> {
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
        let body = open_with(&keys, &parsed)?;
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
        let body = open_with(&keys, &parsed)?;
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
        })
    }
}

fn check_rollback(opts: &OpenOptions, header: &Header, warnings: &mut Vec<String>) -> Result<()> {
    let record = GenerationRecord::new(&opts.state_dir);
    let seen = record.load(&header.vault_id)?;
    match seen {
        Some(seen) if header.generation < seen => {
            if !opts.accept_rollback {
                return Err(Error::RolledBack {
                    found: header.generation,
                    seen,
                });
            }
            warnings.push(format!(
                "opened an older vault (generation {} < {seen}) because --accept-rollback was given",
                header.generation
            ));
        }
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
    if let Err(e) = record.store(&header.vault_id, header.generation) {
        warnings.push(format!("could not record the vault generation: {e}"));
    }
    Ok(())
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
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("path", &self.path)
            .field("generation", &self.header.generation)
            .finish_non_exhaustive()
    }
}

/// Changes to a bot's metadata; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct SetBot {
    /// Declared withdrawals.
    pub withdrawals: Option<Withdrawals>,
    /// Replace the IP allow-list (Some(empty) clears it).
    pub ip_allowlist: Option<Vec<String>>,
    /// Sub-account (Some(None) clears it).
    pub sub_account: Option<Option<String>>,
    /// Env profile.
    pub env_profile: Option<EnvProfile>,
    /// Rotate-after days.
    pub rotate_after_days: Option<u32>,
    /// Note (Some(None) clears it).
    pub note: Option<Option<String>>,
}

fn key_hint(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 8 {
        return "…".to_string();
    }
    let first: String = chars[..4].iter().collect();
    let last: String = chars[chars.len() - 4..].iter().collect();
    format!("{first}…{last}")
}

/// The most one stored value may hold: a PEM key is ~250 bytes, a Telegram token ~50. Far
/// below Linux's 128 KiB limit on one environment string, which a larger value would break
/// (every `vault run` failing with E2BIG).
pub const MAX_SECRET_LEN: usize = 16 * 1024;

/// A value that can reach a child's environment: no NUL (execve cannot carry one, so every
/// run would fail), and bounded in size. `what` names the value, never its content.
fn check_value(what: &str, v: &SecretValue) -> Result<()> {
    if v.expose().as_bytes().contains(&0) {
        return Err(Error::InvalidInput(format!(
            "the {what} contains a NUL byte, which no environment variable can carry; give the value as text"
        )));
    }
    if v.len() > MAX_SECRET_LEN {
        return Err(Error::InvalidInput(format!(
            "the {what} is {} bytes, more than the {} KiB a stored value may have; give only the value",
            v.len(),
            MAX_SECRET_LEN / 1024
        )));
    }
    Ok(())
}

fn check_key(exchange: crate::Exchange, key: &NewKey) -> Result<()> {
    check_value("API key", &key.key)?;
    check_value("API secret", &key.secret)?;
    if let Some(p) = &key.passphrase {
        check_value("API passphrase", p)?;
    }
    if let Some(u) = &key.uid {
        check_value("uid", u)?;
    }
    if key.key.expose().trim().is_empty() || key.secret.expose().trim().is_empty() {
        return Err(Error::InvalidInput(
            "the API key and secret must not be empty".into(),
        ));
    }
    if key.key.expose().chars().any(char::is_whitespace) {
        return Err(Error::InvalidInput(
            "the API key contains whitespace; paste the key alone".into(),
        ));
    }
    if exchange.needs_passphrase() && key.passphrase.as_ref().is_none_or(|p| p.is_empty()) {
        return Err(Error::InvalidInput(format!(
            "{exchange} keys come with a passphrase; give it after the secret"
        )));
    }
    if exchange.secret_kind() == crate::exchange::SecretKind::Pem
        && !key.secret.expose().trim_start().starts_with("-----BEGIN")
    {
        return Err(Error::InvalidInput(
            "coinbase secrets are PEM private keys (-----BEGIN EC PRIVATE KEY-----...)".into(),
        ));
    }
    Ok(())
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
            recipient: keys.recipient(),
            slots: vec![slot],
        };
        let body = Body {
            format: BODY_FORMAT,
            fingerprint_key: SecretValue::new(hex::encode(random::<32>()?)),
            log_key: SecretValue::new(hex::encode(random::<32>()?)),
            bots: BTreeMap::new(),
            retired_fingerprints: vec![],
            exported_files: vec![],
        };
        let mut v = Vault {
            path: path.to_path_buf(),
            opts,
            keys,
            header,
            body,
            unlocked_by: UnlockedBy::Created,
            warnings: vec![],
        };
        let _lock = store::lock(path, v.opts.lock_timeout)?;
        v.header = v.write(v.header.clone(), &v.body, "init", None, None, true)?;
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
    /// The keyring slot's store byte, if there is one.
    pub fn keyring_store(&self) -> Option<u8> {
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
        self.body.bots.values()
    }
    /// One bot.
    pub fn bot(&self, name: &str) -> Result<&Bot> {
        self.body
            .bots
            .get(name)
            .ok_or_else(|| Error::NoSuchBot(name.to_string()))
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

    /// Adds a bot. Refuses a bad name, an existing bot, a key declared with withdrawals
    /// enabled, and any key whose fingerprint is already known.
    pub fn add(&mut self, new: NewBot) -> Result<()> {
        self.add_many(vec![new])
    }

    /// Adds several bots in one write (all or nothing), with the checks of [`Vault::add`].
    pub fn add_many(&mut self, bots: Vec<NewBot>) -> Result<()> {
        for new in &bots {
            validate_bot_name(&new.name)?;
            check_key(new.exchange, &new.key)?;
            for ip in &new.scope.ip_allowlist {
                validate_ip(ip)?;
            }
            for (name, value) in &new.extra_secrets {
                validate_env_name(name)?;
                check_value(name, value)?;
            }
            if new.scope.withdrawals == Withdrawals::Enabled {
                return Err(Error::Policy(
                    "this key allows withdrawals. Rule 1: trade-only permissions, never withdrawals. Create a key with withdrawals disabled".into(),
                ));
            }
        }
        let (name, fp_short) = match bots.as_slice() {
            [one] => (
                Some(one.name.clone()),
                Some(short_fp(&self.fingerprint(one.key.key.expose()))),
            ),
            _ => (None, None),
        };
        self.update("add", name.as_deref(), fp_short, move |body| {
            let now = Timestamp::now();
            for new in bots {
                if body.bots.contains_key(&new.name) {
                    return Err(Error::BotExists(new.name.clone()));
                }
                let fp = fingerprint(body, new.key.key.expose());
                if let Some(owner) = fingerprint_owner(body, &fp) {
                    return Err(Error::Policy(format!(
                        "this key is already known to the vault ({owner}). Rule 4: one key per bot; create a new key at the exchange"
                    )));
                }
                let bot = Bot {
                    name: new.name.clone(),
                    exchange: new.exchange,
                    key_hint: key_hint(new.key.key.expose()),
                    credentials: Some(new.key),
                    extra_secrets: new.extra_secrets,
                    fingerprint: fp,
                    scope: new.scope,
                    env_profile: new.env_profile,
                    rotate_after_days: new.rotate_after_days,
                    created_at: now,
                    key_added_at: now,
                    rotated_at: None,
                    verify: None,
                    status: Status::Active,
                    history: vec![],
                    note: new.note,
                };
                body.bots.insert(new.name, bot);
            }
            Ok(())
        })
    }

    /// Changes metadata without touching the key.
    pub fn set(&mut self, name: &str, change: SetBot) -> Result<()> {
        if let Some(ips) = &change.ip_allowlist {
            for ip in ips {
                validate_ip(ip)?;
            }
        }
        self.bot(name)?;
        let fp = Some(short_fp(&self.bot(name)?.fingerprint));
        self.update("set", Some(name), fp, |body| {
            let bot = body
                .bots
                .get_mut(name)
                .ok_or_else(|| Error::NoSuchBot(name.to_string()))?;
            if let Some(w) = change.withdrawals {
                bot.scope.withdrawals = w;
            }
            if let Some(ips) = change.ip_allowlist {
                bot.scope.ip_allowlist = ips;
            }
            if let Some(s) = change.sub_account {
                bot.scope.sub_account = s;
            }
            if let Some(p) = change.env_profile {
                bot.env_profile = p;
            }
            if let Some(d) = change.rotate_after_days {
                bot.rotate_after_days = d;
            }
            if let Some(n) = change.note {
                bot.note = n;
            }
            Ok(())
        })
    }

    /// Renames a bot.
    pub fn rename(&mut self, old: &str, new: &str) -> Result<()> {
        validate_bot_name(new)?;
        self.bot(old)?;
        self.update("rename", Some(old), None, |body| {
            if body.bots.contains_key(new) {
                return Err(Error::BotExists(new.to_string()));
            }
            let mut bot = body
                .bots
                .remove(old)
                .ok_or_else(|| Error::NoSuchBot(old.to_string()))?;
            bot.name = new.to_string();
            body.bots.insert(new.to_string(), bot);
            Ok(())
        })
    }

    /// Replaces a bot's key; the old key is kept as a fingerprint in the history.
    pub fn rotate(&mut self, name: &str, key: NewKey, reason: Option<String>) -> Result<()> {
        let exchange = self.bot(name)?.exchange;
        check_key(exchange, &key)?;
        let fp_short = short_fp(&self.fingerprint(key.key.expose()));
        self.update("rotate", Some(name), Some(fp_short), |body| {
            let fp = fingerprint(body, key.key.expose());
            if let Some(owner) = fingerprint_owner(body, &fp) {
                return Err(Error::Policy(format!(
                    "this key is already known to the vault ({owner}). Rule 4: one key per bot; create a new key at the exchange"
                )));
            }
            let bot = body
                .bots
                .get_mut(name)
                .ok_or_else(|| Error::NoSuchBot(name.to_string()))?;
            let now = Timestamp::now();
            if bot.credentials.is_some() {
                bot.history.push(HistoryEntry {
                    fingerprint: bot.fingerprint.clone(),
                    key_hint: bot.key_hint.clone(),
                    added_at: bot.key_added_at,
                    retired_at: now,
                    event: "rotate".into(),
                    reason,
                });
            }
            bot.key_hint = key_hint(key.key.expose());
            bot.credentials = Some(key);
            bot.fingerprint = fp;
            bot.key_added_at = now;
            bot.rotated_at = Some(now);
            bot.verify = None;
            bot.status = Status::Active;
            Ok(())
        })
    }

    /// Wipes a bot's secret material and keeps a tombstone.
    pub fn revoke(&mut self, name: &str, reason: Option<String>) -> Result<()> {
        let fp = Some(short_fp(&self.bot(name)?.fingerprint));
        self.update("revoke", Some(name), fp, |body| {
            let bot = body
                .bots
                .get_mut(name)
                .ok_or_else(|| Error::NoSuchBot(name.to_string()))?;
            if !bot.is_active() {
                return Err(Error::InvalidInput(format!("{name} is already revoked")));
            }
            let now = Timestamp::now();
            bot.history.push(HistoryEntry {
                fingerprint: bot.fingerprint.clone(),
                key_hint: bot.key_hint.clone(),
                added_at: bot.key_added_at,
                retired_at: now,
                event: "revoke".into(),
                reason: reason.clone(),
            });
            bot.credentials = None;
            bot.extra_secrets.clear();
            bot.status = Status::Revoked { at: now, reason };
            Ok(())
        })
    }

    /// Deletes a bot; its fingerprints stay known so the key cannot come back.
    pub fn remove(&mut self, name: &str) -> Result<()> {
        let fp = Some(short_fp(&self.bot(name)?.fingerprint));
        self.update("remove", Some(name), fp, |body| {
            let bot = body
                .bots
                .remove(name)
                .ok_or_else(|| Error::NoSuchBot(name.to_string()))?;
            body.retired_fingerprints.push(bot.fingerprint.clone());
            body.retired_fingerprints
                .extend(bot.history.iter().map(|h| h.fingerprint.clone()));
            Ok(())
        })
    }

    /// Sets an extra secret.
    pub fn set_secret(&mut self, name: &str, env: &str, value: SecretValue) -> Result<()> {
        validate_env_name(env)?;
        if value.is_empty() {
            return Err(Error::InvalidInput("the secret value is empty".into()));
        }
        check_value(env, &value)?;
        if !self.bot(name)?.is_active() {
            return Err(Error::Policy(format!("{name} is revoked; rotate it first")));
        }
        self.update("secret-set", Some(name), None, |body| {
            let bot = body
                .bots
                .get_mut(name)
                .ok_or_else(|| Error::NoSuchBot(name.to_string()))?;
            bot.extra_secrets.insert(env.to_string(), value);
            Ok(())
        })
    }

    /// Removes an extra secret.
    pub fn remove_secret(&mut self, name: &str, env: &str) -> Result<()> {
        if self.bot(name)?.extra_secret(env).is_none() {
            return Err(Error::InvalidInput(format!(
                "{name} has no secret named {env}"
            )));
        }
        self.update("secret-remove", Some(name), None, |body| {
            let bot = body
                .bots
                .get_mut(name)
                .ok_or_else(|| Error::NoSuchBot(name.to_string()))?;
            bot.extra_secrets.remove(env);
            Ok(())
        })
    }

    /// Records a verify result (bound to the current key's fingerprint).
    pub fn record_verify(&mut self, name: &str, result: VerifyResult) -> Result<()> {
        self.update("verify", Some(name), None, |body| {
            let bot = body
                .bots
                .get_mut(name)
                .ok_or_else(|| Error::NoSuchBot(name.to_string()))?;
            if bot.fingerprint != result.fingerprint {
                return Err(Error::InvalidInput(format!(
                    "{name}'s key changed while verify ran; run verify again"
                )));
            }
            bot.verify = Some(result);
            Ok(())
        })
    }

    /// Remembers a file this vault exported (for audit's permission check).
    pub fn remember_export(&mut self, path: &Path, op: &str) -> Result<()> {
        let p = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let p = p.to_string_lossy().into_owned();
        self.update(op, None, None, |body| {
            if !body.exported_files.contains(&p) {
                body.exported_files.push(p);
            }
            Ok(())
        })
    }

    /// Changes the passphrase: re-wraps the passphrase slot only.
    pub fn change_passphrase(&mut self, new: &SecretString, params: KdfParams) -> Result<()> {
        params.check_floor()?;
        let vault_id = self.header.vault_id;
        let slot = passphrase_slot(
            &vault_id,
            new,
            params,
            &self.keys.identity_str,
            self.opts.memory_available_kib,
        )?;
        self.update_header("passwd", move |h| {
            h.slots.retain(|s| !matches!(s, Slot::Passphrase(_)));
            h.slots.insert(0, slot);
            Ok(())
        })
    }

    /// Adds (or replaces) the keyring slot with a wrapping key held in the OS keyring.
    pub fn set_keyring_slot(&mut self, store: u8, key: &Zeroizing<[u8; 32]>) -> Result<()> {
        let slot = keyring_slot(&self.header.vault_id, store, key, &self.keys.identity_str)?;
        self.update_header("keyring-enable", move |h| {
            h.slots.retain(|s| !matches!(s, Slot::Keyring(_)));
            h.slots.push(slot);
            Ok(())
        })
    }

    /// Removes the keyring slot (refuses if it is the only one).
    pub fn remove_keyring_slot(&mut self) -> Result<()> {
        self.update_header("keyring-disable", |h| {
            if !h.slots.iter().any(|s| matches!(s, Slot::Passphrase(_))) {
                return Err(Error::Policy(
                    "the keyring slot is the only way into this vault; set a passphrase first"
                        .into(),
                ));
            }
            h.slots.retain(|s| !matches!(s, Slot::Keyring(_)));
            Ok(())
        })
    }

    /// New identity: the body is re-encrypted and every slot re-wrapped. The passphrase slot
    /// is re-wrapped under `new_passphrase`; the keyring slot only if its key is given
    /// (otherwise it is dropped and the caller says so). Returns whether a keyring slot was dropped.
    pub fn rekey(
        &mut self,
        new_passphrase: &SecretString,
        params: KdfParams,
        keyring_key: Option<&Zeroizing<[u8; 32]>>,
    ) -> Result<bool> {
        params.check_floor()?;
        let new_keys = Keys::generate();
        let vault_id = self.header.vault_id;
        let mut slots = vec![passphrase_slot(
            &vault_id,
            new_passphrase,
            params,
            &new_keys.identity_str,
            self.opts.memory_available_kib,
        )?];
        let had_keyring = self.header.keyring_slot().map(|k| k.store);
        let mut dropped = false;
        if let Some(store) = had_keyring {
            match keyring_key {
                Some(k) => slots.push(keyring_slot(&vault_id, store, k, &new_keys.identity_str)?),
                None => dropped = true,
            }
        }
        let _lock = store::lock(&self.path, self.opts.lock_timeout)?;
        let (mut header, body) = self.reread()?;
        header.slots = slots;
        header.recipient = new_keys.recipient();
        let old = std::mem::replace(&mut self.keys, new_keys);
        match self.write(header, &body, "rekey", None, None, false) {
            Ok(h) => {
                self.header = h;
                self.body = body;
                Ok(dropped)
            }
            Err(e) => {
                self.keys = old;
                Err(e)
            }
        }
    }

    /// Reads the file again under the lock and verifies it with the identity we hold.
    fn reread(&self) -> Result<(Header, Body)> {
        let bytes = read_vault_bytes(&self.path)?;
        let parsed = format::parse(&bytes)?;
        if self.keys.recipient() != parsed.header.recipient {
            return Err(Error::ConcurrentRekey);
        }
        let body = open_with(&self.keys, &parsed)?;
        let record = GenerationRecord::new(&self.opts.state_dir);
        if let Some(seen) = record.load(&parsed.header.vault_id)? {
            if parsed.header.generation < seen && !self.opts.accept_rollback {
                return Err(Error::RolledBack {
                    found: parsed.header.generation,
                    seen,
                });
            }
        }
        Ok((parsed.header, body))
    }

    fn update<R>(
        &mut self,
        op: &str,
        bot: Option<&str>,
        fp: Option<String>,
        f: impl FnOnce(&mut Body) -> Result<R>,
    ) -> Result<R> {
        let _lock = store::lock(&self.path, self.opts.lock_timeout)?;
        let (header, mut body) = self.reread()?;
        let r = f(&mut body)?;
        self.header = self.write(header, &body, op, bot, fp, false)?;
        self.body = body;
        Ok(r)
    }

    fn update_header(&mut self, op: &str, f: impl FnOnce(&mut Header) -> Result<()>) -> Result<()> {
        let _lock = store::lock(&self.path, self.opts.lock_timeout)?;
        let (mut header, body) = self.reread()?;
        f(&mut header)?;
        self.header = self.write(header, &body, op, None, None, false)?;
        self.body = body;
        Ok(())
    }

    /// Writes (caller holds the lock): log entry first, then the vault anchoring it. Returns
    /// the header as written; the caller adopts it and `body` only if this succeeds.
    fn write(
        &self,
        mut header: Header,
        body: &Body,
        op: &str,
        bot: Option<&str>,
        fp: Option<String>,
        create: bool,
    ) -> Result<Header> {
        // Past the highest generation seen here, not just past this file's: after
        // `--accept-rollback` restored an older copy, the first write moves it beyond the
        // record, so later plain commands open it without the flag.
        let seen = GenerationRecord::new(&self.opts.state_dir)
            .load(&header.vault_id)?
            .unwrap_or(0);
        header.generation = header
            .generation
            .max(seen)
            .checked_add(1)
            .ok_or(Error::Corrupted("generation overflow"))?;
        let log = audit_log::log_path(&self.path);
        if create {
            // A fresh vault starts a fresh log; a leftover log of a deleted vault is moved aside.
            if log.exists() {
                let _ = std::fs::rename(&log, log.with_extension("log.old"));
            }
        }
        let (count, head) = audit_log::append(
            &log,
            body.log_key.expose().as_bytes(),
            entry(
                op,
                bot,
                fp,
                Some(format!("generation {}", header.generation)),
            ),
            true,
        )?;
        header.log_count = count;
        header.log_head = head;
        // We hold the writer lock: temporaries left by a killed writer can go.
        store::remove_stale_temps(&self.path);
        let plaintext = body_plaintext(body)?;
        let age_body = encrypt_body(&self.keys, &plaintext)?;
        drop(plaintext);
        let header_bytes = format::encode_header(&header);
        let mac = self.keys.mac(&header.vault_id);
        let file = format::assemble(&header_bytes, &age_body, |input| {
            let mut m = mac.clone();
            m.update(input);
            m.finalize().into_bytes().into()
        });
        if let Err(e) = store::atomic_write(&self.path, &file, create, |back| {
            let parsed = format::parse(back)?;
            open_with(&self.keys, &parsed).map(|_| ())
        }) {
            // The entry above names a write that did not happen: say so in the log too
            // (a writer killed right here leaves no marker; `vault log` then shows an entry
            // past the header's anchor, which it reports as not anchored).
            let _ = audit_log::append(
                &log,
                body.log_key.expose().as_bytes(),
                entry(
                    "write-failed",
                    bot,
                    None,
                    Some(format!(
                        "generation {} ({op}) was not written",
                        header.generation
                    )),
                ),
                true,
            );
            return Err(e);
        }
        GenerationRecord::new(&self.opts.state_dir).store(&header.vault_id, header.generation)?;
        Ok(header)
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
    fp.chars().take(12).collect()
}

fn fingerprint(body: &Body, api_key: &str) -> String {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(body.fingerprint_key.expose().as_bytes())
        .expect("HMAC takes any key length");
    m.update(api_key.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

fn fingerprint_owner(body: &Body, fp: &str) -> Option<String> {
    for bot in body.bots.values() {
        if bot.fingerprint == fp {
            return Some(if bot.is_active() {
                format!("it is bot {}'s current key", bot.name)
            } else {
                format!("it was bot {}'s key, now revoked", bot.name)
            });
        }
        if bot.history.iter().any(|h| h.fingerprint == fp) {
            return Some(format!("it is an old key of bot {}", bot.name));
        }
    }
    if body.retired_fingerprints.iter().any(|f| f == fp) {
        return Some("it belonged to a removed bot".into());
    }
    None
}
