//! `vault rename OLD NEW`.

use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output;

pub fn run(ctx: &Ctx, old: &str, new: &str) -> CliResult<i32> {
    let mut v = ctx.open()?;
    v.rename(old, new)?;
    output::out(&format!("renamed {old} to {new}"));
    Ok(0)
}
