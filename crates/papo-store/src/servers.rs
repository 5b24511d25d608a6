//! Servers, roles, members and channels.

use papo_core::change::Change;
use papo_core::id::{ChannelId, ServerId, UserId};

use crate::server_load::LoadQueries;
use crate::sqlite_reader::{from_sqlite, rows_for_key};
use crate::{Db, StoreError, on_pool};

/// A server row.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ServerRow {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Icon file id.
    pub icon: Option<String>,
    /// Owner's user id.
    pub owner_id: i64,
    /// Unix ms.
    pub created_at: i64,
}

/// A role row.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RoleRow {
    /// Id (the server's id for `@everyone`).
    pub id: i64,
    /// Server.
    pub server_id: i64,
    /// Name.
    pub name: String,
    /// 24-bit colour.
    pub color: Option<i64>,
    /// Rank; `@everyone` is 0.
    pub position: i64,
    /// Permission bits.
    pub permissions: i64,
    /// Shown separately in the member list.
    pub hoist: bool,
    /// Can be mentioned by anyone.
    pub mentionable: bool,
}

/// A membership row.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MemberRow {
    /// Server.
    pub server_id: i64,
    /// User.
    pub user_id: i64,
    /// Nickname.
    pub nickname: Option<String>,
    /// Unix ms.
    pub joined_at: i64,
    /// Unix ms, while timed out.
    pub timeout_until: Option<i64>,
}

/// A channel row.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ChannelRow {
    /// Id.
    pub id: i64,
    /// Server.
    pub server_id: i64,
    /// `text`, `voice` or `category`.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Order in the list.
    pub position: i64,
    /// Category.
    pub parent_id: Option<i64>,
    /// Topic.
    pub topic: Option<String>,
    /// Seconds between a member's messages.
    pub slowmode_secs: i64,
    /// Voice: most members at once.
    pub user_limit: Option<i64>,
    /// Voice: bits per second.
    pub bitrate: Option<i64>,
    /// Newest message.
    pub last_message_id: Option<i64>,
}

/// A channel permission overwrite row.
#[derive(Clone, Copy, Debug, sqlx::FromRow)]
pub struct OverwriteRow {
    /// Channel.
    pub channel_id: i64,
    /// Role or user id.
    pub target_id: i64,
    /// `role` or `member` (as stored).
    pub is_role: bool,
    /// Allowed bits.
    pub allow: i64,
    /// Denied bits.
    pub deny: i64,
}

// The directory's reads of a server run on SQLite's own connections (see `sqlite_reader`).
from_sqlite!(ServerRow {
    id,
    name,
    description,
    icon,
    owner_id,
    created_at
});
from_sqlite!(RoleRow {
    id,
    server_id,
    name,
    color,
    position,
    permissions,
    hoist,
    mentionable
});
from_sqlite!(MemberRow {
    server_id,
    user_id,
    nickname,
    joined_at,
    timeout_until
});
from_sqlite!(ChannelRow {
    id,
    server_id,
    kind,
    name,
    position,
    parent_id,
    topic,
    slowmode_secs,
    user_limit,
    bitrate,
    last_message_id,
});
from_sqlite!(OverwriteRow {
    channel_id,
    target_id,
    is_role,
    allow,
    deny
});

/// A new channel (also used for the defaults of a new server).
#[derive(Clone, Debug)]
pub struct NewChannel {
    /// Id.
    pub id: ChannelId,
    /// Server.
    pub server_id: ServerId,
    /// Kind.
    pub kind: &'static str,
    /// Name.
    pub name: String,
    /// Position.
    pub position: i64,
    /// Category.
    pub parent_id: Option<ChannelId>,
    /// Topic.
    pub topic: Option<String>,
    /// Slow mode.
    pub slowmode_secs: i64,
    /// Voice limit.
    pub user_limit: Option<i64>,
    /// Voice bitrate.
    pub bitrate: Option<i64>,
}

