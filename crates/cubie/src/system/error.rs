//! Errors in a model: what went wrong ([`ModelErrorKind`]) and where
//! ([`Location`]), rendered like a compiler diagnostic.

use std::fmt;
use std::ops::Range;

use thiserror::Error;

use crate::precision::Precision;

/// What is wrong with a model. Every message names the offending text and
/// what was expected.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ModelErrorKind {
    /// The model file could not be read.
    #[error("cannot read model file: {message}")]
    Io {
        /// The operating system's message.
        message: String,
    },
    /// The model file is not valid TOML.
    #[error("invalid TOML: {message}")]
    Toml {
        /// The TOML parser's message.
        message: String,
    },
    /// A top-level key of the model file that has no meaning.
    #[error("unknown key `{}`{}; expected one of name, precision, observables, equations, states, parameters, constants, drivers", short(.key), did_you_mean(.suggestion))]
    UnknownKey {
        /// The key as written.
        key: String,
        /// The nearest known key.
        suggestion: Option<String>,
    },
    /// A key of the model file holds the wrong kind of value.
    #[error("`{key}` must be {expected}, found {found}")]
    WrongType {
        /// The key.
        key: String,
        /// What it must be.
        expected: String,
        /// What was found.
        found: String,
    },
    /// A required key of the model file is missing.
    #[error("missing `{key}`: {expected}")]
    MissingKey {
        /// The key.
        key: String,
        /// What it should hold.
        expected: String,
    },
    /// The precision is neither `f32` nor `f64`.
    #[error("unknown precision `{}`: expected \"f32\" or \"f64\"", short(.found))]
    InvalidPrecision {
        /// The value as written.
        found: String,
    },
    /// A model needs at least one state.
    #[error("the model declares no states: add at least one `name = initial value` under [states]")]
    NoStates,
    /// A declared default value that is not a finite number.
    #[error("default of {role} `{}` must be a finite number, found {found}", short(.name))]
    InvalidDefault {
        /// The role (state, parameter, constant or driver).
        role: &'static str,
        /// The declared name.
        name: String,
        /// What was found instead.
        found: String,
    },
    /// A declared name that is not an identifier or is reserved.
    #[error("`{}` cannot be declared as {} {role}: {reason}", short(.name), article(.role))]
    InvalidName {
        /// The name as written.
        name: String,
        /// The role it was declared in.
        role: &'static str,
        /// Why it is not allowed.
        reason: &'static str,
    },
    /// A name declared in two roles (or twice in one role).
    #[error("`{}` is declared as {} {first} and again as {} {second}; each name has one role", short(.name), article(.first), article(.second))]
    DuplicateDeclaration {
        /// The name.
        name: String,
        /// The first role.
        first: &'static str,
        /// The second role.
        second: &'static str,
    },
    /// Malformed equation text.
    #[error("syntax error: expected {expected}, found {found}")]
    Syntax {
        /// What the parser expected.
        expected: String,
        /// What it found (quoted text or a description such as "end of line").
        found: String,
    },
    /// A name in an expression that is not declared or defined.
    #[error("unknown symbol `{}`{}", short(.name), did_you_mean(.suggestion))]
    UnknownSymbol {
        /// The name as written.
        name: String,
        /// The nearest declared name.
        suggestion: Option<String>,
    },
    /// A function name is used as a value.
    #[error(
        "`{name}` is a function: call it as `{name}(...)`, or declare a symbol with another name"
    )]
    FunctionAsValue {
        /// The function name.
        name: String,
    },
    /// A call of a function that does not exist.
    #[error("unknown function `{}`{}", short(.name), did_you_mean(.suggestion))]
    UnknownFunction {
        /// The name as written.
        name: String,
        /// The nearest known function.
        suggestion: Option<String>,
    },
    /// A call with the wrong number of arguments.
    #[error("`{name}` takes {expected}, found {found}")]
    WrongArgumentCount {
        /// The function.
        name: String,
        /// The accepted count, in words ("2 arguments", "at least 2 arguments").
        expected: String,
        /// The number given.
        found: usize,
    },
    /// A state with no `dNAME = ...` equation.
    #[error("state `{0}` has no derivative: add an equation `d{0} = ...`", short(.name))]
    MissingDerivative {
        /// The state.
        name: String,
    },
    /// `dNAME = ...` where NAME is not a state.
    #[error("`d{0}` defines the derivative of `{0}`, which is not a declared state{1}; declare `{0}` under [states] (or use `d{0}` somewhere if it is meant as an auxiliary)", short(.name), did_you_mean_d(.suggestion))]
    UndeclaredState {
        /// The name after the `d`.
        name: String,
        /// The nearest declared state.
        suggestion: Option<String>,
    },
    /// One name defined by two equations.
    #[error(
        "`{}` is defined twice (first on line {first_line}); each name has exactly one equation",
        short(.name)
    )]
    DuplicateDefinition {
        /// The left-hand side.
        name: String,
        /// The line of the first definition.
        first_line: usize,
    },
    /// An equation assigns to a state, parameter, constant, driver or `t`.
    #[error("cannot assign to {role} `{}`: {hint}", short(.name))]
    AssignToInput {
        /// The left-hand side.
        name: String,
        /// Its declared role.
        role: &'static str,
        /// What to write instead.
        hint: String,
    },
    /// Auxiliaries that depend on each other in a loop.
    #[error("auxiliaries depend on each other in a cycle: {}", cycle_text(.cycle))]
    AuxiliaryCycle {
        /// The names in the cycle, the first repeated at the end.
        cycle: Vec<String>,
    },
    /// An observable that no equation defines.
    #[error("observable `{0}` is not defined by any equation{1}; observables must be auxiliaries (`{0} = ...`)", short(.name), did_you_mean(.suggestion))]
    UndefinedObservable {
        /// The observable as listed.
        name: String,
        /// The nearest auxiliary.
        suggestion: Option<String>,
    },
    /// A number, or an expression of numbers and constants, whose value is
    /// not finite (`1e999`, `10^400`, `c / 0` with `c` a constant).
    #[error("{}", non_finite(.text, .value, *.literal, *.precision))]
    NonFiniteConstant {
        /// The offending text.
        text: String,
        /// Its value: `inf`, `-inf` or `NaN`.
        value: String,
        /// The model's precision, whose range the value is beyond.
        precision: Precision,
        /// True for a single number as written, false for an expression
        /// folded from numbers and constants.
        literal: bool,
    },
    /// A `(` with no matching `)`.
    #[error("this `(` is never closed: expected a matching `)` before {found}")]
    UnclosedParenthesis {
        /// Where the parser gave up waiting for the `)` (quoted text or
        /// "end of equations").
        found: String,
    },
    /// The model file's bytes are not UTF-8 text.
    #[error(
        "the file is not valid UTF-8: the byte at offset {offset} does not begin a UTF-8 character; save the model as UTF-8 text"
    )]
    InvalidUtf8 {
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
}

