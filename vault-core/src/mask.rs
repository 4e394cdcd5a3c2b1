//! Streaming secret masking for `vault run`.
//!
//! Leftmost-longest over the bot's secrets (and their JSON-escaped forms), so a secret that is
//! a prefix of another cannot leak the rest. Only a tail that could still become a secret is
//! held back, never a whole line or a timeout's worth; everything else goes out at once, and
//! the held tail is flushed at EOF. Patterns and the held tail live in zeroizing memory.

use aho_corasick::{packed, AhoCorasick, AhoCorasickKind, Input, MatchKind};
use zeroize::Zeroizing;

/// Shortest piece masked on its own (a line of a multi-line secret, a base64 run): shorter
/// pieces would match ordinary text.
pub const MIN_PIECE: usize = 8;

fn push(out: &mut Vec<Zeroizing<Vec<u8>>>, v: Zeroizing<Vec<u8>>, min: usize) {
    if v.len() >= min && !out.contains(&v) {
        out.push(v);
    }
}

/// Every form of `secret` that is masked (docs/THREAT_MODEL.md lists them):
/// - the secret itself; with `\n` as `\r\n` (a pty, CRLF output); each line of a multi-line
///   secret (a PEM key) of [`MIN_PIECE`] bytes or more, alone (line-at-a-time output);
/// - its JSON string escape as serde writes it, with `/` as `\/`, and with every
///   non-alphanumeric character as `\u00XX`;
/// - percent-encoding (RFC 3986 unreserved characters kept), in upper and lower case hex;
/// - hex of its bytes, lower and upper case;
/// - standard and URL-safe base64 at each of the three alignments: the run of base64
///   characters that depends only on the secret's bytes, whatever came before or after it
///   (so a secret inside a larger base64 blob is caught too), when that run is at least
///   [`MIN_PIECE`] characters long.
pub fn forms(secret: &str) -> Vec<Zeroizing<Vec<u8>>> {
    use base64::Engine;
    let mut out: Vec<Zeroizing<Vec<u8>>> = Vec::new();
    if secret.is_empty() {
        return out;
    }
    let raw = secret.as_bytes();
    push(&mut out, Zeroizing::new(raw.to_vec()), 1);
    if secret.contains('\n') {
        let crlf = Zeroizing::new(secret.replace("\r\n", "\n").replace('\n', "\r\n"));
        push(&mut out, Zeroizing::new(crlf.as_bytes().to_vec()), 1);
        for line in secret.lines() {
            let line = line.trim_end_matches('\r');
            push(
                &mut out,
                Zeroizing::new(line.as_bytes().to_vec()),
                MIN_PIECE,
            );
        }
    }
    // JSON.
    let json = Zeroizing::new(serde_json::to_string(secret).unwrap_or_default());
    if json.len() >= 2 {
        let inner = &json[1..json.len() - 1];
        push(&mut out, Zeroizing::new(inner.as_bytes().to_vec()), 1);
        if inner.contains('/') {
            let slashed = Zeroizing::new(inner.replace('/', "\\/"));
            push(&mut out, Zeroizing::new(slashed.as_bytes().to_vec()), 1);
        }
    }
    if secret.chars().any(|c| !c.is_ascii_alphanumeric()) {
        let mut u = Zeroizing::new(String::with_capacity(secret.len() * 6));
        for c in secret.chars() {
            if c.is_ascii_alphanumeric() {
                u.push(c);
            } else {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    u.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
        push(&mut out, Zeroizing::new(u.as_bytes().to_vec()), 1);
    }
    // Percent-encoding.
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || b"-._~".contains(&b);
    if raw.iter().any(|&b| !unreserved(b)) {
        for upper in [true, false] {
            let mut p = Zeroizing::new(Vec::with_capacity(raw.len() * 3));
            for &b in raw {
                if unreserved(b) {
                    p.push(b);
                } else if upper {
                    p.extend_from_slice(format!("%{b:02X}").as_bytes());
                } else {
                    p.extend_from_slice(format!("%{b:02x}").as_bytes());
                }
            }
            push(&mut out, p, 1);
        }
    }
    // Hex.
    let lower = Zeroizing::new(hex::encode(raw));
    push(
        &mut out,
        Zeroizing::new(lower.as_bytes().to_vec()),
        MIN_PIECE,
    );
    push(
        &mut out,
        Zeroizing::new(lower.to_ascii_uppercase().into_bytes()),
        MIN_PIECE,
    );
    // Base64 at each alignment: with `k` bytes before the secret, the 4-character groups that
    // hold only the secret's bytes.
    for engine in [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::URL_SAFE,
    ] {
        for k in 0..3usize {
            let mut buf = Zeroizing::new(vec![0u8; k]);
            buf.extend_from_slice(raw);
            let enc = Zeroizing::new(engine.encode(&*buf));
            let start = if k == 0 { 0 } else { 4 };
            let end = 4 * ((k + raw.len()) / 3);
            if end > start {
                push(
                    &mut out,
                    Zeroizing::new(enc.as_bytes()[start..end].to_vec()),
                    MIN_PIECE,
                );
            }
        }
    }
    out
}

/// How the patterns are found. Speed must not depend on what the bot prints: the default
/// `AhoCorasick` picks a rare-byte prefilter for this many alphanumeric patterns, and on base64
/// text (where every byte is a pattern byte) it fires every few bytes and drops to ~50 MiB/s.
#[derive(Clone)]
enum Finder {
    /// Teddy (SIMD, keyed on the patterns' first three bytes together): several GiB/s on log
    /// lines and base64 alike. One searcher per [`TEDDY_MAX`] patterns, merged
    /// leftmost-longest. Used when the CPU has it (SSSE3/AVX2 on x86_64, NEON on aarch64).
    Teddy(Vec<packed::Searcher>),
    /// Otherwise a plain DFA with no prefilter: one table step per byte, on any content.
    Dfa(AhoCorasick),
}

/// The most patterns one Teddy searcher takes.
const TEDDY_MAX: usize = 64;

impl Finder {
    fn build(patterns: &[Zeroizing<Vec<u8>>]) -> Option<Finder> {
        if patterns.is_empty() {
            return None;
        }
        let teddy: Option<Vec<packed::Searcher>> = patterns
            .chunks(TEDDY_MAX)
            .map(|group| {
                packed::Config::new()
                    .match_kind(packed::MatchKind::LeftmostLongest)
                    .builder()
                    .extend(group.iter().map(|p| p.as_slice()))
                    .build()
            })
            .collect();
        match teddy {
            Some(t) => Some(Finder::Teddy(t)),
            None => Finder::dfa(patterns),
        }
    }

    fn dfa(patterns: &[Zeroizing<Vec<u8>>]) -> Option<Finder> {
        AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA))
            .prefilter(false)
            .build(patterns.iter().map(|p| p.as_slice()))
            .ok()
            .map(Finder::Dfa)
    }

    /// A search over one buffer. `next` returns the leftmost-longest match starting at or
    /// after `at`, for `at` that never decreases.
    fn search<'a>(&'a self, buf: &'a [u8]) -> Search<'a> {
        let groups = match self {
            Finder::Teddy(t) => t.len(),
            Finder::Dfa(_) => 1,
        };
        Search {
            finder: self,
            buf,
            next: vec![Next::Unknown; groups],
        }
    }
}

