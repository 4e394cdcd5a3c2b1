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
    proxy: None,
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
