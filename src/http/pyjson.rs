//! Request-body JSON parsing that behaves like Django REST framework's `JSONParser`.
//!
//! DRF answers a malformed JSON body with HTTP 400
//! `{"detail": "JSON parse error - <message>"}`, where `<message>` is `str(exc)` of
//! whatever Python raised while decoding the body. Clients (and the conformance suite)
//! compare those strings, so a serde_json error message will not do: this module
//! reproduces what DRF does, step by step, and therefore its messages:
//!
//! 1. `codecs.getreader('utf-8')(stream).read()`: strict UTF-8 decoding. An invalid
//!    sequence raises `UnicodeDecodeError`, e.g.
//!    `'utf-8' codec can't decode byte 0xff in position 0: invalid start byte`
//!    (positions are byte offsets here). The stream reader decodes incrementally
//!    (`final=False`), so an *incomplete* sequence at the very end of the body is never
//!    decoded and is silently dropped rather than reported; so is a trailing
//!    `ED A0..BF` pair (CPython treats it as a truncated surrogate in that mode).
//! 2. `json.loads(text, parse_constant=strict_constant)` (CPython 3.11, C scanner from
//!    `_json.c`, `strict=True`): a leading U+FEFF is rejected with
//!    `Unexpected UTF-8 BOM (decode using utf-8-sig)`, then the document is scanned
//!    exactly like `_json.c` does, producing `JSONDecodeError` messages of the form
//!    `<msg>: line L column C (char P)`, where `P` counts characters (code points) of
//!    the decoded text, not bytes. `NaN`, `Infinity` and `-Infinity` literals hit DRF's
//!    `strict_constant`: `Out of range float values are not JSON compliant: 'NaN'`.
//!    Integers with more than 4300 digits hit Python's int-conversion limit and give
//!    its `ValueError` text.
//!
//! The whole parse is done by the hand-written scanner below (serde_json only supplies
//! the [`Value`] type), so accepted documents get Python's semantics too: duplicate
//! keys keep the first key's position and the last value (like a `dict`), whitespace
//! is only `' '`, `'\t'`, `'\n'`, `'\r'`, lone surrogate escapes such as `"\ud800"`
//! are accepted, and `-0` is the integer `0`. Anything serde_json accepts is accepted
//! here, with the same value (floats are parsed correctly rounded, as Python does).
//!
//! Where a Python value has no [`Value`] counterpart, or Python fails with something
//! other than a `ValueError` (which DRF would not turn into a 400), this module differs:
//!
//! - A lone surrogate (from an unpaired `\uD800`-`\uDFFF` escape) becomes U+FFFD.
//! - A number whose value overflows `f64` (`1e400`, or an integer beyond ±1.8e308):
//!   Python yields `inf` or a big `int`. [`Value`] cannot hold either, so when the rest
//!   of the document is valid, [`parse`] returns
//!   `Err("Out of range float values are not JSON compliant: 'Infinity'")`
//!   (`'-Infinity'` if the first such number left in the result is negative), i.e.
//!   what DRF says about an `Infinity` literal. Syntax errors elsewhere in the document
//!   are still reported first, and a number that a later duplicate key replaces does
//!   not count, since Python would have accepted the document.
//! - Other integers outside the `i64`/`u64` range (exact `int`s in Python) become the
//!   nearest `f64`, as serde_json itself does without `arbitrary_precision`.
//! - Nesting deeper than 993 containers fails with Python's `RecursionError` text,
//!   `maximum recursion depth exceeded while decoding a JSON array from a unicode string`
//!   (or `object`). 993 levels is the most CPython 3.11 decodes when called from a
//!   shallow stack; inside a Django request its limit is a little lower, and there the
//!   `RecursionError` is not caught by DRF (HTTP 500, not 400). The scanner itself is
//!   iterative, so depth never threatens the Rust stack.
//! - An empty body gives `Expecting value: line 1 column 1 (char 0)` as `json.loads`
//!   does; note that DRF does not call the parser at all for a request without a body.

use serde_json::{Map, Number, Value};

/// Deepest nesting of arrays/objects accepted (see the module docs).
const MAX_DEPTH: usize = 993;

/// CPython's default `sys.get_int_max_str_digits()`.
const INT_MAX_STR_DIGITS: usize = 4300;

const EXPECTING_VALUE: &str = "Expecting value";
const EXPECTING_PROPERTY_NAME: &str = "Expecting property name enclosed in double quotes";
const EXPECTING_COLON: &str = "Expecting ':' delimiter";
const EXPECTING_COMMA: &str = "Expecting ',' delimiter";
const UNTERMINATED_STRING: &str = "Unterminated string starting at";
const INVALID_CONTROL: &str = "Invalid control character at";
const INVALID_ESCAPE: &str = "Invalid \\escape";
const INVALID_UXXXX: &str = "Invalid \\uXXXX escape";
const EXTRA_DATA: &str = "Extra data";
const UNEXPECTED_BOM: &str = "Unexpected UTF-8 BOM (decode using utf-8-sig)";

/// Parses a request body the way DRF's JSONParser does. On success the JSON value
/// (serde_json, key order preserved; duplicate keys: last value wins, like Python).
/// On failure the message Python would put after "JSON parse error - ".
///
/// Never panics. See the module documentation for the few places where the result
/// cannot match Python's (lone surrogates, numbers overflowing `f64`, very deep nesting).
pub fn parse(body: &[u8]) -> Result<serde_json::Value, String> {
    let text = decode_utf8(body)?;
    if text.starts_with('\u{feff}') {
        return Err(describe(text, UNEXPECTED_BOM, 0));
    }
    let scanner = Scanner {
        text,
        b: text.as_bytes(),
    };
    match scanner.decode() {
        Ok((value, None)) => Ok(value),
        Ok((_, Some(negative))) => Err(out_of_range(if negative {
            "-Infinity"
        } else {
            "Infinity"
        })),
        Err(Fail::At(msg, pos)) => Err(describe(text, msg, pos)),
        Err(Fail::Raw(message)) => Err(message),
    }
}

