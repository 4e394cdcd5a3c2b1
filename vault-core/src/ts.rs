//! Timestamps in the body's JSON, written and read without jiff's general machinery for the
//! one form vault itself writes: `YYYY-MM-DDTHH:MM:SS[.fffffffff]Z`, years 0000 to 9999,
//! the fraction without trailing zeros (exactly jiff's `Display`). Anything else (another
//! offset, a leap second, a lower-case `t`, a year outside 0-9999) goes through jiff, so what is
//! accepted and what it means never changes (tested against jiff on arbitrary input).
//!
//! A body of 2,000 bots holds at least 4,000 timestamps; jiff's parser spends about 900
//! instructions on each, this about a tenth of that.
//!
//! Used as `#[serde(with = "crate::ts")]`, and `crate::ts::option` for `Option<Timestamp>`.

use jiff::Timestamp;
use serde::de::Visitor;
use serde::{Deserializer, Serialize, Serializer};

const SECS_PER_DAY: i64 = 86_400;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The fast path of [`parse`]: `None` for anything but the form vault writes.
fn parse_fast(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' || *b.last()? != b'Z' {
        return None;
    }
    // The digits from `at`, `n` of them, as a number.
    let num = |at: usize, n: usize| -> Option<i64> {
        let mut v = 0i64;
        for &c in b.get(at..at + n)? {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(c - b'0');
        }
        Some(v)
    };
    let (y, mo, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (h, mi, sec) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 {
        return None;
    }
    // A leap second (:60) is jiff's to handle.
    if sec > 59 {
        return None;
    }
    let nanos = match &b[19..b.len() - 1] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            let n = num(20, digits.len())?;
            n * 10i64.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * SECS_PER_DAY + h * 3600 + mi * 60 + sec;
    Timestamp::new(secs, i32::try_from(nanos).ok()?).ok()
}

/// Parses a timestamp as jiff does.
pub(crate) fn parse(s: &str) -> Result<Timestamp, jiff::Error> {
    match parse_fast(s) {
        Some(t) => Ok(t),
        None => s.parse(),
    }
}

/// Room for the longest form written here: `YYYY-MM-DDTHH:MM:SS.fffffffffZ`.
struct Text {
    buf: [u8; 30],
    len: usize,
}

impl Text {
    fn as_str(&self) -> &str {
        // Only ASCII digits and punctuation are ever written into `buf`.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

/// Writes `t` as jiff's `Display` does, for years 0 to 9999 (`None` for the others).
fn format_fast(t: Timestamp) -> Option<Text> {
    let secs = t.as_second();
    let nanos = t.subsec_nanosecond();
    // jiff keeps a negative fraction with a negative second: whole seconds floor below.
    let (secs, nanos) = if nanos < 0 {
        (secs - 1, i64::from(nanos) + 1_000_000_000)
    } else {
        (secs, i64::from(nanos))
    };
    let (y, m, d) = civil_from_days(secs.div_euclid(SECS_PER_DAY));
    if !(0..=9999).contains(&y) {
        return None;
    }
    let rem = secs.rem_euclid(SECS_PER_DAY);
    let mut buf = [0u8; 30];
    let mut put = |at: usize, n: i64, width: usize| {
        let mut n = n;
        for i in (0..width).rev() {
            buf[at + i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(0, y, 4);
    put(5, m, 2);
    put(8, d, 2);
    put(11, rem / 3600, 2);
    put(14, rem / 60 % 60, 2);
    put(17, rem % 60, 2);
    let mut len = 19;
    if nanos != 0 {
        put(20, nanos, 9);
        len = 29;
        while buf[len - 1] == b'0' {
            len -= 1;
        }
        buf[19] = b'.';
    }
    for (i, c) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')] {
        buf[i] = c;
    }
    buf[len] = b'Z';
    Some(Text { buf, len: len + 1 })
}

/// `#[serde(with = "crate::ts")]`: writes as jiff does.
pub(crate) fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    match format_fast(*t) {
        Some(text) => s.serialize_str(text.as_str()),
        None => t.serialize(s),
    }
}

struct TsVisitor;

impl Visitor<'_> for TsVisitor {
    type Value = Timestamp;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an RFC 3339 timestamp string")
    }
    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Timestamp, E> {
        parse(s).map_err(E::custom)
    }
}

/// `#[serde(with = "crate::ts")]`: reads as jiff does.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
    d.deserialize_str(TsVisitor)
}

