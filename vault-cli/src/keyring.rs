//! The OS-keyring unlock slot's wrapping key: a random 32-byte key (never the identity) kept
//! in an OS store under a name tied to the vault id. The keyring entry alone and the vault
//! file alone are each useless.
//!
//! Stores, each compiled only for its own target: the Secret Service (gnome-keyring, KWallet)
//! through keyring-core's zbus store, on desktop Linux; the kernel's keyutils *user* keyring on
//! a Linux server without D-Bus (it does not survive a reboot, so it is a cache and never the
//! only way in); the login Keychain on macOS; Credential Manager on Windows. The store is
//! recorded in the slot, so a vault copied to another platform says which store it needs.

use std::sync::Arc;

use keyring_core::{CredentialStore, Entry};

#[cfg(target_os = "linux")]
use linux_keyutils::{KeyError, KeyPermissionsBuilder, KeyRing, KeyRingIdentifier, Permission};
use vault_core::KeyringStore;
use zeroize::Zeroizing;

/// Can this build reach the store at all?
pub fn compiled_in(store: KeyringStore) -> bool {
    match store {
        KeyringStore::SecretService | KeyringStore::Keyutils => cfg!(target_os = "linux"),
        KeyringStore::MacosKeychain => cfg!(target_os = "macos"),
        KeyringStore::WindowsCredentials => cfg!(windows),
        KeyringStore::Unknown(_) => false,
    }
}

#[cfg(target_os = "linux")]
fn description(vault_id: &str) -> String {
    format!("vault:{vault_id}:kek")
}

#[cfg(target_os = "linux")]
fn user_ring() -> Result<KeyRing, String> {
    KeyRing::from_special_id(KeyRingIdentifier::User, true)
        .map_err(|e| format!("no kernel user keyring ({e:?})"))
}

const SERVICE: &str = "vault";

/// Why a keyring-core store failed, in words a user can act on.
pub fn describe(e: &keyring_core::Error) -> String {
    use keyring_core::Error as E;
    match e {
        E::NoEntry => "the keyring entry is missing (deleted, or made on another machine); unlock another way and run `vault keyring enable` again".into(),
        E::NoStorageAccess(why) => format!("the keyring refused access (is the collection locked? unlock it in your desktop session): {why}"),
        E::PlatformFailure(why) if cfg!(target_os = "linux") => format!("the keyring service failed (is there a D-Bus session with a Secret Service?): {why}"),
        E::PlatformFailure(why) => format!("the OS keyring failed: {why}"),
        E::BadEncoding(_) | E::BadDataFormat(..) => "the keyring entry is not a vault key".into(),
        E::Ambiguous(_) => "several keyring entries match this vault; delete the extra ones".into(),
        other => format!("keyring error: {other}"),
    }
}

/// The keyring-core store behind a store byte, where it is one (all but keyutils).
fn native_store(store: KeyringStore) -> Result<Arc<CredentialStore>, String> {
    let not_here = || {
        Err(format!(
            "the vault's keyring slot uses the {} store, which this build for {} cannot reach; unlock another way",
            store.name(),
            std::env::consts::OS
        ))
    };
    match store {
        #[cfg(target_os = "linux")]
        KeyringStore::SecretService => secret_service(),
        #[cfg(target_os = "macos")]
        KeyringStore::MacosKeychain => {
            let s: Arc<CredentialStore> =
                apple_native_keyring_store::keychain::Store::new().map_err(|e| describe(&e))?;
            Ok(s)
        }
        #[cfg(windows)]
        KeyringStore::WindowsCredentials => {
            let s: Arc<CredentialStore> =
                windows_native_keyring_store::Store::new().map_err(|e| describe(&e))?;
            Ok(s)
        }
        _ => not_here(),
    }
}

#[cfg(target_os = "linux")]
fn secret_service() -> Result<Arc<CredentialStore>, String> {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none()
        && !std::path::Path::new(&format!("/run/user/{}/bus", vault_core::files::euid())).exists()
    {
        return Err("no D-Bus session bus here (a server?), so no Secret Service; use `vault keyring enable --store keyutils`".into());
    }
    let s: Arc<CredentialStore> =
        zbus_secret_service_keyring_store::Store::new().map_err(|e| describe(&e))?;
    Ok(s)
}

/// Saves a key through any keyring-core store.
pub fn kc_save(
    store: &Arc<CredentialStore>,
    vault_id: &str,
    key: &Zeroizing<[u8; 32]>,
) -> Result<(), String> {
    let e = Entry::new_in_store(store, SERVICE, vault_id).map_err(|e| describe(&e))?;
    e.set_secret(key.as_ref()).map_err(|e| describe(&e))
}

