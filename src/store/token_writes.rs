//! Token writes — record an issued refresh token, start a session, blacklist
//! a token, rotate one within its family — as data, and their logic written
//! once for both databases.
//!
//! The logic runs against [`Tx`], the one thing it needs of a database: run a
//! statement of [`sql`](super::sql) inside the caller's transaction and say
//! how many rows it touched, or read the first row of a query. PostgreSQL
//! implements it over a sqlx transaction (one per write: concurrent writers
//! are fine there); SQLite over its single writer connection, where the
//! writes of concurrent requests are committed together, each inside its own
//! savepoint (see `sqlite/writer.rs`). Every SQLite future is ready at once,
//! so the writer thread drives [`apply`] with a trivial `now_or_never`
//! instead of a runtime.
//!
//! Exactly-once holds wherever `apply` runs: two rotations of one token in
//! the same transaction see each other's blacklist row, so the second claim
//! finds the conflict, as two concurrent transactions do through the index.
//!
//! Families: a rotation of a token that belongs to a session first touches
//! the session row (refusing when the session has ended), then claims the
//! token. Every revocation of a session updates the same row first, so on
//! PostgreSQL the row lock orders a rotation and a revocation of one family
//! — from any number of processes — and no successor can be recorded
//! unseen by a revocation that answered. On SQLite the one writer orders
//! them anyway.
//!
//! This module depends on the records and the SQL text only; the drivers
//! depend on it, never the other way round.

use std::future::Future;

use super::error::StoreError;
use super::model::{storable, NewSession, OutstandingToken, Rotation, RotationRules};
use super::sql::{self, Param};

/// One token write.
#[derive(Debug, Clone)]
pub(super) enum TokenWrite {
    /// Record an issued token (idempotent by `jti`), in no session.
    Record(OutstandingToken),
    /// Start a session and record its first token in it.
    StartSession {
        session: NewSession,
        token: OutstandingToken,
    },
    /// Blacklist a token; takes effect only if it was not blacklisted yet.
    Blacklist { token: OutstandingToken, now: i64 },
    /// End one live session of a user, by public id, and blacklist its tokens.
    EndSession {
        user_id: i64,
        public_id: String,
        now: i64,
    },
    /// End every live session of a user but `keep` (a public id), and
    /// blacklist their tokens.
    EndUserSessions {
        user_id: i64,
        keep: Option<String>,
        now: i64,
    },
    /// Rotate `used` into `successor` by the rules (see [`Rotation`]).
    Rotate {
        used: OutstandingToken,
        successor: OutstandingToken,
        now: i64,
        rules: RotationRules,
    },
}

/// What a write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Applied {
    /// Record, start a session: done. Blacklist: whether this call claimed the token.
    Took(bool),
    /// How many sessions were ended.
    Ended(u64),
    /// What a rotation did.
    Rotation(Rotation),
}

impl Applied {
    /// Whether the write took effect (a rotation: whether it rotated; ending
    /// sessions: whether it ended any).
    pub(super) fn took(&self) -> bool {
        match self {
            Applied::Took(took) => *took,
            Applied::Ended(n) => *n > 0,
            Applied::Rotation(r) => matches!(r, Rotation::Rotated { .. }),
        }
    }

    /// How many sessions were ended (0 for any other write, which is never asked).
    pub(super) fn ended(&self) -> u64 {
        match self {
            Applied::Ended(n) => *n,
            _ => 0,
        }
    }

    /// The rotation outcome (`Refused` for any other write, which is never asked).
    pub(super) fn rotation(self) -> Rotation {
        match self {
            Applied::Rotation(r) => r,
            _ => Rotation::Refused,
        }
    }
}

/// The type a column of a [`Tx::fetch`] is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Col {
    /// An integer or NULL.
    Int,
    /// A text or NULL.
    Text,
}

/// One value read by [`Tx::fetch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Cell {
    /// An integer column.
    Int(Option<i64>),
    /// A text column.
    Text(Option<String>),
}

impl Cell {
    pub(super) fn int(&self) -> Option<i64> {
        match self {
            Cell::Int(v) => *v,
            Cell::Text(_) => None,
        }
    }

