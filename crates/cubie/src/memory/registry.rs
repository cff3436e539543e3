//! The registry value: the tree of owners, their registrations, updates,
//! location settings, and per-component queries over the cached layouts.

use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::element::ElementType;
use super::error::RegistryError;
use super::layout::{self, ComponentLayout, Entry, Placement};
use super::locations::{Location, Region, buffer_of_key, location_key};
use crate::precision::Precision;

type Result<T> = std::result::Result<T, RegistryError>;

/// Names a component (a node of the owner tree) of one [`BufferRegistry`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ComponentId(usize);

impl ComponentId {
    /// The id's index within its registry.
    pub fn index(self) -> usize {
        self.0
    }
}

impl fmt::Display for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// What a component asks for when it registers a buffer.
///
/// ```
/// use cubie::memory::BufferSpec;
/// let spec = BufferSpec::local("increment_cache", 3)
///     .persistent()
///     .aliasing("solver_scratch");
/// assert!(spec.persistent);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BufferSpec {
    /// Unique within the owner; a C identifier.
    pub name: String,
    /// Elements (0 allowed).
    pub size: usize,
    /// Where it is asked to live.
    pub location: Location,
    /// A local buffer that keeps its contents from step to step.
    pub persistent: bool,
    /// Another buffer of the same owner whose space this one may reuse.
    pub aliases: Option<String>,
    /// Buffers of the same owner, in order of preference: the layout
    /// overlays this one on the first of them that ends up shared (after
    /// every location setting), and places it as unaliased when none does.
    /// Ignored when [`aliases`](Self::aliases) names a fixed target.
    pub alias_candidates: Vec<String>,
    /// Element type; `None` takes the registry's precision.
    pub element: Option<ElementType>,
}

impl BufferSpec {
    /// A buffer of `size` elements at `location`.
    pub fn new(name: impl Into<String>, size: usize, location: Location) -> Self {
        BufferSpec {
            name: name.into(),
            size,
            location,
            persistent: false,
            aliases: None,
            alias_candidates: Vec::new(),
            element: None,
        }
    }

    /// A shared buffer.
    pub fn shared(name: impl Into<String>, size: usize) -> Self {
        Self::new(name, size, Location::Shared)
    }

    /// A local buffer.
    pub fn local(name: impl Into<String>, size: usize) -> Self {
        Self::new(name, size, Location::Local)
    }

    /// Marks it persistent.
    pub fn persistent(mut self) -> Self {
        self.persistent = true;
        self
    }

    /// Lets it reuse the space of `target`, a buffer of the same owner.
    pub fn aliasing(mut self, target: impl Into<String>) -> Self {
        self.aliases = Some(target.into());
        self
    }

    /// Lets it reuse the space of the first of `candidates` (buffers of the
    /// same owner) that ends up shared. The choice is the layout's, made
    /// from the final locations, so a component declares its preference
    /// once and the user's location settings decide.
    pub fn aliasing_first_shared<I, S>(mut self, candidates: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.aliases = None;
        self.alias_candidates = candidates.into_iter().map(Into::into).collect();
        self
    }

    /// Sets its element type to a real precision.
    pub fn precision(mut self, precision: Precision) -> Self {
        self.element = Some(precision.into());
        self
    }

    /// Sets its element type (an integer type for flags and counters,
    /// which may only be plain local arrays).
    pub fn element(mut self, element: ElementType) -> Self {
        self.element = Some(element);
        self
    }
}

/// A registered buffer, as the registry holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Buffer {
    /// Its name within the owner.
    pub name: String,
    /// Elements.
    pub size: usize,
    /// Where it is asked to live.
    pub location: Location,
    /// Keeps its contents from step to step.
    pub persistent: bool,
    /// Alias parent, a buffer of the same owner.
    pub aliases: Option<String>,
    /// Alias candidates: the first that ends up shared is the parent (see
    /// [`BufferSpec::alias_candidates`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alias_candidates: Vec<String>,
    /// Element type.
    pub element: ElementType,
}

impl Buffer {
    /// Every name it may alias: the fixed target, or the candidates.
    pub fn alias_targets(&self) -> impl Iterator<Item = &str> {
        self.aliases
            .iter()
            .chain(&self.alias_candidates)
            .map(String::as_str)
    }
}

#[derive(Debug, Clone)]
struct Node {
    name: String,
    parent: Option<ComponentId>,
    children: Vec<ComponentId>,
    buffers: Vec<Buffer>,
    /// Names of the two entries hosting this node in its parent
    /// (`<name>_shared`, `<name>_persistent` unless renamed).
    host: [String; 2],
    /// Lazily computed; dropped by every change here or below.
    layout: OnceLock<ComponentLayout>,
}