/// Longest user text echoed whole in a message, in characters.
const ECHO_LIMIT: usize = 60;

/// `text`, cut to [`ECHO_LIMIT`] characters with `...` and the full length
/// when longer, so that a message never repeats a huge line.
pub(crate) fn short(text: &str) -> String {
    let count = text.chars().count();
    if count <= ECHO_LIMIT {
        return text.to_string();
    }
    let head: String = text.chars().take(ECHO_LIMIT - 12).collect();
    format!("{head}... ({count} characters)")
}

fn article(role: &str) -> &'static str {
    if role.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// The names of a cycle, the middle left out of a long one.
fn cycle_text(cycle: &[String]) -> String {
    const SHOWN: usize = 8;
    let names: Vec<String> = cycle.iter().map(|n| short(n)).collect();
    if names.len() <= SHOWN {
        return names.join(" -> ");
    }
    let head = names[..SHOWN / 2].join(" -> ");
    let tail = names[names.len() - SHOWN / 2..].join(" -> ");
    let left_out = names.len() - SHOWN;
    format!("{head} -> ... ({left_out} more) ... -> {tail}")
}

fn non_finite(text: &str, value: &str, literal: bool, precision: Precision) -> String {
    let text = short(text);
    let largest = match precision {
        Precision::F32 => "3.4e38",
        Precision::F64 => "1.8e308",
    };
    if literal {
        format!(
            "the number `{text}` is beyond the range of {precision} (largest about {largest}): it would be {value}; write a finite number"
        )
    } else {
        let value = match precision {
            Precision::F32 => format!("{value} in f32"),
            Precision::F64 => value.to_string(),
        };
        format!(
            "`{text}` is a constant expression whose value is {value}; every number and constant expression must be finite (check for division by zero, overflow or a function outside its domain)"
        )
    }
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!(" (did you mean `{}`?)", short(s)),
        None => String::new(),
    }
}

fn did_you_mean_d(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!(" (did you mean `d{}`?)", short(s)),
        None => String::new(),
    }
}

/// Where an error is, in a model file or in the equations text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Length of the offending text in characters (at least 1).
    pub length: usize,
    /// The whole source line, for display under the message.
    pub line_text: String,
}

