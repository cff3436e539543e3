//! The layout report of a whole registry: one row per placed entry and the
//! per-run totals of each tree, as JSON (serde) or an aligned text table.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::element::ElementType;
use super::error::RegistryError;
use super::locations::Region;
use super::registry::BufferRegistry;

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
    /// Absolute offset in the run's CPU arena (in its integer block for an
    /// integer buffer).
    pub arena_offset: usize,
    /// Element type.
    pub element: ElementType,
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
    /// CPU arena elements per run (real elements).
    pub arena: usize,
    /// Integer local-array elements per run (the whole tree).
    pub integer: usize,
    /// Shared bytes per run, at the registry's precision.
    pub shared_bytes: usize,
    /// Persistent-local bytes per run, at the registry's precision.
    pub persistent_bytes: usize,
    /// Bytes of the local arrays per run (the whole tree), each at its own
    /// element type, integer arrays included.
    pub local_bytes: usize,
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
            let mut local_bytes = 0;
            for c in self.subtree(root)? {
                let owner = self.path(c)?;
                for (name, p) in self.layout(c)? {
                    let (_, element) = self.entry(c, &name)?;
                    if p.region == Region::Local {
                        local_bytes += p.extent() * element.bytes();
                    }
                    rows.push(ReportRow {
                        owner: owner.clone(),
                        arena_offset: self.arena_range(c, &name)?.start,
                        name,
                        location: p.region,
                        offset: p.offset,
                        size: p.size,
                        alias: p.aliasing.parent().map(str::to_string),
                        fell_back: p.aliasing.fell_back(),
                        element,
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
                integer: arena.integer,
                shared_bytes: arena.shared * self.precision().bytes(),
                persistent_bytes: arena.persistent * self.precision().bytes(),
                local_bytes,
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
            "type",
            "location",
            "offset",
            "size",
            "alias",
            "fell back",
            "arena",
        ];
        let cells: Vec<[String; 9]> = self
            .rows
            .iter()
            .map(|r| {
                [
                    r.owner.clone(),
                    r.name.clone(),
                    r.element.to_string(),
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
        let numeric = [false, false, false, false, true, true, false, false, true];
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
                "per run of {}: shared {} ({} bytes), persistent {} ({} bytes), \
                 local arrays {} bytes, arena {} elements and {} integers",
                t.root,
                t.shared,
                t.shared_bytes,
                t.persistent,
                t.persistent_bytes,
                t.local_bytes,
                t.arena,
                t.integer
            )?;
        }
        Ok(())
    }
}
