//! Pure parsing of one post: text in, [`Post`] out, with the byte span of everything
//! export may need to slice or rewrite. No I/O, no SQL.

mod front_matter;
mod spans;

pub use front_matter::{Format, FrontMatter, Meta};

use pulldown_cmark::{CowStr, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd};
use std::ops::Range;

/// Bumped whenever parsing changes what it stores, so that re-import re-parses
/// unchanged sources instead of skipping them.
pub const PARSER_VERSION: u32 = 1;

/// Choices that change how a source is cut into sessions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// Heading level that starts a session; `None` takes the shallowest level used.
    pub session_level: Option<u8>,
}

/// One parsed post. Spans are byte offsets into the whole source, BOM included.
#[derive(Debug, Clone)]
pub struct Post {
    pub front_matter: Option<FrontMatter>,
    pub meta: Meta,
    /// Plain text of the first top-level heading: the title when front matter has none.
    pub first_heading: Option<String>,
    /// The heading level sessions were cut at, if the post has headings.
    pub session_level: Option<u8>,
    pub blocks: Vec<Block>,
    pub sessions: Vec<Session>,
    pub slides: Vec<Slide>,
    pub links: Vec<Link>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    Paragraph,
    Heading,
    Code,
    Quote,
    List,
    Table,
    Html,
    Rule,
    Footnote,
    Definition,
    Other,
}

impl BlockKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BlockKind::Paragraph => "paragraph",
            BlockKind::Heading => "heading",
            BlockKind::Code => "code",
            BlockKind::Quote => "quote",
            BlockKind::List => "list",
            BlockKind::Table => "table",
            BlockKind::Html => "html",
            BlockKind::Rule => "rule",
            BlockKind::Footnote => "footnote",
            BlockKind::Definition => "definition",
            BlockKind::Other => "other",
        }
    }
}

/// One top-level markdown block.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub kind: BlockKind,
    /// Heading level, for headings.
    pub level: Option<u8>,
    pub span: Range<usize>,
    /// Plain text: markdown syntax, image alt text, HTML and shortcodes stripped.
    pub text: String,
    /// Index into [`Post::sessions`]; `None` before the first session (the intro).
    pub session: Option<usize>,
    /// A session's commentary: any block of a session with text, other than its heading.
    pub is_comment: bool,
}

/// One talk: a heading at the session level and the blocks up to the next one.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub title: String,
    pub level: u8,
    /// Index of the heading block.
    pub block: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlideSyntax {
    /// `![alt](url "title")`
    Inline,
    /// `![alt][ref]` with `[ref]: url`
    Reference,
    /// `<img src="url">`
    Html,
    /// Hugo `{{< figure src="url" >}}`
    Shortcode,
}

impl SlideSyntax {
    pub fn as_str(self) -> &'static str {
        match self {
            SlideSyntax::Inline => "inline",
            SlideSyntax::Reference => "reference",
            SlideSyntax::Html => "html",
            SlideSyntax::Shortcode => "shortcode",
        }
    }
}

/// One image reference, in source order.
#[derive(Debug, Clone, PartialEq)]
pub struct Slide {
    pub block: usize,
    pub session: Option<usize>,
    pub url: String,
    pub alt: String,
    pub title: String,
    pub syntax: SlideSyntax,
    /// Where the image is written.
    pub span: Range<usize>,
    /// Where its URL is written (inside the reference definition for reference images);
    /// export replaces exactly these bytes.
    pub url_span: Range<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    Inline,
    Reference,
    Autolink,
    Email,
    /// A URL written as plain text.
    Bare,
}

impl LinkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Inline => "inline",
            LinkKind::Reference => "reference",
            LinkKind::Autolink => "autolink",
            LinkKind::Email => "email",
            LinkKind::Bare => "bare",
        }
    }
}

/// One link target mentioned in the text.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub block: usize,
    pub session: Option<usize>,
    pub url: String,
    pub text: String,
    pub kind: LinkKind,
    pub span: Range<usize>,
}

/// The parser and its options, in one place: tables, footnotes, strikethrough and task
/// lists as GitHub and Hugo render them. Metadata blocks stay off: front matter is found
/// by [`front_matter::find`], which only looks at the very start of the file.
fn markdown_parser(text: &str) -> Parser<'_> {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS;
    Parser::new_ext(text, options)
}

