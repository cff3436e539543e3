//! Lane blocks: the CPU integrates `W` runs at once in lock-step, as the
//! threads of a warp. A block's arena holds every buffer element-major,
//! lanes innermost: element `i` of lane `l` of a buffer is cell
//! `i * W + l` of the buffer's block slice, so a loop over lanes reads
//! contiguous memory (structure of arrays across runs).
//!
//! - [`LaneBuf`]: a buffer's elements for every lane of the block;
//! - [`LaneView`]: one lane's elements of a buffer (strided), which
//!   indexes like a slice of cells, for per-lane scalar code;
//! - [`LaneMask`]: a set of lanes (active, converged, finished, ...);
//! - [`PerLane`]: one scalar per lane.

use std::cell::Cell;
use std::ops::{BitAnd, BitOr, Index, Range};

/// The most lanes a block has: two 512-bit vectors of `f32`, four of
/// `f64` (the C compiler's lane code runs such blocks fastest).
pub const MAX_LANES: usize = 32;

/// The lane widths a block may have.
pub const LANE_WIDTHS: [usize; 6] = [1, 2, 4, 8, 16, 32];

/// One scalar per lane (only the block's first `W` are used).
pub type PerLane<T> = [T; MAX_LANES];

/// A set of lanes of a block: bit `l` stands for lane `l`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct LaneMask(u32);

impl LaneMask {
    /// No lane.
    pub const NONE: LaneMask = LaneMask(0);

    /// Lanes `0..w`.
    #[inline]
    pub fn all(w: usize) -> Self {
        debug_assert!(w <= MAX_LANES);
        LaneMask(((1u64 << w) - 1) as u32)
    }

    /// Lane `l` alone.
    #[inline]
    pub fn lane(l: usize) -> Self {
        LaneMask(1 << l)
    }

    /// The lanes of `0..w` for which `f` holds.
    #[inline]
    pub fn from_fn(w: usize, mut f: impl FnMut(usize) -> bool) -> Self {
        let mut m = LaneMask::NONE;
        for l in 0..w {
            if f(l) {
                m.insert(l);
            }
        }
        m
    }

    /// Whether lane `l` is in the set.
    #[inline]
    pub fn contains(self, l: usize) -> bool {
        self.0 >> l & 1 == 1
    }

    /// Adds lane `l`.
    #[inline]
    pub fn insert(&mut self, l: usize) {
        self.0 |= 1 << l;
    }

    /// Removes lane `l`.
    #[inline]
    pub fn remove(&mut self, l: usize) {
        self.0 &= !(1 << l);
    }

    /// Adds lane `l` when `on`, removes it otherwise.
    #[inline]
    pub fn set(&mut self, l: usize, on: bool) {
        if on {
            self.insert(l);
        } else {
            self.remove(l);
        }
    }

    /// The lanes of `self` not in `other`.
    #[inline]
    pub fn without(self, other: LaneMask) -> Self {
        LaneMask(self.0 & !other.0)
    }

    /// True for the empty set.
    #[inline]
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// True when some lane is in the set.
    #[inline]
    pub fn any(self) -> bool {
        self.0 != 0
    }

    /// Number of lanes in the set.
    #[inline]
    pub fn count(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The lanes in the set, in increasing order.
    #[inline]
    pub fn lanes(self) -> impl Iterator<Item = usize> {
        let mut bits = self.0;
        std::iter::from_fn(move || {
            if bits == 0 {
                return None;
            }
            let l = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            Some(l)
        })
    }

    /// The raw bits.
    #[inline]
    pub fn bits(self) -> u32 {
        self.0
    }
}

impl BitAnd for LaneMask {
    type Output = LaneMask;
    #[inline]
    fn bitand(self, rhs: LaneMask) -> LaneMask {
        LaneMask(self.0 & rhs.0)
    }
}

impl BitOr for LaneMask {
    type Output = LaneMask;
    #[inline]
    fn bitor(self, rhs: LaneMask) -> LaneMask {
        LaneMask(self.0 | rhs.0)
    }
}

/// True when `cells` is a whole number of `w` lanes; a mask rather than a
/// division for the power-of-two widths blocks have.
#[inline]
fn whole_lanes(cells: usize, w: usize) -> bool {
    if w.is_power_of_two() {
        cells & (w - 1) == 0
    } else {
        cells.is_multiple_of(w)
    }
}

/// A buffer's elements for every lane of a block: `len()` elements of
/// `width()` lanes each, element-major (cell `i * W + l`).
pub struct LaneBuf<'a, T> {
    cells: &'a [Cell<T>],
    w: usize,
}

