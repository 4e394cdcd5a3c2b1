//! Slot operations: the passphrase slot, the keyring slot, and rekey (a new identity, every
//! slot re-wrapped). Like every write they go through [`Vault::commit`](super::Vault).

use age::secrecy::SecretString;
use zeroize::Zeroizing;

use super::crypto::{keyring_slot, passphrase_slot, Keys};
use super::txn::Change;
use super::Vault;
use crate::error::{Error, Result};
use crate::format::{KeyringStore, Slot};
use crate::kdf::KdfParams;

impl Vault {
    /// Changes the passphrase: re-wraps the passphrase slot only.
    pub fn change_passphrase(&mut self, new: &SecretString, params: KdfParams) -> Result<()> {
        params.check_floor()?;
        let vault_id = self.header.vault_id;
        let slot = passphrase_slot(
            &vault_id,
            new,
            params,
            &self.keys.identity_str,
            self.opts.memory_available_kib,
        )?;
        self.commit(Change::vault("passwd"), move |d| {
            let h = &mut d.header;
            h.slots.retain(|s| !matches!(s, Slot::Passphrase(_)));
            h.slots.insert(0, slot);
            Ok(())
        })
    }

    /// Adds (or replaces) the keyring slot with a wrapping key held in the OS keyring.
    pub fn set_keyring_slot(
        &mut self,
        store: KeyringStore,
        key: &Zeroizing<[u8; 32]>,
    ) -> Result<()> {
        let slot = keyring_slot(&self.header.vault_id, store, key, &self.keys.identity_str)?;
        self.commit(Change::vault("keyring-enable"), move |d| {
            let h = &mut d.header;
            h.slots.retain(|s| !matches!(s, Slot::Keyring(_)));
            h.slots.push(slot);
            Ok(())
        })
    }

    /// Removes the keyring slot (refuses if it is the only one).
    pub fn remove_keyring_slot(&mut self) -> Result<()> {
        self.commit(Change::vault("keyring-disable"), |d| {
            let h = &mut d.header;
            if !h.slots.iter().any(|s| matches!(s, Slot::Passphrase(_))) {
                return Err(Error::Policy(
                    "the keyring slot is the only way into this vault; set a passphrase first"
                        .into(),
                ));
            }
            h.slots.retain(|s| !matches!(s, Slot::Keyring(_)));
            Ok(())
        })
    }

    /// New identity: the body is re-encrypted and every slot re-wrapped. The passphrase slot
    /// is re-wrapped under `new_passphrase`; the keyring slot only if its key is given
    /// (otherwise it is dropped and the caller says so). Returns whether a keyring slot was dropped.
    pub fn rekey(
        &mut self,
        new_passphrase: &SecretString,
        params: KdfParams,
        keyring_key: Option<&Zeroizing<[u8; 32]>>,
    ) -> Result<bool> {
        params.check_floor()?;
        let new_keys = Keys::generate();
        let vault_id = self.header.vault_id;
        let mut slots = vec![passphrase_slot(
            &vault_id,
            new_passphrase,
            params,
            &new_keys.identity_str,
            self.opts.memory_available_kib,
        )?];
        let had_keyring = self.header.keyring_slot().map(|k| k.store);
        let mut dropped = false;
        if let Some(store) = had_keyring {
            match keyring_key {
                Some(k) => slots.push(keyring_slot(&vault_id, store, k, &new_keys.identity_str)?),
                None => dropped = true,
            }
        }
        self.commit(Change::vault("rekey"), move |d| {
            d.header.slots = slots;
            d.keys = Some(new_keys);
            Ok(dropped)
        })
    }
}
