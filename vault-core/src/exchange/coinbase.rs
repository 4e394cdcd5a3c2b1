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
    proxy: None,
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
