//! Every algorithm cubie knows: the typed [`Algorithm`] a Rust user names,
//! and its [`AlgorithmEntry`] (names, family, orders, tableau and default
//! controller), the one place each of these facts is kept.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use serde::Serialize;

use crate::controllers::{
    ControlledStep, ControllerDefaults, ControllerError, ControllerKind, ControllerSettings,
};

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

impl ImplicitMethod {
    /// The method's coefficients: backward Euler's one stage (both
    /// variants), or the trapezoidal ESDIRK for Crank–Nicolson.
    pub fn tableau(self) -> RkTableau {
        match self {
            ImplicitMethod::BackwardsEuler | ImplicitMethod::BackwardsEulerPc => {
                dirk::backwards_euler()
            }
            ImplicitMethod::CrankNicolson => dirk::crank_nicolson(),
        }
    }
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

/// Declares [`Algorithm`] with each variant's canonical name, once.
macro_rules! algorithm_enum {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// An algorithm, typed: `Algorithm::Tsit5`, or parsed from a name or
        /// alias (case-insensitive) with [`str::parse`], whose error lists
        /// the valid names. [`Algorithm::entry`] holds its facts.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Algorithm {
            $($(#[$doc])* $variant,)*
        }

        impl Algorithm {
            /// Every algorithm, in listing order.
            pub const ALL: &'static [Algorithm] = &[$(Algorithm::$variant,)*];

            /// The canonical name.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Algorithm::$variant => $name,)*
                }
            }
        }
    };
}

algorithm_enum! {
    /// Explicit Euler.
    Euler => "euler",
    /// Heun's method with an Euler error estimate.
    Heun21 => "heun-21",
    /// Ralston's third-order method.
    Ralston33 => "ralston-33",
    /// Bogacki–Shampine 3(2) (`rk23`, `ode23`).
    BogackiShampine32 => "bogacki-shampine-32",
    /// Dormand–Prince 5(4) (`dopri54`, `rk45`, `ode45`).
    DormandPrince54 => "dormand-prince-54",
    /// The classical fourth-order Runge–Kutta method (`rk4`).
    ClassicalRk4 => "classical-rk4",
    /// Cash–Karp 5(4).
    CashKarp54 => "cash-karp-54",
    /// Fehlberg 4(5).
    Fehlberg45 => "fehlberg-45",
    /// Dormand–Prince 8(5,3) (`dop853`).
    DormandPrince853 => "dormand-prince-853",
    /// Tsitouras 5(4).
    Tsit5 => "tsit5",
    /// Verner's 7(6).
    Vern7 => "vern7",
    /// Backward Euler.
    BackwardsEuler => "backwards_euler",
    /// Backward Euler with an explicit Euler predictor.
    BackwardsEulerPc => "backwards_euler_pc",
    /// Crank–Nicolson, its error estimated against backward Euler.
    CrankNicolson => "crank_nicolson",
    /// The implicit midpoint rule.
    ImplicitMidpoint => "implicit_midpoint",
    /// The trapezoidal rule as an ESDIRK (`ode23t`).
    TrapezoidalDirk => "trapezoidal_dirk",
    /// Alexander's two-stage L-stable SDIRK.
    Sdirk22 => "sdirk_2_2",
    /// Alexander's three-stage L-stable SDIRK.
    LStableDirk3 => "l_stable_dirk_3",
    /// Hairer–Wanner's five-stage L-stable SDIRK 4(3).
    LStableSdirk4 => "l_stable_sdirk_4",
    /// Kværnø's ESDIRK 3(2).
    Kvaerno3 => "kvaerno3",
    /// Kværnø's ESDIRK 5(4).
    Kvaerno5 => "kvaerno5",
    /// Two-stage Gauss–Legendre.
    FirkGaussLegendre2 => "firk_gauss_legendre_2",
    /// Three-stage Gauss–Legendre.
    FirkGaussLegendre3 => "firk_gauss_legendre_3",
    /// Radau IIA of order 5 (`radau`).
    RadauIia5 => "radau_iia_5",
    /// Rosenbrock ROS3P.
    Ros3p => "ros3p",
    /// Rosenbrock RODAS3P.
    Rodas3p => "rodas3p",
    /// Rosenbrock 2(3) (`ode23s`, `rosenbrock23_sciml`).
    Rosenbrock23 => "rosenbrock23",
}

