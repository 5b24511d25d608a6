//! A small gateway client for the tests, on tokio-tungstenite.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::TestApp;

pub struct Ws {
    pub stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// How a read ended when it was not a JSON frame.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    Closed(u16),
    Eof,
}

impl Ws {
    pub async fn connect(app: &TestApp) -> Self {
        Self::connect_to(&app.addr.to_string()).await
    }

    /// Connects to the gateway of the server at `host:port`.
    pub async fn connect_to(host: &str) -> Self {
        let url = format!("ws://{host}/api/v1/gateway");
        let (stream, resp) = tokio_tungstenite::connect_async(url)
            .await
            .expect("connect");
        assert_eq!(resp.status(), 101);
        Self { stream }
    }

    /// Connects, reads `hello`, identifies, and returns the `ready` data.
    pub async fn identify(app: &TestApp, token: &str) -> (Self, Value) {
        Self::identify_at(&app.addr.to_string(), token).await
    }

    /// [`Ws::identify`] against the server at `host:port`.
    pub async fn identify_at(host: &str, token: &str) -> (Self, Value) {
        let mut ws = Self::connect_to(host).await;
        let hello = ws.recv().await;
        assert_eq!(hello["op"], "hello");
        ws.send(json!({"op": "identify", "d": {"token": token}}))
            .await;
        let ready = ws.recv().await;
        assert_eq!(ready["op"], "ready", "{ready}");
        (ws, ready["d"].clone())
    }

    /// Connects to the server at `host:port`, reads `hello`, identifies with `token`, and
    /// returns how the connection ended (a refused token: `End::Closed(4001)`).
    pub async fn identify_refused_at(host: &str, token: &str) -> End {
        let mut ws = Self::connect_to(host).await;
        assert_eq!(ws.recv().await["op"], "hello");
        ws.send(json!({"op": "identify", "d": {"token": token}}))
            .await;
        ws.closed().await
    }

    /// Connects, reads `hello`, resumes `session_id` after `seq`, and returns the replayed
    /// frames (every one an event) and the `resumed` frame.
    pub async fn resume(
        app: &TestApp,
        token: &str,
        session_id: &str,
        seq: u64,
    ) -> (Self, Vec<Value>, Value) {
        let mut ws = Self::connect(app).await;
        assert_eq!(ws.recv().await["op"], "hello");
        ws.send(
            json!({"op": "resume", "d": {"token": token, "session_id": session_id, "seq": seq}}),
        )
        .await;
        let mut replayed = Vec::new();
        loop {
            let f = ws.recv().await;
            if f["op"] == "resumed" {
                return (ws, replayed, f);
            }
            assert_eq!(f["op"], "event", "{f}");
            replayed.push(f);
        }
    }

    pub async fn send(&mut self, v: Value) {
        self.stream
            .send(Message::Text(v.to_string().into()))
            .await
            .expect("send");
    }

    /// Queues `vs` to be written together.
    async fn feed(&mut self, vs: &[Value]) {
        for v in vs {
            self.stream
                .feed(Message::Text(v.to_string().into()))
                .await
                .expect("feed");
        }
    }

    /// Sends `vs` in one write (as a client that queued them sends them).
    pub async fn send_together(&mut self, vs: &[Value]) {
        self.feed(vs).await;
        self.stream.flush().await.expect("flush");
    }

    /// Sends `vs` and a close frame (1000) in one write.
    pub async fn send_then_close(&mut self, vs: &[Value]) {
        self.feed(vs).await;
        let close = tokio_tungstenite::tungstenite::protocol::CloseFrame {
            code: 1000.into(),
            reason: "".into(),
        };
        let _ = self.stream.feed(Message::Close(Some(close))).await;
        let _ = self.stream.flush().await;
    }

    pub async fn send_raw(&mut self, m: Message) {
        let _ = self.stream.send(m).await;
    }

    /// The next JSON frame, or why there was none.
    pub async fn next(&mut self, wait: Duration) -> Result<Value, End> {
        loop {
            let msg = tokio::time::timeout(wait, self.stream.next())
                .await
                .expect("timed out waiting for a frame");
            match msg {
                Some(Ok(Message::Text(t))) => {
                    return Ok(serde_json::from_str(&t).expect("json frame"));
                }
                Some(Ok(Message::Close(Some(CloseFrame { code, .. })))) => {
                    return Err(End::Closed(code.into()));
                }
                Some(Ok(Message::Close(None))) | None | Some(Err(_)) => return Err(End::Eof),
                Some(Ok(_)) => continue,
            }
        }
    }

    pub async fn recv(&mut self) -> Value {
        self.next(Duration::from_secs(5)).await.expect("a frame")
    }

    /// The next event frame named `t`, skipping other events.
    pub async fn event(&mut self, t: &str) -> Value {
        loop {
            let f = self.recv().await;
            if f["op"] == "event" && f["t"] == t {
                return f;
            }
        }
    }

    /// The next non-event frame with this `op` (events in between are skipped).
    pub async fn op(&mut self, op: &str) -> Value {
        loop {
            let f = self.recv().await;
            if f["op"] == op {
                return f;
            }
        }
    }

    /// Reads until the server closes; returns the close code.
    pub async fn closed(&mut self) -> End {
        loop {
            match self.next(Duration::from_secs(10)).await {
                Ok(_) => continue,
                Err(end) => return end,
            }
        }
    }
}
