//! Checking a [`ModelSpec`] and building its [`Model`]: names, roles,
//! equations, auxiliary order, and the lowering of the syntax tree into the
//! expression graph.

use std::collections::{HashMap, HashSet};

use crate::precision::Precision;

use super::builtins::{self, Builtin};
use super::derived::{InputCounts, build_system_functions};
use super::error::{ModelError, ModelErrorKind, suggest};
use super::expr::{ExprGraph, ExprId, Symbol};
use super::model::{Model, NamedValue};
use super::parser::{Ast, Equation, Program, parse};
use super::spec::{At, Declaration, ModelSpec};

/// The role of a declared name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    State,
    Parameter,
    Constant,
    Driver,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::State => "state",
            Role::Parameter => "parameter",
            Role::Constant => "constant",
            Role::Driver => "driver",
        }
    }
}

/// What a name in an expression refers to.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Leaf {
    Time,
    Input(Role, usize),
    /// The i-th auxiliary (in equation order).
    Auxiliary(usize),
}

const KEYWORDS: [&str; 5] = ["if", "else", "and", "or", "not"];

/// Why `name` cannot be declared, if it cannot.
fn invalid_name(name: &str) -> Option<&'static str> {
    let mut chars = name.chars();
    let valid_start = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !valid_start || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Some("names are letters, digits and `_`, starting with a letter or `_`");
    }
    if name == "t" {
        return Some("`t` is the time, which every model has");
    }
    if KEYWORDS.contains(&name) {
        return Some("it is a keyword");
    }
    if Builtin::lookup(name).is_some() {
        return Some("it is a built-in function; choose another name");
    }
    None
}

/// Why a declared `name` clashes with the derivative of a state, if it
/// does: `dx` is how the derivative of state `x` is written.
fn names_a_derivative(name: &str, table: &HashMap<String, (Role, usize)>) -> Option<&'static str> {
    let rest = name.strip_prefix('d')?;
    matches!(table.get(rest), Some((Role::State, _))).then_some(
        "it is `d` followed by the name of a state, which is how that state's derivative is written; choose another name",
    )
}

/// Checks a spec and builds its model.
pub(crate) fn build_model(spec: ModelSpec) -> Result<Model, ModelError> {
    let symbols = declarations(&spec)?;
    let program =
        parse(&spec.equations).map_err(|(kind, span)| spec.error(kind, &At::Equations(span)))?;
    let eqs = classify(&spec, &symbols, &program)?;
    let leaves = resolve_names(&spec, &symbols, &eqs.aux_index, &program)?;
    check_definitions(&spec, &eqs, &program)?;
    let observables = observable_indices(&spec, &eqs)?;
    let order = auxiliary_order(&spec, &eqs, &program, &leaves)?;

    let mut graph = ExprGraph::new();
    let mut aux_values = vec![None; eqs.auxiliaries.len()];
    let lower_eq = |graph: &mut ExprGraph, aux_values: &[Option<ExprId>], k: usize| {
        lower(
            &spec,
            &program,
            &leaves,
            aux_values,
            graph,
            &program.equations[k],
        )
    };
    for &a in &order {
        aux_values[a] = Some(lower_eq(&mut graph, &aux_values, eqs.auxiliaries[a])?);
    }
    let mut dxdt = Vec::with_capacity(spec.states.len());
    for &k in eqs.derivatives.iter().flatten() {
        dxdt.push(lower_eq(&mut graph, &aux_values, k)?);
    }
    let observable_roots = observables
        .iter()
        .map(|&a| aux_values[a].unwrap_or_else(|| graph.constant(f64::NAN)))
        .collect();
    let counts = InputCounts {
        states: spec.states.len(),
        parameters: spec.parameters.len(),
        drivers: spec.drivers.len(),
    };
    let functions = build_system_functions(graph, dxdt, observable_roots, counts);

    let named = |list: &[Declaration]| {
        list.iter()
            .map(|d| NamedValue {
                name: d.name.clone(),
                value: d.value,
            })
            .collect()
    };
    let aux_name = |a: usize| program.equations[eqs.auxiliaries[a]].lhs.clone();
    Ok(Model {
        name: spec.name.clone(),
        precision: spec.precision,
        equations: spec.equations.clone(),
        states: named(&spec.states),
        parameters: named(&spec.parameters),
        constants: named(&spec.constants),
        drivers: named(&spec.drivers),
        observables: observables.iter().map(|&a| aux_name(a)).collect(),
        auxiliaries: order.iter().map(|&a| aux_name(a)).collect(),
        functions,
        with_jacobian: std::sync::OnceLock::new(),
        with_jacobian_diagonal: std::sync::OnceLock::new(),
    })
}

