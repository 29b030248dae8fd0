//! Read-only SQL for `slidearchive query`, and full-text search.

use super::Archive;
use crate::error::{Error, Result};
use rusqlite::types::ValueRef;

/// One value of a result row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// What a query hands out: its column names once, then each row.
#[derive(Debug, Clone, Copy)]
pub enum Rows<'a> {
    Columns(&'a [String]),
    Row(&'a [Cell]),
}

/// A search hit: where the text was found, with the match marked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Hit {
    pub post: String,
    pub post_title: String,
    pub session_position: i64,
    pub session: String,
    /// `session` (its title matched) or `comment`
    pub kind: &'static str,
    pub snippet: String,
}

/// Marks around a match in a snippet.
pub const MARK: (&str, &str) = ("[", "]");

impl Archive {
    /// Runs one statement that only reads, handing `on` the column names, then each row
    /// as it comes (so big results stream).
    pub fn query(&self, sql: &str, mut on: impl FnMut(Rows) -> Result<()>) -> Result<()> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| sql_error(sql, e))?;
        if !stmt.readonly() {
            return Err(Error::Query(
                "this statement would change the archive; 'query' only reads (nothing was changed)"
                    .into(),
            ));
        }
        let columns: Vec<String> = stmt.column_names().map(String::from).collect();
        on(Rows::Columns(&columns))?;
        let mut rows = stmt.query([]).map_err(|e| sql_error(sql, e))?;
        let mut cells = Vec::with_capacity(columns.len());
        while let Some(row) = rows.next().map_err(|e| sql_error(sql, e))? {
            cells.clear();
            for i in 0..columns.len() {
                cells.push(match row.get_ref(i)? {
                    ValueRef::Null => Cell::Null,
                    ValueRef::Integer(v) => Cell::Integer(v),
                    ValueRef::Real(v) => Cell::Real(v),
                    ValueRef::Text(v) => Cell::Text(String::from_utf8_lossy(v).into_owned()),
                    ValueRef::Blob(v) => Cell::Blob(v.to_vec()),
                });
            }
            on(Rows::Row(&cells))?;
        }
        Ok(())
    }

    /// Finds comments and session titles containing every word of `text` (split on
    /// whitespace), case-insensitively. Words of three characters or more go through the
    /// trigram index; shorter ones, which it cannot match, are checked by a scan. The
    /// text is never read as FTS5 syntax.
    pub fn search(&self, text: &str, limit: usize) -> Result<Vec<Hit>> {
        let words: Vec<&str> = text.split_whitespace().collect();
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let (long, short): (Vec<&str>, Vec<&str>) =
            words.iter().partition(|w| w.chars().count() >= 3);
        let likes: Vec<String> = short.iter().map(|w| like_pattern(w)).collect();
        let like_filter = |column: &str| -> String {
            (0..likes.len())
                .map(|i| format!(" AND {column} LIKE ?{} ESCAPE '\\'", i + 3))
                .collect()
        };
        // Hits come in archive order (by rowid), which lets LIMIT stop early: ranking
        // would first score every match, and a common word matches most comments.
        let sql = if long.is_empty() {
            // The index's own copy of the text is the smallest thing to scan.
            format!(
                "SELECT rowid, text FROM search WHERE 1{} ORDER BY rowid LIMIT ?2",
                like_filter("text")
            )
        } else {
            format!(
                "SELECT rowid, snippet(search, 0, '{}', '{}', '…', 24) FROM search
                 WHERE search MATCH ?1{} ORDER BY rowid LIMIT ?2",
                MARK.0,
                MARK.1,
                like_filter("text")
            )
        };
        // Each word a quoted phrase: `"` doubled, nothing else can be syntax.
        let phrase = long
            .iter()
            .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(" ");
        let mut stmt = self.conn.prepare(&sql)?;
        let limit = limit as i64;
        let mut params: Vec<&dyn rusqlite::ToSql> = vec![&phrase, &limit];
        for like in &likes {
            params.push(like);
        }
        let found: Vec<(i64, String)> = stmt
            .query_map(params.as_slice(), |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut place = self.conn.prepare_cached(
            "SELECT p.slug, p.title, s.position, s.title FROM session s JOIN post p ON p.id = s.post_id
             WHERE s.id = CASE WHEN ?1 % 2 = 1 THEN (?1 - 1) / 2
                               ELSE (SELECT session_id FROM block WHERE id = ?1 / 2) END",
        )?;
        let mut hits = Vec::with_capacity(found.len());
        for (rowid, text) in found {
            let snippet = if long.is_empty() {
                mark(&text, &short)
            } else {
                mark_short(&text, &short)
            };
            let hit = place.query_row([rowid], |r| {
                Ok(Hit {
                    post: r.get(0)?,
                    post_title: r.get(1)?,
                    session_position: r.get(2)?,
                    session: r.get(3)?,
                    kind: if rowid % 2 == 1 { "session" } else { "comment" },
                    snippet: snippet.clone(),
                })
            })?;
            hits.push(hit);
        }
        Ok(hits)
    }
}

