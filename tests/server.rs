//! The serving loop under hostile connections and signals, through the real
//! binary (`CARGO_BIN_EXE_simplejwt serve`) and raw TCP clients:
//! - a slow-header client and a silent one are closed after the header-read
//!   timeout while normal requests keep being answered;
//! - connections beyond the cap, and beyond the descriptor limit, do not
//!   starve a normal request;
//! - SIGTERM with stalled clients exits within the grace, answering the
//!   request that completes meanwhile and cutting (and counting) the rest;
//! - SIGHUP does not drop an in-flight request nor stop the server.
//!
//! Small timeouts are set through the server options; the tests wait on
//! events (a closed socket, a log line, an exit) under generous deadlines
//! that only keep a failing test from hanging. Latencies are printed, never
//! asserted.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_simplejwt");
/// Longest any wait of these tests may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(30);
/// A request that needs no database: a malformed token is refused with 401.
const VERIFY_BODY: &str = r#"{"token": "not-a-token"}"#;

/// A running `simplejwt serve` in its own directory, killed on drop.
struct Server {
    child: Child,
    address: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

fn inherited_config(name: &OsStr) -> bool {
    name.to_str().is_some_and(|n| {
        n.starts_with("SIMPLE_JWT_")
            || n.starts_with("SIMPLEJWT_")
            || n == "DATABASE_URL"
            || n == "RUST_LOG"
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

impl Server {
    /// Starts the server with `env` options; with `max_open_files`, under a
    /// shell whose `ulimit -n` (soft and hard) is that number.
    fn start(env: &[(&str, &str)], max_open_files: Option<u32>) -> Server {
        let dir = tempfile::tempdir().expect("temporary directory");
        let address = format!("127.0.0.1:{}", free_port());
        let log = dir.path().join("serve.log");
        let out = File::create(&log).expect("log file");
        let mut cmd = match max_open_files {
            None => Command::new(BIN),
            Some(n) => {
                let mut sh = Command::new("sh");
                sh.arg("-c")
                    .arg(format!("ulimit -n {n} && exec \"$0\" \"$@\""))
                    .arg(BIN);
                sh
            }
        };
        for (name, _) in std::env::vars_os() {
            if inherited_config(&name) {
                cmd.env_remove(name);
            }
        }
        cmd.current_dir(dir.path())
            .env("DATABASE_URL", "sqlite://db.sqlite3")
            .env("SIMPLEJWT_LOG", "info,simplejwt=debug")
            .envs(env.iter().copied())
            .args(["serve", "--bind", &address])
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log file"))
            .stderr(out);
        let child = cmd.spawn().expect("spawn simplejwt serve");
        let server = Server {
            child,
            address,
            log,
            _dir: dir,
        };
        server.wait_for_log("simplejwt listening");
        server
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Polls the log until it contains `needle` (or the server exited).
    fn wait_for_log(&self, needle: &str) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let log = self.log();
            if log.contains(needle) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no {needle:?} in the log within {DEADLINE:?}:\n{log}"
            );
            std::thread::yield_now();
            std::thread::sleep(Duration::from_millis(20)); // polling interval, not a race
        }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    fn wait_exit(&mut self) -> Option<ExitStatus> {
        let deadline = Instant::now() + DEADLINE;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20)); // polling interval
        }
        None
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(&self.address).expect("connect");
        stream.set_read_timeout(Some(DEADLINE)).unwrap();
        stream
    }

