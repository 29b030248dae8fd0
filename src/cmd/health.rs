//! `slidearchive stats`, `dupes`, `verify`, `gc` and `remove`

use super::Exit;
use super::plural;
use crate::archive::Archive;
use crate::cli::{DupesArgs, GcArgs, ReportFormat, ShowArgs, StatsArgs};
use crate::error::Result;

pub fn stats(archive: &Archive, args: StatsArgs) -> Result<Exit> {
    let s = archive.stats()?;
    if args.format == ReportFormat::Json {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(Exit::Success);
    }
    let saved = s.bytes_referenced - s.bytes_stored;
    println!("posts      {:>10}", s.posts);
    println!("sessions   {:>10}", s.sessions);
    println!("comments   {:>10}", s.comments);
    println!("slides     {:>10}", s.slides);
    println!("links      {:>10}", s.links);
    println!(
        "image URLs {:>10}   {} stored, {} failed, {} not fetched yet",
        s.urls, s.urls_stored, s.urls_failed, s.urls_pending
    );
    println!("images     {:>10}   distinct files in the store", s.images);
    println!(
        "referenced {:>10}   bytes of images the slides show",
        human(s.bytes_referenced)
    );
    println!(
        "stored     {:>10}   bytes on disk ({} saved by storing repeats once)",
        human(s.bytes_stored),
        human(saved)
    );
    Ok(Exit::Success)
}

fn human(bytes: i64) -> String {
    let b = bytes as f64;
    if bytes < 1_000 {
        format!("{bytes} B")
    } else if bytes < 1_000_000 {
        format!("{:.1} kB", b / 1e3)
    } else if bytes < 1_000_000_000 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.2} GB", b / 1e9)
    }
}

pub fn dupes(archive: &Archive, args: DupesArgs) -> Result<Exit> {
    let dupes = archive.dupes(args.limit)?;
    if args.format == ReportFormat::Json {
        println!("{}", serde_json::to_string_pretty(&dupes)?);
        return Ok(Exit::Success);
    }
    if dupes.is_empty() {
        eprintln!("no stored image is used more than once");
    }
    for d in &dupes {
        println!(
            "{}  {}  used {} times  {}",
            &d.sha256[..12],
            human(d.bytes),
            d.uses,
            d.path
        );
        for u in &d.users {
            let session = u.session.as_deref().unwrap_or("(intro)");
            let times = if u.slides > 1 {
                format!(" ×{}", u.slides)
            } else {
                String::new()
            };
            println!("    {} › {}{times}  {}", u.post, session, u.url);
        }
    }
    Ok(Exit::Success)
}

pub fn verify(archive: &Archive) -> Result<Exit> {
    let v = archive.verify(|_| {})?;
    let sections = [
        ("missing file (the row has no file)", &v.missing),
        ("corrupt file", &v.corrupt),
        (
            "URL pointing at an image with no row",
            &v.rows_without_files,
        ),
        (
            "file with no row (run 'slidearchive gc')",
            &v.files_without_rows,
        ),
    ];
    for (what, items) in sections {
        for item in items {
            println!("{what}: {item}");
        }
    }
    for item in &v.temporary {
        println!("unfinished download (run 'slidearchive gc'): {item}");
    }
    let problems =
        v.missing.len() + v.corrupt.len() + v.rows_without_files.len() + v.files_without_rows.len();
    if v.is_ok() {
        eprintln!(
            "{} checked: all match their names and rows",
            plural(v.checked, "image")
        );
        Ok(Exit::Success)
    } else {
        eprintln!(
            "{} checked: {}",
            plural(v.checked, "image"),
            plural(problems, "problem")
        );
        Ok(Exit::SomeFailed)
    }
}

pub fn gc(archive: &mut Archive, args: GcArgs) -> Result<Exit> {
    let collected = archive.gc(args.dry_run)?;
    let verb = if args.dry_run {
        "would delete"
    } else {
        "deleted"
    };
    for path in &collected.files {
        println!(
            "{verb} {}",
            path.strip_prefix(archive.dir()).unwrap_or(path).display()
        );
    }
    let mut line = format!(
        "{verb} {} and {} ({})",
        plural(collected.rows.len(), "image row"),
        plural(collected.files.len(), "file"),
        human(collected.bytes as i64)
    );
    if collected.kept_recent > 0 {
        line.push_str(&format!(
            "; kept {} younger than an hour (a fetch may be about to record them)",
            plural(collected.kept_recent, "unreferenced file")
        ));
    }
    eprintln!("{line}");
    Ok(Exit::Success)
}

pub fn remove(archive: &mut Archive, args: ShowArgs) -> Result<Exit> {
    let id = archive.find_post(&args.post)?;
    let removed = archive.remove_post(id)?;
    eprintln!(
        "removed {} ({}, {} used by no other post); run 'slidearchive gc' to delete image files nothing uses",
        removed.slug,
        plural(removed.slides as usize, "slide"),
        plural(removed.urls as usize, "image URL")
    );
    Ok(Exit::Success)
}
