//! The wire protocols of the systems compared, as the load generator speaks them: how a
//! member connects and identifies, what a delivery looks like, how a message is sent and
//! acknowledged.
//!
//! - **papo**: `GET /api/v1/gateway` offering the subprotocols `papo.v1` and
//!   `papo.token.<token>`, as the web app does, answered by `hello` and `ready` together (no
//!   `identify` frame: docs/gateway.md, *Identifying in the upgrade*); deliveries are
//!   `message.created` events; heartbeats carry the last sequence number (as the web app's);
//!   messages are sent as `message_create` on the author's own socket, answered by
//!   `message_ack` after commit (or, with `--papo-send rest`, with
//!   `POST /api/v1/channels/{id}/messages`).
//! - **socketio**: Engine.IO 4 over a WebSocket: `0{…}` open packet → `40{auth}` → `40{sid}`;
//!   pings `2` answered with `3`; deliveries are `42["message",{…}]`; sends are
//!   `42<ack>["send",{room,content}]` answered by `43<ack>[…]`.
//! - **channels**: `ws/chat/?user=…&room=…`, JSON frames; deliveries are
//!   `{"type":"message",…}`; sends are `{"type":"send",room,content,ack}` answered by
//!   `{"type":"ack","ack":…}`.

use std::net::{IpAddr, SocketAddr};
use std::sync::LazyLock;

use anyhow::Context;
use memchr::memmem::Finder;
use serde::{Deserialize, Serialize};

use crate::net::ws::{Ws, find};

/// The systems `compare` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum System {
    /// Papo itself (SQLite unless the scenario says otherwise).
    Papo,
    /// Socket.IO 4 on Node.
    Socketio,
    /// Django Channels 4 under Daphne, in-memory channel layer.
    Channels,
    /// Django Channels 4 under Daphne, Redis channel layer (`channels-redis`).
    ChannelsRedis,
    /// The least a server can do here: a byte-level fan-out in papo-bench itself on the
    /// Channels wire, nothing checked, a preallocated log file for S4 (see `floor`).
    Floor,
}

impl System {
    /// The key in the JSON summary.
    pub fn key(self) -> &'static str {
        match self {
            Self::Papo => "papo",
            Self::Socketio => "socketio",
            Self::Channels => "channels",
            Self::ChannelsRedis => "channels_redis",
            Self::Floor => "floor",
        }
    }

    /// Which wire protocol it speaks.
    pub fn wire(self) -> Wire {
        match self {
            Self::Papo => Wire::Papo,
            Self::Socketio => Wire::SocketIo,
            Self::Channels | Self::ChannelsRedis | Self::Floor => Wire::Channels,
        }
    }
}

/// A wire protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Wire {
    /// Papo's gateway + REST.
    Papo,
    /// Engine.IO 4 / Socket.IO 4.
    SocketIo,
    /// Plain JSON frames (Django Channels).
    Channels,
}

/// Where workers find a running system.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Target {
    /// The protocol.
    pub wire: Wire,
    /// Its address.
    pub server: SocketAddr,
}

/// A room member: the room index and the credential (papo: access token; peers: user name).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MemberSpec {
    /// Room index.
    pub room: u32,
    /// Token or user name.
    pub cred: String,
}

/// A room a worker sends to.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SenderRoom {
    /// Room index.
    pub room: u32,
    /// Papo: the channel id; peers: the room name.
    pub address: String,
    /// Papo: the members' tokens, used in turn as authors; peers: unused.
    pub creds: Vec<String>,
}

/// The room name the peers use for room `i` (letters and digits: valid Channels groups).
pub fn room_name(i: u32) -> String {
    format!("r{i}")
}

