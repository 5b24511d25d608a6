//! `/auth`: registration, login, token refresh, logout, sessions and password change.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use papo_core::error::{ErrorCode, FieldCode, FieldError, FieldErrors};
use papo_core::id::{SessionId, UserId};
use papo_core::settings::UserSettings;
use papo_core::validate::{Email, NewPassword, Username, limits, optional_name, required};
use papo_store::StoreError;
use papo_store::sessions::{self, NewSession, RefreshOutcome, TokenOwner};
use papo_store::users::{self, NewUser, UserRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Auth, tokens};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ClientMeta};
use crate::http::rfc3339;
use crate::http::users::{CurrentUser, load_me};
use crate::state::AppState;

/// Routes under `/api/v1/auth`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/register", post(register))
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/refresh", post(refresh))
        .route("/api/v1/auth/logout", post(logout))
        .route(
            "/api/v1/auth/sessions",
            get(list_sessions).delete(revoke_other_sessions),
        )
        .route("/api/v1/auth/sessions/{id}", delete(revoke_session))
        .route("/api/v1/auth/password", post(change_password))
}

/// A new account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// 2–32 of `a-z 0-9 _ .` (upper case is folded).
    pub username: String,
    /// Email address.
    pub email: String,
    /// At least 8 characters, not a well-known password.
    pub password: String,
    /// Optional display name, ≤ 32 characters.
    #[serde(default)]
    pub display_name: Option<String>,
}

/// Credentials.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Username or email.
    pub login: String,
    /// Password.
    pub password: String,
}

/// A refresh token to exchange.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token from the last [`AuthResponse`].
    pub refresh_token: String,
}

/// A password change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeRequest {
    /// The password in use now.
    pub current_password: String,
    /// The new password (same rules as at registration).
    pub new_password: String,
}

/// A signed-in session's tokens and its user.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthResponse {
    /// The account.
    pub user: CurrentUser,
    /// Bearer token for API calls.
    pub access_token: String,
    /// Single-use token for `POST /auth/refresh`.
    pub refresh_token: String,
    /// Seconds until `access_token` expires.
    pub expires_in: u64,
}

/// A live session (device).
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionInfo {
    /// Id.
    pub id: SessionId,
    /// The client's user agent when the session began.
    pub user_agent: Option<String>,
    /// The client's address when the session began.
    pub ip: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339 (updated at most once a minute).
    pub last_used_at: String,
    /// Whether this is the session making the request.
    pub current: bool,
}

/// Creates a session for `user` and answers with its tokens.
async fn start_session(
    state: &AppState,
    user: &UserRow,
    client: &ClientMeta,
) -> ApiResult<AuthResponse> {
    let now = crate::now_ms();
    let pair = tokens::mint(
        now,
        state.config.access_token_ttl_secs,
        state.config.refresh_token_ttl_secs,
    );
    let session = NewSession {
        id: SessionId(state.next_id()),
        user_id: user.user_id(),
        user_agent: client.user_agent.as_deref(),
        ip: client.ip.as_deref(),
        now,
    };
    let seen = state.directory.generation();
    sessions::create(&state.db, &session, &pair.stored).await?;
    let owner = TokenOwner {
        session_id: session.id.as_i64(),
        user_id: user.id,
        last_used_at: now,
        expires_at: pair.stored_access().expires_at,
    };
    state
        .directory
        .keep_owner(&pair.stored_access().hash, seen, owner);
    Ok(AuthResponse {
        user: CurrentUser::from_row(user),
        access_token: pair.access,
        refresh_token: pair.refresh,
        expires_in: pair.expires_in,
    })
}

fn ip_key(client: &ClientMeta) -> String {
    client.ip.clone().unwrap_or_else(|| "unknown".into())
}

