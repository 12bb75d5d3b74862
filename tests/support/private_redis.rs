//! A `redis-server` of a test's own on a free port: for tests that stop the server, or that
//! need exact `INFO commandstats` counts no other test's traffic lands in.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a starting server may take to listen.
const STARTUP: Duration = Duration::from_secs(10);

/// A port nobody listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `redis-server` of this test's own, killed when dropped.
pub struct PrivateRedis {
    child: Child,
    /// The port it listens on.
    pub port: u16,
}

impl PrivateRedis {
    /// Starts one on `port` and waits until it listens.
    pub fn start(port: u16) -> PrivateRedis {
        PrivateRedis::start_with(port, &[])
    }

    /// Starts one on `port` with more `redis-server` arguments (`--unixsocket PATH`).
    pub fn start_with(port: u16, extra: &[&str]) -> PrivateRedis {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(extra)
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start redis-server ({e}); install it (apt-get install redis-server)")
            });
        let deadline = Instant::now() + STARTUP;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server does not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        PrivateRedis { child, port }
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// SIGKILL, as a crash would: no goodbye to the clients.
    pub fn kill(mut self) -> u16 {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.port
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
