//! Compiling a generated kernel with NVRTC (loaded at run time through
//! `cudarc`, so nothing here needs CUDA to build): PTX for a given
//! architecture and the compiler's log, which lists warnings too.

use std::ffi::{CStr, CString, c_char};

use cudarc::nvrtc::{result, sys};

use super::{CudaError, CudaKernel};

/// A compiled kernel.
#[derive(Debug, Clone)]
pub struct CompiledPtx {
    /// The PTX text.
    pub ptx: String,
    /// NVRTC's log (empty when it had nothing to say).
    pub log: String,
}

/// True when the NVRTC library can be loaded.
pub fn available() -> bool {
    // SAFETY: only tries to open the library by its names.
    unsafe { sys::is_culib_present() }
}

/// NVRTC's version (major, minor): part of the module cache's key.
pub fn version() -> Result<(i32, i32), CudaError> {
    if !available() {
        return Err(CudaError::NvrtcMissing);
    }
    let (mut major, mut minor) = (0, 0);
    // SAFETY: the library is loaded; both pointers are valid for the call.
    unsafe { sys::nvrtcVersion(&mut major, &mut minor) }
        .result()
        .map_err(|e| CudaError::Nvrtc(format!("{e:?}")))?;
    Ok((major, minor))
}

fn text(raw: &[c_char]) -> String {
    if raw.is_empty() {
        return String::new();
    }
    // SAFETY: NVRTC's strings are NUL-terminated within their reported size.
    unsafe { CStr::from_ptr(raw.as_ptr()) }
        .to_string_lossy()
        .trim()
        .to_string()
}

/// Compiles `kernel` for `arch` (`compute_90`, `sm_90`, ...). A compile
/// error carries NVRTC's log, which names the offending source line.
pub fn compile(kernel: &CudaKernel, arch: &str) -> Result<CompiledPtx, CudaError> {
    if !available() {
        return Err(CudaError::NvrtcMissing);
    }
    let source = CString::new(kernel.source.as_bytes())
        .map_err(|_| CudaError::Internal("a NUL byte in the generated source"))?;
    let name = CString::new("cubie_kernel.cu").map_err(|_| CudaError::Internal("name"))?;
    let nvrtc = |e: result::NvrtcError| CudaError::Nvrtc(format!("{e:?}"));
    let program = result::create_program(&source, Some(&name)).map_err(nvrtc)?;
    let options = [
        format!("--gpu-architecture={arch}"),
        "--std=c++17".to_string(),
        // The CPU backend does not contract a * b + c either.
        "--fmad=false".to_string(),
    ];
    // SAFETY: `program` was created above and is destroyed once, below.
    let compiled = unsafe { result::compile_program(program, &options) };
    let log = unsafe { result::get_program_log(program) }
        .map(|raw| text(&raw))
        .unwrap_or_default();
    let outcome = match compiled {
        Ok(()) => unsafe { result::get_ptx(program) }
            .map(|raw| CompiledPtx {
                ptx: text(&raw),
                log,
            })
            .map_err(nvrtc),
        Err(_) => Err(CudaError::Compile(log)),
    };
    // SAFETY: created above, not used after this.
    let _ = unsafe { result::destroy_program(program) };
    outcome
}
