//! Brute-force throttling of logins (`LOGIN_THROTTLE`, on in the hardened
//! preset): failures are counted per (username, client address) and per
//! address, and once a key has had its free failures, each further attempt
//! must wait a delay that doubles with every failure up to a cap
//! (`LOGIN_THROTTLE_DELAY` … `LOGIN_THROTTLE_MAX_DELAY`); a throttled attempt
//! is answered 429 with `Retry-After` before any password work.
//!
//! Why this shape (django-axes / Keycloak brute-force detection, OWASP
//! authentication cheat sheet):
//! - **No lock-out.** The delay is capped and counters are forgotten
//!   `LOGIN_THROTTLE_WINDOW` after the last failure; per-(username, address)
//!   keys mean an attacker elsewhere cannot lock a user out, and the
//!   per-address key (IPv6: per /64) slows one source spraying usernames.
//! - **No enumeration.** The username is counted as typed, without looking
//!   it up: unknown usernames are throttled exactly like known ones. Keys
//!   carry a SHA-256 of the username, never the name itself.
//! - **A throttled attempt is not a failure.** It is refused without being
//!   counted, so waiting out the delay always gets one more try.
//! - **Shared where instances are.** Counters live behind
//!   [`FailureCounters`]: the PostgreSQL table when the database offers one,
//!   this process's memory otherwise (SQLite). A counter store that fails
//!   lets the login proceed (and logs): throttling must not turn a database
//!   hiccup into a lock-out.
//!
//! `governor` (GCRA) was considered: it limits a rate, but does not express
//! "free failures, then a doubling delay, forgiven on success", nor share
//! state through PostgreSQL, so the rule is written here over the counters.
//!
//! Cost: nothing on the authenticated-request path; on a login, one counter
//! read per key (two) and, on failure, one upsert per key.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::settings::Settings;
use crate::store::{FailureCounters, Failures};

/// The throttle rule over a counter store.
#[derive(Clone)]
pub struct Throttle {
    counters: Arc<dyn FailureCounters>,
    free_per_user: u32,
    free_per_ip: u32,
    delay: Duration,
    max_delay: Duration,
    window: Duration,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle")
            .field("free_per_user", &self.free_per_user)
            .field("free_per_ip", &self.free_per_ip)
            .field("delay", &self.delay)
            .field("max_delay", &self.max_delay)
            .finish_non_exhaustive()
    }
}

/// The keys one login attempt is counted under.
struct Keys {
    user: String,
    ip: Option<String>,
}

impl Throttle {
    /// The rule of `settings` (`LOGIN_THROTTLE_*`) over `counters`.
    pub fn new(settings: &Settings, counters: Arc<dyn FailureCounters>) -> Self {
        Self {
            counters,
            free_per_user: settings.login_throttle_free_failures() as u32,
            free_per_ip: settings.login_throttle_ip_free_failures() as u32,
            delay: settings.login_throttle_delay(),
            max_delay: settings.login_throttle_max_delay(),
            window: settings.login_throttle_window(),
        }
    }

    /// The wait after `count` failures when `free` are free: none before,
    /// then the delay doubling per failure, capped.
    pub fn delay_after(&self, count: u32, free: u32) -> Duration {
        if count < free {
            return Duration::ZERO;
        }
        let doublings = (count - free).min(40);
        self.delay
            .checked_mul(1u32 << doublings.min(31))
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }

    fn keys(username: &str, ip: Option<IpAddr>) -> Keys {
        let digest = Sha256::digest(username.as_bytes());
        let name: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        let ip = ip.map(bucket);
        Keys {
            user: format!("u:{name}@{}", ip.as_deref().unwrap_or("-")),
            ip: ip.map(|ip| format!("ip:{ip}")),
        }
    }

    fn since(&self, now_ms: i64) -> i64 {
        now_ms.saturating_sub(self.window.as_millis() as i64)
    }

