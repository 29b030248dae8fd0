//! Printing query results: an aligned table for people, CSV, JSON (an array of objects)
//! or NDJSON for programs. Rows stream out as they come, except for the table, which
//! must see every row to align its columns.

use crate::archive::Cell;
use std::io::{self, Write};
use unicode_width::UnicodeWidthStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Json,
    Ndjson,
}

pub struct Output<W: Write> {
    format: Format,
    out: W,
    columns: Vec<String>,
    /// Table only: every row, as display text.
    rows: Vec<Vec<String>>,
    count: usize,
}

impl<W: Write> Output<W> {
    pub fn new(format: Format, out: W) -> Self {
        Output {
            format,
            out,
            columns: Vec::new(),
            rows: Vec::new(),
            count: 0,
        }
    }

    pub fn columns(&mut self, columns: &[String]) -> io::Result<()> {
        self.columns = columns.to_vec();
        match self.format {
            Format::Csv => {
                let line: Vec<String> = columns.iter().map(|c| csv_field(c)).collect();
                writeln!(self.out, "{}", line.join(","))
            }
            Format::Json => write!(self.out, "["),
            _ => Ok(()),
        }
    }

    pub fn row(&mut self, cells: &[Cell]) -> io::Result<()> {
        self.count += 1;
        match self.format {
            Format::Table => {
                self.rows.push(cells.iter().map(table_text).collect());
                Ok(())
            }
            Format::Csv => {
                let line: Vec<String> = cells.iter().map(|c| csv_field(&plain_text(c))).collect();
                writeln!(self.out, "{}", line.join(","))
            }
            Format::Json => {
                let sep = if self.count == 1 { "\n  " } else { ",\n  " };
                write!(self.out, "{sep}{}", json_object(&self.columns, cells))
            }
            Format::Ndjson => writeln!(self.out, "{}", json_object(&self.columns, cells)),
        }
    }

    /// Ends the output; returns how many rows there were.
    pub fn finish(mut self) -> io::Result<usize> {
        match self.format {
            Format::Table => self.write_table()?,
            Format::Json if self.count == 0 => writeln!(self.out, "]")?,
            Format::Json => writeln!(self.out, "\n]")?,
            _ => {}
        }
        self.out.flush()?;
        Ok(self.count)
    }

    fn write_table(&mut self) -> io::Result<()> {
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.width()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.width());
            }
        }
        let line = |cells: &[String]| -> String {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.width())))
                .collect();
            padded.join("  ").trim_end().to_string()
        };
        writeln!(self.out, "{}", line(&self.columns))?;
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        writeln!(self.out, "{}", rule.join("  "))?;
        for row in &self.rows {
            writeln!(self.out, "{}", line(row))?;
        }
        Ok(())
    }
}

fn plain_text(cell: &Cell) -> String {
    match cell {
        Cell::Null => String::new(),
        Cell::Integer(v) => v.to_string(),
        Cell::Real(v) => v.to_string(),
        Cell::Text(v) => v.clone(),
        Cell::Blob(v) => hex::encode(v),
    }
}

/// One line per cell in a table: line breaks and tabs shown as escapes, NULL as empty.
fn table_text(cell: &Cell) -> String {
    match cell {
        Cell::Blob(v) => format!("<{} bytes>", v.len()),
        other => plain_text(other)
            .replace('\n', "\\n")
            .replace('\r', "\\r")
            .replace('\t', "\\t"),
    }
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Keys in column order (a JSON map would sort them); blobs as hex strings.
fn json_object(columns: &[String], cells: &[Cell]) -> String {
    let fields: Vec<String> = columns
        .iter()
        .zip(cells)
        .map(|(name, cell)| {
            let value = match cell {
                Cell::Null => serde_json::Value::Null,
                Cell::Integer(v) => (*v).into(),
                Cell::Real(v) => {
                    serde_json::Number::from_f64(*v).map_or(serde_json::Value::Null, Into::into)
                }
                Cell::Text(v) => v.clone().into(),
                Cell::Blob(v) => hex::encode(v).into(),
            };
            format!("{}:{}", serde_json::Value::from(name.as_str()), value)
        })
        .collect();
    format!("{{{}}}", fields.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(format: Format) -> String {
        let mut bytes = Vec::new();
        let mut out = Output::new(format, &mut bytes);
        out.columns(&["post".into(), "n".into(), "note".into()])
            .unwrap();
        out.row(&[Cell::Text("云原生".into()), Cell::Integer(3), Cell::Null])
            .unwrap();
        out.row(&[
            Cell::Text("a,b".into()),
            Cell::Real(1.5),
            Cell::Text("x\ny".into()),
        ])
        .unwrap();
        assert_eq!(out.finish().unwrap(), 2);
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn tables_align_wide_characters() {
        assert_eq!(
            render(Format::Table),
            "post    n    note\n------  ---  ----\n云原生  3\na,b     1.5  x\\ny\n"
        );
    }

    #[test]
    fn csv_quotes_what_it_must() {
        assert_eq!(
            render(Format::Csv),
            "post,n,note\n云原生,3,\n\"a,b\",1.5,\"x\ny\"\n"
        );
    }

    #[test]
    fn json_keeps_column_order_and_types() {
        let text = render(Format::Json);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value[0]["n"], 3);
        assert!(value[0]["note"].is_null());
        assert!(text.find("\"post\"").unwrap() < text.find("\"n\"").unwrap());
        let lines = render(Format::Ndjson);
        assert_eq!(lines.lines().count(), 2);
        assert_eq!(
            lines.lines().next().unwrap(),
            r#"{"post":"云原生","n":3,"note":null}"#
        );
    }
}
