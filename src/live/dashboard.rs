//! `--dashboard ADDR`: a page that shows the run while it happens and turns into the final HTML
//! report when it ends.
//!
//! `/` is the page (`dashboard.html`: the report's look, a little script); `/events` is a stream
//! of server-sent events, one snapshot (`snapshot.rs`) a second, then one `report` event with
//! the final report's HTML, which the page puts in its own place; `/snapshot.json` is the
//! snapshot for scripts; `/report` the final report once there is one. Like the metrics
//! endpoint it runs on threads of its own, reading only what the workers publish once a second
//! (and the workloads' series sinks, which they hand each finished second to), so a browser
//! never slows the measured path.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::snapshot::{SeriesBook, snapshot_json};
use crate::metrics::live::LiveBoard;

/// The page, served as is.
const PAGE: &str = include_str!("dashboard.html");

/// How often the series are refreshed and each stream sends a snapshot.
const TICK: Duration = Duration::from_secs(1);

/// What the dashboard's threads share.
struct Shared {
    board: Arc<LiveBoard>,
    started: Instant,
    book: Mutex<SeriesBook>,
    /// The final report's HTML, once the run is over.
    report: Mutex<Option<Arc<String>>>,
    /// Signalled (with `report`) when the report arrives or the dashboard stops.
    report_ready: Condvar,
    /// Streams open that have not sent the report yet.
    waiting: Mutex<usize>,
    /// Signalled (with `waiting`) when a stream ends.
    stream_ended: Condvar,
    stopping: std::sync::atomic::AtomicBool,
}

/// A running dashboard; stopped when dropped.
pub struct Dashboard {
    server: Arc<tiny_http::Server>,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    /// The address it listens on.
    pub addr: SocketAddr,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Dashboard {
    /// Listens on `addr` and serves the page of `board`. Err: the address is taken or not this
    /// host's, said with what to do.
    pub fn start(addr: SocketAddr, board: Arc<LiveBoard>) -> Result<Dashboard, String> {
        let server = super::listen("--dashboard", addr)?;
        let addr = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| format!("--dashboard {addr}: not an IP address"))?;
        let server = Arc::new(server);
        let shared = Arc::new(Shared {
            board,
            started: Instant::now(),
            book: Mutex::default(),
            report: Mutex::new(None),
            report_ready: Condvar::new(),
            waiting: Mutex::new(0),
            stream_ended: Condvar::new(),
            stopping: false.into(),
        });
        let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name.into())
                .spawn(f)
                .map_err(|e| format!("cannot start the dashboard: {e}"))
        };
        let (serving, serving_shared) = (Arc::clone(&server), Arc::clone(&shared));
        let accept = spawn(
            "dashboard",
            Box::new(move || serve(&serving, &serving_shared)),
        )?;
        let ticking = Arc::clone(&shared);
        let ticker = spawn("dashboard-tick", Box::new(move || tick(&ticking)))?;
        Ok(Dashboard {
            server,
            shared,
            threads: vec![accept, ticker],
            addr,
        })
    }

    /// The run is over: every open page gets the final report (`html`); waits until each has
    /// been sent it, or `patience` at most (a page that went away is not waited for).
    pub fn finish(&self, html: String, patience: Duration) {
        lock(&self.shared.book).refresh(&self.shared.board);
        *lock(&self.shared.report) = Some(Arc::new(html));
        self.shared.report_ready.notify_all();
        let deadline = Instant::now() + patience;
        let mut waiting = lock(&self.shared.waiting);
        while *waiting > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            waiting = self
                .shared
                .stream_ended
                .wait_timeout(waiting, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        self.shared
            .stopping
            .store(true, std::sync::atomic::Ordering::Relaxed);
        drop(lock(&self.shared.report));
        self.shared.report_ready.notify_all();
        self.server.unblock();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Refreshes the series once a second until the dashboard stops.
fn tick(shared: &Shared) {
    loop {
        lock(&shared.book).refresh(&shared.board);
        let guard = lock(&shared.report);
        if shared.stopping.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        drop(
            shared
                .report_ready
                .wait_timeout(guard, TICK)
                .unwrap_or_else(PoisonError::into_inner),
        );
    }
}

/// Answers requests until the server is unblocked; each event stream gets a thread of its own.
fn serve(server: &tiny_http::Server, shared: &Arc<Shared>) {
    for request in server.incoming_requests() {
        let path = request.url().split('?').next().unwrap_or("").to_string();
        let report = lock(&shared.report).clone();
        let (status, body, content_type) = match (path.as_str(), report) {
            ("/events", _) => {
                *lock(&shared.waiting) += 1;
                let streaming = Arc::clone(shared);
                let spawned = std::thread::Builder::new()
                    .name("dashboard-events".into())
                    .spawn(move || stream_events(request, &streaming));
                if spawned.is_err() {
                    *lock(&shared.waiting) -= 1;
                }
                continue;
            }
            ("/" | "/report", Some(html)) => (200, html.to_string(), "text/html; charset=utf-8"),
            ("/", None) => (200, PAGE.to_string(), "text/html; charset=utf-8"),
            ("/report", None) => (
                404,
                "the run is still going: its report is here when it ends\n".to_string(),
                "text/plain; charset=utf-8",
            ),
            ("/snapshot.json", _) => {
                let book = lock(&shared.book);
                let json = snapshot_json(&shared.board, &book, &[], shared.started);
                (200, json, "application/json")
            }
            _ => (
                404,
                "not found: the dashboard is at /\n".to_string(),
                "text/plain; charset=utf-8",
            ),
        };
        let mut response = tiny_http::Response::from_string(body).with_status_code(status);
        for (name, value) in [
            ("Content-Type", content_type),
            ("Cache-Control", "no-store"),
        ] {
            if let Ok(header) = tiny_http::Header::from_bytes(name, value) {
                response.add_header(header);
            }
        }
        let _ = request.respond(response);
    }
}

/// One page's event stream: a snapshot now and once a second (only the points it has not
/// had), then the report. Ends when the page goes away or the report is sent.
fn stream_events(request: tiny_http::Request, shared: &Shared) {
    let mut out = request.into_writer();
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n\
                Connection: close\r\n\r\n";
    let mut cursors: Vec<usize> = Vec::new();
    let mut sent = out.write_all(head.as_bytes()).and_then(|()| out.flush());
    while sent.is_ok() {
        if let Some(html) = lock(&shared.report).clone() {
            let data = serde_json::to_string(&*html).unwrap_or_default();
            let _ = write!(out, "event: report\ndata: {data}\n\n").and_then(|()| out.flush());
            break;
        }
        if shared.stopping.load(std::sync::atomic::Ordering::Relaxed) {
            break;
        }
        let json = {
            let book = lock(&shared.book);
            let json = snapshot_json(&shared.board, &book, &cursors, shared.started);
            cursors = book.lengths();
            json
        };
        sent = write!(out, "data: {json}\n\n").and_then(|()| out.flush());
        let guard = lock(&shared.report);
        if guard.is_none() {
            drop(
                shared
                    .report_ready
                    .wait_timeout(guard, TICK)
                    .unwrap_or_else(PoisonError::into_inner),
            );
        }
    }
    let mut waiting = lock(&shared.waiting);
    *waiting = waiting.saturating_sub(1);
    shared.stream_ended.notify_all();
}
