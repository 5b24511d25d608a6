//! Test harness: the real app on port 0 with a fresh database (a temporary SQLite file, or a
//! fresh PostgreSQL schema), and a small JSON client.

use std::net::SocketAddr;
use std::path::PathBuf;

use papo_server::config::Config;
use papo_server::state::AppState;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// Which database a test runs against.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs an `async fn(Backend)` test once per backend: `both!(name);` makes
/// `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::helpers::Backend::Postgres).await
            }
        }
    )*};
}

/// PostgreSQL server used by the tests (`PAPO_TEST_POSTGRES_URL`), default the local one.
pub fn postgres_url() -> String {
    std::env::var("PAPO_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{:016x}",
        std::process::id(),
        rand::random::<u64>()
    )
}

/// A running app.
pub struct TestApp {
    pub addr: SocketAddr,
    pub state: AppState,
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    dir: Option<PathBuf>,
    pg_schema: Option<String>,
}

/// A response: status, JSON body (or `Value::Null`) and headers.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub headers: HeaderMap,
}

impl Resp {
    /// The error code of an error body.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
    /// The code of `fields.<name>`.
    pub fn field_code(&self, name: &str) -> &str {
        self.body["fields"][name]["code"].as_str().unwrap_or("")
    }
    /// Header as string.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = std::env::temp_dir().join(unique("papo_test"));
        let mut config = Config::for_data_dir(&dir);
        config.db_max_connections = 4;
        let mut pg_schema = None;
        if let Backend::Postgres = backend {
            let schema = unique("t");
            let admin = admin_pool().await;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                .execute(&admin)
                .await
                .expect("create schema");
            admin.close().await;
            config.database_url = postgres_url();
            config.pg_schema = Some(schema.clone());
            pg_schema = Some(schema);
        }
        config.listen = "127.0.0.1:0".parse().unwrap();
        tweak(&mut config);
        Self::start(config, dir, pg_schema).await
    }

    /// Serves `config` on a new port; the app owns `dir` and `pg_schema` (removed at its stop).
    async fn start(config: Config, dir: PathBuf, pg_schema: Option<String>) -> Self {
        let listener = papo_server::serve::listen(config.listen).unwrap();
        let addr = listener.local_addr().unwrap();
        let db = papo_server::serve::open_db(&config).await.expect("open db");
        let state = AppState::new(config, db);
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(papo_server::serve::run(listener, state.clone(), async {
            let _ = rx.await;
        }));
        Self {
            addr,
            state,
            client: reqwest::Client::builder()
                .user_agent("papo-tests/1.0")
                .build()
                .unwrap(),
            shutdown: Some(tx),
            server: Some(server),
            dir: Some(dir),
            pg_schema,
        }
    }

    /// Stops the server gracefully and starts a new one on the same database and
    /// configuration, listening on a new port: a restart.
    pub async fn restart(mut self) -> Self {
        let config = self.state.config.clone();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("server result");
        }
        let dir = self.dir.take().expect("a running app's folder");
        Self::start(config, dir, self.pg_schema.take()).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The Prometheus text of `GET /metrics`.
    pub async fn metrics(&self) -> String {
        let resp = self.client.get(self.url("/metrics")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        resp.text().await.unwrap()
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        let res = req.send().await.expect("request failed");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp {
            status,
            body,
            headers,
        }
    }

    fn with_token(req: reqwest::RequestBuilder, token: Option<&str>) -> reqwest::RequestBuilder {
        match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.send(Self::with_token(self.client.get(self.url(path)), token))
            .await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Resp {
        self.send(Self::with_token(self.client.delete(self.url(path)), token))
            .await
    }

    pub async fn post(&self, path: &str, body: Value, token: Option<&str>) -> Resp {
        self.send(Self::with_token(
            self.client.post(self.url(path)).json(&body),
            token,
        ))
        .await
    }

    pub async fn put(&self, path: &str, body: Value, token: Option<&str>) -> Resp {
        self.send(Self::with_token(
            self.client.put(self.url(path)).json(&body),
            token,
        ))
        .await
    }

    /// A server owned by `owner` that `members` joined through an invite: `(server, #general id)`.
    pub async fn community(&self, owner: &str, members: &[&str]) -> (Value, String) {
        let server = self
            .post(
                "/api/v1/servers",
                json!({"name": "Comunidade"}),
                Some(owner),
            )
            .await
            .body;
        let id = server["id"].as_str().unwrap();
        let code = self
            .post(
                &format!("/api/v1/servers/{id}/invites"),
                json!({}),
                Some(owner),
            )
            .await
            .body["code"]
            .as_str()
            .unwrap()
            .to_owned();
        for m in members {
            let r = self
                .post(
                    &format!("/api/v1/invites/{code}/accept"),
                    json!({}),
                    Some(m),
                )
                .await;
            assert_eq!(r.status, 200, "{:?}", r.body);
        }
        let general = server["channels"][0]["id"].as_str().unwrap().to_owned();
        (server, general)
    }

    pub async fn patch(&self, path: &str, body: Value, token: Option<&str>) -> Resp {
        self.send(Self::with_token(
            self.client.patch(self.url(path)).json(&body),
            token,
        ))
        .await
    }

    /// Registers `username` (email `<username>@example.com`, password [`PASSWORD`]) and returns
    /// the auth response.
    pub async fn register(&self, username: &str) -> Value {
        let r = self
            .post(
                "/api/v1/auth/register",
                json!({"username": username, "email": format!("{username}@example.com"), "password": PASSWORD}),
                None,
            )
            .await;
        assert_eq!(r.status, 201, "register {username}: {:?}", r.body);
        r.body
    }

    /// Logs in and returns the auth response.
    pub async fn login(&self, login: &str, password: &str) -> Resp {
        self.post(
            "/api/v1/auth/login",
            json!({"login": login, "password": password}),
            None,
        )
        .await
    }

    /// Stops the server gracefully and removes its database.
    pub async fn stop(mut self) {
        self.shutdown_inner().await;
    }

    async fn shutdown_inner(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("server result");
        }
        if let Some(schema) = self.pg_schema.take() {
            let admin = admin_pool().await;
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                .execute(&admin)
                .await
                .expect("drop schema");
            admin.close().await;
        }
        if let Some(dir) = self.dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A one-connection pool to the test server's default schema.
async fn admin_pool() -> sqlx::PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&postgres_url())
        .await
        .expect("PostgreSQL must be running for the postgres tests (see README)")
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // A test that panicked never called stop(): at least remove its files. (Its schema,
        // if any, stays; schemas are cheap and named after the process.)
        if let Some(dir) = self.dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The password every test account uses.
pub const PASSWORD: &str = "correct horse battery";

/// The access token of an auth response.
pub fn access(auth: &Value) -> String {
    auth["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

/// The refresh token of an auth response.
pub fn refresh(auth: &Value) -> String {
    auth["refresh_token"]
        .as_str()
        .expect("refresh_token")
        .to_owned()
}
