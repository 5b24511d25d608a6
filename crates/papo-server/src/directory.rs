//! In-memory copies of what nearly every request reads: who an access token belongs to, a
//! server's row, roles, channels and overwrites, memberships, and public profiles.
//!
//! They are kept exact by the store's change reports: every committed write that touches
//! them is announced as a [`Change`] on this node and, through the cluster bus, on the
//! others (see `AppState::new`), and the copies are dropped before anyone reads them again.
//! Two guards cover what the reports cannot:
//! - a copy loaded while an invalidation happened is not kept (it may predate the write):
//!   loads note the [`Directory::generation`] before reading and keep the result only if it
//!   has not moved, checked under the same lock the invalidation takes;
//! - in a cluster, every copy expires after [`CLUSTER_MAX_AGE`], bounding the damage of a
//!   lost bus message. A single node reports its changes in-process, synchronously: nothing
//!   can be lost there, and copies live until invalidated.
//!
//! Channel rows are kept without `last_message_id` (it changes with every message): read it
//! from the database where it matters.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use papo_core::change::Change;
use papo_core::id::{ChannelId, ServerId, UserId};
use papo_store::servers::{self, ChannelRow, MemberRow, OverwriteRow, RoleRow, ServerRow};
use papo_store::sessions::{self, TokenOwner};
use papo_store::users;
use papo_store::{Db, StoreError};

use crate::http::servers::ready_json::SharedJson;
use crate::http::users::PublicUser;

/// In a cluster, the longest a copy is used without being read again from the database.
pub const CLUSTER_MAX_AGE: Duration = Duration::from_secs(30);
/// Tokens or profiles kept at most; past that the map starts over.
const MAX_ENTRIES: usize = 200_000;
/// Live access tokens loaded at a start at most: half of the most kept (`MAX_ENTRIES`),
/// leaving room for those issued or presented afterwards before the map starts over.
pub const PRELOADED_TOKENS: usize = MAX_ENTRIES / 2;

/// The cache key of a token hash given in hex (anything else maps to its first bytes; only
/// hashes of our own making are looked up).
fn token_key(hex: &str) -> [u8; 32] {
    let mut key = [0u8; 32];
    for (k, pair) in key.iter_mut().zip(hex.as_bytes().chunks(2)) {
        let low = pair.get(1).map_or(0, |c| NIBBLES[usize::from(*c)]);
        *k = (NIBBLES[usize::from(pair[0])] << 4) | low;
    }
    key
}

/// The value of each byte as a hex digit (0 for a byte that is not one): found by index, as
/// `char::to_digit` cost each token lookup about 900 instructions (quick S1).
static NIBBLES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        table[c] = match c as u8 {
            d @ b'0'..=b'9' => d - b'0',
            d @ b'a'..=b'f' => d - b'a' + 10,
            d @ b'A'..=b'F' => d - b'A' + 10,
            _ => 0,
        };
        c += 1;
    }
    table
};

/// The cached copies of one node.
#[derive(Default)]
pub struct Directory {
    /// How long a copy may be used (`None`: until invalidated).
    max_age: Option<Duration>,
    /// Bumped by every invalidation.
    generation: AtomicU64,
    /// By the raw token hash (32 bytes, not its 64-character hex form: one per session).
    tokens: Mutex<foldhash::HashMap<[u8; 32], Timed<TokenOwner>>>,
    servers: RwLock<foldhash::HashMap<i64, Arc<ServerEntry>>>,
    /// Servers being read, so that requests for the same one wait for a single read (the
    /// members of a server tend to connect together).
    server_loads: Mutex<foldhash::HashMap<i64, Arc<tokio::sync::Mutex<()>>>>,
    /// The server of each channel seen (a channel never moves between servers).
    channel_servers: RwLock<foldhash::HashMap<i64, i64>>,
    users: Mutex<foldhash::HashMap<i64, Timed<Profile>>>,
}

/// A public profile, and its JSON as a message's author.
struct Profile {
    user: PublicUser,
    /// Its JSON, shared with the sends that write it into their messages.
    json: Arc<str>,
}

impl Profile {
    fn new(user: PublicUser) -> Self {
        let json = crate::http::messages::json::user_json(&user).into();
        Self { user, json }
    }
}

/// Whether a copy loaded at `loaded` may still be used.
fn young(loaded: Instant, max_age: Option<Duration>) -> bool {
    max_age.is_none_or(|m| loaded.elapsed() < m)
}

