//! Every kind of model error, with its location and message.

use cubie::Precision;
use cubie::system::{Model, ModelError, ModelErrorKind};

/// Builds a model from a file text that must fail.
fn file_error(src: &str) -> ModelError {
    match Model::from_toml_str(src, "bad.toml") {
        Ok(_) => panic!("expected an error for:\n{src}"),
        Err(e) => e,
    }
}

/// A model file with these equations and states x, y; parameter p;
/// constant c; driver s. The equations start on line 2.
fn with_equations(equations: &str) -> String {
    format!(
        "name = \"m\"\nequations = \"\"\"\n{equations}\n\"\"\"\n[states]\nx = 1.0\ny = 2.0\n\
         [parameters]\np = 1.0\n[constants]\nc = 3.0\n[drivers]\ns = 0.0\n"
    )
}

fn equations_error(equations: &str) -> ModelError {
    file_error(&with_equations(equations))
}

/// (line, column, length) of the error.
fn place(e: &ModelError) -> (usize, usize, usize) {
    let l = e.location().unwrap_or_else(|| panic!("no location: {e}"));
    (l.line, l.column, l.length)
}

#[test]
fn unknown_symbol_suggests_the_nearest_name() {
    let src = include_str!("../../../examples/lorenz.toml").replace("dx = sigma", "dx = sigmaa");
    let e = file_error(&src);
    assert_eq!(
        *e.kind(),
        ModelErrorKind::UnknownSymbol {
            name: "sigmaa".into(),
            suggestion: Some("sigma".into())
        }
    );
    assert_eq!(place(&e), (5, 6, 6));
    assert!(
        e.to_string()
            .starts_with("bad.toml:5:6: unknown symbol `sigmaa` (did you mean `sigma`?)"),
        "{e}"
    );
    let rendered = e.render();
    assert!(rendered.contains("5 | dx = sigmaa * (y - x)"), "{rendered}");
    assert!(rendered.contains("  |      ^^^^^^"), "{rendered}");
}

#[test]
fn unknown_symbol_far_from_every_name_has_no_suggestion() {
    let e = equations_error("dx = zzzzzz\ndy = 0");
    assert_eq!(
        *e.kind(),
        ModelErrorKind::UnknownSymbol {
            name: "zzzzzz".into(),
            suggestion: None
        }
    );
    assert_eq!(place(&e), (3, 6, 6));
}

#[test]
fn syntax_errors_name_the_found_and_expected_text() {
    let e = equations_error("dx = x +\ndy = (y * 2");
    assert!(matches!(*e.kind(), ModelErrorKind::Syntax { .. }));
    assert_eq!(place(&e).0, 3);
    assert!(e.to_string().contains("found end of line"), "{e}");

    let e = equations_error("dx = x\ndy = y y");
    assert_eq!(place(&e), (4, 8, 1));
    assert!(
        e.to_string()
            .contains("expected an operator or the end of the line, found `y`"),
        "{e}"
    );

    let e = equations_error("dx = x $ 2\ndy = 0");
    assert_eq!(place(&e), (3, 8, 1));
    assert!(e.to_string().contains("found `$`"), "{e}");

    let e = equations_error("dx = 2x\ndy = 0");
    assert_eq!(place(&e), (3, 6, 2));
    assert!(e.to_string().contains("`2 * x`"), "{e}");

    let e = equations_error("dx = x\n= y");
    assert_eq!(place(&e), (4, 1, 1));
    assert!(
        e.to_string()
            .contains("expected a name at the start of an equation"),
        "{e}"
    );
}

