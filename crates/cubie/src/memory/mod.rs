//! The buffer registry: every component's working memory, declared by name
//! and laid out in one place.
//!
//! ```
//! use cubie::Precision;
//! use cubie::memory::{BufferRegistry, BufferSpec};
//!
//! # fn main() -> Result<(), cubie::memory::RegistryError> {
//! let n = 3;
//! let mut reg = BufferRegistry::new(Precision::F64);
//! let kernel = reg.add_component("kernel", None)?;
//! let step = reg.add_component("step", Some(kernel))?;
//! let newton = reg.add_component("newton", Some(step))?;
//!
//! reg.register(step, BufferSpec::shared("solver_scratch", 2 * n))?;
//! reg.register(step, BufferSpec::local("increment_cache", n).persistent().aliasing("solver_scratch"))?;
//! reg.register(newton, BufferSpec::shared("delta", n))?;
//! reg.register(newton, BufferSpec::local("residual", n))?;
//!
//! // The kernel hosts the step, which hosts Newton: offsets compose.
//! assert_eq!(reg.shared_elements(kernel)?, 3 * n);
//! assert_eq!(reg.arena_range(newton, "delta")?, 2 * n..3 * n);
//! assert_eq!(reg.cuda_declaration(step, "increment_cache")?, "double* increment_cache = solver_scratch + 0;");
//!
//! // Resolve once at build time; the hot loop only slices the arena.
//! let delta = reg.cpu_allocator::<f64>(newton, "delta")?;
//! let arena = reg.new_arena::<f64>(kernel)?;
//! delta.view(&arena)[0].set(1.0);
//!
//! println!("{}", reg.report()?);
//! # Ok(())
//! # }
//! ```
//!
//! The registry is a plain value owned by the build of one kernel. Each
//! component is a node of an explicit tree ([`ComponentId`]); it registers
//! its buffers ([`BufferSpec`]) when built, and asks the registry, never its
//! own arithmetic, for its totals, each buffer's [`Placement`], a CPU
//! handle ([`CpuAllocator`]) or a CUDA declaration.
//!
//! # Layout, per component
//! 1. unaliased shared buffers: consecutive slices of its shared region, in
//!    registration order; then its children's `<child>_shared` entries;
//! 2. unaliased persistent (local) buffers: consecutive slices of its
//!    persistent region; then its children's `<child>_persistent` entries;
//! 3. unaliased plain local buffers: a local array each, `max(n, 1)`;
//! 4. aliases, in registration order: overlaid on the parent when the parent
//!    is shared and has room left after its earlier aliases, otherwise
//!    placed as if unaliased (after everything above).
//!
//! Layouts are cached per component; any change drops the cache of the
//! component and its ancestors, so totals roll up on the next query.
//!
//! # Choosing an alias target by location
//! A buffer whose best alias depends on where other buffers end up names
//! its candidates once ([`BufferSpec::aliasing_first_shared`]); the layout
//! overlays it on the first that is shared after every location setting,
//! so no component decides placement and the user's settings always hold:
//!
//! ```
//! # use cubie::{Precision, memory::*};
//! # fn main() -> Result<(), RegistryError> {
//! # let n = 4;
//! let mut reg = BufferRegistry::new(Precision::F64);
//! let erk = reg.add_component("erk", None)?;
//! reg.register(erk, BufferSpec::local("stage_rhs", n))?;
//! reg.register(erk, BufferSpec::shared("stage_accumulator", 3 * n))?;
//! reg.register(
//!     erk,
//!     BufferSpec::local("stage_cache", n)
//!         .persistent()
//!         .aliasing_first_shared(["stage_rhs", "stage_accumulator"]),
//! )?;
//! assert_eq!(reg.placement(erk, "stage_cache")?.aliasing.parent(), Some("stage_accumulator"));
//! reg.set_location(erk, "stage_rhs", Location::Shared)?;
//! assert_eq!(reg.placement(erk, "stage_cache")?.aliasing.parent(), Some("stage_rhs"));
//! # Ok(())
//! # }
//! ```
//!
//! [`BufferRegistry::first_shared`] answers the same question for a
//! caller that needs it outside the layout.
//!
//! # Element types
//! The shared and persistent regions hold elements of the registry's
//! precision only, so offsets, CUDA pointers and byte counts are exact; a
//! buffer of another precision may only be a plain local array (anything
//! else is [`RegistryError::MixedPrecisionRegion`]). Integer buffers
//! ([`ElementType::I32`], [`ElementType::I64`]: the loop's accept flag and
//! counters) are plain local arrays too, never aliased and without a
//! location setting; they are counted apart from the real elements and
//! live in an integer block of the CPU arena. The report gives each entry
//! its element type and the bytes of each region at their true sizes.
//!
//! ```
//! # use cubie::{Precision, memory::*};
//! # fn main() -> Result<(), RegistryError> {
//! let mut reg = BufferRegistry::new(Precision::F32);
//! let lp = reg.add_component("loop", None)?;
//! reg.register(lp, BufferSpec::local("dt", 1))?;
//! reg.register(lp, BufferSpec::local("counters", 3).element(ElementType::I64))?;
//! assert_eq!(reg.cuda_declaration(lp, "counters")?, "long long counters[3] = {};");
//! assert_eq!(reg.arena_layout(lp)?.integer, 3);
//! assert!(reg.set_location(lp, "counters", Location::Shared).is_err());
//! # Ok(())
//! # }
//! ```
//!
//! # Naming a child's host entry
//! A parent may give the entry hosting a child's shared memory a name of
//! its own ([`BufferRegistry::host_shared_as`]) and let its buffers alias
//! it like any of its own: a DIRK step calls its Newton solver's scratch
//! `solver_scratch` and overlays its persistent caches on it, so they cost
//! nothing while the solver's buffers are shared and fall back to
//! persistent-local slices when they are not.
//!
//! ```
//! # use cubie::{Precision, memory::*};
//! # fn main() -> Result<(), RegistryError> {
//! let mut reg = BufferRegistry::new(Precision::F64);
//! let step = reg.add_component("step", None)?;
//! let newton = reg.add_component("newton", Some(step))?;
//! reg.register(newton, BufferSpec::shared("delta", 3))?;
//! reg.host_shared_as(newton, "solver_scratch")?;
//! reg.register(step, BufferSpec::local("rhs_cache", 3).persistent().aliasing("solver_scratch"))?;
//! assert_eq!(reg.persistent_elements(step)?, 0);
//! reg.set_location(newton, "delta", Location::Local)?;
//! assert_eq!(reg.persistent_elements(step)?, 3);
//! # Ok(())
//! # }
//! ```

mod arena;
mod component;
mod cuda;
mod element;
mod error;
mod keys;
mod lanes;
mod layout;
mod locations;
mod registry;
mod report;

pub use arena::{ArenaLayout, CpuAllocator, RunArena};
pub use component::Component;
pub use element::ElementType;
pub use error::RegistryError;
pub use keys::{KeyMismatch, LocationKeys};
pub use lanes::{LANE_WIDTHS, LaneBuf, LaneMask, LaneView, MAX_LANES, PerLane};
pub use layout::{Aliasing, Placement};
pub(crate) use locations::buffer_of_key;
pub use locations::{Location, ParseLocationError, Region};
pub use registry::{Buffer, BufferRegistry, BufferSpec, ComponentId};
pub use report::{LayoutReport, ReportRow, RunTotals};
