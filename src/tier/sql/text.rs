//! The SQL text of each dialect: the tier's statements, its table, the pattern of a prefix.
//!
//! Every statement is built once at setup from a validated table name (an identifier) and fixed
//! text. Counting and clearing the prefix's rows leave the marker row (`marker`) out.

use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr};

use crate::tier::ownership::marker::SQL_MARKER_KEY;

/// The statements of one dialect for one table.
/// Each is built once from a validated table name and asserted safe once; cloning one per
/// operation is a reference-count increment.
pub(in crate::tier) struct Queries {
    pub get: SqlStr,
    pub set: SqlStr,
    pub delete: SqlStr,
    pub touch: SqlStr,
    /// Rows under the prefix's pattern (`prefix_pattern`), the marker row left out.
    pub count: SqlStr,
    /// Deletes the rows under the prefix's pattern, the marker row left out.
    pub delete_prefix: SqlStr,
}

/// The statements setup needs to recognise an interrupted run's table (not kept afterwards).
pub(in crate::tier) struct MarkerQueries {
    /// The value of the row with the given key (the marker's).
    pub read: SqlStr,
    /// Deletes every row but the marker (the leftovers in a table tierbench created).
    pub delete_leftovers: SqlStr,
}

pub(in crate::tier) fn marker_queries(dialect: &str, t: &str) -> MarkerQueries {
    let p1 = if dialect == "postgres" { "$1" } else { "?" };
    MarkerQueries {
        read: sql(format!("SELECT v FROM {t} WHERE k = {p1}")),
        delete_leftovers: sql(format!("DELETE FROM {t} WHERE k <> '{SQL_MARKER_KEY}'")),
    }
}

/// Marks SQL built from a validated identifier (the table name) and fixed text as safe.
pub(in crate::tier) fn sql(text: String) -> SqlStr {
    AssertSqlSafe(std::sync::Arc::<str>::from(text)).into_sql_str()
}

/// The dialect named by a URL's scheme.
pub(in crate::tier) fn dialect(url: &str) -> Option<&'static str> {
    let scheme = url.split(':').next()?;
    match scheme {
        "sqlite" => Some("sqlite"),
        "postgres" | "postgresql" => Some("postgres"),
        "mysql" | "mariadb" => Some("mysql"),
        _ => None,
    }
}

pub(in crate::tier) fn queries(dialect: &str, t: &str) -> Queries {
    let (p1, p2, p3) = if dialect == "postgres" {
        ("$1", "$2", "$3")
    } else {
        ("?", "?", "?")
    };
    let upsert = match dialect {
        "mysql" => format!(
            "INSERT INTO {t} (k, v, expires_at) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE v = VALUES(v), expires_at = VALUES(expires_at)"
        ),
        _ => format!(
            "INSERT INTO {t} (k, v, expires_at) VALUES ({p1}, {p2}, {p3}) ON CONFLICT (k) DO UPDATE SET v = excluded.v, expires_at = excluded.expires_at"
        ),
    };
    // Keys are bytes: the prefix's rows are matched case- and byte-exactly in every dialect,
    // also in a table tierbench did not create (a case-insensitive collation must not let
    // `TB:x` pass for `tb:`): PostgreSQL's LIKE is case-sensitive, MySQL's compares bytes
    // against a BINARY pattern (its escape is `\` already), and SQLite's GLOB is
    // case-sensitive where its LIKE is not (`prefix_pattern` escapes for each).
    let under = match dialect {
        "postgres" => format!("k LIKE {p1} ESCAPE '\\'"),
        "mysql" => format!("k LIKE BINARY {p1}"),
        _ => format!("k GLOB {p1}"),
    };
    Queries {
        get: sql(format!(
            "SELECT v FROM {t} WHERE k = {p1} AND (expires_at IS NULL OR expires_at > {p2})"
        )),
        set: sql(upsert),
        delete: sql(format!("DELETE FROM {t} WHERE k = {p1}")),
        touch: sql(format!("UPDATE {t} SET expires_at = {p1} WHERE k = {p2}")),
        count: sql(format!(
            "SELECT COUNT(*) FROM {t} WHERE {under} AND k <> '{SQL_MARKER_KEY}'"
        )),
        delete_prefix: sql(format!(
            "DELETE FROM {t} WHERE {under} AND k <> '{SQL_MARKER_KEY}'"
        )),
    }
}

/// The table tierbench creates. Keys compare as bytes, as a cache's keys do (Redis' and the
/// in-process tiers'): PostgreSQL's `COLLATE "C"` (no locale rules, and a LIKE prefix can use
/// the index), MySQL's VARBINARY (its default collations ignore case and trailing spaces, so
/// `User:1` and `user:1` would be one row), SQLite's TEXT (BINARY collation).
pub(in crate::tier) fn create_table(dialect: &str, t: &str) -> String {
    match dialect {
        "postgres" => format!(
            "CREATE TABLE {t} (k TEXT COLLATE \"C\" PRIMARY KEY, v BYTEA NOT NULL, expires_at BIGINT)"
        ),
        "mysql" => format!(
            "CREATE TABLE {t} (k VARBINARY(512) PRIMARY KEY, v LONGBLOB NOT NULL, expires_at BIGINT)"
        ),
        _ => format!("CREATE TABLE {t} (k TEXT PRIMARY KEY, v BLOB NOT NULL, expires_at INTEGER)"),
    }
}

pub(in crate::tier) fn columns_query(dialect: &str) -> &'static str {
    match dialect {
        "postgres" => {
            // The table the statements will use: the name resolved as they resolve it (unquoted:
            // folded to lower case, looked up along the search path).
            "SELECT attname::TEXT FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped"
        }
        "mysql" => {
            "SELECT CAST(column_name AS CHAR) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ?"
        }
        _ => "SELECT name FROM pragma_table_info(?)",
    }
}

/// The pattern matching `prefix` literally, then anything, in the dialect's prefix condition
/// (see `queries`): SQLite's GLOB (`*`, `?` and `[` escaped as one-character classes), else LIKE
/// (`\` escapes).
pub(in crate::tier) fn prefix_pattern(dialect: &str, prefix: &str) -> String {
    let mut out = String::new();
    for c in prefix.chars() {
        match (dialect, c) {
            ("sqlite", '*' | '?' | '[') => {
                out.push('[');
                out.push(c);
                out.push(']');
                continue;
            }
            ("sqlite", _) => {}
            (_, '%' | '_' | '\\') => out.push('\\'),
            _ => {}
        }
        out.push(c);
    }
    out.push(if dialect == "sqlite" { '*' } else { '%' });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialects_come_from_the_scheme() {
        assert_eq!(dialect("sqlite::memory:"), Some("sqlite"));
        assert_eq!(dialect("postgres://u@h/db"), Some("postgres"));
        assert_eq!(dialect("mysql://root@h/test"), Some("mysql"));
        assert_eq!(dialect("oracle://x"), None);
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(prefix_pattern("postgres", "tb:"), "tb:%");
        assert_eq!(prefix_pattern("mysql", "a_b%"), "a\\_b\\%%");
        assert_eq!(prefix_pattern("sqlite", "a_b%"), "a_b%*");
        assert_eq!(prefix_pattern("sqlite", "k*[1]?"), "k[*][[]1][?]*");
    }
}
