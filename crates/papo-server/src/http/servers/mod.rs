//! `/servers`: create, read, edit, delete and leave servers; `/permissions`.

pub mod access;
pub mod audit;
pub mod channels;
pub mod dto;
pub mod invites;
pub mod members;
pub mod overwrites;
pub mod ready_json;
pub mod roles;
pub mod views;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use papo_core::error::{ErrorCode, FieldCode, FieldError, FieldErrors};
use papo_core::id::{ChannelId, MessageId, RoleId, ServerId, UserId};
use papo_core::permissions::Permissions;
use papo_core::settings::{Locale, Patch, patch_field};
use papo_core::validate::optional_text;
use papo_gateway::hub::Topic;
use papo_gateway::protocol::EventKind;
use papo_store::servers::{self, ChannelRow, NewChannel, ServerRow};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use self::access::{ServerAccess, unknown_server};
use self::dto::{Channel, Me, Role, Server, ServerDetail};
use crate::auth::Auth;
use crate::directory::ServerEntry;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, JsonBody};
use crate::state::AppState;

/// Routes for servers and channels.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/permissions", get(list_permissions))
        .route("/api/v1/servers", post(create_server))
        .route("/api/v1/users/@me/servers", get(my_servers))
        .route("/api/v1/users/@me/servers/{id}", delete(leave_server))
        .route(
            "/api/v1/servers/{id}",
            get(get_server).patch(patch_server).delete(delete_server),
        )
        .merge(channels::router())
        .merge(invites::router())
        .merge(audit::router())
        .merge(roles::router())
        .merge(overwrites::router())
        .merge(members::router())
}

/// Parses a path id; malformed ids are simply unknown.
pub(crate) fn path_id<T: std::str::FromStr>(
    raw: &str,
    not_found: fn() -> ApiError,
) -> ApiResult<T> {
    raw.parse().map_err(|_| not_found())
}

/// Every permission with its bit value as a decimal string.
#[utoipa::path(get, path = "/api/v1/permissions", tag = "servers",
    responses((status = 200, body = BTreeMap<String, String>)))]
pub async fn list_permissions() -> Json<BTreeMap<&'static str, String>> {
    Json(
        Permissions::NAMED
            .iter()
            .map(|(name, p)| (*name, p.0.to_string()))
            .collect(),
    )
}

/// Server name rules: 2–100 characters after trimming.
fn server_name(name: &str) -> Result<String, FieldError> {
    let n = name.trim();
    let len = n.chars().count();
    if len == 0 {
        return Err(papo_core::validate::required());
    }
    if len < 2 {
        return Err(FieldError::at_least(2));
    }
    if len > 100 {
        return Err(FieldError::at_most(100));
    }
    papo_core::validate::name_chars(n)?;
    Ok(n.to_owned())
}

/// The server as the caller sees it (channels filtered by `view_channel`).
pub async fn detail(state: &AppState, access: &ServerAccess) -> ApiResult<ServerDetail> {
    Ok(view(state, access).await?.detail())
}

/// [`detail`] before it is written out.
pub async fn view(state: &AppState, access: &ServerAccess) -> ApiResult<ServerView> {
    let server_id = ServerId::from_i64(access.server().id);
    let newest = servers::last_message_ids(&state.db, server_id).await?;
    view_with(state, access, &newest).await
}

/// A server as one member sees it, before any of it is written: the directory's entry, the
/// channels the member can view with their newest messages, the member's standing and
/// whether the server is large. [`ServerView::detail`] makes the REST answer of it; `ready`
/// writes it from the entry's shared JSON (`ready_json`) without one, as the read states
/// and topics are taken from it.
pub struct ServerView {
    /// The server's directory entry.
    pub entry: Arc<ServerEntry>,
    /// The channels the member can view (indices into `entry.channels`, in its order), each
    /// with its newest message.
    pub channels: Vec<(usize, Option<MessageId>)>,
    /// The member's standing.
    pub me: Me,
    /// When the member joined (Unix ms).
    pub joined_at: i64,
    /// More members than the large-server size.
    pub large: bool,
}

/// [`view`] with the newest message id of each channel already read (`channel → id`).
pub async fn view_with(
    state: &AppState,
    access: &ServerAccess,
    newest: &HashMap<i64, i64>,
) -> ApiResult<ServerView> {
    let entry = &access.entry;
    let channels = entry
        .channels
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            access
                .in_channel(c.id, &entry.overwrites)
                .contains(Permissions::VIEW_CHANNEL)
        })
        .map(|(i, c)| (i, newest.get(&c.id).copied().map(MessageId::from_i64)))
        .collect();
    let members = state.directory.member_count(&state.db, entry).await?;
    Ok(ServerView {
        entry: entry.clone(),
        channels,
        me: Me {
            permissions: access.base(),
            roles: access
                .member_roles()
                .iter()
                .map(|r| RoleId::from_i64(*r))
                .collect(),
            timeout_until: access
                .member()
                .timeout_until
                .filter(|t| *t > crate::now_ms())
                .map(crate::http::rfc3339),
        },
        joined_at: access.member().joined_at,
        large: members > state.config.large_server_members,
    })
}

