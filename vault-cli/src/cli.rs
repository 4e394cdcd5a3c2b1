//! Command-line definitions only: no logic, so completions can be generated from it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Keeps each trading bot's exchange API key encrypted on this machine and hands it to the
/// bot, and only to the bot, when it starts.
#[derive(Debug, Parser)]
#[command(name = "vault", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args, Clone)]
pub struct Global {
    // (see `with_env` below)
    // The environment fallbacks (VAULT_PATH, VAULT_PASSPHRASE_FILE, VAULT_IDENTITY_FILE) are
    // applied after parsing (`Global::with_env`), not by clap's `env`: clap would print a
    // flag taken from the environment in every usage line, with its value in `--help`.
    /// The vault file (default: the platform data directory; `vault doctor` prints it).
    /// Env: VAULT_PATH.
    #[arg(long, global = true, value_name = "PATH")]
    pub vault: Option<PathBuf>,
    /// Read the passphrase from the first line of this file (0600 or stricter).
    /// Env: VAULT_PASSPHRASE_FILE.
    #[arg(long, global = true, value_name = "PATH")]
    pub passphrase_file: Option<PathBuf>,
    /// Unlock with this age identity file (AGE-SECRET-KEY-1..., 0600 or stricter).
    /// Env: VAULT_IDENTITY_FILE.
    #[arg(long, global = true, value_name = "PATH")]
    pub identity: Option<PathBuf>,
    /// Which unlock method to use.
    #[arg(long, global = true, value_enum, default_value_t = UnlockMethod::Auto)]
    pub unlock: UnlockMethod,
    /// Open a vault older than the last one seen on this machine.
    #[arg(long, global = true)]
    pub accept_rollback: bool,
    /// Say which unlock method was used, and more.
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

/// A path from the environment; an empty value counts as unset.
pub fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

impl Global {
    /// A flag wins over its variable.
    pub fn with_env(mut self) -> Self {
        self.vault = self.vault.or_else(|| env_path("VAULT_PATH"));
        self.passphrase_file = self
            .passphrase_file
            .or_else(|| env_path("VAULT_PASSPHRASE_FILE"));
        self.identity = self.identity.or_else(|| env_path("VAULT_IDENTITY_FILE"));
        self
    }
}

/// Unlock methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UnlockMethod {
    Auto,
    Keyring,
    Identity,
    Passphrase,
    Session,
}

/// `--withdrawals`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WithdrawalsArg {
    Disabled,
    Unknown,
    Enabled,
}

/// `--env-profile`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProfileArg {
    Auto,
    Freqtrade,
    Generic,
}

/// `--deliver`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeliverArg {
    Env,
    FreqtradeConfig,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new vault (never overwrites one).
    Init(InitArgs),
    /// Store one exchange key for one bot.
    Add(AddArgs),
    /// Change a bot's metadata without touching its key.
    Set(SetArgs),
    /// Rename a bot.
    Rename { old: String, new: String },
    /// A bot's extra secrets (e.g. FREQTRADE__TELEGRAM__TOKEN).
    #[command(subcommand)]
    Secret(SecretCmd),
    /// List bots.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one bot's metadata and rotation history.
    Show {
        bot: String,
        #[arg(long)]
        json: bool,
        /// Print the secrets themselves.
        #[arg(long)]
        reveal: bool,
    },
    /// Replace a bot's key (the old one is kept as a fingerprint only).
    Rotate {
        bot: String,
        #[arg(long)]
        from_stdin: bool,
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
    },
    /// Wipe a bot's secrets and keep a tombstone; `run` refuses it afterwards.
    Revoke {
        bot: String,
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
    },
    /// Delete a bot entirely (its key can never be added again).
    Remove {
        bot: String,
        #[arg(long)]
        yes: bool,
    },
    /// Change the passphrase (re-wraps the passphrase slot).
    Passwd {
        /// Read the new passphrase from the first line of this 0600 file instead of prompting.
        /// Env: VAULT_NEW_PASSPHRASE_FILE.
        #[arg(long, value_name = "PATH")]
        new_passphrase_file: Option<PathBuf>,
        /// Argon2id memory in MiB for the re-wrapped slot (default: the vault's own, or the
        /// largest default that fits this machine).
        #[arg(long, value_name = "MIB")]
        kdf_memory: Option<u32>,
    },
    /// New identity: re-encrypt everything and re-wrap every slot.
    Rekey {
        /// Env: VAULT_NEW_PASSPHRASE_FILE.
        #[arg(long, value_name = "PATH")]
        new_passphrase_file: Option<PathBuf>,
    },
    /// Run a command with a bot's credentials.
    Run(RunArgs),
    /// The security checklist over every bot and the vault itself.
    Audit {
        #[arg(long)]
        json: bool,
        #[arg(long)]
        strict: bool,
    },
    /// Find stored secrets in files (default `.`), git history (--git) or the index (--staged).
    Scan {
        paths: Vec<PathBuf>,
        /// Search every blob reachable in the repository's history.
        #[arg(long)]
        git: bool,
        /// Search what is staged for the next commit.
        #[arg(long)]
        staged: bool,
        #[arg(long)]
        json: bool,
    },
    /// Move secrets out of a config into the vault.
    #[command(subcommand)]
    Import(ImportCmd),
    /// Ask the exchange what a key may really do.
    Verify {
        bot: Option<String>,
        /// Every active bot.
        #[arg(long, conflicts_with = "bot")]
        all: bool,
        /// Warnings fail too.
        #[arg(long)]
        strict: bool,
        /// Accept a VAULT_<EXCHANGE>_BASE_URL that is not a known host (the result is marked unverified).
        #[arg(long)]
        allow_custom_endpoint: bool,
        #[arg(long)]
        json: bool,
    },
    /// The OS-keyring unlock slot.
    #[command(subcommand)]
    Keyring(KeyringCmd),
    /// Cache the unlocked identity in the kernel session keyring.
    Unlock {
        #[arg(long = "for", value_name = "DURATION", default_value = "15m")]
        duration: String,
    },
    /// Clear the session cache.
    Lock,
    /// The audit trail.
    Log {
        bot: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The vault's age identity.
    #[command(subcommand)]
    Identity(IdentityCmd),
    /// Export the body as a standard age file.
    Export {
        #[arg(long, required = true)]
        age: bool,
        #[arg(long, value_name = "PATH")]
        to: PathBuf,
    },
    /// Where the vault is, its permissions, KDF and unlock methods.
    Doctor {
        #[arg(long)]
        json: bool,
    },
    /// Shell completions.
    Completions { shell: clap_complete::Shell },
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Argon2id memory in MiB (default 256, at least 64).
    #[arg(long, value_name = "MIB")]
    pub kdf_memory: Option<u32>,
    /// Argon2id passes (default 3, at least 3).
    #[arg(long, value_name = "N")]
    pub kdf_iterations: Option<u32>,
    /// Argon2id lanes (default 4).
    #[arg(long, value_name = "N")]
    pub kdf_parallelism: Option<u32>,
    /// Also enable the OS-keyring unlock slot.
    #[arg(long)]
    pub keyring: bool,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    pub bot: String,
    #[arg(long, value_name = "EX")]
    pub exchange: String,
    #[arg(long, value_enum, default_value_t = WithdrawalsArg::Unknown)]
    pub withdrawals: WithdrawalsArg,
    #[arg(long = "ip", value_name = "ADDR")]
    pub ips: Vec<String>,
    #[arg(long, value_name = "NAME")]
    pub sub_account: Option<String>,
    #[arg(long, value_enum, default_value_t = ProfileArg::Auto)]
    pub env_profile: ProfileArg,
    #[arg(long, value_name = "DAYS", default_value_t = 90)]
    pub rotate_after: u32,
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// Read key, secret (and passphrase/uid) from stdin, one per line.
    #[arg(long)]
    pub from_stdin: bool,
}