/// Creates an account and signs it in.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterRequest,
    responses((status = 201, body = AuthResponse), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    client: ClientMeta,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> ApiResult<(StatusCode, Json<AuthResponse>)> {
    state
        .registrations_by_ip
        .hit(&ip_key(&client))
        .map_err(ApiError::rate_limited)?;
    let mut errors = FieldErrors::new();
    let username = Username::parse(&req.username)
        .map_err(|e| errors.insert("username".into(), e))
        .ok();
    let email = Email::parse(&req.email)
        .map_err(|e| errors.insert("email".into(), e))
        .ok();
    let password = NewPassword::parse(&req.password)
        .map_err(|e| errors.insert("password".into(), e))
        .ok();
    let display_name = optional_name(req.display_name.as_deref(), limits::DISPLAY_NAME)
        .map_err(|e| errors.insert("display_name".into(), e))
        .ok()
        .flatten();
    let (Some(username), Some(email), Some(password)) = (username, email, password) else {
        return Err(ApiError::invalid_fields(errors));
    };
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    let hash = state.passwords.hash(password.expose().to_owned()).await?;
    let now = crate::now_ms();
    let id = UserId(state.next_id());
    let settings = serde_json::to_string(&UserSettings::default()).map_err(ApiError::internal)?;
    let inserted = users::insert(
        &state.db,
        &NewUser {
            id,
            username: username.as_str(),
            email: email.as_str(),
            email_key: &email.key(),
            password_hash: &hash,
            display_name: display_name.as_deref(),
            settings: &settings,
            now,
        },
    )
    .await;
    match inserted {
        Ok(()) => {}
        Err(StoreError::Conflict(first @ ("username" | "email"))) => {
            // The insert names the first constraint it broke; the other may be broken too,
            // and the form should say so at once rather than on the next try. A username
            // never contains '@' and an email key always does, so each lookup finds only
            // its own kind.
            let username_taken = first == "username"
                || users::by_login(&state.db, username.as_str())
                    .await?
                    .is_some();
            let email_taken =
                first == "email" || users::by_login(&state.db, &email.key()).await?.is_some();
            return Err(taken(username_taken, email_taken));
        }
        Err(e) => return Err(e.into()),
    }
    let user = load_me(&state, id).await?;
    tracing::info!(user_id = %id, "account registered");
    let response = start_session(&state, &user, &client).await?;
    Ok((StatusCode::CREATED, Json(response)))
}

/// 409 for a registration whose username or email (or both) another account holds: the
/// code names the username when it is taken, and `fields` every taken one.
fn taken(username: bool, email: bool) -> ApiError {
    let mut e = ApiError::new(if username {
        ErrorCode::UsernameTaken
    } else {
        ErrorCode::EmailTaken
    });
    for (is_taken, name, field, code) in [
        (
            username,
            "username",
            FieldCode::UsernameTaken,
            ErrorCode::UsernameTaken,
        ),
        (email, "email", FieldCode::EmailTaken, ErrorCode::EmailTaken),
    ] {
        if is_taken {
            e = e.with_field(name, FieldError::new(field, code.default_message()));
        }
    }
    e
}

/// Signs in with a username or email and a password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = AuthResponse), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    client: ClientMeta,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Json<AuthResponse>> {
    // Longer than any username or email, or than any password: names no account. Refused
    // before anything is counted or kept (a failure keeps its login text for 15 minutes).
    let too_long = [
        ("login", req.login.chars().count(), Email::MAX),
        ("password", req.password.chars().count(), NewPassword::MAX),
    ]
    .into_iter()
    .filter(|(_, n, max)| n > max)
    .map(|(field, _, max)| (field.to_owned(), FieldError::at_most(max as u32)))
    .collect::<FieldErrors>();
    if !too_long.is_empty() {
        return Err(ApiError::invalid_fields(too_long));
    }
    let login_key = req.login.trim().to_lowercase();
    let ip = ip_key(&client);
    state
        .login_failures_by_ip
        .check(&ip)
        .map_err(ApiError::rate_limited)?;
    // No username or email holds a control character (and PostgreSQL's text cannot hold a
    // NUL): such a login names no account, and its password is still checked, as for one.
    let user = if login_key.chars().any(char::is_control) {
        None
    } else {
        users::by_login(&state.db, &login_key).await?
    };
    // Failures count against the account (by id, so username and email share a budget) or,
    // for unknown logins, against the login text: from this address (so that someone
    // guessing elsewhere cannot lock the owner out), and from all addresses together (a
    // larger budget, against guessing spread over many).
    let account_key = user.as_ref().map_or_else(
        || format!("login:{login_key}"),
        |u| format!("user:{}", u.id),
    );
    let from_here = format!("{account_key} {ip}");
    state
        .login_failures_by_account
        .check(&from_here)
        .and_then(|()| state.login_failures_by_account_total.check(&account_key))
        .map_err(ApiError::rate_limited)?;
    let matched = state
        .passwords
        .verify(req.password, user.as_ref().map(|u| u.password_hash.clone()))
        .await?;
    let Some(user) = user.filter(|_| matched) else {
        state.login_failures_by_account.record(&from_here);
        state.login_failures_by_account_total.record(&account_key);
        state.login_failures_by_ip.record(&ip);
        return Err(ApiError::new(ErrorCode::InvalidCredentials));
    };
    // The total is left as it is: the owner signing in does not renew a guesser's budget.
    state.login_failures_by_account.clear(&from_here);
    Ok(Json(start_session(&state, &user, &client).await?))
}

