//! The sans-IO core of one gateway connection: text frames and time go in, frames to send,
//! actions for the driver and a close decision come out. No sockets, no tokio, no clock:
//! every method takes `now`, so tests run on simulated time.
//!
//! The driver ([`crate::driver`]) feeds it with [`Connection::handle_text`] and
//! [`Connection::handle_timeout`] (at [`Connection::poll_timeout`]), performs the
//! [`Action`]s it returns from [`Connection::poll_action`], and reports back with
//! [`Connection::identified`] or [`Connection::auth_failed`].

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::value::RawValue;

use crate::protocol::{
    ClientFrame, CloseCode, FrameError, MessageCreate, PresenceUpdate, ServerFrame,
    message_create_refusal,
};
use crate::rate::SlidingWindow;

/// Limits and timings of the gateway.
#[derive(Clone, Debug)]
pub struct GatewayConfig {
    /// Interval the client heartbeats at; 1.5 intervals of silence close the socket (4009).
    pub heartbeat_interval: Duration,
    /// How long a dropped session can be resumed.
    pub resume_window: Duration,
    /// Time allowed between connecting and identifying.
    pub identify_timeout: Duration,
    /// Largest accepted frame (4002 above it).
    pub max_frame_bytes: usize,
    /// Frames allowed per [`GatewayConfig::frame_window`] (4008 above it).
    pub max_frames: u32,
    /// Window for [`GatewayConfig::max_frames`] and [`GatewayConfig::max_sends`].
    pub frame_window: Duration,
    /// `message_create` frames allowed per [`GatewayConfig::frame_window`] (4008 above it).
    /// Counted apart from other frames; the server's per-user message rate answers
    /// `rate_limited` errors well before this.
    pub max_sends: u32,
    /// Identify/resume attempts per user per minute.
    pub identifies_per_minute: u32,
    /// Unsent events a session may queue before it is closed as a slow consumer (4010).
    pub max_pending_events: usize,
    /// Unsent bytes a session may queue before it is closed as a slow consumer (4010).
    pub max_pending_bytes: usize,
    /// Open sockets allowed per client address (4011 above it).
    pub max_connections_per_ip: u32,
    /// Presence grace: a user whose last session closed stays present this long.
    pub offline_grace: Duration,
    /// How long a typing indicator lasts.
    pub typing_ttl: Duration,
    /// Minimum time between forwarded `typing_start`s of one user in one channel.
    pub typing_throttle: Duration,
    /// A socket write taking longer than this means the client stopped reading (4010).
    pub write_timeout: Duration,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            heartbeat_interval: Duration::from_secs(30),
            resume_window: Duration::from_secs(120),
            identify_timeout: Duration::from_secs(20),
            max_frame_bytes: 16 * 1024,
            max_frames: 120,
            frame_window: Duration::from_secs(60),
            max_sends: 600,
            // Enough for a few tabs reconnecting together after a restart and reloads;
            // 5 cut a user reloading four times in a row off live updates.
            identifies_per_minute: 30,
            max_pending_events: 1024,
            max_pending_bytes: 1024 * 1024,
            max_connections_per_ip: 256,
            offline_grace: Duration::from_secs(10),
            typing_ttl: Duration::from_secs(8),
            typing_throttle: Duration::from_secs(5),
            write_timeout: Duration::from_secs(10),
        }
    }
}

/// Something the driver must do.
#[derive(Debug)]
pub enum Action {
    /// Send this text frame.
    Send(String),
    /// Authenticate `token` and start a new session (then call [`Connection::identified`]).
    Identify {
        /// Access token.
        token: String,
    },
    /// Authenticate `token` and re-attach session `session_id`, replaying after `seq`.
    Resume {
        /// Access token.
        token: String,
        /// Gateway session id.
        session_id: String,
        /// Last sequence the client has.
        seq: u64,
    },
    /// The client has every event up to `seq`: forget them.
    Ack(u64),
    /// Set the session's presence (already validated).
    Presence(PresenceUpdate),
    /// Forward a typing indicator.
    Typing {
        /// The channel id as sent.
        channel_id: String,
    },
    /// Send a message, then answer `message_ack` or `error` with its nonce.
    SendMessage(MessageCreate),
    /// Close the socket with this code; nothing else follows.
    Close(CloseCode),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for `identify` or `resume`.
    Hello,
    /// The driver is authenticating.
    Authenticating,
    /// A session is attached.
    Identified,
    /// Closed; ignore everything.
    Closed,
}

