//! The `simplejwt` binary, run the way an operator runs it: each test makes a
//! temporary directory with its own SQLite database, runs the real executable
//! (`CARGO_BIN_EXE_simplejwt`) with an environment scrubbed of any inherited
//! `SIMPLE_JWT_*`, `SIMPLEJWT_*`, `DATABASE_URL` and `RUST_LOG`, and checks exit
//! statuses (0 ok, 1 failure, 2 bad configuration or usage), messages, files,
//! and, through `serve` on a free port, what the commands did to the logins.
//!
//! Servers are waited for by polling their port and stopped with SIGTERM,
//! which must end them with status 0 (graceful shutdown). Every child has a
//! deadline, so a command that hangs fails its test instead of the suite.

use std::ffi::OsStr;
use std::fs::File;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_simplejwt");
/// Longest any one-shot command may take (RSA key generation is the slowest).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest a server may take to listen, or to stop after SIGTERM.
const SERVER_TIMEOUT: Duration = Duration::from_secs(20);
/// The database every command of a sandbox shares (relative to the sandbox).
const DATABASE_URL: &str = "sqlite://db.sqlite3";
const NO_ACTIVE_ACCOUNT: &str = "No active account found with the given credentials";

// ---- running commands ------------------------------------------------------

/// Configuration an outer environment could leak into the child.
fn inherited_config(name: &OsStr) -> bool {
    name.to_str().is_some_and(|n| {
        n.starts_with("SIMPLE_JWT_")
            || n.starts_with("SIMPLEJWT_")
            || n == "DATABASE_URL"
            || n == "RUST_LOG"
    })
}

/// The outcome of a one-shot command.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn assert_code(&self, expected: i32, what: &str) -> &Self {
        assert_eq!(
            self.code,
            Some(expected),
            "{what}: expected exit status {expected}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    fn assert_stderr_contains(&self, needle: &str, what: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "{what}: stderr does not mention {needle:?}:\n{}",
            self.stderr
        );
        self
    }
}

/// A temporary working directory with its own database.
struct Sandbox {
    dir: tempfile::TempDir,
    logs: AtomicU32,
}

impl Sandbox {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temporary directory"),
            logs: AtomicU32::new(0),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The binary with a clean environment, run in the sandbox on its database.
    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(BIN);
        for (name, _) in std::env::vars_os() {
            if inherited_config(&name) {
                cmd.env_remove(name);
            }
        }
        cmd.current_dir(self.dir.path())
            .env("DATABASE_URL", DATABASE_URL)
            .envs(env.iter().copied())
            .args(args);
        cmd
    }

    /// Runs a command to completion; `stdin: None` gives it no input at all
    /// (and no terminal).
    fn run(&self, args: &[&str], env: &[(&str, &str)], stdin: Option<&[u8]>) -> Run {
        let mut cmd = self.command(args, env);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = cmd.spawn().expect("spawn simplejwt");
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            // A command that refuses early never reads: a broken pipe is fine.
            let _ = pipe.write_all(input);
        }
        let pid = child.id();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait_with_output());
        });
        let output = match rx.recv_timeout(COMMAND_TIMEOUT) {
            Ok(output) => output.expect("wait for simplejwt"),
            Err(_) => {
                signal(pid, "KILL");
                panic!("simplejwt {args:?} did not finish within {COMMAND_TIMEOUT:?}");
            }
        };
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    fn migrate(&self) {
        self.run(&["migrate"], &[], None)
            .assert_code(0, "migrate")
            .assert_stderr_contains("up to date", "migrate");
    }

    fn create_user(&self, name: &str, password: &str, flags: &[&str]) -> Run {
        let mut args = vec!["createuser", name, "--password-stdin"];
        args.extend_from_slice(flags);
        let run = self.run(&args, &[], Some(password.as_bytes()));
        run.assert_code(0, &format!("createuser {name}"));
        run
    }

    /// Starts `serve` on a free port and waits until it accepts connections.
    fn serve(&self, env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let address = format!("127.0.0.1:{port}");
        let n = self.logs.fetch_add(1, Ordering::Relaxed);
        let log_path = self.path(&format!("serve-{n}.log"));
        let log = File::create(&log_path).expect("log file");
        let mut cmd = self.command(&["serve", "--bind", &address], env);
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log);
        let mut server = Server {
            child: Some(cmd.spawn().expect("spawn simplejwt serve")),
            base: format!("http://{address}"),
            log_path,
            client: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("http client"),
        };
        let deadline = Instant::now() + SERVER_TIMEOUT;
        loop {
            if TcpStream::connect(&address).is_ok() {
                return server;
            }
            let child = server.child.as_mut().expect("running");
            if let Some(status) = child.try_wait().expect("try_wait") {
                panic!(
                    "serve exited before listening ({status}):\n{}",
                    server.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "serve did not listen on {address} within {SERVER_TIMEOUT:?}:\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{name} {pid} failed");
}

fn wait_with_deadline(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A running `simplejwt serve`; killed if the test ends without stopping it.
struct Server {
    child: Option<Child>,
    base: String,
    log_path: PathBuf,
    client: reqwest::Client,
}

impl Server {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// SIGTERM, then the exit status and everything the server wrote.
    fn stop(mut self) -> (ExitStatus, String) {
        let mut child = self.child.take().expect("running");
        signal(child.id(), "TERM");
        let Some(status) = wait_with_deadline(&mut child, SERVER_TIMEOUT) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "serve ignored SIGTERM for {SERVER_TIMEOUT:?}:\n{}",
                self.log()
            );
        };
        (status, self.log())
    }

    /// Stops the server and asserts a graceful exit (status 0).
    fn stop_gracefully(self) -> String {
        let (status, log) = self.stop();
        assert_eq!(
            status.code(),
            Some(0),
            "serve after SIGTERM: {status}\n{log}"
        );
        log
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str, access: &str) -> (u16, Value) {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(access)
            .send()
            .await
            .expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn login(&self, username: &str, password: &str) -> (u16, Value) {
        self.post(
            "/api/token/",
            json!({"username": username, "password": password}),
        )
        .await
    }

    /// Logs in and returns the token pair; panics unless the login succeeds.
    async fn tokens(&self, username: &str, password: &str) -> (String, String) {
        let (status, body) = self.login(username, password).await;
        assert_eq!(status, 200, "login {username}: {body}");
        (
            body["access"].as_str().expect("access").to_owned(),
            body["refresh"].as_str().expect("refresh").to_owned(),
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A JWT segment (0 header, 1 payload) as JSON, unverified.
fn jwt_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("JWT segment");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// The value `check` prints for a setting (`  NAME   value`).
fn check_value<'a>(stdout: &'a str, setting: &str) -> &'a str {
    stdout
        .lines()
        .find_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some(setting)).then(|| words.next().unwrap_or(""))
        })
        .unwrap_or_else(|| panic!("check does not print {setting}:\n{stdout}"))
}

