//! The CPU allocator: one lane block's memory ([`RunArena`]: the arena of
//! one run, `W` times over, lanes innermost) and the `Copy` handles
//! ([`CpuAllocator`]) that resolve a buffer to its absolute place in it
//! once, at build time. Integer buffers (flags, counters) live in a block
//! of their own, as `i64` cells whatever their declared width.

use std::cell::Cell;
use std::marker::PhantomData;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::element::ElementType;
use super::error::RegistryError;
use super::lanes::LaneBuf;
use super::locations::Region;
use super::registry::{BufferRegistry, ComponentId};
use crate::precision::Real;

/// Sizes of one run's arena: the root's shared region, then the root's
/// persistent region, then every component's local arrays (depth first,
/// parents before children); the integer local arrays apart, in the same
/// order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct ArenaLayout {
    /// Elements of the root's shared region.
    pub shared: usize,
    /// Elements of the root's persistent region.
    pub persistent: usize,
    /// Elements of all local arrays of the tree.
    pub local: usize,
    /// Elements of all integer local arrays of the tree.
    #[serde(default)]
    pub integer: usize,
}

impl ArenaLayout {
    /// Real elements of the whole arena (the integer block apart).
    pub fn total(&self) -> usize {
        self.shared + self.persistent + self.local
    }

    /// Where the persistent region starts.
    pub fn persistent_start(&self) -> usize {
        self.shared
    }

    /// Where the local arrays start.
    pub fn local_start(&self) -> usize {
        self.shared + self.persistent
    }
}

/// The working memory of one lane block (`lanes()` runs), zeroed: every
/// element of one run's layout holds one cell per lane, lanes innermost
/// (see [`LaneBuf`]). Elements are `Cell`s because views of aliased
/// buffers overlap: shared references to cells are sound where
/// overlapping `&mut` slices would not be.
///
/// Build one per worker and [`reset`](RunArena::reset) it between blocks:
/// one allocation per thread, not per block.
#[derive(Debug, Clone)]
pub struct RunArena<T: Real> {
    cells: Box<[Cell<T>]>,
    integers: Box<[Cell<i64>]>,
    layout: ArenaLayout,
    lanes: usize,
}

impl<T: Real> RunArena<T> {
    /// A zeroed arena of one lane: `layout.total()` real elements and
    /// `layout.integer` integer ones.
    pub fn new(layout: ArenaLayout) -> Self {
        Self::with_lanes(layout, 1)
    }

    /// A zeroed arena of `lanes` lanes (at least one).
    ///
    /// # Panics
    /// If the arena's size overflows `usize` (sizes are checked against
    /// the memory budget long before).
    pub fn with_lanes(layout: ArenaLayout, lanes: usize) -> Self {
        let lanes = lanes.max(1);
        let real = layout.total().checked_mul(lanes).expect("arena size");
        let integer = layout.integer.checked_mul(lanes).expect("arena size");
        RunArena {
            cells: (0..real).map(|_| Cell::new(T::zero())).collect(),
            integers: (0..integer).map(|_| Cell::new(0)).collect(),
            layout,
            lanes,
        }
    }

    /// The sizes of one lane it was built from.
    pub fn layout(&self) -> ArenaLayout {
        self.layout
    }

    /// Lanes of the block.
    pub fn lanes(&self) -> usize {
        self.lanes
    }

    /// Cells in the arena (elements times lanes).
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// True for an arena of no elements.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// Zeroes every element, ready for the next block.
    pub fn reset(&mut self) {
        for c in self.cells.iter_mut() {
            *c.get_mut() = T::zero();
        }
        for c in self.integers.iter_mut() {
            *c.get_mut() = 0;
        }
    }

    /// The integer block, element-major like the real cells.
    pub fn integers(&self) -> &[Cell<i64>] {
        &self.integers
    }

    /// The whole arena, element-major (cell `element * lanes + lane`).
    pub fn cells(&self) -> &[Cell<T>] {
        &self.cells
    }

    /// A copy of the arena's values.
    pub fn to_vec(&self) -> Vec<T> {
        self.cells.iter().map(Cell::get).collect()
    }
}

/// A buffer resolved to its absolute place in a [`RunArena`]: a small
/// `Copy` value that the hot loop uses without looking up any name.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CpuAllocator<T> {
    offset: usize,
    len: usize,
    _element: PhantomData<fn() -> T>,
}

