//! Stable, machine-readable error codes shared by REST responses and gateway error frames.
//!
//! Clients switch on `code`; `message` is for humans and may change. Codes are never renamed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A top-level error code. Serialized as `snake_case`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The body is not well-formed JSON (400).
    InvalidJson,
    /// The request is malformed in a way other than JSON syntax (400).
    BadRequest,
    /// One or more fields are invalid; see `fields` (422).
    ValidationFailed,
    /// No, invalid, expired or revoked access token (401).
    Unauthorized,
    /// Login failed: unknown account or wrong password, indistinguishably (401).
    InvalidCredentials,
    /// The refresh token is unknown, expired, revoked or was already used (401).
    InvalidRefreshToken,
    /// The current password given to confirm a change is wrong (401).
    InvalidPassword,
    /// Authenticated but not allowed (403).
    Forbidden,
    /// No such route or resource, or one the caller may not see (404).
    NotFound,
    /// The route exists but not with this method (405).
    MethodNotAllowed,
    /// The username is already in use (409).
    UsernameTaken,
    /// The email address is already in use (409).
    EmailTaken,
    /// The owner tried to leave their own server: delete or transfer it (409).
    OwnerCannotLeave,
    /// The invite has expired (410).
    InviteExpired,
    /// The invite has reached its maximum uses (410).
    InviteUsedUp,
    /// The invite was revoked (410).
    InviteRevoked,
    /// The user is banned from that server (403).
    Banned,
    /// The body exceeds the size limit (413).
    PayloadTooLarge,
    /// The body is not `application/json` (415).
    UnsupportedMediaType,
    /// Too many requests; retry after `Retry-After` seconds (429).
    RateLimited,
    /// The channel's slow mode: the member must wait `retry_after` seconds (429).
    Slowmode,
    /// The channel already has 50 pinned messages (409).
    TooManyPins,
    /// The server already has 250 roles (409).
    TooManyRoles,
    /// The user is in 200 servers already: one more would not be listed (409).
    TooManyServers,
    /// The message has 20 different reactions already (409).
    TooManyReactions,
    /// The server has 500 channels already, categories included (409).
    TooManyChannels,
    /// The server has 200 live invites already: one more would not be listed (409).
    TooManyInvites,
    /// An unexpected failure on the server; details are in its logs, never in the response (500).
    InternalError,
    /// A dependency (the database) is unreachable (503).
    ServiceUnavailable,
}

impl ErrorCode {
    /// The HTTP status this code is answered with.
    pub const fn http_status(self) -> u16 {
        use ErrorCode::*;
        match self {
            InvalidJson | BadRequest => 400,
            Unauthorized | InvalidCredentials | InvalidRefreshToken | InvalidPassword => 401,
            Forbidden | Banned => 403,
            NotFound => 404,
            MethodNotAllowed => 405,
            UsernameTaken | EmailTaken | OwnerCannotLeave | TooManyPins | TooManyRoles
            | TooManyServers | TooManyReactions | TooManyChannels | TooManyInvites => 409,
            InviteExpired | InviteUsedUp | InviteRevoked => 410,
            PayloadTooLarge => 413,
            UnsupportedMediaType => 415,
            ValidationFailed => 422,
            RateLimited | Slowmode => 429,
            InternalError => 500,
            ServiceUnavailable => 503,
        }
    }

    /// The default human-readable message.
    pub const fn default_message(self) -> &'static str {
        use ErrorCode::*;
        match self {
            InvalidJson => "The request body is not valid JSON.",
            BadRequest => "The request is malformed.",
            ValidationFailed => "Some fields are invalid.",
            Unauthorized => "Authentication is required.",
            InvalidCredentials => "Wrong login or password.",
            InvalidRefreshToken => "The refresh token is invalid or was already used.",
            InvalidPassword => "The current password is wrong.",
            Forbidden => "You are not allowed to do that.",
            NotFound => "Not found.",
            MethodNotAllowed => "Method not allowed.",
            UsernameTaken => "That username is taken.",
            EmailTaken => "That email address is already registered.",
            OwnerCannotLeave => {
                "The owner cannot leave the server; delete it or transfer ownership first."
            }
            InviteExpired => "This invite has expired.",
            InviteUsedUp => "This invite has been used the maximum number of times.",
            InviteRevoked => "This invite was revoked.",
            Banned => "You are banned from this server.",
            PayloadTooLarge => "The request body is too large.",
            UnsupportedMediaType => "The request body must be application/json.",
            RateLimited => "Too many requests. Try again later.",
            Slowmode => "Slow mode is on in this channel. Wait before sending again.",
            TooManyPins => "A channel can have at most 50 pinned messages.",
            TooManyRoles => "A server can have at most 250 roles.",
            TooManyServers => "You can be in at most 200 servers. Leave one to join another.",
            TooManyReactions => "A message can have at most 20 different reactions.",
            TooManyChannels => "A server can have at most 500 channels.",
            TooManyInvites => {
                "A server can have at most 200 live invites. Revoke one to make another."
            }
            InternalError => "Something went wrong on the server.",
            ServiceUnavailable => "The service is temporarily unavailable.",
        }
    }
}