/// Why the scan stopped.
enum Fail {
    /// `JSONDecodeError(msg, doc, pos)`; `pos` is a byte offset into the decoded text,
    /// always on a character boundary.
    At(&'static str, usize),
    /// Any other `ValueError`: its `str()` verbatim.
    Raw(String),
}

/// Whether a value contains a number that overflowed `f64` (such a number is stored
/// as 0): `Some(negative)` for the first one in the value's order, `None` if none.
type Overflow = Option<bool>;

/// An array or object still open while the scanner reads its contents.
enum Frame {
    Array {
        items: Vec<Value>,
        overflow: Overflow,
    },
    Object {
        members: Map<String, Value>,
        /// The key whose value is being read.
        key: String,
        /// [`Overflow`] of each member, by position; shorter while the rest are `None`.
        overflow: Vec<Overflow>,
    },
}

/// Inserts a member like a `dict` does (a repeated key keeps its place, the last
/// value wins), keeping the per-member [`Overflow`] list in step.
fn insert_member(
    members: &mut Map<String, Value>,
    overflow: &mut Vec<Overflow>,
    key: String,
    value: Value,
    value_overflow: Overflow,
) {
    let existing = if members.contains_key(&key) {
        members.keys().position(|k| *k == key)
    } else {
        None
    };
    members.insert(key, value);
    let pos = existing.unwrap_or(members.len() - 1);
    if value_overflow.is_some() || pos < overflow.len() {
        if overflow.len() <= pos {
            overflow.resize(pos + 1, None);
        }
        overflow[pos] = value_overflow;
    }
}

/// Mirrors `codecs.getreader('utf-8')(stream).read()` with CPython's UTF-8 decoder.
fn decode_utf8(body: &[u8]) -> Result<&str, String> {
    let err = match std::str::from_utf8(body) {
        Ok(text) => return Ok(text),
        Err(err) => err,
    };
    let pos = err.valid_up_to();
    let prefix = std::str::from_utf8(&body[..pos]).unwrap_or_default();
    let len = match err.error_len() {
        // Incomplete sequence at the end: kept in the reader's buffer, never decoded.
        None => return Ok(prefix),
        // CPython's incremental decoder also waits for more input after `ED A0..BF`.
        Some(1)
            if body[pos] == 0xED
                && body.len() - pos == 2
                && (0xA0..=0xBF).contains(&body[pos + 1]) =>
        {
            return Ok(prefix);
        }
        Some(len) => len,
    };
    let lead = body[pos];
    let reason = if (0x80..=0xC1).contains(&lead) || lead >= 0xF5 {
        "invalid start byte"
    } else {
        "invalid continuation byte"
    };
    Err(if len == 1 {
        format!("'utf-8' codec can't decode byte 0x{lead:02x} in position {pos}: {reason}")
    } else {
        format!(
            "'utf-8' codec can't decode bytes in position {pos}-{}: {reason}",
            pos + len - 1
        )
    })
}

/// Formats `JSONDecodeError`'s message: `<msg>: line L column C (char P)`.
fn describe(text: &str, msg: &str, pos: usize) -> String {
    let mut pos = pos.min(text.len());
    while !text.is_char_boundary(pos) {
        pos -= 1;
    }
    let before = &text[..pos];
    let char_pos = before.chars().count();
    let line = before.bytes().filter(|&c| c == b'\n').count() + 1;
    let column = match before.rfind('\n') {
        Some(newline) => char_pos - before[..newline].chars().count(),
        None => char_pos + 1,
    };
    format!("{msg}: line {line} column {column} (char {char_pos})")
}

/// DRF's `strict_constant`: `ValueError('Out of range float values are not JSON compliant: ' + repr(o))`.
fn out_of_range(constant: &str) -> String {
    format!("Out of range float values are not JSON compliant: '{constant}'")
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

/// Value of four hex digits, as `_json.c` reads them (ASCII hex digits only).
fn hex4(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |acc, &d| {
        let v = char::from(d).to_digit(16)?;
        Some((acc << 4) | v)
    })
}

/// A mirror of CPython 3.11's `_json.c` scanner over the decoded text. Positions are
/// byte offsets; every place `_json.c` compares a position with the length concerns
/// ASCII characters only, so byte and character arithmetic agree.
struct Scanner<'a> {
    text: &'a str,
    b: &'a [u8],
}

