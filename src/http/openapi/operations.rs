//! The document's operations: one per mounted route and method, with its
//! request body, answers and errors, built from the route table's kinds.

use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{AllOfBuilder, ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{Content, Ref, RefOr, Required, Response, ResponseBuilder};

use super::components::{header, schema_ref};
use super::{ui, AUTH_SCHEME, BODY_TYPES, ERRORS, JSON};
use crate::http::protected;
use crate::http::routes::{Endpoint, OidcRoute, RouteKind};
use crate::settings::Settings;

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
pub(super) fn operations(
    settings: &Settings,
    path: &str,
    kind: RouteKind,
) -> Vec<(HttpMethod, Operation)> {
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
            let doc = &crate::http::password_change::DOC;
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

/// Social login's routes ([`crate::http::oidc`]).
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
