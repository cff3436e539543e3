//! Native code against the tree-walking evaluator, operation by operation,
//! in f32 and f64, and on random expression graphs.
//!
//! Exactness: every operation lowers either to an IEEE instruction or to a
//! shim calling the very Rust function the evaluator calls, so results are
//! compared bit for bit (any NaN equals any NaN). The one exception is an
//! integer power `x^n` expanded into multiplications, compared within `|n|`
//! ulps of `powf` (measured worst case: about `0.8 |n|`).

use cubie::Real;
use cubie::backend::cpu::jit::{JitOptions, JitReal, NativeSystem};
use cubie::system::args::Inputs;
use cubie::system::eval::Evaluator;
use cubie::system::expr::{BinaryOp, ExprGraph, ExprId, Symbol, UnaryOp};
use cubie::system::{SystemFunction, SystemFunctions};
use proptest::prelude::*;

mod jit_support;

use jit_support::Rng;

fn same_bits<T: Real>(a: T, b: T) -> bool {
    a.to_f64().to_bits() == b.to_f64().to_bits() || (a.is_nan() && b.is_nan())
}

/// Distance in units in the last place of `T` (0 when bit-identical).
fn ulps<T: Real>(a: T, b: T) -> u64 {
    if same_bits(a, b) {
        return 0;
    }
    if a.is_nan() || b.is_nan() || a.signum() != b.signum() {
        return u64::MAX;
    }
    let (a, b) = (a.to_f64(), b.to_f64());
    if T::PRECISION == cubie::Precision::F32 {
        ((a as f32).to_bits() as i64 - (b as f32).to_bits() as i64).unsigned_abs()
    } else {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }
}

/// How the inputs of one tested operation are drawn.
#[derive(Clone, Copy)]
enum Domain {
    Range(f64, f64),
    /// Mostly uniform in `[-r, r]`, sometimes exactly one of a few special
    /// values (zeros, integers) so that ties and zero branches are taken.
    Mixed(f64),
}

fn draw(rng: &mut Rng, domain: Domain) -> f64 {
    match domain {
        Domain::Range(lo, hi) => rng.uniform(lo, hi),
        Domain::Mixed(r) => {
            if rng.next_u64().is_multiple_of(4) {
                rng.pick(&[0.0, -0.0, 1.0, -1.0, 2.0, 0.5])
            } else {
                rng.uniform(-r, r)
            }
        }
    }
}

fn unary_domain(op: UnaryOp) -> Domain {
    use UnaryOp::*;
    match op {
        Exp => Domain::Range(-20.0, 20.0),
        Expm1 => Domain::Range(-5.0, 5.0),
        Ln | Log10 | Log2 => Domain::Range(1e-3, 1e3),
        Log1p => Domain::Range(-0.99, 10.0),
        Sqrt => Domain::Range(0.0, 100.0),
        Cbrt => Domain::Range(-100.0, 100.0),
        Asin | Acos => Domain::Range(-1.0, 1.0),
        Acosh => Domain::Range(1.0, 50.0),
        Atanh => Domain::Range(-0.99, 0.99),
        Sinh | Cosh | Tanh => Domain::Range(-8.0, 8.0),
        Sin | Cos | Tan | Atan | Asinh => Domain::Range(-10.0, 10.0),
        Neg | Abs | Floor | Ceil | Sign | Heaviside | Not => Domain::Mixed(10.0),
    }
}

fn binary_domains(op: BinaryOp) -> (Domain, Domain) {
    use BinaryOp::*;
    match op {
        Pow => (Domain::Range(0.05, 10.0), Domain::Range(-4.0, 4.0)),
        Div => (Domain::Mixed(10.0), Domain::Range(0.1, 10.0)),
        _ => (Domain::Mixed(3.0), Domain::Mixed(3.0)),
    }
}

