//! SL501: a `threading.local()` object whose attributes are written by code that runs on an event
//! loop.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::facts::{AccessPath, FuncIdx, Root, Span, Value};
use crate::knowledge;
use crate::project::{ClassId, EdgeKind, FileId, FuncId, Project, Resolved};

use super::common;
use super::{Context, Rule, RuleMeta};

pub struct ThreadingLocalInAsync;

static META: RuleMeta = RuleMeta {
    code: "SL501",
    name: "threading-local-in-async",
    summary: "A `threading.local()` object is written by `async def` code: every coroutine on the loop thread shares it",
    severity: Severity::Error,
    enabled_by_default: true,
    document: include_str!("../../docs/rules/SL501.md"),
};

/// A thread-local object: its name and where it is created.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct LocalObject {
    name: String,
    file: FileId,
    span: Span,
}

impl Rule for ThreadingLocalInAsync {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic> {
        let project = context.project;
        let finder = Finder::new(project);
        if finder.names.is_empty() {
            return Vec::new();
        }
        let mut groups: BTreeMap<(FileId, FuncIdx, LocalObject), Vec<(Span, String)>> =
            BTreeMap::new();
        let mut coroutine_of: HashMap<(FileId, FuncIdx), FuncId> = HashMap::new();
        let runners = loop_functions(project);
        for (file_id, file) in project.files.iter().enumerate() {
            let file_id = file_id as FileId;
            let facts = &file.facts;
            let first = project.function_id(file_id, 0).0 as usize;
            let mut in_async: Vec<Option<FuncId>> =
                runners[first..first + facts.functions.len()].to_vec();
            for (function, runner) in in_async.iter_mut().enumerate() {
                if common::in_test_code(project, file_id, function as FuncIdx) {
                    *runner = None;
                }
            }
            if in_async.iter().all(Option::is_none) {
                continue;
            }
            for assignment in &facts.attribute_assignments {
                if in_async[assignment.function as usize].is_none() {
                    continue;
                }
                if let Some(object) =
                    finder.object(file_id, assignment.function, &assignment.object)
                {
                    if let Some(coroutine) = in_async[assignment.function as usize] {
                        coroutine_of.insert((file_id, assignment.function), coroutine);
                    }
                    let written = format!("{}.{}", assignment.object.display(), assignment.attr);
                    groups
                        .entry((file_id, assignment.function, object))
                        .or_default()
                        .push((assignment.span, written));
                }
            }
            for mutation in &facts.mutations {
                if in_async[mutation.function as usize].is_none()
                    || mutation.target.attrs.is_empty()
                {
                    continue;
                }
                // The thread-local is a proper prefix of the changed object's path.
                let mut prefix = mutation.target.clone();
                prefix.attrs.pop();
                if let Some(object) = finder.object(file_id, mutation.function, &prefix) {
                    if let Some(coroutine) = in_async[mutation.function as usize] {
                        coroutine_of.insert((file_id, mutation.function), coroutine);
                    }
                    let written = mutation.target.display();
                    groups
                        .entry((file_id, mutation.function, object))
                        .or_default()
                        .push((mutation.span, written));
                }
            }
        }
        groups
            .into_iter()
            .map(|((file, function, object), mut sites)| {
                sites.sort_by_key(|s| s.0);
                sites.dedup_by_key(|s| s.0);
                let coroutine = coroutine_of[&(file, function)];
                report(project, file, function, coroutine, &object, &sites)
            })
            .collect()
    }
}

/// Finds the thread-local object an access path denotes.
struct Finder<'p> {
    project: &'p Project,
    /// Names bound (module, class or instance level) to a call that may create a thread-local.
    names: HashSet<&'p str>,
    /// `self.attr = threading.local()` in a method of a class.
    instance: HashMap<(ClassId, &'p str), LocalObject>,
}

impl<'p> Finder<'p> {
    fn new(project: &'p Project) -> Self {
        let local_classes: HashSet<&str> = project
            .class_ids()
            .filter(|c| {
                !project.class(*c).1.bases.is_empty()
                    && project.inherits_external(*c, knowledge::THREAD_LOCAL_TYPES)
            })
            .map(|c| project.class(c).1.name.as_str())
            .collect();
        let may_create = |value: &Value| match value {
            Value::Call { callee } => {
                let last = callee.rsplit('.').next().unwrap_or(callee);
                last == "local" || local_classes.contains(last)
            }
            _ => false,
        };
        let mut names = HashSet::new();
        let mut instance = HashMap::new();
        for (file_id, file) in project.files.iter().enumerate() {
            let file_id = file_id as FileId;
            let facts = &file.facts;
            for binding in facts
                .globals
                .iter()
                .chain(facts.classes.iter().flat_map(|c| c.bindings.iter()))
            {
                if may_create(&binding.value) {
                    names.insert(binding.name.as_str());
                }
            }
            for assignment in &facts.attribute_assignments {
                if assignment.object == AccessPath::new(Root::SelfParam)
                    && may_create(&assignment.value)
                    && is_thread_local(
                        project,
                        file_id,
                        Some(assignment.function),
                        &assignment.value,
                    )
                    && let Some(class) = project.method_class(file_id, assignment.function)
                {
                    names.insert(assignment.attr.as_str());
                    instance
                        .entry((class, assignment.attr.as_str()))
                        .or_insert(LocalObject {
                            name: format!("self.{}", assignment.attr),
                            file: file_id,
                            span: assignment.span,
                        });
                }
            }
        }
        Finder {
            project,
            names,
            instance,
        }
    }