// ---- --help ----------------------------------------------------------------

#[test]
fn help_of_every_command_exits_0_and_describes_it() {
    let sandbox = Sandbox::new();
    let top = sandbox.run(&["--help"], &[], None);
    top.assert_code(0, "--help");
    for needle in [
        "SIMPLE_JWT_",
        "DATABASE_URL",
        "serve",
        "migrate",
        "createuser",
        "changepassword",
        "setactive",
        "sessions",
        "logout",
        "identities",
        "flushexpiredtokens",
        "import-django",
        "keygen",
        "check",
        "healthcheck",
    ] {
        assert!(
            top.stdout.contains(needle),
            "--help does not mention {needle}:\n{}",
            top.stdout
        );
    }
    for (command, description) in [
        ("serve", "Run the HTTP server"),
        ("migrate", "database schema"),
        ("createuser", "Create a user"),
        ("changepassword", "password"),
        ("setactive", "Activate or deactivate a user"),
        ("sessions", "live sessions"),
        ("logout", "End a user's sessions"),
        ("identities", "provider identities"),
        ("flushexpiredtokens", "(plus LEEWAY) has passed"),
        ("keygen", "signing key"),
        ("check", "Validate the configuration"),
        ("import-django", "from a Django project's database"),
        ("healthcheck", "/healthz"),
    ] {
        let run = sandbox.run(&[command, "--help"], &[], None);
        run.assert_code(0, &format!("{command} --help"));
        assert!(
            run.stdout.contains(description) && run.stdout.contains("Usage: simplejwt"),
            "{command} --help does not describe the command:\n{}",
            run.stdout
        );
    }
    assert!(
        !sandbox.path("db.sqlite3").exists(),
        "--help must not touch the database"
    );
}

// ---- createuser ------------------------------------------------------------

#[tokio::test]
async fn createuser_assigns_ids_in_order_and_inactive_users_cannot_log_in() {
    let sandbox = Sandbox::new();
    sandbox.migrate();
    // A trailing newline (as `echo` writes) is not part of the password.
    sandbox
        .create_user("alice", "alice-pw-1\n", &[])
        .assert_stderr_contains("(id 1)", "createuser alice");
    sandbox
        .create_user("bob", "bob-pw-2", &["--inactive"])
        .assert_stderr_contains("(id 2)", "createuser bob");
    sandbox
        .create_user("carol", "carol-pw-3\r\n", &[])
        .assert_stderr_contains("(id 3)", "createuser carol");

    let server = sandbox.serve(&[]);
    let (access, refresh) = server.tokens("alice", "alice-pw-1").await;
    assert_eq!(jwt_part(&access, 1)["user_id"], "1");
    assert_eq!(jwt_part(&refresh, 1)["user_id"], "1");
    let (access, _) = server.tokens("carol", "carol-pw-3").await;
    assert_eq!(jwt_part(&access, 1)["user_id"], "3");
    let (status, body) = server.login("bob", "bob-pw-2").await;
    assert_eq!(status, 401, "inactive bob logged in: {body}");
    assert_eq!(body["detail"], NO_ACTIVE_ACCOUNT);
    // Users made on the command line are the only ones: no initial admin.
    let log = server.stop_gracefully();
    assert!(
        initial_admin_password(&log).is_none(),
        "an initial admin was created although users exist:\n{log}"
    );
}

#[test]
fn createuser_of_an_existing_name_fails_with_status_1() {
    let sandbox = Sandbox::new();
    sandbox.create_user("alice", "first-password", &[]);
    sandbox
        .run(
            &["createuser", "alice", "--password-stdin"],
            &[],
            Some(b"second-password"),
        )
        .assert_code(1, "createuser of an existing name")
        .assert_stderr_contains("\"alice\" already exists", "createuser alice again");
}

#[tokio::test]
async fn createuser_refuses_bad_names_and_passwords_with_status_2() {
    let sandbox = Sandbox::new();
    let too_long = "p".repeat(4097);
    let cases: [(&str, &str, &str); 6] = [
        ("bad name!", "good-password", "invalid username"),
        ("", "good-password", "invalid username"),
        ("dave", "", "empty"),
        ("dave", " padded-password", "whitespace"),
        ("dave", "padded-password\t", "whitespace"),
        ("dave", &too_long, "4096"),
    ];
    for (name, password, message) in cases {
        sandbox
            .run(
                &["createuser", name, "--password-stdin"],
                &[],
                Some(password.as_bytes()),
            )
            .assert_code(
                2,
                &format!("createuser {name:?} with a bad name or password"),
            )
            .assert_stderr_contains(message, &format!("createuser {name:?}"));
    }
    // None of the refusals created dave; a 4096-byte password is still fine.
    let longest = "p".repeat(4096);
    sandbox
        .create_user("dave", &longest, &[])
        .assert_stderr_contains("(id 1)", "createuser dave");
    let server = sandbox.serve(&[]);
    server.tokens("dave", &longest).await;
    server.stop_gracefully();
}

