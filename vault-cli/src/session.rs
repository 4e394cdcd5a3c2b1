//! The session unlock cache: the unwrapped identity in the kernel *session* keyring, with
//! the kernel's own timeout (`keyctl timeout`), so expiry does not depend on us running.
//!
//! Only a session keyring of this login (or of `keyctl session -`) is used. Where the
//! session keyring is the user's default one, `_uid_ses.<uid>` (Debian and Ubuntu without
//! pam_keyinit, cron, containers), every process of the user can reach it through `@us` or
//! by joining it, and `vault run`'s child is such a process: a cache there would hand the
//! bot the identity of every bot. So it is refused, with the fix. In a real session keyring
//! the cached key grants nothing to non-possessors (user: view only), and the child of
//! `vault run` starts in a fresh session keyring it cannot leave for ours: an anonymous
//! session keyring (`_ses`) is not searchable by others, so joining it by name makes a new one.

//! Other platforms have no kernel keyring with a timeout: there every call says so plainly.

#[cfg(target_os = "linux")]
pub use linux::*;

#[cfg(not(target_os = "linux"))]
pub use elsewhere::*;

#[cfg(not(target_os = "linux"))]
mod elsewhere {
    use secrecy::SecretString;

    const NONE_HERE: &str = "the session unlock cache needs the Linux kernel session keyring, which this platform does not have; use `vault keyring enable` or an identity file instead";

    /// Stores the identity for `seconds`: not possible here.
    pub fn store(_vault_id: &str, _identity: &SecretString, _seconds: u64) -> Result<(), String> {
        Err(NONE_HERE.into())
    }

    /// The cached identity: there is no cache here.
    pub fn load(_vault_id: &str) -> Result<Option<SecretString>, String> {
        Err(NONE_HERE.into())
    }

    /// Whether a cache could be kept here: never.
    pub fn check_usable() -> Result<(), String> {
        Err(NONE_HERE.into())
    }

    /// Removes the cached identity: there is none.
    pub fn clear(_vault_id: &str) -> Result<bool, String> {
        Err(NONE_HERE.into())
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use linux_keyutils::{KeyError, KeyPermissionsBuilder, KeyRing, KeyRingIdentifier, Permission};
    use secrecy::{ExposeSecret, SecretString};
    use zeroize::Zeroizing;

    fn description(vault_id: &str) -> String {
        format!("vault:{vault_id}:session")
    }

    fn ring() -> Result<KeyRing, String> {
        KeyRing::from_special_id(KeyRingIdentifier::Session, false)
            .map_err(|e| format!("no kernel session keyring here ({e:?})"))
    }

    const FIX: &str = "start a login session, or run the commands inside `keyctl session -`";

    /// Refuses a session keyring that every process of this user can reach: the user's
    /// default session keyring (`_uid_ses.<uid>`), which is what `@s` is when no login
    /// session keyring was made.
    pub fn check_usable() -> Result<(), String> {
        let ring = ring()?;
        let desc = ring
            .metadata()
            .map_err(|e| format!("cannot describe the session keyring ({e:?})"))?;
        if desc.get_description().starts_with("_uid_ses.") {
            return Err(format!(
                "the session keyring here is the user's default one ({}), which every process of this user can reach, the bot under `vault run` included; a cache there would give it every bot's key. Run `keyctl session -` (or log in through PAM with pam_keyinit) and unlock inside that session, or use --identity or `vault keyring enable` instead",
                desc.get_description()
            ));
        }
        Ok(())
    }

    /// Stores the identity for `seconds`.
    pub fn store(vault_id: &str, identity: &SecretString, seconds: u64) -> Result<(), String> {
        check_usable()?;
        let ring = ring()?;
        let key = ring
            .add_key(&description(vault_id), identity.expose_secret().as_bytes())
            .map_err(|e| format!("cannot add to the session keyring ({e:?})"))?;
        let perms = KeyPermissionsBuilder::builder()
            .posessor(Permission::ALL)
            .user(Permission::VIEW)
            .build();
        let timed = key
            .set_perms(perms)
            .and_then(|_| key.set_timeout(usize::try_from(seconds).unwrap_or(usize::MAX)));
        let readable = key.read_to_vec().map(Zeroizing::new);
        match (timed, readable) {
            (Ok(()), Ok(_)) => Ok(()),
            (t, r) => {
                let _ = key.invalidate();
                Err(format!(
                "this session keyring does not allow a timed, readable key ({:?}/{:?}): it is probably the user's default keyring; {FIX}",
                t.err(),
                r.err().map(|e: KeyError| e)
            ))
            }
        }
    }

    /// The cached identity, if any. `Err` says why the cache could not be used. Nothing is
    /// read from the user's default session keyring.
    pub fn load(vault_id: &str) -> Result<Option<SecretString>, String> {
        check_usable().map_err(|_| {
            "not used: this is the user's default session keyring, which a bot could reach"
                .to_string()
        })?;
        let ring = ring()?;
        let key = match ring.search(&description(vault_id)) {
            Ok(k) => k,
            Err(KeyError::KeyDoesNotExist)
            | Err(KeyError::KeyExpired)
            | Err(KeyError::KeyRevoked) => return Ok(None),
            Err(e) => return Err(format!("cannot search the session keyring ({e:?}); {FIX}")),
        };
        match key.read_to_vec() {
            Ok(v) => {
                let v = Zeroizing::new(v);
                let s = std::str::from_utf8(&v)
                    .map_err(|_| "the cached identity is not text".to_string())?;
                Ok(Some(SecretString::from(s.to_string())))
            }
            Err(KeyError::KeyExpired) | Err(KeyError::KeyRevoked) => Ok(None),
            Err(e) => Err(format!("cannot read the session cache ({e:?}); {FIX}")),
        }
    }

    /// Removes the cached identity. Ok(false) if there was none.
    pub fn clear(vault_id: &str) -> Result<bool, String> {
        let ring = ring()?;
        match ring.search(&description(vault_id)) {
            Ok(k) => {
                k.invalidate()
                    .map_err(|e| format!("cannot remove the cached identity ({e:?})"))?;
                Ok(true)
            }
            Err(KeyError::KeyDoesNotExist)
            | Err(KeyError::KeyExpired)
            | Err(KeyError::KeyRevoked) => Ok(false),
            Err(e) => Err(format!("cannot search the session keyring ({e:?})")),
        }
    }
}
