//! `vault secret set|remove`: a bot's extra secrets (e.g. FREQTRADE__TELEGRAM__TOKEN).

use crate::cli::{SecretCmd, SecretRemoveArgs, SecretSetArgs};
use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::{input, output};

pub fn run(ctx: &Ctx, c: SecretCmd) -> CliResult<i32> {
    match c {
        SecretCmd::Set(SecretSetArgs {
            bot,
            env_name,
            from_stdin,
        }) => {
            vault_core::model::validate_env_name(&env_name)?;
            let mut v = ctx.open()?;
            v.bot(&bot)?;
            let value = input::read_one(&env_name, from_stdin)?;
            if vault_core::policy::freqtrade_would_convert(&env_name, value.expose()) {
                output::warn(&format!(
                    "freqtrade's env loader would turn {env_name} into a number, boolean or list; use `vault run --deliver freqtrade-config`"
                ));
            }
            v.set_secret(&bot, &env_name, value)?;
            output::out(&format!("set {env_name} for {bot}"));
        }
        SecretCmd::Remove(SecretRemoveArgs { bot, env_name }) => {
            let mut v = ctx.open()?;
            v.remove_secret(&bot, &env_name)?;
            output::out(&format!("removed {env_name} from {bot}"));
        }
    }
    Ok(0)
}
