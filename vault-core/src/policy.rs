//! The seed's checklist as one table of rules. `add`, `run`, `audit` and `verify` all read
//! their verdicts from here, so a rule's severity is decided in exactly one place.

use jiff::Timestamp;
use serde::Serialize;

use crate::model::{Bot, EnvProfile, StoredCredentials, Withdrawals};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Fails only under `--strict`.
    Warning,
    /// Fails; `add` and `run` refuse where the table says so.
    Critical,
}

/// One rule's verdict about one bot (or the vault).
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Severity.
    pub severity: Severity,
    /// Stable rule id (documented in docs/AUDIT.md).
    pub rule: &'static str,
    /// The bot, if the finding is about one.
    pub bot: Option<String>,
    /// What is wrong.
    pub message: String,
    /// What to do next.
    pub next: String,
}

fn finding(sev: Severity, rule: &'static str, bot: &Bot, message: String, next: String) -> Finding {
    Finding {
        severity: sev,
        rule,
        bot: Some(bot.name.clone()),
        message,
        next,
    }
}

/// Does the bot's key allow withdrawals, declared or as seen by a trusted verify?
pub fn withdrawals_enabled(bot: &Bot) -> bool {
    bot.scope.withdrawals == Withdrawals::Enabled
        || bot
            .current_verify()
            .is_some_and(|v| v.trusted && v.can_withdraw == Some(true))
}

/// Why `run` must refuse this bot, if it must.
pub fn run_refusal(bot: &Bot) -> Option<String> {
    if !bot.is_active() {
        return Some(format!(
            "{} is revoked; rotate in a new key with `vault rotate {}`",
            bot.name, bot.name
        ));
    }
    if withdrawals_enabled(bot) {
        return Some(format!(
            "{}'s key allows withdrawals (rule 1: trade-only, never withdrawals); create a trade-only key at {} and `vault rotate {}`",
            bot.name,
            bot.exchange.api_management_url(),
            bot.name
        ));
    }
    None
}

