//! `vault list`: bots, exchange, masked key, key age, status, number of findings.

use vault_core::{policy, short_fp, short_fp_str, Bot, Status, Vault};

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

/// One bot in `list --json` (docs/schemas/list.schema.json).
#[cfg_attr(test, derive(serde::Serialize))]
struct Row<'a> {
    exchange: &'static str,
    findings: usize,
    fingerprint: &'a str,
    key: &'a str,
    key_age_days: i64,
    name: &'a str,
    status: &'static str,
}

/// `list --json`'s text: exactly what `serde_json::to_string_pretty` prints for
/// `{"bots": [Row...], "vault": path}` (fields in alphabetical order, the order `json!`
/// objects print in; a test holds the two equal), written straight into one string: a
/// 2,000-bot list spent a tenth of its instructions in serde's per-field machinery.
fn json_text(rows: &[Row<'_>], vault: &std::path::Path) -> String {
    let mut s = String::with_capacity(64 + vault.as_os_str().len() + rows.len() * 240);
    s.push_str("{\n  \"bots\": [");
    for (i, r) in rows.iter().enumerate() {
        s.push_str(if i == 0 { "\n    {" } else { ",\n    {" });
        s.push_str("\n      \"exchange\": ");
        push_quoted(&mut s, r.exchange);
        s.push_str(",\n      \"findings\": ");
        push_int(&mut s, r.findings);
        s.push_str(",\n      \"fingerprint\": ");
        push_quoted(&mut s, r.fingerprint);
        s.push_str(",\n      \"key\": ");
        push_quoted(&mut s, r.key);
        s.push_str(",\n      \"key_age_days\": ");
        push_int(&mut s, r.key_age_days);
        s.push_str(",\n      \"name\": ");
        push_quoted(&mut s, r.name);
        s.push_str(",\n      \"status\": ");
        push_quoted(&mut s, r.status);
        s.push_str("\n    }");
    }
    s.push_str(if rows.is_empty() { "]" } else { "\n  ]" });
    s.push_str(",\n  \"vault\": ");
    push_quoted(&mut s, &vault.to_string_lossy());
    s.push_str("\n}");
    s
}

/// Adds a number as serde_json writes it, without a string of its own per number.
fn push_int(s: &mut String, n: impl std::fmt::Display) {
    use std::fmt::Write;
    let _ = write!(s, "{n}");
}

/// Adds `v` as a JSON string as serde_json writes it: quotes, backslashes and control
/// characters escaped, everything else as is.
fn push_quoted(s: &mut String, v: &str) {
    // No early exit, so the check runs over many bytes at once; nearly every value is plain.
    if v.bytes().fold(false, |esc, b| {
        esc | (b < 0x20) | (b == b'"') | (b == b'\\')
    }) {
        s.push_str(&serde_json::Value::from(v).to_string());
    } else {
        s.push('"');
        s.push_str(v);
        s.push('"');
    }
}

pub fn run(ctx: &Ctx, as_json: bool) -> CliResult<i32> {
    let v = ctx.open()?;
    print(ctx, &v, as_json);
    // The process exits next: the secrets are wiped where they lie and the rest is left to
    // the exit, instead of being freed block by block (a measurable part of a large list).
    v.wipe_and_leak();
    Ok(0)
}

fn print(ctx: &Ctx, v: &Vault, as_json: bool) {
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
        let bots: Vec<Row<'_>> = rows
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
        output::out(&json_text(&bots, &ctx.vault_path));
        return;
    }
    if rows.is_empty() {
        output::out("no bots yet: `vault add BOT --exchange EX`");
        return;
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_json_is_exactly_what_serde_json_prints() {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            bots: &'a [Row<'a>],
            vault: &'a str,
        }
        let row = |name: &'static str, key: &'static str, n: usize, age: i64| Row {
            exchange: "binance",
            findings: n,
            fingerprint: "5d59278175b0",
            key,
            key_age_days: age,
            name,
            status: "active",
        };
        let odd = [
            row("bot-1", "ROT1…4144", 0, 0),
            row("b", "qu\"ote\\back", 3, -2),
            row(
                "ctl",
                "tab\there\nnl\u{1}\u{1f}\u{7f}",
                usize::MAX,
                i64::MIN,
            ),
            row("u", "ключ…🔑", 1, 400),
        ];
        for (rows, vault) in [
            (&odd[..], "/home/me/.local/share/vault/vault.age"),
            (&odd[..1], "C:\\vault \"x\"\t.age"),
            (&[][..], "/v"),
        ] {
            let want = serde_json::to_string_pretty(&Out { bots: rows, vault }).expect("json");
            assert_eq!(json_text(rows, std::path::Path::new(vault)), want);
        }
    }
}