/// Checks every declaration; returns the table of declared names.
fn declarations(spec: &ModelSpec) -> Result<HashMap<String, (Role, usize)>, ModelError> {
    let mut table: HashMap<String, (Role, usize)> = HashMap::new();
    let roles = [
        (Role::State, &spec.states),
        (Role::Parameter, &spec.parameters),
        (Role::Constant, &spec.constants),
        (Role::Driver, &spec.drivers),
    ];
    for (role, list) in roles {
        for (i, d) in list.iter().enumerate() {
            if let Some(reason) = invalid_name(&d.name) {
                let kind = ModelErrorKind::InvalidName {
                    name: d.name.clone(),
                    role: role.name(),
                    reason,
                };
                return Err(spec.error(kind, &d.at));
            }
            if !d.value.is_finite() {
                let kind = ModelErrorKind::InvalidDefault {
                    role: role.name(),
                    name: d.name.clone(),
                    found: d.value.to_string(),
                };
                return Err(spec.error(kind, &d.at));
            }
            if spec.precision == Precision::F32 && !(d.value as f32).is_finite() {
                let kind = ModelErrorKind::InvalidDefault {
                    role: role.name(),
                    name: d.name.clone(),
                    found: format!("{:e}, which is beyond the range of f32", d.value),
                };
                return Err(spec.error(kind, &d.at));
            }
            if let Some((first, _)) = table.insert(d.name.clone(), (role, i)) {
                let kind = ModelErrorKind::DuplicateDeclaration {
                    name: d.name.clone(),
                    first: first.name(),
                    second: role.name(),
                };
                return Err(spec.error(kind, &d.at));
            }
        }
    }
    if spec.states.is_empty() {
        return Err(spec.error(ModelErrorKind::NoStates, &At::Nowhere));
    }
    for (role, list) in roles {
        for d in list {
            if let Some(reason) = names_a_derivative(&d.name, &table) {
                let kind = ModelErrorKind::InvalidName {
                    name: d.name.clone(),
                    role: role.name(),
                    reason,
                };
                return Err(spec.error(kind, &d.at));
            }
        }
    }
    Ok(table)
}

/// The equations sorted by what they define.
struct Equations {
    /// For each state, the index of its `dNAME` equation.
    derivatives: Vec<Option<usize>>,
    /// Equation index of each auxiliary, in equation order.
    auxiliaries: Vec<usize>,
    /// Auxiliary position by name.
    aux_index: HashMap<String, usize>,
}

