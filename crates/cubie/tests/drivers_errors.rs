//! Driver samples and settings that are wrong: each is a typed error
//! naming the driver, sample or CSV line.

use cubie::drivers::{
    At, Boundary, DriverError, DriverInterpolant, DriverSeries, DriverSettings, Extrapolation,
    Interpolation,
};
use cubie::system::NamedValue;

fn drivers() -> Vec<NamedValue> {
    ["u", "v"]
        .iter()
        .map(|n| NamedValue {
            name: n.to_string(),
            value: 0.0,
        })
        .collect()
}

fn csv(text: &str) -> Result<DriverSeries, DriverError> {
    DriverSeries::from_csv_reader(&drivers(), text.as_bytes(), "in.csv")
}

#[test]
fn a_driver_with_one_sample_is_an_error() {
    let err = DriverSeries::evenly_spaced(&drivers(), 0.0, 0.1, [("u", vec![1.0])]).unwrap_err();
    assert_eq!(
        err,
        DriverError::TooFewSamples {
            origin: "driver `u`".into(),
            count: 1
        }
    );
    assert!(err.to_string().contains("at least two"), "{err}");
    let err = DriverSeries::with_times(&drivers(), vec![0.0], [("u", vec![1.0])]).unwrap_err();
    assert!(matches!(err, DriverError::TooFewSamples { count: 1, .. }));
    let err = csv("t,u\n0.0,1.0\n").unwrap_err();
    assert!(matches!(err, DriverError::TooFewSamples { count: 1, .. }));
    assert!(matches!(
        csv("t,u\n").unwrap_err(),
        DriverError::TooFewSamples { count: 0, .. }
    ));
}

#[test]
fn non_increasing_times_are_errors_naming_the_sample() {
    let err = DriverSeries::with_times(&drivers(), vec![0.0, 1.0, 1.0, 2.0], [("u", vec![0.0; 4])])
        .unwrap_err();
    assert_eq!(
        err,
        DriverError::NonIncreasingTime {
            origin: "driver samples".into(),
            at: At::Sample(2),
            previous: 1.0,
            time: 1.0
        }
    );
    let err = csv("t,u\n0,1\n2,1\n1,1\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "in.csv, line 4: time 1 does not come after the previous time 2; \
         sample times must strictly increase"
    );
    assert!(matches!(
        DriverSeries::evenly_spaced(&drivers(), 0.0, 0.0, [("u", vec![0.0; 3])]),
        Err(DriverError::BadSpacing { .. })
    ));
    assert!(matches!(
        DriverSeries::evenly_spaced(&drivers(), f64::NAN, 0.1, [("u", vec![0.0; 3])]),
        Err(DriverError::BadSpacing { .. })
    ));
}

#[test]
fn non_finite_values_and_times_name_column_and_line() {
    let err = csv("t,u,v\n0,1,2\n1,1,nan\n").unwrap_err();
    assert!(
        matches!(&err, DriverError::NonFinite { at: At::Line(3), column, .. } if column == "v"),
        "{err:?}"
    );
    let err = csv("t,u\n0,1\ninf,1\n").unwrap_err();
    assert!(
        matches!(&err, DriverError::NonFinite { at: At::Line(3), column, .. } if column == "t"),
        "{err:?}"
    );
    let err = DriverSeries::evenly_spaced(&drivers(), 0.0, 1.0, [("v", vec![0.0, f64::INFINITY])])
        .unwrap_err();
    assert!(matches!(
        err,
        DriverError::NonFinite {
            at: At::Sample(1),
            ..
        }
    ));
}

