//! The OpenAPI 3.1 document of the routes this server mounts (`GET
//! /api/schema/`, with `OPENAPI`) and Swagger UI over it ([`ui`], `GET
//! /api/docs/`).
//!
//! The document is generated from the code, never written by hand: its
//! paths and methods from the route table ([`super::Routes`]: exactly the
//! routes mounted under the current settings, this document's own
//! included), each request body from the fields its extractor reads
//! ([`DrfFields`]: required, optional, and which a cookie may supply with
//! `AUTH_COOKIE`), each answer from the type the handler serialises
//! (`utoipa::ToSchema` derived beside its `Serialize`), and every error
//! body from the structs [`super::response`] builds them with, described
//! once as components. A test (`tests/openapi.rs`) checks that the document
//! lists every mounted route and nothing else and that real answers
//! validate against it; `tests/schemathesis/run.sh` (CI) fuzzes the running
//! server from it.
//!
//! Cost: the document is built once, when the router is built, and served
//! from memory as bytes; no request path reads it.

pub mod ui;

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{
    AllOfBuilder, AnyOfBuilder, ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{
    ComponentsBuilder, Content, InfoBuilder, OpenApi, OpenApiBuilder, Paths, Ref, RefOr, Required,
    Response, ResponseBuilder,
};
use utoipa::ToSchema;

use super::body::{
    Credentials, DrfFields, Login, OAuthToken, PasswordChange, RefreshField, TokenField,
    VerifyField,
};
use super::oidc::{CodeBody, IdTokenBody, IdentityView};
use super::response::{
    Detail, DetailCode, DetailCodeMessages, Empty, NonFieldErrors, OAuthErrorBody, TokenMessage,
};
use super::routes::{Endpoint, OidcRoute, RouteKind};
use super::token_obtain::PairAnswer;
use super::{health, protected};
use crate::service::{Refreshed, SessionView, SlidingToken, TokenPair};
use crate::settings::Settings;

/// The name of the security scheme of authenticated routes.
const AUTH_SCHEME: &str = "jwt";

/// The media types every body-taking endpoint parses (as DRF's parsers).
const BODY_TYPES: [&str; 3] = [
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
];

const JSON: &str = "application/json";

/// The error answers, described once (`components.responses`): status,
/// name, description, schema name, whether it carries `Retry-After`.
const ERRORS: [(&str, &str, &str, &str, bool); 12] = [
    (
        "400",
        "BadRequest",
        "The body is invalid: DRF's field errors (`{\"field\": [\"This field is required.\"]}`, \
         `{\"non_field_errors\": [...]}`) or a parse error (`{\"detail\": \"JSON parse error - ...\"}`).",
        "ValidationError",
        false,
    ),
    (
        "400",
        "OAuthBadRequest",
        "RFC 6749 §5.2 `{\"error\": \"invalid_request\"}` (no `token`) or \
         `{\"error\": \"unsupported_token_type\"}`; or a body that cannot be read.",
        "OAuthValidationError",
        false,
    ),
    (
        "401",
        "Unauthorized",
        "Not authenticated, or the token or credentials are not valid: `{\"detail\"}`, \
         with `code` (`token_not_valid`, ...) and, for a bearer token, `messages` per token class. \
         Carries `WWW-Authenticate`.",
        "Error",
        false,
    ),
    (
        "403",
        "Forbidden",
        "Not allowed (`{\"detail\"}`): a cookie-authenticated request that failed the CSRF check, \
         or a caller without the permission.",
        "Detail",
        false,
    ),
    (
        "404",
        "NotFound",
        "No such resource: `{\"detail\": \"Not found.\"}` (with `code` for social login).",
        "Error",
        false,
    ),
    (
        "406",
        "NotAcceptable",
        "`Accept` excludes JSON.",
        "Detail",
        false,
    ),
    (
        "408",
        "RequestTimeout",
        "`SIMPLEJWT_REQUEST_TIMEOUT` passed before the answer was ready.",
        "Detail",
        false,
    ),
    (
        "409",
        "Conflict",
        "The identity or account is in the way (`{\"detail\", \"code\"}`).",
        "DetailCode",
        false,
    ),
    (
        "413",
        "PayloadTooLarge",
        "The body is over the server's limit.",
        "Detail",
        false,
    ),
    (
        "415",
        "UnsupportedMediaType",
        "No parser for the body's `Content-Type`.",
        "Detail",
        false,
    ),
    (
        "429",
        "Throttled",
        "`LOGIN_THROTTLE`: too many failed logins; `Retry-After` says when to try again.",
        "DetailCode",
        true,
    ),
    (
        "503",
        "Unavailable",
        "The database, the password hashing queue or an identity provider cannot answer now; \
         try again after `Retry-After`.",
        "DetailCode",
        true,
    ),
];

/// The OpenAPI 3.1 document of `mounted` (path templates as axum writes
/// them, which are OpenAPI's) under `settings`; `timeout`: every route has
/// a deadline (`SIMPLEJWT_REQUEST_TIMEOUT`, answered 408).
pub fn document<'a>(
    settings: &Settings,
    timeout: bool,
    mounted: impl IntoIterator<Item = (&'a str, RouteKind)>,
) -> OpenApi {
    let mut paths = Paths::new();
    for (path, kind) in mounted {
        for (method, op) in operations(settings, path, kind) {
            let mut op = with_id(op, &method, path);
            if timeout {
                op.responses.responses.insert(
                    "408".to_owned(),
                    RefOr::Ref(Ref::from_response_name("RequestTimeout")),
                );
            }
            paths.add_path_operation(path, vec![method], op);
        }
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("simplejwt")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "JSON Web Token access/refresh authentication, wire-compatible with \
                     djangorestframework-simplejwt 5.5.1. Generated from the routes this \
                     server mounts with its current settings.",
                ))
                .build(),
        )
        .paths(paths)
        .components(Some(components(settings)))
        .build()
}

