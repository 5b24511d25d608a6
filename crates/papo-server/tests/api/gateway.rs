//! The real-time gateway with real WebSocket clients.

use std::time::Duration;

use papo_gateway::hub::Topic;
use papo_gateway::protocol::{EventKind, Status};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::both;
use crate::helpers::{Backend, TestApp, access};
use crate::ws::{End, Ws};

both!(
    identify_ready_and_heartbeat,
    profile_changes_reach_every_session_of_the_user,
    resume_replays_exactly_the_missed_events,
    resume_sends_current_presences_instead_of_replaying_changes,
    logout_closes_the_sessions_sockets,
    typing_after_a_message_shows_at_once,
);

/// Typing is forwarded once per throttle (5 s), but a message sent ends it: clients stop
/// showing its author typing when it comes, so the next keystroke shows them again at once.
async fn typing_after_a_message_shows_at_once(b: Backend) {
    let app = TestApp::spawn(b).await;
    let ana = access(&app.register("ty_ana").await);
    let bo = access(&app.register("ty_bo").await);
    let (_, general) = app.community(&ana, &[&bo]).await;
    let (mut ana_ws, _) = Ws::identify(&app, &ana).await;
    let (mut bo_ws, _) = Ws::identify(&app, &bo).await;
    let typing = json!({"op": "typing_start", "d": {"channel_id": general}});
    ana_ws.send(typing.clone()).await;
    bo_ws.event("typing.started").await;
    // Again at once: throttled, so Bo's next event is the message. (The heartbeat's ack
    // says the socket's frames before it were handled: the typing came before the message.)
    ana_ws.send(typing.clone()).await;
    ana_ws.send(json!({"op": "heartbeat", "d": null})).await;
    ana_ws.op("heartbeat_ack").await;
    let say = |text: &str| json!({"content": text});
    app.post(
        &format!("/api/v1/channels/{general}/messages"),
        say("um"),
        Some(&ana),
    )
    .await;
    let next = loop {
        let f = bo_ws.recv().await;
        if f["op"] == "event" && f["t"] != "presence.updated" {
            break f;
        }
    };
    assert_eq!(next["t"], "message.created", "{next}");
    // Within the throttle still, but after her message: forwarded.
    ana_ws.send(typing).await;
    let ev = bo_ws.event("typing.started").await;
    assert_eq!(ev["d"]["channel_id"], general.as_str());
    app.stop().await;
}

async fn identify_ready_and_heartbeat(b: Backend) {
    let app = TestApp::spawn(b).await;
    let auth = app.register("gw_ana").await;
    let (mut ws, ready) = Ws::identify(&app, &access(&auth)).await;
    assert_eq!(ready["user"]["username"], "gw_ana");
    assert_eq!(ready["user"]["email"], "gw_ana@example.com");
    assert_eq!(ready["session_id"].as_str().unwrap().len(), 32);
    assert_eq!(ready["resume_window_ms"], 120_000);
    assert_eq!(ready["presences"][0]["user_id"], auth["user"]["id"]);
    ws.send(json!({"op": "heartbeat", "d": {"seq": 0}})).await;
    let mut got_ack = false;
    for _ in 0..3 {
        let f = ws.recv().await;
        if f["op"] == "heartbeat_ack" {
            got_ack = true;
            break;
        }
    }
    assert!(got_ack);
    app.stop().await;
}

