//! The rules of `vault run --proxy`'s signing proxy, as pure functions: which hosts a bot may
//! reach, whether a request is the child's (signed with this run's stand-in secret), whether
//! policy lets it through, and the same bytes re-signed with the real key. The HTTP server and
//! the upstream HTTPS client are the CLI's (`vault-cli/src/cmd/run/proxy.rs`).
//!
//! Each exchange's part (hosts, ccxt's `urls['api']`, how it signs, its trading allow-list,
//! what is never allowed, and how to read an order) lives in its own module under
//! `exchange/`, in its [`ProxySpec`].
//!
//! Nothing here puts a secret, a signature or a query string into a reason.

use zeroize::Zeroizing;

use crate::exchange::Exchange;
use crate::model::StoredCredentials;
use crate::secret::{fill_random, SecretValue};
use crate::verify::{Creds, B64};

/// One request as the child sent it, with the exchange host already taken off the path.
pub struct Incoming<'a> {
    /// `GET`, `POST`, ...
    pub method: &'a str,
    /// The path on the exchange, from its first `/` (no query).
    pub path: &'a str,
    /// The query string without the `?` (may be empty).
    pub query: &'a str,
    /// The headers as sent (hop-by-hop ones already dropped).
    pub headers: &'a [(String, String)],
    /// The body, exactly as sent.
    pub body: &'a [u8],
}

impl Incoming<'_> {
    /// A header's value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn body_str(&self) -> Result<&str, String> {
        std::str::from_utf8(self.body).map_err(|_| "the request body is not UTF-8".to_string())
    }
}

/// The request to send upstream: the child's bytes with key, signature and passphrase
/// replaced by the real ones, signed over exactly these bytes.
pub struct Outgoing {
    /// The query string to send (Binance carries its signature here for GET and DELETE).
    pub query: String,
    /// Every header of the child's request, with the credential headers replaced.
    pub headers: Vec<(String, Zeroizing<String>)>,
    /// The body to send (Binance carries its signature here for POST and PUT).
    pub body: Vec<u8>,
}

impl std::fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Outgoing([REDACTED])")
    }
}

/// What the proxy does with one request.
#[derive(Debug)]
pub enum Verdict {
    /// No credentials claimed (market data): forward it unchanged.
    Public,
    /// The child's signed request, allowed by policy: forward this instead.
    Signed(Outgoing),
    /// 403: policy refuses it (the reason is for the child and the audit log).
    Refused(String),
    /// 401: it claims credentials but is not signed with this run's stand-in secret.
    Unauthorized(String),
}

/// The policy of one run (`--allow`, `--symbols`, `--max-notional`).
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// Extra private endpoints, as (METHOD, /path).
    pub allow: Vec<(String, String)>,
    /// Orders only for these symbols (normalized by [`normalize_symbol`]); empty: any.
    pub symbols: Vec<String>,
    /// Orders only up to this notional (price x quantity, or a quote quantity).
    pub max_notional: Option<f64>,
}

impl Rules {
    fn checks_orders(&self) -> bool {
        !self.symbols.is_empty() || self.max_notional.is_some()
    }
}

/// One order as read from a request: its symbol, and its notional when the request says it.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// The exchange's symbol, as sent.
    pub symbol: String,
    /// price x quantity, or the quote quantity; `None`: the request does not say.
    pub notional: Option<f64>,
}

/// What an exchange's order reader says: `None` when the request places no order; `Err`
/// when it does but cannot be read.
pub(crate) type OrdersOf = Option<Result<Vec<Order>, String>>;

/// One exchange's part of the proxy (in its module under `exchange/`).
pub(crate) struct ProxySpec {
    /// The hosts a bot may reach through the proxy (forwarded over HTTPS).
    pub hosts: &'static [&'static str],
    /// ccxt's `urls['api']` for this exchange (ccxt 4.5.90), each URL `https://`.
    pub ccxt_api: &'static str,
    /// Does the request claim credentials (a key header or a signature)?
    pub claims: fn(&Incoming<'_>) -> bool,
    /// Checks the stand-in signature, then signs the same bytes with the real credentials.
    /// `Err`: why the request is not this run's (401).
    pub resign: fn(&Incoming<'_>, &Creds<'_>, &Creds<'_>) -> Result<Outgoing, String>,
    /// The private endpoints trading needs, as (METHOD, /path).
    pub allowed: &'static [(&'static str, &'static str)],
    /// Lowercase path fragments never allowed (withdrawals, transfers, sub-accounts, keys).
    pub forbidden: &'static [&'static str],
    /// The orders a request places or changes: `None` when it places none; `Err` when it
    /// does but cannot be read (refused when `--symbols` or `--max-notional` is set).
    pub orders: fn(&Incoming<'_>) -> OrdersOf,
}

fn spec(ex: Exchange) -> Option<&'static ProxySpec> {
    ex.spec().proxy
}

/// Can `vault run --proxy` run a bot of this exchange?
pub fn supports(ex: Exchange) -> bool {
    spec(ex).is_some()
}

/// The exchanges the proxy supports.
pub fn supported() -> Vec<Exchange> {
    Exchange::ALL.into_iter().filter(|e| supports(*e)).collect()
}

/// The hosts a bot may reach through the proxy (empty when unsupported).
pub fn hosts(ex: Exchange) -> &'static [&'static str] {
    spec(ex).map(|s| s.hosts).unwrap_or(&[])
}

