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

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// Posts generated when neither an argument nor `BENCH_POSTS` says otherwise.
const DEFAULT_POSTS: usize = 2000;
/// Timed imports when `BENCH_RUNS` is not set.
const DEFAULT_RUNS: usize = 3;
/// GNU time; without it the benchmark still times the import but cannot report RSS.
const GNU_TIME: &str = "/usr/bin/time";
/// The targets the figures are compared against.
const TARGET_MB_PER_S: f64 = 50.0;
const TARGET_PEAK_MB: f64 = 200.0;
const TARGET_POSTS: usize = 10_000;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench import: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let posts = posts_wanted()?;
    let runs = env_count("BENCH_RUNS", DEFAULT_RUNS)?;
    // Cargo builds the binary target with the bench profile (release settings).
    let bin = Path::new(env!("CARGO_BIN_EXE_slidearchive"));
    let use_gnu_time = Path::new(GNU_TIME).exists();
    if !use_gnu_time {
        eprintln!("bench import: {GNU_TIME} not found; peak RSS will not be reported");
    }

    let tmp = tempfile::tempdir().map_err(|e| format!("cannot create a temp dir: {e}"))?;
    let posts_dir = tmp.path().join("posts");

    // 1. Generate the posts.
    let started = Instant::now();
    let corpus = generate(&posts_dir, posts)?;
    let generated_in = started.elapsed();

    // 2. R timed imports, each into a fresh archive. The first archive is kept for the
    //    re-import below; each run's archive is otherwise independent of the others.
    let mut fresh: Vec<Run> = Vec::with_capacity(runs);
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
    let db_bytes = file_size(&first_archive.join("archive.db"));
    let wal_bytes = file_size(&first_archive.join("archive.db-wal"));

    // 4. Report.
    let mb = corpus.bytes as f64 / 1e6;
    let mut walls: Vec<f64> = fresh.iter().map(|r| r.wall.as_secs_f64()).collect();
    let wall = median(&mut walls);
    let mut cpus: Vec<f64> = fresh.iter().filter_map(|r| r.cpu_s).collect();
    let rss: Vec<f64> = fresh.iter().filter_map(|r| r.peak_rss_mb).collect();
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
            .map(|r| format!("{:.3}", r.wall.as_secs_f64()))
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
    println!(
        "  archive.db:        {:.1} MB{}",
        db_bytes as f64 / 1e6,
        if wal_bytes > 0 {
            format!(" (+ {:.1} MB WAL left behind)", wal_bytes as f64 / 1e6)
        } else {
            String::new()
        }
    );
    println!(
        "  re-import (unchanged): {:.3} s, {:.0} posts/s, {:.1}x faster than the median fresh import{}",
        again.wall.as_secs_f64(),
        posts as f64 / again.wall.as_secs_f64(),
        wall / again.wall.as_secs_f64(),
        again
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
    if std::env::var_os("BENCH_KEEP").is_some() {
        println!("kept (BENCH_KEEP): {}", tmp.keep().display());
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------------

/// N from the first argument that is not a flag (cargo adds `--bench`), else
/// `BENCH_POSTS`, else the default.
fn posts_wanted() -> Result<usize, String> {
    match std::env::args().skip(1).find(|a| !a.starts_with("--")) {
        Some(arg) => parse_count("the number of posts", &arg),
        None => env_count("BENCH_POSTS", DEFAULT_POSTS),
    }
}

fn env_count(name: &str, default: usize) -> Result<usize, String> {
    match std::env::var(name) {
        Ok(value) => parse_count(name, &value),
        Err(_) => Ok(default),
    }
}

fn parse_count(what: &str, value: &str) -> Result<usize, String> {
    match value.trim().replace('_', "").parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "{what} must be a positive whole number, not {value:?}"
        )),
    }
}

// ---------------------------------------------------------------------------------
// Running the importer
// ---------------------------------------------------------------------------------

/// One run of `slidearchive import`.
struct Run {
    /// Wall time of the child process, measured here around spawn..exit.
    wall: Duration,
    /// User + system CPU seconds, from GNU time.
    cpu_s: Option<f64>,
    /// Peak resident set size in MB, from GNU time.
    peak_rss_mb: Option<f64>,
    /// The importer's closing summary line.
    summary: Summary,
    /// Sessions and slides summed over the importer's per-post `imported ...` lines.
    seen: (usize, usize),
}

