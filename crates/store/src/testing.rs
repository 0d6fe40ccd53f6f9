//! A real PostgreSQL for tests (feature `testing`).
//!
//! Store tests run the same bodies against SQLite and PostgreSQL. This module provides the
//! PostgreSQL side, for this crate's tests and for other crates' (the server's):
//!
//! - with `CHARTIMPACT_TEST_POSTGRES_URL` set, that server is used (the URL's user must be
//!   allowed to create databases; the `chartimpact_test_*` databases are left behind, so
//!   point it at a throwaway server);
//! - otherwise `initdb` and `pg_ctl` are looked up on `PATH`, then under
//!   `/usr/lib/postgresql/*/bin` (newest first), and a throwaway cluster is started in a
//!   temporary directory, listening on a free loopback port and a socket in that directory,
//!   with trust authentication for user `postgres`. PostgreSQL refuses to run as root, so as
//!   root the cluster is run as the `postgres` user through `runuser`.
//!
//! [`postgres`] shares one cluster per test process (it is stopped with
//! `pg_ctl stop -m immediate` and removed when the process exits); each test takes its own
//! database from [`TempPostgres::fresh_database`]. When no PostgreSQL is available it reports
//! `PostgreSQL tests skipped: <reason>` on stderr (once, not captured by the test harness) and
//! returns `None`, unless `CHARTIMPACT_REQUIRE_POSTGRES=1`, which turns the reason into a
//! panic.
//!
//! ```no_run
//! # async fn demo() {
//! if let Some(pg) = store::testing::postgres() {
//!     let url = pg.fresh_database().await;
//!     let store = store::open(&url, &store::OpenOptions::default()).await.unwrap();
//!     store.ping().await.unwrap();
//! }
//! # }
//! ```

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{AssertSqlSafe, Connection as _, PgConnection};

use crate::url::{self, Target};
use crate::{Backend, OpenOptions, StoreError, postgres, redact_url, schema, sqlite};

/// The URL of an existing server to test against instead of starting one.
pub const URL_ENV: &str = "CHARTIMPACT_TEST_POSTGRES_URL";
/// Set to `1` to fail, rather than skip, when no PostgreSQL is available.
pub const REQUIRE_ENV: &str = "CHARTIMPACT_REQUIRE_POSTGRES";

/// A PostgreSQL server for tests: a cluster started for them or the server named by
/// [`URL_ENV`].
#[derive(Debug)]
pub struct TempPostgres {
    url: String,
    cluster: Option<Cluster>,
}

#[derive(Debug)]
struct Cluster {
    /// Holds `data/`, the socket and the log.
    dir: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
}

impl TempPostgres {
    /// Uses [`URL_ENV`] when set, otherwise starts a cluster (stopped when this is dropped).
    pub fn start() -> Result<TempPostgres, String> {
        if let Ok(url) = std::env::var(URL_ENV)
            && !url.trim().is_empty()
        {
            return match url::parse(&url) {
                Ok(Target::Postgres(_)) => Ok(TempPostgres {
                    url: url.trim().to_owned(),
                    cluster: None,
                }),
                _ => Err(format!(
                    "{URL_ENV} is not a postgres:// url: {}",
                    redact_url(&url)
                )),
            };
        }
        Cluster::start()
    }

    /// The URL of the server's `postgres` database (for administration).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether this is an external server ([`URL_ENV`]) rather than a cluster of our own.
    pub fn is_external(&self) -> bool {
        self.cluster.is_none()
    }

    /// Creates a new, uniquely named, empty database and returns its URL.
    ///
    /// # Panics
    ///
    /// When the database cannot be created (a test helper: the test cannot go on).
    pub async fn fresh_database(&self) -> String {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "chartimpact_test_{}_{}_{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let redacted = redact_url(&self.url);
        let mut conn = PgConnection::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to test postgres {redacted}: {e}"));
        // The name is ours (digits and underscores); template0 is never in use by others.
        sqlx::query(AssertSqlSafe(format!(
            "CREATE DATABASE {name} TEMPLATE template0"
        )))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("cannot create database {name} on {redacted}: {e}"));
        let _ = conn.close().await;
        with_database(&self.url, &name)
    }
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        if let Some(cluster) = &self.cluster {
            let _ = cluster.pg_ctl(&["stop", "-m", "immediate"]).output();
            let _ = std::fs::remove_dir_all(&cluster.dir);
        }
    }
}

