//! The data model: one bot, one exchange key (rule 4 of the seed).
//!
//! Stored as JSON inside the age body. Secret fields are [`SecretValue`]s; nothing here is
//! ever written anywhere but that body. Old keys are remembered only by fingerprint.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::exchange::Exchange;
use crate::secret::SecretValue;

/// The body's format version.
pub const BODY_FORMAT: u32 = 1;

/// Default rotate-after, in days.
pub const DEFAULT_ROTATE_AFTER_DAYS: u32 = 90;

/// Whether a key may withdraw funds, as declared or as seen by `verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum Withdrawals {
    Disabled,
    #[default]
    Unknown,
    Enabled,
}

impl Withdrawals {
    /// Parses `disabled|unknown|enabled`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "disabled" => Some(Self::Disabled),
            "unknown" => Some(Self::Unknown),
            "enabled" => Some(Self::Enabled),
            _ => None,
        }
    }
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disabled => "disabled",
            Self::Unknown => "unknown",
            Self::Enabled => "enabled",
        }
    }
}

/// Which environment names `vault run` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum EnvProfile {
    #[default]
    Auto,
    Freqtrade,
    Generic,
}

impl EnvProfile {
    /// Parses `auto|freqtrade|generic`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "auto" => Some(Self::Auto),
            "freqtrade" => Some(Self::Freqtrade),
            "generic" => Some(Self::Generic),
            _ => None,
        }
    }
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Freqtrade => "freqtrade",
            Self::Generic => "generic",
        }
    }
}

/// The key's declared scope.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// Declared withdrawal permission.
    pub withdrawals: Withdrawals,
    /// Declared IP allow-list (empty: none declared).
    pub ip_allowlist: Vec<String>,
    /// Sub-account the key belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_account: Option<String>,
}

/// Active, or revoked with when and why. Written as `{"state": "active"}` or
/// `{"state": "revoked", "at": ..., "reason": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum Status {
    /// Usable.
    Active,
    /// Secret material wiped; a tombstone remains.
    Revoked {
        /// When.
        #[serde(with = "crate::ts")]
        at: Timestamp,
        /// Why, as given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
}

/// Read through one flat struct: serde's own reading of an internally tagged enum first
/// copies every entry of the map into a buffer to find the tag, once per bot.
impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "lowercase")]
        enum State {
            Active,
            Revoked,
        }
        #[derive(Deserialize)]
        struct Flat {
            state: State,
            #[serde(default, with = "crate::ts::option")]
            at: Option<Timestamp>,
            #[serde(default)]
            reason: Option<String>,
        }
        let f = Flat::deserialize(d)?;
        match (f.state, f.at) {
            (State::Active, None) if f.reason.is_none() => Ok(Status::Active),
            (State::Active, _) => Err(serde::de::Error::custom(
                "an active status has no `at` or `reason`",
            )),
            (State::Revoked, Some(at)) => Ok(Status::Revoked {
                at,
                reason: f.reason,
            }),
            (State::Revoked, None) => Err(serde::de::Error::missing_field("at")),
        }
    }
}

/// Shorthand for whether a bot is usable.
pub type BotStatus = Status;

/// One retired key: fingerprint and dates only, never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Full fingerprint (hex HMAC-SHA256 under the vault's fingerprint key).
    pub fingerprint: String,
    /// First and last four characters of the key.
    pub key_hint: String,
    /// When that key was stored.
    #[serde(with = "crate::ts")]
    pub added_at: Timestamp,
    /// When it was rotated out or revoked.
    #[serde(with = "crate::ts")]
    pub retired_at: Timestamp,
    /// `rotate` or `revoke`.
    pub event: String,
    /// The reason given, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What the exchange said about the key, bound to the key's fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyResult {
    /// When verify ran.
    #[serde(with = "crate::ts")]
    pub at: Timestamp,
    /// The fingerprint of the key that was verified.
    pub fingerprint: String,
    /// Can the key withdraw? `None`: the exchange does not say.
    pub can_withdraw: Option<bool>,
    /// Can the key trade?
    pub can_trade: Option<bool>,
    /// Is the key IP-restricted? `None`: the exchange does not say.
    pub ip_restricted: Option<bool>,
    /// The allow-list, where the exchange shows it.
    pub ip_allowlist: Vec<String>,
    /// Expiry, where the exchange has one.
    #[serde(default, with = "crate::ts::option")]
    pub expires_at: Option<Timestamp>,
    /// The exchange's own permission names.
    pub permissions: Vec<String>,
    /// False when a custom endpoint was used: run and audit do not trust the result.
    pub trusted: bool,
}

