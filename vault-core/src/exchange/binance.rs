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
    proxy: Some(&PROXY),
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

// ---- the signing proxy (`vault run --proxy`) ----

use crate::proxy::{
    form_num, form_params, param_span, with_headers, without_param, Incoming, Order, OrdersOf,
    Outgoing, ProxySpec,
};

pub(super) const PROXY: ProxySpec = ProxySpec {
    hosts: &[
        "api.binance.com",
        "api1.binance.com",
        "api2.binance.com",
        "api3.binance.com",
        "api4.binance.com",
        "fapi.binance.com",
        "dapi.binance.com",
        "eapi.binance.com",
        "papi.binance.com",
        "testnet.binance.vision",
        "testnet.binancefuture.com",
    ],
    ccxt_api: r#"{"sapi": "https://api.binance.com/sapi/v1", "sapiV2": "https://api.binance.com/sapi/v2", "sapiV3": "https://api.binance.com/sapi/v3", "sapiV4": "https://api.binance.com/sapi/v4", "dapiPublic": "https://dapi.binance.com/dapi/v1", "dapiPrivate": "https://dapi.binance.com/dapi/v1", "eapiPublic": "https://eapi.binance.com/eapi/v1", "eapiPrivate": "https://eapi.binance.com/eapi/v1", "dapiPrivateV2": "https://dapi.binance.com/dapi/v2", "dapiData": "https://dapi.binance.com/futures/data", "fapiPublic": "https://fapi.binance.com/fapi/v1", "fapiPublicV2": "https://fapi.binance.com/fapi/v2", "fapiPublicV3": "https://fapi.binance.com/fapi/v3", "fapiPrivate": "https://fapi.binance.com/fapi/v1", "fapiPrivateV2": "https://fapi.binance.com/fapi/v2", "fapiPrivateV3": "https://fapi.binance.com/fapi/v3", "fapiData": "https://fapi.binance.com/futures/data", "public": "https://api.binance.com/api/v3", "private": "https://api.binance.com/api/v3", "v1": "https://api.binance.com/api/v1", "papi": "https://papi.binance.com/papi/v1", "papiV2": "https://papi.binance.com/papi/v2"}"#,
    claims: |r| {
        r.header("X-MBX-APIKEY").is_some()
            || param_span(r.query, "signature").is_some()
            || param_span(std::str::from_utf8(r.body).unwrap_or(""), "signature").is_some()
    },
    resign,
    allowed: &[
        // spot
        ("GET", "/api/v3/account"),
        ("GET", "/api/v3/account/commission"),
        ("GET", "/api/v3/order"),
        ("POST", "/api/v3/order"),
        ("DELETE", "/api/v3/order"),
        ("POST", "/api/v3/order/test"),
        ("POST", "/api/v3/order/cancelReplace"),
        ("GET", "/api/v3/openOrders"),
        ("DELETE", "/api/v3/openOrders"),
        ("GET", "/api/v3/allOrders"),
        ("GET", "/api/v3/myTrades"),
        ("GET", "/api/v3/rateLimit/order"),
        ("GET", "/sapi/v1/capital/config/getall"),
        ("GET", "/sapi/v1/margin/allPairs"),
        ("GET", "/sapi/v1/margin/isolated/allPairs"),
        ("GET", "/sapi/v1/asset/tradeFee"),
        // USDⓈ-M futures
        ("GET", "/fapi/v2/account"),
        ("GET", "/fapi/v3/account"),
        ("GET", "/fapi/v2/balance"),
        ("GET", "/fapi/v3/balance"),
        ("GET", "/fapi/v1/order"),
        ("POST", "/fapi/v1/order"),
        ("PUT", "/fapi/v1/order"),
        ("DELETE", "/fapi/v1/order"),
        ("GET", "/fapi/v1/openOrder"),
        ("GET", "/fapi/v1/openOrders"),
        ("DELETE", "/fapi/v1/allOpenOrders"),
        ("GET", "/fapi/v1/allOrders"),
        ("GET", "/fapi/v1/userTrades"),
        ("GET", "/fapi/v2/positionRisk"),
        ("GET", "/fapi/v3/positionRisk"),
        ("POST", "/fapi/v1/leverage"),
        ("POST", "/fapi/v1/marginType"),
        ("GET", "/fapi/v1/leverageBracket"),
        ("GET", "/fapi/v1/commissionRate"),
        ("GET", "/fapi/v1/positionSide/dual"),
        ("GET", "/fapi/v1/multiAssetsMargin"),
        ("GET", "/fapi/v1/income"),
        ("GET", "/fapi/v1/symbolConfig"),
        ("GET", "/fapi/v1/accountConfig"),
    ],
    forbidden: &[
        "withdraw",
        "transfer",
        "sub-account",
        "subaccount",
        "apirestrictions",
        "apikey",
        "api-key",
        "/capital/deposit/credit-apply",
    ],
    orders: binance_orders,
};

