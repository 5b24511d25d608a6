//! Invites, joining, and what a plain member may not do.

use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Backend, TestApp, access};
use crate::ws::Ws;

both!(
    an_invite_lets_a_second_user_join_live,
    unusable_invites_have_clear_codes,
    a_member_lacking_each_permission_is_refused,
    accepting_twice_at_once_joins_once,
);

async fn server_with_invite(app: &TestApp, owner: &str, body: Value) -> (Value, String) {
    let server = app
        .post("/api/v1/servers", json!({"name": "Convites"}), Some(owner))
        .await
        .body;
    let id = server["id"].as_str().unwrap();
    let r = app
        .post(&format!("/api/v1/servers/{id}/invites"), body, Some(owner))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    (server, r.body["code"].as_str().unwrap().to_owned())
}

async fn an_invite_lets_a_second_user_join_live(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = access(&app.register("inv_alice").await);
    let bob_auth = app.register("inv_bob").await;
    let bob = access(&bob_auth);
    let (server, code) = server_with_invite(&app, &alice, json!({})).await;
    let id = server["id"].as_str().unwrap();
    let (mut alice_ws, _) = Ws::identify(&app, &alice).await;
    let (mut bob_ws, _) = Ws::identify(&app, &bob).await;
    let preview = app
        .get(&format!("/api/v1/invites/{code}"), Some(&bob))
        .await;
    assert_eq!(preview.status, 200, "{:?}", preview.body);
    assert_eq!(preview.body["server"]["name"], "Convites");
    assert_eq!(preview.body["member_count"], 1);
    assert_eq!(preview.body["online_count"], 1, "alice is connected");
    assert!(preview.body["expires_at"].is_string(), "7 days by default");
    let joined = app
        .post(
            &format!("/api/v1/invites/{code}/accept"),
            json!({}),
            Some(&bob),
        )
        .await;
    assert_eq!(joined.status, 200, "{:?}", joined.body);
    assert_eq!(joined.body["id"], id);
    assert_eq!(joined.body["channels"].as_array().unwrap().len(), 2);
    let ev = alice_ws.event("member.joined").await;
    assert_eq!(ev["d"]["user"]["username"], "inv_bob");
    assert!(ev["d"]["user"].get("email").is_none());
    assert_eq!(bob_ws.event("server.created").await["d"]["id"], id);
    // Bob now follows the server live.
    app.post(
        &format!("/api/v1/servers/{id}/channels"),
        json!({"name": "novidades", "kind": "text"}),
        Some(&alice),
    )
    .await;
    assert_eq!(
        bob_ws.event("channel.created").await["d"]["name"],
        "novidades"
    );
    // Accepting again is harmless and does not spend a use.
    let again = app
        .post(
            &format!("/api/v1/invites/{code}/accept"),
            json!({}),
            Some(&bob),
        )
        .await;
    assert_eq!(again.status, 200);
    let list = app
        .get(&format!("/api/v1/servers/{id}/invites"), Some(&alice))
        .await;
    assert_eq!(list.body[0]["uses"], 1);
    // Bob leaves: his sessions drop the server; he no longer sees it.
    assert_eq!(
        app.delete(&format!("/api/v1/users/@me/servers/{id}"), Some(&bob))
            .await
            .status,
        204
    );
    assert_eq!(bob_ws.event("server.deleted").await["d"]["id"], id);
    assert_eq!(
        app.get(&format!("/api/v1/servers/{id}"), Some(&bob))
            .await
            .status,
        404
    );
    app.stop().await;
}

async fn unusable_invites_have_clear_codes(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = access(&app.register("inv_ana").await);
    let bob = access(&app.register("inv_beto").await);
    let carol = access(&app.register("inv_cora").await);
    let r = app.get("/api/v1/invites/doesnotexist", Some(&bob)).await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let r = app
        .post("/api/v1/invites/doesnotexist/accept", json!({}), Some(&bob))
        .await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    // One use only: the second person is refused.
    let (once_server, once) = server_with_invite(&app, &alice, json!({"max_uses": 1})).await;
    assert_eq!(
        app.post(
            &format!("/api/v1/invites/{once}/accept"),
            json!({}),
            Some(&bob)
        )
        .await
        .status,
        200
    );
    let r = app
        .post(
            &format!("/api/v1/invites/{once}/accept"),
            json!({}),
            Some(&carol),
        )
        .await;
    assert_eq!((r.status, r.code()), (410, "invite_used_up"));
    // The link still shows Bob, who used it, where it leads (he is a member); not Carol.
    let preview = format!("/api/v1/invites/{once}");
    let r = app.get(&preview, Some(&bob)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["server"]["id"], once_server["id"]);
    let r = app.get(&preview, Some(&carol)).await;
    assert_eq!((r.status, r.code()), (410, "invite_used_up"));
    // Revoked.
    let (_, revoked) = server_with_invite(&app, &alice, json!({"max_age_secs": 0})).await;
    assert_eq!(
        app.delete(&format!("/api/v1/invites/{revoked}"), Some(&alice))
            .await
            .status,
        204
    );
    let r = app
        .get(&format!("/api/v1/invites/{revoked}"), Some(&carol))
        .await;
    assert_eq!((r.status, r.code()), (410, "invite_revoked"));
    let r = app
        .post(
            &format!("/api/v1/invites/{revoked}/accept"),
            json!({}),
            Some(&carol),
        )
        .await;
    assert_eq!((r.status, r.code()), (410, "invite_revoked"));
    // Expired: made with a 1 s lifetime.
    let (short_server, short) = server_with_invite(&app, &alice, json!({"max_age_secs": 1})).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = app
        .post(
            &format!("/api/v1/invites/{short}/accept"),
            json!({}),
            Some(&carol),
        )
        .await;
    assert_eq!((r.status, r.code()), (410, "invite_expired"));
    // Neither the used-up nor the expired invite is listed among the live ones.
    for server in [&once_server, &short_server] {
        let sid = server["id"].as_str().unwrap();
        let list = app
            .get(&format!("/api/v1/servers/{sid}/invites"), Some(&alice))
            .await;
        assert_eq!(list.body, json!([]), "{sid}");
    }
    // Validation.
    let server = app
        .post("/api/v1/servers", json!({"name": "Limites"}), Some(&alice))
        .await
        .body;
    let id = server["id"].as_str().unwrap();
    for (body, field) in [
        (json!({"max_age_secs": -1}), "max_age_secs"),
        (json!({"max_age_secs": 2_592_001}), "max_age_secs"),
        (json!({"max_uses": 1001}), "max_uses"),
    ] {
        let r = app
            .post(&format!("/api/v1/servers/{id}/invites"), body, Some(&alice))
            .await;
        assert_eq!((r.status, r.field_code(field)), (422, "invalid_value"));
    }
    app.stop().await;
}

