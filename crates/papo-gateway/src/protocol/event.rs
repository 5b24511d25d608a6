//! Server events as they go on the wire: their names ([`EventKind`]) and their text, encoded
//! once per event and shared by every recipient ([`EncodedEvent`]).

use std::sync::Arc;

use serde::Serialize;

use super::json_str;

/// Names of server events (`t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// `user.updated`: the user's own profile or settings changed.
    UserUpdated,
    /// `presence.updated`: someone's aggregated presence changed.
    PresenceUpdated,
    /// `typing.started`: someone is typing in a channel.
    TypingStarted,
    /// `server.created`: the user created or joined a server.
    ServerCreated,
    /// `server.updated`: a server's settings changed.
    ServerUpdated,
    /// `server.deleted`: a server was deleted, or the user left or was removed.
    ServerDeleted,
    /// `channel.created`.
    ChannelCreated,
    /// `channel.updated`.
    ChannelUpdated,
    /// `channel.deleted`.
    ChannelDeleted,
    /// `member.joined`: someone joined a server.
    MemberJoined,
    /// `member.updated`: a member's nickname, roles or timeout changed.
    MemberUpdated,
    /// `member.removed`: a member left, was kicked or banned.
    MemberRemoved,
    /// `role.created`: a role was added.
    RoleCreated,
    /// `role.updated`: a role changed.
    RoleUpdated,
    /// `role.deleted`: a role was deleted.
    RoleDeleted,
    /// `message.created`: a message was sent.
    MessageCreated,
    /// `message.updated`: a message was edited, pinned or unpinned.
    MessageUpdated,
    /// `message.deleted`: a message was deleted.
    MessageDeleted,
    /// `message.bulk_deleted`: several messages were deleted at once.
    MessageBulkDeleted,
    /// `reaction.added`: someone reacted to a message.
    ReactionAdded,
    /// `reaction.removed`: someone took a reaction back.
    ReactionRemoved,
    /// `channel.pins_updated`: a channel's pins changed.
    ChannelPinsUpdated,
    /// `read_state.updated`: the user read a channel (from another session).
    ReadStateUpdated,
}

impl EventKind {
    /// Every event kind (for documentation checks).
    pub const ALL: &'static [EventKind] = &[
        Self::UserUpdated,
        Self::PresenceUpdated,
        Self::TypingStarted,
        Self::ServerCreated,
        Self::ServerUpdated,
        Self::ServerDeleted,
        Self::ChannelCreated,
        Self::ChannelUpdated,
        Self::ChannelDeleted,
        Self::MemberJoined,
        Self::MemberUpdated,
        Self::MemberRemoved,
        Self::RoleCreated,
        Self::RoleUpdated,
        Self::RoleDeleted,
        Self::MessageCreated,
        Self::MessageUpdated,
        Self::MessageDeleted,
        Self::MessageBulkDeleted,
        Self::ReactionAdded,
        Self::ReactionRemoved,
        Self::ChannelPinsUpdated,
        Self::ReadStateUpdated,
    ];

    /// The dotted name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::UserUpdated => "user.updated",
            Self::PresenceUpdated => "presence.updated",
            Self::TypingStarted => "typing.started",
            Self::ServerCreated => "server.created",
            Self::ServerUpdated => "server.updated",
            Self::ServerDeleted => "server.deleted",
            Self::ChannelCreated => "channel.created",
            Self::ChannelUpdated => "channel.updated",
            Self::ChannelDeleted => "channel.deleted",
            Self::MemberJoined => "member.joined",
            Self::MemberUpdated => "member.updated",
            Self::MemberRemoved => "member.removed",
            Self::RoleCreated => "role.created",
            Self::RoleUpdated => "role.updated",
            Self::RoleDeleted => "role.deleted",
            Self::MessageCreated => "message.created",
            Self::MessageUpdated => "message.updated",
            Self::MessageDeleted => "message.deleted",
            Self::MessageBulkDeleted => "message.bulk_deleted",
            Self::ReactionAdded => "reaction.added",
            Self::ReactionRemoved => "reaction.removed",
            Self::ChannelPinsUpdated => "channel.pins_updated",
            Self::ReadStateUpdated => "read_state.updated",
        }
    }
}

/// An event serialized once: `{"op":"event","t":…,"s":` | seq | `,"d":…}`. Every recipient
/// shares these bytes (cloning shares them); only the sequence number is written per session.
/// One allocation per event: it is what each recipient's replay queue holds until the client
/// acknowledges it.
#[derive(Clone, Debug)]
pub struct EncodedEvent {
    bytes: Arc<[u8]>,
}

