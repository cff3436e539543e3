//! The Hodgkin–Huxley neuron (many functions, conditionals, a driver)
//! through the whole chain: the model file is parsed, differentiated and
//! compiled, the native functions agree with the tree-walking evaluator of
//! the same DAG on random inputs in f32 and f64, and a solve fires the
//! expected action potentials.

use cubie::backend::cpu::jit::{JitReal, NativeSystem};
use cubie::batch::{GridKind, Sweep};
use cubie::controllers::ControllerOptions;
use cubie::outputs::OutputSettings;
use cubie::system::args::Inputs;
use cubie::system::eval::Evaluator;
use cubie::system::{Model, SystemFunction};
use cubie::time_loop::LoopSettings;
use cubie::{Real, Solver, SolverSettings};

fn model() -> Model {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/hodgkin_huxley.toml"
    );
    Model::from_file(path).expect("the example model is valid")
}

/// A small deterministic generator, so failures reproduce.
struct Lcg(u64);

impl Lcg {
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        lo + (hi - lo) * ((self.0 >> 11) as f64 / (1u64 << 53) as f64)
    }
}

fn agree<T: JitReal>(tolerance: f64) {
    let model = model();
    let functions = model.functions();
    let native = NativeSystem::<T>::compile(functions).expect("compiles");
    let mut evaluator = Evaluator::<T>::new(functions).expect("schedules");
    let mut rng = Lcg(7);
    let n = model.n_states();
    for _ in 0..500 {
        // Voltages across and at the guarded singular points.
        let v = if rng.uniform(0.0, 1.0) < 0.1 {
            -55.0
        } else {
            rng.uniform(-90.0, 40.0)
        };
        let state: Vec<T> = [
            v,
            rng.uniform(0.0, 1.0),
            rng.uniform(0.0, 1.0),
            rng.uniform(0.0, 1.0),
        ]
        .map(T::from_f64)
        .to_vec();
        let params: Vec<T> = [rng.uniform(0.0, 20.0), 120.0, 36.0]
            .map(T::from_f64)
            .to_vec();
        let drivers = vec![T::from_f64(rng.uniform(-5.0, 5.0))];
        let rates = vec![T::from_f64(rng.uniform(-1.0, 1.0))];
        let direction: Vec<T> = (0..n)
            .map(|_| T::from_f64(rng.uniform(-1.0, 1.0)))
            .collect();
        let t = T::from_f64(rng.uniform(0.0, 50.0));
        let inputs = Inputs::new(t, &state, &params)
            .with_drivers(&drivers)
            .with_driver_rates(&rates)
            .with_direction(&direction);
        for function in SystemFunction::ALL {
            let len = native.n_outputs(function);
            let mut jit = vec![T::zero(); len];
            let mut reference = vec![T::zero(); len];
            native
                .call(function, &inputs, &mut jit[..])
                .expect("native call");
            evaluator
                .eval(function, &inputs, &mut reference[..])
                .expect("evaluation");
            for (a, b) in jit.iter().zip(&reference) {
                let (a, b) = (Real::to_f64(*a), Real::to_f64(*b));
                let close =
                    (a.is_nan() && b.is_nan()) || (a - b).abs() <= tolerance * (1.0 + b.abs());
                assert!(
                    close,
                    "{function:?} at V = {v}: native {a} vs evaluator {b}"
                );
            }
        }
    }
}

#[test]
fn native_code_matches_the_evaluator_in_f64() {
    // Integer powers are expanded into multiplications: a few ulps apart.
    agree::<f64>(1e-12);
}

#[test]
fn native_code_matches_the_evaluator_in_f32() {
    agree::<f32>(1e-5);
}

#[test]
fn a_stimulated_neuron_fires_and_an_unstimulated_one_rests() {
    let model = model();
    let settings = SolverSettings {
        algorithm: "tsit5".parse().unwrap(),
        time: LoopSettings {
            duration: 50.0,
            ..LoopSettings::default()
        },
        control: ControllerOptions {
            atol: Some(vec![1e-6]),
            rtol: Some(vec![1e-6]),
            dt_max: Some(0.1),
            ..ControllerOptions::default()
        },
        outputs: OutputSettings {
            outputs: Some(vec!["peaks[10]".into(), "max".into()]),
            summarise_variables: Some(vec!["V".into()]),
            sample_summaries_every: Some(0.01),
            summarise_every: Some(50.0),
            ..OutputSettings::default()
        },
        ..SolverSettings::default()
    };
    let solver = Solver::new(&model, &settings).unwrap();
    let runs = solver
        .grid(
            &[Sweep::new("amplitude", vec![0.0, 10.0])],
            GridKind::Combinatorial,
        )
        .unwrap();
    let result = solver.solve(&runs).unwrap();
    assert_eq!(result.status(), &[0, 0]);
    let max = result.values("summary_max").unwrap();
    assert!(max[0] < -60.0, "at rest V stays near -65 mV: {}", max[0]);
    assert!(max[1] > 20.0, "the stimulated neuron spikes: {}", max[1]);
    let peaks = result.values("summary_peaks").unwrap();
    // A 10 uA/cm^2 step fires tonically at roughly 60-70 Hz: three spikes
    // while it is on (the last local maximum is where it switches off, at
    // 40 ms, and V starts to fall).
    let spikes: Vec<f64> = peaks[10..].iter().copied().filter(|t| *t < 39.9).collect();
    assert_eq!(spikes.len(), 3, "{:?}", &peaks[10..]);
    for pair in spikes.windows(2) {
        let period = pair[1] - pair[0];
        assert!(
            (12.0..18.0).contains(&period),
            "inter-spike interval {period} ms"
        );
    }
    assert!(
        peaks[10] > 1.0 && peaks[10] < 5.0,
        "first spike soon after the step: {}",
        peaks[10]
    );
}
