//! `vault unlock --for 15m` and `vault lock`: the session cache in the kernel session keyring.

use secrecy::SecretString;

use crate::ctx::Ctx;
use crate::error::{code, CliError, CliResult};
use crate::{output, session};

/// At most 12 hours.
const MAX_SECONDS: u64 = 12 * 3600;

pub fn run(ctx: &Ctx, duration: std::time::Duration) -> CliResult<i32> {
    let secs = duration.as_secs();
    if secs > MAX_SECONDS {
        return Err(CliError::usage("the session cache lasts at most 12h"));
    }
    // Before any passphrase is asked for: a cache where the bot can reach it is refused.
    session::check_usable().map_err(|why| CliError::new(code::REFUSED, why))?;
    let v = ctx.open()?;
    let id: &SecretString = v.identity_secret();
    session::store(&v.vault_id_hex(), id, secs).map_err(CliError::other)?;
    output::out(&format!(
        "unlocked for {} in this login session's kernel keyring; `vault lock` ends it early",
        human(secs)
    ));
    Ok(0)
}

pub fn lock(ctx: &Ctx) -> CliResult<i32> {
    let file = ctx.read_file()?;
    let id = hex::encode(file.header().vault_id);
    match session::clear(&id) {
        Ok(true) => {
            output::out("locked: the session cache is cleared");
            output::note("the cache held the vault's identity: a process that read it while it was there can open this vault file, and any copy of it, until `vault rekey`. If you suspect that, run `vault rekey` and rotate the bots' keys at the exchanges");
        }
        Ok(false) => output::out("nothing to lock: the session cache was empty"),
        Err(why) => return Err(CliError::other(why)),
    }
    Ok(0)
}

/// `15m`, `8h`, `90s`: the largest whole unit.
fn human(secs: u64) -> String {
    match secs {
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}
