//! Lane code against the scalar code, lane by lane and bit for bit: every
//! operation of the language on special values, every function of a
//! driven model, a streamed model, and the fused ERK step, in f32 and f64
//! on blocks of 1, 2, 4, 8 and 16 lanes.
//!
//! Blocks are element-major with lanes innermost (element `i` of lane `l`
//! at cell `i * W + l`); calls run on part of the lanes, and the other
//! lanes of the outputs must keep a sentinel.

use std::cell::Cell;

use cubie::Real;
use cubie::backend::cpu::jit::{
    CodeGenerator, FusedErkStep, JitOptions, JitReal, LaneInputs, NativeSystem, STREAMING_NODES,
    host_cc,
};
use cubie::memory::{LANE_WIDTHS, LaneBuf, LaneMask, MAX_LANES, PerLane};
use cubie::step::{ErkScheme, erk_tableau};
use cubie::system::args::Inputs;
use cubie::system::expr::{BinaryOp, ExprGraph, Symbol, UnaryOp};
use cubie::system::{Model, SparseJacobian, SystemFunction, SystemFunctions};

mod jit_support;

use jit_support::Rng;

fn bits<T: Real>(x: T) -> u64 {
    if size_of::<T>() == 4 {
        u64::from((x.to_f64() as f32).to_bits())
    } else {
        x.to_f64().to_bits()
    }
}

/// Values that take every branch: NaN, signed zeros and infinities, the
/// largest and smallest (normal and subnormal) magnitudes, integers and
/// halves (ties of floor/ceil, comparisons between lanes).
fn specials<T: Real>() -> Vec<T> {
    let tiny = T::min_positive_value();
    let subnormal = tiny / T::from_f64(1024.0);
    let mut v = vec![
        T::nan(),
        T::zero(),
        -T::zero(),
        T::infinity(),
        T::neg_infinity(),
        T::max_value(),
        T::min_value(),
        tiny,
        -tiny,
        subnormal,
        -subnormal,
    ];
    v.extend(
        [1.0, -1.0, 0.5, -0.5, 2.0, 1.5, -2.5, 3.0, 1e10, -1e-10]
            .into_iter()
            .map(T::from_f64),
    );
    v
}

fn draw<T: Real>(rng: &mut Rng, lo: f64, hi: f64) -> T {
    let specials = specials::<T>();
    if rng.next_u64().is_multiple_of(3) {
        specials[(rng.next_u64() % specials.len() as u64) as usize]
    } else {
        T::from_f64(rng.uniform(lo, hi))
    }
}

/// A lane block's buffer of `len` elements of `w` lanes, filled by `f(i, l)`.
fn block<T: Copy>(len: usize, w: usize, mut f: impl FnMut(usize, usize) -> T) -> Vec<Cell<T>> {
    let mut cells = Vec::with_capacity(len * w);
    for i in 0..len {
        for l in 0..w {
            cells.push(Cell::new(f(i, l)));
        }
    }
    cells
}

fn lane_values<T: Copy>(cells: &[Cell<T>], w: usize, l: usize) -> Vec<T> {
    cells.iter().skip(l).step_by(w).map(Cell::get).collect()
}

/// Random inputs of every array of `f` for a block of `w` lanes.
struct Block<T> {
    t: PerLane<T>,
    arrays: [Vec<Cell<T>>; 5],
}

impl<T: JitReal> Block<T> {
    fn random(f: &SystemFunctions, w: usize, rng: &mut Rng, range: (f64, f64)) -> Self {
        let lens = [
            f.n_states,
            f.n_parameters,
            f.n_drivers,
            f.n_drivers,
            f.n_states,
        ];
        let t = std::array::from_fn(|_| draw(rng, -10.0, 10.0));
        let arrays = lens.map(|len| block(len, w, |_, _| draw(rng, range.0, range.1)));
        Block { t, arrays }
    }

    fn inputs(&self, w: usize) -> LaneInputs<'_, T> {
        let [s, p, d, r, v] = self.arrays.each_ref().map(|a| LaneBuf::new(a, w));
        LaneInputs {
            state: s,
            parameters: p,
            drivers: d,
            driver_rates: r,
            direction: v,
        }
    }

    /// Lane `l`'s inputs as plain arrays.
    fn lane(&self, w: usize, l: usize) -> [Vec<T>; 5] {
        self.arrays.each_ref().map(|a| lane_values(a, w, l))
    }
}

