//! Flags, claim and header names, free text, keys, lists and counts.

use super::{list, Kind, Secret};

/// `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`).
#[derive(Debug)]
pub enum Flag {}
impl Kind for Flag {
    type Value = bool;
    type Ref<'a> = bool;
    const FORM: &'static str = "true or false";
    fn parse(raw: &str) -> Result<bool, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err(format!("{raw:?} is not a boolean (true or false)")),
        }
    }
    fn show(v: &bool) -> String {
        v.to_string()
    }
    fn get(v: &bool) -> bool {
        *v
    }
}

/// The name of a claim: not empty, no surrounding whitespace.
#[derive(Debug)]
pub enum ClaimName {}
impl Kind for ClaimName {
    type Value = String;
    type Ref<'a> = &'a str;
    const FORM: &'static str = "claim name";
    fn parse(raw: &str) -> Result<String, String> {
        let v = raw.trim().to_owned();
        Self::check(&v)?;
        Ok(v)
    }
    fn check(v: &String) -> Result<(), String> {
        if v.trim().is_empty() {
            return Err("must not be empty".into());
        }
        if v.trim() != v {
            return Err(format!("{v:?} has surrounding whitespace"));
        }
        if v == "None" {
            return Err("cannot be None".into());
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

/// A claim name that an explicit `None` turns off. Empty text is refused: a
/// broken template must not silently switch a check off.
#[derive(Debug)]
pub enum OptionalClaimName {}
impl Kind for OptionalClaimName {
    type Value = Option<String>;
    type Ref<'a> = Option<&'a str>;
    const FORM: &'static str = "claim name, or None to turn it off";
    fn parse(raw: &str) -> Result<Option<String>, String> {
        match raw.trim() {
            "" => Err("must not be empty (write None to turn it off)".into()),
            "None" => Ok(None),
            v => Ok(Some(v.to_owned())),
        }
    }
    fn check(v: &Option<String>) -> Result<(), String> {
        match v {
            Some(name) if name.trim().is_empty() => {
                Err("must not be empty (write None to turn it off)".into())
            }
            Some(name) => ClaimName::check(name),
            None => Ok(()),
        }
    }
    fn show(v: &Option<String>) -> String {
        v.clone().unwrap_or_else(|| "None".into())
    }
    fn get(v: &Option<String>) -> Option<&str> {
        v.as_deref()
    }
}

/// Free text that may be absent (`None` or empty).
#[derive(Debug)]
pub enum OptionalText {}
impl Kind for OptionalText {
    type Value = Option<String>;
    type Ref<'a> = Option<&'a str>;
    const FORM: &'static str = "text, or None";
    fn parse(raw: &str) -> Result<Option<String>, String> {
        match raw.trim() {
            "" | "None" => Ok(None),
            _ => Ok(Some(raw.to_owned())),
        }
    }
    fn show(v: &Option<String>) -> String {
        v.clone().unwrap_or_else(|| "None".into())
    }
    fn get(v: &Option<String>) -> Option<&str> {
        v.as_deref()
    }
}

/// Free text that must be present.
#[derive(Debug)]
pub enum Text {}
impl Kind for Text {
    type Value = String;
    type Ref<'a> = &'a str;
    const FORM: &'static str = "text";
    fn parse(raw: &str) -> Result<String, String> {
        let v = raw.trim().to_owned();
        Self::check(&v)?;
        Ok(v)
    }
    fn check(v: &String) -> Result<(), String> {
        if v.trim().is_empty() {
            return Err("must not be empty".into());
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

/// A public key PEM, or None; shown by size only (it is long, not secret).
#[derive(Debug)]
pub enum PublicKey {}
impl Kind for PublicKey {
    type Value = Option<String>;
    type Ref<'a> = Option<&'a str>;
    const FORM: &'static str = "PEM text, or None";
    fn parse(raw: &str) -> Result<Option<String>, String> {
        OptionalText::parse(raw)
    }
    fn show(v: &Option<String>) -> String {
        match v {
            Some(k) => format!("<public key, {} bytes>", k.len()),
            None => "None".into(),
        }
    }
    fn get(v: &Option<String>) -> Option<&str> {
        v.as_deref()
    }
}

/// A comma-separated list (TOML arrays are joined with commas first); empty
/// or `None` is no list.
#[derive(Debug)]
pub enum OptionalList {}
impl Kind for OptionalList {
    type Value = Option<Vec<String>>;
    type Ref<'a> = Option<&'a [String]>;
    const FORM: &'static str = "comma-separated list, or None";
    fn parse(raw: &str) -> Result<Option<Vec<String>>, String> {
        if raw.trim() == "None" {
            return Ok(None);
        }
        let items = list(raw);
        Ok((!items.is_empty()).then_some(items))
    }
    fn check(v: &Option<Vec<String>>) -> Result<(), String> {
        match v {
            Some(items) if items.is_empty() => Err("is an empty list (use None)".into()),
            Some(items) if items.iter().any(|i| i.trim().is_empty()) => {
                Err("has an empty item".into())
            }
            _ => Ok(()),
        }
    }
    fn show(v: &Option<Vec<String>>) -> String {
        v.as_ref().map_or("None".into(), |a| a.join(","))
    }
    fn get(v: &Option<Vec<String>>) -> Option<&[String]> {
        v.as_deref()
    }
}

/// `AUTH_HEADER_TYPES`: at least one, each printable ASCII without spaces.
#[derive(Debug)]
pub enum HeaderTypes {}
impl Kind for HeaderTypes {
    type Value = Vec<String>;
    type Ref<'a> = &'a [String];
    const FORM: &'static str = "comma-separated list, at least one";
    fn parse(raw: &str) -> Result<Vec<String>, String> {
        let items = list(raw);
        Self::check(&items)?;
        Ok(items)
    }
    fn check(items: &Vec<String>) -> Result<(), String> {
        if items.is_empty() {
            return Err("needs at least one header type, e.g. Bearer".into());
        }
        if let Some(bad) = items
            .iter()
            .find(|t| t.is_empty() || !t.bytes().all(|b| b.is_ascii_graphic() && b != b'"'))
        {
            return Err(format!("{bad:?} is not a valid header type"));
        }
        Ok(())
    }
    fn show(v: &Vec<String>) -> String {
        v.join(",")
    }
    fn get(v: &Vec<String>) -> &[String] {
        v
    }
}

/// `AUTH_HEADER_NAME`: Django's `HTTP_X_ACCESS_TOKEN` form or a plain header
/// name (`X-Access-Token`), kept as the lower-case header name.
#[derive(Debug)]
pub enum HeaderName {}
impl Kind for HeaderName {
    type Value = String;
    type Ref<'a> = &'a str;
    const FORM: &'static str = "header name (HTTP_X_NAME or X-Name)";
    fn parse(raw: &str) -> Result<String, String> {
        let v = raw.trim();
        let plain = match v.strip_prefix("HTTP_") {
            Some(rest) => rest.replace('_', "-"),
            None => v.to_owned(),
        };
        let lower = plain.to_ascii_lowercase();
        http::HeaderName::from_bytes(lower.as_bytes())
            .map_err(|_| format!("{v:?} is not a valid header name"))?;
        Ok(lower)
    }
    fn check(v: &String) -> Result<(), String> {
        match http::HeaderName::from_bytes(v.as_bytes()) {
            Ok(name) if name.as_str() == v => Ok(()),
            _ => Err(format!("{v:?} is not a lower-case header name")),
        }
    }
    fn show(v: &String) -> String {
        format!("HTTP_{}", v.to_ascii_uppercase().replace('-', "_"))
    }
    fn get(v: &String) -> &str {
        v
    }
}

/// A secret (HMAC key or private key PEM). Unset means "none"; an explicitly
/// empty value is refused (a broken secret template must not make every
/// instance generate its own key).
#[derive(Debug)]
pub enum SecretKey {}
impl Kind for SecretKey {
    type Value = Option<Secret>;
    type Ref<'a> = Option<&'a Secret>;
    const FORM: &'static str = "secret text (masked)";
    const SECRET: bool = true;
    fn parse(raw: &str) -> Result<Option<Secret>, String> {
        if raw.trim().is_empty() {
            return Err("is set but empty: give a key, or leave it unset".into());
        }
        if raw.trim() == "None" {
            return Ok(None);
        }
        Ok(Some(Secret::new(raw.trim().to_owned())))
    }
    fn check(v: &Option<Secret>) -> Result<(), String> {
        match v {
            Some(k) if k.expose().trim().is_empty() => {
                Err("is set but empty: give a key, or leave it unset".into())
            }
            _ => Ok(()),
        }
    }
    fn show(v: &Option<Secret>) -> String {
        match v {
            Some(k) => format!("**** ({} bytes)", k.expose().len()),
            None => "None".into(),
        }
    }
    fn get(v: &Option<Secret>) -> Option<&Secret> {
        v.as_ref()
    }
}

/// A whole number within `MIN..=MAX`.
#[derive(Debug)]
pub enum Count<const MIN: u64, const MAX: u64> {}
impl<const MIN: u64, const MAX: u64> Kind for Count<MIN, MAX> {
    type Value = u64;
    type Ref<'a> = u64;
    const FORM: &'static str = "whole number";
    fn parse(raw: &str) -> Result<u64, String> {
        raw.trim()
            .parse::<u64>()
            .ok()
            .filter(|n| (MIN..=MAX).contains(n))
            .ok_or_else(|| format!("{raw:?} is not a whole number from {MIN} to {MAX}"))
    }
    fn check(v: &u64) -> Result<(), String> {
        if (MIN..=MAX).contains(v) {
            Ok(())
        } else {
            Err(format!("{v} is not a whole number from {MIN} to {MAX}"))
        }
    }
    fn show(v: &u64) -> String {
        v.to_string()
    }
    fn get(v: &u64) -> u64 {
        *v
    }
}

/// A whole number within `MIN..=MAX`, or `None`/`auto` for the built-in default.
#[derive(Debug)]
pub enum OptionalCount<const MIN: u64, const MAX: u64> {}
impl<const MIN: u64, const MAX: u64> Kind for OptionalCount<MIN, MAX> {
    type Value = Option<u64>;
    type Ref<'a> = Option<u64>;
    const FORM: &'static str = "whole number, or auto";
    fn parse(raw: &str) -> Result<Option<u64>, String> {
        match raw.trim() {
            "None" | "auto" => Ok(None),
            _ => Count::<MIN, MAX>::parse(raw).map(Some),
        }
    }
    fn check(v: &Option<u64>) -> Result<(), String> {
        v.as_ref().map_or(Ok(()), Count::<MIN, MAX>::check)
    }
    fn show(v: &Option<u64>) -> String {
        v.map_or("auto".into(), |n| n.to_string())
    }
    fn get(v: &Option<u64>) -> Option<u64> {
        *v
    }
}
