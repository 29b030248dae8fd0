//! The JSON report of a run (`--report FILE`): every post and URL with its outcome.

use crate::archive::{Landed, Recorded};
use crate::error::{Error, Result};
use crate::fetch::{Fetched, Got};
use crate::import::Outcome;
use serde::Serialize;
use std::path::Path;

#[derive(Debug, Serialize)]
pub struct Report {
    pub posts: Vec<PostReport>,
    pub urls: Vec<UrlReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PostReport {
    pub input: String,
    /// new, updated, unchanged or failed
    pub status: &'static str,
    pub slug: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UrlReport {
    pub url: String,
    /// stored, shared (stored, content already in the archive), unchanged or failed
    pub status: &'static str,
    pub sha256: Option<String>,
    pub error: Option<&'static str>,
    pub reason: Option<String>,
}

impl PostReport {
    pub fn from_outcome(outcome: &Outcome) -> PostReport {
        match outcome {
            Outcome::Imported {
                input,
                slug,
                landed,
                ..
            } => PostReport {
                input: input.clone(),
                status: match landed {
                    Landed::New(_) => "new",
                    Landed::Updated(_) => "updated",
                    Landed::Unchanged(_) => "unchanged",
                },
                slug: Some(slug.clone()),
                reason: None,
            },
            Outcome::Failed { input, reason } => PostReport {
                input: input.clone(),
                status: "failed",
                slug: None,
                reason: Some(reason.clone()),
            },
        }
    }
}

impl UrlReport {
    pub fn from_fetched(fetched: &Fetched, recorded: Recorded) -> UrlReport {
        let (sha256, error, reason) = match &fetched.result {
            Ok(Got::Stored(image)) => (Some(image.sha256.clone()), None, None),
            Ok(Got::NotModified) => (None, None, None),
            Err(f) => (None, Some(f.kind.as_str()), Some(f.reason.clone())),
        };
        UrlReport {
            url: fetched.url.clone(),
            status: match recorded {
                Recorded::StoredNew => "stored",
                Recorded::StoredShared => "shared",
                Recorded::Unchanged => "unchanged",
                Recorded::Failed => "failed",
            },
            sha256,
            error,
            reason,
        }
    }
}

impl UrlReport {
    /// An address refused without a request.
    pub fn refused(url: &str, error: &str, reason: &str) -> UrlReport {
        UrlReport {
            url: url.to_string(),
            status: "failed",
            sha256: None,
            error: Some(if error == "unsupported" {
                "unsupported"
            } else {
                "refused_local_path"
            }),
            reason: Some(reason.to_string()),
        }
    }
}

impl Report {
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut bytes = serde_json::to_vec_pretty(self)?;
        bytes.push(b'\n');
        std::fs::write(path, bytes).map_err(|e| Error::io(path, e))
    }
}
