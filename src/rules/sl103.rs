//! SL103: a class attribute of the analysed tree rebound (`C.x = value`) by per-call code outside
//! the class, typically to "reset" a shared cache.

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::facts::{AccessPath, FuncIdx, Root, Span, Value};
use crate::model::skipped_on_every_request;
use crate::project::{ClassId, FileId, Project};

use super::common;

use super::{Context, Rule, RuleMeta};

pub struct ClassAttributeResetFromOutside;

static META: RuleMeta = RuleMeta {
    code: "SL103",
    name: "class-attribute-reset-from-outside",
    summary: "A class attribute is rebound (`C.x = value`) from outside the class by code a request entry point reaches",
    severity: Severity::Warning,
    enabled_by_default: true,
    document: include_str!("../../docs/rules/SL103.md"),
};

impl Rule for ClassAttributeResetFromOutside {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic> {
        class_rebinds(context.project, &META)
    }
}

/// Rebinds of class attributes from outside the class, by per-call code: those a request entry
/// point reaches for SL103 (`meta` is its), the others for SL106.
pub(super) fn class_rebinds(project: &Project, meta: &'static RuleMeta) -> Vec<Diagnostic> {
    let per_request = meta.code == META.code;
    let wanted = |file: FileId, function: FuncIdx| {
        project.request_path(file, function).is_some() == per_request
    };
    let mut findings = Vec::new();
    for (file_id, file) in project.files.iter().enumerate() {
        let file_id = file_id as FileId;
        let facts = &file.facts;
        for assignment in &facts.attribute_assignments {
            let Some(class) =
                rebound_class(project, file_id, assignment.function, &assignment.object)
            else {
                continue;
            };
            // `if C._engine is None: C._engine = connect()` sets shared state up once.
            if facts.lazy_inits.contains(&assignment.span.start)
                || !wanted(file_id, assignment.function)
                || (per_request
                    && skipped_on_every_request(
                        project,
                        file_id,
                        assignment.function,
                        assignment.span.start,
                    ))
            {
                continue;
            }
            findings.push(report(
                meta,
                project,
                (file_id, assignment.function),
                class,
                Some(assignment.attr.as_str()),
                assignment.span,
                &assignment.value,
            ));
        }
        for call in &facts.setattr_calls {
            let Some(class) = rebound_class(project, file_id, call.function, &call.object) else {
                continue;
            };
            if facts.lazy_inits.contains(&call.span.start) || !wanted(file_id, call.function) {
                continue;
            }
            findings.push(report(
                meta,
                project,
                (file_id, call.function),
                class,
                call.name.as_deref(),
                call.span,
                &Value::Other,
            ));
        }
    }
    findings
}

/// The class of the analysed tree that `object` names (`C`, `module.C`), when code that runs
/// after import (per call, or once at start-up: SL106 tells that) in `function`, outside that
/// class's hierarchy, sets an attribute on it.
fn rebound_class(
    project: &Project,
    file: FileId,
    function: FuncIdx,
    object: &AccessPath,
) -> Option<ClassId> {
    if !matches!(object.root, Root::Global(_)) {
        return None;
    }
    let path = common::class_path(project, file, function, object)?;
    if path.attr_index != object.attrs.len() || !path.named {
        return None;
    }
    let class = path.classes[0];
    if let Some(own) = project.method_class(file, function)
        && common::same_hierarchy(project, own, class)
    {
        // Inside the class's own hierarchy this is SL102.
        return None;
    }
    if common::in_test_code(project, file, function)
        || !crate::model::runs_after_import(project, file, function)
    {
        return None;
    }
    Some(class)
}

/// The finding of `meta` (SL103 or SL106) for a rebinding in `function` of `file`.
fn report(
    meta: &'static RuleMeta,
    project: &Project,
    (file, function): (FileId, FuncIdx),
    class: ClassId,
    attr: Option<&str>,
    span: Span,
    value: &Value,
) -> Diagnostic {
    let (class_file, class_facts) = project.class(class);
    let function_facts = &project.file(file).facts.functions[function as usize];
    let shown = match attr {
        Some(attr) => format!("`{}.{attr}`", class_facts.name),
        None => format!("attributes of `{}`", class_facts.name),
    };
    let (verb, label, severity) = match value {
        // Per-call data stored on the class: the next request reads this request's value.
        Value::Alias(path) if is_call_input(project, file, function, &path.root) => (
            "stores per-call data in",
            "stored on the class here, for every instance and request",
            Severity::Error,
        ),
        Value::Container(_) | Value::None | Value::Copy => (
            "resets",
            "replaced here, for every instance at once",
            Severity::Warning,
        ),
        _ => (
            "rebinds",
            "set on the class here, for every instance and request",
            Severity::Warning,
        ),
    };
    let message = if meta.code == META.code {
        format!(
            "`{}` {verb} {shown} for the whole process; that does not isolate requests",
            function_facts.name
        )
    } else {
        format!(
            "`{}` {verb} {shown} for the whole process, in code no request entry point is known \
             to reach",
            function_facts.name
        )
    };
    let definition = attr.and_then(|a| project.lookup_class_attribute(class, a));
    let mut related = Vec::new();
    match definition {
        Some((defining, binding)) => related.push(Label::new(
            project.class(defining).0,
            binding.span,
            "the class attribute every instance shares",
        )),
        None => related.push(Label::new(
            class_file,
            class_facts.span,
            "every instance reads it from this class",
        )),
    }
    let diagnostic = meta
        .diagnostic(message, Label::new(file, span, label))
        .with_severity(severity)
        .with_related(related)
        .with_note(
            "a class attribute is one value for the whole process: a request running at the \
             same time still holds the old object (and so do instances that took a reference), \
             and the next request shares the new one with everybody",
        )
        .with_help(
            "give each request its own object (create it in `__init__`, or pass it along); for \
             a cache, key it by everything its values depend on; set configuration once at \
             start-up",
        );
    common::about_class_attribute(diagnostic, project, class, attr, &function_facts.qualname)
}

/// Whether `root` is data the call brings: a parameter of the function (or of a function around
/// it), or the instance.
fn is_call_input(project: &Project, file: FileId, function: FuncIdx, root: &Root) -> bool {
    match root {
        Root::SelfParam => true,
        Root::Local(name) => {
            let functions = &project.file(file).facts.functions;
            let mut current = Some(function);
            while let Some(f) = current {
                if functions[f as usize].params.iter().any(|p| p.name == *name) {
                    return true;
                }
                current = functions[f as usize].parent;
            }
            false
        }
        _ => false,
    }
}