#[derive(Clone, Copy)]
enum Next {
    Unknown,
    At(usize, usize),
    Never,
}

struct Search<'a> {
    finder: &'a Finder,
    buf: &'a [u8],
    /// Each group's leftmost match from the last place it was searched. It stays right while
    /// `at` has not passed its start: no match of that group starts in between.
    next: Vec<Next>,
}

impl Search<'_> {
    fn next(&mut self, at: usize) -> Option<(usize, usize)> {
        let span = aho_corasick::Span {
            start: at,
            end: self.buf.len(),
        };
        let mut best: Option<(usize, usize)> = None;
        for (i, slot) in self.next.iter_mut().enumerate() {
            if let Next::At(start, _) = *slot {
                if start < at {
                    *slot = Next::Unknown;
                }
            }
            if let Next::Unknown = *slot {
                let m = match self.finder {
                    Finder::Teddy(t) => t[i].find_in(self.buf, span),
                    Finder::Dfa(ac) => ac.find(Input::new(self.buf).span(span)),
                };
                *slot = m.map_or(Next::Never, |m| Next::At(m.start(), m.end()));
            }
            if let Next::At(start, end) = *slot {
                // Leftmost, then longest.
                if best.is_none_or(|(s, e)| start < s || (start == s && end > e)) {
                    best = Some((start, end));
                }
            }
        }
        best
    }
}

