//! Django's default password validation — the four validators
//! `django-admin startproject` puts in `AUTH_PASSWORD_VALIDATORS`, applied
//! where an operator sets a password (`createuser`, `changepassword`), so a
//! password Django would refuse is refused here too:
//!
//! | Django validator | here |
//! |---|---|
//! | `UserAttributeSimilarityValidator` (max similarity 0.7 to username, first and last name, e-mail and their parts) | [`PasswordProblem::TooSimilar`] |
//! | `MinimumLengthValidator` (8 characters) | [`PasswordProblem::TooShort`] |
//! | `CommonPasswordValidator` (Django's list of 20,000 common passwords) | [`PasswordProblem::TooCommon`] |
//! | `NumericPasswordValidator` | [`PasswordProblem::EntirelyNumeric`] |
//!
//! Each rule is Django 5.2's `django/contrib/auth/password_validation.py`,
//! messages included; the similarity is its `SequenceMatcher.quick_ratio`
//! (twice the characters two texts share, as multisets, over their total
//! length) with its length-ratio shortcut, written out here because no crate
//! computes that exact ratio. The common-password list is Django's own file
//! (`common-passwords.txt.gz`, from Django's BSD-licensed source, compiled
//! from Royce Williams' list), embedded as shipped, decompressed the first
//! time a password is validated and kept for the process's life.

use std::collections::HashMap;
use std::io::Read as _;
use std::sync::LazyLock;

/// Django's `common-passwords.txt.gz`: one lower-case password per line.
const COMMON_PASSWORDS_GZ: &[u8] = include_bytes!("common-passwords.txt.gz");

/// `MinimumLengthValidator`'s default.
pub const MIN_LENGTH: usize = 8;

/// `UserAttributeSimilarityValidator`'s default `max_similarity`.
const MAX_SIMILARITY: f64 = 0.7;

/// The account a password is for, as the similarity check compares it
/// (empty fields are skipped, as Django skips them).
#[derive(Debug, Clone, Copy, Default)]
pub struct UserAttributes<'a> {
    /// Login name.
    pub username: &'a str,
    /// Given name.
    pub first_name: &'a str,
    /// Family name.
    pub last_name: &'a str,
    /// E-mail address.
    pub email: &'a str,
}

/// Why Django's default validators refuse a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordProblem {
    /// Shorter than [`MIN_LENGTH`] characters.
    TooShort,
    /// In Django's list of common passwords (compared in lower case).
    TooCommon,
    /// Only digits.
    EntirelyNumeric,
    /// Too similar to this attribute (Django's verbose name: `username`,
    /// `first name`, `last name`, `email address`).
    TooSimilar(&'static str),
}

impl std::fmt::Display for PasswordProblem {
    /// Django's messages, word for word.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PasswordProblem::TooShort => write!(
                f,
                "This password is too short. It must contain at least {MIN_LENGTH} characters."
            ),
            PasswordProblem::TooCommon => f.write_str("This password is too common."),
            PasswordProblem::EntirelyNumeric => f.write_str("This password is entirely numeric."),
            PasswordProblem::TooSimilar(what) => {
                write!(f, "The password is too similar to the {what}.")
            }
        }
    }
}

/// Runs Django's four default validators, in Django's order, and returns
/// every problem found (none: the password is acceptable).
///
/// ```
/// use simplejwt::password::validation::{validate, PasswordProblem, UserAttributes};
/// let alice = UserAttributes { username: "alice", ..Default::default() };
/// assert_eq!(validate("x", &alice), [PasswordProblem::TooShort, PasswordProblem::TooCommon]);
/// assert_eq!(validate("password", &alice), [PasswordProblem::TooCommon]);
/// assert_eq!(validate("alice1", &alice)[0], PasswordProblem::TooSimilar("username"));
/// assert!(validate("correct-horse-battery", &alice).is_empty());
/// ```
pub fn validate(password: &str, user: &UserAttributes<'_>) -> Vec<PasswordProblem> {
    let mut problems = Vec::new();
    if let Some(what) = too_similar(password, user) {
        problems.push(PasswordProblem::TooSimilar(what));
    }
    if password.chars().count() < MIN_LENGTH {
        problems.push(PasswordProblem::TooShort);
    }
    if is_common(password) {
        problems.push(PasswordProblem::TooCommon);
    }
    if !password.is_empty() && password.chars().all(|c| c.is_numeric()) {
        problems.push(PasswordProblem::EntirelyNumeric);
    }
    problems
}

/// `CommonPasswordValidator`: the lower-cased, trimmed password is in the list.
fn is_common(password: &str) -> bool {
    let wanted = password.trim().to_lowercase();
    common_passwords().lines().any(|line| line.trim() == wanted)
}

/// The common-password list, decompressed on first use and kept: a
/// constant table (~180 kB), so a static is its natural home and every
/// later validation only scans it.
fn common_passwords() -> &'static str {
    static LIST: LazyLock<String> = LazyLock::new(|| {
        let mut list = String::new();
        // The list is part of this binary: it always decompresses (the test
        // below reads it); were it ever corrupt, nothing would be common.
        if flate2::read::GzDecoder::new(COMMON_PASSWORDS_GZ)
            .read_to_string(&mut list)
            .is_err()
        {
            list.clear();
        }
        list
    });
    &LIST
}

