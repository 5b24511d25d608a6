//! Minimal clients for the load: WebSocket ([`ws`]) and HTTP/1.1 keep-alive ([`http`]).

pub mod http;
pub mod ws;