async fn a_member_lacking_each_permission_is_refused(b: Backend) {
    let app = TestApp::spawn(b).await;
    let owner = access(&app.register("inv_dono").await);
    let member = access(&app.register("inv_membro").await);
    let (server, code) = server_with_invite(&app, &owner, json!({})).await;
    let id = server["id"].as_str().unwrap();
    let channel = server["channels"][0]["id"].as_str().unwrap();
    app.post(
        &format!("/api/v1/invites/{code}/accept"),
        json!({}),
        Some(&member),
    )
    .await;
    // (method, path, body, permission named in the message)
    let table = [
        (
            "PATCH",
            format!("/api/v1/servers/{id}"),
            json!({"name": "Mine now"}),
            "manage_server",
        ),
        (
            "DELETE",
            format!("/api/v1/servers/{id}"),
            json!({}),
            "owner",
        ),
        (
            "POST",
            format!("/api/v1/servers/{id}/channels"),
            json!({"name": "x", "kind": "text"}),
            "manage_channels",
        ),
        (
            "PATCH",
            format!("/api/v1/channels/{channel}"),
            json!({"name": "renamed"}),
            "manage_channels",
        ),
        (
            "DELETE",
            format!("/api/v1/channels/{channel}"),
            json!({}),
            "manage_channels",
        ),
        (
            "GET",
            format!("/api/v1/servers/{id}/invites"),
            json!({}),
            "manage_server",
        ),
        (
            "DELETE",
            format!("/api/v1/invites/{code}"),
            json!({}),
            "manage_server",
        ),
    ];
    for (method, path, body, needed) in &table {
        let req = app
            .client
            .request(method.parse().unwrap(), app.url(path))
            .bearer_auth(&member)
            .json(body);
        let r = app.send(req).await;
        assert_eq!((r.status, r.code()), (403, "forbidden"), "{method} {path}");
        assert!(
            r.body["message"].as_str().unwrap().contains(needed),
            "{method} {path}: {:?}",
            r.body
        );
    }
    // What @everyone may do by default works.
    let r = app
        .post(
            &format!("/api/v1/servers/{id}/invites"),
            json!({}),
            Some(&member),
        )
        .await;
    assert_eq!(r.status, 201, "create_invites is a default permission");
    assert_eq!(
        app.get(&format!("/api/v1/servers/{id}"), Some(&member))
            .await
            .status,
        200
    );
    // And the owner may do all of it.
    let r = app
        .patch(
            &format!("/api/v1/servers/{id}"),
            json!({"name": "Still mine"}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status, 200);
    app.stop().await;
}

/// A double click on "Join": the same person accepting the same invite several times at
/// once joins once, and every answer is the server (on PostgreSQL some were 500s, as their
/// inserts broke the members' key).
async fn accepting_twice_at_once_joins_once(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = access(&app.register("twice_alice").await);
    let bob = access(&app.register("twice_bob").await);
    let (server, code) = server_with_invite(&app, &alice, json!({})).await;
    let sid = server["id"].as_str().unwrap();
    let (mut alice_ws, _) = Ws::identify(&app, &alice).await;
    let url = app.url(&format!("/api/v1/invites/{code}/accept"));
    let mut accepting = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let req = app.client.post(url.clone()).bearer_auth(&bob);
        accepting.spawn(async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        });
    }
    while let Some(answer) = accepting.join_next().await {
        let (status, body) = answer.unwrap();
        assert_eq!(status, 200, "{body}");
    }
    let members = app
        .get(&format!("/api/v1/servers/{sid}/members"), Some(&alice))
        .await
        .body;
    assert_eq!(members.as_array().unwrap().len(), 2, "{members}");
    let invites = app
        .get(&format!("/api/v1/servers/{sid}/invites"), Some(&alice))
        .await
        .body;
    assert_eq!(invites[0]["uses"], 1, "{invites}");
    alice_ws.event("member.joined").await;
    // One join, one event: the next event is this message's, not a second join.
    let general = server["channels"][0]["id"].as_str().unwrap();
    app.post(
        &format!("/api/v1/channels/{general}/messages"),
        json!({"content": "bem-vindo"}),
        Some(&alice),
    )
    .await;
    let next = alice_ws.recv().await;
    assert_eq!(next["t"], "message.created", "{next}");
    app.stop().await;
}
