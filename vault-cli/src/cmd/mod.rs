//! One module per subcommand. Each `run` takes the context (paths, unlock ladder) and the
//! parsed arguments and returns the exit code.

pub mod add;
pub mod audit;
pub mod completions;
pub mod doctor;
pub mod export;
pub mod fleet;
pub mod import;
pub mod init;
pub mod keyring;
pub mod list;
pub mod log;
pub mod passwd;
pub mod rekey;
pub mod remove;
pub mod rename;
pub mod revoke;
pub mod rotate;
pub mod run;
pub mod scan;
pub mod secret;
pub mod set;
pub mod show;
pub mod unlock;
pub mod verify;

use vault_core::{EnvProfile, Withdrawals};

use crate::cli::{ProfileArg, WithdrawalsArg};

pub fn withdrawals(w: WithdrawalsArg) -> Withdrawals {
    match w {
        WithdrawalsArg::Disabled => Withdrawals::Disabled,
        WithdrawalsArg::Unknown => Withdrawals::Unknown,
        WithdrawalsArg::Enabled => Withdrawals::Enabled,
    }
}

pub fn profile(p: ProfileArg) -> EnvProfile {
    match p {
        ProfileArg::Auto => EnvProfile::Auto,
        ProfileArg::Freqtrade => EnvProfile::Freqtrade,
        ProfileArg::Generic => EnvProfile::Generic,
    }
}

/// KDF parameters for a re-wrapped passphrase slot: `memory_mib` if given (with the vault's
/// passes and lanes); else the vault's own, unless below the floor or too large for this
/// machine now, in which case the largest default that fits (and a note saying so).
pub fn rewrap_params(
    v: &vault_core::Vault,
    memory_mib: Option<u32>,
    available_kib: Option<u64>,
) -> vault_core::KdfParams {
    let fitted = vault_core::KdfParams::default_for(available_kib);
    let own = v.kdf_params().filter(|p| p.check_floor().is_ok());
    match (memory_mib, own) {
        (Some(m), own) => vault_core::KdfParams {
            memory_kib: m.saturating_mul(1024),
            ..own.unwrap_or(fitted)
        },
        (None, Some(p)) if p.check_fits(available_kib).is_ok() => p,
        (None, Some(p)) => {
            crate::output::note(&format!(
                "this machine cannot give the slot's {} MiB now: the new slot uses {} MiB",
                p.memory_kib / 1024,
                fitted.memory_kib / 1024
            ));
            fitted
        }
        (None, None) => fitted,
    }
}
