//! The gateway's frames (see `docs/gateway.md`, which must stay in sync with this module).
//!
//! Client frames are parsed from `{"op", "d"}` envelopes into [`ClientFrame`]. Server frames
//! are written by [`ServerFrame::encode`]; event frames are special: their JSON is made once
//! per event by [`EncodedEvent`] and only the sequence number differs per session.

use papo_core::id::UserId;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

mod event;
mod parse;
mod refusal;

pub use event::{EncodedEvent, EventKind, SharedEvent};
pub use refusal::message_create_refusal;

/// Close codes of the gateway (WebSocket close frame codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseCode {
    /// 4001: bad token, or the session's login was revoked.
    AuthenticationFailed,
    /// 4002: not JSON, unknown op, wrong first op, binary, or larger than the frame limit.
    InvalidFrame,
    /// 4003: no `identify` or `resume` came in time (the token was not refused: connect again).
    IdentifyTimeout,
    /// 4008: too many frames or identify attempts.
    RateLimited,
    /// 4009: no heartbeat for 1.5 intervals.
    HeartbeatTimeout,
    /// 4010: the client did not read its events fast enough.
    SlowConsumer,
    /// 4011: too many connections from one address.
    TooManyConnections,
    /// 4012: another connection resumed this session.
    SessionReplaced,
    /// 1001: the server is shutting down.
    GoingAway,
    /// 1000: the client closed normally (1000/1001 from the client): the session ends.
    Normal,
    /// 1000 in reply to any other client close code: the session stays resumable.
    ClientDropped,
}

impl CloseCode {
    /// The numeric code.
    pub const fn code(self) -> u16 {
        match self {
            Self::AuthenticationFailed => 4001,
            Self::InvalidFrame => 4002,
            Self::IdentifyTimeout => 4003,
            Self::RateLimited => 4008,
            Self::HeartbeatTimeout => 4009,
            Self::SlowConsumer => 4010,
            Self::TooManyConnections => 4011,
            Self::SessionReplaced => 4012,
            Self::GoingAway => 1001,
            Self::Normal | Self::ClientDropped => 1000,
        }
    }

    /// Whether the session may be resumed after this close.
    pub const fn resumable(self) -> bool {
        matches!(
            self,
            Self::RateLimited
                | Self::HeartbeatTimeout
                | Self::SlowConsumer
                | Self::GoingAway
                | Self::ClientDropped
        )
    }

    /// The close reason text.
    pub const fn reason(self) -> &'static str {
        match self {
            Self::AuthenticationFailed => "authentication failed",
            Self::InvalidFrame => "invalid frame",
            Self::IdentifyTimeout => "not identified in time",
            Self::RateLimited => "rate limited",
            Self::HeartbeatTimeout => "heartbeat timeout",
            Self::SlowConsumer => "slow consumer",
            Self::TooManyConnections => "too many connections",
            Self::SessionReplaced => "session resumed elsewhere",
            Self::GoingAway => "server going away",
            Self::Normal | Self::ClientDropped => "bye",
        }
    }
}

pub use papo_core::presence::{CustomStatus, Status};

/// `identify` data.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identify {
    /// Access token.
    pub token: String,
}

/// `resume` data.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resume {
    /// Access token.
    pub token: String,
    /// From `ready`.
    pub session_id: String,
    /// The last `s` the client processed.
    pub seq: u64,
}

/// `heartbeat` data.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    /// The last `s` the client processed; the server may forget events up to it.
    #[serde(default)]
    pub seq: Option<u64>,
}

/// `presence_update` data.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresenceUpdate {
    /// New status.
    pub status: Status,
    /// Absent: keep the custom status; `null`: clear it; an object: set it.
    #[serde(default, deserialize_with = "papo_core::settings::patch_field")]
    pub custom_status: Option<Option<CustomStatus>>,
}

/// `typing_start` data.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypingStart {
    /// The channel.
    pub channel_id: String,
}

/// `message_create` data: a message sent over the socket, with the rules of
/// `POST /api/v1/channels/{id}/messages`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageCreate {
    /// The text channel.
    pub channel_id: String,
    /// 1–4000 characters, markdown.
    pub content: String,
    /// 1–64 characters, required here: the answer (`message_ack` or `error`) carries it back,
    /// and a repeated nonce answers with the first message.
    pub nonce: String,
    /// A message of the same channel.
    #[serde(default)]
    pub reply_to: Option<String>,
}

