//! The storage traits from the outside, on SQLite and (when configured)
//! PostgreSQL: a user store of the library user's own beside our token
//! store, and writes that fail — injected by a trigger installed over a
//! direct connection — without poisoning the writes after them or leaving
//! half a rotation behind, alone and among concurrent writes.

#[macro_use]
mod common;

use std::collections::HashMap;
use std::sync::Arc;

use common::*;
use simplejwt::service::{AuthService, ClientInfo};
use simplejwt::store::{
    Database, OutstandingToken, StoreError, StoreOptions, TokenStore, User, UserStore,
};

/// Users kept in memory: what a library user's own users table looks like
/// from here. Only lookups; the writes keep the trait's defaults.
struct TheirUsers(HashMap<String, User>);

#[simplejwt::store::async_trait]
impl UserStore for TheirUsers {
    async fn user_by_id(&self, id: i64) -> Result<Option<User>, StoreError> {
        Ok(self.0.values().find(|u| u.id == id).cloned())
    }

    async fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        Ok(self.0.get(username).cloned())
    }
}

fn dave(password_hash: String) -> User {
    User {
        id: 42,
        username: "dave".into(),
        password: password_hash,
        email: String::new(),
        first_name: String::new(),
        last_name: String::new(),
        is_active: true,
        is_staff: false,
        is_superuser: false,
        date_joined: 0,
        last_login: None,
    }
}

fn token(jti: &str) -> OutstandingToken {
    OutstandingToken {
        jti: jti.into(),
        user_id: Some(1),
        created_at: Some(1),
        expires_at: epoch_now() + 3600,
    }
}

backend_tests!(
    a_user_store_of_your_own_authenticates_while_tokens_stay_in_ours,
    |db: TestDb| async move {
        let ours = simplejwt::store::connect(&db.url, &StoreOptions::default())
            .await
            .unwrap();
        ours.migrate().await.unwrap();
        let hasher = cheap_hasher();
        let hash = hasher.hash("dave-Password-1").await.unwrap();
        let theirs = Arc::new(TheirUsers(HashMap::from([("dave".into(), dave(hash))])));
        let pairs = [
            ("ROTATE_REFRESH_TOKENS", "true"),
            ("BLACKLIST_AFTER_ROTATION", "true"),
            ("UPDATE_LAST_LOGIN", "true"),
        ];
        let service = AuthService::builder(settings(&pairs), ours.clone(), hasher)
            .user_store(theirs)
            .build()
            .unwrap();

        let pair = service
            .obtain_pair("dave", "dave-Password-1", &ClientInfo::unknown())
            .await
            .unwrap();
        assert_eq!(
            ours.count_users().await.unwrap(),
            0,
            "dave is not in our table"
        );
        let header = format!("Bearer {}", pair.access);
        let me = service.authenticate(Some(header.as_bytes())).await.unwrap();
        assert_eq!((me.user.id, me.user.username.as_str()), (42, "dave"));

        // Tokens are ours: recorded, rotated once, blacklisted.
        let next = service
            .refresh(&pair.refresh, &ClientInfo::unknown())
            .await
            .unwrap();
        assert!(
            service
                .refresh(&pair.refresh, &ClientInfo::unknown())
                .await
                .is_err(),
            "rotated once"
        );
        assert_eq!(ours.token_counts().await.unwrap(), (2, 1));
        service
            .blacklist(&next.refresh.unwrap(), &ClientInfo::unknown())
            .await
            .unwrap();
        assert_eq!(ours.token_counts().await.unwrap(), (2, 2));
        // An `Arc<dyn Database>` is both stores (trait upcasting).
        let tokens: Arc<dyn TokenStore> = ours.clone();
        let users: Arc<dyn UserStore> = ours.clone();
        assert_eq!(tokens.token_counts().await.unwrap(), (2, 2));
        assert!(users.user_by_id(42).await.unwrap().is_none());
    }
);

/// A trigger refusing outstanding tokens whose id starts with `poison`.
const POISON_SQLITE: &str = "CREATE TRIGGER poison BEFORE INSERT ON outstanding_tokens \
     WHEN NEW.jti LIKE 'poison%' BEGIN SELECT RAISE(ABORT, 'poisoned'); END";
const POISON_POSTGRES: &str = "CREATE FUNCTION poison() RETURNS trigger AS $$ \
     BEGIN IF NEW.jti LIKE 'poison%' THEN RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; END \
     $$ LANGUAGE plpgsql; \
     CREATE TRIGGER poison BEFORE INSERT ON outstanding_tokens \
     FOR EACH ROW EXECUTE FUNCTION poison()";