#[test]
fn unknown_functions_and_argument_counts() {
    let e = equations_error("dx = sinn(x)\ndy = 0");
    assert_eq!(
        *e.kind(),
        ModelErrorKind::UnknownFunction {
            name: "sinn".into(),
            suggestion: Some("sin".into())
        }
    );
    assert_eq!(place(&e), (3, 6, 4));

    let e = equations_error("dx = x\ndy = atan2(y)");
    assert_eq!(
        *e.kind(),
        ModelErrorKind::WrongArgumentCount {
            name: "atan2".into(),
            expected: "2 arguments".into(),
            found: 1
        }
    );
    assert_eq!(place(&e), (4, 6, 8));
    assert!(
        e.to_string().contains("`atan2` takes 2 arguments, found 1"),
        "{e}"
    );

    let e = equations_error("dx = exp(x, y)\ndy = 0");
    assert!(
        e.to_string().contains("`exp` takes 1 argument, found 2"),
        "{e}"
    );

    let e = equations_error("dx = if(x, y)\ndy = 0");
    assert!(e.to_string().contains("`if` takes 3 arguments"), "{e}");

    let e = equations_error("dx = exp * x\ndy = 0");
    assert_eq!(
        *e.kind(),
        ModelErrorKind::FunctionAsValue { name: "exp".into() }
    );
    assert_eq!(place(&e), (3, 6, 3));
}

#[test]
fn a_state_without_a_derivative_points_at_its_declaration() {
    let e = equations_error("dx = -x");
    assert_eq!(
        *e.kind(),
        ModelErrorKind::MissingDerivative { name: "y".into() }
    );
    // `y = 2.0` is line 7 of the file.
    assert_eq!(place(&e), (7, 1, 1));
    assert!(e.to_string().contains("add an equation `dy = ...`"), "{e}");
}

#[test]
fn a_derivative_of_an_undeclared_state() {
    let e = equations_error("dx = -x\ndq = 1");
    assert_eq!(
        *e.kind(),
        ModelErrorKind::UndeclaredState {
            name: "q".into(),
            suggestion: Some("y".into())
        }
    );
    assert_eq!(place(&e), (4, 1, 2));
    assert!(e.to_string().contains("did you mean `dy`?"), "{e}");
}

#[test]
fn two_definitions_of_one_name() {
    let e = equations_error("dx = -x\ndy = 1\na = 1\ndx = 2\n");
    assert_eq!(
        *e.kind(),
        ModelErrorKind::DuplicateDefinition {
            name: "dx".into(),
            first_line: 3
        }
    );
    assert_eq!(place(&e), (6, 1, 2));
}

#[test]
fn a_name_in_two_roles() {
    let src = with_equations("dx = 1\ndy = 1").replace("[constants]\nc", "[constants]\np");
    let e = file_error(&src);
    assert_eq!(
        *e.kind(),
        ModelErrorKind::DuplicateDeclaration {
            name: "p".into(),
            first: "parameter",
            second: "constant"
        }
    );
    assert_eq!(place(&e), (12, 1, 1));
}

#[test]
fn assignments_to_inputs() {
    for (eq, role, col) in [
        ("p = 1", "parameter", 1),
        ("c = 1", "constant", 1),
        ("s = 1", "driver", 1),
    ] {
        let e = equations_error(&format!("dx = 1\ndy = 1\n{eq}"));
        match e.kind() {
            ModelErrorKind::AssignToInput { role: r, .. } => assert_eq!(*r, role),
            other => panic!("{other:?}"),
        }
        assert_eq!(place(&e), (5, col, 1));
        assert!(
            e.to_string().contains(&format!("cannot assign to {role}")),
            "{e}"
        );
    }
    let e = equations_error("dx = 1\ny = 1");
    assert!(
        e.to_string()
            .contains("cannot assign to state `y`: write its derivative as `dy = ...`"),
        "{e}"
    );
    let e = equations_error("dx = 1\ndy = 1\nt = 2");
    assert!(e.to_string().contains("cannot assign to time `t`"), "{e}");
}

#[test]
fn auxiliary_cycles_are_named() {
    let e = equations_error("dx = a\ndy = 0\na = b + 1\nb = 2 * w\nw = a");
    assert_eq!(
        *e.kind(),
        ModelErrorKind::AuxiliaryCycle {
            cycle: vec!["a".into(), "b".into(), "w".into(), "a".into()]
        }
    );
    assert_eq!(place(&e), (5, 1, 1));
    let e = equations_error("dx = a\ndy = 0\na = a + 1");
    assert!(e.to_string().contains("a -> a"), "{e}");
}