    /// One complete request on a new connection; the status and the time it took.
    fn verify(&self) -> (u16, Duration) {
        let started = Instant::now();
        let mut stream = self.connect();
        stream.write_all(verify_request().as_bytes()).unwrap();
        let status = status_of(&read_to_end(&mut stream));
        (status, started.elapsed())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn verify_request() -> String {
    format!(
        "POST /api/token/verify/ HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{VERIFY_BODY}",
        VERIFY_BODY.len()
    )
}

fn read_to_end(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    match stream.read_to_end(&mut answer) {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        Err(e) => panic!("reading the answer: {e}"),
    }
    String::from_utf8_lossy(&answer).into_owned()
}

fn status_of(answer: &str) -> u16 {
    answer
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"))
}

/// Blocks until the server closes `stream` (EOF or reset); what it sent.
fn wait_closed(stream: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => break,
            Err(e) => panic!("the server did not close the connection: {e}"),
        }
    }
    String::from_utf8_lossy(&seen).into_owned()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// A request whose head and half its body are sent; the rest is up to the test.
fn half_sent_body(server: &Server) -> (TcpStream, &'static str) {
    let mut stream = server.connect();
    let (first, rest) = VERIFY_BODY.split_at(5);
    let head = format!(
        "POST /api/token/verify/ HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{first}",
        VERIFY_BODY.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    (stream, rest)
}

#[test]
fn a_slow_header_client_and_a_silent_one_are_closed_while_others_are_served() {
    let server = Server::start(&[("SIMPLEJWT_HEADER_READ_TIMEOUT", "1s")], None);

    let mut silent = server.connect();
    let mut slow = server.connect();
    let mut writer = slow.try_clone().unwrap();
    let trickle = std::thread::spawn(move || {
        // One byte of a request head every 100 ms, until the server hangs up.
        for byte in b"GET /api/protected/ HTTP/1.1\r\nX-Slow: ".iter().cycle() {
            if writer.write_all(&[*byte]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100)); // the attack's pace
        }
    });
    let started = Instant::now();

    let mut latencies = Vec::new();
    let slow_closed = std::thread::spawn(move || {
        let sent = wait_closed(&mut slow);
        (sent, started.elapsed())
    });
    while !slow_closed.is_finished() {
        let (status, took) = server.verify();
        assert_eq!(status, 401);
        latencies.push(took);
    }
    let (_, slow_after) = slow_closed.join().unwrap();
    let silent_sent = wait_closed(&mut silent);
    let silent_after = started.elapsed();
    trickle.join().unwrap();
    assert!(silent_sent.is_empty(), "{silent_sent:?}");

    latencies.sort();
    println!(
        "slow-header client closed after {slow_after:?}, silent one by {silent_after:?}; \
         {} normal requests meanwhile: p50 {:?}, p99 {:?}, max {:?}",
        latencies.len(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().unwrap()
    );
    // Still serving afterwards.
    assert_eq!(server.verify().0, 401);
}

#[test]
fn connections_beyond_the_cap_do_not_starve_a_normal_request() {
    let server = Server::start(
        &[
            ("SIMPLEJWT_MAX_CONNECTIONS", "20"),
            ("SIMPLEJWT_HEADER_READ_TIMEOUT", "10m"),
            ("SIMPLEJWT_IDLE_TIMEOUT", "10m"),
        ],
        None,
    );
    // Twice the cap: half silent, half stuck in the middle of a head.
    let mut hogs = Vec::new();
    for i in 0..40 {
        let mut stream = server.connect();
        if i % 2 == 0 {
            stream
                .write_all(b"GET /api/protected/ HTTP/1.1\r\n")
                .unwrap();
        }
        hogs.push(stream);
    }
    let mut latencies = Vec::new();
    for _ in 0..20 {
        let (status, took) = server.verify();
        assert_eq!(status, 401);
        latencies.push(took);
    }
    latencies.sort();
    println!(
        "with 40 idle connections at a cap of 20: p50 {:?}, max {:?}",
        percentile(&latencies, 0.5),
        latencies.last().unwrap()
    );
    // The hogs made room: the 20 longest idle were closed, oldest first.
    for hog in &mut hogs[..20] {
        wait_closed(hog);
    }
}

#[test]
fn connections_beyond_the_descriptor_limit_do_not_starve_a_normal_request() {
    let server = Server::start(
        &[
            ("SIMPLEJWT_HEADER_READ_TIMEOUT", "10m"),
            ("SIMPLEJWT_IDLE_TIMEOUT", "10m"),
        ],
        Some(128),
    );
    server.wait_for_log("MAX_CONNECTIONS lowered to fit the open-descriptor limit");
    // More silent connections than the process has descriptors.
    let hogs: Vec<TcpStream> = (0..200).map(|_| server.connect()).collect();
    for _ in 0..10 {
        assert_eq!(server.verify().0, 401);
    }
    assert!(
        !server.log().contains("accept failed"),
        "the accept loop ran out of descriptors:\n{}",
        server.log()
    );
    drop(hogs);
}

#[test]
fn sigterm_with_stalled_clients_exits_within_the_grace() {
    let mut server = Server::start(
        &[
            ("SIMPLEJWT_SHUTDOWN_GRACE", "2s"),
            ("SIMPLEJWT_HEADER_READ_TIMEOUT", "10m"),
            ("SIMPLEJWT_REQUEST_TIMEOUT", "10m"),
        ],
        None,
    );
    // Stalled in its head, stalled in its body, and one that will finish.
    let mut head = server.connect();
    head.write_all(b"GET /api/protected/ HTTP/1.1\r\nHost: te")
        .unwrap();
    let (mut body, _) = half_sent_body(&server);
    let (mut finishing, rest) = half_sent_body(&server);
    // All three are being served before the signal.
    assert_eq!(server.verify().0, 401);

    let signalled = Instant::now();
    server.signal("TERM");
    server.wait_for_log("stopping: no new connections");
    finishing.write_all(rest.as_bytes()).unwrap();
    let answer = read_to_end(&mut finishing);
    assert_eq!(status_of(&answer), 401, "{answer}");

    let status = server.wait_exit().expect("no exit after SIGTERM");
    let took = signalled.elapsed();
    assert!(status.success(), "{status:?}\n{}", server.log());
    let log = server.log();
    assert!(
        log.contains("cut 2 connection(s)"),
        "the cut connections are not counted:\n{log}"
    );
    wait_closed(&mut head);
    wait_closed(&mut body);
    println!("exited {took:?} after SIGTERM (grace 2s)");
}

#[test]
fn sighup_does_not_drop_an_in_flight_request() {
    let mut server = Server::start(&[], None);
    let (mut stream, rest) = half_sent_body(&server);
    assert_eq!(server.verify().0, 401);
    server.signal("HUP");
    server.wait_for_log("reload requested");
    stream.write_all(rest.as_bytes()).unwrap();
    let answer = read_to_end(&mut stream);
    assert_eq!(status_of(&answer), 401, "{answer}");
    // Still serving, still running.
    assert_eq!(server.verify().0, 401);
    assert!(server.child.try_wait().unwrap().is_none());
    server.signal("TERM");
    assert!(server.wait_exit().expect("no exit").success());
}

/// Makes `path` unwritable for this process: immutable (`chattr +i`) as
/// root, whom permissions do not stop; read-only permissions otherwise.
/// Undone on drop. `None` (the test is skipped) where neither works.
struct Unwritable {
    path: PathBuf,
    immutable: bool,
}

impl Unwritable {
    fn make(path: &std::path::Path) -> Option<Unwritable> {
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        if root {
            let done = Command::new("chattr")
                .arg("+i")
                .arg(path)
                .status()
                .is_ok_and(|s| s.success());
            if !done {
                eprintln!("skipped: chattr +i is not available here");
                return None;
            }
        } else {
            use std::os::unix::fs::PermissionsExt;
            let mode = if path.is_dir() { 0o555 } else { 0o444 };
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        Some(Unwritable {
            path: path.to_owned(),
            immutable: root,
        })
    }
}

impl Drop for Unwritable {
    fn drop(&mut self) {
        if self.immutable {
            let _ = Command::new("chattr").arg("-i").arg(&self.path).status();
        } else {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o755));
        }
    }
}

/// Runs `simplejwt ARGS` in `dir` on its database to completion (under the deadline).
fn run_in(dir: &std::path::Path, args: &[&str]) -> (Option<i32>, String) {
    let mut cmd = Command::new(BIN);
    for (name, _) in std::env::vars_os() {
        if inherited_config(&name) {
            cmd.env_remove(name);
        }
    }
    let mut child = cmd
        .current_dir(dir)
        .env("DATABASE_URL", "sqlite://db.sqlite3")
        .env(
            "SIMPLE_JWT_SIGNING_KEY",
            "a-test-signing-key-of-at-least-64-bytes-for-hs256-0123456789abcdef",
        )
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn simplejwt");
    let deadline = Instant::now() + DEADLINE;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("simplejwt {args:?} did not finish within {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(20)); // polling interval
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status.code(), stderr)
}

#[test]
fn serve_refuses_a_database_file_it_cannot_write_naming_it_and_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(run_in(dir.path(), &["migrate"]).0, Some(0));
    let file = std::path::absolute(dir.path().join("db.sqlite3")).unwrap();
    let Some(_locked) = Unwritable::make(&file) else {
        return;
    };
    let (code, stderr) = run_in(dir.path(), &["serve", "--bind", "127.0.0.1:0"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "refusing to start: the database {} cannot be written",
            file.display()
        )) && stderr.contains("read-only"),
        "{stderr}"
    );
    assert!(!stderr.contains("listening"), "{stderr}");
}

