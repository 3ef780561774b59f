//! In-place changes of a function's own locals (`objects.append(x)`, `row[k] = v`): a local
//! filled this way may hold more than the assignments that bind it say, so a rule following a
//! stored value's inputs through assignments asks whether such a change comes before the store.

use rustc_hash::FxHashMap as HashMap;

use crate::facts::{FuncIdx, Root};
use crate::project::{FileId, Project};

use super::Model;

impl Model {
    /// Where (the start offset) the first in-place change of a local of `function` in `file`
    /// is, if the function changes one. Worked out on the first question and kept.
    pub fn first_local_change(
        &self,
        project: &Project,
        file: FileId,
        function: FuncIdx,
    ) -> Option<u32> {
        self.first_local_changes
            .get_or_init(|| collect_first_local_changes(project))
            .get(&(file, function))
            .copied()
    }
}

fn collect_first_local_changes(project: &Project) -> HashMap<(FileId, FuncIdx), u32> {
    let mut first: HashMap<(FileId, FuncIdx), u32> = HashMap::default();
    for (file, source) in project.files.iter().enumerate() {
        for mutation in &source.facts.mutations {
            if matches!(mutation.target.root, Root::Local(_)) {
                first
                    .entry((file as FileId, mutation.function))
                    .and_modify(|start| *start = (*start).min(mutation.span.start))
                    .or_insert(mutation.span.start);
            }
        }
    }
    first
}
