//! Drivers as CUDA C: the interpolant's knots and coefficient table as
//! constant arrays, `cubie_drivers` (the CPU's `DriverInterpolant::evaluate`
//! and `evaluate_with_rates`, in f64, only the result rounded to `real`),
//! and the model as the steps call it (`cubie_system_dxdt`,
//! `cubie_system_observables`: the CPU's `SystemCall`, which sets the
//! drivers at the call's time before the model reads them).

use crate::drivers::{DriverInterpolant, Extrapolation};
use crate::system::SystemFunction;

use super::CudaError;
use super::source::{CReal, CudaSource};

/// Emits the drivers' tables and `cubie_drivers` (time-varying drivers
/// only), then a `cubie_system_*` call for each of `functions` (the model
/// functions the source has).
pub fn emit(
    interpolant: &DriverInterpolant<f64>,
    real: CReal,
    functions: &[SystemFunction],
) -> Result<CudaSource, CudaError> {
    let r = real.name();
    let mut c = CudaSource::new();
    let varying = !interpolant.is_constant();
    if varying {
        c.append(&interpolation(interpolant, real)?);
    }
    c.line("// The model as the steps and the loop call it: the drivers set at t first.");
    for &function in functions {
        let name = function.name();
        // `df/dt` reads the drivers' rates, which it alone sets.
        let dfdt = function == SystemFunction::Dfdt;
        let set = match (dfdt, varying) {
            (true, true) => "cubie_drivers(t, drivers, driver_rates);".to_string(),
            // Constant drivers have zero rates.
            (true, false) => format!(
                "for (int i = 0; i < {}; ++i) driver_rates[i] = {};",
                interpolant.n_drivers(),
                real.literal(0.0)
            ),
            (false, true) => "cubie_drivers(t, drivers, nullptr);".to_string(),
            // Constant drivers: the loop loads them once per run.
            (false, false) => "(void)drivers;".to_string(),
        };
        let rates = if dfdt { "" } else { "const " };
        let (v_parameter, v_argument) = if function == SystemFunction::Jvp {
            (format!("const {r}* v, "), "v")
        } else {
            (String::new(), "nullptr")
        };
        c.open(format!(
            "__device__ __forceinline__ void cubie_system_{name}(double t, const {r}* state, const {r}* parameters, \
             {r}* drivers, {rates}{r}* driver_rates, {v_parameter}{r}* out)"
        ));
        c.line(set);
        c.line(format!(
            "cubie_{name}(({r})t, state, parameters, drivers, driver_rates, {v_argument}, out);"
        ));
        c.close();
    }
    Ok(c)
}

