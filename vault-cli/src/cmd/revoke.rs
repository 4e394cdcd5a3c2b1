//! `vault revoke BOT`: wipe the secret material, keep a tombstone.

use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output;

pub fn run(ctx: &Ctx, name: &str, reason: Option<String>) -> CliResult<i32> {
    let mut v = ctx.open()?;
    let exchange = v.bot(name)?.exchange;
    v.revoke(name, reason)?;
    output::out(&format!(
        "revoked {name}: its secrets are wiped from the vault and `vault run` refuses it"
    ));
    output::out(&format!(
        "the key still works at the exchange until you delete it: {}",
        exchange.api_management_url()
    ));
    Ok(0)
}
