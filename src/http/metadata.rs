//! `OPTIONS` answers: Django REST framework's `SimpleMetadata` for each view,
//! byte for byte. Each endpoint declares its document as typed data
//! ([`ViewDoc`]) beside its handler; this module renders it.

use axum::response::{IntoResponse, Response};
use serde::ser::{Serialize, SerializeMap, Serializer};

/// What DRF's `SimpleMetadata` says about a view.
#[derive(Debug, Clone, Copy)]
pub struct ViewDoc {
    /// The view's name (`"Token Obtain Pair"`).
    pub name: &'static str,
    /// The view's docstring, as DRF formats it.
    pub description: &'static str,
    /// The serializer's fields, for `actions.POST`; `None` for a view
    /// without a serializer (no `actions`).
    pub post_fields: Option<&'static [FieldDoc]>,
}

/// One serializer field in `actions.POST`.
#[derive(Debug, Clone, Copy)]
pub struct FieldDoc {
    /// The field name.
    pub name: &'static str,
    /// Its label (`"Username"`).
    pub label: &'static str,
    /// Read-only fields are answers (`access`), not inputs.
    pub read_only: bool,
}

impl FieldDoc {
    /// A required input field (a `CharField`).
    pub const fn input(name: &'static str, label: &'static str) -> Self {
        Self {
            name,
            label,
            read_only: false,
        }
    }

    /// A read-only answer field.
    pub const fn output(name: &'static str, label: &'static str) -> Self {
        Self {
            name,
            label,
            read_only: true,
        }
    }
}

const RENDERS: [&str; 2] = ["application/json", "text/html"];
const PARSES: [&str; 3] = [
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
];

struct Fields(&'static [FieldDoc]);
struct Field<'a>(&'a FieldDoc);
struct Actions(&'static [FieldDoc]);

impl Serialize for Field<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("type", "string")?;
        m.serialize_entry("required", &!self.0.read_only)?;
        m.serialize_entry("read_only", &self.0.read_only)?;
        m.serialize_entry("label", self.0.label)?;
        m.end()
    }
}

impl Serialize for Fields {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for f in self.0 {
            m.serialize_entry(f.name, &Field(f))?;
        }
        m.end()
    }
}

impl Serialize for Actions {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("POST", &Fields(self.0))?;
        m.end()
    }
}

impl Serialize for ViewDoc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("name", self.name)?;
        m.serialize_entry("description", self.description)?;
        m.serialize_entry("renders", &RENDERS)?;
        m.serialize_entry("parses", &PARSES)?;
        if let Some(fields) = self.post_fields {
            m.serialize_entry("actions", &Actions(fields))?;
        }
        m.end()
    }
}

impl IntoResponse for &'static ViewDoc {
    fn into_response(self) -> Response {
        super::response::JsonAnswer(self).into_response()
    }
}
