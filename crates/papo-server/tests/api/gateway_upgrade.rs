//! The gateway's upgrade over raw TCP: a request read whole from the connection's first
//! bytes is answered by the gateway itself, anything else by the router, and both lead to
//! the same session.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::{Backend, TestApp, access};
use crate::ws::{End, Ws};

/// RFC 6455's example key and the accept value it must give.
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

fn request(version: u8) -> String {
    format!(
        "GET /api/v1/gateway HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: {version}\r\n\r\n"
    )
}

/// Reads a response head byte by byte (so that no frame behind it is taken).
async fn response_head(tcp: &mut TcpStream) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(tcp.read_u8().await.expect("response head"));
    }
    String::from_utf8(head).expect("utf-8 head")
}

/// A client text frame, masked as clients must send them.
fn masked_text(payload: &[u8]) -> Vec<u8> {
    let mask = [0x12, 0x34, 0x56, 0x78];
    let mut frame = vec![0x81];
    match payload.len() {
        n if n < 126 => frame.push(0x80 | n as u8),
        n => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
    }
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

/// An upgrade request offering `protocols` in `Sec-WebSocket-Protocol`.
fn request_offering(protocols: &str) -> String {
    request(13).replace(
        "\r\n\r\n",
        &format!("\r\nSec-WebSocket-Protocol: {protocols}\r\n\r\n"),
    )
}

/// Sends `req` whole, or in two pieces (so that the router's upgrade answers it), and
/// returns the socket and the response head, lower-cased.
async fn upgrade(app: &TestApp, req: &str, pieces: bool) -> (TcpStream, String) {
    let mut tcp = TcpStream::connect(app.addr).await.unwrap();
    if pieces {
        let (first, rest) = req.split_at(30);
        tcp.write_all(first.as_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        tcp.write_all(rest.as_bytes()).await.unwrap();
    } else {
        tcp.write_all(req.as_bytes()).await.unwrap();
    }
    let head = response_head(&mut tcp).await.to_ascii_lowercase();
    (tcp, head)
}

/// The client's end of an upgraded socket.
async fn client(tcp: TcpStream) -> Ws {
    let stream = WebSocketStream::from_raw_socket(MaybeTlsStream::Plain(tcp), Role::Client, None);
    Ws {
        stream: stream.await,
    }
}

/// The session on an upgraded socket: `hello`, then `identify` unless it was sent already.
async fn identify(tcp: TcpStream, token: &str, sent: bool) -> Value {
    let mut ws = client(tcp).await;
    assert_eq!(ws.recv().await["op"], "hello");
    if !sent {
        ws.send(json!({"op": "identify", "d": {"token": token}}))
            .await;
    }
    ws.recv().await
}

#[tokio::test]
async fn an_upgrade_whole_or_in_pieces_opens_a_session() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let auth = app.register("up_ana").await;
    let token = access(&auth);
    let req = request(13);
    for pieces in [false, true] {
        // In pieces, the head is not all there at first: the router's upgrade answers it.
        let (tcp, head) = upgrade(&app, &req, pieces).await;
        assert!(head.starts_with("http/1.1 101 "), "{head}");
        assert!(head.contains("upgrade: websocket\r\n"), "{head}");
        assert!(
            head.contains(&format!(
                "sec-websocket-accept: {}\r\n",
                ACCEPT.to_ascii_lowercase()
            )),
            "{head}"
        );
        // Only the router's answer carries its security headers: each path was taken.
        assert_eq!(head.contains("x-content-type-options"), pieces, "{head}");
        // No subprotocol offered, none chosen.
        assert!(!head.contains("sec-websocket-protocol"), "{head}");
        let ready = identify(tcp, &token, false).await;
        assert_eq!(ready["op"], "ready", "pieces: {pieces}: {ready}");
        assert_eq!(ready["d"]["user"]["username"], "up_ana");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_token_offered_in_the_upgrade_identifies_without_an_identify_frame() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let auth = app.register("up_caio").await;
    let token = access(&auth);
    let req = request_offering(&format!("papo.v1, papo.token.{token}"));
    for pieces in [false, true] {
        let (tcp, head) = upgrade(&app, &req, pieces).await;
        assert!(head.starts_with("http/1.1 101 "), "{head}");
        assert_eq!(head.contains("x-content-type-options"), pieces, "{head}");
        // papo.v1 is chosen; the token is never sent back.
        assert!(
            head.contains("sec-websocket-protocol: papo.v1\r\n"),
            "{head}"
        );
        assert!(!head.contains(&token.to_ascii_lowercase()), "{head}");
        let ready = identify(tcp, "", true).await;
        assert_eq!(ready["op"], "ready", "pieces: {pieces}: {ready}");
        assert_eq!(ready["d"]["user"]["username"], "up_caio");
    }
    // On either path, a token that is not one ends the socket as a refused identify does
    // (4001), and an identify frame behind a good one is a second identify (4002).
    let unknown = request_offering("papo.v1, papo.token.pat_unknown");
    for pieces in [false, true] {
        let mut ws = client(upgrade(&app, &unknown, pieces).await.0).await;
        assert_eq!(ws.recv().await["op"], "hello");
        assert_eq!(ws.closed().await, End::Closed(4001), "pieces: {pieces}");
        let mut ws = client(upgrade(&app, &req, pieces).await.0).await;
        assert_eq!(ws.recv().await["op"], "hello");
        ws.send(json!({"op": "identify", "d": {"token": token}}))
            .await;
        assert_eq!(ws.op("ready").await["op"], "ready");
        assert_eq!(ws.closed().await, End::Closed(4002), "pieces: {pieces}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_frame_right_behind_the_upgrade_is_not_lost() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let auth = app.register("up_bia").await;
    let identify_frame = json!({"op": "identify", "d": {"token": access(&auth)}}).to_string();
    let mut bytes = request(13).into_bytes();
    bytes.extend(masked_text(identify_frame.as_bytes()));
    let mut tcp = TcpStream::connect(app.addr).await.unwrap();
    tcp.write_all(&bytes).await.unwrap();
    let head = response_head(&mut tcp).await;
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    // The router answered (the gateway takes a request with nothing behind it) and handed
    // the frame read with the request on to the session.
    assert!(
        head.to_ascii_lowercase().contains("x-content-type-options"),
        "{head}"
    );
    let ready = identify(tcp, "", true).await;
    assert_eq!(ready["op"], "ready", "{ready}");
    assert_eq!(ready["d"]["user"]["username"], "up_bia");
    app.stop().await;
}

#[tokio::test]
async fn an_upgrade_of_another_version_gets_the_routers_json_400() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut tcp = TcpStream::connect(app.addr).await.unwrap();
    tcp.write_all(request(8).as_bytes()).await.unwrap();
    let head = response_head(&mut tcp).await.to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 400 "), "{head}");
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .expect("a length")
        .trim()
        .parse()
        .unwrap();
    let mut body = vec![0; len];
    tcp.read_exact(&mut body).await.unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["code"], "bad_request", "{body}");
    app.stop().await;
}
