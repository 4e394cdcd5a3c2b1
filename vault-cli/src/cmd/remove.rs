//! `vault remove BOT --yes`: delete a bot; its fingerprints stay known.

use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::output;

pub fn run(ctx: &Ctx, name: &str, yes: bool) -> CliResult<i32> {
    let mut v = ctx.open()?;
    let bot = v.bot(name)?;
    let exchange = bot.exchange;
    if !yes {
        return Err(CliError::usage(format!(
            "this deletes {name} and its history for good; run again with --yes (or `vault revoke {name}` to keep a tombstone)"
        )));
    }
    v.remove(name)?;
    output::out(&format!("removed {name}; its key can never be added again"));
    output::out(&format!(
        "delete the key at the exchange too: {}",
        exchange.api_management_url()
    ));
    Ok(0)
}
