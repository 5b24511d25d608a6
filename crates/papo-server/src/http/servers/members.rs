//! Members and moderation: list, nickname, roles, timeout, kick, bans.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use papo_core::error::{ErrorCode, FieldCode, FieldError, FieldErrors};
use papo_core::id::{RoleId, ServerId, UserId};
use papo_core::permissions::Permissions;
use papo_core::settings::{Patch, patch_field};
use papo_gateway::hub::Topic;
use papo_gateway::protocol::{EventKind, PresenceView};
use papo_store::members::{self, BanRow};
use papo_store::servers::{self, MemberRow};
use papo_store::{messages, roles, users};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::access::{ServerAccess, unknown_server};
use super::audit::{self, AuditReason};
use super::path_id;
use super::views::{self, resync_after, visibility_now};
use crate::auth::Auth;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiQuery, JsonBody};
use crate::http::rfc3339;
use crate::http::users::PublicUser;
use crate::state::AppState;

/// Member and ban routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/servers/{id}/members", get(list_members))
        .route(
            "/api/v1/servers/{id}/members/{user_id}",
            get(get_member).patch(patch_member).delete(kick_member),
        )
        .route("/api/v1/servers/{id}/bans", get(list_bans))
        .route(
            "/api/v1/servers/{id}/bans/{user_id}",
            put(ban_member).delete(unban_member),
        )
}

/// Longest timeout.
const MAX_TIMEOUT_MS: i64 = 28 * 24 * 3600 * 1000;
/// Longest window of messages deleted with a ban.
const MAX_DELETE_MESSAGE_SECS: i64 = 7 * 24 * 3600;

fn unknown_member() -> ApiError {
    ApiError::new(ErrorCode::NotFound).with_message("Unknown member.")
}

/// A member of a server.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Member {
    /// Server.
    pub server_id: ServerId,
    /// The user's public profile.
    pub user: PublicUser,
    /// Server nickname.
    pub nickname: Option<String>,
    /// Role ids (without `@everyone`).
    pub roles: Vec<RoleId>,
    /// RFC 3339.
    pub joined_at: String,
    /// RFC 3339, while timed out.
    pub timeout_until: Option<String>,
    /// Member lists only: the member's presence (as others see it) when the list was
    /// loaded. The only presence shown for large servers, whose changes are not pushed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub presence: Option<PresenceView>,
}

impl Member {
    /// From stored rows.
    pub fn new(m: &MemberRow, user: PublicUser, roles: &[i64]) -> Self {
        Self {
            server_id: ServerId::from_i64(m.server_id),
            user,
            nickname: m.nickname.clone(),
            roles: roles.iter().map(|r| RoleId::from_i64(*r)).collect(),
            joined_at: rfc3339(m.joined_at),
            timeout_until: m
                .timeout_until
                .filter(|t| *t > crate::now_ms())
                .map(rfc3339),
            presence: None,
        }
    }
}

/// Paging.
#[derive(Debug, Deserialize, IntoParams)]
pub struct MemberParams {
    /// Members with a user id above this one.
    pub after: Option<String>,
    /// 1–1000 (default 100).
    pub limit: Option<i64>,
}

async fn build_members(
    state: &AppState,
    server: ServerId,
    rows: &[MemberRow],
) -> ApiResult<Vec<Member>> {
    let ids: Vec<i64> = rows.iter().map(|m| m.user_id).collect();
    let profiles: HashMap<i64, PublicUser> = users::by_ids(&state.db, &ids)
        .await?
        .iter()
        .map(|u| (u.id, PublicUser::from_row(u)))
        .collect();
    let mut role_map: HashMap<i64, Vec<i64>> = HashMap::new();
    for (user, role) in roles::all_member_roles(&state.db, server).await? {
        role_map.entry(user).or_default().push(role);
    }
    Ok(rows
        .iter()
        .filter_map(|m| {
            let user = profiles.get(&m.user_id)?.clone();
            let r = role_map.get(&m.user_id).map_or(&[][..], Vec::as_slice);
            Some(Member::new(m, user, r))
        })
        .collect())
}

