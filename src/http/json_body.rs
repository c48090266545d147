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
mod tests {
    use super::parse;
    use proptest::prelude::*;
    use serde_json::{json, Value};

    /// Bodies whose message is exactly CPython 3.11's `str(exc)` under DRF's decoding
    /// steps (`codecs.getreader('utf-8')`, `json.load(..., parse_constant=strict_constant)`).
    const PYTHON_EXACT: &[(&[u8], &str)] = &[
        // Not JSON at the first non-whitespace character (checked before serde_json).
        (b"", "Expecting value: line 1 column 1 (char 0)"),
        (b"   ", "Expecting value: line 1 column 4 (char 3)"),
        (b"not json", "Expecting value: line 1 column 1 (char 0)"),
        (b"  \n  x", "Expecting value: line 2 column 3 (char 5)"),
        (b"\n\n\nx", "Expecting value: line 4 column 1 (char 3)"),
        (b"\n\n  ", "Expecting value: line 3 column 3 (char 4)"),
        (b"-", "Expecting value: line 1 column 1 (char 0)"),
        (b"-x", "Expecting value: line 1 column 1 (char 0)"),
        (b".5", "Expecting value: line 1 column 1 (char 0)"),
        (b"+1", "Expecting value: line 1 column 1 (char 0)"),
        (b"'a'", "Expecting value: line 1 column 1 (char 0)"),
        (b"nul", "Expecting value: line 1 column 1 (char 0)"),
        (b"tru", "Expecting value: line 1 column 1 (char 0)"),
        (b"True", "Expecting value: line 1 column 1 (char 0)"),
        (b"None", "Expecting value: line 1 column 1 (char 0)"),
        (b"undefined", "Expecting value: line 1 column 1 (char 0)"),
        (b"nan", "Expecting value: line 1 column 1 (char 0)"),
        (b"\x0c{}", "Expecting value: line 1 column 1 (char 0)"),
        (b"\xc2\xa0{}", "Expecting value: line 1 column 1 (char 0)"),
        (b"\xc3\xa9", "Expecting value: line 1 column 1 (char 0)"),
        (
            b"\xef\xbb\xbf{}",
            "Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)",
        ),
        (
            b"\xef\xbb\xbf",
            "Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)",
        ),
        // A value that cannot start here, further in.
        (b"[1,]", "Expecting value: line 1 column 4 (char 3)"),
        (b"[1, ]", "Expecting value: line 1 column 5 (char 4)"),
        (b"{\"a\":}", "Expecting value: line 1 column 6 (char 5)"),
        (b"{\"a\": }", "Expecting value: line 1 column 7 (char 6)"),
        (b"[,1]", "Expecting value: line 1 column 2 (char 1)"),
        (b"[1,,2]", "Expecting value: line 1 column 4 (char 3)"),
        (
            b"{\"a\": [1, 2, }",
            "Expecting value: line 1 column 14 (char 13)",
        ),
        (b"[x, NaN]", "Expecting value: line 1 column 2 (char 1)"),
        (
            b"[1,\xe3\x80\x80 2]",
            "Expecting value: line 1 column 4 (char 3)",
        ),
        (
            b"{\r\n\"a\":\r\n}",
            "Expecting value: line 3 column 1 (char 9)",
        ),
        (
            b"[1,\n\n  \tnope]",
            "Expecting value: line 3 column 4 (char 8)",
        ),
        (
            b"[\"\xc3\xa9\xc3\xa9\xc3\xa9\", x]",
            "Expecting value: line 1 column 9 (char 8)",
        ),
        (
            b"\n\n{\"a\": [1, 2, \xc3\xa9]}",
            "Expecting value: line 3 column 14 (char 15)",
        ),
        (
            b"{\"username\": alice}",
            "Expecting value: line 1 column 14 (char 13)",
        ),
        (
            b"{\"username\": 'alice'}",
            "Expecting value: line 1 column 14 (char 13)",
        ),
        (
            b"{\"password\": None}",
            "Expecting value: line 1 column 14 (char 13)",
        ),
        (b"[True]", "Expecting value: line 1 column 2 (char 1)"),
        // Misspelt literals and signs without digits (serde_json: "expected ident",
        // "invalid number").
        (b"{\"x\": nil}", "Expecting value: line 1 column 7 (char 6)"),
        (b"[nulx]", "Expecting value: line 1 column 2 (char 1)"),
        (b"[ -x]", "Expecting value: line 1 column 3 (char 2)"),
        (b"[--1]", "Expecting value: line 1 column 2 (char 1)"),
        (b"{\"a\": -}", "Expecting value: line 1 column 7 (char 6)"),
        (b"[-Inf]", "Expecting value: line 1 column 2 (char 1)"),
        (b"[Infinit]", "Expecting value: line 1 column 2 (char 1)"),
        // Keys, colons, commas, trailing text.
        (
            b"{bad",
            "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
        (
            b"{'username': 'alice'}",
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
            b"{\"username\": \"alice\", }",
            "Expecting property name enclosed in double quotes: line 1 column 23 (char 22)",
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
            b"{\n  \"a\": 1,\n  \"b\": 2,\n}",
            "Expecting property name enclosed in double quotes: line 4 column 1 (char 22)",
        ),
        (
            b"{\"caf\xc3\xa9\": 1,}",
            "Expecting property name enclosed in double quotes: line 1 column 12 (char 11)",
        ),
        (
            b"{\"a\" 1}",
            "Expecting ':' delimiter: line 1 column 6 (char 5)",
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
            b"[1 2]",
            "Expecting ',' delimiter: line 1 column 4 (char 3)",
        ),
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
            b"{\n  \"a\": 1\n  \"b\": 2\n}",
            "Expecting ',' delimiter: line 3 column 3 (char 13)",
        ),
        (
            b"{\"username\": \"alice\"\n \"password\": \"x\"}",
            "Expecting ',' delimiter: line 2 column 2 (char 22)",
        ),
        (
            b"[\"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\"\n, \"\xc3\xa9\" \"x\"]",
            "Expecting ',' delimiter: line 2 column 7 (char 13)",
        ),
        (b"{} x", "Extra data: line 1 column 4 (char 3)"),
        (b"{\"a\": 1}}", "Extra data: line 1 column 9 (char 8)"),
        (b"1 2", "Extra data: line 1 column 3 (char 2)"),
        (b"[] []", "Extra data: line 1 column 4 (char 3)"),
        (b"\"a\" \"b\"", "Extra data: line 1 column 5 (char 4)"),
        (b"null,", "Extra data: line 1 column 5 (char 4)"),
        (b"0x10", "Extra data: line 1 column 2 (char 1)"),
        (b"truex", "Extra data: line 1 column 5 (char 4)"),
        (b"{}\n\n  }", "Extra data: line 3 column 3 (char 6)"),
        (b"1.5.2", "Extra data: line 1 column 4 (char 3)"),
        (b"{}\x0b", "Extra data: line 1 column 3 (char 2)"),
        (
            b"{\"emoji\": \"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\"} x",
            "Extra data: line 1 column 17 (char 16)",
        ),
        // Inside strings.
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
        (
            b"{\"a\":\n\"abc\ndef\"}",
            "Invalid control character at: line 2 column 5 (char 10)",
        ),
        (
            b"{\"a\": \"\xc3\xa9\t\"}",
            "Invalid control character at: line 1 column 9 (char 8)",
        ),
        (
            b"[\"\xe2\x82\xac\", \"\xe2\x82\xac\x01\"]",
            "Invalid control character at: line 1 column 9 (char 8)",
        ),
        (b"\"\\x\"", "Invalid \\escape: line 1 column 2 (char 1)"),
        (b"\"\\a\"", "Invalid \\escape: line 1 column 2 (char 1)"),
        (b"\"\\U0041\"", "Invalid \\escape: line 1 column 2 (char 1)"),
        (b"\"\\'\"", "Invalid \\escape: line 1 column 2 (char 1)"),
        (
            b"\"\xc3\xa9\\q\"",
            "Invalid \\escape: line 1 column 3 (char 2)",
        ),
        (
            b"{\"password\": \"C:\\Users\\me\"}",
            "Invalid \\escape: line 1 column 17 (char 16)",
        ),
        (
            b"\"\\\\u12\\x\"",
            "Invalid \\escape: line 1 column 7 (char 6)",
        ),
        (b"\"\\\\\\x\"", "Invalid \\escape: line 1 column 4 (char 3)"),
        (
            b"\"\\uzzzz\"",
            "Invalid \\uXXXX escape: line 1 column 3 (char 2)",
        ),
        (
            b"\"\\u00G0\"",
            "Invalid \\uXXXX escape: line 1 column 3 (char 2)",
        ),
        (
            b"\"\\u-123\"",
            "Invalid \\uXXXX escape: line 1 column 3 (char 2)",
        ),
        (
            b"\"\\ud800\\uzzzz\"",
            "Invalid \\uXXXX escape: line 1 column 9 (char 8)",
        ),
        (
            b"\"\\u12\\x\"",
            "Invalid \\uXXXX escape: line 1 column 3 (char 2)",
        ),
        (
            b"\"\\u1\xc3\xa9\xc3\xa9\"",
            "Invalid \\uXXXX escape: line 1 column 3 (char 2)",
        ),
        (
            b"\"k\\u00\xef\xbb\xbfe9\"",
            "Invalid \\uXXXX escape: line 1 column 4 (char 3)",
        ),
        // DRF's strict_constant.
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
            b"{\"a\": 1, \"b\": NaN}",
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
        // Strict UTF-8 first (positions in bytes).
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
    ];

