//! Coinbase: the facts vault needs, the signer of `vault verify`'s key-introspection request,
//! and the parser of the answer (shared/reference/exchanges.md).

use super::{SecretKind, Spec};
#[allow(unused_imports)]
use crate::verify::prelude::*;

pub(super) const SPEC: Spec = Spec {
    id: "coinbase",
    management_url: "https://portal.cdp.coinbase.com/projects/api-keys",
    needs_passphrase: false,
    secret_kind: SecretKind::Pem,
    ip_restriction_knowable: false,
    no_ip_note: None,
    endpoint: ("GET", "/api/v3/brokerage/key_permissions"),
    hosts: &["https://api.coinbase.com"],
    sign,
    parse,
    proxy: Some(&PROXY),
};

fn sign(c: &Creds<'_>, now_ms: u64) -> Result<Request, String> {
    let mut nonce = [0u8; 16];
    crate::secret::fill_random(&mut nonce).map_err(|e| e.to_string())?;
    let jwt = coinbase_jwt(c.key, c.secret, now_ms / 1000, &hex::encode(nonce))?;
    Ok(Request::bodiless(
        SPEC.endpoint,
        vec![h("Authorization", format!("Bearer {jwt}"))],
    ))
}

fn parse(status: u16, body: &str) -> Result<KeyFacts, Failure> {
    if status == 401 || status == 403 {
        return Err(Failure::Rejected(format!("HTTP {status}")));
    }
    if status != 200 {
        return Err(Failure::Exchange(format!("HTTP {status}")));
    }
    let v = json(body)?;
    let b = |n: &str| v.get(n).and_then(|x| x.as_bool());
    let transfer =
        b("can_transfer").ok_or_else(|| Failure::Malformed("no `can_transfer`".into()))?;
    Ok(KeyFacts {
        can_withdraw: Some(transfer),
        can_trade: b("can_trade"),
        ip_restricted: None,
        ip_allowlist: vec![],
        expires_at: None,
        permissions: ["can_view", "can_trade", "can_transfer"]
            .iter()
            .filter(|n| b(n) == Some(true))
            .map(|s| s.to_string())
            .collect(),
    })
}

// ---- the signing proxy (`vault run --proxy`) ----

use crate::proxy::{json_body, num, Incoming, Order, OrdersOf, Outgoing, ProxySpec};

pub(super) const PROXY: ProxySpec = ProxySpec {
    hosts: &["api.coinbase.com"],
    ccxt_api: r#"{"rest": "https://api.coinbase.com"}"#,
    claims: |r| r.header("Authorization").is_some() || r.header("CB-ACCESS-KEY").is_some(),
    resign,
    allowed: &[
        ("GET", "/api/v3/brokerage/accounts"),
        ("GET", "/api/v3/brokerage/accounts/*"),
        ("POST", "/api/v3/brokerage/orders"),
        ("POST", "/api/v3/brokerage/orders/batch_cancel"),
        ("POST", "/api/v3/brokerage/orders/edit"),
        ("GET", "/api/v3/brokerage/orders/historical/batch"),
        ("GET", "/api/v3/brokerage/orders/historical/fills"),
        ("GET", "/api/v3/brokerage/orders/historical/*"),
        ("GET", "/api/v3/brokerage/transaction_summary"),
        ("GET", "/api/v3/brokerage/products"),
        ("GET", "/api/v3/brokerage/products/*"),
        ("GET", "/api/v3/brokerage/best_bid_ask"),
        ("GET", "/api/v3/brokerage/cfm/balance_summary"),
        ("GET", "/api/v3/brokerage/cfm/positions"),
        ("GET", "/v2/accounts"),
        ("GET", "/v2/accounts/*"),
    ],
    // v2 `transactions` are sends and withdrawals; `move_funds` moves money between portfolios.
    forbidden: &[
        "withdraw",
        "transfer",
        "/transactions",
        "deposits",
        "move_funds",
        "key_permissions",
    ],
    orders: coinbase_orders,
};

fn b64url() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
}

