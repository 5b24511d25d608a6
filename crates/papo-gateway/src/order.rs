//! One connection's sends, announced in the order their frames came.
//!
//! A connection's `message_create`s run as tasks of their own, so that a commit never holds up
//! the connection, and several may be in flight. Tasks run in whatever order the runtime picks
//! (tokio runs the last task woken first), so two frames read together could get their ids,
//! and announce their messages, the other way round: the benchmark's generator counted such
//! deliveries out of order whenever a connection's sends queued up (S4's failed steps). Now
//! the backend starts each send as its frame is read ([`crate::driver::Backend::send_message`]:
//! the message's id is taken then), and each send announces its message only after the one
//! before it. The wait is a one-shot signal from the send before, given when it has announced
//! its message or when it ends without one (refused, a repeated nonce, a failure): dropping an
//! [`InOrder`] gives it. A send that ends before the one before it has announced hands that
//! wait on with its signal, so the order holds across sends that announce nothing.

use tokio::sync::oneshot;

/// A send's place in its connection's order. Dropping it lets the next send announce once
/// every send before it has.
#[derive(Debug, Default)]
pub struct InOrder {
    /// Given when the send before has announced its message (or ended).
    before: Option<oneshot::Receiver<Signal>>,
    /// For the send after: this one has announced its message (or ended).
    announced: Option<oneshot::Sender<Signal>>,
}

/// What a send tells the next: done, or done but wait for this one (what it was still
/// waiting for itself when it ended).
#[derive(Debug)]
struct Signal(Option<oneshot::Receiver<Signal>>);

/// Where the next send of a connection joins the order: the last one's signal.
#[derive(Debug)]
pub struct Tail(oneshot::Receiver<Signal>);

impl InOrder {
    /// Ordered after nothing, and nothing after it (a REST request: HTTP does not order
    /// concurrent requests).
    pub fn none() -> Self {
        Self::default()
    }

    /// The order of a connection's next send, after `tail` (the last send's, if any is in
    /// flight), and the new tail.
    pub fn after(tail: Option<Tail>) -> (Self, Tail) {
        let (announced, signal) = oneshot::channel();
        let order = Self {
            before: tail.map(|t| t.0),
            announced: Some(announced),
        };
        (order, Tail(signal))
    }

    /// Waits until the send before has announced its message (or ended). The signal is
    /// kept until it comes, so a wait given up early can be taken up again.
    pub async fn announce(&mut self) {
        while let Some(before) = &mut self.before {
            // An error cannot come (a dropped `InOrder` signals); taken as done.
            self.before = before.await.ok().and_then(|Signal(then)| then);
        }
    }

    /// This send's message is announced: the next send may announce its own.
    pub fn announced(&mut self) {
        self.pass_on();
    }

    /// Signals the next send, handing it what this one still waited for.
    fn pass_on(&mut self) {
        if let Some(next) = self.announced.take() {
            let _ = next.send(Signal(self.before.take()));
        }
    }
}

impl Drop for InOrder {
    fn drop(&mut self) {
        self.pass_on();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;

    #[test]
    fn each_send_announces_after_the_one_before() {
        let (mut first, tail) = InOrder::after(None);
        let (mut second, tail) = InOrder::after(Some(tail));
        let (mut third, _) = InOrder::after(Some(tail));
        assert!(
            first.announce().now_or_never().is_some(),
            "nothing before it"
        );
        // The second waits, however often it asks, until the first has announced.
        assert!(second.announce().now_or_never().is_none());
        assert!(second.announce().now_or_never().is_none());
        first.announced();
        assert!(second.announce().now_or_never().is_some());
        // A send that ends without announcing (refused, repeated) lets the next one go.
        assert!(third.announce().now_or_never().is_none());
        drop(second);
        assert!(third.announce().now_or_never().is_some());
    }

    #[test]
    fn a_send_that_ends_early_hands_on_the_wait_for_the_ones_before() {
        let (mut first, tail) = InOrder::after(None);
        let (second, tail) = InOrder::after(Some(tail));
        let (third, tail) = InOrder::after(Some(tail));
        let (mut fourth, _) = InOrder::after(Some(tail));
        // The second and third are refused while the first is still being stored.
        drop(second);
        drop(third);
        assert!(
            fourth.announce().now_or_never().is_none(),
            "the first comes first"
        );
        first.announce().now_or_never().unwrap();
        first.announced();
        assert!(fourth.announce().now_or_never().is_some());
    }

    #[test]
    fn a_send_ordered_after_nothing_never_waits() {
        let mut rest = InOrder::none();
        assert!(rest.announce().now_or_never().is_some());
        rest.announced();
    }
}