    #[test]
    fn malformed_bodies_give_pythons_messages() {
        for (body, expected) in PYTHON_EXACT {
            assert_eq!(
                parse(body).as_ref().map_err(String::as_str),
                Err(*expected),
                "body {:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    /// Malformed bodies where serde_json's words are kept: Python's message first
    /// (CPython 3.11, as above), then ours. Positions agree except where noted.
    const SERDE_WORDED: &[(&[u8], &str, &str)] = &[
        // The body ends too soon: Python says what it expected next.
        (
            b"{\"username\": \"alice\",",
            "Expecting property name enclosed in double quotes: line 1 column 22 (char 21)",
            "EOF while parsing a value: line 1 column 22 (char 21)",
        ),
        (
            b"{",
            "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
            "EOF while parsing an object: line 1 column 2 (char 1)",
        ),
        (
            b"{\"username\"",
            "Expecting ':' delimiter: line 1 column 12 (char 11)",
            "EOF while parsing an object: line 1 column 12 (char 11)",
        ),
        (
            b"{\"username\":",
            "Expecting value: line 1 column 13 (char 12)",
            "EOF while parsing a value: line 1 column 13 (char 12)",
        ),
        (
            b"{\"a\":1",
            "Expecting ',' delimiter: line 1 column 7 (char 6)",
            "EOF while parsing an object: line 1 column 7 (char 6)",
        ),
        (
            b"[",
            "Expecting value: line 1 column 2 (char 1)",
            "EOF while parsing a list: line 1 column 2 (char 1)",
        ),
        (
            b"[\n1,\n2\n",
            "Expecting ',' delimiter: line 4 column 1 (char 7)",
            "EOF while parsing a list: line 4 column 1 (char 7)",
        ),
        // Unterminated strings: Python points at the opening quote, we at the end.
        (
            b"{\"username\": \"ali",
            "Unterminated string starting at: line 1 column 14 (char 13)",
            "EOF while parsing a string: line 1 column 18 (char 17)",
        ),
        (
            b"\"ab\\\"",
            "Unterminated string starting at: line 1 column 1 (char 0)",
            "EOF while parsing a string: line 1 column 6 (char 5)",
        ),
        (
            b"\"abc\xe2\x82",
            "Unterminated string starting at: line 1 column 1 (char 0)",
            "EOF while parsing a string: line 1 column 5 (char 4)",
        ),
        (
            b"\"\\u1234",
            "Invalid \\uXXXX escape: line 1 column 3 (char 2)",
            "EOF while parsing a string: line 1 column 8 (char 7)",
        ),
        // Number tails: Python reads the longest number and complains after it.
        (
            b"01",
            "Extra data: line 1 column 2 (char 1)",
            "invalid number: line 1 column 2 (char 1)",
        ),
        (
            b"1.",
            "Extra data: line 1 column 2 (char 1)",
            "EOF while parsing a value: line 1 column 3 (char 2)",
        ),
        (
            b"[1.]",
            "Expecting ',' delimiter: line 1 column 3 (char 2)",
            "invalid number: line 1 column 4 (char 3)",
        ),
        (
            b"[1e-x]",
            "Expecting ',' delimiter: line 1 column 3 (char 2)",
            "invalid number: line 1 column 5 (char 4)",
        ),
    ];

    #[test]
    fn other_errors_keep_serde_jsons_words() {
        for (body, python, ours) in SERDE_WORDED {
            let got = parse(body);
            assert_eq!(
                got.as_ref().map_err(String::as_str),
                Err(*ours),
                "body {:?}",
                String::from_utf8_lossy(body)
            );
            assert_ne!(got, Err((*python).to_owned()));
        }
    }

    /// Documents Python accepts and this module refuses (400), with our message:
    /// serde_json has no value for them (lone surrogates, numbers beyond `f64`) or
    /// stops at 128 levels of nesting where CPython 3.11 goes on to ~990.
    #[test]
    fn documents_python_accepts_and_we_refuse() {
        let refused = |body: &[u8], ours: &str| {
            assert_eq!(
                parse(body),
                Err(ours.to_owned()),
                "body {:?}",
                String::from_utf8_lossy(body)
            );
        };
        refused(
            br#""\ud800""#,
            "unexpected end of hex escape: line 1 column 8 (char 7)",
        );
        refused(
            br#"{"username": "\udc00"}"#,
            "lone leading surrogate in hex escape: line 1 column 20 (char 19)",
        );
        refused(
            br#""\ud800\u0041""#,
            "lone leading surrogate in hex escape: line 1 column 13 (char 12)",
        );
        refused(b"1e400", "number out of range: line 1 column 5 (char 4)");
        refused(
            b"{\"a\": -1e400}",
            "number out of range: line 1 column 12 (char 11)",
        );
        refused(
            "1".repeat(320).as_bytes(),
            "number out of range: line 1 column 320 (char 319)",
        );
        // More than Python's 4300-digit limit for int(): a 400 in DRF too, other words.
        refused(
            "1".repeat(4301).as_bytes(),
            "number out of range: line 1 column 4301 (char 4300)",
        );
        let nested = format!("{}{}", "[".repeat(128), "]".repeat(128));
        refused(
            nested.as_bytes(),
            "recursion limit exceeded: line 1 column 128 (char 127)",
        );
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
            (b"-12", json!(-12)),
            (b"1E+2", json!(100.0)),
            (b"1.5e-3", json!(0.0015)),
            (b"1e-400", json!(0.0)),
            (b"18446744073709551615", json!(u64::MAX)),
            (b"-9223372036854775808", json!(i64::MIN)),
            (b"0.1", json!(0.1)),
            // Python: the int 0 and the exact int 18446744073709551616.
            (b"-0", json!(-0.0)),
            (b"18446744073709551616", json!(18446744073709551616.0)),
            // Python: 6.02e+25; serde_json's default float parsing is off by an ulp.
            (b"602E+23", json!(6.019_999_999_999_999e25)),
        ] {
            assert_eq!(ok(body), expected, "{body:?}");
        }
        assert!(ok(b"-0").is_f64());
        assert_eq!(
            ok(br#""q\" b\\ s\/ \b\f\n\r\t \u00e9\u20AC \ud83d\ude00 caf\u00E9""#),
            json!("q\" b\\ s/ \u{8}\u{c}\n\r\t \u{e9}\u{20ac} \u{1f600} caf\u{e9}")
        );
        assert_eq!(
            ok("[\"日本語\", \"😀\", \"\u{7f}\"]".as_bytes()),
            json!(["日本語", "😀", "\u{7f}"])
        );
        // Key order is kept; a duplicate key keeps its first place and the last value.
        let v = ok(br#"{"b": 1, "a": 2, "b": 3, "c": {"x": 1, "x": [2]}}"#);
        assert_eq!(v, json!({"b": 3, "a": 2, "c": {"x": [2]}}));
        let keys: Vec<&str> = v
            .as_object()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(keys, ["b", "a", "c"]);
        // Python's stream reader never decodes an incomplete sequence at the very end.
        assert_eq!(ok(b"{}\xe2\x82"), json!({}));
        assert_eq!(ok(b"{}\xf0\x9f\x98"), json!({}));
        assert_eq!(ok(b"{}\xed\xa0"), json!({}));
        assert_eq!(ok(b"{}\xed\x9f"), json!({}));
        // 127 levels of nesting is serde_json's most.
        let deepest = format!("{}{}", "[".repeat(127), "]".repeat(127));
        let mut depth = 0;
        let mut cur = &ok(deepest.as_bytes());
        while let Some(inner) = cur.as_array() {
            depth += 1;
            match inner.first() {
                Some(next) => cur = next,
                None => break,
            }
        }
        assert_eq!(depth, 127);
    }

    /// 64 KiB, the default body limit.
    const BIG: usize = 64 * 1024;

    /// `{"a":1,"a":1,...}` of `len` bytes or just under.
    fn duplicate_keys(len: usize) -> Vec<u8> {
        let mut body = b"{\"a\":0".to_vec();
        while body.len() + 7 < len {
            body.extend_from_slice(b",\"a\":1");
        }
        body.push(b'}');
        body
    }

    /// `{"k0":0,...,"kN":0,"k0":1,...,"kN":1}` of `len` bytes or just under: every
    /// key twice, so that half the members replace an earlier one among many.
    fn every_key_twice(len: usize) -> Vec<u8> {
        let member = |i: usize, round: usize| format!("\"k{i}\":{round}");
        let mut keys = 0;
        let mut size = 1;
        while size + 2 * (member(keys, 0).len() + 1) <= len {
            size += 2 * (member(keys, 0).len() + 1);
            keys += 1;
        }
        let mut body = String::from("{");
        for round in 0..2 {
            for i in 0..keys {
                if body.len() > 1 {
                    body.push(',');
                }
                body.push_str(&member(i, round));
            }
        }
        body.push('}');
        body.into_bytes()
    }

    #[test]
    fn a_full_body_of_duplicate_keys_keeps_the_last_value() {
        let body = duplicate_keys(BIG);
        assert!(body.len() > BIG - 8 && body.len() <= BIG);
        assert_eq!(parse(&body), Ok(json!({"a": 1})));
        // Distinct keys repeated: each keeps its first place and takes its last value.
        let mut body = b"{\"k0\":0".to_vec();
        let mut n = 1;
        while body.len() < BIG - 64 {
            body.extend_from_slice(format!(",\"k{}\":{n}", n % 100).as_bytes());
            n += 1;
        }
        body.push(b'}');
        let value = parse(&body).unwrap_or_default();
        let map = value.as_object().cloned().unwrap_or_default();
        assert_eq!(map.len(), 100);
        assert!(map.keys().enumerate().all(|(i, k)| *k == format!("k{i}")));
        assert_eq!(map.keys().next().map(String::as_str), Some("k0"));
        let last = (0..n).rev().find(|i| i % 100 == 0).unwrap_or(0);
        assert_eq!(map.get("k0"), Some(&json!(last)));
        // Thousands of keys, each given twice: first places, last values.
        let body = every_key_twice(BIG);
        assert!(body.len() > BIG - 40 && body.len() <= BIG);
        let value = parse(&body).unwrap_or_default();
        let map = value.as_object().cloned().unwrap_or_default();
        assert!(map.len() > 3000, "{}", map.len());
        assert!(map
            .iter()
            .enumerate()
            .all(|(i, (k, v))| *k == format!("k{i}") && *v == json!(1)));
        // One pass: a syntax error at the very end is found and reported there.
        let mut body = duplicate_keys(BIG);
        body.pop();
        body.push(b']');
        let end = body.len() - 1;
        assert_eq!(
            parse(&body),
            Err(format!(
                "Expecting ',' delimiter: line 1 column {} (char {end})",
                end + 1
            ))
        );
    }

    #[test]
    fn a_full_body_of_nesting_fails_after_128_levels() {
        // The parser gives up at the 128th opening bracket: the position in the
        // message is how far it read (128 bytes of 64 KiB), whatever follows.
        for open in ["[", "{\"a\":"] {
            let body = open.repeat(BIG / open.len());
            let at = 127 * open.len();
            assert_eq!(
                parse(body.as_bytes()),
                Err(format!(
                    "recursion limit exceeded: line 1 column {} (char {at})",
                    at + 1
                ))
            );
        }
        let mut body = "[".repeat(BIG / 2);
        body.push_str(&"]".repeat(BIG / 2));
        assert!(parse(body.as_bytes()).is_err());
    }

    /// Parse rates, for a look at linearity (no timing is asserted):
    /// `cargo test --release --lib print_parse_rates -- --ignored --nocapture`.
    #[test]
    #[ignore = "prints timings"]
    fn print_parse_rates() {
        let credentials = |len: usize| {
            let mut body = br#"{"username": "alice", "password": ""#.to_vec();
            body.resize(len - 2, b'x');
            body.extend_from_slice(b"\"}");
            body
        };
        let nested = |len: usize| "[".repeat(len).into_bytes();
        type MakeBody = fn(usize) -> Vec<u8>;
        let shapes: [(&str, MakeBody); 4] = [
            ("duplicate keys", duplicate_keys),
            ("every key twice", every_key_twice),
            ("one long string", credentials),
            ("nesting", nested),
        ];
        for (name, make) in shapes {
            for kib in [8, 16, 32, 64] {
                let body = make(kib * 1024);
                let runs = 50;
                let mut best = std::time::Duration::MAX;
                for _ in 0..runs {
                    let start = std::time::Instant::now();
                    let result = parse(std::hint::black_box(&body));
                    best = best.min(start.elapsed());
                    std::hint::black_box(result).ok();
                }
                println!(
                    "{name:>16} {kib:>3} KiB: {:>9.1} µs, {:.2} ns/byte",
                    best.as_secs_f64() * 1e6,
                    best.as_secs_f64() * 1e9 / body.len() as f64
                );
            }
        }
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

    /// What every answer must satisfy: the same verdict and value as serde_json on
    /// the decoded text, and a message in one of the documented forms, whose
    /// `line L column C (char N)` (if any) designates one place in the text.
    fn check(body: &[u8]) -> Result<(), String> {
        let ours = parse(body);
        let text = match std::str::from_utf8(body) {
            Ok(text) => text,
            Err(e) => std::str::from_utf8(&body[..e.valid_up_to()]).unwrap_or_default(),
        };
        if text.len() == body.len() && !text.starts_with('\u{feff}') {
            let serde = serde_json::from_str::<Value>(text).ok();
            if ours.as_ref().ok() != serde.as_ref() {
                return Err(format!("{ours:?} but serde_json gives {serde:?}"));
            }
        }
        let Err(message) = ours else {
            return Ok(());
        };
        if message.starts_with("'utf-8' codec can't decode ")
            || message.starts_with("Out of range float values are not JSON compliant: ")
        {
            return Ok(());
        }
        let numbers = message
            .rsplit_once(": line ")
            .and_then(|(_, at)| at.strip_suffix(')'))
            .map(|at| at.split([' ', '(']).filter_map(|w| w.parse::<usize>().ok()))
            .map(Iterator::collect::<Vec<_>>);
        let Some(&[line, column, char_pos]) = numbers.as_deref() else {
            return Err(format!("no position in {message:?}"));
        };
        let chars: Vec<char> = text.chars().collect();
        let before = chars
            .get(..char_pos)
            .ok_or(format!("{message:?} is past the end"))?;
        let line_start = before.iter().rposition(|&c| c == '\n').map_or(0, |i| i + 1);
        let newlines = before.iter().filter(|&&c| c == '\n').count();
        if (line, column) != (newlines + 1, char_pos - line_start + 1) {
            return Err(format!("{message:?}: char {char_pos} is not there"));
        }
        Ok(())
    }

    #[test]
    fn random_bodies_never_panic_and_agree_with_serde_json() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let mut accepted = 0;
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
            if let Err(e) = check(&body) {
                panic!("body {:?}: {e}", String::from_utf8_lossy(&body));
            }
            accepted += usize::from(parse(&body).is_ok());
        }
        assert!(
            accepted > 15_000,
            "only {accepted} valid documents generated"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        #[test]
        fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(check(&body), Ok(()));
        }

        #[test]
        fn json_like_text_never_panics(body in "[\\[\\]{}\":,0-9eE.+\\-a-z\\\\ \n\t\u{e9}\u{1f600}]{0,40}") {
            prop_assert_eq!(check(body.as_bytes()), Ok(()));
        }
    }
}