async fn poisoned(db: &TestDb) -> Arc<dyn Database> {
    let store = seeded_store(db).await;
    let poison = match db.backend() {
        "sqlite" => POISON_SQLITE,
        _ => POISON_POSTGRES,
    };
    raw_sql(db, poison).await;
    store
}

backend_tests!(
    a_failed_write_does_not_poison_the_next_nor_leave_half_a_rotation,
    |db: TestDb| async move {
        let store = poisoned(&db).await;
        store.add_outstanding(&token("a")).await.unwrap();

        let refused = store.add_outstanding(&token("poison-1")).await;
        assert!(matches!(refused, Err(StoreError::Other(_))), "{refused:?}");
        // The successor is refused: the claim of `a` goes with it.
        let refused = store.rotate(&token("a"), &token("poison-2"), 1).await;
        assert!(refused.is_err(), "{refused:?}");
        assert!(!store.is_blacklisted("a").await.unwrap());
        assert_eq!(store.token_counts().await.unwrap(), (1, 0));

        // The very next writes succeed.
        assert!(store.rotate(&token("a"), &token("b"), 1).await.unwrap());
        assert!(store.is_blacklisted("a").await.unwrap());
        assert!(store.set_password(1, "new-hash").await.unwrap());

        // The cause gone, the refused write goes through.
        let drop = match db.backend() {
            "sqlite" => "DROP TRIGGER poison",
            _ => "DROP TRIGGER poison ON outstanding_tokens",
        };
        raw_sql(&db, drop).await;
        store.add_outstanding(&token("poison-1")).await.unwrap();
        assert_eq!(store.token_counts().await.unwrap(), (3, 1));
    }
);

backend_tests!(
    concurrent_writes_each_get_their_own_answer_when_some_fail,
    |db: TestDb| async move {
        const N: usize = 40;
        let store = poisoned(&db).await;
        // Concurrent writes (on SQLite: group-committed, most of them in one
        // batch), every third of them refused.
        let barrier = Arc::new(tokio::sync::Barrier::new(N));
        let handles: Vec<_> = (0..N)
            .map(|i| {
                let (store, barrier) = (store.clone(), barrier.clone());
                tokio::spawn(async move {
                    let jti = if i % 3 == 0 {
                        format!("poison-{i}")
                    } else {
                        format!("good-{i}")
                    };
                    barrier.wait().await;
                    (jti.clone(), store.add_outstanding(&token(&jti)).await)
                })
            })
            .collect();
        let mut good = 0;
        for handle in handles {
            let (jti, result) = handle.await.unwrap();
            match result {
                Ok(()) => {
                    assert!(jti.starts_with("good"), "{jti} was recorded");
                    good += 1;
                }
                Err(e) => assert!(jti.starts_with("poison"), "{jti}: {e:?}"),
            }
        }
        assert_eq!(good, N - N.div_ceil(3));
        assert_eq!(store.token_counts().await.unwrap(), (good as i64, 0));
    }
);

/// PostgreSQL only: every backend of the store's pool is terminated (as a
/// database restart or failover would). Calls skip the dead connections
/// (the server said it ended them before the statement), so the very first
/// rotation, lone write and read after it succeed, each exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    skip_postgres,
    ignore = "built with SIMPLEJWT_SKIP_POSTGRES=1 (PostgreSQL tests not run)"
)]
async fn postgres_backends_terminated_under_the_pool_are_replaced_and_writes_resume() {
    let db = TestDb::postgres().await;
    let options = StoreOptions {
        max_connections: Some(3),
        ..StoreOptions::default()
    };
    let store = simplejwt::store::connect(&db.url, &options).await.unwrap();
    store.migrate().await.unwrap();
    store.add_outstanding(&token("a")).await.unwrap();
    // Open every connection of the pool.
    let reads = (0..3).map(|_| store.user_by_id(1));
    for read in futures_util::future::join_all(reads).await {
        read.unwrap();
    }
    raw_sql(
        &db,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .await;

    assert!(
        store.rotate(&token("a"), &token("b"), 1).await.unwrap(),
        "the first rotation after the restart"
    );
    assert!(store.is_blacklisted("a").await.unwrap());
    // Once more, for a lone write and a read.
    raw_sql(
        &db,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .await;
    store.add_outstanding(&token("c")).await.unwrap();
    assert!(store.user_by_id(1).await.is_ok());
    assert_eq!(store.token_counts().await.unwrap(), (3, 1));
}
