//! Request bodies read the way Django REST framework reads them, so every
//! client of the reference gets the same answers: JSON, form-encoded and
//! multipart bodies; an empty body (or none) counts as no fields; each field
//! is a DRF `CharField` (trimmed, not blank, not null, strings or numbers).
//! Errors come back as DRF's field errors, all fields at once, in field order.
//!
//! [`DrfBody<T>`] is the extractor: `T` names its fields ([`DrfFields`]) and
//! receives them validated; its rejection is an [`ApiError`] (400, 413, 415).

use axum::extract::{FromRef, FromRequest, Request};
use bytes::Bytes;
use http::header;
use http::request::Parts;
use serde_json::Value;

use super::cookies::{self, TokenCookie};
use super::{json_body, AppState};
use crate::error::ApiError;

/// A request body type: the DRF `CharField`s it is made of.
pub trait DrfFields: Sized {
    /// The field names, in the order DRF reports their errors.
    const FIELDS: &'static [&'static str];
    /// Optional fields after them: absent, `null` or blank is `""`; a JSON
    /// boolean is `"true"` / `"false"`.
    const OPTIONAL: &'static [&'static str] = &[];
    /// With `AUTH_COOKIE`, a field the body lacks is taken from this cookie.
    const COOKIES: &'static [(&'static str, TokenCookie)] = &[];
    /// Builds the value from the validated fields, in [`DrfFields::FIELDS`]
    /// then [`DrfFields::OPTIONAL`] order.
    fn from_fields(values: Vec<String>) -> Self;
}

/// Extracts `T` from a JSON, form or multipart body with DRF's field rules,
/// reading at most [`AppState::max_body_bytes`] bytes.
#[derive(Debug, Clone)]
pub struct DrfBody<T>(pub T);

impl<S, T> FromRequest<S> for DrfBody<T>
where
    S: Send + Sync,
    AppState: FromRef<S>,
    T: DrfFields,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let state = AppState::from_ref(state);
        let (parts, body) = req.into_parts();
        let settings = state.service.settings();
        let from_cookie = |field: &str| {
            if !settings.auth_cookie() {
                return None;
            }
            let (_, which) = T::COOKIES.iter().find(|(f, _)| *f == field)?;
            cookies::read(&parts.headers, settings, *which).map(str::to_owned)
        };
        // A declared length over the limit is refused before reading: the
        // client may never send that much (a slow or stalled sender would
        // otherwise hold the request until REQUEST_TIMEOUT).
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > state.max_body_bytes as u64) {
            return Err(ApiError::PayloadTooLarge);
        }
        let bytes = axum::body::to_bytes(body, state.max_body_bytes)
            .await
            .map_err(|_| ApiError::PayloadTooLarge)?;
        let data = parse(&parts, bytes).await?;
        let mut values = validate(&data, T::FIELDS, from_cookie)?;
        values.extend(
            T::OPTIONAL
                .iter()
                .map(|f| optional_field(&data, f))
                .collect::<Result<Vec<_>, _>>()?,
        );
        Ok(DrfBody(T::from_fields(values)))
    }
}

/// `{"username", "password"}`: the login views' body.
#[derive(Clone)]
pub struct Credentials {
    /// The login name, trimmed.
    pub username: String,
    /// The password, trimmed (as DRF trims it).
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl DrfFields for Credentials {
    const FIELDS: &'static [&'static str] = &["username", "password"];
    fn from_fields(values: Vec<String>) -> Self {
        let [username, password] = take(values);
        Credentials { username, password }
    }
}

/// `{"username", "password", "remember"}`: the pair login's body;
/// `remember` ("stay logged in", optional: `true`, `"true"`, `"on"`, `"1"`)
/// makes the cookies of `AUTH_COOKIE` persistent.
#[derive(Debug, Clone)]
pub struct Login {
    /// The credentials.
    pub credentials: Credentials,
    /// Stay logged in across browser restarts.
    pub remember: bool,
}

impl DrfFields for Login {
    const FIELDS: &'static [&'static str] = Credentials::FIELDS;
    const OPTIONAL: &'static [&'static str] = &["remember"];
    fn from_fields(values: Vec<String>) -> Self {
        let [username, password, remember] = take(values);
        let remember = matches!(
            remember.to_ascii_lowercase().as_str(),
            "true" | "on" | "1" | "yes"
        );
        Login {
            credentials: Credentials { username, password },
            remember,
        }
    }
}

