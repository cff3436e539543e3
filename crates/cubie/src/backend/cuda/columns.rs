//! The kernel's array layout: column-major (`[column][run]`, run
//! fastest, so neighbouring threads touch neighbouring addresses), and
//! the reorder to and from the CPU's run-major arrays. Shared by the host
//! emulation and the device runtime.

/// Run-major (`[run][column]`) to the kernel's column-major layout.
pub(crate) fn column_major<T: Copy>(values: &[T], n_runs: usize, columns: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(values.len());
    for column in 0..columns {
        for run in 0..n_runs {
            out.push(values[run * columns + column]);
        }
    }
    out
}

/// The kernel's `[column][run]` layout back to `[run][column]`.
pub(crate) fn run_major<T: Copy>(values: &[T], n_runs: usize) -> Vec<T> {
    if n_runs == 0 {
        return Vec::new();
    }
    let columns = values.len() / n_runs;
    let mut out = Vec::with_capacity(values.len());
    for run in 0..n_runs {
        for column in 0..columns {
            out.push(values[column * n_runs + run]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reorders_are_inverse() {
        // Three runs of two columns, run-major.
        let runs = [10, 11, 20, 21, 30, 31];
        let columns = column_major(&runs, 3, 2);
        assert_eq!(columns, [10, 20, 30, 11, 21, 31]);
        assert_eq!(run_major(&columns, 3), runs);
        assert!(run_major::<i32>(&[], 0).is_empty());
    }
}
