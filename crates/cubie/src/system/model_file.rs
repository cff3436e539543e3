//! The TOML model file. Parsed with spans, so that every error points at
//! the file, and so that declaration order is the document order (the
//! `toml` table itself is sorted by key).

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::precision::Precision;

use super::error::{Location, ModelError, ModelErrorKind, suggest};
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
            "states" => spec.states = declarations(&spec, "states", "state", value)?,
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
            expected: "a string with one `dNAME = expression` per state".into(),
        };
        return Err(spec.error(kind, &At::Nowhere));
    };
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
                DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                    .ok()
                    .map(|i| i as f64),
                DeValue::Float(x) => x.as_str().replace('_', "").parse::<f64>().ok(),
                _ => None,
            };
            let found = match v.get_ref() {
                DeValue::String(s) => format!("the string \"{s}\""),
                other => type_name(other).to_string(),
            };
            match number {
                Some(value) => Ok(Declaration {
                    name: name.get_ref().to_string(),
                    value,
                    at: At::File(name.span()),
                }),
                None => {
                    let kind = ModelErrorKind::InvalidDefault {
                        role,
                        name: name.get_ref().to_string(),
                        found,
                    };
                    Err(spec.error(kind, &At::File(v.span())))
                }
            }
        })
        .collect()
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
        return EquationsOrigin::FromLine {
            first_line: Location::in_text(source, start..start).line,
        };
    }
    EquationsOrigin::FromLine {
        first_line: Location::in_text(source, span.clone()).line,
    }
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
        let src = "name = \"x\"\nequations = \"\"\"\ndx = -x\n\"\"\"\n";
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
        let src = "equations = \"\"\"\ndx = \\u0078\ndy = 1\n\"\"\"\n";
        let spec = parse_model_file(src, "m.toml").expect("parses");
        assert_eq!(spec.origin, EquationsOrigin::FromLine { first_line: 2 });
        let l = spec.locate(&At::Equations(7..9)).expect("located");
        assert_eq!((l.line, l.column), (3, 1));
    }
}
