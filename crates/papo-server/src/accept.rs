//! The listener the server accepts on. A new connection whose first bytes are a complete
//! WebSocket upgrade to the gateway goes straight to the gateway; every other connection,
//! and any upgrade that arrives in pieces, goes to axum as before.
//!
//! Through hyper and the router an upgrade cost about a sixth of the server's core per
//! session opened (S1's profile: the request parsed into a `Request`, the router, five
//! layers of middleware, the upgrade's hand-over), and hyper kept the upgraded socket in a
//! box of its own for the session's life. Here the request is read and parsed in place and
//! the socket itself goes to the gateway's driver; any other connection goes to axum with
//! the bytes read from it first ([`Prefixed`]).
//!
//! One read, not a `peek` and then a read: S1 counted four `recvfrom`s per session on the
//! server (the peek, the read, and the driver's first read, which found nothing, before the
//! close) against the floor's three.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use axum::serve::Listener;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
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
    /// Accepted sockets come with `TCP_NODELAY` already (see [`nodelay_on_listener`]).
    nodelay_inherited: bool,
    state: AppState,
    to_http_tx: mpsc::Sender<(Prefixed, SocketAddr)>,
    to_http: mpsc::Receiver<(Prefixed, SocketAddr)>,
}

impl GatewayFirst {
    /// Accepts on `listener` for `state`'s gateway and router.
    pub fn new(listener: TcpListener, state: AppState) -> Self {
        let (to_http_tx, to_http) = mpsc::channel(QUEUED);
        Self {
            nodelay_inherited: nodelay_on_listener(&listener),
            listener,
            state,
            to_http_tx,
            to_http,
        }
    }
}