/// ccxt's `urls['api']` with every `https://` replaced by `proxy_url`
/// (`http://127.0.0.1:PORT/`), as freqtrade's `ccxt_config` carries it.
pub fn ccxt_urls(ex: Exchange, proxy_url: &str) -> Option<serde_json::Value> {
    fn rewrite(v: &mut serde_json::Value, to: &str) {
        match v {
            serde_json::Value::String(s) => {
                if let Some(rest) = s.strip_prefix("https://") {
                    *s = format!("{to}{rest}");
                }
            }
            serde_json::Value::Object(m) => m.values_mut().for_each(|x| rewrite(x, to)),
            _ => {}
        }
    }
    let mut v: serde_json::Value = serde_json::from_str(spec(ex)?.ccxt_api).ok()?;
    rewrite(&mut v, proxy_url);
    Some(v)
}

/// `BTC/USDT`, `BTC/USDT:USDT`, `BTC-USDT`, `BTC-USDT-SWAP` and `btcusdt` are all `BTCUSDT`.
pub fn normalize_symbol(s: &str) -> String {
    let s = s.split(':').next().unwrap_or(s).to_ascii_uppercase();
    let s = s.strip_suffix("-SWAP").unwrap_or(&s);
    s.chars().filter(char::is_ascii_alphanumeric).collect()
}

/// A path the proxy forwards: absolute, and nothing an exchange's front end could read as
/// another path (`..`, `.`, `//`, percent-escapes, backslashes).
fn path_is_plain(p: &str) -> bool {
    p.starts_with('/')
        && !p.contains("//")
        && !p.contains('%')
        && !p.contains('\\')
        && p.split('/').all(|seg| seg != "." && seg != "..")
        && p.bytes().all(|b| b.is_ascii_graphic())
}

/// An allow-list path: exact, where a `*` segment stands for one segment (an order id).
fn path_matches(pattern: &str, path: &str) -> bool {
    let (mut a, mut b) = (pattern.split('/'), path.split('/'));
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some("*"), Some(seg)) if !seg.is_empty() => {}
            (Some(x), Some(y)) if x == y => {}
            _ => return false,
        }
    }
}

/// Decides one request (see [`Verdict`]).
pub fn decide(
    ex: Exchange,
    req: &Incoming<'_>,
    standin: &Creds<'_>,
    real: &Creds<'_>,
    rules: &Rules,
) -> Verdict {
    let Some(p) = spec(ex) else {
        return Verdict::Refused(format!("the signing proxy does not support {ex}"));
    };
    if !path_is_plain(req.path) || !req.method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Verdict::Refused(
            "the method and path must be plain (no `..`, `//`, escapes or control characters)"
                .to_string(),
        );
    }
    let what = format!("{} {}", req.method, req.path);
    let lower = req.path.to_ascii_lowercase();
    if p.forbidden.iter().any(|f| lower.contains(f)) {
        return Verdict::Refused(format!(
            "{what}: withdrawals, transfers, sub-account and API-key management never pass the proxy"
        ));
    }
    if !(p.claims)(req) {
        return Verdict::Public;
    }
    let out = match (p.resign)(req, standin, real) {
        Ok(o) => o,
        Err(why) => return Verdict::Unauthorized(why),
    };
    let allowed =
        p.allowed
            .iter()
            .any(|(m, path)| m.eq_ignore_ascii_case(req.method) && path_matches(path, req.path))
            || rules.allow.iter().any(|(m, path)| {
                m.eq_ignore_ascii_case(req.method) && path_matches(path, req.path)
            });
    if !allowed {
        return Verdict::Refused(format!(
            "{what} is not on {ex}'s trading allow-list; pass --allow {}:{} to permit it",
            req.method, req.path
        ));
    }
    if rules.checks_orders() {
        match (p.orders)(req) {
            None => {}
            Some(Err(why)) => {
                return Verdict::Refused(format!(
                    "{what}: {why}, and --symbols/--max-notional need to read every order"
                ))
            }
            Some(Ok(orders)) => {
                for o in orders {
                    if let Some(why) = order_refusal(&o, rules) {
                        return Verdict::Refused(format!("{what}: {why}"));
                    }
                }
            }
        }
    }
    Verdict::Signed(out)
}

fn order_refusal(o: &Order, rules: &Rules) -> Option<String> {
    let sym = normalize_symbol(&o.symbol);
    if !rules.symbols.is_empty() && !rules.symbols.contains(&sym) {
        return Some(format!(
            "an order for {} is outside --symbols {}",
            o.symbol,
            rules.symbols.join(",")
        ));
    }
    match (rules.max_notional, o.notional) {
        (Some(max), Some(n)) if n.is_nan() || n > max => Some(format!(
            "an order of notional {n} is above --max-notional {max}"
        )),
        (Some(max), None) => Some(format!(
            "the notional of this {} order cannot be computed from the request (give a price, or a quote quantity), and --max-notional {max} is set",
            o.symbol
        )),
        _ => None,
    }
}

