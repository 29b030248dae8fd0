//! Reading posts back: finding one by id, slug or source, listing, and loading one whole.

use super::Archive;
use super::store::relative_path;
use crate::error::{Error, Result};
use rusqlite::{OptionalExtension, Row, params};

/// One line of `slidearchive list`.
#[derive(Debug, Clone)]
pub struct PostSummary {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub sessions: i64,
    pub slides: i64,
    pub source: String,
}

/// A post as stored, with everything `show` and the JSON export need.
#[derive(Debug, Clone)]
pub struct StoredPost {
    pub id: i64,
    pub slug: String,
    pub source: String,
    pub title: String,
    pub author: Option<String>,
    pub date: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub front_matter: serde_json::Map<String, serde_json::Value>,
    pub sha256: String,
    pub bytes: i64,
    /// Blocks before the first session.
    pub intro: Vec<StoredBlock>,
    /// Slides before the first session.
    pub intro_slides: Vec<StoredSlide>,
    pub sessions: Vec<StoredSession>,
}

#[derive(Debug, Clone)]
pub struct StoredSession {
    pub position: i64,
    pub title: String,
    pub comments: Vec<StoredBlock>,
    pub slides: Vec<StoredSlide>,
}

#[derive(Debug, Clone)]
pub struct StoredBlock {
    pub kind: String,
    pub markdown: String,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct StoredSlide {
    pub position: i64,
    pub url: String,
    pub alt: String,
    pub title: String,
    /// pending, stored or failed
    pub state: Option<String>,
    pub reason: Option<String>,
    pub image: Option<StoredImage>,
}

/// The stored file a slide's URL resolved to.
#[derive(Debug, Clone)]
pub struct StoredImage {
    pub sha256: String,
    pub bytes: i64,
    pub media_type: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
    /// Relative to the archive folder.
    pub path: String,
    pub ext: String,
}

/// Where a slide's URL is written in its post, and the file it resolved to, if stored.
#[derive(Debug, Clone)]
pub struct SlideSpan {
    pub url: String,
    pub start: usize,
    pub end: usize,
    pub syntax: String,
    pub image: Option<StoredImage>,
}

impl Archive {
    /// Finds a post by id, slug or source (as stored, or a path that resolves to it).
    pub fn find_post(&self, key: &str) -> Result<i64> {
        let by = |sql: &str, value: &dyn rusqlite::ToSql| -> Result<Option<i64>> {
            Ok(self.conn.query_row(sql, [value], |r| r.get(0)).optional()?)
        };
        if let Ok(id) = key.parse::<i64>()
            && let Some(id) = by("SELECT id FROM post WHERE id = ?1", &id)?
        {
            return Ok(id);
        }
        if let Some(id) = by("SELECT id FROM post WHERE slug = ?1", &key)? {
            return Ok(id);
        }
        if let Some(id) = by("SELECT id FROM post WHERE source = ?1", &key)? {
            return Ok(id);
        }
        if let Ok(path) = std::fs::canonicalize(key)
            && let Some(id) = by(
                "SELECT id FROM post WHERE source = ?1",
                &path.to_string_lossy(),
            )?
        {
            return Ok(id);
        }
        Err(Error::PostNotFound(key.to_string()))
    }

