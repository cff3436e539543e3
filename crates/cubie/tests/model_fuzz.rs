//! Arbitrary equation text and model files give errors, never panics.

use cubie::system::Model;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_equations_never_panic(src in "[dxyzpt0-9.eE+*/^()<>=!,# \\n_a-z-]{0,60}") {
        let result = Model::builder(src).states([("x", 1.0), ("y", 0.0)]).parameter("p", 1.0).build();
        if let Err(e) = result {
            prop_assert!(!e.render().is_empty());
        }
    }

    #[test]
    fn arbitrary_files_never_panic(src in "(name|equations|\\[states\\]|x|=|\"|'|1|\\n| |dx|#|é)*") {
        let _ = Model::from_toml_str(&src, "fuzz.toml").map_err(|e| e.render());
    }
}

/// Pieces of adversarial equation text: names (declared, built-in, long),
/// numbers (overflowing, underflowing, malformed), operators, unbalanced
/// parentheses, `=` misuse, unicode, comments and line breaks.
fn piece() -> impl Strategy<Value = String> {
    let fixed = prop::sample::select(vec![
        "x",
        "y",
        "p",
        "c",
        "s",
        "t",
        "dx",
        "dy",
        "d",
        "sin",
        "exp",
        "max",
        "if",
        "else",
        "and",
        "not",
        "a",
        "b",
        "1",
        "0",
        "2.5",
        ".5",
        "1e999999",
        "1e-400",
        "10^400",
        "1e",
        "1e+",
        "2x",
        "0x10",
        "1.2.3",
        "+",
        "-",
        "*",
        "/",
        "^",
        "**",
        "(",
        ")",
        "((",
        "))",
        ",",
        "=",
        "==",
        "!=",
        "<",
        ">=",
        "#",
        "\n",
        "\n\n",
        "\r\n",
        " ",
        "\t",
        "é",
        "λ",
        "\u{200b}",
        "😀",
        "$",
        "\\",
        "\"",
        "'",
        ";",
        "[",
        "]",
        "\\n",
        "\\t",
        "\\u0078",
        "\\U0001F600",
        "\\x41",
        "\\\n",
        "\\q",
    ])
    .prop_map(str::to_string);
    prop_oneof![
        8 => fixed,
        1 => "[a-z_]{1,300}",
        1 => "[0-9]{1,400}",
        1 => (1usize..2_000).prop_map(|n| "x + ".repeat(n)),
    ]
}

/// A model file around `equations` (in a TOML literal string, verbatim,
/// or a basic one, whose escapes the errors must see through), with states
/// x, y, parameter p, constant c and driver s.
fn model_file(equations: &str, basic: bool) -> String {
    let quotes = if basic { "\"\"\"" } else { "'''" };
    format!(
        "name = \"fuzz\"\nequations = {quotes}\n{equations}\n{quotes}\n[states]\nx = 1.0\ny = 0.0\n\
         [parameters]\np = 2.0\n[constants]\nc = 3.0\n[drivers]\ns = 0.0\n"
    )
}

/// An error's line and column lie within `src`, and its line text is that
/// line of `src`.
fn check_location(src: &str, e: &cubie::system::ModelError) -> Result<(), TestCaseError> {
    let Some(l) = e.location() else {
        return Ok(());
    };
    let lines: Vec<&str> = src.split('\n').collect();
    prop_assert!(
        l.line >= 1 && l.line <= lines.len(),
        "line {} of {}: {e}",
        l.line,
        lines.len()
    );
    let line = lines[l.line - 1].trim_end_matches('\r');
    prop_assert_eq!(&l.line_text, line);
    let width = line.chars().count();
    prop_assert!(
        l.column >= 1 && l.column <= width + 1,
        "column {} of {}: {e}",
        l.column,
        width
    );
    prop_assert!(l.length >= 1);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn adversarial_equations_give_located_errors(
        pieces in prop::collection::vec(piece(), 0..40),
        basic in any::<bool>(),
    ) {
        let equations = pieces.concat();
        let src = model_file(&equations, basic);
        match Model::from_toml_str(&src, "fuzz.toml") {
            Ok(model) => prop_assert!(model.state_index("x").is_some()),
            Err(e) => {
                check_location(&src, &e)?;
                let rendered = e.render();
                prop_assert!(!rendered.is_empty());
                // A long line is cut, and a long name is not echoed whole.
                prop_assert!(rendered.len() < 4096, "{} bytes", rendered.len());
            }
        }
    }

    #[test]
    fn adversarial_values_in_the_tables_never_panic(
        values in prop::collection::vec(value_text(), 4),
    ) {
        let src = format!(
            "equations = \"dx = -x * p + c + s\"\n[states]\nx = {}\n[parameters]\np = {}\n\
             [constants]\nc = {}\n[drivers]\ns = {}\n",
            values[0], values[1], values[2], values[3]
        );
        match Model::from_toml_str(&src, "values.toml") {
            Ok(model) => {
                let all = model.states().iter().chain(model.parameters()).chain(model.constants()).chain(model.drivers());
                for v in all {
                    prop_assert!(v.value.is_finite(), "{} = {}", v.name, v.value);
                }
            }
            Err(e) => {
                check_location(&src, &e)?;
                prop_assert!(e.render().len() < 4096);
            }
        }
    }
}

/// TOML values as a user (or a script) might write them for a default.
fn value_text() -> impl Strategy<Value = String> {
    let fixed = prop::sample::select(vec![
        "nan",
        "+nan",
        "-nan",
        "inf",
        "+inf",
        "-inf",
        "1e400",
        "-1e400",
        "1e-400",
        "-0.0",
        "0",
        "4.9e-324",
        "1.7976931348623157e308",
        "1.8e308",
        "99999999999999999999",
        "-9223372036854775809",
        "9223372036854775807",
        "0xffffffffffffffffffffffffffffffff",
        "0o777",
        "0b101",
        "1_000",
        "1__0",
        "01",
        "+1",
        "1.",
        ".1",
        "\"1\"",
        "true",
        "[1]",
        "{ a = 1 }",
        "1979-05-27",
        "",
        "x",
        "1e",
        "0x",
        "-",
        "1 2",
    ])
    .prop_map(str::to_string);
    prop_oneof![
        4 => fixed,
        1 => any::<f64>().prop_map(|x| format!("{x:e}")),
        1 => any::<i128>().prop_map(|i| i.to_string()),
        1 => "[0-9]{300,400}",
        1 => "[0-9]{1,3}e[0-9]{3,6}",
    ]
}
