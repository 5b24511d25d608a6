//! Who may do what in a server: loads the caller's membership and roles once per request
//! and answers with the permission engine of `papo-core`.

use papo_core::error::ErrorCode;
use papo_core::id::{ServerId, UserId};
use papo_core::permissions::{MemberContext, Overwrite, OverwriteKind, Permissions, RoleGrant};
use papo_store::servers::{self, MemberRow, OverwriteRow, RoleRow, ServerRow};

use crate::http::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The caller's standing in one server.
pub struct ServerAccess {
    /// The server.
    pub server: ServerRow,
    /// All its roles, highest first (including `@everyone`).
    pub roles: Vec<RoleRow>,
    /// The caller's membership.
    pub member: MemberRow,
    /// The caller's role ids (without `@everyone`).
    pub member_roles: Vec<i64>,
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
        let server = servers::by_id(&state.db, server_id)
            .await?
            .ok_or_else(unknown_server)?;
        let member = servers::member(&state.db, server_id, user)
            .await?
            .ok_or_else(unknown_server)?;
        let roles = servers::roles(&state.db, server_id).await?;
        let member_roles = servers::member_role_ids(&state.db, server_id, user).await?;
        let everyone = roles
            .iter()
            .find(|r| r.id == server.id)
            .map_or(Permissions::NONE, |r| Permissions(r.permissions as u64));
        let grants = roles
            .iter()
            .filter(|r| member_roles.contains(&r.id))
            .map(|r| RoleGrant {
                id: r.id as u64,
                position: r.position,
                permissions: Permissions(r.permissions as u64),
            })
            .collect();
        let timed_out = member.timeout_until.is_some_and(|t| t > crate::now_ms());
        Ok(Self {
            server,
            roles,
            member,
            member_roles,
            grants,
            everyone,
            timed_out,
        })
    }

    /// Whether the caller owns the server.
    pub fn is_owner(&self) -> bool {
        self.server.owner_id == self.member.user_id
    }

    fn context(&self) -> MemberContext<'_> {
        MemberContext {
            server_id: self.server.id as u64,
            user_id: self.member.user_id as u64,
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
        let list: Vec<Overwrite> = overwrites
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
            .collect();
        self.context().in_channel(&list)
    }
}

/// 403 naming the missing permission.
pub fn forbidden(needed: Permissions) -> ApiError {
    ApiError::new(ErrorCode::Forbidden).with_message(format!(
        "Missing permission: {}.",
        needed.names().join(", ")
    ))
}
