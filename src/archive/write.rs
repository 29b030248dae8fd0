//! Storing a parsed post: one transaction per post, the post's id kept across re-imports.

use super::Archive;
use crate::error::Result;
use crate::post::Post;
use crate::source::Target;
use rusqlite::{OptionalExtension, params};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A parsed post ready to be stored.
pub struct NewPost<'a> {
    /// Canonical path or URL: the post's identity across re-imports.
    pub source: &'a str,
    pub content: &'a str,
    pub sha256: &'a str,
    pub post: &'a Post,
    /// Where each slide's image is read from, in the order of `post.slides`.
    pub targets: &'a [Target],
    pub title: &'a str,
    /// The slug wanted (front matter `slug` or the file name); made unique on insert.
    pub slug: &'a str,
    /// Parser version and options, so a changed parser re-parses unchanged sources.
    pub parsed_with: &'a str,
}

/// What happened to a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Landed {
    New(i64),
    Updated(i64),
    Unchanged(i64),
}

impl Landed {
    pub fn id(self) -> i64 {
        match self {
            Landed::New(id) | Landed::Updated(id) | Landed::Unchanged(id) => id,
        }
    }
}

impl Archive {
    /// The id of the post from `source` if it is stored with this content and parser,
    /// so the caller can skip parsing it again.
    pub fn unchanged(&self, source: &str, sha256: &str, parsed_with: &str) -> Result<Option<i64>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT id FROM post WHERE source = ?1 AND sha256 = ?2 AND parsed_with = ?3",
            )?
            .query_row(params![source, sha256, parsed_with], |r| r.get(0))
            .optional()?)
    }

    /// The stored sources made with `parsed_with`, each with its content's SHA-256.
    pub fn stored_sources(&self, parsed_with: &str) -> Result<HashMap<String, String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT source, sha256 FROM post WHERE parsed_with = ?1")?;
        let rows = stmt.query_map([parsed_with], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Stores a post whole or not at all, and commits it. An edited source keeps its
    /// post id; its sessions, blocks, slides and links are replaced.
    pub fn store_post(&mut self, new: &NewPost) -> Result<Landed> {
        let landed = self.stage_post(new)?;
        self.commit_staged()?;
        Ok(landed)
    }

    /// Stores a post in its own savepoint inside the open write transaction (opening
    /// one if needed): it lands whole or not at all, and becomes visible to others with
    /// [`Archive::commit_staged`]. Committing many posts at once saves a commit, and
    /// a flush of the search index, per post.
    pub fn stage_post(&mut self, new: &NewPost) -> Result<Landed> {
        if self.staged.is_none() {
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
            self.staged = Some(Staged {
                since: Instant::now(),
                posts: Vec::new(),
            });
        }
        let tx = self.conn.savepoint()?;
        // Images whose use counts this post changes: those it used, and those it uses.
        let mut counted = Vec::new();
        let existing: Option<(i64, String, String, String)> = tx
            .prepare_cached("SELECT id, sha256, parsed_with, slug FROM post WHERE source = ?1")?
            .query_row([new.source], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        let landed = match existing {
            Some((id, sha, parsed_with, _))
                if sha == new.sha256 && parsed_with == new.parsed_with =>
            {
                return Ok(Landed::Unchanged(id));
            }
            Some((id, _, _, slug)) => {
                let slug = if slug_fits(&slug, new.slug) {
                    slug
                } else {
                    unique_slug(&tx, new.slug, id)?
                };
                write_post(&tx, Some(id), &slug, new)?;
                counted.extend(super::counts::images_of_post(&tx, id)?);
                delete_parts(&tx, id)?;
                Landed::Updated(id)
            }
            None => {
                let slug = unique_slug(&tx, new.slug, 0)?;
                Landed::New(write_post(&tx, None, &slug, new)?)
            }
        };
        insert_parts(&tx, landed.id(), new)?;
        counted.extend(super::counts::images_of_post(&tx, landed.id())?);
        counted.sort();
        counted.dedup();
        super::counts::recount(&tx, &counted)?;
        tx.commit()?;
        if let Some(staged) = &mut self.staged {
            staged.posts.push(landed.id());
        }
        Ok(landed)
    }

    /// How long the open write transaction has been collecting posts, if one is open.
    pub fn staged_for(&self) -> Option<Duration> {
        self.staged.as_ref().map(|s| s.since.elapsed())
    }

    /// Indexes the staged posts for search and commits them together.
    pub fn commit_staged(&mut self) -> Result<()> {
        let Some(staged) = self.staged.take() else {
            return Ok(());
        };
        let result = (|| -> Result<()> {
            // One statement, rowids ascending: FTS5 writes its pending index once, at
            // the commit, instead of at every statement or savepoint after a write to it.
            if !staged.posts.is_empty() {
                let ids: Vec<String> = staged.posts.iter().map(i64::to_string).collect();
                let ids = ids.join(",");
                self.conn.execute(
                    &format!(
                        "INSERT INTO search (rowid, text)
                         SELECT 2 * id, text FROM block WHERE post_id IN ({ids}) AND is_comment
                         UNION ALL SELECT 2 * id + 1, title FROM session WHERE post_id IN ({ids})
                         ORDER BY 1"
                    ),
                    [],
                )?;
            }
            self.conn.execute_batch("COMMIT")?;
            Ok(())
        })();
        if result.is_err() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        result
    }
}

/// Posts stored in the open write transaction.
pub(super) struct Staged {
    since: Instant,
    /// Ids of the posts whose search rows are still to be written.
    posts: Vec<i64>,
}

/// The search rows of one post: its comments and session titles.
const SEARCH_ROWS: &str =
    "SELECT 2 * id AS rowid, text FROM block WHERE post_id = ?1 AND is_comment
     UNION ALL SELECT 2 * id + 1, title FROM session WHERE post_id = ?1";
/// Deletes a post's sessions, blocks, slides and links, and their search rows.
pub(super) fn delete_parts(tx: &rusqlite::Connection, post_id: i64) -> Result<()> {
    tx.prepare_cached(&format!(
        "DELETE FROM search WHERE rowid IN (SELECT rowid FROM ({SEARCH_ROWS}))"
    ))?
    .execute([post_id])?;
    for table in ["link", "slide", "block", "session"] {
        tx.prepare_cached(&format!("DELETE FROM {table} WHERE post_id = ?1"))?
            .execute([post_id])?;
    }
    Ok(())
}

/// A stored slug still fits when it is the wanted one or the wanted one made unique.
fn slug_fits(stored: &str, wanted: &str) -> bool {
    stored == wanted
        || stored
            .strip_prefix(wanted)
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|n| n.parse::<u32>().is_ok())
}

