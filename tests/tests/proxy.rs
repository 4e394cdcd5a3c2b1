//! `vault run --proxy`, end to end with the real ccxt and the real freqtrade from PyPI against
//! a local stand-in exchange (tests/ccxt/standin_exchange.py) that knows only the *real*
//! credentials and checks signatures as each exchange documents them. The bot holds stand-ins;
//! everything it does reaches the exchange re-signed, or is refused before it leaves.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};
use vault_tests::*;

struct Real {
    exchange: &'static str,
    /// The `--symbols` value whose orders the scenario places.
    symbols: &'static str,
    key: &'static str,
    secret: &'static str,
    passphrase: Option<&'static str>,
}

const BINANCE: Real = Real {
    exchange: "binance",
    symbols: "BTC/USDT",
    key: "PXREALbinanceKEYHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8",
    secret: "PXREALbinanceSECRETdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6",
    passphrase: None,
};
const BYBIT: Real = Real {
    exchange: "bybit",
    symbols: "BTC/USDT",
    key: "PXREALbybitKEY0001",
    secret: "PXREALbybitSECRETabcdefghij012345678",
    passphrase: None,
};
const OKX: Real = Real {
    exchange: "okx",
    symbols: "BTC/USDT",
    key: "0a1b2c3d-5eal-4ccc-9ddd-000000000001",
    secret: "PXREAL0123456789ABCDEF0123456789",
    passphrase: Some("PXREAL-okx-passphrase"),
};

const BITFINEX: Real = Real {
    exchange: "bitfinex",
    symbols: "BTC/USD",
    key: "PXREALbitfinexKEY0123456789abcdefghijklmnop",
    secret: "PXREALbitfinexSECRET0123456789abcdefghijklm",
    passphrase: None,
};
const KRAKEN: Real = Real {
    exchange: "kraken",
    symbols: "BTC/USD",
    key: "PXREALkrakenKEY+0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHI/",
    secret:
        "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==",
    passphrase: None,
};
const GATE: Real = Real {
    exchange: "gate",
    symbols: "BTC/USDT",
    key: "PXREALgate0123456789abcdef012345",
    secret: "PXREALgateSECRET0123456789abcdef0123456789abcdef0123456789abcdef",
    passphrase: None,
};
/// A throwaway P-256 key made for this test (openssl ecparam -genkey -name prime256v1).
const COINBASE: Real = Real {
    exchange: "coinbase",
    symbols: "BTC/USD",
    key: "organizations/pxreal-org-0001/apiKeys/pxreal-key-0001",
    secret: "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIALjv5PVdTWPRsh8+MZApyQT3rzuMrl+TXREnz3Is1gKoAoGCCqGSM49\nAwEHoUQDQgAEsOMWzC5es6aUPLzx5DJY1kshjzZWvCl/JgXRD+YHLQdB0lM9JDot\nGiC13bZAPuBk8qvgynmD/jM0udmu7pSeFA==\n-----END EC PRIVATE KEY-----\n",
    passphrase: None,
};
const KUCOIN: Real = Real {
    exchange: "kucoin",
    symbols: "BTC/USDT",
    key: "5f2c1e0a9b8d7c6e5f4a3b2c",
    secret: "0a1b2c3d-PXRL-4e5f-8a9b-0c1d2e3f4a5b",
    passphrase: Some("PXREAL-kucoin-passphrase"),
};
const BITGET: Real = Real {
    exchange: "bitget",
    symbols: "BTC/USDT",
    key: "bg_PXREAL0123456789abcdef01234567",
    secret: "PXREAL0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
    passphrase: Some("PXREALbitgetPass"),
};

/// The order-placing paths of the scenarios (tests/ccxt/through_proxy.py).
const ORDER_PATHS: [&str; 9] = [
    "/api/v4/spot/orders",
    "/api/v3/brokerage/orders",
    "/api/v3/order",
    "/v5/order/create",
    "/api/v5/trade/order",
    "/api/v1/orders",
    "/api/v2/spot/trade/place-order",
    "/v2/auth/w/order/submit",
    "/0/private/AddOrder",
];

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("ccxt")
        .join(name)
}

