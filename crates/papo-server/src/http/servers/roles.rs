//! Roles (with positions and the hierarchy) and channel permission overwrites.

use std::collections::BTreeSet;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch, put};
use axum::{Json, Router};
use papo_core::error::{ErrorCode, FieldCode, FieldError, FieldErrors};
use papo_core::id::{ChannelId, RoleId, ServerId, UserId};
use papo_core::permissions::Permissions;
use papo_core::settings::{Patch, patch_field};
use papo_gateway::hub::Topic;
use papo_gateway::protocol::EventKind;
use papo_store::roles;
use papo_store::servers::{self, RoleRow};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::access::{ChannelAccess, ServerAccess, forbidden, unknown_server};
use super::audit::{self, AuditReason};
use super::dto::{Channel, OverwriteType, Role};
use super::path_id;
use super::views::{resync_after, visibility_now};
use crate::auth::Auth;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::JsonBody;
use crate::state::AppState;

/// Role and overwrite routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/servers/{id}/roles",
            get(list_roles).post(create_role),
        )
        .route(
            "/api/v1/servers/{id}/roles/{role_id}",
            patch(patch_role).delete(delete_role),
        )
        .route(
            "/api/v1/channels/{id}/permissions/{target_id}",
            put(put_overwrite).delete(delete_overwrite),
        )
}

const MAX_ROLES: usize = 250;

fn unknown_role() -> ApiError {
    ApiError::new(ErrorCode::NotFound).with_message("Unknown role.")
}

fn role_name(raw: &str) -> Result<String, FieldError> {
    let n = raw.trim();
    if n.is_empty() {
        return Err(papo_core::validate::required());
    }
    if n.chars().count() > 100 {
        return Err(FieldError::at_most(100));
    }
    papo_core::validate::name_chars(n)?;
    Ok(n.to_owned())
}

fn check_color(c: Option<i64>) -> Result<Option<i64>, FieldError> {
    match c {
        Some(v) if !(0..=0xFF_FFFF).contains(&v) => Err(FieldError::new(
            FieldCode::InvalidValue,
            "0 to 16777215 (0xFFFFFF).",
        )),
        other => Ok(other),
    }
}

/// The server's roles, highest first.
#[utoipa::path(get, path = "/api/v1/servers/{id}/roles", tag = "roles", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<Role>), (status = 404, body = ErrorBody)))]
pub async fn list_roles(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Role>>> {
    let id: ServerId = path_id(&id, unknown_server)?;
    let access = ServerAccess::load(&state, id, auth.user_id).await?;
    Ok(Json(access.roles().iter().map(Role::from).collect()))
}

/// A new role.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CreateRole {
    /// 1–100 characters (default "new role").
    pub name: Option<String>,
    /// 0–0xFFFFFF.
    pub color: Option<i64>,
    /// Decimal string.
    #[schema(value_type = Option<String>)]
    pub permissions: Option<Permissions>,
    /// Listed separately.
    pub hoist: Option<bool>,
    /// Mentionable by anyone.
    pub mentionable: Option<bool>,
}

/// Whether the caller may hand out `grants`.
fn may_grant(access: &ServerAccess, grants: Permissions) -> bool {
    let base = access.base();
    access.is_owner() || base.contains(Permissions::ADMINISTRATOR) || base.contains(grants)
}

/// Creates a role just above `@everyone` (`manage_roles`).
#[utoipa::path(post, path = "/api/v1/servers/{id}/roles", tag = "roles", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = CreateRole,
    responses((status = 201, body = Role), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_role(
    State(state): State<AppState>,
    auth: Auth,
    reason: AuditReason,
    Path(id): Path<String>,
    body: JsonBody<CreateRole>,
) -> ApiResult<(StatusCode, Json<Role>)> {
    let server_id: ServerId = path_id(&id, unknown_server)?;
    let access = ServerAccess::load(&state, server_id, auth.user_id).await?;
    access.require(Permissions::MANAGE_ROLES)?;
    let req = body.parse()?;
    let mut errors = FieldErrors::new();
    let name = match role_name(req.name.as_deref().unwrap_or("new role")) {
        Ok(n) => n,
        Err(e) => {
            errors.insert("name".into(), e);
            String::new()
        }
    };
    let color = check_color(req.color)
        .map_err(|e| errors.insert("color".into(), e))
        .unwrap_or(None);
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    if access.roles().len() >= MAX_ROLES {
        return Err(ApiError::new(ErrorCode::TooManyRoles));
    }
    let permissions = req.permissions.unwrap_or(Permissions::NONE);
    if !may_grant(&access, permissions) {
        return Err(ApiError::new(ErrorCode::Forbidden)
            .with_message("You cannot grant permissions you do not have."));
    }
    let row = RoleRow {
        id: state.next_id().as_i64(),
        server_id: server_id.as_i64(),
        name,
        color,
        position: 1,
        permissions: permissions.0 as i64,
        hoist: req.hoist.unwrap_or(false),
        mentionable: req.mentionable.unwrap_or(false),
    };
    roles::create(&state.db, &row).await?;
    let role = Role::from(&row);
    state
        .hub
        .emit(Topic::Server(server_id), EventKind::RoleCreated, &role);
    // Roles above it moved up one: tell the clients.
    for r in access.roles().iter().filter(|r| r.position >= 1) {
        let moved = RoleRow {
            position: r.position + 1,
            ..r.clone()
        };
        state.hub.emit(
            Topic::Server(server_id),
            EventKind::RoleUpdated,
            &Role::from(&moved),
        );
    }
    audit::record(
        &state,
        &access,
        Some(row.id),
        "role_create",
        Some(json!({"name": role.name, "permissions": role.permissions})),
        &reason,
    )
    .await;
    Ok((StatusCode::CREATED, Json(role)))
}

/// Changes to a role.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PatchRole {
    /// 1–100 characters (not for `@everyone`).
    pub name: Option<String>,
    /// `null` clears.
    #[serde(deserialize_with = "patch_field")]
    #[schema(value_type = Option<i64>)]
    pub color: Patch<i64>,
    /// Decimal string.
    #[schema(value_type = Option<String>)]
    pub permissions: Option<Permissions>,
    /// Listed separately.
    pub hoist: Option<bool>,
    /// Mentionable by anyone.
    pub mentionable: Option<bool>,
    /// New rank (≥ 1, below the caller's highest role).
    pub position: Option<i64>,
}

