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
