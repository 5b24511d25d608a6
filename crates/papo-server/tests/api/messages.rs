//! Messages: send, retries, history, edit, delete, reactions, pins, mentions, read states,
//! slow mode and the send rate limit.

use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Backend, TestApp, access};
use crate::ws::Ws;

both!(
    a_conversation_with_retries_edits_reactions_and_pins,
    mentions_and_read_states,
    authors_have_read_their_own_messages,
    slow_mode_and_the_send_rate_limit,
    concurrent_sends_are_committed_in_batches,
    presence_reaches_members_of_shared_servers,
    a_new_message_carries_its_authors_current_profile,
    sends_racing_their_channels_deletion_are_stored_or_unknown,
);

fn msgs(channel: &str) -> String {
    format!("/api/v1/channels/{channel}/messages")
}

async fn a_conversation_with_retries_edits_reactions_and_pins(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = access(&app.register("msg_alice").await);
    let bob = access(&app.register("msg_bob").await);
    let (_, general) = app.community(&alice, &[&bob]).await;
    let (mut alice_ws, _) = Ws::identify(&app, &alice).await;

    // Send with a nonce; a retry with the same nonce returns the same message, once.
    let body = json!({"content": "**olá** <script>alert(1)</script>", "nonce": "n-1"});
    let first = app.post(&msgs(&general), body.clone(), Some(&bob)).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert_eq!(
        first.body["content"], "**olá** <script>alert(1)</script>",
        "kept raw"
    );
    assert_eq!(first.body["author"]["username"], "msg_bob");
    assert_eq!(first.body["nonce"], "n-1");
    let id = first.body["id"].as_str().unwrap().to_owned();
    // The answer (written by hand) is the message as reading it back gives it (serde's).
    assert_eq!(first.header("content-type"), Some("application/json"));
    assert_eq!(first.body["reactions"], json!([]));
    let read = app
        .get(&format!("{}/{id}", msgs(&general)), Some(&bob))
        .await;
    assert_eq!(read.body, first.body);
    let ev = alice_ws.event("message.created").await;
    assert_eq!(ev["d"]["id"], id.as_str());
    assert!(
        ev["d"].get("reactions").is_none(),
        "events carry no reactions"
    );
    let retry = app.post(&msgs(&general), body, Some(&bob)).await;
    assert_eq!(
        (retry.status, retry.body["id"].as_str()),
        (200, Some(id.as_str()))
    );
    assert_eq!(retry.header("content-type"), Some("application/json"));
    assert_eq!(retry.body, first.body);
    // A reply; its event is the next message.created Alice sees (no duplicate in between).
    let reply = app
        .post(
            &msgs(&general),
            json!({"content": "resposta", "reply_to": id}),
            Some(&alice),
        )
        .await;
    assert_eq!(reply.status, 201);
    assert_eq!(reply.body["referenced_message"]["id"], id.as_str());
    assert_eq!(
        alice_ws.event("message.created").await["d"]["content"],
        "resposta"
    );
    let history = app.get(&msgs(&general), Some(&bob)).await.body;
    let list = history.as_array().unwrap();
    assert_eq!(list.len(), 2, "the retry stored nothing");
    assert_eq!(list[0]["content"], "resposta", "newest first");
    let older = app
        .get(
            &format!(
                "{}?before={}",
                msgs(&general),
                reply.body["id"].as_str().unwrap()
            ),
            Some(&bob),
        )
        .await;
    assert_eq!(older.body.as_array().unwrap().len(), 1);
    let around = app
        .get(
            &format!("{}?around={id}&limit=3", msgs(&general)),
            Some(&bob),
        )
        .await;
    assert_eq!(around.body.as_array().unwrap().len(), 2);

    // Edit: the author only.
    let path = format!("{}/{id}", msgs(&general));
    let r = app
        .patch(&path, json!({"content": "editado"}), Some(&alice))
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    let r = app
        .patch(&path, json!({"content": "editado"}), Some(&bob))
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body["edited_at"].is_string());
    assert_eq!(
        alice_ws.event("message.updated").await["d"]["content"],
        "editado"
    );

    // Reactions: one per user per emoji, counts with `me`.
    let thumbs = "%F0%9F%91%8D";
    let react = format!("{path}/reactions/{thumbs}");
    for token in [&alice, &bob, &bob] {
        assert_eq!(app.put(&react, json!(null), Some(token)).await.status, 204);
    }
    let ev = alice_ws.event("reaction.added").await;
    assert_eq!(ev["d"]["emoji"], "👍");
    let seen = app.get(&path, Some(&alice)).await.body;
    assert_eq!(
        seen["reactions"],
        json!([{"emoji": "👍", "count": 2, "me": true}])
    );
    assert_eq!(app.delete(&react, Some(&alice)).await.status, 204);
    let alice_id = me_id(&app, &alice).await;
    assert_eq!(
        alice_ws.event("reaction.removed").await["d"]["user_id"],
        alice_id.as_str()
    );
    let seen = app.get(&path, Some(&alice)).await.body;
    assert_eq!(
        seen["reactions"],
        json!([{"emoji": "👍", "count": 1, "me": false}])
    );
    let r = app
        .put(&format!("{path}/reactions/abc"), json!(null), Some(&bob))
        .await;
    assert_eq!((r.status, r.field_code("emoji")), (422, "invalid_value"));

    // Pins: manage_messages.
    let pin = format!("/api/v1/channels/{general}/pins/{id}");
    let r = app.put(&pin, json!(null), Some(&bob)).await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    assert_eq!(app.put(&pin, json!(null), Some(&alice)).await.status, 204);
    assert_eq!(
        alice_ws.event("channel.pins_updated").await["d"]["channel_id"],
        general.as_str()
    );
    let pins = app
        .get(&format!("/api/v1/channels/{general}/pins"), Some(&bob))
        .await
        .body;
    assert_eq!(pins[0]["id"], id.as_str());
    assert_eq!(pins[0]["pinned"], true);

    // Validation.
    for (body, field, code) in [
        (json!({"content": "   "}), "content", "too_short"),
        // Looks empty: zero-width spaces, a braille blank, a Hangul filler.
        (
            json!({"content": "\u{200B}\u{200B}"}),
            "content",
            "too_short",
        ),
        (
            json!({"content": "\u{2800}\n\u{3164}"}),
            "content",
            "too_short",
        ),
        (json!({"content": "x".repeat(4001)}), "content", "too_long"),
        (
            json!({"content": "a", "reply_to": "123"}),
            "reply_to",
            "invalid_value",
        ),
        (
            json!({"content": "a", "nonce": "n".repeat(65)}),
            "nonce",
            "invalid_value",
        ),
    ] {
        let r = app.post(&msgs(&general), body, Some(&bob)).await;
        assert_eq!((r.status, r.field_code(field)), (422, code), "{field}");
    }
    let r = app
        .get(&format!("{}?limit=101", msgs(&general)), Some(&bob))
        .await;
    assert_eq!(r.status, 422);

    // Delete: Alice (owner) may delete Bob's message; it is audited.
    assert_eq!(app.delete(&path, Some(&alice)).await.status, 204);
    assert_eq!(
        alice_ws.event("message.deleted").await["d"]["id"],
        id.as_str()
    );
    assert_eq!(app.get(&path, Some(&bob)).await.status, 404);
    let server_id = first.body["server_id"].as_str().unwrap();
    let log = app
        .get(
            &format!("/api/v1/servers/{server_id}/audit-log"),
            Some(&alice),
        )
        .await;
    assert_eq!(log.body["entries"][0]["action"], "message_delete");
    app.stop().await;
}

