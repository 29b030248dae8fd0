//! The network: downloads slide images in parallel and hands each finished file (already
//! renamed into the store) back to the thread that owns the archive, over a channel.
//! Local images of page bundles come through here too, read from disk.

mod http;
mod local;
pub mod sniff;

use crate::archive::Store;
use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{Mutex, Semaphore};

/// How downloads behave; the defaults are what `slidearchive import` uses.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Downloads at once.
    pub jobs: usize,
    /// Downloads at once from one host.
    pub per_host: usize,
    /// Largest image accepted; bigger ones are stopped at this many bytes.
    pub max_bytes: u64,
    /// Connect timeout, and the longest wait for the next bytes of a response.
    pub timeout: Duration,
    /// Retries after the first attempt, for 5xx, 429, timeouts and broken connections.
    pub retries: u32,
    /// Pause between two requests to one host.
    pub per_host_delay: Duration,
    pub max_redirects: usize,
    pub headers: Vec<HeaderRule>,
    /// The longest pause between retries, also the cap on a server's Retry-After.
    pub max_backoff: Duration,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            jobs: 8,
            per_host: 16,
            max_bytes: 50 * 1024 * 1024,
            timeout: Duration::from_secs(30),
            retries: 3,
            per_host_delay: Duration::ZERO,
            max_redirects: 10,
            headers: Vec::new(),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// An extra request header, for every host or only one: `Referer: https://blog/` or
/// `img.example.net=Referer: https://blog/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderRule {
    pub host: Option<String>,
    pub name: String,
    pub value: String,
}

impl FromStr for HeaderRule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (name, value) = s
            .split_once(':')
            .ok_or_else(|| format!("'{s}' is not 'Name: value' (or 'host=Name: value')"))?;
        let (host, name) = match name.split_once('=') {
            Some((host, name)) => (Some(host.trim().to_ascii_lowercase()), name),
            None => (None, name),
        };
        let name = name.trim();
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(format!("'{name}' is not a header name"));
        }
        Ok(HeaderRule {
            host,
            name: name.to_string(),
            value: value.trim().to_string(),
        })
    }
}

/// One URL to get.
#[derive(Debug, Clone)]
pub struct Job {
    pub url_id: i64,
    pub url: String,
    pub from: JobSource,
    /// Validators of the stored version, for a conditional request (`fetch --refresh`).
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

#[derive(Debug, Clone)]
pub enum JobSource {
    Web,
    /// A file of a local post: read only if, symlinks resolved, it is inside `folder`.
    Local {
        path: PathBuf,
        folder: PathBuf,
    },
}

/// Why a URL could not be stored. The names are what the archive records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailKind {
    HttpStatus,
    NotAnImage,
    TooLarge,
    TimedOut,
    ConnectionError,
    RefusedLocalPath,
    NotFound,
    TooManyRedirects,
    Unsupported,
    StoreError,
}

impl FailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FailKind::HttpStatus => "http_status",
            FailKind::NotAnImage => "not_an_image",
            FailKind::TooLarge => "too_large",
            FailKind::TimedOut => "timed_out",
            FailKind::ConnectionError => "connection_error",
            FailKind::RefusedLocalPath => "refused_local_path",
            FailKind::NotFound => "not_found",
            FailKind::TooManyRedirects => "too_many_redirects",
            FailKind::Unsupported => "unsupported",
            FailKind::StoreError => "store_error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: FailKind,
    pub reason: String,
}

/// A stored image's facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub sha256: String,
    pub bytes: u64,
    pub media_type: &'static str,
    pub ext: &'static str,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Got {
    /// The file is in the store under its hash.
    Stored(Image),
    /// `304 Not Modified` to a conditional request: the stored version is current.
    NotModified,
}

/// The result of one URL, with what the last attempt saw.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub url_id: i64,
    pub url: String,
    /// Unix time in seconds when the first attempt started.
    pub started: u64,
    pub milliseconds: u64,
    pub result: Result<Got, Failure>,
    pub final_url: Option<String>,
    pub http_status: Option<u16>,
    pub content_type: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// Fetches every job, calling `on_done` on this thread as each finishes (in any order).
/// The downloads run on a runtime in another thread; this one only receives.
pub fn fetch_all(
    jobs: Vec<Job>,
    store: &Store,
    options: &FetchOptions,
    mut on_done: impl FnMut(Fetched),
) {
    if jobs.is_empty() {
        return;
    }
    let (sender, receiver) = std::sync::mpsc::channel();
    let store = store.clone();
    let options = options.clone();
    let runner = std::thread::spawn(move || {
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => {
                fail_all(
                    jobs,
                    &sender,
                    format!("cannot start the download runtime: {e}"),
                );
                return;
            }
        };
        runtime.block_on(run(jobs, store, options, sender));
    });
    for fetched in receiver {
        on_done(fetched);
    }
    let _ = runner.join();
}

