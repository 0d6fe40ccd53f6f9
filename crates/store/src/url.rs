//! Database URLs: which backend they select, and how to show them without their password.

use std::path::PathBuf;
use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;

use crate::{Backend, StoreError};

/// A parsed database URL.
pub(crate) enum Target {
    /// A SQLite database file (created when missing).
    Sqlite(PathBuf),
    /// A PostgreSQL server.
    Postgres(Box<PgConnectOptions>),
}

const SQLITE_EXTENSIONS: [&str; 3] = [".db", ".sqlite", ".sqlite3"];

/// The backend a URL selects, without connecting.
pub(crate) fn backend(url: &str) -> Result<Backend, StoreError> {
    let url = url.trim();
    if has_scheme(url, "postgres") || has_scheme(url, "postgresql") {
        Ok(Backend::Postgres)
    } else if strip_scheme(url, "sqlite").is_some() || is_sqlite_path(url) {
        Ok(Backend::Sqlite)
    } else {
        Err(unsupported(url, "unknown scheme"))
    }
}

pub(crate) fn parse(url: &str) -> Result<Target, StoreError> {
    let url = url.trim();
    match backend(url)? {
        Backend::Postgres => PgConnectOptions::from_str(url)
            .map(|options| Target::Postgres(Box::new(options)))
            .map_err(|source| StoreError::InvalidUrl {
                backend: Backend::Postgres,
                url: redact_url(url),
                source,
            }),
        Backend::Sqlite => {
            let path = strip_scheme(url, "sqlite").unwrap_or(url);
            if path.is_empty() {
                return Err(unsupported(url, "no sqlite file path"));
            }
            if path == ":memory:" {
                return Err(unsupported(
                    url,
                    "in-memory sqlite databases are not supported",
                ));
            }
            if path.contains('?') {
                return Err(unsupported(
                    url,
                    "query parameters are not supported for sqlite",
                ));
            }
            Ok(Target::Sqlite(PathBuf::from(path)))
        }
    }
}

fn unsupported(url: &str, reason: &'static str) -> StoreError {
    StoreError::UnsupportedUrl {
        url: redact_url(url),
        reason,
    }
}

/// `sqlite://PATH` or `sqlite:PATH` → `PATH`.
fn strip_scheme<'u>(url: &'u str, scheme: &str) -> Option<&'u str> {
    let rest = url
        .get(..scheme.len())
        .filter(|s| s.eq_ignore_ascii_case(scheme))
        .map(|_| &url[scheme.len()..])?;
    let rest = rest.strip_prefix(':')?;
    Some(rest.strip_prefix("//").unwrap_or(rest))
}

fn has_scheme(url: &str, scheme: &str) -> bool {
    url.get(..scheme.len() + 3)
        .is_some_and(|s| s.eq_ignore_ascii_case(&format!("{scheme}://")))
}

fn is_sqlite_path(url: &str) -> bool {
    !url.contains("://")
        && SQLITE_EXTENSIONS.iter().any(|ext| {
            url.len() > ext.len()
                && url
                    .get(url.len() - ext.len()..)
                    .is_some_and(|tail| tail.eq_ignore_ascii_case(ext))
        })
}

