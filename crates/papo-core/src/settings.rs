//! A user's own settings: language, theme, privacy, audio/video preferences and the presence
//! they chose.
//!
//! Stored as one JSON document per user. Clients send a [`SettingsPatch`] (any subset, nested
//! objects merged); unknown keys are rejected so a typo never silently does nothing.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{FieldCode, FieldError, FieldErrors};
use crate::presence::{CustomStatus, Status};

/// UI language. `null` in [`UserSettings::locale`] means "follow the browser".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum Locale {
    /// English.
    #[serde(rename = "en")]
    En,
    /// Brazilian Portuguese.
    #[serde(rename = "pt-BR")]
    PtBr,
}

/// Colour theme.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    /// Dark.
    Dark,
    /// Light.
    Light,
    /// Follow the operating system.
    #[default]
    System,
}

/// Who may do something to a user.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Anyone who shares a server, or anyone at all for friend requests.
    #[default]
    Everyone,
    /// Friends of friends (friend requests only).
    FriendsOfFriends,
    /// Friends only.
    Friends,
    /// Nobody.
    Nobody,
}

/// Privacy preferences.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PrivacySettings {
    /// Who may open a direct message.
    pub allow_dms: Audience,
    /// Who may send a friend request.
    pub friend_requests: Audience,
    /// Whether others see what the user is doing (custom status, activity).
    pub show_activity: bool,
}

impl Default for PrivacySettings {
    fn default() -> Self {
        Self {
            allow_dms: Audience::Everyone,
            friend_requests: Audience::Everyone,
            show_activity: true,
        }
    }
}

/// Audio and video preferences, applied by the client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AudioVideoSettings {
    /// Preferred microphone (browser device id), `null` for the default.
    pub input_device: Option<String>,
    /// Preferred speaker, `null` for the default.
    pub output_device: Option<String>,
    /// Preferred camera, `null` for the default.
    pub video_device: Option<String>,
    /// Microphone gain in percent, 0–200.
    pub input_volume: u8,
    /// Output volume in percent, 0–200.
    pub output_volume: u8,
    /// Browser noise suppression.
    pub noise_suppression: bool,
    /// Browser echo cancellation.
    pub echo_cancellation: bool,
    /// Transmit only while a key is held.
    pub push_to_talk: bool,
}

impl Default for AudioVideoSettings {
    fn default() -> Self {
        Self {
            input_device: None,
            output_device: None,
            video_device: None,
            input_volume: 100,
            output_volume: 100,
            noise_suppression: true,
            echo_cancellation: true,
            push_to_talk: false,
        }
    }
}

/// All of a user's settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct UserSettings {
    /// UI language; `null` follows the browser.
    pub locale: Option<Locale>,
    /// Colour theme.
    pub theme: Theme,
    /// Privacy preferences.
    pub privacy: PrivacySettings,
    /// Audio and video preferences.
    pub audio_video: AudioVideoSettings,
    /// The status the user chose, on every device: each new gateway session starts with it.
    pub status: Status,
    /// The custom status the user set, on every device (kept after it expires; clients and
    /// new sessions ignore it from then on).
    pub custom_status: Option<CustomStatus>,
}

/// A field that may be absent (leave it), `null` (clear it) or a value (set it).
pub type Patch<T> = Option<Option<T>>;

/// Deserializes a [`Patch`]: with `#[serde(default)]` an absent key stays `None` and an explicit
/// `null` becomes `Some(None)`.
pub fn patch_field<'de, T, D>(d: D) -> Result<Patch<T>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Changes to [`UserSettings`]; absent keys are left alone.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SettingsPatch {
    /// New language, or `null` to follow the browser.
    #[serde(deserialize_with = "patch_field")]
    #[schema(value_type = Option<Locale>)]
    pub locale: Patch<Locale>,
    /// New theme.
    pub theme: Option<Theme>,
    /// Privacy changes.
    pub privacy: Option<PrivacyPatch>,
    /// Audio/video changes.
    pub audio_video: Option<AudioVideoPatch>,
    /// New status: `online`, `idle`, `dnd` or `invisible`.
    pub status: Option<Status>,
    /// New custom status, or `null` to clear it.
    #[serde(deserialize_with = "patch_field")]
    #[schema(value_type = Option<CustomStatus>)]
    pub custom_status: Patch<CustomStatus>,
}