#[tokio::test]
async fn weak_passwords_are_refused_as_django_refuses_them_unless_skipped() {
    let sandbox = Sandbox::new();
    let create = |password: &str, flags: &[&str]| {
        let mut args = vec![
            "createuser",
            "alice",
            "--password-stdin",
            "--email",
            "alice@example.com",
        ];
        args.extend_from_slice(flags);
        sandbox.run(&args, &[], Some(password.as_bytes()))
    };
    // Django 5.2's default validators, its messages.
    for (password, messages) in [
        (
            "x",
            &[
                "This password is too short. It must contain at least 8 characters.",
                "This password is too common.",
            ][..],
        ),
        (
            "12345678",
            &[
                "This password is too common.",
                "This password is entirely numeric.",
            ],
        ),
        ("alice1", &["The password is too similar to the username."]),
        ("Password", &["This password is too common."]),
    ] {
        let run = create(password, &[]);
        run.assert_code(2, &format!("createuser with {password:?}"))
            .assert_stderr_contains("--skip-password-validation", password);
        for message in messages {
            run.assert_stderr_contains(message, password);
        }
    }
    assert!(
        !sandbox.path("db.sqlite3").exists() || {
            let check = sandbox.run(&["check"], &[], None);
            check.stdout.contains("0 user(s)")
        },
        "no refused createuser made an account"
    );
    // The explicit override, for when the operator means it.
    create("x", &["--skip-password-validation"])
        .assert_code(0, "createuser --skip-password-validation");
    // changepassword applies the same rules, with the user's own attributes.
    let change = |password: &str, flags: &[&str]| {
        let mut args = vec!["changepassword", "alice", "--password-stdin"];
        args.extend_from_slice(flags);
        sandbox.run(&args, &[], Some(password.as_bytes()))
    };
    change("alice@example", &[])
        .assert_code(2, "changepassword too similar to the e-mail")
        .assert_stderr_contains("too similar to the", "changepassword");
    change("qwerty123", &[])
        .assert_code(2, "changepassword to a common password")
        .assert_stderr_contains("This password is too common.", "changepassword");
    change("an-acceptable-passphrase", &[]).assert_code(0, "changepassword");
    let server = sandbox.serve(&[]);
    server.tokens("alice", "an-acceptable-passphrase").await;
    server.stop_gracefully();
}

#[test]
fn password_commands_without_a_terminal_require_password_stdin() {
    let sandbox = Sandbox::new();
    sandbox
        .run(&["createuser", "alice"], &[], None)
        .assert_code(2, "createuser without a terminal")
        .assert_stderr_contains("--password-stdin", "createuser without a terminal");
    sandbox.create_user("alice", "alice-password", &[]);
    sandbox
        .run(&["changepassword", "alice"], &[], None)
        .assert_code(2, "changepassword without a terminal")
        .assert_stderr_contains("--password-stdin", "changepassword without a terminal");
}

#[test]
fn an_unreachable_postgres_is_named_with_its_host_and_cause() {
    let sandbox = Sandbox::new();
    let port = free_port(); // nothing listens there
    let url = format!("postgres://127.0.0.1:{port}/auth");
    for command in [&["migrate"][..], &["createuser", "bob", "--password-stdin"]] {
        let run = sandbox.run(
            command,
            &[("DATABASE_URL", &url)],
            Some(b"a-good-passphrase-1"),
        );
        run.assert_code(1, &format!("{command:?} against a closed port"))
            .assert_stderr_contains(
                &format!("cannot connect to PostgreSQL at 127.0.0.1:{port} (database \"auth\""),
                "the host and database",
            )
            .assert_stderr_contains("Connection refused", "the cause");
        assert!(!run.stderr.contains("pool timed out"), "{}", run.stderr);
    }
}

// ---- one SQLite file, one server ---------------------------------------------

#[tokio::test]
async fn a_second_serve_of_one_sqlite_file_is_refused_while_account_commands_work() {
    let sandbox = Sandbox::new();
    sandbox.create_user("alice", "alice-pw-1", &[]);
    let server = sandbox.serve(&[]);
    let pid = server.child.as_ref().expect("running").id();

    // A second server on the same file: refused, naming the first, before
    // touching anything.
    let address = format!("127.0.0.1:{}", free_port());
    sandbox
        .run(&["serve", "--bind", &address], &[], None)
        .assert_code(1, "a second serve of the same file")
        .assert_stderr_contains(
            &format!("already served by another `simplejwt serve` (pid {pid})"),
            "second serve",
        )
        .assert_stderr_contains("use PostgreSQL for several instances", "second serve");
    assert!(TcpStream::connect(&address).is_err(), "it never listened");

    // The account commands work on the served file, and the server sees them.
    sandbox.create_user("bob", "bob-pw-22", &[]);
    server.tokens("bob", "bob-pw-22").await;
    server.tokens("alice", "alice-pw-1").await;

    // The container's health check asks the running server.
    let served = server.base.trim_start_matches("http://").to_owned();
    sandbox
        .run(&["healthcheck", "--address", &served], &[], None)
        .assert_code(0, "healthcheck of a running server");
    server.stop_gracefully();
    sandbox
        .run(&["healthcheck", "--address", &served], &[], None)
        .assert_code(1, "healthcheck of a stopped server")
        .assert_stderr_contains(&format!("healthcheck {served}"), "healthcheck");

    // The lock goes with the process: the next start is fine.
    let again = sandbox.serve(&[]);
    again.tokens("bob", "bob-pw-22").await;
    again.stop_gracefully();
}

// ---- changepassword / setactive ---------------------------------------------

#[tokio::test]
async fn changepassword_retires_the_old_password_at_once() {
    let sandbox = Sandbox::new();
    sandbox.create_user("alice", "old-password", &[]);
    let server = sandbox.serve(&[]);
    server.tokens("alice", "old-password").await;

    sandbox
        .run(
            &["changepassword", "alice", "--password-stdin"],
            &[],
            Some(b"new-password\n"),
        )
        .assert_code(0, "changepassword")
        .assert_stderr_contains("Password changed", "changepassword");
    let (status, body) = server.login("alice", "old-password").await;
    assert_eq!(status, 401, "old password still works: {body}");
    assert_eq!(body["detail"], NO_ACTIVE_ACCOUNT);
    server.tokens("alice", "new-password").await;

    // The same rules as createuser; a refused change leaves the password alone.
    sandbox
        .run(
            &["changepassword", "alice", "--password-stdin"],
            &[],
            Some(b" spaced "),
        )
        .assert_code(2, "changepassword to a padded password");
    sandbox
        .run(
            &["changepassword", "nobody", "--password-stdin"],
            &[],
            Some(b"whatever-password"),
        )
        .assert_code(1, "changepassword of an unknown user")
        .assert_stderr_contains("no user \"nobody\"", "changepassword nobody");
    server.tokens("alice", "new-password").await;
    server.stop_gracefully();
}