/// A database URL fit for logs and error messages: credentials before `@` become `***`,
/// as do the values of query parameters whose name mentions a password.
///
/// It errs on the safe side: with a malformed URL (an unescaped `/` or `?` in the password)
/// it hides more than the credentials rather than less.
///
/// ```
/// assert_eq!(
///     store::redact_url("postgres://app:s3cret@db.internal:5432/chartimpact?sslmode=require"),
///     "postgres://***@db.internal:5432/chartimpact?sslmode=require",
/// );
/// assert_eq!(store::redact_url("postgres://db/x?password=s3cret"), "postgres://db/x?password=***");
/// assert_eq!(store::redact_url("sqlite://data/store.db"), "sqlite://data/store.db");
/// ```
pub fn redact_url(url: &str) -> String {
    let (prefix, rest) = match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    };
    // The last `@` ends the credentials, even when the password holds unescaped `/`, `?` or `#`.
    let rest = match rest.rfind('@') {
        Some(at) => format!("***@{}", &rest[at + 1..]),
        None => rest.to_owned(),
    };
    let (before_query, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest.as_str(), None),
    };
    let mut out = format!("{prefix}{before_query}");
    if let Some(query) = query {
        out.push('?');
        let params: Vec<String> = query
            .split('&')
            .map(|param| match param.split_once('=') {
                Some((key, _)) if key.to_ascii_lowercase().contains("pass") => {
                    format!("{key}=***")
                }
                _ => param.to_owned(),
            })
            .collect();
        out.push_str(&params.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite_path(url: &str) -> PathBuf {
        match parse(url) {
            Ok(Target::Sqlite(path)) => path,
            Ok(Target::Postgres(_)) => panic!("{url} parsed as postgres"),
            Err(e) => panic!("{url}: {e}"),
        }
    }

    #[test]
    fn sqlite_forms() {
        assert_eq!(
            sqlite_path("sqlite://data/x.db"),
            PathBuf::from("data/x.db")
        );
        assert_eq!(
            sqlite_path("sqlite:///abs/x.db"),
            PathBuf::from("/abs/x.db")
        );
        assert_eq!(sqlite_path("sqlite:rel.db"), PathBuf::from("rel.db"));
        assert_eq!(sqlite_path("SQLite:rel"), PathBuf::from("rel"));
        assert_eq!(
            sqlite_path("/var/lib/ci/store.db"),
            PathBuf::from("/var/lib/ci/store.db")
        );
        assert_eq!(sqlite_path("store.sqlite"), PathBuf::from("store.sqlite"));
        assert_eq!(sqlite_path("store.SQLITE3"), PathBuf::from("store.SQLITE3"));
        assert_eq!(sqlite_path(" padded.db "), PathBuf::from("padded.db"));
    }

    #[test]
    fn postgres_forms() {
        for url in [
            "postgres://user@localhost/db",
            "postgresql://user:pw@localhost:5433/db?sslmode=disable",
            "POSTGRES://localhost",
        ] {
            assert_eq!(backend(url).unwrap(), Backend::Postgres, "{url}");
            assert!(matches!(parse(url), Ok(Target::Postgres(_))), "{url}");
        }
        let Ok(Target::Postgres(options)) = parse("postgres://u:pw@db.example:6543/ci") else {
            panic!("not postgres");
        };
        assert_eq!(options.get_host(), "db.example");
        assert_eq!(options.get_port(), 6543);
        assert_eq!(options.get_database(), Some("ci"));
        assert_eq!(options.get_username(), "u");
    }

    #[test]
    fn rejects_everything_else_naming_the_accepted_forms() {
        for url in [
            "mysql://root:hunter2@db/x",
            "redis://localhost",
            "data/store",
            "",
            "file.txt",
            "https://example.com/x.db",
        ] {
            let err = parse(url).err().unwrap_or_else(|| panic!("{url} accepted"));
            let msg = err.to_string();
            assert!(
                matches!(err, StoreError::UnsupportedUrl { .. }),
                "{url}: {msg}"
            );
            assert!(msg.contains("sqlite://PATH"), "{msg}");
            assert!(msg.contains("postgres://"), "{msg}");
            assert!(!msg.contains("hunter2"), "{msg}");
        }
    }

    #[test]
    fn rejects_unusable_sqlite_urls() {
        for (url, reason) in [
            ("sqlite::memory:", "in-memory"),
            ("sqlite://", "no sqlite file path"),
            ("sqlite:x.db?mode=ro", "query parameters"),
        ] {
            let msg = parse(url).err().unwrap().to_string();
            assert!(msg.contains(reason), "{url}: {msg}");
        }
    }

    #[test]
    fn invalid_postgres_url_hides_the_password() {
        for url in [
            "postgres://admin:hunter2@db:notaport/x",
            "postgres://admin:hunter2@db/x?sslmode=bogus",
        ] {
            let err = parse(url).err().unwrap_or_else(|| panic!("{url} accepted"));
            assert!(matches!(err, StoreError::InvalidUrl { .. }), "{url}: {err}");
            let chain = error_chain(&err);
            assert!(!chain.contains("hunter2"), "{chain}");
            assert!(chain.contains("***@db"), "{chain}");
        }
    }

    fn error_chain(err: &dyn std::error::Error) -> String {
        let mut out = format!("{err} / {err:?}");
        let mut source = err.source();
        while let Some(e) = source {
            out.push_str(&format!(" / {e} / {e:?}"));
            source = e.source();
        }
        out
    }

    #[test]
    fn redacts_credentials() {
        for (url, want) in [
            (
                "postgres://user:pass@host:5432/db",
                "postgres://***@host:5432/db",
            ),
            ("postgres://user@host/db", "postgres://***@host/db"),
            ("postgres://host/db", "postgres://host/db"),
            (
                "postgresql://u:p%40ss@h/db?sslmode=require&password=x&application_name=ci",
                "postgresql://***@h/db?sslmode=require&password=***&application_name=ci",
            ),
            // Unescaped delimiters in the password: hide too much rather than leak.
            ("postgres://u:pa/ss@h/db", "postgres://***@h/db"),
            ("postgres://u:pa?ss@h/db", "postgres://***@h/db"),
            ("postgres://u:p@ss@h/db", "postgres://***@h/db"),
            ("u:secret@h/db", "***@h/db"),
            ("sqlite:///tmp/x.db", "sqlite:///tmp/x.db"),
        ] {
            assert_eq!(redact_url(url), want, "{url}");
        }
    }
}
