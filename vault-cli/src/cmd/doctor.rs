//! `vault doctor`: where the vault is, its permissions, KDF parameters, and which unlock
//! methods exist here, which would unlock now, whether each survives a reboot and whether a
//! systemd service would see it. Never unlocks anything.

use serde_json::json;

use crate::ctx::Ctx;
use crate::error::CliResult;
use crate::{input, keyring, output, session, sys};

pub fn run(ctx: &Ctx, as_json: bool) -> CliResult<i32> {
    let path = &ctx.vault_path;
    let meta = std::fs::symlink_metadata(path).ok();
    let file = ctx.read_file();
    let (perm_ok, perm_problem) = match &file {
        Ok(_) => (true, None),
        Err(e) => (false, Some(e.message.clone())),
    };
    let header = file.as_ref().ok().map(|f| f.header().clone());
    let kdf = file.as_ref().ok().and_then(|f| f.kdf_params());
    let kr_store = file.as_ref().ok().and_then(|f| f.keyring_store());
    let vault_id = header.as_ref().map(|h| hex::encode(h.vault_id));

    let mut methods = Vec::new();
    let session_state = match vault_id.as_deref().map(session::load) {
        Some(Ok(Some(_))) => ("ready", None),
        Some(Ok(None)) => ("empty", None),
        Some(Err(why)) => ("unavailable", Some(why)),
        None => ("unknown", None),
    };
    methods.push(json!({
        "method": "session", "state": session_state.0, "problem": session_state.1,
        "survives_reboot": false, "systemd_service_sees_it": "no", "systemd_how": null,
    }));
    let kr = match (kr_store, vault_id.as_deref()) {
        (Some(s), Some(id)) => match keyring::load(s, id) {
            Ok(_) => ("ready".to_string(), None),
            Err(why) => ("enabled, entry unusable".to_string(), Some(why)),
        },
        _ => ("not enabled".to_string(), None),
    };
    methods.push(json!({
        "method": "keyring", "store": kr_store.map(vault_core::KeyringStore::name), "state": kr.0, "problem": kr.1,
        "survives_reboot": kr_store.is_some_and(vault_core::KeyringStore::survives_reboot),
        "systemd_service_sees_it": match kr_store {
            Some(vault_core::KeyringStore::Keyutils) => "with-setup",
            _ => "no",
        },
        "systemd_how": match kr_store {
            Some(vault_core::KeyringStore::Keyutils) => Some("KeyringMode=shared"),
            Some(vault_core::KeyringStore::SecretService) => Some("needs the user's D-Bus session"),
            Some(_) => Some("no systemd on this platform"),
            None => None,
        },
    }));
    let id_state = match &ctx.g.identity {
        Some(p) => match crate::ctx::read_identity(p) {
            Ok(_) => "ready".to_string(),
            Err(e) => format!("given but unusable: {}", e.message),
        },
        None => "not given (--identity / VAULT_IDENTITY_FILE)".to_string(),
    };
    methods.push(json!({
        "method": "identity", "state": id_state, "problem": null,
        "survives_reboot": true, "systemd_service_sees_it": "with-setup",
        "systemd_how": "LoadCredentialEncrypted= (docs/SYSTEMD.md)",
    }));
    let pass_state = if ctx.g.passphrase_file.is_some() {
        "passphrase file given"
    } else if input::has_tty() {
        "will prompt on this terminal"
    } else {
        "no terminal and no passphrase file"
    };
    methods.push(json!({
        "method": "passphrase", "state": pass_state, "problem": null,
        "survives_reboot": true, "systemd_service_sees_it": "with-setup",
        "systemd_how": "a passphrase file",
    }));

    let report = json!({
        "vault": path,
        "exists": meta.is_some(),
        "mode": meta.as_ref().and_then(mode_of).map(|m| format!("{m:04o}")),
        "owner_uid": meta.as_ref().and_then(owner_of),
        "permissions_ok": perm_ok,
        "problem": perm_problem,
        "state_dir": ctx.state_dir,
        "vault_id": vault_id,
        "generation": header.as_ref().map(|h| h.generation),
        "kdf": kdf.map(|k| json!({"algorithm": "argon2id", "memory_mib": k.memory_kib / 1024, "iterations": k.iterations, "lanes": k.lanes})),
        "unlock_methods": methods,
        "process_dumpable": sys::is_dumpable(),
    });
    if as_json {
        output::json(&report);
        return Ok(0);
    }
    output::out(&format!("vault:        {}", path.display()));
    match &meta {
        None => output::out("              does not exist yet (`vault init`)"),
        Some(m) => match (mode_of(m), owner_of(m)) {
            (Some(mode), Some(uid)) => output::out(&format!(
                "permissions:  {mode:04o}, owner uid {uid}{}",
                if perm_ok { " (ok)" } else { "" }
            )),
            _ => output::out(&format!(
                "permissions:  {} (the file's ACL is not checked on this platform)",
                if perm_ok { "a regular file" } else { "refused" }
            )),
        },
    }
    if let Some(p) = &report["problem"].as_str() {
        output::out(&format!("problem:      {p}"));
    }
    output::out(&format!("state dir:    {}", ctx.state_dir.display()));
    if let Some(h) = &header {
        output::out(&format!(
            "vault id:     {}  generation {}",
            hex::encode(h.vault_id),
            h.generation
        ));
    }
    if let Some(k) = kdf {
        output::out(&format!(
            "kdf:          argon2id, {} MiB, {} passes, {} lanes",
            k.memory_kib / 1024,
            k.iterations,
            k.lanes
        ));
    }
    output::out("unlock methods (tried in this order by --unlock auto):");
    for m in report["unlock_methods"].as_array().into_iter().flatten() {
        output::out(&format!(
            "  {:<11} {}{}; survives reboot: {}; systemd service: {}",
            m["method"].as_str().unwrap_or(""),
            m["state"].as_str().unwrap_or(""),
            m["problem"]
                .as_str()
                .map(|p| format!(" ({p})"))
                .unwrap_or_default(),
            if m["survives_reboot"].as_bool() == Some(true) {
                "yes"
            } else {
                "no"
            },
            match (
                m["systemd_service_sees_it"].as_str(),
                m["systemd_how"].as_str()
            ) {
                (Some("with-setup"), Some(how)) => format!("with {how}"),
                (sees, Some(how)) => format!("{} ({how})", sees.unwrap_or("no")),
                (sees, None) => sees.unwrap_or("no").to_string(),
            },
        ));
    }
    output::out(&format!(
        "core dumps and ptrace of this process: {}",
        match sys::is_dumpable() {
            Some(true) => "ALLOWED (hardening failed)",
            Some(false) => "off",
            None => "not checkable on this platform",
        }
    ));
    Ok(0)
}

#[cfg(unix)]
fn mode_of(m: &std::fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    Some(m.permissions().mode() & 0o7777)
}

#[cfg(unix)]
fn owner_of(m: &std::fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    Some(m.uid())
}

#[cfg(not(unix))]
fn mode_of(_m: &std::fs::Metadata) -> Option<u32> {
    None
}

#[cfg(not(unix))]
fn owner_of(_m: &std::fs::Metadata) -> Option<u32> {
    None
}