/// The stand-in exchange: a Python process that serves until dropped.
struct Exchange {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Exchange {
    fn start(python: &Path, dir: &Path, real: &[&Real]) -> Exchange {
        let mut creds = serde_json::Map::new();
        for id in [
            "binance", "bybit", "okx", "kucoin", "bitget", "bitfinex", "kraken",
        ] {
            creds.insert(
                id.into(),
                json!({"key": "unused", "secret": "unused", "passphrase": "unused"}),
            );
        }
        for r in real {
            creds.insert(
                r.exchange.into(),
                json!({"key": r.key, "secret": r.secret, "passphrase": r.passphrase}),
            );
        }
        let log = dir.join("exchange.log");
        let mut child = Command::new(python)
            .arg(script("standin_exchange.py"))
            .arg(&log)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the stand-in exchange");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(Value::Object(creds).to_string().as_bytes())
            .expect("credentials");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("port");
        let port = line
            .trim()
            .parse()
            .expect("the stand-in exchange prints its port");
        Exchange { child, port, log }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request that reached the exchange: (method, path, signature valid).
    fn received(&self) -> Vec<(String, String, bool)> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).expect("log line");
                (
                    v["method"].as_str().unwrap_or("").to_string(),
                    v["path"].as_str().unwrap_or("").to_string(),
                    v["ok"].as_bool().unwrap_or(false),
                )
            })
            .collect()
    }
}

impl Drop for Exchange {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python_or_skip(test: &str) -> Option<PathBuf> {
    match ccxt_python() {
        Some(p) => Some(p),
        None if e2e_required() => {
            panic!("{test}: a python3 with ccxt is required with VAULT_E2E=1 (the freqtrade virtualenv)")
        }
        None => {
            skipped(test, "no python3 with ccxt (pip install freqtrade==2026.9)");
            None
        }
    }
}

fn add(c: &Cli, bot: &str, r: &Real) {
    let mut stdin = format!("{}\n{}\n", r.key, r.secret);
    if let Some(p) = r.passphrase {
        stdin.push_str(&format!("{p}\n"));
    }
    let (code, _, err) = c.run(
        &[
            "add",
            bot,
            "--exchange",
            r.exchange,
            "--from-stdin",
            "--withdrawals",
            "disabled",
            "--ip",
            "203.0.113.7",
        ],
        &stdin,
    );
    assert_eq!(code, 0, "add {bot}: {err}");
}

fn secrets(r: &Real) -> Vec<&'static str> {
    let mut v = vec![r.key, r.secret];
    v.extend(r.passphrase);
    v
}

