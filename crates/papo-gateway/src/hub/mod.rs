//! The hub: which gateway sessions exist, which topics they follow, and delivery.
//!
//! An event is serialized once ([`EncodedEvent`]) and the same bytes are queued for every
//! subscriber; each session's driver writes them with its own sequence number. Messages for
//! other nodes go through the cluster bus ([`crate::bus`]); every node applies them locally.

use foldhash::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use papo_core::change::Change;
use papo_core::id::{ServerId, SessionId, UserId};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::presence::{LocalPresence, NodePresence, PresenceBook};
use crate::protocol::{CloseCode, CustomStatus, EncodedEvent, EventKind, SharedEvent, Status};
use crate::queue::{EventQueue, QueueLimits};
use crate::rate::SlidingWindow;
use crate::session::GatewayConfig;

mod presence;
mod session;
#[cfg(test)]
mod tests;
mod typing;
mod volatile;

pub use session::{GwSession, Wake};
use session::{Link, SessionState, wake};

/// What a session can follow. Typed: never a string glued to an id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum Topic {
    /// Everything addressed to one user (all their sessions).
    User(UserId),
    /// A text channel's viewers (typing, and messages in the chat issue).
    Channel(u64),
    /// Every member of a server.
    Server(ServerId),
    /// The members of a server who see its members' presence changes: every member of a
    /// server up to the large-server size, nobody in larger ones (there the member list
    /// carries presence when it is loaded; pushing every change to every member would cost
    /// members² deliveries).
    Presence(ServerId),
}

/// A message between nodes (and, on a single node, from the hub to itself).
#[derive(Clone, Debug)]
pub enum BusMessage {
    /// Deliver `event` to the subscribers of `topic`.
    Dispatch {
        /// Audience.
        topic: Topic,
        /// The encoded event.
        event: SharedEvent,
    },
    /// Close every gateway session of these logins (logout, revocation): 4001.
    Revoke {
        /// Login sessions.
        auth_sessions: Vec<SessionId>,
    },
    /// Make every session of `user` follow (or stop following) `topics`.
    Subscription {
        /// The user.
        user: UserId,
        /// The topics.
        topics: Vec<Topic>,
        /// Follow (true) or stop (false).
        follow: bool,
    },
    /// Every session stops following `topic` (a deleted channel or server).
    Forget {
        /// The topic.
        topic: Topic,
    },
    /// Node `node`'s aggregate presence for `user` changed.
    Presence {
        /// Announcing node.
        node: u16,
        /// The user.
        user: UserId,
        /// Its status on that node.
        presence: NodePresence,
        /// The servers whose members see the change (the user's, as that node knows them).
        servers: Vec<ServerId>,
    },
    /// `user` saved a presence: each of their sessions, on every node, takes it.
    Choice {
        /// The user.
        user: UserId,
        /// The chosen status.
        status: Status,
        /// The custom status (`None` clears it).
        custom_status: Option<CustomStatus>,
    },
    /// A committed database change: every node forgets its cached copies of what changed.
    Invalidate {
        /// What changed.
        change: Change,
    },
}

/// Told of every [`BusMessage::Invalidate`] applied on this node (its caches).
pub type InvalidationListener = Box<dyn Fn(&Change) + Send + Sync>;

/// A gateway session id: 128 random bits, shown to clients as 32 hex digits. Unguessable, so
/// an id alone cannot hijack a resume (the token must match its user too).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SessionKey(pub u128);

impl SessionKey {
    fn random() -> Self {
        Self(rand::random())
    }

    /// Parses the 32-hex-digit form.
    pub fn parse(s: &str) -> Option<Self> {
        (s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| u128::from_str_radix(s, 16).ok().map(Self))
            .flatten()
    }
}

impl std::fmt::Display for SessionKey {
    /// 32 lower-case hex digits, through a table: `{:032x}` of a `u128` took ~0.7k
    /// instructions, once per identify (callgrind, quick S1).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut digits = [0u8; 32];
        for (i, d) in digits.iter_mut().enumerate() {
            *d = HEX[((self.0 >> (124 - 4 * i)) & 0xf) as usize];
        }
        f.write_str(std::str::from_utf8(&digits).expect("hex digits are ASCII"))
    }
}

