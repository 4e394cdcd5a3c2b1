//! `vault keyring enable|disable|status`: the OS-keyring unlock slot.

use serde_json::json;
use vault_core::Vault;

use crate::cli::{KeyringCmd, KeyringEnableArgs, KeyringStatusArgs, StoreArg};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult};
use crate::keyring;
use crate::output;
use vault_core::KeyringStore;

pub fn chosen_store(s: Option<StoreArg>) -> CliResult<KeyringStore> {
    let store = match s {
        Some(StoreArg::Keyutils) => KeyringStore::Keyutils,
        Some(StoreArg::SecretService) => KeyringStore::SecretService,
        Some(StoreArg::Keychain) => KeyringStore::MacosKeychain,
        Some(StoreArg::CredentialManager) => KeyringStore::WindowsCredentials,
        None => return default_store(),
    };
    if !keyring::compiled_in(store) {
        return Err(CliError::usage(format!(
            "the {} store does not exist on {}; choose one of: {}",
            store.name(),
            std::env::consts::OS,
            HERE
        )));
    }
    Ok(store)
}

/// The `--store` values this build offers.
const HERE: &str = if cfg!(target_os = "linux") {
    "secret-service, keyutils"
} else if cfg!(target_os = "macos") {
    "keychain"
} else if cfg!(windows) {
    "credential-manager"
} else {
    "none (no OS keyring store on this platform)"
};

#[cfg(target_os = "linux")]
fn default_store() -> CliResult<KeyringStore> {
    let user_bus = format!("/run/user/{}/bus", vault_core::files::euid());
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
        || std::path::Path::new(&user_bus).exists()
    {
        Ok(KeyringStore::SecretService)
    } else {
        Err(CliError::usage(
            "no D-Bus session here, so no Secret Service: choose `--store keyutils` (kernel keyring; does not survive a reboot)",
        ))
    }
}

#[cfg(target_os = "macos")]
fn default_store() -> CliResult<KeyringStore> {
    Ok(KeyringStore::MacosKeychain)
}

#[cfg(windows)]
fn default_store() -> CliResult<KeyringStore> {
    Ok(KeyringStore::WindowsCredentials)
}

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
fn default_store() -> CliResult<KeyringStore> {
    Err(CliError::usage(
        "this platform has no OS keyring store vault can use; unlock with an identity file instead",
    ))
}

pub fn enable_on(_ctx: &Ctx, mut v: Vault, store: Option<StoreArg>) -> CliResult<i32> {
    let store = chosen_store(store)?;
    let id = v.vault_id_hex();
    let key = vault_core::new_keyring_key()?;
    keyring::save(store, &id, &key).map_err(|why| CliError::other(format!("keyring: {why}")))?;
    if let Err(e) = v.set_keyring_slot(store, &key) {
        let _ = keyring::delete(store, &id);
        return Err(e.into());
    }
    output::out(&format!("keyring unlock enabled ({} store)", store.name()));
    if store == KeyringStore::Keyutils {
        output::warn("the keyutils store lives in the kernel's per-user keyring: it does not survive a reboot (unlock once with the passphrase and enable it again), and a systemd service of the same user sees it only if its keyring is linked to the user keyring (KeyringMode=shared)");
    }
    Ok(0)
}

pub fn run(ctx: &Ctx, c: KeyringCmd) -> CliResult<i32> {
    match c {
        KeyringCmd::Enable(KeyringEnableArgs { store }) => {
            let v = ctx.open()?;
            enable_on(ctx, v, store)
        }
        KeyringCmd::Disable => {
            let mut v = ctx.open()?;
            let store = v.keyring_store();
            let Some(store) = store else {
                output::out("the keyring slot is not enabled");
                return Ok(0);
            };
            v.remove_keyring_slot()?;
            match keyring::delete(store, &v.vault_id_hex()) {
                Ok(()) => output::out("keyring unlock disabled; its entry is deleted"),
                Err(why) => output::warn(&format!(
                    "keyring unlock disabled (the slot is gone from the vault), but its {} entry could not be deleted: {why}",
                    store.name()
                )),
            }
            Ok(0)
        }
        KeyringCmd::Status(KeyringStatusArgs { json }) => {
            let file = ctx.read_file()?;
            let id = hex::encode(file.header().vault_id);
            let store = file.keyring_store();
            let entry = store.map(|s| keyring::load(s, &id).map(|_| ()));
            if json {
                output::json(&json!({
                    "enabled": store.is_some(),
                    "store": store.map(KeyringStore::name),
                    "entry_present": entry.as_ref().map(|r| r.is_ok()),
                    "problem": entry.as_ref().and_then(|r| r.as_ref().err().cloned()),
                }));
            } else {
                match (store, entry) {
                    (None, _) => {
                        output::out("keyring unlock: not enabled (`vault keyring enable`)")
                    }
                    (Some(s), Some(Ok(()))) => output::out(&format!(
                        "keyring unlock: enabled ({}), entry present",
                        s.name()
                    )),
                    (Some(s), Some(Err(why))) => output::out(&format!(
                        "keyring unlock: enabled ({}), but {why}",
                        s.name()
                    )),
                    (Some(_), None) => {}
                }
            }
            Ok(0)
        }
    }
}
