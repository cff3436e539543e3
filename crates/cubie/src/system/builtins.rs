//! The functions callable in equations and the graph operations they
//! build. (`if(c, a, b)` is syntax, handled by the parser.)

use super::expr::{BinaryOp, ExprGraph, ExprId, UnaryOp};

/// What a function name builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Builtin {
    Unary(UnaryOp),
    Binary(BinaryOp),
    /// `min`/`max` of two or more arguments, folded pairwise.
    Fold(BinaryOp),
}

/// Unary operations callable by name: all but the operators `-` and `not`.
fn unary() -> impl Iterator<Item = UnaryOp> {
    UnaryOp::ALL
        .into_iter()
        .filter(|op| !matches!(op, UnaryOp::Neg | UnaryOp::Not))
}

/// Every callable name (for suggestions).
pub(crate) fn names() -> impl Iterator<Item = &'static str> {
    unary()
        .map(|op| op.name())
        .chain(["atan2", "hypot", "pow", "min", "max"])
}

impl Builtin {
    /// The function called `name`, if any.
    pub(crate) fn lookup(name: &str) -> Option<Builtin> {
        if let Some(op) = unary().find(|op| op.name() == name) {
            return Some(Builtin::Unary(op));
        }
        Some(match name {
            "atan2" => Builtin::Binary(BinaryOp::Atan2),
            "hypot" => Builtin::Binary(BinaryOp::Hypot),
            "pow" => Builtin::Binary(BinaryOp::Pow),
            "min" => Builtin::Fold(BinaryOp::Min),
            "max" => Builtin::Fold(BinaryOp::Max),
            _ => return None,
        })
    }

    /// Checks an argument count; on failure, the accepted count in words.
    pub(crate) fn check_arity(self, n: usize) -> Result<(), String> {
        match self {
            Builtin::Unary(_) if n != 1 => Err("1 argument".into()),
            Builtin::Binary(_) if n != 2 => Err("2 arguments".into()),
            Builtin::Fold(_) if n < 2 => Err("at least 2 arguments".into()),
            _ => Ok(()),
        }
    }

    /// Builds the call; `args` has passed [`Builtin::check_arity`].
    pub(crate) fn build(self, graph: &mut ExprGraph, args: &[ExprId]) -> ExprId {
        match self {
            Builtin::Unary(op) => graph.unary(op, args[0]),
            Builtin::Binary(op) => graph.binary(op, args[0], args[1]),
            Builtin::Fold(op) => args[1..]
                .iter()
                .fold(args[0], |acc, &a| graph.binary(op, acc, a)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_name_resolves() {
        for name in names() {
            assert!(Builtin::lookup(name).is_some(), "{name}");
        }
        assert_eq!(Builtin::lookup("log"), Some(Builtin::Unary(UnaryOp::Ln)));
        assert_eq!(Builtin::lookup("pow"), Some(Builtin::Binary(BinaryOp::Pow)));
        assert_eq!(Builtin::lookup("neg"), None);
        assert_eq!(Builtin::lookup("not"), None);
        assert_eq!(names().count(), 30);
    }

    #[test]
    fn arity_is_checked() {
        let exp = Builtin::lookup("exp").expect("exp");
        assert!(exp.check_arity(1).is_ok());
        assert_eq!(exp.check_arity(2), Err("1 argument".into()));
        let max = Builtin::lookup("max").expect("max");
        assert!(max.check_arity(3).is_ok());
        assert_eq!(max.check_arity(1), Err("at least 2 arguments".into()));
    }
}
