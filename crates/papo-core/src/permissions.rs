//! Permissions in the Discord model: a 64-bit field of named bits, granted by roles, adjusted
//! per channel by overwrites (everyone → roles → member), bypassed by the owner and by
//! `administrator`, reduced for timed-out members. Pure logic, tested with scenario tables.
//!
//! On the wire a permission set is a **decimal string** (JavaScript numbers lose bits past 2^53).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A set of permissions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Permissions(pub u64);

macro_rules! permissions {
    ($($(#[$doc:meta])* $name:ident = $bit:expr, $wire:literal;)*) => {
        impl Permissions {
            $($(#[$doc])* pub const $name: Self = Self(1 << $bit);)*
            /// Every permission with its wire name.
            pub const NAMED: &'static [(&'static str, Permissions)] = &[$(($wire, Self::$name)),*];
            /// Every defined permission.
            pub const ALL: Self = Self(0 $(| (1 << $bit))*);
        }
    };
}

permissions! {
    /// Create invites to the server.
    CREATE_INVITES = 0, "create_invites";
    /// Remove members from the server.
    KICK_MEMBERS = 1, "kick_members";
    /// Ban members.
    BAN_MEMBERS = 2, "ban_members";
    /// Every permission, and channel overwrites do not apply.
    ADMINISTRATOR = 3, "administrator";
    /// Create, edit, delete and reorder channels; edit their overwrites.
    MANAGE_CHANNELS = 4, "manage_channels";
    /// Edit the server's name and settings.
    MANAGE_SERVER = 5, "manage_server";
    /// Add new reactions to messages.
    ADD_REACTIONS = 6, "add_reactions";
    /// Read the audit log.
    VIEW_AUDIT_LOG = 7, "view_audit_log";
    /// Speak before others in voice channels.
    PRIORITY_SPEAKER = 8, "priority_speaker";
    /// Share camera or screen in voice channels.
    VIDEO = 9, "video";
    /// See a channel (and its events).
    VIEW_CHANNEL = 10, "view_channel";
    /// Send messages.
    SEND_MESSAGES = 11, "send_messages";
    /// Delete or pin others' messages.
    MANAGE_MESSAGES = 13, "manage_messages";
    /// Links show previews.
    EMBED_LINKS = 14, "embed_links";
    /// Upload files.
    ATTACH_FILES = 15, "attach_files";
    /// Read messages sent before one joined.
    READ_MESSAGE_HISTORY = 16, "read_message_history";
    /// Use @everyone and @here.
    MENTION_EVERYONE = 17, "mention_everyone";
    /// Join voice channels.
    CONNECT = 20, "connect";
    /// Talk in voice channels.
    SPEAK = 21, "speak";
    /// Mute others in voice.
    MUTE_MEMBERS = 22, "mute_members";
    /// Deafen others in voice.
    DEAFEN_MEMBERS = 23, "deafen_members";
    /// Move others between voice channels.
    MOVE_MEMBERS = 24, "move_members";
    /// Change one's own nickname.
    CHANGE_NICKNAME = 26, "change_nickname";
    /// Change others' nicknames.
    MANAGE_NICKNAMES = 27, "manage_nicknames";
    /// Create and edit roles below one's highest role.
    MANAGE_ROLES = 28, "manage_roles";
    /// Time members out.
    MODERATE_MEMBERS = 40, "moderate_members";
}

impl Permissions {
    /// No permission.
    pub const NONE: Self = Self(0);

    /// What `@everyone` gets in a new server.
    pub const DEFAULT_EVERYONE: Self = Self(
        Self::CREATE_INVITES.0
            | Self::ADD_REACTIONS.0
            | Self::VIDEO.0
            | Self::VIEW_CHANNEL.0
            | Self::SEND_MESSAGES.0
            | Self::EMBED_LINKS.0
            | Self::ATTACH_FILES.0
            | Self::READ_MESSAGE_HISTORY.0
            | Self::CONNECT.0
            | Self::SPEAK.0
            | Self::CHANGE_NICKNAME.0,
    );

    /// What a timed-out member keeps in a channel.
    pub const TIMED_OUT_ALLOWED: Self = Self(Self::VIEW_CHANNEL.0 | Self::READ_MESSAGE_HISTORY.0);

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Union.
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// `self` without `other`.
    pub const fn remove(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    /// Keeps only defined bits.
    pub const fn truncate(self) -> Self {
        Self(self.0 & Self::ALL.0)
    }

    /// Applies an overwrite: deny first, then allow.
    pub const fn overwrite(self, allow: Self, deny: Self) -> Self {
        Self((self.0 & !deny.0) | allow.0)
    }

    /// The wire names of the set bits.
    pub fn names(self) -> Vec<&'static str> {
        Self::NAMED
            .iter()
            .filter(|(_, p)| self.contains(*p))
            .map(|(n, _)| *n)
            .collect()
    }
}

impl fmt::Display for Permissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for Permissions {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // As ids: `collect_str` would write through `fmt` and an escaping adapter.
        s.serialize_str(itoa::Buffer::new().format(self.0))
    }
}

impl<'de> Deserialize<'de> for Permissions {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(serde::de::Error::custom("permissions are a decimal string"));
        }
        let v: u64 = s.parse().map_err(serde::de::Error::custom)?;
        if v & !Self::ALL.0 != 0 {
            return Err(serde::de::Error::custom("unknown permission bits"));
        }
        Ok(Self(v))
    }
}

