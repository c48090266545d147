//! Social login over HTTP (issue 21), mounted under `/api/oidc/` only when
//! `OIDC_PROVIDERS` names a provider. Thin, as every handler here: each
//! calls one [`AuthService`] method (`service/social`) and answers.
//!
//! - `POST <prefix>/<provider>/token/` `{"id_token", "nonce"?}` — the token
//!   flow of native and single-page apps: the pair exactly as
//!   `POST /api/token/` answers it (and its cookies with `AUTH_COOKIE`).
//! - `GET <prefix>/<provider>/start/?redirect_uri=…&login_hint=…` — the
//!   browser flow: 302 to the provider, with the flow's key in a short-lived
//!   `HttpOnly`, `SameSite=Lax` cookie (Lax: the provider's redirect back is
//!   a top-level navigation, which Lax cookies follow).
//! - `GET <prefix>/<provider>/callback/?code=…&state=…` — 303 to the
//!   allowed page: with `AUTH_COOKIE` the token cookies are set; otherwise
//!   the page gets `?oidc_code=<one-time code>`, never a token.
//! - `POST <prefix>/exchange/` `{"code"}` — that code for the pair.
//! - `GET <prefix>/identities/`, `POST <prefix>/<provider>/link/`
//!   `{"id_token", "nonce"?}`, `DELETE <prefix>/identities/<id>/` — the
//!   signed-in user's linked identities.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, SameSite};
use http::{header, HeaderMap, HeaderValue, StatusCode};
use serde::{Deserialize, Serialize};

use super::auth::AuthUser;
use super::body::DrfBody;
use super::cookies::SetCookies;
use super::response::JsonAnswer;
use super::token_obtain::PairAnswer;
use super::DrfFields;
use crate::error::{ApiError, AuthError, SocialError};
use crate::service::{AuthService, BrowserFinish, ClientInfo, TokenPair};
use crate::settings::Settings;
use crate::store::Identity;

/// The cookie that binds a started browser sign-in to its browser.
pub const FLOW_COOKIE: &str = "simplejwt_oidc_flow";

/// `{"id_token", "nonce"?}`.
#[derive(Debug, Clone)]
pub struct IdTokenBody {
    /// The ID token the app got from the provider.
    pub id_token: String,
    /// The nonce the app sent, to check against the token's (`""`: none).
    pub nonce: String,
}

impl DrfFields for IdTokenBody {
    const FIELDS: &'static [&'static str] = &["id_token"];
    const OPTIONAL: &'static [&'static str] = &["nonce"];
    fn from_fields(values: Vec<String>) -> Self {
        let mut values = values.into_iter();
        IdTokenBody {
            id_token: values.next().unwrap_or_default(),
            nonce: values.next().unwrap_or_default(),
        }
    }
}

/// `{"code"}`: the browser flow's one-time code.
#[derive(Debug, Clone)]
pub struct CodeBody {
    /// The code.
    pub code: String,
}

impl DrfFields for CodeBody {
    const FIELDS: &'static [&'static str] = &["code"];
    fn from_fields(values: Vec<String>) -> Self {
        CodeBody {
            code: values.into_iter().next().unwrap_or_default(),
        }
    }
}

/// The start endpoint's query.
#[derive(Debug, Deserialize)]
pub struct StartQuery {
    /// Where the browser goes at the end: one of the provider's `redirect_uris`.
    pub redirect_uri: Option<String>,
    /// Passed on to the provider (`login_hint`).
    pub login_hint: Option<String>,
}

/// The callback's query, as the provider sends it (RFC 6749 §4.1.2).
#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    /// The authorization code.
    pub code: Option<String>,
    /// The state we sent.
    pub state: Option<String>,
    /// The provider's error code, when it refused.
    pub error: Option<String>,
    /// The provider's issuer (RFC 9207), when it says.
    pub iss: Option<String>,
}

