//! The freqtrade-config parser never panics, and blanking what it found keeps the text parseable.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vault_core::jsonc;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(values) = jsonc::parse(text) {
        let spans: Vec<(usize, usize)> = values.iter().filter(|v| v.string.is_some()).map(|v| (v.start, v.end)).collect();
        let blanked = jsonc::blank(text, &spans);
        assert!(jsonc::parse(&blanked).is_ok(), "blanking string values must keep the document valid");
    }
});
