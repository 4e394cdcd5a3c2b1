//! `vault`: keeps each trading bot's exchange API key encrypted on this machine and hands it
//! to the bot, and only to the bot, when it starts.
//!
//! `main` dispatches; `cli` holds the clap definitions; `cmd/` has one module per
//! subcommand; `sys` holds every unsafe OS call. No file-format bytes are touched here.
#![deny(unsafe_code)]
#![allow(missing_docs)]

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
            let code = if e.use_stderr() {
                error::code::USAGE
            } else {
                0
            };
            let _ = e.print();
            std::process::exit(code);
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

fn run(cli: Cli) -> CliResult<i32> {
    let ctx = ctx::Ctx::new(cli.global.with_env())?;
    match cli.command {
        Command::Init(a) => cmd::init::run(&ctx, a),
        Command::Add(a) => cmd::add::run(&ctx, a),
        Command::Set(a) => cmd::set::run(&ctx, a),
        Command::Rename { old, new } => cmd::rename::run(&ctx, &old, &new),
        Command::Secret(c) => cmd::secret::run(&ctx, c),
        Command::List { json } => cmd::list::run(&ctx, json),
        Command::Show { bot, json, reveal } => cmd::show::run(&ctx, &bot, json, reveal),
        Command::Rotate {
            bot,
            from_stdin,
            reason,
        } => cmd::rotate::run(&ctx, &bot, from_stdin, reason),
        Command::Revoke { bot, reason } => cmd::revoke::run(&ctx, &bot, reason),
        Command::Remove { bot, yes } => cmd::remove::run(&ctx, &bot, yes),
        Command::Passwd {
            new_passphrase_file,
            kdf_memory,
        } => cmd::passwd::run(
            &ctx,
            new_passphrase_file
                .or_else(|| cli::env_path("VAULT_NEW_PASSPHRASE_FILE"))
                .as_deref(),
            kdf_memory,
        ),
        Command::Rekey {
            new_passphrase_file,
        } => cmd::rekey::run(
            &ctx,
            new_passphrase_file
                .or_else(|| cli::env_path("VAULT_NEW_PASSPHRASE_FILE"))
                .as_deref(),
        ),
        Command::Run(mut a) => {
            if a.bot.is_none() {
                a.bot = std::env::var("VAULT_BOT").ok().filter(|b| !b.is_empty());
            }
            cmd::run::run(&ctx, a)
        }
        Command::Audit { json, strict } => cmd::audit::run(&ctx, json, strict),
        Command::Scan {
            paths,
            git,
            staged,
            json,
        } => cmd::scan::run(&ctx, paths, git, staged, json),
        Command::Import(c) => cmd::import::run(&ctx, c),
        Command::Verify {
            bot,
            all,
            strict,
            allow_custom_endpoint,
            json,
        } => cmd::verify::run(&ctx, bot, all, strict, allow_custom_endpoint, json),
        Command::Keyring(c) => cmd::keyring::run(&ctx, c),
        Command::Unlock { duration } => cmd::unlock::run(&ctx, &duration),
        Command::Lock => cmd::unlock::lock(&ctx),
        Command::Log { bot, json } => cmd::log::run(&ctx, bot.as_deref(), json),
        Command::Identity(cli::IdentityCmd::Export { to }) => cmd::export::identity(&ctx, &to),
        Command::Export { age: _, to } => cmd::export::body(&ctx, &to),
        Command::Doctor { json } => cmd::doctor::run(&ctx, json),
        Command::Completions { shell } => cmd::completions::run(shell),
    }
}
