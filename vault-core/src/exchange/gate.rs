//! Gate: the facts vault needs, the signer of `vault verify`'s key-introspection request,
//! and the parser of the answer (shared/reference/exchanges.md).

use super::{SecretKind, Spec};
#[allow(unused_imports)]
use crate::verify::prelude::*;

pub(super) const SPEC: Spec = Spec {
    id: "gate",
    management_url: "https://www.gate.io/myaccount/api_key_manage",
    needs_passphrase: false,
    secret_kind: SecretKind::Line,
    ip_restriction_knowable: true,
    no_ip_note: None,
    endpoint: ("GET", "/api/v4/account/detail"),
    hosts: &[
        "https://api.gateio.ws",
        "https://api-testnet.gateapi.io",
        "https://fx-api-testnet.gateio.ws",
    ],
    sign,
    parse,
    proxy: Some(&PROXY),
};

fn sign(c: &Creds<'_>, now_ms: u64) -> Result<Request, String> {
    let (method, path) = SPEC.endpoint;
    let secret = c.secret.as_bytes();
    let ts = now_ms / 1000;
    let body_hash = hex::encode(Sha512::digest(b""));
    let s = format!("{method}\n{path}\n\n{body_hash}\n{ts}");
    Ok(Request::bodiless(
        SPEC.endpoint,
        vec![
            h("KEY", c.key.to_string()),
            h("Timestamp", ts.to_string()),
            h("SIGN", hex::encode(hmac_sha512(secret, s.as_bytes()))),
            h("Content-Type", "application/json".to_string()),
        ],
    ))
}

fn parse(status: u16, body: &str) -> Result<KeyFacts, Failure> {
    let v = json(body)?;
    if let Some(label) = v.get("label").and_then(|l| l.as_str()) {
        let msg = text(&v, "message");
        return Err(match label {
            "IP_FORBIDDEN" => Failure::IpNotAllowed,
            "INVALID_KEY" | "INVALID_SIGNATURE" | "MISSING_REQUIRED_HEADER" | "REQUEST_EXPIRED" => {
                Failure::Rejected(format!("{label} {msg}"))
            }
            _ => Failure::Exchange(format!("{label} {msg}")),
        });
    }
    if status != 200 {
        return Err(Failure::Exchange(format!("HTTP {status}")));
    }
    let ips = strs(field(&v, "ip_whitelist")?);
    Ok(KeyFacts {
        // /account/detail lists no permissions: Gate's withdraw right is unknowable here.
        can_withdraw: None,
        can_trade: None,
        ip_restricted: Some(!ips.is_empty()),
        ip_allowlist: ips,
        expires_at: None,
        permissions: vec![],
    })
}

// ---- the signing proxy (`vault run --proxy`) ----

use crate::proxy::{
    json_body, num, percent_decoded, Incoming, Order, OrdersOf, Outgoing, ProxySpec,
};