impl utoipa::PartialSchema for Permissions {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "A permission bit set as a decimal string (see GET /permissions).",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Permissions {}

/// Whom an overwrite targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OverwriteKind {
    /// A role (the `@everyone` role's id is the server's id).
    Role,
    /// One member.
    Member,
}

/// A channel permission overwrite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overwrite {
    /// Role or member.
    pub kind: OverwriteKind,
    /// Role id or user id.
    pub target: u64,
    /// Bits granted.
    pub allow: Permissions,
    /// Bits removed.
    pub deny: Permissions,
}

/// A role as the permission engine needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoleGrant {
    /// Role id.
    pub id: u64,
    /// Higher positions outrank lower ones; `@everyone` is 0.
    pub position: i64,
    /// Bits the role grants.
    pub permissions: Permissions,
}

/// Everything needed to compute one member's permissions in a server.
#[derive(Clone, Debug)]
pub struct MemberContext<'a> {
    /// The server's id (also the `@everyone` role's id).
    pub server_id: u64,
    /// The member's user id.
    pub user_id: u64,
    /// Whether the member owns the server.
    pub is_owner: bool,
    /// `@everyone`'s permissions.
    pub everyone: Permissions,
    /// The member's roles (not `@everyone`).
    pub roles: &'a [RoleGrant],
    /// Whether the member is timed out now.
    pub timed_out: bool,
}

