//! The CUDA allocator: the line of C that declares each buffer inside its
//! component's device function, relative to that component's own region
//! pointers `shared` and `persistent`.

use super::element::ElementType;
use super::error::RegistryError;
use super::layout::{Aliasing, Placement};
use super::locations::Region;
use super::registry::{BufferRegistry, ComponentId};

/// The declaration of one placed buffer.
fn declaration(name: &str, element: ElementType, placement: &Placement) -> String {
    let t = element.c_type();
    match (&placement.aliasing, placement.region) {
        // An overlay points into its parent's slice, declared before it.
        (Aliasing::Overlaid { parent, offset }, _) => format!("{t}* {name} = {parent} + {offset};"),
        (_, Region::Shared) => format!("{t}* {name} = shared + {};", placement.offset),
        (_, Region::Persistent) => format!("{t}* {name} = persistent + {};", placement.offset),
        // Zeroed, as the CPU arena is at the start of a run.
        (_, Region::Local) => format!("{t} {name}[{}] = {{}};", placement.extent()),
    }
}

impl BufferRegistry {
    /// The C line declaring entry `name` of `owner`, e.g.
    /// `double* stage_rhs = shared + 12;` or `float stage_rhs[3] = {};`.
    /// A `<child>_shared` / `<child>_persistent` host entry gives the
    /// pointers to pass to the child's device function.
    pub fn cuda_declaration(
        &self,
        owner: ComponentId,
        name: &str,
    ) -> Result<String, RegistryError> {
        let (_, element) = self.entry(owner, name)?;
        Ok(declaration(name, element, &self.placement(owner, name)?))
    }

    /// Every declaration of `owner`, in an order where each alias parent
    /// comes before its aliases.
    pub fn cuda_declarations(&self, owner: ComponentId) -> Result<Vec<String>, RegistryError> {
        let names = self.entry_names(owner)?;
        let layout = self.component_layout(owner)?;
        layout
            .order
            .iter()
            .map(|&i| {
                let name = names.get(i).map_or("", String::as_str);
                let (_, element) = self.entry(owner, name)?;
                Ok(declaration(name, element, &layout.placements[i]))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::BufferSpec;
    use crate::precision::Precision;

    #[test]
    fn declarations_follow_region_and_precision() {
        let mut r = BufferRegistry::new(Precision::F64);
        let k = r.add_component("step", None).expect("root");
        r.register(k, BufferSpec::shared("pad", 12)).expect("pad");
        r.register(k, BufferSpec::shared("stage_rhs", 3))
            .expect("rhs");
        r.register(k, BufferSpec::local("tmp", 0).precision(Precision::F32))
            .expect("tmp");
        assert_eq!(
            r.cuda_declaration(k, "stage_rhs").as_deref(),
            Ok("double* stage_rhs = shared + 12;")
        );
        assert_eq!(
            r.cuda_declaration(k, "tmp").as_deref(),
            Ok("float tmp[1] = {};")
        );
        r.register(k, BufferSpec::local("accept", 1).element(ElementType::I32))
            .expect("flag");
        assert_eq!(
            r.cuda_declaration(k, "accept").as_deref(),
            Ok("int accept[1] = {};")
        );
    }
}
