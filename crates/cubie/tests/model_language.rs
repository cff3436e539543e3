//! The equation language evaluated numerically: precedence, both
//! conditional syntaxes, auxiliaries, constants and declaration order.

mod model_support;

use cubie::Precision;
use cubie::system::Model;
use cubie::system::expr::{Node, Symbol};
use model_support::{Inputs, eval};

/// The value of `expr` with states `x`, `y`, parameter `p`, time `t`.
fn value(expr: &str, x: f64, y: f64, p: f64, t: f64) -> f64 {
    let model = Model::builder(format!("dx = {expr}\ndy = 0"))
        .state("x", 0.0)
        .state("y", 0.0)
        .parameter("p", 0.0)
        .build()
        .unwrap_or_else(|e| panic!("`{expr}`: {}", e.render()));
    let f = model.functions();
    let inputs = Inputs {
        t,
        states: vec![x, y],
        parameters: vec![p],
        ..Inputs::default()
    };
    eval(&f.graph, &f.dxdt, &inputs)[0]
}

fn v(expr: &str) -> f64 {
    value(expr, 3.0, 2.0, 0.5, 1.25)
}

#[test]
fn arithmetic_precedence() {
    assert_eq!(v("1 + 2 * 3"), 7.0);
    assert_eq!(v("(1 + 2) * 3"), 9.0);
    assert_eq!(v("8 / 4 / 2"), 1.0);
    assert_eq!(v("10 - 4 - 3"), 3.0);
    assert_eq!(v("x - y * p"), 2.0);
    assert_eq!(v("2 * x / y"), 3.0);
}

#[test]
fn powers_are_right_associative_and_bind_tighter_than_minus() {
    assert_eq!(v("-x^2"), -9.0);
    assert_eq!(v("-x**2"), -9.0);
    assert_eq!(v("(-x)^2"), 9.0);
    assert_eq!(v("2^3^2"), 512.0);
    assert_eq!(v("2**3**2"), 512.0);
    assert_eq!(v("2^-1"), 0.5);
    assert_eq!(v("x^2 * y"), 18.0);
    assert_eq!(v("- - x"), 3.0);
    assert_eq!(v("+x"), 3.0);
    assert_eq!(v("pow(2, y)"), 4.0);
}

#[test]
fn numbers_in_every_form() {
    assert_eq!(v("2 + 1.5 + .5 + 1e-3 + 2E1"), 24.001);
}

#[test]
fn time_is_t() {
    assert_eq!(v("t * 2"), 2.5);
}

#[test]
fn both_conditional_syntaxes() {
    assert_eq!(v("if(x > y, 1, -1)"), 1.0);
    assert_eq!(v("if(x < y, 1, -1)"), -1.0);
    assert_eq!(v("1 if x > y else -1"), 1.0);
    assert_eq!(v("1 if x < y else -1"), -1.0);
    // The conditional binds loosest: (x + 1) if ... else (y * 2).
    assert_eq!(v("x + 1 if x == 3 else y * 2"), 4.0);
    assert_eq!(v("x + 1 if x != 3 else y * 3"), 6.0);
    // Chained: a if c1 else (b if c2 else d).
    assert_eq!(
        value("1 if x > 2 else 2 if x > 1 else 3", 2.5, 0.0, 0.0, 0.0),
        1.0
    );
    assert_eq!(
        value("1 if x > 2 else 2 if x > 1 else 3", 1.5, 0.0, 0.0, 0.0),
        2.0
    );
    assert_eq!(
        value("1 if x > 2 else 2 if x > 1 else 3", 0.5, 0.0, 0.0, 0.0),
        3.0
    );
    assert_eq!(v("if(x >= 3, 10, 0) + if(x <= 2, 1, 0)"), 10.0);
}

#[test]
fn logic_operators() {
    assert_eq!(v("if(x > 1 and y > 1, 1, 0)"), 1.0);
    assert_eq!(v("if(x > 1 and y > 5, 1, 0)"), 0.0);
    assert_eq!(v("if(x > 5 or y > 1, 1, 0)"), 1.0);
    assert_eq!(v("if(not x > 5, 1, 0)"), 1.0);
    // `not` binds looser than comparisons, `and` tighter than `or`.
    assert_eq!(v("if(x > 5 or y > 1 and p > 1, 1, 0)"), 0.0);
    assert_eq!(v("if(not x > 5 and y > 1, 1, 0)"), 1.0);
}

#[test]
fn functions_evaluate() {
    let x: f64 = 3.0;
    assert_eq!(v("exp(1)"), 1f64.exp());
    assert_eq!(
        v("log(x) + log10(x) + log2(x)"),
        x.ln() + x.log10() + x.log2()
    );
    assert_eq!(v("atan2(y, x)"), 2f64.atan2(3.0));
    assert_eq!(v("hypot(x, 4)"), 5.0);
    assert_eq!(v("min(x, y, p)"), 0.5);
    assert_eq!(v("max(x, y)"), 3.0);
    assert_eq!(
        v("floor(-p) + ceil(p) + sign(-x) + abs(-y)"),
        -1.0 + 1.0 - 1.0 + 2.0
    );
    assert_eq!(v("heaviside(x - 3)"), 0.5);
    assert_eq!(v("sqrt(x) * cbrt(8)"), 3f64.sqrt() * 2.0);
}

