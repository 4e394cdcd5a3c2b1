//! Typed errors. Every variant names what went wrong; none ever carries a secret.

use std::path::PathBuf;

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the library.
///
/// Messages name the problem only; the CLI adds the next step for the user. No variant holds
/// a secret value (only names, paths, numbers and fixed reasons).
///
/// Deliberately not `#[non_exhaustive]`: callers match every variant (DESIGN.md: no wildcard
/// arm), so a new variant is a compile error until each caller says what it means.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file does not start with the vault magic.
    #[error("not a vault file")]
    NotAVault,
    /// A format version this build does not read.
    #[error("unsupported vault format version {0}")]
    UnsupportedVersion(u8),
    /// The unkeyed checksum or the structure is wrong: corruption or truncation.
    #[error("the vault file is corrupted or truncated ({0})")]
    Corrupted(&'static str),
    /// An unwrap failed: AEAD cannot tell a wrong passphrase from a modified slot.
    #[error("wrong passphrase, or the passphrase slot was modified (these cannot be told apart)")]
    WrongPassphraseOrTamperedSlot,
    /// A keyring key did not unwrap its slot.
    #[error("the keyring key does not open this vault, or its slot was modified")]
    WrongKeyringKey,
    /// The identity given is not this vault's identity.
    #[error("this identity does not belong to this vault")]
    WrongIdentity,
    /// The identity was right but the trailer MAC or the age body failed.
    #[error("the vault header or body was tampered with (the unlock itself was correct)")]
    Tampered,
    /// The file's generation is older than the one recorded here.
    #[error("the vault file is older (generation {found}) than the last one seen here (generation {seen}): possible rollback")]
    RolledBack {
        /// The generation in the file.
        found: u64,
        /// The highest generation recorded on this machine.
        seen: u64,
    },
    /// Another writer holds the lock.
    #[error("the vault is locked by another writer{}", holder.as_deref().map(|h| format!(" ({h})")).unwrap_or_default())]
    Locked {
        /// What the lock file says about its holder, if anything.
        holder: Option<String>,
    },
    /// A file is accessible by others, owned by someone else, or a symlink.
    #[error("insecure file {}: {reason}", path.display())]
    InsecurePermissions {
        /// The file.
        path: PathBuf,
        /// Why it is refused.
        reason: String,
    },
    /// The vault file to create already exists.
    #[error("{} already exists", .0.display())]
    AlreadyExists(PathBuf),
    /// The vault file does not exist.
    #[error("no vault at {}", .0.display())]
    NotFound(PathBuf),
    /// A file we were asked to read (identity, passphrase file, config) does not exist.
    #[error("{} does not exist", .0.display())]
    FileNotFound(PathBuf),
    /// A path that must be a regular file is a directory, a FIFO, a device or a socket.
    #[error("{} is {kind}, not a regular file", path.display())]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is instead.
        kind: &'static str,
    },
    /// No bot of that name.
    #[error("no such bot: {0}")]
    NoSuchBot(String),
    /// A bot of that name exists already.
    #[error("a bot named {0} already exists")]
    BotExists(String),
    /// A policy rule refuses the operation.
    #[error("refused: {0}")]
    Policy(String),
    /// Invalid input (a bad name, a missing credential field, ...).
    #[error("{0}")]
    InvalidInput(String),
    /// KDF parameters outside the floor or the ceiling.
    #[error("KDF parameters refused: {0}")]
    KdfParams(String),
    /// The vault has no slot for the requested unlock method.
    #[error("this vault has no {0} slot")]
    NoSlot(&'static str),
    /// The passphrase slot's KDF needs more memory than this machine can give now. Not
    /// tampering: the parameters are within the absolute ceiling.
    #[error("the passphrase slot needs {needed_mib} MiB for its KDF, but only {available_mib} MiB of memory is available")]
    NotEnoughMemory {
        /// What the slot's Argon2id parameters need, in MiB.
        needed_mib: u64,
        /// What half of MemAvailable gives now, in MiB.
        available_mib: u64,
    },
    /// Another process re-keyed the vault while this one held the old identity.
    #[error("the vault was re-keyed by another process while this command ran")]
    ConcurrentRekey,
    /// A cryptographic operation that cannot fail on good input failed (no randomness, an
    /// encryption error). Not an I/O error and not the user's input.
    #[error("cryptographic failure: {0}")]
    Crypto(&'static str),
    /// An I/O error, with what we were doing.
    #[error("{context}: {source}")]
    Io {
        /// What we were doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// The broad class of an [`Error`], for mapping to exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Could not unlock (wrong passphrase, wrong identity, wrong keyring key, no slot).
    Unlock,
    /// Corrupted, truncated, tampered, not a vault, unsupported version, rolled back.
    Integrity,
    /// Refused by policy or insecure permissions.
    Refused,
    /// No such bot.
    NoSuchBot,
    /// Locked by another writer, or changed by one under us (a concurrent rekey).
    Locked,
    /// Anything else (I/O, bad input).
    Other,
}

impl Error {
    /// The class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::WrongPassphraseOrTamperedSlot
            | Error::WrongIdentity
            | Error::WrongKeyringKey
            | Error::NoSlot(_)
            | Error::NotEnoughMemory { .. } => ErrorKind::Unlock,
            Error::NotAVault
            | Error::UnsupportedVersion(_)
            | Error::Corrupted(_)
            | Error::Tampered
            | Error::RolledBack { .. } => ErrorKind::Integrity,
            Error::Policy(_) | Error::InsecurePermissions { .. } => ErrorKind::Refused,
            Error::NoSuchBot(_) => ErrorKind::NoSuchBot,
            Error::Locked { .. } | Error::ConcurrentRekey => ErrorKind::Locked,
            Error::AlreadyExists(_)
            | Error::NotFound(_)
            | Error::FileNotFound(_)
            | Error::NotAFile { .. }
            | Error::BotExists(_)
            | Error::InvalidInput(_)
            | Error::KdfParams(_)
            | Error::Crypto(_)
            | Error::Io { .. } => ErrorKind::Other,
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}
