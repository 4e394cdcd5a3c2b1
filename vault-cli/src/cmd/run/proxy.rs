//! `vault run --proxy`: the signing proxy the supervising `vault` runs for the child's life.
//!
//! A small HTTP/1.1 server on 127.0.0.1 (an ephemeral port), one thread per connection, with
//! keep-alive. The child reaches exchange host H as `http://127.0.0.1:PORT/H/<path>?<query>`.
//! `vault_core::proxy::decide` says what to do with each request (the host, the stand-in
//! signature, the policy); this module forwards what passes over HTTPS (rustls, through one
//! pooled `ureq` agent) and answers the rest itself: 403 for policy, 401 for a request that is
//! not the child's, 400 for what is not HTTP we read. Refusals go to the audit log.
//!
//! The real credentials live here, in the supervisor (not dumpable), and nowhere else.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use vault_core::model::StoredCredentials;
use vault_core::proxy::{self, Incoming, Rules, Verdict};
use vault_core::verify::Creds;
use vault_core::{Exchange, LogHandle};

use crate::error::{CliError, CliResult};

/// The most a request's headers or body may be: ccxt's largest (a batch of orders) is a few KiB.
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: u64 = 1024 * 1024;
/// The most an exchange's answer may be (a full exchangeInfo is ~15 MB).
const MAX_ANSWER: u64 = 64 * 1024 * 1024;
/// Connections served at once (a bot uses a handful); more are closed at once, so a local
/// process cannot make the supervisor spawn threads without bound.
const MAX_CONNECTIONS: usize = 256;

/// Where requests go: each of the exchange's hosts over HTTPS, or all of them to the
/// exchange's `VAULT_<EX>_BASE_URL` (checked like `verify`'s).
pub(crate) struct Upstream {
    /// The override base URL and its `host:port`, when set.
    pub base_override: Option<(String, String)>,
}

struct State {
    ex: Exchange,
    real: StoredCredentials,
    standin: StoredCredentials,
    rules: Rules,
    upstream: Upstream,
    agent: ureq::Agent,
    log: Option<LogHandle>,
    bot: String,
}

/// The running proxy: its URL (`http://127.0.0.1:PORT/`) for the child.
pub(crate) struct Running {
    pub url: String,
}

/// Binds 127.0.0.1:0 and serves until this process exits (the proxy stops with the child,
/// because `vault run` exits when its child does).
pub(crate) fn start(
    ex: Exchange,
    real: StoredCredentials,
    standin: StoredCredentials,
    rules: Rules,
    upstream: Upstream,
    log: Option<LogHandle>,
    bot: String,
) -> CliResult<Running> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).map_err(|e| {
        CliError::other(format!("cannot start the signing proxy on 127.0.0.1: {e}"))
    })?;
    let port = listener
        .local_addr()
        .map_err(|e| CliError::other(format!("cannot start the signing proxy: {e}")))?
        .port();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .max_redirects(0)
        .http_status_as_error(false)
        .max_idle_connections_per_host(16)
        .build()
        .into();
    let st = Arc::new(State {
        ex,
        real,
        standin,
        rules,
        upstream,
        agent,
        log,
        bot,
    });
    std::thread::Builder::new()
        .name("vault-proxy".into())
        .spawn(move || {
            let open = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            for conn in listener.incoming().flatten() {
                use std::sync::atomic::Ordering;
                if open.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
                    open.fetch_sub(1, Ordering::SeqCst);
                    drop(conn);
                    continue;
                }
                let (st, open) = (Arc::clone(&st), Arc::clone(&open));
                let spawned = std::thread::Builder::new()
                    .name("vault-proxy-conn".into())
                    .spawn(move || {
                        serve(conn, &st);
                        open.fetch_sub(1, Ordering::SeqCst);
                    });
                if spawned.is_err() {
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        })
        .map_err(|e| CliError::other(format!("cannot start the signing proxy: {e}")))?;
    Ok(Running {
        url: format!("http://127.0.0.1:{port}/"),
    })
}

/// One answer to the child.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn ours(status: u16, kind: &str, reason: &str) -> Answer {
        Answer {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: serde_json::json!({"vault": kind, "reason": reason})
                .to_string()
                .into_bytes(),
        }
    }
}

/// Serves one connection: requests one after another (keep-alive) until it closes.
fn serve(conn: TcpStream, st: &State) {
    let _ = conn.set_nodelay(true);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(300)));
    let Ok(mut out) = conn.try_clone() else {
        return;
    };
    let mut r = BufReader::with_capacity(16 * 1024, conn);
    loop {
        let (answer, keep) = match read_request(&mut r) {
            Ok(None) => return,
            Ok(Some(req)) => {
                let keep = req.keep_alive;
                (handle(st, &req), keep)
            }
            Err(a) => (a, false),
        };
        if write_answer(&mut out, &answer, keep).is_err() || !keep {
            return;
        }
    }
}

