//! The tokio side of one connection: owns the socket, runs the [`Connection`] core, and moves
//! events from the session's queue to the socket.
//!
//! One task per socket, with reading, queued events, the core's deadline and shutdown under
//! one poll. Nothing large lives in the task between wake-ups: bytes are read into a stack
//! buffer inside the poll and handed to the [`Decoder`]; outgoing bytes are collected in a
//! `Vec` that is released after each write; what only identify, resume and typing need is
//! boxed while they run. An identified connection has no timer either: its deadline is noted
//! in its session, and the hub's once-a-second tick wakes it when the deadline has passed
//! (before identify, a boxed timer does). This keeps an idle session small (every idle
//! session is one task).
//!
//! Messages sent over the socket (`message_create`) are started in the order of their frames
//! and answered by whoever finishes them ([`Answers`]): a commit never holds up the session's
//! events, and a send waiting for its commit holds no task of its own.

use std::cell::Cell;
use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use futures::FutureExt;
use papo_core::id::UserId;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio_util::either::Either;

use crate::answers::{AnswerSlot, Answers};
use crate::hub::{ConnectionSlot, GwSession, Hub, Identity, Topic, Wake};
use crate::protocol::{CloseCode, EncodedEvent, EventKind, MessageCreate, ReadyData, ServerFrame};
use crate::session::{Action, Connection};
use crate::ws::{self, Decoder, Message, ProtocolError};

/// What the gateway needs from the rest of the server.
pub trait Backend: Send + Sync + 'static {
    /// Resolves an access token; `None` if it is invalid, expired or revoked.
    fn authenticate(&self, token: &str) -> impl Future<Output = Option<Identity>> + Send;
    /// The topic of `channel_id`, if `user` may type there (view it and send there).
    fn channel_topic(
        &self,
        user: UserId,
        channel_id: &str,
    ) -> impl Future<Output = Result<Topic, TopicRefused>> + Send;
    /// Starts sending a message for `user` with the rules of the REST endpoint, answered
    /// through `answer` once it is committed (and fanned out) or refused. The future ends
    /// once the message is handed over to be stored (or refused); only then does the
    /// connection's next send start, so a connection's messages are stored, and announced,
    /// in the order of its frames. It is polled by the connection's task, so it should
    /// rarely wait: a miss of a cache, a full queue.
    fn send_message(
        self: Arc<Self>,
        user: UserId,
        message: MessageCreate,
        answer: AnswerSlot,
    ) -> impl Future<Output = ()> + Send + 'static;
}

/// Why [`Backend::channel_topic`] gave no topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopicRefused {
    /// No such channel, or the user cannot view it (the same answer, so that a hidden
    /// channel is not told from a missing one).
    Unknown,
    /// The user sees the channel but may not send there (or is timed out).
    CannotSend,
    /// Not a text channel (a voice channel, a category): nothing is typed there.
    NotText,
}

/// Authentication must answer within this.
const AUTH_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes read per poll (on the stack, not kept between polls).
const READ_CHUNK: usize = 4096;
/// Sends in flight at which a connection's reading pauses, until one is answered; what the
/// client sends meanwhile waits in the socket's buffers (the frames of the read that got
/// there are all handled, so a burst read at once may go past it). Each send in flight holds
/// its message until the writer has committed it, and past what the writer takes at once
/// more of them only wait longer, in memory (measured when each was a task of its own): S4
/// at 35,000 msg/s from 1,000 sockets (2026-12-05, an
/// AMD EPYC), which this core cannot keep up with, acknowledged 30,684–32,677 a second at
/// 29.3–30.8 µs a message with 64 (tokio's thread up to 15 % in page faults as the waiting
/// tasks' memory grew; one run of five kept up) and 34,382–34,970 at 26.7–27.5 µs with 4
/// (four runs). A user's default send limit (10 in 5 s) stays under it.
const MAX_SENDS_IN_FLIGHT: usize = 4;

