//! The `papo` binary itself: version, migrate, serve with graceful shutdown on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_papo");

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("papo_proc_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn version_and_migrate() {
    let out = Command::new(BIN).arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("papo {}", env!("CARGO_PKG_VERSION"))
    );
    let dir = temp_dir("migrate");
    let out = Command::new(BIN)
        .arg("migrate")
        .env("PAPO_DATA_DIR", &dir)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.join("papo.db").exists());
    // Running it again is a no-op.
    assert!(
        Command::new(BIN)
            .arg("migrate")
            .env("PAPO_DATA_DIR", &dir)
            .output()
            .unwrap()
            .status
            .success()
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn serve_prints_its_url_and_stops_cleanly_on_sigterm() {
    let dir = temp_dir("serve");
    let mut child = Command::new(BIN)
        .arg("serve")
        .env("PAPO_DATA_DIR", &dir)
        .env("PAPO_LISTEN", "127.0.0.1:0")
        .env("PAPO_LOG_FORMAT", "json")
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let url = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stdout).lines();
        lines
            .find_map(|l| {
                l.ok()?
                    .strip_prefix("papo: listening on ")
                    .map(str::to_owned)
            })
            .expect("listening line")
    })
    .await
    .unwrap();
    let health = reqwest::get(format!("{url}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    // SIGTERM: the process finishes and exits successfully.
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::task::spawn_blocking(move || {
        for _ in 0..100 {
            if let Some(s) = child.try_wait().unwrap() {
                let mut err = String::new();
                std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
                return (s, err);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        child.kill().unwrap();
        panic!("papo did not stop within 10 s of SIGTERM");
    })
    .await
    .unwrap();
    assert!(status.0.success(), "{status:?}");
    // JSON logs, one object per line, including the shutdown.
    let last = status.1.lines().last().unwrap();
    let v: serde_json::Value = serde_json::from_str(last).expect("json log line");
    assert_eq!(v["message"], "papo stopped");
    std::fs::remove_dir_all(dir).unwrap();
}