#[tokio::test]
async fn setactive_false_blocks_login_and_tokens_and_true_restores_them() {
    let sandbox = Sandbox::new();
    sandbox.create_user("alice", "alice-password", &[]);
    let server = sandbox.serve(&[]);
    let (access, _) = server.tokens("alice", "alice-password").await;
    let (status, body) = server.get("/api/protected/", &access).await;
    assert_eq!((status, &body["message"]), (200, &json!("Welcome, alice!")));

    sandbox
        .run(&["setactive", "alice", "false"], &[], None)
        .assert_code(0, "setactive false")
        .assert_stderr_contains("inactive", "setactive false");
    let (status, body) = server.login("alice", "alice-password").await;
    assert_eq!(status, 401, "inactive alice logged in: {body}");
    assert_eq!(body["detail"], NO_ACTIVE_ACCOUNT);
    let (status, body) = server.get("/api/protected/", &access).await;
    assert_eq!(
        status, 401,
        "inactive alice's access token still works: {body}"
    );

    sandbox
        .run(&["setactive", "alice", "true"], &[], None)
        .assert_code(0, "setactive true");
    server.tokens("alice", "alice-password").await;
    let (status, _) = server.get("/api/protected/", &access).await;
    assert_eq!(status, 200, "reactivated alice's access token");

    sandbox
        .run(&["setactive", "nobody", "false"], &[], None)
        .assert_code(1, "setactive of an unknown user")
        .assert_stderr_contains("no user \"nobody\"", "setactive nobody");
    sandbox
        .run(&["setactive", "alice", "perhaps"], &[], None)
        .assert_code(2, "setactive with a non-boolean");
    // The state is required: a bare `setactive alice` must not pick one.
    sandbox
        .run(&["setactive", "alice"], &[], None)
        .assert_code(2, "setactive without a state");
    server.tokens("alice", "alice-password").await;
    server.stop_gracefully();
}

// ---- keys --------------------------------------------------------------------

/// The files of a directory and their contents, to compare before and after.
fn snapshot(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(e.path()).unwrap())
        })
        .collect()
}

#[test]
fn a_refused_keys_step_leaves_the_directory_as_it_was() {
    let sandbox = Sandbox::new();
    let keys = sandbox.path("keys");
    let keys_dir = keys.display().to_string();
    let env = [
        ("SIMPLE_JWT_ALGORITHM", "ES256"),
        ("SIMPLE_JWT_KEYS_DIR", keys_dir.as_str()),
    ];
    let first = sandbox.run(&["keys", "init"], &env, None);
    first.assert_code(0, "keys init");
    let current = first.stdout.trim().to_owned();
    let promoted = sandbox.run(&["keys", "promote", &current], &env, None);
    promoted
        .assert_code(0, "promote the signing key")
        .assert_stderr_contains("already the signing key", "promote the signing key");

    // A broken key dropped into the ring: promote and add refuse and change nothing.
    std::fs::write(keys.join("badkid.key"), "junk").unwrap();
    let before = snapshot(&keys);
    sandbox
        .run(&["keys", "promote", "badkid"], &env, None)
        .assert_code(2, "promote a broken key")
        .assert_stderr_contains("nothing was changed", "promote a broken key");
    assert_eq!(snapshot(&keys), before, "promote changed the directory");
    sandbox
        .run(&["keys", "add"], &env, None)
        .assert_code(2, "add beside a broken key")
        .assert_stderr_contains("nothing was changed", "add beside a broken key");
    assert_eq!(snapshot(&keys), before, "add changed the directory");
    // The listing says the ring does not load.
    sandbox
        .run(&["keys", "list"], &env, None)
        .assert_code(2, "list a broken ring")
        .assert_stderr_contains("does not load", "list a broken ring");
    // Retiring the broken key mends the ring.
    sandbox
        .run(&["keys", "retire", "badkid"], &env, None)
        .assert_code(0, "retire the broken key");
    sandbox
        .run(&["keys", "list"], &env, None)
        .assert_code(0, "list after mending");
}

// ---- sessions ----------------------------------------------------------------

#[tokio::test]
async fn sessions_lists_a_users_logins_and_logout_ends_one_or_all() {
    let sandbox = Sandbox::new();
    sandbox.create_user("alice", "alice-password", &[]);
    let server = sandbox.serve(&[]);
    let (_, first) = server.tokens("alice", "alice-password").await;
    let (_, second) = server.tokens("alice", "alice-password").await;
    // A client-written user agent cannot add columns to the listing.
    let forged = server
        .client
        .post(format!("{}/api/token/", server.base))
        .header("user-agent", "evil\tdeadbeef\t1\t2\t6.6.6.6\tfake")
        .json(&json!({"username": "alice", "password": "alice-password"}))
        .send()
        .await
        .expect("login");
    assert_eq!(forged.status().as_u16(), 200);

    let listed = sandbox.run(&["sessions", "alice"], &[], None);
    listed
        .assert_code(0, "sessions alice")
        .assert_stderr_contains("3 live session(s)", "sessions alice");
    for line in listed.stdout.lines() {
        assert_eq!(line.split('\t').count(), 5, "{line:?}");
    }
    assert!(
        listed.stdout.contains("evil\\tdeadbeef\\t1"),
        "{}",
        listed.stdout
    );
    let ids: Vec<String> = listed
        .stdout
        .lines()
        .map(|l| l.split('\t').next().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 3, "{}", listed.stdout);
    assert!(listed.stdout.contains("127.0.0.1"), "{}", listed.stdout);

    // Oldest first: the first line is the first login.
    sandbox
        .run(&["logout", "alice", "--session", &ids[0]], &[], None)
        .assert_code(0, "logout --session");
    let (status, body) = server
        .post("/api/token/refresh/", json!({ "refresh": first }))
        .await;
    assert_eq!(
        status, 401,
        "the ended session's token still refreshes: {body}"
    );
    let (status, _) = server
        .post("/api/token/refresh/", json!({ "refresh": second }))
        .await;
    assert_eq!(status, 200, "the other session was ended too");
    sandbox
        .run(&["logout", "alice", "--session", &ids[0]], &[], None)
        .assert_code(1, "ending an ended session")
        .assert_stderr_contains("no live session", "logout --session again");

    sandbox
        .run(&["logout", "alice"], &[], None)
        .assert_code(0, "logout all")
        .assert_stderr_contains("Ended 2 session(s)", "logout all");
    let (status, _) = server
        .post("/api/token/refresh/", json!({ "refresh": second }))
        .await;
    assert_eq!(status, 401);
    sandbox
        .run(&["sessions", "nobody"], &[], None)
        .assert_code(1, "sessions of an unknown user");
    server.stop_gracefully();
}

