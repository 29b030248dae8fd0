//! End-to-end tests of asking the archive questions and keeping it healthy (issue 4):
//! `query`, the README cookbook and the indexes behind it, `search`, `stats`, `dupes`,
//! `verify`, `gc`, `remove`, and two processes working on one archive at once. Each test
//! runs the real binary against an archive in its own temporary folder; posts are page
//! bundles (an `index.md` with tiny PNG files next to it), so nothing touches the network.

mod common;

use common::{Run, Sandbox, png, sha256_hex};
use rusqlite::Connection;
use rusqlite::types::Value as Sql;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime};

const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
const EXAMPLE_BUNDLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/kubecon-2024-recap");

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

impl Sandbox {
    /// Imports (images are read from disk: page bundles need no network).
    fn import(&self, args: &[&str]) -> Run {
        let mut all = vec!["import"];
        all.extend_from_slice(args);
        self.run(&all)
    }

    fn query(&self, format: &str, sql: &str) -> Run {
        self.run(&["query", "--format", format, sql])
    }

    fn path(&self, rel: &str) -> String {
        self.root().join(rel).to_str().unwrap().to_string()
    }

    /// The `file://` URL the archive records for a file in the sandbox.
    fn file_url(&self, rel: &str) -> String {
        let path = std::fs::canonicalize(self.root().join(rel)).unwrap();
        format!("file://{}", path.display())
    }

    /// Every row of a statement, every column, as SQLite values.
    fn rows(&self, sql: &str) -> (Vec<String>, Vec<Vec<Sql>>) {
        let db = self.db();
        let mut stmt = db.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        let columns: Vec<String> = stmt.column_names().map(String::from).collect();
        let n = columns.len();
        let rows = stmt
            .query_map([], |r| (0..n).map(|i| r.get::<_, Sql>(i)).collect())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        (columns, rows)
    }

    /// SHA-256 of archive.db and of its -wal file (a missing -wal counts as empty).
    fn fingerprint(&self) -> (String, String) {
        let db = std::fs::read(self.db_path()).expect("archive.db exists");
        let wal = std::fs::read(self.archive().join("archive.db-wal")).unwrap_or_default();
        (sha256_hex(&db), sha256_hex(&wal))
    }

    /// The stored file of an image, by hash.
    fn image_path(&self, sha256: &str) -> PathBuf {
        let ext: String = self
            .db()
            .query_row("SELECT ext FROM image WHERE sha256 = ?1", [sha256], |r| {
                r.get(0)
            })
            .unwrap_or_else(|e| panic!("image {sha256}: {e}"));
        self.archive()
            .join("images")
            .join(&sha256[..2])
            .join(format!("{sha256}.{ext}"))
    }
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(self.stdout())
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout()))
    }
}

/// Display width in a terminal: CJK ideographs and full-width forms take two columns.
fn display_width(text: &str) -> usize {
    text.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F
            | 0x2E80..=0x303E
            | 0x3041..=0x33FF
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xA000..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6 => 2,
            _ => 1,
        })
        .sum()
}

/// A JSON object with its keys in the order they were written (serde_json's map sorts).
#[derive(Debug)]
struct Ordered(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Ordered, A::Error> {
                let mut fields = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    fields.push(entry);
                }
                Ok(Ordered(fields))
            }
        }
        d.deserialize_map(Visitor)
    }
}

impl Ordered {
    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| k.as_str()).collect()
    }
}

/// RFC 4180 CSV: quoted fields may hold commas, doubled quotes and line breaks.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(!quoted, "unterminated quoted field in CSV:\n{text}");
    assert!(
        field.is_empty() && row.is_empty(),
        "CSV does not end with a line break:\n{text}"
    );
    rows
}

/// A SQLite value as `query` prints it in CSV (NULL empty, blobs in hex).
fn csv_text(value: &Sql) -> String {
    match value {
        Sql::Null => String::new(),
        Sql::Integer(v) => v.to_string(),
        Sql::Real(v) => v.to_string(),
        Sql::Text(v) => v.clone(),
        Sql::Blob(v) => hex::encode(v),
    }
}

/// A SQLite value as `query` prints it in JSON.
fn json_value(value: &Sql) -> Value {
    match value {
        Sql::Null => Value::Null,
        Sql::Integer(v) => (*v).into(),
        Sql::Real(v) => (*v).into(),
        Sql::Text(v) => v.clone().into(),
        Sql::Blob(v) => hex::encode(v).into(),
    }
}

/// Sets a file's modification time `age` into the past.
fn age_file(path: &Path, age: Duration) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() - age).unwrap();
}

/// A 64-hex-digit name that no content will ever hash to in these tests.
fn fake_sha(prefix: &str) -> String {
    format!("{prefix}{}", "0123456789abcdef".repeat(4))[..64].to_string()
}

/// Copies a folder tree.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

// ---------------------------------------------------------------------------------------
// Fixture archives
// ---------------------------------------------------------------------------------------

/// Two page bundles: CJK titles (one with a full-width colon), a title holding a comma
/// and quotes, a two-line comment: what the output formats must carry exactly.
fn formats_archive() -> Sandbox {
    let sb = Sandbox::new();
    sb.write(
        "posts/kubecon/index.md",
        "---\ntitle: KubeCon 回顾\ntags: [云原生, k8s]\n---\n\n\
         ## 吵闹的邻居：多租户集群里的资源隔离\n\n讲得很实在。\n第二行。\n\n![](s1.png)\n\n\
         ## Go 与 Rust\n\n![](s1.png)\n\n![](s2.png)\n",
    );
    sb.write("posts/kubecon/s1.png", png(4, 3, 1, 0));
    sb.write("posts/kubecon/s2.png", png(5, 6, 2, 0));
    sb.write(
        "posts/plain/index.md",
        "## Scaling, \"fast\" and wide\n\nA comment, with \"quotes\".\n\n![](a.png)\n\n## x\n\nshort\n",
    );
    sb.write("posts/plain/a.png", png(7, 8, 3, 0));
    sb.import(&[&sb.path("posts")]).ok();
    sb
}

/// The archive whose numbers `stats` and `dupes` are checked against:
/// - alpha: S1 (a comment with a GitHub link, shared.png), S2 (shared.png, own.png,
///   missing.png, which does not exist);
/// - beta: T1 (a comment, same.png = shared.png's bytes, twice.png), T2 (twice.png).
struct Known {
    sb: Sandbox,
    shared: Vec<u8>,
    own: Vec<u8>,
    twice: Vec<u8>,
}

fn known_archive() -> Known {
    let sb = Sandbox::new();
    let shared = png(9, 9, 7, 0);
    let own = png(2, 2, 1, 17);
    let twice = png(3, 3, 5, 7);
    sb.write(
        "posts/alpha/index.md",
        "---\ntitle: Alpha\ntags: [k8s]\n---\n\n## S1\n\n\
         Code at https://github.com/acme/tool for everyone.\n\n![](shared.png)\n\n\
         ## S2\n\n![](shared.png)\n\n![](own.png)\n\n![](missing.png)\n",
    );
    sb.write("posts/alpha/shared.png", &shared);
    sb.write("posts/alpha/own.png", &own);
    sb.write(
        "posts/beta/index.md",
        "---\ntitle: Beta\n---\n\n## T1\n\nThe second comment.\n\n![](same.png)\n\n![](twice.png)\n\n\
         ## T2\n\n![](twice.png)\n",
    );
    sb.write("posts/beta/same.png", &shared);
    sb.write("posts/beta/twice.png", &twice);
    let run = sb.import(&[&sb.path("posts")]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("missing.png"),
        "the missing image is named:\n{}",
        run.stderr
    );
    Known {
        sb,
        shared,
        own,
        twice,
    }
}

