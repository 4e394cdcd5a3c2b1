//! `vault run --proxy`'s cost per request (issue #13 item 7), for benches/run.sh `proxy`.
//!
//! `proxy_bench serve`: a stand-in Binance on 127.0.0.1 (port printed on the first line) that
//! knows the real key and secret (two lines on stdin), checks every request's HMAC-SHA256
//! signature and answers 200 with a small account JSON, or 401.
//!
//! `proxy_bench client [BASE]`: the same signed `GET /api/v3/account` a ccxt bot sends, with
//! `EXCHANGE_KEY`/`EXCHANGE_SECRET`, to BASE (default: `$VAULT_PROXY_URL` + `api.binance.com`),
//! over keep-alive HTTP/1.1. Prints one JSON line: p50/p99 latency of 2,000 sequential
//! requests, then requests/s with 4 connections for 5 s, and the number of non-200 answers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use sha2::Sha256;

fn sign(secret: &str, payload: &str) -> String {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("hmac");
    m.update(payload.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

/// Reads one HTTP/1.1 message head and its Content-Length body.
fn read_message(r: &mut BufReader<TcpStream>) -> Option<(String, Vec<u8>)> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let len = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0usize);
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    Some((head, body))
}

fn serve() {
    let mut creds = String::new();
    std::io::stdin().read_to_string(&mut creds).expect("stdin");
    let mut it = creds.lines();
    let key = it.next().expect("key").to_string();
    let secret = it.next().expect("secret").to_string();
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    println!("{}", l.local_addr().expect("addr").port());
    for conn in l.incoming().flatten() {
        let (key, secret) = (key.clone(), secret.clone());
        std::thread::spawn(move || {
            let _ = conn.set_nodelay(true);
            let mut out = conn.try_clone().expect("clone");
            let mut r = BufReader::new(conn);
            while let Some((head, _)) = read_message(&mut r) {
                let target = head.split(' ').nth(1).unwrap_or("");
                let query = target.split_once('?').map(|x| x.1).unwrap_or("");
                let (payload, sig) = query.rsplit_once("&signature=").unwrap_or(("", ""));
                let key_ok = head.lines().any(|l| {
                    l.split_once(':').is_some_and(|(k, v)| {
                        k.eq_ignore_ascii_case("x-mbx-apikey") && v.trim() == key
                    })
                });
                let ok = key_ok && sign(&secret, payload) == sig;
                let body: &[u8] = if ok {
                    br#"{"canTrade":true,"balances":[{"asset":"USDT","free":"1000.0","locked":"0"}]}"#
                } else {
                    br#"{"code":-1022,"msg":"Signature for this request is not valid."}"#
                };
                let status = if ok { "200 OK" } else { "401 Unauthorized" };
                let resp = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                if out.write_all(&[resp.as_bytes(), body].concat()).is_err() {
                    return;
                }
            }
        });
    }
}

struct Client {
    host: String,
    prefix: String,
    key: String,
    secret: String,
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Client {
    fn new(base: &str, key: &str, secret: &str) -> Client {
        let rest = base.trim_start_matches("http://");
        let (host, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let s = TcpStream::connect(host).expect("connect");
        s.set_nodelay(true).expect("nodelay");
        Client {
            host: host.to_string(),
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("/{}", prefix.trim_end_matches('/'))
            },
            key: key.into(),
            secret: secret.into(),
            w: s.try_clone().expect("clone"),
            r: BufReader::new(s),
        }
    }

    /// One signed request; true when the answer is 200.
    fn account(&mut self, n: u64) -> bool {
        let q = format!("timestamp={}&recvWindow=5000", 1_700_000_000_000u64 + n);
        let sig = sign(&self.secret, &q);
        let req = format!(
            "GET {}/api/v3/account?{q}&signature={sig} HTTP/1.1\r\nHost: {}\r\nX-MBX-APIKEY: {}\r\nUser-Agent: proxy_bench\r\nAccept: */*\r\n\r\n",
            self.prefix, self.host, self.key
        );
        if self.w.write_all(req.as_bytes()).is_err() {
            return false;
        }
        matches!(read_message(&mut self.r), Some((head, _)) if head.starts_with("HTTP/1.1 200"))
    }
}

fn client(base: Option<String>) {
    let base = base.unwrap_or_else(|| {
        format!(
            "{}api.binance.com",
            std::env::var("VAULT_PROXY_URL").expect("VAULT_PROXY_URL")
        )
    });
    let key = std::env::var("EXCHANGE_KEY").expect("EXCHANGE_KEY");
    let secret = std::env::var("EXCHANGE_SECRET").expect("EXCHANGE_SECRET");
    let mut c = Client::new(&base, &key, &secret);
    let mut errors = 0u64;
    for i in 0..200 {
        errors += u64::from(!c.account(i));
    }
    let mut lat = Vec::with_capacity(2000);
    for i in 0..2000 {
        let t = Instant::now();
        errors += u64::from(!c.account(i));
        lat.push(t.elapsed());
    }
    lat.sort();
    let p = |q: f64| lat[((lat.len() as f64 - 1.0) * q) as usize].as_secs_f64() * 1e6;
    let until = Instant::now() + Duration::from_secs(5);
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (base, key, secret) = (base.clone(), key.clone(), secret.clone());
            std::thread::spawn(move || {
                let mut c = Client::new(&base, &key, &secret);
                let (mut n, mut e) = (0u64, 0u64);
                while Instant::now() < until {
                    e += u64::from(!c.account(w * 10_000_000 + n));
                    n += 1;
                }
                (n, e)
            })
        })
        .collect();
    let (mut total, mut errs) = (0, 0);
    for w in workers {
        let (n, e) = w.join().expect("worker");
        total += n;
        errs += e;
    }
    println!(
        "{{\"p50_us\": {:.0}, \"p99_us\": {:.0}, \"rps\": {:.0}, \"errors\": {}}}",
        p(0.5),
        p(0.99),
        total as f64 / 5.0,
        errors + errs
    );
}

fn main() {
    let mut a = std::env::args().skip(1);
    match a.next().as_deref() {
        Some("serve") => serve(),
        Some("client") => client(a.next()),
        _ => {
            eprintln!("usage: proxy_bench serve | proxy_bench client [BASE]");
            std::process::exit(2);
        }
    }
}