fn a_ccxt_bot_trades_through_the_proxy_but_never_withdraws(test: &str, r: &Real) {
    let Some(python) = python_or_skip(test) else {
        return;
    };
    let c = Cli::new();
    add(&c, "pxbot", r);
    let ex = Exchange::start(&python, c.sb.path(), &[r]);
    let environ = c.sb.path().join("child-environ");
    let mut cmd = c.cmd();
    cmd.env(
        format!("VAULT_{}_BASE_URL", r.exchange.to_ascii_uppercase()),
        ex.base(),
    )
    .args([
        "run",
        "--proxy",
        "--bot",
        "pxbot",
        "--symbols",
        r.symbols,
        "--max-notional",
        "1000",
        "--",
    ])
    .arg(&python)
    .arg(script("through_proxy.py"))
    .arg(r.exchange)
    .arg(&environ);
    let (code, out, err) = c.run_with(cmd, "");
    assert_eq!(code, 0, "{out}\n{err}");
    let res: Value = serde_json::from_str(out.lines().last().unwrap_or("")).expect(&out);

    // What a bot does works: every call reached the exchange, re-signed with the real key.
    for k in ["balance", "cancel", "open"] {
        assert_eq!(res[k]["ok"], true, "{k}: {res}");
    }
    assert!(res["order"].is_string(), "{res}");
    // What it must not do is refused by the proxy (403), and never reaches the exchange.
    for k in ["withdraw", "transfer", "other_symbol", "big", "not_listed"] {
        assert_eq!(res[k]["ok"], false, "{k}: {res}");
        assert!(
            res[k]["error"]
                .as_str()
                .unwrap_or("")
                .contains("\"vault\":\"refused\""),
            "{k}: {res}"
        );
    }
    // The stand-in key signed with any other secret: 401, not forwarded.
    assert!(
        res["bad_secret"]["error"]
            .as_str()
            .unwrap_or("")
            .contains("\"vault\":\"unauthorized\""),
        "{res}"
    );
    let got = ex.received();
    assert!(
        got.iter().all(|(_, _, ok)| *ok),
        "every forwarded request is validly signed with the real key: {got:?}"
    );
    assert!(
        got.iter()
            .all(|(_, p, _)| !p.contains("withdraw") && !p.contains("transfer")),
        "a withdrawal or transfer reached the exchange: {got:?}"
    );
    let orders = got
        .iter()
        .filter(|(m, p, _)| m == "POST" && ORDER_PATHS.contains(&p.as_str()))
        .count();
    assert_eq!(orders, 1, "only the allowed order arrives: {got:?}");
    assert!(got.len() >= 4, "{got:?}");

    // The child never held the real credentials: not in its environment as the kernel has it.
    let env = std::fs::read(&environ).expect("the child's /proc/self/environ");
    let env = String::from_utf8_lossy(&env);
    for s in secrets(r) {
        assert!(
            !env.contains(s),
            "a real credential is in the child's environment"
        );
        assert!(
            !out.contains(s) && !err.contains(s),
            "a real credential was printed"
        );
    }
    assert!(env.contains("VAULT_PROXY_URL=http://127.0.0.1:"), "{env}");
    let standin_key = env
        .split('\0')
        .find_map(|kv| kv.strip_prefix("EXCHANGE_KEY="))
        .expect("a stand-in key");
    assert_eq!(
        standin_key.len(),
        r.key.len(),
        "the stand-in has the real key's shape"
    );
    assert_ne!(standin_key, r.key);

    // Refusals are in the audit log, which holds no secret either.
    let (_, log, _) = c.run(&["log"], "");
    assert!(
        log.contains("proxy-refused") && log.contains("proxy-unauthorized"),
        "{log}"
    );
    for s in secrets(r) {
        assert!(!log.contains(s));
    }

    // The proxy stops with the child.
    let url = res["proxy"].as_str().expect("proxy url");
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the proxy still listens after the child ended"
    );
}

#[test]
fn a_ccxt_binance_bot_trades_through_the_proxy_but_never_withdraws() {
    a_ccxt_bot_trades_through_the_proxy_but_never_withdraws(
        "a_ccxt_binance_bot_trades_through_the_proxy_but_never_withdraws",
        &BINANCE,
    );
}

#[test]
fn a_ccxt_bybit_bot_trades_through_the_proxy_but_never_withdraws() {
    a_ccxt_bot_trades_through_the_proxy_but_never_withdraws(
        "a_ccxt_bybit_bot_trades_through_the_proxy_but_never_withdraws",
        &BYBIT,
    );
}

#[test]
fn a_ccxt_okx_bot_trades_through_the_proxy_but_never_withdraws() {
    a_ccxt_bot_trades_through_the_proxy_but_never_withdraws(
        "a_ccxt_okx_bot_trades_through_the_proxy_but_never_withdraws",
        &OKX,
    );
}

#[test]
fn a_ccxt_bitfinex_bot_trades_through_the_proxy_but_never_withdraws() {
    a_ccxt_bot_trades_through_the_proxy_but_never_withdraws(
        "a_ccxt_bitfinex_bot_trades_through_the_proxy_but_never_withdraws",
        &BITFINEX,
    );
}

