//! What servers, channels and roles look like on the wire.

use papo_core::id::{ChannelId, MessageId, RoleId, ServerId, UserId};
use papo_core::permissions::Permissions;
use papo_store::servers::{ChannelRow, OverwriteRow, RoleRow, ServerRow};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::rfc3339;

/// A server.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Server {
    /// Id (also the `@everyone` role's id).
    pub id: ServerId,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Icon (arrives with file uploads).
    pub icon: Option<String>,
    /// Owner.
    pub owner_id: UserId,
    /// RFC 3339.
    pub created_at: String,
}

impl From<&ServerRow> for Server {
    fn from(r: &ServerRow) -> Self {
        Self {
            id: ServerId::from_i64(r.id),
            name: r.name.clone(),
            description: r.description.clone(),
            icon: r.icon.clone(),
            owner_id: UserId::from_i64(r.owner_id),
            created_at: rfc3339(r.created_at),
        }
    }
}

/// Channel kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// Text chat.
    Text,
    /// Voice (and video) room.
    Voice,
    /// A folder for other channels.
    Category,
}

impl ChannelKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Voice => "voice",
            Self::Category => "category",
        }
    }

    /// From the stored name.
    pub fn parse(s: &str) -> Self {
        match s {
            "voice" => Self::Voice,
            "category" => Self::Category,
            _ => Self::Text,
        }
    }
}

/// A channel.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Channel {
    /// Id.
    pub id: ChannelId,
    /// Server.
    pub server_id: ServerId,
    /// Kind.
    pub kind: ChannelKind,
    /// Name.
    pub name: String,
    /// Order.
    pub position: i64,
    /// Category.
    pub parent_id: Option<ChannelId>,
    /// Topic.
    pub topic: Option<String>,
    /// Seconds between one member's messages (0 = off).
    pub slowmode_secs: i64,
    /// Voice: most members at once (0 or null = no limit).
    pub user_limit: Option<i64>,
    /// Voice: bits per second.
    pub bitrate: Option<i64>,
    /// Permission overwrites for roles and members.
    pub overwrites: Vec<Overwrite>,
    /// The newest message (text channels), for unread markers.
    pub last_message_id: Option<MessageId>,
}

/// Who an overwrite applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OverwriteType {
    /// A role (the server id for `@everyone`).
    Role,
    /// One member.
    Member,
}

/// A channel permission overwrite.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Overwrite {
    /// Role or user id.
    pub id: String,
    /// Role or member.
    #[serde(rename = "type")]
    pub kind: OverwriteType,
    /// Bits allowed.
    pub allow: Permissions,
    /// Bits denied.
    pub deny: Permissions,
}

impl Channel {
    /// A channel with its overwrites (picked from all of the server's).
    pub fn new(r: &ChannelRow, overwrites: &[OverwriteRow]) -> Self {
        Self {
            id: ChannelId::from_i64(r.id),
            server_id: ServerId::from_i64(r.server_id),
            kind: ChannelKind::parse(&r.kind),
            name: r.name.clone(),
            position: r.position,
            parent_id: r.parent_id.map(ChannelId::from_i64),
            topic: r.topic.clone(),
            slowmode_secs: r.slowmode_secs,
            user_limit: r.user_limit,
            bitrate: r.bitrate,
            overwrites: overwrites
                .iter()
                .filter(|o| o.channel_id == r.id)
                .map(|o| Overwrite {
                    id: o.target_id.to_string(),
                    kind: if o.is_role {
                        OverwriteType::Role
                    } else {
                        OverwriteType::Member
                    },
                    allow: Permissions(o.allow as u64),
                    deny: Permissions(o.deny as u64),
                })
                .collect(),
            last_message_id: r.last_message_id.map(MessageId::from_i64),
        }
    }
}

/// A role.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Role {
    /// Id.
    pub id: RoleId,
    /// Server.
    pub server_id: ServerId,
    /// Name.
    pub name: String,
    /// 24-bit colour.
    pub color: Option<i64>,
    /// Rank (`@everyone` is 0).
    pub position: i64,
    /// Granted permissions.
    pub permissions: Permissions,
    /// Listed separately.
    pub hoist: bool,
    /// Mentionable by anyone.
    pub mentionable: bool,
}

impl From<&RoleRow> for Role {
    fn from(r: &RoleRow) -> Self {
        Self {
            id: RoleId::from_i64(r.id),
            server_id: ServerId::from_i64(r.server_id),
            name: r.name.clone(),
            color: r.color,
            position: r.position,
            permissions: Permissions(r.permissions as u64),
            hoist: r.hoist,
            mentionable: r.mentionable,
        }
    }
}

/// The caller's own standing in a server.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Me {
    /// Server-wide permissions.
    pub permissions: Permissions,
    /// Role ids.
    pub roles: Vec<RoleId>,
    /// RFC 3339, while the caller is timed out.
    pub timeout_until: Option<String>,
}

/// A server with what the caller can see of it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ServerDetail {
    /// The server.
    #[serde(flatten)]
    pub server: Server,
    /// Channels the caller can view, by position.
    pub channels: Vec<Channel>,
    /// Roles, highest first.
    pub roles: Vec<Role>,
    /// The caller's standing.
    pub me: Me,
    /// More members than the server's large-server size: presence changes of its members
    /// are not pushed (`presence.updated`); the member list carries each member's presence
    /// as it was when the list was loaded.
    pub large: bool,
}