/// The buffer registry of one kernel build: the explicit tree of owners
/// and every buffer they registered. Layouts are computed on first query
/// and cached per component until something in its subtree changes.
#[derive(Debug, Clone)]
pub struct BufferRegistry {
    precision: Precision,
    nodes: Vec<Option<Node>>,
}

/// Region pointer names in generated code; buffers cannot take them.
const RESERVED: [&str; 2] = ["shared", "persistent"];

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Names of the two entries hosting child `child` in its parent.
pub(crate) fn host_names(child: &str) -> [String; 2] {
    [format!("{child}_shared"), format!("{child}_persistent")]
}

impl BufferRegistry {
    /// An empty registry whose buffers default to `precision`. The
    /// entries that host children take this precision too.
    pub fn new(precision: Precision) -> Self {
        BufferRegistry {
            precision,
            nodes: Vec::new(),
        }
    }

    /// The default precision.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    // ----- the tree -----

    fn node(&self, id: ComponentId) -> Result<&Node> {
        self.nodes
            .get(id.0)
            .and_then(Option::as_ref)
            .ok_or(RegistryError::UnknownComponent(id.0))
    }

    fn node_mut(&mut self, id: ComponentId) -> Result<&mut Node> {
        self.nodes
            .get_mut(id.0)
            .and_then(Option::as_mut)
            .ok_or(RegistryError::UnknownComponent(id.0))
    }

    /// Adds a component named `name` under `parent` (or as a root). A
    /// parent at once hosts the child's memory in two entries of its own,
    /// `<name>_shared` and `<name>_persistent`, always sized from the
    /// child's current totals.
    pub fn add_component(
        &mut self,
        name: &str,
        parent: Option<ComponentId>,
    ) -> Result<ComponentId> {
        if !is_identifier(name) {
            return Err(RegistryError::InvalidComponentName { name: name.into() });
        }
        let siblings: Vec<ComponentId> = match parent {
            Some(p) => self.node(p)?.children.clone(),
            None => self.roots(),
        };
        for s in siblings {
            if self.node(s)?.name == name {
                return Err(RegistryError::DuplicateComponent {
                    parent: match parent {
                        Some(p) => self.path(p)?,
                        None => "<root>".into(),
                    },
                    name: name.into(),
                });
            }
        }
        if let Some(p) = parent {
            let pnode = self.node(p)?;
            let taken = self.entry_names(p)?;
            for host in host_names(name) {
                if pnode.buffers.iter().any(|b| b.name == host) || taken.contains(&host) {
                    return Err(RegistryError::NameClash {
                        owner: self.path(p)?,
                        name: host,
                        child: name.into(),
                    });
                }
            }
        }
        let id = ComponentId(self.nodes.len());
        self.nodes.push(Some(Node {
            name: name.into(),
            parent,
            children: Vec::new(),
            buffers: Vec::new(),
            host: host_names(name),
            layout: OnceLock::new(),
        }));
        if let Some(p) = parent {
            self.node_mut(p)?.children.push(id);
            self.invalidate(p);
        }
        Ok(id)
    }

    /// Removes a component and its whole subtree; their ids become unknown.
    ///
    /// Refused ([`RegistryError::AliasTargetInUse`]) while a buffer of the
    /// parent aliases one of the component's host entries: an alias never
    /// dangles, just as one is never registered to a missing target.
    pub fn remove_component(&mut self, id: ComponentId) -> Result<()> {
        let parent = self.node(id)?.parent;
        if let Some(p) = parent {
            for target in self.node(id)?.host.clone() {
                let aliased_by: Vec<String> = self
                    .node(p)?
                    .buffers
                    .iter()
                    .filter(|b| b.alias_targets().any(|t| t == target))
                    .map(|b| b.name.clone())
                    .collect();
                if !aliased_by.is_empty() {
                    return Err(RegistryError::AliasTargetInUse {
                        component: self.path(id)?,
                        target,
                        aliased_by,
                    });
                }
            }
        }
        let doomed = self.subtree(id)?;
        for d in doomed {
            self.nodes[d.0] = None;
        }
        if let Some(p) = parent {
            self.node_mut(p)?.children.retain(|&c| c != id);
            self.invalidate(p);
        }
        Ok(())
    }