    pub(super) fn text(self) -> Option<String> {
        match self {
            Cell::Text(v) => v,
            Cell::Int(_) => None,
        }
    }
}

/// A transaction (or connection) that token writes run in.
pub(super) trait Tx {
    /// The driver's own error, classified by the driver afterwards (so it
    /// can still tell, say, a full disk from a lost connection).
    type Error;

    /// Runs one statement with its `$n` parameters; returns rows affected.
    fn execute(
        &mut self,
        sql: &'static str,
        params: &[Param<'_>],
    ) -> impl Future<Output = Result<u64, Self::Error>> + Send;

    /// Runs a query (or `… RETURNING`, run to its end) and reads its first
    /// row's columns as `cols` say, if there is a row.
    fn fetch(
        &mut self,
        sql: &'static str,
        params: &[Param<'_>],
        cols: &'static [Col],
    ) -> impl Future<Output = Result<Option<Vec<Cell>>, Self::Error>> + Send;
}

/// Applies one write inside `tx`.
pub(super) async fn apply<T: Tx + Send>(tx: &mut T, op: &TokenWrite) -> Result<Applied, T::Error> {
    match op {
        TokenWrite::Record(token) => {
            record(tx, token, None, None).await?;
            Ok(Applied::Took(true))
        }
        TokenWrite::StartSession { session, token } => {
            let row = tx
                .fetch(
                    sql::INSERT_SESSION,
                    &[
                        Param::Text(&session.public_id),
                        Param::Int(session.user_id),
                        Param::Int(session.created_at),
                        Param::OptText(session.user_agent.as_deref()),
                        Param::OptText(session.ip.as_deref()),
                        Param::Int(token.expires_at),
                    ],
                    &[Col::Int],
                )
                .await?;
            let session_id = row.and_then(|r| r[0].int());
            record(tx, token, session_id, None).await?;
            Ok(Applied::Took(true))
        }
        TokenWrite::Blacklist { token, now } => claim(tx, token, *now).await.map(Applied::Took),
        TokenWrite::EndSession {
            user_id,
            public_id,
            now,
        } => {
            let ended = tx
                .fetch(
                    sql::END_SESSION,
                    &[
                        Param::Text(public_id),
                        Param::Int(*user_id),
                        Param::Int(*now),
                    ],
                    &[Col::Int],
                )
                .await?
                .and_then(|row| row[0].int());
            let Some(session_id) = ended else {
                return Ok(Applied::Ended(0));
            };
            let params = [Param::Int(session_id), Param::Int(*now)];
            tx.execute(sql::BLACKLIST_SESSION_TOKENS, &params).await?;
            Ok(Applied::Ended(1))
        }
        TokenWrite::EndUserSessions { user_id, keep, now } => {
            let ended = tx
                .execute(
                    sql::END_USER_SESSIONS,
                    &[
                        Param::Int(*user_id),
                        Param::Int(*now),
                        Param::Text(keep.as_deref().unwrap_or("")),
                    ],
                )
                .await?;
            if ended > 0 {
                let params = [Param::Int(*user_id), Param::Int(*now)];
                tx.execute(sql::BLACKLIST_ENDED_USER_TOKENS, &params)
                    .await?;
            }
            Ok(Applied::Ended(ended))
        }
        TokenWrite::Rotate {
            used,
            successor,
            now,
            rules,
        } => rotate(tx, used, successor, *now, *rules)
            .await
            .map(Applied::Rotation),
    }
}

/// A rotation; see [`Rotation`] for the outcomes.
async fn rotate<T: Tx + Send>(
    tx: &mut T,
    used: &OutstandingToken,
    successor: &OutstandingToken,
    now: i64,
    rules: RotationRules,
) -> Result<Rotation, T::Error> {
    let family = tx
        .fetch(
            sql::TOKEN_FAMILY,
            &[Param::Text(&used.jti)],
            &[Col::Int, Col::Int],
        )
        .await?;
    let (used_id, session_id) = match &family {
        Some(row) => (row[0].int(), row[1].int()),
        None => (None, None),
    };
    let mut deadline = None;
    if let Some(session_id) = session_id {
        // The session row first: ordered with every revocation of the family.
        let lifetimes = rules.lifetimes;
        let touched = tx
            .fetch(
                sql::TOUCH_SESSION,
                &[
                    Param::Int(session_id),
                    Param::Int(now),
                    Param::Int(successor.expires_at),
                    Param::Int(lifetimes.absolute),
                    Param::Int(lifetimes.idle),
                    Param::OptInt(used_id),
                ],
                &[Col::Int],
            )
            .await?;
        match touched.and_then(|row| row[0].int()) {
            Some(created_at) => deadline = lifetimes.deadline(created_at),
            None if lifetimes.any() => {
                // Ended already, or past a lifetime: then end it now.
                return Ok(match revoke_session(tx, session_id, now).await? {
                    Some(session) => Rotation::Expired { session },
                    None => Rotation::Refused,
                });
            }
            None => return Ok(Rotation::Refused),
        }
    }
    if !rules.blacklist_used || claim(tx, used, now).await? {
        // `claim` records a token it never saw: look its row id up again.
        let parent = match used_id {
            Some(id) => Some(id),
            None => tx
                .fetch(
                    sql::TOKEN_FAMILY,
                    &[Param::Text(&used.jti)],
                    &[Col::Int, Col::Int],
                )
                .await?
                .and_then(|row| row[0].int()),
        };
        let capped;
        let successor = match deadline {
            Some(d) if successor.expires_at > d => {
                capped = OutstandingToken {
                    expires_at: d,
                    ..successor.clone()
                };
                &capped
            }
            _ => successor,
        };
        record(tx, successor, session_id, parent).await?;
        return Ok(Rotation::Rotated { deadline });
    }
    // Used before. Only a token of a live session, rotated out (it has a
    // successor), can be a lost response or a replay.
    let (Some(used_id), Some(session_id)) = (used_id, session_id) else {
        return Ok(Rotation::Refused);
    };
    if rules.grace_seconds > 0 {
        let first_use = tx
            .fetch(sql::FIRST_USE, &[Param::Int(used_id)], &[Col::Int])
            .await?
            .and_then(|row| row[0].int());
        if first_use.is_some_and(|t| now - t <= rules.grace_seconds) {
            let live = tx
                .fetch(
                    sql::LIVE_SUCCESSOR,
                    &[Param::Int(used_id)],
                    &[Col::Text, Col::Int, Col::Int],
                )
                .await?;
            if let Some(mut row) = live {
                let expires_at = row[2].int().unwrap_or(now);
                let created_at = row[1].int();
                if let Some(jti) = row.swap_remove(0).text() {
                    return Ok(Rotation::Grace(OutstandingToken {
                        jti,
                        user_id: successor.user_id,
                        created_at,
                        expires_at,
                    }));
                }
            }
        }
    }
    if !rules.reuse_detection {
        return Ok(Rotation::Refused);
    }
    let successors = tx
        .fetch(sql::SUCCESSORS, &[Param::Int(used_id)], &[Col::Int])
        .await?
        .and_then(|row| row[0].int())
        .unwrap_or(0);
    if successors == 0 {
        // Blacklisted by a logout, not rotated out: refused, nothing more.
        return Ok(Rotation::Refused);
    }
    match revoke_session(tx, session_id, now).await? {
        Some(session) => Ok(Rotation::ReuseDetected { session }),
        None => Ok(Rotation::Refused),
    }
}

/// Ends a live session and blacklists every token of it. Returns its public
/// id, or `None` when it had ended already.
async fn revoke_session<T: Tx + Send>(
    tx: &mut T,
    session_id: i64,
    now: i64,
) -> Result<Option<String>, T::Error> {
    let params = [Param::Int(session_id), Param::Int(now)];
    if tx.execute(sql::REVOKE_SESSION, &params).await? == 0 {
        return Ok(None);
    }
    tx.execute(sql::BLACKLIST_SESSION_TOKENS, &params).await?;
    let public_id = tx
        .fetch(
            sql::SESSION_PUBLIC_ID,
            &[Param::Int(session_id)],
            &[Col::Text],
        )
        .await?
        .and_then(|mut row| row.swap_remove(0).text());
    Ok(Some(public_id.unwrap_or_default()))
}

/// Records a token by `jti` (idempotent; a missing owner becomes NULL).
async fn record<T: Tx + Send>(
    tx: &mut T,
    token: &OutstandingToken,
    session_id: Option<i64>,
    parent_id: Option<i64>,
) -> Result<(), T::Error> {
    tx.execute(
        sql::INSERT_OUTSTANDING,
        &[
            Param::Text(&token.jti),
            Param::OptInt(token.user_id),
            Param::OptInt(token.created_at),
            Param::Int(token.expires_at),
            Param::OptInt(session_id),
            Param::OptInt(parent_id),
        ],
    )
    .await?;
    Ok(())
}

/// Inserts the blacklist row for `token`; true if this call made it.
async fn claim<T: Tx + Send>(
    tx: &mut T,
    token: &OutstandingToken,
    now: i64,
) -> Result<bool, T::Error> {
    // The token may never have been recorded (issued elsewhere with the same key).
    record(tx, token, None, None).await?;
    let claimed = tx
        .execute(
            sql::INSERT_BLACKLISTED,
            &[Param::Text(&token.jti), Param::Int(now)],
        )
        .await?;
    Ok(claimed == 1)
}

// ---- the `TokenStore` writes, once for both drivers ----------------------

/// A driver's way of running one [`TokenWrite`]: SQLite sends it to its
/// writer thread, PostgreSQL runs it in a transaction. The `TokenStore`
/// write methods of both drivers are the functions below, over this.
pub(super) trait TokenWriter: Sync {
    /// Runs `op`, committed when it answers `Ok`.
    fn write_token(
        &self,
        op: TokenWrite,
    ) -> impl Future<Output = Result<Applied, StoreError>> + Send;
}

/// `TokenStore::add_outstanding`.
pub(super) async fn add_outstanding<W: TokenWriter>(
    w: &W,
    token: &OutstandingToken,
) -> Result<(), StoreError> {
    w.write_token(TokenWrite::Record(token.clone()))
        .await
        .map(|_| ())
}

/// `TokenStore::blacklist`: whether this call claimed the token.
pub(super) async fn blacklist<W: TokenWriter>(
    w: &W,
    token: &OutstandingToken,
    now: i64,
) -> Result<bool, StoreError> {
    let token = token.clone();
    w.write_token(TokenWrite::Blacklist { token, now })
        .await
        .map(|done| done.took())
}

/// `TokenStore::start_session`.
pub(super) async fn start_session<W: TokenWriter>(
    w: &W,
    session: &NewSession,
    token: &OutstandingToken,
) -> Result<(), StoreError> {
    let (session, token) = (session.clone(), token.clone());
    w.write_token(TokenWrite::StartSession { session, token })
        .await
        .map(|_| ())
}

/// `TokenStore::rotate_in_family`.
pub(super) async fn rotate_in_family<W: TokenWriter>(
    w: &W,
    used: &OutstandingToken,
    successor: &OutstandingToken,
    now: i64,
    rules: RotationRules,
) -> Result<Rotation, StoreError> {
    let (used, successor) = (used.clone(), successor.clone());
    w.write_token(TokenWrite::Rotate {
        used,
        successor,
        now,
        rules,
    })
    .await
    .map(|done| done.rotation())
}

/// `TokenStore::end_session`: whether a live session of the user ended.
pub(super) async fn end_session<W: TokenWriter>(
    w: &W,
    user_id: i64,
    public_id: &str,
    now: i64,
) -> Result<bool, StoreError> {
    if !storable(public_id) {
        return Ok(false); // no stored id contains NUL
    }
    let public_id = public_id.to_owned();
    w.write_token(TokenWrite::EndSession {
        user_id,
        public_id,
        now,
    })
    .await
    .map(|done| done.took())
}

/// `TokenStore::end_user_sessions`: how many sessions ended.
pub(super) async fn end_user_sessions<W: TokenWriter>(
    w: &W,
    user_id: i64,
    keep: Option<&str>,
    now: i64,
) -> Result<u64, StoreError> {
    let keep = keep.map(str::to_owned);
    w.write_token(TokenWrite::EndUserSessions { user_id, keep, now })
        .await
        .map(|done| done.ended())
}