#[test]
fn equations_continue_inside_parentheses_and_skip_comments() {
    let model = Model::builder("# leading comment\n\ndx = (x +\n      y)  # trailing\ndy = 0\n")
        .states([("x", 1.0), ("y", 2.0)])
        .build()
        .expect("valid");
    let f = model.functions();
    let inputs = Inputs {
        states: vec![1.0, 2.0],
        ..Inputs::default()
    };
    assert_eq!(eval(&f.graph, &f.dxdt, &inputs), vec![3.0, 0.0]);
}

#[test]
fn auxiliaries_in_any_order_are_inlined_and_shared() {
    let model = Model::builder("dx = a * b\nb = a + 1\na = sin(x)\ndy = a\nunused_aux = 5")
        .states([("x", 0.0), ("y", 0.0)])
        .build()
        .expect("valid");
    assert_eq!(model.auxiliaries(), ["a", "b", "unused_aux"]);
    let f = model.functions();
    let x: f64 = 0.7;
    let inputs = Inputs {
        states: vec![x, 0.0],
        ..Inputs::default()
    };
    let out = eval(&f.graph, &f.dxdt, &inputs);
    assert_eq!(out, vec![x.sin() * (x.sin() + 1.0), x.sin()]);
    // sin(x) is one node used by both roots: sin, +, *.
    assert_eq!(f.graph.shared_op_count(&f.dxdt), 3);
    assert_eq!(f.graph.tree_op_count(&f.dxdt), 5);
}

#[test]
fn constants_become_literals_and_inputs_become_symbols() {
    let model = Model::builder("dx = k * x + p * s")
        .state("x", 1.0)
        .parameter("p", 2.0)
        .constant("k", 4.0)
        .driver("s", 0.0)
        .build()
        .expect("valid");
    let g = &model.functions().graph;
    let symbols: Vec<Symbol> = g
        .nodes()
        .iter()
        .filter_map(|n| match n {
            Node::Symbol(s) => Some(*s),
            _ => None,
        })
        .collect();
    assert!(symbols.contains(&Symbol::Parameter(0)));
    assert!(symbols.contains(&Symbol::Driver(0)));
    assert!(g.nodes().iter().any(|n| n.as_const() == Some(4.0)));
    let inputs = Inputs {
        states: vec![3.0],
        parameters: vec![2.0],
        drivers: vec![5.0],
        ..Inputs::default()
    };
    assert_eq!(eval(g, &model.functions().dxdt, &inputs), vec![22.0]);
}

#[test]
fn an_auxiliary_starting_with_d_is_fine_when_used() {
    let model = Model::builder("decay = 0.5 * x\ndx = -decay")
        .state("x", 1.0)
        .build()
        .expect("`decay` is an auxiliary");
    assert_eq!(model.auxiliaries(), ["decay"]);
}

#[test]
fn lorenz_file_keeps_order_and_defaults() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/lorenz.toml");
    let model = Model::from_file(path).expect("lorenz is valid");
    assert_eq!(model.name(), "lorenz");
    assert_eq!(model.precision(), Precision::F64);
    let names: Vec<&str> = model.states().iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["x", "y", "z"]);
    assert_eq!(model.state_defaults(), vec![1.0, 0.0, 0.0]);
    assert_eq!(model.parameter_index("rho"), Some(0));
    assert_eq!(model.constant_index("beta"), Some(1));
    assert_eq!(model.driver_index("stim"), Some(0));
    assert_eq!(model.observable_index("energy"), Some(0));
    assert_eq!(model.state_index("energy"), None);
    assert_eq!(model.constants()[1].value, 8.0 / 3.0);

    let f = model.functions();
    assert_eq!((f.n_states, f.n_parameters, f.n_drivers), (3, 1, 1));
    let (x, y, z, rho) = (1.5, -0.5, 2.0, 21.0);
    let inputs = Inputs {
        states: vec![x, y, z],
        parameters: vec![rho],
        drivers: vec![0.0],
        ..Inputs::default()
    };
    let dxdt = eval(&f.graph, &f.dxdt, &inputs);
    assert_eq!(
        dxdt,
        vec![10.0 * (y - x), x * (rho - z) - y, x * y - 8.0 / 3.0 * z]
    );
    let energy = eval(&f.graph, &f.observables, &inputs);
    assert_eq!(energy, vec![x * x + y * y + z * z]);
}

#[test]
fn precision_and_integer_defaults_from_a_file() {
    let src = "precision = \"f32\"\nequations = \"dx = -x\"\n[states]\nx = 1\n";
    let model = Model::from_toml_str(src, "decay.toml").expect("valid");
    assert_eq!(model.precision(), Precision::F32);
    assert_eq!(model.name(), "decay");
    assert_eq!(model.state_defaults(), vec![1.0]);
}
