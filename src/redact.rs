//! Passwords out of URLs, for every message, log line and result that shows where a tier lives.
//!
//! A leaf module (it imports nothing of the crate) because two stages need it: `tier` when it
//! reports a connection failure, and `scenario` when it records the effective scenario and the
//! overrides applied.

/// A URL with its password replaced by `***`, for messages, logs and results.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_string();
    };
    let userinfo = &rest[..at];
    let user = match userinfo.split_once(':') {
        Some((user, _)) => format!("{user}:***"),
        None => userinfo.to_string(),
    };
    format!("{}{}{}", &url[..scheme_end + 3], user, &rest[at..])
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("redis://:s3cret@127.0.0.1:6379/0"),
            "redis://:***@127.0.0.1:6379/0"
        );
        assert_eq!(
            redact_url("postgres://bob:pa:ss@db/x?sslmode=disable"),
            "postgres://bob:***@db/x?sslmode=disable"
        );
        assert_eq!(
            redact_url("mysql://root@127.0.0.1/test"),
            "mysql://root@127.0.0.1/test"
        );
        assert_eq!(redact_url("sqlite::memory:"), "sqlite::memory:");
    }
}