#[test]
fn non_numeric_defaults() {
    let src = with_equations("dx = 1\ndy = 1").replace("y = 2.0", "y = \"two\"");
    let e = file_error(&src);
    assert_eq!(
        *e.kind(),
        ModelErrorKind::InvalidDefault {
            role: "state",
            name: "y".into(),
            found: "the string \"two\"".into()
        }
    );
    assert_eq!(place(&e), (8, 5, 5));

    let src = with_equations("dx = 1\ndy = 1").replace("p = 1.0", "p = true");
    let e = file_error(&src);
    assert!(
        e.to_string()
            .contains("default of parameter `p` must be a finite number, found a boolean"),
        "{e}"
    );

    let src = with_equations("dx = 1\ndy = 1").replace("c = 3.0", "c = nan");
    assert!(matches!(
        file_error(&src).kind(),
        ModelErrorKind::InvalidDefault { .. }
    ));
}

#[test]
fn observables_must_be_defined() {
    let src = format!(
        "observables = [\"energi\"]\n{}",
        with_equations("dx = 1\ndy = 1\nenergy = x^2")
    );
    let e = file_error(&src);
    assert_eq!(
        *e.kind(),
        ModelErrorKind::UndefinedObservable {
            name: "energi".into(),
            suggestion: Some("energy".into())
        }
    );
    assert_eq!(place(&e), (1, 16, 8));
}

#[test]
fn time_and_keywords_cannot_be_declared() {
    let src = with_equations("dx = 1\ndy = 1").replace("s = 0.0", "t = 0.0");
    let e = file_error(&src);
    assert!(
        e.to_string().contains("`t` cannot be declared as a driver"),
        "{e}"
    );
    let e = Model::builder("dx = 1")
        .state("x", 0.0)
        .parameter("if", 1.0)
        .build()
        .expect_err("keyword");
    assert!(
        e.to_string()
            .contains("`if` cannot be declared as a parameter: it is a keyword"),
        "{e}"
    );
    let e = Model::builder("dx = 1")
        .state("x", 0.0)
        .parameter("a-b", 1.0)
        .build()
        .expect_err("bad name");
    assert!(matches!(*e.kind(), ModelErrorKind::InvalidName { .. }));
}

#[test]
fn file_level_errors() {
    let e = file_error("equations = \"dx = 1\"\n[stats]\nx = 1\n");
    assert_eq!(
        *e.kind(),
        ModelErrorKind::UnknownKey {
            key: "stats".into(),
            suggestion: Some("states".into())
        }
    );
    assert_eq!(place(&e).0, 2);

    let e = file_error("equations = \"dx = 1\"\n");
    assert_eq!(*e.kind(), ModelErrorKind::NoStates);

    let e = file_error("[states]\nx = 1\n");
    assert!(matches!(*e.kind(), ModelErrorKind::MissingKey { .. }));
    assert!(
        e.to_string().starts_with("bad.toml: missing `equations`"),
        "{e}"
    );

    let e = file_error("equations = 3\n[states]\nx = 1\n");
    assert!(
        e.to_string()
            .contains("`equations` must be a string, found an integer"),
        "{e}"
    );
    assert_eq!(place(&e), (1, 13, 1));

    let e = file_error("precision = \"f16\"\nequations = \"dx = 1\"\n[states]\nx = 1\n");
    assert_eq!(
        *e.kind(),
        ModelErrorKind::InvalidPrecision {
            found: "f16".into()
        }
    );
    assert_eq!(place(&e), (1, 13, 5));

    let e = file_error("equations = \"dx = 1\"\n[states]\nx = \n");
    assert!(matches!(*e.kind(), ModelErrorKind::Toml { .. }));
    assert_eq!(place(&e).0, 3);
}

#[test]
fn builder_errors_are_relative_to_the_equations() {
    let e = Model::builder("dx = -k * x\n\ndy = kk")
        .states([("x", 1.0), ("y", 0.0)])
        .parameter("k", 1.0)
        .build()
        .expect_err("unknown kk");
    assert!(
        e.to_string()
            .starts_with("<equations>:3:6: unknown symbol `kk` (did you mean `k`?)"),
        "{e}"
    );
    let e = Model::builder("dx = 1")
        .state("x", f64::NAN)
        .build()
        .expect_err("nan");
    assert!(matches!(*e.kind(), ModelErrorKind::InvalidDefault { .. }));
    let e = Model::builder("dx = 1")
        .state("x", 0.0)
        .state("x", 1.0)
        .build()
        .expect_err("twice");
    assert!(
        e.to_string()
            .contains("declared as a state and again as a state"),
        "{e}"
    );
}

