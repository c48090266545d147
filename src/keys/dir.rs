//! `KEYS_DIR`: the key ring on disk, laid out so that an operator can read
//! it with `ls` and every step of a rotation is one small, atomic change
//! that the `simplejwt keys` commands make (and a person could make by hand):
//!
//! ```text
//! KEYS_DIR/
//!   <kid>.key        private key PEM, or HMAC secret (mode 0600)
//!   <kid>.pub        public key PEM (asymmetric algorithms)
//!   current          the kid of the signing key
//!   kidless          the kid that verifies tokens without a `kid` header
//!                    (the key imported by `keys init`: tokens minted before)
//!   <kid>.retiring   when the key stopped signing (Unix seconds)
//!   retired/         retired keys, moved here and never read again
//! ```
//!
//! Why files and not a database table: a signing key in the database turns
//! every read of it (a backup, a replica, a reporting user, an injection
//! anywhere) into the power to mint tokens for any user; files keep private
//! keys where operators already keep `SIGNING_KEY_FILE` and where secret
//! managers (Kubernetes secrets, Vault agents, configuration management)
//! deliver them. Instances that share a PostgreSQL database share the
//! directory through such a mount; each re-reads it on SIGHUP (or restart),
//! so every step is: run the command once, then reload every instance.
//!
//! A `kid` is the key's RFC 7638 thumbprint for asymmetric algorithms (what
//! `/.well-known/jwks.json` publishes) and a random name for HMAC secrets.
//! Writes that others read (`current`, `kidless`, `.retiring`) go through a
//! temporary file and a rename, so a reloading server never sees half a file.

use std::path::{Path, PathBuf};

use crate::settings::{Secret, SettingsError};

/// The longest `kid` accepted in a file name.
const MAX_KID_LEN: usize = 128;

/// The directory's contents, as read (not yet checked as keys: see
/// [`super::Keys::from_dir`]).
#[derive(Debug)]
pub struct DirState {
    /// The signing key's kid (`current`).
    pub current: String,
    /// The kid that verifies tokens without a `kid` (`kidless`), if any.
    pub kidless: Option<String>,
    /// Every key, sorted by kid.
    pub keys: Vec<StoredKey>,
}

/// One key file (and its public half).
#[derive(Debug)]
pub struct StoredKey {
    /// Its kid (the file name without `.key`).
    pub kid: String,
    /// The private key PEM or HMAC secret.
    pub private: Secret,
    /// The public key PEM (asymmetric algorithms).
    pub public: Option<String>,
    /// When it stopped signing (Unix seconds), if it ever did.
    pub retiring_since: Option<i64>,
}

/// Why a key directory operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DirError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// No key has this kid.
    #[error("no key {0:?} in the key directory (see `simplejwt keys list`)")]
    UnknownKid(String),
    /// A key with this kid is already there.
    #[error("a key {0:?} is already in the key directory")]
    Exists(String),
    /// The key signs: promote another one first.
    #[error("key {0:?} is the signing key: promote another one first")]
    IsCurrent(String),
    /// Tokens signed with the key can still be valid.
    #[error(
        "key {kid:?} signed tokens until {since} (Unix time) that stay valid until {until}: \
         retiring it now logs their holders out; wait, or use --force"
    )]
    StillValid {
        /// The key.
        kid: String,
        /// When it stopped signing.
        since: i64,
        /// When the last token it signed expires (Unix seconds).
        until: i64,
    },
    /// The directory already has keys (`keys init` on a ring in use).
    #[error("the key directory already has a current key {0:?}")]
    Initialized(String),
    /// A kid that cannot be a file name.
    #[error("{0:?} is not a kid (1 to 128 of A-Z a-z 0-9 - _)")]
    BadKid(String),
    /// The directory is not a usable ring.
    #[error("{0}")]
    Invalid(String),
}

impl From<DirError> for SettingsError {
    fn from(e: DirError) -> Self {
        SettingsError::new("KEYS_DIR", e.to_string())
    }
}

