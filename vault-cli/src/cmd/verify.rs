//! `vault verify`: ask the exchange what each key may really do, and record it on the bot,
//! bound to the key's fingerprint. Signing and parsing live in `vault_core::verify`; this
//! module does the HTTP (rustls, no redirects, 10 s timeouts) and the reporting.
//!
//! A network error, a timeout, an HTTP 500 or a malformed answer is exit 1 and records nothing.

use std::time::Duration;

use serde_json::json;
use vault_core::policy::{self, Severity};
use vault_core::verify::{self as v, Creds, Failure};
use vault_core::{Exchange, VerifyResult};

use crate::ctx::Ctx;
use crate::error::{code, CliError, CliResult};
use crate::output;

/// Rules `verify` answers for (the rest of the table is `audit`'s).
const VERIFY_RULES: [&str; 5] = [
    "withdrawals-enabled",
    "ip-not-restricted",
    "ip-restriction-unknowable",
    "withdraw-unknowable",
    "key-expires-soon",
];

/// Where requests for `ex` go, and whether the answer can be trusted.
pub fn base_url(ex: Exchange, allow_custom: bool) -> CliResult<(String, bool)> {
    let var = format!("VAULT_{}_BASE_URL", ex.id().to_ascii_uppercase());
    let Ok(url) = std::env::var(&var) else {
        return Ok((v::known_hosts(ex)[0].to_string(), true));
    };
    let url = url.trim_end_matches('/').to_string();
    if v::known_hosts(ex).contains(&url.as_str()) {
        return Ok((url, true));
    }
    let loopback = ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"]
        .iter()
        .any(|p| {
            url.strip_prefix(p)
                .is_some_and(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
        });
    if loopback {
        return Ok((url, true));
    }
    if !allow_custom {
        return Err(CliError::other(format!(
            "{var} points at {url}, which is not a known {ex} host; pass --allow-custom-endpoint to use it anyway (the result is then marked unverified)"
        )));
    }
    output::warn(&format!("{var}: using the custom endpoint {url}; the result is marked unverified and `run`/`audit` will not trust it"));
    Ok((url, false))
}

fn timeout() -> Duration {
    let secs = std::env::var("VAULT_VERIFY_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    Duration::from_secs(secs)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout()))
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into()
}

fn describe_net(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => format!("no answer within {} s", timeout().as_secs()),
        ureq::Error::Io(io) => format!("network error ({})", io.kind()),
        ureq::Error::HostNotFound => "host not found".into(),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        ureq::Error::BodyExceedsLimit(_) => "the answer was too large".into(),
        _ => "network or TLS error".into(),
    }
}

/// Sends the signed request; returns (status, body).
fn send(base: &str, req: &v::Request) -> Result<(u16, String), String> {
    let url = format!("{base}{}", req.path_and_query);
    let a = agent();
    let resp = if req.method == "POST" {
        let mut b = a.post(&url);
        for (k, val) in &req.headers {
            b = b.header(k, val);
        }
        b.send(req.body.as_bytes())
    } else {
        let mut b = a.get(&url);
        for (k, val) in &req.headers {
            b = b.header(k, val);
        }
        b.call()
    };
    let mut resp = resp.map_err(|e| describe_net(&e))?;
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(1024 * 1024)
        .read_to_string()
        .map_err(|e| describe_net(&e))?;
    Ok((status, body))
}

fn now_ms() -> u64 {
    u64::try_from(jiff::Timestamp::now().as_millisecond()).unwrap_or(0)
}

pub fn run(
    ctx: &Ctx,
    bot: Option<String>,
    all: bool,
    strict: bool,
    allow_custom: bool,
    as_json: bool,
) -> CliResult<i32> {
    let mut vault = ctx.open()?;
    let names: Vec<String> = match (bot, all) {
        (Some(b), _) => vec![vault.bot(&b)?.name.clone()],
        (None, true) => vault
            .bots()
            .filter(|b| b.is_active())
            .map(|b| b.name.clone())
            .collect(),
        (None, false) => return Err(CliError::usage("name a bot, or give --all")),
    };
    let mut worst = 0;
    let mut reports = Vec::new();
    for name in names {
        let b = vault.bot(&name)?;
        let ex = b.exchange;
        let Some(c) = b.credentials() else {
            return Err(CliError::new(
                code::REFUSED,
                format!("{name} is revoked; nothing to verify"),
            ));
        };
        let (base, trusted) = base_url(ex, allow_custom)?;
        let creds = Creds {
            key: c.key.expose(),
            secret: c.secret.expose(),
            passphrase: c.passphrase.as_ref().map(|p| p.expose()),
        };
        let req = v::sign(ex, &creds, now_ms()).map_err(CliError::other)?;
        let fingerprint = b.fingerprint.clone();
        // The exchange's own words end up in our messages: never let them carry a secret back.
        let secrets: Vec<&str> = b.secret_values().map(|(_, s)| s.expose()).collect();
        let scrub = vault_core::mask::Masker::new(&secrets, &name);
        let (status, body) = send(&base, &req).map_err(|why| {
            CliError::other(format!(
                "{name}: cannot ask {ex} ({base}): {why}; nothing was recorded"
            ))
        })?;
        let facts = match v::parse(ex, status, &body) {
            Ok(f) => f,
            Err(f @ (Failure::IpNotAllowed | Failure::KeyOrIpRejected | Failure::Rejected(_))) => {
                // IP errors are evidence of an allow-list, not of the right one; nothing recorded.
                let ip = !matches!(f, Failure::Rejected(_));
                let f = scrub.mask_str(&f.to_string());
                if ip {
                    output::warn(&format!("{name}: {f}"));
                } else {
                    output::error_line(&format!("{name}: {f}"));
                }
                worst = worst.max(code::REFUSED);
                reports.push(json!({"bot": name, "error": f}));
                continue;
            }
            Err(f) => {
                let f = scrub.mask_str(&f.to_string());
                let extra = if status >= 500 {
                    format!(" (HTTP {status})")
                } else {
                    String::new()
                };
                return Err(CliError::other(format!(
                    "{name}: {f}{extra}; nothing was recorded"
                )));
            }
        };
        let result = VerifyResult {
            at: jiff::Timestamp::now(),
            fingerprint,
            can_withdraw: facts.can_withdraw,
            can_trade: facts.can_trade,
            ip_restricted: facts.ip_restricted,
            ip_allowlist: facts.ip_allowlist.clone(),
            expires_at: facts.expires_at,
            permissions: facts.permissions.clone(),
            trusted,
        };
        vault.record_verify(&name, result)?;
        let b = vault.bot(&name)?;
        let findings: Vec<_> = policy::evaluate(b, jiff::Timestamp::now())
            .into_iter()
            .filter(|f| VERIFY_RULES.contains(&f.rule))
            .collect();
        let yn = |o: Option<bool>| match o {
            Some(true) => "yes",
            Some(false) => "no",
            None => "unknown",
        };
        if !as_json {
            output::out(&format!(
                "{name} ({ex}{}): withdraw {}, trade {}, IP-restricted {}{}",
                if trusted {
                    ""
                } else {
                    ", UNVERIFIED custom endpoint"
                },
                yn(facts.can_withdraw),
                yn(facts.can_trade),
                yn(facts.ip_restricted),
                if facts.ip_allowlist.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", facts.ip_allowlist.join(", "))
                }
            ));
            for f in &findings {
                let sev = if f.severity == Severity::Critical {
                    "CRITICAL"
                } else {
                    "warning"
                };
                output::out(&format!("  {sev} {}: {} — {}", f.rule, f.message, f.next));
            }
        }
        if trusted {
            if findings.iter().any(|f| f.severity == Severity::Critical)
                || (strict && findings.iter().any(|f| f.severity == Severity::Warning))
            {
                worst = worst.max(code::REFUSED);
            }
        } else if strict {
            worst = worst.max(code::REFUSED);
        }
        reports.push(json!({
            "bot": name, "exchange": ex.id(), "trusted": trusted,
            "can_withdraw": facts.can_withdraw, "can_trade": facts.can_trade,
            "ip_restricted": facts.ip_restricted, "ip_allowlist": facts.ip_allowlist,
            "expires_at": facts.expires_at.map(|t| t.to_string()), "permissions": facts.permissions,
            "findings": findings,
        }));
    }
    if as_json {
        output::json(&json!({ "results": reports }));
    }
    Ok(worst)
}
