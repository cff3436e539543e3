//! Reading a store back: its spec, which chunks are whole, and its arrays
//! as a [`SolveResult`].

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use zarrs::array::Array;

use super::atomic::AtomicFileStore;
use super::layout::labels_of_dimension;
use super::{StoreSpec, read_attributes, zarr_error};
use crate::Precision;
use crate::results::{ArrayData, NamedArray, ResultsError, SolveResult};

/// What a store holds.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreInfo {
    /// Its batch and identity.
    pub spec: StoreSpec,
    /// For each chunk, whether it is whole.
    pub chunks: Vec<bool>,
}

impl StoreInfo {
    /// Chunks that are whole.
    pub fn complete_chunks(&self) -> usize {
        self.chunks.iter().filter(|c| **c).count()
    }

    /// True when every chunk is whole: the store is a result.
    pub fn is_complete(&self) -> bool {
        self.chunks.iter().all(|c| *c)
    }

    /// The missing chunks as ranges (`3..5, 9`).
    pub fn missing(&self) -> String {
        let mut parts = Vec::new();
        let mut k = 0;
        while k < self.chunks.len() {
            if self.chunks[k] {
                k += 1;
                continue;
            }
            let start = k;
            while k < self.chunks.len() && !self.chunks[k] {
                k += 1;
            }
            parts.push(if k - start == 1 {
                start.to_string()
            } else {
                format!("{start}..{}", k - 1)
            });
        }
        parts.join(", ")
    }
}

/// The spec of the store at `root` and which of its chunks are whole.
pub fn store_info(root: &Path) -> Result<StoreInfo, ResultsError> {
    let attributes = read_attributes(root)?
        .ok_or_else(|| ResultsError::NotAStore(root.display().to_string()))?;
    let number = |key: &str| {
        attributes
            .get(key)
            .and_then(Value::as_u64)
            .map(|n| n as usize)
            .ok_or_else(|| zarr_error(root, format!("attribute cubie.{key} is missing")))
    };
    let spec = StoreSpec {
        n_runs: number("n_runs")?,
        chunk_runs: number("chunk_runs")?,
        identity: attributes
            .get("identity")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
    };
    let chunks = (0..spec.n_chunks())
        .map(|k| root.join("status").join("c").join(k.to_string()).is_file())
        .collect();
    Ok(StoreInfo { spec, chunks })
}

/// An array's own metadata document.
pub(crate) fn array_document(root: &Path, name: &str) -> Result<Value, ResultsError> {
    let path = root.join(name).join("zarr.json");
    let text = std::fs::read_to_string(&path).map_err(crate::results::partial::io_error(&path))?;
    serde_json::from_str(&text).map_err(|e| zarr_error(&path, e))
}

/// The names of the arrays of the store at `root`, sorted.
pub(crate) fn array_names(root: &Path) -> Result<Vec<String>, ResultsError> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(root).map_err(crate::results::partial::io_error(root))? {
        let entry = entry.map_err(crate::results::partial::io_error(root))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && entry.path().join("zarr.json").is_file() {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// Reads the whole store at `root`: its info and every array, labels
/// under their `.npz` names. Meant for stores that fit in memory (tests,
/// small batches); unsolved runs read as fill values.
pub fn read_store(root: &Path) -> Result<(StoreInfo, SolveResult), ResultsError> {
    let info = store_info(root)?;
    let store = Arc::new(AtomicFileStore::new(root).map_err(|e| zarr_error(root, e))?);
    let mut result = SolveResult::new(Precision::F64, info.spec.n_runs);
    for name in array_names(root)? {
        let document = array_document(root, &name)?;
        let array =
            Array::open(store.clone(), &format!("/{name}")).map_err(|e| zarr_error(root, e))?;
        let shape: Vec<usize> = array.shape().iter().map(|&n| n as usize).collect();
        let subset = array.subset_all();
        let err = |e: zarrs::array::ArrayError| zarr_error(root, e);
        let data = match document.get("data_type").and_then(Value::as_str) {
            Some("float32") => {
                result.precision = Precision::F32;
                ArrayData::F32(array.retrieve_array_subset(&subset).map_err(err)?)
            }
            Some("float64") => ArrayData::F64(array.retrieve_array_subset(&subset).map_err(err)?),
            Some("int32") => ArrayData::I32(array.retrieve_array_subset(&subset).map_err(err)?),
            Some("int64") => ArrayData::I64(array.retrieve_array_subset(&subset).map_err(err)?),
            Some("string") => {
                let labels: Vec<String> = array.retrieve_array_subset(&subset).map_err(err)?;
                if let Some(label_name) = labels_of_dimension(&name) {
                    result.insert(NamedArray::labels(label_name, &labels));
                }
                continue;
            }
            other => {
                return Err(zarr_error(
                    root,
                    format!("array `{name}` has an unknown data type {other:?}"),
                ));
            }
        };
        result.insert(NamedArray::new(name, shape, data));
    }
    Ok((info, result))
}