impl MemberContext<'_> {
    /// Server-wide permissions: owner and administrator get everything.
    pub fn base(&self) -> Permissions {
        if self.is_owner {
            return Permissions::ALL;
        }
        let mut p = self.everyone;
        for r in self.roles {
            p = p.union(r.permissions);
        }
        if p.contains(Permissions::ADMINISTRATOR) {
            return Permissions::ALL;
        }
        if self.timed_out {
            p = Permissions(p.0 & Permissions::TIMED_OUT_ALLOWED.0);
        }
        p
    }

    /// Permissions in a channel with `overwrites`: `@everyone`'s overwrite, then the union of
    /// the member's roles' overwrites, then the member's own. Without `view_channel` nothing
    /// else counts.
    pub fn in_channel(&self, overwrites: &[Overwrite]) -> Permissions {
        let base = self.base();
        if base.contains(Permissions::ADMINISTRATOR) {
            return Permissions::ALL;
        }
        let mut p = base;
        if let Some(o) = overwrites
            .iter()
            .find(|o| o.kind == OverwriteKind::Role && o.target == self.server_id)
        {
            p = p.overwrite(o.allow, o.deny);
        }
        let (mut allow, mut deny) = (Permissions::NONE, Permissions::NONE);
        for o in overwrites.iter().filter(|o| {
            o.kind == OverwriteKind::Role && self.roles.iter().any(|r| r.id == o.target)
        }) {
            allow = allow.union(o.allow);
            deny = deny.union(o.deny);
        }
        p = p.overwrite(allow, deny);
        if let Some(o) = overwrites
            .iter()
            .find(|o| o.kind == OverwriteKind::Member && o.target == self.user_id)
        {
            p = p.overwrite(o.allow, o.deny);
        }
        if self.timed_out {
            p = Permissions(p.0 & Permissions::TIMED_OUT_ALLOWED.0);
        }
        if !p.contains(Permissions::VIEW_CHANNEL) {
            return Permissions::NONE;
        }
        p
    }

    /// The member's highest role position (`@everyone` is 0); the owner outranks everyone.
    pub fn top_position(&self) -> i64 {
        if self.is_owner {
            return i64::MAX;
        }
        self.roles.iter().map(|r| r.position).max().unwrap_or(0)
    }

    /// Whether the member may act on a member whose highest position is `target_top`
    /// (kick, ban, timeout, nickname, roles): strictly above it, or the owner.
    pub fn outranks(&self, target_top: i64, target_is_owner: bool) -> bool {
        !target_is_owner && (self.is_owner || self.top_position() > target_top)
    }

    /// Whether the member may edit, assign or delete a role at `position` granting `grants`:
    /// it must be below their highest role, and they cannot hand out bits they lack.
    pub fn can_manage_role(&self, position: i64, grants: Permissions) -> bool {
        if self.is_owner {
            return true;
        }
        let base = self.base();
        base.contains(Permissions::MANAGE_ROLES)
            && self.top_position() > position
            && (base.contains(Permissions::ADMINISTRATOR) || base.contains(grants))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER: u64 = 100;
    const ALICE: u64 = 1;
    const MODS: RoleGrant = RoleGrant {
        id: 200,
        position: 2,
        permissions: Permissions(
            Permissions::MANAGE_MESSAGES.0
                | Permissions::KICK_MEMBERS.0
                | Permissions::MANAGE_ROLES.0,
        ),
    };
    const MUTED: RoleGrant = RoleGrant {
        id: 300,
        position: 1,
        permissions: Permissions::NONE,
    };
    const ADMINS: RoleGrant = RoleGrant {
        id: 400,
        position: 3,
        permissions: Permissions::ADMINISTRATOR,
    };

    fn member(roles: &[RoleGrant]) -> MemberContext<'_> {
        MemberContext {
            server_id: SERVER,
            user_id: ALICE,
            is_owner: false,
            everyone: Permissions::DEFAULT_EVERYONE,
            roles,
            timed_out: false,
        }
    }

    fn ow(kind: OverwriteKind, target: u64, allow: Permissions, deny: Permissions) -> Overwrite {
        Overwrite {
            kind,
            target,
            allow,
            deny,
        }
    }

    use OverwriteKind::{Member, Role};
    const P: Permissions = Permissions::NONE;
    const VIEW: Permissions = Permissions::VIEW_CHANNEL;
    const SEND: Permissions = Permissions::SEND_MESSAGES;

    struct Case {
        name: &'static str,
        roles: &'static [RoleGrant],
        owner: bool,
        timed_out: bool,
        overwrites: Vec<Overwrite>,
        can_view: bool,
        can_send: bool,
        can_manage_messages: bool,
    }

    #[test]
    fn channel_permission_scenarios() {
        let cases = vec![
            Case {
                name: "plain member",
                roles: &[],
                owner: false,
                timed_out: false,
                overwrites: vec![],
                can_view: true,
                can_send: true,
                can_manage_messages: false,
            },
            Case {
                name: "everyone denied view",
                roles: &[],
                owner: false,
                timed_out: false,
                overwrites: vec![ow(Role, SERVER, P, VIEW)],
                can_view: false,
                can_send: false,
                can_manage_messages: false,
            },
            Case {
                name: "role re-allows what everyone denied",
                roles: &[MODS],
                owner: false,
                timed_out: false,
                overwrites: vec![ow(Role, SERVER, P, VIEW), ow(Role, MODS.id, VIEW, P)],
                can_view: true,
                can_send: true,
                can_manage_messages: true,
            },
            Case {
                name: "role deny beats everyone allow",
                roles: &[MUTED],
                owner: false,
                timed_out: false,
                overwrites: vec![ow(Role, SERVER, SEND, P), ow(Role, MUTED.id, P, SEND)],
                can_view: true,
                can_send: false,
                can_manage_messages: false,
            },
            Case {
                name: "role allow beats another role's deny (union, allow after deny)",
                roles: &[MODS, MUTED],
                owner: false,
                timed_out: false,
                overwrites: vec![ow(Role, MUTED.id, P, SEND), ow(Role, MODS.id, SEND, P)],
                can_view: true,
                can_send: true,
                can_manage_messages: true,
            },
            Case {
                name: "member overwrite beats roles",
                roles: &[MODS],
                owner: false,
                timed_out: false,
                overwrites: vec![ow(Role, MODS.id, SEND, P), ow(Member, ALICE, P, SEND)],
                can_view: true,
                can_send: false,
                can_manage_messages: true,
            },
            Case {
                name: "member allow beats role deny",
                roles: &[MUTED],
                owner: false,
                timed_out: false,
                overwrites: vec![ow(Role, MUTED.id, P, VIEW), ow(Member, ALICE, VIEW, P)],
                can_view: true,
                can_send: true,
                can_manage_messages: false,
            },
            Case {
                name: "overwrite for another member does nothing",
                roles: &[],
                owner: false,
                timed_out: false,
                overwrites: vec![ow(Member, 2, P, VIEW)],
                can_view: true,
                can_send: true,
                can_manage_messages: false,
            },
            Case {
                name: "overwrite for a role the member lacks does nothing",
                roles: &[],
                owner: false,
                timed_out: false,
                overwrites: vec![ow(Role, MODS.id, P, VIEW)],
                can_view: true,
                can_send: true,
                can_manage_messages: false,
            },
            Case {
                name: "administrator ignores overwrites",
                roles: &[ADMINS],
                owner: false,
                timed_out: false,
                overwrites: vec![ow(Role, SERVER, P, VIEW), ow(Member, ALICE, P, VIEW)],
                can_view: true,
                can_send: true,
                can_manage_messages: true,
            },
            Case {
                name: "owner ignores overwrites",
                roles: &[],
                owner: true,
                timed_out: false,
                overwrites: vec![ow(Member, ALICE, P, VIEW)],
                can_view: true,
                can_send: true,
                can_manage_messages: true,
            },
            Case {
                name: "timed out: read only",
                roles: &[MODS],
                owner: false,
                timed_out: true,
                overwrites: vec![],
                can_view: true,
                can_send: false,
                can_manage_messages: false,
            },
            Case {
                name: "timed out even with an allow overwrite",
                roles: &[],
                owner: false,
                timed_out: true,
                overwrites: vec![ow(Member, ALICE, SEND, P)],
                can_view: true,
                can_send: false,
                can_manage_messages: false,
            },
            Case {
                name: "timed-out administrator keeps everything",
                roles: &[ADMINS],
                owner: false,
                timed_out: true,
                overwrites: vec![],
                can_view: true,
                can_send: true,
                can_manage_messages: true,
            },
            Case {
                name: "no view means nothing, even send",
                roles: &[],
                owner: false,
                timed_out: false,
                overwrites: vec![ow(Member, ALICE, SEND, VIEW)],
                can_view: false,
                can_send: false,
                can_manage_messages: false,
            },
        ];
        for c in cases {
            let mut m = member(c.roles);
            m.is_owner = c.owner;
            m.timed_out = c.timed_out;
            let p = m.in_channel(&c.overwrites);
            assert_eq!(p.contains(VIEW), c.can_view, "{}: view", c.name);
            assert_eq!(p.contains(SEND), c.can_send, "{}: send", c.name);
            assert_eq!(
                p.contains(Permissions::MANAGE_MESSAGES),
                c.can_manage_messages,
                "{}: manage",
                c.name
            );
        }
    }

    #[test]
    fn hierarchy_scenarios() {
        let owner = MemberContext {
            is_owner: true,
            ..member(&[])
        };
        let moderator = member(&[MODS]);
        let admin = member(&[ADMINS]);
        let plain = member(&[]);
        // (actor, target top position, target is owner, expected)
        let cases: [(&MemberContext<'_>, i64, bool, bool); 8] = [
            (&owner, 3, false, true),
            (&owner, 0, true, false),
            (&moderator, 1, false, true),
            (&moderator, 2, false, false),
            (&moderator, 3, false, false),
            (&admin, 2, false, true),
            (&plain, 0, false, false),
            (&admin, 0, true, false),
        ];
        for (i, (actor, top, is_owner, expected)) in cases.iter().enumerate() {
            assert_eq!(actor.outranks(*top, *is_owner), *expected, "case {i}");
        }
        // Roles: below one's top, and only bits one has.
        assert!(moderator.can_manage_role(1, Permissions::MANAGE_MESSAGES));
        assert!(
            !moderator.can_manage_role(2, Permissions::NONE),
            "not at one's own level"
        );
        assert!(
            !moderator.can_manage_role(1, Permissions::BAN_MEMBERS),
            "cannot grant what one lacks"
        );
        assert!(admin.can_manage_role(2, Permissions::BAN_MEMBERS));
        assert!(
            !plain.can_manage_role(0, Permissions::NONE),
            "needs manage_roles"
        );
        assert!(owner.can_manage_role(99, Permissions::ALL));
    }

    #[test]
    fn base_permissions() {
        assert_eq!(member(&[]).base(), Permissions::DEFAULT_EVERYONE);
        assert_eq!(member(&[ADMINS]).base(), Permissions::ALL);
        let timed = MemberContext {
            timed_out: true,
            ..member(&[MODS])
        };
        assert_eq!(timed.base(), Permissions::TIMED_OUT_ALLOWED);
    }

    #[test]
    fn wire_format_is_a_decimal_string() {
        let p = Permissions::VIEW_CHANNEL.union(Permissions::MODERATE_MEMBERS);
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, format!("\"{}\"", (1u64 << 10) | (1u64 << 40)));
        assert_eq!(serde_json::from_str::<Permissions>(&json).unwrap(), p);
        assert!(
            serde_json::from_str::<Permissions>("1024").is_err(),
            "numbers are refused"
        );
        assert!(
            serde_json::from_str::<Permissions>("\"4096\"").is_err(),
            "bit 12 is not defined"
        );
        assert!(serde_json::from_str::<Permissions>("\"-1\"").is_err());
        assert_eq!(p.names(), vec!["view_channel", "moderate_members"]);
        let mut bits: Vec<u64> = Permissions::NAMED.iter().map(|(_, p)| p.0).collect();
        bits.sort();
        bits.dedup();
        assert_eq!(bits.len(), Permissions::NAMED.len(), "no bit used twice");
    }
}
