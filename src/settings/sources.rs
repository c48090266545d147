//! Where setting text comes from: the environment (`<PREFIX><NAME>`, or
//! `<PREFIX><NAME>_FILE` naming a file that holds the value — for secrets
//! mounted as files), a configuration file, or a library user's pairs. One
//! rule for every source: names are the declared upper-case names, a value
//! given both inline and as a file is an error, and an unknown name is an
//! error that suggests the nearest known one.

use std::collections::BTreeMap;
use std::fmt;

use super::{Declared, SettingsError};

/// Where an effective value came from, for `simplejwt check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Nobody set it.
    Default,
    /// The configuration file (its path).
    File(String),
    /// The environment variable of this name.
    Environment(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File(path) => write!(f, "file {path}"),
            Source::Environment(var) => write!(f, "environment {var}"),
        }
    }
}

/// What to do with a prefixed environment variable whose name is not declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownNames {
    /// Pass it on, so the builder refuses it (`SIMPLE_JWT_*`: only settings use that prefix).
    Keep,
    /// Leave it alone (`SIMPLEJWT_*`: test and tool variables share the prefix).
    Skip,
}

/// One value of a setting: its text and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawValue {
    /// The text, as the setting's kind parses it.
    pub text: String,
    /// Where it was found.
    pub source: Source,
}

/// Collects `<prefix><NAME>` and `<prefix><NAME>_FILE` (read from disk) from
/// environment pairs, as `NAME → value`. A `_FILE` variant and a plain one for
/// the same setting together are an error: which one wins would be a guess.
pub fn env_values(
    vars: impl IntoIterator<Item = (String, String)>,
    prefix: &str,
    declared: &[Declared],
    unknown: UnknownNames,
) -> Result<BTreeMap<String, RawValue>, SettingsError> {
    let is_declared = |name: &str| declared.iter().any(|d| d.name == name);
    let mut plain = BTreeMap::new();
    let mut files = BTreeMap::new();
    for (var, value) in vars {
        // A declared variable outside the prefix (e.g. DATABASE_URL).
        if let Some(d) = declared.iter().find(|d| d.env == var) {
            let source = Source::Environment(var.clone());
            plain.insert(
                d.name.to_owned(),
                RawValue {
                    text: value,
                    source,
                },
            );
            continue;
        }
        let Some(name) = var.strip_prefix(prefix) else {
            continue;
        };
        match name.strip_suffix("_FILE") {
            Some(base)
                if !is_declared(name) && (is_declared(base) || unknown == UnknownNames::Keep) =>
            {
                files.insert(base.to_owned(), (var.clone(), value));
            }
            _ if is_declared(name) || unknown == UnknownNames::Keep => {
                let source = Source::Environment(var.clone());
                plain.insert(
                    name.to_owned(),
                    RawValue {
                        text: value,
                        source,
                    },
                );
            }
            _ => {}
        }
    }
    for (name, (var, path)) in files {
        if let Some(existing) = plain.get(&name) {
            return Err(SettingsError::new(
                &name,
                format!(
                    "both {var} and {} are set",
                    match &existing.source {
                        Source::Environment(v) => v.as_str(),
                        _ => "another value",
                    }
                ),
            ));
        }
        let text = read_value_file(&name, &path)?;
        plain.insert(
            name,
            RawValue {
                text,
                source: Source::Environment(var),
            },
        );
    }
    Ok(plain)
}

/// Reads a `_FILE` value: the file's text, one trailing newline removed.
pub fn read_value_file(name: &str, path: &str) -> Result<String, SettingsError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| SettingsError::new(name, format!("cannot read file {path:?}: {e}")))?;
    Ok(text
        .strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(&text)
        .to_owned())
}

/// "unknown setting", with the nearest declared name when one is close.
pub fn unknown_message(name: &str, declared: &[Declared]) -> String {
    match nearest(name, declared) {
        Some(near) => format!("unknown setting (did you mean {near}?)"),
        None => "unknown setting".into(),
    }
}

/// The declared name closest to `name`, if any is close enough to be a typo.
pub fn nearest(name: &str, declared: &[Declared]) -> Option<&'static str> {
    let upper = name.to_ascii_uppercase();
    declared
        .iter()
        .map(|d| (strsim::jaro_winkler(&upper, d.name), d.name))
        .filter(|(score, _)| *score > 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{ServerOptions, Settings};

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn file_variant_is_read_and_conflicts_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        std::fs::write(&path, "PEM\n").unwrap();
        let vars = env(&[
            ("SIMPLE_JWT_VERIFYING_KEY_FILE", path.to_str().unwrap()),
            ("OTHER", "x"),
        ]);
        let map = env_values(
            vars.clone(),
            "SIMPLE_JWT_",
            Settings::DECLARED,
            UnknownNames::Keep,
        )
        .unwrap();
        assert_eq!(map["VERIFYING_KEY"].text, "PEM");
        assert_eq!(map.len(), 1);
        let mut both = vars;
        both.push(("SIMPLE_JWT_VERIFYING_KEY".into(), "inline".into()));
        let e =
            env_values(both, "SIMPLE_JWT_", Settings::DECLARED, UnknownNames::Keep).unwrap_err();
        assert_eq!(e.setting, "VERIFYING_KEY");
    }

    #[test]
    fn server_prefix_skips_variables_of_other_tools() {
        let vars = env(&[
            ("SIMPLEJWT_BIND", "0.0.0.0:9000"),
            ("SIMPLEJWT_TEST_DATABASE_URL", "postgres://x"),
            ("SIMPLEJWT_BIN", "/bin/x"),
            ("DATABASE_URL", "sqlite://x.db"),
        ]);
        let map = env_values(
            vars,
            "SIMPLEJWT_",
            ServerOptions::DECLARED,
            UnknownNames::Skip,
        )
        .unwrap();
        assert_eq!(map.keys().collect::<Vec<_>>(), ["BIND", "DATABASE_URL"]);
        assert_eq!(
            map["DATABASE_URL"].source,
            Source::Environment("DATABASE_URL".into())
        );
    }

    #[test]
    fn typos_get_the_nearest_name() {
        assert_eq!(
            nearest("ACCES_TOKEN_LIFETIME", Settings::DECLARED),
            Some("ACCESS_TOKEN_LIFETIME")
        );
        assert_eq!(
            nearest("databse_url", ServerOptions::DECLARED),
            Some("DATABASE_URL")
        );
        assert_eq!(nearest("COMPLETELY_DIFFERENT", Settings::DECLARED), None);
    }
}
