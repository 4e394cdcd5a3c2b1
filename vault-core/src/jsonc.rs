//! A parser for freqtrade's JSON dialect (comments and trailing commas) that keeps the byte
//! span of every value, so `vault import` can blank exactly the secret values and leave every
//! comment and the layout as they were. Depth and size are bounded; it never panics.

/// One scalar value and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    /// Object keys (and array indices as decimal strings) from the root.
    pub path: Vec<String>,
    /// Byte offset where the value starts (the opening quote for strings).
    pub start: usize,
    /// Byte offset just past the value.
    pub end: usize,
    /// The decoded string, for string values.
    pub string: Option<String>,
}

impl Drop for Value {
    fn drop(&mut self) {
        // Values parsed from a config are often secrets (that is why `import` reads them).
        if let Some(s) = &mut self.string {
            zeroize::Zeroize::zeroize(s);
        }
    }
}

/// Deepest nesting accepted.
pub const MAX_DEPTH: usize = 128;

struct P<'a> {
    b: &'a [u8],
    i: usize,
    out: Vec<Value>,
}

type R<T> = Result<T, String>;

impl P<'_> {
    fn err<T>(&self, what: &str) -> R<T> {
        let line = self.b[..self.i.min(self.b.len())]
            .iter()
            .filter(|&&c| c == b'\n')
            .count()
            + 1;
        Err(format!("{what} at line {line}"))
    }
    fn ws(&mut self) -> R<()> {
        loop {
            match self.b.get(self.i) {
                Some(b' ' | b'\t' | b'\r' | b'\n') => self.i += 1,
                Some(b'/') => match self.b.get(self.i + 1) {
                    Some(b'/') => {
                        while self.b.get(self.i).is_some_and(|&c| c != b'\n') {
                            self.i += 1;
                        }
                    }
                    Some(b'*') => {
                        self.i += 2;
                        loop {
                            match self.b.get(self.i) {
                                None => return self.err("unterminated comment"),
                                Some(b'*') if self.b.get(self.i + 1) == Some(&b'/') => {
                                    self.i += 2;
                                    break;
                                }
                                _ => self.i += 1,
                            }
                        }
                    }
                    _ => return self.err("unexpected '/'"),
                },
                _ => return Ok(()),
            }
        }
    }
    fn string(&mut self) -> R<String> {
        // at '"'
        self.i += 1;
        let mut s = String::new();
        loop {
            let Some(&c) = self.b.get(self.i) else {
                return self.err("unterminated string");
            };
            match c {
                b'"' => {
                    self.i += 1;
                    return Ok(s);
                }
                b'\\' => {
                    let Some(&e) = self.b.get(self.i + 1) else {
                        return self.err("unterminated escape");
                    };
                    self.i += 2;
                    match e {
                        b'"' => s.push('"'),
                        b'\\' => s.push('\\'),
                        b'/' => s.push('/'),
                        b'b' => s.push('\u{8}'),
                        b'f' => s.push('\u{c}'),
                        b'n' => s.push('\n'),
                        b'r' => s.push('\r'),
                        b't' => s.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let cp = if (0xD800..0xDC00).contains(&hi) {
                                if self.b.get(self.i) == Some(&b'\\')
                                    && self.b.get(self.i + 1) == Some(&b'u')
                                {
                                    self.i += 2;
                                    let lo = self.hex4()?;
                                    if !(0xDC00..0xE000).contains(&lo) {
                                        return self.err("bad surrogate pair");
                                    }
                                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                                } else {
                                    return self.err("lone surrogate");
                                }
                            } else {
                                hi
                            };
                            match char::from_u32(cp) {
                                Some(ch) => s.push(ch),
                                None => return self.err("bad \\u escape"),
                            }
                        }
                        _ => return self.err("bad escape"),
                    }
                }
                c if c < 0x20 => return self.err("control character in string"),
                _ => {
                    // Copy one UTF-8 character.
                    let len = match c {
                        0x00..=0x7f => 1,
                        0xc0..=0xdf => 2,
                        0xe0..=0xef => 3,
                        _ => 4,
                    };
                    let end = (self.i + len).min(self.b.len());
                    match std::str::from_utf8(&self.b[self.i..end]) {
                        Ok(t) => s.push_str(t),
                        Err(_) => return self.err("invalid UTF-8"),
                    }
                    self.i = end;
                }
            }
        }
    }
    fn hex4(&mut self) -> R<u32> {
        let Some(h) = self.b.get(self.i..self.i + 4) else {
            return self.err("short \\u escape");
        };
        let t = std::str::from_utf8(h).map_err(|_| "bad \\u escape".to_string())?;
        let v = u32::from_str_radix(t, 16).map_err(|_| "bad \\u escape".to_string())?;
        self.i += 4;
        Ok(v)
    }
    fn value(&mut self, path: &mut Vec<String>, depth: usize) -> R<()> {
        if depth > MAX_DEPTH {
            return self.err("nesting too deep");
        }
        self.ws()?;
        let start = self.i;
        match self.b.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                loop {
                    self.ws()?;
                    match self.b.get(self.i) {
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(());
                        }
                        Some(b'"') => {
                            let k = self.string()?;
                            self.ws()?;
                            if self.b.get(self.i) != Some(&b':') {
                                return self.err("expected ':'");
                            }
                            self.i += 1;
                            path.push(k);
                            self.value(path, depth + 1)?;
                            path.pop();
                            self.ws()?;
                            match self.b.get(self.i) {
                                Some(b',') => self.i += 1,
                                Some(b'}') => {}
                                _ => return self.err("expected ',' or '}'"),
                            }
                        }
                        _ => return self.err("expected a key or '}'"),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut n = 0usize;
                loop {
                    self.ws()?;
                    if self.b.get(self.i) == Some(&b']') {
                        self.i += 1;
                        return Ok(());
                    }
                    path.push(n.to_string());
                    self.value(path, depth + 1)?;
                    path.pop();
                    n += 1;
                    self.ws()?;
                    match self.b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {}
                        _ => return self.err("expected ',' or ']'"),
                    }
                }
            }
            Some(b'"') => {
                let s = self.string()?;
                self.out.push(Value {
                    path: path.clone(),
                    start,
                    end: self.i,
                    string: Some(s),
                });
                Ok(())
            }
            Some(c) if c.is_ascii_alphanumeric() || *c == b'-' || *c == b'+' || *c == b'.' => {
                while self
                    .b
                    .get(self.i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.'))
                {
                    self.i += 1;
                }
                let word = &self.b[start..self.i];
                let ok = matches!(
                    word,
                    b"true" | b"false" | b"null" | b"NaN" | b"Infinity" | b"-Infinity"
                ) || std::str::from_utf8(word).is_ok_and(|w| w.parse::<f64>().is_ok());
                if !ok {
                    return self.err("unexpected word");
                }
                self.out.push(Value {
                    path: path.clone(),
                    start,
                    end: self.i,
                    string: None,
                });
                Ok(())
            }
            None => self.err("unexpected end"),
            _ => self.err("unexpected character"),
        }
    }
}

