//! The layout report of a whole registry: one row per placed entry and the
//! per-run totals of each tree, as JSON (serde) or an aligned text table.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::error::RegistryError;
use super::locations::Region;
use super::registry::BufferRegistry;
use crate::precision::Precision;

/// One placed entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRow {
    /// Owner path, e.g. `kernel/loop/step`.
    pub owner: String,
    /// Entry name (a buffer, or a `<child>_shared` / `<child>_persistent`
    /// host entry).
    pub name: String,
    /// The region it was placed in.
    pub location: Region,
    /// Offset within the owner's region.
    pub offset: usize,
    /// Elements registered.
    pub size: usize,
    /// Alias target, if it has one.
    pub alias: Option<String>,
    /// It has an alias target but did not overlay it.
    pub fell_back: bool,
    /// Absolute offset in the run's CPU arena.
    pub arena_offset: usize,
    /// Element type.
    pub precision: Precision,
}

/// What one run of a tree needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunTotals {
    /// The tree's root.
    pub root: String,
    /// Shared elements per run.
    pub shared: usize,
    /// Persistent-local elements per run.
    pub persistent: usize,
    /// Local-array elements per run (the whole tree).
    pub local: usize,
    /// CPU arena elements per run.
    pub arena: usize,
    /// Shared bytes per run, at the registry's precision.
    pub shared_bytes: usize,
}

/// The layout of every tree of a registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayoutReport {
    /// Components depth first, each entry in layout order.
    pub rows: Vec<ReportRow>,
    /// One per root.
    pub totals: Vec<RunTotals>,
}

impl BufferRegistry {
    /// The layout report of every tree.
    pub fn report(&self) -> Result<LayoutReport, RegistryError> {
        let mut rows = Vec::new();
        let mut totals = Vec::new();
        for root in self.roots() {
            for c in self.subtree(root)? {
                let owner = self.path(c)?;
                for (name, p) in self.layout(c)? {
                    let (_, precision) = self.entry(c, &name)?;
                    rows.push(ReportRow {
                        owner: owner.clone(),
                        arena_offset: self.arena_range(c, &name)?.start,
                        name,
                        location: p.region,
                        offset: p.offset,
                        size: p.size,
                        alias: p.aliasing.parent().map(str::to_string),
                        fell_back: p.aliasing.fell_back(),
                        precision,
                    });
                }
            }
            let arena = self.arena_layout(root)?;
            totals.push(RunTotals {
                root: self.path(root)?,
                shared: arena.shared,
                persistent: arena.persistent,
                local: arena.local,
                arena: arena.total(),
                shared_bytes: arena.shared * self.precision().bytes(),
            });
        }
        Ok(LayoutReport { rows, totals })
    }
}

impl fmt::Display for LayoutReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header = [
            "owner",
            "buffer",
            "location",
            "offset",
            "size",
            "alias",
            "fell back",
            "arena",
        ];
        let cells: Vec<[String; 8]> = self
            .rows
            .iter()
            .map(|r| {
                [
                    r.owner.clone(),
                    r.name.clone(),
                    r.location.to_string(),
                    r.offset.to_string(),
                    r.size.to_string(),
                    r.alias.clone().unwrap_or_else(|| "-".into()),
                    if r.fell_back { "yes" } else { "-" }.into(),
                    r.arena_offset.to_string(),
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for row in &cells {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.len());
            }
        }
        // Text columns left-aligned, numbers right-aligned.
        let numeric = [false, false, false, true, true, false, false, true];
        let line = |f: &mut fmt::Formatter<'_>, row: &[&str]| -> fmt::Result {
            let parts: Vec<String> = row
                .iter()
                .zip(widths)
                .zip(numeric)
                .map(|((c, w), n)| {
                    if n {
                        format!("{c:>w$}")
                    } else {
                        format!("{c:<w$}")
                    }
                })
                .collect();
            writeln!(f, "{}", parts.join("  ").trim_end())
        };
        line(f, &header)?;
        for row in &cells {
            line(f, &row.each_ref().map(String::as_str))?;
        }
        for t in &self.totals {
            writeln!(
                f,
                "per run of {}: shared {} ({} bytes), persistent {}, local {}, arena {} elements",
                t.root, t.shared, t.shared_bytes, t.persistent, t.local, t.arena
            )?;
        }
        Ok(())
    }
}
