//! `vault identity export --to PATH` and `vault export --age --to PATH`.

use std::path::Path;

use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::output;

pub fn identity(ctx: &Ctx, to: &Path) -> CliResult<i32> {
    let mut v = ctx.open()?;
    let text = Zeroizing::new(format!(
        "# vault identity for vault {}\n# public key: {}\n# Anyone with this file can open the vault without the passphrase.\n{}\n",
        v.vault_id_hex(),
        v.recipient(),
        v.identity_secret().expose_secret()
    ));
    vault_core::files::write_new_private(to, text.as_bytes())?;
    v.remember_export(to, "identity-export")?;
    output::out(&format!(
        "wrote the vault's identity to {} (mode 0600)",
        to.display()
    ));
    output::warn("this file opens the vault without the passphrase: keep it on the bot's server only, ideally sealed with `systemd-creds encrypt` (docs/SYSTEMD.md); `vault rekey` makes it useless");
    Ok(0)
}

pub fn body(ctx: &Ctx, to: &Path) -> CliResult<i32> {
    let mut v = ctx.open()?;
    let bytes = v.export_age()?;
    vault_core::files::write_new_private(to, &bytes)?;
    v.remember_export(to, "export")?;
    output::out(&format!(
        "wrote the vault body to {} as a standard age file; read it with `age -d -i IDENTITY {}`",
        to.display(),
        to.display()
    ));
    output::warn(
        "the age file opens with the vault's identity alone; it holds every bot's secrets",
    );
    Ok(0)
}