impl Scanner<'_> {
    /// `JSONDecoder.decode`: whitespace, one value, whitespace, end of text.
    fn decode(&self) -> Result<(Value, Overflow), Fail> {
        let start = self.skip_ws(0);
        let (value, end, overflow) = self.scan_once(start)?;
        let end = self.skip_ws(end);
        if end != self.b.len() {
            return Err(Fail::At(EXTRA_DATA, end));
        }
        Ok((value, overflow))
    }

    fn skip_ws(&self, mut idx: usize) -> usize {
        while idx < self.b.len() && is_ws(self.b[idx]) {
            idx += 1;
        }
        idx
    }

    /// `scan_once_unicode`, with the recursion into arrays and objects unrolled onto
    /// an explicit stack. Returns the value, the offset just after it, and its [`Overflow`].
    fn scan_once(&self, mut idx: usize) -> Result<(Value, usize, Overflow), Fail> {
        let mut stack: Vec<Frame> = Vec::new();
        loop {
            // Read one term at `idx`; a non-empty container is pushed and its first
            // member read next.
            let (mut value, mut end, mut overflow) = match self.b.get(idx) {
                None => return Err(Fail::At(EXPECTING_VALUE, idx)),
                Some(b'{') => {
                    check_depth(stack.len(), "object")?;
                    let i = self.skip_ws(idx + 1);
                    if self.b.get(i) == Some(&b'}') {
                        (Value::Object(Map::new()), i + 1, None)
                    } else {
                        let (key, i) = self.object_key(i)?;
                        stack.push(Frame::Object {
                            members: Map::new(),
                            key,
                            overflow: Vec::new(),
                        });
                        idx = i;
                        continue;
                    }
                }
                Some(b'[') => {
                    check_depth(stack.len(), "array")?;
                    let i = self.skip_ws(idx + 1);
                    if self.b.get(i) == Some(&b']') {
                        (Value::Array(Vec::new()), i + 1, None)
                    } else {
                        stack.push(Frame::Array {
                            items: Vec::new(),
                            overflow: None,
                        });
                        idx = i;
                        continue;
                    }
                }
                Some(_) => self.scan_scalar(idx)?,
            };
            // Hand the finished term to the enclosing containers, closing those that end.
            loop {
                let Some(frame) = stack.pop() else {
                    return Ok((value, end, overflow));
                };
                let i = self.skip_ws(end);
                match frame {
                    Frame::Array {
                        mut items,
                        overflow: array_overflow,
                    } => {
                        items.push(value);
                        let array_overflow = array_overflow.or(overflow);
                        match self.b.get(i) {
                            Some(b']') => {
                                value = Value::Array(items);
                                end = i + 1;
                                overflow = array_overflow;
                            }
                            Some(b',') => {
                                stack.push(Frame::Array {
                                    items,
                                    overflow: array_overflow,
                                });
                                idx = self.skip_ws(i + 1);
                                break;
                            }
                            _ => return Err(Fail::At(EXPECTING_COMMA, i)),
                        }
                    }
                    Frame::Object {
                        mut members,
                        key,
                        overflow: mut member_overflow,
                    } => {
                        insert_member(&mut members, &mut member_overflow, key, value, overflow);
                        match self.b.get(i) {
                            Some(b'}') => {
                                value = Value::Object(members);
                                end = i + 1;
                                overflow = member_overflow.iter().flatten().next().copied();
                            }
                            Some(b',') => {
                                let (key, next) = self.object_key(self.skip_ws(i + 1))?;
                                stack.push(Frame::Object {
                                    members,
                                    key,
                                    overflow: member_overflow,
                                });
                                idx = next;
                                break;
                            }
                            _ => return Err(Fail::At(EXPECTING_COMMA, i)),
                        }
                    }
                }
            }
        }
    }

    /// Reads `"key"`, whitespace, `:` and whitespace; returns the key and the offset of
    /// the member's value.
    fn object_key(&self, idx: usize) -> Result<(String, usize), Fail> {
        if self.b.get(idx) != Some(&b'"') {
            return Err(Fail::At(EXPECTING_PROPERTY_NAME, idx));
        }
        let (key, end) = self.scan_string(idx + 1)?;
        let i = self.skip_ws(end);
        if self.b.get(i) != Some(&b':') {
            return Err(Fail::At(EXPECTING_COLON, i));
        }
        Ok((key, self.skip_ws(i + 1)))
    }

    /// Any term but an array or object; `idx` is in bounds.
    fn scan_scalar(&self, idx: usize) -> Result<(Value, usize, Overflow), Fail> {
        let rest = &self.b[idx..];
        match rest[0] {
            b'"' => {
                let (s, end) = self.scan_string(idx + 1)?;
                Ok((Value::String(s), end, None))
            }
            b'n' if rest.starts_with(b"null") => Ok((Value::Null, idx + 4, None)),
            b't' if rest.starts_with(b"true") => Ok((Value::Bool(true), idx + 4, None)),
            b'f' if rest.starts_with(b"false") => Ok((Value::Bool(false), idx + 5, None)),
            b'N' if rest.starts_with(b"NaN") => Err(Fail::Raw(out_of_range("NaN"))),
            b'I' if rest.starts_with(b"Infinity") => Err(Fail::Raw(out_of_range("Infinity"))),
            b'-' if rest.starts_with(b"-Infinity") => Err(Fail::Raw(out_of_range("-Infinity"))),
            _ => self.scan_number(idx),
        }
    }

    /// `_match_number_unicode`; anything that is not a number is "Expecting value".
    fn scan_number(&self, start: usize) -> Result<(Value, usize, Overflow), Fail> {
        let b = self.b;
        let len = b.len();
        let digit = |i: usize| i < len && b[i].is_ascii_digit();
        let mut idx = start;
        if b[idx] == b'-' {
            idx += 1;
        }
        match b.get(idx) {
            Some(b'1'..=b'9') => {
                idx += 1;
                while digit(idx) {
                    idx += 1;
                }
            }
            Some(b'0') => idx += 1,
            _ => return Err(Fail::At(EXPECTING_VALUE, start)),
        }
        let mut is_float = false;
        if idx + 1 < len && b[idx] == b'.' && digit(idx + 1) {
            is_float = true;
            idx += 2;
            while digit(idx) {
                idx += 1;
            }
        }
        if idx + 1 < len && (b[idx] == b'e' || b[idx] == b'E') {
            let e_start = idx;
            idx += 1;
            if idx + 1 < len && (b[idx] == b'-' || b[idx] == b'+') {
                idx += 1;
            }
            while digit(idx) {
                idx += 1;
            }
            if b[idx - 1].is_ascii_digit() {
                is_float = true;
            } else {
                idx = e_start;
            }
        }
        let text = &self.text[start..idx];
        let (number, overflow) = if is_float {
            float(text)
        } else {
            let digits = text.len() - usize::from(text.starts_with('-'));
            if digits > INT_MAX_STR_DIGITS {
                return Err(Fail::Raw(format!(
                    "Exceeds the limit ({INT_MAX_STR_DIGITS} digits) for integer string conversion: \
                     value has {digits} digits; use sys.set_int_max_str_digits() to increase the limit"
                )));
            }
            if let Ok(n) = text.parse::<u64>() {
                (Number::from(n), None)
            } else if let Ok(n) = text.parse::<i64>() {
                (Number::from(n), None)
            } else {
                float(text)
            }
        };
        Ok((Value::Number(number), idx, overflow))
    }

    /// `scanstring_unicode`: `end` is just after the opening quote; returns the string
    /// and the offset just after the closing quote.
    fn scan_string(&self, mut end: usize) -> Result<(String, usize), Fail> {
        let b = self.b;
        let len = b.len();
        let begin = end - 1;
        let mut out = String::new();
        loop {
            let mut next = end;
            loop {
                let Some(&c) = b.get(next) else {
                    return Err(Fail::At(UNTERMINATED_STRING, begin));
                };
                if c == b'"' || c == b'\\' {
                    break;
                }
                if c <= 0x1f {
                    return Err(Fail::At(INVALID_CONTROL, next));
                }
                next += 1;
            }
            out.push_str(&self.text[end..next]);
            let terminator = b[next];
            next += 1;
            if terminator == b'"' {
                return Ok((out, next));
            }
            let Some(&esc) = b.get(next) else {
                return Err(Fail::At(UNTERMINATED_STRING, begin));
            };
            if esc != b'u' {
                end = next + 1;
                out.push(match esc {
                    b'"' => '"',
                    b'\\' => '\\',
                    b'/' => '/',
                    b'b' => '\u{8}',
                    b'f' => '\u{c}',
                    b'n' => '\n',
                    b'r' => '\r',
                    b't' => '\t',
                    _ => return Err(Fail::At(INVALID_ESCAPE, end - 2)),
                });
                continue;
            }
            next += 1;
            end = next + 4;
            // Four hex digits and at least one more character are required.
            if end >= len {
                return Err(Fail::At(INVALID_UXXXX, next - 1));
            }
            let mut code = hex4(&b[next..end]).ok_or(Fail::At(INVALID_UXXXX, end - 5))?;
            if (0xD800..=0xDBFF).contains(&code)
                && end + 6 < len
                && b[end] == b'\\'
                && b[end + 1] == b'u'
            {
                let low = hex4(&b[end + 2..end + 6]).ok_or(Fail::At(INVALID_UXXXX, end + 1))?;
                if (0xDC00..=0xDFFF).contains(&low) {
                    code = 0x10000 + (((code - 0xD800) << 10) | (low - 0xDC00));
                    end += 6;
                }
            }
            // A lone surrogate is a valid Python str element but not a Rust char.
            out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
        }
    }
}