/// The state of one connection.
#[derive(Debug)]
pub struct Connection {
    phase: Phase,
    /// When the socket must close unless a heartbeat (or identify) arrives.
    deadline: Instant,
    rate: SlidingWindow,
    sends: SlidingWindow,
    actions: VecDeque<Action>,
    /// Shared with the hub and every connection (a copy of its limits would enlarge every
    /// idle connection).
    config: Arc<GatewayConfig>,
}

impl Connection {
    /// A new connection at `now`; the first action is the `hello` frame.
    pub fn new(now: Instant, config: &Arc<GatewayConfig>) -> Self {
        let mut c = Self {
            phase: Phase::Hello,
            deadline: now + config.identify_timeout,
            rate: SlidingWindow::new(now),
            sends: SlidingWindow::new(now),
            actions: VecDeque::new(),
            config: config.clone(),
        };
        c.send(ServerFrame::Hello {
            heartbeat_interval_ms: config.heartbeat_interval.as_millis() as u64,
        });
        c
    }

    fn send(&mut self, frame: ServerFrame<'_>) {
        self.actions.push_back(Action::Send(frame.encode()));
    }

    fn close(&mut self, code: CloseCode) {
        if self.phase != Phase::Closed {
            self.phase = Phase::Closed;
            self.actions.push_back(Action::Close(code));
        }
    }

    fn heartbeat_deadline(&self, now: Instant) -> Instant {
        now + self.config.heartbeat_interval + self.config.heartbeat_interval / 2
    }

    /// Whether a session is attached.
    pub fn is_identified(&self) -> bool {
        self.phase == Phase::Identified
    }

    /// Whether the connection has decided to close.
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// A text frame arrived.
    pub fn handle_text(&mut self, now: Instant, text: &str) {
        if self.phase == Phase::Closed {
            return;
        }
        let parsed = ClientFrame::parse(text);
        // Sends have their own budget, so that chatting does not use up the one of
        // heartbeats, presence and typing.
        let allowed = if matches!(parsed, Ok(ClientFrame::MessageCreate(_))) {
            let c = &self.config;
            self.sends.allow(now, c.frame_window, c.max_sends)
        } else {
            let c = &self.config;
            self.rate.allow(now, c.frame_window, c.max_frames)
        };
        if !allowed {
            return self.close(CloseCode::RateLimited);
        }
        let frame = match parsed {
            Ok(f) => f,
            Err(FrameError::InvalidData {
                op: "message_create",
                error,
            }) if self.phase == Phase::Identified => {
                return match message_create_refusal(text) {
                    (Some(nonce), body) => match RawValue::from_string(body) {
                        Ok(error) => self.send(ServerFrame::SendRefused {
                            nonce: &nonce,
                            error: &error,
                        }),
                        Err(_) => self.close(CloseCode::InvalidFrame),
                    },
                    (None, _) => self.send(ServerFrame::Error {
                        code: "validation_failed",
                        message: &format!("invalid message_create: {error}"),
                    }),
                };
            }
            Err(FrameError::InvalidData { op, error })
                if self.phase == Phase::Identified
                    && matches!(op, "presence_update" | "typing_start") =>
            {
                // A malformed optional op is refused, not fatal.
                let message = format!("invalid {op}: {error}");
                return self.send(ServerFrame::Error {
                    code: "validation_failed",
                    message: &message,
                });
            }
            Err(_) => return self.close(CloseCode::InvalidFrame),
        };
        match (self.phase, frame) {
            (_, ClientFrame::Heartbeat(hb)) => {
                if self.phase == Phase::Identified {
                    self.deadline = self.heartbeat_deadline(now);
                    if let Some(seq) = hb.seq {
                        self.actions.push_back(Action::Ack(seq));
                    }
                }
                self.send(ServerFrame::HeartbeatAck);
            }
            (Phase::Hello, ClientFrame::Identify(i)) => {
                self.phase = Phase::Authenticating;
                self.actions.push_back(Action::Identify { token: i.token });
            }
            (Phase::Hello, ClientFrame::Resume(r)) => {
                self.phase = Phase::Authenticating;
                self.actions.push_back(Action::Resume {
                    token: r.token,
                    session_id: r.session_id,
                    seq: r.seq,
                });
            }
            (Phase::Identified, ClientFrame::PresenceUpdate(p)) => match validate_presence(&p) {
                Ok(()) => self.actions.push_back(Action::Presence(p)),
                Err(message) => self.send(ServerFrame::Error {
                    code: "validation_failed",
                    message: &message,
                }),
            },
            (Phase::Identified, ClientFrame::TypingStart(t)) => {
                self.actions.push_back(Action::Typing {
                    channel_id: t.channel_id,
                });
            }
            (Phase::Identified, ClientFrame::MessageCreate(m)) => {
                self.actions.push_back(Action::SendMessage(m));
            }
            // Identify twice, ops before identify, anything while authenticating.
            _ => self.close(CloseCode::InvalidFrame),
        }
    }

