//! The driver's own parts: writes within their limit, the size of an idle connection's
//! task, and the spare write buffer.

use super::*;
use serde_json::value::RawValue;

/// A backend whose futures are deliberately huge, like a database-backed one.
struct HeavyBackend;
impl Backend for HeavyBackend {
    async fn authenticate(&self, _: &str) -> Option<Identity> {
        let scratch = [0u8; 8192];
        tokio::task::yield_now().await;
        std::hint::black_box(&scratch);
        None
    }
    async fn channel_topic(&self, _: UserId, _: &str) -> Result<Topic, TopicRefused> {
        let scratch = [0u8; 8192];
        tokio::task::yield_now().await;
        std::hint::black_box(&scratch);
        Err(TopicRefused::Unknown)
    }
    async fn send_message(self: Arc<Self>, _: UserId, _: MessageCreate, answer: AnswerSlot) {
        let scratch = [0u8; 8192];
        tokio::task::yield_now().await;
        std::hint::black_box(&scratch);
        answer.refuse(&RawValue::from_string("{}".into()).unwrap());
    }
}

#[tokio::test(start_paused = true)]
async fn writes_complete_at_once_or_wait_within_the_limit() {
    use tokio::io::AsyncReadExt;
    let limit = Duration::from_secs(5);
    let (mut a, mut b) = tokio::io::duplex(64);
    // What the socket takes whole is written without waiting.
    let done = write_within(&mut a, &[1; 10], limit).now_or_never();
    assert!(matches!(done, Some(Ok(Ok(())))));
    let mut small = [0u8; 10];
    b.read_exact(&mut small).await.unwrap();
    // The rest waits for the reader, in order...
    let big: Vec<u8> = (0..200u8).collect();
    let reader = tokio::spawn(async move {
        let mut got = vec![0u8; 200];
        b.read_exact(&mut got).await.unwrap();
        (got, b)
    });
    assert!(matches!(
        write_within(&mut a, &big, limit).await,
        Ok(Ok(()))
    ));
    let (got, _b) = reader.await.unwrap();
    assert_eq!(got, big);
    // ... and gives up after the limit when nobody reads.
    assert!(write_within(&mut a, &big, limit).await.is_err());
}

/// Every idle connection is one task holding this future: it must stay small whatever
/// the backend's futures weigh (they are boxed while they run). This future is 368 bytes
/// here, 696 at first: the upgrade chained instead of kept, no timer of its own, no
/// action held across an await, the config shared instead of copied, writes that complete
/// at once without a timeout future, the closing boxed (480); then the session's waker
/// instead of a `Notified`, the frame decoder boxed while a frame is partly read, and
/// `serve` without a second copy of its arguments (368). The server's task is larger (its
/// socket type is, and tokio rounds a task up to 128 bytes: at 368 here it fits 512).
/// The bound leaves a little room, not a whole 128 bytes.
#[test]
fn an_idle_connection_task_stays_small() {
    let hub = Hub::new(crate::session::GatewayConfig::default(), 0);
    let (a, _b) = tokio::io::duplex(64);
    let fut = run(
        hub,
        Arc::new(HeavyBackend),
        async { Some(a) },
        None,
        Vec::new(),
        None,
    );
    let size = std::mem::size_of_val(&fut);
    assert!(size <= 384, "driver future is {size} bytes");
    // With the `Arc` counts, 208 bytes: two allocator size classes below 256.
    assert!(std::mem::size_of::<GwSession>() <= 192);
    assert!(std::mem::size_of::<Decoder>() <= 64);
}

#[test]
fn a_written_buffer_is_filled_again_by_the_next_write_on_its_thread() {
    let mut out = Vec::new();
    ready_buffer(&mut out, 10);
    assert!(out.capacity() >= FIRST_EVENT_ROOM);
    out.extend_from_slice(b"a frame");
    let first = out.as_ptr();
    keep_spare(out);
    // The next connection with something to write gets it back, emptied.
    let mut next = Vec::new();
    ready_buffer(&mut next, 10);
    assert_eq!(next.as_ptr(), first);
    assert!(next.is_empty());
    // A buffer being filled keeps its own.
    let mut filling = vec![1u8; 3];
    let own = filling.as_ptr();
    ready_buffer(&mut filling, 10);
    assert_eq!((filling.as_ptr(), filling.len()), (own, 3));
    // A large one is freed, not kept: the next buffer is a new one of ordinary size.
    keep_spare(Vec::with_capacity(MAX_SPARE + 1));
    let mut fresh = Vec::new();
    ready_buffer(&mut fresh, 10);
    assert!(fresh.capacity() >= FIRST_EVENT_ROOM && fresh.capacity() <= MAX_SPARE);
    // Room is made for a frame larger than the spare.
    keep_spare(fresh);
    let mut large = Vec::new();
    ready_buffer(&mut large, 4 * FIRST_EVENT_ROOM);
    assert!(large.capacity() >= 4 * FIRST_EVENT_ROOM);
}
