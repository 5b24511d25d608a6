//! What the server reads in message text: mentions, and whether a reaction is one emoji.
//! Markdown itself is kept raw and rendered by clients.

use std::borrow::Cow;

/// The mentions found in a message.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Mentions {
    /// `<@id>` (or `<@!id>`) user ids, first occurrence order, no repeats.
    pub users: Vec<u64>,
    /// `<@&id>` role ids, first occurrence order, no repeats.
    pub roles: Vec<u64>,
    /// `@everyone` or `@here` appears.
    pub everyone: bool,
}

/// At most this many distinct user and role mentions are kept per message.
pub const MAX_MENTIONS: usize = 100;

/// Text outside code: fenced blocks (```) and inline code (`…`) are blanked, since a mention
/// written inside code is quoted, not meant.
fn outside_code(content: &str) -> String {
    let mut out = String::with_capacity(content.len());
    let mut rest = content;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("```") {
            match after.find("```") {
                Some(end) => {
                    out.push(' ');
                    rest = &after[end + 3..];
                }
                None => {
                    out.push_str("```");
                    rest = after;
                }
            }
        } else if let Some(after) = rest.strip_prefix('`') {
            match after.find('`') {
                Some(end) => {
                    out.push(' ');
                    rest = &after[end + 1..];
                }
                None => {
                    out.push('`');
                    rest = after;
                }
            }
        } else {
            // Up to the next backtick, copied whole.
            let run = rest.find('`').unwrap_or(rest.len());
            out.push_str(&rest[..run]);
            rest = &rest[run..];
        }
    }
    out
}

/// Finds the mentions in `content`.
pub fn parse_mentions(content: &str) -> Mentions {
    let mut m = Mentions::default();
    // Every mention starts with `<` or `@`; most messages have neither, or no code.
    // (Searched as bytes: a pattern of two `char`s decodes every character, ~300
    // instructions for a 40-byte message.)
    if memchr::memchr2(b'<', b'@', content.as_bytes()).is_none() {
        return m;
    }
    let text = if content.contains('`') {
        Cow::Owned(outside_code(content))
    } else {
        Cow::Borrowed(content)
    };
    let mut rest = text.as_ref();
    while let Some(i) = rest.find(['<', '@']) {
        let tail = &rest[i..];
        if let Some(t) = tail.strip_prefix("<@") {
            let (is_role, t) = match t.strip_prefix('&') {
                Some(r) => (true, r),
                None => (false, t.strip_prefix('!').unwrap_or(t)),
            };
            let digits = t.bytes().take_while(u8::is_ascii_digit).count();
            if (1..=20).contains(&digits) && t[digits..].starts_with('>') {
                if let Ok(id) = t[..digits].parse::<u64>() {
                    let list = if is_role { &mut m.roles } else { &mut m.users };
                    if !list.contains(&id) && m.users.len() + m.roles.len() < MAX_MENTIONS {
                        let list = if is_role { &mut m.roles } else { &mut m.users };
                        list.push(id);
                    }
                }
                rest = &t[digits + 1..];
                continue;
            }
            rest = &tail[2..];
        } else if tail.starts_with("@everyone") || tail.starts_with("@here") {
            m.everyone = true;
            rest = &tail[1..];
        } else {
            rest = &tail[1..];
        }
    }
    m
}

fn is_pictographic(c: u32) -> bool {
    matches!(c,
        0x00A9 | 0x00AE | 0x203C | 0x2049 | 0x2122 | 0x2139 | 0x2194..=0x21AA | 0x231A..=0x23FF
        | 0x24C2 | 0x25AA..=0x25FE | 0x2600..=0x27BF | 0x2934 | 0x2935 | 0x2B00..=0x2BFF
        | 0x3030 | 0x303D | 0x3297 | 0x3299 | 0x1F000..=0x1F1E5 | 0x1F200..=0x1F3FA
        | 0x1F400..=0x1FAFF)
}

/// Whether `s` is a single Unicode emoji: one pictograph (with skin tone, variation
/// selector, tags), a ZWJ sequence of them, a flag (two regional indicators) or a keycap.
pub fn is_single_emoji(s: &str) -> bool {
    if s.is_empty() || s.len() > 64 {
        return false;
    }
    let chars: Vec<u32> = s.chars().map(u32::from).collect();
    let regional = chars
        .iter()
        .filter(|c| (0x1F1E6..=0x1F1FF).contains(*c))
        .count();
    if regional > 0 {
        return regional == 2 && chars.len() == 2;
    }
    if let [base, rest @ ..] = chars.as_slice()
        && rest.last() == Some(&0x20E3)
        && matches!(char::from_u32(*base), Some('0'..='9' | '#' | '*'))
    {
        return rest.iter().all(|c| *c == 0xFE0F || *c == 0x20E3) && rest.len() <= 2;
    }
    let mut bases = 0;
    let mut joiners = 0;
    let mut previous_was_joiner = true;
    for &c in &chars {
        match c {
            0x200D => {
                if previous_was_joiner {
                    return false;
                }
                joiners += 1;
                previous_was_joiner = true;
            }
            0xFE0E | 0xFE0F | 0x1F3FB..=0x1F3FF | 0xE0020..=0xE007F => {
                if previous_was_joiner {
                    return false;
                }
            }
            c if is_pictographic(c) => {
                if !previous_was_joiner {
                    return false;
                }
                bases += 1;
                previous_was_joiner = false;
            }
            _ => return false,
        }
    }
    bases >= 1 && bases == joiners + 1 && !previous_was_joiner
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_of_users_roles_and_everyone() {
        let m = parse_mentions("hi <@12> and <@!12>, <@&34> <@&34> @here");
        assert_eq!(m.users, vec![12]);
        assert_eq!(m.roles, vec![34]);
        assert!(m.everyone);
    }

    #[test]
    fn mentions_inside_code_or_malformed_are_ignored() {
        let m = parse_mentions("`<@1>` ```\n@everyone <@&2>\n``` <@x> <@> <@3 > @every one");
        assert_eq!(m, Mentions::default());
        assert_eq!(parse_mentions("unclosed `<@5>").users, vec![5]);
    }

    #[test]
    fn mentions_around_code_and_text_are_found() {
        let m = parse_mentions("olá `<@1> código`<@7> ```ñ @here``` são <@&8>` ``");
        assert_eq!((m.users, m.roles, m.everyone), (vec![7], vec![8], false));
        assert_eq!(
            parse_mentions("pb:1:17:42:1764612000000000000"),
            Mentions::default()
        );
        assert_eq!(parse_mentions("ção <@9>").users, vec![9]);
    }

    #[test]
    fn mention_count_is_capped() {
        let text: String = (1..=150).map(|i| format!("<@{i}> ")).collect();
        assert_eq!(parse_mentions(&text).users.len(), MAX_MENTIONS);
    }

    #[test]
    fn single_emoji_accepts_sequences_and_refuses_text() {
        for ok in ["👍", "❤️", "👍🏽", "👩‍💻", "👨‍👩‍👧", "🇧🇷", "1️⃣", "#⃣", "🏳️‍🌈", "😀"]
        {
            assert!(is_single_emoji(ok), "{ok} should be one emoji");
        }
        for bad in [
            "",
            "a",
            "👍👍",
            "🇧",
            "🇧🇷🇧🇷",
            "👍a",
            "‍👍",
            "👍‍",
            "<script>",
            "1",
            ":)",
            "👍 ",
        ] {
            assert!(!is_single_emoji(bad), "{bad:?} should be refused");
        }
    }
}
