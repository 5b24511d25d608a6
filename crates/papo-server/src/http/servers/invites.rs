//! Invites: create, list, revoke, preview, accept.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use papo_core::error::{ErrorCode, FieldCode, FieldError, FieldErrors};
use papo_core::id::{ServerId, UserId};
use papo_core::permissions::Permissions;
use papo_gateway::hub::Topic;
use papo_gateway::protocol::{EventKind, Status};
use papo_store::invites::{self, Accepted, InviteRow, Unusable};
use papo_store::{servers, users};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::access::{ServerAccess, forbidden, unknown_server};
use super::audit::{self, AuditReason};
use super::dto::Server;
use super::{ServerDetail, detail, path_id};
use crate::auth::Auth;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::JsonBody;
use crate::http::rfc3339;
use crate::http::users::PublicUser;
use crate::state::AppState;

/// Invite routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/servers/{id}/invites",
            get(list_invites).post(create_invite),
        )
        .route(
            "/api/v1/invites/{code}",
            get(preview_invite).delete(revoke_invite),
        )
        .route("/api/v1/invites/{code}/accept", post(accept_invite))
}

fn unknown_invite() -> ApiError {
    ApiError::new(ErrorCode::NotFound).with_message("Unknown invite.")
}

const DEFAULT_MAX_AGE_SECS: i64 = 7 * 24 * 3600;
const MAX_MAX_AGE_SECS: i64 = 30 * 24 * 3600;
const MAX_USES: i64 = 1000;

/// An invite.
#[derive(Debug, Serialize, ToSchema)]
pub struct Invite {
    /// The code (`/invite/{code}` in the web app).
    pub code: String,
    /// Server.
    pub server_id: ServerId,
    /// Who made it.
    pub inviter_id: UserId,
    /// 0 = unlimited.
    pub max_uses: i64,
    /// Uses so far.
    pub uses: i64,
    /// RFC 3339, or `null` for never.
    pub expires_at: Option<String>,
    /// RFC 3339.
    pub created_at: String,
}

impl From<&InviteRow> for Invite {
    fn from(r: &InviteRow) -> Self {
        Self {
            code: r.code.clone(),
            server_id: ServerId::from_i64(r.server_id),
            inviter_id: UserId::from_i64(r.inviter_id),
            max_uses: r.max_uses,
            uses: r.uses,
            expires_at: r.expires_at.map(rfc3339),
            created_at: rfc3339(r.created_at),
        }
    }
}

/// Options of a new invite.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CreateInvite {
    /// Seconds until it expires: default 7 days, at most 30 days, 0 = never.
    pub max_age_secs: Option<i64>,
    /// 0 (default) = unlimited, at most 1000.
    pub max_uses: Option<i64>,
}

/// `code` if it could be an invite's: codes are letters and digits ([`new_code`]). Anything
/// else is an unknown invite without a query (PostgreSQL's text cannot even hold a NUL).
fn code_like(code: &str) -> ApiResult<&str> {
    if !code.is_empty() && code.len() <= 32 && code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(code)
    } else {
        Err(unknown_invite())
    }
}