/// Runs `function` on a block in lane code with a partial mask and checks
/// every lane of the mask against the scalar code, bit for bit, and every
/// other lane against the sentinel.
fn lanes_match_scalar<T: JitReal>(
    native: &NativeSystem<T>,
    function: SystemFunction,
    block_in: &Block<T>,
    w: usize,
    mask: LaneMask,
) {
    let n = native.n_outputs(function);
    let sentinel = T::from_f64(-7777.25);
    let out = block(n, w, |_, _| sentinel);
    native
        .call_lanes(
            function,
            &block_in.t,
            &block_in.inputs(w),
            LaneBuf::new(&out, w),
            mask,
        )
        .expect("lengths");
    for l in 0..w {
        let got = lane_values(&out, w, l);
        if !mask.contains(l) {
            assert!(
                got.iter().all(|&x| bits(x) == bits(sentinel)),
                "{function:?} W={w}: lane {l} is not in the mask but was written"
            );
            continue;
        }
        let [s, p, d, r, v] = block_in.lane(w, l);
        let inputs = Inputs::new(block_in.t[l], &s, &p)
            .with_drivers(&d)
            .with_driver_rates(&r)
            .with_direction(&v);
        let mut want = vec![T::zero(); n];
        native
            .call(function, &inputs, &mut want[..])
            .expect("lengths");
        for k in 0..n {
            assert!(
                bits(got[k]) == bits(want[k]),
                "{function:?} {:?} W={w} lane {l} output {k}: lanes {:?} vs scalar {:?} \
                 (state {s:?}, parameters {p:?}, drivers {d:?}, t {:?})",
                T::PRECISION,
                got[k],
                want[k],
                block_in.t[l]
            );
        }
    }
}

/// One observable per unary op, binary op, select and integer power `x^n`
/// (`n` in `-20..=20`), each on its own states; a few read time,
/// parameters and drivers too.
fn every_op() -> SystemFunctions {
    let mut g = ExprGraph::new();
    let mut n = 0;
    let mut state = |g: &mut ExprGraph| {
        n += 1;
        g.symbol(Symbol::State(n - 1))
    };
    let mut roots = Vec::new();
    for op in UnaryOp::ALL {
        let x = state(&mut g);
        roots.push(g.unary(op, x));
    }
    for op in BinaryOp::ALL {
        let a = state(&mut g);
        let b = state(&mut g);
        roots.push(g.binary(op, a, b));
        // Also against itself, for ties (min/max of ±0, x == x, ...).
        roots.push(g.binary(op, a, a));
    }
    let (c, a, b) = (state(&mut g), state(&mut g), state(&mut g));
    roots.push(g.select(c, a, b));
    let x = state(&mut g);
    for e in -20..=20 {
        let e = g.constant(f64::from(e));
        roots.push(g.binary(BinaryOp::Pow, x, e));
    }
    let t = g.symbol(Symbol::Time);
    let p = g.symbol(Symbol::Parameter(0));
    let d = g.symbol(Symbol::Driver(0));
    roots.push(g.unary(UnaryOp::Sin, t));
    let tp = g.mul(t, p);
    roots.push(g.sub(tp, d));
    let half = g.constant(0.5);
    let third = g.constant(1.0 / 3.0);
    let y = state(&mut g);
    let yh = g.add(y, half);
    roots.push(g.mul(yh, third));
    SystemFunctions {
        graph: g,
        n_states: n as usize,
        n_parameters: 1,
        n_drivers: 1,
        observables: roots,
        ..Default::default()
    }
}

fn every_op_in_lanes<T: JitReal>() {
    let f = every_op();
    let mut rng = Rng(17);
    for w in LANE_WIDTHS {
        for options in [
            JitOptions::default(),
            JitOptions {
                expand_integer_powers: false,
            },
        ] {
            let native = NativeSystem::<T>::compile_lanes(&f, &options, w).expect("compiles");
            assert_eq!(native.lanes(), w);
            for _ in 0..40 {
                let b = Block::random(&f, w, &mut rng, (-4.0, 4.0));
                let mask = rng.partial_mask(w);
                lanes_match_scalar(&native, SystemFunction::Observables, &b, w, mask);
            }
            // Every lane of a full block, at once.
            let b = Block::random(&f, w, &mut rng, (-4.0, 4.0));
            lanes_match_scalar(
                &native,
                SystemFunction::Observables,
                &b,
                w,
                LaneMask::all(w),
            );
        }
    }
}

#[test]
fn every_op_in_lanes_matches_the_scalar_code_f64() {
    every_op_in_lanes::<f64>();
}

#[test]
fn every_op_in_lanes_matches_the_scalar_code_f32() {
    every_op_in_lanes::<f32>();
}

