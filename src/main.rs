//! The `slidearchive` binary: parse arguments, run, print errors once, pick the exit status.

use clap::Parser;
use slidearchive::cli::Cli;
use slidearchive::cmd::{self, Exit};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let exit = match cmd::run(cli) {
        Ok(exit) => exit,
        Err(e) if is_broken_pipe(&e) => Exit::Success,
        Err(e) => {
            eprintln!("slidearchive: {}", slidearchive::error::with_causes(&e));
            match e {
                slidearchive::Error::PostNotFound(_) => Exit::Usage,
                _ => Exit::SomeFailed,
            }
        }
    };
    ExitCode::from(exit as u8)
}

/// `export ... | head` closes the pipe early; that is not an error.
fn is_broken_pipe(e: &slidearchive::Error) -> bool {
    matches!(e, slidearchive::Error::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
}
