//! `floor`: the least a chat server can do for the scenarios on this machine, run as one more
//! system beside papo and its peers.
//!
//! It speaks the Channels peer's wire (`/ws/chat/?user=…&room=…&presence=…`, JSON frames) on
//! one thread pinned to the server's core, and does only what every scenario's figures need:
//! the WebSocket upgrade, the new member's presence written to its room, a send's JSON parsed
//! and the message written once and copied to each member's socket, the acknowledgement. It
//! checks no token or permission, keeps no history and has no heartbeats. With `persist` it
//! stores each batch of messages before fanning them out (group commit on a thread of its
//! own, as papo's writer): in a preallocated log file, `fdatasync`ed, the least durable
//! storage there is, or in SQLite's least tables ([`crate::floor_store`]). What it reaches
//! is what the core and the disk allow any server here; a target it cannot meet is beyond
//! this machine (with storage: for a server storing the same way).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use serde::Deserialize;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc};

use crate::floor_store::{FloorStore, Stored, committer};

/// The GUID RFC 6455 appends to the client's key.
const WS_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/// The most an upgrade request may take.
const MAX_REQUEST: usize = 8 * 1024;

/// One member's socket and what is queued for it.
struct Conn {
    stream: TcpStream,
    /// Frames not written yet. Frames queued for a socket before its turn to be written
    /// leave in one write, as papo's do when its thread is behind.
    out: RefCell<Vec<u8>>,
    /// In the writer's list, or being written by its own task (its socket was full).
    queued: Cell<bool>,
    /// Wakes the connection's task to write what its socket did not take.
    wake: Notify,
    writer: Rc<Writer>,
}

/// The sockets with frames queued, written in turn by one task.
#[derive(Default)]
struct Writer {
    due: RefCell<Vec<Rc<Conn>>>,
    wake: Notify,
}

/// The writer yields to the readers after this many sockets.
const WRITES_PER_TURN: usize = 256;

impl Conn {
    /// Queues `frame`; the writer task writes it.
    fn deliver(self: &Rc<Self>, frame: &[u8]) {
        self.out.borrow_mut().extend_from_slice(frame);
        if !self.queued.replace(true) {
            self.writer.due.borrow_mut().push(self.clone());
            self.writer.wake.notify_one();
        }
    }

    /// Writes what the socket takes now; true once nothing is left.
    fn write_now(&self) -> std::io::Result<bool> {
        let mut out = self.out.borrow_mut();
        while !out.is_empty() {
            match self.stream.try_write(&out) {
                Ok(n) => drop(out.drain(..n)),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        if out.capacity() > 4096 {
            *out = Vec::new();
        }
        self.queued.set(false);
        Ok(true)
    }

    /// Writes what is queued, waiting for the socket as needed.
    async fn flush(&self) -> std::io::Result<()> {
        while !self.write_now()? {
            self.stream.writable().await?;
        }
        Ok(())
    }
}

impl Writer {
    /// Writes every due socket in turn; a full one is left to its own task.
    async fn run(&self) {
        loop {
            self.wake.notified().await;
            loop {
                let due = std::mem::take(&mut *self.due.borrow_mut());
                if due.is_empty() {
                    break;
                }
                for (i, conn) in due.iter().enumerate() {
                    match conn.write_now() {
                        Ok(true) => {}
                        Ok(false) => conn.wake.notify_one(),
                        Err(_) => {
                            conn.out.borrow_mut().clear();
                            conn.queued.set(false);
                        }
                    }
                    if i % WRITES_PER_TURN == WRITES_PER_TURN - 1 {
                        tokio::task::yield_now().await;
                    }
                }
            }
        }
    }
}

/// A message waiting for its batch's `fdatasync`.
struct Pending {
    sender: Rc<Conn>,
    room: String,
    ack: u64,
    id: u64,
    frame: Vec<u8>,
}

/// Everything the connections share (one thread: no locks).
struct Floor {
    rooms: RefCell<HashMap<String, Vec<Rc<Conn>>>>,
    next_id: Cell<u64>,
    /// With persistence: messages sent since the last batch left for the disk.
    pending: RefCell<Vec<Pending>>,
    /// The batch the committer is writing and syncing.
    in_flight: RefCell<Vec<Pending>>,
    /// The committer's queue: batches to store.
    commit: Option<std::sync::mpsc::Sender<Vec<Stored>>>,
    /// Where every socket's reads land first (one thread: one buffer for all).
    scratch: RefCell<Vec<u8>>,
    writer: Rc<Writer>,
}

/// A send as the bench writes it.
#[derive(Deserialize)]
struct Send {
    #[serde(rename = "type")]
    kind: String,
    room: String,
    content: String,
    ack: u64,
}

/// A message as the members get it.
#[derive(serde::Serialize)]
struct Message<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: u64,
    room: &'a str,
    author: &'a str,
    content: &'a str,
    created_at_ms: u128,
}

/// Runs the floor server on `port` until killed.
pub fn serve(port: u16, persist: Option<PathBuf>, store: FloorStore) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        // The store is ready before the port opens: the bench starts once it does.
        let (durable_tx, durable_rx) = mpsc::unbounded_channel::<()>();
        let commit = match persist {
            Some(path) => Some(committer(store, path, durable_tx)?),
            None => None,
        };
        // papo's own listening socket (its backlog: S1 opens hundreds at once).
        let listener = papo_server::serve::listen(([127, 0, 0, 1], port).into())?;
        run(listener, commit, durable_rx).await
    })
}

