//! The body's JSON text, read and written with the bots in two halves, one per core.
//!
//! Why: on a vault of thousands of bots, turning the text into bots (strings, timestamps,
//! maps) and back is most of what `list` and `rotate` cost. Reading makes one quick pass
//! that only finds where each bot's JSON starts and ends, then parses each half of the bots
//! on its own thread; writing serializes each half into its own zeroizing buffer. Both give
//! exactly what serde's derives of [`Body`] give (tests below compare them), so the text
//! stays what `age -d | jq` shows and what FORMAT.md documents.

use std::collections::BTreeMap;
use std::io::Write;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use zeroize::Zeroizing;

use crate::model::{Body, Bot, Fleet};
use crate::par;
use crate::secret::SecretValue;

/// The body with each bot still as its JSON text. Its fields and their defaults are
/// [`Body`]'s (the equivalence tests below hold the two together).
#[derive(Deserialize)]
struct RawBody<'a> {
    format: u32,
    fingerprint_key: SecretValue,
    log_key: SecretValue,
    #[serde(borrow)]
    bots: RawBots<'a>,
    #[serde(default)]
    retired_fingerprints: Vec<String>,
    #[serde(default)]
    exported_files: Vec<String>,
    #[serde(default)]
    fleet: Option<Fleet>,
}

/// `"bots": {name: {...}, ...}` as (name, the bot's exact JSON text), in file order.
struct RawBots<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for RawBots<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = RawBots<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of bots")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<RawBots<'a>, M::Error> {
                let mut v = Vec::with_capacity(m.size_hint().unwrap_or(0).min(4096));
                while let Some((name, raw)) = m.next_entry::<String, &'de RawValue>()? {
                    v.push((name, raw));
                }
                Ok(RawBots(v))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// Parses the body's text: what `serde_json::from_str::<Body>` gives, the bots parsed half on
/// a second thread when there is enough text for it to pay.
pub(super) fn parse(text: &str) -> serde_json::Result<Body> {
    let raw: RawBody<'_> = serde_json::from_str(text)?;
    let mut first = raw.bots.0;
    let second = first.split_off(first.len() / 2);
    let bots = |half: Vec<(String, &RawValue)>| -> serde_json::Result<Vec<(String, Bot)>> {
        half.into_iter()
            .map(|(name, raw)| Ok((name, serde_json::from_str(raw.get())?)))
            .collect()
    };
    let (second, first) = par::join(
        text.len() >= par::WORTH_A_THREAD,
        || bots(second),
        || bots(first),
    );
    // Collecting keeps the last of two bots with one name, as inserting one by one does.
    let bots: BTreeMap<String, Bot> = first?.into_iter().chain(second?).collect();
    Ok(Body {
        format: raw.format,
        fingerprint_key: raw.fingerprint_key,
        log_key: raw.log_key,
        bots,
        retired_fingerprints: raw.retired_fingerprints,
        exported_files: raw.exported_files,
        fleet: raw.fleet,
    })
}

/// A writer into zeroizing memory. When it must grow, the text moves to a buffer twice the
/// size and the old one is wiped before it is freed, so no reallocation leaves a copy behind.
struct Growing(Zeroizing<Vec<u8>>);

impl Growing {
    fn with_capacity(n: usize) -> Growing {
        Growing(Zeroizing::new(Vec::with_capacity(n)))
    }
}