struct Timed<T> {
    value: T,
    loaded: Instant,
}

impl<T> Timed<T> {
    fn new(value: T) -> Self {
        Self {
            value,
            loaded: Instant::now(),
        }
    }

    fn fresh(&self, max_age: Option<Duration>) -> Option<&T> {
        young(self.loaded, max_age).then_some(&self.value)
    }
}

/// A server as permission checks see it.
pub struct ServerEntry {
    /// The server.
    pub server: ServerRow,
    /// Its roles, highest first.
    pub roles: Vec<RoleRow>,
    /// Its channels (`last_message_id` is always `None` here).
    pub channels: Vec<ChannelRow>,
    /// Every overwrite of its channels.
    pub overwrites: Vec<OverwriteRow>,
    /// Its members' ids, once listed (a membership change forgets them).
    member_ids: Mutex<Option<Arc<[i64]>>>,
    loaded: Instant,
    /// Memberships known so far.
    members: Mutex<Members>,
    /// What every member's `ready` shares of it, written on first use.
    pub(crate) shared_json: OnceLock<SharedJson>,
}

/// The memberships of one server known so far.
#[derive(Default)]
struct Members {
    /// By user id (`None`: not a member).
    by_user: foldhash::HashMap<i64, Option<Arc<MemberEntry>>>,
    /// Every member is in `by_user`: a user missing from it is not a member. A membership
    /// change clears it (that user is dropped and read alone next time).
    complete: bool,
}

impl Members {
    /// Every membership of a server, with `(user_id, role_id)` pairs for their roles, and
    /// the members' ids.
    fn all(rows: Vec<MemberRow>, member_roles: Vec<(i64, i64)>) -> (Self, Arc<[i64]>) {
        let mut role_ids: HashMap<i64, Vec<i64>> = HashMap::new();
        for (member, role) in member_roles {
            role_ids.entry(member).or_default().push(role);
        }
        let ids: Arc<[i64]> = rows.iter().map(|m| m.user_id).collect();
        let by_user = rows
            .into_iter()
            .map(|member| {
                let roles = role_ids.remove(&member.user_id).unwrap_or_default();
                (
                    member.user_id,
                    Some(Arc::new(MemberEntry { member, roles })),
                )
            })
            .collect();
        let members = Self {
            by_user,
            complete: true,
        };
        (members, ids)
    }
}

/// One membership with its roles.
pub struct MemberEntry {
    /// The membership.
    pub member: MemberRow,
    /// Role ids (without `@everyone`).
    pub roles: Vec<i64>,
}

impl ServerEntry {
    /// A server just read, none of its memberships known yet.
    pub fn new(
        server: ServerRow,
        roles: Vec<RoleRow>,
        channels: Vec<ChannelRow>,
        overwrites: Vec<OverwriteRow>,
    ) -> Self {
        Self {
            server,
            roles,
            channels,
            overwrites,
            member_ids: Mutex::default(),
            loaded: Instant::now(),
            members: Mutex::default(),
            shared_json: OnceLock::new(),
        }
    }

    /// When this copy was loaded.
    pub fn loaded(&self) -> Instant {
        self.loaded
    }

    /// Where channel `id` stands in `channels`, if it is one of this server's.
    pub fn channel_at(&self, id: i64) -> Option<usize> {
        self.channels.iter().position(|c| c.id == id)
    }
}

impl Directory {
    /// A new, empty directory whose copies are used for at most `max_age` (`None`: until
    /// invalidated).
    pub fn new(max_age: Option<Duration>) -> Arc<Self> {
        Arc::new(Self {
            max_age,
            ..Self::default()
        })
    }

    /// Invalidations so far: what was read while this was unchanged may be kept.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Whether what was read while the generation was `seen`, from copies loaded at
    /// `loaded` or later, still holds: nothing was invalidated since, and those copies have
    /// not expired.
    pub fn unchanged_since(&self, loaded: Instant, seen: u64) -> bool {
        self.generation() == seen && young(loaded, self.max_age)
    }

