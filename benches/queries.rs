//! Benchmark of the README's cookbook queries and of `slidearchive search` on a big
//! archive: median time of every ```sql block in README.md's Cookbook section (target
//! under 50 ms each) and of the release binary's `search` (target under 100 ms), on an
//! archive of N posts with ~150 slides each (default 10,000 posts, 1,500,000 slides).
//!
//! Run it with `cargo bench --bench queries` (Linux, GNU time for the import's peak RSS).
//! Pick the number of posts with `cargo bench --bench queries -- 2000` or `BENCH_POSTS`;
//! `BENCH_RUNS` (default 7) sets how many times each query and search is timed.
//! Building the archive takes a while; keep it for the next run with
//! `BENCH_KEEP_ARCHIVE=/tmp/bench-archive-10k cargo bench --bench queries`: the archive is
//! built there if that folder has none, and reused as it is (no import, no simulated
//! fetch) if it has one that an earlier run of this benchmark finished. At 10,000 posts
//! archive.db is about 2.2 GB (0.4 GB of it the simulated `fetch` rows), and the build
//! takes a few minutes.
//!
//! This is a program, not a timed test (`harness = false` in Cargo.toml): it
//!
//! 1. generates N posts shaped like `examples/cloud-summit-2023-recap.md` (the generator
//!    in `benches/common` that `benches/import.rs` uses, plus slide URLs repeated across
//!    posts, a few image hosts, and a few rarer phrases to search for), and imports them
//!    once with `/usr/bin/time -v slidearchive --archive DIR import --no-fetch POSTS`;
//! 2. simulates a finished fetch with rusqlite, in one transaction: most URLs stored with
//!    a synthetic sha256 (about 10% sharing their content with another URL), 3% failed,
//!    1% left pending, one `fetch` row per attempted URL; then refreshes the planner's
//!    statistics exactly as `slidearchive fetch` does afterwards
//!    (`PRAGMA analysis_limit = 1000; PRAGMA optimize;`);
//! 3. reads every ```sql block of README.md's Cookbook section at run time and times each
//!    R times on a fresh read-only connection (as `slidearchive query` opens it), from
//!    prepare to the last row read; prints median and min ms, rows, the target verdict
//!    and the `EXPLAIN QUERY PLAN` lines that say SCAN (`BENCH_PLANS=full`: the whole
//!    plan);
//! 4. runs the release binary's `search` R times per phrase (process start included),
//!    and the same SQL `search` runs, in process; the phrases are the README's, plus a
//!    two-character word found nowhere (the scan fallback's worst case);
//! 5. prints the import's wall time and peak RSS and the size of archive.db.

mod common;

use common::{Rng, median, mix, thousands};
use rusqlite::{Connection, OpenFlags};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// Posts generated when neither an argument nor `BENCH_POSTS` says otherwise.
const DEFAULT_POSTS: usize = 10_000;
/// Timed runs of each query and search when `BENCH_RUNS` is not set.
const DEFAULT_RUNS: usize = 7;
/// The targets the figures are compared against.
const TARGET_QUERY_MS: f64 = 50.0;
const TARGET_SEARCH_MS: f64 = 100.0;
/// What users type after `slidearchive search`. The last one, a short word that matches
/// nothing, is the scan fallback's worst case (every comment and title read).
const SEARCHES: &[&[&str]] = &[
    &["吵闹的邻居"],
    &["ebpf"],
    &["Go"],
    &["多租户", "隔离"],
    &["东京"],
];
/// `slidearchive search --limit` default.
const SEARCH_LIMIT: usize = 50;
/// The slug one generated post takes, so the cookbook's lookup by post finds it.
const EXAMPLE_SLUG: &str = "kubecon-china-2024-recap";
/// Written into the archive folder once it is complete: what was built, and the figures
/// of that build (so a reused archive still reports them).
const MARKER: &str = "bench-queries.txt";
/// How long a connection waits for another's lock (as the tool does).
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

fn main() -> ExitCode {
    common::exit_code("queries", run())
}

