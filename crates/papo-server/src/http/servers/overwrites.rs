//! Channel permission overwrites: a role's or member's allowed and denied bits in one
//! channel, set and removed one at a time, or copied whole from the channel's category.

use std::collections::BTreeSet;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{post, put};
use papo_core::error::{ErrorCode, FieldCode, FieldError};
use papo_core::id::{ChannelId, ServerId, UserId};
use papo_core::permissions::Permissions;
use papo_gateway::hub::Topic;
use papo_gateway::protocol::EventKind;
use papo_store::roles;
use papo_store::servers::{self, OverwriteRow};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::access::{ChannelAccess, forbidden};
use super::audit::{self, AuditReason};
use super::dto::{Channel, OverwriteType};
use super::views::{resync_after, visibility_now};
use crate::auth::Auth;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::JsonBody;
use crate::state::AppState;

/// Overwrite routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/channels/{id}/permissions/{target_id}",
            put(put_overwrite).delete(delete_overwrite),
        )
        .route(
            "/api/v1/channels/{id}/permissions/sync",
            post(sync_overwrites),
        )
}

/// An overwrite to set.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutOverwrite {
    /// Role or member.
    #[serde(rename = "type")]
    pub kind: OverwriteType,
    /// Decimal string (default none).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub allow: Option<Permissions>,
    /// Decimal string (default none).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub deny: Option<Permissions>,
}

/// Whether the caller of `ca` may change an overwrite touching `touched` in its channel: they
/// need `manage_roles` there and can only allow or deny bits they have.
fn may_touch(ca: &ChannelAccess, touched: Permissions) -> ApiResult<()> {
    ca.require(Permissions::MANAGE_ROLES)?;
    let admin = ca.access.is_owner() || ca.access.base().contains(Permissions::ADMINISTRATOR);
    if !admin && !ca.perms.contains(touched) {
        return Err(forbidden(Permissions(touched.0 & !ca.perms.0)));
    }
    Ok(())
}

/// The hierarchy for overwrites, as for roles and members: an overwrite can only target
/// `@everyone`, a role below the caller's highest, or a member the caller outranks (the
/// owner: anyone). Without it a moderator could close a channel to those above them.
async fn may_target(
    state: &AppState,
    ca: &ChannelAccess,
    target: i64,
    is_role: bool,
) -> ApiResult<()> {
    let access = &ca.access;
    let server = ca.server_id();
    let allowed = if access.is_owner() || target == server.as_i64() {
        true
    } else if is_role {
        access
            .roles()
            .iter()
            .find(|r| r.id == target)
            .is_some_and(|r| r.position < access.top_position())
    } else {
        let user = UserId::from_i64(target);
        let roles = servers::member_role_ids(&state.db, server, user).await?;
        user.as_i64() != access.member().user_id && access.outranks(user, &roles)
    };
    if allowed {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::Forbidden).with_message(
            "You can only set channel permissions for roles below your highest role and members you outrank.",
        ))
    }
}

fn unknown_target() -> ApiError {
    ApiError::new(ErrorCode::NotFound).with_message("Unknown role or member.")
}

/// Sends `channel.updated` for `channels` (their overwrites changed).
async fn announce_channels(
    state: &AppState,
    server: ServerId,
    channels: &[ChannelId],
) -> ApiResult<()> {
    let overwrites = servers::overwrites(&state.db, server).await?;
    for id in channels {
        if let Some(row) = servers::channel(&state.db, *id).await? {
            state.hub.emit(
                Topic::Channel(row.id as u64),
                EventKind::ChannelUpdated,
                &Channel::new(&row, &overwrites),
            );
        }
    }
    Ok(())
}

/// The channels an overwrite change on `ca`'s channel applies to: the channel, then, for a
/// category, each of its channels whose overwrites are the category's (Discord's "synced"
/// channels; one given overwrites of its own keeps them).
fn synced_with(ca: &ChannelAccess) -> Vec<ChannelId> {
    let id = ca.channel().id;
    let mut out = vec![ca.id()];
    if ca.channel().kind != "category" {
        return out;
    }
    let category = keys_of(ca.overwrites(), id);
    out.extend(
        ca.access
            .entry
            .channels
            .iter()
            .filter(|c| c.parent_id == Some(id) && keys_of(ca.overwrites(), c.id) == category)
            .map(|c| ChannelId::from_i64(c.id)),
    );
    out
}

