//! Kraken: the facts vault needs, the signer of `vault verify`'s key-introspection request,
//! and the parser of the answer (shared/reference/exchanges.md).

use super::{SecretKind, Spec};
#[allow(unused_imports)]
use crate::verify::prelude::*;

pub(super) const SPEC: Spec = Spec {
    id: "kraken",
    management_url: "https://pro.kraken.com/app/settings/api",
    needs_passphrase: false,
    secret_kind: SecretKind::Line,
    ip_restriction_knowable: true,
    no_ip_note: None,
    endpoint: ("POST", "/0/private/GetApiKeyInfo"),
    hosts: &["https://api.kraken.com"],
    sign,
    parse,
    proxy: Some(&PROXY),
};

fn sign(c: &Creds<'_>, now_ms: u64) -> Result<Request, String> {
    let (method, path) = SPEC.endpoint;
    let body = format!("nonce={now_ms}");
    let key = B64
        .decode(c.secret.trim())
        .map_err(|_| "the stored Kraken secret is not base64; check it".to_string())?;
    let mut inner = Sha256::new();
    inner.update(format!("{now_ms}{body}").as_bytes());
    let mut msg = path.as_bytes().to_vec();
    msg.extend_from_slice(&inner.finalize());
    Ok(Request {
        method,
        path_and_query: path.to_string(),
        headers: vec![
            h("API-Key", c.key.to_string()),
            h("API-Sign", B64.encode(hmac_sha512(&key, &msg))),
            h(
                "Content-Type",
                "application/x-www-form-urlencoded".to_string(),
            ),
        ],
        body,
    })
}

fn parse(_status: u16, body: &str) -> Result<KeyFacts, Failure> {
    let v = json(body)?;
    let errors = strs(field(&v, "error")?);
    if !errors.is_empty() {
        let e = errors.join(", ").chars().take(160).collect::<String>();
        return Err(
            if e.contains("Invalid key")
                || e.contains("Invalid signature")
                || e.contains("Invalid nonce")
            {
                Failure::Rejected(e)
            } else {
                Failure::Exchange(e)
            },
        );
    }
    let r = field(&v, "result")?;
    let perms = strs(field(r, "permissions")?);
    let ips = strs(field(r, "ipAllowlist")?);
    let valid_until = r
        .get("validUntil")
        .and_then(|x| x.as_str())
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or(0);
    Ok(KeyFacts {
        can_withdraw: Some(any_withdraw(&perms)),
        can_trade: Some(perms.iter().any(|p| p == "modify-trades")),
        ip_restricted: Some(!ips.is_empty()),
        ip_allowlist: ips,
        expires_at: (valid_until > 0)
            .then(|| Timestamp::from_second(valid_until).ok())
            .flatten(),
        permissions: perms,
    })
}

// ---- the signing proxy (`vault run --proxy`) ----

use crate::proxy::{
    form_num, form_params, json_body, num, Incoming, Order, OrdersOf, Outgoing, ProxySpec,
};

pub(super) const PROXY: ProxySpec = ProxySpec {
    hosts: &["api.kraken.com", "kraken.zendesk.com"],
    ccxt_api: r#"{"public": "https://api.kraken.com", "private": "https://api.kraken.com", "zendesk": "https://kraken.zendesk.com/api/v2/help_center/en-us/articles"}"#,
    claims: |r| r.header("API-Key").is_some() || r.header("API-Sign").is_some(),
    resign,
    allowed: &[
        ("POST", "/0/private/Balance"),
        ("POST", "/0/private/BalanceEx"),
        ("POST", "/0/private/TradeBalance"),
        ("POST", "/0/private/OpenOrders"),
        ("POST", "/0/private/ClosedOrders"),
        ("POST", "/0/private/QueryOrders"),
        ("POST", "/0/private/TradesHistory"),
        ("POST", "/0/private/QueryTrades"),
        ("POST", "/0/private/OpenPositions"),
        ("POST", "/0/private/TradeVolume"),
        ("POST", "/0/private/AddOrder"),
        ("POST", "/0/private/EditOrder"),
        ("POST", "/0/private/CancelOrder"),
        ("POST", "/0/private/CancelAll"),
    ],
    // A WebSocket token would let the bot trade over a socket the proxy never sees.
    forbidden: &[
        "withdraw",
        "transfer",
        "subaccount",
        "getwebsocketstoken",
        "apikey",
    ],
    orders: kraken_orders,
};

