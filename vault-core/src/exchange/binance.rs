//! Binance: the facts vault needs, the signer of `vault verify`'s key-introspection request,
//! and the parser of the answer (shared/reference/exchanges.md).

use super::{SecretKind, Spec};
#[allow(unused_imports)]
use crate::verify::prelude::*;

pub(super) const SPEC: Spec = Spec {
    id: "binance",
    management_url: "https://www.binance.com/en/my/settings/api-management",
    needs_passphrase: false,
    secret_kind: SecretKind::Line,
    ip_restriction_knowable: true,
    no_ip_note: None,
    endpoint: ("GET", "/sapi/v1/account/apiRestrictions"),
    hosts: &[
        "https://api.binance.com",
        "https://api1.binance.com",
        "https://api2.binance.com",
        "https://api3.binance.com",
        "https://api4.binance.com",
        "https://testnet.binance.vision",
    ],
    sign,
    parse,
};

fn sign(c: &Creds<'_>, now_ms: u64) -> Result<Request, String> {
    let (method, path) = SPEC.endpoint;
    let secret = c.secret.as_bytes();
    let query = format!("timestamp={now_ms}&recvWindow=10000");
    let sig = hex::encode(hmac_sha256(secret, query.as_bytes()));
    Ok(Request {
        method,
        path_and_query: format!("{path}?{query}&signature={sig}"),
        headers: vec![h("X-MBX-APIKEY", c.key.to_string())],
        body: String::new(),
    })
}

fn parse(status: u16, body: &str) -> Result<KeyFacts, Failure> {
    let v = json(body)?;
    if let Some(code) = v.get("code").and_then(|c| c.as_i64()) {
        let msg = text(&v, "msg");
        return Err(match code {
            -2015 => Failure::KeyOrIpRejected,
            -1022 | -2014 | -2008 => Failure::Rejected(format!("{code} {msg}")),
            _ => Failure::Exchange(format!("{code} {msg}")),
        });
    }
    if status != 200 {
        return Err(Failure::Exchange(format!("HTTP {status}")));
    }
    let b = |n: &str| v.get(n).and_then(|x| x.as_bool());
    let withdraw = b("enableWithdrawals")
        .ok_or_else(|| Failure::Malformed("no `enableWithdrawals`".into()))?;
    let ip = b("ipRestrict").ok_or_else(|| Failure::Malformed("no `ipRestrict`".into()))?;
    let trade_flags = [
        "enableSpotAndMarginTrading",
        "enableMargin",
        "enableFutures",
        "enableVanillaOptions",
        "enablePortfolioMarginTrading",
        "enableFixApiTrade",
    ];
    let permissions: Vec<String> = v
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, x)| {
                    k.starts_with("enable")
                        || k.starts_with("permits")
                        || k.as_str() == "ipRestrict" && x.is_boolean()
                })
                .filter(|(_, x)| x.as_bool() == Some(true))
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default();
    Ok(KeyFacts {
        can_withdraw: Some(withdraw),
        can_trade: Some(trade_flags.iter().any(|f| b(f) == Some(true))),
        ip_restricted: Some(ip),
        ip_allowlist: vec![],
        expires_at: v
            .get("tradingAuthorityExpirationTime")
            .and_then(|t| t.as_i64())
            .and_then(|ms| Timestamp::from_millisecond(ms).ok()),
        permissions,
    })
}
