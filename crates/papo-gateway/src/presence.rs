//! Presence aggregation, without I/O.
//!
//! Each node aggregates its own sessions per user ([`LocalPresence`]); nodes exchange those
//! per-node aggregates over the bus, and every node folds them into the user's presence
//! ([`PresenceBook`]). The most "present" status wins; a user whose last local session closed
//! keeps their status for a grace period so a reconnect does not flicker.

use foldhash::HashMap;
use std::time::{Duration, Instant};

use papo_core::id::{ServerId, UserId};

use crate::protocol::{CustomStatus, PresenceView, Status};

/// One node's view of one user: the best status among its sessions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodePresence {
    /// Aggregated status (`Offline` when the node has no session of the user).
    pub status: Status,
    /// The user's custom status.
    pub custom_status: Option<CustomStatus>,
}

/// One per user with a session here, so kept small: the custom status is boxed (most users
/// have none) and what was announced is remembered as (status, custom status version)
/// instead of a copy.
#[derive(Debug, Default)]
struct LocalUser {
    /// `(gateway session id, status)` of this node's live sockets.
    sessions: Vec<(u128, Status)>,
    custom_status: Option<Box<CustomStatus>>,
    /// Bumped whenever `custom_status` changes.
    custom_version: u32,
    /// When the user goes offline unless a session comes back.
    offline_at: Option<Instant>,
    /// What this node last announced.
    announced: Option<(Status, u32)>,
    /// The servers its last announcement reached: the offline one goes there too, when no
    /// session is left to ask.
    servers: Box<[ServerId]>,
}

/// This node's sessions, per user.
#[derive(Debug, Default)]
pub struct LocalPresence {
    users: HashMap<UserId, LocalUser>,
}

impl LocalPresence {
    /// A session is live with `status` (connect, resume or `presence_update`). Returns the
    /// node aggregate to announce if it changed. `custom` is `Some` when the client set it.
    pub fn set(
        &mut self,
        user: UserId,
        session: u128,
        status: Status,
        custom: Option<Option<CustomStatus>>,
    ) -> Option<NodePresence> {
        let u = self.users.entry(user).or_default();
        match u.sessions.iter_mut().find(|(id, _)| *id == session) {
            Some(entry) => entry.1 = status,
            None => {
                // Most users have one session: no room for four.
                u.sessions.reserve_exact(1);
                u.sessions.push((session, status));
            }
        }
        if let Some(c) = custom
            && u.custom_status.as_deref() != c.as_ref()
        {
            u.custom_status = c.map(Box::new);
            u.custom_version = u.custom_version.wrapping_add(1);
        }
        u.offline_at = None;
        Self::announce(u)
    }

    /// The user chose a presence for all their sessions: each of their live sessions here
    /// takes `status`, and their custom status becomes `custom`. Returns the node aggregate
    /// to announce if it changed (nothing while the user has no live session here: a session
    /// that comes back announces it).
    pub fn choose(
        &mut self,
        user: UserId,
        status: Status,
        custom: Option<CustomStatus>,
    ) -> Option<NodePresence> {
        let u = self.users.get_mut(&user)?;
        for entry in &mut u.sessions {
            entry.1 = status;
        }
        if u.custom_status.as_deref() != custom.as_ref() {
            u.custom_status = custom.map(Box::new);
            u.custom_version = u.custom_version.wrapping_add(1);
        }
        if u.sessions.is_empty() {
            return None;
        }
        Self::announce(u)
    }

    /// A session's socket closed. The user stays until `now + grace` if it was the last one.
    pub fn remove(
        &mut self,
        user: UserId,
        session: u128,
        now: Instant,
        grace: Duration,
    ) -> Option<NodePresence> {
        let u = self.users.get_mut(&user)?;
        u.sessions.retain(|(id, _)| *id != session);
        if u.sessions.is_empty() {
            u.offline_at = Some(now + grace);
            return None;
        }
        Self::announce(u)
    }

    /// Users whose grace ran out: returns their `Offline` announcements, each with the
    /// servers the user's last announcement reached.
    pub fn expire(&mut self, now: Instant) -> Vec<(UserId, NodePresence, Vec<ServerId>)> {
        let mut out = Vec::new();
        self.users.retain(|user, u| {
            if u.sessions.is_empty() && u.offline_at.is_some_and(|t| t <= now) {
                let offline = NodePresence {
                    status: Status::Offline,
                    custom_status: None,
                };
                out.push((*user, offline, std::mem::take(&mut u.servers).into_vec()));
                return false;
            }
            true
        });
        out
    }

