//! Import: source -> post -> archive, one post at a time, one transaction each. Bad
//! inputs are collected in the report; they never stop the others.

use crate::archive::{Archive, Landed, NewPost};
use crate::error::{Error, Result};
use crate::post::{self, PARSER_VERSION, ParseOptions, Post};
use crate::source::{self, Input, Origin, Target};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::sync::mpsc::SyncSender;

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    pub parse: ParseOptions,
    /// Work out what would happen; write nothing.
    pub dry_run: bool,
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
    /// In a dry run: the image addresses a real run would download.
    pub would_fetch: BTreeSet<String>,
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
///
/// Reading, hashing and parsing run on a second thread, ahead of the thread that owns the
/// archive, so parsing one post overlaps storing the previous one. A bounded channel
/// between them keeps memory flat however many posts there are.
pub fn import(
    archive: &mut Archive,
    inputs: &[String],
    options: &ImportOptions,
    mut on_outcome: impl FnMut(&Outcome),
) -> ImportReport {
    let parsed_with = parsed_with(&options.parse);
    // What is already stored lets the reader skip parsing unchanged sources; the
    // archive still checks each one inside its own transaction.
    let known = archive.stored_sources(&parsed_with).unwrap_or_default();
    let mut report = ImportReport::default();
    std::thread::scope(|scope| {
        let (sender, receiver) = std::sync::mpsc::sync_channel(16);
        scope.spawn(|| read_all(inputs, options, &known, sender));
        // Posts are committed together about four times a second, each in its own savepoint:
        // one bad post never takes others with it, and each is reported only once
        // committed.
        let mut staged = Vec::new();
        for prepared in receiver {
            let outcome = land(
                archive,
                prepared,
                options,
                &parsed_with,
                &mut report.would_fetch,
            );
            staged.push(outcome);
            if archive.staged_for().is_none_or(|t| t >= COMMIT_EVERY) {
                commit(archive, &mut staged, &mut report, &mut on_outcome);
            }
        }
        commit(archive, &mut staged, &mut report, &mut on_outcome);
    });
    report
}

/// One input as the reader thread hands it over.
struct Prepared {
    shown: String,
    read: Result<Read, String>,
}

/// How long posts wait in the open write transaction before they are committed.
const COMMIT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// Commits the staged posts and reports them; if the commit fails, none of them landed.
fn commit(
    archive: &mut Archive,
    staged: &mut Vec<Outcome>,
    report: &mut ImportReport,
    on_outcome: &mut impl FnMut(&Outcome),
) {
    let failure = archive.commit_staged().err();
    for outcome in staged.drain(..) {
        let outcome = match (outcome, &failure) {
            (Outcome::Imported { input, landed, .. }, Some(e))
                if !matches!(landed, Landed::Unchanged(_)) =>
            {
                Outcome::Failed {
                    input,
                    reason: format!("{e}; nothing of it was written, try again"),
                }
            }
            (outcome, _) => outcome,
        };
        on_outcome(&outcome);
        report.outcomes.push(outcome);
    }
}

/// A post read and, unless it looked unchanged, parsed.
struct Read {
    origin: Origin,
    bytes: Vec<u8>,
    sha256: String,
    parsed: Option<Result<Parsed, String>>,
}

struct Parsed {
    post: Post,
    targets: Vec<Target>,
    title: String,
    slug: String,
}

fn read_all(
    inputs: &[String],
    options: &ImportOptions,
    known: &HashMap<String, String>,
    sender: SyncSender<Prepared>,
) {
    for input in inputs {
        let found = match source::expand(input) {
            Ok(found) => found,
            Err(e) => {
                let (shown, reason) = match e {
                    Error::Input { input, reason } => (input, reason),
                    other => (input.clone(), other.to_string()),
                };
                let failed = Prepared {
                    shown,
                    read: Err(reason),
                };
                if sender.send(failed).is_err() {
                    return;
                }
                continue;
            }
        };
        for Input { shown, origin } in found {
            let read = source::read(&origin).map(|bytes| {
                let sha256 = hex::encode(Sha256::digest(&bytes));
                let unchanged = known.get(&origin.key()) == Some(&sha256);
                let parsed = (!unchanged).then(|| parse(&origin, &bytes, options));
                Read {
                    origin,
                    bytes,
                    sha256,
                    parsed,
                }
            });
            if sender.send(Prepared { shown, read }).is_err() {
                return;
            }
        }
    }
}

