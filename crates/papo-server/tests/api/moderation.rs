//! Roles, overwrites (and who receives what), members, kicks, bans, timeouts, audit log.

use std::time::Duration;

use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Backend, TestApp, access};
use crate::ws::Ws;

both!(
    a_hidden_channel_sends_nothing_to_those_who_cannot_view_it,
    roles_follow_the_hierarchy,
    a_ban_drops_the_server_live_and_blocks_invites,
    a_timeout_blocks_sending_and_reacting,
    a_member_lacking_each_moderation_permission_is_refused,
);

async fn me_id(app: &TestApp, token: &str) -> String {
    app.get("/api/v1/users/@me", Some(token)).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Reads events until `t` arrives, failing if one of `forbidden` comes first.
async fn event_without(ws: &mut Ws, t: &str, forbidden: &[&str]) -> Value {
    loop {
        let f = ws.recv().await;
        if f["op"] != "event" {
            continue;
        }
        let name = f["t"].as_str().unwrap();
        assert!(!forbidden.contains(&name), "unexpected {name}: {f}");
        if name == t {
            return f;
        }
    }
}

async fn a_hidden_channel_sends_nothing_to_those_who_cannot_view_it(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = access(&app.register("vis_alice").await);
    let bob = access(&app.register("vis_bob").await);
    let (server, general) = app.community(&alice, &[&bob]).await;
    let sid = server["id"].as_str().unwrap();
    let secret = app
        .post(
            &format!("/api/v1/servers/{sid}/channels"),
            json!({"name": "segredo", "kind": "text"}),
            Some(&alice),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (mut bob_ws, _) = Ws::identify(&app, &bob).await;
    // @everyone loses view_channel in #segredo.
    let r = app
        .put(
            &format!("/api/v1/channels/{secret}/permissions/{sid}"),
            json!({"type": "role", "deny": "1024"}),
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let gone = bob_ws.event("channel.deleted").await;
    assert_eq!(gone["d"]["id"], secret.as_str());
    assert_eq!(
        app.get(&format!("/api/v1/channels/{secret}/messages"), Some(&bob))
            .await
            .status,
        404
    );
    let detail = app
        .get(&format!("/api/v1/servers/{sid}"), Some(&bob))
        .await
        .body;
    assert!(
        detail["channels"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["id"] != secret.as_str())
    );
    // A message and a typing notice in the hidden channel never reach Bob; the next thing he
    // receives is the message in #general.
    app.post(
        &format!("/api/v1/channels/{secret}/messages"),
        json!({"content": "psiu"}),
        Some(&alice),
    )
    .await;
    let (mut alice_ws, _) = Ws::identify(&app, &alice).await;
    alice_ws
        .send(json!({"op": "typing_start", "d": {"channel_id": secret}}))
        .await;
    app.patch(
        &format!("/api/v1/channels/{secret}"),
        json!({"topic": "oculto"}),
        Some(&alice),
    )
    .await;
    app.post(
        &format!("/api/v1/channels/{general}/messages"),
        json!({"content": "oi"}),
        Some(&alice),
    )
    .await;
    let ev = event_without(
        &mut bob_ws,
        "message.created",
        &["typing.started", "channel.updated"],
    )
    .await;
    assert_eq!(ev["d"]["content"], "oi");
    // Bob cannot type there either.
    bob_ws
        .send(json!({"op": "typing_start", "d": {"channel_id": secret}}))
        .await;
    loop {
        let f = bob_ws.recv().await;
        if f["op"] == "error" {
            assert_eq!(f["d"]["code"], "not_found");
            break;
        }
    }
    // A role with an allow overwrite brings it back when Bob gets the role.
    let vip = app
        .post(
            &format!("/api/v1/servers/{sid}/roles"),
            json!({"name": "vip"}),
            Some(&alice),
        )
        .await;
    assert_eq!(vip.status, 201);
    let vip_id = vip.body["id"].as_str().unwrap();
    let r = app
        .put(
            &format!("/api/v1/channels/{secret}/permissions/{vip_id}"),
            json!({"type": "role", "allow": "1024"}),
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, 204);
    let bob_id = me_id(&app, &bob).await;
    let r = app
        .patch(
            &format!("/api/v1/servers/{sid}/members/{bob_id}"),
            json!({"roles": [vip_id]}),
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["roles"], json!([vip_id]));
    let back = bob_ws.event("channel.created").await;
    assert_eq!(back["d"]["id"], secret.as_str());
    assert_eq!(back["d"]["overwrites"].as_array().unwrap().len(), 2);
    app.post(
        &format!("/api/v1/channels/{secret}/messages"),
        json!({"content": "bem-vindo"}),
        Some(&alice),
    )
    .await;
    assert_eq!(
        bob_ws.event("message.created").await["d"]["content"],
        "bem-vindo"
    );
    // Typing from Alice now reaches Bob.
    tokio::time::sleep(Duration::from_millis(10)).await;
    let (mut alice2, _) = Ws::identify(&app, &alice).await;
    alice2
        .send(json!({"op": "typing_start", "d": {"channel_id": general}}))
        .await;
    assert_eq!(
        bob_ws.event("typing.started").await["d"]["channel_id"],
        general.as_str()
    );
    // Removing the overwrite on @everyone is audited.
    let r = app
        .delete(
            &format!("/api/v1/channels/{secret}/permissions/{sid}"),
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, 204);
    let log = app
        .get(
            &format!("/api/v1/servers/{sid}/audit-log?action=overwrite_update"),
            Some(&alice),
        )
        .await;
    assert_eq!(log.body["entries"].as_array().unwrap().len(), 2);
    app.stop().await;
}

async fn roles_follow_the_hierarchy(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = access(&app.register("hi_alice").await);
    let bob = access(&app.register("hi_bob").await);
    let carol = access(&app.register("hi_carol").await);
    let (server, _) = app.community(&alice, &[&bob, &carol]).await;
    let sid = server["id"].as_str().unwrap();
    let perms = app.get("/api/v1/permissions", None).await.body;
    let bit = |n: &str| perms[n].as_str().unwrap().parse::<u64>().unwrap();
    let mod_bits = bit("manage_roles") | bit("kick_members") | bit("manage_nicknames");
    let helper = app
        .post(
            &format!("/api/v1/servers/{sid}/roles"),
            json!({"name": "helper"}),
            Some(&alice),
        )
        .await
        .body;
    let moderator = app
        .post(
            &format!("/api/v1/servers/{sid}/roles"),
            json!({"name": "mod", "permissions": mod_bits.to_string(), "hoist": true}),
            Some(&alice),
        )
        .await;
    assert_eq!(moderator.status, 201);
    let mod_id = moderator.body["id"].as_str().unwrap();
    // mod was created last, at position 1: move it above helper.
    let r = app
        .patch(
            &format!("/api/v1/servers/{sid}/roles/{mod_id}"),
            json!({"position": 2}),
            Some(&alice),
        )
        .await;
    assert_eq!(
        (r.status, r.body["position"].as_i64()),
        (200, Some(2)),
        "{:?}",
        r.body
    );
    let roles = app
        .get(&format!("/api/v1/servers/{sid}/roles"), Some(&bob))
        .await
        .body;
    let names: Vec<&str> = roles
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["mod", "helper", "@everyone"]);
    let bob_id = me_id(&app, &bob).await;
    let carol_id = me_id(&app, &carol).await;
    let alice_id = me_id(&app, &alice).await;
    app.patch(
        &format!("/api/v1/servers/{sid}/members/{bob_id}"),
        json!({"roles": [mod_id]}),
        Some(&alice),
    )
    .await;
    let helper_id = helper["id"].as_str().unwrap();
    // Bob (mod) can hand out helper, which is below mod…
    let r = app
        .patch(
            &format!("/api/v1/servers/{sid}/members/{carol_id}"),
            json!({"roles": [helper_id], "nickname": "Carol C."}),
            Some(&bob),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["nickname"], "Carol C.");
    // …but not mod itself, not edit mod, not grant what he lacks, not act on the owner.
    let r = app
        .patch(
            &format!("/api/v1/servers/{sid}/members/{carol_id}"),
            json!({"roles": [helper_id, mod_id]}),
            Some(&bob),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    let r = app
        .patch(
            &format!("/api/v1/servers/{sid}/roles/{mod_id}"),
            json!({"name": "boss"}),
            Some(&bob),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    let r = app
        .patch(
            &format!("/api/v1/servers/{sid}/roles/{helper_id}"),
            json!({"permissions": bit("administrator").to_string()}),
            Some(&bob),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    let r = app
        .patch(
            &format!("/api/v1/servers/{sid}/roles/{helper_id}"),
            json!({"permissions": bit("kick_members").to_string(), "color": 0x3366ff}),
            Some(&bob),
        )
        .await;
    assert_eq!(r.status, 200, "bits he has: {:?}", r.body);
    let r = app
        .delete(
            &format!("/api/v1/servers/{sid}/members/{alice_id}"),
            Some(&bob),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    let r = app
        .patch(
            &format!("/api/v1/servers/{sid}/roles/{sid}"),
            json!({"name": "todos"}),
            Some(&alice),
        )
        .await;
    assert_eq!((r.status, r.field_code("name")), (422, "invalid_value"));
    let r = app
        .delete(&format!("/api/v1/servers/{sid}/roles/{sid}"), Some(&alice))
        .await;
    assert_eq!(r.status, 403);
    // Carol (helper with kick) cannot kick Bob (mod, above her); Bob can kick Carol.
    let r = app
        .delete(
            &format!("/api/v1/servers/{sid}/members/{bob_id}"),
            Some(&carol),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    let (mut carol_ws, _) = Ws::identify(&app, &carol).await;
    let (mut alice_ws, _) = Ws::identify(&app, &alice).await;
    let kick = app
        .client
        .delete(app.url(&format!("/api/v1/servers/{sid}/members/{carol_id}")))
        .bearer_auth(&bob)
        .header("X-Audit-Log-Reason", "spam%20no%20chat");
    assert_eq!(app.send(kick).await.status, 204);
    assert_eq!(carol_ws.event("server.deleted").await["d"]["id"], sid);
    assert_eq!(
        alice_ws.event("member.removed").await["d"]["user_id"],
        carol_id.as_str()
    );
    let log = app
        .get(
            &format!("/api/v1/servers/{sid}/audit-log?action=member_kick"),
            Some(&alice),
        )
        .await
        .body;
    assert_eq!(log["entries"][0]["reason"], "spam no chat");
    assert_eq!(log["entries"][0]["actor_id"], bob_id.as_str());
    assert!(
        log["users"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["username"] == "hi_carol")
    );
    // Member list pages through by id.
    let page = app
        .get(
            &format!("/api/v1/servers/{sid}/members?limit=1"),
            Some(&bob),
        )
        .await
        .body;
    assert_eq!(page.as_array().unwrap().len(), 1);
    let after = page[0]["user"]["id"].as_str().unwrap();
    let rest = app
        .get(
            &format!("/api/v1/servers/{sid}/members?after={after}"),
            Some(&bob),
        )
        .await
        .body;
    assert_eq!(rest.as_array().unwrap().len(), 1, "two members left");
    app.stop().await;
}

async fn a_ban_drops_the_server_live_and_blocks_invites(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = access(&app.register("ban_alice").await);
    let bob = access(&app.register("ban_bob").await);
    let (server, general) = app.community(&alice, &[&bob]).await;
    let sid = server["id"].as_str().unwrap();
    let bob_id = me_id(&app, &bob).await;
    for i in 0..2 {
        app.post(
            &format!("/api/v1/channels/{general}/messages"),
            json!({"content": format!("spam {i}")}),
            Some(&bob),
        )
        .await;
    }
    let (mut bob_ws, _) = Ws::identify(&app, &bob).await;
    let (mut alice_ws, _) = Ws::identify(&app, &alice).await;
    let r = app
        .put(
            &format!("/api/v1/servers/{sid}/bans/{bob_id}"),
            json!({"reason": "spam", "delete_message_secs": 3600}),
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    assert_eq!(bob_ws.event("server.deleted").await["d"]["id"], sid);
    assert_eq!(
        alice_ws.event("member.removed").await["d"]["user_id"],
        bob_id.as_str()
    );
    assert_eq!(
        alice_ws.event("message.bulk_deleted").await["d"]["ids"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Bob's session no longer follows the server's channels.
    app.post(
        &format!("/api/v1/channels/{general}/messages"),
        json!({"content": "tchau"}),
        Some(&alice),
    )
    .await;
    app.patch("/api/v1/users/@me", json!({"bio": "banido"}), Some(&bob))
        .await;
    event_without(&mut bob_ws, "user.updated", &["message.created"]).await;
    assert_eq!(
        app.get(&format!("/api/v1/servers/{sid}"), Some(&bob))
            .await
            .status,
        404
    );
    let bans = app
        .get(&format!("/api/v1/servers/{sid}/bans"), Some(&alice))
        .await
        .body;
    assert_eq!(bans[0]["user"]["id"], bob_id.as_str());
    assert_eq!(bans[0]["reason"], "spam");
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
    let r = app
        .post(
            &format!("/api/v1/invites/{code}/accept"),
            json!({}),
            Some(&bob),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "banned"));
    // Unban (without a body): he may join again.
    let r = app
        .send(
            app.client
                .delete(app.url(&format!("/api/v1/servers/{sid}/bans/{bob_id}")))
                .bearer_auth(&alice),
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        app.post(
            &format!("/api/v1/invites/{code}/accept"),
            json!({}),
            Some(&bob)
        )
        .await
        .status,
        200
    );
    // A ban by id of someone who is not a member works too, with an empty body.
    let carol = app.register("ban_carol").await;
    let carol_id = carol["user"]["id"].as_str().unwrap();
    let r = app
        .send(
            app.client
                .put(app.url(&format!("/api/v1/servers/{sid}/bans/{carol_id}")))
                .bearer_auth(&alice),
        )
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let actions: Vec<String> = app
        .get(&format!("/api/v1/servers/{sid}/audit-log"), Some(&alice))
        .await
        .body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        &actions[..3],
        ["member_ban_add", "member_ban_remove", "invite_create"]
    );
    assert!(actions.contains(&"member_ban_add".to_owned()));
    app.stop().await;
}

async fn a_timeout_blocks_sending_and_reacting(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = access(&app.register("to_alice").await);
    let bob = access(&app.register("to_bob").await);
    let (server, general) = app.community(&alice, &[&bob]).await;
    let sid = server["id"].as_str().unwrap();
    let bob_id = me_id(&app, &bob).await;
    let msg = app
        .post(
            &format!("/api/v1/channels/{general}/messages"),
            json!({"content": "oi"}),
            Some(&alice),
        )
        .await
        .body;
    let mid = msg["id"].as_str().unwrap();
    let until = |secs: i64| {
        let t = time::OffsetDateTime::now_utc() + time::Duration::seconds(secs);
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let member = format!("/api/v1/servers/{sid}/members/{bob_id}");
    let r = app
        .patch(
            &member,
            json!({"timeout_until": until(29 * 24 * 3600)}),
            Some(&alice),
        )
        .await;
    assert_eq!(
        (r.status, r.field_code("timeout_until")),
        (422, "invalid_value")
    );
    let r = app
        .patch(&member, json!({"timeout_until": until(600)}), Some(&alice))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(r.body["timeout_until"].is_string());
    let r = app
        .post(
            &format!("/api/v1/channels/{general}/messages"),
            json!({"content": "posso?"}),
            Some(&bob),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    let r = app
        .put(
            &format!("/api/v1/channels/{general}/messages/{mid}/reactions/%F0%9F%91%8D"),
            json!(null),
            Some(&bob),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    assert_eq!(
        app.get(&format!("/api/v1/channels/{general}/messages"), Some(&bob))
            .await
            .status,
        200,
        "still reads"
    );
    let r = app
        .patch(&member, json!({"timeout_until": null}), Some(&alice))
        .await;
    assert_eq!(r.body["timeout_until"], Value::Null);
    let r = app
        .post(
            &format!("/api/v1/channels/{general}/messages"),
            json!({"content": "voltei"}),
            Some(&bob),
        )
        .await;
    assert_eq!(r.status, 201);
    let log = app
        .get(
            &format!("/api/v1/servers/{sid}/audit-log?action=member_timeout"),
            Some(&alice),
        )
        .await
        .body;
    assert_eq!(log["entries"].as_array().unwrap().len(), 2);
    app.stop().await;
}

async fn a_member_lacking_each_moderation_permission_is_refused(b: Backend) {
    let app = TestApp::spawn(b).await;
    let owner = access(&app.register("deny_owner").await);
    let member = access(&app.register("deny_member").await);
    let other = access(&app.register("deny_other").await);
    let (server, general) = app.community(&owner, &[&member, &other]).await;
    let sid = server["id"].as_str().unwrap();
    let other_id = me_id(&app, &other).await;
    let role = app
        .post(
            &format!("/api/v1/servers/{sid}/roles"),
            json!({"name": "r"}),
            Some(&owner),
        )
        .await
        .body;
    let rid = role["id"].as_str().unwrap();
    let msg = app
        .post(
            &format!("/api/v1/channels/{general}/messages"),
            json!({"content": "x"}),
            Some(&other),
        )
        .await
        .body;
    let mid = msg["id"].as_str().unwrap();
    let msg2 = app
        .post(
            &format!("/api/v1/channels/{general}/messages"),
            json!({"content": "y"}),
            Some(&other),
        )
        .await
        .body;
    let mid2 = msg2["id"].as_str().unwrap();
    let table: Vec<(&str, String, Value, &str)> = vec![
        (
            "POST",
            format!("/api/v1/servers/{sid}/roles"),
            json!({"name": "mine"}),
            "manage_roles",
        ),
        (
            "PATCH",
            format!("/api/v1/servers/{sid}/roles/{rid}"),
            json!({"name": "x"}),
            "manage_roles",
        ),
        (
            "DELETE",
            format!("/api/v1/servers/{sid}/roles/{rid}"),
            json!(null),
            "manage_roles",
        ),
        (
            "PUT",
            format!("/api/v1/channels/{general}/permissions/{rid}"),
            json!({"type": "role", "allow": "0"}),
            "manage_roles",
        ),
        (
            "PATCH",
            format!("/api/v1/servers/{sid}/channels"),
            json!([{"id": general, "position": 3}]),
            "manage_channels",
        ),
        (
            "PATCH",
            format!("/api/v1/servers/{sid}/members/{other_id}"),
            json!({"roles": [rid]}),
            "manage_roles",
        ),
        (
            "PATCH",
            format!("/api/v1/servers/{sid}/members/{other_id}"),
            json!({"nickname": "x"}),
            "manage_nicknames",
        ),
        (
            "PATCH",
            format!("/api/v1/servers/{sid}/members/{other_id}"),
            json!({"timeout_until": null}),
            "moderate_members",
        ),
        (
            "DELETE",
            format!("/api/v1/servers/{sid}/members/{other_id}"),
            json!(null),
            "kick_members",
        ),
        (
            "GET",
            format!("/api/v1/servers/{sid}/bans"),
            json!(null),
            "ban_members",
        ),
        (
            "PUT",
            format!("/api/v1/servers/{sid}/bans/{other_id}"),
            json!({}),
            "ban_members",
        ),
        (
            "DELETE",
            format!("/api/v1/servers/{sid}/bans/{other_id}"),
            json!(null),
            "ban_members",
        ),
        (
            "GET",
            format!("/api/v1/servers/{sid}/audit-log"),
            json!(null),
            "view_audit_log",
        ),
        (
            "PUT",
            format!("/api/v1/channels/{general}/pins/{mid}"),
            json!(null),
            "manage_messages",
        ),
        (
            "DELETE",
            format!("/api/v1/channels/{general}/pins/{mid}"),
            json!(null),
            "manage_messages",
        ),
        (
            "DELETE",
            format!("/api/v1/channels/{general}/messages/{mid}"),
            json!(null),
            "manage_messages",
        ),
        (
            "POST",
            format!("/api/v1/channels/{general}/messages/bulk-delete"),
            json!({"messages": [mid, mid2]}),
            "manage_messages",
        ),
    ];
    for (method, path, body, needed) in &table {
        let mut req = app
            .client
            .request(method.parse().unwrap(), app.url(path))
            .bearer_auth(&member);
        if !body.is_null() {
            req = req.json(body);
        }
        let r = app.send(req).await;
        assert_eq!(
            (r.status, r.code()),
            (403, "forbidden"),
            "{method} {path}: {:?}",
            r.body
        );
        assert!(
            r.body["message"].as_str().unwrap().contains(needed),
            "{method} {path}: {:?}",
            r.body
        );
    }
    // A non-member gets 404 on the same routes, whatever the body.
    let stranger = access(&app.register("deny_stranger").await);
    for (method, path, body, _) in &table {
        let mut req = app
            .client
            .request(method.parse().unwrap(), app.url(path))
            .bearer_auth(&stranger);
        if !body.is_null() {
            req = req.json(body);
        }
        let r = app.send(req).await;
        assert_eq!(
            (r.status, r.code()),
            (404, "not_found"),
            "{method} {path}: {:?}",
            r.body
        );
    }
    // Without view_channel, a channel's message routes are 404 for a member as well.
    app.put(
        &format!("/api/v1/channels/{general}/permissions/{sid}"),
        json!({"type": "role", "deny": "1024"}),
        Some(&owner),
    )
    .await;
    for path in [
        format!("/api/v1/channels/{general}/messages"),
        format!("/api/v1/channels/{general}/pins"),
    ] {
        assert_eq!(app.get(&path, Some(&member)).await.status, 404, "{path}");
    }
    let r = app
        .post(
            &format!("/api/v1/channels/{general}/messages"),
            json!({"content": "?"}),
            Some(&member),
        )
        .await;
    assert_eq!(r.status, 404);
    app.stop().await;
}
