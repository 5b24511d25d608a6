//! A small WebSocket client made for load generation: thousands of connections in one
//! process with little memory each and no work beyond finding the frames.
//!
//! Server frames are read into one buffer per thread, shared by its connections and parsed
//! before the next await (nothing kept between reads but an incomplete frame's tail);
//! client frames are masked as RFC 6455 requires.

use std::cell::RefCell;
use std::io::ErrorKind;
use std::mem::MaybeUninit;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::{Poll, Waker};

use anyhow::{Context, bail};
use tokio::io::{AsyncRead, AsyncWriteExt, ReadBuf};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpSocket, TcpStream};

/// Bytes read per `read` call.
const READ_CHUNK: usize = 16 * 1024;

thread_local! {
    /// The thread's read buffer: a read fills it and its frames are handled before the
    /// next await, so no connection holds one. Read into without being zeroed first: it
    /// replaced a zeroed 16 KiB on the stack for every read, and a 2 KiB one that took
    /// papo's handshake answer (`101`, `hello`, `ready`) in two reads.
    static SCRATCH: RefCell<Box<[MaybeUninit<u8>]>> =
        RefCell::new(Box::new_uninit_slice(READ_CHUNK));
}

/// What one read of a socket gave.
enum Read<T> {
    /// Nothing to read after all (a stale readiness): wait again.
    Again,
    /// The peer closed.
    Closed,
    /// What the bytes read made.
    Got(T),
}

/// Reads what `stream` holds into the thread's buffer and passes it to `use_bytes`.
///
/// Through `AsyncRead`, not `try_read`: tokio takes a read that did not fill the buffer as
/// proof that the socket is drained and waits for the next event, where after `try_read`
/// the next read is a system call that finds nothing (one per frame received).
fn read_with<T>(
    stream: &mut (impl AsyncRead + Unpin),
    use_bytes: impl FnOnce(&[u8]) -> anyhow::Result<T>,
) -> anyhow::Result<Read<T>> {
    SCRATCH.with_borrow_mut(|buf| {
        let mut read = ReadBuf::uninit(buf);
        // Polled once, right after `readable()`: a `Pending` is a stale readiness, and the
        // caller waits for `readable()` again, which registers its own waker.
        let mut cx = std::task::Context::from_waker(Waker::noop());
        match Pin::new(stream).poll_read(&mut cx, &mut read) {
            Poll::Pending => Ok(Read::Again),
            Poll::Ready(Err(e)) => Err(e.into()),
            Poll::Ready(Ok(())) if read.filled().is_empty() => Ok(Read::Closed),
            Poll::Ready(Ok(())) => use_bytes(read.filled()).map(Read::Got),
        }
    })
}

/// A frame larger than this is a protocol error here (the bench expects small frames).
const MAX_FRAME: usize = 16 * 1024 * 1024;

/// An open WebSocket.
pub struct Ws {
    /// The reading side.
    read: OwnedReadHalf,
    /// The writing side, shared with the handles [`Ws::writer`] gives.
    write: FrameWriter,
    /// Bytes of an incomplete frame (empty almost always).
    tail: Vec<u8>,
}

/// Writes whole client frames to a WebSocket. Clones share the socket: the task reading the
/// connection and a sender writing to it directly (without waking that task) both hold one,
/// and the lock keeps one writer's frame whole when a write takes more than one call.
#[derive(Clone)]
pub struct FrameWriter(Arc<tokio::sync::Mutex<WriteSide>>);

/// What a [`FrameWriter`]'s lock guards.
struct WriteSide {
    half: OwnedWriteHalf,
    /// Masking key source (any value is valid; it only has to vary).
    mask: u32,
    /// The frame being written, kept for the next one (up to [`KEPT_FRAME`]).
    out: Vec<u8>,
}

impl FrameWriter {
    fn new(half: OwnedWriteHalf, mask: u32) -> Self {
        Self(Arc::new(tokio::sync::Mutex::new(WriteSide {
            half,
            mask,
            out: Vec::new(),
        })))
    }

