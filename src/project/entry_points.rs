//! Request entry points: the functions a framework calls once per request (or per task), found
//! through imports so that aliases and re-exports count.
//!
//! - decorators of framework objects: `@app.route`, `@bp.get`, `@router.post`, `@app.task`,
//!   `@app.before_request`, and known decorators (`@shared_task`, `@api_view`, ...);
//! - registrations: `app.add_url_rule(..., view_func=f)`, `path("", views.index)`,
//!   `path("", View.as_view())`, `Depends(f)`, `web.get("/", handler)`, ...;
//! - methods of subclasses of class-based views, endpoints, handlers, middleware and consumers
//!   (looked up along the MRO, so a mixin's method counts);
//! - Django middleware classes (`__init__(self, get_response)`), functions taking `request` first
//!   in `views` modules, WSGI (`environ, start_response`) and ASGI (`scope, receive, send`)
//!   callables;
//! - functions whose qualified name matches a `--entry-point` pattern.

use std::collections::{BTreeMap, HashSet};

use rayon::prelude::*;

use crate::facts::{CallReceiver, FuncIdx, FunctionKind, ImportTarget};
use crate::knowledge;

use super::callgraph::{INIT, Index, has_receiver, resolve_site};
use super::{ClassId, FileId, FuncId, Project, Resolved};

/// A function a framework calls per request, and why stateleak thinks so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryPoint {
    pub function: FuncId,
    /// `Flask route`, `Celery task`, `Django view`, `entry-point pattern app.jobs.*`, ...
    pub kind: String,
}

pub(super) fn find(project: &Project, index: &Index<'_>, patterns: &[String]) -> Vec<EntryPoint> {
    // Found file by file, then class by class, each on any thread, and merged in that order: the
    // first reason found for a function is the one it keeps.
    let of_files = (0..project.files.len() as FileId)
        .into_par_iter()
        .map(|file_id| {
            let file = project.file(file_id);
            let mut found = Vec::new();
            let mut add = |function: FuncId, kind: &str| found.push((function, kind.to_string()));
            let is_views_module = file.module == "views"
                || file.module.ends_with(".views")
                || file.module.contains(".views.");
            for (idx, function) in file.facts.functions.iter().enumerate() {
                let id = project.function_id(file_id, idx as FuncIdx);
                if let Some(kind) = decorated_entry(project, file_id, function) {
                    add(id, &kind);
                } else if let Some(kind) = callable_shape(function) {
                    add(id, kind);
                } else if is_views_module
                    && function.kind == FunctionKind::Module
                    && function.params.first().is_some_and(|p| p.name == "request")
                {
                    // Only the module's imports tell the framework: FastAPI and Starlette
                    // handlers also take `request` first.
                    let django = of_framework(project, file_id, "django");
                    add(id, if django { "Django view" } else { "view" });
                }
            }
            registrations(project, index, file_id, &mut add);
            found
        });
    let of_classes = (0..project.classes.len() as u32)
        .into_par_iter()
        .map(|class| {
            let mut found = Vec::new();
            class_entries(project, ClassId(class), &mut |function, kind: &str| {
                found.push((function, kind.to_string()));
            });
            found
        });
    let mut found: BTreeMap<FuncId, String> = BTreeMap::new();
    let found_in_order: Vec<Vec<(FuncId, String)>> = of_files.chain(of_classes).collect();
    for (function, kind) in found_in_order.into_iter().flatten() {
        found.entry(function).or_insert(kind);
    }
    if !patterns.is_empty() {
        for (id, (file, idx)) in project.functions.iter().enumerate() {
            let facts = &project.files[*file as usize].facts.functions[*idx as usize];
            let qualified = format!(
                "{}.{}",
                project.files[*file as usize].module, facts.qualname
            );
            if let Some(pattern) = patterns.iter().find(|p| glob_matches(p, &qualified)) {
                found
                    .entry(FuncId(id as u32))
                    .or_insert_with(|| format!("entry point `{pattern}`"));
            }
        }
    }
    found
        .into_iter()
        .map(|(function, kind)| EntryPoint { function, kind })
        .collect()
}