fn run() -> Result<(), String> {
    let posts = common::posts_wanted(DEFAULT_POSTS)?;
    let runs = common::env_count("BENCH_RUNS", DEFAULT_RUNS, common::NO_LIMIT)?;
    // Cargo builds the binary target with the bench profile (release settings).
    let bin = Path::new(env!("CARGO_BIN_EXE_slidearchive"));
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme_text = std::fs::read_to_string(&readme).ctx(&readme.display().to_string())?;
    let cookbook = cookbook_queries(&readme_text)?;

    let tmp = common::temp_dir()?;
    let kept = std::env::var_os("BENCH_KEEP_ARCHIVE").map(PathBuf::from);
    let archive = kept.clone().unwrap_or_else(|| tmp.path().join("archive"));
    let db = archive.join("archive.db");

    // 1-2. The archive: built (import, simulated fetch, statistics), or reused.
    let (build, reused) = if archive.join(MARKER).is_file() {
        let build = Build::read(&archive.join(MARKER))?;
        if build.posts != posts {
            return Err(format!(
                "{} holds an archive of {} posts, not {posts}; remove it or choose another BENCH_KEEP_ARCHIVE",
                archive.display(),
                build.posts
            ));
        }
        (build, true)
    } else if db.exists() {
        return Err(format!(
            "{} has an archive.db this benchmark did not finish building (no {MARKER}); remove the folder or choose another BENCH_KEEP_ARCHIVE",
            archive.display()
        ));
    } else {
        let build = build_archive(bin, &tmp.path().join("posts"), &archive, posts)?;
        build.write(&archive.join(MARKER))?;
        (build, false)
    };
    let db_size = common::archive_db_size(&archive, "");
    let statistics = analyzed_tables(&db)?;

    println!();
    println!("slidearchive query benchmark");
    println!("  binary:            {}", bin.display());
    println!(
        "  archive:           {}{}",
        archive.display(),
        if reused {
            " (reused: BENCH_KEEP_ARCHIVE)"
        } else if kept.is_some() {
            " (built now, kept: BENCH_KEEP_ARCHIVE)"
        } else {
            " (temporary)"
        }
    );
    println!(
        "  posts:             {} ({:.1} MB of markdown), {} sessions, {} slides, {} comments",
        thousands(build.posts),
        build.markdown_bytes as f64 / 1e6,
        thousands(build.sessions),
        thousands(build.slides),
        thousands(build.comments),
    );
    println!(
        "  import:            {:.1} s wall{}{} for {} posts{}",
        build.import_s,
        build
            .cpu_s
            .map(|c| format!(", {c:.1} s cpu"))
            .unwrap_or_default(),
        build
            .peak_rss_mb
            .map(|r| format!(", peak RSS {r:.1} MB"))
            .unwrap_or_else(|| ", peak RSS n/a".into()),
        thousands(build.posts),
        if reused {
            " (figures from when this archive was built)"
        } else {
            ""
        }
    );
    println!(
        "  simulated fetch:   {} URLs: {} stored ({} sharing content with another URL), {} failed, {} pending; {} images; in {:.1} s, statistics in {:.2} s",
        thousands(build.urls),
        thousands(build.stored),
        thousands(build.shared),
        thousands(build.failed),
        thousands(build.pending),
        thousands(build.images),
        build.simulate_s,
        build.analyze_s,
    );
    println!(
        "  planner statistics (sqlite_stat1) for: {}",
        if statistics.is_empty() {
            "no table".to_string()
        } else {
            statistics.join(", ")
        }
    );
    println!("  archive.db:        {db_size}");

    // 3. The cookbook, exactly as the README has it.
    println!();
    println!(
        "cookbook queries from {} ({} blocks), {runs} runs each on a fresh read-only connection; prepare to last row; target < {TARGET_QUERY_MS:.0} ms",
        readme.display(),
        cookbook.len()
    );
    let full_plans = std::env::var("BENCH_PLANS").is_ok_and(|v| v == "full");
    let mut query_results = Vec::with_capacity(cookbook.len());
    for (i, sql) in cookbook.iter().enumerate() {
        let timing = time_query(&db, sql, runs)?;
        let plan = plan_lines(&db, sql, full_plans)?;
        println!(
            "  #{:<2} {}",
            i + 1,
            sql.lines().next().unwrap_or_default().trim()
        );
        println!(
            "      median {:>9.2} ms  min {:>9.2} ms  {:>9} rows  {}",
            timing.median_ms,
            timing.min_ms,
            thousands(timing.rows),
            verdict(timing.median_ms, TARGET_QUERY_MS)
        );
        for line in &plan {
            println!("      plan: {line}");
        }
        query_results.push(timing);
    }

    // 4. search, as users run it, and its SQL in process.
    println!();
    println!(
        "slidearchive search, {runs} runs each (process: spawn to exit; SQL: Archive::search in process); target < {TARGET_SEARCH_MS:.0} ms"
    );
    let mut search_results = Vec::with_capacity(SEARCHES.len());
    for words in SEARCHES {
        let process = time_search_process(bin, &archive, words, runs)?;
        let in_process = time_search_sql(&archive, words, runs)?;
        println!(
            "  search {} process median {:>8.1} ms (min {:>8.1})  SQL median {:>8.1} ms (min {:>8.1})  {:>3} hits  {}{}",
            pad(&words.join(" "), 14),
            process.median_ms,
            process.min_ms,
            in_process.median_ms,
            in_process.min_ms,
            in_process.rows,
            verdict(process.median_ms, TARGET_SEARCH_MS),
            if process.rows == in_process.rows {
                String::new()
            } else {
                format!(" (the binary printed {} hits)", process.rows)
            }
        );
        search_results.push(process);
    }

    // 5. Verdict.
    let slow: Vec<String> = query_results
        .iter()
        .enumerate()
        .filter(|(_, t)| t.median_ms >= TARGET_QUERY_MS)
        .map(|(i, t)| format!("#{} ({:.0} ms)", i + 1, t.median_ms))
        .collect();
    let slow_searches: Vec<String> = search_results
        .iter()
        .zip(SEARCHES)
        .filter(|(t, _)| t.median_ms >= TARGET_SEARCH_MS)
        .map(|(t, w)| format!("'{}' ({:.0} ms)", w.join(" "), t.median_ms))
        .collect();
    println!();
    println!(
        "result: {} of {} cookbook queries meet < {TARGET_QUERY_MS:.0} ms{}; {} of {} searches meet < {TARGET_SEARCH_MS:.0} ms{}",
        query_results.len() - slow.len(),
        query_results.len(),
        if slow.is_empty() {
            String::new()
        } else {
            format!(" (misses: {})", slow.join(", "))
        },
        search_results.len() - slow_searches.len(),
        search_results.len(),
        if slow_searches.is_empty() {
            String::new()
        } else {
            format!(" (misses: {})", slow_searches.join(", "))
        },
    );
    Ok(())
}

