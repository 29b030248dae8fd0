//! Command-line types (clap derive) only; `cmd` turns them into library options.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "slidearchive",
    version,
    about = "Keep conference-recap posts and their slide images in a SQLite archive",
    after_help = "Start with: slidearchive import examples/   then: slidearchive list"
)]
pub struct Cli {
    /// Archive folder (holds archive.db)
    #[arg(
        long,
        global = true,
        env = "SLIDEARCHIVE_ARCHIVE",
        default_value = "archive"
    )]
    pub archive: PathBuf,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import posts from markdown files, folders (recursively) and http(s) URLs, and
    /// download their slide images
    Import(ImportArgs),
    /// Download the slide images still missing (never tried, or failed before)
    Fetch(FetchArgs),
    /// Print a post as imported (byte-identical) or as JSON; --all --out DIR writes every post
    Export(ExportArgs),
    /// List the posts with their session and slide counts
    List,
    /// Show one post's sessions, comments and slides
    Show(ShowArgs),
    /// Run a read-only SQL statement against the archive's views
    Query(QueryArgs),
    /// Search session titles and comments (any language; substrings match)
    Search(SearchArgs),
    /// Stored images used by more than one slide, most used first
    Dupes(DupesArgs),
    /// Counts: posts, sessions, comments, slides, URLs, images, bytes
    Stats(StatsArgs),
    /// Re-hash every stored image and check it against its name and its row
    Verify,
    /// Delete stored files and unfinished downloads that nothing refers to
    Gc(GcArgs),
    /// Delete a post and everything only it used (its image files go at the next gc)
    Remove(ShowArgs),
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// One SQL statement that only reads, e.g. "SELECT post, title, slides FROM sessions"
    pub sql: String,

    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns
    Table,
    Csv,
    /// An array of objects
    Json,
    /// One JSON object per line
    Ndjson,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words to find (all of them, case-insensitive, anywhere in a word)
    #[arg(required = true)]
    pub text: Vec<String>,

    #[arg(long, default_value_t = 50)]
    pub limit: usize,

    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct DupesArgs {
    #[arg(long, default_value_t = 50)]
    pub limit: usize,

    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct GcArgs {
    /// Only list what would be deleted
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Markdown files, folders of them, or URLs of raw markdown
    #[arg(required = true, value_name = "PATH_OR_URL")]
    pub inputs: Vec<String>,

    /// Do not download slide images ('slidearchive fetch' gets them later)
    #[arg(long)]
    pub no_fetch: bool,

    /// Say what would be imported and fetched, and write nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Write a JSON report of the run (posts and URLs, with reasons for failures)
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    #[command(flatten)]
    pub download: DownloadArgs,

    /// Heading level that starts a session (default: the shallowest level the post uses)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=6))]
    pub session_level: Option<u8>,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Only URLs that failed before
    #[arg(long)]
    pub failed_only: bool,

    /// Only the URLs of this post (id, slug or source)
    #[arg(long, value_name = "POST")]
    pub post: Option<String>,

    /// Ask again for stored URLs (conditionally); a changed image is kept beside the old one
    #[arg(long, conflicts_with = "failed_only")]
    pub refresh: bool,

    /// Write a JSON report of the run
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    #[command(flatten)]
    pub download: DownloadArgs,
}

/// How images are downloaded.
#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// Downloads at once
    #[arg(long, default_value_t = 8, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub jobs: u32,

    /// Downloads at once from one host
    #[arg(long, default_value_t = 16, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub per_host: u32,

    /// Pause between two requests to one host, in milliseconds
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub per_host_delay: u64,

    /// Largest image accepted, in bytes
    #[arg(long, default_value_t = 50 * 1024 * 1024, value_name = "BYTES")]
    pub max_image_bytes: u64,

    /// Seconds to wait for a connection, or for the next bytes of a response
    #[arg(long, default_value_t = 30, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,

    /// Retries for 5xx, 429, timeouts and broken connections
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub retries: u32,

    /// Longest pause between retries (also caps a server's Retry-After), in seconds
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub max_backoff: u64,

    /// Extra request header, 'Name: value' for every host or 'HOST=Name: value' for one
    /// (e.g. a Referer for a host that blocks hotlinking); repeatable
    #[arg(long = "header", value_name = "[HOST=]NAME: VALUE")]
    pub headers: Vec<crate::fetch::HeaderRule>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Post id, slug or source path/URL
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub post: Option<String>,

    /// Export every post (needs --out)
    #[arg(long, requires = "out")]
    pub all: bool,

    /// Write files into this folder, one per post named by slug, instead of printing
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    #[arg(long, value_enum, default_value_t = ExportFormat::Markdown)]
    pub format: ExportFormat,

    /// 'local' points each fetched slide at a copy of its image in DIR/images/, so DIR
    /// works offline (needs --out; markdown only)
    #[arg(long, value_enum, default_value_t = ImageLinks::AsImported, requires = "out")]
    pub images: ImageLinks,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImageLinks {
    /// Keep the URLs as written: the export is byte-identical to the source
    AsImported,
    /// Rewrite fetched slides to the copies in DIR/images/
    Local,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Markdown,
    Json,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Post id, slug or source path/URL
    pub post: String,
}

#[cfg(test)]
mod tests {
    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
