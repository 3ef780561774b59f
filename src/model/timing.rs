//! When code runs: per call (after import, on requests) or only while modules are imported and
//! classes are created.

use crate::facts::{FileFacts, FuncIdx, FunctionFacts, FunctionKind, Root, Value};
use crate::knowledge;
use crate::project::{FileId, Project};

/// Whether the body of `function` in `file` is per-call code: code that runs after import, on
/// requests, rather than while modules are imported and classes are created.
///
/// Import-time code that lives in functions: class-creation hooks (`__init_subclass__`,
/// `__set_name__`, `__class_getitem__`), methods of metaclasses, decorators that store their
/// argument and return it (registration decorators), the closures a decorator factory returns,
/// and the factories themselves. A function nested in import-time code is import-time too, unless
/// that code returns it: a decorator's wrapper or a factory's view runs on each of its calls.
///
/// So are functions that only module-level code (or other import-time functions) calls, uses as
/// a decorator or registers, as the call graph sees them.
///
/// Code that runs once after import is not per-call code either: a framework's start-up hook
/// (`Integration.setup_once`, `AppConfig.ready`, see [`knowledge::START_UP_HOOK_BASES`]), a
/// call made inside a first-time block whose flag the block or the callee sets (`if not
/// self.discovered: self.discover_apps()`), and what only these call — unless a request reaches
/// it. Functions nested in such code are not covered: a set-up hook defines the wrappers it
/// installs, and they run on every call.
pub fn runs_per_call(project: &Project, file: FileId, function: FuncIdx) -> bool {
    !project
        .call_graph()
        .once_after_import(project.function_id(file, function))
        && runs_after_import(project, file, function)
}

/// Whether the body of `function` runs after import: per call, or once at start-up or on the
/// first call ([`runs_per_call`] without the code that runs once after import).
pub fn runs_after_import(project: &Project, file: FileId, function: FuncIdx) -> bool {
    let file_facts = &project.file(file).facts;
    let graph = project.call_graph();
    let mut current = Some(function);
    while let Some(idx) = current {
        let facts = &file_facts.functions[idx as usize];
        if graph.import_time_only(project.function_id(file, idx)) {
            return false;
        }
        if facts.class.is_some() && knowledge::CLASS_CREATION_METHODS.contains(&facts.name.as_str())
        {
            return false;
        }
        if is_decorator_shaped(file_facts, idx) || is_decorator_factory(file_facts, idx) {
            return false;
        }
        // A function its parent returns (a decorator's wrapper, a factory's view) runs when it is
        // called, whenever its parent ran.
        if facts.parent.is_some_and(|p| {
            file_facts.functions[p as usize]
                .returned_names
                .contains(&facts.name)
        }) {
            break;
        }
        current = facts.parent;
    }
    match project.method_class(file, function) {
        Some(class) => !project.inherits_external(class, knowledge::METACLASS_BASES),
        None => true,
    }
}

/// A function that stores a parameter and hands back one of its own parameters (not the
/// receiver) on every `return`: the shape of a registration decorator (`def register(func):
/// REGISTRY.append(func); return func`), which runs when the decorated definition executes.
fn is_decorator_shaped(facts: &FileFacts, idx: FuncIdx) -> bool {
    let function = &facts.functions[idx as usize];
    let [returned] = function.returned_names.as_slice() else {
        return false;
    };
    let skip_receiver = usize::from(matches!(
        function.kind,
        FunctionKind::Instance | FunctionKind::ClassMethod
    ));
    !function.returns_other
        && function
            .params
            .iter()
            .skip(skip_receiver)
            .any(|p| p.name == *returned)
        && stores_a_parameter(facts, idx)
}

/// Whether `function` stores one of its parameters where it outlives the call: in a container
/// (`REGISTRY[name] = func`, `cls.routes.append(func)`) or on an attribute (`C.last = func`).
fn stores_a_parameter(facts: &FileFacts, function: FuncIdx) -> bool {
    let params = &facts.functions[function as usize].params;
    let in_container = facts
        .function_ranges
        .get(function as usize)
        .is_some_and(|range| {
            facts
                .parameter_stores
                .iter()
                .any(|start| range.start <= *start && *start < range.end)
        });
    in_container
        || facts.attribute_assignments.iter().any(|a| {
            a.function == function
                && matches!(&a.value, Value::Alias(path)
                    if path.attrs.is_empty()
                        && matches!(&path.root, Root::Local(name) if params.iter().any(|p| p.name == *name)))
        })
}

/// A function that returns only decorator-shaped functions defined inside it:
/// `def route(path): def register(func): ...; return func; return register`.
fn is_decorator_factory(facts: &FileFacts, idx: FuncIdx) -> bool {
    let functions = &facts.functions;
    let function = &functions[idx as usize];
    if function.returns_other || function.returned_names.is_empty() {
        return false;
    }
    // Nested functions follow their parent in definition order.
    let nested: Vec<FuncIdx> = (idx + 1..functions.len() as FuncIdx)
        .take_while(|f| is_inside(functions, &functions[*f as usize], idx))
        .filter(|f| functions[*f as usize].parent == Some(idx))
        .collect();
    function.returned_names.iter().all(|name| {
        let mut named = nested
            .iter()
            .filter(|f| functions[**f as usize].name == *name)
            .peekable();
        named.peek().is_some() && named.all(|f| is_decorator_shaped(facts, *f))
    })
}

fn is_inside(functions: &[FunctionFacts], function: &FunctionFacts, ancestor: FuncIdx) -> bool {
    let mut parent = function.parent;
    while let Some(p) = parent {
        if p == ancestor {
            return true;
        }
        if p < ancestor {
            return false;
        }
        parent = functions[p as usize].parent;
    }
    false
}
