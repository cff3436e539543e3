//! Parser of the equation language into a syntax tree.
//!
//! The tree lives in an arena in which children precede their parents, so
//! later passes walk it with loops rather than recursion. Precedence, from
//! loosest to tightest (as in Python):
//!
//! ```text
//! a if c else b  <  or  <  and  <  not  <  comparisons  <  + -  <  * /
//!     <  unary -  <  ^ ** (right-associative)  <  calls, parentheses
//! ```

use std::ops::Range;

use super::error::ModelErrorKind;
use super::expr::{BinaryOp, UnaryOp};
use super::lexer::{Tok, Token, tokenize};

/// Index of a node in [`Program::nodes`].
pub(crate) type AstId = usize;

/// One syntax node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ast {
    Number(f64),
    Name(String),
    Unary(UnaryOp, AstId),
    Binary(BinaryOp, AstId, AstId),
    Call {
        name: String,
        name_span: Range<usize>,
        args: Vec<AstId>,
    },
    /// `if(cond, then, other)` or `then if cond else other`.
    Cond {
        cond: AstId,
        then: AstId,
        other: AstId,
    },
}

/// A syntax node and the text it covers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AstNode {
    pub ast: Ast,
    pub span: Range<usize>,
}

/// `lhs = rhs` on one line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Equation {
    pub lhs: String,
    pub lhs_span: Range<usize>,
    /// 1-based line in the equations text.
    pub line: usize,
    /// The right-hand side's nodes are `first..=rhs`.
    pub first: AstId,
    pub rhs: AstId,
}

/// Every equation of a model, sharing one arena.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Program {
    pub nodes: Vec<AstNode>,
    pub equations: Vec<Equation>,
}

/// A parse error: what and where (a byte range of the equations text).
pub(crate) type ParseError = (ModelErrorKind, Range<usize>);

/// Deepest nesting of parentheses, calls and prefix operators accepted;
/// bounds the parser's recursion.
const MAX_NESTING: usize = 128;

/// Parses equations text.
pub(crate) fn parse(src: &str) -> Result<Program, ParseError> {
    let tokens = tokenize(src)?;
    let mut p = Parser {
        src,
        tokens,
        pos: 0,
        depth: 0,
        program: Program::default(),
        line_at: (0, 1),
    };
    let unclosed = unclosed_parentheses(&p.tokens);
    loop {
        match p.peek() {
            Tok::Newline => p.pos += 1,
            Tok::Eof => break,
            _ => p.equation().map_err(|e| blame_unclosed(e, &unclosed))?,
        }
    }
    Ok(p.program)
}

/// Spans of the `(` that no `)` closes, in text order (each encloses the
/// ones after it).
fn unclosed_parentheses(tokens: &[Token]) -> Vec<Range<usize>> {
    let mut open = Vec::new();
    for t in tokens {
        match t.tok {
            Tok::LParen => open.push(t.span.clone()),
            Tok::RParen => {
                open.pop();
            }
            _ => {}
        }
    }
    open
}

/// A syntax error after a `(` that is never closed is that `(`'s fault
/// (inside it, line breaks do not end the equation, so the parser reads
/// on into later lines): the error points at the innermost such `(`
/// before it, as rustc does for an unclosed delimiter.
fn blame_unclosed(e: ParseError, unclosed: &[Range<usize>]) -> ParseError {
    let (ModelErrorKind::Syntax { found, .. }, span) = &e else {
        return e;
    };
    match unclosed.iter().rev().find(|open| open.start <= span.start) {
        Some(open) => (
            ModelErrorKind::UnclosedParenthesis {
                found: found.clone(),
            },
            open.clone(),
        ),
        None => e,
    }
}

