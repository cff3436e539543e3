//! Running the generated kernel on a GPU through the CUDA driver API
//! (`cudarc`, loaded at run time: nothing here needs CUDA to build).
//! Device 0 is opened, the kernel compiled for its architecture (through
//! the module cache), and each batch launched in chunks that fit the
//! device's free memory; outputs come back in the kernel's column-major
//! layout and are reordered exactly as the host emulation's.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cudarc::driver::sys::{CUdevice_attribute, CUevent_flags, CUfunction_attribute, CUresult};
use cudarc::driver::{
    CudaContext, CudaFunction, CudaSlice, DeviceRepr, DriverError, LaunchConfig, PushKernelArg,
    ValidAsZeroBits,
};

use crate::backend::cpu::jit::JitReal;
use crate::backend::outputs::BatchOutputs;
use crate::time_loop::COUNTER_LABELS;

use super::cache::KernelCache;
use super::chunks::{chunk_runs, device_bytes};
use super::columns::{column_major, run_major};
use super::kernel::ENTRY;
use super::{CudaError, CudaKernel};

/// Shared memory a block gets without opting in to more.
const STATIC_SHARED_LIMIT: usize = 48 << 10;

/// True when the CUDA driver library (libcuda) can be loaded.
pub fn driver_available() -> bool {
    // SAFETY: only tries to open the library by its names.
    unsafe { cudarc::driver::sys::is_culib_present() }
}

/// Runs `f`, turning a panic of the dynamically loaded bindings (a
/// symbol the installed driver lacks) into an error.
fn guarded<R>(f: impl FnOnce() -> Result<R, CudaError>) -> Result<R, CudaError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "the CUDA bindings failed".into());
        Err(CudaError::Driver(why))
    })
}

fn driver(e: DriverError) -> CudaError {
    match e.0 {
        CUresult::CUDA_ERROR_NO_DEVICE => CudaError::NoDevice,
        _ => CudaError::Driver(e.to_string()),
    }
}

/// What the runtime needs to know of a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Its name.
    pub name: String,
    /// Compute capability (major, minor).
    pub compute_capability: (i32, i32),
    /// The most dynamic shared memory a block may opt in to, in bytes.
    pub max_shared_per_block: usize,
    /// Multiprocessors.
    pub multiprocessors: usize,
    /// Resident threads per multiprocessor at most.
    pub max_threads_per_multiprocessor: usize,
    /// Device memory, in bytes.
    pub total_memory: u64,
}

impl DeviceInfo {
    /// The NVRTC architecture to compile for: PTX for the device's
    /// compute capability, which the driver finishes for the device.
    pub fn arch(&self) -> String {
        let (major, minor) = self.compute_capability;
        format!("compute_{major}{minor}")
    }
}

/// Device 0, opened.
#[derive(Debug, Clone)]
pub struct CudaDevice {
    context: Arc<CudaContext>,
    /// What it is.
    pub info: DeviceInfo,
}

impl CudaDevice {
    /// Opens device 0: [`CudaError::NoDriver`] when libcuda cannot be
    /// loaded, [`CudaError::NoDevice`] when the driver finds no GPU.
    pub fn open() -> Result<Self, CudaError> {
        if !driver_available() {
            return Err(CudaError::NoDriver);
        }
        guarded(|| {
            let count = CudaContext::device_count().map_err(driver)?;
            if count < 1 {
                return Err(CudaError::NoDevice);
            }
            let context = CudaContext::new(0).map_err(driver)?;
            let attribute = |a| {
                context
                    .attribute(a)
                    .map_err(driver)
                    .map(|v| usize::try_from(v).unwrap_or(0))
            };
            let info = DeviceInfo {
                name: context.name().map_err(driver)?,
                compute_capability: context.compute_capability().map_err(driver)?,
                max_shared_per_block: attribute(
                    CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
                )?
                .max(STATIC_SHARED_LIMIT),
                multiprocessors: attribute(
                    CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
                )?,
                max_threads_per_multiprocessor: attribute(
                    CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR,
                )?,
                total_memory: context.total_mem().map_err(driver)? as u64,
            };
            Ok(CudaDevice { context, info })
        })
    }