/// Sets a role's or member's overwrite in a channel (`manage_roles`).
#[utoipa::path(put, path = "/api/v1/channels/{id}/permissions/{target_id}", tag = "roles", security(("bearer" = [])),
    params(("id" = String, Path), ("target_id" = String, Path)), request_body = PutOverwrite,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn put_overwrite(
    State(state): State<AppState>,
    auth: Auth,
    reason: AuditReason,
    Path((id, target)): Path<(String, String)>,
    body: JsonBody<PutOverwrite>,
) -> ApiResult<StatusCode> {
    // Authorisation needs the body (which bits are touched): the view and `manage_roles`
    // are checked first, so that a caller without them hears 403, not what their body lacks.
    let ca = ChannelAccess::load(&state, &id, auth.user_id).await?;
    ca.require(Permissions::MANAGE_ROLES)?;
    let req = body.parse()?;
    let allow = req.allow.unwrap_or(Permissions::NONE);
    let deny = req.deny.unwrap_or(Permissions::NONE);
    if allow.0 & deny.0 != 0 {
        return Err(ApiError::new(ErrorCode::ValidationFailed).with_field(
            "deny",
            FieldError::new(
                FieldCode::InvalidValue,
                "A permission cannot be both allowed and denied.",
            ),
        ));
    }
    may_touch(&ca, allow.union(deny))?;
    let target: i64 = target
        .parse::<UserId>()
        .map_err(|_| unknown_target())?
        .as_i64();
    let server_id = ca.server_id();
    let exists = match req.kind {
        OverwriteType::Role => ca.access.roles().iter().any(|r| r.id == target),
        OverwriteType::Member => servers::member(&state.db, server_id, UserId::from_i64(target))
            .await?
            .is_some(),
    };
    if !exists {
        return Err(unknown_target());
    }
    may_target(&state, &ca, target, req.kind == OverwriteType::Role).await?;
    let before = visibility_now(&state, server_id).await?;
    let channels = synced_with(&ca);
    roles::put_overwrite(
        &state.db,
        ca.server_id(),
        &channels,
        target,
        req.kind == OverwriteType::Role,
        allow.0 as i64,
        deny.0 as i64,
    )
    .await?;
    resync_after(&state, server_id, &before).await?;
    announce_channels(&state, server_id, &channels).await?;
    audit::record(&state, &ca.access, Some(ca.channel().id), "overwrite_update",
        Some(json!({"target_id": target.to_string(), "type": req.kind, "allow": allow, "deny": deny})), &reason).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a role's or member's overwrite from a channel (`manage_roles`).
#[utoipa::path(delete, path = "/api/v1/channels/{id}/permissions/{target_id}", tag = "roles", security(("bearer" = [])),
    params(("id" = String, Path), ("target_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_overwrite(
    State(state): State<AppState>,
    auth: Auth,
    reason: AuditReason,
    Path((id, target)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let ca = ChannelAccess::load(&state, &id, auth.user_id).await?;
    let target: i64 = target
        .parse::<UserId>()
        .map_err(|_| unknown_target())?
        .as_i64();
    let existing = ca
        .overwrites()
        .iter()
        .find(|o| o.channel_id == ca.channel().id && o.target_id == target)
        .copied()
        .ok_or_else(unknown_target)?;
    may_touch(&ca, Permissions((existing.allow | existing.deny) as u64))?;
    may_target(&state, &ca, target, existing.is_role).await?;
    let server_id = ca.server_id();
    let before = visibility_now(&state, server_id).await?;
    let channels = synced_with(&ca);
    roles::delete_overwrite(&state.db, ca.server_id(), &channels, target).await?;
    resync_after(&state, server_id, &before).await?;
    announce_channels(&state, server_id, &channels).await?;
    audit::record(
        &state,
        &ca.access,
        Some(ca.channel().id),
        "overwrite_delete",
        Some(json!({"target_id": target.to_string()})),
        &reason,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// One overwrite as compared between two channels: target, role or member, allow, deny.
type OverwriteKey = (i64, bool, i64, i64);

fn keys_of(overwrites: &[OverwriteRow], channel: i64) -> BTreeSet<OverwriteKey> {
    overwrites
        .iter()
        .filter(|o| o.channel_id == channel)
        .map(|o| (o.target_id, o.is_role, o.allow, o.deny))
        .collect()
}

/// Gives a channel its category's overwrites, replacing its own (`manage_roles`): Discord's
/// "sync permissions". The caller must be able to set or remove each overwrite that changes,
/// as one at a time; a channel already synced is left as it is.
#[utoipa::path(post, path = "/api/v1/channels/{id}/permissions/sync", tag = "roles", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn sync_overwrites(
    State(state): State<AppState>,
    auth: Auth,
    reason: AuditReason,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let ca = ChannelAccess::load(&state, &id, auth.user_id).await?;
    ca.require(Permissions::MANAGE_ROLES)?;
    let Some(parent) = ca.channel().parent_id else {
        return Err(ApiError::new(ErrorCode::ValidationFailed)
            .with_message("This channel is not in a category."));
    };
    let own = keys_of(ca.overwrites(), ca.channel().id);
    let wanted = keys_of(ca.overwrites(), parent);
    let changed: Vec<&OverwriteKey> = own.symmetric_difference(&wanted).collect();
    if changed.is_empty() {
        return Ok(StatusCode::NO_CONTENT);
    }
    let touched = changed
        .iter()
        .fold(Permissions::NONE, |t, (_, _, allow, deny)| {
            t.union(Permissions((allow | deny) as u64))
        });
    may_touch(&ca, touched)?;
    let targets: BTreeSet<(i64, bool)> = changed.iter().map(|(t, r, _, _)| (*t, *r)).collect();
    for (target, is_role) in targets {
        may_target(&state, &ca, target, is_role).await?;
    }
    let server_id = ca.server_id();
    let before = visibility_now(&state, server_id).await?;
    roles::copy_overwrites(&state.db, server_id, ca.id(), ChannelId::from_i64(parent)).await?;
    resync_after(&state, server_id, &before).await?;
    announce_channels(&state, server_id, &[ca.id()]).await?;
    audit::record(
        &state,
        &ca.access,
        Some(ca.channel().id),
        "overwrite_sync",
        Some(json!({"parent_id": parent.to_string()})),
        &reason,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
