//! `GET /api/v1/gateway`: the WebSocket upgrade into the real-time gateway, and the
//! [`Backend`] that lets the gateway authenticate tokens against the database.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use papo_core::error::{ErrorCode, FieldCode, FieldError};
use papo_core::id::{MessageId, ServerId, SessionId, UserId};
use papo_gateway::answers::AnswerSlot;
use papo_gateway::driver::{self, Backend, TopicRefused};
use papo_gateway::hub::{Identity, Topic};
use papo_gateway::protocol::MessageCreate;
use papo_store::sessions;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::auth::tokens;
use crate::http::error::ApiError;
use crate::http::extract::forwarded_for;
use crate::http::servers::access::{ChannelAccess, ServerAccess};
use crate::http::servers::dto::ChannelKind;
use crate::http::servers::{ready_json, view_with, views};
use crate::http::users;
use crate::http::{identify_json, messages};
use crate::state::AppState;
use papo_core::permissions::Permissions;

/// Where the gateway is: the router's route, and the path [`direct_upgrade`] takes.
pub const GATEWAY_PATH: &str = "/api/v1/gateway";

/// The subprotocol a client offers to say it speaks this gateway's protocol (echoed in the
/// upgrade's response when offered: a browser that offers subprotocols requires one back).
pub const SUBPROTOCOL: &str = "papo.v1";
/// The subprotocol that carries an access token: `papo.token.<token>`, offered beside
/// [`SUBPROTOCOL`], identifies the connection as an `identify` frame would (never echoed).
pub const TOKEN_SUBPROTOCOL: &str = "papo.token.";

/// Bytes allocated for the direct upgrade's response and the `hello` behind it (together
/// about 200), so that the one buffer is not grown.
const PREFACE_CAPACITY: usize = 256;

/// The most servers listed in `ready` (as `GET /users/@me/servers`): those the identify read.
const MAX_READY_SERVERS: usize = sessions::IDENTIFY_SERVERS;

/// What one gateway connection needs of the server (each has its own): tokens resolved and
/// messages sent with the same rules as the REST API.
pub struct ServerBackend {
    state: AppState,
    /// The connection's last channel sent to, checked ([`messages::SendCache`]).
    sends: messages::SendCache,
}

impl Backend for ServerBackend {
    async fn authenticate(&self, token: &str) -> Option<Identity> {
        let state = &self.state;
        // A token whose owner the directory holds (it loads every live one at start: see
        // `Directory::preload_tokens`) is not looked up again; the account and channels are
        // read all the same. A token it lacks is read with them, and not put in it: caching
        // it here cost every identify a map insert (1.6k instructions in quick S1) for a
        // later request that may never come; a token's REST requests cache their owner
        // themselves.
        // The servers not in the directory yet are read with the account (on SQLite in the
        // transaction the identifies asked together share) and kept there.
        let hash = tokens::hash(token);
        let now = crate::now_ms();
        let cache = state.directory.clone();
        let found = match state.directory.live_owner(&hash, now) {
            Some(owner) => sessions::identify_owner(&state.db, owner, cache).await,
            None => sessions::identify(&state.db, &hash, now, cache).await,
        }
        .inspect_err(|err| tracing::error!(%err, "gateway authentication failed"))
        .ok()??;
        let (owner, row, rows) = (found.found.owner, found.found.user, found.channels);
        let user_id = UserId::from_i64(owner.user_id);
        // Written by hand as serde would (`identify_json`), and never parsed again.
        let user_json = identify_json::current_user(&row);
        // The user's servers, their channels' newest messages and the user's read states came
        // with the token; servers, roles and memberships come from the directory.
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
        let mut views = Vec::new();
        // Presences in `ready`: the members of the servers whose presence is pushed.
        let mut watch: Vec<UserId> = Vec::new();
        for id in server_ids.into_iter().take(MAX_READY_SERVERS) {
            // A server deleted or left meanwhile is simply skipped.
            if let Ok(access) = ServerAccess::load(state, ServerId::from_i64(id), user_id).await {
                let v = view_with(state, &access, &newest).await.ok()?;
                if !v.large {
                    let members = state.directory.member_ids(&state.db, &access.entry);
                    watch.extend(members.await.ok()?.iter().map(|m| UserId::from_i64(*m)));
                }
                views.push(v);
            }
        }
        let read_states = messages::read_states::for_servers(state, user_id, &views, &stored)
            .await
            .ok()?;
        let topics = views
            .iter()
            .flat_map(|v| views::topics(v.server_id(), v.large, v.visible().map(|(c, _)| c.id)))
            .collect();
        watch.sort_unstable_by_key(|u| u.as_i64());
        watch.dedup();
        let (status, custom_status) = users::saved_presence(&row.settings, now);
        Some(Identity {
            user_id,
            auth_session: SessionId::from_i64(owner.session_id),
            user_json,
            servers_json: ready_json::servers_array(&views),
            read_states_json: identify_json::read_states(&read_states),
            topics,
            watch,
            status,
            custom_status,
        })
    }

