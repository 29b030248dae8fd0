//! Keeping the archive healthy: statistics, duplicate images, verification of the image
//! store against its rows, garbage collection, and removing a post.

use super::Archive;
use super::store::Store;
use crate::error::{Error, Result};
use rusqlite::params;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Files younger than this are left alone by `gc`: a fetch running right now renames
/// its file into place just before it records the row.
pub const GC_GRACE: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    pub posts: i64,
    pub sessions: i64,
    pub comments: i64,
    pub slides: i64,
    pub links: i64,
    pub urls: i64,
    pub urls_stored: i64,
    pub urls_failed: i64,
    pub urls_pending: i64,
    pub images: i64,
    /// Sum over slides of their image's size: what the posts show.
    pub bytes_referenced: i64,
    /// Sum of the stored files' sizes: what the archive keeps.
    pub bytes_stored: i64,
}

/// One stored image used by more than one slide.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Dupe {
    pub sha256: String,
    pub bytes: i64,
    pub uses: i64,
    pub path: String,
    pub users: Vec<DupeUse>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DupeUse {
    pub post: String,
    pub session: Option<String>,
    pub url: String,
    pub slides: i64,
}

/// What `verify` found wrong.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verified {
    pub checked: usize,
    /// Image rows whose file is gone.
    pub missing: Vec<String>,
    /// Files whose bytes do not hash to their name (or not to their row's size).
    pub corrupt: Vec<String>,
    /// URLs that point at an image with no row.
    pub rows_without_files: Vec<String>,
    /// Files in the store with no image row.
    pub files_without_rows: Vec<String>,
    /// Unfinished downloads left in images/tmp.
    pub temporary: Vec<String>,
}

impl Verified {
    pub fn is_ok(&self) -> bool {
        self.missing.is_empty()
            && self.corrupt.is_empty()
            && self.rows_without_files.is_empty()
            && self.files_without_rows.is_empty()
    }
}

/// What `gc` removed (or would remove).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Collected {
    pub rows: Vec<String>,
    pub files: Vec<PathBuf>,
    pub bytes: u64,
    /// Unreferenced but too recent to remove safely.
    pub kept_recent: usize,
}

/// What `remove` deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removed {
    pub slug: String,
    pub slides: i64,
    pub urls: i64,
}

impl Archive {
    pub fn stats(&self) -> Result<Stats> {
        Ok(self.conn.query_row(
            "SELECT (SELECT count(*) FROM post), (SELECT count(*) FROM session),
                    (SELECT count(*) FROM block WHERE is_comment), (SELECT count(*) FROM slide),
                    (SELECT count(*) FROM link), (SELECT count(*) FROM url),
                    (SELECT count(*) FROM url WHERE state = 'stored'),
                    (SELECT count(*) FROM url WHERE state = 'failed'),
                    (SELECT count(*) FROM url WHERE state = 'pending'),
                    (SELECT count(*) FROM image),
                    (SELECT coalesce(sum(bytes * slides), 0) FROM image),
                    (SELECT coalesce(sum(bytes), 0) FROM image)",
            [],
            |r| {
                Ok(Stats {
                    posts: r.get(0)?,
                    sessions: r.get(1)?,
                    comments: r.get(2)?,
                    slides: r.get(3)?,
                    links: r.get(4)?,
                    urls: r.get(5)?,
                    urls_stored: r.get(6)?,
                    urls_failed: r.get(7)?,
                    urls_pending: r.get(8)?,
                    images: r.get(9)?,
                    bytes_referenced: r.get(10)?,
                    bytes_stored: r.get(11)?,
                })
            },
        )?)
    }