/// Parses a document; returns every scalar value with its path and span.
pub fn parse(text: &str) -> Result<Vec<Value>, String> {
    let mut p = P {
        b: text.as_bytes(),
        i: 0,
        out: Vec::new(),
    };
    let mut path = Vec::new();
    p.value(&mut path, 0)?;
    p.ws()?;
    if p.i != p.b.len() {
        return p.err("trailing characters");
    }
    Ok(p.out)
}

/// Replaces the given spans with `""`, keeping everything else byte for byte.
pub fn blank(text: &str, spans: &[(usize, usize)]) -> String {
    let mut spans = spans.to_vec();
    spans.sort();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (s, e) in spans {
        if s < at || e > text.len() || !text.is_char_boundary(s) || !text.is_char_boundary(e) {
            continue;
        }
        out.push_str(&text[at..s]);
        out.push_str("\"\"");
        at = e;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "{\n  // the exchange\n  \"exchange\": {\"name\": \"okx\", \"key\": \"K\\u0041Y\", /* inline */ \"secret\": \"S\",},\n  \"n\": 1.5e3, \"list\": [1, \"x\",],\n}\n";

    #[test]
    fn comments_and_trailing_commas_parse_with_spans() {
        let v = parse(DOC).expect("parse");
        let key = v
            .iter()
            .find(|x| x.path == ["exchange", "key"])
            .expect("key");
        assert_eq!(key.string.as_deref(), Some("KAY"));
        assert_eq!(&DOC[key.start..key.end], "\"K\\u0041Y\"");
        assert!(v
            .iter()
            .any(|x| x.path == ["list", "1"] && x.string.as_deref() == Some("x")));
    }

    #[test]
    fn blanking_keeps_every_comment_and_the_layout() {
        let v = parse(DOC).expect("parse");
        let spans: Vec<(usize, usize)> = v
            .iter()
            .filter(|x| x.path == ["exchange", "key"] || x.path == ["exchange", "secret"])
            .map(|x| (x.start, x.end))
            .collect();
        let out = blank(DOC, &spans);
        assert_eq!(
            out,
            DOC.replace("\"K\\u0041Y\"", "\"\"")
                .replace("\"S\"", "\"\"")
        );
        assert!(parse(&out).is_ok());
    }

    #[test]
    fn bad_input_is_an_error_never_a_panic() {
        for bad in [
            "",
            "{",
            "{\"a\" 1}",
            "[1,,]",
            "{\"a\":\"\\u12\"}",
            "/* x",
            "\"\\ud800\"",
            "{\"a\": tru}",
            &"[".repeat(1000),
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
