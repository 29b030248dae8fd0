//! Import: source -> post -> archive, one post at a time, one transaction each. Bad
//! inputs are collected in the report; they never stop the others.

use crate::archive::{Archive, Landed, NewPost};
use crate::error::{Error, Result};
use crate::post::{self, PARSER_VERSION, ParseOptions};
use crate::source::{self, Input, Origin};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    pub parse: ParseOptions,
}

/// What happened to one input.
#[derive(Debug, Clone)]
pub enum Outcome {
    Imported {
        input: String,
        slug: String,
        landed: Landed,
        sessions: usize,
        slides: usize,
    },
    Failed {
        input: String,
        reason: String,
    },
}

#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub outcomes: Vec<Outcome>,
}

impl ImportReport {
    pub fn failed(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Failed { .. }))
            .count()
    }

    pub fn count(&self, wanted: fn(&Landed) -> bool) -> usize {
        self.outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Imported { landed, .. } if wanted(landed)))
            .count()
    }
}

/// Imports every post named by `inputs`, calling `on_outcome` as each one lands or fails.
pub fn import(
    archive: &mut Archive,
    inputs: &[String],
    options: &ImportOptions,
    mut on_outcome: impl FnMut(&Outcome),
) -> ImportReport {
    let mut report = ImportReport::default();
    let mut record = |outcome: Outcome| {
        on_outcome(&outcome);
        report.outcomes.push(outcome);
    };
    for input in inputs {
        let found = match source::expand(input) {
            Ok(found) => found,
            Err(e) => {
                record(failure(input, e));
                continue;
            }
        };
        for Input { shown, origin } in found {
            record(match import_one(archive, &origin, options) {
                Ok((slug, landed, sessions, slides)) => Outcome::Imported {
                    input: shown,
                    slug,
                    landed,
                    sessions,
                    slides,
                },
                Err(reason) => Outcome::Failed {
                    input: shown,
                    reason,
                },
            });
        }
    }
    report
}

fn failure(input: &str, e: Error) -> Outcome {
    match e {
        Error::Input { input, reason } => Outcome::Failed { input, reason },
        other => Outcome::Failed {
            input: input.to_string(),
            reason: other.to_string(),
        },
    }
}

/// Parser version and options, as stored with each post.
pub fn parsed_with(options: &ParseOptions) -> String {
    match options.session_level {
        Some(level) => format!("parser {PARSER_VERSION}, session level {level}"),
        None => format!("parser {PARSER_VERSION}, session level auto"),
    }
}

fn import_one(
    archive: &mut Archive,
    origin: &Origin,
    options: &ImportOptions,
) -> Result<(String, Landed, usize, usize), String> {
    let bytes = source::read(origin)?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let key = origin.key();
    let parsed_with = parsed_with(&options.parse);
    let db = |e: Error| format!("{e}; the archive is unchanged, try again");
    if let Some(id) = archive.unchanged(&key, &sha256, &parsed_with).map_err(db)? {
        let (sessions, slides) = archive.post_counts(id).map_err(db)?;
        let slug = archive.post_slug(id).map_err(db)?;
        return Ok((slug, Landed::Unchanged(id), sessions, slides));
    }
    let text = source::as_text(&bytes)?;
    let post = post::parse(text, options.parse)?;
    let stem = origin.stem();
    let title = post
        .meta
        .title
        .clone()
        .or_else(|| post.first_heading.clone())
        .unwrap_or_else(|| stem.clone());
    let slug = slugify(post.meta.slug.as_deref().unwrap_or(&stem));
    let landed = archive
        .store_post(&NewPost {
            source: &key,
            content: text,
            sha256: &sha256,
            post: &post,
            title: &title,
            slug: &slug,
            parsed_with: &parsed_with,
        })
        .map_err(db)?;
    let slug = archive.post_slug(landed.id()).map_err(db)?;
    Ok((slug, landed, post.sessions.len(), post.slides.len()))
}

/// A slug that is safe as a file name: no separators, control characters or spaces,
/// no leading dot. Letters of any script are kept.
pub fn slugify(wanted: &str) -> String {
    let mut slug = String::with_capacity(wanted.len());
    for c in wanted.trim().chars() {
        let keep = !(c.is_whitespace()
            || c.is_control()
            || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|'));
        if keep {
            slug.push(c);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_matches(|c| c == '-' || c == '.');
    if slug.is_empty() {
        "post".into()
    } else {
        slug.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_safe_file_names() {
        assert_eq!(slugify("cloud-summit-2023"), "cloud-summit-2023");
        assert_eq!(slugify(" a/b c "), "a-b-c");
        assert_eq!(slugify("../.."), "post");
        assert_eq!(slugify("云原生 回顾"), "云原生-回顾");
    }
}