#[test]
fn a_ccxt_kraken_bot_trades_through_the_proxy_but_never_withdraws() {
    a_ccxt_bot_trades_through_the_proxy_but_never_withdraws(
        "a_ccxt_kraken_bot_trades_through_the_proxy_but_never_withdraws",
        &KRAKEN,
    );
}

#[test]
fn a_ccxt_gate_bot_trades_through_the_proxy_but_never_withdraws() {
    a_ccxt_bot_trades_through_the_proxy_but_never_withdraws(
        "a_ccxt_gate_bot_trades_through_the_proxy_but_never_withdraws",
        &GATE,
    );
}

#[test]
fn a_ccxt_coinbase_bot_trades_through_the_proxy_but_never_withdraws() {
    a_ccxt_bot_trades_through_the_proxy_but_never_withdraws(
        "a_ccxt_coinbase_bot_trades_through_the_proxy_but_never_withdraws",
        &COINBASE,
    );
}

#[test]
fn a_ccxt_kucoin_bot_trades_through_the_proxy_but_never_withdraws() {
    a_ccxt_bot_trades_through_the_proxy_but_never_withdraws(
        "a_ccxt_kucoin_bot_trades_through_the_proxy_but_never_withdraws",
        &KUCOIN,
    );
}

#[test]
fn a_ccxt_bitget_bot_trades_through_the_proxy_but_never_withdraws() {
    a_ccxt_bot_trades_through_the_proxy_but_never_withdraws(
        "a_ccxt_bitget_bot_trades_through_the_proxy_but_never_withdraws",
        &BITGET,
    );
}

const FT_CONFIG: &str = r#"{
    "max_open_trades": 1, "stake_currency": "USDT", "stake_amount": 10,
    "dry_run": false, "trading_mode": "spot",
    "exchange": {"name": "binance", "key": "", "secret": "", "pair_whitelist": ["BTC/USDT"]},
    "pairlists": [{"method": "StaticPairList"}],
    "entry_pricing": {"price_side": "same"}, "exit_pricing": {"price_side": "same"},
    "bot_name": "vault-proxy-e2e",
}
"#;