/// The document as JSON bytes.
pub fn document_json<'a>(
    settings: &Settings,
    timeout: bool,
    mounted: impl IntoIterator<Item = (&'a str, RouteKind)>,
) -> Vec<u8> {
    serde_json::to_vec(&document(settings, timeout, mounted)).unwrap_or_else(|_| b"{}".to_vec())
}

/// `operationId`: the method and the path, e.g. `post_api_token_refresh`.
fn with_id(mut op: Operation, method: &HttpMethod, path: &str) -> Operation {
    let method = match method {
        HttpMethod::Get => "get",
        HttpMethod::Post => "post",
        HttpMethod::Put => "put",
        HttpMethod::Delete => "delete",
        HttpMethod::Options => "options",
        HttpMethod::Head => "head",
        HttpMethod::Patch => "patch",
        HttpMethod::Trace => "trace",
    }
    .to_owned();
    let slug: String = path
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let slug = slug
        .split('_')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    op.operation_id = Some(if slug.is_empty() {
        method
    } else {
        format!("{method}_{slug}")
    });
    op
}

fn schema_ref(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

/// The components: every schema and the error answers.
fn components(settings: &Settings) -> utoipa::openapi::Components {
    let mut schemas: Vec<(String, RefOr<Schema>)> = Vec::new();
    derived::<PairAnswer>(&mut schemas);
    derived::<Refreshed>(&mut schemas);
    derived::<SlidingToken>(&mut schemas);
    derived::<TokenPair>(&mut schemas);
    derived::<Empty>(&mut schemas);
    derived::<protected::Welcome>(&mut schemas);
    derived::<health::Status>(&mut schemas);
    derived::<SessionView>(&mut schemas);
    derived::<IdentityView>(&mut schemas);
    derived::<Detail>(&mut schemas);
    derived::<DetailCode>(&mut schemas);
    derived::<DetailCodeMessages>(&mut schemas);
    derived::<TokenMessage>(&mut schemas);
    derived::<NonFieldErrors>(&mut schemas);
    derived::<OAuthErrorBody>(&mut schemas);
    let cookies = settings.auth_cookie();
    schemas.extend([
        body::<Login>("Login", cookies, &[]),
        body::<Credentials>("Credentials", cookies, &[]),
        body::<RefreshField>("RefreshField", cookies, &[]),
        body::<TokenField>("TokenField", cookies, &[]),
        body::<VerifyField>("VerifyField", cookies, &[]),
        // The RFCs require `token`; the handlers answer its absence
        // (`invalid_request`), not the extractor.
        body::<OAuthToken>("OAuthToken", cookies, &["token"]),
        body::<PasswordChange>("PasswordChange", cookies, &[]),
        body::<IdTokenBody>("IdTokenBody", cookies, &[]),
        body::<CodeBody>("CodeBody", cookies, &[]),
    ]);
    let any_of = |names: &[&str], description: &str| -> RefOr<Schema> {
        let mut b = AnyOfBuilder::new().description(Some(description));
        for name in names {
            b = b.item(schema_ref(name));
        }
        RefOr::T(Schema::AnyOf(b.build()))
    };
    let field_errors = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(
            "DRF's validation errors: each field (or `non_field_errors`) with its messages.",
        ))
        .additional_properties(Some(
            ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String)),
        ))
        .build();
    schemas.extend([
        (
            "FieldErrors".to_owned(),
            RefOr::T(Schema::Object(field_errors)),
        ),
        (
            "ValidationError".to_owned(),
            any_of(
                &["FieldErrors", "Detail"],
                "A field error or a parse error.",
            ),
        ),
        (
            "OAuthValidationError".to_owned(),
            any_of(
                &["OAuthErrorBody", "FieldErrors", "Detail"],
                "An OAuth error, a field error or a parse error.",
            ),
        ),
        (
            "Error".to_owned(),
            any_of(
                &["Detail", "DetailCode", "DetailCodeMessages"],
                "simplejwt's error body: `detail`, with `code` and `messages` where it has them.",
            ),
        ),
        ("ViewMetadata".to_owned(), view_metadata()),
        ("Introspection".to_owned(), introspection()),
        ("Jwks".to_owned(), jwks()),
    ]);
    let mut b = ComponentsBuilder::new().schemas_from_iter(schemas);
    for (status, name, description, schema, retry) in ERRORS {
        let mut r = ResponseBuilder::new()
            .description(description)
            .content(JSON, Content::new(Some(schema_ref(schema))));
        if retry {
            r = r.header("Retry-After", header("Seconds to wait.", Type::Integer));
        }
        if status == "401" {
            r = r.header(
                "WWW-Authenticate",
                header(
                    "The challenge: `<AUTH_HEADER_TYPES[0]> realm=\"api\"`.",
                    Type::String,
                ),
            );
        }
        b = b.response(name, r.build());
    }
    b.security_scheme(AUTH_SCHEME, security_scheme(settings))
        .build()
}

