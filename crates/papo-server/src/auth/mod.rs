//! Authentication: password hashing, opaque bearer tokens, the request extractor and the
//! limits on guessing.

pub mod password;
pub mod rate_limit;
pub mod tokens;

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use papo_core::error::ErrorCode;
use papo_core::id::{SessionId, UserId};
use papo_store::sessions;

use crate::http::error::ApiError;
use crate::state::AppState;

/// The caller of an authenticated route, resolved from `Authorization: Bearer <token>`.
#[derive(Clone, Copy, Debug)]
pub struct Auth {
    /// The user.
    pub user_id: UserId,
    /// The session (device) the token belongs to.
    pub session_id: SessionId,
}

/// `last_used_at` is written at most this often per session, not on every request.
const TOUCH_EVERY_MS: i64 = 60_000;

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized))?;
        let now = crate::now_ms();
        let hash = tokens::hash(token);
        let owner = state
            .directory
            .authenticate(&state.db, &hash, now)
            .await?
            .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized))?;
        let auth = Auth {
            user_id: UserId::from_i64(owner.user_id),
            session_id: SessionId::from_i64(owner.session_id),
        };
        if now - owner.last_used_at >= TOUCH_EVERY_MS {
            // Written with the others by `flush_touches`, not here: one commit per request
            // would compete with the message writer for SQLite's single write lock.
            state.touches.note(auth.session_id, now);
            state.directory.touched(&hash, now);
        }
        Ok(auth)
    }
}

/// Sessions used since the last flush, and when.
#[derive(Default)]
pub struct Touches {
    pending: std::sync::Mutex<std::collections::HashMap<SessionId, i64>>,
}

impl Touches {
    /// Notes that `session` was used at `at`.
    pub fn note(&self, session: SessionId, at: i64) {
        self.pending
            .lock()
            .expect("touches poisoned")
            .insert(session, at);
    }

    /// Writes what was noted, `TOUCH_CHUNK` (256) sessions per transaction: a long one would
    /// hold SQLite's write lock away from the message writer.
    pub async fn flush(&self, db: &papo_store::Db) {
        let batch: Vec<(SessionId, i64)> =
            std::mem::take(&mut *self.pending.lock().expect("touches poisoned"))
                .into_iter()
                .collect();
        for chunk in batch.chunks(TOUCH_CHUNK) {
            if let Err(err) = sessions::touch_many(db, chunk).await {
                tracing::warn!(%err, sessions = chunk.len(), "recording session use failed");
            }
        }
    }
}

/// Sessions written per transaction.
const TOUCH_CHUNK: usize = 256;

/// How often session use is written.
pub const TOUCH_FLUSH_EVERY: Duration = Duration::from_secs(5);

/// Writes noted session use every [`TOUCH_FLUSH_EVERY`].
pub async fn flush_touches(state: AppState) {
    let mut tick = tokio::time::interval(TOUCH_FLUSH_EVERY);
    loop {
        tick.tick().await;
        state.touches.flush(&state.db).await;
    }
}

/// Periodic clean-up: expired tokens and idle rate-limit entries.
pub async fn housekeeping(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        match sessions::purge_expired_tokens(&state.db, crate::now_ms()).await {
            Ok(n) if n > 0 => tracing::info!(tokens = n, "purged expired tokens"),
            Ok(_) => {}
            Err(err) => tracing::warn!(%err, "purging expired tokens failed"),
        }
        let forgotten = state.directory.forget_expired_tokens(crate::now_ms());
        tracing::debug!(tokens = forgotten, "expired tokens forgotten");
        state.login_failures_by_account.prune();
        state.login_failures_by_account_total.prune();
        state.login_failures_by_ip.prune();
        state.registrations_by_ip.prune();
        state.message_rate.prune();
        state.change_rate.prune();
    }
}