/// A linked identity as listed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IdentityView {
    /// Its id (what unlinking takes).
    pub id: i64,
    /// The provider's configured name.
    pub provider: String,
    /// The provider's issuer.
    pub issuer: String,
    /// The e-mail address the provider gave at linking.
    pub email: String,
    /// When it was linked (epoch seconds).
    pub created: i64,
}

impl From<Identity> for IdentityView {
    fn from(i: Identity) -> Self {
        Self {
            id: i.id,
            provider: i.provider,
            issuer: i.issuer,
            email: i.email,
            created: i.created_at,
        }
    }
}

/// The pair as `POST /api/token/` answers it (cookies with `AUTH_COOKIE`).
fn pair_answer(
    settings: &Settings,
    client: &ClientInfo,
    pair: TokenPair,
) -> (SetCookies, JsonAnswer<PairAnswer>) {
    let cookies = SetCookies::login(settings, client, &pair.access, &pair.refresh, false);
    let in_body = !settings.auth_cookie() || settings.auth_cookie_refresh_in_body();
    (
        cookies,
        JsonAnswer(PairAnswer {
            refresh: in_body.then_some(pair.refresh),
            access: pair.access,
        }),
    )
}

fn nonempty(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}

/// `POST <prefix>/<provider>/token/`: an ID token for our pair.
pub async fn token(
    State(service): State<AuthService>,
    Path(provider): Path<String>,
    client: ClientInfo,
    DrfBody(body): DrfBody<IdTokenBody>,
) -> Result<(SetCookies, JsonAnswer<PairAnswer>), AuthError> {
    let pair = service
        .sign_in_with_id_token(&provider, &body.id_token, nonempty(&body.nonce), &client)
        .await?;
    Ok(pair_answer(service.settings(), &client, pair))
}

/// The flow cookie: `HttpOnly`, `SameSite=Lax`, under `path`, `Secure` as
/// the token cookies; `value` empty removes it.
fn flow_cookie(settings: &Settings, path: &str, value: String) -> HeaderValue {
    let removing = value.is_empty();
    let mut cookie = Cookie::build((FLOW_COOKIE, value))
        .path(path.to_owned())
        .http_only(true)
        .secure(settings.auth_cookie_secure())
        .same_site(SameSite::Lax)
        .build();
    let max_age = if removing {
        0
    } else {
        crate::service::social::FLOW_LIFETIME.as_secs() as i64
    };
    cookie.set_max_age(cookie::time::Duration::seconds(max_age));
    HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A redirect that must not be cached.
fn redirect(status: StatusCode, location: &str) -> Result<Response, AuthError> {
    let location = HeaderValue::from_str(location).map_err(|_| AuthError::Internal)?;
    let mut res = status.into_response();
    res.headers_mut().insert(header::LOCATION, location);
    Ok(res)
}

/// The flow cookie's path: the mount prefix the route was reached under.
fn prefix_of(path: &str) -> &str {
    // `<prefix>/<provider>/start/` or `/callback/`: drop the last two segments.
    let trimmed = path.trim_end_matches('/');
    let cut = trimmed
        .rfind('/')
        .and_then(|i| trimmed[..i].rfind('/'))
        .unwrap_or(0);
    if cut == 0 {
        "/"
    } else {
        &path[..=cut]
    }
}

/// `GET <prefix>/<provider>/start/`: 302 to the provider.
pub async fn start(
    State(service): State<AuthService>,
    Path(provider): Path<String>,
    uri: http::Uri,
    query: Result<Query<StartQuery>, QueryRejection>,
) -> Result<Response, AuthError> {
    // A query that does not parse (a repeated `redirect_uri`) names no
    // allowed page: the JSON refusal, never axum's plain-text one.
    let Ok(Query(query)) = query else {
        return Err(SocialError::RedirectNotAllowed.into());
    };
    let started = service
        .start_browser_sign_in(
            &provider,
            query.redirect_uri.as_deref(),
            query.login_hint.as_deref(),
        )
        .await?;
    let mut res = redirect(StatusCode::FOUND, &started.authorize_url)?;
    let cookie = flow_cookie(service.settings(), prefix_of(uri.path()), started.flow_key);
    res.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(res)
}

/// The flow key from the request's cookie.
fn flow_key(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name_raw() == Some(FLOW_COOKIE))
        .and_then(|c| c.value_raw())
        .filter(|v| !v.is_empty())
}

