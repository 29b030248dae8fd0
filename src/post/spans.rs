//! Byte spans pulldown-cmark does not give: the destination inside an image or a reference
//! definition, `<img src>` attributes, Hugo `figure` shortcodes and bare URLs in text.
//! Export rewrites a slide by replacing exactly its destination span, so these must be exact.

use std::ops::Range;

/// An image found by scanning raw text (HTML or a shortcode) rather than by the parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedImage {
    /// Span of the whole tag or shortcode.
    pub span: Range<usize>,
    pub url: String,
    pub url_span: Range<usize>,
    pub alt: String,
    pub title: String,
}

/// The destination of an inline image `![alt](dest "title")`. `text_end` is where the alt
/// text's events end (or just after `![` when it has none): the first `](` from there on
/// closes the alt text. The span excludes `<` `>` around a pointy destination.
pub fn inline_destination(src: &str, range: Range<usize>, text_end: usize) -> Option<Range<usize>> {
    let bytes = src.as_bytes();
    let mut i = text_end.max(range.start + 2);
    while i + 1 < range.end {
        if bytes[i] == b']' && bytes[i + 1] == b'(' {
            return destination_at(src, i + 2, range.end);
        }
        i += 1;
    }
    None
}

/// The destination inside a reference definition `[label]: dest "title"`.
pub fn definition_destination(src: &str, span: Range<usize>) -> Option<Range<usize>> {
    let bytes = src.as_bytes();
    let mut i = span.start;
    while i < span.end && bytes[i] != b'[' {
        i += 1;
    }
    i += 1;
    while i + 1 < span.end {
        match bytes[i] {
            b'\\' => i += 2,
            b']' if bytes[i + 1] == b':' => return destination_at(src, i + 2, span.end),
            _ => i += 1,
        }
    }
    None
}

/// Parses a link destination starting at `i` (after `(` or `]:`), skipping leading spaces
/// and at most one line ending, as CommonMark allows.
fn destination_at(src: &str, mut i: usize, end: usize) -> Option<Range<usize>> {
    let bytes = src.as_bytes();
    let mut newlines = 0;
    while i < end {
        match bytes[i] {
            b' ' | b'\t' => i += 1,
            b'\n' | b'\r' if newlines == 0 => {
                newlines += 1;
                i += if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                // Continuation lines inside a block quote carry `>` markers.
                while i < end && matches!(bytes[i], b' ' | b'\t' | b'>') {
                    i += 1;
                }
            }
            _ => break,
        }
    }
    if i >= end {
        return Some(end..end);
    }
    if bytes[i] == b'<' {
        let start = i + 1;
        let mut j = start;
        while j < end {
            match bytes[j] {
                b'\\' => j += 2,
                b'>' => return Some(start..j),
                b'\n' | b'\r' => return None,
                _ => j += 1,
            }
        }
        return None;
    }
    let start = i;
    let mut depth = 0usize;
    while i < end {
        match bytes[i] {
            b'\\' if i + 1 < end && bytes[i + 1].is_ascii_punctuation() => i += 2,
            b'(' => {
                depth += 1;
                i += 1;
            }
            b')' if depth == 0 => break,
            b')' => {
                depth -= 1;
                i += 1;
            }
            b if b.is_ascii_whitespace() || b.is_ascii_control() => break,
            _ => i += 1,
        }
    }
    Some(start..i.min(end))
}

/// Every `<img ...>` tag in `text` (which starts at `offset` in the source) with a `src`.
pub fn html_images(text: &str, offset: usize) -> Vec<ScannedImage> {
    let lower = text.to_ascii_lowercase();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = lower[from..].find("<img") {
        let tag_start = from + at;
        from = tag_start + 4;
        let next = lower.as_bytes().get(from).copied().unwrap_or(b'>');
        if !(next.is_ascii_whitespace() || next == b'/' || next == b'>') {
            continue;
        }
        let tag_end = lower[from..].find('>').map_or(text.len(), |e| from + e + 1);
        let attrs = attributes(text, from, tag_end);
        if let Some(image) = image_from_attributes(&attrs, "src", offset, tag_start..tag_end) {
            found.push(image);
        }
        from = tag_end;
    }
    found
}

