//! `ready`'s servers written from JSON kept with each server's directory entry.
//!
//! Every member of a server who identifies is sent the same server fields, roles and
//! channels; only which channels they can view, each channel's newest message and their own
//! standing (`me`) differ. serde wrote all of it again for each of them: `callgrind` on quick
//! S1 (rooms of ten) counted 10.9k instructions an identify for the servers, most of them
//! escaping every key character by character. The shared parts are now written once per
//! loaded server, by serde, and kept in its [`ServerEntry`] (which a change to the server
//! replaces, so they can never be stale); each identify joins them with what is its own.
//! The bytes are serde's: a test compares them for channels hidden and shown, newest
//! messages, overwrites, roles, text that needs escaping and the member's own standing
//! (`me`, written by hand too: serde's keys cost 0.8k instructions an identify).

use papo_gateway::protocol::{OwnJson, push_json_str};

use super::ServerView;
use super::dto::{Channel, Role, Server};
use crate::directory::ServerEntry;
use crate::http::identify_json::push_id;

/// What `channel`'s JSON ends with when it has no newest message: the one field that is
/// the member's own, which serde writes last.
const NO_NEWEST: &str = r#","last_message_id":null}"#;

/// A server's JSON that every member's view shares.
#[derive(Debug)]
pub struct SharedJson {
    /// `{` and the server's own fields (`ServerDetail` flattens `Server` first), without the
    /// closing brace.
    head: Box<str>,
    /// Each channel by id, in the entry's order: its object up to its newest message.
    channels: Vec<(i64, Box<str>)>,
    /// The roles array.
    roles: Box<str>,
}

impl SharedJson {
    /// `entry`'s shared JSON, written on first use.
    pub fn of(entry: &ServerEntry) -> &Self {
        entry.shared_json.get_or_init(|| Self::write(entry))
    }

    fn write(entry: &ServerEntry) -> Self {
        let mut head = to_json(&Server::from(&entry.server));
        head.pop(); // the closing brace
        let channels = entry
            .channels
            .iter()
            .filter_map(|row| {
                let mut channel = Channel::new(row, &entry.overwrites);
                channel.last_message_id = None;
                // Were `last_message_id` ever not written last, the channel would be left
                // out, and every detail showing it written by serde.
                let json = to_json(&channel);
                let head = json.strip_suffix(NO_NEWEST)?;
                Some((row.id, Box::from(head)))
            })
            .collect();
        let roles: Vec<Role> = entry.roles.iter().map(Role::from).collect();
        Self {
            head: head.into_boxed_str(),
            channels,
            roles: to_json(&roles).into_boxed_str(),
        }
    }

