//! Papo's real-time gateway.
//!
//! - [`ws`]: a sans-IO WebSocket (RFC 6455) server codec with small, bounded buffers.
//! - [`protocol`]: the typed frames of the gateway protocol (see `docs/gateway.md`).
//! - [`session`]: the sans-IO connection state machine (frames and time in, actions out).
//! - [`hub`]: topics to sessions; each event is serialized once and shared.
//! - [`driver`]: the thin tokio task that owns one socket.
//! - [`answers`]: a connection's answers to its sends, given by whoever finishes them.
#![deny(missing_docs)]

pub mod answers;
pub mod bus;
pub mod driver;
pub mod hub;
pub mod presence;
pub mod protocol;
pub mod queue;
pub mod rate;
pub mod session;
pub mod ws;