fn header(description: &str, ty: Type) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(ty))
        .description(Some(description))
        .build()
}

/// `T`'s derived schema and those it refers to.
fn derived<T: ToSchema>(out: &mut Vec<(String, RefOr<Schema>)>) {
    out.push((T::name().into_owned(), T::schema()));
    T::schemas(out);
}

/// Python's `str.strip()` whitespace (`http::body`), and NUL, which DRF refuses.
const NOT_BLANK: &str = "^[^\\u0000]*[^\\u0000\\t\\n\\u000b\\f\\r \\u001c-\\u001f\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$";

/// A request body from its extractor's fields: each required field a DRF
/// `CharField` (a string that is not blank once trimmed and has no NUL, or
/// a number), optional ones anything but a list or an object. With
/// `AUTH_COOKIE`, a field a cookie can supply is not required. `required`
/// names optional fields that the handler requires (as a `CharField`).
fn body<T: DrfFields>(name: &str, cookies: bool, required: &[&str]) -> (String, RefOr<Schema>) {
    let char_field = || {
        AnyOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(NOT_BLANK)),
            )
            .item(ObjectBuilder::new().schema_type(Type::Number))
    };
    let mut o = ObjectBuilder::new().schema_type(Type::Object);
    for field in T::FIELDS {
        o = o.property(*field, char_field());
        let from_cookie = cookies && T::COOKIES.iter().any(|(f, _)| f == field);
        if !from_cookie {
            o = o.required(*field);
        }
    }
    // An optional field also takes a JSON boolean (as `"true"` / `"false"`).
    let boolean = || ObjectBuilder::new().schema_type(Type::Boolean);
    for field in T::OPTIONAL.iter().filter(|f| required.contains(f)) {
        o = o
            .property(*field, char_field().item(boolean()))
            .required(*field);
    }
    for field in T::OPTIONAL.iter().filter(|f| !required.contains(f)) {
        o = o.property(
            *field,
            ObjectBuilder::new().schema_type(SchemaType::Array(vec![
                Type::String,
                Type::Number,
                Type::Boolean,
                Type::Null,
            ])),
        );
    }
    (name.to_owned(), RefOr::T(Schema::Object(o.build())))
}

