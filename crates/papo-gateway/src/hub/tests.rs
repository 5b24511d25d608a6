//! The session's wake-ups, without sockets: a counting waker stands for a connection's task.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use papo_core::id::{ServerId, SessionId, UserId};

use super::{GwSession, Hub, Identity, Topic};
use crate::protocol::{EncodedEvent, EventKind};
use crate::session::GatewayConfig;

/// Counts its wake-ups.
#[derive(Default)]
struct Task(AtomicUsize);

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn identity(user: i64) -> Identity {
    let json = |s: &str| crate::protocol::OwnJson::new_unchecked(s.into());
    Identity {
        user_id: UserId::from_i64(user),
        auth_session: SessionId::from_i64(user),
        user_json: json("{}"),
        servers_json: json("[]"),
        read_states_json: json("[]"),
        topics: vec![Topic::Server(ServerId::from_i64(7))],
        watch: Vec::new(),
        status: crate::protocol::Status::Online,
        custom_status: None,
    }
}

/// Polls like an idle connection; true when it has something to do.
fn poll(s: &GwSession, generation: u64, task: &Arc<Task>) -> bool {
    let waker = Waker::from(task.clone());
    s.poll_wake(generation, &mut Context::from_waker(&waker)) == Poll::Ready(())
}

/// Drains like the connection does, noting `deadline`.
fn drain(hub: &Hub, s: &GwSession, generation: u64, deadline: Instant) {
    s.drain(generation, &hub.limits, deadline, |_, _| {});
}

#[test]
fn an_idle_connection_is_woken_by_events_closes_replacement_and_its_deadline() {
    let hub = Hub::new(GatewayConfig::default(), 1);
    let (s, generation) = hub.create_session(&identity(1));
    let t0 = Instant::now();
    let far = t0 + Duration::from_secs(3600);
    // Its own presence is waiting.
    let task = Arc::new(Task::default());
    assert!(poll(&s, generation, &task));
    drain(&hub, &s, generation, far);
    assert!(
        !poll(&s, generation, &task),
        "nothing to do: the waker is kept"
    );
    // An event wakes it once, however many follow before it runs.
    let ev = EncodedEvent::new(EventKind::ServerUpdated, &1).unwrap();
    hub.dispatch(Topic::Server(ServerId::from_i64(7)), ev.clone());
    hub.dispatch(Topic::Server(ServerId::from_i64(7)), ev);
    assert_eq!(task.0.load(Ordering::SeqCst), 1);
    assert!(poll(&s, generation, &task));
    drain(&hub, &s, generation, far);
    assert!(!poll(&s, generation, &task));
    // The tick wakes it once its deadline has passed, not before.
    drain(&hub, &s, generation, t0 + Duration::from_secs(5));
    assert!(!poll(&s, generation, &task));
    hub.tick(t0 + Duration::from_secs(4));
    assert_eq!(task.0.load(Ordering::SeqCst), 1);
    hub.tick(t0 + Duration::from_secs(6));
    assert_eq!(task.0.load(Ordering::SeqCst), 2);
    // Ready until the driver notes its next deadline, whatever the clock says.
    assert!(poll(&s, generation, &task));
    assert!(poll(&s, generation, &task));
    drain(&hub, &s, generation, far);
    // Shutdown wakes it with a close decision.
    assert!(!poll(&s, generation, &task));
    hub.begin_shutdown();
    assert_eq!(task.0.load(Ordering::SeqCst), 3);
    assert!(poll(&s, generation, &task));
}

#[test]
fn a_resume_wakes_the_replaced_connection_and_a_detached_session_keeps_no_task() {
    let hub = Hub::new(GatewayConfig::default(), 1);
    let (s, first) = hub.create_session(&identity(2));
    let far = Instant::now() + Duration::from_secs(3600);
    let old = Arc::new(Task::default());
    drain(&hub, &s, first, far);
    assert!(!poll(&s, first, &old));
    let (_, second, _) = hub
        .resume(&s.id.to_string(), UserId::from_i64(2), 0)
        .unwrap();
    assert_eq!(
        old.0.load(Ordering::SeqCst),
        1,
        "the old connection is told"
    );
    let new = Arc::new(Task::default());
    drain(&hub, &s, second, far);
    assert!(!poll(&s, second, &new));
    // The old connection polls again: it is done, and does not take the new one's place.
    assert!(poll(&s, first, &old));
    hub.dispatch(
        Topic::Server(ServerId::from_i64(7)),
        EncodedEvent::new(EventKind::ServerUpdated, &1).unwrap(),
    );
    assert_eq!(new.0.load(Ordering::SeqCst), 1);
    assert_eq!(old.0.load(Ordering::SeqCst), 1);
    // Its socket goes: the session forgets the task.
    drain(&hub, &s, second, far);
    assert!(!poll(&s, second, &new));
    assert_eq!(Arc::strong_count(&new), 2);
    hub.detach(&s, second, Instant::now(), true);
    assert_eq!(Arc::strong_count(&new), 1);
}

