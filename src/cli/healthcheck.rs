//! `healthcheck`: asks a running server's `GET /healthz` and exits 0 when it
//! answers 200 — for a container's `HEALTHCHECK` (the runtime image has no
//! shell and no curl) and orchestrators' exec probes.
//!
//! One request over a plain TCP connection, HTTP/1.1 with `Connection:
//! close`, and only the status line read: the probe needs nothing more, so
//! no HTTP client is pulled into the binary for it. The address is BIND (a
//! wildcard bind is asked on loopback) unless `--url` names another.

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::config::Config;
use super::{CliResult, Failure};

/// Longest the whole probe may take.
const TIMEOUT: Duration = Duration::from_secs(3);

/// The `host:port` to ask for a BIND address: a wildcard becomes loopback.
fn probe_address(bind: &str) -> String {
    match bind.rsplit_once(':') {
        Some(("0.0.0.0", port)) => format!("127.0.0.1:{port}"),
        Some(("[::]", port)) => format!("[::1]:{port}"),
        _ => bind.to_owned(),
    }
}

pub(crate) async fn run(config: &Config, address: Option<String>) -> CliResult {
    let address = address.unwrap_or_else(|| probe_address(config.server.bind()));
    let probe = async {
        let mut stream = tokio::net::TcpStream::connect(&address).await?;
        let request =
            format!("GET /healthz HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut head = Vec::with_capacity(64);
        let mut buf = [0u8; 64];
        while !head.contains(&b'\n') && head.len() < 1024 {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        Ok::<_, std::io::Error>(head)
    };
    let head = match tokio::time::timeout(TIMEOUT, probe).await {
        Ok(Ok(head)) => head,
        Ok(Err(e)) => return Err(Failure::Runtime(format!("healthcheck {address}: {e}"))),
        Err(_) => {
            return Err(Failure::Runtime(format!(
                "healthcheck {address}: no answer within {TIMEOUT:?}"
            )))
        }
    };
    let line = String::from_utf8_lossy(&head);
    let status = line.lines().next().unwrap_or("").trim();
    if status.split(' ').nth(1) == Some("200") {
        println!("healthy: {address} answered {status}");
        Ok(())
    } else {
        Err(Failure::Runtime(format!(
            "healthcheck {address}: /healthz answered {status:?}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::probe_address;

    #[test]
    fn wildcard_binds_are_probed_on_loopback() {
        assert_eq!(probe_address("0.0.0.0:8000"), "127.0.0.1:8000");
        assert_eq!(probe_address("[::]:8000"), "[::1]:8000");
        assert_eq!(probe_address("127.0.0.1:9000"), "127.0.0.1:9000");
    }
}
