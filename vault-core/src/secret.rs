//! [`SecretValue`]: the one type stored secrets live in; [`WipedBytes`]: the bodies' text.

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

    /// Zeroes the secret where it is (its length stays, every byte 0), without freeing it.
    pub(crate) fn wipe(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
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

/// Bytes wiped when dropped: the bytes and the spare capacity in one bulk write each
/// (`zeroize`'s wipe of a byte slice: a fill and an optimization barrier), then freed.
///
/// Why not `Zeroizing<Vec<u8>>`: `zeroize` wipes a `Vec` element by element with volatile
/// writes, which for a 2,000-bot body's 1.1 MB of plaintext took 0.25–0.5 ms per copy,
/// against about 15 µs here. And a `Vec` that grows leaves its old buffer in freed memory
/// unwiped; here the only way to add bytes is [`WipedBytes::extend_from_slice`], which wipes
/// the old buffer when it moves to a larger one. (Callers reserve what they need, so it
/// does not move in practice.)
#[derive(Default)]
pub(crate) struct WipedBytes(Vec<u8>);

impl WipedBytes {
    pub(crate) fn with_capacity(n: usize) -> WipedBytes {
        WipedBytes(Vec::with_capacity(n))
    }
    /// Appends `b`; past the capacity, moves to a buffer twice as large (or as large as
    /// needed) and wipes the old one.
    pub(crate) fn extend_from_slice(&mut self, b: &[u8]) {
        if self.0.capacity() - self.0.len() < b.len() {
            let mut larger =
                Vec::with_capacity((self.0.len() + b.len()).max(2 * self.0.capacity()));
            larger.extend_from_slice(&self.0);
            drop(WipedBytes(std::mem::replace(&mut self.0, larger)));
        }
        self.0.extend_from_slice(b);
    }
    /// The bytes as a `Zeroizing` vector, for callers outside the crate (fuzzing).
    #[cfg_attr(not(feature = "internals"), allow(dead_code))]
    pub(crate) fn into_zeroizing(mut self) -> zeroize::Zeroizing<Vec<u8>> {
        zeroize::Zeroizing::new(std::mem::take(&mut self.0))
    }
    /// Zeroes every byte the vector holds or has room for; the length stays.
    fn zero(&mut self) {
        use zeroize::Zeroize;
        self.0.spare_capacity_mut().zeroize();
        self.0.as_mut_slice().zeroize();
    }
}

impl std::ops::Deref for WipedBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl std::ops::DerefMut for WipedBytes {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }
}

impl Drop for WipedBytes {
    fn drop(&mut self) {
        self.zero();
    }
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

    #[test]
    fn wiped_bytes_are_zeroed_in_place() {
        let mut b = WipedBytes::with_capacity(100);
        b.extend_from_slice(&[0xAB; 60]);
        b.zero();
        assert_eq!(b.len(), 60);
        assert!(b.iter().all(|&x| x == 0));
    }

    #[test]
    fn wiped_bytes_grow_past_their_capacity_with_every_byte_kept() {
        let mut b = WipedBytes::with_capacity(4);
        b.extend_from_slice(b"abc");
        b.extend_from_slice(b"defgh");
        b.extend_from_slice(&[b'i'; 20]);
        assert_eq!(&b[..8], b"abcdefgh");
        assert_eq!(b.len(), 28);
        assert!(b[8..].iter().all(|&x| x == b'i'));
    }
}
