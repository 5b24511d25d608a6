//! What the audit log keeps: changes, not saves or repeats that changed nothing; and what
//! it keeps to itself: entries about channels the reader cannot view, deleted ones too.

use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Backend, TestApp, access};

both!(
    saves_and_repeats_that_change_nothing_are_not_logged,
    hidden_channels_stay_hidden_in_the_log_after_their_deletion,
);

async fn saves_and_repeats_that_change_nothing_are_not_logged(b: Backend) {
    let app = TestApp::spawn(b).await;
    let ana = access(&app.register("au_ana").await);
    let server = app
        .post("/api/v1/servers", json!({"name": "Arquivo"}), Some(&ana))
        .await
        .body;
    let sid = server["id"].as_str().unwrap();
    let count = |action: &'static str| {
        let (app, ana) = (&app, ana.clone());
        async move {
            let r = app
                .get(
                    &format!("/api/v1/servers/{sid}/audit-log?action={action}"),
                    Some(&ana),
                )
                .await;
            assert_eq!(r.status, 200, "{:?}", r.body);
            r.body["entries"].as_array().unwrap().len()
        }
    };
    // Settings saved as they were: nothing happened to the server.
    let r = app
        .patch(
            &format!("/api/v1/servers/{sid}"),
            json!({"name": "Arquivo"}),
            Some(&ana),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(count("server_update").await, 0);
    app.patch(
        &format!("/api/v1/servers/{sid}"),
        json!({"name": "Arquivo Morto"}),
        Some(&ana),
    )
    .await;
    assert_eq!(count("server_update").await, 1);
    // An invite revoked twice: revoked once.
    let code = app
        .post(
            &format!("/api/v1/servers/{sid}/invites"),
            json!({}),
            Some(&ana),
        )
        .await
        .body["code"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..2 {
        let r = app
            .delete(&format!("/api/v1/invites/{code}"), Some(&ana))
            .await;
        assert_eq!(r.status, 204, "{:?}", r.body);
    }
    assert_eq!(count("invite_delete").await, 1);
    app.stop().await;
}

async fn hidden_channels_stay_hidden_in_the_log_after_their_deletion(b: Backend) {
    let app = TestApp::spawn(b).await;
    let ana = access(&app.register("hl_ana").await);
    let bia_auth = app.register("hl_bia").await;
    let bia = access(&bia_auth);
    let (server, _) = app.community(&ana, &[&bia]).await;
    let sid = server["id"].as_str().unwrap();
    // Bia reads the log (view_audit_log) but is no administrator.
    let role = app
        .post(
            &format!("/api/v1/servers/{sid}/roles"),
            json!({"name": "Auditoria", "permissions": (1u64 << 7).to_string()}),
            Some(&ana),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bia_id = bia_auth["user"]["id"].as_str().unwrap();
    let r = app
        .patch(
            &format!("/api/v1/servers/{sid}/members/{bia_id}"),
            json!({"roles": [role]}),
            Some(&ana),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let channel = |name: &'static str| {
        let (app, ana) = (&app, ana.clone());
        async move {
            let r = app
                .post(
                    &format!("/api/v1/servers/{sid}/channels"),
                    json!({"name": name, "kind": "text", "topic": format!("tópico de {name}")}),
                    Some(&ana),
                )
                .await;
            assert_eq!(r.status, 201, "{:?}", r.body);
            r.body["id"].as_str().unwrap().to_owned()
        }
    };
    let secret = channel("segredo").await;
    let open = channel("aberto").await;
    let r = app
        .put(
            &format!("/api/v1/channels/{secret}/permissions/{sid}"),
            json!({"type": "role", "deny": "1024"}),
            Some(&ana),
        )
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let mut ids = Vec::new();
    for text in ["um", "dois"] {
        let r = app
            .post(
                &format!("/api/v1/channels/{secret}/messages"),
                json!({"content": text}),
                Some(&ana),
            )
            .await;
        ids.push(r.body["id"].as_str().unwrap().to_owned());
    }
    let r = app
        .post(
            &format!("/api/v1/channels/{secret}/messages/bulk-delete"),
            json!({"messages": ids}),
            Some(&ana),
        )
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let log = |token: String| {
        let app = &app;
        async move {
            let r = app
                .get(&format!("/api/v1/servers/{sid}/audit-log"), Some(&token))
                .await;
            assert_eq!(r.status, 200, "{:?}", r.body);
            r.body["entries"].as_array().unwrap().clone()
        }
    };
    let about = |entries: &[Value], channel: &str| {
        entries.iter().filter(|e| e["target_id"] == channel).count()
    };
    let said = |entries: &[Value], text: &str| entries.iter().any(|e| e.to_string().contains(text));
    // While it exists: nothing about it, the bulk delete included, reaches Bia.
    let seen = log(bia.clone()).await;
    assert_eq!(about(&seen, &secret), 0, "{seen:?}");
    assert!(!said(&seen, "segredo"));
    assert!(about(&seen, &open) > 0);
    // Deleted: still nothing (its overwrites went with it, its entries stay judged by them).
    for c in [&secret, &open] {
        let r = app
            .delete(&format!("/api/v1/channels/{c}"), Some(&ana))
            .await;
        assert_eq!(r.status, 204);
    }
    let seen = log(bia).await;
    assert_eq!(about(&seen, &secret), 0, "{seen:?}");
    assert!(!said(&seen, "segredo") && !said(&seen, "tópico de segredo"));
    let deleted_open = seen
        .iter()
        .find(|e| e["action"] == "channel_delete" && e["target_id"] == open.as_str())
        .expect("a public channel's deletion is shown");
    assert_eq!(deleted_open["changes"], json!({"name": "aberto"}));
    // The owner reads everything, without the overwrites kept for this.
    let all = log(ana).await;
    let deleted_secret = all
        .iter()
        .find(|e| e["action"] == "channel_delete" && e["target_id"] == secret.as_str())
        .expect("the owner sees it");
    assert_eq!(deleted_secret["changes"], json!({"name": "segredo"}));
    assert!(
        all.iter()
            .any(|e| e["action"] == "message_bulk_delete" && e["target_id"] == secret.as_str())
    );
    app.stop().await;
}
