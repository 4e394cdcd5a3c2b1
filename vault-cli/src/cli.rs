//! Command-line definitions only: no logic, so completions can be generated from it.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use vault_core::Exchange;

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
    /// Session cache, keyring, identity file, then passphrase.
    Auto,
    /// The keyring slot.
    Keyring,
    /// The identity file (--identity).
    Identity,
    /// The passphrase (file, or a prompt on a terminal).
    Passphrase,
    /// The session cache of `vault unlock`.
    Session,
}

/// `--withdrawals`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WithdrawalsArg {
    /// The key cannot withdraw.
    Disabled,
    /// Not known yet (`vault verify` asks the exchange).
    Unknown,
    /// The key can withdraw: refused (rule 1).
    Enabled,
}

/// `--env-profile`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProfileArg {
    /// freqtrade's names when the command is freqtrade, else the generic ones.
    Auto,
    /// FREQTRADE__EXCHANGE__KEY, __SECRET, __PASSWORD, __UID.
    Freqtrade,
    /// EXCHANGE_KEY, EXCHANGE_SECRET, EXCHANGE_PASSPHRASE, EXCHANGE_UID.
    Generic,
}

/// `--deliver`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeliverArg {
    /// In the child's environment.
    Env,
    /// In a sealed memfd passed to freqtrade as `-c /dev/fd/N`.
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
    Rename(RenameArgs),
    /// A bot's extra secrets (e.g. FREQTRADE__TELEGRAM__TOKEN).
    #[command(subcommand)]
    Secret(SecretCmd),
    /// List bots.
    List(ListArgs),
    /// Show one bot's metadata and rotation history.
    Show(ShowArgs),
    /// Replace a bot's key (the old one is kept as a fingerprint only).
    Rotate(RotateArgs),
    /// Wipe a bot's secrets and keep a tombstone; `run` refuses it afterwards.
    Revoke(RevokeArgs),
    /// Delete a bot entirely (its key can never be added again).
    Remove(RemoveArgs),
    /// Change the passphrase (re-wraps the passphrase slot).
    Passwd(PasswdArgs),
    /// New identity: re-encrypt everything and re-wrap every slot.
    Rekey(RekeyArgs),
    /// Run a command with a bot's credentials.
    Run(RunArgs),
    /// The security checklist over every bot and the vault itself.
    Audit(AuditArgs),
    /// Find stored secrets in files (default `.`), git history (--git) or the index (--staged).
    Scan(ScanArgs),
    /// Move secrets out of a config into the vault.
    #[command(subcommand)]
    Import(ImportCmd),
    /// Ask the exchange what a key may really do.
    Verify(VerifyArgs),
    /// The OS-keyring unlock slot.
    #[command(subcommand)]
    Keyring(KeyringCmd),
    /// Cache the unlocked identity in the kernel session keyring.
    Unlock(UnlockArgs),
    /// Clear the session cache.
    Lock,
    /// The audit trail.
    Log(LogArgs),
    /// The vault's age identity.
    #[command(subcommand)]
    Identity(IdentityCmd),
    /// Export the body as a standard age file.
    Export(ExportArgs),
    /// Where the vault is, its permissions, KDF and unlock methods.
    Doctor(DoctorArgs),
    /// Shell completions.
    Completions(CompletionsArgs),
    /// Many bot hosts, one operator, on OpenBao (docs/FLEET.md).
    #[command(subcommand)]
    Fleet(FleetCmd),
}

#[derive(Debug, Subcommand)]
pub enum FleetCmd {
    /// Record the fleet in the vault; enable the KV v2 mount and AppRole in OpenBao if missing.
    Init(FleetInitArgs),
    /// Bot hosts: a read-only policy and an AppRole role each.
    #[command(subcommand)]
    Host(FleetHostCmd),
    /// Say which host runs a bot.
    Assign(FleetAssignArgs),
    /// Take a bot off its host (`push` then deletes its key from OpenBao).
    Unassign(FleetUnassignArgs),
    /// Write each assigned active bot to OpenBao, destroy older versions, delete the rest.
    Push(FleetPushArgs),
    /// Hosts, their bots, and whether OpenBao holds each one's current key.
    Status(FleetStatusArgs),
    /// On a bot host: unwrap the secret id `host add` printed and write a 0600 host credential.
    Enrol(FleetEnrolArgs),
}

#[derive(Debug, Subcommand)]
pub enum FleetHostCmd {
    /// Add a host: its policy, its AppRole role, and a wrapped single-use secret id (15 min).
    Add(FleetHostAddArgs),
    /// Remove a host: its secret ids, role, policy and every key stored for it.
    Remove(FleetHostRemoveArgs),
}

