//! Starting each system under test on the server's core, with its rooms and members.
//!
//! Papo's rooms are seeded into a fresh database before it starts (servers with a `#general`
//! channel, accounts with access tokens); the peers need no seeding (their members name
//! themselves and their room when they connect).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::process::Child;

use crate::floor_store::FloorStore;
use crate::proto::{MemberSpec, SenderRoom, System, Target, room_name};
use crate::seed;
use crate::server::{self, TempDir, pinned};

/// The server's core.
pub const SERVER_CPU: &str = "0";

/// What to start.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    /// Rooms.
    pub rooms: usize,
    /// Members per room (each gets a receiving connection).
    pub size: usize,
    /// Peers: store every message durably before acknowledging it (papo always does).
    pub persist: bool,
    /// Papo: PostgreSQL instead of SQLite.
    pub postgres: bool,
    /// The floor: how it stores messages when it persists.
    pub floor_store: FloorStore,
}

/// Where the programs are.
#[derive(Clone, Debug)]
pub struct Programs {
    /// The papo binary.
    pub papo: PathBuf,
    /// `bench/peers` (start scripts, local installs).
    pub peers: PathBuf,
    /// PostgreSQL server for papo's PostgreSQL runs (a fresh database is made in it).
    pub postgres_url: String,
    /// Where the peers' output goes (one file per system, appended).
    pub logs: PathBuf,
}

/// A running system with its members.
pub struct Running {
    /// Its process (for memory and CPU).
    pub pid: u32,
    /// Where workers connect.
    pub target: Target,
    /// One receiving connection each.
    pub members: Vec<MemberSpec>,
    /// The rooms messages are sent to.
    pub rooms: Vec<SenderRoom>,
    child: Child,
    _dir: TempDir,
    /// A PostgreSQL database to drop afterwards.
    pg_db: Option<(String, String)>,
}

impl Running {
    /// Stops the process (and drops its PostgreSQL database).
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
        if let Some((admin, db)) = self.pg_db.take() {
            let _ = psql(
                &admin,
                &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
            )
            .await;
        }
    }
}

/// Starts `system` with `spec`'s rooms.
pub async fn start(system: System, programs: &Programs, spec: Spec) -> anyhow::Result<Running> {
    match system {
        System::Papo => start_papo(programs, spec).await,
        _ => start_peer(system, programs, spec).await,
    }
}

async fn start_papo(programs: &Programs, spec: Spec) -> anyhow::Result<Running> {
    let dir = TempDir::new("papo")?;
    let mut pg_db = None;
    let database_url = if spec.postgres {
        let name = format!("papo_bench_{}", std::process::id());
        psql(
            &programs.postgres_url,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        )
        .await?;
        psql(&programs.postgres_url, &format!("CREATE DATABASE {name}")).await?;
        let url = replace_database(&programs.postgres_url, &name)?;
        pg_db = Some((programs.postgres_url.clone(), name));
        Some(url)
    } else {
        None
    };
    server::migrate(&programs.papo, &dir, database_url.as_deref()).await?;
    let seed_url = database_url
        .clone()
        .unwrap_or_else(|| server::sqlite_url(&dir.0));
    let rooms = seed::rooms(&seed_url, spec.rooms, spec.size).await?;
    let srv = server::start(&programs.papo, dir, database_url.as_deref()).await?;
    let addr: SocketAddr = srv
        .url
        .trim_start_matches("http://")
        .parse()
        .context("papo's address")?;
    let mut members = Vec::new();
    let mut senders = Vec::new();
    for (i, room) in rooms.into_iter().enumerate() {
        for m in &room.members {
            members.push(MemberSpec {
                room: i as u32,
                cred: m.token.clone(),
            });
        }
        senders.push(SenderRoom {
            room: i as u32,
            address: room.channel_id,
            creds: room.members.into_iter().map(|m| m.token).collect(),
        });
    }
    let (child, pid, dir) = srv.into_parts();
    Ok(Running {
        pid,
        target: Target {
            wire: System::Papo.wire(),
            server: addr,
        },
        members,
        rooms: senders,
        child,
        _dir: dir,
        pg_db,
    })
}

async fn start_peer(system: System, programs: &Programs, spec: Spec) -> anyhow::Result<Running> {
    let dir = TempDir::new(system.key())?;
    let port = free_port()?;
    let script = match system {
        System::Socketio => programs.peers.join("start-socketio"),
        System::Floor => std::env::current_exe()?,
        _ => programs.peers.join("start-channels"),
    };
    std::fs::create_dir_all(&programs.logs)?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(programs.logs.join(format!("{}.log", system.key())))?;
    let mut cmd = pinned(&script, SERVER_CPU);
    if system == System::Floor {
        cmd.args(["floor-server", "--port", &port.to_string()]);
        if spec.persist {
            cmd.arg("--persist")
                .arg(dir.0.join(format!("messages.{}", spec.floor_store.arg())))
                .args(["--store", spec.floor_store.arg()]);
        }
    }
    cmd.env("PORT", port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true);
    match system {
        System::Channels => cmd.env("CHANNEL_LAYER", "memory"),
        System::ChannelsRedis => cmd.env("CHANNEL_LAYER", "redis"),
        _ => &mut cmd,
    };
    if spec.persist {
        cmd.env("PERSIST", dir.0.join("messages.sqlite3"));
    } else {
        cmd.env_remove("PERSIST");
    }
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting {}", script.display()))?;
    let pid = child.id().context("peer pid")?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    wait_for_port(addr, &mut child).await?;
    let mut members = Vec::new();
    let mut rooms = Vec::new();
    for r in 0..spec.rooms {
        for m in 0..spec.size {
            members.push(MemberSpec {
                room: r as u32,
                cred: format!("u{r}_{m}"),
            });
        }
        rooms.push(SenderRoom {
            room: r as u32,
            address: room_name(r as u32),
            creds: Vec::new(),
        });
    }
    Ok(Running {
        pid,
        target: Target {
            wire: system.wire(),
            server: addr,
        },
        members,
        rooms,
        child,
        _dir: dir,
        pg_db: None,
    })
}

