//! Every signer of `vault verify` against ccxt's own `sign()` (the ccxt freqtrade 2026.9
//! installs), for all nine exchanges. Our vectors in vault-core pin the code to values it
//! produced itself, or to published examples that do not go through our `sign()`. This test
//! puts the same key, secret, passphrase and clock into both and compares what they would send.

use std::path::Path;

use serde_json::{json, Value};
use vault_core::verify::{sign, Creds};
use vault_core::Exchange;
use vault_tests::{ccxt_python, e2e_required, python_json, skipped};

const KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
const PASSPHRASE: &str = "ccxt-cross-check-passphrase";
const NOW_MS: u64 = 1_700_000_000_123;
const COINBASE_KEY: &str = "organizations/org-id/apiKeys/key-id";
/// A throwaway P-256 key made for this test (openssl ecparam -genkey -name prime256v1).
const COINBASE_PEM: &str = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIALjv5PVdTWPRsh8+MZApyQT3rzuMrl+TXREnz3Is1gKoAoGCCqGSM49\nAwEHoUQDQgAEsOMWzC5es6aUPLzx5DJY1kshjzZWvCl/JgXRD+YHLQdB0lM9JDot\nGiC13bZAPuBk8qvgynmD/jM0udmu7pSeFA==\n-----END EC PRIVATE KEY-----\n";

fn ccxt_sign(python: &Path, input: &Value) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("ccxt/sign.py");
    python_json(python, &[script.as_os_str()], &input.to_string())
}

/// The path and query of a ccxt URL (scheme and host dropped; Bybit's empty `?` too).
fn path_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = &rest[rest.find('/').unwrap_or(rest.len())..];
    path.trim_end_matches('?').to_string()
}

#[test]
fn every_verify_signer_matches_ccxts_own_sign_for_the_same_key_and_clock() {
    let test = "every_verify_signer_matches_ccxts_own_sign_for_the_same_key_and_clock";
    let Some(python) = ccxt_python() else {
        if e2e_required() {
            panic!("{test}: a python3 with ccxt and cryptography is required with VAULT_E2E=1 (the freqtrade virtualenv)");
        }
        skipped(test, "no python3 with ccxt (pip install freqtrade==2026.9)");
        return;
    };
    use base64::Engine as _;
    let kraken_secret = base64::engine::general_purpose::STANDARD.encode([0x6b_u8; 64]);
    let creds = |ex: Exchange| Creds {
        key: if ex == Exchange::Coinbase {
            COINBASE_KEY
        } else {
            KEY
        },
        secret: match ex {
            Exchange::Kraken => &kraken_secret,
            Exchange::Coinbase => COINBASE_PEM,
            _ => SECRET,
        },
        passphrase: Some(PASSPHRASE),
    };
    let ours_cb = sign(Exchange::Coinbase, &creds(Exchange::Coinbase), NOW_MS).expect("sign");
    let ours_jwt = ours_cb
        .headers
        .iter()
        .find(|(k, _)| k == "Authorization")
        .and_then(|(_, v)| v.strip_prefix("Bearer "))
        .expect("bearer")
        .to_string();
    let theirs = ccxt_sign(
        &python,
        &json!({
            "key": KEY, "secret": SECRET, "passphrase": PASSPHRASE,
            "kraken_secret": kraken_secret, "coinbase_key": COINBASE_KEY,
            "coinbase_pem": COINBASE_PEM, "now_ms": NOW_MS, "ours_coinbase_jwt": ours_jwt,
        }),
    );
    // The header that carries each exchange's signature (Binance's is in the query string).
    let signature_headers: &[(Exchange, &[&str])] = &[
        (Exchange::Binance, &[]),
        (
            Exchange::Bybit,
            &["X-BAPI-SIGN", "X-BAPI-TIMESTAMP", "X-BAPI-RECV-WINDOW"],
        ),
        (Exchange::Okx, &["OK-ACCESS-SIGN", "OK-ACCESS-TIMESTAMP"]),
        (
            Exchange::Kucoin,
            &["KC-API-SIGN", "KC-API-PASSPHRASE", "KC-API-TIMESTAMP"],
        ),
        (Exchange::Kraken, &["API-Sign"]),
        (Exchange::Bitget, &["ACCESS-SIGN", "ACCESS-TIMESTAMP"]),
        (Exchange::Gate, &["SIGN", "Timestamp"]),
        (Exchange::Bitfinex, &["bfx-signature", "bfx-nonce"]),
    ];
    for (ex, must) in signature_headers {
        let ours = sign(*ex, &creds(*ex), NOW_MS).expect("sign");
        let t = &theirs[ex.id()];
        assert_eq!(ours.method, t["method"], "{ex}: method");
        assert_eq!(
            ours.path_and_query,
            path_of(t["url"].as_str().expect("url")),
            "{ex}: path and query (Binance's signature is in it)"
        );
        assert_eq!(ours.body, t["body"], "{ex}: body");
        for name in *must {
            let mine = ours.headers.iter().find(|(k, _)| k == name);
            assert!(mine.is_some(), "{ex}: we send no {name}");
            assert!(
                t["headers"].get(*name).is_some(),
                "{ex}: ccxt sends no {name}"
            );
        }
        for (name, value) in &ours.headers {
            // KuCoin: ccxt still says key version 2; v2 and v3 keys are signed the same way,
            // and the passphrase is signed in both, which KC-API-PASSPHRASE checks.
            if *ex == Exchange::Kucoin && name == "KC-API-KEY-VERSION" {
                continue;
            }
            if let Some(theirs) = t["headers"].get(name) {
                assert_eq!(theirs, value, "{ex}: header {name}");
            }
        }
    }
    // Coinbase: ES256 is randomized, so the two JWTs are compared by what they say, and each
    // must verify under the key's public half.
    let cb = &theirs["coinbase"];
    assert_eq!(
        cb["ours"]["verifies"], true,
        "our JWT fails to verify: {cb}"
    );
    assert_eq!(
        cb["ccxt"]["verifies"], true,
        "ccxt's JWT fails to verify: {cb}"
    );
    assert_eq!(
        path_of(cb["url"].as_str().expect("url")),
        ours_cb.path_and_query
    );
    for field in ["alg", "kid"] {
        assert_eq!(
            cb["ours"]["header"][field], cb["ccxt"]["header"][field],
            "header {field}"
        );
    }
    for field in ["sub", "nbf", "exp", "uri"] {
        assert_eq!(
            cb["ours"]["claims"][field], cb["ccxt"]["claims"][field],
            "claim {field}"
        );
    }
    // The one deliberate difference (docs/CLI.md): Coinbase's current CDP docs use iss "cdp"
    // without aud; ccxt 4.5 sends the older "coinbase-cloud" with aud. Pin both, so a change
    // on either side is noticed.
    assert_eq!(cb["ours"]["claims"]["iss"], "cdp");
    assert_eq!(cb["ccxt"]["claims"]["iss"], "coinbase-cloud");
}
