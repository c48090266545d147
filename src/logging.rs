//! The server's log output, built in one place so that the binary and the
//! tests that check its lines use the same subscriber: `tracing` events
//! filtered by the `LOG` option (`RUST_LOG` syntax; `RUST_LOG` wins, see the
//! CLI), written as one human-readable line each (`LOG_FORMAT=human`, the
//! default) or one JSON object per line (`LOG_FORMAT=json`).
//!
//! In JSON, an event's fields are top-level members beside `timestamp`,
//! `level` and `target`, and `span` holds the request's span
//! ([`crate::http::access_log`]): `method`, `path`, `request_id`, `user_id`.
//! An access line reads
//! `{"timestamp":"…","level":"INFO","status":200,"latency_ms":0.412,"target":"simplejwt::access","span":{"method":"GET","path":"/api/protected/","request_id":"…","user_id":1,"name":"request"}}`.
//!
//! Only with the `cli` feature (it needs `tracing-subscriber`).

use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

use crate::settings::server::LogFormat;

/// A subscriber writing to `writer` in `format`, keeping events that
/// `filter` (`RUST_LOG` syntax; `info` when it does not parse) lets through.
/// `ansi`: colours (for a terminal; never in JSON).
pub fn subscriber<W>(
    filter: &str,
    format: LogFormat,
    ansi: bool,
    writer: W,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Human => Box::new(builder.with_ansi(ansi).finish()),
        LogFormat::Json => Box::new(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(false)
                .finish(),
        ),
    }
}
