//! [`SecretValue`]: the one type stored secrets live in.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A secret string (an API key, a secret, a passphrase, a PEM key, an extra secret).
///
/// Debug prints `[REDACTED]`; there is no Display; reading needs [`SecretValue::expose`].
/// It serializes (only into the encrypted body), which plain `secrecy` types refuse to do.
#[derive(Clone)]
pub struct SecretValue(SecretString);

impl SecretValue {
    /// Wraps a string; the caller's copy should be zeroized or moved in.
    pub fn new(s: String) -> Self {
        SecretValue(SecretString::from(s))
    }

    /// The secret itself. Every call is a place a reviewer reads twice.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Length in bytes (not secret enough to hide: policy warns on short secrets).
    pub fn len(&self) -> usize {
        self.expose().len()
    }

    /// True for the empty string.
    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }
}

impl From<&str> for SecretValue {
    fn from(s: &str) -> Self {
        SecretValue::new(s.to_owned())
    }
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl Serialize for SecretValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.expose())
    }
}

impl<'de> Deserialize<'de> for SecretValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(SecretValue::new)
    }
}

/// Fills `buf` from the operating system's CSPRNG (getrandom(2), through the `rand_core`
/// that the AEAD crate already brings: no second randomness crate).
pub(crate) fn fill_random(buf: &mut [u8]) -> crate::Result<()> {
    use chacha20poly1305::aead::rand_core::RngCore;
    chacha20poly1305::aead::OsRng
        .try_fill_bytes(buf)
        .map_err(|_| crate::Error::Crypto("the operating system gave no randomness"))
}

/// A new random 32-byte key for the keyring slot ([`crate::Vault::set_keyring_slot`]).
pub fn new_keyring_key() -> crate::Result<zeroize::Zeroizing<[u8; 32]>> {
    let mut k = zeroize::Zeroizing::new([0u8; 32]);
    fill_random(k.as_mut())?;
    Ok(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_secret() {
        let s = SecretValue::from("CANARY-debug-1234");
        let shown = format!("{s:?} {:?}", vec![s.clone()]);
        assert!(!shown.contains("CANARY"));
        assert!(shown.contains("[REDACTED]"));
    }
}