// Manual impls: the handle is `Copy` whatever `T` is.
impl<T> Clone for CpuAllocator<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for CpuAllocator<T> {}

impl<T> CpuAllocator<T> {
    /// Elements from the start of the arena (of its integer block, for an
    /// integer buffer).
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Elements of the buffer (its registered size).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for a zero-size buffer.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The arena range it covers.
    pub fn range(&self) -> Range<usize> {
        self.offset..self.offset + self.len
    }
}

impl<T: Real> CpuAllocator<T> {
    /// The buffer's elements in `arena`, for every lane.
    ///
    /// # Panics
    /// If `arena` is too short: it was built for another tree. Use
    /// [`try_view`](Self::try_view) to check instead.
    #[inline]
    pub fn view<'a>(&self, arena: &'a RunArena<T>) -> LaneBuf<'a, T> {
        let w = arena.lanes;
        LaneBuf::new(
            &arena.cells[self.offset * w..(self.offset + self.len) * w],
            w,
        )
    }

    /// The buffer's elements in `arena`, or `None` if it is too short.
    #[inline]
    pub fn try_view<'a>(&self, arena: &'a RunArena<T>) -> Option<LaneBuf<'a, T>> {
        let w = arena.lanes;
        arena
            .cells
            .get(self.offset * w..(self.offset + self.len) * w)
            .map(|cells| LaneBuf::new(cells, w))
    }

    /// The buffer's elements in a caller-owned one-lane arena slice (for
    /// instance `Cell::from_mut(&mut buf[..]).as_slice_of_cells()`), or
    /// `None` if it is too short.
    #[inline]
    pub fn view_in<'a>(&self, cells: &'a [Cell<T>]) -> Option<&'a [Cell<T>]> {
        cells.get(self.range())
    }
}

impl CpuAllocator<i64> {
    /// An integer buffer's elements in the integer block of `arena`, for
    /// every lane.
    ///
    /// # Panics
    /// If `arena` is too short: it was built for another tree.
    #[inline]
    pub fn integers<'a, T: Real>(&self, arena: &'a RunArena<T>) -> LaneBuf<'a, i64> {
        let w = arena.lanes;
        LaneBuf::new(
            &arena.integers[self.offset * w..(self.offset + self.len) * w],
            w,
        )
    }
}

impl BufferRegistry {
    /// The arena sizes of the tree holding `id`, from its root's totals.
    pub fn arena_layout(&self, id: ComponentId) -> Result<ArenaLayout, RegistryError> {
        let root = self.root(id)?;
        Ok(ArenaLayout {
            shared: self.shared_elements(root)?,
            persistent: self.persistent_elements(root)?,
            local: self.subtree_local_elements(root)?,
            integer: self.subtree_integer_elements(root)?,
        })
    }

    /// Where `id`'s own shared and persistent regions start within its
    /// root's: the sum of the hosting entries' offsets up the tree.
    fn region_origins(&self, id: ComponentId) -> Result<(usize, usize), RegistryError> {
        let (mut shared, mut persistent) = (0, 0);
        let mut cur = id;
        while let Some(parent) = self.parent(cur)? {
            let [s, p] = self.host_entries(cur)?;
            shared += self.placement(parent, &s)?.offset;
            persistent += self.placement(parent, &p)?.offset;
            cur = parent;
        }
        Ok((shared, persistent))
    }

    /// Where `id`'s local arrays (its integer ones when `integer`) start
    /// among the tree's.
    fn local_origin(&self, id: ComponentId, integer: bool) -> Result<usize, RegistryError> {
        let mut origin = 0;
        for c in self.subtree(self.root(id)?)? {
            if c == id {
                break;
            }
            origin += if integer {
                self.integer_elements(c)?
            } else {
                self.local_elements(c)?
            };
        }
        Ok(origin)
    }

    /// The absolute arena range of entry `name` of `owner`: in the real
    /// cells, or in the integer block for an integer buffer.
    pub fn arena_range(
        &self,
        owner: ComponentId,
        name: &str,
    ) -> Result<Range<usize>, RegistryError> {
        let (_, element) = self.entry(owner, name)?;
        let placement = self.placement(owner, name)?;
        let start = if element.is_integer() {
            self.local_origin(owner, true)? + placement.offset
        } else {
            let arena = self.arena_layout(owner)?;
            let (shared, persistent) = self.region_origins(owner)?;
            match placement.region {
                Region::Shared => shared + placement.offset,
                Region::Persistent => arena.persistent_start() + persistent + placement.offset,
                Region::Local => {
                    arena.local_start() + self.local_origin(owner, false)? + placement.offset
                }
            }
        };
        Ok(start..start + placement.size)
    }

