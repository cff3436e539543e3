//! Every algorithm cubie knows, with its family and orders.

use std::sync::OnceLock;

use serde::Serialize;

use super::StepError;
use super::tableau::ButcherTableau;

/// How a step computes its stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepFamily {
    /// Explicit Runge–Kutta (Euler included).
    Explicit,
}

impl StepFamily {
    /// The family's name in listings.
    pub fn name(self) -> &'static str {
        match self {
            StepFamily::Explicit => "explicit",
        }
    }
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
    /// Its coefficients.
    #[serde(skip)]
    pub tableau: &'static ButcherTableau,
}

/// Every algorithm, in listing order.
pub fn algorithms() -> &'static [Algorithm] {
    static ALL: OnceLock<Vec<Algorithm>> = OnceLock::new();
    ALL.get_or_init(|| {
        super::erk_tableaus()
            .iter()
            .map(|&tableau| Algorithm {
                name: tableau.name(),
                aliases: tableau.aliases(),
                family: StepFamily::Explicit,
                order: tableau.order(),
                error_order: tableau.error_order(),
                adaptive: tableau.is_adaptive(),
                stages: tableau.stages(),
                tableau,
            })
            .collect()
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
