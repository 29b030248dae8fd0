//! `slidearchive list`

use super::Exit;
use crate::archive::Archive;
use crate::error::Result;

pub fn run(archive: &Archive) -> Result<Exit> {
    let posts = archive.list_posts()?;
    if posts.is_empty() {
        eprintln!("the archive is empty; add posts with 'slidearchive import PATH_OR_URL'");
        return Ok(Exit::Success);
    }
    let slug_width = posts
        .iter()
        .map(|p| p.slug.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    println!(
        "{:>4}  {:<slug_width$}  {:>8}  {:>6}  TITLE",
        "ID", "SLUG", "SESSIONS", "SLIDES"
    );
    for p in &posts {
        let pad = slug_width - p.slug.chars().count();
        println!(
            "{:>4}  {}{:pad$}  {:>8}  {:>6}  {}",
            p.id, p.slug, "", p.sessions, p.slides, p.title
        );
    }
    Ok(Exit::Success)
}