/// Why one field is invalid. Serialized as `snake_case`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldCode {
    /// The field is missing.
    Required,
    /// The field has the wrong JSON type.
    InvalidType,
    /// The field is not one of the allowed values, or not allowed here.
    InvalidValue,
    /// A name or other one-line text holds a control, invisible or direction-changing
    /// character, or nothing visible.
    InvalidCharacters,
    /// The value is too short.
    TooShort,
    /// The value is too long.
    TooLong,
    /// A username must be 2–32 characters of `a-z 0-9 _ .`.
    UsernameInvalid,
    /// The username is in use.
    UsernameTaken,
    /// Not an email address.
    EmailInvalid,
    /// The email address is in use.
    EmailTaken,
    /// The password is shorter than 8 characters.
    PasswordTooShort,
    /// The password is on the list of well-known passwords.
    PasswordTooCommon,
}

/// One invalid field: a code to switch on and a message for humans.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// Machine-readable reason.
    pub code: FieldCode,
    /// Human-readable reason.
    pub message: String,
    /// For `too_long` and `too_short` of text: the most or fewest characters allowed, so that
    /// a client can say it in its own language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl FieldError {
    /// A field error with its message.
    pub fn new(code: FieldCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            limit: None,
        }
    }

    /// `too_long`: more than `max` characters.
    pub fn at_most(max: u32) -> Self {
        Self {
            limit: Some(max),
            ..Self::new(FieldCode::TooLong, format!("At most {max} characters."))
        }
    }

    /// `too_short`: fewer than `min` characters.
    pub fn at_least(min: u32) -> Self {
        Self {
            limit: Some(min),
            ..Self::new(FieldCode::TooShort, format!("At least {min} characters."))
        }
    }
}

/// Invalid fields by (dotted) field name, e.g. `settings.locale`.
pub type FieldErrors = BTreeMap<String, FieldError>;

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::PartialSchema;

    /// The names in a unit enum's OpenAPI schema: every variant, with no list kept by hand.
    fn names<T: PartialSchema>() -> Vec<String> {
        let schema = serde_json::to_value(T::schema()).unwrap();
        let names: Vec<String> = serde_json::from_value(schema["enum"].clone()).unwrap();
        assert!(!names.is_empty(), "{schema}");
        names
    }

    #[test]
    fn length_errors_carry_their_limit() {
        let json = |e: FieldError| serde_json::to_value(e).unwrap();
        assert_eq!(
            json(FieldError::at_most(100)),
            serde_json::json!({"code": "too_long", "message": "At most 100 characters.", "limit": 100})
        );
        assert_eq!(json(FieldError::at_least(2))["limit"], 2);
        assert_eq!(json(FieldError::at_least(2))["code"], "too_short");
        let plain = json(FieldError::new(FieldCode::InvalidValue, "no"));
        assert!(plain.get("limit").is_none(), "{plain}");
    }

    /// docs/api.md's error table names every code with the status it is answered with, and
    /// its field codes every field code: clients switch on them.
    #[test]
    fn the_api_docs_list_every_code_with_its_status() {
        let docs = include_str!("../../../docs/api.md");
        for name in names::<ErrorCode>() {
            let code: ErrorCode = serde_json::from_value(serde_json::json!(name)).unwrap();
            let row = format!("| {} | {name} |", code.http_status());
            assert!(docs.contains(&row), "docs/api.md has no row `{row}`");
        }
        for name in names::<FieldCode>() {
            let listed = format!("`{name}`");
            assert!(
                docs.contains(&listed),
                "docs/api.md lists no field code {listed}"
            );
        }
    }
}
