//! The Zarr v3 store: a batch's results chunked along runs, compressed,
//! readable by `zarr` and `xarray.open_zarr` with no cubie installed.
//!
//! Layout of `NAME.zarr/`:
//! - the root group's attributes hold `cubie`: the format, the batch's run
//!   and chunk counts, and the solve's identity (model, algorithm and every
//!   setting that shapes the results), which a resumed solve, a shard
//!   joining the store and `cubie merge` must match;
//! - one array per output, named as in the `.npz`, with dimension names
//!   (`run`, `time`, `window`, `state_var`, ...) and the labels of its last
//!   axis as attributes; label arrays are stored as string coordinates
//!   named after their dimension (`state_var` holds the state labels);
//! - per-run arrays are chunked `chunk_runs` runs at a time; every other
//!   axis is whole. Chunk `k` of every array holds runs
//!   `k * chunk_runs ..`.
//!
//! Every file is written atomically (the `atomic` module). Within a chunk the
//! `status` array is written last, so a chunk whose status is present is
//! whole: that is what a resumed solve keeps and `cubie merge` copies.
//! Unsolved runs read as the fill values (NaN; -1 for status and counters).

mod atomic;
mod layout;
mod merge;
mod read;

pub use merge::merge_stores;
pub use read::{StoreInfo, read_store, store_info};

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use serde_json::{Map, Value, json};
use zarrs::array::codec::{BloscCodec, BloscCompressionLevel, BloscCompressor, BloscShuffleMode};
use zarrs::array::{Array, ArrayBuilder, BytesToBytesCodecTraits, data_type};
use zarrs::group::GroupBuilder;

use self::atomic::{AtomicFileStore, PARTIAL_SUFFIX};
use self::layout::{dimensions, element_type, label_dimension, padded};
use super::{ArrayData, NamedArray, ResultSink, ResultsError, SolveResult, is_per_run};

/// The layout version of stores this cubie writes.
pub const STORE_FORMAT: u64 = 1;

/// Blosc's level: levels 1 and 3 were no faster on a solve's wall time
/// (measured, 2x10^5 Lorenz runs) and compressed less (0.59, 0.54 of raw;
/// level 5: 0.53).
const BLOSC_LEVEL: u8 = 5;

/// What a store is made for: the batch's size and chunking, and the
/// identity of the solve. Every entry of `identity` must match for a solve
/// to resume a store or join it as a shard.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreSpec {
    /// Runs in the whole batch.
    pub n_runs: usize,
    /// Runs per chunk.
    pub chunk_runs: usize,
    /// Everything that determines the results (model text, algorithm,
    /// settings, grid), by name.
    pub identity: Map<String, Value>,
}

impl StoreSpec {
    /// Chunks in the batch.
    pub fn n_chunks(&self) -> usize {
        self.n_runs.div_ceil(self.chunk_runs.max(1))
    }

    fn attributes(&self) -> Value {
        json!({
            "format": STORE_FORMAT,
            "n_runs": self.n_runs,
            "chunk_runs": self.chunk_runs,
            "n_chunks": self.n_chunks(),
            "identity": Value::Object(self.identity.clone()),
        })
    }
}

/// How a store is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// A new store: one already at the path is an error.
    Create,
    /// Continue an interrupted store (or start it): chunks already whole
    /// are kept, stray partial files removed.
    Resume,
    /// Write one shard into a store that other processes may be writing
    /// too (created if missing).
    Join,
}

/// A per-run array of the store, as this process writes it.
#[derive(Debug)]
struct RunArray {
    name: String,
    array: Array<AtomicFileStore>,
    /// Elements per run.
    row_len: usize,
}

/// A Zarr store receiving a batch chunk by chunk.
#[derive(Debug)]
pub struct ZarrStore {
    root: PathBuf,
    store: Arc<AtomicFileStore>,
    spec: StoreSpec,
    /// Every per-run array, `status` last; empty until the first chunk.
    arrays: Vec<RunArray>,
}

