//! herald-local keeps what it acknowledged: the real binary on a data
//! directory, killed with `kill -9` at the worst moments and started again
//! on the same directory. Each test fails if a write acknowledged before
//! the crash is lost, or if anything is done twice after it.
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use herald_tests::*;
use reqwest::Method;
use serde_json::{json, Value};

fn on(dir: &std::path::Path, mail: &std::path::Path) -> GatewayOptions {
    GatewayOptions { data_dir: Some(dir.to_owned()), mail_dir: Some(mail.to_owned()), ..GatewayOptions::new(Store::Embedded) }
}

/// `.eml` files per recipient address.
fn emails_per_address(mail: &std::path::Path) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for entry in std::fs::read_dir(mail).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("eml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read .eml");
        let to = text.lines().find_map(|l| l.strip_prefix("To:")).map(|v| v.trim().trim_start_matches('<').trim_end_matches('>').to_owned()).unwrap_or_default();
        *counts.entry(to).or_default() += 1;
    }
    counts
}

/// (a) `kill -9` while a 3,000-recipient email fan-out is being delivered:
/// after the restart every recipient has exactly one email.
#[tokio::test]
async fn a_crash_during_an_email_fan_out_leaves_exactly_one_email_per_recipient() {
    const RECIPIENTS: usize = 3000;
    let (dir, mail) = (fresh_dir("test-data"), fresh_dir("test-mail"));
    let gw = Arc::new(Gateway::start_with(on(&dir, &mail)).await);
    let admin = admin_token();
    let domain = mail_domain();
    let mut puts = tokio::task::JoinSet::new();
    for chunk in (1..=RECIPIENTS).collect::<Vec<_>>().chunks(RECIPIENTS / 16) {
        let (gw, admin, domain, chunk) = (gw.clone(), admin.clone(), domain.clone(), chunk.to_vec());
        puts.spawn(async move {
            for id in chunk {
                let user = json!({"login": format!("u{id}"), "email": format!("u{id}@{domain}"), "groups": ["everyone"]});
                let (status, body) = gw.send(Method::PUT, &format!("/{DB}/users/{id}"), Some(&admin), Some(&user)).await;
                assert_eq!(status, 200, "{body}");
            }
        });
    }
    while let Some(done) = puts.join_next().await {
        done.expect("user writer");
    }
    let request = json!({"key": "message:internal", "title": "Fan-out", "body": "to everyone", "recipients": {"groups": ["everyone"]}, "force_channel": "email"});
    let (status, sent) = gw.post(&format!("/{DB}/notifications"), Some(&admin), &request).await;
    assert_eq!(status, 202, "{sent}");
    // Mid-delivery: some emails written, most not.
    let deadline = Instant::now() + Duration::from_secs(30);
    while emails_per_address(&mail).values().sum::<usize>() < 50 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let gw = Arc::try_unwrap(gw).unwrap_or_else(|_| panic!("the gateway is still shared"));
    gw.kill_hard().await;
    let before = emails_per_address(&mail).values().sum::<usize>();
    assert!(before < RECIPIENTS, "the crash came too late to test anything: {before} emails already");

    let gw = Gateway::start_with(on(&dir, &mail)).await;
    // Past the lease of the deliveries interrupted mid-send.
    gw.advance_clock(120).await;
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        gw.tick().await;
        let total: usize = emails_per_address(&mail).values().sum();
        if total >= RECIPIENTS || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The drainer, woken by what the tick queued, may have written the last
    // emails without having marked them yet: a tick waits for a drain in
    // flight, so after it every email written is marked.
    gw.tick().await;
    let counts = emails_per_address(&mail);
    let missing: Vec<usize> = (1..=RECIPIENTS).filter(|id| !counts.contains_key(&format!("u{id}@{domain}"))).collect();
    let twice: Vec<(&String, &usize)> = counts.iter().filter(|(_, n)| **n != 1).collect();
    assert!(missing.is_empty(), "{} recipients got nothing (first: {:?}); {before} emails were written before the crash", missing.len(), &missing[..missing.len().min(5)]);
    assert!(twice.is_empty(), "recipients with more than one email: {twice:?}");
    assert_eq!(counts.len(), RECIPIENTS);
    // And the notification's deliveries say so.
    let id = sent["id"].as_str().expect("id");
    let (_, status) = gw.send(Method::GET, &format!("/{DB}/notifications/{id}"), Some(&admin), None).await;
    let deliveries = status["deliveries"].as_array().cloned().unwrap_or_default();
    let sent_count = deliveries.iter().filter(|d| d["status"] == "sent").count();
    assert_eq!(sent_count, RECIPIENTS, "deliveries marked sent");
}

