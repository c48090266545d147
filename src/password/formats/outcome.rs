//! What checking one stored string can conclude ([`Check`]), shared by every
//! format.
//!
//! # Why it is shaped this way
//!
//! The dispatcher in `formats/mod.rs` and each format's checker all speak
//! [`Check`]; keeping it in a leaf lets them share it without importing each
//! other. [`malformed`] is the one place a format reports a stored string it
//! cannot read, so every format logs it the same way (naming the format, never
//! the hash) and refuses it the same way.

/// Outcome of checking one stored string.
pub(in crate::password) enum Check {
    /// The password matches; `needs_rehash` unless the stored string is
    /// exactly what the hasher would write now.
    Match { needs_rehash: bool },
    /// A real verification ran and the password does not match.
    Mismatch,
    /// Unusable, unknown, malformed or refused: no real verification happened
    /// (the caller pays for a dummy one instead).
    Unverifiable,
}

/// A stored `format` hash that cannot be read: logged, never verifies.
pub(super) fn malformed(format: &str) -> Check {
    tracing::warn!("stored {format} password hash is malformed");
    Check::Unverifiable
}