/// A page bundle with two images, imported with its images stored.
fn stored_bundle() -> (Sandbox, Vec<String>) {
    let sb = Sandbox::new();
    let (one, two) = (png(4, 3, 11, 0), png(6, 2, 12, 5));
    sb.write(
        "bundle/index.md",
        "## Talk\n\nWords.\n\n![](one.png)\n\n![](two.png)\n",
    );
    sb.write("bundle/one.png", &one);
    sb.write("bundle/two.png", &two);
    sb.import(&[&sb.path("bundle")]).ok();
    let run = sb.run(&["verify"]);
    run.ok();
    (sb, vec![sha256_hex(&one), sha256_hex(&two)])
}

/// A generated post: `sessions` sessions of `slides` slide URLs each, a comment with a
/// link per session, some URLs shared between posts.
fn generated_post(name: &str, sessions: usize, slides: usize) -> String {
    let mut text = format!("---\ntitle: Generated {name}\ntags: [gen]\n---\n\nIntro of {name}.\n");
    for s in 0..sessions {
        text.push_str(&format!(
            "\n## {name} session {s}\n\n{name} 第 {s} 场的评论, see https://github.com/org/{name}-{s}.\n"
        ));
        for i in 0..slides {
            if i % 10 == 9 {
                text.push_str(&format!("\n![](https://img.example.net/common/{i}.png)\n"));
            } else {
                text.push_str(&format!(
                    "\n![slide {i}](https://img.example.net/{name}/{s}/{i}.png)\n"
                ));
            }
        }
    }
    text
}

fn write_generated(
    sb: &Sandbox,
    folder: &str,
    prefix: &str,
    posts: usize,
    sessions: usize,
    slides: usize,
) {
    for p in 0..posts {
        let name = format!("{prefix}{p:02}");
        sb.write(
            &format!("{folder}/{name}.md"),
            generated_post(&name, sessions, slides),
        );
    }
}

// ---------------------------------------------------------------------------------------
// query
// ---------------------------------------------------------------------------------------

#[test]
fn query_table_aligns_columns_including_cjk_titles() {
    let sb = formats_archive();
    let sql = "SELECT post, position, title, comments, slides FROM sessions ORDER BY id";
    let run = sb.run(&["query", sql]);
    run.ok();
    let (columns, rows) = sb.rows(sql);
    assert_eq!(rows.len(), 4);
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(csv_text).collect())
        .collect();
    let widths: Vec<usize> = (0..columns.len())
        .map(|i| {
            cells
                .iter()
                .map(|r| display_width(&r[i]))
                .chain([display_width(&columns[i])])
                .max()
                .unwrap()
        })
        .collect();
    let line = |row: &[String]| -> String {
        row.iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - display_width(c))))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let rule = widths
        .iter()
        .map(|w| "-".repeat(*w))
        .collect::<Vec<_>>()
        .join("  ");
    let mut expected = vec![line(&columns), rule];
    expected.extend(cells.iter().map(|r| line(r)));
    let actual: Vec<&str> = run.stdout().lines().collect();
    assert_eq!(
        actual,
        expected,
        "table, got:\n{}\nwanted:\n{}",
        run.stdout(),
        expected.join("\n")
    );
    assert!(
        run.stdout().contains("吵闹的邻居：多租户集群里的资源隔离"),
        "the CJK title is printed whole:\n{}",
        run.stdout()
    );
    assert!(run.stderr.contains("(4 rows)"), "row count: {}", run.stderr);
}

#[test]
fn query_csv_json_and_ndjson_carry_the_same_rows_exactly() {
    let sb = formats_archive();
    for sql in [
        "SELECT post, position, title, comments, slides FROM sessions ORDER BY id",
        "SELECT id, post, session, kind, text, markdown FROM comments ORDER BY id",
        "SELECT * FROM slides ORDER BY id",
        "SELECT 1.5 AS real, NULL AS nil, x'00ff' AS blob, '云' AS cjk, -7 AS negative",
    ] {
        let (columns, rows) = sb.rows(sql);
        assert!(!rows.is_empty(), "{sql} has rows");

        let csv = sb.query("csv", sql);
        csv.ok();
        let parsed = parse_csv(csv.stdout());
        assert_eq!(parsed[0], columns, "CSV header of {sql}");
        let expected: Vec<Vec<String>> = rows
            .iter()
            .map(|r| r.iter().map(csv_text).collect())
            .collect();
        assert_eq!(parsed[1..], expected[..], "CSV rows of {sql}");

        let json = sb.query("json", sql);
        json.ok();
        let objects: Vec<Ordered> = serde_json::from_str(json.stdout()).unwrap_or_else(|e| {
            panic!(
                "{sql}: JSON is an array of objects ({e}):\n{}",
                json.stdout()
            )
        });
        let ndjson = sb.query("ndjson", sql);
        ndjson.ok();
        let lines: Vec<Ordered> = ndjson
            .stdout()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("NDJSON line {l:?}: {e}")))
            .collect();
        for (what, objects) in [("JSON", &objects), ("NDJSON", &lines)] {
            assert_eq!(objects.len(), rows.len(), "{what} rows of {sql}");
            for (object, row) in objects.iter().zip(&rows) {
                assert_eq!(
                    object.keys(),
                    columns,
                    "{what} keys in column order for {sql}"
                );
                let values: Vec<Value> = object.0.iter().map(|(_, v)| v.clone()).collect();
                let wanted: Vec<Value> = row.iter().map(json_value).collect();
                assert_eq!(values, wanted, "{what} values of {sql}");
            }
        }
    }
    // No rows: still valid documents.
    let none = "SELECT * FROM posts WHERE 0";
    assert_eq!(sb.query("json", none).ok().json(), serde_json::json!([]));
    assert_eq!(sb.query("ndjson", none).ok().stdout(), "");
    let csv = sb.query("csv", none);
    assert_eq!(parse_csv(csv.ok().stdout()).len(), 1, "header only");
}

#[test]
fn query_refuses_writing_statements_and_leaves_the_archive_byte_for_byte_unchanged() {
    let sb = formats_archive();
    // A first read creates the -wal and -shm files a WAL reader needs; from then on
    // nothing may change.
    sb.query("table", "SELECT count(*) FROM post").ok();
    let before = sb.fingerprint();
    let posts = sb.count("SELECT count(*) FROM post");
    for sql in [
        "DELETE FROM post",
        "UPDATE post SET title = 'x'",
        "INSERT INTO post (source, slug, title, parsed_with, sha256, bytes, imported_at, updated_at, content) VALUES ('s', 's', 't', 'p', 'h', 0, '', '', x'')",
        "DROP TABLE post",
        "DROP VIEW slides",
        "CREATE TABLE t (x)",
        "PRAGMA user_version=9",
        "PRAGMA journal_mode=DELETE",
        "WITH x AS (SELECT 1) DELETE FROM session",
        "REPLACE INTO image (sha256, bytes, media_type, ext, stored_at) VALUES ('a', 1, 'x', 'png', '')",
        "VACUUM",
        "ANALYZE",
        "INSERT INTO search (search) VALUES ('optimize')",
    ] {
        let run = sb.query("table", sql);
        run.expect_code(1);
        assert!(
            run.stderr.contains("only reads") && run.stderr.contains("nothing was changed"),
            "{sql}: a clear message, got {:?}",
            run.stderr
        );
        assert_eq!(run.stdout(), "", "{sql}: nothing printed");
        assert_eq!(
            sb.fingerprint(),
            before,
            "{sql}: archive.db or its WAL changed"
        );
    }
    // Writing to a view fails as SQLite says it, just as clearly.
    let run = sb.query("table", "DELETE FROM slides");
    run.expect_code(1);
    assert_eq!(
        run.stderr.trim_end(),
        "slidearchive: cannot modify slides because it is a view"
    );
    assert_eq!(
        sb.fingerprint(),
        before,
        "DELETE FROM slides changed the archive"
    );
    // ATTACH of a new file would create it: refused, nothing created.
    let other = sb.root().join("other.db");
    let attach = format!("ATTACH '{}' AS other", other.display());
    let run = sb.query("table", &attach);
    run.expect_code(1);
    assert_eq!(run.stderr.lines().count(), 1, "one line: {:?}", run.stderr);
    assert!(run.stderr.starts_with("slidearchive: "), "{:?}", run.stderr);
    assert!(!other.exists(), "ATTACH created {}", other.display());
    assert_eq!(sb.fingerprint(), before, "ATTACH changed the archive");
    assert_eq!(sb.count("SELECT count(*) FROM post"), posts);
}