    fn send_message(
        self: Arc<Self>,
        user: UserId,
        m: MessageCreate,
        answer: AnswerSlot,
    ) -> impl Future<Output = ()> + Send + 'static {
        // Taken as the send starts, in the order of the connection's frames.
        let id = self.state.next_id();
        async move {
            let state = &self.state;
            let to = messages::Answer::Gateway(answer);
            let reply_to = match m.reply_to.as_deref().map(str::parse::<MessageId>) {
                None => None,
                Some(Ok(id)) => Some(id),
                Some(Err(_)) => {
                    let err = ApiError::new(ErrorCode::ValidationFailed).with_field(
                        "reply_to",
                        FieldError::new(FieldCode::InvalidValue, "Not a message id."),
                    );
                    return to.give(state, Err(err));
                }
            };
            let req = messages::CreateMessage {
                content: m.content,
                nonce: Some(m.nonce),
                reply_to,
            };
            let cache = &self.sends;
            messages::send_message(state, user, &m.channel_id, (req, id), to, cache).await
        }
    }

    async fn channel_topic(&self, user: UserId, channel_id: &str) -> Result<Topic, TopicRefused> {
        // Typing is shown to the channel's viewers, and only by those who may send there.
        let ca = ChannelAccess::load(&self.state, channel_id, user)
            .await
            .map_err(|_| TopicRefused::Unknown)?;
        if ChannelKind::parse(&ca.channel().kind) != ChannelKind::Text {
            Err(TopicRefused::NotText)
        } else if ca.perms.contains(Permissions::SEND_MESSAGES) {
            Ok(Topic::Channel(ca.channel().id as u64))
        } else {
            Err(TopicRefused::CannotSend)
        }
    }
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
    let headers = || {
        req.headers()
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_bytes()))
    };
    let offer = offer_of(headers());
    let forwarded = state
        .config
        .trust_proxy
        .then(|| forwarded_for(headers()))
        .flatten();
    let on_upgrade = hyper::upgrade::on(&mut req);
    let upgraded = async move {
        match on_upgrade.await {
            Ok(upgraded) => Some(hyper_util::rt::TokioIo::new(upgraded)),
            Err(err) => {
                tracing::debug!(%err, "websocket upgrade failed");
                None
            }
        }
    };
    let mut res = StatusCode::SWITCHING_PROTOCOLS.into_response();
    let h = res.headers_mut();
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    if let Ok(v) = HeaderValue::from_str(&accept) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
    }
    if offer.papo {
        h.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static(SUBPROTOCOL),
        );
    }
    // Behind a trusted proxy, its `X-Forwarded-For` entry (else every client behind it would
    // share its address's slots).
    start_driver(
        &state,
        forwarded.unwrap_or(peer.ip()),
        upgraded,
        Vec::new(),
        offer.token,
    );
    res
}

/// Starts the gateway's driver on the socket `io` yields: a connection from `ip`, which
/// takes one of its address's slots (or is closed by the driver when none is left), and
/// writes `preface` before its first frame; `token`: the access token the upgrade carried.
fn start_driver<IO>(
    state: &AppState,
    ip: IpAddr,
    io: impl Future<Output = Option<IO>> + Send + 'static,
    preface: Vec<u8>,
    token: Option<String>,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let hub = state.hub.clone();
    let slot = hub.claim_slot(ip);
    if slot.is_none() {
        tracing::warn!(%ip, "gateway connection limit reached");
    }
    let backend = Arc::new(ServerBackend {
        state: state.clone(),
        sends: messages::SendCache::default(),
    });
    state
        .gateway_tasks
        .spawn(driver::run(hub, backend, io, slot, preface, token));
}

