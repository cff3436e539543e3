//! The registry's rules at its edges: alias candidates chosen from the
//! final locations (the user's settings win), removal of an alias target,
//! mixed precision, path-qualified location keys.

mod common;

use cubie::batch::{GridKind, Sweep};
use cubie::memory::{
    Aliasing, BufferRegistry, BufferSpec, LayoutReport, Location, Region, RegistryError,
};
use cubie::time_loop::LoopSettings;
use cubie::{Precision, Solver, SolverSettings};

type R<T> = Result<T, RegistryError>;

fn settings(algorithm: &str, named: &[&str]) -> SolverSettings {
    SolverSettings {
        algorithm: algorithm.parse().unwrap(),
        time: LoopSettings {
            duration: 0.2,
            ..LoopSettings::default()
        },
        named: named.iter().map(|s| s.to_string()).collect(),
        ..SolverSettings::default()
    }
}

fn row<'a>(plan: &'a LayoutReport, owner: &str, name: &str) -> &'a cubie::memory::ReportRow {
    plan.rows
        .iter()
        .find(|r| r.owner == owner && r.name == name)
        .unwrap_or_else(|| panic!("no row {owner}/{name} in\n{plan}"))
}

#[test]
fn the_users_stage_cache_location_survives_and_the_plan_shows_it() {
    let model = common::lorenz(Precision::F64);
    // Both candidate hosts local, the cache asked to be shared: it gets a
    // shared slice of its own.
    let named = [
        "stage_rhs_location=local",
        "stage_accumulator_location=local",
        "stage_cache_location=shared",
    ];
    let solver = Solver::new(&model, &settings("dormand-prince-54", &named)).expect("solver");
    let plan = solver.plan().expect("plan");
    let cache = row(&plan, "kernel/loop/step", "stage_cache");
    assert_eq!(cache.location, Region::Shared, "{plan}");
    assert_eq!(cache.alias, None);
    assert_eq!(cache.size, 3);

    // Only the accumulator shared: the cache overlays it (the first
    // candidate that ended up shared), whatever the cache itself asked; the
    // generic step is the one whose accumulator holds the stages.
    let named = [
        "stage_rhs_location=local",
        "stage_cache_location=local",
        "fused_steps=false",
    ];
    let solver = Solver::new(&model, &settings("dormand-prince-54", &named)).expect("solver");
    let plan = solver.plan().expect("plan");
    let cache = row(&plan, "kernel/loop/step", "stage_cache");
    assert_eq!(cache.alias.as_deref(), Some("stage_accumulator"), "{plan}");
    assert_eq!(cache.location, Region::Shared);
    assert!(!cache.fell_back);

    // The results do not depend on where the cache lives.
    let run = |named: &[&str]| {
        let s = Solver::new(&model, &settings("dormand-prince-54", named)).expect("solver");
        let runs = s
            .grid(&[Sweep::new("rho", vec![28.0])], GridKind::Combinatorial)
            .expect("runs");
        s.solve(&runs).expect("solve").final_state().to_vec()
    };
    assert_eq!(
        run(&[
            "stage_rhs_location=local",
            "stage_accumulator_location=local",
            "stage_cache_location=shared",
        ]),
        run(&[])
    );
}

