//! slidearchive keeps conference-recap posts and their slides in a SQLite archive.
//!
//! The flow, one module per step:
//!
//! - [`source`]: a file, a folder or a URL -> bytes and an origin;
//! - [`post`]: text -> a parsed post (front matter, sessions, blocks, slides, links), with
//!   the byte span of everything export may slice or rewrite; pure, no I/O;
//! - [`archive`]: the only code that touches SQLite; one transaction per post;
//! - [`import`]: ties the three together and reports each input's outcome;
//! - [`fetch`]: downloads slide images in parallel into the content-addressed store;
//! - [`export`]: the stored bytes back out, rewritten to local images, or JSON;
//! - [`query`]: read-only SQL results as a table, CSV, JSON or NDJSON.
//!
//! `cmd` turns command-line arguments into calls on these and prints the results.

pub mod archive;
pub mod cli;
pub mod cmd;
pub mod error;
pub mod export;
pub mod fetch;
pub mod import;
pub mod post;
pub mod query;
pub mod source;

pub use error::{Error, Result};
