//! A timeout outlives the membership: leaving, being kicked or banned, and coming back with
//! an invite does not end it (it did: the member row held it and went).

use serde_json::json;

use crate::both;
use crate::helpers::{Backend, TestApp, access};

both!(a_timeout_outlives_leaving_and_coming_back,);

async fn a_timeout_outlives_leaving_and_coming_back(b: Backend) {
    let app = TestApp::spawn(b).await;
    let ana = access(&app.register("kt_ana").await);
    let teo_auth = app.register("kt_teo").await;
    let teo = access(&teo_auth);
    let teo_id = teo_auth["user"]["id"].as_str().unwrap().to_owned();
    let (server, general) = app.community(&ana, &[&teo]).await;
    let sid = server["id"].as_str().unwrap();
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
    let member = format!("/api/v1/servers/{sid}/members/{teo_id}");
    let timeout = |secs: i64| {
        let t = time::OffsetDateTime::now_utc() + time::Duration::seconds(secs);
        json!({"timeout_until": t.format(&time::format_description::well_known::Rfc3339).unwrap()})
    };
    let rejoin = || async {
        let r = app
            .post(
                &format!("/api/v1/invites/{code}/accept"),
                json!({}),
                Some(&teo),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    };
    let send = || async {
        app.post(
            &format!("/api/v1/channels/{general}/messages"),
            json!({"content": "voltei"}),
            Some(&teo),
        )
        .await
        .status
    };
    let r = app.patch(&member, timeout(3600), Some(&ana)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    // Left and back: still timed out.
    let r = app
        .delete(&format!("/api/v1/users/@me/servers/{sid}"), Some(&teo))
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    rejoin().await;
    assert_eq!(send().await, 403);
    let r = app.get(&member, Some(&ana)).await;
    assert!(r.body["timeout_until"].is_string(), "{:?}", r.body);
    // Kicked, banned and unbanned: the same.
    let r = app.delete(&member, Some(&ana)).await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    rejoin().await;
    assert_eq!(send().await, 403);
    let ban = format!("/api/v1/servers/{sid}/bans/{teo_id}");
    assert_eq!(app.put(&ban, json!({}), Some(&ana)).await.status, 204);
    assert_eq!(app.delete(&ban, Some(&ana)).await.status, 204);
    rejoin().await;
    assert_eq!(send().await, 403);
    // Lifted by a moderator, it stays lifted through the next leave and return.
    let r = app
        .patch(&member, json!({"timeout_until": null}), Some(&ana))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app
        .delete(&format!("/api/v1/users/@me/servers/{sid}"), Some(&teo))
        .await;
    assert_eq!(r.status, 204);
    rejoin().await;
    assert_eq!(send().await, 201);
    app.stop().await;
}
