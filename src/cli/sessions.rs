//! `simplejwt sessions NAME` lists a user's live sessions (the device list,
//! for an administrator); `simplejwt logout NAME [--session ID]` ends one
//! of them or all of them — every token of an ended session is blacklisted
//! in the same transaction, so the user's clients cannot refresh any more.

use simplejwt::store::Database;
use simplejwt::token::Timestamp;

use super::config::Config;
use super::{CliResult, Failure};

async fn user_id(store: &dyn Database, name: &str) -> CliResult<i64> {
    Ok(store
        .user_by_username(name)
        .await?
        .ok_or_else(|| Failure::Runtime(format!("no user {name:?}")))?
        .id)
}

/// Prints one line per live session: id, created, last used (epoch
/// seconds), address and user agent, tab-separated, oldest first.
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
            s.user_agent.as_deref().unwrap_or("-"),
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
            eprintln!("Ended session {public_id} of user {name:?}.");
        }
        None => {
            let ended = store.end_user_sessions(id, None, now).await?;
            eprintln!("Ended {ended} session(s) of user {name:?}.");
        }
    }
    Ok(())
}
