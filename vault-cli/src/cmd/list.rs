//! `vault list`: bots, exchange, masked key, key age, status, number of findings.

use vault_core::{policy, short_fp, short_fp_str, Bot, Status};

use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output;

/// Whole days since the key was stored, at `now` (read once per command).
pub fn key_age_days(bot: &Bot, now: jiff::Timestamp) -> i64 {
    now.duration_since(bot.key_added_at).as_secs() / 86_400
}

pub fn status_str(bot: &Bot) -> &'static str {
    match bot.status {
        Status::Active => "active",
        Status::Revoked { .. } => "revoked",
    }
}

pub fn run(ctx: &Ctx, as_json: bool) -> CliResult<i32> {
    let v = ctx.open()?;
    let now = jiff::Timestamp::now();
    let rows: Vec<(&Bot, usize)> = v
        .bots()
        .map(|b| {
            let n = policy::evaluate(b, now)
                .iter()
                .filter(|f| f.severity >= policy::Severity::Warning)
                .count();
            (b, n)
        })
        .collect();
    if as_json {
        // Typed rows, serialized straight to text (no `serde_json::Value` per bot): fields in
        // alphabetical order, the order `json!` objects print in (docs/schemas/list).
        #[derive(serde::Serialize)]
        struct Row<'a> {
            exchange: &'static str,
            findings: usize,
            fingerprint: &'a str,
            key: &'a str,
            key_age_days: i64,
            name: &'a str,
            status: &'static str,
        }
        #[derive(serde::Serialize)]
        struct Out<'a> {
            bots: Vec<Row<'a>>,
            vault: &'a std::path::Path,
        }
        let bots = rows
            .iter()
            .map(|(b, n)| Row {
                exchange: b.exchange.id(),
                findings: *n,
                fingerprint: short_fp_str(&b.fingerprint),
                key: &b.key_hint,
                key_age_days: key_age_days(b, now),
                name: &b.name,
                status: status_str(b),
            })
            .collect();
        output::json(&Out {
            bots,
            vault: &ctx.vault_path,
        });
        return Ok(0);
    }
    if rows.is_empty() {
        output::out("no bots yet: `vault add BOT --exchange EX`");
        return Ok(0);
    }
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|(b, n)| {
            vec![
                b.name.clone(),
                b.exchange.id().to_string(),
                b.key_hint.clone(),
                short_fp(&b.fingerprint),
                format!("{}d", key_age_days(b, now)),
                status_str(b).to_string(),
                n.to_string(),
            ]
        })
        .collect();
    output::table(
        &[
            "BOT",
            "EXCHANGE",
            "KEY",
            "FINGERPRINT",
            "AGE",
            "STATUS",
            "FINDINGS",
        ],
        &table,
    );
    Ok(0)
}
