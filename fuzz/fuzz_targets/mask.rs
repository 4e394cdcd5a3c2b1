//! Masking never lets a whole secret through, however the output is split into writes, and
//! the split does not change the result: fed in pieces (copying or piece by piece, as
//! `vault run` writes) the output equals the output for the whole input at once.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use vault_core::mask::Masker;

const SECRETS: [&str; 5] = ["SECRETabc123", "SECRETabc123XYZ", "k3y", "abc1", "\"q\\"];

/// Built once (the automaton is the slow part); each use clones a fresh, empty masker.
fn masker() -> Masker {
    static BASE: OnceLock<Masker> = OnceLock::new();
    BASE.get_or_init(|| Masker::new(&SECRETS, "b")).clone()
}

fuzz_target!(|input: (Vec<u8>, Vec<u8>, u8)| {
    let (data, split_points, _) = input;
    let mut chunks = Vec::new();
    let mut at = 0;
    for s in split_points {
        let end = (at + usize::from(s)).min(data.len());
        chunks.push(&data[at..end]);
        at = end;
    }
    chunks.push(&data[at..]);

    let mut m = masker();
    let mut out = Vec::new();
    for c in &chunks {
        m.feed(c, &mut out);
    }
    m.finish(&mut out);

    let mut m = masker();
    let mut pieces = Vec::new();
    for c in &chunks {
        m.feed_with(c, &mut |p| pieces.extend_from_slice(p));
    }
    m.finish_with(&mut |p| pieces.extend_from_slice(p));

    let mut m = masker();
    let mut whole = Vec::new();
    m.feed(&data, &mut whole);
    m.finish(&mut whole);

    assert_eq!(out, whole, "the split changed the output");
    assert_eq!(pieces, whole, "piece by piece differs from copying");
    for s in SECRETS {
        assert!(
            !whole.windows(s.len()).any(|w| w == s.as_bytes()),
            "a secret leaked"
        );
    }
});