/// One graph with a root per unary op, per binary op and a select, each on
/// its own state inputs; returns the functions and each state's domain.
fn every_op() -> (SystemFunctions, Vec<Domain>) {
    let mut g = ExprGraph::new();
    let mut domains = Vec::new();
    let mut roots = Vec::new();
    let mut input = |g: &mut ExprGraph, d: Domain| {
        domains.push(d);
        g.symbol(Symbol::State(domains.len() as u32 - 1))
    };
    for op in UnaryOp::ALL {
        let x = input(&mut g, unary_domain(op));
        roots.push(g.unary(op, x));
    }
    for op in BinaryOp::ALL {
        let (da, db) = binary_domains(op);
        let a = input(&mut g, da);
        let b = input(&mut g, db);
        roots.push(g.binary(op, a, b));
    }
    let c = input(&mut g, Domain::Mixed(1.0));
    let a = input(&mut g, Domain::Mixed(5.0));
    let b = input(&mut g, Domain::Mixed(5.0));
    roots.push(g.select(c, a, b));
    let n = domains.len();
    let functions = SystemFunctions {
        graph: g,
        n_states: n,
        observables: roots,
        ..Default::default()
    };
    (functions, domains)
}

fn every_op_matches<T: JitReal>() {
    let (functions, domains) = every_op();
    let n_roots = functions.observables.len();
    assert_eq!(n_roots, UnaryOp::ALL.len() + BinaryOp::ALL.len() + 1);
    let native = NativeSystem::<T>::compile(&functions).expect("compiles");
    let mut eval = Evaluator::<T>::new(&functions).expect("valid");
    let mut rng = Rng(7);
    let (mut got, mut want) = (vec![T::zero(); n_roots], vec![T::zero(); n_roots]);
    let mut branches = [0usize; 2];
    for _ in 0..2000 {
        let state: Vec<T> = domains
            .iter()
            .map(|&d| T::from_f64(draw(&mut rng, d)))
            .collect();
        native
            .observables(T::zero(), &state, &[], &[], &mut got[..])
            .expect("lengths");
        eval.eval(
            SystemFunction::Observables,
            &Inputs::new(T::zero(), &state, &[]),
            &mut want[..],
        )
        .expect("lengths");
        for k in 0..n_roots {
            assert!(
                same_bits(got[k], want[k]),
                "root {k}: native {:?} != evaluator {:?} at {state:?}",
                got[k],
                want[k]
            );
        }
        // Comparisons must take both outcomes for the test to mean much.
        let lt = UnaryOp::ALL.len() + 9;
        branches[(got[lt] == T::one()) as usize] += 1;
    }
    assert!(branches[0] > 100 && branches[1] > 100, "{branches:?}");
}

#[test]
fn every_op_matches_the_evaluator_bit_for_bit_f64() {
    every_op_matches::<f64>();
}

#[test]
fn every_op_matches_the_evaluator_bit_for_bit_f32() {
    every_op_matches::<f32>();
}

/// `x^n` for every literal `n` in `-20..=20`: expanded powers within `|n|`
/// ulps of `powf`, and bit-exact with the expansion turned off.
fn integer_powers<T: JitReal>() {
    let mut g = ExprGraph::new();
    let x = g.symbol(Symbol::State(0));
    let exponents: Vec<f64> = (-20..=20).map(f64::from).collect();
    let roots: Vec<ExprId> = exponents
        .iter()
        .map(|&n| {
            let c = g.constant(n);
            g.binary(BinaryOp::Pow, x, c)
        })
        .collect();
    let functions = SystemFunctions {
        graph: g,
        n_states: 1,
        dxdt: vec![],
        observables: roots,
        ..Default::default()
    };
    let fast = NativeSystem::<T>::compile(&functions).expect("compiles");
    let exact = NativeSystem::<T>::compile_with(
        &functions,
        &JitOptions {
            expand_integer_powers: false,
        },
    )
    .expect("compiles");
    let mut eval = Evaluator::<T>::new(&functions).expect("valid");
    let n = exponents.len();
    let (mut a, mut b, mut want) = (vec![T::zero(); n], vec![T::zero(); n], vec![T::zero(); n]);
    let mut rng = Rng(11);
    let mut worst = 0;
    let specials = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
    ];
    for i in 0..3000 {
        let x = if i < specials.len() {
            specials[i]
        } else {
            rng.uniform(0.2, 5.0) * if i % 2 == 0 { 1.0 } else { -1.0 }
        };
        let state = [T::from_f64(x)];
        fast.observables(T::zero(), &state, &[], &[], &mut a[..])
            .expect("lengths");
        exact
            .observables(T::zero(), &state, &[], &[], &mut b[..])
            .expect("lengths");
        eval.eval(
            SystemFunction::Observables,
            &Inputs::new(T::zero(), &state, &[]),
            &mut want[..],
        )
        .expect("lengths");
        for k in 0..n {
            assert!(same_bits(b[k], want[k]), "x={x} n={}", exponents[k]);
            let d = ulps(a[k], want[k]);
            if exponents[k].abs() > 16.0 {
                assert_eq!(d, 0, "x={x} n={}: not expanded, calls powf", exponents[k]);
            }
            assert!(
                d <= (exponents[k].abs() as u64).max(1),
                "x={x} n={}: {:?} vs powf {:?} ({d} ulps)",
                exponents[k],
                a[k],
                want[k]
            );
            worst = worst.max(d);
        }
    }
    assert!(worst > 0, "expansion should differ from powf somewhere");
}