/// The credential fields of one exchange key.
#[derive(Clone, Serialize, Deserialize)]
pub struct StoredCredentials {
    /// API key.
    pub key: SecretValue,
    /// API secret (Coinbase: the PEM private key).
    pub secret: SecretValue,
    /// Passphrase (OKX, KuCoin, Bitget).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passphrase: Option<SecretValue>,
    /// UID, where an exchange uses one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<SecretValue>,
}

impl std::fmt::Debug for StoredCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoredCredentials([REDACTED])")
    }
}

/// A new key as entered by the user.
pub type NewKey = StoredCredentials;

/// One bot and its one exchange key.
#[derive(Clone, Serialize, Deserialize)]
pub struct Bot {
    /// The bot's name.
    pub name: String,
    /// The exchange.
    pub exchange: Exchange,
    /// `None` once revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) credentials: Option<StoredCredentials>,
    /// Extra secrets: environment name -> value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) extra_secrets: BTreeMap<String, SecretValue>,
    /// Fingerprint of the current (or, revoked, the last) key.
    pub fingerprint: String,
    /// First and last four characters of the key.
    pub key_hint: String,
    /// Declared scope.
    pub scope: Scope,
    /// Env profile for `vault run`.
    pub env_profile: EnvProfile,
    /// Rotate after this many days.
    pub rotate_after_days: u32,
    /// When the bot was added.
    #[serde(with = "crate::ts")]
    pub created_at: Timestamp,
    /// When the current key was stored (equals `created_at` until the first rotation).
    #[serde(with = "crate::ts")]
    pub key_added_at: Timestamp,
    /// Last rotation.
    #[serde(
        default,
        with = "crate::ts::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub rotated_at: Option<Timestamp>,
    /// Last verify result (only meaningful if its fingerprint is the current one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<VerifyResult>,
    /// Active or revoked.
    pub status: Status,
    /// Retired keys.
    pub history: Vec<HistoryEntry>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl std::fmt::Debug for Bot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bot")
            .field("name", &self.name)
            .field("exchange", &self.exchange)
            .field("key_hint", &self.key_hint)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl Bot {
    /// The names of the bot's extra secrets.
    pub fn extra_secret_names(&self) -> impl Iterator<Item = &str> {
        self.extra_secrets.keys().map(String::as_str)
    }
    /// True when active.
    pub fn is_active(&self) -> bool {
        self.status == Status::Active
    }
    /// The verify result, only if it is about the current key.
    pub fn current_verify(&self) -> Option<&VerifyResult> {
        self.verify
            .as_ref()
            .filter(|v| v.fingerprint == self.fingerprint)
    }
    /// Which fields the stored key has (names only).
    pub fn credential_fields(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if let Some(c) = &self.credentials {
            v.push("key");
            v.push("secret");
            if c.passphrase.is_some() {
                v.push("passphrase");
            }
            if c.uid.is_some() {
                v.push("uid");
            }
        }
        v
    }
    /// Zeroes every secret value the bot holds ([`Bot::secret_values`]) where it is.
    pub(crate) fn wipe_secrets(&mut self) {
        // Every field named (no `..`): a secret added to the credentials does not compile
        // until it is wiped here too.
        if let Some(StoredCredentials {
            key,
            secret,
            passphrase,
            uid,
        }) = &mut self.credentials
        {
            key.wipe();
            secret.wipe();
            passphrase.iter_mut().for_each(SecretValue::wipe);
            uid.iter_mut().for_each(SecretValue::wipe);
        }
        self.extra_secrets.values_mut().for_each(SecretValue::wipe);
    }
    /// Every secret value the bot holds (key, secret, passphrase, uid, extras) with its field
    /// or environment name: for masking and scanning.
    pub fn secret_values(&self) -> impl Iterator<Item = (&str, &SecretValue)> + '_ {
        // No vector: `list` asks this of every bot (its policy), so a 2,000-bot vault made
        // 2,000 allocations here.
        let c = self.credentials.as_ref();
        [
            ("key", c.map(|c| &c.key)),
            ("secret", c.map(|c| &c.secret)),
            ("passphrase", c.and_then(|c| c.passphrase.as_ref())),
            ("uid", c.and_then(|c| c.uid.as_ref())),
        ]
        .into_iter()
        .filter_map(|(field, v)| Some((field, v?)))
        .chain(self.extra_secrets.iter().map(|(k, s)| (k.as_str(), s)))
    }
    /// The stored credentials (None when revoked).
    pub fn credentials(&self) -> Option<&StoredCredentials> {
        self.credentials.as_ref()
    }
    /// An extra secret's value.
    pub fn extra_secret(&self, name: &str) -> Option<&SecretValue> {
        self.extra_secrets.get(name)
    }
}

