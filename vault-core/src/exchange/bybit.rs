//! Bybit: the facts vault needs, the signer of `vault verify`'s key-introspection request,
//! and the parser of the answer (shared/reference/exchanges.md).

use super::{SecretKind, Spec};
#[allow(unused_imports)]
use crate::verify::prelude::*;

pub(super) const SPEC: Spec = Spec {
    id: "bybit",
    management_url: "https://www.bybit.com/app/user/api-management",
    needs_passphrase: false,
    secret_kind: SecretKind::Line,
    ip_restriction_knowable: true,
    no_ip_note: Some("Bybit expires keys without an IP binding after 90 days"),
    endpoint: ("GET", "/v5/user/query-api"),
    hosts: &[
        "https://api.bybit.com",
        "https://api.bytick.com",
        "https://api-testnet.bybit.com",
        "https://api-demo.bybit.com",
        "https://api.bybit.nl",
        "https://api.bybit.tr",
        "https://api.bybit.kz",
        "https://api.bybitgeorgia.ge",
        "https://api.bybit.ae",
        "https://api.bybit.eu",
        "https://api.bybit.id",
        "https://api.manepa.jp",
    ],
    sign,
    parse,
    proxy: Some(&PROXY),
};

fn sign(c: &Creds<'_>, now_ms: u64) -> Result<Request, String> {
    let secret = c.secret.as_bytes();
    let recv = "5000";
    let s = format!("{now_ms}{}{recv}", c.key);
    Ok(Request::bodiless(
        SPEC.endpoint,
        vec![
            h("X-BAPI-API-KEY", c.key.to_string()),
            h("X-BAPI-TIMESTAMP", now_ms.to_string()),
            h("X-BAPI-RECV-WINDOW", recv.to_string()),
            h(
                "X-BAPI-SIGN",
                hex::encode(hmac_sha256(secret, s.as_bytes())),
            ),
        ],
    ))
}

fn parse(_status: u16, body: &str) -> Result<KeyFacts, Failure> {
    let v = json(body)?;
    let code = field(&v, "retCode")?.as_i64().unwrap_or(-1);
    if code != 0 {
        let msg = text(&v, "retMsg");
        return Err(match code {
            10010 => Failure::IpNotAllowed,
            10003 | 10004 | 33004 => Failure::Rejected(format!("{code} {msg}")),
            _ => Failure::Exchange(format!("{code} {msg}")),
        });
    }
    let r = field(&v, "result")?;
    let perms = field(r, "permissions")?;
    let mut names = Vec::new();
    if let Some(o) = perms.as_object() {
        for (group, list) in o {
            for p in strs(list) {
                names.push(format!("{group}:{p}"));
            }
        }
    }
    let wallet = strs(perms.get("Wallet").unwrap_or(&serde_json::Value::Null));
    let ips = strs(field(r, "ips")?);
    let restricted = !(ips.is_empty() || ips.iter().any(|i| i == "*"));
    let trade = ["Spot", "ContractTrade", "Derivatives", "Options"]
        .iter()
        .any(|g| !strs(perms.get(*g).unwrap_or(&serde_json::Value::Null)).is_empty());
    let deadline = r.get("deadlineDay").and_then(|d| d.as_i64()).unwrap_or(-1);
    let expires_at = if deadline >= 0 {
        r.get("expiredAt")
            .and_then(|e| e.as_str())
            .and_then(|e| e.parse::<Timestamp>().ok())
    } else {
        None
    };
    Ok(KeyFacts {
        can_withdraw: Some(wallet.iter().any(|w| w == "Withdraw") || any_withdraw(&names)),
        can_trade: Some(trade && r.get("readOnly").and_then(|x| x.as_i64()) != Some(1)),
        ip_restricted: Some(restricted),
        ip_allowlist: if restricted { ips } else { vec![] },
        expires_at,
        permissions: names,
    })
}

// ---- the signing proxy (`vault run --proxy`) ----

use crate::proxy::{json_body, num, Incoming, Order, OrdersOf, Outgoing, ProxySpec};