#[test]
fn freqtrade_unchanged_gets_the_rewritten_urls_and_its_private_calls_arrive_re_signed() {
    let test = "freqtrade_unchanged_gets_the_rewritten_urls_and_its_private_calls_arrive_re_signed";
    let Some(ft) = require_program("freqtrade", test) else {
        return;
    };
    let Some(python) = python_or_skip(test) else {
        return;
    };
    let c = Cli::new();
    add(&c, "ftbot", &BINANCE);
    let dir = c.sb.path().join("ft");
    std::fs::create_dir_all(dir.join("user_data")).expect("mkdir");
    std::fs::write(dir.join("config.json"), FT_CONFIG).expect("config");
    let ex = Exchange::start(&python, c.sb.path(), &[&BINANCE]);

    // 1. freqtrade's config as loaded: stand-ins, and every ccxt URL through the proxy.
    for deliver in ["env", "freqtrade-config"] {
        let mut cmd = c.cmd();
        cmd.current_dir(&dir)
            .env("VAULT_BINANCE_BASE_URL", ex.base())
            .args([
                "run",
                "--proxy",
                "--bot",
                "ftbot",
                "--no-mask",
                "--deliver",
                deliver,
                "--",
            ])
            .arg(&ft)
            .args(["show-config", "-c", "config.json", "--show-sensitive"]);
        let (code, out, err) = c.run_with(cmd, "");
        assert_eq!(code, 0, "{deliver}: {out}{err}");
        let start = out.find('{').expect("show-config prints JSON");
        let cfg: Value = serde_json::from_str(&out[start..]).expect(&out);
        let e = &cfg["exchange"];
        let key = e["key"].as_str().expect("key");
        assert_eq!(key.len(), BINANCE.key.len(), "{deliver}");
        assert_ne!(key, BINANCE.key, "{deliver}: freqtrade got the real key");
        assert!(!out.contains(BINANCE.secret) && !err.contains(BINANCE.secret));
        for section in ["ccxt_config", "ccxt_async_config"] {
            let api = &e[section]["urls"]["api"];
            let urls = api
                .as_object()
                .unwrap_or_else(|| panic!("{deliver} {section}: {e}"));
            assert!(urls.len() >= 20, "{deliver} {section}: {api}");
            assert!(
                urls.values()
                    .all(|u| u.as_str().unwrap_or("").starts_with("http://127.0.0.1:")),
                "{deliver} {section}: {api}"
            );
            assert!(
                api["private"]
                    .as_str()
                    .unwrap_or("")
                    .ends_with("/api.binance.com/api/v3"),
                "{api}"
            );
        }
    }

    // 2. A private call through freqtrade's own exchange object (its ccxt, built from that
    //    config) reaches the exchange signed with the real key.
    let mut cmd = c.cmd();
    cmd.current_dir(&dir)
        .env("VAULT_BINANCE_BASE_URL", ex.base())
        .args([
            "run",
            "--proxy",
            "--bot",
            "ftbot",
            "--env-profile",
            "freqtrade",
            "--",
        ])
        .arg(&python)
        .arg(script("freqtrade_private_call.py"))
        .arg("config.json");
    let (code, out, err) = c.run_with(cmd, "");
    assert_eq!(code, 0, "{out}{err}");
    let res: Value = serde_json::from_str(out.lines().last().unwrap_or("")).expect(&out);
    assert_eq!(res["balance_usdt"], 1000.0, "{res}");
    let got = ex.received();
    assert!(
        got.contains(&("GET".into(), "/api/v3/account".into(), true)),
        "{got:?}"
    );
    assert!(got.iter().all(|(_, _, ok)| *ok), "{got:?}");
}

/// A small HTTP client in the child: (status, body) of one request through the proxy.
const RAW_CLIENT: &str = r#"
import json, os, sys, urllib.request, urllib.error
url = os.environ["VAULT_PROXY_URL"] + sys.argv[1]
req = urllib.request.Request(url, method=sys.argv[2] if len(sys.argv) > 2 else "GET")
for h in sys.argv[3:]:
    k, v = h.split(":", 1)
    req.add_header(k, v)
try:
    r = urllib.request.urlopen(req, timeout=10)
    print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
"#;

fn raw(c: &Cli, python: &Path, ex: &Exchange, args: &[&str]) -> (u16, String) {
    let mut cmd = c.cmd();
    cmd.env("VAULT_BINANCE_BASE_URL", ex.base())
        .args(["run", "--proxy", "--bot", "pxbot", "--"])
        .arg(python)
        .args(["-c", RAW_CLIENT])
        .args(args);
    let (code, out, err) = c.run_with(cmd, "");
    assert_eq!(code, 0, "{out}{err}");
    let (status, body) = out.trim().split_once(' ').expect(&out);
    (status.parse().expect("status"), body.to_string())
}

