//! Benchmark of slide-image downloads: wall time and peak RSS of the release binary's
//! `import --jobs 16` fetching N images from a loopback server with 20 ms of latency per
//! request, against `curl --parallel --parallel-max 16` (and `aria2c -j16` when
//! installed) downloading the same URLs in the same run; run
//! `cargo bench --bench fetch [-- N]` (Linux, GNU time).
//!
//! Run it with `cargo bench --bench fetch` (2,000 images), or pick the number of images:
//! `cargo bench --bench fetch -- 500`, or `BENCH_IMAGES=500 cargo bench --bench fetch`.
//! `BENCH_RUNS` (default 3) sets how many timed runs each tool gets; the median is
//! reported. Post, archives and curl/aria2c output go into a temporary folder under
//! `$TMPDIR` (default `/tmp`); mind whether that is a tmpfs or a real disk when comparing
//! figures (slidearchive fsyncs every image, curl and aria2c do not). Set `BENCH_KEEP=1`
//! to keep that folder for a look afterwards.
//!
//! This is a program, not a timed test (`harness = false` in Cargo.toml): it
//!
//! 1. starts an HTTP/1.1 server (axum) on 127.0.0.1 in a background thread, serving N
//!    distinct ~100 KB JPEG-looking bodies (precomputed in memory) at `/img/00001.jpg`
//!    ..., each response delayed by 20 ms;
//! 2. writes one recap post (~20 sessions) whose slides are those N URLs;
//! 3. runs, R times and alternating the tools so that machine noise hits them equally:
//!    `/usr/bin/time -v slidearchive --archive DIR import --jobs 16 POST` into a fresh
//!    archive (the summary line must say all N stored, 0 failed);
//!    `/usr/bin/time -v curl --parallel --parallel-max 16 --config FILE` into a fresh
//!    folder (N files must be written); the same with `aria2c -j16 -x1 -i LIST` if found;
//! 4. prints median wall time, MB/s, images/s and peak RSS per tool, the ratio of
//!    slidearchive to the best of the others, and compares them with the targets.
//!
//! Every child runs with `NO_PROXY=127.0.0.1,localhost` and without `HTTP(S)_PROXY` /
//! `ALL_PROXY`, so that the loopback traffic never goes through a proxy.
//!
//! Sizes: 1 MB = 1,000,000 bytes throughout (RSS kbytes from GNU time are KiB and are
//! converted).

mod common;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use common::{Run, make_dir, median, write_file};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Images served when neither an argument nor `BENCH_IMAGES` says otherwise.
const DEFAULT_IMAGES: usize = 2000;
/// The largest count (of images, or of runs) accepted: image URLs have five digits.
const MAX_COUNT: usize = 99_999;
/// Timed runs per tool when `BENCH_RUNS` is not set.
const DEFAULT_RUNS: usize = 3;
/// Downloads at once, for every tool.
const JOBS: usize = 16;
/// Latency the server adds before each response.
const LATENCY: Duration = Duration::from_millis(20);
/// Body sizes: about 100 KB, varying a little from image to image.
const IMAGE_BYTES: std::ops::RangeInclusive<usize> = 95_000..=105_000;
/// Sessions in the generated post.
const SESSIONS: usize = 20;
/// The targets the figures are compared against.
const TARGET_RATIO: f64 = 1.2;
const TARGET_PEAK_MB: f64 = 100.0;

fn main() -> ExitCode {
    common::exit_code("fetch", run())
}