fn new_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..10)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Creates an invite (`create_invites`): at most 200 live ones a server (`too_many_invites`),
/// counted against the member's burst of changes (`change_rate_burst`).
#[utoipa::path(post, path = "/api/v1/servers/{id}/invites", tag = "invites", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = CreateInvite,
    responses((status = 201, body = Invite), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn create_invite(
    State(state): State<AppState>,
    auth: Auth,
    reason: AuditReason,
    Path(id): Path<String>,
    body: JsonBody<CreateInvite>,
) -> ApiResult<(StatusCode, Json<Invite>)> {
    let server_id: ServerId = path_id(&id, unknown_server)?;
    let access = ServerAccess::load(&state, server_id, auth.user_id).await?;
    access.require(Permissions::CREATE_INVITES)?;
    let req = body.parse()?;
    crate::http::limit_change(&state, auth.user_id)?;
    let mut errors = FieldErrors::new();
    let max_age = req.max_age_secs.unwrap_or(DEFAULT_MAX_AGE_SECS);
    if !(0..=MAX_MAX_AGE_SECS).contains(&max_age) {
        errors.insert(
            "max_age_secs".into(),
            FieldError::new(FieldCode::InvalidValue, "0 (never) to 2592000 (30 days)."),
        );
    }
    let max_uses = req.max_uses.unwrap_or(0);
    if !(0..=MAX_USES).contains(&max_uses) {
        errors.insert(
            "max_uses".into(),
            FieldError::new(FieldCode::InvalidValue, "0 (unlimited) to 1000."),
        );
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    let now = crate::now_ms();
    let row = InviteRow {
        code: new_code(),
        server_id: server_id.as_i64(),
        inviter_id: auth.user_id.as_i64(),
        max_uses,
        uses: 0,
        expires_at: (max_age > 0).then(|| now + max_age * 1000),
        created_at: now,
        revoked_at: None,
    };
    if !invites::insert(&state.db, &row).await? {
        return Err(ApiError::new(ErrorCode::TooManyInvites));
    }
    audit::record(
        &state,
        &access,
        None,
        "invite_create",
        Some(json!({"code": row.code, "max_uses": max_uses, "max_age_secs": max_age})),
        &reason,
    )
    .await;
    Ok((StatusCode::CREATED, Json(Invite::from(&row))))
}

/// The server's live invites (`manage_server`).
#[utoipa::path(get, path = "/api/v1/servers/{id}/invites", tag = "invites", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<Invite>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_invites(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Invite>>> {
    let server_id: ServerId = path_id(&id, unknown_server)?;
    let access = ServerAccess::load(&state, server_id, auth.user_id).await?;
    access.require(Permissions::MANAGE_SERVER)?;
    let rows = invites::of_server(&state.db, server_id, crate::now_ms()).await?;
    Ok(Json(rows.iter().map(Invite::from).collect()))
}

/// Revokes an invite (`manage_server`, or the person who made it).
#[utoipa::path(delete, path = "/api/v1/invites/{code}", tag = "invites", security(("bearer" = [])),
    params(("code" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_invite(
    State(state): State<AppState>,
    auth: Auth,
    reason: AuditReason,
    Path(code): Path<String>,
) -> ApiResult<StatusCode> {
    let invite = invites::by_code(&state.db, code_like(&code)?)
        .await?
        .ok_or_else(unknown_invite)?;
    let access = ServerAccess::load(&state, ServerId::from_i64(invite.server_id), auth.user_id)
        .await
        .map_err(|_| unknown_invite())?;
    if invite.inviter_id != auth.user_id.as_i64()
        && !access.base().contains(Permissions::MANAGE_SERVER)
    {
        return Err(forbidden(Permissions::MANAGE_SERVER));
    }
    // Revoking it again changes nothing, and is not logged again.
    if invite.revoked_at.is_some() {
        return Ok(StatusCode::NO_CONTENT);
    }
    invites::revoke(&state.db, &code, crate::now_ms()).await?;
    audit::record(
        &state,
        &access,
        None,
        "invite_delete",
        Some(json!({"code": code})),
        &reason,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// What an invite shows before joining.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitePreview {
    /// The invite.
    #[serde(flatten)]
    pub invite: Invite,
    /// The server.
    pub server: Server,
    /// Members.
    pub member_count: i64,
    /// Members online now.
    pub online_count: i64,
}

fn unusable(why: Unusable) -> ApiError {
    match why {
        Unusable::Unknown => unknown_invite(),
        Unusable::Revoked => ApiError::new(ErrorCode::InviteRevoked),
        Unusable::Expired => ApiError::new(ErrorCode::InviteExpired),
        Unusable::UsedUp => ApiError::new(ErrorCode::InviteUsedUp),
        Unusable::Banned => ApiError::new(ErrorCode::Banned),
    }
}

/// Shows an invite's server without joining (needs a login, like the rest of the API).
#[utoipa::path(get, path = "/api/v1/invites/{code}", tag = "invites", security(("bearer" = [])),
    params(("code" = String, Path)),
    responses((status = 200, body = InvitePreview), (status = 404, body = ErrorBody), (status = 410, body = ErrorBody)))]
pub async fn preview_invite(
    State(state): State<AppState>,
    auth: Auth,
    Path(code): Path<String>,
) -> ApiResult<Json<InvitePreview>> {
    let invite = invites::by_code(&state.db, code_like(&code)?)
        .await?
        .ok_or_else(unknown_invite)?;
    let server_id = ServerId::from_i64(invite.server_id);
    let server = servers::by_id(&state.db, server_id)
        .await?
        .ok_or_else(unknown_invite)?;
    let members = servers::member_ids(&state.db, server_id).await?;
    // A member sees where the invite leads even once it expired or was used up (the one
    // who used its last use, coming back to the link): accepting it is a no-op for them too.
    if !members.contains(&auth.user_id.as_i64()) {
        invite.check(crate::now_ms()).map_err(unusable)?;
    }
    let online = members
        .iter()
        .filter(|u| {
            let status = state.hub.presence_of(UserId::from_i64(**u)).status;
            !matches!(status, Status::Offline | Status::Invisible)
        })
        .count();
    Ok(Json(InvitePreview {
        invite: Invite::from(&invite),
        server: Server::from(&server),
        member_count: members.len() as i64,
        online_count: online as i64,
    }))
}

/// Joins the invite's server (idempotent for members).
#[utoipa::path(post, path = "/api/v1/invites/{code}/accept", tag = "invites", security(("bearer" = [])),
    params(("code" = String, Path)),
    responses((status = 200, body = ServerDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 410, body = ErrorBody)))]