/// A gateway upgrade read whole from a connection's first bytes (see `accept`).
#[derive(Debug, PartialEq)]
pub struct DirectUpgrade {
    /// The length of the request's head.
    pub len: usize,
    /// The `Sec-WebSocket-Accept` value.
    pub accept: String,
    /// What its `Sec-WebSocket-Protocol` offered.
    pub offer: Offer,
    /// Its `X-Forwarded-For` address (see [`forwarded_for`]), read if the proxy is trusted.
    pub forwarded: Option<IpAddr>,
}

/// What an upgrade request's `Sec-WebSocket-Protocol` headers offer.
#[derive(Debug, Default, PartialEq)]
pub struct Offer {
    /// [`SUBPROTOCOL`] is among them.
    pub papo: bool,
    /// The token of the first [`TOKEN_SUBPROTOCOL`] among them.
    pub token: Option<String>,
}

/// Reads the subprotocols offered in a request's headers (name and value pairs, in order).
fn offer_of<'a>(headers: impl Iterator<Item = (&'a str, &'a [u8])>) -> Offer {
    let mut offer = Offer::default();
    let offered = headers
        .filter(|(n, _)| n.eq_ignore_ascii_case("sec-websocket-protocol"))
        .filter_map(|(_, v)| std::str::from_utf8(v).ok())
        .flat_map(|v| v.split(',').map(str::trim));
    for p in offered {
        if p == SUBPROTOCOL {
            offer.papo = true;
        } else if let Some(token) = p.strip_prefix(TOKEN_SUBPROTOCOL)
            && offer.token.is_none()
        {
            offer.token = Some(token.to_owned());
        }
    }
    offer
}

/// A gateway upgrade read whole from a connection's first bytes (see `accept`); `None` for
/// anything else, which the router answers as before: another request, an upgrade it would
/// refuse, a request with a body, a head not all there yet. Its `X-Forwarded-For` is read
/// only when the proxy is trusted (`trust_proxy`).
pub fn direct_upgrade(bytes: &[u8], trust_proxy: bool) -> Option<DirectUpgrade> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    let httparse::Status::Complete(len) = req.parse(bytes).ok()? else {
        return None;
    };
    let path = req.path?;
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    if req.method != Some("GET") || req.version != Some(1) || path != GATEWAY_PATH {
        return None;
    }
    // Read in place: building a `HeaderMap` copied every value (1 % of S1's server CPU).
    let headers = || req.headers.iter().map(|h| (h.name, h.value));
    let has = |name: &str| headers().any(|(n, _)| n.eq_ignore_ascii_case(name));
    if has("content-length") || has("transfer-encoding") {
        return None;
    }
    Some(DirectUpgrade {
        len,
        accept: accept_of(headers)?,
        offer: offer_of(headers()),
        forwarded: trust_proxy.then(|| forwarded_for(headers())).flatten(),
    })
}

/// Answers a [`direct_upgrade`] on its socket (whose head has been read) and starts the
/// gateway's driver on the socket itself. The response goes out with `hello`, in one write.
/// `seen`: when the request was.
pub fn upgrade_direct(
    state: &AppState,
    tcp: TcpStream,
    peer: SocketAddr,
    upgrade: DirectUpgrade,
    seen: std::time::Instant,
) {
    // Room for `hello` too: the driver writes it behind the response (and `ready` when the
    // request carried a token, which grows the buffer once).
    let mut response = Vec::with_capacity(PREFACE_CAPACITY);
    response.extend_from_slice(b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n");
    response.extend_from_slice(b"connection: upgrade\r\nsec-websocket-accept: ");
    response.extend_from_slice(upgrade.accept.as_bytes());
    if upgrade.offer.papo {
        response.extend_from_slice(b"\r\nsec-websocket-protocol: ");
        response.extend_from_slice(SUBPROTOCOL.as_bytes());
    }
    response.extend_from_slice(b"\r\n\r\n");
    state
        .metrics
        .observe("GET", GATEWAY_PATH, 101, seen.elapsed());
    let token = upgrade.offer.token;
    let ip = upgrade.forwarded.unwrap_or(peer.ip());
    start_driver(state, ip, std::future::ready(Some(tcp)), response, token);
}

/// The `Sec-WebSocket-Accept` value if the request is a valid version-13 upgrade.
fn websocket_accept(headers: &HeaderMap) -> Option<String> {
    accept_of(|| headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())))
}

