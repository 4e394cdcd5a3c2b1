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
    proxy: None,
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