fn classify(
    spec: &ModelSpec,
    table: &HashMap<String, (Role, usize)>,
    program: &Program,
) -> Result<Equations, ModelError> {
    let mut defined: HashMap<&str, usize> = HashMap::new();
    let mut eqs = Equations {
        derivatives: vec![None; spec.states.len()],
        auxiliaries: Vec::new(),
        aux_index: HashMap::new(),
    };
    for (k, eq) in program.equations.iter().enumerate() {
        let at = At::Equations(eq.lhs_span.clone());
        if let Some(&first) = defined.get(eq.lhs.as_str()) {
            let first_at = At::Equations(program.equations[first].lhs_span.clone());
            let first_line = spec.locate(&first_at).map_or(0, |l| l.line);
            let kind = ModelErrorKind::DuplicateDefinition {
                name: eq.lhs.clone(),
                first_line,
            };
            return Err(spec.error(kind, &at));
        }
        defined.insert(&eq.lhs, k);
        let assign_error = |role: &'static str, hint: String| {
            let kind = ModelErrorKind::AssignToInput {
                name: eq.lhs.clone(),
                role,
                hint,
            };
            Err(spec.error(kind, &at))
        };
        if eq.lhs == "t" {
            return assign_error("time", "`t` is the independent variable".into());
        }
        if let Some(&(role, _)) = table.get(&eq.lhs) {
            let hint = match role {
                Role::State => format!("write its derivative as `d{} = ...`", eq.lhs),
                _ => format!(
                    "{}s are inputs to the model; give the expression a new name",
                    role.name()
                ),
            };
            return assign_error(role.name(), hint);
        }
        if Builtin::lookup(&eq.lhs).is_some() {
            let kind = ModelErrorKind::InvalidName {
                name: eq.lhs.clone(),
                role: "auxiliary",
                reason: "it is a built-in function; choose another name",
            };
            return Err(spec.error(kind, &at));
        }
        let state = eq
            .lhs
            .strip_prefix('d')
            .and_then(|rest| table.get(rest))
            .and_then(|&(role, i)| (role == Role::State).then_some(i));
        match state {
            Some(i) => eqs.derivatives[i] = Some(k),
            None => {
                eqs.aux_index.insert(eq.lhs.clone(), eqs.auxiliaries.len());
                eqs.auxiliaries.push(k);
            }
        }
    }
    Ok(eqs)
}

/// Resolves every name and call; returns what each `Name` node refers to
/// (indexed by node).
fn resolve_names(
    spec: &ModelSpec,
    table: &HashMap<String, (Role, usize)>,
    aux_index: &HashMap<String, usize>,
    program: &Program,
) -> Result<Vec<Option<Leaf>>, ModelError> {
    let mut leaves = vec![None; program.nodes.len()];
    for (id, node) in program.nodes.iter().enumerate() {
        let at = At::Equations(node.span.clone());
        match &node.ast {
            Ast::Name(name) => {
                let leaf = if name == "t" {
                    Leaf::Time
                } else if let Some(&(role, i)) = table.get(name) {
                    Leaf::Input(role, i)
                } else if let Some(&a) = aux_index.get(name) {
                    Leaf::Auxiliary(a)
                } else if Builtin::lookup(name).is_some() {
                    let kind = ModelErrorKind::FunctionAsValue { name: name.clone() };
                    return Err(spec.error(kind, &at));
                } else {
                    let known = table
                        .keys()
                        .chain(aux_index.keys())
                        .map(String::as_str)
                        .chain(["t"]);
                    let kind = ModelErrorKind::UnknownSymbol {
                        name: name.clone(),
                        suggestion: suggest(name, sorted(known)),
                    };
                    return Err(spec.error(kind, &at));
                };
                leaves[id] = Some(leaf);
            }
            Ast::Call {
                name,
                name_span,
                args,
            } => {
                let Some(f) = Builtin::lookup(name) else {
                    let kind = ModelErrorKind::UnknownFunction {
                        name: name.clone(),
                        suggestion: suggest(name, builtins::names()),
                    };
                    return Err(spec.error(kind, &At::Equations(name_span.clone())));
                };
                if let Err(expected) = f.check_arity(args.len()) {
                    let kind = ModelErrorKind::WrongArgumentCount {
                        name: name.clone(),
                        expected,
                        found: args.len(),
                    };
                    return Err(spec.error(kind, &at));
                }
            }
            _ => {}
        }
    }
    Ok(leaves)
}

/// Names in a deterministic order, so that ties in suggestions do not
/// depend on hashing.
fn sorted<'a>(names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut v: Vec<&str> = names.collect();
    v.sort_unstable();
    v
}

