//! `slidearchive query` and `slidearchive search`

use super::Exit;
use crate::archive::{Archive, Rows};
use crate::cli::{OutputFormat, QueryArgs, ReportFormat, SearchArgs};
use crate::error::{Error, Result};
use crate::query::{Format, Output};

pub fn run(archive: &Archive, args: QueryArgs) -> Result<Exit> {
    let format = match args.format {
        OutputFormat::Table => Format::Table,
        OutputFormat::Csv => Format::Csv,
        OutputFormat::Json => Format::Json,
        OutputFormat::Ndjson => Format::Ndjson,
    };
    let stdout = std::io::stdout().lock();
    let mut output = Output::new(format, std::io::BufWriter::new(stdout));
    let io = |e| Error::io("stdout", e);
    archive.query(&args.sql, |rows| {
        match rows {
            Rows::Columns(columns) => output.columns(columns),
            Rows::Row(row) => output.row(row),
        }
        .map_err(io)
    })?;
    let rows = output.finish().map_err(io)?;
    if format == Format::Table {
        eprintln!("({})", super::plural(rows, "row"));
    }
    Ok(Exit::Success)
}

pub fn search(archive: &Archive, args: SearchArgs) -> Result<Exit> {
    let text = args.text.join(" ");
    let hits = archive.search(&text, args.limit)?;
    match args.format {
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&hits)?),
        ReportFormat::Text => {
            for h in &hits {
                let snippet = h.snippet.replace('\n', " ");
                match h.kind {
                    "session" => println!("{} › {}. {}", h.post, h.session_position, snippet),
                    _ => println!(
                        "{} › {}. {}\n    {snippet}",
                        h.post, h.session_position, h.session
                    ),
                }
            }
            if hits.is_empty() {
                eprintln!("nothing matches '{text}'");
            }
        }
    }
    Ok(Exit::Success)
}
