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
    child: Option<Child>,
    /// The port it listens on.
    pub port: u16,
    /// The extra arguments it was started with (a restart uses them again).
    extra: Vec<String>,
}

impl PrivateRedis {
    /// Starts one on `port` and waits until it listens.
    pub fn start(port: u16) -> PrivateRedis {
        PrivateRedis::start_with(port, &[])
    }

    /// Starts one on `port` with more `redis-server` arguments (`--unixsocket PATH`).
    pub fn start_with(port: u16, extra: &[&str]) -> PrivateRedis {
        let mut server = PrivateRedis {
            child: None,
            port,
            extra: extra.iter().map(|a| a.to_string()).collect(),
        };
        server.restart();
        server
    }

    /// Starts the server again (after `stop`) on the same port, with the same arguments and
    /// none of its data, and waits until it listens.
    pub fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(&self.extra)
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start redis-server ({e}); install it (apt-get install redis-server)")
            });
        self.child = Some(child);
        let deadline = Instant::now() + STARTUP;
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server does not listen on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The server's process id (to send it signals).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// SIGKILL, as a crash would; `restart` brings it back.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// SIGKILL, as a crash would: no goodbye to the clients.
    pub fn kill(mut self) -> u16 {
        self.stop();
        self.port
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}