fn unique_slug(tx: &rusqlite::Connection, wanted: &str, own_id: i64) -> Result<String> {
    let mut taken = tx.prepare_cached("SELECT 1 FROM post WHERE slug = ?1 AND id != ?2")?;
    let mut candidate = wanted.to_string();
    let mut n = 1;
    while taken.exists(params![candidate, own_id])? {
        n += 1;
        candidate = format!("{wanted}-{n}");
    }
    Ok(candidate)
}

fn tags_json(post: &Post) -> String {
    serde_json::to_string(&post.meta.tags).unwrap_or_else(|_| "[]".into())
}

fn meta_json(post: &Post) -> String {
    post.front_matter
        .as_ref()
        .map(|fm| serde_json::Value::Object(fm.fields.clone()).to_string())
        .unwrap_or_else(|| "{}".into())
}

/// Writes a post's own row: a new one (`id` is `None`, keyed by its source) or the
/// existing one of an edited source. Both write the same columns.
fn write_post(
    tx: &rusqlite::Connection,
    id: Option<i64>,
    slug: &str,
    new: &NewPost,
) -> Result<i64> {
    const INSERT: &str = "INSERT INTO post (source, slug, title, author, date, description, tags,
             front_matter_format, front_matter, meta, session_level, parsed_with, sha256,
             bytes, imported_at, updated_at, content)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,
             strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?15)";
    const UPDATE: &str = "UPDATE post SET slug = ?2, title = ?3, author = ?4, date = ?5,
             description = ?6, tags = ?7, front_matter_format = ?8, front_matter = ?9,
             meta = ?10, session_level = ?11, parsed_with = ?12, sha256 = ?13, bytes = ?14,
             updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), content = ?15
         WHERE id = ?1";
    let post = new.post;
    let fm = post.front_matter.as_ref();
    let key: &dyn rusqlite::ToSql = match &id {
        Some(id) => id,
        None => &new.source,
    };
    tx.prepare_cached(if id.is_some() { UPDATE } else { INSERT })?
        .execute(params![
            key,
            slug,
            new.title,
            post.meta.author,
            post.meta.date,
            post.meta.description,
            tags_json(post),
            fm.map(|f| f.format.as_str()),
            fm.map(|f| f.raw.as_str()),
            meta_json(post),
            post.session_level,
            new.parsed_with,
            new.sha256,
            new.content.len() as i64,
            new.content.as_bytes(),
        ])?;
    Ok(id.unwrap_or_else(|| tx.last_insert_rowid()))
}