    /// Renames the entry of `child`'s parent that hosts the child's shared
    /// memory (by default `<child>_shared`), so the parent can refer to
    /// that slice by a name of its own choosing (a DIRK step calls its
    /// Newton solver's scratch `solver_scratch`) and let its own buffers
    /// alias it. The name must be an identifier not yet used by the
    /// parent's entries.
    pub fn host_shared_as(&mut self, child: ComponentId, name: &str) -> Result<()> {
        let parent = self
            .node(child)?
            .parent
            .ok_or_else(|| RegistryError::InvalidName {
                owner: self.path(child).unwrap_or_default(),
                name: name.into(),
            })?;
        let owner = self.path(parent)?;
        if !is_identifier(name) || RESERVED.contains(&name) {
            return Err(RegistryError::InvalidName {
                owner,
                name: name.into(),
            });
        }
        let current = self.node(child)?.host[0].clone();
        if current == name {
            return Ok(());
        }
        if self.entry_names(parent)?.iter().any(|n| n == name) {
            return Err(RegistryError::NameClash {
                owner,
                name: name.into(),
                child: self.node(child)?.name.clone(),
            });
        }
        self.node_mut(child)?.host[0] = name.into();
        // Aliases that named the old entry follow the rename.
        for b in &mut self.node_mut(parent)?.buffers {
            if b.aliases.as_deref() == Some(current.as_str()) {
                b.aliases = Some(name.into());
            }
            for c in &mut b.alias_candidates {
                if *c == current {
                    *c = name.into();
                }
            }
        }
        self.invalidate(parent);
        Ok(())
    }

    /// The names of the two entries hosting `child` in its parent: shared,
    /// then persistent.
    pub fn host_entries(&self, child: ComponentId) -> Result<[String; 2]> {
        Ok(self.node(child)?.host.clone())
    }

    /// The component's own name.
    pub fn name(&self, id: ComponentId) -> Result<&str> {
        Ok(&self.node(id)?.name)
    }

    /// The owner path from the root, e.g. `kernel/loop/step/newton`.
    pub fn path(&self, id: ComponentId) -> Result<String> {
        let mut parts = Vec::new();
        let mut cur = Some(id);
        while let Some(c) = cur {
            let node = self.node(c)?;
            parts.push(node.name.as_str());
            cur = node.parent;
        }
        parts.reverse();
        Ok(parts.join("/"))
    }

    /// The component's parent, `None` for a root.
    pub fn parent(&self, id: ComponentId) -> Result<Option<ComponentId>> {
        Ok(self.node(id)?.parent)
    }

    /// The component's children, in the order they were added.
    pub fn children(&self, id: ComponentId) -> Result<&[ComponentId]> {
        Ok(&self.node(id)?.children)
    }

    /// The root of the tree holding `id`.
    pub fn root(&self, id: ComponentId) -> Result<ComponentId> {
        let mut cur = id;
        while let Some(p) = self.node(cur)?.parent {
            cur = p;
        }
        Ok(cur)
    }

