//! Messages sent over the gateway (`message_create`): the REST rules, answered on the socket.

use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Backend, TestApp, access};
use crate::ws::{End, Ws};

both!(
    gateway_sends_follow_the_rest_rules,
    gateway_send_refusals_keep_the_socket_open,
    gateway_sends_of_one_socket_keep_their_order,
    gateway_sends_read_before_a_close_are_stored,
    a_socket_s_sends_follow_the_sender_s_standing,
);

/// The contents of `channel`'s messages as REST lists them for `token`, newest first.
async fn stored(app: &TestApp, channel: &str, token: &str) -> Vec<String> {
    let history = app
        .get(&format!("/api/v1/channels/{channel}/messages"), Some(token))
        .await;
    history
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect()
}

fn create(channel: &str, content: &str, nonce: &str) -> Value {
    json!({"op": "message_create", "d": {"channel_id": channel, "content": content, "nonce": nonce}})
}

async fn gateway_sends_follow_the_rest_rules(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = access(&app.register("gs_alice").await);
    let bob = access(&app.register("gs_bob").await);
    let (_, general) = app.community(&alice, &[&bob]).await;
    let (mut alice_ws, _) = Ws::identify(&app, &alice).await;
    let (mut bob_ws, _) = Ws::identify(&app, &bob).await;

    bob_ws
        .send(create(&general, "olá <b>pelo socket</b>", "g-1"))
        .await;
    // The sender gets its answer and, as a viewer of the channel, the event (either first).
    let (mut ack, mut own) = (Value::Null, Value::Null);
    while ack.is_null() || own.is_null() {
        let f = bob_ws.recv().await;
        match (f["op"].as_str(), f["t"].as_str()) {
            (Some("message_ack"), _) => ack = f,
            (Some("event"), Some("message.created")) => own = f,
            _ => {}
        }
    }
    assert_eq!(ack["d"]["nonce"], "g-1");
    assert_eq!(ack["d"]["created"], true);
    let message = &ack["d"]["message"];
    assert_eq!(message["content"], "olá <b>pelo socket</b>", "kept raw");
    assert_eq!(message["author"]["username"], "gs_bob");
    assert_eq!(message["nonce"], "g-1");
    let id = message["id"].as_str().unwrap().to_owned();
    assert_eq!(own["d"]["id"], id.as_str());
    // The answer is the event's message with its (empty) reactions, as REST answers it.
    assert_eq!(message["reactions"], json!([]));
    assert!(
        own["d"].get("reactions").is_none(),
        "events carry no reactions"
    );
    let mut without = message.clone();
    without.as_object_mut().unwrap().remove("reactions");
    assert_eq!(without, own["d"]);
    let ev = alice_ws.event("message.created").await;
    assert_eq!(ev["d"]["id"], id.as_str());

    // A repeated nonce answers the first message, without a second one.
    bob_ws
        .send(create(&general, "olá <b>pelo socket</b>", "g-1"))
        .await;
    let again = bob_ws.op("message_ack").await;
    assert_eq!(again["d"]["created"], false);
    assert_eq!(again["d"]["message"]["id"], id.as_str());

    // A reply, then the history (REST) holds exactly the two messages.
    alice_ws
        .send(json!({"op": "message_create", "d": {
            "channel_id": general, "content": "resposta", "nonce": "g-2", "reply_to": id}}))
        .await;
    let reply = alice_ws.op("message_ack").await;
    assert_eq!(
        reply["d"]["message"]["referenced_message"]["id"],
        id.as_str()
    );
    assert_eq!(
        stored(&app, &general, &bob).await,
        ["resposta", "olá <b>pelo socket</b>"]
    );

    // Each of the three answers was timed, from its frame read to its answer given.
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("\npapo_gateway_send_seconds_count 3\n"),
        "{metrics}"
    );
    app.stop().await;
}

