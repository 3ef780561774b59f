//! How many instances a constructor's mutable default can reach. `def __init__(self, tags=[]):
//! self.tags = tags` shares the default among every instance built without `tags`; when the tree
//! builds exactly one such instance, and builds it once (module-level code, a framework's
//! start-up hook or what only such hooks call), no other instance holds the default, so changing
//! it through that instance leaks nothing between instances.

use crate::facts::{ArgPosition, CallReceiver, FlowSource, FuncIdx, FunctionKind};
use crate::knowledge;
use crate::project::{FileId, Project, Resolved};

/// Whether the default of parameter `param` (by position, the receiver included) of `function`,
/// an `__init__`, is held by one instance at most: exactly one construction in the tree leaves
/// the parameter to its default, and it runs once after import or at import time. Every
/// construction must be seen: a class with subclasses or a classmethod (`cls(...)`), or used as a
/// value (passed to a container or a factory, bound to another name) may be built anywhere, so
/// the answer is then no. A construction whose arguments cannot be read (a literal, `*args`)
/// counts as leaving the parameter to its default. Loops are not seen: a construction in a loop
/// of module-level code or of a start-up hook counts once.
pub fn default_held_by_one_instance(
    project: &Project,
    file: FileId,
    function: FuncIdx,
    param: u32,
) -> bool {
    let facts = &project.file(file).facts.functions[function as usize];
    if facts.name != "__init__" || facts.kind != FunctionKind::Instance || param == 0 {
        return false;
    }
    let Some(param_name) = facts.params.get(param as usize).map(|p| p.name.as_str()) else {
        return false;
    };
    let Some(class) = project.method_class(file, function) else {
        return false;
    };
    if !project.descendants(class).is_empty() {
        return false;
    }
    if project.has_class_method(class) {
        return false;
    }
    let class_name = project.class(class).1.name.as_str();
    let graph = project.call_graph();
    let mut left_to_default = 0;
    for (site_file, source) in project.files.iter().enumerate() {
        let site_file = site_file as FileId;
        let facts = &source.facts;
        let names_class = |written: &str, site_function: Option<FuncIdx>| {
            knowledge::last_segment(written) == class_name
                && matches!(project.resolve(site_file, site_function, written),
                    Resolved::Class(c) if c == class)
        };
        // Used as a value: `factories = [Gate]`, `make = Gate`.
        if facts.flows.iter().any(|flow| {
            matches!(&flow.source(), FlowSource::Name { receiver: CallReceiver::Name, name }
                if names_class(name, flow.function()))
        }) {
            return false;
        }
        for (index, site) in facts.calls.iter().enumerate() {
            let written = match site.receiver() {
                CallReceiver::NewInstance => site.callee.rsplit_once('.').map_or("", |(c, _)| c),
                CallReceiver::Name => site.callee.as_str(),
                _ => continue,
            };
            if !names_class(written, site.function()) {
                continue;
            }
            if site.reference() {
                return false;
            }
            let passed = facts
                .flows
                .iter()
                .any(|flow| match flow.target().argument() {
                    Some((call, position)) if call as usize == index => {
                        match position {
                            // Positions as written, after the bound receiver.
                            ArgPosition::Index(i) => i + 1 >= param,
                            ArgPosition::Keyword(k) => k == param_name,
                        }
                    }
                    _ => false,
                });
            if passed {
                continue;
            }
            left_to_default += 1;
            let once = match site.function() {
                None => true,
                Some(f) => graph.once_after_import(project.function_id(site_file, f)),
            };
            if !once || left_to_default > 1 {
                return false;
            }
        }
    }
    left_to_default == 1
}