/// Sessions, then blocks (which point at sessions), then slides and links (which point
/// at blocks).
fn insert_parts(tx: &rusqlite::Connection, post_id: i64, new: &NewPost) -> Result<()> {
    let post = new.post;
    let mut session_ids = Vec::with_capacity(post.sessions.len());
    let mut insert_session = tx.prepare_cached(
        "INSERT INTO session (post_id, position, level, title) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (i, s) in post.sessions.iter().enumerate() {
        insert_session.execute(params![post_id, i as i64 + 1, s.level, s.title])?;
        session_ids.push(tx.last_insert_rowid());
    }
    let session_id = |s: Option<usize>| s.map(|i| session_ids[i]);

    let mut block_ids = Vec::with_capacity(post.blocks.len());
    let mut insert_block = tx.prepare_cached(
        "INSERT INTO block (post_id, session_id, position, kind, level, start, end, is_comment,
             markdown, text)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    for (i, b) in post.blocks.iter().enumerate() {
        insert_block.execute(params![
            post_id,
            session_id(b.session),
            i as i64 + 1,
            b.kind.as_str(),
            b.level,
            b.span.start as i64,
            b.span.end as i64,
            b.is_comment,
            &new.content[b.span.clone()],
            b.text,
        ])?;
        block_ids.push(tx.last_insert_rowid());
    }

    let mut insert_slide = tx.prepare_cached(
        "INSERT INTO slide (post_id, session_id, block_id, position, url, alt, title, syntax,
             url_start, url_end, url_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    let mut url_ids: HashMap<&str, i64> = HashMap::new();
    for (i, s) in post.slides.iter().enumerate() {
        let target = &new.targets[i];
        let url_id = match url_ids.get(target.url()) {
            Some(&id) => id,
            None => {
                let id = url_id(tx, target)?;
                url_ids.insert(target.url(), id);
                id
            }
        };
        insert_slide.execute(params![
            post_id,
            session_id(s.session),
            block_ids[s.block],
            i as i64 + 1,
            s.url,
            s.alt,
            s.title,
            s.syntax.as_str(),
            s.url_span.start as i64,
            s.url_span.end as i64,
            url_id,
        ])?;
    }

    let mut insert_link = tx.prepare_cached(
        "INSERT INTO link (post_id, session_id, block_id, position, url, host, text, kind)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for (i, l) in post.links.iter().enumerate() {
        insert_link.execute(params![
            post_id,
            session_id(l.session),
            block_ids[l.block],
            i as i64 + 1,
            l.url,
            host_of(&l.url),
            l.text,
            l.kind.as_str(),
        ])?;
    }
    Ok(())
}

/// The id of a slide's URL row, added as pending (or failed, if it is never read).
/// Most URLs are new, so insert first and look up only when the URL was known.
fn url_id(tx: &rusqlite::Connection, target: &Target) -> Result<i64> {
    let (state, error, reason) = match target {
        Target::Refused { error, reason, .. } => ("failed", Some(*error), Some(reason.as_str())),
        _ => ("pending", None, None),
    };
    let added = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO url (url, state, error, reason) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![target.url(), state, error, reason])?;
    if added == 1 {
        return Ok(tx.last_insert_rowid());
    }
    Ok(tx
        .prepare_cached("SELECT id FROM url WHERE url = ?1")?
        .query_row([target.url()], |r| r.get(0))?)
}

