//! The status word of a run: 0 is success, every other bit a reason the
//! run stopped or a solver struggled.

use serde::Serialize;

/// Bit flags of a run's status word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize)]
pub struct Status(pub i32);

impl Status {
    /// The run reached the end of its interval.
    pub const SUCCESS: Status = Status(0);
    /// A Newton iteration reached its iteration limit (or diverged).
    pub const MAX_NEWTON_ITERATIONS: Status = Status(1);
    /// A linear solve reached its iteration limit.
    pub const MAX_LINEAR_ITERATIONS: Status = Status(1 << 1);
    /// The controller asked for a step below `dt_min`.
    pub const STEP_TOO_SMALL: Status = Status(1 << 2);
    /// The run took `max_steps` steps without reaching the end.
    pub const MAX_STEPS: Status = Status(1 << 3);
    /// The state became NaN or infinite.
    pub const NON_FINITE_STATE: Status = Status(1 << 4);

    /// Every flag with its name, for reports.
    pub const FLAGS: [(Status, &'static str); 5] = [
        (Status::MAX_NEWTON_ITERATIONS, "max_newton_iterations"),
        (Status::MAX_LINEAR_ITERATIONS, "max_linear_iterations"),
        (Status::STEP_TOO_SMALL, "step_too_small"),
        (Status::MAX_STEPS, "max_steps"),
        (Status::NON_FINITE_STATE, "non_finite_state"),
    ];

    /// True when no flag is set.
    pub fn is_success(self) -> bool {
        self.0 == 0
    }

    /// True when `flag` is set.
    pub fn contains(self, flag: Status) -> bool {
        self.0 & flag.0 == flag.0 && flag.0 != 0
    }

    /// Sets `flag`.
    pub fn insert(&mut self, flag: Status) {
        self.0 |= flag.0;
    }

    /// The names of the set flags (`["success"]` for 0).
    pub fn names(self) -> Vec<&'static str> {
        if self.is_success() {
            return vec!["success"];
        }
        Status::FLAGS
            .iter()
            .filter(|(f, _)| self.contains(*f))
            .map(|(_, n)| *n)
            .collect()
    }
}

impl std::ops::BitOr for Status {
    type Output = Status;

    fn bitor(self, rhs: Status) -> Status {
        Status(self.0 | rhs.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_distinct_bits_and_named() {
        let mut s = Status::SUCCESS;
        assert_eq!(s.names(), vec!["success"]);
        s.insert(Status::MAX_STEPS);
        s.insert(Status::NON_FINITE_STATE);
        assert_eq!(s.0, 8 | 16);
        assert!(s.contains(Status::MAX_STEPS));
        assert!(!s.contains(Status::STEP_TOO_SMALL));
        assert_eq!(s.names(), vec!["max_steps", "non_finite_state"]);
    }
}
