//! Streaming secret masking for `vault run`.
//!
//! Leftmost-longest over the bot's secrets (and their JSON-escaped forms), so a secret that is
//! a prefix of another cannot leak the rest. Only a tail that could still become a secret is
//! held back, never a whole line or a timeout's worth; everything else goes out at once, and
//! the held tail is flushed at EOF. Patterns and the held tail live in zeroizing memory.

use zeroize::Zeroizing;

/// A streaming masker for one bot's secrets.
pub struct Masker {
    patterns: Vec<Zeroizing<Vec<u8>>>,
    first: [bool; 256],
    replacement: Vec<u8>,
    pending: Zeroizing<Vec<u8>>,
}

impl Masker {
    /// Masks each of `secrets` (and its JSON-escaped form) as `<redacted:BOT>`.
    pub fn new(secrets: &[&str], bot: &str) -> Masker {
        let mut patterns: Vec<Zeroizing<Vec<u8>>> = Vec::new();
        for s in secrets {
            if s.is_empty() {
                continue;
            }
            let raw = Zeroizing::new(s.as_bytes().to_vec());
            let json = Zeroizing::new(serde_json::to_string(s).unwrap_or_default());
            let escaped =
                Zeroizing::new(json.as_bytes()[1..json.len().saturating_sub(1).max(1)].to_vec());
            if !escaped.is_empty() && *escaped != *raw && !patterns.contains(&escaped) {
                patterns.push(escaped);
            }
            if !patterns.contains(&raw) {
                patterns.push(raw);
            }
        }
        let mut first = [false; 256];
        for p in &patterns {
            first[usize::from(p[0])] = true;
        }
        Masker {
            patterns,
            first,
            replacement: format!("<redacted:{bot}>").into_bytes(),
            pending: Zeroizing::new(Vec::with_capacity(64 * 1024)),
        }
    }

    /// Masks `data`, appending what can be released to `out`.
    pub fn feed(&mut self, data: &[u8], out: &mut Vec<u8>) {
        self.pending.extend_from_slice(data);
        self.process(false, out);
    }

    /// Releases the held tail at EOF.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        self.process(true, out);
    }

    fn process(&mut self, eof: bool, out: &mut Vec<u8>) {
        let buf = &self.pending;
        let mut i = 0;
        let mut emitted = 0;
        while i < buf.len() {
            // Skip fast to the next byte that can start a secret.
            match buf[i..].iter().position(|&b| self.first[usize::from(b)]) {
                Some(off) => i += off,
                None => {
                    i = buf.len();
                    break;
                }
            }
            let rest = &buf[i..];
            let mut best = 0;
            let mut could_grow = false;
            for p in &self.patterns {
                if rest.len() >= p.len() {
                    if rest.starts_with(p) {
                        best = best.max(p.len());
                    }
                } else if p.starts_with(rest) {
                    could_grow = true;
                }
            }
            if could_grow && !eof {
                break;
            }
            if best > 0 {
                out.extend_from_slice(&buf[emitted..i]);
                out.extend_from_slice(&self.replacement);
                i += best;
                emitted = i;
            } else {
                i += 1;
            }
        }
        out.extend_from_slice(&buf[emitted..i]);
        self.pending.drain(..i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn eof_flushes_a_held_partial_match() {
        assert_eq!(mask_chunks(&["SECRET123"], &["end SECRE"]), "end SECRE");
    }
}
