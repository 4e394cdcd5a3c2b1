//! `vault show BOT`: one bot's metadata and rotation history; secrets only with --reveal.

use std::io::IsTerminal;

use serde_json::json;
use vault_core::{short_fp, Bot, Status};

use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output;

use super::list::{key_age_days, status_str};

pub fn bot_json(b: &Bot) -> serde_json::Value {
    let verify = b.current_verify().map(|r| {
        json!({
            "at": r.at.to_string(),
            "can_withdraw": r.can_withdraw,
            "can_trade": r.can_trade,
            "ip_restricted": r.ip_restricted,
            "ip_allowlist": r.ip_allowlist,
            "expires_at": r.expires_at.map(|t| t.to_string()),
            "permissions": r.permissions,
            "trusted": r.trusted,
        })
    });
    let (revoked_at, revoked_reason) = match &b.status {
        Status::Revoked { at, reason } => (Some(at.to_string()), reason.clone()),
        Status::Active => (None, None),
    };
    json!({
        "name": b.name,
        "exchange": b.exchange.id(),
        "key": b.key_hint,
        "fingerprint": short_fp(&b.fingerprint),
        "credential_fields": b.credential_fields(),
        "extra_secrets": b.extra_secret_names().collect::<Vec<_>>(),
        "status": status_str(b),
        "revoked_at": revoked_at,
        "revoked_reason": revoked_reason,
        "withdrawals": b.scope.withdrawals.as_str(),
        "ip_allowlist": b.scope.ip_allowlist,
        "sub_account": b.scope.sub_account,
        "env_profile": b.env_profile.as_str(),
        "rotate_after_days": b.rotate_after_days,
        "created_at": b.created_at.to_string(),
        "key_added_at": b.key_added_at.to_string(),
        "rotated_at": b.rotated_at.map(|t| t.to_string()),
        "key_age_days": key_age_days(b, jiff::Timestamp::now()),
        "verify": verify,
        "history": b.history.iter().map(|h| json!({
            "fingerprint": short_fp(&h.fingerprint),
            "key": h.key_hint,
            "added_at": h.added_at.to_string(),
            "retired_at": h.retired_at.to_string(),
            "event": h.event,
            "reason": h.reason,
        })).collect::<Vec<_>>(),
        "note": b.note,
    })
}

pub fn run(ctx: &Ctx, name: &str, as_json: bool, reveal: bool) -> CliResult<i32> {
    let v = ctx.open()?;
    let b = v.bot(name)?;
    let mut j = bot_json(b);
    if reveal {
        // Who saw the secrets, and when: logged before they are printed.
        v.log_only("reveal", Some(name), None)?;
        if std::io::stdout().is_terminal() {
            output::warn(
                "printing secrets to the terminal: clear the screen and scrollback afterwards",
            );
        }
        let secrets: serde_json::Map<String, serde_json::Value> = b
            .secret_values()
            .map(|(k, s)| {
                (
                    k.to_string(),
                    serde_json::Value::String(s.expose().to_string()),
                )
            })
            .collect();
        j["secrets"] = serde_json::Value::Object(secrets);
    }
    if as_json {
        output::json(&j);
        return Ok(0);
    }
    let s = |k: &str| match &j[k] {
        serde_json::Value::Null => "-".to_string(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(a) if a.is_empty() => "-".to_string(),
        serde_json::Value::Array(a) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| x.to_string())
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    };
    for (label, key) in [
        ("bot", "name"),
        ("exchange", "exchange"),
        ("key", "key"),
        ("fingerprint", "fingerprint"),
        ("fields", "credential_fields"),
        ("extra secrets", "extra_secrets"),
        ("status", "status"),
        ("withdrawals", "withdrawals"),
        ("ip allow-list", "ip_allowlist"),
        ("sub-account", "sub_account"),
        ("env profile", "env_profile"),
        ("rotate after", "rotate_after_days"),
        ("created", "created_at"),
        ("key added", "key_added_at"),
        ("key age (days)", "key_age_days"),
        ("note", "note"),
    ] {
        output::out(&format!("{label:<15} {}", s(key)));
    }
    if let Status::Revoked { at, reason } = &b.status {
        output::out(&format!(
            "{:<15} {at} {}",
            "revoked",
            reason.as_deref().unwrap_or("")
        ));
    }
    match b.current_verify() {
        Some(r) => output::out(&format!(
            "{:<15} {} withdraw={} trade={} ip-restricted={}{}",
            "verified",
            r.at,
            opt(r.can_withdraw),
            opt(r.can_trade),
            opt(r.ip_restricted),
            if r.trusted {
                ""
            } else {
                " (custom endpoint: not trusted)"
            }
        )),
        None => output::out(&format!(
            "{:<15} never (run `vault verify {}`)",
            "verified", b.name
        )),
    }
    if !b.history.is_empty() {
        output::out("history:");
        for h in &b.history {
            output::out(&format!(
                "  {} {} {} ({}…) added {} {}",
                h.retired_at,
                h.event,
                h.key_hint,
                short_fp(&h.fingerprint),
                h.added_at,
                h.reason.as_deref().unwrap_or("")
            ));
        }
    }
    if let Some(secrets) = j.get("secrets").and_then(|s| s.as_object()) {
        output::out("secrets:");
        for (k, val) in secrets {
            output::out(&format!("  {k}: {}", val.as_str().unwrap_or("")));
        }
    }
    Ok(0)
}

fn opt(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
}
