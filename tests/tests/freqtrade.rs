//! End to end with the real freqtrade from PyPI (mandatory with VAULT_E2E=1; `.ci/run`
//! installs freqtrade==2026.9 into a virtualenv and puts it on PATH).

use vault_tests::*;

const KEY: &str = "FTKEY00000000000000000001";
const SECRET: &str = "FTSECRET0000000000000000001";

const CONFIG: &str = r#"{
    // freqtrade accepts comments and trailing commas
    "max_open_trades": 1,
    "stake_currency": "USDT",
    "stake_amount": 10,
    "dry_run": true,
    "trading_mode": "spot",
    "exchange": {"name": "binance", "key": "", "secret": "", "pair_whitelist": ["BTC/USDT"]},
    "pairlists": [{"method": "StaticPairList"}],
    "entry_pricing": {"price_side": "same"},
    "exit_pricing": {"price_side": "same"},
    "telegram": {"enabled": false, "token": "", "chat_id": ""},
    "bot_name": "vault-e2e",
}
"#;

fn setup(test: &str) -> Option<(Cli, std::path::PathBuf)> {
    let ft = require_program("freqtrade", test)?;
    let c = Cli::new();
    c.add("ftbot", KEY, SECRET);
    let dir = c.sb.path().join("ft");
    std::fs::create_dir_all(dir.join("user_data")).expect("mkdir");
    std::fs::write(dir.join("config.json"), CONFIG).expect("config");
    Some((c, ft))
}

fn show_config(c: &Cli, ft: &std::path::Path, extra: &[&str]) -> (i32, String, String) {
    let mut cmd = c.cmd();
    cmd.current_dir(c.sb.path().join("ft"))
        .args(["run", "--bot", "ftbot"])
        .args(extra)
        .arg("--")
        .arg(ft)
        .args(["show-config", "-c", "config.json", "--show-sensitive"]);
    c.run_with(cmd, "")
}

#[test]
fn freqtrade_reads_the_key_from_the_environment_and_the_output_is_masked() {
    let Some((c, ft)) =
        setup("freqtrade_reads_the_key_from_the_environment_and_the_output_is_masked")
    else {
        return;
    };
    let (code, out, err) = show_config(&c, &ft, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("\"secret\": \"<redacted:ftbot>\""), "{out}");
    assert!(!out.contains(SECRET) && !err.contains(SECRET));
    let (code, out, err) = show_config(&c, &ft, &["--no-mask"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("\"secret\": \"{SECRET}\"")),
        "freqtrade must have read the real value: {out}"
    );
    assert!(
        err.contains("Loading variable 'FREQTRADE__EXCHANGE__SECRET'"),
        "{err}"
    );
}

#[test]
fn deliver_freqtrade_config_keeps_secrets_out_of_the_environment() {
    let Some((c, ft)) = setup("deliver_freqtrade_config_keeps_secrets_out_of_the_environment")
    else {
        return;
    };
    c.set_secret(
        "ftbot",
        "FREQTRADE__TELEGRAM__TOKEN",
        "TGTOKEN-e2e-000000001",
    );
    let (code, out, err) = show_config(&c, &ft, &["--deliver", "freqtrade-config", "--no-mask"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("\"secret\": \"{SECRET}\"")), "{out}");
    assert!(out.contains(&format!("\"key\": \"{KEY}\"")), "{out}");
    assert!(out.contains("TGTOKEN-e2e-000000001"), "{out}");
    assert!(
        !err.contains("Loading variable 'FREQTRADE__"),
        "no secret may come from the environment: {err}"
    );
    let (code, out, _) = show_config(&c, &ft, &["--deliver", "freqtrade-config"]);
    assert_eq!(code, 0);
    assert!(
        !out.contains(SECRET) && out.contains("<redacted:ftbot>"),
        "{out}"
    );
    assert!(!out.contains("TGTOKEN"), "{out}");
}

#[test]
fn the_type_conversion_warning_covers_every_value_freqtrade_itself_converts() {
    // `vault audit` and `add` warn when freqtrade's env loader would turn a secret into a
    // number, boolean or list (freqtrade-type-conversion). The reference is freqtrade's own
    // `_get_var_typed`, run here on each value: every value it converts must be flagged. The
    // check may flag more (whitespace around t/true, numerals Python rejects), never less.
    let test = "the_type_conversion_warning_covers_every_value_freqtrade_itself_converts";
    let Some(ft) = require_program("freqtrade", test) else {
        return;
    };
    let python = ft.with_file_name("python");
    let values = [
        "123",
        "-5",
        "+7",
        "1_0",
        "1e5",
        "1.5",
        ".5",
        "5.",
        "nan",
        "NaN",
        "-nan",
        "inf",
        "-Infinity",
        " 42 ",
        "\t7\n",
        "t",
        "True",
        "f",
        "FALSE",
        "[1,2]",
        "[]",
        " [1] ",
        "1E-3",
        "1e+5",
        "\u{663}",
        "\u{661}.\u{665}",
        "abc",
        "1__0",
        "_1",
        "1_",
        "0x10",
        "e5",
        ".",
        "{\"a\":1}",
        "\"s\"",
        "yes",
        "1.2.3",
        "12345abc",
        "[1,2",
        "1e",
        "infinit",
        "null",
        "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
        "00000000mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju9",
        "1234567890123",
        "-----BEGIN EC PRIVATE KEY-----",
        "½",
    ];
    let script = "import json,sys\n\
        from freqtrade.configuration.environment_vars import _get_var_typed\n\
        print(json.dumps([not isinstance(_get_var_typed(v), str) for v in json.load(sys.stdin)]))";
    let verdicts = python_json(
        &python,
        &["-c".as_ref(), script.as_ref()],
        &serde_json::to_string(&values[..]).expect("json"),
    );
    let converts: Vec<bool> = serde_json::from_value(verdicts).expect("verdicts");
    assert_eq!(converts.len(), values.len());
    let name = "FREQTRADE__EXCHANGE__SECRET";
    let mut extra = Vec::new();
    for (v, ft_converts) in values.iter().zip(converts) {
        let ours = vault_core::policy::freqtrade_would_convert(name, v);
        assert!(
            !ft_converts || ours,
            "freqtrade converts {v:?}, vault does not warn"
        );
        if ours && !ft_converts {
            extra.push(*v);
        }
    }
    // Where vault warns and freqtrade does not: only these known, deliberate cases.
    for v in &extra {
        assert!(
            [" 42 ", "\t7\n", " [1] ", "½"].contains(v) || v.trim() != *v,
            "vault warns on {v:?}, which freqtrade keeps as a string"
        );
    }
}