/// `{"refresh"}`: the refresh and blacklist views' body; with
/// `AUTH_COOKIE`, the refresh cookie when the body has none.
#[derive(Debug, Clone)]
pub struct RefreshField {
    /// The refresh token.
    pub refresh: String,
}

impl DrfFields for RefreshField {
    const FIELDS: &'static [&'static str] = &["refresh"];
    const COOKIES: &'static [(&'static str, TokenCookie)] = &[("refresh", TokenCookie::Refresh)];
    fn from_fields(values: Vec<String>) -> Self {
        let [refresh] = take(values);
        RefreshField { refresh }
    }
}

/// `{"token"}`: the verify and sliding-refresh views' body.
#[derive(Debug, Clone)]
pub struct TokenField {
    /// The token.
    pub token: String,
}

impl DrfFields for TokenField {
    const FIELDS: &'static [&'static str] = &["token"];
    fn from_fields(values: Vec<String>) -> Self {
        let [token] = take(values);
        TokenField { token }
    }
}

/// `{"token"}`: the verify view's body; with `AUTH_COOKIE`, the access
/// cookie when the body has none.
#[derive(Debug, Clone)]
pub struct VerifyField {
    /// The token.
    pub token: String,
}

impl DrfFields for VerifyField {
    const FIELDS: &'static [&'static str] = &["token"];
    const COOKIES: &'static [(&'static str, TokenCookie)] = &[("token", TokenCookie::Access)];
    fn from_fields(values: Vec<String>) -> Self {
        let [token] = take(values);
        VerifyField { token }
    }
}

/// `token` and `token_type_hint`: the body of RFC 7009 revocation and RFC
/// 7662 introspection requests (form-encoded per the RFCs; JSON and
/// multipart too, as every endpoint here). Both optional for the
/// extractor, so a missing `token` is answered as the RFCs say
/// (`invalid_request`), not with DRF's field error.
#[derive(Debug, Clone)]
pub struct OAuthToken {
    /// The token (`""` when absent).
    pub token: String,
    /// The caller's guess at its type (`access_token`, `refresh_token`);
    /// `""` when absent.
    pub token_type_hint: String,
}

impl DrfFields for OAuthToken {
    const FIELDS: &'static [&'static str] = &[];
    const OPTIONAL: &'static [&'static str] = &["token", "token_type_hint"];
    fn from_fields(values: Vec<String>) -> Self {
        let [token, token_type_hint] = take(values);
        OAuthToken {
            token,
            token_type_hint,
        }
    }
}

/// `{"old_password", "new_password"}`: the password change's body
/// (Django's `PasswordChangeForm` fields).
#[derive(Clone)]
pub struct PasswordChange {
    /// The current password, trimmed (as logins trim it).
    pub old_password: String,
    /// The new password, trimmed.
    pub new_password: String,
}

impl std::fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordChange").finish_non_exhaustive()
    }
}

impl DrfFields for PasswordChange {
    const FIELDS: &'static [&'static str] = &["old_password", "new_password"];
    fn from_fields(values: Vec<String>) -> Self {
        let [old_password, new_password] = take(values);
        PasswordChange {
            old_password,
            new_password,
        }
    }
}

/// The fields as an array; the extractor always passes one value per field.
fn take<const N: usize>(values: Vec<String>) -> [String; N] {
    let mut it = values.into_iter();
    std::array::from_fn(|_| it.next().unwrap_or_default())
}

const REQUIRED: &str = "This field is required.";
const NULL: &str = "This field may not be null.";
const BLANK: &str = "This field may not be blank.";
const NOT_STRING: &str = "Not a valid string.";
const NULL_CHARS: &str = "Null characters are not allowed.";

/// A parsed body: a JSON value, or form fields (last value of a name wins).
enum Data {
    Json(Value),
    Form(Vec<(String, String)>),
}