    fn object(&self, file: FileId, function: FuncIdx, path: &AccessPath) -> Option<LocalObject> {
        let last = match (path.attrs.last(), &path.root) {
            (Some(last), _) => last.as_str(),
            (None, Root::Global(name)) => name.as_str(),
            _ => return None,
        };
        if !self.names.contains(last) {
            return None;
        }
        let project = self.project;
        if let Some(binding) =
            common::binding_of_path(project, file, function, path, path.attrs.len())
        {
            let binding_file = binding.file(project);
            let facts = binding.binding();
            if is_thread_local(project, binding_file, None, &facts.value) {
                return Some(LocalObject {
                    name: path.display(),
                    file: binding_file,
                    span: facts.span,
                });
            }
        }
        if path.root == Root::SelfParam && path.attrs.len() == 1 {
            let class = project.method_class(file, function)?;
            return common::class_hierarchy(project, class)
                .iter()
                .find_map(|c| self.instance.get(&(*c, last)).cloned());
        }
        None
    }
}

/// For each function of the project, the coroutine whose event loop runs it: itself when it is
/// `async def`, the coroutine around it when nested in one, or a coroutine that calls it,
/// directly or through other functions, in any module (a `@contextmanager` helper, a classmethod,
/// a method of a helper object).
fn loop_functions(project: &Project) -> Vec<Option<FuncId>> {
    let mut coroutine: Vec<Option<FuncId>> = Vec::new();
    for (file, source) in project.files.iter().enumerate() {
        let file = file as FileId;
        for (index, function) in source.facts.functions.iter().enumerate() {
            let id = project.function_id(file, index as FuncIdx);
            let around = function
                .parent
                .and_then(|p| coroutine[project.function_id(file, p).0 as usize]);
            coroutine.push(if function.is_async { Some(id) } else { around });
        }
    }
    let graph = project.call_graph();
    let mut queue: Vec<FuncId> = (0..coroutine.len() as u32)
        .map(FuncId)
        .filter(|f| coroutine[f.0 as usize].is_some())
        .collect();
    while let Some(caller) = queue.pop() {
        let origin = coroutine[caller.0 as usize];
        for edge in graph.callees(caller) {
            if !matches!(edge.kind, EdgeKind::Call | EdgeKind::SelfCall) {
                continue;
            }
            let callee = project.function(edge.to).1;
            let slot = &mut coroutine[edge.to.0 as usize];
            if !callee.is_async && slot.is_none() {
                *slot = origin;
                queue.push(edge.to);
            }
        }
    }
    coroutine
}

fn is_thread_local(
    project: &Project,
    file: FileId,
    function: Option<FuncIdx>,
    value: &Value,
) -> bool {
    let Value::Call { callee } = value else {
        return false;
    };
    match project.resolve(file, function, callee) {
        Resolved::External(q) => knowledge::THREAD_LOCAL_TYPES.contains(&q.as_str()),
        Resolved::Class(class) => project.inherits_external(class, knowledge::THREAD_LOCAL_TYPES),
        _ => false,
    }
}

fn report(
    project: &Project,
    file: FileId,
    function: FuncIdx,
    coroutine: FuncId,
    object: &LocalObject,
    sites: &[(Span, String)],
) -> Diagnostic {
    let functions = &project.file(file).facts.functions;
    let facts = &functions[function as usize];
    let (runner_file, runner) = project.function(coroutine);
    let mut inside = false;
    let mut parent = facts.parent;
    while let Some(p) = parent {
        inside |= project.function_id(file, p) == coroutine;
        parent = functions[p as usize].parent;
    }
    let how = if facts.is_async {
        format!("coroutine `{}`", facts.name)
    } else if inside {
        format!("`{}`, inside coroutine `{}`,", facts.name, runner.name)
    } else {
        format!("`{}`, called from coroutine `{}`,", facts.name, runner.name)
    };
    let message = format!(
        "`{}` is a `threading.local`, but {how} writes `{}`: every coroutine on the event loop's thread shares it",
        object.name, sites[0].1
    );
    let mut related = vec![Label::new(
        object.file,
        object.span,
        "one value per thread, not per request or task",
    )];
    if coroutine != project.function_id(file, function) {
        related.push(Label::new(
            runner_file,
            runner.span,
            "runs on the event loop",
        ));
    }
    related.extend(
        sites[1..]
            .iter()
            .map(|(span, _)| Label::and_here(file, *span)),
    );
    META.diagnostic(
        message,
        Label::new(file, sites[0].0, "written here, on the event loop's thread"),
    )
    .with_related(related)
    .with_note(
        "an event loop runs many requests on one thread, switching at every `await`: what \
         one request writes here is read by whichever request runs next",
    )
    .with_help(
        "use a `contextvars.ContextVar` (each task runs in its own context), or \
         `asgiref.local.Local`",
    )
    .with_identity(vec![facts.qualname.to_string(), object.name.clone()])
}
