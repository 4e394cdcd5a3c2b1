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
    proxy: None,
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
