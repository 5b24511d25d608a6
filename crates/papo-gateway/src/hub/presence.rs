//! The hub's presence: what a session's status changes announce, to whom, and what `ready`
//! shows. The aggregation itself is [`crate::presence`]; this is the delivery side.

use foldhash::HashSet;

use papo_core::id::{ServerId, UserId};

use super::{BusMessage, GwSession, Hub, SessionKey, Topic};
use crate::presence::{NodePresence, public_view};
use crate::protocol::{CustomStatus, EncodedEvent, EventKind, OwnJson, PresenceView, Status};

/// The most a presence view without a custom status takes in `ready`, its comma included
/// (`{"user_id":"` + 19 digits + `","status":"` + `invisible` + `","custom_status":null},`).
const VIEW_BYTES: usize = 76;

/// The `presence.updated` event of `view`, its JSON written by [`PresenceView::write_json`]
/// (serde's bytes, without escaping each key again for every change).
fn presence_event(view: &PresenceView) -> crate::protocol::SharedEvent {
    let mut json = String::with_capacity(VIEW_BYTES);
    view.write_json(&mut json);
    EncodedEvent::of_kind(EventKind::PresenceUpdated, &json)
}

impl Hub {
    /// The audience of a presence change: the user's own sessions see their real status;
    /// the presence audience of `servers` (each session once, however many servers it
    /// shares) sees the public view, where `invisible` reads `offline`.
    pub(super) fn deliver_presence(&self, view: &PresenceView, servers: &[ServerId]) {
        let own = presence_event(view);
        self.deliver(Topic::User(view.user_id), &own);
        if servers.is_empty() {
            return;
        }
        // Unless the user is invisible, others see what the user sees: the same bytes, so
        // every queue holding the change shares one allocation.
        let public_view = public_view(view);
        let public = if public_view == *view {
            own
        } else {
            presence_event(&public_view)
        };
        let map = self.topics.read().expect("topics lock poisoned");
        // A session in several of the servers is told once; with one server (most users)
        // nobody can be met twice, and building the set was 3 % of quick S1's instructions.
        let mut seen: Option<HashSet<SessionKey>> = (servers.len() > 1).then(HashSet::default);
        let mut deferred = Vec::new();
        for server in servers {
            for s in map.get(&Topic::Presence(*server)).into_iter().flatten() {
                let first = seen.as_mut().is_none_or(|seen| seen.insert(s.id));
                if s.user_id != view.user_id && first && s.push(&public, &self.limits) {
                    deferred.push(s.clone());
                }
            }
        }
        drop(map);
        self.defer(deferred);
    }

    /// The servers whose presence audience `user`'s sessions on this node belong to.
    pub(super) fn servers_of(&self, user: UserId) -> Vec<ServerId> {
        let map = self.topics.read().expect("topics lock poisoned");
        let mut out: Vec<ServerId> = Vec::new();
        for s in map.get(&Topic::User(user)).into_iter().flatten() {
            for t in s.topics.lock().expect("topics mutex poisoned").iter() {
                if let Topic::Presence(id) = t
                    && !out.contains(id)
                {
                    out.push(*id);
                }
            }
        }
        out
    }

    /// A user's presence as the user sees it.
    pub fn presence_of(&self, user: UserId) -> PresenceView {
        self.book.lock().expect("book mutex poisoned").view(user)
    }

    /// A user's presence as others see it (`invisible` reads `offline`).
    pub fn public_presence_of(&self, user: UserId) -> PresenceView {
        public_view(&self.presence_of(user))
    }

    /// The user's presence and the public presence of those in `watch` who are not
    /// offline, as JSON for `ready`.
    pub fn ready_presences(&self, user: UserId, watch: &[UserId]) -> OwnJson {
        let book = self.book.lock().expect("book mutex poisoned");
        // A view without a custom status is at most 76 bytes with its comma: one allocation
        // for the lot, rather than doublings that copy what is already written.
        let mut json = String::with_capacity(2 + VIEW_BYTES * (1 + watch.len()));
        json.push('[');
        book.view(user).write_json(&mut json);
        for other in watch {
            if *other == user {
                continue;
            }
            let v = public_view(&book.view(*other));
            if v.status != Status::Offline {
                json.push(',');
                v.write_json(&mut json);
            }
        }
        drop(book);
        json.push(']');
        OwnJson::new_unchecked(json)
    }

    pub(super) fn session_online(
        &self,
        session: &GwSession,
        status: Status,
        custom: Option<Option<CustomStatus>>,
    ) {
        let announce = self
            .local_presence
            .lock()
            .expect("presence mutex poisoned")
            .set(session.user_id, session.id.0, status, custom);
        if let Some(p) = announce {
            self.announce_presence(session.user_id, p);
        }
    }

    /// A session chose a presence (`custom`: `None` keeps the custom status, `Some(None)`
    /// clears it).
    pub fn set_presence(
        &self,
        session: &GwSession,
        status: Status,
        custom: Option<Option<CustomStatus>>,
    ) {
        session.state.lock().expect("session mutex poisoned").status = status;
        self.session_online(session, status, custom);
    }

    /// `user` saved a presence (their settings): each of their sessions, on every node,
    /// takes it, as if each had sent it in a `presence_update`.
    pub fn choose_presence(
        &self,
        user: UserId,
        status: Status,
        custom_status: Option<CustomStatus>,
    ) {
        self.publish(BusMessage::Choice {
            user,
            status,
            custom_status,
        });
    }

    /// [`Hub::choose_presence`] on this node: a detached session keeps the status for its
    /// resume; the live ones are announced together, once.
    pub(super) fn apply_choice(
        &self,
        user: UserId,
        status: Status,
        custom_status: Option<CustomStatus>,
    ) {
        let sessions: Vec<std::sync::Arc<GwSession>> = self
            .topics
            .read()
            .expect("topics lock poisoned")
            .get(&Topic::User(user))
            .cloned()
            .unwrap_or_default();
        for s in &sessions {
            s.state.lock().expect("session mutex poisoned").status = status;
        }
        let announce = self
            .local_presence
            .lock()
            .expect("presence mutex poisoned")
            .choose(user, status, custom_status);
        if let Some(p) = announce {
            self.announce_presence(user, p);
        }
    }

    pub(super) fn announce_presence(&self, user: UserId, presence: NodePresence) {
        let current = self.servers_of(user);
        let servers = self
            .local_presence
            .lock()
            .expect("presence mutex poisoned")
            .audience(user, current);
        self.publish_presence(user, presence, servers);
    }

    /// Tells every node (this one included) of this node's `presence` for `user`.
    pub(super) fn publish_presence(
        &self,
        user: UserId,
        presence: NodePresence,
        servers: Vec<ServerId>,
    ) {
        self.publish(BusMessage::Presence {
            node: self.node_id,
            user,
            presence,
            servers,
        });
    }
}