/// Per-run stand-in credentials with the real ones' shape: same length and alphabet (hex
/// stays hex, a UUID stays a UUID, base64 stays base64 of the same length). Never equal to
/// the real values.
pub fn stand_in(real: &StoredCredentials) -> crate::Result<StoredCredentials> {
    let one = |v: &SecretValue| -> crate::Result<SecretValue> {
        loop {
            let s = shaped_like(v.expose())?;
            if s.expose() != v.expose() {
                return Ok(s);
            }
        }
    };
    // A Coinbase CDP key: its name keeps the `organizations/…/apiKeys/…` words, and its
    // secret is a fresh P-256 key (the child signs ES256 JWTs with it).
    let key = match real.key.expose().split('/').collect::<Vec<_>>().as_slice() {
        ["organizations", org, "apiKeys", id] => SecretValue::new(format!(
            "organizations/{}/apiKeys/{}",
            shaped_like(org)?.expose(),
            shaped_like(id)?.expose()
        )),
        _ => one(&real.key)?,
    };
    let secret = if real.secret.expose().trim_start().starts_with("-----BEGIN") {
        let k = p256::SecretKey::random(&mut chacha20poly1305::aead::OsRng);
        // PKCS#8: what `cryptography` (ccxt) and p256 both read.
        let pem = p256::pkcs8::EncodePrivateKey::to_pkcs8_pem(&k, p256::pkcs8::LineEnding::LF)
            .map_err(|_| crate::Error::Crypto("cannot make a stand-in EC key"))?;
        SecretValue::new(pem.to_string())
    } else {
        one(&real.secret)?
    };
    Ok(StoredCredentials {
        key,
        secret,
        passphrase: real.passphrase.as_ref().map(one).transpose()?,
        uid: real.uid.clone(),
    })
}

fn shaped_like(real: &str) -> crate::Result<SecretValue> {
    const LOWER_HEX: &[u8] = b"0123456789abcdef";
    const UPPER_HEX: &[u8] = b"0123456789ABCDEF";
    const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let is_b64 = real.len().is_multiple_of(4)
        && real.contains(['+', '/', '='])
        && base64::Engine::decode(&B64, real).is_ok();
    if is_b64 {
        let n = base64::Engine::decode(&B64, real)
            .map(|b| b.len())
            .unwrap_or(0);
        let mut raw = Zeroizing::new(vec![0u8; n]);
        fill_random(&mut raw)?;
        return Ok(SecretValue::new(base64::Engine::encode(&B64, &*raw)));
    }
    let alnum = || real.chars().filter(char::is_ascii_alphanumeric);
    let set: &[u8] = if alnum().all(|c| LOWER_HEX.contains(&(c as u8))) {
        LOWER_HEX
    } else if alnum().all(|c| UPPER_HEX.contains(&(c as u8))) {
        UPPER_HEX
    } else {
        ALNUM
    };
    let mut rnd = Zeroizing::new(vec![0u8; real.len()]);
    fill_random(&mut rnd)?;
    let mut out = Zeroizing::new(String::with_capacity(real.len()));
    for (c, r) in real.chars().zip(rnd.iter()) {
        // 256 is not a multiple of 16 or 62: reject-free but slightly biased for ALNUM, which
        // does not matter for a value that only has to be unguessable (>= 5.9 bits a char).
        out.push(if c.is_ascii_alphanumeric() {
            set[usize::from(*r) % set.len()] as char
        } else {
            c
        });
    }
    Ok(SecretValue::new(std::mem::take(&mut *out)))
}

// ---- helpers for the exchange modules ----

/// Constant-time equality of two byte strings.
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// How an exchange writes its HMAC: the hash, and hex or base64.
#[derive(Clone, Copy)]
pub(crate) enum Tag {
    HexSha256,
    HexSha384,
    HexSha512,
    B64Sha256,
    B64Sha512,
}

/// Checks that `sig` is the exchange's HMAC of the stand-in's message under the stand-in
/// secret (constant time), then returns the HMAC of the real message under the real secret,
/// written the same way. Each side is (secret, message); the messages differ only where an
/// exchange signs the key itself (Bybit). `Err`: the request is not this run's.
pub(crate) fn resign_tag(
    tag: Tag,
    sig: &str,
    stand: (&[u8], &[u8]),
    real: (&[u8], &[u8]),
) -> Result<String, String> {
    use crate::verify::{hmac_sha256, hmac_sha384, hmac_sha512};
    let mac = |(k, msg): (&[u8], &[u8])| match tag {
        Tag::HexSha256 | Tag::B64Sha256 => hmac_sha256(k, msg),
        Tag::HexSha384 => hmac_sha384(k, msg),
        Tag::HexSha512 | Tag::B64Sha512 => hmac_sha512(k, msg),
    };
    let hex_tag = matches!(tag, Tag::HexSha256 | Tag::HexSha384 | Tag::HexSha512);
    let sent = if hex_tag {
        hex::decode(sig).map_err(|_| "the signature is not hex".to_string())?
    } else {
        base64::Engine::decode(&B64, sig).map_err(|_| "the signature is not base64".to_string())?
    };
    if !same(&sent, &mac(stand)) {
        return Err("the signature is not this run's (signed with another secret?)".into());
    }
    let real = mac(real);
    Ok(if hex_tag {
        hex::encode(real)
    } else {
        b64(&real)
    })
}

/// The request's key header must hold this run's stand-in key.
pub(crate) fn stand_in_key(
    r: &Incoming<'_>,
    header: &str,
    stand: &Creds<'_>,
) -> Result<(), String> {
    if r.header(header) == Some(stand.key) {
        Ok(())
    } else {
        Err(format!("{header} is not this run's key"))
    }
}

/// A header the signature needs.
pub(crate) fn needed<'r>(r: &'r Incoming<'_>, header: &str) -> Result<&'r str, String> {
    r.header(header)
        .ok_or_else(|| format!("the request has no {header}"))
}

/// The passphrase header as sent, with the stand-in's and the real passphrase.
pub(crate) fn passphrases<'r, 'c>(
    r: &'r Incoming<'_>,
    header: &str,
    stand: &Creds<'c>,
    real: &Creds<'c>,
) -> Result<(&'r str, &'c str, &'c str), String> {
    match (r.header(header), stand.passphrase, real.passphrase) {
        (Some(sent), Some(s), Some(r)) => Ok((sent, s, r)),
        _ => Err(format!("the request has no {header}")),
    }
}