/// Runs the importer on `posts` into `archive`, under GNU time when available. Stdout
/// (one line per imported post) is captured too, so that every run pays the same cost
/// for it and the first run's counts can be checked against what was generated.
fn import(bin: &Path, use_gnu_time: bool, archive: &Path, posts: &Path) -> Result<Run, String> {
    let mut command = if use_gnu_time {
        let mut c = Command::new(GNU_TIME);
        c.arg("-v").arg(bin);
        c
    } else {
        Command::new(bin)
    };
    command
        .arg("--archive")
        .arg(archive)
        .arg("import")
        .arg("--no-fetch")
        .arg(posts)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let output = command
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    let wall = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        let tail: Vec<&str> = stderr.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "import into {} failed ({}); last lines of stderr:\n{}",
            archive.display(),
            output.status,
            tail.join("\n")
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let seen = stdout.lines().fold((0, 0), |(sessions, slides), line| {
        (
            sessions + number_before(line, " sessions, ").unwrap_or(0),
            slides + number_before(line, " slides (").unwrap_or(0),
        )
    });
    let summary = Summary::find(&stderr)
        .ok_or_else(|| format!("no summary line in the importer's stderr:\n{stderr}"))?;
    let field = |name: &str| gnu_time_field(&stderr, name);
    let cpu_s = match (field("User time (seconds)"), field("System time (seconds)")) {
        (Some(user), Some(sys)) => Some(user + sys),
        _ => None,
    };
    // GNU time reports kbytes meaning KiB.
    let peak_rss_mb = field("Maximum resident set size (kbytes)").map(|kib| kib * 1024.0 / 1e6);
    Ok(Run {
        wall,
        cpu_s,
        peak_rss_mb,
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
            new: number_before(line, " new")?,
            unchanged: number_before(line, " unchanged")?,
            failed: number_before(line, " failed").unwrap_or(0),
        })
    }
}

/// The whole number written just before the first `marker` in `line`.
fn number_before(line: &str, marker: &str) -> Option<usize> {
    let head = &line[..line.find(marker)?];
    let digits = head.len() - head.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    head[head.len() - digits..].parse().ok()
}

/// A number from a `\tName: value` line of `time -v` output.
fn gnu_time_field(stderr: &str, name: &str) -> Option<f64> {
    stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix(name)?.strip_prefix(':'))
        .and_then(|v| v.trim().parse().ok())
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Median of a non-empty list (the mean of the middle two for an even count).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// `10000` -> `10,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------------------
// Generating posts
// ---------------------------------------------------------------------------------

/// splitmix64: a tiny deterministic PRNG, so every run generates the same bytes.
struct Rng(u64);

impl Rng {
    /// Each post (and each attempt at it) gets its own stream, so post `i` is the same
    /// whatever N is.
    fn for_post(i: usize, attempt: u64) -> Rng {
        let stream = (i as u64) << 8 | attempt;
        Rng(0x5EED_2023_0617_0901 ^ stream.wrapping_mul(0xA076_1D64_78BD_642F))
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }

    /// True `percent` times out of 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.range(0, items.len() - 1)]
    }

    /// `k` different items (`k` at most `items.len()`), in random order.
    fn pick_distinct<'a>(&mut self, items: &[&'a str], k: usize) -> Vec<&'a str> {
        let mut chosen = Vec::with_capacity(k);
        while chosen.len() < k.min(items.len()) {
            let item = self.pick(items);
            if !chosen.contains(&item) {
                chosen.push(item);
            }
        }
        chosen
    }
}

/// What was generated, for the report.
struct Corpus {
    bytes: u64,
    min_bytes: u64,
    max_bytes: u64,
    sessions: usize,
    slides: usize,
}

/// Size range of a generated post, in bytes.
const POST_BYTES: std::ops::RangeInclusive<usize> = 15_000..=25_000;

/// Writes `count` posts as `dir/recap-NNNNN.md`.
fn generate(dir: &Path, count: usize) -> Result<Corpus, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut corpus = Corpus {
        bytes: 0,
        min_bytes: u64::MAX,
        max_bytes: 0,
        sessions: 0,
        slides: 0,
    };
    let mut text = String::with_capacity(32 * 1024);
    for i in 0..count {
        // Posts outside POST_BYTES are drawn again (a few percent are), so that every
        // post is 15-25 KB like a real recap while sizes still vary.
        let mut attempt = 0;
        let (sessions, slides) = loop {
            text.clear();
            let counts = write_post(&mut text, i, &mut Rng::for_post(i, attempt));
            if POST_BYTES.contains(&text.len()) || attempt == 255 {
                break counts;
            }
            attempt += 1;
        };
        let path: PathBuf = dir.join(format!("recap-{i:05}.md"));
        std::fs::write(&path, &text)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        let len = text.len() as u64;
        corpus.bytes += len;
        corpus.min_bytes = corpus.min_bytes.min(len);
        corpus.max_bytes = corpus.max_bytes.max(len);
        corpus.sessions += sessions;
        corpus.slides += slides;
    }
    Ok(corpus)
}

