//! Whether an existing table can hold tierbench's rows: its columns are tierbench's, and its key
//! column tells keys apart byte for byte, as a cache does.
//!
//! Why the key column matters: a key column whose comparison ignores case (MariaDB's default
//! collations for `VARCHAR`, PostgreSQL's `citext`, SQLite's `COLLATE NOCASE`) or trailing spaces
//! (MariaDB's `PAD SPACE` collations, `_bin` ones included; `CHAR(n)`) makes `tb:1` and `TB:1` one
//! row. Hit rates are then wrong, and worse, tierbench's write of `tb:1` replaces the value of a
//! user's row `TB:1`: an upsert keeps the row's own key, so the cleanup by prefix (byte-exact)
//! never finds it and the user's value is lost. Such a table is refused before anything is
//! written; a table tierbench creates always has a byte-exact key (`sql_text::create_table`).

use sqlx::{MySqlPool, PgPool, SqlitePool};

use std::future::Future;

use crate::tier::ownership::marker::SQL_MARKER_KEY;
use crate::tier::sql::text::{columns_query, marker_queries};

/// What setup found under the tier's table name.
pub(in crate::tier) enum Existing {
    /// No such table: tierbench creates it.
    Absent,
    /// tierbench's columns and a byte-exact key: used as it is.
    Fits,
    /// Not usable: why, and what to do.
    Refused(String),
}

