//! The ids as sqlx column and parameter types (feature `sqlx`), for SQLite and PostgreSQL.
//!
//! Each is stored as TEXT in its `Display` form and parsed again when read, so a value that
//! does not follow the rules (written by hand, or by an older version) is a decode error
//! naming the rule rather than an id that is not one.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Postgres, Sqlite, Type};

use crate::{CommitSha, DeliveryId, JobKey, RepoName};

macro_rules! text_column {
    ($db:ty: $($ty:ty),*) => {$(
        impl Type<$db> for $ty {
            fn type_info() -> <$db as Database>::TypeInfo {
                <str as Type<$db>>::type_info()
            }

            fn compatible(ty: &<$db as Database>::TypeInfo) -> bool {
                <str as Type<$db>>::compatible(ty)
            }
        }

        impl Encode<'_, $db> for $ty {
            fn encode_by_ref(
                &self,
                buf: &mut <$db as Database>::ArgumentBuffer,
            ) -> Result<IsNull, BoxDynError> {
                <String as Encode<'_, $db>>::encode(self.to_string(), buf)
            }
        }

        impl<'r> Decode<'r, $db> for $ty {
            fn decode(value: <$db as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                Ok(<&str as Decode<'r, $db>>::decode(value)?.parse()?)
            }
        }
    )*};
}

text_column!(Sqlite: RepoName, CommitSha, DeliveryId, JobKey);
text_column!(Postgres: RepoName, CommitSha, DeliveryId, JobKey);

#[cfg(test)]
mod tests {
    use sqlx::{Connection as _, SqliteConnection};

    use crate::{CommitSha, DeliveryId, JobKey, RepoName};

    #[tokio::test]
    async fn ids_round_trip_through_sqlite_and_bad_text_does_not_decode() {
        let mut db = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        let repo: RepoName = "acme/charts".parse().unwrap();
        let key = JobKey::push(repo.clone(), "main");
        let sha: CommitSha = "ec26c3e57ca3a959ca5aad62de7213c562f8c821".parse().unwrap();
        let delivery: DeliveryId = "72d3162e-cc78-11e3-81ab-4c9367dc0958".parse().unwrap();
        let row: (RepoName, JobKey, CommitSha, DeliveryId, String) =
            sqlx::query_as("SELECT $1, $2, $3, $4, $1")
                .bind(&repo)
                .bind(&key)
                .bind(&sha)
                .bind(&delivery)
                .fetch_one(&mut db)
                .await
                .unwrap();
        assert_eq!(row, (repo, key, sha, delivery, "acme/charts".to_owned()));

        let err = sqlx::query_scalar::<_, RepoName>("SELECT 'acme/charts/extra'")
            .fetch_one(&mut db)
            .await
            .unwrap_err();
        assert!(matches!(err, sqlx::Error::ColumnDecode { .. }), "{err:?}");
        assert!(err.to_string().contains("invalid repository name"), "{err}");
        let absent: Option<CommitSha> = sqlx::query_scalar("SELECT NULL")
            .fetch_one(&mut db)
            .await
            .unwrap();
        assert_eq!(absent, None);
    }
}