/// [`websocket_accept`] over a request's headers as name and value pairs, in order.
fn accept_of<'a, I>(headers: impl Fn() -> I) -> Option<String>
where
    I: Iterator<Item = (&'a str, &'a [u8])>,
{
    let values = |name: &'static str| {
        headers()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    let has_token = |name: &'static str, token: &str| {
        values(name).any(|v| {
            std::str::from_utf8(v)
                .is_ok_and(|s| s.split(',').any(|p| p.trim().eq_ignore_ascii_case(token)))
        })
    };
    if !has_token("upgrade", "websocket") || !has_token("connection", "upgrade") {
        return None;
    }
    if values("sec-websocket-version").next()? != b"13" {
        return None;
    }
    let key = values("sec-websocket-key").next()?;
    Some(papo_gateway::ws::accept_key(key))
}

#[cfg(test)]
mod tests {
    use super::{Offer, direct_upgrade};

    const UPGRADE: &str = "GET /api/v1/gateway HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\
        Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Sec-WebSocket-Version: 13\r\n\r\n";

    #[test]
    fn a_whole_upgrade_is_taken_with_its_length_and_accept_value() {
        let up = direct_upgrade(UPGRADE.as_bytes(), false).expect("taken");
        assert_eq!(up.len, UPGRADE.len());
        assert_eq!(up.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assert_eq!(up.offer, Offer::default());
        // A frame sent right behind the head is not part of it.
        let behind = format!("{UPGRADE}\u{81}\u{85}abcd");
        assert_eq!(
            direct_upgrade(behind.as_bytes(), false).unwrap().len,
            UPGRADE.len()
        );
        let query = UPGRADE.replace("/gateway ", "/gateway?v=1 ");
        assert!(direct_upgrade(query.as_bytes(), false).is_some());
    }

    #[test]
    fn the_forwarded_address_is_read_only_from_a_trusted_proxy() {
        let req = UPGRADE.replace(
            "\r\n\r\n",
            "\r\nX-Forwarded-For: 6.6.6.6, 203.0.113.9\r\n\r\n",
        );
        let forwarded = |trusted| direct_upgrade(req.as_bytes(), trusted).unwrap().forwarded;
        assert_eq!(forwarded(true), Some("203.0.113.9".parse().unwrap()));
        assert_eq!(forwarded(false), None);
    }

    #[test]
    fn the_offered_subprotocols_say_papo_and_carry_a_token() {
        let with = |protocols: &str| {
            let req = UPGRADE.replace("\r\n\r\n", &format!("\r\n{protocols}\r\n\r\n"));
            direct_upgrade(req.as_bytes(), false).expect("taken").offer
        };
        let both = with("Sec-WebSocket-Protocol: papo.v1, papo.token.pat_abc-_9");
        assert!(both.papo);
        assert_eq!(both.token.as_deref(), Some("pat_abc-_9"));
        // Over two headers, any case of the name; the first token counts.
        let split = with(
            "sec-websocket-protocol: papo.token.first\r\nSEC-WEBSOCKET-PROTOCOL: chat, papo.v1, papo.token.second",
        );
        assert!(split.papo);
        assert_eq!(split.token.as_deref(), Some("first"));
        // Others' subprotocols, or a token without papo.v1: taken as offered.
        assert_eq!(
            with("Sec-WebSocket-Protocol: chat, superchat"),
            Offer::default()
        );
        let bare = with("Sec-WebSocket-Protocol: papo.token.t");
        assert!(!bare.papo);
        assert_eq!(bare.token.as_deref(), Some("t"));
    }

    #[test]
    fn anything_else_is_left_to_the_router() {
        let cases = [
            UPGRADE[..40].to_owned(),
            UPGRADE.replace("GET ", "POST "),
            UPGRADE.replace("/api/v1/gateway", "/api/v1/gateways"),
            UPGRADE.replace("HTTP/1.1", "HTTP/1.0"),
            UPGRADE.replace("Version: 13", "Version: 8"),
            UPGRADE.replace("Upgrade: websocket\r\n", ""),
            UPGRADE.replace("Host: h\r\n", "Host: h\r\nContent-Length: 3\r\n"),
            "GET / HTTP/1.1\r\nHost: h\r\n\r\n".to_owned(),
            String::new(),
        ];
        for case in cases {
            assert_eq!(direct_upgrade(case.as_bytes(), false), None, "{case:?}");
        }
    }
}