/// Parses a post. The only error is malformed front matter.
pub fn parse(source: &str, options: ParseOptions) -> Result<Post, String> {
    let start = if source.starts_with('\u{feff}') { 3 } else { 0 };
    let front_matter = front_matter::find(source, start)?;
    let body_start = front_matter.as_ref().map_or(start, |fm| fm.span.end);
    let meta = front_matter
        .as_ref()
        .map(FrontMatter::meta)
        .unwrap_or_default();

    let mut raw_blocks = walk(source, body_start);
    raw_blocks.sort_by_key(|b| b.span.start);

    let session_level = options
        .session_level
        .or_else(|| raw_blocks.iter().filter_map(|b| b.level).min());
    let first_heading = raw_blocks
        .iter()
        .find(|b| b.kind == BlockKind::Heading)
        .map(|b| b.text.clone())
        .filter(|t| !t.is_empty());

    let mut post = Post {
        front_matter,
        meta,
        first_heading,
        session_level,
        blocks: Vec::with_capacity(raw_blocks.len()),
        sessions: Vec::new(),
        slides: Vec::new(),
        links: Vec::new(),
    };
    for raw in raw_blocks {
        let index = post.blocks.len();
        let starts_session = raw.level.is_some() && raw.level == session_level;
        if starts_session {
            post.sessions.push(Session {
                title: raw.text.clone(),
                level: raw.level.unwrap_or_default(),
                block: index,
            });
        }
        let session = post.sessions.len().checked_sub(1);
        let is_comment = session.is_some() && !starts_session && !raw.text.is_empty();
        post.slides.extend(raw.slides.into_iter().map(|s| Slide {
            block: index,
            session,
            ..s
        }));
        post.links.extend(raw.links.into_iter().map(|l| Link {
            block: index,
            session,
            ..l
        }));
        post.blocks.push(Block {
            kind: raw.kind,
            level: raw.level,
            span: raw.span,
            text: raw.text,
            session,
            is_comment,
        });
    }
    Ok(post)
}

/// A top-level block as the walk finds it, before sessions are known.
struct RawBlock {
    kind: BlockKind,
    level: Option<u8>,
    span: Range<usize>,
    text: String,
    slides: Vec<Slide>,
    links: Vec<Link>,
}

/// An image or link whose end has not been seen yet.
struct Open {
    span: Range<usize>,
    url: String,
    title: String,
    link_type: LinkType,
    id: String,
    text: String,
    /// End of the last event inside it: the alt text ends here.
    text_end: usize,
}

impl Open {
    fn new(
        span: Range<usize>,
        opener: usize,
        link_type: LinkType,
        url: CowStr,
        title: CowStr,
        id: CowStr,
    ) -> Open {
        Open {
            text_end: span.start + opener,
            span,
            url: url.into_string(),
            title: title.into_string(),
            link_type,
            id: id.into_string(),
            text: String::new(),
        }
    }
}

/// What the walk gathers inside the current top-level block.
#[derive(Default)]
struct Gather {
    text: String,
    images: Vec<Open>,
    links: Vec<Open>,
    slides: Vec<Slide>,
    found_links: Vec<Link>,
    /// Code and HTML: no bare URLs or shortcodes in there.
    literal: Vec<Range<usize>>,
    html: Vec<Range<usize>>,
    /// Links and images: their URLs are not bare URLs.
    marked_up: Vec<Range<usize>>,
}