/// Who a token belongs to, as the server's backend resolves it.
pub struct Identity {
    /// The user.
    pub user_id: UserId,
    /// The login session.
    pub auth_session: SessionId,
    /// `CurrentUser` JSON for `ready`.
    pub user_json: crate::protocol::OwnJson,
    /// The user's servers (JSON array) for `ready`.
    pub servers_json: crate::protocol::OwnJson,
    /// The user's read states (JSON array) for `ready`.
    pub read_states_json: crate::protocol::OwnJson,
    /// Topics besides the user's own.
    pub topics: Vec<Topic>,
    /// Users whose presence the session shows in `ready` (members of its servers).
    pub watch: Vec<UserId>,
    /// The status the user saved: the session starts with it, so that an invisible user
    /// is never shown online while their client connects.
    pub status: Status,
    /// The custom status the user saved (`None` once expired).
    pub custom_status: Option<CustomStatus>,
}

/// Decrements the per-address connection count when dropped.
pub struct ConnectionSlot {
    hub: Arc<Hub>,
    ip: IpAddr,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut map = self.hub.per_ip.lock().expect("per-ip mutex poisoned");
        if let Some(n) = map.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

/// Sessions, topics, presence and the bus endpoint of one node.
pub struct Hub {
    /// Timings and limits (shared with every connection's core).
    pub config: Arc<GatewayConfig>,
    /// Queue bounds derived from the config.
    pub limits: QueueLimits,
    node_id: u16,
    sessions: RwLock<HashMap<SessionKey, Arc<GwSession>>>,
    /// Subscribers per topic. Read-locked for every delivery, written on (un)subscribe.
    topics: RwLock<HashMap<Topic, Vec<Arc<GwSession>>>>,
    local_presence: Mutex<LocalPresence>,
    book: Mutex<PresenceBook>,
    identifies: Mutex<HashMap<UserId, SlidingWindow>>,
    typing: typing::TypingThrottle,
    per_ip: Mutex<HashMap<IpAddr, u32>>,
    remote: OnceLock<mpsc::Sender<BusMessage>>,
    invalidations: OnceLock<InvalidationListener>,
    /// Cancelled at shutdown ([`Hub::begin_shutdown`]): every driver closes with 1001.
    pub(crate) shutdown: CancellationToken,
    /// Sessions to wake for volatile events ([`volatile`]), and the flusher's signal.
    volatile: Mutex<volatile::Waiting>,
    volatile_due: tokio::sync::Notify,
}

impl Hub {
    /// A hub for node `node_id`.
    pub fn new(config: GatewayConfig, node_id: u16) -> Arc<Self> {
        let limits = QueueLimits {
            max_unsent_events: config.max_pending_events,
            max_unsent_bytes: config.max_pending_bytes,
            max_replay_events: config.max_pending_events,
        };
        Arc::new(Self {
            config: Arc::new(config),
            limits,
            node_id,
            sessions: RwLock::default(),
            topics: RwLock::default(),
            local_presence: Mutex::default(),
            book: Mutex::default(),
            identifies: Mutex::default(),
            typing: typing::TypingThrottle::default(),
            per_ip: Mutex::default(),
            remote: OnceLock::new(),
            invalidations: OnceLock::new(),
            shutdown: CancellationToken::new(),
            volatile: Mutex::default(),
            volatile_due: tokio::sync::Notify::new(),
        })
    }

    /// Starts shutting down: every connection closes with 1001 (going away) and the hub's
    /// background tasks stop. An identified connection waits on its session alone (not on
    /// the hub's token too, which would cost every idle connection a second waiter), so each
    /// session is told here.
    pub fn begin_shutdown(&self) {
        self.shutdown.cancel();
        let sessions: Vec<Arc<GwSession>> = self
            .sessions
            .read()
            .expect("sessions lock poisoned")
            .values()
            .cloned()
            .collect();
        for s in sessions {
            let mut st = s.state.lock().expect("session mutex poisoned");
            st.close.get_or_insert(CloseCode::GoingAway);
            wake(st);
        }
    }

    /// Whether [`Hub::begin_shutdown`] was called.
    pub fn is_shutting_down(&self) -> bool {
        self.shutdown.is_cancelled()
    }