/// One publish that was answered 200: its title and sequence.
#[derive(Debug, Clone)]
struct Acknowledged {
    title: String,
    sequence: u64,
}

/// (b) `kill -9` during a storm of publishes with pollers following: every
/// publish answered 200 is delivered after the restart, none twice, in
/// the channel's order.
#[tokio::test]
async fn a_crash_during_a_publish_storm_loses_no_acknowledged_message() {
    const PUBLISHERS: usize = 6;
    let (dir, mail) = (fresh_dir("test-data"), fresh_dir("test-mail"));
    let gw = Gateway::start_with(on(&dir, &mail)).await;
    let (url, http) = (gw.url.clone(), gw.http.clone());
    let admin = admin_token();
    let token = token_with(TokenSpec { sub: "5", channels: &["chat:*"], ..Default::default() });
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut publishers = Vec::new();
    for p in 0..PUBLISHERS {
        let (url, http, admin, stop) = (url.clone(), http.clone(), admin.clone(), stop.clone());
        publishers.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for i in 0.. {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let title = format!("p{p}-{i}");
                let body = json!({"channel": "chat:room", "message": {"type": "chat", "title": title}});
                let Ok(response) = http.post(format!("{url}/{DB}/bus/publish")).bearer_auth(&admin).json(&body).send().await else { break };
                if response.status().as_u16() != 200 {
                    break;
                }
                let Ok(reply) = response.json::<Value>().await else { break };
                acknowledged.push(Acknowledged { title, sequence: reply["sequence"].as_u64().expect("sequence") });
            }
            acknowledged
        }));
    }
    // A poller following the storm; its cursor is used again after the crash.
    let follower = {
        let (url, http, token, stop) = (url.clone(), http.clone(), token.clone(), stop.clone());
        tokio::spawn(async move {
            let (mut last, mut got): (Option<String>, Vec<String>) = (None, Vec::new());
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let body = json!({"last_message": last, "channels": ["chat:room"]});
                let Ok(response) = http.post(format!("{url}/{DB}/bus")).bearer_auth(&token).json(&body).send().await else { break };
                let Ok(reply) = response.json::<Value>().await else { break };
                if let Some(m) = message(&reply) {
                    got.push(m["title"].as_str().unwrap_or_default().to_owned());
                    last = message_id(&reply);
                }
            }
            (last, got)
        })
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    gw.kill_hard().await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut acknowledged = Vec::new();
    for p in publishers {
        acknowledged.extend(p.await.expect("publisher"));
    }
    let (cursor, mut followed) = follower.await.expect("follower");
    assert!(acknowledged.len() > 50, "too few publishes before the crash to test anything: {}", acknowledged.len());

    let gw = Gateway::start_with(on(&dir, &mail)).await;
    // From the start, as a new client; and on from the follower's cursor.
    let everything = drain_channel(&gw, &token, None).await;
    followed.extend(drain_channel(&gw, &token, cursor.as_deref()).await);

    for (name, got) in [("a new client", &everything), ("the follower", &followed)] {
        let unique: HashSet<&String> = got.iter().collect();
        assert_eq!(unique.len(), got.len(), "{name} got a message twice");
        let missing: Vec<&Acknowledged> = acknowledged.iter().filter(|a| !unique.contains(&a.title)).collect();
        assert!(missing.is_empty(), "{name} misses {} acknowledged publishes, e.g. {:?}", missing.len(), &missing[..missing.len().min(3)]);
    }
    // In the channel's order: by sequence, as acknowledged.
    let position: HashMap<&str, usize> = everything.iter().enumerate().map(|(i, t)| (t.as_str(), i)).collect();
    let mut by_sequence = acknowledged.clone();
    by_sequence.sort_by_key(|a| a.sequence);
    let order: Vec<usize> = by_sequence.iter().map(|a| position[a.title.as_str()]).collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "delivered out of sequence order");
    let sequences: BTreeMap<u64, &str> = by_sequence.iter().map(|a| (a.sequence, a.title.as_str())).collect();
    assert_eq!(sequences.len(), acknowledged.len(), "two publishes were given one sequence");
}

