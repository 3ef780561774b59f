//! Changes of a function's parameters in the function's own body (`def add(items, x):
//! items.append(x)`): what happens to an object the caller passes (`Location::Param`). A rule
//! that follows an argument into a callee (a mutable default handed on) asks which changes reach
//! the parameter it lands in.

use rustc_hash::FxHashMap as HashMap;

use crate::facts::Root;
use crate::project::{FileId, FuncId, Project};

use super::Model;

impl Model {
    /// The changes of parameter `param` (by position, receiver included) made in `function`'s
    /// own body (not in functions nested in it), as indexes in the file's `mutations`, in file
    /// order. Worked out on the first question and kept.
    pub fn parameter_changes(&self, project: &Project, function: FuncId, param: u32) -> &[u32] {
        self.parameter_changes
            .get_or_init(|| collect_parameter_changes(project))
            .get(&(function, param))
            .map_or(&[], Vec::as_slice)
    }
}

fn collect_parameter_changes(project: &Project) -> HashMap<(FuncId, u32), Vec<u32>> {
    let mut by_param: HashMap<(FuncId, u32), Vec<u32>> = HashMap::default();
    for (file, source) in project.files.iter().enumerate() {
        let file = file as FileId;
        let functions = &source.facts.functions;
        for (index, mutation) in source.facts.mutations.iter().enumerate() {
            let Root::Local(name) = &mutation.target.root else {
                continue;
            };
            let Some(param) = functions[mutation.function as usize]
                .params
                .iter()
                .position(|p| p.name == *name)
            else {
                continue;
            };
            by_param
                .entry((project.function_id(file, mutation.function), param as u32))
                .or_default()
                .push(index as u32);
        }
    }
    by_param
}