/// `text` followed by spaces up to `width` terminal columns (CJK characters take two).
fn pad(text: &str, width: usize) -> String {
    let used = unicode_width::UnicodeWidthStr::width(text);
    format!("{text}{}", " ".repeat(width.saturating_sub(used)))
}

fn verdict(ms: f64, target: f64) -> &'static str {
    if ms < target { "meets" } else { "MISSES" }
}

// ---------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------

/// `.ctx("what")`: any error as a message saying what failed.
trait Context<T> {
    fn ctx(self, what: &str) -> Result<T, String>;
}

impl<T, E: std::fmt::Display> Context<T> for Result<T, E> {
    fn ctx(self, what: &str) -> Result<T, String> {
        self.map_err(|e| format!("{what}: {e}"))
    }
}

// ---------------------------------------------------------------------------------
// Building the archive: generate, import, simulate the fetch, refresh statistics
// ---------------------------------------------------------------------------------

/// What was built, and how long it took; kept in the archive folder as `key = value`
/// lines so that a reused archive reports the same.
#[derive(Default)]
struct Build {
    posts: usize,
    sessions: usize,
    slides: usize,
    comments: usize,
    markdown_bytes: u64,
    import_s: f64,
    cpu_s: Option<f64>,
    peak_rss_mb: Option<f64>,
    urls: usize,
    stored: usize,
    shared: usize,
    failed: usize,
    pending: usize,
    images: usize,
    simulate_s: f64,
    analyze_s: f64,
}

impl Build {
    fn write(&self, path: &Path) -> Result<(), String> {
        let opt = |v: Option<f64>| v.map_or("-".to_string(), |v| v.to_string());
        let text = format!(
            "posts = {}\nsessions = {}\nslides = {}\ncomments = {}\nmarkdown_bytes = {}\n\
             import_s = {}\ncpu_s = {}\npeak_rss_mb = {}\nurls = {}\nstored = {}\nshared = {}\n\
             failed = {}\npending = {}\nimages = {}\nsimulate_s = {}\nanalyze_s = {}\n",
            self.posts,
            self.sessions,
            self.slides,
            self.comments,
            self.markdown_bytes,
            self.import_s,
            opt(self.cpu_s),
            opt(self.peak_rss_mb),
            self.urls,
            self.stored,
            self.shared,
            self.failed,
            self.pending,
            self.images,
            self.simulate_s,
            self.analyze_s,
        );
        std::fs::write(path, text).ctx(&path.display().to_string())
    }

