//! Benchmark of `slidearchive import`: MB/s and peak RSS of the release binary importing
//! N generated recap posts; run `cargo bench --bench import [-- N]` (Linux, GNU time).
//!
//! Run it with `cargo bench --bench import` (2,000 posts), or pick the number of posts:
//! `cargo bench --bench import -- 10000`, or `BENCH_POSTS=10000 cargo bench --bench import`.
//! `BENCH_RUNS` (default 3) sets how many timed imports are made; the median is reported.
//! The posts and archives go into a temporary folder under `$TMPDIR` (default `/tmp`);
//! mind whether that is a tmpfs or a real disk when comparing figures. Set `BENCH_KEEP=1`
//! to keep that folder (posts and archives) for a look afterwards.
//!
//! This is a program, not a timed test (`harness = false` in Cargo.toml): it
//!
//! 1. generates N synthetic posts shaped like `examples/cloud-summit-2023-recap.md`
//!    (YAML front matter, intro, `<!--more-->`, ~20 sessions, ~150 slide images,
//!    Chinese commentary, lists, links), deterministically, 15-25 KB each;
//! 2. runs `/usr/bin/time -v slidearchive --archive DIR import --no-fetch POSTS` R times,
//!    each into a fresh archive, timing the child and reading its peak RSS from GNU time;
//! 3. re-imports the unchanged folder into the first archive (every post should be
//!    skipped as unchanged) and times that too;
//! 4. prints the figures and compares them with the targets.
//!
//! Sizes: 1 MB = 1,000,000 bytes throughout (RSS kbytes from GNU time are KiB and are
//! converted).

mod common;

use common::{GNU_TIME, Rng, median, thousands};
use std::path::Path;
use std::process::{ExitCode, Stdio};
use std::time::Instant;

/// Posts generated when neither an argument nor `BENCH_POSTS` says otherwise.
const DEFAULT_POSTS: usize = 2000;
/// Timed imports when `BENCH_RUNS` is not set.
const DEFAULT_RUNS: usize = 3;
/// The targets the figures are compared against.
const TARGET_MB_PER_S: f64 = 50.0;
const TARGET_PEAK_MB: f64 = 200.0;
const TARGET_POSTS: usize = 10_000;

fn main() -> ExitCode {
    common::exit_code("import", run())
}

