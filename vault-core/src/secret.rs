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
