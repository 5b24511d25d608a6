//! Reactions and pins.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use papo_core::error::{ErrorCode, FieldCode, FieldError};
use papo_core::id::{MessageId, UserId};
use papo_core::markup::is_single_emoji;
use papo_core::permissions::Permissions;
use papo_gateway::hub::Topic;
use papo_gateway::protocol::EventKind;
use papo_store::messages::{self, MessageRow};
use serde_json::json;

use super::dto::{Message, build};
use super::{parse_message_id, text_channel, unknown_message};
use crate::auth::Auth;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::servers::access::ChannelAccess;
use crate::http::servers::audit::{self, AuditReason};
use crate::state::AppState;

/// Reaction and pin routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/channels/{id}/messages/{mid}/reactions/{emoji}",
            put(add_reaction).delete(remove_reaction),
        )
        .route("/api/v1/channels/{id}/pins", get(list_pins))
        .route("/api/v1/channels/{id}/pins/{mid}", put(pin).delete(unpin))
}

/// Most pinned messages per channel.
pub const MAX_PINS: usize = 50;

async fn target(
    state: &AppState,
    id: &str,
    mid: &str,
    auth: &Auth,
) -> ApiResult<(ChannelAccess, MessageRow)> {
    let ca = text_channel(state, id, auth.user_id).await?;
    let row = messages::by_id(&state.db, ca.id(), parse_message_id(mid)?)
        .await?
        .ok_or_else(unknown_message)?;
    Ok((ca, row))
}

fn check_emoji(emoji: &str) -> ApiResult<()> {
    if is_single_emoji(emoji) {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::ValidationFailed).with_field(
            "emoji",
            FieldError::new(FieldCode::InvalidValue, "One Unicode emoji."),
        ))
    }
}

fn reaction_event(state: &AppState, kind: EventKind, row: &MessageRow, user: UserId, emoji: &str) {
    state.hub.emit(
        Topic::Channel(row.channel_id as u64),
        kind,
        &json!({
            "channel_id": row.channel_id.to_string(),
            "server_id": row.server_id.to_string(),
            "message_id": MessageId::from_i64(row.id),
            "user_id": user,
            "emoji": emoji,
        }),
    );
}

/// Reacts to a message (`add_reactions` + `read_message_history`); idempotent.
#[utoipa::path(put, path = "/api/v1/channels/{id}/messages/{mid}/reactions/{emoji}", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path), ("mid" = String, Path), ("emoji" = String, Path, description = "one Unicode emoji, percent-encoded")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn add_reaction(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, mid, emoji)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let (ca, row) = target(&state, &id, &mid, &auth).await?;
    ca.require(Permissions::ADD_REACTIONS.union(Permissions::READ_MESSAGE_HISTORY))?;
    check_emoji(&emoji)?;
    crate::http::limit_change(&state, auth.user_id)?;
    match messages::add_reaction(
        &state.db,
        row.id,
        &emoji,
        auth.user_id.as_i64(),
        crate::now_ms(),
    )
    .await?
    {
        messages::ReactionAdded::Added => {
            reaction_event(&state, EventKind::ReactionAdded, &row, auth.user_id, &emoji);
        }
        messages::ReactionAdded::Already => {}
        messages::ReactionAdded::Full => return Err(ApiError::new(ErrorCode::TooManyReactions)),
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Takes one's reaction back.
#[utoipa::path(delete, path = "/api/v1/channels/{id}/messages/{mid}/reactions/{emoji}", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path), ("mid" = String, Path), ("emoji" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn remove_reaction(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, mid, emoji)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let (_ca, row) = target(&state, &id, &mid, &auth).await?;
    check_emoji(&emoji)?;
    crate::http::limit_change(&state, auth.user_id)?;
    if messages::remove_reaction(&state.db, row.id, &emoji, auth.user_id.as_i64()).await? {
        reaction_event(
            &state,
            EventKind::ReactionRemoved,
            &row,
            auth.user_id,
            &emoji,
        );
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The channel's pinned messages, newest pin first.
#[utoipa::path(get, path = "/api/v1/channels/{id}/pins", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<Message>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_pins(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Message>>> {
    let ca = text_channel(&state, &id, auth.user_id).await?;
    ca.require(Permissions::READ_MESSAGE_HISTORY)?;
    let rows = messages::pins(&state.db, ca.id()).await?;
    Ok(Json(build(&state, rows, Some(auth.user_id)).await?))
}

async fn set_pin(
    state: &AppState,
    auth: &Auth,
    reason: &AuditReason,
    id: &str,
    mid: &str,
    on: bool,
) -> ApiResult<StatusCode> {
    let (ca, mut row) = target(state, id, mid, auth).await?;
    ca.require(Permissions::MANAGE_MESSAGES)?;
    if row.pinned_at.is_some() == on {
        return Ok(StatusCode::NO_CONTENT);
    }
    if on && messages::pins(&state.db, ca.id()).await?.len() >= MAX_PINS {
        return Err(ApiError::new(ErrorCode::TooManyPins));
    }
    row.pinned_at = on.then(crate::now_ms);
    messages::set_pinned(&state.db, row.id, row.pinned_at).await?;
    let message = build(state, vec![row.clone()], None).await?.remove(0);
    let topic = Topic::Channel(row.channel_id as u64);
    state.hub.emit(topic, EventKind::MessageUpdated, &message);
    state.hub.emit(
        topic,
        EventKind::ChannelPinsUpdated,
        &json!({"channel_id": message.channel_id, "server_id": message.server_id}),
    );
    let action = if on { "message_pin" } else { "message_unpin" };
    audit::record(
        state,
        &ca.access,
        Some(row.author_id),
        action,
        Some(json!({"channel_id": row.channel_id.to_string(), "message_id": row.id.to_string()})),
        reason,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Pins a message (`manage_messages`, ≤ 50 per channel).
#[utoipa::path(put, path = "/api/v1/channels/{id}/pins/{mid}", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path), ("mid" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn pin(
    State(state): State<AppState>,
    auth: Auth,
    reason: AuditReason,
    Path((id, mid)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    set_pin(&state, &auth, &reason, &id, &mid, true).await
}

/// Unpins a message (`manage_messages`).
#[utoipa::path(delete, path = "/api/v1/channels/{id}/pins/{mid}", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path), ("mid" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn unpin(
    State(state): State<AppState>,
    auth: Auth,
    reason: AuditReason,
    Path((id, mid)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    set_pin(&state, &auth, &reason, &id, &mid, false).await
}
