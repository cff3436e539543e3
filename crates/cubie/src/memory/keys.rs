//! The location settings of a whole tree: `<buffer>_location`, qualified
//! by the end of the owner's path (`newton.linear_solver.x_location`)
//! where a shorter key would name buffers of several components.

use super::error::RegistryError;
use super::locations::buffer_of_key;
use super::registry::{BufferRegistry, ComponentId};

/// One buffer's location setting.
#[derive(Debug, Clone, PartialEq, Eq)]
struct KeyOwner {
    /// `<buffer>_location`.
    key: String,
    /// The owner.
    id: ComponentId,
    /// The owner's path, root first.
    path: Vec<String>,
}

impl KeyOwner {
    /// The key qualified by the last `k` components of the path.
    fn qualified(&self, k: usize) -> String {
        let from = self.path.len().saturating_sub(k);
        let mut parts: Vec<&str> = self.path[from..].iter().map(String::as_str).collect();
        parts.push(&self.key);
        parts.join(".")
    }

    /// True when `qualifier` (dot-separated, possibly empty) ends the path.
    fn matches(&self, qualifier: &[&str]) -> bool {
        qualifier.len() <= self.path.len()
            && self.path[self.path.len() - qualifier.len()..]
                .iter()
                .zip(qualifier)
                .all(|(p, q)| p == q)
    }
}

/// Why a location key names no single buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyMismatch {
    /// No buffer of the tree has that key.
    Unknown,
    /// Several do: the shortest key of each, to choose from.
    Ambiguous(Vec<String>),
}

/// Every location setting of one tree, and how each accepted form of a key
/// resolves to one buffer.
///
/// ```
/// # use cubie::{Precision, memory::*};
/// # fn main() -> Result<(), RegistryError> {
/// let mut reg = BufferRegistry::new(Precision::F64);
/// let step = reg.add_component("step", None)?;
/// let newton = reg.add_component("newton", Some(step))?;
/// let a = reg.add_component("linear_solver", Some(newton))?;
/// let b = reg.add_component("linear_solver", Some(step))?;
/// reg.register(a, BufferSpec::shared("x", 3))?;
/// reg.register(b, BufferSpec::shared("x", 3))?;
/// let keys = reg.location_keys(step)?;
/// assert_eq!(keys.shortest(), ["newton.linear_solver.x_location", "step.linear_solver.x_location"]);
/// assert_eq!(keys.resolve("newton.linear_solver.x_location").map(|(id, _)| id), Ok(a));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationKeys {
    owners: Vec<KeyOwner>,
}

impl LocationKeys {
    /// Owners matching key `key`, in any accepted form.
    fn matching(&self, key: &str) -> Vec<&KeyOwner> {
        let (qualifier, buffer_key) = match key.rsplit_once('.') {
            Some((q, b)) => (q.split('.').collect::<Vec<_>>(), b),
            None => (Vec::new(), key),
        };
        self.owners
            .iter()
            .filter(|o| o.key == buffer_key && o.matches(&qualifier))
            .collect()
    }

    /// The shortest form that names only `owner`: the bare key, else the
    /// key qualified by as much of the path as needed.
    fn shortest_of(&self, owner: &KeyOwner) -> String {
        if self.matching(&owner.key).len() == 1 {
            return owner.key.clone();
        }
        (1..=owner.path.len())
            .map(|k| owner.qualified(k))
            .find(|q| self.matching(q).len() == 1)
            .unwrap_or_else(|| owner.qualified(owner.path.len()))
    }

    /// One key per buffer, its shortest unambiguous form, components depth
    /// first and each one's keys sorted.
    pub fn shortest(&self) -> Vec<String> {
        self.owners.iter().map(|o| self.shortest_of(o)).collect()
    }

    /// The forms worth listing to a user: each buffer's shortest key and
    /// its `<component>.<buffer>_location` form when that is unambiguous,
    /// sorted.
    pub fn listed(&self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for o in &self.owners {
            v.push(self.shortest_of(o));
            let component = o.qualified(1);
            if self.matching(&component).len() == 1 {
                v.push(component);
            }
        }
        v.sort();
        v.dedup();
        v
    }

    /// Every accepted form: the bare key where unambiguous and each
    /// qualification by the end of the owner's path that is, sorted.
    pub fn accepted(&self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for o in &self.owners {
            let forms =
                std::iter::once(o.key.clone()).chain((1..=o.path.len()).map(|k| o.qualified(k)));
            v.extend(forms.filter(|f| self.matching(f).len() == 1));
        }
        v.sort();
        v.dedup();
        v
    }

    /// The component and the unqualified `<buffer>_location` key that
    /// `key` names.
    pub fn resolve<'a>(&self, key: &'a str) -> Result<(ComponentId, &'a str), KeyMismatch> {
        let buffer_key = key.rsplit_once('.').map_or(key, |(_, b)| b);
        match self.matching(key).as_slice() {
            [one] => Ok((one.id, buffer_key)),
            [] => Err(KeyMismatch::Unknown),
            several => Err(KeyMismatch::Ambiguous(
                several.iter().map(|o| self.shortest_of(o)).collect(),
            )),
        }
    }
}

impl BufferRegistry {
    /// The location settings of `root`'s whole subtree (see
    /// [`LocationKeys`]).
    pub fn location_keys(&self, root: ComponentId) -> Result<LocationKeys, RegistryError> {
        let mut owners = Vec::new();
        for id in self.subtree(root)? {
            let path: Vec<String> = self.path(id)?.split('/').map(str::to_string).collect();
            for key in self.location_settings(id)? {
                if buffer_of_key(&key).is_some() {
                    owners.push(KeyOwner {
                        key,
                        id,
                        path: path.clone(),
                    });
                }
            }
        }
        Ok(LocationKeys { owners })
    }
}