    /// Sends a text frame.
    pub async fn send_text(&self, payload: &[u8]) -> anyhow::Result<()> {
        self.send(0x1, payload).await
    }

    /// Sends one frame of `opcode`, masked.
    async fn send(&self, opcode: u8, payload: &[u8]) -> anyhow::Result<()> {
        let mut side = self.0.lock().await;
        let side = &mut *side;
        side.mask = side
            .mask
            .wrapping_mul(1_664_525)
            .wrapping_add(1_013_904_223);
        side.out.clear();
        encode_masked(opcode, payload, side.mask, &mut side.out);
        side.half.write_all(&side.out).await?;
        if side.out.capacity() > KEPT_FRAME {
            side.out = Vec::new();
        }
        Ok(())
    }
}

/// The largest frame buffer a [`FrameWriter`] keeps between frames (the bench's are a few
/// hundred bytes).
const KEPT_FRAME: usize = 64 * 1024;

/// Source ports handed out by [`source_port`] (explicit, outside the kernel's ephemeral
/// range).
const SOURCE_PORTS: std::ops::RangeInclusive<u16> = 1_024..=32_767;
/// Attempts at a source port before giving up on a connection.
const PORT_ATTEMPTS: usize = 16;

/// The next source port of this process, in turn. Each worker has a source address of its
/// own, so turns only collide after a full cycle, and then with a closed connection.
fn source_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let (start, end) = (*SOURCE_PORTS.start() as u32, *SOURCE_PORTS.end() as u32);
    // Start each process somewhere else, so that back-to-back runs use other ports first.
    let offset = std::process::id();
    let turn = NEXT.fetch_add(1, Ordering::Relaxed).wrapping_add(offset);
    (start + turn % (end - start + 1)) as u16
}

/// Opens a TCP connection from `source` to `server`.
///
/// With a source address the port is chosen here rather than by `bind(ip, 0)`: the kernel
/// finds a free port by scanning every socket bound to the address, and with the tens of
/// thousands left in TIME_WAIT by a previous run that scan made this generator, not the
/// server, the bottleneck (seen: 600 instead of 2,500 connects/s, 20% of a core in
/// `inet_bind2_bucket_find`). `SO_REUSEADDR` lets a port in TIME_WAIT be taken again.
pub async fn tcp(source: Option<IpAddr>, server: SocketAddr) -> anyhow::Result<TcpStream> {
    let new_socket = || {
        if server.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }
    };
    let Some(ip) = source else {
        let stream = new_socket()?
            .connect(server)
            .await
            .with_context(|| format!("connecting to {server}"))?;
        stream.set_nodelay(true)?;
        return Ok(stream);
    };
    let mut attempt = 0;
    loop {
        attempt += 1;
        let socket = new_socket()?;
        socket.set_reuseaddr(true)?;
        let port = source_port();
        let connected = match socket.bind(SocketAddr::new(ip, port)) {
            Ok(()) => socket.connect(server).await,
            Err(err) => Err(err),
        };
        match connected {
            Ok(stream) => {
                stream.set_nodelay(true)?;
                return Ok(stream);
            }
            // That port is still taken towards this server: take the next one.
            Err(err)
                if attempt < PORT_ATTEMPTS
                    && matches!(
                        err.kind(),
                        ErrorKind::AddrInUse | ErrorKind::AddrNotAvailable
                    ) => {}
            Err(err) => {
                return Err(err).with_context(|| format!("connecting {ip}:{port} to {server}"));
            }
        }
    }
}

impl Ws {
    /// Connects and performs the opening handshake for `path` (with its query string).
    pub async fn connect(
        source: Option<IpAddr>,
        server: SocketAddr,
        path: &str,
    ) -> anyhow::Result<Self> {
        Self::connect_offering(source, server, path, None).await
    }

