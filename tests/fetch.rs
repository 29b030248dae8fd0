//! End-to-end tests of image downloads: each test runs the real `slidearchive` binary
//! against its own archive and its own HTTP server on loopback, started by the test, and
//! checks the exit status, stderr, the files in the store and the rows of `archive.db`.
//!
//! The server is axum on a tokio runtime in a background thread; it counts requests per
//! path and keeps their headers and arrival times. Faults a well-behaved server cannot
//! produce (a body cut short, a reset, a stall, a body without a length) come from a raw
//! TCP listener next to it that writes the bytes by hand.

mod common;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use common::{Run, Sandbox, sha256_hex};
use rusqlite::OptionalExtension;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

// ---------------------------------------------------------------------------------------
// Images, made here: real headers, so that sniffing and `imagesize` see what they would in
// a real file.

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// zlib with stored (uncompressed) deflate blocks.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = if data.is_empty() {
        vec![&[]]
    } else {
        data.chunks(65_535).collect()
    };
    for (i, block) in blocks.iter().enumerate() {
        out.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

/// A valid RGB PNG of `width` x `height`; `seed` changes the pixels (and so the hash).
fn png(width: u32, height: u32, seed: u8) -> Vec<u8> {
    png_with_padding(width, height, seed, 0)
}

/// A valid PNG with a private ancillary chunk of `padding` bytes (decoders skip it), to
/// make files of a chosen size.
fn png_with_padding(width: u32, height: u32, seed: u8, padding: usize) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    png_chunk(&mut out, b"IHDR", &ihdr);
    if padding > 0 {
        let filler: Vec<u8> = (0..padding)
            .map(|i| (i as u8).wrapping_mul(31) ^ seed)
            .collect();
        png_chunk(&mut out, b"prVt", &filler);
    }
    let mut pixels = Vec::new();
    for y in 0..height {
        pixels.push(0);
        for x in 0..width * 3 {
            pixels.push((x as u8).wrapping_mul(7) ^ (y as u8).wrapping_mul(13) ^ seed);
        }
    }
    png_chunk(&mut out, b"IDAT", &zlib_stored(&pixels));
    png_chunk(&mut out, b"IEND", &[]);
    out
}

/// A PNG of exactly `size` bytes.
fn png_of_size(size: usize, seed: u8) -> Vec<u8> {
    let bare = png(1, 1, seed).len();
    let padding = size - bare - 12;
    let image = png_with_padding(1, 1, seed, padding);
    assert_eq!(image.len(), size);
    image
}

/// A JPEG header (SOI, JFIF, a baseline SOF0 with the size, EOI): what type sniffing and
/// `imagesize` read.
fn jpeg(width: u16, height: u16) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    out.extend_from_slice(&[
        0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
    ]);
    out.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 8]);
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&width.to_be_bytes());
    out.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

/// A valid GIF with a logical screen of `width` x `height` and one 1x1 frame.
fn gif(width: u16, height: u16) -> Vec<u8> {
    let mut out = b"GIF89a".to_vec();
    out.extend_from_slice(&width.to_le_bytes());
    out.extend_from_slice(&height.to_le_bytes());
    out.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF]);
    out.extend_from_slice(&[0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0]);
    out.extend_from_slice(&[0x02, 0x02, 0x44, 0x01, 0x00, 0x3B]);
    out
}

/// A post with one session whose slides are `urls`, in order.
fn post_of(urls: &[&str]) -> String {
    let mut text = String::from("## Talk\n\n");
    for url in urls {
        text.push_str(&format!("![slide]({url})\n\n"));
    }
    text
}

// ---------------------------------------------------------------------------------------
// The server

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Hit {
    at: Instant,
    /// Lower-cased names.
    headers: Vec<(String, String)>,
}

impl Hit {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A normal answer, served by axum (with a Content-Length).
#[derive(Debug, Clone)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// How long the handler waits before answering.
    delay: Duration,
}

impl Reply {
    fn ok(body: Vec<u8>, content_type: &str) -> Reply {
        Reply {
            status: 200,
            headers: vec![("content-type".into(), content_type.into())],
            body,
            delay: Duration::ZERO,
        }
    }

    fn png(body: Vec<u8>) -> Reply {
        Reply::ok(body, "image/png")
    }

    fn status(status: u16) -> Reply {
        Reply::ok(
            format!("<html><body>error {status}</body></html>").into_bytes(),
            "text/html",
        )
        .with_status(status)
    }

    fn not_modified() -> Reply {
        Reply {
            status: 304,
            headers: Vec::new(),
            body: Vec::new(),
            delay: Duration::ZERO,
        }
    }

    fn redirect(location: &str) -> Reply {
        Reply::status(302).header("location", location)
    }

    fn with_status(mut self, status: u16) -> Reply {
        self.status = status;
        self
    }

    fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    fn delayed(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

/// What the raw listener does with a request.
#[derive(Debug, Clone)]
enum Fault {
    /// Resets the connection: closes it with the request still unread (the kernel
    /// answers with RST).
    Reset,
    /// Reads the request and closes the connection without a byte of response.
    Close,
    /// Reads the request, writes `head` and `body` as given, then closes, or stalls for
    /// `stall` first.
    Send {
        head: String,
        body: Vec<u8>,
        stall: Option<Duration>,
    },
    /// A chunked PNG body that never ends (up to 256 MiB); counts what was written.
    Endless,
}

type Handler = Arc<dyn Fn(&Hit, usize) -> Reply + Send + Sync>;

#[derive(Default)]
struct Shared {
    routes: Mutex<HashMap<String, Handler>>,
    faults: Mutex<HashMap<String, Fault>>,
    hits: Mutex<HashMap<String, Vec<Hit>>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// Bytes of [`Fault::Endless`] bodies handed to the kernel.
    streamed: AtomicU64,
}

impl Shared {
    /// Records a request; returns how many came to `path` before it.
    fn record(&self, path: &str, hit: Hit) -> usize {
        let mut hits = self.hits.lock().unwrap();
        let list = hits.entry(path.to_string()).or_default();
        list.push(hit);
        list.len() - 1
    }
}

/// An HTTP server on 127.0.0.1 for one test, with a raw TCP listener beside it.
struct Server {
    shared: Arc<Shared>,
    port: u16,
    raw_port: u16,
}

impl Server {
    fn start() -> Server {
        let shared = Arc::new(Shared::default());
        let (sender, receiver) = std::sync::mpsc::channel();
        let state = shared.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("server runtime");
            runtime.block_on(async move {
                let http = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                let raw = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                sender
                    .send((
                        http.local_addr().unwrap().port(),
                        raw.local_addr().unwrap().port(),
                    ))
                    .unwrap();
                tokio::spawn(serve_raw(raw, state.clone()));
                let app = axum::Router::new().fallback(answer).with_state(state);
                axum::serve(http, app).await.expect("serve");
            });
        });
        let (port, raw_port) = receiver.recv().expect("server started");
        Server {
            shared,
            port,
            raw_port,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn raw_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.raw_port)
    }

    /// Answers `path` with `reply`, every time.
    fn serve(&self, path: &str, reply: Reply) {
        self.handle(path, move |_, _| reply.clone());
    }

    /// Answers the n-th request to `path` with `replies[n]`, and the last one after that.
    fn serve_in_turn(&self, path: &str, replies: Vec<Reply>) {
        self.handle(path, move |_, n| replies[n.min(replies.len() - 1)].clone());
    }

    fn handle(&self, path: &str, handler: impl Fn(&Hit, usize) -> Reply + Send + Sync + 'static) {
        self.shared
            .routes
            .lock()
            .unwrap()
            .insert(path.to_string(), Arc::new(handler));
    }

    fn fault(&self, path: &str, fault: Fault) {
        self.shared
            .faults
            .lock()
            .unwrap()
            .insert(path.to_string(), fault);
    }

    fn hits(&self, path: &str) -> Vec<Hit> {
        self.shared
            .hits
            .lock()
            .unwrap()
            .get(path)
            .cloned()
            .unwrap_or_default()
    }

    fn count(&self, path: &str) -> usize {
        self.hits(path).len()
    }

    fn total(&self) -> usize {
        self.shared
            .hits
            .lock()
            .unwrap()
            .values()
            .map(Vec::len)
            .sum()
    }

    fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    fn reset_max_in_flight(&self) {
        self.shared.max_in_flight.store(0, Ordering::SeqCst);
    }

    fn streamed(&self) -> u64 {
        self.shared.streamed.load(Ordering::SeqCst)
    }
}

