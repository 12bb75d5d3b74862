//! `TierError`: how a tier fails, during setup or an operation.
//!
//! A file of its own so the tier kinds (`memory`, `redis`, `sql`) can name it without importing
//! `tier/mod.rs`, which imports them for the `Tier` enum: imports between files run one way.
//! `tier::TierError` re-exports it for the stages above.

use thiserror::Error;

/// A failure of a tier, during setup or an operation.
#[derive(Debug, Error)]
pub enum TierError {
    /// The tier could not be set up (unreachable server, bad table, ...).
    #[error("tier `{tier}` ({url}): {message}")]
    Setup {
        /// Tier name.
        tier: String,
        /// Where it lives, password redacted.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// One operation failed.
    #[error("{0}")]
    Operation(String),
}

/// A sqlx error as a message. What the database server said is quoted as the server's, with
/// its SQLSTATE (or MariaDB/MySQL error number), and nothing else of the server's: PostgreSQL's
/// `at line 948` is the line of its own C source that raised the error, which read as if it
/// were a line of the scenario.
pub fn sql_message(e: &sqlx::Error) -> String {
    let sqlx::Error::Database(db) = e else {
        return e.to_string();
    };
    if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        let mut out = format!(
            "PostgreSQL said: {:?} (SQLSTATE {})",
            pg.message(),
            pg.code()
        );
        if let Some(detail) = pg.detail() {
            out.push_str(&format!("; detail: {detail:?}"));
        }
        if let Some(hint) = pg.hint() {
            out.push_str(&format!("; its hint: {hint:?}"));
        }
        return out;
    }
    if let Some(my) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        let state = my
            .code()
            .map(|c| format!(", SQLSTATE {c}"))
            .unwrap_or_default();
        return format!(
            "MariaDB/MySQL said: {:?} (error {}{state})",
            my.message(),
            my.number()
        );
    }
    let code = db
        .code()
        .map(|c| format!(" (code {c})"))
        .unwrap_or_default();
    format!("SQLite said: {:?}{code}", db.message())
}

/// A Redis error as a message: an error reply is quoted as the server's (`Redis said: "ERR
/// ..."`); a failure on tierbench's side (a refused connection, a timeout) reads as it is.
pub fn redis_message(e: &redis::RedisError) -> String {
    match (e.kind(), e.code()) {
        (redis::ErrorKind::Server(_) | redis::ErrorKind::Extension, Some(code)) => {
            let said = match e.detail() {
                Some(detail) => format!("{code} {detail}"),
                None => code.to_string(),
            };
            format!("Redis said: {said:?}")
        }
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_that_are_not_the_servers_read_as_they_are() {
        let e = sqlx::Error::PoolTimedOut;
        assert_eq!(sql_message(&e), e.to_string());
        let io = redis::RedisError::from(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "Connection refused",
        ));
        assert!(
            !redis_message(&io).contains("said"),
            "{}",
            redis_message(&io)
        );
    }
}
