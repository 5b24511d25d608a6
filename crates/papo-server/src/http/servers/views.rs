//! Who sees which channel, and keeping gateway subscriptions in step with it.
//!
//! Every session follows `Topic::Server` for each of its servers and `Topic::Channel` for
//! each channel it can view; channel-scoped events (messages, reactions, typing, channel
//! changes) go to the channel topic only, so a member never receives an event about a
//! channel they cannot view. When roles, overwrites or memberships change, [`resync`]
//! compares who could view what before and after and moves the subscriptions (sending
//! `channel.created` / `channel.deleted` to those who gained or lost a channel).

use std::collections::{BTreeSet, HashMap};

use papo_core::id::{ChannelId, ServerId, UserId};
use papo_core::permissions::{MemberContext, Permissions};
use papo_gateway::hub::Topic;
use papo_gateway::protocol::{EncodedEvent, EventKind, SharedEvent};
use papo_store::servers::{self, ChannelRow, MemberRow, OverwriteRow, RoleRow, ServerRow};
use papo_store::{members, roles};
use serde_json::json;

use super::access::{channel_overwrites, grants};
use super::dto::{Channel, ServerDetail};
use crate::http::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Everything needed to compute any member's permissions in one server.
pub struct ServerSnapshot {
    /// The server.
    pub server: ServerRow,
    /// Its roles.
    pub roles: Vec<RoleRow>,
    /// Its channels.
    pub channels: Vec<ChannelRow>,
    /// All overwrites.
    pub overwrites: Vec<OverwriteRow>,
    /// All members.
    pub members: Vec<MemberRow>,
    /// Role ids per user.
    pub member_roles: HashMap<i64, Vec<i64>>,
}

/// For each member, the channels they can view.
pub type Visibility = HashMap<i64, BTreeSet<i64>>;

impl ServerSnapshot {
    /// Loads the server's permission data; `None` if it is gone.
    pub async fn load(state: &AppState, id: ServerId) -> ApiResult<Option<Self>> {
        let Some(server) = servers::by_id(&state.db, id).await? else {
            return Ok(None);
        };
        let mut member_roles: HashMap<i64, Vec<i64>> = HashMap::new();
        for (user, role) in roles::all_member_roles(&state.db, id).await? {
            member_roles.entry(user).or_default().push(role);
        }
        Ok(Some(Self {
            roles: servers::roles(&state.db, id).await?,
            channels: servers::channels(&state.db, id).await?,
            overwrites: servers::overwrites(&state.db, id).await?,
            members: members::all(&state.db, id).await?,
            member_roles,
            server,
        }))
    }

    /// Who can view which channel.
    pub fn visibility(&self) -> Visibility {
        let everyone = self
            .roles
            .iter()
            .find(|r| r.id == self.server.id)
            .map_or(Permissions::NONE, |r| Permissions(r.permissions as u64));
        let per_channel: Vec<(i64, Vec<_>)> = self
            .channels
            .iter()
            .map(|c| (c.id, channel_overwrites(c.id, &self.overwrites)))
            .collect();
        let now = crate::now_ms();
        let mut out = Visibility::new();
        for m in &self.members {
            let role_ids = self
                .member_roles
                .get(&m.user_id)
                .map_or(&[][..], Vec::as_slice);
            let g = grants(&self.roles, role_ids);
            let ctx = MemberContext {
                server_id: self.server.id as u64,
                user_id: m.user_id as u64,
                is_owner: m.user_id == self.server.owner_id,
                everyone,
                roles: &g,
                timed_out: m.timeout_until.is_some_and(|t| t > now),
            };
            let seen = per_channel
                .iter()
                .filter(|(_, ow)| ctx.in_channel(ow).contains(Permissions::VIEW_CHANNEL))
                .map(|(id, _)| *id)
                .collect();
            out.insert(m.user_id, seen);
        }
        out
    }
}

/// The topics a member of a server follows: the server, the channels in `detail`, and the
/// server's presence changes unless it is large.
pub fn topics_of(detail: &ServerDetail) -> Vec<Topic> {
    topics(
        detail.server.id,
        detail.large,
        detail.channels.iter().map(|c| c.id.as_i64()),
    )
}

