//! SL401: `functools.lru_cache` / `functools.cache` on an instance method.

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::facts::{CallReceiver, Decorator, FunctionKind, MaxSize, Name};
use crate::knowledge;
use crate::model::Origin;
use crate::project::{ClassId, FileId, Project, Resolved};

use super::common;
use crate::model::import_path;

use super::{Context, Rule, RuleMeta};

pub struct CachedMethod;

static META: RuleMeta = RuleMeta {
    code: "SL401",
    name: "cached-method",
    summary: "`lru_cache`/`cache` on an instance method: one cache for all instances keeps the instances alive",
    severity: Severity::Warning,
    enabled_by_default: true,
    document: include_str!("../../docs/rules/SL401.md"),
};

impl Rule for CachedMethod {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic> {
        let project = context.project;
        let mut findings = Vec::new();
        for (file_id, file) in project.files.iter().enumerate() {
            let file_id = file_id as FileId;
            for (index, function) in file.facts.functions.iter().enumerate() {
                if function.kind != FunctionKind::Instance || function.decorators.is_empty() {
                    continue;
                }
                let Some(decorator) = common::cache_decorator(project, file_id, index as u32)
                else {
                    continue;
                };
                if !called_with_the_instance(project, file_id, index as u32, decorator)
                    || !has_many_instances(context, file_id, index as u32)
                    || common::in_test_code(project, file_id, index as u32)
                {
                    continue;
                }
                let bound = bound(project, file_id, index as u32, decorator);
                // `maxsize=0` caches nothing.
                if bound != Bound::Last(0) {
                    findings.push(report(project, file_id, index as u32, decorator, bound));
                }
            }
        }
        findings
    }
}

/// Whether every decorator written above the cache (applied after it, to what it returns) is one
/// known to have the cached function called with the instance first. Decorators below it wrap
/// the function before the cache does and do not change what the cache is called with.
fn called_with_the_instance(
    project: &Project,
    file: FileId,
    function: u32,
    cache: &Decorator,
) -> bool {
    let function = &project.file(file).facts.functions[function as usize];
    // Each decorator has a span of its own: the ones before the cache's are written above it.
    function
        .decorators
        .iter()
        .take_while(|d| d.span != cache.span)
        .all(|d| {
            project.resolves_to_any(
                file,
                function.parent,
                &d.name,
                knowledge::INSTANCE_PRESERVING_DECORATORS,
            )
        })
}

/// Enum members and classes (the instances of a metaclass) are created once per process, and so
/// is a singleton (`__new__` keeps its one instance) or a class the tree instantiates only once,
/// in one module-level binding: caching on them keeps nothing alive that was not alive anyway.
fn has_many_instances(context: &Context<'_>, file: FileId, function: u32) -> bool {
    let project = context.project;
    let Some(class) = project.method_class(file, function) else {
        return false;
    };
    !project.inherits_external(class, knowledge::ENUM_BASES)
        && !project.inherits_external(class, knowledge::METACLASS_BASES)
        && !common::is_singleton(project, class)
        && !instantiated_once_at_import(context, class)
}

/// Whether the only instance of `class` the tree creates is one module-level binding (`pool =
/// PluginPool()`): no subclass, and no other call of the class anywhere.
fn instantiated_once_at_import(context: &Context<'_>, class: ClassId) -> bool {
    let (project, model) = (context.project, context.model);
    let once = model
        .objects()
        .iter()
        .filter(|o| o.class == Some(class))
        .collect::<Vec<_>>();
    let [object] = once.as_slice() else {
        return false;
    };
    if object.origin != Origin::ModuleGlobal || !project.descendants(class).is_empty() {
        return false;
    }
    let name = project.class(class).1.name.as_str();
    let calls = project.files.iter().enumerate().flat_map(|(file, source)| {
        source
            .facts
            .calls
            .iter()
            .map(move |call| (file as FileId, call))
    });
    let mut constructions = calls.filter(|(file, call)| {
        // `PluginPool().expand()` is written `PluginPool.expand`.
        let constructed = match call.receiver() {
            CallReceiver::NewInstance => call.callee.rsplit_once('.').map_or("", |(c, _)| c),
            _ => call.callee.as_str(),
        };
        knowledge::last_segment(constructed) == name
            && matches!(project.resolve(*file, call.function(), constructed), Resolved::Class(c) if c == class)
    });
    // The module-level binding itself is one call of the class.
    constructions
        .next()
        .is_some_and(|(_, call)| call.function().is_none())
        && constructions.next().is_none()
}