/// Everything `add` needs.
#[derive(Debug, Clone)]
pub struct NewBot {
    /// Name (validated).
    pub name: String,
    /// Exchange.
    pub exchange: Exchange,
    /// The key.
    pub key: NewKey,
    /// Declared scope.
    pub scope: Scope,
    /// Env profile.
    pub env_profile: EnvProfile,
    /// Rotate after days.
    pub rotate_after_days: u32,
    /// Note.
    pub note: Option<String>,
    /// Extra secrets to store with the bot (import uses this).
    pub extra_secrets: BTreeMap<String, SecretValue>,
}

/// The decrypted body.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Body {
    pub format: u32,
    pub fingerprint_key: SecretValue,
    pub log_key: SecretValue,
    /// Shared, so that the copy a write edits costs a pointer per bot, and a change copies
    /// only the bot it changes (`Arc::make_mut`). Written exactly as a map of bots.
    #[serde(with = "shared_bots")]
    pub bots: BTreeMap<String, Arc<Bot>>,
    /// Fingerprints of removed bots' keys (current and history).
    #[serde(default)]
    pub retired_fingerprints: Vec<String>,
    /// Files written by `identity export` / `export --age`, for audit's permission check.
    #[serde(default)]
    pub exported_files: Vec<String>,
    /// The fleet on OpenBao (`vault fleet init`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<Fleet>,
}

/// The body's `bots` map, each bot behind an [`Arc`], in the JSON of a plain map of bots.
mod shared_bots {
    use std::collections::BTreeMap;
    use std::fmt;
    use std::sync::Arc;

    use serde::de::{MapAccess, Visitor};
    use serde::{Deserializer, Serializer};

    use super::Bot;

    pub fn serialize<S: Serializer>(
        bots: &BTreeMap<String, Arc<Bot>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_map(bots.iter().map(|(name, bot)| (name, &**bot)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, Arc<Bot>>, D::Error> {
        struct Bots;
        impl<'de> Visitor<'de> for Bots {
            type Value = BTreeMap<String, Arc<Bot>>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of bots")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                // Collected first, then built in one go: vault writes the bots in name order,
                // so the tree is built from a sorted run with full nodes, not by 2,000
                // inserts. A name given twice keeps its last bot, as inserting would.
                let mut bots = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
                while let Some(name) = map.next_key::<String>()? {
                    bots.push((name, Arc::new(map.next_value::<Bot>()?)));
                }
                Ok(bots.into_iter().collect())
            }
        }
        d.deserialize_map(Bots)
    }
}

/// Where the fleet lives in OpenBao and which host runs which bot (no token, no secret).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fleet {
    /// OpenBao addresses, tried in order.
    pub addr: Vec<String>,
    /// The KV v2 mount.
    pub mount: String,
    /// The AppRole auth mount.
    pub approle: String,
    /// Hosts, by name.
    pub hosts: BTreeMap<String, FleetHost>,
    /// Bot -> host.
    pub assign: BTreeMap<String, String>,
}

/// One bot host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetHost {
    /// CIDRs its AppRole login and tokens are bound to (empty: none).
    pub cidr: Vec<String>,
}

/// Checks a bot name: 1-64 of `a-z 0-9 _ -`, starting with a letter or digit.
pub fn validate_bot_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "invalid bot name {:?}: use 1-64 characters of a-z 0-9 _ -, starting with a letter or digit",
            truncate_for_message(name)
        )))
    }
}

/// Checks an environment variable name for an extra secret.
pub fn validate_env_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit();
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "invalid environment name {:?}: use A-Z 0-9 _, not starting with a digit",
            truncate_for_message(name)
        )))
    }
}

fn truncate_for_message(s: &str) -> String {
    s.chars().take(70).collect()
}

