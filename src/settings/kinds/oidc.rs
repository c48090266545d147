//! `OIDC_PROVIDERS`: the OpenID Connect providers users may sign in with
//! (issue 21). One setting holding a JSON array, not one setting per field:
//! a deployment has any number of providers, each a small record, and the
//! whole record must be checked together (a browser flow needs a callback
//! URL, names must be unique). In a TOML file it is written as an array of
//! tables (`[[simple_jwt.OIDC_PROVIDERS]]`), which the configuration loader
//! turns into this JSON; in the environment it is the JSON text itself
//! (or a file of it through `SIMPLE_JWT_OIDC_PROVIDERS_FILE`).
//!
//! Parsing refuses rather than guesses: unknown fields, a name that cannot
//! be a path segment, a URL that is not absolute http(s) (plain http only
//! for loopback hosts, for local development and tests), a browser flow
//! without its callback URL. The client secret is shown masked.

use serde::{Deserialize, Serialize};

use super::{Kind, Secret};

/// One OpenID Connect provider, as configured.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcProvider {
    /// The provider's name in our URLs (`/api/oidc/<name>/…`): 1 to 32 of
    /// `a-z`, `0-9`, `-`, `_`.
    pub name: String,
    /// The issuer URL; discovery reads `<issuer>/.well-known/openid-configuration`
    /// and ID tokens must carry exactly this `iss`.
    pub issuer: String,
    /// Our client id at the provider: the `aud` of ID tokens of the browser flow.
    pub client_id: String,
    /// Our client secret, or none for a public client (PKCE only).
    #[serde(default, deserialize_with = "secret")]
    pub client_secret: Option<Secret>,
    /// Client ids of native / single-page apps whose ID tokens the token
    /// endpoint also accepts (their `aud`), besides `client_id`.
    #[serde(default)]
    pub mobile_client_ids: Vec<String>,
    /// Scopes asked for in the browser flow; `openid` is always added.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// Our callback URL as registered at the provider
    /// (`https://api.example.com/api/oidc/<name>/callback/`); needed for the
    /// browser flow.
    #[serde(default)]
    pub callback_url: Option<String>,
    /// Where the browser flow may send the browser back to (exact matches;
    /// the first is the default). Empty: no browser flow for this provider.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// A new identity whose provider asserts a verified e-mail address
    /// (`email_verified: true`) is linked to the local account with that
    /// address. Off: such a sign-in is refused (409) instead.
    #[serde(default)]
    pub link_by_email: bool,
}

impl std::fmt::Debug for OidcProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcProvider")
            .field("name", &self.name)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

fn default_scopes() -> Vec<String> {
    vec!["openid".into(), "email".into(), "profile".into()]
}

fn secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    Ok(Option::<String>::deserialize(d)?
        .filter(|s| !s.is_empty())
        .map(Secret::new))
}

/// The shown form: the same fields, the secret masked.
#[derive(Serialize)]
struct Shown<'a> {
    name: &'a str,
    issuer: &'a str,
    client_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<&'static str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    mobile_client_ids: &'a [String],
    scopes: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    callback_url: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    redirect_uris: &'a [String],
    link_by_email: bool,
}

/// Whether `url` is an absolute http(s) URL without a fragment; plain http
/// only for a loopback host.
fn check_url(field: &str, url: &str) -> Result<(), String> {
    let parsed = openidconnect::url::Url::parse(url)
        .map_err(|e| format!("{field} {url:?} is not a URL: {e}"))?;
    let loopback = matches!(parsed.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => {
            return Err(format!(
                "{field} {url:?} must be https (http only for localhost)"
            ))
        }
    }
    if parsed.fragment().is_some() {
        return Err(format!("{field} {url:?} must not have a fragment"));
    }
    Ok(())
}