/// How many entries the cache keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    Unbounded,
    Last(u32),
    /// Bounded, by a number the analysis does not know.
    Unknown,
}

/// `functools.cache` and `lru_cache(maxsize=None)` keep every entry; `lru_cache` keeps the last
/// 128 unless told otherwise; `maxsize=N` is known when `N` is a literal or a name the module
/// binds, once and in no other way, to a whole number before the decorator runs.
fn bound(project: &Project, file: FileId, function: u32, decorator: &Decorator) -> Bound {
    let scope = project.file(file).facts.functions[function as usize].parent;
    if !project.resolves_to_any(file, scope, &decorator.name, &["functools.lru_cache"]) {
        return Bound::Unbounded;
    }
    match &decorator.maxsize {
        MaxSize::NotGiven => Bound::Last(LRU_CACHE_DEFAULT_MAXSIZE),
        MaxSize::NoneLiteral => Bound::Unbounded,
        MaxSize::Literal(n) => Bound::Last(*n),
        MaxSize::Named {
            name,
            value: Some(n),
        } if scope.is_none()
            && !class_body_binds(project, file, function, name)
            && common::module_binds_once(project, file, name) =>
        {
            Bound::Last(*n)
        }
        MaxSize::Named { .. } | MaxSize::Other => Bound::Unknown,
    }
}

/// Whether the body of the class of method `function` binds `name` (a class attribute or a
/// method): the decorator's `maxsize=name` reads that, not the module's.
fn class_body_binds(project: &Project, file: FileId, function: u32, name: &Name) -> bool {
    project.method_class(file, function).is_some_and(|class| {
        project
            .class(class)
            .1
            .bindings
            .iter()
            .any(|b| b.name == *name)
            || project.own_method(class, name).is_some()
    })
}

/// `functools.lru_cache`'s `maxsize` when none is given.
const LRU_CACHE_DEFAULT_MAXSIZE: u32 = 128;

fn report(
    project: &Project,
    file: FileId,
    function: u32,
    decorator: &Decorator,
    bound: Bound,
) -> Diagnostic {
    let facts = &project.file(file).facts.functions[function as usize];
    let class = project
        .method_class(file, function)
        .map(|c| project.class(c).1.name.to_string())
        .unwrap_or_default();
    let cache = knowledge::last_segment(&decorator.name);
    let keeps = match bound {
        Bound::Last(1) => "keeps the last instance it was called on alive".to_string(),
        Bound::Last(n) => format!("keeps the last {n} instances it was called on alive"),
        Bound::Unbounded => "keeps each instance it was called on alive".to_string(),
        Bound::Unknown => {
            "keeps the instances of its latest calls alive, as many as its `maxsize`".to_string()
        }
    };
    let written = match &decorator.maxsize {
        MaxSize::Literal(n) => format!("{cache}(maxsize={n})"),
        MaxSize::Named { name, .. } => format!("{cache}(maxsize={name})"),
        _ => cache.to_string(),
    };
    let default_bound = if decorator.maxsize == MaxSize::NotGiven && matches!(bound, Bound::Last(_))
    {
        " (`lru_cache`'s default `maxsize`)"
    } else {
        ""
    };
    let message = format!(
        "`{written}` on method `{}` makes one cache for every `{class}`: it {keeps}{default_bound}",
        facts.qualname
    );
    let note = if let Bound::Last(n) = bound {
        format!(
            "the cache belongs to the function, not to the instance: `self` is part of every key, \
             so the last {n} call(s) keep their instance (and everything it references) in memory \
             until other calls push them out, and instances that compare equal are served each \
             other's results"
        )
    } else if bound == Bound::Unknown {
        "the cache belongs to the function, not to the instance: `self` is part of every key, so \
         instances (and everything they reference) stay in memory until enough other calls push \
         them out, and one caller's instance can decide what others are served"
            .to_string()
    } else {
        "the cache belongs to the function, not to the instance: `self` is part of every key, so \
         instances (and everything they reference) stay in memory until the process exits, and \
         one caller's instance can decide what others are served"
            .to_string()
    };
    META.diagnostic(
        message,
        Label::new(file, decorator.span, "one cache for the whole process"),
    )
    .with_related(vec![Label::new(
        file,
        facts.span,
        "an instance method: every call puts `self` into the cache key",
    )])
    .with_note(note)
    .with_help(
        "cache per instance (`functools.cached_property`, or a dict created in `__init__`), \
         or cache a module-level function of the values the result depends on",
    )
    .with_identity(vec![facts.qualname.to_string()])
    .with_object(import_path(project, file, &facts.qualname, None))
}