impl Algorithm {
    /// The algorithm's catalogue entry.
    pub fn entry(self) -> &'static AlgorithmEntry {
        // The catalogue is built in `ALL`'s order (checked by a test).
        &algorithms()[self as usize]
    }

    /// OrdinaryDiffEq's default controller constants for the algorithm,
    /// where OrdinaryDiffEq defines them (printed in Float32 in the Julia
    /// Lorenz reference's `controller_constants.csv`; here the exact
    /// rationals: `beta1 = 7/(10p)`, `beta2 = 2/(5p)` for order `p` unless
    /// overridden, DP5 `beta2 = 1/25, beta1 = 1/5 - 3/4·beta2`, DP8
    /// `beta1 = 1/8, beta2 = 0, qmin = 1/3, qmax = 6`). `None`: the general
    /// rule of [`ControllerSettings::fallback`]. Error orders are
    /// OrdinaryDiffEq's `alg_adaptive_order` where it specialises it
    /// (RadauIIA5: 3) or cubie's tableau.
    pub fn controller_defaults(self) -> Option<ControllerDefaults> {
        use Algorithm::*;
        let erk = ControllerDefaults::pi;
        let implicit = |beta1, beta2, order, error_order| {
            ControllerDefaults::pi(beta1, beta2, order, error_order).with_implicit_deadband()
        };
        Some(match self {
            Euler | Ralston33 | BackwardsEulerPc | ImplicitMidpoint | LStableDirk3
            | FirkGaussLegendre2 | FirkGaussLegendre3 => return None,
            Heun21 => erk(7.0 / 20.0, 2.0 / 10.0, 2, 1),
            BogackiShampine32 => erk(7.0 / 30.0, 2.0 / 15.0, 3, 2),
            // OrdinaryDiffEq's RK4 has a bespoke estimate cubie's lacks.
            ClassicalRk4 => ControllerDefaults {
                has_error_estimate: false,
                ..erk(7.0 / 40.0, 2.0 / 20.0, 4, 3)
            },
            DormandPrince54 => erk(17.0 / 100.0, 1.0 / 25.0, 5, 4),
            CashKarp54 | Fehlberg45 | Tsit5 => erk(7.0 / 50.0, 2.0 / 25.0, 5, 4),
            // Hairer's combined estimator behaves like order 7.
            DormandPrince853 => ControllerDefaults {
                qmin: 1.0 / 3.0,
                qmax: 6.0,
                ..erk(1.0 / 8.0, 0.0, 8, 7)
            },
            Vern7 => erk(7.0 / 70.0, 2.0 / 35.0, 7, 6),
            BackwardsEuler => implicit(7.0 / 10.0, 2.0 / 5.0, 1, 1),
            CrankNicolson | TrapezoidalDirk | Sdirk22 | Rosenbrock23 => {
                implicit(7.0 / 20.0, 2.0 / 10.0, 2, 1)
            }
            LStableSdirk4 => implicit(7.0 / 40.0, 2.0 / 20.0, 4, 3),
            RadauIia5 => ControllerDefaults {
                kind: ControllerKind::Gustafsson,
                qmax: 8.0,
                ..implicit(0.0, 0.0, 5, 3)
            },
            Ros3p | Rodas3p | Kvaerno3 => implicit(7.0 / 30.0, 2.0 / 15.0, 3, 2),
            Kvaerno5 => implicit(7.0 / 50.0, 2.0 / 25.0, 5, 4),
        })
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Algorithm {
    type Err = StepError;

    /// By canonical name or alias, case-insensitive.
    fn from_str(name: &str) -> Result<Self, StepError> {
        find_algorithm(name).map(|entry| entry.algorithm)
    }
}

impl Serialize for Algorithm {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// One algorithm's facts: its names, family, orders, tableau and default
/// controller.
#[derive(Debug, Clone, Serialize)]
pub struct AlgorithmEntry {
    /// The typed algorithm.
    #[serde(skip)]
    pub algorithm: Algorithm,
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
    /// OrdinaryDiffEq's default controller constants, if it defines them.
    #[serde(skip)]
    pub controller: Option<ControllerDefaults>,
}

impl AlgorithmEntry {
    /// The controller settings OrdinaryDiffEq would use for the algorithm:
    /// its own constants, or the general rule.
    pub fn default_controller(&self) -> ControllerSettings {
        match &self.controller {
            Some(defaults) => ControllerSettings::from_defaults(defaults),
            None => ControllerSettings::fallback(
                self.order,
                self.error_order,
                self.family.is_implicit(),
            ),
        }
    }

    /// What the controller needs to know of this algorithm's step.
    pub fn controlled_step(&self) -> ControlledStep {
        ControlledStep {
            name: self.name,
            defaults: self.default_controller(),
            adaptive: self.adaptive,
            // Gustafsson's factor reads Newton's iteration count.
            newton: self.family.is_implicit() && self.family != StepFamily::Rosenbrock,
        }
    }
}

/// An entry of `family` from the Runge–Kutta tableau `t`.
fn from_rk(family: StepFamily, t: &'static RkTableau, method: Method) -> AlgorithmEntry {
    entry(
        t.name,
        t.aliases,
        family,
        (t.order, t.error_order, t.b_hat.is_some()),
        t.stages(),
        method,
    )
}

fn entry(
    name: &'static str,
    aliases: &'static [&'static str],
    family: StepFamily,
    (order, error_order, adaptive): (u32, Option<u32>, bool),
    stages: usize,
    method: Method,
) -> AlgorithmEntry {
    let algorithm = Algorithm::ALL
        .iter()
        .copied()
        .find(|a| a.name() == name)
        .unwrap_or_else(|| panic!("the catalogue's `{name}` has no `Algorithm` variant"));
    AlgorithmEntry {
        algorithm,
        name,
        aliases,
        family,
        order,
        error_order,
        adaptive,
        stages,
        method,
        controller: algorithm.controller_defaults(),
    }
}

/// Every algorithm, in listing order ([`Algorithm::ALL`]'s).
pub fn algorithms() -> &'static [AlgorithmEntry] {
    static ALL: OnceLock<Vec<AlgorithmEntry>> = OnceLock::new();
    static DIRK: OnceLock<Vec<RkTableau>> = OnceLock::new();
    static FIRK: OnceLock<Vec<RkTableau>> = OnceLock::new();
    static ROS: OnceLock<Vec<RosenbrockTableau>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut all: Vec<AlgorithmEntry> = super::erk_tableaus()
            .iter()
            .map(|&tableau| {
                entry(
                    tableau.name(),
                    tableau.aliases(),
                    StepFamily::Explicit,
                    (
                        tableau.order(),
                        tableau.error_order(),
                        tableau.is_adaptive(),
                    ),
                    tableau.stages(),
                    Method::Erk(tableau),
                )
            })
            .collect();
        for (name, order, stages, m) in [
            ("backwards_euler", 1, 1, ImplicitMethod::BackwardsEuler),
            ("backwards_euler_pc", 1, 1, ImplicitMethod::BackwardsEulerPc),
            ("crank_nicolson", 2, 2, ImplicitMethod::CrankNicolson),
        ] {
            // Backward Euler's error from its change of slope; CN's
            // against backward Euler: both first order.
            all.push(entry(
                name,
                &[],
                StepFamily::Implicit,
                (order, Some(1), true),
                stages,
                Method::Implicit(m),
            ));
        }
        for t in DIRK.get_or_init(dirk::all) {
            all.push(from_rk(StepFamily::Dirk, t, Method::Dirk(t)));
        }
        for t in FIRK.get_or_init(firk::all) {
            all.push(from_rk(StepFamily::Firk, t, Method::Firk(t)));
        }
        for t in ROS.get_or_init(rosenbrock::all) {
            all.push(entry(
                t.name,
                t.aliases,
                StepFamily::Rosenbrock,
                (t.order, t.error_order, t.b_hat.is_some()),
                t.stages(),
                Method::Rosenbrock(t),
            ));
        }
        all.sort_by_key(|e| e.algorithm);
        all
    })
}

