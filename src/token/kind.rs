//! The three kinds of tokens simplejwt issues, and their names on the wire
//! (`token_type`) and in error bodies (`token_class`). A leaf: settings name
//! token kinds (`AUTH_TOKEN_CLASSES`), so this file depends on nothing.

/// The kinds of tokens simplejwt issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Short-lived, authenticates requests.
    Access,
    /// Long-lived, exchanged for access tokens.
    Refresh,
    /// Both at once (simplejwt's SlidingToken).
    Sliding,
}

impl TokenKind {
    /// The `token_type` claim value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
            Self::Sliding => "sliding",
        }
    }

    /// simplejwt's class name, used in error bodies (`token_class`).
    pub fn class_name(self) -> &'static str {
        match self {
            Self::Access => "AccessToken",
            Self::Refresh => "RefreshToken",
            Self::Sliding => "SlidingToken",
        }
    }
}