// Manual impls: the views are `Copy` whatever `T` is.
impl<T> Clone for LaneBuf<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for LaneBuf<'_, T> {}

impl<T> Clone for LaneView<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for LaneView<'_, T> {}

impl<T> std::fmt::Debug for LaneBuf<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LaneBuf")
            .field("len", &(self.cells.len() / self.w))
            .field("lanes", &self.w)
            .finish()
    }
}

impl<T> std::fmt::Debug for LaneView<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LaneView")
            .field("len", &self.len)
            .field("stride", &self.w)
            .finish()
    }
}

impl<'a, T: Copy> LaneBuf<'a, T> {
    /// The buffer held in `cells`, `w` lanes per element.
    ///
    /// # Panics
    /// If `w` is zero or does not divide `cells.len()`.
    #[inline]
    pub fn new(cells: &'a [Cell<T>], w: usize) -> Self {
        assert!(
            w > 0 && whole_lanes(cells.len(), w),
            "a whole number of lanes"
        );
        LaneBuf { cells, w }
    }

    /// A one-lane buffer over plain cells: the scalar case.
    #[inline]
    pub fn scalar(cells: &'a [Cell<T>]) -> Self {
        LaneBuf { cells, w: 1 }
    }

    /// A buffer of no elements.
    #[inline]
    pub fn empty(w: usize) -> Self {
        LaneBuf { cells: &[], w }
    }

    /// Elements per lane.
    #[inline]
    pub fn len(&self) -> usize {
        // Widths are powers of two: a shift, not a division, per call.
        if self.w.is_power_of_two() {
            self.cells.len() >> self.w.trailing_zeros()
        } else {
            self.cells.len() / self.w
        }
    }

    /// True for a buffer of no elements.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// Lanes per element.
    #[inline]
    pub fn width(&self) -> usize {
        self.w
    }

    /// Element `i` of lane `l`.
    #[inline]
    pub fn get(&self, i: usize, l: usize) -> T {
        self.cells[i * self.w + l].get()
    }

    /// Sets element `i` of lane `l`.
    #[inline]
    pub fn set(&self, i: usize, l: usize, v: T) {
        self.cells[i * self.w + l].set(v)
    }

    /// The cell of element `i` of lane `l`.
    #[inline]
    pub fn cell(&self, i: usize, l: usize) -> &'a Cell<T> {
        &self.cells[i * self.w + l]
    }

    /// Every lane of element `i`.
    #[inline]
    pub fn element(&self, i: usize) -> &'a [Cell<T>] {
        &self.cells[i * self.w..(i + 1) * self.w]
    }

    /// Elements `range` (of every lane).
    #[inline]
    pub fn slice(&self, range: Range<usize>) -> LaneBuf<'a, T> {
        LaneBuf {
            cells: &self.cells[range.start * self.w..range.end * self.w],
            w: self.w,
        }
    }

    /// The first `n` elements.
    #[inline]
    pub fn first(&self, n: usize) -> LaneBuf<'a, T> {
        self.slice(0..n)
    }

    /// Lane `l`'s elements.
    #[inline]
    pub fn lane(&self, l: usize) -> LaneView<'a, T> {
        debug_assert!(l < self.w);
        LaneView {
            cells: &self.cells[l.min(self.cells.len())..],
            w: self.w,
            len: self.len(),
        }
    }

    /// The cells, element-major.
    #[inline]
    pub fn cells(&self) -> &'a [Cell<T>] {
        self.cells
    }

    /// Copies `from` into the lanes of `mask` (as many elements as the
    /// shorter of the two has).
    #[inline]
    pub fn copy_from(&self, from: LaneBuf<'_, T>, mask: LaneMask) {
        if mask.is_empty() {
            return;
        }
        if mask == LaneMask::all(self.w) {
            for (to, from) in self.cells.iter().zip(from.cells) {
                to.set(from.get());
            }
            return;
        }
        for i in 0..self.len().min(from.len()) {
            let (to, from) = (self.element(i), from.element(i));
            for l in mask.lanes() {
                to[l].set(from[l].get());
            }
        }
    }
}

