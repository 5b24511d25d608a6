//! What the audit log keeps: changes, not saves or repeats that changed nothing.

use serde_json::json;

use crate::both;
use crate::helpers::{Backend, TestApp, access};

both!(saves_and_repeats_that_change_nothing_are_not_logged,);

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
