//! A strict, small JSON (RFC 8259) reader for consensus use.
//!
//! Why not `serde_json::Value`: the event hash must render numbers exactly as
//! written (no round trip through `f64`), a duplicate key must be an error
//! rather than "last one wins" (two validators must never read different
//! values out of the same bytes), nesting must be bounded, and we want the
//! byte span of every object so the node can keep the exact captured text.
//! Enabling serde_json's `arbitrary_precision` would solve only the first
//! point and would change serde_json's behaviour for every crate in the
//! workspace (feature unification), so this crate brings its own reader.

use std::ops::Range;

/// Deepest nesting of arrays/objects accepted. EPCIS documents need about 10.
pub const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonValue {
    Null,
    Bool(bool),
    /// The number exactly as written (already checked against the JSON grammar).
    Number(String),
    String(String),
    Array(Vec<JsonValue>),
    Object(JsonObject),
}

/// Object members in document order (duplicates are rejected while parsing),
/// plus where the object sits in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonObject {
    pub members: Vec<(String, JsonValue)>,
    pub span: Range<usize>,
}

impl JsonObject {
    pub fn get(&self, key: &str) -> Option<&JsonValue> {
        self.members.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The first member named `key`, taken out of the object (as `get`
    /// finds it) without copying it.
    pub fn take(self, key: &str) -> Option<JsonValue> {
        self.members
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &JsonValue)> {
        self.members.iter().map(|(k, v)| (k.as_str(), v))
    }
}

impl JsonValue {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            JsonValue::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&JsonObject> {
        match self {
            JsonValue::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[JsonValue]> {
        match self {
            JsonValue::Array(a) => Some(a),
            _ => None,
        }
    }

    /// A short name of the JSON type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            JsonValue::Null => "null",
            JsonValue::Bool(_) => "a boolean",
            JsonValue::Number(_) => "a number",
            JsonValue::String(_) => "a string",
            JsonValue::Array(_) => "an array",
            JsonValue::Object(_) => "an object",
        }
    }

    /// Compact JSON with object keys sorted by their UTF-8 bytes and numbers
    /// written as captured. Deterministic: the same value always yields the
    /// same bytes.
    pub fn write_canonical(&self, out: &mut Vec<u8>) {
        match self {
            JsonValue::Null => out.extend_from_slice(b"null"),
            JsonValue::Bool(true) => out.extend_from_slice(b"true"),
            JsonValue::Bool(false) => out.extend_from_slice(b"false"),
            JsonValue::Number(n) => out.extend_from_slice(n.as_bytes()),
            JsonValue::String(s) => write_json_string(s, out),
            JsonValue::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    item.write_canonical(out);
                }
                out.push(b']');
            }
            JsonValue::Object(obj) => {
                let mut members: Vec<&(String, JsonValue)> = obj.members.iter().collect();
                members.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                out.push(b'{');
                for (i, (k, v)) in members.into_iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_json_string(k, out);
                    out.push(b':');
                    v.write_canonical(out);
                }
                out.push(b'}');
            }
        }
    }
}

/// Minimal escaping: `"` `\` and control characters; everything else as UTF-8.
pub fn write_json_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\u{08}' => out.extend_from_slice(b"\\b"),
            '\u{0c}' => out.extend_from_slice(b"\\f"),
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let v = c as u32;
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(v >> 4) as usize]);
                out.push(HEX[(v & 0xf) as usize]);
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

/// Why the input is not acceptable JSON; `path` is the JSON pointer of the
/// value being read when the problem was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonSyntaxError {
    pub path: String,
    pub offset: usize,
    pub reason: String,
}

pub fn parse(input: &str) -> Result<JsonValue, JsonSyntaxError> {
    let mut p = Parser {
        bytes: input.as_bytes(),
        src: input,
        pos: 0,
        path: Vec::new(),
        members: Vec::new(),
        items: Vec::new(),
    };
    p.skip_ws();
    let v = p.value(0)?;
    p.skip_ws();
    if p.pos != p.bytes.len() {
        return Err(p.err("unexpected data after the JSON value"));
    }
    Ok(v)
}

enum Seg {
    Key(String),
    Index(usize),
}

