//! The buffer registry through its public API: the DIRK and ERK alias
//! patterns, nested components, location settings, CPU views, CUDA
//! declarations and the report.

use cubie::Precision;
use cubie::memory::{
    Aliasing, BufferRegistry, BufferSpec, ComponentId, LayoutReport, Location, Placement, Region,
    RegistryError,
};

type R<T> = Result<T, RegistryError>;

fn overlaid(parent: &str, offset: usize) -> Aliasing {
    Aliasing::Overlaid {
        parent: parent.into(),
        offset,
    }
}

fn fell_back(parent: &str) -> Aliasing {
    Aliasing::FellBack {
        parent: parent.into(),
    }
}

/// A DIRK step's buffers: two persistent caches reusing the solver scratch.
fn dirk(reg: &mut BufferRegistry, step: ComponentId, n: usize) -> R<()> {
    reg.register(step, BufferSpec::shared("solver_scratch", 2 * n))?;
    reg.register(
        step,
        BufferSpec::local("increment_cache", n)
            .persistent()
            .aliasing("solver_scratch"),
    )?;
    reg.register(
        step,
        BufferSpec::local("rhs_cache", n)
            .persistent()
            .aliasing("solver_scratch"),
    )
}

#[test]
fn dirk_caches_overlay_shared_scratch_and_fall_back_when_local() -> R<()> {
    let n = 3;
    let mut reg = BufferRegistry::new(Precision::F64);
    let step = reg.add_component("dirk", None)?;
    dirk(&mut reg, step, n)?;

    let inc = reg.placement(step, "increment_cache")?;
    let rhs = reg.placement(step, "rhs_cache")?;
    assert_eq!((inc.region, inc.offset), (Region::Shared, 0));
    assert_eq!((rhs.region, rhs.offset), (Region::Shared, n));
    assert_eq!(inc.aliasing, overlaid("solver_scratch", 0));
    assert_eq!(rhs.aliasing, overlaid("solver_scratch", n));
    // The caches cost nothing.
    assert_eq!(reg.shared_elements(step)?, 2 * n);
    assert_eq!(reg.persistent_elements(step)?, 0);
    assert_eq!(reg.local_elements(step)?, 0);

    // A third alias no longer fits: own location (persistent).
    reg.register(
        step,
        BufferSpec::local("extra", 1)
            .persistent()
            .aliasing("solver_scratch"),
    )?;
    assert_eq!(
        reg.placement(step, "extra")?,
        Placement {
            region: Region::Persistent,
            offset: 0,
            size: 1,
            aliasing: fell_back("solver_scratch"),
        }
    );
    assert_eq!(reg.persistent_elements(step)?, 1);

    // Scratch moved local: every cache falls back to a persistent slice.
    reg.apply_locations(step, [("solver_scratch_location", "local")])?;
    let p = |name: &str| reg.placement(step, name);
    assert_eq!(p("solver_scratch")?.region, Region::Local);
    assert_eq!(
        p("increment_cache")?,
        Placement {
            region: Region::Persistent,
            offset: 0,
            size: n,
            aliasing: fell_back("solver_scratch"),
        }
    );
    assert_eq!(
        (p("rhs_cache")?.region, p("rhs_cache")?.offset),
        (Region::Persistent, n)
    );
    assert_eq!(
        (p("extra")?.region, p("extra")?.offset),
        (Region::Persistent, 2 * n)
    );
    assert_eq!(reg.shared_elements(step)?, 0);
    assert_eq!(reg.persistent_elements(step)?, 2 * n + 1);
    assert_eq!(reg.local_elements(step)?, 2 * n);
    Ok(())
}

/// An ERK step: `stage_cache` reuses `stage_rhs` if shared, else
/// `stage_accumulator` if shared, else is persistent-local of its own.
fn erk(rhs: Location, acc: Location) -> R<(BufferRegistry, ComponentId)> {
    let n = 4;
    let mut reg = BufferRegistry::new(Precision::F64);
    let step = reg.add_component("erk", None)?;
    reg.register(step, BufferSpec::new("stage_rhs", n, rhs))?;
    reg.register(step, BufferSpec::new("stage_accumulator", 3 * n, acc))?;
    let mut cache = BufferSpec::local("stage_cache", n).persistent();
    if let Some(target) = reg.first_shared(step, &["stage_rhs", "stage_accumulator"])? {
        cache = cache.aliasing(target);
    }
    reg.register(step, cache)?;
    Ok((reg, step))
}

