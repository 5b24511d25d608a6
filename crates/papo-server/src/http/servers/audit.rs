//! The audit log: every moderation and settings change, with its actor, target and reason.

use std::collections::{BTreeMap, HashSet};

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::routing::get;
use axum::{Json, Router};
use papo_core::error::{ErrorCode, FieldCode, FieldError};
use papo_core::id::{ServerId, Snowflake, UserId};
use papo_core::permissions::Permissions;
use papo_store::audit::{self, AuditQuery, AuditRow};
use papo_store::servers::OverwriteRow;
use papo_store::users;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::access::{ServerAccess, unknown_server};
use super::path_id;
use crate::auth::Auth;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::ApiQuery;
use crate::http::rfc3339;
use crate::http::users::PublicUser;
use crate::state::AppState;

/// Audit log routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/servers/{id}/audit-log", get(list))
}

/// The header carrying a moderator's reason.
pub const REASON_HEADER: &str = "x-audit-log-reason";
const MAX_REASON: usize = 512;

/// The reason from `X-Audit-Log-Reason` (URL-encoded, ≤ 512 characters), if any.
#[derive(Clone, Debug, Default)]
pub struct AuditReason(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for AuditReason {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let Some(raw) = parts.headers.get(REASON_HEADER) else {
            return Ok(Self(None));
        };
        let bad = |msg: &'static str| {
            ApiError::new(ErrorCode::ValidationFailed)
                .with_field(REASON_HEADER, FieldError::new(FieldCode::InvalidValue, msg))
        };
        let text = percent_encoding::percent_decode(raw.as_bytes())
            .decode_utf8()
            .map_err(|_| bad("Not URL-encoded UTF-8."))?;
        let text = text.trim();
        if text.chars().count() > MAX_REASON {
            return Err(ApiError::new(ErrorCode::ValidationFailed)
                .with_field(REASON_HEADER, FieldError::at_most(MAX_REASON as u32)));
        }
        papo_core::validate::line_chars(text)
            .map_err(|e| ApiError::new(ErrorCode::ValidationFailed).with_field(REASON_HEADER, e))?;
        Ok(Self((!text.is_empty()).then(|| text.to_owned())))
    }
}

/// Appends an entry for a change `access`'s member made. A failure is logged, never
/// returned: the change itself already happened.
pub async fn record(
    state: &AppState,
    access: &ServerAccess,
    target: Option<i64>,
    action: &str,
    changes: Option<Value>,
    reason: &AuditReason,
) {
    let row = AuditRow {
        id: state.next_id().as_i64(),
        server_id: access.server().id,
        actor_id: access.member().user_id,
        target_id: target,
        action: action.to_owned(),
        changes: changes.map(|c| c.to_string()),
        reason: reason.0.clone(),
    };
    if let Err(err) = audit::insert(&state.db, &row).await {
        tracing::error!(%err, action, "audit log entry not written");
    }
}

/// An audit log entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditLogEntry {
    /// Id (time ordered).
    pub id: String,
    /// Server.
    pub server_id: ServerId,
    /// Who did it.
    pub actor_id: UserId,
    /// What it was done to.
    pub target_id: Option<String>,
    /// e.g. `member_ban_add`.
    pub action: String,
    /// What changed.
    #[schema(value_type = Option<Object>)]
    pub changes: Option<Value>,
    /// Why.
    pub reason: Option<String>,
    /// RFC 3339.
    pub created_at: String,
}

/// A page of the audit log with the users it names.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditLogPage {
    /// Newest first.
    pub entries: Vec<AuditLogEntry>,
    /// Actors and user targets.
    pub users: Vec<PublicUser>,
}

/// Filters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditParams {
    /// Entries older than this id.
    pub before: Option<String>,
    /// 1–100 (default 50).
    pub limit: Option<i64>,
    /// Only this action.
    pub action: Option<String>,
    /// Only this actor.
    pub actor_id: Option<String>,
}