/// Every Hugo `{{< figure src="..." >}}` (or `{{% figure ... %}}`) in `text`.
pub fn shortcode_images(text: &str, offset: usize) -> Vec<ScannedImage> {
    shortcodes(text)
        .into_iter()
        .filter_map(|(span, name_end)| {
            let name = text[span.start + 3..name_end].trim();
            if name != "figure" {
                return None;
            }
            let attrs = attributes(text, name_end, span.end - 3);
            let mut image = image_from_attributes(&attrs, "src", offset, span.clone())?;
            if image.title.is_empty() {
                image.title = attr(&attrs, "caption")
                    .map(|a| a.value.clone())
                    .unwrap_or_default();
            }
            Some(image)
        })
        .collect()
}

/// Spans of every shortcode (`{{< name ... >}}`, `{{% name ... %}}`) in `text`, each with
/// the end of its name. Shortcodes are markup, so their text is kept out of plain text.
pub fn shortcodes(text: &str) -> Vec<(Range<usize>, usize)> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find("{{") {
        let start = from + at;
        from = start + 2;
        let Some(&kind) = bytes.get(start + 2) else {
            break;
        };
        let close = match kind {
            b'<' => ">}}",
            b'%' => "%}}",
            _ => continue,
        };
        let Some(len) = text[start + 3..].find(close) else {
            continue;
        };
        let end = start + 3 + len + 3;
        let mut name_start = start + 3;
        while name_start < end && bytes[name_start].is_ascii_whitespace() {
            name_start += 1;
        }
        let mut name_end = name_start;
        while name_end < end - 3 && !bytes[name_end].is_ascii_whitespace() {
            name_end += 1;
        }
        found.push((start..end, name_end));
        from = end;
    }
    found
}

struct Attr {
    name: String,
    value: String,
    value_span: Range<usize>,
}

fn attr<'a>(attrs: &'a [Attr], name: &str) -> Option<&'a Attr> {
    attrs.iter().find(|a| a.name == name)
}

fn image_from_attributes(
    attrs: &[Attr],
    url_key: &str,
    offset: usize,
    span: Range<usize>,
) -> Option<ScannedImage> {
    let src = attr(attrs, url_key)?;
    let text_of = |key| {
        attr(attrs, key)
            .map(|a| a.value.clone())
            .unwrap_or_default()
    };
    Some(ScannedImage {
        span: offset + span.start..offset + span.end,
        url: src.value.clone(),
        url_span: offset + src.value_span.start..offset + src.value_span.end,
        alt: text_of("alt"),
        title: text_of("title"),
    })
}