#[test]
fn erk_stage_cache_picks_its_alias_from_the_registry() -> R<()> {
    use Location::{Local, Shared};

    let (reg, step) = erk(Shared, Shared)?;
    assert_eq!(
        reg.placement(step, "stage_cache")?.aliasing,
        overlaid("stage_rhs", 0)
    );
    assert_eq!(reg.placement(step, "stage_cache")?.offset, 0);
    assert_eq!(reg.persistent_elements(step)?, 0);

    let (reg, step) = erk(Local, Shared)?;
    assert_eq!(reg.location(step, "stage_rhs")?, Local);
    let cache = reg.placement(step, "stage_cache")?;
    assert_eq!(cache.aliasing, overlaid("stage_accumulator", 0));
    assert_eq!((cache.region, cache.offset), (Region::Shared, 0));
    assert_eq!(reg.shared_elements(step)?, 12);

    let (reg, step) = erk(Local, Local)?;
    let cache = reg.placement(step, "stage_cache")?;
    assert_eq!(cache.aliasing, Aliasing::None);
    assert_eq!((cache.region, cache.offset), (Region::Persistent, 0));
    assert_eq!(reg.persistent_elements(step)?, 4);
    assert_eq!(reg.local_elements(step)?, 16);
    Ok(())
}

/// kernel / loop / step / newton / linear, each with its own buffers.
fn chain() -> R<(BufferRegistry, [ComponentId; 5])> {
    let mut reg = BufferRegistry::new(Precision::F64);
    let kernel = reg.add_component("kernel", None)?;
    let lp = reg.add_component("loop", Some(kernel))?;
    let step = reg.add_component("step", Some(lp))?;
    let newton = reg.add_component("newton", Some(step))?;
    let linear = reg.add_component("linear", Some(newton))?;
    reg.register(kernel, BufferSpec::shared("k_a", 5))?;
    reg.register(lp, BufferSpec::shared("l_a", 4))?;
    reg.register(lp, BufferSpec::local("l_p", 2).persistent())?;
    reg.register(step, BufferSpec::shared("s_a", 3))?;
    reg.register(newton, BufferSpec::shared("n_a", 2))?;
    reg.register(newton, BufferSpec::local("n_p", 1).persistent())?;
    reg.register(newton, BufferSpec::local("n_l", 2))?;
    reg.register(linear, BufferSpec::shared("lin_a", 6))?;
    reg.register(linear, BufferSpec::local("lin_p", 2).persistent())?;
    reg.register(linear, BufferSpec::local("lin_l", 0))?;
    Ok((reg, [kernel, lp, step, newton, linear]))
}

#[test]
fn four_level_chain_composes_offsets_and_rolls_up_totals() -> R<()> {
    let (mut reg, ids @ [kernel, lp, step, newton, linear]) = chain()?;
    assert_eq!(reg.path(linear)?, "kernel/loop/step/newton/linear");

    let shared = |reg: &BufferRegistry| -> R<Vec<usize>> {
        ids.iter().map(|&c| reg.shared_elements(c)).collect()
    };
    assert_eq!(shared(&reg)?, vec![20, 15, 11, 8, 6]);
    let persistent: R<Vec<usize>> = ids.iter().map(|&c| reg.persistent_elements(c)).collect();
    assert_eq!(persistent?, vec![5, 5, 3, 3, 2]);

    // Host entries are visible in each parent's layout.
    assert_eq!(reg.placement(newton, "linear_shared")?.offset, 2);
    assert_eq!(reg.placement(newton, "linear_shared")?.size, 6);
    assert_eq!(reg.placement(step, "newton_shared")?.offset, 3);
    assert_eq!(reg.placement(lp, "step_persistent")?.offset, 2);
    let names: Vec<String> = reg.layout(kernel)?.into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["k_a", "loop_shared", "loop_persistent"]);

    // lin_a: 5 (loop in kernel) + 4 (step in loop) + 3 + 2 = 14.
    assert_eq!(reg.arena_range(linear, "lin_a")?, 14..20);
    // lin_p: after 20 shared, then 0 + 2 + 0 + 1 into the persistent region.
    assert_eq!(reg.arena_range(linear, "lin_p")?, 23..25);
    // Locals after 25: newton's n_l, then linear's one-element lin_l.
    assert_eq!(reg.arena_range(newton, "n_l")?, 25..27);
    assert_eq!(reg.arena_range(linear, "lin_l")?, 27..27);
    assert_eq!(reg.arena_layout(linear)?.total(), 28);

    // A grandchild grows: every ancestor grows with it.
    reg.set_size(linear, "lin_a", 10)?;
    assert_eq!(shared(&reg)?, vec![24, 19, 15, 12, 10]);
    // Re-registering it refreshes the host entries too.
    reg.register(linear, BufferSpec::shared("lin_a", 1))?;
    assert_eq!(shared(&reg)?, vec![15, 10, 6, 3, 1]);
    reg.clear(step)?;
    assert_eq!(shared(&reg)?, vec![9, 4, 0, 0, 0]);
    assert_eq!(reg.persistent_elements(kernel)?, 2);
    Ok(())
}

