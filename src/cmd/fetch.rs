//! `slidearchive fetch`, and the download step `import` shares with it: plan, download
//! with a progress bar, record each result, summarize.

use super::report::{Report, UrlReport};
use super::{Exit, plural};
use crate::archive::{Archive, Recorded, Which};
use crate::cli::{DownloadArgs, FetchArgs};
use crate::error::Result;
use crate::fetch::{FetchOptions, fetch_all};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

pub fn run(archive: &mut Archive, args: FetchArgs) -> Result<Exit> {
    let post = args
        .post
        .as_deref()
        .map(|key| archive.find_post(key))
        .transpose()?;
    let which = if args.refresh {
        Which::Stored { post }
    } else {
        Which::Missing {
            failed_only: args.failed_only,
            post,
        }
    };
    let downloads = download(archive, &which, &fetch_options(&args.download))?;
    archive.optimize();
    if let Some(path) = &args.report {
        Report {
            posts: Vec::new(),
            urls: downloads.urls.clone(),
        }
        .write(path)?;
    }
    Ok(if downloads.failed > 0 {
        Exit::SomeFailed
    } else {
        Exit::Success
    })
}

pub fn fetch_options(args: &DownloadArgs) -> FetchOptions {
    FetchOptions {
        jobs: args.jobs as usize,
        per_host: args.per_host as usize,
        max_bytes: args.max_image_bytes,
        timeout: Duration::from_secs(args.timeout),
        retries: args.retries,
        per_host_delay: Duration::from_millis(args.per_host_delay),
        max_redirects: 10,
        headers: args.headers.clone(),
        max_backoff: Duration::from_secs(args.max_backoff),
    }
}

/// What one download step did.
#[derive(Debug, Default)]
pub struct Downloads {
    pub failed: usize,
    pub urls: Vec<UrlReport>,
}

/// Downloads the planned URLs, records each result as it arrives, and prints failures
/// and one summary line.
pub fn download(archive: &mut Archive, which: &Which, options: &FetchOptions) -> Result<Downloads> {
    let jobs = archive.fetch_plan(which)?;
    let refresh = matches!(which, Which::Stored { .. });
    // Addresses refused at import (a path leaving the post's folder, a data: URL) are
    // never fetched, but the user hears about them with the rest.
    let refused = match which {
        Which::PendingOf(ids) => archive.refused_of(ids)?,
        _ => Vec::new(),
    };
    let mut downloads = Downloads::default();
    for (_, url, error, reason) in &refused {
        eprintln!("slidearchive: {url}: {reason}");
        downloads.failed += 1;
        downloads.urls.push(UrlReport::refused(url, error, reason));
    }
    if jobs.is_empty() && refused.is_empty() {
        let what = if refresh { "stored" } else { "missing" };
        eprintln!("no {what} images to fetch");
        return Ok(downloads);
    }
    let url_ids: Vec<i64> = jobs
        .iter()
        .map(|j| j.url_id)
        .chain(refused.iter().map(|r| r.0))
        .collect();
    let slides = archive.slides_using(&url_ids)?;
    let total = url_ids.len();

    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(total as u64);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {pos}/{len} images {wide_bar} {eta} {msg}")
                .expect("a valid template"),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    } else {
        ProgressBar::hidden()
    };

    let store = archive.store();
    let (mut new, mut shared, mut unchanged) = (0, 0, 0);
    let mut record_error = None;
    fetch_all(jobs, &store, options, |fetched| {
        bar.inc(1);
        let recorded = match archive.record_fetch(&fetched) {
            Ok(recorded) => recorded,
            Err(e) => {
                record_error.get_or_insert(e);
                return;
            }
        };
        match recorded {
            Recorded::StoredNew => new += 1,
            Recorded::StoredShared => shared += 1,
            Recorded::Unchanged => unchanged += 1,
            Recorded::Failed => downloads.failed += 1,
        }
        if let Err(failure) = &fetched.result {
            bar.suspend(|| eprintln!("slidearchive: {}: {}", fetched.url, failure.reason));
        }
        downloads
            .urls
            .push(UrlReport::from_fetched(&fetched, recorded));
    });
    bar.finish_and_clear();
    if let Some(e) = record_error {
        return Err(e);
    }

    let failed = downloads.failed;
    let mut line = if refresh {
        format!(
            "{}: {unchanged} unchanged, {} changed (new version kept beside the old), {failed} failed",
            plural(total, "URL"),
            new + shared
        )
    } else {
        let shared_note = if shared > 0 {
            format!(" ({shared} shared content with another URL)")
        } else {
            String::new()
        };
        format!(
            "{}, {}: {} stored{shared_note}, {failed} failed",
            plural(slides as usize, "slide"),
            plural(total, "URL"),
            new + shared + unchanged
        )
    };
    if failed > 0 {
        line.push_str("; run 'slidearchive fetch' to retry");
    }
    eprintln!("{line}");
    Ok(downloads)
}
