//! Who may do what in a server: takes the caller's membership and roles from the
//! [`Directory`](crate::directory::Directory) once per request and answers with the
//! permission engine of `papo-core`.

use papo_core::error::ErrorCode;
use papo_core::id::{ChannelId, ServerId, UserId};
use papo_core::permissions::{MemberContext, Overwrite, OverwriteKind, Permissions, RoleGrant};
use papo_store::servers::{ChannelRow, MemberRow, OverwriteRow, RoleRow, ServerRow};

use std::sync::Arc;

use crate::directory::{MemberEntry, ServerEntry};

use crate::http::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The caller's standing in one server. It shares the directory's cached server and
/// membership (every request checks access: nothing is copied).
pub struct ServerAccess {
    /// The server's cached entry: the server, its roles, channels (without
    /// `last_message_id`) and overwrites.
    pub entry: Arc<ServerEntry>,
    membership: Arc<MemberEntry>,
    grants: Vec<RoleGrant>,
    everyone: Permissions,
    timed_out: bool,
}

/// 404 for servers that do not exist or that the caller is not in (indistinguishable).
pub fn unknown_server() -> ApiError {
    ApiError::new(ErrorCode::NotFound).with_message("Unknown server.")
}

impl ServerAccess {
    /// Loads the caller's standing, or 404 when they are not a member.
    pub async fn load(state: &AppState, server_id: ServerId, user: UserId) -> ApiResult<Self> {
        let entry = state
            .directory
            .server(&state.db, server_id)
            .await?
            .ok_or_else(unknown_server)?;
        Self::of(state, &entry, user).await
    }

    /// The caller's standing in a server already looked up.
    async fn of(state: &AppState, entry: &Arc<ServerEntry>, user: UserId) -> ApiResult<Self> {
        let m = state
            .directory
            .member(&state.db, entry, user)
            .await?
            .ok_or_else(unknown_server)?;
        let everyone = entry
            .roles
            .iter()
            .find(|r| r.id == entry.server.id)
            .map_or(Permissions::NONE, |r| Permissions(r.permissions as u64));
        let grants = grants(&entry.roles, &m.roles);
        let timed_out = m.member.timeout_until.is_some_and(|t| t > crate::now_ms());
        Ok(Self {
            entry: entry.clone(),
            membership: m,
            grants,
            everyone,
            timed_out,
        })
    }

    /// The server.
    pub fn server(&self) -> &ServerRow {
        &self.entry.server
    }

    /// All its roles, highest first (including `@everyone`).
    pub fn roles(&self) -> &[RoleRow] {
        &self.entry.roles
    }

    /// The caller's membership.
    pub fn member(&self) -> &MemberRow {
        &self.membership.member
    }

    /// The caller's role ids (without `@everyone`).
    pub fn member_roles(&self) -> &[i64] {
        &self.membership.roles
    }

    /// Whether the caller owns the server.
    pub fn is_owner(&self) -> bool {
        self.server().owner_id == self.member().user_id
    }

    fn context(&self) -> MemberContext<'_> {
        MemberContext {
            server_id: self.server().id as u64,
            user_id: self.member().user_id as u64,
            is_owner: self.is_owner(),
            everyone: self.everyone,
            roles: &self.grants,
            timed_out: self.timed_out,
        }
    }

    /// Server-wide permissions.
    pub fn base(&self) -> Permissions {
        self.context().base()
    }

    /// 403 unless the caller has `needed` server-wide.
    pub fn require(&self, needed: Permissions) -> ApiResult<()> {
        if self.base().contains(needed) {
            Ok(())
        } else {
            Err(forbidden(needed))
        }
    }

    /// The caller's permissions in channel `channel_id`, given the server's overwrites.
    pub fn in_channel(&self, channel_id: i64, overwrites: &[OverwriteRow]) -> Permissions {
        self.context()
            .in_channel(&channel_overwrites(channel_id, overwrites))
    }

    /// The caller's highest role position (`i64::MAX` for the owner).
    pub fn top_position(&self) -> i64 {
        self.context().top_position()
    }

    /// Whether the caller may act on a member with these roles (strictly above them, or
    /// the owner; nobody acts on the owner).
    pub fn outranks(&self, target: UserId, target_roles: &[i64]) -> bool {
        let top = self
            .roles()
            .iter()
            .filter(|r| target_roles.contains(&r.id))
            .map(|r| r.position)
            .max()
            .unwrap_or(0);
        self.context()
            .outranks(top, target.as_i64() == self.server().owner_id)
    }

    /// Whether the caller may edit, assign or delete a role at `position` granting `grants`.
    pub fn can_manage_role(&self, position: i64, grants: Permissions) -> bool {
        self.context().can_manage_role(position, grants)
    }
}

