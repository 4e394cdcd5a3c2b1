//! `vault completions SHELL`.

use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::CliResult;

pub fn run(shell: clap_complete::Shell) -> CliResult<i32> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "vault", &mut out);
    crate::output::out(String::from_utf8_lossy(&out).trim_end());
    Ok(0)
}
