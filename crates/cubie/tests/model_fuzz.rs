//! Arbitrary equation text and model files give errors, never panics.

use cubie::system::Model;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_equations_never_panic(src in "[dxyzpt0-9.eE+*/^()<>=!,# \\n_a-z-]{0,60}") {
        let result = Model::builder(src).states([("x", 1.0), ("y", 0.0)]).parameter("p", 1.0).build();
        if let Err(e) = result {
            prop_assert!(!e.render().is_empty());
        }
    }

    #[test]
    fn arbitrary_files_never_panic(src in "(name|equations|\\[states\\]|x|=|\"|'|1|\\n| |dx|#|é)*") {
        let _ = Model::from_toml_str(&src, "fuzz.toml").map_err(|e| e.render());
    }
}
