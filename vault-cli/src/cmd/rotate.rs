//! `vault rotate BOT`: replace the key; the old one stays in the history as a fingerprint.

use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::{input, output};

pub fn run(ctx: &Ctx, name: &str, from_stdin: bool, reason: Option<String>) -> CliResult<i32> {
    let mut v = ctx.open()?;
    let bot = v.bot(name)?;
    let exchange = bot.exchange;
    let profile = bot.env_profile;
    let old_hint = bot.key_hint.clone();
    let key = input::read_key(exchange, from_stdin)?;
    super::add::warn_freqtrade(profile, &key);
    v.rotate(name, key, reason)?;
    let bot = v.bot(name)?;
    output::out(&format!(
        "rotated {name}: new key {} (old key {old_hint} kept as a fingerprint only)",
        bot.key_hint
    ));
    output::out(&format!(
        "now delete the old key {old_hint} at {}: until then it still works for whoever has it",
        exchange.api_management_url()
    ));
    output::out(&format!(
        "the verify result was reset; run `vault verify {name}`"
    ));
    // The process exits next: secrets wiped where they lie, the rest left to the exit (as
    // `list` does).
    v.wipe_and_leak();
    Ok(0)
}
