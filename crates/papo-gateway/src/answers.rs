//! A connection's answers to its `message_create`s, given from wherever a send ends.
//!
//! A send is started by the connection's driver, in the order of its frames, and answered
//! later by whoever finishes it: the message writer once its batch is committed, or the send
//! itself when it is refused. Each answer is written, as a WebSocket frame, into the
//! connection's [`Answers`], which wakes the driver to write them out with its events. No send
//! holds a task or a channel of its own while it waits for its commit.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Context;
use std::time::Instant;

use futures::task::AtomicWaker;
use serde_json::value::RawValue;

use crate::protocol::ServerFrame;
use crate::ws;

/// The answers of one connection's sends, and how many are still to come.
#[derive(Debug, Default)]
pub struct Answers {
    /// Answer frames not yet taken by the driver.
    frames: Mutex<Vec<u8>>,
    /// Sends started (or waiting to start) and not yet answered or given up.
    in_flight: AtomicUsize,
    /// The driver, woken by each answer.
    waker: AtomicWaker,
}

impl Answers {
    /// A send was accepted: one more answer to come.
    pub fn begin(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// Sends accepted and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// The driver is about to wait: an answer from now on wakes it.
    pub fn register(&self, cx: &Context<'_>) {
        self.waker.register(cx.waker());
    }

    /// Lets go of the waker registered last (the connection is done with these answers).
    pub fn forget_waker(&self) {
        drop(self.waker.take());
    }

    /// Whether answers wait to be taken.
    pub fn has_answers(&self) -> bool {
        !self.frames.lock().expect("answers poisoned").is_empty()
    }

    /// Appends the answer frames given so far to `out`, after `ready(out, their length)`
    /// (which may give `out` a buffer); whether there were any.
    pub fn take_into(&self, out: &mut Vec<u8>, ready: impl FnOnce(&mut Vec<u8>, usize)) -> bool {
        let mut frames = self.frames.lock().expect("answers poisoned");
        if frames.is_empty() {
            return false;
        }
        ready(out, frames.len());
        out.extend_from_slice(&frames);
        frames.clear();
        true
    }

    /// One send is over: `frame` (if any) goes out, and the driver is woken.
    fn end(&self, frame: Option<&str>) {
        if let Some(frame) = frame {
            let mut frames = self.frames.lock().expect("answers poisoned");
            ws::encode_text(frame.as_bytes(), &mut frames);
        }
        self.in_flight.fetch_sub(1, Ordering::Release);
        self.waker.wake();
    }
}

/// Where one send's answer goes: given once, with [`AnswerSlot::ack`] or
/// [`AnswerSlot::refuse`]. Dropped unanswered (the send failed in a way that has no answer),
/// it only counts the send as over: the client's wait runs out and it sends again with the
/// same nonce.
#[derive(Debug)]
pub struct AnswerSlot {
    answers: Option<Arc<Answers>>,
    nonce: String,
    read_at: Instant,
}

impl AnswerSlot {
    /// The slot of a send whose frame (carrying `nonce`) was read at `read_at`; `answers`
    /// already counts it ([`Answers::begin`]).
    pub fn new(answers: Arc<Answers>, nonce: String, read_at: Instant) -> Self {
        Self {
            answers: Some(answers),
            nonce,
            read_at,
        }
    }

    /// When the send's frame was read.
    pub fn read_at(&self) -> Instant {
        self.read_at
    }

    /// The message was committed (`created`), or is the original of a repeated nonce:
    /// `message` is its JSON as REST returns it.
    pub fn ack(mut self, created: bool, message: &str) {
        let frame = ServerFrame::MessageAck {
            nonce: &self.nonce,
            created,
            message,
        }
        .encode();
        self.end(Some(&frame));
    }

    /// The send was refused: `error` is the REST error body.
    pub fn refuse(mut self, error: &RawValue) {
        let frame = ServerFrame::SendRefused {
            nonce: &self.nonce,
            error,
        }
        .encode();
        self.end(Some(&frame));
    }

    fn end(&mut self, frame: Option<&str>) {
        if let Some(answers) = self.answers.take() {
            answers.end(frame);
        }
    }
}

impl Drop for AnswerSlot {
    fn drop(&mut self) {
        self.end(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON of each unmasked text frame in `bytes` (as a server writes them).
    fn texts(mut bytes: &[u8]) -> Vec<serde_json::Value> {
        let mut got = Vec::new();
        while !bytes.is_empty() {
            assert_eq!(bytes[0], 0x81, "a final text frame");
            let (len, start) = match bytes[1] {
                126 => (u16::from_be_bytes([bytes[2], bytes[3]]) as usize, 4),
                n => (n as usize, 2),
            };
            got.push(serde_json::from_slice(&bytes[start..start + len]).expect("JSON"));
            bytes = &bytes[start + len..];
        }
        got
    }

    #[test]
    fn answers_come_out_as_frames_in_the_order_given_and_count_down() {
        let answers = Arc::new(Answers::default());
        let now = Instant::now();
        for _ in 0..3 {
            answers.begin();
        }
        let first = AnswerSlot::new(answers.clone(), "a".into(), now);
        let second = AnswerSlot::new(answers.clone(), "b".into(), now);
        let third = AnswerSlot::new(answers.clone(), "c".into(), now);
        assert_eq!(answers.in_flight(), 3);
        let mut out = Vec::new();
        assert!(
            !answers.take_into(&mut out, |_, _| {}),
            "nothing answered yet"
        );

        second.refuse(&RawValue::from_string(r#"{"code":"slowmode"}"#.into()).unwrap());
        first.ack(true, r#"{"id":"1"}"#);
        assert_eq!(answers.in_flight(), 1);
        assert!(answers.take_into(&mut out, |out, n| out.reserve(n)));
        let got = texts(&out);
        assert_eq!(got[0]["op"], "error");
        assert_eq!(got[0]["d"]["nonce"], "b");
        assert_eq!(got[0]["d"]["code"], "slowmode");
        assert_eq!(got[1]["op"], "message_ack");
        assert_eq!(got[1]["d"]["nonce"], "a");
        assert_eq!(got[1]["d"]["message"]["id"], "1");
        assert_eq!(got.len(), 2);

        // Dropped unanswered: counted as over, nothing written.
        drop(third);
        assert_eq!(answers.in_flight(), 0);
        let mut more = Vec::new();
        assert!(!answers.take_into(&mut more, |_, _| {}));
    }

    #[test]
    fn an_answer_wakes_the_registered_driver() {
        let answers = Arc::new(Answers::default());
        answers.begin();
        let slot = AnswerSlot::new(answers.clone(), "n".into(), Instant::now());
        let woken = Arc::new(Flag::default());
        let waker = std::task::Waker::from(woken.clone());
        answers.register(&Context::from_waker(&waker));
        assert!(!woken.0.load(Ordering::SeqCst));
        drop(slot);
        assert!(woken.0.load(Ordering::SeqCst));
    }

    #[derive(Default)]
    struct Flag(std::sync::atomic::AtomicBool);
    impl std::task::Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
}
