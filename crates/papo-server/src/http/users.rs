//! `/users`: the caller's own account and public profiles.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use papo_core::error::{ErrorCode, FieldCode, FieldError, FieldErrors};
use papo_core::id::UserId;
use papo_core::presence::{CustomStatus, Status};
use papo_core::settings::{Locale, Patch, SettingsPatch, UserSettings, patch_field};
use papo_core::validate::{limits, optional_name, optional_text};
use papo_gateway::hub::Topic;
use papo_gateway::protocol::EventKind;
use papo_store::users::{self, ProfileUpdate, UserRow};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::ToSchema;

use crate::auth::Auth;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::ApiJson;
use crate::http::rfc3339;
use crate::state::AppState;

/// Routes under `/api/v1/users`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/users/@me", get(get_me).patch(patch_me))
        .route("/api/v1/users/{id}", get(get_user))
}

/// A profile as anyone may see it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PublicUser {
    /// Id.
    pub id: UserId,
    /// Unique lower-case name.
    pub username: String,
    /// Name shown instead of the username, if set.
    pub display_name: Option<String>,
    /// About me.
    pub bio: Option<String>,
    /// Pronouns.
    pub pronouns: Option<String>,
    /// 24-bit RGB accent colour.
    pub accent_color: Option<u32>,
    /// Avatar image (arrives with file uploads).
    pub avatar: Option<String>,
    /// Banner image (arrives with file uploads).
    pub banner: Option<String>,
    /// RFC 3339.
    pub created_at: String,
}

/// The caller's own account: the public profile plus email and settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct CurrentUser {
    /// The public part.
    #[serde(flatten)]
    pub profile: PublicUser,
    /// Email address.
    pub email: String,
    /// Settings.
    #[schema(value_type = UserSettings)]
    pub settings: Box<RawValue>,
}

impl PublicUser {
    /// Stands in for an account that no longer exists.
    pub fn deleted(id: UserId) -> Self {
        Self {
            id,
            username: "deleted-user".into(),
            display_name: None,
            bio: None,
            pronouns: None,
            accent_color: None,
            avatar: None,
            banner: None,
            created_at: rfc3339(0),
        }
    }

    /// From a stored row.
    pub fn from_row(row: &UserRow) -> Self {
        Self {
            id: row.user_id(),
            username: row.username.clone(),
            display_name: row.display_name.clone(),
            bio: row.bio.clone(),
            pronouns: row.pronouns.clone(),
            accent_color: row.accent_color.and_then(|c| u32::try_from(c).ok()),
            avatar: row.avatar.clone(),
            banner: row.banner.clone(),
            created_at: rfc3339(row.created_at),
        }
    }
}

impl CurrentUser {
    /// From a stored row.
    pub fn from_row(row: &UserRow) -> Self {
        Self {
            profile: PublicUser::from_row(row),
            email: row.email.clone(),
            settings: settings_json(&row.settings),
        }
    }
}

/// Stored settings in the API's form: read (defaults where unreadable) and written again.
///
/// Most accounts hold the same text, the defaults, so the last answer is kept per thread:
/// every identify read and wrote the settings for its `ready` (callgrind, quick S1: 121.8M
/// → 112.8M instructions for 1,000 identifies with this).
fn settings_json(stored: &str) -> Box<RawValue> {
    with_settings_json(stored, |json| json.to_owned())
}

/// Calls `f` with [`settings_json`]'s answer for `stored`, without copying it. The thread's
/// last answer is borrowed while `f` runs, so `f` must not ask for settings itself.
pub(crate) fn with_settings_json<R>(stored: &str, f: impl FnOnce(&RawValue) -> R) -> R {
    with_read_settings(stored, |read| f(&read.json))
}

/// The presence the user saved in `stored` settings, as a new gateway session starts with
/// it: the custom status is dropped once expired at `now_ms`.
pub(crate) fn saved_presence(stored: &str, now_ms: i64) -> (Status, Option<CustomStatus>) {
    with_read_settings(stored, |read| {
        let custom = read
            .custom_status
            .as_ref()
            .filter(|c| !c.expired(now_ms))
            .cloned();
        (read.status, custom)
    })
}