fn zarr_error(path: &Path, e: impl std::fmt::Display) -> ResultsError {
    ResultsError::Zarr {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// The root metadata file of a store.
fn root_metadata(root: &Path) -> PathBuf {
    root.join("zarr.json")
}

/// The `cubie` attributes of the store at `root`, if it is one.
pub(crate) fn read_attributes(root: &Path) -> Result<Option<Value>, ResultsError> {
    let path = root_metadata(root);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(super::partial::io_error(&path)(e)),
    };
    let json: Value = serde_json::from_str(&text).map_err(|e| zarr_error(&path, e))?;
    match json.pointer("/attributes/cubie") {
        Some(cubie) => Ok(Some(cubie.clone())),
        None => Err(ResultsError::NotAStore(root.display().to_string())),
    }
}

/// What differs between a store's attributes and `spec`, one line each.
pub(crate) fn differences(stored: &Value, spec: &StoreSpec) -> Vec<String> {
    let wanted = spec.attributes();
    let mut out = Vec::new();
    for key in ["format", "n_runs", "chunk_runs"] {
        if stored.get(key) != wanted.get(key) {
            out.push(format!(
                "{key}: the store has {}, this solve {}",
                stored.get(key).unwrap_or(&Value::Null),
                wanted.get(key).unwrap_or(&Value::Null)
            ));
        }
    }
    let empty = Map::new();
    let have = stored
        .get("identity")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let keys: std::collections::BTreeSet<&String> =
        have.keys().chain(spec.identity.keys()).collect();
    for key in keys {
        let (a, b) = (have.get(key), spec.identity.get(key));
        if a != b {
            let show = |v: Option<&Value>| match v {
                None => "nothing".to_string(),
                Some(Value::String(s)) if s.len() > 60 || s.contains('\n') => {
                    format!("a different value ({} characters)", s.len())
                }
                Some(v) => v.to_string(),
            };
            out.push(format!(
                "{key}: the store has {}, this solve {}",
                show(a),
                show(b)
            ));
        }
    }
    out
}

/// True when `root` is a folder holding anything but hidden files (the
/// partial files of a writer creating the store right now).
fn holds_visible_files(root: &Path) -> bool {
    std::fs::read_dir(root).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| !e.file_name().to_string_lossy().starts_with('.'))
    })
}

/// Deletes the hidden partial files an interrupted writer left under
/// `root`.
fn remove_stray_partials(root: &Path) -> std::io::Result<()> {
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.file_type()?.is_dir() {
                dirs.push(path);
            } else if name.starts_with('.') && name.ends_with(PARTIAL_SUFFIX) {
                std::fs::remove_file(path)?;
            }
        }
    }
    Ok(())
}

impl ZarrStore {
    /// Opens (or creates) the store at `root` for `spec`. An existing store
    /// must have been made for the same solve: anything else is
    /// [`ResultsError::StoreMismatch`], listing what differs.
    pub fn open(root: &Path, spec: StoreSpec, mode: OpenMode) -> Result<Self, ResultsError> {
        if spec.n_runs == 0 || spec.chunk_runs == 0 {
            return Err(zarr_error(root, "a store needs runs and chunks of runs"));
        }
        if root.exists() && !root.is_dir() {
            return Err(ResultsError::NotAStore(root.display().to_string()));
        }
        let existing = if root.is_dir() {
            read_attributes(root)?
        } else {
            None
        };
        if existing.is_none() && holds_visible_files(root) {
            // Anything but another writer's hidden partial files.
            return Err(ResultsError::NotAStore(root.display().to_string()));
        }
        match (&existing, mode) {
            (Some(_), OpenMode::Create) => {
                return Err(ResultsError::StoreExists(root.display().to_string()));
            }
            (Some(stored), _) => {
                let differ = differences(stored, &spec);
                if !differ.is_empty() {
                    return Err(ResultsError::StoreMismatch {
                        path: root.display().to_string(),
                        differences: differ,
                    });
                }
            }
            (None, _) => {}
        }
        let store = Arc::new(AtomicFileStore::new(root).map_err(|e| zarr_error(root, e))?);
        if mode == OpenMode::Resume {
            remove_stray_partials(root).map_err(super::partial::io_error(root))?;
        }
        if existing.is_none() {
            let mut attributes = Map::new();
            attributes.insert("cubie".into(), spec.attributes());
            let group = GroupBuilder::new()
                .attributes(attributes)
                .build(store.clone(), "/")
                .map_err(|e| zarr_error(root, e))?;
            write_metadata(&root_metadata(root), group.metadata())?;
        }
        Ok(ZarrStore {
            root: root.to_path_buf(),
            store,
            spec,
            arrays: Vec::new(),
        })
    }

