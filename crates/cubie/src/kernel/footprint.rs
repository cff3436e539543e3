//! What a batch costs in host memory, and the budget it must fit in.
//!
//! Every count is multiplied in saturating `u128` arithmetic, so a batch
//! too large to count is simply too large, never a wrapped small number,
//! and it is refused before anything is allocated.

use std::fmt;

use thiserror::Error;

/// Bytes a batch of runs needs: a part that grows with the runs and a part
/// shared by all of them (save and sample times).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Footprint {
    /// Bytes of one run's inputs and outputs.
    pub per_run: u128,
    /// Bytes that do not depend on the number of runs.
    pub fixed: u128,
    /// What one run's bytes are made of, largest first, for messages.
    pub parts: Vec<(&'static str, u128)>,
}

impl Footprint {
    /// Starts an empty footprint.
    pub fn new() -> Self {
        Footprint {
            per_run: 0,
            fixed: 0,
            parts: Vec::new(),
        }
    }

    /// Adds `count` values of `bytes` each to every run, under a name.
    pub fn add_per_run(&mut self, name: &'static str, count: u128, bytes: u128) {
        let total = count.saturating_mul(bytes);
        self.per_run = self.per_run.saturating_add(total);
        if total > 0 {
            self.parts.push((name, total));
            self.parts.sort_by_key(|part| std::cmp::Reverse(part.1));
        }
    }

    /// Adds `count` values of `bytes` each once for the whole batch.
    pub fn add_fixed(&mut self, count: u128, bytes: u128) {
        self.fixed = self.fixed.saturating_add(count.saturating_mul(bytes));
    }

    /// Bytes for `runs` runs.
    pub fn total(&self, runs: u128) -> u128 {
        runs.saturating_mul(self.per_run).saturating_add(self.fixed)
    }

    /// Refuses `runs` runs that do not fit in `budget`.
    pub fn check(&self, runs: u128, budget: &MemoryBudget) -> Result<(), MemoryError> {
        let needed = self.total(runs);
        if needed <= u128::from(budget.bytes) {
            return Ok(());
        }
        let largest = self
            .parts
            .iter()
            .take(3)
            .map(|(name, bytes)| format!("{} {name}", Bytes(*bytes)))
            .collect::<Vec<_>>()
            .join(", ");
        Err(MemoryError::TooLarge {
            needed,
            runs,
            per_run: self.per_run,
            largest,
            budget: budget.clone(),
        })
    }
}

impl Default for Footprint {
    fn default() -> Self {
        Self::new()
    }
}

/// A batch that cannot be held in memory.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MemoryError {
    /// The batch's inputs and outputs exceed the budget.
    #[error(
        "the batch needs {} of memory ({runs} run{} x {} per run: {largest}), but {budget}; \
         solve fewer runs at a time or save less (a coarser --save-every, fewer --save-variables)",
        Bytes(*.needed), if *.runs == 1 { "" } else { "s" }, Bytes(*.per_run)
    )]
    TooLarge {
        /// Bytes needed.
        needed: u128,
        /// Runs in the batch.
        runs: u128,
        /// Bytes per run.
        per_run: u128,
        /// The largest parts of a run's bytes.
        largest: String,
        /// What was available.
        budget: MemoryBudget,
    },
    /// One run's working memory (the registry's arena) exceeds the budget.
    #[error(
        "one run's working memory needs {} ({}), but {budget}{}",
        Bytes(*.needed),
        .largest,
        if let Some(n) = .dense_jacobian {
            format!(
                "; the dense Jacobian ({n} x {n}) of linear_solver=lu is the \
                 cause: choose linear_solver=bicgstab (or minimal_residual), which \
                 uses Jacobian-vector products only"
            )
        } else {
            String::new()
        }
    )]
    WorkingMemory {
        /// Bytes needed by one run's arena.
        needed: u128,
        /// The largest buffers, for the message.
        largest: String,
        /// The states of the dense Jacobian, when the step holds one.
        dense_jacobian: Option<usize>,
        /// What was available.
        budget: MemoryBudget,
    },
}

/// How much host memory a batch may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryBudget {
    /// Bytes.
    pub bytes: u64,
    /// Where the number comes from.
    pub origin: BudgetOrigin,
}

/// Where a [`MemoryBudget`] comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetOrigin {
    /// The memory the machine (or its container) has available now.
    Available,
    /// A limit the user set.
    Limit,
    /// The machine's memory could not be read: no limit is known.
    Unknown,
}

impl MemoryBudget {
    /// A budget set by the user.
    pub fn limit(bytes: u64) -> Self {
        MemoryBudget {
            bytes,
            origin: BudgetOrigin::Limit,
        }
    }

