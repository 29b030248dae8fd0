//! The documented JSON shape of an exported post. These wire types stand apart from the
//! archive's types so the archive can change without breaking users' scripts; fields
//! serialize in the order written here.

use crate::archive::{StoredBlock, StoredPost, StoredSlide};
use serde::Serialize;

#[derive(Serialize)]
pub struct PostJson<'a> {
    pub id: i64,
    pub slug: &'a str,
    pub title: &'a str,
    pub author: Option<&'a str>,
    pub date: Option<&'a str>,
    pub description: Option<&'a str>,
    pub tags: &'a [String],
    pub source: &'a str,
    pub sha256: &'a str,
    pub bytes: i64,
    /// Every front matter key, as written.
    pub front_matter: &'a serde_json::Map<String, serde_json::Value>,
    /// Blocks before the first session.
    pub intro: Vec<BlockJson<'a>>,
    /// Slides before the first session.
    pub slides: Vec<SlideJson<'a>>,
    pub sessions: Vec<SessionJson<'a>>,
}

#[derive(Serialize)]
pub struct BlockJson<'a> {
    pub kind: &'a str,
    pub text: &'a str,
    pub markdown: &'a str,
}

#[derive(Serialize)]
pub struct SessionJson<'a> {
    pub position: i64,
    pub title: &'a str,
    pub comments: Vec<BlockJson<'a>>,
    pub slides: Vec<SlideJson<'a>>,
}

#[derive(Serialize)]
pub struct SlideJson<'a> {
    /// Position among all the post's slides, from 1.
    pub position: i64,
    pub url: &'a str,
    pub alt: &'a str,
    pub title: &'a str,
    /// pending, stored or failed
    pub state: Option<&'a str>,
    /// Why the image could not be stored, when it failed.
    pub reason: Option<&'a str>,
    pub sha256: Option<&'a str>,
    pub bytes: Option<i64>,
    pub media_type: Option<&'a str>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    /// The stored file, relative to the archive folder.
    pub path: Option<&'a str>,
}

impl<'a> From<&'a StoredPost> for PostJson<'a> {
    fn from(p: &'a StoredPost) -> Self {
        PostJson {
            id: p.id,
            slug: &p.slug,
            title: &p.title,
            author: p.author.as_deref(),
            date: p.date.as_deref(),
            description: p.description.as_deref(),
            tags: &p.tags,
            source: &p.source,
            sha256: &p.sha256,
            bytes: p.bytes,
            front_matter: &p.front_matter,
            intro: p.intro.iter().map(BlockJson::from).collect(),
            slides: p.intro_slides.iter().map(SlideJson::from).collect(),
            sessions: p
                .sessions
                .iter()
                .map(|s| SessionJson {
                    position: s.position,
                    title: &s.title,
                    comments: s.comments.iter().map(BlockJson::from).collect(),
                    slides: s.slides.iter().map(SlideJson::from).collect(),
                })
                .collect(),
        }
    }
}

impl<'a> From<&'a StoredBlock> for BlockJson<'a> {
    fn from(b: &'a StoredBlock) -> Self {
        BlockJson {
            kind: &b.kind,
            text: &b.text,
            markdown: &b.markdown,
        }
    }
}

impl<'a> From<&'a StoredSlide> for SlideJson<'a> {
    fn from(s: &'a StoredSlide) -> Self {
        SlideJson {
            position: s.position,
            url: &s.url,
            alt: &s.alt,
            title: &s.title,
            state: s.state.as_deref(),
            reason: s.reason.as_deref(),
            sha256: s.image.as_ref().map(|i| i.sha256.as_str()),
            bytes: s.image.as_ref().map(|i| i.bytes),
            media_type: s.image.as_ref().map(|i| i.media_type.as_str()),
            width: s.image.as_ref().and_then(|i| i.width),
            height: s.image.as_ref().and_then(|i| i.height),
            path: s.image.as_ref().map(|i| i.path.as_str()),
        }
    }
}