/// Exchanges a refresh token for a new pair. A token already spent revokes its session.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = AuthResponse), (status = 401, body = ErrorBody)))]
pub async fn refresh(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> ApiResult<Json<AuthResponse>> {
    let now = crate::now_ms();
    let pair = tokens::mint(
        now,
        state.config.access_token_ttl_secs,
        state.config.refresh_token_ttl_secs,
    );
    let seen = state.directory.generation();
    let outcome = sessions::rotate_refresh(
        &state.db,
        &tokens::hash(req.refresh_token.trim()),
        &pair.stored,
        now,
    )
    .await?;
    match outcome {
        RefreshOutcome::Rotated {
            session_id,
            user_id,
        } => {
            let owner = TokenOwner {
                session_id: session_id.as_i64(),
                user_id: user_id.as_i64(),
                last_used_at: now,
                expires_at: pair.stored_access().expires_at,
            };
            state
                .directory
                .keep_owner(&pair.stored_access().hash, seen, owner);
            let user = load_me(&state, user_id).await?;
            Ok(Json(AuthResponse {
                user: CurrentUser::from_row(&user),
                access_token: pair.access,
                refresh_token: pair.refresh,
                expires_in: pair.expires_in,
            }))
        }
        RefreshOutcome::Reused { session_id } => {
            tracing::warn!(%session_id, "spent refresh token presented again; session revoked");
            state.hub.revoke(vec![session_id]);
            Err(ApiError::new(ErrorCode::InvalidRefreshToken))
        }
        RefreshOutcome::Invalid => Err(ApiError::new(ErrorCode::InvalidRefreshToken)),
    }
}

/// Ends the calling session: its tokens stop working at once.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, auth: Auth) -> ApiResult<StatusCode> {
    sessions::revoke(&state.db, auth.user_id, auth.session_id, crate::now_ms()).await?;
    state.hub.revoke(vec![auth.session_id]);
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's live sessions, most recently used first.
#[utoipa::path(get, path = "/api/v1/auth/sessions", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Vec<SessionInfo>), (status = 401, body = ErrorBody)))]
pub async fn list_sessions(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<Vec<SessionInfo>>> {
    let rows = sessions::list(&state.db, auth.user_id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| SessionInfo {
                id: SessionId::from_i64(r.id),
                current: r.id == auth.session_id.as_i64(),
                user_agent: r.user_agent,
                ip: r.ip,
                created_at: rfc3339(r.created_at),
                last_used_at: rfc3339(r.last_used_at),
            })
            .collect(),
    ))
}

/// Revokes one of the caller's sessions (signs that device out).
#[utoipa::path(delete, path = "/api/v1/auth/sessions/{id}", tag = "auth",
    security(("bearer" = [])), params(("id" = String, Path, description = "Session id")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_session(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let not_found = || ApiError::new(ErrorCode::NotFound).with_message("Unknown session.");
    let id: SessionId = id.parse().map_err(|_| not_found())?;
    if !sessions::revoke(&state.db, auth.user_id, id, crate::now_ms()).await? {
        return Err(not_found());
    }
    state.hub.revoke(vec![id]);
    Ok(StatusCode::NO_CONTENT)
}

/// How many sessions a sign-out of the other devices ended.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevokedSessions {
    /// Sessions signed out.
    pub revoked: usize,
}

/// Signs out every session of the caller's but the calling one.
#[utoipa::path(delete, path = "/api/v1/auth/sessions", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = RevokedSessions), (status = 401, body = ErrorBody)))]
pub async fn revoke_other_sessions(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<RevokedSessions>> {
    let revoked =
        sessions::revoke_others(&state.db, auth.user_id, auth.session_id, crate::now_ms()).await?;
    let count = revoked.len();
    state.hub.revoke(revoked);
    Ok(Json(RevokedSessions { revoked: count }))
}

/// Changes the password and signs out every other session.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", security(("bearer" = [])),
    request_body = PasswordChangeRequest,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<PasswordChangeRequest>,
) -> ApiResult<StatusCode> {
    // Wrong current passwords count against this session, not the account: someone guessing
    // at the login form cannot keep a signed-in owner from changing the password.
    let session_key = format!("session:{}", auth.session_id);
    // Empty fields are said as such, before a password is checked or a failure counted.
    let empty = [
        ("current_password", &req.current_password),
        ("new_password", &req.new_password),
    ]
    .into_iter()
    .filter(|(_, v)| v.is_empty())
    .map(|(field, _)| (field.to_owned(), required()))
    .collect::<FieldErrors>();
    if !empty.is_empty() {
        return Err(ApiError::invalid_fields(empty));
    }
    state
        .login_failures_by_account
        .check(&session_key)
        .map_err(ApiError::rate_limited)?;
    let user = load_me(&state, auth.user_id).await?;
    let new = NewPassword::parse(&req.new_password);
    let matched = state
        .passwords
        .verify(req.current_password, Some(user.password_hash))
        .await?;
    if !matched {
        state.login_failures_by_account.record(&session_key);
        return Err(ApiError::new(ErrorCode::InvalidPassword).with_field(
            "current_password",
            FieldError::new(
                FieldCode::InvalidValue,
                ErrorCode::InvalidPassword.default_message(),
            ),
        ));
    }
    let new =
        new.map_err(|e| ApiError::invalid_fields(FieldErrors::from([("new_password".into(), e)])))?;
    let hash = state.passwords.hash(new.expose().to_owned()).await?;
    let now = crate::now_ms();
    users::set_password_hash(&state.db, auth.user_id, &hash, now).await?;
    let revoked = sessions::revoke_others(&state.db, auth.user_id, auth.session_id, now).await?;
    tracing::info!(user_id = %auth.user_id, revoked = revoked.len(), "password changed");
    state.hub.revoke(revoked);
    Ok(StatusCode::NO_CONTENT)
}