/// The same for `Option<Timestamp>` (`null` for none).
pub(crate) mod option {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => super::serialize(t, s),
            None => s.serialize_none(),
        }
    }

    struct OptVisitor;

    impl<'de> Visitor<'de> for OptVisitor {
        type Value = Option<Timestamp>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an RFC 3339 timestamp string or null")
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            super::deserialize(d).map(Some)
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Timestamp>, D::Error> {
        d.deserialize_option(OptVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn jiff_json(t: Timestamp) -> String {
        serde_json::to_string(&t).expect("jiff")
    }

    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Fast {
        #[serde(with = "crate::ts")]
        t: Timestamp,
        #[serde(with = "crate::ts::option")]
        o: Option<Timestamp>,
    }

    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Jiff {
        t: Timestamp,
        o: Option<Timestamp>,
    }

    #[test]
    fn known_values_are_written_as_jiff_writes_them() {
        for (s, n) in [
            (0i64, 0i32),
            (1, 500_000_000),
            (1, 123),
            (1, 120_000_000),
            (-1, -1),
            (-1, 0),
            (1_700_000_000, 1_000),
            (951_782_400, 0),               // 2000-02-29
            (253_402_300_799, 999_999_999), // 9999-12-31T23:59:59.999999999
            (-62_167_219_200, 0),           // 0000-01-01
            (-62_167_219_201, 0),           // before year 0: jiff's own form
        ] {
            let Ok(t) = Timestamp::new(s, n) else {
                continue;
            };
            let mut ser = serde_json::Serializer::new(Vec::new());
            serialize(&t, &mut ser).expect("ser");
            assert_eq!(
                String::from_utf8(ser.into_inner()).expect("utf8"),
                jiff_json(t),
                "{t}"
            );
        }
    }

    #[test]
    fn forms_jiff_accepts_and_this_does_not_handle_still_parse() {
        for s in [
            "2026-12-07t13:44:30z",
            "2026-12-07T13:44:30+00:00",
            "2026-12-07T13:44:60Z",
            "2026-12-07 13:44:30Z",
            "+002026-12-07T13:44:30Z",
            "2026-12-07T13:44Z",
        ] {
            assert_eq!(parse(s).ok(), s.parse::<Timestamp>().ok(), "{s}");
            assert!(parse(s).is_ok(), "{s}");
        }
        for s in [
            "2026-02-29T00:00:00Z",
            "2026-12-07T13:44:30.1234567891Z",
            "",
            "Z",
        ] {
            assert!(parse(s).is_err(), "{s}");
        }
    }

    proptest! {
        #[test]
        fn any_timestamp_round_trips_exactly_as_through_jiff(
            s in -377_705_116_800i64..=253_402_207_200i64,
            n in 0i32..1_000_000_000,
            trim in 0u32..9,
            none in any::<bool>(),
        ) {
            // Fewer fraction digits, as real timestamps often have.
            let n = n - n % 10i32.pow(trim);
            let Ok(t) = Timestamp::new(s, n) else { return Ok(()) };
            let o = (!none).then_some(t);
            let fast = serde_json::to_string(&Fast { t, o }).expect("fast");
            let slow = serde_json::to_string(&Jiff { t, o }).expect("jiff");
            prop_assert_eq!(&fast, &slow);
            let back: Fast = serde_json::from_str(&slow).expect("fast parse");
            prop_assert_eq!(back, Fast { t, o });
        }

        #[test]
        fn any_text_parses_as_jiff_parses_it(
            s in "[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,10})?[Zz]?",
        ) {
            prop_assert_eq!(parse(&s).ok(), s.parse::<Timestamp>().ok(), "{}", s);
        }

        #[test]
        fn no_text_makes_it_panic_or_disagree(s in "\\PC{0,40}") {
            prop_assert_eq!(parse(&s).ok(), s.parse::<Timestamp>().ok(), "{}", s);
        }
    }

    #[test]
    fn a_body_timestamp_reads_with_the_fast_path_and_jiff_alike() {
        let j = r#"{"t":"2026-12-07T13:44:30.37329Z","o":null}"#;
        let fast: Fast = serde_json::from_str(j).expect("fast");
        let slow: Jiff = serde_json::from_str(j).expect("jiff");
        assert_eq!(fast.t, slow.t);
        assert_eq!(fast.o, slow.o);
        // Not a string: refused by both.
        assert!(serde_json::from_str::<Fast>(r#"{"t":5,"o":null}"#).is_err());
        assert!(serde_json::from_str::<Jiff>(r#"{"t":5,"o":null}"#).is_err());
    }
}
