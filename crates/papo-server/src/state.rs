//! Shared application state, injected into every handler.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use papo_core::id::{IdGenerator, Snowflake};
use papo_gateway::hub::Hub;
use papo_store::Db;
use tokio_util::task::TaskTracker;

use crate::auth::Touches;
use crate::auth::password::PasswordHasher;
use crate::auth::rate_limit::{BurstLimiter, WindowLimiter};
use crate::config::Config;
use crate::directory::{CLUSTER_MAX_AGE, Directory};
use crate::http::messages::writer::MessageWriter;
use crate::http::metrics::Metrics;

/// Everything a request may need. Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The contents of [`AppState`].
pub struct Inner {
    /// Resolved configuration.
    pub config: Config,
    /// Database pool.
    pub db: Db,
    /// Id generator for this node.
    pub ids: IdGenerator,
    /// Argon2id hashing on the blocking pool.
    pub passwords: PasswordHasher,
    /// Failed logins per account and client address (and wrong current passwords per session).
    pub login_failures_by_account: WindowLimiter,
    /// Failed logins per account, from every address.
    pub login_failures_by_account_total: WindowLimiter,
    /// Failed logins per client address.
    pub login_failures_by_ip: WindowLimiter,
    /// Registrations per client address.
    pub registrations_by_ip: WindowLimiter,
    /// Request metrics.
    pub metrics: Metrics,
    /// The real-time gateway's sessions and topics on this node.
    pub hub: Arc<Hub>,
    /// Gateway connection tasks, awaited at shutdown.
    pub gateway_tasks: TaskTracker,
    /// The group-commit writer of new messages.
    pub writer: MessageWriter,
    /// Messages per member (burst per window), by user id.
    pub message_rate: BurstLimiter<i64, foldhash::fast::RandomState>,
    /// Edits, reactions, own nickname and profile changes per member (burst per window), by
    /// user id: each one is an event to many.
    pub change_rate: BurstLimiter<i64, foldhash::fast::RandomState>,
    /// When members last wrote in slow-mode channels.
    pub slowmode: SlowmodeBook,
    /// Cached tokens, servers, memberships and profiles, invalidated by committed changes.
    pub directory: Arc<Directory>,
    /// Session use waiting to be written.
    pub touches: Touches,
}

/// When each member last sent a message in each slow-mode channel (this node's memory; a
/// miss falls back to the database).
#[derive(Default)]
pub struct SlowmodeBook {
    last: Mutex<HashMap<(i64, i64), i64>>,
}

impl SlowmodeBook {
    /// Unix ms of `user`'s last message in `channel`, if remembered.
    pub fn last(&self, channel: i64, user: i64) -> Option<i64> {
        self.last
            .lock()
            .expect("slowmode mutex poisoned")
            .get(&(channel, user))
            .copied()
    }

    /// Remembers a message; entries older than six hours (the longest slow mode) go.
    pub fn sent(&self, channel: i64, user: i64, at: i64) {
        let mut map = self.last.lock().expect("slowmode mutex poisoned");
        if map.len() > 100_000 {
            map.retain(|_, t| at - *t < 6 * 3600 * 1000);
        }
        map.insert((channel, user), at);
    }
}

const LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);
const REGISTRATIONS_PER_HOUR_PER_IP: u32 = 30;

impl AppState {
    /// Builds the state around an open database. Committed changes reported by the store
    /// go to every node's hub (this one included), which hands them to its directory.
    pub fn new(config: Config, db: Db) -> Self {
        let hub = Hub::new(config.gateway.clone(), config.node_id);
        // A lost bus message could leave a cluster node's copies stale: bound their age there.
        let directory = Directory::new(config.redis_url.is_some().then_some(CLUSTER_MAX_AGE));
        let weak = Arc::downgrade(&directory);
        hub.on_invalidate(Box::new(move |change| {
            if let Some(d) = weak.upgrade() {
                d.invalidate(change);
            }
        }));
        let weak = Arc::downgrade(&hub);
        db.on_change(Arc::new(move |change| {
            if let Some(h) = weak.upgrade() {
                h.invalidate(change.clone());
            }
        }));
        Self(Arc::new(Inner {
            ids: IdGenerator::new(config.node_id),
            passwords: PasswordHasher::new(),
            login_failures_by_account: WindowLimiter::new(
                config.login_failures_per_account,
                LOGIN_WINDOW,
            ),
            login_failures_by_account_total: WindowLimiter::new(
                config.login_failures_per_account_total,
                LOGIN_WINDOW,
            ),
            login_failures_by_ip: WindowLimiter::new(config.login_failures_per_ip, LOGIN_WINDOW),
            registrations_by_ip: WindowLimiter::new(
                REGISTRATIONS_PER_HOUR_PER_IP,
                Duration::from_secs(3600),
            ),
            metrics: Metrics::default(),
            hub,
            directory,
            touches: Touches::default(),
            gateway_tasks: TaskTracker::new(),
            writer: MessageWriter::start(db.clone()),
            message_rate: BurstLimiter::new(
                config.message_rate_burst,
                Duration::from_secs(config.message_rate_window_secs),
            ),
            change_rate: BurstLimiter::new(
                config.change_rate_burst,
                Duration::from_secs(config.change_rate_window_secs),
            ),
            slowmode: SlowmodeBook::default(),
            config,
            db,
        }))
    }

    /// A new time-ordered id.
    pub fn next_id(&self) -> Snowflake {
        self.ids.next(crate::now_ms() as u64)
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
