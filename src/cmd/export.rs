//! `slidearchive export`

use super::Exit;
use crate::archive::Archive;
use crate::cli::{ExportArgs, ExportFormat};
use crate::error::Result;
use crate::export::{Format, render, write_files};
use std::io::Write;

pub fn run(archive: &Archive, args: ExportArgs) -> Result<Exit> {
    let format = match args.format {
        ExportFormat::Markdown => Format::Markdown,
        ExportFormat::Json => Format::Json,
    };
    let ids = match &args.post {
        Some(key) => vec![archive.find_post(key)?],
        None => archive.post_ids()?,
    };
    match &args.out {
        Some(out) => {
            let written = write_files(archive, &ids, out, format)?;
            eprintln!("wrote {} files to {}", written.len(), out.display());
        }
        None => {
            let bytes = render(archive, ids[0], format)?;
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(&bytes)
                .and_then(|_| stdout.flush())
                .map_err(|e| crate::Error::io("stdout", e))?;
        }
    }
    Ok(Exit::Success)
}
