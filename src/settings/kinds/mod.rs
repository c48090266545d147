//! The kinds of values a setting can hold: how each is parsed from text
//! (environment variables, TOML values, `from_pairs`), written back as text
//! (`simplejwt check`, the README table), bounded, and read.
//!
//! A setting's declaration names its kind (see `settings/declare.rs`), so the
//! rule "what text is a valid lifetime" lives here once, whatever setting
//! uses it. Every parser refuses rather than guesses: an absurd duration, an
//! empty claim name or an empty secret is an error that names the setting.
//!
//! Split by what the values are: durations (`time.rs`), flags, names, texts,
//! keys and counts (`text.rs`), cookie names, paths and `SameSite`
//! (`cookie.rs`), and the enumerated choices of the token
//! settings (`choices.rs`). Each kind is a zero-sized type implementing [`Kind`].

mod choices;
mod cookie;
mod net;
mod oidc;
#[cfg(test)]
mod tests;
mod text;
mod time;

pub use choices::*;
pub use cookie::*;
pub use net::*;
pub use oidc::*;
pub use text::*;
pub use time::*;

use std::fmt;

/// A kind of setting value: its Rust type, its text form, and how it is read.
pub trait Kind {
    /// The stored value.
    type Value: Clone + fmt::Debug + Send + Sync + 'static;
    /// What the accessor returns (a copy, or a borrow for strings and lists).
    type Ref<'a>;
    /// One line for the settings table: the form the text takes.
    const FORM: &'static str;
    /// Whether the value is a secret (masked wherever it is shown).
    const SECRET: bool = false;
    /// Parses the text form. The error says what is wrong, never the value of a secret.
    fn parse(raw: &str) -> Result<Self::Value, String>;
    /// Checks a value set directly (through a typed builder setter) against
    /// the same bounds [`Kind::parse`] applies.
    fn check(value: &Self::Value) -> Result<(), String> {
        let _ = value;
        Ok(())
    }
    /// The text form, which [`Kind::parse`] reads back (secrets masked).
    fn show(value: &Self::Value) -> String;
    /// The accessor's view of the value.
    fn get(value: &Self::Value) -> Self::Ref<'_>;
}

/// Splits a comma-separated list, dropping empty items.
pub(crate) fn list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A secret string whose `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The secret itself: call only where it is used.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret::new(s)
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret::new(s)
    }
}