#[test]
fn alias_candidates_follow_later_location_changes() -> R<()> {
    let mut reg = BufferRegistry::new(Precision::F64);
    let erk = reg.add_component("erk", None)?;
    reg.register(erk, BufferSpec::shared("stage_rhs", 4))?;
    reg.register(erk, BufferSpec::shared("stage_accumulator", 12))?;
    reg.register(
        erk,
        BufferSpec::local("stage_cache", 4)
            .persistent()
            .aliasing_first_shared(["stage_rhs", "stage_accumulator"]),
    )?;
    let parent = |reg: &BufferRegistry| -> R<Option<String>> {
        Ok(reg
            .placement(erk, "stage_cache")?
            .aliasing
            .parent()
            .map(str::to_string))
    };
    assert_eq!(parent(&reg)?.as_deref(), Some("stage_rhs"));
    reg.apply_locations(erk, [("stage_rhs_location", "local")])?;
    assert_eq!(parent(&reg)?.as_deref(), Some("stage_accumulator"));
    reg.apply_locations(erk, [("stage_accumulator_location", "local")])?;
    assert_eq!(parent(&reg)?, None);
    assert_eq!(
        reg.placement(erk, "stage_cache")?.region,
        Region::Persistent
    );
    // The cache's own location is never rewritten by the choice.
    reg.apply_locations(erk, [("stage_cache_location", "shared")])?;
    assert_eq!(reg.location(erk, "stage_cache")?, Location::Shared);
    assert_eq!(reg.placement(erk, "stage_cache")?.region, Region::Shared);
    // Unknown candidates are refused like unknown targets.
    assert!(matches!(
        reg.register(
            erk,
            BufferSpec::local("x", 1).aliasing_first_shared(["stage_rhs", "nope"])
        ),
        Err(RegistryError::UnknownAliasTarget { .. })
    ));
    Ok(())
}

#[test]
fn removing_an_alias_target_is_refused_and_nothing_dangles() -> R<()> {
    let mut reg = BufferRegistry::new(Precision::F64);
    let step = reg.add_component("step", None)?;
    let newton = reg.add_component("newton", Some(step))?;
    reg.register(newton, BufferSpec::shared("delta", 3))?;
    reg.host_shared_as(newton, "solver_scratch")?;
    let cache = BufferSpec::local("rhs_cache", 3)
        .persistent()
        .aliasing("solver_scratch");
    reg.register(step, cache.clone())?;
    let before = reg.report()?;

    // Removal path: refused with the aliasing buffer named; nothing changed.
    assert_eq!(
        reg.remove_component(newton),
        Err(RegistryError::AliasTargetInUse {
            component: "step/newton".into(),
            target: "solver_scratch".into(),
            aliased_by: vec!["rhs_cache".into()],
        })
    );
    assert_eq!(reg.report()?, before);
    // The identical registration is still accepted: the target is there.
    reg.register(step, cache.clone())?;
    assert_eq!(reg.report()?, before);

    // Candidates count as aliases too.
    reg.register(
        step,
        BufferSpec::local("rhs_cache", 3)
            .persistent()
            .aliasing_first_shared(["solver_scratch"]),
    )?;
    assert!(matches!(
        reg.remove_component(newton),
        Err(RegistryError::AliasTargetInUse { .. })
    ));

    // Re-registered without the alias, the child can go; an alias to it
    // is then refused as to any missing target, never shown as plain.
    reg.register(step, BufferSpec::local("rhs_cache", 3).persistent())?;
    reg.remove_component(newton)?;
    assert_eq!(reg.placement(step, "rhs_cache")?.aliasing, Aliasing::None);
    assert!(matches!(
        reg.register(step, cache),
        Err(RegistryError::UnknownAliasTarget { .. })
    ));
    Ok(())
}

#[test]
fn mixed_precision_is_refused_in_shared_and_persistent_regions() -> R<()> {
    let mut reg = BufferRegistry::new(Precision::F64);
    let step = reg.add_component("step", None)?;
    reg.register(step, BufferSpec::shared("a", 3))?;
    let refused = |r: R<()>, region: Region| {
        assert_eq!(
            r,
            Err(RegistryError::MixedPrecisionRegion {
                owner: "step".into(),
                name: "b".into(),
                precision: Precision::F32,
                region,
                region_precision: Precision::F64,
            })
        );
    };
    refused(
        reg.register(step, BufferSpec::shared("b", 2).precision(Precision::F32)),
        Region::Shared,
    );
    refused(
        reg.register(
            step,
            BufferSpec::local("b", 2)
                .persistent()
                .precision(Precision::F32),
        ),
        Region::Persistent,
    );
    // A plain local array of its own type is fine, and stays one.
    reg.register(step, BufferSpec::local("b", 2).precision(Precision::F32))?;
    refused(
        reg.set_location(step, "b", Location::Shared),
        Region::Shared,
    );
    refused(
        reg.apply_locations(step, [("b_location", "shared")]),
        Region::Shared,
    );
    refused(reg.set_persistent(step, "b", true), Region::Persistent);
    assert_eq!(reg.placement(step, "b")?.region, Region::Local);

    // Every pointer into a region has the region's type, so the byte
    // count of the report is exact.
    let decls = reg.cuda_declarations(step)?;
    assert_eq!(decls, ["double* a = shared + 0;", "float b[2] = {};"]);
    let report = reg.report()?;
    assert_eq!(report.totals[0].shared_bytes, 3 * 8);
    Ok(())
}

