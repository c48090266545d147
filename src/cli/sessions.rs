//! `simplejwt sessions NAME` lists a user's live sessions (the device list,
//! for an administrator); `simplejwt logout NAME [--session ID]` ends one
//! of them or all of them — every token of an ended session is blacklisted
//! in the same transaction, so the user's clients cannot refresh any more.

use simplejwt::service::EventKind;
use simplejwt::store::Database;
use simplejwt::token::Timestamp;

use super::audit;
use super::config::Config;
use super::{CliResult, Failure};

async fn user_id(store: &dyn Database, name: &str) -> CliResult<i64> {
    Ok(store
        .user_by_username(name)
        .await?
        .ok_or_else(|| Failure::Runtime(format!("no user {name:?}")))?
        .id)
}

/// A client-written field (the user agent) for a tab-separated line:
/// control characters (a tab, an escape sequence) written as escapes, so a
/// client cannot add columns or lines to an administrator's listing.
fn printable(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    for c in field.chars() {
        if c.is_control() || c == '\\' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Prints one line per live session: id, created, last used (epoch
/// seconds), address and user agent (control characters escaped),
/// tab-separated, oldest first.
pub(crate) async fn list(config: &Config, name: &str) -> CliResult {
    let store = config.open_store().await?;
    let id = user_id(&*store, name).await?;
    let sessions = store.live_sessions(id, Timestamp::now().epoch()).await?;
    for s in &sessions {
        println!(
            "{}\t{}\t{}\t{}\t{}",
            s.public_id,
            s.created_at,
            s.last_used_at,
            s.ip.as_deref().unwrap_or("-"),
            s.user_agent.as_deref().map_or("-".into(), printable),
        );
    }
    eprintln!("{} live session(s) of user {name:?}.", sessions.len());
    Ok(())
}

/// Ends the session `session` names, or every live session of the user.
pub(crate) async fn logout(config: &Config, name: &str, session: Option<&str>) -> CliResult {
    let store = config.open_store().await?;
    let id = user_id(&*store, name).await?;
    let now = Timestamp::now().epoch();
    match session {
        Some(public_id) => {
            if !store.end_session(id, public_id, now).await? {
                return Err(Failure::Runtime(format!(
                    "user {name:?} has no live session {public_id:?}"
                )));
            }
            let detail = format!("by an administrator: session {public_id}");
            audit::record(config, &*store, EventKind::LoggedOut, (id, name), &detail).await?;
            eprintln!("Ended session {public_id} of user {name:?}.");
        }
        None => {
            let ended = store.end_user_sessions(id, None, now).await?;
            let detail = format!("by an administrator: all sessions ({ended})");
            audit::record(config, &*store, EventKind::LoggedOut, (id, name), &detail).await?;
            eprintln!("Ended {ended} session(s) of user {name:?}.");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn client_written_fields_cannot_add_columns_or_lines() {
        assert_eq!(printable("curl/8.5.0"), "curl/8.5.0");
        assert_eq!(printable("a\tb\x1b[2Jc"), "a\\tb\\u{1b}[2Jc");
        assert_eq!(printable("back\\slash"), "back\\\\slash");
        assert_eq!(
            printable("Mozilla/5.0 (X11; Linux) é"),
            "Mozilla/5.0 (X11; Linux) é"
        );
    }
}
