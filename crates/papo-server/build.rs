//! Builds the web app (`web/`, React + Vite) into `web/dist` so the binary can embed it.
//!
//! Runs `npm ci` when `web/node_modules` is missing and `npm run build` when the web sources
//! changed. Set `PAPO_SKIP_WEB_BUILD=1` to skip (a placeholder page is embedded if nothing was
//! ever built). Without npm the build still succeeds with that placeholder.

use std::path::Path;
use std::process::Command;

fn main() {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web");
    for entry in [
        "src",
        "index.html",
        "package.json",
        "package-lock.json",
        "vite.config.ts",
        "public",
        "tsconfig.json",
    ] {
        println!("cargo:rerun-if-changed={}", web.join(entry).display());
    }
    println!("cargo:rerun-if-env-changed=PAPO_SKIP_WEB_BUILD");
    let dist = web.join("dist");
    let skip = std::env::var("PAPO_SKIP_WEB_BUILD").is_ok_and(|v| v == "1");
    if !skip && web.join("package.json").exists() {
        match build_web(&web) {
            Ok(()) => return,
            Err(err) => {
                println!("cargo:warning=web app not built ({err}); embedding a placeholder")
            }
        }
    }
    if !dist.join("index.html").exists() {
        std::fs::create_dir_all(&dist).expect("create web/dist");
        std::fs::write(
            dist.join("index.html"),
            "<!doctype html><meta charset=utf-8><title>Papo</title>\
             <p>The Papo web app was not built into this binary. Run <code>npm ci &amp;&amp; npm run build</code> in <code>web/</code> and rebuild.</p>",
        )
        .expect("write placeholder");
    }
}

fn build_web(web: &Path) -> Result<(), String> {
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    if !web.join("node_modules").exists() {
        run(Command::new(npm)
            .arg("ci")
            .arg("--no-audit")
            .arg("--no-fund")
            .current_dir(web))?;
    }
    run(Command::new(npm).args(["run", "build"]).current_dir(web))
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}
