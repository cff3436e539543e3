//! Helpers shared by the JIT tests: a small deterministic generator.

#![allow(dead_code)]

use cubie::memory::LaneMask;

/// A small deterministic generator (SplitMix64).
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// One of `values`.
    pub fn pick(&mut self, values: &[f64]) -> f64 {
        values[(self.next_u64() % values.len() as u64) as usize]
    }

    /// A mask of `w` lanes with, for `w > 1`, some lanes on and some off.
    pub fn partial_mask(&mut self, w: usize) -> LaneMask {
        if w == 1 {
            return LaneMask::all(1);
        }
        loop {
            let m = LaneMask::from_fn(w, |_| !self.next_u64().is_multiple_of(3));
            if m.any() && m.count() < w {
                return m;
            }
        }
    }
}