/// Whether `kid` is safe as a file name and as a header value.
pub fn valid_kid(kid: &str) -> bool {
    !kid.is_empty()
        && kid.len() <= MAX_KID_LEN
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A key directory at a path.
#[derive(Debug, Clone)]
pub struct KeyDir {
    path: PathBuf,
}

impl KeyDir {
    /// The directory at `path` (nothing is read yet).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DirError + '_ {
        move |source| DirError::Io {
            path: path.to_owned(),
            source,
        }
    }

    /// A small text file's trimmed content; `None` when it does not exist.
    fn read_opt(&self, name: &str) -> Result<Option<String>, DirError> {
        let path = self.file(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text.trim().to_owned())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Self::io(&path)(e)),
        }
    }

    /// The private key files (`<kid>.key`) its group or others may read
    /// (Unix mode `& 0o077`), with their modes. Not refused (a Kubernetes
    /// secret volume is 0644 unless `defaultMode` says otherwise), but
    /// `serve` warns: a private key others can read is no longer private.
    /// Elsewhere than Unix, and when the directory cannot be listed, none.
    pub fn readable_by_others(&self) -> Vec<(PathBuf, u32)> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let Ok(entries) = std::fs::read_dir(&self.path) else {
                return Vec::new();
            };
            let mut loose: Vec<(PathBuf, u32)> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "key"))
                .filter_map(|p| {
                    let mode = std::fs::metadata(&p).ok()?.permissions().mode() & 0o777;
                    (mode & 0o077 != 0).then_some((p, mode))
                })
                .collect();
            loose.sort();
            loose
        }
        #[cfg(not(unix))]
        {
            Vec::new()
        }
    }

    /// Reads every key and the pointers. Errors: no directory, no `current`,
    /// an unreadable file, a `.retiring` that is not a number.
    pub fn read(&self) -> Result<DirState, DirError> {
        let entries = std::fs::read_dir(&self.path).map_err(Self::io(&self.path))?;
        let mut keys = Vec::new();
        for entry in entries {
            let entry = entry.map_err(Self::io(&self.path))?;
            let name = entry.file_name();
            let Some(kid) = name.to_str().and_then(|n| n.strip_suffix(".key")) else {
                continue;
            };
            if !valid_kid(kid) {
                return Err(DirError::BadKid(kid.to_owned()));
            }
            let private_path = entry.path();
            let private = std::fs::read_to_string(&private_path)
                .map_err(Self::io(&private_path))?
                .trim()
                .to_owned();
            let retiring_since = match self.read_opt(&format!("{kid}.retiring"))? {
                Some(text) => Some(text.parse().map_err(|_| {
                    DirError::Invalid(format!("{kid}.retiring does not hold a Unix time"))
                })?),
                None => None,
            };
            keys.push(StoredKey {
                kid: kid.to_owned(),
                private: Secret::new(private),
                public: self.read_opt(&format!("{kid}.pub"))?,
                retiring_since,
            });
        }
        keys.sort_by(|a, b| a.kid.cmp(&b.kid));
        let current = self.read_opt("current")?.ok_or_else(|| {
            DirError::Invalid(format!(
                "{} has no `current` key: run `simplejwt keys init`",
                self.path.display()
            ))
        })?;
        if !keys.iter().any(|k| k.kid == current) {
            return Err(DirError::UnknownKid(current));
        }
        let kidless = self
            .read_opt("kidless")?
            .filter(|kid| keys.iter().any(|k| &k.kid == kid));
        Ok(DirState {
            current,
            kidless,
            keys,
        })
    }

    /// Writes `name` whole or not at all (temporary file, then rename).
    fn write_atomic(&self, name: &str, contents: &str) -> Result<(), DirError> {
        let tmp = self.file(&format!(".{name}.tmp"));
        std::fs::write(&tmp, contents).map_err(Self::io(&tmp))?;
        let path = self.file(name);
        std::fs::rename(&tmp, &path).map_err(Self::io(&path))
    }

    /// Writes a new file readable by its owner only; refuses to overwrite.
    fn write_private(path: &Path, contents: &str) -> Result<(), DirError> {
        use std::io::Write as _;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(Self::io(path))?;
        file.write_all(contents.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(Self::io(path))
    }

    fn create(&self) -> Result<(), DirError> {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt as _;
            builder.mode(0o700);
        }
        builder.create(&self.path).map_err(Self::io(&self.path))
    }

    /// Adds a key beside the others (step 1 of a rotation: it verifies, and
    /// is published, once instances reload; it does not sign). The first key
    /// of an empty directory becomes the signing key.
    pub fn add(&self, kid: &str, private: &str, public: Option<&str>) -> Result<(), DirError> {
        if !valid_kid(kid) {
            return Err(DirError::BadKid(kid.to_owned()));
        }
        self.create()?;
        let key_path = self.file(&format!("{kid}.key"));
        if key_path.exists() {
            return Err(DirError::Exists(kid.to_owned()));
        }
        if let Some(public) = public {
            let pub_path = self.file(&format!("{kid}.pub"));
            std::fs::write(&pub_path, public).map_err(Self::io(&pub_path))?;
        }
        // The private file last: a key is in the ring once its `.key` exists.
        Self::write_private(&key_path, private)?;
        if self.read_opt("current")?.is_none() {
            self.write_atomic("current", kid)?;
        }
        Ok(())
    }

    /// Starts a ring from the key in use today (`SIGNING_KEY`): it becomes the
    /// signing key and keeps verifying the tokens without `kid` minted
    /// before; tokens it signs still carry no `kid`, so instances not yet
    /// switched to `KEYS_DIR` accept them.
    pub fn import(&self, kid: &str, private: &str, public: Option<&str>) -> Result<(), DirError> {
        if let Some(current) = self.read_opt("current")? {
            return Err(DirError::Initialized(current));
        }
        self.add(kid, private, public)?;
        self.write_atomic("kidless", kid)?;
        self.write_atomic("current", kid)
    }

    /// Makes `kid` the signing key (step 2); the previous one is marked as
    /// retiring from `now` (Unix seconds). Returns the previous kid.
    pub fn promote(&self, kid: &str, now: i64) -> Result<String, DirError> {
        let state = self.read()?;
        if !state.keys.iter().any(|k| k.kid == kid) {
            return Err(DirError::UnknownKid(kid.to_owned()));
        }
        let previous = state.current;
        if previous != kid {
            self.write_atomic(&format!("{previous}.retiring"), &now.to_string())?;
        }
        self.write_atomic("current", kid)?;
        let retiring = self.file(&format!("{kid}.retiring"));
        match std::fs::remove_file(&retiring) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Self::io(&retiring)(e)),
        }
        Ok(previous)
    }

    /// Removes `kid` from the ring (step 3), moving its files to `retired/`.
    /// Refused for the signing key, and while tokens it signed can still be
    /// valid: until `longest` seconds (the longest token lifetime plus
    /// leeway) after it stopped signing, unless `force`.
    pub fn retire(&self, kid: &str, now: i64, longest: i64, force: bool) -> Result<(), DirError> {
        let state = self.read()?;
        let Some(key) = state.keys.iter().find(|k| k.kid == kid) else {
            return Err(DirError::UnknownKid(kid.to_owned()));
        };
        if state.current == kid {
            return Err(DirError::IsCurrent(kid.to_owned()));
        }
        if let Some(since) = key.retiring_since {
            let until = since.saturating_add(longest);
            if now < until && !force {
                return Err(DirError::StillValid {
                    kid: kid.to_owned(),
                    since,
                    until,
                });
            }
        }
        let retired = self.file("retired");
        std::fs::create_dir_all(&retired).map_err(Self::io(&retired))?;
        if state.kidless.as_deref() == Some(kid) {
            let path = self.file("kidless");
            std::fs::remove_file(&path).map_err(Self::io(&path))?;
        }
        // The private key first: from then on the key is out of the ring.
        for suffix in ["key", "pub", "retiring"] {
            let from = self.file(&format!("{kid}.{suffix}"));
            if from.exists() {
                let to = retired.join(format!("{kid}.{suffix}"));
                std::fs::rename(&from, &to).map_err(Self::io(&from))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn key_files_others_can_read_are_named() {
        use std::os::unix::fs::PermissionsExt as _;
        let tmp = tempfile::tempdir().unwrap();
        let dir = KeyDir::new(tmp.path().join("keys"));
        dir.add("hs-a", &"a".repeat(40), None).unwrap();
        dir.add("hs-b", &"b".repeat(40), None).unwrap();
        assert!(dir.readable_by_others().is_empty(), "written 0600");
        let b = dir.path().join("hs-b.key");
        std::fs::set_permissions(&b, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(dir.readable_by_others(), vec![(b, 0o644)]);
    }

    #[test]
    fn a_rotation_moves_the_pointers_and_retire_waits_for_the_longest_lifetime() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = KeyDir::new(tmp.path().join("keys"));
        assert!(dir.read().is_err());
        dir.import("old", &"o".repeat(64), None).unwrap();
        assert!(matches!(
            dir.import("again", &"a".repeat(64), None),
            Err(DirError::Initialized(_))
        ));
        dir.add("new", &"n".repeat(64), None).unwrap();
        assert!(matches!(
            dir.add("new", &"x".repeat(64), None),
            Err(DirError::Exists(_))
        ));
        let s = dir.read().unwrap();
        assert_eq!(
            (s.current.as_str(), s.kidless.as_deref()),
            ("old", Some("old"))
        );
        assert!(matches!(
            dir.retire("old", 100, 50, false),
            Err(DirError::IsCurrent(_))
        ));
        assert_eq!(dir.promote("new", 1000).unwrap(), "old");
        let s = dir.read().unwrap();
        assert_eq!(s.current, "new");
        assert_eq!(s.keys[1].kid, "old");
        assert_eq!(s.keys[1].retiring_since, Some(1000));
        assert!(matches!(
            dir.retire("old", 1049, 50, false),
            Err(DirError::StillValid { until: 1050, .. })
        ));
        dir.retire("old", 1050, 50, false).unwrap();
        let s = dir.read().unwrap();
        assert_eq!(s.keys.len(), 1);
        assert_eq!(s.kidless, None);
        assert!(tmp.path().join("keys/retired/old.key").exists());
        assert!(matches!(
            dir.retire("old", 2000, 50, false),
            Err(DirError::UnknownKid(_))
        ));
        assert!(matches!(
            dir.add("../x", "s", None),
            Err(DirError::BadKid(_))
        ));
    }
}
