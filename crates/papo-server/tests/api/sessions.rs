//! Logout, the session list, revoking a device, and password changes.

use papo_server::auth::tokens;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Backend, PASSWORD, TestApp, access, refresh};
use crate::ws::{End, Ws};

both!(
    logout_kills_the_sessions_tokens_at_once,
    sessions_are_listed_and_revocable,
    other_devices_are_signed_out_together,
    password_change_revokes_other_sessions,
    password_change_failures_count_against_the_session,
    live_tokens_are_held_from_a_start_and_a_revoked_one_is_refused,
);

async fn logout_kills_the_sessions_tokens_at_once(b: Backend) {
    let app = TestApp::spawn(b).await;
    let one = app.register("jo").await;
    let two = app.login("jo", PASSWORD).await.body;
    let r = app
        .post("/api/v1/auth/logout", json!({}), Some(&access(&one)))
        .await;
    assert_eq!(r.status, 204);
    let r = app.get("/api/v1/users/@me", Some(&access(&one))).await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"));
    let r = app
        .post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": refresh(&one)}),
            None,
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(
        app.get("/api/v1/users/@me", Some(&access(&two)))
            .await
            .status,
        200,
        "other sessions live on"
    );
    let r = app
        .post("/api/v1/auth/logout", json!({}), Some(&access(&one)))
        .await;
    assert_eq!(r.status, 401, "logging out twice needs a live token");
    app.stop().await;
}

async fn sessions_are_listed_and_revocable(b: Backend) {
    let app = TestApp::spawn(b).await;
    let phone = app.register("kim").await;
    let laptop = app.login("kim", PASSWORD).await.body;
    let other_user = app.register("lee").await;
    let r = app
        .get("/api/v1/auth/sessions", Some(&access(&laptop)))
        .await;
    assert_eq!(r.status, 200);
    let list = r.body.as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    assert_eq!(list.iter().filter(|s| s["current"] == true).count(), 1);
    let first = &list[0];
    assert_eq!(first["user_agent"], "papo-tests/1.0");
    assert_eq!(first["ip"], "127.0.0.1");
    assert!(first["created_at"].as_str().unwrap().ends_with('Z'));
    let phone_id = list.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Someone else's session is "not found", as is garbage.
    let lee_sessions = app
        .get("/api/v1/auth/sessions", Some(&access(&other_user)))
        .await
        .body;
    let lee_id = lee_sessions[0]["id"].as_str().unwrap();
    let r = app
        .delete(
            &format!("/api/v1/auth/sessions/{lee_id}"),
            Some(&access(&laptop)),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    assert_eq!(
        app.get("/api/v1/users/@me", Some(&access(&other_user)))
            .await
            .status,
        200
    );
    let r = app
        .delete("/api/v1/auth/sessions/not-an-id", Some(&access(&laptop)))
        .await;
    assert_eq!(r.status, 404);
    // Revoke the phone from the laptop.
    let r = app
        .delete(
            &format!("/api/v1/auth/sessions/{phone_id}"),
            Some(&access(&laptop)),
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        app.get("/api/v1/users/@me", Some(&access(&phone)))
            .await
            .status,
        401
    );
    let r = app
        .delete(
            &format!("/api/v1/auth/sessions/{phone_id}"),
            Some(&access(&laptop)),
        )
        .await;
    assert_eq!(r.status, 404, "already revoked");
    let r = app
        .get("/api/v1/auth/sessions", Some(&access(&laptop)))
        .await;
    assert_eq!(r.body.as_array().unwrap().len(), 1);
    app.stop().await;
}

async fn other_devices_are_signed_out_together(b: Backend) {
    let app = TestApp::spawn(b).await;
    let laptop = app.register("rui").await;
    let phone = app.login("rui", PASSWORD).await.body;
    let tablet = app.login("rui", PASSWORD).await.body;
    let someone = app.register("sol").await;
    let (mut phone_ws, _) = Ws::identify(&app, &access(&phone)).await;
    let r = app.delete("/api/v1/auth/sessions", None).await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"));
    let r = app
        .delete("/api/v1/auth/sessions", Some(&access(&laptop)))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["revoked"], 2);
    // Their tokens and sockets end at once; this device and other accounts go on.
    assert_eq!(phone_ws.closed().await, End::Closed(4001));
    for gone in [&phone, &tablet] {
        let r = app.get("/api/v1/users/@me", Some(&access(gone))).await;
        assert_eq!(r.status, 401);
        let r = app
            .post(
                "/api/v1/auth/refresh",
                json!({"refresh_token": refresh(gone)}),
                None,
            )
            .await;
        assert_eq!(r.status, 401);
    }
    for live in [&laptop, &someone] {
        let r = app.get("/api/v1/users/@me", Some(&access(live))).await;
        assert_eq!(r.status, 200);
    }
    let list = app
        .get("/api/v1/auth/sessions", Some(&access(&laptop)))
        .await
        .body;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["current"], true);
    // Nothing left to sign out.
    let r = app
        .delete("/api/v1/auth/sessions", Some(&access(&laptop)))
        .await;
    assert_eq!(r.body["revoked"], 0);
    app.stop().await;
}

