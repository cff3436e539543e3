//! Settings given by name (`--set KEY=VALUE`), consumed by the components
//! that know them. A key no component takes is an error listing the keys
//! that are valid for the solve being built.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use thiserror::Error;

/// A setting that was not understood.
#[derive(Debug, Error, PartialEq)]
pub enum SettingsError {
    /// No component of this solve takes the key.
    #[error("unknown setting `{key}`; valid settings: {valid}")]
    Unknown {
        /// The key as given.
        key: String,
        /// Comma-separated valid keys.
        valid: String,
    },
    /// The value does not parse as the setting's type.
    #[error("setting `{key}`: `{value}` is not {expected}")]
    BadValue {
        /// The key.
        key: String,
        /// The value as given.
        value: String,
        /// What was expected.
        expected: String,
    },
    /// A `KEY=VALUE` pair without `=`.
    #[error("bad setting `{0}`: expected KEY=VALUE")]
    Malformed(String),
}

/// Named settings, with a record of which keys the solve's components know.
#[derive(Debug, Default)]
pub struct SettingsMap {
    values: BTreeMap<String, String>,
    known: RefCell<BTreeSet<String>>,
}

impl SettingsMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses `KEY=VALUE` pairs (later pairs override earlier ones).
    pub fn from_pairs<S: AsRef<str>>(pairs: &[S]) -> Result<Self, SettingsError> {
        let mut map = SettingsMap::new();
        for pair in pairs {
            let pair = pair.as_ref();
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| SettingsError::Malformed(pair.to_string()))?;
            if k.trim().is_empty() {
                return Err(SettingsError::Malformed(pair.to_string()));
            }
            map.set(k.trim(), v.trim());
        }
        Ok(map)
    }

    /// Sets one value.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.values.insert(key.into(), value.into());
    }

    /// True when the user gave `key`.
    pub fn contains(&self, key: &str) -> bool {
        self.values.contains_key(key)
    }

    /// Declares `key` as known and returns its raw value if given.
    pub fn raw(&self, key: &str) -> Option<&str> {
        self.known.borrow_mut().insert(key.to_string());
        self.values.get(key).map(String::as_str)
    }

    /// Declares `key` as known and parses its value if given.
    pub fn get<T: FromStr>(&self, key: &str, expected: &str) -> Result<Option<T>, SettingsError> {
        match self.raw(key) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| SettingsError::BadValue {
                key: key.to_string(),
                value: v.to_string(),
                expected: expected.to_string(),
            }),
        }
    }

    /// A finite number, if given.
    pub fn get_f64(&self, key: &str) -> Result<Option<f64>, SettingsError> {
        let value: Option<f64> = self.get(key, "a number")?;
        match value {
            Some(v) if !v.is_finite() => Err(SettingsError::BadValue {
                key: key.to_string(),
                value: v.to_string(),
                expected: "a finite number".into(),
            }),
            v => Ok(v),
        }
    }

    /// Given keys matching `predicate` (declaring none of them known).
    pub fn matching(&self, predicate: impl Fn(&str) -> bool) -> Vec<(&str, &str)> {
        self.values
            .iter()
            .filter(|(k, _)| predicate(k))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    /// Declares keys as known without reading them (settings handled in
    /// bulk elsewhere, such as buffer locations).
    pub fn declare<I: IntoIterator<Item = String>>(&self, keys: I) {
        self.known.borrow_mut().extend(keys);
    }

    /// Fails on the first given key that no component declared.
    pub fn check_all_known(&self) -> Result<(), SettingsError> {
        let known = self.known.borrow();
        match self.values.keys().find(|k| !known.contains(*k)) {
            None => Ok(()),
            Some(key) => Err(SettingsError::Unknown {
                key: key.clone(),
                valid: known.iter().cloned().collect::<Vec<_>>().join(", "),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_keys_are_read_and_unknown_keys_listed() {
        let map = SettingsMap::from_pairs(&["max_steps=100", "kp=0.5", "typo=1"]).unwrap();
        assert_eq!(
            map.get::<u64>("max_steps", "a whole number").unwrap(),
            Some(100)
        );
        assert_eq!(map.get_f64("kp").unwrap(), Some(0.5));
        assert_eq!(map.get_f64("ki").unwrap(), None);
        let err = map.check_all_known().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown setting `typo`; valid settings: ki, kp, max_steps"
        );
    }

    #[test]
    fn bad_values_and_pairs_are_errors() {
        let map = SettingsMap::from_pairs(&["kp=fast"]).unwrap();
        assert!(matches!(
            map.get_f64("kp"),
            Err(SettingsError::BadValue { .. })
        ));
        assert_eq!(
            SettingsMap::from_pairs(&["kp"]).unwrap_err(),
            SettingsError::Malformed("kp".into())
        );
    }
}
