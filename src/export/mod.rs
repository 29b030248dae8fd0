//! Export: a post's stored bytes back out unchanged, or its JSON document. Reads the
//! archive, never writes it.

pub mod json;

use crate::archive::Archive;
use crate::error::{Error, Result};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Json,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Json => "json",
        }
    }
}

/// One post in the given format: markdown is exactly the bytes that were imported.
pub fn render(archive: &Archive, id: i64, format: Format) -> Result<Vec<u8>> {
    match format {
        Format::Markdown => archive.post_content(id),
        Format::Json => {
            let post = archive.load_post(id)?;
            let mut bytes = serde_json::to_vec_pretty(&json::PostJson::from(&post))?;
            bytes.push(b'\n');
            Ok(bytes)
        }
    }
}

/// Writes the given posts into `out`, one file each named by slug. Names are compared
/// without case, so two posts never land on one file even on macOS or Windows.
pub fn write_files(
    archive: &Archive,
    ids: &[i64],
    out: &Path,
    format: Format,
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let mut used = HashSet::new();
    let mut written = Vec::with_capacity(ids.len());
    for &id in ids {
        let slug = archive.post_slug(id)?;
        let ext = format.extension();
        let mut name = format!("{slug}.{ext}");
        let mut tries = 1;
        while !used.insert(name.to_lowercase()) {
            name = match tries {
                1 => format!("{slug}-{id}.{ext}"),
                n => format!("{slug}-{id}-{n}.{ext}"),
            };
            tries += 1;
        }
        let path = out.join(name);
        let bytes = render(archive, id, format)?;
        std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))?;
        written.push(path);
    }
    Ok(written)
}