pub(super) const PROXY: ProxySpec = ProxySpec {
    hosts: &[
        "api.bybit.com",
        "api.bytick.com",
        "api-testnet.bybit.com",
        "api-demo.bybit.com",
        "api.bybit.nl",
        "api.bybit.tr",
        "api.bybit.kz",
        "api.bybitgeorgia.ge",
        "api.bybit.ae",
        "api.bybit.eu",
        "api.bybit.id",
        "api.manepa.jp",
    ],
    ccxt_api: r#"{"spot": "https://api.{hostname}", "futures": "https://api.{hostname}", "v2": "https://api.{hostname}", "public": "https://api.{hostname}", "private": "https://api.{hostname}"}"#,
    claims: |r| r.header("X-BAPI-API-KEY").is_some() || r.header("X-BAPI-SIGN").is_some(),
    resign,
    allowed: &[
        ("GET", "/v5/account/wallet-balance"),
        ("GET", "/v5/account/info"),
        ("GET", "/v5/account/fee-rate"),
        ("GET", "/v5/user/query-api"),
        ("GET", "/v5/asset/coin/query-info"),
        ("POST", "/v5/order/create"),
        ("POST", "/v5/order/amend"),
        ("POST", "/v5/order/cancel"),
        ("POST", "/v5/order/cancel-all"),
        ("GET", "/v5/order/realtime"),
        ("GET", "/v5/order/history"),
        ("GET", "/v5/execution/list"),
        ("GET", "/v5/position/list"),
        ("POST", "/v5/position/set-leverage"),
        ("POST", "/v5/position/switch-isolated"),
        ("POST", "/v5/position/switch-mode"),
        ("POST", "/v5/position/trading-stop"),
    ],
    forbidden: &[
        "withdraw",
        "transfer",
        "sub-member",
        "submember",
        "sub-api",
        "sub-apikeys",
        "update-api",
        "delete-api",
        "/v5/user/create",
        "/v5/user/frozen",
    ],
    orders: bybit_orders,
};

/// Bybit v5: `X-BAPI-SIGN` is HMAC-SHA256 hex of timestamp + key + recv_window + (the query
/// string for GET, the body for POST); the key is inside what is signed.
fn resign(r: &Incoming<'_>, stand: &Creds<'_>, real: &Creds<'_>) -> Result<Outgoing, String> {
    use crate::proxy::{needed, resign_tag, stand_in_key, swapped, Tag};
    stand_in_key(r, "X-BAPI-API-KEY", stand)?;
    if r.header("X-BAPI-SIGN-TYPE").is_some_and(|t| t != "2") {
        return Err("only HMAC-signed (X-BAPI-SIGN-TYPE 2) requests pass the proxy".into());
    }
    let ts = needed(r, "X-BAPI-TIMESTAMP")?;
    let recv = r.header("X-BAPI-RECV-WINDOW").unwrap_or("");
    let tail = if r.method == "GET" {
        r.query
    } else {
        r.body_str()?
    };
    // The key is inside what is signed: the stand-in's for the check, the real one after.
    let sent = needed(r, "X-BAPI-SIGN")?;
    let msg = |key: &str| format!("{ts}{key}{recv}{tail}");
    let (stand_msg, real_msg) = (msg(stand.key), msg(real.key));
    let sig = resign_tag(
        Tag::HexSha256,
        sent,
        (stand.secret.as_bytes(), stand_msg.as_bytes()),
        (real.secret.as_bytes(), real_msg.as_bytes()),
    )?;
    Ok(swapped(
        r,
        &[("X-BAPI-API-KEY", real.key), ("X-BAPI-SIGN", &sig)],
    ))
}

fn bybit_orders(r: &Incoming<'_>) -> OrdersOf {
    match r.path {
        "/v5/order/create" | "/v5/order/amend" => {}
        p if p.contains("batch") => {
            return Some(Err("batch orders are not read by the proxy".into()))
        }
        _ => return None,
    }
    let v = match json_body(r) {
        Ok(v) => v,
        Err(e) => return Some(Err(e)),
    };
    let s = |n: &str| v.get(n).and_then(|x| x.as_str()).unwrap_or("");
    let Some(symbol) = v.get("symbol").and_then(|x| x.as_str()) else {
        return Some(Err("the order names no symbol".into()));
    };
    let qty = num(v.get("qty"));
    let price = num(v.get("price")).or_else(|| num(v.get("triggerPrice")));
    // Spot market buys count `qty` in the quote coin unless marketUnit says otherwise;
    // inverse contracts count it in USD.
    let quote_qty = s("marketUnit") == "quoteCoin"
        || (s("category") == "spot"
            && s("orderType") == "Market"
            && s("side") == "Buy"
            && s("marketUnit") != "baseCoin")
        || s("category") == "inverse";
    let notional = if quote_qty {
        qty
    } else {
        qty.zip(price).map(|(q, p)| q * p)
    };
    Some(Ok(vec![Order {
        symbol: symbol.to_string(),
        notional,
    }]))
}
