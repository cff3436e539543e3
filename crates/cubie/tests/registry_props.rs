//! Property tests of the buffer registry over random trees and random
//! registrations: no unrelated overlap, slices inside their regions,
//! totals equal to the layout's extent, deterministic and cache-safe
//! layouts.

use std::ops::Range;

use cubie::Precision;
use cubie::memory::{BufferRegistry, BufferSpec, ComponentId, Location, Region, RegistryError};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct BufPlan {
    size: usize,
    shared: bool,
    persistent: bool,
    /// Raw pick of an earlier buffer of the same owner.
    alias: Option<usize>,
}

#[derive(Debug, Clone)]
struct Plan {
    /// Raw parent pick for nodes 1..: node i's parent is `raw % i`.
    parents: Vec<usize>,
    buffers: Vec<Vec<BufPlan>>,
    /// (node, buffer, shared?) location settings applied after registering.
    moves: Vec<(usize, usize, bool)>,
    /// (node, buffer, size) applied last.
    resizes: Vec<(usize, usize, usize)>,
}

fn buf_plan() -> impl Strategy<Value = BufPlan> {
    (
        0usize..7,
        any::<bool>(),
        any::<bool>(),
        prop::option::weighted(0.5, any::<usize>()),
    )
        .prop_map(|(size, shared, persistent, alias)| BufPlan {
            size,
            shared,
            persistent,
            alias,
        })
}

fn plan() -> impl Strategy<Value = Plan> {
    (1usize..7).prop_flat_map(|nodes| {
        (
            prop::collection::vec(any::<usize>(), nodes - 1),
            prop::collection::vec(prop::collection::vec(buf_plan(), 0..6), nodes),
            prop::collection::vec((0..nodes, 0usize..6, any::<bool>()), 0..4),
            prop::collection::vec((0..nodes, 0usize..6, 0usize..9), 0..4),
        )
            .prop_map(|(parents, buffers, moves, resizes)| Plan {
                parents,
                buffers,
                moves,
                resizes,
            })
    })
}

fn name(j: usize) -> String {
    format!("b{j}")
}

/// Builds the plan's registry; `warm` queries every layout before the
/// resizes so that stale caches would show.
fn build(plan: &Plan, warm: bool) -> Result<(BufferRegistry, Vec<ComponentId>), RegistryError> {
    let mut reg = BufferRegistry::new(Precision::F64);
    let mut ids = vec![reg.add_component("c0", None)?];
    for (i, raw) in plan.parents.iter().enumerate() {
        let parent = ids[raw % (i + 1)];
        ids.push(reg.add_component(&format!("c{}", i + 1), Some(parent))?);
    }
    for (node, bufs) in plan.buffers.iter().enumerate() {
        for (j, b) in bufs.iter().enumerate() {
            let location = if b.shared {
                Location::Shared
            } else {
                Location::Local
            };
            let mut spec = BufferSpec::new(name(j), b.size, location);
            if b.persistent {
                spec = spec.persistent();
            }
            if let (Some(raw), true) = (b.alias, j > 0) {
                spec = spec.aliasing(name(raw % j));
            }
            reg.register(ids[node], spec)?;
        }
    }
    for &(node, j, shared) in &plan.moves {
        if j < plan.buffers[node].len() {
            let value = if shared { "shared" } else { "local" };
            reg.apply_locations(ids[node], [(format!("{}_location", name(j)), value)])?;
        }
    }
    if warm {
        reg.report()?;
    }
    for &(node, j, size) in &plan.resizes {
        if j < plan.buffers[node].len() {
            reg.set_size(ids[node], &name(j), size)?;
        }
    }
    Ok((reg, ids))
}

/// `a` reaches `b` by following aliases.
fn aliases_into(reg: &BufferRegistry, owner: ComponentId, a: &str, b: &str) -> bool {
    let mut cur = a.to_string();
    for _ in 0..16 {
        match reg.buffer(owner, &cur).ok().and_then(|x| x.aliases.clone()) {
            Some(next) if next == b => return true,
            Some(next) => cur = next,
            None => return false,
        }
    }
    false
}

/// A registry error as a proptest failure.
fn check<T>(r: Result<T, RegistryError>) -> Result<T, TestCaseError> {
    r.map_err(|e| TestCaseError::fail(e.to_string()))
}

fn overlap(a: &Range<usize>, b: &Range<usize>) -> bool {
    !a.is_empty() && !b.is_empty() && a.start < b.end && b.start < a.end
}

proptest! {
    #[test]
    fn registry_layout_invariants_hold(plan in plan()) {
        let (reg, ids) = check(build(&plan, false))?;
        let arena = check(reg.arena_layout(ids[0]))?;

        let mut ranges = Vec::new();
        for &c in &ids {
            let totals = (
                check(reg.shared_elements(c))?,
                check(reg.persistent_elements(c))?,
                check(reg.local_elements(c))?,
            );
            let mut ends = (0, 0, 0);
            for (entry, p) in check(reg.layout(c))? {
                let end = p.offset + p.extent();
                let (total, max) = match p.region {
                    Region::Shared => (totals.0, &mut ends.0),
                    Region::Persistent => (totals.1, &mut ends.1),
                    Region::Local => (totals.2, &mut ends.2),
                };
                prop_assert!(end <= total, "{entry} of {c} ends at {end} > {total}");
                *max = (*max).max(end);
                let range = check(reg.arena_range(c, &entry))?;
                prop_assert!(range.end <= arena.total());
                if check(reg.buffer(c, &entry)).is_ok() {
                    ranges.push((c, entry, range));
                }
            }
            // Totals are exactly the layout's extent.
            prop_assert_eq!(ends, totals);

            // A child's buffers lie inside the parent's host entries.
            if let Some(parent) = check(reg.parent(c))? {
                let me = check(reg.name(c))?.to_string();
                let host_s = check(reg.arena_range(parent, &format!("{me}_shared")))?;
                let host_p = check(reg.arena_range(parent, &format!("{me}_persistent")))?;
                for (entry, p) in check(reg.layout(c))? {
                    let r = check(reg.arena_range(c, &entry))?;
                    let host = match p.region {
                        Region::Shared => &host_s,
                        Region::Persistent => &host_p,
                        Region::Local => continue,
                    };
                    prop_assert!(r.is_empty() || (host.start <= r.start && r.end <= host.end));
                }
            }
        }

        // No two buffers overlap unless one aliases (into) the other.
        for (i, (ca, a, ra)) in ranges.iter().enumerate() {
            for (cb, b, rb) in &ranges[i + 1..] {
                if overlap(ra, rb) {
                    let related = ca == cb
                        && (aliases_into(&reg, *ca, a, b) || aliases_into(&reg, *ca, b, a));
                    prop_assert!(related, "{a} of {ca} {ra:?} overlaps {b} of {cb} {rb:?}");
                }
            }
        }

        // Deterministic, and caches never go stale.
        let again = check(build(&plan, false))?.0;
        let warmed = check(build(&plan, true))?.0;
        let report = check(reg.report())?;
        prop_assert_eq!(&check(again.report())?, &report);
        prop_assert_eq!(&check(warmed.report())?, &report);
    }
}