#[test]
fn query_sql_error_exits_1_with_sqlites_message_on_one_line() {
    let sb = formats_archive();
    for (sql, message) in [
        ("SELEC 1", "near \"SELEC\": syntax error"),
        ("SELECT nosuch FROM posts", "no such column: nosuch"),
        ("SELECT * FROM nosuch", "no such table: nosuch"),
    ] {
        let run = sb.query("table", sql);
        run.expect_code(1);
        assert_eq!(run.stdout(), "", "{sql}");
        assert_eq!(
            run.stderr.lines().count(),
            1,
            "{sql}: one line: {:?}",
            run.stderr
        );
        assert!(
            run.stderr.starts_with("slidearchive: ") && run.stderr.contains(message),
            "{sql}: SQLite's message {message:?}, got {:?}",
            run.stderr
        );
    }
}

#[test]
fn query_sql_error_in_a_multi_line_statement_is_still_one_line() {
    // Cookbook statements span lines, and so do the ones users paste.
    let sb = formats_archive();
    let sql = "SELECT post,\n       title\n  FROM sessions\n WHERE nosuch = 1";
    let run = sb.query("table", sql);
    run.expect_code(1);
    assert!(
        run.stderr.contains("no such column: nosuch"),
        "{:?}",
        run.stderr
    );
    assert_eq!(
        run.stderr.lines().count(),
        1,
        "the error is one line, got {:?}",
        run.stderr
    );
    let run = sb.query("table", "SELECT post,\n  FROM slides");
    run.expect_code(1);
    assert!(run.stderr.contains("syntax error"), "{:?}", run.stderr);
    assert_eq!(
        run.stderr.lines().count(),
        1,
        "the error is one line, got {:?}",
        run.stderr
    );
}

#[test]
fn query_on_a_missing_archive_fails_clearly_and_creates_nothing() {
    let sb = Sandbox::new();
    let run = sb.query("table", "SELECT 1");
    run.expect_code(1);
    assert!(
        run.stderr.contains("no archive at") && run.stderr.contains("slidearchive import"),
        "a clear message: {:?}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{:?}", run.stderr);
    assert!(!sb.archive().exists(), "query created the archive folder");
    let run = sb.run(&["search", "anything"]);
    run.expect_code(1);
    assert!(run.stderr.contains("no archive at"), "{:?}", run.stderr);
    assert!(!sb.archive().exists(), "search created the archive folder");
}

// ---------------------------------------------------------------------------------------
// The README cookbook, and the indexes behind it
// ---------------------------------------------------------------------------------------

/// The ```sql blocks of the README's Cookbook section.
fn cookbook() -> Vec<String> {
    let readme = std::fs::read_to_string(README).expect("README.md");
    let start = readme
        .find("\n### Cookbook\n")
        .expect("README has a Cookbook section");
    let section = &readme[start + 1..];
    let end = section[1..].find("\n#").map_or(section.len(), |i| i + 1);
    let section = &section[..end];
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in section.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```sql") => current = Some(String::new()),
            (Some(_), "```") => blocks.push(current.take().unwrap()),
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    assert!(
        current.is_none(),
        "unterminated ```sql block in the cookbook"
    );
    blocks
}

#[test]
fn readme_cookbook_queries_all_run_on_an_archive_with_a_few_posts() {
    let sb = Sandbox::new();
    copy_dir(Path::new(EXAMPLE_BUNDLE), &sb.root().join("posts/kubecon"));
    sb.write(
        "posts/ebpf/index.md",
        "---\ntitle: eBPF 之夜\ntags: [ebpf, 云原生]\n---\n\n## eBPF in Production\n\n\
         这个 Session 讲了 eBPF 和吵闹的邻居。 https://github.com/cilium/cilium\n\n\
         ![](cover.png)\n\n![](same.png)\n\n## 第二场\n\n![](cover.png)\n",
    );
    sb.write("posts/ebpf/cover.png", png(10, 10, 40, 3));
    // The example's first slide, under another name: content shared between posts.
    sb.write(
        "posts/ebpf/same.png",
        std::fs::read(Path::new(EXAMPLE_BUNDLE).join("slide-01.png")).unwrap(),
    );
    sb.import(&[&sb.path("posts")]).ok();
    sb.write(
        "broken/index.md",
        "---\ntags: [ebpf]\n---\n\n## Broken\n\n![](gone.png)\n",
    );
    sb.import(&[&sb.path("broken")]).expect_code(1);

    let blocks = cookbook();
    assert!(
        blocks.len() >= 8,
        "the cookbook has at least eight queries, found {}",
        blocks.len()
    );
    let mut empty = Vec::new();
    for sql in &blocks {
        let run = sb.query("json", sql);
        run.ok();
        let rows = run.json();
        let rows = rows
            .as_array()
            .unwrap_or_else(|| panic!("{sql}: not an array"));
        if rows.is_empty() {
            empty.push(sql.clone());
        }
    }
    // Every question has an answer on this archive: a query that finds nothing here
    // likely names a column or value wrongly.
    assert!(
        empty.is_empty(),
        "cookbook queries with no rows: {empty:#?}"
    );
}

/// Plan lines that read every row of slide or block.
fn full_scans(plan: &[String]) -> Vec<String> {
    plan.iter()
        .filter(|detail| {
            let mut words = detail.split_whitespace();
            words.next() == Some("SCAN")
                && matches!(words.next(), Some("sl" | "slide" | "b" | "block"))
                && !detail.contains("USING")
        })
        .cloned()
        .collect()
}

