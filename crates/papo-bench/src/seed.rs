//! Seeding a database with rooms of members before the server starts: accounts, login
//! sessions with access tokens, and one server per room with a `#general` channel.
//!
//! This is setup only (password hashing 16,000 accounts through the API would take
//! minutes); everything measured afterwards goes through the real gateway and REST paths.

use papo_core::id::{ChannelId, IdGenerator, ServerId, SessionId, UserId};
use papo_core::permissions::Permissions;
use papo_core::settings::UserSettings;
use papo_server::auth::tokens;
use papo_store::servers::{self, NewChannel, ServerRow};
use papo_store::sessions::{self, NewSession};
use papo_store::users::{self, NewUser};
use papo_store::{Db, DbConfig};

/// A member of a room: the account and a valid access token.
#[derive(Clone, Debug)]
pub struct Member {
    /// Access token.
    pub token: String,
}

/// A room: a text channel and its members.
#[derive(Clone, Debug)]
pub struct Room {
    /// The channel messages go to.
    pub channel_id: String,
    /// Its members (each gets one gateway session).
    pub members: Vec<Member>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Creates `rooms` rooms of `size` members each in the database at `url`.
pub async fn rooms(url: &str, rooms: usize, size: usize) -> anyhow::Result<Vec<Room>> {
    let db = Db::connect(&DbConfig {
        url: url.to_owned(),
        max_connections: 1,
        pg_schema: None,
    })
    .await?;
    db.bulk_load_mode().await?;
    // Node 1023: ids never collide with the server's (node 0).
    let ids = IdGenerator::new(1023);
    let now = now_ms();
    let next = || ids.next(now_ms() as u64);
    // One real argon2id hash shared by every bench account (nobody logs in with it).
    let hash = papo_server::auth::password::PasswordHasher::new()
        .hash("bench password 123".into())
        .await?;
    let settings = serde_json::to_string(&UserSettings::default())?;
    let mut out = Vec::with_capacity(rooms);
    for r in 0..rooms {
        let server_id = ServerId(next());
        let mut members = Vec::with_capacity(size);
        let mut user_ids = Vec::with_capacity(size);
        for m in 0..size {
            let user_id = UserId(next());
            let name = format!("b{r}_{m}_{}", user_id.as_i64() % 100_000);
            let email = format!("{name}@bench.test");
            users::insert(
                &db,
                &NewUser {
                    id: user_id,
                    username: &name,
                    email: &email,
                    email_key: &email,
                    password_hash: &hash,
                    display_name: None,
                    settings: &settings,
                    now,
                },
            )
            .await?;
            let pair = tokens::mint(now, 24 * 3600, 24 * 3600);
            sessions::create(
                &db,
                &NewSession {
                    id: SessionId(next()),
                    user_id,
                    user_agent: Some("papo-bench"),
                    ip: None,
                    now,
                },
                &pair.stored,
            )
            .await?;
            user_ids.push(user_id);
            members.push(Member { token: pair.access });
        }
        let channel = ChannelId(next());
        servers::create(
            &db,
            &ServerRow {
                id: server_id.as_i64(),
                name: format!("room {r}"),
                description: None,
                icon: None,
                owner_id: user_ids[0].as_i64(),
                created_at: now,
            },
            Permissions::DEFAULT_EVERYONE.0 as i64,
            &[NewChannel {
                id: channel,
                server_id,
                kind: "text",
                name: "general".into(),
                position: 0,
                parent_id: None,
                topic: None,
                slowmode_secs: 0,
                user_limit: None,
                bitrate: None,
            }],
        )
        .await?;
        for u in &user_ids[1..] {
            servers::add_member(&db, server_id, *u, now).await?;
        }
        out.push(Room {
            channel_id: channel.as_i64().to_string(),
            members,
        });
    }
    db.close().await;
    Ok(out)
}
