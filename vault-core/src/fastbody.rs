//! The decrypted body's JSON read by hand, along the exact path vault's own writer takes.
//!
//! serde_json reads a bot by matching every key as a string, dispatching every value through
//! a visitor and buffering nothing it need not; on a 2,000-bot vault that is most of an
//! open's instructions. vault writes its body compactly, in one field order, so this reader
//! expects exactly those bytes (`{"name":`, then the name, then `,"exchange":`, ...), and
//! the moment anything else appears (another order, an unknown field, whitespace, a string
//! with an escape or a control character, a number out of range, a value it does not know)
//! it gives up on that bot, which serde_json then reads from the same place; and when the
//! body's outer shape is not the writer's, serde_json reads the whole body. So it accepts
//! only what serde_json accepts, and yields what serde_json yields: tests and a fuzz target
//! hold the two to the same result, on bodies from the writer and on damaged ones.
//!
//! Also the bodies of earlier builds, which wrote empty fields as `null`, `{}` or `[]`
//! (docs/FORMAT.md), take this path.
//!
//! [`write_body`] is the other direction: the same text `serde_json::to_writer` writes, byte
//! for byte (tested), without serde's per-field calls and its byte-by-byte escaping of
//! strings that need none; the rare parts (a verify result, history, a revoked status, the
//! fleet) are still written by serde_json.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use jiff::Timestamp;
use serde::de::value::BorrowedStrDeserializer;
use serde::Deserialize;

use crate::model::{
    Body, Bot, EnvProfile, HistoryEntry, Scope, Status, StoredCredentials, VerifyResult,
    Withdrawals,
};
use crate::secret::SecretValue;
use crate::Exchange;

/// The body, as serde_json would read it from `text`.
pub(crate) fn parse_body(text: &str) -> serde_json::Result<Body> {
    match Reader::new(text).body() {
        Some(body) => Ok(body),
        None => serde_json::from_str(text),
    }
}

/// Writes the body's JSON: exactly what `serde_json::to_writer(w, body)` writes.
///
/// Every struct is taken apart field by field, with no `..`: a field added to the model does
/// not compile until it is written here too (and read in [`Reader`]), instead of being
/// silently left out of the file.
pub(crate) fn write_body<W: Write>(body: &Body, w: &mut W) -> std::io::Result<()> {
    let Body {
        format,
        fingerprint_key,
        log_key,
        bots,
        retired_fingerprints,
        exported_files,
        fleet,
    } = body;
    w.write_all(b"{\"format\":")?;
    w.write_all(format.to_string().as_bytes())?;
    w.write_all(b",\"fingerprint_key\":")?;
    put_str(w, fingerprint_key.expose())?;
    w.write_all(b",\"log_key\":")?;
    put_str(w, log_key.expose())?;
    w.write_all(b",\"bots\":{")?;
    for (i, (name, bot)) in bots.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        put_str(w, name)?;
        w.write_all(b":")?;
        write_bot(bot, w)?;
    }
    w.write_all(b"},\"retired_fingerprints\":")?;
    by_serde(w, retired_fingerprints)?;
    w.write_all(b",\"exported_files\":")?;
    by_serde(w, exported_files)?;
    if let Some(fleet) = fleet {
        w.write_all(b",\"fleet\":")?;
        by_serde(w, fleet)?;
    }
    w.write_all(b"}")
}

