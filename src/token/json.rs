//! Payload JSON written the way PyJWT writes it: compact separators and
//! `ensure_ascii=True` (every non-ASCII character as `\uXXXX`, surrogate pairs
//! above the BMP). Same claims, same bytes, so tokens minted here and by the
//! reference are interchangeable byte for byte for deterministic algorithms.

use std::io;

use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter, Serializer};

struct AsciiFormatter;

impl Formatter for AsciiFormatter {
    fn write_string_fragment<W>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()>
    where
        W: ?Sized + io::Write,
    {
        let mut start = 0;
        for (i, ch) in fragment.char_indices() {
            if ch.is_ascii() {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[start..i])?;
            let mut units = [0u16; 2];
            for unit in ch.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            start = i + ch.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    fn write_char_escape<W>(&mut self, writer: &mut W, escape: CharEscape) -> io::Result<()>
    where
        W: ?Sized + io::Write,
    {
        // serde_json's default escapes match Python's except for the form of
        // control characters, which both write as \u00XX (lowercase hex in Python).
        serde_json::ser::CompactFormatter.write_char_escape(writer, escape)
    }
}

/// Serializes `value` as compact, ASCII-only JSON.
pub(crate) fn to_ascii_vec<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(256);
    let mut ser = Serializer::with_formatter(&mut out, AsciiFormatter);
    value.serialize(&mut ser)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_ascii_is_escaped_like_python() {
        let v =
            serde_json::json!({"name": "Zo\u{eb} \u{2713}", "emoji": "\u{1F600}", "c": "\u{1}"});
        let s = String::from_utf8(to_ascii_vec(&v).unwrap()).unwrap();
        assert_eq!(
            s,
            r#"{"name":"Zo\u00eb \u2713","emoji":"\ud83d\ude00","c":"\u0001"}"#
        );
    }
}
