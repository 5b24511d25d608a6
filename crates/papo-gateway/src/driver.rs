//! The tokio side of one connection: owns the socket, runs the [`Connection`] core, and moves
//! events from the session's queue to the socket.
//!
//! One task per socket, with reading, queued events, the core's deadline and shutdown under
//! one `select!`. Nothing large lives in the task between wake-ups: bytes are read into a
//! stack buffer inside the poll and handed to the [`Decoder`]; outgoing bytes are collected in
//! a `Vec` that is released after each write. This keeps an idle session small.
//!
//! Messages sent over the socket (`message_create`) run as tasks of their own, so that a
//! commit never holds up the session's events; their answers are written as they finish.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Poll, ready};
use std::time::{Duration, Instant};

use papo_core::id::UserId;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::task::JoinSet;

use crate::hub::{ConnectionSlot, GwSession, Hub, Identity, Topic, Wake};
use crate::protocol::{
    CloseCode, EncodedEvent, EventKind, MessageCreate, ReadyData, SendReply, ServerFrame,
};
use crate::session::{Action, Connection};
use crate::ws::{self, Decoder, Message, ProtocolError};

/// What the gateway needs from the rest of the server.
pub trait Backend: Send + Sync + 'static {
    /// Resolves an access token; `None` if it is invalid, expired or revoked.
    fn authenticate(&self, token: &str) -> impl Future<Output = Option<Identity>> + Send;
    /// The topic of `channel_id` if `user` can see it.
    fn channel_topic(
        &self,
        user: UserId,
        channel_id: &str,
    ) -> impl Future<Output = Option<Topic>> + Send;
    /// Sends a message for `user` with the rules of the REST endpoint; answers once it is
    /// committed (and fanned out) or refused.
    fn send_message(
        &self,
        user: UserId,
        message: MessageCreate,
    ) -> impl Future<Output = SendReply> + Send;
}

/// Authentication must answer within this.
const AUTH_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes read per poll (on the stack, not kept between polls).
const READ_CHUNK: usize = 4096;
/// Sends one connection may have in flight; reading pauses at this many.
const MAX_SENDS_IN_FLIGHT: usize = 64;

/// Serves one upgraded WebSocket until it closes. `slot` is `None` when the client's address
/// is over its connection limit: the socket is then closed with 4011 at once.
pub async fn run<B, IO>(hub: Arc<Hub>, backend: Arc<B>, mut io: IO, slot: Option<ConnectionSlot>)
where
    B: Backend,
    IO: AsyncRead + AsyncWrite + Unpin + Send,
{
    if slot.is_none() {
        let mut out = Vec::new();
        let code = CloseCode::TooManyConnections;
        ws::encode_close(code.code(), code.reason(), &mut out);
        let _ = tokio::time::timeout(hub.config.write_timeout, io.write_all(&out)).await;
        let _ = io.shutdown().await;
        return;
    }
    let mut driver = Driver {
        hub,
        backend,
        conn: None,
        attached: None,
        out: Vec::new(),
        sends: None,
    };
    driver.conn = Some(Connection::new(Instant::now(), &driver.hub.config));
    let code = driver.serve(&mut io).await;
    if let Some(code) = code {
        let mut out = std::mem::take(&mut driver.out);
        ws::encode_close(code.code(), code.reason(), &mut out);
        let _ = tokio::time::timeout(driver.hub.config.write_timeout, io.write_all(&out)).await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), io.shutdown()).await;
    let resumable = code.is_some_and(CloseCode::resumable) || code.is_none();
    if let Some((session, generation)) = driver.attached.take() {
        driver
            .hub
            .detach(&session, generation, Instant::now(), resumable);
    }
    // Sends already accepted finish (commit and fan-out) without anyone to answer.
    if let Some(mut sends) = driver.sends.take() {
        sends.detach_all();
    }
    drop(slot);
}

struct Driver<B> {
    hub: Arc<Hub>,
    backend: Arc<B>,
    conn: Option<Connection>,
    attached: Option<(Arc<GwSession>, u64)>,
    /// Bytes to write next; empty (no capacity) between wake-ups.
    out: Vec<u8>,
    /// `message_create`s in flight, each yielding its answer frame; `None` (no allocation)
    /// while none is.
    sends: Option<Box<JoinSet<String>>>,
}