/// Polls from `cursor` until a poll comes back empty.
async fn drain_channel(gw: &Gateway, token: &str, cursor: Option<&str>) -> Vec<String> {
    let (mut last, mut got) = (cursor.map(str::to_owned), Vec::new());
    loop {
        let reply = gw.poll(token, last.as_deref(), &["chat:room"]).await;
        let Some(m) = message(&reply) else { return got };
        got.push(m["title"].as_str().unwrap_or_default().to_owned());
        last = message_id(&reply);
    }
}

async fn get(gw: &Gateway, token: &str, path: &str) -> Value {
    let (status, body) = gw.send(Method::GET, path, Some(token), None).await;
    assert_eq!(status, 200, "GET {path} answered {body}");
    body
}

/// (c) After a `kill -9` and a restart, every kind of state is as it was,
/// and a scheduled notification still fires once at its time.
#[tokio::test]
async fn every_kind_of_state_survives_a_crash_and_a_schedule_still_fires_once() {
    let (dir, mail) = (fresh_dir("test-data"), fresh_dir("test-mail"));
    let gw = Gateway::start_with(on(&dir, &mail)).await;
    let (admin, ann) = (admin_token(), user_token("1"));
    let a = Some(admin.as_str());
    let domain = mail_domain();
    let user = json!({"login": "ann", "email": format!("ann@{domain}"), "groups": ["manager"], "companies": ["acme"]});
    assert_eq!(gw.send(Method::PUT, &format!("/{DB}/users/1"), a, Some(&user)).await.0, 200);
    assert_eq!(gw.send(Method::PUT, &format!("/{DB}/companies/acme"), a, Some(&json!({"name": "ACME", "email": format!("hq@{domain}")}))).await.0, 200);
    assert_eq!(gw.send(Method::PUT, &format!("/{DB}/types/task:custom"), a, Some(&json!({"label": "Custom", "default_channel": "alert", "status_type": "neutral"}))).await.0, 200);
    assert_eq!(gw.send(Method::PUT, &format!("/{DB}/resources/req_req"), a, Some(&json!({"title": "Requests"}))).await.0, 200);
    let record = json!({"fields": {"status": "open", "priority": 2}, "acl": {"public": true}});
    assert_eq!(gw.send(Method::PUT, &format!("/{DB}/resources/req_req/records/7"), a, Some(&record)).await.0, 200);
    assert_eq!(gw.send(Method::PUT, &format!("/{DB}/templates/notify_inapp"), a, Some(&json!({"source": "{{ title }} (kept)"}))).await.0, 200);
    let (status, subscription) = gw.post(&format!("/{DB}/subscriptions"), Some(&ann), &json!({"resources": ["req_req"], "frequency": "daily"})).await;
    assert_eq!(status, 201, "{subscription}");
    let sent = |title: &str| json!({"key": "message:internal", "title": title, "body": "b", "recipients": {"users": ["1"]}});
    let (status, now) = gw.post(&format!("/{DB}/notifications"), a, &sent("Now")).await;
    assert_eq!(status, 202, "{now}");
    // Two minutes ahead of the gateway's clock (the wall clock: not moved yet).
    let due_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis() as u64 + 120_000;
    let mut later = sent("Later");
    later["due_at"] = json!(due_ms);
    let (status, scheduled) = gw.post(&format!("/{DB}/notifications"), a, &later).await;
    assert_eq!((status, scheduled["status"].as_str()), (202, Some("scheduled")), "{scheduled}");
    gw.tick().await;
    // Ann reads the first item: inbox state.
    let items = get(&gw, &ann, &format!("/{DB}/inbox")).await;
    let first = items["items"][0]["id"].as_str().expect("an inbox item").to_owned();
    assert_eq!(gw.post(&format!("/{DB}/inbox/{first}/read"), Some(&ann), &json!({})).await.0, 200);

    let paths = [
        format!("/{DB}/users/1"),
        format!("/{DB}/companies/acme"),
        format!("/{DB}/types"),
        format!("/{DB}/resources/req_req"),
        format!("/{DB}/resources/req_req/records/7"),
        format!("/{DB}/templates/notify_inapp"),
        format!("/{DB}/subscriptions/{}", subscription["id"].as_str().expect("id")),
        format!("/{DB}/notifications/{}", now["id"].as_str().expect("id")),
        format!("/{DB}/notifications/{}", scheduled["id"].as_str().expect("id")),
        format!("/{DB}/groups/manager/members"),
    ];
    let mut before = Vec::new();
    for path in &paths {
        before.push(get(&gw, &admin, path).await);
    }
    let inbox_before = get(&gw, &ann, &format!("/{DB}/inbox?state=all")).await;
    gw.kill_hard().await;

    let gw = Gateway::start_with(on(&dir, &mail)).await;
    for (path, was) in paths.iter().zip(&before) {
        assert_eq!(&get(&gw, &admin, path).await, was, "{path} changed across the crash");
    }
    assert_eq!(get(&gw, &ann, &format!("/{DB}/inbox?state=all")).await, inbox_before, "the inbox changed across the crash");
    assert!(inbox_before["items"].as_array().is_some_and(|items| items.iter().any(|i| !i["read_at"].is_null())), "the read state was not recorded: {inbox_before}");

    // The scheduled one fires once at its time, and only then.
    gw.tick().await;
    let titles = |inbox: &Value| inbox["items"].as_array().into_iter().flatten().filter(|i| i["title"] == "Later").count();
    assert_eq!(titles(&get(&gw, &ann, &format!("/{DB}/inbox?state=all")).await), 0, "fired early");
    gw.advance_clock(180).await;
    gw.tick().await;
    gw.tick().await;
    assert_eq!(titles(&get(&gw, &ann, &format!("/{DB}/inbox?state=all")).await), 1, "the scheduled notification fired once");
}

