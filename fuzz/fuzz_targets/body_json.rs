//! The body's JSON read by hand against serde_json: a body in the writer's form, edited by
//! the fuzzer (bytes replaced, inserted, cut), must be read the same both ways, or refused
//! both ways.
#![no_main]
use libfuzzer_sys::fuzz_target;

const BODY: &str = r#"{"format":1,"fingerprint_key":"fk","log_key":"lk","bots":{"a":{"name":"a","exchange":"binance","credentials":{"key":"K1","secret":"S1"},"fingerprint":"f1","key_hint":"K1…K1","scope":{"withdrawals":"disabled","ip_allowlist":["203.0.113.7"]},"env_profile":"auto","rotate_after_days":90,"created_at":"2026-01-02T03:04:05Z","key_added_at":"2026-01-02T03:04:05Z","status":{"state":"active"},"history":[]},"b":{"name":"b","exchange":"okx","credentials":{"key":"K2","secret":"S2","passphrase":"P2"},"extra_secrets":{"X":"y"},"fingerprint":"f2","key_hint":"K2…K2","scope":{"withdrawals":"unknown","ip_allowlist":[],"sub_account":"s"},"env_profile":"freqtrade","rotate_after_days":0,"created_at":"2026-01-02T03:04:05Z","key_added_at":"2026-01-02T03:04:05Z","rotated_at":null,"verify":{"at":"2026-01-02T03:04:05Z","fingerprint":"f2","can_withdraw":false,"can_trade":null,"ip_restricted":true,"ip_allowlist":[],"expires_at":null,"permissions":["r"],"trusted":true},"status":{"state":"revoked","at":"2026-01-02T03:04:05Z","reason":"x"},"history":[{"fingerprint":"f0","key_hint":"J…J","added_at":"2026-01-02T03:04:05Z","retired_at":"2026-01-02T03:04:05Z","event":"rotate"}],"note":"n"}},"retired_fingerprints":["r"],"exported_files":[]}"#;

fuzz_target!(|data: &[u8]| {
    // (offset, byte, mode) triples: mode 0 replaces, 1 inserts, 2 cuts there.
    let mut b = BODY.as_bytes().to_vec();
    for t in data.chunks_exact(3) {
        let at = usize::from(t[0]) * 4 % (b.len() + 1);
        match t[2] % 3 {
            0 if at < b.len() => b[at] = t[1],
            1 => b.insert(at, t[1]),
            2 => b.truncate(at),
            _ => {}
        }
    }
    let Ok(text) = String::from_utf8(b) else { return };
    let (by_hand, by_serde) = vault_core::read_body_both_ways(&text);
    assert_eq!(by_hand, by_serde, "{text}");
});
