//! The signing proxy's decision never panics on any request a local process can send: any
//! method, path, query, headers and body, for every exchange it supports, signed or not.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vault_core::proxy::{decide, supported, Incoming, Rules};
use vault_core::verify::Creds;

fuzz_target!(|data: &[u8]| {
    // Fields separated by 0xff: method, path, query, then header name/value pairs, body last.
    let parts: Vec<String> = data
        .split(|b| *b == 0xff)
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    let get = |i: usize| parts.get(i).cloned().unwrap_or_default();
    let mut headers = Vec::new();
    let mut i = 3;
    while i + 1 < parts.len().saturating_sub(1) {
        headers.push((get(i), get(i + 1)));
        i += 2;
    }
    let body = parts.last().cloned().unwrap_or_default();
    let (method, path, query) = (get(0), get(1), get(2));
    let req = Incoming {
        method: &method,
        path: &path,
        query: &query,
        headers: &headers,
        body: body.as_bytes(),
    };
    let stand = Creds { key: "STANDINKEY", secret: "STANDINSECRET", passphrase: Some("P") };
    let real = Creds { key: "REALKEY000", secret: "REALSECRET000", passphrase: Some("Q") };
    let rules = Rules {
        allow: vec![("GET".into(), "/x".into())],
        symbols: vec!["BTCUSDT".into()],
        max_notional: Some(100.0),
    };
    for ex in supported() {
        let _ = decide(ex, &req, &stand, &real, &rules);
        let _ = decide(ex, &req, &stand, &real, &Rules::default());
    }
});