fn write_bot<W: Write>(b: &Bot, w: &mut W) -> std::io::Result<()> {
    let Bot {
        name,
        exchange,
        credentials,
        extra_secrets,
        fingerprint,
        key_hint,
        scope:
            Scope {
                withdrawals,
                ip_allowlist,
                sub_account,
            },
        env_profile,
        rotate_after_days,
        created_at,
        key_added_at,
        rotated_at,
        verify,
        status,
        history,
        note,
    } = b;
    w.write_all(b"{\"name\":")?;
    put_str(w, name)?;
    w.write_all(b",\"exchange\":")?;
    by_serde(w, exchange)?;
    if let Some(StoredCredentials {
        key,
        secret,
        passphrase,
        uid,
    }) = credentials
    {
        w.write_all(b",\"credentials\":{\"key\":")?;
        put_str(w, key.expose())?;
        w.write_all(b",\"secret\":")?;
        put_str(w, secret.expose())?;
        if let Some(p) = passphrase {
            w.write_all(b",\"passphrase\":")?;
            put_str(w, p.expose())?;
        }
        if let Some(u) = uid {
            w.write_all(b",\"uid\":")?;
            put_str(w, u.expose())?;
        }
        w.write_all(b"}")?;
    }
    if !extra_secrets.is_empty() {
        w.write_all(b",\"extra_secrets\":{")?;
        for (i, (k, v)) in extra_secrets.iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            put_str(w, k)?;
            w.write_all(b":")?;
            put_str(w, v.expose())?;
        }
        w.write_all(b"}")?;
    }
    w.write_all(b",\"fingerprint\":")?;
    put_str(w, fingerprint)?;
    w.write_all(b",\"key_hint\":")?;
    put_str(w, key_hint)?;
    w.write_all(b",\"scope\":{\"withdrawals\":")?;
    by_serde(w, withdrawals)?;
    w.write_all(b",\"ip_allowlist\":")?;
    by_serde(w, ip_allowlist)?;
    if let Some(sub) = sub_account {
        w.write_all(b",\"sub_account\":")?;
        put_str(w, sub)?;
    }
    w.write_all(b"},\"env_profile\":")?;
    by_serde(w, env_profile)?;
    w.write_all(b",\"rotate_after_days\":")?;
    w.write_all(rotate_after_days.to_string().as_bytes())?;
    w.write_all(b",\"created_at\":")?;
    put_ts(w, created_at)?;
    w.write_all(b",\"key_added_at\":")?;
    put_ts(w, key_added_at)?;
    if let Some(t) = rotated_at {
        w.write_all(b",\"rotated_at\":")?;
        put_ts(w, t)?;
    }
    if let Some(v) = verify {
        w.write_all(b",\"verify\":")?;
        by_serde(w, v)?;
    }
    w.write_all(b",\"status\":")?;
    match status {
        Status::Active => w.write_all(b"{\"state\":\"active\"}")?,
        revoked => by_serde(w, revoked)?,
    }
    w.write_all(b",\"history\":")?;
    by_serde(w, history)?;
    if let Some(note) = note {
        w.write_all(b",\"note\":")?;
        put_str(w, note)?;
    }
    w.write_all(b"}")
}

/// A JSON string: as is between quotes when nothing in it needs an escape (the usual case),
/// else as serde_json escapes it.
fn put_str<W: Write>(w: &mut W, s: &str) -> std::io::Result<()> {
    if s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        return by_serde(w, s);
    }
    w.write_all(b"\"")?;
    w.write_all(s.as_bytes())?;
    w.write_all(b"\"")
}

fn put_ts<W: Write>(w: &mut W, t: &Timestamp) -> std::io::Result<()> {
    crate::ts::serialize(t, &mut serde_json::Serializer::new(&mut *w))
        .map_err(std::io::Error::other)
}

fn by_serde<W: Write, T: serde::Serialize + ?Sized>(w: &mut W, v: &T) -> std::io::Result<()> {
    serde_json::to_writer(&mut *w, v).map_err(std::io::Error::other)
}

/// The fields after `bots`, read by serde_json (they are few and short). The ones before
/// `bots` are named too, so that one given again is noticed (serde_json refuses a body with
/// a field twice).
#[derive(Deserialize)]
struct Tail {
    format: Option<serde::de::IgnoredAny>,
    fingerprint_key: Option<serde::de::IgnoredAny>,
    log_key: Option<serde::de::IgnoredAny>,
    bots: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    retired_fingerprints: Vec<String>,
    #[serde(default)]
    exported_files: Vec<String>,
    #[serde(default)]
    fleet: Option<crate::model::Fleet>,
}

