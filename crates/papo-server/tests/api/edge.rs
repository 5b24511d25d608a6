//! The HTTP edge: body errors, unknown routes, headers, operations endpoints, the web app.

use serde_json::json;

use crate::both;
use crate::helpers::{Backend, PASSWORD, TestApp, access};
use crate::ws::{End, Ws};

both!(
    body_errors_have_codes,
    operations_endpoints,
    text_with_a_nul_is_refused_as_bad_input,
    names_refuse_invisible_and_direction_changing_characters,
);

async fn body_errors_have_codes(b: Backend) {
    let app = TestApp::spawn(b).await;
    let url = app.url("/api/v1/auth/login");
    let json_req = |body: &'static str| {
        app.client
            .post(url.clone())
            .header("content-type", "application/json")
            .body(body)
    };
    let r = app.send(json_req("{\"login\": ")).await;
    assert_eq!((r.status, r.code()), (400, "invalid_json"));
    let r = app.send(json_req("[1, 2")).await;
    assert_eq!((r.status, r.code()), (400, "invalid_json"));
    let r = app
        .send(json_req("{\"login\": \"a\", \"password\": \"b\"} extra"))
        .await;
    assert_eq!((r.status, r.code()), (400, "invalid_json"));
    let r = app.send(json_req("{\"login\": \"a\"}")).await;
    assert_eq!((r.status, r.code()), (422, "validation_failed"));
    assert_eq!(r.field_code("password"), "required");
    let r = app
        .send(
            app.client
                .post(url.clone())
                .header("content-type", "text/plain")
                .body("{}"),
        )
        .await;
    assert_eq!((r.status, r.code()), (415, "unsupported_media_type"));
    let big = format!(
        "{{\"login\": \"{}\", \"password\": \"x\"}}",
        "a".repeat(1024 * 1024 + 10)
    );
    let r = app
        .send(
            app.client
                .post(url.clone())
                .header("content-type", "application/json")
                .body(big),
        )
        .await;
    assert_eq!((r.status, r.code()), (413, "payload_too_large"));
    // An escape that is not UTF-8 names no route either (axum answered it in plain text).
    for path in [
        "/api/v1/no/such/route",
        "/api/v1/",
        "/api/v1",
        "/api/v1/servers/%ff",
    ] {
        let r = app.get(path, None).await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "{path}");
    }
    let r = app.get("/api/v1/no/such/route", None).await;
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let r = app.get("/api/v1/auth/login", None).await;
    assert_eq!((r.status, r.code()), (405, "method_not_allowed"));
    app.stop().await;
}

async fn operations_endpoints(b: Backend) {
    let app = TestApp::spawn(b).await;
    assert_eq!(app.get("/healthz", None).await.body["status"], "ok");
    let r = app.get("/readyz", None).await;
    assert_eq!((r.status, r.body["database"].as_str()), (200, Some("ok")));
    let t = access(&app.register("rui").await);
    app.get("/api/v1/users/@me", Some(&t)).await;
    app.get("/api/v1/users/@me", Some(&t)).await;
    let (_, general) = app.community(&t, &[]).await;
    let path = format!("/api/v1/channels/{general}/messages");
    let r = app
        .post(&path, json!({"content": "counted"}), Some(&t))
        .await;
    assert_eq!(r.status, 201);
    let text = app.metrics().await;
    assert!(
        text.contains(
            "papo_http_requests_total{method=\"GET\",route=\"/api/v1/users/@me\",status=\"200\"} 2"
        ),
        "{text}"
    );
    assert!(text.contains("papo_http_request_duration_seconds_bucket{method=\"POST\",route=\"/api/v1/auth/register\",status=\"201\",le=\"+Inf\"} 1"));
    assert!(text.contains("papo_db_pool_connections{state=\"idle\"}"));
    assert!(text.contains("\npapo_db_lock_waits_total "), "{text}");
    assert!(
        text.contains("\npapo_message_writer_messages_total 1\n"),
        "{text}"
    );
    assert!(
        text.contains("\npapo_message_writer_commits_total 1\n"),
        "{text}"
    );
    // One message waited for one batch, and one batch was stored.
    assert!(
        text.contains("\npapo_message_wait_seconds_count 1\n"),
        "{text}"
    );
    assert!(
        text.contains("\npapo_message_commit_seconds_count 1\n")
            && text.contains("\npapo_message_commit_seconds_bucket{le=\"+Inf\"} 1\n"),
        "{text}"
    );
    app.stop().await;
}

/// A query parameter that cannot be read is a field error in JSON, as a body's are, on
/// every endpoint that takes parameters (axum's own extractor answered in plain text).
#[tokio::test]
async fn query_errors_have_codes() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let alice = access(&app.register("query_alice").await);
    let (server, general) = app.community(&alice, &[]).await;
    let sid = server["id"].as_str().unwrap();
    for (path, field) in [
        (
            format!("/api/v1/channels/{general}/messages?limit=abc"),
            "limit",
        ),
        (
            format!("/api/v1/channels/{general}/messages?limit=-1"),
            "limit",
        ),
        (format!("/api/v1/servers/{sid}/members?limit=lots"), "limit"),
        (
            format!("/api/v1/servers/{sid}/audit-log?limit=1.5"),
            "limit",
        ),
    ] {
        let r = app.get(&path, Some(&alice)).await;
        assert_eq!((r.status, r.code()), (422, "validation_failed"), "{path}");
        assert_eq!(r.field_code(field), "invalid_value", "{path}: {:?}", r.body);
    }
    let r = app
        .get(
            &format!("/api/v1/channels/{general}/messages?limit=2"),
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    app.stop().await;
}