/// Looks an algorithm up by name or alias (case-insensitive).
pub fn find_algorithm(name: &str) -> Result<&'static AlgorithmEntry, StepError> {
    let wanted = name.trim().to_ascii_lowercase();
    algorithms()
        .iter()
        .find(|a| a.name == wanted || a.aliases.contains(&wanted.as_str()))
        .ok_or_else(|| StepError::UnknownAlgorithm {
            name: name.to_string(),
            valid: valid_names(),
        })
}

fn valid_names() -> String {
    Algorithm::ALL
        .iter()
        .map(|a| a.name())
        .collect::<Vec<_>>()
        .join(", ")
}

impl ControllerSettings {
    /// The settings OrdinaryDiffEq would use for `algorithm` (any name or
    /// alias): its default controller and constants
    /// ([`AlgorithmEntry::default_controller`]).
    pub fn for_algorithm(algorithm: &str) -> Result<Self, ControllerError> {
        find_algorithm(algorithm)
            .map(AlgorithmEntry::default_controller)
            .map_err(|_| ControllerError::UnknownAlgorithm {
                name: algorithm.to_string(),
                valid: valid_names(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_its_entry_in_order() {
        assert_eq!(algorithms().len(), Algorithm::ALL.len());
        for (i, &a) in Algorithm::ALL.iter().enumerate() {
            assert_eq!(a as usize, i);
            assert_eq!(a.entry().algorithm, a);
            assert_eq!(a.entry().name, a.name());
            assert_eq!(a.name().parse::<Algorithm>().unwrap(), a);
        }
    }

    #[test]
    fn names_parse_case_insensitively_with_aliases() {
        assert_eq!(
            "RK45".parse::<Algorithm>().unwrap(),
            Algorithm::DormandPrince54
        );
        assert_eq!(
            " radau ".parse::<Algorithm>().unwrap(),
            Algorithm::RadauIia5
        );
        let err = "nonesuch".parse::<Algorithm>().unwrap_err().to_string();
        assert!(
            err.contains("nonesuch") && err.contains("kvaerno5"),
            "{err}"
        );
    }

    #[test]
    fn implicit_methods_share_the_dirk_tableaus() {
        let be = ImplicitMethod::BackwardsEuler.tableau();
        assert_eq!((be.a, be.b, be.c), (vec![vec![1.0]], vec![1.0], vec![1.0]));
        let cn = ImplicitMethod::CrankNicolson.tableau();
        let trapezoid = dirk::tableau("trapezoidal_dirk").unwrap();
        assert_eq!(
            (&cn.a, &cn.b, &cn.c),
            (&trapezoid.a, &trapezoid.b, &trapezoid.c)
        );
    }
}
