//! Typed library errors: one kind per thing a caller handles differently.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// One input (a file, a folder, a URL) could not be imported; the run goes on.
    #[error("{input}: {reason}")]
    Input { input: String, reason: String },

    #[error(
        "{path}: this archive was written by a newer slidearchive (schema version {found}, this one knows up to {known}); nothing was changed. Upgrade slidearchive to use it"
    )]
    ArchiveTooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },

    #[error("no archive at {0}; run 'slidearchive import' first, or pick one with --archive DIR")]
    NoArchive(PathBuf),

    #[error("no post matches '{0}'; 'slidearchive list' shows ids, slugs and sources")]
    PostNotFound(String),

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A statement given to `query` failed, as SQLite reports it.
    #[error("{0}")]
    Query(String),

    #[error("archive database: {0}")]
    Sqlite(#[from] rusqlite::Error),

    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub fn input(input: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Input {
            input: input.into(),
            reason: reason.into(),
        }
    }
}

/// An error and its causes on one line, each cause once (libraries often repeat their
/// source's text in their own message).
pub fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let c_text = c.to_string();
        if !text.contains(&c_text) {
            text.push_str(": ");
            text.push_str(&c_text);
        }
        cause = c.source();
    }
    text
}
