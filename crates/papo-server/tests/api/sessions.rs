//! Logout, the session list, revoking a device, and password changes.

use serde_json::json;

use crate::both;
use crate::helpers::{Backend, PASSWORD, TestApp, access, refresh};

both!(
    logout_kills_the_sessions_tokens_at_once,
    sessions_are_listed_and_revocable,
    password_change_revokes_other_sessions,
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