macro_rules! insert_channel {
    ($ex:expr, $c:expr) => {
        sqlx::query(
            "INSERT INTO channels (id, server_id, kind, name, position, parent_id, topic, \
             slowmode_secs, user_limit, bitrate) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind($c.id.as_i64())
        .bind($c.server_id.as_i64())
        .bind($c.kind)
        .bind(&$c.name)
        .bind($c.position)
        .bind($c.parent_id.map(|p| p.as_i64()))
        .bind(&$c.topic)
        .bind($c.slowmode_secs)
        .bind($c.user_limit)
        .bind($c.bitrate)
        .execute($ex)
        .await
    };
}

/// Creates a server with its `@everyone` role, its owner as first member and its channels.
pub async fn create(
    db: &Db,
    server: &ServerRow,
    everyone_permissions: i64,
    channels: &[NewChannel],
) -> Result<(), StoreError> {
    on_pool!(db, |p| {
        let mut tx = p.begin().await?;
        sqlx::query(
            "INSERT INTO servers (id, name, description, icon, owner_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(server.id)
        .bind(&server.name)
        .bind(&server.description)
        .bind(&server.icon)
        .bind(server.owner_id)
        .bind(server.created_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO roles (id, server_id, name, position, permissions, hoist, mentionable) \
             VALUES ($1, $1, '@everyone', 0, $2, $3, $3)",
        )
        .bind(server.id)
        .bind(everyone_permissions)
        .bind(false)
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO members (server_id, user_id, joined_at) VALUES ($1, $2, $3)")
            .bind(server.id)
            .bind(server.owner_id)
            .bind(server.created_at)
            .execute(&mut *tx)
            .await?;
        for c in channels {
            insert_channel!(&mut *tx, c)?;
        }
        tx.commit().await
    })?;
    db.changed(Change::Server {
        server: ServerId::from_i64(server.id),
    });
    Ok(())
}

const SERVER_COLUMNS: &str = "s.id, s.name, s.description, s.icon, s.owner_id, s.created_at";

/// A server by id.
pub async fn by_id(db: &Db, id: ServerId) -> Result<Option<ServerRow>, StoreError> {
    let sql = format!("SELECT {SERVER_COLUMNS} FROM servers s WHERE s.id = $1");
    if let Some(readers) = db.sqlite_readers() {
        return readers.optional(&sql, [id.as_i64()]);
    }
    Ok(on_pool!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(id.as_i64())
    .fetch_optional(p)
    .await)?)
}

/// A server with what every member's view of it starts from.
#[derive(Clone, Debug)]
pub struct ServerParts {
    /// The server.
    pub server: ServerRow,
    /// Its roles ([`roles`]).
    pub roles: Vec<RoleRow>,
    /// Its channels by position, without their newest messages (`last_message_id` is
    /// `None`).
    pub channels: Vec<ChannelRow>,
    /// Its channels' overwrites ([`overwrites`]).
    pub overwrites: Vec<OverwriteRow>,
    /// Its members ([`crate::members::all`]).
    pub members: Vec<MemberRow>,
    /// Every `(user_id, role_id)` of its members ([`crate::roles::all_member_roles`]).
    pub member_roles: Vec<(i64, i64)>,
}

/// [`load`]'s first read.
pub(crate) static SERVER_BY_ID: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("SELECT {SERVER_COLUMNS} FROM servers s WHERE s.id = $1"));

/// A server with its roles, channels, overwrites and memberships; `None` if there is no such
/// server. On SQLite the six reads are one read transaction (one snapshot, one taking of the
/// log's read lock): a server is read when its first member connects or asks, and its
/// memberships are asked for next.
pub async fn load(db: &Db, id: ServerId) -> Result<Option<ServerParts>, StoreError> {
    if let Some(readers) = db.sqlite_readers() {
        return readers.read_together(|c| LoadQueries::prepare(c)?.read(id));
    }
    let Some(server) = by_id(db, id).await? else {
        return Ok(None);
    };
    let mut channels = channels(db, id).await?;
    for c in &mut channels {
        c.last_message_id = None;
    }
    Ok(Some(ServerParts {
        server,
        roles: roles(db, id).await?,
        channels,
        overwrites: overwrites(db, id).await?,
        members: crate::members::all(db, id).await?,
        member_roles: crate::roles::all_member_roles(db, id).await?,
    }))
}

/// The most servers a user can be in: every one of them is listed, and in `ready`.
pub const MAX_SERVERS_PER_USER: usize = crate::sessions::IDENTIFY_SERVERS;

