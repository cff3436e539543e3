//! The TOML model file. Parsed with spans, so that every error points at
//! the file, and so that declaration order is the document order (the
//! `toml` table itself is sorted by key).

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::precision::Precision;

use super::error::{Location, ModelError, ModelErrorKind, short, suggest};
use super::spec::{At, Declaration, EquationsOrigin, ModelSpec};

const KEYS: [&str; 8] = [
    "name",
    "precision",
    "observables",
    "equations",
    "states",
    "parameters",
    "constants",
    "drivers",
];

/// Reads a model file's text into an unchecked spec.
pub(crate) fn parse_model_file(source: &str, file_name: &str) -> Result<ModelSpec, ModelError> {
    let mut spec = ModelSpec::standalone(String::new());
    spec.file_name = Some(file_name.to_string());
    spec.file_text = Some(source.to_string());
    spec.name = default_name(file_name);

    let root = DeTable::parse(source).map_err(|e| {
        let kind = ModelErrorKind::Toml {
            message: e.message().trim().to_string(),
        };
        spec.error(kind, &e.span().map_or(At::Nowhere, At::File))
    })?;
    let mut equations: Option<(String, Range<usize>)> = None;
    let mut states_key: Option<Range<usize>> = None;
    for (key, value) in in_document_order(root.get_ref()) {
        let key_at = At::File(key.span());
        let at = At::File(value.span());
        match key.get_ref().as_ref() {
            "name" => spec.name = string(&spec, "name", value)?,
            "precision" => {
                let text = string(&spec, "precision", value)?;
                spec.precision = text.parse::<Precision>().map_err(|_| {
                    spec.error(
                        ModelErrorKind::InvalidPrecision {
                            found: text.clone(),
                        },
                        &at,
                    )
                })?;
            }
            "equations" => equations = Some((string(&spec, "equations", value)?, value.span())),
            "observables" => spec.observables = string_array(&spec, value)?,
            "states" => {
                states_key = Some(key.span());
                spec.states = declarations(&spec, "states", "state", value)?
            }
            "parameters" => {
                spec.parameters = declarations(&spec, "parameters", "parameter", value)?
            }
            "constants" => spec.constants = declarations(&spec, "constants", "constant", value)?,
            "drivers" => spec.drivers = declarations(&spec, "drivers", "driver", value)?,
            other => {
                let kind = ModelErrorKind::UnknownKey {
                    key: other.to_string(),
                    suggestion: suggest(other, KEYS),
                };
                return Err(spec.error(kind, &key_at));
            }
        }
    }
    let Some((text, span)) = equations else {
        let kind = ModelErrorKind::MissingKey {
            key: "equations".into(),
            expected: "add `equations = \"\"\"` ... `\"\"\"` at the top of the file (before any [table]), with one `dNAME = expression` line per state".into(),
        };
        return Err(spec.error(kind, &At::Nowhere));
    };
    if spec.states.is_empty() {
        // At the `[states]` header when there is one, so that the message
        // points where the states go.
        let at = states_key.map_or(At::Nowhere, At::File);
        return Err(spec.error(ModelErrorKind::NoStates, &at));
    }
    spec.origin = equations_origin(source, span, &text);
    spec.equations = text;
    Ok(spec)
}

/// `lorenz` for `models/lorenz.toml`.
fn default_name(file_name: &str) -> String {
    let stem = std::path::Path::new(file_name)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("model");
    stem.to_string()
}

type Entry<'a, 'i> = (
    &'a Spanned<toml::de::DeString<'i>>,
    &'a Spanned<DeValue<'i>>,
);

fn in_document_order<'a, 'i>(table: &'a DeTable<'i>) -> Vec<Entry<'a, 'i>> {
    let mut entries: Vec<Entry<'a, 'i>> = table.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    entries
}

