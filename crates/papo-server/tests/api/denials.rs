//! Denials found by an audit of every route: what a member without a permission could still
//! reach another way (a reply's quote, the bulk reorder, the audit log, assigning a role).

use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Backend, TestApp, access};
use crate::ws::Ws;

both!(
    replies_need_the_history_and_ban_reasons_no_control_characters,
    channel_managers_stay_within_the_channels_they_see,
    role_managers_give_only_permissions_they_have,
    typing_is_refused_as_a_send_would_be,
);

const VIEW_CHANNEL: u64 = 1 << 10;
const MANAGE_CHANNELS: u64 = 1 << 4;
const MANAGE_SERVER: u64 = 1 << 5;
const VIEW_AUDIT_LOG: u64 = 1 << 7;
const READ_MESSAGE_HISTORY: u64 = 1 << 16;
const MANAGE_ROLES: u64 = 1 << 28;
const SEND_MESSAGES: u64 = 1 << 11;

/// A user's id and access token.
async fn user(app: &TestApp, name: &str) -> (String, String) {
    let auth = app.register(name).await;
    (
        auth["user"]["id"].as_str().unwrap().to_owned(),
        access(&auth),
    )
}

/// `name`'s id, created by `owner` with `permissions`.
async fn role(app: &TestApp, owner: &str, sid: &str, name: &str, permissions: u64) -> String {
    let r = app
        .post(
            &format!("/api/v1/servers/{sid}/roles"),
            json!({"name": name, "permissions": permissions.to_string()}),
            Some(owner),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

async fn give_roles(app: &TestApp, by: &str, sid: &str, member: &str, roles: &[&str]) -> u16 {
    app.patch(
        &format!("/api/v1/servers/{sid}/members/{member}"),
        json!({ "roles": roles }),
        Some(by),
    )
    .await
    .status
}

/// A channel (`kind`, in `parent`) made by `owner`: its id.
async fn channel(app: &TestApp, owner: &str, sid: &str, body: Value) -> String {
    let r = app
        .post(
            &format!("/api/v1/servers/{sid}/channels"),
            body,
            Some(owner),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

async fn deny(app: &TestApp, owner: &str, channel: &str, target: &str, kind: &str, bits: u64) {
    let r = app
        .put(
            &format!("/api/v1/channels/{channel}/permissions/{target}"),
            json!({"type": kind, "allow": "0", "deny": bits.to_string()}),
            Some(owner),
        )
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
}

async fn replies_need_the_history_and_ban_reasons_no_control_characters(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (_, alice) = user(&app, "den_alice").await;
    let (bob_id, bob) = user(&app, "den_bob").await;
    let (server, general) = app.community(&alice, &[&bob]).await;
    let sid = server["id"].as_str().unwrap();
    deny(&app, &alice, &general, sid, "role", READ_MESSAGE_HISTORY).await;
    let msgs = format!("/api/v1/channels/{general}/messages");
    let old = app
        .post(&msgs, json!({"content": "segredo antigo"}), Some(&alice))
        .await;
    let old_id = old.body["id"].as_str().unwrap();
    // Bob cannot read the history: a reply's quote would have shown it to him.
    let r = app
        .post(
            &msgs,
            json!({"content": "e isto?", "reply_to": old_id}),
            Some(&bob),
        )
        .await;
    assert_eq!((r.status, r.field_code("reply_to")), (422, "invalid_value"));
    assert!(!r.body.to_string().contains("segredo"), "{:?}", r.body);
    let r = app
        .post(
            &msgs,
            json!({"content": "eu posso", "reply_to": old_id}),
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);

    // A ban's reason with a NUL is bad input (a 500 on PostgreSQL), and Bob stays.
    let r = app
        .put(
            &format!("/api/v1/servers/{sid}/bans/{bob_id}"),
            json!({"reason": "a\u{0}b"}),
            Some(&alice),
        )
        .await;
    assert_eq!(
        (r.status, r.field_code("reason")),
        (422, "invalid_characters")
    );
    let member = app
        .get(
            &format!("/api/v1/servers/{sid}/members/{bob_id}"),
            Some(&alice),
        )
        .await;
    assert_eq!(member.status, 200);
    app.stop().await;
}

async fn channel_managers_stay_within_the_channels_they_see(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (_, alice) = user(&app, "cm_alice").await;
    let (bob_id, bob) = user(&app, "cm_bob").await;
    let (server, general) = app.community(&alice, &[&bob]).await;
    let sid = server["id"].as_str().unwrap();
    let mods = role(&app, &alice, sid, "mods", MANAGE_CHANNELS | VIEW_AUDIT_LOG).await;
    assert_eq!(give_roles(&app, &alice, sid, &bob_id, &[&mods]).await, 200);
    let secret = channel(
        &app,
        &alice,
        sid,
        json!({"name": "segredo", "kind": "text"}),
    )
    .await;
    let hidden_category = channel(
        &app,
        &alice,
        sid,
        json!({"name": "oculta", "kind": "category"}),
    )
    .await;
    let open = channel(&app, &alice, sid, json!({"name": "aberto", "kind": "text"})).await;
    deny(&app, &alice, &secret, &bob_id, "member", VIEW_CHANNEL).await;
    deny(
        &app,
        &alice,
        &hidden_category,
        &bob_id,
        "member",
        VIEW_CHANNEL,
    )
    .await;
    deny(&app, &alice, &open, &bob_id, "member", MANAGE_CHANNELS).await;

    let reorder = format!("/api/v1/servers/{sid}/channels");
    // A hidden channel is as unknown as any id; one Bob may not manage there is 403.
    let r = app
        .patch(&reorder, json!([{"id": secret, "position": 5}]), Some(&bob))
        .await;
    assert_eq!((r.status, r.field_code("0.id")), (422, "invalid_value"));
    let r = app
        .patch(&reorder, json!([{"id": "1", "position": 5}]), Some(&bob))
        .await;
    assert_eq!((r.status, r.field_code("0.id")), (422, "invalid_value"));
    let r = app
        .patch(&reorder, json!([{"id": open, "position": 3}]), Some(&bob))
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    // Nor is a hidden category a parent, moved into or created in.
    let r = app
        .patch(
            &reorder,
            json!([{"id": general, "position": 0, "parent_id": hidden_category}]),
            Some(&bob),
        )
        .await;
    assert_eq!(
        (r.status, r.field_code(&format!("{general}.parent_id"))),
        (422, "invalid_value")
    );
    let r = app
        .post(
            &reorder,
            json!({"name": "dentro", "kind": "text", "parent_id": hidden_category}),
            Some(&bob),
        )
        .await;
    assert_eq!(
        (r.status, r.field_code("parent_id")),
        (422, "invalid_value")
    );
    let r = app
        .patch(
            &reorder,
            json!([{"id": general, "position": 7}]),
            Some(&bob),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);

    // The audit log keeps a hidden channel's edits to those who see it.
    let r = app
        .patch(
            &format!("/api/v1/channels/{secret}"),
            json!({"topic": "tópico secreto"}),
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let log = |token: String| {
        let app = &app;
        async move {
            app.get(
                &format!("/api/v1/servers/{sid}/audit-log?action=channel_update"),
                Some(&token),
            )
            .await
            .body
        }
    };
    let bobs = log(bob.clone()).await;
    assert!(!bobs.to_string().contains("secreto"), "{bobs}");
    assert!(!bobs.to_string().contains(&secret), "{bobs}");
    let newest = &bobs["entries"][0];
    assert_eq!(
        (&newest["target_id"], &newest["changes"]),
        (&Value::Null, &Value::Null),
        "{bobs}"
    );
    let alices = log(alice.clone()).await;
    assert_eq!(alices["entries"][0]["target_id"], secret.as_str());
    assert_eq!(
        alices["entries"][0]["changes"]["topic"][1],
        "tópico secreto"
    );
    app.stop().await;
}

async fn role_managers_give_only_permissions_they_have(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (_, alice) = user(&app, "rm_alice").await;
    let (bob_id, bob) = user(&app, "rm_bob").await;
    let (server, _) = app.community(&alice, &[&bob]).await;
    let sid = server["id"].as_str().unwrap();
    // Each new role goes in at position 1: mods ends up above both.
    let mods = role(&app, &alice, sid, "mods", MANAGE_ROLES).await;
    let managers = role(&app, &alice, sid, "gerência", MANAGE_SERVER).await;
    let plain = role(&app, &alice, sid, "simples", 0).await;
    assert_eq!(give_roles(&app, &alice, sid, &bob_id, &[&mods]).await, 200);
    // A lower role holding manage_server would give Bob what he lacks.
    assert_eq!(
        give_roles(&app, &bob, sid, &bob_id, &[&mods, &managers]).await,
        403
    );
    let r = app
        .patch(
            &format!("/api/v1/servers/{sid}"),
            json!({"name": "Tomado"}),
            Some(&bob),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    assert_eq!(
        give_roles(&app, &bob, sid, &bob_id, &[&mods, &plain]).await,
        200
    );
    app.stop().await;
}

/// `typing_start` answers as a send there would: `forbidden` where the member sees the
/// channel but may not send (or is timed out), `not_found` where they cannot see it (before,
/// every refusal was `not_found`, as if a channel on screen did not exist), `bad_request` in
/// a voice channel (before, typing was shown there). A timed-out member cannot edit either.
async fn typing_is_refused_as_a_send_would_be(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (_, alice) = user(&app, "typ_alice").await;
    let (bob_id, bob) = user(&app, "typ_bob").await;
    let (server, general) = app.community(&alice, &[&bob]).await;
    let sid = server["id"].as_str().unwrap();
    let news = channel(&app, &alice, sid, json!({"name": "news", "kind": "text"})).await;
    deny(&app, &alice, &news, sid, "role", SEND_MESSAGES).await;
    let hidden = channel(&app, &alice, sid, json!({"name": "staff", "kind": "text"})).await;
    deny(&app, &alice, &hidden, sid, "role", VIEW_CHANNEL).await;
    let (mut ws, _) = Ws::identify(&app, &bob).await;
    let mut typing = async |channel: &str| {
        ws.send(json!({"op": "typing_start", "d": {"channel_id": channel}}))
            .await;
        ws.op("error").await["d"]["code"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let voice = channel(&app, &alice, sid, json!({"name": "Sala", "kind": "voice"})).await;
    assert_eq!(typing(&voice).await, "bad_request");
    assert_eq!(typing(&news).await, "forbidden");
    assert_eq!(typing(&hidden).await, "not_found");
    assert_eq!(typing("123").await, "not_found");
    let mine = app
        .post(
            &format!("/api/v1/channels/{general}/messages"),
            json!({"content": "antes"}),
            Some(&bob),
        )
        .await;
    let mine = format!(
        "/api/v1/channels/{general}/messages/{}",
        mine.body["id"].as_str().unwrap()
    );
    let until = time::OffsetDateTime::now_utc() + time::Duration::minutes(10);
    let r = app
        .patch(
            &format!("/api/v1/servers/{sid}/members/{bob_id}"),
            json!({"timeout_until": until.format(&time::format_description::well_known::Rfc3339).unwrap()}),
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(typing(&general).await, "forbidden");
    // Nor can he post by rewriting an old message.
    let r = app
        .patch(&mine, json!({"content": "spam"}), Some(&bob))
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    // Without manage_roles, an overwrite's bad body is still a 403 (it was a 422).
    let r = app
        .put(
            &format!("/api/v1/channels/{general}/permissions/{sid}"),
            json!({"type": "role", "allow": "x"}),
            Some(&bob),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    app.stop().await;
}
