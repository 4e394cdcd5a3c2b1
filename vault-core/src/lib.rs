//! `vault-core`: one encrypted file that holds one exchange API key per trading bot.
//!
//! The file is our small binary header (a random `vault_id`, a write generation and *slots*
//! that each wrap the vault's age X25519 identity under one unlock method) followed by a
//! standard age file holding the bots as JSON, a trailer MAC keyed from the identity, and an
//! unkeyed checksum. `docs/FORMAT.md` documents every byte.
//!
//! This crate never prints, prompts or exits: the `vault` binary does that. Both the CLI and
//! Rust bots use the one façade, [`Vault`].
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod audit_log;
pub mod env;
mod error;
pub mod exchange;
pub mod format;
pub mod jsonc;
pub mod kdf;
pub mod mask;
pub mod model;
pub mod policy;
mod secret;
pub mod store;
mod vault;
pub mod verify;

pub use env::Credentials;
pub use error::{Error, ErrorKind, Result};
pub use exchange::Exchange;
pub use format::KeyringStore;
pub use kdf::KdfParams;
pub use model::{
    Bot, BotStatus, EnvProfile, NewBot, NewKey, Scope, Status, VerifyResult, Withdrawals,
};
pub use secret::{new_keyring_key, SecretValue};
pub use vault::{
    parse_identity_file, short_fp, LogHandle, OpenOptions, SetBot, Unlock, UnlockedBy, Vault,
    VaultFile,
};

/// Re-exported so callers use the same `secrecy` version as we do.
pub use secrecy;
