//! Kucoin: the facts vault needs, the signer of `vault verify`'s key-introspection request,
//! and the parser of the answer (shared/reference/exchanges.md).

use super::{SecretKind, Spec};
#[allow(unused_imports)]
use crate::verify::prelude::*;

pub(super) const SPEC: Spec = Spec {
    id: "kucoin",
    management_url: "https://www.kucoin.com/account/api",
    needs_passphrase: true,
    secret_kind: SecretKind::Line,
    ip_restriction_knowable: true,
    no_ip_note: None,
    endpoint: ("GET", "/api/v1/user/api-key"),
    hosts: &["https://api.kucoin.com"],
    sign,
    parse,
    proxy: Some(&PROXY),
};

fn sign(c: &Creds<'_>, now_ms: u64) -> Result<Request, String> {
    let (method, path) = SPEC.endpoint;
    let secret = c.secret.as_bytes();
    let pre = format!("{now_ms}{method}{path}");
    Ok(Request::bodiless(
        SPEC.endpoint,
        vec![
            h("KC-API-KEY", c.key.to_string()),
            h(
                "KC-API-SIGN",
                B64.encode(hmac_sha256(secret, pre.as_bytes())),
            ),
            h("KC-API-TIMESTAMP", now_ms.to_string()),
            h(
                "KC-API-PASSPHRASE",
                B64.encode(hmac_sha256(secret, need_pass(SPEC.id, c)?.as_bytes())),
            ),
            h("KC-API-KEY-VERSION", "3".to_string()),
            h("Content-Type", "application/json".to_string()),
        ],
    ))
}

fn parse(_status: u16, body: &str) -> Result<KeyFacts, Failure> {
    let v = json(body)?;
    // KuCoin's error list: 400006 "The requested ip address is not in the api whitelist".
    let d = coded(
        &v,
        "200000",
        &["400006"],
        &["400001", "400003", "400004", "400005"],
    )?;
    let perm = csv(field(d, "permission")?.as_str().unwrap_or(""));
    let ips = csv(d.get("ipWhitelist").and_then(|i| i.as_str()).unwrap_or(""));
    Ok(KeyFacts {
        can_withdraw: Some(perm.iter().any(|p| p == "Transfer") || any_withdraw(&perm)),
        can_trade: Some(
            perm.iter()
                .any(|p| matches!(p.as_str(), "Spot" | "Margin" | "Futures")),
        ),
        ip_restricted: Some(!ips.is_empty()),
        ip_allowlist: ips,
        expires_at: None,
        permissions: perm,
    })
}

// ---- the signing proxy (`vault run --proxy`) ----

use crate::proxy::{json_body, num, same, Incoming, Order, OrdersOf, Outgoing, ProxySpec};

pub(super) const PROXY: ProxySpec = ProxySpec {
    hosts: &[
        "api.kucoin.com",
        "api-futures.kucoin.com",
        "api-broker.kucoin.com",
        "kucoin.com",
        "openapi-sandbox.kucoin.com",
    ],
    ccxt_api: r#"{"public": "https://api.kucoin.com", "private": "https://api.kucoin.com", "futuresPrivate": "https://api-futures.kucoin.com", "futuresPublic": "https://api-futures.kucoin.com", "webExchange": "https://kucoin.com/_api", "broker": "https://api-broker.kucoin.com", "earn": "https://api.kucoin.com", "uta": "https://api.kucoin.com", "utaV2": "https://api.kucoin.com", "utaPrivate": "https://api.kucoin.com"}"#,
    claims: |r| r.header("KC-API-KEY").is_some() || r.header("KC-API-SIGN").is_some(),
    resign,
    allowed: &[
        ("GET", "/api/v1/accounts"),
        ("GET", "/api/v1/accounts/*"),
        ("GET", "/api/v1/hf/accounts/opened"),
        ("GET", "/api/v1/user-info"),
        ("GET", "/api/v1/base-fee"),
        ("GET", "/api/v1/trade-fees"),
        ("POST", "/api/v1/orders"),
        ("POST", "/api/v1/orders/test"),
        ("POST", "/api/v1/hf/orders"),
        ("POST", "/api/v1/hf/orders/test"),
        ("DELETE", "/api/v1/orders"),
        ("DELETE", "/api/v1/orders/*"),
        ("DELETE", "/api/v1/hf/orders/*"),
        ("DELETE", "/api/v1/hf/orders"),
        ("GET", "/api/v1/orders"),
        ("GET", "/api/v1/orders/*"),
        ("GET", "/api/v1/hf/orders/active"),
        ("GET", "/api/v1/hf/orders/done"),
        ("GET", "/api/v1/hf/orders/*"),
        ("GET", "/api/v1/fills"),
        ("GET", "/api/v1/hf/fills"),
        ("GET", "/api/v1/limit/fills"),
        // futures (api-futures.kucoin.com)
        ("GET", "/api/v1/account-overview"),
        ("GET", "/api/v1/positions"),
        ("GET", "/api/v1/position"),
        ("POST", "/api/v2/changeMarginMode"),
        ("GET", "/api/v2/getMaxOpenSize"),
    ],
    forbidden: &[
        "withdraw",
        "transfer",
        "sub-account",
        "subaccount",
        "/sub/",
        "api-key",
        "apikey",
    ],
    orders: kucoin_orders,
};