/// Serves one WebSocket until it closes: `upgrade` yields the socket once the HTTP upgrade
/// completes (`None`: it failed). `slot` is `None` when the client's address is over its
/// connection limit: the socket is then closed with 4011 at once. `preface` goes out first,
/// in the same write as the first frame (`hello`): the upgrade's response, when the caller
/// answers the upgrade itself; empty otherwise. `token`: the access token the upgrade
/// request carried, if any ([`Connection::identify_on_open`]).
///
/// The upgrade is chained to the connection rather than awaited inside it: an `async` block
/// keeps what it captures for as long as it lives, so the finished upgrade future would stay
/// in every idle connection's task.
pub fn run<B, IO, U>(
    hub: Arc<Hub>,
    backend: Arc<B>,
    upgrade: U,
    slot: Option<ConnectionSlot>,
    preface: Vec<u8>,
    token: Option<String>,
) -> impl Future<Output = ()> + Send
where
    B: Backend,
    IO: AsyncRead + AsyncWrite + Unpin + Send,
    U: Future<Output = Option<IO>> + Send,
{
    upgrade.then(move |io| {
        let Some(io) = io else {
            return Either::Left(std::future::ready(()));
        };
        let mut conn = Connection::new(Instant::now(), &hub.config);
        if let Some(token) = token {
            conn.identify_on_open(token);
        }
        let driver = Driver {
            conn,
            hub,
            backend,
            attached: None,
            out: preface,
            sends: None,
        };
        Either::Right(driver.run(io, slot))
    })
}

struct Driver<B> {
    hub: Arc<Hub>,
    backend: Arc<B>,
    conn: Connection,
    attached: Option<(Arc<GwSession>, u64)>,
    /// Bytes to write next; empty (no capacity) between wake-ups.
    out: Vec<u8>,
    /// `message_create`s in flight; `None` (no allocation) while none is.
    sends: Option<Box<Sends>>,
}

/// The future of a send being started ([`Backend::send_message`]).
type Starting = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A connection's `message_create`s in flight.
struct Sends {
    /// Whose they are.
    user: UserId,
    /// Their answers, and how many are still to come.
    answers: Arc<Answers>,
    /// The send being started, if it had to wait.
    starting: Option<Starting>,
    /// Frames read while another send was starting (and when each was read): each starts
    /// after the one before it.
    waiting: VecDeque<(MessageCreate, Instant)>,
}

impl Sends {
    fn new(user: UserId) -> Self {
        Self {
            user,
            answers: Arc::default(),
            starting: None,
            waiting: VecDeque::new(),
        }
    }

    /// The sends of `user`: this thread's spare, or new.
    fn of(user: UserId) -> Box<Self> {
        match SPARE_SENDS.with(Cell::take) {
            Some(mut spare) => {
                spare.user = user;
                spare
            }
            None => Box::new(Self::new(user)),
        }
    }

    /// Keeps idle sends as this thread's spare, if nothing else holds their answers: a
    /// connection sending now and then would otherwise make them anew for each message
    /// (three allocations).
    fn keep_spare(self: Box<Self>) {
        if Arc::strong_count(&self.answers) == 1 {
            // The last driver's waker would keep its task.
            self.answers.forget_waker();
            SPARE_SENDS.with(|spare| spare.set(Some(self)));
        }
    }

    /// Starts `message` (read at `read_at`) now if no send before it is still starting,
    /// else after those. Polled at once, without a waker: nearly every send is handed over
    /// without waiting; one that waits is polled again, with the connection's waker, before
    /// the connection parks.
    fn start<B: Backend>(&mut self, backend: &Arc<B>, message: MessageCreate, read_at: Instant) {
        self.answers.begin();
        if self.starting.is_none() && self.waiting.is_empty() {
            self.starting = Some(self.open(backend, message, read_at));
        } else {
            self.waiting.push_back((message, read_at));
        }
        self.advance(backend, &mut Context::from_waker(std::task::Waker::noop()));
    }

    /// Starts the sends waiting, one after another, until one has to wait (it is polled
    /// again with the connection's next wake-up) or none is left.
    fn advance<B: Backend>(&mut self, backend: &Arc<B>, cx: &mut Context<'_>) {
        loop {
            if let Some(starting) = self.starting.as_mut() {
                if starting.as_mut().poll(cx).is_pending() {
                    return;
                }
                self.starting = None;
            }
            let Some((message, read_at)) = self.waiting.pop_front() else {
                return;
            };
            self.starting = Some(self.open(backend, message, read_at));
        }
    }

    /// The future that starts one send.
    fn open<B: Backend>(&self, backend: &Arc<B>, message: MessageCreate, at: Instant) -> Starting {
        let answer = AnswerSlot::new(self.answers.clone(), message.nonce.clone(), at);
        // Boxed: a send's future is large, and it is kept only if it has to wait.
        Box::pin(backend.clone().send_message(self.user, message, answer))
    }

