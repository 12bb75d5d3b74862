//! Watching a run while it happens: a Prometheus endpoint (`--metrics-listen`) serving the live
//! board (`metrics::live`) for as long as the run lasts (and `--metrics-linger` after), a push
//! of the final figures to a Pushgateway (`--metrics-push`) for jobs that end before a scrape,
//! and a page for a person (`--dashboard`, `dashboard.rs`) that turns into the final report.
//!
//! Why a thread of its own (`tiny_http`) rather than a task on the run's runtime: a scrape then
//! never waits behind the measured tasks, nor do they behind it; the exporter reads only what
//! the workers publish once a second. Encoding is `prometheus-client`'s (`encode.rs`).

mod dashboard;
mod encode;
mod push;
mod snapshot;

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

pub use dashboard::Dashboard;
pub use encode::{openmetrics, prometheus_text};
pub use push::push;

use crate::metrics::live::LiveBoard;

/// A running metrics endpoint; stopped when dropped.
pub struct Exporter {
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
    /// The address it listens on.
    pub addr: SocketAddr,
}

/// Reads the address of `option` (`--metrics-listen`, `--dashboard`); the error says what was
/// expected.
pub fn parse_addr(option: &str, text: &str) -> Result<SocketAddr, String> {
    text.parse::<SocketAddr>().map_err(|_| {
        format!(
            "{option} `{text}` is not an address: expected IP:PORT, e.g. 127.0.0.1:9464 (or \
             0.0.0.0:9464 to be reached from other hosts; port 0 takes a free one)"
        )
    })
}

/// Listens on `addr` for `option`. Err: the address is taken or not this host's, said with
/// what to do.
fn listen(option: &str, addr: SocketAddr) -> Result<tiny_http::Server, String> {
    tiny_http::Server::http(addr).map_err(|e| {
        let said = e.to_string();
        if said.contains("in use") {
            format!(
                "{option} {addr}: the address is already in use; `ss -ltnp 'sport = :{}'` shows \
                 which process holds it (choose another port)",
                addr.port()
            )
        } else {
            format!("{option} {addr}: cannot listen there: {said}")
        }
    })
}

impl Exporter {
    /// Listens on `addr` and serves `board` at `/metrics`. Err: the address is taken or not
    /// this host's, said with what to do.
    pub fn start(addr: SocketAddr, board: Arc<LiveBoard>) -> Result<Exporter, String> {
        let server = listen("--metrics-listen", addr)?;
        let addr = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| format!("--metrics-listen {addr}: not an IP address"))?;
        let server = Arc::new(server);
        let serving = Arc::clone(&server);
        let thread = std::thread::Builder::new()
            .name("metrics".into())
            .spawn(move || serve(&serving, &board))
            .map_err(|e| format!("cannot start the metrics endpoint: {e}"))?;
        Ok(Exporter {
            server,
            thread: Some(thread),
            addr,
        })
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Answers requests until the server is unblocked: `/metrics` in the Prometheus text format,
/// or OpenMetrics when the scraper asks for it (`Accept: application/openmetrics-text`). A
/// scraper that goes away mid-answer costs nothing but its answer.
fn serve(server: &tiny_http::Server, board: &Arc<LiveBoard>) {
    for request in server.incoming_requests() {
        let wants_openmetrics = request.headers().iter().any(|h| {
            h.field.equiv("Accept") && h.value.as_str().contains("application/openmetrics-text")
        });
        let (status, body, content_type) = match request.url().split('?').next() {
            Some("/metrics") if wants_openmetrics => (
                200,
                openmetrics(board),
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            ),
            Some("/metrics") => (
                200,
                prometheus_text(board),
                "text/plain; version=0.0.4; charset=utf-8",
            ),
            Some("/") => (
                200,
                "tierbench: the run's metrics are at /metrics\n".to_string(),
                "text/plain; charset=utf-8",
            ),
            _ => (
                404,
                "not found: try /metrics\n".to_string(),
                "text/plain; charset=utf-8",
            ),
        };
        let mut response = tiny_http::Response::from_string(body).with_status_code(status);
        if let Ok(header) = tiny_http::Header::from_bytes("Content-Type", content_type) {
            response.add_header(header);
        }
        let _ = request.respond(response);
    }
}
