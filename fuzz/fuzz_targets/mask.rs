//! Masking never lets a whole secret through, however the output is split into writes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vault_core::mask::Masker;

fuzz_target!(|input: (Vec<u8>, Vec<u8>, u8)| {
    let (data, split_points, _) = input;
    let secrets = ["SECRETabc123", "SECRETabc123XYZ", "k3y"];
    let mut m = Masker::new(&secrets, "b");
    let mut out = Vec::new();
    let mut at = 0;
    for s in split_points {
        let end = (at + usize::from(s)).min(data.len());
        m.feed(&data[at..end], &mut out);
        at = end;
    }
    m.feed(&data[at..], &mut out);
    m.finish(&mut out);
    for s in secrets {
        assert!(!out.windows(s.len()).any(|w| w == s.as_bytes()), "a secret leaked");
    }
});
