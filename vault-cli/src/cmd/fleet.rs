//! `vault fleet ...`: one operator's vault stays the source of truth; each bot host gets only
//! its own bots' keys from OpenBao (KV v2), at bot start, with an AppRole of its own.
//!
//! Layout in OpenBao: `<mount>/data/<host>/<bot>` holds `{"bot": <the bot as in the vault>}`
//! with custom metadata `fingerprint` (the key's) and `digest` (an HMAC of the whole entry
//! under the vault's fingerprint key, so `push` can tell what changed without reading it
//! back). Policy `vault-fleet-<mount>-<host>` reads `<mount>/data/<host>/*` and nothing else;
//! AppRole role `<host>` has it, with 2-minute tokens.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use vault_core::{Bot, Fleet, FleetHost, SecretValue};
use zeroize::Zeroizing;

use crate::bao::{Bao, UNREACHABLE};
use crate::cli::FleetCmd;
use crate::ctx::Ctx;
use crate::error::{code, CliError, CliResult};
use crate::output;

pub fn run(ctx: &Ctx, c: FleetCmd) -> CliResult<i32> {
    match c {
        FleetCmd::Init(a) => init(ctx, a.addr, a.mount, a.approle),
        FleetCmd::Host(crate::cli::FleetHostCmd::Add(a)) => host_add(ctx, &a.host, a.cidr, a.json),
        FleetCmd::Host(crate::cli::FleetHostCmd::Remove(a)) => host_remove(ctx, &a.host),
        FleetCmd::Assign(a) => assign(ctx, &a.bot, Some(&a.host)),
        FleetCmd::Unassign(a) => assign(ctx, &a.bot, None),
        FleetCmd::Push(a) => push(ctx, a.dry_run),
        FleetCmd::Status(a) => status(ctx, a.json),
        FleetCmd::Enrol(a) => enrol(
            &a.addr,
            &a.role_id,
            &a.wrapped_secret_id,
            &a.to,
            &a.mount,
            &a.approle,
        ),
    }
}

fn need_fleet(v: &vault_core::Vault) -> CliResult<Fleet> {
    v.fleet().cloned().ok_or_else(|| {
        CliError::other("this vault has no fleet yet; run `vault fleet init --addr URL` first")
    })
}

fn operator(f: &Fleet) -> CliResult<Bao> {
    Bao::new(&f.addr, Some(Bao::operator_token()?))
}

fn policy_name(f: &Fleet, host: &str) -> String {
    format!("vault-fleet-{}-{host}", f.mount)
}

fn init(ctx: &Ctx, addr: Vec<String>, mount: String, approle: String) -> CliResult<i32> {
    let mut v = ctx.open()?;
    let mut f = v.fleet().cloned().unwrap_or_default();
    f.addr = addr;
    f.mount = mount;
    f.approle = approle;
    let bao = operator(&f)?;
    let mounts = bao.expect("list the secrets engines", "GET", "sys/mounts", None, false)?;
    let key = format!("{}/", f.mount);
    let have = mounts
        .body
        .get(&key)
        .or_else(|| mounts.body["data"].get(&key));
    match have {
        Some(m) => {
            let ty = m["type"].as_str().unwrap_or("");
            let ver = m["options"]["version"].as_str().unwrap_or("");
            if ty != "kv" || ver != "2" {
                return Err(CliError::other(format!(
                    "{} is already mounted in OpenBao as {ty} (version {ver:?}), not KV v2; choose another --mount",
                    f.mount
                )));
            }
        }
        None => {
            bao.expect(
                &format!("enable KV v2 at {}", f.mount),
                "POST",
                &format!("sys/mounts/{}", f.mount),
                Some(&json!({"type": "kv", "options": {"version": "2"}, "description": "vault fleet: bot keys per host"})),
                false,
            )?;
            output::note(&format!("enabled KV v2 at {}/", f.mount));
        }
    }
    let auths = bao.expect("list the auth methods", "GET", "sys/auth", None, false)?;
    let key = format!("{}/", f.approle);
    if auths
        .body
        .get(&key)
        .or_else(|| auths.body["data"].get(&key))
        .is_none()
    {
        bao.expect(
            &format!("enable AppRole at auth/{}", f.approle),
            "POST",
            &format!("sys/auth/{}", f.approle),
            Some(&json!({"type": "approle", "description": "vault fleet: one role per bot host"})),
            false,
        )?;
        output::note(&format!("enabled AppRole at auth/{}/", f.approle));
    }
    v.set_fleet(Some(f.clone()), "fleet-init")?;
    output::out(&format!(
        "fleet ready: {} at {}; next: `vault fleet host add HOST`",
        f.mount,
        f.addr.join(", ")
    ));
    Ok(0)
}