/// DRF's `SimpleMetadata` (`OPTIONS`, [`super::metadata`]).
fn view_metadata() -> RefOr<Schema> {
    let string = || ObjectBuilder::new().schema_type(Type::String);
    let strings = || ArrayBuilder::new().items(string());
    let field = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("type", string())
        .property("required", ObjectBuilder::new().schema_type(Type::Boolean))
        .property("read_only", ObjectBuilder::new().schema_type(Type::Boolean))
        .property("label", string())
        .required("type")
        .required("required")
        .required("read_only")
        .required("label");
    let actions = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property(
            "POST",
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .additional_properties(Some(field)),
        )
        .required("POST");
    let o = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some("The view's description, as DRF's `SimpleMetadata`."))
        .property("name", string())
        .property("description", string())
        .property("renders", strings())
        .property("parses", strings())
        .property("actions", actions)
        .required("name")
        .required("description")
        .required("renders")
        .required("parses");
    RefOr::T(Schema::Object(o.build()))
}

/// RFC 7662 §2.2: `{"active": false}`, or `true` and the token's members.
fn introspection() -> RefOr<Schema> {
    let o = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(
            "RFC 7662 §2.2: `active`, and for an active token its members \
             (`token_type`, `exp`, `iat`, `jti`, `sub`, `username`, ...).",
        ))
        .property("active", ObjectBuilder::new().schema_type(Type::Boolean))
        .required("active");
    RefOr::T(Schema::Object(o.build()))
}

/// RFC 7517 §5: a JWK set.
fn jwks() -> RefOr<Schema> {
    let o = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(
            "RFC 7517 JWK set: the public keys that verify this server's tokens \
             (empty with an HMAC algorithm).",
        ))
        .property(
            "keys",
            ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::Object)),
        )
        .required("keys");
    RefOr::T(Schema::Object(o.build()))
}

/// How authenticated routes take their token: `Authorization: Bearer` by
/// default, else the configured header and type.
fn security_scheme(settings: &Settings) -> SecurityScheme {
    let types = settings.auth_header_types().join(", ");
    let header = settings.auth_header_name();
    if header == "authorization" && settings.auth_header_types().iter().any(|t| t == "Bearer") {
        let mut http = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT");
        if settings.auth_cookie() {
            http = http.description(Some(
                "An access token; with `AUTH_COOKIE`, the access cookie instead.",
            ));
        }
        SecurityScheme::Http(http.build())
    } else {
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            header.to_owned(),
            format!("`<type> <access token>`, the type one of: {types}."),
        )))
    }
}

/// One operation under construction.
struct Op(OperationBuilder);

impl Op {
    fn new(tag: &str, summary: &str, description: &str) -> Self {
        Op(OperationBuilder::new()
            .tag(tag)
            .summary(Some(summary))
            .description((!description.is_empty()).then_some(description)))
    }

    /// A JSON answer of schema `name`.
    fn ok(self, status: &str, description: &str, name: &str) -> Self {
        self.answer(status, description, JSON, schema_ref(name))
    }

    fn answer(self, status: &str, description: &str, media: &str, schema: RefOr<Schema>) -> Self {
        let r = ResponseBuilder::new()
            .description(description)
            .content(media, Content::new(Some(schema)))
            .build();
        Op(self.0.response(status, r))
    }

    /// An answer without a body (and its headers).
    fn empty(self, status: &str, description: &str, headers: &[&str]) -> Self {
        let mut r = ResponseBuilder::new().description(description);
        for name in headers {
            r = r.header(*name, header(name, Type::String));
        }
        Op(self.0.response(status, r.build()))
    }

    /// The error answers named, from [`ERRORS`].
    fn errors(mut self, names: &[&str]) -> Self {
        for name in names {
            if let Some((status, ..)) = ERRORS.iter().find(|e| e.1 == *name) {
                let r: RefOr<Response> = RefOr::Ref(Ref::from_response_name(*name));
                self = Op(self.0.response(*status, r));
            }
        }
        self
    }