/// Changes to [`PrivacySettings`].
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PrivacyPatch {
    /// See [`PrivacySettings::allow_dms`].
    pub allow_dms: Option<Audience>,
    /// See [`PrivacySettings::friend_requests`].
    pub friend_requests: Option<Audience>,
    /// See [`PrivacySettings::show_activity`].
    pub show_activity: Option<bool>,
}

/// Changes to [`AudioVideoSettings`].
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AudioVideoPatch {
    /// Microphone device id, `null` for the default.
    #[serde(deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub input_device: Patch<String>,
    /// Speaker device id, `null` for the default.
    #[serde(deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub output_device: Patch<String>,
    /// Camera device id, `null` for the default.
    #[serde(deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub video_device: Patch<String>,
    /// 0–200.
    pub input_volume: Option<u8>,
    /// 0–200.
    pub output_volume: Option<u8>,
    /// See [`AudioVideoSettings::noise_suppression`].
    pub noise_suppression: Option<bool>,
    /// See [`AudioVideoSettings::echo_cancellation`].
    pub echo_cancellation: Option<bool>,
    /// See [`AudioVideoSettings::push_to_talk`].
    pub push_to_talk: Option<bool>,
}

const MAX_VOLUME: u8 = 200;
const MAX_DEVICE_ID: usize = 256;