#[derive(Debug, Args)]
pub struct FleetInitArgs {
    /// An OpenBao address (repeat for each node of a cluster; tried in order).
    #[arg(long = "addr", value_name = "URL", required = true, value_parser = url_arg)]
    pub addr: Vec<String>,
    /// The KV v2 mount that holds the bots' keys.
    #[arg(long, default_value = "vault-fleet", value_parser = bot_arg)]
    pub mount: String,
    /// The AppRole auth mount.
    #[arg(long, default_value = "approle", value_parser = bot_arg)]
    pub approle: String,
}

#[derive(Debug, Args)]
pub struct FleetHostAddArgs {
    /// The host's name (like a bot name).
    #[arg(value_parser = bot_arg)]
    pub host: String,
    /// Bind the host's login and tokens to this CIDR (repeatable).
    #[arg(long, value_name = "CIDR", value_parser = ip_arg)]
    pub cidr: Vec<String>,
    /// Print JSON: {"host", "addr", "role_id", "wrapped_secret_id"}.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct FleetHostRemoveArgs {
    /// The host's name.
    #[arg(value_parser = bot_arg)]
    pub host: String,
}

#[derive(Debug, Args)]
pub struct FleetAssignArgs {
    /// The bot.
    #[arg(value_parser = bot_arg)]
    pub bot: String,
    /// The host that runs it.
    #[arg(value_parser = bot_arg)]
    pub host: String,
}

#[derive(Debug, Args)]
pub struct FleetUnassignArgs {
    /// The bot.
    #[arg(value_parser = bot_arg)]
    pub bot: String,
}

#[derive(Debug, Args)]
pub struct FleetPushArgs {
    /// Say what would change; write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct FleetStatusArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct FleetEnrolArgs {
    /// An OpenBao address (repeat for each node; tried in order).
    #[arg(long = "addr", value_name = "URL", required = true, value_parser = url_arg)]
    pub addr: Vec<String>,
    /// The role id `vault fleet host add` printed.
    #[arg(long, value_name = "ID")]
    pub role_id: String,
    /// The wrapped secret id `vault fleet host add` printed (single-use, 15 min); `-` reads
    /// it from stdin, which keeps it out of the process list.
    #[arg(long, value_name = "TOKEN")]
    pub wrapped_secret_id: String,
    /// Where to write the host credential (0600; must not exist).
    #[arg(long, value_name = "PATH")]
    pub to: PathBuf,
    /// The KV v2 mount of the fleet.
    #[arg(long, default_value = "vault-fleet", value_parser = bot_arg)]
    pub mount: String,
    /// The AppRole auth mount.
    #[arg(long, default_value = "approle", value_parser = bot_arg)]
    pub approle: String,
}

/// An exchange by its ccxt id (`gateio`, `okex` and `coinbaseadvanced` are accepted too).
#[derive(Debug, Clone, Copy)]
pub struct ExchangeParser;

impl clap::builder::TypedValueParser for ExchangeParser {
    type Value = Exchange;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Exchange, clap::Error> {
        value.to_str().and_then(Exchange::parse).ok_or_else(|| {
            let mut e = clap::Error::new(clap::error::ErrorKind::InvalidValue).with_cmd(cmd);
            e.insert(
                clap::error::ContextKind::InvalidArg,
                clap::error::ContextValue::String(
                    arg.map_or_else(|| "--exchange".into(), |a| a.to_string()),
                ),
            );
            e.insert(
                clap::error::ContextKind::InvalidValue,
                clap::error::ContextValue::String(value.to_string_lossy().into_owned()),
            );
            e.insert(
                clap::error::ContextKind::ValidValue,
                clap::error::ContextValue::Strings(
                    Exchange::ALL.iter().map(|x| x.id().to_string()).collect(),
                ),
            );
            e
        })
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            Exchange::ALL
                .into_iter()
                .map(|x| clap::builder::PossibleValue::new(x.id())),
        ))
    }
}

/// `30s`, `15m`, `8h` or `2d`.
fn duration_arg(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let bad = || format!("{s:?} is not a duration: use 30s, 15m, 8h or 2d");
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?);
    let n: u64 = num.parse().map_err(|_| bad())?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    n.checked_mul(mult)
        .filter(|&v| v > 0)
        .map(Duration::from_secs)
        .ok_or_else(bad)
}

