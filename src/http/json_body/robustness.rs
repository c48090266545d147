//! Valid documents, and robustness: linear time on duplicate keys, bounded
//! nesting, no panic on any input, and agreement with serde_json.

use super::parse;
use proptest::prelude::*;
use serde_json::{json, Value};

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
        // Python: 6.02e+25 (serde_json's `float_roundtrip` parsing is exact).
        (b"602E+23", json!(6.02e25)),
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
