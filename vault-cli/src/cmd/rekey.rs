//! `vault rekey`: a new identity; the body is re-encrypted and every slot re-wrapped.

use std::path::Path;

use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::{input, keyring, output};

pub fn run(ctx: &Ctx, new_file: Option<&Path>) -> CliResult<i32> {
    let mut v = ctx.open()?;
    let params = super::rewrap_params(&v, None, ctx.opts().memory_available_kib);
    let new = input::new_passphrase(new_file)?;
    let vault_id = v.vault_id_hex();
    let store = v.keyring_store();
    // The keyring slot gets a fresh key, saved *before* the vault is written: a vault whose
    // keyring slot wraps a key the keyring does not hold would lock out the keyring unlock.
    // If the write then fails, the old key goes back.
    let mut old_kr = None;
    let new_kr = match store {
        Some(store) => {
            let k = vault_core::new_keyring_key()?;
            old_kr = keyring::load(store, &vault_id).ok();
            keyring::save(store, &vault_id, &k).map_err(|why| {
                CliError::other(format!(
                    "cannot save the new keyring key ({why}); nothing was changed. Fix the keyring, or `vault keyring disable` first"
                ))
            })?;
            Some(k)
        }
        None => None,
    };
    let dropped = match v.rekey(&new, params, new_kr.as_ref()) {
        Ok(d) => d,
        Err(e) => {
            if let (Some(store), Some(old)) = (store, old_kr.as_ref()) {
                if let Err(why) = keyring::save(store, &vault_id, old) {
                    output::warn(&format!("could not put the old keyring key back ({why}): unlock with the passphrase and run `vault keyring enable` again"));
                }
            }
            return Err(e.into());
        }
    };
    if dropped {
        output::warn("the keyring slot was dropped; run `vault keyring enable` again");
    }
    let _ = crate::session::clear(&vault_id);
    output::out("rekeyed: new identity, body re-encrypted, every slot re-wrapped");
    output::out("exported identities and old copies of the file no longer open new data: export a new identity where servers need one (`vault identity export`)");
    Ok(0)
}
