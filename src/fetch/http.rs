//! One image over HTTP: the request, streaming into the store with the size cap, and the
//! retry loop (reqwest has none): exponential backoff with jitter on 5xx, 429 (honouring
//! Retry-After up to a cap), timeouts and broken connections.

use super::{
    FailKind, Failure, FetchOptions, Fetched, Got, HostGate, Job, keep, store_error, too_large,
    unix_now,
};
use crate::archive::{HEAD_BYTES, Store};
use crate::error::with_causes;
use reqwest::header::{self, HeaderMap};
use std::time::{Duration, Instant};

/// What one attempt saw besides its result.
#[derive(Default)]
struct Seen {
    final_url: Option<String>,
    http_status: Option<u16>,
    content_type: Option<String>,
    etag: Option<String>,
    last_modified: Option<String>,
}

/// A failed attempt: whether to try again, and how long the server asked us to wait.
struct AttemptError {
    failure: Failure,
    retry: bool,
    retry_after: Option<Duration>,
}

impl From<Failure> for AttemptError {
    fn from(failure: Failure) -> Self {
        AttemptError {
            failure,
            retry: false,
            retry_after: None,
        }
    }
}

pub fn client(options: &FetchOptions) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .user_agent(concat!(
            "slidearchive/",
            env!("CARGO_PKG_VERSION"),
            " (+https://github.com/slidearchive/slidearchive)"
        ))
        .connect_timeout(options.timeout)
        .read_timeout(options.timeout)
        // Redirects are followed in `send_following_redirects`, with headers per host,
        // and no automatic Referer: only what the user asked for is sent.
        .redirect(reqwest::redirect::Policy::none())
        .referer(false)
        .build()
        .map_err(|e| format!("cannot start an HTTP client: {e}"))
}

pub async fn fetch(
    client: &reqwest::Client,
    job: &Job,
    store: &Store,
    options: &FetchOptions,
    gate: &HostGate,
) -> Fetched {
    let started = unix_now();
    let clock = Instant::now();
    let mut attempt = 0;
    loop {
        let mut seen = Seen::default();
        let result = {
            let _slot = gate.slots.acquire().await;
            wait_turn(gate, options.per_host_delay).await;
            attempt_once(client, job, store, options, &mut seen).await
        };
        let result = match result {
            Err(e) if e.retry && attempt < options.retries => {
                tokio::time::sleep(backoff(
                    attempt,
                    e.retry_after,
                    options.max_backoff,
                    &job.url,
                ))
                .await;
                attempt += 1;
                continue;
            }
            Err(e) => Err(e.failure),
            Ok(got) => Ok(got),
        };
        let mut fetched = Fetched::new(job, started, clock, result);
        fetched.final_url = seen.final_url;
        fetched.http_status = seen.http_status;
        fetched.content_type = seen.content_type;
        fetched.etag = seen.etag;
        fetched.last_modified = seen.last_modified;
        return fetched;
    }
}

/// Spaces requests to one host by `delay` when asked (`--per-host-delay`).
async fn wait_turn(gate: &HostGate, delay: Duration) {
    if delay.is_zero() {
        return;
    }
    let start = {
        let mut next = gate.next_start.lock().await;
        let start = (*next).max(Instant::now());
        *next = start + delay;
        start
    };
    tokio::time::sleep_until(start.into()).await;
}

/// Exponential backoff with jitter (half fixed, half random), or the server's
/// Retry-After; both capped.
fn backoff(attempt: u32, retry_after: Option<Duration>, cap: Duration, url: &str) -> Duration {
    if let Some(wait) = retry_after {
        return wait.min(cap);
    }
    let base = Duration::from_millis(500)
        .saturating_mul(1 << attempt.min(16))
        .min(cap);
    let jitter = (jitter_seed(url, attempt) % 1000) as f64 / 1000.0;
    base.mul_f64(0.5 + 0.5 * jitter)
}

/// Cheap randomness for jitter: the clock and the URL, mixed (splitmix64).
fn jitter_seed(url: &str, attempt: u32) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() as u64);
    let mut x = url
        .bytes()
        .fold(nanos ^ attempt as u64, |h, b| h.rotate_left(5) ^ b as u64);
    x = x.wrapping_add(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d049bb133111eb);
    x ^ (x >> 31)
}