pub(super) const PROXY: ProxySpec = ProxySpec {
    hosts: &[
        "api.gateio.ws",
        "fx-api.gateio.ws",
        "api-testnet.gateapi.io",
        "fx-api-testnet.gateio.ws",
    ],
    ccxt_api: r#"{"public": {"wallet": "https://api.gateio.ws/api/v4", "futures": "https://api.gateio.ws/api/v4", "margin": "https://api.gateio.ws/api/v4", "delivery": "https://api.gateio.ws/api/v4", "spot": "https://api.gateio.ws/api/v4", "options": "https://api.gateio.ws/api/v4", "sub_accounts": "https://api.gateio.ws/api/v4", "earn": "https://api.gateio.ws/api/v4"}, "private": {"withdrawals": "https://api.gateio.ws/api/v4", "wallet": "https://api.gateio.ws/api/v4", "futures": "https://api.gateio.ws/api/v4", "margin": "https://api.gateio.ws/api/v4", "delivery": "https://api.gateio.ws/api/v4", "spot": "https://api.gateio.ws/api/v4", "options": "https://api.gateio.ws/api/v4", "subAccounts": "https://api.gateio.ws/api/v4", "unified": "https://api.gateio.ws/api/v4", "rebate": "https://api.gateio.ws/api/v4", "earn": "https://api.gateio.ws/api/v4", "account": "https://api.gateio.ws/api/v4", "loan": "https://api.gateio.ws/api/v4", "otc": "https://api.gateio.ws/api/v4"}}"#,
    claims: |r| r.header("KEY").is_some() || r.header("SIGN").is_some(),
    resign,
    allowed: &[
        ("GET", "/api/v4/spot/accounts"),
        ("GET", "/api/v4/spot/fee"),
        ("GET", "/api/v4/wallet/fee"),
        ("POST", "/api/v4/spot/orders"),
        ("GET", "/api/v4/spot/orders"),
        ("DELETE", "/api/v4/spot/orders"),
        ("GET", "/api/v4/spot/orders/*"),
        ("DELETE", "/api/v4/spot/orders/*"),
        ("GET", "/api/v4/spot/open_orders"),
        ("GET", "/api/v4/spot/my_trades"),
        ("GET", "/api/v4/futures/*/accounts"),
        ("GET", "/api/v4/futures/*/positions"),
        ("GET", "/api/v4/futures/*/positions/*"),
        ("POST", "/api/v4/futures/*/positions/*/leverage"),
        ("POST", "/api/v4/futures/*/orders"),
        ("GET", "/api/v4/futures/*/orders"),
        ("GET", "/api/v4/futures/*/orders/*"),
        ("DELETE", "/api/v4/futures/*/orders/*"),
        ("GET", "/api/v4/futures/*/my_trades"),
    ],
    forbidden: &[
        "withdraw",
        "transfer",
        "sub_account",
        "sub-account",
        "main_keys",
        "apikey",
    ],
    orders: gate_orders,
};

/// Gate v4: `SIGN` is HMAC-SHA512 hex of METHOD, path, the query (not percent-encoded),
/// hex SHA-512 of the body and the `Timestamp` header, joined by newlines.
fn resign(r: &Incoming<'_>, stand: &Creds<'_>, real: &Creds<'_>) -> Result<Outgoing, String> {
    use crate::proxy::{needed, resign_tag, stand_in_key, swapped, Tag};
    stand_in_key(r, "KEY", stand)?;
    let body = r.body_str()?;
    let s = format!(
        "{}\n{}\n{}\n{}\n{}",
        r.method,
        r.path,
        percent_decoded(r.query),
        hex::encode(Sha512::digest(body.as_bytes())),
        needed(r, "Timestamp")?
    );
    let sig = resign_tag(
        Tag::HexSha512,
        needed(r, "SIGN")?,
        (stand.secret.as_bytes(), s.as_bytes()),
        (real.secret.as_bytes(), s.as_bytes()),
    )?;
    Ok(swapped(r, &[("KEY", real.key), ("SIGN", &sig)]))
}

fn gate_orders(r: &Incoming<'_>) -> OrdersOf {
    let spot = match (r.method, r.path) {
        ("POST", "/api/v4/spot/orders") => true,
        ("POST", p) if p.starts_with("/api/v4/futures/") && p.ends_with("/orders") => false,
        (_, p) if p.contains("batch") => {
            return Some(Err("batch orders are not read by the proxy".into()))
        }
        _ => return None,
    };
    let v = match json_body(r) {
        Ok(v) => v,
        Err(e) => return Some(Err(e)),
    };
    let s = |n: &str| v.get(n).and_then(|x| x.as_str()).unwrap_or("");
    let symbol = if spot {
        s("currency_pair")
    } else {
        s("contract")
    };
    if symbol.is_empty() {
        return Some(Err("the order names no currency pair or contract".into()));
    }
    // Spot market buys count `amount` in the quote currency; futures `size` is contracts.
    let notional = if !spot {
        None
    } else if s("type") == "market" && s("side") == "buy" {
        num(v.get("amount"))
    } else {
        num(v.get("amount"))
            .zip(num(v.get("price")))
            .map(|(a, p)| a * p)
    };
    Some(Ok(vec![Order {
        symbol: symbol.to_string(),
        notional,
    }]))
}
