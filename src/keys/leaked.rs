//! Well-known JWT secrets: the defaults of documentation, tutorials and
//! framework templates that end up in production and are the first words of
//! every JWT cracking list (OWASP JWT cheat sheet, RFC 8725 §3.5). A key
//! found here is public however long it is, so the server refuses to start
//! with it. The list is deliberately small and embedded: it catches copied
//! examples; the length rule ([`super::min_hmac_key_len`]) catches the rest.

/// Secrets published as examples (compared trimmed, ignoring ASCII case).
const LEAKED: &[&str] = &[
    // jwt.io's debugger, old and new
    "your-256-bit-secret",
    "your-384-bit-secret",
    "your-512-bit-secret",
    "a-string-secret-at-least-256-bits-long",
    // library READMEs and tutorials (PyJWT, node-jsonwebtoken, express)
    "secret",
    "shhhhh",
    "shhhhhared-secret",
    "keyboard cat",
    "my-jwt-secret",
    "my_jwt_secret",
    "jwt_secret",
    "jwt-secret",
    "jwtsecret",
    "your_jwt_secret",
    "your-jwt-secret",
    "your-secret-key",
    "your_secret_key",
    "yoursecretkey",
    "mysecretkey",
    "my-secret-key",
    "my_secret_key",
    "secretkey",
    "secret-key",
    "secret_key",
    "supersecret",
    "super-secret",
    "supersecretkey",
    "super-secret-key",
    "changeme",
    "change-me",
    "change_me",
    "changethis",
    "change-this-secret",
    "replace-me",
    "password",
    "s3cr3t",
    "default",
    "test",
    "development",
    "insecure",
    "this is a secret",
    "thisisasecret",
    "this-is-a-secret-key",
    "thisismysecretkey",
    "some-secret-string",
    "your-256-bit-secret-key-here",
    "please-change-this-secret-key-in-production",
    "your-super-secret-jwt-key-change-this-in-production",
    "super-secret-jwt-token-with-at-least-32-characters-long",
];

/// Prefixes of generated development keys that their own framework flags as
/// unfit for production (Django's `startproject` writes `django-insecure-…`).
const LEAKED_PREFIXES: &[&str] = &["django-insecure-"];

/// Whether `secret` is a publicly known JWT secret.
pub fn is_leaked(secret: &str) -> bool {
    let s = secret.trim();
    LEAKED.iter().any(|k| k.eq_ignore_ascii_case(s))
        || LEAKED_PREFIXES.iter().any(|p| {
            s.len() >= p.len() && s.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_examples_are_found_whatever_their_case_and_padding() {
        assert!(is_leaked("a-string-secret-at-least-256-bits-long"));
        assert!(is_leaked("  Your-256-Bit-Secret\n"));
        assert!(is_leaked(
            "django-insecure-8^k2=w0q!z@x7l_2$3(c)r&j1m+u#n9v*b5h%f6e4d0s-t"
        ));
        assert!(!is_leaked("django-insecure"));
        assert!(!is_leaked(
            "conformance-signing-key-7f3c9a1e5b2d4f6081a3c5e7f9b1d3f5"
        ));
        assert!(!is_leaked("secret-but-not-quite"));
    }
}