fn bad_param(name: &str, msg: &'static str) -> ApiError {
    ApiError::new(ErrorCode::ValidationFailed)
        .with_field(name, FieldError::new(FieldCode::InvalidValue, msg))
}

/// The server's audit log, newest first (`view_audit_log`).
#[utoipa::path(get, path = "/api/v1/servers/{id}/audit-log", tag = "moderation", security(("bearer" = [])),
    params(("id" = String, Path), AuditParams),
    responses((status = 200, body = AuditLogPage), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> ApiResult<Json<AuditLogPage>> {
    let id: ServerId = path_id(&id, unknown_server)?;
    let access = ServerAccess::load(&state, id, auth.user_id).await?;
    access.require(Permissions::VIEW_AUDIT_LOG)?;
    let limit = params.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(bad_param("limit", "1 to 100."));
    }
    let before = match &params.before {
        Some(b) => Some(
            b.parse::<Snowflake>()
                .map_err(|_| bad_param("before", "Not an id."))?
                .as_i64(),
        ),
        None => None,
    };
    let actor_id = match &params.actor_id {
        Some(a) => Some(
            a.parse::<UserId>()
                .map_err(|_| bad_param("actor_id", "Not an id."))?
                .as_i64(),
        ),
        None => None,
    };
    // No action has a control character, and PostgreSQL's text cannot hold a NUL.
    if params
        .action
        .as_deref()
        .is_some_and(|a| a.chars().any(char::is_control))
    {
        return Err(bad_param("action", "Not an action."));
    }
    let mut rows = audit::list(
        &state.db,
        id,
        &AuditQuery {
            before,
            action: params.action.clone(),
            actor_id,
            limit,
        },
    )
    .await?;
    let mut overwrites = papo_store::servers::overwrites(&state.db, id).await?;
    // A channel deleted since is judged by the overwrites it had then (kept in its deletion's
    // entry); one deleted before they were kept, by the owner and administrators only.
    let existing: HashSet<i64> = access.entry.channels.iter().map(|c| c.id).collect();
    let mut gone = HashSet::new();
    let mut unknown = HashSet::new();
    for c in rows.iter().flat_map(channels_of) {
        if existing.contains(&c) || !gone.insert(c) {
            continue;
        }
        match audit::channel_deletion(&state.db, id, c).await? {
            Some(changes) if kept_overwrites(c, &changes, &mut overwrites) => {}
            _ => {
                unknown.insert(c);
            }
        }
    }
    let sees_all = access.is_owner() || access.base().contains(Permissions::ADMINISTRATOR);
    for row in &mut rows {
        redact_hidden(row, &|c| {
            if unknown.contains(&c) {
                sees_all
            } else {
                access
                    .in_channel(c, &overwrites)
                    .contains(Permissions::VIEW_CHANNEL)
            }
        });
    }
    let mut ids: Vec<i64> = rows.iter().map(|r| r.actor_id).collect();
    ids.extend(rows.iter().filter_map(|r| r.target_id));
    ids.extend(
        rows.iter()
            .flat_map(|r| users_in_changes(r.changes.as_deref())),
    );
    ids.sort_unstable();
    ids.dedup();
    let users: BTreeMap<i64, PublicUser> = users::by_ids(&state.db, &ids)
        .await?
        .iter()
        .map(|u| (u.id, PublicUser::from_row(u)))
        .collect();
    let entries = rows
        .into_iter()
        .map(|r| AuditLogEntry {
            id: r.id.to_string(),
            server_id: id,
            actor_id: UserId::from_i64(r.actor_id),
            target_id: r.target_id.map(|t| t.to_string()),
            action: r.action,
            changes: r.changes.and_then(|c| serde_json::from_str(&c).ok()),
            reason: r.reason,
            created_at: rfc3339(Snowflake::from_raw(r.id as u64).unix_ms() as i64),
        })
        .collect();
    Ok(Json(AuditLogPage {
        entries,
        users: users.into_values().collect(),
    }))
}

