//! Two `papo serve` processes sharing PostgreSQL and Redis: events and revocations cross nodes.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

use crate::helpers::postgres_url;
use crate::ws::{End, Ws};

const BIN: &str = env!("CARGO_BIN_EXE_papo");

struct Node {
    child: Child,
    host: String,
    dir: std::path::PathBuf,
}

impl Node {
    async fn start(node_id: u16, database_url: &str, channel: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "papo_node_{}_{node_id}_{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        let mut child = Command::new(BIN)
            .arg("serve")
            .env("PAPO_LISTEN", "127.0.0.1:0")
            .env("PAPO_DATA_DIR", &dir)
            .env("DATABASE_URL", database_url)
            .env("REDIS_URL", redis_url())
            .env("PAPO_REDIS_CHANNEL", channel)
            .env("PAPO_NODE_ID", node_id.to_string())
            .env("PAPO_LOG_FORMAT", "json")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn papo");
        let stdout = child.stdout.take().unwrap();
        let url = tokio::task::spawn_blocking(move || {
            BufReader::new(stdout).lines().find_map(|l| {
                l.ok()?
                    .strip_prefix("papo: listening on ")
                    .map(str::to_owned)
            })
        })
        .await
        .unwrap()
        .expect("node printed its URL");
        Self {
            child,
            host: url.trim_start_matches("http://").to_owned(),
            dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.host)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn redis_url() -> String {
    std::env::var("PAPO_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

async fn call(
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Value,
) -> (u16, Value) {
    let mut req = reqwest::Client::new().request(method, url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Calls `f` until it answers `want` (the bus takes a moment), at most two seconds; returns
/// the last answer.
async fn eventually<F, Fut>(f: F, want: u16) -> u16
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = u16>,
{
    let until = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        let got = f().await;
        if got == want || std::time::Instant::now() > until {
            return got;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_events_presence_and_revocations() {
    // A database of its own, shared by both nodes.
    let db = format!(
        "papo_cluster_{}_{}",
        std::process::id(),
        rand::random::<u32>()
    );
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&postgres_url())
        .await
        .expect("PostgreSQL must be running");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
        .execute(&admin)
        .await
        .unwrap();
    let base = postgres_url();
    let database_url = format!("{}/{db}", base.rsplit_once('/').unwrap().0);
    let channel = format!("papo:test:{db}");
    let a = Node::start(1, &database_url, &channel).await;
    let b = Node::start(2, &database_url, &channel).await;

    let (status, auth) = call(
        reqwest::Method::POST,
        a.url("/api/v1/auth/register"),
        None,
        json!({"username": "cluster_ana", "email": "cluster_ana@example.com", "password": "correct horse battery"}),
    )
    .await;
    assert_eq!(status, 201, "{auth}");
    let token = auth["access_token"].as_str().unwrap().to_owned();

    // A socket on node B and one on node A.
    let (mut on_b, ready) = Ws::identify_at(&b.host, &token).await;
    assert_eq!(ready["user"]["username"], "cluster_ana");
    let (mut on_a, _) = Ws::identify_at(&a.host, &token).await;

    // A profile change through node A reaches the socket on node B.
    let (status, _) = call(
        reqwest::Method::PATCH,
        a.url("/api/v1/users/@me"),
        Some(&token),
        json!({"display_name": "Ana from A"}),
    )
    .await;
    assert_eq!(status, 200);
    let ev = on_b.event("user.updated").await;
    assert_eq!(ev["d"]["display_name"], "Ana from A");

    // A server created through node A: node B's session starts following it and its
    // channels, so a message posted through node A reaches the socket on node B.
    let (status, server) = call(
        reqwest::Method::POST,
        a.url("/api/v1/servers"),
        Some(&token),
        json!({"name": "Cluster"}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(on_b.event("server.created").await["d"]["id"], server["id"]);
    let general = server["channels"][0]["id"].as_str().unwrap();
    let (status, _) = call(
        reqwest::Method::POST,
        a.url(&format!("/api/v1/channels/{general}/messages")),
        Some(&token),
        json!({"content": "from node A"}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(
        on_b.event("message.created").await["d"]["content"],
        "from node A"
    );

    // Presence set on node B is seen on node A.
    on_b.send(json!({"op": "presence_update", "d": {"status": "dnd"}}))
        .await;
    on_a.send(json!({"op": "presence_update", "d": {"status": "idle"}}))
        .await;
    loop {
        let ev = on_a.event("presence.updated").await;
        if ev["d"]["status"] == "dnd" {
            break;
        }
    }
    // A presence saved through node A is taken by the session on node B too: dnd there
    // would otherwise keep her dnd.
    let (status, _) = call(
        reqwest::Method::PATCH,
        a.url("/api/v1/users/@me"),
        Some(&token),
        json!({"settings": {"status": "invisible", "custom_status": {"text": "off"}}}),
    )
    .await;
    assert_eq!(status, 200);
    loop {
        let ev = on_b.event("presence.updated").await;
        if ev["d"]["status"] == "invisible" {
            assert_eq!(ev["d"]["custom_status"]["text"], "off", "{ev}");
            break;
        }
    }

    // Node B keeps copies of tokens and memberships: a change committed through node A
    // reaches them over the bus. Bo joins, posts through B (B now holds his membership),
    // is kicked through A, and B refuses his next message.
    let (status, bo) = call(
        reqwest::Method::POST,
        a.url("/api/v1/auth/register"),
        None,
        json!({"username": "cluster_bo", "email": "cluster_bo@example.com", "password": "correct horse battery"}),
    )
    .await;
    assert_eq!(status, 201, "{bo}");
    let bo_token = bo["access_token"].as_str().unwrap().to_owned();
    let sid = server["id"].as_str().unwrap();
    let (_, invite) = call(
        reqwest::Method::POST,
        a.url(&format!("/api/v1/servers/{sid}/invites")),
        Some(&token),
        json!({}),
    )
    .await;
    let code = invite["code"].as_str().unwrap();
    let (status, _) = call(
        reqwest::Method::POST,
        b.url(&format!("/api/v1/invites/{code}/accept")),
        Some(&bo_token),
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    let post_on_b = || {
        call(
            reqwest::Method::POST,
            b.url(&format!("/api/v1/channels/{general}/messages")),
            Some(&bo_token),
            json!({"content": "bo on B"}),
        )
    };
    assert_eq!(post_on_b().await.0, 201);
    let bo_id = bo["user"]["id"].as_str().unwrap();
    let (status, _) = call(
        reqwest::Method::DELETE,
        a.url(&format!("/api/v1/servers/{sid}/members/{bo_id}")),
        Some(&token),
        json!({}),
    )
    .await;
    assert_eq!(status, 204);
    // (Reads, not posts, while waiting: posting has a rate limit.)
    let read_on_b = || async {
        call(
            reqwest::Method::GET,
            b.url(&format!("/api/v1/channels/{general}/messages")),
            Some(&bo_token),
            json!({}),
        )
        .await
        .0
    };
    assert_eq!(eventually(read_on_b, 404).await, 404);
    assert_eq!(post_on_b().await.0, 404);

    // Logout on node A closes the socket on node B (and A's own), and node B no longer
    // takes the token over REST either (it had it cached).
    let me_on_b = || async {
        call(
            reqwest::Method::GET,
            b.url("/api/v1/users/@me"),
            Some(&token),
            json!({}),
        )
        .await
        .0
    };
    assert_eq!(me_on_b().await, 200);
    let (status, _) = call(
        reqwest::Method::POST,
        a.url("/api/v1/auth/logout"),
        Some(&token),
        json!({}),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(on_b.closed().await, End::Closed(4001));
    assert_eq!(on_a.closed().await, End::Closed(4001));
    assert_eq!(eventually(me_on_b, 401).await, 401);
    // Nor B's gateway, where the token was held in memory.
    assert_eq!(
        Ws::identify_refused_at(&b.host, &token).await,
        End::Closed(4001)
    );

    drop(a);
    drop(b);
    admin.close().await;
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&postgres_url())
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {db} WITH (FORCE)"
    )))
    .execute(&admin)
    .await
    .unwrap();
}