impl UserSettings {
    /// Applies `patch` if every value is valid; otherwise changes nothing and names the bad
    /// fields (`settings.<path>`).
    pub fn apply(&mut self, patch: SettingsPatch) -> Result<(), FieldErrors> {
        let mut next = self.clone();
        let mut errors = FieldErrors::new();
        if let Some(locale) = patch.locale {
            next.locale = locale;
        }
        if let Some(theme) = patch.theme {
            next.theme = theme;
        }
        if let Some(status) = patch.status {
            if !status.choosable() {
                errors.insert(
                    "settings.status".into(),
                    FieldError::new(
                        FieldCode::InvalidValue,
                        "Use online, idle, dnd or invisible.",
                    ),
                );
            }
            next.status = status;
        }
        if let Some(custom) = patch.custom_status {
            if let Some(Err((field, e))) = custom.as_ref().map(CustomStatus::check) {
                errors.insert(format!("settings.custom_status.{field}"), e);
            }
            next.custom_status = custom;
        }
        if let Some(p) = patch.privacy {
            if let Some(v) = p.allow_dms {
                if v == Audience::FriendsOfFriends {
                    errors.insert(
                        "settings.privacy.allow_dms".into(),
                        FieldError::new(
                            FieldCode::InvalidValue,
                            "Use everyone, friends or nobody.",
                        ),
                    );
                }
                next.privacy.allow_dms = v;
            }
            if let Some(v) = p.friend_requests {
                next.privacy.friend_requests = v;
            }
            if let Some(v) = p.show_activity {
                next.privacy.show_activity = v;
            }
        }
        if let Some(av) = patch.audio_video {
            let a = &mut next.audio_video;
            for (name, patch, slot) in [
                ("input_device", av.input_device, &mut a.input_device),
                ("output_device", av.output_device, &mut a.output_device),
                ("video_device", av.video_device, &mut a.video_device),
            ] {
                if let Some(value) = patch {
                    if value.as_ref().is_some_and(|v| v.len() > MAX_DEVICE_ID) {
                        errors.insert(
                            format!("settings.audio_video.{name}"),
                            FieldError::new(
                                FieldCode::TooLong,
                                "Device ids are at most 256 bytes.",
                            ),
                        );
                    } else if value
                        .as_ref()
                        .is_some_and(|v| v.chars().any(char::is_control))
                    {
                        // As in every other text field (browsers' ids are printable).
                        errors.insert(
                            format!("settings.audio_video.{name}"),
                            FieldError::new(
                                FieldCode::InvalidValue,
                                "Control characters are not allowed.",
                            ),
                        );
                    }
                    *slot = value;
                }
            }
            for (name, patch, slot) in [
                ("input_volume", av.input_volume, &mut a.input_volume),
                ("output_volume", av.output_volume, &mut a.output_volume),
            ] {
                if let Some(v) = patch {
                    if v > MAX_VOLUME {
                        errors.insert(
                            format!("settings.audio_video.{name}"),
                            FieldError::new(FieldCode::InvalidValue, "Volume is 0 to 200."),
                        );
                    }
                    *slot = v;
                }
            }
            for (patch, slot) in [
                (av.noise_suppression, &mut a.noise_suppression),
                (av.echo_cancellation, &mut a.echo_cancellation),
                (av.push_to_talk, &mut a.push_to_talk),
            ] {
                if let Some(v) = patch {
                    *slot = v;
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        *self = next;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(json: &str) -> SettingsPatch {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn patches_merge_nested_objects() {
        let mut s = UserSettings::default();
        s.apply(patch(
            r#"{"locale":"pt-BR","audio_video":{"input_volume":150}}"#,
        ))
        .unwrap();
        assert_eq!(s.locale, Some(Locale::PtBr));
        assert_eq!(s.audio_video.input_volume, 150);
        assert!(
            s.audio_video.noise_suppression,
            "untouched fields keep their values"
        );
        s.apply(patch(r#"{"locale":null,"theme":"light"}"#))
            .unwrap();
        assert_eq!(s.locale, None);
        assert_eq!(s.theme, Theme::Light);
        s.apply(patch(r#"{}"#)).unwrap();
        assert_eq!(s.theme, Theme::Light, "absent keys change nothing");
    }

    #[test]
    fn invalid_values_change_nothing() {
        let mut s = UserSettings::default();
        let err = s
            .apply(patch(
                r#"{"theme":"dark","audio_video":{"output_volume":201}}"#,
            ))
            .unwrap_err();
        assert!(err.contains_key("settings.audio_video.output_volume"));
        assert_eq!(s, UserSettings::default());
        let err = s
            .apply(patch(r#"{"audio_video":{"input_device":"mic\u0000"}}"#))
            .unwrap_err();
        assert!(err.contains_key("settings.audio_video.input_device"));
        assert_eq!(s, UserSettings::default());
    }

    #[test]
    fn the_chosen_presence_is_kept_and_checked() {
        let mut s = UserSettings::default();
        s.apply(patch(
            r#"{"status":"invisible","custom_status":{"text":"away","emoji":"🌴"}}"#,
        ))
        .unwrap();
        assert_eq!(s.status, Status::Invisible);
        assert_eq!(s.custom_status.as_ref().unwrap().text, "away");
        s.apply(patch(r#"{"status":"dnd"}"#)).unwrap();
        assert!(s.custom_status.is_some(), "an absent custom status is kept");
        s.apply(patch(r#"{"custom_status":null}"#)).unwrap();
        assert_eq!(s.custom_status, None);
        assert_eq!(s.status, Status::Dnd);

        let before = s.clone();
        let err = s.apply(patch(r#"{"status":"offline"}"#)).unwrap_err();
        assert!(err.contains_key("settings.status"));
        let err = s
            .apply(patch(
                r#"{"theme":"light","custom_status":{"text":"x","expires_at":"soon"}}"#,
            ))
            .unwrap_err();
        assert!(err.contains_key("settings.custom_status.expires_at"));
        assert_eq!(s, before, "nothing changes when a field is wrong");
    }

    #[test]
    fn unknown_keys_and_values_are_rejected() {
        assert!(serde_json::from_str::<SettingsPatch>(r#"{"colour":"red"}"#).is_err());
        assert!(serde_json::from_str::<SettingsPatch>(r#"{"locale":"fr"}"#).is_err());
        assert!(serde_json::from_str::<SettingsPatch>(r#"{"privacy":{"x":1}}"#).is_err());
    }

    #[test]
    fn stored_documents_missing_new_keys_still_load() {
        let s: UserSettings = serde_json::from_str(r#"{"theme":"dark"}"#).unwrap();
        assert_eq!(s.theme, Theme::Dark);
        assert_eq!(s.audio_video.input_volume, 100);
    }
}
