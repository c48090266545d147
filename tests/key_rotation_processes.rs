//! A key rotation as operators run it (issue 17, point 5): two `simplejwt
//! serve` processes sharing one PostgreSQL database and one `KEYS_DIR`,
//! every step through the real CLI (`keys init`, `add`, `promote`,
//! `retire`, `list`) and picked up by SIGHUP. A token signed by instance A
//! after the promote verifies on B; the old key's tokens verify until it is
//! retired and are refused after; `retire` refuses while they can be valid.
//!
//! Each reload is awaited by watching what it changes (the JWKS, the `kid`
//! of a new token), never by sleeping.

mod common;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::TestDb;
use serde_json::{json, Value};

fn command(url: &str, env: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_simplejwt"));
    for (k, _) in std::env::vars() {
        if k.starts_with("SIMPLE_JWT_") || k.starts_with("SIMPLEJWT_") || k == "DATABASE_URL" {
            cmd.env_remove(k);
        }
    }
    cmd.env("DATABASE_URL", url).env("SIMPLEJWT_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

fn run(url: &str, env: &[(&str, String)], args: &[&str], stdin: &str) -> Output {
    use std::io::Write as _;
    let mut child = command(url, env)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn ok(url: &str, env: &[(&str, String)], args: &[&str]) -> String {
    let out = run(url, env, args, "");
    assert!(
        out.status.success(),
        "simplejwt {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(url: &str, env: &[(&str, String)]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = command(url, env)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    fn sighup(&self) {
        let status = Command::new("kill")
            .args(["-HUP", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    async fn jwks_kids(&self, client: &reqwest::Client) -> Option<Vec<String>> {
        let r = client
            .get(format!("{}/.well-known/jwks.json", self.base))
            .send()
            .await
            .ok()?;
        let doc: Value = r.json().await.ok()?;
        let mut kids: Vec<String> = doc["keys"]
            .as_array()?
            .iter()
            .filter_map(|k| k["kid"].as_str().map(str::to_owned))
            .collect();
        kids.sort();
        Some(kids)
    }

    async fn access(&self, client: &reqwest::Client) -> String {
        let r = client
            .post(format!("{}/api/token/", self.base))
            .json(&json!({"username": "alice", "password": "alice-Password-1"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        body["access"].as_str().unwrap().to_owned()
    }

    async fn protected(&self, client: &reqwest::Client, token: &str) -> u16 {
        client
            .get(format!("{}/api/protected/", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

/// Polls `check` until it holds (a reload has been seen), for at most 30 s.
async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn kid_of(token: &str) -> Option<String> {
    use base64::Engine as _;
    let head = token.split('.').next()?;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(head)
        .ok()?;
    let header: Value = serde_json::from_slice(&raw).ok()?;
    header["kid"].as_str().map(str::to_owned)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[tokio::test]
#[cfg_attr(skip_postgres, ignore = "SIMPLEJWT_SKIP_POSTGRES=1")]
async fn two_instances_rotate_keys_through_the_cli_and_sighup() {
    let db = TestDb::postgres().await;
    let url = db.url.clone();
    let tmp = tempfile::tempdir().unwrap();
    let prefix = tmp.path().join("legacy");
    let keys_dir = tmp.path().join("keys").display().to_string();

    // The deployment before: an ES256 SIGNING_KEY.
    ok(
        &url,
        &[],
        &[
            "keygen",
            "--algorithm",
            "ES256",
            "--out",
            prefix.to_str().unwrap(),
        ],
    );
    let legacy_env = [
        ("SIMPLE_JWT_ALGORITHM", "ES256".to_owned()),
        (
            "SIMPLE_JWT_SIGNING_KEY",
            read(&tmp.path().join("legacy.key")),
        ),
        (
            "SIMPLE_JWT_VERIFYING_KEY",
            read(&tmp.path().join("legacy.pub")),
        ),
    ];
    ok(&url, &legacy_env, &["migrate"]);
    let out = run(
        &url,
        &legacy_env,
        &["createuser", "alice", "--password-stdin"],
        "alice-Password-1",
    );
    assert!(out.status.success());
    let client = reqwest::Client::new();
    let before = {
        let legacy = Server::start(&url, &legacy_env);
        until("the legacy server", || async {
            legacy.jwks_kids(&client).await.is_some()
        })
        .await;
        legacy.access(&client).await
    };

    // init: the key in use becomes the ring's first key.
    let mut init_env = legacy_env.to_vec();
    init_env.push(("SIMPLE_JWT_KEYS_DIR", keys_dir.clone()));
    let old_kid = ok(&url, &init_env, &["keys", "init"]);
    let env = [
        ("SIMPLE_JWT_ALGORITHM", "ES256".to_owned()),
        ("SIMPLE_JWT_KEYS_DIR", keys_dir.clone()),
    ];
    let a = Server::start(&url, &env);
    let b = Server::start(&url, &env);
    for s in [&a, &b] {
        until("an instance", || async {
            s.jwks_kids(&client).await == Some(vec![old_kid.clone()])
        })
        .await;
    }
    let t0 = a.access(&client).await;
    assert_eq!(
        kid_of(&t0),
        None,
        "the imported key's tokens keep their header"
    );
    for s in [&a, &b] {
        assert_eq!(s.protected(&client, &before).await, 200);
        assert_eq!(s.protected(&client, &t0).await, 200);
    }

    // add → SIGHUP: both publish it.
    let new_kid = ok(&url, &env, &["keys", "add"]);
    let mut both = vec![old_kid.clone(), new_kid.clone()];
    both.sort();
    for s in [&a, &b] {
        s.sighup();
        until("the added key in the JWKS", || async {
            s.jwks_kids(&client).await.as_ref() == Some(&both)
        })
        .await;
    }

    // promote → SIGHUP A only: A signs with the new key; B verifies it.
    ok(&url, &env, &["keys", "promote", &new_kid]);
    a.sighup();
    let deadline = Instant::now() + Duration::from_secs(30);
    let t1 = loop {
        let token = a.access(&client).await;
        if kid_of(&token).as_deref() == Some(new_kid.as_str()) {
            break token;
        }
        assert!(
            Instant::now() < deadline,
            "A never signed with the promoted key"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert_eq!(b.protected(&client, &t1).await, 200);
    b.sighup();
    until("B signing with the promoted key", || async {
        kid_of(&b.access(&client).await).as_deref() == Some(new_kid.as_str())
    })
    .await;
    for s in [&a, &b] {
        assert_eq!(s.protected(&client, &t1).await, 200);
        assert_eq!(
            s.protected(&client, &t0).await,
            200,
            "old key until retired"
        );
    }

    // retire: refused while the old key's tokens can be valid …
    let out = run(&url, &env, &["keys", "retire", &old_kid], "");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    let list = ok(&url, &env, &["keys", "list"]);
    assert!(list.contains(&new_kid) && list.contains("signing"));
    assert!(
        list.contains(&old_kid) && list.contains("verifying"),
        "{list}"
    );
    // … forced: after the reload, its tokens are refused everywhere.
    ok(&url, &env, &["keys", "retire", &old_kid, "--force"]);
    for s in [&a, &b] {
        s.sighup();
        until("the retired key gone from the JWKS", || async {
            s.jwks_kids(&client).await == Some(vec![new_kid.clone()])
        })
        .await;
        assert_eq!(s.protected(&client, &t0).await, 401);
        assert_eq!(s.protected(&client, &before).await, 401);
        assert_eq!(s.protected(&client, &t1).await, 200);
    }
}