/// Every special value against every other, lane by lane: each lane of a
/// block gets its own pair, so lanes of one vector take different branches.
fn special_pairs_in_lanes<T: JitReal>() {
    let f = every_op();
    let s = specials::<T>();
    for w in [4, 16] {
        let native =
            NativeSystem::<T>::compile_lanes(&f, &JitOptions::default(), w).expect("compiles");
        let mut k = 0;
        while k < s.len() * s.len() {
            let mut b = Block::random(&f, w, &mut Rng(k as u64), (-1.0, 1.0));
            for l in 0..w {
                let (x, y) = (s[(k + l) % s.len()], s[(k + l) / s.len() % s.len()]);
                b.t[l] = y;
                for (a, array) in b.arrays.iter_mut().enumerate() {
                    for (i, c) in array.iter().skip(l).step_by(w).enumerate() {
                        c.set(if (i + a) % 2 == 0 { x } else { y });
                    }
                }
            }
            lanes_match_scalar(
                &native,
                SystemFunction::Observables,
                &b,
                w,
                LaneMask::all(w),
            );
            k += w;
        }
    }
}

#[test]
fn special_values_pair_by_pair_in_lanes_f64() {
    special_pairs_in_lanes::<f64>();
}

#[test]
fn special_values_pair_by_pair_in_lanes_f32() {
    special_pairs_in_lanes::<f32>();
}

/// Lorenz forced by a driver, with hand-built Jacobian (sparse: one
/// structural zero), JVP, df/dt and an observable of time.
fn forced_lorenz() -> SystemFunctions {
    let mut g = ExprGraph::new();
    let [x, y, z] = [0, 1, 2].map(|i| g.symbol(Symbol::State(i)));
    let [sigma, rho, beta] = [0, 1, 2].map(|i| g.symbol(Symbol::Parameter(i)));
    let [vx, vy, vz] = [0, 1, 2].map(|i| g.symbol(Symbol::Direction(i)));
    let d = g.symbol(Symbol::Driver(0));
    let d_rate = g.symbol(Symbol::DriverRate(0));
    let t = g.symbol(Symbol::Time);
    let y_minus_x = g.sub(y, x);
    let sx = g.mul(sigma, y_minus_x);
    let dx = g.add(sx, d);
    let rho_minus_z = g.sub(rho, z);
    let x_rz = g.mul(x, rho_minus_z);
    let dy = g.sub(x_rz, y);
    let xy = g.mul(x, y);
    let bz = g.mul(beta, z);
    let dz = g.sub(xy, bz);
    let zero = g.constant(0.0);
    let minus_one = g.constant(-1.0);
    let neg_sigma = g.neg(sigma);
    let neg_x = g.neg(x);
    let neg_beta = g.neg(beta);
    let dense = vec![
        neg_sigma,
        sigma,
        zero,
        rho_minus_z,
        minus_one,
        neg_x,
        y,
        x,
        neg_beta,
    ];
    let jvp_x = {
        let a = g.sub(vy, vx);
        g.mul(sigma, a)
    };
    let jvp_y = {
        let a = g.mul(rho_minus_z, vx);
        let b = g.sub(a, vy);
        let c = g.mul(x, vz);
        g.sub(b, c)
    };
    let jvp_z = {
        let a = g.mul(y, vx);
        let b = g.mul(x, vy);
        let c = g.add(a, b);
        let e = g.mul(beta, vz);
        g.sub(c, e)
    };
    let energy = {
        let two = g.constant(2.0);
        let squares = [x, y, z].map(|s| g.binary(BinaryOp::Pow, s, two));
        let s01 = g.add(squares[0], squares[1]);
        let s = g.add(s01, squares[2]);
        let sin_t = g.unary(UnaryOp::Sin, t);
        g.add(s, sin_t)
    };
    let cos_t = g.unary(UnaryOp::Cos, t);
    let rate = g.mul(d_rate, cos_t);
    let jacobian = SparseJacobian::from_dense(&g, 3, &dense);
    SystemFunctions {
        graph: g,
        n_states: 3,
        n_parameters: 3,
        n_drivers: 1,
        dxdt: vec![dx, dy, dz],
        observables: vec![energy],
        jvp: vec![jvp_x, jvp_y, jvp_z],
        dfdt: vec![rate, zero, zero],
        jacobian: Some(jacobian),
        dense_jacobian: true,
    }
}

fn model_in_lanes<T: JitReal>() {
    let f = forced_lorenz();
    let mut rng = Rng(5);
    for w in LANE_WIDTHS {
        let native =
            NativeSystem::<T>::compile_lanes(&f, &JitOptions::default(), w).expect("compiles");
        let scattered = native.schedule().function(SystemFunction::Jacobian);
        assert!(
            scattered.positions().is_some(),
            "the Jacobian stores only its non-zeros"
        );
        for _ in 0..20 {
            let b = Block::random(&f, w, &mut rng, (-30.0, 30.0));
            let mask = rng.partial_mask(w);
            for function in SystemFunction::ALL {
                lanes_match_scalar(&native, function, &b, w, mask);
            }
        }
    }
}