/// The grants of the roles in `member_roles`.
pub fn grants(roles: &[RoleRow], member_roles: &[i64]) -> Vec<RoleGrant> {
    roles
        .iter()
        .filter(|r| member_roles.contains(&r.id))
        .map(|r| RoleGrant {
            id: r.id as u64,
            position: r.position,
            permissions: Permissions(r.permissions as u64),
        })
        .collect()
}

/// The overwrites of one channel, in the engine's terms.
pub fn channel_overwrites(channel_id: i64, overwrites: &[OverwriteRow]) -> Vec<Overwrite> {
    overwrites
        .iter()
        .filter(|o| o.channel_id == channel_id)
        .map(|o| Overwrite {
            kind: if o.is_role {
                OverwriteKind::Role
            } else {
                OverwriteKind::Member
            },
            target: o.target_id as u64,
            allow: Permissions(o.allow as u64),
            deny: Permissions(o.deny as u64),
        })
        .collect()
}

/// 403 naming the missing permission.
pub fn forbidden(needed: Permissions) -> ApiError {
    ApiError::new(ErrorCode::Forbidden).with_message(format!(
        "Missing permission: {}.",
        needed.names().join(", ")
    ))
}

/// 404 for channels that do not exist or that the caller cannot view.
pub fn unknown_channel() -> ApiError {
    ApiError::new(ErrorCode::NotFound).with_message("Unknown channel.")
}

/// The caller's standing in one channel.
pub struct ChannelAccess {
    /// Where the channel stands in its server's cached channels (shared, not copied: a
    /// gateway send checks access once per message).
    at: usize,
    /// The caller's standing in its server.
    pub access: ServerAccess,
    /// The caller's permissions in the channel.
    pub perms: Permissions,
}

impl ChannelAccess {
    /// Loads the channel with id `raw_id` (a path segment); 404 unless the caller can view it.
    pub async fn load(state: &AppState, raw_id: &str, user: UserId) -> ApiResult<Self> {
        let id: ChannelId = raw_id.parse().map_err(|_| unknown_channel())?;
        let (entry, at) = state
            .directory
            .channel(&state.db, id)
            .await?
            .ok_or_else(unknown_channel)?;
        let access = ServerAccess::of(state, &entry, user)
            .await
            .map_err(|_| unknown_channel())?;
        let perms = access.in_channel(id.as_i64(), &entry.overwrites);
        if !perms.contains(Permissions::VIEW_CHANNEL) {
            return Err(unknown_channel());
        }
        Ok(Self { at, access, perms })
    }

    /// Whether the caller is timed out (checked when this was loaded).
    pub fn timed_out(&self) -> bool {
        self.access.timed_out
    }

    /// The channel (its `last_message_id` is not loaded: read it from the database).
    pub fn channel(&self) -> &ChannelRow {
        &self.access.entry.channels[self.at]
    }

    /// Every overwrite of the server's channels.
    pub fn overwrites(&self) -> &[OverwriteRow] {
        &self.access.entry.overwrites
    }

    /// The channel's id.
    pub fn id(&self) -> ChannelId {
        ChannelId::from_i64(self.channel().id)
    }

    /// The channel's server.
    pub fn server_id(&self) -> ServerId {
        ServerId::from_i64(self.channel().server_id)
    }

    /// 403 unless the caller has all of `needed` in the channel.
    pub fn require(&self, needed: Permissions) -> ApiResult<()> {
        if self.perms.contains(needed) {
            Ok(())
        } else {
            Err(forbidden(Permissions(needed.0 & !self.perms.0)))
        }
    }
}
