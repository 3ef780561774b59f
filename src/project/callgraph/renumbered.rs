//! A kept call graph in the ids of a link that added classes and functions
//! (`super::super::remap`).

use super::super::FuncId;
use super::super::remap::IdRemap;
use super::{CallGraph, Caller, Edge};

impl CallGraph {
    /// What the next build reads of this graph (each function's edges, the module-level edges
    /// and the classes made only at import; see `CallGraph::build`), with every id renumbered by `ids` for
    /// a project of `functions` functions; the rest (entry points, reach) is left empty: the
    /// build finds it again. The added functions have no edges; the edges from and to removed
    /// ones are dropped: only the changed files, whose edges are found again, had any.
    pub(in super::super) fn renumbered(self, functions: u32, ids: &IdRemap) -> CallGraph {
        let edge = |edge: &Edge| {
            Some(Edge {
                to: ids.function(edge.to)?,
                ..*edge
            })
        };
        let mut offsets = Vec::with_capacity(functions as usize + 1);
        let mut edges = Vec::with_capacity(self.edges.len());
        offsets.push(0);
        for old in (0..ids.old_function_count()).map(FuncId) {
            let Some(new) = ids.function(old) else {
                continue;
            };
            // The added functions before this one have no edges.
            while offsets.len() <= new.0 as usize {
                offsets.push(edges.len() as u32);
            }
            edges.extend(self.callees(old).iter().filter_map(edge));
            offsets.push(edges.len() as u32);
        }
        while offsets.len() <= functions as usize {
            offsets.push(edges.len() as u32);
        }
        let caller = |caller: Caller| match caller {
            Caller::Function(f) => ids.function(f).map(Caller::Function),
            other => Some(other),
        };
        CallGraph {
            offsets,
            edges,
            module_level_edges: self.module_level_edges.map(|files| {
                files
                    .into_iter()
                    .map(|file| {
                        file.iter()
                            .filter_map(|(from, e)| Some((caller(*from)?, edge(e)?)))
                            .collect()
                    })
                    .collect()
            }),
            // File ids stay: only classes and functions are renumbered.
            looked_into: self.looked_into,
            made_at_import: self
                .made_at_import
                .iter()
                .filter_map(|c| ids.class(*c))
                .collect(),
            ..CallGraph::default()
        }
    }
}