    /// Free device memory now, in bytes.
    pub fn free_memory(&self) -> Result<u64, CudaError> {
        guarded(|| {
            let (free, _) = self.context.mem_get_info().map_err(driver)?;
            Ok(free as u64)
        })
    }
}

/// Where a solve's time on the device went, summed over its launches.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CudaTimings {
    /// Compiling the kernel (or reading it from the cache).
    pub compile: Duration,
    /// True when the module came from the cache.
    pub cached: bool,
    /// Loading the module into the device (the driver's PTX JIT).
    pub load: Duration,
    /// Copying inputs to the device (with its allocations).
    pub upload: Duration,
    /// The kernel itself, by CUDA events.
    pub kernel: Duration,
    /// Copying outputs back.
    pub download: Duration,
    /// Launches so far.
    pub launches: usize,
}

/// Real types the device kernel runs in.
pub trait DeviceReal: JitReal + DeviceRepr + ValidAsZeroBits {}
impl DeviceReal for f32 {}
impl DeviceReal for f64 {}

/// A kernel compiled and loaded on a device.
#[derive(Debug)]
pub struct DeviceKernel {
    device: CudaDevice,
    function: CudaFunction,
    kernel: CudaKernel,
    /// Local memory per thread, in bytes (the driver reserves it for
    /// every resident thread).
    local_bytes: u64,
    timings: Mutex<CudaTimings>,
}

impl DeviceKernel {
    /// Compiles `kernel` for `device` through `cache` and loads it.
    pub fn load(
        device: &CudaDevice,
        kernel: &CudaKernel,
        cache: &KernelCache,
    ) -> Result<Self, CudaError> {
        let shared = kernel.shared_bytes_per_block();
        if shared > device.info.max_shared_per_block {
            return Err(CudaError::SharedMemory {
                needed: shared,
                budget: device.info.max_shared_per_block,
                runs_per_block: kernel.runs_per_block,
                buffers: "see `cubie plan --backend cuda`".into(),
            });
        }
        let compiled = cache.compile(kernel, &device.info.arch())?;
        guarded(|| {
            let started = Instant::now();
            let module = device
                .context
                .load_module(cudarc::nvrtc::Ptx::from_src(compiled.ptx.clone()))
                .map_err(driver)?;
            let function = module.load_function(ENTRY).map_err(driver)?;
            if shared > STATIC_SHARED_LIMIT {
                let bytes = i32::try_from(shared)
                    .map_err(|_| CudaError::SizeOverflow("shared memory per block"))?;
                function
                    .set_attribute(
                        CUfunction_attribute::CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                        bytes,
                    )
                    .map_err(driver)?;
            }
            let local = function
                .get_attribute(CUfunction_attribute::CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES)
                .map_err(driver)?;
            let timings = CudaTimings {
                compile: compiled.time,
                cached: compiled.hit,
                load: started.elapsed(),
                ..CudaTimings::default()
            };
            Ok(DeviceKernel {
                device: device.clone(),
                function,
                kernel: kernel.clone(),
                local_bytes: u64::try_from(local).unwrap_or(0),
                timings: Mutex::new(timings),
            })
        })
    }

    /// The device it runs on.
    pub fn device(&self) -> &CudaDevice {
        &self.device
    }

    /// The timings so far.
    pub fn timings(&self) -> CudaTimings {
        self.timings.lock().map(|t| *t).unwrap_or_default()
    }

    /// Local memory the driver reserves for a launch: every resident
    /// thread's local arrays.
    fn reserved_bytes(&self) -> u64 {
        let info = &self.device.info;
        self.local_bytes
            .saturating_mul(info.multiprocessors as u64)
            .saturating_mul(info.max_threads_per_multiprocessor as u64)
    }

    /// Runs per launch for a batch of `n_runs`, from the free memory now.
    pub fn chunk_runs(&self, n_runs: usize) -> Result<usize, CudaError> {
        let free = self.device.free_memory()?;
        chunk_runs(
            n_runs,
            device_bytes(&self.kernel)?,
            free,
            self.reserved_bytes(),
            self.kernel.runs_per_block,
        )
    }