/// A frame from the client.
#[derive(Debug)]
pub enum ClientFrame {
    /// Start a session.
    Identify(Identify),
    /// Continue a session.
    Resume(Resume),
    /// Keep-alive.
    Heartbeat(Heartbeat),
    /// Set presence.
    PresenceUpdate(PresenceUpdate),
    /// Typing indicator.
    TypingStart(TypingStart),
    /// Send a message.
    MessageCreate(MessageCreate),
}

/// Why a client frame was not understood.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// Not a JSON object with an `op`.
    #[error("not a gateway frame: {0}")]
    Malformed(String),
    /// `op` names no client operation.
    #[error("unknown op {0:?}")]
    UnknownOp(String),
    /// `d` has the wrong shape for the op.
    #[error("invalid data for {op}: {error}")]
    InvalidData {
        /// The op.
        op: &'static str,
        /// Why.
        error: String,
    },
}

/// JSON text this crate wrote itself, spliced into frames as it is: not parsed again to check
/// it (`RawValue::from_string` on `ready`'s presences took nearly three times the
/// instructions of writing them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnJson(String);

impl OwnJson {
    /// `text` must be valid JSON: only a writer of its own JSON builds one (this crate's, the
    /// server's `ready` servers, account and read states), never with text from outside.
    pub fn new_unchecked(text: String) -> Self {
        Self(text)
    }

    /// The text.
    pub fn get(&self) -> &str {
        &self.0
    }
}

/// What `ready` carries besides the session id.
#[derive(Debug, Clone)]
pub struct ReadyData {
    /// The user, pre-serialized (`CurrentUser` JSON).
    pub user: OwnJson,
    /// Presences visible to the user, pre-serialized (a JSON array).
    pub presences: OwnJson,
    /// The user's servers with their channels, pre-serialized (a JSON array).
    pub servers: OwnJson,
    /// How far the user has read each channel, pre-serialized (a JSON array).
    pub read_states: OwnJson,
}

/// A frame from the server other than an event.
#[derive(Debug)]
pub enum ServerFrame<'a> {
    /// First frame.
    Hello {
        /// Heartbeat interval.
        heartbeat_interval_ms: u64,
    },
    /// Identified.
    Ready {
        /// Gateway session id (for resume).
        session_id: &'a str,
        /// Payload.
        data: &'a ReadyData,
        /// Resume window.
        resume_window_ms: u64,
    },
    /// Answer to heartbeat.
    HeartbeatAck,
    /// Resume finished.
    Resumed {
        /// Events replayed.
        replayed: u64,
        /// Presences visible to the user now, as in `ready` (presence changes are volatile:
        /// they are not replayed).
        presences: &'a OwnJson,
    },
    /// Identify again.
    InvalidSession,
    /// An op was refused; the socket stays open.
    Error {
        /// Error code (shared with REST).
        code: &'a str,
        /// Human text.
        message: &'a str,
    },
    /// A `message_create` was committed.
    MessageAck {
        /// The client's nonce.
        nonce: &'a str,
        /// The answer.
        created: bool,
        /// The message JSON.
        message: &'a str,
    },
    /// A `message_create` was refused: an `error` frame with the REST error body and the nonce.
    SendRefused {
        /// The client's nonce.
        nonce: &'a str,
        /// The REST error body (a JSON object).
        error: &'a RawValue,
    },
}