impl<B: Backend> Driver<B> {
    /// Runs until the connection ends; returns the close code to send (`None`: the socket
    /// is already gone).
    async fn serve<IO>(&mut self, io: &mut IO) -> Option<CloseCode>
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let mut decoder = Decoder::new(self.hub.config.max_frame_bytes);
        let mut msgs: Vec<Message> = Vec::new();
        loop {
            if let Some(code) = self.run_actions().await {
                return Some(code);
            }
            // Answers already finished go out in the same write as the events: a send's
            // task emits its event and then finishes, so both are usually ready together.
            self.take_finished_answers();
            if let Some(code) = self.drain_events() {
                return Some(code);
            }
            if !self.out.is_empty() {
                let out = std::mem::take(&mut self.out);
                match tokio::time::timeout(self.hub.config.write_timeout, io.write_all(&out)).await
                {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => return None,
                    Err(_) => return Some(CloseCode::SlowConsumer),
                }
            }
            let deadline = self.conn().poll_timeout();
            let session = self.attached.as_ref().map(|(s, _)| s.clone());
            tokio::select! {
                biased;
                () = self.hub.shutdown.cancelled() => return Some(CloseCode::GoingAway),
                () = wait_for_events(session.as_deref()) => {}
                answer = next_answer(&mut self.sends), if self.sends.is_some() => {
                    if let Some(answer) = answer {
                        write_answer(answer, &mut self.out);
                    }
                    // The set itself is released at the top of the loop once empty.
                }
                read = read_some(io, &mut decoder, &mut msgs),
                    if self.sends.as_ref().is_none_or(|s| s.len() < MAX_SENDS_IN_FLIGHT) => {
                    let now = Instant::now();
                    match read {
                        Ok(Ok(0)) | Err(_) => return None,
                        Ok(Ok(_)) => {}
                        Ok(Err(ProtocolError::TooLarge)) => self.conn_mut().handle_oversized(),
                        Ok(Err(_)) => self.conn_mut().handle_oversized(),
                    }
                    for msg in msgs.drain(..) {
                        match msg {
                            Message::Text(text) => self.conn_mut().handle_text(now, &text),
                            Message::Binary(_) => self.conn_mut().handle_binary(),
                            Message::Ping(payload) => ws::encode_pong(&payload, &mut self.out),
                            Message::Pong(_) => {}
                            // A browser cannot drop a socket without a close frame: only
                            // 1000/1001 end the session, anything else may be resumed.
                            Message::Close(Some(1000 | 1001), _) => return Some(CloseCode::Normal),
                            Message::Close(_, _) => return Some(CloseCode::ClientDropped),
                        }
                    }
                    if decoder.is_idle() {
                        decoder.shrink();
                    }
                    // Idle connections keep no message buffer.
                    msgs = Vec::new();
                }
                () = tokio::time::sleep_until(deadline.into()) => {
                    self.conn_mut().handle_timeout(Instant::now());
                }
            }
        }
    }

    fn conn(&self) -> &Connection {
        self.conn.as_ref().expect("connection core")
    }

    fn conn_mut(&mut self) -> &mut Connection {
        self.conn.as_mut().expect("connection core")
    }

    fn send(&mut self, frame: ServerFrame<'_>) {
        ws::encode_text(frame.encode().as_bytes(), &mut self.out);
    }

    /// Performs what the core asked for; returns a close code when it decided to close.
    async fn run_actions(&mut self) -> Option<CloseCode> {
        while let Some(action) = self.conn_mut().poll_action() {
            match action {
                Action::Send(text) => ws::encode_text(text.as_bytes(), &mut self.out),
                Action::Close(code) => return Some(code),
                Action::Identify { token } => self.identify(&token).await,
                Action::Resume {
                    token,
                    session_id,
                    seq,
                } => self.resume(&token, &session_id, seq).await,
                Action::Ack(seq) => {
                    if let Some((s, _)) = &self.attached {
                        s.ack(seq);
                    }
                }
                Action::Presence(p) => {
                    if let Some((s, _)) = &self.attached {
                        self.hub.set_presence(s, p.status, p.custom_status);
                    }
                }
                Action::Typing { channel_id } => self.typing(&channel_id).await,
                Action::SendMessage(message) => self.send_message(message),
            }
        }
        None
    }

    async fn authenticate(&mut self, token: &str) -> Option<Identity> {
        // Boxed: the backend's future (database queries) is large and only lives during
        // authentication; inline it would enlarge every idle connection's task.
        let identity =
            tokio::time::timeout(AUTH_TIMEOUT, Box::pin(self.backend.authenticate(token)))
                .await
                .ok()
                .flatten();
        let Some(identity) = identity else {
            self.conn_mut().auth_failed(CloseCode::AuthenticationFailed);
            return None;
        };
        if !self.hub.allow_identify(identity.user_id, Instant::now()) {
            self.conn_mut().auth_failed(CloseCode::RateLimited);
            return None;
        }
        Some(identity)
    }

    async fn identify(&mut self, token: &str) {
        let Some(identity) = self.authenticate(token).await else {
            return;
        };
        let (session, generation) = self.hub.create_session(&identity);
        let ready = ReadyData {
            user: identity.user_json,
            presences: self.hub.ready_presences(identity.user_id, &identity.watch),
            servers: identity.servers_json,
            read_states: identity.read_states_json,
        };
        let resume_window_ms = self.hub.config.resume_window.as_millis() as u64;
        let session_id = session.id.to_string();
        self.send(ServerFrame::Ready {
            session_id: &session_id,
            data: &ready,
            resume_window_ms,
        });
        self.conn_mut().identified(Instant::now());
        self.attached = Some((session, generation));
    }

    async fn resume(&mut self, token: &str, session_id: &str, seq: u64) {
        let Some(identity) = self.authenticate(token).await else {
            return;
        };
        match self.hub.resume(session_id, identity.user_id, seq) {
            None => self.conn_mut().resume_refused(Instant::now()),
            Some((session, generation, replayed)) => {
                self.conn_mut().identified(Instant::now());
                self.attached = Some((session, generation));
                // Replay now, so that `resumed` follows every missed event.
                self.drain_events();
                self.send(ServerFrame::Resumed {
                    replayed: replayed as u64,
                });
            }
        }
    }

    async fn typing(&mut self, channel_id: &str) {
        let Some((session, _)) = &self.attached else {
            return;
        };
        let user = session.user_id;
        match Box::pin(self.backend.channel_topic(user, channel_id)).await {
            Some(topic @ Topic::Channel(channel)) => {
                if self.hub.allow_typing(user, channel, Instant::now()) {
                    let ttl = self.hub.config.typing_ttl;
                    let expires_at = std::time::SystemTime::now() + ttl;
                    let expires_ms = expires_at
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_millis() as u64)
                        .unwrap_or(0);
                    self.hub.emit(
                        topic,
                        EventKind::TypingStarted,
                        &serde_json::json!({
                            "channel_id": channel_id,
                            "user_id": user,
                            "expires_at_ms": expires_ms,
                        }),
                    );
                }
            }
            _ => self.send(ServerFrame::Error {
                code: "not_found",
                message: "Unknown channel.",
            }),
        }
    }

    /// Writes the answers of the sends that have finished, without waiting.
    fn take_finished_answers(&mut self) {
        let Some(sends) = self.sends.as_mut() else {
            return;
        };
        while let Some(answer) = sends.try_join_next() {
            write_answer(answer, &mut self.out);
        }
        if sends.is_empty() {
            self.sends = None;
        }
    }

    fn send_message(&mut self, message: MessageCreate) {
        let Some((session, _)) = &self.attached else {
            return;
        };
        let user = session.user_id;
        let backend = self.backend.clone();
        let sends = self.sends.get_or_insert_with(Box::default);
        sends.spawn(async move {
            let nonce = message.nonce.clone();
            match backend.send_message(user, message).await {
                SendReply::Ack { created, message } => ServerFrame::MessageAck {
                    nonce: &nonce,
                    created,
                    message: &message,
                }
                .encode(),
                SendReply::Refused(error) => ServerFrame::SendRefused {
                    nonce: &nonce,
                    error: &error,
                }
                .encode(),
            }
        });
    }

    /// Moves queued events into the write buffer. Returns a close code if the session must
    /// end (revoked, slow consumer, replaced).
    fn drain_events(&mut self) -> Option<CloseCode> {
        let (session, generation) = self.attached.as_ref()?;
        let out = &mut self.out;
        match session.drain(*generation, &self.hub.limits, |seq, ev| {
            write_event(out, seq, ev)
        }) {
            Wake::Events(_) => None,
            Wake::Close(code) => Some(code),
            Wake::Replaced => {
                // The session lives on in the other connection.
                self.attached = None;
                Some(CloseCode::SessionReplaced)
            }
        }
    }
}

