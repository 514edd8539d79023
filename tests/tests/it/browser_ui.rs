//! The notification centre in a real browser: `herald-local` serves the
//! `<herald-notifications>` element and its demo page at `/ui/`, and the
//! browser tests under `web/tests/` (Playwright driving Debian's chromium,
//! axe-core) run against it. Screenshots go to `target/ui-screenshots/`, or
//! to `docs/ui/` with `HERALD_UPDATE_SCREENSHOTS=1`.
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use herald_tests::*;
use tokio::process::Command;

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn chromium() -> PathBuf {
    let path = std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    assert!(path.exists(), "{} is missing: run scripts/test (it installs Debian's chromium)", path.display());
    path
}

fn screenshot_dir() -> PathBuf {
    let dir = if std::env::var("HERALD_UPDATE_SCREENSHOTS").as_deref() == Ok("1") {
        repository().join("docs/ui")
    } else {
        repository().join("target/ui-screenshots")
    };
    std::fs::create_dir_all(&dir).expect("a folder for screenshots");
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_element_works_in_a_real_browser() {
    let web = repository().join("web");
    assert!(web.join("node_modules/playwright-core").exists(), "web/node_modules is missing: run scripts/test");
    let gw = Gateway::start(Store::Embedded).await;
    let run = Command::new("node")
        .args(["--test", "--test-concurrency=1"])
        .arg(Path::new("web/tests"))
        .current_dir(repository())
        .env("HERALD_URL", &gw.url)
        .env("HERALD_TENANT", DB)
        .env("HERALD_JWT_SECRET", SECRET)
        .env("CHROMIUM", chromium())
        .env("HERALD_SCREENSHOT_DIR", screenshot_dir())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .status();
    let status = tokio::time::timeout(Duration::from_secs(900), run)
        .await
        .expect("the browser tests ran over 15 minutes")
        .expect("start node");
    assert!(status.success(), "the browser tests failed (their report is above)");
}

/// The element and the page are public static files, served with a policy
/// that lets the page run its own scripts and reach its own origin only.
#[tokio::test]
async fn the_element_and_its_page_are_served() {
    let gw = Gateway::start(Store::Embedded).await;
    let get = |path: &'static str| {
        let request = gw.http.get(format!("{}{path}", gw.url));
        async move { request.send().await.expect("request") }
    };
    let bundle = get("/ui/herald-notifications.js").await;
    assert_eq!(bundle.status(), 200);
    assert_eq!(bundle.headers()["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(bundle.headers()["x-content-type-options"], "nosniff");
    let source = bundle.text().await.expect("body");
    let built = std::fs::read_to_string(repository().join("web/dist/herald-notifications.js")).expect("the built element");
    assert_eq!(source, built, "herald-local serves the element built from web/");
    assert!(source.contains("herald-notifications"), "the bundle defines the element");

    let page = get("/ui/").await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let policy = page.headers()["content-security-policy"].to_str().expect("ascii").to_owned();
    for directive in ["default-src 'none'", "script-src 'self';", "connect-src 'self'", "frame-ancestors 'none'"] {
        assert!(policy.contains(directive), "{policy} lacks {directive}");
    }
    assert!(page.text().await.expect("body").contains("herald-notifications"), "the page mounts the element");

    let redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let bare = redirect.get(format!("{}/ui", gw.url)).send().await.expect("request");
    assert_eq!((bare.status().as_u16(), bare.headers()["location"].to_str().ok()), (308, Some("/ui/")));
    let (status, body) = gw.send(reqwest::Method::GET, "/ui/other.js", None, None).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")), "{body}");
}