/// The servers `user` is a member of, oldest membership first.
pub async fn of_user(db: &Db, user: UserId) -> Result<Vec<ServerRow>, StoreError> {
    let sql = format!(
        "SELECT {SERVER_COLUMNS} FROM servers s JOIN members m ON m.server_id = s.id \
         WHERE m.user_id = $1 ORDER BY m.joined_at, s.id LIMIT {MAX_SERVERS_PER_USER}"
    );
    Ok(on_pool!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(user.as_i64())
    .fetch_all(p)
    .await)?)
}

/// One channel of one of a user's servers, with what their `ready` needs.
#[derive(Clone, Debug)]
pub struct UserChannelRow {
    /// The server.
    pub server_id: i64,
    /// When the user joined it (Unix ms).
    pub joined_at: i64,
    /// The channel (`None`: the server has no channel).
    pub channel_id: Option<i64>,
    /// The channel's newest message.
    pub last_message_id: Option<i64>,
    /// How far the user has read it: the later of what they acknowledged there and their own
    /// newest message there (authors have read their own messages; each send records its
    /// author's in their read state). `None`: neither.
    pub last_read_id: Option<i64>,
}

/// The columns of a [`UserChannelRow`] as read: the read state as stored and the user's own
/// newest message apart.
type UserChannelColumns = (i64, i64, Option<i64>, Option<i64>, Option<i64>, Option<i64>);

impl UserChannelRow {
    fn from_columns(
        (server_id, joined_at, channel_id, newest, acked, own): UserChannelColumns,
    ) -> Self {
        Self {
            server_id,
            joined_at,
            channel_id,
            last_message_id: newest,
            last_read_id: acked.max(own),
        }
    }
}

/// Every channel of every server `user` is in, servers in the order they joined them, with
/// each channel's newest message and how far the user has read it: one query for what
/// `ready` would otherwise ask server by server. The newest message is the end of a range of
/// the channel's list (`channel_messages`); how far the user has read, their read state's row.
pub async fn channels_of_user(db: &Db, user: UserId) -> Result<Vec<UserChannelRow>, StoreError> {
    if let Some(readers) = db.sqlite_readers() {
        // Before the read: a message entered in its list, or a read state written, after the
        // snapshot is still here.
        let newest = db.unlisted_newest();
        let own = db.unwritten_own(user.as_i64());
        // On the calling thread, as the token's lookup.
        let mut rows = readers.read(|c| channels_of_user_on(c, user))?;
        add_unlisted_newest(&mut rows, &newest);
        add_unwritten_own(&mut rows, &own);
        return Ok(rows);
    }
    let rows: Vec<UserChannelColumns> = on_pool!(db, |p| sqlx::query_as(CHANNELS_OF_USER)
        .bind(user.as_i64())
        .fetch_all(p)
        .await)?;
    Ok(rows.into_iter().map(UserChannelRow::from_columns).collect())
}

/// SQLite: raises each row's newest message to the newest not yet in the channel's list
/// (`newest`, copied before the rows were read).
pub(crate) fn add_unlisted_newest(
    rows: &mut [UserChannelRow],
    newest: &foldhash::HashMap<i64, i64>,
) {
    for row in rows {
        if let Some(channel) = row.channel_id
            && let Some(&id) = newest.get(&channel)
        {
            row.last_message_id = row.last_message_id.max(Some(id));
        }
    }
}

/// SQLite: raises how far the user has read each row's channel to their own newest message
/// there not yet in their read state (`own`, copied before the rows were read).
pub(crate) fn add_unwritten_own(rows: &mut [UserChannelRow], own: &foldhash::HashMap<i64, i64>) {
    for row in rows {
        if let Some(channel) = row.channel_id
            && let Some(&id) = own.get(&channel)
        {
            row.last_read_id = row.last_read_id.max(Some(id));
        }
    }
}

/// [`channels_of_user`] on one of SQLite's own connections (or its transaction).
pub(crate) fn channels_of_user_on(
    c: &rusqlite::Connection,
    user: UserId,
) -> rusqlite::Result<Vec<UserChannelRow>> {
    let mut query = c.prepare_cached(CHANNELS_OF_USER)?;
    channels_of_user_with(&mut query, user)
}