/// An IPv4/IPv6 address or CIDR block that is an allow-list entry (not 0.0.0.0/0).
fn ip_arg(s: &str) -> Result<String, String> {
    vault_core::model::validate_ip(s).map_err(|e| e.to_string())
}

/// An OpenBao address: `http(s)://host[:port]`, no path.
fn url_arg(s: &str) -> Result<String, String> {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or_else(|| format!("{s:?} is not an address; use e.g. https://bao.example.com:8200"))?;
    let host = rest.trim_end_matches('/');
    if host.is_empty() || host.contains('/') || host.contains(char::is_whitespace) {
        return Err(format!(
            "{s:?} is not an address; use e.g. https://bao.example.com:8200"
        ));
    }
    Ok(s.trim_end_matches('/').to_string())
}

/// `--allow METHOD:PATH`: an HTTP method and an absolute path, no query.
fn allow_arg(s: &str) -> Result<(String, String), String> {
    let bad = || format!("{s:?} is not METHOD:PATH; use e.g. GET:/api/v3/myPreventedMatches");
    let (m, p) = s.split_once(':').ok_or_else(bad)?;
    let m = m.trim().to_ascii_uppercase();
    if !matches!(m.as_str(), "GET" | "POST" | "PUT" | "DELETE")
        || !p.starts_with('/')
        || p.contains('?')
    {
        return Err(bad());
    }
    Ok((m, p.to_string()))
}

/// `--symbols`: one symbol, in any notation (BTC/USDT, BTCUSDT, BTC-USDT).
fn symbol_arg(s: &str) -> Result<String, String> {
    let n = vault_core::proxy::normalize_symbol(s);
    if n.is_empty() || n.len() > 40 {
        return Err(format!("{s:?} is not a symbol; use e.g. BTC/USDT"));
    }
    Ok(n)
}

/// `--max-notional`: a positive amount in the quote currency.
fn notional_arg(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(format!("{s:?} is not a positive amount; use e.g. 500")),
    }
}