#[test]
fn location_settings_move_buffers_and_reject_unknowns() -> R<()> {
    let mut reg = BufferRegistry::new(Precision::F64);
    let step = reg.add_component("step", None)?;
    reg.register(step, BufferSpec::shared("stage_rhs", 4))?;
    reg.register(step, BufferSpec::local("delta", 3))?;
    let before = reg.report()?;

    reg.apply_locations(
        step,
        [
            ("stage_rhs_location", "local"),
            ("delta_location", "shared"),
        ],
    )?;
    assert_eq!(reg.shared_elements(step)?, 3);
    assert_eq!(reg.local_elements(step)?, 4);
    assert_eq!(reg.placement(step, "delta")?.region, Region::Shared);
    assert_ne!(reg.report()?, before);

    let err = reg.apply_locations(
        step,
        [("delta_location", "local"), ("rhs_location", "local")],
    );
    assert_eq!(
        err,
        Err(RegistryError::UnknownLocationSetting {
            owner: "step".into(),
            key: "rhs_location".into(),
            valid: vec!["delta_location".into(), "stage_rhs_location".into()],
        })
    );
    let msg = err.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        msg.contains("[delta_location, stage_rhs_location]"),
        "{msg}"
    );
    // Nothing was applied, not even the valid first setting.
    assert_eq!(reg.location(step, "delta")?, Location::Shared);

    assert_eq!(
        reg.apply_locations(step, [("delta_location", "global")]),
        Err(RegistryError::InvalidLocation {
            owner: "step".into(),
            key: "delta_location".into(),
            value: "global".into(),
        })
    );
    assert!(matches!(
        reg.apply_locations(step, [("delta", "local")]),
        Err(RegistryError::UnknownLocationSetting { .. })
    ));
    Ok(())
}

#[test]
fn aliased_views_overlap_and_nested_views_land_at_absolute_offsets() -> R<()> {
    let n = 3;
    let (mut reg, [kernel, _, step, _, linear]) = chain()?;
    dirk(&mut reg, step, n)?;

    let scratch = reg.cpu_allocator::<f64>(step, "solver_scratch")?;
    let inc = reg.cpu_allocator::<f64>(step, "increment_cache")?;
    let rhs = reg.cpu_allocator::<f64>(step, "rhs_cache")?;
    let lin = reg.cpu_allocator::<f64>(linear, "lin_a")?;
    let mut arena = reg.new_arena::<f64>(kernel)?;

    inc.view(&arena).set(1, 0, 7.0);
    rhs.view(&arena).set(0, 0, -2.0);
    assert_eq!(scratch.view(&arena).get(1, 0), 7.0);
    assert_eq!(scratch.view(&arena).get(n, 0), -2.0);
    // The step's shared region starts at 5 + 4; its scratch follows s_a (3).
    assert_eq!(scratch.offset(), 12);
    assert_eq!(rhs.offset(), 12 + n);

    // Newton sits after s_a (3) and the scratch (2n) within the step.
    assert_eq!(lin.offset(), 9 + 3 + 2 * n + 2);
    lin.view(&arena).set(0, 0, 4.5);
    assert_eq!(arena.cells()[lin.offset()].get(), 4.5);
    let values = arena.to_vec();
    assert_eq!(values.iter().filter(|&&v| v != 0.0).count(), 3);

    // The hot loop can hand a view to native code as a plain pointer.
    let ptr = scratch.view(&arena).cells().as_ptr() as *const f64;
    // SAFETY: the view is live and has 2n > 1 elements.
    assert_eq!(unsafe { *ptr.add(1) }, 7.0);

    arena.reset();
    assert!(arena.to_vec().iter().all(|&v| v == 0.0));

    // A block of lanes holds every element once per lane, lanes
    // innermost: the same buffer, four runs side by side.
    let block = cubie::memory::RunArena::<f64>::with_lanes(arena.layout(), 4);
    assert_eq!(block.len(), 4 * arena.len());
    let view = inc.view(&block);
    assert_eq!((view.len(), view.width()), (n, 4));
    view.set(1, 3, 7.0);
    assert_eq!(scratch.view(&block).get(1, 3), 7.0);
    assert_eq!(block.cells()[(inc.offset() + 1) * 4 + 3].get(), 7.0);
    Ok(())
}

