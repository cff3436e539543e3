//! The model's functions as CUDA C device functions, emitted from the
//! expression schedule the native JIT lowers: one `const` variable per
//! scheduled node (so shared subexpressions are computed once), inputs
//! loaded first and outputs stored last (an `out` that aliases an input
//! sees the inputs from before the call, as on the CPU). Every operation
//! is the one the CPU lowering performs, in the same order, so that with
//! contraction off the host emulation reproduces the CPU backend's bits.

use crate::backend::cpu::jit::MAX_EXPANDED_POWER;
use crate::system::expr::{BinaryOp, ExprGraph, ExprId, Node, UnaryOp};
use crate::system::schedule::{FunctionSchedule, InputArray, Schedule};
use crate::system::{SystemFunction, SystemFunctions};

use super::CudaError;
use super::source::{CReal, CudaSource, identifier};

/// Names of a model's inputs, for readable variables.
#[derive(Debug, Clone, Default)]
pub struct InputNames {
    /// State names.
    pub states: Vec<String>,
    /// Parameter names.
    pub parameters: Vec<String>,
    /// Driver names.
    pub drivers: Vec<String>,
}

/// The signature every model function has, as the CPU's calling
/// convention: `(t, state, parameters, drivers, driver_rates, direction,
/// out)`.
pub fn function_name(function: SystemFunction) -> String {
    format!("cubie_{}", function.name())
}

/// Emits the device functions `functions` of the model.
pub fn emit_functions(
    system: &SystemFunctions,
    names: &InputNames,
    real: CReal,
    functions: &[SystemFunction],
) -> Result<CudaSource, CudaError> {
    let schedule = Schedule::new(system).map_err(|e| CudaError::Model(e.to_string()))?;
    let mut source = CudaSource::new();
    for &function in functions {
        emit_function(
            &mut source,
            &system.graph,
            schedule.function(function),
            names,
            real,
        )?;
        source.line("");
    }
    Ok(source)
}

fn emit_function(
    source: &mut CudaSource,
    graph: &ExprGraph,
    schedule: &FunctionSchedule,
    names: &InputNames,
    real: CReal,
) -> Result<(), CudaError> {
    let r = real.name();
    let function = schedule.function();
    source.line(format!("// {}", describe(function)));
    source.open(format!(
        "__device__ __forceinline__ void {}(const {r} t, const {r}* state, const {r}* parameters, \
         const {r}* drivers, const {r}* driver_rates, const {r}* direction, {r}* out)",
        function_name(function)
    ));
    source.line("(void)t; (void)state; (void)parameters; (void)drivers; (void)driver_rates; (void)direction;");
    let mut values: Vec<Option<String>> = vec![None; graph.len()];
    for &(id, symbol) in schedule.inputs() {
        let name = match InputArray::of(symbol) {
            None => "t".to_string(),
            Some((array, index)) => {
                let index = index as usize;
                let label = match array {
                    InputArray::State => names.states.get(index),
                    InputArray::Parameters => names.parameters.get(index),
                    InputArray::Drivers | InputArray::DriverRates => names.drivers.get(index),
                    InputArray::Direction => names.states.get(index),
                };
                let prefix = match array {
                    InputArray::State => "x",
                    InputArray::Parameters => "p",
                    InputArray::Drivers => "d",
                    InputArray::DriverRates => "dd",
                    InputArray::Direction => "v",
                };
                let var = identifier(
                    &format!("{prefix}{index}"),
                    label.map_or("", String::as_str),
                );
                source.line(format!("const {r} {var} = {}[{index}];", array.name()));
                var
            }
        };
        values[id.index()] = Some(name);
    }
    // A scattered output (the Jacobian's non-zeros) is zero elsewhere,
    // as the CPU zeroes it before the call.
    if schedule.positions().is_some() {
        source.line(format!(
            "for (int k = 0; k < {}; ++k) out[k] = {};",
            schedule.n_outputs(),
            real.literal(0.0)
        ));
    }
    let mut emitter = NodeEmitter::new(graph, real);
    emitter.values = values;
    for &id in schedule.nodes() {
        match graph.node(id) {
            Node::Symbol(_) | Node::Const(_) => continue,
            _ => {}
        }
        let expression = emitter.operation(id)?;
        let var = format!("v{}", id.index());
        source.line(format!("const {r} {var} = {expression};"));
        emitter.values[id.index()] = Some(var);
    }
    for (k, &root) in schedule.roots().iter().enumerate() {
        let value = emitter.operand(root)?;
        source.line(format!("out[{}] = {value};", schedule.position(k)));
    }
    source.close();
    Ok(())
}

fn describe(function: SystemFunction) -> &'static str {
    match function {
        SystemFunction::Dxdt => "dx/dt = f(t, x)",
        SystemFunction::Observables => "the observables at (t, x)",
        SystemFunction::Jvp => "J(t, x) v",
        SystemFunction::Dfdt => "df/dt at fixed x",
        SystemFunction::Jacobian => "the Jacobian's non-zeros, row-major",
        SystemFunction::JacobianDiagonal => "the Jacobian's diagonal",
    }
}

/// C expressions of a model's operations, one per scheduled node, each
/// the operation the CPU lowering performs (shared with the CPU backend's
/// C lane step).
pub(crate) struct NodeEmitter<'a> {
    graph: &'a ExprGraph,
    real: CReal,
    /// The C name of each node's value, once emitted.
    pub(crate) values: Vec<Option<String>>,
}