    /// [`Ws::connect`], offering `protocols` (a `Sec-WebSocket-Protocol` value) if given.
    pub async fn connect_offering(
        source: Option<IpAddr>,
        server: SocketAddr,
        path: &str,
        protocols: Option<&str>,
    ) -> anyhow::Result<Self> {
        let mut stream = tcp(source, server).await?;
        let offer = protocols
            .map(|p| format!("Sec-WebSocket-Protocol: {p}\r\n"))
            .unwrap_or_default();
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {server}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: cGFwby1iZW5jaC1rZXkxMg==\r\n\
             {offer}Sec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        // The answer's head, kept only if it arrives in pieces.
        let mut head: Vec<u8> = Vec::new();
        let tail = loop {
            stream.readable().await?;
            let read = read_with(&mut stream, |bytes| {
                let whole = if head.is_empty() {
                    bytes
                } else {
                    head.extend_from_slice(bytes);
                    &head
                };
                let Some(end) = find(whole, b"\r\n\r\n") else {
                    if head.is_empty() {
                        head.extend_from_slice(bytes);
                    }
                    return Ok(None);
                };
                if !whole.starts_with(b"HTTP/1.1 101") {
                    let line = whole.split(|b| *b == b'\r').next().unwrap_or_default();
                    bail!("upgrade refused: {}", String::from_utf8_lossy(line));
                }
                // Frames sent behind the answer (papo's `hello` and `ready`) stay for
                // `read_frames`.
                Ok(Some(whole[end + 4..].to_vec()))
            })?;
            match read {
                Read::Closed => bail!("closed during the WebSocket handshake"),
                Read::Got(Some(tail)) => break tail,
                Read::Again | Read::Got(None) => {}
            }
            if head.len() > 16 * 1024 {
                bail!("handshake answer too long");
            }
        };
        Ok(Self::open(stream, tail, rand_seed()))
    }

    /// The WebSocket on `stream`, its handshake done, with `tail` read past it.
    fn open(stream: TcpStream, tail: Vec<u8>, mask: u32) -> Self {
        let (read, write) = stream.into_split();
        Self {
            read,
            write: FrameWriter::new(write, mask),
            tail,
        }
    }

    /// A handle that writes to this socket from elsewhere (the socket stays open for
    /// writing while one is held).
    pub fn writer(&self) -> FrameWriter {
        self.write.clone()
    }

    /// Sends a text frame.
    pub async fn send_text(&mut self, payload: &[u8]) -> anyhow::Result<()> {
        self.write.send_text(payload).await
    }

    /// Reads until at least one frame is complete and calls `on_text` for every complete
    /// text frame. Returns the ping payloads to answer ([`Ws::send_pongs`]), or `None` once
    /// the connection is closed. Cancel-safe: it only waits in `readable()`, and bytes are
    /// consumed only by a read that completes.
    pub async fn read_frames(
        &mut self,
        mut on_text: impl FnMut(&[u8]),
    ) -> anyhow::Result<Option<Vec<Vec<u8>>>> {
        self.read_until(
            |t| {
                on_text(t);
                true
            },
            true,
        )
        .await
    }

    /// Reads frames as they come, calling `on_text` for every complete text frame, and
    /// returns only when pings need an answer ([`Ws::send_pongs`]), when `on_text` returned
    /// `true` for a frame of the last read (its caller has something to write), or with
    /// `None` once the connection is closed. Cancel-safe as [`Ws::read_frames`] is: a frame
    /// handled stays handled.
    ///
    /// For a connection that mostly listens: after a wake-up it reads until the socket is
    /// empty and then waits in the same call, so a `select!` around it is not left and
    /// entered again (polling each of its other branches twice) for every frame.
    pub async fn read_on(
        &mut self,
        on_text: impl FnMut(&[u8]) -> bool,
    ) -> anyhow::Result<Option<Vec<Vec<u8>>>> {
        self.read_until(on_text, false).await
    }

