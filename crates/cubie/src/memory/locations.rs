//! Where a buffer is asked to live ([`Location`]), where it ends up
//! ([`Region`]), and parsing of the user's `<buffer>_location` settings.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Where a buffer is asked to live: the user's or the default heuristic's
/// choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Location {
    /// The run's slice of shared memory (block shared memory on a GPU).
    Shared,
    /// Thread-private memory: a local array, or the persistent-local region
    /// for a persistent buffer.
    #[default]
    Local,
}

impl Location {
    /// The setting value: `shared` or `local`.
    pub fn as_str(self) -> &'static str {
        match self {
            Location::Shared => "shared",
            Location::Local => "local",
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A location value that is neither `shared` nor `local`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("`{0}` is not a location: expected `shared` or `local`")]
pub struct ParseLocationError(pub String);

impl FromStr for Location {
    type Err = ParseLocationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "shared" => Ok(Location::Shared),
            "local" => Ok(Location::Local),
            other => Err(ParseLocationError(other.to_string())),
        }
    }
}

/// The region a buffer's elements are placed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Region {
    /// A slice of the component's shared region.
    Shared,
    /// A slice of the component's persistent-local region.
    Persistent,
    /// A fresh local array of its own (size `max(n, 1)`).
    Local,
}

impl Region {
    /// The region a buffer with this location and persistence gets when it
    /// is not overlaid on an alias parent. A shared buffer keeps its contents
    /// anyway, so persistence only matters for local ones.
    pub fn of(location: Location, persistent: bool) -> Region {
        match (location, persistent) {
            (Location::Shared, _) => Region::Shared,
            (Location::Local, true) => Region::Persistent,
            (Location::Local, false) => Region::Local,
        }
    }

    /// Lower-case name, as in the report.
    pub fn as_str(self) -> &'static str {
        match self {
            Region::Shared => "shared",
            Region::Persistent => "persistent",
            Region::Local => "local",
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Suffix of a location setting's key.
pub const LOCATION_SUFFIX: &str = "_location";

/// The setting key that moves buffer `name`: `<name>_location`.
pub fn location_key(name: &str) -> String {
    format!("{name}{LOCATION_SUFFIX}")
}

/// The buffer name a setting key addresses, if it has the form
/// `<name>_location` with a non-empty name.
pub fn buffer_of_key(key: &str) -> Option<&str> {
    key.strip_suffix(LOCATION_SUFFIX).filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_parses_and_prints() {
        assert_eq!("shared".parse::<Location>(), Ok(Location::Shared));
        assert_eq!("local".parse::<Location>(), Ok(Location::Local));
        assert_eq!(
            "Shared".parse::<Location>(),
            Err(ParseLocationError("Shared".into()))
        );
        assert_eq!(Location::Shared.to_string(), "shared");
    }

    #[test]
    fn region_follows_location_and_persistence() {
        assert_eq!(Region::of(Location::Shared, true), Region::Shared);
        assert_eq!(Region::of(Location::Local, true), Region::Persistent);
        assert_eq!(Region::of(Location::Local, false), Region::Local);
    }

    #[test]
    fn keys_map_to_buffer_names() {
        assert_eq!(location_key("delta"), "delta_location");
        assert_eq!(buffer_of_key("delta_location"), Some("delta"));
        assert_eq!(buffer_of_key("_location"), None);
        assert_eq!(buffer_of_key("delta"), None);
    }
}