#[tokio::test]
async fn with_end_sessions_on_account_change_a_password_change_or_deactivation_ends_sessions() {
    let sandbox = Sandbox::new();
    sandbox.create_user("alice", "alice-password", &[]);
    let server = sandbox.serve(&[]);
    let on = [("SIMPLE_JWT_END_SESSIONS_ON_ACCOUNT_CHANGE", "true")];
    let (_, before) = server.tokens("alice", "alice-password").await;
    sandbox
        .run(
            &["changepassword", "alice", "--password-stdin"],
            &on,
            Some(b"new-password-1\n"),
        )
        .assert_code(0, "changepassword")
        .assert_stderr_contains("Ended 1 session(s)", "changepassword");
    let (status, body) = server
        .post("/api/token/refresh/", json!({ "refresh": before }))
        .await;
    assert_eq!(
        status, 401,
        "a session outlived the password change: {body}"
    );

    let (_, second) = server.tokens("alice", "new-password-1").await;
    sandbox
        .run(&["setactive", "alice", "false"], &on, None)
        .assert_code(0, "setactive false")
        .assert_stderr_contains("Ended 1 session(s)", "setactive false");
    sandbox
        .run(&["setactive", "alice", "true"], &on, None)
        .assert_code(0, "setactive true");
    let (status, body) = server
        .post("/api/token/refresh/", json!({ "refresh": second }))
        .await;
    assert_eq!(status, 401, "a session outlived the deactivation: {body}");
    server.stop_gracefully();
}

#[tokio::test]
async fn flushexpiredtokens_keeps_blacklist_rows_that_leeway_still_needs() {
    let sandbox = Sandbox::new();
    sandbox.create_user("alice", "alice-password", &[]);
    let settings = [
        ("SIMPLE_JWT_REFRESH_TOKEN_LIFETIME", "1s"),
        ("SIMPLE_JWT_LEEWAY", "60s"),
    ];
    let server = sandbox.serve(&settings);
    let (_, refresh) = server.tokens("alice", "alice-password").await;
    let (status, _) = server
        .post("/api/token/blacklist/", json!({ "refresh": refresh }))
        .await;
    assert_eq!(status, 200);
    // Wait (polling the clock, with a deadline) until the token's `exp` has passed.
    let exp = jwt_part(&refresh, 1)["exp"].as_f64().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while unix_now() <= exp + 1.0 {
        assert!(Instant::now() < deadline, "the clock did not pass exp");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    sandbox
        .run(&["flushexpiredtokens"], &settings, None)
        .assert_code(0, "flushexpiredtokens")
        .assert_stderr_contains("Deleted 0 expired token(s)", "flush within LEEWAY");
    let (status, body) = server
        .post("/api/token/refresh/", json!({ "refresh": refresh }))
        .await;
    assert_eq!(
        status, 401,
        "a logged-out token works again after a flush: {body}"
    );
    assert_eq!(body["detail"], "Token is blacklisted");
    server.stop_gracefully();
}

// ---- configuration -----------------------------------------------------------

fn keygen(sandbox: &Sandbox, algorithm: &str, prefix: &str) -> (PathBuf, PathBuf) {
    sandbox
        .run(
            &["keygen", "--algorithm", algorithm, "--out", prefix],
            &[],
            None,
        )
        .assert_code(0, &format!("keygen {algorithm}"));
    (
        sandbox.path(&format!("{prefix}.key")),
        sandbox.path(&format!("{prefix}.pub")),
    )
}

#[test]
fn bad_configuration_exits_2_naming_the_setting() {
    let sandbox = Sandbox::new();
    let (a_key, _) = keygen(&sandbox, "RS256", "pair-a");
    let (_, b_pub) = keygen(&sandbox, "RS256", "pair-b");
    let (a_key, b_pub) = (a_key.to_str().unwrap(), b_pub.to_str().unwrap());
    let missing = sandbox.path("no-such-dir/public.pem");
    let short_secret = "only-20-bytes-secret";
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("SIMPLE_JWT_ALGORITHM", "HS999")], "setting ALGORITHM"),
        (
            vec![("SIMPLE_JWT_SIGNING_KEY", short_secret)],
            "setting SIGNING_KEY",
        ),
        (
            vec![
                ("SIMPLE_JWT_ALGORITHM", "RS256"),
                ("SIMPLE_JWT_SIGNING_KEY_FILE", a_key),
                ("SIMPLE_JWT_VERIFYING_KEY_FILE", b_pub),
            ],
            "setting VERIFYING_KEY",
        ),
        (
            vec![("SIMPLE_JWT_ACCESS_TOKEN_LIFETIME", "soon")],
            "setting ACCESS_TOKEN_LIFETIME",
        ),
        (vec![("SIMPLE_JWT_FOO", "1")], "setting FOO"),
        (
            vec![
                ("SIMPLE_JWT_ALGORITHM", "RS256"),
                ("SIMPLE_JWT_SIGNING_KEY_FILE", a_key),
                ("SIMPLE_JWT_VERIFYING_KEY_FILE", missing.to_str().unwrap()),
            ],
            "setting VERIFYING_KEY",
        ),
    ];
    for (env, message) in &cases {
        // `check` validates; `serve` must refuse to start (a hang fails too).
        let bind = format!("127.0.0.1:{}", free_port());
        for args in [vec!["check"], vec!["serve", "--bind", &bind]] {
            let what = format!("{args:?} with {env:?}");
            let run = sandbox.run(&args, env, None);
            run.assert_code(2, &what)
                .assert_stderr_contains(message, &what);
            assert!(
                !run.stderr.contains(short_secret) && !run.stdout.contains(short_secret),
                "{what}: the signing key was printed:\n{}",
                run.stderr
            );
        }
    }
}