/// The tables and `cubie_drivers(double t, real* drivers, real*
/// driver_rates)` of a time-varying `interpolant` (`driver_rates` may be
/// null); the source needs only `real` defined.
pub fn interpolation(
    interpolant: &DriverInterpolant<f64>,
    real: CReal,
) -> Result<CudaSource, CudaError> {
    let mut source = CudaSource::new();
    let c = &mut source;
    let r = real.name();
    let d = |x: f64| CReal(crate::Precision::F64).literal(x);
    let knots = interpolant.knots();
    let sampled = interpolant.sampled_drivers();
    let coefficients = interpolant.coefficients();
    if knots.len() < 2 || coefficients.len() != knots.len() * sampled.len() * 4 {
        return Err(CudaError::Internal("a driver table of the wrong size"));
    }
    let last = knots.len() - 1;
    let width = sampled.len() * 4;
    let settings = interpolant.settings();
    c.line(format!(
        "// Driver samples: {} interpolation, {} boundary, {} outside the samples.",
        settings.interpolation,
        settings.boundary(),
        settings.extrapolation
    ));
    c.line("// Coefficients in f64: segment i, sampled driver j, s = t - knots[i]:");
    c.line("// value = c[0] + s (c[1] + s (c[2] + s c[3])), c = row i + 4 j.");
    c.line(format!(
        "__device__ const double cubie_driver_knots[{}] = {{{}}};",
        knots.len(),
        knots.iter().map(|&x| d(x)).collect::<Vec<_>>().join(", ")
    ));
    c.line(format!(
        "__device__ const double cubie_driver_coefficients[{}] = {{",
        coefficients.len()
    ));
    for row in coefficients.chunks_exact(width) {
        c.line(format!(
            "    {},",
            row.iter().map(|&x| d(x)).collect::<Vec<_>>().join(", ")
        ));
    }
    c.line("};");
    c.line("");
    c.line("// Every driver's value at t, and its rate where driver_rates is not null");
    c.line("// (zero for constant drivers and for values held outside the samples).");
    c.open(format!(
        "__device__ __forceinline__ void cubie_drivers(double t, {r}* drivers, {r}* driver_rates)"
    ));
    for &(i, v) in interpolant.constants() {
        c.line(format!("drivers[{i}] = {};", real.literal(v)));
        c.line(format!(
            "if (driver_rates) driver_rates[{i}] = {};",
            real.literal(0.0)
        ));
    }
    let (start, end) = (knots[0], knots[last]);
    c.line(format!("const double start = {};", d(start)));
    c.line(format!("const double end = {};", d(end)));
    if interpolant.extrapolation() == Extrapolation::Wrap {
        // Rust's rem_euclid: fmod, moved up by the period when negative.
        c.open("if (!(start <= t && t <= end))");
        c.line(format!("double r = fmod(t - start, {});", d(end - start)));
        c.line(format!("if (r < 0.0) r = r + {};", d((end - start).abs())));
        c.line("t = start + r;");
        c.close();
    }
    c.line("int segment;");
    c.line("double s;");
    c.line("bool held;");
    c.open("if (t < start)");
    c.line("segment = 0; s = 0.0; held = true;");
    c.close_with("else if (t >= end) {");
    // The end row: the last sample, with the end slope unless held.
    c.line(format!("segment = {last}; s = 0.0; held = t > end;"));
    c.close_with("else {");
    match interpolant.inv_spacing() {
        Some(inv) => {
            c.line("// Evenly spaced: computed, then moved by rounding's one step.");
            c.line(format!("const double guess = (t - start) * {};", d(inv)));
            // NaN and out-of-range guesses saturate, as Rust's `as usize`.
            c.line(format!(
                "int i = !(guess > 0.0) ? 0 : (guess >= {}.0 ? {} : (int)guess);",
                last - 1,
                last - 1
            ));
            c.line("while (i > 0 && t < cubie_driver_knots[i]) i -= 1;");
            c.line(format!(
                "while (i + 1 < {last} && t >= cubie_driver_knots[i + 1]) i += 1;"
            ));
            c.line("segment = i;");
        }
        None => {
            c.line("// The number of knots at or before t, by bisection.");
            c.line("int lo = 0;");
            c.line(format!("int hi = {};", knots.len()));
            c.open("while (lo < hi)");
            c.line("const int mid = (lo + hi) / 2;");
            c.line("if (cubie_driver_knots[mid] <= t) lo = mid + 1; else hi = mid;");
            c.close();
            c.line(format!(
                "segment = (lo < 1 ? 1 : (lo > {last} ? {last} : lo)) - 1;"
            ));
        }
    }
    c.line("s = t - cubie_driver_knots[segment];");
    c.line("held = false;");
    c.close();
    c.line("(void)held;");
    c.line(format!(
        "const double* row = cubie_driver_coefficients + segment * {width};"
    ));
    for (j, &i) in sampled.iter().enumerate() {
        let k = |n: usize| format!("row[{}]", 4 * j + n);
        c.line(format!(
            "drivers[{i}] = ({r})({} + s * ({} + s * ({} + s * {})));",
            k(0),
            k(1),
            k(2),
            k(3)
        ));
        c.line(format!(
            "if (driver_rates) driver_rates[{i}] = ({r})(held ? 0.0 : {} + s * (2.0 * {} + 3.0 * s * {}));",
            k(1),
            k(2),
            k(3)
        ));
    }
    c.close();
    c.line("");
    Ok(source)
}