async fn parse(parts: &Parts, bytes: Bytes) -> Result<Data, ApiError> {
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    // DRF: no body → no data (every field "required"). A body without a
    // content type matches no parser: 415 for "" (under gunicorn, as the
    // reference runs, the WSGI environ then has no CONTENT_TYPE).
    if bytes.is_empty() {
        return Ok(Data::Form(Vec::new()));
    }
    let content_type = content_type.unwrap_or_default();
    let media_type = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match media_type.as_str() {
        "application/json" => json_body::parse(&bytes)
            .map(Data::Json)
            .map_err(|m| ApiError::Parse(format!("JSON parse error - {m}"))),
        "application/x-www-form-urlencoded" => Ok(Data::Form(
            form_urlencoded::parse(&bytes).into_owned().collect(),
        )),
        "multipart/form-data" => parse_multipart(&content_type, bytes).await.map(Data::Form),
        _ => Err(ApiError::UnsupportedMediaType(content_type)),
    }
}

async fn parse_multipart(
    content_type: &str,
    bytes: Bytes,
) -> Result<Vec<(String, String)>, ApiError> {
    let error = |m: String| ApiError::Parse(format!("Multipart form parse error - {m}"));
    let boundary = multer::parse_boundary(content_type).map_err(|e| error(e.to_string()))?;
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(bytes) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut out = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| error(e.to_string()))?
    {
        // Parts with a file name are uploads (request.FILES), not data.
        if field.file_name().is_some() {
            continue;
        }
        let Some(name) = field.name().map(str::to_owned) else {
            continue;
        };
        let value = field.bytes().await.map_err(|e| error(e.to_string()))?;
        out.push((name, String::from_utf8_lossy(&value).into_owned()));
    }
    Ok(out)
}

/// Python's `str.strip()` whitespace.
fn is_py_whitespace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// One `CharField(trim_whitespace=True)`.
fn char_field(value: Option<&Value>) -> Result<String, &'static str> {
    let text = match value {
        None => return Err(REQUIRED),
        Some(Value::Null) => return Err(NULL),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => py_number(n),
        Some(_) => return Err(NOT_STRING),
    };
    let trimmed = text.trim_matches(is_py_whitespace);
    if trimmed.is_empty() {
        return Err(BLANK);
    }
    if trimmed.contains('\0') {
        return Err(NULL_CHARS);
    }
    Ok(trimmed.to_owned())
}

/// The raw value of `field`, or `None` when the body lacks it.
fn raw_field(data: &Data, field: &str) -> Option<Value> {
    match data {
        Data::Json(Value::Object(map)) => map.get(field).cloned(),
        Data::Form(pairs) => pairs
            .iter()
            .rev()
            .find(|(k, _)| k == field)
            .map(|(_, v)| Value::String(v.clone())),
        Data::Json(_) => None,
    }
}

/// One optional field ([`DrfFields::OPTIONAL`]); only a list or an object
/// is an error.
fn optional_field(data: &Data, field: &'static str) -> Result<String, ApiError> {
    match raw_field(data, field) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::Bool(b)) => Ok(b.to_string()),
        Some(Value::Array(_) | Value::Object(_)) => {
            Err(ApiError::Fields(vec![(field, NOT_STRING)]))
        }
        other => Ok(char_field(other.as_ref()).unwrap_or_default()),
    }
}

/// The required fields, in order; a field the body lacks is taken from
/// `fallback` (a cookie) when it has one.
fn validate(
    data: &Data,
    fields: &'static [&'static str],
    fallback: impl Fn(&str) -> Option<String>,
) -> Result<Vec<String>, ApiError> {
    match data {
        Data::Json(Value::Object(_)) | Data::Form(_) => {}
        Data::Json(Value::Null) => return Err(ApiError::NonField("No data provided".into())),
        Data::Json(other) => {
            return Err(ApiError::NonField(format!(
                "Invalid data. Expected a dictionary, but got {}.",
                py_type_name(other)
            )))
        }
    }
    let mut errors = Vec::new();
    let values = fields.iter().map(|&field| {
        let raw = raw_field(data, field).or_else(|| fallback(field).map(Value::String));
        match char_field(raw.as_ref()) {
            Ok(v) => v,
            Err(message) => {
                errors.push((field, message));
                String::new()
            }
        }
    });
    let values: Vec<String> = values.collect();
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(ApiError::Fields(errors))
    }
}