    fn read(path: &Path) -> Result<Build, String> {
        let text = std::fs::read_to_string(path).ctx(&path.display().to_string())?;
        let field = |name: &str| -> Option<&str> {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.trim().strip_prefix('='))
                .map(str::trim)
        };
        let count = |name: &str| -> Result<usize, String> {
            field(name)
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{}: no whole number for {name}", path.display()))
        };
        let real = |name: &str| field(name).and_then(|v| v.parse::<f64>().ok());
        Ok(Build {
            posts: count("posts")?,
            sessions: count("sessions")?,
            slides: count("slides")?,
            comments: count("comments")?,
            markdown_bytes: count("markdown_bytes")? as u64,
            import_s: real("import_s").unwrap_or(f64::NAN),
            cpu_s: real("cpu_s"),
            peak_rss_mb: real("peak_rss_mb"),
            urls: count("urls")?,
            stored: count("stored")?,
            shared: count("shared")?,
            failed: count("failed")?,
            pending: count("pending")?,
            images: count("images")?,
            simulate_s: real("simulate_s").unwrap_or(f64::NAN),
            analyze_s: real("analyze_s").unwrap_or(f64::NAN),
        })
    }
}

fn build_archive(
    bin: &Path,
    posts_dir: &Path,
    archive: &Path,
    posts: usize,
) -> Result<Build, String> {
    eprintln!(
        "bench queries: generating {} posts in {}",
        thousands(posts),
        posts_dir.display()
    );
    let started = Instant::now();
    let corpus = generate(posts_dir, posts)?;
    eprintln!(
        "bench queries: generated {:.1} MB in {:.1} s; importing with --no-fetch into {} (this takes a while)",
        corpus.bytes as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        archive.display()
    );
    let imported = import(bin, archive, posts_dir)?;
    eprintln!(
        "bench queries: imported in {:.1} s{}",
        imported.wall.as_secs_f64(),
        imported
            .peak_rss_mb
            .map(|r| format!(", peak RSS {r:.1} MB"))
            .unwrap_or_default()
    );
    // The sources are in the archive now; the markdown files are not needed any more.
    let _ = std::fs::remove_dir_all(posts_dir);

    let db = archive.join("archive.db");
    let mut build = Build {
        posts,
        markdown_bytes: corpus.bytes,
        import_s: imported.wall.as_secs_f64(),
        cpu_s: imported.cpu_s,
        peak_rss_mb: imported.peak_rss_mb,
        ..Build::default()
    };
    {
        let conn = Connection::open(&db).ctx("cannot open archive.db")?;
        let count = |sql: &str| -> Result<usize, String> {
            conn.query_row(sql, [], |r| r.get::<_, i64>(0))
                .map(|n| n as usize)
                .ctx(sql)
        };
        build.sessions = count("SELECT count(*) FROM session")?;
        build.slides = count("SELECT count(*) FROM slide")?;
        build.comments = count("SELECT count(*) FROM block WHERE is_comment")?;
        let in_archive = count("SELECT count(*) FROM post")?;
        if in_archive != posts || build.slides != corpus.slides {
            return Err(format!(
                "the archive holds {in_archive} posts and {} slides; {posts} posts and {} slides were generated",
                build.slides, corpus.slides
            ));
        }
    }
    eprintln!("bench queries: simulating a finished fetch");
    simulate_fetch(&db, &mut build)?;
    eprintln!(
        "bench queries: simulated in {:.1} s, statistics in {:.2} s",
        build.simulate_s, build.analyze_s
    );
    Ok(build)
}

/// `slidearchive --archive DIR import --no-fetch POSTS`, under GNU time when available.
fn import(bin: &Path, archive: &Path, posts: &Path) -> Result<common::Run, String> {
    let use_gnu_time = common::gnu_time_available("queries");
    let done = common::import_no_fetch(bin, use_gnu_time, archive, posts, Stdio::null())?;
    Ok(done.run)
}

/// What became of one URL in the simulated fetch.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    Pending,
    Failed,
    /// Stored with content of its own.
    Own,
    /// Stored with the same content as an earlier URL (index into the id list).
    Like(usize),
    /// Stored with one of a few popular contents (a logo uploaded again and again).
    Hot(u64),
}

/// Popular contents that 1% of URLs carry.
const HOT_CONTENTS: u64 = 40;

