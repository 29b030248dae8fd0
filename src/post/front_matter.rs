//! Front matter: YAML (`---`) or TOML (`+++`) at the very start of a post, and the
//! well-known keys (title, author, date, description, tags, slug) read from it.

use serde_json::{Map, Value};
use std::ops::Range;

/// Which syntax the front matter was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Toml,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Yaml => "yaml",
            Format::Toml => "toml",
        }
    }
}

/// The front matter of a post: where it sits, its raw text and every key as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct FrontMatter {
    pub format: Format,
    /// Byte span of the whole block, delimiters and final line ending included.
    pub span: Range<usize>,
    /// The text between the delimiter lines, as written.
    pub raw: String,
    pub fields: Map<String, Value>,
}

/// The front matter keys that become columns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Meta {
    pub title: Option<String>,
    pub author: Option<String>,
    pub date: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub slug: Option<String>,
}

/// Finds front matter starting at `start` (just after an optional BOM).
///
/// Returns `Ok(None)` when the text does not open with a delimiter line, has no closing
/// line, or holds something that is not a table of keys: `---\nFoo\n---` is a setext
/// heading, `---\n---` two thematic breaks. A block that looks like front matter but does
/// not parse is an error, so a typo never silently turns metadata into body text.
pub fn find(source: &str, start: usize) -> Result<Option<FrontMatter>, String> {
    let rest = &source[start..];
    let (format, fence) = if rest.starts_with("---") {
        (Format::Yaml, "---")
    } else if rest.starts_with("+++") {
        (Format::Toml, "+++")
    } else {
        return Ok(None);
    };
    let mut lines = LineIter { text: rest, pos: 0 };
    let Some(first) = lines.next() else {
        return Ok(None);
    };
    if first.content.trim_end() != fence {
        return Ok(None);
    }
    let raw_start = first.end;
    let mut close = None;
    for line in lines.by_ref() {
        let content = line.content.trim_end();
        if content == fence || (format == Format::Yaml && content == "...") {
            close = Some(line);
            break;
        }
    }
    let Some(close) = close else {
        return Ok(None);
    };
    let raw = &rest[raw_start..close.start];
    if raw.trim().is_empty() {
        return Ok(None);
    }
    let parsed = match format {
        Format::Yaml => parse_yaml(raw),
        Format::Toml => parse_toml(raw),
    };
    let value = match parsed {
        Ok(value) => value,
        // `---`, a paragraph, `---` is also plain markdown (a rule and a setext heading):
        // only text that starts like keys is front matter that failed to parse.
        Err(_) if !starts_like_keys(raw, format) => return Ok(None),
        Err(reason) => return Err(reason),
    };
    let Value::Object(fields) = value else {
        return Ok(None);
    };
    Ok(Some(FrontMatter {
        format,
        span: start..start + close.end,
        raw: raw.to_string(),
        fields,
    }))
}

/// Whether the first line that is not blank or a comment reads like `key: value`
/// (YAML) or `key = value` / `[table]` (TOML).
fn starts_like_keys(raw: &str, format: Format) -> bool {
    let Some(line) = raw
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
    else {
        return false;
    };
    let key_char = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '"' | '\'' | '.');
    match format {
        Format::Yaml => {
            let key = line.split_once(':').map(|(k, _)| k.trim_end());
            let after_colon = line.split_once(':').map(|(_, rest)| rest);
            key.is_some_and(|k| !k.is_empty() && k.chars().all(|c| key_char(c) || c == ' '))
                && after_colon.is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
        }
        Format::Toml => {
            line.starts_with('[')
                || line.split_once('=').is_some_and(|(k, _)| {
                    let k = k.trim();
                    !k.is_empty() && k.chars().all(key_char)
                })
        }
    }
}

// Errors name the line in the whole file: the front matter starts on line 2, after
// the opening delimiter.
fn parse_yaml(raw: &str) -> Result<Value, String> {
    serde_saphyr::from_str::<Value>(raw).map_err(|e| {
        let line = e.location().map(|l| l.line() as usize);
        let text = e.to_string();
        let first = text.lines().next().unwrap_or_default();
        // "error: line 1 column 8: unclosed bracket '['" -> "unclosed bracket '['"
        let reason = match first.find("column ") {
            Some(at) => first[at..].split_once(": ").map_or(first, |(_, r)| r),
            None => first.trim_start_matches("error: "),
        };
        malformed("YAML", line, reason)
    })
}

fn parse_toml(raw: &str) -> Result<Value, String> {
    let table: toml::Table = toml::from_str(raw).map_err(|e| {
        let line = e
            .span()
            .map(|span| raw[..span.start.min(raw.len())].lines().count().max(1));
        malformed("TOML", line, e.message())
    })?;
    Ok(toml_to_json(toml::Value::Table(table)))
}

