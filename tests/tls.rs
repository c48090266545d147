//! HTTPS through the real binary (`CARGO_BIN_EXE_simplejwt serve`) and real
//! TLS clients (reqwest on rustls; tokio-rustls + hyper where a test needs
//! the connection itself), against certificates made here with rcgen and
//! trusted as roots:
//! - the token endpoints and a protected request over HTTPS with HTTP/2
//!   and with HTTP/1.1 (ALPN), `Strict-Transport-Security` on every answer;
//!   none over plain HTTP;
//! - SIGHUP: a new certificate is served to a new connection while a
//!   connection opened before keeps working; a bad new pair is refused with
//!   a log line and the previous one stays;
//! - start-up refuses a mismatched key, an expired certificate and a key
//!   file readable by others, naming the file;
//! - the plain-HTTP listener only redirects (308) to HTTPS;
//! - cookies are `Secure` over HTTPS, and behind a trusted proxy that says
//!   `https`, even with `AUTH_COOKIE_SECURE` off — and not on another's word.
//!
//! Waits poll for an event (a log line, a listening port, an exit) under a
//! generous deadline that only keeps a failing test from hanging.

use std::ffi::OsStr;
use std::fs::File;
use std::io::Write as _;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use reqwest::{StatusCode, Version};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, ServerName};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_simplejwt");
const DEADLINE: Duration = Duration::from_secs(30);
const HSTS: &str = "strict-transport-security";

/// A certificate for `localhost` and its key, as PEM.
struct Pair {
    cert: String,
    key: String,
}

impl Pair {
    fn new() -> Pair {
        Pair::valid_between(2020, 2999)
    }

    /// Valid from 1 January `from` to 1 January `to`.
    fn valid_between(from: i32, to: i32) -> Pair {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params =
            rcgen::CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
        params.not_before = rcgen::date_time_ymd(from, 1, 1);
        params.not_after = rcgen::date_time_ymd(to, 1, 1);
        let cert = params.self_signed(&key).unwrap();
        Pair {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }

    fn der(&self) -> CertificateDer<'static> {
        CertificateDer::from_pem_slice(self.cert.as_bytes()).unwrap()
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

fn inherited_config(name: &OsStr) -> bool {
    name.to_str().is_some_and(|n| {
        n.starts_with("SIMPLE_JWT_")
            || n.starts_with("SIMPLEJWT_")
            || n == "DATABASE_URL"
            || n == "RUST_LOG"
    })
}

/// A directory with a database, a user `alice` and the certificate files.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let sandbox = Sandbox {
            dir: tempfile::tempdir().unwrap(),
        };
        let mut child = sandbox
            .command(&["createuser", "alice", "--password-stdin"], &[])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"alice-password")
            .unwrap();
        assert!(child.wait().unwrap().success(), "createuser");
        sandbox
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(BIN);
        for (name, _) in std::env::vars_os() {
            if inherited_config(&name) {
                cmd.env_remove(name);
            }
        }
        cmd.current_dir(self.dir.path())
            .env("DATABASE_URL", "sqlite://db.sqlite3")
            .env("SIMPLEJWT_LOG", "info")
            .envs(env.iter().copied())
            .args(args);
        cmd
    }

    /// Writes `pair` as cert.pem (0644) and key.pem (`key_mode`).
    fn install(&self, pair: &Pair, key_mode: u32) {
        std::fs::write(self.path("cert.pem"), &pair.cert).unwrap();
        write_with_mode(&self.path("key.pem"), &pair.key, key_mode);
    }

    fn tls_env(&self) -> Vec<(String, String)> {
        vec![
            (
                "SIMPLEJWT_TLS_CERT_FILE".into(),
                self.path("cert.pem").display().to_string(),
            ),
            (
                "SIMPLEJWT_TLS_KEY_FILE".into(),
                self.path("key.pem").display().to_string(),
            ),
        ]
    }

    /// Starts `serve` and waits until it logs that it listens.
    fn serve(&self, env: &[(String, String)]) -> Server {
        let port = free_port();
        let address: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let log = self.path(&format!("serve-{port}.log"));
        let out = File::create(&log).unwrap();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (&**k, &**v)).collect();
        let child = self
            .command(&["serve", "--bind", &address.to_string()], &env)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        let mut server = Server {
            child,
            address,
            log,
        };
        server.wait_for_log("simplejwt listening");
        server
    }

    /// Runs `serve` expecting it to refuse to start; its exit code and output.
    fn refused(&self, env: &[(String, String)]) -> (i32, String) {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (&**k, &**v)).collect();
        let address = format!("127.0.0.1:{}", free_port());
        let mut child = self
            .command(&["serve", "--bind", &address], &env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + DEADLINE;
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("serve did not refuse to start within {DEADLINE:?}");
            }
            std::thread::sleep(Duration::from_millis(20)); // polling interval
        }
        let output = child.wait_with_output().unwrap();
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stderr).into_owned()
                + &String::from_utf8_lossy(&output.stdout),
        )
    }
}

