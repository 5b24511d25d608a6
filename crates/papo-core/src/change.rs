//! What a write to the database changed, so that in-memory copies of it (on this node and,
//! through the cluster bus, on the others) are forgotten before they can be used again.
//!
//! The store reports a [`Change`] after each committed write that affects permissions,
//! memberships, profiles or logins; caches key their entries by the same values.

use serde::{Deserialize, Serialize};

use crate::id::{ServerId, SessionId, UserId};

/// One committed change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// A server's own row, roles, channels or permission overwrites changed, or the server
    /// was created or deleted.
    Server {
        /// The server.
        server: ServerId,
    },
    /// One membership changed: joined, left, kicked, banned, nickname, timeout or roles.
    Member {
        /// The server.
        server: ServerId,
        /// The member.
        user: UserId,
    },
    /// A user's profile changed.
    User {
        /// The user.
        user: UserId,
    },
    /// Login sessions were revoked: their tokens no longer authenticate.
    Sessions {
        /// The revoked sessions.
        sessions: Vec<SessionId>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_travel_as_tagged_json() {
        let c = Change::Member {
            server: ServerId::from_i64(5),
            user: UserId::from_i64(7),
        };
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, r#"{"kind":"member","server":"5","user":"7"}"#);
        assert_eq!(serde_json::from_str::<Change>(&json).unwrap(), c);
    }
}