#[test]
fn a_missing_file_is_an_io_error() {
    let e = Model::from_file("no/such/model.toml").expect_err("missing");
    assert!(matches!(*e.kind(), ModelErrorKind::Io { .. }));
    assert!(
        e.to_string()
            .starts_with("no/such/model.toml: cannot read model file"),
        "{e}"
    );
}

/// The value of `dx` in a model of states x, y, parameter p at x, y.
fn dx_value(equation: &str, x: f64, y: f64) -> f64 {
    let model = Model::builder(format!("{equation}\ndy = 0"))
        .states([("x", 0.0), ("y", 0.0)])
        .parameter("p", 1.0)
        .build()
        .unwrap_or_else(|e| panic!("`{equation}`: {}", e.render()));
    let f = model.functions();
    let inputs = model_support::Inputs {
        states: vec![x, y],
        parameters: vec![1.0],
        ..Default::default()
    };
    model_support::eval(&f.graph, &f.dxdt, &inputs)[0]
}

mod model_support;

#[test]
fn numbers_beyond_f64_are_errors_at_the_literal() {
    let e = equations_error("dx = 1e999999 * (y - x)\ndy = 0");
    assert_eq!(
        *e.kind(),
        ModelErrorKind::NonFiniteConstant {
            text: "1e999999".into(),
            value: "inf".into(),
            literal: true,
            precision: Precision::F64
        }
    );
    assert_eq!(place(&e), (3, 6, 8));
    assert!(
        e.to_string()
            .contains("the number `1e999999` is beyond the range of f64"),
        "{e}"
    );
}

#[test]
fn constant_expressions_that_fold_to_non_finite_values_are_errors() {
    // (equations, offending text, its value, line, column)
    let cases = [
        ("dx = 10^400 * x\ndy = 0", "10^400", "inf", 3, 6),
        // `c` is a constant (3): folded in before the check.
        ("dx = c / 0 * (y - x)\ndy = 0", "c / 0", "inf", 3, 6),
        // A parenthesised expression covers its parentheses.
        ("dx = x\ndy = y * (-c / 0)", "(-c / 0)", "-inf", 4, 10),
        ("dx = x + sqrt(-c)\ndy = 0", "sqrt(-c)", "NaN", 3, 10),
        ("dx = x * log(0)\ndy = 0", "log(0)", "-inf", 3, 10),
        ("dx = exp(1000) * x\ndy = 0", "exp(1000)", "inf", 3, 6),
        ("dx = x\ndy = 0 / 0", "0 / 0", "NaN", 4, 6),
        // `x * 0` simplifies to 0, so this is 0 / 0 too.
        ("dx = x * 0 / 0\ndy = 0", "x * 0 / 0", "NaN", 3, 6),
        // In an auxiliary, and in a branch that may never be taken.
        (
            "dx = a\ndy = 0\na = if(x > 0, 1, c / 0)",
            "c / 0",
            "inf",
            5,
            18,
        ),
        ("dx = x\ndy = 1e308 * 10", "1e308 * 10", "inf", 4, 6),
    ];
    for (equations, text, value, line, column) in cases {
        let e = equations_error(equations);
        assert_eq!(
            *e.kind(),
            ModelErrorKind::NonFiniteConstant {
                text: text.into(),
                value: value.into(),
                literal: false,
                precision: Precision::F64
            },
            "{equations}"
        );
        assert_eq!(
            place(&e),
            (line, column, text.chars().count()),
            "{equations}"
        );
        assert!(
            e.to_string().contains(&format!(
                "`{text}` is a constant expression whose value is {value}"
            )),
            "{e}"
        );
    }
    // Not constant: the division happens at run time, with the run's x.
    assert!(Model::from_toml_str(&with_equations("dx = 1 / x\ndy = 1e308 * y"), "ok.toml").is_ok());
}