fn write_with_mode(path: &Path, text: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A running `simplejwt serve`, killed on drop.
struct Server {
    child: Child,
    address: SocketAddr,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Polls the log until `needle` appears `times` times.
    fn wait_for_log_n(&mut self, needle: &str, times: usize) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let log = self.log();
            if log.matches(needle).count() >= times {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("serve exited ({status}) before {needle:?}:\n{log}");
            }
            assert!(
                Instant::now() < deadline,
                "no {needle:?} in the log within {DEADLINE:?}:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(20)); // polling interval
        }
    }

    fn wait_for_log(&mut self, needle: &str) {
        self.wait_for_log_n(needle, 1);
    }

    fn sighup(&self) {
        let status = Command::new("kill")
            .args(["-HUP", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -HUP");
    }

    fn https(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.address.port())
    }

    fn http(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }
}

/// A reqwest client trusting `roots` only, `localhost` resolved to `at`.
fn client(roots: &[&Pair], at: SocketAddr, http1_only: bool) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .no_proxy()
        .resolve("localhost", at);
    for pair in roots {
        builder = builder
            .add_root_certificate(reqwest::Certificate::from_pem(pair.cert.as_bytes()).unwrap());
    }
    if http1_only {
        builder = builder.http1_only();
    }
    builder.build().unwrap()
}

async fn post(client: &reqwest::Client, url: &str, body: Value) -> reqwest::Response {
    client.post(url).json(&body).send().await.unwrap()
}