    /// A body of schema `name`, in every media type the parsers take. A
    /// multipart part's name is in a header, which cannot hold control
    /// characters (a part named so is a parse error, 400).
    fn body(self, name: &str) -> Self {
        let mut b = RequestBodyBuilder::new().required(Some(Required::True));
        for media in BODY_TYPES {
            let schema = if media == "multipart/form-data" {
                let names = ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^[^\\u0000-\\u0008\\u000a-\\u001f\\u007f]*$"));
                let header_safe = ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .property_names(Some(names));
                AllOfBuilder::new()
                    .item(schema_ref(name))
                    .item(header_safe)
                    .into()
            } else {
                schema_ref(name)
            };
            b = b.content(media, Content::new(Some(schema)));
        }
        Op(self.0.request_body(Some(b.build())))
    }

    fn authenticated(self) -> Self {
        Op(self
            .0
            .security(SecurityRequirement::new(AUTH_SCHEME, Vec::<String>::new())))
    }

    fn path_param(self, name: &str, description: &str) -> Self {
        self.param(name, description, ParameterIn::Path, None)
    }

    fn query(self, name: &str, description: &str, values: Option<&[&str]>) -> Self {
        self.param(name, description, ParameterIn::Query, values)
    }

    fn param(
        self,
        name: &str,
        description: &str,
        at: ParameterIn,
        values: Option<&[&str]>,
    ) -> Self {
        let mut schema = ObjectBuilder::new().schema_type(Type::String);
        if let Some(values) = values {
            schema = schema.enum_values(Some(values.iter().copied()));
        }
        let required = if matches!(at, ParameterIn::Path) {
            Required::True
        } else {
            Required::False
        };
        let p = ParameterBuilder::new()
            .name(name)
            .parameter_in(at)
            .required(required)
            .description(Some(description))
            .schema(Some(schema))
            .build();
        Op(self.0.parameter(p))
    }

    fn build(self) -> Operation {
        self.0.build()
    }
}

/// The errors of every endpoint that reads a body.
const BODY_ERRORS: [&str; 3] = ["BadRequest", "PayloadTooLarge", "UnsupportedMediaType"];

