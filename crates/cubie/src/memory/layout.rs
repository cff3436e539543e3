//! The layout algorithm of one component: from its entries (own buffers,
//! then the entries hosting its children) to a placement per entry and the
//! component's three region totals.

use serde::{Deserialize, Serialize};

use super::locations::Region;

/// How an entry relates to an alias parent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Aliasing {
    /// The entry aliases nothing.
    None,
    /// Overlaid on `parent`'s shared slice, `offset` elements into it.
    Overlaid {
        /// The alias parent.
        parent: String,
        /// Elements into the parent's slice.
        offset: usize,
    },
    /// `parent` was not shared or had no room left: placed as if unaliased.
    FellBack {
        /// The alias parent.
        parent: String,
    },
}

impl Aliasing {
    /// The alias parent, if the entry has one.
    pub fn parent(&self) -> Option<&str> {
        match self {
            Aliasing::None => None,
            Aliasing::Overlaid { parent, .. } | Aliasing::FellBack { parent } => Some(parent),
        }
    }

    /// True when the entry has an alias parent but did not overlay it.
    pub fn fell_back(&self) -> bool {
        matches!(self, Aliasing::FellBack { .. })
    }
}

/// Where one entry lies within its component's regions.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Placement {
    /// The region it lies in.
    pub region: Region,
    /// Elements from the start of the component's region (for a local
    /// array: from the start of the component's local arrays of real
    /// elements, or of integer elements for an integer buffer).
    pub offset: usize,
    /// Elements the buffer asked for.
    pub size: usize,
    /// Its relation to an alias parent.
    pub aliasing: Aliasing,
}

impl Placement {
    /// Elements the placement occupies: `size`, except a local array, which
    /// always has at least one element.
    pub fn extent(&self) -> usize {
        match self.region {
            Region::Local => self.size.max(1),
            _ => self.size,
        }
    }
}

/// One entry as the algorithm sees it.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub name: String,
    pub size: usize,
    /// The region it gets when not overlaid.
    pub region: Region,
    /// Index of its alias parent among the entries.
    pub alias: Option<usize>,
    /// Integer elements: a local array counted apart from the real ones.
    pub integer: bool,
}

/// A component's computed layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ComponentLayout {
    /// One per entry, in entry order.
    pub placements: Vec<Placement>,
    /// Entry indices in placement order: a parent always before its aliases,
    /// which is the order generated code must declare them in.
    pub order: Vec<usize>,
    pub shared: usize,
    pub persistent: usize,
    pub local: usize,
    /// Elements of the integer local arrays.
    pub integer: usize,
}

/// Running ends of the three regions, and of the integer local arrays.
#[derive(Default)]
struct Cursor {
    shared: usize,
    persistent: usize,
    local: usize,
    integer: usize,
}

impl Cursor {
    /// Appends an entry of `size` to `region` (to the integer arrays for an
    /// integer entry, which is always local), returning its offset.
    fn take(&mut self, region: Region, size: usize, integer: bool) -> usize {
        let end = match region {
            Region::Local if integer => &mut self.integer,
            Region::Shared => &mut self.shared,
            Region::Persistent => &mut self.persistent,
            Region::Local => &mut self.local,
        };
        let offset = *end;
        *end += match region {
            Region::Local => size.max(1),
            _ => size,
        };
        offset
    }
}

/// Lays out one component's entries (steps 1 to 4 of the design).
pub(crate) fn compute(entries: &[Entry]) -> ComponentLayout {
    let mut cursor = Cursor::default();
    let mut placements: Vec<Option<Placement>> = vec![None; entries.len()];
    let mut order = Vec::with_capacity(entries.len());

    // Steps 1-3: unaliased entries, in registration order, per region.
    for (i, e) in entries.iter().enumerate() {
        if e.alias.is_none() {
            let offset = cursor.take(e.region, e.size, e.integer);
            placements[i] = Some(Placement {
                region: e.region,
                offset,
                size: e.size,
                aliasing: Aliasing::None,
            });
            order.push(i);
        }
    }

    // Step 4: aliases in registration order; a parent that is itself an
    // alias is placed first. `consumed[p]` is how much of p is taken.
    let mut consumed = vec![0usize; entries.len()];
    let mut visiting = vec![false; entries.len()];
    for i in 0..entries.len() {
        place_alias(
            i,
            entries,
            &mut placements,
            &mut consumed,
            &mut visiting,
            &mut cursor,
            &mut order,
        );
    }

    ComponentLayout {
        // Every entry was placed by one of the two passes.
        placements: placements.into_iter().flatten().collect(),
        order,
        shared: cursor.shared,
        persistent: cursor.persistent,
        local: cursor.local,
        integer: cursor.integer,
    }
}

