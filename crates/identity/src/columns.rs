//! Reading a row by column name from either driver: sqlx's `Any` rows (the pool) and rusqlite
//! rows (the refresh rotation's direct SQLite writer), so that one mapping serves both.

use crate::Result;
use rathaus_storage::StorageError;
use rathaus_storage::rusqlite;

/// A value both drivers can decode.
pub(crate) trait Column:
    for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any> + rusqlite::types::FromSql
{
}

impl<T> Column for T where
    T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any> + rusqlite::types::FromSql
{
}

/// A row whose columns can be read by name.
pub(crate) trait Columns {
    /// The value of column `name`.
    fn col<T: Column>(&self, name: &str) -> Result<T>;

    /// The text of column `name` parsed with [`std::str::FromStr`].
    fn parsed<T>(&self, name: &str) -> Result<T>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        let text: String = self.col(name)?;
        text.parse()
            .map_err(|e: T::Err| StorageError::Corrupt(format!("{name} = {text:?}: {e}")).into())
    }
}

impl Columns for sqlx::any::AnyRow {
    fn col<T: Column>(&self, name: &str) -> Result<T> {
        Ok(sqlx::Row::try_get(self, name)?)
    }
}

impl Columns for rusqlite::Row<'_> {
    fn col<T: Column>(&self, name: &str) -> Result<T> {
        self.get(name).map_err(|e| StorageError::from(e).into())
    }
}
