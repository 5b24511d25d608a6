//! Behind a trusted proxy: the client address is the last `X-Forwarded-For` entry, for the
//! login limits (an account's, counted per address too), the sessions list and the gateway's
//! connection slots.

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::both;
use crate::helpers::{Backend, PASSWORD, TestApp, access};
use crate::ws::{End, Ws};

both!(
    the_last_forwarded_entry_is_the_client,
    gateway_slots_count_the_forwarded_address,
    a_guesser_elsewhere_does_not_lock_the_owner_out,
);

async fn login_via(app: &TestApp, login: &str, password: &str, forwarded: &str) -> (u16, Value) {
    let r = app
        .send(
            reqwest::Client::new()
                .post(app.url("/api/v1/auth/login"))
                .header("x-forwarded-for", forwarded)
                .json(&json!({"login": login, "password": password})),
        )
        .await;
    (r.status, r.body)
}

async fn the_last_forwarded_entry_is_the_client(b: Backend) {
    let app = TestApp::spawn_with(b, |c| {
        c.trust_proxy = true;
        c.login_failures_per_ip = 3;
    })
    .await;
    app.register("ines").await;
    // What the client wrote before the proxy's entry changes nothing: one address, one budget.
    for i in 1..=3 {
        let via = format!("10.0.0.{i}, 203.0.113.7");
        assert_eq!(login_via(&app, "nobody", "whatever12", &via).await.0, 401);
    }
    let (status, body) = login_via(&app, "ines", PASSWORD, "10.0.0.9, 203.0.113.7").await;
    assert_eq!((status, body["code"].as_str()), (429, Some("rate_limited")));
    // Another address behind the proxy is its own budget; its session shows that address.
    let (status, auth) = login_via(&app, "ines", PASSWORD, "6.6.6.6, 198.51.100.4").await;
    assert_eq!(status, 200, "{auth}");
    // Something that is not an address is ignored: the connection's own address is used.
    let (status, _) = login_via(&app, "ines", PASSWORD, "6.6.6.6, <script>").await;
    assert_eq!(status, 200);
    let sessions = app
        .get("/api/v1/auth/sessions", Some(&access(&auth)))
        .await
        .body;
    let mut ips: Vec<&str> = sessions
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["ip"].as_str().unwrap())
        .collect();
    ips.sort();
    assert_eq!(ips, ["127.0.0.1", "127.0.0.1", "198.51.100.4"]);
    app.stop().await;
}

/// Opens a gateway socket as a proxy would, for the client at `forwarded`, and tells whether
/// it was let in (`hello`) or closed for want of a slot.
async fn connect_via(app: &TestApp, forwarded: &str) -> Result<Ws, End> {
    let mut req = format!("ws://{}/api/v1/gateway", app.addr)
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("x-forwarded-for", forwarded.parse().unwrap());
    let (stream, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("connect");
    let mut ws = Ws { stream };
    match ws.next(std::time::Duration::from_secs(5)).await {
        Ok(hello) if hello["op"] == "hello" => Ok(ws),
        Ok(other) => panic!("unexpected {other}"),
        Err(end) => Err(end),
    }
}

async fn a_guesser_elsewhere_does_not_lock_the_owner_out(b: Backend) {
    let app = TestApp::spawn_with(b, |c| {
        c.trust_proxy = true;
        c.login_failures_per_account = 2;
        c.login_failures_per_account_total = 5;
    })
    .await;
    app.register("olga").await;
    let guesser = "203.0.113.66";
    for _ in 0..2 {
        assert_eq!(
            login_via(&app, "olga", "not her password", guesser).await.0,
            401
        );
    }
    // The guesser's address is locked out of the account, the right password included...
    let (status, body) = login_via(&app, "olga", PASSWORD, guesser).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("rate_limited")));
    // ...the owner, elsewhere, is not.
    let owner = "198.51.100.20";
    assert_eq!(login_via(&app, "olga", PASSWORD, owner).await.0, 200);
    // Guessing spread over addresses meets the account's total (5): then every address waits.
    for i in 1..=3 {
        let from = format!("192.0.2.{i}");
        assert_eq!(login_via(&app, "olga", "still not it", &from).await.0, 401);
    }
    let (status, _) = login_via(&app, "olga", PASSWORD, owner).await;
    assert_eq!(status, 429);
    // An unknown login is counted the same way, per address.
    for _ in 0..2 {
        assert_eq!(login_via(&app, "ghost", "whatever12", guesser).await.0, 401);
    }
    assert_eq!(login_via(&app, "ghost", "whatever12", guesser).await.0, 429);
    assert_eq!(login_via(&app, "ghost", "whatever12", owner).await.0, 401);
    app.stop().await;
}

async fn gateway_slots_count_the_forwarded_address(b: Backend) {
    for trusted in [true, false] {
        let app = TestApp::spawn_with(b, |c| {
            c.trust_proxy = trusted;
            c.gateway.max_connections_per_ip = 1;
        })
        .await;
        let _first = connect_via(&app, "203.0.113.1").await.expect("a slot");
        let same = connect_via(&app, "10.9.9.9, 203.0.113.1").await;
        assert!(matches!(same, Err(End::Closed(4011))), "trusted {trusted}");
        // Another client behind the same proxy has slots of its own, when the proxy is
        // trusted; otherwise the header is the client's and the proxy's address counts.
        let other = connect_via(&app, "203.0.113.2").await;
        assert_eq!(other.is_ok(), trusted, "trusted {trusted}");
        app.stop().await;
    }
}