impl ServerView {
    /// The server's id.
    pub fn server_id(&self) -> ServerId {
        ServerId::from_i64(self.entry.server.id)
    }

    /// The channels the member can view, each with its newest message.
    pub fn visible(&self) -> impl Iterator<Item = (&ChannelRow, Option<MessageId>)> {
        self.channels
            .iter()
            .map(|(i, newest)| (&self.entry.channels[*i], *newest))
    }

    /// The REST answer: the server, the channels the member can view, roles and standing.
    pub fn detail(&self) -> ServerDetail {
        let entry = &self.entry;
        ServerDetail {
            server: Server::from(&entry.server),
            channels: self
                .visible()
                .map(|(row, newest)| {
                    let mut channel = Channel::new(row, &entry.overwrites);
                    channel.last_message_id = newest;
                    channel
                })
                .collect(),
            roles: entry.roles.iter().map(Role::from).collect(),
            me: self.me.clone(),
            large: self.large,
        }
    }
}

/// A new server.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateServer {
    /// 2–100 characters.
    pub name: String,
    /// The language of its default channels' names (`en`: `#general`, `pt-BR`: `#geral`);
    /// default: the creator's saved language, else English.
    #[serde(default)]
    pub locale: Option<Locale>,
}

/// The names of a new server's text and voice channels, in `locale`.
fn default_channel_names(locale: Locale) -> (&'static str, &'static str) {
    match locale {
        Locale::En => ("general", "General"),
        Locale::PtBr => ("geral", "Geral"),
    }
}

/// Creates a server with a text and a voice channel (`#general` and `General`, or their names
/// in the creator's language) and `@everyone`; the caller owns it.
#[utoipa::path(post, path = "/api/v1/servers", tag = "servers", security(("bearer" = [])),
    request_body = CreateServer,
    responses((status = 201, body = ServerDetail), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_server(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<CreateServer>,
) -> ApiResult<(StatusCode, Json<ServerDetail>)> {
    let name = server_name(&req.name)
        .map_err(|e| ApiError::invalid_fields(FieldErrors::from([("name".into(), e)])))?;
    // One more than can be listed would be lost from view.
    if servers::of_user(&state.db, auth.user_id).await?.len() >= servers::MAX_SERVERS_PER_USER {
        return Err(ApiError::new(ErrorCode::TooManyServers));
    }
    let locale = match req.locale {
        Some(locale) => locale,
        None => crate::http::users::saved_locale(&state, auth.user_id)
            .await?
            .unwrap_or(Locale::En),
    };
    let (text_name, voice_name) = default_channel_names(locale);
    let id = ServerId(state.next_id());
    let row = ServerRow {
        id: id.as_i64(),
        name,
        description: None,
        icon: None,
        owner_id: auth.user_id.as_i64(),
        created_at: crate::now_ms(),
    };
    let defaults = [
        NewChannel {
            id: ChannelId(state.next_id()),
            server_id: id,
            kind: "text",
            name: text_name.into(),
            position: 0,
            parent_id: None,
            topic: None,
            slowmode_secs: 0,
            user_limit: None,
            bitrate: None,
        },
        NewChannel {
            id: ChannelId(state.next_id()),
            server_id: id,
            kind: "voice",
            name: voice_name.into(),
            position: 1,
            parent_id: None,
            topic: None,
            slowmode_secs: 0,
            user_limit: Some(0),
            bitrate: Some(64_000),
        },
    ];
    servers::create(
        &state.db,
        &row,
        Permissions::DEFAULT_EVERYONE.0 as i64,
        &defaults,
    )
    .await?;
    let access = ServerAccess::load(&state, id, auth.user_id).await?;
    let detail = detail(&state, &access).await?;
    views::follow(&state, auth.user_id, &detail);
    state
        .hub
        .emit(Topic::User(auth.user_id), EventKind::ServerCreated, &detail);
    Ok((StatusCode::CREATED, Json(detail)))
}

/// The servers the caller is in.
#[utoipa::path(get, path = "/api/v1/users/@me/servers", tag = "servers", security(("bearer" = [])),
    responses((status = 200, body = Vec<Server>), (status = 401, body = ErrorBody)))]
