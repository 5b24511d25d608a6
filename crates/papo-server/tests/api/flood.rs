//! Changes others are told of (edits, reactions, one's own nickname and profile, invites) share a
//! per-member burst: unlimited, one member flooded every other member's socket with them.

use serde_json::json;

use crate::both;
use crate::helpers::{Backend, TestApp, access};

both!(changes_others_are_told_of_are_rate_limited,);

async fn changes_others_are_told_of_are_rate_limited(b: Backend) {
    let app = TestApp::spawn_with(b, |c| {
        c.change_rate_burst = 3;
        c.change_rate_window_secs = 1;
    })
    .await;
    let ana = access(&app.register("fl_ana").await);
    let rui_auth = app.register("fl_rui").await;
    let rui = access(&rui_auth);
    let rui_id = rui_auth["user"]["id"].as_str().unwrap().to_owned();
    let (server, general) = app.community(&ana, &[&rui]).await;
    let sid = server["id"].as_str().unwrap();
    let mid = app
        .post(
            &format!("/api/v1/channels/{general}/messages"),
            json!({"content": "oi"}),
            Some(&rui),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let message = format!("/api/v1/channels/{general}/messages/{mid}");
    // Three changes of any kind go through; the fourth of each kind waits.
    let r = app
        .patch(&message, json!({"content": "oi!"}), Some(&rui))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app
        .put(&format!("{message}/reactions/👍"), json!(null), Some(&rui))
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let r = app
        .patch("/api/v1/users/@me", json!({"bio": "oi"}), Some(&rui))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let refused = [
        app.patch(&message, json!({"content": "oi!!"}), Some(&rui))
            .await,
        app.delete(&format!("{message}/reactions/👍"), Some(&rui))
            .await,
        app.patch(
            &format!("/api/v1/servers/{sid}/members/{rui_id}"),
            json!({"nickname": "Ruizinho"}),
            Some(&rui),
        )
        .await,
        app.patch("/api/v1/users/@me", json!({"bio": "tchau"}), Some(&rui))
            .await,
        app.post(
            &format!("/api/v1/servers/{sid}/invites"),
            json!({}),
            Some(&rui),
        )
        .await,
    ];
    for r in &refused {
        assert_eq!((r.status, r.code()), (429, "rate_limited"), "{:?}", r.body);
        assert!(r.header("retry-after").is_some());
    }
    // Nothing refused was done; another member is not held back.
    let now = app.get(&message, Some(&ana)).await.body;
    assert_eq!(now["content"], "oi!");
    let invites = app
        .get(&format!("/api/v1/servers/{sid}/invites"), Some(&ana))
        .await
        .body;
    assert_eq!(invites.as_array().map(Vec::len), Some(1), "{invites:?}");
    let r = app
        .put(&format!("{message}/reactions/🎉"), json!(null), Some(&ana))
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    // The burst refills over its window.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let r = app
        .patch(&message, json!({"content": "oi de novo"}), Some(&rui))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    app.stop().await;
}
