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
//!   `bots` and `slots` are the operations, and `crypto` holds the keys and the age body
//!   (`agebody` reads it in one pass, held to age's own reader).
//! - `fastbody`: the body's JSON read and written by hand along the writer's exact path,
//!   serde_json for anything else (held to serde_json by tests and a fuzz target).
//! - `format` (private; public with the `internals` feature): the bytes of the file.
//! - `store` (private; public with `internals`): the filesystem rules (no-follow opens,
//!   permissions, atomic writes, locks, the generation record); [`files`] re-exports the few
//!   a program needs. `audit_log` (likewise): the hash-chained log, read through
//!   [`Vault::verify_log`].
//! - `model`, `exchange`, `policy`, `verify`: bots, exchanges, the rules, and asking the
//!   exchange. `env`: the variables a bot gets. `mask`: output masking. `kdf`: Argon2id.
//!   `jsonc`: freqtrade's JSON-with-comments. `proxy`: the rules of `vault run --proxy`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

/// The hash-chained audit log. Public only with the `internals` feature (tests); programs read
/// it through [`Vault::verify_log`] and [`LogEntry`].
#[cfg(feature = "internals")]
pub mod audit_log;
#[cfg(not(feature = "internals"))]
#[allow(dead_code)]
mod audit_log;
pub mod env;
mod error;
pub mod exchange;
mod fastbody;
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
mod par;
pub mod policy;
pub mod proxy;
mod secret;
/// The filesystem rules. Public only with the `internals` feature (tests); what a program
/// needs for its own files is in [`files`].
#[cfg(feature = "internals")]
pub mod store;
#[cfg(not(feature = "internals"))]
#[allow(dead_code)]
mod store;
mod ts;

/// Owner-only files, read and written by the vault's own rules (no-follow opens, 0600,
/// atomic replace), for the caller's files: identity exports, edited configs, credentials.
pub mod files {
    #[cfg(unix)]
    pub use crate::store::euid;
    pub use crate::store::{atomic_write, check_permissions, read_secure_in, write_new_private};
}
mod vault;
pub mod verify;

pub use audit_log::{Entry as LogEntry, Verified as VerifiedLog};
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
/// The one-pass reader of the age body, for the differential fuzz target (which holds it to
/// age's own reader). Public only with the `internals` feature.
#[cfg(feature = "internals")]
pub use vault::decrypt_age_body;

/// The body's JSON read by hand (with its fallbacks) and by serde_json alone, each written
/// back out, for the differential fuzz target. Public only with the `internals` feature.
#[cfg(feature = "internals")]
pub fn read_body_both_ways(text: &str) -> (Option<String>, Option<String>) {
    let out = |b: model::Body| serde_json::to_string(&b).ok();
    (
        fastbody::parse_body(text).ok().and_then(out),
        serde_json::from_str::<model::Body>(text).ok().and_then(out),
    )
}
pub use vault::{
    parse_identity_file, short_fp, short_fp_str, LogHandle, OpenOptions, SetBot, Unlock,
    UnlockedBy, Vault, VaultFile,
};

/// Re-exported so callers use the same `secrecy` version as we do.
pub use secrecy;