fn walk(source: &str, body_start: usize) -> Vec<RawBlock> {
    let body = &source[body_start..];
    let mut iter = markdown_parser(body).into_offset_iter();
    let mut blocks = Vec::new();
    let mut depth = 0usize;
    let mut current: Option<(BlockKind, Option<u8>, Range<usize>)> = None;
    let mut g = Gather::default();

    while let Some((event, range)) = iter.next() {
        let range = range.start + body_start..range.end + body_start;
        // An image's alt text ends where the last event inside it ends; its own end
        // event spans the whole image, so it must not count.
        if !matches!(event, Event::End(TagEnd::Image | TagEnd::Link)) {
            for open in g.images.iter_mut().chain(g.links.iter_mut()) {
                open.text_end = open.text_end.max(range.end.min(open.span.end));
            }
        }
        match event {
            Event::Start(tag) => {
                if depth == 0 {
                    let (kind, level) = block_kind(&tag);
                    current = Some((kind, level, range.clone()));
                }
                depth += 1;
                match tag {
                    // `![` opens an image's text, `[` a link's.
                    Tag::Image {
                        link_type,
                        dest_url,
                        title,
                        id,
                    } => g
                        .images
                        .push(Open::new(range, 2, link_type, dest_url, title, id)),
                    Tag::Link {
                        link_type,
                        dest_url,
                        title,
                        id,
                    } => g
                        .links
                        .push(Open::new(range, 1, link_type, dest_url, title, id)),
                    Tag::CodeBlock(_) => g.literal.push(range),
                    Tag::HtmlBlock => {
                        g.literal.push(range.clone());
                        g.html.push(range);
                    }
                    _ => {}
                }
            }
            Event::End(end) => {
                depth = depth.saturating_sub(1);
                match end {
                    TagEnd::Image => {
                        if let Some(open) = g.images.pop() {
                            let defs = iter.reference_definitions();
                            let def_span = defs
                                .get(&open.id)
                                .map(|d| d.span.start + body_start..d.span.end + body_start);
                            finish_image(source, open, def_span, &mut g);
                        }
                    }
                    TagEnd::Link => {
                        if let Some(open) = g.links.pop() {
                            finish_link(open, &mut g);
                        }
                    }
                    TagEnd::Paragraph
                    | TagEnd::Heading(_)
                    | TagEnd::Item
                    | TagEnd::CodeBlock
                    | TagEnd::TableHead
                    | TagEnd::TableRow
                    | TagEnd::FootnoteDefinition => push_break(&mut g.text),
                    TagEnd::TableCell => g.text.push(' '),
                    _ => {}
                }
                if depth == 0
                    && let Some((kind, level, span)) = current.take()
                {
                    blocks.push(finish_block(source, kind, level, span, &mut g));
                }
            }
            Event::Rule if depth == 0 => {
                blocks.push(finish_block(source, BlockKind::Rule, None, range, &mut g));
            }
            Event::Code(text) => {
                g.literal.push(range);
                push_text(&mut g, &text);
            }
            Event::Text(text) => push_text(&mut g, &text),
            Event::InlineHtml(_) => {
                g.literal.push(range.clone());
                g.html.push(range);
            }
            Event::SoftBreak | Event::HardBreak => push_text(&mut g, "\n"),
            _ => {}
        }
    }

    // Link reference definitions are blocks too, but the parser emits no event for them.
    let defs: Vec<Range<usize>> = iter
        .reference_definitions()
        .iter()
        .map(|(_, d)| d.span.start + body_start..d.span.end + body_start)
        .collect();
    for span in defs {
        if !blocks
            .iter()
            .any(|b| b.span.start <= span.start && span.end <= b.span.end)
        {
            let text = String::new();
            blocks.push(RawBlock {
                kind: BlockKind::Definition,
                level: None,
                span,
                text,
                slides: Vec::new(),
                links: Vec::new(),
            });
        }
    }
    blocks
}

fn push_text(g: &mut Gather, text: &str) {
    if let Some(image) = g.images.last_mut() {
        image.text.push_str(text);
        return;
    }
    for link in &mut g.links {
        link.text.push_str(text);
    }
    g.text.push_str(text);
}

fn push_break(text: &mut String) {
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
}

fn block_kind(tag: &Tag) -> (BlockKind, Option<u8>) {
    let kind = match tag {
        Tag::Paragraph => BlockKind::Paragraph,
        Tag::Heading { level, .. } => return (BlockKind::Heading, Some(heading_number(*level))),
        Tag::BlockQuote(_) => BlockKind::Quote,
        Tag::CodeBlock(_) => BlockKind::Code,
        Tag::HtmlBlock => BlockKind::Html,
        Tag::List(_) => BlockKind::List,
        Tag::Table(_) => BlockKind::Table,
        Tag::FootnoteDefinition(_) => BlockKind::Footnote,
        _ => BlockKind::Other,
    };
    (kind, None)
}

