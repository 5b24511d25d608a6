//! Channel permission overwrites beyond one channel's: a category's reach the channels that
//! still have them (Discord's "synced" channels), and the role hierarchy bounds who may set
//! them on whom; a channel with rules of its own can be given its category's again.

use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Backend, TestApp, access};
use crate::ws::Ws;

both!(
    a_private_category_hides_the_channels_that_follow_it,
    overwrites_only_target_those_below_the_caller,
    a_channel_syncs_with_its_category_again,
);

async fn channel(app: &TestApp, server: &str, body: Value, token: &str) -> String {
    let r = app
        .post(
            &format!("/api/v1/servers/{server}/channels"),
            body,
            Some(token),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

/// The ids of the channels `token` is shown in `server`.
async fn listed(app: &TestApp, server: &str, token: &str) -> Vec<String> {
    let r = app
        .get(&format!("/api/v1/servers/{server}"), Some(token))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_private_category_hides_the_channels_that_follow_it(b: Backend) {
    let app = TestApp::spawn(b).await;
    let ana = access(&app.register("cat_ana").await);
    let bo = access(&app.register("cat_bo").await);
    let (server, _) = app.community(&ana, &[&bo]).await;
    let sid = server["id"].as_str().unwrap();
    let staff = channel(
        &app,
        sid,
        json!({"name": "Staff", "kind": "category"}),
        &ana,
    )
    .await;
    let mods = channel(
        &app,
        sid,
        json!({"name": "mods", "kind": "text", "parent_id": staff}),
        &ana,
    )
    .await;
    let notes = channel(
        &app,
        sid,
        json!({"name": "notes", "kind": "text", "parent_id": staff}),
        &ana,
    )
    .await;
    // #notes gets rules of its own (read-only for everyone): it no longer follows Staff.
    let r = app
        .put(
            &format!("/api/v1/channels/{notes}/permissions/{sid}"),
            json!({"type": "role", "deny": "2048"}),
            Some(&ana),
        )
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let (mut bo_ws, _) = Ws::identify(&app, &bo).await;

    // Staff closes to @everyone: #mods, which follows it, closes too, live.
    let r = app
        .put(
            &format!("/api/v1/channels/{staff}/permissions/{sid}"),
            json!({"type": "role", "deny": "1024"}),
            Some(&ana),
        )
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let mut gone = Vec::new();
    while gone.len() < 2 {
        let ev = bo_ws.event("channel.deleted").await;
        gone.push(ev["d"]["id"].as_str().unwrap().to_owned());
    }
    gone.sort();
    let mut expected = vec![staff.clone(), mods.clone()];
    expected.sort();
    assert_eq!(gone, expected);
    let seen = listed(&app, sid, &bo).await;
    assert!(!seen.contains(&mods) && !seen.contains(&staff), "{seen:?}");
    assert!(seen.contains(&notes), "its own rules: {seen:?}");
    let r = app
        .get(&format!("/api/v1/channels/{mods}/messages"), Some(&bo))
        .await;
    assert_eq!(r.status, 404, "{:?}", r.body);
    let r = app
        .post(
            &format!("/api/v1/channels/{mods}/messages"),
            json!({"content": "oi"}),
            Some(&bo),
        )
        .await;
    assert_eq!(r.status, 404, "{:?}", r.body);

    // A channel made in the private category is private from the start, with the
    // category's overwrite to show for it.
    let r = app
        .post(
            &format!("/api/v1/servers/{sid}/channels"),
            json!({"name": "plans", "kind": "text", "parent_id": staff}),
            Some(&ana),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let plans = r.body["id"].as_str().unwrap().to_owned();
    let overwrites = r.body["overwrites"].as_array().unwrap();
    assert_eq!(overwrites.len(), 1, "{:?}", r.body);
    assert_eq!(overwrites[0]["deny"], "1024");
    assert!(!listed(&app, sid, &bo).await.contains(&plans));
    // The owner still sees everything.
    let all = listed(&app, sid, &ana).await;
    assert!(all.contains(&plans) && all.contains(&mods));

    // Opening Staff again opens the channels that follow it, live; #notes keeps its own.
    let r = app
        .delete(
            &format!("/api/v1/channels/{staff}/permissions/{sid}"),
            Some(&ana),
        )
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let mut back = Vec::new();
    while back.len() < 3 {
        let ev = bo_ws.event("channel.created").await;
        back.push(ev["d"]["id"].as_str().unwrap().to_owned());
    }
    back.sort();
    let mut expected = vec![staff.clone(), mods.clone(), plans.clone()];
    expected.sort();
    assert_eq!(back, expected);
    let r = app
        .post(
            &format!("/api/v1/channels/{notes}/messages"),
            json!({"content": "oi"}),
            Some(&bo),
        )
        .await;
    assert_eq!(r.status, 403, "#notes is still read-only: {:?}", r.body);
    app.stop().await;
}

/// Assigns `roles` to `user` (as the owner).
async fn give(app: &TestApp, server: &str, user: &Value, roles: &[&str], owner: &str) {
    let id = user["user"]["id"].as_str().unwrap();
    let r = app
        .patch(
            &format!("/api/v1/servers/{server}/members/{id}"),
            json!({ "roles": roles }),
            Some(owner),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

async fn overwrites_only_target_those_below_the_caller(b: Backend) {
    let app = TestApp::spawn(b).await;
    let ana = access(&app.register("ow_ana").await);
    let (mo, se, bo) = (
        app.register("ow_mo").await,
        app.register("ow_se").await,
        app.register("ow_bo").await,
    );
    let (server, general) = app
        .community(&ana, &[&access(&mo), &access(&se), &access(&bo)])
        .await;
    let sid = server["id"].as_str().unwrap();
    let role = |name: &'static str, permissions: u64| {
        let app = &app;
        let ana = ana.clone();
        async move {
            let r = app
                .post(
                    &format!("/api/v1/servers/{sid}/roles"),
                    json!({"name": name, "permissions": permissions.to_string()}),
                    Some(&ana),
                )
                .await;
            assert_eq!(r.status, 201, "{:?}", r.body);
            r.body["id"].as_str().unwrap().to_owned()
        }
    };
    // Each new role is placed just above @everyone: Senior ends above Mods.
    let senior = role("Senior", 0).await;
    let mods = role("Mods", (1 << 28) | (1 << 10) | (1 << 11)).await;
    give(&app, sid, &mo, &[&mods], &ana).await;
    give(&app, sid, &se, &[&senior], &ana).await;
    let mo = access(&mo);
    let deny_view = json!({"type": "role", "deny": "1024"});
    let put = |target: String, body: Value| {
        let (app, mo, general) = (&app, mo.clone(), general.clone());
        async move {
            app.put(
                &format!("/api/v1/channels/{general}/permissions/{target}"),
                body,
                Some(&mo),
            )
            .await
        }
    };
    // Above or level with the moderator: refused, and nothing changes.
    let id_of = |v: &Value| v["user"]["id"].as_str().unwrap().to_owned();
    for (target, body) in [
        (senior.clone(), deny_view.clone()),
        (mods.clone(), deny_view.clone()),
        (id_of(&se), json!({"type": "member", "deny": "1024"})),
        (
            server["owner_id"].as_str().unwrap().to_owned(),
            json!({"type": "member", "deny": "1024"}),
        ),
    ] {
        let r = put(target.clone(), body).await;
        assert_eq!(r.status, 403, "{target}: {:?}", r.body);
    }
    let se_view = app
        .get(
            &format!("/api/v1/channels/{general}/messages"),
            Some(&access(&se)),
        )
        .await;
    assert_eq!(se_view.status, 200, "Senior still reads #general");
    // Below: allowed (@everyone, and a member without a role).
    assert_eq!(
        put(id_of(&bo), json!({"type": "member", "deny": "2048"}))
            .await
            .status,
        204
    );
    assert_eq!(
        put(sid.to_owned(), json!({"type": "role", "deny": "2048"}))
            .await
            .status,
        204
    );
    // Nor may the moderator lift what the owner set on Senior.
    let r = app
        .put(
            &format!("/api/v1/channels/{general}/permissions/{senior}"),
            json!({"type": "role", "allow": "2048"}),
            Some(&ana),
        )
        .await;
    assert_eq!(r.status, 204);
    let r = app
        .delete(
            &format!("/api/v1/channels/{general}/permissions/{senior}"),
            Some(&mo),
        )
        .await;
    assert_eq!(r.status, 403, "{:?}", r.body);
    app.stop().await;
}

async fn a_channel_syncs_with_its_category_again(b: Backend) {
    let app = TestApp::spawn(b).await;
    let ana = access(&app.register("sy_ana").await);
    let (mo, bo) = (app.register("sy_mo").await, app.register("sy_bo").await);
    let (server, general) = app.community(&ana, &[&access(&mo), &access(&bo)]).await;
    let sid = server["id"].as_str().unwrap();
    let r = app
        .post(
            &format!("/api/v1/servers/{sid}/roles"),
            json!({"name": "Senior", "permissions": "0"}),
            Some(&ana),
        )
        .await;
    let senior = r.body["id"].as_str().unwrap().to_owned();
    let r = app
        .post(
            &format!("/api/v1/servers/{sid}/roles"),
            json!({"name": "Mods", "permissions": ((1u64 << 28) | (1 << 11)).to_string()}),
            Some(&ana),
        )
        .await;
    let mods = r.body["id"].as_str().unwrap().to_owned();
    give(&app, sid, &mo, &[&mods], &ana).await;
    let (mo, bo) = (access(&mo), access(&bo));
    // Staff is read-only for @everyone; #notes starts with that, then gets its own rules.
    let staff = channel(
        &app,
        sid,
        json!({"name": "Staff", "kind": "category"}),
        &ana,
    )
    .await;
    let overwrite =
        |channel: &str, target: &str| format!("/api/v1/channels/{channel}/permissions/{target}");
    let r = app
        .put(
            &overwrite(&staff, sid),
            json!({"type": "role", "deny": "2048"}),
            Some(&ana),
        )
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let notes = channel(
        &app,
        sid,
        json!({"name": "notes", "kind": "text", "parent_id": staff}),
        &ana,
    )
    .await;
    let r = app
        .put(
            &overwrite(&notes, sid),
            json!({"type": "role", "allow": "2048"}),
            Some(&ana),
        )
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let r = app
        .put(
            &overwrite(&notes, &senior),
            json!({"type": "role", "deny": "1024"}),
            Some(&ana),
        )
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let send = |token: String| {
        let (app, notes) = (&app, notes.clone());
        async move {
            app.post(
                &format!("/api/v1/channels/{notes}/messages"),
                json!({"content": "oi"}),
                Some(&token),
            )
            .await
            .status
        }
    };
    assert_eq!(
        send(bo.clone()).await,
        201,
        "#notes's own rules let @everyone send"
    );
    let sync = |channel: &str, token: &str| {
        let (app, path, token) = (
            &app,
            format!("/api/v1/channels/{channel}/permissions/sync"),
            token.to_owned(),
        );
        async move { app.post(&path, json!({}), Some(&token)).await }
    };

    // Refused: a member without manage_roles; a moderator who would remove the overwrite
    // of a role above theirs (Senior's); a channel in no category; an unknown channel.
    let r = sync(&notes, &bo).await;
    assert_eq!((r.status, r.code()), (403, "forbidden"), "{:?}", r.body);
    let r = sync(&notes, &mo).await;
    assert_eq!((r.status, r.code()), (403, "forbidden"), "{:?}", r.body);
    let r = sync(&general, &ana).await;
    assert_eq!(
        (r.status, r.code()),
        (422, "validation_failed"),
        "{:?}",
        r.body
    );
    let r = sync("999999999", &ana).await;
    assert_eq!(r.status, 404, "{:?}", r.body);
    assert_eq!(
        send(bo.clone()).await,
        201,
        "nothing refused changed #notes"
    );

    // The owner syncs: #notes has Staff's overwrites, live, and is read-only again.
    let (mut bo_ws, _) = Ws::identify(&app, &bo).await;
    let r = sync(&notes, &ana).await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let ev = bo_ws.event("channel.updated").await;
    assert_eq!(ev["d"]["id"], notes.as_str());
    let overwrites = ev["d"]["overwrites"].as_array().unwrap();
    assert_eq!(overwrites.len(), 1, "{overwrites:?}");
    assert_eq!(
        (overwrites[0]["id"].as_str(), &overwrites[0]["deny"]),
        (Some(sid), &json!("2048"))
    );
    assert_eq!(send(bo.clone()).await, 403, "Staff's rules again");
    // Synced, it follows Staff's changes again; syncing twice changes nothing.
    let r = app.delete(&overwrite(&staff, sid), Some(&ana)).await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    assert_eq!(
        send(bo.clone()).await,
        201,
        "Staff opened, and #notes with it"
    );
    assert_eq!(
        sync(&notes, &mo).await.status,
        204,
        "already synced: nothing to refuse"
    );
    let log = app
        .get(
            &format!("/api/v1/servers/{sid}/audit-log?action=overwrite_sync"),
            Some(&ana),
        )
        .await;
    let entries = log.body["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{:?}", log.body);
    assert_eq!(entries[0]["changes"]["parent_id"], staff.as_str());
    app.stop().await;
}