/// The PostgreSQL shared by all tests of this process, started on first use; `None` (after
/// reporting why, once) when there is none and [`REQUIRE_ENV`] is not `1`.
///
/// # Panics
///
/// When no PostgreSQL is available and [`REQUIRE_ENV`] is `1`.
pub fn postgres() -> Option<&'static TempPostgres> {
    match shared() {
        Ok(pg) => Some(pg),
        Err(reason) => {
            if std::env::var(REQUIRE_ENV).is_ok_and(|v| v.trim() == "1") {
                panic!("PostgreSQL tests cannot run ({REQUIRE_ENV}=1): {reason}");
            }
            let message = format!("PostgreSQL tests skipped: {reason}");
            static REPORTED: OnceLock<()> = OnceLock::new();
            REPORTED.get_or_init(|| {
                // Straight to stderr: the test harness captures eprintln! of passing tests.
                let _ = writeln!(std::io::stderr().lock(), "{message}");
            });
            None
        }
    }
}

/// The process-wide [`TempPostgres`], or why there is none.
///
/// A static is never dropped, so a started cluster is stopped by a small watchdog process
/// once this process has exited.
pub fn shared() -> Result<&'static TempPostgres, String> {
    static SHARED: OnceLock<Result<TempPostgres, String>> = OnceLock::new();
    SHARED
        .get_or_init(|| {
            let pg = TempPostgres::start()?;
            if let Some(cluster) = &pg.cluster {
                cluster.watch(std::process::id())?;
            }
            Ok(pg)
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// The versions of the embedded migrations, oldest first (the same for both backends).
pub fn migration_versions() -> Vec<i64> {
    schema::migrator(Backend::Sqlite)
        .iter()
        .map(|m| m.version)
        .collect()
}

/// Applies the embedded migrations up to and including `version` to the database at `url`
/// (creating a SQLite file if needed), as an older release of the server would have.
pub async fn migrate_to(url: &str, version: i64) -> Result<(), StoreError> {
    let options = OpenOptions::default();
    match url::parse(url)? {
        Target::Sqlite(path) => {
            let pool = sqlite::connect(&path, &options).await?;
            let result = schema::migrator(Backend::Sqlite)
                .run_to(version, &pool)
                .await;
            pool.close().await;
            result
        }
        Target::Postgres(connect) => {
            let pool = postgres::connect(*connect, &options).await?;
            let result = schema::migrator(Backend::Postgres)
                .run_to(version, &pool)
                .await;
            pool.close().await;
            result
        }
    }
    .map_err(|source| StoreError::Migrate {
        backend: Backend::from_url(url).unwrap_or(Backend::Sqlite),
        source,
    })
}

/// `url` with its database (path) replaced by `database`, query kept.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{database}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

impl Cluster {
    fn start() -> Result<TempPostgres, String> {
        let bin = find_bin_dir()?;
        let as_postgres = running_as_root();
        if as_postgres {
            which("runuser").ok_or(
                "running as root (PostgreSQL refuses to) and `runuser` is not on PATH \
                 to run it as the postgres user",
            )?;
            let known = Command::new("id")
                .args(["-u", "postgres"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if !known {
                return Err("running as root (PostgreSQL refuses to) and there is no \
                            `postgres` user to run it as"
                    .into());
            }
        }

        static SEQ: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "chartimpact-pg-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let cluster = Cluster {
            dir,
            bin,
            as_postgres,
        };
        // From here on, dropping `pg` stops whatever was started and removes the directory.
        let mut pg = TempPostgres {
            url: String::new(),
            cluster: Some(cluster),
        };
        let cluster = pg.cluster.as_ref().expect("just set");
        if as_postgres {
            let status = Command::new("chown")
                .args(["postgres:", "--"])
                .arg(&cluster.dir)
                .status()
                .map_err(|e| format!("cannot run chown: {e}"))?;
            if !status.success() {
                return Err(format!(
                    "cannot chown {} to postgres",
                    cluster.dir.display()
                ));
            }
        }
        let data = cluster.dir.join("data");
        let out = cluster
            .command("initdb")
            .arg("-D")
            .arg(&data)
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ])
            .output()
            .map_err(|e| format!("cannot run initdb: {e}"))?;
        if !out.status.success() {
            return Err(format!("initdb failed: {}", tail(&out.stderr)));
        }

        let mut last_error = String::new();
        let mut started = None;
        // A free port can be taken between choosing and binding it: try a few.
        for _ in 0..3 {
            let port = free_port()?;
            let server_options = format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off \
                 -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
                cluster.dir.display()
            );
            let log = cluster.dir.join("log");
            let out = cluster
                .pg_ctl(&["-w", "-t", "60", "-o", &server_options, "-l"])
                .arg(&log)
                .arg("start")
                .output()
                .map_err(|e| format!("cannot run pg_ctl: {e}"))?;
            if out.status.success() {
                started = Some(port);
                break;
            }
            let log_text = std::fs::read(&log).unwrap_or_default();
            last_error = format!(
                "pg_ctl start failed: {} {}",
                tail(&out.stderr),
                tail(&log_text)
            );
        }
        let port = started.ok_or(last_error)?;
        pg.url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
        Ok(pg)
    }

    /// `bin/<program>`, run as the postgres user when we are root.
    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        command.current_dir(&self.dir).stdin(Stdio::null());
        command
    }

    /// `pg_ctl -D <data> <args>`.
    fn pg_ctl(&self, args: &[&str]) -> Command {
        let mut command = self.command("pg_ctl");
        command.arg("-D").arg(self.dir.join("data")).args(args);
        command
    }

    /// Starts a watchdog that stops the cluster and removes its directory once `pid` exits.
    fn watch(&self, pid: u32) -> Result<(), String> {
        use std::os::unix::process::CommandExt as _;
        let stop = self.pg_ctl(&["stop", "-m", "immediate"]);
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(
                "pid=$1; dir=$2; shift 2; \
                 while kill -0 \"$pid\" 2>/dev/null; do sleep 1; done; \
                 \"$@\" >/dev/null 2>&1; rm -rf \"$dir\"",
            )
            .arg("chartimpact-pg-watchdog")
            .arg(pid.to_string())
            .arg(&self.dir)
            .arg(stop.get_program())
            .args(stop.get_args())
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group: a Ctrl-C to the test run must not kill it first.
            .process_group(0);
        command
            .spawn()
            .map(drop)
            .map_err(|e| format!("cannot start the cluster watchdog: {e}"))
    }
}

