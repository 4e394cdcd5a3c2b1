//! Bybit: the facts vault needs, the signer of `vault verify`'s key-introspection request,
//! and the parser of the answer (shared/reference/exchanges.md).

use super::{SecretKind, Spec};
#[allow(unused_imports)]
use crate::verify::prelude::*;

pub(super) const SPEC: Spec = Spec {
    id: "bybit",
    management_url: "https://www.bybit.com/app/user/api-management",
    needs_passphrase: false,
    secret_kind: SecretKind::Line,
    ip_restriction_knowable: true,
    no_ip_note: Some("Bybit expires keys without an IP binding after 90 days"),
    endpoint: ("GET", "/v5/user/query-api"),
    hosts: &[
        "https://api.bybit.com",
        "https://api.bytick.com",
        "https://api-testnet.bybit.com",
        "https://api-demo.bybit.com",
        "https://api.bybit.nl",
        "https://api.bybit.tr",
        "https://api.bybit.kz",
        "https://api.bybitgeorgia.ge",
        "https://api.bybit.ae",
        "https://api.bybit.eu",
        "https://api.bybit.id",
        "https://api.manepa.jp",
    ],
    sign,
    parse,
};

fn sign(c: &Creds<'_>, now_ms: u64) -> Result<Request, String> {
    let secret = c.secret.as_bytes();
    let recv = "5000";
    let s = format!("{now_ms}{}{recv}", c.key);
    Ok(Request::bodiless(
        SPEC.endpoint,
        vec![
            h("X-BAPI-API-KEY", c.key.to_string()),
            h("X-BAPI-TIMESTAMP", now_ms.to_string()),
            h("X-BAPI-RECV-WINDOW", recv.to_string()),
            h(
                "X-BAPI-SIGN",
                hex::encode(hmac_sha256(secret, s.as_bytes())),
            ),
        ],
    ))
}

fn parse(_status: u16, body: &str) -> Result<KeyFacts, Failure> {
    let v = json(body)?;
    let code = field(&v, "retCode")?.as_i64().unwrap_or(-1);
    if code != 0 {
        let msg = text(&v, "retMsg");
        return Err(match code {
            10010 => Failure::IpNotAllowed,
            10003 | 10004 | 33004 => Failure::Rejected(format!("{code} {msg}")),
            _ => Failure::Exchange(format!("{code} {msg}")),
        });
    }
    let r = field(&v, "result")?;
    let perms = field(r, "permissions")?;
    let mut names = Vec::new();
    if let Some(o) = perms.as_object() {
        for (group, list) in o {
            for p in strs(list) {
                names.push(format!("{group}:{p}"));
            }
        }
    }
    let wallet = strs(perms.get("Wallet").unwrap_or(&serde_json::Value::Null));
    let ips = strs(field(r, "ips")?);
    let restricted = !(ips.is_empty() || ips.iter().any(|i| i == "*"));
    let trade = ["Spot", "ContractTrade", "Derivatives", "Options"]
        .iter()
        .any(|g| !strs(perms.get(*g).unwrap_or(&serde_json::Value::Null)).is_empty());
    let deadline = r.get("deadlineDay").and_then(|d| d.as_i64()).unwrap_or(-1);
    let expires_at = if deadline >= 0 {
        r.get("expiredAt")
            .and_then(|e| e.as_str())
            .and_then(|e| e.parse::<Timestamp>().ok())
    } else {
        None
    };
    Ok(KeyFacts {
        can_withdraw: Some(wallet.iter().any(|w| w == "Withdraw") || any_withdraw(&names)),
        can_trade: Some(trade && r.get("readOnly").and_then(|x| x.as_i64()) != Some(1)),
        ip_restricted: Some(restricted),
        ip_allowlist: if restricted { ips } else { vec![] },
        expires_at,
        permissions: names,
    })
}
