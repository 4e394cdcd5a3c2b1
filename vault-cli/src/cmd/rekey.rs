//! `vault rekey`: a new identity; the body is re-encrypted and every slot re-wrapped.

use std::path::Path;

use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::{input, keyring, output};

pub fn run(ctx: &Ctx, new_file: Option<&Path>) -> CliResult<i32> {
    let mut v = ctx.open()?;
    let params = super::rewrap_params(&v);
    let new = input::new_passphrase(new_file)?;
    // Re-wrap the keyring slot with a fresh key if its store is reachable.
    let vault_id = v.vault_id_hex();
    let store = v.keyring_store();
    let new_kr = match store {
        Some(_) => Some(keyring::random_key().map_err(crate::error::CliError::other)?),
        None => None,
    };
    let dropped = v.rekey(&new, params, new_kr.as_ref())?;
    if let (Some(store), Some(k)) = (store, new_kr.as_ref()) {
        if let Err(why) = keyring::save(store, &vault_id, k) {
            output::warn(&format!("the keyring slot was re-wrapped but its new key could not be saved ({why}); run `vault keyring enable` again"));
        }
    }
    if dropped {
        output::warn("the keyring slot was dropped; run `vault keyring enable` again");
    }
    let _ = crate::session::clear(&vault_id);
    output::out("rekeyed: new identity, body re-encrypted, every slot re-wrapped");
    output::out("exported identities and old copies of the file no longer open new data: export a new identity where servers need one (`vault identity export`)");
    Ok(0)
}