/// The nearest `f64` to a JSON number; one that overflows becomes 0 with its [`Overflow`].
fn float(text: &str) -> (Number, Overflow) {
    let x = text.parse::<f64>().unwrap_or(f64::INFINITY);
    match Number::from_f64(x) {
        Some(number) => (number, None),
        None => (Number::from(0u64), Some(text.starts_with('-'))),
    }
}

/// `Py_EnterRecursiveCall` when opening a container inside `open` others.
fn check_depth(open: usize, kind: &str) -> Result<(), Fail> {
    if open < MAX_DEPTH {
        Ok(())
    } else {
        Err(Fail::Raw(format!(
            "maximum recursion depth exceeded while decoding a JSON {kind} from a unicode string"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::parse;
    use serde_json::{json, Value};

    /// Malformed bodies and `str(exc)` from CPython 3.11 running DRF's decoding steps
    /// (`codecs.getreader('utf-8')` + `json.load(..., parse_constant=strict_constant)`).
    const CASES: &[(&[u8], &str)] = &[
        (b"", "Expecting value: line 1 column 1 (char 0)"),
        (b"   ", "Expecting value: line 1 column 4 (char 3)"),
        (b"not json", "Expecting value: line 1 column 1 (char 0)"),
        (b"[1,]", "Expecting value: line 1 column 4 (char 3)"),
        (b"{\"a\":}", "Expecting value: line 1 column 6 (char 5)"),
        (b"{\"a\": }", "Expecting value: line 1 column 7 (char 6)"),
        (b"[", "Expecting value: line 1 column 2 (char 1)"),
        (b"[,1]", "Expecting value: line 1 column 2 (char 1)"),
        (b"-", "Expecting value: line 1 column 1 (char 0)"),
        (b"-x", "Expecting value: line 1 column 1 (char 0)"),
        (b".5", "Expecting value: line 1 column 1 (char 0)"),
        (b"+1", "Expecting value: line 1 column 1 (char 0)"),
        (b"'a'", "Expecting value: line 1 column 1 (char 0)"),
        (b"nul", "Expecting value: line 1 column 1 (char 0)"),
        (b"tru", "Expecting value: line 1 column 1 (char 0)"),
        (b"[1, ]", "Expecting value: line 1 column 5 (char 4)"),
        (
            b"{\"a\": [1, 2, }",
            "Expecting value: line 1 column 14 (char 13)",
        ),
        (b"\n\n  ", "Expecting value: line 3 column 3 (char 4)"),
        (b"True", "Expecting value: line 1 column 1 (char 0)"),
        (b"None", "Expecting value: line 1 column 1 (char 0)"),
        (b"undefined", "Expecting value: line 1 column 1 (char 0)"),
        (b"[1,,2]", "Expecting value: line 1 column 4 (char 3)"),
        (
            b"{bad",
            "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
        (
            b"{",
            "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
        (
            b"{\"a\":1,}",
            "Expecting property name enclosed in double quotes: line 1 column 8 (char 7)",
        ),
        (
            b"{\"a\":1, }",
            "Expecting property name enclosed in double quotes: line 1 column 9 (char 8)",
        ),
        (
            b"{'a':1}",
            "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
        (
            b"{1:2}",
            "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
        (
            b"{\"a\":1,,\"b\":2}",
            "Expecting property name enclosed in double quotes: line 1 column 8 (char 7)",
        ),
        (
            b"{ ,}",
            "Expecting property name enclosed in double quotes: line 1 column 3 (char 2)",
        ),
        (
            b"{\"a\" 1}",
            "Expecting ':' delimiter: line 1 column 6 (char 5)",
        ),
        (
            b"{\"a\"",
            "Expecting ':' delimiter: line 1 column 5 (char 4)",
        ),
        (
            b"{\"a\" }",
            "Expecting ':' delimiter: line 1 column 6 (char 5)",
        ),
        (
            b"{\"a\":1 \"b\":2}",
            "Expecting ',' delimiter: line 1 column 8 (char 7)",
        ),
        (
            b"{\"a\":1",
            "Expecting ',' delimiter: line 1 column 7 (char 6)",
        ),
        (
            b"[1 2]",
            "Expecting ',' delimiter: line 1 column 4 (char 3)",
        ),
        (b"[1", "Expecting ',' delimiter: line 1 column 3 (char 2)"),
        (b"[1}", "Expecting ',' delimiter: line 1 column 3 (char 2)"),
        (
            b"{\"a\":1]",
            "Expecting ',' delimiter: line 1 column 7 (char 6)",
        ),
        (
            b"[[1] [2]]",
            "Expecting ',' delimiter: line 1 column 6 (char 5)",
        ),
        (
            b"{\"a\":\"b\" \"c\"}",
            "Expecting ',' delimiter: line 1 column 10 (char 9)",
        ),
        (
            b"\"abc",
            "Unterminated string starting at: line 1 column 1 (char 0)",
        ),
        (
            b"\"",
            "Unterminated string starting at: line 1 column 1 (char 0)",
        ),
        (
            b"[\"abc",
            "Unterminated string starting at: line 1 column 2 (char 1)",
        ),
        (
            b"{\"abc",
            "Unterminated string starting at: line 1 column 2 (char 1)",
        ),
        (
            b"\"ab\\\"",
            "Unterminated string starting at: line 1 column 1 (char 0)",
        ),
        (
            b"\"\\",
            "Unterminated string starting at: line 1 column 1 (char 0)",
        ),
        (
            b"\"a\x01b\"",
            "Invalid control character at: line 1 column 3 (char 2)",
        ),
        (
            b"\"tab\there\"",
            "Invalid control character at: line 1 column 5 (char 4)",
        ),
        (
            b"\"line\nbreak\"",
            "Invalid control character at: line 1 column 6 (char 5)",
        ),
        (
            b"{\"k\x00\":1}",
            "Invalid control character at: line 1 column 4 (char 3)",
        ),
        (b"\"\\x\"", "Invalid \\escape: line 1 column 2 (char 1)"),
        (b"\"\\a\"", "Invalid \\escape: line 1 column 2 (char 1)"),
        (b"\"\\U0041\"", "Invalid \\escape: line 1 column 2 (char 1)"),
        (b"\"\\'\"", "Invalid \\escape: line 1 column 2 (char 1)"),
        (
            b"\"\\u12\"",
            "Invalid \\uXXXX escape: line 1 column 3 (char 2)",
        ),
        (
            b"\"\\u1234",
            "Invalid \\uXXXX escape: line 1 column 3 (char 2)",
        ),
        (
            b"\"\\uzzzz\"",
            "Invalid \\uXXXX escape: line 1 column 3 (char 2)",
        ),
        (
            b"\"\\u00G0\"",
            "Invalid \\uXXXX escape: line 1 column 3 (char 2)",
        ),
        (
            b"\"\\ud800\\u12",
            "Invalid \\uXXXX escape: line 1 column 9 (char 8)",
        ),
        (
            b"\"\\ud800\\uzzzz\"",
            "Invalid \\uXXXX escape: line 1 column 9 (char 8)",
        ),
        (
            b"\"\\u-123\"",
            "Invalid \\uXXXX escape: line 1 column 3 (char 2)",
        ),
        (b"{} x", "Extra data: line 1 column 4 (char 3)"),
        (b"1 2", "Extra data: line 1 column 3 (char 2)"),
        (b"[] []", "Extra data: line 1 column 4 (char 3)"),
        (b"\"a\" \"b\"", "Extra data: line 1 column 5 (char 4)"),
        (b"null,", "Extra data: line 1 column 5 (char 4)"),
        (b"1.", "Extra data: line 1 column 2 (char 1)"),
        (b"01", "Extra data: line 1 column 2 (char 1)"),
        (b"1e", "Extra data: line 1 column 2 (char 1)"),
        (b"1e+", "Extra data: line 1 column 2 (char 1)"),
        (b"0x10", "Extra data: line 1 column 2 (char 1)"),
        (b"-01", "Extra data: line 1 column 3 (char 2)"),
        (b"truex", "Extra data: line 1 column 5 (char 4)"),
        (b"{}\n\n  }", "Extra data: line 3 column 3 (char 6)"),
        (b"1.5.2", "Extra data: line 1 column 4 (char 3)"),
        (
            b"NaN",
            "Out of range float values are not JSON compliant: 'NaN'",
        ),
        (
            b"Infinity",
            "Out of range float values are not JSON compliant: 'Infinity'",
        ),
        (
            b"-Infinity",
            "Out of range float values are not JSON compliant: '-Infinity'",
        ),
        (
            b"[1, NaN]",
            "Out of range float values are not JSON compliant: 'NaN'",
        ),
        (
            b"{\"a\": -Infinity}",
            "Out of range float values are not JSON compliant: '-Infinity'",
        ),
        (
            b"[Infinity, x]",
            "Out of range float values are not JSON compliant: 'Infinity'",
        ),
        (b"[x, NaN]", "Expecting value: line 1 column 2 (char 1)"),
        (b"nan", "Expecting value: line 1 column 1 (char 0)"),
        (b"\x0c{}", "Expecting value: line 1 column 1 (char 0)"),
        (b"{}\x0b", "Extra data: line 1 column 3 (char 2)"),
        (b"\xc2\xa0{}", "Expecting value: line 1 column 1 (char 0)"),
        (
            b"[1,\xe3\x80\x80 2]",
            "Expecting value: line 1 column 4 (char 3)",
        ),
        (
            b"\xef\xbb\xbf{}",
            "Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)",
        ),
        (
            b"\xef\xbb\xbf",
            "Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)",
        ),
        (
            b"\xef\xbb\xbf   {\"a\":1}",
            "Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)",
        ),
        (
            b"\xff",
            "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte",
        ),
        (
            b"{}\xff",
            "'utf-8' codec can't decode byte 0xff in position 2: invalid start byte",
        ),
        (
            b"{\"a\":\"\xff\"}",
            "'utf-8' codec can't decode byte 0xff in position 6: invalid start byte",
        ),
        (
            b"\x80",
            "'utf-8' codec can't decode byte 0x80 in position 0: invalid start byte",
        ),
        (
            b"\"\xc0\x80\"",
            "'utf-8' codec can't decode byte 0xc0 in position 1: invalid start byte",
        ),
        (
            b"\"\xc3(\"",
            "'utf-8' codec can't decode byte 0xc3 in position 1: invalid continuation byte",
        ),
        (
            b"\"\xe2(\xa1\"",
            "'utf-8' codec can't decode byte 0xe2 in position 1: invalid continuation byte",
        ),
        (
            b"\"\xe2\x82(\"",
            "'utf-8' codec can't decode bytes in position 1-2: invalid continuation byte",
        ),
        (
            b"\"\xf0\x90(\"",
            "'utf-8' codec can't decode bytes in position 1-2: invalid continuation byte",
        ),
        (
            b"\"\xf0\x90\x80(\"",
            "'utf-8' codec can't decode bytes in position 1-3: invalid continuation byte",
        ),
        (
            b"\"\xed\xa0\x80\"",
            "'utf-8' codec can't decode byte 0xed in position 1: invalid continuation byte",
        ),
        (
            b"\"\xf4\x90\x80\x80\"",
            "'utf-8' codec can't decode byte 0xf4 in position 1: invalid continuation byte",
        ),
        (
            b"\"\xf8\x88\x80\x80\x80\"",
            "'utf-8' codec can't decode byte 0xf8 in position 1: invalid start byte",
        ),
        (
            b"\xe9t\xe9",
            "'utf-8' codec can't decode byte 0xe9 in position 0: invalid continuation byte",
        ),
        (
            b"\"abc\xe2\x82",
            "Unterminated string starting at: line 1 column 1 (char 0)",
        ),
        (
            b"{\n  \"a\": 1,\n  \"b\": 2,\n}",
            "Expecting property name enclosed in double quotes: line 4 column 1 (char 22)",
        ),
        (
            b"{\n  \"a\": 1\n  \"b\": 2\n}",
            "Expecting ',' delimiter: line 3 column 3 (char 13)",
        ),
        (
            b"[\n1,\n2\n",
            "Expecting ',' delimiter: line 4 column 1 (char 7)",
        ),
        (b"\n\n\nx", "Expecting value: line 4 column 1 (char 3)"),
        (
            b"{\r\n\"a\":\r\n}",
            "Expecting value: line 3 column 1 (char 9)",
        ),
        (
            b"[1,\n\n  \tnope]",
            "Expecting value: line 3 column 4 (char 8)",
        ),
        (
            b"{\"a\":\n\"abc\ndef\"}",
            "Invalid control character at: line 2 column 5 (char 10)",
        ),
        (
            b"{\"caf\xc3\xa9\": 1,}",
            "Expecting property name enclosed in double quotes: line 1 column 12 (char 11)",
        ),
        (
            b"[\"\xc3\xa9\xc3\xa9\xc3\xa9\", x]",
            "Expecting value: line 1 column 9 (char 8)",
        ),
        (
            b"{\"emoji\": \"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\"} x",
            "Extra data: line 1 column 17 (char 16)",
        ),
        (
            b"[\"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\"\n, \"\xc3\xa9\" \"x\"]",
            "Expecting ',' delimiter: line 2 column 7 (char 13)",
        ),
        (
            b"\"\xc3\xa9\\q\"",
            "Invalid \\escape: line 1 column 3 (char 2)",
        ),
        (
            b"[\"\xe2\x82\xac\", \"\xe2\x82\xac\x01\"]",
            "Invalid control character at: line 1 column 9 (char 8)",
        ),
        (b"\xc3\xa9", "Expecting value: line 1 column 1 (char 0)"),
    ];

    #[test]
    fn malformed_bodies_give_pythons_messages() {
        assert!(CASES.len() >= 40);
        for (body, expected) in CASES {
            assert_eq!(
                parse(body).as_ref().map_err(String::as_str),
                Err(*expected),
                "body {:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn int_digit_limit() {
        let limit = |n: usize| {
            format!(
                "Exceeds the limit (4300 digits) for integer string conversion: value has {n} digits; \
                 use sys.set_int_max_str_digits() to increase the limit"
            )
        };
        assert_eq!(parse("1".repeat(4301).as_bytes()), Err(limit(4301)));
        let body = format!("[-{}]", "9".repeat(5000));
        assert_eq!(parse(body.as_bytes()), Err(limit(5000)));
        // Reported where Python meets it, before later syntax errors.
        let body = format!("[{}, x]", "1".repeat(4301));
        assert_eq!(parse(body.as_bytes()), Err(limit(4301)));
        // 4300 digits is fine (too big for f64 though, see overflowing_numbers).
        let body = format!("[{}.5, 1]", "1".repeat(4300));
        assert_eq!(
            parse(body.as_bytes()),
            Err("Out of range float values are not JSON compliant: 'Infinity'".to_owned())
        );
    }

    #[test]
    fn nesting_limit() {
        let arrays = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        let objects = |n: usize| format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n));
        assert!(parse(arrays(993).as_bytes()).is_ok());
        assert!(parse(objects(993).as_bytes()).is_ok());
        assert_eq!(
            parse(arrays(994).as_bytes()),
            Err("maximum recursion depth exceeded while decoding a JSON array from a unicode string".to_owned())
        );
        assert_eq!(
            parse(objects(994).as_bytes()),
            Err("maximum recursion depth exceeded while decoding a JSON object from a unicode string".to_owned())
        );
        // Python gives up on entering the 994th level, before seeing the missing brackets.
        assert_eq!(
            parse("[".repeat(994).as_bytes()),
            Err("maximum recursion depth exceeded while decoding a JSON array from a unicode string".to_owned())
        );
        assert_eq!(
            parse("[".repeat(993).as_bytes()),
            Err("Expecting value: line 1 column 994 (char 993)".to_owned())
        );
        // Far deeper than serde_json's own limit of 128, and no stack overflow.
        let value = parse(arrays(500).as_bytes()).unwrap_or_default();
        let mut depth = 0;
        let mut cur = &value;
        while let Some(inner) = cur.as_array() {
            depth += 1;
            match inner.first() {
                Some(next) => cur = next,
                None => break,
            }
        }
        assert_eq!(depth, 500);
        assert!(parse("[".repeat(100_000).as_bytes()).is_err());
    }

    #[test]
    fn valid_documents() {
        let ok = |body: &[u8]| parse(body).unwrap_or_else(|e| panic!("{body:?}: {e}"));
        assert_eq!(
            ok(br#"{"username": "bob", "password": "s3cret"}"#),
            json!({"username": "bob", "password": "s3cret"})
        );
        assert_eq!(
            ok(b" \t\r\n{ \"a\" : [ 1 , 2.5 , -3e2 , true , false , null , { } , [ ] ] } \n"),
            json!({"a": [1, 2.5, -300.0, true, false, null, {}, []]})
        );
        for (body, expected) in [
            (&b"0"[..], json!(0)),
            (b"-0", json!(0)),
            (b"-0.0", json!(-0.0)),
            (b"-12", json!(-12)),
            (b"1E+2", json!(100.0)),
            (b"1.5e-3", json!(0.0015)),
            (b"1e-400", json!(0.0)),
            (b"18446744073709551615", json!(u64::MAX)),
            (b"-9223372036854775808", json!(i64::MIN)),
            (b"18446744073709551616", json!(18446744073709551616.0)),
            (b"0.1", json!(0.1)),
        ] {
            assert_eq!(ok(body), expected, "{body:?}");
        }
        assert_eq!(
            ok(br#""q\" b\\ s\/ \b\f\n\r\t \u00e9\u20AC \ud83d\ude00 caf\u00E9""#),
            json!("q\" b\\ s/ \u{8}\u{c}\n\r\t \u{e9}\u{20ac} \u{1f600} caf\u{e9}")
        );
        // Non-ASCII passes through untouched.
        assert_eq!(
            ok("[\"日本語\", \"😀\"]".as_bytes()),
            json!(["日本語", "😀"])
        );
        // Lone surrogates: Python keeps them in the str; here they become U+FFFD.
        assert_eq!(
            ok(br#"["\ud800", "\udc00\ud800", "\ud800\u0041", "a\udbffz", "\ud800\ud800\udc00"]"#),
            json!([
                "\u{fffd}",
                "\u{fffd}\u{fffd}",
                "\u{fffd}A",
                "a\u{fffd}z",
                "\u{fffd}\u{10000}"
            ])
        );
        assert_eq!(ok(br#"{"\ud800": 1}"#), json!({"\u{fffd}": 1}));
        // Key order is preserved; a duplicate key keeps its first position and the last value.
        let v = ok(br#"{"b": 1, "a": 2, "b": 3, "c": {"x": 1, "x": [2]}}"#);
        assert_eq!(v, json!({"b": 3, "a": 2, "c": {"x": [2]}}));
        let keys: Vec<&str> = v
            .as_object()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(keys, ["b", "a", "c"]);
        // An incomplete UTF-8 sequence at the very end is never decoded by Python's stream reader.
        assert_eq!(ok(b"{}\xe2\x82"), json!({}));
        assert_eq!(ok(b"{}\xf0\x9f\x98"), json!({}));
        assert_eq!(ok(b"{}\xed\xa0"), json!({}));
        assert_eq!(ok(b"{}\xed\x9f"), json!({}));
    }

    #[test]
    fn overflowing_numbers() {
        let inf = Err("Out of range float values are not JSON compliant: 'Infinity'".to_owned());
        let neg_inf =
            Err("Out of range float values are not JSON compliant: '-Infinity'".to_owned());
        assert_eq!(parse(b"1e400"), inf);
        assert_eq!(parse(b"-1e400"), neg_inf);
        assert_eq!(parse(b"[-1e400, 1e400]"), neg_inf);
        assert_eq!(parse(b"{\"a\": 1E309}"), inf);
        assert_eq!(parse("1".repeat(310).as_bytes()), inf);
        assert_eq!(parse(format!("-{}", "1".repeat(310)).as_bytes()), neg_inf);
        assert_eq!(
            parse("1".repeat(309).as_bytes()),
            Ok(json!(1.111_111_111_111_111_2e308))
        );
        // Python accepts the number, so later errors win...
        assert_eq!(
            parse(b"[1e400, x]"),
            Err("Expecting value: line 1 column 9 (char 8)".to_owned())
        );
        assert_eq!(
            parse(b"1e400 x"),
            Err("Extra data: line 1 column 7 (char 6)".to_owned())
        );
        assert_eq!(
            parse(b"[1e400, NaN]"),
            Err("Out of range float values are not JSON compliant: 'NaN'".to_owned())
        );
        // ...and a number replaced by a duplicate key is gone, as in Python.
        assert_eq!(
            parse(b"{\"a\": 1e400, \"b\": 1, \"a\": 2}"),
            Ok(json!({"a": 2, "b": 1}))
        );
        assert_eq!(parse(b"{\"a\": 1, \"b\": -1e400, \"a\": 1e400}"), inf);
        assert_eq!(parse(b"{\"a\": [1e400], \"a\": {\"b\": -1e400}}"), neg_inf);
    }

    /// Tiny xorshift64* PRNG, so the property test needs no extra crates.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next() % n as u64).unwrap_or(0)
        }
    }

    const TOKENS: &[&[u8]] = &[
        b"{",
        b"}",
        b"[",
        b"]",
        b",",
        b":",
        b"\"",
        b"\"",
        b"\"",
        b"\\",
        b"\\u",
        b"\\ud800",
        b"\\udc00",
        b"\\uD83D",
        b"\\uDE00",
        b"\\u00e9",
        b"\\n",
        b"\\\"",
        b"\\/",
        b"\\x",
        b"1",
        b"0",
        b"-",
        b".",
        b"e",
        b"E",
        b"+",
        b"12",
        b"1e400",
        b"-1e400",
        b"null",
        b"true",
        b"false",
        b"nul",
        b"NaN",
        b"Infinity",
        b"-Infinity",
        b" ",
        b"\n",
        b"\t",
        b"\r",
        b"\x0b",
        b"\xc3\xa9",
        b"\xf0\x9f\x98\x80",
        b"\x00",
        b"\x1f",
        b"\x7f",
        b"\xff",
        b"\xe2\x82",
        b"\xed\xa0",
        b"\xed\xa0\x80",
        b"\xc0\x80",
        b"\xef\xbb\xbf",
        b"a",
        b"\"a\"",
        b"\"k\":",
        b"\"k\"",
        b"u",
        b"9",
        b"\xa0",
        b"\"s\"",
        b"[1, 2]",
        b"{\"a\": 1}",
        b"-0",
        b"0.5e-3",
        b"123456789012345678901234567890",
    ];

    /// Same numbers, allowing for serde_json's float parsing being off by an ulp and
    /// for `-0` (an int 0 here, -0.0 in serde_json).
    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => (x - y).abs() <= f64::EPSILON * x.abs().max(y.abs()),
                _ => false,
            },
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
            }
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(y)
                        .all(|((kx, vx), (ky, vy))| kx == ky && same(vx, vy))
            }
            _ => a == b,
        }
    }

    /// Appends a random valid JSON document (whitespace, escapes and all).
    fn valid_document(rng: &mut XorShift, out: &mut Vec<u8>, depth: usize) {
        const WS: &[&[u8]] = &[b"", b"", b"", b" ", b"\n", b"\t  ", b"\r\n"];
        const SCALARS: &[&[u8]] = &[
            b"0",
            b"-0",
            b"1",
            b"-17",
            b"3.25",
            b"-0.5e-3",
            b"6.02E+23",
            b"1e-400",
            b"18446744073709551616",
            b"123456789.123456789e-5",
            b"true",
            b"false",
            b"null",
            b"\"\"",
            b"\"abc\"",
            b"\"caf\xc3\xa9\"",
            b"\"\\u00e9\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
            b"\"\\ud83d\\ude00\xf0\x9f\x98\x80\"",
            b"\"\xe2\x82\xac \"",
        ];
        out.extend_from_slice(WS[rng.below(WS.len())]);
        match if depth > 4 { 2 } else { rng.below(3) } {
            0 => {
                out.push(b'[');
                for i in 0..rng.below(4) {
                    if i > 0 {
                        out.push(b',');
                    }
                    valid_document(rng, out, depth + 1);
                }
                out.extend_from_slice(WS[rng.below(WS.len())]);
                out.push(b']');
            }
            1 => {
                out.push(b'{');
                for i in 0..rng.below(4) {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(WS[rng.below(WS.len())]);
                    out.extend_from_slice([&b"\"a\""[..], b"\"b\"", b"\"k\\u00e9\""][rng.below(3)]);
                    out.extend_from_slice(WS[rng.below(WS.len())]);
                    out.push(b':');
                    valid_document(rng, out, depth + 1);
                }
                out.extend_from_slice(WS[rng.below(WS.len())]);
                out.push(b'}');
            }
            _ => out.extend_from_slice(SCALARS[rng.below(SCALARS.len())]),
        }
        out.extend_from_slice(WS[rng.below(WS.len())]);
    }

    #[test]
    fn random_bodies_never_panic_and_serde_accepted_ones_parse() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let mut accepted_by_serde = 0;
        for round in 0..60_000 {
            let mut body = Vec::new();
            match round % 4 {
                0 => {
                    for _ in 0..rng.below(16) {
                        body.push(rng.next().to_le_bytes()[0]);
                    }
                }
                1 => {
                    for _ in 0..rng.below(14) {
                        body.extend_from_slice(TOKENS[rng.below(TOKENS.len())]);
                    }
                }
                2 => valid_document(&mut rng, &mut body, 0),
                _ => {
                    valid_document(&mut rng, &mut body, 0);
                    for _ in 0..=rng.below(3) {
                        let pos = rng.below(body.len() + 1);
                        match rng.below(3) {
                            0 if pos < body.len() => {
                                body.remove(pos);
                            }
                            1 if pos < body.len() => body[pos] = rng.next().to_le_bytes()[0],
                            _ => {
                                let token = TOKENS[rng.below(TOKENS.len())];
                                body.splice(pos..pos, token.iter().copied());
                            }
                        }
                    }
                }
            }
            let ours = parse(&body);
            if let Ok(expected) = serde_json::from_slice::<Value>(&body) {
                accepted_by_serde += 1;
                match &ours {
                    Ok(value) => assert!(same(value, &expected), "{body:?}: {value} vs {expected}"),
                    Err(e) => panic!("serde_json accepts {body:?} but parse says {e}"),
                }
            }
            if let Err(message) = ours {
                assert!(!message.is_empty());
            }
        }
        assert!(
            accepted_by_serde > 15_000,
            "only {accepted_by_serde} valid documents generated"
        );
    }
}