#[test]
fn the_proxy_forwards_only_to_the_exchanges_own_hosts_and_only_plain_paths() {
    let test = "the_proxy_forwards_only_to_the_exchanges_own_hosts_and_only_plain_paths";
    let Some(python) = python_or_skip(test) else {
        return;
    };
    let c = Cli::new();
    add(&c, "pxbot", &BINANCE);
    let ex = Exchange::start(&python, c.sb.path(), &[&BINANCE]);
    // Public market data passes unchanged.
    let (s, body) = raw(&c, &python, &ex, &["api.binance.com/api/v3/exchangeInfo"]);
    assert_eq!(s, 200, "{body}");
    // Another host is refused, whatever the path.
    let (s, body) = raw(&c, &python, &ex, &["evil.example.com/api/v3/exchangeInfo"]);
    assert_eq!(s, 403, "{body}");
    assert!(body.contains("not an API host of binance"), "{body}");
    // A path an exchange front end could read as another one is refused.
    let (s, body) = raw(
        &c,
        &python,
        &ex,
        &[
            "api.binance.com/api/v3/../../sapi/v1/capital/withdraw/apply",
            "POST",
        ],
    );
    assert_eq!(s, 403, "{body}");
    // A key header that is not this run's stand-in: 401, not forwarded.
    let (s, body) = raw(
        &c,
        &python,
        &ex,
        &[
            "api.binance.com/api/v3/account?timestamp=1&signature=00",
            "GET",
            &format!("X-MBX-APIKEY:{}", BINANCE.key),
        ],
    );
    assert_eq!(s, 401, "{body}");
    let got = ex.received();
    assert_eq!(
        got,
        vec![("GET".into(), "/api/v3/exchangeInfo".into(), true)],
        "only the public request arrived"
    );
}

#[test]
fn the_proxy_supports_every_exchange_vault_knows() {
    // Each has its ccxt scenario above; a new exchange must get one before it is added here.
    assert_eq!(
        vault_core::proxy::supported(),
        vault_core::Exchange::ALL.to_vec()
    );
}

#[test]
fn proxy_policy_flags_need_proxy_and_valid_values() {
    let c = Cli::new();
    c.add("b", "PXKEY000000000000000001", "PXSECRET00000000000001");
    for args in [
        &["run", "--allow", "GET:/api/v3/x", "--", "true"][..],
        &["run", "--symbols", "BTC/USDT", "--", "true"][..],
        &["run", "--max-notional", "10", "--", "true"][..],
        &["run", "--proxy", "--allow", "GET/api", "--", "true"][..],
        &["run", "--proxy", "--allow", "FETCH:/api", "--", "true"][..],
        &["run", "--proxy", "--max-notional", "-5", "--", "true"][..],
        &["run", "--proxy", "--max-notional", "lots", "--", "true"][..],
    ] {
        let (code, _, err) = c.run(args, "");
        assert_eq!(code, 2, "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    }
}

#[test]
fn the_urls_vault_rewrites_for_freqtrade_are_exactly_ccxts_own() {
    let test = "the_urls_vault_rewrites_for_freqtrade_are_exactly_ccxts_own";
    let Some(python) = python_or_skip(test) else {
        return;
    };
    for ex in vault_core::proxy::supported() {
        let out = Command::new(&python)
            .args([
                "-c",
                "import ccxt, json, sys; e = getattr(ccxt, sys.argv[1])(); print(json.dumps([e.urls['api'], getattr(e, 'hostname', None) or '']))",
                ex.id(),
            ])
            .output()
            .expect("python");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let both: Value = serde_json::from_slice(&out.stdout).expect("json");
        let (theirs, hostname) = (&both[0], both[1].as_str().unwrap_or(""));
        // Rewriting https:// to https:// gives back the table as vault has it.
        let ours = vault_core::proxy::ccxt_urls(ex, "https://").expect("table");
        assert_eq!(
            &ours, theirs,
            "{ex}: ccxt's urls['api'] changed; update its ProxySpec"
        );
        // Every host in ccxt's table is one the proxy forwards to.
        let hosts = vault_core::proxy::hosts(ex);
        let mut stack = vec![theirs];
        while let Some(v) = stack.pop() {
            match v {
                Value::Object(m) => stack.extend(m.values()),
                Value::String(u) => {
                    let host = u
                        .trim_start_matches("https://")
                        .split('/')
                        .next()
                        .unwrap_or("")
                        .replace("{hostname}", hostname);
                    assert!(
                        hosts.contains(&host.as_str()),
                        "{ex}: {host} is not a proxy host"
                    );
                }
                _ => {}
            }
        }
    }
}
