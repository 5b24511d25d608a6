//! Login sessions and their tokens (stored as hashes only).

use std::sync::{Arc, LazyLock};

use papo_core::change::Change;
use papo_core::id::{ServerId, SessionId, UserId};

use crate::server_load::LoadQueries;
use crate::servers::ServerParts;

use crate::{Db, StoreError, on_pool};
use rusqlite::OptionalExtension as _;

/// What a token is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// Short-lived bearer token for API calls.
    Access,
    /// Long-lived, single-use token that buys a new pair.
    Refresh,
}

impl TokenKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
        }
    }
}

/// Revokes one session inside an open transaction `$tx` (a macro so that the same statements
/// serve both backends' transaction types).
macro_rules! revoke_in_tx {
    ($tx:expr, $session_id:expr, $now:expr) => {{
        sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2")
            .bind($now)
            .bind($session_id)
            .execute(&mut *$tx)
            .await?;
        sqlx::query(
            "DELETE FROM auth_tokens WHERE session_id = $1 \
             AND NOT (kind = 'refresh' AND spent_at IS NOT NULL)",
        )
        .bind($session_id)
        .execute(&mut *$tx)
        .await?;
    }};
}

/// A token to store: the hash of the secret the client holds.
#[derive(Clone, Debug)]
pub struct NewToken {
    /// Hex SHA-256 of the token.
    pub hash: String,
    /// Access or refresh.
    pub kind: TokenKind,
    /// Unix ms.
    pub expires_at: i64,
}

/// A new session.
#[derive(Debug)]
pub struct NewSession<'a> {
    /// Snowflake id.
    pub id: SessionId,
    /// Owner.
    pub user_id: UserId,
    /// The client's `User-Agent`, truncated.
    pub user_agent: Option<&'a str>,
    /// The client's address.
    pub ip: Option<&'a str>,
    /// Unix ms.
    pub now: i64,
}

/// A live session, as listed to its owner.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SessionRow {
    /// Snowflake id.
    pub id: i64,
    /// User agent.
    pub user_agent: Option<String>,
    /// Address.
    pub ip: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms (updated at most once a minute).
    pub last_used_at: i64,
}

/// Who an access token belongs to.
#[derive(Clone, Copy, Debug, sqlx::FromRow)]
pub struct TokenOwner {
    /// The session.
    pub session_id: i64,
    /// The user.
    pub user_id: i64,
    /// When the session was last used (Unix ms).
    pub last_used_at: i64,
    /// When the token expires (Unix ms).
    pub expires_at: i64,
}

/// How a refresh attempt ended.
#[derive(Debug, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// The old token is spent and the new ones stored.
    Rotated {
        /// The session kept alive.
        session_id: SessionId,
        /// Its owner.
        user_id: UserId,
    },
    /// Unknown, expired, or its session is revoked.
    Invalid,
    /// The token had already been spent: its session is now revoked.
    Reused {
        /// The revoked session.
        session_id: SessionId,
    },
}

