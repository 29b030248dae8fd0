//! `slidearchive import`

use super::Exit;
use super::fetch::{download, fetch_options};
use super::plural;
use super::report::{PostReport, Report};
use crate::archive::{Archive, Landed, Which};
use crate::cli::ImportArgs;
use crate::error::Result;
use crate::import::{ImportOptions, Outcome, import};
use crate::post::ParseOptions;
use std::path::Path;

pub fn run(archive_dir: &Path, args: ImportArgs) -> Result<Exit> {
    let options = ImportOptions {
        parse: ParseOptions {
            session_level: args.session_level,
        },
        dry_run: args.dry_run,
    };
    let mut archive = if !args.dry_run {
        Archive::open_or_create(archive_dir)?
    } else if archive_dir.join(crate::archive::DB_FILE).is_file() {
        Archive::open_read_only(archive_dir)?
    } else {
        Archive::scratch()?
    };
    let would = if args.dry_run { "would be " } else { "" };
    let report = import(
        &mut archive,
        &args.inputs,
        &options,
        |outcome| match outcome {
            Outcome::Imported {
                landed: Landed::Unchanged(_),
                ..
            } => {}
            Outcome::Imported {
                input,
                slug,
                landed,
                sessions,
                slides,
            } => {
                let what = if matches!(landed, Landed::New(_)) {
                    "imported"
                } else {
                    "updated"
                };
                println!("{would}{what} {slug}: {sessions} sessions, {slides} slides ({input})");
            }
            Outcome::Failed { input, reason } => eprintln!("slidearchive: {input}: {reason}"),
        },
    );
    let failed = report.failed();
    let new = report.count(|l| matches!(l, Landed::New(_)));
    let updated = report.count(|l| matches!(l, Landed::Updated(_)));
    let unchanged = report.count(|l| matches!(l, Landed::Unchanged(_)));
    let mut summary = format!(
        "{}: {new} new, {updated} updated, {unchanged} unchanged",
        plural(new + updated + unchanged, "post")
    );
    if failed > 0 {
        summary.push_str(&format!(
            "; {} failed (see above; nothing of them was written)",
            plural(failed, "input")
        ));
    }
    if args.dry_run {
        eprintln!("dry run, nothing written: {summary}");
        if !args.no_fetch {
            for url in &report.would_fetch {
                println!("would fetch {url}");
            }
            eprintln!(
                "would fetch {}",
                plural(report.would_fetch.len(), "image URL")
            );
        }
        return Ok(if failed > 0 {
            Exit::SomeFailed
        } else {
            Exit::Success
        });
    }
    eprintln!("{summary}; archive: {}", archive.dir().display());

    let mut failed_urls = 0;
    let mut urls = Vec::new();
    if !args.no_fetch {
        let ids: Vec<i64> = report
            .outcomes
            .iter()
            .filter_map(|o| match o {
                Outcome::Imported { landed, .. } => Some(landed.id()),
                Outcome::Failed { .. } => None,
            })
            .collect();
        let downloads = download(
            &mut archive,
            &Which::PendingOf(ids),
            &fetch_options(&args.download),
        )?;
        failed_urls = downloads.failed;
        urls = downloads.urls;
    }
    if let Some(path) = &args.report {
        let posts = report
            .outcomes
            .iter()
            .map(PostReport::from_outcome)
            .collect();
        Report { posts, urls }.write(path)?;
    }
    Ok(if failed > 0 || failed_urls > 0 {
        Exit::SomeFailed
    } else {
        Exit::Success
    })
}