/// Failures the simulated fetch records: error, reason, HTTP status.
const FAILURES: &[(&str, &str, Option<i64>)] = &[
    ("http_status", "HTTP 404 Not Found", Some(404)),
    (
        "http_status",
        "HTTP 403 Forbidden; the host may block hotlinking",
        Some(403),
    ),
    ("timed_out", "no bytes for 30 s", None),
    ("connection_error", "connection refused", None),
    (
        "not_an_image",
        "the server sent an HTML page, not an image",
        Some(200),
    ),
];

/// Stores synthetic images for the archive's URLs, in one transaction, then refreshes
/// the planner's statistics as `slidearchive fetch` does when it is done.
fn simulate_fetch(db: &Path, build: &mut Build) -> Result<(), String> {
    let started = Instant::now();
    let mut conn = Connection::open(db).ctx("cannot open archive.db")?;
    conn.busy_timeout(BUSY_TIMEOUT).ctx("busy_timeout")?;
    let tx = conn.transaction().ctx("BEGIN")?;
    let ids: Vec<i64> = {
        let mut stmt = tx
            .prepare("SELECT id FROM url ORDER BY id")
            .ctx("url ids")?;
        stmt.query_map([], |r| r.get(0))
            .ctx("url ids")?
            .collect::<rusqlite::Result<_>>()
            .ctx("url ids")?
    };

    // Decide every URL's fate: 1% pending, 3% failed, the rest stored; of the stored,
    // 1% carry a popular content and 9% the content of one of the 1,000 URLs before them
    // (often in the same post or a neighbouring one).
    let mut fates: Vec<Fate> = Vec::with_capacity(ids.len());
    for (i, &id) in ids.iter().enumerate() {
        let h = mix(id as u64 ^ 0xF37C_4000);
        let fate = match h % 1000 {
            0..10 => Fate::Pending,
            10..40 => Fate::Failed,
            _ => match (h >> 16) % 100 {
                0 => Fate::Hot((h >> 24) % HOT_CONTENTS),
                1..10 => {
                    let back = 1 + ((h >> 24) % 1000) as usize;
                    (0..i.saturating_sub(back) + 1)
                        .rev()
                        .take(64)
                        .find(|&j| j < i && fates[j] == Fate::Own)
                        .map_or(Fate::Own, Fate::Like)
                }
                _ => Fate::Own,
            },
        };
        fates.push(fate);
    }
    let key = |i: usize| -> Option<String> {
        match fates[i] {
            Fate::Pending | Fate::Failed => None,
            Fate::Own => Some(format!("url-{}", ids[i])),
            Fate::Like(j) => Some(format!("url-{}", ids[j])),
            Fate::Hot(k) => Some(format!("hot-{k}")),
        }
    };

    {
        let mut image = tx
            .prepare(
                "INSERT OR IGNORE INTO image (sha256, bytes, media_type, ext, width, height, stored_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .ctx("insert image")?;
        let mut stored = tx
            .prepare(
                "UPDATE url SET state = 'stored', sha256 = ?2, error = NULL, reason = NULL,
                     etag = ?3, attempts = 1, fetched_at = ?4 WHERE id = ?1",
            )
            .ctx("update stored url")?;
        let mut failed = tx
            .prepare(
                "UPDATE url SET state = 'failed', error = ?2, reason = ?3, attempts = ?4,
                     fetched_at = ?5 WHERE id = ?1",
            )
            .ctx("update failed url")?;
        let mut fetch = tx
            .prepare(
                "INSERT INTO fetch (url_id, at, final_url, http_status, content_type, bytes,
                     sha256, error, reason, etag, milliseconds)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )
            .ctx("insert fetch")?;
        let mut url_text = tx
            .prepare("SELECT url FROM url WHERE id = ?1")
            .ctx("select url")?;
        let mut images: HashSet<String> = HashSet::new();
        for (i, &id) in ids.iter().enumerate() {
            let h = mix(id as u64 ^ 0x0FE7_C400);
            let at = format!(
                "2024-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                1 + h % 12,
                1 + (h >> 4) % 28,
                (h >> 9) % 24,
                (h >> 14) % 60,
                (h >> 20) % 60
            );
            let millis = 20 + ((h >> 26) % 2000) as i64;
            let final_url: String = url_text.query_row([id], |r| r.get(0)).ctx("select url")?;
            match fates[i] {
                Fate::Pending => build.pending += 1,
                Fate::Failed => {
                    build.failed += 1;
                    let (error, reason, status) = FAILURES[(h >> 32) as usize % FAILURES.len()];
                    let attempts = 1 + ((h >> 40) % 3) as i64;
                    failed
                        .execute(rusqlite::params![id, error, reason, attempts, at])
                        .ctx("update failed url")?;
                    fetch
                        .execute(rusqlite::params![
                            id,
                            at,
                            final_url,
                            status,
                            status.map(|_| "text/html"),
                            None::<i64>,
                            None::<String>,
                            error,
                            reason,
                            None::<String>,
                            millis
                        ])
                        .ctx("insert fetch")?;
                }
                _ => {
                    build.stored += 1;
                    if !matches!(fates[i], Fate::Own) {
                        build.shared += 1;
                    }
                    let content = key(i).unwrap_or_default();
                    let sha = hex::encode(Sha256::digest(content.as_bytes()));
                    let c = mix(u64::from_str_radix(&sha[..15], 16).unwrap_or(0));
                    let bytes = 20_000 + (c % 480_000) as i64;
                    let (media_type, ext) = if (c >> 20).is_multiple_of(5) {
                        ("image/png", "png")
                    } else {
                        ("image/jpeg", "jpg")
                    };
                    let (width, height) =
                        [(1280, 720), (1920, 1080), (1024, 768)][((c >> 24) % 3) as usize];
                    if images.insert(sha.clone()) {
                        image
                            .execute(rusqlite::params![
                                sha, bytes, media_type, ext, width, height, at
                            ])
                            .ctx("insert image")?;
                    }
                    let etag = format!("\"{}\"", &sha[..16]);
                    stored
                        .execute(rusqlite::params![id, sha, etag, at])
                        .ctx("update stored url")?;
                    fetch
                        .execute(rusqlite::params![
                            id,
                            at,
                            final_url,
                            200,
                            media_type,
                            bytes,
                            sha,
                            None::<String>,
                            None::<String>,
                            etag,
                            millis
                        ])
                        .ctx("insert fetch")?;
                }
            }
        }
        build.urls = ids.len();
        build.images = images.len();
    }
    // `slidearchive fetch` keeps each image's use counts as it records it; the same
    // recount, for every image at once.
    tx.execute_batch(
        "UPDATE image SET
             slides = (SELECT count(*) FROM url u JOIN slide sl ON sl.url_id = u.id
                       WHERE u.sha256 = image.sha256),
             posts = (SELECT count(DISTINCT sl.post_id) FROM url u JOIN slide sl ON sl.url_id = u.id
                      WHERE u.sha256 = image.sha256)",
    )
    .ctx("recount image uses")?;
    tx.commit().ctx("COMMIT")?;
    build.simulate_s = started.elapsed().as_secs_f64();

    // What `slidearchive fetch` runs on its connection when it is done (Archive::optimize).
    let started = Instant::now();
    conn.execute_batch("PRAGMA analysis_limit = 1000; PRAGMA optimize;")
        .ctx("PRAGMA optimize")?;
    build.analyze_s = started.elapsed().as_secs_f64();
    Ok(())
}