/// Binance (SIGNED endpoints): HMAC-SHA256 hex over totalParams, the query string followed by
/// the body, without the `signature` parameter, which is in the query (GET, DELETE) or the
/// body (POST, PUT); the key in `X-MBX-APIKEY`.
fn resign(r: &Incoming<'_>, stand: &Creds<'_>, real: &Creds<'_>) -> Result<Outgoing, String> {
    use crate::proxy::{resign_tag, stand_in_key, Tag};
    stand_in_key(r, "X-MBX-APIKEY", stand)?;
    let body = r.body_str()?;
    let in_query = param_span(r.query, "signature");
    let in_body = param_span(body, "signature");
    let (sig, span) = match (&in_query, &in_body) {
        (Some(s), None) => (&r.query[s.clone()], s.clone()),
        (None, Some(s)) => (&body[s.clone()], s.clone()),
        (None, None) => return Err("the request carries the key but no signature".into()),
        (Some(_), Some(_)) => return Err("the request carries two signatures".into()),
    };
    let payload = format!(
        "{}{}",
        without_param(r.query, "signature"),
        without_param(body, "signature")
    );
    let real_sig = resign_tag(
        Tag::HexSha256,
        sig,
        (stand.secret.as_bytes(), payload.as_bytes()),
        (real.secret.as_bytes(), payload.as_bytes()),
    )?;
    let splice = |s: &str| format!("{}{real_sig}{}", &s[..span.start], &s[span.end..]);
    let (query, body) = if in_query.is_some() {
        (splice(r.query), r.body.to_vec())
    } else {
        (r.query.to_string(), splice(body).into_bytes())
    };
    Ok(Outgoing {
        query,
        headers: with_headers(r, &[("X-MBX-APIKEY", real.key)]),
        body,
    })
}

fn binance_orders(r: &Incoming<'_>) -> OrdersOf {
    let places = matches!(
        (r.method, r.path),
        ("POST", "/api/v3/order")
            | ("POST", "/api/v3/order/test")
            | ("POST", "/api/v3/order/cancelReplace")
            | ("POST", "/fapi/v1/order")
            | ("PUT", "/fapi/v1/order")
    );
    if r.path.contains("batchOrders") || r.path.contains("orderList") || r.path.contains("/sor/") {
        return Some(Err(
            "batch, list and SOR orders are not read by the proxy".into()
        ));
    }
    if !places {
        return None;
    }
    let body = std::str::from_utf8(r.body).unwrap_or("");
    let p = form_params(&[r.query, body]);
    let Some((_, symbol)) = p.iter().find(|(k, _)| k == "symbol") else {
        return Some(Err("the order names no symbol".into()));
    };
    let qty = form_num(&p, "quantity");
    let price = form_num(&p, "price").or_else(|| form_num(&p, "stopPrice"));
    let notional = form_num(&p, "quoteOrderQty").or(match (qty, price) {
        (Some(q), Some(px)) => Some(q * px),
        _ => None,
    });
    Some(Ok(vec![Order {
        symbol: symbol.clone(),
        notional,
    }]))
}
