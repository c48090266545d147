//! The document's components: the schemas of request bodies, answers and
//! error bodies (each described once and referenced), the response headers,
//! and the bearer security scheme.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::schema::{
    AnyOfBuilder, ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, Content, Ref, RefOr, ResponseBuilder};
use utoipa::ToSchema;

use super::{AUTH_SCHEME, ERRORS, JSON};

use crate::http::body::{
    Credentials, DrfFields, Login, OAuthToken, PasswordChange, RefreshField, TokenField,
    VerifyField,
};
use crate::http::oidc::{CodeBody, IdTokenBody, IdentityView};
use crate::http::response::{
    Detail, DetailCode, DetailCodeMessages, Empty, NonFieldErrors, OAuthErrorBody, TokenMessage,
};
use crate::http::token_obtain::PairAnswer;
use crate::http::{health, protected};
use crate::service::{Refreshed, SessionView, SlidingToken, TokenPair};
use crate::settings::Settings;

pub(super) fn schema_ref(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

/// The components: every schema and the error answers.
pub(super) fn components(settings: &Settings) -> utoipa::openapi::Components {
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

pub(super) fn header(description: &str, ty: Type) -> utoipa::openapi::header::Header {
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

/// DRF's `SimpleMetadata` (`OPTIONS`, [`crate::http::metadata`]).
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