/// `@app.route(...)`, `@router.get(...)`, `@celery_app.task`, `@shared_task`, ...
fn decorated_entry(
    project: &Project,
    file: FileId,
    function: &crate::facts::FunctionFacts,
) -> Option<String> {
    for decorator in &function.decorators {
        if let Some((object, method)) = decorator.name.rsplit_once('.') {
            let is_route = knowledge::ROUTE_DECORATOR_METHODS.contains(&method);
            let is_hook = knowledge::HOOK_DECORATOR_METHODS.contains(&method);
            let is_task = knowledge::TASK_DECORATOR_METHODS.contains(&method);
            if is_route || is_hook || is_task {
                match framework_of(project, file, function.parent, object) {
                    Some(framework) if is_task && framework == "Celery" => {
                        return Some("Celery task".to_string());
                    }
                    Some(framework) if is_route && decorator.called && framework != "Celery" => {
                        return Some(format!("{framework} route"));
                    }
                    Some(framework) if is_hook && framework != "Celery" => {
                        return Some(format!("{framework} request hook"));
                    }
                    // A Celery app made by a factory (`celery = make_celery(app)`): the name says.
                    None if is_task
                        && knowledge::last_segment(object)
                            .to_ascii_lowercase()
                            .contains("celery") =>
                    {
                        return Some("Celery task".to_string());
                    }
                    // An application made by a factory or passed around: `.route(...)` is
                    // distinctive enough on its own.
                    None if decorator.called && matches!(method, "route" | "api_route") => {
                        return Some("route".to_string());
                    }
                    _ => {}
                }
            }
        }
        if let Resolved::External(q) = project.resolve(file, function.parent, &decorator.name)
            && let Some((_, kind)) = knowledge::ENTRY_DECORATORS.iter().find(|(n, _)| *n == q)
        {
            return Some(kind.to_string());
        }
    }
    None
}

/// The framework whose application, blueprint, router or task queue `object` (as written in
/// `file`, inside `function`) is.
fn framework_of(
    project: &Project,
    file: FileId,
    function: Option<FuncIdx>,
    object: &str,
) -> Option<&'static str> {
    let external = |q: &str| {
        knowledge::FRAMEWORK_OBJECTS
            .iter()
            .find(|(name, _)| *name == q)
            .map(|(_, framework)| *framework)
    };
    let constructed =
        |class_file: FileId, callee: &str| match project.resolve(class_file, None, callee) {
            Resolved::External(q) => external(&q),
            // A project subclass of the framework's class.
            Resolved::Class(class) => project
                .external_bases(class)
                .iter()
                .find_map(|q| external(q)),
            _ => None,
        };
    match project.resolve(file, function, object) {
        Resolved::Global(global_file, global) => {
            let binding = project
                .file(global_file)
                .facts
                .globals
                .get(global as usize)?;
            match &binding.value {
                crate::facts::Value::Call { callee } => constructed(global_file, callee),
                _ => None,
            }
        }
        Resolved::Unknown if !object.contains('.') => {
            let function = function?;
            let facts = &project.file(file).facts.functions;
            let mut current = Some(function);
            while let Some(f) = current {
                if let Some(local) = facts[f as usize]
                    .typed_locals
                    .iter()
                    .find(|t| t.name == object)
                {
                    return match project.resolve(file, Some(f), &local.class) {
                        Resolved::External(q) => external(&q),
                        _ => None,
                    };
                }
                current = facts[f as usize].parent;
            }
            None
        }
        _ => None,
    }
}

