//! What an administrator does from the command line (`logout`,
//! `changepassword`, `setactive`) is a security event like its API
//! counterpart: one `simplejwt::events` log line and, with `AUDIT_TABLE`,
//! one `audit_events` row. The server's [`simplejwt::service::AuditSink`]
//! queues rows so that no request waits; a command waits for its one row
//! instead, so the row is written before the command reports success.

use simplejwt::service::{ClientInfo, Event, EventKind, EventSink, LogSink};
use simplejwt::store::{AuditRecord, Database};
use simplejwt::token::Timestamp;

use super::config::Config;
use super::CliResult;

/// Records one administrator's event about a user. `detail` says what was
/// done (never a password).
pub(crate) async fn record(
    config: &Config,
    store: &dyn Database,
    kind: EventKind,
    user: (i64, &str),
    detail: &str,
) -> CliResult {
    let (user_id, username) = user;
    let client = ClientInfo::unknown();
    LogSink.record(&Event {
        kind,
        user_id: Some(user_id),
        username: Some(username),
        client: &client,
        detail: Some(detail),
    });
    if config.settings()?.audit_table() {
        let row = AuditRecord {
            created_at: Timestamp::now().epoch(),
            event: kind.name().to_owned(),
            user_id: Some(user_id),
            username: Some(username.to_owned()),
            ip: None,
            user_agent: None,
            detail: Some(detail.to_owned()),
        };
        store.record_audit(&[row]).await?;
    }
    Ok(())
}