/// Every rule of the table about one bot, at time `now`.
pub fn evaluate(bot: &Bot, now: Timestamp) -> Vec<Finding> {
    let mut out = Vec::new();
    let page = bot.exchange.api_management_url();
    let verify = bot.current_verify().filter(|v| v.trusted);
    if !bot.is_active() {
        out.push(finding(
            Severity::Info,
            "revoked",
            bot,
            "the bot is revoked; `vault run` refuses it".into(),
            format!("make sure the key is deleted at {page}"),
        ));
        return out;
    }
    if withdrawals_enabled(bot) {
        out.push(finding(
            Severity::Critical,
            "withdrawals-enabled",
            bot,
            "the key allows withdrawals: a leak can move funds off the exchange".into(),
            format!(
                "delete it at {page}, create a trade-only key, then `vault rotate {}`",
                bot.name
            ),
        ));
    } else if bot.scope.withdrawals == Withdrawals::Unknown
        && verify.is_none_or(|v| v.can_withdraw.is_none())
    {
        out.push(finding(
            Severity::Warning,
            "withdrawals-unknown",
            bot,
            "nobody has confirmed that withdrawals are disabled on this key".into(),
            format!("run `vault verify {}`, or check at {page} and `vault set {} --withdrawals disabled`", bot.name, bot.name),
        ));
    }
    if verify.is_some_and(|v| v.can_withdraw.is_none()) {
        out.push(finding(
            Severity::Warning,
            "withdraw-unknowable",
            bot,
            format!(
                "{} does not report whether this key may withdraw",
                bot.exchange
            ),
            format!("check the key's permissions by hand at {page}"),
        ));
    }
    if verify.is_some_and(|v| v.ip_restricted == Some(false)) {
        out.push(finding(
            Severity::Critical,
            "ip-not-restricted",
            bot,
            "the exchange says this key works from any IP address: a stolen key works from anywhere (the 3Commas keys were trade-only and still drained accounts)".into(),
            format!("add your server's IP to the key's allow-list at {page}"),
        ));
    }
    let wide: Vec<&str> = bot
        .scope
        .ip_allowlist
        .iter()
        .map(String::as_str)
        .filter(|ip| crate::model::ip_entry_is_too_wide(ip))
        .collect();
    if !wide.is_empty() {
        out.push(finding(
            Severity::Warning,
            "ip-allowlist-too-wide",
            bot,
            format!(
                "the allow-list entry {} is wider than a /{} (IPv4) or /{} (IPv6): it is not an allow-list (rule 2)",
                wide.join(", "),
                crate::model::WIDEST_IPV4_PREFIX,
                crate::model::WIDEST_IPV6_PREFIX
            ),
            format!(
                "restrict the key to your server's own address at {page}, then `vault set {} --ip ADDR`",
                bot.name
            ),
        ));
    }
    let declared_restricted = bot.scope.ip_allowlist.len() > wide.len();
    if !declared_restricted && verify.is_none_or(|v| v.ip_restricted != Some(true)) {
        let mut msg = String::from("no IP allow-list is declared for this key (rule 2)");
        if let Some(note) = bot.exchange.no_ip_note() {
            msg.push_str("; ");
            msg.push_str(note);
        }
        out.push(finding(
            Severity::Warning,
            "no-ip-allowlist",
            bot,
            msg,
            format!(
                "restrict the key to your server's IP at {page}, then `vault set {} --ip ADDR`",
                bot.name
            ),
        ));
    }
    if !bot.exchange.ip_restriction_knowable() {
        out.push(finding(
            Severity::Warning,
            "ip-restriction-unknowable",
            bot,
            format!(
                "{} does not report whether a key is IP-restricted",
                bot.exchange
            ),
            format!("check the key's IP settings by hand at {page}"),
        ));
    }
    let age = now.duration_since(bot.key_added_at);
    let age_days = age.as_secs() / 86_400;
    if age > jiff::SignedDuration::from_secs(i64::from(bot.rotate_after_days) * 86_400) {
        out.push(finding(
            Severity::Warning,
            "key-too-old",
            bot,
            format!(
                "the key is {age_days} days old (rotate after {} days)",
                bot.rotate_after_days
            ),
            format!(
                "create a new key at {page}, then `vault rotate {}`",
                bot.name
            ),
        ));
    }
    if let Some(exp) = verify.and_then(|v| v.expires_at) {
        let left = exp.duration_since(now).as_secs() / 86_400;
        if left < 14 {
            out.push(finding(
                Severity::Warning,
                "key-expires-soon",
                bot,
                format!("the exchange expires this key in {left} days"),
                format!(
                    "create a new key at {page}, then `vault rotate {}`",
                    bot.name
                ),
            ));
        }
    }
    for (field, value) in bot.secret_values() {
        if value.len() < 12 {
            out.push(finding(
                Severity::Info,
                "short-secret",
                bot,
                format!("{field} is shorter than 12 characters, so masking it reveals little"),
                "prefer longer secrets where you choose them".into(),
            ));
        }
    }
    if bot.env_profile != EnvProfile::Generic {
        let mut converted = bot
            .credentials()
            .map(freqtrade_converted_fields)
            .unwrap_or_default();
        converted.extend(bot.extra_secret_names().filter(|n| {
            bot.extra_secret(n)
                .is_some_and(|v| freqtrade_would_convert(n, v.expose()))
        }));
        for env_name in converted {
            out.push(finding(
                Severity::Warning,
                "freqtrade-type-conversion",
                bot,
                format!(
                    "freqtrade's env loader would turn {env_name} into a number, boolean or list"
                ),
                "use `--deliver freqtrade-config`, or put this value in the config file".into(),
            ));
        }
    }
    out
}

/// The freqtrade env names under which this key's values would be converted by freqtrade's
/// env loader (used by `add`, `rotate`, `import` and `audit`).
pub fn freqtrade_converted_fields(key: &StoredCredentials) -> Vec<&'static str> {
    let f = crate::env::FREQTRADE;
    [
        (f.key, Some(&key.key)),
        (f.secret, Some(&key.secret)),
        (f.passphrase, key.passphrase.as_ref()),
        (f.uid, key.uid.as_ref()),
    ]
    .into_iter()
    .filter(|(name, v)| v.is_some_and(|v| freqtrade_would_convert(name, v.expose())))
    .map(|(name, _)| name)
    .collect()
}