pub async fn my_servers(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<Server>>> {
    let rows = servers::of_user(&state.db, auth.user_id).await?;
    Ok(Json(rows.iter().map(Server::from).collect()))
}

/// A server the caller is in, with the channels they can see.
#[utoipa::path(get, path = "/api/v1/servers/{id}", tag = "servers", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = ServerDetail), (status = 404, body = ErrorBody)))]
pub async fn get_server(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<ServerDetail>> {
    let id: ServerId = path_id(&id, unknown_server)?;
    let access = ServerAccess::load(&state, id, auth.user_id).await?;
    Ok(Json(detail(&state, &access).await?))
}

/// Changes to a server.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PatchServer {
    /// 2–100 characters.
    pub name: Option<String>,
    /// ≤ 1024 characters; `null` clears.
    #[serde(deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub description: Patch<String>,
    /// Hands the server to another member (the owner only).
    pub owner_id: Option<UserId>,
}

/// Renames or re-describes a server (`manage_server`).
#[utoipa::path(patch, path = "/api/v1/servers/{id}", tag = "servers", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = PatchServer,
    responses((status = 200, body = Server), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn patch_server(
    State(state): State<AppState>,
    auth: Auth,
    reason: audit::AuditReason,
    Path(id): Path<String>,
    body: JsonBody<PatchServer>,
) -> ApiResult<Json<Server>> {
    let id: ServerId = path_id(&id, unknown_server)?;
    let access = ServerAccess::load(&state, id, auth.user_id).await?;
    access.require(Permissions::MANAGE_SERVER)?;
    let req = body.parse()?;
    let mut errors = FieldErrors::new();
    let mut row = access.server().clone();
    if let Some(name) = &req.name {
        match server_name(name) {
            Ok(n) => row.name = n,
            Err(e) => {
                errors.insert("name".into(), e);
            }
        }
    }
    if let Some(d) = &req.description {
        match optional_text(d.as_deref(), 1024, true) {
            Ok(v) => row.description = v,
            Err(e) => {
                errors.insert("description".into(), e);
            }
        }
    }
    if let Some(owner) = req.owner_id
        && owner.as_i64() != row.owner_id
    {
        if !access.is_owner() {
            return Err(ApiError::new(ErrorCode::Forbidden)
                .with_message("Only the owner can transfer the server."));
        }
        if servers::member(&state.db, id, owner).await?.is_none() {
            errors.insert(
                "owner_id".into(),
                FieldError::new(FieldCode::InvalidValue, "The new owner must be a member."),
            );
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    servers::update(&state.db, id, &row.name, row.description.as_deref()).await?;
    if let Some(owner) = req.owner_id
        && owner.as_i64() != row.owner_id
    {
        let before = views::visibility_now(&state, id).await?;
        if !servers::transfer(&state.db, id, owner).await? {
            return Err(ApiError::invalid_fields(FieldErrors::from([(
                "owner_id".into(),
                FieldError::new(FieldCode::InvalidValue, "The new owner must be a member."),
            )])));
        }
        row.owner_id = owner.as_i64();
        views::resync_after(&state, id, &before).await?;
    }
    let server = Server::from(&row);
    state
        .hub
        .emit(Topic::Server(id), EventKind::ServerUpdated, &server);
    let old = access.server();
    let mut changes = serde_json::Map::new();
    if old.name != row.name {
        changes.insert("name".into(), json!([old.name, row.name]));
    }
    if old.description != row.description {
        changes.insert(
            "description".into(),
            json!([old.description, row.description]),
        );
    }
    if old.owner_id != row.owner_id {
        changes.insert(
            "owner_id".into(),
            json!([old.owner_id.to_string(), row.owner_id.to_string()]),
        );
    }
    // A save that changed nothing is not an event of the server's history.
    if !changes.is_empty() {
        audit::record(
            &state,
            &access,
            Some(id.as_i64()),
            "server_update",
            Some(changes.into()),
            &reason,
        )
        .await;
    }
    Ok(Json(server))
}

/// Deletes a server and everything in it (owner only).
#[utoipa::path(delete, path = "/api/v1/servers/{id}", tag = "servers", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_server(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id: ServerId = path_id(&id, unknown_server)?;
    let access = ServerAccess::load(&state, id, auth.user_id).await?;
    if !access.is_owner() {
        return Err(
            ApiError::new(ErrorCode::Forbidden).with_message("Only the owner can delete a server.")
        );
    }
    let members = servers::member_ids(&state.db, id).await?;
    let channels = servers::channels(&state.db, id).await?;
    servers::delete(&state.db, id).await?;
    views::drop_server(&state, id, &[], &members)?;
    // Nobody follows a deleted server's channels any more, on any node.
    for c in &channels {
        state.hub.forget(Topic::Channel(c.id as u64));
    }
    state.hub.forget(Topic::Server(id));
    state.hub.forget(Topic::Presence(id));
    Ok(StatusCode::NO_CONTENT)
}

/// Leaves a server (the owner must delete it or transfer it instead).
#[utoipa::path(delete, path = "/api/v1/users/@me/servers/{id}", tag = "servers", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn leave_server(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id: ServerId = path_id(&id, unknown_server)?;
    let access = ServerAccess::load(&state, id, auth.user_id).await?;
    if access.is_owner() {
        return Err(ApiError::new(ErrorCode::OwnerCannotLeave));
    }
    servers::remove_member(&state.db, id, auth.user_id).await?;
    let channels = servers::channels(&state.db, id).await?;
    views::drop_server(&state, id, &channels, &[auth.user_id.as_i64()])?;
    state.hub.emit(
        Topic::Server(id),
        EventKind::MemberRemoved,
        &json!({"server_id": id, "user_id": auth.user_id}),
    );
    Ok(StatusCode::NO_CONTENT)
}
