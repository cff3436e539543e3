//! Every algorithm cubie knows, with its family and orders.

use std::sync::OnceLock;

use serde::Serialize;

use super::StepError;
use super::implicit_tableaus::rosenbrock::RosenbrockTableau;
use super::implicit_tableaus::{RkTableau, dirk, firk, rosenbrock};
use super::tableau::ButcherTableau;

/// How a step computes its stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepFamily {
    /// Explicit Runge–Kutta (Euler included).
    Explicit,
    /// The one- and two-stage implicit methods with their own names:
    /// backward Euler (plain and predictor-corrector) and Crank–Nicolson.
    Implicit,
    /// Diagonally implicit Runge–Kutta: one Newton solve per stage.
    Dirk,
    /// Fully implicit Runge–Kutta: one Newton solve for all stages.
    Firk,
    /// Rosenbrock(-W): one linear solve per stage, no Newton iteration.
    Rosenbrock,
}

impl StepFamily {
    /// The family's name in listings.
    pub fn name(self) -> &'static str {
        match self {
            StepFamily::Explicit => "explicit",
            StepFamily::Implicit => "implicit",
            StepFamily::Dirk => "dirk",
            StepFamily::Firk => "firk",
            StepFamily::Rosenbrock => "rosenbrock",
        }
    }

    /// True for the families that solve implicit equations.
    pub fn is_implicit(self) -> bool {
        self != StepFamily::Explicit
    }
}

/// The named implicit methods of the `implicit` family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImplicitMethod {
    /// Backward Euler, Newton started from the previous step's slope.
    BackwardsEuler,
    /// Backward Euler with an explicit Euler predictor as Newton's start.
    BackwardsEulerPc,
    /// The trapezoidal rule, error estimated against backward Euler.
    CrankNicolson,
}

/// What an algorithm's step is built from.
#[derive(Debug, Clone, Copy)]
pub enum Method {
    /// An explicit Runge–Kutta tableau.
    Erk(&'static ButcherTableau),
    /// A named implicit method.
    Implicit(ImplicitMethod),
    /// A DIRK tableau.
    Dirk(&'static RkTableau),
    /// A FIRK tableau.
    Firk(&'static RkTableau),
    /// A Rosenbrock tableau.
    Rosenbrock(&'static RosenbrockTableau),
}

/// One algorithm: its names, family, orders and tableau.
#[derive(Debug, Clone, Serialize)]
pub struct Algorithm {
    /// Canonical name.
    pub name: &'static str,
    /// Other accepted names.
    pub aliases: &'static [&'static str],
    /// How its stages are computed.
    pub family: StepFamily,
    /// Order of the propagated solution.
    pub order: u32,
    /// Order of the embedded solution, when it has an error estimate.
    pub error_order: Option<u32>,
    /// Whether an adaptive controller can drive it.
    pub adaptive: bool,
    /// Number of stages.
    pub stages: usize,
    /// Its coefficients or named method.
    #[serde(skip)]
    pub method: Method,
}

fn from_rk(family: StepFamily, t: &'static RkTableau, method: Method) -> Algorithm {
    Algorithm {
        name: t.name,
        aliases: t.aliases,
        family,
        order: t.order,
        error_order: t.error_order,
        adaptive: t.b_hat.is_some(),
        stages: t.stages(),
        method,
    }
}

/// Every algorithm, in listing order.
pub fn algorithms() -> &'static [Algorithm] {
    static ALL: OnceLock<Vec<Algorithm>> = OnceLock::new();
    static DIRK: OnceLock<Vec<RkTableau>> = OnceLock::new();
    static FIRK: OnceLock<Vec<RkTableau>> = OnceLock::new();
    static ROS: OnceLock<Vec<RosenbrockTableau>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut all: Vec<Algorithm> = super::erk_tableaus()
            .iter()
            .map(|&tableau| Algorithm {
                name: tableau.name(),
                aliases: tableau.aliases(),
                family: StepFamily::Explicit,
                order: tableau.order(),
                error_order: tableau.error_order(),
                adaptive: tableau.is_adaptive(),
                stages: tableau.stages(),
                method: Method::Erk(tableau),
            })
            .collect();
        let named = |name, aliases, order, error_order, stages, m| Algorithm {
            name,
            aliases,
            family: StepFamily::Implicit,
            order,
            error_order,
            adaptive: error_order.is_some(),
            stages,
            method: Method::Implicit(m),
        };
        all.push(named(
            "backwards_euler",
            &[],
            1,
            Some(1),
            1,
            ImplicitMethod::BackwardsEuler,
        ));
        all.push(named(
            "backwards_euler_pc",
            &[],
            1,
            Some(1),
            1,
            ImplicitMethod::BackwardsEulerPc,
        ));
        all.push(named(
            "crank_nicolson",
            &[],
            2,
            Some(1),
            2,
            ImplicitMethod::CrankNicolson,
        ));
        for t in DIRK.get_or_init(dirk::all) {
            all.push(from_rk(StepFamily::Dirk, t, Method::Dirk(t)));
        }
        for t in FIRK.get_or_init(firk::all) {
            all.push(from_rk(StepFamily::Firk, t, Method::Firk(t)));
        }
        for t in ROS.get_or_init(rosenbrock::all) {
            all.push(Algorithm {
                name: t.name,
                aliases: t.aliases,
                family: StepFamily::Rosenbrock,
                order: t.order,
                error_order: t.error_order,
                adaptive: t.b_hat.is_some(),
                stages: t.stages(),
                method: Method::Rosenbrock(t),
            });
        }
        all
    })
}

/// Looks an algorithm up by name or alias (case-insensitive).
pub fn find_algorithm(name: &str) -> Result<&'static Algorithm, StepError> {
    let wanted = name.trim().to_ascii_lowercase();
    algorithms()
        .iter()
        .find(|a| a.name == wanted || a.aliases.contains(&wanted.as_str()))
        .ok_or_else(|| StepError::UnknownAlgorithm {
            name: name.to_string(),
            valid: algorithms()
                .iter()
                .map(|a| a.name)
                .collect::<Vec<_>>()
                .join(", "),
        })
}