/// Stored settings as read: the API's JSON and the saved presence.
struct ReadSettings {
    json: Box<RawValue>,
    status: Status,
    custom_status: Option<CustomStatus>,
}

fn with_read_settings<R>(stored: &str, f: impl FnOnce(&ReadSettings) -> R) -> R {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(String, ReadSettings)>> =
            const { std::cell::RefCell::new(None) };
    }
    LAST.with_borrow_mut(|last| {
        if let Some((text, read)) = last.as_ref()
            && text == stored
        {
            return f(read);
        }
        let settings = parse_settings(stored);
        let read = ReadSettings {
            json: serde_json::value::to_raw_value(&settings).expect("settings are plain data"),
            status: settings.status,
            custom_status: settings.custom_status,
        };
        let out = f(&read);
        *last = Some((stored.to_owned(), read));
        out
    })
}

fn parse_settings(json: &str) -> UserSettings {
    serde_json::from_str(json).unwrap_or_else(|err| {
        tracing::warn!(%err, "stored settings unreadable; using defaults");
        UserSettings::default()
    })
}

/// The language `user` saved in their settings, if any (`None`: follow the browser).
pub(crate) async fn saved_locale(state: &AppState, user: UserId) -> ApiResult<Option<Locale>> {
    Ok(parse_settings(&load_me(state, user).await?.settings).locale)
}

/// Loads the caller's row; a missing row means the account was deleted under a live token.
pub(crate) async fn load_me(state: &AppState, id: UserId) -> ApiResult<UserRow> {
    users::by_id(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized))
}

/// The caller's own account.
#[utoipa::path(get, path = "/api/v1/users/@me", tag = "users",
    security(("bearer" = [])),
    responses((status = 200, body = CurrentUser), (status = 401, body = ErrorBody)))]
pub async fn get_me(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<CurrentUser>> {
    let row = load_me(&state, auth.user_id).await?;
    Ok(Json(CurrentUser::from_row(&row)))
}

/// Changes to the caller's profile; absent keys are left alone, `null` clears.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ProfilePatch {
    /// ≤ 32 characters.
    #[serde(deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub display_name: Patch<String>,
    /// ≤ 190 characters.
    #[serde(deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub bio: Patch<String>,
    /// ≤ 40 characters.
    #[serde(deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub pronouns: Patch<String>,
    /// 0 to 16777215 (0xFFFFFF).
    #[serde(deserialize_with = "patch_field")]
    #[schema(value_type = Option<u32>)]
    pub accent_color: Patch<u32>,
    /// Settings to merge.
    pub settings: Option<SettingsPatch>,
}

/// How often a profile edit is retried when another edit of the same account lands first.
const EDIT_ATTEMPTS: usize = 8;

