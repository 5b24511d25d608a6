//! A connection's reads and sends in flight, driven over an in-memory socket with a backend
//! whose sends are answered only when the test lets them.

use std::sync::atomic::{AtomicUsize, Ordering};

use papo_core::id::SessionId;
use serde_json::value::RawValue;
use tokio::io::AsyncReadExt;
use tokio::sync::Semaphore;

use super::*;
use crate::protocol::OwnJson;
use crate::session::GatewayConfig;

/// Identifies anyone; each send counts itself as begun, and is answered once a permit lets it.
struct GatedBackend {
    begun: AtomicUsize,
    gate: Semaphore,
}

impl GatedBackend {
    fn closed() -> Self {
        Self {
            begun: AtomicUsize::new(0),
            gate: Semaphore::new(0),
        }
    }
}

impl Backend for GatedBackend {
    async fn authenticate(&self, _: &str) -> Option<Identity> {
        Some(Identity {
            user_id: UserId::from_i64(7),
            auth_session: SessionId::from_i64(8),
            user_json: OwnJson::new_unchecked("{}".into()),
            servers_json: OwnJson::new_unchecked("[]".into()),
            read_states_json: OwnJson::new_unchecked("[]".into()),
            topics: Vec::new(),
            watch: Vec::new(),
            status: crate::protocol::Status::Online,
            custom_status: None,
        })
    }

    async fn channel_topic(&self, _: UserId, _: &str) -> Result<Topic, TopicRefused> {
        Err(TopicRefused::Unknown)
    }

    async fn send_message(self: Arc<Self>, _: UserId, _: MessageCreate, answer: AnswerSlot) {
        // Handed over at once, answered when the gate lets it (as a writer's commit would).
        self.begun.fetch_add(1, Ordering::SeqCst);
        let gated = self.clone();
        tokio::spawn(async move {
            gated.gate.acquire().await.expect("never closed").forget();
            answer.refuse(&RawValue::from_string("{}".into()).expect("JSON"));
        });
    }
}

/// Lets the driver run until `begun` sends have started, or fails after a while.
async fn until_begun(backend: &GatedBackend, begun: usize) {
    for _ in 0..1000 {
        if backend.begun.load(Ordering::SeqCst) >= begun {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!(
        "{} sends begun, expected {begun}",
        backend.begun.load(Ordering::SeqCst)
    );
}

/// A connection identified in its upgrade, driven over an in-memory socket: its backend and
/// the client's end, once `ready` has arrived (hello and ready: at least one read).
async fn identified() -> (Arc<GatedBackend>, tokio::io::DuplexStream) {
    let hub = Hub::new(GatewayConfig::default(), 0);
    let slot = hub.claim_slot("127.0.0.1".parse().expect("an address"));
    let backend = Arc::new(GatedBackend::closed());
    let (server, mut client) = tokio::io::duplex(64 * 1024);
    tokio::spawn(run(
        hub,
        backend.clone(),
        async { Some(server) },
        slot,
        Vec::new(),
        Some("token".to_string()),
    ));
    let mut got = [0u8; 4096];
    assert!(client.read(&mut got).await.expect("the server's frames") > 0);
    (backend, client)
}

#[tokio::test]
async fn reading_pauses_at_the_bound_of_sends_in_flight() {
    let (backend, mut client) = identified().await;

    // A burst read at once is handled whole, past the bound.
    let burst = MAX_SENDS_IN_FLIGHT + 3;
    client.write_all(&sends(0..burst)).await.expect("written");
    until_begun(&backend, burst).await;
    // Then reading pauses: what comes next waits unread while none finishes...
    client
        .write_all(&sends(burst..burst + 2))
        .await
        .expect("written");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(backend.begun.load(Ordering::SeqCst), burst);
    // ... and while the bound's number are still in flight ...
    backend.gate.add_permits(burst - MAX_SENDS_IN_FLIGHT);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(backend.begun.load(Ordering::SeqCst), burst);
    // ... until one fewer is: the rest is read and begins, nothing lost.
    backend.gate.add_permits(1);
    until_begun(&backend, burst + 2).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(backend.begun.load(Ordering::SeqCst), burst + 2);
}

#[tokio::test]
async fn frames_cut_anywhere_across_reads_are_read_whole() {
    let (backend, mut client) = identified().await;
    // Three frames, cut inside the first one's header, inside its payload and inside the
    // second one's header: each part read on its own.
    let frames = sends(0..3);
    let one = frames.len() / 3;
    for part in [
        &frames[..1],
        &frames[1..one / 2],
        &frames[one / 2..one + 1],
        &frames[one + 1..],
    ] {
        client.write_all(part).await.expect("written");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    until_begun(&backend, 3).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(backend.begun.load(Ordering::SeqCst), 3);
}

/// Masked `message_create` frames with the nonces `n{i}`.
fn sends(range: std::ops::Range<usize>) -> Vec<u8> {
    let mut frames = Vec::new();
    for i in range {
        let frame = format!(
            r#"{{"op":"message_create","d":{{"channel_id":"1","content":"m","nonce":"n{i}"}}}}"#
        );
        frames.extend(ws::tests::text(&frame));
    }
    frames
}
