//! `slidearchive export`

use super::Exit;
use crate::archive::Archive;
use crate::cli::{ExportArgs, ExportFormat, ImageLinks};
use crate::error::{Error, Result};
use crate::export::{Format, render, write_files};
use std::io::Write;

pub fn run(archive: &Archive, args: ExportArgs) -> Result<Exit> {
    let format = match args.format {
        ExportFormat::Markdown => Format::Markdown,
        ExportFormat::Json => Format::Json,
    };
    let local_images = args.images == ImageLinks::Local;
    if local_images && format == Format::Json {
        eprintln!(
            "slidearchive: --images local rewrites markdown; the JSON export already lists each slide's stored path"
        );
        return Ok(Exit::Usage);
    }
    let ids = match &args.post {
        Some(key) => vec![archive.find_post(key)?],
        None => archive.post_ids()?,
    };
    let Some(out) = &args.out else {
        let bytes = render(archive, ids[0], format)?;
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(&bytes)
            .and_then(|_| stdout.flush())
            .map_err(|e| Error::io("stdout", e))?;
        return Ok(Exit::Success);
    };
    let written = write_files(archive, &ids, out, format, local_images)?;
    for (slug, urls) in &written.missing {
        eprintln!(
            "slidearchive: warning: {slug}: {} not fetched, kept their URLs (run 'slidearchive fetch'): {}",
            super::plural(urls.len(), "slide image"),
            urls.join(" ")
        );
    }
    let images = if local_images {
        format!(" and {}", super::plural(written.images, "image"))
    } else {
        String::new()
    };
    eprintln!(
        "wrote {}{images} to {}",
        super::plural(written.files.len(), "post"),
        out.display()
    );
    Ok(Exit::Success)
}
