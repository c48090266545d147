//! The cookie transport's values: cookie names, a cookie path and the
//! `SameSite` policy. Each is checked here so that a value that would make a
//! malformed or silently ignored `Set-Cookie` is refused at start.

use super::Kind;

/// A cookie name: an RFC 6265 token (visible ASCII, none of `()<>@,;:\"/[]?={}`),
/// without a `__Host-` / `__Secure-` prefix (the prefix is its own setting).
#[derive(Debug)]
pub enum CookieName {}
impl Kind for CookieName {
    type Value = String;
    type Ref<'a> = &'a str;
    const FORM: &'static str = "cookie name (an RFC 6265 token, no prefix)";
    fn parse(raw: &str) -> Result<String, String> {
        let v = raw.trim().to_owned();
        Self::check(&v)?;
        Ok(v)
    }
    fn check(v: &String) -> Result<(), String> {
        if v.is_empty() {
            return Err("must not be empty".into());
        }
        if let Some(c) = v.chars().find(|c| !is_token_char(*c)) {
            return Err(format!(
                "{v:?} contains {c:?}, not allowed in a cookie name"
            ));
        }
        let lower = v.to_ascii_lowercase();
        if lower.starts_with("__host-") || lower.starts_with("__secure-") {
            return Err(format!(
                "{v:?} carries a prefix: use AUTH_COOKIE_HOST_PREFIX instead"
            ));
        }
        Ok(())
    }
    fn show(v: &String) -> String {
        v.clone()
    }
    fn get(v: &String) -> &str {
        v
    }
}

/// RFC 7230 `tchar`.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// A cookie `Path`: starts with `/`, visible ASCII without `;`.
#[derive(Debug)]
pub enum CookiePath {}
impl Kind for CookiePath {
    type Value = String;
    type Ref<'a> = &'a str;
    const FORM: &'static str = "path starting with /";
    fn parse(raw: &str) -> Result<String, String> {
        let v = raw.trim().to_owned();
        Self::check(&v)?;
        Ok(v)
    }
    fn check(v: &String) -> Result<(), String> {
        if !v.starts_with('/') {
            return Err(format!("{v:?} does not start with /"));
        }
        if v.chars().any(|c| !c.is_ascii_graphic() || c == ';') {
            return Err(format!("{v:?} has a character a cookie path cannot hold"));
        }
        Ok(())
    }
    fn show(v: &String) -> String {
        v.clone()
    }
    fn get(v: &String) -> &str {
        v
    }
}

/// The `SameSite` attribute of the token cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSitePolicy {
    /// Sent on same-site requests only, not even on links from other sites.
    Strict,
    /// Sent on same-site requests and top-level navigations (the browsers' default).
    Lax,
    /// Sent on every request, cross-site included (needs `Secure`).
    None,
}

impl Kind for SameSitePolicy {
    type Value = SameSitePolicy;
    type Ref<'a> = SameSitePolicy;
    const FORM: &'static str = "Strict, Lax or None";
    fn parse(raw: &str) -> Result<SameSitePolicy, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "strict" => Ok(SameSitePolicy::Strict),
            "lax" => Ok(SameSitePolicy::Lax),
            "none" => Ok(SameSitePolicy::None),
            _ => Err(format!(
                "{raw:?} is not a SameSite policy (Strict, Lax or None)"
            )),
        }
    }
    fn show(v: &SameSitePolicy) -> String {
        match v {
            SameSitePolicy::Strict => "Strict",
            SameSitePolicy::Lax => "Lax",
            SameSitePolicy::None => "None",
        }
        .into()
    }
    fn get(v: &SameSitePolicy) -> SameSitePolicy {
        *v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_names_are_tokens_without_prefix() {
        assert_eq!(CookieName::parse(" access ").unwrap(), "access");
        assert!(CookieName::parse("").is_err());
        assert!(CookieName::parse("a b").is_err());
        assert!(CookieName::parse("a;b").is_err());
        assert!(CookieName::parse("a=b").is_err());
        assert!(CookieName::parse("__Host-access").is_err());
        assert!(CookieName::parse("__secure-x").is_err());
    }

    #[test]
    fn cookie_paths_start_with_a_slash() {
        assert_eq!(CookiePath::parse("/api/token/").unwrap(), "/api/token/");
        assert!(CookiePath::parse("api").is_err());
        assert!(CookiePath::parse("/a;b").is_err());
        assert!(CookiePath::parse("/a b").is_err());
    }

    #[test]
    fn same_site_reads_any_case() {
        assert_eq!(SameSitePolicy::parse("lax").unwrap(), SameSitePolicy::Lax);
        assert_eq!(
            SameSitePolicy::parse("STRICT").unwrap(),
            SameSitePolicy::Strict
        );
        assert_eq!(SameSitePolicy::parse("None").unwrap(), SameSitePolicy::None);
        assert!(SameSitePolicy::parse("sometimes").is_err());
        assert_eq!(SameSitePolicy::show(&SameSitePolicy::Lax), "Lax");
    }
}