    /// The audience of `user`'s announcement: `current` (the servers of its sessions here),
    /// remembered for later; or, if that is empty, the servers remembered.
    pub fn audience(&mut self, user: UserId, current: Vec<ServerId>) -> Vec<ServerId> {
        let Some(u) = self.users.get_mut(&user) else {
            return current;
        };
        if current.is_empty() {
            return u.servers.to_vec();
        }
        if *u.servers != *current {
            u.servers = current.as_slice().into();
        }
        current
    }

    /// The earliest pending offline time.
    pub fn next_expiry(&self) -> Option<Instant> {
        self.users.values().filter_map(|u| u.offline_at).min()
    }

    fn announce(u: &mut LocalUser) -> Option<NodePresence> {
        let status = u
            .sessions
            .iter()
            .map(|(_, s)| *s)
            .max_by_key(|s| s.rank())
            .unwrap_or(Status::Offline);
        if u.announced == Some((status, u.custom_version)) {
            return None;
        }
        u.announced = Some((status, u.custom_version));
        Some(NodePresence {
            status,
            custom_status: u.custom_status.as_deref().cloned(),
        })
    }
}

/// Every node's announcements, folded per user.
#[derive(Debug, Default)]
pub struct PresenceBook {
    users: HashMap<UserId, Vec<BookNode>>,
}

/// One node's announcement for one user as the book keeps it: 16 bytes, the custom status
/// boxed (a [`NodePresence`] is 80 and most users have no custom status).
#[derive(Debug)]
struct BookNode {
    node: u16,
    status: Status,
    custom_status: Option<Box<CustomStatus>>,
}

impl PresenceBook {
    /// Applies node `node`'s announcement. Returns the user's new presence (as the user
    /// sees it: `invisible` included) if it changed.
    pub fn apply(&mut self, user: UserId, node: u16, p: NodePresence) -> Option<PresenceView> {
        let before = self.view(user);
        let nodes = self.users.entry(user).or_default();
        nodes.retain(|n| n.node != node);
        if p.status != Status::Offline {
            // Most users are on one node: no room for four.
            nodes.reserve_exact(1);
            nodes.push(BookNode {
                node,
                status: p.status,
                custom_status: p.custom_status.map(Box::new),
            });
        }
        if nodes.is_empty() {
            self.users.remove(&user);
        }
        let after = self.view(user);
        (after != before).then_some(after)
    }

    /// The user's presence as the user sees it.
    pub fn view(&self, user: UserId) -> PresenceView {
        let best = self
            .users
            .get(&user)
            .and_then(|nodes| nodes.iter().max_by_key(|n| n.status.rank()));
        match best {
            Some(n) => PresenceView {
                user_id: user,
                status: n.status,
                custom_status: n.custom_status.as_deref().cloned(),
            },
            None => PresenceView {
                user_id: user,
                status: Status::Offline,
                custom_status: None,
            },
        }
    }

    /// Forgets everything node `node` announced (it left the cluster). Returns the users
    /// whose presence changed.
    pub fn drop_node(&mut self, node: u16) -> Vec<PresenceView> {
        let users: Vec<UserId> = self
            .users
            .iter()
            .filter(|(_, nodes)| nodes.iter().any(|n| n.node == node))
            .map(|(u, _)| *u)
            .collect();
        users
            .into_iter()
            .filter_map(|u| {
                self.apply(
                    u,
                    node,
                    NodePresence {
                        status: Status::Offline,
                        custom_status: None,
                    },
                )
            })
            .collect()
    }
}