/// The nonce inside a Kraken body (form or JSON).
fn nonce_of(r: &Incoming<'_>) -> Option<String> {
    let body = std::str::from_utf8(r.body).ok()?;
    if body.trim_start().starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(body).ok()?;
        return match v.get("nonce")? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
    }
    form_params(&[body])
        .into_iter()
        .find(|(k, _)| k == "nonce")
        .map(|(_, v)| v)
}

/// Kraken: `API-Sign` is base64 HMAC-SHA512, keyed with the base64-decoded secret, of the
/// path followed by SHA-256(nonce + body).
fn resign(r: &Incoming<'_>, stand: &Creds<'_>, real: &Creds<'_>) -> Result<Outgoing, String> {
    use crate::proxy::{needed, resign_tag, stand_in_key, swapped, Tag};
    stand_in_key(r, "API-Key", stand)?;
    let nonce = nonce_of(r).ok_or("the request body has no nonce")?;
    let mut msg = r.path.as_bytes().to_vec();
    let body = r.body_str()?;
    msg.extend_from_slice(&Sha256::digest(format!("{nonce}{body}").as_bytes()));
    let key_of = |c: &Creds<'_>| {
        B64.decode(c.secret)
            .map(zeroize::Zeroizing::new)
            .map_err(|_| "the secret is not base64".to_string())
    };
    let (stand_key, real_key) = (key_of(stand)?, key_of(real)?);
    let sig = resign_tag(
        Tag::B64Sha512,
        needed(r, "API-Sign")?,
        (&stand_key, &msg),
        (&real_key, &msg),
    )?;
    Ok(swapped(r, &[("API-Key", real.key), ("API-Sign", &sig)]))
}

fn kraken_orders(r: &Incoming<'_>) -> OrdersOf {
    match r.path {
        "/0/private/AddOrder" | "/0/private/EditOrder" => {}
        p if p.contains("Batch") => {
            return Some(Err("batch orders are not read by the proxy".into()))
        }
        _ => return None,
    }
    let body = std::str::from_utf8(r.body).unwrap_or("");
    let (pair, volume, price, quote_volume) = if body.trim_start().starts_with('{') {
        let v = match json_body(r) {
            Ok(v) => v,
            Err(e) => return Some(Err(e)),
        };
        let s = |n: &str| v.get(n).and_then(|x| x.as_str()).unwrap_or("").to_string();
        (
            s("pair"),
            num(v.get("volume")),
            num(v.get("price")),
            s("oflags").contains("viqc"),
        )
    } else {
        let p = form_params(&[body]);
        let get = |n: &str| {
            p.iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        (
            get("pair"),
            form_num(&p, "volume"),
            form_num(&p, "price"),
            get("oflags").contains("viqc"),
        )
    };
    if pair.is_empty() {
        return Some(Err("the order names no pair".into()));
    }
    // Kraken says XBT for bitcoin, and legacy pairs look like XXBTZUSD.
    let legacy = pair.len() == 8 && pair.starts_with('X') && pair.as_bytes()[4] == b'Z';
    let pair = if legacy {
        format!("{}{}", &pair[1..4], &pair[5..])
    } else {
        pair
    };
    let symbol = pair.replace("XBT", "BTC");
    let notional = if quote_volume {
        volume
    } else {
        volume.zip(price).map(|(a, b)| a * b)
    };
    Some(Ok(vec![Order { symbol, notional }]))
}