    /// [`Ws::read_frames`] (`after_any`) or [`Ws::read_on`].
    async fn read_until(
        &mut self,
        mut on_text: impl FnMut(&[u8]) -> bool,
        after_any: bool,
    ) -> anyhow::Result<Option<Vec<Vec<u8>>>> {
        let mut stop = false;
        // Frames already buffered (e.g. right after the handshake) come first.
        if !self.tail.is_empty() {
            let tail = std::mem::take(&mut self.tail);
            let (used, pongs, open) = parse_frames(&tail, &mut |t| stop |= on_text(t))?;
            self.tail = tail[used..].to_vec();
            if !open {
                return Ok(None);
            }
            if used > 0 && (after_any || stop || !pongs.is_empty()) {
                return Ok(Some(pongs));
            }
        }
        loop {
            self.read.readable().await?;
            let tail = &mut self.tail;
            let read = read_with(&mut self.read, |bytes| {
                let mut on_text = |t: &[u8]| stop |= on_text(t);
                if tail.is_empty() {
                    let (used, pongs, open) = parse_frames(bytes, &mut on_text)?;
                    tail.extend_from_slice(&bytes[used..]);
                    Ok((used, pongs, open))
                } else {
                    tail.extend_from_slice(bytes);
                    let (used, pongs, open) = parse_frames(tail, &mut on_text)?;
                    tail.drain(..used);
                    Ok((used, pongs, open))
                }
            })?;
            let (used, pongs, open) = match read {
                Read::Again => continue,
                Read::Closed => return Ok(None),
                Read::Got(parsed) => parsed,
            };
            if self.tail.is_empty() && self.tail.capacity() > 0 {
                self.tail = Vec::new();
            }
            if !open {
                return Ok(None);
            }
            if used > 0 && (after_any || stop || !pongs.is_empty()) {
                return Ok(Some(pongs));
            }
        }
    }

    /// Answers pings.
    pub async fn send_pongs(&mut self, pongs: Vec<Vec<u8>>) -> anyhow::Result<()> {
        for p in pongs {
            self.write.send(0xA, &p).await?;
        }
        Ok(())
    }

    /// Reads until `want(frame)` holds for a text frame, answering pings; other frames are
    /// skipped. Fails if the connection closes first.
    pub async fn wait_for(&mut self, mut want: impl FnMut(&[u8]) -> bool) -> anyhow::Result<()> {
        let mut found = false;
        while !found {
            let read = self
                .read_frames(|t| {
                    if !found && want(t) {
                        found = true;
                    }
                })
                .await?;
            match read {
                Some(pongs) => self.send_pongs(pongs).await?,
                None if !found => bail!("closed before the expected frame"),
                None => {}
            }
        }
        Ok(())
    }
}

fn rand_seed() -> u32 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(7);
    t | 1
}

/// Position of `needle` in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

