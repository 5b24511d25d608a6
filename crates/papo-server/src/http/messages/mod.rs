//! Messages in text channels: send (group-committed, nonce-deduplicated), history, edit,
//! delete, bulk delete; reactions and pins in [`reactions`]; read states in [`read_states`].

pub mod dto;
pub(crate) mod json;
pub mod reactions;
pub mod read_states;
pub mod send;
pub mod writer;

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::{HeaderName, StatusCode, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use papo_core::error::{ErrorCode, FieldCode, FieldError, FieldErrors};
use papo_core::id::{ChannelId, MessageId, ServerId, UserId};
use papo_core::permissions::Permissions;
use papo_gateway::hub::Topic;
use papo_gateway::protocol::EventKind;
use papo_store::messages::{self, Page};
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

pub use self::dto::Message;
use self::dto::build;
pub use self::send::{Answer, SendCache, Sent, send_message};
use self::send::{resolve_mentions, send};
use crate::auth::Auth;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiQuery, JsonBody};
use crate::http::servers::access::ChannelAccess;
use crate::http::servers::audit::{self, AuditReason};
use crate::state::AppState;

/// Message routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/channels/{id}/messages",
            get(history).post(create_message),
        )
        .route(
            "/api/v1/channels/{id}/messages/{mid}",
            get(get_message).patch(edit_message).delete(delete_message),
        )
        .route(
            "/api/v1/channels/{id}/messages/bulk-delete",
            post(bulk_delete),
        )
        .merge(reactions::router())
        .merge(read_states::router())
}

/// Longest message, in characters.
pub const MAX_CONTENT: usize = 4000;
const MAX_NONCE: usize = 64;

fn unknown_message() -> ApiError {
    ApiError::new(ErrorCode::NotFound).with_message("Unknown message.")
}

fn parse_message_id(raw: &str) -> ApiResult<i64> {
    raw.parse::<MessageId>()
        .map(MessageId::as_i64)
        .map_err(|_| unknown_message())
}

/// A text channel the caller can view, or 404 / 400.
async fn text_channel(state: &AppState, raw_id: &str, user: UserId) -> ApiResult<ChannelAccess> {
    let ca = ChannelAccess::load(state, raw_id, user).await?;
    if ca.channel().kind != "text" {
        return Err(
            ApiError::new(ErrorCode::BadRequest).with_message("Messages go in text channels.")
        );
    }
    Ok(ca)
}

/// A message's text as stored: not blank, at most [`MAX_CONTENT`] characters, and kept raw
/// (markdown) but for leading and trailing blank lines. Takes the text by value and gives
/// it back when nothing is trimmed, and counts characters only when there are more bytes
/// than the limit (a character is at least one byte): the two counts and the copy were
/// about 450 instructions a send (`bench/callgrind`, quick S4).
fn check_content(raw: String) -> Result<String, FieldError> {
    // Counted once the blank lines around it are gone, as docs/api.md says.
    let kept = raw.trim_matches(|c: char| c == '\n' || c == '\r');
    if kept.len() > MAX_CONTENT && kept.chars().count() > MAX_CONTENT {
        return Err(FieldError::at_most(4000));
    }
    if has_stray_control(kept) {
        return Err(FieldError::new(
            FieldCode::InvalidValue,
            "Control characters other than line breaks and tabs are not allowed.",
        ));
    }
    // Blanks, fillers (U+2800, U+3164) and zero-width characters alone look like nothing
    // (the first character of most messages shows: one test).
    if !papo_core::validate::shows_something(kept) {
        return Err(FieldError::new(
            FieldCode::TooShort,
            "A message cannot be empty.",
        ));
    }
    Ok(if kept.len() == raw.len() {
        raw
    } else {
        kept.to_owned()
    })
}

/// Whether `text` holds a control character other than a tab or a line break. NUL is one:
/// PostgreSQL's `text` cannot hold it, and a message with one failed its whole batch there.
fn has_stray_control(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// A new message.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMessage {
    /// 1–4000 characters, markdown.
    pub content: String,
    /// ≤ 64 characters; a retry with the same nonce returns the first message.
    #[serde(default)]
    pub nonce: Option<String>,
    /// A message of the same channel.
    #[serde(default)]
    pub reply_to: Option<MessageId>,
}