#[test]
fn non_finite_and_huge_defaults_in_the_tables() {
    // (table line as written, what the message says was found)
    for (from, to, found) in [
        ("x = 1.0", "x = inf", "`inf`"),
        ("y = 2.0", "y = -inf", "`-inf`"),
        ("p = 1.0", "p = +inf", "`+inf`"),
        ("c = 3.0", "c = nan", "`nan`"),
        ("s = 0.0", "s = -nan", "`-nan`"),
        (
            "p = 1.0",
            "p = 1e400",
            "`1e400`, which is beyond the range of f64",
        ),
        (
            "c = 3.0",
            "c = -2.5e309",
            "`-2.5e309`, which is beyond the range of f64",
        ),
    ] {
        let src = with_equations("dx = 1\ndy = 1").replace(from, to);
        let e = file_error(&src);
        let ModelErrorKind::InvalidDefault { name, found: f, .. } = e.kind() else {
            panic!("{to}: {e}");
        };
        assert_eq!((name.as_str(), f.as_str()), (&to[..1], found), "{to}");
        // The caret is under the value, on the key's line.
        let line = src.lines().position(|l| l == to).expect("line") + 1;
        assert_eq!(place(&e), (line, 5, to.len() - 4), "{to}");
        assert!(
            e.to_string().contains(&format!(
                "`{}` must be a finite number, found {found}",
                &to[..1]
            )),
            "{e}"
        );
    }
    // Integers beyond i64 are numbers like any other.
    let src = with_equations("dx = 1\ndy = 1")
        .replace("x = 1.0", "x = 99999999999999999999")
        .replace("p = 1.0", "p = 0xffffffffffffffffffff")
        .replace("c = 3.0", "c = -0.0");
    let model = Model::from_toml_str(&src, "big.toml").unwrap_or_else(|e| panic!("{}", e.render()));
    assert_eq!(model.states()[0].value, 1e20);
    assert_eq!(model.parameters()[0].value, 2f64.powi(80) - 1.0);
}

#[test]
fn comparisons_are_numbers_one_or_zero() {
    assert_eq!(dx_value("dx = x > 0", 3.0, 0.0), 1.0);
    assert_eq!(dx_value("dx = x > 0", -1.0, 0.0), 0.0);
    assert_eq!(
        dx_value("dx = (x > 0) + (x >= 3) + (y == 0)", 3.0, 0.0),
        3.0
    );
    assert_eq!(dx_value("dx = 2 * (x < y) - (x != y)", 1.0, 2.0), 1.0);
    assert_eq!(dx_value("dx = (x > 1 and y > 1) + (not x)", 2.0, 2.0), 1.0);
    // A comparison with NaN is false.
    assert_eq!(dx_value("dx = x > 0", f64::NAN, 0.0), 0.0);
}

#[test]
fn names_of_built_in_functions_cannot_be_declared_or_defined() {
    for (from, to, role) in [
        ("x = 1.0", "sin = 1.0", "state"),
        ("p = 1.0", "exp = 1.0", "parameter"),
        ("c = 3.0", "max = 3.0", "constant"),
        ("s = 0.0", "heaviside = 0.0", "driver"),
    ] {
        let src = with_equations("dy = 1").replace(from, to);
        let e = file_error(&src);
        let name = to.split(' ').next().expect("name");
        assert_eq!(
            *e.kind(),
            ModelErrorKind::InvalidName {
                name: name.into(),
                role,
                reason: "it is a built-in function; choose another name"
            },
            "{to}"
        );
        let line = src.lines().position(|l| l == to).expect("line") + 1;
        assert_eq!(place(&e), (line, 1, name.len()), "{to}");
        assert!(
            e.to_string().contains(&format!(
                "`{name}` cannot be declared as a {role}: it is a built-in function"
            )),
            "{e}"
        );
    }
    let e = equations_error("dx = 1\ndy = 1\nlog = x + 1");
    assert_eq!(
        *e.kind(),
        ModelErrorKind::InvalidName {
            name: "log".into(),
            role: "auxiliary",
            reason: "it is a built-in function; choose another name"
        }
    );
    assert_eq!(place(&e), (5, 1, 3));
    assert!(
        e.to_string()
            .contains("`log` cannot be declared as an auxiliary"),
        "{e}"
    );
    let e = Model::builder("dx = pow")
        .state("x", 0.0)
        .parameter("pow", 2.0)
        .build()
        .expect_err("pow");
    assert!(
        e.to_string()
            .starts_with("`pow` cannot be declared as a parameter: it is a built-in function"),
        "{e}"
    );
}