impl<T: crate::precision::Real> LaneBuf<'_, T> {
    /// The lanes of `mask` whose every element is finite.
    #[inline]
    pub fn finite_lanes(&self, mask: LaneMask) -> LaneMask {
        // A fixed width lets the loop run in vector registers.
        let finite = match self.w {
            1 => self.finite::<1>(),
            2 => self.finite::<2>(),
            4 => self.finite::<4>(),
            8 => self.finite::<8>(),
            16 => self.finite::<16>(),
            32 => self.finite::<32>(),
            w => LaneMask::from_fn(w, |l| self.lane(l).iter().all(|c| c.get().is_finite())),
        };
        finite & mask
    }

    /// [`finite_lanes`](Self::finite_lanes) of every lane of a block of
    /// `W` lanes: `x - x` is zero for a finite `x` and NaN otherwise, so
    /// a lane's sum of them is zero exactly when all its elements are
    /// finite.
    // `x - x` is the point: it is NaN exactly when `x` is not finite.
    #[allow(clippy::eq_op)]
    fn finite<const W: usize>(&self) -> LaneMask {
        let mut sum = [T::zero(); W];
        for element in self.cells.chunks_exact(W) {
            for (s, c) in sum.iter_mut().zip(element) {
                let x = c.get();
                *s = *s + (x - x);
            }
        }
        LaneMask::from_fn(W, |l| sum[l] == T::zero())
    }
}

/// One lane's elements of a [`LaneBuf`]: strided cells that index like a
/// slice (`view[i].get()`), so per-lane scalar code reads the same for
/// one lane of a block as for a plain slice of cells.
pub struct LaneView<'a, T> {
    /// Starts at element 0 of the lane.
    cells: &'a [Cell<T>],
    w: usize,
    len: usize,
}

impl<'a, T: Copy> LaneView<'a, T> {
    /// Plain cells as a view (one lane).
    #[inline]
    pub fn contiguous(cells: &'a [Cell<T>]) -> Self {
        LaneView {
            cells,
            w: 1,
            len: cells.len(),
        }
    }

    /// Elements.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for a view of no elements.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Element `i`'s value.
    #[inline]
    pub fn get(&self, i: usize) -> T {
        self[i].get()
    }

    /// Sets element `i`.
    #[inline]
    pub fn set(&self, i: usize, v: T) {
        self[i].set(v)
    }

    /// Elements `range`.
    #[inline]
    pub fn slice(&self, range: Range<usize>) -> LaneView<'a, T> {
        assert!(range.start <= range.end && range.end <= self.len);
        LaneView {
            cells: &self.cells[(range.start * self.w).min(self.cells.len())..],
            w: self.w,
            len: range.end - range.start,
        }
    }

    /// The cells in order.
    #[inline]
    pub fn iter(&self) -> impl Iterator<Item = &'a Cell<T>> + 'a {
        let (cells, w) = (self.cells, self.w);
        (0..self.len).map(move |i| &cells[i * w])
    }

    /// Consecutive views of `size` elements (the last ones dropped when
    /// `size` does not divide the length), as `chunks_exact` does.
    #[inline]
    pub fn chunks(&self, size: usize) -> impl Iterator<Item = LaneView<'a, T>> + 'a {
        let this = *self;
        (0..self.len / size).map(move |k| this.slice(k * size..(k + 1) * size))
    }

    /// Copies the values out into `out` (as long as the view).
    #[inline]
    pub fn read_into(&self, out: &mut [T]) {
        for (o, c) in out.iter_mut().zip(self.iter()) {
            *o = c.get();
        }
    }

    /// Sets the elements from `values`.
    #[inline]
    pub fn write_from(&self, values: &[T]) {
        for (c, &v) in self.iter().zip(values) {
            c.set(v);
        }
    }
}

