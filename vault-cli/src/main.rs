//! `vault`: keeps each trading bot's exchange API key encrypted on this machine and hands it
//! to the bot, and only to the bot, when it starts.
//!
//! `main` dispatches; `cli` holds the clap definitions; `cmd/` has one module per
//! subcommand; `sys` holds every unsafe OS call. No file-format bytes are touched here.
#![deny(unsafe_code)]
#![allow(missing_docs)]

mod bao;
mod cli;
mod cmd;
mod ctx;
mod error;
mod input;
mod keyring;
mod output;
mod session;
mod sys;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::error::CliResult;

fn main() {
    // Before anything could read a secret: no core dumps, no ptrace by same-user processes.
    sys::harden_process();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // --help and --version are not errors; a broken pipe while printing them is fine.
            if !e.use_stderr() {
                let _ = e.print();
                std::process::exit(0);
            }
            // One line, like every other error: clap's own spreads over several.
            output::error_line(&one_line(&e.render().to_string()));
            output::flush();
            std::process::exit(error::code::USAGE);
        }
    };
    let code = match run(cli) {
        Ok(code) => code,
        Err(e) => {
            if !e.message.is_empty() {
                output::error_line(&e.message);
            }
            e.code
        }
    };
    output::flush();
    std::process::exit(code);
}

/// A clap error as one line: its lines joined, without the "error:" prefix and the "For more
/// information" trailer, ending with where the help is.
fn one_line(text: &str) -> String {
    let parts: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("For more information"))
        .collect();
    let joined = parts.join(" ");
    let msg = joined.strip_prefix("error: ").unwrap_or(&joined);
    format!("{msg} (see --help)")
}

fn run(cli: Cli) -> CliResult<i32> {
    let ctx = ctx::Ctx::new(cli.global.with_env())?;
    match cli.command {
        Command::Init(a) => cmd::init::run(&ctx, a),
        Command::Add(a) => cmd::add::run(&ctx, a),
        Command::Set(a) => cmd::set::run(&ctx, a),
        Command::Rename(a) => cmd::rename::run(&ctx, &a.old, &a.new),
        Command::Secret(c) => cmd::secret::run(&ctx, c),
        Command::List(a) => cmd::list::run(&ctx, a.json),
        Command::Show(a) => cmd::show::run(&ctx, &a.bot, a.json, a.reveal),
        Command::Rotate(a) => cmd::rotate::run(&ctx, &a.bot, a.from_stdin, a.reason),
        Command::Revoke(a) => cmd::revoke::run(&ctx, &a.bot, a.reason),
        Command::Remove(a) => cmd::remove::run(&ctx, &a.bot, a.yes),
        Command::Passwd(a) => cmd::passwd::run(
            &ctx,
            a.new_passphrase_file
                .or_else(|| cli::env_path("VAULT_NEW_PASSPHRASE_FILE"))
                .as_deref(),
            a.kdf_memory,
        ),
        Command::Rekey(a) => cmd::rekey::run(
            &ctx,
            a.new_passphrase_file
                .or_else(|| cli::env_path("VAULT_NEW_PASSPHRASE_FILE"))
                .as_deref(),
        ),
        Command::Run(mut a) => {
            if a.bot.is_none() {
                a.bot = std::env::var("VAULT_BOT").ok().filter(|b| !b.is_empty());
            }
            cmd::run::run(&ctx, a)
        }
        Command::Audit(a) => cmd::audit::run(&ctx, a.json, a.strict),
        Command::Scan(a) => cmd::scan::run(&ctx, a.paths, a.git, a.staged, a.json),
        Command::Import(c) => cmd::import::run(&ctx, c),
        Command::Verify(a) => cmd::verify::run(
            &ctx,
            a.bot,
            a.all,
            a.strict,
            a.allow_custom_endpoint,
            a.json,
        ),
        Command::Keyring(c) => cmd::keyring::run(&ctx, c),
        Command::Unlock(a) => cmd::unlock::run(&ctx, a.duration),
        Command::Lock => cmd::unlock::lock(&ctx),
        Command::Log(a) => cmd::log::run(&ctx, a.bot.as_deref(), a.json),
        Command::Identity(cli::IdentityCmd::Export(a)) => cmd::export::identity(&ctx, &a.to),
        Command::Export(a) => cmd::export::body(&ctx, &a.to),
        Command::Doctor(a) => cmd::doctor::run(&ctx, a.json),
        Command::Completions(a) => cmd::completions::run(a.shell),
        Command::Fleet(c) => cmd::fleet::run(&ctx, c),
    }
}
