//! Finding the Julia reference: the repository's copy is found, and in CI a
//! missing reference is an error naming the missing file instead of a skip.

mod common;

use std::path::PathBuf;

use common::{REFERENCE_FILE, default_reference_dir, locate_reference};

#[test]
fn the_repository_copy_of_the_reference_is_found() {
    let dir = locate_reference(None, true).expect("the reference is in the repository");
    assert_eq!(dir, Some(default_reference_dir()));
}

#[test]
fn a_missing_reference_fails_in_ci_and_names_the_file() {
    let missing = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/no_such_reference");
    let err = locate_reference(Some(missing.clone()), true).unwrap_err();
    assert!(err.contains("reference data missing"), "{err}");
    assert!(
        err.contains(&missing.join(REFERENCE_FILE).display().to_string()),
        "{err}"
    );
}

#[test]
fn a_missing_reference_is_skipped_outside_ci() {
    let missing = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/no_such_reference");
    assert_eq!(locate_reference(Some(missing), false), Ok(None));
}