/// A bot name: 1-64 of `a-z 0-9 _ -`, starting with a letter or digit.
fn bot_arg(s: &str) -> Result<String, String> {
    vault_core::model::validate_bot_name(s)
        .map(|()| s.to_string())
        .map_err(|e| e.to_string())
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Argon2id memory in MiB (default 256, or the largest of 128 and 64 that fits in half of
    /// the free memory; at least 64).
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
    /// The bot's name: 1-64 of a-z 0-9 _ -, starting with a letter or digit.
    #[arg(value_parser = bot_arg)]
    pub bot: String,
    /// The exchange the key is for (its ccxt id).
    #[arg(long, value_name = "EX", value_parser = ExchangeParser)]
    pub exchange: Exchange,
    /// What the exchange says about withdrawals for this key (`enabled` is refused: rule 1).
    #[arg(long, value_enum, default_value_t = WithdrawalsArg::Unknown)]
    pub withdrawals: WithdrawalsArg,
    /// An address or CIDR block on the key's IP allow-list at the exchange (repeatable).
    #[arg(long = "ip", value_name = "ADDR", value_parser = ip_arg)]
    pub ips: Vec<String>,
    /// The exchange sub-account the key belongs to.
    #[arg(long, value_name = "NAME")]
    pub sub_account: Option<String>,
    /// The variable names the bot gets (auto: freqtrade's when the command is freqtrade).
    #[arg(long, value_enum, default_value_t = ProfileArg::Auto)]
    pub env_profile: ProfileArg,
    /// Audit warns when the key is older than this many days.
    #[arg(long, value_name = "DAYS", default_value_t = 90)]
    pub rotate_after: u32,
    /// A note kept with the bot (not secret).
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// Read key, secret (and passphrase/uid) from stdin, one per line.
    #[arg(long)]
    pub from_stdin: bool,
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// The bot.
    pub bot: String,
    /// What the exchange says about withdrawals for this key (`enabled` is refused: rule 1).
    #[arg(long, value_enum)]
    pub withdrawals: Option<WithdrawalsArg>,
    /// Replace the IP allow-list with these addresses or CIDR blocks (repeatable).
    #[arg(long = "ip", value_name = "ADDR", conflicts_with = "no_ip", value_parser = ip_arg)]
    pub ips: Vec<String>,
    /// Clear the IP allow-list.
    #[arg(long)]
    pub no_ip: bool,
    /// The exchange sub-account (an empty value clears it).
    #[arg(long, value_name = "NAME")]
    pub sub_account: Option<String>,
    /// The variable names the bot gets.
    #[arg(long, value_enum)]
    pub env_profile: Option<ProfileArg>,
    /// Audit warns when the key is older than this many days.
    #[arg(long, value_name = "DAYS")]
    pub rotate_after: Option<u32>,
    /// A note kept with the bot (an empty value clears it).
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
}

#[derive(Debug, Args)]
pub struct RenameArgs {
    /// The bot's current name.
    pub old: String,
    /// Its new name: 1-64 of a-z 0-9 _ -, starting with a letter or digit.
    #[arg(value_parser = bot_arg)]
    pub new: String,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print JSON (docs/schemas/list.schema.json).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The bot.
    pub bot: String,
    /// Print JSON (docs/schemas/show.schema.json).
    #[arg(long)]
    pub json: bool,
    /// Print the secrets themselves.
    #[arg(long)]
    pub reveal: bool,
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The bot.
    pub bot: String,
    /// Read the new key, secret (and passphrase/uid) from stdin, one per line.
    #[arg(long)]
    pub from_stdin: bool,
    /// Why (kept in the bot's history).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The bot.
    pub bot: String,
    /// Why (kept in the tombstone).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The bot.
    pub bot: String,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct PasswdArgs {
    /// Read the new passphrase from the first line of this 0600 file instead of prompting.
    /// Env: VAULT_NEW_PASSPHRASE_FILE.
    #[arg(long, value_name = "PATH")]
    pub new_passphrase_file: Option<PathBuf>,
    /// Argon2id memory in MiB for the re-wrapped slot (default: the vault's own, or the
    /// largest default that fits this machine).
    #[arg(long, value_name = "MIB")]
    pub kdf_memory: Option<u32>,
}

#[derive(Debug, Args)]
pub struct RekeyArgs {
    /// Read the new passphrase from the first line of this 0600 file instead of prompting.
    /// Env: VAULT_NEW_PASSPHRASE_FILE.
    #[arg(long, value_name = "PATH")]
    pub new_passphrase_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Print JSON (docs/schemas/audit.schema.json).
    #[arg(long)]
    pub json: bool,
    /// Warnings fail too (exit 5).
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files and directories to search (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// Search every blob reachable in the repository's history.
    #[arg(long)]
    pub git: bool,
    /// Search what is staged for the next commit.
    #[arg(long)]
    pub staged: bool,
    /// Print JSON (docs/schemas/scan.schema.json).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The bot (default: the only active one).
    pub bot: Option<String>,
    /// Every active bot.
    #[arg(long, conflicts_with = "bot")]
    pub all: bool,
    /// Warnings fail too.
    #[arg(long)]
    pub strict: bool,
    /// Accept a VAULT_<EXCHANGE>_BASE_URL that is not a known host (the result is marked unverified).
    #[arg(long)]
    pub allow_custom_endpoint: bool,
    /// Print JSON (docs/schemas/verify.schema.json).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct UnlockArgs {
    /// How long the cache lasts (30s, 15m, 8h; at most 12h).
    #[arg(long = "for", value_name = "DURATION", default_value = "15m", value_parser = duration_arg)]
    pub duration: Duration,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// Only this bot's entries.
    pub bot: Option<String>,
    /// Print JSON (docs/schemas/log.schema.json).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Export the body as a standard age file (the only format).
    #[arg(long, required = true)]
    pub age: bool,
    /// The new file to write (0600; never overwritten).
    #[arg(long, value_name = "PATH")]
    pub to: PathBuf,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print JSON (docs/schemas/doctor.schema.json).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Subcommand)]
pub enum SecretCmd {
    /// Set an extra secret (prompted, or read from stdin).
    Set(SecretSetArgs),
    /// Remove an extra secret.
    Remove(SecretRemoveArgs),
}

#[derive(Debug, Args)]
pub struct SecretSetArgs {
    /// The bot.
    pub bot: String,
    /// The variable the bot gets it in (e.g. FREQTRADE__TELEGRAM__TOKEN).
    pub env_name: String,
    /// Read the value from the first line of stdin.
    #[arg(long)]
    pub from_stdin: bool,
}

#[derive(Debug, Args)]
pub struct SecretRemoveArgs {
    /// The bot.
    pub bot: String,
    /// The variable name of the secret.
    pub env_name: String,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Which bot (default: the only active one). Env: VAULT_BOT.
    #[arg(long)]
    pub bot: Option<String>,
    /// The variable names the bot gets (default: the bot's own setting).
    #[arg(long, value_enum)]
    pub env_profile: Option<ProfileArg>,
    /// Do not mask the bot's secrets in its output.
    #[arg(long)]
    pub no_mask: bool,
    /// Stop the command after this long (SIGTERM, then SIGKILL 10 s later; exit 124).
    #[arg(long, value_name = "DURATION", value_parser = duration_arg)]
    pub ttl: Option<Duration>,
    /// How the secrets reach the bot: its environment, or (freqtrade) a sealed config file
    /// passed as `-c /dev/fd/N`.
    #[arg(long, value_enum, default_value_t = DeliverArg::Env)]
    pub deliver: DeliverArg,
    /// Allow running inside another `vault run`.
    #[arg(long)]
    pub allow_nested: bool,
    /// Run the command as this user (uid, primary group, supplementary groups, HOME, USER,
    /// LOGNAME; no_new_privs). Needs root: for systemd units that hold the identity.
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Keep the real key in `vault`: the bot gets stand-in credentials and a signing proxy at
    /// VAULT_PROXY_URL that re-signs its requests with the real key (every exchange vault knows).
    #[arg(long)]
    pub proxy: bool,
    /// With --proxy, also allow this private endpoint. Withdrawals, transfers, sub-account
    /// and API-key management stay refused.
    #[arg(long, value_name = "METHOD:PATH", requires = "proxy", value_parser = allow_arg)]
    pub allow: Vec<(String, String)>,
    /// With --proxy, refuse orders for any other symbol (BTC/USDT, BTCUSDT, BTC-USDT alike).
    #[arg(long, value_name = "SYM,...", value_delimiter = ',', requires = "proxy", value_parser = symbol_arg)]
    pub symbols: Vec<String>,
    /// With --proxy, refuse orders above this notional (price x quantity, or a quote
    /// quantity), and orders whose notional the request does not show.
    #[arg(long, value_name = "AMOUNT", requires = "proxy", value_parser = notional_arg)]
    pub max_notional: Option<f64>,
    /// On a fleet host: read the bot from OpenBao with this host credential (`vault fleet
    /// enrol`) instead of a vault file; needs --bot.
    #[arg(
        long,
        value_name = "PATH",
        env = "VAULT_HOST_CREDENTIAL",
        hide_env_values = true
    )]
    pub host_credential: Option<PathBuf>,
    /// The command and its arguments.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<std::ffi::OsString>,
}