    /// Stored images used by more than one slide, most used first.
    pub fn dupes(&self, limit: usize) -> Result<Vec<Dupe>> {
        let mut groups = self.conn.prepare(
            "SELECT sha256, bytes, ext, slides FROM image
             WHERE slides > 1 ORDER BY slides DESC, bytes DESC LIMIT ?1",
        )?;
        let found: Vec<(String, i64, String, i64)> = groups
            .query_map([limit as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut users = self.conn.prepare(
            "SELECT p.slug, se.title, u.url, count(*)
             FROM url u JOIN slide s ON s.url_id = u.id JOIN post p ON p.id = s.post_id
             LEFT JOIN session se ON se.id = s.session_id
             WHERE u.sha256 = ?1 GROUP BY p.id, se.id, u.id ORDER BY p.id, se.position, u.url",
        )?;
        let mut dupes = Vec::with_capacity(found.len());
        for (sha256, bytes, ext, uses) in found {
            let users = users
                .query_map([&sha256], |r| {
                    Ok(DupeUse {
                        post: r.get(0)?,
                        session: r.get(1)?,
                        url: r.get(2)?,
                        slides: r.get(3)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            dupes.push(Dupe {
                path: super::relative_path(&sha256, &ext),
                sha256,
                bytes,
                uses,
                users,
            });
        }
        Ok(dupes)
    }

    /// Re-hashes every stored file and checks it against its name and its row.
    pub fn verify(&self, mut progress: impl FnMut(usize)) -> Result<Verified> {
        let store = self.store();
        let mut verified = Verified::default();
        let mut stmt = self
            .conn
            .prepare("SELECT sha256, ext, bytes FROM image ORDER BY sha256")?;
        let rows: Vec<(String, String, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut known = HashSet::with_capacity(rows.len());
        for (sha256, ext, bytes) in &rows {
            let path = store.path_of(sha256, ext);
            known.insert(path.clone());
            match hash_file(&path) {
                Err(_) if !path.exists() => verified.missing.push(display(&path, self)),
                Err(e) => verified
                    .corrupt
                    .push(format!("{}: cannot read: {e}", display(&path, self))),
                Ok((actual, size)) if actual != *sha256 || size != *bytes as u64 => {
                    verified.corrupt.push(format!(
                        "{}: its bytes hash to {actual}",
                        display(&path, self)
                    ))
                }
                Ok(_) => {}
            }
            verified.checked += 1;
            progress(verified.checked);
        }
        let mut dangling = self.conn.prepare(
            "SELECT url FROM url WHERE sha256 IS NOT NULL AND sha256 NOT IN (SELECT sha256 FROM image)",
        )?;
        verified.rows_without_files = dangling
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for path in store_files(&store)? {
            if !known.contains(&path) {
                verified.files_without_rows.push(display(&path, self));
            }
        }
        verified.temporary = temporary_files(&store)?
            .iter()
            .map(|p| display(p, self))
            .collect();
        Ok(verified)
    }

    /// Removes image rows nothing refers to (no URL, no fetch record), then files with no
    /// row and unfinished downloads, leaving anything younger than [`GC_GRACE`].
    pub fn gc(&mut self, dry_run: bool) -> Result<Collected> {
        let store = self.store();
        let mut collected = Collected::default();
        let tx = self.write_transaction()?;
        const UNREFERENCED: &str =
            "FROM image WHERE sha256 NOT IN (SELECT sha256 FROM url WHERE sha256 IS NOT NULL)
             AND sha256 NOT IN (SELECT sha256 FROM fetch WHERE sha256 IS NOT NULL)";
        collected.rows = tx
            .prepare(&format!("SELECT sha256 {UNREFERENCED}"))?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let stored: HashSet<PathBuf> = tx
            .prepare("SELECT sha256, ext FROM image")?
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .map(|r| r.map(|(sha, ext)| store.path_of(&sha, &ext)))
            .collect::<rusqlite::Result<_>>()?;
        let unreferenced: HashSet<&str> = collected.rows.iter().map(String::as_str).collect();
        let now = SystemTime::now();
        for path in store_files(&store)?
            .into_iter()
            .chain(temporary_files(&store)?)
        {
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            let of_unreferenced_row = unreferenced.contains(name);
            if stored.contains(&path) && !of_unreferenced_row {
                continue;
            }
            let meta = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
            let age = meta
                .modified()
                .ok()
                .and_then(|m| now.duration_since(m).ok())
                .unwrap_or_default();
            if age < GC_GRACE && !of_unreferenced_row {
                collected.kept_recent += 1;
                continue;
            }
            collected.bytes += meta.len();
            collected.files.push(path);
        }
        if !dry_run {
            tx.execute(&format!("DELETE {UNREFERENCED}"), [])?;
        }
        // Rows go first, in their own commit: a crash between the two steps leaves
        // files without rows (collected next time), never rows without files.
        tx.commit()?;
        if !dry_run {
            for path in &collected.files {
                std::fs::remove_file(path).map_err(|e| Error::io(path, e))?;
            }
        }
        Ok(collected)
    }

    /// Deletes a post with its sessions, blocks, slides, links and search rows, and the
    /// URLs (with their fetch records) no other post uses, in one transaction. Image
    /// files stay until the next `gc`.
    pub fn remove_post(&mut self, id: i64) -> Result<Removed> {
        let tx = self.write_transaction()?;
        let slug: String =
            tx.query_row("SELECT slug FROM post WHERE id = ?1", [id], |r| r.get(0))?;
        let slides: i64 =
            tx.query_row("SELECT count(*) FROM slide WHERE post_id = ?1", [id], |r| {
                r.get(0)
            })?;
        let url_ids: Vec<i64> = tx
            .prepare("SELECT DISTINCT url_id FROM slide WHERE post_id = ?1 AND url_id IS NOT NULL")?
            .query_map([id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let counted = super::counts::images_of_post(&tx, id)?;
        super::write::delete_parts(&tx, id)?;
        tx.execute("DELETE FROM post WHERE id = ?1", [id])?;
        let mut urls = 0;
        for url_id in url_ids {
            let used: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM slide WHERE url_id = ?1)",
                [url_id],
                |r| r.get(0),
            )?;
            if !used {
                tx.execute("DELETE FROM fetch WHERE url_id = ?1", [url_id])?;
                urls += tx.execute("DELETE FROM url WHERE id = ?1", params![url_id])? as i64;
            }
        }
        super::counts::recount(&tx, &counted)?;
        tx.commit()?;
        Ok(Removed { slug, slides, urls })
    }
}

fn display(path: &Path, archive: &Archive) -> String {
    path.strip_prefix(archive.dir())
        .unwrap_or(path)
        .display()
        .to_string()
}

fn hash_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), size))
}

/// Every file under `images/xx/`.
fn store_files(store: &Store) -> Result<Vec<PathBuf>> {
    let root = store
        .tmp_dir()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(&root) else {
        return Ok(files);
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(&root, e))?;
        let name = entry.file_name();
        let is_shard = name.len() == 2
            && name
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_hexdigit());
        if !is_shard || !entry.path().is_dir() {
            continue;
        }
        let shard = entry.path();
        for file in std::fs::read_dir(&shard).map_err(|e| Error::io(&shard, e))? {
            let file = file.map_err(|e| Error::io(&shard, e))?;
            if file.path().is_file() {
                files.push(file.path());
            }
        }
    }
    files.sort();
    Ok(files)
}

fn temporary_files(store: &Store) -> Result<Vec<PathBuf>> {
    let tmp = store.tmp_dir();
    let Ok(entries) = std::fs::read_dir(&tmp) else {
        return Ok(Vec::new());
    };
    let mut files = Vec::new();
    for entry in entries {
        files.push(entry.map_err(|e| Error::io(&tmp, e))?.path());
    }
    files.sort();
    Ok(files)
}