fn run() -> Result<(), String> {
    let posts = common::posts_wanted(DEFAULT_POSTS)?;
    let runs = common::env_count("BENCH_RUNS", DEFAULT_RUNS, common::NO_LIMIT)?;
    // Cargo builds the binary target with the bench profile (release settings).
    let bin = Path::new(env!("CARGO_BIN_EXE_slidearchive"));
    let use_gnu_time = common::gnu_time_available("import");

    let tmp = common::temp_dir()?;
    let posts_dir = tmp.path().join("posts");

    // 1. Generate the posts.
    let started = Instant::now();
    let corpus = generate(&posts_dir, posts)?;
    let generated_in = started.elapsed();

    // 2. R timed imports, each into a fresh archive. The first archive is kept for the
    //    re-import below; each run's archive is otherwise independent of the others.
    let mut fresh: Vec<Import> = Vec::with_capacity(runs);
    for i in 0..runs {
        let archive = tmp.path().join(format!("archive-{i}"));
        let done = import(bin, use_gnu_time, &archive, &posts_dir)?;
        if done.summary.new != posts || done.summary.failed != 0 {
            return Err(format!(
                "run {}: expected {posts} new posts, the importer said: {}",
                i + 1,
                done.summary.line
            ));
        }
        fresh.push(done);
    }

    // 3. Re-import the unchanged folder into the first archive: every post should be
    //    recognised by its hash and skipped.
    let first_archive = tmp.path().join("archive-0");
    let again = import(bin, use_gnu_time, &first_archive, &posts_dir)?;
    if again.summary.unchanged != posts || again.summary.failed != 0 {
        return Err(format!(
            "re-import: expected {posts} unchanged posts, the importer said: {}",
            again.summary.line
        ));
    }
    let db_size = common::archive_db_size(&first_archive, " left behind");

    // 4. Report.
    let mb = corpus.bytes as f64 / 1e6;
    let mut walls: Vec<f64> = fresh.iter().map(|r| r.run.wall.as_secs_f64()).collect();
    let wall = median(&mut walls);
    let mut cpus: Vec<f64> = fresh.iter().filter_map(|r| r.run.cpu_s).collect();
    let rss: Vec<f64> = fresh.iter().filter_map(|r| r.run.peak_rss_mb).collect();
    let rss_max = rss.iter().copied().reduce(f64::max);
    let rss_median = (!rss.is_empty()).then(|| median(&mut rss.clone()));
    let (seen_sessions, seen_slides) = fresh[0].seen;

    println!();
    println!("slidearchive import benchmark");
    println!("  binary:            {}", bin.display());
    println!("  temp dir:          {}", tmp.path().display());
    println!(
        "  posts:             {posts} ({mb:.1} MB of markdown; {:.1} KB/post on average, {:.1}-{:.1} KB)",
        corpus.bytes as f64 / posts as f64 / 1e3,
        corpus.min_bytes as f64 / 1e3,
        corpus.max_bytes as f64 / 1e3,
    );
    println!(
        "  generated:         {:.1} sessions, {:.1} slides per post (importer saw {:.1} sessions, {:.1} slides) in {:.2} s",
        corpus.sessions as f64 / posts as f64,
        corpus.slides as f64 / posts as f64,
        seen_sessions as f64 / posts as f64,
        seen_slides as f64 / posts as f64,
        generated_in.as_secs_f64(),
    );
    println!(
        "  runs:              {runs} fresh imports, wall s each: {}",
        fresh
            .iter()
            .map(|r| format!("{:.3}", r.run.wall.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("  median wall:       {wall:.3} s");
    if !cpus.is_empty() {
        println!(
            "  median cpu:        {:.3} s (user + sys)",
            median(&mut cpus)
        );
    }
    println!("  posts/s:           {:.0}", posts as f64 / wall);
    println!("  MB/s:              {:.1}", mb / wall);
    match (rss_max, rss_median) {
        (Some(max), Some(med)) => {
            println!("  peak RSS:          {max:.1} MB max over runs, {med:.1} MB median")
        }
        _ => println!("  peak RSS:          n/a (no {GNU_TIME})"),
    }
    println!("  archive.db:        {db_size}");
    println!(
        "  re-import (unchanged): {:.3} s, {:.0} posts/s, {:.1}x faster than the median fresh import{}",
        again.run.wall.as_secs_f64(),
        posts as f64 / again.run.wall.as_secs_f64(),
        wall / again.run.wall.as_secs_f64(),
        again
            .run
            .peak_rss_mb
            .map(|r| format!(", peak RSS {r:.1} MB"))
            .unwrap_or_default()
    );
    println!(
        "target: >= {TARGET_MB_PER_S:.0} MB/s, peak < {TARGET_PEAK_MB:.0} MB at {} posts",
        thousands(TARGET_POSTS)
    );
    let speed = if mb / wall >= TARGET_MB_PER_S {
        "meets"
    } else {
        "MISSES"
    };
    let memory = match rss_max {
        Some(max) if max < TARGET_PEAK_MB => format!("peak {max:.1} MB meets"),
        Some(max) => format!("peak {max:.1} MB MISSES"),
        None => "peak not measured".to_string(),
    };
    let scale = if posts == TARGET_POSTS {
        String::new()
    } else {
        format!(
            " (measured at {} posts; the peak target is for {})",
            thousands(posts),
            thousands(TARGET_POSTS)
        )
    };
    println!(
        "result: {:.1} MB/s {speed} the speed target; {memory} the memory target{scale}",
        mb / wall
    );
    common::keep_if_asked(tmp);
    Ok(())
}

// ---------------------------------------------------------------------------------
// Running the importer
// ---------------------------------------------------------------------------------

/// One run of `slidearchive import`.
struct Import {
    /// Wall time, and CPU time and peak RSS from GNU time.
    run: common::Run,
    /// The importer's closing summary line.
    summary: Summary,
    /// Sessions and slides summed over the importer's per-post `imported ...` lines.
    seen: (usize, usize),
}

/// Runs the importer on `posts` into `archive`, under GNU time when available. Stdout
/// (one line per imported post) is captured too, so that every run pays the same cost
/// for it and the first run's counts can be checked against what was generated.
fn import(bin: &Path, use_gnu_time: bool, archive: &Path, posts: &Path) -> Result<Import, String> {
    let done = common::import_no_fetch(bin, use_gnu_time, archive, posts, Stdio::piped())?;
    let seen = done
        .stdout
        .lines()
        .fold((0, 0), |(sessions, slides), line| {
            (
                sessions + common::number_before(line, " sessions, ").unwrap_or(0),
                slides + common::number_before(line, " slides (").unwrap_or(0),
            )
        });
    let summary = Summary::find(&done.stderr)
        .ok_or_else(|| format!("no summary line in the importer's stderr:\n{}", done.stderr))?;
    Ok(Import {
        run: done.run,
        summary,
        seen,
    })
}

/// The importer's last stderr line: `N posts: A new, B updated, C unchanged[, D failed
/// ...]; archive: DIR`.
struct Summary {
    line: String,
    new: usize,
    unchanged: usize,
    failed: usize,
}

impl Summary {
    fn find(stderr: &str) -> Option<Summary> {
        let line = stderr
            .lines()
            .rev()
            .find(|l| l.contains(" new, ") && l.contains(" unchanged"))?;
        Some(Summary {
            line: line.to_string(),
            new: common::number_before(line, " new")?,
            unchanged: common::number_before(line, " unchanged")?,
            failed: common::number_before(line, " failed").unwrap_or(0),
        })
    }
}

// ---------------------------------------------------------------------------------
// Generating posts
// ---------------------------------------------------------------------------------

/// What was generated, for the report.
struct Corpus {
    bytes: u64,
    min_bytes: u64,
    max_bytes: u64,
    sessions: usize,
    slides: usize,
}

/// Writes `count` posts as `dir/recap-NNNNN.md`.
fn generate(dir: &Path, count: usize) -> Result<Corpus, String> {
    let posts = common::generate(dir, count, write_post)?;
    let mut corpus = Corpus {
        bytes: 0,
        min_bytes: u64::MAX,
        max_bytes: 0,
        sessions: 0,
        slides: 0,
    };
    for (len, (sessions, slides)) in posts {
        let len = len as u64;
        corpus.bytes += len;
        corpus.min_bytes = corpus.min_bytes.min(len);
        corpus.max_bytes = corpus.max_bytes.max(len);
        corpus.sessions += sessions;
        corpus.slides += slides;
    }
    Ok(corpus)
}

/// Appends one post to `out`; returns how many sessions and slide images it wrote.
fn write_post(out: &mut String, i: usize, rng: &mut Rng) -> (usize, usize) {
    let conference = rng.pick(common::CONFERENCES);
    let year = rng.range(2019, 2024);
    common::post_head(out, rng, i, conference, year, None);
    common::sessions(out, rng, &[], |rng, shown| {
        let number = common::slide_number(rng, shown, i);
        format!("https://img.example.net/notes/2023061709{number:06}.jpg")
    })
}
