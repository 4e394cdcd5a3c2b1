//! Bitget: the facts vault needs, the signer of `vault verify`'s key-introspection request,
//! and the parser of the answer (shared/reference/exchanges.md).

use super::{SecretKind, Spec};
#[allow(unused_imports)]
use crate::verify::prelude::*;

pub(super) const SPEC: Spec = Spec {
    id: "bitget",
    management_url: "https://www.bitget.com/account/newapi",
    needs_passphrase: true,
    secret_kind: SecretKind::Line,
    ip_restriction_knowable: true,
    no_ip_note: None,
    endpoint: ("GET", "/api/v2/spot/account/info"),
    hosts: &["https://api.bitget.com"],
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
            h("ACCESS-KEY", c.key.to_string()),
            h(
                "ACCESS-SIGN",
                B64.encode(hmac_sha256(secret, pre.as_bytes())),
            ),
            h("ACCESS-TIMESTAMP", now_ms.to_string()),
            h("ACCESS-PASSPHRASE", need_pass(SPEC.id, c)?.to_string()),
            h("locale", "en-US".to_string()),
        ],
    ))
}

fn parse(_status: u16, body: &str) -> Result<KeyFacts, Failure> {
    let v = json(body)?;
    let d = coded(
        &v,
        "00000",
        &["40038", "40018"],
        &["40006", "40009", "40012", "40037"],
    )?;
    let auth = strs(field(d, "authorities")?);
    let ips = csv(d.get("ips").and_then(|i| i.as_str()).unwrap_or(""));
    Ok(KeyFacts {
        can_withdraw: Some(auth.iter().any(|a| a == "wwow") || any_withdraw(&auth)),
        can_trade: Some(
            auth.iter()
                .any(|a| matches!(a.as_str(), "stow" | "smow" | "coow" | "cpow" | "trade")),
        ),
        ip_restricted: Some(!ips.is_empty()),
        ip_allowlist: ips,
        expires_at: None,
        permissions: auth,
    })
}

// ---- the signing proxy (`vault run --proxy`) ----

use crate::proxy::{
    json_body, num, percent_decoded, same, Incoming, Order, OrdersOf, Outgoing, ProxySpec,
};

pub(super) const PROXY: ProxySpec = ProxySpec {
    hosts: &["api.bitget.com"],
    ccxt_api: r#"{"spot": "https://api.{hostname}", "mix": "https://api.{hostname}", "user": "https://api.{hostname}", "p2p": "https://api.{hostname}", "broker": "https://api.{hostname}", "margin": "https://api.{hostname}", "common": "https://api.{hostname}", "tax": "https://api.{hostname}", "convert": "https://api.{hostname}", "copy": "https://api.{hostname}", "earn": "https://api.{hostname}", "uta": "https://api.{hostname}"}"#,
    claims: |r| r.header("ACCESS-KEY").is_some() || r.header("ACCESS-SIGN").is_some(),
    resign,
    allowed: &[
        ("GET", "/api/v2/spot/account/info"),
        ("GET", "/api/v2/spot/account/assets"),
        ("POST", "/api/v2/spot/trade/place-order"),
        ("POST", "/api/v2/spot/trade/cancel-order"),
        ("POST", "/api/v2/spot/trade/batch-orders"),
        ("GET", "/api/v2/spot/trade/orderInfo"),
        ("GET", "/api/v2/spot/trade/unfilled-orders"),
        ("GET", "/api/v2/spot/trade/history-orders"),
        ("GET", "/api/v2/spot/trade/fills"),
        ("GET", "/api/v2/common/trade-rate"),
        ("GET", "/api/v2/mix/account/accounts"),
        ("GET", "/api/v2/mix/account/account"),
        ("POST", "/api/v2/mix/account/set-leverage"),
        ("POST", "/api/v2/mix/account/set-margin-mode"),
        ("POST", "/api/v2/mix/account/set-position-mode"),
        ("POST", "/api/v2/mix/order/place-order"),
        ("POST", "/api/v2/mix/order/cancel-order"),
        ("GET", "/api/v2/mix/order/detail"),
        ("GET", "/api/v2/mix/order/orders-pending"),
        ("GET", "/api/v2/mix/order/orders-history"),
        ("GET", "/api/v2/mix/order/fills"),
        ("GET", "/api/v2/mix/position/all-position"),
        ("GET", "/api/v2/mix/position/single-position"),
    ],
    forbidden: &[
        "withdraw",
        "transfer",
        "subaccount",
        "sub-account",
        "apikey",
        "api-key",
    ],
    orders: bitget_orders,
};

/// Bitget v2: `ACCESS-SIGN` is base64 HMAC-SHA256 of timestamp, METHOD, path, `?` and the
/// query (not percent-encoded), and body; the passphrase travels as it is.
fn resign(r: &Incoming<'_>, stand: &Creds<'_>, real: &Creds<'_>) -> Result<Outgoing, String> {
    use crate::proxy::{
        needed, passphrases, resign_tag, stand_in_key, swapped, ts_method_path_body, Tag,
    };
    stand_in_key(r, "ACCESS-KEY", stand)?;
    let (sent, stand_pass, real_pass) = passphrases(r, "ACCESS-PASSPHRASE", stand, real)?;
    if !same(sent.as_bytes(), stand_pass.as_bytes()) {
        return Err("ACCESS-PASSPHRASE is not this run's".into());
    }
    let pre = ts_method_path_body(r, "ACCESS-TIMESTAMP", &percent_decoded(r.query))?;
    let sig = resign_tag(
        Tag::B64Sha256,
        needed(r, "ACCESS-SIGN")?,
        (stand.secret.as_bytes(), pre.as_bytes()),
        (real.secret.as_bytes(), pre.as_bytes()),
    )?;
    Ok(swapped(
        r,
        &[
            ("ACCESS-KEY", real.key),
            ("ACCESS-PASSPHRASE", real_pass),
            ("ACCESS-SIGN", &sig),
        ],
    ))
}

fn bitget_orders(r: &Incoming<'_>) -> OrdersOf {
    let spot = match r.path {
        "/api/v2/spot/trade/place-order" => true,
        "/api/v2/mix/order/place-order" => false,
        p if p.contains("batch") => {
            return Some(Err("batch orders are not read by the proxy".into()))
        }
        _ => return None,
    };
    let v = match json_body(r) {
        Ok(v) => v,
        Err(e) => return Some(Err(e)),
    };
    let s = |n: &str| v.get(n).and_then(|x| x.as_str()).unwrap_or("");
    let Some(symbol) = v.get("symbol").and_then(|x| x.as_str()) else {
        return Some(Err("the order names no symbol".into()));
    };
    let size = num(v.get("size"));
    let price = num(v.get("price"));
    // A spot market buy's `size` is in the quote coin.
    let notional = if spot && s("orderType") == "market" && s("side") == "buy" {
        size
    } else {
        size.zip(price).map(|(a, b)| a * b)
    };
    Some(Ok(vec![Order {
        symbol: symbol.to_string(),
        notional,
    }]))
}