/// Searches made for every session or every delivery, built once (`memmem::find` builds
/// its searcher on every call).
static READY: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(br#""op":"ready""#));
static INVALID_SESSION: LazyLock<Finder<'static>> =
    LazyLock::new(|| Finder::new(br#""op":"invalid_session""#));
static PAYLOAD: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"pb:"));
static EVENT_SEQ: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(br#""s":"#));

/// Opens a member's connection and identifies it; returns the socket ready for events.
/// Without `announce`, a peer's member joins its room without a presence announcement
/// (papo decides that itself: no presence pushes in large servers).
pub async fn connect_member(
    target: &Target,
    source: Option<IpAddr>,
    member: &MemberSpec,
    announce: bool,
) -> anyhow::Result<Ws> {
    match target.wire {
        Wire::Papo => {
            let offer = format!("papo.v1, papo.token.{}", member.cred);
            let path = "/api/v1/gateway";
            let mut ws = Ws::connect_offering(source, target.server, path, Some(&offer)).await?;
            // `hello` comes first, in the same write.
            ws.wait_for(|t| {
                [&*READY, &*INVALID_SESSION]
                    .iter()
                    .any(|f| f.find(t).is_some())
            })
            .await
            .context("ready")?;
            Ok(ws)
        }
        Wire::SocketIo => {
            let mut ws = Ws::connect(
                source,
                target.server,
                "/socket.io/?EIO=4&transport=websocket",
            )
            .await?;
            ws.wait_for(|t| t.starts_with(b"0{"))
                .await
                .context("engine.io open")?;
            let auth = format!(
                r#"40{{"user":"{}","room":"{}","presence":{announce}}}"#,
                member.cred,
                room_name(member.room)
            );
            ws.send_text(auth.as_bytes()).await?;
            ws.wait_for(|t| t.starts_with(b"40") || t.starts_with(b"44"))
                .await
                .context("socket.io connect")?;
            Ok(ws)
        }
        Wire::Channels => {
            let path = format!(
                "/ws/chat/?user={}&room={}&presence={}",
                member.cred,
                room_name(member.room),
                u8::from(announce)
            );
            Ws::connect(source, target.server, &path).await
        }
    }
}

/// Opens a sender connection for the peers (it joins no room).
pub async fn connect_sender(
    target: &Target,
    source: Option<IpAddr>,
    name: &str,
) -> anyhow::Result<Ws> {
    match target.wire {
        Wire::Papo => anyhow::bail!("papo sends on its members' own sockets or over REST"),
        Wire::SocketIo => {
            let mut ws = Ws::connect(
                source,
                target.server,
                "/socket.io/?EIO=4&transport=websocket",
            )
            .await?;
            ws.wait_for(|t| t.starts_with(b"0{")).await?;
            ws.send_text(format!(r#"40{{"user":"{name}","room":""}}"#).as_bytes())
                .await?;
            ws.wait_for(|t| t.starts_with(b"40")).await?;
            Ok(ws)
        }
        Wire::Channels => {
            Ws::connect(
                source,
                target.server,
                &format!("/ws/chat/?user={name}&room="),
            )
            .await
        }
    }
}

/// A peer's send frame for `content` to room `address` with acknowledgement id `ack`.
pub fn send_frame(wire: Wire, address: &str, content: &str, ack: u64) -> String {
    match wire {
        Wire::SocketIo => {
            format!(r#"42{ack}["send",{{"room":"{address}","content":"{content}"}}]"#)
        }
        _ => format!(r#"{{"type":"send","room":"{address}","content":"{content}","ack":{ack}}}"#),
    }
}

/// The acknowledgement id in a peer's frame, if it is an acknowledgement.
pub fn parse_ack(wire: Wire, frame: &[u8]) -> Option<u64> {
    match wire {
        Wire::SocketIo => {
            let rest = frame.strip_prefix(b"43")?;
            let end = rest.iter().position(|b| !b.is_ascii_digit())?;
            std::str::from_utf8(&rest[..end]).ok()?.parse().ok()
        }
        // Python's json.dumps writes `"key": value` (with a space).
        _ => {
            let kind = value_after(frame, br#""type""#)?;
            if !kind.starts_with(br#""ack""#) {
                return None;
            }
            number_after(frame, br#""ack""#)
        }
    }
}

/// What follows `"key"` and its colon (spaces skipped) in `frame`: the first occurrence of
/// `"key"` that is a key (the same text may appear as a value first, as in
/// `{"type":"ack","ack":3}`).
fn value_after<'a>(frame: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let mut from = 0;
    loop {
        let mut at = from + find(&frame[from..], key)? + key.len();
        from = at;
        while frame.get(at) == Some(&b' ') {
            at += 1;
        }
        if frame.get(at) != Some(&b':') {
            continue;
        }
        at += 1;
        while frame.get(at) == Some(&b' ') {
            at += 1;
        }
        return Some(&frame[at..]);
    }
}

/// The unsigned number following `"key":` in `frame`; `key` is given with its quotes.
pub fn number_after(frame: &[u8], key: &[u8]) -> Option<u64> {
    digits_at(value_after(frame, key)?)
}

/// The sequence number of a papo event frame (`"s":`; papo never puts a space there).
pub fn event_seq(frame: &[u8]) -> Option<u64> {
    digits_at(&frame[EVENT_SEQ.find(frame)? + 4..])
}

/// The unsigned number at the start of `rest`.
fn digits_at(rest: &[u8]) -> Option<u64> {
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
}

/// The bench payload: `pb:<step>:<room>:<seq>:<due unix ns>`.
pub fn payload(step: usize, room: u32, seq: u64, due_ns: u64, author: u32) -> String {
    format!("pb:{step}:{room}:{seq}:{due_ns}:{author}")
}

/// A bench payload found in a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// The step it was sent in.
    pub step: usize,
    /// Its room.
    pub room: u32,
    /// Its place in the room's sequence of the step.
    pub seq: u64,
    /// When it was due (Unix ns).
    pub due_ns: u64,
    /// Which of the room's senders sent it (the same socket, in this worker, for the same
    /// number): messages of one author must arrive in their order whatever the server does
    /// with several authors' sends.
    pub author: u32,
}

/// The bench payload in a frame, if any.
pub fn find_payload(frame: &[u8]) -> Option<Stamp> {
    let at = PAYLOAD.find(frame)? + 4;
    let end = frame[at..].iter().position(|b| *b == b'"')? + at;
    let mut it = std::str::from_utf8(&frame[at..end]).ok()?.split(':');
    Some(Stamp {
        step: it.next()?.parse().ok()?,
        room: it.next()?.parse().ok()?,
        seq: it.next()?.parse().ok()?,
        due_ns: it.next()?.parse().ok()?,
        author: it.next()?.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_found_in_each_protocol() {
        let p = payload(3, 7, 42, 1_700_000_000_000_000_000, 2);
        let papo = format!(
            r#"{{"op":"event","t":"message.created","s":9,"d":{{"id":"1","content":"{p}"}}}}"#
        );
        let sio = format!(r#"42["message",{{"room":"r7","content":"{p}"}}]"#);
        let ch = format!(r#"{{"type":"message","room":"r7","content":"{p}"}}"#);
        for f in [papo, sio, ch] {
            assert_eq!(
                find_payload(f.as_bytes()),
                Some(Stamp {
                    step: 3,
                    room: 7,
                    seq: 42,
                    due_ns: 1_700_000_000_000_000_000,
                    author: 2
                })
            );
        }
        assert_eq!(find_payload(br#"{"content":"hello"}"#), None);
        assert_eq!(find_payload(br#"{"content":"pb:1:2:x:4:0"}"#), None);
        assert_eq!(
            find_payload(br#"{"content":"pb:1:2:3:4"}"#),
            None,
            "no author"
        );
        assert_eq!(number_after(br#"{"s": 123,"d":1}"#, br#""s""#), Some(123));
        assert_eq!(event_seq(br#"{"op":"event","s":123,"d":1}"#), Some(123));
        assert_eq!(event_seq(br#"{"op":"ready"}"#), None);
    }

    #[test]
    fn acks_are_recognised() {
        assert_eq!(parse_ack(Wire::SocketIo, br#"4317[{"id":5}]"#), Some(17));
        assert_eq!(parse_ack(Wire::SocketIo, br#"42["message",{}]"#), None);
        assert_eq!(
            parse_ack(Wire::Channels, br#"{"type":"ack","ack":8,"id":3}"#),
            Some(8)
        );
        assert_eq!(parse_ack(Wire::Channels, br#"{"type":"message"}"#), None);
        assert_eq!(
            parse_ack(Wire::Channels, br#"{"type": "ack", "ack": 12, "id": 3}"#),
            Some(12),
            "json.dumps spacing"
        );
        assert_eq!(
            parse_ack(Wire::Channels, br#"{"type": "message", "ack": 12}"#),
            None
        );
        assert_eq!(
            send_frame(Wire::SocketIo, "r1", "hi", 4),
            r#"424["send",{"room":"r1","content":"hi"}]"#
        );
    }
}