#[test]
fn location_keys_are_qualified_by_path_where_component_names_repeat() -> R<()> {
    use cubie::memory::KeyMismatch;
    let mut reg = BufferRegistry::new(Precision::F64);
    let kernel = reg.add_component("kernel", None)?;
    let step = reg.add_component("step", Some(kernel))?;
    let newton = reg.add_component("newton", Some(step))?;
    let inner = reg.add_component("linear_solver", Some(newton))?;
    let outer = reg.add_component("linear_solver", Some(step))?;
    reg.register(inner, BufferSpec::shared("x", 3))?;
    reg.register(outer, BufferSpec::shared("x", 3))?;
    reg.register(newton, BufferSpec::shared("delta", 3))?;
    let keys = reg.location_keys(kernel)?;
    assert_eq!(
        keys.shortest(),
        [
            "delta_location",
            "newton.linear_solver.x_location",
            "step.linear_solver.x_location",
        ]
    );
    // The bare key and the component-name form name both.
    for key in ["x_location", "linear_solver.x_location"] {
        assert_eq!(
            keys.resolve(key),
            Err(KeyMismatch::Ambiguous(vec![
                "newton.linear_solver.x_location".into(),
                "step.linear_solver.x_location".into(),
            ])),
            "{key}"
        );
    }
    assert_eq!(
        keys.resolve("newton.linear_solver.x_location"),
        Ok((inner, "x_location"))
    );
    assert_eq!(
        keys.resolve("kernel.step.linear_solver.x_location"),
        Ok((outer, "x_location"))
    );
    // Unambiguous short and component-name forms keep working.
    assert_eq!(
        keys.resolve("delta_location"),
        Ok((newton, "delta_location"))
    );
    assert_eq!(
        keys.resolve("newton.delta_location"),
        Ok((newton, "delta_location"))
    );
    assert_eq!(
        keys.resolve("step.delta_location"),
        Err(KeyMismatch::Unknown)
    );
    assert_eq!(keys.resolve("y_location"), Err(KeyMismatch::Unknown));
    let accepted = keys.accepted();
    assert!(accepted.contains(&"kernel.step.newton.linear_solver.x_location".into()));
    assert!(!accepted.contains(&"x_location".into()));
    assert!(!accepted.contains(&"linear_solver.x_location".into()));
    Ok(())
}

#[test]
fn a_solver_takes_path_qualified_location_keys() {
    let model = common::lorenz(Precision::F64);
    let named = [
        "newton.linear_solver.lu_matrix_location=local",
        "kernel.loop.step.error_filter.lu_matrix_location=shared",
    ];
    let solver = Solver::new(&model, &settings("radau_iia_5", &named)).expect("solver");
    let plan = solver.plan().expect("plan");
    assert_eq!(
        row(&plan, "kernel/loop/step/newton/linear_solver", "lu_matrix").location,
        Region::Local
    );
    assert_eq!(
        row(&plan, "kernel/loop/step/error_filter", "lu_matrix").location,
        Region::Shared
    );
    let keys = solver.location_settings();
    assert!(
        keys.contains(&"linear_solver.lu_matrix_location".to_string()),
        "{keys:?}"
    );
    // A qualifier that is not the end of any path names nothing.
    let err = Solver::new(
        &model,
        &settings(
            "radau_iia_5",
            &["step.linear_solver.lu_matrix_location=local"],
        ),
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(err.contains("unknown setting"), "{err}");
}
