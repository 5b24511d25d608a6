//! User accounts.

use papo_core::change::Change;
use papo_core::id::UserId;

use crate::{Db, StoreError, on_pool};

/// A stored account, as read from the database.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct UserRow {
    /// Snowflake id.
    pub id: i64,
    /// Lower-case username.
    pub username: String,
    /// Email as entered (domain lower-cased).
    pub email: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Bio.
    pub bio: Option<String>,
    /// Pronouns.
    pub pronouns: Option<String>,
    /// 24-bit RGB.
    pub accent_color: Option<i64>,
    /// Avatar file id (files issue).
    pub avatar: Option<String>,
    /// Banner file id (files issue).
    pub banner: Option<String>,
    /// Settings JSON document.
    pub settings: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms; also the optimistic-concurrency version of the row.
    pub updated_at: i64,
}

impl UserRow {
    /// The typed id.
    pub fn user_id(&self) -> UserId {
        UserId::from_i64(self.id)
    }

    /// The row from SQLite's own connections: [`COLUMNS`] from column `at` on.
    pub(crate) fn from_sqlite(row: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(at)?,
            username: row.get(at + 1)?,
            email: row.get(at + 2)?,
            password_hash: row.get(at + 3)?,
            display_name: row.get(at + 4)?,
            bio: row.get(at + 5)?,
            pronouns: row.get(at + 6)?,
            accent_color: row.get(at + 7)?,
            avatar: row.get(at + 8)?,
            banner: row.get(at + 9)?,
            settings: row.get(at + 10)?,
            created_at: row.get(at + 11)?,
            updated_at: row.get(at + 12)?,
        })
    }
}

/// A new account.
#[derive(Debug)]
pub struct NewUser<'a> {
    /// Snowflake id.
    pub id: UserId,
    /// Normalised username.
    pub username: &'a str,
    /// Email as entered.
    pub email: &'a str,
    /// Lower-cased email, unique.
    pub email_key: &'a str,
    /// Argon2id PHC string.
    pub password_hash: &'a str,
    /// Optional display name.
    pub display_name: Option<&'a str>,
    /// Settings JSON.
    pub settings: &'a str,
    /// Unix ms.
    pub now: i64,
}

pub(crate) const COLUMNS: &str = "id, username, email, password_hash, display_name, bio, pronouns, \
    accent_color, avatar, banner, settings, created_at, updated_at";

/// Inserts an account. A taken username or email gives [`StoreError::Conflict`] with
/// `"username"` or `"email"`.
pub async fn insert(db: &Db, u: &NewUser<'_>) -> Result<(), StoreError> {
    on_pool!(db, |p| sqlx::query(
        "INSERT INTO users (id, username, email, email_key, password_hash, display_name, \
         settings, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)"
    )
    .bind(u.id.as_i64())
    .bind(u.username)
    .bind(u.email)
    .bind(u.email_key)
    .bind(u.password_hash)
    .bind(u.display_name)
    .bind(u.settings)
    .bind(u.now)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))
    .map_err(|e| StoreError::from_insert(e, &["username", "email"]))?;
    Ok(())
}

/// The account with this id.
pub async fn by_id(db: &Db, id: UserId) -> Result<Option<UserRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    Ok(on_pool!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(id.as_i64())
    .fetch_optional(p)
    .await)?)
}

/// The accounts with these ids (unknown ids are skipped; order unspecified).
pub async fn by_ids(db: &Db, ids: &[i64]) -> Result<Vec<UserRow>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM users WHERE id IN ({})",
        crate::placeholders(1, ids.len())
    );
    on_pool!(db, |p| {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
        for id in ids {
            q = q.bind(*id);
        }
        Ok(q.fetch_all(p).await?)
    })
}

/// The account whose username or (lower-cased) email equals `login_key`.
pub async fn by_login(db: &Db, login_key: &str) -> Result<Option<UserRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE username = $1 OR email_key = $1");
    Ok(on_pool!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(login_key)
    .fetch_optional(p)
    .await)?)
}

/// New values for the editable profile fields (all of them; callers merge first).
#[derive(Debug)]
pub struct ProfileUpdate<'a> {
    /// Display name.
    pub display_name: Option<&'a str>,
    /// Bio.
    pub bio: Option<&'a str>,
    /// Pronouns.
    pub pronouns: Option<&'a str>,
    /// Accent colour.
    pub accent_color: Option<i64>,
    /// Settings JSON.
    pub settings: &'a str,
}

/// Writes `update` only if the row is still at version `expected_updated_at` (so two
/// concurrent edits never silently overwrite each other: the loser re-reads and re-merges).
/// Returns whether the row was written.
pub async fn update_profile(
    db: &Db,
    id: UserId,
    expected_updated_at: i64,
    update: &ProfileUpdate<'_>,
    now: i64,
) -> Result<bool, StoreError> {
    // The new version must differ from the old one even within one millisecond.
    let version = now.max(expected_updated_at + 1);
    let done = on_pool!(db, |p| sqlx::query(
        "UPDATE users SET display_name = $1, bio = $2, pronouns = $3, accent_color = $4, \
         settings = $5, updated_at = $6 WHERE id = $7 AND updated_at = $8"
    )
    .bind(update.display_name)
    .bind(update.bio)
    .bind(update.pronouns)
    .bind(update.accent_color)
    .bind(update.settings)
    .bind(version)
    .bind(id.as_i64())
    .bind(expected_updated_at)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    if done == 1 {
        db.changed(Change::User { user: id });
    }
    Ok(done == 1)
}

/// Replaces the password hash.
pub async fn set_password_hash(
    db: &Db,
    id: UserId,
    hash: &str,
    now: i64,
) -> Result<(), StoreError> {
    on_pool!(db, |p| sqlx::query(
        "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3"
    )
    .bind(hash)
    .bind(now)
    .bind(id.as_i64())
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}