    /// Forgets what `change` made stale.
    pub fn invalidate(&self, change: &Change) {
        match change {
            Change::Server { server } => {
                let mut map = self.servers.write().expect("directory poisoned");
                self.generation.fetch_add(1, Ordering::SeqCst);
                map.remove(&server.as_i64());
            }
            Change::Member { server, user } => {
                let map = self.servers.read().expect("directory poisoned");
                match map.get(&server.as_i64()) {
                    Some(entry) => {
                        let mut members = entry.members.lock().expect("directory poisoned");
                        let mut ids = entry.member_ids.lock().expect("directory poisoned");
                        self.generation.fetch_add(1, Ordering::SeqCst);
                        members.by_user.remove(&user.as_i64());
                        members.complete = false;
                        *ids = None;
                    }
                    None => {
                        self.generation.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }
            Change::User { user } => {
                let mut map = self.users.lock().expect("directory poisoned");
                self.generation.fetch_add(1, Ordering::SeqCst);
                map.remove(&user.as_i64());
            }
            Change::Sessions { sessions } => {
                let mut map = self.tokens.lock().expect("directory poisoned");
                self.generation.fetch_add(1, Ordering::SeqCst);
                let ids: Vec<i64> = sessions.iter().map(|s| s.as_i64()).collect();
                map.retain(|_, t| !ids.contains(&t.value.session_id));
            }
        }
    }

    /// The owner of a live access token (by its hash), as [`sessions::authenticate`].
    pub async fn authenticate(
        &self,
        db: &Db,
        hash: &str,
        now: i64,
    ) -> Result<Option<TokenOwner>, StoreError> {
        if let Some(owner) = self.live_owner(hash, now) {
            return Ok(Some(owner));
        }
        let seen = self.generation();
        let owner = sessions::authenticate(db, hash, now).await?;
        if let Some(o) = &owner {
            self.keep_owner(hash, seen, *o);
        }
        Ok(owner)
    }

    /// Loads the owners of the live access tokens (at most [`PRELOADED_TOKENS`], the most
    /// recently used sessions first), so that the first request or gateway identify of each
    /// after a start finds its token here instead of searching for it in the database: after
    /// a restart every client reconnects at once. Returns how many were kept (none if an
    /// invalidation happened while they were read: they may predate it).
    pub async fn preload_tokens(&self, db: &Db, now: i64) -> Result<usize, StoreError> {
        let seen = self.generation();
        let live = sessions::live_access_tokens(db, now, PRELOADED_TOKENS).await?;
        let mut map = self.tokens.lock().expect("directory poisoned");
        if self.generation() != seen {
            return Ok(0);
        }
        map.reserve(live.len());
        for t in &live {
            map.insert(token_key(&t.hash), Timed::new(t.owner));
        }
        Ok(live.len())
    }

    /// Forgets the tokens expired at `now` (housekeeping: a token is never used past its
    /// expiry, but one nobody presents again would stay).
    pub fn forget_expired_tokens(&self, now: i64) -> usize {
        let mut map = self.tokens.lock().expect("directory poisoned");
        let before = map.len();
        map.retain(|_, t| t.value.expires_at > now);
        before - map.len()
    }

    /// The owner of a live access token (by its hash) if this directory holds it, without
    /// reading the database; `None` says nothing about the token (it may be unknown here
    /// only). A revoked session's tokens are dropped when the revocation is reported.
    pub fn live_owner(&self, hash: &str, now: i64) -> Option<TokenOwner> {
        let key = token_key(hash);
        let mut map = self.tokens.lock().expect("directory poisoned");
        let t = map.get(&key)?;
        match t.fresh(self.max_age) {
            Some(owner) if owner.expires_at > now => Some(*owner),
            _ => {
                map.remove(&key);
                None
            }
        }
    }

    /// Holds a token's owner, read (or issued: at a sign-in or a refresh, so that its first
    /// request or identify does not search for it) while the generation was `seen`: if an
    /// invalidation came since, it is not held (a revocation may have been that session's).
    pub fn keep_owner(&self, hash: &str, seen: u64, owner: TokenOwner) {
        let mut map = self.tokens.lock().expect("directory poisoned");
        if self.generation() == seen {
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(token_key(hash), Timed::new(owner));
        }
    }

    /// Notes that the session of token `hash` was marked used at `now`.
    pub fn touched(&self, hash: &str, now: i64) {
        if let Some(t) = self
            .tokens
            .lock()
            .expect("directory poisoned")
            .get_mut(&token_key(hash))
        {
            t.value.last_used_at = now;
        }
    }

    /// A server, or `None` if it does not exist.
    pub async fn server(
        &self,
        db: &Db,
        id: ServerId,
    ) -> Result<Option<Arc<ServerEntry>>, StoreError> {
        if let Some(e) = self.cached_server(id) {
            return Ok(Some(e));
        }
        // Boxed, like every read below that the copy answers nearly always: a future is as
        // large as its largest await, and a message's send awaits these
        // (docs/benchmarks/s4-writer.md, *Smaller sends*).
        Box::pin(self.load_server(db, id)).await
    }

    /// Reads a server the copy lacks, one reader at a time per server.
    async fn load_server(
        &self,
        db: &Db,
        id: ServerId,
    ) -> Result<Option<Arc<ServerEntry>>, StoreError> {
        let load = self
            .server_loads
            .lock()
            .expect("directory poisoned")
            .entry(id.as_i64())
            .or_default()
            .clone();
        let loaded = {
            let _loading = load.lock().await;
            match self.cached_server(id) {
                Some(e) => Ok(Some(e)),
                None => self.read_server(db, id).await,
            }
        };
        let mut loads = self.server_loads.lock().expect("directory poisoned");
        // The last one out removes the lock (the map holds one reference, `load` another).
        if Arc::strong_count(&load) == 2 {
            loads.remove(&id.as_i64());
        }
        loaded
    }

    fn cached_server(&self, id: ServerId) -> Option<Arc<ServerEntry>> {
        self.servers
            .read()
            .expect("directory poisoned")
            .get(&id.as_i64())
            .filter(|e| young(e.loaded, self.max_age))
            .cloned()
    }

    /// Reads a server from the database and keeps it unless an invalidation happened
    /// meanwhile.
    async fn read_server(
        &self,
        db: &Db,
        id: ServerId,
    ) -> Result<Option<Arc<ServerEntry>>, StoreError> {
        let seen = self.generation();
        let Some(parts) = servers::load(db, id).await? else {
            return Ok(None);
        };
        let entry = Arc::new(Self::entry(parts));
        let mut map = self.servers.write().expect("directory poisoned");
        if self.generation() == seen {
            map.insert(id.as_i64(), entry.clone());
        }
        Ok(Some(entry))
    }

    /// A server's entry, complete with its memberships.
    fn entry(parts: servers::ServerParts) -> ServerEntry {
        let servers::ServerParts {
            server,
            roles,
            channels,
            overwrites,
            members,
            member_roles,
        } = parts;
        let mut entry = ServerEntry::new(server, roles, channels, overwrites);
        let (members, ids) = Members::all(members, member_roles);
        entry.members = Mutex::new(members);
        entry.member_ids = Mutex::new(Some(ids));
        entry
    }

    /// `user`'s membership in `entry`'s server, or `None` if they are not a member.
    ///
    /// A server is read with all of its memberships ([`servers::load`]), since its members'
    /// sessions and requests follow; after that a miss (someone who joined or changed
    /// since) reads that one membership.
    pub async fn member(
        &self,
        db: &Db,
        entry: &ServerEntry,
        user: UserId,
    ) -> Result<Option<Arc<MemberEntry>>, StoreError> {
        if let Some(known) = Self::known_member(entry, user) {
            return Ok(known);
        }
        let seen = self.generation();
        let server = ServerId::from_i64(entry.server.id);
        let loaded = Box::pin(Self::read_member(db, server, user)).await?;
        let mut members = entry.members.lock().expect("directory poisoned");
        if self.generation() == seen {
            members.by_user.insert(user.as_i64(), loaded.clone());
        }
        Ok(loaded)
    }

    /// Reads one membership and its roles from the database.
    async fn read_member(
        db: &Db,
        server: ServerId,
        user: UserId,
    ) -> Result<Option<Arc<MemberEntry>>, StoreError> {
        let Some(member) = servers::member(db, server, user).await? else {
            return Ok(None);
        };
        let roles = servers::member_role_ids(db, server, user).await?;
        Ok(Some(Arc::new(MemberEntry { member, roles })))
    }

    /// What the copy says of `user`'s membership, if it knows.
    fn known_member(entry: &ServerEntry, user: UserId) -> Option<Option<Arc<MemberEntry>>> {
        let members = entry.members.lock().expect("directory poisoned");
        match members.by_user.get(&user.as_i64()) {
            Some(m) => Some(m.clone()),
            None => members.complete.then_some(None),
        }
    }

    /// How many members `entry`'s server has.
    pub async fn member_count(&self, db: &Db, entry: &ServerEntry) -> Result<i64, StoreError> {
        Ok(self.member_ids(db, entry).await?.len() as i64)
    }

    /// The ids of `entry`'s server's members.
    pub async fn member_ids(&self, db: &Db, entry: &ServerEntry) -> Result<Arc<[i64]>, StoreError> {
        if let Some(ids) = &*entry.member_ids.lock().expect("directory poisoned") {
            return Ok(ids.clone());
        }
        let seen = self.generation();
        let ids: Arc<[i64]> = servers::member_ids(db, ServerId::from_i64(entry.server.id))
            .await?
            .into();
        let mut cached = entry.member_ids.lock().expect("directory poisoned");
        if self.generation() == seen {
            *cached = Some(ids.clone());
        }
        Ok(ids)
    }

    /// A channel's server and where the channel stands in its `channels`, or `None` if it
    /// does not exist.
    pub async fn channel(
        &self,
        db: &Db,
        id: ChannelId,
    ) -> Result<Option<(Arc<ServerEntry>, usize)>, StoreError> {
        let known = self
            .channel_servers
            .read()
            .expect("directory poisoned")
            .get(&id.as_i64())
            .copied();
        let server = match known {
            Some(s) => s,
            None => {
                let Some(row) = Box::pin(servers::channel(db, id)).await? else {
                    return Ok(None);
                };
                let mut map = self.channel_servers.write().expect("directory poisoned");
                if map.len() >= MAX_ENTRIES {
                    map.clear();
                }
                map.insert(row.id, row.server_id);
                row.server_id
            }
        };
        let Some(entry) = self.server(db, ServerId::from_i64(server)).await? else {
            return Ok(None);
        };
        Ok(entry.channel_at(id.as_i64()).map(|at| (entry, at)))
    }

    /// Public profiles of `ids`, in the order of their ids (unknown ids are missing from the
    /// answer), to be found by binary search: a map cost each gateway send 520 instructions
    /// more (`bench/callgrind`, quick S4), for the one author it looks up.
    pub async fn public_users(&self, db: &Db, ids: &[i64]) -> Result<Vec<PublicUser>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        let mut missing = Vec::new();
        {
            let map = self.users.lock().expect("directory poisoned");
            for id in ids {
                match map.get(id).and_then(|u| u.fresh(self.max_age)) {
                    Some(p) => out.push(p.user.clone()),
                    None => missing.push(*id),
                }
            }
        }
        if !missing.is_empty() {
            self.read_public_users(db, &missing, &mut out).await?;
        }
        out.sort_unstable_by_key(|u| u.id.as_i64());
        Ok(out)
    }

    /// The JSON of the public profile of `id` (a deleted user's if there is none), shared
    /// with the cache, or read first and kept: the send path writes a new message's JSON
    /// with it, copying its author's as written once.
    pub async fn user_json(&self, db: &Db, id: i64) -> Result<Arc<str>, StoreError> {
        Ok(self.user_json_loaded(db, id).await?.0)
    }

    /// [`Directory::user_json`], with when its copy was loaded.
    pub async fn user_json_loaded(
        &self,
        db: &Db,
        id: i64,
    ) -> Result<(Arc<str>, Instant), StoreError> {
        {
            let map = self.users.lock().expect("directory poisoned");
            if let Some(p) = map.get(&id).filter(|p| young(p.loaded, self.max_age)) {
                return Ok((p.value.json.clone(), p.loaded));
            }
        }
        let now = Instant::now();
        let mut read = Vec::with_capacity(1);
        Box::pin(self.read_public_users(db, &[id], &mut read)).await?;
        let user = match read.pop() {
            Some(u) => u,
            None => PublicUser::deleted(UserId::from_i64(id)),
        };
        Ok((crate::http::messages::json::user_json(&user).into(), now))
    }

    /// Reads the profiles of `ids` into `out`, and keeps them.
    async fn read_public_users(
        &self,
        db: &Db,
        ids: &[i64],
        out: &mut Vec<PublicUser>,
    ) -> Result<(), StoreError> {
        let seen = self.generation();
        let rows = users::by_ids(db, ids).await?;
        let mut map = self.users.lock().expect("directory poisoned");
        let keep = self.generation() == seen;
        if map.len() + rows.len() > MAX_ENTRIES {
            map.clear();
        }
        for row in &rows {
            let user = PublicUser::from_row(row);
            if keep {
                map.insert(row.id, Timed::new(Profile::new(user.clone())));
            }
            out.push(user);
        }
        Ok(())
    }
}

/// An identify reads the servers the directory lacks with the account, and the directory
/// keeps them ([`sessions::identify`]).
impl sessions::ServerCache for Directory {
    fn lacks(&self, id: ServerId) -> bool {
        self.cached_server(id).is_none()
    }

