//! The serving loop below the router: accepts TCP connections and serves
//! each with hyper (HTTP/1.1, and HTTP/2 with prior knowledge), within the
//! bounds of [`Limits`], until a stop signal — then stops gracefully within
//! a bounded grace.
//!
//! Why not `axum::serve`: it has no header-read or idle timeout, no cap on
//! connections and an unbounded graceful shutdown, so a handful of silent or
//! slow sockets could hold the server (see issue 19). Here:
//! - a connection must send its first byte within the header-read timeout,
//!   and hyper then bounds each HTTP/1.1 request head by the same timeout;
//! - a connection with no request in progress is closed after the idle
//!   timeout (`connections.rs`);
//! - each request has a deadline ([`Limits::request_timeout`], applied by
//!   the router per route so that the 408 is logged and counted like any
//!   answer: `crate::http::AppState::request_timeout`);
//! - at the connection cap the longest-idle connection makes room, or the
//!   new one is closed when all are busy; the accept loop never waits;
//! - SIGTERM/SIGINT: stop accepting, let in-flight requests finish (hyper-util's
//!   `GracefulShutdown`), and after the grace cut what is left and log how
//!   many; SIGHUP is a reload request that never stops the server.
//!
//! - HTTPS ([`Https`], [`tls`]): each connection first completes a rustls
//!   handshake (bounded by the header-read timeout), then is served like a
//!   plain one; its requests carry the [`TlsConnection`] marker and its
//!   answers `Strict-Transport-Security`. SIGHUP reloads the certificate
//!   (through `on_reload`). An optional second, plain-HTTP listener only
//!   redirects to HTTPS ([`redirect`]), within the same cap and timeouts.
//!
//! The router is served unchanged; handlers still get
//! `ConnectInfo<SocketAddr>` (inserted here, as `into_make_service_with_connect_info` did).

mod connections;
pub mod limits;
pub mod redirect;
pub mod signals;
pub mod tls;

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use http::{header, HeaderValue, Request};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::Instant;
use tower::ServiceExt as _;

use connections::{Admission, Connections, Registration};
pub use limits::{raise_descriptor_limit, Limits};
pub use redirect::{Redirect, RedirectHost};
pub use signals::{Signal, Signals};
pub use tls::{Hsts, Tls, TlsConnection, TlsError, TlsFiles};

/// Longest the accept loop waits for a connection it evicted to let go of
/// its descriptor (it is idle, so this is one scheduling of its task).
const EVICTION_BOUND: Duration = Duration::from_secs(1);

/// How long, after the grace has run out and the remaining connections are
/// cut, the server waits for their tasks to let go of them.
const CUT_BOUND: Duration = Duration::from_secs(1);

/// After a failed accept (e.g. out of descriptors): the pause before the
/// next, so the loop does not spin, and the least time between two logs.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// How the serving loop ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stopped {
    /// The signal that stopped it.
    pub signal: Signal,
    /// Connections still open when the grace ran out, closed without answer.
    pub cut: usize,
}

/// HTTPS for [`serve`]: the listener speaks TLS with `tls`; `redirect`, a
/// second listener that answers plain HTTP with redirects only.
#[derive(Debug)]
pub struct Https {
    /// Certificate, key and HSTS policy.
    pub tls: Arc<Tls>,
    /// The plain-HTTP listener and where it redirects to.
    pub redirect: Option<(TcpListener, Redirect)>,
}

/// Serves `router` on `listener` within `limits` until a stop signal from
/// `signals` — over TLS when `https` is given, plain HTTP otherwise;
/// `on_reload` runs on each SIGHUP. Returns once every connection is
/// closed: at the latest about [`Limits::shutdown_grace`] after the signal.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &Limits,
    mut signals: Signals,
    https: Option<Https>,
    on_reload: impl Fn(),
) -> io::Result<Stopped> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    let connections = Connections::new(limits.max_connections);
    let graceful = GracefulShutdown::new();
    let (stopping, stop) = watch::channel(false);
    let mut last_accept_error: Option<Instant> = None;

    let (tls, redirect) = match https {
        Some(Https { tls, redirect }) => (Some(tls), redirect),
        None => (None, None),
    };
    let (redirect_listener, redirect_router) = match redirect {
        Some((listener, redirect)) => (Some(listener), redirect.router()),
        None => (None, Router::new()),
    };

    let signal = loop {
        let (accepted, app, tls) = tokio::select! {
            accepted = listener.accept() => (accepted, &router, tls.as_ref()),
            accepted = accept_if(redirect_listener.as_ref()) => (accepted, &redirect_router, None),
            signal = signals.recv() => {
                if signal.stops() {
                    break signal;
                }
                tracing::info!(signal = signal.name(), "reload requested; serving goes on");
                on_reload();
                continue;
            }
        };
        match accepted {
            Ok((stream, remote)) => match connections.admit() {
                Admission::Admitted(registration, evicted) => {
                    tokio::spawn(serve_connection(Connection {
                        stream,
                        remote,
                        registration,
                        router: app.clone(),
                        tls: tls.cloned(),
                        builder: builder.clone(),
                        watcher: graceful.watcher(),
                        stop: stop.clone(),
                        limits: limits.clone(),
                    }));
                    if let Some(evicted) = evicted {
                        connections.gone(evicted, EVICTION_BOUND).await;
                    }
                }
                Admission::Shed => {
                    tracing::debug!(%remote, "connection cap reached and every connection busy: closed the new one");
                }
            },
            Err(e) => {
                if last_accept_error.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
                    tracing::warn!(error = %e, open = connections.len(), "accept failed; retrying");
                    last_accept_error = Some(Instant::now());
                }
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
            }
        }
    };
    drop(redirect_listener);
    drop(listener);

    tracing::info!(
        signal = signal.name(),
        open = connections.len(),
        grace = ?limits.shutdown_grace,
        "stopping: no new connections; finishing in-flight requests"
    );
    let _ = stopping.send(true);
    let cut = match tokio::time::timeout(limits.shutdown_grace, graceful.shutdown()).await {
        Ok(()) => 0,
        Err(_) => {
            let cut = connections.cut_all();
            tracing::warn!(
                cut,
                grace = ?limits.shutdown_grace,
                "shutdown grace over: cut {cut} connection(s) still open"
            );
            connections.drained(CUT_BOUND).await;
            cut
        }
    };
    Ok(Stopped { signal, cut })
}

