//! The archive: one folder with `archive.db`. This is the only code that touches SQLite;
//! one [`Archive`] owns the connection and sets its pragmas here, in one place.

mod counts;
mod health;
mod images;
mod query;
mod read;
mod schema;
mod store;
mod write;

pub use images::{Recorded, Which};
pub use query::{Cell, Hit, MARK, Rows};
pub use read::{
    PostSummary, SlideSpan, StoredBlock, StoredImage, StoredPost, StoredSession, StoredSlide,
};
pub use store::{HEAD_BYTES, Incoming, Kept, Store, relative_path};
pub use write::{Landed, NewPost, host_of};

use crate::error::{Error, Result};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The database file inside an archive folder.
pub const DB_FILE: &str = "archive.db";

/// How long a writer waits for another process's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Archive {
    conn: Connection,
    dir: PathBuf,
    /// Posts staged in the open write transaction, not committed yet.
    staged: Option<write::Staged>,
}

impl Archive {
    /// Opens the archive in `dir`, creating the folder and database if needed, and brings
    /// its schema up to date.
    pub fn open_or_create(dir: &Path) -> Result<Archive> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        Self::open_at(dir)
    }

    /// Opens an archive that must already exist (for commands that only read it).
    pub fn open(dir: &Path) -> Result<Archive> {
        if !dir.join(DB_FILE).is_file() {
            return Err(Error::NoArchive(dir.to_path_buf()));
        }
        Self::open_at(dir)
    }

    /// Opens an existing archive for reading only: nothing is created or migrated, and
    /// SQLite refuses every write.
    pub fn open_read_only(dir: &Path) -> Result<Archive> {
        let path = dir.join(DB_FILE);
        if !path.is_file() {
            return Err(Error::NoArchive(dir.to_path_buf()));
        }
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        schema::check_not_newer(&conn, &path)?;
        Ok(Archive {
            conn,
            dir: dir.to_path_buf(),
            staged: None,
        })
    }

    /// An empty archive in memory: what a dry run compares against when there is no
    /// archive yet.
    pub fn scratch() -> Result<Archive> {
        let mut conn = Connection::open_in_memory()?;
        schema::migrate(&mut conn, Path::new(":memory:"))?;
        Ok(Archive {
            conn,
            dir: PathBuf::from(":memory:"),
            staged: None,
        })
    }

    fn open_at(dir: &Path) -> Result<Archive> {
        let path = dir.join(DB_FILE);
        let started = std::time::Instant::now();
        loop {
            match Self::set_up(dir, &path) {
                // Switching a new file to WAL takes an exclusive lock without calling the
                // busy handler: when two processes create one archive at once, the
                // second waits here instead.
                Err(Error::Sqlite(e))
                    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                        && started.elapsed() < BUSY_TIMEOUT =>
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                other => return other,
            }
        }
    }

    fn set_up(dir: &Path, path: &Path) -> Result<Archive> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // Refuse a newer archive before any pragma below can write to it.
        schema::check_not_newer(&conn, path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        // A bigger page cache keeps the index pages that random keys (slide URLs) touch.
        conn.pragma_update(None, "cache_size", -65536)?;
        let mut archive = Archive {
            conn,
            dir: dir.to_path_buf(),
            staged: None,
        };
        schema::migrate(&mut archive.conn, path)?;
        Ok(archive)
    }

    /// Every write starts by taking the write lock (BEGIN IMMEDIATE). A transaction that
    /// read first and then wrote could fail at once when another process wrote in
    /// between; taking the lock up front makes it wait its turn instead.
    pub(crate) fn write_transaction(&mut self) -> Result<rusqlite::Transaction<'_>> {
        Ok(self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?)
    }

    /// Refreshes the planner's statistics where they have drifted (cheap, bounded),
    /// so queries keep using the right indexes as the archive grows. Called after a
    /// command that wrote.
    pub fn optimize(&self) {
        let _ = self
            .conn
            .execute_batch("PRAGMA analysis_limit = 1000; PRAGMA optimize;");
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    #[cfg(test)]
    pub(crate) fn in_memory() -> Archive {
        let archive = Archive::scratch().unwrap();
        archive
            .conn
            .pragma_update(None, "foreign_keys", true)
            .unwrap();
        archive
    }
}