    fn generation(&self) -> u64 {
        Directory::generation(self)
    }

    fn keep(&self, parts: servers::ServerParts, seen: u64) {
        if Directory::generation(self) != seen {
            return;
        }
        let id = parts.server.id;
        let entry = Arc::new(Self::entry(parts));
        let mut map = self.servers.write().expect("directory poisoned");
        if Directory::generation(self) == seen {
            map.insert(id, entry);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_keys_are_the_raw_hash() {
        let hex = "00ff10a0".repeat(8);
        let key = token_key(&hex);
        assert_eq!(&key[..4], &[0x00, 0xff, 0x10, 0xa0]);
        assert_eq!(key, token_key(&hex.to_uppercase()));
        assert_ne!(key, token_key(&"00ff10a1".repeat(8)));
        let every_digit = "0123456789abcdefABCDEF".repeat(3);
        assert_eq!(
            &token_key(&every_digit)[..11],
            &[
                0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xab, 0xcd, 0xef
            ]
        );
        // Not a digit: zero, as an odd length's missing half.
        assert_eq!(&token_key("zz1")[..3], &[0x00, 0x10, 0x00]);
    }

    #[test]
    fn an_issued_token_is_held_unless_a_revocation_came_since_and_is_forgotten_once_expired() {
        use papo_core::id::SessionId;
        let directory = Directory::new(None);
        let owner = TokenOwner {
            session_id: 5,
            user_id: 1,
            last_used_at: 0,
            expires_at: 1_000,
        };
        let (a, b) = ("aa".repeat(32), "bb".repeat(32));
        let seen = directory.generation();
        directory.keep_owner(&a, seen, owner);
        directory.invalidate(&Change::Sessions {
            sessions: vec![SessionId::from_i64(9)],
        });
        directory.keep_owner(&b, seen, owner);
        assert_eq!(directory.live_owner(&a, 999).map(|o| o.session_id), Some(5));
        assert!(
            directory.live_owner(&b, 999).is_none(),
            "stored before a revocation"
        );
        assert_eq!(directory.forget_expired_tokens(999), 0);
        assert_eq!(directory.forget_expired_tokens(1_000), 1);
        assert!(directory.live_owner(&a, 0).is_none(), "forgotten");
        // A revoked session's tokens go at once.
        directory.keep_owner(&a, directory.generation(), owner);
        directory.invalidate(&Change::Sessions {
            sessions: vec![SessionId::from_i64(5)],
        });
        assert!(directory.live_owner(&a, 0).is_none(), "revoked");
    }

    fn parts(id: i64) -> servers::ServerParts {
        servers::ServerParts {
            server: servers::ServerRow {
                id,
                name: "s".into(),
                description: None,
                icon: None,
                owner_id: 1,
                created_at: 0,
            },
            roles: Vec::new(),
            channels: Vec::new(),
            overwrites: Vec::new(),
            members: Vec::new(),
            member_roles: Vec::new(),
        }
    }

    #[test]
    fn a_server_read_for_an_identify_is_kept_unless_something_was_invalidated_since() {
        use papo_store::sessions::ServerCache;
        let directory = Directory::new(None);
        let (a, b) = (ServerId::from_i64(10), ServerId::from_i64(20));
        assert!(directory.lacks(a) && directory.lacks(b));
        let seen = ServerCache::generation(&*directory);
        directory.keep(parts(10), seen);
        assert!(!directory.lacks(a), "kept");
        // Read before an invalidation, handed over after it: dropped.
        directory.invalidate(&Change::Member {
            server: b,
            user: UserId::from_i64(1),
        });
        directory.keep(parts(20), seen);
        assert!(directory.lacks(b), "stale, not kept");
        directory.keep(parts(20), ServerCache::generation(&*directory));
        assert!(!directory.lacks(b));
    }
}
