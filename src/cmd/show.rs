//! `slidearchive show POST`

use super::Exit;
use super::plural;
use crate::archive::{Archive, StoredSlide};
use crate::cli::ShowArgs;
use crate::error::Result;

pub fn run(archive: &Archive, args: ShowArgs) -> Result<Exit> {
    let post = archive.load_post(archive.find_post(&args.post)?)?;
    println!("{}", post.title);
    println!("  id {} · slug {} · {}", post.id, post.slug, post.source);
    let mut facts = Vec::new();
    if let Some(author) = &post.author {
        facts.push(format!("author {author}"));
    }
    if let Some(date) = &post.date {
        facts.push(format!("date {date}"));
    }
    if !post.tags.is_empty() {
        facts.push(format!("tags {}", post.tags.join(", ")));
    }
    if !facts.is_empty() {
        println!("  {}", facts.join(" · "));
    }
    print_slides(&post.intro_slides);
    for s in &post.sessions {
        println!();
        println!(
            "{}. {}  ({}, {})",
            s.position,
            s.title,
            plural(s.comments.len(), "comment"),
            plural(s.slides.len(), "slide")
        );
        for c in &s.comments {
            let mut lines = c.text.lines();
            if let Some(first) = lines.next() {
                println!("   > {first}");
            }
            for line in lines {
                println!("     {line}");
            }
        }
        print_slides(&s.slides);
    }
    Ok(Exit::Success)
}

fn print_slides(slides: &[StoredSlide]) {
    for slide in slides {
        let label = if slide.alt.is_empty() {
            String::new()
        } else {
            format!("  [{}]", slide.alt)
        };
        let state = match (&slide.image, slide.state.as_deref()) {
            (Some(image), _) => format!("  -> {}", image.path),
            (None, Some("failed")) => {
                format!(
                    "  (failed: {})",
                    slide.reason.as_deref().unwrap_or("unknown")
                )
            }
            (None, _) => "  (not fetched yet)".to_string(),
        };
        println!("   #{:<3} {}{label}{state}", slide.position, slide.url);
    }
}
