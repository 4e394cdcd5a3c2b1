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
    proxy: None,
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