fn host_add(ctx: &Ctx, host: &str, cidr: Vec<String>, as_json: bool) -> CliResult<i32> {
    let mut v = ctx.open()?;
    let mut f = need_fleet(&v)?;
    let bao = operator(&f)?;
    let policy = format!(
        "path \"{m}/data/{host}/*\" {{\n  capabilities = [\"read\"]\n}}\n",
        m = f.mount
    );
    bao.expect(
        &format!("write the policy for {host}"),
        "PUT",
        &format!("sys/policies/acl/{}", policy_name(&f, host)),
        Some(&json!({ "policy": policy })),
        false,
    )?;
    let mut role = json!({
        "token_policies": [policy_name(&f, host)],
        "token_ttl": "2m",
        "token_max_ttl": "5m",
        "token_type": "service",
        "secret_id_ttl": "0",
        "bind_secret_id": true,
    });
    if !cidr.is_empty() {
        role["secret_id_bound_cidrs"] = json!(cidr);
        role["token_bound_cidrs"] = json!(cidr);
    }
    let role_path = format!("auth/{}/role/{host}", f.approle);
    bao.expect(
        &format!("create the AppRole role for {host}"),
        "POST",
        &role_path,
        Some(&role),
        false,
    )?;
    let rid = bao.expect(
        "read the role id",
        "GET",
        &format!("{role_path}/role-id"),
        None,
        false,
    )?;
    let role_id = rid.body["data"]["role_id"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let wrapped = bao.call_with(
        "POST",
        &format!("{role_path}/secret-id"),
        Some("{}"),
        &[("X-Vault-Wrap-TTL", "15m")],
    )?;
    let token = wrapped.body["wrap_info"]["token"]
        .as_str()
        .unwrap_or("")
        .to_string();
    if !wrapped.ok() || token.is_empty() || role_id.is_empty() {
        return Err(CliError::other(format!(
            "OpenBao did not issue a wrapped secret id for {host} (HTTP {}: {})",
            wrapped.status,
            wrapped.errors()
        )));
    }
    f.hosts.insert(host.to_string(), FleetHost { cidr });
    v.set_fleet(Some(f.clone()), "fleet-host-add")?;
    if as_json {
        output::out(
            &json!({"host": host, "addr": f.addr, "role_id": role_id, "wrapped_secret_id": token})
                .to_string(),
        );
    } else {
        let addrs: String = f.addr.iter().map(|a| format!(" --addr {a}")).collect();
        output::out(&format!(
            "host {host} added. On {host}, within 15 minutes (the secret id is single-use):\n  vault fleet enrol{addrs} --role-id {role_id} --wrapped-secret-id {token} --to /etc/vault/{host}.json"
        ));
    }
    Ok(0)
}

fn host_remove(ctx: &Ctx, host: &str) -> CliResult<i32> {
    let mut v = ctx.open()?;
    let mut f = need_fleet(&v)?;
    let bao = operator(&f)?;
    let stored = bao.list(&f.mount, host)?;
    for bot in &stored {
        let bot = bot.trim_end_matches('/');
        bao.expect(
            &format!("delete {host}/{bot}"),
            "DELETE",
            &format!("{}/metadata/{host}/{bot}", f.mount),
            None,
            true,
        )?;
    }
    // Deleting the role destroys every secret id issued for it.
    bao.expect(
        &format!("delete the AppRole role of {host}"),
        "DELETE",
        &format!("auth/{}/role/{host}", f.approle),
        None,
        true,
    )?;
    bao.expect(
        &format!("delete the policy of {host}"),
        "DELETE",
        &format!("sys/policies/acl/{}", policy_name(&f, host)),
        None,
        true,
    )?;
    let had = f.hosts.remove(host).is_some();
    let bots: Vec<String> = f
        .assign
        .iter()
        .filter(|(_, h)| *h == host)
        .map(|(b, _)| b.clone())
        .collect();
    f.assign.retain(|_, h| h != host);
    v.set_fleet(Some(f), "fleet-host-remove")?;
    if !had && stored.is_empty() {
        return Err(CliError::new(
            code::NO_SUCH_BOT,
            format!("no fleet host named {host}"),
        ));
    }
    let mut all: Vec<String> = stored
        .iter()
        .map(|b| b.trim_end_matches('/').to_string())
        .collect();
    all.extend(bots);
    all.sort();
    all.dedup();
    output::out(&format!(
        "removed host {host}: its role, secret ids, policy and {} stored key(s) are gone",
        stored.len()
    ));
    if !all.is_empty() {
        output::out(&format!(
            "the host held these keys; rotate them at the exchange (`vault rotate BOT`): {}",
            all.join(", ")
        ));
    }
    Ok(0)
}

fn assign(ctx: &Ctx, bot: &str, host: Option<&str>) -> CliResult<i32> {
    let mut v = ctx.open()?;
    let mut f = need_fleet(&v)?;
    v.bot(bot)?;
    match host {
        Some(h) => {
            if !f.hosts.contains_key(h) {
                return Err(CliError::other(format!(
                    "no fleet host named {h}; `vault fleet host add {h}` first"
                )));
            }
            f.assign.insert(bot.to_string(), h.to_string());
            v.set_fleet(Some(f), "fleet-assign")?;
            output::out(&format!(
                "{bot} runs on {h}; `vault fleet push` to send its key"
            ));
        }
        None => {
            if f.assign.remove(bot).is_none() {
                return Err(CliError::other(format!("{bot} is not assigned to a host")));
            }
            v.set_fleet(Some(f), "fleet-unassign")?;
            output::out(&format!(
                "{bot} unassigned; `vault fleet push` deletes its key from OpenBao"
            ));
        }
    }
    Ok(0)
}

/// What is stored for one bot: the fingerprint of its key and the digest of the entry.
fn stored_meta(
    bao: &Bao,
    f: &Fleet,
    host: &str,
    bot: &str,
) -> CliResult<Option<(u64, String, String)>> {
    let a = bao.expect(
        &format!("read the metadata of {host}/{bot}"),
        "GET",
        &format!("{}/metadata/{host}/{bot}", f.mount),
        None,
        true,
    )?;
    if a.status == 404 {
        return Ok(None);
    }
    let d = &a.body["data"];
    let cm = &d["custom_metadata"];
    Ok(Some((
        d["current_version"].as_u64().unwrap_or(0),
        cm["fingerprint"].as_str().unwrap_or("").to_string(),
        cm["digest"].as_str().unwrap_or("").to_string(),
    )))
}

fn push(ctx: &Ctx, dry_run: bool) -> CliResult<i32> {
    let v = ctx.open()?;
    let f = need_fleet(&v)?;
    let bao = operator(&f)?;
    let mut changes = 0;
    for host in f.hosts.keys() {
        let want: BTreeMap<&str, &Bot> = f
            .assign
            .iter()
            .filter(|(_, h)| *h == host)
            .filter_map(|(b, _)| v.bot(b).ok().map(|bot| (b.as_str(), bot)))
            .filter(|(_, bot)| bot.is_active())
            .collect();
        for (name, bot) in &want {
            let entry = Zeroizing::new(
                serde_json::to_string(bot).map_err(|e| CliError::other(e.to_string()))?,
            );
            let digest = v.fingerprint(&entry);
            let meta = stored_meta(&bao, &f, host, name)?;
            if let Some((_, _, d)) = &meta {
                if *d == digest {
                    continue;
                }
            }
            changes += 1;
            let verb = if meta.is_some() { "update" } else { "write" };
            output::out(&format!(
                "{verb} {host}/{name} (key {})",
                vault_core::short_fp(&bot.fingerprint)
            ));
            if dry_run {
                continue;
            }
            let cas = meta.as_ref().map(|m| m.0).unwrap_or(0);
            let body = Zeroizing::new(format!(
                "{{\"options\":{{\"cas\":{cas}}},\"data\":{{\"bot\":{}}}}}",
                entry.as_str()
            ));
            let path = format!("{}/data/{host}/{name}", f.mount);
            let (status, text) = bao.raw("POST", &path, Some(&body), &[])?;
            drop(body);
            if !(200..300).contains(&status) {
                let errs = crate::bao::Answer {
                    status,
                    body: serde_json::from_str(&text).unwrap_or(Value::Null),
                }
                .errors();
                return Err(CliError::other(format!(
                    "OpenBao refused to write {host}/{name} (HTTP {status}: {errs}); if another push ran at the same time, push again"
                )));
            }
            let written: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let version = written["data"]["version"].as_u64().unwrap_or(cas + 1);
            bao.expect(
                &format!("record the fingerprint of {host}/{name}"),
                "POST",
                &format!("{}/metadata/{host}/{name}", f.mount),
                Some(
                    &json!({"custom_metadata": {"fingerprint": bot.fingerprint, "digest": digest}}),
                ),
                false,
            )?;
            // Only the current version may exist: every older one is destroyed, not soft-deleted.
            if version > 1 {
                let old: Vec<u64> = (1..version).collect();
                bao.expect(
                    &format!("destroy the old versions of {host}/{name}"),
                    "POST",
                    &format!("{}/destroy/{host}/{name}", f.mount),
                    Some(&json!({ "versions": old })),
                    false,
                )?;
            }
        }
        for stored in bao.list(&f.mount, host)? {
            let name = stored.trim_end_matches('/');
            if want.contains_key(name) {
                continue;
            }
            changes += 1;
            let why = match v.bot(name) {
                Ok(b) if !b.is_active() => "revoked",
                Ok(_) => "not assigned here",
                Err(_) => "removed",
            };
            output::out(&format!("delete {host}/{name} ({why})"));
            if !dry_run {
                bao.expect(
                    &format!("delete {host}/{name}"),
                    "DELETE",
                    &format!("{}/metadata/{host}/{name}", f.mount),
                    None,
                    true,
                )?;
            }
        }
    }
    let tail = if dry_run {
        " (dry run: nothing written)"
    } else {
        ""
    };
    output::out(&format!("{changes} change(s){tail}"));
    if !dry_run && changes > 0 {
        v.log_only("fleet-push", None, Some(format!("{changes} change(s)")))?;
    }
    Ok(0)
}

fn status(ctx: &Ctx, as_json: bool) -> CliResult<i32> {
    let v = ctx.open()?;
    let f = need_fleet(&v)?;
    let bao = operator(&f)?;
    let mut hosts = Vec::new();
    for host in f.hosts.keys() {
        let mut bots = Vec::new();
        let mut names: Vec<String> = f
            .assign
            .iter()
            .filter(|(_, h)| *h == host)
            .map(|(b, _)| b.clone())
            .collect();
        for s in bao.list(&f.mount, host)? {
            let s = s.trim_end_matches('/').to_string();
            if !names.contains(&s) {
                names.push(s);
            }
        }
        names.sort();
        for name in names {
            let bot = v.bot(&name).ok();
            let assigned = f.assign.get(&name) == Some(host);
            let meta = stored_meta(&bao, &f, host, &name)?;
            let current = match (&meta, bot) {
                (Some((_, fp, _)), Some(b)) => b.is_active() && *fp == b.fingerprint,
                _ => false,
            };
            bots.push(json!({
                "bot": name,
                "assigned": assigned,
                "stored": meta.is_some(),
                "current": current,
            }));
        }
        hosts.push(json!({"host": host, "bots": bots}));
    }
    if as_json {
        output::out(&json!({"addr": f.addr, "mount": f.mount, "hosts": hosts}).to_string());
        return Ok(0);
    }
    output::out(&format!("fleet {} at {}", f.mount, f.addr.join(", ")));
    for h in &hosts {
        output::out(&format!("host {}", h["host"].as_str().unwrap_or("")));
        for b in h["bots"].as_array().into_iter().flatten() {
            let state = match (
                b["assigned"].as_bool(),
                b["stored"].as_bool(),
                b["current"].as_bool(),
            ) {
                (Some(true), _, Some(true)) => "current",
                (Some(true), Some(true), _) => "stale: push",
                (Some(true), _, _) => "not pushed",
                _ => "stored but not assigned: push deletes it",
            };
            output::out(&format!(
                "  {:<24} {state}",
                b["bot"].as_str().unwrap_or("")
            ));
        }
    }
    Ok(0)
}

/// The host credential file `vault fleet enrol` writes (0600).
#[derive(Serialize, Deserialize)]
struct HostCredential {
    version: u32,
    addr: Vec<String>,
    mount: String,
    approle: String,
    host: String,
    role_id: String,
    secret_id: SecretValue,
}

fn enrol(
    addr: &[String],
    role_id: &str,
    wrapped: &str,
    to: &Path,
    mount: &str,
    approle: &str,
) -> CliResult<i32> {
    let wrapped = if wrapped == "-" {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map_err(|e| {
            CliError::other(format!("cannot read the wrapped secret id from stdin: {e}"))
        })?;
        Zeroizing::new(line.trim().to_string())
    } else {
        Zeroizing::new(wrapped.to_string())
    };
    let bao = Bao::new(addr, None)?;
    // Check what the wrapping token wraps before unwrapping it: it must be a secret id of an
    // AppRole role under our AppRole mount, not anything else someone handed us.
    let lookup = bao.call(
        "POST",
        "sys/wrapping/lookup",
        Some(&json!({ "token": wrapped.as_str() })),
    )?;
    if !lookup.ok() {
        return Err(CliError::new(
            code::UNLOCK,
            format!(
                "OpenBao does not know this wrapped secret id (HTTP {}: {}); it may have expired (15 min) or been used: `vault fleet host add HOST` again on the operator's machine",
                lookup.status,
                lookup.errors()
            ),
        ));
    }
    let path = lookup.body["data"]["creation_path"].as_str().unwrap_or("");
    let prefix = format!("auth/{approle}/role/");
    let host = path
        .strip_prefix(&prefix)
        .and_then(|r| r.strip_suffix("/secret-id"))
        .filter(|h| !h.is_empty() && !h.contains('/'))
        .ok_or_else(|| {
            CliError::new(
                code::REFUSED,
                format!("the wrapping token was not made by `vault fleet host add` (its creation path is {path:?}, not {prefix}HOST/secret-id); refusing to unwrap it"),
            )
        })?
        .to_string();
    let mut unwrapper = Bao::new(addr, Some(wrapped))?;
    let (status, text) = unwrapper.raw("POST", "sys/wrapping/unwrap", Some("{}"), &[])?;
    unwrapper.set_token(None);
    #[derive(Deserialize)]
    struct Unwrapped {
        data: Sid,
    }
    #[derive(Deserialize)]
    struct Sid {
        secret_id: SecretValue,
    }
    let sid: Unwrapped = match (status, serde_json::from_str(&text)) {
        (200, Ok(u)) => u,
        _ => {
            return Err(CliError::new(
                code::UNLOCK,
                format!("OpenBao refused to unwrap the secret id (HTTP {status}); it may have been used already: issue a new one with `vault fleet host add {host}`"),
            ))
        }
    };
    drop(text);
    let cred = HostCredential {
        version: 1,
        addr: addr.to_vec(),
        mount: mount.to_string(),
        approle: approle.to_string(),
        host: host.clone(),
        role_id: role_id.to_string(),
        secret_id: sid.data.secret_id,
    };
    // Prove it works before writing it: log in once and give the token back.
    let token = login(&cred)?;
    revoke(&cred, token);
    let text = Zeroizing::new(
        serde_json::to_string_pretty(&cred).map_err(|e| CliError::other(e.to_string()))? + "\n",
    );
    write_private_new(to, text.as_bytes())?;
    output::out(&format!(
        "enrolled as fleet host {host}; credential written to {} (0600). Seal it: systemd-creds encrypt --name=vault-host {} /etc/credstore.encrypted/vault-host, then delete it (docs/SYSTEMD.md)",
        to.display(),
        to.display()
    ));
    Ok(0)
}

fn write_private_new(to: &Path, bytes: &[u8]) -> CliResult<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let mut file = o.open(to).map_err(|e| {
        CliError::other(format!(
            "cannot create {} ({e}); it must not exist yet: choose another --to or remove the old one",
            to.display()
        ))
    })?;
    file.write_all(bytes)
        .and_then(|_| file.sync_all())
        .map_err(|e| CliError::other(format!("cannot write {}: {e}", to.display())))
}