impl<T> Index<usize> for LaneView<'_, T> {
    type Output = Cell<T>;
    #[inline]
    fn index(&self, i: usize) -> &Cell<T> {
        assert!(i < self.len, "index {i} out of a lane of {}", self.len);
        &self.cells[i * self.w]
    }
}

impl<'a, T: Copy> From<&'a [Cell<T>]> for LaneView<'a, T> {
    fn from(cells: &'a [Cell<T>]) -> Self {
        LaneView::contiguous(cells)
    }
}

// ---------------------------------------------------------------------------
// Fixed-width access: kernels dispatch once on the block's width and then
// move whole elements (`W` lanes) as arrays, which LLVM keeps in vector
// registers (loads before stores, so no aliasing stops it).
// ---------------------------------------------------------------------------

impl LaneMask {
    /// One flag per lane of a block of `W` lanes: whether it is in the set.
    #[inline(always)]
    pub fn flags<const W: usize>(self) -> [bool; W] {
        std::array::from_fn(|l| self.contains(l))
    }
}

impl<T: Copy> LaneBuf<'_, T> {
    /// Every lane of element `i` (the block must be `W` lanes wide).
    #[inline(always)]
    pub fn load<const W: usize>(&self, i: usize) -> [T; W] {
        debug_assert_eq!(W, self.w);
        let e = &self.cells[i * W..i * W + W];
        std::array::from_fn(|l| e[l].get())
    }

    /// Sets every lane of element `i` (the block must be `W` lanes wide).
    #[inline(always)]
    pub fn store<const W: usize>(&self, i: usize, v: [T; W]) {
        debug_assert_eq!(W, self.w);
        let e = &self.cells[i * W..i * W + W];
        for (c, x) in e.iter().zip(v) {
            c.set(x);
        }
    }

    /// Sets the lanes of element `i` where `on` holds; the others keep
    /// their values (written back unchanged, a blend rather than a branch
    /// per lane).
    #[inline(always)]
    pub fn store_where<const W: usize>(&self, i: usize, v: [T; W], on: [bool; W]) {
        let old = self.load::<W>(i);
        self.store::<W>(
            i,
            std::array::from_fn(|l| if on[l] { v[l] } else { old[l] }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_list_their_lanes_in_order() {
        let mut m = LaneMask::all(5);
        m.remove(1);
        m.remove(3);
        assert_eq!(m.lanes().collect::<Vec<_>>(), vec![0, 2, 4]);
        assert_eq!(m.count(), 3);
        assert!(m.contains(4) && !m.contains(3));
        assert_eq!(LaneMask::all(16).count(), 16);
        assert_eq!(m.without(LaneMask::lane(0)).lanes().next(), Some(2));
        assert!(LaneMask::NONE.is_empty());
    }

    #[test]
    fn lane_views_are_strided_and_slice_like_slices() {
        let values: Vec<Cell<f64>> = (0..12).map(|i| Cell::new(i as f64)).collect();
        let buf = LaneBuf::new(&values, 4);
        assert_eq!(buf.len(), 3);
        assert_eq!(buf.get(2, 1), 9.0);
        let lane = buf.lane(3);
        assert_eq!(lane.len(), 3);
        assert_eq!(
            lane.iter().map(Cell::get).collect::<Vec<_>>(),
            vec![3.0, 7.0, 11.0]
        );
        lane[1].set(-1.0);
        assert_eq!(buf.get(1, 3), -1.0);
        let tail = buf.slice(1..3).lane(0);
        assert_eq!(tail.get(0), 4.0);
        assert_eq!(lane.slice(1..3).get(1), 11.0);
        let chunks: Vec<f64> = lane.chunks(2).map(|c| c.get(0)).collect();
        assert_eq!(chunks, vec![3.0]);
        let empty = LaneBuf::<f64>::empty(4);
        assert_eq!(empty.lane(2).len(), 0);
    }
}