fn place_alias(
    i: usize,
    entries: &[Entry],
    placements: &mut [Option<Placement>],
    consumed: &mut [usize],
    visiting: &mut [bool],
    cursor: &mut Cursor,
    order: &mut Vec<usize>,
) {
    if placements[i].is_some() {
        return;
    }
    let e = &entries[i];
    let Some(p) = e.alias else { return };
    let parent_name = entries[p].name.clone();
    // The registry rejects cycles; should one slip through, break it by
    // falling back rather than recursing forever.
    let parent = if visiting[i] {
        None
    } else {
        visiting[i] = true;
        place_alias(p, entries, placements, consumed, visiting, cursor, order);
        visiting[i] = false;
        placements[p].clone()
    };
    let placement = match parent {
        Some(pp) if pp.region == Region::Shared && consumed[p] + e.size <= pp.size => {
            let offset = consumed[p];
            consumed[p] += e.size;
            Placement {
                region: Region::Shared,
                offset: pp.offset + offset,
                size: e.size,
                aliasing: Aliasing::Overlaid {
                    parent: parent_name,
                    offset,
                },
            }
        }
        _ => Placement {
            region: e.region,
            offset: cursor.take(e.region, e.size, e.integer),
            size: e.size,
            aliasing: Aliasing::FellBack {
                parent: parent_name,
            },
        },
    };
    placements[i] = Some(placement);
    order.push(i);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, size: usize, region: Region, alias: Option<usize>) -> Entry {
        Entry {
            name: name.into(),
            size,
            region,
            alias,
            integer: false,
        }
    }

    #[test]
    fn integer_arrays_are_counted_apart_from_real_ones() {
        let counter = |name: &str, size| Entry {
            integer: true,
            ..entry(name, size, Region::Local, None)
        };
        let l = compute(&[
            entry("a", 2, Region::Local, None),
            counter("flag", 0),
            counter("counts", 3),
            entry("b", 1, Region::Local, None),
        ]);
        let offsets: Vec<_> = l.placements.iter().map(|p| p.offset).collect();
        assert_eq!(offsets, vec![0, 0, 1, 2]);
        assert_eq!((l.local, l.integer), (3, 4));
    }

    #[test]
    fn regions_pack_in_registration_order() {
        let l = compute(&[
            entry("a", 3, Region::Shared, None),
            entry("b", 2, Region::Persistent, None),
            entry("c", 0, Region::Local, None),
            entry("d", 4, Region::Shared, None),
            entry("e", 5, Region::Local, None),
        ]);
        let offsets: Vec<_> = l.placements.iter().map(|p| p.offset).collect();
        assert_eq!(offsets, vec![0, 0, 0, 3, 1]);
        assert_eq!((l.shared, l.persistent, l.local), (7, 2, 6));
    }

    #[test]
    fn aliases_consume_parent_then_fall_back() {
        let l = compute(&[
            entry("p", 4, Region::Shared, None),
            entry("x", 3, Region::Persistent, Some(0)),
            entry("y", 1, Region::Local, Some(0)),
            entry("z", 1, Region::Persistent, Some(0)),
        ]);
        assert_eq!(l.placements[1].offset, 0);
        assert_eq!(l.placements[2].offset, 3);
        assert_eq!(l.placements[2].region, Region::Shared);
        assert!(l.placements[3].aliasing.fell_back());
        assert_eq!(l.placements[3].region, Region::Persistent);
        assert_eq!((l.shared, l.persistent, l.local), (4, 1, 0));
    }

    #[test]
    fn alias_of_a_later_alias_waits_for_its_parent() {
        // "a" aliases "b" (registered later), which aliases "p".
        let l = compute(&[
            entry("p", 4, Region::Shared, None),
            entry("a", 2, Region::Local, Some(2)),
            entry("b", 3, Region::Local, Some(0)),
        ]);
        assert_eq!(l.placements[2].offset, 0);
        assert_eq!(
            l.placements[1].aliasing,
            Aliasing::Overlaid {
                parent: "b".into(),
                offset: 0
            }
        );
        assert_eq!(l.order, vec![0, 2, 1]);
    }
}
