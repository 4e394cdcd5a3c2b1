//! Okx: the facts vault needs, the signer of `vault verify`'s key-introspection request,
//! and the parser of the answer (shared/reference/exchanges.md).

use super::{SecretKind, Spec};
#[allow(unused_imports)]
use crate::verify::prelude::*;

pub(super) const SPEC: Spec = Spec {
    id: "okx",
    management_url: "https://www.okx.com/account/my-api",
    needs_passphrase: true,
    secret_kind: SecretKind::Line,
    ip_restriction_knowable: true,
    no_ip_note: Some("OKX expires trading keys without an IP after 14 days of inactivity"),
    endpoint: ("GET", "/api/v5/account/config"),
    hosts: &[
        "https://www.okx.com",
        "https://aws.okx.com",
        "https://eea.okx.com",
        "https://us.okx.com",
        "https://my.okx.com",
        "https://app.okx.com",
    ],
    sign,
    parse,
    proxy: Some(&PROXY),
};

fn sign(c: &Creds<'_>, now_ms: u64) -> Result<Request, String> {
    let (method, path) = SPEC.endpoint;
    let secret = c.secret.as_bytes();
    let ts = Timestamp::from_millisecond(i64::try_from(now_ms).unwrap_or(0))
        .map_err(|_| "bad clock".to_string())?
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    let pre = format!("{ts}{method}{path}");
    Ok(Request::bodiless(
        SPEC.endpoint,
        vec![
            h("OK-ACCESS-KEY", c.key.to_string()),
            h(
                "OK-ACCESS-SIGN",
                B64.encode(hmac_sha256(secret, pre.as_bytes())),
            ),
            h("OK-ACCESS-TIMESTAMP", ts),
            h("OK-ACCESS-PASSPHRASE", need_pass(SPEC.id, c)?.to_string()),
        ],
    ))
}

fn parse(_status: u16, body: &str) -> Result<KeyFacts, Failure> {
    let v = json(body)?;
    let d = coded(&v, "0", &["50110"], &["50111", "50113", "50105", "50119"])?
        .get(0)
        .ok_or_else(|| Failure::Malformed("empty `data`".into()))?;
    let perm = csv(field(d, "perm")?.as_str().unwrap_or(""));
    let ips = csv(field(d, "ip")?.as_str().unwrap_or(""));
    Ok(KeyFacts {
        can_withdraw: Some(any_withdraw(&perm)),
        can_trade: Some(perm.iter().any(|p| p == "trade")),
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
        "www.okx.com",
        "aws.okx.com",
        "eea.okx.com",
        "us.okx.com",
        "my.okx.com",
        "app.okx.com",
    ],
    ccxt_api: r#"{"rest": "https://{hostname}"}"#,
    claims: |r| r.header("OK-ACCESS-KEY").is_some() || r.header("OK-ACCESS-SIGN").is_some(),
    resign,
    allowed: &[
        ("GET", "/api/v5/account/balance"),
        ("GET", "/api/v5/account/positions"),
        ("GET", "/api/v5/account/config"),
        ("GET", "/api/v5/account/leverage-info"),
        ("POST", "/api/v5/account/set-leverage"),
        ("POST", "/api/v5/account/set-position-mode"),
        ("GET", "/api/v5/account/trade-fee"),
        ("GET", "/api/v5/account/max-size"),
        ("GET", "/api/v5/asset/currencies"),
        ("POST", "/api/v5/trade/order"),
        ("POST", "/api/v5/trade/batch-orders"),
        ("POST", "/api/v5/trade/cancel-order"),
        ("POST", "/api/v5/trade/cancel-batch-orders"),
        ("POST", "/api/v5/trade/amend-order"),
        ("POST", "/api/v5/trade/order-algo"),
        ("POST", "/api/v5/trade/cancel-algos"),
        ("GET", "/api/v5/trade/order"),
        ("GET", "/api/v5/trade/orders-pending"),
        ("GET", "/api/v5/trade/orders-history"),
        ("GET", "/api/v5/trade/orders-history-archive"),
        ("GET", "/api/v5/trade/orders-algo-pending"),
        ("GET", "/api/v5/trade/fills"),
        ("GET", "/api/v5/trade/fills-history"),
    ],
    forbidden: &[
        "withdrawal",
        "transfer",
        "subaccount",
        "sub-account",
        "/users/",
        "apikey",
    ],
    orders: okx_orders,
};

/// OKX v5: `OK-ACCESS-SIGN` is base64 HMAC-SHA256 of timestamp + METHOD + path (with `?query`)
/// + body; key and passphrase travel in their own headers.
fn resign(r: &Incoming<'_>, stand: &Creds<'_>, real: &Creds<'_>) -> Result<Outgoing, String> {
    use crate::proxy::{
        needed, passphrases, resign_tag, stand_in_key, swapped, ts_method_path_body, Tag,
    };
    stand_in_key(r, "OK-ACCESS-KEY", stand)?;
    let (sent, stand_pass, real_pass) = passphrases(r, "OK-ACCESS-PASSPHRASE", stand, real)?;
    if !same(sent.as_bytes(), stand_pass.as_bytes()) {
        return Err("OK-ACCESS-PASSPHRASE is not this run's".into());
    }
    let pre = ts_method_path_body(r, "OK-ACCESS-TIMESTAMP", r.query)?;
    let sig = resign_tag(
        Tag::B64Sha256,
        needed(r, "OK-ACCESS-SIGN")?,
        (stand.secret.as_bytes(), pre.as_bytes()),
        (real.secret.as_bytes(), pre.as_bytes()),
    )?;
    Ok(swapped(
        r,
        &[
            ("OK-ACCESS-KEY", real.key),
            ("OK-ACCESS-PASSPHRASE", real_pass),
            ("OK-ACCESS-SIGN", &sig),
        ],
    ))
}

fn okx_orders(r: &Incoming<'_>) -> OrdersOf {
    let (sz, px) = match r.path {
        "/api/v5/trade/order" | "/api/v5/trade/batch-orders" => ("sz", "px"),
        "/api/v5/trade/amend-order" => ("newSz", "newPx"),
        "/api/v5/trade/order-algo" => ("sz", "orderPx"),
        _ => return None,
    };
    let v = match json_body(r) {
        Ok(v) => v,
        Err(e) => return Some(Err(e)),
    };
    let list = match v {
        serde_json::Value::Array(a) => a,
        o => vec![o],
    };
    let mut out = Vec::new();
    for o in &list {
        let s = |n: &str| o.get(n).and_then(|x| x.as_str()).unwrap_or("");
        let inst = s("instId");
        if inst.is_empty() {
            return Some(Err("the order names no instId".into()));
        }
        // Spot (BASE-QUOTE): sz is in the quote currency for tgtCcy quote_ccy, which is the
        // default of a market buy. Swaps and futures count sz in contracts: not computable.
        let spot = inst.matches('-').count() == 1;
        let quote_sz = s("tgtCcy") == "quote_ccy"
            || (s("ordType") == "market" && s("side") == "buy" && s("tgtCcy").is_empty());
        let size = num(o.get(sz));
        let price = num(o.get(px)).filter(|p| *p > 0.0);
        let notional = match (spot, quote_sz) {
            (true, true) => size,
            (true, false) => size.zip(price).map(|(a, b)| a * b),
            (false, _) => None,
        };
        out.push(Order {
            symbol: inst.to_string(),
            notional,
        });
    }
    Some(Ok(out))
}
