//! What one server or message can hold: 500 channels, 200 live invites, 20 different
//! reactions. Past them a server's ready grew by megabytes, its invites went past what its
//! managers could list (and revoke), and a message took hundreds of emoji.

use serde_json::json;

use crate::both;
use crate::helpers::{Backend, TestApp, access};

both!(
    a_server_holds_500_channels_and_a_message_20_emoji,
    a_server_holds_200_live_invites,
);

async fn a_server_holds_500_channels_and_a_message_20_emoji(b: Backend) {
    let app = TestApp::spawn_with(b, |c| c.change_rate_burst = 100).await;
    let ana = access(&app.register("cap_ana").await);
    let rui = access(&app.register("cap_rui").await);
    let (server, general) = app.community(&ana, &[&rui]).await;
    let sid = server["id"].as_str().unwrap();
    let channels = format!("/api/v1/servers/{sid}/channels");
    // The two made with the server count.
    for i in 2..500 {
        let r = app
            .post(
                &channels,
                json!({"name": format!("c{i}"), "kind": "text"}),
                Some(&ana),
            )
            .await;
        assert_eq!(r.status, 201, "channel {i}: {:?}", r.body);
    }
    let r = app
        .post(
            &channels,
            json!({"name": "demais", "kind": "text"}),
            Some(&ana),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "too_many_channels"));
    let mid = app
        .post(
            &format!("/api/v1/channels/{general}/messages"),
            json!({"content": "reajam"}),
            Some(&ana),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let react = |emoji: char, token: String| {
        let path = format!("/api/v1/channels/{general}/messages/{mid}/reactions/{emoji}");
        let app = &app;
        async move { app.put(&path, json!(null), Some(&token)).await }
    };
    let emoji: Vec<char> = ('😀'..).take(21).collect();
    for e in &emoji[..20] {
        assert_eq!(react(*e, ana.clone()).await.status, 204, "{e}");
    }
    let r = react(emoji[20], ana.clone()).await;
    assert_eq!((r.status, r.code()), (409, "too_many_reactions"));
    // One of the twenty is still open to others, and again to the same user.
    assert_eq!(react(emoji[0], rui.clone()).await.status, 204);
    assert_eq!(react(emoji[0], ana.clone()).await.status, 204);
    let r = react(emoji[20], rui).await;
    assert_eq!(r.code(), "too_many_reactions");
    app.stop().await;
}

async fn a_server_holds_200_live_invites(b: Backend) {
    let app = TestApp::spawn_with(b, |c| c.change_rate_burst = 1000).await;
    let ana = access(&app.register("inv_ana").await);
    let rui = access(&app.register("inv_rui").await);
    let (server, _) = app.community(&ana, &[&rui]).await;
    let sid = server["id"].as_str().unwrap();
    let invites = format!("/api/v1/servers/{sid}/invites");
    let live = || async { app.get(&invites, Some(&ana)).await.body };
    // The community's own invite (unlimited) counts.
    let before = live().await.as_array().unwrap().len();
    for i in before..200 {
        // Half of them by the other member: the cap is the server's, not the inviter's.
        let by = if i % 2 == 0 { &ana } else { &rui };
        let r = app.post(&invites, json!({}), Some(by)).await;
        assert_eq!(r.status, 201, "invite {i}: {:?}", r.body);
    }
    for by in [&ana, &rui] {
        let r = app.post(&invites, json!({}), Some(by)).await;
        assert_eq!((r.status, r.code()), (409, "too_many_invites"));
    }
    // Every live invite is listed, so each can be revoked; one revoked frees a place.
    let listed = live().await;
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 200);
    let code = listed[0]["code"].as_str().unwrap();
    let r = app
        .delete(&format!("/api/v1/invites/{code}"), Some(&ana))
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let r = app.post(&invites, json!({"max_uses": 1}), Some(&ana)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let one_use = r.body["code"].as_str().unwrap().to_owned();
    let r = app.post(&invites, json!({}), Some(&ana)).await;
    assert_eq!((r.status, r.code()), (409, "too_many_invites"));
    // A used-up invite is not live: joining through the one-use invite frees its place.
    let eva = access(&app.register("inv_eva").await);
    let r = app
        .post(
            &format!("/api/v1/invites/{one_use}/accept"),
            json!({}),
            Some(&eva),
        )
        .await;
    assert!(r.status < 300, "{:?}", r.body);
    assert_eq!(live().await.as_array().unwrap().len(), 199);
    let r = app.post(&invites, json!({}), Some(&ana)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    app.stop().await;
}