    /// The memory available to this process now: the smaller of the
    /// machine's available memory and its control group's headroom.
    pub fn available() -> Self {
        match available_memory() {
            Some(bytes) => MemoryBudget {
                bytes,
                origin: BudgetOrigin::Available,
            },
            None => MemoryBudget {
                bytes: u64::MAX,
                origin: BudgetOrigin::Unknown,
            },
        }
    }
}

impl fmt::Display for MemoryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = Bytes(u128::from(self.bytes));
        match self.origin {
            BudgetOrigin::Available => write!(f, "this machine has {bytes} available"),
            BudgetOrigin::Limit => write!(f, "the memory limit is {bytes}"),
            BudgetOrigin::Unknown => write!(f, "no more than {bytes} can be addressed"),
        }
    }
}

/// A byte count in binary units (`1.5 GiB`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bytes(pub u128);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 7] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB"];
        if self.0 < 1024 {
            return write!(f, "{} B", self.0);
        }
        let mut value = self.0 as f64 / 1024.0;
        let mut unit = 0;
        while value >= 1024.0 && unit + 1 < UNITS.len() {
            value /= 1024.0;
            unit += 1;
        }
        if value >= 1024.0 {
            write!(f, "{value:.3e} {}", UNITS[unit])
        } else {
            write!(f, "{value:.1} {}", UNITS[unit])
        }
    }
}

/// Parses a byte count: a whole number with an optional binary suffix,
/// `K`, `M`, `G`, `T` (or `KiB`, `MiB`, ...; `B` alone means bytes).
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let digits_end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, suffix) = t.split_at(digits_end);
    if number.is_empty() {
        return Err(format!("`{text}` is not a size; write e.g. 512M or 8G"));
    }
    let shift = match suffix.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kib" | "kb" => 10,
        "m" | "mib" | "mb" => 20,
        "g" | "gib" | "gb" => 30,
        "t" | "tib" | "tb" => 40,
        other => {
            return Err(format!(
                "`{text}`: unknown unit `{other}`; use a number of bytes with K, M, G or T"
            ));
        }
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size; write e.g. 512M or 8G"))?;
    let bytes = value * (1u64 << shift) as f64;
    if !(bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(format!("`{text}` is not a usable memory size"));
    }
    Ok(bytes as u64)
}

/// The memory this process may still take, where the system says.
fn available_memory() -> Option<u64> {
    let machine = meminfo_available();
    let group = cgroup_headroom();
    match (machine, group) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// `MemAvailable` of `/proc/meminfo`, in bytes.
fn meminfo_available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// A cgroup v2 memory limit less the group's current use, in bytes.
fn cgroup_headroom() -> Option<u64> {
    let read = |name: &str| std::fs::read_to_string(format!("/sys/fs/cgroup/{name}")).ok();
    let max: u64 = read("memory.max")?.trim().parse().ok()?; // "max" means none
    let current: u64 = read("memory.current")?.trim().parse().ok()?;
    Some(max.saturating_sub(current))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_read_in_binary_units() {
        assert_eq!(Bytes(512).to_string(), "512 B");
        assert_eq!(Bytes(1536).to_string(), "1.5 KiB");
        assert_eq!(Bytes(24 << 30).to_string(), "24.0 GiB");
        assert_eq!(parse_bytes("8G"), Ok(8 << 30));
        assert_eq!(parse_bytes("512MiB"), Ok(512 << 20));
        assert_eq!(parse_bytes("1.5k"), Ok(1536));
        assert!(parse_bytes("12 parsecs").is_err());
        assert!(parse_bytes("0").is_err());
    }

    #[test]
    fn totals_saturate_instead_of_wrapping() {
        let mut f = Footprint::new();
        f.add_per_run("saved states", u128::MAX / 2, 8);
        assert_eq!(f.per_run, u128::MAX);
        assert_eq!(f.total(3), u128::MAX);
        let err = f.check(3, &MemoryBudget::limit(1 << 30)).unwrap_err();
        assert!(
            err.to_string().contains("the memory limit is 1.0 GiB"),
            "{err}"
        );
    }

    #[test]
    fn a_batch_over_budget_names_its_largest_parts() {
        let mut f = Footprint::new();
        f.add_per_run("final state", 3, 8);
        f.add_per_run("saved states", 1001 * 3, 8);
        f.add_fixed(1001, 8);
        assert_eq!(f.total(10), 10 * (24 + 24_024) + 8008);
        assert!(f.check(10, &MemoryBudget::limit(1 << 20)).is_ok());
        let err = f.check(1000, &MemoryBudget::limit(1 << 20)).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("1000 runs x 23.5 KiB per run"), "{text}");
        assert!(
            text.contains("23.5 KiB saved states, 24 B final state"),
            "{text}"
        );
    }
}