/// (d) With no `HERALD_JWT_SECRET`, the gateway keeps its generated secret
/// in the data directory (mode 0600), `herald token --data-dir` mints
/// tokens it accepts, and they still work after a crash and a restart.
#[tokio::test]
async fn tokens_minted_before_a_crash_still_work_after_it() {
    let (dir, mail) = (fresh_dir("test-data"), fresh_dir("test-mail"));
    let options = || GatewayOptions { generated_secret: true, ..on(&dir, &mail) };
    let gw = Gateway::start_with(options()).await;
    let secret = dir.join("secret");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret).expect("the secret file").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the secret file is readable by others");
    }
    let minted = tokio::process::Command::new(cli_binary())
        .args(["token", "--sub", "1", "--admin", "--data-dir"])
        .arg(&dir)
        .env_remove("HERALD_JWT_SECRET")
        .output()
        .await
        .expect("run herald token");
    assert!(minted.status.success(), "{}", String::from_utf8_lossy(&minted.stderr));
    let token = String::from_utf8_lossy(&minted.stdout).trim().to_owned();
    let user = json!({"login": "ann"});
    assert_eq!(gw.send(Method::PUT, &format!("/{DB}/users/1"), Some(&token), Some(&user)).await.0, 200);
    // The test suite's own secret is not this gateway's.
    assert_eq!(gw.send(Method::GET, &format!("/{DB}/users/1"), Some(&admin_token()), None).await.0, 401);
    gw.kill_hard().await;

    let gw = Gateway::start_with(options()).await;
    let (status, body) = gw.send(Method::GET, &format!("/{DB}/users/1"), Some(&token), None).await;
    assert_eq!((status, body["login"].as_str()), (200, Some("ann")), "{body}");
}