    /// Nothing in flight and no answer left to take: the connection may let go of it. (The
    /// count is read first: an answer's frame is in place before its send is counted out.)
    fn is_idle(&self) -> bool {
        self.starting.is_none()
            && self.waiting.is_empty()
            && self.answers.in_flight() == 0
            && !self.answers.has_answers()
    }
}

impl<B: Backend> Driver<B> {
    /// The connection's whole life. A plain function returning an `async` block rather than
    /// an `async fn`: an `async fn` keeps a second copy of its arguments for as long as the
    /// connection lives.
    #[allow(clippy::manual_async_fn)] // deliberately not `async fn`: see above
    fn run<IO>(
        mut self,
        mut io: IO,
        slot: Option<ConnectionSlot>,
    ) -> impl Future<Output = ()> + Send
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send,
    {
        async move {
            // The opening refusal and the closing are boxed: inline, their writes and
            // timers would share the task's layout with the idle wait and enlarge it.
            if slot.is_none() {
                let code = Some(CloseCode::TooManyConnections);
                return Box::pin(self.finish(io, code)).await;
            }
            let code = self.serve(&mut io).await;
            Box::pin(self.finish(io, code)).await;
            drop(slot);
        }
    }

    /// Sends the close frame (if `code`), shuts the socket, and detaches the session:
    /// resumable unless the close said otherwise.
    async fn finish<IO>(mut self, mut io: IO, code: Option<CloseCode>)
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send,
    {
        if let Some(code) = code {
            let mut out = std::mem::take(&mut self.out);
            ws::encode_close(code.code(), code.reason(), &mut out);
            let timeout = self.hub.config.write_timeout;
            let _ = tokio::time::timeout(timeout, io.write_all(&out)).await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), io.shutdown()).await;
        let resumable = code.is_some_and(CloseCode::resumable) || code.is_none();
        if let Some((session, generation)) = self.attached.take() {
            self.hub
                .detach(&session, generation, Instant::now(), resumable);
        }
        // Sends already read finish (commit and fan-out) without anyone to answer.
        if let Some(mut sends) = self.sends.take() {
            let backend = self.backend.clone();
            tokio::spawn(poll_fn(move |cx| {
                sends.advance(&backend, cx);
                match sends.starting.is_none() && sends.waiting.is_empty() {
                    true => Poll::Ready(()),
                    false => Poll::Pending,
                }
            }));
        }
    }

    /// Runs until the connection ends; returns the close code to send (`None`: the socket
    /// is already gone). Not an `async fn`, whose state would keep a second copy of its
    /// arguments in every idle connection.
    #[allow(clippy::manual_async_fn)] // deliberately not `async fn`: see above
    fn serve<'a, IO>(
        &'a mut self,
        io: &'a mut IO,
    ) -> impl Future<Output = Option<CloseCode>> + Send + 'a
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send,
    {
        async move {
            // Boxed, and only while a frame is partly read: an idle connection holds none.
            let mut decoder: Option<Box<Decoder>> = None;
            let max_frame = self.hub.config.max_frame_bytes;
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
                    let written = write_within(io, &out, self.hub.config.write_timeout).await;
                    keep_spare(out);
                    match written {
                        Ok(Ok(())) => {}
                        Ok(Err(_)) => return None,
                        Err(_) => return Some(CloseCode::SlowConsumer),
                    }
                }
                // Checked after identify too: a session created while the hub was closing its
                // sessions may have been missed by it.
                if self.hub.is_shutting_down() {
                    return Some(CloseCode::GoingAway);
                }
                // Parked here while idle, so what these hold is what an idle connection costs:
                // its session, which keeps the task's waker until it has something for it (events,
                // a close decision, or the hub's tick once its deadline passed); the socket and
                // the sends are polled directly. Before identify: a waiter for shutdown and a
                // timer, both boxed. (Inline rather than a method: an `async fn` would keep a
                // second copy of its arguments.)
                let session = self.attached.as_ref().map(|(s, g)| (s.clone(), *g));
                let (mut shutdown, mut sleep) = match session {
                    Some(_) => (None, None),
                    None => (
                        Some(Box::pin(self.hub.shutdown.cancelled())),
                        Some(Box::pin(tokio::time::sleep_until(
                            self.conn.poll_timeout().into(),
                        ))),
                    ),
                };
                let (sends, backend) = (&mut self.sends, &self.backend);
                let woke = poll_fn(|cx| {
                    let woken = match (&session, shutdown.as_mut()) {
                        (Some((s, generation)), _) => s.poll_wake(*generation, cx).is_ready(),
                        (None, Some(shutdown)) => shutdown.as_mut().poll(cx).is_ready(),
                        (None, None) => false,
                    };
                    if woken {
                        return Poll::Ready(Woke::Wake);
                    }
                    let mut reading = true;
                    if let Some(sends) = sends.as_deref_mut() {
                        // Registered before looking: an answer given meanwhile wakes it.
                        sends.answers.register(cx);
                        sends.advance(backend, cx);
                        if sends.answers.has_answers() {
                            return Poll::Ready(Woke::Answered);
                        }
                        // Too many sends in flight: stop reading until some are answered.
                        reading = sends.answers.in_flight() < MAX_SENDS_IN_FLIGHT;
                    }
                    if reading
                        && let Poll::Ready(read) = poll_read_some(cx, io, &mut decoder, max_frame)
                    {
                        return Poll::Ready(Woke::Read(read));
                    }
                    if let Some(sleep) = sleep.as_mut()
                        && sleep.as_mut().poll(cx).is_ready()
                    {
                        return Poll::Ready(Woke::Timeout);
                    }
                    Poll::Pending
                })
                .await;
                match woke {
                    // Events, a close decision or shutdown: handled at the top of the loop. Or the
                    // hub's tick saw the deadline pass: the core decides whether it has.
                    Woke::Wake => self.conn.handle_timeout(Instant::now()),
                    // Written at the top of the loop.
                    Woke::Answered => {}
                    Woke::Read(read) => {
                        let now = Instant::now();
                        let Ok(Some(Decoded { msgs, invalid })) = read else {
                            // End of stream without a close frame, or a failed read.
                            return None;
                        };
                        if invalid.is_some() {
                            self.conn.handle_oversized();
                        }
                        for msg in msgs {
                            match msg {
                                Message::Text(text) => self.conn.handle_text(now, &text),
                                Message::Binary(_) => self.conn.handle_binary(),
                                Message::Ping(payload) => {
                                    if self.conn.handle_control(now) {
                                        ws::encode_pong(&payload, &mut self.out);
                                    }
                                }
                                Message::Pong(_) => {
                                    self.conn.handle_control(now);
                                }
                                // Closed after what came before it (messages sent just before
                                // it are stored); what follows it is not read.
                                Message::Close(code, _) => {
                                    self.conn.handle_close(code);
                                    break;
                                }
                            }
                        }
                        if decoder.as_ref().is_some_and(|d| d.is_idle()) {
                            decoder = None;
                        }
                    }
                    Woke::Timeout => self.conn.handle_timeout(Instant::now()),
                }
            }
        }
    }

    fn send(&mut self, frame: ServerFrame<'_>) {
        ws::encode_text(frame.encode().as_bytes(), &mut self.out);
    }

    /// Performs what the core asked for; returns a close code when it decided to close.
    async fn run_actions(&mut self) -> Option<CloseCode> {
        loop {
            // What waits on the backend (identify, resume, typing) is boxed: inline, these
            // futures and the action they came from would enlarge every idle connection.
            let waiting = match self.apply_next_action() {
                Applied::Done => continue,
                Applied::Idle => return None,
                Applied::Close(code) => return Some(code),
                Applied::Wait(waiting) => waiting,
            };
            waiting.await;
        }
    }

    /// Performs the core's next action if it needs no waiting; otherwise returns the future
    /// that performs it.
    fn apply_next_action(&mut self) -> Applied<'_> {
        let Some(action) = self.conn.poll_action() else {
            return Applied::Idle;
        };
        match action {
            Action::Send(text) => ws::encode_text(text.as_bytes(), &mut self.out),
            Action::Close(code) => return Applied::Close(code),
            Action::Identify { token } => return Applied::Wait(Box::pin(self.identify(token))),
            Action::Resume {
                token,
                session_id,
                seq,
            } => return Applied::Wait(Box::pin(self.resume(token, session_id, seq))),
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
            Action::Typing { channel_id } => {
                return Applied::Wait(Box::pin(self.typing(channel_id)));
            }
            Action::SendMessage(message) => self.send_message(message),
        }
        Applied::Done
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
            self.conn.auth_failed(CloseCode::AuthenticationFailed);
            return None;
        };
        if !self.hub.allow_identify(identity.user_id, Instant::now()) {
            self.conn.auth_failed(CloseCode::RateLimited);
            return None;
        }
        Some(identity)
    }

    async fn identify(&mut self, token: String) {
        let token = token.as_str();
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
        self.conn.identified(Instant::now());
        self.attached = Some((session, generation));
    }

    async fn resume(&mut self, token: String, session_id: String, seq: u64) {
        let (token, session_id) = (token.as_str(), session_id.as_str());
        let Some(identity) = self.authenticate(token).await else {
            return;
        };
        match self.hub.resume(session_id, identity.user_id, seq) {
            None => self.conn.resume_refused(Instant::now()),
            Some((session, generation, replayed)) => {
                self.conn.identified(Instant::now());
                self.attached = Some((session, generation));
                // Replay now, so that `resumed` follows every missed event. Its presences
                // are read after that: no change written before them is newer.
                self.drain_events();
                let presences = self.hub.ready_presences(identity.user_id, &identity.watch);
                self.send(ServerFrame::Resumed {
                    replayed: replayed as u64,
                    presences: &presences,
                });
            }
        }
    }

    async fn typing(&mut self, channel_id: String) {
        let channel_id = channel_id.as_str();
        let Some((session, _)) = &self.attached else {
            return;
        };
        let user = session.user_id;
        match Box::pin(self.backend.channel_topic(user, channel_id)).await {
            Ok(topic @ Topic::Channel(channel)) => {
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
            Ok(_) | Err(TopicRefused::Unknown) => self.send(ServerFrame::Error {
                code: "not_found",
                message: "Unknown channel.",
            }),
            Err(TopicRefused::CannotSend) => self.send(ServerFrame::Error {
                code: "forbidden",
                message: "Missing permission: send_messages.",
            }),
            Err(TopicRefused::NotText) => self.send(ServerFrame::Error {
                code: "bad_request",
                message: "Messages go in text channels.",
            }),
        }
    }

    /// Writes the answers given so far, without waiting.
    fn take_finished_answers(&mut self) {
        let Some(sends) = self.sends.as_mut() else {
            return;
        };
        // Into this thread's spare buffer, with room for the events that usually follow.
        sends.answers.take_into(&mut self.out, ready_buffer);
        if sends.is_idle()
            && let Some(sends) = self.sends.take()
        {
            sends.keep_spare();
        }
    }

    /// Starts a send now if none before it is still starting, else after those.
    fn send_message(&mut self, message: MessageCreate) {
        let Some((session, _)) = &self.attached else {
            return;
        };
        let user = session.user_id;
        let sends = self.sends.get_or_insert_with(|| Sends::of(user));
        sends.start(&self.backend, message, Instant::now());
    }

    /// Moves queued events into the write buffer. Returns a close code if the session must
    /// end (revoked, slow consumer, replaced).
    fn drain_events(&mut self) -> Option<CloseCode> {
        let (session, generation) = self.attached.as_ref()?;
        let out = &mut self.out;
        let deadline = self.conn.poll_timeout();
        match session.drain(*generation, &self.hub.limits, deadline, |seq, ev| {
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

/// Writes all of `buf` within `limit`. What the socket takes at once (nearly always all of
/// it) is written without waiting; only a remainder waits, in a boxed timeout, so that the
/// connection's task does not carry a timer and a write future between writes.
fn write_within<'a, IO: AsyncWrite + Unpin + Send>(
    io: &'a mut IO,
    buf: &'a [u8],
    limit: Duration,
) -> impl Future<Output = Result<std::io::Result<()>, tokio::time::error::Elapsed>> + Send + 'a {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let mut written = 0;
    while written < buf.len() {
        match Pin::new(&mut *io).poll_write(&mut cx, &buf[written..]) {
            Poll::Ready(Ok(0)) => {
                let zero = std::io::Error::from(std::io::ErrorKind::WriteZero);
                return Either::Left(std::future::ready(Ok(Err(zero))));
            }
            Poll::Ready(Ok(n)) => written += n,
            Poll::Ready(Err(err)) => return Either::Left(std::future::ready(Ok(Err(err)))),
            Poll::Pending => break,
        }
    }
    if written == buf.len() {
        return Either::Left(std::future::ready(Ok(Ok(()))));
    }
    Either::Right(Box::pin(tokio::time::timeout(
        limit,
        io.write_all(&buf[written..]),
    )))
}

/// Room made in an empty write buffer for its first event: events come in bursts (a room's
/// presences every few milliseconds), and a buffer grown event by event was reallocated for
/// most of them (callgrind, quick S1: 4,035 allocations for 5,500 events; now 2,036, one a
/// write). A connection holds its buffer only until its write ([`SPARE`]).
const FIRST_EVENT_ROOM: usize = 1024;

/// The largest written buffer kept as [`SPARE`] (a `ready` or a backlog may be larger).
const MAX_SPARE: usize = 64 * 1024;

thread_local! {
    /// A written and emptied write buffer, for the next connection on this thread with
    /// something to write: a fan-out writes to one connection after another, and each took
    /// a buffer of its own and freed it after its write (quick S2: 28,053 allocations for
    /// 31,500 events). An idle connection still holds none.
    static SPARE: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };

    /// Idle sends, emptied, for the next connection on this thread that sends ([`Sends::of`]).
    static SPARE_SENDS: Cell<Option<Box<Sends>>> = const { Cell::new(None) };
}

/// Gives `out`, if it holds no buffer, this thread's spare one, with at least `room` bytes.
fn ready_buffer(out: &mut Vec<u8>, room: usize) {
    if out.capacity() == 0 {
        *out = SPARE.with(Cell::take);
        out.reserve(room.max(FIRST_EVENT_ROOM));
    }
}

/// Keeps a written buffer, emptied, as this thread's spare, unless it grew past
/// [`MAX_SPARE`].
fn keep_spare(mut buf: Vec<u8>) {
    if buf.capacity() <= MAX_SPARE {
        buf.clear();
        SPARE.with(|spare| spare.set(buf));
    }
}

/// Appends one event frame (WebSocket header + JSON with `seq`, if it has one).
fn write_event(out: &mut Vec<u8>, seq: Option<u64>, event: &EncodedEvent) {
    let len = event.len_with_seq(seq);
    let mut header = [0u8; ws::MAX_HEADER_LEN];
    let n = ws::frame_header(ws::OpCode::Text, len, &mut header);
    ready_buffer(out, n + len);
    out.reserve(n + len);
    out.extend_from_slice(&header[..n]);
    event.write_with_seq(seq, out);
}

/// What [`Driver::apply_next_action`] did.
enum Applied<'a> {
    /// Performed an action.
    Done,
    /// There was none.
    Idle,
    /// The core decided to close.
    Close(CloseCode),
    /// An action that waits on the backend: awaiting this performs it.
    Wait(Pin<Box<dyn Future<Output = ()> + Send + 'a>>),
}

/// What woke an idle connection.
enum Woke {
    /// The session has events or must close; before identify: the hub is shutting down
    /// (afterwards [`Hub::begin_shutdown`] tells the session).
    Wake,
    /// A send was answered.
    Answered,
    /// The socket had bytes (`None`: end of stream) or failed.
    Read(std::io::Result<Option<Decoded>>),
    /// The core's deadline passed (before identify; afterwards the hub's tick wakes the
    /// session instead).
    Timeout,
}

/// What one read decoded.
struct Decoded {
    /// Complete messages, in order.
    msgs: Vec<Message>,
    /// The frame that followed them broke the protocol (or the size limit).
    invalid: Option<ProtocolError>,
}

/// Reads what is available into a stack buffer (nothing is kept between reads but the
/// decoder's partial frame) and decodes it, with a new decoder (frames up to `max_frame`
/// bytes) unless one holds a partial frame. `None`: end of stream.
fn poll_read_some<IO: AsyncRead + Unpin>(
    cx: &mut std::task::Context<'_>,
    io: &mut IO,
    decoder: &mut Option<Box<Decoder>>,
    max_frame: usize,
) -> Poll<std::io::Result<Option<Decoded>>> {
    // Not zeroed first: the driver polls its socket on every wake-up, usually to find
    // nothing, and zeroed 4 KiB each time (a fifth of quick S2's instructions as callgrind
    // counts them, which is per byte for `rep stos`; far less in time).
    let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); READ_CHUNK];
    let mut rb = ReadBuf::uninit(&mut buf);
    ready!(Pin::new(&mut *io).poll_read(cx, &mut rb))?;
    let filled = rb.filled();
    if filled.is_empty() {
        return Poll::Ready(Ok(None));
    }
    let decoder = decoder.get_or_insert_with(|| Box::new(Decoder::new(max_frame)));
    let mut msgs = Vec::new();
    let invalid = decoder.feed(filled, &mut msgs).err();
    Poll::Ready(Ok(Some(Decoded { msgs, invalid })))
}

#[cfg(test)]
mod in_flight_tests;

#[cfg(test)]
mod tests;
