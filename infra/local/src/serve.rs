//! Serving HTTP/1.1 with limits, so no client can hold the server: a
//! connection has `header_read` to send a request's head (also how long an
//! idle keep-alive connection stays open), a body must arrive within
//! `http::extract::BODY_READ_TIMEOUT`, and at most `max_connections` are
//! open at once; past that a connection gets a quick JSON 503 and is
//! closed, never a hang. A long poll holds its connection only for its
//! wait: once answered, the head timeout runs again.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `HERALD_HEADER_READ_TIMEOUT_SECS` (10).
    pub header_read: Duration,
    /// `HERALD_MAX_CONNECTIONS` (8192; the process's open-file limit must
    /// be higher).
    pub max_connections: usize,
}

impl Limits {
    pub fn from_env() -> anyhow::Result<Self> {
        let number = |name: &str, default: u64, max: u64| -> anyhow::Result<u64> {
            match std::env::var(name) {
                Err(_) => Ok(default),
                Ok(v) => v.trim().parse::<u64>().ok().filter(|n| (1..=max).contains(n)).ok_or_else(|| anyhow::anyhow!("{name} must be a whole number from 1 to {max}, got '{v}'")),
            }
        };
        Ok(Self {
            header_read: Duration::from_secs(number("HERALD_HEADER_READ_TIMEOUT_SECS", 10, 300)?),
            max_connections: usize::try_from(number("HERALD_MAX_CONNECTIONS", 8192, 1_000_000)?).unwrap_or(8192),
        })
    }
}

/// The most bytes of a request's head (request line and headers) hyper
/// buffers; `http::limits` answers smaller excesses with JSON first.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// The most header fields hyper parses (past it, its own bare 431).
const MAX_HEADER_FIELDS: usize = 256;

/// Serves `app` on `listener` until `shutdown` resolves.
pub async fn serve(listener: TcpListener, app: Router, limits: Limits, shutdown: impl std::future::Future<Output = ()>) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let most_open = Arc::new(AtomicUsize::new(0));
    tokio::spawn(return_freed_memory(permits.clone(), most_open.clone(), limits.max_connections));
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => return,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, most likely: wait for some to close.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tokio::spawn(refuse(stream));
            continue;
        };
        // The peak between two looks of `return_freed_memory`, however short.
        most_open.fetch_max(limits.max_connections - permits.available_permits(), Ordering::Relaxed);
        // Each request knows the address it came from (a Tryton session
        // may be bound to one).
        let address = herald::http::edge::ClientAddress(peer.ip());
        let service = TowerToHyperService::new(tower::ServiceExt::map_request(app.clone(), move |mut request: hyper::Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(address);
            request
        }));
        tokio::spawn(async move {
            let _permit = permit;
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read)
                .max_buf_size(MAX_HEAD_BYTES)
                // Above Herald's own 64, so its JSON 431 answers first.
                .max_headers(MAX_HEADER_FIELDS)
                .serve_connection(TokioIo::new(stream), service);
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended");
            }
        });
    }
}

/// glibc keeps what a burst of connections freed (their buffers, their
/// tasks) in its arenas for later; each second in which at least 256
/// connections have closed since the last look, hand it back to the system,
/// so the process's memory comes back after a flood.
async fn return_freed_memory(permits: Arc<Semaphore>, most_open: Arc<AtomicUsize>, max_connections: usize) {
    const CLOSED_TO_TRIM: usize = 256;
    let mut every = tokio::time::interval(Duration::from_secs(1));
    let mut again = false;
    loop {
        every.tick().await;
        let open = max_connections - permits.available_permits();
        let closed = most_open.swap(open, Ordering::Relaxed).saturating_sub(open);
        // Once more a second later: what the closing connections' tasks
        // freed after the look is handed back too.
        if closed >= CLOSED_TO_TRIM || again {
            trim();
            again = closed >= CLOSED_TO_TRIM;
        }
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: malloc_trim only walks and releases glibc's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}

/// Over the connection limit: a 503 with a JSON body, written within a
/// second or not at all, and the connection closed.
async fn refuse(mut stream: TcpStream) {
    const BODY: &str = r#"{"error":"unavailable","message":"too many open connections; retry later"}"#;
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{BODY}",
        BODY.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        stream.write_all(answer.as_bytes()).await?;
        stream.shutdown().await?;
        // Read what the client sent before closing: closing with unread
        // bytes would reset the connection, and the 503 could be lost.
        let mut discard = [0u8; 4096];
        while stream.read(&mut discard).await? > 0 {}
        Ok::<(), std::io::Error>(())
    })
    .await;
}