/// An encoded event as queued for its recipients (a cheap clone of the shared bytes).
pub type SharedEvent = EncodedEvent;

/// What every event's text starts with, up to the name.
const EVENT_HEAD: &[u8] = br#"{"op":"event","t":"#;
/// What follows the name: the sequence number comes next.
const SEQ_KEY: &[u8] = br#","s":"#;

impl EncodedEvent {
    /// Serializes `data` under `kind`.
    pub fn new(kind: EventKind, data: &impl Serialize) -> Result<SharedEvent, serde_json::Error> {
        let d = serde_json::to_string(data)?;
        Ok(Self::from_json(kind.name(), &d))
    }

    /// Builds the event from an already-serialized `d` (e.g. received from another node).
    pub fn from_json(name: &str, d_json: &str) -> SharedEvent {
        let name = json_str(name);
        let mut bytes = Vec::with_capacity(
            EVENT_HEAD.len() + name.len() + SEQ_KEY.len() + 5 + d_json.len() + 1,
        );
        bytes.extend_from_slice(EVENT_HEAD);
        bytes.extend_from_slice(name.as_bytes());
        bytes.extend_from_slice(SEQ_KEY);
        bytes.extend_from_slice(b",\"d\":");
        bytes.extend_from_slice(d_json.as_bytes());
        bytes.push(b'}');
        Self {
            bytes: Arc::from(bytes),
        }
    }

    /// Where the sequence number goes: after the name, which is a JSON string and so cannot
    /// hold an unescaped `"` (the first `,"s":` after the head is the key).
    fn split(&self) -> usize {
        let from = EVENT_HEAD.len();
        self.bytes[from..]
            .windows(SEQ_KEY.len())
            .position(|w| w == SEQ_KEY)
            .map_or(self.bytes.len(), |i| from + i + SEQ_KEY.len())
    }

    /// Length of the frame text for sequence number `seq`.
    pub fn len_with_seq(&self, seq: u64) -> usize {
        self.bytes.len() + digits(seq)
    }

    /// Appends the frame text with `seq` to `out`.
    pub fn write_with_seq(&self, seq: u64, out: &mut Vec<u8>) {
        let split = self.split();
        out.extend_from_slice(&self.bytes[..split]);
        out.extend_from_slice(fmt_u64(seq, &mut [0u8; 20]));
        out.extend_from_slice(&self.bytes[split..]);
    }

    /// The serialized `d` and the event name, e.g. to forward to other nodes.
    pub fn parts(&self) -> (&str, &str) {
        let text = std::str::from_utf8(&self.bytes).unwrap_or_default();
        let split = self.split();
        let head = &text[..split];
        let name = head
            .strip_prefix(r#"{"op":"event","t":""#)
            .and_then(|r| r.split('"').next())
            .unwrap_or_default();
        let d = &text[split + 5..text.len() - 1];
        (name, d)
    }

    /// Heap bytes held.
    pub fn size(&self) -> usize {
        self.bytes.len()
    }
}

fn digits(mut n: u64) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

/// Formats `n` in decimal into `buf` without allocating.
fn fmt_u64(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_encoded_once_with_per_session_seq() {
        let ev =
            EncodedEvent::new(EventKind::UserUpdated, &serde_json::json!({"id": "1"})).unwrap();
        let mut out = Vec::new();
        ev.write_with_seq(42, &mut out);
        let text = String::from_utf8(out.clone()).unwrap();
        assert_eq!(ev.len_with_seq(42), out.len());
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["op"], "event");
        assert_eq!(v["t"], "user.updated");
        assert_eq!(v["s"], 42);
        assert_eq!(v["d"]["id"], "1");
        assert_eq!(ev.parts(), ("user.updated", r#"{"id":"1"}"#));
        let mut zero = Vec::new();
        ev.write_with_seq(0, &mut zero);
        assert!(String::from_utf8(zero).unwrap().contains(r#""s":0,"#));
    }

    #[test]
    fn the_sequence_number_goes_after_the_name_whatever_the_name_holds() {
        // A name from another node is escaped, so `","s":` inside it never looks like the key.
        let name = r#"odd","s":1,"d":{}"#;
        let ev = EncodedEvent::from_json(name, r#"{"x":[1]}"#);
        let mut out = Vec::new();
        ev.write_with_seq(7, &mut out);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!((v["t"].as_str(), v["s"].as_u64()), (Some(name), Some(7)));
        assert_eq!(v["d"]["x"][0], 1);
        assert_eq!(ev.parts().1, r#"{"x":[1]}"#);
    }
}
