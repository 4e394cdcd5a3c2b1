//! `vault passwd`: change the passphrase (re-wraps the passphrase slot only).

use std::path::Path;

use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::{input, output};

pub fn run(ctx: &Ctx, new_file: Option<&Path>, kdf_memory: Option<u32>) -> CliResult<i32> {
    let mut v = ctx.open()?;
    let params = super::rewrap_params(&v, kdf_memory, ctx.opts().memory_available_kib);
    let new = input::new_passphrase(new_file)?;
    v.change_passphrase(&new, params)?;
    output::out("passphrase changed; the old one no longer opens this vault (old copies of the file still open with it: see `vault rekey`)");
    Ok(0)
}
