//! `ready`'s account and read states, written by hand.
//!
//! serde escapes every key of every object character by character, and writes each piece
//! through its writer: `callgrind` on quick S1 counted about 5.6k instructions an identify
//! for these two (4.2k the account, 1.4k its read states). Here the keys are constants and
//! each value is written as serde writes it, the account straight from its row; tests
//! compare the bytes with serde's, so the REST answers (serde's) and `ready` cannot drift
//! apart.

use papo_gateway::protocol::{OwnJson, push_json_str};
use papo_store::users::UserRow;

use super::messages::read_states::ReadState;
use super::users::with_settings_json;

/// The account of `row` as serde writes its `CurrentUser` (`ready`'s `user`), written from
/// the row itself: the `CurrentUser` between them copied every text of the row.
pub fn current_user(row: &UserRow) -> OwnJson {
    let mut out = String::with_capacity(256 + row.settings.len());
    out.push_str(r#"{"id":"#);
    push_id(&mut out, row.id);
    out.push_str(r#","username":"#);
    push_json_str(&mut out, &row.username);
    out.push_str(r#","display_name":"#);
    push_optional(&mut out, row.display_name.as_deref());
    out.push_str(r#","bio":"#);
    push_optional(&mut out, row.bio.as_deref());
    out.push_str(r#","pronouns":"#);
    push_optional(&mut out, row.pronouns.as_deref());
    out.push_str(r#","accent_color":"#);
    // As `PublicUser::from_row`: a stored colour that is not a `u32` reads as none.
    match row.accent_color.and_then(|c| u32::try_from(c).ok()) {
        Some(c) => out.push_str(itoa::Buffer::new().format(c)),
        None => out.push_str("null"),
    }
    out.push_str(r#","avatar":"#);
    push_optional(&mut out, row.avatar.as_deref());
    out.push_str(r#","banner":"#);
    push_optional(&mut out, row.banner.as_deref());
    out.push_str(r#","created_at":"#);
    push_json_str(&mut out, &super::rfc3339(row.created_at));
    out.push_str(r#","email":"#);
    push_json_str(&mut out, &row.email);
    out.push_str(r#","settings":"#);
    with_settings_json(&row.settings, |json| out.push_str(json.get()));
    out.push('}');
    OwnJson::new_unchecked(out)
}

/// `states` as serde writes them, an array (`ready`'s `read_states`).
pub fn read_states(states: &[ReadState]) -> OwnJson {
    let mut out = String::with_capacity(2 + states.len() * 96);
    out.push('[');
    for (i, s) in states.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(r#"{"channel_id":"#);
        push_id(&mut out, s.channel_id.as_i64());
        out.push_str(r#","last_read_id":"#);
        push_id(&mut out, s.last_read_id.as_i64());
        out.push_str(r#","mention_count":"#);
        out.push_str(itoa::Buffer::new().format(s.mention_count));
        out.push('}');
    }
    out.push(']');
    OwnJson::new_unchecked(out)
}

/// An id (or permissions) as its JSON string: serde writes them as decimal strings.
pub(crate) fn push_id(out: &mut String, id: impl itoa::Integer) {
    out.push('"');
    out.push_str(itoa::Buffer::new().format(id));
    out.push('"');
}

/// A text or `null`, as serde writes an `Option<String>`.
pub(crate) fn push_optional(out: &mut String, text: Option<&str>) {
    match text {
        Some(text) => push_json_str(out, text),
        None => out.push_str("null"),
    }
}

#[cfg(test)]
mod tests {
    use papo_core::id::{ChannelId, MessageId};

    use super::*;
    use crate::http::users::CurrentUser;

    fn row(fill: bool, id: i64, text: &str, settings: &str) -> UserRow {
        let some = |t: &str| fill.then(|| t.to_owned());
        UserRow {
            id,
            username: format!("ana{id}"),
            email: format!("ana{id}@example.com"),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            display_name: some(text),
            bio: some(&format!("{text}\n{text}")),
            pronouns: some("ela/dela"),
            accent_color: fill.then_some(0x00ff_a0c0),
            avatar: some("01J9Z"),
            banner: some("\"banner\""),
            settings: settings.into(),
            created_at: 1_700_000_000_123,
            updated_at: 1_700_000_000_456,
        }
    }

    #[test]
    fn the_account_is_written_as_serde_writes_it() {
        let texts = ["Ana", "", "Ana \"Bia\" \\ São Paulo 📚\t\u{1}"];
        let settings = ["{}", r#"{"locale":"pt-BR","theme":"dark"}"#, "not json"];
        for (i, text) in texts.iter().enumerate() {
            for fill in [false, true] {
                for id in [1, 7_300_000_000_001 + i as i64, i64::MAX] {
                    for stored in settings {
                        let r = row(fill, id, text, stored);
                        let serde = serde_json::to_string(&CurrentUser::from_row(&r)).unwrap();
                        assert_eq!(current_user(&r).get(), serde);
                    }
                }
            }
        }
        // A colour beyond `u32` is shown as none, as REST shows it.
        let mut r = row(true, 5, "x", "{}");
        r.accent_color = Some(i64::from(u32::MAX) + 1);
        let serde = serde_json::to_string(&CurrentUser::from_row(&r)).unwrap();
        assert_eq!(current_user(&r).get(), serde);
        assert!(serde.contains(r#""accent_color":null"#));
    }

    #[test]
    fn read_states_are_written_as_serde_writes_them() {
        let state = |c: i64, m: i64, n: i64| ReadState {
            channel_id: ChannelId::from_i64(c),
            last_read_id: MessageId::from_i64(m),
            mention_count: n,
        };
        for states in [
            vec![],
            vec![state(1, 2, 0)],
            vec![state(7_300_000_000_001, i64::MAX, 12), state(9, 10, -1)],
        ] {
            assert_eq!(
                read_states(&states).get(),
                serde_json::to_string(&states).unwrap()
            );
        }
    }
}