/// Loads a key through any keyring-core store.
pub fn kc_load(
    store: &Arc<CredentialStore>,
    vault_id: &str,
) -> Result<Zeroizing<[u8; 32]>, String> {
    let e = Entry::new_in_store(store, SERVICE, vault_id).map_err(|e| describe(&e))?;
    let v = Zeroizing::new(e.get_secret().map_err(|e| describe(&e))?);
    if v.len() != 32 {
        return Err("the keyring entry is not a vault key (wrong length)".into());
    }
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&v);
    Ok(out)
}

/// Deletes a key through any keyring-core store (a missing entry is fine).
pub fn kc_delete(store: &Arc<CredentialStore>, vault_id: &str) -> Result<(), String> {
    let e = Entry::new_in_store(store, SERVICE, vault_id).map_err(|e| describe(&e))?;
    match e.delete_credential() {
        Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
        Err(e) => Err(describe(&e)),
    }
}

/// Saves the wrapping key.
pub fn save(store: KeyringStore, vault_id: &str, key: &Zeroizing<[u8; 32]>) -> Result<(), String> {
    match store {
        #[cfg(target_os = "linux")]
        KeyringStore::Keyutils => {
            // Added through the session keyring, where we possess it and may set its
            // permissions, then moved into the user keyring: same user, same trust, so the
            // user's other sessions (and a systemd service of this user) may read it; nobody else.
            let user = user_ring()?;
            let session = KeyRing::from_special_id(KeyRingIdentifier::Session, true)
                .map_err(|e| format!("no kernel session keyring ({e:?})"))?;
            let k = session
                .add_key(&description(vault_id), &key[..])
                .map_err(|e| format!("cannot add to the kernel keyring ({e:?})"))?;
            let perms = KeyPermissionsBuilder::builder()
                .posessor(Permission::ALL)
                .user(Permission::VIEW | Permission::READ | Permission::SEARCH)
                .build();
            let moved = k
                .set_perms(perms)
                .and_then(|_| user.link_key(k))
                .and_then(|_| session.unlink_key(k));
            if let Err(e) = moved {
                let _ = k.invalidate();
                return Err(format!("cannot store the key in the user keyring ({e:?})"));
            }
            Ok(())
        }
        other => kc_save(&native_store(other)?, vault_id, key),
    }
}

/// Loads the wrapping key; `Err` says why (missing entry, no access).
pub fn load(store: KeyringStore, vault_id: &str) -> Result<Zeroizing<[u8; 32]>, String> {
    match store {
        #[cfg(target_os = "linux")]
        KeyringStore::Keyutils => {
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
        other => kc_load(&native_store(other)?, vault_id),
    }
}

/// Deletes the wrapping key (Ok even if missing).
pub fn delete(store: KeyringStore, vault_id: &str) -> Result<(), String> {
    if store == KeyringStore::Keyutils {
        #[cfg(target_os = "linux")]
        if let Ok(ring) = user_ring() {
            if let Ok(k) = ring.search(&description(vault_id)) {
                k.invalidate()
                    .map_err(|e| format!("cannot remove the keyutils entry ({e:?})"))?;
            }
        }
        return Ok(());
    }
    kc_delete(&native_store(store)?, vault_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyring_core::mock;

    fn mock_store() -> Arc<CredentialStore> {
        let s: Arc<CredentialStore> = mock::Store::new().expect("mock store");
        s
    }

    #[test]
    fn a_missing_entry_says_how_to_recover() {
        let store = mock_store();
        let why = kc_load(&store, "00ff").expect_err("no entry yet");
        assert!(
            why.contains("missing") && why.contains("keyring enable"),
            "{why}"
        );
    }

    #[test]
    fn a_round_trip_through_a_keyring_core_store() {
        let store = mock_store();
        let key = Zeroizing::new([42u8; 32]);
        kc_save(&store, "abcd", &key).expect("save");
        assert_eq!(*kc_load(&store, "abcd").expect("load"), [42u8; 32]);
        kc_delete(&store, "abcd").expect("delete");
        kc_delete(&store, "abcd").expect("deleting twice is fine");
    }

    #[test]
    fn a_locked_collection_and_a_failing_service_are_told_apart() {
        let store = mock_store();
        let key = Zeroizing::new([1u8; 32]);
        kc_save(&store, "beef", &key).expect("save");
        let entry = Entry::new_in_store(&store, SERVICE, "beef").expect("entry");
        let m: &mock::Cred = entry.as_any().downcast_ref().expect("mock cred");
        m.set_error(keyring_core::Error::NoStorageAccess(Box::new(
            std::io::Error::other("collection is locked"),
        )));
        let why = kc_load(&store, "beef").expect_err("locked");
        assert!(why.contains("locked"), "{why}");
        m.set_error(keyring_core::Error::PlatformFailure(Box::new(
            std::io::Error::other("no such bus"),
        )));
        let why = kc_load(&store, "beef").expect_err("failing service");
        assert!(why.contains("D-Bus"), "{why}");
        assert_eq!(*kc_load(&store, "beef").expect("error cleared"), [1u8; 32]);
    }
}