fn names_used(program: &Program) -> HashSet<&str> {
    program
        .nodes
        .iter()
        .filter_map(|n| match &n.ast {
            Ast::Name(name) => Some(name.as_str()),
            _ => None,
        })
        .collect()
}

/// Every state has a derivative; no `dNAME` names a state that does not
/// exist.
fn check_definitions(
    spec: &ModelSpec,
    eqs: &Equations,
    program: &Program,
) -> Result<(), ModelError> {
    let used = names_used(program);
    let observed: HashSet<&str> = spec.observables.iter().map(|(n, _)| n.as_str()).collect();
    for &k in &eqs.auxiliaries {
        let eq = &program.equations[k];
        let Some(rest) = eq.lhs.strip_prefix('d') else {
            continue;
        };
        // An unused, unobserved `dq` is a derivative of a missing state; a
        // used one is an auxiliary that happens to start with `d`.
        if rest.is_empty() || used.contains(eq.lhs.as_str()) || observed.contains(eq.lhs.as_str()) {
            continue;
        }
        let open = spec
            .states
            .iter()
            .zip(&eqs.derivatives)
            .filter(|(_, d)| d.is_none())
            .map(|(s, _)| s.name.as_str());
        let kind = ModelErrorKind::UndeclaredState {
            name: rest.to_string(),
            suggestion: suggest(rest, open),
        };
        return Err(spec.error(kind, &At::Equations(eq.lhs_span.clone())));
    }
    for (state, d) in spec.states.iter().zip(&eqs.derivatives) {
        if d.is_none() {
            let kind = ModelErrorKind::MissingDerivative {
                name: state.name.clone(),
            };
            return Err(spec.error(kind, &state.at));
        }
    }
    Ok(())
}

/// The auxiliary behind each observable.
fn observable_indices(spec: &ModelSpec, eqs: &Equations) -> Result<Vec<usize>, ModelError> {
    let mut out: Vec<usize> = Vec::new();
    for (name, at) in &spec.observables {
        let Some(&a) = eqs.aux_index.get(name) else {
            let kind = ModelErrorKind::UndefinedObservable {
                name: name.clone(),
                suggestion: suggest(name, sorted(eqs.aux_index.keys().map(String::as_str))),
            };
            return Err(spec.error(kind, at));
        };
        if out.contains(&a) {
            let kind = ModelErrorKind::DuplicateDeclaration {
                name: name.clone(),
                first: "observable",
                second: "observable",
            };
            return Err(spec.error(kind, at));
        }
        out.push(a);
    }
    Ok(out)
}

/// Auxiliaries ordered so that each comes after those it uses (equation
/// order where free); a cycle is an error naming it.
fn auxiliary_order(
    spec: &ModelSpec,
    eqs: &Equations,
    program: &Program,
    leaves: &[Option<Leaf>],
) -> Result<Vec<usize>, ModelError> {
    let deps: Vec<Vec<usize>> = eqs
        .auxiliaries
        .iter()
        .map(|&k| {
            let eq = &program.equations[k];
            let mut d: Vec<usize> = (eq.first..=eq.rhs)
                .filter_map(|id| match leaves[id] {
                    Some(Leaf::Auxiliary(a)) => Some(a),
                    _ => None,
                })
                .collect();
            d.dedup();
            d
        })
        .collect();
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut mark = vec![Mark::New; deps.len()];
    let mut order = Vec::with_capacity(deps.len());
    for root in 0..deps.len() {
        if mark[root] != Mark::New {
            continue;
        }
        mark[root] = Mark::Open;
        let mut stack = vec![(root, 0usize)];
        while let Some((node, next)) = stack.last_mut() {
            let node = *node;
            if let Some(&dep) = deps[node].get(*next) {
                *next += 1;
                match mark[dep] {
                    Mark::New => {
                        mark[dep] = Mark::Open;
                        stack.push((dep, 0));
                    }
                    Mark::Open => {
                        let from = stack.iter().position(|(a, _)| *a == dep).unwrap_or(0);
                        let name = |a: usize| program.equations[eqs.auxiliaries[a]].lhs.clone();
                        let mut cycle: Vec<String> =
                            stack[from..].iter().map(|(a, _)| name(*a)).collect();
                        cycle.push(name(dep));
                        let at =
                            At::Equations(program.equations[eqs.auxiliaries[dep]].lhs_span.clone());
                        return Err(spec.error(ModelErrorKind::AuxiliaryCycle { cycle }, &at));
                    }
                    Mark::Done => {}
                }
            } else {
                mark[node] = Mark::Done;
                order.push(node);
                stack.pop();
            }
        }
    }
    Ok(order)
}

