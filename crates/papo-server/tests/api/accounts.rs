//! Registration, login, refresh rotation and login rate limits.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::both;
use crate::helpers::{Backend, PASSWORD, TestApp, access, refresh};

both!(
    register_creates_an_account_and_signs_in,
    register_rejects_invalid_fields,
    register_conflicts_are_case_insensitive,
    login_by_username_or_email,
    login_failures_look_the_same,
    login_failures_are_rate_limited_per_account,
    login_failures_are_rate_limited_per_ip,
    overlong_logins_are_refused_uncounted,
    refresh_rotates_and_reuse_revokes_the_session,
);

async fn register_creates_an_account_and_signs_in(b: Backend) {
    let app = TestApp::spawn(b).await;
    let r = app
        .post(
            "/api/v1/auth/register",
            json!({"username": "Alice.B", "email": "Alice@Example.com", "password": PASSWORD, "display_name": " Alice "}),
            None,
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let user = &r.body["user"];
    assert_eq!(user["username"], "alice.b");
    assert_eq!(user["email"], "Alice@example.com");
    assert_eq!(user["display_name"], "Alice");
    assert!(
        user["id"].as_str().unwrap().parse::<u64>().is_ok(),
        "ids are strings"
    );
    assert_eq!(user["settings"]["theme"], "system");
    assert!(user["avatar"].is_null() && user["banner"].is_null());
    assert_eq!(r.body["expires_in"], 900);
    let token = access(&r.body);
    let me = app.get("/api/v1/users/@me", Some(&token)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["id"], user["id"]);
    app.stop().await;
}

async fn register_rejects_invalid_fields(b: Backend) {
    let app = TestApp::spawn(b).await;
    let cases = [
        (
            json!({"username": "a", "email": "a@example.com", "password": PASSWORD}),
            "username",
            "username_invalid",
        ),
        (
            json!({"username": "bad name", "email": "a@example.com", "password": PASSWORD}),
            "username",
            "username_invalid",
        ),
        (
            json!({"username": "x".repeat(33), "email": "a@example.com", "password": PASSWORD}),
            "username",
            "username_invalid",
        ),
        (
            json!({"username": "alice", "email": "not-an-email", "password": PASSWORD}),
            "email",
            "email_invalid",
        ),
        // Left empty: said as such (not "invalid" or "too short").
        (
            json!({"username": "", "email": "a@example.com", "password": PASSWORD}),
            "username",
            "required",
        ),
        (
            json!({"username": "alice", "email": " ", "password": PASSWORD}),
            "email",
            "required",
        ),
        (
            json!({"username": "alice", "email": "a@example.com", "password": ""}),
            "password",
            "required",
        ),
        (
            json!({"username": "alice", "email": "a@example.com", "password": "short"}),
            "password",
            "password_too_short",
        ),
        (
            json!({"username": "alice", "email": "a@example.com", "password": "password123"}),
            "password",
            "password_too_common",
        ),
        (
            json!({"username": "alice", "email": "a@example.com", "password": "Qwerty123"}),
            "password",
            "password_too_common",
        ),
        (
            json!({"username": "alice", "email": "a@example.com", "password": PASSWORD, "display_name": "d".repeat(33)}),
            "display_name",
            "too_long",
        ),
        (
            json!({"username": "alice", "password": PASSWORD}),
            "email",
            "required",
        ),
        (
            json!({"username": 5, "email": "a@example.com", "password": PASSWORD}),
            "username",
            "invalid_type",
        ),
    ];
    for (body, field, code) in cases {
        let r = app.post("/api/v1/auth/register", body.clone(), None).await;
        assert_eq!(r.status, 422, "{body}: {:?}", r.body);
        assert_eq!(r.code(), "validation_failed");
        assert_eq!(r.field_code(field), code, "{body}: {:?}", r.body);
    }
    // Several bad fields are reported together.
    let r = app
        .post(
            "/api/v1/auth/register",
            json!({"username": "a", "email": "x", "password": "y"}),
            None,
        )
        .await;
    assert_eq!(
        r.body["fields"].as_object().unwrap().len(),
        3,
        "{:?}",
        r.body
    );
    // Nothing was created.
    assert_eq!(app.login("alice", PASSWORD).await.status, 401);
    app.stop().await;
}

async fn register_conflicts_are_case_insensitive(b: Backend) {
    let app = TestApp::spawn(b).await;
    app.register("alice").await;
    let r = app
        .post(
            "/api/v1/auth/register",
            json!({"username": "ALICE", "email": "other@example.com", "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "username_taken"));
    assert_eq!(r.field_code("username"), "username_taken");
    let r = app
        .post(
            "/api/v1/auth/register",
            json!({"username": "bob", "email": "ALICE@example.COM", "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "email_taken"));
    assert_eq!(r.field_code("email"), "email_taken");
    assert!(r.body["fields"].get("username").is_none(), "{:?}", r.body);
    // Both taken: both said at once, not one per attempt.
    let r = app
        .post(
            "/api/v1/auth/register",
            json!({"username": "Alice", "email": "alice@EXAMPLE.com", "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "username_taken"));
    assert_eq!(r.field_code("username"), "username_taken");
    assert_eq!(r.field_code("email"), "email_taken");
    app.stop().await;
}

async fn login_by_username_or_email(b: Backend) {
    let app = TestApp::spawn(b).await;
    let reg = app.register("carol").await;
    for login in ["carol", "CAROL", "carol@example.com", " Carol@Example.com "] {
        let r = app.login(login, PASSWORD).await;
        assert_eq!(r.status, 200, "{login}: {:?}", r.body);
        assert_eq!(r.body["user"]["id"], reg["user"]["id"]);
        assert_ne!(access(&r.body), access(&reg), "each login is a new session");
    }
    app.stop().await;
}

async fn login_failures_look_the_same(b: Backend) {
    let app = TestApp::spawn(b).await;
    app.register("dave").await;
    let mut wrong = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let r = app.login("dave", "wrong password!").await;
        wrong.push(t.elapsed());
        assert_eq!((r.status, r.code()), (401, "invalid_credentials"));
        let t = Instant::now();
        let r2 = app.login("nobody_here", "wrong password!").await;
        unknown.push(t.elapsed());
        assert_eq!((r2.status, r2.code()), (401, "invalid_credentials"));
        assert_eq!(r.body, r2.body, "same body for both");
    }
    wrong.sort();
    unknown.sort();
    // Both paths run one argon2id verification; an unknown user must not answer much faster.
    assert!(
        unknown[1] * 3 >= wrong[1],
        "unknown user {:?} vs wrong password {:?}",
        unknown[1],
        wrong[1]
    );
    app.stop().await;
}

async fn login_failures_are_rate_limited_per_account(b: Backend) {
    let app = TestApp::spawn(b).await;
    app.register("erin").await;
    for i in 0..10 {
        let r = app
            .login(
                if i % 2 == 0 {
                    "erin"
                } else {
                    "erin@example.com"
                },
                "nope nope nope",
            )
            .await;
        assert_eq!(r.status, 401, "attempt {i}");
    }
    // The 11th try is refused, even with the right password, and says when to come back.
    let r = app.login("erin", PASSWORD).await;
    assert_eq!((r.status, r.code()), (429, "rate_limited"));
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 15 * 60, "{retry}");
    assert_eq!(r.body["retry_after"], retry);
    // Another account from the same address is unaffected.
    app.register("frank").await;
    assert_eq!(app.login("frank", PASSWORD).await.status, 200);
    app.stop().await;
}

async fn login_failures_are_rate_limited_per_ip(b: Backend) {
    let app = TestApp::spawn_with(b, |c| c.login_failures_per_ip = 3).await;
    app.register("gina").await;
    for name in ["x1", "x2", "x3"] {
        assert_eq!(app.login(name, "whatever12").await.status, 401);
    }
    let r = app.login("gina", PASSWORD).await;
    assert_eq!((r.status, r.code()), (429, "rate_limited"));
    assert!(r.header("retry-after").is_some());
    app.stop().await;
}

async fn overlong_logins_are_refused_uncounted(b: Backend) {
    let app = TestApp::spawn_with(b, |c| c.login_failures_per_ip = 2).await;
    app.register("ivo").await;
    let long_login = "x".repeat(255);
    let long_password = "p".repeat(513);
    for _ in 0..3 {
        let r = app.login(&long_login, PASSWORD).await;
        assert_eq!((r.status, r.code()), (422, "validation_failed"));
        assert_eq!(r.field_code("login"), "too_long");
        assert_eq!(r.body["fields"]["login"]["limit"], 254);
        let r = app.login("ivo", &long_password).await;
        assert_eq!(r.field_code("password"), "too_long");
        assert_eq!(r.body["fields"]["password"]["limit"], 512);
    }
    // The longest email is still a login.
    let longest = format!("{}@{}.io", "a".repeat(64), "b".repeat(186));
    assert_eq!(longest.len(), 254);
    assert_eq!(app.login(&longest, PASSWORD).await.status, 401);
    assert_eq!(app.login("ivo", PASSWORD).await.status, 200);
    app.stop().await;
}

async fn refresh_rotates_and_reuse_revokes_the_session(b: Backend) {
    let app = TestApp::spawn(b).await;
    let first = app.register("hana").await;
    let r = app
        .post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": refresh(&first)}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let second = r.body;
    assert_ne!(refresh(&second), refresh(&first));
    assert_eq!(second["user"]["username"], "hana");
    assert_eq!(
        app.get("/api/v1/users/@me", Some(&access(&second)))
            .await
            .status,
        200
    );
    // An unknown token.
    let r = app
        .post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": "prt_nope"}),
            None,
        )
        .await;
    assert_eq!((r.status, r.code()), (401, "invalid_refresh_token"));
    // The spent token again: theft. The whole session dies.
    let r = app
        .post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": refresh(&first)}),
            None,
        )
        .await;
    assert_eq!((r.status, r.code()), (401, "invalid_refresh_token"));
    let me = app.get("/api/v1/users/@me", Some(&access(&second))).await;
    assert_eq!((me.status, me.code()), (401, "unauthorized"));
    let r = app
        .post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": refresh(&second)}),
            None,
        )
        .await;
    assert_eq!(
        r.status, 401,
        "the newest refresh token of a revoked session is dead too"
    );
    app.stop().await;
}

#[tokio::test]
async fn access_tokens_expire() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.access_token_ttl_secs = 1).await;
    let auth = app.register("ivan").await;
    assert_eq!(auth["expires_in"], 1);
    assert_eq!(
        app.get("/api/v1/users/@me", Some(&access(&auth)))
            .await
            .status,
        200
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = app.get("/api/v1/users/@me", Some(&access(&auth))).await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"));
    let r = app
        .post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": refresh(&auth)}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "refresh outlives access");
    app.stop().await;
}
