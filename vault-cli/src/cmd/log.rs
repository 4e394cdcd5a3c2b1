//! `vault log [BOT]`: the audit trail, checked against its chain and the vault's anchor.

use serde_json::json;

use crate::ctx::Ctx;
use crate::error::{code, CliResult};
use crate::output;

pub fn run(ctx: &Ctx, bot: Option<&str>, as_json: bool) -> CliResult<i32> {
    let v = ctx.open()?;
    let checked = v.verify_log();
    let entries: Vec<_> = checked
        .entries
        .iter()
        .filter(|e| bot.is_none() || e.bot.as_deref() == bot)
        .collect();
    // A bot that is neither in the vault nor anywhere in its log is "no such bot", as for
    // `show`; a removed bot's history is still shown.
    if let Some(b) = bot {
        if entries.is_empty() && v.bot(b).is_err() {
            return Err(vault_core::Error::NoSuchBot(b.to_string()).into());
        }
    }
    if as_json {
        output::json(&json!({
            "intact": checked.problems.is_empty(),
            "problems": checked.problems,
            "entries": entries,
        }));
    } else {
        let rows: Vec<Vec<String>> = entries
            .iter()
            .map(|e| {
                vec![
                    e.seq.to_string(),
                    e.time.clone(),
                    e.op.clone(),
                    e.bot.clone().unwrap_or_default(),
                    e.fingerprint.clone().unwrap_or_default(),
                    e.detail.clone().unwrap_or_default(),
                ]
            })
            .collect();
        output::table(
            &["SEQ", "TIME", "OP", "BOT", "FINGERPRINT", "DETAIL"],
            &rows,
        );
        for p in &checked.problems {
            output::warn(p);
        }
    }
    Ok(if checked.problems.is_empty() {
        0
    } else {
        code::INTEGRITY
    })
}
