//! Client frames read from their `{"op", "d"}` envelopes.
//!
//! A `message_create`, the frame a chat sends most, is read in one pass. Any other frame,
//! and a `message_create` that does not read so, is read in two: the envelope with `d` kept
//! as raw JSON, then `d` by its op, so that an error says which op's data was wrong.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{ClientFrame, FrameError, MessageCreate};

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
