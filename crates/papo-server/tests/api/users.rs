//! `/users`: own account, profile edits, settings, public profiles, authentication checks.

use serde_json::json;

use crate::both;
use crate::helpers::{Backend, TestApp, access};
use crate::ws::Ws;

both!(
    profiles_are_public_but_email_and_settings_are_not,
    profile_edits_merge_and_validate,
    concurrent_edits_are_not_lost,
    protected_routes_need_a_valid_token,
    profile_changes_reach_the_members_of_shared_servers,
);

async fn profiles_are_public_but_email_and_settings_are_not(b: Backend) {
    let app = TestApp::spawn(b).await;
    let nina = app.register("nina").await;
    let omar = app.register("omar").await;
    let id = nina["user"]["id"].as_str().unwrap();
    let r = app
        .get(&format!("/api/v1/users/{id}"), Some(&access(&omar)))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["username"], "nina");
    assert!(
        r.body.get("email").is_none() && r.body.get("settings").is_none(),
        "{:?}",
        r.body
    );
    let me = app.get("/api/v1/users/@me", Some(&access(&nina))).await;
    assert_eq!(me.body["email"], "nina@example.com");
    assert!(me.body["settings"].is_object());
    for bad in ["123", "abc", "99999999999999999999"] {
        let r = app
            .get(&format!("/api/v1/users/{bad}"), Some(&access(&omar)))
            .await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "{bad}");
    }
    app.stop().await;
}

async fn profile_edits_merge_and_validate(b: Backend) {
    let app = TestApp::spawn(b).await;
    let auth = app.register("pia").await;
    let t = access(&auth);
    let r = app
        .patch(
            "/api/v1/users/@me",
            json!({"display_name": "Pia ✨", "bio": "line one\nline two", "pronouns": "she/her",
                   "accent_color": 0x5865F2, "settings": {"locale": "pt-BR", "theme": "dark",
                   "audio_video": {"input_volume": 150}}}),
            Some(&t),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["display_name"], "Pia ✨");
    assert_eq!(r.body["bio"], "line one\nline two");
    assert_eq!(r.body["accent_color"], 0x5865F2);
    assert_eq!(r.body["settings"]["locale"], "pt-BR");
    assert_eq!(r.body["settings"]["audio_video"]["input_volume"], 150);
    assert_eq!(r.body["settings"]["audio_video"]["echo_cancellation"], true);
    // Absent keys stay, null clears, nested settings merge.
    let r = app
        .patch(
            "/api/v1/users/@me",
            json!({"bio": null, "settings": {"theme": "light"}}),
            Some(&t),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["display_name"], "Pia ✨");
    assert!(r.body["bio"].is_null());
    assert_eq!(r.body["settings"]["theme"], "light");
    assert_eq!(r.body["settings"]["locale"], "pt-BR");
    assert_eq!(r.body["settings"]["audio_video"]["input_volume"], 150);
    // Stored, not just echoed.
    let me = app.get("/api/v1/users/@me", Some(&t)).await;
    assert_eq!(me.body["settings"]["theme"], "light");
    assert_eq!(me.body["pronouns"], "she/her");
    let bad = [
        (
            json!({"display_name": "d".repeat(33)}),
            "display_name",
            "too_long",
        ),
        (json!({"bio": "b".repeat(191)}), "bio", "too_long"),
        (json!({"pronouns": "p".repeat(41)}), "pronouns", "too_long"),
        (
            json!({"accent_color": 0x1000000}),
            "accent_color",
            "invalid_value",
        ),
        (json!({"accent_color": -1}), "accent_color", "invalid_value"),
        (json!({"display_name": 7}), "display_name", "invalid_type"),
        (json!({"username": "newname"}), "username", "invalid_value"),
        (
            json!({"settings": {"locale": "fr"}}),
            "settings.locale",
            "invalid_value",
        ),
        (
            json!({"settings": {"theme": "blue"}}),
            "settings.theme",
            "invalid_value",
        ),
        (
            json!({"settings": {"audio_video": {"output_volume": 201}}}),
            "settings.audio_video.output_volume",
            "invalid_value",
        ),
        (
            json!({"settings": {"colour": 1}}),
            "settings.colour",
            "invalid_value",
        ),
    ];
    for (body, field, code) in bad {
        let r = app.patch("/api/v1/users/@me", body.clone(), Some(&t)).await;
        assert_eq!(r.status, 422, "{body}: {:?}", r.body);
        assert_eq!(r.field_code(field), code, "{body}: {:?}", r.body);
    }
    // A rejected edit changed nothing.
    let after = app.get("/api/v1/users/@me", Some(&t)).await;
    assert_eq!(after.body, me.body);
    app.stop().await;
}