/// AppRole login with the host credential: a token, or exit 3 when refused.
fn login(c: &HostCredential) -> CliResult<Zeroizing<String>> {
    let bao = Bao::new(&c.addr, None)?;
    let body = Zeroizing::new(
        json!({"role_id": c.role_id, "secret_id": c.secret_id.expose()}).to_string(),
    );
    let (status, text) = bao.raw(
        "POST",
        &format!("auth/{}/login", c.approle),
        Some(&body),
        &[],
    )?;
    #[derive(Deserialize)]
    struct Login {
        auth: Auth,
    }
    #[derive(Deserialize)]
    struct Auth {
        client_token: SecretValue,
    }
    match (status, serde_json::from_str::<Login>(&text)) {
        (200, Ok(l)) => Ok(Zeroizing::new(l.auth.client_token.expose().to_string())),
        _ => Err(CliError::new(
            code::UNLOCK,
            format!(
                "OpenBao refused the login of fleet host {} (HTTP {status}); the host may have been removed: enrol it again",
                c.host
            ),
        )),
    }
}

fn revoke(c: &HostCredential, token: Zeroizing<String>) {
    if let Ok(bao) = Bao::new(&c.addr, Some(token)) {
        let _ = bao.call_with("POST", "auth/token/revoke-self", Some("{}"), &[]);
    }
}

