//! Tokens of the equation language. Spans are byte ranges into the
//! equations text. Line breaks are tokens, except inside parentheses, so
//! that a long expression may continue on the next line.

use std::ops::Range;

use super::error::{ModelErrorKind, short};

/// One token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Ident(String),
    Number(f64),
    Plus,
    Minus,
    Star,
    Slash,
    /// `^` or `**`.
    Pow,
    LParen,
    RParen,
    Comma,
    Assign,
    Lt,
    Le,
    Gt,
    Ge,
    EqEq,
    Ne,
    If,
    Else,
    And,
    Or,
    Not,
    Newline,
    Eof,
}

impl Tok {
    /// How the token reads in an error message.
    pub(crate) fn describe(&self, text: &str) -> String {
        match self {
            Tok::Newline => "end of line".into(),
            Tok::Eof => "end of equations".into(),
            _ => format!("`{}`", short(text)),
        }
    }
}

/// A token and its byte range.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub span: Range<usize>,
}

/// Splits equations text into tokens, ending with [`Tok::Eof`].
pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, (ModelErrorKind, Range<usize>)> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let tok = match c {
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'\n' => {
                i += 1;
                if depth > 0 {
                    continue;
                }
                Tok::Newline
            }
            b'0'..=b'9' | b'.' => {
                let (value, end) = number(src, i)?;
                i = end;
                Tok::Number(value)
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                match &src[start..i] {
                    "if" => Tok::If,
                    "else" => Tok::Else,
                    "and" => Tok::And,
                    "or" => Tok::Or,
                    "not" => Tok::Not,
                    name => Tok::Ident(name.to_string()),
                }
            }
            _ => {
                let next = bytes.get(i + 1).copied();
                let (tok, len) = match (c, next) {
                    (b'*', Some(b'*')) => (Tok::Pow, 2),
                    (b'<', Some(b'=')) => (Tok::Le, 2),
                    (b'>', Some(b'=')) => (Tok::Ge, 2),
                    (b'=', Some(b'=')) => (Tok::EqEq, 2),
                    (b'!', Some(b'=')) => (Tok::Ne, 2),
                    (b'+', _) => (Tok::Plus, 1),
                    (b'-', _) => (Tok::Minus, 1),
                    (b'*', _) => (Tok::Star, 1),
                    (b'/', _) => (Tok::Slash, 1),
                    (b'^', _) => (Tok::Pow, 1),
                    (b'(', _) => (Tok::LParen, 1),
                    (b')', _) => (Tok::RParen, 1),
                    (b',', _) => (Tok::Comma, 1),
                    (b'=', _) => (Tok::Assign, 1),
                    (b'<', _) => (Tok::Lt, 1),
                    (b'>', _) => (Tok::Gt, 1),
                    _ => {
                        let ch = src[i..].chars().next().unwrap_or('?');
                        return Err((
                            ModelErrorKind::Syntax {
                                expected: "a name, a number, an operator or a parenthesis".into(),
                                found: format!("`{ch}`"),
                            },
                            i..i + ch.len_utf8(),
                        ));
                    }
                };
                i += len;
                match tok {
                    Tok::LParen => depth += 1,
                    Tok::RParen => depth = depth.saturating_sub(1),
                    _ => {}
                }
                tok
            }
        };
        out.push(Token {
            tok,
            span: start..i,
        });
    }
    out.push(Token {
        tok: Tok::Eof,
        span: src.len()..src.len(),
    });
    Ok(out)
}

/// Reads a number starting at `start`: digits, an optional fraction and an
/// optional exponent (`2`, `1.5`, `.5`, `1e-3`).
fn number(src: &str, start: usize) -> Result<(f64, usize), (ModelErrorKind, Range<usize>)> {
    let bytes = src.as_bytes();
    let digits = |mut i: usize| {
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    let mut i = digits(start);
    let int_digits = i - start;
    let mut frac_digits = 0;
    if bytes.get(i) == Some(&b'.') {
        let end = digits(i + 1);
        frac_digits = end - i - 1;
        i = end;
    }
    let bad = |end: usize, expected: &str| {
        Err((
            ModelErrorKind::Syntax {
                expected: expected.into(),
                found: format!("`{}`", short(&src[start..end])),
            },
            start..end,
        ))
    };
    if int_digits + frac_digits == 0 {
        return bad(i, "a number (a digit before or after `.`)");
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(bytes.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let end = digits(j);
        if end == j {
            return bad(end, "digits in the exponent of a number");
        }
        i = end;
    }
    if i < bytes.len() && (bytes[i].is_ascii_alphabetic() || bytes[i] == b'_' || bytes[i] == b'.') {
        let mut end = i;
        while end < bytes.len()
            && (bytes[end].is_ascii_alphanumeric() || matches!(bytes[end], b'_' | b'.'))
        {
            end += 1;
        }
        return bad(
            end,
            "a number followed by an operator (write `2 * x`, not `2x`)",
        );
    }
    match src[start..i].parse::<f64>() {
        Ok(v) => Ok((v, i)),
        Err(_) => bad(i, "a number"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        tokenize(src)
            .map(|t| t.into_iter().map(|t| t.tok).collect())
            .unwrap_or_default()
    }

    #[test]
    fn numbers_in_every_form() {
        assert_eq!(
            toks("2 1.5 .5 1e-3 2.E2"),
            vec![
                Tok::Number(2.0),
                Tok::Number(1.5),
                Tok::Number(0.5),
                Tok::Number(1e-3),
                Tok::Number(200.0),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn operators_keywords_and_comments() {
        assert_eq!(
            toks("a**b ^ <= != == not # comment\nx"),
            vec![
                Tok::Ident("a".into()),
                Tok::Pow,
                Tok::Ident("b".into()),
                Tok::Pow,
                Tok::Le,
                Tok::Ne,
                Tok::EqEq,
                Tok::Not,
                Tok::Newline,
                Tok::Ident("x".into()),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn newlines_inside_parentheses_continue_the_line() {
        assert_eq!(
            toks("(a\n+ b)\n"),
            vec![
                Tok::LParen,
                Tok::Ident("a".into()),
                Tok::Plus,
                Tok::Ident("b".into()),
                Tok::RParen,
                Tok::Newline,
                Tok::Eof
            ]
        );
    }

    #[test]
    fn bad_characters_and_numbers_are_located() {
        let (kind, span) = tokenize("x = 2 $ 3").unwrap_err();
        assert_eq!(span, 6..7);
        assert!(kind.to_string().contains("`$`"));
        let (kind, span) = tokenize("x = 1e+").unwrap_err();
        assert_eq!(span, 4..7);
        assert!(kind.to_string().contains("exponent"));
        let (_, span) = tokenize("x = 2x").unwrap_err();
        assert_eq!(span, 4..6);
    }
}