#[test]
fn all_six_functions_of_a_driven_model_match_in_lanes_f64() {
    model_in_lanes::<f64>();
}

#[test]
fn all_six_functions_of_a_driven_model_match_in_lanes_f32() {
    model_in_lanes::<f32>();
}

/// Blocks of other widths than the compiled one go lane by lane through
/// the scalar code, with the same results.
#[test]
fn other_widths_take_the_per_lane_path_with_the_same_bits() {
    let f = forced_lorenz();
    let native =
        NativeSystem::<f64>::compile_lanes(&f, &JitOptions::default(), 8).expect("compiles");
    let mut rng = Rng(8);
    for w in LANE_WIDTHS {
        let b = Block::random(&f, w, &mut rng, (-3.0, 3.0));
        let mask = rng.partial_mask(w);
        for function in SystemFunction::ALL {
            lanes_match_scalar(&native, function, &b, w, mask);
        }
    }
}

/// `dx_i = k (x_{i-1} - 2 x_i + x_{i+1}) - x_i^3 + d sin(t)`: large enough
/// that its functions are streamed.
fn banded(n: usize) -> Model {
    let x = |i: usize| format!("x{i}");
    let equations: String = (0..n)
        .map(|i| {
            let left = if i > 0 { x(i - 1) } else { "0".into() };
            let right = if i + 1 < n { x(i + 1) } else { "0".into() };
            format!("dx{i} = k * ({left} - 2 * x{i} + {right}) - x{i}^3 + d * sin(t)\n")
        })
        .collect();
    let states: Vec<(String, f64)> = (0..n).map(|i| (x(i), 0.5)).collect();
    Model::builder(equations)
        .states(states)
        .parameters([("k", 0.5)])
        .drivers([("d", 0.0)])
        .build()
        .unwrap_or_else(|e| panic!("{}", e.render()))
}

fn streamed_in_lanes<T: JitReal>() {
    let model = banded(300);
    let f = model.functions_with_jacobian();
    let mut rng = Rng(3);
    for w in [2, 16] {
        let native =
            NativeSystem::<T>::compile_lanes(f, &JitOptions::default(), w).expect("compiles");
        for function in [SystemFunction::Dxdt, SystemFunction::Jvp] {
            assert!(
                native.schedule().function(function).nodes().len() > STREAMING_NODES,
                "{function:?} is streamed"
            );
        }
        let chunk = if w * size_of::<T>() >= 16 {
            16
        } else {
            size_of::<T>()
        };
        assert!(native.stack_bytes() >= 300 * chunk, "vector stack slots");
        let b = Block::random(f, w, &mut rng, (-1.0, 1.0));
        let mask = rng.partial_mask(w);
        for function in SystemFunction::ALL {
            lanes_match_scalar(&native, function, &b, w, mask);
        }
    }
}

#[test]
fn streamed_functions_match_in_lanes_f64() {
    streamed_in_lanes::<f64>();
}

#[test]
fn streamed_functions_match_in_lanes_f32() {
    streamed_in_lanes::<f32>();
}

/// dxdt written over the state it reads, lane for lane, sees the state
/// from before the call; so does an `out` shifted across lanes (which
/// takes the per-lane path).
#[test]
fn outputs_may_alias_inputs() {
    let f = forced_lorenz();
    let w = 8;
    let native =
        NativeSystem::<f64>::compile_lanes(&f, &JitOptions::default(), w).expect("compiles");
    let mut rng = Rng(21);
    let b = Block::random(&f, w, &mut rng, (-3.0, 3.0));
    let mask = LaneMask::from_fn(w, |l| l != 2);
    let expected = block(3, w, |_, _| 0.0);
    native
        .call_lanes(
            SystemFunction::Dxdt,
            &b.t,
            &b.inputs(w),
            LaneBuf::new(&expected, w),
            mask,
        )
        .expect("lengths");
    for l in 0..w {
        if !mask.contains(l) {
            for i in 0..3 {
                expected[i * w + l].set(b.arrays[0][i * w + l].get());
            }
        }
    }
    let state: Vec<Cell<f64>> = b.arrays[0].iter().map(|c| Cell::new(c.get())).collect();
    let inputs = LaneInputs {
        state: LaneBuf::new(&state, w),
        ..b.inputs(w)
    };
    native
        .call_lanes(
            SystemFunction::Dxdt,
            &b.t,
            &inputs,
            LaneBuf::new(&state, w),
            mask,
        )
        .expect("lengths");
    let values = |c: &[Cell<f64>]| c.iter().map(|c| c.get().to_bits()).collect::<Vec<_>>();
    assert_eq!(values(&state), values(&expected));

    // One arena holding the state and, one lane further on, the output.
    let arena: Vec<Cell<f64>> = (0..4 * w)
        .map(|k| Cell::new(0.1 * k as f64 - 1.0))
        .collect();
    let state = &arena[..3 * w];
    let out = &arena[1..3 * w + 1];
    let before: Vec<Vec<f64>> = (0..w).map(|l| lane_values(state, w, l)).collect();
    let inputs = LaneInputs {
        state: LaneBuf::new(state, w),
        ..b.inputs(w)
    };
    native
        .call_lanes(
            SystemFunction::Dxdt,
            &b.t,
            &inputs,
            LaneBuf::new(out, w),
            LaneMask::all(w),
        )
        .expect("lengths");
    for (l, lane_state) in before.iter().enumerate() {
        let mut want = [0.0; 3];
        native
            .dxdt(
                b.t[l],
                lane_state,
                &lane_values(&b.arrays[1], w, l),
                &lane_values(&b.arrays[2], w, l),
                &mut want[..],
            )
            .expect("lengths");
        // Bits, not values: the random inputs include NaN.
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&lane_values(out, w, l)), bits(&want), "lane {l}");
    }
}