    /// The store's spec.
    pub fn spec(&self) -> &StoreSpec {
        &self.spec
    }

    /// Creates every array of the store from the first chunk's layout and
    /// writes the arrays every run shares (times, labels). Processes
    /// writing shards of one store write the same bytes here.
    fn create_arrays(&mut self, chunk: &SolveResult) -> Result<(), ResultsError> {
        let root = self.root.clone();
        let err = |e: &dyn std::fmt::Display| zarr_error(&root, e);
        let labels_of = |axis_dim: &str| -> Option<Vec<String>> {
            let labels = layout::labels_of_dimension(axis_dim)?;
            chunk.labels(labels).map(<[String]>::to_vec)
        };
        let mut run_arrays = Vec::new();
        let mut status = None;
        for array in chunk.arrays() {
            if let ArrayData::Str(labels) = &array.data {
                let Some(dim) = label_dimension(&array.name) else {
                    continue;
                };
                let n = labels.len() as u64;
                let coordinate =
                    ArrayBuilder::new(vec![n], vec![n.max(1)], data_type::string(), "")
                        .dimension_names(Some([dim]))
                        .build(self.store.clone(), &format!("/{dim}"))
                        .map_err(|e| err(&e))?;
                write_metadata(&self.array_metadata_path(dim), coordinate.metadata())?;
                if n > 0 {
                    coordinate
                        .store_chunk(&[0], labels.clone())
                        .map_err(|e| err(&e))?;
                }
                continue;
            }
            let Some((data_type, fill)) = element_type(&array.data) else {
                continue;
            };
            let per_run = is_per_run(array);
            let dims = dimensions(&array.name, array.shape.len());
            let mut shape: Vec<u64> = array.shape.iter().map(|&n| n as u64).collect();
            let mut chunk_shape: Vec<u64> = shape.iter().map(|&n| n.max(1)).collect();
            if per_run {
                shape[0] = self.spec.n_runs as u64;
                chunk_shape[0] = self.spec.chunk_runs as u64;
            }
            let mut attributes = Map::new();
            if let Some(labels) = dims.last().and_then(|d| labels_of(d)) {
                attributes.insert("labels".into(), json!(labels));
            }
            let built = ArrayBuilder::new(shape, chunk_shape, data_type, fill)
                .bytes_to_bytes_codecs(vec![
                    codec(array.data.element_bytes()).map_err(|e| err(&e))?,
                ])
                .dimension_names(Some(dims))
                .attributes(attributes)
                .build(self.store.clone(), &format!("/{}", array.name))
                .map_err(|e| err(&e))?;
            write_metadata(&self.array_metadata_path(&array.name), built.metadata())?;
            if per_run {
                let row_len = array.shape[1..].iter().product();
                let run_array = RunArray {
                    name: array.name.clone(),
                    array: built,
                    row_len,
                };
                if array.name == "status" {
                    status = Some(run_array);
                } else {
                    run_arrays.push(run_array);
                }
            } else if !array.data.is_empty() {
                store_data(&built, &vec![0; array.shape.len()], array.data.clone())
                    .map_err(|e| err(&e))?;
            }
        }
        let status = status.ok_or_else(|| ResultsError::ChunkLayout("status".into()))?;
        run_arrays.push(status);
        self.arrays = run_arrays;
        Ok(())
    }

    fn array_metadata_path(&self, name: &str) -> PathBuf {
        self.root.join(name).join("zarr.json")
    }

    /// The file that marks chunk `index` whole.
    fn status_chunk(&self, index: usize) -> PathBuf {
        self.root.join("status").join("c").join(index.to_string())
    }
}

/// Writes a metadata document atomically, as zarrs would lay it out.
fn write_metadata(path: &Path, metadata: &impl serde::Serialize) -> Result<(), ResultsError> {
    let bytes = serde_json::to_vec_pretty(metadata).map_err(|e| zarr_error(path, e))?;
    AtomicFileStore::write_file(path, &bytes).map_err(super::partial::io_error(path))
}