async fn concurrent_edits_are_not_lost(b: Backend) {
    let app = TestApp::spawn(b).await;
    let t = access(&app.register("quin").await);
    let edits = [
        json!({"settings": {"theme": "dark"}}),
        json!({"settings": {"locale": "en"}}),
        json!({"pronouns": "they/them"}),
        json!({"settings": {"privacy": {"show_activity": false}}}),
        json!({"settings": {"audio_video": {"push_to_talk": true}}}),
        json!({"display_name": "Quin"}),
    ];
    let results = futures::future::join_all(
        edits
            .iter()
            .map(|e| app.patch("/api/v1/users/@me", e.clone(), Some(&t))),
    )
    .await;
    assert!(results.iter().all(|r| r.status == 200), "{results:?}");
    let me = app.get("/api/v1/users/@me", Some(&t)).await.body;
    assert_eq!(me["settings"]["theme"], "dark");
    assert_eq!(me["settings"]["locale"], "en");
    assert_eq!(me["pronouns"], "they/them");
    assert_eq!(me["settings"]["privacy"]["show_activity"], false);
    assert_eq!(me["settings"]["audio_video"]["push_to_talk"], true);
    assert_eq!(me["display_name"], "Quin");
    app.stop().await;
}

async fn protected_routes_need_a_valid_token(b: Backend) {
    let app = TestApp::spawn(b).await;
    let routes: [(&str, &str); 8] = [
        ("GET", "/api/v1/users/@me"),
        ("PATCH", "/api/v1/users/@me"),
        ("GET", "/api/v1/users/1"),
        ("POST", "/api/v1/auth/logout"),
        ("GET", "/api/v1/auth/sessions"),
        ("DELETE", "/api/v1/auth/sessions"),
        ("DELETE", "/api/v1/auth/sessions/1"),
        ("POST", "/api/v1/auth/password"),
    ];
    for token in [None, Some("pat_forged"), Some("")] {
        for (method, path) in routes {
            let mut req = app
                .client
                .request(method.parse().unwrap(), app.url(path))
                .json(&json!({}));
            if let Some(t) = token {
                req = req.header("authorization", format!("Bearer {t}"));
            }
            let r = app.send(req).await;
            assert_eq!(
                (r.status, r.code()),
                (401, "unauthorized"),
                "{method} {path} {token:?}"
            );
        }
    }
    app.stop().await;
}

/// Others see a new name, colour or bio at once: every server the user shares gets a
/// `member.updated`, with the public profile only; a settings change tells no one.
async fn profile_changes_reach_the_members_of_shared_servers(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = access(&app.register("pc_alice").await);
    let bob = access(&app.register("pc_bob").await);
    let carol = access(&app.register("pc_carol").await);
    let (server, _) = app.community(&alice, &[&bob]).await;
    let (mut bob_ws, _) = Ws::identify(&app, &bob).await;
    let (mut carol_ws, _) = Ws::identify(&app, &carol).await;
    let me = "/api/v1/users/@me";
    let r = app
        .patch(me, json!({"settings": {"theme": "light"}}), Some(&alice))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app
        .patch(
            me,
            json!({"display_name": "Alice Nova", "bio": "oi", "accent_color": 255}),
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    // The first member.updated Bob hears is the profile's (the theme told no one).
    let ev = bob_ws.event("member.updated").await;
    assert_eq!(ev["d"]["server_id"], server["id"]);
    let user = &ev["d"]["user"];
    assert_eq!(
        (&user["display_name"], &user["bio"], &user["accent_color"]),
        (&json!("Alice Nova"), &json!("oi"), &json!(255))
    );
    assert!(
        user.get("email").is_none() && user.get("settings").is_none(),
        "{user}"
    );
    // Carol shares no server with Alice: nothing.
    carol_ws.send(json!({"op": "heartbeat"})).await;
    loop {
        let f = carol_ws.recv().await;
        assert_ne!(f["t"], "member.updated", "leaked to a stranger");
        if f["op"] == "heartbeat_ack" {
            break;
        }
    }
    app.stop().await;
}