#[test]
fn integer_powers_are_close_to_powf_f64() {
    integer_powers::<f64>();
}

#[test]
fn integer_powers_are_close_to_powf_f32() {
    integer_powers::<f32>();
}

/// NaN through min/max/sign/heaviside/comparisons/logic/select, against the
/// reference `apply()` in f64 and the evaluator in both precisions.
fn nan_cases<T: JitReal>() {
    let nan = f64::NAN;
    let mut g = ExprGraph::new();
    let a = g.symbol(Symbol::State(0));
    let b = g.symbol(Symbol::State(1));
    let mut roots = Vec::new();
    let mut expected: Vec<Box<dyn Fn(f64, f64) -> f64>> = Vec::new();
    for op in [
        UnaryOp::Sign,
        UnaryOp::Heaviside,
        UnaryOp::Not,
        UnaryOp::Abs,
    ] {
        roots.push(g.unary(op, a));
        expected.push(Box::new(move |x, _| op.apply(x)));
    }
    for op in BinaryOp::ALL {
        roots.push(g.binary(op, a, b));
        expected.push(Box::new(move |x, y| op.apply(x, y)));
    }
    roots.push(g.select(a, b, a));
    expected.push(Box::new(|x, y| if x != 0.0 { y } else { x }));
    let functions = SystemFunctions {
        graph: g,
        n_states: 2,
        dxdt: vec![],
        observables: roots,
        ..Default::default()
    };
    let native = NativeSystem::<T>::compile(&functions).expect("compiles");
    let mut eval = Evaluator::<T>::new(&functions).expect("valid");
    let n = expected.len();
    let (mut got, mut want) = (vec![T::zero(); n], vec![T::zero(); n]);
    for (x, y) in [
        (nan, 2.0),
        (2.0, nan),
        (nan, nan),
        (nan, -3.0),
        (-0.0, nan),
        (0.0, -0.0),
    ] {
        let state = [T::from_f64(x), T::from_f64(y)];
        native
            .observables(T::zero(), &state, &[], &[], &mut got[..])
            .expect("lengths");
        eval.eval(
            SystemFunction::Observables,
            &Inputs::new(T::zero(), &state, &[]),
            &mut want[..],
        )
        .expect("lengths");
        for k in 0..n {
            let reference = T::from_f64(expected[k](x, y));
            assert!(same_bits(got[k], want[k]), "root {k} at ({x}, {y})");
            assert!(
                same_bits(got[k], reference),
                "root {k} at ({x}, {y}): {:?} vs apply {:?}",
                got[k],
                reference
            );
        }
    }
    // Spot checks of the documented semantics.
    let state = [T::from_f64(nan), T::from_f64(2.0)];
    native
        .observables(T::zero(), &state, &[], &[], &mut got[..])
        .expect("lengths");
    let min = 4 + 7;
    let max = 4 + 8;
    assert!(
        got[0].is_nan() && got[1].is_nan(),
        "sign/heaviside keep NaN"
    );
    assert_eq!(got[2], T::zero(), "not(NaN) is false");
    assert_eq!(got[min], T::from_f64(2.0), "min ignores NaN");
    assert_eq!(got[max], T::from_f64(2.0), "max ignores NaN");
}