/// Builds one right-hand side into the graph. Names, calls and the
/// auxiliary order are already checked. A number or constant expression
/// that is not finite is an error at the innermost text that makes it
/// (children are built before their parents).
fn lower(
    spec: &ModelSpec,
    program: &Program,
    leaves: &[Option<Leaf>],
    aux_values: &[Option<ExprId>],
    graph: &mut ExprGraph,
    eq: &Equation,
) -> Result<ExprId, ModelError> {
    let mut values: Vec<ExprId> = Vec::with_capacity(eq.rhs + 1 - eq.first);
    let v = |values: &Vec<ExprId>, id: usize| values[id - eq.first];
    let range = eq.first..=eq.rhs;
    for (node, leaf) in program.nodes[range.clone()].iter().zip(&leaves[range]) {
        let value = match &node.ast {
            Ast::Number(x) => graph.constant(*x),
            Ast::Name(_) => match *leaf {
                Some(Leaf::Time) => graph.symbol(Symbol::Time),
                Some(Leaf::Input(role, i)) => {
                    let i32 = u32::try_from(i).unwrap_or(u32::MAX);
                    match role {
                        Role::State => graph.symbol(Symbol::State(i32)),
                        Role::Parameter => graph.symbol(Symbol::Parameter(i32)),
                        // Constants are fixed for a batch: fold them in.
                        Role::Constant => graph.constant(spec.constants[i].value),
                        Role::Driver => graph.symbol(Symbol::Driver(i32)),
                    }
                }
                Some(Leaf::Auxiliary(a)) => aux_values[a].unwrap_or_else(|| {
                    debug_assert!(false, "auxiliary used before it was built");
                    graph.constant(f64::NAN)
                }),
                None => graph.constant(f64::NAN),
            },
            Ast::Unary(op, a) => graph.unary(*op, v(&values, *a)),
            Ast::Binary(op, a, b) => graph.binary(*op, v(&values, *a), v(&values, *b)),
            Ast::Call { name, args, .. } => {
                let args: Vec<ExprId> = args.iter().map(|a| v(&values, *a)).collect();
                match Builtin::lookup(name) {
                    Some(f) => f.build(graph, &args),
                    None => graph.constant(f64::NAN),
                }
            }
            Ast::Cond { cond, then, other } => {
                graph.select(v(&values, *cond), v(&values, *then), v(&values, *other))
            }
        };
        // Folding is in f64; an f32 model's constants are then rounded.
        let at_precision = |x: f64| match spec.precision {
            Precision::F32 => f64::from(x as f32),
            Precision::F64 => x,
        };
        if let Some(x) = graph
            .const_value(value)
            .map(at_precision)
            .filter(|x| !x.is_finite())
        {
            let kind = ModelErrorKind::NonFiniteConstant {
                text: spec
                    .equations
                    .get(node.span.clone())
                    .unwrap_or("")
                    .to_string(),
                value: x.to_string(),
                literal: matches!(node.ast, Ast::Number(_)),
                precision: spec.precision,
            };
            return Err(spec.error(kind, &At::Equations(node.span.clone())));
        }
        values.push(value);
    }
    Ok(values[eq.rhs - eq.first])
}