#[derive(Debug, Subcommand)]
pub enum ImportCmd {
    /// Import from a freqtrade config (and config-private.json / .env beside it).
    Freqtrade(ImportFreqtradeArgs),
}

#[derive(Debug, Args)]
pub struct ImportFreqtradeArgs {
    /// The freqtrade config file (JSON with comments).
    pub config: PathBuf,
    /// The bot to create.
    #[arg(long, value_parser = bot_arg)]
    pub bot: String,
    /// The exchange, when the config does not name it.
    #[arg(long, value_name = "EX", value_parser = ExchangeParser)]
    pub exchange: Option<Exchange>,
}

#[derive(Debug, Subcommand)]
pub enum KeyringCmd {
    /// Add the keyring slot.
    Enable(KeyringEnableArgs),
    /// Remove the keyring slot and its entry.
    Disable,
    /// Is the keyring slot there, and does its entry exist?
    Status(KeyringStatusArgs),
}

#[derive(Debug, Args)]
pub struct KeyringEnableArgs {
    /// Which store keeps the wrapping key (default: the platform's own; on Linux the Secret
    /// Service when there is a D-Bus session).
    #[arg(long, value_enum)]
    pub store: Option<StoreArg>,
}

#[derive(Debug, Args)]
pub struct KeyringStatusArgs {
    /// Print JSON (docs/schemas/keyring-status.schema.json).
    #[arg(long)]
    pub json: bool,
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
    Export(IdentityExportArgs),
}

#[derive(Debug, Args)]
pub struct IdentityExportArgs {
    /// The new file to write (0600; never overwritten).
    #[arg(long, value_name = "PATH")]
    pub to: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::duration_arg;
    use std::time::Duration;

    #[test]
    fn durations_follow_the_contract() {
        assert_eq!(duration_arg("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(duration_arg("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(duration_arg("8h"), Ok(Duration::from_secs(28_800)));
        assert_eq!(duration_arg("2d"), Ok(Duration::from_secs(172_800)));
        for bad in [
            "",
            "0s",
            "15",
            "m",
            "1.5h",
            "-1m",
            "3w",
            "15min",
            "99999999999999999999d",
        ] {
            assert!(duration_arg(bad).is_err(), "{bad}");
        }
    }
}
