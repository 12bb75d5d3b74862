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

/// `text` with the password of every URL in it replaced by `***`: for text that merely contains
/// URLs, such as a scenario file's line echoed under an error message. A URL ends at white
/// space or a quote.
pub fn redact_urls_in(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        // The URL starts at its scheme: the letters, digits and `+.-` just before `://`.
        let start = rest[..at]
            .char_indices()
            .rev()
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || "+.-".contains(c)))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let end = rest[at..]
            .find(|c: char| c.is_whitespace() || "\"'`".contains(c))
            .map_or(rest.len(), |i| at + i);
        out.push_str(&rest[..start]);
        out.push_str(&redact_url(&rest[start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::{redact_url, redact_urls_in};

    #[test]
    fn passwords_in_free_text_are_redacted() {
        assert_eq!(
            redact_urls_in(r#"  - { name: l2, kind: redis, url: "redis://:s3cret@h:6379/0" }"#),
            r#"  - { name: l2, kind: redis, url: "redis://:***@h:6379/0" }"#
        );
        assert_eq!(
            redact_urls_in("url: postgres://bob:pw@db/x and mysql://root@h/t"),
            "url: postgres://bob:***@db/x and mysql://root@h/t"
        );
        assert_eq!(redact_urls_in("no url here"), "no url here");
        // Text before a URL's scheme may be any characters (found by tests/fuzz_inputs.rs).
        assert_eq!(
            redact_urls_in("url: Ὅ.\\KῙredis://:pw@127.0.0.1:1/0Q,*"),
            "url: Ὅ.\\KῙredis://:***@127.0.0.1:1/0Q,*"
        );
    }

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