/// The directory holding `initdb` and `pg_ctl`.
fn find_bin_dir() -> Result<PathBuf, String> {
    if let Some(initdb) = which("initdb")
        && let Some(dir) = initdb.parent()
        && dir.join("pg_ctl").is_file()
    {
        return Ok(dir.to_owned());
    }
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or_else(|| {
        format!(
            "no initdb/pg_ctl on PATH or under /usr/lib/postgresql/*/bin, and {URL_ENV} is not set"
        )
    })
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

fn running_as_root() -> bool {
    // The effective uid is the second field of `Uid:` in /proc/self/status.
    if let Ok(status) = std::fs::read_to_string("/proc/self/status")
        && let Some(line) = status.lines().find(|l| l.starts_with("Uid:"))
    {
        return line.split_whitespace().nth(2) == Some("0");
    }
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("cannot find a free loopback port: {e}"))
}

/// The last few lines of a program's output, on one line.
fn tail(output: &[u8]) -> String {
    let text = String::from_utf8_lossy(output);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(5)..].join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_database_replaces_the_path() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgres://u:p@h/admin?sslmode=disable", "t2"),
            "postgres://u:p@h/t2?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "t3"), "postgres://h/t3");
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail(b"a\n\nb\nc\nd\ne\nf\ng\n"), "c | d | e | f | g");
    }
}
