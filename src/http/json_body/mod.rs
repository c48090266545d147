//! JSON request bodies, parsed by serde_json and reported the way Django REST
//! framework's `JSONParser` reports them.
//!
//! DRF answers a malformed JSON body with HTTP 400
//! `{"detail": "JSON parse error - <message>"}`, `<message>` being `str(exc)` of what
//! Python raised. serde_json does all the parsing: one pass, time linear in the body
//! (with `preserve_order`, a duplicate key keeps its first place and takes the last
//! value, as in a Python `dict`, at the cost of one hash lookup), and its recursion
//! limit (127 levels; the 128th is an error) keeps a deep body from overflowing the
//! stack. This module only does what DRF does around the parse, and words serde_json's
//! errors as Python would where the error's kind and position are enough to know
//! Python's text:
//!
//! - The body is decoded as strict UTF-8 first, with Python's `UnicodeDecodeError` text
//!   (`'utf-8' codec can't decode byte 0xff in position 0: invalid start byte`, byte
//!   positions). DRF reads through `codecs.getreader('utf-8')`, which never decodes an
//!   incomplete sequence at the very end (nor a trailing `ED A0..BF`), so those bytes are
//!   dropped, not reported. A leading U+FEFF is Python's `Unexpected UTF-8 BOM` error.
//! - A body that is not JSON at its first non-whitespace character, the error clients
//!   actually meet (form data, plain text, HTML), is checked here, before serde_json:
//!   `Expecting value: line L column C (char N)`.
//! - serde_json's errors become Python's when both parsers stop at the same character
//!   for the same reason: a value that cannot start there (`Expecting value`, including
//!   a misspelt `null`/`true`/`false` and a `-` with no digits), a key that is not a
//!   string or a trailing comma (`Expecting property name enclosed in double quotes`),
//!   a missing `:` or `,` (`Expecting ':' delimiter`, `Expecting ',' delimiter`), text
//!   after the document (`Extra data`), a raw control character in a string (`Invalid
//!   control character at`), a bad escape (`Invalid \escape`, `Invalid \uXXXX escape`),
//!   and DRF's refusal of the `NaN`, `Infinity` and `-Infinity` literals.
//! - Every other error keeps serde_json's words (`EOF while parsing an object`,
//!   `invalid number`, `recursion limit exceeded`, …) with a position in Python's form,
//!   `: line L column C (char N)`: lines and columns from 1, `N` from 0, all counted in
//!   characters; the end of the text for a body that ends too soon. Python's words
//!   there depend on what its scanner expected next (a body cut short, a malformed
//!   number's tail), which serde_json does not say: matching them would mean scanning
//!   the body a second time, CPython's way, which is what this module replaced.
//!
//! Positions are computed only when a body fails, from serde_json's line and byte
//! column, so a valid body costs no more than `serde_json::from_str`. Accepted bodies
//! get serde_json's values, which differ from Python's for numbers beyond `i64`/`u64`
//! (a float, not an exact int), `-0` (the float -0.0, not the int 0) and some floats
//! (serde_json's default parsing is not always correctly rounded: `602E+23` is
//! 6.019999999999999e+25). Python accepts and this module refuses (400): numbers
//! beyond `f64` (`1e400`), lone surrogate escapes (`"\ud800"`) and nesting deeper than
//! 127 levels (CPython 3.11 goes to ~990). The tests below pin each case.

use serde_json::error::Category;
use serde_json::Value;

const EXPECTING_VALUE: &str = "Expecting value";
const EXPECTING_PROPERTY_NAME: &str = "Expecting property name enclosed in double quotes";
const EXPECTING_COLON: &str = "Expecting ':' delimiter";
const EXPECTING_COMMA: &str = "Expecting ',' delimiter";
const INVALID_CONTROL: &str = "Invalid control character at";
const INVALID_ESCAPE: &str = "Invalid \\escape";
const INVALID_UXXXX: &str = "Invalid \\uXXXX escape";
const EXTRA_DATA: &str = "Extra data";
const UNEXPECTED_BOM: &str = "Unexpected UTF-8 BOM (decode using utf-8-sig)";

/// Parses a JSON request body. On failure, the message DRF would put after
/// `JSON parse error - ` (Python's own text where the module docs say so).
/// Never panics.
pub(crate) fn parse(body: &[u8]) -> Result<Value, String> {
    let text = decode_utf8(body)?;
    if text.starts_with('\u{feff}') {
        return Err(python_message(text, UNEXPECTED_BOM, 0));
    }
    let start = text.len() - text.trim_start_matches(is_json_ws).len();
    if !starts_value(&text.as_bytes()[start..]) {
        return Err(python_message(text, EXPECTING_VALUE, start));
    }
    serde_json::from_str(text).map_err(|err| describe(text, &err))
}

/// JSON's (and Python's `json`) whitespace.
fn is_json_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Whether Python's scanner would start reading a value at the start of `rest`:
/// a string, object, array, number, `null`/`true`/`false`, or one of the constants
/// DRF refuses (`NaN`, `Infinity`, `-Infinity`).
fn starts_value(rest: &[u8]) -> bool {
    match rest.first() {
        Some(b'"' | b'{' | b'[' | b'0'..=b'9') => true,
        Some(b'-') => rest.get(1).is_some_and(u8::is_ascii_digit) || rest.starts_with(b"-Infinity"),
        _ => [&b"null"[..], b"true", b"false", b"NaN", b"Infinity"]
            .iter()
            .any(|word| rest.starts_with(word)),
    }
}