/// The tables `sqlite_stat1` has statistics for.
fn analyzed_tables(db: &Path) -> Result<Vec<String>, String> {
    let conn = open_read_only(db)?;
    let exists: bool = conn
        .query_row(
            "SELECT count(*) > 0 FROM sqlite_schema WHERE name = 'sqlite_stat1'",
            [],
            |r| r.get(0),
        )
        .ctx("sqlite_schema")?;
    if !exists {
        return Ok(Vec::new());
    }
    let mut stmt = conn
        .prepare("SELECT DISTINCT tbl FROM sqlite_stat1 ORDER BY tbl")
        .ctx("sqlite_stat1")?;
    stmt.query_map([], |r| r.get(0))
        .ctx("sqlite_stat1")?
        .collect::<rusqlite::Result<_>>()
        .ctx("sqlite_stat1")
}

// ---------------------------------------------------------------------------------
// Timing queries
// ---------------------------------------------------------------------------------

/// Opens archive.db the way `slidearchive query` and `search` do.
fn open_read_only(db: &Path) -> Result<Connection, String> {
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .ctx(&format!("cannot open {}", db.display()))?;
    conn.busy_timeout(BUSY_TIMEOUT).ctx("busy_timeout")?;
    Ok(conn)
}

/// Median and min of R runs, and the rows (or hits) the last run returned.
struct Timing {
    median_ms: f64,
    min_ms: f64,
    rows: usize,
}