/// The lower-cased host of an absolute URL, without user info or port.
pub fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    let host = if host.starts_with('[') {
        host.split(']').next().map(|h| format!("{h}]"))?
    } else {
        host.split(':').next()?.to_string()
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::post::{ParseOptions, parse};

    fn new_post<'a>(
        source: &'a str,
        content: &'a str,
        post: &'a Post,
        sha: &'a str,
    ) -> NewPost<'a> {
        NewPost {
            source,
            content,
            sha256: sha,
            post,
            // Leaked: a test helper's few bytes, so the borrowed slice outlives it.
            targets: Box::leak(
                post.slides
                    .iter()
                    .map(|s| Target::Web(s.url.clone()))
                    .collect::<Vec<_>>()
                    .into_boxed_slice(),
            ),
            title: "T",
            slug: "t",
            parsed_with: "p1",
        }
    }

    fn count(archive: &Archive, table: &str) -> i64 {
        archive
            .conn
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn storing_the_same_post_twice_changes_nothing() {
        let mut archive = Archive::in_memory();
        let src = "## A\n\n![](x.png)\n\ntext https://a.io\n";
        let post = parse(src, ParseOptions::default()).unwrap();
        let first = archive
            .store_post(&new_post("/p.md", src, &post, "s1"))
            .unwrap();
        let second = archive
            .store_post(&new_post("/p.md", src, &post, "s1"))
            .unwrap();
        assert_eq!(first, Landed::New(first.id()));
        assert_eq!(second, Landed::Unchanged(first.id()));
        assert_eq!(
            (
                count(&archive, "slide"),
                count(&archive, "link"),
                count(&archive, "session")
            ),
            (1, 1, 1)
        );
    }

    #[test]
    fn an_edited_post_keeps_its_id_and_replaces_its_parts() {
        let mut archive = Archive::in_memory();
        let v1 = "## A\n\n![](x.png)\n";
        let v2 = "## A\n\n## B\n\n![](y.png)\n\n![](z.png)\n";
        let p1 = parse(v1, ParseOptions::default()).unwrap();
        let p2 = parse(v2, ParseOptions::default()).unwrap();
        let id = archive
            .store_post(&new_post("/p.md", v1, &p1, "s1"))
            .unwrap()
            .id();
        assert_eq!(
            archive
                .store_post(&new_post("/p.md", v2, &p2, "s2"))
                .unwrap(),
            Landed::Updated(id)
        );
        assert_eq!(
            (
                count(&archive, "post"),
                count(&archive, "session"),
                count(&archive, "slide")
            ),
            (1, 2, 2)
        );
    }

    #[test]
    fn two_sources_wanting_one_slug_get_two_slugs() {
        let mut archive = Archive::in_memory();
        let post = parse("x", ParseOptions::default()).unwrap();
        archive
            .store_post(&new_post("/a/p.md", "x", &post, "s"))
            .unwrap();
        archive
            .store_post(&new_post("/b/p.md", "x", &post, "s"))
            .unwrap();
        let slugs: Vec<String> = archive
            .conn
            .prepare("SELECT slug FROM post ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(slugs, ["t", "t-2"]);
        assert!(slug_fits("t-2", "t") && !slug_fits("tx", "t") && !slug_fits("t-x", "t"));
    }

    #[test]
    fn hosts() {
        assert_eq!(
            host_of("https://GitHub.com/a/b").as_deref(),
            Some("github.com")
        );
        assert_eq!(host_of("http://u:p@x.io:8080?q").as_deref(), Some("x.io"));
        assert_eq!(host_of("mailto:a@b"), None);
    }
}
