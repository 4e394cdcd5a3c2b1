//! A small OpenBao (HashiCorp Vault API) client for the fleet: plain HTTP through `ureq`, the
//! addresses tried in order, no SDK.
//!
//! - An address that does not answer, answers 5xx, is sealed, or is a standby without a
//!   leader is skipped; when every address fails, the error is exit 8 and names them all.
//! - KV v2's "upgrading" answer right after a mount is enabled is retried for up to 10 s.
//! - Tokens and secret ids travel only in headers and bodies, never in URLs, errors or logs.

use std::time::{Duration, Instant};

use serde_json::Value;
use zeroize::Zeroizing;

use crate::error::{code, CliError, CliResult};

/// Exit code 8: the fleet store could not be reached, or is sealed / leaderless.
pub const UNREACHABLE: i32 = 8;

pub struct Bao {
    addrs: Vec<String>,
    token: Option<Zeroizing<String>>,
    agent: ureq::Agent,
}

/// One answer: HTTP status and the JSON body (`Null` when empty).
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    /// OpenBao's `errors` list, joined (never holds our secrets).
    pub fn errors(&self) -> String {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e.as_str())
                    .map(|e| e.chars().take(200).collect::<String>())
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default()
    }
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

fn timeout() -> Duration {
    let secs = std::env::var("VAULT_FLEET_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    Duration::from_secs(secs)
}

/// The CA certificates in `BAO_CACERT` / `VAULT_CACERT` (PEM), for a private OpenBao CA;
/// without either, the Mozilla roots (webpki) verify the server.
fn roots() -> CliResult<ureq::tls::RootCerts> {
    let Some((var, path)) = ["BAO_CACERT", "VAULT_CACERT"]
        .iter()
        .find_map(|v| std::env::var_os(v).map(|p| (*v, std::path::PathBuf::from(p))))
    else {
        return Ok(ureq::tls::RootCerts::WebPki);
    };
    let pem = std::fs::read(&path)
        .map_err(|e| CliError::other(format!("{var}: cannot read {}: {e}", path.display())))?;
    let certs: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(&pem)
        .filter_map(|i| match i {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect();
    if certs.is_empty() {
        return Err(CliError::other(format!(
            "{var}: {} holds no PEM certificate; give the CA that signed OpenBao's certificate",
            path.display()
        )));
    }
    Ok(ureq::tls::RootCerts::new_with_certs(&certs))
}

impl Bao {
    pub fn new(addrs: &[String], token: Option<Zeroizing<String>>) -> CliResult<Bao> {
        let tls = ureq::tls::TlsConfig::builder().root_certs(roots()?).build();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout()))
            .max_redirects(0)
            .http_status_as_error(false)
            .tls_config(tls)
            .build()
            .into();
        Ok(Bao {
            addrs: addrs
                .iter()
                .map(|a| a.trim_end_matches('/').to_string())
                .collect(),
            token,
            agent,
        })
    }

    pub fn set_token(&mut self, token: Option<Zeroizing<String>>) {
        self.token = token;
    }

    /// The operator's token: `BAO_TOKEN`, `VAULT_TOKEN`, or `~/.vault-token`. Never stored.
    pub fn operator_token() -> CliResult<Zeroizing<String>> {
        for var in ["BAO_TOKEN", "VAULT_TOKEN"] {
            if let Some(t) = std::env::var_os(var) {
                let t = Zeroizing::new(t.to_string_lossy().trim().to_string());
                if !t.is_empty() {
                    return Ok(t);
                }
            }
        }
        if let Some(home) = std::env::var_os("HOME") {
            let p = std::path::Path::new(&home).join(".vault-token");
            if let Ok(t) = std::fs::read_to_string(&p) {
                let t = Zeroizing::new(t.trim().to_string());
                if !t.is_empty() {
                    return Ok(t);
                }
            }
        }
        Err(CliError::new(
            code::UNLOCK,
            "no OpenBao token: set BAO_TOKEN (or VAULT_TOKEN), or log in with `bao login` (~/.vault-token)",
        ))
    }

    /// Sends one request to the first address that serves it.
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> CliResult<Answer> {
        let text = body.map(|v| Zeroizing::new(v.to_string()));
        self.call_with(method, path, text.as_ref().map(|t| t.as_str()), &[])
    }

    pub fn call_with(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> CliResult<Answer> {
        let (status, text) = self.raw(method, path, body, headers)?;
        Ok(Answer {
            status,
            body: parse(&text),
        })
    }

    /// The status and the body text as it came, in zeroizing memory (for answers that hold
    /// secrets), with KV's "upgrading" answer retried for up to 10 s.
    pub fn raw(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> CliResult<(u16, Zeroizing<String>)> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (status, text) = self.once(method, path, body, headers)?;
            let upgrading =
                status >= 400 && text.contains("Upgrading from non-versioned to versioned");
            if upgrading && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(200));
                continue;
            }
            return Ok((status, text));
        }
    }

    fn once(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> CliResult<(u16, Zeroizing<String>)> {
        let mut why = Vec::new();
        for addr in &self.addrs {
            let url = format!("{addr}/v1/{path}");
            let mut b = ureq::http::Request::builder().method(method).uri(&url);
            if let Some(t) = &self.token {
                b = b.header("X-Vault-Token", t.as_str());
            }
            for (k, v) in headers {
                b = b.header(*k, *v);
            }
            let sent = match body {
                Some(text) => b
                    .header("Content-Type", "application/json")
                    .body(text.as_bytes())
                    .map(|r| self.agent.run(r)),
                None => b.body(()).map(|r| self.agent.run(r)),
            };
            let mut resp = match sent {
                Err(_) => {
                    return Err(CliError::other(format!(
                        "{addr} is not a valid OpenBao address"
                    )))
                }
                Ok(Err(e)) => {
                    why.push(format!("{addr}: {}", describe(&e)));
                    continue;
                }
                Ok(Ok(r)) => r,
            };
            let status = resp.status().as_u16();
            let text = resp
                .body_mut()
                .with_config()
                .limit(16 * 1024 * 1024)
                .read_to_string()
                .unwrap_or_default();
            let text = Zeroizing::new(text);
            let errs = if status >= 400 {
                Answer {
                    status,
                    body: parse(&text),
                }
                .errors()
            } else {
                String::new()
            };
            // A standby that redirects to the active node: ask the next address (the active
            // node is one of ours; a Location header is not followed anywhere).
            if (300..400).contains(&status) {
                why.push(format!(
                    "{addr}: standby (HTTP {status} to the active node)"
                ));
                continue;
            }
            // Sealed, standby without an active node, or otherwise unavailable: next address.
            if status >= 500
                || errs.contains("sealed")
                || errs.contains("no active node")
                || errs.contains("local node not active")
            {
                let e = if errs.is_empty() {
                    format!("HTTP {status}")
                } else {
                    errs
                };
                why.push(format!("{addr}: {e}"));
                continue;
            }
            return Ok((status, text));
        }
        Err(CliError::new(
            UNREACHABLE,
            format!(
                "OpenBao is not available at any of its addresses ({}); check that a node is up, unsealed and has a leader",
                why.join("; ")
            ),
        ))
    }

    /// Like [`Bao::call`], but anything but 2xx (404 allowed when `missing_ok`) is an error
    /// naming `what`.
    pub fn expect(
        &self,
        what: &str,
        method: &str,
        path: &str,
        body: Option<&Value>,
        missing_ok: bool,
    ) -> CliResult<Answer> {
        let a = self.call(method, path, body)?;
        if a.ok() || (missing_ok && a.status == 404) {
            return Ok(a);
        }
        let hint = match a.status {
            401 | 403 => {
                ": the token is not allowed to (is it the operator's root or admin token?)"
            }
            _ => "",
        };
        Err(CliError::other(format!(
            "OpenBao refused to {what} (HTTP {}: {}){hint}",
            a.status,
            a.errors()
        )))
    }

    /// The keys under a KV v2 metadata folder (none when it does not exist).
    pub fn list(&self, mount: &str, folder: &str) -> CliResult<Vec<String>> {
        let a = self.expect(
            &format!("list {mount}/metadata/{folder}"),
            "GET",
            &format!("{mount}/metadata/{folder}?list=true"),
            None,
            true,
        )?;
        Ok(a.body["data"]["keys"]
            .as_array()
            .map(|k| {
                k.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }
}

fn describe(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => format!("no answer within {} s", timeout().as_secs()),
        ureq::Error::Io(io) => format!("network error ({})", io.kind()),
        ureq::Error::HostNotFound => "host not found".into(),
        ureq::Error::ConnectionFailed => "connection refused".into(),
        _ => "network or TLS error".into(),
    }
}

fn parse(text: &str) -> Value {
    if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(text).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};

    /// A stand-in for an OpenBao node that answers the first `upgrading` requests with KV's
    /// "upgrading" error (which a real server gives only for a moment after a mount is
    /// enabled, not on demand), then 200.
    fn flaky_node(upgrading: usize) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = format!("http://{}", l.local_addr().expect("addr"));
        let seen = std::sync::Arc::new(AtomicUsize::new(0));
        let count = seen.clone();
        std::thread::spawn(move || {
            for conn in l.incoming().flatten() {
                let mut r = BufReader::new(conn.try_clone().expect("clone"));
                let mut line = String::new();
                while r.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let n = count.fetch_add(1, Ordering::SeqCst);
                let (status, body) = if n < upgrading {
                    (
                        "400 Bad Request",
                        r#"{"errors":["Upgrading from non-versioned to versioned data. This backend will be unavailable for a brief period and will resume service shortly."]}"#,
                    )
                } else {
                    ("200 OK", r#"{"data":{"keys":["a"]}}"#)
                };
                let mut c = conn;
                let _ = write!(
                    c,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        (addr, seen)
    }

    #[test]
    fn kv_upgrading_answers_right_after_a_mount_is_enabled_are_retried() {
        let (addr, seen) = flaky_node(3);
        let bao = Bao::new(&[addr], None).expect("client");
        let a = bao
            .call("GET", "vault-fleet/metadata/h?list=true", None)
            .expect("answer");
        assert_eq!(a.status, 200);
        assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 4);
    }

    #[test]
    fn kv_upgrading_for_longer_than_the_bound_is_returned_not_retried_forever() {
        let (addr, _) = flaky_node(usize::MAX);
        let bao = Bao::new(&[addr], None).expect("client");
        let t = Instant::now();
        let a = bao.call("GET", "x", None).expect("answer");
        assert_eq!(a.status, 400);
        assert!(a.errors().contains("Upgrading"));
        assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
    }

    #[test]
    fn every_address_down_is_exit_8_naming_each() {
        let ports: Vec<u16> = (0..2)
            .map(|_| {
                std::net::TcpListener::bind("127.0.0.1:0")
                    .expect("bind")
                    .local_addr()
                    .expect("addr")
                    .port()
            })
            .collect();
        let addrs: Vec<String> = ports
            .iter()
            .map(|p| format!("http://127.0.0.1:{p}"))
            .collect();
        let e = Bao::new(&addrs, None)
            .expect("client")
            .call("GET", "sys/health", None)
            .err()
            .expect("error");
        assert_eq!(e.code, UNREACHABLE);
        for a in &addrs {
            assert!(e.message.contains(a.as_str()), "{}", e.message);
        }
    }
}
