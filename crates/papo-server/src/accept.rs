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
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use axum::serve::Listener;
use tokio::io::ReadBuf;
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
///
/// The bytes are looked at in plain functions, between awaits: a buffer held across an
/// await would make every connection's task 4 KiB larger, copied whole when spawned (2 %
/// of S1's server CPU in `memcpy` under `tokio::spawn`).
async fn sort(
    tcp: TcpStream,
    peer: SocketAddr,
    state: AppState,
    to_http: mpsc::Sender<(TcpStream, SocketAddr)>,
) {
    let deadline = tokio::time::Instant::now() + FIRST_BYTES;
    let upgrade = loop {
        match tokio::time::timeout_at(deadline, tcp.readable()).await {
            Ok(Ok(())) => {}
            _ => break None,
        }
        match peek_upgrade(&tcp) {
            Poll::Ready(upgrade) => break upgrade,
            // Woken without bytes after all: wait again.
            Poll::Pending => continue,
        }
    };
    let seen_at = std::time::Instant::now();
    match upgrade {
        Some(upgrade) => {
            // Only the head leaves the socket's queue; a frame sent right behind it stays.
            if take_head(&tcp, upgrade.len) {
                gateway::upgrade_direct(&state, tcp, peer, upgrade, seen_at);
            }
        }
        None => {
            let _ = to_http.send((tcp, peer)).await;
        }
    }
}

/// Peeks at what the socket holds: a whole gateway upgrade's length and accept key, or
/// `None` for anything else (including an error or the peer's end); `Pending` if nothing
/// has arrived yet.
fn peek_upgrade(tcp: &TcpStream) -> Poll<Option<gateway::DirectUpgrade>> {
    let mut head = [std::mem::MaybeUninit::<u8>::uninit(); HEAD_MAX];
    let mut buf = ReadBuf::uninit(&mut head);
    let mut cx = Context::from_waker(Waker::noop());
    match tcp.poll_peek(&mut cx, &mut buf) {
        Poll::Pending => Poll::Pending,
        Poll::Ready(Ok(_)) => Poll::Ready(gateway::direct_upgrade(buf.filled())),
        Poll::Ready(Err(_)) => Poll::Ready(None),
    }
}

/// Reads the request head's `len` bytes off the socket; they are already in its queue
/// (peeked), so this does not wait. False if the socket failed.
fn take_head(tcp: &TcpStream, len: usize) -> bool {
    let mut head = [0u8; HEAD_MAX];
    let mut taken = 0;
    while taken < len {
        match tcp.try_read(&mut head[..len - taken]) {
            Ok(0) | Err(_) => return false,
            Ok(n) => taken += n,
        }
    }
    true
}
