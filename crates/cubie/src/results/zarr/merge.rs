//! `cubie merge`: the shards of one sweep, written to separate stores,
//! joined into one store equal, file for file, to an unsharded solve's.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::atomic::AtomicFileStore;
use super::read::{StoreInfo, array_document, array_names, store_info};
use super::{differences, root_metadata};
use crate::results::ResultsError;
use crate::results::partial::io_error;

/// Every regular, non-hidden file under `dir`, relative to `base`.
fn files_under(dir: &Path, base: &Path, out: &mut Vec<PathBuf>) -> Result<(), ResultsError> {
    if dir.is_file() {
        if let Ok(rel) = dir.strip_prefix(base) {
            out.push(rel.to_path_buf());
        }
        return Ok(());
    }
    if !dir.is_dir() {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir).map_err(io_error(dir))? {
        let entry = entry.map_err(io_error(dir))?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        files_under(&entry.path(), base, out)?;
    }
    Ok(())
}

fn copy(from: &Path, to: &Path) -> Result<(), ResultsError> {
    let bytes = std::fs::read(from).map_err(io_error(from))?;
    AtomicFileStore::write_file(to, &bytes).map_err(io_error(to))
}

/// True for an array with one row per run (chunked along runs).
fn is_run_array(root: &Path, name: &str) -> Result<bool, ResultsError> {
    let document = array_document(root, name)?;
    Ok(document
        .pointer("/dimension_names/0")
        .and_then(Value::as_str)
        == Some("run"))
}

/// Merges the stores `inputs` (shards of one solve) into `out`, which may
/// be new or a store of the same solve. Every input must have been made by
/// the same solve and together they must hold every chunk; otherwise
/// nothing is written. Returns the merged store's info.
pub fn merge_stores(out: &Path, inputs: &[PathBuf]) -> Result<StoreInfo, ResultsError> {
    let first = inputs.first().ok_or_else(|| ResultsError::Zarr {
        path: out.display().to_string(),
        message: "nothing to merge".into(),
    })?;
    let infos = inputs
        .iter()
        .map(|p| store_info(p))
        .collect::<Result<Vec<_>, _>>()?;
    let spec = infos[0].spec.clone();
    for (path, info) in inputs.iter().zip(&infos).skip(1) {
        let stored = super::read_attributes(path)?.unwrap_or(Value::Null);
        let differ = differences(&stored, &spec);
        if !differ.is_empty() || info.spec != spec {
            return Err(ResultsError::StoreMismatch {
                path: path.display().to_string(),
                differences: differ,
            });
        }
    }
    let existing = if out.exists() {
        let info = store_info(out)?;
        let stored = super::read_attributes(out)?.unwrap_or(Value::Null);
        let differ = differences(&stored, &spec);
        if !differ.is_empty() {
            return Err(ResultsError::StoreMismatch {
                path: out.display().to_string(),
                differences: differ,
            });
        }
        Some(info)
    } else {
        None
    };
    // Which input supplies each chunk: the first that holds it whole.
    let n_chunks = spec.n_chunks();
    let source: Vec<Option<usize>> = (0..n_chunks)
        .map(|k| {
            if existing.as_ref().is_some_and(|e| e.chunks[k]) {
                return None;
            }
            infos.iter().position(|info| info.chunks[k])
        })
        .collect();
    let covered = StoreInfo {
        spec: spec.clone(),
        chunks: (0..n_chunks)
            .map(|k| source[k].is_some() || existing.as_ref().is_some_and(|e| e.chunks[k]))
            .collect(),
    };
    if !covered.is_complete() {
        return Err(ResultsError::MergeIncomplete {
            have: covered.complete_chunks(),
            of: n_chunks,
            missing: covered.missing(),
        });
    }

    // Metadata and the arrays every run shares, from whichever input has
    // them (all write the same bytes).
    if !root_metadata(out).is_file() {
        copy(&root_metadata(first), &root_metadata(out))?;
    }
    let mut run_arrays: Vec<String> = Vec::new();
    for input in inputs {
        for name in array_names(input)? {
            let per_run = is_run_array(input, &name)?;
            if per_run && !run_arrays.contains(&name) {
                run_arrays.push(name.clone());
            }
            let mut files = Vec::new();
            if per_run {
                files.push(PathBuf::from(&name).join("zarr.json"));
            } else {
                files_under(&input.join(&name), input, &mut files)?;
            }
            for file in files {
                if !out.join(&file).is_file() {
                    copy(&input.join(&file), &out.join(&file))?;
                }
            }
        }
    }
    // The status array last in every chunk: its file marks the chunk whole.
    run_arrays.retain(|n| n != "status");
    run_arrays.push("status".into());
    for (k, from) in source.iter().enumerate() {
        let Some(i) = *from else { continue };
        let input = &inputs[i];
        for name in &run_arrays {
            let mut files = Vec::new();
            files_under(
                &input.join(name).join("c").join(k.to_string()),
                input,
                &mut files,
            )?;
            for file in files {
                copy(&input.join(&file), &out.join(&file))?;
            }
        }
    }
    store_info(out)
}