    /// Runs the kernel on `n_runs` runs (inputs run-major, as the CPU
    /// backend takes them; outputs come back run-major too), in launches
    /// that fit the device's free memory. `progress` hears the runs done
    /// after each launch.
    pub fn run<T: DeviceReal>(
        &self,
        n_runs: usize,
        initial_values: &[T],
        parameters: &[T],
        progress: Option<&(dyn Fn(usize) + Sync)>,
    ) -> Result<BatchOutputs<T>, CudaError> {
        self.run_in_launches(n_runs, initial_values, parameters, progress, usize::MAX)
    }

    /// [`run`](Self::run) with at most `max_launch_runs` runs per launch.
    pub fn run_in_launches<T: DeviceReal>(
        &self,
        n_runs: usize,
        initial_values: &[T],
        parameters: &[T],
        progress: Option<&(dyn Fn(usize) + Sync)>,
        max_launch_runs: usize,
    ) -> Result<BatchOutputs<T>, CudaError> {
        let s = self.kernel.sizes;
        let wrong = |n: usize, per: usize| n_runs.checked_mul(per) != Some(n);
        if wrong(initial_values.len(), s.n_states) || wrong(parameters.len(), s.n_parameters) {
            return Err(CudaError::Internal("inputs of the wrong length"));
        }
        let step = self.chunk_runs(n_runs)?.min(max_launch_runs).max(1);
        let mut all = BatchOutputs {
            final_state: Vec::new(),
            saved_states: Vec::new(),
            saved_observables: Vec::new(),
            summaries: Vec::new(),
            status: Vec::new(),
            counters: Vec::new(),
        };
        let mut start = 0;
        while start < n_runs {
            let end = n_runs.min(start + step);
            let chunk = guarded(|| {
                self.launch(
                    end - start,
                    &initial_values[start * s.n_states..end * s.n_states],
                    &parameters[start * s.n_parameters..end * s.n_parameters],
                )
            })?;
            // Run-major chunks of consecutive runs join by appending.
            all.final_state.extend(chunk.final_state);
            all.saved_states.extend(chunk.saved_states);
            all.saved_observables.extend(chunk.saved_observables);
            all.summaries.extend(chunk.summaries);
            all.status.extend(chunk.status);
            all.counters.extend(chunk.counters);
            start = end;
            if let Some(report) = progress {
                report(start);
            }
        }
        Ok(all)
    }

