//! `vault set`: change a bot's metadata without touching its key.

use vault_core::SetBot;

use crate::cli::SetArgs;
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::output;

pub fn run(ctx: &Ctx, a: SetArgs) -> CliResult<i32> {
    let change = SetBot {
        withdrawals: a.withdrawals.map(super::withdrawals),
        ip_allowlist: if a.no_ip {
            Some(vec![])
        } else if a.ips.is_empty() {
            None
        } else {
            Some(a.ips)
        },
        sub_account: a.sub_account.map(|s| (!s.is_empty()).then_some(s)),
        env_profile: a.env_profile.map(super::profile),
        rotate_after_days: a.rotate_after,
        note: a.note.map(|s| (!s.is_empty()).then_some(s)),
    };
    if change.withdrawals.is_none()
        && change.ip_allowlist.is_none()
        && change.sub_account.is_none()
        && change.env_profile.is_none()
        && change.rotate_after_days.is_none()
        && change.note.is_none()
    {
        return Err(CliError::usage(
            "nothing to change: give at least one option (see `vault set --help`)",
        ));
    }
    let mut v = ctx.open()?;
    v.set(&a.bot, change)?;
    output::out(&format!("updated {}", a.bot));
    if let Some(why) = vault_core::policy::run_refusal(v.bot(&a.bot)?) {
        output::warn(&format!("`vault run` will refuse this bot: {why}"));
    }
    Ok(0)
}