/// The topics of a member of `server` who can view `channels` (see [`topics_of`]).
pub fn topics(server: ServerId, large: bool, channels: impl Iterator<Item = i64>) -> Vec<Topic> {
    std::iter::once(Topic::Server(server))
        .chain((!large).then_some(Topic::Presence(server)))
        .chain(channels.map(|c| Topic::Channel(c as u64)))
        .collect()
}

/// Makes `user`'s sessions follow the server in `detail` and its visible channels.
pub fn follow(state: &AppState, user: UserId, detail: &ServerDetail) {
    state.hub.subscribe(user, topics_of(detail), true);
}

/// Tells `users` the server is gone from their list (`server.deleted`, encoded once) and
/// stops their sessions following it and every one of its channels.
pub fn drop_server(
    state: &AppState,
    id: ServerId,
    channels: &[ChannelRow],
    users: &[i64],
) -> ApiResult<()> {
    let event = EncodedEvent::new(EventKind::ServerDeleted, &json!({ "id": id }))
        .map_err(ApiError::internal)?;
    let topics: Vec<Topic> = [Topic::Server(id), Topic::Presence(id)]
        .into_iter()
        .chain(channels.iter().map(|c| Topic::Channel(c.id as u64)))
        .collect();
    for u in users {
        let user = UserId::from_i64(*u);
        state.hub.dispatch(Topic::User(user), event.clone());
        state.hub.subscribe(user, topics.clone(), false);
    }
    Ok(())
}

/// Moves subscriptions from `before` to `after` (both of the same server) and tells each
/// member about channels they gained (`channel.created`) or lost (`channel.deleted`).
pub fn resync(state: &AppState, before: &Visibility, after: &ServerSnapshot) -> ApiResult<()> {
    let now = after.visibility();
    let server_id = ServerId::from_i64(after.server.id);
    let empty = BTreeSet::new();
    let mut created: HashMap<i64, SharedEvent> = HashMap::new();
    for (user, seen) in &now {
        let old = before.get(user).unwrap_or(&empty);
        let gained: Vec<i64> = seen.difference(old).copied().collect();
        let lost: Vec<i64> = old.difference(seen).copied().collect();
        let u = UserId::from_i64(*user);
        if !gained.is_empty() {
            state.hub.subscribe(
                u,
                gained.iter().map(|c| Topic::Channel(*c as u64)).collect(),
                true,
            );
            for c in &gained {
                if !created.contains_key(c) {
                    let Some(row) = after.channels.iter().find(|r| r.id == *c) else {
                        continue;
                    };
                    let ev = EncodedEvent::new(
                        EventKind::ChannelCreated,
                        &Channel::new(row, &after.overwrites),
                    )
                    .map_err(ApiError::internal)?;
                    created.insert(*c, ev);
                }
                state.hub.dispatch(Topic::User(u), created[c].clone());
            }
        }
        if !lost.is_empty() {
            for c in &lost {
                state.hub.emit(
                    Topic::User(u),
                    EventKind::ChannelDeleted,
                    &json!({"id": ChannelId::from_i64(*c), "server_id": server_id}),
                );
            }
            state.hub.subscribe(
                u,
                lost.iter().map(|c| Topic::Channel(*c as u64)).collect(),
                false,
            );
        }
    }
    Ok(())
}

/// Snapshot of visibility now (empty if the server is gone).
pub async fn visibility_now(state: &AppState, id: ServerId) -> ApiResult<Visibility> {
    Ok(ServerSnapshot::load(state, id)
        .await?
        .map(|s| s.visibility())
        .unwrap_or_default())
}

/// After a change to roles, overwrites or a member's roles/timeout: reloads the server and
/// resyncs from `before`.
pub async fn resync_after(state: &AppState, id: ServerId, before: &Visibility) -> ApiResult<()> {
    if let Some(after) = ServerSnapshot::load(state, id).await? {
        resync(state, before, &after)?;
    }
    Ok(())
}
