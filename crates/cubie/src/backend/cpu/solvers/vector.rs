//! Small vector kernels over arena views (`&[Cell<T>]`), shared by the
//! solvers. Loops run in index order so results do not depend on where a
//! buffer lives.

use std::cell::Cell;

use crate::precision::Real;

/// `x · y`.
#[inline]
pub fn dot<T: Real>(x: &[Cell<T>], y: &[Cell<T>]) -> T {
    x.iter()
        .zip(y)
        .fold(T::zero(), |acc, (a, b)| acc + a.get() * b.get())
}

/// Euclidean norm `‖x‖₂`.
#[inline]
pub fn norm<T: Real>(x: &[Cell<T>]) -> T {
    dot(x, x).sqrt()
}

/// `dst ← src`.
#[inline]
pub fn copy<T: Real>(src: &[Cell<T>], dst: &[Cell<T>]) {
    for (d, s) in dst.iter().zip(src) {
        d.set(s.get());
    }
}

/// `x ← value` everywhere.
#[inline]
pub fn fill<T: Real>(x: &[Cell<T>], value: T) {
    for c in x {
        c.set(value);
    }
}

/// `y ← y + alpha · x`.
#[inline]
pub fn axpy<T: Real>(alpha: T, x: &[Cell<T>], y: &[Cell<T>]) {
    for (yi, xi) in y.iter().zip(x) {
        yi.set(yi.get() + alpha * xi.get());
    }
}

/// True when every element is finite.
#[inline]
pub fn all_finite<T: Real>(x: &[Cell<T>]) -> bool {
    x.iter().all(|c| c.get().is_finite())
}
