//! Where a memcached tier's server is: `memcache://host[:port]` (port 11211 by default),
//! `memcaches://host[:port]` for TLS, or `unix:///path/to/memcached.sock`.
//!
//! A URL with a user or password is refused: memcached authenticates with SASL on its binary
//! protocol only, and tierbench speaks the text (meta) protocol; a password in the URL would
//! silently do nothing.

/// The default memcached port.
pub const DEFAULT_PORT: u16 = 11211;

/// A parsed memcached URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// Host name or address (without brackets), or a unix socket's path.
    pub host: String,
    /// TCP port (0 for a unix socket).
    pub port: u16,
    /// `memcaches://`.
    pub tls: bool,
}

impl Address {
    /// Reads `url`; the error says what was expected (it never repeats a password).
    pub fn parse(url: &str) -> Result<Address, String> {
        const EXPECTED: &str =
            "expected memcache://host[:port], memcaches://host[:port] or unix:///path/to/socket";
        if let Some(path) = url.strip_prefix("unix://") {
            if !path.starts_with('/') {
                return Err(format!(
                    "a unix socket URL needs an absolute path; {EXPECTED}"
                ));
            }
            return Ok(Address {
                host: path.to_string(),
                port: 0,
                tls: false,
            });
        }
        let (rest, tls) = if let Some(rest) = url.strip_prefix("memcaches://") {
            (rest, true)
        } else if let Some(rest) = url.strip_prefix("memcache://") {
            (rest, false)
        } else {
            let scheme = url.split("://").next().unwrap_or(url);
            return Err(format!("unknown scheme `{scheme}`; {EXPECTED}"));
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') {
            return Err(
                "memcached URLs take no user or password: memcached authenticates with SASL \
                 on its binary protocol only, and tierbench speaks the text (meta) protocol; \
                 remove the credentials (use TLS client certificates, `tls.cert_file`, to \
                 authenticate)"
                    .into(),
            );
        }
        let (host, port) = match authority.strip_prefix('[') {
            Some(v6) => {
                let (host, after) = v6
                    .split_once(']')
                    .ok_or_else(|| format!("an IPv6 address without its `]`; {EXPECTED}"))?;
                (host, after.strip_prefix(':'))
            }
            None => match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            },
        };
        if host.is_empty() {
            return Err(format!("no host; {EXPECTED}"));
        }
        let port = match port {
            None => DEFAULT_PORT,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|&p| p > 0)
                .ok_or_else(|| format!("`{p}` is not a port (1-65535); {EXPECTED}"))?,
        };
        Ok(Address {
            host: host.to_string(),
            port,
            tls,
        })
    }

    /// `host:port`, or the socket's path: how counts and messages name the server.
    pub fn name(&self) -> String {
        if self.port == 0 {
            self.host.clone()
        } else if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_read_with_their_defaults() {
        let a = Address::parse("memcache://127.0.0.1").unwrap();
        assert_eq!(
            (a.host.as_str(), a.port, a.tls),
            ("127.0.0.1", 11211, false)
        );
        let a = Address::parse("memcaches://cache.example:11300").unwrap();
        assert_eq!(
            (a.host.as_str(), a.port, a.tls),
            ("cache.example", 11300, true)
        );
        let a = Address::parse("memcache://[::1]:11212").unwrap();
        assert_eq!((a.name().as_str(), a.port), ("[::1]:11212", 11212));
        let a = Address::parse("unix:///run/memcached.sock").unwrap();
        assert_eq!((a.host.as_str(), a.port), ("/run/memcached.sock", 0));
    }

    #[test]
    fn bad_urls_say_what_was_expected_and_never_repeat_a_password() {
        let e = Address::parse("memcache://bob:s3cret@127.0.0.1:11211").unwrap_err();
        assert!(e.contains("SASL") && !e.contains("s3cret"), "{e}");
        let e = Address::parse("redis://127.0.0.1").unwrap_err();
        assert!(e.contains("unknown scheme `redis`"), "{e}");
        let e = Address::parse("memcache://127.0.0.1:99999").unwrap_err();
        assert!(e.contains("`99999` is not a port"), "{e}");
        assert!(Address::parse("unix://relative.sock").is_err());
    }
}
