//! Shared application state, injected into every handler.

use std::sync::Arc;
use std::time::Duration;

use papo_core::id::{IdGenerator, Snowflake};
use papo_gateway::hub::Hub;
use papo_store::Db;
use tokio_util::task::TaskTracker;

use crate::auth::password::PasswordHasher;
use crate::auth::rate_limit::WindowLimiter;
use crate::config::Config;
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
    /// Failed logins per account key.
    pub login_failures_by_account: WindowLimiter,
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
}

const LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);
const REGISTRATIONS_PER_HOUR_PER_IP: u32 = 30;

impl AppState {
    /// Builds the state around an open database.
    pub fn new(config: Config, db: Db) -> Self {
        Self(Arc::new(Inner {
            ids: IdGenerator::new(config.node_id),
            passwords: PasswordHasher::new(),
            login_failures_by_account: WindowLimiter::new(
                config.login_failures_per_account,
                LOGIN_WINDOW,
            ),
            login_failures_by_ip: WindowLimiter::new(config.login_failures_per_ip, LOGIN_WINDOW),
            registrations_by_ip: WindowLimiter::new(
                REGISTRATIONS_PER_HOUR_PER_IP,
                Duration::from_secs(3600),
            ),
            metrics: Metrics::default(),
            hub: Hub::new(config.gateway.clone(), config.node_id),
            gateway_tasks: TaskTracker::new(),
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