impl Listener for GatewayFirst {
    type Io = Prefixed;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Prefixed, SocketAddr) {
        loop {
            tokio::select! {
                Some(conn) = self.to_http.recv() => return conn,
                (tcp, peer) = Listener::accept(&mut self.listener) => {
                    // No Nagle: a gateway socket writes small frames one after another (an
                    // event, then the answer to a send); with Nagle the second waits for
                    // the peer's delayed ACK (~40 ms).
                    if !self.nodelay_inherited
                        && let Err(err) = tcp.set_nodelay(true)
                    {
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

/// Sets `TCP_NODELAY` on the listening socket; true if the sockets it accepts have it too.
///
/// Linux copies the listener's `TCP_NODELAY` into every socket it accepts, which saves a
/// `setsockopt` per connection (one of the ~8 system calls of an S1 session). Elsewhere each
/// accepted socket is set on its own.
#[cfg(target_os = "linux")]
fn nodelay_on_listener(listener: &TcpListener) -> bool {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    // SAFETY: the listener's descriptor is open for the call, and the option's value is the
    // `c_int` whose size is passed.
    let set = unsafe {
        libc::setsockopt(
            listener.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    set == 0
}

/// Sets `TCP_NODELAY` on the listening socket; true if the sockets it accepts have it too.
#[cfg(not(target_os = "linux"))]
fn nodelay_on_listener(_: &TcpListener) -> bool {
    false
}

/// Reads a new connection's first bytes: a whole gateway upgrade request is answered here,
/// anything else queued for axum with the bytes read.
///
/// The bytes are read in a plain function, between awaits: a buffer held across an await
/// would make every connection's task 4 KiB larger, copied whole when spawned (2 % of S1's
/// server CPU in `memcpy` under `tokio::spawn`).
async fn sort(
    mut tcp: TcpStream,
    peer: SocketAddr,
    state: AppState,
    to_http: mpsc::Sender<(Prefixed, SocketAddr)>,
) {
    let deadline = tokio::time::Instant::now() + FIRST_BYTES;
    let first = loop {
        match tokio::time::timeout_at(deadline, tcp.readable()).await {
            Ok(Ok(())) => {}
            _ => break First::Http(Box::default()),
        }
        match read_first(&mut tcp, state.config.trust_proxy) {
            Poll::Ready(first) => break first,
            // Woken without bytes after all: wait again.
            Poll::Pending => continue,
        }
    };
    let seen_at = std::time::Instant::now();
    match first {
        First::Gateway(upgrade) => gateway::upgrade_direct(&state, tcp, peer, upgrade, seen_at),
        First::Http(read) => {
            let _ = to_http.send((Prefixed { tcp, read, at: 0 }, peer)).await;
        }
    }
}

/// What a connection's first read held.
enum First {
    /// A whole gateway upgrade request and nothing behind it.
    Gateway(gateway::DirectUpgrade),
    /// Anything else, for axum: the bytes read (none after an error or the peer's end),
    /// including a gateway upgrade with a frame already behind it, which axum's upgrade
    /// hands to the gateway with the frame.
    Http(Box<[u8]>),
}

/// Reads what the socket holds (up to [`HEAD_MAX`] bytes); `Pending` if nothing has arrived
/// yet. Through `AsyncRead`: a read that leaves room in the buffer tells tokio the socket is
/// drained, so the driver's first read waits for the next bytes instead of finding none.
fn read_first(tcp: &mut TcpStream, trust_proxy: bool) -> Poll<First> {
    let mut head = [std::mem::MaybeUninit::<u8>::uninit(); HEAD_MAX];
    let mut buf = ReadBuf::uninit(&mut head);
    // Polled once, right after `readable()`; on `Pending` the caller waits on `readable()`
    // again, which registers its own waker.
    let mut cx = Context::from_waker(Waker::noop());
    match Pin::new(tcp).poll_read(&mut cx, &mut buf) {
        Poll::Pending => Poll::Pending,
        Poll::Ready(Ok(())) => {
            let read = buf.filled();
            Poll::Ready(match gateway::direct_upgrade(read, trust_proxy) {
                Some(upgrade) if upgrade.len == read.len() => First::Gateway(upgrade),
                _ => First::Http(read.into()),
            })
        }
        Poll::Ready(Err(_)) => Poll::Ready(First::Http(Box::default())),
    }
}

/// A connection for axum: the bytes read from it while it was sorted, then the socket.
pub struct Prefixed {
    tcp: TcpStream,
    /// Read from the socket already; empty once given out.
    read: Box<[u8]>,
    /// How much of `read` has been given out.
    at: usize,
}

impl AsyncRead for Prefixed {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.at < this.read.len() {
            let n = buf.remaining().min(this.read.len() - this.at);
            buf.put_slice(&this.read[this.at..this.at + n]);
            this.at += n;
            if this.at == this.read.len() {
                (this.read, this.at) = (Box::default(), 0);
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Prefixed {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn accepted_sockets_have_nodelay_whether_inherited_or_set() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let inherited = nodelay_on_listener(&listener);
        assert_eq!(inherited, cfg!(target_os = "linux"));
        let _client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (tcp, _) = listener.accept().await.unwrap();
        if !inherited {
            tcp.set_nodelay(true).unwrap();
        }
        assert!(tcp.nodelay().unwrap(), "no Nagle on an accepted socket");
        // A listener without it gives sockets without it: the check above can fail.
        let plain = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let _client = TcpStream::connect(plain.local_addr().unwrap())
            .await
            .unwrap();
        let (tcp, _) = plain.accept().await.unwrap();
        assert!(!tcp.nodelay().unwrap());
    }

    #[tokio::test]
    async fn a_prefixed_connection_gives_the_bytes_read_first_then_the_socket() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (tcp, _) = listener.accept().await.unwrap();
        let mut conn = Prefixed {
            tcp,
            read: b"GET / HTTP/1.1\r\n".to_vec().into(),
            at: 0,
        };
        client.write_all(b"Host: h\r\n\r\n").await.unwrap();
        client.shutdown().await.unwrap();
        // Small reads: the bytes read first come out in pieces, in order.
        let mut got = Vec::new();
        let mut piece = [0u8; 5];
        loop {
            let n = conn.read(&mut piece).await.unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&piece[..n]);
        }
        assert_eq!(got, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        assert!(conn.read.is_empty(), "given out whole");
        // Writes go to the socket.
        conn.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await.unwrap();
        let mut answer = [0u8; 19];
        client.read_exact(&mut answer).await.unwrap();
        assert_eq!(&answer, b"HTTP/1.1 200 OK\r\n\r\n");
    }
}