struct Req {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    keep_alive: bool,
}

/// Reads one request; `Ok(None)` when the connection closed between requests.
fn read_request(r: &mut BufReader<TcpStream>) -> Result<Option<Req>, Answer> {
    let bad = |why: &str| Answer::ours(400, "bad-request", why);
    let mut head = Vec::with_capacity(2048);
    loop {
        let room = (MAX_HEAD + 1).saturating_sub(head.len()) as u64;
        let n = Read::take(&mut *r, room)
            .read_until(b'\n', &mut head)
            .map_err(|_| bad("the connection failed"))?;
        if n == 0 {
            return if head.is_empty() {
                Ok(None)
            } else {
                Err(bad("the request ended early"))
            };
        }
        if head.len() > MAX_HEAD {
            return Err(Answer::ours(
                431,
                "bad-request",
                "the request's headers are too large",
            ));
        }
        if head.ends_with(b"\r\n\r\n") || head == b"\r\n" {
            if head == b"\r\n" {
                head.clear();
                continue;
            }
            break;
        }
    }
    let mut hs = [httparse::EMPTY_HEADER; 64];
    let mut p = httparse::Request::new(&mut hs);
    match p.parse(&head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err(bad("not an HTTP/1.1 request")),
    }
    let method = p.method.unwrap_or("").to_string();
    let target = p.path.unwrap_or("").to_string();
    let http10 = p.version == Some(0);
    let mut headers = Vec::new();
    let mut len: u64 = 0;
    let mut keep_alive = !http10;
    for h in p.headers.iter() {
        let name = h.name;
        let value = std::str::from_utf8(h.value)
            .map_err(|_| bad("a header value is not text"))?
            .to_string();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => {
                len = value
                    .trim()
                    .parse()
                    .map_err(|_| bad("Content-Length is not a number"))?;
            }
            "transfer-encoding" => {
                return Err(Answer::ours(
                    411,
                    "bad-request",
                    "chunked bodies are not accepted; send Content-Length",
                ))
            }
            "connection" => {
                let v = value.to_ascii_lowercase();
                if v.contains("close") {
                    keep_alive = false;
                } else if v.contains("keep-alive") {
                    keep_alive = true;
                }
            }
            "host"
            | "keep-alive"
            | "te"
            | "upgrade"
            | "proxy-connection"
            | "accept-encoding"
            | "proxy-authorization" => {}
            _ => headers.push((name.to_string(), value)),
        }
    }
    if len > MAX_BODY {
        return Err(Answer::ours(
            413,
            "bad-request",
            "the request body is too large",
        ));
    }
    let mut body = vec![0u8; usize::try_from(len).unwrap_or(0)];
    r.read_exact(&mut body)
        .map_err(|_| bad("the request body ended early"))?;
    Ok(Some(Req {
        method,
        target,
        headers,
        body,
        keep_alive,
    }))
}

fn creds(c: &StoredCredentials) -> Creds<'_> {
    Creds {
        key: c.key.expose(),
        secret: c.secret.expose(),
        passphrase: c.passphrase.as_ref().map(|p| p.expose()),
    }
}

fn handle(st: &State, req: &Req) -> Answer {
    let ex = st.ex;
    // `/H/path?query`: H is the exchange host the client meant.
    let Some(rest) = req.target.strip_prefix('/') else {
        return Answer::ours(400, "bad-request", "the target must be /HOST/PATH");
    };
    let (host, path_q) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (path, query) = path_q.split_once('?').unwrap_or((path_q, ""));
    let base = match &st.upstream.base_override {
        Some((base, h)) if host == h || proxy::hosts(ex).contains(&host) => base.clone(),
        None if proxy::hosts(ex).contains(&host) => format!("https://{host}"),
        _ => {
            let why = format!(
                "{} /{host}{path}: {host} is not an API host of {ex}",
                req.method
            );
            log_refusal(st, "proxy-refused", &why);
            return Answer::ours(403, "refused", &why);
        }
    };
    let incoming = Incoming {
        method: &req.method,
        path,
        query,
        headers: &req.headers,
        body: &req.body,
    };
    let verdict = proxy::decide(
        ex,
        &incoming,
        &creds(&st.standin),
        &creds(&st.real),
        &st.rules,
    );
    match verdict {
        Verdict::Public => {
            let headers = req.headers.iter().map(|(k, v)| (k.as_str(), v.as_str()));
            forward(st, &base, &req.method, path, query, headers, &req.body)
        }
        Verdict::Signed(out) => {
            let headers = out.headers.iter().map(|(k, v)| (k.as_str(), v.as_str()));
            forward(st, &base, &req.method, path, &out.query, headers, &out.body)
        }
        Verdict::Refused(why) => {
            log_refusal(st, "proxy-refused", &why);
            Answer::ours(403, "refused", &why)
        }
        Verdict::Unauthorized(why) => {
            log_refusal(
                st,
                "proxy-unauthorized",
                &format!("{} {path}: {why}", req.method),
            );
            Answer::ours(401, "unauthorized", &why)
        }
    }
}