/// The error frame of the next answer: `{"op":"error","d":{nonce, code, message, ...}}`.
async fn refusal(ws: &mut Ws, nonce: &str) -> Value {
    let f = ws.op("error").await;
    assert_eq!(f["d"]["nonce"], nonce, "{f}");
    assert!(f["d"]["message"].is_string(), "{f}");
    f["d"].clone()
}

async fn gateway_send_refusals_keep_the_socket_open(b: Backend) {
    let app = TestApp::spawn_with(b, |c| {
        c.message_rate_burst = 2;
        c.gateway.max_sends = 12;
    })
    .await;
    let alice = access(&app.register("gr_alice").await);
    let bob = access(&app.register("gr_bob").await);
    let carol = access(&app.register("gr_carol").await);
    let (server, general) = app.community(&alice, &[&bob]).await;
    let sid = server["id"].as_str().unwrap();
    let (mut bob_ws, _) = Ws::identify(&app, &bob).await;
    let (mut carol_ws, _) = Ws::identify(&app, &carol).await;

    // Invalid fields, as REST names them.
    bob_ws.send(create(&general, "  ", "e-1")).await;
    let e = refusal(&mut bob_ws, "e-1").await;
    assert_eq!(e["code"], "validation_failed");
    assert_eq!(e["fields"]["content"]["code"], "too_short");
    bob_ws
        .send(create(&general, &"x".repeat(4001), "e-2"))
        .await;
    assert_eq!(
        refusal(&mut bob_ws, "e-2").await["fields"]["content"]["code"],
        "too_long"
    );
    bob_ws.send(create(&general, "hi", &"n".repeat(65))).await;
    let e = bob_ws.op("error").await;
    assert_eq!(e["d"]["fields"]["nonce"]["code"], "invalid_value");
    bob_ws
        .send(json!({"op": "message_create", "d": {
            "channel_id": general, "content": "hi", "nonce": "e-3", "reply_to": "nope"}}))
        .await;
    assert_eq!(
        refusal(&mut bob_ws, "e-3").await["fields"]["reply_to"]["code"],
        "invalid_value"
    );
    // Unknown channel, and a channel of a server Carol is not in: the same answer as REST.
    bob_ws.send(create("123", "hi", "e-4")).await;
    assert_eq!(refusal(&mut bob_ws, "e-4").await["code"], "not_found");
    carol_ws.send(create(&general, "hi", "e-5")).await;
    let rest = app
        .post(
            &format!("/api/v1/channels/{general}/messages"),
            json!({"content": "hi"}),
            Some(&carol),
        )
        .await;
    assert_eq!(refusal(&mut carol_ws, "e-5").await["code"], rest.code());
    // Without send_messages in the channel: forbidden.
    let r = app
        .put(
            &format!("/api/v1/channels/{general}/permissions/{sid}"),
            json!({"type": "role", "deny": "2048"}),
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    bob_ws.send(create(&general, "hi", "e-6")).await;
    let e = refusal(&mut bob_ws, "e-6").await;
    assert_eq!(e["code"], "forbidden", "{e}");
    app.put(
        &format!("/api/v1/channels/{general}/permissions/{sid}"),
        json!({"type": "role", "deny": "0"}),
        Some(&alice),
    )
    .await;
    // The per-user send rate is shared with REST: two sends, then rate_limited.
    let rest = app
        .post(
            &format!("/api/v1/channels/{general}/messages"),
            json!({"content": "1"}),
            Some(&bob),
        )
        .await;
    assert_eq!(rest.status, 201);
    bob_ws.send(create(&general, "2", "r-2")).await;
    assert_eq!(bob_ws.op("message_ack").await["d"]["nonce"], "r-2");
    bob_ws.send(create(&general, "3", "r-3")).await;
    let e = refusal(&mut bob_ws, "r-3").await;
    assert_eq!(e["code"], "rate_limited");
    assert!(e["retry_after"].as_u64().unwrap() >= 1);
    // The socket is still served.
    bob_ws.send(json!({"op": "heartbeat"})).await;
    assert_eq!(bob_ws.op("heartbeat_ack").await["op"], "heartbeat_ack");
    // Past the socket's own send budget (12 a minute, 8 used), the socket closes 4008.
    for i in 0..5 {
        bob_ws
            .send(create(&general, "flood", &format!("f-{i}")))
            .await;
    }
    assert_eq!(bob_ws.closed().await, End::Closed(4008));
    app.stop().await;
}

/// Sends that arrive together are numbered, and announced, in the order they were sent, with
/// refused ones among them, and with replies among them (a reply reads the message it
/// replies to before it is stored, so the sends after it wait for it to be handed over).
async fn gateway_sends_of_one_socket_keep_their_order(b: Backend) {
    let app = TestApp::spawn_with(b, |c| {
        c.message_rate_burst = 1000;
        c.gateway.max_sends = 1000;
    })
    .await;
    let alice = access(&app.register("go_alice").await);
    let bob = access(&app.register("go_bob").await);
    let (_, general) = app.community(&alice, &[&bob]).await;
    let (mut alice_ws, _) = Ws::identify(&app, &alice).await;
    let (mut bob_ws, _) = Ws::identify(&app, &bob).await;
    const N: usize = 40;
    let mut first = None;
    for round in 0..3 {
        // In the last round every fifth send is refused (blank), and answered at once.
        let refused = |i: usize| round == 2 && i % 5 == 1;
        // In the second, every fourth replies to the first message of the first.
        let reply = |i: usize| round == 1 && i % 4 == 2;
        let sends: Vec<Value> = (0..N)
            .map(|i| {
                let content = if refused(i) {
                    " ".to_owned()
                } else {
                    format!("{round}-{i}")
                };
                let mut send = create(&general, &content, &format!("o-{round}-{i}"));
                if reply(i) {
                    send["d"]["reply_to"] = json!(first);
                }
                send
            })
            .collect();
        bob_ws.send_together(&sends).await;
        // The answers may come in any order; the ids follow the order of the sends.
        let mut ids = vec![None; N];
        let mut answered = 0;
        while answered < N {
            let f = bob_ws.recv().await;
            let ack = match f["op"].as_str() {
                Some("message_ack") => true,
                Some("error") => false,
                _ => continue, // events, the sender's own `message.created` among them
            };
            let nonce = f["d"]["nonce"].as_str().unwrap();
            let i: usize = nonce.rsplit('-').next().unwrap().parse().unwrap();
            answered += 1;
            if ack {
                let id: u64 = f["d"]["message"]["id"].as_str().unwrap().parse().unwrap();
                ids[i] = Some(id);
            } else {
                assert!(refused(i), "{f}");
                assert_eq!(f["d"]["code"], "validation_failed", "{f}");
            }
        }
        let stored: Vec<u64> = ids.iter().flatten().copied().collect();
        let expected = (0..N).filter(|&i| !refused(i)).count();
        assert_eq!(stored.len(), expected, "round {round}");
        assert!(
            stored.windows(2).all(|w| w[0] < w[1]),
            "round {round}: {ids:?}"
        );
        first = first.or(Some(stored[0].to_string()));
        // Another member sees them in that order too, the replies with what they reply to.
        let mut seen = Vec::new();
        while seen.len() < expected {
            let ev = alice_ws.event("message.created").await;
            let replied = &ev["d"]["referenced_message"];
            if reply(seen.len()) {
                assert_eq!(replied["content"], "0-0", "{ev}");
                assert_eq!(replied["author"]["username"], "go_bob", "{ev}");
            } else {
                assert!(replied.is_null(), "{ev}");
            }
            seen.push(ev["d"]["content"].as_str().unwrap().to_owned());
        }
        let sent: Vec<String> = (0..N)
            .filter(|&i| !refused(i))
            .map(|i| format!("{round}-{i}"))
            .collect();
        assert_eq!(seen, sent, "round {round}");
    }
    app.stop().await;
}

/// Sends read just before their socket closes are still stored and announced, in order,
/// those that had to wait to start included (a reply reads the message it replies to first;
/// the sends after it wait for it).
async fn gateway_sends_read_before_a_close_are_stored(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = access(&app.register("gc_alice").await);
    let bob = access(&app.register("gc_bob").await);
    let (_, general) = app.community(&alice, &[&bob]).await;
    let (mut alice_ws, _) = Ws::identify(&app, &alice).await;
    let (mut bob_ws, _) = Ws::identify(&app, &bob).await;
    bob_ws.send(create(&general, "first", "c-0")).await;
    let first = bob_ws.op("message_ack").await["d"]["message"]["id"].clone();
    assert_eq!(
        alice_ws.event("message.created").await["d"]["content"],
        "first"
    );

    let mut reply = create(&general, "reply", "c-1");
    reply["d"]["reply_to"] = first;
    let sends = [
        reply,
        create(&general, "after-1", "c-2"),
        create(&general, "after-2", "c-3"),
    ];
    bob_ws.send_then_close(&sends).await;
    for content in ["reply", "after-1", "after-2"] {
        let ev = alice_ws.event("message.created").await;
        assert_eq!(ev["d"]["content"], content, "{ev}");
    }
    assert_eq!(
        stored(&app, &general, &alice).await,
        ["after-2", "after-1", "reply", "first"]
    );
    app.stop().await;
}

/// A socket keeps its last channel's access and its sender's profile from one send to the
/// next: every change to the sender's standing or profile between two sends still counts,
/// and so does a timeout that runs out on its own (nothing reports that).
async fn a_socket_s_sends_follow_the_sender_s_standing(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = access(&app.register("gk_alice").await);
    let bob = access(&app.register("gk_bob").await);
    let (server, general) = app.community(&alice, &[&bob]).await;
    let sid = server["id"].as_str().unwrap();
    let bob_id = app.get("/api/v1/users/@me", Some(&bob)).await.body["id"].clone();
    let member = format!("/api/v1/servers/{sid}/members/{}", bob_id.as_str().unwrap());
    let (mut bob_ws, _) = Ws::identify(&app, &bob).await;
    let acked = |f: Value| f["d"]["nonce"].as_str().unwrap().to_owned();

    bob_ws.send(create(&general, "um", "k-1")).await;
    let ack = bob_ws.op("message_ack").await;
    assert_eq!(ack["d"]["message"]["author"]["display_name"], Value::Null);
    // A new name shows in the next message.
    let r = app
        .patch(
            "/api/v1/users/@me",
            json!({"display_name": "Beto"}),
            Some(&bob),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    bob_ws.send(create(&general, "um e meio", "k-1b")).await;
    let ack = bob_ws.op("message_ack").await;
    assert_eq!(ack["d"]["message"]["author"]["display_name"], "Beto");
    // Timed out until a moment from now: refused, then free again once it has run out.
    let until = time::OffsetDateTime::now_utc() + time::Duration::seconds(2);
    let until = until
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let r = app
        .patch(&member, json!({"timeout_until": until}), Some(&alice))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    bob_ws.send(create(&general, "dois", "k-2")).await;
    assert_eq!(refusal(&mut bob_ws, "k-2").await["code"], "forbidden");
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    bob_ws.send(create(&general, "três", "k-3")).await;
    assert_eq!(acked(bob_ws.op("message_ack").await), "k-3");
    // Kicked: the channel is unknown to him, as to anyone outside the server.
    let r = app.delete(&member, Some(&alice)).await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    bob_ws.send(create(&general, "quatro", "k-4")).await;
    assert_eq!(refusal(&mut bob_ws, "k-4").await["code"], "not_found");
    assert_eq!(
        stored(&app, &general, &alice).await,
        ["três", "um e meio", "um"]
    );
    app.stop().await;
}