    /// One launch of `n_runs` runs.
    fn launch<T: DeviceReal>(
        &self,
        n_runs: usize,
        initial_values: &[T],
        parameters: &[T],
    ) -> Result<BatchOutputs<T>, CudaError> {
        let k = &self.kernel;
        let s = k.sizes;
        let n_saves = k.save_times.len();
        let count = |per: usize| {
            n_runs
                .checked_mul(per)
                .ok_or(CudaError::SizeOverflow("a launch's arrays"))
        };
        let n_final = count(s.n_states)?;
        let n_saved_states = count(
            n_saves
                .checked_mul(s.n_saved_states)
                .ok_or(CudaError::SizeOverflow("saved states"))?,
        )?;
        let n_saved_observables = count(
            n_saves
                .checked_mul(s.n_saved_observables)
                .ok_or(CudaError::SizeOverflow("saved observables"))?,
        )?;
        let n_summaries = count(s.summaries_per_run())?;
        let n_counters = count(COUNTER_LABELS.len())?;
        let n_runs_arg =
            i32::try_from(n_runs).map_err(|_| CudaError::SizeOverflow("runs of a launch"))?;
        let blocks = u32::try_from(k.blocks(n_runs))
            .map_err(|_| CudaError::SizeOverflow("blocks of a launch"))?;
        let threads = u32::try_from(k.runs_per_block)
            .map_err(|_| CudaError::SizeOverflow("runs per block"))?;
        let shared = u32::try_from(k.shared_bytes_per_block())
            .map_err(|_| CudaError::SizeOverflow("shared memory per block"))?;

        let stream = self.device.context.default_stream();
        let started = Instant::now();
        let upload = |values: Vec<T>| -> Result<CudaSlice<T>, CudaError> {
            // A zero-length allocation is refused by the driver.
            let values = if values.is_empty() {
                vec![T::from_f64(0.0)]
            } else {
                values
            };
            stream.clone_htod(&values).map_err(driver)
        };
        let d_initial = upload(column_major(initial_values, n_runs, s.n_states))?;
        let d_parameters = upload(column_major(parameters, n_runs, s.n_parameters))?;
        let times = if k.save_times.is_empty() {
            vec![0.0]
        } else {
            k.save_times.clone()
        };
        let d_times = stream.clone_htod(&times).map_err(driver)?;
        let zeros = |n: usize| stream.alloc_zeros::<T>(n.max(1)).map_err(driver);
        let mut d_final = zeros(n_final)?;
        let mut d_saved_states = zeros(n_saved_states)?;
        let mut d_saved_observables = zeros(n_saved_observables)?;
        let mut d_summaries = zeros(n_summaries)?;
        let mut d_status = stream.alloc_zeros::<i32>(n_runs.max(1)).map_err(driver)?;
        let mut d_counters = stream
            .alloc_zeros::<i64>(n_counters.max(1))
            .map_err(driver)?;
        stream.synchronize().map_err(driver)?;
        let upload_time = started.elapsed();

        let context = &self.device.context;
        let begin = context
            .new_event(Some(CUevent_flags::CU_EVENT_DEFAULT))
            .map_err(driver)?;
        let finish = context
            .new_event(Some(CUevent_flags::CU_EVENT_DEFAULT))
            .map_err(driver)?;
        begin.record(&stream).map_err(driver)?;
        let mut launch = stream.launch_builder(&self.function);
        launch
            .arg(&d_initial)
            .arg(&d_parameters)
            .arg(&d_times)
            .arg(&mut d_final)
            .arg(&mut d_saved_states)
            .arg(&mut d_saved_observables)
            .arg(&mut d_status)
            .arg(&mut d_counters)
            .arg(&mut d_summaries)
            .arg(&n_runs_arg);
        let config = LaunchConfig {
            grid_dim: (blocks, 1, 1),
            block_dim: (threads, 1, 1),
            shared_mem_bytes: shared,
        };
        // SAFETY: the arguments are the kernel's, in its order and types
        // (`cubie_solve` in kernel.rs), each array at least as long as the
        // kernel indexes for `n_runs` runs.
        unsafe { launch.launch(config) }.map_err(driver)?;
        finish.record(&stream).map_err(driver)?;
        let kernel_ms = begin.elapsed_ms(&finish).map_err(driver)?;

        let started = Instant::now();
        let back = |d: &CudaSlice<T>, n: usize| -> Result<Vec<T>, CudaError> {
            let mut v = stream.clone_dtoh(d).map_err(driver)?;
            v.truncate(n);
            Ok(run_major(&v, n_runs))
        };
        let final_state = back(&d_final, n_final)?;
        let saved_states = back(&d_saved_states, n_saved_states)?;
        let saved_observables = back(&d_saved_observables, n_saved_observables)?;
        let summaries = back(&d_summaries, n_summaries)?;
        let mut status = stream.clone_dtoh(&d_status).map_err(driver)?;
        status.truncate(n_runs);
        let mut counters = stream.clone_dtoh(&d_counters).map_err(driver)?;
        counters.truncate(n_counters);
        let counters = run_major(&counters, n_runs);
        let download_time = started.elapsed();

        if let Ok(mut t) = self.timings.lock() {
            t.upload += upload_time;
            t.kernel += Duration::from_secs_f64(f64::from(kernel_ms.max(0.0)) / 1e3);
            t.download += download_time;
            t.launches += 1;
        }
        Ok(BatchOutputs {
            final_state,
            saved_states,
            saved_observables,
            summaries,
            status,
            counters,
        })
    }
}