#[test]
fn a_name_that_reads_as_a_derivative_cannot_be_declared() {
    // With state `x`, `dx = ...` is its derivative, so `dx` cannot also be
    // a parameter (nor a state, whose own derivative would be `ddx`).
    let src = with_equations("dx = 1\ndy = 1").replace("p = 1.0", "dx = 1.0");
    let e = file_error(&src);
    assert_eq!(
        *e.kind(),
        ModelErrorKind::InvalidName {
            name: "dx".into(),
            role: "parameter",
            reason: "it is `d` followed by the name of a state, which is how that state's derivative is written; choose another name"
        }
    );
    assert_eq!(place(&e), (10, 1, 2));
    let e = Model::builder("dx = 1\nddx = 1")
        .states([("x", 0.0), ("dx", 0.0)])
        .build()
        .expect_err("dx");
    assert!(
        e.to_string()
            .starts_with("`dx` cannot be declared as a state: it is `d` followed by"),
        "{e}"
    );
    // `d` alone, or `dq` with no state `q`, are ordinary names.
    assert!(
        Model::builder("dx = d * dq")
            .state("x", 0.0)
            .parameters([("d", 1.0), ("dq", 2.0)])
            .build()
            .is_ok()
    );
}

#[test]
fn an_unclosed_parenthesis_points_at_its_opening() {
    // Inside parentheses a line break continues the line, so the parser
    // reads into `dy`: the error is still at the `(` on line 3.
    let e = equations_error("dx = sigma * (y - x\ndy = y");
    assert_eq!(
        *e.kind(),
        ModelErrorKind::UnclosedParenthesis {
            found: "`dy`".into()
        }
    );
    assert_eq!(place(&e), (3, 14, 1));
    let rendered = e.render();
    assert!(
        rendered.starts_with(
            "bad.toml:3:14: this `(` is never closed: expected a matching `)` before `dy`"
        ),
        "{rendered}"
    );
    assert!(
        rendered.contains("3 | dx = sigma * (y - x\n  |              ^"),
        "{rendered}"
    );
    // The innermost unclosed one, at the end of the equations.
    let e = equations_error("dx = x\ndy = exp(-(y + 1) * (x");
    assert_eq!(place(&e), (4, 21, 1));
    assert!(e.to_string().contains("before end of equations"), "{e}");
}

#[test]
fn errors_without_a_line_say_what_to_add() {
    let e = file_error("equations = \"\"\"\ndx = 1\n\"\"\"\n[states]\n[parameters]\np = 1\n");
    assert_eq!(*e.kind(), ModelErrorKind::NoStates);
    // At the empty `[states]` header.
    assert_eq!(place(&e), (4, 2, 6));
    assert!(
        e.to_string()
            .contains("add at least one `name = initial value` under [states]"),
        "{e}"
    );
    let e = file_error("name = \"m\"\n[states]\nx = 1\n");
    assert!(
        e.to_string().starts_with(
            "bad.toml: missing `equations`: add `equations = \"\"\"` ... `\"\"\"` at the top of the file (before any [table])"
        ),
        "{e}"
    );
}