    /// Every root, in the order they were added.
    pub fn roots(&self) -> Vec<ComponentId> {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.as_ref().is_some_and(|n| n.parent.is_none()))
            .map(|(i, _)| ComponentId(i))
            .collect()
    }

    /// The component at owner path `path` (`kernel/loop/step`), if any.
    pub fn find(&self, path: &str) -> Option<ComponentId> {
        let mut parts = path.split('/');
        let first = parts.next()?;
        let mut cur = self
            .roots()
            .into_iter()
            .find(|&r| self.name(r).is_ok_and(|n| n == first))?;
        for part in parts {
            cur = *self
                .children(cur)
                .ok()?
                .iter()
                .find(|&&c| self.name(c).is_ok_and(|n| n == part))?;
        }
        Some(cur)
    }

    /// `id` and its descendants, depth first, parents before children.
    pub fn subtree(&self, id: ComponentId) -> Result<Vec<ComponentId>> {
        let mut out = Vec::new();
        let mut stack = vec![id];
        while let Some(c) = stack.pop() {
            out.push(c);
            stack.extend(self.node(c)?.children.iter().rev());
        }
        Ok(out)
    }

    /// Drops the cached layouts of `id` and its ancestors (their host
    /// entries are sized from `id`'s totals).
    fn invalidate(&mut self, id: ComponentId) {
        let mut cur = Some(id);
        while let Some(c) = cur {
            match self.nodes.get_mut(c.0).and_then(Option::as_mut) {
                Some(node) => {
                    node.layout.take();
                    cur = node.parent;
                }
                None => break,
            }
        }
    }

    // ----- registration -----

    /// Registers a buffer with `owner`, replacing (in place) any buffer of
    /// the same name.
    pub fn register(&mut self, owner: ComponentId, spec: BufferSpec) -> Result<()> {
        let path = self.path(owner)?;
        let node = self.node(owner)?;
        let name = spec.name.clone();
        if name.is_empty() {
            return Err(RegistryError::EmptyName { owner: path });
        }
        if !is_identifier(&name) {
            return Err(RegistryError::InvalidName { owner: path, name });
        }
        if RESERVED.contains(&name.as_str()) {
            return Err(RegistryError::ReservedName { owner: path, name });
        }
        for &c in &node.children {
            let child = self.node(c)?;
            if child.host.contains(&name) {
                return Err(RegistryError::NameClash {
                    owner: path,
                    name,
                    child: child.name.clone(),
                });
            }
        }
        let element = spec.element.unwrap_or(self.precision.into());
        let mut spec = spec;
        if spec.aliases.is_some() {
            spec.alias_candidates.clear();
        }
        if element.is_integer() && (spec.aliases.is_some() || !spec.alias_candidates.is_empty()) {
            return Err(RegistryError::IntegerPlacement {
                owner: path,
                name,
                element,
                region: Region::of(spec.location, spec.persistent),
                alias: true,
            });
        }
        for target in spec.aliases.iter().chain(&spec.alias_candidates) {
            self.check_alias_target(owner, &name, target, element)?;
        }
        // Buffers already aliasing this name must keep matching it.
        let node = self.node(owner)?;
        if let Some(a) = node
            .buffers
            .iter()
            .find(|b| b.alias_targets().any(|t| t == name) && b.element != element)
        {
            return Err(alias_mismatch(path, &a.name, a.element, &name, element));
        }
        self.check_region_element(owner, &name, element, spec.location, spec.persistent)?;
        self.store(owner, spec, element)
    }

    /// A buffer whose element type is not the registry's may only be a
    /// plain local array: the shared and persistent regions are laid out in
    /// elements of the registry's precision (so their offsets, the CUDA
    /// pointers into them and the report's byte counts are exact).
    fn check_region_element(
        &self,
        owner: ComponentId,
        name: &str,
        element: ElementType,
        location: Location,
        persistent: bool,
    ) -> Result<()> {
        let region = Region::of(location, persistent);
        if element == self.precision.into() || region == Region::Local {
            return Ok(());
        }
        Err(match element.precision() {
            Some(precision) => RegistryError::MixedPrecisionRegion {
                owner: self.path(owner)?,
                name: name.into(),
                precision,
                region,
                region_precision: self.precision,
            },
            None => RegistryError::IntegerPlacement {
                owner: self.path(owner)?,
                name: name.into(),
                element,
                region,
                alias: false,
            },
        })
    }

    /// Checks that buffer `name` (of `element`) may alias `target`: a
    /// registered buffer or child host entry of `owner`, not itself, of the
    /// same element type, and not closing a loop of aliases.
    fn check_alias_target(
        &self,
        owner: ComponentId,
        name: &str,
        target: &str,
        element: ElementType,
    ) -> Result<()> {
        let path = self.path(owner)?;
        let node = self.node(owner)?;
        if target == name {
            return Err(RegistryError::SelfAlias {
                owner: path,
                name: name.into(),
            });
        }
        // A child's host entry may be the target too: it has the
        // registry's precision and aliases nothing.
        let hosts = self.entry_names(owner)?.split_off(node.buffers.len());
        let Some(t) = node.buffers.iter().find(|b| b.name == target) else {
            if hosts.iter().any(|h| h == target) {
                if element != self.precision.into() {
                    return Err(alias_mismatch(
                        path,
                        name,
                        element,
                        target,
                        self.precision.into(),
                    ));
                }
                return Ok(());
            }
            return Err(RegistryError::UnknownAliasTarget {
                owner: path,
                name: name.into(),
                target: target.into(),
                registered: sorted(node.buffers.iter().map(|b| b.name.clone()).chain(hosts)),
            });
        };
        if t.element != element {
            return Err(alias_mismatch(path, name, element, target, t.element));
        }
        // Only a re-registration can close a loop: search every chain of
        // targets from `target` for `name`.
        let mut stack = vec![vec![name.to_string(), target.to_string()]];
        while let Some(chain) = stack.pop() {
            let last = chain.last().map_or("", String::as_str);
            let Some(b) = node.buffers.iter().find(|b| b.name == last) else {
                continue;
            };
            for next in b.alias_targets() {
                let mut longer = chain.clone();
                longer.push(next.to_string());
                if next == name {
                    return Err(RegistryError::AliasCycle {
                        owner: path,
                        cycle: longer,
                    });
                }
                if !chain.iter().any(|c| c == next) {
                    stack.push(longer);
                }
            }
        }
        Ok(())
    }

    /// Stores a checked registration, replacing a buffer of the same name.
    fn store(&mut self, owner: ComponentId, spec: BufferSpec, element: ElementType) -> Result<()> {
        let buffer = Buffer {
            name: spec.name,
            size: spec.size,
            location: spec.location,
            persistent: spec.persistent,
            aliases: spec.aliases,
            alias_candidates: spec.alias_candidates,
            element,
        };
        let node = self.node_mut(owner)?;
        match node.buffers.iter_mut().find(|b| b.name == buffer.name) {
            Some(old) => *old = buffer,
            None => node.buffers.push(buffer),
        }
        self.invalidate(owner);
        Ok(())
    }

    fn buffer_mut(&mut self, owner: ComponentId, name: &str) -> Result<&mut Buffer> {
        let valid = self.buffer_names(owner)?;
        let path = self.path(owner)?;
        self.node_mut(owner)?
            .buffers
            .iter_mut()
            .find(|b| b.name == name)
            .ok_or_else(|| RegistryError::UnknownBuffer {
                owner: path,
                name: name.into(),
                valid,
            })
    }

    /// Changes a registered buffer's size.
    pub fn set_size(&mut self, owner: ComponentId, name: &str, size: usize) -> Result<()> {
        self.buffer_mut(owner, name)?.size = size;
        self.invalidate(owner);
        Ok(())
    }

    /// Moves a registered buffer.
    pub fn set_location(
        &mut self,
        owner: ComponentId,
        name: &str,
        location: Location,
    ) -> Result<()> {
        let b = self.buffer(owner, name)?;
        self.check_region_element(owner, name, b.element, location, b.persistent)?;
        self.buffer_mut(owner, name)?.location = location;
        self.invalidate(owner);
        Ok(())
    }

    /// Changes a registered buffer's persistence.
    pub fn set_persistent(
        &mut self,
        owner: ComponentId,
        name: &str,
        persistent: bool,
    ) -> Result<()> {
        let b = self.buffer(owner, name)?;
        self.check_region_element(owner, name, b.element, b.location, persistent)?;
        self.buffer_mut(owner, name)?.persistent = persistent;
        self.invalidate(owner);
        Ok(())
    }

    /// The location settings `owner` accepts: `<buffer>_location` for each
    /// of its own buffers of real elements, sorted. Integer buffers have no
    /// setting: they are always plain local arrays.
    pub fn location_settings(&self, owner: ComponentId) -> Result<Vec<String>> {
        Ok(sorted(
            self.node(owner)?
                .buffers
                .iter()
                .filter(|b| !b.element.is_integer())
                .map(|b| location_key(&b.name)),
        ))
    }

    /// Applies user settings `<buffer>_location = shared | local` to
    /// `owner`'s buffers. All are checked before any is applied: an unknown
    /// key or a bad value changes nothing.
    pub fn apply_locations<I, K, V>(&mut self, owner: ComponentId, settings: I) -> Result<()>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let node = self.node(owner)?;
        let mut changes = Vec::new();
        for (key, value) in settings {
            let (key, value) = (key.as_ref(), value.as_ref());
            let index = buffer_of_key(key)
                .and_then(|n| node.buffers.iter().position(|b| b.name == n))
                .ok_or_else(|| RegistryError::UnknownLocationSetting {
                    owner: self.path(owner).unwrap_or_default(),
                    key: key.into(),
                    valid: self.location_settings(owner).unwrap_or_default(),
                })?;
            let location =
                value
                    .parse::<Location>()
                    .map_err(|_| RegistryError::InvalidLocation {
                        owner: self.path(owner).unwrap_or_default(),
                        key: key.into(),
                        value: value.into(),
                    })?;
            let b = &node.buffers[index];
            self.check_region_element(owner, &b.name, b.element, location, b.persistent)?;
            changes.push((index, location));
        }
        if changes.is_empty() {
            return Ok(());
        }
        let node = self.node_mut(owner)?;
        for (index, location) in changes {
            node.buffers[index].location = location;
        }
        self.invalidate(owner);
        Ok(())
    }

    /// Clears the registrations of `id` and of every descendant; the
    /// components themselves stay.
    pub fn clear(&mut self, id: ComponentId) -> Result<()> {
        for c in self.subtree(id)? {
            self.node_mut(c)?.buffers.clear();
            self.invalidate(c);
        }
        Ok(())
    }

    /// Clears `id`'s own registrations and keeps its children's.
    pub fn clear_own(&mut self, id: ComponentId) -> Result<()> {
        self.node_mut(id)?.buffers.clear();
        self.invalidate(id);
        Ok(())
    }

    // ----- queries -----

    /// A registered buffer of `owner`.
    pub fn buffer(&self, owner: ComponentId, name: &str) -> Result<&Buffer> {
        self.node(owner)?
            .buffers
            .iter()
            .find(|b| b.name == name)
            .ok_or_else(|| RegistryError::UnknownBuffer {
                owner: self.path(owner).unwrap_or_default(),
                name: name.into(),
                valid: self.buffer_names(owner).unwrap_or_default(),
            })
    }

    /// `owner`'s own buffers, in registration order.
    pub fn buffers(&self, owner: ComponentId) -> Result<&[Buffer]> {
        Ok(&self.node(owner)?.buffers)
    }

    /// Where a registered buffer is asked to live (after settings).
    pub fn location(&self, owner: ComponentId, name: &str) -> Result<Location> {
        Ok(self.buffer(owner, name)?.location)
    }

    /// The first of `candidates` that is registered with `owner` and shared:
    /// how a component picks an alias target that depends on where other
    /// buffers ended up.
    pub fn first_shared<'a>(
        &self,
        owner: ComponentId,
        candidates: &[&'a str],
    ) -> Result<Option<&'a str>> {
        let node = self.node(owner)?;
        Ok(candidates.iter().copied().find(|c| {
            node.buffers
                .iter()
                .any(|b| b.name == *c && b.location == Location::Shared)
        }))
    }

    /// Names of every entry of `owner`'s layout (own buffers, then the host
    /// entries of its children), sorted.
    fn buffer_names(&self, owner: ComponentId) -> Result<Vec<String>> {
        Ok(sorted(self.entry_names(owner)?))
    }

    /// Entry names in entry order: own buffers, then two per child.
    pub(crate) fn entry_names(&self, owner: ComponentId) -> Result<Vec<String>> {
        let node = self.node(owner)?;
        let mut names: Vec<String> = node.buffers.iter().map(|b| b.name.clone()).collect();
        for &c in &node.children {
            names.extend(self.node(c)?.host.iter().cloned());
        }
        Ok(names)
    }

    /// Index of entry `name` in `owner`'s layout, and its element type
    /// (host entries take the registry's precision).
    pub(crate) fn entry(&self, owner: ComponentId, name: &str) -> Result<(usize, ElementType)> {
        let names = self.entry_names(owner)?;
        let node = self.node(owner)?;
        match names.iter().position(|n| n == name) {
            Some(i) => Ok((
                i,
                node.buffers
                    .get(i)
                    .map_or(self.precision.into(), |b| b.element),
            )),
            None => Err(RegistryError::UnknownBuffer {
                owner: self.path(owner)?,
                name: name.into(),
                valid: sorted(names),
            }),
        }
    }

    /// The cached layout of `id`, computed (children first) if stale.
    pub(crate) fn component_layout(&self, id: ComponentId) -> Result<&ComponentLayout> {
        let node = self.node(id)?;
        if let Some(l) = node.layout.get() {
            return Ok(l);
        }
        // Alias targets are looked up among every entry: own buffers and
        // the host entries of children.
        let names = self.entry_names(id)?;
        let own = node.buffers.len();
        // The region an entry gets unaliased: a child's shared host entry
        // is shared, its persistent one persistent.
        let region_of = |i: usize| match node.buffers.get(i) {
            Some(b) => Region::of(b.location, b.persistent),
            None if (i - own).is_multiple_of(2) => Region::Shared,
            None => Region::Persistent,
        };
        let mut entries: Vec<Entry> = node
            .buffers
            .iter()
            .map(|b| {
                let position = |t: &String| names.iter().position(|x| x == t);
                let alias = match &b.aliases {
                    Some(t) => position(t),
                    // The first candidate that ends up shared, if any.
                    None => b
                        .alias_candidates
                        .iter()
                        .filter_map(position)
                        .find(|&i| region_of(i) == Region::Shared),
                };
                Entry {
                    name: b.name.clone(),
                    size: b.size,
                    region: Region::of(b.location, b.persistent),
                    alias,
                    integer: b.element.is_integer(),
                }
            })
            .collect();
        for &c in &node.children {
            let child = self.component_layout(c)?;
            let [shared, persistent] = self.node(c)?.host.clone();
            entries.push(Entry {
                name: shared,
                size: child.shared,
                region: Region::Shared,
                alias: None,
                integer: false,
            });
            entries.push(Entry {
                name: persistent,
                size: child.persistent,
                region: Region::Persistent,
                alias: None,
                integer: false,
            });
        }
        let computed = layout::compute(&entries);
        Ok(node.layout.get_or_init(|| computed))
    }

    /// Elements of `id`'s shared region (its own buffers and its children's
    /// whole shared needs).
    pub fn shared_elements(&self, id: ComponentId) -> Result<usize> {
        Ok(self.component_layout(id)?.shared)
    }

    /// Elements of `id`'s persistent-local region (children included).
    pub fn persistent_elements(&self, id: ComponentId) -> Result<usize> {
        Ok(self.component_layout(id)?.persistent)
    }

    /// Elements of `id`'s own local arrays (each `max(n, 1)`); children
    /// declare their own.
    pub fn local_elements(&self, id: ComponentId) -> Result<usize> {
        Ok(self.component_layout(id)?.local)
    }

    /// Elements of the local arrays of `id` and all its descendants.
    pub fn subtree_local_elements(&self, id: ComponentId) -> Result<usize> {
        self.subtree(id)?
            .into_iter()
            .map(|c| self.local_elements(c))
            .sum()
    }

    /// Elements of `id`'s own integer local arrays (each `max(n, 1)`),
    /// counted apart from [`local_elements`](Self::local_elements).
    pub fn integer_elements(&self, id: ComponentId) -> Result<usize> {
        Ok(self.component_layout(id)?.integer)
    }

    /// Elements of the integer local arrays of `id` and all its
    /// descendants.
    pub fn subtree_integer_elements(&self, id: ComponentId) -> Result<usize> {
        self.subtree(id)?
            .into_iter()
            .map(|c| self.integer_elements(c))
            .sum()
    }

    /// Where entry `name` (a buffer or a `<child>_shared` /
    /// `<child>_persistent` host entry) lies within `owner`'s regions.
    pub fn placement(&self, owner: ComponentId, name: &str) -> Result<Placement> {
        let (i, _) = self.entry(owner, name)?;
        Ok(self.component_layout(owner)?.placements[i].clone())
    }

    /// `owner`'s whole layout: every entry with its placement, own buffers
    /// in registration order, then the host entries of its children.
    pub fn layout(&self, owner: ComponentId) -> Result<Vec<(String, Placement)>> {
        let names = self.entry_names(owner)?;
        let layout = self.component_layout(owner)?;
        Ok(names.into_iter().zip(layout.placements.clone()).collect())
    }
}