/// [`channels_of_user`] with its query already prepared ([`CHANNELS_OF_USER`]): a batch of
/// identifies prepares it once.
pub(crate) fn channels_of_user_with(
    query: &mut rusqlite::Statement<'_>,
    user: UserId,
) -> rusqlite::Result<Vec<UserChannelRow>> {
    query
        .query_map([user.as_i64()], |row| {
            Ok(UserChannelRow::from_columns((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
                row.get(5)?,
            )))
        })?
        .collect()
}

/// [`channels_of_user`]'s query.
pub(crate) const CHANNELS_OF_USER: &str = "SELECT m.server_id, m.joined_at, c.id AS channel_id, \
         (SELECT x.id FROM channel_messages x WHERE x.channel_id = c.id ORDER BY x.id DESC LIMIT 1), \
         r.last_read_id, r.own_last_id \
         FROM members m LEFT JOIN channels c ON c.server_id = m.server_id \
         LEFT JOIN read_states r ON r.user_id = m.user_id AND r.channel_id = c.id \
         WHERE m.user_id = $1 ORDER BY m.joined_at, m.server_id";

/// Renames / re-describes a server.
pub async fn update(
    db: &Db,
    id: ServerId,
    name: &str,
    description: Option<&str>,
) -> Result<(), StoreError> {
    on_pool!(db, |p| sqlx::query(
        "UPDATE servers SET name = $1, description = $2 WHERE id = $3"
    )
    .bind(name)
    .bind(description)
    .bind(id.as_i64())
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    db.changed(Change::Server { server: id });
    Ok(())
}

/// Hands the server to `owner` if they are a member; false otherwise.
pub async fn transfer(db: &Db, id: ServerId, owner: UserId) -> Result<bool, StoreError> {
    let n = on_pool!(db, |p| sqlx::query(
        "UPDATE servers SET owner_id = $1 WHERE id = $2 AND EXISTS \
         (SELECT 1 FROM members WHERE server_id = $2 AND user_id = $1)"
    )
    .bind(owner.as_i64())
    .bind(id.as_i64())
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    db.changed(Change::Server { server: id });
    Ok(n == 1)
}

/// Deletes a server and everything in it.
pub async fn delete(db: &Db, id: ServerId) -> Result<(), StoreError> {
    db.removing_server(id.as_i64());
    on_pool!(db, |p| sqlx::query("DELETE FROM servers WHERE id = $1")
        .bind(id.as_i64())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
    db.changed(Change::Server { server: id });
    Ok(())
}

/// The membership of `user` in `server`.
pub async fn member(
    db: &Db,
    server: ServerId,
    user: UserId,
) -> Result<Option<MemberRow>, StoreError> {
    const SQL: &str = "SELECT server_id, user_id, nickname, joined_at, timeout_until \
         FROM members WHERE server_id = $1 AND user_id = $2";
    if let Some(readers) = db.sqlite_readers() {
        return readers.optional(SQL, [server.as_i64(), user.as_i64()]);
    }
    Ok(on_pool!(db, |p| sqlx::query_as(SQL)
        .bind(server.as_i64())
        .bind(user.as_i64())
        .fetch_optional(p)
        .await)?)
}

/// Role ids of `user` in `server` (without `@everyone`).
pub async fn member_role_ids(
    db: &Db,
    server: ServerId,
    user: UserId,
) -> Result<Vec<i64>, StoreError> {
    const SQL: &str = "SELECT role_id FROM member_roles WHERE server_id = $1 AND user_id = $2";
    if let Some(readers) = db.sqlite_readers() {
        return readers.all(SQL, [server.as_i64(), user.as_i64()]);
    }
    let rows: Vec<(i64,)> = on_pool!(db, |p| sqlx::query_as(SQL)
        .bind(server.as_i64())
        .bind(user.as_i64())
        .fetch_all(p)
        .await)?;
    Ok(rows.into_iter().map(|(r,)| r).collect())
}

/// User ids of every member (for fan-out bookkeeping).
pub async fn member_ids(db: &Db, server: ServerId) -> Result<Vec<i64>, StoreError> {
    let rows: Vec<(i64,)> = on_pool!(db, |p| sqlx::query_as(
        "SELECT user_id FROM members WHERE server_id = $1"
    )
    .bind(server.as_i64())
    .fetch_all(p)
    .await)?;
    Ok(rows.into_iter().map(|(r,)| r).collect())
}

/// Which of `users` are members of `server`.
pub async fn members_among(
    db: &Db,
    server: ServerId,
    users: &[i64],
) -> Result<Vec<i64>, StoreError> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT user_id FROM members WHERE server_id = $1 AND user_id IN ({})",
        crate::placeholders(2, users.len())
    );
    let rows: Vec<(i64,)> = on_pool!(db, |p| {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(server.as_i64());
        for u in users {
            q = q.bind(*u);
        }
        q.fetch_all(p).await
    })?;
    Ok(rows.into_iter().map(|(u,)| u).collect())
}

pub use crate::members::{add_member, remove_member};

/// The server's roles, highest first.
pub async fn roles(db: &Db, server: ServerId) -> Result<Vec<RoleRow>, StoreError> {
    rows_for_key(db, ROLES, server.as_i64()).await
}

/// Locks the server's row (`$1`) until the transaction ends, so that the changes that take
/// it happen one at a time. On PostgreSQL (read committed), without it, two role creations
/// at once both put their role at position 1 (each one's shift missed the other's new
/// row), and a join could read "not banned" while a ban of the same person was committing.
/// On SQLite it takes the write lock (which every write waits for anyway) at once.
pub(crate) const LOCK_SERVER: &str = "UPDATE servers SET name = name WHERE id = $1";

/// [`roles`]' query.
pub(crate) const ROLES: &str = "SELECT id, server_id, name, color, position, permissions, hoist, \
     mentionable FROM roles WHERE server_id = $1 ORDER BY position DESC, id";

/// A channel's columns (from `channels`, unaliased). Its newest message is not stored with it
/// (a send would write the channel's row too): it is the last entry of the channel's
/// list (`channel_messages`).
const CHANNEL_COLUMNS: &str = "id, server_id, kind, name, position, parent_id, topic, \
     slowmode_secs, user_limit, bitrate, (SELECT m.id FROM channel_messages m \
     WHERE m.channel_id = channels.id ORDER BY m.id DESC LIMIT 1) AS last_message_id";

/// A server's channels by position as [`load`] reads them: without their newest messages.
pub(crate) const CHANNELS_UNDATED: &str = "SELECT id, server_id, kind, name, position, parent_id, topic, \
     slowmode_secs, user_limit, bitrate, NULL AS last_message_id FROM channels \
     WHERE server_id = $1 ORDER BY position, id";

/// The server's channels by position.
pub async fn channels(db: &Db, server: ServerId) -> Result<Vec<ChannelRow>, StoreError> {
    let sql = format!(
        "SELECT {CHANNEL_COLUMNS} FROM channels WHERE server_id = $1 ORDER BY position, id"
    );
    let newest = db.unlisted_newest();
    let mut rows: Vec<ChannelRow> = match db.sqlite_readers() {
        Some(readers) => readers.all(&sql, [server.as_i64()])?,
        None => on_pool!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(server.as_i64())
            .fetch_all(p)
            .await)?,
    };
    for row in &mut rows {
        row.last_message_id = row.last_message_id.max(newest.get(&row.id).copied());
    }
    Ok(rows)
}

