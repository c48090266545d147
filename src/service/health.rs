//! Readiness, for `/readyz`: whether this service can do its work now —
//! its database answers and holds the schema this program knows. Liveness
//! (`/healthz`) needs nothing of the service: a process that answers is up.
//!
//! A user store of a library user's own is not probed: it is theirs to watch.

use super::AuthService;
use crate::error::AuthError;
use crate::store::PoolStats;

impl AuthService {
    /// `Ok` when our database answers within the store's deadline and its
    /// migrations are exactly this program's; otherwise
    /// [`AuthError::Unavailable`] (a 503 with the `service_unavailable`
    /// body), the cause logged at `warn` — an outdated or newer schema
    /// included, since a restart or a `migrate` fixes it, not the caller.
    pub async fn ready(&self) -> Result<(), AuthError> {
        self.inner.database.ready().await.map_err(|cause| {
            tracing::warn!(%cause, "not ready");
            AuthError::Unavailable
        })
    }

    /// How our database's connections are used right now (for the metrics;
    /// no query is run).
    pub fn database_pool(&self) -> PoolStats {
        self.inner.database.pool_stats()
    }
}