#[test]
fn serve_refuses_a_database_in_a_read_only_directory_naming_it_and_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    assert_eq!(run_in(&data, &["migrate"]).0, Some(0));
    let file = std::path::absolute(data.join("db.sqlite3")).unwrap();
    let Some(_locked) = Unwritable::make(&data) else {
        return;
    };
    let (code, stderr) = run_in(&data, &["serve", "--bind", "127.0.0.1:0"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("database {}", file.display()))
            && stderr.contains("unable to open database file"),
        "{stderr}"
    );
    assert!(!stderr.contains("pool timed out"), "{stderr}");
}

#[test]
fn a_request_over_the_deadline_is_answered_408_and_an_idle_connection_is_closed() {
    let server = Server::start(
        &[
            ("SIMPLEJWT_REQUEST_TIMEOUT", "1s"),
            ("SIMPLEJWT_IDLE_TIMEOUT", "1s"),
            ("SIMPLEJWT_HEADER_READ_TIMEOUT", "10m"),
        ],
        None,
    );
    // A body that never completes: the deadline answers.
    let (mut stalled, _) = half_sent_body(&server);
    let answer = read_to_end(&mut stalled);
    assert_eq!(status_of(&answer), 408, "{answer}");
    // The deadline answers like any other error: a JSON body, the security
    // headers, the request id, and an access line.
    assert!(
        answer.ends_with(r#"{"detail":"Request timed out."}"#),
        "{answer}"
    );
    let lower = answer.to_ascii_lowercase();
    assert!(lower.contains("content-type: application/json"), "{answer}");
    assert!(lower.contains("x-request-id: "), "{answer}");
    assert!(
        lower.contains("x-content-type-options: nosniff"),
        "{answer}"
    );
    server.wait_for_log("status=408");

    // A kept-alive connection: answered, then closed once idle (the head
    // timeout, 10 minutes here, is not what closes it).
    let mut kept = server.connect();
    let request = verify_request().replace("Connection: close\r\n", "");
    kept.write_all(request.as_bytes()).unwrap();
    let answer = wait_closed(&mut kept);
    assert_eq!(status_of(&answer), 401, "{answer}");
    // Log lines are written by a thread of their own: wait for them.
    server.wait_for_log("idle connection closed");
}

/// One request with `body` (JSON) or none, `Connection: close`; the status,
/// the whole answer as text and its JSON body (`Null` when there is none).
fn call(
    server: &Server,
    method: &str,
    path: &str,
    body: Option<&str>,
    bearer: Option<&str>,
) -> (u16, String, serde_json::Value) {
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    if let Some(token) = bearer {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    let mut stream = server.connect();
    stream.write_all(request.as_bytes()).unwrap();
    let answer = read_to_end(&mut stream);
    let json = answer
        .split_once("\r\n\r\n")
        .and_then(|(_, body)| serde_json::from_str(body).ok())
        .unwrap_or(serde_json::Value::Null);
    (status_of(&answer), answer, json)
}

/// Root only (CI runs as root): the `-wal` file made immutable under a
/// running server — writes fail as they would on a full or read-only disk.
/// Logins answer 503 with `Retry-After` and the `service_unavailable` body,
/// reads go on, the log names the fault once (not per request), and the
/// first login after the cause is gone succeeds, without a restart.
#[test]
fn an_unwritable_wal_answers_503_logs_once_and_the_first_write_after_succeeds() {
    let server = Server::start(&[], None);
    let dir = server._dir.path().to_owned();
    let mut create = Command::new(BIN);
    for (name, _) in std::env::vars_os() {
        if inherited_config(&name) {
            create.env_remove(name);
        }
    }
    let mut child = create
        .current_dir(&dir)
        .env("DATABASE_URL", "sqlite://db.sqlite3")
        .args(["createuser", "alice", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"alice-Password-1")
        .unwrap();
    assert!(child.wait().unwrap().success(), "createuser alice");
    let login = r#"{"username": "alice", "password": "alice-Password-1"}"#;
    let (status, answer, pair) = call(&server, "POST", "/api/token/", Some(login), None);
    assert_eq!(status, 200, "{answer}");
    let access = pair["access"].as_str().unwrap().to_owned();

    let wal = dir.join("db.sqlite3-wal");
    assert!(wal.exists(), "the database is in WAL mode");
    let Some(locked) = Unwritable::make(&wal) else {
        return;
    };
    if !locked.immutable {
        eprintln!("skipped: without root an open file stays writable");
        return;
    }
    for _ in 0..5 {
        let (status, answer, body) = call(&server, "POST", "/api/token/", Some(login), None);
        assert_eq!(status, 503, "{answer}");
        assert!(answer.contains("\r\nretry-after: 1\r\n"), "{answer}");
        assert_eq!(
            body,
            serde_json::json!({
                "detail": "Service temporarily unavailable, try again later.",
                "code": "service_unavailable"
            })
        );
    }
    // Reads go on.
    let (status, answer, _) = call(&server, "GET", "/api/protected/", None, Some(&access));
    assert_eq!(status, 200, "{answer}");
    let verify = format!(r#"{{"token": "{access}"}}"#);
    let (status, answer, _) = call(&server, "POST", "/api/token/verify/", Some(&verify), None);
    assert_eq!(status, 200, "{answer}");

    drop(locked);
    let (status, answer, _) = call(&server, "POST", "/api/token/", Some(login), None);
    assert_eq!(status, 200, "the first login after the fault: {answer}");
    // Log lines are written by a thread of their own: wait for the last one.
    server.wait_for_log("database writes recovered");
    let log = server.log();
    assert_eq!(
        log.matches("database writes failing").count(),
        1,
        "one line for the fault, not one per request:\n{log}"
    );
    assert!(log.contains("database writes recovered"), "{log}");
    assert!(
        !log.contains("database error"),
        "a fault logged as a bug:\n{log}"
    );
    let other_warnings: Vec<&str> = log
        .lines()
        .filter(|line| line.contains(" WARN ") && !line.contains("database writes"))
        .collect();
    assert!(other_warnings.is_empty(), "{other_warnings:#?}");
}