pub async fn accept_invite(
    State(state): State<AppState>,
    auth: Auth,
    Path(code): Path<String>,
) -> ApiResult<Json<ServerDetail>> {
    let now = crate::now_ms();
    let code = code_like(&code)?;
    // One more server than can be listed would be lost from view: refused (a member of the
    // invite's server is let through, as that changes nothing).
    let mine = servers::of_user(&state.db, auth.user_id).await?;
    if mine.len() >= servers::MAX_SERVERS_PER_USER {
        let joining = invites::by_code(&state.db, code)
            .await?
            .map(|i| i.server_id);
        if !mine.iter().any(|s| Some(s.id) == joining) {
            return Err(ApiError::new(ErrorCode::TooManyServers));
        }
    }
    let (server_id, outcome) = invites::accept(&state.db, code, auth.user_id, now)
        .await?
        .map_err(unusable)?;
    let access = ServerAccess::load(&state, server_id, auth.user_id).await?;
    let detail = detail(&state, &access).await?;
    if outcome == Accepted::Joined {
        let user = users::by_id(&state.db, auth.user_id)
            .await?
            .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized))?;
        state.hub.emit(
            Topic::Server(server_id),
            EventKind::MemberJoined,
            &json!({
                "server_id": server_id,
                "user": PublicUser::from_row(&user),
                "nickname": null,
                "roles": [],
                "joined_at": rfc3339(now),
                "timeout_until": null,
            }),
        );
        super::views::follow(&state, auth.user_id, &detail);
        if !detail.large {
            presence_both_ways(&state, server_id, auth.user_id).await?;
        }
        state
            .hub
            .emit(Topic::User(auth.user_id), EventKind::ServerCreated, &detail);
    }
    Ok(Json(detail))
}

/// A newcomer to a server whose presence is pushed: its members see the newcomer's
/// presence, the newcomer sees who is on.
async fn presence_both_ways(
    state: &AppState,
    server_id: ServerId,
    newcomer: UserId,
) -> ApiResult<()> {
    let mine = state.hub.public_presence_of(newcomer);
    if mine.status != Status::Offline {
        state.hub.emit(
            Topic::Presence(server_id),
            EventKind::PresenceUpdated,
            &mine,
        );
    }
    for m in servers::member_ids(&state.db, server_id).await? {
        let user = UserId::from_i64(m);
        let p = state.hub.public_presence_of(user);
        if user != newcomer && p.status != Status::Offline {
            state
                .hub
                .emit(Topic::User(newcomer), EventKind::PresenceUpdated, &p);
        }
    }
    Ok(())
}