/// `name="value"`, `name='value'` and `name=value` pairs between `from` and `to`.
fn attributes(text: &str, from: usize, to: usize) -> Vec<Attr> {
    let bytes = text.as_bytes();
    let mut attrs = Vec::new();
    let mut i = from;
    while i < to {
        while i < to && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        let name_start = i;
        while i < to && !bytes[i].is_ascii_whitespace() && !matches!(bytes[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        if i == name_start {
            i += 1;
            continue;
        }
        let name = text[name_start..i].to_ascii_lowercase();
        while i < to && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= to || bytes[i] != b'=' {
            continue;
        }
        i += 1;
        while i < to && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let value_span = if i < to && (bytes[i] == b'"' || bytes[i] == b'\'') {
            let quote = bytes[i];
            let start = i + 1;
            let end = text[start..to]
                .find(quote as char)
                .map_or(to, |e| start + e);
            i = (end + 1).min(to);
            start..end
        } else {
            let start = i;
            while i < to && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                i += 1;
            }
            start..i
        };
        attrs.push(Attr {
            name,
            value: decode_entities(&text[value_span.clone()]),
            value_span,
        });
    }
    attrs
}

/// The few entities that show up in attribute values written by hand.
fn decode_entities(value: &str) -> String {
    if !value.contains('&') {
        return value.to_string();
    }
    value
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Bare `http://` and `https://` URLs written in text, outside the `excluded` spans
/// (links, images, code, HTML), found the way GitHub's autolink extension does: up to
/// whitespace or `<`, then trailing punctuation and unbalanced `)` are dropped. CJK
/// punctuation ends a URL too, since posts often write `见 https://x.io。` without a space.
pub fn bare_urls(
    text: &str,
    offset: usize,
    excluded: &[Range<usize>],
) -> Vec<(Range<usize>, String)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find("http") {
        let start = from + at;
        from = start + 4;
        let rest = &text[start..];
        if !(rest.starts_with("http://") || rest.starts_with("https://")) {
            continue;
        }
        if text[..start]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        {
            continue;
        }
        if excluded.iter().any(|r| r.contains(&(offset + start))) {
            continue;
        }
        let mut end = start
            + rest
                .char_indices()
                .find(|&(_, c)| ends_url(c))
                .map_or(rest.len(), |(i, _)| i);
        loop {
            let url = &text[start..end];
            let Some(last) = url.chars().next_back() else {
                break;
            };
            let unbalanced_paren =
                last == ')' && url.matches(')').count() > url.matches('(').count();
            if matches!(
                last,
                '.' | ',' | ':' | ';' | '!' | '?' | '\'' | '"' | '*' | '_' | '~'
            ) || unbalanced_paren
            {
                end -= last.len_utf8();
            } else {
                break;
            }
        }
        let scheme_len = if rest.starts_with("https") { 8 } else { 7 };
        if end - start > scheme_len {
            found.push((offset + start..offset + end, text[start..end].to_string()));
        }
        from = end.max(from);
    }
    found
}

fn ends_url(c: char) -> bool {
    c.is_whitespace()
        || matches!(c, '<' | '>' | '"' | '`' | '\\')
        || ('\u{3000}'..='\u{303f}').contains(&c)
        || ('\u{ff00}'..='\u{ff65}').contains(&c)
        || matches!(c, '“' | '”' | '‘' | '’' | '…')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inline(src: &str) -> &str {
        let span = inline_destination(src, 0..src.len(), 2).unwrap();
        &src[span]
    }

    #[test]
    fn inline_destinations() {
        for (src, dest) in [
            ("![](a.png)", "a.png"),
            ("![alt](https://x/a.jpg \"t\")", "https://x/a.jpg"),
            ("![a](<my file.png>)", "my file.png"),
            ("![a](x(1).png)", "x(1).png"),
            ("![a](\n  b.png 'x')", "b.png"),
            ("![a]()", ""),
            ("![a](b\\).png)", "b\\).png"),
        ] {
            assert_eq!(inline(src), dest, "{src:?}");
        }
    }

    #[test]
    fn definition_destinations() {
        let src = "[Logo\\]]: <https://x/y z.png> \"t\"\n";
        let span = definition_destination(src, 0..src.len()).unwrap();
        assert_eq!(&src[span], "https://x/y z.png");
        let src = "  [a]:\n   https://x/a.png\n";
        let span = definition_destination(src, 0..src.len()).unwrap();
        assert_eq!(&src[span], "https://x/a.png");
    }

    #[test]
    fn img_tags() {
        let src = r#"<p><IMG alt="a b" SRC='https://x/a.png?x=1&amp;y=2' title=t></p><img data-x=1 /><imgx src=y>"#;
        let found = html_images(src, 10);
        assert_eq!(found.len(), 1);
        let img = &found[0];
        assert_eq!(img.url, "https://x/a.png?x=1&y=2");
        assert_eq!(
            &src[img.url_span.start - 10..img.url_span.end - 10],
            "https://x/a.png?x=1&amp;y=2"
        );
        assert_eq!((img.alt.as_str(), img.title.as_str()), ("a b", "t"));
    }

    #[test]
    fn figure_shortcodes() {
        let src = r#"x {{< figure src="/img/a.png" alt="A" caption="Cap" >}} {{% figure src=b.png %}} {{< youtube id >}}"#;
        let found = shortcode_images(src, 0);
        assert_eq!(found.len(), 2);
        assert_eq!(
            (
                found[0].url.as_str(),
                found[0].alt.as_str(),
                found[0].title.as_str()
            ),
            ("/img/a.png", "A", "Cap")
        );
        assert_eq!(&src[found[1].url_span.clone()], "b.png");
        assert_eq!(shortcodes(src).len(), 3);
    }

    #[test]
    fn bare_url_edges() {
        let urls = |s: &str| {
            bare_urls(s, 0, &[])
                .into_iter()
                .map(|(_, u)| u)
                .collect::<Vec<_>>()
        };
        assert_eq!(urls("see https://a.io/x."), ["https://a.io/x"]);
        assert_eq!(
            urls("(https://en.wikipedia.org/wiki/A_(b))"),
            ["https://en.wikipedia.org/wiki/A_(b)"]
        );
        assert_eq!(urls("见 https://a.io/x。然后"), ["https://a.io/x"]);
        assert_eq!(
            urls("xhttps://no http:// https://a.b?q=1&r=2"),
            ["https://a.b?q=1&r=2"]
        );
        let excluded: Vec<Range<usize>> = std::iter::once(5..17).collect();
        assert!(bare_urls("https://a.io", 5, &excluded).is_empty());
    }
}
