//! `vault passwd`: change the passphrase (re-wraps the passphrase slot only).

use std::path::Path;

use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::{input, output};

pub fn run(ctx: &Ctx, new_file: Option<&Path>) -> CliResult<i32> {
    let mut v = ctx.open()?;
    let params = ctx
        .read_file()?
        .kdf_params()
        .filter(|p| p.check_floor().is_ok())
        .unwrap_or(vault_core::kdf::DEFAULT);
    let new = input::new_passphrase(new_file)?;
    v.change_passphrase(&new, params)?;
    output::out("passphrase changed; the old one no longer opens this vault (old copies of the file still open with it: see `vault rekey`)");
    Ok(0)
}