fn malformed(format: &str, line: Option<usize>, reason: &str) -> String {
    let at = line
        .map(|l| format!(" at line {}", l + 1))
        .unwrap_or_default();
    format!(
        "malformed {format} front matter{at}: {}; fix it and import again",
        reason.trim()
    )
}

/// TOML dates have no JSON form: they become their TOML text (`1979-05-27T07:32:00Z`).
fn toml_to_json(value: toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => Value::from(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect())
        }
    }
}

impl FrontMatter {
    /// Reads the well-known keys; `tags` may be a list or a single string.
    pub fn meta(&self) -> Meta {
        let text = |key: &str| self.fields.get(key).and_then(scalar_text);
        let tags = match self.fields.get("tags") {
            Some(Value::Array(items)) => items.iter().filter_map(scalar_text).collect(),
            Some(other) => scalar_text(other).into_iter().collect(),
            None => Vec::new(),
        };
        Meta {
            title: text("title"),
            author: text("author"),
            date: text("date"),
            description: text("description"),
            tags,
            slug: text("slug"),
        }
    }
}

/// A scalar as text; empty strings and non-scalars count as absent.
fn scalar_text(value: &Value) -> Option<String> {
    let s = match value {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

struct Line<'a> {
    start: usize,
    /// End including the line ending.
    end: usize,
    content: &'a str,
}

/// Lines with their offsets; `\n`, `\r\n` and a lone `\r` all end a line.
struct LineIter<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Iterator for LineIter<'a> {
    type Item = Line<'a>;
    fn next(&mut self) -> Option<Line<'a>> {
        if self.pos >= self.text.len() {
            return None;
        }
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let mut i = start;
        while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
            i += 1;
        }
        let content = &self.text[start..i];
        if i < bytes.len() {
            i += if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                2
            } else {
                1
            };
        }
        self.pos = i;
        Some(Line {
            start,
            end: i,
            content,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(source: &str) -> Option<FrontMatter> {
        find(source, 0).expect("no error")
    }

    #[test]
    fn yaml_front_matter_is_read_with_its_span() {
        let src = "---\ntitle: Hi\ntags: [a, b]\n---\nbody\n";
        let fm = found(src).unwrap();
        assert_eq!(fm.format, Format::Yaml);
        assert_eq!(&src[fm.span.clone()], "---\ntitle: Hi\ntags: [a, b]\n---\n");
        assert_eq!(fm.raw, "title: Hi\ntags: [a, b]\n");
        let meta = fm.meta();
        assert_eq!(meta.title.as_deref(), Some("Hi"));
        assert_eq!(meta.tags, vec!["a", "b"]);
    }

    #[test]
    fn toml_front_matter_with_a_date_and_single_tag() {
        let src = "+++\r\ntitle = \"T\"\r\ndate = 2023-06-18\r\ntags = \"k8s\"\r\n+++\r\n# x";
        let fm = found(src).unwrap();
        assert_eq!(fm.format, Format::Toml);
        assert_eq!(
            &src[fm.span.clone()],
            "+++\r\ntitle = \"T\"\r\ndate = 2023-06-18\r\ntags = \"k8s\"\r\n+++\r\n"
        );
        let meta = fm.meta();
        assert_eq!(meta.date.as_deref(), Some("2023-06-18"));
        assert_eq!(meta.tags, vec!["k8s"]);
    }

    #[test]
    fn things_that_only_look_like_front_matter_are_body_text() {
        for src in [
            "---\nFoo\n---\nBar\n",
            "---\n---\n",
            "+++\n",
            "---\ntitle: x\n",
            "--- \nnot closed",
            "----\na: b\n----\n",
            "text\n---\na: b\n---\n",
            "---\n\n{{< figure src=\"a.png\" >}}\n\n---",
            "---\n- a\n- [b\n---\n",
            "+++\nsome words\n+++\n",
        ] {
            assert_eq!(found(src), None, "{src:?}");
        }
    }

    #[test]
    fn malformed_front_matter_is_an_error() {
        let yaml = find("---\na: 1\ntitle: [unclosed\n---\n", 0).unwrap_err();
        assert!(
            yaml.starts_with("malformed YAML front matter at line 3: unclosed bracket"),
            "{yaml}"
        );
        let toml = find("+++\na = 1\ntitle = \n+++\n", 0).unwrap_err();
        assert!(
            toml.starts_with("malformed TOML front matter at line 3: "),
            "{toml}"
        );
        assert!(!yaml.contains('\n') && !toml.contains('\n'));
    }

    #[test]
    fn empty_values_count_as_absent() {
        let fm = found("---\ndescription:\ntitle: ''\nauthor: lanmei\n---\n").unwrap();
        let meta = fm.meta();
        assert_eq!(meta.description, None);
        assert_eq!(meta.title, None);
        assert_eq!(meta.author.as_deref(), Some("lanmei"));
    }
}