fn cli_binary() -> PathBuf {
    std::env::var_os("HERALD_CLI_BIN").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/debug/herald"))
}

/// A second herald-local on a data directory in use is refused, with a
/// message that says why, and the first one goes on serving.
#[tokio::test]
async fn a_second_gateway_on_the_same_data_directory_is_refused() {
    let (dir, mail) = (fresh_dir("test-data"), fresh_dir("test-mail"));
    let gw = Gateway::start_with(on(&dir, &mail)).await;
    let second = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::process::Command::new(local_gateway_binary()).args(["--port", "0", "--data-dir"]).arg(&dir).env("HERALD_JWT_SECRET", SECRET).output(),
    )
    .await
    .expect("the second gateway neither started nor stopped")
    .expect("run herald-local");
    assert!(!second.status.success(), "a second gateway started on a data directory in use");
    let stderr = String::from_utf8_lossy(&second.stderr);
    let pid = gw.pid().expect("pid").to_string();
    assert!(stderr.contains("holds the data directory") && stderr.contains(&pid), "unclear refusal: {stderr}");
    let (status, health) = gw.send(Method::GET, "/health", None, None).await;
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
}

/// Backup while serving, restore into a new directory: the copy has what
/// was acknowledged before it; a restore refuses a directory in use and a
/// file that is no Herald database.
#[tokio::test]
async fn a_backup_taken_while_serving_restores_elsewhere() {
    let (dir, mail) = (fresh_dir("test-data"), fresh_dir("test-mail"));
    let gw = Gateway::start_with(on(&dir, &mail)).await;
    let admin = admin_token();
    for id in 1..=20 {
        assert_eq!(gw.send(Method::PUT, &format!("/{DB}/users/{id}"), Some(&admin), Some(&json!({"login": format!("u{id}")}))).await.0, 200);
    }
    let backup = fresh_dir("test-backup").join("herald-backup.db");
    let local = |args: &[&std::ffi::OsStr]| {
        let mut command = tokio::process::Command::new(local_gateway_binary());
        command.args(args);
        command.output()
    };
    let taken = local(&["--data-dir".as_ref(), dir.as_os_str(), "backup".as_ref(), backup.as_os_str()]).await.expect("backup");
    assert!(taken.status.success(), "{}", String::from_utf8_lossy(&taken.stderr));
    // Not onto the running gateway's directory.
    let refused = local(&["--data-dir".as_ref(), dir.as_os_str(), "restore".as_ref(), backup.as_os_str()]).await.expect("restore");
    assert!(!refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("holds the data directory"));
    // Not from a file that is no Herald database.
    let other = fresh_dir("test-data");
    let junk = other.join("junk.db");
    std::fs::write(&junk, b"not a database").expect("write");
    let refused = local(&["--data-dir".as_ref(), other.as_os_str(), "restore".as_ref(), junk.as_os_str()]).await.expect("restore");
    assert!(!refused.status.success(), "restored from junk");
    let restored = local(&["--data-dir".as_ref(), other.as_os_str(), "restore".as_ref(), backup.as_os_str()]).await.expect("restore");
    assert!(restored.status.success(), "{}", String::from_utf8_lossy(&restored.stderr));
    let copy = Gateway::start_with(on(&other, &mail)).await;
    for id in [1, 20] {
        let (status, user) = copy.send(Method::GET, &format!("/{DB}/users/{id}"), Some(&admin), None).await;
        assert_eq!((status, user["login"].as_str()), (200, Some(format!("u{id}").as_str())));
    }
}