/// The methods and operations of one mounted route.
fn operations(settings: &Settings, path: &str, kind: RouteKind) -> Vec<(HttpMethod, Operation)> {
    let csrf = settings.auth_cookie();
    // Unsafe requests of a browser session pass the CSRF check (403).
    let guarded = |op: Op| if csrf { op.errors(&["Forbidden"]) } else { op };
    let options = |tag: &str, name: &str, auth: bool| {
        let op = Op::new(
            tag,
            name,
            "DRF's `OPTIONS` answer: the view's description and fields.",
        )
        .ok("200", "The view's metadata.", "ViewMetadata")
        .errors(&["NotAcceptable"]);
        let op = if auth {
            op.authenticated().errors(&["Unauthorized", "Unavailable"])
        } else {
            op
        };
        (HttpMethod::Options, op.build())
    };
    match kind {
        RouteKind::Token(endpoint) => {
            let doc = endpoint.doc();
            let tag = "token";
            let op = Op::new(tag, doc.name, doc.description).errors(&["NotAcceptable"]);
            let op = match endpoint {
                Endpoint::Obtain | Endpoint::ObtainSliding => {
                    let (body, answer) = if endpoint == Endpoint::Obtain {
                        ("Login", "PairAnswer")
                    } else {
                        ("Credentials", "SlidingToken")
                    };
                    let op = op
                        .body(body)
                        .ok("200", "Logged in.", answer)
                        .errors(&BODY_ERRORS)
                        .errors(&["Unauthorized", "Unavailable"]);
                    let op = if settings.login_throttle() {
                        op.errors(&["Throttled"])
                    } else {
                        op
                    };
                    guarded(op)
                }
                Endpoint::Revoke => guarded(
                    op.body("OAuthToken")
                        .empty(
                            "200",
                            "Revoked, or not a token of ours (RFC 7009 §2.2).",
                            &[],
                        )
                        .errors(&["OAuthBadRequest", "PayloadTooLarge", "UnsupportedMediaType"])
                        .errors(&["Unavailable"]),
                ),
                Endpoint::Introspect => guarded(
                    op.body("OAuthToken")
                        .authenticated()
                        .ok("200", "The token's state.", "Introspection")
                        .errors(&["OAuthBadRequest", "PayloadTooLarge", "UnsupportedMediaType"])
                        .errors(&["Unauthorized", "Forbidden", "Unavailable"]),
                ),
                _ => {
                    let (body, answer, what) = match endpoint {
                        Endpoint::Refresh => ("RefreshField", "Refreshed", "The new token(s)."),
                        Endpoint::RefreshSliding => {
                            ("TokenField", "SlidingToken", "The token, slid.")
                        }
                        Endpoint::Verify => ("VerifyField", "Empty", "The token is valid."),
                        Endpoint::Blacklist => ("RefreshField", "Empty", "Blacklisted."),
                        _ => ("RefreshField", "Empty", "Logged out."),
                    };
                    let op = if endpoint == Endpoint::Logout {
                        op.query(
                            "scope",
                            "Which sessions end: this token's (`local`, the default), \
                             the user's others, or all of them.",
                            Some(&["local", "others", "global"]),
                        )
                    } else {
                        op
                    };
                    guarded(
                        op.body(body)
                            .ok("200", what, answer)
                            .errors(&BODY_ERRORS)
                            .errors(&["Unauthorized", "Unavailable"]),
                    )
                }
            };
            vec![
                (HttpMethod::Post, op.build()),
                options(tag, doc.name, false),
            ]
        }
        RouteKind::Protected => vec![
            (
                HttpMethod::Get,
                Op::new(
                    "account",
                    protected::DOC.name,
                    "A welcome for the authenticated user.",
                )
                .authenticated()
                .ok("200", "Authenticated.", "Welcome")
                .errors(&["Unauthorized", "NotAcceptable", "Unavailable"])
                .build(),
            ),
            options("account", protected::DOC.name, true),
        ],
        RouteKind::PasswordChange => {
            let doc = &super::password_change::DOC;
            let op = Op::new("account", doc.name, doc.description)
                .authenticated()
                .body("PasswordChange")
                .ok(
                    "200",
                    "Changed: a fresh pair in a new session.",
                    "TokenPair",
                )
                .errors(&BODY_ERRORS)
                .errors(&["Unauthorized", "NotAcceptable", "Unavailable"]);
            vec![
                (HttpMethod::Post, guarded(op).build()),
                options("account", doc.name, true),
            ]
        }
        RouteKind::Jwks => vec![(
            HttpMethod::Get,
            Op::new(
                "keys",
                "JWKS",
                "The public keys that verify this server's tokens.",
            )
            .ok("200", "The JWK set.", "Jwks")
            .errors(&["NotAcceptable"])
            .build(),
        )],
        RouteKind::SessionList => vec![(
            HttpMethod::Get,
            Op::new(
                "account",
                "Sessions",
                "The caller's live sessions, oldest first.",
            )
            .authenticated()
            .answer(
                "200",
                "The sessions.",
                JSON,
                RefOr::T(Schema::Array(
                    ArrayBuilder::new().items(schema_ref("SessionView")).build(),
                )),
            )
            .errors(&["Unauthorized", "NotAcceptable", "Unavailable"])
            .build(),
        )],
        RouteKind::Session => vec![(
            HttpMethod::Delete,
            guarded(
                Op::new(
                    "account",
                    "End a session",
                    "Ends one of the caller's sessions.",
                )
                .authenticated()
                .path_param("id", "The session's id, as listed.")
                .empty("204", "Ended.", &[])
                .errors(&[
                    "Unauthorized",
                    "NotFound",
                    "NotAcceptable",
                    "Unavailable",
                ]),
            )
            .build(),
        )],
        RouteKind::Healthz => vec![(
            HttpMethod::Get,
            Op::new("operations", "Liveness", "The process is up.")
                .ok("200", "Up.", "Status")
                .errors(&["NotAcceptable"])
                .build(),
        )],
        RouteKind::Readyz => vec![(
            HttpMethod::Get,
            Op::new(
                "operations",
                "Readiness",
                "The database answers and its schema is current.",
            )
            .ok("200", "Ready.", "Status")
            .errors(&["NotAcceptable", "Unavailable"])
            .build(),
        )],
        RouteKind::Metrics => vec![(
            HttpMethod::Get,
            Op::new("operations", "Metrics", "Prometheus text exposition.")
                .answer(
                    "200",
                    "The metrics.",
                    "text/plain",
                    ObjectBuilder::new().schema_type(Type::String).into(),
                )
                .build(),
        )],
        RouteKind::Page | RouteKind::Docs => {
            let (tag, summary) = if kind == RouteKind::Page {
                ("page", "The example page (`AUTH_COOKIE`)")
            } else {
                ("documentation", "Swagger UI")
            };
            let media = ui::content_type(path);
            let media = media.split(';').next().unwrap_or(media);
            vec![(
                HttpMethod::Get,
                Op::new(tag, summary, path)
                    .answer(
                        "200",
                        "The file.",
                        media,
                        ObjectBuilder::new().schema_type(Type::String).into(),
                    )
                    .build(),
            )]
        }
        RouteKind::Schema => vec![(
            HttpMethod::Get,
            Op::new("documentation", "OpenAPI document", "This document.")
                .answer(
                    "200",
                    "The OpenAPI 3.1 document.",
                    JSON,
                    ObjectBuilder::new().schema_type(Type::Object).into(),
                )
                .build(),
        )],
        RouteKind::Oidc(route) => oidc_operation(route, guarded),
    }
}

