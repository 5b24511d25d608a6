//! Channels of a server: list, create, edit, delete.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch};
use axum::{Json, Router};
use papo_core::error::{ErrorCode, FieldCode, FieldError, FieldErrors};
use papo_core::id::{ChannelId, ServerId, UserId};
use papo_core::permissions::Permissions;
use papo_core::settings::{Patch, patch_field};
use papo_core::validate::optional_text;
use papo_gateway::hub::Topic;
use papo_gateway::protocol::EventKind;
use papo_store::servers::{self, ChannelRow, NewChannel, OverwriteRow};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::access::{ServerAccess, forbidden, unknown_server};
use super::audit::{self, AuditReason};
use super::dto::{Channel, ChannelKind};
use super::path_id;
use super::views::ServerSnapshot;
use crate::auth::Auth;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::JsonBody;
use crate::state::AppState;

/// Channel routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/servers/{id}/channels",
            get(list_channels)
                .post(create_channel)
                .patch(reorder_channels),
        )
        .route(
            "/api/v1/channels/{id}",
            patch(patch_channel).delete(delete_channel),
        )
}

fn unknown_channel() -> ApiError {
    ApiError::new(ErrorCode::NotFound).with_message("Unknown channel.")
}

/// The most channels (categories included) a server can have.
const MAX_CHANNELS: usize = 500;
const MAX_SLOWMODE: i64 = 21_600;
const MAX_USER_LIMIT: i64 = 99;
const BITRATE: std::ops::RangeInclusive<i64> = 8_000..=384_000;

/// Text channel names are lower case with `-` for spaces; others are trimmed.
pub fn channel_name(kind: ChannelKind, raw: &str) -> Result<String, FieldError> {
    let trimmed = raw.trim();
    let name = match kind {
        // The `#` is drawn before every text channel's name: one typed in would show twice.
        ChannelKind::Text => trimmed
            .trim_start_matches('#')
            .to_lowercase()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join("-"),
        _ => trimmed.to_owned(),
    };
    let len = name.chars().count();
    if len == 0 {
        return Err(FieldError::new(
            FieldCode::Required,
            "A channel needs a name.",
        ));
    }
    if len > 100 {
        return Err(FieldError::at_most(100));
    }
    papo_core::validate::name_chars(&name)?;
    Ok(name)
}

/// Channels the caller can view, by position.
#[utoipa::path(get, path = "/api/v1/servers/{id}/channels", tag = "channels", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<Channel>), (status = 404, body = ErrorBody)))]
pub async fn list_channels(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Channel>>> {
    let id: ServerId = path_id(&id, unknown_server)?;
    let access = ServerAccess::load(&state, id, auth.user_id).await?;
    Ok(Json(super::detail(&state, &access).await?.channels))
}

/// A new channel.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChannel {
    /// 1–100 characters.
    pub name: String,
    /// Kind.
    pub kind: ChannelKind,
    /// A category of the same server.
    #[serde(default)]
    pub parent_id: Option<ChannelId>,
    /// ≤ 1024 characters (text).
    #[serde(default)]
    pub topic: Option<String>,
    /// 0–21600 (text).
    #[serde(default)]
    pub slowmode_secs: Option<i64>,
    /// 0–99 (voice).
    #[serde(default)]
    pub user_limit: Option<i64>,
    /// 8000–384000 (voice).
    #[serde(default)]
    pub bitrate: Option<i64>,
}

/// Checks the fields that depend on the kind and the server; fills `errors`. A parent must
/// be a category the caller `sees` (one hidden from them is as unknown as any other id).
fn check_channel(
    c: &ChannelRow,
    all: &[ChannelRow],
    sees: &dyn Fn(i64) -> bool,
    errors: &mut FieldErrors,
) {
    let kind = ChannelKind::parse(&c.kind);
    if let Some(parent) = c.parent_id {
        let ok = kind != ChannelKind::Category
            && parent != c.id
            && all.iter().any(|p| p.id == parent && p.kind == "category")
            && sees(parent);
        if !ok {
            errors.insert(
                "parent_id".into(),
                FieldError::new(
                    FieldCode::InvalidValue,
                    "The parent must be a category of this server.",
                ),
            );
        }
    }
    if !(0..=MAX_SLOWMODE).contains(&c.slowmode_secs) {
        errors.insert(
            "slowmode_secs".into(),
            FieldError::new(FieldCode::InvalidValue, "0 to 21600 seconds."),
        );
    }
    if kind != ChannelKind::Voice && (c.user_limit.is_some() || c.bitrate.is_some()) {
        errors.insert(
            "kind".into(),
            FieldError::new(
                FieldCode::InvalidValue,
                "user_limit and bitrate are for voice channels.",
            ),
        );
    }
    if c.user_limit
        .is_some_and(|l| !(0..=MAX_USER_LIMIT).contains(&l))
    {
        errors.insert(
            "user_limit".into(),
            FieldError::new(FieldCode::InvalidValue, "0 to 99 (0 = no limit)."),
        );
    }
    if c.bitrate.is_some_and(|b| !BITRATE.contains(&b)) {
        errors.insert(
            "bitrate".into(),
            FieldError::new(FieldCode::InvalidValue, "8000 to 384000 bits per second."),
        );
    }
}