/// `GET <prefix>/<provider>/callback/`: 303 to the allowed page.
pub async fn callback(
    State(service): State<AuthService>,
    Path(provider): Path<String>,
    uri: http::Uri,
    headers: HeaderMap,
    client: ClientInfo,
    query: Result<Query<CallbackQuery>, QueryRejection>,
) -> Result<Response, AuthError> {
    // A query that does not parse (a repeated `state`) cannot name a flow:
    // refused as a wrong state, and the browser's flow is left as it was.
    let Ok(Query(query)) = query else {
        return Err(SocialError::InvalidState.into());
    };
    let settings = service.settings();
    let finished = service
        .finish_browser_sign_in(
            &provider,
            flow_key(&headers),
            query.state.as_deref(),
            query.code.as_deref(),
            query.error.as_deref(),
            query.iss.as_deref(),
            &client,
        )
        .await?;
    let clear = flow_cookie(settings, prefix_of(uri.path()), String::new());
    let mut res = match finished {
        BrowserFinish::Pair { pair, redirect_to } => {
            let cookies = SetCookies::login(settings, &client, &pair.access, &pair.refresh, false);
            (cookies, redirect(StatusCode::SEE_OTHER, &redirect_to)?).into_response()
        }
        BrowserFinish::Code { redirect_to } => redirect(StatusCode::SEE_OTHER, &redirect_to)?,
    };
    res.headers_mut().append(header::SET_COOKIE, clear);
    Ok(res)
}

/// `POST <prefix>/exchange/`: the one-time code for the pair.
pub async fn exchange(
    State(service): State<AuthService>,
    client: ClientInfo,
    DrfBody(body): DrfBody<CodeBody>,
) -> Result<(SetCookies, JsonAnswer<PairAnswer>), AuthError> {
    let pair = service.exchange_sign_in_code(&body.code, &client).await?;
    Ok(pair_answer(service.settings(), &client, pair))
}

/// `GET <prefix>/identities/`: the caller's linked identities.
pub async fn identities(
    State(service): State<AuthService>,
    AuthUser(auth): AuthUser,
) -> Result<JsonAnswer<Vec<IdentityView>>, ApiError> {
    let list = service.identities_of(auth.user.id).await?;
    Ok(JsonAnswer(
        list.into_iter().map(IdentityView::from).collect(),
    ))
}

/// `POST <prefix>/<provider>/link/`: links the identity of an ID token to the caller.
pub async fn link(
    State(service): State<AuthService>,
    AuthUser(auth): AuthUser,
    Path(provider): Path<String>,
    DrfBody(body): DrfBody<IdTokenBody>,
) -> Result<Response, ApiError> {
    let identity = service
        .link_identity(
            auth.user.id,
            &provider,
            &body.id_token,
            nonempty(&body.nonce),
        )
        .await?;
    let view = IdentityView::from(identity);
    Ok((StatusCode::CREATED, JsonAnswer(view).into_response()).into_response())
}

/// `DELETE <prefix>/identities/<id>/`: unlinks one (204), never the last
/// way to sign in (409).
pub async fn unlink(
    State(service): State<AuthService>,
    AuthUser(auth): AuthUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    service.unlink_identity(auth.user.id, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flow_cookie_lives_under_the_mount_prefix() {
        assert_eq!(prefix_of("/api/oidc/google/start/"), "/api/oidc/");
        assert_eq!(prefix_of("/api/oidc/google/callback/"), "/api/oidc/");
        assert_eq!(prefix_of("/x/start/"), "/");
    }
}