#[test]
fn lookups_by_post_session_and_sha256_use_indexes_not_full_scans() {
    let sb = Sandbox::new();
    write_generated(&sb, "posts", "p", 30, 5, 10);
    sb.import(&["--no-fetch", &sb.path("posts")]).ok();
    assert_eq!(sb.count("SELECT count(*) FROM slide"), 1500);
    // Synthetic images for most URLs (nothing is downloaded), so sha256 lookups have
    // something to find, then fresh planner statistics.
    {
        let db = sb.db();
        db.execute_batch(
            "INSERT INTO image (sha256, bytes, media_type, ext, stored_at)
                 SELECT printf('%064x', id), 1000 + id, 'image/png', 'png', '' FROM url WHERE id % 7 != 0;
             UPDATE url SET state = 'stored', sha256 = printf('%064x', id) WHERE id % 7 != 0;
             ANALYZE;",
        )
        .unwrap();
    }
    let (post, session, sha) = {
        let db = sb.db();
        db.query_row(
            "SELECT p.slug, s.id, u.sha256 FROM slide sl JOIN post p ON p.id = sl.post_id
             JOIN session s ON s.id = sl.session_id JOIN url u ON u.id = sl.url_id
             WHERE u.sha256 IS NOT NULL ORDER BY sl.id LIMIT 1 OFFSET 700",
            [],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                ))
            },
        )
        .unwrap()
    };
    let post_id = sb.count(&format!("SELECT id FROM post WHERE slug = '{post}'"));
    let (by_slug, by_id, by_session, by_sha) = (
        Sql::Text(post.clone()),
        Sql::Integer(post_id),
        Sql::Integer(session),
        Sql::Text(sha.clone()),
    );
    let lookups = [
        ("SELECT * FROM slides WHERE post = ?1", &by_slug),
        ("SELECT * FROM slides WHERE post_id = ?1", &by_id),
        ("SELECT * FROM slides WHERE session_id = ?1", &by_session),
        ("SELECT * FROM slides WHERE sha256 = ?1", &by_sha),
        ("SELECT * FROM comments WHERE post_id = ?1", &by_id),
        ("SELECT * FROM comments WHERE post = ?1", &by_slug),
        ("SELECT * FROM comments WHERE session_id = ?1", &by_session),
        ("SELECT * FROM blocks WHERE session_id = ?1", &by_session),
        ("SELECT * FROM blocks WHERE post_id = ?1", &by_id),
        ("SELECT * FROM blocks WHERE post = ?1", &by_slug),
        ("SELECT * FROM sessions WHERE post = ?1", &by_slug),
        ("SELECT count(*) FROM slides WHERE sha256 = ?1", &by_sha),
        (
            "SELECT post, session, position, url FROM slides WHERE sha256 = \
             (SELECT sha256 FROM images ORDER BY bytes DESC LIMIT 1) AND ?1 IS NOT NULL",
            &by_id,
        ),
    ];
    // The check itself can see a full scan.
    let run = sb.query(
        "json",
        "EXPLAIN QUERY PLAN SELECT * FROM slides WHERE alt = 'x'",
    );
    let plan: Vec<String> = run
        .ok()
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["detail"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(full_scans(&plan).len(), 1, "{plan:?}");
    let mut bad = Vec::new();
    let db = sb.db();
    for (sql, value) in lookups {
        // As the user sees it, through `slidearchive query` with the value written in ...
        let literal = match value {
            Sql::Text(t) => format!("'{t}'"),
            Sql::Integer(n) => n.to_string(),
            other => unreachable!("{other:?}"),
        };
        let written = sql.replace("?1", &literal);
        let run = sb.query("json", &format!("EXPLAIN QUERY PLAN {written}"));
        run.ok();
        let plan: Vec<String> = run
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["detail"].as_str().unwrap().to_string())
            .collect();
        assert!(!plan.is_empty(), "{written}: a plan");
        let scans = full_scans(&plan);
        if !scans.is_empty() {
            bad.push(format!("{written}: {scans:?}"));
        }
        // ... and with the value bound as a parameter.
        let plan: Vec<String> = db
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap()
            .query_map([value], |r| r.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let scans = full_scans(&plan);
        if !scans.is_empty() {
            bad.push(format!("{sql} (bound): {scans:?}"));
        }
    }
    assert!(
        bad.is_empty(),
        "full scans of slide or block:\n{}",
        bad.join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// search
// ---------------------------------------------------------------------------------------

fn search_archive() -> Sandbox {
    let sb = Sandbox::new();
    sb.write(
        "posts/tokyo/index.md",
        "---\ntitle: 东京 Recap\n---\n\nIntro.\n\n\
         ## eBPF in Production\n\n\
         这个 Session 讲了多租户集群里吵闹的邻居问题，很有意思，值得再听一遍。\n\n\
         ## Go 与 Rust 在东京\n\n\
         用 Go 写的服务 100% 覆盖, with snake_case names, 2*3 stars and \"quoted NEAR(x y)\" OR not.\n\n\
         ## Scheduling\n\n\
         The scheduler talk was about queues and fairness, 1000 jobs.\n",
    );
    sb.import(&[&sb.path("posts")]).ok();
    sb
}

/// `search --format json`, as (post, session, kind, snippet).
fn search(sb: &Sandbox, words: &[&str]) -> Vec<(String, String, String, String)> {
    let mut args = vec!["search", "--format", "json", "--"];
    args.extend_from_slice(words);
    let run = sb.run(&args);
    run.ok();
    run.json()
        .as_array()
        .unwrap_or_else(|| panic!("{words:?}: JSON array:\n{}", run.stdout()))
        .iter()
        .map(|h| {
            let text = |k: &str| {
                h[k].as_str()
                    .unwrap_or_else(|| panic!("{words:?}: hit without {k}: {h}"))
                    .to_string()
            };
            (text("post"), text("session"), text("kind"), text("snippet"))
        })
        .collect()
}

fn sessions_of(hits: &[(String, String, String, String)]) -> BTreeSet<(String, String)> {
    hits.iter()
        .map(|(_, session, kind, _)| (session.clone(), kind.clone()))
        .collect()
}

fn set(items: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn search_finds_a_chinese_substring_inside_a_longer_comment() {
    let sb = search_archive();
    let hits = search(&sb, &["吵闹的邻居"]);
    assert_eq!(
        sessions_of(&hits),
        set(&[("eBPF in Production", "comment")])
    );
    assert_eq!(hits[0].0, "tokyo");
    assert!(hits[0].3.contains("[吵闹的邻居]"), "marked: {}", hits[0].3);
    let text = sb.run(&["search", "吵闹的邻居"]);
    text.ok();
    assert!(
        text.stdout().contains("tokyo") && text.stdout().contains("[吵闹的邻居]"),
        "text output shows the post and the marked match:\n{}",
        text.stdout()
    );
    assert!(
        search(&sb, &["吵闹的朋友"]).is_empty(),
        "a near miss is no match"
    );
}

#[test]
fn search_is_case_insensitive_in_english() {
    let sb = search_archive();
    for word in ["ebpf", "EBPF", "eBPF"] {
        let hits = search(&sb, &[word]);
        assert_eq!(
            sessions_of(&hits),
            set(&[("eBPF in Production", "session")]),
            "{word}"
        );
        assert!(hits[0].3.contains("[eBPF]"), "{word}: {}", hits[0].3);
    }
    let hits = search(&sb, &["SCHEDULER"]);
    assert_eq!(
        sessions_of(&hits),
        set(&[("Scheduling", "comment")]),
        "inside a word, any case"
    );
}

#[test]
fn search_finds_two_character_words_through_the_fallback() {
    let sb = search_archive();
    let hits = search(&sb, &["Go"]);
    assert_eq!(
        sessions_of(&hits),
        set(&[
            ("Go 与 Rust 在东京", "session"),
            ("Go 与 Rust 在东京", "comment")
        ]),
        "{hits:#?}"
    );
    for hit in &hits {
        assert!(hit.3.contains("[Go]"), "marked: {}", hit.3);
    }
    let hits = search(&sb, &["东京"]);
    assert_eq!(
        sessions_of(&hits),
        set(&[("Go 与 Rust 在东京", "session")]),
        "{hits:#?}"
    );
    assert!(hits[0].3.contains("[东京]"), "marked: {}", hits[0].3);
    let hits = search(&sb, &["邻居"]);
    assert_eq!(
        sessions_of(&hits),
        set(&[("eBPF in Production", "comment")])
    );
}

#[test]
fn search_ands_several_words() {
    let sb = search_archive();
    for words in [
        &["吵闹", "邻居"][..],
        &["多租户", "邻居"],
        &["集群里", "很有意思"],
        &["Session", "吵闹的邻居"],
    ] {
        assert_eq!(
            sessions_of(&search(&sb, words)),
            set(&[("eBPF in Production", "comment")]),
            "{words:?}"
        );
    }
    // Each word alone matches, but no one title or comment holds both.
    assert_eq!(search(&sb, &["scheduler"]).len(), 1);
    for words in [
        &["吵闹的邻居", "scheduler"][..],
        &["Go", "fairness"],
        &["eBPF", "吵闹"],
    ] {
        assert_eq!(search(&sb, words), vec![], "{words:?}");
    }
}

#[test]
fn search_treats_fts_syntax_characters_as_text() {
    let sb = search_archive();
    let go = set(&[("Go 与 Rust 在东京", "comment")]);
    for word in [
        "\"",
        "NEAR(",
        "NEAR(x",
        "\"quoted",
        "y)\"",
        "100%",
        "%",
        "_",
        "*",
        "2*3",
        "snake_case",
    ] {
        let hits = search(&sb, &[word]);
        assert_eq!(
            sessions_of(&hits),
            go,
            "{word:?} is found as text: {hits:#?}"
        );
        assert!(
            hits[0]
                .3
                .to_lowercase()
                .contains(&format!("[{}]", word.to_lowercase())),
            "{word:?} marked: {}",
            hits[0].3
        );
    }
    // OR is a two-letter word like any other (it is also inside other words).
    let hits = search(&sb, &["OR"]);
    assert!(
        sessions_of(&hits).contains(&("Go 与 Rust 在东京".to_string(), "comment".to_string())),
        "{hits:#?}"
    );
    // What would be FTS syntax or LIKE wildcards finds nothing it should not.
    for words in [
        &["NEAR(queues", "fairness)"][..],
        &["eBPF", "OR", "scheduler"],
        &["sch*"],
        &["\"eBPF\" OR \"scheduler\""],
        &["100_"],
        &["ebpf\" OR \"x"],
        &["-scheduler"],
        &["^eBPF"],
        &["{text}:", "eBPF"],
    ] {
        assert_eq!(search(&sb, words), vec![], "{words:?} matches nothing");
    }
}

#[test]
fn search_json_gives_post_session_and_a_marked_snippet() {
    let sb = search_archive();
    let run = sb.run(&["search", "--format", "json", "多租户"]);
    run.ok();
    let hits = run.json();
    let hits = hits.as_array().expect("an array");
    assert_eq!(hits.len(), 1, "{hits:#?}");
    let hit = &hits[0];
    assert_eq!(hit["post"], "tokyo");
    assert_eq!(hit["session"], "eBPF in Production");
    assert_eq!(hit["session_position"], 1);
    assert_eq!(hit["kind"], "comment");
    let snippet = hit["snippet"].as_str().expect("snippet");
    assert!(snippet.contains("[多租户]"), "{snippet}");
    assert_eq!(snippet.matches('[').count(), 1, "one mark: {snippet}");
    // Nothing found: an empty array, exit 0.
    let run = sb.run(&["search", "--format", "json", "nowhere-to-be-found"]);
    assert_eq!(run.ok().json(), serde_json::json!([]));
}

#[test]
fn search_index_follows_reimport_and_remove() {
    let sb = Sandbox::new();
    let post = sb.write(
        "posts/evolving/index.md",
        "## 第一版标题 Kubernetes\n\n旧的评论里有 Alpha Centauri 和 Go。\n",
    );
    sb.write(
        "posts/other/index.md",
        "## Other talk\n\nAnother comment about Alpha Centauri.\n",
    );
    sb.import(&[&sb.path("posts")]).ok();
    assert_eq!(search(&sb, &["Alpha Centauri"]).len(), 2);
    assert_eq!(search(&sb, &["第一版"]).len(), 1);

    std::fs::write(
        &post,
        "## 第二版标题 Kubernetes\n\n新的评论里有 Betelgeuse 和 Rust。\n\n## 加一场\n\n再加一段 Betelgeuse。\n",
    )
    .unwrap();
    sb.import(&[&sb.path("posts")]).ok();
    assert_eq!(
        sessions_of(&search(&sb, &["Alpha", "Centauri"])),
        set(&[("Other talk", "comment")]),
        "old comment text is gone from the index"
    );
    assert_eq!(
        search(&sb, &["第一版"]),
        vec![],
        "old session title is gone"
    );
    assert_eq!(search(&sb, &["旧的评论"]), vec![]);
    assert_eq!(
        sessions_of(&search(&sb, &["betelgeuse"])),
        set(&[("第二版标题 Kubernetes", "comment"), ("加一场", "comment")])
    );
    assert_eq!(
        sessions_of(&search(&sb, &["第二版"])),
        set(&[("第二版标题 Kubernetes", "session")])
    );
    assert_eq!(search(&sb, &["Rust"]).len(), 1);
    // The index holds exactly the current comments and titles.
    let indexed = sb.count("SELECT count(*) FROM search");
    let expected = sb.count("SELECT count(*) FROM block WHERE is_comment")
        + sb.count("SELECT count(*) FROM session");
    assert_eq!(indexed, expected, "search rows");

    sb.run(&["remove", "evolving"]).ok();
    for words in [
        &["Betelgeuse"][..],
        &["第二版"],
        &["加一场"],
        &["Kubernetes"],
        &["Rust"],
        &["新的"],
    ] {
        assert_eq!(search(&sb, words), vec![], "{words:?} after remove");
    }
    assert_eq!(
        search(&sb, &["Alpha Centauri"]).len(),
        1,
        "the other post stays"
    );
    assert_eq!(sb.count("SELECT count(*) FROM search"), 2, "search rows");
    sb.db()
        .execute("INSERT INTO search (search) VALUES ('integrity-check')", [])
        .expect("the full-text index matches its rows");
}

// ---------------------------------------------------------------------------------------
// stats and dupes
// ---------------------------------------------------------------------------------------

#[test]
fn stats_counts_a_known_archive_in_text_and_json() {
    let k = known_archive();
    let (shared, own, twice) = (
        k.shared.len() as i64,
        k.own.len() as i64,
        k.twice.len() as i64,
    );
    let referenced = 3 * shared + own + 2 * twice;
    let stored = shared + own + twice;
    assert!(referenced > stored);

    let run = k.sb.run(&["stats", "--format", "json"]);
    run.ok();
    assert_eq!(
        run.json(),
        serde_json::json!({
            "posts": 2,
            "sessions": 4,
            "comments": 2,
            "slides": 7,
            "links": 1,
            "urls": 5,
            "urls_stored": 4,
            "urls_failed": 1,
            "urls_pending": 0,
            "images": 3,
            "bytes_referenced": referenced,
            "bytes_stored": stored,
        })
    );

    let run = k.sb.run(&["stats"]);
    run.ok();
    let lines: BTreeMap<String, String> = run
        .stdout()
        .lines()
        .filter_map(|l| {
            let (label, rest) = l.split_once("  ")?;
            Some((label.trim().to_string(), rest.trim().to_string()))
        })
        .collect();
    let value = |label: &str| -> &str {
        lines
            .get(label)
            .unwrap_or_else(|| panic!("no {label:?} line:\n{}", run.stdout()))
    };
    for (label, n) in [
        ("posts", "2"),
        ("sessions", "4"),
        ("comments", "2"),
        ("slides", "7"),
        ("links", "1"),
    ] {
        assert_eq!(value(label), n, "{label}:\n{}", run.stdout());
    }
    assert!(
        value("image URLs").starts_with("5 ")
            && value("image URLs").contains("4 stored, 1 failed, 0 not fetched yet"),
        "{}",
        run.stdout()
    );
    assert!(value("images").starts_with("3 "), "{}", run.stdout());
    assert!(
        value("referenced").starts_with(&format!("{referenced} B")),
        "{}",
        run.stdout()
    );
    assert!(
        value("stored").starts_with(&format!("{stored} B"))
            && value("stored").contains(&format!("{} B saved", referenced - stored)),
        "{}",
        run.stdout()
    );
}

#[test]
fn dupes_lists_the_most_used_image_first_with_its_posts_sessions_and_urls() {
    let k = known_archive();
    let run = k.sb.run(&["dupes", "--format", "json"]);
    run.ok();
    let shared_url = k.sb.file_url("posts/alpha/shared.png");
    let same_url = k.sb.file_url("posts/beta/same.png");
    let twice_url = k.sb.file_url("posts/beta/twice.png");
    let sha = sha256_hex(&k.shared);
    let twice_sha = sha256_hex(&k.twice);
    assert_eq!(
        run.json(),
        serde_json::json!([
            {
                "sha256": sha,
                "bytes": k.shared.len(),
                "uses": 3,
                "path": format!("images/{}/{sha}.png", &sha[..2]),
                "users": [
                    { "post": "alpha", "session": "S1", "url": shared_url, "slides": 1 },
                    { "post": "alpha", "session": "S2", "url": shared_url, "slides": 1 },
                    { "post": "beta", "session": "T1", "url": same_url, "slides": 1 },
                ]
            },
            {
                "sha256": twice_sha,
                "bytes": k.twice.len(),
                "uses": 2,
                "path": format!("images/{}/{twice_sha}.png", &twice_sha[..2]),
                "users": [
                    { "post": "beta", "session": "T1", "url": twice_url, "slides": 1 },
                    { "post": "beta", "session": "T2", "url": twice_url, "slides": 1 },
                ]
            }
        ]),
        "{}",
        run.stdout()
    );
    // The own image (one slide) is no duplicate.
    assert!(!run.stdout().contains(&sha256_hex(&k.own)));

    let run = k.sb.run(&["dupes"]);
    run.ok();
    let lines: Vec<&str> = run.stdout().lines().collect();
    assert!(
        lines[0].starts_with(&sha[..12]) && lines[0].contains("used 3 times"),
        "most used first:\n{}",
        run.stdout()
    );
    for (i, (post, session, url)) in [
        ("alpha", "S1", &shared_url),
        ("alpha", "S2", &shared_url),
        ("beta", "T1", &same_url),
    ]
    .into_iter()
    .enumerate()
    {
        let line = lines[1 + i];
        assert!(
            line.contains(&format!("{post} › {session}")) && line.ends_with(url.as_str()),
            "user line {i}: {line:?}\n{}",
            run.stdout()
        );
    }
    assert!(
        lines[4].starts_with(&twice_sha[..12]) && lines[4].contains("used 2 times"),
        "{}",
        run.stdout()
    );
    let run = k.sb.run(&["dupes", "--limit", "1", "--format", "json"]);
    assert_eq!(run.ok().json().as_array().unwrap().len(), 1);
    assert_use_counts_exact(&k.sb);
}

// ---------------------------------------------------------------------------------------
// verify
// ---------------------------------------------------------------------------------------

#[test]
fn verify_is_clean_on_a_fresh_archive() {
    let (sb, shas) = stored_bundle();
    let run = sb.run(&["verify"]);
    run.ok();
    assert_eq!(run.stdout(), "", "nothing to report");
    assert!(
        run.stderr.contains("2 images checked: all match"),
        "{:?}",
        run.stderr
    );
    for sha in &shas {
        assert!(sb.image_path(sha).is_file());
    }
}

#[test]
fn verify_reports_a_deleted_file_as_missing() {
    let (sb, shas) = stored_bundle();
    let path = sb.image_path(&shas[0]);
    std::fs::remove_file(&path).unwrap();
    let run = sb.run(&["verify"]);
    run.expect_code(1);
    let rel = format!("images/{}/{}.png", &shas[0][..2], shas[0]);
    assert_eq!(
        run.stdout().trim_end(),
        format!("missing file (the row has no file): {rel}"),
        "{}",
        run.stdout()
    );
    assert!(run.stderr.contains("1 problem"), "{:?}", run.stderr);
}

#[test]
fn verify_reports_an_overwritten_file_as_corrupt() {
    let (sb, shas) = stored_bundle();
    let path = sb.image_path(&shas[1]);
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let run = sb.run(&["verify"]);
    run.expect_code(1);
    let rel = format!("images/{}/{}.png", &shas[1][..2], shas[1]);
    let lines: Vec<&str> = run.stdout().lines().collect();
    assert_eq!(lines.len(), 1, "{}", run.stdout());
    assert!(
        lines[0].starts_with(&format!("corrupt file: {rel}"))
            && lines[0].contains(&sha256_hex(&bytes)),
        "{}",
        run.stdout()
    );
    assert!(
        !run.stdout().contains(&format!("{}.png", shas[0])),
        "the other file is fine"
    );
}

#[test]
fn verify_reports_a_stray_file_with_no_row() {
    let (sb, _) = stored_bundle();
    let stray = fake_sha("ab");
    sb.write(&format!("archive/images/ab/{stray}.png"), png(1, 1, 99, 0));
    let run = sb.run(&["verify"]);
    run.expect_code(1);
    assert_eq!(
        run.stdout().trim_end(),
        format!("file with no row (run 'slidearchive gc'): images/ab/{stray}.png"),
        "{}",
        run.stdout()
    );
}

#[test]
fn verify_reports_a_url_whose_image_row_is_gone() {
    let (sb, shas) = stored_bundle();
    let db = sb.db();
    db.pragma_update(None, "foreign_keys", false).unwrap();
    db.execute("DELETE FROM image WHERE sha256 = ?1", [&shas[0]])
        .unwrap();
    drop(db);
    let run = sb.run(&["verify"]);
    run.expect_code(1);
    let url = sb.file_url("bundle/one.png");
    assert!(
        run.stdout()
            .contains(&format!("URL pointing at an image with no row: {url}")),
        "{}",
        run.stdout()
    );
    assert!(
        run.stdout().contains(&format!(
            "file with no row (run 'slidearchive gc'): images/{}/{}.png",
            &shas[0][..2],
            shas[0]
        )),
        "{}",
        run.stdout()
    );
}

// ---------------------------------------------------------------------------------------
// gc
// ---------------------------------------------------------------------------------------

#[test]
fn gc_after_remove_deletes_only_the_files_nothing_uses() {
    let k = known_archive();
    let sb = &k.sb;
    let own = sha256_hex(&k.own);
    let shared = sha256_hex(&k.shared);
    let twice = sha256_hex(&k.twice);
    let own_path = sb.image_path(&own);
    let shared_path = sb.image_path(&shared);
    let twice_path = sb.image_path(&twice);
    sb.run(&["remove", "alpha"]).ok();
    assert!(own_path.is_file(), "remove leaves the files to gc");

    let run = sb.run(&["gc", "--dry-run"]);
    run.ok();
    let rel = format!("images/{}/{own}.png", &own[..2]);
    assert_eq!(
        run.stdout().trim_end(),
        format!("would delete {rel}"),
        "{}",
        run.stdout()
    );
    assert!(own_path.is_file(), "dry run deleted the file");
    assert_eq!(
        sb.count(&format!(
            "SELECT count(*) FROM image WHERE sha256 = '{own}'"
        )),
        1,
        "dry run deleted the row"
    );

    let run = sb.run(&["gc"]);
    run.ok();
    assert_eq!(
        run.stdout().trim_end(),
        format!("deleted {rel}"),
        "{}",
        run.stdout()
    );
    assert!(!own_path.exists(), "gc kept the unused file");
    assert_eq!(
        sb.count(&format!(
            "SELECT count(*) FROM image WHERE sha256 = '{own}'"
        )),
        0,
        "gc kept the unused row"
    );
    assert!(
        shared_path.is_file() && twice_path.is_file(),
        "gc deleted a used file"
    );
    assert_eq!(sb.count("SELECT count(*) FROM image"), 2);
    let run = sb.run(&["verify"]);
    run.ok();
    assert_eq!(run.stdout(), "");
    // Nothing left to do.
    assert_eq!(sb.run(&["gc"]).ok().stdout(), "");
    assert_use_counts_exact(sb);
}

#[test]
fn gc_deletes_old_leftover_temporary_files_and_keeps_fresh_ones() {
    let (sb, _) = stored_bundle();
    let old_tmp = sb.write("archive/images/tmp/incoming-old", b"half a download");
    let fresh_tmp = sb.write("archive/images/tmp/incoming-fresh", b"being written");
    age_file(&old_tmp, Duration::from_secs(2 * 3600));
    let stray = fake_sha("cd");
    let old_stray = sb.write(&format!("archive/images/cd/{stray}.png"), png(1, 1, 98, 0));
    age_file(&old_stray, Duration::from_secs(3 * 3600));

    let run = sb.run(&["gc", "--dry-run"]);
    run.ok();
    let listed: BTreeSet<&str> = run.stdout().lines().collect();
    let want: BTreeSet<String> = [
        "would delete images/tmp/incoming-old".to_string(),
        format!("would delete images/cd/{stray}.png"),
    ]
    .into();
    assert_eq!(
        listed,
        want.iter().map(String::as_str).collect(),
        "{}",
        run.stdout()
    );
    assert!(
        old_tmp.exists() && old_stray.exists(),
        "dry run deleted files"
    );

    let run = sb.run(&["gc"]);
    run.ok();
    assert!(!old_tmp.exists(), "old temporary file kept");
    assert!(!old_stray.exists(), "old file with no row kept");
    assert!(
        fresh_tmp.exists(),
        "a fresh temporary file (a fetch may be running) deleted"
    );
    assert!(
        run.stderr
            .contains("kept 1 unreferenced file younger than an hour"),
        "{:?}",
        run.stderr
    );
    let run = sb.run(&["verify"]);
    run.ok();
    assert!(
        !run.stdout().contains("incoming-old") && !run.stdout().contains(&stray),
        "{}",
        run.stdout()
    );
    assert_eq!(sb.count("SELECT count(*) FROM image"), 2, "image rows kept");
}

// ---------------------------------------------------------------------------------------
// remove
// ---------------------------------------------------------------------------------------

/// Post `one` and post `two`, in one folder, share `common.png` (one URL); `one` alone
/// uses `only-one.png` and a web image (never fetched: it stays pending); the page
/// bundle `bundle` holds a copy of `only-one.png`'s bytes under another name (another
/// URL, the same stored image). Returns the bytes of `only-one.png`.
fn shared_archive() -> (Sandbox, Vec<u8>) {
    let sb = Sandbox::new();
    let only = png(8, 8, 22, 0);
    let one = "---\ntitle: One\n---\n\n## Uno\n\nUnique words zanzibar here, see https://example.org/one.\n\n\
               ![](common.png)\n\n![](only-one.png)\n\n## Dos\n";
    sb.write("posts/one.md", one);
    sb.write(
        "posts/two.md",
        "---\ntitle: Two\n---\n\n## Tres\n\nOther words.\n\n![](common.png)\n",
    );
    sb.write("posts/common.png", png(8, 8, 21, 0));
    sb.write("posts/only-one.png", &only);
    sb.write("bundle/index.md", "## Copy\n\n![](copy.png)\n");
    sb.write("bundle/copy.png", &only);
    sb.import(&[&sb.path("posts"), &sb.path("bundle")]).ok();
    // Then `one` gains a web image, imported without fetching (no network here).
    sb.write(
        "posts/one.md",
        format!("{one}\n![](https://img.example.net/only-one.png)\n"),
    );
    sb.import(&["--no-fetch", &sb.path("posts")]).ok();
    assert_eq!(
        sb.count("SELECT count(*) FROM url WHERE state = 'stored'"),
        3
    );
    assert_eq!(
        sb.count("SELECT count(*) FROM url WHERE state = 'pending'"),
        1
    );
    (sb, only)
}

#[test]
fn remove_deletes_a_post_and_everything_only_it_used() {
    let (sb, only) = shared_archive();
    let id = sb.count("SELECT id FROM post WHERE slug = 'one'");
    let owned = |table: &str| {
        sb.count(&format!(
            "SELECT count(*) FROM {table} WHERE post_id = {id}"
        ))
    };
    for table in ["session", "block", "slide", "link"] {
        assert!(owned(table) > 0, "{table} rows before");
    }
    let search_rowids = format!(
        "SELECT count(*) FROM search WHERE rowid IN (SELECT 2 * id FROM block WHERE post_id = {id} AND is_comment UNION ALL SELECT 2 * id + 1 FROM session WHERE post_id = {id})"
    );
    let search_rows_before = sb.count(&search_rowids);
    assert_eq!(search_rows_before, 3, "two titles and one comment indexed");
    let total_search = sb.count("SELECT count(*) FROM search");
    let only_url = sb.file_url("posts/only-one.png");
    let common_url = sb.file_url("posts/common.png");
    let copy_url = sb.file_url("bundle/copy.png");
    let only_sha = sha256_hex(&only);
    let fetches = sb.count("SELECT count(*) FROM fetch");

    let run = sb.run(&["remove", "one"]);
    run.ok();
    assert!(
        run.stderr
            .contains("removed one (3 slides, 2 image URLs used by no other post)"),
        "{:?}",
        run.stderr
    );
    assert_eq!(
        sb.count(&format!("SELECT count(*) FROM post WHERE id = {id}")),
        0
    );
    for table in ["session", "block", "slide", "link"] {
        assert_eq!(owned(table), 0, "{table} rows of the removed post");
    }
    assert_eq!(
        sb.count(&search_rowids),
        0,
        "search rows of the removed post"
    );
    assert_eq!(
        sb.count("SELECT count(*) FROM search"),
        total_search - search_rows_before,
        "search rows"
    );
    let urls: BTreeSet<String> = sb.texts("SELECT url FROM url").into_iter().collect();
    assert_eq!(urls, [common_url, copy_url.clone()].into(), "URLs left");
    assert!(!urls.contains(&only_url));
    assert_eq!(
        sb.count("SELECT count(*) FROM fetch WHERE url_id NOT IN (SELECT id FROM url)"),
        0,
        "fetch records of removed URLs"
    );
    assert_eq!(
        sb.count("SELECT count(*) FROM fetch"),
        fetches - 1,
        "its one fetch record went"
    );
    // The bundle's copy has only-one.png's content: its URL, image and file stay.
    assert_eq!(
        sb.texts(&format!("SELECT sha256 FROM url WHERE url = '{copy_url}'")),
        [only_sha.as_str()]
    );
    assert!(sb.image_path(&only_sha).is_file());
    assert_eq!(search(&sb, &["zanzibar"]), vec![]);
    // The other posts are whole.
    assert_eq!(
        sb.texts("SELECT slug FROM post ORDER BY slug"),
        ["bundle", "two"]
    );
    assert_eq!(
        sb.count("SELECT count(*) FROM slides WHERE post = 'two' AND state = 'stored'"),
        1
    );
    sb.run(&["verify"]).ok();
    let run = sb.run(&["export", "two"]);
    run.ok();
    assert!(run.stdout().contains("![](common.png)"));
    assert_use_counts_exact(&sb);
}

#[test]
fn remove_is_all_or_nothing() {
    let (sb, _) = shared_archive();
    let tables = [
        "post", "session", "block", "slide", "link", "url", "fetch", "search",
    ];
    let counts = |sb: &Sandbox| -> Vec<i64> {
        tables
            .iter()
            .map(|t| sb.count(&format!("SELECT count(*) FROM {t}")))
            .collect()
    };
    // Make the last step of the removal (deleting the post's own URLs) fail.
    sb.db()
        .execute_batch(
            "CREATE TRIGGER no_url_delete BEFORE DELETE ON url BEGIN SELECT RAISE(ABORT, 'refused by test'); END;",
        )
        .unwrap();
    let before = counts(&sb);
    let run = sb.run(&["remove", "one"]);
    run.expect_code(1);
    assert!(run.stderr.contains("refused by test"), "{:?}", run.stderr);
    assert_eq!(
        counts(&sb),
        before,
        "a failed remove changed rows ({tables:?})"
    );
    assert_eq!(search(&sb, &["zanzibar"]).len(), 1, "still searchable");
}

#[test]
fn remove_of_an_unknown_post_exits_2_and_changes_nothing() {
    let (sb, _) = shared_archive();
    sb.query("table", "SELECT 1").ok();
    let before = sb.fingerprint();
    let run = sb.run(&["remove", "nosuch"]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("no post matches 'nosuch'"),
        "{:?}",
        run.stderr
    );
    assert_eq!(sb.count("SELECT count(*) FROM post"), 3);
    assert_eq!(sb.fingerprint().0, before.0, "archive.db changed");
}

// ---------------------------------------------------------------------------------------
// Two processes on one archive
// ---------------------------------------------------------------------------------------

fn check_whole(sb: &Sandbox) {
    let db = sb.db();
    let ok: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok", "integrity_check");
    db.execute("INSERT INTO search (search) VALUES ('integrity-check')", [])
        .expect("the full-text index matches its rows");
}

/// Runs two imports of 40 posts each into one new archive, started together; checks
/// every post landed whole. Returns whether the two runs' posts interleave (both
/// were writing in turns, not one after the other).
const POSTS_PER_IMPORT: usize = 400;

fn race_two_imports(round: usize) -> bool {
    // Imports commit their posts in batches a quarter of a second long: each import
    // must run for longer than that for the two to be seen taking turns.
    let (sessions, slides) = (5, 20);
    let sb = Sandbox::new();
    write_generated(&sb, "a", "a", POSTS_PER_IMPORT, sessions, slides);
    write_generated(&sb, "b", "b", POSTS_PER_IMPORT, sessions, slides);
    assert!(!sb.archive().exists());
    let children: Vec<_> = ["a", "b"]
        .iter()
        .map(|folder| {
            sb.std_cmd()
                .args(["import", "--no-fetch", &sb.path(folder)])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn import")
        })
        .collect();
    for (child, folder) in children.into_iter().zip(["a", "b"]) {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "round {round}: import of {folder} exited {:?}:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let sources = sb.texts("SELECT source FROM post ORDER BY id");
    let distinct: BTreeSet<&String> = sources.iter().collect();
    assert_eq!(
        distinct.len(),
        2 * POSTS_PER_IMPORT,
        "round {round}: every post landed once"
    );
    for folder in ["a", "b"] {
        for p in 0..POSTS_PER_IMPORT {
            let file = sb.root().join(format!("{folder}/{folder}{p:02}.md"));
            let file = std::fs::canonicalize(file).unwrap();
            assert!(
                distinct.contains(&file.to_str().unwrap().to_string()),
                "round {round}: {} missing",
                file.display()
            );
        }
    }
    assert_eq!(
        sb.count("SELECT count(*) FROM session"),
        2 * POSTS_PER_IMPORT as i64 * sessions as i64,
        "round {round}"
    );
    assert_eq!(
        sb.count("SELECT count(*) FROM slide"),
        2 * POSTS_PER_IMPORT as i64 * (sessions * slides) as i64,
        "round {round}"
    );
    check_whole(&sb);
    let folders: Vec<bool> = sources.iter().map(|s| s.contains("/a/")).collect();
    folders.windows(2).filter(|w| w[0] != w[1]).count() > 1
}

#[test]
fn two_imports_into_a_new_archive_at_once_both_land_every_post() {
    // Three rounds at least, to catch flakiness; up to six until the two runs have been
    // seen taking turns (one running wholly before the other is allowed, but tests less).
    let mut interleaved = 0;
    for round in 0..6 {
        if race_two_imports(round) {
            interleaved += 1;
        }
        if round >= 2 && interleaved > 0 {
            break;
        }
    }
    assert!(interleaved > 0, "the two imports never wrote in turns");
}

#[test]
fn an_import_creating_an_archive_waits_for_another_process_reading_the_new_file() {
    // What the second of two processes creating one archive does for a moment: hold a
    // read lock on the still empty file while the first switches it to WAL. The switch
    // must wait for the lock, not fail.
    let sb = Sandbox::new();
    write_generated(&sb, "posts", "w", 2, 2, 2);
    std::fs::create_dir_all(sb.archive()).unwrap();
    let reader = Connection::open(sb.db_path()).unwrap();
    reader
        .execute_batch("BEGIN; SELECT count(*) FROM sqlite_master;")
        .unwrap();
    let import = sb
        .std_cmd()
        .args(["import", "--no-fetch", &sb.path("posts")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn import");
    std::thread::sleep(Duration::from_millis(400));
    reader.execute_batch("COMMIT").unwrap();
    let out = import.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "import exited {:?}:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    drop(reader);
    assert_eq!(sb.count("SELECT count(*) FROM post"), 2);
    let mode: String = sb
        .db()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    check_whole(&sb);
}

#[test]
fn queries_while_an_import_runs_all_succeed() {
    let sb = Sandbox::new();
    write_generated(&sb, "first", "f", 1, 2, 2);
    sb.import(&["--no-fetch", &sb.path("first")]).ok();
    write_generated(&sb, "big", "g", 150, 5, 20);
    let mut import = sb
        .std_cmd()
        .args(["import", "--no-fetch", &sb.path("big")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn import");
    let started = Instant::now();
    let mut seen = Vec::new();
    let status = loop {
        let run = sb.query(
            "csv",
            "SELECT (SELECT count(*) FROM post), (SELECT count(*) FROM slides), (SELECT count(*) FROM search)",
        );
        run.ok();
        let row = parse_csv(run.stdout())[1].clone();
        let posts: i64 = row[0].parse().unwrap();
        let slides: i64 = row[1].parse().unwrap();
        // A reader sees whole posts only: 1 + n posts of 100 slides.
        assert_eq!(
            slides,
            4 + (posts - 1) * 100,
            "posts are seen whole: {row:?}"
        );
        seen.push(posts);
        if let Some(status) = import.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "import hangs");
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(import.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "import failed: {stderr}");
    assert!(
        seen.windows(2).all(|w| w[0] <= w[1]),
        "counts never go back: {seen:?}"
    );
    assert!(
        seen.iter().any(|&n| n > 1 && n < 151),
        "queries ran while the import ran: {seen:?}"
    );
    assert_eq!(sb.count("SELECT count(*) FROM post"), 151);
    check_whole(&sb);
}

/// The use counts kept on each image equal a recount from the slides.
fn assert_use_counts_exact(sb: &Sandbox) {
    let wrong = sb.count(
        "SELECT count(*) FROM image i WHERE i.slides != (SELECT count(*) FROM url u JOIN slide s ON s.url_id = u.id WHERE u.sha256 = i.sha256)
            OR i.posts != (SELECT count(DISTINCT s.post_id) FROM url u JOIN slide s ON s.url_id = u.id WHERE u.sha256 = i.sha256)",
    );
    assert_eq!(wrong, 0, "images whose slides/posts counts are off");
    assert!(
        sb.count("SELECT count(*) FROM image") > 0,
        "the check saw images"
    );
}