impl Location {
    /// The location of byte range `span` in `text`.
    pub fn in_text(text: &str, span: Range<usize>) -> Location {
        let start = floor_char_boundary(text, span.start.min(text.len()));
        let end = floor_char_boundary(text, span.end.clamp(start, text.len()));
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let line = text[..start].matches('\n').count() + 1;
        let line_text = text[line_start..line_end].trim_end_matches('\r');
        // A position in the `\r` of a `\r\n` is the end of the line.
        let column =
            (text[line_start..start].chars().count() + 1).min(line_text.chars().count() + 1);
        // The caret stops at the end of the line for multi-line spans.
        let length = text[start..end.min(line_end).max(start)]
            .chars()
            .count()
            .max(1);
        Location {
            line,
            column,
            length,
            line_text: line_text.to_string(),
        }
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// An error in a model, with its location when known. (Boxed: results
/// carrying it stay small.)
#[derive(Debug, Clone, PartialEq, Error)]
pub struct ModelError(Box<ErrorInner>);

#[derive(Debug, Clone, PartialEq)]
struct ErrorInner {
    kind: ModelErrorKind,
    file: Option<String>,
    location: Option<Location>,
}

impl ModelError {
    /// An error of `kind` in `file` (`None` for a model built in code) at
    /// `location` (in the file, or in the equations text of a built model).
    pub fn new(kind: ModelErrorKind, file: Option<String>, location: Option<Location>) -> Self {
        ModelError(Box::new(ErrorInner {
            kind,
            file,
            location,
        }))
    }

    /// What is wrong.
    pub fn kind(&self) -> &ModelErrorKind {
        &self.0.kind
    }

    /// The file, if the model came from one.
    pub fn file(&self) -> Option<&str> {
        self.0.file.as_deref()
    }

    /// Where the error is, when known.
    pub fn location(&self) -> Option<&Location> {
        self.0.location.as_ref()
    }

    /// The `file:line:column` prefix (`<equations>` for built models).
    pub fn origin(&self) -> String {
        let file = self.file().unwrap_or("<equations>");
        match self.location() {
            Some(l) => format!("{file}:{}:{}", l.line, l.column),
            None => file.to_string(),
        }
    }

    /// The message followed by the source line and a caret under the
    /// offending text, as printed by `cubie check`. A long line is cut to
    /// a window around the column, `...` marking each cut.
    pub fn render(&self) -> String {
        let mut out = self.to_string();
        if let Some(l) = self.location() {
            let number = l.line.to_string();
            let pad = " ".repeat(number.len());
            let (shown, caret_at, caret_len) = window(l);
            // Keep tabs so that the caret lines up with the source line.
            let lead: String = shown
                .chars()
                .take(caret_at)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            out.push_str(&format!(
                "\n{pad} |\n{number} | {shown}\n{pad} | {lead}{}",
                "^".repeat(caret_len)
            ));
        }
        out
    }
}

/// Longest source line shown whole under a message, in characters.
const LINE_LIMIT: usize = 120;
/// Characters shown before the column when a long line is cut.
const LINE_BEFORE: usize = 40;

/// The part of `l`'s line to show, the caret's position in it and the
/// caret's length (all in characters).
fn window(l: &Location) -> (String, usize, usize) {
    let chars: Vec<char> = l.line_text.chars().collect();
    let column = (l.column - 1).min(chars.len());
    let length = l.length.max(1);
    if chars.len() <= LINE_LIMIT {
        return (l.line_text.clone(), column, length);
    }
    let start = column.saturating_sub(LINE_BEFORE);
    let end = (start + LINE_LIMIT).min(chars.len());
    let mut shown = String::new();
    let mut caret_at = column - start;
    if start > 0 {
        shown.push_str("...");
        caret_at += 3;
    }
    shown.extend(&chars[start..end]);
    if end < chars.len() {
        shown.push_str("...");
    }
    // The caret stops at the cut (or covers the `...` after it).
    let caret_len = length.min(end.saturating_sub(column).max(1));
    (shown, caret_at, caret_len)
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.file().is_none() && self.location().is_none() {
            write!(f, "{}", self.kind())
        } else {
            write!(f, "{}: {}", self.origin(), self.kind())
        }
    }
}

/// The nearest of `candidates` to `name` by edit distance, if close enough
/// to be a plausible typo.
pub(crate) fn suggest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let lower = name.to_lowercase();
    let limit = (name.chars().count() / 3).max(1);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        if c == name {
            continue;
        }
        let d = if c.to_lowercase() == lower {
            0
        } else {
            edit_distance(name, c)
        };
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c.to_string())
}

/// Levenshtein distance in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diag + usize::from(ca != cb));
            diag = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("sigma", "sigmaa"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn suggestions_pick_the_nearest_plausible_name() {
        let names = ["sigma", "rho", "beta"];
        assert_eq!(suggest("sigmaa", names), Some("sigma".into()));
        assert_eq!(suggest("Rho", names), Some("rho".into()));
        assert_eq!(suggest("zzzzzz", names), None);
    }

    #[test]
    fn location_counts_lines_and_characters() {
        let text = "ab\ncdé fgh\n";
        let l = Location::in_text(text, 8..11);
        assert_eq!((l.line, l.column, l.length), (2, 5, 3));
        assert_eq!(l.line_text, "cdé fgh");
        // The line break of a CRLF line is at the end of the line.
        let l = Location::in_text("x\r\ny", 2..3);
        assert_eq!((l.line, l.column, l.line_text.as_str()), (1, 2, "x"));
    }

    #[test]
    fn render_puts_a_caret_under_the_text() {
        let err = ModelError::new(
            ModelErrorKind::UnknownSymbol {
                name: "sigmaa".into(),
                suggestion: Some("sigma".into()),
            },
            Some("lorenz.toml".into()),
            Some(Location::in_text("dx = sigmaa * y", 5..11)),
        );
        assert_eq!(
            err.render(),
            "lorenz.toml:1:6: unknown symbol `sigmaa` (did you mean `sigma`?)\n  |\n1 | dx = sigmaa * y\n  |      ^^^^^^"
        );
    }
}