const CONFERENCES: &[&str] = &[
    "Cloud Native Summit",
    "KubeCon China",
    "GopherChina",
    "RustConf",
    "QCon 上海",
    "ArchSummit 深圳",
    "开源基础设施大会",
    "SREcon Asia",
];
const AUTHORS: &[&str] = &["lanmei", "zhangwei", "chen.li", "wang_fang", "liu-yang"];
const TAGS: &[&str] = &[
    "云原生",
    "Kubernetes",
    "可观测性",
    "eBPF",
    "Rust",
    "数据库",
    "Service Mesh",
    "SRE",
    "会议笔记",
];
const VERBS: &[&str] = &[
    "Scaling",
    "Debugging",
    "Securing",
    "Observing",
    "Operating",
    "Migrating",
    "Building",
    "Rethinking",
];
const TOPICS: &[&str] = &[
    "Prometheus",
    "eBPF",
    "Kubernetes Operators",
    "Service Mesh",
    "etcd",
    "OpenTelemetry",
    "WebAssembly",
    "Multi-Cluster Networking",
    "GPU Scheduling",
    "CI Pipelines",
    "Object Storage",
    "Envoy",
];
const SUFFIXES: &[&str] = &[
    " in Production",
    ": Lessons Learned",
    " at Scale",
    " the Hard Way",
    " Without Downtime",
    " to a Billion Series",
    "",
];
const CN_TITLES: &[&str] = &[
    "{}在大规模集群中的落地实践",
    "{}性能调优实战",
    "从零构建{}平台",
    "{}踩坑记录",
    "基于{}的可观测性体系建设",
    "{}的下一个十年",
];
/// Clauses that commentary sentences are made of.
const CLAUSES: &[&str] = &[
    "这个 Session 非常硬核",
    "分片之后 remote write 的压力终于下来了",
    "讲者来自一线团队",
    "现场提问很踊跃",
    "思路不错",
    "和我们内部的做法类似",
    "最大的收获是关于容量规划的部分",
    "内核版本太老的话很多特性用不了",
    "verifier 报错信息很难读",
    "他们把延迟从秒级降到了毫秒级",
    "这一页的架构图值得细看",
    "可惜时间太短没有讲完",
    "后面的 Demo 翻车了",
    "map 的内存没有算进 cgroup",
    "控制面和数据面彻底分开",
    "回去可以试一下",
    "主要的瓶颈在磁盘 IO",
    "作者说明年会开源",
    "整体上偏入门",
    "数据都是生产环境的真实数据",
    "多租户隔离一直是个难题",
    "用 Rust 重写之后内存占用少了一半",
];
const LIST_ITEMS: &[&str] = &[
    "内核版本太老，`bpf_loop` 用不了",
    "verifier 报错信息很难读",
    "map 的内存没有算进 cgroup",
    "升级 etcd 前一定要先做快照",
    "sidecar 的资源限制要单独配置",
    "告警规则越少越好",
    "灰度发布要按 AZ 逐步推进",
    "`kubectl drain` 之前先检查 PDB",
];
const REPOS: &[&str] = &[
    "submariner-io/submariner",
    "prometheus/prometheus",
    "cilium/cilium",
    "open-telemetry/opentelemetry-collector",
    "envoyproxy/envoy",
    "etcd-io/etcd",
    "bytecodealliance/wasmtime",
];
const BARE_URLS: &[&str] = &[
    "https://prometheus.io/docs/prometheus/latest/storage/",
    "https://www.youtube.com/playlist?list=PLexample0000000000",
    "https://kubernetes.io/docs/concepts/services-networking/",
    "https://ebpf.io/what-is-ebpf/",
    "https://opentelemetry.io/docs/specs/otel/",
];
const ALTS: &[&str] = &["架构图", "benchmark 结果", "roadmap", "QPS 曲线", "demo"];

