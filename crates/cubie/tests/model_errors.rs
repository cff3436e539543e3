//! Every kind of model error, with its location and message.

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
