//! `createuser`, `changepassword`, `setactive`: account management against the
//! same store the server uses (so a change takes effect at the next request).
//! A new password passes Django's default validators
//! (`simplejwt::password::validation`) unless `--skip-password-validation`
//! says otherwise; at a prompt, a mismatch or a refused password is asked
//! again.

use std::io::{IsTerminal, Read};

use simplejwt::password::validation::{self, UserAttributes};
use simplejwt::service::EventKind;
use simplejwt::store::{NewUser, StoreError};

use super::audit;
use super::config::Config;
use super::{CliResult, Failure};

pub(crate) struct NewUserArgs {
    pub name: String,
    pub password_stdin: bool,
    pub active: bool,
    pub staff: bool,
    pub superuser: bool,
    pub email: String,
    pub skip_password_validation: bool,
}

/// Django's username rule: 1–150 of letters, digits and `@.+-_`.
fn validate_username(name: &str) -> CliResult {
    let ok = !name.is_empty()
        && name.chars().count() <= 150
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "@.+-_".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Failure::Refused(format!(
            "invalid username {name:?}: use 1 to 150 letters, digits and @.+-_"
        )))
    }
}

/// A password that can be set ([`simplejwt::password::new_password_problem`],
/// the one rule the password change endpoint applies too).
pub(crate) fn validate_password(password: &str) -> CliResult {
    match simplejwt::password::new_password_problem(password) {
        None => Ok(()),
        Some(problem) => Err(Failure::Refused(problem.to_owned())),
    }
}

/// Times the prompt asks again after a refused password or a mismatch.
const PROMPT_ATTEMPTS: usize = 3;

/// Checks a new password: the hard rules ([`validate_password`]: never
/// bypassed), then — unless `skip_validation` — Django's default validators
/// against `user`, every reason on a line of its own and how to bypass them.
fn check_new_password(
    password: &str,
    user: &UserAttributes<'_>,
    skip_validation: bool,
) -> Result<(), String> {
    validate_password(password).map_err(Failure::message)?;
    if skip_validation {
        return Ok(());
    }
    let problems = validation::validate(password, user);
    if problems.is_empty() {
        return Ok(());
    }
    let mut lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    lines.push(
        "(Django's default password validators; --skip-password-validation accepts it anyway.)"
            .into(),
    );
    Err(lines.join("\n"))
}

/// Reads a new password for `user`: from stdin (refused with every reason),
/// or at a terminal prompt, twice, asking again on a mismatch or a refused
/// password, as Django's `createsuperuser` does.
fn read_password(
    from_stdin: bool,
    user: &UserAttributes<'_>,
    skip_validation: bool,
) -> CliResult<String> {
    if from_stdin {
        let mut raw = String::new();
        std::io::stdin()
            .read_to_string(&mut raw)
            .map_err(|e| Failure::Runtime(format!("cannot read the password from stdin: {e}")))?;
        let password = raw
            .strip_suffix('\n')
            .map(|p| p.strip_suffix('\r').unwrap_or(p))
            .unwrap_or(&raw)
            .to_owned();
        check_new_password(&password, user, skip_validation)
            .map_err(|why| Failure::Refused(format!("the password is refused: {why}")))?;
        return Ok(password);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::Config(
            "no terminal to prompt for the password: pass --password-stdin".into(),
        ));
    }
    let prompt = |text: &str| {
        rpassword::prompt_password(text)
            .map_err(|e| Failure::Runtime(format!("cannot read the password: {e}")))
    };
    for _ in 0..PROMPT_ATTEMPTS {
        let first = prompt("Password: ")?;
        let second = prompt("Password (again): ")?;
        if first != second {
            eprintln!("Error: Your passwords didn't match.");
            continue;
        }
        match check_new_password(&first, user, skip_validation) {
            Ok(()) => return Ok(first),
            Err(why) => eprintln!("{why}"),
        }
    }
    Err(Failure::Refused(format!(
        "no acceptable password after {PROMPT_ATTEMPTS} attempts"
    )))
}

pub(crate) async fn create(config: &Config, args: NewUserArgs) -> CliResult {
    validate_username(&args.name)?;
    let attributes = UserAttributes {
        username: &args.name,
        email: &args.email,
        ..Default::default()
    };
    let password = read_password(
        args.password_stdin,
        &attributes,
        args.skip_password_validation,
    )?;
    let hasher = config.hasher()?;
    let store = config.open_store().await?;
    let hash = hasher
        .hash(&password)
        .await
        .map_err(|e| Failure::Runtime(e.to_string()))?;
    let user = store
        .create_user(
            &NewUser {
                username: args.name.clone(),
                password_hash: hash,
                email: args.email,
                is_active: args.active,
                is_staff: args.staff,
                is_superuser: args.superuser,
            },
            simplejwt::token::Timestamp::now().epoch(),
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict => {
                Failure::Runtime(format!("user {:?} already exists", args.name))
            }
            other => other.into(),
        })?;
    eprintln!("Created user {:?} (id {}).", user.username, user.id);
    Ok(())
}

pub(crate) async fn change_password(
    config: &Config,
    name: &str,
    from_stdin: bool,
    skip_validation: bool,
) -> CliResult {
    let store = config.open_store().await?;
    let user = store
        .user_by_username(name)
        .await?
        .ok_or_else(|| Failure::Runtime(format!("no user {name:?}")))?;
    let attributes = UserAttributes {
        username: &user.username,
        first_name: &user.first_name,
        last_name: &user.last_name,
        email: &user.email,
    };
    let password = read_password(from_stdin, &attributes, skip_validation)?;
    let hash = config
        .hasher()?
        .hash(&password)
        .await
        .map_err(|e| Failure::Runtime(e.to_string()))?;
    store.set_password(user.id, &hash).await?;
    let who = (user.id, name);
    let detail = "password changed by an administrator";
    audit::record(config, &*store, EventKind::AccountChanged, who, detail).await?;
    eprintln!("Password changed for user {name:?}.");
    end_sessions(config, &*store, user.id, name).await
}

/// With `END_SESSIONS_ON_ACCOUNT_CHANGE`, ends every session of the user.
async fn end_sessions(
    config: &Config,
    store: &dyn simplejwt::store::Database,
    user_id: i64,
    name: &str,
) -> CliResult {
    if config.settings()?.end_sessions_on_account_change() {
        let now = simplejwt::token::Timestamp::now().epoch();
        let ended = store.end_user_sessions(user_id, None, now).await?;
        let detail = format!("account change: all sessions ({ended})");
        audit::record(
            config,
            store,
            EventKind::LoggedOut,
            (user_id, name),
            &detail,
        )
        .await?;
        eprintln!("Ended {ended} session(s) of user {name:?}.");
    }
    Ok(())
}

pub(crate) async fn set_active(config: &Config, name: &str, active: bool) -> CliResult {
    let store = config.open_store().await?;
    let user = store
        .user_by_username(name)
        .await?
        .ok_or_else(|| Failure::Runtime(format!("no user {name:?}")))?;
    if !store.set_active(name, active).await? {
        return Err(Failure::Runtime(format!("no user {name:?}")));
    }
    let detail = if active {
        "activated by an administrator"
    } else {
        "deactivated by an administrator"
    };
    audit::record(
        config,
        &*store,
        EventKind::AccountChanged,
        (user.id, name),
        detail,
    )
    .await?;
    eprintln!(
        "User {name:?} is now {}.",
        if active { "active" } else { "inactive" }
    );
    if active {
        return Ok(());
    }
    end_sessions(config, &*store, user.id, name).await
}
