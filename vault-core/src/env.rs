//! The environment contract between `vault run` and the bot it starts.
//!
//! The names each profile uses live here, once, so the CLI (which sets and clears them) and a
//! Rust bot (which reads them with [`Credentials::from_env`]) cannot drift apart.

use crate::error::{Error, Result};
use crate::model::Bot;
use crate::secret::SecretValue;

/// The names one profile uses for the four credential fields.
#[derive(Debug, Clone, Copy)]
pub struct ProfileNames {
    /// API key.
    pub key: &'static str,
    /// API secret.
    pub secret: &'static str,
    /// Passphrase / password.
    pub passphrase: &'static str,
    /// UID.
    pub uid: &'static str,
}

/// freqtrade's names.
pub const FREQTRADE: ProfileNames = ProfileNames {
    key: "FREQTRADE__EXCHANGE__KEY",
    secret: "FREQTRADE__EXCHANGE__SECRET",
    passphrase: "FREQTRADE__EXCHANGE__PASSWORD",
    uid: "FREQTRADE__EXCHANGE__UID",
};

/// Generic names (ccxt scripts, Rust bots).
pub const GENERIC: ProfileNames = ProfileNames {
    key: "EXCHANGE_KEY",
    secret: "EXCHANGE_SECRET",
    passphrase: "EXCHANGE_PASSPHRASE",
    uid: "EXCHANGE_UID",
};

/// Set in the child: which bot.
pub const VAULT_BOT: &str = "VAULT_BOT";
/// Set in the child: the supervising pid (marks a run; nesting is refused).
pub const VAULT_RUN: &str = "VAULT_RUN";
/// Set in the child by `vault run --proxy`: `http://127.0.0.1:PORT/`, the signing proxy.
pub const VAULT_PROXY_URL: &str = "VAULT_PROXY_URL";
/// Variables that open the vault: never passed to a child.
pub const UNLOCK_VARS: [&str; 7] = [
    "VAULT_IDENTITY_FILE",
    "VAULT_PASSPHRASE_FILE",
    "VAULT_NEW_PASSPHRASE_FILE",
    // systemd's credentials (the identity sealed for the unit) and the fleet's host
    // credential: a bot that can read them can open the vault or log in as the host.
    "CREDENTIALS_DIRECTORY",
    "VAULT_HOST_CREDENTIAL",
    // OpenBao / HashiCorp Vault tokens the operator's shell may hold.
    "BAO_TOKEN",
    "VAULT_TOKEN",
];

impl ProfileNames {
    /// The four names.
    pub fn all(&self) -> [&'static str; 4] {
        [self.key, self.secret, self.passphrase, self.uid]
    }
}

/// A bot's credentials as a bot program sees them.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// The bot's name (from `VAULT_BOT`), if known.
    pub bot: Option<String>,
    /// API key.
    pub key: SecretValue,
    /// API secret.
    pub secret: SecretValue,
    /// Passphrase, where the exchange has one.
    pub passphrase: Option<SecretValue>,
    /// UID, where the exchange has one.
    pub uid: Option<SecretValue>,
}

impl Credentials {
    /// For a program started by `vault run`: reads the freqtrade names, else the generic ones.
    pub fn from_env() -> Result<Credentials> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// As [`Credentials::from_env`], from any lookup (testable without touching the process env).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Credentials> {
        for names in [FREQTRADE, GENERIC] {
            if let (Some(key), Some(secret)) = (get(names.key), get(names.secret)) {
                return Ok(Credentials {
                    bot: get(VAULT_BOT),
                    key: SecretValue::new(key),
                    secret: SecretValue::new(secret),
                    passphrase: get(names.passphrase).map(SecretValue::new),
                    uid: get(names.uid).map(SecretValue::new),
                });
            }
        }
        Err(Error::InvalidInput(
            "no exchange credentials in the environment: start this program with `vault run -- PROGRAM`".into(),
        ))
    }

    /// From an unlocked vault's bot. Refuses a revoked bot.
    pub fn from_bot(bot: &Bot) -> Result<Credentials> {
        let c = bot
            .credentials()
            .ok_or_else(|| Error::Policy(format!("{} is revoked", bot.name)))?;
        Ok(Credentials {
            bot: Some(bot.name.clone()),
            key: c.key.clone(),
            secret: c.secret.clone(),
            passphrase: c.passphrase.clone(),
            uid: c.uid.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn from_env_reads_both_profiles() {
        let m: HashMap<&str, &str> = [("EXCHANGE_KEY", "k1"), ("EXCHANGE_SECRET", "s1")].into();
        let c = Credentials::from_lookup(|k| m.get(k).map(|v| v.to_string())).expect("generic");
        assert_eq!(c.key.expose(), "k1");
        let m: HashMap<&str, &str> = [
            ("FREQTRADE__EXCHANGE__KEY", "k2"),
            ("FREQTRADE__EXCHANGE__SECRET", "s2"),
            ("FREQTRADE__EXCHANGE__PASSWORD", "p2"),
            ("VAULT_BOT", "b"),
        ]
        .into();
        let c = Credentials::from_lookup(|k| m.get(k).map(|v| v.to_string())).expect("freqtrade");
        assert_eq!(c.secret.expose(), "s2");
        assert_eq!(c.passphrase.as_ref().map(|p| p.expose()), Some("p2"));
        assert_eq!(c.bot.as_deref(), Some("b"));
        assert!(Credentials::from_lookup(|_| None).is_err());
    }
}