/// Appends one event frame (WebSocket header + JSON with `seq`).
fn write_event(out: &mut Vec<u8>, seq: u64, event: &EncodedEvent) {
    let len = event.len_with_seq(seq);
    let mut header = [0u8; ws::MAX_HEADER_LEN];
    let n = ws::frame_header(ws::OpCode::Text, len, &mut header);
    out.reserve(n + len);
    out.extend_from_slice(&header[..n]);
    event.write_with_seq(seq, out);
}

/// Appends a finished send's answer frame. A send task that panicked has no answer: the
/// client's wait for it runs out and it sends again with the same nonce.
fn write_answer(answer: Result<String, tokio::task::JoinError>, out: &mut Vec<u8>) {
    match answer {
        Ok(frame) => ws::encode_text(frame.as_bytes(), out),
        Err(err) => tracing::error!(%err, "message send task failed"),
    }
}

/// The next finished send's answer frame.
async fn next_answer(
    sends: &mut Option<Box<JoinSet<String>>>,
) -> Option<Result<String, tokio::task::JoinError>> {
    match sends {
        Some(set) => set.join_next().await,
        None => std::future::pending().await,
    }
}

async fn wait_for_events(session: Option<&GwSession>) {
    match session {
        Some(s) => s.notify.notified().await,
        None => std::future::pending().await,
    }
}

