//! Offline export: each fetched slide's URL replaced by the relative path of its image,
//! exactly in its recorded byte span (nothing is re-rendered), and the images it needs
//! listed for copying next to the post.

use crate::archive::Archive;
use crate::error::Result;
use std::path::PathBuf;

/// A post rewritten to local images.
#[derive(Debug, Clone)]
pub struct Localized {
    pub markdown: Vec<u8>,
    /// Store file -> path relative to the export folder.
    pub images: Vec<(PathBuf, String)>,
    /// URLs of slides not fetched, which keep their address.
    pub missing: Vec<String>,
}

pub fn localize(archive: &Archive, id: i64) -> Result<Localized> {
    let content = archive.post_content(id)?;
    let store = archive.store();
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut images = Vec::new();
    let mut missing = Vec::new();
    for slide in archive.slide_spans(id)? {
        let image = match slide.image {
            Some(image) if slide.start < slide.end && slide.end <= content.len() => image,
            _ => {
                if !missing.contains(&slide.url) {
                    missing.push(slide.url);
                }
                continue;
            }
        };
        let relative = format!("images/{}.{}", image.sha256, image.ext);
        let bracketed = slide.start > 0 && content[slide.start - 1] == b'<';
        let written = destination(&relative, &slide.syntax, bracketed);
        // Reference images share their definition's span: rewrite it once.
        if !edits.iter().any(|(start, _, _)| *start == slide.start) {
            edits.push((slide.start, slide.end, written));
        }
        images.push((store.path_of(&image.sha256, &image.ext), relative));
    }
    edits.sort_by_key(|(start, _, _)| *start);
    let mut markdown = Vec::with_capacity(content.len());
    let mut at = 0;
    for (start, end, written) in edits {
        markdown.extend_from_slice(&content[at..start]);
        markdown.extend_from_slice(written.as_bytes());
        at = end;
    }
    markdown.extend_from_slice(&content[at..]);
    images.sort();
    images.dedup();
    Ok(Localized {
        markdown,
        images,
        missing,
    })
}

/// A path written so the syntax around it still reads it as one destination: a
/// markdown destination with spaces or parentheses goes in `<...>`; in HTML attributes
/// and shortcodes, quotes are escaped.
pub fn destination(path: &str, syntax: &str, bracketed: bool) -> String {
    match syntax {
        "html" | "shortcode" => path
            .replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('\'', "&#39;"),
        _ if bracketed => path.replace('<', "\\<").replace('>', "\\>"),
        _ => {
            let plain = !path
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '(' | ')' | '<' | '>'));
            if plain {
                path.to_string()
            } else {
                format!("<{}>", path.replace('<', "\\<").replace('>', "\\>"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::destination;
    use crate::post::{ParseOptions, parse};

    #[test]
    fn destinations_stay_one_destination_for_a_commonmark_parser() {
        for path in [
            "images/ab.png",
            "my images/a b.png",
            "img (1).png",
            "a<b>.png",
        ] {
            let written = destination(path, "inline", false);
            let src = format!("![x]({written} \"t\")");
            let post = parse(&src, ParseOptions::default()).unwrap();
            assert_eq!(post.slides.len(), 1, "{src}");
            assert_eq!(post.slides[0].url, path, "{src}");
            assert_eq!(post.slides[0].title, "t", "{src}");
        }
        assert_eq!(
            destination("a \"b\".png", "html", false),
            "a &quot;b&quot;.png"
        );
    }
}
