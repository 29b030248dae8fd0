//! The use counts of stored images (`image.slides`, `image.posts`). Every write that
//! changes which slides point at which content recounts the images it touched, in the
//! same transaction, so the counts are always exact.

use crate::error::Result;
use rusqlite::Connection;

/// The images a post's slides use now.
pub fn images_of_post(tx: &Connection, post_id: i64) -> Result<Vec<String>> {
    let mut stmt = tx.prepare_cached(
        "SELECT DISTINCT u.sha256 FROM slide sl JOIN url u ON u.id = sl.url_id
         WHERE sl.post_id = ?1 AND u.sha256 IS NOT NULL",
    )?;
    let shas = stmt
        .query_map([post_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(shas)
}

/// Recounts the slides and posts using each of these images.
pub fn recount(tx: &Connection, shas: &[String]) -> Result<()> {
    let mut stmt = tx.prepare_cached(
        "UPDATE image SET
             slides = (SELECT count(*) FROM url u JOIN slide sl ON sl.url_id = u.id
                       WHERE u.sha256 = ?1),
             posts = (SELECT count(DISTINCT sl.post_id) FROM url u JOIN slide sl ON sl.url_id = u.id
                      WHERE u.sha256 = ?1)
         WHERE sha256 = ?1",
    )?;
    for sha in shas {
        stmt.execute([sha])?;
    }
    Ok(())
}
