//! Bot operations: add, set, rename, rotate, revoke, remove, extra secrets, verify results.
//! Each checks its input first, then makes its change through the one transaction,
//! [`Vault::commit`](super::Vault), on a fresh copy of the file.

use std::path::Path;
use std::sync::Arc;

use jiff::Timestamp;

use super::crypto::fingerprint;
use super::txn::Change;
use super::{short_fp, Vault};
use crate::error::{Error, Result};
use crate::model::{
    validate_bot_name, validate_env_name, validate_ip, Body, Bot, EnvProfile, HistoryEntry, NewBot,
    NewKey, Status, VerifyResult, Withdrawals,
};
use crate::secret::SecretValue;

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
        self.commit(Change { op: "add", bot: name.as_deref(), fp: fp_short, init: false }, move |d| {
let body = &mut d.body;
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
                body.bots.insert(new.name, Arc::new(bot));
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
        self.commit(Change::new("set", Some(name), fp), |d| {
            let body = &mut d.body;
            let bot = bot_mut(body, name)?;
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
        self.commit(Change::new("rename", Some(old), None), |d| {
            let body = &mut d.body;
            if body.bots.contains_key(new) {
                return Err(Error::BotExists(new.to_string()));
            }
            let mut bot = body
                .bots
                .remove(old)
                .ok_or_else(|| Error::NoSuchBot(old.to_string()))?;
            Arc::make_mut(&mut bot).name = new.to_string();
            body.bots.insert(new.to_string(), bot);
            Ok(())
        })
    }

    /// Replaces a bot's key; the old key is kept as a fingerprint in the history.
    pub fn rotate(&mut self, name: &str, key: NewKey, reason: Option<String>) -> Result<()> {
        let exchange = self.bot(name)?.exchange;
        check_key(exchange, &key)?;
        let fp_short = short_fp(&self.fingerprint(key.key.expose()));
        self.commit(Change { op: "rotate", bot: Some(name), fp: Some(fp_short), init: false }, |d| {
let body = &mut d.body;
            let fp = fingerprint(body, key.key.expose());
            if let Some(owner) = fingerprint_owner(body, &fp) {
                return Err(Error::Policy(format!(
                    "this key is already known to the vault ({owner}). Rule 4: one key per bot; create a new key at the exchange"
                )));
            }
            let bot = bot_mut(body, name)?;
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
        self.commit(Change::new("revoke", Some(name), fp), |d| {
            let body = &mut d.body;
            let bot = bot_mut(body, name)?;
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
        self.commit(Change::new("remove", Some(name), fp), |d| {
            let body = &mut d.body;
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
        self.commit(Change::new("secret-set", Some(name), None), |d| {
            let body = &mut d.body;
            let bot = bot_mut(body, name)?;
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
        self.commit(Change::new("secret-remove", Some(name), None), |d| {
            let body = &mut d.body;
            let bot = bot_mut(body, name)?;
            bot.extra_secrets.remove(env);
            Ok(())
        })
    }

    /// Replaces the fleet record (`vault fleet ...`); `None` removes it.
    pub fn set_fleet(&mut self, fleet: Option<crate::model::Fleet>, op: &str) -> Result<()> {
        self.commit(Change::vault(op), |d| {
            d.body.fleet = fleet;
            Ok(())
        })
    }

    /// Records a verify result (bound to the current key's fingerprint).
    pub fn record_verify(&mut self, name: &str, result: VerifyResult) -> Result<()> {
        self.commit(Change::new("verify", Some(name), None), |d| {
            let body = &mut d.body;
            let bot = bot_mut(body, name)?;
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
        self.commit(Change::new(op, None, None), |d| {
            let body = &mut d.body;
            if !body.exported_files.contains(&p) {
                body.exported_files.push(p);
            }
            Ok(())
        })
    }
}

/// The bot named `name` in the fresh copy a change edits: copied there first if the copy
/// still shares it with the `Vault` (only that bot is copied).
fn bot_mut<'a>(body: &'a mut Body, name: &str) -> Result<&'a mut Bot> {
    body.bots
        .get_mut(name)
        .map(Arc::make_mut)
        .ok_or_else(|| Error::NoSuchBot(name.to_string()))
}

pub(super) fn fingerprint_owner(body: &Body, fp: &str) -> Option<String> {
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
