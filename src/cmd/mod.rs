//! One file per subcommand: arguments -> library options -> call -> print.

mod export;
mod fetch;
mod health;
mod import;
mod list;
mod query;
mod report;
mod show;

use crate::archive::Archive;
use crate::cli::{Cli, Command};
use crate::error::Result;

/// The process exit status, named once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything asked for was done.
    Success = 0,
    /// Some inputs failed (each was reported); the others were done.
    SomeFailed = 1,
    /// The command line was wrong (clap exits with this too).
    Usage = 2,
}

pub fn run(cli: Cli) -> Result<Exit> {
    match cli.command {
        Command::Import(args) => import::run(&cli.archive, args),
        Command::Fetch(args) => fetch::run(&mut Archive::open(&cli.archive)?, args),
        Command::Export(args) => export::run(&Archive::open(&cli.archive)?, args),
        Command::List => list::run(&Archive::open(&cli.archive)?),
        Command::Show(args) => show::run(&Archive::open(&cli.archive)?, args),
        Command::Query(args) => query::run(&Archive::open_read_only(&cli.archive)?, args),
        Command::Search(args) => query::search(&Archive::open_read_only(&cli.archive)?, args),
        Command::Dupes(args) => health::dupes(&Archive::open_read_only(&cli.archive)?, args),
        Command::Stats(args) => health::stats(&Archive::open_read_only(&cli.archive)?, args),
        Command::Verify => health::verify(&Archive::open_read_only(&cli.archive)?),
        Command::Gc(args) => health::gc(&mut Archive::open(&cli.archive)?, args),
        Command::Remove(args) => health::remove(&mut Archive::open(&cli.archive)?, args),
    }
}

/// "1 post", "3 posts": counts in messages read as words.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
