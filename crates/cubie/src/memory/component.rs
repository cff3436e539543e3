//! The one shape every registry component has: built from a spec, it adds
//! its own node under its parent and registers its buffers and children.

use super::{BufferRegistry, ComponentId, RegistryError};

/// A component of the owner tree (loop, step, controller, outputs, Newton,
/// linear solver). One shape for all, so a tree is assembled the same way
/// whatever the component and whatever backend resolves it later.
pub trait Component: Sized {
    /// The component's name in the owner tree.
    const NAME: &'static str;
    /// What it is built from (sizes, settings), one struct per component.
    type Spec<'a>;
    /// Why registration fails; registry errors are among its causes.
    type Error: From<RegistryError>;

    /// Adds the component's node under `parent` (or as a root), registers
    /// its buffers and its children.
    fn register(
        registry: &mut BufferRegistry,
        parent: Option<ComponentId>,
        spec: Self::Spec<'_>,
    ) -> Result<Self, Self::Error>;

    /// Its node in the registry.
    fn id(&self) -> ComponentId;
}
