//! The listener the server accepts on. A new connection whose first bytes are a complete
//! WebSocket upgrade to the gateway goes straight to the gateway; every other connection,
//! and any upgrade that arrives in pieces, goes to axum as before.
//!
//! Through hyper and the router an upgrade cost about a sixth of the server's core per
//! session opened (S1's profile: the request parsed into a `Request`, the router, five
//! layers of middleware, the upgrade's hand-over), and hyper kept the upgraded socket in a
//! box of its own for the session's life. Here the request is parsed in place from the
//! socket's queue (`peek`) and the socket itself goes to the gateway's driver.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use axum::serve::Listener;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use crate::http::gateway;
use crate::state::AppState;

/// The most bytes of a request head looked at (a browser's upgrade request is well under).
const HEAD_MAX: usize = 4096;
/// How long a new connection may take to send its first bytes before it is handed to
/// axum anyway (which then applies its own rules to it).
const FIRST_BYTES: Duration = Duration::from_secs(5);
/// Connections sorted but not yet taken by axum.
const QUEUED: usize = 1024;

/// A [`Listener`] that hands gateway upgrades to the gateway and yields everything else.
pub struct GatewayFirst {
    listener: TcpListener,
    state: AppState,
    to_http_tx: mpsc::Sender<(TcpStream, SocketAddr)>,
    to_http: mpsc::Receiver<(TcpStream, SocketAddr)>,
}

impl GatewayFirst {
    /// Accepts on `listener` for `state`'s gateway and router.
    pub fn new(listener: TcpListener, state: AppState) -> Self {
        let (to_http_tx, to_http) = mpsc::channel(QUEUED);
        Self {
            listener,
            state,
            to_http_tx,
            to_http,
        }
    }
}

impl Listener for GatewayFirst {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        loop {
            tokio::select! {
                Some(conn) = self.to_http.recv() => return conn,
                (tcp, peer) = Listener::accept(&mut self.listener) => {
                    // No Nagle: a gateway socket writes small frames one after another (an
                    // event, then the answer to a send); with Nagle the second waits for
                    // the peer's delayed ACK (~40 ms).
                    if let Err(err) = tcp.set_nodelay(true) {
                        tracing::debug!(%err, "TCP_NODELAY refused");
                    }
                    let (state, to_http) = (self.state.clone(), self.to_http_tx.clone());
                    tokio::spawn(sort(tcp, peer, state, to_http));
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

/// Looks at a new connection's first bytes: a whole gateway upgrade request is answered
/// here, anything else queued for axum untouched.
async fn sort(
    mut tcp: TcpStream,
    peer: SocketAddr,
    state: AppState,
    to_http: mpsc::Sender<(TcpStream, SocketAddr)>,
) {
    let mut head = [0u8; HEAD_MAX];
    let seen = match tokio::time::timeout(FIRST_BYTES, tcp.peek(&mut head)).await {
        Ok(Ok(n)) => n,
        _ => 0,
    };
    let seen_at = std::time::Instant::now();
    match gateway::direct_upgrade(&head[..seen]) {
        Some((len, accept)) => {
            // Only the head leaves the socket's queue; a frame sent right behind it stays.
            if tcp.read_exact(&mut head[..len]).await.is_ok() {
                gateway::upgrade_direct(&state, tcp, peer, &accept, seen_at);
            }
        }
        None => {
            let _ = to_http.send((tcp, peer)).await;
        }
    }
}