fn run() -> Result<(), String> {
    let images = common::count_wanted(
        "the number of images",
        "BENCH_IMAGES",
        DEFAULT_IMAGES,
        MAX_COUNT,
    )?;
    let runs = common::env_count("BENCH_RUNS", DEFAULT_RUNS, MAX_COUNT)?;
    // Cargo builds the binary target with the bench profile (release settings).
    let bin = Path::new(env!("CARGO_BIN_EXE_slidearchive"));
    let use_gnu_time = common::gnu_time_available("fetch");
    let aria2c = which("aria2c");

    let tmp = common::temp_dir()?;

    // 1. The server, with every body computed once, before any timing.
    let bodies: Vec<Bytes> = (0..images).map(|i| Bytes::from(image_body(i))).collect();
    let total_bytes: u64 = bodies.iter().map(|b| b.len() as u64).sum();
    let server = Server::start(bodies)?;
    let urls: Vec<String> = (1..=images)
        .map(|n| format!("http://{}/img/{n:05}.jpg", server.addr))
        .collect();

    // 2. The post, the curl config and the aria2c input list.
    let post = tmp.path().join("post.md");
    write_file(&post, &recap_post(&urls))?;
    let curl_config = tmp.path().join("curl.config");
    let aria2c_list = tmp.path().join("aria2c.list");
    write_file(&aria2c_list, &aria2c_input(&urls))?;

    // 3. R runs of each tool, alternating.
    let mut tools: Vec<Tool> = vec![Tool::new("slidearchive"), Tool::new("curl")];
    if aria2c.is_some() {
        tools.push(Tool::new("aria2c"));
    }
    for i in 0..runs {
        for tool in tools.iter_mut() {
            let before = server.requests();
            let done = match tool.name {
                "slidearchive" => {
                    let archive = tmp.path().join(format!("archive-{i}"));
                    run_slidearchive(bin, use_gnu_time, &archive, &post, images)
                }
                "curl" => {
                    let out = tmp.path().join(format!("curl-{i}"));
                    make_dir(&out)?;
                    write_file(&curl_config, &curl_config_text(&urls, &out))?;
                    run_curl(use_gnu_time, &curl_config, &out, images)
                }
                _ => {
                    let out = tmp.path().join(format!("aria2c-{i}"));
                    make_dir(&out)?;
                    run_aria2c(use_gnu_time, &aria2c_list, &out, images)
                }
            }
            .map_err(|e| format!("{} run {}: {e}", tool.name, i + 1))?;
            let requests = server.requests() - before;
            if requests != images {
                eprintln!(
                    "bench fetch: note: {} run {} made {requests} requests for {images} images",
                    tool.name,
                    i + 1
                );
            }
            tool.runs.push(done);
        }
    }

    // 4. Report.
    let mb = total_bytes as f64 / 1e6;
    let floor = LATENCY.as_secs_f64() * images.div_ceil(JOBS) as f64;
    println!();
    println!("slidearchive fetch benchmark");
    println!("  binary:        {}", bin.display());
    println!("  temp dir:      {}", tmp.path().display());
    println!(
        "  server:        http://{} (HTTP/1.1, {} ms before each response)",
        server.addr,
        LATENCY.as_millis()
    );
    println!(
        "  images:        {images} ({:.1} KB each on average, {}-{} bytes)",
        total_bytes as f64 / images as f64 / 1e3,
        IMAGE_BYTES.start(),
        IMAGE_BYTES.end()
    );
    println!("  bytes total:   {total_bytes} ({mb:.1} MB)");
    println!(
        "  latency floor: {floor:.2} s ({images} requests x {} ms / {JOBS} at once)",
        LATENCY.as_millis()
    );
    println!("  runs:          {runs} per tool, alternating, --jobs/--parallel-max/-j {JOBS}");
    if aria2c.is_none() {
        println!("  aria2c:        not installed, skipped");
    }
    println!();
    println!(
        "  {:<13} {:>9} {:>8} {:>9} {:>13}  wall s of each run",
        "tool", "median s", "MB/s", "images/s", "peak RSS MB"
    );
    for tool in &tools {
        let wall = tool.median_wall();
        println!(
            "  {:<13} {wall:>9.3} {:>8.1} {:>9.0} {:>13}  {}",
            tool.name,
            mb / wall,
            images as f64 / wall,
            tool.peak_rss_mb()
                .map_or_else(|| "n/a".to_string(), |r| format!("{r:.1}")),
            tool.runs
                .iter()
                .map(|r| format!("{:.3}", r.wall.as_secs_f64()))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    println!();

    let ours = &tools[0];
    let best = tools[1..]
        .iter()
        .min_by(|a, b| a.median_wall().total_cmp(&b.median_wall()))
        .expect("curl is always measured");
    let ratio = ours.median_wall() / best.median_wall();
    println!(
        "  ratio:         slidearchive / {} (the best of the others) = {ratio:.2}x",
        best.name
    );
    if let Some(cpu) = ours.median_cpu() {
        println!("  slidearchive cpu: {cpu:.2} s (user + sys, median)");
    }
    println!(
        "target: within {TARGET_RATIO}x of the best of them, peak memory under {TARGET_PEAK_MB:.0} MB"
    );
    let speed = if ratio <= TARGET_RATIO {
        "meets"
    } else {
        "MISSES"
    };
    let memory = match ours.peak_rss_mb() {
        Some(max) if max < TARGET_PEAK_MB => format!("peak {max:.1} MB meets"),
        Some(max) => format!("peak {max:.1} MB MISSES"),
        None => "peak not measured".to_string(),
    };
    println!("result: {ratio:.2}x {speed} the speed target; {memory} the memory target");
    common::keep_if_asked(tmp);
    Ok(())
}

// ---------------------------------------------------------------------------------
// Tools on PATH
// ---------------------------------------------------------------------------------

/// The path of `program` if it is on `PATH`.
fn which(program: &str) -> Option<PathBuf> {
    let output = Command::new("which").arg(program).output().ok()?;
    let path = String::from_utf8_lossy(&output.stdout).trim().to_string();
    (output.status.success() && !path.is_empty()).then(|| PathBuf::from(path))
}

// ---------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------

/// The loopback server, running on its own thread until the program ends.
struct Server {
    addr: std::net::SocketAddr,
    requests: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct Served {
    bodies: Arc<Vec<Bytes>>,
    requests: Arc<AtomicUsize>,
}

impl Server {
    fn start(bodies: Vec<Bytes>) -> Result<Server, String> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .map_err(|e| format!("cannot listen on 127.0.0.1: {e}"))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| format!("cannot make the listener non-blocking: {e}"))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("no local address: {e}"))?;
        let requests = Arc::new(AtomicUsize::new(0));
        let served = Served {
            bodies: Arc::new(bodies),
            requests: requests.clone(),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the server runtime: {e}"))?;
        std::thread::spawn(move || {
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(listener) => listener,
                    Err(e) => {
                        eprintln!("bench fetch: server: {e}");
                        return;
                    }
                };
                let app = Router::new()
                    .route("/img/{name}", get(image))
                    .with_state(served);
                if let Err(e) = axum::serve(listener, app).await {
                    eprintln!("bench fetch: server: {e}");
                }
            });
        });
        Ok(Server { addr, requests })
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }
}