/// Appends one post to `out`; returns how many sessions and slide images it wrote.
fn write_post(out: &mut String, i: usize, rng: &mut Rng) -> (usize, usize) {
    use std::fmt::Write;
    let conference = rng.pick(CONFERENCES);
    let year = rng.range(2019, 2024);

    // Front matter: like the example, with a CJK title that is unique per post.
    out.push_str("---\n");
    let _ = writeln!(out, "author: {}", rng.pick(AUTHORS));
    let _ = writeln!(out, "title: {conference} {year} 回顾 · 第 {} 篇", i + 1);
    let _ = writeln!(
        out,
        "date: {year}-{:02}-{:02}",
        rng.range(1, 12),
        rng.range(1, 28)
    );
    if rng.chance(30) {
        out.push_str("description:\n");
    } else {
        out.push_str("description: ");
        sentence(out, rng, 2, 4);
        out.push('\n');
    }
    out.push_str("tags:\n");
    let tags = rng.range(2, 4);
    for tag in rng.pick_distinct(TAGS, tags) {
        let _ = writeln!(out, "  - {tag}");
    }
    out.push_str("toc: true\n---\n\n");

    // Intro and the summary separator.
    out.push_str("照例是一篇长文，图比字多。");
    sentence(out, rng, 1, 3);
    out.push_str("\n\n<!--more-->\n\n");

    // Sessions: ~20, ~7.5 slides each (~150 per post), commentary between the slides.
    let sessions = rng.range(18, 22);
    let mut slides = 0;
    // Slide numbers already used in this post, so some can be shown again.
    let mut shown: Vec<usize> = Vec::new();
    for s in 0..sessions {
        if s + 1 == sessions && rng.chance(50) {
            out.push_str("## 小结\n\n");
        } else if rng.chance(35) {
            let title = rng.pick(CN_TITLES).replace("{}", rng.pick(TOPICS));
            let _ = writeln!(out, "## {title}\n");
        } else {
            let verb = rng.pick(VERBS);
            let topic = rng.pick(TOPICS);
            let suffix = rng.pick(SUFFIXES);
            let _ = writeln!(out, "## {verb} {topic}{suffix}\n");
        }
        if rng.chance(30) {
            sentence(out, rng, 1, 3);
            out.push_str("\n\n");
        }
        for _ in 0..rng.range(5, 10) {
            // Mostly a new slide; sometimes one shown earlier in the post again.
            let number = if !shown.is_empty() && rng.chance(8) {
                shown[rng.range(0, shown.len() - 1)]
            } else {
                // Unique across posts: 6 digits up to post 3906, then 7.
                let n = i * 256 + shown.len();
                shown.push(n);
                n
            };
            let url = format!("https://img.example.net/notes/2023061709{number:06}.jpg");
            if rng.chance(5) {
                let _ = writeln!(out, "![{}]({url})\n", rng.pick(ALTS));
            } else if rng.chance(3) {
                let _ = writeln!(out, "![]({url} \"{}\")\n", rng.pick(ALTS));
            } else {
                let _ = writeln!(out, "![]({url})\n");
            }
            slides += 1;
            if rng.chance(35) {
                commentary(out, rng);
            }
        }
        if rng.chance(20) {
            out.push_str("几个常见的坑：\n");
            let items = rng.range(3, 5);
            for item in rng.pick_distinct(LIST_ITEMS, items) {
                let _ = writeln!(out, "- {item}");
            }
            out.push('\n');
        }
        if rng.chance(20) {
            // A bare URL on its own line, closing a paragraph, as in the example.
            out.push_str("相关的设计文档可以看这里：\n");
            let _ = writeln!(out, "{}\n", rng.pick(BARE_URLS));
        }
    }
    (sessions, slides)
}

/// One commentary paragraph of 1-3 sentences, sometimes with an inline GitHub link.
fn commentary(out: &mut String, rng: &mut Rng) {
    use std::fmt::Write;
    for _ in 0..rng.range(1, 3) {
        sentence(out, rng, 1, 4);
    }
    if rng.chance(15) {
        let repo = rng.pick(REPOS);
        let name = repo.rsplit('/').next().unwrap_or(repo);
        let _ = write!(out, "可以参考 [{name}](https://github.com/{repo}) 的做法。");
    }
    out.push_str("\n\n");
}

/// One Chinese sentence of `lo..=hi` clauses, ending in a full stop.
fn sentence(out: &mut String, rng: &mut Rng, lo: usize, hi: usize) {
    let clauses = rng.range(lo, hi);
    for c in 0..clauses {
        if c > 0 {
            out.push('，');
        }
        out.push_str(rng.pick(CLAUSES));
    }
    out.push('。');
}