    /// This node's id.
    pub fn node_id(&self) -> u16 {
        self.node_id
    }

    /// Connects the hub to the cluster bus: messages it publishes are also sent there.
    pub fn set_remote(&self, tx: mpsc::Sender<BusMessage>) {
        let _ = self.remote.set(tx);
    }

    /// Sets who hears of invalidations applied on this node (once; later calls are ignored).
    pub fn on_invalidate(&self, listener: InvalidationListener) {
        let _ = self.invalidations.set(listener);
    }

    /// Tells every node (this one included) that `change` was committed.
    pub fn invalidate(&self, change: Change) {
        self.publish(BusMessage::Invalidate { change });
    }

    /// Number of sessions (attached or resumable).
    pub fn session_count(&self) -> usize {
        self.sessions.read().expect("sessions lock poisoned").len()
    }

    /// Claims a connection slot for `ip`, or `None` over the per-address limit.
    pub fn claim_slot(self: &Arc<Self>, ip: IpAddr) -> Option<ConnectionSlot> {
        let mut map = self.per_ip.lock().expect("per-ip mutex poisoned");
        let n = map.entry(ip).or_insert(0);
        if *n >= self.config.max_connections_per_ip {
            return None;
        }
        *n += 1;
        Some(ConnectionSlot {
            hub: self.clone(),
            ip,
        })
    }

    /// Counts an identify/resume attempt of `user`; false over the limit.
    pub fn allow_identify(&self, user: UserId, now: Instant) -> bool {
        let mut map = self.identifies.lock().expect("identify mutex poisoned");
        map.entry(user)
            .or_insert_with(|| SlidingWindow::new(now))
            .allow(
                now,
                Duration::from_secs(60),
                self.config.identifies_per_minute,
            )
    }

    /// Creates an attached session for `identity` and announces it online.
    pub fn create_session(&self, identity: &Identity) -> (Arc<GwSession>, u64) {
        let id = SessionKey::random();
        let mut topics = vec![Topic::User(identity.user_id)];
        topics.extend(identity.topics.iter().copied());
        let session = Arc::new(GwSession {
            id,
            user_id: identity.user_id,
            auth_session: identity.auth_session,
            topics: Mutex::new(topics),
            state: Mutex::new(SessionState {
                queue: EventQueue::new(),
                generation: 1,
                link: Link::Attached { deadline: None },
                close: None,
                dead: false,
                status: identity.status,
                waker: None,
                deferred: false,
                due: false,
            }),
        });
        {
            let mut map = self.topics.write().expect("topics lock poisoned");
            for t in session.topics.lock().expect("topics mutex poisoned").iter() {
                map.entry(*t).or_default().push(session.clone());
            }
        }
        self.sessions
            .write()
            .expect("sessions lock poisoned")
            .insert(id, session.clone());
        self.session_online(
            &session,
            identity.status,
            Some(identity.custom_status.clone()),
        );
        (session, 1)
    }

    /// Re-attaches session `id` of `user` from `seq`: returns it, the new generation and the
    /// number of events to replay; `None` if it cannot be resumed.
    pub fn resume(&self, id: &str, user: UserId, seq: u64) -> Option<(Arc<GwSession>, u64, usize)> {
        let id = SessionKey::parse(id)?;
        let session = self
            .sessions
            .read()
            .expect("sessions lock poisoned")
            .get(&id)
            .cloned()?;
        if session.user_id != user {
            return None;
        }
        let mut st = session.state.lock().expect("session mutex poisoned");
        if st.dead || st.close.is_some() {
            return None;
        }
        let replay = st.queue.rewind(seq)?;
        st.generation += 1;
        st.link = Link::Attached { deadline: None };
        st.due = false;
        let generation = st.generation;
        let status = st.status;
        // Wake a previous connection still attached so that it notices it was replaced.
        wake(st);
        self.session_online(&session, status, None);
        Some((session, generation, replay))
    }

