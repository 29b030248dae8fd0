//! End-to-end tests of the `slidearchive` binary: each test runs the real executable
//! against an archive in its own temporary folder and checks the exit status, the output,
//! the files written and the rows of `archive.db`.

mod common;

use common::{Run, Sandbox, png, sha256_hex};
use rusqlite::Connection;
use rusqlite::types::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

const EXAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/cloud-summit-2023-recap.md"
);
const EXAMPLE_SLUG: &str = "cloud-summit-2023-recap";

impl Sandbox {
    /// Copies the example post into the sandbox.
    fn example(&self, rel: &str) -> PathBuf {
        self.write(rel, std::fs::read(EXAMPLE).unwrap())
    }

    /// Imports without downloading images: these tests are about the archive core;
    /// tests/fetch.rs covers downloads.
    fn import(&self, args: &[&str]) -> Run {
        Run::of(self.cmd().args(["import", "--no-fetch"]).args(args))
    }

    /// Every row of a table, every column, ordered by id.
    fn dump(&self, table: &str) -> Vec<Vec<Value>> {
        let db = self.db();
        let mut stmt = db
            .prepare(&format!("SELECT * FROM {table} ORDER BY id"))
            .unwrap();
        let n = stmt.column_count();
        stmt.query_map([], |r| (0..n).map(|i| r.get::<_, Value>(i)).collect())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn dump_all(&self) -> BTreeMap<&'static str, Vec<Vec<Value>>> {
        ["post", "session", "block", "slide", "link"]
            .into_iter()
            .map(|t| (t, self.dump(t)))
            .collect()
    }

    fn post_id(&self, slug: &str) -> i64 {
        self.db()
            .query_row("SELECT id FROM posts WHERE slug = ?1", [slug], |r| r.get(0))
            .unwrap_or_else(|e| panic!("post {slug}: {e}"))
    }
}

impl Run {
    /// The one stderr line about `input`, which must also give `reason`.
    fn failure_line(&self, input: &str, reason: &str) -> String {
        let lines: Vec<&str> = self.stderr.lines().filter(|l| l.contains(input)).collect();
        assert_eq!(
            lines.len(),
            1,
            "expected exactly one stderr line naming {input:?}; stderr:\n{}",
            self.stderr
        );
        let line = lines[0];
        assert!(
            line.starts_with(&format!("slidearchive: {input}: ")),
            "the line should name the input first: {line:?}"
        );
        assert!(
            line.contains(reason),
            "the line about {input:?} should say {reason:?}: {line:?}"
        );
        line.to_string()
    }
}

fn canonical(path: &Path) -> String {
    std::fs::canonicalize(path)
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// One canned HTTP answer.
struct Reply {
    status: &'static str,
    body: Vec<u8>,
    /// The Content-Length announced; more than the body's length breaks off the body.
    length: usize,
}

impl Reply {
    fn ok(body: impl Into<Vec<u8>>) -> Reply {
        let body = body.into();
        Reply {
            status: "200 OK",
            length: body.len(),
            body,
        }
    }
}

/// Starts an HTTP/1.1 server on 127.0.0.1 that answers `routes` and 404 to any other
/// path, one connection at a time, until the test process ends. Returns its base URL.
fn serve(routes: Vec<(&'static str, Reply)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let not_found = Reply {
            status: "404 Not Found",
            body: b"no such post\n".to_vec(),
            length: 13,
        };
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let Ok(read_half) = stream.try_clone() else {
                continue;
            };
            let mut reader = BufReader::new(read_half);
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            loop {
                let mut header = String::new();
                match reader.read_line(&mut header) {
                    Ok(0) | Err(_) => break,
                    Ok(_) if header == "\r\n" || header == "\n" => break,
                    Ok(_) => {}
                }
            }
            let path = request_line.split_whitespace().nth(1).unwrap_or("/");
            let reply = routes
                .iter()
                .find(|(p, _)| *p == path)
                .map_or(&not_found, |(_, r)| r);
            let head = format!(
                "HTTP/1.1 {}\r\nContent-Type: text/markdown; charset=utf-8\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n",
                reply.status, reply.length
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&reply.body);
            let _ = stream.flush();
        }
    });
    format!("http://{addr}")
}

/// The fields of the `list` line for `slug`: id, slug, sessions, slides, title words.
fn list_fields(list: &str, slug: &str) -> Vec<String> {
    let line = list
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(slug))
        .unwrap_or_else(|| panic!("no list line for {slug}:\n{list}"));
    line.split_whitespace().map(str::to_string).collect()
}

// ---------------------------------------------------------------------------------------
// The example post

#[test]
fn import_of_example_post_succeeds_and_list_shows_its_counts() {
    let sb = Sandbox::new();
    let post = sb.example("posts/cloud-summit-2023-recap.md");
    let run = sb.import(&[post.to_str().unwrap()]);
    run.ok();
    assert!(
        run.stdout()
            .contains("imported cloud-summit-2023-recap: 4 sessions, 10 slides"),
        "stdout: {}",
        run.stdout()
    );
    assert!(
        run.stderr.contains("1 new, 0 updated, 0 unchanged"),
        "{}",
        run.stderr
    );

    let list = sb.run(&["list"]);
    list.ok();
    let list = list.stdout();
    assert!(list.starts_with("  ID  SLUG"), "header: {list}");
    let fields = list_fields(list, EXAMPLE_SLUG);
    assert_eq!(fields[0], "1");
    assert_eq!(fields[2], "4", "sessions in: {list}");
    assert_eq!(fields[3], "10", "slides in: {list}");
    assert_eq!(fields[4..].join(" "), "Cloud Native Summit 2023 回顾(上)");
}

#[test]
fn export_of_example_post_by_id_slug_or_source_path_gives_the_imported_bytes() {
    let sb = Sandbox::new();
    let post = sb.example("posts/cloud-summit-2023-recap.md");
    sb.import(&["posts/cloud-summit-2023-recap.md"]).ok();
    let original = std::fs::read(&post).unwrap();
    let id = sb.post_id(EXAMPLE_SLUG).to_string();
    let absolute = canonical(&post);
    for key in [
        id.as_str(),
        EXAMPLE_SLUG,
        "posts/cloud-summit-2023-recap.md",
        "./posts/../posts/cloud-summit-2023-recap.md",
        absolute.as_str(),
    ] {
        let run = sb.run(&["export", key]);
        run.ok();
        assert!(
            run.stdout == original,
            "export {key} differs from the source ({} vs {} bytes)",
            run.stdout.len(),
            original.len()
        );
        assert_eq!(run.stderr, "", "export {key} should be quiet");
    }
}

#[test]
fn export_of_example_post_to_a_folder_writes_the_imported_bytes() {
    let sb = Sandbox::new();
    let post = sb.example("cloud-summit-2023-recap.md");
    sb.import(&[post.to_str().unwrap()]).ok();
    sb.run(&["export", EXAMPLE_SLUG, "--out", "out"]).ok();
    assert_eq!(
        std::fs::read(sb.root().join("out/cloud-summit-2023-recap.md")).unwrap(),
        std::fs::read(&post).unwrap()
    );
}