/// Social login's routes ([`super::oidc`]).
fn oidc_operation(route: OidcRoute, guarded: impl Fn(Op) -> Op) -> Vec<(HttpMethod, Operation)> {
    let tag = "oidc";
    let provider = |op: Op| op.path_param("provider", "A configured provider's name.");
    let social = ["NotFound", "Conflict", "Unavailable", "NotAcceptable"];
    let (method, op) = match route {
        OidcRoute::Token => (
            HttpMethod::Post,
            guarded(
                provider(Op::new(
                    tag,
                    "Sign in with an ID token",
                    "The pair for an ID token of the provider.",
                ))
                .body("IdTokenBody")
                .ok("200", "Signed in.", "PairAnswer")
                .errors(&BODY_ERRORS)
                .errors(&["Unauthorized"])
                .errors(&social),
            ),
        ),
        OidcRoute::Exchange => (
            HttpMethod::Post,
            guarded(
                Op::new(
                    tag,
                    "Exchange a sign-in code",
                    "The browser flow's one-time code for the pair.",
                )
                .body("CodeBody")
                .ok("200", "Signed in.", "PairAnswer")
                .errors(&BODY_ERRORS)
                .errors(&["Unauthorized"])
                .errors(&social),
            ),
        ),
        OidcRoute::Start => (
            HttpMethod::Get,
            provider(Op::new(
                tag,
                "Start a browser sign-in",
                "Redirects to the provider.",
            ))
            .query("redirect_uri", "Where the browser goes at the end.", None)
            .query("login_hint", "Passed on to the provider.", None)
            .empty("302", "To the provider.", &["Location", "Set-Cookie"])
            .errors(&["BadRequest"])
            .errors(&social),
        ),
        OidcRoute::Callback => (
            HttpMethod::Get,
            provider(Op::new(
                tag,
                "Browser sign-in callback",
                "The provider's redirect back.",
            ))
            .query("code", "The authorization code.", None)
            .query("state", "The state sent.", None)
            .query("error", "The provider's error.", None)
            .query("iss", "The provider's issuer (RFC 9207).", None)
            .empty("303", "To the allowed page.", &["Location", "Set-Cookie"])
            .errors(&["BadRequest", "Unauthorized"])
            .errors(&social),
        ),
        OidcRoute::Link => (
            HttpMethod::Post,
            guarded(
                provider(Op::new(
                    tag,
                    "Link an identity",
                    "Links an ID token's identity to the caller.",
                ))
                .authenticated()
                .body("IdTokenBody")
                .ok("201", "Linked.", "IdentityView")
                .errors(&BODY_ERRORS)
                .errors(&["Unauthorized"])
                .errors(&social),
            ),
        ),
        OidcRoute::Identities => (
            HttpMethod::Get,
            Op::new(tag, "Linked identities", "The caller's linked identities.")
                .authenticated()
                .answer(
                    "200",
                    "The identities.",
                    JSON,
                    RefOr::T(Schema::Array(
                        ArrayBuilder::new()
                            .items(schema_ref("IdentityView"))
                            .build(),
                    )),
                )
                .errors(&["Unauthorized", "NotAcceptable", "Unavailable"]),
        ),
        OidcRoute::Unlink => (
            HttpMethod::Delete,
            guarded(
                Op::new(tag, "Unlink an identity", "Never the last way to sign in.")
                    .authenticated()
                    .path_param("id", "The identity's id, as listed.")
                    .empty("204", "Unlinked.", &[])
                    .errors(&["Unauthorized"])
                    .errors(&social),
            ),
        ),
    };
    vec![(method, op.build())]
}