    /// The client identified in its upgrade request (the `papo.token.…` subprotocol, see
    /// docs/gateway.md): the same as an `identify` frame arriving first (a connection's
    /// first frame is always within its budget), so that `ready` can leave with `hello` and
    /// the upgrade's response in one write instead of after a second round trip.
    pub fn identify_on_open(&mut self, token: String) {
        if self.phase != Phase::Hello {
            return;
        }
        self.phase = Phase::Authenticating;
        self.actions.push_back(Action::Identify { token });
    }

    /// A ping or pong arrived: it counts toward the frame budget as any frame does (each
    /// ping is answered); false once the connection is closing, when no pong is due.
    pub fn handle_control(&mut self, now: Instant) -> bool {
        if self.phase == Phase::Closed {
            return false;
        }
        let c = &self.config;
        if !self.rate.allow(now, c.frame_window, c.max_frames) {
            self.close(CloseCode::RateLimited);
            return false;
        }
        true
    }

    /// A binary frame arrived: the protocol is text only.
    pub fn handle_binary(&mut self) {
        self.close(CloseCode::InvalidFrame);
    }

    /// The client's close frame arrived (with `code`, if any): the connection closes once
    /// the actions before it are done. A browser cannot drop a socket without a close frame,
    /// so only 1000 and 1001 end the session; after any other it may be resumed.
    pub fn handle_close(&mut self, code: Option<u16>) {
        self.close(match code {
            Some(1000 | 1001) => CloseCode::Normal,
            _ => CloseCode::ClientDropped,
        });
    }

    /// A frame over the size limit arrived.
    pub fn handle_oversized(&mut self) {
        self.close(CloseCode::InvalidFrame);
    }

    /// The driver attached a session (after `Identify` or a successful `Resume`); it sends
    /// `ready`/`resumed` itself because those carry session data.
    pub fn identified(&mut self, now: Instant) {
        if self.phase == Phase::Authenticating {
            self.phase = Phase::Identified;
            self.deadline = self.heartbeat_deadline(now);
        }
    }

    /// Resume was refused (unknown session, too old): the client must identify on this socket.
    pub fn resume_refused(&mut self, now: Instant) {
        if self.phase == Phase::Authenticating {
            self.phase = Phase::Hello;
            self.deadline = now + self.config.identify_timeout;
            self.send(ServerFrame::InvalidSession);
        }
    }

    /// Authentication failed (or identify attempts ran out: `code` says which).
    pub fn auth_failed(&mut self, code: CloseCode) {
        self.close(code);
    }

    /// The next time [`Connection::handle_timeout`] must be called.
    pub fn poll_timeout(&self) -> Instant {
        self.deadline
    }

    /// Time passed: closes the socket if its deadline is over.
    pub fn handle_timeout(&mut self, now: Instant) {
        if now < self.deadline || self.phase == Phase::Closed {
            return;
        }
        match self.phase {
            Phase::Identified => self.close(CloseCode::HeartbeatTimeout),
            Phase::Hello => self.close(CloseCode::IdentifyTimeout),
            // Authentication is the driver's await; it has its own timeout.
            Phase::Authenticating | Phase::Closed => {}
        }
    }

    /// The next action, if any. The queue's memory is released once it is empty, so an idle
    /// connection holds none.
    pub fn poll_action(&mut self) -> Option<Action> {
        let action = self.actions.pop_front();
        if action.is_none() && self.actions.capacity() > 0 {
            self.actions = VecDeque::new();
        }
        action
    }
}

