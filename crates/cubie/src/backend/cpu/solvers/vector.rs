//! Small vector kernels over lane blocks ([`LaneBuf`]), shared by the
//! solvers and the implicit steps. Loops run over elements in index order,
//! lanes innermost (contiguous memory), so each lane's results are those
//! of the same loop over one run's plain vector, whatever the block's
//! width and wherever a buffer lives.
//!
//! Reductions ([`dot`], [`norm`], [`all_finite`]) read every lane and
//! return one value per lane; writes ([`update`] and what is built on it)
//! touch only the lanes of their mask, so a lane that has left a solve
//! sees no further writes.

use crate::memory::{LaneBuf, LaneMask, MAX_LANES, PerLane};
use crate::precision::Real;

/// `value` in every lane.
#[inline]
pub fn splat<T: Copy>(value: T) -> PerLane<T> {
    [value; MAX_LANES]
}

/// One value per lane: `f(l)` for lanes `0..w` (the default beyond).
#[inline]
pub fn per_lane<T: Copy + Default>(w: usize, mut f: impl FnMut(usize) -> T) -> PerLane<T> {
    let mut v = [T::default(); MAX_LANES];
    for (l, x) in v.iter_mut().enumerate().take(w) {
        *x = f(l);
    }
    v
}

/// Calls `$f::<W, _>(args)` for the block width `$w` (1, 2, 4, 8, 16 or 32):
/// one dispatch per kernel call, then fixed-size lane loops that LLVM
/// unrolls and vectorizes. `$dynamic` handles any other width.
macro_rules! by_width {
    ($w:expr, $f:ident($($arg:expr),* $(,)?), $dynamic:expr) => {
        match $w {
            1 => $f::<1, _>($($arg),*),
            2 => $f::<2, _>($($arg),*),
            4 => $f::<4, _>($($arg),*),
            8 => $f::<8, _>($($arg),*),
            16 => $f::<16, _>($($arg),*),
            32 => $f::<32, _>($($arg),*),
            _ => $dynamic,
        }
    };
}
pub(crate) use by_width;

/// `dst[i, l] ← f(i, l)` for every element `i` and every lane `l` of
/// `mask`, elements outermost; the other lanes keep their values. `f` may
/// read `dst` (element `(i, l)` is written right after `f(i, l)`).
#[inline(always)]
pub fn update<T: Copy>(dst: LaneBuf<'_, T>, mask: LaneMask, f: impl FnMut(usize, usize) -> T) {
    by_width!(
        dst.width(),
        update_w(dst, mask, f),
        update_dynamic(dst, mask, f)
    )
}

#[inline(always)]
fn update_w<const W: usize, T: Copy>(
    dst: LaneBuf<'_, T>,
    mask: LaneMask,
    mut f: impl FnMut(usize, usize) -> T,
) {
    let cells = dst.cells();
    if mask == LaneMask::all(W) {
        for (i, d) in cells.chunks_exact(W).enumerate() {
            for (l, c) in d.iter().enumerate() {
                c.set(f(i, l));
            }
        }
    } else if mask.any() {
        let on = mask.flags::<W>();
        for (i, d) in cells.chunks_exact(W).enumerate() {
            for (l, c) in d.iter().enumerate() {
                if on[l] {
                    c.set(f(i, l));
                }
            }
        }
    }
}

fn update_dynamic<T: Copy>(
    dst: LaneBuf<'_, T>,
    mask: LaneMask,
    mut f: impl FnMut(usize, usize) -> T,
) {
    for i in 0..dst.len() {
        let d = dst.element(i);
        for l in mask.lanes() {
            d[l].set(f(i, l));
        }
    }
}

/// `dst[i] ← f(i, l, a[i], b[i])` lane by lane for every element `i`, in the
/// lanes of `mask` (the others keep their values): whole elements are
/// read before any is written, so `dst` may be `a` or `b`.
#[inline(always)]
pub fn map2<T: Copy>(
    a: LaneBuf<'_, T>,
    b: LaneBuf<'_, T>,
    dst: LaneBuf<'_, T>,
    mask: LaneMask,
    f: impl Fn(usize, usize, T, T) -> T,
) {
    by_width!(
        dst.width(),
        map2_w(a, b, dst, mask, &f),
        update_dynamic(dst, mask, |i, l| f(i, l, a.get(i, l), b.get(i, l)))
    )
}

#[inline(always)]
fn map2_w<const W: usize, T: Copy>(
    a: LaneBuf<'_, T>,
    b: LaneBuf<'_, T>,
    dst: LaneBuf<'_, T>,
    mask: LaneMask,
    f: &impl Fn(usize, usize, T, T) -> T,
) {
    if mask.is_empty() {
        return;
    }
    let on = mask.flags::<W>();
    let full = mask == LaneMask::all(W);
    for i in 0..dst.len() {
        let (x, y) = (a.load::<W>(i), b.load::<W>(i));
        let v = std::array::from_fn(|l| f(i, l, x[l], y[l]));
        if full {
            dst.store::<W>(i, v);
        } else {
            dst.store_where::<W>(i, v, on);
        }
    }
}

