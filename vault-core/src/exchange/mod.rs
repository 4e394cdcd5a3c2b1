//! The exchanges we know, one module each (`binance.rs`, ...): its facts (credential fields,
//! where keys are managed, whether IP restriction can be seen), the hosts and endpoint of
//! `vault verify`'s key-introspection request, its signer and the parser of the answer. A
//! module's [`Spec`] is the only place an exchange is described; everything else asks
//! [`Exchange::spec`].

use serde::{Deserialize, Serialize};

use crate::verify::{Creds, Failure, KeyFacts, Request};

mod binance;
mod bitfinex;
mod bitget;
mod bybit;
mod coinbase;
mod gate;
mod kraken;
mod kucoin;
mod okx;

/// Everything vault knows about one exchange.
pub(crate) struct Spec {
    /// The ccxt id.
    pub id: &'static str,
    /// The page where a user creates, restricts and deletes API keys.
    pub management_url: &'static str,
    /// Keys come with a passphrase.
    pub needs_passphrase: bool,
    /// What the secret looks like.
    pub secret_kind: SecretKind,
    /// The exchange can tell whether a key is IP-restricted.
    pub ip_restriction_knowable: bool,
    /// What the exchange does to a key with no IP allow-list, if it does something.
    pub no_ip_note: Option<&'static str>,
    /// Method and path of the key-introspection request.
    pub endpoint: (&'static str, &'static str),
    /// The default base URL first, then every other host (regional, testnet) accepted
    /// without `--allow-custom-endpoint`.
    pub hosts: &'static [&'static str],
    /// Signs the introspection request (`now_ms` is the clock, a parameter for the vectors).
    pub sign: fn(&Creds<'_>, u64) -> Result<Request, String>,
    /// Reads the answer (HTTP status and body).
    pub parse: fn(u16, &str) -> Result<KeyFacts, Failure>,
    /// Its part of the signing proxy (`vault run --proxy`), where supported.
    pub proxy: Option<&'static crate::proxy::ProxySpec>,
}

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

    /// Its module's description.
    pub(crate) fn spec(self) -> &'static Spec {
        match self {
            Exchange::Binance => &binance::SPEC,
            Exchange::Bybit => &bybit::SPEC,
            Exchange::Okx => &okx::SPEC,
            Exchange::Kucoin => &kucoin::SPEC,
            Exchange::Kraken => &kraken::SPEC,
            Exchange::Coinbase => &coinbase::SPEC,
            Exchange::Bitget => &bitget::SPEC,
            Exchange::Gate => &gate::SPEC,
            Exchange::Bitfinex => &bitfinex::SPEC,
        }
    }

    /// The ccxt id.
    pub fn id(self) -> &'static str {
        self.spec().id
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
        self.spec().needs_passphrase
    }

    /// What the secret looks like.
    pub fn secret_kind(self) -> SecretKind {
        self.spec().secret_kind
    }

    /// The page where a user creates, restricts and deletes API keys.
    pub fn api_management_url(self) -> &'static str {
        self.spec().management_url
    }

    /// Whether the exchange can tell us if a key is IP-restricted.
    pub fn ip_restriction_knowable(self) -> bool {
        self.spec().ip_restriction_knowable
    }

    /// What the exchange does to a key with no IP allow-list, if it does something.
    pub fn no_ip_note(self) -> Option<&'static str> {
        self.spec().no_ip_note
    }
}

impl std::fmt::Display for Exchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}