/// `?query`, or nothing when there is none (what OKX, KuCoin and Bitget append to the path).
pub(crate) fn query_suffix(query: &str) -> String {
    if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    }
}

/// The child's request with only some headers replaced (query and body exactly as sent).
pub(crate) fn swapped(r: &Incoming<'_>, replace: &[(&str, &str)]) -> Outgoing {
    Outgoing {
        query: r.query.to_string(),
        headers: with_headers(r, replace),
        body: r.body.to_vec(),
    }
}

/// The headers with `replace`'s names given new values (case-insensitive), all others kept.
pub(crate) fn with_headers(
    req: &Incoming<'_>,
    replace: &[(&str, &str)],
) -> Vec<(String, Zeroizing<String>)> {
    req.headers
        .iter()
        .map(|(k, v)| {
            let new = replace
                .iter()
                .find(|(n, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, x)| *x)
                .unwrap_or(v);
            (k.clone(), Zeroizing::new(new.to_string()))
        })
        .collect()
}

/// The byte range of parameter `name`'s value in a form-encoded string.
pub(crate) fn param_span(s: &str, name: &str) -> Option<std::ops::Range<usize>> {
    let mut at = 0;
    for part in s.split('&') {
        if let Some(v) = part.strip_prefix(name).and_then(|r| r.strip_prefix('=')) {
            let start = at + name.len() + 1;
            return Some(start..start + v.len());
        }
        at += part.len() + 1;
    }
    None
}

/// `s` without parameter `name` (and the `&` that joined it).
pub(crate) fn without_param(s: &str, name: &str) -> String {
    s.split('&')
        .filter(|p| !p.starts_with(&format!("{name}=")))
        .collect::<Vec<_>>()
        .join("&")
}

