//! One file per subcommand: arguments -> library options -> call -> print.

mod export;
mod fetch;
mod import;
mod list;
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
    }
}
