//! A user's presence as they choose it: a status and a custom status line.
//!
//! The gateway sets it per session (`presence_update`); the user's settings keep the choice,
//! so that every device, and every new session, starts from it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{FieldCode, FieldError};

/// A presence status.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Shown as offline to others.
    Invisible,
    /// Away.
    Idle,
    /// Do not disturb.
    Dnd,
    /// Available.
    #[default]
    Online,
    /// No session at all (never chosen by a client).
    Offline,
}

impl Status {
    /// How "present" a status is: the session with the highest rank sets the user's status.
    pub const fn rank(self) -> u8 {
        match self {
            Self::Offline => 0,
            Self::Invisible => 1,
            Self::Idle => 2,
            Self::Dnd => 3,
            Self::Online => 4,
        }
    }

    /// The name on the wire (as serde writes it).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Invisible => "invisible",
            Self::Idle => "idle",
            Self::Dnd => "dnd",
            Self::Online => "online",
            Self::Offline => "offline",
        }
    }

    /// Whether a user may choose it (`offline` is what no session means).
    pub const fn choosable(self) -> bool {
        !matches!(self, Self::Offline)
    }
}

/// A custom status line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomStatus {
    /// ≤ 128 characters.
    pub text: String,
    /// ≤ 32 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emoji: Option<String>,
    /// RFC 3339: clients hide the status from then on, and a new session starts without it.
    /// A time already past is accepted, as clocks differ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

/// Most characters in [`CustomStatus::text`].
pub const MAX_STATUS_TEXT: usize = 128;
/// Most characters in [`CustomStatus::emoji`].
pub const MAX_STATUS_EMOJI: usize = 32;

/// What is wrong with a custom status: the field (`text`, `emoji` or `expires_at`) and why.
pub type CustomStatusError = (&'static str, FieldError);

impl CustomStatus {
    /// Checks lengths, characters and the expiry's form.
    pub fn check(&self) -> Result<(), CustomStatusError> {
        if self.text.chars().count() > MAX_STATUS_TEXT {
            return Err(("text", FieldError::at_most(MAX_STATUS_TEXT as u32)));
        }
        if let Some(emoji) = &self.emoji {
            if emoji.chars().count() > MAX_STATUS_EMOJI {
                return Err(("emoji", FieldError::at_most(MAX_STATUS_EMOJI as u32)));
            }
            crate::validate::line_chars(emoji).map_err(|e| ("emoji", e))?;
        }
        crate::validate::line_chars(&self.text).map_err(|e| ("text", e))?;
        if self.expires_at.is_some() && self.expiry().is_none() {
            return Err((
                "expires_at",
                FieldError::new(
                    FieldCode::InvalidValue,
                    "expires_at must be an RFC 3339 timestamp.",
                ),
            ));
        }
        Ok(())
    }

    /// `expires_at` as Unix milliseconds; `None` without one or when it does not read.
    pub fn expiry(&self) -> Option<i64> {
        let at = time::OffsetDateTime::parse(
            self.expires_at.as_deref()?,
            &time::format_description::well_known::Rfc3339,
        )
        .ok()?;
        i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
    }

    /// Whether it has expired at `now_ms` (Unix milliseconds).
    pub fn expired(&self, now_ms: i64) -> bool {
        self.expiry().is_some_and(|at| at <= now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(text: &str, emoji: Option<&str>, expires_at: Option<&str>) -> CustomStatus {
        CustomStatus {
            text: text.into(),
            emoji: emoji.map(Into::into),
            expires_at: expires_at.map(Into::into),
        }
    }

    #[test]
    fn a_custom_status_is_checked_field_by_field() {
        assert_eq!(status("lunch", Some("🍕"), None).check(), Ok(()));
        let field = |c: CustomStatus| c.check().unwrap_err().0;
        assert_eq!(field(status(&"a".repeat(129), None, None)), "text");
        assert_eq!(
            status(&"é".repeat(128), None, None).check(),
            Ok(()),
            "characters are counted, not bytes"
        );
        assert_eq!(field(status("x", Some(&"🍕".repeat(33)), None)), "emoji");
        assert_eq!(field(status("admin\u{200b}", None, None)), "text");
        assert_eq!(field(status("x", Some("\u{202e}"), None)), "emoji");
        assert_eq!(field(status("x", None, Some("tomorrow"))), "expires_at");
        let (_, e) = status("x", None, Some("2026-13-01T00:00:00Z"))
            .check()
            .unwrap_err();
        assert_eq!(e.code, FieldCode::InvalidValue);
    }

    #[test]
    fn expiry_is_read_in_milliseconds() {
        let c = status("x", None, Some("1970-01-01T00:00:01.500Z"));
        assert_eq!(c.expiry(), Some(1_500));
        assert!(c.expired(1_500));
        assert!(!c.expired(1_499));
        assert!(!status("x", None, None).expired(i64::MAX));
    }

    #[test]
    fn offline_is_not_a_choice() {
        assert!(!Status::Offline.choosable());
        assert!(Status::Invisible.choosable());
        assert_eq!(Status::default(), Status::Online);
    }
}