impl Timing {
    fn of(mut ms: Vec<f64>, rows: usize) -> Timing {
        let min_ms = ms.iter().copied().fold(f64::INFINITY, f64::min);
        Timing {
            median_ms: median(&mut ms),
            min_ms,
            rows,
        }
    }
}

/// Every ```sql block of the README's Cookbook section (up to the next heading of the
/// same or a higher level outside a code block).
fn cookbook_queries(readme: &str) -> Result<Vec<String>, String> {
    let heading_level = |line: &str| -> Option<usize> {
        let hashes = line.len() - line.trim_start_matches('#').len();
        (hashes > 0 && line[hashes..].starts_with(' ')).then_some(hashes)
    };
    let mut lines = readme.lines();
    let level = lines
        .by_ref()
        .find_map(|l| heading_level(l).filter(|&n| l[n..].trim().eq_ignore_ascii_case("cookbook")))
        .ok_or("README.md has no Cookbook heading")?;
    let mut queries = Vec::new();
    let mut fence: Option<(String, bool)> = None;
    let mut current = String::new();
    for line in lines {
        let trimmed = line.trim_start();
        match &fence {
            None if trimmed.starts_with("```") => {
                let marker: String = trimmed.chars().take_while(|&c| c == '`').collect();
                let info = trimmed[marker.len()..].trim();
                let is_sql = info.split_whitespace().next() == Some("sql");
                fence = Some((marker, is_sql));
                current.clear();
            }
            None => {
                if heading_level(line).is_some_and(|n| n <= level) {
                    break;
                }
            }
            Some((marker, is_sql)) => {
                if trimmed.starts_with(marker.as_str()) && trimmed.trim_matches('`').is_empty() {
                    if *is_sql && !current.trim().is_empty() {
                        queries.push(current.trim().to_string());
                    }
                    fence = None;
                } else {
                    current.push_str(line);
                    current.push('\n');
                }
            }
        }
    }
    if queries.is_empty() {
        return Err("README.md's Cookbook section has no ```sql blocks".into());
    }
    Ok(queries)
}

/// Runs `sql` R times, each on a fresh read-only connection, timing prepare to last row
/// (every column of every row read).
fn time_query(db: &Path, sql: &str, runs: usize) -> Result<Timing, String> {
    let first_line = sql.lines().next().unwrap_or_default();
    let mut ms = Vec::with_capacity(runs);
    let mut rows = 0;
    for _ in 0..runs {
        let conn = open_read_only(db)?;
        let started = Instant::now();
        let mut stmt = conn.prepare(sql).ctx(first_line)?;
        let columns = stmt.column_count();
        let mut result = stmt.query([]).ctx(first_line)?;
        rows = 0;
        while let Some(row) = result.next().ctx(first_line)? {
            for c in 0..columns {
                black_box(row.get_ref(c).ctx(first_line)?);
            }
            rows += 1;
        }
        ms.push(started.elapsed().as_secs_f64() * 1e3);
    }
    Ok(Timing::of(ms, rows))
}

/// The `EXPLAIN QUERY PLAN` lines of `sql` that say SCAN (every line with `all`),
/// indented by depth.
fn plan_lines(db: &Path, sql: &str, all: bool) -> Result<Vec<String>, String> {
    let conn = open_read_only(db)?;
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .ctx("EXPLAIN QUERY PLAN")?;
    let plan: Vec<(i64, i64, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(3)?)))
        .ctx("EXPLAIN QUERY PLAN")?
        .collect::<rusqlite::Result<_>>()
        .ctx("EXPLAIN QUERY PLAN")?;
    let depth = |mut parent: i64| {
        let mut d = 0;
        while let Some(p) = plan.iter().find(|(id, _, _)| *id == parent) {
            d += 1;
            parent = p.1;
        }
        d
    };
    Ok(plan
        .iter()
        .filter(|(_, _, detail)| all || detail.contains("SCAN"))
        .map(|(_, parent, detail)| format!("{}{detail}", "  ".repeat(depth(*parent))))
        .collect())
}