/// A streaming masker for one bot's secrets.
#[derive(Clone)]
pub struct Masker {
    patterns: Vec<Zeroizing<Vec<u8>>>,
    finder: Option<Finder>,
    max_len: usize,
    replacement: Vec<u8>,
    pending: Zeroizing<Vec<u8>>,
}

impl Masker {
    /// Masks each of `secrets`, and every form of it listed in [`forms`], as `<redacted:BOT>`.
    pub fn new(secrets: &[&str], bot: &str) -> Masker {
        let mut patterns: Vec<Zeroizing<Vec<u8>>> = Vec::new();
        for s in secrets {
            for f in forms(s) {
                if !patterns.contains(&f) {
                    patterns.push(f);
                }
            }
        }
        // The finder keeps copies of the patterns in memory it does not wipe; the process
        // holding it is non-dumpable, and these are the secrets the child itself holds.
        let finder = Finder::build(&patterns);
        let max_len = patterns.iter().map(|p| p.len()).max().unwrap_or(0);
        Masker {
            max_len,
            patterns,
            finder,
            replacement: format!("<redacted:{bot}>").into_bytes(),
            pending: Zeroizing::new(Vec::with_capacity(2 * max_len)),
        }
    }

    /// Masks `data`, appending what can be released to `out`.
    pub fn feed(&mut self, data: &[u8], out: &mut Vec<u8>) {
        self.feed_with(data, &mut |piece| out.extend_from_slice(piece));
    }

    /// Masks `data`, handing what can be released to `emit` in order, piece by piece: runs of
    /// the caller's own bytes (not copied) and replacements. A writer can send each piece
    /// straight out, with no copy of the clean text.
    pub fn feed_with(&mut self, mut data: &[u8], emit: &mut dyn FnMut(&[u8])) {
        if !self.pending.is_empty() {
            // A held tail: only it and the next `max_len` bytes can hold a secret across the
            // seam, so only those are joined (a big read is never copied whole).
            let tail = self.pending.len();
            let seam = data.len().min(self.max_len);
            self.hold(&data[..seam]);
            let pending = std::mem::take(&mut self.pending);
            let release = self.scan(&pending, false, emit);
            self.pending = pending;
            if seam == data.len() {
                self.pending.drain(..release);
                return;
            }
            // The joined bytes were longer than any secret, so nothing that was held is
            // still undecided (`release > tail`): go on in place in `data`.
            self.pending.clear();
            data = &data[release.saturating_sub(tail)..];
        }
        // Scan the caller's buffer in place; only a held tail is copied.
        let release = self.scan(data, false, emit);
        self.hold(&data[release..]);
    }

    /// Appends to the held bytes, which are the child's raw output. They stay under twice the
    /// longest secret, the capacity `new` gives them; should they ever outgrow it, they move
    /// into a new zeroizing buffer and the old one is wiped as it drops (a `Vec` that grows
    /// would free it unwiped).
    fn hold(&mut self, data: &[u8]) {
        let need = self.pending.len() + data.len();
        if need > self.pending.capacity() {
            let mut grown = Zeroizing::new(Vec::with_capacity(
                need.max(self.pending.capacity().saturating_mul(2)),
            ));
            grown.extend_from_slice(&self.pending);
            grown.extend_from_slice(data);
            self.pending = grown;
        } else {
            self.pending.extend_from_slice(data);
        }
    }

