//! URLs, fetch attempts and stored images: what to fetch next, and recording each result.

use super::Archive;
use super::store::Store;
use crate::error::Result;
use crate::fetch::{Fetched, Got, Job, JobSource};
use rusqlite::{OptionalExtension, params};
use std::path::PathBuf;

/// Which URLs a fetch run takes.
#[derive(Debug, Clone)]
pub enum Which {
    /// The never-tried URLs of these posts (what `import` fetches).
    PendingOf(Vec<i64>),
    /// Everything not stored yet (`fetch`), or only what failed (`--failed-only`),
    /// optionally of one post. Paths refused for safety are never retried.
    Missing {
        failed_only: bool,
        post: Option<i64>,
    },
    /// Stored URLs, asked again conditionally (`fetch --refresh`).
    Stored { post: Option<i64> },
}

/// How one recorded result relates to what was stored before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// A new file in the store.
    StoredNew,
    /// Content some other URL (or an earlier version) already had: no new file.
    StoredShared,
    /// A refresh found the same content, or the server said 304.
    Unchanged,
    Failed,
}

impl Archive {
    pub fn store(&self) -> Store {
        Store::new(&self.dir)
    }

    /// The jobs for a fetch run, each URL once however many slides use it.
    pub fn fetch_plan(&self, which: &Which) -> Result<Vec<Job>> {
        const COLUMNS: &str = "SELECT u.id, u.url, u.etag, u.last_modified FROM url u";
        const NEVER_RETRIED: &str =
            "u.error IS NOT 'refused_local_path' AND u.error IS NOT 'unsupported'";
        let of_post = "u.id IN (SELECT url_id FROM slide WHERE post_id = ?1)";
        let (sql, post) = match which {
            Which::PendingOf(ids) => {
                let mut jobs = Vec::new();
                for &id in ids {
                    let sql =
                        format!("{COLUMNS} WHERE u.state = 'pending' AND {of_post} ORDER BY u.id");
                    jobs.extend(self.jobs(&sql, Some(id))?);
                }
                jobs.sort_by_key(|j| j.url_id);
                jobs.dedup_by_key(|j| j.url_id);
                return Ok(jobs);
            }
            Which::Missing { failed_only, post } => {
                let state = if *failed_only {
                    "u.state = 'failed'"
                } else {
                    "u.state != 'stored'"
                };
                let post_filter = if post.is_some() {
                    format!(" AND {of_post}")
                } else {
                    String::new()
                };
                (
                    format!(
                        "{COLUMNS} WHERE {state} AND {NEVER_RETRIED}{post_filter} ORDER BY u.id"
                    ),
                    *post,
                )
            }
            Which::Stored { post } => {
                let post_filter = if post.is_some() {
                    format!(" AND {of_post}")
                } else {
                    String::new()
                };
                (
                    format!("{COLUMNS} WHERE u.state = 'stored'{post_filter} ORDER BY u.id"),
                    *post,
                )
            }
        };
        let mut jobs = self.jobs(&sql, post)?;
        if !matches!(which, Which::Stored { .. }) {
            for job in &mut jobs {
                job.etag = None;
                job.last_modified = None;
            }
        }
        Ok(jobs)
    }