#[test]
fn views_expose_the_example_posts_metadata_sessions_comments_slides_and_links() {
    let sb = Sandbox::new();
    let post = sb.example("cloud-summit-2023-recap.md");
    sb.import(&[post.to_str().unwrap()]).ok();
    let db = sb.db();

    let row: Vec<Value> = db
        .query_row(
            "SELECT slug, title, author, date, description, source, bytes, sessions, slides
             FROM posts",
            [],
            |r| (0..9).map(|i| r.get(i)).collect(),
        )
        .unwrap();
    let text = |s: &str| Value::Text(s.to_string());
    assert_eq!(
        row,
        [
            text(EXAMPLE_SLUG),
            text("Cloud Native Summit 2023 回顾(上)"),
            text("lanmei"),
            text("2023-06-18"),
            Value::Null, // an empty description is absent
            text(&canonical(&post)),
            Value::Integer(std::fs::metadata(&post).unwrap().len() as i64),
            Value::Integer(4),
            Value::Integer(10),
        ]
    );
    let tags: String = db
        .query_row("SELECT tags FROM posts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Vec<String>>(&tags).unwrap(),
        ["云原生", "Kubernetes"]
    );

    let front_matter: String = db
        .query_row("SELECT front_matter FROM posts", [], |r| r.get(0))
        .unwrap();
    let front_matter: serde_json::Value = serde_json::from_str(&front_matter).unwrap();
    assert_eq!(front_matter["toc"], serde_json::Value::Bool(true));
    assert_eq!(front_matter["author"], "lanmei");

    let mut stmt = db
        .prepare("SELECT position, title, comments, slides FROM sessions ORDER BY position")
        .unwrap();
    let sessions: Vec<(i64, String, i64, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        sessions,
        [
            (1, "Scaling Prometheus to a Billion Series".into(), 2, 4),
            (2, "eBPF in Production: Lessons Learned".into(), 3, 3),
            (3, "Multi-Cluster Service Discovery".into(), 1, 3),
            (4, "小结".into(), 1, 0),
        ]
    );

    let comments = sb.texts("SELECT text FROM comments ORDER BY position");
    assert_eq!(comments.len(), 7);
    assert_eq!(comments[0], "分片之后 remote write 的压力终于下来了。");
    assert!(
        comments.iter().all(|c| !c.contains("照例")),
        "the intro is not a session comment: {comments:?}"
    );
    let list_comment: (String, String) = db
        .query_row(
            "SELECT text, markdown FROM comments WHERE kind = 'list'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(
        list_comment.0.contains("内核版本太老，bpf_loop 用不了"),
        "plain text has no backticks: {:?}",
        list_comment.0
    );
    assert!(
        list_comment.1.contains("`bpf_loop`"),
        "{:?}",
        list_comment.1
    );
    assert_eq!(
        sb.count(
            "SELECT count(*) FROM comments WHERE session = 'Multi-Cluster Service Discovery'
               AND markdown LIKE '%[Submariner](https://github.com/submariner-io/submariner)%'
               AND text = '思路不错，和 Submariner 的做法类似。'"
        ),
        1
    );

    let mut stmt = db
        .prepare("SELECT position, session, url, alt, title FROM slides ORDER BY position")
        .unwrap();
    let slides: Vec<(i64, String, String, String, String)> = stmt
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(slides.len(), 10);
    let positions: Vec<i64> = slides.iter().map(|s| s.0).collect();
    assert_eq!(positions, (1..=10).collect::<Vec<_>>());
    // The repeated image is two slides, one after the other.
    let repeated = "https://img.example.net/notes/202306170903789.jpg";
    let at: Vec<i64> = slides
        .iter()
        .filter(|s| s.2 == repeated)
        .map(|s| s.0)
        .collect();
    assert_eq!(at, [3, 4]);
    assert_eq!(
        slides[8],
        (
            9,
            "Multi-Cluster Service Discovery".into(),
            "https://img.example.net/notes/202306171121444.jpg".into(),
            String::new(),
            "service export flow".into()
        )
    );
    // The same image used in two sessions.
    let shared: Vec<&str> = slides
        .iter()
        .filter(|s| s.2 == "https://img.example.net/notes/202306151559050.jpeg")
        .map(|s| s.1.as_str())
        .collect();
    assert_eq!(
        shared,
        [
            "eBPF in Production: Lessons Learned",
            "Multi-Cluster Service Discovery"
        ]
    );

    let mut stmt = db
        .prepare("SELECT session, url, host, text, kind FROM links ORDER BY position")
        .unwrap();
    let links: Vec<(String, String, String, String, String)> = stmt
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        links,
        [
            (
                "Scaling Prometheus to a Billion Series".into(),
                "https://prometheus.io/docs/prometheus/latest/storage/".into(),
                "prometheus.io".into(),
                "https://prometheus.io/docs/prometheus/latest/storage/".into(),
                "bare".into()
            ),
            (
                "Multi-Cluster Service Discovery".into(),
                "https://github.com/submariner-io/submariner".into(),
                "github.com".into(),
                "Submariner".into(),
                "inline".into()
            ),
            (
                "小结".into(),
                "https://www.youtube.com/playlist?list=PLexample0000000000".into(),
                "www.youtube.com".into(),
                "https://www.youtube.com/playlist?list=PLexample0000000000".into(),
                "bare".into()
            ),
        ]
    );
    assert_eq!(
        sb.count("SELECT count(*) FROM links WHERE url LIKE 'https://img.example.net/%'"),
        0,
        "slide images are not links"
    );
}

#[test]
fn blocks_of_example_post_cover_its_body_exactly() {
    let sb = Sandbox::new();
    let post = sb.example("cloud-summit-2023-recap.md");
    sb.import(&[post.to_str().unwrap()]).ok();
    let content = std::fs::read_to_string(&post).unwrap();
    let db = sb.db();
    let mut stmt = db
        .prepare("SELECT start, end, markdown, kind FROM block ORDER BY position")
        .unwrap();
    let blocks: Vec<(i64, i64, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (start, end, markdown, _) in &blocks {
        assert_eq!(&content[*start as usize..*end as usize], markdown);
    }
    let kinds: Vec<&str> = blocks.iter().map(|b| b.3.as_str()).collect();
    assert_eq!(kinds[..3], ["paragraph", "html", "heading"]);
    assert_eq!(blocks[1].2, "<!--more-->\n");
    assert_eq!(
        blocks.iter().filter(|b| b.3 == "heading").count(),
        4,
        "{kinds:?}"
    );
}

#[test]
fn show_prints_session_titles_and_slide_urls() {
    let sb = Sandbox::new();
    let post = sb.example("cloud-summit-2023-recap.md");
    sb.import(&[post.to_str().unwrap()]).ok();
    let run = sb.run(&["show", EXAMPLE_SLUG]);
    run.ok();
    let out = run.stdout();
    assert!(
        out.starts_with("Cloud Native Summit 2023 回顾(上)\n"),
        "{out}"
    );
    let mut last = 0;
    for title in [
        "Scaling Prometheus to a Billion Series",
        "eBPF in Production: Lessons Learned",
        "Multi-Cluster Service Discovery",
        "小结",
    ] {
        let at = out[last..]
            .find(title)
            .unwrap_or_else(|| panic!("session {title:?} missing or out of order:\n{out}"));
        last += at;
    }
    for url in [
        "https://img.example.net/notes/202306170901123.jpg",
        "https://img.example.net/notes/202306171010001.png",
        "https://img.example.net/notes/202306171121444.jpg",
    ] {
        assert!(out.contains(url), "slide {url} missing:\n{out}");
    }
    assert_eq!(
        out.matches("https://img.example.net/notes/202306170903789.jpg")
            .count(),
        2,
        "the repeated slide is shown twice:\n{out}"
    );
    assert!(
        out.contains("相关的设计文档可以看这里"),
        "comments shown:\n{out}"
    );
}

#[test]
fn show_of_unknown_post_fails_with_a_message() {
    let sb = Sandbox::new();
    sb.example("cloud-summit-2023-recap.md");
    sb.import(&["cloud-summit-2023-recap.md"]).ok();
    let run = sb.run(&["show", "nosuchpost"]);
    run.expect_code(2);
    assert!(run.stdout.is_empty());
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("slidearchive: ") && run.stderr.contains("'nosuchpost'"),
        "{}",
        run.stderr
    );
    let export = sb.run(&["export", "999"]);
    assert_ne!(export.code, Some(0));
    assert!(export.stderr.contains("'999'"), "{}", export.stderr);
    assert!(export.stdout.is_empty());
}

#[test]
fn list_on_a_missing_archive_fails_and_creates_nothing() {
    let sb = Sandbox::new();
    let run = sb.run(&["list"]);
    run.expect_code(1);
    assert!(run.stderr.contains("no archive"), "{}", run.stderr);
    assert!(!sb.archive().exists(), "list must not create an archive");
}