impl ServerFrame<'_> {
    /// The frame's JSON text.
    pub fn encode(&self) -> String {
        match self {
            Self::Hello {
                heartbeat_interval_ms,
            } => format!(
                r#"{{"op":"hello","d":{{"heartbeat_interval_ms":{heartbeat_interval_ms}}}}}"#
            ),
            Self::Ready {
                session_id,
                data,
                resume_window_ms,
            } => {
                // Every part counted: a `String` grown by `write!` copies what it holds, and
                // the presences alone can be tens of kilobytes.
                let parts = [
                    session_id.len(),
                    data.user.get().len(),
                    data.servers.get().len(),
                    data.presences.get().len(),
                    data.read_states.get().len(),
                ];
                let mut s = String::with_capacity(160 + parts.iter().sum::<usize>());
                // Pieces appended, not `write!`: its formatting machinery was half of this.
                s.push_str(r#"{"op":"ready","d":{"session_id":"#);
                push_json_str(&mut s, session_id);
                s.push_str(r#","user":"#);
                s.push_str(data.user.get());
                s.push_str(r#","servers":"#);
                s.push_str(data.servers.get());
                s.push_str(r#","presences":"#);
                s.push_str(data.presences.get());
                s.push_str(r#","read_states":"#);
                s.push_str(data.read_states.get());
                s.push_str(r#","resume_window_ms":"#);
                s.push_str(itoa::Buffer::new().format(*resume_window_ms));
                s.push_str("}}");
                s
            }
            Self::HeartbeatAck => r#"{"op":"heartbeat_ack","d":null}"#.to_owned(),
            Self::Resumed {
                replayed,
                presences,
            } => format!(
                r#"{{"op":"resumed","d":{{"replayed":{replayed},"presences":{}}}}}"#,
                presences.get()
            ),
            Self::InvalidSession => {
                r#"{"op":"invalid_session","d":{"resumable":false}}"#.to_owned()
            }
            Self::Error { code, message } => format!(
                r#"{{"op":"error","d":{{"code":{},"message":{}}}}}"#,
                json_str(code),
                json_str(message)
            ),
            Self::MessageAck {
                nonce,
                created,
                message,
            } => {
                // Pieces appended, as `ready`: `format!` was most of an acknowledgement's cost.
                let mut s = String::with_capacity(64 + nonce.len() + message.len());
                s.push_str(r#"{"op":"message_ack","d":{"nonce":"#);
                push_json_str(&mut s, nonce);
                s.push_str(if *created {
                    r#","created":true,"message":"#
                } else {
                    r#","created":false,"message":"#
                });
                s.push_str(message);
                s.push_str("}}");
                s
            }
            Self::SendRefused { nonce, error } => {
                // The body's members follow the nonce in the same object.
                let body = error.get().trim();
                let members = body.strip_prefix('{').unwrap_or("}").trim_start();
                let sep = if members.starts_with('}') { "" } else { "," };
                format!(
                    r#"{{"op":"error","d":{{"nonce":{}{sep}{members}}}"#,
                    json_str(nonce)
                )
            }
        }
    }
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// Appends `s` to `out` as a JSON string, byte for byte as serde_json writes it: text with
/// nothing to escape (no `"`, `\\` or control character) is copied whole.
pub fn push_json_str(out: &mut String, s: &str) {
    if !needs_escape(s.as_bytes()) {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&json_str(s));
    }
}

/// Whether `bytes` holds a byte JSON escapes: `"`, `\\` or a control character (below 0x20).
pub(crate) fn needs_escape(bytes: &[u8]) -> bool {
    first_escaped(bytes).is_some()
}

/// Where the first byte JSON escapes stands in `bytes` (`"`, `\\` or a control character).
///
/// Eight bytes at a time: for a word `v`, `(v - n·0x01…01) & !v & 0x80…80` is non-zero
/// exactly when some byte of `v` is below `n` (for `n` ≤ 128: a byte below `n` borrows and
/// keeps its top bit clear in `v`; without such a byte nothing borrows, and a byte whose
/// difference has its top bit set was already ≥ 0x80 in `v`). A byte equal to `c` is a zero
/// byte of `v ^ c·0x01…01`. A borrow only runs upwards, so the lowest byte flagged is a
/// true one: read little-endian, it is the first in `bytes`. A message's text, its author's
/// name and its timestamp go through here on every send; byte by byte this was about 2,000
/// instructions a message (`bench/callgrind`, quick S4).
pub(crate) fn first_escaped(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const TOPS: u64 = u64::from_ne_bytes([0x80; 8]);
    let below = |v: u64, n: u8| v.wrapping_sub(ONES * u64::from(n)) & !v & TOPS;
    let mut words = bytes.chunks_exact(8);
    let mut at = 0;
    for word in &mut words {
        let v = u64::from_le_bytes(word.try_into().expect("chunks of eight"));
        let found = below(v, 0x20)
            | below(v ^ (ONES * u64::from(b'"')), 1)
            | below(v ^ (ONES * u64::from(b'\\')), 1);
        if found != 0 {
            return Some(at + found.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&b| b < 0x20 || b == b'"' || b == b'\\')
        .map(|i| at + i)
}

/// A user's presence as others see it (the `presence.updated` payload).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceView {
    /// The user.
    pub user_id: UserId,
    /// Aggregated status (`invisible` shows as `offline` to others).
    pub status: Status,
    /// Custom status, if any.
    pub custom_status: Option<CustomStatus>,
}

impl PresenceView {
    /// Appends the JSON serde writes for this view. A `ready` holds one per online
    /// room-mate, and serde escaped every key and digit of each, character by character:
    /// a quarter of the server's instructions in a quick S3 run (one room of 500 filling
    /// up). Only the custom status, free text, still goes through serde.
    pub fn write_json(&self, out: &mut String) {
        out.push_str(r#"{"user_id":""#);
        out.push_str(itoa::Buffer::new().format(self.user_id.as_i64()));
        out.push_str(r#"","status":""#);
        out.push_str(self.status.as_str());
        out.push_str(r#"","custom_status":"#);
        // A struct of strings always serializes; `null` only when there is none.
        match self
            .custom_status
            .as_ref()
            .and_then(|c| serde_json::to_string(c).ok())
        {
            Some(custom) => out.push_str(&custom),
            None => out.push_str("null"),
        }
        out.push('}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_written_as_serde_writes_them() {
        for text in [
            "",
            "plain",
            "aula às 18h 📚",
            "quote \" and \\ back",
            "line\nbreak\ttab\r",
            "\u{0}\u{1f}\u{7f} / </script>",
        ] {
            let mut ours = String::from("[");
            push_json_str(&mut ours, text);
            let serde = serde_json::to_string(&[text]).unwrap();
            assert_eq!(ours + "]", serde);
        }
    }

    #[test]
    fn the_escape_check_finds_the_first_byte_that_needs_escaping_wherever_it_stands() {
        use rand::Rng;
        let slow = |b: &[u8]| b.iter().position(|&c| c < 0x20 || c == b'"' || c == b'\\');
        // Each byte value at each place of a text long enough for two words and a rest, in a
        // background of plain ASCII and of bytes with their top bit set (UTF-8 beyond ASCII).
        for background in [b'a', 0x80, 0xff, b'!', b'#', b'[', b']'] {
            for len in 0..20 {
                for at in 0..len {
                    for byte in 0..=255u8 {
                        let mut text = vec![background; len];
                        text[at] = byte;
                        assert_eq!(first_escaped(&text), slow(&text), "{text:?}");
                        assert_eq!(needs_escape(&text), slow(&text).is_some());
                    }
                }
            }
        }
        let mut rng = rand::thread_rng();
        for _ in 0..20_000 {
            let len = rng.gen_range(0..40);
            let text: Vec<u8> = (0..len).map(|_| rng.r#gen()).collect();
            assert_eq!(first_escaped(&text), slow(&text), "{text:?}");
        }
    }

    #[test]
    fn a_presence_is_written_as_serde_writes_it() {
        let custom = |text: &str, emoji: Option<&str>, expires_at: Option<&str>| CustomStatus {
            text: text.into(),
            emoji: emoji.map(Into::into),
            expires_at: expires_at.map(Into::into),
        };
        let statuses = [
            Status::Invisible,
            Status::Idle,
            Status::Dnd,
            Status::Online,
            Status::Offline,
        ];
        let customs = [
            None,
            Some(custom("", None, None)),
            Some(custom(
                "em \"aula\" \\ até 18h\n\u{1}",
                Some("📚"),
                Some("2026-12-02T18:00:00Z"),
            )),
        ];
        for (i, status) in statuses.into_iter().enumerate() {
            for (user, custom_status) in [1, 9, 10, 7_300_000_000_001, i64::MAX]
                .into_iter()
                .zip(customs.iter().cycle().skip(i))
            {
                let view = PresenceView {
                    user_id: UserId::from_i64(user),
                    status,
                    custom_status: custom_status.clone(),
                };
                let mut ours = String::new();
                view.write_json(&mut ours);
                assert_eq!(ours, serde_json::to_string(&view).unwrap());
                let back: PresenceView = serde_json::from_str(&ours).unwrap();
                assert_eq!(back, view);
            }
        }
    }

    #[test]
    fn parses_client_frames() {
        assert!(matches!(
            ClientFrame::parse(r#"{"op":"identify","d":{"token":"t"}}"#).unwrap(),
            ClientFrame::Identify(Identify { token }) if token == "t"
        ));
        assert!(matches!(
            ClientFrame::parse(r#"{"op":"heartbeat"}"#).unwrap(),
            ClientFrame::Heartbeat(Heartbeat { seq: None })
        ));
        assert!(matches!(
            ClientFrame::parse(r#"{"op":"heartbeat","d":null}"#).unwrap(),
            ClientFrame::Heartbeat(Heartbeat { seq: None })
        ));
        assert!(matches!(
            ClientFrame::parse(r#"{"op":"heartbeat","d":{"seq":7}}"#).unwrap(),
            ClientFrame::Heartbeat(Heartbeat { seq: Some(7) })
        ));
        assert!(matches!(
            ClientFrame::parse(r#"{"op":"resume","d":{"token":"t","session_id":"s","seq":3}}"#)
                .unwrap(),
            ClientFrame::Resume(Resume { seq: 3, .. })
        ));
        let p = ClientFrame::parse(
            r#"{"op":"presence_update","d":{"status":"dnd","custom_status":{"text":"busy"}}}"#,
        )
        .unwrap();
        assert!(matches!(
            p,
            ClientFrame::PresenceUpdate(PresenceUpdate {
                status: Status::Dnd,
                custom_status: Some(_)
            })
        ));
        assert!(matches!(
            ClientFrame::parse("nope"),
            Err(FrameError::Malformed(_))
        ));
        assert!(matches!(
            ClientFrame::parse(r#"{"op":"fly"}"#),
            Err(FrameError::UnknownOp(_))
        ));
        assert!(matches!(
            ClientFrame::parse(r#"{"op":"identify","d":{}}"#),
            Err(FrameError::InvalidData { .. })
        ));
        assert!(matches!(
            ClientFrame::parse(r#"{"op":"presence_update","d":{"status":"offline2"}}"#),
            Err(FrameError::InvalidData { .. })
        ));
    }

    #[test]
    fn server_frames_are_json() {
        let data = ReadyData {
            user: OwnJson::new_unchecked(r#"{"id":"1"}"#.into()),
            presences: OwnJson::new_unchecked("[]".into()),
            servers: OwnJson::new_unchecked("[]".into()),
            read_states: OwnJson::new_unchecked("[]".into()),
        };
        for f in [
            ServerFrame::Hello {
                heartbeat_interval_ms: 30_000,
            },
            ServerFrame::Ready {
                session_id: "abc",
                data: &data,
                resume_window_ms: 1,
            },
            ServerFrame::HeartbeatAck,
            ServerFrame::Resumed {
                replayed: 2,
                presences: &data.presences,
            },
            ServerFrame::InvalidSession,
            ServerFrame::Error {
                code: "x\"y",
                message: "m",
            },
        ] {
            let v: serde_json::Value = serde_json::from_str(&f.encode()).unwrap();
            assert!(v["op"].is_string());
        }
        let ready = ServerFrame::Ready {
            session_id: "a\"b",
            data: &data,
            resume_window_ms: 120_000,
        };
        assert_eq!(
            ready.encode(),
            r#"{"op":"ready","d":{"session_id":"a\"b","user":{"id":"1"},"servers":[],"presences":[],"read_states":[],"resume_window_ms":120000}}"#
        );
    }

    #[test]
    fn message_answers_carry_the_nonce() {
        let ack = ServerFrame::MessageAck {
            nonce: "n\"1",
            created: true,
            message: r#"{"id":"9","content":"hi"}"#,
        };
        let v: serde_json::Value = serde_json::from_str(&ack.encode()).unwrap();
        assert_eq!(v["op"], "message_ack");
        assert_eq!(v["d"]["nonce"], "n\"1");
        assert_eq!(v["d"]["created"], true);
        assert_eq!(v["d"]["message"]["content"], "hi");
        let repeated = ServerFrame::MessageAck {
            nonce: "n\t2",
            created: false,
            message: r#"{"id":"8"}"#,
        };
        assert_eq!(
            repeated.encode(),
            r#"{"op":"message_ack","d":{"nonce":"n\t2","created":false,"message":{"id":"8"}}}"#
        );
        for (body, code) in [
            (
                r#" {"code":"rate_limited","retry_after":2} "#,
                Some("rate_limited"),
            ),
            ("{}", None),
            ("{ }", None),
        ] {
            let error = RawValue::from_string(body.into()).unwrap();
            let f = ServerFrame::SendRefused {
                nonce: "n",
                error: &error,
            };
            let v: serde_json::Value = serde_json::from_str(&f.encode()).unwrap();
            assert_eq!(v["op"], "error");
            assert_eq!(v["d"]["nonce"], "n");
            assert_eq!(v["d"]["code"].as_str(), code);
        }
        let m = ClientFrame::parse(
            r#"{"op":"message_create","d":{"channel_id":"1","content":"x","nonce":"a"}}"#,
        )
        .unwrap();
        assert!(matches!(
            m,
            ClientFrame::MessageCreate(MessageCreate { reply_to: None, .. })
        ));
        assert!(matches!(
            ClientFrame::parse(r#"{"op":"message_create","d":{"channel_id":"1","content":"x"}}"#),
            Err(FrameError::InvalidData {
                op: "message_create",
                ..
            })
        ));
    }

    #[test]
    fn presence_ranks() {
        assert!(Status::Online.rank() > Status::Dnd.rank());
        assert!(Status::Dnd.rank() > Status::Idle.rank());
        assert!(Status::Idle.rank() > Status::Invisible.rank());
        assert!(Status::Invisible.rank() > Status::Offline.rank());
    }
}
