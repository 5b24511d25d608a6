//! Server events as they go on the wire: their names ([`EventKind`]) and their text, encoded
//! once per event and shared by every recipient ([`EncodedEvent`]).

use std::sync::Arc;

use serde::Serialize;

use super::push_json_str;

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

    /// Whether the event is only news of the moment: it has no sequence number, is not kept
    /// for replay, and a session without a socket does not queue it. A resume gets the current
    /// state instead (`resumed` carries the presences; a typing indicator lasts seconds).
    pub const fn is_volatile(self) -> bool {
        matches!(self, Self::PresenceUpdated | Self::TypingStarted)
    }

    /// Whether events named `name` are volatile ([`EventKind::is_volatile`]).
    fn volatile_name(name: &str) -> bool {
        Self::ALL
            .iter()
            .any(|k| k.is_volatile() && k.name() == name)
    }
}

/// An event serialized once: `{"op":"event","t":…,"s":` | seq | `,"d":…}`. Every recipient
/// shares these bytes (cloning shares them); only the sequence number is written per session.
/// A volatile event ([`EventKind::is_volatile`]) has no `"s"` key: its bytes are the whole
/// frame. One allocation per event: it is what each recipient's replay queue holds until the
/// client acknowledges it.
#[derive(Clone, Debug)]
pub struct EncodedEvent {
    bytes: Arc<[u8]>,
    /// Where the sequence number goes (after `,"s":`), 0 for a volatile event (a sequenced
    /// one's is past the head). Kept rather than searched for: each recipient's push and
    /// write asked for it, and found it by scanning the name (~100 instructions a time,
    /// four times per recipient of a new message: `bench/callgrind`, quick S4).
    seq_at: u32,
}

/// An encoded event as queued for its recipients (a cheap clone of the shared bytes).
pub type SharedEvent = EncodedEvent;

/// What every event's text starts with, up to the name.
const EVENT_HEAD: &str = r#"{"op":"event","t":"#;
/// What follows the name of a sequenced event: the sequence number comes next.
const SEQ_KEY: &str = r#","s":"#;
/// What follows the sequence number, or the name of a volatile event.
const DATA_KEY: &str = r#","d":"#;

impl EncodedEvent {
    /// Serializes `data` under `kind`.
    pub fn new(kind: EventKind, data: &impl Serialize) -> Result<SharedEvent, serde_json::Error> {
        let d = serde_json::to_string(data)?;
        Ok(Self::of_kind(kind, &d))
    }

    /// Builds an event of `kind` from an already-serialized `d`. A kind's name needs no
    /// escaping (checked by a test), so it is copied as it is: escaping it was about 145
    /// instructions a new message (`bench/callgrind`, quick S4).
    pub fn of_kind(kind: EventKind, d_json: &str) -> SharedEvent {
        Self::build(kind.name(), kind.is_volatile(), d_json, |out, name| {
            out.push('"');
            out.push_str(name);
            out.push('"');
        })
    }

    /// Builds the event from an already-serialized `d` (e.g. received from another node).
    pub fn from_json(name: &str, d_json: &str) -> SharedEvent {
        let volatile = EventKind::volatile_name(name);
        Self::build(name, volatile, d_json, push_json_str)
    }

    /// The event named `name` (written into the text by `push_name`, quotes included).
    fn build(
        name: &str,
        volatile: bool,
        d_json: &str,
        push_name: impl FnOnce(&mut String, &str),
    ) -> SharedEvent {
        // The name's quotes are the `2` (a name with escapes grows the string once). Through
        // serde's `to_string` and a string of its own, the name made each event 110
        // instructions dearer (`bench/callgrind`, quick S4).
        let mut out = String::with_capacity(
            EVENT_HEAD.len() + name.len() + 2 + SEQ_KEY.len() + DATA_KEY.len() + d_json.len() + 1,
        );
        out.push_str(EVENT_HEAD);
        push_name(&mut out, name);
        let mut seq_at = 0;
        if !volatile {
            out.push_str(SEQ_KEY);
            // An event is far shorter than 4 GiB (a frame's limit is 1 MiB); one that is
            // not (never built) would lose its number rather than be written wrong.
            seq_at = u32::try_from(out.len()).unwrap_or(0);
        }
        out.push_str(DATA_KEY);
        out.push_str(d_json);
        out.push('}');
        Self {
            bytes: Arc::from(out.into_bytes()),
            seq_at,
        }
    }

    /// Where the name ends: the first `,"` after the head. The name is a JSON string, in
    /// which every `"` is escaped, so it cannot hold `,"` itself.
    fn name_end(&self) -> usize {
        let from = EVENT_HEAD.len();
        self.bytes[from..]
            .windows(2)
            .position(|w| w == b",\"")
            .map_or(self.bytes.len(), |i| from + i)
    }