struct Parser<'a> {
    bytes: &'a [u8],
    src: &'a str,
    pos: usize,
    path: Vec<Seg>,
    /// Members and items of the objects and arrays being parsed, on one
    /// stack each: a finished container takes its own off the top in one
    /// exactly sized allocation instead of growing a vector per container.
    members: Vec<(String, JsonValue)>,
    items: Vec<JsonValue>,
}

impl Parser<'_> {
    fn err(&self, reason: impl Into<String>) -> JsonSyntaxError {
        let mut path = String::new();
        for seg in &self.path {
            path.push('/');
            match seg {
                Seg::Key(k) => crate::error::push_pointer_token(&mut path, k),
                Seg::Index(i) => path.push_str(&i.to_string()),
            }
        }
        JsonSyntaxError {
            path,
            offset: self.pos,
            reason: reason.into(),
        }
    }

    fn skip_ws(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            if matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<JsonValue, JsonSyntaxError> {
        match self.bytes.get(self.pos) {
            None => Err(self.err("unexpected end of input")),
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => Ok(JsonValue::String(self.string()?)),
            Some(b't') => self.literal("true", JsonValue::Bool(true)),
            Some(b'f') => self.literal("false", JsonValue::Bool(false)),
            Some(b'n') => self.literal("null", JsonValue::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.err("expected a JSON value")),
        }
    }

    fn literal(&mut self, word: &str, v: JsonValue) -> Result<JsonValue, JsonSyntaxError> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(v)
        } else {
            Err(self.err("expected a JSON value"))
        }
    }

    fn object(&mut self, depth: usize) -> Result<JsonValue, JsonSyntaxError> {
        if depth > MAX_DEPTH {
            return Err(self.err(format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        let start = self.pos;
        self.pos += 1; // '{'
        let mark = self.members.len();
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(JsonValue::Object(JsonObject {
                members: Vec::new(),
                span: start..self.pos,
            }));
        }
        loop {
            self.skip_ws();
            if self.bytes.get(self.pos) != Some(&b'"') {
                return Err(self.err("expected a string key"));
            }
            let key = self.string()?;
            if self.members[mark..].iter().any(|(k, _)| *k == key) {
                self.path.push(Seg::Key(key));
                return Err(self.err("duplicate key"));
            }
            self.skip_ws();
            if self.bytes.get(self.pos) != Some(&b':') {
                return Err(self.err("expected ':' after an object key"));
            }
            self.pos += 1;
            self.skip_ws();
            self.path.push(Seg::Key(key));
            let v = self.value(depth)?;
            let Some(Seg::Key(key)) = self.path.pop() else {
                unreachable!("path stack is balanced")
            };
            self.members.push((key, v));
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(JsonValue::Object(JsonObject {
                        members: self.members.drain(mark..).collect(),
                        span: start..self.pos,
                    }));
                }
                _ => return Err(self.err("expected ',' or '}' in an object")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<JsonValue, JsonSyntaxError> {
        if depth > MAX_DEPTH {
            return Err(self.err(format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        self.pos += 1; // '['
        let mark = self.items.len();
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(JsonValue::Array(Vec::new()));
        }
        loop {
            self.skip_ws();
            self.path.push(Seg::Index(self.items.len() - mark));
            let v = self.value(depth)?;
            self.path.pop();
            self.items.push(v);
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(JsonValue::Array(self.items.drain(mark..).collect()));
                }
                _ => return Err(self.err("expected ',' or ']' in an array")),
            }
        }
    }

    fn number(&mut self) -> Result<JsonValue, JsonSyntaxError> {
        let start = self.pos;
        let b = self.bytes;
        let mut i = self.pos;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while matches!(b.get(i), Some(b'0'..=b'9')) {
                    i += 1;
                }
            }
            _ => {
                self.pos = i;
                return Err(self.err("invalid number"));
            }
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            if !matches!(b.get(i), Some(b'0'..=b'9')) {
                self.pos = i;
                return Err(self.err("invalid number: digit expected after '.'"));
            }
            while matches!(b.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if !matches!(b.get(i), Some(b'0'..=b'9')) {
                self.pos = i;
                return Err(self.err("invalid number: digit expected in exponent"));
            }
            while matches!(b.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
        }
        self.pos = i;
        Ok(JsonValue::Number(self.src[start..i].to_owned()))
    }

    fn string(&mut self) -> Result<String, JsonSyntaxError> {
        self.pos += 1; // opening quote
        let mut out = String::new();
        loop {
            // Copy the run of plain characters in one go.
            let run_start = self.pos;
            while let Some(&b) = self.bytes.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            // The run ends on an ASCII byte or the end, so it is a char boundary.
            out.push_str(&self.src[run_start..self.pos]);
            match self.bytes.get(self.pos) {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let Some(&esc) = self.bytes.get(self.pos) else {
                        return Err(self.err("unterminated string"));
                    };
                    self.pos += 1;
                    match esc {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{08}'),
                        b'f' => out.push('\u{0c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let c = self.unicode_escape()?;
                            out.push(c);
                        }
                        _ => return Err(self.err("invalid escape in string")),
                    }
                }
                Some(_) => return Err(self.err("control character in string")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonSyntaxError> {
        let Some(digits) = self.bytes.get(self.pos..self.pos + 4) else {
            return Err(self.err("truncated \\u escape"));
        };
        let mut v = 0u32;
        for &d in digits {
            let n = match d {
                b'0'..=b'9' => d - b'0',
                b'a'..=b'f' => d - b'a' + 10,
                b'A'..=b'F' => d - b'A' + 10,
                _ => return Err(self.err("invalid \\u escape")),
            };
            v = v * 16 + u32::from(n);
        }
        self.pos += 4;
        Ok(v)
    }

    fn unicode_escape(&mut self) -> Result<char, JsonSyntaxError> {
        let first = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&first) {
            if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
                return Err(self.err("lone surrogate in \\u escape"));
            }
            self.pos += 2;
            let second = self.hex4()?;
            if !(0xDC00..0xE000).contains(&second) {
                return Err(self.err("invalid surrogate pair in \\u escape"));
            }
            0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
        } else if (0xDC00..0xE000).contains(&first) {
            return Err(self.err("lone surrogate in \\u escape"));
        } else {
            first
        };
        char::from_u32(code).ok_or_else(|| self.err("invalid \\u escape"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_their_text() {
        let v = parse(r#"{"a": [1.50, -0, 2e10, 12345678901234567890.0]}"#).unwrap();
        let a = v.as_object().unwrap().get("a").unwrap().as_array().unwrap();
        let texts: Vec<_> = a
            .iter()
            .map(|n| match n {
                JsonValue::Number(t) => t.as_str(),
                _ => "",
            })
            .collect();
        assert_eq!(texts, ["1.50", "-0", "2e10", "12345678901234567890.0"]);
    }

    #[test]
    fn duplicate_keys_are_rejected_with_their_path() {
        let e = parse(r#"{"a": {"b": 1, "b": 2}}"#).unwrap_err();
        assert_eq!(e.path, "/a/b");
        assert!(e.reason.contains("duplicate"));
    }

    #[test]
    fn depth_is_bounded() {
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(parse(&deep).is_err());
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn strings_and_escapes() {
        let v = parse(r#""a\u00e9\ud83d\ude00\n""#).unwrap();
        assert_eq!(v.as_str(), Some("a\u{e9}\u{1F600}\n"));
        assert!(parse(r#""\ud83d""#).is_err());
        assert!(parse("\"a\u{1}\"").is_err());
    }

    #[test]
    fn rejects_malformed_input() {
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\":1,}",
            "01",
            "1.",
            "-",
            "tru",
            "{} x",
            "{'a':1}",
            "1e",
        ] {
            assert!(parse(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn canonical_output_sorts_keys_and_is_compact() {
        let v = parse(r#"{ "b": [1.0, true, null], "a": "x\"y" , "é": {} }"#).unwrap();
        let mut out = Vec::new();
        v.write_canonical(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"a":"x\"y","b":[1.0,true,null],"é":{}}"#
        );
    }

    #[test]
    fn object_spans_cover_the_object_text() {
        let src = r#"{"list": [ {"x": 1} ]}"#;
        let v = parse(src).unwrap();
        let inner = v
            .as_object()
            .unwrap()
            .get("list")
            .unwrap()
            .as_array()
            .unwrap()[0]
            .as_object()
            .unwrap();
        assert_eq!(&src[inner.span.clone()], r#"{"x": 1}"#);
    }
}
