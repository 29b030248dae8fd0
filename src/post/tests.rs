use super::*;

fn parsed(src: &str) -> Post {
    parse(src, ParseOptions::default()).expect("parses")
}

const RECAP: &str = "---\ntitle: Recap\ntags: [a]\n---\n\nIntro text.\n\n<!--more-->\n\n## Talk one\n\n![](https://img.x/1.jpg)\n\n![](https://img.x/1.jpg)\n\nGood talk, see\nhttps://docs.x/design.\n\n## Talk [two](https://talks.x/2)\n\n- point\n- ![inline](https://img.x/2.png \"t\") in a list\n\n### detail\n\n<img src=\"https://img.x/3.gif\" alt=\"three\">\n";

#[test]
fn sessions_are_cut_at_the_shallowest_heading_level() {
    let post = parsed(RECAP);
    assert_eq!(post.session_level, Some(2));
    let titles: Vec<_> = post.sessions.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(titles, ["Talk one", "Talk two"]);
    assert_eq!(post.meta.title.as_deref(), Some("Recap"));
    // Intro paragraph and the more marker belong to the post itself.
    assert_eq!(post.blocks[0].session, None);
    assert_eq!(post.blocks[1].kind, BlockKind::Html);
    assert_eq!(post.blocks[1].session, None);
}

#[test]
fn every_block_keeps_its_exact_source() {
    let post = parsed(RECAP);
    let kinds: Vec<_> = post.blocks.iter().map(|b| b.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "paragraph",
            "html",
            "heading",
            "paragraph",
            "paragraph",
            "paragraph",
            "heading",
            "list",
            "heading",
            "html"
        ]
    );
    assert_eq!(
        &RECAP[post.blocks[5].span.clone()],
        "Good talk, see\nhttps://docs.x/design.\n"
    );
    assert_eq!(
        post.blocks[5].text,
        "Good talk, see\nhttps://docs.x/design."
    );
}

#[test]
fn comments_are_session_blocks_with_text() {
    let post = parsed(RECAP);
    let comments: Vec<_> = post
        .blocks
        .iter()
        .filter(|b| b.is_comment)
        .map(|b| b.text.as_str())
        .collect();
    assert_eq!(
        comments,
        [
            "Good talk, see\nhttps://docs.x/design.",
            "point\nin a list",
            "detail"
        ]
    );
}

#[test]
fn slides_are_found_in_order_with_exact_url_spans() {
    let post = parsed(RECAP);
    let found: Vec<_> = post
        .slides
        .iter()
        .map(|s| {
            (
                s.url.as_str(),
                &RECAP[s.url_span.clone()],
                s.session,
                s.syntax.as_str(),
                s.alt.as_str(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "https://img.x/1.jpg",
                "https://img.x/1.jpg",
                Some(0),
                "inline",
                ""
            ),
            (
                "https://img.x/1.jpg",
                "https://img.x/1.jpg",
                Some(0),
                "inline",
                ""
            ),
            (
                "https://img.x/2.png",
                "https://img.x/2.png",
                Some(1),
                "inline",
                "inline"
            ),
            (
                "https://img.x/3.gif",
                "https://img.x/3.gif",
                Some(1),
                "html",
                "three"
            ),
        ]
    );
    assert_eq!(post.slides[2].title, "t");
}

#[test]
fn links_include_bare_urls_and_heading_links() {
    let post = parsed(RECAP);
    let links: Vec<_> = post
        .links
        .iter()
        .map(|l| (l.url.as_str(), l.kind.as_str(), l.session))
        .collect();
    assert_eq!(
        links,
        [
            ("https://docs.x/design", "bare", Some(0)),
            ("https://talks.x/2", "inline", Some(1))
        ]
    );
}

#[test]
fn reference_images_point_into_their_definition() {
    let src = "## S\n\n![one][Logo] and ![logo][] and ![logo]\n\n[logo]: <https://x/l.png> \"T\"\n";
    let post = parsed(src);
    assert_eq!(post.slides.len(), 3);
    for slide in &post.slides {
        assert_eq!(slide.syntax, SlideSyntax::Reference);
        assert_eq!(&src[slide.url_span.clone()], "https://x/l.png");
        assert_eq!(slide.title, "T");
    }
    assert_eq!(post.blocks.last().unwrap().kind, BlockKind::Definition);
}

#[test]
fn figure_shortcodes_are_slides_and_not_text() {
    let src = "## S\n\n{{< figure src=\"/img/a.png\" alt=\"A\" >}}\n\nText `{{< figure src=\"no.png\" >}}`\n";
    let post = parsed(src);
    assert_eq!(post.slides.len(), 1);
    assert_eq!(&src[post.slides[0].url_span.clone()], "/img/a.png");
    assert!(
        !post.blocks[1].is_comment,
        "a figure alone is a slide, not a comment"
    );
    assert!(post.blocks[2].is_comment);
}

#[test]
fn alt_text_with_markup_and_brackets_does_not_confuse_the_url_span() {
    let src = "![a *b* [c]](u.png) ![](<v w.png>) ![x\\]](y.png)";
    let post = parsed(src);
    let spans: Vec<_> = post
        .slides
        .iter()
        .map(|s| &src[s.url_span.clone()])
        .collect();
    assert_eq!(spans, ["u.png", "v w.png", "y.png"]);
    assert_eq!(post.slides[0].alt, "a b [c]");
}

#[test]
fn session_level_can_be_chosen() {
    let src = "# Day one\n\n## A\n\ntext\n\n## B\n";
    let post = parse(
        src,
        ParseOptions {
            session_level: Some(2),
        },
    )
    .unwrap();
    assert_eq!(post.sessions.len(), 2);
    assert_eq!(post.first_heading.as_deref(), Some("Day one"));
    let default = parsed(src);
    assert_eq!(default.sessions.len(), 1);
}

#[test]
fn bom_and_crlf_keep_spans_on_the_original_bytes() {
    let src = "\u{feff}---\r\ntitle: T\r\n---\r\n## S\r\n\r\n![](a.png)\r\n";
    let post = parsed(src);
    assert!(post.front_matter.is_some());
    assert_eq!(&src[post.slides[0].url_span.clone()], "a.png");
    assert_eq!(&src[post.blocks[0].span.clone()], "## S\r\n");
}

#[test]
fn posts_without_headings_have_no_sessions() {
    let post = parsed("just text ![](a.png)\n");
    assert!(post.sessions.is_empty());
    assert_eq!(post.session_level, None);
    assert!(!post.blocks[0].is_comment);
    assert_eq!(post.slides[0].session, None);
}