    /// Where the sequence number goes (after `,"s":`), or `None` for a volatile event.
    fn seq_at(&self) -> Option<usize> {
        (self.seq_at > 0).then_some(self.seq_at as usize)
    }

    /// Whether the event is volatile: written without a sequence number, never replayed.
    pub fn is_volatile(&self) -> bool {
        self.seq_at().is_none()
    }

    /// Length of the frame text with sequence number `seq` (`None`: a volatile event).
    pub fn len_with_seq(&self, seq: Option<u64>) -> usize {
        self.bytes.len() + seq.map_or(0, digits)
    }

    /// Appends the frame text with `seq` to `out`. A volatile event is written as it is
    /// (its `seq` is `None`).
    pub fn write_with_seq(&self, seq: Option<u64>, out: &mut Vec<u8>) {
        match (self.seq_at(), seq) {
            (Some(split), Some(seq)) => {
                out.extend_from_slice(&self.bytes[..split]);
                out.extend_from_slice(fmt_u64(seq, &mut [0u8; 20]));
                out.extend_from_slice(&self.bytes[split..]);
            }
            _ => out.extend_from_slice(&self.bytes),
        }
    }

    /// The serialized `d` and the event name, e.g. to forward to other nodes.
    pub fn parts(&self) -> (&str, &str) {
        let text = std::str::from_utf8(&self.bytes).unwrap_or_default();
        let name_end = self.name_end();
        let name = text
            .get(EVENT_HEAD.len() + 1..name_end.saturating_sub(1))
            .unwrap_or_default();
        // Stored without a number, the data key follows the sequence key (or the name).
        let d_at = self.seq_at().unwrap_or(name_end);
        let d = text
            .get(d_at + DATA_KEY.len()..text.len() - 1)
            .unwrap_or_default();
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
        ev.write_with_seq(Some(42), &mut out);
        let text = String::from_utf8(out.clone()).unwrap();
        assert_eq!(ev.len_with_seq(Some(42)), out.len());
        assert!(!ev.is_volatile());
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["op"], "event");
        assert_eq!(v["t"], "user.updated");
        assert_eq!(v["s"], 42);
        assert_eq!(v["d"]["id"], "1");
        assert_eq!(ev.parts(), ("user.updated", r#"{"id":"1"}"#));
        let mut zero = Vec::new();
        ev.write_with_seq(Some(0), &mut zero);
        assert!(String::from_utf8(zero).unwrap().contains(r#""s":0,"#));
    }

    #[test]
    fn an_event_of_a_kind_is_the_event_of_its_name() {
        for &kind in EventKind::ALL {
            let mut quoted = String::new();
            push_json_str(&mut quoted, kind.name());
            assert_eq!(
                quoted,
                format!("\"{}\"", kind.name()),
                "{kind:?} needs escaping"
            );
            let (of_kind, named) = (
                EncodedEvent::of_kind(kind, r#"{"a":1}"#),
                EncodedEvent::from_json(kind.name(), r#"{"a":1}"#),
            );
            assert_eq!(of_kind.bytes, named.bytes);
            assert_eq!(of_kind.seq_at, named.seq_at);
            assert_eq!(of_kind.is_volatile(), kind.is_volatile());
        }
    }

    #[test]
    fn the_sequence_number_goes_after_the_name_whatever_the_name_holds() {
        // A name from another node is escaped, so `","s":` inside it never looks like the key.
        let name = r#"odd","s":1,"d":{}"#;
        let ev = EncodedEvent::from_json(name, r#"{"x":[1]}"#);
        let mut out = Vec::new();
        ev.write_with_seq(Some(7), &mut out);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!((v["t"].as_str(), v["s"].as_u64()), (Some(name), Some(7)));
        assert_eq!(v["d"]["x"][0], 1);
        assert_eq!(ev.parts().1, r#"{"x":[1]}"#);
    }

    #[test]
    fn volatile_events_carry_no_sequence_number() {
        let data = serde_json::json!({"user_id": "5", "status": "idle"});
        let ev = EncodedEvent::new(EventKind::PresenceUpdated, &data).unwrap();
        assert!(ev.is_volatile());
        let mut out = Vec::new();
        ev.write_with_seq(None, &mut out);
        assert_eq!(ev.len_with_seq(None), out.len());
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["t"], "presence.updated");
        assert!(v.get("s").is_none(), "{v}");
        assert_eq!(v["d"], data);
        // Forwarded to another node, it is volatile there too.
        let (name, d) = ev.parts();
        assert_eq!(name, "presence.updated");
        assert!(EncodedEvent::from_json(name, d).is_volatile());
        let kinds: Vec<_> = EventKind::ALL.iter().filter(|k| k.is_volatile()).collect();
        assert_eq!(
            kinds,
            [&EventKind::PresenceUpdated, &EventKind::TypingStarted]
        );
    }
}