/// The newest message id of each of the server's channels that has one.
pub async fn last_message_ids(
    db: &Db,
    server: ServerId,
) -> Result<std::collections::HashMap<i64, i64>, StoreError> {
    let unlisted = db.unlisted_newest();
    let rows: Vec<(i64, Option<i64>)> = on_pool!(db, |p| sqlx::query_as(
        "SELECT c.id, (SELECT m.id FROM channel_messages m WHERE m.channel_id = c.id \
         ORDER BY m.id DESC LIMIT 1) AS newest FROM channels c WHERE c.server_id = $1"
    )
    .bind(server.as_i64())
    .fetch_all(p)
    .await)?;
    Ok(rows
        .into_iter()
        .filter_map(|(c, m)| Some((c, m.max(unlisted.get(&c).copied())?)))
        .collect())
}

/// One channel.
pub async fn channel(db: &Db, id: ChannelId) -> Result<Option<ChannelRow>, StoreError> {
    let sql = format!("SELECT {CHANNEL_COLUMNS} FROM channels WHERE id = $1");
    let unlisted = db.unlisted_newest_in(id.as_i64());
    let row: Option<ChannelRow> =
        on_pool!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(id.as_i64())
            .fetch_optional(p)
            .await)?;
    Ok(row.map(|mut row| {
        row.last_message_id = row.last_message_id.max(unlisted);
        row
    }))
}

