//! User-facing driver settings: interpolation, spline boundary condition
//! and behaviour outside the samples, each parseable from a word.

use std::fmt;
use std::str::FromStr;

use crate::settings::{SettingsError, SettingsMap};

use super::error::DriverError;

/// Setting key for [`Interpolation`].
pub const KEY_INTERPOLATION: &str = "driver_interpolation";
/// Setting key for [`Boundary`].
pub const KEY_BOUNDARY: &str = "driver_boundary";
/// Setting key for [`Extrapolation`].
pub const KEY_EXTRAPOLATION: &str = "driver_extrapolation";
/// Every driver setting key, for routing `--set KEY=VALUE`.
pub const SETTING_KEYS: [&str; 3] = [KEY_INTERPOLATION, KEY_BOUNDARY, KEY_EXTRAPOLATION];

macro_rules! word_enum {
    ($(#[$doc:meta])* $name:ident, $key:expr, { $($(#[$vdoc:meta])* $variant:ident = $word:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// The accepted words, in order.
            pub const WORDS: &'static [&'static str] = &[$($word),+];

            /// The word naming this value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = DriverError;

            fn from_str(s: &str) -> Result<Self, DriverError> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $($word => Ok($name::$variant),)+
                    _ => Err(DriverError::BadSetting {
                        key: $key.to_string(),
                        value: s.to_string(),
                        expected: $name::WORDS.join(" | "),
                    }),
                }
            }
        }
    };
}

word_enum!(
    /// How drivers are interpolated between samples.
    Interpolation, KEY_INTERPOLATION, {
        /// Cubic spline (C2): the default.
        #[default]
        Cubic = "cubic",
        /// Piecewise linear (C0; the rate jumps at samples).
        Linear = "linear",
    }
);

word_enum!(
    /// End condition of a cubic spline (ignored by linear interpolation,
    /// except that `periodic` still requires matching first and last
    /// samples).
    Boundary, KEY_BOUNDARY, {
        /// Second derivative zero at both ends.
        #[default]
        Natural = "natural",
        /// First derivative fixed at both ends: zero, unless end slopes are
        /// given per driver with [`super::DriverSeries::with_end_slopes`].
        Clamped = "clamped",
        /// First and second derivatives equal at both ends; the first and
        /// last samples must be equal (relative tolerance 1e-6).
        Periodic = "periodic",
    }
);

word_enum!(
    /// What a driver does outside its sampled time range.
    Extrapolation, KEY_EXTRAPOLATION, {
        /// Hold the end value; the rate is zero outside the range.
        #[default]
        Hold = "hold",
        /// Repeat: `t` is mapped into the range modulo its length.
        Wrap = "wrap",
    }
);

/// Settings of driver interpolation. The default is a natural cubic
/// spline that holds its end values; with `extrapolation = wrap` and no
/// boundary given, the boundary is periodic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DriverSettings {
    /// Cubic (default) or linear.
    pub interpolation: Interpolation,
    /// Spline end condition; `None` picks natural, or periodic when
    /// wrapping.
    pub boundary: Option<Boundary>,
    /// Hold (default) or wrap.
    pub extrapolation: Extrapolation,
}

impl DriverSettings {
    /// The boundary condition in effect.
    pub fn boundary(&self) -> Boundary {
        match (self.boundary, self.extrapolation) {
            (Some(b), _) => b,
            // Wrapping a non-periodic spline would put a kink at every
            // period boundary.
            (None, Extrapolation::Wrap) => Boundary::Periodic,
            (None, Extrapolation::Hold) => Boundary::Natural,
        }
    }

    /// Sets one setting by key (one of [`SETTING_KEYS`]) and word.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), DriverError> {
        match key {
            KEY_INTERPOLATION => self.interpolation = value.parse()?,
            KEY_BOUNDARY => self.boundary = Some(value.parse()?),
            KEY_EXTRAPOLATION => self.extrapolation = value.parse()?,
            _ => {
                return Err(DriverError::UnknownSetting {
                    key: key.to_string(),
                    valid: SETTING_KEYS.join(", "),
                });
            }
        }
        Ok(())
    }

    /// Reads the driver keys from named settings (declaring them known).
    pub fn from_settings(map: &SettingsMap) -> Result<Self, SettingsError> {
        let mut settings = DriverSettings::default();
        for key in SETTING_KEYS {
            if let Some(value) = map.raw(key) {
                settings.set(key, value).map_err(|e| match e {
                    DriverError::BadSetting {
                        key,
                        value,
                        expected,
                    } => SettingsError::BadValue {
                        key,
                        value,
                        expected: format!("one of {expected}"),
                    },
                    other => SettingsError::BadValue {
                        key: key.to_string(),
                        value: value.to_string(),
                        expected: other.to_string(),
                    },
                })?;
            }
        }
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_parse_and_bad_words_list_choices() {
        assert_eq!("Linear".parse::<Interpolation>(), Ok(Interpolation::Linear));
        assert_eq!("periodic".parse::<Boundary>(), Ok(Boundary::Periodic));
        assert_eq!("wrap".parse::<Extrapolation>(), Ok(Extrapolation::Wrap));
        let err = "quintic".parse::<Interpolation>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "setting `driver_interpolation`: `quintic` is not one of cubic | linear"
        );
    }

    #[test]
    fn defaults_and_wrap_implies_periodic() {
        let mut s = DriverSettings::default();
        assert_eq!(s.interpolation, Interpolation::Cubic);
        assert_eq!(s.boundary(), Boundary::Natural);
        assert_eq!(s.extrapolation, Extrapolation::Hold);
        s.set(KEY_EXTRAPOLATION, "wrap").unwrap();
        assert_eq!(s.boundary(), Boundary::Periodic);
        s.set(KEY_BOUNDARY, "clamped").unwrap();
        assert_eq!(s.boundary(), Boundary::Clamped);
        assert!(matches!(
            s.set("driver_order", "3"),
            Err(DriverError::UnknownSetting { .. })
        ));
    }

    #[test]
    fn settings_map_keys_are_read_and_declared() {
        let map =
            SettingsMap::from_pairs(&["driver_interpolation=linear", "driver_boundary=clamped"])
                .unwrap();
        let s = DriverSettings::from_settings(&map).unwrap();
        assert_eq!(s.interpolation, Interpolation::Linear);
        assert_eq!(s.boundary(), Boundary::Clamped);
        assert!(map.check_all_known().is_ok());
        let bad = SettingsMap::from_pairs(&["driver_extrapolation=zero"]).unwrap();
        assert!(matches!(
            DriverSettings::from_settings(&bad),
            Err(SettingsError::BadValue { .. })
        ));
    }
}