    /// How long this attempt must still wait (`None`: it may proceed).
    pub async fn wait(&self, username: &str, ip: Option<IpAddr>, now_ms: i64) -> Option<Duration> {
        let keys = Self::keys(username, ip);
        let since = self.since(now_ms);
        let mut wait = Duration::ZERO;
        let mut check = |failures: Option<Failures>, free: u32| {
            if let Some(f) = failures {
                let until = f.last_ms + self.delay_after(f.count, free).as_millis() as i64;
                if until > now_ms {
                    wait = wait.max(Duration::from_millis((until - now_ms) as u64));
                }
            }
        };
        check(self.read(&keys.user, since).await, self.free_per_user);
        if let Some(ip) = &keys.ip {
            check(self.read(ip, since).await, self.free_per_ip);
        }
        (!wait.is_zero()).then_some(wait)
    }

    /// Counts a failed attempt.
    pub async fn failed(&self, username: &str, ip: Option<IpAddr>, now_ms: i64) {
        let keys = Self::keys(username, ip);
        let since = self.since(now_ms);
        for key in std::iter::once(&keys.user).chain(keys.ip.as_ref()) {
            if let Err(e) = self.counters.record(key, now_ms, since).await {
                tracing::warn!(error = %e, "login throttle: cannot count a failure");
            }
        }
    }

    /// Forgets the (username, address) failures after a successful login
    /// (the address's own count runs out with its window).
    pub async fn succeeded(&self, username: &str, ip: Option<IpAddr>) {
        let keys = Self::keys(username, ip);
        if let Err(e) = self.counters.clear(&keys.user).await {
            tracing::warn!(error = %e, "login throttle: cannot clear a counter");
        }
    }

    async fn read(&self, key: &str, since: i64) -> Option<Failures> {
        match self.counters.get(key, since).await {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(error = %e, "login throttle: cannot read a counter; not throttling");
                None
            }
        }
    }
}

/// The address a counter is kept for: IPv4 as is, IPv6 by its /64 (one
/// host's usual allocation), IPv4-mapped IPv6 as IPv4.
fn bucket(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryCounters;

    fn throttle(pairs: &[(&str, &str)]) -> Throttle {
        let mut all = vec![("SIGNING_KEY", "k".repeat(32))];
        all.extend(pairs.iter().map(|(k, v)| (*k, v.to_string())));
        let settings = Settings::from_pairs(all).unwrap();
        Throttle::new(&settings, Arc::new(MemoryCounters::default()))
    }

    #[test]
    fn the_delay_doubles_from_the_first_paid_failure_up_to_the_cap() {
        let t = throttle(&[("LOGIN_THROTTLE_MAX_DELAY", "10s")]);
        let secs = |n| t.delay_after(n, 5).as_secs();
        assert_eq!(
            [secs(0), secs(4), secs(5), secs(6), secs(7), secs(8)],
            [0, 0, 1, 2, 4, 8]
        );
        assert_eq!([secs(9), secs(100), secs(u32::MAX)], [10, 10, 10]);
    }

    #[tokio::test]
    async fn unknown_and_known_usernames_count_alike_and_waiting_gives_a_try() {
        let t = throttle(&[("LOGIN_THROTTLE_FREE_FAILURES", "2")]);
        let ip = Some("192.0.2.1".parse().unwrap());
        assert_eq!(t.wait("anyone", ip, 0).await, None);
        t.failed("anyone", ip, 0).await;
        assert_eq!(t.wait("anyone", ip, 0).await, None);
        t.failed("anyone", ip, 0).await;
        assert_eq!(t.wait("anyone", ip, 0).await, Some(Duration::from_secs(1)));
        assert_eq!(
            t.wait("anyone", ip, 400).await,
            Some(Duration::from_millis(600))
        );
        // another address, another username: not affected
        assert_eq!(
            t.wait("anyone", Some("192.0.2.2".parse().unwrap()), 0)
                .await,
            None
        );
        assert_eq!(t.wait("someone", ip, 0).await, None);
        // after the delay one more try; a success forgives
        assert_eq!(t.wait("anyone", ip, 1000).await, None);
        t.succeeded("anyone", ip).await;
        assert_eq!(t.wait("anyone", ip, 1000).await, None);
    }

    #[test]
    fn ipv6_addresses_share_their_64() {
        let a = bucket("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = bucket("2001:db8:1:2:bbbb::2".parse().unwrap());
        assert_eq!(a, b);
        assert_eq!(bucket("::ffff:192.0.2.1".parse().unwrap()), "192.0.2.1");
    }
}