/// The sweeper: messages on quiet channels are deleted once their
/// retention passed, and the database file stops growing when as many
/// come and go again.
#[tokio::test]
async fn the_sweeper_keeps_the_database_bounded_by_retention() {
    let messages: usize = std::env::var("HERALD_SWEEP_TEST_MESSAGES").ok().and_then(|v| v.parse().ok()).unwrap_or(3000);
    let (dir, mail) = (fresh_dir("test-data"), fresh_dir("test-mail"));
    let mut options = on(&dir, &mail);
    // Only the test's ticks sweep: their reports are counted.
    options.env.push(("HERALD_SWEEP_SECS".into(), "86400".into()));
    let gw = Arc::new(Gateway::start_with(options).await);
    let admin = admin_token();
    let database = dir.join("herald.db");
    // Pages holding data (not free), read beside the gateway as a backup would.
    let used_pages = || {
        let conn = rusqlite::Connection::open_with_flags(&database, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open the database");
        let pages: i64 = conn.query_row("PRAGMA page_count", [], |row| row.get(0)).expect("page_count");
        let free: i64 = conn.query_row("PRAGMA freelist_count", [], |row| row.get(0)).expect("freelist_count");
        pages - free
    };
    let file_size = || std::fs::metadata(&database).map(|m| m.len()).unwrap_or(0) + std::fs::metadata(dir.join("herald.db-wal")).map(|m| m.len()).unwrap_or(0);
    let pid = gw.pid().expect("pid");
    let rss_kib = || {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok()).unwrap_or(0)
    };
    let rss_at_start = rss_kib();
    let mut sizes = Vec::new();
    let mut rss = Vec::new();
    for round in 0..3 {
        let mut writers = tokio::task::JoinSet::new();
        for w in 0..8 {
            let (gw, admin) = (gw.clone(), admin.clone());
            writers.spawn(async move {
                for i in (w..messages).step_by(8) {
                    // Each on its own quiet channel: nothing else will touch them.
                    let user = 1000 + i;
                    let body = json!({"channel": format!("user:{user}"), "message": {"type": "note", "n": i, "round": round, "pad": "x".repeat(200)}});
                    let (status, reply) = gw.post(&format!("/{DB}/bus/publish"), Some(&admin), &body).await;
                    assert_eq!(status, 200, "{reply}");
                }
            });
        }
        while let Some(done) = writers.join_next().await {
            done.expect("publisher");
        }
        let grown = file_size();
        let rss_full = rss_kib();
        let used_full = used_pages();
        // Past the bus retention and the heads' day of grace; the tick sweeps.
        gw.advance_clock(25 * 3600).await;
        let report = gw.tick().await;
        assert_eq!(report["swept"]["bus_messages"].as_u64(), Some(messages as u64), "{report}");
        assert_eq!(report["swept"]["bus_channels"].as_u64(), Some(messages as u64), "{report}");
        let used_swept = used_pages();
        assert!(used_swept * 2 < used_full, "the sweep freed too little: {used_full} -> {used_swept} pages in use");
        eprintln!("sweeper: round {round}: herald.db {} bytes, herald.db-wal {} bytes after sweeping", std::fs::metadata(&database).map(|m| m.len()).unwrap_or(0), std::fs::metadata(dir.join("herald.db-wal")).map(|m| m.len()).unwrap_or(0));
        sizes.push((grown, file_size()));
        rss.push((rss_full, rss_kib()));
    }
    eprintln!("sweeper: {messages} messages a round; database + WAL bytes (after publishing, after sweeping) per round: {sizes:?}");
    eprintln!("sweeper: RSS KiB at start {rss_at_start}; (after publishing, after sweeping) per round: {rss:?}");
    // After each sweep the files are back near empty (freed pages handed
    // back, the log cut), and a round as large as the last adds nothing.
    assert!(sizes.iter().all(|(full, swept)| swept * 2 < *full), "the files did not shrink: {sizes:?}");
    let (first_peak, second_peak, last_peak) = (sizes[0].0, sizes[1].0, sizes[2].0);
    assert!(last_peak <= second_peak + second_peak / 20 && last_peak <= first_peak + first_peak / 2, "the file kept growing: {sizes:?}");
    // Memory is bounded by what is retained, not by what went through.
    let (first_rss, last_rss) = (rss[0].0, rss[2].0);
    assert!(last_rss <= first_rss + first_rss / 2, "memory kept growing: {rss:?}");
}
