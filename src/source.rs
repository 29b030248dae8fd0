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

/// Where a slide's image is to be read from, resolved against its post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An http(s) URL: absolute, or relative to a post imported from a URL.
    Web(String),
    /// A file inside a local post's folder (a page bundle), as a `file://` URL.
    Local(String),
    /// Something that is never read; stored as a failed URL with this reason.
    Refused {
        url: String,
        error: &'static str,
        reason: String,
    },
}

impl Target {
    /// The address stored once in the `url` table.
    pub fn url(&self) -> &str {
        match self {
            Target::Web(url) | Target::Local(url) | Target::Refused { url, .. } => url,
        }
    }
}

impl Origin {
    /// Resolves an image reference as written in this post.
    pub fn resolve(&self, written: &str) -> Target {
        let written = written.trim();
        let lower = written.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return Target::Web(written.to_string());
        }
        if written.starts_with("//") {
            return Target::Web(format!("https:{written}"));
        }
        let refused = |error, reason: String| Target::Refused {
            url: written.to_string(),
            error,
            reason,
        };
        if written.is_empty() {
            return refused("unsupported", "the image has no address".into());
        }
        if let Some(scheme) = url_scheme(written) {
            return refused(
                "unsupported",
                format!(
                    "{scheme}: addresses are not fetched; only http(s) URLs and files next to the post"
                ),
            );
        }
        match self {
            Origin::Url(base) => match reqwest::Url::parse(base).and_then(|b| b.join(written)) {
                Ok(joined) => Target::Web(joined.to_string()),
                Err(e) => refused("unsupported", format!("cannot resolve against {base}: {e}")),
            },
            Origin::File(post) => {
                let relative = percent_decode(written.split(['?', '#']).next().unwrap_or(written));
                if Path::new(&relative).is_absolute() {
                    return refused(
                        "refused_local_path",
                        "absolute paths are never read; put the image next to the post and use a relative path".into(),
                    );
                }
                let folder = post.parent().unwrap_or(Path::new("/"));
                match contained(folder, Path::new(&relative)) {
                    Some(path) => Target::Local(format!("file://{}", path.display())),
                    None => Target::Refused {
                        url: format!("file://{}", folder.join(&relative).display()),
                        error: "refused_local_path",
                        reason: "the path leaves the post's folder; only images inside it are read"
                            .into(),
                    },
                }
            }
        }
    }
}

/// `scheme:` at the start of a reference (`data:`, `ftp:`, `file:`), if any.
fn url_scheme(written: &str) -> Option<&str> {
    let (scheme, _) = written.split_once(':')?;
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    // A one-letter scheme is a Windows drive (`C:`), which is an absolute path.
    (valid && scheme.len() > 1).then_some(scheme)
}

/// `folder/relative` with `.` and `..` resolved lexically, if it stays inside `folder`.
/// Symlinks are checked again when the file is read.
pub fn contained(folder: &Path, relative: &Path) -> Option<PathBuf> {
    use std::path::Component;
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for component in relative.components() {
        match component {
            Component::Normal(part) => parts.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    if parts.is_empty() {
        return None;
    }
    Some(
        parts
            .iter()
            .fold(folder.to_path_buf(), |path, part| path.join(part)),
    )
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
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
            crate::error::with_causes(&e)
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
    fn image_references_resolve_against_their_post() {
        let post = Origin::File(PathBuf::from("/blog/kubecon/index.md"));
        let web = |s: &str| Target::Web(s.to_string());
        assert_eq!(
            post.resolve("https://img.x/a.png"),
            web("https://img.x/a.png")
        );
        assert_eq!(post.resolve("//img.x/a.png"), web("https://img.x/a.png"));
        assert_eq!(
            post.resolve("slide-1.png"),
            Target::Local("file:///blog/kubecon/slide-1.png".into())
        );
        assert_eq!(
            post.resolve("./img/a%20b.png?v=1"),
            Target::Local("file:///blog/kubecon/img/a b.png".into())
        );
        assert_eq!(
            post.resolve("img/../b.png"),
            Target::Local("file:///blog/kubecon/b.png".into())
        );
        for escaping in [
            "../other/a.png",
            "/etc/passwd",
            "img/../../a.png",
            "data:image/png;base64,AAAA",
            "ftp://x/a.png",
            "",
        ] {
            assert!(
                matches!(post.resolve(escaping), Target::Refused { .. }),
                "{escaping}"
            );
        }
        let remote = Origin::Url("https://raw.x/posts/recap.md".into());
        assert_eq!(
            remote.resolve("img/a.png"),
            web("https://raw.x/posts/img/a.png")
        );
        assert_eq!(remote.resolve("/a.png"), web("https://raw.x/a.png"));
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