// ---- keygen ------------------------------------------------------------------

#[test]
fn keygen_keys_for_every_algorithm_pass_check() {
    let sandbox = Sandbox::new();
    sandbox.migrate();
    for algorithm in [
        "HS256", "HS512", "RS256", "PS256", "ES256", "ES384", "EdDSA",
    ] {
        let prefix = format!("key-{}", algorithm.to_ascii_lowercase());
        let (private, public) = keygen(&sandbox, algorithm, &prefix);
        #[cfg(unix)]
        assert_eq!(mode(&private), 0o600, "{algorithm} private key mode");
        let symmetric = algorithm.starts_with("HS");
        assert_eq!(
            public.exists(),
            !symmetric,
            "{algorithm}: a public key file exactly for asymmetric algorithms"
        );
        let mut env = vec![
            ("SIMPLE_JWT_ALGORITHM", algorithm.to_owned()),
            (
                "SIMPLE_JWT_SIGNING_KEY_FILE",
                private.to_str().unwrap().to_owned(),
            ),
        ];
        if !symmetric {
            env.push((
                "SIMPLE_JWT_VERIFYING_KEY_FILE",
                public.to_str().unwrap().to_owned(),
            ));
        }
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let run = sandbox.run(&["check"], &env, None);
        run.assert_code(0, &format!("check with keygen's {algorithm} keys"));
        assert_eq!(check_value(&run.stdout, "ALGORITHM"), algorithm);
        let secret = std::fs::read_to_string(&private).unwrap();
        let first_line = secret.lines().find(|l| !l.starts_with("-----")).unwrap();
        assert!(
            !run.stdout.contains(first_line) && !run.stderr.contains(first_line),
            "check printed the {algorithm} private key"
        );
    }
    // A key is never overwritten.
    let before = std::fs::read(sandbox.path("key-hs256.key")).unwrap();
    sandbox
        .run(&["keygen", "--out", "key-hs256"], &[], None)
        .assert_code(1, "keygen over an existing key");
    assert_eq!(
        std::fs::read(sandbox.path("key-hs256.key")).unwrap(),
        before
    );
    sandbox
        .run(&["keygen", "--algorithm", "HS999"], &[], None)
        .assert_code(2, "keygen of an unknown algorithm");
}

#[tokio::test]
async fn serve_signs_with_keygen_eddsa_keys() {
    let sandbox = Sandbox::new();
    let (private, public) = keygen(&sandbox, "EdDSA", "ed");
    sandbox.create_user("alice", "alice-password", &[]);
    let server = sandbox.serve(&[
        ("SIMPLE_JWT_ALGORITHM", "EdDSA"),
        ("SIMPLE_JWT_SIGNING_KEY_FILE", private.to_str().unwrap()),
        ("SIMPLE_JWT_VERIFYING_KEY_FILE", public.to_str().unwrap()),
    ]);
    let (access, _) = server.tokens("alice", "alice-password").await;
    assert_eq!(jwt_part(&access, 0)["alg"], "EdDSA");
    let (status, body) = server
        .post("/api/token/verify/", json!({"token": access}))
        .await;
    assert_eq!((status, body), (200, json!({})));
    server.stop_gracefully();
    assert!(
        !sandbox.path("db.sqlite3.signing-key").exists(),
        "serve generated an HMAC key although SIGNING_KEY was set"
    );
}

/// The database holds password hashes: a new SQLite file (and with it the
/// `-wal`/`-shm` files SQLite makes with the same mode) is private.
#[cfg(unix)]
#[test]
fn a_new_sqlite_database_is_readable_by_its_owner_only() {
    let sandbox = Sandbox::new();
    sandbox.migrate();
    let db = sandbox.path(DATABASE_URL.trim_start_matches("sqlite://"));
    assert!(db.exists(), "{}", db.display());
    assert_eq!(mode(&db), 0o600);
}

/// A percent-encoded SQLite URL names one file, decoded, the same for the
/// database (created private) and the files `serve` keeps beside it (key,
/// one-time admin password without a terminal, the lock of the served file).
#[cfg(unix)]
#[test]
fn a_percent_encoded_database_url_names_one_private_file_and_the_key_beside_it() {
    let sandbox = Sandbox::new();
    let url = [("DATABASE_URL", "sqlite://my%20db.sqlite3")];
    sandbox.serve(&url).stop_gracefully();
    let mut names: Vec<String> = std::fs::read_dir(sandbox.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| !name.starts_with("serve-"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "my db.sqlite3",
            "my db.sqlite3.admin-password",
            "my db.sqlite3.lock",
            "my db.sqlite3.signing-key"
        ]
    );
    assert_eq!(mode(&sandbox.path("my db.sqlite3")), 0o600);
    let check = sandbox.run(&["check"], &url, None);
    check.assert_code(0, "check on the same URL");
    for line in ["file my db.sqlite3.signing-key", "1 user(s)"] {
        assert!(
            check.stdout.contains(line),
            "{line:?} in:\n{}",
            check.stdout
        );
    }
}

