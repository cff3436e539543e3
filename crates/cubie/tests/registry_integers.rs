//! Integer buffers in the registry (flags and counters) and the loop's own
//! working values registered as buffers: integers are plain local arrays
//! counted apart from the real elements, declared with their own C type,
//! reported with their own byte size, and resolved on the CPU into an
//! integer block of the run arena.

mod common;

use cubie::memory::{BufferRegistry, BufferSpec, ElementType, Location, Region, RegistryError};
use cubie::time_loop::COUNTER_LABELS;
use cubie::{Precision, Solver, SolverSettings};

type R<T> = Result<T, RegistryError>;

fn counter(name: &str, size: usize) -> BufferSpec {
    BufferSpec::local(name, size).element(ElementType::I64)
}

#[test]
fn integer_buffers_are_only_plain_local_arrays() -> R<()> {
    let mut reg = BufferRegistry::new(Precision::F64);
    let lp = reg.add_component("loop", None)?;
    reg.register(lp, BufferSpec::shared("scratch", 4))?;
    let refused = |r: R<()>, alias: bool| match r {
        Err(RegistryError::IntegerPlacement {
            name,
            element,
            alias: a,
            ..
        }) => {
            assert_eq!(
                (name.as_str(), element, a),
                ("counts", ElementType::I64, alias)
            );
        }
        other => panic!("expected an integer placement error, got {other:?}"),
    };
    refused(
        reg.register(
            lp,
            BufferSpec::shared("counts", 3).element(ElementType::I64),
        ),
        false,
    );
    refused(reg.register(lp, counter("counts", 3).persistent()), false);
    refused(
        reg.register(lp, counter("counts", 3).aliasing("scratch")),
        true,
    );
    refused(
        reg.register(lp, counter("counts", 3).aliasing_first_shared(["scratch"])),
        true,
    );
    // As a plain local array it is fine, and stays one.
    reg.register(lp, counter("counts", 3))?;
    refused(reg.set_location(lp, "counts", Location::Shared), false);
    refused(reg.set_persistent(lp, "counts", true), false);
    // A real buffer cannot overlay it either.
    let err = reg
        .register(lp, BufferSpec::local("tmp", 2).aliasing("counts"))
        .unwrap_err();
    assert!(
        matches!(&err, RegistryError::IntegerPlacement { name, alias: true, .. } if name == "counts"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("integer buffers are plain local arrays"),
        "{err}"
    );
    assert_eq!(reg.placement(lp, "counts")?.region, Region::Local);
    // Integer buffers take no location setting.
    assert_eq!(
        reg.location_settings(lp)?,
        vec!["scratch_location".to_string()]
    );
    Ok(())
}

#[test]
fn integers_are_counted_apart_and_resolve_into_their_own_block() -> R<()> {
    let mut reg = BufferRegistry::new(Precision::F32);
    let root = reg.add_component("loop", None)?;
    let child = reg.add_component("step", Some(root))?;
    reg.register(root, BufferSpec::local("state", 3))?;
    reg.register(
        root,
        BufferSpec::local("accept", 1).element(ElementType::I32),
    )?;
    reg.register(root, counter("counters", 3))?;
    reg.register(child, BufferSpec::local("stage", 2))?;
    reg.register(child, counter("iterations", 2))?;

    assert_eq!(reg.local_elements(root)?, 3);
    assert_eq!(reg.integer_elements(root)?, 4);
    assert_eq!(reg.subtree_integer_elements(root)?, 6);
    let layout = reg.arena_layout(child)?;
    assert_eq!((layout.total(), layout.integer), (5, 6));
    assert_eq!(reg.arena_range(root, "accept")?, 0..1);
    assert_eq!(reg.arena_range(root, "counters")?, 1..4);
    assert_eq!(reg.arena_range(child, "iterations")?, 4..6);
    // The real cells are laid out as if the integers were not there.
    assert_eq!(reg.arena_range(child, "stage")?, 3..5);

    let counters = reg.cpu_integer_allocator(root, "counters")?;
    let iterations = reg.cpu_integer_allocator(child, "iterations")?;
    let mut arena = reg.new_arena::<f32>(root)?;
    counters.integers(&arena).set(2, 0, 7);
    iterations.integers(&arena).set(0, 0, -1);
    let block: Vec<i64> = arena.integers().iter().map(|c| c.get()).collect();
    assert_eq!(block, vec![0, 0, 0, 7, -1, 0]);
    assert!(arena.to_vec().iter().all(|&v| v == 0.0));
    arena.reset();
    assert!(arena.integers().iter().all(|c| c.get() == 0));

    // Each handle refuses the other kind of element.
    assert!(matches!(
        reg.cpu_allocator::<f32>(root, "counters"),
        Err(RegistryError::ElementMismatch {
            buffer: ElementType::I64,
            requested: ElementType::F32,
            ..
        })
    ));
    assert!(matches!(
        reg.cpu_integer_allocator(root, "state"),
        Err(RegistryError::ElementMismatch {
            buffer: ElementType::F32,
            ..
        })
    ));
    Ok(())
}

#[test]
fn declarations_and_the_report_use_each_elements_own_type() -> R<()> {
    let mut reg = BufferRegistry::new(Precision::F64);
    let lp = reg.add_component("loop", None)?;
    reg.register(lp, BufferSpec::shared("scratch", 2))?;
    reg.register(lp, BufferSpec::local("history", 2).persistent())?;
    reg.register(lp, BufferSpec::local("state", 3))?;
    reg.register(lp, BufferSpec::local("single", 2).precision(Precision::F32))?;
    reg.register(lp, BufferSpec::local("accept", 1).element(ElementType::I32))?;
    reg.register(lp, counter("counters", 3))?;
    reg.register(lp, counter("none", 0))?;

    assert_eq!(reg.cuda_declaration(lp, "accept")?, "int accept[1] = {};");
    assert_eq!(
        reg.cuda_declaration(lp, "counters")?,
        "long long counters[3] = {};"
    );
    assert_eq!(reg.cuda_declaration(lp, "none")?, "long long none[1] = {};");

    let report = reg.report()?;
    let element = |name: &str| {
        report
            .rows
            .iter()
            .find(|r| r.name == name)
            .map(|r| r.element)
    };
    assert_eq!(element("state"), Some(ElementType::F64));
    assert_eq!(element("single"), Some(ElementType::F32));
    assert_eq!(element("accept"), Some(ElementType::I32));
    let totals = &report.totals[0];
    assert_eq!((totals.shared_bytes, totals.persistent_bytes), (16, 16));
    // 3 doubles, 2 floats, 1 int, 3 + 1 long longs.
    assert_eq!(totals.local_bytes, 3 * 8 + 2 * 4 + 4 + 4 * 8);
    assert_eq!(totals.integer, 5);
    let table = report.to_string();
    assert!(table.contains("i64"), "{table}");
    assert!(table.contains("local arrays 68 bytes"), "{table}");
    Ok(())
}

fn tsit5() -> SolverSettings {
    SolverSettings {
        algorithm: "tsit5".parse().unwrap(),
        ..SolverSettings::default()
    }
}

#[test]
fn the_loop_registers_its_step_size_accept_flag_and_counters() {
    let model = common::lorenz(Precision::F32);
    let solver = Solver::new(&model, &tsit5()).expect("builds");
    let plan = solver.plan().expect("plan");
    let row = |name: &str| {
        plan.rows
            .iter()
            .find(|r| r.owner == "kernel/loop" && r.name == name)
            .unwrap_or_else(|| panic!("no loop buffer {name}"))
    };
    assert_eq!((row("dt").element, row("dt").size), (ElementType::F32, 1));
    assert_eq!(
        (row("accept").element, row("accept").size),
        (ElementType::I32, 1)
    );
    assert_eq!(
        (row("counters").element, row("counters").size),
        (ElementType::I64, COUNTER_LABELS.len())
    );
    assert_eq!(plan.totals[0].integer, 1 + COUNTER_LABELS.len());

    // The step size may move; the flag and the counters have no setting.
    let keys = solver.location_settings();
    assert!(keys.iter().any(|k| k == "dt_location"), "{keys:?}");
    assert!(
        !keys
            .iter()
            .any(|k| k.contains("accept") || k.contains("counters"))
    );
    let mut shared_dt = tsit5();
    shared_dt.named = vec!["dt_location=shared".into()];
    let plan = Solver::new(&model, &shared_dt)
        .expect("builds")
        .plan()
        .expect("plan");
    assert!(
        plan.rows
            .iter()
            .any(|r| r.name == "dt" && r.location == Region::Shared)
    );
    let mut shared_counters = tsit5();
    shared_counters.named = vec!["counters_location=shared".into()];
    let err = Solver::new(&model, &shared_counters)
        .unwrap_err()
        .to_string();
    assert!(err.contains("counters_location"), "{err}");
}