/// DRF's `strict_constant`, raised for `NaN`, `Infinity` and `-Infinity` literals.
fn out_of_range(constant: &str) -> String {
    format!("Out of range float values are not JSON compliant: '{constant}'")
}

/// Python's wording of a serde_json error (see the module docs).
fn describe(text: &str, err: &serde_json::Error) -> String {
    let full = err.to_string();
    if err.line() == 0 {
        return full;
    }
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    let words = full.strip_suffix(suffix.as_str()).unwrap_or(&full);
    if err.classify() == Category::Eof {
        return python_message(text, words, text.len());
    }
    let b = text.as_bytes();
    let at = offending_byte(text, err.line(), err.column());
    let (message, pos) = match words {
        "expected value" => {
            for constant in ["NaN", "Infinity"] {
                if b[at..].starts_with(constant.as_bytes()) {
                    return out_of_range(constant);
                }
            }
            (EXPECTING_VALUE, at)
        }
        // A `-` not followed by a digit (not the sign of an exponent, `1e-x`).
        "invalid number"
            if at >= 1 && b[at - 1] == b'-' && !(at >= 2 && matches!(b[at - 2], b'e' | b'E')) =>
        {
            if b[at - 1..].starts_with(b"-Infinity") {
                return out_of_range("-Infinity");
            }
            (EXPECTING_VALUE, at - 1)
        }
        "expected ident" => match literal_start(b, at) {
            Some(start) => (EXPECTING_VALUE, start),
            None => (words, at),
        },
        "key must be a string" => (EXPECTING_PROPERTY_NAME, at),
        "trailing comma" if b.get(at) == Some(&b'}') => (EXPECTING_PROPERTY_NAME, at),
        "trailing comma" => (EXPECTING_VALUE, at),
        "expected `:`" => (EXPECTING_COLON, at),
        "expected `,` or `]`" | "expected `,` or `}`" => (EXPECTING_COMMA, at),
        "trailing characters" => (EXTRA_DATA, at),
        "control character (\\u0000-\\u001F) found while parsing a string" => (INVALID_CONTROL, at),
        // serde_json stops on the fourth character of a bad `\uXXXX`, or on the
        // character after a `\` that is not an escape; Python points at the `u`, or
        // at the `\`.
        "invalid escape" if at >= 5 && b[at - 4] == b'u' && starts_escape(b, at - 5) => {
            (INVALID_UXXXX, at - 4)
        }
        "invalid escape" if at >= 1 && starts_escape(b, at - 1) => (INVALID_ESCAPE, at - 1),
        _ => (words, at),
    };
    python_message(text, message, pos)
}

/// The byte serde_json's (1-based line, byte column) designates: the byte it peeked
/// at, or the last one it consumed. Not rounded to a character boundary: the rules
/// above count bytes back from it (a bad `\uXXXX` may end inside a character).
fn offending_byte(text: &str, line: usize, column: usize) -> usize {
    let line_start = match line.checked_sub(2) {
        None => 0,
        Some(newlines) => text
            .match_indices('\n')
            .nth(newlines)
            .map_or(text.len(), |(i, _)| i + 1),
    };
    (line_start + column).saturating_sub(1).min(text.len())
}

/// Where the misspelt `null`, `true` or `false` that serde_json gave up on at `at`
/// begins: the partial word before `at` is a prefix of one of them. Their first
/// letters occur nowhere else in them, so the start is unique.
fn literal_start(b: &[u8], at: usize) -> Option<usize> {
    (1..=4).filter_map(|k| at.checked_sub(k)).find(|&start| {
        let partial = &b[start..at];
        [&b"null"[..], b"true", b"false"]
            .iter()
            .any(|word| word.starts_with(partial))
    })
}

/// Whether the byte at `i` is a `\` that begins an escape (an odd-length run of
/// backslashes ends there; a run cannot reach back past the string's opening quote).
fn starts_escape(b: &[u8], i: usize) -> bool {
    b[..=i].iter().rev().take_while(|&&c| c == b'\\').count() % 2 == 1
}

/// Python's `JSONDecodeError` text: `<msg>: line L column C (char N)` for the
/// character at byte offset `pos`, counting characters (code points), not bytes.
fn python_message(text: &str, msg: &str, pos: usize) -> String {
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

/// DRF's `codecs.getreader('utf-8')(stream).read()`: strict UTF-8 with CPython's
/// error text, except that an incomplete sequence at the very end is never decoded
/// (the incremental decoder waits for more input), so it is dropped.
fn decode_utf8(body: &[u8]) -> Result<&str, String> {
    let err = match std::str::from_utf8(body) {
        Ok(text) => return Ok(text),
        Err(err) => err,
    };
    let pos = err.valid_up_to();
    let prefix = std::str::from_utf8(&body[..pos]).unwrap_or_default();
    let len = match err.error_len() {
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

#[cfg(test)]
mod python_texts;
#[cfg(test)]
mod robustness;