/// Stores numeric `data` as the chunk at `indices` of `array`, encoding
/// straight from the chunk's own memory.
fn store_borrowed(
    array: &Array<AtomicFileStore>,
    indices: &[u64],
    data: &ArrayData,
) -> Result<(), zarrs::array::ArrayError> {
    let bytes: &[u8] = match data {
        ArrayData::F32(v) => bytemuck::cast_slice(v),
        ArrayData::F64(v) => bytemuck::cast_slice(v),
        ArrayData::I32(v) => bytemuck::cast_slice(v),
        ArrayData::I64(v) => bytemuck::cast_slice(v),
        ArrayData::Str(v) => return array.store_chunk(indices, v.clone()),
    };
    array.store_chunk(indices, zarrs::array::ArrayBytes::from(bytes))
}

/// Stores `data` as the chunk at `indices` of `array`.
fn store_data(
    array: &Array<AtomicFileStore>,
    indices: &[u64],
    data: ArrayData,
) -> Result<(), zarrs::array::ArrayError> {
    match data {
        ArrayData::F32(v) => array.store_chunk(indices, v),
        ArrayData::F64(v) => array.store_chunk(indices, v),
        ArrayData::I32(v) => array.store_chunk(indices, v),
        ArrayData::I64(v) => array.store_chunk(indices, v),
        ArrayData::Str(v) => array.store_chunk(indices, v),
    }
}

impl ResultSink for ZarrStore {
    fn write_chunk(
        &mut self,
        index: usize,
        runs: std::ops::Range<usize>,
        chunk: &SolveResult,
    ) -> Result<(), ResultsError> {
        let c = self.spec.chunk_runs;
        if runs.start != index * c || runs.end != (runs.start + c).min(self.spec.n_runs) {
            return Err(ResultsError::ChunkOrder {
                expected: index * c,
                got: runs.start,
            });
        }
        if self.arrays.is_empty() {
            self.create_arrays(chunk)?;
        }
        let write = |run_array: &RunArray| -> Result<(), ResultsError> {
            let array: &NamedArray = chunk
                .get(&run_array.name)
                .filter(|a| a.shape.first() == Some(&runs.len()))
                .ok_or_else(|| ResultsError::ChunkLayout(run_array.name.clone()))?;
            let mut indices = vec![0u64; array.shape.len()];
            indices[0] = index as u64;
            let len = c * run_array.row_len;
            let stored = if array.data.len() == len {
                store_borrowed(&run_array.array, &indices, &array.data)
            } else {
                // The edge chunk, padded to a whole chunk.
                store_data(&run_array.array, &indices, padded(&array.data, len))
            };
            stored.map_err(|e| zarr_error(&self.root, e))
        };
        // Arrays compress in parallel; status goes last, once the others
        // are on disk: its presence marks the chunk whole.
        let (status, others) = self
            .arrays
            .split_last()
            .ok_or_else(|| ResultsError::ChunkLayout("status".into()))?;
        others.par_iter().try_for_each(write)?;
        write(status)
    }

    fn finish(&mut self) -> Result<(), ResultsError> {
        Ok(())
    }

    fn has_chunk(&self, index: usize) -> Result<bool, ResultsError> {
        Ok(self.status_chunk(index).is_file())
    }
}

/// Blosc's LZ4 behind a byte shuffle, at Blosc's default level. The
/// shuffle groups the floats' sign and exponent bytes, which is what makes
/// a chaotic series compress at all (Lorenz runs, f32: 0.53 of the raw
/// size, zstd level 1 alone 0.92), and LZ4 keeps up with the solver: a
/// solve to a store took 1.1-1.25x the time of the same solve with nothing
/// written, against 1.5x with zstd.
fn codec(element_bytes: usize) -> Result<Arc<dyn BytesToBytesCodecTraits>, String> {
    let level = BloscCompressionLevel::try_from(BLOSC_LEVEL).map_err(|e| e.to_string())?;
    let codec = BloscCodec::new(
        BloscCompressor::LZ4,
        level,
        None,
        BloscShuffleMode::Shuffle,
        Some(element_bytes),
    )
    .map_err(|e| e.to_string())?;
    Ok(Arc::new(codec))
}
