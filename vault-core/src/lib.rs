//! `vault-core`: one encrypted file that holds one exchange API key per trading bot.
//!
//! The file is our small binary header (a random `vault_id`, a write generation and *slots*
//! that each wrap the vault's age X25519 identity under one unlock method) followed by a
//! standard age file holding the bots as JSON, a trailer MAC keyed from the identity, and an
//! unkeyed checksum. `docs/FORMAT.md` documents every byte.
//!
//! This crate never prints, prompts or exits, and reads no environment variable and no /proc
//! (the caller passes MemAvailable, the lock timeout and `$CREDENTIALS_DIRECTORY` in); the
//! `vault` binary does all that. Both the CLI and Rust bots use the one façade, [`Vault`].
//! The one exception is [`Credentials::from_env`], which a bot calls to read what
//! `vault run` gave it.
//!
//! Where things are:
//! - `vault/`: the façade. `file` reads and unlocks, `txn` is the one write transaction,
//!   `bots` and `slots` are the operations, and `crypto` holds the keys and the age body.
//! - `format` (private; public with the `internals` feature): the bytes of the file.
//! - `store`: the filesystem rules (no-follow opens, permissions, atomic writes, locks, the
//!   generation record). `audit_log`: the hash-chained log.
//! - `model`, `exchange`, `policy`, `verify`: bots, exchanges, the rules, and asking the
//!   exchange. `env`: the variables a bot gets. `mask`: output masking. `kdf`: Argon2id.
//!   `jsonc`: freqtrade's JSON-with-comments. `proxy`: the rules of `vault run --proxy`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod audit_log;
pub mod env;
mod error;
pub mod exchange;
/// The file's byte layout. Public only with the `internals` feature (tests and fuzzing build
/// and take apart files by hand); everything a program needs from it is re-exported below.
#[cfg(feature = "internals")]
pub mod format;
#[cfg(not(feature = "internals"))]
mod format;
pub mod jsonc;
pub mod kdf;
pub mod mask;
pub mod model;
pub mod policy;
pub mod proxy;
mod secret;
pub mod store;
mod vault;
pub mod verify;

pub use env::Credentials;
pub use error::{Error, ErrorKind, Result};
pub use exchange::Exchange;
pub use format::{Header, KeyringSlot, KeyringStore, PassphraseSlot, Slot};
pub use kdf::KdfParams;
pub use model::{
    Bot, BotStatus, EnvProfile, Fleet, FleetHost, NewBot, NewKey, Scope, Status, VerifyResult,
    Withdrawals,
};
pub use secret::{new_keyring_key, SecretValue};
pub use vault::{
    parse_identity_file, short_fp, LogHandle, OpenOptions, SetBot, Unlock, UnlockedBy, Vault,
    VaultFile,
};

/// Re-exported so callers use the same `secrecy` version as we do.
pub use secrecy;
