//! A kept call graph in the ids of a link that added classes and functions
//! (`super::super::remap`).

use super::super::FuncId;
use super::super::remap::IdRemap;
use super::{CallGraph, Caller, Edge};

impl CallGraph {
    /// What the next build reads of this graph (each function's edges, the module-level edges
    /// and the classes made once; see `CallGraph::build`), with every id renumbered by `ids` for
    /// a project of `functions` functions; the added functions have no edges, and the rest
    /// (entry points, reach) is left empty: the build finds it again.
    pub(in super::super) fn renumbered(self, functions: u32, ids: &IdRemap) -> CallGraph {
        let edge = |edge: &Edge| Edge {
            to: ids.function(edge.to),
            kind: edge.kind,
        };
        let mut offsets = Vec::with_capacity(functions as usize + 1);
        let mut edges = Vec::with_capacity(self.edges.len());
        offsets.push(0);
        for old in (0..ids.old_function_count()).map(FuncId) {
            // The added functions before this one's new id have no edges.
            let new = ids.function(old).0 as usize;
            while offsets.len() <= new {
                offsets.push(edges.len() as u32);
            }
            edges.extend(self.callees(old).iter().map(edge));
            offsets.push(edges.len() as u32);
        }
        while offsets.len() <= functions as usize {
            offsets.push(edges.len() as u32);
        }
        let caller = |caller: Caller| match caller {
            Caller::Function(f) => Caller::Function(ids.function(f)),
            other => other,
        };
        CallGraph {
            offsets,
            edges,
            module_level_edges: self.module_level_edges.map(|files| {
                files
                    .into_iter()
                    .map(|file| {
                        file.iter()
                            .map(|(from, e)| (caller(*from), edge(e)))
                            .collect()
                    })
                    .collect()
            }),
            single_instance: self.single_instance.iter().map(|c| ids.class(*c)).collect(),
            ..CallGraph::default()
        }
    }
}
