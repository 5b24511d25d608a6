//! The Papo server: configuration, the axum application and its HTTP modules, and the
//! serve loop used by the `papo` binary and by the integration tests.
#![deny(missing_docs)]

pub mod accept;
pub mod auth;
pub mod config;
pub mod directory;
pub mod http;
pub mod serve;
pub mod state;
pub mod telemetry;
mod web;

/// Current Unix time in milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