/// Sends a message (`send_messages`); answered once committed.
#[utoipa::path(post, path = "/api/v1/channels/{id}/messages", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = CreateMessage,
    responses((status = 201, body = Message), (status = 200, description = "the original of a repeated nonce", body = Message),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn create_message(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    body: JsonBody<CreateMessage>,
) -> ApiResult<(StatusCode, [(HeaderName, &'static str); 1], String)> {
    let ca = text_channel(&state, &id, auth.user_id).await?;
    ca.require(Permissions::SEND_MESSAGES)?;
    let req = body.parse()?;
    let message_id = state.next_id();
    let (tx, answer) = tokio::sync::oneshot::channel();
    let ca = std::sync::Arc::new(ca);
    send(
        &state,
        ca,
        auth.user_id,
        req,
        message_id,
        Answer::Wait(tx),
        None,
    )
    .await;
    let sent = answer
        .await
        .map_err(|_| ApiError::new(ErrorCode::ServiceUnavailable))??;
    let status = match sent {
        Sent::Created(..) => StatusCode::CREATED,
        Sent::Repeated(_) => StatusCode::OK,
    };
    // The bytes `Json` would write, by hand (`Sent::into_json`): a new message's are its
    // event's, already written. Through serde they cost 13.4k instructions a send
    // (`bench/callgrind`, quick S4 over REST).
    let json = [(header::CONTENT_TYPE, "application/json")];
    Ok((status, json, sent.into_json()))
}

/// Where a page of history starts.
#[derive(Debug, Deserialize, IntoParams)]
pub struct HistoryParams {
    /// Older than this message.
    pub before: Option<String>,
    /// Newer than this message.
    pub after: Option<String>,
    /// Around this message (included).
    pub around: Option<String>,
    /// 1–100 (default 50).
    pub limit: Option<i64>,
}

fn bad_param(name: &str, msg: &'static str) -> ApiError {
    ApiError::new(ErrorCode::ValidationFailed)
        .with_field(name, FieldError::new(FieldCode::InvalidValue, msg))
}

/// A page of a channel's messages, newest first (`read_message_history`).
#[utoipa::path(get, path = "/api/v1/channels/{id}/messages", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path), HistoryParams),
    responses((status = 200, body = Vec<Message>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<HistoryParams>,
) -> ApiResult<Json<Vec<Message>>> {
    let ca = text_channel(&state, &id, auth.user_id).await?;
    ca.require(Permissions::READ_MESSAGE_HISTORY)?;
    let limit = params.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(bad_param("limit", "1 to 100."));
    }
    let pivots = [
        ("before", &params.before),
        ("after", &params.after),
        ("around", &params.around),
    ];
    if pivots.iter().filter(|(_, v)| v.is_some()).count() > 1 {
        return Err(ApiError::new(ErrorCode::ValidationFailed)
            .with_message("Use at most one of before, after and around."));
    }
    let mut page = Page::Latest;
    for (name, value) in pivots {
        if let Some(v) = value {
            let id = v
                .parse::<MessageId>()
                .map_err(|_| bad_param(name, "Not an id."))?
                .as_i64();
            page = match name {
                "before" => Page::Before(id),
                "after" => Page::After(id),
                _ => Page::Around(id),
            };
        }
    }
    let rows = messages::history(&state.db, ca.id(), page, limit).await?;
    Ok(Json(build(&state, rows, Some(auth.user_id)).await?))
}

/// One message (`read_message_history`).
#[utoipa::path(get, path = "/api/v1/channels/{id}/messages/{mid}", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path), ("mid" = String, Path)),
    responses((status = 200, body = Message), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_message(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, mid)): Path<(String, String)>,
) -> ApiResult<Json<Message>> {
    let ca = text_channel(&state, &id, auth.user_id).await?;
    ca.require(Permissions::READ_MESSAGE_HISTORY)?;
    let row = messages::by_id(&state.db, ca.id(), parse_message_id(&mid)?)
        .await?
        .ok_or_else(unknown_message)?;
    Ok(Json(
        build(&state, vec![row], Some(auth.user_id))
            .await?
            .remove(0),
    ))
}

/// New content for a message.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditMessage {
    /// 1–4000 characters.
    pub content: String,
}

/// Edits one's own message.
#[utoipa::path(patch, path = "/api/v1/channels/{id}/messages/{mid}", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path), ("mid" = String, Path)), request_body = EditMessage,
    responses((status = 200, body = Message), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn edit_message(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, mid)): Path<(String, String)>,
    body: JsonBody<EditMessage>,
) -> ApiResult<Json<Message>> {
    let ca = text_channel(&state, &id, auth.user_id).await?;
    let mut row = messages::by_id(&state.db, ca.id(), parse_message_id(&mid)?)
        .await?
        .ok_or_else(unknown_message)?;
    if row.author_id != auth.user_id.as_i64() {
        return Err(
            ApiError::new(ErrorCode::Forbidden).with_message("Only the author can edit a message.")
        );
    }
    // Else a timed-out member could still post, by rewriting an old message.
    if ca.timed_out() {
        return Err(ApiError::new(ErrorCode::Forbidden)
            .with_message("You are timed out: messages cannot be edited until it ends."));
    }
    let req = body.parse()?;
    crate::http::limit_change(&state, auth.user_id)?;
    row.content = check_content(req.content)
        .map_err(|e| ApiError::invalid_fields(FieldErrors::from([("content".into(), e)])))?;
    row.edited_at = Some(crate::now_ms());
    let mentions = resolve_mentions(&state, &ca, &row.content).await?;
    row.mentions = mentions.users;
    row.mention_roles = mentions.roles;
    row.mention_everyone = mentions.everyone;
    messages::edit(&state.db, &row).await?;
    let channel = row.channel_id;
    let message = build(&state, vec![row.clone()], None).await?.remove(0);
    state.hub.emit(
        Topic::Channel(channel as u64),
        EventKind::MessageUpdated,
        &message,
    );
    Ok(Json(
        build(&state, vec![row], Some(auth.user_id))
            .await?
            .remove(0),
    ))
}