/// Reads what is available into a stack buffer and decodes it. Cancel-safe: bytes are
/// consumed only in a poll that completes.
async fn read_some<IO: AsyncRead + Unpin>(
    io: &mut IO,
    decoder: &mut Decoder,
    msgs: &mut Vec<Message>,
) -> std::io::Result<Result<usize, ProtocolError>> {
    poll_fn(|cx| {
        let mut buf = [0u8; READ_CHUNK];
        let mut rb = ReadBuf::new(&mut buf);
        ready!(Pin::new(&mut *io).poll_read(cx, &mut rb))?;
        let filled = rb.filled();
        if filled.is_empty() {
            return Poll::Ready(Ok(Ok(0)));
        }
        Poll::Ready(Ok(decoder.feed(filled, msgs).map(|()| filled.len())))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::value::RawValue;

    /// A backend whose futures are deliberately huge, like a database-backed one.
    struct HeavyBackend;
    impl Backend for HeavyBackend {
        async fn authenticate(&self, _: &str) -> Option<Identity> {
            let scratch = [0u8; 8192];
            tokio::task::yield_now().await;
            std::hint::black_box(&scratch);
            None
        }
        async fn channel_topic(&self, _: UserId, _: &str) -> Option<Topic> {
            let scratch = [0u8; 8192];
            tokio::task::yield_now().await;
            std::hint::black_box(&scratch);
            None
        }
        async fn send_message(&self, _: UserId, _: MessageCreate) -> SendReply {
            let scratch = [0u8; 8192];
            tokio::task::yield_now().await;
            std::hint::black_box(&scratch);
            SendReply::Refused(RawValue::from_string("{}".into()).unwrap())
        }
    }

    /// Every idle connection is one task holding this future: it must stay small whatever
    /// the backend's futures weigh (they are boxed while they run).
    #[test]
    fn an_idle_connection_task_stays_small() {
        let hub = Hub::new(crate::session::GatewayConfig::default(), 0);
        let (a, _b) = tokio::io::duplex(64);
        let fut = run(hub, Arc::new(HeavyBackend), a, None);
        let size = std::mem::size_of_val(&fut);
        assert!(size <= 1024, "driver future is {size} bytes");
        assert!(std::mem::size_of::<GwSession>() <= 256);
        assert!(std::mem::size_of::<Decoder>() <= 64);
    }
}
