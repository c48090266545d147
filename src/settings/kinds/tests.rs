//! Unit tests of the kinds: durations, names, headers and secrets.

use std::time::Duration;

use super::*;

#[test]
fn durations_parse_in_every_documented_form() {
    assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
    assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
    assert_eq!(parse_duration("1d").unwrap(), Duration::from_secs(86400));
    assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
    assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
    assert_eq!(
        parse_duration("2w").unwrap(),
        Duration::from_secs(1_209_600)
    );
    assert_eq!(parse_duration("300").unwrap(), Duration::from_secs(300));
    assert_eq!(parse_duration("5").unwrap(), Duration::from_secs(5));
    assert_eq!(parse_duration("0.5").unwrap(), Duration::from_millis(500));
    for bad in [
        "", "5x", "m5", "-5s", "1h-30m", "5 m", "abc", "1e999", "NaN", "inf", "-1",
    ] {
        assert!(parse_duration(bad).is_err(), "{bad} should not parse");
    }
}

#[test]
fn absurd_durations_are_refused_not_overflowed() {
    for absurd in ["1e19", "1e10", "5300w", "99999999999d"] {
        let e = parse_duration(absurd).unwrap_err();
        assert!(e.contains("100 years"), "{absurd}: {e}");
    }
    assert!(parse_duration("36500d").is_ok());
}

#[test]
fn durations_round_trip_through_their_text_form() {
    for text in ["5m", "1d", "90s", "250ms", "2h", "0s"] {
        let d = parse_duration(text).unwrap();
        assert_eq!(parse_duration(&format_duration(d)).unwrap(), d);
    }
}

#[test]
fn empty_claim_names_and_secrets_are_refused() {
    assert!(ClaimName::parse("  ").is_err());
    assert!(OptionalClaimName::parse("").is_err());
    assert_eq!(OptionalClaimName::parse("None").unwrap(), None);
    assert!(SecretKey::parse("").is_err());
    assert!(SecretKey::parse("   ").is_err());
    assert!(HeaderTypes::parse(" , ").is_err());
    assert!(HeaderTypes::parse("Bear er").is_err());
}

#[test]
fn header_names_accept_django_and_plain_forms() {
    assert_eq!(
        HeaderName::parse("HTTP_X_ACCESS_TOKEN").unwrap(),
        "x-access-token"
    );
    assert_eq!(
        HeaderName::parse("X-Access-Token").unwrap(),
        "x-access-token"
    );
    assert_eq!(
        HeaderName::show(&"authorization".into()),
        "HTTP_AUTHORIZATION"
    );
    assert!(HeaderName::parse("bad header").is_err());
}

#[test]
fn secrets_never_show() {
    let s = SecretKey::parse("super-secret-value").unwrap();
    assert!(!SecretKey::show(&s).contains("super-secret-value"));
    assert!(!format!("{s:?}").contains("super-secret-value"));
}