/// Whether the caller of `access` sees a channel (its overwrites among `overwrites`).
fn viewer<'a>(
    access: &'a ServerAccess,
    overwrites: &'a [OverwriteRow],
) -> impl Fn(i64) -> bool + 'a {
    move |id| {
        access
            .in_channel(id, overwrites)
            .contains(Permissions::VIEW_CHANNEL)
    }
}

/// Creates a channel (`manage_channels`).
#[utoipa::path(post, path = "/api/v1/servers/{id}/channels", tag = "channels", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = CreateChannel,
    responses((status = 201, body = Channel), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_channel(
    State(state): State<AppState>,
    auth: Auth,
    reason: AuditReason,
    Path(id): Path<String>,
    body: JsonBody<CreateChannel>,
) -> ApiResult<(StatusCode, Json<Channel>)> {
    let server_id: ServerId = path_id(&id, unknown_server)?;
    let access = ServerAccess::load(&state, server_id, auth.user_id).await?;
    access.require(Permissions::MANAGE_CHANNELS)?;
    let req = body.parse()?;
    let mut errors = FieldErrors::new();
    let name = channel_name(req.kind, &req.name)
        .map_err(|e| errors.insert("name".into(), e))
        .unwrap_or_default();
    let topic = optional_text(req.topic.as_deref(), 1024, true)
        .map_err(|e| errors.insert("topic".into(), e))
        .ok()
        .flatten();
    let all = servers::channels(&state.db, server_id).await?;
    if all.len() >= MAX_CHANNELS {
        return Err(ApiError::new(ErrorCode::TooManyChannels));
    }
    let mut row = ChannelRow {
        id: state.next_id().as_i64(),
        server_id: server_id.as_i64(),
        kind: req.kind.as_str().into(),
        name,
        position: 0, // Given by append_channel.
        parent_id: req.parent_id.map(ChannelId::as_i64),
        topic,
        slowmode_secs: req.slowmode_secs.unwrap_or(0),
        user_limit: req
            .user_limit
            .or((req.kind == ChannelKind::Voice).then_some(0)),
        bitrate: req
            .bitrate
            .or((req.kind == ChannelKind::Voice).then_some(64_000)),
        last_message_id: None,
    };
    let overwrites = servers::overwrites(&state.db, ServerId::from_i64(row.server_id)).await?;
    check_channel(&row, &all, &viewer(&access, &overwrites), &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    row.position = servers::append_channel(
        &state.db,
        &NewChannel {
            id: ChannelId::from_i64(row.id),
            server_id,
            kind: req.kind.as_str(),
            name: row.name.clone(),
            position: row.position,
            parent_id: req.parent_id,
            topic: row.topic.clone(),
            slowmode_secs: row.slowmode_secs,
            user_limit: row.user_limit,
            bitrate: row.bitrate,
        },
    )
    .await?;
    // In a category, it has the category's overwrites (copied as it was inserted).
    let overwrites = match row.parent_id {
        Some(_) => servers::overwrites(&state.db, server_id).await?,
        None => Vec::new(),
    };
    let channel = Channel::new(&row, &overwrites);
    // Those who can view it start following it, then hear about it through it.
    if let Some(snapshot) = ServerSnapshot::load(&state, server_id).await? {
        for (user, seen) in snapshot.visibility() {
            if seen.contains(&row.id) {
                state.hub.subscribe(
                    UserId::from_i64(user),
                    vec![Topic::Channel(row.id as u64)],
                    true,
                );
            }
        }
    }
    state.hub.emit(
        Topic::Channel(row.id as u64),
        EventKind::ChannelCreated,
        &channel,
    );
    audit::record(
        &state,
        &access,
        Some(row.id),
        "channel_create",
        Some(json!({"name": channel.name, "kind": channel.kind})),
        &reason,
    )
    .await;
    Ok((StatusCode::CREATED, Json(channel)))
}

/// Loads a channel and the caller's standing; 404 unless they can view it.
async fn load_channel(
    state: &AppState,
    raw_id: &str,
    auth: &Auth,
) -> ApiResult<(ChannelRow, ServerAccess)> {
    let id: ChannelId = path_id(raw_id, unknown_channel)?;
    let channel = servers::channel(&state.db, id)
        .await?
        .ok_or_else(unknown_channel)?;
    let server_id = ServerId::from_i64(channel.server_id);
    let access = ServerAccess::load(state, server_id, auth.user_id)
        .await
        .map_err(|_| unknown_channel())?;
    let overwrites = servers::overwrites(&state.db, server_id).await?;
    let perms = access.in_channel(channel.id, &overwrites);
    if !perms.contains(Permissions::VIEW_CHANNEL) {
        return Err(unknown_channel());
    }
    if !perms.contains(Permissions::MANAGE_CHANNELS) {
        return Err(forbidden(Permissions::MANAGE_CHANNELS));
    }
    Ok((channel, access))
}

/// Changes to a channel.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PatchChannel {
    /// 1–100 characters.
    pub name: Option<String>,
    /// `null` clears.
    #[serde(deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub topic: Patch<String>,
    /// `null` moves it out of its category.
    #[serde(deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub parent_id: Patch<ChannelId>,
    /// Order.
    pub position: Option<i64>,
    /// 0–21600.
    pub slowmode_secs: Option<i64>,
    /// Voice.
    pub user_limit: Option<i64>,
    /// Voice.
    pub bitrate: Option<i64>,
}

/// Edits a channel (`manage_channels`).
#[utoipa::path(patch, path = "/api/v1/channels/{id}", tag = "channels", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = PatchChannel,
    responses((status = 200, body = Channel), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn patch_channel(
    State(state): State<AppState>,
    auth: Auth,
    reason: AuditReason,
    Path(id): Path<String>,
    body: JsonBody<PatchChannel>,
) -> ApiResult<Json<Channel>> {
    let (mut row, access) = load_channel(&state, &id, &auth).await?;
    let before = row.clone();
    let req = body.parse()?;
    let kind = ChannelKind::parse(&row.kind);
    let mut errors = FieldErrors::new();
    if let Some(name) = &req.name {
        match channel_name(kind, name) {
            Ok(n) => row.name = n,
            Err(e) => {
                errors.insert("name".into(), e);
            }
        }
    }
    if let Some(topic) = &req.topic {
        match optional_text(topic.as_deref(), 1024, true) {
            Ok(t) => row.topic = t,
            Err(e) => {
                errors.insert("topic".into(), e);
            }
        }
    }
    if let Some(parent) = req.parent_id {
        row.parent_id = parent.map(ChannelId::as_i64);
    }
    if let Some(p) = req.position {
        if !(0..=10_000).contains(&p) {
            errors.insert(
                "position".into(),
                FieldError::new(FieldCode::InvalidValue, "0 to 10000."),
            );
        }
        row.position = p;
    }
    row.slowmode_secs = req.slowmode_secs.unwrap_or(row.slowmode_secs);
    row.user_limit = req.user_limit.or(row.user_limit);
    row.bitrate = req.bitrate.or(row.bitrate);
    let all = servers::channels(&state.db, ServerId::from_i64(row.server_id)).await?;
    let overwrites = servers::overwrites(&state.db, ServerId::from_i64(row.server_id)).await?;
    check_channel(&row, &all, &viewer(&access, &overwrites), &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    servers::update_channel(&state.db, &row).await?;
    let overwrites = servers::overwrites(&state.db, ServerId::from_i64(row.server_id)).await?;
    let channel = Channel::new(&row, &overwrites);
    state.hub.emit(
        Topic::Channel(row.id as u64),
        EventKind::ChannelUpdated,
        &channel,
    );
    audit::record(
        &state,
        &access,
        Some(row.id),
        "channel_update",
        Some(channel_changes(&before, &row)),
        &reason,
    )
    .await;
    Ok(Json(channel))
}

/// Deletes a channel (`manage_channels`).
#[utoipa::path(delete, path = "/api/v1/channels/{id}", tag = "channels", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_channel(
    State(state): State<AppState>,
    auth: Auth,
    reason: AuditReason,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let (row, access) = load_channel(&state, &id, &auth).await?;
    // Who could view it, for the audit log: its entries stay hidden from the others once
    // the channel and its overwrites are gone (the response leaves this out).
    let overwrites: Vec<[String; 4]> =
        servers::overwrites(&state.db, ServerId::from_i64(row.server_id))
            .await?
            .iter()
            .filter(|o| o.channel_id == row.id)
            .map(|o| {
                let kind = if o.is_role { "role" } else { "member" };
                [
                    o.target_id.to_string(),
                    kind.to_owned(),
                    o.allow.to_string(),
                    o.deny.to_string(),
                ]
            })
            .collect();
    servers::delete_channel(
        &state.db,
        ServerId::from_i64(row.server_id),
        ChannelId::from_i64(row.id),
    )
    .await?;
    let server_id = ServerId::from_i64(row.server_id);
    state.hub.emit(
        Topic::Channel(row.id as u64),
        EventKind::ChannelDeleted,
        &json!({"id": ChannelId::from_i64(row.id), "server_id": server_id}),
    );
    state.hub.forget(Topic::Channel(row.id as u64));
    audit::record(
        &state,
        &access,
        Some(row.id),
        "channel_delete",
        Some(json!({"name": row.name, "overwrites": overwrites})),
        &reason,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// What a channel edit changed, as `{field: [old, new]}`.
fn channel_changes(old: &ChannelRow, new: &ChannelRow) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    let mut diff = |k: &str, a: serde_json::Value, b: serde_json::Value| {
        if a != b {
            m.insert(k.into(), json!([a, b]));
        }
    };
    diff("name", json!(old.name), json!(new.name));
    diff("topic", json!(old.topic), json!(new.topic));
    diff("position", json!(old.position), json!(new.position));
    diff(
        "parent_id",
        json!(old.parent_id.map(|p| p.to_string())),
        json!(new.parent_id.map(|p| p.to_string())),
    );
    diff(
        "slowmode_secs",
        json!(old.slowmode_secs),
        json!(new.slowmode_secs),
    );
    diff("user_limit", json!(old.user_limit), json!(new.user_limit));
    diff("bitrate", json!(old.bitrate), json!(new.bitrate));
    serde_json::Value::Object(m)
}

/// One entry of a bulk reorder.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelPosition {
    /// Channel.
    pub id: ChannelId,
    /// New position (0–10000).
    pub position: i64,
    /// New category (`null` = none); absent keeps it.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub parent_id: Patch<ChannelId>,
}

/// Moves several channels at once (`manage_channels`); answers every channel the caller sees.
#[utoipa::path(patch, path = "/api/v1/servers/{id}/channels", tag = "channels", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = Vec<ChannelPosition>,
    responses((status = 200, body = Vec<Channel>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn reorder_channels(
    State(state): State<AppState>,
    auth: Auth,
    reason: AuditReason,
    Path(id): Path<String>,
    body: JsonBody<Vec<ChannelPosition>>,
) -> ApiResult<Json<Vec<Channel>>> {
    let server_id: ServerId = path_id(&id, unknown_server)?;
    let access = ServerAccess::load(&state, server_id, auth.user_id).await?;
    access.require(Permissions::MANAGE_CHANNELS)?;
    let req = body.parse()?;
    if req.is_empty() || req.len() > 500 {
        return Err(
            ApiError::new(ErrorCode::ValidationFailed).with_message("Send 1 to 500 channels.")
        );
    }
    let mut all = servers::channels(&state.db, server_id).await?;
    let overwrites = servers::overwrites(&state.db, server_id).await?;
    let mut errors = FieldErrors::new();
    let mut changed = Vec::new();
    for (i, p) in req.iter().enumerate() {
        // A channel hidden from the caller is as unknown as any other id; one they see but
        // may not manage (an overwrite denies it there) is refused, as its own PATCH is.
        let perms = access.in_channel(p.id.as_i64(), &overwrites);
        let found = all.iter().position(|c| c.id == p.id.as_i64());
        let Some(idx) = found.filter(|_| perms.contains(Permissions::VIEW_CHANNEL)) else {
            errors.insert(
                format!("{i}.id"),
                FieldError::new(FieldCode::InvalidValue, "Not a channel of this server."),
            );
            continue;
        };
        if !perms.contains(Permissions::MANAGE_CHANNELS) {
            return Err(forbidden(Permissions::MANAGE_CHANNELS));
        }
        if !(0..=10_000).contains(&p.position) {
            errors.insert(
                format!("{i}.position"),
                FieldError::new(FieldCode::InvalidValue, "0 to 10000."),
            );
        }
        let c = &mut all[idx];
        c.position = p.position;
        if let Some(parent) = p.parent_id {
            c.parent_id = parent.map(ChannelId::as_i64);
        }
        changed.push(idx);
    }
    for idx in &changed {
        let mut errs = FieldErrors::new();
        check_channel(&all[*idx], &all, &viewer(&access, &overwrites), &mut errs);
        for (k, v) in errs {
            errors.insert(format!("{}.{k}", all[*idx].id), v);
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    let rows: Vec<ChannelRow> = changed.iter().map(|i| all[*i].clone()).collect();
    servers::update_channels(&state.db, &rows).await?;
    for r in &rows {
        state.hub.emit(
            Topic::Channel(r.id as u64),
            EventKind::ChannelUpdated,
            &Channel::new(r, &overwrites),
        );
    }
    audit::record(&state, &access, None, "channel_update", Some(json!({"positions": rows.iter().map(|r| json!([r.id.to_string(), r.position])).collect::<Vec<_>>()})), &reason).await;
    Ok(Json(
        all.iter()
            .filter(|c| {
                access
                    .in_channel(c.id, &overwrites)
                    .contains(Permissions::VIEW_CHANNEL)
            })
            .map(|c| Channel::new(c, &overwrites))
            .collect(),
    ))
}