async fn attempt_once(
    client: &reqwest::Client,
    job: &Job,
    store: &Store,
    options: &FetchOptions,
    seen: &mut Seen,
) -> Result<Got, AttemptError> {
    let response = send_following_redirects(client, job, options).await?;

    let status = response.status();
    let headers = response.headers();
    seen.final_url = Some(response.url().to_string());
    seen.http_status = Some(status.as_u16());
    seen.content_type = text_header(headers, header::CONTENT_TYPE);
    seen.etag = text_header(headers, header::ETAG);
    seen.last_modified = text_header(headers, header::LAST_MODIFIED);

    if status == reqwest::StatusCode::NOT_MODIFIED {
        return Ok(Got::NotModified);
    }
    if !status.is_success() {
        let retry = status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS;
        let hint = match status.as_u16() {
            403 => {
                "; the host may block hotlinking: try --header 'HOST=Referer: https://your-blog/'"
            }
            404 | 410 => "; the image is gone from this address",
            429 => "; the host is rate-limiting: try --per-host-delay or fewer --jobs",
            _ => "",
        };
        return Err(AttemptError {
            failure: Failure {
                kind: FailKind::HttpStatus,
                reason: format!("HTTP {status}{hint}"),
            },
            retry,
            retry_after: retry_after(headers),
        });
    }
    if let Some(length) = response.content_length()
        && length > options.max_bytes
    {
        return Err(too_large(options.max_bytes).into());
    }

    let expected = response.content_length();
    let mut response = response;
    let mut incoming = store.incoming().map_err(store_error)?;
    let mut sniffed = false;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| body_error(&e, incoming.bytes(), expected))?
    {
        if incoming.bytes() + chunk.len() as u64 > options.max_bytes {
            return Err(too_large(options.max_bytes).into());
        }
        incoming.write(&chunk).map_err(store_error)?;
        // Stop early when the start already shows this is a page, not an image.
        if !sniffed && incoming.head().len() >= HEAD_BYTES.min(512) {
            sniffed = true;
            if let Err(reason) = super::sniff::sniff(incoming.head()) {
                return Err(Failure {
                    kind: FailKind::NotAnImage,
                    reason,
                }
                .into());
            }
        }
    }
    if let Some(expected) = expected
        && incoming.bytes() < expected
    {
        return Err(broken_off(incoming.bytes(), Some(expected)));
    }
    // fsync and rename block: keep them off the runtime's few worker threads.
    let store = store.clone();
    let kept = tokio::task::spawn_blocking(move || keep(incoming, &store))
        .await
        .map_err(|e| Failure {
            kind: FailKind::StoreError,
            reason: format!("storing stopped: {e}"),
        })?;
    Ok(Got::Stored(kept?))
}

/// Sends the request and follows redirects here rather than in reqwest, so that headers
/// scoped to a host go to that host only, hop by hop (a token for one host must not
/// leak to the next; a Referer meant for the host a short link leads to must reach it).
async fn send_following_redirects(
    client: &reqwest::Client,
    job: &Job,
    options: &FetchOptions,
) -> Result<reqwest::Response, AttemptError> {
    let mut url = reqwest::Url::parse(&job.url).map_err(|e| Failure {
        kind: FailKind::Unsupported,
        reason: format!("not a usable URL: {e}"),
    })?;
    for _ in 0..=options.max_redirects {
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let mut request = client.get(url.clone());
        for rule in &options.headers {
            if rule.host.as_deref().is_none_or(|h| h == host) {
                request = request.header(&rule.name, &rule.value);
            }
        }
        if let Some(etag) = &job.etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(modified) = &job.last_modified {
            request = request.header(header::IF_MODIFIED_SINCE, modified);
        }
        // A whole download may take a while, but not forever: a server dripping one
        // byte per timeout would otherwise hold a slot for good.
        let response = request
            .timeout(options.timeout * 20)
            .send()
            .await
            .map_err(|e| request_error(&e))?;
        let next = response
            .status()
            .is_redirection()
            .then(|| response.headers().get(header::LOCATION))
            .flatten()
            .and_then(|location| location.to_str().ok())
            .and_then(|location| url.join(location).ok());
        match next {
            Some(next) => url = next,
            None => return Ok(response),
        }
    }
    Err(Failure {
        kind: FailKind::TooManyRedirects,
        reason: format!(
            "more than {} redirects (a redirect loop?)",
            options.max_redirects
        ),
    }
    .into())
}

fn text_header(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// `Retry-After: 120` or `Retry-After: Fri, 27 Nov 2026 08:00:00 GMT`.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

fn request_error(e: &reqwest::Error) -> AttemptError {
    let (kind, retry, reason) = if e.is_timeout() {
        (
            FailKind::TimedOut,
            true,
            "timed out waiting for the server".to_string(),
        )
    } else if e.is_builder() {
        (
            FailKind::Unsupported,
            false,
            format!("not a usable URL: {}", with_causes(e)),
        )
    } else {
        let causes = causes(e);
        // A host name that does not resolve will not resolve a second later either.
        let retry = !causes.contains("dns error");
        (
            FailKind::ConnectionError,
            retry,
            format!("connection failed: {causes}"),
        )
    };
    AttemptError {
        failure: Failure { kind, reason },
        retry,
        retry_after: None,
    }
}

fn body_error(e: &reqwest::Error, got: u64, expected: Option<u64>) -> AttemptError {
    if e.is_timeout() {
        return AttemptError {
            failure: Failure {
                kind: FailKind::TimedOut,
                reason: format!("the server stalled after {got} bytes"),
            },
            retry: true,
            retry_after: None,
        };
    }
    broken_off(got, expected)
}

fn broken_off(got: u64, expected: Option<u64>) -> AttemptError {
    let of = expected.map(|e| format!(" of {e}")).unwrap_or_default();
    AttemptError {
        failure: Failure {
            kind: FailKind::ConnectionError,
            reason: format!("the connection broke off after {got}{of} bytes"),
        },
        retry: true,
        retry_after: None,
    }
}

/// The causes under reqwest's own "error sending request for url (...)": the URL is
/// already on the line, the cause is what the user needs.
fn causes(e: &reqwest::Error) -> String {
    use std::error::Error;
    e.source().map_or_else(|| e.to_string(), with_causes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_respects_caps() {
        let cap = Duration::from_secs(30);
        for attempt in 0..4 {
            let full = Duration::from_millis(500 * (1 << attempt));
            let wait = backoff(attempt, None, cap, "https://x/a.png");
            assert!(wait >= full / 2 && wait <= full, "{attempt}: {wait:?}");
        }
        assert!(backoff(20, None, cap, "u") <= cap);
        assert_eq!(backoff(0, Some(Duration::from_secs(300)), cap, "u"), cap);
        assert_eq!(
            backoff(0, Some(Duration::from_secs(2)), cap, "u"),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(
            header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
    }
}