/// SQLite's message on one line, with where in the statement it points, not the whole
/// statement echoed back.
fn sql_error(sql: &str, e: rusqlite::Error) -> Error {
    match e {
        rusqlite::Error::SqlInputError { msg, offset, .. } if offset >= 0 => {
            let before = &sql[..(offset as usize).min(sql.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            Error::Query(format!("{msg} (line {line}, column {column})"))
        }
        rusqlite::Error::SqlInputError { msg, .. } => Error::Query(msg),
        other => Error::Query(other.to_string().replace('\n', " ")),
    }
}

fn like_pattern(word: &str) -> String {
    let escaped = word
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// A window of `text` around the first match of the first word, every word marked.
fn mark(text: &str, words: &[&str]) -> String {
    let lower = text.to_lowercase();
    let first = words
        .first()
        .and_then(|w| lower.find(&w.to_lowercase()))
        .unwrap_or(0);
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let at = chars.iter().position(|(i, _)| *i >= first).unwrap_or(0);
    let from = at.saturating_sub(24);
    let to = (at + 40).min(chars.len());
    let start = chars.get(from).map_or(0, |c| c.0);
    let end = chars.get(to).map_or(text.len(), |c| c.0);
    let window = &text[start..end];
    let mut marked = mark_short(window, words);
    if start > 0 {
        marked.insert(0, '…');
    }
    if end < text.len() {
        marked.push('…');
    }
    marked
}

/// Marks short words in a snippet the index could not mark.
fn mark_short(text: &str, words: &[&str]) -> String {
    let mut out = text.to_string();
    for word in words {
        let lower = out.to_lowercase();
        let needle = word.to_lowercase();
        // Lower-casing can change byte lengths outside ASCII; mark only where it did not.
        if lower.len() != out.len() {
            continue;
        }
        if let Some(at) = lower.find(&needle) {
            out.insert_str(at + needle.len(), MARK.1);
            out.insert_str(at, MARK.0);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::NewPost;
    use crate::post::{ParseOptions, parse};
    use crate::source::Target;

    fn archive_with(text: &str) -> Archive {
        let mut archive = Archive::in_memory();
        let post = parse(text, ParseOptions::default()).unwrap();
        let targets: Vec<Target> = post
            .slides
            .iter()
            .map(|s| Target::Web(s.url.clone()))
            .collect();
        archive
            .store_post(&NewPost {
                source: "/p.md",
                content: text,
                sha256: "s",
                post: &post,
                targets: &targets,
                title: "T",
                slug: "p",
                parsed_with: "v",
            })
            .unwrap();
        archive
    }

    const POST: &str = "## eBPF in Production\n\n这个 Session 讲了吵闹的邻居问题。\n\n## Go 与 Rust\n\n用 Go 写的 100% 覆盖\n";

    #[test]
    fn search_finds_substrings_in_any_script() {
        let archive = archive_with(POST);
        let hits = archive.search("吵闹的邻居", 10).unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(
            (hits[0].kind, hits[0].session.as_str()),
            ("comment", "eBPF in Production")
        );
        assert!(
            hits[0].snippet.contains("[吵闹的邻居]"),
            "{}",
            hits[0].snippet
        );
        let hits = archive.search("ebpf", 10).unwrap();
        assert_eq!((hits.len(), hits[0].kind), (1, "session"));
    }

    #[test]
    fn short_words_fall_back_to_a_scan() {
        let archive = archive_with(POST);
        let hits = archive.search("Go", 10).unwrap();
        assert_eq!(hits.len(), 2, "{hits:?}");
        assert!(
            hits.iter()
                .any(|h| h.kind == "session" && h.snippet.contains("[Go]"))
        );
        assert_eq!(archive.search("邻居", 10).unwrap().len(), 1);
        assert_eq!(archive.search("Go 覆盖", 10).unwrap().len(), 1);
    }

    #[test]
    fn search_text_is_never_syntax() {
        let archive = archive_with(POST);
        for text in [
            "\"",
            "NEAR(a b)",
            "a OR b",
            "100%",
            "_",
            "*",
            "ebpf\" OR \"x",
        ] {
            archive
                .search(text, 10)
                .unwrap_or_else(|e| panic!("{text}: {e}"));
        }
        assert_eq!(archive.search("100%", 10).unwrap().len(), 1);
        assert_eq!(archive.search("_", 10).unwrap().len(), 0);
    }

    #[test]
    fn writing_statements_are_refused() {
        let archive = archive_with(POST);
        let err = archive.query("DELETE FROM post", |_| Ok(())).unwrap_err();
        assert!(err.to_string().contains("only reads"), "{err}");
        let mut seen = Vec::new();
        archive
            .query("SELECT title FROM sessions ORDER BY id", |rows| {
                seen.push(match rows {
                    Rows::Columns(c) => c.join(","),
                    Rows::Row(r) => format!("{:?}", r[0]),
                });
                Ok(())
            })
            .unwrap();
        assert_eq!(
            seen,
            [
                "title",
                "Text(\"eBPF in Production\")",
                "Text(\"Go 与 Rust\")"
            ]
        );
    }
}