/// Members by user id, a page at a time.
#[utoipa::path(get, path = "/api/v1/servers/{id}/members", tag = "members", security(("bearer" = [])),
    params(("id" = String, Path), MemberParams),
    responses((status = 200, body = Vec<Member>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_members(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<MemberParams>,
) -> ApiResult<Json<Vec<Member>>> {
    let id: ServerId = path_id(&id, unknown_server)?;
    ServerAccess::load(&state, id, auth.user_id).await?;
    let limit = params.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::new(ErrorCode::ValidationFailed).with_field(
            "limit",
            FieldError::new(FieldCode::InvalidValue, "1 to 1000."),
        ));
    }
    let after = match &params.after {
        Some(a) => a
            .parse::<UserId>()
            .map_err(|_| {
                ApiError::new(ErrorCode::ValidationFailed).with_field(
                    "after",
                    FieldError::new(FieldCode::InvalidValue, "Not an id."),
                )
            })?
            .as_i64(),
        None => 0,
    };
    let rows = members::page(&state.db, id, after, limit).await?;
    let mut list = build_members(&state, id, &rows).await?;
    for m in &mut list {
        m.presence = Some(state.hub.public_presence_of(m.user.id));
    }
    Ok(Json(list))
}

/// Loads a target member with their roles; 404 if not a member.
async fn load_target(
    state: &AppState,
    server: ServerId,
    raw: &str,
) -> ApiResult<(MemberRow, Vec<i64>)> {
    let user: UserId = path_id(raw, unknown_member)?;
    let m = servers::member(&state.db, server, user)
        .await?
        .ok_or_else(unknown_member)?;
    let r = servers::member_role_ids(&state.db, server, user).await?;
    Ok((m, r))
}

async fn member_dto(state: &AppState, m: &MemberRow, roles: &[i64]) -> ApiResult<Member> {
    let user = users::by_id(&state.db, UserId::from_i64(m.user_id))
        .await?
        .ok_or_else(unknown_member)?;
    Ok(Member::new(m, PublicUser::from_row(&user), roles))
}

/// Tells every server `user` is a member of that their public profile changed, as a
/// `member.updated` there: others' member lists, messages and mentions show the new name,
/// colour and bio at once (only the user's own sessions heard of it before).
pub async fn announce_profile(state: &AppState, user: &users::UserRow) -> ApiResult<()> {
    let id = UserId::from_i64(user.id);
    let public = PublicUser::from_row(user);
    for server in servers::of_user(&state.db, id).await? {
        let sid = ServerId::from_i64(server.id);
        let Some(m) = servers::member(&state.db, sid, id).await? else {
            continue;
        };
        let roles = servers::member_role_ids(&state.db, sid, id).await?;
        let member = Member::new(&m, public.clone(), &roles);
        state
            .hub
            .emit(Topic::Server(sid), EventKind::MemberUpdated, &member);
    }
    Ok(())
}

/// One member.
#[utoipa::path(get, path = "/api/v1/servers/{id}/members/{user_id}", tag = "members", security(("bearer" = [])),
    params(("id" = String, Path), ("user_id" = String, Path)),
    responses((status = 200, body = Member), (status = 404, body = ErrorBody)))]
pub async fn get_member(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, user)): Path<(String, String)>,
) -> ApiResult<Json<Member>> {
    let id: ServerId = path_id(&id, unknown_server)?;
    ServerAccess::load(&state, id, auth.user_id).await?;
    let (m, r) = load_target(&state, id, &user).await?;
    Ok(Json(member_dto(&state, &m, &r).await?))
}

/// Changes to a member.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PatchMember {
    /// ≤ 32 characters; `null` clears.
    #[serde(deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub nickname: Patch<String>,
    /// The full list of role ids.
    pub roles: Option<Vec<RoleId>>,
    /// RFC 3339, ≤ 28 days ahead; `null` ends the timeout.
    #[serde(deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub timeout_until: Patch<String>,
}