fn heading_number(level: HeadingLevel) -> u8 {
    level as u8
}

fn finish_image(source: &str, open: Open, def_span: Option<Range<usize>>, g: &mut Gather) {
    let (syntax, url_span) = match open.link_type {
        LinkType::Inline => (
            SlideSyntax::Inline,
            spans::inline_destination(source, open.span.clone(), open.text_end),
        ),
        _ => (
            SlideSyntax::Reference,
            def_span.and_then(|span| spans::definition_destination(source, span)),
        ),
    };
    // The parser accepted the image, so its destination is there; an empty span at the
    // image's end keeps the slide if a form we do not scan ever turns up.
    let url_span = url_span.unwrap_or(open.span.end..open.span.end);
    g.marked_up.push(open.span.clone());
    let alt = open.text.trim().to_string();
    if let Some(outer) = g.images.last_mut() {
        outer.text.push_str(&alt);
    }
    g.slides.push(Slide {
        block: 0,
        session: None,
        url: open.url,
        alt,
        title: open.title,
        syntax,
        span: open.span,
        url_span,
    });
}

fn finish_link(open: Open, g: &mut Gather) {
    let kind = match open.link_type {
        LinkType::Inline => LinkKind::Inline,
        LinkType::Autolink => LinkKind::Autolink,
        LinkType::Email => LinkKind::Email,
        _ => LinkKind::Reference,
    };
    g.marked_up.push(open.span.clone());
    g.found_links.push(Link {
        block: 0,
        session: None,
        url: open.url,
        text: open.text.trim().to_string(),
        kind,
        span: open.span,
    });
}

fn finish_block(
    source: &str,
    kind: BlockKind,
    level: Option<u8>,
    span: Range<usize>,
    g: &mut Gather,
) -> RawBlock {
    let mut gathered = std::mem::take(g);
    let block_text = &source[span.clone()];
    let in_literal = |r: &Range<usize>| {
        gathered
            .literal
            .iter()
            .any(|l| l.start <= r.start && r.end <= l.end)
    };

    for html in &gathered.html {
        let images = spans::html_images(&source[html.clone()], html.start);
        gathered.slides.extend(
            images
                .into_iter()
                .map(|i| scanned_slide(i, SlideSyntax::Html)),
        );
    }
    if kind != BlockKind::Code && kind != BlockKind::Html {
        for image in spans::shortcode_images(block_text, span.start) {
            if !in_literal(&image.span) {
                gathered.marked_up.push(image.span.clone());
                gathered
                    .slides
                    .push(scanned_slide(image, SlideSyntax::Shortcode));
            }
        }
        let mut excluded = gathered.literal.clone();
        excluded.extend(gathered.marked_up.iter().cloned());
        for (url_span, url) in spans::bare_urls(block_text, span.start, &excluded) {
            gathered.found_links.push(Link {
                block: 0,
                session: None,
                text: url.clone(),
                url,
                kind: LinkKind::Bare,
                span: url_span,
            });
        }
    }
    gathered.slides.sort_by_key(|s| s.span.start);
    gathered.found_links.sort_by_key(|l| l.span.start);
    RawBlock {
        kind,
        level,
        span,
        text: plain_text(&gathered.text),
        slides: gathered.slides,
        links: gathered.found_links,
    }
}

fn scanned_slide(image: spans::ScannedImage, syntax: SlideSyntax) -> Slide {
    Slide {
        block: 0,
        session: None,
        url: image.url,
        alt: image.alt,
        title: image.title,
        syntax,
        span: image.span,
        url_span: image.url_span,
    }
}

/// Trims lines and drops shortcodes, which are markup even though the parser sees text.
fn plain_text(text: &str) -> String {
    let mut without = String::with_capacity(text.len());
    let mut last = 0;
    for (span, _) in spans::shortcodes(text) {
        without.push_str(&text[last..span.start]);
        last = span.end;
    }
    without.push_str(&text[last..]);
    let lines: Vec<&str> = without
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines.join("\n")
}

#[cfg(test)]
mod tests;