#[test]
fn archive_can_be_chosen_with_the_environment_variable() {
    let sb = Sandbox::new();
    sb.example("cloud-summit-2023-recap.md");
    let elsewhere = sb.root().join("elsewhere");
    Run::of(sb.bare_cmd().env("SLIDEARCHIVE_ARCHIVE", &elsewhere).args([
        "import",
        "--no-fetch",
        "cloud-summit-2023-recap.md",
    ]))
    .ok();
    assert!(elsewhere.join("archive.db").is_file());
    assert!(
        !sb.root().join("archive").exists(),
        "the default archive folder must stay untouched"
    );
    let list = Run::of(
        sb.bare_cmd()
            .env("SLIDEARCHIVE_ARCHIVE", &elsewhere)
            .arg("list"),
    );
    list.ok();
    assert_eq!(list_fields(list.stdout(), EXAMPLE_SLUG)[3], "10");
}

// ---------------------------------------------------------------------------------------
// Lossless round trip

/// (file name, bytes, expected title, expected sessions, expected slides)
fn tricky_sources() -> Vec<(&'static str, Vec<u8>, &'static str, i64, i64)> {
    vec![
        (
            "crlf.md",
            b"---\r\ntitle: CRLF post\r\ntags: [a, b]\r\n---\r\n\r\nIntro.\r\n\r\n## One\r\n\r\n![](https://i.example/1.png)\r\n\r\nText\r\nmore text\r\n\r\n## Two\r\n\r\n![](https://i.example/2.png)\r\n".to_vec(),
            "CRLF post",
            2,
            2,
        ),
        (
            "mixed.md",
            b"# Mixed endings\n\r\n## A\r\ntext\rmore\n\n![](https://i.example/3.png)\r\n\n## B\r\r![](https://i.example/4.png)\n".to_vec(),
            "Mixed endings",
            1,
            2,
        ),
        (
            "bom.md",
            "\u{feff}---\ntitle: With BOM\nauthor: me\n---\n\n## S\n\n![](https://i.example/5.png)\n"
                .as_bytes()
                .to_vec(),
            "With BOM",
            1,
            1,
        ),
        (
            "toml.md",
            b"+++\ntitle = \"TOML post\"\ndate = 2023-06-18\ntags = \"k8s\"\n+++\n\n## S\n\n![alt](https://i.example/6.png \"t\")\n".to_vec(),
            "TOML post",
            1,
            1,
        ),
        (
            "tabs.md",
            b"# Tabs\t\n\n\tindented code\twith tab\n\n- item  \n\t- nested\t\n\ntrailing spaces   \nhard break  \nnext\t\n".to_vec(),
            "Tabs",
            1,
            0,
        ),
        (
            "no-final-newline.md",
            b"## Only session\n\n![](https://i.example/7.png)".to_vec(),
            "Only session",
            1,
            1,
        ),
        (
            "headed.md",
            b"Some intro first.\n\n# First Heading\n\nbody\n".to_vec(),
            "First Heading",
            1,
            0,
        ),
        (
            "no-heading.md",
            b"just text, no heading and no front matter\n".to_vec(),
            "no-heading",
            0,
            0,
        ),
        ("empty.md", Vec::new(), "empty", 0, 0),
        ("bom-only.md", "\u{feff}".as_bytes().to_vec(), "bom-only", 0, 0),
        (
            "html.md",
            b"## H\n\n<div class=\"slides\">\n<img src=\"https://i.example/8.png\" alt=\"eight\">\n</div>\n\n<p>para</p>\n\ntext <img src=\"https://i.example/9.png\"> inline\n".to_vec(),
            "H",
            1,
            2,
        ),
        (
            "nested.md",
            b"## N\n\n- a\n  - b\n    - c\n\n      ![](https://i.example/10.png)\n1. one\n   1. two\n      > quoted ![q](https://i.example/11.png)\n".to_vec(),
            "N",
            1,
            2,
        ),
        (
            "rule-not-front-matter.md",
            b"# Rules\n\ntext\n\n---\ntitle: not front matter\n---\n".to_vec(),
            "Rules",
            1,
            0,
        ),
        (
            "reference.md",
            b"## R\n\n![slide][s1]\n\n{{< figure src=\"https://i.example/13.png\" title=\"fig\" >}}\n\n[s1]: https://i.example/12.png \"one\"\n".to_vec(),
            "R",
            1,
            2,
        ),
        (
            "cjk-and-emoji.md",
            "---\ntitle: \"云原生 🚀\"\n---\n## 第一场\n\n　全角空格开头\n\n![图](https://i.example/14.png)\n"
                .as_bytes()
                .to_vec(),
            "云原生 🚀",
            1,
            1,
        ),
    ]
}

#[test]
fn tricky_sources_export_byte_identical() {
    let sb = Sandbox::new();
    let cases = tricky_sources();
    for (name, bytes, ..) in &cases {
        sb.write(&format!("tricky/{name}"), bytes);
    }
    let run = sb.import(&["tricky"]);
    run.ok();
    assert_eq!(
        sb.count("SELECT count(*) FROM posts"),
        cases.len() as i64,
        "{}",
        run.stderr
    );
    for (name, bytes, ..) in &cases {
        let path = format!("tricky/{name}");
        let export = sb.run(&["export", &path]);
        export.ok();
        assert!(
            export.stdout == *bytes,
            "{name}: export differs\n expected {:?}\n      got {:?}",
            String::from_utf8_lossy(bytes),
            String::from_utf8_lossy(&export.stdout)
        );
        let stored: Vec<u8> = sb
            .db()
            .query_row(
                "SELECT content FROM post WHERE source = ?1",
                [canonical(&sb.root().join(&path))],
                |r| r.get(0),
            )
            .unwrap();
        assert!(stored == *bytes, "{name}: stored content differs");
    }
}

#[test]
fn tricky_sources_get_titles_sessions_and_slides() {
    let sb = Sandbox::new();
    let cases = tricky_sources();
    for (name, bytes, ..) in &cases {
        sb.write(&format!("tricky/{name}"), bytes);
    }
    sb.import(&["tricky"]).ok();
    let db = sb.db();
    for (name, _, title, sessions, slides) in &cases {
        let source = canonical(&sb.root().join("tricky").join(name));
        let got: (String, i64, i64) = db
            .query_row(
                "SELECT title, sessions, slides FROM posts WHERE source = ?1",
                [&source],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            got,
            (title.to_string(), *sessions, *slides),
            "{name}: (title, sessions, slides)"
        );
    }
}