#[test]
fn wrong_lengths_and_widths_are_rejected() {
    let f = forced_lorenz();
    let w = 4;
    let native =
        NativeSystem::<f64>::compile_lanes(&f, &JitOptions::default(), w).expect("compiles");
    let b = Block::random(&f, w, &mut Rng(1), (-1.0, 1.0));
    let out = block(3, w, |_, _| 5.0);
    let short = block(2, w, |_, _| 1.0);
    let narrow = block(3, 2, |_, _| 1.0);
    let t = [0.0; MAX_LANES];
    let call = |inputs: &LaneInputs<'_, f64>, out: LaneBuf<'_, f64>| {
        native.call_lanes(SystemFunction::Dxdt, &t, inputs, out, LaneMask::all(4))
    };
    let err = call(
        &LaneInputs {
            state: LaneBuf::new(&short, w),
            ..b.inputs(w)
        },
        LaneBuf::new(&out, w),
    )
    .expect_err("short state");
    assert_eq!((err.argument, err.expected, err.found), ("state", 3, 2));
    let err = call(
        &LaneInputs {
            state: LaneBuf::new(&narrow, 2),
            ..b.inputs(w)
        },
        LaneBuf::new(&out, w),
    )
    .expect_err("narrow state");
    assert_eq!((err.argument, err.expected, err.found), ("state", 12, 6));
    let err = call(&b.inputs(w), LaneBuf::new(&out[..2 * w], w)).expect_err("short out");
    assert_eq!(err.argument, "out");
    let err = call(
        &LaneInputs {
            drivers: LaneBuf::empty(w),
            ..b.inputs(w)
        },
        LaneBuf::new(&out, w),
    )
    .expect_err("missing driver");
    assert_eq!(err.argument, "drivers");
    // Wider than any block: refused, not indexed out of bounds.
    let too_wide = 2 * MAX_LANES;
    let wide = block(3, too_wide, |_, _| 0.0);
    let wide_in = [0, 1, 2, 3, 4].map(|a| block([3, 3, 1, 1, 3][a], too_wide, |_, _| 1.0));
    let inputs = LaneInputs {
        state: LaneBuf::new(&wide_in[0], too_wide),
        parameters: LaneBuf::new(&wide_in[1], too_wide),
        drivers: LaneBuf::new(&wide_in[2], too_wide),
        driver_rates: LaneBuf::new(&wide_in[3], too_wide),
        direction: LaneBuf::new(&wide_in[4], too_wide),
    };
    let err = native
        .call_lanes(
            SystemFunction::Dxdt,
            &t,
            &inputs,
            LaneBuf::new(&wide, too_wide),
            LaneMask::all(16),
        )
        .expect_err("too wide");
    assert_eq!(err.argument, "out");
    // Nothing was written by the rejected calls.
    assert!(out.iter().all(|c| c.get() == 5.0));
    // Unsupported widths do not compile.
    for lanes in [0, 3, too_wide] {
        assert!(NativeSystem::<f32>::compile_lanes(&f, &JitOptions::default(), lanes).is_err());
    }
}