fn fail_all(jobs: Vec<Job>, sender: &std::sync::mpsc::Sender<Fetched>, reason: String) {
    for job in jobs {
        let failure = Failure {
            kind: FailKind::ConnectionError,
            reason: reason.clone(),
        };
        let _ = sender.send(Fetched::failed(&job, unix_now(), Instant::now(), failure));
    }
}

/// Limits for one host: how many at once, and when the next request may start.
struct HostGate {
    slots: Semaphore,
    next_start: Mutex<Instant>,
}

async fn run(
    jobs: Vec<Job>,
    store: Store,
    options: FetchOptions,
    sender: std::sync::mpsc::Sender<Fetched>,
) {
    let client = match http::client(&options) {
        Ok(client) => client,
        Err(reason) => return fail_all(jobs, &sender, reason),
    };
    let mut gates: HashMap<String, Arc<HostGate>> = HashMap::new();
    for job in &jobs {
        gates.entry(host_key(&job.url)).or_insert_with(|| {
            Arc::new(HostGate {
                slots: Semaphore::new(options.per_host.max(1)),
                next_start: Mutex::new(Instant::now()),
            })
        });
    }
    let options = Arc::new(options);
    let slots = Arc::new(Semaphore::new(options.jobs.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for job in jobs {
        // Waiting for a slot before spawning keeps at most `jobs` downloads (and their
        // buffers) alive at once.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            break;
        };
        let gate = gates[&host_key(&job.url)].clone();
        let (client, store, options, sender) = (
            client.clone(),
            store.clone(),
            options.clone(),
            sender.clone(),
        );
        tasks.spawn(async move {
            let fetched = match &job.from {
                JobSource::Web => http::fetch(&client, &job, &store, &options, &gate).await,
                JobSource::Local { .. } => {
                    local::fetch(job.clone(), store, options.max_bytes).await
                }
            };
            drop(slot);
            let _ = sender.send(fetched);
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
}

fn host_key(url: &str) -> String {
    crate::archive::host_of(url).unwrap_or_default()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Fetched {
    fn failed(job: &Job, started: u64, clock: Instant, failure: Failure) -> Fetched {
        Fetched::new(job, started, clock, Err(failure))
    }

    fn new(job: &Job, started: u64, clock: Instant, result: Result<Got, Failure>) -> Fetched {
        Fetched {
            url_id: job.url_id,
            url: job.url.clone(),
            started,
            milliseconds: clock.elapsed().as_millis() as u64,
            result,
            final_url: None,
            http_status: None,
            content_type: None,
            etag: None,
            last_modified: None,
        }
    }
}

/// Width and height from the stored file's header (no decoding).
fn dimensions(path: &std::path::Path) -> (Option<u32>, Option<u32>) {
    match imagesize::size(path) {
        Ok(size) => (
            u32::try_from(size.width).ok(),
            u32::try_from(size.height).ok(),
        ),
        Err(_) => (None, None),
    }
}

/// Sniffs a finished download, renames it into the store and describes it.
fn keep(incoming: crate::archive::Incoming, store: &Store) -> Result<Image, Failure> {
    let (media_type, ext) = sniff::sniff(incoming.head()).map_err(|reason| Failure {
        kind: FailKind::NotAnImage,
        reason,
    })?;
    let kept = incoming.keep(store, ext).map_err(|e| Failure {
        kind: FailKind::StoreError,
        reason: format!("cannot write into the image store: {e}"),
    })?;
    let (width, height) = dimensions(&kept.path);
    Ok(Image {
        sha256: kept.sha256,
        bytes: kept.bytes,
        media_type,
        ext,
        width,
        height,
    })
}

fn store_error(e: std::io::Error) -> Failure {
    Failure {
        kind: FailKind::StoreError,
        reason: format!("cannot write into the image store: {e}"),
    }
}

fn too_large(max_bytes: u64) -> Failure {
    Failure {
        kind: FailKind::TooLarge,
        reason: format!(
            "larger than {max_bytes} bytes (--max-image-bytes); stopped there, nothing stored"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_rules_parse_with_and_without_a_host() {
        let all: HeaderRule = "Referer: https://blog.x/post".parse().unwrap();
        assert_eq!(
            (all.host, all.name.as_str(), all.value.as_str()),
            (None, "Referer", "https://blog.x/post")
        );
        let one: HeaderRule = "IMG.x.net=Referer: https://blog.x/".parse().unwrap();
        assert_eq!(one.host.as_deref(), Some("img.x.net"));
        assert!("no colon".parse::<HeaderRule>().is_err());
        assert!("bad name: x".parse::<HeaderRule>().is_err());
    }
}
