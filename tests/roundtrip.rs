//! Invariant 1, lossless: every source comes back out byte-identical. Runs in-process on
//! the library (a real SQLite file in a temp dir) so the 1,300-file corpus and the
//! generated posts stay quick.

use proptest::prelude::*;
use slidearchive::archive::Archive;
use slidearchive::export::{Format, render};
use slidearchive::import::{ImportOptions, Outcome, import};
use std::path::{Path, PathBuf};

fn import_one(archive: &mut Archive, path: &Path) -> i64 {
    let report = import(
        archive,
        &[path.display().to_string()],
        &ImportOptions::default(),
        |_| {},
    );
    match &report.outcomes[..] {
        [Outcome::Imported { landed, .. }] => landed.id(),
        other => panic!("{}: {other:?}", path.display()),
    }
}

fn corpus_files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/commonmark")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_commonmark_and_gfm_spec_example_comes_back_byte_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let mut archive = Archive::open_or_create(tmp.path()).unwrap();
    let files: Vec<PathBuf> = corpus_files("spec")
        .into_iter()
        .chain(corpus_files("gfm"))
        .collect();
    assert!(
        files.len() > 1300,
        "corpus is missing: {} files",
        files.len()
    );
    let mut different = Vec::new();
    for path in &files {
        let id = import_one(&mut archive, path);
        let exported = render(&archive, id, Format::Markdown).unwrap();
        if exported != std::fs::read(path).unwrap() {
            different.push(path.display().to_string());
        }
    }
    assert!(different.is_empty(), "not byte-identical: {different:?}");
}

/// One piece of a generated post and what it should add to the parse.
#[derive(Debug, Clone)]
struct Piece {
    text: String,
    /// URLs of the images written in it, in order, as they should be stored.
    images: Vec<String>,
}

fn url() -> impl Strategy<Value = String> {
    (
        "[a-z]{1,8}",
        0u32..100_000,
        prop_oneof!["jpg", "png", "jpeg"],
    )
        .prop_map(|(dir, n, ext)| format!("https://img.example.net/{dir}/{n}.{ext}"))
}

fn words() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            "[a-zA-Z]{1,10}",
            "[一-龥]{1,6}",
            Just("`code`".to_string()),
            Just("**bold**".to_string()),
            Just("https://github.com/a/b".to_string()),
            Just("\t".to_string()),
            Just("  ".to_string()),
        ],
        1..8,
    )
    .prop_map(|w| w.join(" "))
}

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        words().prop_map(|text| Piece {
            text,
            images: vec![]
        }),
        ("[1-3]", words()).prop_map(|(level, title)| Piece {
            text: format!("{} {title}", "#".repeat(level.parse().unwrap())),
            images: vec![],
        }),
        (url(), "[a-z ]{0,6}").prop_map(|(u, alt)| Piece {
            text: format!("![{alt}]({u})"),
            images: vec![u]
        }),
        (url(), "[a-z]{1,6}").prop_map(|(u, t)| Piece {
            text: format!("![]({u} \"{t}\")"),
            images: vec![u]
        }),
        url().prop_map(|u| Piece {
            text: format!("<img src=\"{u}\" alt=\"x\">"),
            images: vec![u]
        }),
        url().prop_map(|u| Piece {
            text: format!("{{{{< figure src=\"{u}\" >}}}}"),
            images: vec![u]
        }),
        (words(), words()).prop_map(|(a, b)| Piece {
            text: format!("- {a}\n  - {b}\n- item"),
            images: vec![]
        }),
        words().prop_map(|w| Piece {
            text: format!("```\n{w}\n![](not-a-slide.png)\n```"),
            images: vec![]
        }),
        words().prop_map(|w| Piece {
            text: format!("> {w}\n> more"),
            images: vec![]
        }),
        Just(Piece {
            text: "<!--more-->".into(),
            images: vec![]
        }),
        Just(Piece {
            text: "---".into(),
            images: vec![]
        }),
    ]
}

fn post() -> impl Strategy<Value = (String, Vec<String>)> {
    (
        prop_oneof![
            Just(String::new()),
            Just("---\ntitle: 回顾\ntags: [a, b]\n---\n".to_string()),
            Just("+++\ntitle = \"T\"\ndate = 2023-06-18\n+++\n".to_string()),
        ],
        any::<bool>(),
        prop::collection::vec(piece(), 0..25),
        prop_oneof![Just("\n"), Just("\r\n"), Just("\r\n\n")],
        prop_oneof![Just(""), Just("\n"), Just("  \n"), Just("\n\n")],
    )
        .prop_map(|(front, bom, pieces, eol, end)| {
            let mut text = String::new();
            if bom {
                text.push('\u{feff}');
            }
            text.push_str(&front);
            let body: Vec<&str> = pieces.iter().map(|p| p.text.as_str()).collect();
            text.push_str(&body.join("\n\n").replace('\n', eol));
            text.push_str(end);
            let images = pieces.into_iter().flat_map(|p| p.images).collect();
            (text, images)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn generated_posts_round_trip_and_keep_every_slide((text, images) in post()) {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("post.md");
        std::fs::write(&path, &text).unwrap();
        let mut archive = Archive::open_or_create(&tmp.path().join("archive")).unwrap();
        let id = import_one(&mut archive, &path);
        prop_assert_eq!(render(&archive, id, Format::Markdown).unwrap(), text.as_bytes());

        let stored = archive.load_post(id).unwrap();
        let slides: Vec<String> = stored
            .intro_slides
            .iter()
            .chain(stored.sessions.iter().flat_map(|s| s.slides.iter()))
            .map(|s| s.url.clone())
            .collect();
        prop_assert_eq!(slides, images);

        // Export rewrites a slide by replacing its URL span: each span must hold its URL.
        let db = rusqlite::Connection::open(tmp.path().join("archive/archive.db")).unwrap();
        let mut stmt = db.prepare("SELECT url, url_start, url_end FROM slide ORDER BY position").unwrap();
        let spans: Vec<(String, i64, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for (url, start, end) in spans {
            prop_assert_eq!(&text[start as usize..end as usize], url.as_str());
        }
    }
}
