//! The exchanges we know: which credential fields each needs, and where its keys are managed.

use serde::{Deserialize, Serialize};

/// An exchange, by its ccxt id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum Exchange {
    Binance,
    Bybit,
    Okx,
    Kucoin,
    Kraken,
    Coinbase,
    Bitget,
    Gate,
    Bitfinex,
}

/// Which credential fields an exchange needs besides the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// A plain HMAC secret on one line.
    Line,
    /// A PEM private key (Coinbase CDP keys), multi-line.
    Pem,
}

impl Exchange {
    /// Every exchange, in display order.
    pub const ALL: [Exchange; 9] = [
        Exchange::Binance,
        Exchange::Bybit,
        Exchange::Okx,
        Exchange::Kucoin,
        Exchange::Kraken,
        Exchange::Coinbase,
        Exchange::Bitget,
        Exchange::Gate,
        Exchange::Bitfinex,
    ];

    /// The ccxt id.
    pub fn id(self) -> &'static str {
        match self {
            Exchange::Binance => "binance",
            Exchange::Bybit => "bybit",
            Exchange::Okx => "okx",
            Exchange::Kucoin => "kucoin",
            Exchange::Kraken => "kraken",
            Exchange::Coinbase => "coinbase",
            Exchange::Bitget => "bitget",
            Exchange::Gate => "gate",
            Exchange::Bitfinex => "bitfinex",
        }
    }

    /// Parses a ccxt id (a few common aliases accepted).
    pub fn parse(s: &str) -> Option<Exchange> {
        let s = s.trim().to_ascii_lowercase();
        let alias = match s.as_str() {
            "gateio" => "gate",
            "coinbaseadvanced" | "coinbase-advanced" => "coinbase",
            "okex" => "okx",
            other => other,
        };
        Exchange::ALL.into_iter().find(|e| e.id() == alias)
    }

    /// OKX, KuCoin and Bitget keys come with a passphrase.
    pub fn needs_passphrase(self) -> bool {
        matches!(self, Exchange::Okx | Exchange::Kucoin | Exchange::Bitget)
    }

    /// What the secret looks like.
    pub fn secret_kind(self) -> SecretKind {
        if self == Exchange::Coinbase {
            SecretKind::Pem
        } else {
            SecretKind::Line
        }
    }

    /// The page where a user creates, restricts and deletes API keys.
    pub fn api_management_url(self) -> &'static str {
        match self {
            Exchange::Binance => "https://www.binance.com/en/my/settings/api-management",
            Exchange::Bybit => "https://www.bybit.com/app/user/api-management",
            Exchange::Okx => "https://www.okx.com/account/my-api",
            Exchange::Kucoin => "https://www.kucoin.com/account/api",
            Exchange::Kraken => "https://pro.kraken.com/app/settings/api",
            Exchange::Coinbase => "https://portal.cdp.coinbase.com/projects/api-keys",
            Exchange::Bitget => "https://www.bitget.com/account/newapi",
            Exchange::Gate => "https://www.gate.io/myaccount/api_key_manage",
            Exchange::Bitfinex => "https://setting.bitfinex.com/api",
        }
    }

    /// Whether the exchange can tell us if a key is IP-restricted.
    pub fn ip_restriction_knowable(self) -> bool {
        !matches!(self, Exchange::Coinbase | Exchange::Bitfinex)
    }
}

impl std::fmt::Display for Exchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}
