//! Statements that run unchanged on both backends.
//!
//! The SQL of this crate is portable (`$n` parameters, `ON CONFLICT`, `RETURNING`), and so is
//! the code that runs it: it is written once, generic over [`Db`], and compiled for SQLite and
//! for PostgreSQL. sqlx's own generic API would need a bound per bound value and per decoded
//! row type on every function (`i64: Encode<'q, DB> + Type<DB>`, `&mut DB::Connection:
//! Executor`, …), which Rust does not imply from a trait. Here the bounds are stated once:
//! a [`Value`] encodes on both backends, a [`Record`] decodes from both, and [`Db`] runs a
//! [`Statement`] on a connection of either, through sqlx's ordinary typed queries (prepared
//! and cached as usual: nothing is converted at run time, unlike sqlx's `Any` driver).

use std::future::Future;

use sqlx::error::BoxDynError;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Arguments as _, Database, Encode, FromRow, Pool, Postgres, Sqlite, Type};

/// A value bound to a statement: encodable on both backends. (`'q` is sqlx's lifetime of
/// borrowed arguments; sqlx copies them, but `Option<&str>` still needs one.)
pub(crate) trait Value<'q>:
    Encode<'q, Sqlite> + Type<Sqlite> + Encode<'q, Postgres> + Type<Postgres> + Send
{
}

impl<'q, T> Value<'q> for T where
    T: Encode<'q, Sqlite> + Type<Sqlite> + Encode<'q, Postgres> + Type<Postgres> + Send
{
}

/// A row read by a statement (a `FromRow` struct, or a tuple for scalars): decodable from both
/// backends.
pub(crate) trait Record:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static
{
}

impl<T> Record for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static
{
}

/// The connection statements run on (a transaction's, or one taken from the pool).
pub(crate) type Conn<DB> = <DB as Database>::Connection;

/// A backend's database, as the shared code runs statements on it.
pub(crate) trait Db: Database {
    /// Appends `value` to `args`.
    fn add<'q, T: Value<'q>>(args: &mut Self::Arguments, value: T) -> Result<(), BoxDynError>;

    /// Runs `statement`; how many rows it changed.
    fn execute(
        conn: &mut Conn<Self>,
        statement: Statement<Self>,
    ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send;

    /// The first row (an error when there is none).
    fn fetch_one<O: Record>(
        conn: &mut Conn<Self>,
        statement: Statement<Self>,
    ) -> impl Future<Output = Result<O, sqlx::Error>> + Send;

    /// The first row, if any.
    fn fetch_optional<O: Record>(
        conn: &mut Conn<Self>,
        statement: Statement<Self>,
    ) -> impl Future<Output = Result<Option<O>, sqlx::Error>> + Send;

    /// Every row.
    fn fetch_all<O: Record>(
        conn: &mut Conn<Self>,
        statement: Statement<Self>,
    ) -> impl Future<Output = Result<Vec<O>, sqlx::Error>> + Send;

    /// Applies the backend's embedded migrations.
    fn migrate(
        pool: &Pool<Self>,
    ) -> impl Future<Output = Result<(), sqlx::migrate::MigrateError>> + Send;
}

/// The same code for both: only the types differ, which sqlx needs concrete.
macro_rules! db {
    ($db:ty, $backend:expr) => {
        impl Db for $db {
            fn add<'q, T: Value<'q>>(
                args: &mut Self::Arguments,
                value: T,
            ) -> Result<(), BoxDynError> {
                args.add(value)
            }

            async fn execute(
                conn: &mut Conn<Self>,
                s: Statement<Self>,
            ) -> Result<u64, sqlx::Error> {
                let done = sqlx::query_with(s.sql, s.args.map_err(sqlx::Error::Encode)?)
                    .execute(conn)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn fetch_one<O: Record>(
                conn: &mut Conn<Self>,
                s: Statement<Self>,
            ) -> Result<O, sqlx::Error> {
                sqlx::query_as_with(s.sql, s.args.map_err(sqlx::Error::Encode)?)
                    .fetch_one(conn)
                    .await
            }

            async fn fetch_optional<O: Record>(
                conn: &mut Conn<Self>,
                s: Statement<Self>,
            ) -> Result<Option<O>, sqlx::Error> {
                sqlx::query_as_with(s.sql, s.args.map_err(sqlx::Error::Encode)?)
                    .fetch_optional(conn)
                    .await
            }

            async fn fetch_all<O: Record>(
                conn: &mut Conn<Self>,
                s: Statement<Self>,
            ) -> Result<Vec<O>, sqlx::Error> {
                sqlx::query_as_with(s.sql, s.args.map_err(sqlx::Error::Encode)?)
                    .fetch_all(conn)
                    .await
            }

            async fn migrate(pool: &Pool<Self>) -> Result<(), sqlx::migrate::MigrateError> {
                crate::schema::migrator($backend).run(pool).await
            }
        }
    };
}

db!(Sqlite, crate::Backend::Sqlite);
db!(Postgres, crate::Backend::Postgres);

/// A statement and its arguments, bound one by one as with `sqlx::query(…).bind(…)`; an
/// argument that fails to encode fails the statement when it runs.
pub(crate) struct Statement<DB: Database> {
    sql: &'static str,
    args: Result<DB::Arguments, BoxDynError>,
}

impl<DB: Db> Statement<DB> {
    pub(crate) fn new(sql: &'static str) -> Self {
        Statement {
            sql,
            args: Ok(DB::Arguments::default()),
        }
    }

    /// Binds the next parameter (`$1`, `$2`, … in order).
    pub(crate) fn bind<'q, T: Value<'q>>(mut self, value: T) -> Self {
        if let Ok(args) = &mut self.args
            && let Err(e) = DB::add(args, value)
        {
            self.args = Err(e);
        }
        self
    }

    /// Runs the statement; how many rows it changed.
    pub(crate) async fn execute(self, conn: &mut Conn<DB>) -> Result<u64, sqlx::Error> {
        DB::execute(conn, self).await
    }

    /// The first row (an error when there is none).
    pub(crate) async fn fetch_one<O: Record>(self, conn: &mut Conn<DB>) -> Result<O, sqlx::Error> {
        DB::fetch_one(conn, self).await
    }

    /// The first row, if any.
    pub(crate) async fn fetch_optional<O: Record>(
        self,
        conn: &mut Conn<DB>,
    ) -> Result<Option<O>, sqlx::Error> {
        DB::fetch_optional(conn, self).await
    }

    /// Every row.
    pub(crate) async fn fetch_all<O: Record>(
        self,
        conn: &mut Conn<DB>,
    ) -> Result<Vec<O>, sqlx::Error> {
        DB::fetch_all(conn, self).await
    }

    /// The first column of the first row.
    pub(crate) async fn fetch_scalar<T>(self, conn: &mut Conn<DB>) -> Result<T, sqlx::Error>
    where
        (T,): Record,
    {
        let (value,) = DB::fetch_one(conn, self).await?;
        Ok(value)
    }

    /// The first column of every row.
    pub(crate) async fn fetch_scalars<T>(self, conn: &mut Conn<DB>) -> Result<Vec<T>, sqlx::Error>
    where
        (T,): Record,
    {
        let rows: Vec<(T,)> = DB::fetch_all(conn, self).await?;
        Ok(rows.into_iter().map(|(value,)| value).collect())
    }
}