struct Reader<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Self {
        Reader { text, at: 0 }
    }

    fn rest(&self) -> &'a [u8] {
        self.text.as_bytes().get(self.at..).unwrap_or_default()
    }

    /// Steps over `lit` if it comes next.
    fn eat(&mut self, lit: &str) -> bool {
        let hit = self.rest().starts_with(lit.as_bytes());
        if hit {
            self.at += lit.len();
        }
        hit
    }

    /// `lit`, or give up.
    fn lit(&mut self, lit: &str) -> Option<()> {
        self.eat(lit).then_some(())
    }

    /// A string with no escape and no control character, borrowed from the text.
    fn str(&mut self) -> Option<&'a str> {
        self.lit("\"")?;
        let rest = self.rest();
        let len = memchr::memchr2(b'"', b'\\', rest)?;
        // The control-character check has no early exit, so it runs many bytes at a time
        // (a byte-by-byte `any` was a fifth of the parse's instructions).
        if rest[len] != b'"' || rest[..len].iter().fold(false, |c, &b| c | (b < 0x20)) {
            return None;
        }
        // Both ends are ASCII quotes, so both are character boundaries.
        let s = self.text.get(self.at..self.at + len)?;
        self.at += len + 1;
        Some(s)
    }

    fn string(&mut self) -> Option<String> {
        self.str().map(str::to_owned)
    }

    fn secret(&mut self) -> Option<SecretValue> {
        self.str().map(SecretValue::from)
    }

    /// A string naming a unit variant, read by the type's own serde code.
    fn name<T: Deserialize<'a>>(&mut self) -> Option<T> {
        let s = self.str()?;
        T::deserialize(BorrowedStrDeserializer::<serde::de::value::Error>::new(s)).ok()
    }

    fn ts(&mut self) -> Option<Timestamp> {
        crate::ts::parse(self.str()?).ok()
    }

    /// A u32 as JSON writes it: no sign, no leading zero, no fraction or exponent.
    fn u32(&mut self) -> Option<u32> {
        let rest = self.rest();
        let len = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if len == 0 || (len > 1 && rest[0] == b'0') || len > 10 {
            return None;
        }
        if matches!(rest.get(len), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        let n = std::str::from_utf8(&rest[..len]).ok()?.parse().ok()?;
        self.at += len;
        Some(n)
    }

    fn bool(&mut self) -> Option<bool> {
        if self.eat("true") {
            Some(true)
        } else {
            self.lit("false").map(|()| false)
        }
    }

    /// `null`, or a value read by `f`.
    fn nullable<T>(&mut self, f: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.eat("null") {
            Some(None)
        } else {
            f(self).map(Some)
        }
    }

    /// The field `key` (with its leading comma or brace) and its value, read by `f`.
    fn field<T>(&mut self, key: &str, f: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        self.lit(key)?;
        f(self)
    }

    /// An optional field `key`, which the writer leaves out when empty (and earlier builds
    /// wrote as `null`).
    fn opt<T>(&mut self, key: &str, f: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.eat(key) {
            self.nullable(f)
        } else {
            Some(None)
        }
    }

    /// The items of a list or map whose opening bracket has been read, separated by commas up
    /// to `close`, each read by `item`.
    fn items(&mut self, close: &str, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        if self.eat(close) {
            return Some(());
        }
        loop {
            item(self)?;
            if !self.eat(",") {
                return self.lit(close);
            }
        }
    }

    /// `[` strings `]`.
    fn strings(&mut self) -> Option<Vec<String>> {
        self.lit("[")?;
        let mut v = Vec::new();
        self.items("]", |r| r.string().map(|s| v.push(s)))?;
        Some(v)
    }

    fn body(&mut self) -> Option<Body> {
        let format = self.field("{\"format\":", Self::u32)?;
        let fingerprint_key = self.field(",\"fingerprint_key\":", Self::secret)?;
        let log_key = self.field(",\"log_key\":", Self::secret)?;
        self.lit(",\"bots\":{")?;
        let mut bots = Vec::new();
        self.items("}", |r| {
            let name = r.string()?;
            r.lit(":")?;
            bots.push((name, Arc::new(r.bot_or_serde()?)));
            Some(())
        })?;
        // What is left is `}` or `,"retired_fingerprints":...}`: read as an object of its own,
        // `{` and the members after the comma (a comma not followed by a member is not JSON).
        let rest = self.text.get(self.at..)?;
        let members = match rest.strip_prefix(',') {
            Some(m) if m.starts_with('"') => m,
            Some(_) => return None,
            None if rest.starts_with('}') => rest,
            None => return None,
        };
        let tail: Tail = serde_json::from_str(&format!("{{{members}")).ok()?;
        if tail.format.is_some()
            || tail.fingerprint_key.is_some()
            || tail.log_key.is_some()
            || tail.bots.is_some()
        {
            return None;
        }
        Some(Body {
            format,
            fingerprint_key,
            log_key,
            // As serde reads the map: a name given twice keeps its last bot.
            bots: bots.into_iter().collect(),
            retired_fingerprints: tail.retired_fingerprints,
            exported_files: tail.exported_files,
            fleet: tail.fleet,
        })
    }

    /// One bot by hand, or, if it is not in the writer's shape, by serde_json from the same
    /// place; `None` if serde_json refuses it too.
    fn bot_or_serde(&mut self) -> Option<Bot> {
        let start = self.at;
        if let Some(bot) = self.bot() {
            return Some(bot);
        }
        let text = self.text.get(start..)?;
        let mut values = serde_json::Deserializer::from_str(text).into_iter::<Bot>();
        let bot = values.next()?.ok()?;
        self.at = start + values.byte_offset();
        Some(bot)
    }

    fn bot(&mut self) -> Option<Bot> {
        let name = self.field("{\"name\":", Self::string)?;
        let exchange: Exchange = self.field(",\"exchange\":", Self::name)?;
        let credentials = if self.eat(",\"credentials\":") {
            Some(self.credentials()?)
        } else {
            None
        };
        let mut extra_secrets = BTreeMap::new();
        if self.eat(",\"extra_secrets\":{") {
            self.items("}", |r| {
                let k = r.string()?;
                r.lit(":")?;
                extra_secrets.insert(k, r.secret()?);
                Some(())
            })?;
        }
        let fingerprint = self.field(",\"fingerprint\":", Self::string)?;
        let key_hint = self.field(",\"key_hint\":", Self::string)?;
        let withdrawals: Withdrawals = self.field(",\"scope\":{\"withdrawals\":", Self::name)?;
        let ip_allowlist = self.field(",\"ip_allowlist\":", Self::strings)?;
        let sub_account = self.opt(",\"sub_account\":", Self::string)?;
        let env_profile: EnvProfile = self.field("},\"env_profile\":", Self::name)?;
        let rotate_after_days = self.field(",\"rotate_after_days\":", Self::u32)?;
        let created_at = self.field(",\"created_at\":", Self::ts)?;
        let key_added_at = self.field(",\"key_added_at\":", Self::ts)?;
        let rotated_at = self.opt(",\"rotated_at\":", Self::ts)?;
        let verify = self.opt(",\"verify\":", Self::verify)?;
        let status = self.field(",\"status\":", Self::status)?;
        self.lit(",\"history\":[")?;
        let mut history = Vec::new();
        self.items("]", |r| r.history_entry().map(|h| history.push(h)))?;
        let note = self.opt(",\"note\":", Self::string)?;
        self.lit("}")?;
        Some(Bot {
            name,
            exchange,
            credentials,
            extra_secrets,
            fingerprint,
            key_hint,
            scope: Scope {
                withdrawals,
                ip_allowlist,
                sub_account,
            },
            env_profile,
            rotate_after_days,
            created_at,
            key_added_at,
            rotated_at,
            verify,
            status,
            history,
            note,
        })
    }

    fn credentials(&mut self) -> Option<StoredCredentials> {
        let key = self.field("{\"key\":", Self::secret)?;
        let secret = self.field(",\"secret\":", Self::secret)?;
        let passphrase = self.opt(",\"passphrase\":", Self::secret)?;
        let uid = self.opt(",\"uid\":", Self::secret)?;
        self.lit("}")?;
        Some(StoredCredentials {
            key,
            secret,
            passphrase,
            uid,
        })
    }

    fn status(&mut self) -> Option<Status> {
        if self.eat("{\"state\":\"active\"}") {
            return Some(Status::Active);
        }
        let at = self.field("{\"state\":\"revoked\",\"at\":", Self::ts)?;
        let reason = self.opt(",\"reason\":", Self::string)?;
        self.lit("}")?;
        Some(Status::Revoked { at, reason })
    }

    fn history_entry(&mut self) -> Option<HistoryEntry> {
        let fingerprint = self.field("{\"fingerprint\":", Self::string)?;
        let key_hint = self.field(",\"key_hint\":", Self::string)?;
        let added_at = self.field(",\"added_at\":", Self::ts)?;
        let retired_at = self.field(",\"retired_at\":", Self::ts)?;
        let event = self.field(",\"event\":", Self::string)?;
        let reason = self.opt(",\"reason\":", Self::string)?;
        self.lit("}")?;
        Some(HistoryEntry {
            fingerprint,
            key_hint,
            added_at,
            retired_at,
            event,
            reason,
        })
    }

    fn verify(&mut self) -> Option<VerifyResult> {
        let at = self.field("{\"at\":", Self::ts)?;
        let fingerprint = self.field(",\"fingerprint\":", Self::string)?;
        self.lit(",\"can_withdraw\":")?;
        let can_withdraw = self.nullable(Self::bool)?;
        self.lit(",\"can_trade\":")?;
        let can_trade = self.nullable(Self::bool)?;
        self.lit(",\"ip_restricted\":")?;
        let ip_restricted = self.nullable(Self::bool)?;
        let ip_allowlist = self.field(",\"ip_allowlist\":", Self::strings)?;
        self.lit(",\"expires_at\":")?;
        let expires_at = self.nullable(Self::ts)?;
        let permissions = self.field(",\"permissions\":", Self::strings)?;
        let trusted = self.field(",\"trusted\":", Self::bool)?;
        self.lit("}")?;
        Some(VerifyResult {
            at,
            fingerprint,
            can_withdraw,
            can_trade,
            ip_restricted,
            ip_allowlist,
            expires_at,
            permissions,
            trusted,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// serde_json's reading, written back out: the reference.
    fn by_serde(text: &str) -> Option<String> {
        serde_json::from_str::<Body>(text)
            .ok()
            .map(|b| serde_json::to_string(&b).expect("test"))
    }

    /// `write_body`'s text for the body serde_json reads from `text`.
    fn written(text: &str) -> String {
        let body: Body = serde_json::from_str(text).expect("test");
        let mut out = Vec::new();
        write_body(&body, &mut out).expect("test");
        String::from_utf8(out).expect("test")
    }

    fn by_hand(text: &str) -> Option<String> {
        parse_body(text)
            .ok()
            .map(|b| serde_json::to_string(&b).expect("test"))
    }

    /// Bots with every optional part present somewhere, as the writer writes them.
    fn writer_body() -> String {
        let at = "2026-01-02T03:04:05.123456789Z";
        let bots = [
            r#""a":{"name":"a","exchange":"binance","credentials":{"key":"K1","secret":"S1"},"fingerprint":"f1","key_hint":"K1…K1","scope":{"withdrawals":"disabled","ip_allowlist":["203.0.113.7"]},"env_profile":"auto","rotate_after_days":90,"created_at":"AT","key_added_at":"AT","status":{"state":"active"},"history":[]}"#,
            r#""b":{"name":"b","exchange":"okx","credentials":{"key":"K2","secret":"S2","passphrase":"P2","uid":"U2"},"extra_secrets":{"FREQTRADE__TELEGRAM__TOKEN":"t","X":"ключ"},"fingerprint":"f2","key_hint":"K2…K2","scope":{"withdrawals":"unknown","ip_allowlist":[],"sub_account":"sub"},"env_profile":"freqtrade","rotate_after_days":0,"created_at":"AT","key_added_at":"2026-03-04T05:06:07Z","rotated_at":"2026-03-04T05:06:07Z","verify":{"at":"AT","fingerprint":"f2","can_withdraw":false,"can_trade":true,"ip_restricted":null,"ip_allowlist":["203.0.113.7","2001:db8::1"],"expires_at":null,"permissions":["read","trade"],"trusted":true},"status":{"state":"active"},"history":[{"fingerprint":"f0","key_hint":"J…J","added_at":"AT","retired_at":"AT","event":"rotate"},{"fingerprint":"f9","key_hint":"J…J","added_at":"AT","retired_at":"AT","event":"rotate","reason":"leak"}],"note":"🔑 note"}"#,
            r#""c":{"name":"c","exchange":"gate","fingerprint":"f3","key_hint":"K3…K3","scope":{"withdrawals":"enabled","ip_allowlist":["0.0.0.0/0"]},"env_profile":"generic","rotate_after_days":4294967295,"created_at":"AT","key_added_at":"AT","verify":{"at":"AT","fingerprint":"fx","can_withdraw":null,"can_trade":null,"ip_restricted":true,"ip_allowlist":[],"expires_at":"AT","permissions":[],"trusted":false},"status":{"state":"revoked","at":"AT"},"history":[]}"#,
            r#""d":{"name":"d","exchange":"coinbase","credentials":{"key":"K4","secret":"-----BEGIN EC PRIVATE KEY-----"},"fingerprint":"f4","key_hint":"K4…K4","scope":{"withdrawals":"disabled","ip_allowlist":["198.51.100.0/24"]},"env_profile":"auto","rotate_after_days":30,"created_at":"AT","key_added_at":"AT","status":{"state":"revoked","at":"AT","reason":"gone"},"history":[]}"#,
        ];
        format!(
            r#"{{"format":1,"fingerprint_key":"fk","log_key":"lk","bots":{{{}}},"retired_fingerprints":["r1"],"exported_files":["/x"],"fleet":{{"addr":["http://127.0.0.1:8200"],"mount":"kv","approle":"approle","hosts":{{"h":{{"cidr":[]}}}},"assign":{{"a":"h"}}}}}}"#,
            bots.join(",")
        )
        .replace("AT", at)
    }

    #[test]
    fn what_the_writer_writes_is_read_by_hand_and_equals_serdes_reading() {
        let text = writer_body();
        // Every bot takes the hand path (none falls back).
        let mut r = Reader::new(&text);
        assert!(r.body().is_some());
        let want = by_serde(&text).expect("serde reads it");
        assert_eq!(want, text, "the sample is in the writer's own form");
        assert_eq!(written(&text), text);
        assert_eq!(by_hand(&text).as_deref(), Some(&want[..]));
        let empty = "{\"format\":1,\"fingerprint_key\":\"a\",\"log_key\":\"b\",\"bots\":{}}";
        assert!(Reader::new(empty).body().is_some());
        assert_eq!(by_hand(empty), by_serde(empty));
    }

    #[test]
    fn earlier_builds_bodies_with_null_and_empty_fields_are_read_the_same() {
        let old = r#"{"format":1,"fingerprint_key":"fk","log_key":"lk","bots":{"a":{"name":"a","exchange":"binance","credentials":{"key":"K","secret":"S"},"extra_secrets":{},"fingerprint":"f","key_hint":"K…K","scope":{"withdrawals":"disabled","ip_allowlist":["203.0.113.7"],"sub_account":null},"env_profile":"auto","rotate_after_days":90,"created_at":"2026-01-02T03:04:05Z","key_added_at":"2026-01-02T03:04:05Z","rotated_at":null,"verify":null,"status":{"state":"revoked","at":"2026-01-02T03:04:05Z","reason":null},"history":[{"fingerprint":"f0","key_hint":"J…J","added_at":"2026-01-02T03:04:05Z","retired_at":"2026-01-02T03:04:05Z","event":"revoke","reason":null}],"note":null}},"retired_fingerprints":[],"exported_files":[]}"#;
        assert!(Reader::new(old).body().is_some());
        assert_eq!(by_hand(old), by_serde(old));
        // And it is written back in the compact form, as serde_json writes it.
        assert_eq!(Some(written(old)), by_serde(old));
        assert!(by_hand(old).is_some());
    }

    #[test]
    fn a_bot_not_in_the_writers_shape_is_read_by_serde_and_the_rest_by_hand() {
        let text = writer_body();
        // Whitespace, an escape, another field order: each makes that one bot fall back.
        for (from, to) in [
            (r#"{"name":"a","#, r#"{ "name" : "a","#),
            (r#""K1…K1""#, r#""K1\u2026K1""#),
            (
                r#""scope":{"withdrawals":"disabled","ip_allowlist":["203.0.113.7"]}"#,
                r#""scope":{"ip_allowlist":["203.0.113.7"],"withdrawals":"disabled"}"#,
            ),
            (r#""rotate_after_days":30"#, r#""rotate_after_days": 30"#),
        ] {
            assert!(text.contains(from), "{from}");
            let changed = text.replacen(from, to, 1);
            // Only that bot went to serde: the body as a whole was still read here.
            assert!(Reader::new(&changed).body().is_some(), "{to}");
            assert_eq!(by_hand(&changed), by_serde(&changed), "{to}");
        }
    }

    #[test]
    fn what_serde_refuses_is_refused() {
        let text = writer_body();
        let end = text.len() - 1;
        for bad in [
            format!("{},}}", &text[..end]),
            format!("{},\"format\":2}}", &text[..end]),
            format!("{},\"bots\":{{}}}}", &text[..end]),
            format!("{}}}x", &text[..end]),
            format!("{}}}}}", &text[..end]),
            text.replacen("\"format\":1", "\"format\":01", 1),
            text.replacen("\"format\":1", "\"format\":-1", 1),
            text.replacen("4294967295", "4294967296", 1),
            text.replacen("\"exchange\":\"okx\"", "\"exchange\":\"OKX\"", 1),
            text.replacen("\"active\"", "\"paused\"", 1),
            text.replacen("\"K2\"", "\"K\u{1}2\"", 1),
            text.replacen("2026-03-04T05:06:07Z", "2026-13-04T05:06:07Z", 1),
            text.replacen("\"trusted\":true", "\"trusted\":1", 1),
            text.replacen("\"rotate_after_days\":30", "\"rotate_after_days\":3e1", 1),
            text.replacen(",\"history\":[]}", "}", 1),
            text[..text.len() / 2].to_string(),
        ] {
            assert_eq!(by_serde(&bad), None, "serde should refuse {bad}");
            assert_eq!(by_hand(&bad), None, "{bad}");
        }
        // Fields serde would take twice are not taken twice here.
        let twice = text.replacen("\"bots\":{", "\"bots\":{},\"bots\":{", 1);
        assert_eq!(by_hand(&twice), by_serde(&twice));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_strings_read_the_same_as_by_serde(
            name in "\\PC{0,12}",
            hint in ".{0,8}",
            key in any::<String>(),
            note in proptest::option::of(any::<String>()),
            env in "[A-Z_\"\\\\]{1,6}",
        ) {
            let mut body: Body = serde_json::from_str(&writer_body()).expect("test");
            let mut bot = (*body.bots["b"]).clone();
            bot.name = name.clone();
            bot.key_hint = hint;
            bot.note = note;
            if let Some(c) = bot.credentials.as_mut() {
                c.key = SecretValue::new(key);
            }
            bot.extra_secrets.insert(env, SecretValue::from("v"));
            body.bots.insert(name, Arc::new(bot));
            let text = serde_json::to_string(&body).expect("test");
            prop_assert_eq!(written(&text), text.clone());
            prop_assert_eq!(by_hand(&text), by_serde(&text));
        }

        #[test]
        fn a_damaged_body_gets_serdes_verdict(
            at in 0usize..4000,
            with in prop::sample::select(vec!["", "\"", "\\", " ", ",", "}", "]", "{", "0", "9", "null", "x", ":", "\u{1}", "é"]),
            cut in any::<bool>(),
        ) {
            let text = writer_body();
            let mut at = at % text.len();
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            let mut bad = text[..at].to_string();
            bad.push_str(with);
            if !cut {
                let mut next = at + 1;
                while next < text.len() && !text.is_char_boundary(next) {
                    next += 1;
                }
                bad.push_str(&text[next.min(text.len())..]);
            }
            prop_assert_eq!(by_hand(&bad), by_serde(&bad));
        }
    }
}