/// The form-encoded parameters of a query and a body, percent-decoded.
pub(crate) fn form_params(parts: &[&str]) -> Vec<(String, String)> {
    parts
        .iter()
        .flat_map(|s| s.split('&'))
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// A query string with its percent-escapes (and `+`) decoded, as Bitget signs it.
pub(crate) fn percent_decoded(s: &str) -> String {
    percent_decode(s)
}

fn percent_decode(s: &str) -> String {
    let hex = |c: u8| (c as char).to_digit(16);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match (
            b[i],
            b.get(i + 1).and_then(|c| hex(*c)),
            b.get(i + 2).and_then(|c| hex(*c)),
        ) {
            (b'+', _, _) => out.push(b' '),
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                i += 2;
            }
            (c, _, _) => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A number from a JSON value that may be a string (exchanges send "0.001").
pub(crate) fn num(v: Option<&serde_json::Value>) -> Option<f64> {
    match v? {
        serde_json::Value::String(s) => s.trim().parse().ok(),
        serde_json::Value::Number(n) => n.as_f64(),
        _ => None,
    }
    .filter(|x: &f64| x.is_finite())
}

/// A number from form parameters.
pub(crate) fn form_num(params: &[(String, String)], name: &str) -> Option<f64> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .and_then(|(_, v)| v.trim().parse::<f64>().ok())
        .filter(|x| x.is_finite())
}

/// The JSON body of an order request.
pub(crate) fn json_body(req: &Incoming<'_>) -> Result<serde_json::Value, String> {
    serde_json::from_str(req.body_str()?).map_err(|_| "the order body is not JSON".to_string())
}

/// The body as text, for the exchange modules' signers.
/// The text OKX, KuCoin and Bitget sign: the timestamp header, the method, the path, `?query`
/// when there is one (the caller passes it as the exchange reads it), and the body as sent.
pub(crate) fn ts_method_path_body(
    r: &Incoming<'_>,
    ts_header: &str,
    query: &str,
) -> Result<String, String> {
    Ok(format!(
        "{}{}{}{}{}",
        needed(r, ts_header)?,
        r.method,
        r.path,
        query_suffix(query),
        r.body_str()?
    ))
}

/// Base64 of HMAC-SHA256, OKX style.
pub(crate) fn b64(bytes: &[u8]) -> String {
    base64::Engine::encode(&B64, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::hmac_sha256;

    const STAND: Creds<'static> = Creds {
        key: "STANDINKEYmv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8",
        secret: "STANDINSECRETdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H",
        passphrase: Some("standinPass"),
    };

    fn h(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    fn signed(v: Verdict) -> Outgoing {
        match v {
            Verdict::Signed(o) => o,
            other => panic!("not forwarded: {other:?}"),
        }
    }

    fn header<'a>(o: &'a Outgoing, name: &str) -> &'a str {
        o.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .expect("header")
    }

    // Binance's official vector with the signature in the body and part of the parameters in
    // the query (shared/reference/exchanges.md: "concatenated with NO '&'"): the proxy's
    // re-signed request carries exactly the signature Binance documents.
    #[test]
    fn binance_re_signs_query_plus_body_to_the_official_vector() {
        let real = Creds {
            key: "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
            secret: "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
            passphrase: None,
        };
        let query = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC";
        let body_params = "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
        let stand_sig = hex::encode(hmac_sha256(
            STAND.secret.as_bytes(),
            format!("{query}{body_params}").as_bytes(),
        ));
        let body = format!("{body_params}&signature={stand_sig}");
        let headers = [
            h("X-MBX-APIKEY", STAND.key),
            h("Content-Type", "application/x-www-form-urlencoded"),
        ];
        let req = Incoming {
            method: "POST",
            path: "/api/v3/order",
            query,
            headers: &headers,
            body: body.as_bytes(),
        };
        let rules = Rules {
            symbols: vec!["LTCBTC".into()],
            max_notional: Some(1.0),
            ..Rules::default()
        };
        let o = signed(decide(Exchange::Binance, &req, &STAND, &real, &rules));
        assert_eq!(o.query, query);
        assert_eq!(
            String::from_utf8(o.body.clone()).expect("utf-8"),
            format!("{body_params}&signature=0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77")
        );
        assert_eq!(header(&o, "X-MBX-APIKEY"), real.key);
        assert_eq!(
            header(&o, "content-type"),
            "application/x-www-form-urlencoded"
        );
    }

    // Binance's official vector with everything in the query (GET/DELETE style).
    #[test]
    fn binance_re_signs_a_query_to_the_official_vector() {
        let real = Creds {
            key: "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
            secret: "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
            passphrase: None,
        };
        let payload = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
        let stand_sig = hex::encode(hmac_sha256(STAND.secret.as_bytes(), payload.as_bytes()));
        let query = format!("{payload}&signature={stand_sig}");
        let headers = [h("X-MBX-APIKEY", STAND.key)];
        let req = Incoming {
            method: "DELETE",
            path: "/api/v3/order",
            query: &query,
            headers: &headers,
            body: b"",
        };
        let o = signed(decide(
            Exchange::Binance,
            &req,
            &STAND,
            &real,
            &Rules::default(),
        ));
        assert_eq!(
            o.query,
            format!("{payload}&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71")
        );
    }

    // The computed Bybit vector (ccxt = Python hmac = openssl): the key is inside what is
    // signed, so the real key must be.
    #[test]
    fn bybit_re_signs_to_the_reference_vector_with_the_real_key_inside() {
        let real = Creds {
            key: "vaultTestKey",
            secret: "vaultTestSecret",
            passphrase: None,
        };
        let stand_sig = hex::encode(hmac_sha256(
            STAND.secret.as_bytes(),
            format!("1700000000000{}5000", STAND.key).as_bytes(),
        ));
        let headers = [
            h("X-BAPI-API-KEY", STAND.key),
            h("X-BAPI-TIMESTAMP", "1700000000000"),
            h("X-BAPI-RECV-WINDOW", "5000"),
            h("X-BAPI-SIGN", &stand_sig),
        ];
        let req = Incoming {
            method: "GET",
            path: "/v5/user/query-api",
            query: "",
            headers: &headers,
            body: b"",
        };
        let o = signed(decide(
            Exchange::Bybit,
            &req,
            &STAND,
            &real,
            &Rules::default(),
        ));
        assert_eq!(
            header(&o, "X-BAPI-SIGN"),
            "22417f73ec55f001061f00800e5a6af8370dc7da446a5dd96e7f1cb62d35f259"
        );
        assert_eq!(header(&o, "X-BAPI-API-KEY"), "vaultTestKey");
        assert_eq!(header(&o, "X-BAPI-TIMESTAMP"), "1700000000000");
    }

    // The computed OKX vector: key, passphrase and signature are all replaced.
    #[test]
    fn okx_re_signs_to_the_reference_vector() {
        let real = Creds {
            key: "vaultTestKey",
            secret: "vaultTestSecret",
            passphrase: Some("vaultTestPass"),
        };
        let ts = "2023-11-14T22:13:20.000Z";
        let stand_sig = b64(&hmac_sha256(
            STAND.secret.as_bytes(),
            format!("{ts}GET/api/v5/account/config").as_bytes(),
        ));
        let headers = [
            h("OK-ACCESS-KEY", STAND.key),
            h("OK-ACCESS-PASSPHRASE", "standinPass"),
            h("OK-ACCESS-TIMESTAMP", ts),
            h("OK-ACCESS-SIGN", &stand_sig),
        ];
        let req = Incoming {
            method: "GET",
            path: "/api/v5/account/config",
            query: "",
            headers: &headers,
            body: b"",
        };
        let o = signed(decide(
            Exchange::Okx,
            &req,
            &STAND,
            &real,
            &Rules::default(),
        ));
        assert_eq!(
            header(&o, "OK-ACCESS-SIGN"),
            "oVRjRxK2rAJ/v5RhRTgIW827YMZ0A/USXIWMosjCpy0="
        );
        assert_eq!(header(&o, "OK-ACCESS-KEY"), "vaultTestKey");
        assert_eq!(header(&o, "OK-ACCESS-PASSPHRASE"), "vaultTestPass");
        // A wrong stand-in passphrase is not this run's request.
        let mut bad = headers.clone();
        bad[1] = h("OK-ACCESS-PASSPHRASE", "guess");
        let req = Incoming {
            headers: &bad,
            ..req
        };
        assert!(matches!(
            decide(Exchange::Okx, &req, &STAND, &real, &Rules::default()),
            Verdict::Unauthorized(_)
        ));
    }

    #[test]
    fn a_star_in_an_allow_list_path_is_exactly_one_segment() {
        assert!(path_matches("/api/v1/orders/*", "/api/v1/orders/abc123"));
        assert!(!path_matches("/api/v1/orders/*", "/api/v1/orders"));
        assert!(!path_matches("/api/v1/orders/*", "/api/v1/orders/"));
        assert!(!path_matches("/api/v1/orders/*", "/api/v1/orders/a/b"));
        assert!(path_matches("/api/v1/orders", "/api/v1/orders"));
        assert!(!path_matches("/api/v1/orders", "/api/v1/orders/x"));
    }

    #[test]
    fn a_refusal_never_echoes_control_characters_from_the_request() {
        for (m, p) in [
            ("GET", "/api/v3/\u{1b}[2J"),
            ("G\u{1b}T", "/api/v3/account"),
        ] {
            let req = Incoming {
                method: m,
                path: p,
                query: "",
                headers: &[],
                body: b"",
            };
            match decide(Exchange::Binance, &req, &STAND, &STAND, &Rules::default()) {
                Verdict::Refused(r) => assert!(!r.chars().any(char::is_control), "{r:?}"),
                v => panic!("{v:?}"),
            }
        }
    }

    #[test]
    fn allow_adds_an_endpoint_to_the_allow_list() {
        let q = "timestamp=1";
        let sig = hex::encode(hmac_sha256(STAND.secret.as_bytes(), q.as_bytes()));
        let query = format!("{q}&signature={sig}");
        let headers = [h("X-MBX-APIKEY", STAND.key)];
        let req = Incoming {
            method: "GET",
            path: "/sapi/v1/account/status",
            query: &query,
            headers: &headers,
            body: b"",
        };
        let v = decide(Exchange::Binance, &req, &STAND, &STAND, &Rules::default());
        assert!(
            matches!(&v, Verdict::Refused(r) if r.contains("--allow GET:/sapi/v1/account/status")),
            "{v:?}"
        );
        let rules = Rules {
            allow: vec![("GET".into(), "/sapi/v1/account/status".into())],
            ..Rules::default()
        };
        assert!(matches!(
            decide(Exchange::Binance, &req, &STAND, &STAND, &rules),
            Verdict::Signed(_)
        ));
    }

    fn resign_of(
        ex: Exchange,
    ) -> fn(&Incoming<'_>, &Creds<'_>, &Creds<'_>) -> Result<Outgoing, String> {
        spec(ex).expect("supported").resign
    }

    // The reference KuCoin vector (ccxt = Python hmac): signature and the HMAC'd passphrase
    // of key version 2. (Its endpoint is key management, which policy refuses; the signer
    // is checked on its own.) ccxt's partner headers are dropped.
    #[test]
    fn kucoin_re_signs_to_the_reference_vector_with_the_passphrase_hmacd() {
        let real = Creds {
            key: "vaultTestKey",
            secret: "vaultTestSecret",
            passphrase: Some("vaultTestPass"),
        };
        let pre = "1700000000000GET/api/v1/user/api-key";
        let sig = b64(&hmac_sha256(STAND.secret.as_bytes(), pre.as_bytes()));
        let pass = b64(&hmac_sha256(STAND.secret.as_bytes(), b"standinPass"));
        let headers = [
            h("KC-API-KEY", STAND.key),
            h("KC-API-KEY-VERSION", "2"),
            h("KC-API-TIMESTAMP", "1700000000000"),
            h("KC-API-PASSPHRASE", &pass),
            h("KC-API-SIGN", &sig),
            h("KC-API-PARTNER", "ccxt"),
            h("KC-API-PARTNER-SIGN", "x"),
        ];
        let req = Incoming {
            method: "GET",
            path: "/api/v1/user/api-key",
            query: "",
            headers: &headers,
            body: b"",
        };
        let o = resign_of(Exchange::Kucoin)(&req, &STAND, &real).expect("re-signed");
        assert_eq!(
            header(&o, "KC-API-SIGN"),
            "I33S8GCq1L/N3YiqninVj2Xh5ln5idilNxY2wBgAX8U="
        );
        assert_eq!(
            header(&o, "KC-API-PASSPHRASE"),
            "oyvBwW+9ROrgeccULdBtvkvTYrbRok3QcU+4J+1BGLY="
        );
        assert_eq!(header(&o, "KC-API-KEY"), "vaultTestKey");
        assert!(o
            .headers
            .iter()
            .all(|(k, _)| !k.starts_with("KC-API-PARTNER")));
        let v = decide(Exchange::Kucoin, &req, &STAND, &real, &Rules::default());
        assert!(
            matches!(v, Verdict::Refused(_)),
            "key management never passes"
        );
    }

    // The reference Bitget vector (ccxt = Python hmac).
    #[test]
    fn bitget_re_signs_to_the_reference_vector() {
        let real = Creds {
            key: "vaultTestKey",
            secret: "vaultTestSecret",
            passphrase: Some("vaultTestPass"),
        };
        let pre = "1700000000000GET/api/v2/spot/account/info";
        let sig = b64(&hmac_sha256(STAND.secret.as_bytes(), pre.as_bytes()));
        let headers = [
            h("ACCESS-KEY", STAND.key),
            h("ACCESS-TIMESTAMP", "1700000000000"),
            h("ACCESS-PASSPHRASE", "standinPass"),
            h("ACCESS-SIGN", &sig),
        ];
        let req = Incoming {
            method: "GET",
            path: "/api/v2/spot/account/info",
            query: "",
            headers: &headers,
            body: b"",
        };
        let o = signed(decide(
            Exchange::Bitget,
            &req,
            &STAND,
            &real,
            &Rules::default(),
        ));
        assert_eq!(
            header(&o, "ACCESS-SIGN"),
            "rtSzguf7lIvhV4DIEh/f5JHtQd2qRAQHkFw/u2xHuGE="
        );
        assert_eq!(header(&o, "ACCESS-PASSPHRASE"), "vaultTestPass");
    }

    // Kraken's published AddOrder example: the real secret is the docs' one, and the
    // re-signed request carries the docs' signature. The order is within the policy.
    #[test]
    fn kraken_re_signs_an_order_to_the_published_example() {
        let secret = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==";
        let real = Creds {
            key: "vaultTestKey",
            secret,
            passphrase: None,
        };
        let stand = Creds {
            key: STAND.key,
            secret:
                "c3RhbmRpbi1zZWNyZXQtZm9yLWtyYWtlbi1wcm94eS10ZXN0cy0wMTIzNDU2Nzg5MDEyMzQ1Njc4OQ==",
            passphrase: None,
        };
        let body =
            "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25";
        let mut msg = b"/0/private/AddOrder".to_vec();
        msg.extend_from_slice(&<sha2::Sha256 as sha2::Digest>::digest(
            format!("1616492376594{body}").as_bytes(),
        ));
        let key = base64::Engine::decode(&B64, stand.secret).expect("base64");
        let sig = b64(&crate::verify::hmac_sha512(&key, &msg));
        let headers = [h("API-Key", STAND.key), h("API-Sign", &sig)];
        let req = Incoming {
            method: "POST",
            path: "/0/private/AddOrder",
            query: "",
            headers: &headers,
            body: body.as_bytes(),
        };
        let rules = Rules {
            symbols: vec!["BTCUSD".into()],
            max_notional: Some(50_000.0),
            ..Rules::default()
        };
        let o = signed(decide(Exchange::Kraken, &req, &stand, &real, &rules));
        assert_eq!(
            header(&o, "API-Sign"),
            "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
        );
        assert_eq!(header(&o, "API-Key"), "vaultTestKey");
        let tight = Rules {
            max_notional: Some(40_000.0),
            ..Rules::default()
        };
        assert!(matches!(
            decide(Exchange::Kraken, &req, &stand, &real, &tight),
            Verdict::Refused(_)
        ));
    }

    // The reference Bitfinex vector (ccxt = Python hmac = openssl); its endpoint (key
    // permissions) is one policy refuses, so the signer is checked on its own.
    #[test]
    fn bitfinex_re_signs_to_the_reference_vector() {
        let real = Creds {
            key: "vaultTestKey",
            secret: "vaultTestSecret",
            passphrase: None,
        };
        let payload = "/api/v2/auth/r/permissions1700000000000{}";
        let sig = hex::encode(crate::verify::hmac_sha384(
            STAND.secret.as_bytes(),
            payload.as_bytes(),
        ));
        let headers = [
            h("bfx-apikey", STAND.key),
            h("bfx-nonce", "1700000000000"),
            h("bfx-signature", &sig),
        ];
        let req = Incoming {
            method: "POST",
            path: "/v2/auth/r/permissions",
            query: "",
            headers: &headers,
            body: b"{}",
        };
        let o = resign_of(Exchange::Bitfinex)(&req, &STAND, &real).expect("re-signed");
        assert_eq!(
            header(&o, "bfx-signature"),
            "00ee00a7ea7ed5e426d70893238eee6e514efd3c7278f5879f0057bfe634097db8ab0d33079826dddcdef741b56cd746"
        );
        assert!(matches!(
            decide(Exchange::Bitfinex, &req, &STAND, &real, &Rules::default()),
            Verdict::Refused(_)
        ));
    }

    // Gate's official vector (key "key", secret "secret"): the query is signed as sent.
    #[test]
    fn gate_re_signs_to_the_official_vector() {
        let real = Creds {
            key: "key",
            secret: "secret",
            passphrase: None,
        };
        let query = "contract=BTC_USD&status=finished&limit=50";
        let empty = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";
        let s = format!("GET\n/api/v4/futures/orders\n{query}\n{empty}\n1541993715");
        let sig = hex::encode(crate::verify::hmac_sha512(
            STAND.secret.as_bytes(),
            s.as_bytes(),
        ));
        let headers = [
            h("KEY", STAND.key),
            h("Timestamp", "1541993715"),
            h("SIGN", &sig),
        ];
        let req = Incoming {
            method: "GET",
            path: "/api/v4/futures/orders",
            query,
            headers: &headers,
            body: b"",
        };
        let o = resign_of(Exchange::Gate)(&req, &STAND, &real).expect("re-signed");
        assert_eq!(
            header(&o, "SIGN"),
            "55f84ea195d6fe57ce62464daaa7c3c02fa9d1dde954e4c898289c9a2407a3d6fb3faf24deff16790d726b66ac9f74526668b13bd01029199cc4fcc522418b8a"
        );
        assert_eq!(header(&o, "KEY"), "key");
    }

    #[test]
    fn withdrawals_are_refused_before_anything_else_even_when_allowed() {
        let headers = [h("X-MBX-APIKEY", STAND.key)];
        let req = Incoming {
            method: "POST",
            path: "/sapi/v1/capital/withdraw/apply",
            query: "",
            headers: &headers,
            body: b"coin=USDT&signature=00",
        };
        let rules = Rules {
            allow: vec![("POST".into(), "/sapi/v1/capital/withdraw/apply".into())],
            ..Rules::default()
        };
        let v = decide(Exchange::Binance, &req, &STAND, &STAND, &rules);
        assert!(
            matches!(&v, Verdict::Refused(r) if r.contains("never pass")),
            "{v:?}"
        );
    }

    #[test]
    fn an_order_whose_notional_is_unknown_is_refused_only_under_max_notional() {
        let body = r#"{"instId":"BTC-USDT-SWAP","tdMode":"cross","side":"buy","ordType":"market","sz":"3"}"#;
        let ts = "2023-11-14T22:13:20.000Z";
        let sig = b64(&hmac_sha256(
            STAND.secret.as_bytes(),
            format!("{ts}POST/api/v5/trade/order{body}").as_bytes(),
        ));
        let headers = [
            h("OK-ACCESS-KEY", STAND.key),
            h("OK-ACCESS-PASSPHRASE", "standinPass"),
            h("OK-ACCESS-TIMESTAMP", ts),
            h("OK-ACCESS-SIGN", &sig),
        ];
        let req = Incoming {
            method: "POST",
            path: "/api/v5/trade/order",
            query: "",
            headers: &headers,
            body: body.as_bytes(),
        };
        assert!(matches!(
            decide(Exchange::Okx, &req, &STAND, &STAND, &Rules::default()),
            Verdict::Signed(_)
        ));
        let symbols = Rules {
            symbols: vec!["BTCUSDT".into()],
            ..Rules::default()
        };
        assert!(matches!(
            decide(Exchange::Okx, &req, &STAND, &STAND, &symbols),
            Verdict::Signed(_)
        ));
        let capped = Rules {
            max_notional: Some(1e9),
            ..Rules::default()
        };
        let v = decide(Exchange::Okx, &req, &STAND, &STAND, &capped);
        assert!(
            matches!(&v, Verdict::Refused(r) if r.contains("cannot be computed")),
            "{v:?}"
        );
    }

    proptest::proptest! {
        // Whatever a local process sends, deciding never panics.
        #[test]
        fn deciding_never_panics(
            method in "(GET|POST|DELETE|PUT|[A-Z]{0,6})",
            path in "(/api/v3/order|/v5/order/create|/api/v5/trade/order|/[ -~]{0,40})",
            query in "[ -~]{0,80}",
            hk in proptest::collection::vec("(X-MBX-APIKEY|X-BAPI-API-KEY|X-BAPI-SIGN|X-BAPI-TIMESTAMP|OK-ACCESS-KEY|OK-ACCESS-SIGN|OK-ACCESS-PASSPHRASE|OK-ACCESS-TIMESTAMP|[A-Za-z-]{1,12})", 0..6),
            hv in proptest::collection::vec("[ -~]{0,70}", 6),
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
        ) {
            let headers: Vec<(String, String)> = hk.iter().zip(&hv).map(|(k, v)| (k.clone(), v.clone())).collect();
            let req = Incoming { method: &method, path: &path, query: &query, headers: &headers, body: &body };
            let rules = Rules { allow: vec![], symbols: vec!["BTCUSDT".into()], max_notional: Some(10.0) };
            for ex in Exchange::ALL {
                let _ = decide(ex, &req, &STAND, &STAND, &rules);
                let _ = decide(ex, &req, &STAND, &STAND, &Rules::default());
            }
        }
    }

    #[test]
    fn symbols_in_every_notation_normalize_alike() {
        for s in [
            "BTC/USDT",
            "BTC/USDT:USDT",
            "BTC-USDT",
            "BTC-USDT-SWAP",
            "btcusdt",
        ] {
            assert_eq!(normalize_symbol(s), "BTCUSDT", "{s}");
        }
    }

    #[test]
    fn paths_that_could_mean_another_path_are_not_plain() {
        assert!(path_is_plain("/api/v3/order"));
        for p in [
            "api/v3/order",
            "/api/v3/../../sapi/v1/capital/withdraw/apply",
            "/api/./v3",
            "//api",
            "/api/v3/%2e%2e/x",
            "/a\\b",
            "/a b",
        ] {
            assert!(!path_is_plain(p), "{p}");
        }
    }

    #[test]
    fn stand_ins_keep_the_shape_and_never_equal_the_real_value() {
        let real = StoredCredentials {
            key: "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A".into(),
            secret: "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==".into(),
            passphrase: Some("7f3e2c1a-0b9d-4e8f-a6c5-d4b3a2918070".into()),
            uid: None,
        };
        let s = stand_in(&real).expect("stand-in");
        assert_ne!(s.key.expose(), real.key.expose());
        assert_eq!(s.key.len(), real.key.len());
        assert!(s.key.expose().chars().all(|c| c.is_ascii_alphanumeric()));
        let b = base64::Engine::decode(&B64, s.secret.expose()).expect("base64 stays base64");
        assert_eq!(b.len(), 64);
        assert_eq!(s.secret.len(), real.secret.len());
        let p = s.passphrase.expect("passphrase");
        assert_eq!(p.len(), 36);
        assert_eq!(p.expose().matches('-').count(), 4);
        assert!(p
            .expose()
            .chars()
            .all(|c| c == '-' || "0123456789abcdef".contains(c)));
    }

    #[test]
    fn form_parameters_are_found_and_removed_exactly() {
        let q = "symbol=BTCUSDT&timestamp=1&signature=abcd";
        let r = param_span(q, "signature").expect("span");
        assert_eq!(&q[r], "abcd");
        assert_eq!(without_param(q, "signature"), "symbol=BTCUSDT&timestamp=1");
        assert_eq!(param_span("xsignature=1", "signature"), None);
        let p = form_params(&["a=1%2C2&b=x+y", "c=%zz"]);
        assert_eq!(p[0], ("a".into(), "1,2".into()));
        assert_eq!(p[1], ("b".into(), "x y".into()));
        assert_eq!(p[2], ("c".into(), "%zz".into()));
    }
}
