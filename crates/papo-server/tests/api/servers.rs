//! Servers and channels: REST, permissions and gateway events.

use serde_json::json;

use crate::both;
use crate::helpers::{Backend, TestApp, access};
use crate::ws::Ws;

both!(
    creating_a_server_makes_defaults_and_tells_the_owner_live,
    servers_are_invisible_to_non_members,
    channels_are_created_edited_and_deleted_with_events,
    channel_fields_are_validated,
    leaving_and_deleting,
    ownership_moves_to_a_member,
    large_servers_show_presence_in_the_member_list,
    membership_changes_after_the_member_list_was_read,
    roles_and_channels_created_at_once_get_positions_of_their_own,
    a_server_has_at_most_250_roles,
    a_user_is_in_at_most_200_servers,
);

/// The 201st server is refused: it would have been missing from the list and from `ready`.
async fn a_user_is_in_at_most_200_servers(b: Backend) {
    let app = TestApp::spawn(b).await;
    let t = access(&app.register("srv_many").await);
    let other = access(&app.register("srv_host").await);
    let (elsewhere, _) = app.community(&other, &[]).await;
    let code = app
        .post(
            &format!(
                "/api/v1/servers/{}/invites",
                elsewhere["id"].as_str().unwrap()
            ),
            json!({}),
            Some(&other),
        )
        .await
        .body["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut first = String::new();
    for i in 0..200 {
        let r = app
            .post(
                "/api/v1/servers",
                json!({ "name": format!("s{i}") }),
                Some(&t),
            )
            .await;
        assert_eq!(r.status, 201, "server {i}: {:?}", r.body);
        if i == 0 {
            first = r.body["id"].as_str().unwrap().to_owned();
        }
    }
    let r = app
        .post("/api/v1/servers", json!({"name": "demais"}), Some(&t))
        .await;
    assert_eq!((r.status, r.code()), (409, "too_many_servers"));
    let r = app
        .post(
            &format!("/api/v1/invites/{code}/accept"),
            json!({}),
            Some(&t),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "too_many_servers"));
    let listed = app.get("/api/v1/users/@me/servers", Some(&t)).await.body;
    assert_eq!(listed.as_array().unwrap().len(), 200);
    // Deleting one makes room.
    let r = app
        .delete(&format!("/api/v1/servers/{first}"), Some(&t))
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let r = app
        .post(
            &format!("/api/v1/invites/{code}/accept"),
            json!({}),
            Some(&t),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    // A member accepting again at the cap changes nothing, and is not refused.
    let r = app
        .post(
            &format!("/api/v1/invites/{code}/accept"),
            json!({}),
            Some(&t),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    app.stop().await;
}

/// The 251st role is refused with its own code (it was a `validation_failed` naming no
/// field, which the web app could only read as "check the highlighted fields").
async fn a_server_has_at_most_250_roles(b: Backend) {
    let app = TestApp::spawn(b).await;
    let t = access(&app.register("srv_rui").await);
    let server = app
        .post("/api/v1/servers", json!({"name": "Cargos"}), Some(&t))
        .await
        .body;
    let path = format!("/api/v1/servers/{}/roles", server["id"].as_str().unwrap());
    // @everyone is the first of the 250.
    for i in 1..250 {
        let r = app
            .post(&path, json!({ "name": format!("r{i}") }), Some(&t))
            .await;
        assert_eq!(r.status, 201, "role {i}: {:?}", r.body);
    }
    let r = app.post(&path, json!({"name": "demais"}), Some(&t)).await;
    assert_eq!(r.status, 409, "{:?}", r.body);
    assert_eq!(r.code(), "too_many_roles");
    app.stop().await;
}

async fn creating_a_server_makes_defaults_and_tells_the_owner_live(b: Backend) {
    let app = TestApp::spawn(b).await;
    let auth = app.register("srv_ana").await;
    let t = access(&auth);
    let (mut ws, ready) = Ws::identify(&app, &t).await;
    assert_eq!(ready["servers"], json!([]));
    let r = app
        .post(
            "/api/v1/servers",
            json!({"name": "  Clube do Livro "}),
            Some(&t),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let server = r.body;
    assert_eq!(server["name"], "Clube do Livro");
    assert_eq!(server["owner_id"], auth["user"]["id"]);
    let channels = server["channels"].as_array().unwrap();
    assert_eq!(channels.len(), 2);
    assert_eq!(
        (channels[0]["name"].as_str(), channels[0]["kind"].as_str()),
        (Some("general"), Some("text"))
    );
    assert_eq!(
        (channels[1]["name"].as_str(), channels[1]["kind"].as_str()),
        (Some("General"), Some("voice"))
    );
    // In Portuguese (another user: Ana's servers are counted below): asked for, or from the
    // creator's saved language; another language is refused.
    let bia = access(&app.register("srv_bia").await);
    let names = |server: &serde_json::Value| {
        server["channels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let r = app
        .post(
            "/api/v1/servers",
            json!({"name": "Turma", "locale": "pt-BR"}),
            Some(&bia),
        )
        .await;
    assert_eq!(names(&r.body), ["geral", "Geral"]);
    let r = app
        .post(
            "/api/v1/servers",
            json!({"name": "Turma", "locale": "fr"}),
            Some(&bia),
        )
        .await;
    assert_eq!(r.status, 422, "{:?}", r.body);
    let r = app
        .post("/api/v1/servers", json!({"name": "  "}), Some(&bia))
        .await;
    assert_eq!((r.status, r.field_code("name")), (422, "required"));
    let r = app
        .patch(
            "/api/v1/users/@me",
            json!({"settings": {"locale": "pt-BR"}}),
            Some(&bia),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app
        .post("/api/v1/servers", json!({"name": "Turma"}), Some(&bia))
        .await;
    assert_eq!(names(&r.body), ["geral", "Geral"]);
    assert_eq!(
        server["roles"][0]["id"], server["id"],
        "@everyone has the server's id"
    );
    assert_eq!(server["roles"][0]["name"], "@everyone");
    assert!(server["roles"][0]["permissions"].is_string());
    assert!(
        server["me"]["permissions"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    let ev = ws.event("server.created").await;
    assert_eq!(ev["d"]["id"], server["id"]);
    let id = server["id"].as_str().unwrap();
    let r = app.get("/api/v1/users/@me/servers", Some(&t)).await;
    assert_eq!(r.body.as_array().unwrap().len(), 1);
    assert_eq!(
        app.get(&format!("/api/v1/servers/{id}"), Some(&t))
            .await
            .body["channels"],
        server["channels"]
    );
    // A new session gets the server in ready.
    let (_ws2, ready) = Ws::identify(&app, &t).await;
    assert_eq!(ready["servers"][0]["id"], server["id"]);
    assert_eq!(ready["servers"][0]["channels"].as_array().unwrap().len(), 2);
    // Bad names.
    for (name, code) in [("a", "too_short"), (&*"x".repeat(101), "too_long")] {
        let r = app
            .post("/api/v1/servers", json!({"name": name}), Some(&t))
            .await;
        assert_eq!((r.status, r.field_code("name")), (422, code));
    }
    app.stop().await;
}

async fn servers_are_invisible_to_non_members(b: Backend) {
    let app = TestApp::spawn(b).await;
    let owner = access(&app.register("srv_bia").await);
    let stranger = access(&app.register("srv_caio").await);
    let server = app
        .post("/api/v1/servers", json!({"name": "Private"}), Some(&owner))
        .await
        .body;
    let id = server["id"].as_str().unwrap();
    let channel = server["channels"][0]["id"].as_str().unwrap();
    let (mut ws, _) = Ws::identify(&app, &stranger).await;
    let checks = [
        ("GET", format!("/api/v1/servers/{id}")),
        ("PATCH", format!("/api/v1/servers/{id}")),
        ("DELETE", format!("/api/v1/servers/{id}")),
        ("GET", format!("/api/v1/servers/{id}/channels")),
        ("POST", format!("/api/v1/servers/{id}/channels")),
        ("PATCH", format!("/api/v1/channels/{channel}")),
        ("DELETE", format!("/api/v1/channels/{channel}")),
        ("DELETE", format!("/api/v1/users/@me/servers/{id}")),
        ("GET", "/api/v1/servers/123".to_string()),
        ("GET", "/api/v1/servers/nope".to_string()),
    ];
    for (method, path) in &checks {
        let req = app
            .client
            .request(method.parse().unwrap(), app.url(path))
            .bearer_auth(&stranger)
            .json(&json!({"name": "x-name", "kind": "text"}));
        let r = app.send(req).await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "{method} {path}");
    }
    // Events of that server never reach the stranger.
    app.patch(
        &format!("/api/v1/servers/{id}"),
        json!({"name": "Renamed"}),
        Some(&owner),
    )
    .await;
    ws.send(json!({"op": "heartbeat"})).await;
    loop {
        let f = ws.recv().await;
        assert!(f["t"] != "server.updated", "leaked: {f}");
        if f["op"] == "heartbeat_ack" {
            break;
        }
    }
    app.stop().await;
}

async fn channels_are_created_edited_and_deleted_with_events(b: Backend) {
    let app = TestApp::spawn(b).await;
    let t = access(&app.register("srv_davi").await);
    let server = app
        .post("/api/v1/servers", json!({"name": "Estudos"}), Some(&t))
        .await
        .body;
    let id = server["id"].as_str().unwrap();
    let (mut ws, _) = Ws::identify(&app, &t).await;
    let cat = app
        .post(
            &format!("/api/v1/servers/{id}/channels"),
            json!({"name": "Matérias", "kind": "category"}),
            Some(&t),
        )
        .await;
    assert_eq!(cat.status, 201, "{:?}", cat.body);
    let r = app
        .post(
            &format!("/api/v1/servers/{id}/channels"),
            json!({"name": "Leituras da Semana", "kind": "text", "parent_id": cat.body["id"], "topic": "Livros"}),
            Some(&t),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["name"], "leituras-da-semana");
    assert_eq!(r.body["parent_id"], cat.body["id"]);
    assert_eq!(r.body["position"], 3);
    let ch = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(ws.event("channel.created").await["d"]["name"], "Matérias");
    assert_eq!(ws.event("channel.created").await["d"]["id"], ch.as_str());
    let r = app
        .patch(
            &format!("/api/v1/channels/{ch}"),
            json!({"topic": null, "slowmode_secs": 30, "name": "Resenhas Curtas"}),
            Some(&t),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        (r.body["name"].as_str(), r.body["slowmode_secs"].as_i64()),
        (Some("resenhas-curtas"), Some(30))
    );
    assert!(r.body["topic"].is_null());
    assert_eq!(ws.event("channel.updated").await["d"]["slowmode_secs"], 30);
    let listed = app
        .get(&format!("/api/v1/servers/{id}/channels"), Some(&t))
        .await
        .body;
    assert_eq!(listed.as_array().unwrap().len(), 4);
    assert_eq!(
        app.delete(&format!("/api/v1/channels/{ch}"), Some(&t))
            .await
            .status,
        204
    );
    let ev = ws.event("channel.deleted").await;
    assert_eq!(
        (ev["d"]["id"].as_str(), ev["d"]["server_id"].as_str()),
        (Some(ch.as_str()), Some(id))
    );
    assert_eq!(
        app.delete(&format!("/api/v1/channels/{ch}"), Some(&t))
            .await
            .status,
        404
    );
    app.stop().await;
}

async fn channel_fields_are_validated(b: Backend) {
    let app = TestApp::spawn(b).await;
    let t = access(&app.register("srv_eva").await);
    let server = app
        .post("/api/v1/servers", json!({"name": "Regras"}), Some(&t))
        .await
        .body;
    let id = server["id"].as_str().unwrap();
    let text = server["channels"][0]["id"].as_str().unwrap();
    let path = format!("/api/v1/servers/{id}/channels");
    // A `#` typed before a text channel's name is dropped (it is drawn before every one).
    let r = app
        .post(
            &path,
            json!({"name": "#Avisos Gerais", "kind": "text"}),
            Some(&t),
        )
        .await;
    assert_eq!(r.body["name"], "avisos-gerais", "{:?}", r.body);
    // A length refused says its limit, for the client to put in its own words.
    let r = app
        .post(
            &path,
            json!({"name": "x".repeat(101), "kind": "text"}),
            Some(&t),
        )
        .await;
    assert_eq!(r.body["fields"]["name"]["limit"], 100, "{:?}", r.body);
    let cases = [
        (json!({"name": "  ", "kind": "text"}), "name", "required"),
        (json!({"name": "##", "kind": "text"}), "name", "required"),
        (
            json!({"name": "x".repeat(101), "kind": "text"}),
            "name",
            "too_long",
        ),
        (
            json!({"name": "a", "kind": "forum"}),
            "kind",
            "invalid_value",
        ),
        (
            json!({"name": "a", "kind": "text", "slowmode_secs": 21601}),
            "slowmode_secs",
            "invalid_value",
        ),
        (
            json!({"name": "a", "kind": "text", "user_limit": 5}),
            "kind",
            "invalid_value",
        ),
        (
            json!({"name": "a", "kind": "voice", "user_limit": 100}),
            "user_limit",
            "invalid_value",
        ),
        (
            json!({"name": "a", "kind": "voice", "bitrate": 1000}),
            "bitrate",
            "invalid_value",
        ),
        (
            json!({"name": "a", "kind": "text", "parent_id": text}),
            "parent_id",
            "invalid_value",
        ),
        (
            json!({"name": "a", "kind": "text", "parent_id": "123"}),
            "parent_id",
            "invalid_value",
        ),
        (
            json!({"name": "a", "kind": "text", "topic": "t".repeat(1025)}),
            "topic",
            "too_long",
        ),
    ];
    for (body, field, code) in cases {
        let r = app.post(&path, body.clone(), Some(&t)).await;
        assert_eq!(
            (r.status, r.field_code(field)),
            (422, code),
            "{body}: {:?}",
            r.body
        );
    }
    let perms = app.get("/api/v1/permissions", None).await.body;
    assert_eq!(perms["view_channel"], "1024");
    assert_eq!(perms["moderate_members"], (1u64 << 40).to_string());
    app.stop().await;
}

async fn leaving_and_deleting(b: Backend) {
    let app = TestApp::spawn(b).await;
    let t = access(&app.register("srv_fabi").await);
    let server = app
        .post("/api/v1/servers", json!({"name": "Temporário"}), Some(&t))
        .await
        .body;
    let id = server["id"].as_str().unwrap();
    let r = app
        .delete(&format!("/api/v1/users/@me/servers/{id}"), Some(&t))
        .await;
    assert_eq!((r.status, r.code()), (409, "owner_cannot_leave"));
    let (mut ws, _) = Ws::identify(&app, &t).await;
    assert_eq!(
        app.delete(&format!("/api/v1/servers/{id}"), Some(&t))
            .await
            .status,
        204
    );
    assert_eq!(ws.event("server.deleted").await["d"]["id"], id);
    assert_eq!(
        app.get(&format!("/api/v1/servers/{id}"), Some(&t))
            .await
            .status,
        404
    );
    assert_eq!(
        app.get("/api/v1/users/@me/servers", Some(&t)).await.body,
        json!([])
    );
    app.stop().await;
}

async fn ownership_moves_to_a_member(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = access(&app.register("own_alice").await);
    let bob_auth = app.register("own_bob").await;
    let bob = access(&bob_auth);
    let bob_id = bob_auth["user"]["id"].as_str().unwrap();
    let carol_auth = app.register("own_carol").await;
    let carol_id = carol_auth["user"]["id"].as_str().unwrap();
    let (server, _) = app.community(&alice, &[&bob]).await;
    let sid = server["id"].as_str().unwrap();
    let path = format!("/api/v1/servers/{sid}");
    let r = app
        .patch(&path, json!({"owner_id": bob_id}), Some(&bob))
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    let r = app
        .patch(&path, json!({"owner_id": carol_id}), Some(&alice))
        .await;
    assert_eq!((r.status, r.field_code("owner_id")), (422, "invalid_value"));
    let (mut bob_ws, _) = Ws::identify(&app, &bob).await;
    let r = app
        .patch(&path, json!({"owner_id": bob_id}), Some(&alice))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["owner_id"], bob_id);
    assert_eq!(
        bob_ws.event("server.updated").await["d"]["owner_id"],
        bob_id
    );
    // Alice may leave now; Bob may not (he owns it) but may delete it.
    assert_eq!(
        app.delete(&format!("/api/v1/users/@me/servers/{sid}"), Some(&alice))
            .await
            .status,
        204
    );
    let r = app
        .delete(&format!("/api/v1/users/@me/servers/{sid}"), Some(&bob))
        .await;
    assert_eq!((r.status, r.code()), (409, "owner_cannot_leave"));
    let log = app
        .get(
            &format!("/api/v1/servers/{sid}/audit-log?action=server_update"),
            Some(&bob),
        )
        .await;
    assert_eq!(log.body["entries"][0]["changes"]["owner_id"][1], bob_id);
    // The new owner is among the answer's users, so a client can name him.
    let users = log.body["users"].as_array().unwrap();
    assert!(users.iter().any(|u| u["id"] == bob_id), "{users:?}");
    assert_eq!(app.delete(&path, Some(&bob)).await.status, 204);
    app.stop().await;
}

/// Past the large-server size, presence changes are no longer pushed to every member (that
/// would cost members² deliveries): `ready` leaves those members out and the member list
/// carries each member's presence instead.
async fn large_servers_show_presence_in_the_member_list(b: Backend) {
    let app = TestApp::spawn_with(b, |c| c.large_server_members = 2).await;
    let (alice, bob, carol) = (
        app.register("lg_alice").await,
        app.register("lg_bob").await,
        app.register("lg_carol").await,
    );
    let (a, bo, c) = (access(&alice), access(&bob), access(&carol));
    let (server, general) = app.community(&a, &[&bo]).await;
    let sid = server["id"].as_str().unwrap().to_owned();
    // Two members: a small server, presence is pushed.
    let (mut bob_ws, ready) = Ws::identify(&app, &bo).await;
    assert_eq!(ready["servers"][0]["large"], false);
    let (_alice_ws, _) = Ws::identify(&app, &a).await;
    loop {
        let ev = bob_ws.event("presence.updated").await;
        if ev["d"]["user_id"] == alice["user"]["id"] {
            assert_eq!(ev["d"]["status"], "online");
            break;
        }
    }
    // Carol makes three: large from now on.
    let code = app
        .post(
            &format!("/api/v1/servers/{sid}/invites"),
            json!({}),
            Some(&a),
        )
        .await
        .body["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let joined = app
        .post(
            &format!("/api/v1/invites/{code}/accept"),
            json!({}),
            Some(&c),
        )
        .await;
    assert_eq!(joined.body["large"], true, "{:?}", joined.body);
    let (mut bob_again, ready) = Ws::identify(&app, &bo).await;
    assert_eq!(ready["servers"][0]["large"], true);
    let listed: Vec<&str> = ready["presences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        vec![bob["user"]["id"].as_str().unwrap()],
        "only bob himself"
    );
    // Carol coming online is not pushed to Bob's new session: his next event is the message.
    let (_carol_ws, _) = Ws::identify(&app, &c).await;
    app.post(
        &format!("/api/v1/channels/{general}/messages"),
        json!({"content": "oi"}),
        Some(&a),
    )
    .await;
    let next = loop {
        let f = bob_again.recv().await;
        if f["op"] == "event"
            && !(f["t"] == "presence.updated" && f["d"]["user_id"] == bob["user"]["id"])
        {
            break f;
        }
    };
    assert_eq!(next["t"], "message.created", "{next}");
    // The member list shows everyone's presence as it is now.
    let list = app
        .get(&format!("/api/v1/servers/{sid}/members"), Some(&bo))
        .await
        .body;
    let status_of = |user: &serde_json::Value| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|m| m["user"]["id"] == user["user"]["id"])
            .map(|m| m["presence"]["status"].clone())
    };
    for who in [&alice, &bob, &carol] {
        assert_eq!(status_of(who), Some(json!("online")), "{list}");
    }
    app.stop().await;
}

/// The server keeps a server's memberships in memory once any of them is read: joins,
/// leaves and returns afterwards must still be seen at once.
async fn membership_changes_after_the_member_list_was_read(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = access(&app.register("mem_alice").await);
    let bob = access(&app.register("mem_bob").await);
    let carol = access(&app.register("mem_carol").await);
    let (server, _) = app.community(&alice, &[&carol]).await;
    let sid = server["id"].as_str().unwrap();
    let path = format!("/api/v1/servers/{sid}");
    let leave = format!("/api/v1/users/@me/servers/{sid}");
    let status = |token: &str| {
        let (app, path) = (&app, &path);
        let token = token.to_owned();
        async move { app.get(path, Some(&token)).await.status }
    };
    // Reads every membership at once; bob is not among them.
    assert_eq!(status(&alice).await, 200);
    assert_eq!(status(&bob).await, 404);
    let code = app
        .post(&format!("{path}/invites"), json!({}), Some(&alice))
        .await
        .body["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let accept = format!("/api/v1/invites/{code}/accept");
    assert_eq!(app.post(&accept, json!({}), Some(&bob)).await.status, 200);
    assert_eq!(status(&bob).await, 200);
    assert_eq!(app.delete(&leave, Some(&bob)).await.status, 204);
    assert_eq!(status(&bob).await, 404);
    assert_eq!(status(&carol).await, 200, "the others are unaffected");
    assert_eq!(app.post(&accept, json!({}), Some(&bob)).await.status, 200);
    assert_eq!(status(&bob).await, 200);
    // And a fresh identify lists the server for the member who came back.
    let (_ws, ready) = Ws::identify(&app, &bob).await;
    let ids: Vec<&str> = ready["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [sid]);
    app.stop().await;
}

/// Roles and channels created at the same moment each get a position of their own (on
/// PostgreSQL the roles all got position 1, and a role's rank is its position; channels
/// took the same position after the last one).
async fn roles_and_channels_created_at_once_get_positions_of_their_own(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = access(&app.register("rank_alice").await);
    let (server, _) = app.community(&alice, &[]).await;
    let sid = server["id"].as_str().unwrap();
    let mut creating = tokio::task::JoinSet::new();
    for i in 0..8 {
        for (what, body) in [
            ("roles", json!({"name": format!("r{i}")})),
            ("channels", json!({"name": format!("c{i}"), "kind": "text"})),
        ] {
            let req = app
                .client
                .post(app.url(&format!("/api/v1/servers/{sid}/{what}")))
                .bearer_auth(&alice)
                .json(&body);
            creating.spawn(async move { req.send().await.unwrap().status().as_u16() });
        }
    }
    while let Some(status) = creating.join_next().await {
        assert_eq!(status.unwrap(), 201);
    }
    let channels = app
        .get(&format!("/api/v1/servers/{sid}/channels"), Some(&alice))
        .await
        .body;
    let mut positions: Vec<i64> = channels
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["position"].as_i64().unwrap())
        .collect();
    let all = positions.len();
    positions.sort_unstable();
    positions.dedup();
    assert_eq!(positions.len(), all, "{channels}");
    let roles = app
        .get(&format!("/api/v1/servers/{sid}/roles"), Some(&alice))
        .await
        .body;
    let mut positions: Vec<i64> = roles
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["position"].as_i64().unwrap())
        .collect();
    positions.sort_unstable();
    assert_eq!(positions, (0..=8).collect::<Vec<_>>(), "{roles}");
    app.stop().await;
}