/// An alias whose element type differs from its target's: the precision
/// error for two reals, the integer error otherwise.
fn alias_mismatch(
    owner: String,
    name: &str,
    element: ElementType,
    target: &str,
    target_element: ElementType,
) -> RegistryError {
    match (element.precision(), target_element.precision()) {
        (Some(precision), Some(target_precision)) => RegistryError::AliasPrecisionMismatch {
            owner,
            name: name.into(),
            precision,
            target: target.into(),
            target_precision,
        },
        (None, _) => RegistryError::IntegerPlacement {
            owner,
            name: name.into(),
            element,
            region: Region::Local,
            alias: true,
        },
        (Some(_), None) => RegistryError::IntegerPlacement {
            owner,
            name: target.into(),
            element: target_element,
            region: Region::Local,
            alias: true,
        },
    }
}

fn sorted(names: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = names.into_iter().collect();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg() -> (BufferRegistry, ComponentId) {
        let mut r = BufferRegistry::new(Precision::F64);
        let k = r.add_component("kernel", None).expect("root");
        (r, k)
    }

    #[test]
    fn registration_errors_are_typed() {
        let (mut r, k) = reg();
        assert_eq!(
            r.register(k, BufferSpec::shared("", 1)),
            Err(RegistryError::EmptyName {
                owner: "kernel".into()
            })
        );
        assert!(matches!(
            r.register(k, BufferSpec::shared("a", 1).aliasing("a")),
            Err(RegistryError::SelfAlias { .. })
        ));
        r.register(k, BufferSpec::shared("b", 1)).expect("b");
        assert_eq!(
            r.register(k, BufferSpec::shared("a", 1).aliasing("zz")),
            Err(RegistryError::UnknownAliasTarget {
                owner: "kernel".into(),
                name: "a".into(),
                target: "zz".into(),
                registered: vec!["b".into()],
            })
        );
        assert!(matches!(
            r.register(
                k,
                BufferSpec::shared("a", 1)
                    .aliasing("b")
                    .precision(Precision::F32)
            ),
            Err(RegistryError::AliasPrecisionMismatch { .. })
        ));
        assert!(matches!(
            r.register(k, BufferSpec::local("shared", 1)),
            Err(RegistryError::ReservedName { .. })
        ));
        assert!(matches!(
            r.register(k, BufferSpec::local("a-b", 1)),
            Err(RegistryError::InvalidName { .. })
        ));
    }

    #[test]
    fn cycles_and_orphaned_precisions_are_refused() {
        let (mut r, k) = reg();
        r.register(k, BufferSpec::shared("a", 2)).expect("a");
        r.register(k, BufferSpec::shared("b", 1).aliasing("a"))
            .expect("b");
        assert_eq!(
            r.register(k, BufferSpec::shared("a", 2).aliasing("b")),
            Err(RegistryError::AliasCycle {
                owner: "kernel".into(),
                cycle: vec!["a".into(), "b".into(), "a".into()],
            })
        );
        assert!(matches!(
            r.register(k, BufferSpec::shared("a", 2).precision(Precision::F32)),
            Err(RegistryError::AliasPrecisionMismatch { .. })
        ));
    }

    #[test]
    fn re_registering_replaces_in_place() {
        let (mut r, k) = reg();
        r.register(k, BufferSpec::shared("a", 2)).expect("a");
        r.register(k, BufferSpec::shared("b", 3)).expect("b");
        assert_eq!(r.shared_elements(k), Ok(5));
        r.register(k, BufferSpec::shared("a", 4)).expect("a again");
        assert_eq!(r.shared_elements(k), Ok(7));
        assert_eq!(r.placement(k, "b").map(|p| p.offset), Ok(4));
        r.set_size(k, "b", 1).expect("size");
        r.set_location(k, "a", Location::Local).expect("loc");
        assert_eq!((r.shared_elements(k), r.local_elements(k)), (Ok(1), Ok(4)));
        r.set_persistent(k, "a", true).expect("persistent");
        assert_eq!(
            (r.persistent_elements(k), r.local_elements(k)),
            (Ok(4), Ok(0))
        );
    }

    #[test]
    fn tree_paths_and_duplicates() {
        let (mut r, k) = reg();
        let l = r.add_component("loop", Some(k)).expect("loop");
        let s = r.add_component("step", Some(l)).expect("step");
        assert_eq!(r.path(s).as_deref(), Ok("kernel/loop/step"));
        assert_eq!(r.find("kernel/loop/step"), Some(s));
        assert_eq!(r.root(s), Ok(k));
        assert!(matches!(
            r.add_component("step", Some(l)),
            Err(RegistryError::DuplicateComponent { .. })
        ));
        assert!(matches!(
            r.register(l, BufferSpec::shared("step_shared", 1)),
            Err(RegistryError::NameClash { .. })
        ));
        r.remove_component(l).expect("remove");
        assert_eq!(r.path(s), Err(RegistryError::UnknownComponent(s.index())));
        assert_eq!(r.children(k).map(<[_]>::len), Ok(0));
    }

    #[test]
    fn clear_own_keeps_children_and_clear_takes_subtree() {
        let (mut r, k) = reg();
        let c = r.add_component("child", Some(k)).expect("child");
        r.register(k, BufferSpec::shared("a", 2)).expect("a");
        r.register(c, BufferSpec::shared("b", 3)).expect("b");
        assert_eq!(r.shared_elements(k), Ok(5));
        r.clear_own(k).expect("clear own");
        assert_eq!(r.shared_elements(k), Ok(3));
        r.clear(k).expect("clear");
        assert_eq!(r.shared_elements(k), Ok(0));
        assert_eq!(r.buffers(c).map(<[_]>::len), Ok(0));
    }

    #[test]
    fn a_renamed_host_entry_can_be_aliased_and_falls_back_when_empty() {
        let (mut r, k) = reg();
        let step = r.add_component("step", Some(k)).expect("step");
        let newton = r.add_component("newton", Some(step)).expect("newton");
        r.register(newton, BufferSpec::shared("delta", 4))
            .expect("delta");
        r.register(step, BufferSpec::shared("own", 2)).expect("own");
        // Not yet renamed: the alias target is unknown.
        assert!(matches!(
            r.register(
                step,
                BufferSpec::local("cache", 3)
                    .persistent()
                    .aliasing("solver_scratch")
            ),
            Err(RegistryError::UnknownAliasTarget { .. })
        ));
        r.host_shared_as(newton, "solver_scratch").expect("rename");
        assert_eq!(
            r.host_entries(newton).expect("hosts"),
            [
                "solver_scratch".to_string(),
                "newton_persistent".to_string()
            ]
        );
        r.register(
            step,
            BufferSpec::local("cache", 3)
                .persistent()
                .aliasing("solver_scratch"),
        )
        .expect("cache");
        let p = r.placement(step, "cache").expect("placement");
        assert_eq!(p.region, Region::Shared);
        assert_eq!(
            p.offset,
            r.placement(step, "solver_scratch").expect("host").offset
        );
        assert_eq!(r.persistent_elements(step), Ok(0));
        assert_eq!(r.shared_elements(step), Ok(6));
        // The arena view of the cache is the solver's first elements.
        assert_eq!(
            r.arena_range(step, "cache").expect("range").start,
            r.arena_range(newton, "delta").expect("delta").start
        );
        // Newton's scratch moved out of shared memory: the cache falls back.
        r.set_location(newton, "delta", Location::Local)
            .expect("local");
        let p = r.placement(step, "cache").expect("placement");
        assert!(p.aliasing.fell_back());
        assert_eq!(p.region, Region::Persistent);
        assert_eq!(r.persistent_elements(step), Ok(3));
        // Name clashes are refused.
        assert!(matches!(
            r.host_shared_as(newton, "own"),
            Err(RegistryError::NameClash { .. })
        ));
        assert!(matches!(
            r.register(step, BufferSpec::shared("solver_scratch", 1)),
            Err(RegistryError::NameClash { .. })
        ));
        assert!(matches!(
            r.register(
                step,
                BufferSpec::local("c32", 1)
                    .precision(Precision::F32)
                    .aliasing("solver_scratch")
            ),
            Err(RegistryError::AliasPrecisionMismatch { .. })
        ));
    }
}