    pub fn post_id_by_source(&self, source: &str) -> Result<Option<i64>> {
        Ok(self
            .conn
            .query_row("SELECT id FROM post WHERE source = ?1", [source], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Whether this address already has its image stored.
    pub fn url_is_stored(&self, url: &str) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM url WHERE url = ?1 AND state = 'stored'")?
            .exists([url])?)
    }

    pub fn post_ids(&self) -> Result<Vec<i64>> {
        let mut stmt = self.conn.prepare("SELECT id FROM post ORDER BY id")?;
        let ids = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(ids)
    }

    /// The exact bytes the post was imported from.
    pub fn post_content(&self, id: i64) -> Result<Vec<u8>> {
        Ok(self
            .conn
            .query_row("SELECT content FROM post WHERE id = ?1", [id], |r| r.get(0))?)
    }

    /// Number of sessions and slides of a post.
    pub fn post_counts(&self, id: i64) -> Result<(usize, usize)> {
        Ok(self.conn.query_row(
            "SELECT (SELECT count(*) FROM session WHERE post_id = ?1),
                    (SELECT count(*) FROM slide WHERE post_id = ?1)",
            [id],
            |r| Ok((r.get::<_, i64>(0)? as usize, r.get::<_, i64>(1)? as usize)),
        )?)
    }

    pub fn post_slug(&self, id: i64) -> Result<String> {
        Ok(self
            .conn
            .query_row("SELECT slug FROM post WHERE id = ?1", [id], |r| r.get(0))?)
    }

    pub fn list_posts(&self) -> Result<Vec<PostSummary>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, slug, title, sessions, slides, source FROM posts ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok(PostSummary {
                id: r.get(0)?,
                slug: r.get(1)?,
                title: r.get(2)?,
                sessions: r.get(3)?,
                slides: r.get(4)?,
                source: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn load_post(&self, id: i64) -> Result<StoredPost> {
        let mut post = self.conn.query_row(
            "SELECT id, slug, source, title, author, date, description, tags, meta, sha256, bytes
             FROM post WHERE id = ?1",
            [id],
            |r| {
                let tags: String = r.get(7)?;
                let meta: String = r.get(8)?;
                Ok(StoredPost {
                    id: r.get(0)?,
                    slug: r.get(1)?,
                    source: r.get(2)?,
                    title: r.get(3)?,
                    author: r.get(4)?,
                    date: r.get(5)?,
                    description: r.get(6)?,
                    tags: serde_json::from_str(&tags).unwrap_or_default(),
                    front_matter: serde_json::from_str(&meta).unwrap_or_default(),
                    sha256: r.get(9)?,
                    bytes: r.get(10)?,
                    intro: Vec::new(),
                    intro_slides: Vec::new(),
                    sessions: Vec::new(),
                })
            },
        )?;

        let mut stmt = self.conn.prepare(
            "SELECT id, position, title FROM session WHERE post_id = ?1 ORDER BY position",
        )?;
        let sessions: Vec<(i64, StoredSession)> = stmt
            .query_map([id], |r| {
                Ok((
                    r.get(0)?,
                    StoredSession {
                        position: r.get(1)?,
                        title: r.get(2)?,
                        comments: Vec::new(),
                        slides: Vec::new(),
                    },
                ))
            })?
            .collect::<Result<_, _>>()?;
        let index_of = |session_id: Option<i64>| {
            session_id.and_then(|sid| sessions.iter().position(|(id, _)| *id == sid))
        };

        let mut blocks = self.conn.prepare(
            "SELECT session_id, is_comment, kind, markdown, text FROM block
             WHERE post_id = ?1 ORDER BY position",
        )?;
        let mut rows = blocks.query(params![id])?;
        let mut placed: Vec<(Option<usize>, bool, StoredBlock)> = Vec::new();
        while let Some(r) = rows.next()? {
            placed.push((index_of(r.get(0)?), r.get(1)?, block(r, 2)?));
        }
        let mut slides = self.conn.prepare(&format!(
            "SELECT sl.session_id, sl.position, sl.url, sl.alt, sl.title, u.state, u.reason, {IMAGE_COLUMNS}
             FROM slide sl LEFT JOIN url u ON u.id = sl.url_id LEFT JOIN image i ON i.sha256 = u.sha256
             WHERE sl.post_id = ?1 ORDER BY sl.position"
        ))?;
        let mut rows = slides.query(params![id])?;
        let mut slide_rows = Vec::new();
        while let Some(r) = rows.next()? {
            let slide = StoredSlide {
                position: r.get(1)?,
                url: r.get(2)?,
                alt: r.get(3)?,
                title: r.get(4)?,
                state: r.get(5)?,
                reason: r.get(6)?,
                image: stored_image(r, 7)?,
            };
            slide_rows.push((index_of(r.get(0)?), slide));
        }

        let mut sessions: Vec<StoredSession> = sessions.into_iter().map(|(_, s)| s).collect();
        for (session, is_comment, b) in placed {
            match session {
                None => post.intro.push(b),
                Some(i) if is_comment => sessions[i].comments.push(b),
                Some(_) => {}
            }
        }
        for (session, slide) in slide_rows {
            match session {
                Some(i) => sessions[i].slides.push(slide),
                None => post.intro_slides.push(slide),
            }
        }
        post.sessions = sessions;
        Ok(post)
    }
}

const IMAGE_COLUMNS: &str = "i.sha256, i.bytes, i.media_type, i.width, i.height, i.ext";

fn stored_image(r: &Row, at: usize) -> rusqlite::Result<Option<StoredImage>> {
    let Some(sha256) = r.get::<_, Option<String>>(at)? else {
        return Ok(None);
    };
    let ext: String = r.get(at + 5)?;
    Ok(Some(StoredImage {
        path: relative_path(&sha256, &ext),
        sha256,
        bytes: r.get(at + 1)?,
        media_type: r.get(at + 2)?,
        width: r.get(at + 3)?,
        height: r.get(at + 4)?,
        ext,
    }))
}

impl Archive {
    /// Every slide's URL span in the post's source, with its stored file if any.
    pub fn slide_spans(&self, id: i64) -> Result<Vec<SlideSpan>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT sl.url, sl.url_start, sl.url_end, sl.syntax, {IMAGE_COLUMNS}
             FROM slide sl LEFT JOIN url u ON u.id = sl.url_id LEFT JOIN image i ON i.sha256 = u.sha256
             WHERE sl.post_id = ?1 ORDER BY sl.position"
        ))?;
        let mut rows = stmt.query([id])?;
        let mut spans = Vec::new();
        while let Some(r) = rows.next()? {
            spans.push(SlideSpan {
                url: r.get(0)?,
                start: r.get::<_, i64>(1)? as usize,
                end: r.get::<_, i64>(2)? as usize,
                syntax: r.get(3)?,
                image: stored_image(r, 4)?,
            });
        }
        Ok(spans)
    }
}

fn block(r: &Row, at: usize) -> rusqlite::Result<StoredBlock> {
    Ok(StoredBlock {
        kind: r.get(at)?,
        markdown: r.get(at + 1)?,
        text: r.get(at + 2)?,
    })
}