impl Write for Growing {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let need = self.0.len() + b.len();
        if need > self.0.capacity() {
            let mut bigger = Zeroizing::new(Vec::with_capacity(need.max(2 * self.0.capacity())));
            bigger.extend_from_slice(&self.0);
            // The old buffer is zeroized (Zeroizing's drop) as it is replaced.
            self.0 = bigger;
        }
        self.0.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// About how much text `n` bots make (the buffer grows past it when needed).
fn estimate(n: usize) -> usize {
    4096 + 1024 * n
}

/// Writes `"name":{bot},...` for these bots, with a leading comma when they follow others.
fn write_bots(
    w: &mut Growing,
    bots: &[(&String, &Bot)],
    after_others: bool,
) -> serde_json::Result<()> {
    for (i, (name, bot)) in bots.iter().enumerate() {
        if i > 0 || after_others {
            w.write_all(b",").map_err(serde_json::Error::io)?;
        }
        serde_json::to_writer(&mut *w, name)?;
        w.write_all(b":").map_err(serde_json::Error::io)?;
        serde_json::to_writer(&mut *w, bot)?;
    }
    Ok(())
}

/// The body's text, byte for byte what `serde_json::to_writer(body)` writes (fields in
/// [`Body`]'s order, `fleet` left out when there is none), in zeroizing memory; the second
/// half of the bots is serialized on a second thread when there are enough of them to pay.
pub(super) fn write(body: &Body) -> serde_json::Result<Zeroizing<Vec<u8>>> {
    let bots: Vec<(&String, &Bot)> = body.bots.iter().collect();
    let (first, second) = bots.split_at(bots.len() / 2);
    let parallel = estimate(bots.len()) >= par::WORTH_A_THREAD;
    let (tail, head) = par::join(
        parallel,
        || -> serde_json::Result<Growing> {
            let mut w = Growing::with_capacity(estimate(second.len()));
            write_bots(&mut w, second, !first.is_empty())?;
            Ok(w)
        },
        || -> serde_json::Result<Growing> {
            let mut w = Growing::with_capacity(estimate(bots.len()));
            let io = serde_json::Error::io;
            w.write_all(b"{\"format\":").map_err(io)?;
            serde_json::to_writer(&mut w, &body.format)?;
            w.write_all(b",\"fingerprint_key\":").map_err(io)?;
            serde_json::to_writer(&mut w, &body.fingerprint_key)?;
            w.write_all(b",\"log_key\":").map_err(io)?;
            serde_json::to_writer(&mut w, &body.log_key)?;
            w.write_all(b",\"bots\":{").map_err(io)?;
            write_bots(&mut w, first, false)?;
            Ok(w)
        },
    );
    let (tail, mut w) = (tail?, head?);
    let io = serde_json::Error::io;
    w.write_all(&tail.0).map_err(io)?;
    drop(tail);
    w.write_all(b"},\"retired_fingerprints\":").map_err(io)?;
    serde_json::to_writer(&mut w, &body.retired_fingerprints)?;
    w.write_all(b",\"exported_files\":").map_err(io)?;
    serde_json::to_writer(&mut w, &body.exported_files)?;
    if let Some(fleet) = &body.fleet {
        w.write_all(b",\"fleet\":").map_err(io)?;
        serde_json::to_writer(&mut w, fleet)?;
    }
    w.write_all(b"}").map_err(io)?;
    Ok(w.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One bot's JSON as the derives write it, varied by `i`: revoked, history, verify, extra
    /// secrets, passphrase and uid, escapes and non-ASCII in the note, a sub-account.
    fn bot_json(i: usize) -> String {
        let name = format!("bot-{i:05}");
        let creds = if i % 7 == 3 {
            String::new()
        } else if i.is_multiple_of(3) {
            format!(
                r#""credentials":{{"key":"K{i}","secret":"S\"{i}\\","passphrase":"P{i}","uid":"U{i}"}},"#
            )
        } else {
            format!(
                r#""credentials":{{"key":"K{i}mv9SD5VNHk4HlWFsOr6aKE2zvsw0","secret":"S{i}mdSJYdKjVHjA7PZj4Mge3R5YNi"}},"#
            )
        };
        let extra = if i % 4 == 1 {
            format!(r#"{{"FREQTRADE__TELEGRAM__TOKEN":"T{i}","WEBHOOK_URL":"https://x/{i}"}}"#)
        } else {
            "{}".into()
        };
        let status = if i % 7 == 3 {
            r#"{"state":"revoked","at":"2026-11-02T10:00:00Z","reason":"laptop \"stolen\" — ü"}"#
        } else {
            r#"{"state":"active"}"#
        };
        let history = if i % 5 == 2 {
            r#"[{"fingerprint":"ab","key_hint":"AAAA…BBBB","added_at":"2026-01-01T00:00:00.5Z","retired_at":"2026-02-01T00:00:00Z","event":"rotate","reason":null}]"#
        } else {
            "[]"
        };
        let verify = if i % 6 == 4 {
            r#"{"at":"2026-12-01T01:02:03.123456789Z","fingerprint":"fp","can_withdraw":false,"can_trade":true,"ip_restricted":null,"ip_allowlist":["203.0.113.7"],"expires_at":null,"permissions":["spot"],"trusted":true}"#
        } else {
            "null"
        };
        let note = if i.is_multiple_of(2) {
            "null".to_string()
        } else {
            format!(r#""note {i}\n\t\u0001 ✓""#)
        };
        let sub = if i.is_multiple_of(9) { r#""sub-1""# } else { "null" };
        format!(
            r#"{{"name":"{name}","exchange":"{ex}",{creds}"extra_secrets":{extra},"fingerprint":"{i:064x}","key_hint":"K{i}…0000","scope":{{"withdrawals":"disabled","ip_allowlist":["203.0.113.7"],"sub_account":{sub}}},"env_profile":"auto","rotate_after_days":90,"created_at":"2026-12-07T12:45:09.260453288Z","key_added_at":"2026-12-07T12:45:09.260453288Z","rotated_at":null,"verify":{verify},"status":{status},"history":{history},"note":{note}}}"#,
            ex = if i.is_multiple_of(3) { "okx" } else { "binance" },
        )
    }

    fn body_json(n: usize, fleet: bool) -> String {
        let bots: Vec<String> = (0..n)
            .map(|i| format!(r#""bot-{i:05}":{}"#, bot_json(i)))
            .collect();
        let fleet = if fleet {
            r#","fleet":{"addr":["http://127.0.0.1:8200"],"mount":"bots","approle":"approle","hosts":{"h1":{"cidr":[]}},"assign":{"bot-00001":"h1"}}"#
        } else {
            ""
        };
        format!(
            r#"{{"format":1,"fingerprint_key":"fk","log_key":"lk","bots":{{{}}},"retired_fingerprints":["r1"],"exported_files":["/tmp/x"]{fleet}}}"#,
            bots.join(",")
        )
    }

    #[test]
    fn the_two_thread_text_is_byte_for_byte_what_the_derives_write() {
        // 0, 1 and 2 bots, odd counts, and enough bots for the second thread.
        for n in [0, 1, 2, 3, 17, 300] {
            for fleet in [false, true] {
                let body: Body = serde_json::from_str(&body_json(n, fleet)).expect("derive parse");
                let ours = write(&body).expect("write");
                let derived = serde_json::to_vec(&body).expect("derive write");
                assert_eq!(*ours, derived, "{n} bots, fleet {fleet}");
            }
        }
    }

    #[test]
    fn the_two_thread_parse_reads_what_the_derives_read() {
        for n in [0, 1, 2, 3, 17, 300] {
            for fleet in [false, true] {
                let text = body_json(n, fleet);
                let derived: Body = serde_json::from_str(&text).expect("derive parse");
                let ours = parse(&text).expect("parse");
                assert_eq!(ours.bots.len(), n);
                assert_eq!(
                    serde_json::to_vec(&ours).expect("ser"),
                    serde_json::to_vec(&derived).expect("ser"),
                    "{n} bots, fleet {fleet}"
                );
            }
        }
    }

    #[test]
    fn optional_top_level_fields_default_as_the_derives_do() {
        let text = format!(
            r#"{{"format":1,"fingerprint_key":"fk","log_key":"lk","bots":{{"a":{}}}}}"#,
            bot_json(1)
        );
        let ours = parse(&text).expect("parse");
        assert!(ours.retired_fingerprints.is_empty() && ours.exported_files.is_empty());
        assert!(ours.fleet.is_none());
    }

    #[test]
    fn a_bad_bot_in_either_half_fails_the_parse_as_the_derives_do() {
        let good = body_json(300, false);
        for bad in ["bot-00002", "bot-00290"] {
            // A bot whose exchange is unknown, early (first half) or late (second half).
            let text = good.replacen(
                &format!(r#""name":"{bad}","exchange":"binance""#),
                &format!(r#""name":"{bad}","exchange":"nope""#),
                1,
            );
            assert_ne!(text, good);
            assert!(serde_json::from_str::<Body>(&text).is_err());
            assert!(parse(&text).is_err(), "{bad}");
        }
        for broken in [
            "",
            "{",
            "[]",
            "null",
            r#"{"format":1}"#,
            &good[..good.len() / 2],
        ] {
            assert!(parse(broken).is_err());
            assert!(serde_json::from_str::<Body>(broken).is_err());
        }
    }

    #[test]
    fn two_bots_with_one_name_keep_the_last_as_the_derives_do() {
        let text = format!(
            r#"{{"format":1,"fingerprint_key":"fk","log_key":"lk","bots":{{"a":{},"b":{},"a":{}}}}}"#,
            bot_json(1),
            bot_json(2),
            bot_json(5)
        );
        let derived: Body = serde_json::from_str(&text).expect("derive");
        let ours = parse(&text).expect("parse");
        assert_eq!(ours.bots["a"].note, derived.bots["a"].note);
        assert_eq!(ours.bots["a"].note.as_deref(), Some("note 5\n\t\u{1} ✓"));
    }
}