fn validate_presence(p: &PresenceUpdate) -> Result<(), String> {
    if !p.status.choosable() {
        return Err("status must be online, idle, dnd or invisible".into());
    }
    if let Some(Some(c)) = &p.custom_status {
        c.check()
            .map_err(|(field, e)| format!("custom_status.{field}: {}", e.message))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(c: &mut Connection) -> Vec<Action> {
        std::iter::from_fn(|| c.poll_action()).collect()
    }

    fn sent(actions: &[Action]) -> Vec<serde_json::Value> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Send(t) => Some(serde_json::from_str(t).unwrap()),
                _ => None,
            })
            .collect()
    }

    fn closed_with(actions: &[Action]) -> Option<CloseCode> {
        actions.iter().find_map(|a| match a {
            Action::Close(c) => Some(*c),
            _ => None,
        })
    }

    fn identified(now: Instant, cfg: &Arc<GatewayConfig>) -> Connection {
        let mut c = Connection::new(now, cfg);
        drain(&mut c);
        c.handle_text(now, r#"{"op":"identify","d":{"token":"t"}}"#);
        drain(&mut c);
        c.identified(now);
        c
    }

    #[test]
    fn a_close_frame_closes_after_what_came_before_it() {
        let t0 = Instant::now();
        let cfg = Arc::new(GatewayConfig::default());
        let send = r#"{"op":"message_create","d":{"channel_id":"1","content":"m","nonce":"n"}}"#;
        for (code, closed) in [
            (Some(1000), CloseCode::Normal),
            (Some(1001), CloseCode::Normal),
            (Some(4000), CloseCode::ClientDropped),
            (None, CloseCode::ClientDropped),
        ] {
            let mut c = identified(t0, &cfg);
            c.handle_text(t0, send);
            c.handle_text(t0, send);
            c.handle_close(code);
            let a = drain(&mut c);
            assert!(matches!(
                &a[..],
                [Action::SendMessage(_), Action::SendMessage(_), Action::Close(c)] if *c == closed
            ));
            assert!(c.is_closed());
        }
    }

    #[test]
    fn handshake_says_hello_then_asks_to_identify() {
        let t0 = Instant::now();
        let cfg = Arc::new(GatewayConfig::default());
        let mut c = Connection::new(t0, &cfg);
        let a = drain(&mut c);
        assert_eq!(sent(&a)[0]["op"], "hello");
        assert_eq!(sent(&a)[0]["d"]["heartbeat_interval_ms"], 30_000);
        c.handle_text(t0, r#"{"op":"identify","d":{"token":"abc"}}"#);
        let a = drain(&mut c);
        assert!(matches!(&a[..], [Action::Identify { token }] if token == "abc"));
        assert!(!c.is_identified());
        c.identified(t0);
        assert!(c.is_identified());
    }

    #[test]
    fn identifying_on_open_asks_to_identify_right_after_hello_and_only_once() {
        let t0 = Instant::now();
        let cfg = Arc::new(GatewayConfig::default());
        let mut c = Connection::new(t0, &cfg);
        c.identify_on_open("abc".into());
        let a = drain(&mut c);
        assert_eq!(sent(&a[..1])[0]["op"], "hello");
        assert!(matches!(&a[1..], [Action::Identify { token }] if token == "abc"));
        // An identify frame on top of it is a second identify.
        c.handle_text(t0, r#"{"op":"identify","d":{"token":"abc"}}"#);
        assert_eq!(closed_with(&drain(&mut c)), Some(CloseCode::InvalidFrame));
        // Once identified, a late call changes nothing.
        let mut c = identified(t0, &cfg);
        c.identify_on_open("abc".into());
        assert!(drain(&mut c).is_empty());
        assert!(c.is_identified());
    }

    #[test]
    fn ops_before_identify_and_double_identify_are_invalid() {
        let t0 = Instant::now();
        let cfg = Arc::new(GatewayConfig::default());
        let mut c = Connection::new(t0, &cfg);
        c.handle_text(t0, r#"{"op":"typing_start","d":{"channel_id":"1"}}"#);
        assert_eq!(closed_with(&drain(&mut c)), Some(CloseCode::InvalidFrame));
        let mut c = identified(t0, &cfg);
        c.handle_text(t0, r#"{"op":"identify","d":{"token":"t"}}"#);
        assert_eq!(closed_with(&drain(&mut c)), Some(CloseCode::InvalidFrame));
        let mut c = Connection::new(t0, &cfg);
        c.handle_text(t0, "not json");
        assert_eq!(closed_with(&drain(&mut c)), Some(CloseCode::InvalidFrame));
        let mut c = Connection::new(t0, &cfg);
        c.handle_binary();
        assert_eq!(closed_with(&drain(&mut c)), Some(CloseCode::InvalidFrame));
        c.handle_text(t0, r#"{"op":"heartbeat"}"#);
        assert!(drain(&mut c).is_empty(), "nothing after close");
    }

    #[test]
    fn heartbeats_are_acked_and_their_absence_closes_4009() {
        let t0 = Instant::now();
        let cfg = Arc::new(GatewayConfig::default());
        let mut c = identified(t0, &cfg);
        assert_eq!(c.poll_timeout(), t0 + Duration::from_secs(45));
        let t1 = t0 + Duration::from_secs(30);
        c.handle_timeout(t1);
        c.handle_text(t1, r#"{"op":"heartbeat","d":{"seq":5}}"#);
        let a = drain(&mut c);
        assert!(matches!(a[0], Action::Ack(5)));
        assert_eq!(sent(&a)[0]["op"], "heartbeat_ack");
        assert_eq!(c.poll_timeout(), t1 + Duration::from_secs(45));
        c.handle_timeout(t1 + Duration::from_secs(44));
        assert!(drain(&mut c).is_empty());
        c.handle_timeout(t1 + Duration::from_secs(45));
        assert_eq!(
            closed_with(&drain(&mut c)),
            Some(CloseCode::HeartbeatTimeout)
        );
    }

    #[test]
    fn not_identifying_in_time_closes_4003() {
        let t0 = Instant::now();
        let cfg = Arc::new(GatewayConfig::default());
        let mut c = Connection::new(t0, &cfg);
        drain(&mut c);
        c.handle_timeout(t0 + Duration::from_secs(19));
        assert!(drain(&mut c).is_empty());
        c.handle_timeout(t0 + Duration::from_secs(20));
        assert_eq!(
            closed_with(&drain(&mut c)),
            Some(CloseCode::IdentifyTimeout)
        );
    }

    #[test]
    fn resume_is_forwarded_and_refusal_allows_identify() {
        let t0 = Instant::now();
        let cfg = Arc::new(GatewayConfig::default());
        let mut c = Connection::new(t0, &cfg);
        drain(&mut c);
        c.handle_text(
            t0,
            r#"{"op":"resume","d":{"token":"t","session_id":"s1","seq":9}}"#,
        );
        let a = drain(&mut c);
        assert!(
            matches!(&a[..], [Action::Resume { session_id, seq: 9, .. }] if session_id == "s1")
        );
        c.resume_refused(t0);
        assert_eq!(sent(&drain(&mut c))[0]["op"], "invalid_session");
        c.handle_text(t0, r#"{"op":"identify","d":{"token":"t"}}"#);
        assert!(matches!(&drain(&mut c)[..], [Action::Identify { .. }]));
    }

    #[test]
    fn flooding_closes_4008() {
        let t0 = Instant::now();
        let cfg = Arc::new(GatewayConfig::default());
        let mut c = identified(t0, &cfg);
        for i in 0..119 {
            c.handle_text(t0 + Duration::from_millis(i), r#"{"op":"heartbeat"}"#);
        }
        assert_eq!(closed_with(&drain(&mut c)), None);
        c.handle_text(t0 + Duration::from_millis(200), r#"{"op":"heartbeat"}"#);
        assert_eq!(closed_with(&drain(&mut c)), Some(CloseCode::RateLimited));
    }

    #[test]
    fn pings_count_toward_the_frame_budget() {
        let t0 = Instant::now();
        let cfg = Arc::new(GatewayConfig::default());
        let mut c = identified(t0, &cfg);
        // With the identify: 1 + 59 + 60 = 120, the budget.
        for i in 0..60 {
            if i > 0 {
                assert!(c.handle_control(t0 + Duration::from_millis(i)));
            }
            c.handle_text(t0 + Duration::from_millis(i), r#"{"op":"heartbeat"}"#);
        }
        assert_eq!(closed_with(&drain(&mut c)), None);
        assert!(!c.handle_control(t0 + Duration::from_millis(200)));
        assert_eq!(closed_with(&drain(&mut c)), Some(CloseCode::RateLimited));
        assert!(
            !c.handle_control(t0 + Duration::from_millis(201)),
            "no pong once closing"
        );
    }

    #[test]
    fn a_steady_rate_under_the_limit_is_fine() {
        let t0 = Instant::now();
        let cfg = Arc::new(GatewayConfig::default());
        let mut c = identified(t0, &cfg);
        // One frame a second for ten minutes: 60 per minute.
        for i in 0..600 {
            c.handle_text(t0 + Duration::from_secs(i), r#"{"op":"heartbeat"}"#);
        }
        assert_eq!(closed_with(&drain(&mut c)), None);
    }

    #[test]
    fn sends_have_their_own_budget() {
        let t0 = Instant::now();
        let cfg = Arc::new(GatewayConfig {
            max_sends: 5,
            ..GatewayConfig::default()
        });
        let send = r#"{"op":"message_create","d":{"channel_id":"1","content":"hi","nonce":"n"}}"#;
        let mut c = Connection::new(t0, &cfg);
        drain(&mut c);
        c.handle_text(t0, send);
        assert_eq!(
            closed_with(&drain(&mut c)),
            Some(CloseCode::InvalidFrame),
            "no sends before identify"
        );
        let mut c = identified(t0, &cfg);
        for _ in 0..5 {
            c.handle_text(t0, send);
        }
        let a = drain(&mut c);
        assert_eq!(a.len(), 5);
        assert!(
            a.iter().all(
                |a| matches!(a, Action::SendMessage(m) if m.nonce == "n" && m.channel_id == "1")
            )
        );
        // Heartbeats still pass: sends do not use the frame budget.
        for _ in 0..100 {
            c.handle_text(t0, r#"{"op":"heartbeat"}"#);
        }
        assert_eq!(closed_with(&drain(&mut c)), None);
        // Malformed send data is refused, not fatal, with its nonce when it has one.
        c.handle_text(
            t0,
            r#"{"op":"message_create","d":{"content":"no channel"}}"#,
        );
        let a = drain(&mut c);
        assert_eq!(sent(&a)[0]["d"]["code"], "validation_failed");
        c.handle_text(
            t0,
            r#"{"op":"message_create","d":{"channel_id":1,"content":"x","nonce":"e7"}}"#,
        );
        let refused = &sent(&drain(&mut c))[0]["d"];
        assert_eq!(refused["nonce"], "e7");
        assert_eq!(refused["fields"]["channel_id"]["code"], "invalid_type");
        assert!(!c.is_closed());
        c.handle_text(t0, send);
        assert_eq!(closed_with(&drain(&mut c)), Some(CloseCode::RateLimited));
    }

    #[test]
    fn presence_is_validated() {
        let t0 = Instant::now();
        let cfg = Arc::new(GatewayConfig::default());
        let mut c = identified(t0, &cfg);
        c.handle_text(
            t0,
            r#"{"op":"presence_update","d":{"status":"idle","custom_status":{"text":"afk"}}}"#,
        );
        assert!(matches!(&drain(&mut c)[..], [Action::Presence(_)]));
        let long = "x".repeat(129);
        c.handle_text(t0, &format!(r#"{{"op":"presence_update","d":{{"status":"dnd","custom_status":{{"text":"{long}"}}}}}}"#));
        let a = drain(&mut c);
        assert_eq!(sent(&a)[0]["op"], "error");
        assert_eq!(sent(&a)[0]["d"]["code"], "validation_failed");
        c.handle_text(t0, r#"{"op":"presence_update","d":{"status":"offline"}}"#);
        assert_eq!(sent(&drain(&mut c))[0]["op"], "error");
        c.handle_text(t0, r#"{"op":"presence_update","d":{"status":"sleepy"}}"#);
        assert_eq!(
            sent(&drain(&mut c))[0]["op"],
            "error",
            "bad data for an optional op is not fatal"
        );
        assert!(!c.is_closed());
    }
}