/// Answers `listener`'s connections (on a `LocalSet`); with `commit`, messages are stored
/// before their fan-out and `durable` says when a batch is.
async fn run(
    listener: TcpListener,
    commit: Option<std::sync::mpsc::Sender<Vec<Stored>>>,
    mut durable: mpsc::UnboundedReceiver<()>,
) -> anyhow::Result<()> {
    let floor = Rc::new(Floor {
        rooms: RefCell::default(),
        next_id: Cell::new(1),
        pending: RefCell::default(),
        in_flight: RefCell::default(),
        commit,
        scratch: RefCell::new(vec![0; 64 * 1024]),
        writer: Rc::default(),
    });
    let writer = floor.writer.clone();
    tokio::task::spawn_local(async move { writer.run().await });
    let f = floor.clone();
    tokio::task::spawn_local(async move {
        while durable.recv().await.is_some() {
            let batch = std::mem::take(&mut *f.in_flight.borrow_mut());
            for p in &batch {
                f.publish(&p.room, &p.frame);
                p.sender.deliver(&ack_frame(p.ack, p.id));
            }
            f.start_commit();
        }
    });
    loop {
        let (s, _) = listener.accept().await?;
        let f = floor.clone();
        tokio::task::spawn_local(async move {
            let _ = session(&f, s).await;
        });
    }
}

impl Floor {
    /// Copies an encoded frame to every member of `room`.
    fn publish(&self, room: &str, frame: &[u8]) {
        if let Some(members) = self.rooms.borrow().get(room) {
            for m in members {
                m.deliver(frame);
            }
        }
    }

    /// Hands the pending messages to the committer unless a batch is already syncing.
    fn start_commit(&self) {
        let Some(commit) = &self.commit else { return };
        if !self.in_flight.borrow().is_empty() || self.pending.borrow().is_empty() {
            return;
        }
        let batch = std::mem::take(&mut *self.pending.borrow_mut());
        let stored = batch
            .iter()
            .map(|p| Stored {
                id: p.id,
                room: p.room.clone(),
                frame: p.frame.clone(),
            })
            .collect();
        *self.in_flight.borrow_mut() = batch;
        let _ = commit.send(stored);
    }

