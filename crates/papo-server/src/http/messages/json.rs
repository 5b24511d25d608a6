//! A message's JSON written by hand, for the send path (its `message.created` event and the
//! sender's acknowledgement).
//!
//! serde writes each key of each object through its escaping loop and each piece through
//! its writer: `callgrind` on quick S4 counted about 8.3k instructions a message for
//! `Message`'s `Serialize`, of them 5.8k escaping keys and short values. Here the keys are
//! constants and each value is written as serde writes it; tests compare the bytes with
//! serde's, so REST answers (serde's) and events cannot drift apart.

use papo_core::id::MessageId;
use papo_gateway::protocol::push_json_str;
use papo_store::messages::MessageRow;

use super::dto::{Message, MessageRef, ReactionCount};
use crate::http::identify_json::{push_id, push_optional};
use crate::http::timestamp::push_rfc3339;
use crate::http::users::PublicUser;

/// A message's parts as its JSON needs them, borrowed: from a built [`Message`], or on the
/// send path from the stored row and its author's cached profile ([`created_json`]), so
/// that a new message's event is written without building the `Message` first (its
/// author's profile copied twice, its mentions and date allocated: the gateway's send went
/// from 12.0k to 10.2k instructions a message in `bench/callgrind`, quick S4). One writer
/// serves both, so they cannot drift apart.
struct Parts<'a, M, R> {
    id: i64,
    channel_id: i64,
    server_id: i64,
    author: Author<'a>,
    content: &'a str,
    nonce: Option<&'a str>,
    created_at: Stamp<'a>,
    edited_at: Option<Stamp<'a>>,
    reply_to: Option<i64>,
    referenced: Option<&'a MessageRef>,
    mentions: M,
    mention_roles: R,
    mention_everyone: bool,
    pinned: bool,
    reactions: Option<&'a [ReactionCount]>,
}