#[derive(Debug, Args)]
pub struct SetArgs {
    pub bot: String,
    #[arg(long, value_enum)]
    pub withdrawals: Option<WithdrawalsArg>,
    #[arg(long = "ip", value_name = "ADDR", conflicts_with = "no_ip")]
    pub ips: Vec<String>,
    /// Clear the IP allow-list.
    #[arg(long)]
    pub no_ip: bool,
    #[arg(long, value_name = "NAME")]
    pub sub_account: Option<String>,
    #[arg(long, value_enum)]
    pub env_profile: Option<ProfileArg>,
    #[arg(long, value_name = "DAYS")]
    pub rotate_after: Option<u32>,
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum SecretCmd {
    /// Set an extra secret (prompted, or read from stdin).
    Set {
        bot: String,
        env_name: String,
        #[arg(long)]
        from_stdin: bool,
    },
    /// Remove an extra secret.
    Remove { bot: String, env_name: String },
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Which bot (default: the only active one). Env: VAULT_BOT.
    #[arg(long)]
    pub bot: Option<String>,
    #[arg(long, value_enum)]
    pub env_profile: Option<ProfileArg>,
    /// Do not mask the bot's secrets in its output.
    #[arg(long)]
    pub no_mask: bool,
    /// Stop the command after this long (SIGTERM, then SIGKILL 10 s later; exit 124).
    #[arg(long, value_name = "DURATION")]
    pub ttl: Option<String>,
    #[arg(long, value_enum, default_value_t = DeliverArg::Env)]
    pub deliver: DeliverArg,
    /// Allow running inside another `vault run`.
    #[arg(long)]
    pub allow_nested: bool,
    /// Run the command as this user (uid, primary group, supplementary groups, HOME, USER,
    /// LOGNAME; no_new_privs). Needs root: for systemd units that hold the identity.
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// The command and its arguments.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<std::ffi::OsString>,
}

#[derive(Debug, Subcommand)]
pub enum ImportCmd {
    /// Import from a freqtrade config (and config-private.json / .env beside it).
    Freqtrade {
        config: PathBuf,
        #[arg(long)]
        bot: String,
        #[arg(long, value_name = "EX")]
        exchange: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyringCmd {
    /// Add the keyring slot.
    Enable {
        #[arg(long, value_enum)]
        store: Option<StoreArg>,
    },
    /// Remove the keyring slot and its entry.
    Disable,
    /// Is the keyring slot there, and does its entry exist?
    Status {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreArg {
    /// The Secret Service over D-Bus (gnome-keyring, KWallet): desktop Linux.
    SecretService,
    /// The kernel's per-user keyring: a Linux server without D-Bus; gone at reboot.
    Keyutils,
    /// The login Keychain: macOS.
    Keychain,
    /// Credential Manager: Windows.
    CredentialManager,
}

#[derive(Debug, Subcommand)]
pub enum IdentityCmd {
    /// Write the vault's age identity to a new 0600 file.
    Export {
        #[arg(long, value_name = "PATH")]
        to: PathBuf,
    },
}