/// `dst[i] ← f(i, l, a[i])` lane by lane, as [`map2`] with one input.
#[inline(always)]
pub fn map1<T: Copy>(
    a: LaneBuf<'_, T>,
    dst: LaneBuf<'_, T>,
    mask: LaneMask,
    f: impl Fn(usize, usize, T) -> T,
) {
    map2(a, a, dst, mask, |i, l, x, _| f(i, l, x));
}

/// `x · y` in every lane, accumulated over elements in index order.
#[inline]
pub fn dot<T: Real>(x: LaneBuf<'_, T>, y: LaneBuf<'_, T>) -> PerLane<T> {
    by_width!(x.width(), dot_w(x, y), {
        let mut acc = splat(T::zero());
        for i in 0..x.len() {
            for (l, a) in acc.iter_mut().enumerate().take(x.width()) {
                *a = *a + x.get(i, l) * y.get(i, l);
            }
        }
        acc
    })
}

#[inline(always)]
fn dot_w<const W: usize, T: Real>(x: LaneBuf<'_, T>, y: LaneBuf<'_, T>) -> PerLane<T> {
    let mut acc = [T::zero(); W];
    for i in 0..x.len() {
        let (a, b) = (x.load::<W>(i), y.load::<W>(i));
        for l in 0..W {
            acc[l] = acc[l] + a[l] * b[l];
        }
    }
    let mut out = splat(T::zero());
    out[..W].copy_from_slice(&acc);
    out
}

/// Euclidean norm `‖x‖₂` in every lane.
#[inline]
pub fn norm<T: Real>(x: LaneBuf<'_, T>) -> PerLane<T> {
    let mut n = dot(x, x);
    for v in n.iter_mut().take(x.width()) {
        *v = v.sqrt();
    }
    n
}

/// `dst ← src` in the lanes of `mask`.
#[inline]
pub fn copy<T: Copy>(src: LaneBuf<'_, T>, dst: LaneBuf<'_, T>, mask: LaneMask) {
    map1(src, dst, mask, |_, _, x| x);
}

/// `x ← value` in the lanes of `mask`.
#[inline]
pub fn fill<T: Copy>(x: LaneBuf<'_, T>, value: T, mask: LaneMask) {
    map1(x, x, mask, |_, _, _| value);
}

/// `dst ← factor · src` in the lanes of `mask` (one factor per lane).
#[inline]
pub fn scaled<T: Real>(
    factor: &PerLane<T>,
    src: LaneBuf<'_, T>,
    dst: LaneBuf<'_, T>,
    mask: LaneMask,
) {
    map1(src, dst, mask, |_, l, x| factor[l] * x);
}

/// `y ← y + alpha · x` in the lanes of `mask` (one `alpha` per lane).
#[inline]
pub fn axpy<T: Real>(alpha: &PerLane<T>, x: LaneBuf<'_, T>, y: LaneBuf<'_, T>, mask: LaneMask) {
    map2(y, x, y, mask, |_, l, y, x| y + alpha[l] * x);
}

/// The lanes of `mask` in which every element is finite.
#[inline]
pub fn all_finite<T: Real>(x: LaneBuf<'_, T>, mask: LaneMask) -> LaneMask {
    x.finite_lanes(mask)
}

/// [`all_finite`] of `src` in the lanes of `mask`, then `dst ← src` in
/// those of them where it holds; returns those lanes.
#[inline]
pub fn copy_finite<T: Real>(src: LaneBuf<'_, T>, dst: LaneBuf<'_, T>, mask: LaneMask) -> LaneMask {
    let finite = all_finite(src, mask);
    copy(src, dst, finite);
    finite
}

/// Time `t` as a model call at `T::from_f64(t)` sees it, back in `f64`:
/// where a scalar form held a time in `T`, the lane form rounds the same.
#[inline]
pub fn rounded<T: Real>(t: f64) -> f64 {
    T::from_f64(t).to_f64()
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    fn cells(v: &[f64]) -> Vec<Cell<f64>> {
        v.iter().map(|&x| Cell::new(x)).collect()
    }

    #[test]
    fn reductions_are_per_lane_and_writes_keep_other_lanes() {
        // Two elements of three lanes: lane l holds (l+1, 2(l+1)).
        let x = cells(&[1.0, 2.0, 3.0, 2.0, 4.0, 6.0]);
        let y = cells(&[0.0; 6]);
        let (x, y) = (LaneBuf::new(&x, 3), LaneBuf::new(&y, 3));
        let d = dot(x, x);
        assert_eq!(&d[..3], &[5.0, 20.0, 45.0]);
        assert_eq!(norm(x)[0], 5f64.sqrt());
        let mut mask = LaneMask::all(3);
        mask.remove(1);
        copy(x, y, mask);
        assert_eq!(y.lane(1).get(0), 0.0);
        assert_eq!(y.lane(2).get(1), 6.0);
        axpy(&[2.0; MAX_LANES], x, y, LaneMask::lane(0));
        assert_eq!((y.get(0, 0), y.get(1, 0), y.get(0, 2)), (3.0, 6.0, 3.0));
        x.set(1, 2, f64::NAN);
        assert_eq!(all_finite(x, LaneMask::all(3)), LaneMask::all(2));
        fill(y, -1.0, LaneMask::NONE);
        assert_eq!(y.get(0, 0), 3.0);
    }
}