async fn profile_changes_reach_every_session_of_the_user(b: Backend) {
    let app = TestApp::spawn(b).await;
    let auth = app.register("gw_bia").await;
    let other = app.register("gw_caio").await;
    let (mut a, _) = Ws::identify(&app, &access(&auth)).await;
    let (mut b2, _) = Ws::identify(&app, &access(&auth)).await;
    let (mut c, _) = Ws::identify(&app, &access(&other)).await;
    let r = app
        .patch(
            "/api/v1/users/@me",
            json!({"display_name": "Bia"}),
            Some(&access(&auth)),
        )
        .await;
    assert_eq!(r.status, 200);
    for ws in [&mut a, &mut b2] {
        let ev = ws.event("user.updated").await;
        assert_eq!(ev["d"]["display_name"], "Bia");
        assert!(ev["s"].as_u64().unwrap() >= 1);
    }
    // Another user's socket hears nothing about it.
    c.send(json!({"op": "heartbeat"})).await;
    loop {
        let f = c.recv().await;
        assert_ne!(f["t"], "user.updated", "leaked to another user");
        if f["op"] == "heartbeat_ack" {
            break;
        }
    }
    app.stop().await;
}

async fn resume_replays_exactly_the_missed_events(b: Backend) {
    let app = TestApp::spawn(b).await;
    let auth = app.register("gw_davi").await;
    let token = access(&auth);
    let (mut ws, ready) = Ws::identify(&app, &token).await;
    let session_id = ready["session_id"].as_str().unwrap().to_owned();
    app.patch(
        "/api/v1/users/@me",
        json!({"pronouns": "ele/dele"}),
        Some(&token),
    )
    .await;
    let seen = ws.event("user.updated").await;
    let last_seq = seen["s"].as_u64().unwrap();
    // Drop the TCP connection without a close handshake.
    drop(ws);
    tokio::time::sleep(Duration::from_millis(100)).await;
    for name in ["One", "Two", "Three"] {
        let r = app
            .patch(
                "/api/v1/users/@me",
                json!({"display_name": name}),
                Some(&token),
            )
            .await;
        assert_eq!(r.status, 200);
    }
    let (mut ws, replayed, resumed) = Ws::resume(&app, &token, &session_id, last_seq).await;
    let seqs: Vec<u64> = replayed.iter().map(|f| f["s"].as_u64().unwrap()).collect();
    assert_eq!(seqs, vec![last_seq + 1, last_seq + 2, last_seq + 3]);
    let names: Vec<&str> = replayed
        .iter()
        .map(|f| f["d"]["display_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["One", "Two", "Three"]);
    assert_eq!(resumed["d"]["replayed"], 3);
    // Live again: the next event continues the sequence.
    app.patch(
        "/api/v1/users/@me",
        json!({"display_name": "Four"}),
        Some(&token),
    )
    .await;
    let ev = ws.event("user.updated").await;
    assert_eq!(ev["s"].as_u64().unwrap(), last_seq + 4);
    app.stop().await;
}

/// Presence changes are volatile: written without a sequence number, never replayed. A
/// resume carries the presences as they are now.
async fn resume_sends_current_presences_instead_of_replaying_changes(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (alice, bob) = (app.register("gw_rita").await, app.register("gw_rui").await);
    let (a, bo) = (access(&alice), access(&bob));
    app.community(&a, &[&bo]).await;
    let bob_id = bob["user"]["id"].as_str().unwrap();
    let (mut alice_ws, ready) = Ws::identify(&app, &a).await;
    let session_id = ready["session_id"].as_str().unwrap().to_owned();
    let (mut bob_ws, _) = Ws::identify(&app, &bo).await;
    loop {
        // Alice's own presence comes first; every presence change comes without a number.
        let ev = alice_ws.event("presence.updated").await;
        assert!(
            ev.get("s").is_none(),
            "a presence change has no sequence number: {ev}"
        );
        if ev["d"]["user_id"] == bob_id {
            assert_eq!(ev["d"]["status"], "online");
            break;
        }
    }
    app.patch("/api/v1/users/@me", json!({"pronouns": "ela"}), Some(&a))
        .await;
    let last_seq = alice_ws.event("user.updated").await["s"].as_u64().unwrap();
    drop(alice_ws);
    tokio::time::sleep(Duration::from_millis(100)).await;
    // While Alice's socket is gone: Bob goes dnd, Alice's profile changes.
    bob_ws
        .send(json!({"op": "presence_update", "d": {"status": "dnd", "custom_status": {"text": "Aula"}}}))
        .await;
    let bob_user: papo_core::id::UserId = bob_id.parse().unwrap();
    while app.state.hub.presence_of(bob_user).status != Status::Dnd {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    app.patch(
        "/api/v1/users/@me",
        json!({"display_name": "Rita"}),
        Some(&a),
    )
    .await;
    let (mut ws, replayed, resumed) = Ws::resume(&app, &a, &session_id, last_seq).await;
    // Only the profile changes are replayed, in order: the first one's word to the server
    // (member.updated, after the user.updated last seen), then the second's two events.
    let kinds: Vec<&str> = replayed.iter().map(|f| f["t"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["member.updated", "user.updated", "member.updated"],
        "{replayed:?}"
    );
    for (i, f) in replayed.iter().enumerate() {
        assert_eq!(f["s"].as_u64(), Some(last_seq + 1 + i as u64));
    }
    assert_eq!(replayed[1]["d"]["display_name"], "Rita");
    assert_eq!(resumed["d"]["replayed"], 3);
    let presences = resumed["d"]["presences"].as_array().unwrap();
    let bob_now = presences.iter().find(|p| p["user_id"] == bob_id).unwrap();
    assert_eq!(bob_now["status"], "dnd", "{resumed}");
    assert_eq!(bob_now["custom_status"]["text"], "Aula");
    assert!(
        presences
            .iter()
            .any(|p| p["user_id"] == alice["user"]["id"])
    );
    // Live again: presence still without a number, and the sequence goes on where it was.
    bob_ws
        .send(json!({"op": "presence_update", "d": {"status": "idle"}}))
        .await;
    let ev = ws.event("presence.updated").await;
    assert_eq!(ev["d"]["status"], "idle");
    assert!(ev.get("s").is_none(), "{ev}");
    app.patch(
        "/api/v1/users/@me",
        json!({"pronouns": "ela/dela"}),
        Some(&a),
    )
    .await;
    // After the three replayed events.
    assert_eq!(
        ws.event("user.updated").await["s"].as_u64(),
        Some(last_seq + 4)
    );
    app.stop().await;
}

async fn logout_closes_the_sessions_sockets(b: Backend) {
    let app = TestApp::spawn(b).await;
    let auth = app.register("gw_eva").await;
    let token = access(&auth);
    let (mut ws, _) = Ws::identify(&app, &token).await;
    let r = app
        .post("/api/v1/auth/logout", json!({}), Some(&token))
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(ws.closed().await, End::Closed(4001));
    // The session cannot be resumed or re-identified with the dead token.
    let host = app.addr.to_string();
    assert_eq!(
        Ws::identify_refused_at(&host, &token).await,
        End::Closed(4001)
    );
    app.stop().await;
}

#[tokio::test]
async fn bad_token_closes_4001_and_unknown_session_is_invalid() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let host = app.addr.to_string();
    assert_eq!(
        Ws::identify_refused_at(&host, "pat_nope").await,
        End::Closed(4001)
    );

    let token = access(&app.register("gw_fabi").await);
    let mut ws = Ws::connect(&app).await;
    ws.recv().await;
    ws.send(json!({"op": "resume", "d": {"token": token, "session_id": "0123456789abcdef0123456789abcdef", "seq": 0}})).await;
    let f = ws.recv().await;
    assert_eq!(f["op"], "invalid_session");
    assert_eq!(f["d"]["resumable"], false);
    // The same socket can identify after that.
    ws.send(json!({"op": "identify", "d": {"token": token}}))
        .await;
    assert_eq!(ws.recv().await["op"], "ready");
    app.stop().await;
}

#[tokio::test]
async fn invalid_frames_close_4002() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let token = access(&app.register("gw_gil").await);
    let cases: Vec<Message> = vec![
        Message::Text("x".repeat(17 * 1024).into()),
        Message::Text("not json".into()),
        Message::Text(json!({"op": "fly"}).to_string().into()),
        Message::Binary(vec![1, 2, 3].into()),
    ];
    for m in cases {
        let (mut ws, _) = Ws::identify(&app, &token).await;
        ws.send_raw(m).await;
        assert_eq!(ws.closed().await, End::Closed(4002));
    }
    // An op before identify is invalid too.
    let mut ws = Ws::connect(&app).await;
    ws.recv().await;
    ws.send(json!({"op": "presence_update", "d": {"status": "idle"}}))
        .await;
    assert_eq!(ws.closed().await, End::Closed(4002));
    app.stop().await;
}

#[tokio::test]
async fn flooding_closes_4008() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let token = access(&app.register("gw_hugo").await);
    let (mut ws, _) = Ws::identify(&app, &token).await;
    for _ in 0..125 {
        ws.send(json!({"op": "heartbeat"})).await;
    }
    assert_eq!(ws.closed().await, End::Closed(4008));
    app.stop().await;
}

/// Identify attempts are counted per user: past the limit the next one is closed 4008,
/// while another user still connects.
#[tokio::test]
async fn identifying_too_often_closes_4008() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.gateway.identifies_per_minute = 3).await;
    let ida = access(&app.register("gw_ida").await);
    let joao = access(&app.register("gw_joao").await);
    let host = app.addr.to_string();
    for _ in 0..3 {
        let (mut ws, ready) = Ws::identify(&app, &ida).await;
        assert!(ready["session_id"].is_string(), "{ready}");
        ws.send_then_close(&[]).await;
    }
    assert_eq!(
        Ws::identify_refused_at(&host, &ida).await,
        End::Closed(4008)
    );
    let (_joao_ws, ready) = Ws::identify(&app, &joao).await;
    assert!(ready["session_id"].is_string(), "{ready}");
    app.stop().await;
}