/// KuCoin: `KC-API-SIGN` is base64 HMAC-SHA256 of timestamp, METHOD, path (with `?query`)
/// and body; with key version 2 or 3 the passphrase itself travels HMAC'd under the secret.
/// ccxt's partner headers sign the key too: they are dropped, as KuCoin does not need them.
fn resign(r: &Incoming<'_>, stand: &Creds<'_>, real: &Creds<'_>) -> Result<Outgoing, String> {
    use crate::proxy::{
        needed, passphrases, resign_tag, stand_in_key, swapped, ts_method_path_body, Tag,
    };
    stand_in_key(r, "KC-API-KEY", stand)?;
    let (sent, stand_pass, real_pass) = passphrases(r, "KC-API-PASSPHRASE", stand, real)?;
    let hashed = r.header("KC-API-KEY-VERSION").unwrap_or("1") != "1";
    let pass_of = |c: &Creds<'_>, p: &str| {
        if hashed {
            B64.encode(hmac_sha256(c.secret.as_bytes(), p.as_bytes()))
        } else {
            p.to_string()
        }
    };
    if !same(sent.as_bytes(), pass_of(stand, stand_pass).as_bytes()) {
        return Err("KC-API-PASSPHRASE is not this run's".into());
    }
    let pre = ts_method_path_body(r, "KC-API-TIMESTAMP", r.query)?;
    let sig = resign_tag(
        Tag::B64Sha256,
        needed(r, "KC-API-SIGN")?,
        (stand.secret.as_bytes(), pre.as_bytes()),
        (real.secret.as_bytes(), pre.as_bytes()),
    )?;
    let real_pass = pass_of(real, real_pass);
    let mut out = swapped(
        r,
        &[
            ("KC-API-KEY", real.key),
            ("KC-API-PASSPHRASE", &real_pass),
            ("KC-API-SIGN", &sig),
        ],
    );
    out.headers
        .retain(|(k, _)| !k.to_ascii_lowercase().starts_with("kc-api-partner"));
    Ok(out)
}

fn kucoin_orders(r: &Incoming<'_>) -> OrdersOf {
    match (r.method, r.path) {
        (
            "POST",
            "/api/v1/orders"
            | "/api/v1/orders/test"
            | "/api/v1/hf/orders"
            | "/api/v1/hf/orders/test",
        ) => {}
        (_, p) if p.contains("multi") || p.contains("batch") => {
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
    // Futures orders (they carry `leverage`) count `size` in lots: not computable.
    let notional = if v.get("leverage").is_some() {
        None
    } else {
        num(v.get("funds")).or_else(|| {
            num(v.get("size"))
                .zip(num(v.get("price")))
                .map(|(a, b)| a * b)
        })
    };
    Some(Ok(vec![Order {
        symbol: symbol.to_string(),
        notional,
    }]))
}