fn type_name(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

fn wrong_type(
    spec: &ModelSpec,
    key: &str,
    expected: &str,
    value: &Spanned<DeValue<'_>>,
) -> ModelError {
    let kind = ModelErrorKind::WrongType {
        key: key.into(),
        expected: expected.into(),
        found: type_name(value.get_ref()).into(),
    };
    spec.error(kind, &At::File(value.span()))
}

fn string(spec: &ModelSpec, key: &str, value: &Spanned<DeValue<'_>>) -> Result<String, ModelError> {
    match value.get_ref() {
        DeValue::String(s) => Ok(s.to_string()),
        _ => Err(wrong_type(spec, key, "a string", value)),
    }
}

fn string_array(
    spec: &ModelSpec,
    value: &Spanned<DeValue<'_>>,
) -> Result<Vec<(String, At)>, ModelError> {
    let expected = "an array of names, e.g. [\"energy\"]";
    let DeValue::Array(items) = value.get_ref() else {
        return Err(wrong_type(spec, "observables", expected, value));
    };
    items
        .iter()
        .map(|item| match item.get_ref() {
            DeValue::String(s) => Ok((s.to_string(), At::File(item.span()))),
            _ => Err(wrong_type(spec, "observables", expected, item)),
        })
        .collect()
}

/// A `[states]`-like table of `name = number`, in document order.
fn declarations(
    spec: &ModelSpec,
    key: &str,
    role: &'static str,
    value: &Spanned<DeValue<'_>>,
) -> Result<Vec<Declaration>, ModelError> {
    let DeValue::Table(table) = value.get_ref() else {
        return Err(wrong_type(spec, key, "a table of `name = value`", value));
    };
    in_document_order(table)
        .into_iter()
        .map(|(name, v)| {
            let number = match v.get_ref() {
                DeValue::Integer(i) => integer(i.as_str(), i.radix()),
                DeValue::Float(x) => x.as_str().replace('_', "").parse::<f64>().ok(),
                _ => None,
            };
            let found = || {
                let written = short(spec_text(spec, v.span()));
                match (v.get_ref(), number) {
                    (DeValue::String(s), _) => format!("the string \"{}\"", short(s)),
                    // `inf` and `nan` as written; otherwise a number too
                    // large for f64.
                    (_, Some(x)) if x.is_nan() || written.contains("inf") => {
                        format!("`{written}`")
                    }
                    (_, Some(_)) => format!("`{written}`, which is beyond the range of f64"),
                    (other, None) => type_name(other).to_string(),
                }
            };
            match number.filter(|x| x.is_finite()) {
                Some(value) => Ok(Declaration {
                    name: name.get_ref().to_string(),
                    value,
                    at: At::File(name.span()),
                }),
                None => {
                    let kind = ModelErrorKind::InvalidDefault {
                        role,
                        name: name.get_ref().to_string(),
                        found: found(),
                    };
                    Err(spec.error(kind, &At::File(v.span())))
                }
            }
        })
        .collect()
}

/// The value of a TOML integer of any size (beyond `i64` too: `x =
/// 99999999999999999999` is 1e20, not an error).
fn integer(digits: &str, radix: u32) -> Option<f64> {
    if radix == 10 {
        return digits.parse::<f64>().ok();
    }
    digits.chars().try_fold(0.0f64, |acc, c| {
        c.to_digit(radix)
            .map(|d| acc * f64::from(radix) + f64::from(d))
    })
}

/// The file text of `span`.
fn spec_text(spec: &ModelSpec, span: Range<usize>) -> &str {
    spec.file_text
        .as_deref()
        .and_then(|t| t.get(span))
        .unwrap_or("")
}

/// Where the equations string's text starts in the file: exactly, when
/// the string holds no escapes; otherwise by line.
fn equations_origin(source: &str, span: Range<usize>, text: &str) -> EquationsOrigin {
    let raw = source.get(span.clone()).unwrap_or("");
    for delim in ["\"\"\"", "'''", "\"", "'"] {
        if raw.len() < 2 * delim.len() || !raw.starts_with(delim) || !raw.ends_with(delim) {
            continue;
        }
        let mut start = span.start + delim.len();
        let mut body = &raw[delim.len()..raw.len() - delim.len()];
        if delim.len() == 3 {
            // TOML drops a newline right after the opening delimiter.
            if let Some(rest) = body
                .strip_prefix("\r\n")
                .or_else(|| body.strip_prefix('\n'))
            {
                start += body.len() - rest.len();
                body = rest;
            }
        }
        if body == text {
            return EquationsOrigin::Verbatim { offset: start };
        }
        if delim.starts_with('"')
            && let Some(offsets) = escape_map(body, start, text)
        {
            return EquationsOrigin::Mapped { offsets };
        }
        return EquationsOrigin::FromLine {
            first_line: Location::in_text(source, start..start).line,
        };
    }
    EquationsOrigin::FromLine {
        first_line: Location::in_text(source, span.clone()).line,
    }
}

/// The file offset of every byte of `text`, the unescaped form of the
/// basic string `body` that starts at file offset `start` (and of the
/// text's end); `None` when unescaping `body` does not give `text`.
fn escape_map(body: &str, start: usize, text: &str) -> Option<Vec<usize>> {
    let b = body.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut offsets = Vec::with_capacity(text.len() + 1);
    let mut i = 0;
    while i < b.len() {
        let (ch, len) = if b[i] == b'\\' {
            let hex = |digits: usize| {
                let code = u32::from_str_radix(body.get(i + 2..i + 2 + digits)?, 16).ok()?;
                Some((char::from_u32(code)?, 2 + digits))
            };
            match *b.get(i + 1)? {
                b'b' => ('\u{8}', 2),
                b't' => ('\t', 2),
                b'n' => ('\n', 2),
                b'f' => ('\u{c}', 2),
                b'r' => ('\r', 2),
                b'e' => ('\u{1b}', 2),
                b'"' => ('"', 2),
                b'\\' => ('\\', 2),
                b'x' => hex(2)?,
                b'u' => hex(4)?,
                b'U' => hex(8)?,
                // A line-ending backslash drops the whitespace after it.
                b' ' | b'\t' | b'\r' | b'\n' => {
                    i += 1;
                    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\r' | b'\n') {
                        i += 1;
                    }
                    continue;
                }
                _ => return None,
            }
        } else {
            let ch = body[i..].chars().next()?;
            (ch, ch.len_utf8())
        };
        out.push(ch);
        offsets.extend(std::iter::repeat_n(start + i, ch.len_utf8()));
        i += len;
    }
    offsets.push(start + b.len());
    (out == text).then_some(offsets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarations_keep_document_order() {
        let src = "equations = \"dz = 1\"\n[states]\nz = 1\na = 2.5\nm = 0x10\n";
        let spec = parse_model_file(src, "m.toml").expect("parses");
        let names: Vec<(&str, f64)> = spec
            .states
            .iter()
            .map(|d| (d.name.as_str(), d.value))
            .collect();
        assert_eq!(names, vec![("z", 1.0), ("a", 2.5), ("m", 16.0)]);
        assert_eq!(spec.name, "m");
    }

    #[test]
    fn verbatim_equations_map_to_file_offsets() {
        let src = "name = \"x\"\nequations = \"\"\"\ndx = -x\n\"\"\"\n[states]\nx = 1\n";
        let spec = parse_model_file(src, "m.toml").expect("parses");
        assert_eq!(spec.equations, "dx = -x\n");
        let EquationsOrigin::Verbatim { offset } = spec.origin else {
            panic!("expected a verbatim origin, got {:?}", spec.origin);
        };
        assert_eq!(&src[offset..offset + 7], "dx = -x");
        let l = spec.locate(&At::Equations(5..7)).expect("located");
        assert_eq!((l.line, l.column, l.length), (3, 6, 2));
    }

    #[test]
    fn escaped_equations_map_by_line() {
        let src = "equations = \"\"\"\ndx = \\u0078\ndy = 1\n\"\"\"\n[states]\nx = 1\n";
        let spec = parse_model_file(src, "m.toml").expect("parses");
        assert!(matches!(spec.origin, EquationsOrigin::Mapped { .. }));
        // `dy` on the second line, and the `x` written as `\u0078`.
        let l = spec.locate(&At::Equations(7..9)).expect("located");
        assert_eq!((l.line, l.column, l.length), (3, 1, 2));
        let l = spec.locate(&At::Equations(5..6)).expect("located");
        assert_eq!((l.line, l.column, l.length), (2, 6, 6));
    }

    #[test]
    fn every_escape_maps_to_its_file_text() {
        // One-line basic string holding three lines, a tab, a quote and
        // a line-ending backslash in a multi-line one.
        let src = "equations = \"dx = 1\\ndy = 2\\n\\tdz = q\\\"\"\n[states]\nx = 1\n";
        let spec = parse_model_file(src, "m.toml").expect("parses");
        assert_eq!(spec.equations, "dx = 1\ndy = 2\n\tdz = q\"");
        let q = spec.equations.find('q').expect("q");
        let l = spec.locate(&At::Equations(q..q + 1)).expect("located");
        assert_eq!((l.line, l.column, l.length), (1, 37, 1));
        let src = "equations = \"\"\"\ndx = 1 + \\\n     \\x41\n\"\"\"\n[states]\nx = 1\n";
        let spec = parse_model_file(src, "m.toml").expect("parses");
        assert_eq!(spec.equations, "dx = 1 + A\n");
        let l = spec.locate(&At::Equations(9..10)).expect("located");
        assert_eq!((l.line, l.column, l.length), (3, 6, 4));
    }
}