/// Appends a final frame's header: the opcode, the mask bit and the payload's length.
fn push_header(opcode: u8, len: usize, masked: bool, out: &mut Vec<u8>) {
    let mask_bit = if masked { 0x80 } else { 0 };
    out.push(0x80 | opcode);
    if len < 126 {
        out.push(mask_bit | len as u8);
    } else if len <= u16::MAX as usize {
        out.push(mask_bit | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(mask_bit | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
}

/// Appends a server frame (final, unmasked).
pub fn encode_unmasked(opcode: u8, payload: &[u8], out: &mut Vec<u8>) {
    push_header(opcode, payload.len(), false, out);
    out.extend_from_slice(payload);
}

/// Appends a masked client frame.
pub fn encode_masked(opcode: u8, payload: &[u8], mask: u32, out: &mut Vec<u8>) {
    push_header(opcode, payload.len(), true, out);
    let key = mask.to_be_bytes();
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
}

/// Parses complete server frames at the start of `data`: calls `on_text` for text frames,
/// collects ping payloads. Returns (bytes used, pings to answer, still open).
fn parse_frames(
    data: &[u8],
    on_text: &mut impl FnMut(&[u8]),
) -> anyhow::Result<(usize, Vec<Vec<u8>>, bool)> {
    let mut at = 0;
    let mut pongs = Vec::new();
    while let Some((opcode, start, end)) = frame_at(&data[at..])? {
        let payload = &data[at + start..at + end];
        at += end;
        match opcode {
            0x1 => on_text(payload),
            0x8 => return Ok((at, pongs, false)),
            0x9 => pongs.push(payload.to_vec()),
            // Binary, pong and continuation frames carry nothing the bench reads.
            _ => {}
        }
    }
    Ok((at, pongs, true))
}

/// The frame at the start of `data`: (opcode, payload start, frame end), or `None` if it is
/// incomplete.
pub fn frame_at(data: &[u8]) -> anyhow::Result<Option<(u8, usize, usize)>> {
    if data.len() < 2 {
        return Ok(None);
    }
    let opcode = data[0] & 0x0F;
    if data[1] & 0x80 != 0 {
        bail!("the server masked a frame");
    }
    let (len, header) = match data[1] & 0x7F {
        126 if data.len() >= 4 => (u16::from_be_bytes([data[2], data[3]]) as usize, 4),
        127 if data.len() >= 10 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(&data[2..10]);
            (u64::from_be_bytes(b) as usize, 10)
        }
        126 | 127 => return Ok(None),
        n => (n as usize, 2),
    };
    if len > MAX_FRAME {
        bail!("frame of {len} bytes");
    }
    if data.len() < header + len {
        return Ok(None);
    }
    Ok(Some((opcode, header, header + len)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn server_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_unmasked(opcode, payload, &mut out);
        out
    }

    #[test]
    fn parses_complete_frames_and_keeps_the_tail() {
        let big = vec![b'x'; 70_000];
        let mut data = server_frame(1, b"hello");
        data.extend(server_frame(9, b"pp"));
        data.extend(server_frame(1, &big));
        data.extend(server_frame(1, b"partial")[..4].to_vec());
        let mut seen = Vec::new();
        let (used, pongs, open) = parse_frames(&data, &mut |t| seen.push(t.len())).unwrap();
        assert_eq!(seen, vec![5, 70_000]);
        assert_eq!(pongs, vec![b"pp".to_vec()]);
        assert!(open);
        assert_eq!(data.len() - used, 4, "the partial frame stays");
    }

    #[test]
    fn close_frames_end_the_stream_and_masked_server_frames_are_refused() {
        let mut data = server_frame(8, &[3, 232]);
        data.extend(server_frame(1, b"after"));
        let mut n = 0;
        let (_, _, open) = parse_frames(&data, &mut |_| n += 1).unwrap();
        assert!(!open);
        assert_eq!(n, 0);
        assert!(parse_frames(&[0x81, 0x85, 0, 0, 0, 0, 1], &mut |_| {}).is_err());
    }

    /// A [`Ws`] (its handshake taken as done, masking from `mask`) and the server's end.
    async fn open_pair(mask: u32) -> (Ws, TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        (Ws::open(stream, Vec::new(), mask), server)
    }

    /// `read_on` stays in the call across wake-ups until a frame asks to stop, a ping needs
    /// its pong or the peer closes; `read_frames` returns after the first read with frames.
    #[tokio::test]
    async fn read_on_returns_only_to_write_or_at_the_close() {
        let (mut ws, mut server) = open_pair(1).await;
        let writer = tokio::spawn(async move {
            let mut two = server_frame(1, b"a");
            two.extend(server_frame(1, b"b"));
            server.write_all(&two).await.unwrap();
            tokio::time::sleep(Duration::from_millis(30)).await;
            server.write_all(&server_frame(1, b"c")).await.unwrap();
            tokio::time::sleep(Duration::from_millis(30)).await;
            server.write_all(&server_frame(1, b"stop")).await.unwrap();
            tokio::time::sleep(Duration::from_millis(30)).await;
            server.write_all(&server_frame(9, b"pp")).await.unwrap();
            tokio::time::sleep(Duration::from_millis(30)).await;
            let mut two = server_frame(1, b"x");
            two.extend(server_frame(1, b"y"));
            server.write_all(&two).await.unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
            server.write_all(&server_frame(1, b"z")).await.unwrap();
            tokio::time::sleep(Duration::from_millis(30)).await;
        });
        let mut seen: Vec<Vec<u8>> = Vec::new();
        let pongs = ws
            .read_on(|t| {
                seen.push(t.to_vec());
                t == b"stop"
            })
            .await
            .unwrap();
        assert_eq!(pongs, Some(vec![]));
        assert_eq!(seen, [&b"a"[..], b"b", b"c", b"stop"]);
        let pongs = ws
            .read_on(|t| {
                seen.push(t.to_vec());
                false
            })
            .await
            .unwrap();
        assert_eq!(pongs, Some(vec![b"pp".to_vec()]), "a ping ends the call");
        assert_eq!(seen.len(), 4);
        let pongs = ws.read_frames(|t| seen.push(t.to_vec())).await.unwrap();
        assert_eq!(pongs, Some(vec![]));
        assert_eq!(
            seen[4..],
            [&b"x"[..], b"y"],
            "read_frames returns after one read"
        );
        let end = ws
            .read_on(|t| {
                seen.push(t.to_vec());
                false
            })
            .await
            .unwrap();
        assert_eq!(end, None, "the close ends the call");
        assert_eq!(seen[6..], [&b"z"[..]]);
        writer.await.unwrap();
    }

    #[test]
    fn client_frames_are_masked_and_unmask_to_the_payload() {
        for len in [3usize, 200, 70_000] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let mut out = Vec::new();
            encode_masked(1, &payload, 0xDEAD_BEEF, &mut out);
            assert_eq!(out[0], 0x81);
            assert!(out[1] & 0x80 != 0, "mask bit");
            let header = match out[1] & 0x7F {
                126 => 4,
                127 => 10,
                _ => 2,
            };
            let key = &out[header..header + 4];
            let unmasked: Vec<u8> = out[header + 4..]
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ key[i % 4])
                .collect();
            assert_eq!(unmasked, payload);
        }
    }

    /// Client frames in `data`: (opcode, unmasked payload) each, and the bytes left over.
    fn client_frames(mut data: &[u8]) -> Vec<(u8, Vec<u8>)> {
        let mut frames = Vec::new();
        while !data.is_empty() {
            assert_eq!(data[1] & 0x80, 0x80, "a client frame is masked");
            let (len, at) = match data[1] & 0x7f {
                126 => (u16::from_be_bytes([data[2], data[3]]) as usize, 4),
                127 => (
                    u64::from_be_bytes(data[2..10].try_into().unwrap()) as usize,
                    10,
                ),
                n => (n as usize, 2),
            };
            let (mask, body) = (&data[at..at + 4], &data[at + 4..at + 4 + len]);
            let payload = body
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ mask[i % 4])
                .collect();
            frames.push((data[0] & 0x0f, payload));
            data = &data[at + 4 + len..];
        }
        frames
    }

    /// A socket's writer handles share it a frame at a time: frames larger than the socket
    /// takes at once, written from two handles together, still arrive whole.
    #[tokio::test]
    async fn frames_from_two_writers_arrive_whole() {
        let (mut ws, mut server) = open_pair(7).await;
        let other = ws.writer();
        let (a, b) = (vec![b'a'; 8 << 20], vec![b'b'; 8 << 20]);
        let reader = tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            let mut all = Vec::new();
            server.read_to_end(&mut all).await.unwrap();
            all
        });
        let (one, two) = tokio::join!(ws.send_text(&a), other.send_text(&b));
        one.unwrap();
        two.unwrap();
        ws.send_pongs(vec![b"pp".to_vec()]).await.unwrap();
        drop((ws, other));
        let frames = client_frames(&reader.await.unwrap());
        assert_eq!(frames.len(), 3);
        let mut texts: Vec<&Vec<u8>> = frames[..2].iter().map(|(_, p)| p).collect();
        texts.sort();
        assert_eq!(texts, [&a, &b]);
        assert_eq!(frames[2], (0xA, b"pp".to_vec()));
    }
}
