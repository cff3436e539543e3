//! The registry's typed errors.

use thiserror::Error;

use super::element::ElementType;
use super::locations::Region;
use crate::precision::Precision;

/// Everything the buffer registry can refuse.
///
/// `owner` fields hold the owner's path (`kernel/loop/step`), so a message
/// says where the problem is without a debugger.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RegistryError {
    /// A component id that this registry never issued, or one whose
    /// component was removed.
    #[error("unknown component id {0}")]
    UnknownComponent(usize),

    /// A component name that is empty or not a C identifier (it becomes
    /// part of the parent's `<child>_shared` entry name).
    #[error("component name `{name}` is not a C identifier")]
    InvalidComponentName {
        /// The rejected name.
        name: String,
    },

    /// Two children of one parent (or two roots) with the same name.
    #[error("`{parent}` already has a component named `{name}`")]
    DuplicateComponent {
        /// The parent's path, or `<root>`.
        parent: String,
        /// The repeated name.
        name: String,
    },

    /// A buffer registered without a name.
    #[error("a buffer of `{owner}` has an empty name")]
    EmptyName {
        /// The owner's path.
        owner: String,
    },

    /// A buffer name that is not a C identifier.
    #[error("buffer name `{name}` of `{owner}` is not a C identifier")]
    InvalidName {
        /// The owner's path.
        owner: String,
        /// The rejected name.
        name: String,
    },

    /// `shared` and `persistent` name the region pointers in generated code.
    #[error("buffer name `{name}` of `{owner}` is reserved (it names a region pointer)")]
    ReservedName {
        /// The owner's path.
        owner: String,
        /// The rejected name.
        name: String,
    },

    /// A name that collides with the `<child>_shared` / `<child>_persistent`
    /// entries that host a child's memory.
    #[error("`{name}` in `{owner}` collides with the entry hosting child `{child}`")]
    NameClash {
        /// The owner's path.
        owner: String,
        /// The colliding name.
        name: String,
        /// The child whose host entry it collides with.
        child: String,
    },

    /// A buffer that names itself as its alias.
    #[error("buffer `{name}` of `{owner}` aliases itself")]
    SelfAlias {
        /// The owner's path.
        owner: String,
        /// The buffer.
        name: String,
    },

    /// An alias to a buffer the owner has not registered (yet).
    #[error(
        "buffer `{name}` of `{owner}` aliases `{target}`, which is not registered; registered: [{}]",
        registered.join(", ")
    )]
    UnknownAliasTarget {
        /// The owner's path.
        owner: String,
        /// The aliasing buffer.
        name: String,
        /// The missing alias target.
        target: String,
        /// The owner's registered buffer names, sorted.
        registered: Vec<String>,
    },

    /// An alias and its parent must hold the same element type.
    #[error(
        "buffer `{name}` ({precision}) of `{owner}` aliases `{target}` ({target_precision}): precisions differ"
    )]
    AliasPrecisionMismatch {
        /// The owner's path.
        owner: String,
        /// The aliasing buffer.
        name: String,
        /// Its precision.
        precision: Precision,
        /// The alias target.
        target: String,
        /// The target's precision.
        target_precision: Precision,
    },

    /// Re-registering a buffer so that aliases form a loop.
    #[error("aliases of `{owner}` form a cycle: {}", cycle.join(" -> "))]
    AliasCycle {
        /// The owner's path.
        owner: String,
        /// The buffers on the loop, first repeated at the end.
        cycle: Vec<String>,
    },

    /// A query or update of a buffer the owner does not have.
    #[error("`{owner}` has no buffer `{name}`; buffers: [{}]", valid.join(", "))]
    UnknownBuffer {
        /// The owner's path.
        owner: String,
        /// The missing name.
        name: String,
        /// The owner's buffer names (host entries included), sorted.
        valid: Vec<String>,
    },

    /// A location setting naming no buffer of the component.
    #[error("`{owner}` has no setting `{key}`; valid location settings: [{}]", valid.join(", "))]
    UnknownLocationSetting {
        /// The owner's path.
        owner: String,
        /// The rejected key.
        key: String,
        /// Every valid `<buffer>_location` key, sorted.
        valid: Vec<String>,
    },

    /// A location setting whose value is not `shared` or `local`.
    #[error("setting `{key}` of `{owner}` is `{value}`: expected `shared` or `local`")]
    InvalidLocation {
        /// The owner's path.
        owner: String,
        /// The setting's key.
        key: String,
        /// The rejected value.
        value: String,
    },

    /// A CPU handle asked for in another element type than the buffer's.
    #[error("buffer `{name}` of `{owner}` is {buffer}, not {requested}")]
    PrecisionMismatch {
        /// The owner's path.
        owner: String,
        /// The buffer.
        name: String,
        /// The buffer's precision.
        buffer: Precision,
        /// The precision asked for.
        requested: Precision,
    },

    /// A buffer whose element type differs from the registry's, placed in
    /// the shared or persistent region: those regions hold elements of one
    /// type (the registry's), so it may only be a plain local array.
    #[error(
        "buffer `{name}` ({precision}) of `{owner}` cannot live in the {region} region, \
         which holds {region_precision} elements; make it a plain local buffer"
    )]
    MixedPrecisionRegion {
        /// The owner's path.
        owner: String,
        /// The buffer.
        name: String,
        /// Its precision.
        precision: Precision,
        /// The region it would be placed in.
        region: Region,
        /// The registry's precision, the region's element type.
        region_precision: Precision,
    },

    /// An integer buffer (a flag or a counter) asked to live in the shared
    /// or persistent region, or to alias or be aliased: integers are plain
    /// local arrays, outside the regions of real elements.
    #[error(
        "buffer `{name}` ({element}) of `{owner}` {}: integer buffers are plain local arrays",
        if *alias { "cannot alias or be aliased".to_string() } else { format!("cannot live in the {region} region") }
    )]
    IntegerPlacement {
        /// The owner's path.
        owner: String,
        /// The integer buffer.
        name: String,
        /// Its element type.
        element: ElementType,
        /// The region it would be placed in.
        region: Region,
        /// The refusal is of an alias, not of a region.
        alias: bool,
    },

    /// A CPU handle asked for in another element type than the buffer's,
    /// where one of the two is an integer type.
    #[error("buffer `{name}` of `{owner}` holds {buffer} elements, not {requested}")]
    ElementMismatch {
        /// The owner's path.
        owner: String,
        /// The buffer.
        name: String,
        /// The buffer's element type.
        buffer: ElementType,
        /// The element type asked for.
        requested: ElementType,
    },

    /// Removing a component whose host entry a buffer of its parent
    /// aliases (or names as an alias candidate): the alias would dangle.
    #[error(
        "cannot remove `{component}`: its parent's buffers [{}] alias its entry `{target}`; \
         re-register them without that alias first",
        aliased_by.join(", ")
    )]
    AliasTargetInUse {
        /// The path of the component to be removed.
        component: String,
        /// The host entry they alias.
        target: String,
        /// The aliasing buffers, in registration order.
        aliased_by: Vec<String>,
    },
}