/// The id of the user behind `token`.
async fn me_id(app: &TestApp, token: &str) -> String {
    app.get("/api/v1/users/@me", Some(token)).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn mentions_and_read_states(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = access(&app.register("rs_alice").await);
    let bob = access(&app.register("rs_bob").await);
    let (server, general) = app.community(&alice, &[&bob]).await;
    let alice_id = me_id(&app, &alice).await;
    let bob_id = me_id(&app, &bob).await;
    let outsider_id = me_id(&app, &access(&app.register("rs_outsider").await)).await;
    // Alice's own @here (read by her as she sends it), then Bob mentions her.
    let owner_everyone = app
        .post(
            &msgs(&general),
            json!({"content": "@here reunião"}),
            Some(&alice),
        )
        .await;
    assert_eq!(owner_everyone.body["mention_everyone"], true);
    let r = app
        .post(
            &msgs(&general),
            json!({"content": format!(
                "oi <@{alice_id}> e <@{outsider_id}> e @everyone, `<@{bob_id}>`"
            )}),
            Some(&bob),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(
        r.body["mentions"],
        json!([alice_id]),
        "code spans do not mention, and nor does a user outside the server"
    );
    assert_eq!(
        r.body["mention_everyone"], false,
        "bob lacks mention_everyone"
    );
    let mid = r.body["id"].as_str().unwrap().to_owned();

    let (mut a1, ready) = Ws::identify(&app, &alice).await;
    let state = entry(&ready["read_states"], "channel_id", &general);
    assert_eq!(state["mention_count"], 1, "{state:?}");
    let channel = entry(&ready["servers"][0]["channels"], "id", &general);
    assert_eq!(channel["last_message_id"], mid.as_str());
    let (mut a2, _) = Ws::identify(&app, &alice).await;
    let r = app
        .post(
            &format!("/api/v1/channels/{general}/ack"),
            json!({"message_id": mid}),
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, 204);
    for ws in [&mut a1, &mut a2] {
        let ev = ws.event("read_state.updated").await;
        assert_eq!(ev["d"]["last_read_id"], mid.as_str());
        assert_eq!(ev["d"]["mention_count"], 0);
    }
    let states = app
        .get("/api/v1/users/@me/read-states", Some(&alice))
        .await
        .body;
    assert_eq!(states[0]["last_read_id"], mid.as_str());
    // A new member: older messages count as read.
    let carol = access(&app.register("rs_carol").await);
    let id = server["id"].as_str().unwrap();
    let code = app
        .post(
            &format!("/api/v1/servers/{id}/invites"),
            json!({}),
            Some(&alice),
        )
        .await
        .body["code"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        &format!("/api/v1/invites/{code}/accept"),
        json!({}),
        Some(&carol),
    )
    .await;
    let states = app
        .get("/api/v1/users/@me/read-states", Some(&carol))
        .await
        .body;
    let last_read: u64 = states[0]["last_read_id"].as_str().unwrap().parse().unwrap();
    let last_msg: u64 = mid.parse().unwrap();
    assert!(last_read > last_msg, "joined after the last message");
    app.stop().await;
}

/// The element of the array `list` whose `field` is `id`.
fn entry(list: &Value, field: &str, id: &str) -> Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|e| e[field] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no {field} = {id} in {list}"))
}

/// How far `token`'s user has read `channel`, from `GET /users/@me/read-states`.
async fn last_read(app: &TestApp, token: &str, channel: &str) -> String {
    let states = app
        .get("/api/v1/users/@me/read-states", Some(token))
        .await
        .body;
    entry(&states, "channel_id", channel)["last_read_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A channel's `last_message_id` in `GET /servers/{id}`.
async fn newest_in(app: &TestApp, token: &str, server: &str, channel: &str) -> Value {
    let detail = app
        .get(&format!("/api/v1/servers/{server}"), Some(token))
        .await
        .body;
    entry(&detail["channels"], "id", channel)["last_message_id"].clone()
}

/// Neither the author's read state nor the channel's newest message is written by a send:
/// both are read from the messages, so they follow deletes too.
async fn authors_have_read_their_own_messages(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = access(&app.register("own_alice").await);
    let bob = access(&app.register("own_bob").await);
    let (server, general) = app.community(&alice, &[&bob]).await;
    let sid = server["id"].as_str().unwrap();
    let mut sent = Vec::new();
    for (token, content) in [(&bob, "primeira"), (&alice, "segunda")] {
        let r = app
            .post(&msgs(&general), json!({"content": content}), Some(token))
            .await;
        assert_eq!(r.status, 201);
        sent.push(r.body["id"].as_str().unwrap().to_owned());
    }
    let (m1, m2) = (sent[0].as_str(), sent[1].as_str());
    // Nobody acknowledged anything: each has read up to their own newest message.
    assert_eq!(last_read(&app, &alice, &general).await, m2);
    assert_eq!(last_read(&app, &bob, &general).await, m1);
    assert_eq!(
        newest_in(&app, &bob, sid, &general).await,
        m2,
        "unread for Bob"
    );
    let (mut other, ready) = Ws::identify(&app, &alice).await;
    let state = entry(&ready["read_states"], "channel_id", &general);
    assert_eq!(state["last_read_id"], m2);
    // An acknowledgement before her own newest message reads as that message.
    let ack = format!("/api/v1/channels/{general}/ack");
    let r = app
        .post(&ack, json!({"message_id": m1}), Some(&alice))
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        other.event("read_state.updated").await["d"]["last_read_id"],
        m2
    );
    assert_eq!(last_read(&app, &alice, &general).await, m2);
    // Her message deleted: the channel's newest is Bob's again, and Alice has still read up
    // to where she wrote (deleting it makes nothing before it unread).
    let path = format!("{}/{m2}", msgs(&general));
    assert_eq!(app.delete(&path, Some(&alice)).await.status, 204);
    assert_eq!(newest_in(&app, &bob, sid, &general).await, m1);
    assert_eq!(last_read(&app, &alice, &general).await, m2);
    // An id from the future (ids are times) reads as the present: what comes after is unread.
    let r = app
        .post(
            &ack,
            json!({"message_id": i64::MAX.to_string()}),
            Some(&bob),
        )
        .await;
    assert_eq!(r.status, 204);
    let r = app
        .post(&msgs(&general), json!({"content": "depois"}), Some(&alice))
        .await;
    let m3: u64 = r.body["id"].as_str().unwrap().parse().unwrap();
    let read: u64 = last_read(&app, &bob, &general).await.parse().unwrap();
    assert!(read < m3, "{read} {m3}");
    app.stop().await;
}

async fn slow_mode_and_the_send_rate_limit(b: Backend) {
    let app = TestApp::spawn_with(b, |c| c.message_rate_burst = 3).await;
    let alice = access(&app.register("sm_alice").await);
    let bob = access(&app.register("sm_bob").await);
    let carol = access(&app.register("sm_carol").await);
    let (_, general) = app.community(&alice, &[&bob, &carol]).await;
    // Carol writes before slow mode begins: this node remembers no slow-mode send of hers.
    let r = app
        .post(&msgs(&general), json!({"content": "0"}), Some(&carol))
        .await;
    assert_eq!(r.status, 201);
    let r = app
        .patch(
            &format!("/api/v1/channels/{general}"),
            json!({"slowmode_secs": 60}),
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, 200);
    // Her last message's time is read back from the database (her read state's newest own
    // message, whose id says when it was made).
    let r = app
        .post(&msgs(&general), json!({"content": "1"}), Some(&carol))
        .await;
    assert_eq!((r.status, r.code()), (429, "slowmode"));
    let wait = r.body["retry_after"].as_u64().unwrap();
    assert!((59..=60).contains(&wait), "{wait}");
    assert_eq!(
        app.post(&msgs(&general), json!({"content": "1"}), Some(&bob))
            .await
            .status,
        201
    );
    let r = app
        .post(&msgs(&general), json!({"content": "2"}), Some(&bob))
        .await;
    assert_eq!((r.status, r.code()), (429, "slowmode"));
    let wait = r.body["retry_after"].as_u64().unwrap();
    assert!((59..=60).contains(&wait), "{wait}");
    assert!(r.header("retry-after").is_some());
    // Moderators are exempt from slow mode, not from the rate limit.
    for i in 0..3 {
        let r = app
            .post(
                &msgs(&general),
                json!({"content": format!("a{i}")}),
                Some(&alice),
            )
            .await;
        assert_eq!(r.status, 201);
    }
    let r = app
        .post(
            &msgs(&general),
            json!({"content": "too fast"}),
            Some(&alice),
        )
        .await;
    assert_eq!((r.status, r.code()), (429, "rate_limited"));
    assert!(r.body["retry_after"].as_u64().unwrap() >= 1);
    app.stop().await;
}

async fn concurrent_sends_are_committed_in_batches(b: Backend) {
    let app = TestApp::spawn_with(b, |c| c.message_rate_burst = 1000).await;
    let alice = access(&app.register("gc_alice").await);
    let (_, general) = app.community(&alice, &[]).await;
    let (mut ws, _) = Ws::identify(&app, &alice).await;
    let before = app.state.writer.stats();
    let path = msgs(&general);
    let (app_ref, path_ref, token) = (&app, &path, &alice);
    let sends = (0..60).map(|i| async move {
        app_ref
            .post(
                path_ref,
                json!({"content": format!("m{i}"), "nonce": format!("gc{i}")}),
                Some(token),
            )
            .await
    });
    let answers = futures::future::join_all(sends).await;
    assert!(answers.iter().all(|r| r.status == 201));
    let after = app.state.writer.stats();
    assert_eq!(after.messages - before.messages, 60);
    assert!(
        after.batches - before.batches < 60,
        "60 concurrent messages took {} commits",
        after.batches - before.batches
    );
    let mut seen = std::collections::HashSet::new();
    while seen.len() < 60 {
        let ev: Value = ws.event("message.created").await;
        seen.insert(ev["d"]["id"].as_str().unwrap().to_owned());
    }
    let mut history = Vec::new();
    let mut before_id: Option<String> = None;
    loop {
        let q = before_id
            .as_ref()
            .map_or(String::new(), |b| format!("&before={b}"));
        let page = app
            .get(&format!("{}?limit=25{q}", msgs(&general)), Some(&alice))
            .await
            .body;
        let page = page.as_array().unwrap().clone();
        if page.is_empty() {
            break;
        }
        before_id = page.last().unwrap()["id"].as_str().map(str::to_owned);
        history.extend(page);
    }
    assert_eq!(history.len(), 60, "every acknowledged message is stored");
    app.stop().await;
}

async fn presence_reaches_members_of_shared_servers(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = access(&app.register("pr_alice").await);
    let bob = access(&app.register("pr_bob").await);
    let carol = access(&app.register("pr_carol").await);
    app.community(&alice, &[&bob]).await;
    let alice_id = me_id(&app, &alice).await;
    let (mut bob_ws, _) = Ws::identify(&app, &bob).await;
    let (mut carol_ws, _) = Ws::identify(&app, &carol).await;
    let (mut alice_ws, _) = Ws::identify(&app, &alice).await;
    let ev = loop {
        let ev = bob_ws.event("presence.updated").await;
        if ev["d"]["user_id"] == alice_id.as_str() {
            break ev;
        }
    };
    assert_eq!(ev["d"]["status"], "online");
    // Bob's ready lists Alice, who is online.
    let (_, ready) = Ws::identify(&app, &bob).await;
    assert!(
        ready["presences"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["user_id"] == alice_id.as_str())
    );
    // Invisible reads offline to others.
    alice_ws
        .send(json!({"op": "presence_update", "d": {"status": "invisible"}}))
        .await;
    loop {
        let ev = bob_ws.event("presence.updated").await;
        if ev["d"]["user_id"] == alice_id.as_str() {
            assert_eq!(ev["d"]["status"], "offline");
            break;
        }
    }
    // ... while her own session sees what she chose (the two are encoded apart; otherwise
    // everyone shares one encoding).
    loop {
        let ev = alice_ws.event("presence.updated").await;
        if ev["d"]["user_id"] == alice_id.as_str() && ev["d"]["status"] != "online" {
            assert_eq!(ev["d"]["status"], "invisible", "{ev}");
            break;
        }
    }
    // Carol shares no server with Alice: her next event is her own profile change.
    app.patch("/api/v1/users/@me", json!({"bio": "oi"}), Some(&carol))
        .await;
    let ev = carol_ws.recv().await;
    let ev = if ev["t"] == "presence.updated" && ev["d"]["user_id"] != alice_id.as_str() {
        carol_ws.recv().await
    } else {
        ev
    };
    assert_eq!(ev["t"], "user.updated", "{ev}");
    // When Carol joins, the members see her come online.
    let carol_id = me_id(&app, &carol).await;
    let sid = app
        .get("/api/v1/users/@me/servers", Some(&alice))
        .await
        .body[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let code = app
        .post(
            &format!("/api/v1/servers/{sid}/invites"),
            json!({}),
            Some(&alice),
        )
        .await
        .body["code"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        &format!("/api/v1/invites/{code}/accept"),
        json!({}),
        Some(&carol),
    )
    .await;
    loop {
        let ev = bob_ws.event("presence.updated").await;
        if ev["d"]["user_id"] == carol_id.as_str() {
            assert_eq!(ev["d"]["status"], "online");
            break;
        }
    }
    app.stop().await;
}

/// A new message's author is written from the profile's JSON the server keeps: a change of
/// profile shows in the next message, in its answer and its event alike.
async fn a_new_message_carries_its_authors_current_profile(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = access(&app.register("prof_alice").await);
    let bob = access(&app.register("prof_bob").await);
    let (_, general) = app.community(&alice, &[&bob]).await;
    let (mut alice_ws, _) = Ws::identify(&app, &alice).await;
    let first = app
        .post(&msgs(&general), json!({"content": "one"}), Some(&bob))
        .await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert_eq!(first.body["author"]["display_name"], Value::Null);
    alice_ws.event("message.created").await;
    let edit = json!({"display_name": "Bia \"B\" ✨", "pronouns": "ela/dela"});
    let r = app.patch("/api/v1/users/@me", edit, Some(&bob)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let second = app
        .post(&msgs(&general), json!({"content": "two"}), Some(&bob))
        .await;
    assert_eq!(second.status, 201, "{:?}", second.body);
    let author = &second.body["author"];
    assert_eq!(author["display_name"], "Bia \"B\" ✨");
    assert_eq!(author["pronouns"], "ela/dela");
    let ev = loop {
        let ev = alice_ws.event("message.created").await;
        if ev["d"]["content"] == "two" {
            break ev;
        }
    };
    assert_eq!(&ev["d"]["author"], author);
    // As reading it back writes it (the REST path builds the author anew).
    let id = second.body["id"].as_str().unwrap();
    let read = app
        .get(&format!("{}/{id}", msgs(&general)), Some(&bob))
        .await;
    assert_eq!(&read.body["author"], author);
    app.stop().await;
}

/// Messages sent while their channel is being deleted are stored (and go with the channel)
/// or refused as to an unknown channel: never a 500. A send that passed its checks before
/// the delete and reached the store after it failed its foreign key, and that was a 500.
async fn sends_racing_their_channels_deletion_are_stored_or_unknown(b: Backend) {
    let app = TestApp::spawn_with(b, |c| c.message_rate_burst = 1000).await;
    let alice = access(&app.register("race_alice").await);
    let (server, _) = app.community(&alice, &[]).await;
    let sid = server["id"].as_str().unwrap();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for round in 0..6 {
        let channel = app
            .post(
                &format!("/api/v1/servers/{sid}/channels"),
                json!({"name": format!("doomed-{round}"), "kind": "text"}),
                Some(&alice),
            )
            .await
            .body["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let path = msgs(&channel);
        let (app_ref, path_ref, token) = (&app, &path, &alice);
        let sends = (0..6).map(|i| async move {
            let r = app_ref
                .post(path_ref, json!({"content": format!("m{i}")}), Some(token))
                .await;
            (r.status, r.code().to_owned())
        });
        let channel_path = format!("/api/v1/channels/{channel}");
        let delete = app.delete(&channel_path, Some(&alice));
        let (answers, deleted) = tokio::join!(futures::future::join_all(sends), delete);
        assert_eq!(deleted.status, 204);
        for (status, code) in answers {
            assert!(
                status == 201 || (status, code.as_str()) == (404, "not_found"),
                "{status} {code}"
            );
            *statuses.entry(status).or_default() += 1;
        }
    }
    println!("sends by status: {statuses:?}");
    app.stop().await;
}
