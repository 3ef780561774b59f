//! The results of cached functions (`functools.lru_cache`, `functools.cache`) as objects: a
//! cached function hands every caller with the same arguments the one object it stored, so each
//! such function's result is an object created once, and a caller that changes what it got
//! back changes that object: through the call (`get_config().append(x)`) or through a local
//! bound to the call (`config = get_config(); config["k"] = v`).

use rustc_hash::FxHashMap as HashMap;

use crate::facts::{Decorator, FuncIdx, MutationKind, Root, Span};
use crate::knowledge;
use crate::project::{FileId, FuncId, Project};

use super::lookup::resolve_callee;
use super::{Creation, Lifetime, Location, Model, Object, Origin, Through, import_path};

/// The cached functions' results and the changes callers make to them.
#[derive(Debug, Default)]
pub struct CachedResults {
    /// One object per cached function of the tree, of origin [`Origin::CachedResult`], created
    /// at its cache decorator.
    pub objects: Vec<Object>,
    pub changes: Vec<CachedResultChange>,
}

/// A caller's change of a cached function's result.
#[derive(Debug, Clone)]
pub struct CachedResultChange {
    pub file: FileId,
    pub function: FuncIdx,
    pub span: Span,
    /// Index in [`CachedResults::objects`].
    pub object: u32,
    pub kind: MutationKind,
    /// [`Through::CallResult`] for a change of the call itself, [`Through::Instance`] for one
    /// through a local bound to the call.
    pub through: Through,
    /// The change is made to the result itself (`f().clear()`, `x.clear()`), not to an
    /// attribute or item of it (`x.items.clear()`, `x[k].clear()`).
    pub direct: bool,
}

impl CachedResults {
    /// The cached function whose result `object` is.
    pub fn function(&self, object: u32) -> FuncId {
        match self.objects[object as usize].origin {
            Origin::CachedResult(function) => function,
            _ => unreachable!("cached results are only created by cached functions"),
        }
    }
}

impl Model {
    /// The results of the tree's cached functions and their callers' changes of them, in file
    /// order (per file: changes through locals, attribute stores through locals, changes of
    /// calls). Worked out on the first question and kept.
    pub fn cached_results(&self, project: &Project) -> &CachedResults {
        self.cached_results
            .get_or_init(|| collect_cached_results(project))
    }
}

/// The `lru_cache`/`cache` decorator of `function` in `file`, if it has one.
pub fn cache_decorator(project: &Project, file: FileId, function: FuncIdx) -> Option<&Decorator> {
    let facts = &project.file(file).facts.functions[function as usize];
    facts.decorators.iter().find(|d| {
        may_be_cache_decorator(project, file, &d.name)
            // Decorators are evaluated in the scope around the definition.
            && project.resolves_to_any(file, facts.parent, &d.name, knowledge::CACHE_DECORATORS)
    })
}

/// Whether a decorator written `name` in `file` could be `lru_cache`/`cache`: its name is one, or
/// it is imported under another name from one. A cheap filter before resolving.
fn may_be_cache_decorator(project: &Project, file: FileId, name: &str) -> bool {
    knowledge::is_cache_decorator_name(name)
        || project.file(file).facts.imports.iter().any(|import| {
            import.binding == name
                && matches!(&import.target, crate::facts::ImportTarget::Member { name, .. }
                    if knowledge::is_cache_decorator_name(name))
        })
}

fn collect_cached_results(project: &Project) -> CachedResults {
    let mut results = CachedResults::default();
    let mut object_of: HashMap<FuncId, u32> = HashMap::default();
    for (file, source) in project.files.iter().enumerate() {
        let file = file as FileId;
        for (index, function) in source.facts.functions.iter().enumerate() {
            if function.decorators.is_empty() {
                continue;
            }
            let Some(decorator) = cache_decorator(project, file, index as u32) else {
                continue;
            };
            let id = project.function_id(file, index as u32);
            object_of.insert(id, results.objects.len() as u32);
            results.objects.push(Object {
                file,
                site: decorator.span,
                creation: Creation::Call(function.name),
                origin: Origin::CachedResult(id),
                lifetime: Lifetime::Once,
                class: None,
                path: import_path(project, file, &function.qualname, Some("<cached result>")),
                home: Some(Location::Return(id)),
            });
        }
    }
    if object_of.is_empty() {
        return results;
    }
    // A cheap test by the called name before resolving a call.
    let names: std::collections::HashSet<&str> = object_of
        .keys()
        .map(|f| project.function(*f).1.name.as_str())
        .collect();
    let named = |callee: &str| names.contains(knowledge::last_segment(callee));
    let cached_object = |file: FileId, function: FuncIdx, callee: &str| {
        if !named(callee) {
            return None;
        }
        let (callee, _) = resolve_callee(project, file, function, callee)?;
        object_of.get(&callee).copied()
    };
    for (file, source) in project.files.iter().enumerate() {
        let file = file as FileId;
        let facts = &source.facts;
        // Locals bound to a call of a cached function: (function, local) -> its result.
        let mut bound: HashMap<(FuncIdx, &str), u32> = HashMap::default();
        for (index, function) in facts.functions.iter().enumerate() {
            for local in function.typed_locals.iter().filter(|l| l.exact) {
                if let Some(object) = cached_object(file, index as u32, &local.class) {
                    bound.insert((index as u32, local.name.as_str()), object);
                }
            }
        }
        let mut change = |function, span, object, kind, through, direct| {
            results.changes.push(CachedResultChange {
                file,
                function,
                span,
                object,
                kind,
                through,
                direct,
            });
        };
        if !bound.is_empty() {
            for mutation in &facts.mutations {
                if let Root::Local(name) = &mutation.target.root
                    && let Some(&object) = bound.get(&(mutation.function, name.as_str()))
                {
                    let (function, span, kind) =
                        (mutation.function, mutation.span, mutation.kind.clone());
                    let direct = mutation.target.attrs.is_empty() && !mutation.nested;
                    change(function, span, object, kind, Through::Instance, direct);
                }
            }
            for assignment in &facts.attribute_assignments {
                if let Root::Local(name) = &assignment.object.root
                    && assignment.object.attrs.is_empty()
                    && let Some(&object) = bound.get(&(assignment.function, name.as_str()))
                {
                    let kind = MutationKind::AttributeAssign(assignment.attr);
                    let function = assignment.function;
                    change(
                        function,
                        assignment.span,
                        object,
                        kind,
                        Through::Instance,
                        true,
                    );
                }
            }
        }
        for mutation in &facts.call_result_mutations {
            if let Some(object) = cached_object(file, mutation.function, &mutation.callee) {
                let (function, span, kind) =
                    (mutation.function, mutation.span, mutation.kind.clone());
                let direct = mutation.direct;
                change(function, span, object, kind, Through::CallResult, direct);
            }
        }
    }
    results
}
