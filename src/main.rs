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
            eprintln!("slidearchive: {}", with_causes(&e));
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

fn with_causes(e: &dyn std::error::Error) -> String {
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
