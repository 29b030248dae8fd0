//! What the benchmark programs share (`mod common;` in each): reading counts from the
//! command line and the environment, running a child under GNU time, small number
//! helpers, and the generator of recap posts shaped like
//! `examples/cloud-summit-2023-recap.md` (its PRNG, word lists and the parts of a post
//! that every generator writes the same way).
//!
//! A folder module (`benches/common/mod.rs`), so that cargo does not take it for a bench
//! target of its own.

// Each bench uses only part of this module (fetch.rs no post generator, import.rs no
// `mix`, ...), and what one of them leaves unused would be dead code in that crate.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------
// The program
// ---------------------------------------------------------------------------------

/// The exit code of bench `name` whose `run` returned `result`; an error is printed first.
pub fn exit_code(name: &str, result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench {name}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A fresh temporary folder under `$TMPDIR`, removed when dropped.
pub fn temp_dir() -> Result<tempfile::TempDir, String> {
    tempfile::tempdir().map_err(|e| format!("cannot create a temp dir: {e}"))
}

/// Keeps `tmp` (and says where) if `BENCH_KEEP` is set; otherwise removes it.
pub fn keep_if_asked(tmp: tempfile::TempDir) {
    if std::env::var_os("BENCH_KEEP").is_some() {
        println!("kept (BENCH_KEEP): {}", tmp.keep().display());
    }
}

pub fn write_file(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

pub fn make_dir(path: &Path) -> Result<(), String> {
    std::fs::create_dir_all(path).map_err(|e| format!("cannot create {}: {e}", path.display()))
}

pub fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// The size of `archive`'s archive.db, and of its WAL if there is one (`wal_note` said
/// after it): `43.0 MB` or `43.0 MB (+ 1.2 MB WAL left behind)`.
pub fn archive_db_size(archive: &Path, wal_note: &str) -> String {
    let db_bytes = file_size(&archive.join("archive.db"));
    let wal_bytes = file_size(&archive.join("archive.db-wal"));
    format!(
        "{:.1} MB{}",
        db_bytes as f64 / 1e6,
        if wal_bytes > 0 {
            format!(" (+ {:.1} MB WAL{wal_note})", wal_bytes as f64 / 1e6)
        } else {
            String::new()
        }
    )
}

// ---------------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------------

/// The `max` of a count that may be as large as it likes.
pub const NO_LIMIT: usize = usize::MAX;

/// N from the first argument that is not a flag (cargo adds `--bench`), else the
/// environment variable `var`, else `default`; `what` names N in errors. N is from 1 to
/// `max`.
pub fn count_wanted(what: &str, var: &str, default: usize, max: usize) -> Result<usize, String> {
    match std::env::args().skip(1).find(|a| !a.starts_with("--")) {
        Some(arg) => parse_count(what, &arg, max),
        None => env_count(var, default, max),
    }
}

/// The number of posts: [`count_wanted`] from the argument or `BENCH_POSTS`.
pub fn posts_wanted(default: usize) -> Result<usize, String> {
    count_wanted("the number of posts", "BENCH_POSTS", default, NO_LIMIT)
}

/// The count in the environment variable `name` (from 1 to `max`), else `default`.
pub fn env_count(name: &str, default: usize, max: usize) -> Result<usize, String> {
    match std::env::var(name) {
        Ok(value) => parse_count(name, &value, max),
        Err(_) => Ok(default),
    }
}

/// A whole number from 1 to `max` (`_` allowed between digits: `10_000`).
pub fn parse_count(what: &str, value: &str, max: usize) -> Result<usize, String> {
    match value.trim().replace('_', "").parse::<usize>() {
        Ok(n) if n > 0 && n <= max => Ok(n),
        _ if max == NO_LIMIT => Err(format!(
            "{what} must be a positive whole number, not {value:?}"
        )),
        _ => Err(format!(
            "{what} must be a whole number from 1 to {max}, not {value:?}"
        )),
    }
}

// ---------------------------------------------------------------------------------
// Running a child under GNU time
// ---------------------------------------------------------------------------------

/// GNU time; without it a bench still times its children but cannot report RSS.
pub const GNU_TIME: &str = "/usr/bin/time";

/// Whether GNU time is installed; if not, bench `name` says that peak RSS will not be
/// reported.
pub fn gnu_time_available(name: &str) -> bool {
    let found = Path::new(GNU_TIME).exists();
    if !found {
        eprintln!("bench {name}: {GNU_TIME} not found; peak RSS will not be reported");
    }
    found
}

/// `program`, under GNU time (`time -v`) when `use_gnu_time`; stdin from /dev/null,
/// stdout and stderr piped.
pub fn command(use_gnu_time: bool, program: &Path) -> Command {
    let mut command = if use_gnu_time {
        let mut c = Command::new(GNU_TIME);
        c.arg("-v").arg(program);
        c
    } else {
        Command::new(program)
    };
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// `bin --archive ARCHIVE import --no-fetch POSTS` (`bin` being slidearchive) under GNU
/// time when `use_gnu_time`, its stdout going to `stdout`, run to its end and timed.
pub fn import_no_fetch(
    bin: &Path,
    use_gnu_time: bool,
    archive: &Path,
    posts: &Path,
    stdout: Stdio,
) -> Result<Finished, String> {
    let mut command = command(use_gnu_time, bin);
    command
        .arg("--archive")
        .arg(archive)
        .arg("import")
        .arg("--no-fetch")
        .arg(posts)
        .stdout(stdout);
    timed(
        &mut command,
        &bin.display().to_string(),
        &format!("import into {}", archive.display()),
    )
}

/// One timed run of a child process.
pub struct Run {
    /// Wall time of the child process, measured here around spawn..exit.
    pub wall: Duration,
    /// User + system CPU seconds, from GNU time.
    pub cpu_s: Option<f64>,
    /// Peak resident set size in MB, from GNU time.
    pub peak_rss_mb: Option<f64>,
}

/// A child that ran to its end and succeeded.
pub struct Finished {
    pub run: Run,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `command` to its end, timing it. If it cannot start, the error says
/// `cannot run {program}`; if it fails, `{what} failed` with the last lines of stderr.
pub fn timed(command: &mut Command, program: &str, what: &str) -> Result<Finished, String> {
    let started = Instant::now();
    let output = command
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let wall = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if !output.status.success() {
        return Err(format!(
            "{what} failed ({}); last lines of stderr:\n{}",
            output.status,
            tail(&stderr, 30)
        ));
    }
    let field = |name: &str| gnu_time_field(&stderr, name);
    let cpu_s = match (field("User time (seconds)"), field("System time (seconds)")) {
        (Some(user), Some(sys)) => Some(user + sys),
        _ => None,
    };
    // GNU time reports kbytes meaning KiB.
    let peak_rss_mb = field("Maximum resident set size (kbytes)").map(|kib| kib * 1024.0 / 1e6);
    Ok(Finished {
        run: Run {
            wall,
            cpu_s,
            peak_rss_mb,
        },
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr,
    })
}

/// A number from a `\tName: value` line of `time -v` output.
fn gnu_time_field(stderr: &str, name: &str) -> Option<f64> {
    stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix(name)?.strip_prefix(':'))
        .and_then(|v| v.trim().parse().ok())
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The whole number written just before the first `marker` in `line`.
pub fn number_before(line: &str, marker: &str) -> Option<usize> {
    let head = &line[..line.find(marker)?];
    let digits = head.len() - head.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    head[head.len() - digits..].parse().ok()
}

// ---------------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------------

/// Median of a non-empty list (the mean of the middle two for an even count).
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// `10000` -> `10,000`.
pub fn thousands(n: usize) -> String {
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

/// splitmix64: advances `state` and returns the next number of its stream, so every run
/// generates the same bytes.
pub fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// splitmix64 finalizer: a well-mixed 64-bit hash of a number.
pub fn mix(x: u64) -> u64 {
    let mut state = x;
    splitmix(&mut state)
}

// ---------------------------------------------------------------------------------
// Generating posts
// ---------------------------------------------------------------------------------

/// splitmix64: a tiny deterministic PRNG, so every run generates the same bytes.
pub struct Rng(u64);

impl Rng {
    /// Each post (and each attempt at it) gets its own stream, so post `i` is the same
    /// whatever N is.
    pub fn for_post(i: usize, attempt: u64) -> Rng {
        let stream = (i as u64) << 8 | attempt;
        Rng(0x5EED_2023_0617_0901 ^ stream.wrapping_mul(0xA076_1D64_78BD_642F))
    }

    pub fn next_u64(&mut self) -> u64 {
        splitmix(&mut self.0)
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }

    /// True `percent` times out of 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// True `per_mille` times out of 1,000.
    pub fn chance_per_mille(&mut self, per_mille: u64) -> bool {
        self.next_u64() % 1000 < per_mille
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.range(0, items.len() - 1)]
    }

    /// `k` different items (`k` at most `items.len()`), in random order.
    pub fn pick_distinct<'a>(&mut self, items: &[&'a str], k: usize) -> Vec<&'a str> {
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

/// Size range of a generated post, in bytes.
pub const POST_BYTES: std::ops::RangeInclusive<usize> = 15_000..=25_000;

/// Writes `count` posts as `dir/recap-NNNNN.md`, post `i` by `write(out, i, rng)`;
/// returns each post's size in bytes and what `write` returned for it.
///
/// A post outside POST_BYTES is drawn again (a few percent are), so that every post is
/// 15-25 KB like a real recap while sizes still vary.
pub fn generate<T>(
    dir: &Path,
    count: usize,
    mut write: impl FnMut(&mut String, usize, &mut Rng) -> T,
) -> Result<Vec<(usize, T)>, String> {
    make_dir(dir)?;
    let mut posts = Vec::with_capacity(count);
    let mut text = String::with_capacity(32 * 1024);
    for i in 0..count {
        let mut attempt = 0;
        let counts = loop {
            text.clear();
            let counts = write(&mut text, i, &mut Rng::for_post(i, attempt));
            if POST_BYTES.contains(&text.len()) || attempt == 255 {
                break counts;
            }
            attempt += 1;
        };
        write_file(&dir.join(format!("recap-{i:05}.md")), &text)?;
        posts.push((text.len(), counts));
    }
    Ok(posts)
}

pub const CONFERENCES: &[&str] = &[
    "Cloud Native Summit",
    "KubeCon China",
    "GopherChina",
    "RustConf",
    "QCon 上海",
    "ArchSummit 深圳",
    "开源基础设施大会",
    "SREcon Asia",
];
pub const AUTHORS: &[&str] = &["lanmei", "zhangwei", "chen.li", "wang_fang", "liu-yang"];
pub const TAGS: &[&str] = &[
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
pub const VERBS: &[&str] = &[
    "Scaling",
    "Debugging",
    "Securing",
    "Observing",
    "Operating",
    "Migrating",
    "Building",
    "Rethinking",
];
pub const TOPICS: &[&str] = &[
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
pub const SUFFIXES: &[&str] = &[
    " in Production",
    ": Lessons Learned",
    " at Scale",
    " the Hard Way",
    " Without Downtime",
    " to a Billion Series",
    "",
];
pub const CN_TITLES: &[&str] = &[
    "{}在大规模集群中的落地实践",
    "{}性能调优实战",
    "从零构建{}平台",
    "{}踩坑记录",
    "基于{}的可观测性体系建设",
    "{}的下一个十年",
];
/// Clauses that commentary sentences are made of.
pub const CLAUSES: &[&str] = &[
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
pub const LIST_ITEMS: &[&str] = &[
    "内核版本太老，`bpf_loop` 用不了",
    "verifier 报错信息很难读",
    "map 的内存没有算进 cgroup",
    "升级 etcd 前一定要先做快照",
    "sidecar 的资源限制要单独配置",
    "告警规则越少越好",
    "灰度发布要按 AZ 逐步推进",
    "`kubectl drain` 之前先检查 PDB",
];
pub const REPOS: &[&str] = &[
    "submariner-io/submariner",
    "prometheus/prometheus",
    "cilium/cilium",
    "open-telemetry/opentelemetry-collector",
    "envoyproxy/envoy",
    "etcd-io/etcd",
    "bytecodealliance/wasmtime",
];
pub const BARE_URLS: &[&str] = &[
    "https://prometheus.io/docs/prometheus/latest/storage/",
    "https://www.youtube.com/playlist?list=PLexample0000000000",
    "https://kubernetes.io/docs/concepts/services-networking/",
    "https://ebpf.io/what-is-ebpf/",
    "https://opentelemetry.io/docs/specs/otel/",
];
pub const ALTS: &[&str] = &["架构图", "benchmark 结果", "roadmap", "QPS 曲线", "demo"];

/// The front matter of post `i` (like the example's, with a CJK title that is unique per
/// post, and `slug` if given), the intro and the summary separator.
pub fn post_head(
    out: &mut String,
    rng: &mut Rng,
    i: usize,
    conference: &str,
    year: usize,
    slug: Option<&str>,
) {
    use std::fmt::Write;
    out.push_str("---\n");
    let _ = writeln!(out, "author: {}", rng.pick(AUTHORS));
    let _ = writeln!(out, "title: {conference} {year} 回顾 · 第 {} 篇", i + 1);
    if let Some(slug) = slug {
        let _ = writeln!(out, "slug: {slug}");
    }
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
}

/// The sessions of a post: ~20, ~7.5 slides each (~150 per post), commentary between the
/// slides (with `rare` sentences, see [`commentary`]). `slide_url` gives each slide's
/// URL; it may show again one of the slide numbers already used in the post, which it
/// keeps in its second argument (see [`slide_number`]). Returns how many sessions and
/// slide images it wrote.
pub fn sessions(
    out: &mut String,
    rng: &mut Rng,
    rare: &[(&str, u64)],
    mut slide_url: impl FnMut(&mut Rng, &mut Vec<usize>) -> String,
) -> (usize, usize) {
    use std::fmt::Write;
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
            let url = slide_url(rng, &mut shown);
            if rng.chance(5) {
                let _ = writeln!(out, "![{}]({url})\n", rng.pick(ALTS));
            } else if rng.chance(3) {
                let _ = writeln!(out, "![]({url} \"{}\")\n", rng.pick(ALTS));
            } else {
                let _ = writeln!(out, "![]({url})\n");
            }
            slides += 1;
            if rng.chance(35) {
                commentary(out, rng, rare);
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

/// The number of a slide of post `i`: mostly a new one (recorded in `shown`), sometimes
/// one shown earlier in the post again.
pub fn slide_number(rng: &mut Rng, shown: &mut Vec<usize>, i: usize) -> usize {
    if !shown.is_empty() && rng.chance(8) {
        shown[rng.range(0, shown.len() - 1)]
    } else {
        // Unique across posts: 6 digits up to post 3906, then 7.
        let n = i * 256 + shown.len();
        shown.push(n);
        n
    }
}

/// One commentary paragraph of 1-3 sentences, sometimes with one of the `rare`
/// sentences (each added this many times in 1,000) or an inline GitHub link.
pub fn commentary(out: &mut String, rng: &mut Rng, rare: &[(&str, u64)]) {
    use std::fmt::Write;
    for _ in 0..rng.range(1, 3) {
        sentence(out, rng, 1, 4);
    }
    for (sentence, per_mille) in rare {
        if rng.chance_per_mille(*per_mille) {
            out.push_str(sentence);
        }
    }
    if rng.chance(15) {
        let repo = rng.pick(REPOS);
        let name = repo.rsplit('/').next().unwrap_or(repo);
        let _ = write!(out, "可以参考 [{name}](https://github.com/{repo}) 的做法。");
    }
    out.push_str("\n\n");
}

/// One Chinese sentence of `lo..=hi` clauses, ending in a full stop.
pub fn sentence(out: &mut String, rng: &mut Rng, lo: usize, hi: usize) {
    let clauses = rng.range(lo, hi);
    for c in 0..clauses {
        if c > 0 {
            out.push('，');
        }
        out.push_str(rng.pick(CLAUSES));
    }
    out.push('。');
}
