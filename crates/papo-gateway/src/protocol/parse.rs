//! Client frames read from their `{"op", "d"}` envelopes.
//!
//! A `message_create`, the frame a chat sends most, is read without serde when it has the
//! shape clients write (see [`plain_message_create`]), and otherwise in one serde pass. Any
//! other frame, and a `message_create` that does not read so, is read in two: the envelope
//! with `d` kept as raw JSON, then `d` by its op, so that an error says which op's data was
//! wrong.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{ClientFrame, FrameError, MessageCreate, first_escaped};

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    op: std::borrow::Cow<'a, str>,
    #[serde(default)]
    d: Option<&'a RawValue>,
}

/// The frames read in one pass: the envelope and its data together (`d` may come before
/// `op`; serde keeps it until the op is known).
#[derive(Deserialize)]
#[serde(tag = "op", content = "d")]
enum OnePass {
    #[serde(rename = "message_create")]
    MessageCreate(MessageCreate),
}

impl ClientFrame {
    /// Parses one text frame.
    pub fn parse(text: &str) -> Result<Self, FrameError> {
        if let Some(m) = plain_message_create(text) {
            return Ok(Self::MessageCreate(m));
        }
        // Whatever this refuses (another op, wrong data) is read again below, so that its
        // error is the one the two passes give.
        if let Ok(OnePass::MessageCreate(m)) = serde_json::from_str(text) {
            return Ok(Self::MessageCreate(m));
        }
        Self::parse_in_two_passes(text)
    }

    /// The envelope first, then `d` by its op.
    fn parse_in_two_passes(text: &str) -> Result<Self, FrameError> {
        let env: Envelope<'_> =
            serde_json::from_str(text).map_err(|e| FrameError::Malformed(e.to_string()))?;
        fn data<'de, T: Deserialize<'de> + Default>(
            op: &'static str,
            d: Option<&'de RawValue>,
        ) -> Result<T, FrameError> {
            match d {
                None => Ok(T::default()),
                Some(raw) if raw.get() == "null" => Ok(T::default()),
                Some(raw) => serde_json::from_str(raw.get()).map_err(|e| FrameError::InvalidData {
                    op,
                    error: e.to_string(),
                }),
            }
        }
        fn required<'de, T: Deserialize<'de>>(
            op: &'static str,
            d: Option<&'de RawValue>,
        ) -> Result<T, FrameError> {
            let raw = d.ok_or_else(|| FrameError::InvalidData {
                op,
                error: "missing d".into(),
            })?;
            serde_json::from_str(raw.get()).map_err(|e| FrameError::InvalidData {
                op,
                error: e.to_string(),
            })
        }
        Ok(match env.op.as_ref() {
            "identify" => Self::Identify(required("identify", env.d)?),
            "resume" => Self::Resume(required("resume", env.d)?),
            "heartbeat" => Self::Heartbeat(data("heartbeat", env.d)?),
            "presence_update" => Self::PresenceUpdate(required("presence_update", env.d)?),
            "typing_start" => Self::TypingStart(required("typing_start", env.d)?),
            "message_create" => Self::MessageCreate(required("message_create", env.d)?),
            other => return Err(FrameError::UnknownOp(other.to_owned())),
        })
    }
}

