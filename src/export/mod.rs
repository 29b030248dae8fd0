//! Export: a post's stored bytes back out unchanged, or its JSON document. Reads the
//! archive, never writes it.

pub mod json;
pub mod local;

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

/// What `write_files` wrote.
#[derive(Debug, Default)]
pub struct Written {
    pub files: Vec<PathBuf>,
    /// Images copied into `out/images/`.
    pub images: usize,
    /// Per post slug, the slides not fetched, which kept their URL.
    pub missing: Vec<(String, Vec<String>)>,
}

/// Writes the given posts into `out`, one file each named by slug. Names are compared
/// without case, so two posts never land on one file even on macOS or Windows. With
/// `local_images`, markdown points at copies of the stored images in `out/images/`.
pub fn write_files(
    archive: &Archive,
    ids: &[i64],
    out: &Path,
    format: Format,
    local_images: bool,
) -> Result<Written> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let mut used = HashSet::new();
    let mut written = Written::default();
    let mut copied = HashSet::new();
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
        let bytes = if local_images {
            let localized = local::localize(archive, id)?;
            for (from, relative) in &localized.images {
                if copied.insert(relative.clone()) {
                    copy_image(from, &out.join(relative))?;
                }
            }
            if !localized.missing.is_empty() {
                written.missing.push((slug.clone(), localized.missing));
            }
            localized.markdown
        } else {
            render(archive, id, format)?
        };
        std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))?;
        written.files.push(path);
    }
    written.images = copied.len();
    Ok(written)
}

/// Copies a stored image unless an identical copy is already there (same name means
/// same content, so equal size is enough).
fn copy_image(from: &Path, to: &Path) -> Result<()> {
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).ok();
    if size(to).is_some() && size(to) == size(from) {
        return Ok(());
    }
    if let Some(folder) = to.parent() {
        std::fs::create_dir_all(folder).map_err(|e| Error::io(folder, e))?;
    }
    std::fs::copy(from, to).map_err(|e| Error::io(from, e))?;
    Ok(())
}