    /// A member's send: the message built once, then stored (with persistence) or published.
    fn send(&self, sender: &Rc<Conn>, author: &str, text: &[u8]) {
        let Ok(send) = serde_json::from_slice::<Send>(text) else {
            sender.deliver(&text_frame(br#"{"type":"error","error":"bad frame"}"#));
            return;
        };
        if send.kind != "send" || !valid_room(&send.room) {
            sender.deliver(&text_frame(br#"{"type":"error","error":"bad room"}"#));
            return;
        }
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        let message = Message {
            kind: "message",
            id,
            room: &send.room,
            author,
            content: &send.content,
            created_at_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis(),
        };
        let json = serde_json::to_vec(&message).expect("a message serializes");
        let frame = text_frame(&json);
        if self.commit.is_some() {
            self.pending.borrow_mut().push(Pending {
                sender: sender.clone(),
                room: send.room,
                ack: send.ack,
                id,
                frame,
            });
            self.start_commit();
        } else {
            self.publish(&send.room, &frame);
            sender.deliver(&ack_frame(send.ack, id));
        }
    }
}

/// One connection: the upgrade, then frames until it closes.
async fn session(floor: &Rc<Floor>, stream: TcpStream) -> anyhow::Result<()> {
    stream.set_nodelay(true)?;
    let mut stream = stream;
    let mut buf = Vec::with_capacity(1024);
    let head_end = loop {
        if let Some(at) = memchr::memmem::find(&buf, b"\r\n\r\n") {
            break at + 4;
        }
        anyhow::ensure!(buf.len() < MAX_REQUEST, "request too large");
        let mut chunk = [0u8; 1024];
        let n = stream.read(&mut chunk).await?;
        anyhow::ensure!(n > 0, "closed during the upgrade");
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buf[..head_end]).context("request not UTF-8")?;
    let upgrade = Upgrade::parse(head).context("not a WebSocket upgrade")?;
    // An idle session keeps no buffer.
    let rest = buf.split_off(head_end);
    drop(buf);
    let conn = Rc::new(Conn {
        stream,
        out: RefCell::default(),
        queued: Cell::new(false),
        wake: Notify::new(),
        writer: floor.writer.clone(),
    });
    if !upgrade.room.is_empty() {
        if !valid_room(&upgrade.room) {
            conn.deliver(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
            return conn.flush().await.map_err(Into::into);
        }
        if upgrade.announce {
            let presence =
                serde_json::json!({"type": "presence", "user": upgrade.user, "status": "online"});
            floor.publish(&upgrade.room, &text_frame(presence.to_string().as_bytes()));
        }
        let mut rooms = floor.rooms.borrow_mut();
        rooms
            .entry(upgrade.room.clone())
            .or_default()
            .push(conn.clone());
    }
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        accept_key(&upgrade.key)
    );
    conn.deliver(response.as_bytes());
    let result = frames(floor, &conn, &upgrade.user, rest).await;
    if let Some(members) = floor.rooms.borrow_mut().get_mut(&upgrade.room) {
        members.retain(|m| !Rc::ptr_eq(m, &conn));
    }
    result
}

/// Reads client frames (`buf` holds what came after the upgrade) and answers them.
async fn frames(
    floor: &Rc<Floor>,
    conn: &Rc<Conn>,
    user: &str,
    mut buf: Vec<u8>,
) -> anyhow::Result<()> {
    loop {
        let mut used = 0;
        while let Some((len, opcode, payload)) = unmask_frame(&mut buf[used..])? {
            match opcode {
                0x1 => floor.send(conn, user, payload),
                0x8 => return conn.flush().await.map_err(Into::into),
                0x9 => conn.deliver(&frame(0xA, payload)),
                _ => {}
            }
            used += len;
        }
        if used == buf.len() {
            buf = Vec::new();
        } else {
            buf.drain(..used);
        }
        tokio::select! {
            r = conn.stream.readable() => {
                r?;
                let mut scratch = floor.scratch.borrow_mut();
                match conn.stream.try_read(&mut scratch) {
                    Ok(0) => return Ok(()),
                    Ok(n) => buf.extend_from_slice(&scratch[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e.into()),
                }
            }
            _ = conn.wake.notified() => conn.flush().await?,
        }
    }
}

/// What the upgrade request asked for.
#[derive(Debug, PartialEq)]
struct Upgrade {
    user: String,
    room: String,
    announce: bool,
    key: String,
}

impl Upgrade {
    /// Parses `GET /ws/chat/?user=…&room=…&presence=… HTTP/1.1` and its key header.
    fn parse(head: &str) -> Option<Self> {
        let mut lines = head.split("\r\n");
        let target = lines.next()?.strip_prefix("GET ")?.split(' ').next()?;
        let query = target.split_once('?').map_or("", |(_, q)| q);
        let (mut user, mut room, mut announce) = (String::new(), String::new(), true);
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("user", v)) => user = v.to_string(),
                Some(("room", v)) => room = v.to_string(),
                Some(("presence", v)) => announce = v != "0",
                _ => {}
            }
        }
        let key = lines.find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("sec-websocket-key")
                .then(|| value.trim().to_string())
        })?;
        Some(Self {
            user,
            room,
            announce,
            key,
        })
    }
}

