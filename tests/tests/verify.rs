//! `vault verify` end to end against a local HTTP server (std TcpListener, no tokio, no
//! internet) that checks signatures the way each exchange does.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use vault_tests::*;

const KEY: &str = "VERIFYKEY00000000000001";
const SECRET: &str = "VERIFYSECRET000000000001";
const PASS: &str = "VERIFYPASS0001";

#[derive(Debug, Clone)]
struct Req {
    path: String,
    headers: Vec<(String, String)>,
}

impl Req {
    fn header(&self, n: &str) -> String {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

fn hmac256(secret: &str, msg: &str) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("hmac");
    m.update(msg.as_bytes());
    m.finalize().into_bytes().to_vec()
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// A one-thread exchange: answers each request with `respond(&req)` = (status, body, delay).
fn server(
    addr: &str,
    respond: impl Fn(&Req) -> (u16, String, Duration) + Send + 'static,
) -> (String, Arc<Mutex<Vec<Req>>>) {
    let l = TcpListener::bind(format!("{addr}:0")).expect("bind");
    let base = format!("http://{}", l.local_addr().expect("addr"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    l.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            let Ok((s, _)) = l.accept() else {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            };
            s.set_nonblocking(false).expect("blocking");
            let mut r = BufReader::new(s.try_clone().expect("clone"));
            let mut line = String::new();
            if r.read_line(&mut line).is_err() {
                continue;
            }
            let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
            let mut headers = Vec::new();
            let mut len = 0usize;
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).is_err() || h.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = h.trim_end().split_once(':') {
                    if k.eq_ignore_ascii_case("content-length") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                    headers.push((k.trim().to_string(), v.trim().to_string()));
                }
            }
            let mut body = vec![0u8; len];
            let _ = r.read_exact(&mut body);
            let req = Req { path, headers };
            seen2.lock().expect("lock").push(req.clone());
            let (status, body, delay) = respond(&req);
            std::thread::sleep(delay);
            let mut s = s;
            let _ = write!(s, "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
        }
    });
    (base, seen)
}

fn binance_checked(ok_body: &'static str) -> impl Fn(&Req) -> (u16, String, Duration) {
    move |r: &Req| {
        let (path, query) = r.path.split_once('?').unwrap_or((&r.path, ""));
        let (unsigned, sig) = query.rsplit_once("&signature=").unwrap_or((query, ""));
        let valid = path == "/sapi/v1/account/apiRestrictions"
            && r.header("X-MBX-APIKEY") == KEY
            && hex_encode(&hmac256(SECRET, unsigned)) == sig;
        if valid {
            (200, ok_body.to_string(), Duration::ZERO)
        } else {
            (
                400,
                r#"{"code":-1022,"msg":"Signature for this request is not valid."}"#.to_string(),
                Duration::ZERO,
            )
        }
    }
}