/// Edits a role below the caller's highest (`manage_roles`).
#[utoipa::path(patch, path = "/api/v1/servers/{id}/roles/{role_id}", tag = "roles", security(("bearer" = [])),
    params(("id" = String, Path), ("role_id" = String, Path)), request_body = PatchRole,
    responses((status = 200, body = Role), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn patch_role(
    State(state): State<AppState>,
    auth: Auth,
    reason: AuditReason,
    Path((id, role_id)): Path<(String, String)>,
    body: JsonBody<PatchRole>,
) -> ApiResult<Json<Role>> {
    let server_id: ServerId = path_id(&id, unknown_server)?;
    let access = ServerAccess::load(&state, server_id, auth.user_id).await?;
    access.require(Permissions::MANAGE_ROLES)?;
    let role_id: RoleId = path_id(&role_id, unknown_role)?;
    let old = access
        .roles()
        .iter()
        .find(|r| r.id == role_id.as_i64())
        .cloned()
        .ok_or_else(unknown_role)?;
    let req = body.parse()?;
    let everyone = old.id == server_id.as_i64();
    let mut row = old.clone();
    let mut errors = FieldErrors::new();
    if let Some(name) = &req.name {
        if everyone {
            errors.insert(
                "name".into(),
                FieldError::new(FieldCode::InvalidValue, "@everyone cannot be renamed."),
            );
        } else {
            match role_name(name) {
                Ok(n) => row.name = n,
                Err(e) => {
                    errors.insert("name".into(), e);
                }
            }
        }
    }
    if let Some(c) = req.color {
        match check_color(c) {
            Ok(v) => row.color = v,
            Err(e) => {
                errors.insert("color".into(), e);
            }
        }
    }
    if let Some(p) = req.position
        && (everyone || p < 1 || p as usize >= access.roles().len())
    {
        errors.insert(
            "position".into(),
            FieldError::new(
                FieldCode::InvalidValue,
                "Between 1 and the number of roles - 1 (@everyone stays at 0).",
            ),
        );
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    if let Some(p) = req.permissions {
        row.permissions = p.0 as i64;
    }
    row.hoist = req.hoist.unwrap_or(row.hoist);
    row.mentionable = req.mentionable.unwrap_or(row.mentionable);
    let added = Permissions(row.permissions as u64 & !(old.permissions as u64));
    // Only roles below one's highest, and only bits one has. `@everyone` (position 0) is
    // below anyone with a role; the owner is above all.
    let allowed = if everyone {
        (access.is_owner() || access.top_position() > 0) && may_grant(&access, added)
    } else {
        access.can_manage_role(old.position, added)
    };
    if !allowed {
        return Err(ApiError::new(ErrorCode::Forbidden).with_message(
            "You can only edit roles below your highest role, and only grant permissions you have.",
        ));
    }
    if let Some(p) = req.position
        && !access.is_owner()
        && p >= access.top_position()
    {
        return Err(ApiError::new(ErrorCode::Forbidden)
            .with_message("You can only move roles below your highest role."));
    }
    let before = visibility_now(&state, server_id).await?;
    roles::update(&state.db, &row).await?;
    let mut moved: Vec<RoleRow> = Vec::new();
    if let Some(p) = req.position.filter(|p| *p != old.position) {
        // Re-rank: take the role out of the order and put it at `p`.
        let mut order: Vec<RoleRow> = access
            .roles()
            .iter()
            .filter(|r| r.id != server_id.as_i64() && r.id != row.id)
            .cloned()
            .collect();
        order.sort_by_key(|r| (r.position, r.id));
        let at = ((p - 1) as usize).min(order.len());
        order.insert(at, row.clone());
        let mut positions = Vec::new();
        for (i, r) in order.iter_mut().enumerate() {
            let pos = i as i64 + 1;
            if r.position != pos || r.id == row.id {
                r.position = pos;
                positions.push((r.id, pos));
                moved.push(r.clone());
            }
        }
        roles::set_positions(&state.db, server_id, &positions).await?;
        row.position = p.min(order.len() as i64);
    }
    let role = Role::from(&row);
    state
        .hub
        .emit(Topic::Server(server_id), EventKind::RoleUpdated, &role);
    for r in moved.iter().filter(|r| r.id != row.id) {
        state.hub.emit(
            Topic::Server(server_id),
            EventKind::RoleUpdated,
            &Role::from(r),
        );
    }
    resync_after(&state, server_id, &before).await?;
    let mut changes = serde_json::Map::new();
    if old.name != row.name {
        changes.insert("name".into(), json!([old.name, row.name]));
    }
    if old.permissions != row.permissions {
        changes.insert(
            "permissions".into(),
            json!([
                Permissions(old.permissions as u64),
                Permissions(row.permissions as u64)
            ]),
        );
    }
    if old.color != row.color {
        changes.insert("color".into(), json!([old.color, row.color]));
    }
    if old.position != row.position {
        changes.insert("position".into(), json!([old.position, row.position]));
    }
    if old.hoist != row.hoist {
        changes.insert("hoist".into(), json!([old.hoist, row.hoist]));
    }
    if old.mentionable != row.mentionable {
        changes.insert(
            "mentionable".into(),
            json!([old.mentionable, row.mentionable]),
        );
    }
    audit::record(
        &state,
        &access,
        Some(row.id),
        "role_update",
        Some(changes.into()),
        &reason,
    )
    .await;
    Ok(Json(role))
}

/// Deletes a role below the caller's highest (`manage_roles`).
#[utoipa::path(delete, path = "/api/v1/servers/{id}/roles/{role_id}", tag = "roles", security(("bearer" = [])),
    params(("id" = String, Path), ("role_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_role(
    State(state): State<AppState>,
    auth: Auth,
    reason: AuditReason,
    Path((id, role_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let server_id: ServerId = path_id(&id, unknown_server)?;
    let access = ServerAccess::load(&state, server_id, auth.user_id).await?;
    access.require(Permissions::MANAGE_ROLES)?;
    let role_id: RoleId = path_id(&role_id, unknown_role)?;
    let role = access
        .roles()
        .iter()
        .find(|r| r.id == role_id.as_i64())
        .cloned()
        .ok_or_else(unknown_role)?;
    if role.id == server_id.as_i64() {
        return Err(
            ApiError::new(ErrorCode::Forbidden).with_message("@everyone cannot be deleted.")
        );
    }
    if !access.can_manage_role(role.position, Permissions::NONE) {
        return Err(ApiError::new(ErrorCode::Forbidden)
            .with_message("You can only delete roles below your highest role."));
    }
    let before = visibility_now(&state, server_id).await?;
    roles::delete(&state.db, server_id, role.id).await?;
    state.hub.emit(
        Topic::Server(server_id),
        EventKind::RoleDeleted,
        &json!({"id": role_id, "server_id": server_id}),
    );
    resync_after(&state, server_id, &before).await?;
    audit::record(
        &state,
        &access,
        Some(role.id),
        "role_delete",
        Some(json!({"name": role.name})),
        &reason,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
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

/// Loads the channel for an overwrite change: the caller needs `manage_roles` there and can
/// only allow or deny bits they have.
async fn overwrite_access(
    state: &AppState,
    raw_id: &str,
    user: UserId,
    touched: Permissions,
) -> ApiResult<ChannelAccess> {
    let ca = ChannelAccess::load(state, raw_id, user).await?;
    ca.require(Permissions::MANAGE_ROLES)?;
    let admin = ca.access.is_owner() || ca.access.base().contains(Permissions::ADMINISTRATOR);
    if !admin && !ca.perms.contains(touched) {
        return Err(forbidden(Permissions(touched.0 & !ca.perms.0)));
    }
    Ok(ca)
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
    let set = |channel: i64| -> BTreeSet<(i64, bool, i64, i64)> {
        ca.overwrites()
            .iter()
            .filter(|o| o.channel_id == channel)
            .map(|o| (o.target_id, o.is_role, o.allow, o.deny))
            .collect()
    };
    let category = set(id);
    out.extend(
        ca.access
            .entry
            .channels
            .iter()
            .filter(|c| c.parent_id == Some(id) && set(c.id) == category)
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
    ChannelAccess::load(&state, &id, auth.user_id)
        .await?
        .require(Permissions::MANAGE_ROLES)?;
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
    let ca = overwrite_access(&state, &id, auth.user_id, allow.union(deny)).await?;
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
    let touched = Permissions((existing.allow | existing.deny) as u64);
    let ca = overwrite_access(&state, &id, auth.user_id, touched).await?;
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