impl<'a> NodeEmitter<'a> {
    /// An emitter for `graph` in `real`, no value named yet.
    pub(crate) fn new(graph: &'a ExprGraph, real: CReal) -> Self {
        Self {
            graph,
            real,
            values: vec![None; graph.len()],
        }
    }

    /// The C operand for node `id`: a literal or its value's name.
    pub(crate) fn operand(&self, id: ExprId) -> Result<String, CudaError> {
        if let Node::Const(bits) = *self.graph.node(id) {
            return Ok(self.real.literal(f64::from_bits(bits)));
        }
        self.values
            .get(id.index())
            .cloned()
            .flatten()
            .ok_or(CudaError::Internal("an operand emitted after its user"))
    }

    fn bool_value(&self, condition: String) -> String {
        format!(
            "(({condition}) ? {} : {})",
            self.real.literal(1.0),
            self.real.literal(0.0)
        )
    }

    /// The C expression computing node `id` from its operands.
    pub(crate) fn operation(&self, id: ExprId) -> Result<String, CudaError> {
        let real = self.real;
        let zero = real.literal(0.0);
        let one = real.literal(1.0);
        Ok(match *self.graph.node(id) {
            Node::Symbol(_) | Node::Const(_) => {
                return Err(CudaError::Internal("a leaf is not an operation"));
            }
            Node::Unary(op, a) => {
                let x = self.operand(a)?;
                match op {
                    UnaryOp::Neg => format!("-{x}"),
                    UnaryOp::Abs => format!("{}({x})", real.math("fabs")),
                    UnaryOp::Sign => format!(
                        "(({x}) > {zero} ? {one} : (({x}) < {zero} ? {} : ({x})))",
                        real.literal(-1.0)
                    ),
                    UnaryOp::Heaviside => format!(
                        "(({x}) > {zero} ? {one} : (({x}) < {zero} ? {zero} : (({x}) == {zero} ? {} : ({x}))))",
                        real.literal(0.5)
                    ),
                    UnaryOp::Not => self.bool_value(format!("{x} == {zero}")),
                    // The model language names its functions as C does.
                    _ => format!("{}({x})", real.math(op.name())),
                }
            }
            Node::Binary(op, a, b) => {
                let exponent = self.graph.const_value(b);
                let (x, y) = (self.operand(a)?, self.operand(b)?);
                match op {
                    BinaryOp::Add => format!("{x} + {y}"),
                    BinaryOp::Sub => format!("{x} - {y}"),
                    BinaryOp::Mul => format!("{x} * {y}"),
                    BinaryOp::Div => format!("{x} / {y}"),
                    BinaryOp::Pow => match exponent.and_then(|e| self.expandable_power(e)) {
                        Some(n) => self.integer_power(&x, n),
                        None => format!("{}({x}, {y})", real.math("pow")),
                    },
                    BinaryOp::Atan2 => format!("{}({x}, {y})", real.math("atan2")),
                    BinaryOp::Hypot => format!("{}({x}, {y})", real.math("hypot")),
                    // Rust's min/max: a NaN operand yields the other one; on
                    // a tie the first operand.
                    BinaryOp::Min => {
                        format!("(({y}) < ({x}) ? ({y}) : (({x}) != ({x}) ? ({y}) : ({x})))")
                    }
                    BinaryOp::Max => {
                        format!("(({y}) > ({x}) ? ({y}) : (({x}) != ({x}) ? ({y}) : ({x})))")
                    }
                    BinaryOp::Lt => self.bool_value(format!("{x} < {y}")),
                    BinaryOp::Le => self.bool_value(format!("{x} <= {y}")),
                    BinaryOp::Gt => self.bool_value(format!("{x} > {y}")),
                    BinaryOp::Ge => self.bool_value(format!("{x} >= {y}")),
                    BinaryOp::Eq => self.bool_value(format!("{x} == {y}")),
                    BinaryOp::Ne => self.bool_value(format!("{x} != {y}")),
                    BinaryOp::And => self.bool_value(format!("({x}) != {zero} && ({y}) != {zero}")),
                    BinaryOp::Or => self.bool_value(format!("({x}) != {zero} || ({y}) != {zero}")),
                }
            }
            Node::Select(c, a, b) => {
                let (c, a, b) = (self.operand(c)?, self.operand(a)?, self.operand(b)?);
                format!("(({c}) != {zero} ? ({a}) : ({b}))")
            }
        })
    }

    /// The exponent as an integer when `x^e` is expanded, as the CPU's
    /// lowering decides it.
    fn expandable_power(&self, e: f64) -> Option<i32> {
        let e = match self.real.0 {
            crate::Precision::F32 => e as f32 as f64,
            crate::Precision::F64 => e,
        };
        (e.fract() == 0.0 && e.abs() <= MAX_EXPANDED_POWER).then_some(e as i32)
    }

    /// `x^n` by binary exponentiation, multiplied in the CPU lowering's
    /// order.
    fn integer_power(&self, x: &str, n: i32) -> String {
        if n == 0 {
            return self.real.literal(1.0);
        }
        let mut remaining = n.unsigned_abs();
        let mut base = format!("({x})");
        let mut result: Option<String> = None;
        loop {
            if remaining & 1 == 1 {
                result = Some(match result {
                    None => base.clone(),
                    Some(r) => format!("({r} * {base})"),
                });
            }
            remaining >>= 1;
            if remaining == 0 {
                break;
            }
            base = format!("({base} * {base})");
        }
        let positive = result.unwrap_or(base);
        if n < 0 {
            format!("({} / {positive})", self.real.literal(1.0))
        } else {
            positive
        }
    }
}