/// A Channels group name: ASCII letters, digits, `-`, `_` or `.`, fewer than 100.
fn valid_room(room: &str) -> bool {
    (1..100).contains(&room.len())
        && room
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The `Sec-WebSocket-Accept` value for a client's key.
fn accept_key(key: &str) -> String {
    use base64::Engine as _;
    use sha1::Digest as _;
    let digest = sha1::Sha1::new()
        .chain_update(key.as_bytes())
        .chain_update(WS_GUID.as_bytes())
        .finalize();
    base64::engine::general_purpose::STANDARD.encode(digest)
}

/// The acknowledgement of send `ack`, stored as message `id`.
fn ack_frame(ack: u64, id: u64) -> Vec<u8> {
    text_frame(format!(r#"{{"type":"ack","ack":{ack},"id":{id}}}"#).as_bytes())
}

fn text_frame(payload: &[u8]) -> Vec<u8> {
    frame(0x1, payload)
}

/// A server frame (unmasked, final).
fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 10);
    crate::net::ws::encode_unmasked(opcode, payload, &mut out);
    out
}

/// The first whole client frame in `data`, unmasked in place: (its length in `data`, its
/// opcode, its payload); `None` while it is incomplete. Client frames must be masked.
fn unmask_frame(data: &mut [u8]) -> anyhow::Result<Option<(usize, u8, &[u8])>> {
    if data.len() < 2 {
        return Ok(None);
    }
    anyhow::ensure!(data[1] & 0x80 != 0, "an unmasked client frame");
    let (len, mut at) = match data[1] & 0x7F {
        126 if data.len() >= 4 => (u16::from_be_bytes([data[2], data[3]]) as usize, 4),
        127 if data.len() >= 10 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(&data[2..10]);
            (usize::try_from(u64::from_be_bytes(b))?, 10)
        }
        126 | 127 => return Ok(None),
        n => (n as usize, 2),
    };
    if data.len() < at + 4 + len {
        return Ok(None);
    }
    let mask = [data[at], data[at + 1], data[at + 2], data[at + 3]];
    at += 4;
    for (i, b) in data[at..at + len].iter_mut().enumerate() {
        *b ^= mask[i % 4];
    }
    let opcode = data[0] & 0x0F;
    Ok(Some((at + len, opcode, &data[at..at + len])))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::ws::encode_masked;

    #[test]
    fn the_accept_key_is_rfc_6455s() {
        // The example of RFC 6455, section 1.3.
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn the_upgrade_request_gives_user_room_and_presence() {
        let head = "GET /ws/chat/?user=u1_2&room=r1&presence=0 HTTP/1.1\r\nHost: x\r\n\
                    sec-websocket-key: abc==\r\n\r\n";
        assert_eq!(
            Upgrade::parse(head),
            Some(Upgrade {
                user: "u1_2".into(),
                room: "r1".into(),
                announce: false,
                key: "abc==".into(),
            })
        );
        assert_eq!(Upgrade::parse("GET / HTTP/1.1\r\n\r\n"), None, "no key");
        assert!(!valid_room("r 1") && !valid_room("") && valid_room("r1"));
    }

    #[test]
    fn client_frames_unmask_and_wait_until_whole() {
        let payload = vec![b'x'; 300];
        let mut data = Vec::new();
        encode_masked(0x1, &payload, 0x1234_5678, &mut data);
        encode_masked(0x8, b"", 1, &mut data);
        let whole = data.len();
        assert_eq!(unmask_frame(&mut data[..10]).unwrap(), None);
        let (len, opcode, got) = unmask_frame(&mut data).unwrap().unwrap();
        assert_eq!((opcode, got), (0x1, &payload[..]));
        let (rest, opcode, got) = unmask_frame(&mut data[len..]).unwrap().unwrap();
        assert_eq!((len + rest, opcode, got.len()), (whole, 0x8, 0));
        assert!(unmask_frame(&mut [0x81, 0x01, b'a']).is_err(), "unmasked");
    }

    #[test]
    fn server_frames_carry_their_length() {
        assert_eq!(frame(0x1, b"hi"), [0x81, 2, b'h', b'i']);
        let long = frame(0x1, &[0; 300]);
        assert_eq!((&long[..4], long.len()), (&[0x81, 126, 1, 44][..], 304));
        let ack = ack_frame(8, 3);
        assert_eq!(
            crate::proto::parse_ack(crate::proto::Wire::Channels, &ack[2..]),
            Some(8)
        );
    }

    /// Starts the floor (storing nothing) on a free port and returns its address.
    async fn started() -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // Nothing is stored, so nothing is ever said durable.
        let (_, durable) = mpsc::unbounded_channel();
        tokio::task::spawn_local(run(listener, None, durable));
        addr
    }

    /// Sends `path`'s upgrade request and returns the response's head.
    async fn upgrade(addr: std::net::SocketAddr, path: &str) -> (TcpStream, String) {
        use tokio::io::AsyncWriteExt as _;
        let mut s = TcpStream::connect(addr).await.unwrap();
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let mut head = Vec::new();
        while memchr::memmem::find(&head, b"\r\n\r\n").is_none() {
            let mut b = [0u8; 1];
            assert_eq!(s.read(&mut b).await.unwrap(), 1, "closed: {head:?}");
            head.push(b[0]);
        }
        (s, String::from_utf8(head).unwrap())
    }

    /// Reads one whole (short) server frame's payload.
    async fn read_text(s: &mut TcpStream) -> String {
        let mut h = [0u8; 2];
        s.read_exact(&mut h).await.unwrap();
        assert_eq!(
            (h[0], h[1] & 0x80),
            (0x81, 0),
            "a final unmasked text frame"
        );
        let mut payload = vec![0u8; (h[1] & 0x7F) as usize];
        s.read_exact(&mut payload).await.unwrap();
        String::from_utf8(payload).unwrap()
    }

    async fn send_text(s: &mut TcpStream, text: &str) {
        use tokio::io::AsyncWriteExt as _;
        let mut out = Vec::new();
        encode_masked(0x1, text.as_bytes(), 7, &mut out);
        s.write_all(&out).await.unwrap();
    }

    #[tokio::test]
    async fn a_send_reaches_the_room_and_is_acknowledged_and_bad_input_is_refused() {
        tokio::task::LocalSet::new()
            .run_until(async {
                let addr = started().await;
                let (_, head) = upgrade(addr, "/ws/chat/?user=u1&room=bad%20room").await;
                assert!(head.starts_with("HTTP/1.1 403"), "{head}");

                let (mut member, head) = upgrade(addr, "/ws/chat/?user=m&room=r1").await;
                assert!(head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{head}");
                let (mut sender, _) = upgrade(addr, "/ws/chat/?user=s&room=").await;

                send_text(
                    &mut sender,
                    r#"{"type":"send","room":"r1","content":"hi","ack":4}"#,
                )
                .await;
                let ack = read_text(&mut sender).await;
                assert_eq!(
                    crate::proto::parse_ack(crate::proto::Wire::Channels, ack.as_bytes()),
                    Some(4)
                );
                let got: serde_json::Value =
                    serde_json::from_str(&read_text(&mut member).await).unwrap();
                assert_eq!(
                    (got["author"].as_str(), got["content"].as_str()),
                    (Some("s"), Some("hi"))
                );

                send_text(&mut sender, "not json").await;
                assert!(read_text(&mut sender).await.contains("bad frame"));
                send_text(
                    &mut sender,
                    r#"{"type":"send","room":"r 1","content":"x","ack":5}"#,
                )
                .await;
                assert!(read_text(&mut sender).await.contains("bad room"));
            })
            .await;
    }
}