/// The scheme every form of the step reads, from a tableau's name.
fn scheme(name: &str) -> ErkScheme {
    let tab = erk_tableau(name).expect("a known tableau");
    let s = tab.stages();
    ErkScheme {
        a: (0..s)
            .map(|i| (0..i).map(|j| tab.a(i, j)).collect())
            .collect(),
        b: tab.b().to_vec(),
        c: tab.c().to_vec(),
        error_weights: tab.error_weights().unwrap_or_default(),
        secondary_weights: tab
            .secondary_embedded()
            .map(|e| tab.b().iter().zip(e.weights).map(|(b, h)| b - h).collect())
            .unwrap_or_default(),
        fsal: tab.fsal(),
    }
}

/// Lorenz forced by a driver and time: `dx = sigma (y - x) + d sin(t)`.
fn timed_lorenz() -> SystemFunctions {
    let mut g = ExprGraph::new();
    let [x, y, z] = [0, 1, 2].map(|i| g.symbol(Symbol::State(i)));
    let [sigma, rho, beta] = [0, 1, 2].map(|i| g.symbol(Symbol::Parameter(i)));
    let d = g.symbol(Symbol::Driver(0));
    let t = g.symbol(Symbol::Time);
    let y_minus_x = g.sub(y, x);
    let sx = g.mul(sigma, y_minus_x);
    let sin_t = g.unary(UnaryOp::Sin, t);
    let forcing = g.mul(d, sin_t);
    let dx = g.add(sx, forcing);
    let rho_minus_z = g.sub(rho, z);
    let x_rz = g.mul(x, rho_minus_z);
    let dy = g.sub(x_rz, y);
    let xy = g.mul(x, y);
    let bz = g.mul(beta, z);
    let dz = g.sub(xy, bz);
    SystemFunctions {
        graph: g,
        n_states: 3,
        n_parameters: 3,
        n_drivers: 1,
        dxdt: vec![dx, dy, dz],
        ..Default::default()
    }
}

/// The step's buffers for a block of `w` lanes.
struct StepBlock<T> {
    t: PerLane<f64>,
    dt: PerLane<T>,
    /// state, parameters, drivers, proposed, error, secondary, cache.
    buffers: [Vec<Cell<T>>; 7],
}

impl<T: JitReal> StepBlock<T> {
    fn random(w: usize, rng: &mut Rng) -> Self {
        let sentinel = T::from_f64(-7777.25);
        let t = std::array::from_fn(|_| rng.uniform(-5.0, 5.0));
        let dt = std::array::from_fn(|_| T::from_f64(rng.uniform(1e-4, 0.05)));
        let state = block(3, w, |_, _| T::from_f64(rng.uniform(-15.0, 15.0)));
        let params = block(3, w, |i, _| {
            T::from_f64([10.0, 28.0, 8.0 / 3.0][i] * rng.uniform(0.9, 1.1))
        });
        let drivers = block(1, w, |_, _| T::from_f64(rng.uniform(-2.0, 2.0)));
        let cache = block(3, w, |_, _| T::from_f64(rng.uniform(-50.0, 50.0)));
        let out = || block(3, w, |_, _| sentinel);
        StepBlock {
            t,
            dt,
            buffers: [state, params, drivers, out(), out(), out(), cache],
        }
    }

    fn lane(&self, w: usize, l: usize) -> [Vec<Cell<T>>; 7] {
        self.buffers.each_ref().map(|b| {
            lane_values(b, w, l)
                .into_iter()
                .map(Cell::new)
                .collect::<Vec<_>>()
        })
    }
}

/// One lane step of the block against the scalar step in every lane;
/// then the proposed state becomes the state, for the next step.
fn step_matches<T: JitReal>(
    step: &FusedErkStep<T>,
    b: &StepBlock<T>,
    w: usize,
    cached: LaneMask,
    with_error: bool,
    what: &str,
) {
    let lanes: Vec<[Vec<Cell<T>>; 7]> = (0..w).map(|l| b.lane(w, l)).collect();
    let buf = |k: usize| LaneBuf::new(&b.buffers[k], w);
    let error = if with_error {
        buf(4)
    } else {
        LaneBuf::empty(w)
    };
    let evaluations = step
        .step_lanes(
            &b.t,
            &b.dt,
            buf(0),
            buf(1),
            buf(2),
            buf(3),
            error,
            buf(5),
            buf(6),
            cached,
        )
        .expect("lengths");
    for (l, [y, p, d, out, err, sec, cache]) in lanes.iter().enumerate() {
        let err: &[Cell<T>] = if with_error { err } else { &[] };
        let want = step
            .step(
                b.t[l],
                b.dt[l],
                y,
                p,
                d,
                out,
                err,
                sec,
                cache,
                cached.contains(l),
            )
            .expect("lengths");
        assert_eq!(evaluations[l], want, "{what} W={w} lane {l}: evaluations");
        for (k, name, scalar) in [
            (3, "proposed", out),
            (4, "error", &lanes[l][4]),
            (5, "secondary", sec),
            (6, "stage cache", cache),
        ] {
            let scalar = if k == 4 && with_error { err } else { scalar };
            let got = lane_values(&b.buffers[k], w, l);
            let want: Vec<T> = scalar.iter().map(Cell::get).collect();
            let same = got.iter().zip(&want).all(|(a, b)| bits(*a) == bits(*b));
            assert!(
                same,
                "{what} {:?} W={w} lane {l} {name}: lanes {got:?} vs scalar {want:?} \
                 (cached {})",
                T::PRECISION,
                cached.contains(l)
            );
        }
    }
    for (state, proposed) in b.buffers[0].iter().zip(&b.buffers[3]) {
        state.set(proposed.get());
    }
}