#[tokio::test]
async fn missing_heartbeats_close_4009() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.gateway.heartbeat_interval = Duration::from_millis(200);
    })
    .await;
    let token = access(&app.register("gw_ines").await);
    let (mut ws, _) = Ws::identify(&app, &token).await;
    let started = std::time::Instant::now();
    assert_eq!(ws.closed().await, End::Closed(4009));
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    app.stop().await;
}

#[tokio::test]
async fn connections_per_address_are_capped() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.gateway.max_connections_per_ip = 2).await;
    let mut a = Ws::connect(&app).await;
    let mut b = Ws::connect(&app).await;
    assert_eq!(a.recv().await["op"], "hello");
    assert_eq!(b.recv().await["op"], "hello");
    let mut c = Ws::connect(&app).await;
    assert_eq!(c.closed().await, End::Closed(4011));
    drop(a);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut d = Ws::connect(&app).await;
    assert_eq!(d.recv().await["op"], "hello", "a freed slot can be reused");
    app.stop().await;
}

#[tokio::test]
async fn a_slow_consumer_is_closed_not_buffered_forever() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.gateway.max_pending_events = 64;
        c.gateway.write_timeout = Duration::from_millis(500);
    })
    .await;
    let auth = app.register("gw_joao").await;
    let (mut ws, _) = Ws::identify(&app, &access(&auth)).await;
    let user: papo_core::id::UserId = auth["user"]["id"].as_str().unwrap().parse().unwrap();
    // 64 KiB events: far more than the socket buffers hold while the client is not reading.
    let blob = "x".repeat(64 * 1024);
    let total = 2_000;
    for i in 0..total {
        app.state.hub.emit(
            Topic::User(user),
            EventKind::UserUpdated,
            &json!({"i": i, "blob": blob}),
        );
        if i % 100 == 0 {
            tokio::task::yield_now().await;
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut received = 0;
    let end = loop {
        match ws.next(Duration::from_secs(10)).await {
            Ok(f) if f["op"] == "event" => received += 1,
            Ok(_) => {}
            Err(end) => break end,
        }
    };
    assert!(
        received < total,
        "the backlog was bounded: got {received} of {total}"
    );
    assert!(matches!(end, End::Closed(4010) | End::Eof), "{end:?}");
    app.stop().await;
}

#[tokio::test]
async fn presence_is_aggregated_and_goes_offline_after_the_grace() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.gateway.offline_grace = Duration::from_millis(300);
    })
    .await;
    let auth = app.register("gw_kai").await;
    let token = access(&auth);
    let (mut a, ready) = Ws::identify(&app, &token).await;
    assert_eq!(ready["presences"][0]["status"], "online");
    let (mut b2, _) = Ws::identify(&app, &token).await;
    a.send(json!({"op": "presence_update", "d": {"status": "dnd", "custom_status": {"text": "Focus", "emoji": "🎧"}}})).await;
    // Still online overall: b2 is online. Invisible on b2 leaves dnd as the best.
    b2.send(json!({"op": "presence_update", "d": {"status": "invisible"}}))
        .await;
    let ev = loop {
        let ev = a.event("presence.updated").await;
        if ev["d"]["status"] == "dnd" {
            break ev;
        }
    };
    assert_eq!(ev["d"]["custom_status"]["text"], "Focus");
    a.send(json!({"op": "presence_update", "d": {"status": "invisible", "custom_status": null}}))
        .await;
    let ev = loop {
        let ev = b2.event("presence.updated").await;
        if ev["d"]["status"] == "invisible" {
            break ev;
        }
    };
    assert!(ev["d"]["custom_status"].is_null(), "{ev}");
    // A bad presence is refused without closing.
    a.send(json!({"op": "presence_update", "d": {"status": "online", "custom_status": {"text": "x".repeat(129)}}})).await;
    loop {
        let f = a.recv().await;
        if f["op"] == "error" {
            assert_eq!(f["d"]["code"], "validation_failed");
            break;
        }
    }
    // Both sockets go: the user stays (grace), then is offline.
    let user: papo_core::id::UserId = auth["user"]["id"].as_str().unwrap().parse().unwrap();
    drop(a);
    drop(b2);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        app.state.hub.presence_of(user).status,
        Status::Invisible,
        "within the grace"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(app.state.hub.presence_of(user).status, Status::Offline);
    // Coming back is online again (a new session starts online).
    let (_c, ready) = Ws::identify(&app, &token).await;
    assert_eq!(ready["presences"][0]["status"], "online", "{ready}");
    app.stop().await;
}

#[tokio::test]
async fn typing_in_an_unknown_channel_is_refused() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let token = access(&app.register("gw_lia").await);
    let (mut ws, _) = Ws::identify(&app, &token).await;
    ws.send(json!({"op": "typing_start", "d": {"channel_id": "123"}}))
        .await;
    loop {
        let f = ws.recv().await;
        if f["op"] == "error" {
            assert_eq!(f["d"]["code"], "not_found");
            break;
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn shutdown_closes_sockets_with_1001() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let token = access(&app.register("gw_mel").await);
    let (mut ws, _) = Ws::identify(&app, &token).await;
    // A socket that has not identified yet waits on the hub, not on a session.
    let mut fresh = Ws::connect(&app).await;
    assert_eq!(fresh.op("hello").await["op"], "hello");
    let stopping = tokio::spawn(app.stop());
    assert_eq!(ws.closed().await, End::Closed(1001));
    assert_eq!(fresh.closed().await, End::Closed(1001));
    stopping.await.unwrap();
}

#[tokio::test]
async fn plain_get_on_the_gateway_is_a_json_400() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let r = app.get("/api/v1/gateway", None).await;
    assert_eq!((r.status, r.code()), (400, "bad_request"));
    app.stop().await;
}