/// Creates a session with its first tokens, atomically.
pub async fn create(db: &Db, s: &NewSession<'_>, tokens: &[NewToken]) -> Result<(), StoreError> {
    on_pool!(db, |p| {
        let mut tx = p.begin().await?;
        sqlx::query(
            "INSERT INTO sessions (id, user_id, user_agent, ip, created_at, last_used_at) \
             VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(s.id.as_i64())
        .bind(s.user_id.as_i64())
        .bind(s.user_agent)
        .bind(s.ip)
        .bind(s.now)
        .execute(&mut *tx)
        .await?;
        for t in tokens {
            sqlx::query(
                "INSERT INTO auth_tokens (hash, session_id, kind, expires_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(&t.hash)
            .bind(s.id.as_i64())
            .bind(t.kind.as_str())
            .bind(t.expires_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    })?;
    Ok(())
}

/// The owner of a live, unexpired access token.
pub async fn authenticate(
    db: &Db,
    access_hash: &str,
    now: i64,
) -> Result<Option<TokenOwner>, StoreError> {
    Ok(on_pool!(db, |p| sqlx::query_as(
        "SELECT s.id AS session_id, s.user_id, s.last_used_at, t.expires_at FROM auth_tokens t \
         JOIN sessions s ON s.id = t.session_id \
         WHERE t.hash = $1 AND t.kind = 'access' AND t.expires_at > $2 AND s.revoked_at IS NULL"
    )
    .bind(access_hash)
    .bind(now)
    .fetch_optional(p)
    .await)?)
}

/// A live access token: its hash (hex) and its owner.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LiveToken {
    /// Hex SHA-256 of the token.
    pub hash: String,
    /// Who it belongs to.
    #[sqlx(flatten)]
    pub owner: TokenOwner,
}

/// Up to `limit` access tokens live at `now` (unexpired, their session not revoked), those of
/// the most recently used sessions first.
pub async fn live_access_tokens(
    db: &Db,
    now: i64,
    limit: usize,
) -> Result<Vec<LiveToken>, StoreError> {
    Ok(on_pool!(db, |p| sqlx::query_as(
        "SELECT t.hash, s.id AS session_id, s.user_id, s.last_used_at, t.expires_at \
         FROM auth_tokens t JOIN sessions s ON s.id = t.session_id \
         WHERE t.kind = 'access' AND t.expires_at > $1 AND s.revoked_at IS NULL \
         ORDER BY s.last_used_at DESC, t.expires_at DESC LIMIT $2"
    )
    .bind(now)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(p)
    .await)?)
}

/// A token's owner together with their account.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OwnerWithUser {
    /// The session and user.
    #[sqlx(flatten)]
    pub owner: TokenOwner,
    /// The account.
    #[sqlx(flatten)]
    pub user: crate::users::UserRow,
}

/// The token's session and account in one query, written once.
static AUTHENTICATE_WITH_USER: LazyLock<String> = LazyLock::new(|| {
    let user_columns = crate::users::COLUMNS
        .split(", ")
        .map(|c| format!("u.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT s.id AS session_id, s.user_id, s.last_used_at, t.expires_at, {user_columns} \
         FROM auth_tokens t JOIN sessions s ON s.id = t.session_id JOIN users u ON u.id = s.user_id \
         WHERE t.hash = $1 AND t.kind = 'access' AND t.expires_at > $2 AND s.revoked_at IS NULL"
    )
});

/// An account by id, for an identify whose token's owner is known.
static USER_BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {} FROM users WHERE id = ?1", crate::users::COLUMNS));

/// What a gateway identify reads: the token's session and account, and the account's
/// channels ([`crate::servers::channels_of_user`]).
#[derive(Clone, Debug)]
pub struct IdentifyRows {
    /// The token's session and account.
    pub found: OwnerWithUser,
    /// Every channel of every server the account is in.
    pub channels: Vec<crate::servers::UserChannelRow>,
}

/// The caller's copies of servers, which [`identify`] fills: it reads the account's servers
/// the caller lacks with the account and hands each over as soon as it is read, so that the
/// identifies that follow find it.
pub trait ServerCache: Send + Sync {
    /// Whether there is no fresh copy of server `id`.
    fn lacks(&self, id: ServerId) -> bool;
    /// Invalidations so far: what is read while this is unchanged may be kept.
    fn generation(&self) -> u64;
    /// Keeps `parts`, read while the generation was `seen`, unless something was
    /// invalidated since.
    fn keep(&self, parts: ServerParts, seen: u64);
}

/// A live access token's session and account, and the account's channels; `None` if the
/// token is unknown, expired or revoked. The account's servers that `cache` lacks are read
/// too and given to it ([`ServerCache::keep`]).
///
/// On SQLite every read is in one read transaction on SQLite's own connections, shared with
/// the identifies asked for at about the same time (`identify_reads`): a server's first load
/// costs no transaction of its own, and is read once for the members who connect together.
pub async fn identify(
    db: &Db,
    access_hash: &str,
    now: i64,
    cache: Arc<dyn ServerCache>,
) -> Result<Option<IdentifyRows>, StoreError> {
    let who = Who::Token {
        hash: access_hash.to_owned(),
        now,
    };
    identify_who(db, who, cache).await
}

/// As [`identify`], for a token whose owner the caller already knows (and has checked is
/// live): the account and its channels are read, the token is not looked up. `None` if the
/// account no longer exists.
pub async fn identify_owner(
    db: &Db,
    owner: TokenOwner,
    cache: Arc<dyn ServerCache>,
) -> Result<Option<IdentifyRows>, StoreError> {
    identify_who(db, Who::Owner(owner), cache).await
}

/// Who an identify is for: a token to look up, or its owner, known already.
#[derive(Clone, Debug)]
pub(crate) enum Who {
    /// The hash of an access token, live at `now` (Unix ms).
    Token { hash: String, now: i64 },
    /// A live token's owner.
    Owner(TokenOwner),
}

async fn identify_who(
    db: &Db,
    who: Who,
    cache: Arc<dyn ServerCache>,
) -> Result<Option<IdentifyRows>, StoreError> {
    if let Some(reads) = db.sqlite_identify_reads() {
        return reads.identify(who, cache).await;
    }
    let seen = cache.generation();
    let found = match who {
        Who::Token { hash, now } => {
            let sql = AUTHENTICATE_WITH_USER.as_str();
            on_pool!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(&hash)
                .bind(now)
                .fetch_optional(p)
                .await)?
        }
        Who::Owner(owner) => crate::users::by_id(db, UserId::from_i64(owner.user_id))
            .await?
            .map(|user| OwnerWithUser { owner, user }),
    };
    let Some(found) = found else {
        return Ok(None);
    };
    let user = UserId::from_i64(found.owner.user_id);
    let channels = crate::servers::channels_of_user(db, user).await?;
    for id in server_ids(&channels) {
        if cache.lacks(id)
            && let Some(parts) = crate::servers::load(db, id).await?
        {
            cache.keep(parts, seen);
        }
    }
    Ok(Some(IdentifyRows { found, channels }))
}

/// The most servers an identify reads for its caller: `ready` lists as many (as
/// `GET /users/@me/servers` does), the first the user joined.
pub const IDENTIFY_SERVERS: usize = 200;

/// The first [`IDENTIFY_SERVERS`] servers of a user's channel rows, each once (a server's
/// rows are together).
fn server_ids(channels: &[crate::servers::UserChannelRow]) -> impl Iterator<Item = ServerId> {
    let mut last = None;
    channels
        .iter()
        .filter(move |row| last.replace(row.server_id) != Some(row.server_id))
        .map(|row| ServerId::from_i64(row.server_id))
        .take(IDENTIFY_SERVERS)
}

/// [`identify`]'s statements, prepared once for a batch of identifies read together
/// (rusqlite's statement cache hashes the SQL's text at each use, and puts it back after),
/// and the servers the batch has read.
pub(crate) struct IdentifyQueries<'c> {
    connection: &'c rusqlite::Connection,
    /// A token with its account, prepared when the batch first looks a token up.
    token: Option<rusqlite::CachedStatement<'c>>,
    /// An account by id, prepared when the batch first identifies a known owner.
    user: Option<rusqlite::CachedStatement<'c>>,
    channels: rusqlite::CachedStatement<'c>,
    /// A server's statements, prepared when the batch first reads a server.
    loads: Option<LoadQueries<'c>>,
    /// The servers read (or found missing) so far in this batch, for whichever identify of
    /// it (they share one cache: the server's directory).
    loaded: foldhash::HashSet<i64>,
}

impl<'c> IdentifyQueries<'c> {
    /// The channels' statement, from `c`'s cache (the others when first needed).
    pub(crate) fn prepare(c: &'c rusqlite::Connection) -> rusqlite::Result<Self> {
        Ok(Self {
            connection: c,
            token: None,
            user: None,
            channels: c.prepare_cached(crate::servers::CHANNELS_OF_USER)?,
            loads: None,
            loaded: foldhash::HashSet::default(),
        })
    }

    /// Reads server `id` for `cache` unless this batch has read it already.
    fn load_for(
        &mut self,
        id: ServerId,
        cache: &dyn ServerCache,
        seen: u64,
    ) -> rusqlite::Result<()> {
        if !self.loaded.insert(id.as_i64()) {
            return Ok(());
        }
        let loads = match &mut self.loads {
            Some(loads) => loads,
            None => self.loads.insert(LoadQueries::prepare(self.connection)?),
        };
        if let Some(parts) = loads.read(id)? {
            cache.keep(parts, seen);
        }
        Ok(())
    }

    /// [`identify`]'s or [`identify_owner`]'s reads (inside a read transaction).
    pub(crate) fn identify(
        &mut self,
        who: &Who,
        cache: &dyn ServerCache,
        seen: u64,
    ) -> rusqlite::Result<Option<IdentifyRows>> {
        let found = match who {
            Who::Token { hash, now } => {
                let token = prepared(&mut self.token, self.connection, &AUTHENTICATE_WITH_USER)?;
                token
                    .query_row(rusqlite::params![hash, now], |row| {
                        Ok(OwnerWithUser {
                            owner: TokenOwner {
                                session_id: row.get(0)?,
                                user_id: row.get(1)?,
                                last_used_at: row.get(2)?,
                                expires_at: row.get(3)?,
                            },
                            user: crate::users::UserRow::from_sqlite(row, 4)?,
                        })
                    })
                    .optional()?
            }
            Who::Owner(owner) => {
                let user = prepared(&mut self.user, self.connection, &USER_BY_ID)?;
                user.query_row([owner.user_id], |row| {
                    Ok(OwnerWithUser {
                        owner: *owner,
                        user: crate::users::UserRow::from_sqlite(row, 0)?,
                    })
                })
                .optional()?
            }
        };
        let Some(found) = found else {
            return Ok(None);
        };
        let user = UserId::from_i64(found.owner.user_id);
        let channels = crate::servers::channels_of_user_with(&mut self.channels, user)?;
        for id in server_ids(&channels) {
            if cache.lacks(id) {
                self.load_for(id, cache, seen)?;
            }
        }
        Ok(Some(IdentifyRows { found, channels }))
    }
}

/// The statement in `slot`, prepared from `c`'s cache with `sql` the first time.
fn prepared<'s, 'c>(
    slot: &'s mut Option<rusqlite::CachedStatement<'c>>,
    c: &'c rusqlite::Connection,
    sql: &str,
) -> rusqlite::Result<&'s mut rusqlite::CachedStatement<'c>> {
    match slot {
        Some(statement) => Ok(statement),
        None => Ok(slot.insert(c.prepare_cached(sql)?)),
    }
}

/// Records when sessions were last used, all in one transaction (one commit for however
/// many; callers collect them and write them together).
pub async fn touch_many(db: &Db, touches: &[(SessionId, i64)]) -> Result<(), StoreError> {
    if touches.is_empty() {
        return Ok(());
    }
    on_pool!(db, |p| {
        let mut tx = p.begin().await?;
        for (id, at) in touches {
            sqlx::query(
                "UPDATE sessions SET last_used_at = $1 WHERE id = $2 AND last_used_at < $1",
            )
            .bind(*at)
            .bind(id.as_i64())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    })?;
    Ok(())
}

/// A user's live sessions, most recently used first (at most 100).
pub async fn list(db: &Db, user_id: UserId) -> Result<Vec<SessionRow>, StoreError> {
    Ok(on_pool!(db, |p| sqlx::query_as(
        "SELECT id, user_agent, ip, created_at, last_used_at FROM sessions \
         WHERE user_id = $1 AND revoked_at IS NULL ORDER BY last_used_at DESC, id DESC LIMIT 100"
    )
    .bind(user_id.as_i64())
    .fetch_all(p)
    .await)?)
}

/// Revokes one of `user_id`'s live sessions; false when there is no such live session.
pub async fn revoke(db: &Db, user_id: UserId, id: SessionId, now: i64) -> Result<bool, StoreError> {
    let revoked = revoke_where(db, "id = $2", user_id, id.as_i64(), now).await?;
    Ok(!revoked.is_empty())
}

/// Revokes every live session of `user_id` except `keep`; returns the revoked ids.
pub async fn revoke_others(
    db: &Db,
    user_id: UserId,
    keep: SessionId,
    now: i64,
) -> Result<Vec<SessionId>, StoreError> {
    revoke_where(db, "id <> $2", user_id, keep.as_i64(), now).await
}

/// Marks `user_id`'s live sessions matching `filter` (on `$2` = `id`) revoked and deletes their tokens — except spent refresh
/// tokens, which stay so that a stolen one is still recognised later.
async fn revoke_where(
    db: &Db,
    filter: &'static str,
    user_id: UserId,
    id: i64,
    now: i64,
) -> Result<Vec<SessionId>, StoreError> {
    let select =
        format!("SELECT id FROM sessions WHERE revoked_at IS NULL AND user_id = $1 AND {filter}");
    let ids: Vec<i64> = on_pool!(db, |p| {
        let mut tx = p.begin().await?;
        let ids: Vec<(i64,)> = sqlx::query_as(sqlx::AssertSqlSafe(select.as_str()))
            .bind(user_id.as_i64())
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
        for (sid,) in &ids {
            revoke_in_tx!(tx, *sid, now);
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>(ids.into_iter().map(|(i,)| i).collect())
    })?;
    let ids: Vec<SessionId> = ids.into_iter().map(SessionId::from_i64).collect();
    if !ids.is_empty() {
        db.changed(Change::Sessions {
            sessions: ids.clone(),
        });
    }
    Ok(ids)
}

/// `(session_id, user_id, expires_at, spent_at, revoked_at)` of a refresh token.
type RefreshRow = (i64, i64, i64, Option<i64>, Option<i64>);

/// Spends the refresh token with `old_hash` and stores `new_tokens` for its session, or
/// detects reuse of a spent token and revokes the whole session.
pub async fn rotate_refresh(
    db: &Db,
    old_hash: &str,
    new_tokens: &[NewToken],
    now: i64,
) -> Result<RefreshOutcome, StoreError> {
    let outcome = on_pool!(db, |p| {
        let mut tx = p.begin().await?;
        let row: Option<RefreshRow> = sqlx::query_as(
            "SELECT t.session_id, s.user_id, t.expires_at, t.spent_at, s.revoked_at \
             FROM auth_tokens t JOIN sessions s ON s.id = t.session_id \
             WHERE t.hash = $1 AND t.kind = 'refresh'",
        )
        .bind(old_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((session_id, user_id, expires_at, spent_at, revoked_at)) = row else {
            return Ok(RefreshOutcome::Invalid);
        };
        if revoked_at.is_some() || expires_at <= now {
            return Ok(RefreshOutcome::Invalid);
        }
        // Spend it; zero rows means another request spent it first: that is reuse too.
        let spent = if spent_at.is_some() {
            0
        } else {
            sqlx::query("UPDATE auth_tokens SET spent_at = $1 WHERE hash = $2 AND spent_at IS NULL")
                .bind(now)
                .bind(old_hash)
                .execute(&mut *tx)
                .await?
                .rows_affected()
        };
        if spent != 1 {
            revoke_in_tx!(tx, session_id, now);
            tx.commit().await?;
            db.changed(Change::Sessions {
                sessions: vec![SessionId::from_i64(session_id)],
            });
            return Ok(RefreshOutcome::Reused {
                session_id: SessionId::from_i64(session_id),
            });
        }
        for t in new_tokens {
            sqlx::query(
                "INSERT INTO auth_tokens (hash, session_id, kind, expires_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(&t.hash)
            .bind(session_id)
            .bind(t.kind.as_str())
            .bind(t.expires_at)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE sessions SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(session_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(RefreshOutcome::Rotated {
            session_id: SessionId::from_i64(session_id),
            user_id: UserId::from_i64(user_id),
        })
    })?;
    Ok(outcome)
}

/// Deletes tokens that expired before `now` (housekeeping).
pub async fn purge_expired_tokens(db: &Db, now: i64) -> Result<u64, StoreError> {
    Ok(on_pool!(db, |p| sqlx::query(
        "DELETE FROM auth_tokens WHERE expires_at <= $1"
    )
    .bind(now)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?)
}
