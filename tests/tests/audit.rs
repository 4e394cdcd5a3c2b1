//! The checklist made executable: `vault audit` findings, `vault scan` in files, git history
//! and the index, and the audit log.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use vault_tests::*;

const KEY: &str = "AUDITKEY000000000000001";
const SECRET: &str = "AUDITSECRET0000000000001";

fn audit_json(c: &Cli, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let mut args = vec!["audit", "--json"];
    args.extend_from_slice(extra);
    let (code, out, err) = c.run(&args, "");
    (
        code,
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}")),
        err,
    )
}

fn rules(j: &serde_json::Value) -> Vec<(String, String)> {
    j["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or("").to_string(),
                f["severity"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn has(j: &serde_json::Value, rule: &str, sev: &str) -> bool {
    rules(j).iter().any(|(r, s)| r == rule && s == sev)
}

#[test]
fn a_clean_bot_passes_the_audit() {
    let c = Cli::new();
    c.add("alpha", KEY, SECRET);
    let (code, j, err) = audit_json(&c, &["--strict"]);
    assert_eq!(code, 0, "{j} {err}");
    assert!(rules(&j).is_empty(), "{j}");
}

#[test]
fn each_audit_rule_reports_with_its_severity() {
    let c = Cli::new();
    // Defaults: withdrawals unknown, no IP list.
    let (code, _, err) = c.run(
        &["add", "plain", "--exchange", "bybit", "--from-stdin"],
        "PLAINKEY0000000000001\nPLAINSECRET00000000001\n",
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = c.run(
        &["add", "cb", "--exchange", "coinbase", "--withdrawals", "disabled", "--ip", "203.0.113.9", "--from-stdin"],
        "organizations/o/apiKeys/k\n-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = c.run(
        &[
            "add",
            "old",
            "--exchange",
            "binance",
            "--withdrawals",
            "disabled",
            "--ip",
            "203.0.113.9",
            "--rotate-after",
            "0",
            "--env-profile",
            "freqtrade",
            "--from-stdin",
        ],
        "OLDKEY0000000000000001\n12345678901234\n",
    );
    assert_eq!(code, 0, "{err}");
    c.set_secret("old", "SHORT_TOKEN", "abc123");
    let (code, j, _) = audit_json(&c, &[]);
    assert_eq!(code, 0, "warnings alone pass without --strict: {j}");
    assert!(has(&j, "withdrawals-unknown", "warning"), "{j}");
    assert!(has(&j, "no-ip-allowlist", "warning"), "{j}");
    let bybit = j["findings"].as_array().expect("f").iter().any(|f| {
        f["rule"] == "no-ip-allowlist" && f["message"].as_str().unwrap_or("").contains("90 days")
    });
    assert!(bybit, "Bybit's expiry rule is named: {j}");
    assert!(has(&j, "ip-restriction-unknowable", "warning"), "{j}");
    assert!(has(&j, "key-too-old", "warning"), "{j}");
    assert!(has(&j, "freqtrade-type-conversion", "warning"), "{j}");
    assert!(has(&j, "short-secret", "info"), "{j}");
    assert!(j["findings"]
        .as_array()
        .expect("f")
        .iter()
        .all(|f| !f["next"].as_str().unwrap_or("").is_empty()));
    assert_eq!(audit_json(&c, &["--strict"]).0, 5);
    assert_eq!(
        c.run(&["set", "plain", "--withdrawals", "enabled"], "").0,
        0
    );
    let (code, j, _) = audit_json(&c, &[]);
    assert_eq!(code, 5);
    assert!(has(&j, "withdrawals-enabled", "critical"), "{j}");
    let text = c.run(&["audit"], "").1;
    assert!(
        text.contains("https://www.bybit.com/app/user/api-management"),
        "{text}"
    );
}

#[test]
fn a_vault_readable_by_others_is_critical_before_unlocking() {
    let c = Cli::new();
    std::fs::set_permissions(c.vault(), std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let mut cmd = c.bare();
    cmd.args(["audit", "--json"]);
    let (code, out, _) = c.run_with(cmd, "");
    assert_eq!(code, 5);
    assert!(out.contains("file-readable-by-others"), "{out}");
}

#[test]
fn an_exported_file_made_readable_is_reported() {
    let c = Cli::new();
    let id = c.sb.path().join("id.txt");
    assert_eq!(
        c.run(
            &["identity", "export", "--to", id.to_str().expect("utf8")],
            ""
        )
        .0,
        0
    );
    std::fs::set_permissions(&id, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let (code, j, _) = audit_json(&c, &[]);
    assert_eq!(code, 5);
    assert!(has(&j, "file-readable-by-others", "critical"), "{j}");
}

#[test]
fn a_deleted_log_line_is_reported_by_audit_and_log() {
    let c = Cli::new();
    c.add("alpha", KEY, SECRET);
    c.add(
        "beta",
        "AUDITKEY000000000000002",
        "AUDITSECRET0000000000002",
    );
    let log = vault_core::audit_log::log_path(&c.vault());
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(!text.contains(SECRET));
    let kept: Vec<&str> = text
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, l)| l)
        .collect();
    std::fs::write(&log, kept.join("\n") + "\n").expect("write");
    let (code, j, _) = audit_json(&c, &[]);
    assert_eq!(code, 5);
    assert!(has(&j, "audit-log-broken", "critical"), "{j}");
    assert_eq!(c.run(&["log"], "").0, 4);
}

#[test]
fn an_incomplete_gitignore_is_a_warning() {
    let c = Cli::new();
    c.add("alpha", KEY, SECRET);
    let proj = c.sb.path().join("proj");
    std::fs::create_dir_all(proj.join(".git")).expect("mkdir");
    std::fs::write(proj.join(".gitignore"), ".env\n").expect("write");
    let mut cmd = c.cmd();
    cmd.current_dir(&proj).args(["audit", "--json"]);
    let (_, out, _) = c.run_with(cmd, "");
    assert!(
        out.contains("gitignore-incomplete") && out.contains("*.key"),
        "{out}"
    );
}

fn scan(c: &Cli, dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let mut cmd = c.cmd();
    cmd.current_dir(dir).arg("scan").args(args);
    c.run_with(cmd, "")
}

#[test]
fn scan_finds_a_secret_in_a_dotenv_file_and_never_prints_it() {
    let c = Cli::new();
    c.add("alpha", KEY, SECRET);
    let proj = c.sb.path().join("proj");
    std::fs::create_dir_all(proj.join("sub")).expect("mkdir");
    std::fs::write(proj.join("README"), "nothing here\n").expect("write");
    std::fs::write(
        proj.join("sub/.env"),
        format!("A=1\nEXCHANGE_SECRET={SECRET}\n"),
    )
    .expect("write");
    std::fs::write(
        proj.join("blob.bin"),
        [0u8, 1, 2]
            .iter()
            .chain(SECRET.as_bytes())
            .copied()
            .collect::<Vec<u8>>(),
    )
    .expect("write");
    let (code, out, err) = scan(&c, &proj, &[]);
    assert_eq!(code, 5, "{out}{err}");
    assert!(out.contains("sub/.env:2: the secret of bot alpha"), "{out}");
    // A binary file is searched too, not skipped (issue #11).
    assert!(out.contains("blob.bin:1: the secret of bot alpha"), "{out}");
    assert!(!out.contains(SECRET) && !err.contains(SECRET));
    assert!(err.contains("1 binary"), "{err}");
}

/// Issue #11: a UTF-16 `.env` (as Windows editors write) and a binary blob, staged and
/// committed, are found by --staged and --git, and what was searched is counted.
#[test]
fn scan_finds_secrets_in_utf16_and_binary_files_in_git() {
    let Some(git) = require_program("git", "scan_finds_secrets_in_utf16_and_binary_files_in_git")
    else {
        return;
    };
    let c = Cli::new();
    c.add("alpha", KEY, SECRET);
    let proj = c.sb.path().join("u16");
    std::fs::create_dir_all(&proj).expect("mkdir");
    let g = |args: &[&str]| {
        let st = std::process::Command::new(&git)
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .current_dir(&proj)
            .output()
            .expect("git");
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
    };
    g(&["init", "-q"]);
    let mut u16le = vec![0xFF, 0xFE];
    for unit in format!("EXCHANGE_SECRET={SECRET}\r\n").encode_utf16() {
        u16le.extend_from_slice(&unit.to_le_bytes());
    }
    std::fs::write(proj.join(".env"), &u16le).expect("write");
    g(&["add", ".env"]);
    let (code, out, err) = scan(&c, &proj, &["--staged"]);
    assert_eq!(code, 5, "{out}{err}");
    assert!(out.contains("(staged) .env"), "{out}");
    assert!(err.contains("1 decoded from UTF-16"), "{err}");
    g(&["commit", "-qm", "x"]);
    let (code, out, err) = scan(&c, &proj, &["--git"]);
    assert_eq!(code, 5, "{out}{err}");
    assert!(out.contains(":.env:"), "{out}");
    assert!(!out.contains(SECRET) && !err.contains(SECRET));
}

#[test]
fn scan_finds_an_extra_secret() {
    let c = Cli::new();
    c.add("alpha", KEY, SECRET);
    c.set_secret(
        "alpha",
        "FREQTRADE__TELEGRAM__TOKEN",
        "123456:TELEGRAMTOKENabcdef",
    );
    let proj = c.sb.path().join("proj");
    std::fs::create_dir_all(&proj).expect("mkdir");
    std::fs::write(
        proj.join("config.json"),
        "{\"telegram\": {\"token\": \"123456:TELEGRAMTOKENabcdef\"}}\n",
    )
    .expect("write");
    let (code, out, _) = scan(&c, &proj, &[]);
    assert_eq!(code, 5);
    assert!(
        out.contains("FREQTRADE__TELEGRAM__TOKEN of bot alpha"),
        "{out}"
    );
}

#[test]
fn scan_of_a_clean_tree_passes() {
    let c = Cli::new();
    c.add("alpha", KEY, SECRET);
    let proj = c.sb.path().join("proj");
    std::fs::create_dir_all(&proj).expect("mkdir");
    std::fs::write(proj.join("bot.py"), "key = os.environ['EXCHANGE_KEY']\n").expect("write");
    let (code, out, _) = scan(&c, &proj, &[]);
    assert_eq!(code, 0, "{out}");
}

fn git(dir: &std::path::Path, args: &[&str]) {
    let st = Command::new("git")
        .args([
            "-c",
            "user.email=t@example.com",
            "-c",
            "user.name=t",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git");
    assert!(
        st.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&st.stderr)
    );
}

#[test]
fn a_secret_committed_and_then_deleted_is_found_in_git_history() {
    if require_program(
        "git",
        "a_secret_committed_and_then_deleted_is_found_in_git_history",
    )
    .is_none()
    {
        return;
    }
    let c = Cli::new();
    c.add("alpha", KEY, SECRET);
    let repo = c.sb.path().join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    git(&repo, &["init", "-q"]);
    std::fs::write(
        repo.join("config.json"),
        format!("{{\"key\": \"{KEY}\"}}\n"),
    )
    .expect("write");
    git(&repo, &["add", "config.json"]);
    git(&repo, &["commit", "-q", "-m", "oops"]);
    std::fs::remove_file(repo.join("config.json")).expect("rm");
    git(&repo, &["commit", "-q", "-a", "-m", "remove"]);
    let (code, out, _) = scan(&c, &repo, &[]);
    assert_eq!(code, 0, "the work tree is clean: {out}");
    let (code, out, err) = scan(&c, &repo, &["--git"]);
    assert_eq!(code, 5, "{out}{err}");
    assert!(
        out.contains(":config.json:1: the key of bot alpha"),
        "{out}"
    );
    assert!(!out.contains(KEY));
}

#[test]
fn a_staged_secret_is_found_before_it_is_committed() {
    if require_program("git", "a_staged_secret_is_found_before_it_is_committed").is_none() {
        return;
    }
    let c = Cli::new();
    c.add("alpha", KEY, SECRET);
    let repo = c.sb.path().join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    git(&repo, &["init", "-q"]);
    std::fs::write(repo.join(".env"), format!("EXCHANGE_SECRET={SECRET}\n")).expect("write");
    let (code, _, _) = scan(&c, &repo, &["--staged"]);
    assert_eq!(code, 0, "nothing staged yet");
    git(&repo, &["add", ".env"]);
    let (code, out, _) = scan(&c, &repo, &["--staged"]);
    assert_eq!(code, 5, "{out}");
    assert!(
        out.contains("(staged) .env:1: the secret of bot alpha"),
        "{out}"
    );
}
