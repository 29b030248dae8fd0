//! Applies `schema.sql`: its sections `-- version N: why` are counted against
//! `PRAGMA user_version`, in one exclusive transaction, the same way for a new archive
//! and an old one.

use crate::error::{Error, Result};
use rusqlite::{Connection, TransactionBehavior};
use std::path::Path;

const SCHEMA: &str = include_str!("../../schema.sql");

/// The schema's sections, in order; section `i` is version `i + 1`.
fn sections() -> Vec<&'static str> {
    let mut starts: Vec<usize> = Vec::new();
    let mut offset = 0;
    for line in SCHEMA.split_inclusive('\n') {
        if line.starts_with("-- version ") {
            starts.push(offset);
        }
        offset += line.len();
    }
    starts
        .iter()
        .enumerate()
        .map(|(i, &start)| &SCHEMA[start..starts.get(i + 1).copied().unwrap_or(SCHEMA.len())])
        .collect()
}

/// The schema version this build writes.
pub fn latest() -> i64 {
    sections().len() as i64
}

fn user_version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

pub fn check_not_newer(conn: &Connection, path: &Path) -> Result<()> {
    let found = user_version(conn)?;
    if found > latest() {
        return Err(Error::ArchiveTooNew {
            path: path.to_path_buf(),
            found,
            known: latest(),
        });
    }
    Ok(())
}

pub fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    if user_version(conn)? == latest() {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
    // Another process may have migrated while we waited for the lock.
    let current = user_version(&tx)?;
    check_not_newer(&tx, path)?;
    for section in sections().iter().skip(current as usize) {
        tx.execute_batch(section)?;
    }
    tx.pragma_update(None, "user_version", latest())?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_are_numbered_from_one_in_order() {
        for (i, section) in sections().iter().enumerate() {
            let expected = format!("-- version {}:", i + 1);
            assert!(
                section.starts_with(&expected),
                "section {} starts {:?}",
                i + 1,
                &section[..40]
            );
        }
        assert!(latest() >= 1);
    }

    #[test]
    fn migrating_twice_is_a_no_op() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, Path::new("x")).unwrap();
        migrate(&mut conn, Path::new("x")).unwrap();
        assert_eq!(user_version(&conn).unwrap(), latest());
    }

    #[test]
    fn a_newer_archive_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", latest() + 1)
            .unwrap();
        let err = migrate(&mut conn, Path::new("a/archive.db")).unwrap_err();
        assert!(matches!(err, Error::ArchiveTooNew { .. }), "{err}");
    }
}