#[tokio::test]
async fn every_response_carries_security_headers_and_a_request_id() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    for path in [
        "/",
        "/app/settings",
        "/api/v1/users/@me",
        "/api/v1/nope",
        "/healthz",
        "/api/docs/",
    ] {
        let r = app.get(path, None).await;
        let csp = r.header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'self'"),
            "{path}"
        );
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(r.header("x-request-id").map(str::len), Some(16), "{path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_web_app_and_api_docs_are_served() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let index = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(index.status(), 200);
    assert!(
        index.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let index_body = index.text().await.unwrap();
    // Client-side routes get the same shell, so a reload keeps the page; a dot in an invite
    // code (a link mangled in a chat) is the app's to call unknown, not a missing file.
    for route in [
        "/settings/profile",
        "/invite/abc.def",
        "/invite/..%2F..%2Fapi",
    ] {
        let deep = app.client.get(app.url(route)).send().await.unwrap();
        assert_eq!(deep.status(), 200, "{route}");
        assert_eq!(deep.text().await.unwrap(), index_body, "{route}");
    }
    let missing = app
        .client
        .get(app.url("/assets/missing-file.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    // OpenAPI is generated from the code and lists every route.
    let spec = app.get("/api/v1/openapi.json", None).await.body;
    for path in [
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/auth/sessions",
        "/api/v1/auth/sessions/{id}",
        "/api/v1/auth/password",
        "/api/v1/users/@me",
        "/api/v1/users/{id}",
    ] {
        assert!(
            spec["paths"][path].is_object(),
            "{path} missing from OpenAPI"
        );
    }
    assert!(spec["paths"]["/api/v1/auth/sessions"]["delete"].is_object());
    assert!(spec["components"]["schemas"]["ErrorBody"].is_object());
    // The Swagger UI is embedded: its page and script come from this server.
    let docs = app.client.get(app.url("/api/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    let html = docs.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    let bundle = app
        .client
        .get(app.url("/api/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), 200);
    assert!(bundle.bytes().await.unwrap().len() > 100_000);
    app.stop().await;
}

/// A NUL is valid JSON and valid UTF-8, but PostgreSQL's `text` cannot hold one: every text
/// that could reach the database with one is refused, or matches nothing, as bad input on
/// both backends (on PostgreSQL these were 500s, and a message's failed its whole batch).
async fn text_with_a_nul_is_refused_as_bad_input(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = access(&app.register("nul_alice").await);
    let (server, general) = app.community(&alice, &[]).await;
    let sid = server["id"].as_str().unwrap();
    let msgs = format!("/api/v1/channels/{general}/messages");
    let r = app
        .post(&msgs, json!({"content": "a\u{0}b"}), Some(&alice))
        .await;
    assert_eq!((r.status, r.field_code("content")), (422, "invalid_value"));
    let r = app
        .post(
            &msgs,
            json!({"content": "ok", "nonce": "n\u{0}"}),
            Some(&alice),
        )
        .await;
    assert_eq!((r.status, r.field_code("nonce")), (422, "invalid_value"));
    let kept = app
        .post(&msgs, json!({"content": "a\tb\r\nc"}), Some(&alice))
        .await;
    assert_eq!(kept.status, 201, "{:?}", kept.body);
    let mid = kept.body["id"].as_str().unwrap();
    let r = app
        .patch(
            &format!("{msgs}/{mid}"),
            json!({"content": "\u{0}"}),
            Some(&alice),
        )
        .await;
    assert_eq!((r.status, r.field_code("content")), (422, "invalid_value"));
    let history = app.get(&msgs, Some(&alice)).await.body;
    assert_eq!(history.as_array().unwrap().len(), 1, "{history}");
    assert_eq!(history[0]["content"], "a\tb\r\nc");

    let (mut ws, _) = Ws::identify(&app, &alice).await;
    ws.send(json!({"op": "message_create", "d": {
        "channel_id": general, "content": "\u{0}", "nonce": "ws-1"}}))
        .await;
    let e = ws.op("error").await;
    assert_eq!(e["d"]["fields"]["content"]["code"], "invalid_value", "{e}");

    let r = app.login("nul_alice\u{0}", PASSWORD).await;
    assert_eq!((r.status, r.code()), (401, "invalid_credentials"));
    for (method, path) in [
        ("GET", "/api/v1/invites/ab%00c"),
        ("POST", "/api/v1/invites/ab%00c/accept"),
        ("DELETE", "/api/v1/invites/ab%00c"),
    ] {
        let r = match method {
            "GET" => app.get(path, Some(&alice)).await,
            "POST" => app.post(path, json!({}), Some(&alice)).await,
            _ => app.delete(path, Some(&alice)).await,
        };
        assert_eq!((r.status, r.code()), (404, "not_found"), "{method} {path}");
    }
    let r = app
        .get(
            &format!("/api/v1/servers/{sid}/audit-log?action=a%00b"),
            Some(&alice),
        )
        .await;
    assert_eq!((r.status, r.field_code("action")), (422, "invalid_value"));
    assert!(matches!(
        Ws::identify_refused_at(&app.addr.to_string(), "a\u{0}b").await,
        End::Closed(4001)
    ));
    app.stop().await;
}

/// A name that passes for another (a zero-width space after `admin`), draws as nothing, or
/// turns the text after it around (a right-to-left override) is refused wherever a name is
/// set; names in other scripts and with emoji are kept as given.
async fn names_refuse_invisible_and_direction_changing_characters(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = access(&app.register("bidi_alice").await);
    let (server, _) = app.community(&alice, &[]).await;
    let sid = server["id"].as_str().unwrap();
    let me = server["owner_id"].as_str().unwrap();
    let bad = [
        "admin\u{200B}",
        "alice\u{202E}",
        "\u{2800}\u{2800}",
        "a\u{7}b",
    ];
    let r = app
        .post(
            "/api/v1/auth/register",
            json!({"username": "bidi_bob", "email": "bidi_bob@example.com",
                   "password": PASSWORD, "display_name": bad[1]}),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.field_code("display_name")),
        (422, "invalid_characters")
    );
    let settable = [
        ("PATCH", "/api/v1/users/@me".to_owned(), "display_name"),
        ("PATCH", "/api/v1/users/@me".to_owned(), "pronouns"),
        ("POST", "/api/v1/servers".to_owned(), "name"),
        ("PATCH", format!("/api/v1/servers/{sid}"), "name"),
        ("POST", format!("/api/v1/servers/{sid}/channels"), "name"),
        ("POST", format!("/api/v1/servers/{sid}/roles"), "name"),
        (
            "PATCH",
            format!("/api/v1/servers/{sid}/members/{me}"),
            "nickname",
        ),
    ];
    for (method, path, field) in &settable {
        for text in bad {
            if *field == "pronouns" && text == bad[2] {
                continue; // Not a name: may be blank.
            }
            let mut body = json!({ *field: text });
            if path.ends_with("/channels") {
                body["kind"] = json!("voice");
            }
            let r = match *method {
                "POST" => app.post(path, body, Some(&alice)).await,
                _ => app.patch(path, body, Some(&alice)).await,
            };
            assert_eq!(
                (r.status, r.field_code(field)),
                (422, "invalid_characters"),
                "{method} {path} {field} {text:?}: {:?}",
                r.body
            );
        }
    }
    // Nothing was changed by the refusals; a name in another script, with accents and a
    // joined emoji, is kept as given.
    let kept = app
        .get(&format!("/api/v1/servers/{sid}"), Some(&alice))
        .await;
    assert_eq!(kept.body["name"], "Comunidade");
    let name = "Zé محمد 👨\u{200D}👩\u{200D}👧";
    for (method, path, field) in &settable[..4] {
        let body = json!({ *field: name });
        let r = match *method {
            "POST" => app.post(path, body, Some(&alice)).await,
            _ => app.patch(path, body, Some(&alice)).await,
        };
        assert!(r.status < 300, "{method} {path}: {:?}", r.body);
        assert_eq!(r.body[field], name, "{method} {path}");
    }
    // A moderator's reason is one line too (here with a right-to-left override).
    let invite = app
        .post(
            &format!("/api/v1/servers/{sid}/invites"),
            json!({}),
            Some(&alice),
        )
        .await;
    let delete = app
        .client
        .delete(app.url(&format!(
            "/api/v1/invites/{}",
            invite.body["code"].as_str().unwrap()
        )))
        .bearer_auth(&alice)
        .header("X-Audit-Log-Reason", "spam%E2%80%AE");
    let r = app.send(delete).await;
    assert_eq!(
        (r.status, r.field_code("x-audit-log-reason")),
        (422, "invalid_characters")
    );
    let (mut ws, _) = Ws::identify(&app, &alice).await;
    ws.send(json!({"op": "presence_update", "d": {"status": "online",
        "custom_status": {"text": "em aula\u{202E}"}}}))
        .await;
    let e = ws.op("error").await;
    assert_eq!(e["d"]["code"], "validation_failed", "{e}");
    // The emoji too; and an expiry must be a real time.
    for status in [
        json!({"text": "em aula", "emoji": "\u{202E}\u{0}"}),
        json!({"text": "em aula", "expires_at": "2026-13-45T99:99:99Z"}),
    ] {
        ws.send(
            json!({"op": "presence_update", "d": {"status": "online", "custom_status": status}}),
        )
        .await;
        let e = ws.op("error").await;
        assert_eq!(e["d"]["code"], "validation_failed", "{status}: {e}");
    }
    app.stop().await;
}
