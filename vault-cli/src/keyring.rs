//! The OS-keyring unlock slot's wrapping key: a random 32-byte key (never the identity) kept
//! in an OS store under a name tied to the vault id. The keyring entry alone and the vault
//! file alone are each useless.
//!
//! Stores: the kernel's keyutils *user* keyring (works on a VPS with no D-Bus; does not
//! survive a reboot, so it is a cache and never the only way in).

use linux_keyutils::{KeyError, KeyPermissionsBuilder, KeyRing, KeyRingIdentifier, Permission};
use zeroize::Zeroizing;

/// Store byte recorded in the slot.
pub const STORE_SECRET_SERVICE: u8 = 1;
/// Store byte recorded in the slot.
pub const STORE_KEYUTILS: u8 = 2;

pub fn store_name(store: u8) -> &'static str {
    match store {
        STORE_SECRET_SERVICE => "secret-service",
        STORE_KEYUTILS => "keyutils",
        3 => "macos-keychain",
        4 => "windows-credential-manager",
        _ => "unknown",
    }
}

fn description(vault_id: &str) -> String {
    format!("vault:{vault_id}:kek")
}

fn user_ring() -> Result<KeyRing, String> {
    KeyRing::from_special_id(KeyRingIdentifier::User, true)
        .map_err(|e| format!("no kernel user keyring ({e:?})"))
}

/// A new random wrapping key from the OS CSPRNG.
pub fn random_key() -> Result<Zeroizing<[u8; 32]>, String> {
    let mut k = Zeroizing::new([0u8; 32]);
    getrandom::getrandom(k.as_mut()).map_err(|e| format!("no randomness: {e}"))?;
    Ok(k)
}

/// Saves the wrapping key.
pub fn save(store: u8, vault_id: &str, key: &Zeroizing<[u8; 32]>) -> Result<(), String> {
    match store {
        STORE_KEYUTILS => {
            let ring = user_ring()?;
            let k = ring
                .add_key(&description(vault_id), &key[..])
                .map_err(|e| format!("cannot add to the user keyring ({e:?})"))?;
            // Same user, same trust: let the user's other sessions (and a systemd service of
            // this user) read it; nobody else.
            let perms = KeyPermissionsBuilder::builder()
                .posessor(Permission::ALL)
                .user(Permission::VIEW | Permission::READ | Permission::SEARCH)
                .build();
            k.set_perms(perms)
                .map_err(|e| format!("cannot set the keyring entry's permissions ({e:?})"))
        }
        other => Err(format!(
            "the {} store is not available in this build; use --store keyutils",
            store_name(other)
        )),
    }
}

/// Loads the wrapping key; `Err` says why (missing entry, no access).
pub fn load(store: u8, vault_id: &str) -> Result<Zeroizing<[u8; 32]>, String> {
    match store {
        STORE_KEYUTILS => {
            let ring = user_ring()?;
            let k = ring.search(&description(vault_id)).map_err(|e| match e {
                KeyError::KeyDoesNotExist => {
                    "the keyutils entry is missing (it does not survive a reboot); unlock another way and run `vault keyring enable --store keyutils`".to_string()
                }
                other => format!("cannot search the user keyring ({other:?})"),
            })?;
            let v = Zeroizing::new(
                k.read_to_vec()
                    .map_err(|e| format!("cannot read the keyutils entry ({e:?})"))?,
            );
            let mut out = Zeroizing::new([0u8; 32]);
            if v.len() != 32 {
                return Err("the keyutils entry has the wrong length".into());
            }
            out.copy_from_slice(&v);
            Ok(out)
        }
        other => Err(format!(
            "the vault's keyring slot uses the {} store, which this build cannot reach",
            store_name(other)
        )),
    }
}

/// Deletes the wrapping key (Ok even if missing).
pub fn delete(store: u8, vault_id: &str) -> Result<(), String> {
    if store == STORE_KEYUTILS {
        if let Ok(ring) = user_ring() {
            if let Ok(k) = ring.search(&description(vault_id)) {
                k.invalidate()
                    .map_err(|e| format!("cannot remove the keyutils entry ({e:?})"))?;
            }
        }
    }
    Ok(())
}
