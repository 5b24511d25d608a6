//! Starting and stopping the server.

use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context;
use axum::serve::ListenerExt;
use papo_store::{Db, DbConfig};
use tokio::net::{TcpListener, TcpSocket};

use crate::config::Config;
use crate::state::AppState;

/// Opens the database from `config` and applies migrations.
pub async fn open_db(config: &Config) -> anyhow::Result<Db> {
    let db = Db::connect(&DbConfig {
        url: config.database_url.clone(),
        max_connections: config.db_max_connections,
        pg_schema: config.pg_schema.clone(),
    })
    .await
    .context("opening the database")?;
    db.migrate().await.context("applying migrations")?;
    Ok(db)
}

/// `papo migrate`.
pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    let db = open_db(config).await?;
    db.close().await;
    println!("papo: migrations applied");
    Ok(())
}

/// `papo serve`: runs until SIGINT or SIGTERM.
pub async fn run_until_signal(config: Config) -> anyhow::Result<()> {
    without_huge_pages();
    // Held until the server stops: one server per SQLite database.
    let _claim = papo_store::owner::claim(&config.database_url)?;
    let listener = listen(config.listen).with_context(|| format!("binding {}", config.listen))?;
    let db = open_db(&config).await?;
    let state = AppState::new(config, db);
    run(listener, state, shutdown_signal()).await
}

/// How many accepted connections the kernel may hold before the server takes them.
///
/// When the queue is full the kernel drops a new connection's SYN and the client sends it
/// again a second later. 128 (what a plain `bind` asks for) filled whenever the gateway
/// thread was busy for a moment while hundreds of clients connected at once (a restart, or
/// S1 in docs/benchmarks.md): each drop cost that client a second. Linux caps the number
/// at `net.core.somaxconn` (4096 by default since 5.4).
pub const LISTEN_BACKLOG: u32 = 4096;

/// Binds a listening socket on `addr` with [`LISTEN_BACKLOG`] (and `SO_REUSEADDR`, so a
/// restarted server binds again while the old one's connections linger in `TIME_WAIT`).
pub fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Serves `state` on `listener` until `shutdown` resolves, then lets in-flight requests
/// finish and closes the database. Tests call this with port 0 and their own shutdown.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    let app = crate::http::router(state.clone());
    let housekeeping = tokio::spawn(crate::auth::housekeeping(state.clone()));
    let touches = tokio::spawn(crate::auth::flush_touches(state.clone()));
    let ticker = tokio::spawn(state.hub.clone().run_ticker());
    if let Some(url) = &state.config.redis_url {
        papo_gateway::bus::connect(state.hub.clone(), url, &state.config.redis_channel)
            .await
            .context("connecting to Redis (REDIS_URL)")?;
        tracing::info!(node = state.config.node_id, "cluster bus on Redis");
    }
    // After the bus is up, so that a revocation on another node meanwhile is not missed.
    let preloaded = state
        .directory
        .preload_tokens(&state.db, crate::now_ms())
        .await
        .context("loading the live access tokens")?;
    tracing::info!(tokens = preloaded, "live access tokens loaded");
    let hub = state.hub.clone();
    let shutdown = async move {
        shutdown.await;
        // Gateway sockets are no longer hyper's: tell their drivers to close (1001).
        hub.begin_shutdown();
    };
    tracing::info!(%addr, backend = ?state.db.backend(), "papo listening");
    // Printed on stdout as well, so scripts and people can find the port.
    println!("papo: listening on http://{addr}");
    // Gateway upgrades go straight to the gateway; the rest to the router (see `accept`).
    // (`tap_io` with nothing to do: axum gives `ConnectInfo<SocketAddr>` for a tapped
    // listener whose address is one, not for any listener.)
    let listener = crate::accept::GatewayFirst::new(listener, state.clone()).tap_io(|_| {});
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    state.gateway_tasks.close();
    if tokio::time::timeout(
        std::time::Duration::from_secs(5),
        state.gateway_tasks.wait(),
    )
    .await
    .is_err()
    {
        tracing::warn!("some gateway connections did not close within 5 s");
    }
    housekeeping.abort();
    ticker.abort();
    touches.abort();
    state.touches.flush(&state.db).await;
    state.db.close().await;
    tracing::info!("papo stopped");
    Ok(())
}

/// Turns transparent huge pages off for this process (Linux; elsewhere nothing).
///
/// The allocator asks for huge pages on its heap, and the kernel then fills a fresh 2 MiB
/// page with zeros, or compacts memory to find one, inside whichever thread first touches
/// it: a profile of S4 at 5,000 messages a second found the gateway's thread doing so in
/// bursts of several milliseconds, each holding back every answer queued behind it (see
/// docs/benchmarks.md, *S4's acknowledgement tail*). Small pages fault a little more often,
/// each in microseconds. Applies to memory touched from now on (the flag is checked at
/// each fault), whatever the allocator and the system's setting.
pub fn without_huge_pages() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: plain system call with integer arguments.
        let rc = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            tracing::warn!(%err, "transparent huge pages stay on");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::time::Duration;

    /// A burst of clients larger than a plain `bind`'s queue (128) all connect at once while
    /// nobody accepts: none has its SYN dropped (which would hold it back a second).
    #[tokio::test]
    async fn a_burst_of_connections_waits_in_the_queue_instead_of_being_dropped() {
        let listener = super::listen("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let mut connects = tokio::task::JoinSet::new();
        for _ in 0..600 {
            connects.spawn(tokio::time::timeout(
                Duration::from_millis(700),
                tokio::net::TcpStream::connect(addr),
            ));
        }
        let mut open = Vec::new();
        while let Some(done) = connects.join_next().await {
            let stream = done.unwrap().expect("connected without a SYN retry");
            open.push(stream.unwrap());
        }
        assert_eq!(open.len(), 600);
        drop(listener);
    }

    #[test]
    fn huge_pages_are_turned_off_for_the_process() {
        super::without_huge_pages();
        // SAFETY: plain system call with integer arguments.
        let disabled = unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) };
        assert_eq!(disabled, 1);
    }
}