#[test]
fn front_matter_is_read_after_a_bom_and_in_toml_and_crlf() {
    let sb = Sandbox::new();
    for (name, bytes, ..) in tricky_sources() {
        sb.write(&format!("tricky/{name}"), bytes);
    }
    sb.import(&["tricky"]).ok();
    let db = sb.db();
    let row = |file: &str| -> (Option<String>, Option<String>, String, Option<String>) {
        db.query_row(
            "SELECT front_matter_format, date, tags, author FROM post WHERE source = ?1",
            [canonical(&sb.root().join("tricky").join(file))],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap()
    };
    let toml = row("toml.md");
    assert_eq!(toml.0.as_deref(), Some("toml"));
    assert_eq!(toml.1.as_deref(), Some("2023-06-18"));
    assert_eq!(
        toml.2, r#"["k8s"]"#,
        "a single tag string is a one-tag list"
    );
    let bom = row("bom.md");
    assert_eq!(bom.0.as_deref(), Some("yaml"));
    assert_eq!(bom.3.as_deref(), Some("me"));
    let crlf = row("crlf.md");
    assert_eq!(crlf.0.as_deref(), Some("yaml"));
    assert_eq!(crlf.2, r#"["a","b"]"#);
    let rule = row("rule-not-front-matter.md");
    assert_eq!(rule.0, None, "a --- block further down is not front matter");
    let slug: String = db
        .query_row(
            "SELECT slug FROM post WHERE source = ?1",
            [canonical(&sb.root().join("tricky/toml.md"))],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(slug, "toml");
}

#[test]
fn slides_of_every_syntax_are_found_with_alt_and_title() {
    let sb = Sandbox::new();
    for (name, bytes, ..) in tricky_sources() {
        sb.write(&format!("tricky/{name}"), bytes);
    }
    sb.import(&["tricky"]).ok();
    let db = sb.db();
    let mut stmt = db
        .prepare(
            "SELECT url, alt, title, syntax FROM slides
             WHERE post IN ('html', 'reference', 'toml') ORDER BY post, position",
        )
        .unwrap();
    let slides: Vec<(String, String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let s = |u: &str, a: &str, t: &str, k: &str| (u.into(), a.into(), t.into(), k.into());
    assert_eq!(
        slides,
        [
            s("https://i.example/8.png", "eight", "", "html"),
            s("https://i.example/9.png", "", "", "html"),
            s("https://i.example/12.png", "slide", "one", "reference"),
            s("https://i.example/13.png", "", "fig", "shortcode"),
            s("https://i.example/6.png", "alt", "t", "inline"),
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Idempotence and re-import

#[test]
fn reimport_of_unchanged_posts_changes_nothing() {
    let sb = Sandbox::new();
    sb.example("posts/cloud-summit-2023-recap.md");
    for (name, bytes, ..) in tricky_sources() {
        sb.write(&format!("posts/tricky/{name}"), bytes);
    }
    sb.import(&["posts"]).ok();
    // A sentinel time: a re-import that touched the post row would change it.
    sb.db()
        .execute(
            "UPDATE post SET imported_at = '2000-01-01T00:00:00Z',
                             updated_at = '2000-01-01T00:00:00Z'",
            [],
        )
        .unwrap();
    let before = sb.dump_all();
    assert!(before["slide"].len() > 10 && before["link"].len() >= 3);

    let run = sb.import(&["posts"]);
    run.ok();
    assert_eq!(run.stdout(), "", "nothing new or updated to report");
    let posts = before["post"].len();
    assert!(
        run.stderr
            .contains(&format!("0 new, 0 updated, {posts} unchanged")),
        "{}",
        run.stderr
    );
    let after = sb.dump_all();
    for table in ["post", "session", "block", "slide", "link"] {
        assert!(
            before[table] == after[table],
            "table {table} changed on re-import"
        );
    }
    assert_eq!(
        sb.texts("SELECT DISTINCT updated_at FROM posts"),
        ["2000-01-01T00:00:00Z"]
    );
}

#[test]
fn reimport_of_the_same_file_in_one_run_stores_it_once() {
    let sb = Sandbox::new();
    sb.example("cloud-summit-2023-recap.md");
    let run = sb.import(&[
        "cloud-summit-2023-recap.md",
        "./cloud-summit-2023-recap.md",
        ".",
    ]);
    run.ok();
    assert!(
        run.stderr.contains("1 new, 0 updated, 2 unchanged"),
        "{}",
        run.stderr
    );
    assert_eq!(sb.count("SELECT count(*) FROM post"), 1);
    assert_eq!(sb.count("SELECT count(*) FROM slide"), 10);
}

#[test]
fn reimport_of_an_edited_post_keeps_its_id_and_replaces_its_slides() {
    let sb = Sandbox::new();
    sb.write("other.md", "## Other\n\n![](https://i.example/other.png)\n");
    let post = sb.example("recap.md");
    sb.import(&["other.md", "recap.md"]).ok();
    let id = sb.post_id("recap");
    sb.db()
        .execute(
            "UPDATE post SET imported_at = '2000-01-01T00:00:00Z',
                             updated_at = '2000-01-01T00:00:00Z'",
            [],
        )
        .unwrap();
    let other = sb.post_id("other");
    let rows_of_other = |sb: &Sandbox| -> Vec<Vec<Vec<Value>>> {
        ["post", "session", "block", "slide", "link"]
            .into_iter()
            .map(|t| {
                let column = if t == "post" { 0 } else { 1 };
                sb.dump(t)
                    .into_iter()
                    .filter(|r| r[column] == Value::Integer(other))
                    .collect()
            })
            .collect()
    };
    let other_before = rows_of_other(&sb);
    assert!(!other_before[3].is_empty(), "the other post has a slide");

    let edited = std::fs::read_to_string(&post)
        .unwrap()
        .replace(
            "https://img.example.net/notes/202306170901123.jpg",
            "https://img.example.net/notes/edited-first.jpg",
        )
        .replace("## 小结\n", "## 小结\n\n![](https://img.example.net/notes/new-last.jpg)\n\n## Extra talk\n\nhttps://extra.example/page\n");
    std::fs::write(&post, &edited).unwrap();
    let run = sb.import(&["recap.md"]);
    run.ok();
    assert!(
        run.stdout()
            .contains("updated recap: 5 sessions, 11 slides"),
        "{}",
        run.stdout()
    );

    assert_eq!(sb.post_id("recap"), id, "the post keeps its id");
    assert_eq!(sb.count("SELECT count(*) FROM post"), 2);
    let urls = sb.texts(&format!(
        "SELECT url FROM slides WHERE post_id = {id} ORDER BY position"
    ));
    assert_eq!(urls.len(), 11);
    assert_eq!(urls[0], "https://img.example.net/notes/edited-first.jpg");
    assert_eq!(urls[10], "https://img.example.net/notes/new-last.jpg");
    assert!(
        !urls.contains(&"https://img.example.net/notes/202306170901123.jpg".to_string()),
        "old slides are gone: {urls:?}"
    );
    assert_eq!(
        sb.texts(&format!(
            "SELECT title FROM sessions WHERE post_id = {id} ORDER BY position"
        ))
        .last()
        .map(String::as_str),
        Some("Extra talk")
    );
    assert_eq!(
        sb.count(&format!(
            "SELECT count(*) FROM links WHERE post_id = {id} AND url = 'https://extra.example/page'"
        )),
        1
    );
    // Rows of the old version are gone, not orphaned.
    for table in ["session", "block", "slide", "link"] {
        assert_eq!(
            sb.count(&format!(
                "SELECT count(*) FROM {table} WHERE post_id NOT IN (SELECT id FROM post)"
            )),
            0,
            "{table}"
        );
    }
    assert_eq!(
        sb.count(&format!(
            "SELECT count(*) FROM slide s JOIN session ss ON ss.id = s.session_id
             WHERE s.post_id = {id} AND ss.post_id != {id}"
        )),
        0
    );
    let times: (String, String) = sb
        .db()
        .query_row(
            "SELECT imported_at, updated_at FROM post WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(times.0, "2000-01-01T00:00:00Z", "imported_at is kept");
    assert_ne!(times.1, "2000-01-01T00:00:00Z", "updated_at moves");

    // The other post is untouched.
    assert!(rows_of_other(&sb) == other_before, "the other post changed");

    let export = sb.run(&["export", "recap"]);
    export.ok();
    assert!(export.stdout == edited.as_bytes(), "export gives the edit");
}

#[test]
fn failed_reimport_keeps_the_previous_version_whole() {
    let sb = Sandbox::new();
    let post = sb.example("recap.md");
    sb.import(&["recap.md"]).ok();
    let before = sb.dump_all();
    let mut broken = std::fs::read(&post).unwrap();
    broken.extend_from_slice(b"\n\xff\xfe broken\n");
    std::fs::write(&post, &broken).unwrap();
    let run = sb.import(&["recap.md"]);
    run.expect_code(1);
    run.failure_line("recap.md", "UTF-8");
    assert!(
        sb.dump_all() == before,
        "a failed re-import wrote something"
    );
    let export = sb.run(&["export", "recap"]);
    assert!(export.stdout == std::fs::read(EXAMPLE).unwrap());
}

// ---------------------------------------------------------------------------------------
// Bad input

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

#[test]
fn bad_inputs_each_get_one_line_and_exit_1_while_good_ones_import() {
    let sb = Sandbox::new();
    sb.write("good-one.md", "## A\n\n![](https://i.example/a.png)\n");
    sb.write("bad-utf8.md", b"## A\n\nGB18030 \xc4\xe3\xba\xc3 text\n");
    sb.write("image.md", PNG);
    sb.write(
        "bad-yaml.md",
        "---\ntitle: [unclosed\nauthor: x\n---\n\n## A\n\n![](https://i.example/y.png)\n",
    );
    sb.write("bad-toml.md", "+++\ntitle = \n+++\n\n## A\n");
    std::fs::create_dir_all(sb.root().join("no-markdown/sub")).unwrap();
    sb.write("no-markdown/notes.txt", "not markdown");
    sb.write("good-two.md", "## B\n\n![](https://i.example/b.png)\n");
    let unreachable = "http://127.0.0.1:1/post.md";

    let run = sb.import(&[
        "good-one.md",
        "bad-utf8.md",
        "image.md",
        "bad-yaml.md",
        "bad-toml.md",
        "missing.md",
        "no-markdown",
        unreachable,
        "good-two.md",
    ]);
    run.expect_code(1);
    run.failure_line("bad-utf8.md", "not valid UTF-8");
    run.failure_line("image.md", "binary");
    run.failure_line("bad-yaml.md", "malformed YAML front matter");
    run.failure_line("bad-toml.md", "malformed TOML front matter");
    run.failure_line("missing.md", "no such file");
    run.failure_line("no-markdown", "no markdown");
    run.failure_line(unreachable, "cannot download");
    assert!(run.stderr.contains("2 posts: 2 new"), "{}", run.stderr);
    assert!(run.stderr.contains("; 7 inputs failed"), "{}", run.stderr);
    let out = run.stdout();
    assert!(out.contains("imported good-one"), "{out}");
    assert!(out.contains("imported good-two"), "{out}");

    assert_eq!(
        sb.texts("SELECT slug FROM posts ORDER BY id"),
        ["good-one", "good-two"]
    );
    for name in [
        "bad-utf8", "image", "bad-yaml", "bad-toml", "missing", "post",
    ] {
        assert_eq!(
            sb.count(&format!(
                "SELECT count(*) FROM post WHERE source LIKE '%{name}%' OR slug LIKE '{name}%'"
            )),
            0,
            "{name} left a post row"
        );
    }
    assert_eq!(
        sb.count(
            "SELECT count(*) FROM slide WHERE url NOT IN
               ('https://i.example/a.png', 'https://i.example/b.png')"
        ),
        0,
        "nothing of a failed post is stored"
    );
    assert_eq!(sb.count("SELECT count(*) FROM session"), 2);
}

#[test]
fn bad_file_inside_a_folder_is_named_by_its_path_and_the_rest_imports() {
    let sb = Sandbox::new();
    sb.write("posts/a.md", "# A\n");
    sb.write("posts/sub/broken.markdown", b"# B \xff\n");
    sb.write("posts/sub/c.MD", "# C\n");
    sb.write("posts/.hidden/d.md", "# D\n");
    sb.write("posts/e.txt", "# E\n");
    let run = sb.import(&["posts"]);
    run.expect_code(1);
    run.failure_line("posts/sub/broken.markdown", "UTF-8");
    let mut slugs = sb.texts("SELECT slug FROM posts");
    slugs.sort();
    assert_eq!(slugs, ["a", "c"]);
}

#[test]
fn a_run_with_only_bad_inputs_still_exits_1_and_stores_nothing() {
    let sb = Sandbox::new();
    sb.write("image.md", PNG);
    let run = sb.import(&["image.md", "missing.md"]);
    run.expect_code(1);
    run.failure_line("image.md", "binary");
    run.failure_line("missing.md", "no such file");
    assert_eq!(sb.count("SELECT count(*) FROM post"), 0);
}

// ---------------------------------------------------------------------------------------
// Import from a URL

const SERVED_POST: &str = "---\ntitle: Served post\r\n---\r\n\r\n## Remote talk\r\n\r\n![](https://i.example/r1.png)\r\n\r\nSee https://docs.example/remote\r\n";

#[test]
fn import_from_a_url_stores_the_post_with_its_url_as_source() {
    let base = serve(vec![("/raw/kubecon-2024.md", Reply::ok(SERVED_POST))]);
    let sb = Sandbox::new();
    let url = format!("{base}/raw/kubecon-2024.md");
    let run = sb.import(&[&url]);
    run.ok();
    assert!(
        run.stdout()
            .contains("imported kubecon-2024: 1 sessions, 1 slides"),
        "{}",
        run.stdout()
    );
    let row: (String, String, String) = sb
        .db()
        .query_row("SELECT source, slug, title FROM posts", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(
        row,
        (url.clone(), "kubecon-2024".into(), "Served post".into())
    );
    assert_eq!(
        sb.texts("SELECT url FROM links"),
        ["https://docs.example/remote"]
    );
    for key in [url.as_str(), "kubecon-2024", "1"] {
        let export = sb.run(&["export", key]);
        export.ok();
        assert!(
            export.stdout == SERVED_POST.as_bytes(),
            "export {key} differs"
        );
    }
    // Unchanged on the server: nothing changes in the archive.
    let before = sb.dump_all();
    let again = sb.import(&[&url]);
    again.ok();
    assert!(again.stderr.contains("1 unchanged"), "{}", again.stderr);
    assert!(sb.dump_all() == before);
}

#[test]
fn import_from_a_url_answering_404_fails_naming_the_status() {
    let base = serve(vec![("/good.md", Reply::ok("# Good\n"))]);
    let sb = Sandbox::new();
    let missing = format!("{base}/missing.md");
    let good = format!("{base}/good.md");
    let run = sb.import(&[&missing, &good]);
    run.expect_code(1);
    run.failure_line(&missing, "404");
    assert_eq!(sb.texts("SELECT source FROM posts"), [good]);
}

#[test]
fn import_from_a_url_fails_cleanly_on_binary_or_broken_off_bodies() {
    let base = serve(vec![
        ("/image.md", Reply::ok(PNG)),
        (
            "/cut.md",
            Reply {
                status: "200 OK",
                body: b"## Cut\n\n![](https://i.example/cut.png)\n".to_vec(),
                length: 4096,
            },
        ),
        ("/fine.md", Reply::ok("## Fine\n")),
    ]);
    let sb = Sandbox::new();
    let image = format!("{base}/image.md");
    let cut = format!("{base}/cut.md");
    let fine = format!("{base}/fine.md");
    let run = sb.import(&[&image, &cut, &fine]);
    run.expect_code(1);
    run.failure_line(&image, "binary");
    run.failure_line(&cut, "broke off");
    assert_eq!(sb.texts("SELECT source FROM posts"), [fine]);
    assert_eq!(sb.count("SELECT count(*) FROM slide"), 0);
}

// ---------------------------------------------------------------------------------------
// Session level and usage errors

const DAYS: &str = "Intro.\n\n## Day 1\n\n### Talk A\n\n![](https://i.example/a.png)\n\n### Talk B\n\n![](https://i.example/b.png)\n\n## Day 2\n\n### Talk C\n\nnotes\n\n![](https://i.example/c.png)\n";

#[test]
fn session_level_option_changes_the_sessions_and_keeps_the_post_id() {
    let sb = Sandbox::new();
    sb.write("days.md", DAYS);
    sb.import(&["days.md"]).ok();
    let id = sb.post_id("days");
    assert_eq!(
        sb.texts("SELECT title FROM sessions ORDER BY position"),
        ["Day 1", "Day 2"]
    );
    let slide_sessions = || sb.texts("SELECT session FROM slides ORDER BY position");
    assert_eq!(slide_sessions(), ["Day 1", "Day 1", "Day 2"]);

    let run = sb.import(&["--session-level", "3", "days.md"]);
    run.ok();
    assert!(
        run.stdout().contains("updated days: 3 sessions, 3 slides"),
        "{}",
        run.stdout()
    );
    assert_eq!(sb.post_id("days"), id);
    assert_eq!(
        sb.texts("SELECT title FROM sessions ORDER BY position"),
        ["Talk A", "Talk B", "Talk C"]
    );
    assert_eq!(slide_sessions(), ["Talk A", "Talk B", "Talk C"]);
    assert_eq!(
        sb.count("SELECT level FROM sessions WHERE title = 'Talk A'"),
        3
    );
    // `## Day 2` is inside Talk B now, not a session.
    assert_eq!(
        sb.count(
            "SELECT count(*) FROM blocks WHERE kind = 'heading' AND session = 'Talk B'
               AND markdown LIKE '## Day 2%'"
        ),
        1
    );
    let export = sb.run(&["export", "days"]);
    assert!(export.stdout == DAYS.as_bytes());

    // Back to the default: the sessions follow.
    sb.import(&["days.md"]).ok();
    assert_eq!(
        sb.texts("SELECT title FROM sessions ORDER BY position"),
        ["Day 1", "Day 2"]
    );
}

#[test]
fn usage_errors_exit_2_and_create_no_archive() {
    let sb = Sandbox::new();
    sb.write("days.md", DAYS);
    for args in [
        vec!["import"],
        vec!["import", "--session-level", "9", "days.md"],
        vec!["import", "--session-level", "0", "days.md"],
        vec!["import", "--session-level", "x", "days.md"],
        vec!["export"],
        vec!["export", "--all"],
        vec!["export", "--format", "yaml", "days"],
        vec!["show"],
        vec!["frobnicate"],
    ] {
        let run = sb.run(&args);
        run.expect_code(2);
        assert!(!run.stderr.is_empty(), "{args:?}: no message");
        assert!(run.stdout.is_empty(), "{args:?}: stdout {:?}", run.stdout());
        assert!(!sb.archive().exists(), "{args:?} created the archive");
    }
}

#[test]
fn export_with_neither_post_nor_all_is_a_usage_error_even_with_an_archive() {
    let sb = Sandbox::new();
    sb.write("days.md", DAYS);
    sb.import(&["days.md"]).ok();
    let run = sb.run(&["export"]);
    run.expect_code(2);
    let run = sb.run(&["export", "days", "--all", "--out", "out"]);
    run.expect_code(2);
    assert!(!sb.root().join("out").exists());
}

// ---------------------------------------------------------------------------------------
// JSON

#[test]
fn json_export_has_its_keys_in_the_documented_order() {
    let sb = Sandbox::new();
    let post = sb.example("cloud-summit-2023-recap.md");
    sb.import(&["cloud-summit-2023-recap.md"]).ok();
    let run = sb.run(&["export", "--format", "json", EXAMPLE_SLUG]);
    run.ok();
    let text = run.stdout();

    let mut last = 0;
    for key in [
        "id",
        "slug",
        "title",
        "author",
        "date",
        "description",
        "tags",
        "source",
        "sha256",
        "bytes",
        "front_matter",
        "intro",
        "slides",
        "sessions",
    ] {
        let pattern = format!("\n  \"{key}\": ");
        let hits: Vec<usize> = text.match_indices(&pattern).map(|(i, _)| i).collect();
        assert_eq!(hits.len(), 1, "top-level key {key:?} once:\n{text}");
        assert!(hits[0] > last, "key {key:?} out of order:\n{text}");
        last = hits[0];
    }
    assert!(text.starts_with("{\n  \"id\": "), "{text}");

    let json: serde_json::Value = serde_json::from_str(text).expect("valid JSON");
    let top: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert_eq!(top.len(), 14, "no other top-level keys: {top:?}");
    assert_eq!(json["id"], 1);
    assert_eq!(json["slug"], EXAMPLE_SLUG);
    assert_eq!(json["title"], "Cloud Native Summit 2023 回顾(上)");
    assert_eq!(json["author"], "lanmei");
    assert_eq!(json["date"], "2023-06-18");
    assert!(json["description"].is_null());
    assert_eq!(json["tags"], serde_json::json!(["云原生", "Kubernetes"]));
    assert_eq!(json["source"], canonical(&post));
    let bytes = std::fs::read(&post).unwrap();
    assert_eq!(json["bytes"], bytes.len());
    let sha = json["sha256"].as_str().unwrap();
    assert_eq!(sha.len(), 64);
    assert!(sha.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(json["front_matter"]["toc"], true);
    assert_eq!(json["intro"][0]["text"], "照例是一篇长文，图比字多。");
    assert_eq!(json["slides"], serde_json::json!([]));

    let sessions = json["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 4);
    for (i, s) in sessions.iter().enumerate() {
        let keys: Vec<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(sorted, ["comments", "position", "slides", "title"]);
        assert_eq!(s["position"], i + 1);
        for c in s["comments"].as_array().unwrap() {
            let mut keys: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
            keys.sort();
            assert_eq!(keys, ["kind", "markdown", "text"]);
        }
        for sl in s["slides"].as_array().unwrap() {
            let mut keys: Vec<&str> = sl.as_object().unwrap().keys().map(String::as_str).collect();
            keys.sort();
            assert_eq!(
                keys,
                [
                    "alt",
                    "bytes",
                    "height",
                    "media_type",
                    "path",
                    "position",
                    "reason",
                    "sha256",
                    "state",
                    "title",
                    "url",
                    "width"
                ]
            );
        }
    }
    // Session keys in order too: position, title, comments, slides.
    let first = &text[text.find("\"sessions\": [").unwrap()..];
    let at = |k: &str| first.find(&format!("\"{k}\": ")).unwrap();
    assert!(at("position") < at("title") && at("title") < at("comments"));
    assert!(at("comments") < at("slides"));

    let s1 = &sessions[0];
    assert_eq!(s1["title"], "Scaling Prometheus to a Billion Series");
    assert_eq!(s1["comments"][0]["kind"], "paragraph");
    assert_eq!(
        s1["comments"][1]["text"],
        "相关的设计文档可以看这里：\nhttps://prometheus.io/docs/prometheus/latest/storage/"
    );
    assert_eq!(
        s1["comments"][1]["markdown"],
        "相关的设计文档可以看这里：\nhttps://prometheus.io/docs/prometheus/latest/storage/\n"
    );
    let urls: Vec<&str> = s1["slides"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["url"].as_str().unwrap())
        .collect();
    assert_eq!(urls.len(), 4);
    assert_eq!(urls[2], urls[3], "the repeated image is two slides");
    let s3 = &sessions[2];
    assert_eq!(
        s3["slides"][1],
        serde_json::json!({
            "position": 9,
            "url": "https://img.example.net/notes/202306171121444.jpg",
            "alt": "",
            "title": "service export flow",
            // Imported with --no-fetch: pending, no file yet.
            "state": "pending",
            "reason": null,
            "sha256": null,
            "bytes": null,
            "media_type": null,
            "width": null,
            "height": null,
            "path": null
        })
    );
    assert_eq!(
        s3["comments"][0]["markdown"],
        "思路不错，和 [Submariner](https://github.com/submariner-io/submariner) 的做法类似。\n"
    );
    assert_eq!(
        sessions[1]["comments"][2]["kind"], "list",
        "{}",
        sessions[1]
    );
    let all_positions: Vec<i64> = sessions
        .iter()
        .flat_map(|s| s["slides"].as_array().unwrap().iter())
        .map(|s| s["position"].as_i64().unwrap())
        .collect();
    assert_eq!(all_positions, (1..=10).collect::<Vec<_>>());
}

#[test]
fn json_export_of_a_post_without_front_matter_has_empty_metadata() {
    let sb = Sandbox::new();
    sb.write(
        "plain.md",
        "![](https://i.example/intro.png)\n\n# Talk\n\ntext\n",
    );
    sb.import(&["plain.md"]).ok();
    let run = sb.run(&["export", "--format", "json", "plain"]);
    run.ok();
    let json: serde_json::Value = serde_json::from_slice(&run.stdout).expect("valid JSON");
    assert_eq!(json["title"], "Talk");
    assert!(json["author"].is_null() && json["date"].is_null());
    assert_eq!(json["tags"], serde_json::json!([]));
    assert_eq!(json["front_matter"], serde_json::json!({}));
    assert_eq!(
        json["slides"][0]["url"], "https://i.example/intro.png",
        "a slide before the first session belongs to the post"
    );
    assert_eq!(json["sessions"][0]["slides"], serde_json::json!([]));
}

// ---------------------------------------------------------------------------------------
// export --all

/// Five posts, two of them page bundles named `kubecon/index.md` in different parents,
/// two wanting the front matter slug `same`.
fn write_colliding_posts(sb: &Sandbox) -> Vec<PathBuf> {
    vec![
        sb.example("posts/cloud-summit-2023-recap.md"),
        sb.write(
            "posts/2023/kubecon/index.md",
            "---\ntitle: KubeCon 2023\n---\n\n## A\n\n![](https://i.example/k23.png)\n",
        ),
        sb.write(
            "posts/2024/kubecon/index.md",
            "---\ntitle: KubeCon 2024\n---\r\n\r\n## B\r\n\r\n![](https://i.example/k24.png)",
        ),
        sb.write("posts/x.md", "---\nslug: same\n---\n# X\n"),
        sb.write("posts/y.md", "---\nslug: same\n---\n# Y\n\t\n"),
    ]
}

#[test]
fn export_all_markdown_writes_one_file_per_post_even_for_equal_slugs() {
    let sb = Sandbox::new();
    let sources = write_colliding_posts(&sb);
    sb.import(&["posts"]).ok();
    let slugs = sb.texts("SELECT slug FROM posts ORDER BY id");
    assert_eq!(slugs.len(), 5);
    let mut unique = slugs.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 5, "slugs are unique: {slugs:?}");
    assert!(slugs.iter().filter(|s| s.starts_with("kubecon")).count() == 2);
    assert!(slugs.iter().filter(|s| s.starts_with("same")).count() == 2);

    let run = sb.run(&["export", "--all", "--out", "out"]);
    run.ok();
    let out = sb.root().join("out");
    let mut files: Vec<Vec<u8>> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            assert_eq!(path.extension().unwrap(), "md", "{}", path.display());
            std::fs::read(path).unwrap()
        })
        .collect();
    assert_eq!(files.len(), 5, "one file per post");
    let mut expected: Vec<Vec<u8>> = sources.iter().map(|p| std::fs::read(p).unwrap()).collect();
    files.sort();
    expected.sort();
    assert!(files == expected, "each file holds one source's bytes");

    // Each file is named by its post's slug and holds that post's source.
    let db = sb.db();
    let mut stmt = db.prepare("SELECT slug, source FROM posts").unwrap();
    let rows: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (slug, source) in rows {
        let file = out.join(format!("{slug}.md"));
        assert!(
            std::fs::read(&file).unwrap() == std::fs::read(&source).unwrap(),
            "{} does not hold {source}",
            file.display()
        );
    }
}

#[test]
fn export_all_json_writes_one_document_per_post_even_for_equal_slugs() {
    let sb = Sandbox::new();
    let sources = write_colliding_posts(&sb);
    sb.import(&["posts"]).ok();
    sb.run(&["export", "--all", "--out", "json-out", "--format", "json"])
        .ok();
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(sb.root().join("json-out")).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(path.extension().unwrap(), "json");
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).expect("valid JSON");
        assert_eq!(
            path.file_stem().unwrap().to_str().unwrap(),
            json["slug"].as_str().unwrap()
        );
        let source = json["source"].as_str().unwrap().to_string();
        assert_eq!(
            json["bytes"],
            std::fs::read(&source).unwrap().len(),
            "{source}"
        );
        seen.push(source);
    }
    seen.sort();
    let mut expected: Vec<String> = sources.iter().map(|p| canonical(p)).collect();
    expected.sort();
    assert_eq!(seen, expected);
}

#[test]
fn export_all_never_writes_two_posts_onto_one_file_with_case_variant_slugs() {
    // Slugs differing only in case would share a file on macOS and Windows, so export
    // renames the later one `{slug}-{id}`; that name must not be another post's file.
    let sb = Sandbox::new();
    let sources = [
        sb.write("posts/a.md", "---\nslug: X-3\n---\nfirst\n"),
        sb.write("posts/b.md", "---\nslug: x\n---\nsecond\n"),
        sb.write("posts/c.md", "---\nslug: X\n---\nthird\n"),
    ];
    sb.import(&["posts"]).ok();
    assert_eq!(
        sb.texts("SELECT slug FROM posts ORDER BY id"),
        ["X-3", "x", "X"]
    );
    sb.run(&["export", "--all", "--out", "out"]).ok();
    let mut names: Vec<String> = std::fs::read_dir(sb.root().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut lower: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
    lower.dedup();
    assert_eq!(
        lower.len(),
        names.len(),
        "names differ only in case: {names:?}"
    );
    let mut contents: Vec<Vec<u8>> = names
        .iter()
        .map(|n| std::fs::read(sb.root().join("out").join(n)).unwrap())
        .collect();
    contents.sort();
    let mut expected: Vec<Vec<u8>> = sources.iter().map(|p| std::fs::read(p).unwrap()).collect();
    expected.sort();
    assert!(
        contents == expected,
        "every post must get its own file; got {names:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Schema versions

fn bump_user_version(db: &Path) -> i64 {
    let conn = Connection::open(db).unwrap();
    let current: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert!(current >= 1, "a fresh archive has a schema version");
    conn.pragma_update(None, "user_version", current + 1)
        .unwrap();
    drop(conn);
    current + 1
}

#[test]
fn newer_archive_is_refused_and_left_unchanged() {
    let sb = Sandbox::new();
    sb.example("cloud-summit-2023-recap.md");
    sb.write("another.md", "## Another\n\n![](https://i.example/n.png)\n");
    sb.import(&["cloud-summit-2023-recap.md"]).ok();
    let newer = bump_user_version(&sb.db_path());
    let before = std::fs::read(sb.db_path()).unwrap();
    let mut files_before: Vec<_> = std::fs::read_dir(sb.archive())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    files_before.sort();

    for args in [
        vec!["list"],
        vec!["import", "another.md"],
        vec!["export", "1"],
        vec!["show", "1"],
    ] {
        let run = sb.run(&args);
        run.expect_code(1);
        assert!(run.stdout.is_empty(), "{args:?} printed {:?}", run.stdout());
        assert!(
            run.stderr.contains("newer"),
            "{args:?} should say the archive is newer: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains(&format!("schema version {newer}")),
            "{}",
            run.stderr
        );
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(
            std::fs::read(sb.db_path()).unwrap() == before,
            "{args:?} changed archive.db"
        );
        let mut files_after: Vec<_> = std::fs::read_dir(sb.archive())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        files_after.sort();
        assert_eq!(files_after, files_before, "{args:?} left files behind");
    }
    let version: i64 = sb
        .db()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, newer);
    assert_eq!(sb.count("SELECT count(*) FROM post"), 1);
}

#[test]
fn reopening_a_current_archive_keeps_its_schema_version() {
    let sb = Sandbox::new();
    sb.example("cloud-summit-2023-recap.md");
    sb.import(&["cloud-summit-2023-recap.md"]).ok();
    let version = |sb: &Sandbox| -> i64 {
        sb.db()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap()
    };
    let first = version(&sb);
    assert!(first >= 1);
    sb.run(&["list"]).ok();
    sb.import(&["cloud-summit-2023-recap.md"]).ok();
    assert_eq!(version(&sb), first);
    for view in ["posts", "sessions", "comments", "slides", "links"] {
        assert_eq!(
            sb.count(&format!(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'view' AND name = '{view}'"
            )),
            1,
            "view {view}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Broken pipe

#[test]
fn export_into_a_pipe_closed_early_exits_quietly() {
    let sb = Sandbox::new();
    let mut big = String::from("---\ntitle: Big\n---\n\n");
    let mut i = 0;
    while big.len() < 4 * 1024 * 1024 {
        i += 1;
        big.push_str(&format!(
            "## Talk {i}\n\n![](https://i.example/{i}.png)\n\n说明文字 {i}，很长很长的评论。\n\n"
        ));
    }
    sb.write("big.md", &big);
    sb.import(&["big.md"]).ok();

    let mut child = sb
        .std_cmd()
        .args(["export", "big"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut head = [0u8; 10];
    stdout.read_exact(&mut head).unwrap();
    assert_eq!(&head, &big.as_bytes()[..10]);
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
}

#[test]
fn recorded_spans_point_at_the_slide_urls_and_blocks_in_the_source() {
    let sb = Sandbox::new();
    sb.example("posts/cloud-summit-2023-recap.md");
    for (name, bytes, ..) in tricky_sources() {
        sb.write(&format!("posts/tricky/{name}"), bytes);
    }
    sb.import(&["posts"]).ok();
    assert!(sb.count("SELECT count(*) FROM slide") > 20);
    let bad_slides = sb.texts(
        "SELECT p.slug || ': ' || s.url || ' vs ' ||
                CAST(substr(p.content, s.url_start + 1, s.url_end - s.url_start) AS TEXT)
         FROM slide s JOIN post p ON p.id = s.post_id
         WHERE CAST(substr(p.content, s.url_start + 1, s.url_end - s.url_start) AS TEXT)
               IS NOT s.url",
    );
    assert!(bad_slides.is_empty(), "{bad_slides:#?}");
    let bad_blocks = sb.texts(
        "SELECT p.slug || ' block ' || b.position FROM block b JOIN post p ON p.id = b.post_id
         WHERE CAST(substr(p.content, b.start + 1, b.end - b.start) AS TEXT) IS NOT b.markdown",
    );
    assert!(bad_blocks.is_empty(), "{bad_blocks:#?}");
}

// ---------------------------------------------------------------------------------------
// Offline export of a page bundle: images read from disk, rewritten to local copies.
// ---------------------------------------------------------------------------------------

const BUNDLE: &str = "---\ntitle: Bundle\n---\n\n## Talk\n\n![](slide-1.png)\n\n![cover](<my slides/cover (1).png> \"Cover\")\n\n![ref][s2]\n\n<img src=\"slide-2.png\" alt=\"two\">\n\n{{< figure src=\"slide-1.png\" >}}\n\nText with ![missing](https://127.0.0.1:1/gone.png) inline.\n\n[s2]: slide-2.png\n";

fn bundle(sb: &Sandbox) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let (one, two, cover) = (png(4, 3, 1, 0), png(5, 6, 2, 0), png(7, 8, 3, 0));
    sb.write("bundle/index.md", BUNDLE);
    sb.write("bundle/slide-1.png", &one);
    sb.write("bundle/slide-2.png", &two);
    sb.write("bundle/my slides/cover (1).png", &cover);
    (one, two, cover)
}

#[test]
fn page_bundle_images_are_read_from_disk_into_the_store() {
    let sb = Sandbox::new();
    let (one, two, cover) = bundle(&sb);
    let run = Run::of(sb.cmd().args(["import", "--retries", "0", "bundle"]));
    run.expect_code(1); // the unreachable URL fails; the rest is stored
    assert!(run.stderr.contains("gone.png"), "{}", run.stderr);
    for bytes in [&one, &two, &cover] {
        let sha = sha256_hex(bytes);
        let path = sb.archive().join(format!("images/{}/{sha}.png", &sha[..2]));
        assert_eq!(std::fs::read(&path).unwrap(), *bytes, "{}", path.display());
    }
    assert_eq!(sb.count("SELECT count(*) FROM images"), 3);
    assert_eq!(
        sb.texts("SELECT width || 'x' || height FROM images ORDER BY width"),
        ["4x3", "5x6", "7x8"]
    );
    assert_eq!(
        sb.count("SELECT count(*) FROM slides WHERE sha256 IS NOT NULL"),
        5
    );
    assert_eq!(
        sb.count("SELECT count(*) FROM slides WHERE state = 'failed'"),
        1
    );
}

#[test]
fn export_with_local_images_rewrites_fetched_slides_and_copies_their_files() {
    let sb = Sandbox::new();
    let (one, two, cover) = bundle(&sb);
    Run::of(sb.cmd().args(["import", "--retries", "0", "bundle"])).expect_code(1);
    let run = sb.run(&["export", "--all", "--images", "local", "--out", "offline"]);
    run.ok();
    assert!(
        run.stderr.contains("not fetched") && run.stderr.contains("https://127.0.0.1:1/gone.png"),
        "the unfetched slide is named in a warning: {}",
        run.stderr
    );
    let exported = std::fs::read_to_string(sb.root().join("offline/bundle.md")).unwrap();
    // Everything but the rewritten destinations is unchanged.
    let local = |bytes: &[u8]| format!("images/{}.png", sha256_hex(bytes));
    let expected = BUNDLE
        .replace("](slide-1.png)", &format!("]({})", local(&one)))
        .replace("<my slides/cover (1).png>", &format!("<{}>", local(&cover)))
        .replace("src=\"slide-2.png\"", &format!("src=\"{}\"", local(&two)))
        .replace("src=\"slide-1.png\"", &format!("src=\"{}\"", local(&one)))
        .replace("[s2]: slide-2.png", &format!("[s2]: {}", local(&two)));
    assert_eq!(exported, expected);
    for bytes in [&one, &two, &cover] {
        let copy = sb.root().join("offline").join(local(bytes));
        assert_eq!(std::fs::read(&copy).unwrap(), *bytes, "{}", copy.display());
    }
    // A CommonMark parser reads every rewritten slide as one local destination.
    let post = slidearchive::post::parse(&exported, Default::default()).unwrap();
    let urls: Vec<&str> = post.slides.iter().map(|s| s.url.as_str()).collect();
    assert_eq!(urls.len(), 6);
    assert_eq!(
        urls.iter().filter(|u| u.starts_with("images/")).count(),
        5,
        "{urls:?}"
    );
}

#[test]
fn export_without_local_images_stays_byte_identical_after_fetching() {
    let sb = Sandbox::new();
    bundle(&sb);
    Run::of(sb.cmd().args(["import", "--retries", "0", "bundle"])).expect_code(1);
    let run = sb.run(&["export", "bundle"]);
    run.ok();
    assert_eq!(run.stdout(), BUNDLE);
}

#[test]
fn json_export_gives_each_fetched_slide_its_file() {
    let sb = Sandbox::new();
    let (one, ..) = bundle(&sb);
    Run::of(sb.cmd().args(["import", "--retries", "0", "bundle"])).expect_code(1);
    let run = sb.run(&["export", "--format", "json", "bundle"]);
    run.ok();
    let doc: serde_json::Value = serde_json::from_str(run.stdout()).unwrap();
    let first = &doc["sessions"][0]["slides"][0];
    let sha = sha256_hex(&one);
    assert_eq!(first["sha256"], sha.as_str());
    assert_eq!(first["state"], "stored");
    assert_eq!(first["media_type"], "image/png");
    assert_eq!(
        (first["width"].as_i64(), first["height"].as_i64()),
        (Some(4), Some(3))
    );
    assert_eq!(
        first["path"],
        format!("images/{}/{sha}.png", &sha[..2]).as_str()
    );
    let last = &doc["sessions"][0]["slides"][5];
    assert_eq!(last["state"], "failed");
    assert!(last["sha256"].is_null());
}