/// `slidearchive --archive DIR search WORDS...`, spawn to exit, R times; rows are the
/// hits it printed.
fn time_search_process(
    bin: &Path,
    archive: &Path,
    words: &[&str],
    runs: usize,
) -> Result<Timing, String> {
    let mut ms = Vec::with_capacity(runs);
    let mut hits = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let output = Command::new(bin)
            .arg("--archive")
            .arg(archive)
            .arg("search")
            .args(words)
            .stdin(Stdio::null())
            .output()
            .ctx(&format!("cannot run {}", bin.display()))?;
        ms.push(started.elapsed().as_secs_f64() * 1e3);
        if !output.status.success() {
            return Err(format!(
                "search {} failed ({}): {}",
                words.join(" "),
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        // One line per hit with `post › n.`; a comment's snippet follows, indented.
        hits = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter(|l| !l.starts_with("    ") && l.contains(" › "))
            .count();
    }
    Ok(Timing::of(ms, hits))
}

/// `Archive::search` itself, in process on a fresh read-only archive: the same code the
/// command runs, without the process start.
fn time_search_sql(archive: &Path, words: &[&str], runs: usize) -> Result<Timing, String> {
    let text = words.join(" ");
    let mut ms = Vec::with_capacity(runs);
    let mut hits = 0;
    for _ in 0..runs {
        let opened = slidearchive::archive::Archive::open_read_only(archive)
            .map_err(|e| format!("open {}: {e}", archive.display()))?;
        let started = Instant::now();
        let found = opened
            .search(&text, SEARCH_LIMIT)
            .map_err(|e| format!("search {text}: {e}"))?;
        ms.push(started.elapsed().as_secs_f64() * 1e3);
        hits = black_box(found).len();
    }
    Ok(Timing::of(ms, hits))
}

// ---------------------------------------------------------------------------------
// Generating posts (the generator in benches/common, with what only this bench adds)
// ---------------------------------------------------------------------------------

/// What was generated.
struct Corpus {
    bytes: u64,
    slides: usize,
}

/// Writes `count` posts as `dir/recap-NNNNN.md`; the one in the middle takes
/// EXAMPLE_SLUG.
fn generate(dir: &Path, count: usize) -> Result<Corpus, String> {
    let posts = common::generate(dir, count, |out, i, rng| {
        write_post(out, i, (i == count / 2).then_some(EXAMPLE_SLUG), rng)
    })?;
    Ok(Corpus {
        bytes: posts.iter().map(|&(len, _)| len as u64).sum(),
        slides: posts.iter().map(|&(_, slides)| slides).sum(),
    })
}

/// Where a post's slide images live: most bloggers use one host, some another.
const IMAGE_HOSTS: &[&str] = &[
    "https://img.example.net/notes",
    "https://img.example.net/notes",
    "https://img.example.net/notes",
    "https://img.example.net/notes",
    "https://img.example.net/notes",
    "https://img.example.net/notes",
    "https://pic.example.cn/upload",
    "https://pic.example.cn/upload",
    "https://cdn.example.org/u",
    "https://i.imgur.example.com",
];
/// Slides shown in many posts of one conference (its title and sponsor slides).
const COMMON_SLIDES_PER_CONFERENCE: usize = 40;
/// Rarer sentences, each added to a commentary paragraph this many times in 1,000, so
/// that the searches have something to find that is not everywhere.
const RARE_SENTENCES: &[(&str, u64)] = &[
    ("吵闹的邻居问题在混部集群里很明显。", 5),
    ("eBPF 的方案在这里正合适。", 20),
    ("控制器是用 Go 写的。", 30),
];
/// Appends one post to `out`: the shared generator's, plus an image host per post,
/// slides shared by many posts of a conference, rarer sentences and an optional slug.
/// Returns how many slide images it wrote.
fn write_post(out: &mut String, i: usize, slug: Option<&str>, rng: &mut Rng) -> usize {
    let conference_index = rng.range(0, common::CONFERENCES.len() - 1);
    let conference = common::CONFERENCES[conference_index];
    let year = rng.range(2019, 2024);
    let host = rng.pick(IMAGE_HOSTS);
    common::post_head(out, rng, i, conference, year, slug);
    let (_, slides) = common::sessions(out, rng, RARE_SENTENCES, |rng, shown| {
        // Mostly a new slide; sometimes one shown earlier in the post again, or one of
        // the conference's slides that many posts show.
        if rng.chance(3) {
            let k = rng.range(0, COMMON_SLIDES_PER_CONFERENCE - 1);
            format!("https://img.example.net/common/{conference_index:02}-{k:03}.png")
        } else {
            let number = common::slide_number(rng, shown, i);
            format!("{host}/2023061709{number:06}.jpg")
        }
    });
    slides
}
