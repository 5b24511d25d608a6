//! The refusal of a `message_create` whose data does not read (a field of the wrong type,
//! one missing, one unknown): sent back like any other refused send, with the client's nonce
//! (how it matches answers to sends) and the REST error body naming each field, instead of a
//! bare error it cannot place, which left the send pending forever.

use papo_core::error::{ErrorCode, FieldCode, FieldError, FieldErrors};
use serde_json::Value;

/// The nonce of the `message_create` frame `text`, if it has one (a string), and the REST
/// error body (`validation_failed` with `fields`) for its data.
pub fn message_create_refusal(text: &str) -> (Option<String>, String) {
    let frame: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let data = frame.get("d").and_then(Value::as_object);
    let mut fields = FieldErrors::new();
    let nonce = data
        .and_then(|d| d.get("nonce"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    match data {
        None => {
            fields.insert(
                "d".into(),
                FieldError::new(FieldCode::InvalidType, "Expected an object."),
            );
        }
        Some(d) => {
            for name in ["channel_id", "content", "nonce"] {
                match d.get(name) {
                    None => {
                        fields.insert(
                            name.into(),
                            FieldError::new(FieldCode::Required, "This field is required."),
                        );
                    }
                    Some(v) if !v.is_string() => {
                        fields.insert(
                            name.into(),
                            FieldError::new(FieldCode::InvalidType, "Expected a string."),
                        );
                    }
                    Some(_) => {}
                }
            }
            if d.get("reply_to")
                .is_some_and(|v| !v.is_string() && !v.is_null())
            {
                fields.insert(
                    "reply_to".into(),
                    FieldError::new(FieldCode::InvalidType, "Expected a message id or null."),
                );
            }
            for name in d.keys() {
                if !matches!(
                    name.as_str(),
                    "channel_id" | "content" | "nonce" | "reply_to"
                ) {
                    fields.insert(
                        name.clone(),
                        FieldError::new(FieldCode::InvalidValue, "Unknown field."),
                    );
                }
            }
        }
    }
    let code = ErrorCode::ValidationFailed;
    let body = serde_json::json!({
        "code": code,
        "message": code.default_message(),
        "fields": fields,
    });
    (nonce, body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(text: &str) -> (Option<String>, Value) {
        let (nonce, body) = message_create_refusal(text);
        (nonce, serde_json::from_str(&body).unwrap())
    }

    #[test]
    fn each_wrong_field_is_named_and_the_nonce_kept() {
        let (nonce, body) = refusal(
            r#"{"op":"message_create","d":{"channel_id":5,"content":"x","nonce":"e7","tts":false,"reply_to":1}}"#,
        );
        assert_eq!(nonce.as_deref(), Some("e7"));
        assert_eq!(body["code"], "validation_failed");
        assert_eq!(body["fields"]["channel_id"]["code"], "invalid_type");
        assert_eq!(body["fields"]["reply_to"]["code"], "invalid_type");
        assert_eq!(body["fields"]["tts"]["code"], "invalid_value");
        assert!(body["fields"].get("content").is_none());
        let (nonce, body) = refusal(r#"{"op":"message_create","d":{"content":"x","nonce":7}}"#);
        assert_eq!(nonce, None);
        assert_eq!(body["fields"]["channel_id"]["code"], "required");
        assert_eq!(body["fields"]["nonce"]["code"], "invalid_type");
        let (nonce, body) = refusal(r#"{"op":"message_create","d":null}"#);
        assert_eq!(nonce, None);
        assert_eq!(body["fields"]["d"]["code"], "invalid_type");
    }
}