#[test]
fn cuda_declarations_are_exact() -> R<()> {
    for (precision, t) in [(Precision::F64, "double"), (Precision::F32, "float")] {
        let mut reg = BufferRegistry::new(precision);
        let step = reg.add_component("step", None)?;
        let newton = reg.add_component("newton", Some(step))?;
        reg.register(step, BufferSpec::shared("scratch", 12))?;
        reg.register(step, BufferSpec::shared("stage_rhs", 5))?;
        reg.register(step, BufferSpec::local("stage_local", 3))?;
        reg.register(step, BufferSpec::local("empty", 0))?;
        reg.register(step, BufferSpec::local("pad", 4).persistent())?;
        reg.register(step, BufferSpec::local("cache", 2).persistent())?;
        reg.register(step, BufferSpec::local("inc", 2).aliasing("stage_rhs"))?;
        reg.register(step, BufferSpec::local("rhs2", 3).aliasing("stage_rhs"))?;
        reg.register(newton, BufferSpec::shared("delta", 2))?;

        let d = |name: &str| reg.cuda_declaration(step, name);
        assert_eq!(d("stage_rhs")?, format!("{t}* stage_rhs = shared + 12;"));
        assert_eq!(d("stage_local")?, format!("{t} stage_local[3] = {{}};"));
        assert_eq!(d("empty")?, format!("{t} empty[1] = {{}};"));
        assert_eq!(d("cache")?, format!("{t}* cache = persistent + 4;"));
        assert_eq!(d("inc")?, format!("{t}* inc = stage_rhs + 0;"));
        assert_eq!(d("rhs2")?, format!("{t}* rhs2 = stage_rhs + 2;"));
        assert_eq!(
            d("newton_shared")?,
            format!("{t}* newton_shared = shared + 17;")
        );
        assert_eq!(
            d("newton_persistent")?,
            format!("{t}* newton_persistent = persistent + 6;")
        );

        let all = reg.cuda_declarations(step)?;
        assert_eq!(all.len(), 10);
        assert_eq!(all.last(), Some(&format!("{t}* rhs2 = stage_rhs + 2;")));
    }
    Ok(())
}

#[test]
fn report_round_trips_through_json_and_prints_paths() -> R<()> {
    let (mut reg, [_, _, step, ..]) = chain()?;
    dirk(&mut reg, step, 2)?;
    let report = reg.report()?;

    let row = report
        .rows
        .iter()
        .find(|r| r.name == "rhs_cache")
        .ok_or(RegistryError::UnknownComponent(0))?;
    assert_eq!(row.owner, "kernel/loop/step");
    assert_eq!(row.alias.as_deref(), Some("solver_scratch"));
    assert!(!row.fell_back);
    assert_eq!((row.location, row.offset, row.size), (Region::Shared, 5, 2));
    assert_eq!(report.totals.len(), 1);
    assert_eq!(report.totals[0].shared, 24);
    assert_eq!(report.totals[0].shared_bytes, 24 * 8);

    let json = serde_json::to_string(&report).map_err(|_| RegistryError::UnknownComponent(1))?;
    assert!(json.contains("\"owner\":\"kernel/loop/step/newton/linear\""));
    let back: LayoutReport =
        serde_json::from_str(&json).map_err(|_| RegistryError::UnknownComponent(2))?;
    assert_eq!(back, report);

    let table = report.to_string();
    for path in [
        "kernel/loop/step/newton/linear",
        "kernel/loop/step",
        "kernel/loop",
    ] {
        assert!(table.contains(path), "{table}");
    }
    assert!(table.starts_with("owner"), "{table}");
    assert!(table.contains("per run of kernel: shared 24"), "{table}");
    Ok(())
}