/// A checked IP address or CIDR for the allow-list.
pub fn validate_ip(s: &str) -> Result<String> {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let ip: std::net::IpAddr = addr.parse().map_err(|_| {
        Error::InvalidInput(format!(
            "{:?} is not an IP address or CIDR (e.g. 203.0.113.7 or 203.0.113.0/24)",
            truncate_for_message(s)
        ))
    })?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    if let Some(p) = prefix {
        match p.parse::<u8>() {
            Ok(n) if n <= max => {}
            _ => {
                return Err(Error::InvalidInput(format!(
                    "bad prefix length in {:?}",
                    truncate_for_message(s)
                )))
            }
        }
    }
    if ip.is_unspecified() || prefix == Some("0") {
        return Err(Error::InvalidInput(format!(
            "{:?} stands for every address, so it is not an allow-list (rule 2); give your server's own address, e.g. 203.0.113.7",
            truncate_for_message(s)
        )));
    }
    Ok(s.to_string())
}

/// Narrowest prefix an allow-list entry may have and still count as restricting the key:
/// an IPv4 /16 is 65,536 addresses (a whole provider's block), an IPv6 /32 a whole ISP.
pub const WIDEST_IPV4_PREFIX: u8 = 16;
/// See [`WIDEST_IPV4_PREFIX`].
pub const WIDEST_IPV6_PREFIX: u8 = 32;