/// `GET /img/00042.jpg`: the 42nd body, after the latency.
async fn image(State(served): State<Served>, UrlPath(name): UrlPath<String>) -> Response {
    served.requests.fetch_add(1, Ordering::Relaxed);
    tokio::time::sleep(LATENCY).await;
    let body = name
        .strip_suffix(".jpg")
        .and_then(|n| n.parse::<usize>().ok())
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| served.bodies.get(i));
    match body {
        Some(body) => ([(header::CONTENT_TYPE, "image/jpeg")], body.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Image `i`: a JPEG start (SOI, a JFIF APP0 and a 1280x720 SOF0, so that type sniffing
/// and the size probe both succeed) followed by pseudo-random bytes unique to `i`, and
/// the end-of-image marker.
fn image_body(i: usize) -> Vec<u8> {
    let mut state = 0x5EED_F37C_0000_0000 ^ (i as u64).wrapping_mul(0xA076_1D64_78BD_642F);
    let span = (IMAGE_BYTES.end() - IMAGE_BYTES.start() + 1) as u64;
    let len = IMAGE_BYTES.start() + (common::splitmix(&mut state) % span) as usize;
    let mut body = Vec::with_capacity(len);
    body.extend_from_slice(&[0xFF, 0xD8]); // SOI
    body.extend_from_slice(&[0xFF, 0xE0, 0x00, 0x10]); // APP0, 16 bytes
    body.extend_from_slice(b"JFIF\0\x01\x01\x00\x00\x01\x00\x01\x00\x00");
    body.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08]); // SOF0, 8-bit samples
    body.extend_from_slice(&720u16.to_be_bytes());
    body.extend_from_slice(&1280u16.to_be_bytes());
    body.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    while body.len() < len - 2 {
        let word = common::splitmix(&mut state).to_le_bytes();
        let take = word.len().min(len - 2 - body.len());
        body.extend_from_slice(&word[..take]);
    }
    body.extend_from_slice(&[0xFF, 0xD9]); // EOI
    body
}

// ---------------------------------------------------------------------------------
// Inputs for the tools
// ---------------------------------------------------------------------------------

/// A recap post of ~20 sessions whose slides are `urls`, one per paragraph.
fn recap_post(urls: &[String]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(urls.len() * 64 + 1024);
    out.push_str(
        "---\ntitle: Fetch Benchmark Summit 回顾\ndate: 2024-05-01\ntags:\n  - bench\n---\n\n",
    );
    out.push_str("图比字多。\n\n<!--more-->\n\n");
    let per_session = urls.len().div_ceil(SESSIONS).max(1);
    for (s, chunk) in urls.chunks(per_session).enumerate() {
        let _ = writeln!(out, "## Session {}\n", s + 1);
        for url in chunk {
            let _ = writeln!(out, "![]({url})\n");
        }
    }
    out
}

/// `url = ...` / `output = ...` pairs for `curl --config`.
fn curl_config_text(urls: &[String], out: &Path) -> String {
    use std::fmt::Write;
    let mut text = String::with_capacity(urls.len() * 128);
    for url in urls {
        let name = url.rsplit('/').next().unwrap_or("image");
        let _ = writeln!(text, "url = \"{url}\"");
        let _ = writeln!(text, "output = \"{}\"", out.join(name).display());
    }
    text
}

/// An `aria2c -i` list: each URL with its output name.
fn aria2c_input(urls: &[String]) -> String {
    use std::fmt::Write;
    let mut text = String::with_capacity(urls.len() * 64);
    for url in urls {
        let name = url.rsplit('/').next().unwrap_or("image");
        let _ = writeln!(text, "{url}\n  out={name}");
    }
    text
}

// ---------------------------------------------------------------------------------
// Running the tools
// ---------------------------------------------------------------------------------

/// One tool's runs.
struct Tool {
    name: &'static str,
    runs: Vec<Run>,
}

impl Tool {
    fn new(name: &'static str) -> Tool {
        Tool {
            name,
            runs: Vec::new(),
        }
    }

    fn median_wall(&self) -> f64 {
        median(
            &mut self
                .runs
                .iter()
                .map(|r| r.wall.as_secs_f64())
                .collect::<Vec<_>>(),
        )
    }

    fn median_cpu(&self) -> Option<f64> {
        let mut cpus: Vec<f64> = self.runs.iter().filter_map(|r| r.cpu_s).collect();
        (!cpus.is_empty()).then(|| median(&mut cpus))
    }

    /// The largest peak RSS over the runs.
    fn peak_rss_mb(&self) -> Option<f64> {
        self.runs
            .iter()
            .filter_map(|r| r.peak_rss_mb)
            .reduce(f64::max)
    }
}

/// `program`, under GNU time when available, with no proxy for loopback.
fn command(use_gnu_time: bool, program: &Path) -> Command {
    let mut command = common::command(use_gnu_time, program);
    for name in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"] {
        command
            .env_remove(name)
            .env_remove(name.to_ascii_lowercase());
    }
    command
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost");
    command
}

