//! Roles, with positions and the hierarchy.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch};
use axum::{Json, Router};
use papo_core::error::{ErrorCode, FieldCode, FieldError, FieldErrors};
use papo_core::id::{RoleId, ServerId};
use papo_core::permissions::Permissions;
use papo_core::settings::{Patch, patch_field};
use papo_gateway::hub::Topic;
use papo_gateway::protocol::EventKind;
use papo_store::roles;
use papo_store::servers::RoleRow;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::access::{ServerAccess, unknown_server};
use super::audit::{self, AuditReason};
use super::dto::Role;
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