    /// Appends `view` to `out` as serde writes its [`ServerView::detail`]; `view` must come
    /// from the entry this was written from. False (and `out` as it was) if one of its
    /// channels has no shared JSON.
    fn append(&self, out: &mut String, view: &ServerView) -> bool {
        let start = out.len();
        out.push_str(&self.head);
        out.push_str(r#","channels":["#);
        // `view`'s channels are the entry's in order, less those the member cannot view.
        let mut shared = self.channels.iter();
        for (i, (channel, newest)) in view.visible().enumerate() {
            let Some((_, json)) = shared.find(|(c, _)| *c == channel.id) else {
                out.truncate(start);
                return false;
            };
            if i > 0 {
                out.push(',');
            }
            out.push_str(json);
            out.push_str(r#","last_message_id":"#);
            match newest {
                None => out.push_str("null"),
                Some(m) => push_id(out, m.as_i64()),
            }
            out.push('}');
        }
        out.push_str(r#"],"roles":"#);
        out.push_str(&self.roles);
        // The member's own standing, as serde writes `Me` (ids and permissions as strings).
        let me = &view.me;
        out.push_str(r#","me":{"permissions":"#);
        push_id(out, me.permissions.0);
        out.push_str(r#","roles":["#);
        for (i, role) in me.roles.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_id(out, role.as_i64());
        }
        out.push_str(r#"],"timeout_until":"#);
        match &me.timeout_until {
            Some(t) => push_json_str(out, t),
            None => out.push_str("null"),
        }
        out.push('}');
        out.push_str(r#","large":"#);
        out.push_str(if view.large { "true}" } else { "false}" });
        true
    }
}

/// The JSON array of `views`, as serde writes their `Vec<ServerDetail>`.
pub fn servers_array(views: &[ServerView]) -> OwnJson {
    // About a kilobyte a server with a few channels: one allocation for most users.
    let mut out = String::with_capacity(2 + 1024 * views.len());
    out.push('[');
    for (i, view) in views.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if !SharedJson::of(&view.entry).append(&mut out, view) {
            out.push_str(&to_json(&view.detail()));
        }
    }
    out.push(']');
    OwnJson::new_unchecked(out)
}

/// `value` as JSON (the DTOs here always serialize).
fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).expect("DTOs serialize")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use papo_core::id::{MessageId, RoleId};
    use papo_core::permissions::Permissions;
    use papo_store::servers::{ChannelRow, OverwriteRow, RoleRow, ServerRow};

    use super::*;
    use crate::http::servers::dto::Me;

    fn channel(id: i64, kind: &str, name: &str, topic: Option<&str>) -> ChannelRow {
        ChannelRow {
            id,
            server_id: 1,
            kind: kind.into(),
            name: name.into(),
            position: id,
            parent_id: (kind != "category").then_some(12),
            topic: topic.map(Into::into),
            slowmode_secs: 5,
            user_limit: (kind == "voice").then_some(10),
            bitrate: (kind == "voice").then_some(64_000),
            last_message_id: None,
        }
    }

    fn entry() -> ServerEntry {
        let server = ServerRow {
            id: 1,
            name: "Escola \"Papo\" \\ 🎓".into(),
            description: Some("line one\nline two\t<b>".into()),
            icon: None,
            owner_id: 7,
            created_at: 1_700_000_000_123,
        };
        let role = |id, name: &str, position| RoleRow {
            id,
            server_id: 1,
            name: name.into(),
            color: (id != 1).then_some(0xff8800),
            position,
            permissions: 0x0400 | (id << 3),
            hoist: id == 2,
            mentionable: false,
        };
        let overwrite = |channel_id, target_id, is_role| OverwriteRow {
            channel_id,
            target_id,
            is_role,
            allow: 0x0800,
            deny: 0x0400,
        };
        ServerEntry::new(
            server,
            vec![role(2, "Mods \"A\"\u{1}", 1), role(1, "@everyone", 0)],
            vec![
                channel(10, "text", "geral", Some("regras: \"sem spam\"\n😀")),
                channel(11, "voice", "Voz", None),
                channel(12, "category", "Info", None),
                channel(13, "text", "mods", None),
            ],
            vec![
                overwrite(13, 1, true),
                overwrite(13, 2, true),
                overwrite(10, 7, false),
            ],
        )
    }

    /// What `view_with` makes for a member who sees `visible` with these newest messages.
    fn view(entry: &Arc<ServerEntry>, visible: &[(i64, Option<i64>)], large: bool) -> ServerView {
        ServerView {
            entry: entry.clone(),
            channels: visible
                .iter()
                .map(|(id, newest)| {
                    let i = entry.channels.iter().position(|c| c.id == *id);
                    (
                        i.expect("the entry's channel"),
                        newest.map(MessageId::from_i64),
                    )
                })
                .collect(),
            me: Me {
                permissions: Permissions(if large { u64::MAX } else { 0x0c00 }),
                // None, or two (one as large as an id gets).
                roles: if large {
                    Vec::new()
                } else {
                    vec![RoleId::from_i64(2), RoleId::from_i64(i64::MAX)]
                },
                timeout_until: large.then(|| "2026-12-03T12:00:00Z".into()),
            },
            joined_at: 1_700_000_000_000,
            large,
        }
    }

    fn details(views: &[ServerView]) -> String {
        serde_json::to_string(&views.iter().map(ServerView::detail).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn servers_are_written_as_serde_writes_them() {
        let (a, b) = (Arc::new(entry()), Arc::new(entry()));
        let views = [
            // Every channel, some with a newest message, one as large as an id gets.
            view(
                &a,
                &[(10, Some(5)), (11, None), (12, None), (13, Some(i64::MAX))],
                false,
            ),
            // Some hidden, from the second entry (its shared JSON written separately).
            view(&b, &[(11, None), (13, Some(1))], true),
            // None visible.
            view(&a, &[], false),
        ];
        let written = servers_array(&views);
        assert_eq!(written.get(), details(&views));
        // Each from the shared JSON, not serde's fallback.
        for v in &views {
            let mut out = String::new();
            assert!(SharedJson::of(&v.entry).append(&mut out, v));
            assert_eq!(out, serde_json::to_string(&v.detail()).unwrap());
        }
        assert_eq!(servers_array(&views[..1]).get(), details(&views[..1]));
    }

    #[test]
    fn a_channel_missing_from_the_shared_json_is_written_by_serde() {
        let a = Arc::new(entry());
        // Shared JSON without channel 13, as if its JSON had not ended as expected.
        let mut shared = SharedJson::write(&a);
        shared.channels.retain(|(id, _)| *id != 13);
        a.shared_json.set(shared).expect("not written yet");
        let without = view(&a, &[(10, Some(3)), (12, None)], false);
        let with = view(&a, &[(10, None), (13, Some(4))], false);
        let mut out = String::from("[");
        assert!(!SharedJson::of(&a).append(&mut out, &with));
        assert_eq!(out, "[", "left as it was");
        assert!(SharedJson::of(&a).append(&mut out, &without));
        let views = [without, with];
        let written = servers_array(&views);
        assert_eq!(written.get(), details(&views));
        serde_json::from_str::<serde_json::Value>(written.get()).expect("valid JSON");
    }
}