/// Keeps what an entry says about channels the caller cannot view to itself, as everything
/// else does: an entry about one such channel (its edits, overwrites, messages) keeps its
/// action, actor and time but loses its target and changes; a reorder loses such channels'
/// positions.
fn redact_hidden(row: &mut AuditRow, sees: &dyn Fn(i64) -> bool) {
    let mut changes: Option<Value> = row
        .changes
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok());
    if entry_channel(row, changes.as_ref()).is_some_and(|c| !sees(c)) {
        row.target_id = None;
        row.changes = None;
        return;
    }
    // A deletion's overwrites are kept for the check above, not shown.
    if row.action == "channel_delete"
        && let Some(Value::Object(map)) = changes.as_mut()
        && map.remove("overwrites").is_some()
    {
        row.changes = Some(Value::Object(map.clone()).to_string());
    }
    if let Some(Value::Array(positions)) = changes.as_ref().and_then(|c| c.get("positions")) {
        let kept: Vec<&Value> = positions
            .iter()
            .filter(|p| {
                p.get(0)
                    .and_then(Value::as_str)
                    .and_then(|c| c.parse().ok())
                    .is_none_or(sees)
            })
            .collect();
        if kept.len() < positions.len() {
            row.changes = Some(serde_json::json!({ "positions": kept }).to_string());
        }
    }
}

/// The channel an entry is about: its target for a channel's own actions, its overwrites
/// and a bulk delete in it, the `channel_id` of its changes for a message's.
fn entry_channel(row: &AuditRow, changes: Option<&Value>) -> Option<i64> {
    if row.action.starts_with("channel_")
        || row.action.starts_with("overwrite_")
        || row.action == "message_bulk_delete"
    {
        row.target_id
    } else if row.action.starts_with("message_") {
        changes.and_then(|c| c.get("channel_id")?.as_str()?.parse().ok())
    } else {
        None
    }
}

/// Every channel an entry names: [`entry_channel`], and those of a reorder's positions.
fn channels_of(row: &AuditRow) -> Vec<i64> {
    let changes: Option<Value> = row
        .changes
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok());
    let mut out: Vec<i64> = entry_channel(row, changes.as_ref()).into_iter().collect();
    if let Some(Value::Array(positions)) = changes.as_ref().and_then(|c| c.get("positions")) {
        out.extend(
            positions
                .iter()
                .filter_map(|p| p.get(0)?.as_str()?.parse::<i64>().ok()),
        );
    }
    out
}

/// Adds the overwrites deleted channel `channel` had, as its deletion's entry kept them
/// (`[target, "role" | "member", allow, deny]` each); false if that entry kept none.
fn kept_overwrites(channel: i64, changes: &str, into: &mut Vec<OverwriteRow>) -> bool {
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(changes) else {
        return false;
    };
    let Some(Value::Array(kept)) = map.get("overwrites") else {
        return false;
    };
    let number = |v: &Value| v.as_str().and_then(|s| s.parse::<i64>().ok());
    into.extend(kept.iter().filter_map(|o| {
        Some(OverwriteRow {
            channel_id: channel,
            target_id: number(o.get(0)?)?,
            is_role: o.get(1)?.as_str()? == "role",
            allow: number(o.get(2)?)?,
            deny: number(o.get(3)?)?,
        })
    }));
    true
}

/// The users an entry's changes name, so the answer's `users` lets a client name them too:
/// an ownership transfer's old and new owner, a member overwrite's member (`target_id`; a
/// role's id there matches no user and is dropped by the lookup).
fn users_in_changes(changes: Option<&str>) -> Vec<i64> {
    let Some(Ok(serde_json::Value::Object(map))) = changes.map(serde_json::from_str) else {
        return Vec::new();
    };
    let id = |v: &serde_json::Value| v.as_str().and_then(|s| s.parse::<i64>().ok());
    let mut out = Vec::new();
    if let Some(serde_json::Value::Array(pair)) = map.get("owner_id") {
        out.extend(pair.iter().filter_map(id));
    }
    out.extend(map.get("target_id").and_then(id));
    out
}
