//! The header parser never panics, and what it accepts re-encodes to the same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vault_core::format;

fuzz_target!(|data: &[u8]| {
    if let Ok(h) = format::parse_fields(data) {
        let encoded = format::encode_header(&h);
        // encode_header adds magic, version and length in front of the fields.
        assert_eq!(&encoded[13..], data, "accepted header fields must round-trip exactly");
    }
    let _ = format::parse(data);
});
