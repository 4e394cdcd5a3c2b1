//! `vault audit`: the policy table over every bot and the vault itself. File permissions
//! are checked before unlocking.

use std::path::{Path, PathBuf};

use serde_json::json;
use vault_core::policy::{self, Finding, Severity};

use crate::ctx::Ctx;
use crate::error::{code, CliResult};
use crate::output;

fn vault_finding(sev: Severity, rule: &'static str, message: String, next: String) -> Finding {
    Finding {
        severity: sev,
        rule,
        bot: None,
        message,
        next,
    }
}

/// Permission findings for one file (vault, identity, export), without unlocking anything.
fn check_file(path: &Path, what: &str, out: &mut Vec<Finding>) {
    match std::fs::symlink_metadata(path) {
        Err(_) => {}
        Ok(meta) => {
            if let Err(e) = vault_core::files::check_permissions(path, &meta) {
                out.push(vault_finding(
                    Severity::Critical,
                    "file-readable-by-others",
                    format!("{what}: {e}"),
                    format!("chmod 600 {} (and check who copied it)", path.display()),
                ));
            }
        }
    }
}

/// The project directory's .gitignore should name .env, *.key, config.local.json (rule 3).
fn check_gitignore(dir: &Path, out: &mut Vec<Finding>) {
    if !dir.join(".git").exists() {
        return;
    }
    let text = std::fs::read_to_string(dir.join(".gitignore")).unwrap_or_default();
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let missing: Vec<&str> = [".env", "*.key", "config.local.json"]
        .into_iter()
        .filter(|p| {
            !lines
                .iter()
                .any(|l| l == p || l.trim_start_matches('/') == *p)
        })
        .collect();
    if !missing.is_empty() {
        out.push(vault_finding(
            Severity::Warning,
            "gitignore-incomplete",
            format!(
                "{}/.gitignore does not ignore {}",
                dir.display(),
                missing.join(", ")
            ),
            format!(
                "add {} to .gitignore so secrets never reach git (rule 3)",
                missing.join(", ")
            ),
        ));
    }
}

pub fn run(ctx: &Ctx, as_json: bool, strict: bool) -> CliResult<i32> {
    let mut findings = Vec::new();
    // Before unlocking: the vault file itself, and any identity file we were given.
    check_file(&ctx.vault_path, "vault file", &mut findings);
    if let Some(id) = &ctx.g.identity {
        check_file(id, "identity file", &mut findings);
    }
    if findings.iter().any(|f| f.severity == Severity::Critical) {
        report(&findings, as_json);
        return Ok(code::REFUSED);
    }
    let v = ctx.open()?;
    for p in v.exported_files().to_vec() {
        check_file(&PathBuf::from(&p), "exported file", &mut findings);
    }
    let now = jiff::Timestamp::now();
    for bot in v.bots() {
        findings.extend(policy::evaluate(bot, now));
    }
    let log = v.verify_log();
    for p in log.problems {
        findings.push(vault_finding(
            Severity::Critical,
            "audit-log-broken",
            p,
            "find out who edited the log next to the vault; restore it from a backup".into(),
        ));
    }
    if let Ok(cwd) = std::env::current_dir() {
        check_gitignore(&cwd, &mut findings);
    }
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    report(&findings, as_json);
    let critical = findings.iter().any(|f| f.severity == Severity::Critical);
    let warning = findings.iter().any(|f| f.severity == Severity::Warning);
    Ok(if critical || (strict && warning) {
        code::REFUSED
    } else {
        0
    })
}

fn report(findings: &[Finding], as_json: bool) {
    if as_json {
        output::json(&json!({ "findings": findings }));
        return;
    }
    if findings.is_empty() {
        output::out("no findings: every rule passes");
        return;
    }
    for f in findings {
        let sev = match f.severity {
            Severity::Critical => "CRITICAL",
            Severity::Warning => "warning ",
            Severity::Info => "info    ",
        };
        output::out(&format!(
            "{sev} {:<26} {:<12} {}",
            f.rule,
            f.bot.as_deref().unwrap_or("(vault)"),
            f.message
        ));
        output::out(&format!("{:<9}{:<26} {:<12} next: {}", "", "", "", f.next));
    }
}
