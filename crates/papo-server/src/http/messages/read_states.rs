//! Read states: how far each member has read each channel, and their unread mentions.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use papo_core::id::{ChannelId, MessageId, ServerId, Snowflake, UserId};
use papo_gateway::hub::Topic;
use papo_gateway::protocol::EventKind;
use papo_store::{messages, read_states, servers};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::text_channel;
use crate::auth::Auth;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::JsonBody;
use crate::http::servers::access::ServerAccess;
use crate::http::servers::dto::ChannelKind;
use crate::http::servers::{ServerView, view};
use crate::state::AppState;

/// Read state routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/channels/{id}/ack", post(ack))
        .route("/api/v1/users/@me/read-states", get(list))
}

/// How far the user has read a channel.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ReadState {
    /// Channel.
    pub channel_id: ChannelId,
    /// The newest message read (or the id floor of the moment the member joined).
    pub last_read_id: MessageId,
    /// Unread messages that mention the user.
    pub mention_count: i64,
}

/// The read states of every text channel in `views` (the user's servers as they see them),
/// given how far the user has read each (`channel → last read id`: acknowledged, or their own
/// newest message there if later; see [`servers::channels_of_user`]).
pub async fn for_servers(
    state: &AppState,
    user: UserId,
    views: &[ServerView],
    stored: &HashMap<i64, i64>,
) -> ApiResult<Vec<ReadState>> {
    let mut out = Vec::new();
    for v in views {
        let floor = Snowflake::first_at(v.joined_at as u64).as_i64();
        let text = v
            .visible()
            .filter(|(c, _)| ChannelKind::parse(&c.kind) == ChannelKind::Text);
        for (c, newest) in text {
            let last_read = stored.get(&c.id).copied().unwrap_or(floor);
            let unread = newest.is_some_and(|m| m.as_i64() > last_read);
            let mention_count = if unread {
                read_states::mention_count(&state.db, user.as_i64(), c.id, last_read).await?
            } else {
                0
            };
            out.push(ReadState {
                channel_id: ChannelId::from_i64(c.id),
                last_read_id: MessageId::from_i64(last_read),
                mention_count,
            });
        }
    }
    Ok(out)
}

/// Read states of the user's visible text channels in all their servers.
pub async fn of_user(state: &AppState, user: UserId) -> ApiResult<Vec<ReadState>> {
    let mut views = Vec::new();
    for server in servers::of_user(&state.db, user).await? {
        if let Ok(access) = ServerAccess::load(state, ServerId::from_i64(server.id), user).await {
            views.push(view(state, &access).await?);
        }
    }
    // Acknowledged, or the user's own newest message where that is later.
    let stored: HashMap<i64, i64> = servers::channels_of_user(&state.db, user)
        .await?
        .into_iter()
        .filter_map(|r| Some((r.channel_id?, r.last_read_id?)))
        .collect();
    for_servers(state, user, &views, &stored).await
}

/// The caller's read states.
#[utoipa::path(get, path = "/api/v1/users/@me/read-states", tag = "messages", security(("bearer" = [])),
    responses((status = 200, body = Vec<ReadState>), (status = 401, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<ReadState>>> {
    Ok(Json(of_user(&state, auth.user_id).await?))
}

/// What was read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Ack {
    /// The newest message read.
    pub message_id: MessageId,
}

/// Marks a channel read up to `message_id` (or up to the user's own newest message there, if
/// that is later: authors have read their own messages); the user's other sessions get
/// `read_state.updated`. Ids are times: an id from the future reads as the present moment
/// (else every message until then would arrive already read).
#[utoipa::path(post, path = "/api/v1/channels/{id}/ack", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = Ack,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn ack(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    body: JsonBody<Ack>,
) -> ApiResult<StatusCode> {
    let ca = text_channel(&state, &id, auth.user_id).await?;
    let req = body.parse()?;
    let present = Snowflake::first_at(crate::now_ms() as u64 + 1).as_i64() - 1;
    let acked = req.message_id.as_i64().min(present);
    read_states::ack(&state.db, auth.user_id.as_i64(), ca.id(), acked).await?;
    // Authors have read their own messages: an acknowledgement before the user's own newest
    // message there reads as that message.
    let own = read_states::own_newest(&state.db, auth.user_id.as_i64(), ca.id()).await?;
    let last = own.map_or(acked, |id| id.max(acked));
    let newest = messages::last_id(&state.db, ca.id()).await?;
    let unread = newest.is_some_and(|m| m > last);
    let mention_count = if unread {
        read_states::mention_count(&state.db, auth.user_id.as_i64(), ca.channel().id, last).await?
    } else {
        0
    };
    state.hub.emit(
        Topic::User(auth.user_id),
        EventKind::ReadStateUpdated,
        &ReadState {
            channel_id: ca.id(),
            last_read_id: MessageId::from_i64(last),
            mention_count,
        },
    );
    Ok(StatusCode::NO_CONTENT)
}