/// How `papo_binary` builds papo.
const BUILD_PAPO: &str = "cargo build --release -p papo-server -p papo-bench";

/// The papo binary to start: `given` when there is one (it must exist); otherwise papo built
/// from this checkout first (`cargo build --release -p papo-server -p papo-bench`, a no-op
/// when it is up to date), so that `cargo run --release -p papo-bench -- compare` from a
/// fresh clone measures the server as its source stands, not a binary that is missing or
/// stale. Built beside papo-bench, papo shares its dependencies' features, so only papo's
/// own binary is added to what papo-bench's build compiled (built alone, about two minutes
/// of recompiling them), and it is the binary every run in `docs/benchmarks` measured.
pub async fn papo_binary(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(path) = given {
        anyhow::ensure!(
            path.is_file(),
            "no papo binary at {} (leave --papo out to have papo built from this checkout)",
            path.display()
        );
        return Ok(path);
    }
    // `cargo run` says which cargo it is; a bare `papo-bench` takes the one on the PATH.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    build_papo(&cargo).await?;
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| "target".into(), PathBuf::from);
    Ok(target.join("release").join("papo"))
}

/// Runs [`BUILD_PAPO`] with `cargo`; a failed build is an error, so no run starts.
async fn build_papo(cargo: &std::ffi::OsStr) -> anyhow::Result<()> {
    eprintln!("building papo ({BUILD_PAPO})");
    let status = tokio::process::Command::new(cargo)
        .args(BUILD_PAPO.split(' ').skip(1))
        .status()
        .await
        .with_context(|| format!("running {}", Path::new(cargo).display()))?;
    anyhow::ensure!(
        status.success(),
        "building papo failed ({BUILD_PAPO}: {status})"
    );
    Ok(())
}

/// Installs the peers' packages into `bench/peers` (npm, a Python venv) when missing.
pub async fn install_peers(peers: &Path) -> anyhow::Result<()> {
    let setup = peers.join("setup");
    let status = tokio::process::Command::new(&setup)
        .status()
        .await
        .with_context(|| format!("running {}", setup.display()))?;
    anyhow::ensure!(status.success(), "{} failed", setup.display());
    Ok(())
}

fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

async fn wait_for_port(addr: SocketAddr, child: &mut Child) -> anyhow::Result<()> {
    for _ in 0..1_500 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            bail!("the server exited: {status}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bail!("nothing listens on {addr} after 30 s")
}

async fn psql(url: &str, sql: &str) -> anyhow::Result<()> {
    let out = tokio::process::Command::new("psql")
        .arg(url)
        .args(["-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .output()
        .await
        .context("running psql")?;
    let err = String::from_utf8_lossy(&out.stderr);
    let err = err.trim();
    anyhow::ensure!(
        out.status.success(),
        // psql names itself in its errors ("psql: error: …").
        "{}",
        if err.starts_with("psql") {
            err.to_owned()
        } else {
            format!("psql ({}): {err}", out.status)
        }
    );
    Ok(())
}

/// `url` with its database name replaced.
fn replace_database(url: &str, name: &str) -> anyhow::Result<String> {
    let (base, rest) = url.rsplit_once('/').context("no database in the URL")?;
    let query = rest.split_once('?').map(|(_, q)| format!("?{q}"));
    Ok(format!("{base}/{name}{}", query.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A papo binary named with `--papo` is taken as it is, and one that is not there is
    /// refused before any scenario starts, with what to do instead.
    #[tokio::test]
    async fn a_named_papo_binary_must_exist() {
        let here = std::env::current_exe().unwrap();
        assert_eq!(papo_binary(Some(here.clone())).await.unwrap(), here);
        let missing = here.with_file_name("no-such-papo");
        let e = papo_binary(Some(missing)).await.unwrap_err().to_string();
        assert!(
            e.contains("no-such-papo") && e.contains("leave --papo out"),
            "{e}"
        );
    }

    /// A build that fails, or a cargo that is not there, stops the run with the reason.
    #[tokio::test]
    async fn a_failed_build_of_papo_is_an_error() {
        let e = build_papo("false".as_ref()).await.unwrap_err().to_string();
        assert!(e.contains("building papo failed"), "{e}");
        let e = build_papo("/no/such/cargo".as_ref())
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("running /no/such/cargo"), "{e}");
    }

    #[test]
    fn database_names_are_replaced() {
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1:5432/test", "b1").unwrap(),
            "postgres://postgres@127.0.0.1:5432/b1"
        );
        assert_eq!(
            replace_database("postgres://u@h/test?sslmode=disable", "b2").unwrap(),
            "postgres://u@h/b2?sslmode=disable"
        );
    }
}