async fn password_change_revokes_other_sessions(b: Backend) {
    let app = TestApp::spawn(b).await;
    let here = app.register("max").await;
    let elsewhere = app.login("max", PASSWORD).await.body;
    let token = access(&here);
    let r = app
        .post(
            "/api/v1/auth/password",
            json!({"current_password": "wrong one!", "new_password": "a brand new secret"}),
            Some(&token),
        )
        .await;
    assert_eq!((r.status, r.code()), (401, "invalid_password"));
    assert_eq!(r.field_code("current_password"), "invalid_value");
    let r = app
        .post(
            "/api/v1/auth/password",
            json!({"current_password": PASSWORD, "new_password": "12345678"}),
            Some(&token),
        )
        .await;
    assert_eq!((r.status, r.code()), (422, "validation_failed"));
    assert_eq!(r.field_code("new_password"), "password_too_common");
    let r = app
        .post(
            "/api/v1/auth/password",
            json!({"current_password": PASSWORD}),
            Some(&token),
        )
        .await;
    assert_eq!(r.field_code("new_password"), "required");
    let r = app
        .post(
            "/api/v1/auth/password",
            json!({"current_password": PASSWORD, "new_password": "a brand new secret"}),
            Some(&token),
        )
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    assert_eq!(
        app.get("/api/v1/users/@me", Some(&token)).await.status,
        200,
        "this session stays"
    );
    assert_eq!(
        app.get("/api/v1/users/@me", Some(&access(&elsewhere)))
            .await
            .status,
        401
    );
    let r = app
        .post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": refresh(&elsewhere)}),
            None,
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(app.login("max", PASSWORD).await.status, 401);
    assert_eq!(app.login("max", "a brand new secret").await.status, 200);
    app.stop().await;
}

async fn password_change_failures_count_against_the_session(b: Backend) {
    let app = TestApp::spawn_with(b, |c| c.login_failures_per_account = 2).await;
    let owner = app.register("nia").await;
    let phone = app.login("nia", PASSWORD).await.body;
    let token = access(&owner);
    let change = |current: &str, new: &str| {
        let body = json!({"current_password": current, "new_password": new});
        let (app, token) = (&app, &token);
        async move { app.post("/api/v1/auth/password", body, Some(token)).await }
    };
    // Empty fields are said as such, and count for nothing.
    for _ in 0..3 {
        let r = change("", "").await;
        assert_eq!((r.status, r.code()), (422, "validation_failed"));
        assert_eq!(r.field_code("current_password"), "required");
        assert_eq!(r.field_code("new_password"), "required");
    }
    // Someone guessing at the login form locks the login, not the signed-in owner.
    for _ in 0..2 {
        assert_eq!(app.login("nia", "not it, no").await.status, 401);
    }
    assert_eq!(app.login("nia", PASSWORD).await.status, 429);
    let r = change("wrong one!", "a brand new secret").await;
    assert_eq!((r.status, r.code()), (401, "invalid_password"));
    // Wrong current passwords are limited per session...
    let r = change("wrong again", "a brand new secret").await;
    assert_eq!((r.status, r.code()), (401, "invalid_password"));
    let r = change(PASSWORD, "a brand new secret").await;
    assert_eq!((r.status, r.code()), (429, "rate_limited"));
    // ...and the owner's other devices are not locked by them.
    let r = app
        .post(
            "/api/v1/auth/password",
            json!({"current_password": PASSWORD, "new_password": "another new secret"}),
            Some(&access(&phone)),
        )
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    app.stop().await;
}

async fn live_tokens_are_held_from_a_start_and_a_revoked_one_is_refused(b: Backend) {
    let app = TestApp::spawn(b).await;
    let one = app.register("lia").await;
    let two = app.login("lia", PASSWORD).await.body;
    let gone = app.login("lia", PASSWORD).await.body;
    let r = app
        .post("/api/v1/auth/logout", json!({}), Some(&access(&gone)))
        .await;
    assert_eq!(r.status, 204);
    let app = app.restart().await;
    // Answered once the server accepts, which is after the tokens are loaded.
    assert_eq!(app.get("/healthz", None).await.status, 200);
    let now = papo_server::now_ms();
    let held = |auth: &Value| {
        app.state
            .directory
            .live_owner(&tokens::hash(&access(auth)), now)
    };
    // Loaded at the start, before any request: the live sessions' tokens, not the revoked one.
    let user_id: i64 = one["user"]["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(held(&one).map(|o| o.user_id), Some(user_id));
    assert_eq!(held(&two).map(|o| o.user_id), Some(user_id));
    assert!(held(&gone).is_none());
    // Identified from memory; the account is read as it is now.
    let r = app
        .patch(
            "/api/v1/users/@me",
            json!({"display_name": "Lia"}),
            Some(&access(&one)),
        )
        .await;
    assert_eq!(r.status, 200);
    let (_one_ws, ready) = Ws::identify(&app, &access(&one)).await;
    assert_eq!(ready["user"]["display_name"], "Lia");
    // Revoked while held: dropped at once, for the gateway as for REST.
    let (mut two_ws, _) = Ws::identify(&app, &access(&two)).await;
    let r = app
        .post("/api/v1/auth/logout", json!({}), Some(&access(&two)))
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(two_ws.closed().await, End::Closed(4001));
    assert!(held(&two).is_none());
    let host = app.addr.to_string();
    for dead in [&two, &gone] {
        let end = Ws::identify_refused_at(&host, &access(dead)).await;
        assert_eq!(end, End::Closed(4001));
    }
    // Tokens issued after the start are held as they are issued: at a sign-in, a refresh.
    let three = app.login("lia", PASSWORD).await.body;
    assert_eq!(held(&three).map(|o| o.user_id), Some(user_id));
    let r = app
        .post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": refresh(&three)}),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(held(&r.body).map(|o| o.user_id), Some(user_id));
    let (_fresh_ws, ready) = Ws::identify(&app, &access(&r.body)).await;
    assert_eq!(ready["user"]["username"], "lia");
    // A held token is not used past its expiry (access tokens live 15 minutes by default).
    let later = now + 16 * 60 * 1000;
    let hash = tokens::hash(&access(&one));
    assert!(app.state.directory.live_owner(&hash, later).is_none());
    app.stop().await;
}