fn hex_encode(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

const BINANCE_CLEAN: &str = r#"{"ipRestrict":true,"createTime":1698645219000,"enableReading":true,"enableWithdrawals":false,"enableSpotAndMarginTrading":true}"#;
const BINANCE_WITHDRAW: &str = r#"{"ipRestrict":true,"enableReading":true,"enableWithdrawals":true,"enableSpotAndMarginTrading":true}"#;

fn cli_with(exchange: &str, needs_pass: bool) -> Cli {
    let c = Cli::new();
    let stdin = if needs_pass {
        format!("{KEY}\n{SECRET}\n{PASS}\n")
    } else {
        format!("{KEY}\n{SECRET}\n")
    };
    let (code, _, err) = c.run(
        &[
            "add",
            "bot",
            "--exchange",
            exchange,
            "--withdrawals",
            "disabled",
            "--ip",
            "203.0.113.7",
            "--from-stdin",
        ],
        &stdin,
    );
    assert_eq!(code, 0, "{err}");
    c
}

fn verify(c: &Cli, var: &str, base: &str, extra: &[&str]) -> (i32, String, String) {
    let mut cmd = c.cmd();
    cmd.env(var, base)
        .env("VAULT_VERIFY_TIMEOUT", "2")
        .args(["verify", "bot"])
        .args(extra);
    c.run_with(cmd, "")
}

fn recorded(c: &Cli) -> serde_json::Value {
    let (_, out, _) = c.run(&["show", "bot", "--json"], "");
    serde_json::from_str::<serde_json::Value>(&out).expect("json")["verify"].clone()
}

#[test]
fn a_clean_binance_key_passes_and_is_recorded() {
    let c = cli_with("binance", false);
    let (base, seen) = server("127.0.0.1", binance_checked(BINANCE_CLEAN));
    let (code, out, err) = verify(&c, "VAULT_BINANCE_BASE_URL", &base, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("withdraw no") && out.contains("IP-restricted yes"),
        "{out}"
    );
    let v = recorded(&c);
    assert_eq!(v["can_withdraw"], false);
    assert_eq!(v["trusted"], true);
    assert_eq!(seen.lock().expect("lock").len(), 1);
    assert!(!out.contains(SECRET) && !err.contains(SECRET));
}

#[test]
fn verify_json_matches_its_documented_schema_for_a_result_and_a_rejection() {
    let schema = vault_tests::schema::load("verify");
    let c = cli_with("binance", false);
    let (base, _) = server("127.0.0.1", binance_checked(BINANCE_WITHDRAW));
    let (code, out, err) = verify(&c, "VAULT_BINANCE_BASE_URL", &base, &["--json"]);
    assert_eq!(code, 5, "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(j["results"][0]["can_withdraw"], true);
    let errors = vault_tests::schema::check(&schema, &j);
    assert!(errors.is_empty(), "{errors:#?}\n{out}");
    // A rejected key is reported as {bot, error}, the other form the schema allows.
    let c = Cli::new();
    let (code, _, _) = c.run(
        &["add", "bot", "--exchange", "binance", "--from-stdin"],
        &format!("{KEY}\nNOT-THE-SECRET-000000\n"),
    );
    assert_eq!(code, 0);
    let (base, _) = server("127.0.0.1", binance_checked(BINANCE_CLEAN));
    let (code, out, err) = verify(&c, "VAULT_BINANCE_BASE_URL", &base, &["--json"]);
    assert_eq!(code, 5, "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert!(j["results"][0]["error"].is_string(), "{out}");
    let errors = vault_tests::schema::check(&schema, &j);
    assert!(errors.is_empty(), "{errors:#?}\n{out}");
}

#[test]
fn withdrawals_seen_by_verify_are_critical_and_run_refuses() {
    let c = cli_with("binance", false);
    let (base, _) = server("127.0.0.1", binance_checked(BINANCE_WITHDRAW));
    let (code, out, _) = verify(&c, "VAULT_BINANCE_BASE_URL", &base, &[]);
    assert_eq!(code, 5, "{out}");
    assert!(out.contains("withdrawals-enabled"), "{out}");
    assert_eq!(c.run(&["run", "--bot", "bot", "--", "true"], "").0, 5);
    assert_eq!(c.run(&["audit"], "").0, 5);
}

#[test]
fn a_wrong_secret_is_reported_as_a_rejected_signature() {
    let c = Cli::new();
    let (code, _, _) = c.run(
        &["add", "bot", "--exchange", "binance", "--from-stdin"],
        &format!("{KEY}\nNOT-THE-SECRET-000000\n"),
    );
    assert_eq!(code, 0);
    let (base, _) = server("127.0.0.1", binance_checked(BINANCE_CLEAN));
    let (code, _, err) = verify(&c, "VAULT_BINANCE_BASE_URL", &base, &[]);
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("rejected") && err.contains("-1022"), "{err}");
    assert!(recorded(&c).is_null(), "nothing recorded");
}

#[test]
fn a_bybit_key_without_ip_binding_is_critical() {
    let c = cli_with("bybit", false);
    let (base, _) = server("127.0.0.1", |r: &Req| {
        let ts = r.header("X-BAPI-TIMESTAMP");
        let valid = r.path == "/v5/user/query-api"
            && r.header("X-BAPI-SIGN") == hex_encode(&hmac256(SECRET, &format!("{ts}{KEY}5000")));
        if !valid {
            return (
                200,
                r#"{"retCode":10004,"retMsg":"error sign!"}"#.into(),
                Duration::ZERO,
            );
        }
        (200, r#"{"retCode":0,"retMsg":"","result":{"readOnly":0,"permissions":{"Spot":["SpotTrade"],"Wallet":[]},"ips":["*"],"deadlineDay":66,"expiredAt":"2099-12-22T07:20:25Z"}}"#.into(), Duration::ZERO)
    });
    let (code, out, err) = verify(&c, "VAULT_BYBIT_BASE_URL", &base, &[]);
    assert_eq!(code, 5, "{out}{err}");
    assert!(out.contains("ip-not-restricted"), "{out}");
    assert_eq!(recorded(&c)["ip_restricted"], false);
}

#[test]
fn okx_ip_not_allowed_says_to_run_verify_from_the_bots_server() {
    let c = cli_with("okx", true);
    let (base, _) = server("127.0.0.1", |r: &Req| {
        let ts = r.header("OK-ACCESS-TIMESTAMP");
        let valid = r.header("OK-ACCESS-SIGN")
            == b64(&hmac256(SECRET, &format!("{ts}GET/api/v5/account/config")))
            && r.header("OK-ACCESS-PASSPHRASE") == PASS;
        assert!(valid, "the vault must sign exactly as OKX documents");
        (401, r#"{"code":"50110","msg":"Your IP 192.0.2.1 is not included in your API key's IP whitelist."}"#.into(), Duration::ZERO)
    });
    let (code, _, err) = verify(&c, "VAULT_OKX_BASE_URL", &base, &[]);
    assert_eq!(code, 5, "{err}");
    assert!(
        err.contains("IP-restricted and this machine is not on its list")
            && err.contains("bot's server"),
        "{err}"
    );
}

#[test]
fn a_clean_kucoin_key_passes_with_its_signed_passphrase() {
    let c = cli_with("kucoin", true);
    let (base, _) = server("127.0.0.1", |r: &Req| {
        let ts = r.header("KC-API-TIMESTAMP");
        let valid = r.header("KC-API-SIGN")
            == b64(&hmac256(SECRET, &format!("{ts}GET/api/v1/user/api-key")))
            && r.header("KC-API-PASSPHRASE") == b64(&hmac256(SECRET, PASS));
        if !valid {
            return (
                401,
                r#"{"code":"400005","msg":"Invalid KC-API-SIGN"}"#.into(),
                Duration::ZERO,
            );
        }
        (200, r#"{"code":"200000","data":{"apiVersion":3,"permission":"General,Spot","ipWhitelist":"203.**.7"}}"#.into(), Duration::ZERO)
    });
    let (code, out, err) = verify(&c, "VAULT_KUCOIN_BASE_URL", &base, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(recorded(&c)["can_withdraw"], false);
}

#[test]
fn timeouts_malformed_answers_and_http_500_exit_1_and_record_nothing() {
    let c = cli_with("binance", false);
    let (base, _) = server("127.0.0.1", |_: &Req| {
        (200, BINANCE_CLEAN.into(), Duration::from_secs(4))
    });
    let (code, _, err) = verify(&c, "VAULT_BINANCE_BASE_URL", &base, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("no answer within") && err.contains("nothing was recorded"),
        "{err}"
    );
    let (base, _) = server("127.0.0.1", |_: &Req| {
        (200, "{not json".into(), Duration::ZERO)
    });
    let (code, _, err) = verify(&c, "VAULT_BINANCE_BASE_URL", &base, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not understood"), "{err}");
    let (base, _) = server("127.0.0.1", |_: &Req| {
        (500, "<html>oops</html>".into(), Duration::ZERO)
    });
    let (code, _, err) = verify(&c, "VAULT_BINANCE_BASE_URL", &base, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(recorded(&c).is_null());
}

#[test]
fn a_base_url_elsewhere_needs_allow_custom_endpoint_and_is_then_untrusted() {
    let c = cli_with("binance", false);
    let (code, _, err) = verify(
        &c,
        "VAULT_BINANCE_BASE_URL",
        "https://binance.example.net",
        &[],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("--allow-custom-endpoint"), "{err}");
    // 127.0.0.2 is not one of the accepted loopback forms: it stands for "elsewhere" here.
    let (base, _) = server("127.0.0.2", binance_checked(BINANCE_WITHDRAW));
    let (code, out, err) = verify(
        &c,
        "VAULT_BINANCE_BASE_URL",
        &base,
        &["--allow-custom-endpoint"],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("unverified") && out.contains("UNVERIFIED"),
        "{out}{err}"
    );
    assert_eq!(recorded(&c)["trusted"], false);
    assert_eq!(
        c.run(&["run", "--bot", "bot", "--", "true"], "").0,
        0,
        "an untrusted result is not acted on"
    );
}

#[test]
fn a_rotation_resets_the_recorded_result() {
    let c = cli_with("binance", false);
    let (base, _) = server("127.0.0.1", binance_checked(BINANCE_CLEAN));
    assert_eq!(verify(&c, "VAULT_BINANCE_BASE_URL", &base, &[]).0, 0);
    assert!(!recorded(&c).is_null());
    assert_eq!(
        c.run(
            &["rotate", "bot", "--from-stdin"],
            "VERIFYKEY00000000000002\nVERIFYSECRET000000000002\n"
        )
        .0,
        0
    );
    assert!(recorded(&c).is_null());
}

#[test]
fn gate_cannot_tell_withdrawals_so_strict_fails() {
    let c = cli_with("gate", false);
    let (base, _) = server("127.0.0.1", |_: &Req| {
        (
            200,
            r#"{"user_id":1,"ip_whitelist":["203.0.113.7"],"key":{"mode":1}}"#.into(),
            Duration::ZERO,
        )
    });
    let (code, out, _) = verify(&c, "VAULT_GATE_BASE_URL", &base, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("withdraw-unknowable"), "{out}");
    let (code, _, _) = verify(&c, "VAULT_GATE_BASE_URL", &base, &["--strict"]);
    assert_eq!(code, 5);
}

#[test]
fn coinbase_is_asked_with_an_es256_jwt_that_verifies() {
    use p256::ecdsa::signature::Verifier as _;
    let pem = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIALjv5PVdTWPRsh8+MZApyQT3rzuMrl+TXREnz3Is1gKoAoGCCqGSM49\nAwEHoUQDQgAEsOMWzC5es6aUPLzx5DJY1kshjzZWvCl/JgXRD+YHLQdB0lM9JDot\nGiC13bZAPuBk8qvgynmD/jM0udmu7pSeFA==\n-----END EC PRIVATE KEY-----\n";
    let c = Cli::new();
    let (code, _, err) = c.run(
        &[
            "add",
            "bot",
            "--exchange",
            "coinbase",
            "--withdrawals",
            "disabled",
            "--ip",
            "203.0.113.7",
            "--from-stdin",
        ],
        &format!("organizations/o/apiKeys/k\n{pem}"),
    );
    assert_eq!(code, 0, "{err}");
    let vk = p256::ecdsa::VerifyingKey::from(&p256::ecdsa::SigningKey::from(
        p256::SecretKey::from_sec1_pem(pem).expect("pem"),
    ));
    let (base, _) = server("127.0.0.1", move |r: &Req| {
        let auth = r.header("Authorization");
        let jwt = auth.strip_prefix("Bearer ").unwrap_or("");
        let parts: Vec<&str> = jwt.split('.').collect();
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let ok = parts.len() == 3
            && p256::ecdsa::Signature::from_slice(&url.decode(parts[2]).unwrap_or_default())
                .map(|sig| {
                    vk.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
                        .is_ok()
                })
                .unwrap_or(false);
        if ok {
            (200, r#"{"can_view":true,"can_trade":true,"can_transfer":false,"portfolio_type":"DEFAULT"}"#.into(), Duration::ZERO)
        } else {
            (401, r#"{"error":"unauthorized"}"#.into(), Duration::ZERO)
        }
    });
    let (code, out, err) = verify(&c, "VAULT_COINBASE_BASE_URL", &base, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("ip-restriction-unknowable"), "{out}");
    assert_eq!(recorded(&c)["can_withdraw"], false);
    assert_eq!(
        verify(&c, "VAULT_COINBASE_BASE_URL", &base, &["--strict"]).0,
        5
    );
}

#[test]
fn an_exchange_error_that_echoes_the_key_is_masked() {
    let c = cli_with("binance", false);
    let (base, _) = server("127.0.0.1", |_: &Req| {
        (
            400,
            format!(r#"{{"code":-2014,"msg":"API-key format invalid: {KEY}"}}"#),
            Duration::ZERO,
        )
    });
    let (code, out, err) = verify(&c, "VAULT_BINANCE_BASE_URL", &base, &[]);
    assert_eq!(code, 5, "{err}");
    assert!(!out.contains(KEY) && !err.contains(KEY), "{out}{err}");
    assert!(err.contains("<redacted:bot>"), "{err}");
}