impl OidcProvider {
    fn check(&self) -> Result<(), String> {
        let name_ok = (1..=32).contains(&self.name.len())
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !name_ok {
            return Err(format!(
                "provider name {:?} must be 1 to 32 of a-z, 0-9, - and _",
                self.name
            ));
        }
        if matches!(self.name.as_str(), "identities" | "exchange") {
            return Err(format!(
                "provider name {:?} is reserved (a route of its own)",
                self.name
            ));
        }
        let at = |m: String| format!("provider {}: {m}", self.name);
        check_url("issuer", &self.issuer).map_err(at)?;
        if self.client_id.trim().is_empty() {
            return Err(at("client_id must not be empty".into()));
        }
        if self.mobile_client_ids.iter().any(|c| c.trim().is_empty()) {
            return Err(at("mobile_client_ids has an empty item".into()));
        }
        if self
            .scopes
            .iter()
            .any(|s| s.is_empty() || s.contains(char::is_whitespace))
        {
            return Err(at("scopes must be words without spaces".into()));
        }
        if let Some(url) = &self.callback_url {
            check_url("callback_url", url).map_err(at)?;
        }
        for uri in &self.redirect_uris {
            check_url("redirect_uris", uri).map_err(at)?;
        }
        if !self.redirect_uris.is_empty() && self.callback_url.is_none() {
            return Err(at(
                "redirect_uris need callback_url (the browser flow's callback as registered at the provider)"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The scopes of the browser flow, `openid` first and once.
    pub fn scopes_with_openid(&self) -> impl Iterator<Item = &str> {
        std::iter::once("openid").chain(
            self.scopes
                .iter()
                .map(String::as_str)
                .filter(|s| *s != "openid"),
        )
    }

    /// Whether the browser flow is configured (a callback URL and at least
    /// one place to send the browser back to).
    pub fn browser_flow(&self) -> bool {
        self.callback_url.is_some() && !self.redirect_uris.is_empty()
    }
}

/// `OIDC_PROVIDERS`: a JSON array of providers; empty turns social login off.
#[derive(Debug)]
pub enum OidcProviders {}
impl Kind for OidcProviders {
    type Value = Vec<OidcProvider>;
    type Ref<'a> = &'a [OidcProvider];
    const FORM: &'static str =
        "JSON array of providers (TOML: [[simple_jwt.OIDC_PROVIDERS]] tables); [] for none";
    fn parse(raw: &str) -> Result<Vec<OidcProvider>, String> {
        let raw = raw.trim();
        if raw.is_empty() || raw == "None" {
            return Ok(Vec::new());
        }
        // serde_json's message names a field and a position, never a value.
        let providers: Vec<OidcProvider> = serde_json::from_str(raw)
            .map_err(|e| format!("is not a JSON array of providers: {e}"))?;
        Self::check(&providers)?;
        Ok(providers)
    }
    fn check(providers: &Vec<OidcProvider>) -> Result<(), String> {
        for (i, p) in providers.iter().enumerate() {
            p.check()?;
            if providers[..i].iter().any(|q| q.name == p.name) {
                return Err(format!("provider name {:?} is given twice", p.name));
            }
        }
        Ok(())
    }
    fn show(providers: &Vec<OidcProvider>) -> String {
        let shown: Vec<Shown<'_>> = providers
            .iter()
            .map(|p| Shown {
                name: &p.name,
                issuer: &p.issuer,
                client_id: &p.client_id,
                client_secret: p.client_secret.as_ref().map(|_| "****"),
                mobile_client_ids: &p.mobile_client_ids,
                scopes: &p.scopes,
                callback_url: p.callback_url.as_deref(),
                redirect_uris: &p.redirect_uris,
                link_by_email: p.link_by_email,
            })
            .collect();
        serde_json::to_string(&shown).unwrap_or_else(|_| "[]".into())
    }
    fn get(v: &Vec<OidcProvider>) -> &[OidcProvider] {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"[{"name": "google", "issuer": "https://accounts.google.com",
        "client_id": "web-id", "client_secret": "s3cret",
        "callback_url": "https://api.example.com/api/oidc/google/callback/",
        "redirect_uris": ["https://app.example.com/signed-in"]}]"#;

    #[test]
    fn a_provider_parses_with_defaults_and_shows_its_secret_masked() {
        let v = OidcProviders::parse(GOOD).unwrap();
        assert_eq!(v[0].scopes, ["openid", "email", "profile"]);
        assert!(!v[0].link_by_email);
        assert!(v[0].browser_flow());
        let shown = OidcProviders::show(&v);
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("****"));
        assert!(OidcProviders::parse("[]").unwrap().is_empty());
    }

    #[test]
    fn bad_providers_are_refused_with_the_reason() {
        let cases = [
            (
                r#"[{"name": "Google", "issuer": "https://a", "client_id": "x"}]"#,
                "name",
            ),
            (
                r#"[{"name": "g", "issuer": "http://idp.example", "client_id": "x"}]"#,
                "https",
            ),
            (
                r#"[{"name": "g", "issuer": "https://a", "client_id": ""}]"#,
                "client_id",
            ),
            (
                r#"[{"name": "g", "issuer": "https://a", "client_id": "x", "typo": 1}]"#,
                "typo",
            ),
            (
                r#"[{"name": "g", "issuer": "https://a", "client_id": "x", "redirect_uris": ["https://app"]}]"#,
                "callback_url",
            ),
            (
                r#"[{"name": "g", "issuer": "https://a", "client_id": "x"}, {"name": "g", "issuer": "https://b", "client_id": "y"}]"#,
                "twice",
            ),
        ];
        for (raw, word) in cases {
            let err = OidcProviders::parse(raw).unwrap_err();
            assert!(err.contains(word), "{raw}: {err}");
        }
    }

    #[test]
    fn loopback_issuers_may_be_plain_http() {
        let raw = r#"[{"name": "local", "issuer": "http://127.0.0.1:9000", "client_id": "x"}]"#;
        assert_eq!(OidcProviders::parse(raw).unwrap()[0].name, "local");
    }
}