#[test]
fn periodic_boundary_needs_matching_ends() {
    let series = DriverSeries::evenly_spaced(
        &drivers(),
        0.0,
        1.0,
        [("u", vec![0.0, 1.0, 0.0]), ("v", vec![1.0, 2.0, 1.5])],
    )
    .unwrap();
    let periodic = DriverSettings {
        interpolation: Interpolation::Cubic,
        boundary: Some(Boundary::Periodic),
        extrapolation: Extrapolation::Wrap,
    };
    let err = DriverInterpolant::<f64>::new(&series, &periodic).unwrap_err();
    assert_eq!(
        err,
        DriverError::PeriodicEndsDiffer {
            driver: "v".into(),
            first: 1.0,
            last: 1.5
        }
    );
    // Wrap with no boundary given implies periodic, so it fails too.
    let wrap = DriverSettings {
        extrapolation: Extrapolation::Wrap,
        ..DriverSettings::default()
    };
    assert!(DriverInterpolant::<f64>::new(&series, &wrap).is_err());
    // Ends equal to within the tolerance are accepted.
    let close =
        DriverSeries::evenly_spaced(&drivers(), 0.0, 1.0, [("u", vec![1.0, 2.0, 1.0 + 1e-9])])
            .unwrap();
    assert!(DriverInterpolant::<f32>::new(&close, &periodic).is_ok());
}

#[test]
fn unknown_csv_column_lists_the_model_drivers() {
    let err = csv("t,u,w\n0,1,2\n1,1,2\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "in.csv: unknown driver `w`; the model's drivers are: u, v"
    );
    let err =
        DriverSeries::from_csv_reader(&[], "t,u\n0,1\n1,1\n".as_bytes(), "in.csv").unwrap_err();
    assert!(err.to_string().ends_with("drivers are: none"), "{err}");
    assert!(matches!(
        csv("t,u,u\n0,1,1\n1,1,1\n").unwrap_err(),
        DriverError::DuplicateDriver { .. }
    ));
    assert!(matches!(
        DriverSeries::evenly_spaced(&drivers(), 0.0, 1.0, [("x", vec![0.0, 1.0])]),
        Err(DriverError::UnknownDriver { .. })
    ));
}

#[test]
fn malformed_csv_is_an_error_naming_the_line() {
    assert_eq!(
        csv("t,u,v\n0,1,2\n1,1\n").unwrap_err(),
        DriverError::RaggedRow {
            origin: "in.csv".into(),
            line: 3,
            found: 2,
            expected: 3
        }
    );
    assert_eq!(
        csv("t,u\n0,1\n1,abc\n").unwrap_err().to_string(),
        "in.csv, line 3, column `u`: `abc` is not a number"
    );
    // No comment syntax: a `#` line is a row like any other.
    assert!(matches!(
        csv("t,u\n0,1\n# note\n1,x\n").unwrap_err(),
        DriverError::RaggedRow {
            line: 3,
            found: 1,
            ..
        }
    ));
    assert!(matches!(
        csv("time_s,u\n0,1\n1,1\n").unwrap_err(),
        DriverError::MissingTimeColumn { .. }
    ));
    assert!(matches!(
        csv("t,,u\n0,1,1\n1,1,1\n").unwrap_err(),
        DriverError::EmptyColumnName { index: 2, .. }
    ));
    assert!(matches!(
        DriverSeries::from_csv_file(&drivers(), "no/such/drivers.csv").unwrap_err(),
        DriverError::Io { .. }
    ));
}

#[test]
fn mismatched_lengths_and_bad_end_slopes_are_errors() {
    assert_eq!(
        DriverSeries::evenly_spaced(
            &drivers(),
            0.0,
            1.0,
            [("u", vec![0.0, 1.0, 2.0]), ("v", vec![0.0, 1.0])]
        )
        .unwrap_err(),
        DriverError::LengthMismatch {
            driver: "v".into(),
            count: 2,
            expected: 3
        }
    );
    let series =
        DriverSeries::evenly_spaced(&drivers(), 0.0, 1.0, [("u", vec![0.0, 1.0])]).unwrap();
    assert!(matches!(
        series.clone().with_end_slopes("v", 0.0, 0.0),
        Err(DriverError::BadEndSlopes { .. })
    ));
    assert!(matches!(
        series.clone().with_end_slopes("u", f64::NAN, 0.0),
        Err(DriverError::BadEndSlopes { .. })
    ));
    assert!(matches!(
        series.with_end_slopes("q", 0.0, 0.0),
        Err(DriverError::UnknownDriver { .. })
    ));
}
