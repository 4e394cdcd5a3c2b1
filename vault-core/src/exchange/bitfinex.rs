//! Bitfinex: the facts vault needs, the signer of `vault verify`'s key-introspection request,
//! and the parser of the answer (shared/reference/exchanges.md).

use super::{SecretKind, Spec};
#[allow(unused_imports)]
use crate::verify::prelude::*;

pub(super) const SPEC: Spec = Spec {
    id: "bitfinex",
    management_url: "https://setting.bitfinex.com/api",
    needs_passphrase: false,
    secret_kind: SecretKind::Line,
    ip_restriction_knowable: false,
    no_ip_note: None,
    endpoint: ("POST", "/v2/auth/r/permissions"),
    hosts: &["https://api.bitfinex.com"],
    sign,
    parse,
    proxy: Some(&PROXY),
};

fn sign(c: &Creds<'_>, now_ms: u64) -> Result<Request, String> {
    let (method, path) = SPEC.endpoint;
    let secret = c.secret.as_bytes();
    let body = "{}".to_string();
    let payload = format!("/api{path}{now_ms}{body}");
    Ok(Request {
        method,
        path_and_query: path.to_string(),
        headers: vec![
            h("bfx-nonce", now_ms.to_string()),
            h("bfx-apikey", c.key.to_string()),
            h(
                "bfx-signature",
                hex::encode(hmac_sha384(secret, payload.as_bytes())),
            ),
            h("Content-Type", "application/json".to_string()),
        ],
        body,
    })
}

fn parse(_status: u16, body: &str) -> Result<KeyFacts, Failure> {
    let v = json(body)?;
    let arr = v
        .as_array()
        .ok_or_else(|| Failure::Malformed("not an array".into()))?;
    if arr.first().and_then(|x| x.as_str()) == Some("error") {
        let msg = short(&v);
        return Err(
            if msg.contains("apikey") || msg.contains("nonce") || msg.contains("signature") {
                Failure::Rejected(msg)
            } else {
                Failure::Exchange(msg)
            },
        );
    }
    let mut perms = Vec::new();
    let mut withdraw = false;
    let mut trade = false;
    for e in arr {
        let (Some(scope), Some(w)) = (
            e.get(0).and_then(|s| s.as_str()),
            e.get(2).and_then(|w| w.as_i64()),
        ) else {
            return Err(Failure::Malformed(
                "an entry is not [SCOPE, READ, WRITE]".into(),
            ));
        };
        let r = e.get(1).and_then(|r| r.as_i64()).unwrap_or(0);
        if r == 1 {
            perms.push(format!("{scope}:read"));
        }
        if w == 1 {
            perms.push(format!("{scope}:write"));
            if scope.contains("withdraw") {
                withdraw = true;
            }
            if scope == "orders" {
                trade = true;
            }
        }
    }
    Ok(KeyFacts {
        can_withdraw: Some(withdraw),
        can_trade: Some(trade),
        ip_restricted: None,
        ip_allowlist: vec![],
        expires_at: None,
        permissions: perms,
    })
}

// ---- the signing proxy (`vault run --proxy`) ----

use crate::proxy::{json_body, num, Incoming, Order, OrdersOf, Outgoing, ProxySpec};

pub(super) const PROXY: ProxySpec = ProxySpec {
    hosts: &["api.bitfinex.com", "api-pub.bitfinex.com"],
    ccxt_api: r#"{"v1": "https://api.bitfinex.com", "public": "https://api-pub.bitfinex.com", "private": "https://api.bitfinex.com"}"#,
    claims: |r| r.header("bfx-apikey").is_some() || r.header("bfx-signature").is_some(),
    resign,
    allowed: &[
        ("POST", "/v2/auth/r/wallets"),
        ("POST", "/v2/auth/r/info/margin/*"),
        ("POST", "/v2/auth/r/summary"),
        ("POST", "/v2/auth/r/orders"),
        ("POST", "/v2/auth/r/orders/*"),
        ("POST", "/v2/auth/r/orders/hist"),
        ("POST", "/v2/auth/r/orders/*/hist"),
        ("POST", "/v2/auth/r/order/*/trades"),
        ("POST", "/v2/auth/r/trades/hist"),
        ("POST", "/v2/auth/r/trades/*/hist"),
        ("POST", "/v2/auth/r/positions"),
        ("POST", "/v2/auth/w/order/submit"),
        ("POST", "/v2/auth/w/order/update"),
        ("POST", "/v2/auth/w/order/cancel"),
        ("POST", "/v2/auth/w/order/cancel/multi"),
    ],
    forbidden: &[
        "withdraw",
        "transfer",
        "sub_account",
        "sub-account",
        "subaccount",
        "/auth/w/token",
        "/auth/w/settings",
        "permissions",
    ],
    orders: bitfinex_orders,
};

/// Bitfinex v2: `bfx-signature` is HMAC-SHA384 hex of `/api` + path + nonce + body.
fn resign(r: &Incoming<'_>, stand: &Creds<'_>, real: &Creds<'_>) -> Result<Outgoing, String> {
    use crate::proxy::{needed, resign_tag, stand_in_key, swapped, Tag};
    stand_in_key(r, "bfx-apikey", stand)?;
    let auth = format!("/api{}{}{}", r.path, needed(r, "bfx-nonce")?, r.body_str()?);
    let sig = resign_tag(
        Tag::HexSha384,
        needed(r, "bfx-signature")?,
        (stand.secret.as_bytes(), auth.as_bytes()),
        (real.secret.as_bytes(), auth.as_bytes()),
    )?;
    Ok(swapped(
        r,
        &[("bfx-apikey", real.key), ("bfx-signature", &sig)],
    ))
}

fn bitfinex_orders(r: &Incoming<'_>) -> OrdersOf {
    match r.path {
        "/v2/auth/w/order/submit" | "/v2/auth/w/order/update" => {}
        "/v2/auth/w/order/multi" => {
            return Some(Err("batch orders are not read by the proxy".into()))
        }
        _ => return None,
    }
    let v = match json_body(r) {
        Ok(v) => v,
        Err(e) => return Some(Err(e)),
    };
    let Some(symbol) = v.get("symbol").and_then(|x| x.as_str()) else {
        return Some(Err("the order names no symbol".into()));
    };
    // `tBTCUSD`: the `t` marks a trading pair; a negative amount is a sell.
    let symbol = symbol.strip_prefix('t').unwrap_or(symbol);
    let amount = num(v.get("amount")).map(f64::abs);
    let notional = amount.zip(num(v.get("price"))).map(|(a, p)| a * p);
    Some(Ok(vec![Order {
        symbol: symbol.to_string(),
        notional,
    }]))
}
