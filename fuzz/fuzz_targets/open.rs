//! Opening arbitrary bytes as a vault never panics and never succeeds with a foreign identity
//! (the identity unlock path: no KDF, so the fuzzer runs fast).
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vault_core::secrecy::SecretString;
use vault_core::{OpenOptions, Unlock, VaultFile};

fn state() -> &'static std::path::Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("tempdir")).path()
}

fuzz_target!(|data: &[u8]| {
    let id = SecretString::from("AGE-SECRET-KEY-1GQ9778VQXMMJVE8SK7J6VT8UJ4HDQAJUVSFCWCM02D8GEWQ72PVQ2Y5J33".to_string());
    let opts = OpenOptions::new(state());
    // Half the inputs get a format-2 checksum that holds (the first byte picks), so the
    // header, slot and trailer code behind the checksum (the age header parsed for the
    // tags' digest) sees arbitrary bytes too, not only the checksum's refusal.
    let mut bytes = data.get(1..).unwrap_or_default().to_vec();
    if data.first().is_some_and(|b| b & 1 == 1) && bytes.len() > 12 {
        bytes[8] = 2;
        let n = bytes.len() - 4;
        let sum = crc32fast::hash(&bytes[..n]);
        bytes[n..].copy_from_slice(&sum.to_be_bytes());
    }
    if let Ok(f) = VaultFile::from_bytes(std::path::Path::new("fuzz.age"), bytes, opts) {
        assert!(f.unlock(Unlock::Identity(&id)).is_err(), "a file not written with this identity must not open");
    }
});