/// `UserAttributeSimilarityValidator`: the first attribute (by Django's
/// verbose name) that the password is too similar to.
fn too_similar(password: &str, user: &UserAttributes<'_>) -> Option<&'static str> {
    let password = password.to_lowercase();
    let attributes = [
        (user.username, "username"),
        (user.first_name, "first name"),
        (user.last_name, "last name"),
        (user.email, "email address"),
    ];
    for (value, verbose_name) in attributes {
        if value.is_empty() {
            continue;
        }
        let value = value.to_lowercase();
        // `re.split(r"\W+", value) + [value]`
        let parts = value
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .chain(std::iter::once(value.as_str()));
        for part in parts {
            if exceeds_maximum_length_ratio(&password, part) {
                continue;
            }
            if quick_ratio(&password, part) >= MAX_SIMILARITY {
                return Some(verbose_name);
            }
        }
    }
    None
}

/// Django's shortcut: a value far shorter than the password cannot reach
/// the similarity bound.
fn exceeds_maximum_length_ratio(password: &str, value: &str) -> bool {
    let password_len = password.chars().count();
    let value_len = value.chars().count();
    password_len >= 10 * value_len
        && (value_len as f64) < MAX_SIMILARITY / 2.0 * password_len as f64
}

/// Python's `SequenceMatcher(a=a, b=b).quick_ratio()`: 2·M / T, M the size
/// of the multiset intersection of their characters, T their total length
/// (1.0 for two empty texts).
fn quick_ratio(a: &str, b: &str) -> f64 {
    let total = a.chars().count() + b.chars().count();
    if total == 0 {
        return 1.0;
    }
    let mut available: HashMap<char, usize> = HashMap::new();
    for c in b.chars() {
        *available.entry(c).or_default() += 1;
    }
    let mut matches = 0usize;
    for c in a.chars() {
        if let Some(n) = available.get_mut(&c) {
            if *n > 0 {
                *n -= 1;
                matches += 1;
            }
        }
    }
    2.0 * matches as f64 / total as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user<'a>(username: &'a str, email: &'a str) -> UserAttributes<'a> {
        UserAttributes {
            username,
            email,
            ..Default::default()
        }
    }

    #[test]
    fn quick_ratio_is_pythons() {
        // Values printed by CPython's difflib.SequenceMatcher(...).quick_ratio().
        assert_eq!(quick_ratio("abcd", "bcde"), 0.75);
        assert_eq!(quick_ratio("alice-pw-1", "alice"), 2.0 * 5.0 / 15.0);
        assert_eq!(quick_ratio("", ""), 1.0);
        assert_eq!(quick_ratio("aab", "ab"), 0.8);
    }

    /// Each expectation is what Django 5.2's `validate_password` with the
    /// four default validators answers for the same password and user.
    #[test]
    fn djangos_four_rules_each_refuse_what_django_refuses() {
        let alice = user("alice", "alice.smith@example.com");
        assert_eq!(validate("short", &alice), [PasswordProblem::TooShort]);
        assert_eq!(
            validate("12345678", &alice),
            [PasswordProblem::TooCommon, PasswordProblem::EntirelyNumeric]
        );
        assert_eq!(
            validate("80412573961", &alice),
            [PasswordProblem::EntirelyNumeric]
        );
        assert_eq!(validate("Password", &alice), [PasswordProblem::TooCommon]);
        assert_eq!(
            validate("alice1", &alice),
            [
                PasswordProblem::TooSimilar("username"),
                PasswordProblem::TooShort,
                PasswordProblem::TooCommon
            ]
        );
        assert!(validate("alice-smith", &alice).is_empty());
        // A part of the e-mail address is an attribute of its own.
        let bob = user("bob", "robert.fischer@example.com");
        assert_eq!(
            validate("fischer77", &bob),
            [PasswordProblem::TooSimilar("email address")]
        );
        assert!(validate("alice-pw-1", &alice).is_empty());
        assert!(validate("correct-horse-battery-staple", &alice).is_empty());
        assert_eq!(
            PasswordProblem::TooShort.to_string(),
            "This password is too short. It must contain at least 8 characters."
        );
    }

    #[test]
    fn the_embedded_list_is_djangos_twenty_thousand() {
        let mut list = String::new();
        flate2::read::GzDecoder::new(COMMON_PASSWORDS_GZ)
            .read_to_string(&mut list)
            .expect("gzip");
        assert!(list.lines().count() > 19_000, "{}", list.lines().count());
        assert_eq!(common_passwords(), list, "the kept list is the whole file");
        assert!(
            std::ptr::eq(common_passwords(), common_passwords()),
            "decompressed once, then kept"
        );
        assert!(is_common("qwerty") && is_common("QWERTY"));
    }
}
