//! `slidearchive import`

use super::Exit;
use crate::archive::{Archive, Landed};
use crate::cli::ImportArgs;
use crate::error::Result;
use crate::import::{ImportOptions, Outcome, import};
use crate::post::ParseOptions;

pub fn run(archive: &mut Archive, args: ImportArgs) -> Result<Exit> {
    let options = ImportOptions {
        parse: ParseOptions {
            session_level: args.session_level,
        },
    };
    let report = import(archive, &args.inputs, &options, |outcome| match outcome {
        Outcome::Imported {
            landed: Landed::Unchanged(_),
            ..
        } => {}
        Outcome::Imported {
            input,
            slug,
            landed,
            sessions,
            slides,
        } => {
            let what = if matches!(landed, Landed::New(_)) {
                "imported"
            } else {
                "updated"
            };
            println!("{what} {slug}: {sessions} sessions, {slides} slides ({input})");
        }
        Outcome::Failed { input, reason } => eprintln!("slidearchive: {input}: {reason}"),
    });
    let failed = report.failed();
    let new = report.count(|l| matches!(l, Landed::New(_)));
    let updated = report.count(|l| matches!(l, Landed::Updated(_)));
    let unchanged = report.count(|l| matches!(l, Landed::Unchanged(_)));
    let mut summary = format!(
        "{}: {new} new, {updated} updated, {unchanged} unchanged",
        plural(new + updated + unchanged, "post")
    );
    if failed > 0 {
        summary.push_str(&format!(
            "; {} failed (see above; nothing of them was written)",
            plural(failed, "input")
        ));
    }
    eprintln!("{summary}; archive: {}", archive.dir().display());
    Ok(if failed > 0 {
        Exit::SomeFailed
    } else {
        Exit::Success
    })
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