/// Whether the host's C compiler runs; the C lane tests are skipped
/// with a line when it does not.
fn have_c_compiler(test: &str) -> bool {
    let found = host_cc::compiler_version().is_some();
    if !found {
        eprintln!("{test}: skipped, no C compiler runs (`$CC`, else `cc`)");
    }
    found
}

/// A fused step of `scheme` for blocks of `w` lanes from `generator`.
fn fused<T: JitReal>(
    f: &SystemFunctions,
    scheme: &ErkScheme,
    w: usize,
    generator: CodeGenerator,
) -> FusedErkStep<T> {
    let step = FusedErkStep::<T>::compile_with(f, scheme, w, generator)
        .expect("compiles")
        .expect("small enough to fuse");
    let want = if w > 1 {
        generator
    } else {
        CodeGenerator::Cranelift
    };
    assert_eq!(step.generator(), want, "W={w}");
    step
}

fn fused_steps_in_lanes<T: JitReal>(generator: CodeGenerator) {
    let f = timed_lorenz();
    let mut rng = Rng(99);
    for name in [
        "classical-rk4",
        "tsit5",
        "dormand-prince-54",
        "dormand-prince-853",
        "euler",
    ] {
        let scheme = scheme(name);
        for w in LANE_WIDTHS {
            let step = fused::<T>(&f, &scheme, w, generator);
            assert_eq!(step.lanes(), w);
            let b = StepBlock::<T>::random(w, &mut rng);
            // No lane cached, some, all, some again (the cache carries the
            // last stage of the step before), and a step without error.
            let some = rng.partial_mask(w);
            for (k, cached) in [LaneMask::NONE, some, LaneMask::all(w), some]
                .into_iter()
                .enumerate()
            {
                step_matches(&step, &b, w, cached, true, &format!("{name} step {k}"));
            }
            step_matches(&step, &b, w, some, false, &format!("{name} without error"));
        }
    }
}

#[test]
fn fused_steps_in_lanes_match_the_scalar_step_f64() {
    fused_steps_in_lanes::<f64>(CodeGenerator::Cranelift);
}

#[test]
fn fused_steps_in_lanes_match_the_scalar_step_f32() {
    fused_steps_in_lanes::<f32>(CodeGenerator::Cranelift);
}

#[test]
fn c_lane_steps_match_the_scalar_step_f64() {
    if have_c_compiler("c_lane_steps_match_the_scalar_step_f64") {
        fused_steps_in_lanes::<f64>(CodeGenerator::HostC);
    }
}

#[test]
fn c_lane_steps_match_the_scalar_step_f32() {
    if have_c_compiler("c_lane_steps_match_the_scalar_step_f32") {
        fused_steps_in_lanes::<f32>(CodeGenerator::HostC);
    }
}