#[test]
fn invalid_utf8_gives_the_byte_offset_line_and_column() {
    let dir = std::env::temp_dir().join(format!("cubie-utf8-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("latin1.toml");
    // `é` in Latin-1 (0xE9) in a comment on line 3, after `x = 1 # caf`.
    let mut bytes = b"equations = \"dx = -x\"\n[states]\nx = 1 # caf".to_vec();
    let offset = bytes.len();
    bytes.extend_from_slice(b"\xe9\n");
    std::fs::write(&path, &bytes).expect("write");
    let e = Model::from_file(&path).expect_err("not UTF-8");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(*e.kind(), ModelErrorKind::InvalidUtf8 { offset });
    assert_eq!(place(&e), (3, 12, 1));
    assert!(
        e.to_string().ends_with(&format!(
            "latin1.toml:3:12: the file is not valid UTF-8: the byte at offset {offset} does not begin a UTF-8 character; save the model as UTF-8 text"
        )),
        "{e}"
    );
}

/// The rendered error's source line and caret line, without their
/// gutters.
fn source_and_caret(rendered: &str) -> (String, String) {
    let lines: Vec<&str> = rendered.lines().collect();
    let n = lines.len();
    let strip = |l: &str| {
        l.split_once(" | ")
            .map(|(_, r)| r.to_string())
            .unwrap_or_default()
    };
    (strip(lines[n - 2]), strip(lines[n - 1]))
}

#[test]
fn long_lines_are_cut_around_the_error() {
    // A 200 KB line with a mistake in the middle.
    let half = "x + ".repeat(25_000);
    let equations = format!("dx = {half}qq + {half}1\ndy = 0");
    let e = equations_error(&equations);
    assert_eq!(place(&e), (3, 5 + half.len() + 1, 2));
    let rendered = e.render();
    assert!(rendered.len() < 1024, "{} bytes", rendered.len());
    let (source, caret) = source_and_caret(&rendered);
    assert!(
        source.starts_with("...") && source.ends_with("..."),
        "{source}"
    );
    let at = caret.find('^').expect("caret");
    assert_eq!(&source[at..at + 2], "qq", "{rendered}");
    assert_eq!(caret.trim(), "^^");

    // Near the start and at the very end of a long line.
    let e = equations_error(&format!("dx = zz + {half}1\ndy = 0"));
    let (source, caret) = source_and_caret(&e.render());
    assert!(
        !source.starts_with("...") && source.ends_with("..."),
        "{source}"
    );
    assert_eq!(&source[caret.find('^').expect("caret")..][..2], "zz");
    let e = equations_error(&format!("dx = {half}1 +\ndy = 0"));
    let rendered = e.render();
    assert!(rendered.len() < 1024, "{} bytes", rendered.len());
    let (source, caret) = source_and_caret(&rendered);
    assert!(
        source.starts_with("...") && !source.ends_with("..."),
        "{source}"
    );
    assert_eq!(caret.find('^'), Some(source.len()), "{rendered}");

    // A 200 KB name is not echoed whole in the message either.
    let name = "w".repeat(200_000);
    let e = equations_error(&format!("dx = {name}\ndy = 0"));
    let rendered = e.render();
    assert!(rendered.len() < 1024, "{} bytes", rendered.len());
    assert!(rendered.contains("... (200000 characters)`"), "{rendered}");
    let (_, caret) = source_and_caret(&rendered);
    assert!(caret.starts_with("     ^"), "{caret}");
}

#[test]
fn an_f32_model_checks_its_numbers_against_the_range_of_f32() {
    let f32_model = |equations: &str| format!("precision = \"f32\"\n{}", with_equations(equations));
    // Line 4: the equations start a line later.
    let e = file_error(&f32_model("dx = 1e39 * x\ndy = 0"));
    assert_eq!(
        *e.kind(),
        ModelErrorKind::NonFiniteConstant {
            text: "1e39".into(),
            value: "inf".into(),
            literal: true,
            precision: Precision::F32
        }
    );
    assert_eq!(place(&e), (4, 6, 4));
    assert!(
        e.to_string()
            .contains("the number `1e39` is beyond the range of f32 (largest about 3.4e38)"),
        "{e}"
    );
    let e = file_error(&f32_model("dx = -c * 2e38 * x\ndy = 0"));
    assert!(
        e.to_string()
            .contains("`-c * 2e38` is a constant expression whose value is -inf in f32"),
        "{e}"
    );
    // Every constant subexpression must fit, then the result.
    assert!(Model::from_toml_str(&f32_model("dx = 1e39 / 1e10 * x\ndy = 0"), "bad.toml").is_err());
    assert!(Model::from_toml_str(&f32_model("dx = 3e38 * x\ndy = 1e-50"), "ok.toml").is_ok());
    let e = file_error(&f32_model("dx = 1\ndy = 1").replace("p = 1.0", "p = 1e300"));
    assert!(
        e.to_string().contains(
            "default of parameter `p` must be a finite number, found 1e300, which is beyond the range of f32"
        ),
        "{e}"
    );
    // The same numbers are fine in f64.
    let f64_model = with_equations("dx = 1e39 * x\ndy = 0").replace("p = 1.0", "p = 1e300");
    assert!(Model::from_toml_str(&f64_model, "ok.toml").is_ok());
}
