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
    /// Import posts from markdown files, folders (recursively) and http(s) URLs
    Import(ImportArgs),
    /// Print a post as imported (byte-identical) or as JSON; --all --out DIR writes every post
    Export(ExportArgs),
    /// List the posts with their session and slide counts
    List,
    /// Show one post's sessions, comments and slides
    Show(ShowArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Markdown files, folders of them, or URLs of raw markdown
    #[arg(required = true, value_name = "PATH_OR_URL")]
    pub inputs: Vec<String>,

    /// Do not download slide images
    #[arg(long)]
    pub no_fetch: bool,

    /// Heading level that starts a session (default: the shallowest level the post uses)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=6))]
    pub session_level: Option<u8>,
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