/// Runs of fixed steps against single scalar steps in every lane: the
/// same bits, and a stop at the first step with a non-finite value in any
/// lane, the state left before it.
fn fixed_runs_in_lanes<T: JitReal>(generator: CodeGenerator) {
    let f = timed_lorenz();
    let mut rng = Rng(7);
    for name in ["classical-rk4", "euler"] {
        let scheme = scheme(name);
        for w in LANE_WIDTHS {
            let step = fused::<T>(&f, &scheme, w, generator);
            assert!(step.has_fixed_steps(), "{name}");
            // Lane `blow` starts so large that it overflows after a few
            // steps (a run of all finite steps when it is `w`).
            for blow in [w, w / 2] {
                let b = StepBlock::<T>::random(w, &mut rng);
                if blow < w {
                    for i in 0..3 {
                        b.buffers[0][i * w + blow].set(T::from_f64(1e6));
                    }
                }
                let dt = T::from_f64(0.01);
                let dt64 = dt.to_f64();
                let t0 = rng.uniform(-1.0, 1.0);
                let times: Vec<f64> = (0..40)
                    .scan(t0, |t, _| {
                        let now = *t;
                        *t += dt64;
                        Some(now)
                    })
                    .collect();
                // Each lane alone, step by step, to its first non-finite step.
                let mut stop = times.len();
                let mut want = Vec::new();
                for l in 0..w {
                    let [y, p, d, out, err, sec, cache] = b.lane(w, l);
                    let mut states = vec![y.iter().map(Cell::get).collect::<Vec<T>>()];
                    for (k, &t) in times.iter().enumerate() {
                        step.step(t, dt, &y, &p, &d, &out, &err, &sec, &cache, false)
                            .expect("lengths");
                        if out.iter().any(|v| !v.get().is_finite()) {
                            stop = stop.min(k);
                            break;
                        }
                        for (a, b) in y.iter().zip(&out) {
                            a.set(b.get());
                        }
                        states.push(y.iter().map(Cell::get).collect());
                    }
                    want.push(states);
                }
                assert_eq!(stop == times.len(), blow == w, "{name} W={w}");
                let buf = |k: usize| LaneBuf::new(&b.buffers[k], w);
                let done = step
                    .fixed_steps(&times, dt, dt64, buf(0), buf(1), buf(2), buf(3))
                    .expect("lengths")
                    .expect("compiled for the width");
                assert_eq!(done, stop, "{name} W={w}: steps taken");
                for (l, states) in want.iter().enumerate() {
                    let got = lane_values(&b.buffers[0], w, l);
                    let same = got
                        .iter()
                        .zip(&states[done])
                        .all(|(a, b)| bits(*a) == bits(*b));
                    assert!(
                        same,
                        "{name} {:?} W={w} lane {l}: {got:?} vs {:?}",
                        T::PRECISION,
                        states[done]
                    );
                }
            }
        }
    }
    // Methods with an error estimate or a cached stage have no such path.
    let step = FusedErkStep::<T>::compile_lanes(&f, &scheme("tsit5"), 4)
        .expect("compiles")
        .expect("small enough to fuse");
    assert!(!step.has_fixed_steps());
}

#[test]
fn fixed_runs_in_lanes_match_single_steps_f64() {
    fixed_runs_in_lanes::<f64>(CodeGenerator::Cranelift);
}

#[test]
fn fixed_runs_in_lanes_match_single_steps_f32() {
    fixed_runs_in_lanes::<f32>(CodeGenerator::Cranelift);
}

#[test]
fn c_fixed_runs_match_single_steps_f64() {
    if have_c_compiler("c_fixed_runs_match_single_steps_f64") {
        fixed_runs_in_lanes::<f64>(CodeGenerator::HostC);
    }
}

#[test]
fn c_fixed_runs_match_single_steps_f32() {
    if have_c_compiler("c_fixed_runs_match_single_steps_f32") {
        fixed_runs_in_lanes::<f32>(CodeGenerator::HostC);
    }
}

#[test]
fn fused_steps_reject_wrong_lengths_and_widths() {
    let f = timed_lorenz();
    let step = FusedErkStep::<f64>::compile_lanes(&f, &scheme("tsit5"), 4)
        .expect("compiles")
        .expect("fused");
    let mut rng = Rng(4);
    let b = StepBlock::<f64>::random(4, &mut rng);
    let narrow = block(3, 2, |_, _| 0.0);
    let buf = |k: usize| LaneBuf::new(&b.buffers[k], 4);
    let call = |state: LaneBuf<'_, f64>, cache: LaneBuf<'_, f64>| {
        step.step_lanes(
            &b.t,
            &b.dt,
            state,
            buf(1),
            buf(2),
            buf(3),
            buf(4),
            buf(5),
            cache,
            LaneMask::NONE,
        )
    };
    // Widths are measured against the state's.
    let err = call(LaneBuf::new(&narrow, 2), buf(6)).expect_err("narrow state");
    assert_eq!(err.argument, "proposed");
    let err = call(buf(0), LaneBuf::new(&narrow, 2)).expect_err("narrow cache");
    assert_eq!(
        (err.argument, err.expected, err.found),
        ("stage_cache", 12, 6)
    );
    let err = call(buf(0), LaneBuf::new(&b.buffers[6][..8], 4)).expect_err("short cache");
    assert_eq!(
        (err.argument, err.expected, err.found),
        ("stage_cache", 3, 2)
    );
    let wide = block(3, 2 * MAX_LANES, |_, _| 0.0);
    let err = call(LaneBuf::new(&wide, 2 * MAX_LANES), buf(6)).expect_err("too wide");
    assert_eq!(err.argument, "state");
    assert!(
        b.buffers[3].iter().all(|c| c.get() == -7777.25),
        "nothing written"
    );
    assert!(FusedErkStep::<f64>::compile_lanes(&f, &scheme("tsit5"), 5).is_err());
}
