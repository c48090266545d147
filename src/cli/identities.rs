//! `simplejwt identities list NAME` lists the provider identities linked to
//! a user (social login); `simplejwt identities unlink NAME ID` unlinks one,
//! under the service's rule (`service::social::may_unlink`): never the
//! user's last way to sign in.

use simplejwt::service::social::may_unlink;
use simplejwt::store::{Database, User};

use super::config::Config;
use super::{CliResult, Failure};

async fn user(store: &dyn Database, name: &str) -> CliResult<User> {
    store
        .user_by_username(name)
        .await?
        .ok_or_else(|| Failure::Runtime(format!("no user {name:?}")))
}

/// Prints one line per identity: id, provider, issuer, subject, e-mail,
/// linked at (epoch seconds), tab-separated, oldest first.
pub(crate) async fn list(config: &Config, name: &str) -> CliResult {
    let store = config.open_store().await?;
    let user = user(&*store, name).await?;
    let identities = store.identities_of(user.id).await?;
    for i in &identities {
        let email = if i.email.is_empty() { "-" } else { &i.email };
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}",
            i.id, i.provider, i.issuer, i.subject, email, i.created_at
        );
    }
    eprintln!("{} identit(ies) linked to user {name:?}.", identities.len());
    Ok(())
}

/// Unlinks identity `id` from the user.
pub(crate) async fn unlink(config: &Config, name: &str, id: i64) -> CliResult {
    let store = config.open_store().await?;
    let user = user(&*store, name).await?;
    let identities = store.identities_of(user.id).await?;
    may_unlink(&user, &identities, id).map_err(|e| {
        Failure::Runtime(format!("cannot unlink identity {id} of user {name:?}: {e}"))
    })?;
    if !store.unlink_identity(user.id, id).await? {
        return Err(Failure::Runtime(format!(
            "user {name:?} has no identity {id}"
        )));
    }
    eprintln!("Unlinked identity {id} from user {name:?}.");
    Ok(())
}
