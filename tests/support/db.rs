//! One of the three SQL servers behind one type, for tests that plant a table, run tierbench and
//! look at the table afterwards.

use sqlx::AssertSqlSafe;

/// A connection to one of the three SQL servers.
pub enum Db {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
    MySql(sqlx::MySqlPool),
}

impl Db {
    pub async fn execute(&self, statement: String) {
        macro_rules! on {
            ($p:expr) => {
                sqlx::query(AssertSqlSafe(statement))
                    .execute($p)
                    .await
                    .map(drop)
            };
        }
        match self {
            Db::Sqlite(p) => on!(p),
            Db::Postgres(p) => on!(p),
            Db::MySql(p) => on!(p),
        }
        .unwrap();
    }

    pub async fn count(&self, statement: String) -> i64 {
        macro_rules! on {
            ($p:expr) => {
                sqlx::query_scalar(AssertSqlSafe(statement))
                    .fetch_one($p)
                    .await
            };
        }
        match self {
            Db::Sqlite(p) => on!(p),
            Db::Postgres(p) => on!(p),
            Db::MySql(p) => on!(p),
        }
        .unwrap()
    }

    /// True when `table` exists.
    pub async fn has_table(&self, table: &str) -> bool {
        let statement = match self {
            Db::Sqlite(_) => {
                format!(
                    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '{table}'"
                )
            }
            Db::Postgres(_) => format!(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = '{table}'"
            ),
            Db::MySql(_) => format!(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = '{table}'"
            ),
        };
        self.count(statement).await > 0
    }

    /// The table as tierbench creates it.
    pub fn create(&self, table: &str) -> String {
        match self {
            Db::Sqlite(_) => format!(
                "CREATE TABLE {table} (k TEXT PRIMARY KEY, v BLOB NOT NULL, expires_at INTEGER)"
            ),
            Db::Postgres(_) => format!(
                "CREATE TABLE {table} (k TEXT COLLATE \"C\" PRIMARY KEY, v BYTEA NOT NULL, expires_at BIGINT)"
            ),
            Db::MySql(_) => format!(
                "CREATE TABLE {table} (k VARBINARY(512) PRIMARY KEY, v LONGBLOB NOT NULL, expires_at BIGINT)"
            ),
        }
    }

    /// A literal of `text`'s bytes as the value column takes it.
    pub fn blob(&self, text: &str) -> String {
        let hex: String = text.bytes().map(|b| format!("{b:02x}")).collect();
        match self {
            Db::Postgres(_) => format!("'\\x{hex}'::bytea"),
            _ => format!("x'{hex}'"),
        }
    }

    /// Every row of `table` (key, value), by key.
    pub async fn rows(&self, table: &str) -> Vec<(String, Vec<u8>)> {
        let statement = format!("SELECT k, v FROM {table} ORDER BY k");
        match self {
            Db::Sqlite(p) => sqlx::query_as(AssertSqlSafe(statement))
                .fetch_all(p)
                .await
                .unwrap(),
            Db::Postgres(p) => sqlx::query_as(AssertSqlSafe(statement))
                .fetch_all(p)
                .await
                .unwrap(),
            Db::MySql(p) => {
                let rows: Vec<(Vec<u8>, Vec<u8>)> = sqlx::query_as(AssertSqlSafe(statement))
                    .fetch_all(p)
                    .await
                    .unwrap();
                rows.into_iter()
                    .map(|(k, v)| (String::from_utf8(k).unwrap(), v))
                    .collect()
            }
        }
    }
}
