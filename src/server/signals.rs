//! The process signals the server reacts to, as one small reusable stream.
//!
//! The serving loop ([`super::serve`]) asks [`Signals::recv`] for the next
//! one and decides what it means: SIGTERM and SIGINT stop the server
//! gracefully; SIGHUP is a reload request (today nothing needs reloading, so
//! it is logged and serving goes on — a later feature reloads certificates
//! on it). Installing the handlers replaces the default actions, so none of
//! the three ends the process abruptly once [`Signals::new`] has returned.

use std::io;

/// A signal the server handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM: stop gracefully (what service managers send).
    Terminate,
    /// SIGINT (Ctrl-C): stop gracefully.
    Interrupt,
    /// SIGHUP: reload; never a stop.
    Hangup,
}

impl Signal {
    /// The conventional name (`SIGTERM`, …), for logs.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Terminate => "SIGTERM",
            Signal::Interrupt => "SIGINT",
            Signal::Hangup => "SIGHUP",
        }
    }

    /// Whether the signal asks the server to stop.
    pub fn stops(self) -> bool {
        !matches!(self, Signal::Hangup)
    }
}

/// The installed handlers of SIGTERM, SIGINT and SIGHUP.
#[derive(Debug)]
pub struct Signals {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hangup: tokio::signal::unix::Signal,
}

impl Signals {
    /// Installs the handlers (inside a Tokio runtime). From here on the
    /// signals are queued for [`Signals::recv`] instead of ending the process.
    #[cfg(unix)]
    pub fn new() -> io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Self {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
            hangup: signal(SignalKind::hangup())?,
        })
    }

    /// Installs the Ctrl-C handler (the only one outside Unix).
    #[cfg(not(unix))]
    pub fn new() -> io::Result<Self> {
        Ok(Self {})
    }

    /// The next signal received.
    #[cfg(unix)]
    pub async fn recv(&mut self) -> Signal {
        tokio::select! {
            _ = self.terminate.recv() => Signal::Terminate,
            _ = self.interrupt.recv() => Signal::Interrupt,
            _ = self.hangup.recv() => Signal::Hangup,
        }
    }

    /// The next signal received.
    #[cfg(not(unix))]
    pub async fn recv(&mut self) -> Signal {
        let _ = tokio::signal::ctrl_c().await;
        Signal::Interrupt
    }
}