    /// Resolves entry `name` of `owner` into a handle on the run arena of
    /// its tree. Call it once, when the component is built.
    pub fn cpu_allocator<T: Real>(
        &self,
        owner: ComponentId,
        name: &str,
    ) -> Result<CpuAllocator<T>, RegistryError> {
        let (_, element) = self.entry(owner, name)?;
        match element.precision() {
            Some(p) if p == T::PRECISION => self.resolve(owner, name),
            Some(buffer) => Err(RegistryError::PrecisionMismatch {
                owner: self.path(owner)?,
                name: name.into(),
                buffer,
                requested: T::PRECISION,
            }),
            None => Err(RegistryError::ElementMismatch {
                owner: self.path(owner)?,
                name: name.into(),
                buffer: element,
                requested: T::PRECISION.into(),
            }),
        }
    }

    /// Resolves integer entry `name` of `owner` into a handle on the
    /// integer block of its tree's run arena.
    pub fn cpu_integer_allocator(
        &self,
        owner: ComponentId,
        name: &str,
    ) -> Result<CpuAllocator<i64>, RegistryError> {
        let (_, element) = self.entry(owner, name)?;
        if !element.is_integer() {
            return Err(RegistryError::ElementMismatch {
                owner: self.path(owner)?,
                name: name.into(),
                buffer: element,
                requested: ElementType::I64,
            });
        }
        self.resolve(owner, name)
    }

    fn resolve<E>(&self, owner: ComponentId, name: &str) -> Result<CpuAllocator<E>, RegistryError> {
        let range = self.arena_range(owner, name)?;
        Ok(CpuAllocator {
            offset: range.start,
            len: range.len(),
            _element: PhantomData,
        })
    }

    /// A fresh zeroed one-lane arena for the tree holding `id`.
    pub fn new_arena<T: Real>(&self, id: ComponentId) -> Result<RunArena<T>, RegistryError> {
        Ok(RunArena::new(self.arena_layout(id)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::BufferSpec;
    use crate::precision::Precision;

    #[test]
    fn arena_places_regions_back_to_back() {
        let mut r = BufferRegistry::new(Precision::F64);
        let k = r.add_component("kernel", None).expect("root");
        let c = r.add_component("child", Some(k)).expect("child");
        r.register(k, BufferSpec::shared("s", 2)).expect("s");
        r.register(k, BufferSpec::local("l", 0)).expect("l");
        r.register(c, BufferSpec::local("p", 3).persistent())
            .expect("p");
        r.register(c, BufferSpec::local("q", 2)).expect("q");
        let layout = r.arena_layout(c).expect("layout");
        assert_eq!(
            layout,
            ArenaLayout {
                shared: 2,
                persistent: 3,
                local: 3,
                integer: 0,
            }
        );
        assert_eq!(r.arena_range(c, "p"), Ok(2..5));
        assert_eq!(r.arena_range(k, "l"), Ok(5..5));
        assert_eq!(r.arena_range(c, "q"), Ok(6..8));
        assert!(matches!(
            r.cpu_allocator::<f32>(c, "q"),
            Err(RegistryError::PrecisionMismatch { .. })
        ));
    }

    #[test]
    fn reset_zeroes_and_short_arenas_are_refused() {
        let mut r = BufferRegistry::new(Precision::F32);
        let k = r.add_component("kernel", None).expect("root");
        r.register(k, BufferSpec::shared("s", 4)).expect("s");
        let h = r.cpu_allocator::<f32>(k, "s").expect("handle");
        let mut arena = r.new_arena::<f32>(k).expect("arena");
        h.view(&arena).set(3, 0, 2.5);
        assert_eq!(arena.to_vec(), vec![0.0, 0.0, 0.0, 2.5]);
        arena.reset();
        assert_eq!(arena.to_vec(), vec![0.0; 4]);
        let short = RunArena::<f32>::new(ArenaLayout::default());
        assert!(h.try_view(&short).is_none());
    }
}