#[test]
fn nan_propagation_matches_apply_f64() {
    nan_cases::<f64>();
}

#[test]
fn nan_propagation_matches_apply_f32() {
    nan_cases::<f32>();
}

/// A random expression over a few symbols.
#[derive(Debug, Clone)]
enum Tree {
    Leaf(Symbol),
    Const(f64),
    Unary(UnaryOp, Box<Tree>),
    Binary(BinaryOp, Box<Tree>, Box<Tree>),
    Select(Box<Tree>, Box<Tree>, Box<Tree>),
}

impl Tree {
    fn build(&self, g: &mut ExprGraph) -> ExprId {
        match self {
            Tree::Leaf(s) => g.symbol(*s),
            Tree::Const(c) => g.constant(*c),
            Tree::Unary(op, a) => {
                let a = a.build(g);
                g.unary(*op, a)
            }
            Tree::Binary(op, a, b) => {
                let (a, b) = (a.build(g), b.build(g));
                g.binary(*op, a, b)
            }
            Tree::Select(c, a, b) => {
                let (c, a, b) = (c.build(g), a.build(g), b.build(g));
                g.select(c, a, b)
            }
        }
    }
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        Just(Tree::Leaf(Symbol::Time)),
        (0u32..3).prop_map(|i| Tree::Leaf(Symbol::State(i))),
        (0u32..2).prop_map(|i| Tree::Leaf(Symbol::Parameter(i))),
        Just(Tree::Leaf(Symbol::Driver(0))),
        prop::sample::select(vec![0.0, -0.0, 0.5, 1.0, 2.0, 3.0, -1.5, 10.0]).prop_map(Tree::Const),
    ];
    leaf.prop_recursive(6, 48, 3, |inner| {
        prop_oneof![
            (prop::sample::select(UnaryOp::ALL.to_vec()), inner.clone())
                .prop_map(|(op, a)| Tree::Unary(op, Box::new(a))),
            (
                prop::sample::select(BinaryOp::ALL.to_vec()),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(op, a, b)| Tree::Binary(op, Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone(), inner).prop_map(|(c, a, b)| Tree::Select(
                Box::new(c),
                Box::new(a),
                Box::new(b)
            )),
        ]
    })
}

fn random_graph_matches<T: JitReal>(trees: &[Tree], values: &[f64]) -> Result<(), TestCaseError> {
    let mut g = ExprGraph::new();
    let roots: Vec<ExprId> = trees.iter().map(|t| t.build(&mut g)).collect();
    let functions = SystemFunctions {
        graph: g,
        n_states: 3,
        n_parameters: 2,
        n_drivers: 1,
        dxdt: roots.clone(),
        observables: roots.iter().rev().copied().collect(),
        ..Default::default()
    };
    // Bit-exact everywhere with powf kept as powf.
    let exact = JitOptions {
        expand_integer_powers: false,
    };
    let native = NativeSystem::<T>::compile_with(&functions, &exact).expect("compiles");
    let mut eval = Evaluator::<T>::new(&functions).expect("valid");
    let v: Vec<T> = values.iter().map(|&x| T::from_f64(x)).collect();
    let (t, state, parameters, drivers) = (v[0], &v[1..4], &v[4..6], &v[6..7]);
    let n = roots.len();
    for function in [SystemFunction::Dxdt, SystemFunction::Observables] {
        let (mut got, mut want) = (vec![T::zero(); n], vec![T::zero(); n]);
        let inputs = Inputs::new(t, state, parameters).with_drivers(drivers);
        native
            .call(function, &inputs, &mut got[..])
            .expect("lengths");
        eval.eval(function, &inputs, &mut want[..])
            .expect("lengths");
        for k in 0..n {
            prop_assert!(
                same_bits(got[k], want[k]),
                "{:?} root {k}: native {:?} vs evaluator {:?}",
                function,
                got[k],
                want[k]
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_graphs_match_the_evaluator(
        trees in prop::collection::vec(tree(), 1..4),
        values in prop::collection::vec(-3.0f64..3.0, 7),
    ) {
        random_graph_matches::<f64>(&trees, &values)?;
        random_graph_matches::<f32>(&trees, &values)?;
    }
}