/// A `message_create` as clients write it (`JSON.stringify` of `{op, d}`), read without
/// serde: `op` first, no whitespace, `d` an object of `channel_id`, `content`, `nonce` and
/// an optional `reply_to` in any order, each at most once, and every value a string with no
/// escape (or `reply_to` `null`). Anything else is `None`, and serde reads it (and words its
/// errors). Through serde this frame took about 2,700 instructions (`bench/callgrind`, quick
/// S4), most of them its keys matched and its strings scanned a byte at a time.
fn plain_message_create(text: &str) -> Option<MessageCreate> {
    let mut rest = text.strip_prefix(r#"{"op":"message_create","d":{"#)?;
    let (mut channel_id, mut content, mut nonce, mut reply_to) = (None, None, None, None);
    loop {
        let (key, after) = plain_string(rest)?;
        rest = after.strip_prefix(':')?;
        let value = if key == "reply_to"
            && let Some(after) = rest.strip_prefix("null")
        {
            rest = after;
            None
        } else {
            let (value, after) = plain_string(rest)?;
            rest = after;
            Some(value.to_owned())
        };
        let slot = match key {
            "channel_id" => &mut channel_id,
            "content" => &mut content,
            "nonce" => &mut nonce,
            "reply_to" => &mut reply_to,
            _ => return None,
        };
        if slot.replace(value).is_some() {
            return None;
        }
        match rest.as_bytes().first() {
            Some(b',') => rest = &rest[1..],
            _ if rest == "}}" => break,
            _ => return None,
        }
    }
    Some(MessageCreate {
        channel_id: channel_id??,
        content: content??,
        nonce: nonce??,
        reply_to: reply_to.flatten(),
    })
}

/// A JSON string at the start of `text` that holds no escape and no control character (as
/// JSON allows none unescaped), and what follows it: the first byte JSON escapes must be
/// its closing `"`.
fn plain_string(text: &str) -> Option<(&str, &str)> {
    let body = text.strip_prefix('"')?;
    let end = first_escaped(body.as_bytes())?;
    (body.as_bytes()[end] == b'"').then(|| (&body[..end], &body[end + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `message_create` frames well formed and not, in the shapes a client could send.
    const FRAMES: &[&str] = &[
        r#"{"op":"message_create","d":{"channel_id":"12","content":"hi","nonce":"n1"}}"#,
        r#"{"d":{"channel_id":"12","content":"hi","nonce":"n1"},"op":"message_create"}"#,
        r#"{"op":"message_create","d":{"channel_id":"12","content":"a \"q\" \u00e9","nonce":"n","reply_to":"9"}}"#,
        r#"{"op":"message_create","d":{"channel_id":"12","content":"hi","nonce":"n","reply_to":null}}"#,
        r#"{"op":"message\u005fcreate","d":{"channel_id":"1","content":"x","nonce":"n"}}"#,
        r#"{"op":"message_create","d":{"channel_id":"1","content":"x","nonce":"n"},"extra":[1,{}]}"#,
        r#"{"op":"message_create","d":{"channel_id":"1","content":"x"}}"#,
        r#"{"op":"message_create","d":{"channel_id":"1","content":"x","nonce":"n","color":1}}"#,
        r#"{"op":"message_create","d":{"channel_id":1,"content":"x","nonce":"n"}}"#,
        r#"{"op":"message_create","d":null}"#,
        r#"{"op":"message_create"}"#,
        r#"{"op":"message_create","d":{"channel_id":"1","content":"x","nonce":"n"},"d":{}}"#,
        r#"{"op":"message_create","op":"heartbeat","d":{"channel_id":"1","content":"x","nonce":"n"}}"#,
        r#"{"op":"message_create","d":{"channel_id":"1","content":"x","nonce":"n"}"#,
        r#"{"op":"message_create","d":{"channel_id":"1","content":"x","nonce":"n"}} trailing"#,
        r#"{"op":"heartbeat","d":{"seq":3}}"#,
        r#"{"op":"typing_start","d":{"channel_id":"4"}}"#,
        r#"{"op":"fly","d":{}}"#,
        r#"["message_create"]"#,
        "",
    ];

    /// What the plain reader is given: the frames above, others in the shapes it takes and
    /// nearly takes, and each of them cut short at every character and with one byte swapped
    /// for each of a few that matter to JSON.
    fn plain_cases() -> Vec<String> {
        let mut base: Vec<String> = FRAMES.iter().map(|t| t.to_string()).collect();
        base.extend(
            [
                r#"{"op":"message_create","d":{"nonce":"n","content":"hi","channel_id":"12"}}"#,
                r#"{"op":"message_create","d":{"channel_id":"12","content":"olá, 👋 {}[]:,","nonce":"n","reply_to":"7"}}"#,
                r#"{"op":"message_create","d":{"reply_to":null,"channel_id":"12","content":"hi","nonce":"n"}}"#,
                r#"{"op":"message_create","d":{"channel_id":"12","content":"","nonce":""}}"#,
                r#"{"op":"message_create","d":{"channel_id":"12","content":"a\nb","nonce":"n"}}"#,
                r#"{"op":"message_create","d":{"channel_id":"12","content":"hi","content":"ho","nonce":"n"}}"#,
                r#"{"op":"message_create","d":{"channel_id":"12","content":"hi","nonce":"n","reply_to":null,"reply_to":"3"}}"#,
                r#"{"op":"message_create","d":{"channel_id":"12", "content":"hi","nonce":"n"}}"#,
                r#"{"op":"message_create","d":{"channel_id":"12","content":"hi","nonce":null}}"#,
                r#"{"op":"message_create","d":{"channel_id":"12","content":"hi","nonce":"n","reply_to":nul}}"#,
                "{\"op\":\"message_create\",\"d\":{\"channel_id\":\"1\",\"content\":\"a\tb\",\"nonce\":\"n\"}}",
                "{\"op\":\"message_create\",\"d\":{\"channel_id\":\"1\",\"content\":\"a\u{7f}\u{1}b\",\"nonce\":\"n\"}}",
            ]
            .map(String::from),
        );
        let mut cases = base.clone();
        for text in &base {
            for end in (0..text.len()).filter(|&i| text.is_char_boundary(i)) {
                cases.push(text[..end].to_owned());
            }
            for at in (0..text.len()).filter(|&i| text.as_bytes()[i].is_ascii()) {
                for b in ['"', '\\', '\n', '{', '}', ',', ':', ' ', 'x', '0'] {
                    let mut swapped = text.clone();
                    swapped.replace_range(at..at + 1, b.encode_utf8(&mut [0; 4]));
                    cases.push(swapped);
                }
            }
        }
        cases
    }

    #[test]
    fn the_plain_reader_reads_what_it_takes_as_serde_does() {
        let mut taken = 0;
        for text in plain_cases() {
            let Some(plain) = plain_message_create(&text) else {
                continue;
            };
            taken += 1;
            match serde_json::from_str::<OnePass>(&text) {
                Ok(OnePass::MessageCreate(m)) => {
                    assert_eq!(format!("{plain:?}"), format!("{m:?}"), "{text}")
                }
                Err(err) => panic!("taken, but serde refuses it ({err}): {text}"),
            }
        }
        // Swapping a byte inside a value keeps most frames readable.
        assert!(taken > 400, "{taken}");
    }

    #[test]
    fn the_plain_reader_takes_the_frames_clients_write() {
        for text in [
            FRAMES[0],
            r#"{"op":"message_create","d":{"channel_id":"12","content":"hi","nonce":"n","reply_to":"9"}}"#,
            r#"{"op":"message_create","d":{"channel_id":"12","content":"olá 👋","nonce":"n","reply_to":null}}"#,
        ] {
            assert!(plain_message_create(text).is_some(), "{text}");
        }
        let m = plain_message_create(FRAMES[0]).expect("taken");
        assert_eq!(
            (
                m.channel_id.as_str(),
                m.content.as_str(),
                m.nonce.as_str(),
                m.reply_to
            ),
            ("12", "hi", "n1", None)
        );
        // Escapes, whitespace, other keys and a second `op` are left to serde.
        for text in [
            FRAMES[1], FRAMES[2], FRAMES[4], FRAMES[5], FRAMES[7], FRAMES[12],
        ] {
            assert!(plain_message_create(text).is_none(), "{text}");
        }
    }

    #[test]
    fn one_pass_and_two_passes_read_every_frame_alike() {
        for text in FRAMES {
            let one = format!("{:?}", ClientFrame::parse(text));
            let two = format!("{:?}", ClientFrame::parse_in_two_passes(text));
            assert_eq!(one, two, "{text}");
        }
    }

    #[test]
    fn a_message_create_reads_in_one_pass_in_either_key_order() {
        for text in &FRAMES[..6] {
            let one: Result<OnePass, _> = serde_json::from_str(text);
            assert!(one.is_ok(), "{text}");
            assert!(
                matches!(ClientFrame::parse(text), Ok(ClientFrame::MessageCreate(_))),
                "{text}"
            );
        }
        let m = match ClientFrame::parse(FRAMES[2]) {
            Ok(ClientFrame::MessageCreate(m)) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(m.content, "a \"q\" é");
        assert_eq!(m.reply_to.as_deref(), Some("9"));
        // Wrong data is refused as the op's, with the field named.
        match ClientFrame::parse(FRAMES[6]) {
            Err(FrameError::InvalidData { op, error }) => {
                assert_eq!(op, "message_create");
                assert!(error.contains("nonce"), "{error}");
            }
            other => panic!("{other:?}"),
        }
    }
}
