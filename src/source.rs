//! Where posts come from: a file, a folder walked for markdown, or an http(s) URL.
//! Turns each into bytes plus an origin, and checks the bytes are UTF-8 text.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Largest markdown source accepted; a recap post is tens of kilobytes.
const MAX_SOURCE_BYTES: u64 = 64 * 1024 * 1024;

/// One post to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    File(PathBuf),
    Url(String),
}

impl Origin {
    /// The identity stored in the archive: the canonical path, or the URL.
    pub fn key(&self) -> String {
        match self {
            Origin::File(path) => path.to_string_lossy().into_owned(),
            Origin::Url(url) => url.clone(),
        }
    }

    /// The name a post gets when it has neither a front matter slug nor a title: the
    /// file name without extension (the folder's name for a page bundle's `index.md`).
    pub fn stem(&self) -> String {
        let path = match self {
            Origin::File(path) => path.clone(),
            Origin::Url(url) => {
                let path = url.split(['?', '#']).next().unwrap_or(url);
                let path = path.split_once("://").map_or(path, |(_, rest)| rest);
                PathBuf::from(path.trim_end_matches('/'))
            }
        };
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bundle = matches!(
            stem.to_ascii_lowercase().as_str(),
            "index" | "_index" | "readme"
        );
        match path.parent().and_then(Path::file_name) {
            Some(dir) if bundle => dir.to_string_lossy().into_owned(),
            _ => stem,
        }
    }
}

/// One post named on the command line: its origin, and how to name it in messages (the
/// path as the user wrote it, or as found under the folder they gave).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub shown: String,
    pub origin: Origin,
}

/// Turns one command-line argument into the posts it names: a URL, a file, or every
/// `*.md` / `*.markdown` under a folder (hidden entries skipped, sorted by path).
pub fn expand(input: &str) -> Result<Vec<Input>> {
    if input.starts_with("http://") || input.starts_with("https://") {
        let origin = Origin::Url(input.to_string());
        return Ok(vec![Input {
            shown: input.to_string(),
            origin,
        }]);
    }
    let path = Path::new(input);
    let meta = std::fs::metadata(path).map_err(|e| Error::input(input, io_reason(&e)))?;
    if meta.is_dir() {
        let mut found = Vec::new();
        walk(path, &mut found).map_err(|e| Error::input(input, io_reason(&e)))?;
        if found.is_empty() {
            return Err(Error::input(
                input,
                "folder holds no markdown files (*.md, *.markdown); point at a post or a folder of posts",
            ));
        }
        found.sort();
        return found
            .into_iter()
            .map(|p| {
                let shown = p.display().to_string();
                Ok(Input {
                    origin: Origin::File(canonical(&p, &shown)?),
                    shown,
                })
            })
            .collect();
    }
    let origin = Origin::File(canonical(path, input)?);
    Ok(vec![Input {
        shown: input.to_string(),
        origin,
    }])
}

fn canonical(path: &Path, input: &str) -> Result<PathBuf> {
    std::fs::canonicalize(path).map_err(|e| Error::input(input, io_reason(&e)))
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let kind = entry.file_type()?;
        let path = entry.path();
        // Symlinked folders are not followed: they can loop.
        if kind.is_dir() {
            walk(&path, found)?;
        } else if is_markdown(&path) && path.is_file() {
            found.push(path);
        }
    }
    Ok(())
}

fn is_markdown(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("md") || e.eq_ignore_ascii_case("markdown"))
}

/// Reads a post's bytes. Errors are reasons, to be shown next to the input's name.
pub fn read(origin: &Origin) -> Result<Vec<u8>, String> {
    match origin {
        Origin::File(path) => {
            let len = std::fs::metadata(path).map_err(|e| io_reason(&e))?.len();
            if len > MAX_SOURCE_BYTES {
                return Err(format!(
                    "{len} bytes is too large for a markdown post (limit {MAX_SOURCE_BYTES})"
                ));
            }
            std::fs::read(path).map_err(|e| io_reason(&e))
        }
        Origin::Url(url) => download(url),
    }
}

fn download(url: &str) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let client = reqwest::blocking::Client::builder()
        .user_agent(concat!("slidearchive/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(15))
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| format!("cannot start an HTTP client: {e}"))?;
    let response = client.get(url).send().map_err(|e| {
        format!(
            "cannot download: {}; check the URL and your connection",
            error_chain(&e)
        )
    })?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!(
            "server answered HTTP {status}; check the URL (it must point at the raw markdown)"
        ));
    }
    let mut bytes = Vec::new();
    response
        .take(MAX_SOURCE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("download broke off: {e}; try again"))?;
    if bytes.len() as u64 > MAX_SOURCE_BYTES {
        return Err(format!(
            "more than {MAX_SOURCE_BYTES} bytes: too large for a markdown post"
        ));
    }
    Ok(bytes)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or folder; check the path".into(),
        std::io::ErrorKind::PermissionDenied => {
            "permission denied; check the file's permissions".into()
        }
        _ => format!("cannot read: {e}"),
    }
}

/// Checks that bytes are markdown text: no NUL bytes (a binary file) and valid UTF-8.
pub fn as_text(bytes: &[u8]) -> Result<&str, String> {
    if bytes[..bytes.len().min(8192)].contains(&0) {
        return Err("looks like a binary file (it contains NUL bytes), not markdown".into());
    }
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        format!(
            "not valid UTF-8 (line {line}, byte {at}); convert it first, e.g. iconv -f GB18030 -t UTF-8"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_name_posts_and_bundles() {
        let file = |p: &str| Origin::File(PathBuf::from(p)).stem();
        assert_eq!(file("/x/cloud-summit.md"), "cloud-summit");
        assert_eq!(file("/x/kubecon-2024/index.md"), "kubecon-2024");
        assert_eq!(
            Origin::Url("https://h/raw/post.md?x=1".into()).stem(),
            "post"
        );
    }

    #[test]
    fn text_checks_name_the_problem() {
        assert!(as_text(b"ok \xe4\xb8\xad").is_ok());
        assert!(
            as_text(b"\x89PNG\r\n\x1a\n\0\0")
                .unwrap_err()
                .contains("binary")
        );
        assert!(as_text(b"a\nb\xff").unwrap_err().contains("line 2"));
    }
}