fn run_slidearchive(
    bin: &Path,
    use_gnu_time: bool,
    archive: &Path,
    post: &Path,
    images: usize,
) -> Result<Run, String> {
    let mut c = command(use_gnu_time, bin);
    c.arg("--archive")
        .arg(archive)
        .arg("import")
        .arg("--jobs")
        .arg(JOBS.to_string())
        .arg(post);
    let done = common::timed(&mut c, "slidearchive import", "slidearchive import")?;
    let stderr = &done.stderr;
    // `2000 slides, 2000 URLs: 2000 stored, 0 failed`
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.contains(" URLs: ") && l.contains(" stored"))
        .ok_or_else(|| {
            format!(
                "no download summary in stderr:\n{}",
                common::tail(stderr, 30)
            )
        })?;
    let stored = common::number_before(line, " stored");
    let failed = common::number_before(line, " failed");
    if stored != Some(images) || failed != Some(0) {
        return Err(format!(
            "expected {images} stored, 0 failed; slidearchive said: {line}"
        ));
    }
    Ok(done.run)
}

fn run_curl(use_gnu_time: bool, config: &Path, out: &Path, images: usize) -> Result<Run, String> {
    let mut c = command(use_gnu_time, Path::new("curl"));
    c.args(["--parallel", "--parallel-max", &JOBS.to_string()])
        .args(["--silent", "--show-error", "--fail", "--config"])
        .arg(config);
    let done = common::timed(&mut c, "curl", "curl")?;
    check_written(out, images)?;
    Ok(done.run)
}

fn run_aria2c(use_gnu_time: bool, list: &Path, out: &Path, images: usize) -> Result<Run, String> {
    let mut c = command(use_gnu_time, Path::new("aria2c"));
    c.arg(format!("-j{JOBS}"))
        .arg("-x1")
        .arg("-i")
        .arg(list)
        .arg("-d")
        .arg(out)
        .arg("--quiet");
    let done = common::timed(&mut c, "aria2c", "aria2c")?;
    check_written(out, images)?;
    Ok(done.run)
}

/// That `dir` holds `images` non-empty files.
fn check_written(dir: &Path, images: usize) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let written = entries
        .filter_map(|e| e.ok()?.metadata().ok())
        .filter(|m| m.is_file() && m.len() > 0)
        .count();
    if written != images {
        return Err(format!(
            "expected {images} files in {}, found {written}",
            dir.display()
        ));
    }
    Ok(())
}
