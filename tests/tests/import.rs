//! `vault import freqtrade`: secrets move into the vault, the config keeps its comments and
//! layout, no copy is left behind, and freqtrade still loads it.

use vault_tests::*;

const CONFIG: &str = r#"{
    // my bot
    "max_open_trades": 1,
    "stake_currency": "USDT",
    "stake_amount": 10,
    "dry_run": true,
    "trading_mode": "spot",
    "exchange": {
        "name": "okx",
        "key": "IMPORTKEY0000000001",   // from the OKX page
        "secret": "IMPORTSECRET00000001",
        "password": "IMPORTPASS01",
        "pair_whitelist": ["BTC/USDT",],
    },
    /* the chat */
    "telegram": {"enabled": false, "token": "111:IMPORTTELEGRAM", "chat_id": "42"},
    "api_server": {"enabled": false, "listen_ip_address": "127.0.0.1", "listen_port": 8080,
                   "username": "u", "password": "IMPORTAPIPASS0000000000000001", "jwt_secret_key": "IMPORTJWT0000000000000000000000000000001"},
    "pairlists": [{"method": "StaticPairList"}],
    "entry_pricing": {"price_side": "same"},
    "exit_pricing": {"price_side": "same"},
    "bot_name": "imported",
}
"#;

fn project(c: &Cli) -> std::path::PathBuf {
    let dir = c.sb.path().join("ft");
    std::fs::create_dir_all(dir.join("user_data")).expect("mkdir");
    std::fs::write(dir.join("config.json"), CONFIG).expect("config");
    dir
}

fn listing(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn import_moves_the_secrets_and_keeps_comments_and_layout() {
    let c = Cli::new();
    let dir = project(&c);
    let before = listing(&dir);
    let cfg = dir.join("config.json");
    let (code, out, err) = c.run(
        &[
            "import",
            "freqtrade",
            cfg.to_str().expect("utf8"),
            "--bot",
            "ftbot",
        ],
        "",
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("rotate it") && err.contains("vault scan --git"),
        "{err}"
    );
    let after = std::fs::read_to_string(&cfg).expect("config");
    let expected = CONFIG
        .replace("\"IMPORTKEY0000000001\"", "\"\"")
        .replace("\"IMPORTSECRET00000001\"", "\"\"")
        .replace("\"IMPORTPASS01\"", "\"\"")
        .replace("\"111:IMPORTTELEGRAM\"", "\"\"")
        .replace("\"IMPORTAPIPASS0000000000000001\"", "\"\"")
        .replace("\"IMPORTJWT0000000000000000000000000000001\"", "\"\"");
    assert_eq!(after, expected, "only the secret values change");
    assert_eq!(listing(&dir), before, "no copy is left behind");
    let (_, out, _) = c.run(&["show", "ftbot", "--json", "--reveal"], "");
    let j: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(j["exchange"], "okx");
    assert_eq!(j["env_profile"], "freqtrade");
    assert_eq!(j["secrets"]["key"], "IMPORTKEY0000000001");
    assert_eq!(j["secrets"]["passphrase"], "IMPORTPASS01");
    assert_eq!(
        j["secrets"]["FREQTRADE__TELEGRAM__TOKEN"],
        "111:IMPORTTELEGRAM"
    );
    assert_eq!(
        j["secrets"]["FREQTRADE__API_SERVER__JWT_SECRET_KEY"],
        "IMPORTJWT0000000000000000000000000000001"
    );
    let (code, out, _) = c.run(
        &[
            "import",
            "freqtrade",
            cfg.to_str().expect("utf8"),
            "--bot",
            "ftbot2",
        ],
        "",
    );
    assert_eq!(code, 0);
    assert!(out.contains("nothing to import"), "{out}");
}

#[test]
fn import_reads_config_private_and_dotenv_beside_the_config() {
    let c = Cli::new();
    let dir = c.sb.path().join("ft");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join("config.json"),
        "{\"exchange\": {\"name\": \"binance\", \"key\": \"\", \"secret\": \"\"}}\n",
    )
    .expect("w");
    std::fs::write(
        dir.join("config-private.json"),
        "{\"exchange\": {\"key\": \"PRIVKEY000000000001\", \"secret\": \"PRIVSECRET00000001\"}}\n",
    )
    .expect("w");
    std::fs::write(
        dir.join(".env"),
        "FREQTRADE__MAX_OPEN_TRADES=3\nexport FREQTRADE__TELEGRAM__TOKEN=\"222:ENVTOKEN\"\n",
    )
    .expect("w");
    let cfg = dir.join("config.json");
    let (code, out, err) = c.run(
        &[
            "import",
            "freqtrade",
            cfg.to_str().expect("utf8"),
            "--bot",
            "b",
        ],
        "",
    );
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("config-private.json")).expect("r"),
        "{\"exchange\": {\"key\": \"\", \"secret\": \"\"}}\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join(".env")).expect("r"),
        "FREQTRADE__MAX_OPEN_TRADES=3\nexport FREQTRADE__TELEGRAM__TOKEN=\n"
    );
    let (_, out, _) = c.run(&["show", "b", "--json", "--reveal"], "");
    let j: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(j["secrets"]["secret"], "PRIVSECRET00000001");
    assert_eq!(j["secrets"]["FREQTRADE__TELEGRAM__TOKEN"], "222:ENVTOKEN");
}

#[test]
fn a_failed_unlock_leaves_the_config_untouched() {
    let c = Cli::new();
    let dir = project(&c);
    write_private(&c.pass_file(), "not the right passphrase at all\n");
    let cfg = dir.join("config.json");
    let (code, _, _) = c.run(
        &[
            "import",
            "freqtrade",
            cfg.to_str().expect("utf8"),
            "--bot",
            "ftbot",
        ],
        "",
    );
    assert_eq!(code, 3);
    assert_eq!(std::fs::read_to_string(&cfg).expect("r"), CONFIG);
}

#[test]
fn the_imported_config_still_loads_in_freqtrade_and_runs_with_the_vault() {
    let Some(ft) = require_program(
        "freqtrade",
        "the_imported_config_still_loads_in_freqtrade_and_runs_with_the_vault",
    ) else {
        return;
    };
    let c = Cli::new();
    let dir = project(&c);
    let cfg = dir.join("config.json");
    assert_eq!(
        c.run(
            &[
                "import",
                "freqtrade",
                cfg.to_str().expect("utf8"),
                "--bot",
                "ftbot"
            ],
            ""
        )
        .0,
        0
    );
    let mut cmd = c.cmd();
    cmd.current_dir(&dir)
        .args(["run", "--bot", "ftbot", "--no-mask", "--"])
        .arg(&ft)
        .args(["show-config", "-c", "config.json", "--show-sensitive"]);
    let (code, out, err) = c.run_with(cmd, "");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("\"secret\": \"IMPORTSECRET00000001\""),
        "{out}{err}"
    );
    assert!(
        out.contains("\"password\": \"IMPORTAPIPASS0000000000000001\"")
            || out.contains("IMPORTAPIPASS0000000000000001"),
        "{out}"
    );
    assert!(!err.contains("Configuration error"), "{err}");
}