    /// The addresses of these posts that are never fetched (paths leaving the post's
    /// folder, absolute paths, unsupported schemes), with their reasons.
    pub fn refused_of(&self, post_ids: &[i64]) -> Result<Vec<(i64, String, String, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT u.id, u.url, u.error, coalesce(u.reason, '') FROM url u
             WHERE u.error IN ('refused_local_path', 'unsupported')
               AND u.id IN (SELECT url_id FROM slide WHERE post_id = ?1)",
        )?;
        let mut refused = Vec::new();
        for id in post_ids {
            let rows =
                stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            for row in rows {
                let row = row?;
                if !refused.contains(&row) {
                    refused.push(row);
                }
            }
        }
        Ok(refused)
    }

    fn jobs(&self, sql: &str, post: Option<i64>) -> Result<Vec<Job>> {
        let mut stmt = self.conn.prepare(sql)?;
        let mut rows = match post {
            Some(id) => stmt.query([id])?,
            None => stmt.query([])?,
        };
        let mut jobs = Vec::new();
        while let Some(r) = rows.next()? {
            let url_id: i64 = r.get(0)?;
            let url: String = r.get(1)?;
            let from = match url.strip_prefix("file://") {
                Some(path) => JobSource::Local {
                    path: PathBuf::from(path),
                    folder: self.post_folder_of(url_id)?,
                },
                None => JobSource::Web,
            };
            jobs.push(Job {
                url_id,
                url,
                from,
                etag: r.get(2)?,
                last_modified: r.get(3)?,
            });
        }
        Ok(jobs)
    }

    /// The folder of a local post that uses this URL: local images are read only
    /// from inside it.
    fn post_folder_of(&self, url_id: i64) -> Result<PathBuf> {
        let source: Option<String> = self
            .conn
            .query_row(
                "SELECT p.source FROM slide s JOIN post p ON p.id = s.post_id WHERE s.url_id = ?1 LIMIT 1",
                [url_id],
                |r| r.get(0),
            )
            .optional()?;
        let source = PathBuf::from(source.unwrap_or_default());
        Ok(source.parent().map(PathBuf::from).unwrap_or_default())
    }

    /// Records one result in one transaction: the image (if new), the URL's state and the
    /// attempt. A failed refresh keeps the stored version.
    pub fn record_fetch(&mut self, fetched: &Fetched) -> Result<Recorded> {
        let tx = self.write_transaction()?;
        let previous: Option<String> = tx
            .query_row(
                "SELECT sha256 FROM url WHERE id = ?1",
                [fetched.url_id],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        let (recorded, sha256, error, reason) = match &fetched.result {
            Ok(Got::Stored(image)) => {
                let added = tx.execute(
                    "INSERT OR IGNORE INTO image (sha256, bytes, media_type, ext, width, height, stored_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                    params![image.sha256, image.bytes as i64, image.media_type, image.ext, image.width, image.height],
                )?;
                let recorded = if previous.as_deref() == Some(image.sha256.as_str()) {
                    Recorded::Unchanged
                } else if added == 1 {
                    Recorded::StoredNew
                } else {
                    Recorded::StoredShared
                };
                tx.execute(
                    "UPDATE url SET state = 'stored', sha256 = ?2, error = NULL, reason = NULL,
                         etag = ?3, last_modified = ?4, attempts = attempts + 1,
                         fetched_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
                     WHERE id = ?1",
                    params![
                        fetched.url_id,
                        image.sha256,
                        fetched.etag,
                        fetched.last_modified
                    ],
                )?;
                (recorded, Some(image.sha256.clone()), None, None)
            }
            Ok(Got::NotModified) => {
                tx.execute(
                    "UPDATE url SET attempts = attempts + 1, fetched_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
                     WHERE id = ?1",
                    [fetched.url_id],
                )?;
                (Recorded::Unchanged, previous.clone(), None, None)
            }
            Err(failure) => {
                tx.execute(
                    "UPDATE url SET state = CASE state WHEN 'stored' THEN 'stored' ELSE 'failed' END,
                         error = CASE state WHEN 'stored' THEN error ELSE ?2 END,
                         reason = CASE state WHEN 'stored' THEN reason ELSE ?3 END,
                         attempts = attempts + 1,
                         fetched_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
                     WHERE id = ?1",
                    params![fetched.url_id, failure.kind.as_str(), failure.reason],
                )?;
                (
                    Recorded::Failed,
                    None,
                    Some(failure.kind.as_str()),
                    Some(failure.reason.as_str()),
                )
            }
        };
        // The URL's slides moved from its previous content (if any) to the new one.
        if let Ok(Got::Stored(image)) = &fetched.result {
            let mut counted = vec![image.sha256.clone()];
            counted.extend(previous.clone().filter(|p| *p != image.sha256));
            super::counts::recount(&tx, &counted)?;
        }
        let bytes = match &fetched.result {
            Ok(Got::Stored(image)) => Some(image.bytes as i64),
            _ => None,
        };
        tx.execute(
            "INSERT INTO fetch (url_id, at, final_url, http_status, content_type, bytes, sha256,
                 error, reason, etag, last_modified, milliseconds)
             VALUES (?1, strftime('%Y-%m-%dT%H:%M:%SZ', ?2, 'unixepoch'), ?3, ?4, ?5, ?6, ?7, ?8, ?9,
                 ?10, ?11, ?12)",
            params![
                fetched.url_id,
                fetched.started as i64,
                fetched.final_url,
                fetched.http_status,
                fetched.content_type,
                bytes,
                sha256,
                error,
                reason,
                fetched.etag,
                fetched.last_modified,
                fetched.milliseconds as i64,
            ],
        )?;
        tx.commit()?;
        Ok(recorded)
    }

    /// How many slides use these URLs.
    pub fn slides_using(&self, url_ids: &[i64]) -> Result<u64> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT count(*) FROM slide WHERE url_id = ?1")?;
        let mut total = 0u64;
        for id in url_ids {
            total += stmt.query_row([id], |r| r.get::<_, i64>(0))? as u64;
        }
        Ok(total)
    }
}
