//! The management API against outside tools: schemathesis fuzzes it from the checked-in
//! OpenAPI, and a real Chromium drives the web console (`tests/web/console.test.mjs`).
//!
//! Both tools come from `scripts/install-deps.sh` (a Python venv and `npm ci`). Without them the
//! tests skip loudly, unless `PUNKTFUNK_REQUIRE_TOOLS=1` (set by `scripts/test.sh`) makes a
//! missing tool a failure.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;

fn repo() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The tool at `path`, or `None` after saying why (or a panic when tools are required).
fn tool(path: PathBuf, what: &str) -> Option<PathBuf> {
    if path.exists() {
        return Some(path);
    }
    let why = format!(
        "{what} is not installed at {} (scripts/install-deps.sh installs it)",
        path.display()
    );
    if std::env::var_os("PUNKTFUNK_REQUIRE_TOOLS").is_some_and(|v| v == "1") {
        panic!("{why}");
    }
    eprintln!("SKIPPED: {why}");
    None
}

fn venv() -> PathBuf {
    std::env::var_os("PUNKTFUNK_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/punktfunk/venv")
        })
}

#[test]
fn schemathesis_finds_no_server_errors_and_no_schema_violations() {
    let Some(schemathesis) = tool(venv().join("bin/schemathesis"), "schemathesis") else {
        return;
    };
    // It keeps a cache in its working directory: not in the repository.
    let workdir = scratch("schemathesis-run");
    std::fs::create_dir_all(&workdir).unwrap();
    let host = Host::launch(&scratch("schemathesis"), &[]);
    let token = std::fs::read_to_string(host.config.join("admin-token")).unwrap();
    let out = Command::new(schemathesis)
        .arg("run")
        .arg(repo().join("api/openapi.json"))
        .args(["--url", &host.mgmt_url])
        .args([
            "--header",
            &format!("Authorization: Bearer {}", token.trim()),
        ])
        .args(["--tls-verify", "false"])
        .args(["--checks", "not_a_server_error,response_schema_conformance"])
        .args(["--max-examples", "25"])
        // An endless stream has no response to check.
        .args(["--exclude-path", "/api/v1/events"])
        .env("NO_COLOR", "1")
        .current_dir(&workdir)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    let tail: String = report
        .lines()
        .rev()
        .take(30)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        out.status.success(),
        "schemathesis found problems:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("passed"), "{tail}");
    eprintln!("{tail}");
}

#[test]
fn the_web_console_works_in_a_real_browser() {
    let web = repo().join("tests/web");
    let Some(_) = tool(
        web.join("node_modules/playwright-core"),
        "playwright-core (npm ci in tests/web)",
    ) else {
        return;
    };
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    let Some(chromium) = tool(chromium, "chromium") else {
        return;
    };
    let host = Host::launch(&scratch("console-host"), &[]);
    let password = host.console_password();
    // Screenshots are CI artifacts under target/.
    let artifacts = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
    std::fs::create_dir_all(&artifacts).unwrap();
    let out = Command::new("node")
        .arg(web.join("console.test.mjs"))
        .current_dir(&web)
        .env("PF_CONSOLE_URL", format!("{}/", host.console_url))
        .env("PF_CONSOLE_PASSWORD", &password)
        .env("PF_PROBE", probe_bin())
        .env("PF_NATIVE_ADDR", host.addr.to_string())
        .env("PF_CLIENT_DIR", scratch("console-client"))
        .env("PF_ARTIFACTS", &artifacts)
        .env("CHROMIUM", &chromium)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the browser test failed:\n{stdout}\n{stderr}\nhost log:\n{}",
        host.log.lock().unwrap()
    );
    for shot in ["dashboard.png", "pairing.png"] {
        let size = std::fs::metadata(artifacts.join(shot))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(size > 1000, "{shot} was saved ({size} bytes)");
    }
    eprintln!("{stdout}\nscreenshots in {}", artifacts.display());
}