    /// The connection `generation` of `session` ended. Unless the session is dead it stays
    /// resumable for the resume window.
    pub fn detach(&self, session: &Arc<GwSession>, generation: u64, now: Instant, resumable: bool) {
        let mut st = session.state.lock().expect("session mutex poisoned");
        if !st.owned_by(generation) {
            return; // replaced by a resume: the new connection owns it
        }
        st.link = Link::Detached { since: now };
        st.queue.forget_volatile();
        // The waker holds the ended connection's task (its memory) alive.
        st.waker = None;
        if !resumable {
            st.dead = true;
        }
        let dead = st.dead;
        drop(st);
        let announce = self
            .local_presence
            .lock()
            .expect("presence mutex poisoned")
            .remove(
                session.user_id,
                session.id.0,
                now,
                self.config.offline_grace,
            );
        if let Some(p) = announce {
            self.announce_presence(session.user_id, p);
        }
        if dead {
            self.remove(session.id);
        }
    }

    fn remove(&self, id: SessionKey) {
        let Some(session) = self
            .sessions
            .write()
            .expect("sessions lock poisoned")
            .remove(&id)
        else {
            return;
        };
        let mut map = self.topics.write().expect("topics lock poisoned");
        for t in session.topics.lock().expect("topics mutex poisoned").iter() {
            if let Some(list) = map.get_mut(t) {
                list.retain(|s| !Arc::ptr_eq(s, &session));
                if list.is_empty() {
                    map.remove(t);
                }
            }
        }
    }

    /// Ends every gateway session of these logins, on every node.
    pub fn revoke(&self, auth_sessions: Vec<SessionId>) {
        self.publish(BusMessage::Revoke { auth_sessions });
    }

    /// Delivers `event` to `topic`'s subscribers on every node.
    pub fn dispatch(&self, topic: Topic, event: SharedEvent) {
        self.publish(BusMessage::Dispatch { topic, event });
    }

    /// Serializes `data` once and dispatches it.
    pub fn emit(&self, topic: Topic, kind: EventKind, data: &impl Serialize) {
        match EncodedEvent::new(kind, data) {
            Ok(event) => self.dispatch(topic, event),
            Err(err) => tracing::error!(%err, event = kind.name(), "event not serializable"),
        }
    }

    fn publish(&self, msg: BusMessage) {
        if let Some(remote) = self.remote.get()
            && let Err(err) = remote.try_send(msg.clone())
        {
            tracing::error!(%err, "cluster bus queue full: a message did not reach other nodes");
        }
        self.apply(msg);
    }

    /// Applies a message (from this node, or another node through the bus).
    pub fn apply(&self, msg: BusMessage) {
        match msg {
            BusMessage::Dispatch { topic, event } => self.deliver(topic, &event),
            BusMessage::Revoke { auth_sessions } => {
                let victims: Vec<Arc<GwSession>> = self
                    .sessions
                    .read()
                    .expect("sessions lock poisoned")
                    .values()
                    .filter(|s| auth_sessions.contains(&s.auth_session))
                    .cloned()
                    .collect();
                for s in victims {
                    let mut st = s.state.lock().expect("session mutex poisoned");
                    st.dead = true;
                    st.close = Some(CloseCode::AuthenticationFailed);
                    let attached = matches!(st.link, Link::Attached { .. });
                    wake(st);
                    if !attached {
                        self.remove(s.id);
                    }
                }
            }
            BusMessage::Subscription {
                user,
                topics,
                follow,
            } => self.resubscribe(user, &topics, follow),
            BusMessage::Forget { topic } => self.forget_local(topic),
            BusMessage::Choice {
                user,
                status,
                custom_status,
            } => self.apply_choice(user, status, custom_status),
            BusMessage::Invalidate { change } => {
                if let Some(listener) = self.invalidations.get() {
                    listener(&change);
                }
            }
            BusMessage::Presence {
                node,
                user,
                presence,
                servers,
            } => {
                let changed = self
                    .book
                    .lock()
                    .expect("book mutex poisoned")
                    .apply(user, node, presence);
                if let Some(view) = changed {
                    self.deliver_presence(&view, &servers);
                }
            }
        }
    }

    /// Makes `user`'s sessions on every node follow or stop following `topics`.
    pub fn subscribe(&self, user: UserId, topics: Vec<Topic>, follow: bool) {
        if topics.is_empty() {
            return;
        }
        self.publish(BusMessage::Subscription {
            user,
            topics,
            follow,
        });
    }