/// Start-up entry points: the methods of [`knowledge::START_UP_HOOK_BASES`] in subclasses of
/// their framework's base, whether the base is outside the tree or in it (the tree is the
/// framework), and the module-level functions of [`knowledge::START_UP_MODULE_FUNCTIONS`] in
/// modules of the framework or that import it, in function order.
pub(super) fn find_start_up(project: &Project) -> Vec<EntryPoint> {
    let bases_in_tree: Vec<(ClassId, usize)> = project
        .class_ids()
        .filter_map(|class| {
            let (file, facts) = project.class(class);
            let file = project.file(file);
            knowledge::START_UP_HOOK_BASES
                .iter()
                .position(|(base, _, _)| {
                    base.strip_suffix(facts.name.as_str())
                        .and_then(|module| module.strip_suffix('.'))
                        .is_some_and(|module| {
                            file.module == module || file.aliases.iter().any(|a| a == module)
                        })
                })
                .map(|hook| (class, hook))
        })
        .collect();
    let mut found: BTreeMap<FuncId, &'static str> = BTreeMap::new();
    for class in project.class_ids() {
        let hooks =
            knowledge::START_UP_HOOK_BASES
                .iter()
                .enumerate()
                .filter(|(hook, (base, _, _))| {
                    project.inherits_external(class, &[base])
                        || bases_in_tree
                            .iter()
                            .any(|(b, h)| h == hook && project.in_mro(class, *b))
                });
        for (_, (_, kind, methods)) in hooks {
            for method in *methods {
                if let Some(function) = project.lookup_method(class, method) {
                    found.entry(function).or_insert(kind);
                }
            }
        }
    }
    for (file_id, file) in project.files.iter().enumerate() {
        for (framework, kind, name) in knowledge::START_UP_MODULE_FUNCTIONS {
            if !of_framework(project, file_id as FileId, framework) {
                continue;
            }
            for (idx, function) in file.facts.functions.iter().enumerate() {
                if function.kind == FunctionKind::Module
                    && function.parent.is_none()
                    && function.name == *name
                {
                    found
                        .entry(project.function_id(file_id as FileId, idx as FuncIdx))
                        .or_insert(*kind);
                }
            }
        }
    }
    found
        .into_iter()
        .map(|(function, kind)| EntryPoint {
            function,
            kind: kind.to_string(),
        })
        .collect()
}

/// Whether `file` is a module of the `framework` package, or imports it (or one of its
/// submodules) at module level.
fn of_framework(project: &Project, file: FileId, framework: &str) -> bool {
    let in_framework = |module: &str| {
        module
            .strip_prefix(framework)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
    };
    let source = project.file(file);
    in_framework(&source.module)
        || source.facts.imports.iter().any(|import| {
            import.function.is_none()
                && match &import.target {
                    ImportTarget::Module(module) => in_framework(module),
                    ImportTarget::Member {
                        level: 0,
                        module: Some(module),
                        ..
                    } => in_framework(module),
                    ImportTarget::Member { .. } => false,
                }
        })
}

/// The kind of a WSGI callable, which a WSGI server calls as the application itself, once per
/// request.
pub const WSGI_APPLICATION: &str = "WSGI application";
/// The kind of an ASGI callable, which an ASGI server calls as the application itself, once per
/// connection or request.
pub const ASGI_APPLICATION: &str = "ASGI application";

/// WSGI and ASGI callables, by their parameters.
fn callable_shape(function: &crate::facts::FunctionFacts) -> Option<&'static str> {
    let is_call_method = function.kind == FunctionKind::Instance && function.name == "__call__";
    if function.kind != FunctionKind::Module && !is_call_method {
        return None;
    }
    let names: Vec<&str> = function
        .params
        .iter()
        .skip(usize::from(is_call_method))
        .map(|p| p.name.as_str())
        .collect();
    match names.as_slice() {
        ["environ", "start_response", ..] => Some(WSGI_APPLICATION),
        ["scope", "receive", "send"] if function.is_async => Some(ASGI_APPLICATION),
        _ => None,
    }
}