fn parse(origin: &Origin, bytes: &[u8], options: &ImportOptions) -> Result<Parsed, String> {
    let text = source::as_text(bytes)?;
    let post = post::parse(text, options.parse)?;
    let stem = origin.stem();
    let title = post
        .meta
        .title
        .clone()
        .or_else(|| post.first_heading.clone())
        .unwrap_or_else(|| stem.clone());
    let slug = slugify(post.meta.slug.as_deref().unwrap_or(&stem));
    let targets = post.slides.iter().map(|s| origin.resolve(&s.url)).collect();
    Ok(Parsed {
        post,
        targets,
        title,
        slug,
    })
}

/// Parser version and options, as stored with each post.
pub fn parsed_with(options: &ParseOptions) -> String {
    match options.session_level {
        Some(level) => format!("parser {PARSER_VERSION}, session level {level}"),
        None => format!("parser {PARSER_VERSION}, session level auto"),
    }
}

fn land(
    archive: &mut Archive,
    prepared: Prepared,
    options: &ImportOptions,
    parsed_with: &str,
    would_fetch: &mut BTreeSet<String>,
) -> Outcome {
    let Prepared { shown: input, read } = prepared;
    let landed = read.and_then(|read| {
        if options.dry_run {
            dry_run(archive, read, options, parsed_with, would_fetch)
        } else {
            store(archive, read, options, parsed_with)
        }
    });
    match landed {
        Ok((slug, landed, sessions, slides)) => Outcome::Imported {
            input,
            slug,
            landed,
            sessions,
            slides,
        },
        Err(reason) => Outcome::Failed { input, reason },
    }
}

/// What `store` would do, without writing: the post's fate, and the images it would fetch.
fn dry_run(
    archive: &Archive,
    read: Read,
    options: &ImportOptions,
    parsed_with: &str,
    would_fetch: &mut BTreeSet<String>,
) -> Result<(String, Landed, usize, usize), String> {
    let key = read.origin.key();
    let db = |e: Error| format!("{e}");
    if let Some(id) = archive
        .unchanged(&key, &read.sha256, parsed_with)
        .map_err(db)?
    {
        let (sessions, slides) = archive.post_counts(id).map_err(db)?;
        return Ok((
            archive.post_slug(id).map_err(db)?,
            Landed::Unchanged(id),
            sessions,
            slides,
        ));
    }
    let parsed = match read.parsed {
        Some(parsed) => parsed?,
        None => parse(&read.origin, &read.bytes, options)?,
    };
    for target in &parsed.targets {
        if !matches!(target, Target::Refused { .. })
            && !archive.url_is_stored(target.url()).map_err(db)?
        {
            would_fetch.insert(target.url().to_string());
        }
    }
    let landed = match archive.post_id_by_source(&key).map_err(db)? {
        Some(id) => Landed::Updated(id),
        None => Landed::New(0),
    };
    Ok((
        parsed.slug,
        landed,
        parsed.post.sessions.len(),
        parsed.post.slides.len(),
    ))
}

fn store(
    archive: &mut Archive,
    read: Read,
    options: &ImportOptions,
    parsed_with: &str,
) -> Result<(String, Landed, usize, usize), String> {
    let Read {
        origin,
        bytes,
        sha256,
        parsed,
    } = read;
    let key = origin.key();
    let db = |e: Error| format!("{e}; the archive is unchanged, try again");
    if parsed.is_none()
        && let Some(id) = archive.unchanged(&key, &sha256, parsed_with).map_err(db)?
    {
        let (sessions, slides) = archive.post_counts(id).map_err(db)?;
        let slug = archive.post_slug(id).map_err(db)?;
        return Ok((slug, Landed::Unchanged(id), sessions, slides));
    }
    // Parsed ahead, or (rarely) changed since the reader looked: parse here.
    let Parsed {
        post,
        targets,
        title,
        slug,
    } = match parsed {
        Some(parsed) => parsed?,
        None => parse(&origin, &bytes, options)?,
    };
    let content = source::as_text(&bytes)?;
    let landed = archive
        .stage_post(&NewPost {
            source: &key,
            content,
            sha256: &sha256,
            post: &post,
            targets: &targets,
            title: &title,
            slug: &slug,
            parsed_with,
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