/// Whether freqtrade's `environment_vars._get_var_typed` would convert this value: Python's
/// `int()`, then `float()`, then `t/true/f/false`, then a JSON list. Names whose last
/// segment is `PASSWORD` or `CHAT_ID` are kept as strings by freqtrade.
///
/// The value is a secret: it is only read in place, never copied (no lowercased copy, no
/// parsed JSON tree) into memory that would not be wiped.
pub fn freqtrade_would_convert(env_name: &str, value: &str) -> bool {
    if !env_name.starts_with("FREQTRADE__") {
        return false;
    }
    // The last `__` segment decides: `FREQTRADE__..__PASSWORD` and `..__CHAT_ID` stay strings.
    let name = env_name.as_bytes();
    if name.ends_with(b"__PASSWORD") || name.ends_with(b"__CHAT_ID") {
        return false;
    }
    // Python's str.strip() and Rust's trim() strip the same Unicode White_Space set.
    let v = value.trim();
    // Most secrets are refused by their first character: only these can start a number, a
    // boolean, `nan`/`inf` or a list.
    let Some(&first) = v.as_bytes().first() else {
        return false;
    };
    if first.is_ascii() && !(first.is_ascii_digit() || b"+-.[nNiItTfF".contains(&first)) {
        return false;
    }
    if python_int(v) || python_float(v) {
        return true;
    }
    if ["t", "true", "f", "false"]
        .iter()
        .any(|w| v.eq_ignore_ascii_case(w))
    {
        return true;
    }
    // Only a value that opens a list can parse as one; it is checked without building
    // anything from it.
    v.starts_with('[') && serde_json::from_str::<Vec<serde::de::IgnoredAny>>(v).is_ok()
}

/// A digit as Python's `int()` and `float()` read one: any Unicode decimal digit, not only
/// ASCII (`int("٣")` is 3). Rust cannot tell decimal digits (Nd) from other numerals, so every
/// numeric character counts: that only ever warns more, never less.
fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || (!c.is_ascii() && c.is_numeric())
}

/// digit (["_"] digit)*
fn digitpart(s: &str) -> bool {
    s.chars().next().is_some_and(is_digit)
        && s.chars().next_back().is_some_and(is_digit)
        && s.chars().all(|c| is_digit(c) || c == '_')
        && !s.contains("__")
}

fn strip_sign(s: &str) -> &str {
    s.strip_prefix(['+', '-']).unwrap_or(s)
}

fn python_int(s: &str) -> bool {
    digitpart(strip_sign(s))
}

fn python_float(s: &str) -> bool {
    let s = strip_sign(s);
    if ["nan", "inf", "infinity"]
        .iter()
        .any(|w| s.eq_ignore_ascii_case(w))
    {
        return true;
    }
    // Otherwise only digits, `_`, one `.` and an exponent: stop at the first other character.
    if !s
        .chars()
        .all(|c| is_digit(c) || matches!(c, '_' | '.' | 'e' | 'E' | '+' | '-'))
    {
        return false;
    }
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    if let Some(e) = exp {
        if !digitpart(strip_sign(e)) {
            return false;
        }
    }
    match mantissa.split_once('.') {
        Some((a, b)) => {
            (a.is_empty() || digitpart(a))
                && (b.is_empty() || digitpart(b))
                && !(a.is_empty() && b.is_empty())
        }
        None => digitpart(mantissa),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freqtrade_conversion_copies_the_env_loader() {
        let n = "FREQTRADE__TELEGRAM__TOKEN";
        for v in [
            "123",
            "-5",
            "1_0",
            "1e5",
            "1.5",
            ".5",
            "5.",
            "nan",
            "NaN",
            "inf",
            "-Infinity",
            " 42 ",
            "t",
            "True",
            "f",
            "FALSE",
            "[1,2]",
            "[]",
            "1E-3",
            "1e+5",
            "INF",
            "+nan",
            "\u{2003}7\u{a0}",
            "\u{663}",
            "\u{661}.\u{665}",
            "[\"a\", {\"b\": null}]",
        ] {
            assert!(freqtrade_would_convert(n, v), "{v}");
        }
        for v in [
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
            "[1,2]x",
            "1e",
            "1E+",
            "infinit",
        ] {
            assert!(!freqtrade_would_convert(n, v), "{v}");
        }
        assert!(!freqtrade_would_convert(
            "FREQTRADE__EXCHANGE__PASSWORD",
            "123"
        ));
        assert!(!freqtrade_would_convert(
            "FREQTRADE__TELEGRAM__CHAT_ID",
            "123"
        ));
        assert!(!freqtrade_would_convert("EXCHANGE_SECRET", "123"));
    }
}