#[tokio::test]
async fn token_endpoints_over_https_with_http2_and_http1() {
    let sandbox = Sandbox::new();
    let pair = Pair::new();
    sandbox.install(&pair, 0o600);
    let server = sandbox.serve(&sandbox.tls_env());
    for (http1_only, version) in [(false, Version::HTTP_2), (true, Version::HTTP_11)] {
        let c = client(&[&pair], server.address, http1_only);
        let login = post(
            &c,
            &server.https("/api/token/"),
            json!({"username": "alice", "password": "alice-password"}),
        )
        .await;
        assert_eq!(login.status(), StatusCode::OK);
        assert_eq!(login.version(), version, "ALPN chose {:?}", login.version());
        assert_eq!(login.headers()[HSTS], "max-age=31536000");
        let tokens: Value = login.json().await.unwrap();
        let refreshed = post(
            &c,
            &server.https("/api/token/refresh/"),
            json!({"refresh": tokens["refresh"]}),
        )
        .await;
        assert_eq!(refreshed.status(), StatusCode::OK);
        assert_eq!(refreshed.version(), version);
        let verify = post(
            &c,
            &server.https("/api/token/verify/"),
            json!({"token": tokens["access"]}),
        )
        .await;
        assert_eq!(verify.status(), StatusCode::OK);
        let protected = c
            .get(server.https("/api/protected/"))
            .bearer_auth(tokens["access"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(protected.status(), StatusCode::OK);
        assert_eq!(protected.version(), version);
        assert!(protected.headers().contains_key(HSTS));
        // errors carry it too
        let refused = post(
            &c,
            &server.https("/api/token/verify/"),
            json!({"token": "x"}),
        )
        .await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        assert!(refused.headers().contains_key(HSTS));
    }
    // plain HTTP on the HTTPS port is not served
    let plain = reqwest::Client::builder().no_proxy().build().unwrap();
    let answer = plain.get(server.http("/api/protected/")).send().await;
    assert!(
        answer.is_err(),
        "plain HTTP answered on the HTTPS port: {answer:?}"
    );
}

#[tokio::test]
async fn hsts_is_configurable_and_absent_over_plain_http() {
    let sandbox = Sandbox::new();
    let pair = Pair::new();
    sandbox.install(&pair, 0o600);
    let mut env = sandbox.tls_env();
    env.push(("SIMPLEJWT_HSTS_MAX_AGE".into(), "600".into()));
    env.push(("SIMPLEJWT_HSTS_INCLUDE_SUBDOMAINS".into(), "true".into()));
    let server = sandbox.serve(&env);
    let c = client(&[&pair], server.address, false);
    let answer = c.get(server.https("/api/protected/")).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(answer.headers()[HSTS], "max-age=600; includeSubDomains");
    drop(server);

    let server = sandbox.serve(&[]);
    let plain = reqwest::Client::builder().no_proxy().build().unwrap();
    for path in ["/api/protected/", "/api/token/"] {
        let answer = plain.get(server.http(path)).send().await.unwrap();
        assert!(!answer.headers().contains_key(HSTS), "{path}: {answer:?}");
    }
}

/// A TLS connection of our own to `server`, trusting `roots`: the
/// certificate it was served and an HTTP/1.1 sender on it.
async fn connect(
    server: &Server,
    roots: &[&Pair],
) -> (
    CertificateDer<'static>,
    hyper::client::conn::http1::SendRequest<Full<bytes::Bytes>>,
) {
    let mut store = rustls::RootCertStore::empty();
    for pair in roots {
        store.add(pair.der()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(store)
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(server.address)
        .await
        .unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .expect("TLS handshake");
    let served = tls.get_ref().1.peer_certificates().unwrap()[0].clone();
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(conn);
    (served, sender)
}

/// One verify request on `sender`; the status.
async fn verify_on(
    sender: &mut hyper::client::conn::http1::SendRequest<Full<bytes::Bytes>>,
) -> u16 {
    sender.ready().await.expect("connection still open");
    let request = http::Request::post("/api/token/verify/")
        .header("host", "localhost")
        .header("content-type", "application/json")
        .body(Full::from(r#"{"token": "x"}"#))
        .unwrap();
    let answer = sender.send_request(request).await.expect("answer");
    let status = answer.status().as_u16();
    answer.into_body().collect().await.unwrap();
    status
}

#[tokio::test]
async fn sighup_serves_a_new_certificate_to_new_connections_and_keeps_old_ones() {
    let sandbox = Sandbox::new();
    let (first, second, third) = (Pair::new(), Pair::new(), Pair::new());
    sandbox.install(&first, 0o600);
    let mut server = sandbox.serve(&sandbox.tls_env());
    let roots = [&first, &second, &third];

    let (served, mut before) = connect(&server, &roots).await;
    assert_eq!(served, first.der());
    assert_eq!(verify_on(&mut before).await, 401);

    sandbox.install(&second, 0o600);
    server.sighup();
    server.wait_for_log("TLS certificate reloaded");
    let (served, mut after) = connect(&server, &roots).await;
    assert_eq!(
        served,
        second.der(),
        "a new connection gets the new certificate"
    );
    assert_eq!(verify_on(&mut after).await, 401);
    // the connection opened before the reload is still served
    assert_eq!(verify_on(&mut before).await, 401);

    // a pair that does not load: refused, logged, the second one stays
    std::fs::write(sandbox.path("cert.pem"), &third.cert).unwrap(); // with the second's key
    server.sighup();
    server.wait_for_log("TLS certificate reload refused");
    assert!(server.log().contains("does not match"), "{}", server.log());
    let (served, mut later) = connect(&server, &roots).await;
    assert_eq!(served, second.der());
    assert_eq!(verify_on(&mut later).await, 401);
    assert_eq!(verify_on(&mut before).await, 401);
    assert_eq!(verify_on(&mut after).await, 401);
}

#[test]
fn start_up_refuses_a_mismatched_an_expired_or_an_exposed_pair() {
    let sandbox = Sandbox::new();
    let key_path = sandbox.path("key.pem").display().to_string();
    let cert_path = sandbox.path("cert.pem").display().to_string();

    let (a, b) = (Pair::new(), Pair::new());
    sandbox.install(
        &Pair {
            cert: a.cert.clone(),
            key: b.key.clone(),
        },
        0o600,
    );
    let (code, out) = sandbox.refused(&sandbox.tls_env());
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("does not match") && out.contains(&key_path),
        "{out}"
    );

    let expired = Pair::valid_between(2020, 2021);
    sandbox.install(&expired, 0o600);
    let (code, out) = sandbox.refused(&sandbox.tls_env());
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("expired") && out.contains(&cert_path), "{out}");

    for mode in [0o644, 0o640] {
        sandbox.install(&a, mode);
        let (code, out) = sandbox.refused(&sandbox.tls_env());
        assert_eq!(code, 2, "{out}");
        assert!(
            out.contains("readable by group or others") && out.contains(&key_path),
            "{out}"
        );
    }

    // the same pair, private, starts
    sandbox.install(&a, 0o600);
    drop(sandbox.serve(&sandbox.tls_env()));
}

#[tokio::test]
async fn the_plain_http_listener_only_redirects_to_https() {
    let sandbox = Sandbox::new();
    let pair = Pair::new();
    sandbox.install(&pair, 0o600);
    let redirect_port = free_port();
    let mut env = sandbox.tls_env();
    env.push((
        "SIMPLEJWT_HTTP_REDIRECT_BIND".into(),
        format!("127.0.0.1:{redirect_port}"),
    ));
    let server = sandbox.serve(&env);
    let https_port = server.address.port();
    let no_follow = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let plain = format!("http://127.0.0.1:{redirect_port}");

    for (method, path) in [
        (reqwest::Method::POST, "/api/token/?next=%2Fx&a=1"),
        (reqwest::Method::GET, "/api/protected/"),
    ] {
        let answer = no_follow
            .request(method, format!("{plain}{path}"))
            .header("host", format!("localhost:{redirect_port}"))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(
            answer.headers()["location"],
            format!("https://localhost:{https_port}{path}").as_str()
        );
        assert!(!answer.headers().contains_key(HSTS));
    }
    // a Host that is not a host name is not redirected anywhere
    let answer = no_follow
        .get(format!("{plain}/"))
        .header("host", "evil.example/x")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert!(!answer.headers().contains_key("location"));

    // a client that follows lands on HTTPS and logs in (308 keeps the POST)
    let follows = client(&[&pair], server.address, false);
    let login = follows
        .post(format!("http://localhost:{redirect_port}/api/token/"))
        .json(&json!({"username": "alice", "password": "alice-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    assert_eq!(login.url().scheme(), "https");
    assert!(login.headers().contains_key(HSTS));
}

fn secure_flags(answer: &reqwest::Response) -> Vec<bool> {
    let flags: Vec<bool> = answer
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().contains("; Secure"))
        .collect();
    assert!(!flags.is_empty(), "no cookies: {answer:?}");
    flags
}

#[tokio::test]
async fn cookies_are_secure_over_https_and_behind_a_trusted_proxy_that_says_so() {
    let sandbox = Sandbox::new();
    let pair = Pair::new();
    sandbox.install(&pair, 0o600);
    let credentials = json!({"username": "alice", "password": "alice-password"});
    let cookies_not_forced = [
        ("SIMPLE_JWT_AUTH_COOKIE".to_owned(), "true".to_owned()),
        (
            "SIMPLE_JWT_AUTH_COOKIE_SECURE".to_owned(),
            "false".to_owned(),
        ),
    ];

    let mut env = sandbox.tls_env();
    env.extend(cookies_not_forced.clone());
    let server = sandbox.serve(&env);
    let c = client(&[&pair], server.address, false);
    let login = post(&c, &server.https("/api/token/"), credentials.clone()).await;
    assert_eq!(login.status(), StatusCode::OK);
    assert!(secure_flags(&login).iter().all(|s| *s));
    drop(server);

    let plain = reqwest::Client::builder().no_proxy().build().unwrap();
    for (trusted, forwarded, secure) in [
        (true, Some(("x-forwarded-proto", "https")), true),
        (true, Some(("forwarded", "for=192.0.2.1;proto=https")), true),
        (true, None, false),
        (false, Some(("x-forwarded-proto", "https")), false),
    ] {
        let mut env = cookies_not_forced.to_vec();
        if trusted {
            env.push(("SIMPLE_JWT_TRUSTED_PROXIES".into(), "127.0.0.1/32".into()));
        }
        let server = sandbox.serve(&env);
        let mut request = plain.post(server.http("/api/token/")).json(&credentials);
        if let Some((name, value)) = forwarded {
            request = request.header(name, value);
        }
        let login = request.send().await.unwrap();
        assert_eq!(login.status(), StatusCode::OK);
        assert!(
            secure_flags(&login).iter().all(|s| *s == secure),
            "trusted {trusted}, {forwarded:?}: {:?}",
            login.headers()
        );
        assert!(!login.headers().contains_key(HSTS));
    }
}
