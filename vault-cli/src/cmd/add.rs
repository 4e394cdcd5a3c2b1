//! `vault add`: store one key for one bot.

use std::collections::BTreeMap;

use vault_core::{model, NewBot, Scope};

use crate::cli::AddArgs;
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::{input, output};

pub fn run(ctx: &Ctx, a: AddArgs) -> CliResult<i32> {
    // Validate everything that needs no secret before asking for one.
    let exchange = a.exchange;
    let withdrawals = super::withdrawals(a.withdrawals);
    if withdrawals == vault_core::Withdrawals::Enabled {
        return Err(CliError::new(
            crate::error::code::REFUSED,
            "refused: a key with withdrawals enabled. Rule 1: trade-only permissions, never withdrawals. Create a trade-only key at the exchange",
        ));
    }
    let ips = a
        .ips
        .iter()
        .map(|ip| model::validate_ip(ip))
        .collect::<Result<Vec<_>, _>>()?;
    let mut v = ctx.open()?;
    if v.bot(&a.bot).is_ok() {
        return Err(vault_core::Error::BotExists(a.bot.clone()).into());
    }
    let key = input::read_key(exchange, a.from_stdin)?;
    let profile = super::profile(a.env_profile);
    warn_freqtrade(profile, &key);
    v.add(NewBot {
        name: a.bot.clone(),
        exchange,
        key,
        scope: Scope {
            withdrawals,
            ip_allowlist: ips,
            sub_account: a.sub_account,
        },
        env_profile: profile,
        rotate_after_days: a.rotate_after,
        note: a.note,
        extra_secrets: BTreeMap::new(),
    })?;
    let bot = v.bot(&a.bot)?;
    output::out(&format!(
        "added {} ({}, key {}, fingerprint {})",
        bot.name,
        bot.exchange,
        bot.key_hint,
        vault_core::short_fp(&bot.fingerprint)
    ));
    if bot.scope.withdrawals == vault_core::Withdrawals::Unknown {
        output::warn(&format!(
            "withdrawals are not declared disabled; check at {} and run `vault verify {}`",
            exchange.api_management_url(),
            bot.name
        ));
    }
    if bot.scope.ip_allowlist.is_empty() {
        output::warn("no IP allow-list declared (rule 2); restrict the key to your server's IP at the exchange and `vault set --ip`");
    }
    Ok(0)
}

/// Warns when freqtrade's env loader would turn a value into a number, boolean or list.
pub fn warn_freqtrade(profile: vault_core::EnvProfile, key: &vault_core::NewKey) {
    if profile == vault_core::EnvProfile::Generic {
        return;
    }
    for name in vault_core::policy::freqtrade_converted_fields(key) {
        output::warn(&format!(
            "freqtrade's env loader would turn {name} into a number, boolean or list; use `vault run --deliver freqtrade-config`"
        ));
    }
}
