//! A server's six reads on SQLite's own connections ([`crate::servers::load`]), with their
//! statements prepared once: a gateway identify reads the servers its caller does not hold
//! yet in its own transaction, for however many identifies share it.

use papo_core::id::ServerId;
use rusqlite::CachedStatement;

use crate::servers::{self, ServerParts};
use crate::sqlite_reader::{all_with, optional_with};

/// [`crate::servers::load`]'s six statements.
pub(crate) struct LoadQueries<'c> {
    server: CachedStatement<'c>,
    roles: CachedStatement<'c>,
    channels: CachedStatement<'c>,
    overwrites: CachedStatement<'c>,
    members: CachedStatement<'c>,
    member_roles: CachedStatement<'c>,
}

impl<'c> LoadQueries<'c> {
    /// The statements, from `c`'s cache.
    pub(crate) fn prepare(c: &'c rusqlite::Connection) -> rusqlite::Result<Self> {
        Ok(Self {
            server: c.prepare_cached(servers::SERVER_BY_ID.as_str())?,
            roles: c.prepare_cached(servers::ROLES)?,
            channels: c.prepare_cached(servers::CHANNELS_UNDATED)?,
            overwrites: c.prepare_cached(servers::OVERWRITES)?,
            members: c.prepare_cached(crate::members::ALL)?,
            member_roles: c.prepare_cached(crate::roles::ALL_MEMBER_ROLES)?,
        })
    }

    /// Server `id` with its roles, channels, overwrites and memberships (inside a read
    /// transaction, so that they agree); `None` if there is no such server.
    pub(crate) fn read(&mut self, id: ServerId) -> rusqlite::Result<Option<ServerParts>> {
        let key = [id.as_i64()];
        let Some(server) = optional_with(&mut self.server, key)? else {
            return Ok(None);
        };
        Ok(Some(ServerParts {
            server,
            roles: all_with(&mut self.roles, key)?,
            channels: all_with(&mut self.channels, key)?,
            overwrites: all_with(&mut self.overwrites, key)?,
            members: all_with(&mut self.members, key)?,
            member_roles: all_with(&mut self.member_roles, key)?,
        }))
    }
}
