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
    proxy: None,
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
