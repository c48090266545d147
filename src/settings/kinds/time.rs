//! Durations: lifetimes, spans and timeouts, written as `30s`, `5m`, `1h30m`,
//! `250ms` or a bare number of seconds, bounded by [`MAX_DURATION`].

use std::time::Duration;

use super::Kind;

/// Longest duration any setting accepts: 100 years (3,155,760,000 s). Beyond
/// it a token's `exp` or a timer's deadline is meaningless or overflows.
pub const MAX_DURATION: Duration = Duration::from_secs(100 * 365 * 86_400 + 25 * 86_400);

/// Parses a duration written like `30s`, `5m`, `1d`, `1h30m`, `250ms`, `2w`, or
/// a bare number of seconds (`300`, `0.5`), at most [`MAX_DURATION`].
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let v = raw.trim();
    let bad = || format!("{raw:?} is not a duration (use e.g. 30s, 5m, 1d, 1h30m, or seconds)");
    if v.is_empty() {
        return Err(bad());
    }
    let total = if let Ok(secs) = v.parse::<f64>() {
        secs
    } else {
        let mut total = 0f64;
        let mut rest = v;
        while !rest.is_empty() {
            let num_len = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .ok_or_else(bad)?;
            if num_len == 0 {
                return Err(bad());
            }
            let number: f64 = rest[..num_len].parse().map_err(|_| bad())?;
            rest = &rest[num_len..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(rest.len());
            let unit = match &rest[..unit_len] {
                "ms" => 0.001,
                "s" => 1.0,
                "m" => 60.0,
                "h" => 3600.0,
                "d" => 86400.0,
                "w" => 604800.0,
                _ => return Err(bad()),
            };
            rest = &rest[unit_len..];
            total += number * unit;
        }
        total
    };
    if !total.is_finite() || total < 0.0 {
        return Err(bad());
    }
    if total > MAX_DURATION.as_secs_f64() {
        return Err(format!("{raw:?} is longer than 100 years"));
    }
    Ok(Duration::from_secs_f64(total))
}

/// Writes a duration back in the form [`parse_duration`] reads.
pub fn format_duration(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        let s = d.as_secs();
        if s != 0 && s.is_multiple_of(86400) {
            format!("{}d", s / 86400)
        } else if s != 0 && s.is_multiple_of(3600) {
            format!("{}h", s / 3600)
        } else if s != 0 && s.is_multiple_of(60) {
            format!("{}m", s / 60)
        } else {
            format!("{s}s")
        }
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// A duration that must be longer than zero (token lifetimes).
#[derive(Debug)]
pub enum Lifetime {}
impl Kind for Lifetime {
    type Value = Duration;
    type Ref<'a> = Duration;
    const FORM: &'static str = "duration > 0";
    fn parse(raw: &str) -> Result<Duration, String> {
        let d = parse_duration(raw)?;
        Self::check(&d)?;
        Ok(d)
    }
    fn check(d: &Duration) -> Result<(), String> {
        if d.is_zero() {
            return Err("must be longer than 0s".into());
        }
        Span::check(d)
    }
    fn show(v: &Duration) -> String {
        format_duration(*v)
    }
    fn get(v: &Duration) -> Duration {
        *v
    }
}

/// A duration that may be zero (leeway, grace periods).
#[derive(Debug)]
pub enum Span {}
impl Kind for Span {
    type Value = Duration;
    type Ref<'a> = Duration;
    const FORM: &'static str = "duration";
    fn parse(raw: &str) -> Result<Duration, String> {
        parse_duration(raw)
    }
    fn check(d: &Duration) -> Result<(), String> {
        if *d > MAX_DURATION {
            return Err(format!("{} is longer than 100 years", format_duration(*d)));
        }
        Ok(())
    }
    fn show(v: &Duration) -> String {
        format_duration(*v)
    }
    fn get(v: &Duration) -> Duration {
        *v
    }
}

/// A timeout: longer than zero and at most one hour.
#[derive(Debug)]
pub enum Timeout {}
impl Kind for Timeout {
    type Value = Duration;
    type Ref<'a> = Duration;
    const FORM: &'static str = "duration, 1ms to 1h";
    fn parse(raw: &str) -> Result<Duration, String> {
        let d = parse_duration(raw)?;
        Self::check(&d)?;
        Ok(d)
    }
    fn check(d: &Duration) -> Result<(), String> {
        if *d < Duration::from_millis(1) || *d > Duration::from_secs(3600) {
            return Err(format!("{} is not between 1ms and 1h", format_duration(*d)));
        }
        Ok(())
    }
    fn show(v: &Duration) -> String {
        format_duration(*v)
    }
    fn get(v: &Duration) -> Duration {
        *v
    }
}