/// Defines `inspect_*`: what setup finds under the table name in one dialect (the same steps
/// for each pool type: the columns, the key column, the marker row).
macro_rules! inspect {
    ($(#[$doc:meta])* $name:ident, $pool:ty, $dialect:literal, $loose:ident) => {
        $(#[$doc])*
        pub(in crate::tier) async fn $name(pool: &$pool, table: &str) -> Result<Existing, sqlx::Error> {
            let columns = sqlx::query_scalar(columns_query($dialect))
                .bind(table)
                .fetch_all(pool)
                .await?;
            let marked = || async move {
                let found: Option<Vec<u8>> =
                    sqlx::query_scalar(marker_queries($dialect, table).read)
                        .bind(SQL_MARKER_KEY)
                        .fetch_optional(pool)
                        .await?;
                Ok(found.is_some())
            };
            decide(table, $dialect, &columns, || $loose(pool, table), marked).await
        }
    };
}

inspect!(
    /// The table `table` of a SQLite database.
    inspect_sqlite, SqlitePool, "sqlite", loose_key_sqlite
);
inspect!(
    /// The table `table` of a PostgreSQL database (resolved as the statements resolve it).
    inspect_postgres, PgPool, "postgres", loose_key_postgres
);
inspect!(
    /// The table `table` of a MariaDB/MySQL database (the connection's database).
    inspect_mysql, MySqlPool, "mysql", loose_key_mysql
);

/// `Absent` for no columns, `Refused` for columns (as the database names them) other than
/// tierbench's `k`, `v`, `expires_at`; `None` when they are tierbench's.
fn shape(table: &str, columns: &[String]) -> Option<Existing> {
    if columns.is_empty() {
        return Some(Existing::Absent);
    }
    let mut found: Vec<String> = columns.iter().map(|c| c.to_ascii_lowercase()).collect();
    found.sort();
    (found != ["expires_at", "k", "v"]).then(|| {
        Existing::Refused(format!(
            "table `{table}` exists with columns ({}), not tierbench's (k, v, expires_at); \
             tierbench will not use it. Choose another `table:`",
            columns.join(", ")
        ))
    })
}

/// What to make of `table`: its `columns`, then (when they are tierbench's) its key column, as
/// `loose` describes it (`None`: byte-exact); `marked` tells a refused table that carries
/// tierbench's marker row (an interrupted run of an earlier tierbench created it).
async fn decide<F, G>(
    table: &str,
    dialect: &str,
    columns: &[String],
    loose: impl FnOnce() -> F,
    marked: impl FnOnce() -> G,
) -> Result<Existing, sqlx::Error>
where
    F: Future<Output = Result<Option<String>, sqlx::Error>>,
    G: Future<Output = Result<bool, sqlx::Error>>,
{
    if let Some(found) = shape(table, columns) {
        return Ok(found);
    }
    let Some(why) = loose().await? else {
        return Ok(Existing::Fits);
    };
    let mut refusal = loose_key_refusal(table, dialect, &why);
    if marked().await? {
        refusal.push_str(&format!(
            ". The table carries tierbench's marker row: an interrupted run of an earlier \
             tierbench created it, and dropping it (DROP TABLE {table}) loses nothing of yours \
             unless you added rows to it"
        ));
    }
    Ok(Existing::Refused(refusal))
}

/// The refusal of `table`, whose key column compares as `why` says.
fn loose_key_refusal(table: &str, dialect: &str, why: &str) -> String {
    let fix = match dialect {
        "mysql" => format!("ALTER TABLE {table} MODIFY k VARBINARY(512) NOT NULL"),
        "postgres" => format!("ALTER TABLE {table} ALTER COLUMN k TYPE TEXT COLLATE \"C\""),
        _ => "a table whose `k` has no COLLATE clause (SQLite compares BINARY by default)".into(),
    };
    format!(
        "table `{table}`: its key column `k` is {why}, so keys that differ only there would be one \
         row: hit rates would be wrong, and a write of tierbench's key could replace the value of \
         a row it does not own. tierbench will not use it. Choose another `table:` (tierbench \
         creates it with a byte-exact key), or make the key byte-exact: {fix}"
    )
}

/// Why MariaDB/MySQL's key column of `table` is not byte-exact, or `None` when it is.
async fn loose_key_mysql(pool: &MySqlPool, table: &str) -> Result<Option<String>, sqlx::Error> {
    let found: Option<(String, String)> = sqlx::query_as(
        "SELECT CAST(data_type AS CHAR), CAST(COALESCE(collation_name, '') AS CHAR) \
         FROM information_schema.columns \
         WHERE table_schema = DATABASE() AND table_name = ? AND column_name = 'k'",
    )
    .bind(table)
    .fetch_optional(pool)
    .await?;
    Ok(found.and_then(|(data_type, collation)| mysql_verdict(&data_type, &collation)))
}

fn mysql_verdict(data_type: &str, collation: &str) -> Option<String> {
    let data_type = data_type.to_ascii_lowercase();
    let collation = collation.to_ascii_lowercase();
    let binary_type = matches!(
        data_type.as_str(),
        "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob"
    );
    // NO PAD binary collations: MariaDB's `*_nopad_bin`, MySQL 8's `utf8mb4_0900_bin`.
    let exact_collation = collation.ends_with("_nopad_bin") || collation.ends_with("_0900_bin");
    if binary_type || exact_collation {
        return None;
    }
    Some(if collation.is_empty() {
        format!(
            "{}, which pads or compares other than byte for byte",
            data_type.to_uppercase()
        )
    } else if collation.ends_with("_bin") {
        format!(
            "{} with collation {collation}, which ignores trailing spaces",
            data_type.to_uppercase()
        )
    } else {
        format!(
            "{} with collation {collation}, which ignores case (and trailing spaces)",
            data_type.to_uppercase()
        )
    })
}

/// Why PostgreSQL's key column of `table` is not byte-exact, or `None` when it is.
async fn loose_key_postgres(pool: &PgPool, table: &str) -> Result<Option<String>, sqlx::Error> {
    let found: Option<(String, bool, String)> = sqlx::query_as(
        "SELECT format_type(a.atttypid, a.atttypmod), COALESCE(c.collisdeterministic, true), \
         COALESCE(c.collname::TEXT, '') \
         FROM pg_attribute a LEFT JOIN pg_collation c ON c.oid = a.attcollation \
         WHERE a.attrelid = to_regclass($1) AND a.attname = 'k' AND NOT a.attisdropped",
    )
    .bind(table)
    .fetch_optional(pool)
    .await?;
    Ok(found.and_then(|(type_name, deterministic, collation)| {
        postgres_verdict(&type_name, deterministic, &collation)
    }))
}

fn postgres_verdict(type_name: &str, deterministic: bool, collation: &str) -> Option<String> {
    let exact_type =
        type_name == "text" || type_name == "bytea" || type_name.starts_with("character varying");
    if !exact_type {
        return Some(format!(
            "of type {type_name}, which compares other than byte for byte (citext ignores case, \
             character(n) trailing spaces)"
        ));
    }
    (!deterministic).then(|| {
        format!(
            "{type_name} with the nondeterministic collation {collation}, which may ignore case"
        )
    })
}

/// Why SQLite's key column of `table` is not byte-exact, or `None` when it is: SQLite compares
/// BINARY unless the column declares another collation (`NOCASE`, `RTRIM`).
async fn loose_key_sqlite(pool: &SqlitePool, table: &str) -> Result<Option<String>, sqlx::Error> {
    let declared: Option<String> =
        sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?")
            .bind(table)
            .fetch_optional(pool)
            .await?;
    Ok(declared.as_deref().and_then(sqlite_verdict))
}

fn sqlite_verdict(create: &str) -> Option<String> {
    let upper = create.to_ascii_uppercase();
    let mut rest = sqlite_key_definition(&upper)?;
    while let Some(at) = rest.find("COLLATE") {
        rest = &rest[at + "COLLATE".len()..];
        let name: String = rest
            .trim_start()
            .trim_start_matches(['"', '\'', '`', '['])
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if name != "BINARY" {
            return Some(format!(
                "declared with COLLATE {name}, which compares other than byte for byte"
            ));
        }
    }
    None
}

/// The definition of column `K` in an upper-cased `CREATE TABLE` statement (the text between the
/// commas around it, at the column list's depth).
fn sqlite_key_definition(create: &str) -> Option<&str> {
    let open = create.find('(')?;
    let (mut depth, mut start) = (0usize, open + 1);
    for (i, c) in create.char_indices().skip_while(|(i, _)| *i <= open) {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            ',' | ')' if depth == 0 => {
                let part = create[start..i].trim_start();
                let name = part
                    .trim_start_matches(['"', '\'', '`', '['])
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .next();
                if name == Some("K") {
                    return Some(part);
                }
                if c == ')' {
                    return None;
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql_accepts_binary_types_and_no_pad_binary_collations_only() {
        assert_eq!(mysql_verdict("varbinary", ""), None);
        assert_eq!(mysql_verdict("LONGBLOB", ""), None);
        assert_eq!(mysql_verdict("varchar", "utf8mb4_nopad_bin"), None);
        assert_eq!(mysql_verdict("varchar", "utf8mb4_0900_bin"), None);
        let ci = mysql_verdict("varchar", "utf8mb4_general_ci").unwrap();
        assert!(ci.contains("ignores case"), "{ci}");
        let bin = mysql_verdict("varchar", "utf8mb4_bin").unwrap();
        assert!(bin.contains("trailing spaces"), "{bin}");
        assert!(
            mysql_verdict("binary", "").is_some(),
            "BINARY(n) pads with zero bytes"
        );
    }

    #[test]
    fn postgres_accepts_text_with_a_deterministic_collation() {
        assert_eq!(postgres_verdict("text", true, "C"), None);
        assert_eq!(
            postgres_verdict("character varying(512)", true, "default"),
            None
        );
        assert_eq!(postgres_verdict("bytea", true, ""), None);
        assert!(postgres_verdict("citext", true, "default").is_some());
        assert!(postgres_verdict("character(20)", true, "default").is_some());
        assert!(postgres_verdict("text", false, "und_ci").is_some());
    }

    #[test]
    fn sqlite_refuses_any_collation_but_binary() {
        assert_eq!(
            sqlite_verdict("CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB, expires_at INTEGER)"),
            None
        );
        assert_eq!(
            sqlite_verdict("CREATE TABLE t (k TEXT COLLATE binary PRIMARY KEY, v BLOB)"),
            None
        );
        let nocase = sqlite_verdict("CREATE TABLE t (k TEXT COLLATE NoCase PRIMARY KEY)").unwrap();
        assert!(nocase.contains("NOCASE"), "{nocase}");
        assert!(sqlite_verdict("CREATE TABLE t (v BLOB, \"k\" TEXT COLLATE \"RTRIM\")").is_some());
        // Another column's collation is not the key's.
        assert_eq!(
            sqlite_verdict("CREATE TABLE t (note TEXT COLLATE NOCASE, k TEXT, v BLOB(10))"),
            None
        );
    }
}