async fn answer(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let path = request.uri().path().to_string();
    let hit = Hit {
        at: Instant::now(),
        headers: request
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
    };
    let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let n = shared.record(&path, hit.clone());
    let handler = shared.routes.lock().unwrap().get(&path).cloned();
    let reply = match handler {
        Some(handler) => handler(&hit, n),
        None => Reply::status(404),
    };
    tokio::time::sleep(reply.delay).await;
    shared.in_flight.fetch_sub(1, Ordering::SeqCst);
    let mut response = Response::new(Body::from(reply.body));
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap();
    for (name, value) in &reply.headers {
        response.headers_mut().append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    response
}

async fn serve_raw(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        if let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(raw_connection(stream, shared.clone()));
        }
    }
}

async fn raw_connection(mut stream: TcpStream, shared: Arc<Shared>) {
    let mut buffer = vec![0u8; 16 * 1024];
    // Peek, so that a reset can leave the request unread.
    let head_len = loop {
        let Ok(n) = stream.peek(&mut buffer).await else {
            return;
        };
        if n == 0 {
            return;
        }
        if let Some(i) = buffer[..n].windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if n == buffer.len() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    let head = String::from_utf8_lossy(&buffer[..head_len]).into_owned();
    let mut lines = head.split("\r\n");
    let path = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("/")
        .to_string();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    shared.record(
        &path,
        Hit {
            at: Instant::now(),
            headers,
        },
    );
    let fault = shared.faults.lock().unwrap().get(&path).cloned();
    let fault = fault.unwrap_or(Fault::Send {
        head: "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into(),
        body: Vec::new(),
        stall: None,
    });
    if let Fault::Reset = fault {
        drop(stream);
        return;
    }
    if stream.read_exact(&mut buffer[..head_len]).await.is_err() {
        return;
    }
    match fault {
        Fault::Reset | Fault::Close => {}
        Fault::Send { head, body, stall } => {
            if stream.write_all(head.as_bytes()).await.is_err()
                || stream.write_all(&body).await.is_err()
                || stream.flush().await.is_err()
            {
                return;
            }
            if let Some(stall) = stall {
                tokio::time::sleep(stall).await;
            }
        }
        Fault::Endless => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n\
                        Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let mut chunk = png(1, 1, 9);
            chunk.resize(64 * 1024, 0);
            let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
            framed.extend_from_slice(&chunk);
            framed.extend_from_slice(b"\r\n");
            while shared.streamed.load(Ordering::SeqCst) < 256 << 20 {
                if stream.write_all(&framed).await.is_err() {
                    return;
                }
                shared
                    .streamed
                    .fetch_add(chunk.len() as u64, Ordering::SeqCst);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The sandbox: a temporary folder with posts and an archive, and the binary run on it

/// The download options every run gets, small so that the suite stays fast.
#[derive(Debug, Clone, Copy)]
struct Download {
    timeout: u64,
    retries: u32,
    max_backoff: u64,
}

const FAST: Download = Download {
    timeout: 2,
    retries: 2,
    max_backoff: 1,
};

impl Download {
    fn args(self) -> Vec<String> {
        vec![
            "--timeout".into(),
            self.timeout.to_string(),
            "--retries".into(),
            self.retries.to_string(),
            "--max-backoff".into(),
            self.max_backoff.to_string(),
        ]
    }
}

#[derive(Debug, PartialEq, Eq)]
struct UrlRow {
    state: String,
    error: Option<String>,
    reason: Option<String>,
    sha256: Option<String>,
    attempts: i64,
}

#[derive(Debug)]
struct FetchRow {
    final_url: Option<String>,
    http_status: Option<i64>,
    content_type: Option<String>,
    bytes: Option<i64>,
    sha256: Option<String>,
    error: Option<String>,
    etag: Option<String>,
    last_modified: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
struct ImageRow {
    sha256: String,
    bytes: i64,
    media_type: String,
    width: Option<i64>,
    height: Option<i64>,
    path: String,
    urls: i64,
}

impl Sandbox {
    /// Writes `bytes` at `rel` (folders created) and returns the full path as text.
    fn write_text(&self, rel: &str, bytes: impl AsRef<[u8]>) -> String {
        self.write(rel, bytes).to_str().unwrap().to_string()
    }

    /// `slidearchive <command> <download options> <args>`
    fn run_with(&self, command: &str, download: Download, args: &[&str]) -> Run {
        Run::of(self.cmd().arg(command).args(download.args()).args(args))
    }

    fn import(&self, args: &[&str]) -> Run {
        self.run_with("import", FAST, args)
    }

    fn fetch(&self, args: &[&str]) -> Run {
        self.run_with("fetch", FAST, args)
    }

    fn url(&self, url: &str) -> UrlRow {
        self.db()
            .query_row(
                "SELECT state, error, reason, sha256, attempts FROM urls WHERE url = ?1",
                [url],
                |r| {
                    Ok(UrlRow {
                        state: r.get(0)?,
                        error: r.get(1)?,
                        reason: r.get(2)?,
                        sha256: r.get(3)?,
                        attempts: r.get(4)?,
                    })
                },
            )
            .optional()
            .unwrap()
            .unwrap_or_else(|| panic!("no url row for {url}"))
    }

    /// The URL's state and error, for short assertions.
    fn state(&self, url: &str) -> (String, Option<String>) {
        let row = self.url(url);
        (row.state, row.error)
    }

    fn fetches(&self, url: &str) -> Vec<FetchRow> {
        let db = self.db();
        let mut stmt = db
            .prepare(
                "SELECT final_url, http_status, content_type, bytes, sha256, error, etag,
                        last_modified
                 FROM fetches WHERE url = ?1 ORDER BY id",
            )
            .unwrap();
        stmt.query_map([url], |r| {
            Ok(FetchRow {
                final_url: r.get(0)?,
                http_status: r.get(1)?,
                content_type: r.get(2)?,
                bytes: r.get(3)?,
                sha256: r.get(4)?,
                error: r.get(5)?,
                etag: r.get(6)?,
                last_modified: r.get(7)?,
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    }

    fn image(&self, sha256: &str) -> Option<ImageRow> {
        self.db()
            .query_row(
                "SELECT sha256, bytes, media_type, width, height, path, urls
                 FROM images WHERE sha256 = ?1",
                [sha256],
                |r| {
                    Ok(ImageRow {
                        sha256: r.get(0)?,
                        bytes: r.get(1)?,
                        media_type: r.get(2)?,
                        width: r.get(3)?,
                        height: r.get(4)?,
                        path: r.get(5)?,
                        urls: r.get(6)?,
                    })
                },
            )
            .optional()
            .unwrap()
    }

    /// (sha256, path) of every slide whose URL is `written` in its post, in slide order.
    fn slides_of(&self, written: &str) -> Vec<(Option<String>, Option<String>)> {
        let db = self.db();
        let mut stmt = db
            .prepare("SELECT sha256, path FROM slides WHERE url = ?1 ORDER BY post_id, position")
            .unwrap();
        stmt.query_map([written], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// Every file in the store, outside `images/tmp`, relative to the archive.
    fn store_files(&self) -> Vec<String> {
        fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    if path.file_name() != Some("tmp".as_ref()) {
                        walk(&path, base, out);
                    }
                } else {
                    let rel = path.strip_prefix(base).unwrap();
                    out.push(rel.to_str().unwrap().to_string());
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.archive().join("images"), &self.archive(), &mut out);
        out.sort();
        out
    }

    /// Files left in `images/tmp` (unfinished downloads).
    fn temp_files(&self) -> Vec<PathBuf> {
        match std::fs::read_dir(self.archive().join("images/tmp")) {
            Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Nothing in the store, no image rows, no temporary files.
    fn assert_nothing_stored(&self) {
        assert_eq!(self.store_files(), Vec::<String>::new(), "store files");
        assert_eq!(self.temp_files(), Vec::<PathBuf>::new(), "temporary files");
        assert_eq!(self.count("SELECT count(*) FROM image"), 0, "image rows");
    }

    fn read(&self, rel_to_archive: &str) -> Vec<u8> {
        std::fs::read(self.archive().join(rel_to_archive))
            .unwrap_or_else(|e| panic!("{rel_to_archive}: {e}"))
    }
}

impl Run {
    /// The last line of stderr: the download summary.
    fn summary(&self) -> &str {
        self.stderr.lines().last().unwrap_or_default()
    }

    fn expect_summary(&self, expected: &str) -> &Run {
        assert_eq!(self.summary(), expected, "stderr:\n{}", self.stderr);
        self
    }

    /// Asserts exactly one stderr line `slidearchive: URL: reason`, giving `reason`.
    fn failure_line(&self, url: &str, reason: &str) -> &Run {
        let prefix = format!("slidearchive: {url}: ");
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| l.starts_with(&prefix))
            .collect();
        assert_eq!(
            lines.len(),
            1,
            "expected one line starting {prefix:?}; stderr:\n{}",
            self.stderr
        );
        assert!(
            lines[0].contains(reason),
            "the line about {url} should say {reason:?}: {:?}",
            lines[0]
        );
        self
    }

    /// No line reports a failed URL or input.
    fn no_failure_lines(&self) -> &Run {
        assert!(
            !self.stderr.lines().any(|l| l.starts_with("slidearchive: ")),
            "stderr:\n{}",
            self.stderr
        );
        self
    }
}

fn store_path(sha256: &str, ext: &str) -> String {
    format!("images/{}/{sha256}.{ext}", &sha256[..2])
}

// ---------------------------------------------------------------------------------------
// Success

#[test]
fn a_downloaded_image_is_stored_under_its_sha256_with_its_size_type_and_provenance() {
    let server = Server::start();
    let sb = Sandbox::new();
    let (png_bytes, jpeg_bytes, gif_bytes) = (png(3, 2, 1), jpeg(640, 480), gif(5, 7));
    server.serve("/s/one.png", Reply::png(png_bytes.clone()));
    // The type comes from the bytes, not from what the server claims.
    server.serve(
        "/s/two.jpg",
        Reply::ok(jpeg_bytes.clone(), "application/octet-stream"),
    );
    server.serve("/s/three", Reply::ok(gif_bytes.clone(), "text/html"));
    let urls = [
        server.url("/s/one.png"),
        server.url("/s/two.jpg"),
        server.url("/s/three"),
    ];
    let post = sb.write_text(
        "posts/recap.md",
        post_of(&urls.iter().map(String::as_str).collect::<Vec<_>>()),
    );

    let run = sb.import(&[&post]);
    run.ok()
        .no_failure_lines()
        .expect_summary("3 slides, 3 URLs: 3 stored, 0 failed");

    let expected = [
        (&urls[0], &png_bytes, "image/png", "png", 3, 2, "image/png"),
        (
            &urls[1],
            &jpeg_bytes,
            "image/jpeg",
            "jpg",
            640,
            480,
            "application/octet-stream",
        ),
        (&urls[2], &gif_bytes, "image/gif", "gif", 5, 7, "text/html"),
    ];
    let mut files = Vec::new();
    for (url, bytes, media_type, ext, width, height, served_as) in expected {
        let sha = sha256_hex(bytes);
        let path = store_path(&sha, ext);
        assert_eq!(
            sb.image(&sha),
            Some(ImageRow {
                sha256: sha.clone(),
                bytes: bytes.len() as i64,
                media_type: media_type.into(),
                width: Some(width),
                height: Some(height),
                path: path.clone(),
                urls: 1,
            }),
            "{url}"
        );
        assert_eq!(&sb.read(&path), bytes, "the stored file is what was served");
        assert_eq!(
            sb.slides_of(url),
            [(Some(sha.clone()), Some(path.clone()))],
            "slides view of {url}"
        );
        assert_eq!(
            sb.url(url),
            UrlRow {
                state: "stored".into(),
                error: None,
                reason: None,
                sha256: Some(sha.clone()),
                attempts: 1,
            }
        );
        let fetches = sb.fetches(url);
        assert_eq!(fetches.len(), 1, "{fetches:?}");
        let f = &fetches[0];
        assert_eq!(f.http_status, Some(200));
        assert_eq!(f.final_url.as_deref(), Some(url.as_str()));
        assert_eq!(f.content_type.as_deref(), Some(served_as));
        assert_eq!(f.bytes, Some(bytes.len() as i64));
        assert_eq!(f.sha256.as_deref(), Some(sha.as_str()));
        assert_eq!(f.error, None);
        files.push(path);
    }
    files.sort();
    assert_eq!(
        sb.store_files(),
        files,
        "exactly the three images are stored"
    );
    assert_eq!(sb.temp_files(), Vec::<PathBuf>::new());
    for path in ["/s/one.png", "/s/two.jpg", "/s/three"] {
        assert_eq!(server.count(path), 1, "{path}");
    }
}

#[test]
fn a_large_image_is_streamed_and_hashed_whole() {
    let server = Server::start();
    let sb = Sandbox::new();
    let image = png_with_padding(64, 48, 7, 3 << 20);
    server.serve("/large.png", Reply::png(image.clone()));
    let url = server.url("/large.png");
    let post = sb.write_text("large.md", post_of(&[&url]));
    sb.import(&[&post]).ok();
    let sha = sha256_hex(&image);
    let row = sb
        .image(&sha)
        .expect("stored under the hash of all its bytes");
    assert_eq!(row.bytes, image.len() as i64);
    assert_eq!((row.width, row.height), (Some(64), Some(48)));
    assert!(sb.read(&row.path) == image, "the stored file differs");
}

#[test]
fn reimporting_an_unchanged_post_fetches_its_pending_images() {
    let server = Server::start();
    let sb = Sandbox::new();
    server.serve("/later.png", Reply::png(png(1, 1, 44)));
    let url = server.url("/later.png");
    let post = sb.write_text("p.md", post_of(&[&url]));
    sb.import(&["--no-fetch", &post]).ok();
    assert_eq!(server.total(), 0);
    sb.import(&[&post])
        .ok()
        .expect_summary("1 slide, 1 URL: 1 stored, 0 failed");
    assert_eq!(server.count("/later.png"), 1);
    assert_eq!(sb.state(&url).0, "stored");
}

#[test]
fn the_user_agent_names_the_tool() {
    let server = Server::start();
    let sb = Sandbox::new();
    server.serve("/ua.png", Reply::png(png(1, 1, 2)));
    let post = sb.write_text("ua.md", post_of(&[&server.url("/ua.png")]));
    sb.import(&[&post]).ok();
    let hits = server.hits("/ua.png");
    assert_eq!(hits.len(), 1);
    let agent = hits[0].header("user-agent").unwrap_or_default();
    assert!(
        agent.starts_with("slidearchive/"),
        "the User-Agent's product token names the tool: {agent:?}"
    );
}

#[test]
fn a_url_used_by_many_slides_across_posts_is_requested_once() {
    let server = Server::start();
    let sb = Sandbox::new();
    let image = png(4, 4, 3);
    server.serve("/same.png", Reply::png(image.clone()));
    server.serve("/other.png", Reply::png(png(4, 4, 4)));
    let same = server.url("/same.png");
    let other = server.url("/other.png");
    let a = sb.write_text("posts/a.md", post_of(&vec![same.as_str(); 100]));
    let mut b_urls = vec![same.as_str(); 20];
    b_urls.push(&other);
    let b = sb.write_text("posts/b.md", post_of(&b_urls));

    sb.import(&[&a, &b])
        .ok()
        .expect_summary("121 slides, 2 URLs: 2 stored, 0 failed");
    assert_eq!(server.count("/same.png"), 1, "one request for 120 slides");
    assert_eq!(server.count("/other.png"), 1);
    let sha = sha256_hex(&image);
    let slides = sb.slides_of(&same);
    assert_eq!(slides.len(), 120);
    let path = store_path(&sha, "png");
    assert!(
        slides
            .iter()
            .all(|s| *s == (Some(sha.clone()), Some(path.clone()))),
        "every slide has the image: {slides:?}"
    );
    assert_eq!(sb.image(&sha).unwrap().urls, 1);
    assert_eq!(sb.fetches(&same).len(), 1);

    // A later post using the stored URL does not ask for it again.
    let c = sb.write_text("posts/c.md", post_of(&[&same, &same]));
    sb.import(&[&c]).ok();
    assert_eq!(
        server.count("/same.png"),
        1,
        "a stored URL is not requested again"
    );
    assert_eq!(sb.slides_of(&same).len(), 122);
    assert!(
        sb.slides_of(&same)
            .iter()
            .all(|s| s.0.as_deref() == Some(sha.as_str()))
    );
}

#[test]
fn two_urls_serving_the_same_bytes_share_one_file() {
    let server = Server::start();
    let sb = Sandbox::new();
    let image = png(2, 2, 5);
    let sha = sha256_hex(&image);
    for path in ["/x.png", "/mirror/y.png", "/z.png"] {
        server.serve(path, Reply::png(image.clone()));
    }
    let (x, y, z) = (
        server.url("/x.png"),
        server.url("/mirror/y.png"),
        server.url("/z.png"),
    );
    let post = sb.write_text("dup.md", post_of(&[&x, &y]));
    sb.import(&[&post])
        .ok()
        .expect_summary("2 slides, 2 URLs: 2 stored (1 shared content with another URL), 0 failed");
    assert_eq!(sb.store_files(), [store_path(&sha, "png")]);
    assert_eq!(sb.url(&x).sha256.as_deref(), Some(sha.as_str()));
    assert_eq!(sb.url(&y).sha256.as_deref(), Some(sha.as_str()));
    assert_eq!(sb.state(&x).0, "stored");
    assert_eq!(sb.state(&y).0, "stored");
    assert_eq!(sb.count("SELECT count(*) FROM image"), 1);
    assert_eq!(sb.image(&sha).unwrap().urls, 2);

    // In a later run too.
    let later = sb.write_text("later.md", post_of(&[&z]));
    sb.import(&[&later])
        .ok()
        .expect_summary("1 slide, 1 URL: 1 stored (1 shared content with another URL), 0 failed");
    assert_eq!(sb.store_files(), [store_path(&sha, "png")]);
    assert_eq!(sb.image(&sha).unwrap().urls, 3);
    assert_eq!(sb.temp_files(), Vec::<PathBuf>::new());
}

#[test]
fn a_redirect_is_followed_and_the_final_url_is_logged() {
    let server = Server::start();
    let sb = Sandbox::new();
    let image = png(2, 3, 6);
    server.serve("/moved.png", Reply::redirect("/real/place.png"));
    server.serve("/real/place.png", Reply::png(image.clone()));
    let moved = server.url("/moved.png");
    let post = sb.write_text("r.md", post_of(&[&moved]));
    sb.import(&[&post]).ok();
    assert_eq!(sb.url(&moved).sha256, Some(sha256_hex(&image)));
    let fetches = sb.fetches(&moved);
    assert_eq!(fetches.len(), 1);
    assert_eq!(
        fetches[0].final_url.as_deref(),
        Some(server.url("/real/place.png").as_str())
    );
    assert_eq!(fetches[0].http_status, Some(200));
}

#[test]
fn relative_images_of_a_post_imported_from_a_url_come_from_its_server() {
    let server = Server::start();
    let sb = Sandbox::new();
    let (a, b) = (png(1, 2, 7), png(2, 1, 8));
    server.serve(
        "/blog/recap.md",
        Reply::ok(
            post_of(&["img/a.png", "/static/b.png"]).into_bytes(),
            "text/markdown",
        ),
    );
    server.serve("/blog/img/a.png", Reply::png(a.clone()));
    server.serve("/static/b.png", Reply::png(b.clone()));
    sb.import(&[&server.url("/blog/recap.md")])
        .ok()
        .expect_summary("2 slides, 2 URLs: 2 stored, 0 failed");
    assert_eq!(
        sb.slides_of("img/a.png"),
        [(
            Some(sha256_hex(&a)),
            Some(store_path(&sha256_hex(&a), "png"))
        )]
    );
    assert_eq!(
        sb.url(&server.url("/static/b.png")).sha256,
        Some(sha256_hex(&b))
    );
}

// ---------------------------------------------------------------------------------------
// HTTP failures and retries

#[test]
fn a_404_fails_that_url_only_and_every_post_is_still_imported() {
    let server = Server::start();
    let sb = Sandbox::new();
    for (path, seed) in [("/ok1.png", 10), ("/ok2.png", 11), ("/ok3.png", 12)] {
        server.serve(path, Reply::png(png(1, 1, seed)));
    }
    let missing = server.url("/gone.png");
    let a = sb.write_text(
        "posts/a.md",
        post_of(&[&server.url("/ok1.png"), &missing, &server.url("/ok2.png")]),
    );
    let b = sb.write_text("posts/b.md", post_of(&[&server.url("/ok3.png")]));

    let run = sb.import(&[&a, &b]);
    run.expect_code(1)
        .failure_line(&missing, "404")
        .expect_summary("4 slides, 4 URLs: 3 stored, 1 failed; run 'slidearchive fetch' to retry");
    assert!(run.stdout().contains("imported a:"), "{}", run.stdout());
    assert!(run.stdout().contains("imported b:"), "{}", run.stdout());
    assert_eq!(sb.count("SELECT count(*) FROM posts"), 2);
    assert_eq!(sb.count("SELECT slides FROM posts WHERE slug = 'a'"), 3);

    let row = sb.url(&missing);
    assert_eq!(row.state, "failed");
    assert_eq!(row.error.as_deref(), Some("http_status"));
    assert!(row.reason.as_deref().unwrap().contains("404"), "{row:?}");
    assert_eq!(sb.slides_of(&missing), [(None, None)]);
    let fetches = sb.fetches(&missing);
    assert_eq!(fetches.len(), 1);
    assert_eq!(fetches[0].http_status, Some(404));
    assert_eq!(fetches[0].error.as_deref(), Some("http_status"));
    assert_eq!(server.count("/gone.png"), 1, "a 404 is not retried");
    for path in ["/ok1.png", "/ok2.png", "/ok3.png"] {
        assert_eq!(sb.state(&server.url(path)), ("stored".into(), None));
    }
    assert_eq!(sb.count("SELECT count(*) FROM image"), 3);
}

#[test]
fn a_500_is_retried_and_then_stored() {
    let server = Server::start();
    let sb = Sandbox::new();
    let image = png(2, 2, 13);
    server.serve_in_turn(
        "/flaky.png",
        vec![Reply::status(500), Reply::png(image.clone())],
    );
    let url = server.url("/flaky.png");
    let post = sb.write_text("p.md", post_of(&[&url]));
    sb.import(&[&post]).ok().no_failure_lines();
    assert_eq!(server.count("/flaky.png"), 2, "one retry");
    let row = sb.url(&url);
    assert_eq!(row.state, "stored");
    assert_eq!(row.sha256, Some(sha256_hex(&image)));
    let fetches = sb.fetches(&url);
    assert_eq!(fetches.len(), 1, "the retries of one run are one attempt");
    assert_eq!(fetches[0].http_status, Some(200));
}

#[test]
fn a_5xx_that_persists_fails_once_the_retries_are_spent() {
    let server = Server::start();
    let sb = Sandbox::new();
    server.serve("/down.png", Reply::status(503));
    let url = server.url("/down.png");
    let post = sb.write_text("p.md", post_of(&[&url]));
    sb.import(&[&post]).expect_code(1).failure_line(&url, "503");
    assert_eq!(
        server.count("/down.png"),
        3,
        "the first request and 2 retries"
    );
    assert_eq!(
        sb.state(&url),
        ("failed".into(), Some("http_status".into()))
    );
    assert_eq!(sb.fetches(&url)[0].http_status, Some(503));
}

#[test]
fn a_429_waits_for_retry_after_then_stores() {
    let server = Server::start();
    let sb = Sandbox::new();
    let image = png(1, 3, 14);
    server.serve_in_turn(
        "/busy.png",
        vec![
            Reply::status(429).header("retry-after", "1"),
            Reply::png(image.clone()),
        ],
    );
    let url = server.url("/busy.png");
    let post = sb.write_text("p.md", post_of(&[&url]));
    sb.run_with(
        "import",
        Download {
            max_backoff: 5,
            ..FAST
        },
        &[&post],
    )
    .ok();
    let hits = server.hits("/busy.png");
    assert_eq!(hits.len(), 2);
    let waited = hits[1].at - hits[0].at;
    assert!(
        waited >= Duration::from_millis(900),
        "Retry-After: 1 honoured, waited {waited:?}"
    );
    assert_eq!(sb.url(&url).sha256, Some(sha256_hex(&image)));
}

#[test]
fn retry_after_is_capped_by_max_backoff() {
    let server = Server::start();
    let sb = Sandbox::new();
    server.serve_in_turn(
        "/slow-down.png",
        vec![
            Reply::status(429).header("retry-after", "60"),
            Reply::png(png(1, 1, 15)),
        ],
    );
    let url = server.url("/slow-down.png");
    let post = sb.write_text("p.md", post_of(&[&url]));
    let run = sb.import(&[&post]);
    run.ok();
    let hits = server.hits("/slow-down.png");
    assert_eq!(hits.len(), 2);
    let waited = hits[1].at - hits[0].at;
    assert!(
        waited < Duration::from_secs(5),
        "--max-backoff 1 caps Retry-After: 60, waited {waited:?}"
    );
    assert!(run.elapsed < Duration::from_secs(10), "{:?}", run.elapsed);
    assert_eq!(sb.state(&url).0, "stored");
}

#[test]
fn a_truncated_body_is_a_connection_error_and_leaves_nothing() {
    let server = Server::start();
    let sb = Sandbox::new();
    let mut body = png(1, 1, 16);
    body.resize(100, 0);
    server.fault(
        "/cut.png",
        Fault::Send {
            head: "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 10000\r\n\
                   Connection: close\r\n\r\n"
                .into(),
            body,
            stall: None,
        },
    );
    let url = server.raw_url("/cut.png");
    let post = sb.write_text("p.md", post_of(&[&url]));
    sb.run_with("import", Download { retries: 1, ..FAST }, &[&post])
        .expect_code(1)
        .failure_line(&url, "10000");
    let row = sb.url(&url);
    assert_eq!(row.state, "failed");
    assert_eq!(row.error.as_deref(), Some("connection_error"));
    assert_eq!(server.count("/cut.png"), 2, "a broken-off body is retried");
    sb.assert_nothing_stored();
}

#[test]
fn a_connection_reset_or_closed_without_a_response_is_a_connection_error() {
    let server = Server::start();
    let sb = Sandbox::new();
    server.fault("/reset.png", Fault::Reset);
    server.fault("/hangup.png", Fault::Close);
    let (reset, hangup) = (server.raw_url("/reset.png"), server.raw_url("/hangup.png"));
    // A port nobody listens on.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/refused.png", listener.local_addr().unwrap())
    };
    let post = sb.write_text("p.md", post_of(&[&reset, &hangup, &closed]));
    sb.run_with("import", Download { retries: 1, ..FAST }, &[&post])
        .expect_code(1)
        .failure_line(&reset, "connection")
        .failure_line(&hangup, "connection")
        .failure_line(&closed, "connection")
        .expect_summary("3 slides, 3 URLs: 0 stored, 3 failed; run 'slidearchive fetch' to retry");
    assert_eq!(
        sb.state(&closed),
        ("failed".into(), Some("connection_error".into()))
    );
    for (url, path) in [(&reset, "/reset.png"), (&hangup, "/hangup.png")] {
        assert_eq!(
            sb.state(url),
            ("failed".into(), Some("connection_error".into()))
        );
        assert_eq!(server.count(path), 2, "{path} is retried once");
    }
    sb.assert_nothing_stored();
}

#[test]
fn an_html_page_served_with_200_as_png_is_not_an_image() {
    let server = Server::start();
    let sb = Sandbox::new();
    let short = b"<!DOCTYPE html><html><body>Please log in</body></html>".to_vec();
    let mut long =
        b"<!DOCTYPE html>\n<html><head><title>Hotlinking denied</title></head><body>".to_vec();
    long.extend(std::iter::repeat_n(b'x', 5000));
    long.extend_from_slice(b"</body></html>");
    server.serve("/login.png", Reply::png(short));
    server.serve("/denied.png", Reply::png(long));
    server.serve("/empty.png", Reply::png(Vec::new()));
    let (login, denied, empty) = (
        server.url("/login.png"),
        server.url("/denied.png"),
        server.url("/empty.png"),
    );
    let post = sb.write_text("p.md", post_of(&[&login, &denied, &empty]));
    sb.import(&[&post])
        .expect_code(1)
        .failure_line(&login, "HTML")
        .failure_line(&denied, "HTML")
        .failure_line(&empty, "empty");
    for (url, path) in [
        (&login, "/login.png"),
        (&denied, "/denied.png"),
        (&empty, "/empty.png"),
    ] {
        assert_eq!(
            sb.state(url),
            ("failed".into(), Some("not_an_image".into()))
        );
        assert_eq!(server.count(path), 1, "not retried");
        let fetches = sb.fetches(url);
        assert_eq!(fetches[0].http_status, Some(200));
        assert_eq!(fetches[0].content_type.as_deref(), Some("image/png"));
    }
    sb.assert_nothing_stored();
}

#[test]
fn a_body_over_the_size_cap_is_too_large_and_nothing_is_kept() {
    let server = Server::start();
    let sb = Sandbox::new();
    let close_delimited = |body: Vec<u8>| Fault::Send {
        head: "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nConnection: close\r\n\r\n".into(),
        body,
        stall: None,
    };
    server.serve("/big-with-length.png", Reply::png(png_of_size(5000, 1)));
    server.fault("/big-no-length.png", close_delimited(png_of_size(5000, 2)));
    server.fault("/endless.png", Fault::Endless);
    let too_big = [
        server.url("/big-with-length.png"),
        server.raw_url("/big-no-length.png"),
        server.raw_url("/endless.png"),
    ];
    let post = sb.write_text(
        "big.md",
        post_of(&too_big.iter().map(String::as_str).collect::<Vec<_>>()),
    );
    let run = sb.run_with("import", FAST, &["--max-image-bytes", "1000", &post]);
    run.expect_code(1);
    for url in &too_big {
        run.failure_line(url, "1000");
        assert_eq!(sb.state(url), ("failed".into(), Some("too_large".into())));
    }
    for path in ["/big-with-length.png", "/big-no-length.png", "/endless.png"] {
        assert_eq!(server.count(path), 1, "{path}: too large is not retried");
    }
    assert!(
        server.streamed() < 32 << 20,
        "the endless body was read on past the cap: {} bytes sent",
        server.streamed()
    );
    sb.assert_nothing_stored();

    // Exactly at the cap is accepted, with or without a length.
    let at_cap = png_of_size(1000, 3);
    let at_cap_no_length = png_of_size(1000, 4);
    server.serve("/at-cap.png", Reply::png(at_cap.clone()));
    server.fault(
        "/at-cap-no-length.png",
        close_delimited(at_cap_no_length.clone()),
    );
    let fits = sb.write_text(
        "fits.md",
        post_of(&[
            &server.url("/at-cap.png"),
            &server.raw_url("/at-cap-no-length.png"),
        ]),
    );
    sb.run_with("import", FAST, &["--max-image-bytes", "1000", &fits])
        .ok();
    assert_eq!(
        sb.url(&server.url("/at-cap.png")).sha256,
        Some(sha256_hex(&at_cap))
    );
    assert_eq!(
        sb.url(&server.raw_url("/at-cap-no-length.png")).sha256,
        Some(sha256_hex(&at_cap_no_length))
    );
    assert_eq!(sb.temp_files(), Vec::<PathBuf>::new());
}

#[test]
fn a_redirect_loop_fails_with_too_many_redirects() {
    let server = Server::start();
    let sb = Sandbox::new();
    server.serve("/a", Reply::redirect("/b"));
    server.serve("/b", Reply::redirect("/a"));
    let url = server.url("/a");
    let post = sb.write_text("loop.md", post_of(&[&url]));
    sb.import(&[&post])
        .expect_code(1)
        .failure_line(&url, "redirect");
    assert_eq!(
        sb.state(&url),
        ("failed".into(), Some("too_many_redirects".into()))
    );
    let requests = server.count("/a") + server.count("/b");
    assert!(
        (2..=12).contains(&requests),
        "the loop is followed a bounded number of times and not retried: {requests}"
    );
    sb.assert_nothing_stored();
}

#[test]
fn a_stalled_server_times_out_quickly() {
    let server = Server::start();
    let sb = Sandbox::new();
    let mut first_bytes = png(1, 1, 17);
    first_bytes.truncate(40);
    server.fault(
        "/stall-body.png",
        Fault::Send {
            head: "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 5000\r\n\r\n"
                .into(),
            body: first_bytes,
            stall: Some(Duration::from_secs(60)),
        },
    );
    server.fault(
        "/stall-head.png",
        Fault::Send {
            head: String::new(),
            body: Vec::new(),
            stall: Some(Duration::from_secs(60)),
        },
    );
    let (body, head) = (
        server.raw_url("/stall-body.png"),
        server.raw_url("/stall-head.png"),
    );
    let post = sb.write_text("stall.md", post_of(&[&body, &head]));
    let run = sb.run_with(
        "import",
        Download {
            timeout: 1,
            retries: 1,
            max_backoff: 1,
        },
        &[&post],
    );
    run.expect_code(1);
    assert!(
        run.elapsed < Duration::from_secs(10),
        "the run took {:?}",
        run.elapsed
    );
    for (url, path) in [(&body, "/stall-body.png"), (&head, "/stall-head.png")] {
        assert_eq!(sb.state(url), ("failed".into(), Some("timed_out".into())));
        assert_eq!(server.count(path), 2, "{path}: a timeout is retried");
    }
    sb.assert_nothing_stored();
}

// ---------------------------------------------------------------------------------------
// Local images (page bundles)

#[cfg(unix)]
#[test]
fn a_page_bundle_stores_its_images_and_refuses_paths_that_leave_its_folder() {
    use std::os::unix::fs::symlink;
    let sb = Sandbox::new();
    let (one, two, spaced) = (png(2, 2, 20), png(3, 3, 21), png(1, 4, 22));
    let (secret, outside) = (png(5, 5, 23), png(6, 6, 24));
    sb.write("bundle/slide-1.png", &one);
    sb.write("bundle/sub/slide-2.png", &two);
    sb.write("bundle/img/a b.png", &spaced);
    let secret_path = sb.write_text("secret.png", &secret);
    sb.write("outside.png", &outside);
    let root = sb.root();
    symlink("../outside.png", root.join("bundle/link.png")).unwrap();
    symlink("..", root.join("bundle/up")).unwrap();
    symlink("slide-1.png", root.join("bundle/inner-link.png")).unwrap();
    let index = sb.write_text(
        "bundle/index.md",
        post_of(&[
            "slide-1.png",
            "sub/slide-2.png",
            "img/a%20b.png",
            "../secret.png",
            "/etc/passwd",
            &secret_path,
            "link.png",
            "up/outside.png",
            "inner-link.png",
        ]),
    );
    let folder = std::fs::canonicalize(root.join("bundle")).unwrap();
    let file_url = |rel: &str| format!("file://{}/{rel}", folder.display());

    let run = sb.import(&[&index]);
    run.expect_code(1)
        .failure_line(&file_url("link.png"), "outside")
        .failure_line(&file_url("up/outside.png"), "outside");

    for (written, bytes) in [
        ("slide-1.png", &one),
        ("sub/slide-2.png", &two),
        ("img/a%20b.png", &spaced),
        ("inner-link.png", &one),
    ] {
        let sha = sha256_hex(bytes);
        assert_eq!(
            sb.slides_of(written),
            [(Some(sha.clone()), Some(store_path(&sha, "png")))],
            "{written}"
        );
    }
    assert_eq!(sb.url(&file_url("slide-1.png")).state, "stored");
    assert_eq!(sb.url(&file_url("img/a b.png")).state, "stored");
    let db = sb.db();
    for written in [
        "../secret.png",
        "/etc/passwd",
        secret_path.as_str(),
        "link.png",
        "up/outside.png",
    ] {
        let (state, error, sha): (String, Option<String>, Option<String>) = db
            .query_row(
                "SELECT state, error, sha256 FROM slides WHERE url = ?1",
                [written],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(
            (state.as_str(), error.as_deref(), sha),
            ("failed", Some("refused_local_path"), None),
            "{written}"
        );
    }
    for bytes in [&secret, &outside] {
        assert_eq!(
            sb.image(&sha256_hex(bytes)),
            None,
            "an outside file was stored"
        );
        assert_eq!(
            sb.count(&format!(
                "SELECT count(*) FROM fetches WHERE sha256 = '{}'",
                sha256_hex(bytes)
            )),
            0
        );
    }
    assert_eq!(sb.count("SELECT count(*) FROM image"), 3);
    assert_eq!(sb.temp_files(), Vec::<PathBuf>::new());

    // Refused paths are never retried.
    let again = sb.fetch(&[]);
    again.ok();
    assert!(
        again.stderr.contains("no missing images to fetch"),
        "{}",
        again.stderr
    );
}

#[cfg(unix)]
#[test]
fn refused_local_paths_are_reported_on_stderr_and_in_the_exit_status() {
    let sb = Sandbox::new();
    sb.write("bundle/ok.png", png(1, 1, 25));
    sb.write("secret.png", png(1, 1, 26));
    let index = sb.write_text(
        "bundle/index.md",
        post_of(&["ok.png", "../secret.png", "/etc/passwd"]),
    );
    let folder = std::fs::canonicalize(sb.root().join("bundle")).unwrap();
    let run = sb.import(&[&index]);
    // Two of the post's three images were refused: the user must be told which, and the
    // run must not look like a full success.
    run.expect_code(1)
        .failure_line("/etc/passwd", "absolute")
        .failure_line(
            &format!("file://{}/../secret.png", folder.display()),
            "leaves",
        );
    assert!(
        run.summary().contains("2 failed"),
        "the summary counts refused paths: {}",
        run.stderr
    );
}

#[test]
fn local_images_that_are_missing_not_images_or_too_large_fail_with_their_reason() {
    let sb = Sandbox::new();
    sb.write("bundle/notes.png", "just some text, not an image\n");
    sb.write("bundle/ok.gif", gif(2, 2));
    sb.write("bundle/big.png", png_of_size(5000, 5));
    let index = sb.write_text(
        "bundle/index.md",
        post_of(&["missing.png", "notes.png", "ok.gif", "big.png"]),
    );
    let folder = std::fs::canonicalize(sb.root().join("bundle")).unwrap();
    let file_url = |rel: &str| format!("file://{}/{rel}", folder.display());
    sb.run_with("import", FAST, &["--max-image-bytes", "1000", &index])
        .expect_code(1)
        .failure_line(&file_url("missing.png"), "missing.png")
        .failure_line(&file_url("notes.png"), "not a known image type")
        .failure_line(&file_url("big.png"), "1000")
        .expect_summary("4 slides, 4 URLs: 1 stored, 3 failed; run 'slidearchive fetch' to retry");
    assert_eq!(
        sb.state(&file_url("big.png")),
        ("failed".into(), Some("too_large".into()))
    );
    assert_eq!(
        sb.state(&file_url("missing.png")),
        ("failed".into(), Some("not_found".into()))
    );
    assert_eq!(
        sb.state(&file_url("notes.png")),
        ("failed".into(), Some("not_an_image".into()))
    );
    let gif_sha = sha256_hex(&gif(2, 2));
    assert_eq!(sb.url(&file_url("ok.gif")).sha256, Some(gif_sha.clone()));
    assert_eq!(sb.store_files(), [store_path(&gif_sha, "gif")]);
    assert_eq!(sb.temp_files(), Vec::<PathBuf>::new());
}

// ---------------------------------------------------------------------------------------
// slidearchive fetch

#[test]
fn fetch_failed_only_retries_what_failed_and_says_when_nothing_is_missing() {
    let server = Server::start();
    let sb = Sandbox::new();
    let (good, later) = (png(2, 1, 30), png(1, 2, 31));
    server.serve("/good.png", Reply::png(good));
    server.serve("/later.png", Reply::status(503));
    let url = server.url("/later.png");
    let post = sb.write_text("p.md", post_of(&[&server.url("/good.png"), &url]));
    sb.run_with("import", Download { retries: 0, ..FAST }, &[&post])
        .expect_code(1)
        .failure_line(&url, "503");
    assert_eq!(server.count("/later.png"), 1, "--retries 0: one request");
    assert_eq!(
        sb.state(&url),
        ("failed".into(), Some("http_status".into()))
    );

    server.serve("/later.png", Reply::png(later.clone()));
    sb.fetch(&["--failed-only"])
        .ok()
        .no_failure_lines()
        .expect_summary("1 slide, 1 URL: 1 stored, 0 failed");
    assert_eq!(server.count("/later.png"), 2);
    assert_eq!(
        server.count("/good.png"),
        1,
        "a stored URL is not fetched again"
    );
    let row = sb.url(&url);
    assert_eq!(row.state, "stored");
    assert_eq!(row.error, None);
    assert_eq!(row.reason, None);
    assert_eq!(row.sha256, Some(sha256_hex(&later)));
    assert_eq!(row.attempts, 2);
    let fetches = sb.fetches(&url);
    assert_eq!(
        fetches.iter().map(|f| f.http_status).collect::<Vec<_>>(),
        [Some(503), Some(200)]
    );

    let total = server.total();
    let nothing = sb.fetch(&[]);
    nothing.ok();
    assert!(
        nothing.stderr.contains("no missing images to fetch"),
        "{}",
        nothing.stderr
    );
    assert_eq!(server.total(), total, "nothing requested");
}

#[test]
fn fetch_post_takes_only_that_posts_urls() {
    let server = Server::start();
    let sb = Sandbox::new();
    server.serve("/a.png", Reply::status(503));
    server.serve("/b.png", Reply::status(503));
    let (a_url, b_url) = (server.url("/a.png"), server.url("/b.png"));
    let a = sb.write_text("posts/alpha.md", post_of(&[&a_url]));
    let b = sb.write_text("posts/beta.md", post_of(&[&b_url]));
    sb.run_with("import", Download { retries: 0, ..FAST }, &[&a, &b])
        .expect_code(1);
    server.serve("/a.png", Reply::png(png(1, 1, 32)));
    server.serve("/b.png", Reply::png(png(1, 1, 33)));
    sb.fetch(&["--post", "alpha"]).ok();
    assert_eq!(server.count("/a.png"), 2);
    assert_eq!(
        server.count("/b.png"),
        1,
        "the other post's URL is left alone"
    );
    assert_eq!(sb.state(&a_url).0, "stored");
    assert_eq!(sb.state(&b_url).0, "failed");
}

#[test]
fn fetch_refresh_revalidates_and_keeps_a_changed_version_beside_the_old() {
    let server = Server::start();
    let sb = Sandbox::new();
    let versions = Arc::new(Mutex::new((1, png(2, 2, 40))));
    let old = png(2, 2, 40);
    let new = png(4, 3, 41);
    let last_modified = "Wed, 21 Oct 2015 07:28:00 GMT";
    {
        let versions = versions.clone();
        server.handle("/live.png", move |hit, _| {
            let (version, bytes) = versions.lock().unwrap().clone();
            let etag = format!("\"v{version}\"");
            if hit.header("if-none-match") == Some(etag.as_str()) {
                Reply::not_modified().header("etag", &etag)
            } else {
                Reply::png(bytes)
                    .header("etag", &etag)
                    .header("last-modified", last_modified)
            }
        });
    }
    let url = server.url("/live.png");
    let post = sb.write_text("p.md", post_of(&[&url]));
    sb.import(&[&post]).ok();
    let (old_sha, new_sha) = (sha256_hex(&old), sha256_hex(&new));
    assert_eq!(sb.url(&url).sha256, Some(old_sha.clone()));
    assert_eq!(server.hits("/live.png")[0].header("if-none-match"), None);
    let first = &sb.fetches(&url)[0];
    assert_eq!(first.etag.as_deref(), Some("\"v1\""));
    assert_eq!(first.last_modified.as_deref(), Some(last_modified));

    // Unchanged: a conditional request, answered 304.
    sb.fetch(&["--refresh"]).ok().expect_summary(
        "1 URL: 1 unchanged, 0 changed (new version kept beside the old), 0 failed",
    );
    let hits = server.hits("/live.png");
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[1].header("if-none-match"), Some("\"v1\""));
    assert_eq!(hits[1].header("if-modified-since"), Some(last_modified));
    let row = sb.url(&url);
    assert_eq!(row.state, "stored");
    assert_eq!(row.sha256, Some(old_sha.clone()));
    let fetches = sb.fetches(&url);
    assert_eq!(fetches.len(), 2);
    assert_eq!(fetches[1].http_status, Some(304));
    assert_eq!(sb.count("SELECT count(*) FROM image"), 1);

    // Changed: the new version is stored and the old one kept.
    *versions.lock().unwrap() = (2, new.clone());
    sb.fetch(&["--refresh"]).ok().expect_summary(
        "1 URL: 0 unchanged, 1 changed (new version kept beside the old), 0 failed",
    );
    assert_eq!(server.count("/live.png"), 3);
    let row = sb.url(&url);
    assert_eq!(row.state, "stored");
    assert_eq!(row.sha256, Some(new_sha.clone()));
    assert_eq!(
        sb.slides_of(&url),
        [(Some(new_sha.clone()), Some(store_path(&new_sha, "png")))]
    );
    let fetches = sb.fetches(&url);
    assert_eq!(fetches.len(), 3);
    assert_eq!(fetches[2].http_status, Some(200));
    assert_eq!(fetches[2].sha256, Some(new_sha.clone()));
    assert_eq!(fetches[2].etag.as_deref(), Some("\"v2\""));
    assert!(
        sb.image(&old_sha).is_some(),
        "the old version's row is kept"
    );
    let new_row = sb.image(&new_sha).expect("the new version's row");
    assert_eq!((new_row.width, new_row.height), (Some(4), Some(3)));
    assert_eq!(sb.read(&store_path(&old_sha, "png")), old);
    assert_eq!(sb.read(&store_path(&new_sha, "png")), new);
    assert_eq!(sb.store_files().len(), 2);
    // The slides now show the new version: use counts moved with them.
    let counts = |bytes: &[u8]| {
        sb.count(&format!(
            "SELECT slides FROM image WHERE sha256 = '{}'",
            sha256_hex(bytes)
        ))
    };
    assert_eq!((counts(&old), counts(&new)), (0, 1));
}

#[test]
fn a_failed_refresh_keeps_the_stored_version() {
    let server = Server::start();
    let sb = Sandbox::new();
    let image = png(2, 5, 42);
    server.serve_in_turn(
        "/was-here.png",
        vec![Reply::png(image.clone()), Reply::status(404)],
    );
    let url = server.url("/was-here.png");
    let post = sb.write_text("p.md", post_of(&[&url]));
    sb.import(&[&post]).ok();
    sb.fetch(&["--refresh"])
        .expect_code(1)
        .failure_line(&url, "404")
        .expect_summary(
            "1 URL: 0 unchanged, 0 changed (new version kept beside the old), 1 failed; \
             run 'slidearchive fetch' to retry",
        );
    let sha = sha256_hex(&image);
    let row = sb.url(&url);
    assert_eq!(row.state, "stored", "{row:?}");
    assert_eq!(row.sha256, Some(sha.clone()));
    assert_eq!(row.error, None);
    assert_eq!(sb.read(&store_path(&sha, "png")), image);
    let fetches = sb.fetches(&url);
    assert_eq!(fetches.len(), 2);
    assert_eq!(fetches[1].http_status, Some(404));
    assert_eq!(fetches[1].error.as_deref(), Some("http_status"));
}

#[test]
fn fetch_downloads_what_import_no_fetch_left_pending() {
    let server = Server::start();
    let sb = Sandbox::new();
    let image = png(1, 1, 43);
    server.serve("/p.png", Reply::png(image.clone()));
    let url = server.url("/p.png");
    let post = sb.write_text("p.md", post_of(&[&url, &url]));
    let run = sb.import(&["--no-fetch", &post]);
    run.ok();
    assert_eq!(server.total(), 0, "--no-fetch requested something");
    assert_eq!(sb.state(&url), ("pending".into(), None));
    assert_eq!(sb.slides_of(&url), [(None, None), (None, None)]);

    let failed_only = sb.fetch(&["--failed-only"]);
    failed_only.ok();
    assert!(
        failed_only.stderr.contains("no missing images to fetch"),
        "{}",
        failed_only.stderr
    );
    assert_eq!(server.total(), 0, "--failed-only takes failed URLs only");

    sb.fetch(&[])
        .ok()
        .expect_summary("2 slides, 1 URL: 1 stored, 0 failed");
    assert_eq!(server.count("/p.png"), 1);
    assert_eq!(sb.url(&url).sha256, Some(sha256_hex(&image)));
}

// ---------------------------------------------------------------------------------------
// Options

#[test]
fn a_header_scoped_to_the_host_is_sent_there_and_nowhere_else() {
    let server = Server::start();
    let sb = Sandbox::new();
    let image = png(3, 1, 50);
    let referer = "https://blog.example/";
    {
        let image = image.clone();
        server.handle("/hotlink.png", move |hit, _| {
            if hit.header("referer") == Some(referer) {
                Reply::png(image.clone())
            } else {
                Reply::status(403)
            }
        });
    }
    let url = server.url("/hotlink.png");
    let post = sb.write_text("p.md", post_of(&[&url]));

    // Scoped to another host: not sent, so the host refuses.
    sb.import(&[
        "--header",
        &format!("img.example.net=Referer: {referer}"),
        "--header",
        "X-Everywhere: yes",
        &post,
    ])
    .expect_code(1)
    .failure_line(&url, "403");
    let hits = server.hits("/hotlink.png");
    assert_eq!(hits.len(), 1, "a 403 is not retried");
    assert_eq!(hits[0].header("referer"), None);
    assert_eq!(hits[0].header("x-everywhere"), Some("yes"));
    assert_eq!(
        sb.state(&url),
        ("failed".into(), Some("http_status".into()))
    );

    // Scoped to this host: sent, stored.
    sb.fetch(&["--header", &format!("127.0.0.1=Referer: {referer}")])
        .ok();
    let hits = server.hits("/hotlink.png");
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[1].header("referer"), Some(referer));
    assert_eq!(hits[1].header("x-everywhere"), None);
    assert_eq!(sb.url(&url).sha256, Some(sha256_hex(&image)));
}

#[test]
fn a_scoped_header_is_not_carried_to_another_host_by_a_redirect() {
    let server = Server::start();
    let sb = Sandbox::new();
    let image = png(2, 2, 51);
    // The same server under another host name.
    let cdn = format!("http://localhost:{}/cdn/x.png", server.port);
    server.serve("/hop.png", Reply::redirect(&cdn));
    server.serve("/cdn/x.png", Reply::png(image.clone()));
    let url = server.url("/hop.png");
    let post = sb.write_text("p.md", post_of(&[&url]));
    sb.import(&[
        "--header",
        "127.0.0.1=X-Blog-Token: for-the-blog-host-only",
        &post,
    ])
    .ok();
    assert_eq!(sb.url(&url).sha256, Some(sha256_hex(&image)));
    let first = server.hits("/hop.png");
    assert_eq!(
        first[0].header("x-blog-token"),
        Some("for-the-blog-host-only")
    );
    let redirected = server.hits("/cdn/x.png");
    assert_eq!(redirected.len(), 1);
    assert_eq!(
        redirected[0].header("host"),
        Some(format!("localhost:{}", server.port).as_str())
    );
    assert_eq!(
        redirected[0].header("x-blog-token"),
        None,
        "a header scoped to 127.0.0.1 went to localhost"
    );
}

#[test]
fn a_header_scoped_to_the_host_a_redirect_leads_to_is_sent_there() {
    let server = Server::start();
    let sb = Sandbox::new();
    let image = png(2, 2, 52);
    let referer = "https://blog.example/";
    // The blog links an address on 127.0.0.1 that redirects to the image host,
    // "localhost", which blocks hotlinking.
    let target = format!("http://localhost:{}/blocking/x.png", server.port);
    server.serve("/short-link.png", Reply::redirect(&target));
    {
        let image = image.clone();
        server.handle("/blocking/x.png", move |hit, _| {
            if hit.header("referer") == Some(referer) {
                Reply::png(image.clone())
            } else {
                Reply::status(403)
            }
        });
    }
    let url = server.url("/short-link.png");
    let post = sb.write_text("p.md", post_of(&[&url]));
    let run = sb.import(&["--header", &format!("localhost=Referer: {referer}"), &post]);
    let hits = server.hits("/blocking/x.png");
    assert_eq!(hits.len(), 1);
    assert_eq!(
        hits[0].header("referer"),
        Some(referer),
        "the header scoped to localhost was not sent to localhost; stderr:\n{}",
        run.stderr
    );
    run.ok();
    assert_eq!(sb.url(&url).sha256, Some(sha256_hex(&image)));
}

#[test]
fn downloads_run_in_parallel_within_the_per_host_cap() {
    let server = Server::start();
    let delay = Duration::from_millis(300);
    let urls: Vec<String> = (0..6)
        .map(|i| {
            let path = format!("/par/{i}.png");
            server.serve(&path, Reply::png(png(1, 1, 60 + i)).delayed(delay));
            server.url(&path)
        })
        .collect();
    let urls: Vec<&str> = urls.iter().map(String::as_str).collect();

    for (options, expected) in [
        (["--jobs", "8", "--per-host", "3"], 3),
        (["--jobs", "2", "--per-host", "16"], 2),
        (["--jobs", "8", "--per-host", "1"], 1),
    ] {
        let sb = Sandbox::new();
        let post = sb.write_text("p.md", post_of(&urls));
        server.reset_max_in_flight();
        let mut args = options.to_vec();
        args.push(&post);
        let run = sb.import(&args);
        run.ok();
        assert_eq!(
            server.max_in_flight(),
            expected,
            "{options:?}: requests at once"
        );
        let rounds = 6u32.div_ceil(expected as u32);
        assert!(
            run.elapsed >= delay * rounds,
            "{options:?}: took {:?}",
            run.elapsed
        );
    }
}

#[test]
fn per_host_delay_spaces_requests_to_one_host() {
    let server = Server::start();
    let sb = Sandbox::new();
    let urls: Vec<String> = (0..3)
        .map(|i| {
            let path = format!("/spaced/{i}.png");
            server.serve(&path, Reply::png(png(1, 1, 70 + i)));
            server.url(&path)
        })
        .collect();
    let post = sb.write_text(
        "p.md",
        post_of(&urls.iter().map(String::as_str).collect::<Vec<_>>()),
    );
    sb.import(&["--per-host-delay", "400", &post]).ok();
    let mut times: Vec<Instant> = (0..3)
        .map(|i| server.hits(&format!("/spaced/{i}.png"))[0].at)
        .collect();
    times.sort();
    for pair in times.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= Duration::from_millis(300),
            "requests to one host {gap:?} apart"
        );
    }
}

#[test]
fn import_dry_run_writes_nothing_and_requests_nothing() {
    let server = Server::start();
    let sb = Sandbox::new();
    server.serve("/d1.png", Reply::png(png(1, 1, 80)));
    server.serve("/d2.png", Reply::png(png(1, 1, 81)));
    let (d1, d2) = (server.url("/d1.png"), server.url("/d2.png"));
    let post = sb.write_text("dry.md", post_of(&[&d1, &d2, &d1]));

    let run = sb.import(&["--dry-run", &post]);
    run.ok();
    assert!(!sb.archive().exists(), "the archive folder was created");
    assert_eq!(server.total(), 0, "the server was asked");
    assert!(
        run.stdout().contains("would be imported dry"),
        "{}",
        run.stdout()
    );
    assert!(
        run.stderr.contains("would fetch 2 image URLs"),
        "{}",
        run.stderr
    );

    // On an existing archive: stored URLs are not counted, and nothing changes.
    sb.import(&[&post]).ok();
    let requests = server.total();
    let db_before = std::fs::read(sb.archive().join("archive.db")).unwrap();
    let next = sb.write_text("next.md", post_of(&[&d1, &server.url("/d3.png")]));
    let run = sb.import(&["--dry-run", &next]);
    run.ok();
    assert!(
        run.stderr.contains("would fetch 1 image URL"),
        "{}",
        run.stderr
    );
    assert_eq!(server.total(), requests);
    assert_eq!(
        std::fs::read(sb.archive().join("archive.db")).unwrap(),
        db_before
    );
    assert_eq!(sb.count("SELECT count(*) FROM posts"), 1);
}

#[test]
fn report_lists_posts_and_urls_with_their_reasons() {
    let server = Server::start();
    let sb = Sandbox::new();
    let image = png(2, 2, 90);
    server.serve("/fine.png", Reply::png(image.clone()));
    server.serve("/copy.png", Reply::png(image.clone()));
    let (fine, copy, gone) = (
        server.url("/fine.png"),
        server.url("/copy.png"),
        server.url("/gone.png"),
    );
    let good = sb.write_text("good.md", post_of(&[&fine, &copy, &gone]));
    let bad = sb.write_text("bad.md", b"## A\n\nnot \xff UTF-8\n");
    let report = sb.root().join("report.json");

    sb.import(&["--report", report.to_str().unwrap(), &good, &bad])
        .expect_code(1);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).expect("report written")).unwrap();
    let posts = json["posts"].as_array().expect("posts array");
    assert_eq!(posts.len(), 2, "{json:#}");
    let post = |input: &str| {
        posts
            .iter()
            .find(|p| p["input"] == input)
            .unwrap_or_else(|| panic!("no post {input} in {json:#}"))
    };
    assert_eq!(post(&good)["status"], "new");
    assert_eq!(post(&good)["slug"], "good");
    assert_eq!(post(&bad)["status"], "failed");
    assert!(
        post(&bad)["reason"].as_str().unwrap().contains("UTF-8"),
        "{json:#}"
    );

    let urls = json["urls"].as_array().expect("urls array");
    assert_eq!(urls.len(), 3, "{json:#}");
    let url = |u: &str| {
        urls.iter()
            .find(|x| x["url"] == u)
            .unwrap_or_else(|| panic!("no url {u} in {json:#}"))
    };
    let sha = sha256_hex(&image);
    let statuses = [url(&fine)["status"].clone(), url(&copy)["status"].clone()];
    assert!(
        statuses.contains(&"stored".into()) && statuses.contains(&"shared".into()),
        "{json:#}"
    );
    assert_eq!(url(&fine)["sha256"], sha.as_str());
    assert_eq!(url(&copy)["sha256"], sha.as_str());
    assert_eq!(url(&gone)["status"], "failed");
    assert_eq!(url(&gone)["error"], "http_status");
    assert!(
        url(&gone)["reason"].as_str().unwrap().contains("404"),
        "{json:#}"
    );

    // fetch --report: no posts, the URLs it tried.
    let again = sb.root().join("again.json");
    sb.fetch(&["--report", again.to_str().unwrap()])
        .expect_code(1);
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&again).unwrap()).unwrap();
    assert_eq!(json["posts"], serde_json::json!([]));
    let urls = json["urls"].as_array().unwrap();
    assert_eq!(urls.len(), 1, "{json:#}");
    assert_eq!(urls[0]["url"], gone.as_str());
    assert_eq!(urls[0]["error"], "http_status");
}