    /// Masks a whole, finished text (an error message from elsewhere) in one go.
    pub fn mask_str(&self, text: &str) -> String {
        let mut m = self.clone();
        let mut out = Vec::with_capacity(text.len());
        m.feed(text.as_bytes(), &mut out);
        m.finish(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Releases the held tail at EOF.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        self.finish_with(&mut |piece| out.extend_from_slice(piece));
    }

    /// Releases the held tail at EOF, piece by piece.
    pub fn finish_with(&mut self, emit: &mut dyn FnMut(&[u8])) {
        let pending = std::mem::take(&mut self.pending);
        self.scan(&pending, true, emit);
    }

    /// The first position from which the rest of `buf` could still grow into a secret (a
    /// proper prefix of one): everything before it can be decided now.
    fn hold_from(&self, buf: &[u8]) -> usize {
        let from = buf.len().saturating_sub(self.max_len.saturating_sub(1));
        (from..buf.len())
            .find(|&i| {
                let rest = &buf[i..];
                self.patterns
                    .iter()
                    .any(|p| p.len() > rest.len() && p.starts_with(rest))
            })
            .unwrap_or(buf.len())
    }

    /// Emits the decided part of `buf` (masked); returns how much was released.
    fn scan(&self, buf: &[u8], eof: bool, emit: &mut dyn FnMut(&[u8])) -> usize {
        let mut put = |piece: &[u8]| {
            if !piece.is_empty() {
                emit(piece)
            }
        };
        let Some(finder) = &self.finder else {
            put(buf);
            return buf.len();
        };
        let hold = if eof { buf.len() } else { self.hold_from(buf) };
        let mut emitted = 0;
        let mut search = finder.search(buf);
        while let Some((start, end)) = search.next(emitted) {
            // A match starting in the held tail may still become a longer secret: wait.
            if start >= hold {
                break;
            }
            put(&buf[emitted..start]);
            put(&self.replacement);
            emitted = end;
        }
        let release = emitted.max(hold);
        put(&buf[emitted..release]);
        release
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(secret: &str, text: &[u8]) -> Vec<u8> {
        let mut m = Masker::new(&[secret], "b");
        let mut out = Vec::new();
        // Byte at a time: the worst split there is.
        for b in text {
            m.feed(std::slice::from_ref(b), &mut out);
        }
        m.finish(&mut out);
        out
    }

    #[test]
    fn encoded_forms_of_a_secret_are_masked() {
        use base64::Engine;
        let secret = "Sup3r/Secret+Key=Value!xyz";
        let mut forms_seen: Vec<Vec<u8>> = Vec::new();
        for k in 0..3 {
            let mut b = b"ab"[..k.min(2)].to_vec();
            if k == 2 {
                b = b"ab".to_vec();
            }
            b.extend_from_slice(secret.as_bytes());
            b.extend_from_slice(b"tail");
            forms_seen.push(
                base64::engine::general_purpose::STANDARD
                    .encode(&b)
                    .into_bytes(),
            );
            forms_seen.push(
                base64::engine::general_purpose::URL_SAFE
                    .encode(&b)
                    .into_bytes(),
            );
        }
        forms_seen.push(hex::encode(secret).into_bytes());
        forms_seen.push(hex::encode_upper(secret).into_bytes());
        forms_seen.push(b"Sup3r%2FSecret%2BKey%3DValue%21xyz".to_vec());
        forms_seen.push(b"Sup3r%2fSecret%2bKey%3dValue%21xyz".to_vec());
        forms_seen.push(br"Sup3r\/Secret+Key=Value!xyz".to_vec());
        forms_seen.push(br"Sup3r\u002fSecret\u002bKey\u003dValue\u0021xyz".to_vec());
        for f in forms_seen {
            let mut text = b"log: ".to_vec();
            text.extend_from_slice(&f);
            text.extend_from_slice(b" end\n");
            let out = masked(secret, &text);
            assert!(
                out.windows(9).any(|w| w == b"<redacted"),
                "not masked: {}",
                String::from_utf8_lossy(&f)
            );
            // No 12-character run of the encoded form survives.
            for w in f.windows(12) {
                assert!(
                    !out.windows(12).any(|o| o == w),
                    "{} leaked from {}",
                    String::from_utf8_lossy(w),
                    String::from_utf8_lossy(&f)
                );
            }
        }
    }

    #[test]
    fn a_multi_line_secret_is_masked_on_a_pty_with_crlf_and_line_by_line() {
        let pem = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBxxxxxxxxxxxxxxxxxxxxxxxxxxx\nAoGCCqGSM49AwEHoUQDQgAEyyyyyyyyyyyy\n-----END EC PRIVATE KEY-----\n";
        let crlf = pem.replace('\n', "\r\n");
        for text in [
            crlf.clone(),
            "key line: MHcCAQEEIBxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n".to_string(),
        ] {
            let out = masked(pem, text.as_bytes());
            let out = String::from_utf8_lossy(&out);
            assert!(!out.contains("MHcCAQEEIB"), "{out}");
            assert!(!out.contains("AoGCCqGSM49"), "{out}");
        }
    }

    fn mask_chunks(secrets: &[&str], chunks: &[&str]) -> String {
        let mut m = Masker::new(secrets, "b");
        let mut out = Vec::new();
        for c in chunks {
            m.feed(c.as_bytes(), &mut out);
        }
        m.finish(&mut out);
        String::from_utf8(out).expect("utf8")
    }

    #[test]
    fn clean_text_is_handed_on_without_a_copy() {
        let mut m = Masker::new(&["SECRET123"], "b");
        let data = b"nothing to hide here\n";
        let mut pieces: Vec<(usize, usize)> = Vec::new();
        m.feed_with(data, &mut |p| pieces.push((p.as_ptr() as usize, p.len())));
        assert_eq!(pieces, vec![(data.as_ptr() as usize, data.len())]);
    }

    #[test]
    fn pieces_handed_on_equal_the_buffered_output() {
        let secrets = ["SECRET123", "SECRET1234567", "k\"q"];
        let chunks = ["a SECR", "ET1234567 b SECRET123", "4 k\"q c SEC", "RET12"];
        let mut m = Masker::new(&secrets, "b");
        let mut out = Vec::new();
        for c in chunks {
            m.feed_with(c.as_bytes(), &mut |p| out.extend_from_slice(p));
        }
        m.finish_with(&mut |p| out.extend_from_slice(p));
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            mask_chunks(&secrets, &chunks)
        );
        assert_eq!(
            mask_chunks(&secrets, &chunks),
            "a <redacted:b> b <redacted:b>4 <redacted:b> c SECRET12"
        );
    }

    #[test]
    fn a_secret_split_across_writes_is_masked() {
        assert_eq!(
            mask_chunks(&["SECRET123"], &["x SEC", "RET1", "23 y"]),
            "x <redacted:b> y"
        );
    }

    #[test]
    fn a_secret_that_is_a_prefix_of_another_cannot_leak_the_rest() {
        assert_eq!(
            mask_chunks(&["abc", "abcdef"], &["1 abcdef 2"]),
            "1 <redacted:b> 2"
        );
        assert_eq!(
            mask_chunks(&["abc", "abcdef"], &["1 abc", "def 2"]),
            "1 <redacted:b> 2"
        );
        assert_eq!(
            mask_chunks(&["abc", "abcdef"], &["1 abc", "xyz"]),
            "1 <redacted:b>xyz"
        );
        assert_eq!(
            mask_chunks(&["abcdef", "cdefgh"], &["abcdefgh"]),
            "<redacted:b>gh"
        );
    }

    #[test]
    fn only_a_possible_secret_tail_is_held_back() {
        let mut m = Masker::new(&["SECRET123"], "b");
        let mut out = Vec::new();
        m.feed(b"hello world\nSEC", &mut out);
        assert_eq!(out, b"hello world\n");
        m.feed(b"OND", &mut out);
        assert_eq!(out, b"hello world\nSECOND");
    }

    #[test]
    fn the_json_escaped_form_is_masked_too() {
        let s = "a\"b\\c/secret-x";
        let json = serde_json::to_string(&serde_json::json!({"k": s})).expect("json");
        let masked = mask_chunks(&[s], &[&json]);
        assert!(!masked.contains("secret-x"), "{masked}");
    }

    #[test]
    fn a_held_tail_joined_with_a_big_read_is_masked_across_the_seam_and_after_it() {
        let mut m = Masker::new(&["SECRET123"], "b");
        let mut out = Vec::new();
        m.feed(b"x SEC", &mut out);
        let mut big = vec![b'.'; 600 * 1024];
        big[..6].copy_from_slice(b"RET123");
        big[300 * 1024..300 * 1024 + 9].copy_from_slice(b"SECRET123");
        m.feed(&big, &mut out);
        m.finish(&mut out);
        assert!(out.starts_with(b"x <redacted:b>..."));
        assert_eq!(
            out.windows(14).filter(|w| w == b"<redacted:b>..").count(),
            2
        );
        assert_eq!(out.len(), 2 + 2 * 12 + 600 * 1024 - 6 - 9);
    }

    proptest::proptest! {
        #[test]
        fn how_output_is_split_into_writes_never_changes_what_comes_out(
            text in proptest::collection::vec(proptest::sample::select(b"SECRT123abk3y.\n".to_vec()), 0..400),
            cuts in proptest::collection::vec(0usize..60, 0..20),
        ) {
            let secrets = ["SECRET123", "SECRET123abc", "k3y", "T1"];
            let mut whole = Vec::new();
            let mut m = Masker::new(&secrets, "b");
            m.feed(&text, &mut whole);
            m.finish(&mut whole);
            let mut split = Vec::new();
            let mut m = Masker::new(&secrets, "b");
            let mut rest = &text[..];
            for c in cuts {
                let (a, b) = rest.split_at(c.min(rest.len()));
                m.feed_with(a, &mut |p| split.extend_from_slice(p));
                rest = b;
            }
            m.feed_with(rest, &mut |p| split.extend_from_slice(p));
            m.finish_with(&mut |p| split.extend_from_slice(p));
            proptest::prop_assert_eq!(split, whole);
        }
    }

    proptest::proptest! {
        /// Teddy (the usual finder) and the DFA (the fallback past 64 patterns, or without
        /// SIMD) mask exactly what aho-corasick's own leftmost-longest search finds.
        #[test]
        fn both_finders_mask_exactly_what_a_plain_leftmost_longest_search_finds(
            text in proptest::collection::vec(proptest::sample::select(b"SECRT123abk3y.\n".to_vec()), 0..400),
        ) {
            let secrets = ["SECRET123", "SECRET123abc", "k3y", "T1", "ET12"];
            let mut teddy = Masker::new(&secrets, "b");
            // Two groups of Teddy searchers, as a bot with more than 64 forms gets.
            let mut split = Masker::new(&secrets, "b");
            let half = split.patterns.len() / 2;
            split.finder = Some(Finder::Teddy(
                split.patterns.chunks(half).map(|g| {
                    packed::Config::new()
                        .match_kind(packed::MatchKind::LeftmostLongest)
                        .builder()
                        .extend(g.iter().map(|p| p.as_slice()))
                        .build()
                        .expect("teddy")
                }).collect(),
            ));
            let mut dfa = Masker::new(&secrets, "b");
            dfa.finder = Finder::dfa(&dfa.patterns);
            proptest::prop_assert!(matches!(dfa.finder, Some(Finder::Dfa(_))));
            #[cfg(target_arch = "x86_64")]
            proptest::prop_assert!(matches!(teddy.finder, Some(Finder::Teddy(_))));
            let reference = AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(teddy.patterns.iter().map(|p| p.as_slice()))
                .expect("automaton");
            let mut expected = Vec::new();
            let mut last = 0;
            for m in reference.find_iter(&text) {
                expected.extend_from_slice(&text[last..m.start()]);
                expected.extend_from_slice(b"<redacted:b>");
                last = m.end();
            }
            expected.extend_from_slice(&text[last..]);
            for m in [&mut teddy, &mut split, &mut dfa] {
                let mut out = Vec::new();
                m.feed(&text, &mut out);
                m.finish(&mut out);
                proptest::prop_assert_eq!(&out, &expected);
            }
        }
    }

    #[test]
    fn a_bot_with_more_patterns_than_one_teddy_takes_is_still_masked() {
        let secrets: Vec<String> = (0..12)
            .map(|i| format!("s3cr/t+{i:02}=value!pad"))
            .collect();
        let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
        let m = Masker::new(&refs, "b");
        assert!(m.patterns.len() > 64, "{}", m.patterns.len());
        #[cfg(target_arch = "x86_64")]
        assert!(matches!(&m.finder, Some(Finder::Teddy(t)) if t.len() > 1));
        let text = format!("a {} b {}\n", secrets[11], hex::encode(&secrets[3]));
        assert_eq!(m.mask_str(&text), "a <redacted:b> b <redacted:b>\n");
    }

    #[test]
    fn eof_flushes_a_held_partial_match() {
        assert_eq!(mask_chunks(&["SECRET123"], &["end SECRE"]), "end SECRE");
    }
}