impl<M: Iterator<Item = i64>, R: Iterator<Item = i64>> Parts<'_, M, R> {
    fn into_json(self) -> String {
        // The keys, ids and timestamps take about 480 bytes: with the free text on top, the
        // string is not grown while written (it was, once a message, for the nonce).
        let author = match self.author {
            Author::Profile(u) => u.username.len() + u.display_name.as_ref().map_or(0, String::len),
            Author::Written(json) => json.len(),
        };
        let text = self.content.len() + self.nonce.map_or(0, str::len) + author;
        let mut out = String::with_capacity(512 + text);
        self.push_json(&mut out);
        out
    }

    fn push_json(self, out: &mut String) {
        out.push_str(r#"{"id":"#);
        push_id(out, self.id);
        out.push_str(r#","channel_id":"#);
        push_id(out, self.channel_id);
        out.push_str(r#","server_id":"#);
        push_id(out, self.server_id);
        out.push_str(r#","author":"#);
        match self.author {
            Author::Profile(u) => push_user(out, u),
            Author::Written(json) => out.push_str(json),
        }
        out.push_str(r#","content":"#);
        push_json_str(out, self.content);
        out.push_str(r#","nonce":"#);
        push_optional(out, self.nonce);
        out.push_str(r#","created_at":"#);
        self.created_at.push(out);
        out.push_str(r#","edited_at":"#);
        match self.edited_at {
            Some(t) => t.push(out),
            None => out.push_str("null"),
        }
        out.push_str(r#","reply_to":"#);
        match self.reply_to {
            Some(id) => push_id(out, id),
            None => out.push_str("null"),
        }
        out.push_str(r#","referenced_message":"#);
        match self.referenced {
            Some(r) => push_reference(out, r),
            None => out.push_str("null"),
        }
        out.push_str(r#","mentions":"#);
        push_ids(out, self.mentions);
        out.push_str(r#","mention_roles":"#);
        push_ids(out, self.mention_roles);
        out.push_str(r#","mention_everyone":"#);
        push_bool(out, self.mention_everyone);
        out.push_str(r#","pinned":"#);
        push_bool(out, self.pinned);
        // Left out when `None`, as serde's `skip_serializing_if` does.
        if let Some(reactions) = self.reactions {
            out.push_str(r#","reactions":["#);
            for (i, r) in reactions.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_reaction(out, r);
            }
            out.push(']');
        }
        out.push('}');
    }
}

impl Message {
    /// The message as `serde_json::to_string` writes it, byte for byte.
    pub fn to_json(&self) -> String {
        Parts {
            id: self.id.as_i64(),
            channel_id: self.channel_id.as_i64(),
            server_id: self.server_id.as_i64(),
            author: Author::Profile(&self.author),
            content: &self.content,
            nonce: self.nonce.as_deref(),
            created_at: Stamp::Written(&self.created_at),
            edited_at: self.edited_at.as_deref().map(Stamp::Written),
            reply_to: self.reply_to.map(MessageId::as_i64),
            referenced: self.referenced_message.as_ref(),
            mentions: self.mentions.iter().map(|u| u.as_i64()),
            mention_roles: self.mention_roles.iter().map(|r| r.as_i64()),
            mention_everyone: self.mention_everyone,
            pinned: self.pinned,
            reactions: self.reactions.as_deref(),
        }
        .into_json()
    }
}

/// Who wrote the message: their profile, or its JSON as [`user_json`] wrote it.
#[derive(Clone, Copy)]
enum Author<'a> {
    Profile(&'a PublicUser),
    Written(&'a str),
}

/// A time: already written as RFC 3339, or in Unix milliseconds, written in place.
#[derive(Clone, Copy)]
enum Stamp<'a> {
    Written(&'a str),
    UnixMs(i64),
}

impl Stamp<'_> {
    fn push(self, out: &mut String) {
        match self {
            Stamp::Written(text) => push_json_str(out, text),
            // Digits and separators only: nothing to escape.
            Stamp::UnixMs(ms) => {
                out.push('"');
                push_rfc3339(out, ms);
                out.push('"');
            }
        }
    }
}

/// A profile's JSON as serde writes a [`PublicUser`]: the directory keeps it with the
/// profile, so a new message's JSON copies its author's instead of writing it anew (about
/// 590 instructions a message on S4's send path, `bench/callgrind`).
pub fn user_json(u: &PublicUser) -> String {
    let mut out = String::with_capacity(256);
    push_user(&mut out, u);
    out
}

/// A message that refers to no other (`reply_to` unset), as [`Message::from_row`] with no
/// reference nor reactions and then [`Message::to_json`] write it, byte for byte, straight
/// from its row and its author's profile as [`user_json`] wrote it.
pub fn created_json(row: &MessageRow, author_json: &str) -> String {
    debug_assert!(row.reply_to.is_none(), "a reply's JSON needs its reference");
    Parts {
        id: row.id,
        channel_id: row.channel_id,
        server_id: row.server_id,
        author: Author::Written(author_json),
        content: &row.content,
        nonce: row.nonce.as_deref(),
        created_at: Stamp::UnixMs(row.created_at),
        edited_at: row.edited_at.map(Stamp::UnixMs),
        reply_to: None,
        referenced: None,
        mentions: row.mentioned(),
        mention_roles: row.mentioned_roles(),
        mention_everyone: row.mention_everyone,
        pinned: row.pinned_at.is_some(),
        reactions: None,
    }
    .into_json()
}

fn push_user(out: &mut String, u: &PublicUser) {
    out.push_str(r#"{"id":"#);
    push_id(out, u.id.as_i64());
    out.push_str(r#","username":"#);
    push_json_str(out, &u.username);
    out.push_str(r#","display_name":"#);
    push_optional(out, u.display_name.as_deref());
    out.push_str(r#","bio":"#);
    push_optional(out, u.bio.as_deref());
    out.push_str(r#","pronouns":"#);
    push_optional(out, u.pronouns.as_deref());
    out.push_str(r#","accent_color":"#);
    match u.accent_color {
        Some(c) => out.push_str(itoa::Buffer::new().format(c)),
        None => out.push_str("null"),
    }
    out.push_str(r#","avatar":"#);
    push_optional(out, u.avatar.as_deref());
    out.push_str(r#","banner":"#);
    push_optional(out, u.banner.as_deref());
    out.push_str(r#","created_at":"#);
    push_json_str(out, &u.created_at);
    out.push('}');
}

fn push_reference(out: &mut String, r: &MessageRef) {
    out.push_str(r#"{"id":"#);
    push_id(out, r.id.as_i64());
    out.push_str(r#","author":"#);
    push_user(out, &r.author);
    out.push_str(r#","content":"#);
    push_json_str(out, &r.content);
    out.push('}');
}

fn push_reaction(out: &mut String, r: &ReactionCount) {
    out.push_str(r#"{"emoji":"#);
    push_json_str(out, &r.emoji);
    out.push_str(r#","count":"#);
    out.push_str(itoa::Buffer::new().format(r.count));
    out.push_str(r#","me":"#);
    push_bool(out, r.me);
    out.push('}');
}

fn push_ids(out: &mut String, ids: impl Iterator<Item = i64>) {
    out.push('[');
    for (i, id) in ids.enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_id(out, id);
    }
    out.push(']');
}

fn push_bool(out: &mut String, b: bool) {
    out.push_str(if b { "true" } else { "false" });
}

#[cfg(test)]
mod tests {
    use papo_core::id::{ChannelId, MessageId, RoleId, ServerId, UserId};

    use super::*;

    fn user(fill: bool, id: i64, text: &str) -> PublicUser {
        let some = |t: &str| fill.then(|| t.to_owned());
        PublicUser {
            id: UserId::from_i64(id),
            username: format!("ana{id}"),
            display_name: some(text),
            bio: some(&format!("{text}\n{text}")),
            pronouns: some("ela/dela"),
            accent_color: fill.then_some(0x00ff_a0c0),
            avatar: some("01J9Z"),
            banner: some("\"banner\""),
            created_at: "2026-12-01T18:00:00.123Z".into(),
        }
    }

    fn message(fill: bool, id: i64, text: &str) -> Message {
        let some = |t: &str| fill.then(|| t.to_owned());
        Message {
            id: MessageId::from_i64(id),
            channel_id: ChannelId::from_i64(id + 1),
            server_id: ServerId::from_i64(id + 2),
            author: user(fill, id + 3, text),
            content: text.into(),
            nonce: some(text),
            created_at: "2026-12-01T18:00:00Z".into(),
            edited_at: some("2026-12-02T09:30:00.5Z"),
            reply_to: fill.then(|| MessageId::from_i64(id - 1)),
            referenced_message: fill.then(|| MessageRef {
                id: MessageId::from_i64(id - 1),
                author: user(false, 4, text),
                content: format!("{text}{text}"),
            }),
            mentions: if fill {
                vec![UserId::from_i64(7), UserId::from_i64(i64::MAX)]
            } else {
                Vec::new()
            },
            mention_roles: if fill {
                vec![RoleId::from_i64(id)]
            } else {
                Vec::new()
            },
            mention_everyone: fill,
            pinned: !fill,
            reactions: None,
        }
    }

    #[test]
    fn a_message_is_written_as_serde_writes_it() {
        let texts = [
            "pb:1:17:42:1764612000000000000",
            "",
            "olá \"Bia\" \\ São Paulo 📚\t\u{1}\u{1f}\u{7f}\u{2028}</script>",
        ];
        let reactions = [
            None,
            Some(Vec::new()),
            Some(vec![
                ReactionCount {
                    emoji: "👍".into(),
                    count: 3,
                    me: true,
                },
                ReactionCount {
                    emoji: "\"q\"".into(),
                    count: 1,
                    me: false,
                },
            ]),
        ];
        let mut compared = 0;
        for text in texts {
            for fill in [false, true] {
                for id in [2, 7_300_000_000_001, i64::MAX - 3] {
                    for r in &reactions {
                        let mut m = message(fill, id, text);
                        m.reactions = r.clone();
                        assert_eq!(m.to_json(), serde_json::to_string(&m).unwrap());
                        compared += 1;
                    }
                }
            }
        }
        assert_eq!(compared, 54);
    }

    #[test]
    fn a_new_message_is_written_from_its_row_as_from_the_built_message() {
        let mut compared = 0;
        for text in [
            "pb:1:17:42:1764612000000000000",
            "",
            "olá \"Bia\" \\ 📚\t\u{1}</script>",
        ] {
            for fill in [false, true] {
                let row = MessageRow {
                    id: 7_300_000_000_001,
                    channel_id: 12,
                    server_id: 3,
                    author_id: 9,
                    content: text.into(),
                    nonce: fill.then(|| format!("n-{text}")),
                    reply_to: None,
                    mentions: if fill {
                        format!("7,{}", i64::MAX)
                    } else {
                        String::new()
                    },
                    mention_roles: if fill { "5".into() } else { String::new() },
                    mention_everyone: fill,
                    pinned_at: fill.then_some(1_764_612_000_001),
                    edited_at: fill.then_some(1_764_612_000_120),
                    // With and without milliseconds.
                    created_at: if fill {
                        1_764_612_000_000
                    } else {
                        1_764_612_000_042
                    },
                };
                for author in [
                    user(fill, 9, text),
                    PublicUser::deleted(UserId::from_i64(9)),
                ] {
                    let built = Message::from_row(row.clone(), author.clone(), None, None);
                    let json = created_json(&row, &user_json(&author));
                    assert_eq!(json, built.to_json());
                    assert_eq!(json, serde_json::to_string(&built).unwrap());
                    compared += 1;
                }
            }
        }
        assert_eq!(compared, 12);
    }

    #[test]
    fn a_deleted_author_and_a_colour_are_written_as_serde_writes_them() {
        let mut m = message(false, 9, "x");
        m.author = PublicUser::deleted(UserId::from_i64(7));
        assert_eq!(m.to_json(), serde_json::to_string(&m).unwrap());
        m.author.accent_color = Some(u32::MAX);
        let serde = serde_json::to_string(&m).unwrap();
        assert_eq!(m.to_json(), serde);
        assert!(serde.contains(r#""accent_color":4294967295"#));
    }
}