/// The next connection on `listener`; never, without one.
async fn accept_if(listener: Option<&TcpListener>) -> io::Result<(TcpStream, SocketAddr)> {
    match listener {
        Some(listener) => listener.accept().await,
        None => std::future::pending().await,
    }
}

/// Everything one connection's task needs.
struct Connection {
    stream: TcpStream,
    remote: SocketAddr,
    registration: Registration,
    router: Router,
    /// Present on the HTTPS listener's connections.
    tls: Option<Arc<Tls>>,
    builder: Arc<Builder<TokioExecutor>>,
    watcher: Watcher,
    stop: watch::Receiver<bool>,
    limits: Limits,
}

/// Serves one connection until it ends, is evicted or cut, or stays idle too
/// long. Nothing is logged per connection above `debug`.
async fn serve_connection(c: Connection) {
    let Connection {
        stream,
        remote,
        registration,
        router,
        tls,
        builder,
        watcher,
        mut stop,
        limits,
    } = c;
    let slot = registration.slot().clone();

    // hyper's head timeout starts once it knows the protocol, which takes a
    // first byte: until then, the same bound here. Nothing is lost by
    // closing a connection that has sent nothing, at a stop as well.
    let mut first = [0u8; 1];
    tokio::select! {
        sent = tokio::time::timeout(limits.header_read_timeout, stream.peek(&mut first)) => {
            if !matches!(sent, Ok(Ok(n)) if n > 0) {
                tracing::debug!(%remote, "connection closed before its first byte");
                return;
            }
        }
        () = slot.closed() => return,
        _ = stop.wait_for(|stopping| *stopping) => return,
    }

    let served = Served {
        remote,
        registration,
        router,
        builder,
        watcher,
        limits,
    };
    let Some(tls) = tls else {
        return served.serve(stream, None).await;
    };
    // The handshake is bounded like a request head: a client that starts
    // one and stalls holds its slot no longer.
    let handshake = tls.acceptor().accept(stream);
    let stream = tokio::select! {
        done = tokio::time::timeout(served.limits.header_read_timeout, handshake) => match done {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => {
                tracing::debug!(%remote, error = %e, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(%remote, "TLS handshake not completed within the header-read timeout");
                return;
            }
        },
        () = slot.closed() => return,
        _ = stop.wait_for(|stopping| *stopping) => return,
    };
    served.serve(stream, Some(tls.hsts().clone())).await;
}

/// A connection past its first byte (and handshake), ready for hyper.
struct Served {
    remote: SocketAddr,
    registration: Registration,
    router: Router,
    builder: Arc<Builder<TokioExecutor>>,
    watcher: Watcher,
    limits: Limits,
}

impl Served {
    /// Serves `io` until it ends, is evicted or cut, or idles too long.
    /// `hsts`: this is a TLS connection — its requests get the
    /// [`TlsConnection`] marker, its answers this `Strict-Transport-Security`.
    async fn serve<I>(self, io: I, hsts: Option<HeaderValue>)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Served {
            remote,
            registration,
            router,
            builder,
            watcher,
            limits,
        } = self;
        let slot = registration.slot().clone();
        let epoch = registration.epoch();
        let busy_slot = slot.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            let busy = Registration::busy(&busy_slot, epoch);
            request.extensions_mut().insert(ConnectInfo(remote));
            if hsts.is_some() {
                request.extensions_mut().insert(TlsConnection);
            }
            let answer = router.clone().oneshot(request);
            let hsts = hsts.clone();
            async move {
                let mut response = answer.await.unwrap_or_else(|never| match never {});
                drop(busy);
                if let Some(hsts) = hsts {
                    response
                        .headers_mut()
                        .insert(header::STRICT_TRANSPORT_SECURITY, hsts);
                }
                Ok::<_, Infallible>(response)
            }
        });
        let conn = watcher.watch(builder.serve_connection(TokioIo::new(io), service));
        tokio::pin!(conn);
        loop {
            // While a request is in progress, look again after a full idle
            // period; otherwise at the moment the idle time runs out.
            let wake = registration
                .idle_deadline(limits.idle_timeout)
                .unwrap_or_else(|| Instant::now() + limits.idle_timeout);
            tokio::select! {
                ended = &mut conn => {
                    if let Err(e) = ended {
                        tracing::debug!(%remote, error = %e, "connection ended with an error");
                    }
                    return;
                }
                () = slot.closed() => {
                    tracing::debug!(%remote, "connection closed to make room or at the end of the grace");
                    return;
                }
                () = tokio::time::sleep_until(wake) => {
                    if registration
                        .idle_deadline(limits.idle_timeout)
                        .is_some_and(|deadline| deadline <= Instant::now())
                    {
                        tracing::debug!(%remote, "idle connection closed");
                        return;
                    }
                }
            }
        }
    }
}
