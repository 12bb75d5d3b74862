//! A `memcached` of a test's own on a free port (Debian's package): for tests that stop the
//! server, or that need exact `stats` counts no other test's traffic lands in.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a starting server may take to listen.
const STARTUP: Duration = Duration::from_secs(10);

/// A `memcached` of this test's own, killed when dropped.
pub struct PrivateMemcached {
    child: Option<Child>,
    /// The port it listens on.
    pub port: u16,
    extra: Vec<String>,
}

/// memcached refuses to run as root without `-u root`.
fn as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl PrivateMemcached {
    /// Starts one on `port` with more `memcached` arguments and waits until it listens.
    pub fn start_with(port: u16, extra: &[&str]) -> PrivateMemcached {
        let mut server = PrivateMemcached {
            child: None,
            port,
            extra: extra.iter().map(|a| a.to_string()).collect(),
        };
        server.restart();
        server
    }

    /// Starts one on `port`.
    pub fn start(port: u16) -> PrivateMemcached {
        PrivateMemcached::start_with(port, &[])
    }

    /// Starts the server again (after `stop`), empty, and waits until it listens.
    pub fn restart(&mut self) {
        let mut command = Command::new("memcached");
        if as_root() {
            command.args(["-u", "root"]);
        }
        let child = command
            .args(["-l", "127.0.0.1", "-p", &self.port.to_string(), "-U", "0"])
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start memcached ({e}); install it (apt-get install memcached)")
            });
        self.child = Some(child);
        let deadline = Instant::now() + STARTUP;
        // With `-s PATH` it listens on that unix socket only.
        let socket = self
            .extra
            .iter()
            .position(|a| a == "-s")
            .and_then(|i| self.extra.get(i + 1).cloned());
        let listens = || match &socket {
            Some(path) => std::os::unix::net::UnixStream::connect(path).is_ok(),
            None => TcpStream::connect(("127.0.0.1", self.port)).is_ok(),
        };
        while !listens() {
            assert!(
                Instant::now() < deadline,
                "memcached does not listen on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
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
        format!("memcache://127.0.0.1:{}", self.port)
    }

    /// Sends `command` (text protocol) and returns the reply's lines up to `END` or one line.
    pub fn ask(&self, command: &str) -> Vec<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .write_all(format!("{command}\r\n").as_bytes())
            .unwrap();
        let mut reader = BufReader::new(stream);
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let line = line.trim_end().to_string();
            let last = !line.starts_with("STAT ") && !line.starts_with("VALUE ");
            let done = line == "END"
                || (last && !command.starts_with("stats") && !command.starts_with("get "));
            lines.push(line);
            if done || lines.last().is_some_and(|l| l.is_empty()) {
                return lines;
            }
        }
    }

    /// `stats` as name → number.
    pub fn stats(&self) -> HashMap<String, u64> {
        self.ask("stats")
            .iter()
            .filter_map(|l| {
                let mut parts = l.strip_prefix("STAT ")?.split(' ');
                Some((parts.next()?.to_string(), parts.next()?.parse().ok()?))
            })
            .collect()
    }

    /// Sets `key` to `value` (no expiry).
    pub fn set(&self, key: &str, value: &str) {
        let reply = self.ask(&format!("set {key} 0 0 {}\r\n{value}", value.len()));
        assert_eq!(reply, ["STORED"], "set {key}");
    }

    /// Whether `key` exists (`mg KEY`: `HD` or `EN`).
    pub fn exists(&self, key: &str) -> bool {
        self.ask(&format!("mg {key}")) == ["HD"]
    }

    /// The value of `key` (one line of text), if it exists.
    pub fn get(&self, key: &str) -> Option<String> {
        let lines = self.ask(&format!("get {key}"));
        match lines.as_slice() {
            [head, value, end] if head.starts_with("VALUE ") && end == "END" => Some(value.clone()),
            _ => None,
        }
    }
}

impl Drop for PrivateMemcached {
    fn drop(&mut self) {
        self.stop();
    }
}