fn parse_time(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Edits a member: nickname, roles, timeout (each with its own permission).
#[utoipa::path(patch, path = "/api/v1/servers/{id}/members/{user_id}", tag = "members", security(("bearer" = [])),
    params(("id" = String, Path), ("user_id" = String, Path)), request_body = PatchMember,
    responses((status = 200, body = Member), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn patch_member(
    State(state): State<AppState>,
    auth: Auth,
    reason: AuditReason,
    Path((id, user)): Path<(String, String)>,
    body: JsonBody<PatchMember>,
) -> ApiResult<Json<Member>> {
    let server_id: ServerId = path_id(&id, unknown_server)?;
    let access = ServerAccess::load(&state, server_id, auth.user_id).await?;
    let (old, old_roles) = load_target(&state, server_id, &user).await?;
    let req = body.parse()?;
    let target = UserId::from_i64(old.user_id);
    let is_self = target == auth.user_id;
    let base = access.base();
    let mut row = old.clone();
    let mut errors = FieldErrors::new();
    let now = crate::now_ms();

    if let Some(nick) = &req.nickname {
        let needed = if is_self && !base.contains(Permissions::MANAGE_NICKNAMES) {
            Permissions::CHANGE_NICKNAME
        } else {
            Permissions::MANAGE_NICKNAMES
        };
        access.require(needed)?;
        if !is_self && !access.outranks(target, &old_roles) {
            return Err(outranked());
        }
        match nick.as_deref().map(str::trim) {
            None | Some("") => row.nickname = None,
            Some(n) if n.chars().count() > 32 => {
                errors.insert("nickname".into(), FieldError::at_most(32));
            }
            Some(n) => match papo_core::validate::name_chars(n) {
                Ok(()) => row.nickname = Some(n.to_owned()),
                Err(e) => {
                    errors.insert("nickname".into(), e);
                }
            },
        }
        if is_self && errors.is_empty() {
            crate::http::limit_change(&state, auth.user_id)?;
        }
    }

    let mut new_roles = old_roles.clone();
    if let Some(list) = &req.roles {
        access.require(Permissions::MANAGE_ROLES)?;
        let mut wanted: Vec<i64> = list.iter().map(|r| r.as_i64()).collect();
        wanted.sort_unstable();
        wanted.dedup();
        for r in &wanted {
            if *r == server_id.as_i64() || !access.roles().iter().any(|x| x.id == *r) {
                errors.insert(
                    "roles".into(),
                    FieldError::new(
                        FieldCode::InvalidValue,
                        "Unknown role (and @everyone is implicit).",
                    ),
                );
            }
        }
        if errors.is_empty() {
            // A role given grants its permissions: only roles below one's highest, and only
            // with permissions one has (else a role manager could give themselves a lower
            // role holding manage_server, say). Taking a role away grants nothing.
            let added = wanted
                .iter()
                .filter(|r| !old_roles.contains(r))
                .map(|r| (r, true));
            let removed = old_roles
                .iter()
                .filter(|r| !wanted.contains(r))
                .map(|r| (r, false));
            for (r, adding) in added.chain(removed) {
                let role = access.roles().iter().find(|x| x.id == *r);
                let pos = role.map_or(0, |x| x.position);
                let grants = match role {
                    Some(x) if adding => Permissions(x.permissions as u64),
                    _ => Permissions::NONE,
                };
                if !access.can_manage_role(pos, grants) {
                    return Err(ApiError::new(ErrorCode::Forbidden).with_message(
                        "You can only assign roles below your highest role, with permissions you have.",
                    ));
                }
            }
            new_roles = wanted;
        }
    }

    if let Some(t) = &req.timeout_until {
        access.require(Permissions::MODERATE_MEMBERS)?;
        if is_self || !access.outranks(target, &old_roles) {
            return Err(outranked());
        }
        match t {
            None => row.timeout_until = None,
            Some(s) => match parse_time(s) {
                None => {
                    errors.insert(
                        "timeout_until".into(),
                        FieldError::new(FieldCode::InvalidValue, "An RFC 3339 time."),
                    );
                }
                Some(ms) if ms > now + MAX_TIMEOUT_MS => {
                    errors.insert(
                        "timeout_until".into(),
                        FieldError::new(FieldCode::InvalidValue, "At most 28 days from now."),
                    );
                }
                Some(ms) if ms <= now => row.timeout_until = None,
                Some(ms) => row.timeout_until = Some(ms),
            },
        }
        // Administrators cannot be timed out (they would keep every permission anyway).
        if row.timeout_until.is_some() {
            let target_access = ServerAccess::load(&state, server_id, target).await?;
            if target_access.base().contains(Permissions::ADMINISTRATOR) {
                return Err(ApiError::new(ErrorCode::Forbidden)
                    .with_message("Administrators cannot be timed out."));
            }
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }

    let roles_changed = new_roles != old_roles;
    let before = if roles_changed {
        Some(visibility_now(&state, server_id).await?)
    } else {
        None
    };
    members::update(&state.db, &row).await?;
    if roles_changed {
        roles::set_member_roles(&state.db, server_id, row.user_id, &new_roles).await?;
    }
    let member = member_dto(&state, &row, &new_roles).await?;
    state
        .hub
        .emit(Topic::Server(server_id), EventKind::MemberUpdated, &member);
    if let Some(before) = before {
        resync_after(&state, server_id, &before).await?;
    }
    let target_id = Some(row.user_id);
    if old.nickname != row.nickname {
        audit::record(
            &state,
            &access,
            target_id,
            "member_update",
            Some(json!({"nickname": [old.nickname, row.nickname]})),
            &reason,
        )
        .await;
    }
    if roles_changed {
        let added: Vec<String> = new_roles
            .iter()
            .filter(|r| !old_roles.contains(r))
            .map(i64::to_string)
            .collect();
        let removed: Vec<String> = old_roles
            .iter()
            .filter(|r| !new_roles.contains(r))
            .map(i64::to_string)
            .collect();
        audit::record(
            &state,
            &access,
            target_id,
            "member_roles_update",
            Some(json!({"added": added, "removed": removed})),
            &reason,
        )
        .await;
    }
    if old.timeout_until != row.timeout_until {
        audit::record(
            &state,
            &access,
            target_id,
            "member_timeout",
            Some(json!({"timeout_until": row.timeout_until.map(rfc3339)})),
            &reason,
        )
        .await;
    }
    Ok(Json(member))
}

fn outranked() -> ApiError {
    ApiError::new(ErrorCode::Forbidden)
        .with_message("You can only moderate members below your highest role (never the owner).")
}

/// Tells the server a member is gone and drops the server from the member's sessions.
async fn remove_from_server(state: &AppState, server_id: ServerId, user: i64) -> ApiResult<()> {
    let channels = servers::channels(&state.db, server_id).await?;
    views::drop_server(state, server_id, &channels, &[user])?;
    state.hub.emit(
        Topic::Server(server_id),
        EventKind::MemberRemoved,
        &json!({"server_id": server_id, "user_id": UserId::from_i64(user)}),
    );
    Ok(())
}

/// Removes a member (`kick_members`); they can join again with an invite.
#[utoipa::path(delete, path = "/api/v1/servers/{id}/members/{user_id}", tag = "members", security(("bearer" = [])),
    params(("id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn kick_member(
    State(state): State<AppState>,
    auth: Auth,
    reason: AuditReason,
    Path((id, user)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let server_id: ServerId = path_id(&id, unknown_server)?;
    let access = ServerAccess::load(&state, server_id, auth.user_id).await?;
    access.require(Permissions::KICK_MEMBERS)?;
    let (m, r) = load_target(&state, server_id, &user).await?;
    let target = UserId::from_i64(m.user_id);
    if target == auth.user_id || !access.outranks(target, &r) {
        return Err(outranked());
    }
    servers::remove_member(&state.db, server_id, target).await?;
    remove_from_server(&state, server_id, m.user_id).await?;
    audit::record(
        &state,
        &access,
        Some(m.user_id),
        "member_kick",
        None,
        &reason,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// A ban.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ban {
    /// Who is banned.
    pub user: PublicUser,
    /// Why.
    pub reason: Option<String>,
    /// RFC 3339.
    pub created_at: String,
}

/// The server's bans (`ban_members`).
#[utoipa::path(get, path = "/api/v1/servers/{id}/bans", tag = "members", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<Ban>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_bans(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Ban>>> {
    let id: ServerId = path_id(&id, unknown_server)?;
    let access = ServerAccess::load(&state, id, auth.user_id).await?;
    access.require(Permissions::BAN_MEMBERS)?;
    let rows = members::bans(&state.db, id).await?;
    let ids: Vec<i64> = rows.iter().map(|b| b.user_id).collect();
    let profiles: HashMap<i64, PublicUser> = users::by_ids(&state.db, &ids)
        .await?
        .iter()
        .map(|u| (u.id, PublicUser::from_row(u)))
        .collect();
    Ok(Json(
        rows.iter()
            .filter_map(|b| {
                Some(Ban {
                    user: profiles.get(&b.user_id)?.clone(),
                    reason: b.reason.clone(),
                    created_at: rfc3339(b.created_at),
                })
            })
            .collect(),
    ))
}

/// A ban's options.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CreateBan {
    /// ≤ 512 characters (else the `X-Audit-Log-Reason` header is used).
    pub reason: Option<String>,
    /// Delete their messages from this many seconds back (0–604800).
    pub delete_message_secs: Option<i64>,
}

/// Bans a user (`ban_members`): removes them, optionally deletes their recent messages, and
/// refuses their invites until unbanned.
#[utoipa::path(put, path = "/api/v1/servers/{id}/bans/{user_id}", tag = "members", security(("bearer" = [])),
    params(("id" = String, Path), ("user_id" = String, Path)), request_body = CreateBan,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn ban_member(
    State(state): State<AppState>,
    auth: Auth,
    reason: AuditReason,
    Path((id, user)): Path<(String, String)>,
    body: JsonBody<CreateBan>,
) -> ApiResult<StatusCode> {
    let server_id: ServerId = path_id(&id, unknown_server)?;
    let access = ServerAccess::load(&state, server_id, auth.user_id).await?;
    access.require(Permissions::BAN_MEMBERS)?;
    let target: UserId = path_id(&user, unknown_member)?;
    let req = body.parse_or_default()?;
    let mut errors = FieldErrors::new();
    // The body's reason (blank: none), else the header's; no control character (a NUL
    // was a 500 on PostgreSQL), as in the header.
    let reason_text = match req.reason.as_deref() {
        Some(r) => papo_core::validate::optional_text(Some(r), 512, false)
            .map_err(|e| errors.insert("reason".into(), e))
            .ok()
            .flatten(),
        None => reason.0.clone(),
    };
    let delete_secs = req.delete_message_secs.unwrap_or(0);
    if !(0..=MAX_DELETE_MESSAGE_SECS).contains(&delete_secs) {
        errors.insert(
            "delete_message_secs".into(),
            FieldError::new(FieldCode::InvalidValue, "0 to 604800 seconds."),
        );
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    if users::by_id(&state.db, target).await?.is_none() {
        return Err(ApiError::new(ErrorCode::NotFound).with_message("Unknown user."));
    }
    if target == auth.user_id {
        return Err(ApiError::new(ErrorCode::Forbidden).with_message("You cannot ban yourself."));
    }
    if servers::member(&state.db, server_id, target)
        .await?
        .is_some()
    {
        let r = servers::member_role_ids(&state.db, server_id, target).await?;
        if !access.outranks(target, &r) {
            return Err(outranked());
        }
    } else if target.as_i64() == access.server().owner_id {
        return Err(outranked());
    }
    let now = crate::now_ms();
    let was_member = members::ban(
        &state.db,
        server_id,
        &BanRow {
            user_id: target.as_i64(),
            moderator_id: auth.user_id.as_i64(),
            reason: reason_text.clone(),
            created_at: now,
        },
    )
    .await?;
    if was_member {
        remove_from_server(&state, server_id, target.as_i64()).await?;
    }
    if delete_secs > 0 {
        let gone = messages::delete_by_author_since(
            &state.db,
            server_id,
            target.as_i64(),
            now - delete_secs * 1000,
        )
        .await?;
        crate::http::messages::announce_deleted(&state, server_id, &gone);
    }
    let reason = AuditReason(reason_text);
    audit::record(
        &state,
        &access,
        Some(target.as_i64()),
        "member_ban_add",
        Some(json!({"delete_message_secs": delete_secs})),
        &reason,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Lifts a ban (`ban_members`).
#[utoipa::path(delete, path = "/api/v1/servers/{id}/bans/{user_id}", tag = "members", security(("bearer" = [])),
    params(("id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn unban_member(
    State(state): State<AppState>,
    auth: Auth,
    reason: AuditReason,
    Path((id, user)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let server_id: ServerId = path_id(&id, unknown_server)?;
    let access = ServerAccess::load(&state, server_id, auth.user_id).await?;
    access.require(Permissions::BAN_MEMBERS)?;
    let target: UserId = path_id(&user, || {
        ApiError::new(ErrorCode::NotFound).with_message("Unknown ban.")
    })?;
    if !members::unban(&state.db, server_id, target.as_i64()).await? {
        return Err(ApiError::new(ErrorCode::NotFound).with_message("Unknown ban."));
    }
    audit::record(
        &state,
        &access,
        Some(target.as_i64()),
        "member_ban_remove",
        None,
        &reason,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