struct Parser<'a> {
    src: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    program: Program,
    /// The line of `line_at` (counted incrementally: equations come in
    /// source order, so counting from the start each time is quadratic).
    line_at: (usize, usize),
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.tokens[self.pos].tok
    }

    fn bump(&mut self) -> Token {
        let t = self.tokens[self.pos].clone();
        if t.tok != Tok::Eof {
            self.pos += 1;
        }
        t
    }

    fn error<T>(&self, expected: &str) -> Result<T, ParseError> {
        let t = &self.tokens[self.pos];
        Err((
            ModelErrorKind::Syntax {
                expected: expected.into(),
                found: t.tok.describe(&self.src[t.span.clone()]),
            },
            t.span.clone(),
        ))
    }

    fn expect(&mut self, tok: Tok, expected: &str) -> Result<Token, ParseError> {
        if *self.peek() == tok {
            Ok(self.bump())
        } else {
            self.error(expected)
        }
    }

    fn push(&mut self, ast: Ast, span: Range<usize>) -> AstId {
        self.program.nodes.push(AstNode { ast, span });
        self.program.nodes.len() - 1
    }

    fn span_of(&self, id: AstId) -> Range<usize> {
        self.program.nodes[id].span.clone()
    }

    fn equation(&mut self) -> Result<(), ParseError> {
        let Tok::Ident(lhs) = self.peek().clone() else {
            return self.error("a name at the start of an equation (`name = expression`)");
        };
        let lhs_span = self.bump().span;
        self.expect(Tok::Assign, "`=` after the name being defined")?;
        let first = self.program.nodes.len();
        let rhs = self.expression()?;
        match self.peek() {
            Tok::Newline | Tok::Eof => {}
            Tok::RParen => {
                return self.error("an operator or the end of the line (this `)` closes no `(`)");
            }
            Tok::Assign => {
                return self.error(
                    "an operator or the end of the line (one `=` per equation; compare with `==`)",
                );
            }
            _ => return self.error("an operator or the end of the line"),
        }
        let (from, line) = if lhs_span.start >= self.line_at.0 {
            self.line_at
        } else {
            (0, 1)
        };
        let line = line + self.src[from..lhs_span.start].matches('\n').count();
        self.line_at = (lhs_span.start, line);
        self.program.equations.push(Equation {
            lhs,
            lhs_span,
            line,
            first,
            rhs,
        });
        Ok(())
    }

    /// Guards recursion: every nested parse goes through here.
    fn nested<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, ParseError>,
    ) -> Result<T, ParseError> {
        if self.depth >= MAX_NESTING {
            return self.error(&format!("at most {MAX_NESTING} levels of nesting"));
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    /// `a if cond else b` (the loosest level).
    fn expression(&mut self) -> Result<AstId, ParseError> {
        self.nested(|p| {
            let then = p.or()?;
            if *p.peek() != Tok::If {
                return Ok(then);
            }
            p.bump();
            let cond = p.or()?;
            p.expect(Tok::Else, "`else` in `a if condition else b`")?;
            let other = p.expression()?;
            let span = p.span_of(then).start..p.span_of(other).end;
            Ok(p.push(Ast::Cond { cond, then, other }, span))
        })
    }

    fn binary_chain(
        &mut self,
        next: fn(&mut Self) -> Result<AstId, ParseError>,
        op_of: fn(&Tok) -> Option<BinaryOp>,
    ) -> Result<AstId, ParseError> {
        let mut lhs = next(self)?;
        while let Some(op) = op_of(self.peek()) {
            self.bump();
            let rhs = next(self)?;
            let span = self.span_of(lhs).start..self.span_of(rhs).end;
            lhs = self.push(Ast::Binary(op, lhs, rhs), span);
        }
        Ok(lhs)
    }

    fn or(&mut self) -> Result<AstId, ParseError> {
        self.binary_chain(Self::and, |t| (*t == Tok::Or).then_some(BinaryOp::Or))
    }

    fn and(&mut self) -> Result<AstId, ParseError> {
        self.binary_chain(Self::not, |t| (*t == Tok::And).then_some(BinaryOp::And))
    }

    fn not(&mut self) -> Result<AstId, ParseError> {
        if *self.peek() != Tok::Not {
            return self.comparison();
        }
        let start = self.bump().span.start;
        let operand = self.nested(Self::not)?;
        let span = start..self.span_of(operand).end;
        Ok(self.push(Ast::Unary(UnaryOp::Not, operand), span))
    }

    fn comparison(&mut self) -> Result<AstId, ParseError> {
        let lhs = self.additive()?;
        let Some(op) = comparison_op(self.peek()) else {
            return Ok(lhs);
        };
        self.bump();
        let rhs = self.additive()?;
        if comparison_op(self.peek()).is_some() {
            return self.error("`and` between comparisons (chained comparisons like `a < b < c` are not supported)");
        }
        let span = self.span_of(lhs).start..self.span_of(rhs).end;
        Ok(self.push(Ast::Binary(op, lhs, rhs), span))
    }

    fn additive(&mut self) -> Result<AstId, ParseError> {
        self.binary_chain(Self::multiplicative, |t| match t {
            Tok::Plus => Some(BinaryOp::Add),
            Tok::Minus => Some(BinaryOp::Sub),
            _ => None,
        })
    }

    fn multiplicative(&mut self) -> Result<AstId, ParseError> {
        self.binary_chain(Self::unary, |t| match t {
            Tok::Star => Some(BinaryOp::Mul),
            Tok::Slash => Some(BinaryOp::Div),
            _ => None,
        })
    }

    /// Prefix `-` and `+`; binds looser than `^`, so `-x^2 = -(x^2)`.
    fn unary(&mut self) -> Result<AstId, ParseError> {
        match self.peek() {
            Tok::Minus => {
                let start = self.bump().span.start;
                let operand = self.nested(Self::unary)?;
                let span = start..self.span_of(operand).end;
                Ok(self.push(Ast::Unary(UnaryOp::Neg, operand), span))
            }
            Tok::Plus => {
                self.bump();
                self.nested(Self::unary)
            }
            _ => self.power(),
        }
    }

    /// `base ^ exponent`, right-associative; the exponent may carry a sign.
    fn power(&mut self) -> Result<AstId, ParseError> {
        let base = self.primary()?;
        if *self.peek() != Tok::Pow {
            return Ok(base);
        }
        self.bump();
        let exponent = self.nested(Self::unary)?;
        let span = self.span_of(base).start..self.span_of(exponent).end;
        Ok(self.push(Ast::Binary(BinaryOp::Pow, base, exponent), span))
    }

    fn primary(&mut self) -> Result<AstId, ParseError> {
        let token = self.tokens[self.pos].clone();
        match token.tok {
            Tok::Number(v) => {
                self.bump();
                Ok(self.push(Ast::Number(v), token.span))
            }
            Tok::Ident(name) => {
                self.bump();
                if *self.peek() == Tok::LParen {
                    self.call(name, token.span)
                } else {
                    Ok(self.push(Ast::Name(name), token.span))
                }
            }
            Tok::If => {
                self.bump();
                if *self.peek() != Tok::LParen {
                    return self.error("`(` after `if` (write `if(condition, a, b)`)");
                }
                let call = self.call("if".into(), token.span.clone())?;
                let Ast::Call { args, .. } = &self.program.nodes[call].ast else {
                    return Ok(call);
                };
                if args.len() != 3 {
                    return Err((
                        ModelErrorKind::WrongArgumentCount {
                            name: "if".into(),
                            expected: "3 arguments (condition, value if true, value if false)"
                                .into(),
                            found: args.len(),
                        },
                        self.span_of(call),
                    ));
                }
                let (cond, then, other) = (args[0], args[1], args[2]);
                let span = self.span_of(call);
                // Replace the call node in place: its children precede it.
                self.program.nodes[call] = AstNode {
                    ast: Ast::Cond { cond, then, other },
                    span,
                };
                Ok(call)
            }
            Tok::LParen => {
                self.bump();
                let inner = self.expression()?;
                let close = self.expect(Tok::RParen, "`)` or an operator")?;
                // The parenthesised expression covers its parentheses.
                self.program.nodes[inner].span = token.span.start..close.span.end;
                Ok(inner)
            }
            _ => self.error("a number, a name, `(` or a function call"),
        }
    }

    fn call(&mut self, name: String, name_span: Range<usize>) -> Result<AstId, ParseError> {
        self.expect(Tok::LParen, "`(`")?;
        let mut args = Vec::new();
        if *self.peek() != Tok::RParen {
            loop {
                args.push(self.expression()?);
                if *self.peek() == Tok::Comma {
                    self.bump();
                } else {
                    break;
                }
            }
        }
        let close = self.expect(Tok::RParen, "`,` or `)` in the argument list")?;
        let span = name_span.start..close.span.end;
        Ok(self.push(
            Ast::Call {
                name,
                name_span,
                args,
            },
            span,
        ))
    }
}

fn comparison_op(t: &Tok) -> Option<BinaryOp> {
    Some(match t {
        Tok::Lt => BinaryOp::Lt,
        Tok::Le => BinaryOp::Le,
        Tok::Gt => BinaryOp::Gt,
        Tok::Ge => BinaryOp::Ge,
        Tok::EqEq => BinaryOp::Eq,
        Tok::Ne => BinaryOp::Ne,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The right-hand side of a one-line program, fully parenthesised.
    fn show(src: &str) -> String {
        let p = parse(src).expect("parses");
        fn go(p: &Program, id: AstId) -> String {
            match &p.nodes[id].ast {
                Ast::Number(v) => format!("{v}"),
                Ast::Name(n) => n.clone(),
                Ast::Unary(op, a) => format!("({} {})", op.name(), go(p, *a)),
                Ast::Binary(op, a, b) => format!("({} {} {})", go(p, *a), op.name(), go(p, *b)),
                Ast::Call { name, args, .. } => {
                    let args: Vec<String> = args.iter().map(|a| go(p, *a)).collect();
                    format!("{name}({})", args.join(", "))
                }
                Ast::Cond { cond, then, other } => {
                    format!("if({}, {}, {})", go(p, *cond), go(p, *then), go(p, *other))
                }
            }
        }
        go(&p, p.equations[0].rhs)
    }

    #[test]
    fn precedence_follows_python() {
        assert_eq!(show("y = -x^2"), "(- (x ^ 2))");
        assert_eq!(show("y = 2^3^2"), "(2 ^ (3 ^ 2))");
        assert_eq!(show("y = 2**-x"), "(2 ^ (- x))");
        assert_eq!(show("y = a - b - c"), "((a - b) - c)");
        assert_eq!(show("y = a + b * c / d"), "(a + ((b * c) / d))");
        assert_eq!(
            show("y = not a < b and c or d"),
            "(((not (a < b)) and c) or d)"
        );
        assert_eq!(
            show("y = a if c > 0 else b if c < 0 else 0"),
            "if((c > 0), a, if((c < 0), b, 0))"
        );
        assert_eq!(
            show("y = if(x >= 1, f(x, 2), 3)"),
            "if((x >= 1), f(x, 2), 3)"
        );
    }

    #[test]
    fn children_precede_parents() {
        let p = parse("a = f(x + 1, if(c, 2, y)) * (3 - z)\nb = a if a else -a").expect("parses");
        for (id, node) in p.nodes.iter().enumerate() {
            let children: Vec<AstId> = match &node.ast {
                Ast::Number(_) | Ast::Name(_) => vec![],
                Ast::Unary(_, a) => vec![*a],
                Ast::Binary(_, a, b) => vec![*a, *b],
                Ast::Call { args, .. } => args.clone(),
                Ast::Cond { cond, then, other } => vec![*cond, *then, *other],
            };
            assert!(children.iter().all(|c| *c < id), "node {id}: {node:?}");
        }
        assert_eq!(p.equations.len(), 2);
        assert_eq!(p.equations[1].line, 2);
        assert_eq!(p.equations[1].first, p.equations[0].rhs + 1);
    }

    #[test]
    fn syntax_errors_say_what_was_expected() {
        let (kind, span) = parse("x = (a + b").unwrap_err();
        assert_eq!(span, 4..5);
        assert!(
            kind.to_string()
                .contains("`(` is never closed: expected a matching `)` before end of equations"),
            "{kind}"
        );
        let (kind, span) = parse("x = a b").unwrap_err();
        assert_eq!(span, 6..7);
        assert!(kind.to_string().contains("found `b`"), "{kind}");
        let (kind, _) = parse("x == a").unwrap_err();
        assert!(kind.to_string().contains("expected `=`"), "{kind}");
        let (kind, _) = parse("x = a < b < c").unwrap_err();
        assert!(kind.to_string().contains("chained"), "{kind}");
        let (kind, _) = parse("x = a if b").unwrap_err();
        assert!(kind.to_string().contains("`else`"), "{kind}");
        let (kind, _) = parse("x = if(a, b)").unwrap_err();
        assert!(matches!(
            kind,
            ModelErrorKind::WrongArgumentCount { found: 2, .. }
        ));
    }

    #[test]
    fn an_unclosed_parenthesis_is_blamed_on_its_opening() {
        // The innermost `(` never closed, even when the parser reads on
        // into the next line.
        let (kind, span) = parse("x = f((a + b)\ny = (2 * (3)").unwrap_err();
        assert_eq!(span, 5..6);
        assert!(kind.to_string().contains("before `y`"), "{kind}");
        let (kind, span) = parse("x = f((a + b))\ny = (2 * (3)").unwrap_err();
        assert_eq!(span, 19..20);
        assert!(
            kind.to_string().contains("before end of equations"),
            "{kind}"
        );
        let (kind, span) = parse("x = (a + 1\ny = b").unwrap_err();
        assert_eq!(span, 4..5);
        assert!(kind.to_string().contains("before `y`"), "{kind}");
        // An error before the unclosed `(` is reported as it is.
        let (kind, span) = parse("x = a b\ny = (1").unwrap_err();
        assert_eq!(span, 6..7);
        assert!(matches!(kind, ModelErrorKind::Syntax { .. }));
        // A closed `(` with a mistake inside is not blamed.
        let (kind, span) = parse("x = (a\n b)").unwrap_err();
        assert_eq!(span, 8..9);
        assert!(matches!(kind, ModelErrorKind::Syntax { .. }));
        let (kind, _) = parse("x = a + 1)").unwrap_err();
        assert!(kind.to_string().contains("closes no `(`"), "{kind}");
        let (kind, span) = parse("x = a = 1").unwrap_err();
        assert_eq!(span, 6..7);
        assert!(kind.to_string().contains("compare with `==`"), "{kind}");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let src = format!("x = {}1{}", "(".repeat(10_000), ")".repeat(10_000));
        let (kind, _) = parse(&src).unwrap_err();
        assert!(kind.to_string().contains("nesting"), "{kind}");
        let src = format!("x = {}1", "-".repeat(10_000));
        assert!(parse(&src).is_err());
    }
}
