//! A message's JSON written by hand, for the send path (its `message.created` event and the
//! sender's acknowledgement).
//!
//! serde writes each key of each object through its escaping loop and each piece through
//! its writer: `callgrind` on quick S4 counted about 8.3k instructions a message for
//! `Message`'s `Serialize`, of them 5.8k escaping keys and short values. Here the keys are
//! constants and each value is written as serde writes it; tests compare the bytes with
//! serde's, so REST answers (serde's) and events cannot drift apart.

use papo_gateway::protocol::push_json_str;

use super::dto::{Message, MessageRef, ReactionCount};
use crate::http::identify_json::{push_id, push_optional};
use crate::http::users::PublicUser;

impl Message {
    /// The message as `serde_json::to_string` writes it, byte for byte.
    pub fn to_json(&self) -> String {
        // The keys, ids and timestamps take about 480 bytes: with the free text on top, the
        // string is not grown while written (it was, once a message, for the nonce).
        let text = self.content.len()
            + self.nonce.as_ref().map_or(0, String::len)
            + self.author.username.len()
            + self.author.display_name.as_ref().map_or(0, String::len);
        let mut out = String::with_capacity(512 + text);
        self.push_json(&mut out);
        out
    }

    fn push_json(&self, out: &mut String) {
        out.push_str(r#"{"id":"#);
        push_id(out, self.id.as_i64());
        out.push_str(r#","channel_id":"#);
        push_id(out, self.channel_id.as_i64());
        out.push_str(r#","server_id":"#);
        push_id(out, self.server_id.as_i64());
        out.push_str(r#","author":"#);
        push_user(out, &self.author);
        out.push_str(r#","content":"#);
        push_json_str(out, &self.content);
        out.push_str(r#","nonce":"#);
        push_optional(out, self.nonce.as_deref());
        out.push_str(r#","created_at":"#);
        push_json_str(out, &self.created_at);
        out.push_str(r#","edited_at":"#);
        push_optional(out, self.edited_at.as_deref());
        out.push_str(r#","reply_to":"#);
        match self.reply_to {
            Some(id) => push_id(out, id.as_i64()),
            None => out.push_str("null"),
        }
        out.push_str(r#","referenced_message":"#);
        match &self.referenced_message {
            Some(r) => push_reference(out, r),
            None => out.push_str("null"),
        }
        out.push_str(r#","mentions":"#);
        push_ids(out, self.mentions.iter().map(|u| u.as_i64()));
        out.push_str(r#","mention_roles":"#);
        push_ids(out, self.mention_roles.iter().map(|r| r.as_i64()));
        out.push_str(r#","mention_everyone":"#);
        push_bool(out, self.mention_everyone);
        out.push_str(r#","pinned":"#);
        push_bool(out, self.pinned);
        // Left out when `None`, as serde's `skip_serializing_if` does.
        if let Some(reactions) = &self.reactions {
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
