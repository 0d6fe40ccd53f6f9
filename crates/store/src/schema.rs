//! The embedded migrations of each backend (`migrations/sqlite`, `migrations/postgres`), one
//! file per table or concern, applied in version order at open.

use sqlx::migrate::Migrator;

use crate::Backend;

static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

/// The latest successfully applied migration (0 for none).
pub(crate) const VERSION: &str =
    "SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM _sqlx_migrations WHERE success";

pub(crate) fn migrator(backend: Backend) -> &'static Migrator {
    match backend {
        Backend::Sqlite => &SQLITE,
        Backend::Postgres => &POSTGRES,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_have_the_same_migration_versions() {
        let versions = |b| {
            migrator(b)
                .iter()
                .map(|m| (m.version, m.description.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(versions(Backend::Sqlite), versions(Backend::Postgres));
        assert_eq!(
            versions(Backend::Sqlite)[0],
            (1, "compare results".to_owned())
        );
    }
}
