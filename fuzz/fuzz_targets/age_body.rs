//! The one-pass age body reader against age's own reader: a valid three-chunk body, damaged
//! by the fuzzer (bytes flipped, cut short, bytes appended), must give both the same verdict
//! and, when accepted, the same bytes.
#![no_main]
use std::io::{Read, Write};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vault_core::secrecy::SecretString;

const ID: &str = "AGE-SECRET-KEY-1GQ9778VQXMMJVE8SK7J6VT8UJ4HDQAJUVSFCWCM02D8GEWQ72PVQ2Y5J33";

fn identity() -> age::x25519::Identity {
    ID.parse().expect("identity")
}

/// 2 x 64 KiB + 100 bytes sealed by age to the identity, once per process.
fn body() -> &'static [u8] {
    static BODY: OnceLock<Vec<u8>> = OnceLock::new();
    BODY.get_or_init(|| {
        let r = identity().to_public();
        let enc = age::Encryptor::with_recipients(std::iter::once(&r as &dyn age::Recipient))
            .expect("encryptor");
        let mut out = Vec::new();
        let mut w = enc.wrap_output(&mut out).expect("wrap");
        let pt: Vec<u8> = (0..2 * 65536 + 100).map(|i| (i % 251) as u8).collect();
        w.write_all(&pt).expect("write");
        w.finish().expect("finish");
        out
    })
}

fn age_reads(body: &[u8]) -> Option<Vec<u8>> {
    let id = identity();
    let dec = age::Decryptor::new_buffered(body).ok()?;
    let mut r = dec.decrypt(std::iter::once(&id as &dyn age::Identity)).ok()?;
    let mut pt = Vec::new();
    r.read_to_end(&mut pt).ok()?;
    Some(pt)
}

fuzz_target!(|data: &[u8]| {
    let mut b = body().to_vec();
    // First two bytes: where to cut (0 keeps everything); then (offset, xor) triples over the
    // header and the chunk edges; bytes past the last triple are appended.
    let (cut, rest) = data.split_at(data.len().min(2));
    let mut triples = rest.chunks_exact(3);
    for t in triples.by_ref() {
        let at = usize::from(u16::from_le_bytes([t[0], t[1]]));
        // Half the edits land in the header and nonce, half near a chunk's end.
        let at = if at % 2 == 0 {
            at / 2 % 400
        } else {
            (at / 2 % 3) * 65552 + 200 + 65520 + (at / 6 % 40)
        };
        if let Some(byte) = b.get_mut(at) {
            *byte ^= t[2];
        }
    }
    b.extend_from_slice(triples.remainder());
    if cut.len() == 2 {
        let n = usize::from(u16::from_le_bytes([cut[0], cut[1]]));
        if n != 0 {
            b.truncate(b.len().saturating_sub(n));
        }
    }
    let id = SecretString::from(ID.to_string());
    let theirs = age_reads(&b);
    match vault_core::decrypt_age_body(&id, &b) {
        Ok(pt) => assert_eq!(Some(&pt[..]), theirs.as_deref(), "accepted different bytes"),
        Err(_) => assert!(theirs.is_none(), "refused what age accepts"),
    }
});
