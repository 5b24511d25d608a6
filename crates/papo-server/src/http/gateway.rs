//! `GET /api/v1/gateway`: the WebSocket upgrade into the real-time gateway, and the
//! [`Backend`] that lets the gateway authenticate tokens against the database.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use papo_core::error::{ErrorCode, FieldCode, FieldError};
use papo_core::id::{MessageId, ServerId, SessionId, UserId};
use papo_gateway::driver::{self, Backend};
use papo_gateway::hub::{Identity, Topic};
use papo_gateway::protocol::{MessageCreate, SendReply};
use papo_store::{servers, users};
use serde_json::value::RawValue;

use crate::auth::tokens;
use crate::http::error::ApiError;
use crate::http::messages;
use crate::http::servers::access::{ChannelAccess, ServerAccess};
use crate::http::servers::{detail_with, views};
use crate::http::users::CurrentUser;
use crate::state::AppState;
use papo_core::permissions::Permissions;

/// The most servers listed in `ready` (as `GET /users/@me/servers`).
const MAX_READY_SERVERS: usize = 200;

/// Resolves gateway tokens with the same rules as the REST API.
#[derive(Clone)]
pub struct ServerBackend(pub AppState);

impl Backend for ServerBackend {
    async fn authenticate(&self, token: &str) -> Option<Identity> {
        let state = &self.0;
        let (owner, row) = state
            .directory
            .authenticate_with_user(&state.db, &tokens::hash(token), crate::now_ms())
            .await
            .inspect_err(|err| tracing::error!(%err, "gateway authentication failed"))
            .ok()??;
        let user_id = UserId::from_i64(owner.user_id);
        let row = match row {
            Some(row) => row,
            None => users::by_id(&state.db, user_id).await.ok()??,
        };
        let json = serde_json::to_string(&CurrentUser::from_row(&row)).ok()?;
        // One query for the user's servers, their channels' newest messages and the
        // user's read states; servers, roles and memberships come from the directory.
        let rows = servers::channels_of_user(&state.db, user_id).await.ok()?;
        let mut server_ids: Vec<i64> = Vec::new();
        let mut newest = HashMap::new();
        let mut stored = HashMap::new();
        for row in &rows {
            if server_ids.last() != Some(&row.server_id) {
                server_ids.push(row.server_id);
            }
            if let Some(channel) = row.channel_id {
                if let Some(m) = row.last_message_id {
                    newest.insert(channel, m);
                }
                if let Some(r) = row.last_read_id {
                    stored.insert(channel, r);
                }
            }
        }
        let mut details = Vec::new();
        // Presences in `ready`: the members of the servers whose presence is pushed.
        let mut watch: Vec<UserId> = Vec::new();
        for id in server_ids.into_iter().take(MAX_READY_SERVERS) {
            // A server deleted or left meanwhile is simply skipped.
            if let Ok(access) = ServerAccess::load(state, ServerId::from_i64(id), user_id).await {
                let d = detail_with(state, &access, &newest).await.ok()?;
                if !d.large {
                    let members = state.directory.member_ids(&state.db, &access.entry);
                    watch.extend(members.await.ok()?.iter().map(|m| UserId::from_i64(*m)));
                }
                details.push(d);
            }
        }
        let read_states = messages::read_states::for_servers(state, user_id, &details, &stored)
            .await
            .ok()?;
        let topics = details.iter().flat_map(views::topics_of).collect();
        watch.sort_unstable_by_key(|u| u.as_i64());
        watch.dedup();
        Some(Identity {
            user_id,
            auth_session: SessionId::from_i64(owner.session_id),
            user_json: RawValue::from_string(json).ok()?,
            servers_json: RawValue::from_string(serde_json::to_string(&details).ok()?).ok()?,
            read_states_json: RawValue::from_string(serde_json::to_string(&read_states).ok()?)
                .ok()?,
            topics,
            watch,
        })
    }

    async fn send_message(&self, user: UserId, m: MessageCreate) -> SendReply {
        let reply_to = match m.reply_to.as_deref().map(str::parse::<MessageId>) {
            None => None,
            Some(Ok(id)) => Some(id),
            Some(Err(_)) => {
                return refused(ApiError::new(ErrorCode::ValidationFailed).with_field(
                    "reply_to",
                    FieldError::new(FieldCode::InvalidValue, "Not a message id."),
                ));
            }
        };
        let req = messages::CreateMessage {
            content: m.content,
            nonce: Some(m.nonce),
            reply_to,
        };
        let sent = match messages::send_message(&self.0, user, &m.channel_id, req).await {
            Ok(sent) => sent,
            Err(err) => return refused(err),
        };
        let created = matches!(sent, messages::Sent::Created(_));
        match serde_json::value::to_raw_value(&sent.into_message()) {
            Ok(message) => SendReply::Ack { created, message },
            Err(err) => refused(ApiError::internal(err)),
        }
    }

    async fn channel_topic(&self, user: UserId, channel_id: &str) -> Option<Topic> {
        // Typing is shown to the channel's viewers, and only by those who may send there.
        let ca = ChannelAccess::load(&self.0, channel_id, user).await.ok()?;
        ca.perms
            .contains(Permissions::SEND_MESSAGES)
            .then_some(Topic::Channel(ca.channel.id as u64))
    }
}

/// A refused `message_create`: the REST error body.
fn refused(err: ApiError) -> SendReply {
    let body = err.into_body();
    SendReply::Refused(
        serde_json::value::to_raw_value(&body)
            .unwrap_or_else(|_| RawValue::from_string("{}".into()).expect("an empty object")),
    )
}

/// Upgrades to a WebSocket and hands the connection to the gateway driver.
pub async fn upgrade(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut req: Request,
) -> Response {
    let Some(accept) = websocket_accept(req.headers()) else {
        return ApiError::new(ErrorCode::BadRequest)
            .with_message("This endpoint expects a WebSocket upgrade (version 13).")
            .into_response();
    };
    let on_upgrade = hyper::upgrade::on(&mut req);
    let hub = state.hub.clone();
    let slot = hub.claim_slot(peer.ip());
    if slot.is_none() {
        tracing::warn!(ip = %peer.ip(), "gateway connection limit reached");
    }
    let backend = Arc::new(ServerBackend(state.clone()));
    let upgraded = async move {
        match on_upgrade.await {
            Ok(upgraded) => Some(hyper_util::rt::TokioIo::new(upgraded)),
            Err(err) => {
                tracing::debug!(%err, "websocket upgrade failed");
                None
            }
        }
    };
    state
        .gateway_tasks
        .spawn(driver::run(hub, backend, upgraded, slot));
    let mut res = StatusCode::SWITCHING_PROTOCOLS.into_response();
    let h = res.headers_mut();
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    if let Ok(v) = HeaderValue::from_str(&accept) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
    }
    res
}

/// The `Sec-WebSocket-Accept` value if the request is a valid version-13 upgrade.
fn websocket_accept(headers: &HeaderMap) -> Option<String> {
    let has_token = |name: header::HeaderName, token: &str| {
        headers.get_all(name).iter().any(|v| {
            v.to_str()
                .is_ok_and(|s| s.split(',').any(|p| p.trim().eq_ignore_ascii_case(token)))
        })
    };
    if !has_token(header::UPGRADE, "websocket") || !has_token(header::CONNECTION, "upgrade") {
        return None;
    }
    if headers.get(header::SEC_WEBSOCKET_VERSION)?.as_bytes() != b"13" {
        return None;
    }
    let key = headers.get(header::SEC_WEBSOCKET_KEY)?;
    Some(papo_gateway::ws::accept_key(key.as_bytes()))
}