/// Deletes a message (its author, or `manage_messages`).
#[utoipa::path(delete, path = "/api/v1/channels/{id}/messages/{mid}", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path), ("mid" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_message(
    State(state): State<AppState>,
    auth: Auth,
    reason: AuditReason,
    Path((id, mid)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let ca = text_channel(&state, &id, auth.user_id).await?;
    let row = messages::by_id(&state.db, ca.id(), parse_message_id(&mid)?)
        .await?
        .ok_or_else(unknown_message)?;
    let own = row.author_id == auth.user_id.as_i64();
    if !own {
        ca.require(Permissions::MANAGE_MESSAGES)?;
    }
    let gone = messages::delete(&state.db, ca.id(), &[row.id]).await?;
    announce_deleted(
        &state,
        ca.server_id(),
        &gone
            .iter()
            .map(|m| (row.channel_id, *m))
            .collect::<Vec<_>>(),
    );
    if !own {
        audit::record(
            &state,
            &ca.access,
            Some(row.author_id),
            "message_delete",
            Some(
                json!({"channel_id": ca.channel().id.to_string(), "message_id": row.id.to_string()}),
            ),
            &reason,
        )
        .await;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Messages to delete at once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkDelete {
    /// 2–100 message ids of the channel.
    pub messages: Vec<MessageId>,
}

/// Deletes 2–100 messages at once (`manage_messages`).
#[utoipa::path(post, path = "/api/v1/channels/{id}/messages/bulk-delete", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = BulkDelete,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn bulk_delete(
    State(state): State<AppState>,
    auth: Auth,
    reason: AuditReason,
    Path(id): Path<String>,
    body: JsonBody<BulkDelete>,
) -> ApiResult<StatusCode> {
    let ca = text_channel(&state, &id, auth.user_id).await?;
    ca.require(Permissions::MANAGE_MESSAGES)?;
    let req = body.parse()?;
    let mut ids: Vec<i64> = req.messages.iter().map(|m| m.as_i64()).collect();
    ids.sort_unstable();
    ids.dedup();
    if !(2..=100).contains(&ids.len()) {
        return Err(bad_param("messages", "2 to 100 different message ids."));
    }
    let gone = messages::delete(&state.db, ca.id(), &ids).await?;
    announce_deleted(
        &state,
        ca.server_id(),
        &gone
            .iter()
            .map(|m| (ca.channel().id, *m))
            .collect::<Vec<_>>(),
    );
    audit::record(
        &state,
        &ca.access,
        Some(ca.channel().id),
        "message_bulk_delete",
        Some(json!({"count": gone.len()})),
        &reason,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Tells each channel's viewers which of its messages are gone: `message.deleted` for one,
/// `message.bulk_deleted` for several.
pub fn announce_deleted(state: &AppState, server_id: ServerId, gone: &[(i64, i64)]) {
    let mut by_channel: HashMap<i64, Vec<i64>> = HashMap::new();
    for (c, m) in gone {
        by_channel.entry(*c).or_default().push(*m);
    }
    for (channel, ids) in by_channel {
        let channel_id = ChannelId::from_i64(channel);
        let topic = Topic::Channel(channel as u64);
        if let [one] = ids.as_slice() {
            state.hub.emit(
                topic,
                EventKind::MessageDeleted,
                &json!({"id": MessageId::from_i64(*one), "channel_id": channel_id, "server_id": server_id}),
            );
        } else {
            let ids: Vec<MessageId> = ids.into_iter().map(MessageId::from_i64).collect();
            state.hub.emit(
                topic,
                EventKind::MessageBulkDeleted,
                &json!({"ids": ids, "channel_id": channel_id, "server_id": server_id}),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::users::PublicUser;

    #[test]
    fn a_new_messages_answer_is_its_event_with_empty_reactions() {
        let event = Message {
            id: MessageId::from_i64(9),
            channel_id: ChannelId::from_i64(2),
            server_id: ServerId::from_i64(1),
            author: PublicUser::deleted(UserId::from_i64(7)),
            content: "olá \"}".into(),
            nonce: Some("n".into()),
            created_at: "2026-12-01T18:00:00Z".into(),
            edited_at: None,
            reply_to: None,
            referenced_message: None,
            mentions: vec![UserId::from_i64(7)],
            mention_roles: Vec::new(),
            mention_everyone: false,
            pinned: false,
            reactions: None,
        };
        let json = serde_json::to_string(&event).unwrap();
        let mut answer = event;
        answer.reactions = Some(Vec::new());
        let sent = Sent::Created(json);
        // The same bytes as serializing the answer itself (reactions are its last field).
        assert_eq!(sent.into_json(), serde_json::to_string(&answer).unwrap());
        assert_eq!(
            Sent::Repeated(Box::new(answer.clone())).into_json(),
            serde_json::to_string(&answer).unwrap()
        );
    }

    #[test]
    fn content_is_counted_in_characters_and_trimmed_of_blank_lines() {
        let code = |raw: String| check_content(raw).map_err(|e| e.code);
        assert_eq!(code(" \n\t ".into()), Err(FieldCode::TooShort));
        assert_eq!(code("x".repeat(4000)).map(|c| c.len()), Ok(4000));
        assert_eq!(code("x".repeat(4001)), Err(FieldCode::TooLong));
        // 4,000 characters of two bytes each: 8,000 bytes, within the limit.
        assert_eq!(code("é".repeat(4000)).map(|c| c.len()), Ok(8000));
        assert_eq!(code("é".repeat(4001)), Err(FieldCode::TooLong));
        // The blank lines around it do not count.
        assert_eq!(
            code(format!("{}\r\n", "x".repeat(4000))).map(|c| c.len()),
            Ok(4000)
        );
        assert_eq!(code("\r\n  hi \n\n".into()), Ok("  hi ".into()));
        assert_eq!(code(" hi".into()), Ok(" hi".into()));
    }

    #[test]
    fn content_keeps_tabs_and_line_breaks_but_no_other_control_character() {
        let code = |raw: &str| check_content(raw.into()).map_err(|e| e.code);
        assert_eq!(code("a\tb\r\nc"), Ok("a\tb\r\nc".into()));
        for bad in [
            "a\0b",
            "\u{1b}[31mred",
            "bell\u{7}",
            "del\u{7f}",
            "c1\u{85}",
        ] {
            assert_eq!(code(bad), Err(FieldCode::InvalidValue), "{bad:?}");
        }
    }
}
