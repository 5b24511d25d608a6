//! The presence a user saves in their settings: every device takes it, and every new session
//! starts with it.

use std::time::Duration;

use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Backend, TestApp, access};
use crate::ws::Ws;

both!(
    a_saved_presence_reaches_every_session_and_the_next_ones,
    an_invisible_user_is_never_shown_online_while_connecting,
    a_bad_presence_is_refused_field_by_field,
);

/// The first `presence.updated` on `ws` that shows `user` as `status` (earlier ones, from
/// the sessions connecting, are passed over).
async fn presence_as(ws: &mut Ws, user: &str, status: &str) -> Value {
    loop {
        let ev = ws.event("presence.updated").await;
        if ev["d"]["user_id"] == user && ev["d"]["status"] == status {
            return ev["d"].clone();
        }
    }
}

async fn a_saved_presence_reaches_every_session_and_the_next_ones(b: Backend) {
    let app = TestApp::spawn(b).await;
    let ana = app.register("sp_ana").await;
    let bia = access(&app.register("sp_bia").await);
    let (ana_id, ana) = (ana["user"]["id"].as_str().unwrap().to_owned(), access(&ana));
    app.community(&ana, &[&bia]).await;
    let (mut phone, _) = Ws::identify(&app, &ana).await;
    let (mut laptop, _) = Ws::identify(&app, &ana).await;
    let (mut bia_ws, _) = Ws::identify(&app, &bia).await;

    let r = app
        .patch(
            "/api/v1/users/@me",
            json!({"settings": {"status": "dnd", "custom_status": {"text": "Focus", "emoji": "🎧"}}}),
            Some(&ana),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["settings"]["status"], "dnd");
    assert_eq!(r.body["settings"]["custom_status"]["text"], "Focus");
    // Both of her sessions take it (neither sent a presence_update), and Bia sees it.
    for ws in [&mut phone, &mut laptop, &mut bia_ws] {
        let p = presence_as(ws, &ana_id, "dnd").await;
        assert_eq!(p["custom_status"]["text"], "Focus", "{p}");
    }
    // A session's own choice is overridden by the next saved one: the laptop goes online on
    // its own, then she saves invisible; nothing of hers is left online.
    laptop
        .send(json!({"op": "presence_update", "d": {"status": "online"}}))
        .await;
    presence_as(&mut phone, &ana_id, "online").await;
    app.patch(
        "/api/v1/users/@me",
        json!({"settings": {"status": "invisible"}}),
        Some(&ana),
    )
    .await;
    let p = presence_as(&mut bia_ws, &ana_id, "offline").await;
    assert!(p["custom_status"].is_null(), "invisible hides it: {p}");
    let p = presence_as(&mut phone, &ana_id, "invisible").await;
    assert_eq!(p["custom_status"]["text"], "Focus", "kept: {p}");
    // A new device starts with the saved choice, and reads it in its settings.
    let (_tablet, ready) = Ws::identify(&app, &ana).await;
    assert_eq!(ready["user"]["settings"]["status"], "invisible");
    let own = &ready["presences"][0];
    assert_eq!(own["user_id"], ana_id.as_str());
    assert_eq!(own["status"], "invisible", "{ready}");
    assert_eq!(own["custom_status"]["emoji"], "🎧");

    // An expired custom status is not brought back by a new session.
    app.patch(
        "/api/v1/users/@me",
        json!({"settings": {"status": "online",
            "custom_status": {"text": "Lunch", "expires_at": "2000-01-01T00:00:00Z"}}}),
        Some(&ana),
    )
    .await;
    let (_desk, ready) = Ws::identify(&app, &ana).await;
    assert_eq!(ready["presences"][0]["status"], "online", "{ready}");
    assert!(ready["presences"][0]["custom_status"].is_null(), "{ready}");
    app.stop().await;
}

async fn an_invisible_user_is_never_shown_online_while_connecting(b: Backend) {
    let app = TestApp::spawn(b).await;
    let cai = app.register("sp_cai").await;
    let (cai_id, cai) = (cai["user"]["id"].as_str().unwrap().to_owned(), access(&cai));
    let dan = access(&app.register("sp_dan").await);
    let (server, _) = app.community(&cai, &[&dan]).await;
    app.patch(
        "/api/v1/users/@me",
        json!({"settings": {"status": "invisible"}}),
        Some(&cai),
    )
    .await;
    let (mut dan_ws, _) = Ws::identify(&app, &dan).await;
    let (_cai_ws, ready) = Ws::identify(&app, &cai).await;
    assert_eq!(ready["presences"][0]["status"], "invisible", "{ready}");
    // Everything Dan hears until his own profile change: Cai never reads online.
    app.patch("/api/v1/users/@me", json!({"bio": "oi"}), Some(&dan))
        .await;
    loop {
        let f = dan_ws.next(Duration::from_secs(10)).await.expect("events");
        if f["op"] != "event" {
            continue;
        }
        if f["t"] == "user.updated" {
            break;
        }
        if f["t"] == "presence.updated" && f["d"]["user_id"] == cai_id.as_str() {
            assert_eq!(f["d"]["status"], "offline", "{f}");
        }
    }
    // The member list agrees.
    let server = server["id"].as_str().unwrap();
    let members = app
        .get(&format!("/api/v1/servers/{server}/members"), Some(&dan))
        .await;
    let listed = members.body.as_array().unwrap().iter();
    let cai_row = listed.clone().find(|m| m["user"]["id"] == cai_id.as_str());
    assert_eq!(
        cai_row.unwrap()["presence"]["status"],
        "offline",
        "{:?}",
        members.body
    );
    app.stop().await;
}

async fn a_bad_presence_is_refused_field_by_field(b: Backend) {
    let app = TestApp::spawn(b).await;
    let eva = access(&app.register("sp_eva").await);
    for (settings, field, code) in [
        (
            json!({"status": "offline"}),
            "settings.status",
            "invalid_value",
        ),
        (
            json!({"custom_status": {"text": "x".repeat(129)}}),
            "settings.custom_status.text",
            "too_long",
        ),
        (
            json!({"custom_status": {"text": "hi", "emoji": "\u{202e}"}}),
            "settings.custom_status.emoji",
            "invalid_characters",
        ),
        (
            json!({"custom_status": {"text": "hi", "expires_at": "tomorrow"}}),
            "settings.custom_status.expires_at",
            "invalid_value",
        ),
    ] {
        let r = app
            .patch(
                "/api/v1/users/@me",
                json!({ "settings": settings }),
                Some(&eva),
            )
            .await;
        assert_eq!(r.status, 422, "{settings}: {:?}", r.body);
        assert_eq!(r.field_code(field), code, "{settings}: {:?}", r.body);
    }
    let r = app
        .patch(
            "/api/v1/users/@me",
            json!({"settings": {"status": "sleepy"}}),
            Some(&eva),
        )
        .await;
    assert_eq!(r.status, 422, "{:?}", r.body);
    let me = app.get("/api/v1/users/@me", Some(&eva)).await;
    assert_eq!(me.body["settings"]["status"], "online", "nothing was saved");
    assert!(me.body["settings"]["custom_status"].is_null());
    app.stop().await;
}