/// Edits the caller's profile and settings.
#[utoipa::path(patch, path = "/api/v1/users/@me", tag = "users",
    security(("bearer" = [])), request_body = ProfilePatch,
    responses((status = 200, body = CurrentUser), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn patch_me(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(patch): ApiJson<ProfilePatch>,
) -> ApiResult<Json<CurrentUser>> {
    crate::http::limit_change(&state, auth.user_id)?;
    for _ in 0..EDIT_ATTEMPTS {
        let row = load_me(&state, auth.user_id).await?;
        let merged = merge(&row, &patch)?;
        let update = ProfileUpdate {
            display_name: merged.display_name.as_deref(),
            bio: merged.bio.as_deref(),
            pronouns: merged.pronouns.as_deref(),
            accent_color: merged.accent_color.map(i64::from),
            settings: &merged.settings,
        };
        let now = crate::now_ms();
        if users::update_profile(&state.db, auth.user_id, row.updated_at, &update, now).await? {
            let before = row;
            let row = load_me(&state, auth.user_id).await?;
            let me = CurrentUser::from_row(&row);
            state
                .hub
                .emit(Topic::User(auth.user_id), EventKind::UserUpdated, &me);
            // A presence chosen is taken by every session of the user, this one's included,
            // even where a session had chosen another on its own.
            if patch
                .settings
                .as_ref()
                .is_some_and(|s| s.status.is_some() || s.custom_status.is_some())
            {
                let (status, custom) = saved_presence(&row.settings, now);
                state.hub.choose_presence(auth.user_id, status, custom);
            }
            let public = |r: &UserRow| {
                (
                    r.display_name.clone(),
                    r.bio.clone(),
                    r.pronouns.clone(),
                    r.accent_color,
                )
            };
            if public(&before) != public(&row) {
                crate::http::servers::members::announce_profile(&state, &row).await?;
            }
            return Ok(Json(me));
        }
    }
    Err(ApiError::internal(anyhow::anyhow!(
        "profile edit kept losing to concurrent edits"
    )))
}

struct Merged {
    display_name: Option<String>,
    bio: Option<String>,
    pronouns: Option<String>,
    accent_color: Option<u32>,
    settings: String,
}

/// Parses one optional text field of a profile, with its longest length.
type Parse = fn(Option<&str>, usize) -> Result<Option<String>, FieldError>;

/// Applies `patch` to `row`, validating every changed value.
fn merge(row: &UserRow, patch: &ProfilePatch) -> ApiResult<Merged> {
    let mut errors = FieldErrors::new();
    let mut text =
        |name: &str, change: &Patch<String>, current: &Option<String>, max, parse: Parse| {
            match change {
                None => current.clone(),
                Some(value) => match parse(value.as_deref(), max) {
                    Ok(v) => v,
                    Err(e) => {
                        errors.insert(name.to_owned(), e);
                        None
                    }
                },
            }
        };
    let display_name = text(
        "display_name",
        &patch.display_name,
        &row.display_name,
        limits::DISPLAY_NAME,
        optional_name,
    );
    let bio = text("bio", &patch.bio, &row.bio, limits::BIO, |t, max| {
        optional_text(t, max, true)
    });
    let pronouns = text(
        "pronouns",
        &patch.pronouns,
        &row.pronouns,
        limits::PRONOUNS,
        |t, max| optional_text(t, max, false),
    );
    let accent_color = match patch.accent_color {
        None => row.accent_color.and_then(|c| u32::try_from(c).ok()),
        Some(Some(c)) if c > limits::ACCENT_COLOR_MAX => {
            errors.insert(
                "accent_color".into(),
                FieldError::new(
                    FieldCode::InvalidValue,
                    "Colours are 0 to 16777215 (0xFFFFFF).",
                ),
            );
            None
        }
        Some(c) => c,
    };
    let mut settings = parse_settings(&row.settings);
    if let Some(sp) = &patch.settings
        && let Err(e) = settings.apply(sp.clone())
    {
        errors.extend(e);
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    Ok(Merged {
        display_name,
        bio,
        pronouns,
        accent_color,
        settings: serde_json::to_string(&settings).map_err(ApiError::internal)?,
    })
}

/// A user's public profile.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users",
    security(("bearer" = [])), params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = PublicUser), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn get_user(
    State(state): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<PublicUser>> {
    let id: UserId = id.parse().map_err(|_| ApiError::new(ErrorCode::NotFound))?;
    let row = users::by_id(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound).with_message("Unknown user."))?;
    Ok(Json(PublicUser::from_row(&row)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_settings_are_answered_as_read_whatever_came_before() {
        let defaults = serde_json::to_value(UserSettings::default()).unwrap();
        let dark = r#"{"theme":"dark"}"#;
        let dark_json = serde_json::to_value(UserSettings {
            theme: papo_core::settings::Theme::Dark,
            ..UserSettings::default()
        })
        .unwrap();
        let read = |text: &str| -> serde_json::Value {
            serde_json::from_str(settings_json(text).get()).unwrap()
        };
        assert_eq!(read("{}"), defaults);
        assert_eq!(read("{}"), defaults, "the kept answer");
        assert_eq!(
            read(dark),
            dark_json,
            "another text is read, not the kept one"
        );
        assert_eq!(read("{}"), defaults);
        assert_eq!(read("not json"), defaults, "unreadable: the defaults");
    }
}