/// True if an allow-list entry is so wide that it hardly restricts the key: `0.0.0.0/0`,
/// `::/0`, the unspecified address, or a prefix wider than a /16 (IPv4) or /32 (IPv6).
/// Entries that do not parse count as wide (they restrict nothing we can tell).
pub fn ip_entry_is_too_wide(s: &str) -> bool {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let Ok(ip) = addr.parse::<std::net::IpAddr>() else {
        return true;
    };
    if ip.is_unspecified() {
        return true;
    }
    let (widest, max) = if ip.is_ipv4() {
        (WIDEST_IPV4_PREFIX, 32)
    } else {
        (WIDEST_IPV6_PREFIX, 128)
    };
    match prefix.map(str::parse::<u8>) {
        None => false,
        Some(Ok(n)) if n <= max => n < widest,
        Some(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_reads_both_forms_as_written_now_and_by_earlier_versions() {
        let at: Timestamp = "2026-01-02T03:04:05Z".parse().expect("test");
        let read = |t: &str| serde_json::from_str::<Status>(t).expect("test");
        assert_eq!(read(r#"{"state":"active"}"#), Status::Active);
        // Earlier versions wrote `"reason": null`; this one leaves it out.
        for t in [
            r#"{"state":"revoked","at":"2026-01-02T03:04:05Z","reason":null}"#,
            r#"{"state":"revoked","at":"2026-01-02T03:04:05Z"}"#,
            r#"{"at":"2026-01-02T03:04:05Z","state":"revoked"}"#,
        ] {
            assert_eq!(read(t), Status::Revoked { at, reason: None }, "{t}");
        }
        let why = Status::Revoked {
            at,
            reason: Some("leaked".into()),
        };
        assert_eq!(
            read(r#"{"state":"revoked","at":"2026-01-02T03:04:05Z","reason":"leaked"}"#),
            why
        );
        for s in [Status::Active, Status::Revoked { at, reason: None }, why] {
            assert_eq!(read(&serde_json::to_string(&s).expect("test")), s);
        }
        assert_eq!(
            serde_json::to_string(&Status::Revoked { at, reason: None }).expect("test"),
            r#"{"state":"revoked","at":"2026-01-02T03:04:05Z"}"#
        );
    }

    #[test]
    fn wiping_a_bot_zeroes_every_secret_it_holds_and_nothing_else() {
        let text = r#"{"name":"b","exchange":"okx","credentials":{"key":"KEY-CANARY-1","secret":"SECRET-CANARY-2","passphrase":"PASS-CANARY-3","uid":"UID-CANARY-4"},"extra_secrets":{"FREQTRADE__TELEGRAM__TOKEN":"EXTRA-CANARY-5"},"fingerprint":"f","key_hint":"KEY-…RY-1","scope":{"withdrawals":"disabled","ip_allowlist":["203.0.113.7"]},"env_profile":"auto","rotate_after_days":90,"created_at":"2026-01-02T03:04:05Z","key_added_at":"2026-01-02T03:04:05Z","status":{"state":"active"},"history":[]}"#;
        let mut bot: Bot = serde_json::from_str(text).expect("test");
        let lens: Vec<usize> = bot.secret_values().map(|(_, v)| v.len()).collect();
        assert_eq!(lens.len(), 5);
        bot.wipe_secrets();
        let after: Vec<(&str, &str)> = bot.secret_values().map(|(f, v)| (f, v.expose())).collect();
        assert_eq!(after.len(), 5);
        for ((field, v), len) in after.iter().zip(&lens) {
            assert_eq!(v.len(), *len, "{field} keeps its length");
            assert!(v.bytes().all(|b| b == 0), "{field} is zeroed");
        }
        assert_eq!(
            (bot.name.as_str(), bot.key_hint.as_str()),
            ("b", "KEY-…RY-1")
        );
    }

    #[test]
    fn status_refuses_what_no_version_writes() {
        for t in [
            r#"{"state":"revoked"}"#,
            r#"{"state":"revoked","reason":"x"}"#,
            r#"{"state":"active","at":"2026-01-02T03:04:05Z"}"#,
            r#"{"state":"active","reason":"x"}"#,
            r#"{"state":"paused"}"#,
            r#"{"at":"2026-01-02T03:04:05Z"}"#,
            r#"{"state":"revoked","at":"yesterday"}"#,
            r#""active""#,
            "{}",
        ] {
            assert!(serde_json::from_str::<Status>(t).is_err(), "{t}");
        }
    }

    #[test]
    fn a_bot_is_written_without_its_empty_fields_and_read_either_way() {
        // As earlier versions wrote it: every field, null or empty ones included.
        let full = r#"{"name":"b","exchange":"binance","credentials":{"key":"K","secret":"S"},"extra_secrets":{},"fingerprint":"ab","key_hint":"K…K","scope":{"withdrawals":"disabled","ip_allowlist":["203.0.113.7"],"sub_account":null},"env_profile":"auto","rotate_after_days":90,"created_at":"2026-01-02T03:04:05Z","key_added_at":"2026-01-02T03:04:05Z","rotated_at":null,"verify":null,"status":{"state":"active"},"history":[{"fingerprint":"cd","key_hint":"J…J","added_at":"2025-01-02T03:04:05Z","retired_at":"2026-01-02T03:04:05Z","event":"rotate","reason":null}],"note":null}"#;
        // As this version writes it (docs/FORMAT.md): the same bot, the empty fields left out.
        let compact = r#"{"name":"b","exchange":"binance","credentials":{"key":"K","secret":"S"},"fingerprint":"ab","key_hint":"K…K","scope":{"withdrawals":"disabled","ip_allowlist":["203.0.113.7"]},"env_profile":"auto","rotate_after_days":90,"created_at":"2026-01-02T03:04:05Z","key_added_at":"2026-01-02T03:04:05Z","status":{"state":"active"},"history":[{"fingerprint":"cd","key_hint":"J…J","added_at":"2025-01-02T03:04:05Z","retired_at":"2026-01-02T03:04:05Z","event":"rotate"}]}"#;
        for text in [full, compact] {
            let bot: Bot = serde_json::from_str(text).expect("test");
            assert_eq!(serde_json::to_string(&bot).expect("test"), compact);
        }
        // A field that has a value is written as before.
        let mut bot: Bot = serde_json::from_str(compact).expect("test");
        bot.note = Some("n".into());
        bot.scope.sub_account = Some("sub".into());
        let text = serde_json::to_string(&bot).expect("test");
        assert!(text.contains(r#""sub_account":"sub""#) && text.ends_with(r#""note":"n"}"#));
    }

    #[test]
    fn bot_names_follow_the_contract() {
        for ok in ["a", "bot-1", "0x", "my_bot", &"a".repeat(64)] {
            assert!(validate_bot_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "_a",
            "A",
            "a b",
            "a/b",
            "é",
            &"a".repeat(65),
            "../x",
        ] {
            assert!(validate_bot_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ip_allowlist_entries_are_checked() {
        assert!(validate_ip("203.0.113.7").is_ok());
        assert!(validate_ip("203.0.113.0/24").is_ok());
        assert!(validate_ip("2001:db8::/32").is_ok());
        assert!(validate_ip("203.0.113.0/33").is_err());
        assert!(validate_ip("example.com").is_err());
    }
}
