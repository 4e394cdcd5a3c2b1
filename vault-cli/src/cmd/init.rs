//! `vault init`: create a new vault; never overwrite one.

use std::time::Instant;

use vault_core::{kdf, KdfParams, Vault};

use crate::cli::InitArgs;
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::{input, output};

pub fn run(ctx: &Ctx, a: InitArgs) -> CliResult<i32> {
    // On a small machine the default is the largest that fits in half of MemAvailable.
    let avail = ctx.opts().memory_available_kib;
    let fitted = KdfParams::default_for(avail);
    let params = KdfParams {
        memory_kib: a
            .kdf_memory
            .map_or(fitted.memory_kib, |m| m.saturating_mul(1024)),
        iterations: a.kdf_iterations.unwrap_or(kdf::DEFAULT.iterations),
        lanes: a.kdf_parallelism.unwrap_or(kdf::DEFAULT.lanes),
    };
    params.check_floor()?;
    params.check_fits(avail)?;
    if a.kdf_memory.is_none() && fitted.memory_kib < kdf::DEFAULT.memory_kib {
        output::note(&format!(
            "this machine has little free memory: the KDF uses {} MiB instead of the default {} MiB",
            fitted.memory_kib / 1024,
            kdf::DEFAULT.memory_kib / 1024
        ));
    }
    if std::fs::symlink_metadata(&ctx.vault_path).is_ok() {
        return Err(CliError::other(format!(
            "{} already exists; vault init never overwrites a vault (choose another --vault path)",
            ctx.vault_path.display()
        )));
    }
    if a.keyring {
        // Decide the store before anything is created: a refusal must leave no vault behind.
        crate::cmd::keyring::chosen_store(None)?;
    }
    let pass = input::new_passphrase(ctx.g.passphrase_file.as_deref())?;
    let start = Instant::now();
    let v = Vault::create(&ctx.vault_path, &pass, params, ctx.opts())?;
    let took = start.elapsed();
    output::out(&format!("created {}", ctx.vault_path.display()));
    output::out(&format!(
        "KDF: Argon2id, {} MiB, {} passes, {} lanes; one unlock takes about {} ms here",
        params.memory_kib / 1024,
        params.iterations,
        params.lanes,
        took.as_millis()
    ));
    if a.keyring {
        crate::cmd::keyring::enable_on(ctx, v, None)?;
    }
    output::out("next: `vault add BOT --exchange EX` to store a bot's key");
    Ok(0)
}