/// Functions and views passed to registration calls in `file`.
fn registrations(
    project: &Project,
    index: &Index<'_>,
    file: FileId,
    add: &mut impl FnMut(FuncId, &str),
) {
    let calls = &project.file(file).facts.calls;
    let mut registering: BTreeMap<u32, &'static str> = BTreeMap::new();
    for (i, site) in calls.iter().enumerate() {
        if site.reference() {
            continue;
        }
        let last = knowledge::last_segment(&site.callee);
        if site.callee.contains('.') && knowledge::REGISTRATION_METHODS.contains(&last) {
            registering.insert(i as u32, "registered route");
            continue;
        }
        let maybe_function = knowledge::may_be_registration_function(last);
        if maybe_function
            && site.receiver() == CallReceiver::Name
            && let Resolved::External(q) = project.resolve(file, site.function(), &site.callee)
            && let Some((_, kind)) = knowledge::REGISTRATION_FUNCTIONS
                .iter()
                .find(|(name, _)| *name == q)
        {
            registering.insert(i as u32, kind);
        }
    }
    if registering.is_empty() {
        return;
    }
    let mut scratch = Vec::new();
    let mut targets = Vec::new();
    for site in calls {
        let Some(kind) = site.argument_of.get().and_then(|p| registering.get(&p)) else {
            continue;
        };
        if site.reference() {
            if site.receiver() == CallReceiver::Name
                && let Resolved::Class(class) = project.resolve(file, site.function(), &site.callee)
            {
                view_class_entries(project, class, kind, add);
                continue;
            }
            targets.clear();
            resolve_site(project, index, file, site, &mut scratch, &mut targets);
            for (function, _) in &targets {
                add(*function, kind);
            }
        } else if let Some(view) = site.callee.strip_suffix(".as_view")
            && site.receiver() == CallReceiver::Name
            && let Resolved::Class(class) = project.resolve(file, site.function(), view)
        {
            view_class_entries(project, class, kind, add);
        }
    }
}

/// The request methods of a view class registered by name: HTTP handlers and known hooks.
fn view_class_entries(
    project: &Project,
    class: ClassId,
    kind: &str,
    add: &mut impl FnMut(FuncId, &str),
) {
    for method in knowledge::HTTP_METHOD_HANDLERS
        .iter()
        .chain(knowledge::DJANGO_VIEW_HOOKS)
        .chain(["dispatch_request", "__call__"].iter())
    {
        if let Some(found) = project.lookup_method(class, method) {
            add(found, kind);
        }
    }
}

/// Methods of subclasses of the frameworks' request-handling classes, and middleware.
fn class_entries(project: &Project, class: ClassId, add: &mut impl FnMut(FuncId, &str)) {
    let mut seen = HashSet::new();
    for q in project.external_bases(class) {
        for (base, kind, http, hooks) in knowledge::REQUEST_HANDLER_BASES {
            let matches = if base.ends_with('.') {
                q.starts_with(base)
            } else {
                q == base
            };
            if !matches {
                continue;
            }
            let http_methods: &[&str] = if *http {
                knowledge::HTTP_METHOD_HANDLERS
            } else {
                &[]
            };
            for method in http_methods.iter().chain(hooks.iter()) {
                if let Some(found) = project.lookup_method(class, method)
                    && seen.insert(found)
                {
                    add(found, kind);
                }
            }
        }
    }
    // Django's middleware protocol: `__init__(self, get_response)`.
    if let Some(init) = project.lookup_method(class, &*INIT) {
        let (_, facts) = project.function(init);
        let params: Vec<&str> = facts.params.iter().map(|p| p.name.as_str()).collect();
        if has_receiver(facts.kind) && params.get(1) == Some(&"get_response") {
            for method in knowledge::MIDDLEWARE_HOOKS {
                if let Some(found) = project.lookup_method(class, method) {
                    add(found, "Django middleware");
                }
            }
        }
    }
}

/// Matches a qualified name against a glob: `*` stands for any run of characters (dots
/// included), `?` for one character.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            backtrack = Some((p, t));
            p += 1;
        } else if let Some((star, matched)) = backtrack {
            p = star + 1;
            t = matched + 1;
            backtrack = Some((star, matched + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::glob_matches;

    #[test]
    fn globs_match_qualified_names() {
        assert!(glob_matches("app.jobs.*", "app.jobs.Worker.run"));
        assert!(glob_matches("*.handle", "svc.handlers.Ping.handle"));
        assert!(glob_matches("app.view?", "app.views"));
        assert!(!glob_matches("app.jobs.*", "app.tasks.run"));
        assert!(!glob_matches("*.handle", "svc.handler"));
        assert!(glob_matches("exact.name", "exact.name"));
    }
}