/// `vault run --host-credential PATH --bot BOT`: log in, read the bot, revoke the token.
/// Nothing touches the disk.
pub fn fetch_bot(cred_path: &Path, bot: &str, credentials_dir: Option<&Path>) -> CliResult<Bot> {
    let bytes = Zeroizing::new(vault_core::files::read_secure_in(
        cred_path,
        credentials_dir,
    )?);
    let cred: HostCredential = serde_json::from_slice(&bytes).map_err(|_| {
        CliError::other(format!(
            "{} is not a vault host credential (written by `vault fleet enrol`)",
            cred_path.display()
        ))
    })?;
    drop(bytes);
    vault_core::model::validate_bot_name(bot)?;
    let token = login(&cred)?;
    let bao = Bao::new(&cred.addr, Some(token.clone()))?;
    let got = bao.raw(
        "GET",
        &format!("{}/data/{}/{bot}", cred.mount, cred.host),
        None,
        &[],
    );
    revoke(&cred, token);
    let (status, text) = got?;
    #[derive(Deserialize)]
    struct Read {
        data: Inner,
    }
    #[derive(Deserialize)]
    struct Inner {
        data: Entry,
    }
    #[derive(Deserialize)]
    struct Entry {
        bot: Bot,
    }
    match status {
        200 => serde_json::from_str::<Read>(&text)
            .ok()
            .map(|r| r.data.data.bot)
            // What OpenBao hands us is checked as `vault add` checks input: the bot asked for,
            // and extra-secret names that are plain environment names.
            .filter(|b| {
                b.name == bot
                    && b
                        .extra_secret_names()
                        .all(|n| vault_core::model::validate_env_name(n).is_ok())
            })
            .ok_or(())
            .map_err(|_| CliError::new(code::INTEGRITY, "the entry OpenBao holds for this bot is not one `vault fleet push` wrote; push again")),
        403 | 404 => Err(CliError::new(
            code::NO_SUCH_BOT,
            format!("OpenBao holds no bot {bot} for host {}; on the operator's machine: `vault fleet assign {bot} {}` and `vault fleet push`", cred.host, cred.host),
        )),
        s => Err(CliError::new(UNREACHABLE, format!("OpenBao could not give {bot} to host {} (HTTP {s})", cred.host))),
    }
}