/// One audit-log line per refusal; the reason never holds a secret or a query string.
fn log_refusal(st: &State, op: &str, why: &str) {
    // The child chose the path and host in `why`: no control character (a terminal escape)
    // may reach `vault log`'s output.
    let shown: String = why
        .chars()
        .take(400)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if let Some(log) = &st.log {
        let _ = log.append(op, Some(&st.bot), Some(shown));
    }
}

fn forward<'a>(
    st: &State,
    base: &str,
    method: &str,
    path: &str,
    query: &str,
    headers: impl Iterator<Item = (&'a str, &'a str)>,
    body: &[u8],
) -> Answer {
    let url = if query.is_empty() {
        format!("{base}{path}")
    } else {
        format!("{base}{path}?{query}")
    };
    let mut b = ureq::http::Request::builder().method(method).uri(&url);
    for (k, v) in headers {
        b = b.header(k, v);
    }
    let sent = if body.is_empty() {
        b.body(()).map(|r| st.agent.run(r))
    } else {
        b.body(body).map(|r| st.agent.run(r))
    };
    let mut resp = match sent {
        Err(_) => return Answer::ours(400, "bad-request", "the request is not valid HTTP"),
        Ok(Err(e)) => {
            return Answer::ours(
                502,
                "upstream",
                &format!("{ex}: {}", describe(&e), ex = st.ex),
            )
        }
        Ok(Ok(r)) => r,
    };
    let status = resp.status().as_u16();
    let mut out_headers = Vec::new();
    for (k, v) in resp.headers() {
        let n = k.as_str();
        if matches!(
            n,
            "connection"
                | "keep-alive"
                | "transfer-encoding"
                | "content-length"
                | "content-encoding"
        ) {
            continue;
        }
        if let Ok(v) = v.to_str() {
            out_headers.push((n.to_string(), v.to_string()));
        }
    }
    let mut body = match resp
        .body_mut()
        .with_config()
        .limit(MAX_ANSWER)
        .read_to_vec()
    {
        Ok(b) => b,
        Err(e) => return Answer::ours(502, "upstream", &format!("{}: {}", st.ex, describe(&e))),
    };
    // An answer that names the real key shows the child its stand-in (same length) instead.
    replace_all(
        &mut body,
        st.real.key.expose().as_bytes(),
        st.standin.key.expose().as_bytes(),
    );
    Answer {
        status,
        headers: out_headers,
        body,
    }
}

fn replace_all(hay: &mut [u8], from: &[u8], to: &[u8]) {
    if from.is_empty() || from.len() != to.len() || hay.len() < from.len() {
        return;
    }
    let mut i = 0;
    while i + from.len() <= hay.len() {
        if &hay[i..i + from.len()] == from {
            hay[i..i + from.len()].copy_from_slice(to);
            i += from.len();
        } else {
            i += 1;
        }
    }
}

fn describe(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => "no answer within 30 s".into(),
        ureq::Error::Io(io) => format!("network error ({})", io.kind()),
        ureq::Error::HostNotFound => "host not found".into(),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        ureq::Error::BodyExceedsLimit(_) => "the answer was too large".into(),
        _ => "network or TLS error".into(),
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        411 => "Length Required",
        413 => "Payload Too Large",
        418 => "I'm a teapot",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn write_answer(out: &mut TcpStream, a: &Answer, keep: bool) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", a.status, reason(a.status));
    for (k, v) in &a.headers {
        head.push_str(k);
        head.push_str(": ");
        head.push_str(v);
        head.push_str("\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n", a.body.len()));
    if !keep {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    let mut buf = Vec::with_capacity(head.len() + a.body.len());
    buf.extend_from_slice(head.as_bytes());
    buf.extend_from_slice(&a.body);
    out.write_all(&buf)?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_real_key_in_an_answer_becomes_the_stand_in() {
        let mut b = b"{\"apiKey\":\"REALKEY1\",\"x\":\"REALKEY1REALKEY1\"}".to_vec();
        replace_all(&mut b, b"REALKEY1", b"STANDIN1");
        assert_eq!(
            b,
            b"{\"apiKey\":\"STANDIN1\",\"x\":\"STANDIN1STANDIN1\"}".to_vec()
        );
    }
}