/// How `view` looks to other users: invisible is offline, and an offline user has no status.
pub fn public_view(view: &PresenceView) -> PresenceView {
    match view.status {
        Status::Invisible | Status::Offline => PresenceView {
            user_id: view.user_id,
            status: Status::Offline,
            custom_status: None,
        },
        _ => view.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(n: i64) -> UserId {
        UserId::from_i64(n)
    }

    fn np(status: Status) -> NodePresence {
        NodePresence {
            status,
            custom_status: None,
        }
    }

    #[test]
    fn the_most_present_session_wins() {
        let mut local = LocalPresence::default();
        assert_eq!(
            local.set(u(1), 10, Status::Idle, None),
            Some(np(Status::Idle))
        );
        assert_eq!(
            local.set(u(1), 11, Status::Online, None),
            Some(np(Status::Online))
        );
        assert_eq!(
            local.set(u(1), 10, Status::Dnd, None),
            None,
            "still online overall"
        );
        let t = Instant::now();
        assert_eq!(
            local.remove(u(1), 11, t, Duration::from_secs(10)),
            Some(np(Status::Dnd))
        );
    }

    #[test]
    fn the_last_session_leaving_starts_a_grace_period() {
        let mut local = LocalPresence::default();
        let t0 = Instant::now();
        local.set(u(1), 10, Status::Online, None);
        assert_eq!(local.remove(u(1), 10, t0, Duration::from_secs(10)), None);
        assert_eq!(local.next_expiry(), Some(t0 + Duration::from_secs(10)));
        assert!(local.expire(t0 + Duration::from_secs(9)).is_empty());
        // A reconnect within the grace cancels it, with nothing to announce.
        assert_eq!(local.set(u(1), 12, Status::Online, None), None);
        assert!(local.expire(t0 + Duration::from_secs(11)).is_empty());
        // The servers of the last announcement are remembered for the offline one.
        let servers = vec![ServerId::from_i64(7)];
        assert_eq!(local.audience(u(1), servers.clone()), servers);
        local.remove(
            u(1),
            12,
            t0 + Duration::from_secs(12),
            Duration::from_secs(10),
        );
        assert_eq!(local.audience(u(1), Vec::new()), servers, "no session left");
        let gone = local.expire(t0 + Duration::from_secs(22));
        assert_eq!(gone, vec![(u(1), np(Status::Offline), servers)]);
        assert_eq!(local.next_expiry(), None);
    }

    #[test]
    fn a_choice_reaches_every_session_of_the_user_at_once() {
        let mut l = LocalPresence::default();
        let (user, other) = (UserId::from_i64(1), UserId::from_i64(2));
        l.set(user, 1, Status::Online, None);
        l.set(user, 2, Status::Idle, None);
        l.set(other, 3, Status::Online, None);
        let busy = CustomStatus {
            text: "busy".into(),
            emoji: None,
            expires_at: None,
        };
        // One announcement, already at the final aggregate: never "online with the new
        // custom status" on the way to invisible.
        assert_eq!(
            l.choose(user, Status::Invisible, Some(busy.clone())),
            Some(NodePresence {
                status: Status::Invisible,
                custom_status: Some(busy.clone()),
            })
        );
        assert_eq!(l.choose(user, Status::Invisible, Some(busy.clone())), None);
        assert_eq!(
            l.choose(UserId::from_i64(9), Status::Dnd, None),
            None,
            "nobody here"
        );
        // While the user's sessions are all gone, the choice waits for the next one.
        let t0 = Instant::now();
        let grace = Duration::from_secs(5);
        l.remove(user, 1, t0, grace);
        l.remove(user, 2, t0, grace);
        assert_eq!(l.choose(user, Status::Dnd, None), None);
        assert_eq!(
            l.set(user, 1, Status::Dnd, None),
            Some(NodePresence {
                status: Status::Dnd,
                custom_status: None,
            })
        );
    }

    #[test]
    fn custom_status_is_kept_until_cleared() {
        let mut local = LocalPresence::default();
        let c = CustomStatus {
            text: "hi".into(),
            emoji: None,
            expires_at: None,
        };
        let p = local
            .set(u(1), 10, Status::Online, Some(Some(c.clone())))
            .unwrap();
        assert_eq!(p.custom_status, Some(c));
        let p = local.set(u(1), 10, Status::Online, Some(None)).unwrap();
        assert_eq!(p.custom_status, None);
    }

    #[test]
    fn nodes_fold_into_one_presence() {
        let mut book = PresenceBook::default();
        assert_eq!(
            book.apply(u(1), 1, np(Status::Idle)).unwrap().status,
            Status::Idle
        );
        assert_eq!(
            book.apply(u(1), 2, np(Status::Online)).unwrap().status,
            Status::Online
        );
        assert_eq!(book.apply(u(1), 1, np(Status::Dnd)), None);
        assert_eq!(
            book.apply(u(1), 2, np(Status::Offline)).unwrap().status,
            Status::Dnd
        );
        assert_eq!(book.drop_node(1)[0].status, Status::Offline);
        assert_eq!(book.view(u(1)).status, Status::Offline);
    }

    #[test]
    fn the_book_keeps_one_small_entry_per_node() {
        assert!(std::mem::size_of::<BookNode>() <= 16);
    }

    #[test]
    fn invisible_looks_offline_to_others() {
        let mut book = PresenceBook::default();
        let mine = book.apply(u(1), 0, np(Status::Invisible)).unwrap();
        assert_eq!(mine.status, Status::Invisible);
        assert_eq!(public_view(&mine).status, Status::Offline);
    }
}