    /// Makes every session on every node stop following `topic`.
    pub fn forget(&self, topic: Topic) {
        self.publish(BusMessage::Forget { topic });
    }

    fn forget_local(&self, topic: Topic) {
        let mut map = self.topics.write().expect("topics lock poisoned");
        for s in map.remove(&topic).unwrap_or_default() {
            s.topics
                .lock()
                .expect("topics mutex poisoned")
                .retain(|t| *t != topic);
        }
    }

    fn resubscribe(&self, user: UserId, topics: &[Topic], follow: bool) {
        let mut map = self.topics.write().expect("topics lock poisoned");
        let sessions: Vec<Arc<GwSession>> =
            map.get(&Topic::User(user)).cloned().unwrap_or_default();
        for s in sessions {
            let mut mine = s.topics.lock().expect("topics mutex poisoned");
            for &topic in topics {
                let has = mine.contains(&topic);
                if follow && !has {
                    mine.push(topic);
                    map.entry(topic).or_default().push(s.clone());
                } else if !follow && has {
                    mine.retain(|t| *t != topic);
                    if let Some(list) = map.get_mut(&topic) {
                        list.retain(|x| !Arc::ptr_eq(x, &s));
                        if list.is_empty() {
                            map.remove(&topic);
                        }
                    }
                }
            }
        }
    }

    fn deliver(&self, topic: Topic, event: &SharedEvent) {
        let map = self.topics.read().expect("topics lock poisoned");
        let mut deferred = Vec::new();
        if let Some(list) = map.get(&topic) {
            for s in list {
                if s.push(event, &self.limits) {
                    deferred.push(s.clone());
                }
            }
        }
        drop(map);
        self.defer(deferred);
    }

    /// Whether `user`'s typing in `channel` should be forwarded now (throttle).
    pub fn allow_typing(&self, user: UserId, channel: u64, now: Instant) -> bool {
        self.typing
            .allow((user, channel), now, self.config.typing_throttle)
    }

    /// `user` sent a message in `channel`: clients stopped showing them typing there, so
    /// their next `typing_start` is forwarded at once (not when the throttle ends).
    pub fn typing_ended(&self, user: UserId, channel: u64) {
        self.typing.ended((user, channel));
    }

    /// Periodic work: wake the connections whose deadline passed (a missed heartbeat is
    /// noticed within a tick), forget sessions past the resume window, announce users whose
    /// grace ran out, and trim limiter state.
    pub fn tick(&self, now: Instant) {
        let mut expired: Vec<SessionKey> = Vec::new();
        for s in self
            .sessions
            .read()
            .expect("sessions lock poisoned")
            .values()
        {
            let mut st = s.state.lock().expect("session mutex poisoned");
            match st.link {
                Link::Attached {
                    deadline: Some(due),
                } if due <= now => {
                    st.due = true;
                    if let Some(w) = st.waker.take() {
                        w.wake();
                    }
                }
                Link::Attached { .. } => {}
                Link::Detached { since } => {
                    if st.dead || now.saturating_duration_since(since) >= self.config.resume_window
                    {
                        expired.push(s.id);
                    }
                }
            }
        }
        for id in expired {
            self.remove(id);
        }
        let offline = self
            .local_presence
            .lock()
            .expect("presence mutex poisoned")
            .expire(now);
        for (user, p, last) in offline {
            // Its sessions may still be resumable here (and following their servers).
            let current = self.servers_of(user);
            let servers = if current.is_empty() { last } else { current };
            self.publish_presence(user, p, servers);
        }
        self.typing.trim(now, self.config.typing_throttle);
        self.identifies
            .lock()
            .expect("identify mutex poisoned")
            .retain(|_, rate| !rate.is_idle(now, Duration::from_secs(60)));
    }

    /// Runs [`Hub::tick`] every second, and wakes connections for their volatile events
    /// (`volatile`), until shutdown.
    pub async fn run_ticker(self: Arc<Self>) {
        let ticks = async {
            let mut every = tokio::time::interval(Duration::from_secs(1));
            loop {
                tokio::select! {
                    _ = every.tick() => self.tick(Instant::now()),
                    () = self.shutdown.cancelled() => return,
                }
            }
        };
        tokio::join!(ticks, self.run_volatile_flusher());
    }
}