/// Every overwrite of the server's channels.
pub async fn overwrites(db: &Db, server: ServerId) -> Result<Vec<OverwriteRow>, StoreError> {
    rows_for_key(db, OVERWRITES, server.as_i64()).await
}

/// [`overwrites`]' query.
pub(crate) const OVERWRITES: &str = "SELECT o.channel_id, o.target_id, o.kind = 'role' AS is_role, \
     o.allow, o.deny FROM channel_overwrites o JOIN channels c ON c.id = o.channel_id \
     WHERE c.server_id = $1";

/// Adds a channel after the server's last one, with the server's row locked (two channels
/// created at once get positions of their own): `c.position` is not used. A channel in a
/// category gets a copy of the category's overwrites. Returns the position given.
pub async fn append_channel(db: &Db, c: &NewChannel) -> Result<i64, StoreError> {
    let position = on_pool!(db, |p| {
        let mut tx = p.begin().await?;
        sqlx::query(LOCK_SERVER)
            .bind(c.server_id.as_i64())
            .execute(&mut *tx)
            .await?;
        let (last,): (Option<i64>,) =
            sqlx::query_as("SELECT MAX(position) FROM channels WHERE server_id = $1")
                .bind(c.server_id.as_i64())
                .fetch_one(&mut *tx)
                .await?;
        let placed = NewChannel {
            position: last.map_or(0, |m| m + 1),
            ..c.clone()
        };
        insert_channel!(&mut *tx, placed)?;
        // In a category, it starts with the category's permissions (as Discord's "synced"
        // channels do), so a private category's new channel is private too.
        if let Some(parent) = placed.parent_id {
            sqlx::query(crate::roles::COPY_OVERWRITES)
                .bind(placed.id.as_i64())
                .bind(parent.as_i64())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>(placed.position)
    })?;
    db.changed(Change::Server {
        server: c.server_id,
    });
    Ok(position)
}

/// Writes every editable field of a channel.
pub async fn update_channel(db: &Db, c: &ChannelRow) -> Result<(), StoreError> {
    on_pool!(db, |p| sqlx::query(
        "UPDATE channels SET name = $1, position = $2, parent_id = $3, topic = $4, \
         slowmode_secs = $5, user_limit = $6, bitrate = $7 WHERE id = $8"
    )
    .bind(&c.name)
    .bind(c.position)
    .bind(c.parent_id)
    .bind(&c.topic)
    .bind(c.slowmode_secs)
    .bind(c.user_limit)
    .bind(c.bitrate)
    .bind(c.id)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    db.changed(Change::Server {
        server: ServerId::from_i64(c.server_id),
    });
    Ok(())
}

/// Writes the position and parent of several channels in one transaction.
pub async fn update_channels(db: &Db, rows: &[ChannelRow]) -> Result<(), StoreError> {
    on_pool!(db, |p| {
        let mut tx = p.begin().await?;
        for c in rows {
            sqlx::query("UPDATE channels SET position = $1, parent_id = $2 WHERE id = $3")
                .bind(c.position)
                .bind(c.parent_id)
                .bind(c.id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    })?;
    let mut servers: Vec<i64> = rows.iter().map(|c| c.server_id).collect();
    servers.sort_unstable();
    servers.dedup();
    for server in servers {
        db.changed(Change::Server {
            server: ServerId::from_i64(server),
        });
    }
    Ok(())
}

/// Deletes a channel of `server` (its children lose their parent).
pub async fn delete_channel(db: &Db, server: ServerId, id: ChannelId) -> Result<(), StoreError> {
    db.removing_channel(id.as_i64());
    on_pool!(db, |p| sqlx::query("DELETE FROM channels WHERE id = $1")
        .bind(id.as_i64())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
    db.changed(Change::Server { server });
    Ok(())
}