/// Coinbase Advanced Trade (CDP keys): `Authorization: Bearer <ES256 JWT>` whose `uri` claim
/// names the method and path. The proxy verifies the child's JWT with the stand-in key's
/// public half, then mints its own with the real key: same claims, the real key name, a
/// fresh nonce and the real host in `uri`.
fn resign(r: &Incoming<'_>, stand: &Creds<'_>, real: &Creds<'_>) -> Result<Outgoing, String> {
    use p256::ecdsa::signature::Verifier as _;
    use p256::pkcs8::DecodePrivateKey as _;
    let token = r
        .header("Authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .ok_or("the request has no Bearer JWT (legacy HMAC keys do not pass the proxy)")?;
    let mut parts = token.split('.');
    let (Some(h64), Some(c64), Some(s64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("the Authorization header is not a JWT".into());
    };
    let pem = stand.secret.trim();
    let key = p256::SecretKey::from_sec1_pem(pem)
        .or_else(|_| p256::SecretKey::from_pkcs8_pem(pem))
        .map_err(|_| "the stand-in secret is not an EC key".to_string())?;
    let verifying = p256::ecdsa::VerifyingKey::from(key.public_key());
    let sig = b64url()
        .decode(s64)
        .ok()
        .and_then(|b| p256::ecdsa::Signature::from_slice(&b).ok())
        .ok_or("the JWT signature is not ES256")?;
    verifying
        .verify(format!("{h64}.{c64}").as_bytes(), &sig)
        .map_err(|_| {
            "the JWT is not signed with this run's key (signed with another secret?)".to_string()
        })?;
    let json_of = |p: &str| -> Result<serde_json::Value, String> {
        let b = b64url()
            .decode(p)
            .map_err(|_| "the JWT is not base64url".to_string())?;
        serde_json::from_slice(&b).map_err(|_| "the JWT is not JSON".to_string())
    };
    let header = json_of(h64)?;
    let mut claims = json_of(c64)?;
    if header["alg"] != "ES256" || header["kid"] != stand.key || claims["sub"] != stand.key {
        return Err("the JWT does not name this run's key".into());
    }
    // The `uri` claim is bound to this request: method, then a URL ending in its path.
    let uri = claims["uri"].as_str().unwrap_or("");
    let bound = uri
        .strip_prefix(r.method)
        .and_then(|u| u.strip_prefix(' '))
        .is_some_and(|u| u.ends_with(r.path));
    if !bound {
        return Err("the JWT's uri claim is not this request's method and path".into());
    }
    let now = u64::try_from(jiff::Timestamp::now().as_second()).unwrap_or(0);
    if claims["exp"].as_u64().is_none_or(|e| e < now) {
        return Err("the JWT has expired".into());
    }
    let real_pem = real.secret.trim();
    let signing = p256::SecretKey::from_sec1_pem(real_pem)
        .or_else(|_| p256::SecretKey::from_pkcs8_pem(real_pem))
        .map(p256::ecdsa::SigningKey::from)
        .map_err(|_| {
            "the stored Coinbase secret is not an EC (ES256) PEM private key".to_string()
        })?;
    let mut nonce = [0u8; 16];
    crate::secret::fill_random(&mut nonce).map_err(|e| e.to_string())?;
    let new_header = serde_json::json!({"alg": "ES256", "kid": real.key, "nonce": hex::encode(nonce), "typ": "JWT"});
    claims["sub"] = real.key.into();
    claims["uri"] = format!("{} {}{}", r.method, crate::verify::COINBASE_HOST, r.path).into();
    claims["nbf"] = now.into();
    claims["iat"] = now.into();
    claims["exp"] = (now + 120).into();
    let input = format!(
        "{}.{}",
        b64url().encode(new_header.to_string()),
        b64url().encode(claims.to_string())
    );
    let sig: p256::ecdsa::Signature =
        p256::ecdsa::signature::Signer::sign(&signing, input.as_bytes());
    let jwt = format!("Bearer {input}.{}", b64url().encode(sig.to_bytes()));
    Ok(crate::proxy::swapped(r, &[("Authorization", &jwt)]))
}

fn coinbase_orders(r: &Incoming<'_>) -> OrdersOf {
    match (r.method, r.path) {
        ("POST", "/api/v3/brokerage/orders") => {}
        ("POST", "/api/v3/brokerage/orders/edit") => {
            return Some(Err("an order edit names no product".into()))
        }
        _ => return None,
    }
    let v = match json_body(r) {
        Ok(v) => v,
        Err(e) => return Some(Err(e)),
    };
    let Some(product) = v.get("product_id").and_then(|x| x.as_str()) else {
        return Some(Err("the order names no product_id".into()));
    };
    // order_configuration holds one object: limit_limit_gtc {base_size, limit_price},
    // market_market_ioc {quote_size | base_size}, ...
    let cfg = v
        .get("order_configuration")
        .and_then(|c| c.as_object())
        .and_then(|o| o.values().next());
    let notional = cfg.and_then(|c| {
        num(c.get("quote_size")).or_else(|| {
            num(c.get("base_size"))
                .zip(num(c.get("limit_price")))
                .map(|(a, b)| a * b)
        })
    });
    Some(Ok(vec![Order {
        symbol: product.to_string(),
        notional,
    }]))
}
