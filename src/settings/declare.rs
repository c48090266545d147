//! One declaration per setting: name, kind, default, description (and the
//! hardened value where it differs). [`declare_settings!`] turns a list of
//! declarations into the struct (private fields), its accessors, a builder
//! with a setter per setting, the parser from text, the masked description
//! `simplejwt check` prints, and the table the README and the example
//! configuration are generated from — so adding a setting is one entry, and
//! no list can drift from another.
//!
//! A macro, not a derive crate: the declarations are plain data, and the
//! generated code is small enough to read in this file.

/// What is known about one declared setting, for documentation and `check`.
#[derive(Debug, Clone, Copy)]
pub struct Declared {
    /// The setting's name, e.g. `ACCESS_TOKEN_LIFETIME`.
    pub name: &'static str,
    /// The environment variable that sets it, e.g. `SIMPLE_JWT_ACCESS_TOKEN_LIFETIME`.
    pub env: &'static str,
    /// The default, in the text form the parser reads.
    pub default: &'static str,
    /// What it does (the declaration's doc comment).
    pub description: &'static str,
    /// What text it takes (its kind).
    pub form: &'static str,
    /// Whether it holds a secret (masked wherever shown).
    pub secret: bool,
    /// The value of the hardened preset, when it differs from the default.
    pub hardened: Option<&'static str>,
}

/// Declares a group of settings; see the module doc.
///
/// ```text
/// declare_settings! {
///     /// Struct docs.
///     pub struct Settings, builder SettingsBuilder, env "SIMPLE_JWT_";
///     /// What it does.
///     "ACCESS_TOKEN_LIFETIME" access_token_lifetime: Lifetime = "5m";
///     /// What it does.
///     "DATABASE_URL" database_url: Text = "sqlite://simplejwt.sqlite3", env "DATABASE_URL";
/// }
/// ```
macro_rules! declare_settings {
    (
        $(#[$meta:meta])*
        pub struct $Struct:ident, builder $Builder:ident, env $prefix:literal;
        $(
            $(#[doc = $doc:literal])*
            $name:literal $field:ident : $kind:ty = $default:literal
                $(, env $env:literal)? $(, hardened $hard:literal)? ;
        )*
    ) => {
        $(#[$meta])*
        #[derive(Clone)]
        pub struct $Struct {
            $( $field: <$kind as $crate::settings::kinds::Kind>::Value, )*
        }

        impl $Struct {
            $(
                $(#[doc = $doc])*
                #[doc = ""]
                #[doc = concat!("`", $name, "`; default `", $default, "`.")]
                pub fn $field(&self) -> <$kind as $crate::settings::kinds::Kind>::Ref<'_> {
                    <$kind as $crate::settings::kinds::Kind>::get(&self.$field)
                }
            )*

            /// Every setting of this group, in declaration order.
            pub const DECLARED: &'static [$crate::settings::declare::Declared] = &[
                $( $crate::settings::declare::Declared {
                    name: $name,
                    env: declare_settings!(@env $prefix, $name $(, $env)?),
                    default: $default,
                    description: concat!($($doc, "\n",)*),
                    form: <$kind as $crate::settings::kinds::Kind>::FORM,
                    secret: <$kind as $crate::settings::kinds::Kind>::SECRET,
                    hardened: declare_settings!(@opt $($hard)?),
                }, )*
            ];

            /// Every setting at its default.
            fn defaults() -> Self {
                Self {
                    $( $field: <$kind as $crate::settings::kinds::Kind>::parse($default)
                        .expect(concat!("the default of ", $name, " parses")), )*
                }
            }

            /// Parses one setting's text into `self`; `None` when the name is not one of ours.
            fn apply_text(
                &mut self,
                name: &str,
                raw: &str,
            ) -> Option<Result<(), $crate::settings::SettingsError>> {
                match name {
                    $( $name => Some(
                        <$kind as $crate::settings::kinds::Kind>::parse(raw)
                            .map(|v| self.$field = v)
                            .map_err(|m| $crate::settings::SettingsError::new($name, m)),
                    ), )*
                    _ => None,
                }
            }

            /// Every value against its kind's bounds (values set through typed
            /// builder setters have not been through a parser).
            fn check_kinds(&self) -> Result<(), $crate::settings::SettingsError> {
                $( <$kind as $crate::settings::kinds::Kind>::check(&self.$field)
                    .map_err(|m| $crate::settings::SettingsError::new($name, m))?; )*
                Ok(())
            }

            /// `(NAME, value as text)` for every setting, secrets masked.
            pub fn describe(&self) -> Vec<(&'static str, String)> {
                vec![ $( ($name, <$kind as $crate::settings::kinds::Kind>::show(&self.$field)), )* ]
            }
        }

        impl std::fmt::Debug for $Struct {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let mut d = f.debug_struct(stringify!($Struct));
                for (name, value) in self.describe() {
                    d.field(name, &value);
                }
                d.finish()
            }
        }

        /// Builds a validated value: start from the defaults, set settings
        /// one by one (typed, or from text by name), then
        #[doc = concat!("[`", stringify!($Builder), "::build`] checks every combination.")]
        #[derive(Debug, Clone)]
        pub struct $Builder {
            inner: $Struct,
        }

        impl Default for $Builder {
            fn default() -> Self {
                Self { inner: $Struct::defaults() }
            }
        }

        impl $Builder {
            $(
                #[doc = concat!("Sets `", $name, "`.")]
                pub fn $field(
                    mut self,
                    value: impl Into<<$kind as $crate::settings::kinds::Kind>::Value>,
                ) -> Self {
                    self.inner.$field = value.into();
                    self
                }
            )*
        }
    };
    (@env $prefix:literal, $name:literal) => { concat!($prefix, $name) };
    (@env $prefix:literal, $name:literal, $env:literal) => { $env };
    (@opt) => { None };
    (@opt $v:literal) => { Some($v) };
}

pub(crate) use declare_settings;