fn py_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// `str()` of a Python int or float parsed from JSON.
fn py_number(n: &serde_json::Number) -> String {
    if !n.is_f64() {
        return n.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..16).contains(&exp) {
        let plain = format!("{f}");
        if plain.contains('.') {
            plain
        } else {
            format!("{plain}.0")
        }
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn json_fields(v: Value) -> Result<Vec<String>, ApiError> {
        validate(&Data::Json(v), Credentials::FIELDS, |_| None)
    }

    #[test]
    fn drf_char_field_rules() {
        assert_eq!(
            json_fields(json!({"username": " alice ", "password": "\tpw\n"})).unwrap(),
            ["alice", "pw"]
        );
        assert_eq!(
            json_fields(json!({})).unwrap_err(),
            ApiError::Fields(vec![("username", REQUIRED), ("password", REQUIRED)])
        );
        assert_eq!(
            json_fields(json!({"username": null, "password": "  "})).unwrap_err(),
            ApiError::Fields(vec![("username", NULL), ("password", BLANK)])
        );
        assert_eq!(
            json_fields(json!({"username": ["a"], "password": true})).unwrap_err(),
            ApiError::Fields(vec![("username", NOT_STRING), ("password", NOT_STRING)])
        );
        assert_eq!(
            json_fields(json!({"username": "a\u{0}b", "password": 12345})).unwrap_err(),
            ApiError::Fields(vec![("username", NULL_CHARS)])
        );
        assert_eq!(
            json_fields(json!({"username": 12345, "password": 1.5})).unwrap(),
            ["12345", "1.5"]
        );
    }

    #[test]
    fn non_objects_are_non_field_errors() {
        assert_eq!(
            json_fields(Value::Null).unwrap_err(),
            ApiError::NonField("No data provided".into())
        );
        assert_eq!(
            json_fields(json!([1])).unwrap_err(),
            ApiError::NonField("Invalid data. Expected a dictionary, but got list.".into())
        );
        assert_eq!(
            json_fields(json!("x")).unwrap_err(),
            ApiError::NonField("Invalid data. Expected a dictionary, but got str.".into())
        );
        assert_eq!(
            json_fields(json!(1.5)).unwrap_err(),
            ApiError::NonField("Invalid data. Expected a dictionary, but got float.".into())
        );
    }

    #[test]
    fn remember_is_optional_and_reads_checkboxes_and_booleans() {
        let login = |v: Value| {
            let data = Data::Json(v);
            let mut values = validate(&data, Login::FIELDS, |_| None).unwrap();
            values.push(optional_field(&data, "remember").unwrap());
            Login::from_fields(values).remember
        };
        let with = |r: Value| login(json!({"username": "a", "password": "b", "remember": r}));
        assert!(!login(json!({"username": "a", "password": "b"})));
        assert!(with(json!(true)) && with(json!("on")) && with(json!("true")) && with(json!(1)));
        assert!(
            !with(json!(false)) && !with(json!(null)) && !with(json!("")) && !with(json!("no"))
        );
        let data = Data::Json(json!({"remember": [true]}));
        assert_eq!(
            optional_field(&data, "remember").unwrap_err(),
            ApiError::Fields(vec![("remember", NOT_STRING)])
        );
    }

    #[test]
    fn a_missing_field_falls_back_but_a_present_one_does_not() {
        let from_cookie = |_: &str| Some("cookie-token".to_owned());
        let empty = Data::Form(Vec::new());
        assert_eq!(
            validate(&empty, &["refresh"], from_cookie).unwrap(),
            ["cookie-token"]
        );
        let blank = Data::Json(json!({"refresh": ""}));
        assert_eq!(
            validate(&blank, &["refresh"], from_cookie).unwrap_err(),
            ApiError::Fields(vec![("refresh", BLANK)])
        );
        let given = Data::Json(json!({"refresh": "body-token"}));
        assert_eq!(
            validate(&given, &["refresh"], from_cookie).unwrap(),
            ["body-token"]
        );
    }

    #[test]
    fn form_last_value_wins() {
        let data = Data::Form(vec![
            ("username".into(), "a".into()),
            ("username".into(), "b".into()),
        ]);
        assert_eq!(validate(&data, &["username"], |_| None).unwrap(), ["b"]);
    }

    #[test]
    fn numbers_print_like_python() {
        let n = |s: &str| py_number(&serde_json::from_str(s).unwrap());
        assert_eq!(n("1.0"), "1.0");
        assert_eq!(n("1e5"), "100000.0");
        assert_eq!(n("1e20"), "1e+20");
        assert_eq!(n("0.00001"), "1e-05");
        assert_eq!(n("123"), "123");
        assert_eq!(n("-7"), "-7");
    }
}
