//! The CLI's error: a message that says what went wrong and what to do next, and an exit
//! code from CLI.md. Never holds a secret: it is built from library errors (which hold none)
//! and from our own fixed text.

use vault_core::{Error, ErrorKind};

/// Exit codes (CLI.md).
pub mod code {
    pub const OTHER: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const UNLOCK: i32 = 3;
    pub const INTEGRITY: i32 = 4;
    pub const REFUSED: i32 = 5;
    pub const NO_SUCH_BOT: i32 = 6;
    pub const LOCKED: i32 = 7;
    pub const TTL: i32 = 124;
    pub const NOT_EXECUTABLE: i32 = 126;
    pub const NOT_FOUND: i32 = 127;
}

/// A failure to report and exit with.
#[derive(Debug)]
pub struct CliError {
    pub code: i32,
    pub message: String,
}

impl CliError {
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        CliError {
            code,
            message: message.into(),
        }
    }
    pub fn other(message: impl Into<String>) -> Self {
        Self::new(code::OTHER, message)
    }
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(code::USAGE, message)
    }
}

pub type CliResult<T> = Result<T, CliError>;

/// The next step for each library error.
fn next_step(e: &Error) -> &'static str {
    match e {
        Error::NotAVault => "check --vault / VAULT_PATH points at a vault file",
        Error::UnsupportedVersion(_) => "this vault was written by a newer vault; upgrade vault",
        Error::Corrupted(_) => "nothing was changed; restore the vault from a backup",
        Error::WrongPassphraseOrTamperedSlot => {
            "try again; if the passphrase is right, the file was modified: restore it from a backup"
        }
        Error::WrongKeyringKey => {
            "the keyring entry belongs to another vault or was changed; use another unlock method and `vault keyring enable` again"
        }
        Error::WrongIdentity => "use the identity exported from this vault (`vault identity export`)",
        Error::Tampered => "restore the vault from a backup and find out who changed it",
        Error::RolledBack { .. } => {
            "if you restored an older copy on purpose, run again with --accept-rollback"
        }
        Error::Locked { .. } => "wait for the other vault command to finish, then try again",
        Error::InsecurePermissions { .. } => "fix the file as said, then try again",
        Error::AlreadyExists(_) => "choose another path, or remove the old file yourself if you really mean to",
        Error::NotFound(_) => "create one with `vault init`, or point --vault / VAULT_PATH at yours",
        Error::NoSuchBot(_) => "`vault list` shows the bots",
        Error::BotExists(_) => "choose another name, or `vault rotate` the existing bot",
        Error::NoSlot(_) => "use another unlock method (`vault doctor` lists them)",
        Error::KdfParams(_) => "choose parameters between the floor and the ceiling (see `vault init --help`)",
        Error::FileNotFound(_) => "check the path you gave (flag or environment variable)",
        Error::NotAFile { .. } => "point the flag or variable at the file itself",
        Error::NotEnoughMemory { .. } => {
            "free memory, or unlock another way (--identity, the keyring slot, `vault unlock` in a session), then lower the cost with `vault passwd --kdf-memory MIB`"
        }
        Error::ConcurrentRekey => "another vault command re-keyed the vault; run the command again",
        Error::Crypto(_) => "this should not happen; report it (nothing was written)",
        Error::Policy(_) | Error::InvalidInput(_) | Error::Io { .. } => "",
    }
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        let code = match e.kind() {
            ErrorKind::Unlock => code::UNLOCK,
            ErrorKind::Integrity => code::INTEGRITY,
            ErrorKind::Refused => code::REFUSED,
            ErrorKind::NoSuchBot => code::NO_SUCH_BOT,
            ErrorKind::Locked => code::LOCKED,
            ErrorKind::Other => code::OTHER,
        };
        let next = next_step(&e);
        let message = if next.is_empty() {
            e.to_string()
        } else {
            format!("{e}; {next}")
        };
        CliError { code, message }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::other(e.to_string())
    }
}