#[test]
fn keygen_out_keeps_a_dotted_prefix() {
    // `--out` is documented as writing <PREFIX>.key and <PREFIX>.pub.
    let sandbox = Sandbox::new();
    sandbox
        .run(
            &["keygen", "--algorithm", "ES256", "--out", "jwt.2025"],
            &[],
            None,
        )
        .assert_code(0, "keygen --out jwt.2025");
    assert!(
        sandbox.path("jwt.2025.key").exists() && sandbox.path("jwt.2025.pub").exists(),
        "keygen --out jwt.2025 wrote {:?}",
        std::fs::read_dir(sandbox.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect::<Vec<_>>()
    );
}

// ---- check ---------------------------------------------------------------------

#[test]
fn check_warns_about_a_misspelt_server_option_in_the_environment() {
    // SIMPLEJWT_* is shared with test and tool variables, so an unknown name
    // is not refused; but one close to an option is a typo worth saying
    // (a misspelt TLS option would otherwise serve plain HTTP in silence).
    let sandbox = Sandbox::new();
    sandbox.migrate();
    let run = sandbox.run(
        &["check"],
        &[
            (
                "SIMPLE_JWT_SIGNING_KEY",
                "check-secret-7f3a9c1e5b2d8f4a6c0e9b1d3f5a7c9e",
            ),
            ("SIMPLEJWT_TLS_CERT_FIL", "cert.pem"),
            ("SIMPLEJWT_METRIC", "true"),
            ("SIMPLEJWT_DATABSE_URL_FILE", "url.txt"),
            ("SIMPLEJWT_QUITE_UNRELATED_TOOL_VARIABLE", "1"),
        ],
        None,
    );
    run.assert_code(0, "check with misspelt server options");
    for expected in [
        "Warning: environment variable SIMPLEJWT_TLS_CERT_FIL is not a server option (did you mean SIMPLEJWT_TLS_CERT_FILE?); ignored",
        "Warning: environment variable SIMPLEJWT_METRIC is not a server option (did you mean SIMPLEJWT_METRICS?); ignored",
        "SIMPLEJWT_DATABSE_URL_FILE is not a server option (did you mean SIMPLEJWT_DATABASE_URL_FILE?)",
    ] {
        assert!(run.stdout.contains(expected), "missing {expected:?}:\n{}", run.stdout);
    }
    assert!(
        !run.stdout.contains("QUITE_UNRELATED"),
        "a variable close to no option is left alone:\n{}",
        run.stdout
    );
    assert_eq!(check_value(&run.stdout, "METRICS"), "false", "ignored");
}

#[test]
fn check_masks_the_signing_key_and_layers_env_over_the_config_file() {
    let sandbox = Sandbox::new();
    let secret = "check-secret-7f3a9c1e5b2d8f4a6c0e9b1d3f5a7c9e";
    // `check` changes nothing: an unmigrated database is reported, not migrated.
    sandbox
        .run(&["check"], &[("SIMPLE_JWT_SIGNING_KEY", secret)], None)
        .assert_code(1, "check before migrate")
        .assert_stderr_contains("simplejwt migrate", "check before migrate");
    sandbox.migrate();
    let run = sandbox.run(&["check"], &[("SIMPLE_JWT_SIGNING_KEY", secret)], None);
    run.assert_code(0, "check with a signing key");
    assert!(
        check_value(&run.stdout, "SIGNING_KEY").starts_with("****"),
        "SIGNING_KEY is not masked:\n{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains(secret) && !run.stderr.contains(secret),
        "check printed the signing key:\n{}\n{}",
        run.stdout,
        run.stderr
    );
    assert!(run.stdout.contains("Configuration OK"), "{}", run.stdout);

    let config = sandbox.path("simplejwt.toml");
    std::fs::write(
        &config,
        format!(
            "[simple_jwt]\nACCESS_TOKEN_LIFETIME = \"2m\"\nSIGNING_KEY = \"{secret}\"\n\
             ROTATE_REFRESH_TOKENS = true\n"
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let from_file = sandbox.run(&["check", "--config", config], &[], None);
    from_file.assert_code(0, "check --config");
    assert_eq!(
        check_value(&from_file.stdout, "ACCESS_TOKEN_LIFETIME"),
        "2m"
    );
    assert_eq!(
        check_value(&from_file.stdout, "ROTATE_REFRESH_TOKENS"),
        "true"
    );
    assert!(
        !from_file.stdout.contains(secret) && !from_file.stderr.contains(secret),
        "check printed the signing key from the file"
    );
    // The environment wins over the file, for --config and SIMPLEJWT_CONFIG alike.
    let env_wins = sandbox.run(
        &["check", "--config", config],
        &[("SIMPLE_JWT_ACCESS_TOKEN_LIFETIME", "7m")],
        None,
    );
    env_wins.assert_code(0, "check --config with an env override");
    assert_eq!(check_value(&env_wins.stdout, "ACCESS_TOKEN_LIFETIME"), "7m");
    assert_eq!(
        check_value(&env_wins.stdout, "ROTATE_REFRESH_TOKENS"),
        "true"
    );
    let via_env = sandbox.run(&["check"], &[("SIMPLEJWT_CONFIG", config)], None);
    via_env.assert_code(0, "check with SIMPLEJWT_CONFIG");
    assert_eq!(check_value(&via_env.stdout, "ACCESS_TOKEN_LIFETIME"), "2m");

    // A value the hardened preset gives is reported as the preset's, one set
    // explicitly as its own source, one the preset leaves as the default.
    let preset = sandbox.run(
        &["check", "--config", config],
        &[("SIMPLE_JWT_PRESET", "hardened")],
        None,
    );
    preset.assert_code(0, "check with the hardened preset");
    let source = |setting: &str| {
        preset
            .stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(setting))
            .and_then(|l| l.rsplit_once('('))
            .map(|(_, s)| s.trim_end_matches(')').to_owned())
            .unwrap_or_else(|| panic!("no source for {setting}:\n{}", preset.stdout))
    };
    assert_eq!(source("LOGIN_THROTTLE"), "preset hardened");
    assert_eq!(source("ROTATE_REFRESH_TOKENS"), format!("file {config}"));
    assert_eq!(source("PRESET"), "environment SIMPLE_JWT_PRESET");
    assert_eq!(source("ALGORITHM"), "default");
}

// ---- serve's first start -------------------------------------------------------

/// The password `serve` shows for the initial admin, in the `username: admin`
/// / `password: …` lines of `text` (a terminal banner or the password file).
fn initial_admin_password(text: &str) -> Option<String> {
    let mut lines = text.lines().skip_while(|l| l.trim() != "username: admin");
    lines.next()?;
    let password = lines.next()?.trim().strip_prefix("password: ")?;
    Some(password.to_owned())
}

#[tokio::test]
async fn serve_without_a_key_generates_one_and_an_admin_and_reuses_the_key() {
    let sandbox = Sandbox::new();
    let key_file = sandbox.path("db.sqlite3.signing-key");

    let first = sandbox.serve(&[]);
    #[cfg(unix)]
    assert_eq!(mode(&key_file), 0o600, "generated key file mode");
    let key = std::fs::read_to_string(&key_file).unwrap();
    let key = key.trim();
    assert!(key.len() >= 64, "generated key is {} bytes", key.len());
    // Standard error is a pipe here, as under systemd or Docker: the one-time
    // password goes to a file readable by its owner only, never to the log.
    let password_file = sandbox.path("db.sqlite3.admin-password");
    let password = std::fs::read_to_string(&password_file)
        .ok()
        .and_then(|text| initial_admin_password(&text))
        .unwrap_or_else(|| panic!("no initial admin password file; log:\n{}", first.log()));
    #[cfg(unix)]
    assert_eq!(mode(&password_file), 0o600, "admin password file mode");
    let (access, refresh) = first.tokens("admin", &password).await;
    let log = first.stop_gracefully();
    assert!(
        !log.contains(password.as_str()),
        "the admin password is in the log:\n{log}"
    );
    assert!(
        log.contains("db.sqlite3.admin-password"),
        "the log does not say where the admin password is:\n{log}"
    );
    std::fs::remove_file(&password_file).unwrap();
    assert!(!log.contains(key), "the signing key was logged:\n{log}");

    let second = sandbox.serve(&[]);
    for token in [&access, &refresh] {
        let (status, body) = second
            .post("/api/token/verify/", json!({"token": token}))
            .await;
        assert_eq!((status, body), (200, json!({})), "first run's token");
    }
    let (status, body) = second.get("/api/protected/", &access).await;
    assert_eq!((status, &body["message"]), (200, &json!("Welcome, admin!")));
    second.tokens("admin", &password).await;
    let log = second.stop_gracefully();
    assert!(
        initial_admin_password(&log).is_none() && !log.contains(password.as_str()),
        "the second start printed an admin password:\n{log}"
    );
    assert!(
        !password_file.exists(),
        "the second start wrote an admin password file"
    );
    assert!(!log.contains(key), "the signing key was logged:\n{log}");
    assert_eq!(std::fs::read_to_string(&key_file).unwrap().trim(), key);
}

// ---- flushexpiredtokens -----------------------------------------------------------

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[tokio::test]
async fn flushexpiredtokens_deletes_expired_tokens_and_keeps_live_blacklist_entries() {
    let sandbox = Sandbox::new();
    sandbox.create_user("alice", "alice-password", &[]);

    // Three logins whose refresh tokens live one second.
    let short = sandbox.serve(&[("SIMPLE_JWT_REFRESH_TOKEN_LIFETIME", "1s")]);
    let mut latest_exp = 0;
    for _ in 0..3 {
        let (_, refresh) = short.tokens("alice", "alice-password").await;
        latest_exp = latest_exp.max(jwt_part(&refresh, 1)["exp"].as_i64().unwrap());
    }
    short.stop_gracefully();

    // One login with the default day, logged out (blacklisted).
    let long = sandbox.serve(&[]);
    let (_, live) = long.tokens("alice", "alice-password").await;
    let (status, body) = long
        .post("/api/token/blacklist/", json!({"refresh": live}))
        .await;
    assert_eq!((status, body), (200, json!({})), "logout");
    long.stop_gracefully();

    // The short tokens expire at `exp` (no leeway): wait for that second.
    let deadline = Instant::now() + Duration::from_secs(5);
    while unix_now() < latest_exp as f64 {
        assert!(
            Instant::now() < deadline,
            "clock did not reach {latest_exp}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    sandbox
        .run(&["flushexpiredtokens", "--batch", "2"], &[], None)
        .assert_code(0, "flushexpiredtokens")
        .assert_stderr_contains("Deleted 3 expired token(s).", "flushexpiredtokens");
    sandbox
        .run(&["flushexpiredtokens"], &[], None)
        .assert_code(0, "second flushexpiredtokens")
        .assert_stderr_contains("Deleted 0 expired token(s).", "second flushexpiredtokens");
    sandbox
        .run(&["flushexpiredtokens", "--batch", "0"], &[], None)
        .assert_code(2, "flushexpiredtokens --batch 0");

    // The live token's blacklist entry survived the flush.
    let server = sandbox.serve(&[]);
    let (status, body) = server
        .post("/api/token/refresh/", json!({"refresh": live}))
        .await;
    assert_eq!(status, 401, "blacklisted refresh token accepted: {body}");
    assert_eq!(body["detail"], "Token is blacklisted");
    server.stop_gracefully();
}

#[tokio::test]
async fn identities_lists_and_unlinks_but_never_the_last_way_to_sign_in() {
    use simplejwt::store::{NewIdentity, NewUser, StoreOptions};
    let sandbox = Sandbox::new();
    sandbox.create_user("alice", "alice-password", &[]);
    let url = format!("sqlite://{}", sandbox.path("db.sqlite3").display());
    let store = simplejwt::store::connect(&url, &StoreOptions::default())
        .await
        .expect("connect");
    let identity = |sub: &str| NewIdentity {
        provider: "google".into(),
        issuer: "https://accounts.google.com".into(),
        subject: sub.into(),
        email: format!("{sub}@example.com"),
    };
    let alice = store.user_by_username("alice").await.unwrap().unwrap();
    let linked = store
        .link_identity(alice.id, &identity("a-1"), 1)
        .await
        .unwrap();
    // A social-only account: an unusable password and one identity.
    let social = NewUser {
        username: "sam".into(),
        password_hash: "!unusable".into(),
        email: String::new(),
        is_active: true,
        is_staff: false,
        is_superuser: false,
    };
    let sam = store
        .create_user_with_identity(&social, &identity("s-1"), 1)
        .await
        .unwrap();
    let sams = store.identities_of(sam.id).await.unwrap();
    store.close().await;

    let listed = sandbox.run(&["identities", "list", "alice"], &[], None);
    listed.assert_code(0, "identities list");
    assert!(
        listed.stdout.starts_with(&format!(
            "{}\tgoogle\thttps://accounts.google.com\ta-1\t",
            linked.id
        )),
        "{}",
        listed.stdout
    );
    sandbox
        .run(
            &["identities", "unlink", "sam", &sams[0].id.to_string()],
            &[],
            None,
        )
        .assert_code(1, "unlinking the last way in")
        .assert_stderr_contains("last way to sign in", "identities unlink sam");
    sandbox
        .run(
            &["identities", "unlink", "alice", &linked.id.to_string()],
            &[],
            None,
        )
        .assert_code(0, "identities unlink alice");
    let listed = sandbox.run(&["identities", "list", "alice"], &[], None);
    listed
        .assert_code(0, "identities list")
        .assert_stderr_contains("0 identit(ies)", "after unlinking");
}