#[test]
fn volatile_events_wake_a_waiting_connection_later_together_and_other_events_at_once() {
    let hub = Hub::new(GatewayConfig::default(), 1);
    let (s, generation) = hub.create_session(&identity(3));
    let far = Instant::now() + Duration::from_secs(3600);
    let task = Arc::new(Task::default());
    drain(&hub, &s, generation, far);
    assert!(!poll(&s, generation, &task));
    let server = Topic::Server(ServerId::from_i64(7));
    let typing = EncodedEvent::new(EventKind::TypingStarted, &1).unwrap();
    hub.dispatch(server, typing.clone());
    hub.dispatch(server, typing.clone());
    assert_eq!(task.0.load(Ordering::SeqCst), 0, "not woken for them yet");
    hub.flush_volatile();
    assert_eq!(task.0.load(Ordering::SeqCst), 1, "woken once for both");
    let mut written = 0;
    s.drain(generation, &hub.limits, far, |seq, _| {
        assert_eq!(seq, None, "volatile: no sequence number");
        written += 1;
    });
    assert_eq!(written, 2, "both in one drain");
    assert!(!poll(&s, generation, &task));
    // Any other event wakes it at once and takes the waiting volatile one along.
    hub.dispatch(server, typing);
    hub.dispatch(
        server,
        EncodedEvent::new(EventKind::ServerUpdated, &1).unwrap(),
    );
    assert_eq!(task.0.load(Ordering::SeqCst), 2);
    let mut written = 0;
    s.drain(generation, &hub.limits, far, |_, _| written += 1);
    assert_eq!(written, 2);
    // The list's wake-up that follows finds nothing to do.
    assert!(!poll(&s, generation, &task));
    hub.flush_volatile();
    assert!(!poll(&s, generation, &task));
}

#[tokio::test(start_paused = true)]
async fn the_ticker_wakes_connections_for_volatile_events_within_the_delay() {
    let hub = Hub::new(GatewayConfig::default(), 1);
    let (s, generation) = hub.create_session(&identity(4));
    let task = Arc::new(Task::default());
    drain(
        &hub,
        &s,
        generation,
        Instant::now() + Duration::from_secs(3600),
    );
    assert!(!poll(&s, generation, &task));
    let ticker = tokio::spawn(hub.clone().run_ticker());
    tokio::task::yield_now().await;
    hub.dispatch(
        Topic::Server(ServerId::from_i64(7)),
        EncodedEvent::new(EventKind::TypingStarted, &1).unwrap(),
    );
    tokio::time::sleep(super::volatile::DELAY / 2).await;
    assert_eq!(task.0.load(Ordering::SeqCst), 0);
    tokio::time::sleep(super::volatile::DELAY).await;
    assert_eq!(task.0.load(Ordering::SeqCst), 1);
    hub.begin_shutdown();
    ticker.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_connection_waits_at_least_half_the_delay_for_company_and_at_most_the_delay() {
    let hub = Hub::new(GatewayConfig::default(), 1);
    let far = Instant::now() + Duration::from_secs(3600);
    let waiting = |user: i64, server: i64| {
        let mut id = identity(user);
        id.topics = vec![Topic::Server(ServerId::from_i64(server))];
        let (s, generation) = hub.create_session(&id);
        let task = Arc::new(Task::default());
        drain(&hub, &s, generation, far);
        assert!(!poll(&s, generation, &task));
        task
    };
    let (early, late) = (waiting(5, 8), waiting(6, 9));
    let ticker = tokio::spawn(hub.clone().run_ticker());
    tokio::task::yield_now().await;
    let typing = || EncodedEvent::new(EventKind::TypingStarted, &1).unwrap();
    let woken = |t: &Arc<Task>| t.0.load(Ordering::SeqCst);
    let ms = Duration::from_millis;
    let half = super::volatile::DELAY / 2;
    // `early` goes on the list at 0; `late` just before the flusher's second step.
    hub.dispatch(Topic::Server(ServerId::from_i64(8)), typing());
    tokio::time::sleep(2 * half - ms(1)).await;
    hub.dispatch(Topic::Server(ServerId::from_i64(9)), typing());
    tokio::time::sleep(ms(2)).await;
    assert_eq!(woken(&early), 1, "woken within the delay");
    assert_eq!(woken(&late), 0, "not woken after a millisecond");
    tokio::time::sleep(half - ms(2)).await;
    assert_eq!(woken(&late), 0, "not before half the delay");
    tokio::time::sleep(half).await;
    assert_eq!(woken(&late), 1, "within the delay");
    assert_eq!(woken(&early), 1);
    hub.begin_shutdown();
    ticker.await.unwrap();
}

#[test]
fn session_keys_are_shown_as_32_hex_digits_and_read_back() {
    for k in [
        0,
        1,
        0xabc,
        u128::MAX,
        0x0123_4567_89ab_cdef_fedc_ba98_7654_3210,
    ] {
        let key = super::SessionKey(k);
        let shown = key.to_string();
        assert_eq!(shown, format!("{k:032x}"));
        assert_eq!(super::SessionKey::parse(&shown), Some(key));
    }
}
